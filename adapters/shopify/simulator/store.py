"""The simulated shop's records, held in memory, and the search index that trails them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.shopify.simulator.clock import Clock
from adapters.shopify.simulator.search import TermIndex


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str) -> int | None:
    """The number in ``gid://shopify/<kind>/<n>``, or None for any other id."""
    prefix = f"gid://shopify/{kind}/"
    if not value.startswith(prefix) or not value[len(prefix) :].isdigit():
        return None
    return int(value[len(prefix) :])


@dataclass
class Metafield:
    id: int
    namespace: str
    key: str
    value: str
    type: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Option:
    id: int
    name: str
    values: list[str]


@dataclass
class Level:
    """An inventory item stocked at a location: its quantities by name."""

    id: int
    item_id: int
    location_id: int
    quantities: dict[str, int]
    created_at: datetime
    updated_at: datetime


@dataclass
class Variant:
    id: int
    product_id: int
    item_id: int
    sku: str | None
    price: Decimal
    compare_at_price: Decimal | None
    barcode: str | None
    taxable: bool
    inventory_policy: str
    selected: list[tuple[str, str]]
    tracked: bool
    requires_shipping: bool
    position: int
    created_at: datetime
    updated_at: datetime
    tax_code: str | None = None
    metafields: list[Metafield] = field(default_factory=list)
    cost: Decimal | None = None
    """The inventory item's unit cost, in the shop's currency (None: not set)."""
    weight: float = 0.0
    weight_unit: str = "KILOGRAMS"
    """The inventory item's weight: 0 until one is set, in the shop's default unit."""


@dataclass
class Product:
    id: int
    title: str
    handle: str
    status: str
    vendor: str
    product_type: str
    tags: list[str]
    description_html: str
    options: list[Option]
    variant_ids: list[int]
    created_at: datetime
    updated_at: datetime
    metafields: list[Metafield] = field(default_factory=list)


@dataclass
class Location:
    id: int
    name: str
    active: bool = True


