"""Booked entries posted into the ERP's journals, exactly once each.

Per booked entry, as the order import does for sale orders:

1. the intent (the entry, under its key) is written to Postgres and committed;
2. the ERP is searched for the entry's reference;
3. only when it is absent is the entry created and posted;
4. the intent is settled with the ERP's id.

A run that stops anywhere leaves at most pending intents; the next run settles them first, and
finds the entry a crash left between the ERP create and step 4 instead of posting it again.
An entry the ERP refuses (a journal or an account its chart lacks) is held as a dead letter
with the ERP's reason and tried again on the next run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import msgspec

from adapters.base import PermanentError
from engine.accounting.source import JournalEntries
from engine.orders.faults import checkpoint
from engine.store.queries import query
from engine.store.state import NewDeadLetter, Store
from rules.accounting.entries import Entry
from rules.accounting.ledger import Booked

KIND = "journal_entry"


class ErpPosting(msgspec.Struct, kw_only=True):
    counts: Counter[str]
    held: list[NewDeadLetter]
    cleared: list[tuple[str, str]]


def reference_of(prefix: str, entry: Entry) -> str:
    """The entry's reference in the ERP: the shop documents it books."""
    return f"{prefix}{entry.key}"


async def post_entries(
    store: Store, connection: str, erp: JournalEntries, booked: Sequence[Booked], prefix: str
) -> ErpPosting:
    """Post every entry of ``booked`` not posted yet, and settle what a stopped run left."""
    result = ErpPosting(counts=Counter(), held=[], cleared=[])
    async with store._connection("read the ERP intents") as conn:
        pending = await conn.fetch(query("intents_pending"), connection, KIND)
        keys = [b.entry.key for b in booked]
        known = {
            row["key"]: row["state"]
            for row in await conn.fetch(query("intents_of_keys"), connection, KIND, keys)
        }

    async def settle(entry: Entry) -> None:
        reference = reference_of(prefix, entry)
        try:
            found = (await erp.find_journal_entries([reference])).get(reference)
            checkpoint("accounting_after_erp_lookup")
            if found is None:
                found = await erp.create_journal_entry(entry, reference)
                checkpoint("accounting_after_erp_create")
                result.counts["posted_to_erp"] += 1
            else:
                result.counts["found_in_erp"] += 1
        except PermanentError as exc:
            async with store._connection(f"record the refusal of {entry.key}") as conn:
                await conn.execute(query("intent_failed"), connection, KIND, entry.key, str(exc))
            reason = f"entry {entry.key}: the ERP refused it: {exc}"
            result.held.append(
                NewDeadLetter(
                    key=f"erp:{entry.key}", side="erp", operation={"op": "post"}, reason=reason
                )
            )
            return
        async with store._connection(f"settle the intent of {entry.key}") as conn:
            await conn.execute(query("intent_done"), connection, KIND, entry.key, found)
        result.cleared.append((f"erp:{entry.key}", "erp"))

    for row in pending:
        await settle(msgspec.convert(row["payload"], Entry))
        result.counts["recovered_in_erp"] += 1
    settled = {row["key"] for row in pending}
    for one in booked:
        entry = one.entry
        if known.get(entry.key) == "done" or entry.key in settled:
            continue
        checkpoint("accounting_before_erp_intent")
        async with store._connection(f"write the intent of {entry.key}") as conn:
            begun = await conn.fetchrow(
                query("intent_begin"),
                connection,
                KIND,
                entry.key,
                f"{connection}/{KIND}/{entry.key}",
                msgspec.to_builtins(entry),
                entry.key,
            )
        if begun is None:  # done meanwhile by another run
            continue
        checkpoint("accounting_after_erp_intent")
        await settle(entry)
    return result
