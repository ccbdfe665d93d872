"""Accounting from the shop's sales (pure): journal entries, the chart of accounts, FEC files.

Paid orders, their payments and their refunds become balanced journal entries
(:mod:`rules.accounting.entries`) on the accounts of a validated chart
(:mod:`rules.accounting.chart`), with the VAT of each rate and country on its own account
(:mod:`rules.accounting.oss`). Booked entries are written as the French FEC
(:mod:`rules.accounting.fec`, checked by :mod:`rules.accounting.fec_check`) or a plain CSV
journal (:mod:`rules.accounting.csv_journal`). Nothing here reads a clock, a file or a network.
"""
