"""The ``tryton_template`` and ``tryton`` fixtures these tests use live in ``tryton_fixtures``,
registered for the whole run in ``tests/conftest.py``: the contract suite runs against the same
Tryton template, initialised once per run."""
