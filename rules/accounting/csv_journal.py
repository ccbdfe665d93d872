"""A plain CSV journal of booked entries (pure), for accounting packages that import one.

Comma-separated, a header line, ISO dates, amounts with a point for decimals, UTF-8: the
shape most packages' "import a journal" screens accept as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from rules.accounting.ledger import Booked, lettering

CSV_COLUMNS = (
    "date",
    "journal",
    "entry",
    "account",
    "account_name",
    "auxiliary",
    "auxiliary_name",
    "piece",
    "label",
    "debit",
    "credit",
    "letter",
    "currency",
)


def csv_text(booked: Sequence[Booked]) -> str:
    """The journal as CSV text."""
    letters = lettering(booked)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for one in sorted(booked, key=lambda b: b.number):
        entry = one.entry
        for index, line in enumerate(entry.lines):
            letter = letters.get((one.number, index))
            writer.writerow(
                [
                    entry.day.isoformat(),
                    entry.journal,
                    one.number,
                    line.account,
                    line.account_label,
                    line.aux,
                    line.aux_label,
                    line.piece or entry.piece,
                    line.label or entry.label,
                    f"{line.debit:.2f}",
                    f"{line.credit:.2f}",
                    letter.code if letter else "",
                    entry.currency,
                ]
            )
    return out.getvalue()
