"""Orders and customers, and how tests plant them: :func:`plant_order` is a customer buying at
checkout (stock moves from available to committed, as Shopify reserves it), :func:`refund` a
merchant refunding lines (optionally restocking).

Taxes are Shopify's: one tax line per taxed line item and per taxed shipping line, each rounded
to the cent on its own; ``totalTaxSet`` is their sum. With ``taxes_included`` the prices (line
items' and shipping's) already hold the tax, which is then the part ``rate / (1 + rate)`` of
them and is not added again to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.shopify.simulator.store import Metafield, Store

_CENT = Decimal("0.01")


@dataclass
class Customer:
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    tags: list[str]
    addresses: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    note: str | None = None
    metafields: list[Metafield] = field(default_factory=list)


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    sku: str | None
    title: str
    quantity: int
    unit_price: Decimal
    tax_lines: list[tuple[str, Decimal, Decimal]]
    """(title, rate as a fraction, amount)."""
    location_id: int | None
    fulfilled: int = 0
    refunded: int = 0


@dataclass
class ShippingLine:
    id: int
    title: str
    code: str
    price: Decimal
    """As charged: tax included when the order's ``taxes_included``."""
    tax_lines: list[tuple[str, Decimal, Decimal]]
    """(title, rate as a fraction, amount)."""


@dataclass
class Refund:
    id: int
    created_at: datetime
    note: str | None
    lines: list[tuple[int, int, str]]
    """(line item id, quantity, restock type)."""
    amount: Decimal


@dataclass
class Fulfillment:
    id: int
    created_at: datetime
    lines: list[tuple[int, int]]
    tracking: list[dict[str, str | None]]
    status: str = "SUCCESS"


@dataclass
class Order:
    id: int
    number: int
    email: str | None
    customer_id: int | None
    created_at: datetime
    updated_at: datetime
    lines: list[LineItem]
    shipping_lines: list[ShippingLine]
    billing_address: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    financial_status: str = "PAID"
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    currency: str = "EUR"
    taxes_included: bool = False
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed: bool = False
    fulfillment_order_id: int = 0
    refunds: list[Refund] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    custom_attributes: list[dict[str, str]] = field(default_factory=list)
    metafields: list[Metafield] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def shipping(self) -> Decimal:
        return sum((ship.price for ship in self.shipping_lines), Decimal("0.00"))

    def subtotal(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))

    def tax(self) -> Decimal:
        taxed = [line.tax_lines for line in self.lines]
        taxed += [ship.tax_lines for ship in self.shipping_lines]
        return sum((t[2] for taxes in taxed for t in taxes), Decimal("0.00"))

    def total(self) -> Decimal:
        extra = Decimal(0) if self.taxes_included else self.tax()
        return self.subtotal() + self.shipping + extra

    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0.00"))

    def display_financial_status(self) -> str:
        if self.refunds:
            return "REFUNDED" if self.refunded() >= self.total() else "PARTIALLY_REFUNDED"
        return self.financial_status

    def display_fulfillment_status(self) -> str:
        wanted = sum(line.quantity - line.refunded for line in self.lines)
        done = sum(line.fulfilled for line in self.lines)
        if wanted > 0 and done >= wanted:
            return "FULFILLED"
        return "PARTIALLY_FULFILLED" if done else "UNFULFILLED"


def orders_of(store: Store) -> dict[int, Order]:
    orders: dict[int, Order] = store.extra.setdefault("orders", {})
    return orders


def customers_of(store: Store) -> dict[int, Customer]:
    customers: dict[int, Customer] = store.extra.setdefault("customers", {})
    return customers


def plant_customer(
    store: Store, email: str, first_name: str = "Ada", last_name: str = "Lovelace", **more: Any
) -> Customer:
    now = store.now()
    address = more.pop("address", None)
    customer = Customer(
        id=store.new_id(),
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=more.pop("phone", None),
        tags=list(more.pop("tags", [])),
        addresses=[address] if address else [],
        created_at=now,
        updated_at=now,
    )
    customers_of(store)[customer.id] = customer
    index_customer(store, customer)
    store.emit("customers/create", customer.id)
    return customer


def charged_tax(
    amount: Decimal, rate: Decimal, included: bool
) -> list[tuple[str, Decimal, Decimal]]:
    """The tax line Shopify charges on ``amount`` at ``rate``, rounded to the cent on its own;
    with ``included`` the tax is inside ``amount``."""
    tax = amount * rate / (1 + rate) if included else amount * rate
    return [(f"VAT {rate * 100:g}%", rate, tax.quantize(_CENT, rounding=ROUND_HALF_UP))]


