"""The French FEC (fichier des écritures comptables, article A.47 A-1 of the Livre des
procédures fiscales) from booked entries (pure).

A flat text file: a header line naming the 18 fields, then one line per entry line, fields
separated by a tab (or a pipe), entries in the order of their validation (their numbers, a
continuous sequence), dates as ``AAAAMMJJ``, amounts with a comma for decimals and no
thousands separator, ``Debit`` and ``Credit`` in the books' currency (``Montantdevise`` and
``Idevise`` are left empty: the books are in euros). Named ``<SIREN>FEC<AAAAMMJJ>``, the
date being the closing day of the period. Encoded in ISO 8859-15 (Latin-9), one of the
encodings the administration reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rules.accounting.ledger import Booked, lettering

COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
SEPARATORS = {"tab": "\t", "pipe": "|"}
ENCODING = "iso8859_15"
_UNSAFE = re.compile(r"[\t|\r\n]+")


def amount_text(value: Decimal) -> str:
    """``1234,50``: two decimals, a comma, no thousands separator."""
    return f"{value.quantize(Decimal('0.01')):f}".replace(".", ",")


def day_text(day: date) -> str:
    return f"{day:%Y%m%d}"


def _text(value: str) -> str:
    """A free text without the separators or line breaks that would break the columns."""
    return _UNSAFE.sub(" ", value).strip()


def file_name(siren: str, closing: date) -> str:
    """``<SIREN>FEC<AAAAMMJJ>.txt``."""
    return f"{siren}FEC{day_text(closing)}.txt"


def fec_rows(booked: Sequence[Booked]) -> list[list[str]]:
    """The rows (without the header) of ``booked``, in number order."""
    letters = lettering(booked)
    rows: list[list[str]] = []
    for one in sorted(booked, key=lambda b: b.number):
        entry = one.entry
        for index, line in enumerate(entry.lines):
            letter = letters.get((one.number, index))
            rows.append(
                [
                    entry.journal,
                    _text(entry.journal_label),
                    str(one.number),
                    day_text(entry.day),
                    line.account,
                    _text(line.account_label),
                    line.aux,
                    _text(line.aux_label),
                    _text(line.piece or entry.piece),
                    day_text(entry.piece_day),
                    _text(line.label or entry.label),
                    amount_text(line.debit),
                    amount_text(line.credit),
                    letter.code if letter else "",
                    day_text(letter.day) if letter else "",
                    day_text(one.validated),
                    "",
                    "",
                ]
            )
    return rows


def fec_text(booked: Sequence[Booked], *, separator: str = "tab") -> str:
    """The whole file as text (CR LF line ends)."""
    sep = SEPARATORS[separator]
    lines = [sep.join(COLUMNS), *(sep.join(row) for row in fec_rows(booked))]
    return "\r\n".join(lines) + "\r\n"


def fec_bytes(booked: Sequence[Booked], *, separator: str = "tab") -> bytes:
    """The file as written: Latin-9, a character it lacks replaced by ``?``."""
    return fec_text(booked, separator=separator).encode(ENCODING, errors="replace")
