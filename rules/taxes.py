"""Tax mapping between the ERP's tax codes and the shop's tax classes (pure).

Products: each ERP tax code maps to one shop tax class (``VAT20`` -> ``standard``), and back.
Orders: the destination country and the shop's tax class give the ERP tax code to book the
line with (EU one-stop-shop: a French shop selling to a German consumer books German VAT).
An unmapped code, class or country is never guessed: :class:`TaxError` names it, and the
record is held as a dead letter until the table is completed.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

STANDARD = "standard"
"""The shop's default tax class (WooCommerce spells it ``""``; adapters read it as this)."""

CountryTable = Mapping[str, "str | Mapping[str, str]"]
"""Destination country -> the ERP tax code for every line, or one per shop tax class. The same
shape as ``taxes`` in the ``[connections.<name>.orders]`` table."""


class TaxError(ValueError):
    """A tax code, class or country the configuration does not map."""


class TaxRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[connections.<name>.transforms.taxes]``: ``products`` maps ERP tax code -> shop class."""

    products: dict[str, str] = {}

    def __post_init__(self) -> None:
        if not self.products:
            raise ValueError("products: map at least one ERP tax code to a shop tax class")


def shop_tax_class(code: str | None, rule: TaxRule, *, record: str) -> str:
    """The shop tax class of an article whose ERP tax code is ``code``."""
    if code is None or not code.strip():
        raise TaxError(f"{record}: tax_code is empty; it cannot be mapped to a shop tax class")
    found = rule.products.get(code.strip())
    if found is None:
        raise TaxError(
            f"{record}: ERP tax code {code!r} is not mapped "
            f"(mapped: {', '.join(sorted(rule.products))})"
        )
    return found


def erp_tax_code(tax_class: str | None, rule: TaxRule, *, record: str) -> str:
    """The ERP tax code for a shop tax class (writing a shop change back to the ERP). Refused
    when no code or several codes map to that class: picking one would be a guess."""
    wanted = tax_class or STANDARD
    codes = sorted(code for code, shop in rule.products.items() if shop == wanted)
    if not codes:
        raise TaxError(f"{record}: shop tax class {wanted!r} has no ERP tax code mapped to it")
    if len(codes) > 1:
        raise TaxError(
            f"{record}: shop tax class {wanted!r} maps back to several ERP tax codes "
            f"({', '.join(codes)})"
        )
    return codes[0]


def order_tax_code(table: CountryTable, country: str, tax_class: str | None, *, record: str) -> str:
    """The ERP tax code of an order line shipped to ``country`` with the shop's ``tax_class``."""
    destination = country.strip().upper()
    if not destination:
        raise TaxError(f"{record}: no destination country; the tax cannot be chosen")
    mapping = table.get(destination)
    if mapping is None:
        raise TaxError(
            f"{record}: destination country {destination!r} has no tax mapping "
            f"(mapped: {', '.join(sorted(table)) or 'none'})"
        )
    if isinstance(mapping, str):
        return mapping
    wanted = tax_class or STANDARD
    code = mapping.get(wanted)
    if code is None:
        raise TaxError(
            f"{record}: tax class {wanted!r} has no mapping for country {destination!r} "
            f"(mapped classes: {', '.join(sorted(mapping))})"
        )
    return code