def plant_order(
    store: Store,
    lines: list[tuple[int, int]],
    *,
    customer: Customer | None = None,
    email: str | None = None,
    shipping: Decimal = Decimal("4.90"),
    shipping_title: str = "Standard",
    shipping_taxable: bool = True,
    tax_rate: Decimal = Decimal("0.20"),
    taxes_included: bool = False,
    address: dict[str, Any] | None = None,
    financial_status: str = "PAID",
) -> Order:
    """A customer buys ``lines`` of (variant id, quantity) at the variants' prices, shipped
    for ``shipping`` (no shipping line when 0), taxed at ``tax_rate`` (shipping too when
    ``shipping_taxable``, as Shopify's "charge tax on shipping rates"). Tracked stock is taken
    from the first location holding it (available down, committed up)."""
    orders = orders_of(store)
    now = store.now()
    items = []
    for variant_id, quantity in lines:
        variant = store.variants[variant_id]
        product = store.products[variant.product_id]
        location = None
        if variant.tracked:
            levels = store.item_levels(variant.item_id)
            chosen = next((lv for lv in levels if lv.quantities["available"] >= quantity), None)
            chosen = chosen or (levels[0] if levels else None)
            if chosen is not None:
                chosen.quantities["available"] -= quantity
                chosen.quantities["committed"] += quantity
                chosen.updated_at = now
                location = chosen.location_id
        items.append(
            LineItem(
                id=store.new_id(),
                variant_id=variant.id,
                sku=variant.sku,
                title=product.title,
                quantity=quantity,
                unit_price=variant.price,
                tax_lines=charged_tax(variant.price * quantity, tax_rate, taxes_included)
                if variant.taxable
                else [],
                location_id=location,
            )
        )
    address = address or {
        "firstName": customer.first_name if customer else "Ada",
        "lastName": customer.last_name if customer else "Lovelace",
        "address1": "1 rue de la Paix",
        "city": "Paris",
        "zip": "75002",
        "countryCodeV2": "FR",
        "country": "France",
    }
    ships = []
    if shipping:
        ships.append(
            ShippingLine(
                id=store.new_id(),
                title=shipping_title,
                code=shipping_title.lower().replace(" ", "-"),
                price=shipping,
                tax_lines=charged_tax(shipping, tax_rate, taxes_included)
                if shipping_taxable
                else [],
            )
        )
    order = Order(
        id=store.new_id(),
        number=1001 + len(orders),
        email=email or (customer.email if customer else None),
        customer_id=customer.id if customer else None,
        created_at=now,
        updated_at=now,
        lines=items,
        shipping_lines=ships,
        billing_address=address,
        shipping_address=address,
        financial_status=financial_status,
        taxes_included=taxes_included,
        fulfillment_order_id=store.new_id(),
    )
    orders[order.id] = order
    index_order(store, order)
    store.emit("orders/create", order.id)
    return order


def refund(
    store: Store,
    order: Order,
    lines: list[tuple[int, int]],
    *,
    restock: bool = True,
    note: str | None = None,
) -> Refund:
    """Refund (line item id, quantity) pairs; restocked quantities go back to available."""
    now = store.now()
    amount = Decimal("0.00")
    for line_id, quantity in lines:
        line = next(one for one in order.lines if one.id == line_id)
        line.refunded += quantity
        # With taxes included the unit price already holds the tax.
        tax = (
            Decimal(0) if order.taxes_included else sum((t[2] for t in line.tax_lines), Decimal(0))
        )
        share = tax * quantity / line.quantity
        amount += (line.unit_price * quantity + share).quantize(Decimal("0.01"))
        if restock and line.variant_id in store.variants and line.location_id is not None:
            variant = store.variants[line.variant_id]
            level = store.levels.get((variant.item_id, line.location_id))
            if level is not None:
                level.quantities["committed"] -= min(quantity, level.quantities["committed"])
                level.quantities["available"] += quantity
    made = Refund(
        store.new_id(),
        now,
        note,
        [(i, q, "RETURN" if restock else "NO_RESTOCK") for i, q in lines],
        amount,
    )
    order.refunds.append(made)
    order.updated_at = now
    index_order(store, order)
    store.emit("refunds/create", order.id)
    store.emit("orders/updated", order.id)
    return made


def index_order(store: Store, order: Order) -> None:
    store.reindex(
        f"gid://shopify/Order/{order.id}",
        {
            "id": order.id,
            "title": order.name,
            "name": order.name,
            "email": order.email or "",
            "tag": list(order.tags),
            "financial_status": order.display_financial_status().lower(),
            "fulfillment_status": order.display_fulfillment_status().lower(),
            "updated_at": order.updated_at,
            "created_at": order.created_at,
            "customer_id": order.customer_id or 0,
            "sku": [line.sku for line in order.lines if line.sku],
        },
    )


def index_customer(store: Store, customer: Customer) -> None:
    store.reindex(
        f"gid://shopify/Customer/{customer.id}",
        {
            "id": customer.id,
            "title": f"{customer.first_name} {customer.last_name}",
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "tag": list(customer.tags),
            "updated_at": customer.updated_at,
            "created_at": customer.created_at,
        },
    )
