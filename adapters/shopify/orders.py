"""Orders and customers read from Shopify, as the engine's canonical records.

Amounts are read from each money bag's ``shopMoney`` (the shop's currency, what the books
keep) as exact decimals. Shopify has no writable order status: it is derived, so the canonical
status is made from ``cancelledAt``, ``displayFinancialStatus`` and
``displayFulfillmentStatus`` in WooCommerce's words, which the order rules already speak
(``pending``, ``processing``, ``completed``, ``refunded``, ``cancelled``).

Canonical line and shipping amounts are before tax, as WooCommerce gives them and the order
rules book them; with ``taxesIncluded`` Shopify's prices (line items' and shipping lines')
hold their tax lines, which are taken out. Taxes are summed per title over line items and
shipping lines alike, as ``totalTaxSet`` sums them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.shopify import cost
from adapters.shopify.products import Unreadable, instant, money
from canonical.models import Address, Customer, Order, OrderLine, ShippingLine, TaxLine

LINES_PER_ORDER = 20
"""Line items read with each order (an order with more is refused, naming the count)."""
SHIPPING_LINES_PER_ORDER = 5
"""Shipping lines read with each order (one per delivery method chosen; more is refused)."""
_MONEY = "{ shopMoney { amount currencyCode } }"
_ADDRESS = (
    "{ firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }"
)
_TAX_LINES = f"taxLines {{ title ratePercentage priceSet {_MONEY} }}"
_LINE = (
    f"id sku name quantity originalUnitPriceSet {_MONEY} discountedUnitPriceSet {_MONEY}"
    f" originalTotalSet {_MONEY} {_TAX_LINES}"
)
_SHIPPING = f"title code discountedPriceSet {_MONEY} {_TAX_LINES}"
_ORDER = (
    "id name email note createdAt updatedAt cancelledAt currencyCode taxesIncluded"
    " displayFinancialStatus displayFulfillmentStatus"
    f" billingAddress {_ADDRESS} shippingAddress {_ADDRESS}"
    f" subtotalPriceSet {_MONEY} totalTaxSet {_MONEY}"
    f" totalDiscountsSet {_MONEY} totalPriceSet {_MONEY}"
    f" lineItems(first: {LINES_PER_ORDER}) {{ nodes {{ {_LINE} }} pageInfo {{ hasNextPage }} }}"
    f" shippingLines(first: {SHIPPING_LINES_PER_ORDER})"
    f" {{ nodes {{ {_SHIPPING} }} pageInfo {{ hasNextPage }} }}"
)
_BAG = 2 * cost.OBJECT
_TAXES_COST = cost.OBJECT + _BAG
LINE_COST = cost.OBJECT + 3 * _BAG + _TAXES_COST
SHIPPING_LINE_COST = cost.OBJECT + _BAG + _TAXES_COST
ORDER_COST = (
    cost.OBJECT
    + 2 * cost.OBJECT
    + 4 * _BAG
    + cost.connection_cost(LINES_PER_ORDER, LINE_COST)
    + cost.connection_cost(SHIPPING_LINES_PER_ORDER, SHIPPING_LINE_COST)
)
"""Requested points of one order: itself, two addresses, four money bags, its lines and its
shipping lines."""
_CUSTOMER = f"id email firstName lastName phone updatedAt defaultAddress {_ADDRESS}"
CUSTOMER_COST = 2 * cost.OBJECT


def list_query(root: str, limit: float) -> tuple[str, int, int]:
    """A page query of ``orders`` or ``customers`` sized to ``limit`` points."""
    node, fields = (ORDER_COST, _ORDER) if root == "orders" else (CUSTOMER_COST, _CUSTOMER)
    first = cost.page_size(node, limit)
    document = (
        f"query List($first: Int!, $after: String, $query: String) {{"
        f" {root}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{"
        f" nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    return document, first, cost.connection_cost(first, node)


_ORDER_GID = re.compile(r"gid://shopify/Order/[0-9]+")
NODES_QUERY = f"query Orders($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Order {{ {_ORDER} }} }} }}"
"""Orders by id: not a search, so an order is found the moment it exists (an order webhook's
``admin_graphql_api_id``), where its name is searchable only once the index has caught up."""


def is_order_gid(key: str) -> bool:
    """Whether ``key`` is an order's GraphQL id rather than its number."""
    return _ORDER_GID.fullmatch(key) is not None


def _amount(bag: Any, what: str) -> Decimal:
    if not bag:
        return Decimal(0)
    return money(str(bag["shopMoney"]["amount"]), what) or Decimal(0)


def _address(data: Any) -> Address | None:
    if not data:
        return None
    return Address(
        first_name=data.get("firstName") or "",
        last_name=data.get("lastName") or "",
        company=data.get("company") or "",
        line1=data.get("address1") or "",
        line2=data.get("address2") or "",
        city=data.get("city") or "",
        state=data.get("provinceCode") or "",
        postcode=data.get("zip") or "",
        country=data.get("countryCodeV2") or "",
        phone=data.get("phone") or "",
    )


