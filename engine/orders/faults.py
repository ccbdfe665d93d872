"""A fault-injection switch for proving the order import survives a crash anywhere.

Set ``CONCORD_CRASH_AT=<checkpoint>:<n>`` (several separated by commas) and the process kills
itself with SIGKILL the ``n``-th time it passes that checkpoint: no cleanup, no ``finally``,
no flushed buffers, exactly as a power cut or the OOM killer would. Unset (always, in
production), :func:`checkpoint` does nothing but count.

Checkpoints of one order import, in order: ``run_start``, ``recovered``, ``before_intent``,
``after_intent``, ``after_lookup``, ``after_create`` (the ERP document exists, Concord has
not recorded it), ``after_confirm``, ``after_done``, ``before_commit``, ``after_commit``; of
the feedback run, ``after_note`` (a customer note is in the shop, Concord has not recorded it).
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter

ENV = "CONCORD_CRASH_AT"
CHECKPOINTS = (
    "run_start",
    "recovered",
    "before_intent",
    "after_intent",
    "after_lookup",
    "after_create",
    "after_confirm",
    "after_done",
    "before_commit",
    "after_commit",
    # order feedback: a customer note sent to the shop, not yet recorded
    "after_note",
    # the books (engine/accounting): a run, each entry, the file
    "accounting_start",
    "accounting_before_book",
    "accounting_after_book",
    "accounting_before_commit",
    "accounting_after_commit",
    "accounting_file_synced",
    "accounting_before_erp_intent",
    "accounting_after_erp_intent",
    "accounting_after_erp_lookup",
    "accounting_after_erp_create",
)

_passed: Counter[str] = Counter()


def _targets() -> dict[str, int]:
    targets: dict[str, int] = {}
    for part in os.environ.get(ENV, "").split(","):
        name, _, count = part.strip().partition(":")
        if name:
            if name not in CHECKPOINTS:
                raise ValueError(f"{ENV}: unknown checkpoint {name!r} (known: {CHECKPOINTS})")
            targets[name] = int(count or "1")
    return targets


def checkpoint(name: str) -> None:
    """Mark a point of the import; kill the process here if the switch says so."""
    _passed[name] += 1
    if not os.environ.get(ENV):
        return
    if _targets().get(name) == _passed[name]:
        sys.stderr.write(f"{ENV}: killed at {name}:{_passed[name]}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
