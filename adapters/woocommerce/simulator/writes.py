"""Applying a REST request body to a product, variation or customer, with WordPress's checks.

WordPress validates each argument against the route's schema and answers 400
``rest_invalid_param`` naming every bad one; WooCommerce then applies what it understands and
ignores unknown keys. Prices go through ``wc_format_decimal``, which keeps a number and turns
anything else into ``""``; an unknown tax class becomes the standard one (``""``). Texts are
cleaned as WordPress cleans them (:mod:`adapters.woocommerce.simulator.content`); a product
left without categories gets the shop's default one ("Uncategorized").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import (
    SimError,
    decimal_or_none,
    invalid_params,
    parse_moment,
    stamp,
)
from adapters.woocommerce.simulator.content import kses_post, title, wc_clean
from adapters.woocommerce.simulator.records import Records, Sellable

PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
PRODUCT_STATUSES = ("draft", "pending", "private", "publish")
VARIATION_STATUSES = ("draft", "pending", "private", "publish")
ENUMS: dict[str, tuple[str, ...]] = {
    "tax_status": ("taxable", "shipping", "none"),
    "stock_status": ("instock", "outofstock", "onbackorder"),
    "backorders": ("no", "notify", "yes"),
    "catalog_visibility": ("visible", "catalog", "search", "hidden"),
}
_STRINGS = (
    "name",
    "slug",
    "description",
    "short_description",
    "global_unique_id",
    "weight",
    "shipping_class",
)
_BOOLS = ("featured", "virtual", "downloadable", "manage_stock")
_PRICES = ("regular_price", "sale_price")
_DATES = ("date_on_sale_from", "date_on_sale_to")


def _type_name(value: Any) -> str:
    return {str: "string", bool: "boolean", int: "integer", list: "array", dict: "object"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _check(data: dict[str, Any], item: Sellable) -> dict[str, str]:
    bad: dict[str, str] = {}
    fields = item.__struct_fields__
    for key, value in data.items():
        if key not in fields and key not in ("categories", "tags", "images", "image"):
            continue
        if key in _STRINGS or key in _PRICES or key in ("sku", "tax_class"):
            if not isinstance(value, str):
                bad[key] = f"{key} is not of type string."
        elif key in _BOOLS:
            if not isinstance(value, bool):
                bad[key] = f"{key} is not of type boolean."
        elif key == "stock_quantity":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                bad[key] = f"{key} is not of type integer."
        elif key in ENUMS or key in ("type", "status"):
            allowed = _allowed(key, item)
            if value not in allowed:
                bad[key] = f"{key} is not one of {', '.join(allowed)}."
        elif key in _DATES or key in tuple(f"{d}_gmt" for d in _DATES):
            if value is not None and not isinstance(value, str):
                bad[key] = f"{key} is not of type string,null."
        elif key in (
            "categories",
            "tags",
            "images",
            "attributes",
            "default_attributes",
            "meta_data",
        ) and not isinstance(value, list):
            bad[key] = f"{key} is not of type array."
    return bad


def _allowed(key: str, item: Sellable) -> tuple[str, ...]:
    if key == "type":
        return PRODUCT_TYPES
    if key == "status":
        return PRODUCT_STATUSES if isinstance(item, m.Product) else VARIATION_STATUSES
    return ENUMS[key]


def _price(value: str) -> str:
    text = value.strip()
    return text if text and decimal_or_none(text) is not None else ""


def apply_sellable(store: Records, item: Sellable, data: dict[str, Any]) -> None:
    """Validate ``data`` against the schema and write it to ``item`` (SKU rules included)."""
    bad = _check(data, item)
    if bad:
        raise invalid_params(bad)
    if "sku" in data:
        store.claim_sku(item, wc_clean(data["sku"]))
    for key, value in data.items():
        handler = _HANDLERS.get(key)
        if handler is not None:
            handler(store, item, value)
        elif key in _PRICES:
            setattr(item, key, _price(value))
        elif key in item.__struct_fields__ and (
            key in _STRINGS or key in _BOOLS or key in ENUMS or key in ("type", "status")
        ):
            setattr(item, key, value)


def _text(field: str, clean: Callable[[str], str]) -> Callable[[Records, Sellable, Any], None]:
    def handler(store: Records, item: Sellable, value: Any) -> None:
        if field in item.__struct_fields__:
            setattr(item, field, clean(value))

    return handler


def _tax_class(store: Records, item: Sellable, value: Any) -> None:
    item.tax_class = value if value in store.tax_classes and value != "standard" else ""


def _stock_quantity(store: Records, item: Sellable, value: Any) -> None:
    item.stock_quantity = value


def _sale_date(field: str, gmt: bool) -> Callable[[Records, Sellable, Any], None]:
    def handler(store: Records, item: Sellable, value: Any) -> None:
        if not value:
            setattr(item, field, None)
            setattr(item, f"{field}_gmt", None)
            return
        try:
            local, in_gmt = stamp(parse_moment(value, gmt=gmt))
        except ValueError:
            raise invalid_params({field: f"Invalid date: {value}"}) from None
        setattr(item, field, local)
        setattr(item, f"{field}_gmt", in_gmt)

    return handler


def _dimensions(store: Records, item: Sellable, value: Any) -> None:
    if isinstance(value, dict):
        for key in ("length", "width", "height"):
            if isinstance(value.get(key), str):
                setattr(item.dimensions, key, value[key])


def _terms(kind: str) -> Callable[[Records, Sellable, Any], None]:
    def handler(store: Records, item: Sellable, value: Any) -> None:
        if not isinstance(item, m.Product):
            return
        terms: list[m.Term] = []
        for ref in value:
            term_id = ref.get("id") if isinstance(ref, dict) else None
            category = store.categories.get(term_id) if isinstance(term_id, int) else None
            if kind == "categories" and category is None:
                raise SimError("woocommerce_rest_invalid_term", "Invalid category ID.")
            if category is not None:
                terms.append(m.Term(id=category.id, name=category.name, slug=category.slug))
        if kind == "categories" and not terms:
            terms = [store.default_term()]
        setattr(item, kind, terms)

    return handler


def _images(store: Records, item: Sellable, value: Any) -> None:
    images = [
        m.Image(
            id=store.next_id("attachment"),
            src=str(ref.get("src", "")),
            name=str(ref.get("name", "")),
            alt=str(ref.get("alt", "")),
        )
        for ref in value
        if isinstance(ref, dict)
    ]
    if isinstance(item, m.Product):
        item.images = images
    else:
        item.image = images[0] if images else None


def _attributes(store: Records, item: Sellable, value: Any) -> None:
    try:
        if isinstance(item, m.Product):
            item.attributes = [
                m.ProductAttribute(
                    id=int(a.get("id", 0)),
                    name=str(a["name"]),
                    position=int(a.get("position", i)),
                    visible=bool(a.get("visible", True)),
                    variation=bool(a.get("variation", False)),
                    options=[str(o) for o in a.get("options", [])],
                )
                for i, a in enumerate(value)
            ]
        else:
            item.attributes = [
                m.ChosenAttribute(
                    id=int(a.get("id", 0)), name=str(a["name"]), option=str(a["option"])
                )
                for a in value
            ]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise invalid_params({"attributes": "attributes is not a list of attributes."}) from None


def _meta_data(store: Records, item: Any, value: Any) -> None:
    apply_meta(store, item.meta_data, value)


def apply_meta(store: Records, meta: list[m.Meta], value: Any) -> None:
    """Meta entries are upserted by id or key; ``null`` value deletes (as WooCommerce does)."""
    for entry in value:
        if not isinstance(entry, dict) or "key" not in entry:
            continue
        existing = next((e for e in meta if e.id == entry.get("id") or e.key == entry["key"]), None)
        if entry.get("value") is None:
            if existing is not None:
                meta.remove(existing)
        elif existing is not None:
            existing.value = entry["value"]
        else:
            meta.append(
                m.Meta(id=store.next_id("meta"), key=str(entry["key"]), value=entry["value"])
            )


_HANDLERS: dict[str, Callable[[Records, Sellable, Any], None]] = {
    "name": _text("name", title),
    "description": _text("description", kses_post),
    "short_description": _text("short_description", kses_post),
    "tax_class": _tax_class,
    "stock_quantity": _stock_quantity,
    "date_on_sale_from": _sale_date("date_on_sale_from", gmt=False),
    "date_on_sale_to": _sale_date("date_on_sale_to", gmt=False),
    "date_on_sale_from_gmt": _sale_date("date_on_sale_from", gmt=True),
    "date_on_sale_to_gmt": _sale_date("date_on_sale_to", gmt=True),
    "dimensions": _dimensions,
    "categories": _terms("categories"),
    "tags": _terms("tags"),
    "images": _images,
    "image": lambda store, item, value: _images(store, item, [value] if value else []),
    "attributes": _attributes,
    "meta_data": _meta_data,
}

_ADDRESS_FIELDS = m.Address.__struct_fields__


def apply_customer(store: Records, customer: m.Customer, data: dict[str, Any]) -> None:
    """Write a customers-route body to ``customer``."""
    bad: dict[str, str] = {
        key: f"{key} is not of type string."
        for key in ("email", "first_name", "last_name", "username")
        if key in data and not isinstance(data[key], str)
    }
    if bad:
        raise invalid_params(bad)
    if "email" in data:
        email = data["email"].strip()
        if "@" not in email:
            raise invalid_params({"email": "Invalid email address."})
        owner = store.customer_by_email(email)
        if owner is not None and owner.id != customer.id:
            raise SimError(
                "registration-error-email-exists",
                "An account is already registered with your email address. Please log in.",
            )
        customer.email = email
    for key in ("first_name", "last_name", "username"):
        if key in data:
            setattr(customer, key, data[key])
    for key in ("billing", "shipping"):
        if isinstance(data.get(key), dict):
            apply_address(getattr(customer, key), data[key])
    if isinstance(data.get("meta_data"), list):
        apply_meta(store, customer.meta_data, data["meta_data"])


def apply_address(address: m.Address, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key in _ADDRESS_FIELDS and isinstance(value, str):
            setattr(address, key, value)
