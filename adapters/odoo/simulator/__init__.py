"""An Odoo 17 server imitated over loopback JSON-RPC: models, constraints, computed fields.

``app`` serves it (``create_app``, ``store_of``); ``store`` holds the records, ``behaviour``,
``hierarchy`` and ``sale_amounts`` what Odoo computes and refuses, ``dispatch`` the methods of
the external API, ``seed`` a generated catalogue.
"""
