"""Canonical field values -> the values Odoo's ``create``/``write`` take, per kind.

Field dicts carry canonical builtins (decimals as strings, tuples as lists). What Odoo cannot
hold is refused with a reason rather than dropped, so the engine never records as agreed a
value that was not written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.base import Fields
from adapters.odoo.client import OdooClient

_TEMPLATE_FIELDS = frozenset(
    {
        "name",
        "description",
        "short_description",
        "price",
        "tax_code",
        "category",
        "active",
        "service",
    }
)
_PRECISION = {"price": "Product Price", "cost": "Product Price", "weight": "Stock Weight"}
"""The ``decimal.precision`` usage Odoo rounds each number field to."""
_UNSUPPORTED = ("sale_price", "sale_from", "sale_to", "attributes")


class Refused(Exception):
    """A value Odoo cannot take; becomes the item's :class:`~adapters.base.Failed` reason."""


def number(value: Any) -> float:
    return float(Decimal(str(value))) if value not in (None, "") else 0.0


def _empty(value: Any) -> bool:
    return value in (None, "", [], (), {})


async def exact(client: OdooClient, field: str, value: Any) -> float:
    """``value`` as Odoo will keep it, refused when Odoo would round it: a price of 9.999
    stored as 10.0 would read back as another price than the one agreed."""
    amount = Decimal(str(value)) if value not in (None, "") else Decimal(0)
    if not amount.is_finite():
        # Decimal reads "NaN" and "Infinity"; Odoo's float fields would keep them as prices.
        raise Refused(f"{field}: {value!r} is not a finite number")
    digits = await client.precision(_PRECISION[field])
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise Refused(
            f"{field}: {value} has more decimals than Odoo keeps for "
            f"{_PRECISION[field]!r} ({digits})"
        )
    return float(amount)


async def product_vals(
    client: OdooClient,
    fields: Fields,
    *,
    template: bool = False,
    create: bool = False,
    description_field: str | None = None,
) -> dict[str, Any]:
    """Values for ``product.product`` (or, with ``template``, a multi-variant template);
    ``create`` for a new article. The short description is ``description_sale``; the long one
    goes to ``description_field``, and is not written without one."""
    for name in _UNSUPPORTED:
        if name in fields and not _empty(fields[name]):
            raise Refused(
                f"Odoo adapter does not write {name!r} (use a pricelist or attributes in Odoo)"
            )
    if not _empty(fields.get("variants")):
        raise Refused("creating or changing variants is done in Odoo (attributes on the template)")
    if template:
        extra = sorted(set(fields) - _TEMPLATE_FIELDS - {"variants", *_UNSUPPORTED})
        if extra:
            raise Refused(f"fields {extra} belong to the variants of this product in Odoo")
    vals: dict[str, Any] = {}
    simple = {
        "sku": "default_code",
        "name": "name",
        "short_description": "description_sale",
        "barcode": "barcode",
        "active": "active",
    }
    if description_field is not None:
        simple["description"] = description_field
    for canonical, odoo in simple.items():
        if canonical in fields:
            value = fields[canonical]
            vals[odoo] = value if value not in (None, "") or odoo == "name" else False
    for canonical, odoo in (
        ("price", "list_price"),
        ("cost", "standard_price"),
        ("weight", "weight"),
    ):
        if canonical in fields:
            vals[odoo] = await exact(client, canonical, fields[canonical])
    if fields.get("service") and create:
        vals["type"] = "service"
    elif "service" in fields and not create:
        raise Refused("service: a product's type (goods or service) is changed in Odoo")
    if "tax_code" in fields:
        vals["taxes_id"] = [[6, 0, await _tax_ids(client, fields["tax_code"])]]
    if "category" in fields:
        path = [str(p) for p in fields["category"] or []]
        vals["categ_id"] = (await client.category_id(path) if path else None) or False
    return vals


async def _tax_ids(client: OdooClient, code: Any) -> list[int]:
    if code in (None, ""):
        return []
    for refresh in (False, True):
        for tax_id, name in (await client.taxes(refresh=refresh)).items():
            if name == code:
                return [tax_id]
    raise Refused(f"no Odoo tax named {code!r}")


def partner_vals(fields: Fields, countries: dict[int, str]) -> dict[str, Any]:
    """Values for ``res.partner`` from canonical customer fields."""
    vals: dict[str, Any] = {}
    if "email" in fields:
        vals["email"] = fields["email"]
    names = [fields.get("first_name") or "", fields.get("last_name") or ""]
    if "first_name" in fields or "last_name" in fields:
        vals["name"] = (
            " ".join(n for n in names if n) or fields.get("company") or fields.get("email")
        )
    if "company" in fields and fields["company"] and not any(names):
        vals["name"], vals["is_company"] = fields["company"], True
    if "phone" in fields:
        vals["phone"] = fields["phone"] or False
    billing = fields.get("billing")
    if isinstance(billing, dict):
        vals["street"] = billing.get("line1") or False
        vals["city"] = billing.get("city") or False
        vals["zip"] = billing.get("postcode") or False
        code = billing.get("country") or ""
        by_code = {c: i for i, c in countries.items()}
        if code and code not in by_code:
            raise Refused(f"no Odoo country with code {code!r}")
        vals["country_id"] = by_code.get(code, False)
    if not _empty(fields.get("group")):
        raise Refused("Odoo adapter does not write customer groups (pricelists in Odoo)")
    # Delivery addresses are child contacts in Odoo; only the billing address is written here.
    return vals
