"""Canonical field values (JSON builtins, see :mod:`canonical.fields`) as WooCommerce write bodies.

Updates carry only the fields that changed, so each function writes only the keys present.
Dates of a sale are whole days in the shop's own time zone, as the admin screen sets them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.woocommerce.mapping import ATTRIBUTE_SEPARATOR

Fields = dict[str, Any]


class Unwritable(ValueError):
    """A field value WooCommerce cannot hold (a fractional stock quantity...)."""


def price_text(value: Any) -> str:
    return "" if value is None else str(value)


def tax_class(code: Any) -> str:
    return "" if code in (None, "", "standard") else str(code)


def quantity(value: Any) -> int:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Unwritable(f"stock quantity is not a number: {value!r}") from None
    if number != number.to_integral_value():
        raise Unwritable(f"stock quantity must be whole in WooCommerce: {value}")
    return int(number)


HIDDEN = "private"
"""The status of an article the ERP archived: out of the catalogue, search and its own page for
customers, still listed (and restorable) for the shop's staff. ``draft`` would mean "not yet
published" and invite publishing it again."""
REMOVED_TAGS = frozenset(
    [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "form",
        "input",
        "select",
        "option",
        "embed",
        "applet",
        "link",
        "meta",
        "base",
        "noscript",
        "svg",
        "math",
        "template",
    ]
)
"""Tags ``wp_filter_post_kses`` takes out of a product's texts (not in ``$allowedposttags``)."""
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_UNSAFE_ATTRIBUTE = re.compile(
    r"""(?:^|\s)(on[a-z]+\s*=|(?:href|src)\s*=\s*["']?\s*(?:javascript|vbscript|data):)""",
    re.IGNORECASE,
)


def html_text(field: str, value: Any) -> str:
    """An HTML text to send, refused when the shop would silently change it on save: WordPress
    strips scripts, frames, forms, event handlers and script links from product texts, so what
    was sent would never read back, and would be rewritten every cycle."""
    text = str(value or "")
    for match in _TAG.finditer(text):
        tag, rest = match.group(1).lower(), match.group(2)
        if tag in REMOVED_TAGS:
            raise Unwritable(f"{field} holds <{tag}>, which WooCommerce removes on save")
        unsafe = _UNSAFE_ATTRIBUTE.search(rest)
        if unsafe:
            raise Unwritable(
                f"{field} holds {unsafe.group(1).strip()!r} in <{tag}>, "
                "which WooCommerce removes on save"
            )
    return text


def product_body(fields: Fields, *, creating: bool) -> dict[str, Any]:
    """A product body, without ``categories`` and ``attributes`` (they need the shop's ids and
    the variants; the writer adds them). A service is virtual and never stock-managed; an
    archived article is hidden (:data:`HIDDEN`); a product with variants gets no price of its
    own (WooCommerce keeps prices on the variations)."""
    body: dict[str, Any] = {}
    variable = bool(fields.get("variants"))
    if creating:
        body["type"] = "variable" if variable else "simple"
    if "sku" in fields:
        body["sku"] = fields["sku"] or ""
    for key in ("name", "description", "short_description"):
        if key in fields:
            body[key] = html_text(key, fields[key])
    if not variable:
        body |= _prices(fields)
    if "service" in fields:
        body["virtual"] = bool(fields["service"])
        if fields["service"]:
            body["manage_stock"] = False
    if "tax_code" in fields:
        body["tax_class"] = tax_class(fields["tax_code"])
    if "weight" in fields:
        body["weight"] = price_text(fields["weight"])
    if "barcode" in fields:
        body["global_unique_id"] = fields["barcode"] or ""
    if "active" in fields:
        body["status"] = "publish" if fields["active"] else HIDDEN
    return body


def _prices(fields: Fields) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "price" in fields:
        body["regular_price"] = price_text(fields["price"])
    if "sale_price" in fields:
        body["sale_price"] = price_text(fields["sale_price"])
    if "sale_from" in fields:
        body["date_on_sale_from"] = f"{fields['sale_from']}T00:00:00" if fields["sale_from"] else ""
    if "sale_to" in fields:
        body["date_on_sale_to"] = f"{fields['sale_to']}T23:59:59" if fields["sale_to"] else ""
    return body


def _options(value: Any) -> list[str]:
    return [o.strip() for o in str(value or "").split(ATTRIBUTE_SEPARATOR.strip()) if o.strip()]


def variant_options(variants: list[Any]) -> dict[str, list[str]]:
    """Each attribute name the variants use, with its options in first-seen order."""
    options: dict[str, list[str]] = {}
    for variant in variants:
        for a in variant.get("attributes") or []:
            values = options.setdefault(a["name"], [])
            if a["value"] not in values:
                values.append(a["value"])
    return options


def attributes_body(plain: list[Any], varying: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Product attributes: the plain ones, then one ``variation: true`` attribute per name the
    variants use (WooCommerce replaces the whole list on write, so both are always sent)."""
    body = [
        {"name": a["name"], "options": _options(a["value"]), "visible": True, "variation": False}
        for a in plain
    ]
    body += [
        {"name": name, "options": values, "visible": True, "variation": True}
        for name, values in varying.items()
    ]
    for position, attribute in enumerate(body):
        attribute["position"] = position
    return body


def variation_body(variant: Fields) -> dict[str, Any]:
    """A variation's body from a canonical variant."""
    body: dict[str, Any] = {
        "sku": variant["sku"],
        "sale_price": price_text(variant.get("sale_price")),
        "status": "publish" if variant.get("active", True) else HIDDEN,
        "attributes": [
            {"name": a["name"], "option": a["value"]} for a in variant.get("attributes") or []
        ],
    }
    if variant.get("price") is not None:
        # No price is "not known here", never a reason to empty the variation's price.
        body["regular_price"] = price_text(variant["price"])
    if variant.get("stock") is not None:
        body["manage_stock"] = True
        body["stock_quantity"] = quantity(variant["stock"])
    return body


def variation_differs(body: dict[str, Any], current: Any) -> bool:
    """Whether writing ``body`` (from :func:`variation_body`) would change the variation
    ``current`` (a decoded ``schema.Variation``)."""
    for key in ("sku", "regular_price", "sale_price", "status", "manage_stock", "stock_quantity"):
        if key in body and body[key] != getattr(current, key):
            return True
    chosen = [{"name": a.name, "option": a.option} for a in current.attributes]
    return bool(body.get("attributes") != chosen)


def customer_body(fields: Fields) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in ("email", "first_name", "last_name"):
        if key in fields:
            body[key] = fields[key] or ""
    billing: dict[str, Any] = {}
    for kind in ("billing", "shipping"):
        if fields.get(kind):
            body[kind] = address_body(fields[kind])
    if "billing" in body:
        billing = body["billing"]
    elif "company" in fields or "phone" in fields or "email" in fields:
        billing = body.setdefault("billing", {})
    if "company" in fields:
        billing["company"] = fields["company"] or ""
    if "phone" in fields:
        billing["phone"] = fields["phone"] or ""
    if "email" in fields and "billing" in body:
        billing["email"] = fields["email"]
    return body


def address_body(address: Fields) -> dict[str, Any]:
    names = {"line1": "address_1", "line2": "address_2"}
    return {names.get(key, key): value or "" for key, value in address.items()}
