"""Per-field ownership and conflict policies, and per-kind record rules.

These are plain data, decoded from a connection's TOML file and handed to the decision as an
argument; nothing here reads configuration or does I/O.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Owner = Literal["erp", "shop", "both"]
"""Who may change a field: ``erp`` (the ERP is master; a shop-side edit is drift and is
reverted), ``shop``, or ``both`` (either side; when both changed, the policy decides)."""

Policy = Literal["erp-wins", "shop-wins", "newest", "manual", "merge-delta"]
"""How a field owned by ``both`` is settled when both sides changed it since the base."""

WhenErpLost = Literal["archive", "forget", "report"]
"""What to do with a shop record whose ERP record disappeared."""

WhenShopLost = Literal["recreate", "forget", "report"]
"""What to do with an ERP record whose shop record disappeared. The ERP is never deleted from."""


class FieldRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How one field flows between the two sides."""

    owner: Owner = "both"
    policy: Policy = "manual"


class KindRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The rules for one kind of record in one connection."""

    default: FieldRule = FieldRule()
    """The rule of every field not listed in ``fields``."""
    fields: dict[str, FieldRule] = {}
    create_in_shop: bool = True
    """Records found only in the ERP are created in the shop."""
    create_in_erp: bool = False
    """Records found only in the shop are created in the ERP."""
    when_erp_lost: WhenErpLost = "archive"
    when_shop_lost: WhenShopLost = "report"
    skip_skus: frozenset[str] = frozenset()
    """Articles this kind's jobs leave alone on both sides: never created, compared or written
    (records keyed ``SKU|...`` by their SKU). The ERP articles web orders' shipping, fee and
    rounding lines are booked on are added from ``[orders]``: they are not for sale."""

    def rule(self, field: str) -> FieldRule:
        return self.fields.get(field, self.default)
