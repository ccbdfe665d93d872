"""Booked entries into Odoo's journals as posted ``account.move`` (the ``JournalEntries``
capability of engine/accounting/source.py).

An entry is created as a journal entry (``move_type = entry``) in the journal whose ``code`` is
the entry's journal, its lines on the accounts whose ``code`` is the line's account, with the
entry's reference (the shop documents it books) in ``ref``, then posted. Odoo refuses an
unbalanced entry on posting; a journal or an account missing from Odoo's chart is refused
before anything is created, naming it. Finding an entry by ``ref`` is how the engine makes the
create happen once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from adapters.base import PermanentError
from adapters.odoo.client import OdooClient
from adapters.odoo.values import number
from adapters.odoo.wire import Text, text
from rules.accounting.entries import Entry


class _Move(msgspec.Struct):
    id: int
    ref: Text = False
    state: Text = False


class _Coded(msgspec.Struct):
    id: int
    code: Text = False


async def find_journal_entries(client: OdooClient, references: Sequence[str]) -> dict[str, str]:
    """The journal entries carrying these references, by reference: their ids. One left in
    draft (a stop between its create and its posting) is posted now."""
    if not references:
        return {}
    rows = await client.search_read(
        "account.move", [["move_type", "=", "entry"], ["ref", "in", list(references)]], _Move
    )
    found: dict[str, _Move] = {}
    for row in sorted(rows, key=lambda r: r.id):
        found.setdefault(text(row.ref), row)
    drafts = [row.id for row in found.values() if text(row.state) == "draft"]
    if drafts:
        await client.call("account.move", "action_post", {}, result=Any, ids=drafts)
    return {reference: str(row.id) for reference, row in found.items()}


async def _ids_by_code(client: OdooClient, model: str, codes: set[str]) -> dict[str, int]:
    rows = await client.search_read(model, [["code", "in", sorted(codes)]], _Coded)
    return {text(row.code): row.id for row in rows}


async def create_journal_entry(client: OdooClient, entry: Entry, reference: str) -> str:
    """Create and post ``entry`` under ``reference``; returns its id."""
    journals = await _ids_by_code(client, "account.journal", {entry.journal})
    if entry.journal not in journals:
        raise PermanentError(f"entry {reference}: Odoo has no journal with code {entry.journal!r}")
    wanted = {line.account for line in entry.lines}
    accounts = await _ids_by_code(client, "account.account", wanted)
    missing = sorted(wanted - set(accounts))
    if missing:
        raise PermanentError(
            f"entry {reference}: Odoo's chart of accounts has no account {', '.join(missing)}"
        )
    lines: list[Any] = [
        [
            0,
            0,
            {
                "account_id": accounts[line.account],
                "name": " ".join(p for p in (line.label, line.aux, line.aux_label) if p),
                "debit": number(line.debit),
                "credit": number(line.credit),
            },
        ]
        for line in entry.lines
    ]
    vals = {
        "move_type": "entry",
        "journal_id": journals[entry.journal],
        "date": entry.day.isoformat(),
        "ref": reference,
        "narration": entry.label,
        "line_ids": lines,
    }
    created: list[int] = await client.call(
        "account.move", "create", {"vals_list": [vals]}, result=list[int]
    )
    await client.call("account.move", "action_post", {}, result=Any, ids=created)
    return str(created[0])
