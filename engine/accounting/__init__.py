"""Booking the shop's sales, payments and refunds, exactly once, and writing the books' files.

:mod:`engine.accounting.source` is the adapter capability that hands the documents over,
:mod:`engine.accounting.store` the ledger in PostgreSQL, :mod:`engine.accounting.job` the
booking run, :mod:`engine.accounting.export` the files and :mod:`engine.cli.accounting` the
``concord accounting`` command.
"""
