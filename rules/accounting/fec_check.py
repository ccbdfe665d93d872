"""A checker of FEC files (pure): what the administration's test tool looks at first.

- the name: ``<SIREN>FEC<AAAAMMJJ>`` (optionally ``.txt``), no entry dated after that day;
- the header: the 18 fields of article A.47 A-1, in order, tab- or pipe-separated;
- every line: 18 fields; dates ``AAAAMMJJ`` that exist; amounts with a comma and at most two
  decimals, not negative, never a debit and a credit on one line; an account number whose first
  three characters are digits; a letter only with its lettering date;
- every entry: its lines together, one journal and one date, debit equal to credit;
- the numbering: entries numbered by a continuous sequence (each number one more than the
  previous), their dates never going back;
- every lettering code of an account: its lines balance.

:func:`check_fec` returns the problems, each naming the line, the field and the reason;
an empty list is a file that passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import msgspec

from rules.accounting.fec import COLUMNS

_NAME = re.compile(r"^(?P<siren>[0-9]{9})FEC(?P<day>[0-9]{8})(?:\.txt)?$")
_AMOUNT = re.compile(r"^-?[0-9]+(?:,[0-9]{1,2})?$")
_ACCOUNT = re.compile(r"^[0-9]{3}")
_INDEX = {name: i for i, name in enumerate(COLUMNS)}


class FecProblem(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    """The file's line number (1 is the header; 0 the file itself)."""
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


def _day(text: str) -> date | None:
    if not re.fullmatch(r"[0-9]{8}", text):
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _amount(text: str) -> Decimal | None:
    if not _AMOUNT.match(text):
        return None
    return Decimal(text.replace(",", "."))


class _EntryState:
    def __init__(self, number: str, line: int, journal: str, day: str) -> None:
        self.number, self.first_line, self.journal, self.day = number, line, journal, day
        self.debit = Decimal(0)
        self.credit = Decimal(0)


def check_fec(text: str, *, name: str | None = None) -> list[FecProblem]:
    """Every problem of the FEC ``text`` (and of its file ``name`` when given)."""
    problems: list[FecProblem] = []

    def add(line: int, field: str, reason: str) -> None:
        problems.append(FecProblem(line=line, field=field, reason=reason))

    closing: date | None = None
    if name is not None:
        found = _NAME.match(name)
        closing = _day(found["day"]) if found else None
        if found is None or closing is None:
            add(0, "(file name)", f"{name!r} is not <SIREN>FEC<AAAAMMJJ>")
    lines = text.splitlines()
    if not lines:
        add(0, "(file)", "empty")
        return problems
    header = lines[0]
    separator = "\t" if "\t" in header else "|"
    if header.split(separator) != list(COLUMNS):
        add(1, "(header)", f"expected the 18 fields {'|'.join(COLUMNS)}, tab- or pipe-separated")
        return problems
    seen_numbers: set[str] = set()
    entry: _EntryState | None = None
    previous_number: int | None = None
    previous_day: date | None = None
    letters: dict[tuple[str, str, str], tuple[int, Decimal, bool]] = {}

    def close(state: _EntryState | None) -> None:
        if state is not None and state.debit != state.credit:
            add(
                state.first_line,
                "Debit/Credit",
                f"entry {state.number} is not balanced: debit {state.debit}, credit {state.credit}",
            )

    for number, raw in enumerate(lines[1:], start=2):
        fields = raw.split(separator)
        if len(fields) != len(COLUMNS):
            add(number, "(line)", f"{len(fields)} fields instead of {len(COLUMNS)}")
            continue
        value = dict(zip(COLUMNS, fields, strict=True))
        for field in ("JournalCode", "EcritureNum", "CompteNum", "PieceRef", "EcritureLib"):
            if not value[field].strip():
                add(number, field, "empty")
        days: dict[str, date | None] = {}
        for field in ("EcritureDate", "PieceDate", "ValidDate", "DateLet"):
            if field == "DateLet" and not value[field]:
                continue
            days[field] = _day(value[field])
            if days[field] is None:
                add(number, field, f"{value[field]!r} is not a date AAAAMMJJ")
        written = days.get("EcritureDate")
        if closing is not None and written is not None and written > closing:
            add(number, "EcritureDate", f"after the closing day {closing:%Y%m%d} of the name")
        if not _ACCOUNT.match(value["CompteNum"]):
            add(number, "CompteNum", f"{value['CompteNum']!r}: the first three must be digits")
        debit, credit = _amount(value["Debit"]), _amount(value["Credit"])
        for field, amount in (("Debit", debit), ("Credit", credit)):
            if amount is None:
                add(number, field, f"{value[field]!r} is not an amount (comma decimals)")
            elif amount < 0:
                add(number, field, "negative")
        if debit and credit:
            add(number, "Debit/Credit", "a line is either a debit or a credit")
        if value["EcritureLet"] and not value["DateLet"]:
            add(number, "DateLet", "a lettered line needs its lettering date")
        if value["Montantdevise"] and not value["Idevise"]:
            add(number, "Idevise", "an amount in a currency needs the currency")
        code = value["EcritureNum"]
        if entry is None or code != entry.number:
            close(entry)
            if code in seen_numbers:
                add(number, "EcritureNum", f"entry {code} is split: its lines are not together")
            seen_numbers.add(code)
            entry = _EntryState(code, number, value["JournalCode"], value["EcritureDate"])
            if not code.isdigit():
                add(number, "EcritureNum", f"{code!r} is not a number of the sequence")
            else:
                if previous_number is not None and int(code) != previous_number + 1:
                    add(
                        number,
                        "EcritureNum",
                        f"entry {code} follows entry {previous_number}: the sequence has a gap",
                    )
                previous_number = int(code)
            if written is not None:
                if previous_day is not None and written < previous_day:
                    add(number, "EcritureDate", "dated before the entry numbered before it")
                previous_day = written
        else:
            if value["JournalCode"] != entry.journal:
                add(number, "JournalCode", f"entry {code} is in two journals")
            if value["EcritureDate"] != entry.day:
                add(number, "EcritureDate", f"entry {code} has two dates")
        entry.debit += debit or 0
        entry.credit += credit or 0
        if value["EcritureLet"]:
            key = (value["CompteNum"], value["CompAuxNum"], value["EcritureLet"])
            first, balance, _ = letters.get(key, (number, Decimal(0), True))
            letters[key] = (first, balance + (debit or 0) - (credit or 0), True)
    close(entry)
    for (account, _, code), (first, balance, _) in letters.items():
        if balance != 0:
            add(first, "EcritureLet", f"letter {code} of account {account} does not balance")
    return problems


def problems_text(problems: Iterable[FecProblem]) -> str:
    """The problems one per line, for a message."""
    return "\n".join(str(p) for p in problems)
