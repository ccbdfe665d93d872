"""Which fields of a kind a connection synchronises: those both platforms can carry.

A field one platform has no place for (WooCommerce keeps no cost price) is never read back, so
comparing it would report a change every cycle and rewrite the record for ever. A field a
platform keeps in its own vocabulary (a shop's tax classes against the ERP's tax codes) is only
comparable once a transform translates one into the other. Both are left out of the cycle, on
both sides, before the decision: the base never holds them, so no cycle writes them. The same
holds inside a product's variants: a variant field one side cannot carry (Odoo's variants as
Concord reads them have no cost or weight, Shopify's do) is left out of every variant, named
``variants.<field>`` among the fields left out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from adapters.base import SIDES, Adapter, Side
from canonical.fields import Fields
from canonical.models import RECORD_TYPES, Variant
from engine.cycle.decide import Observed

IN_VARIANTS = "variants."
"""The prefix of a variant field left out (``variants.cost``)."""


def uncarried(
    kind: str,
    adapters: Mapping[Side, Adapter],
    translated: Collection[str] = (),
    built_variants: Mapping[Side, frozenset[str]] | None = None,
) -> frozenset[str]:
    """The fields of ``kind`` left out of the cycle: those a side cannot carry, and those a
    side keeps in its own terms that no transform of the connection (``translated``)
    translates. ``built_variants`` names, by side, the variant fields a transform gives that
    side's variants beyond what its adapter reads in one (articles grouped into variants carry
    their own cost and weight). The record's key is always kept."""
    record = RECORD_TYPES[kind]
    left_out: set[str] = set()
    for side in SIDES:
        capabilities = adapters[side].capabilities
        declared = capabilities.fields.get(kind)
        if declared is not None:
            left_out.update(name for name in record.__struct_fields__ if name not in declared)
        left_out.update(capabilities.own_terms.get(kind, frozenset()) - set(translated))
        in_variants = capabilities.variant_fields
        if in_variants is not None and built_variants:
            in_variants = in_variants | built_variants.get(side, frozenset())
        if kind == "product" and in_variants is not None:
            left_out.update(
                IN_VARIANTS + name
                for name in Variant.__struct_fields__
                if name not in in_variants and name != "sku"
            )
    left_out.discard(record.KEY)
    return frozenset(left_out)


def drop(fields: Fields, left_out: frozenset[str]) -> None:
    """Take the fields left out away from ``fields`` (in place), those of its variants too."""
    inner: set[str] = set()
    for name in left_out:
        if name.startswith(IN_VARIANTS):
            inner.add(name[len(IN_VARIANTS) :])
        else:
            fields.pop(name, None)
    variants = fields.get("variants")
    if inner and variants:
        fields["variants"] = [
            {k: v for k, v in variant.items() if k not in inner} for variant in variants
        ]


def without(observed: Observed, left_out: frozenset[str]) -> Observed:
    """``observed`` without the fields left out (the same object when it has none of them)."""
    fields = observed.fields
    if not left_out or (left_out.isdisjoint(fields) and not _in_variants(fields, left_out)):
        return observed
    kept = dict(fields)
    drop(kept, left_out)
    return Observed(fields=kept, modified_at=observed.modified_at)


def _in_variants(fields: Fields, left_out: frozenset[str]) -> bool:
    """Whether a variant of ``fields`` holds a variant field left out."""
    variants = fields.get("variants")
    if not variants:
        return False
    return any(
        name.startswith(IN_VARIANTS) and name[len(IN_VARIANTS) :] in variant
        for variant in variants
        for name in left_out
    )


def compared_fields(
    kind: str, adapters: Mapping[Side, Adapter], translated: Collection[str] = ()
) -> list[str]:
    """The fields of ``kind`` a connection synchronises (the complement of :func:`uncarried`),
    in the record's order: what two converged sides must agree on."""
    left_out = uncarried(kind, adapters, translated)
    return [name for name in RECORD_TYPES[kind].__struct_fields__ if name not in left_out]