def _nodes(order: Any, field: str, first: int, what: str) -> list[Any]:
    """The nodes of one of the order's connections, refused when it holds more than read."""
    connection = order.get(field) or {"nodes": [], "pageInfo": {}}
    if connection["pageInfo"].get("hasNextPage"):
        raise Unreadable(f"order {order['name']} has more than {first} {what}")
    nodes: list[Any] = connection["nodes"]
    return nodes


def _taxed(entries: Any, taxes: dict[str, TaxLine]) -> Decimal:
    """The sum of one line's tax lines, each also added to ``taxes`` under its title."""
    total = Decimal(0)
    for entry in entries or []:
        amount = _amount(entry["priceSet"], "tax")
        total += amount
        title = entry.get("title") or "Tax"
        rate = money(str(entry.get("ratePercentage") or 0), "tax rate") or Decimal(0)
        held = taxes.get(title)
        taxes[title] = TaxLine(
            code=title, label=title, rate=rate, amount=amount + (held.amount if held else 0)
        )
    return total


def status_of(order: Any) -> str:
    """The canonical status of a Shopify order (see the module docstring)."""
    if order.get("cancelledAt"):
        return "cancelled"
    financial = order.get("displayFinancialStatus") or "PENDING"
    if financial in ("REFUNDED", "VOIDED"):
        return "refunded"
    if order.get("displayFulfillmentStatus") == "FULFILLED":
        return "completed"
    if financial in ("PAID", "PARTIALLY_REFUNDED", "PARTIALLY_PAID", "AUTHORIZED"):
        return "processing"
    return "pending"


def to_order(order: Any) -> Order:
    lines = _nodes(order, "lineItems", LINES_PER_ORDER, "lines")
    shipping_lines = _nodes(order, "shippingLines", SHIPPING_LINES_PER_ORDER, "shipping lines")
    created = instant(order.get("createdAt"))
    if created is None:
        raise Unreadable("no creation date")
    included = bool(order.get("taxesIncluded"))

    def before_tax(amount: Decimal, tax: Decimal) -> Decimal:
        # Included tax was charged on the discounted amount; taken out of the original amount
        # too, the line's discount stays the shop's (``totalDiscountsSet``).
        return amount - tax if included else amount

    canonical: list[OrderLine] = []
    taxes: dict[str, TaxLine] = {}
    for line in lines:
        quantity = Decimal(int(line["quantity"]))
        tax = _taxed(line.get("taxLines"), taxes)
        subtotal = before_tax(_amount(line["originalTotalSet"], "line subtotal"), tax)
        unit = _amount(line["discountedUnitPriceSet"], "discounted price")
        canonical.append(
            OrderLine(
                sku=(line.get("sku") or "").strip(),
                name=line["name"],
                quantity=quantity,
                unit_price=subtotal / quantity
                if included
                else _amount(line["originalUnitPriceSet"], "unit price"),
                subtotal=subtotal,
                total=before_tax(unit * quantity, tax),
                tax=tax,
            )
        )
    shipping: list[ShippingLine] = []
    for ship in shipping_lines:
        tax = _taxed(ship.get("taxLines"), taxes)
        price = _amount(ship["discountedPriceSet"], "shipping price")
        method = ship.get("title") or ship.get("code") or ""
        shipping.append(ShippingLine(method=method, total=before_tax(price, tax), tax=tax))
    return Order(
        number=str(order["name"]).lstrip("#"),
        status=status_of(order),
        currency=order["currencyCode"],
        customer_email=(order.get("email") or "").strip(),
        created_at=created.astimezone(UTC),
        lines=tuple(canonical),
        billing=_address(order.get("billingAddress")),
        shipping=_address(order.get("shippingAddress")),
        shipping_lines=tuple(shipping),
        tax_lines=tuple(taxes.values()),
        discount_total=_amount(order.get("totalDiscountsSet"), "discounts"),
        shipping_total=sum((ship.total for ship in shipping), Decimal(0)),
        tax_total=_amount(order.get("totalTaxSet"), "taxes"),
        total=_amount(order.get("totalPriceSet"), "total"),
        prices_include_tax=included,
        note=order.get("note") or "",
    )


def to_customer(customer: Any) -> Customer:
    email = (customer.get("email") or "").strip()
    if not email:
        raise Unreadable("no e-mail")
    address = _address(customer.get("defaultAddress"))
    return Customer(
        email=email,
        first_name=customer.get("firstName") or "",
        last_name=customer.get("lastName") or "",
        company=address.company if address else "",
        phone=customer.get("phone") or "",
        billing=address,
    )


def modified(node: Any) -> datetime | None:
    return instant(node.get("updatedAt"))
