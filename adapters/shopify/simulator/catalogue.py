"""Building and changing products the way Shopify does: handles made from titles, a default
variant for a product without options, prices as two-place decimals."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from adapters.shopify.simulator.store import Option, Product, Store, Variant

DEFAULT_OPTION = "Title"
DEFAULT_VALUE = "Default Title"


def handleize(title: str) -> str:
    """Shopify's handle for a title: accents folded, lower case, runs of other characters one
    hyphen, no hyphen at either end."""
    folded = unicodedata.normalize("NFKD", title)
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    words = re.sub(r"[^0-9a-zA-Z\u0080-\uffff]+", "-", ascii_text.lower())
    return words.strip("-") or "product"


def unique_handle(store: Store, wanted: str, product_id: int | None = None) -> str:
    """``wanted``, or ``wanted-1``, ``wanted-2``… when another product holds it."""
    candidate, n = wanted, 0
    while store.handles.get(candidate, product_id) != product_id:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def parse_money(value: object) -> Decimal | None:
    """A Money input (string or number); None when it is not a decimal amount."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(Decimal("0.01"))


def new_product(store: Store, title: str, **fields: object) -> Product:
    now = store.now()
    product = Product(
        id=store.new_id(),
        title=title,
        handle=unique_handle(store, str(fields.get("handle") or handleize(title))),
        status=str(fields.get("status") or "ACTIVE"),
        vendor=str(fields.get("vendor") or ""),
        product_type=str(fields.get("product_type") or ""),
        tags=[str(t) for t in fields.get("tags") or []],  # type: ignore[attr-defined]
        description_html=str(fields.get("description_html") or ""),
        options=[],
        variant_ids=[],
        created_at=now,
        updated_at=now,
    )
    store.products[product.id] = product
    store.handles[product.handle] = product.id
    return product


def add_variant(
    store: Store,
    product: Product,
    *,
    sku: str | None = None,
    price: Decimal = Decimal("0.00"),
    compare_at_price: Decimal | None = None,
    barcode: str | None = None,
    taxable: bool = True,
    inventory_policy: str = "DENY",
    selected: list[tuple[str, str]] | None = None,
    tracked: bool = True,
    requires_shipping: bool = True,
) -> Variant:
    now = store.now()
    variant = Variant(
        id=store.new_id(),
        product_id=product.id,
        item_id=store.new_id(),
        sku=sku,
        price=price,
        compare_at_price=compare_at_price,
        barcode=barcode,
        taxable=taxable,
        inventory_policy=inventory_policy,
        selected=selected or [(DEFAULT_OPTION, DEFAULT_VALUE)],
        tracked=tracked,
        requires_shipping=requires_shipping,
        position=len(product.variant_ids) + 1,
        created_at=now,
        updated_at=now,
    )
    store.variants[variant.id] = variant
    store.items[variant.item_id] = variant.id
    product.variant_ids.append(variant.id)
    sync_options(product, store)
    return variant


def sync_options(product: Product, store: Store) -> None:
    """Options follow the variants' selected values, in first-seen order, keeping ids."""
    existing = {option.name: option for option in product.options}
    options: list[Option] = []
    for variant in store.product_variants(product):
        for name, value in variant.selected:
            option = next((o for o in options if o.name == name), None)
            if option is None:
                option = existing.get(name) or Option(id=store.new_id(), name=name, values=[])
                option.values = []
                options.append(option)
            if value not in option.values:
                option.values.append(value)
    product.options = options
    for position, variant in enumerate(store.product_variants(product), start=1):
        variant.position = position
