"""Which fields of a kind a connection synchronises: those both platforms can carry.

A field one platform has no place for (WooCommerce keeps no cost price) is never read back, so
comparing it would report a change every cycle and rewrite the record for ever. A field a
platform keeps in its own vocabulary (a shop's tax classes against the ERP's tax codes) is only
comparable once a transform translates one into the other. Both are left out of the cycle, on
both sides, before the decision: the base never holds them, so no cycle writes them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from adapters.base import SIDES, Adapter, Side
from canonical.models import RECORD_TYPES
from engine.cycle.decide import Observed


def uncarried(
    kind: str, adapters: Mapping[Side, Adapter], translated: Collection[str] = ()
) -> frozenset[str]:
    """The fields of ``kind`` left out of the cycle: those a side cannot carry, and those a
    side keeps in its own terms that no transform of the connection (``translated``)
    translates. The record's key is always kept."""
    record = RECORD_TYPES[kind]
    left_out: set[str] = set()
    for side in SIDES:
        capabilities = adapters[side].capabilities
        declared = capabilities.fields.get(kind)
        if declared is not None:
            left_out.update(name for name in record.__struct_fields__ if name not in declared)
        left_out.update(capabilities.own_terms.get(kind, frozenset()) - set(translated))
    left_out.discard(record.KEY)
    return frozenset(left_out)


def without(observed: Observed, left_out: frozenset[str]) -> Observed:
    """``observed`` without the fields left out (the same object when it has none of them)."""
    fields = observed.fields
    if not left_out or left_out.isdisjoint(fields):
        return observed
    return Observed(
        fields={name: value for name, value in fields.items() if name not in left_out},
        modified_at=observed.modified_at,
    )


def compared_fields(
    kind: str, adapters: Mapping[Side, Adapter], translated: Collection[str] = ()
) -> list[str]:
    """The fields of ``kind`` a connection synchronises (the complement of :func:`uncarried`),
    in the record's order: what two converged sides must agree on."""
    left_out = uncarried(kind, adapters, translated)
    return [name for name in RECORD_TYPES[kind].__struct_fields__ if name not in left_out]