class VariantsThrottled(Exception):
    """A shop past the variant threshold has created its day's allowance of variants."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Daily variant creation limit reached")
        self.retry_after = retry_after


QUANTITY_NAMES = (
    "available",
    "committed",
    "damaged",
    "incoming",
    "on_hand",
    "quality_control",
    "reserved",
    "safety_stock",
)


class Store:
    """Products, variants, inventory, locations (and, through other modules, orders,
    customers, bulk operations and webhooks) of one shop.

    ``search_lag`` is how many seconds a write takes to reach the search index: a ``query:``
    filter sees a record as it was when last indexed, and a new record not at all until then.
    """

    def __init__(self, clock: Clock | None = None, search_lag: float = 0.0) -> None:
        self.clock = clock or Clock()
        self.search_lag = search_lag
        self._next_id = 1000
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.items: dict[int, int] = {}
        """Inventory item id -> variant id."""
        self.levels: dict[tuple[int, int], Level] = {}
        """(inventory item id, location id) -> level."""
        self._item_levels: dict[int, dict[int, Level]] = {}
        """The same levels by inventory item, then location (reads go by item)."""
        self.handles: dict[str, int] = {}
        """Handle -> product id (handles are unique in a shop)."""
        self.locations: dict[int, Location] = {}
        self.indexed: dict[str, dict[str, Any]] = {}
        """What the search index holds per GID (the fields a query can filter on)."""
        self.search_terms = TermIndex()
        """The same documents by whole field value, for searches naming SKUs and the like."""
        self._pending: dict[str, float] = {}
        self.variant_threshold = 50_000
        """Past this many variants, the API creates at most ``variants_per_day`` a day."""
        self.variants_per_day = 1_000
        self._created_on: dict[int, int] = {}
        self.listeners: list[Callable[[str, int], None]] = []
        """Called with (webhook topic, record id) after every write (webhooks listen)."""
        self.extra: dict[str, Any] = {}
        """Per-feature state owned by other modules (orders, bulk operations, webhooks)."""

    # -- ids and time -------------------------------------------------------------------

    def new_id(self) -> int:
        """One sequence for every record, as Shopify's ids are unique across resources."""
        self._next_id += 1
        return self._next_id

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, topic: str, record_id: int) -> None:
        for listener in self.listeners:
            listener(topic, record_id)

    def claim_variant_creations(self, count: int) -> None:
        """Count ``count`` variants about to be created through the API, or raise
        :class:`VariantsThrottled` (Shopify's throttle on variant creation in large shops)."""
        if len(self.variants) + count <= self.variant_threshold:
            return
        day = int(self.clock.time() // 86_400)
        made = self._created_on.get(day, 0)
        if made + count > self.variants_per_day:
            raise VariantsThrottled(retry_after=(day + 1) * 86_400 - self.clock.time())
        self._created_on = {day: made + count}

    # -- search index -------------------------------------------------------------------

    def reindex(self, key: str, document: dict[str, Any]) -> None:
        """Queue ``document`` for the index; it becomes searchable after ``search_lag``."""
        self.extra.setdefault("documents", {})[key] = document
        self._pending[key] = self.clock.time() + self.search_lag
        if self.search_lag <= 0:
            self._refresh_index()

    def unindex(self, key: str) -> None:
        document = self.indexed.pop(key, None)
        if document is not None:
            self.search_terms.remove(key, document)
        self._pending.pop(key, None)

    def search_view(self) -> dict[str, dict[str, Any]]:
        """The index as of now (entries whose lag has run out are applied first)."""
        self._refresh_index()
        return self.indexed

    def _refresh_index(self) -> None:
        now = self.clock.time()
        documents = self.extra.get("documents", {})
        for key, due in list(self._pending.items()):
            if due <= now:
                old = self.indexed.get(key)
                if old is not None:
                    self.search_terms.remove(key, old)
                self.indexed[key] = documents.pop(key)
                self.search_terms.add(key, self.indexed[key])
                del self._pending[key]

    # -- catalogue ------------------------------------------------------------------------

    def add_location(self, name: str) -> Location:
        location = Location(id=self.new_id(), name=name)
        self.locations[location.id] = location
        return location

    def product_variants(self, product: Product) -> list[Variant]:
        return [self.variants[v] for v in product.variant_ids]

    def variant_of_item(self, item_id: int) -> Variant | None:
        variant_id = self.items.get(item_id)
        return None if variant_id is None else self.variants.get(variant_id)

    def item_levels(self, item_id: int) -> list[Level]:
        held = self._item_levels.get(item_id, {})
        return [held[location] for location in sorted(held)]

    def stock(self, item_id: int, location_id: int, quantity: int) -> Level:
        """Stock an item at a location with ``quantity`` available (and on hand)."""
        now = self.now()
        level = self.levels.get((item_id, location_id))
        if level is None:
            names = dict.fromkeys(QUANTITY_NAMES, 0)
            level = Level(self.new_id(), item_id, location_id, names, now, now)
            self.levels[(item_id, location_id)] = level
            self._item_levels.setdefault(item_id, {})[location_id] = level
        committed = level.quantities["committed"]
        level.quantities["available"] = quantity
        level.quantities["on_hand"] = quantity + committed
        level.updated_at = now
        return level

    def inventory_quantity(self, variant: Variant) -> int:
        return sum(level.quantities["available"] for level in self.item_levels(variant.item_id))

    def touch_product(self, product: Product) -> None:
        product.updated_at = self.now()
        self.index_product(product)

    def index_product(self, product: Product) -> None:
        variants = self.product_variants(product)
        self.reindex(
            gid("Product", product.id),
            {
                "id": product.id,
                "title": product.title,
                "handle": product.handle,
                "status": product.status,
                "vendor": product.vendor,
                "product_type": product.product_type,
                "tag": list(product.tags),
                "sku": [v.sku for v in variants if v.sku],
                "barcode": [v.barcode for v in variants if v.barcode],
                "updated_at": product.updated_at,
                "created_at": product.created_at,
            },
        )
        for variant in variants:
            self.reindex(
                gid("ProductVariant", variant.id),
                {
                    "id": variant.id,
                    "sku": variant.sku or "",
                    "barcode": variant.barcode or "",
                    "title": product.title,
                    "product_id": product.id,
                    "updated_at": variant.updated_at,
                    "created_at": variant.created_at,
                },
            )

    def delete_variant(self, variant: Variant) -> None:
        product = self.products[variant.product_id]
        product.variant_ids.remove(variant.id)
        del self.variants[variant.id]
        self.items.pop(variant.item_id, None)
        for location in self._item_levels.pop(variant.item_id, {}):
            del self.levels[(variant.item_id, location)]
        self.unindex(gid("ProductVariant", variant.id))

    def delete_product(self, product: Product) -> None:
        for variant in self.product_variants(product):
            self.delete_variant(variant)
        del self.products[product.id]
        if self.handles.get(product.handle) == product.id:
            del self.handles[product.handle]
        self.unindex(gid("Product", product.id))
