"""The simulator's in-memory shop: records, id sequences, the SKU index, stock and events.

Request handlers and tests both go through this object. Methods named like an admin's actions
(``edit_product``, ``set_order_status``...) behave as an edit in wp-admin would: they bump
``date_modified``, move stock and fire webhook events, without the REST layer's validation, so
a test can also plant records a well-behaved shop would never hold (a product without SKU...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import SimError, stamp
from adapters.woocommerce.simulator.orders_logic import build_order
from adapters.woocommerce.simulator.records import Sellable

STOCK_REDUCING = frozenset({"processing", "completed", "on-hold"})
STOCK_RESTORING = frozenset({"cancelled", "pending"})
ORDER_STATUSES = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"}
)

Listener = Callable[[str, Any], None]
"""Called with a webhook topic (``product.updated``) and the record (or ``{"id": N}``)."""


class Store:
    """Everything the simulated shop holds."""

    def __init__(self, base_url: str = "http://shop.test") -> None:
        self.base_url = base_url
        self.products: dict[int, m.Product] = {}
        self.variations: dict[int, m.Variation] = {}
        self.categories: dict[int, m.Category] = {}
        self.tax_classes: dict[str, m.TaxClass] = {
            "standard": m.TaxClass(slug="standard", name="Standard"),
            "reduced-rate": m.TaxClass(slug="reduced-rate", name="Reduced rate"),
            "zero-rate": m.TaxClass(slug="zero-rate", name="Zero rate"),
        }
        self.customers: dict[int, m.Customer] = {}
        self.orders: dict[int, m.Order] = {}
        self.notes: dict[int, list[m.OrderNote]] = {}
        self.refunds: dict[int, list[m.Refund]] = {}
        self.tax_rates: dict[int, m.TaxRate] = {}
        """Rates added through ``/taxes`` (see :mod:`~adapters.woocommerce.simulator.tax_rates`)."""
        self.webhooks: dict[int, m.Webhook] = {}
        self.skus: dict[str, int] = {}
        """SKU -> product or variation id, compared as the database does (see :func:`sku_key`)."""
        self.listeners: list[Listener] = []
        self.version = 0
        """Bumped on every write; list handlers cache their sort orders against it."""
        self.sort_cache: dict[Any, Any] = {}
        self._reduced: dict[int, dict[int, int]] = {}
        self._post_id = 0
        self._other_ids: dict[str, int] = {}
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        default = m.Category(id=self.next_id("term"), name="Uncategorized", slug="uncategorized")
        self.categories[default.id] = default
        self.default_category = default.id
        """``default_product_cat``: given to every product saved without a category."""

    def default_term(self) -> m.Term:
        category = self.categories[self.default_category]
        return m.Term(id=category.id, name=category.name, slug=category.slug)

    # -- ids, time, events ----------------------------------------------------------------

    def next_post_id(self) -> int:
        """Products, variations, orders and refunds share WordPress's one post id sequence."""
        self._post_id += 1
        return self._post_id

    def next_id(self, sequence: str) -> int:
        self._other_ids[sequence] = self._other_ids.get(sequence, 0) + 1
        return self._other_ids[sequence]

    def now(self) -> tuple[str, str]:
        return stamp(self.clock())

    def emit(self, topic: str, record: Any) -> None:
        self.version += 1
        for listener in self.listeners:
            listener(topic, record)

    def touch(self, record: Any) -> None:
        record.date_modified, record.date_modified_gmt = self.now()

    # -- products and variations ----------------------------------------------------------

    def item(self, item_id: int) -> Sellable | None:
        """A product or a variation by id."""
        return self.products.get(item_id) or self.variations.get(item_id)

    def product_by_sku(self, sku: str) -> Sellable | None:
        """The product or variation holding ``sku``, matched as MySQL's collation matches it."""
        item_id = self.skus.get(sku_key(sku))
        return None if item_id is None else self.item(item_id)

    def claim_sku(self, item: Sellable, sku: str) -> None:
        """Give ``item`` this SKU, refusing one held by another product or variation. The
        uniqueness query runs under the database's case-insensitive collation, so ``case-001``
        is taken when ``CASE-001`` exists."""
        if sku == item.sku:
            return
        owner = self.skus.get(sku_key(sku)) if sku else None
        if owner is not None and owner != item.id:
            raise SimError(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                resource_id=owner,
                unique_sku=self._unique_sku(sku),
            )
        if item.sku and self.skus.get(sku_key(item.sku)) == item.id:
            del self.skus[sku_key(item.sku)]
        item.sku = sku
        if sku:
            self.skus[sku_key(sku)] = item.id

    def _unique_sku(self, sku: str) -> str:
        n = 1
        while sku_key(f"{sku}-{n}") in self.skus:
            n += 1
        return f"{sku}-{n}"

    def insert(self, item: Sellable) -> Sellable:
        """Store a new product or variation (its SKU already checked)."""
        if item.sku:
            self.skus[sku_key(item.sku)] = item.id
        if isinstance(item, m.Product):
            self.products[item.id] = item
        else:
            self.variations[item.id] = item
            parent = self.products[item.parent_id]
            parent.variations.append(item.id)
        refresh(item)
        return item

    def saved(self, item: Sellable, *, created: bool = False) -> None:
        """Bump dates and fire the webhook after a save; a variation also re-saves its parent
        (WooCommerce's deferred product sync), which is what makes variation edits visible to
        ``modified_after`` on the products list."""
        refresh(item)
        self.touch(item)
        if isinstance(item, m.Variation):
            parent = self.products.get(item.parent_id)
            if parent is not None:
                self.touch(parent)
            self.emit("product.created" if created else "product.updated", item)
            return
        self.emit("product.created" if created else "product.updated", item)

    def remove(self, item: Sellable) -> None:
        if item.sku and self.skus.get(sku_key(item.sku)) == item.id:
            del self.skus[sku_key(item.sku)]
        if isinstance(item, m.Product):
            for variation_id in item.variations:
                variation = self.variations.pop(variation_id, None)
                if variation is not None and variation.sku:
                    self.skus.pop(sku_key(variation.sku), None)
            del self.products[item.id]
        else:
            del self.variations[item.id]
            parent = self.products.get(item.parent_id)
            if parent is not None and item.id in parent.variations:
                parent.variations.remove(item.id)
        self.emit("product.deleted", {"id": item.id})

    def add_product(self, *, sku: str, name: str, **fields: Any) -> m.Product:
        """Create a product as an admin would (no REST validation)."""
        local, gmt = self.now()
        product = m.Product(
            id=self.next_post_id(),
            name=name,
            date_created=local,
            date_created_gmt=gmt,
            date_modified=local,
            date_modified_gmt=gmt,
        )
        self.claim_sku(product, sku)
        _assign(product, fields)
        product.categories = product.categories or [self.default_term()]
        product.permalink = f"{self.base_url}/product/{product.id}/"
        self.insert(product)
        self.saved(product, created=True)
        return product

    def add_variation(self, parent_id: int, *, sku: str, **fields: Any) -> m.Variation:
        """Add a variation to a variable product as an admin would."""
        local, gmt = self.now()
        variation = m.Variation(
            id=self.next_post_id(),
            parent_id=parent_id,
            date_created=local,
            date_created_gmt=gmt,
            date_modified=local,
            date_modified_gmt=gmt,
        )
        self.claim_sku(variation, sku)
        _assign(variation, fields)
        self.insert(variation)
        self.saved(variation, created=True)
        return variation

    def edit_product(self, item_id: int, **fields: Any) -> Sellable:
        """Change fields of a product or variation as a shop admin would, bumping its dates."""
        item = self.item(item_id)
        if item is None:
            raise KeyError(item_id)
        if "sku" in fields:
            self.claim_sku(item, fields.pop("sku"))
        _assign(item, fields)
        self.saved(item)
        return item

    def move_stock(self, item: Sellable, delta: int) -> tuple[int, int] | None:
        """Add ``delta`` to a managed stock; returns (old, new) or None when unmanaged."""
        if not item.manage_stock:
            return None
        old = item.stock_quantity or 0
        item.stock_quantity = old + delta
        self.saved(item)
        return old, old + delta

    # -- orders ---------------------------------------------------------------------------

    def set_order_status(self, order_id: int, status: str) -> m.Order:
        """Move an order to ``status``, reducing or restoring stock as WooCommerce does."""
        order = self.orders[order_id]
        if status not in ORDER_STATUSES:
            raise SimError("rest_invalid_param", "Invalid parameter(s): status", params={})
        old = order.status
        order.status = status
        if status in STOCK_REDUCING and order_id not in self._reduced:
            self._reduce_stock(order)
        elif status in STOCK_RESTORING and order_id in self._reduced:
            self._restore_stock(order)
        if status == "completed" and old != "completed":
            order.date_completed, order.date_completed_gmt = self.now()
        if status in ("processing", "completed") and order.date_paid is None:
            order.date_paid, order.date_paid_gmt = self.now()
        self.touch(order)
        self.emit("order.updated", order)
        return order

    def _reduce_stock(self, order: m.Order) -> None:
        reduced: dict[int, int] = {}
        for line in order.line_items:
            item = self.item(line.variation_id or line.product_id)
            if item is None:
                continue
            moved = self.move_stock(item, -line.quantity)
            if moved is not None:
                reduced[line.id] = line.quantity
                self.add_note(order, f"{_label(item)} stock reduced from {moved[0]} to {moved[1]}.")
        self._reduced[order.id] = reduced

    def _restore_stock(self, order: m.Order) -> None:
        reduced = self._reduced.pop(order.id)
        for line in order.line_items:
            quantity = reduced.get(line.id)
            item = self.item(line.variation_id or line.product_id)
            if quantity is None or item is None:
                continue
            moved = self.move_stock(item, quantity)
            if moved is not None:
                self.add_note(
                    order, f"{_label(item)} stock increased from {moved[0]} to {moved[1]}."
                )

    def stock_reduced(self, order_id: int) -> bool:
        return order_id in self._reduced

    def add_note(self, order: m.Order, text: str, *, customer_note: bool = False) -> m.OrderNote:
        local, gmt = self.now()
        note = m.OrderNote(
            id=self.next_id("comment"),
            author="system",
            date_created=local,
            date_created_gmt=gmt,
            note=text,
            customer_note=customer_note,
        )
        self.notes.setdefault(order.id, []).insert(0, note)
        return note

    def add_customer(self, *, email: str, **fields: Any) -> m.Customer:
        """Register a customer as an admin would."""
        local, gmt = self.now()
        customer = m.Customer(
            id=self.next_id("user"),
            email=email,
            username=email.split("@")[0],
            date_created=local,
            date_created_gmt=gmt,
            date_modified=local,
            date_modified_gmt=gmt,
        )
        _assign(customer, fields)
        self.customers[customer.id] = customer
        self.emit("customer.created", customer)
        return customer

    def customer_by_email(self, email: str) -> m.Customer | None:
        wanted = email.strip().lower()
        return next((c for c in self.customers.values() if c.email.lower() == wanted), None)

    def add_order(
        self,
        lines: Iterable[tuple[str, int]],
        *,
        status: str = "pending",
        email: str = "buyer@example.com",
        **fields: Any,
    ) -> m.Order:
        """Place an order for (SKU, quantity) lines as a checkout would, then move it to
        ``status`` (so stock moves exactly as for a real order)."""
        order = build_order(self, [{"sku": sku, "quantity": qty} for sku, qty in lines], fields)
        order.billing.email = order.billing.email or email
        self.orders[order.id] = order
        self.emit("order.created", order)
        if status != "pending":
            self.set_order_status(order.id, status)
        return order


