"""Booked entries as the files read them: numbered, validated, lettered (pure).

An entry gets its number when it is booked (one sequence per connection and fiscal year, no
gaps) and keeps it. Lettering is worked out when a file is written: the lines of one account
(and auxiliary account) sharing a match code are lettered together once they balance, with
the date of the latest of their entries; until then they are left open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import msgspec

from rules.accounting.entries import ZERO, Entry


class Booked(msgspec.Struct, frozen=True, kw_only=True):
    """An entry as booked: its number in the sequence and the day it was validated."""

    number: int
    validated: date
    entry: Entry


class Letter(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    day: date


LineId = tuple[int, int]
"""(entry number, line index)."""


def lettering(booked: Sequence[Booked]) -> dict[LineId, Letter]:
    """The letter of every line whose match group balances among ``booked``."""
    groups: dict[tuple[str, str, str], list[tuple[LineId, Decimal, date]]] = {}
    for one in booked:
        for index, line in enumerate(one.entry.lines):
            if line.match:
                groups.setdefault((line.account, line.aux, line.match), []).append(
                    ((one.number, index), line.debit - line.credit, one.entry.day)
                )
    letters: dict[LineId, Letter] = {}
    for (_, _, code), members in groups.items():
        if len(members) < 2 or sum((amount for _, amount, _ in members), ZERO) != 0:
            continue
        day = max(when for _, _, when in members)
        for line_id, _, _ in members:
            letters[line_id] = Letter(code=code, day=day)
    return letters