def sku_key(sku: str) -> str:
    """A SKU as the database compares it: ``utf8mb4_unicode_ci`` ignores letter case (and
    trailing spaces, which never reach it since SKUs are trimmed on save)."""
    return sku.casefold()


def _label(item: Sellable) -> str:
    return f"{item.sku or item.id}"


def _assign(record: Any, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name not in record.__struct_fields__:
            raise AttributeError(f"{type(record).__name__} has no field {name!r}")
        setattr(record, name, value)


def refresh(item: Sellable) -> None:
    """Recompute read-only fields WooCommerce derives on save (price, on_sale, stock_status)."""
    on_sale = bool(item.sale_price) and _within_sale(item)
    if isinstance(item, m.Product) and item.type == "variable":
        item.price = item.price or ""
    else:
        item.price = item.sale_price if on_sale else item.regular_price
    item.on_sale = on_sale
    item.purchasable = item.price != "" and item.status == "publish"
    item.backorders_allowed = item.backorders != "no"
    if item.manage_stock and item.stock_quantity is not None:
        if item.stock_quantity > 0:
            item.stock_status = "instock"
        else:
            item.stock_status = "onbackorder" if item.backorders_allowed else "outofstock"
        item.backordered = item.stock_quantity < 0 and item.backorders_allowed


def _within_sale(item: Sellable) -> bool:
    today = datetime.now(UTC).replace(tzinfo=None).isoformat()
    if item.date_on_sale_from_gmt and item.date_on_sale_from_gmt > today:
        return False
    return not (item.date_on_sale_to_gmt and item.date_on_sale_to_gmt < today)
