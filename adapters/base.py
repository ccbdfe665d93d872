"""The one boundary between Concord and a platform.

Everything else in Concord is written against :class:`Adapter`. An adapter reads a kind of
record as canonical records (:mod:`canonical.models`) and applies batches of writes, returning a
result per item. Drivers' errors (aiohttp, JSON decoding, the platform's error bodies) never
cross this boundary: adapters raise the exceptions below instead.

Exceptions::

    AdapterError                  anything an adapter cannot do
    ├── AuthError                 credentials refused (401/403): not retried
    ├── TransientError            worth retrying: 429, 5xx, timeouts, dropped connections
    │                             (``retry_after`` in seconds when the platform said so)
    └── PermanentError            a request the platform will never accept as sent
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from canonical.models import Record
from canonical.orders import ErpOrder, ErpPricing, OrderProgress, SaleOrder, ShopRefund

Side = Literal["erp", "shop"]
SIDES: tuple[Side, Side] = ("erp", "shop")
Fields = dict[str, Any]
"""A record's canonical field values as JSON builtins (see :mod:`canonical.fields`)."""


class AdapterError(Exception):
    """Base of every error an adapter raises."""


class AuthError(AdapterError):
    """The platform refused the credentials. Retrying will not help."""


class TransientError(AdapterError):
    """A failure worth retrying later: throttled, server error, timeout, dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(AdapterError):
    """The platform will never accept this request as sent."""


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What a platform allows; the planner and the pusher size their work to it."""

    batch_size: int = 100
    """Most write operations in one :meth:`Adapter.apply` call."""
    requests_per_second: float = 10.0
    """Sustained request rate the account is allowed."""
    max_concurrency: int = 4
    """Requests in flight at once."""
    incremental: bool = True
    """Whether :meth:`Adapter.snapshot` honours ``since``."""
    kinds: tuple[str, ...] = ("product", "stock", "price", "customer", "order")
    """Kinds this adapter can read and write."""
    fields: dict[str, frozenset[str]] = msgspec.field(default_factory=dict)
    """Per kind, the canonical fields the platform stores and reads back as written (a kind
    missing here: every field of its record). A field that either side of a connection cannot
    carry is left out of the comparison: it could never be read back, so it would drift."""
    sold_stock_leaves: Literal["on-import", "on-delivery"] = "on-import"
    """When an imported sale leaves the stock count this adapter reads: at once (a forecast,
    or a platform without deliveries), or only once the ERP has delivered it (an on-hand
    count). Stock available to sell keeps a sale off the shop's count until then."""
    variant_fields: frozenset[str] | None = None
    """The fields of a product's variants the platform stores and reads back as written (None:
    every field of :class:`canonical.models.Variant`); the others are left out of the
    comparison inside ``variants`` as a field is left out of the article."""
    own_terms: dict[str, frozenset[str]] = msgspec.field(default_factory=dict)
    """Per kind, fields the platform carries in a vocabulary of its own (tax classes, not the
    ERP's tax codes): compared only when a transform translates them
    (see engine/cycle/carried.py)."""


class Seen(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One record as read from a platform: the canonical record plus where it lives there
    (untracked by the garbage collector, as records are: it holds only immutable values)."""

    record: Record
    ref: str
    """The platform's own id for the record (WooCommerce post id, Odoo id, ...)."""
    modified_at: datetime | None = None
    """The platform's own modification time, used only by the ``newest`` policy."""


STAMP_RESOLUTION = timedelta(seconds=1)
"""How fine the change stamps of Odoo, WooCommerce and Shopify are: whole seconds."""


def read_from(cursor: datetime, overlap: timedelta) -> datetime:
    """Where an incremental read starts on a platform whose change stamps are whole seconds and
    whose search is strictly after a moment: ``overlap`` before the cursor, and never less than
    one second, since a record changed in the cursor's own second after the read that set it
    carries the cursor's stamp and would otherwise never be read."""
    return cursor - max(overlap, STAMP_RESOLUTION)


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The records of one kind read from one side.

    ``complete`` is true when every record of the kind is present (a full read); an incremental
    read holds only records modified since the cursor, and absence then means "unchanged".
    ``cursor`` is what to pass as ``since`` next time: the newest modification time seen, on the
    platform's own clock (never the local one), or the previous cursor when nothing was seen.
    The adapter reads from the cursor minus an overlap margin, so a record saved during the read
    is not missed; records read twice because of the overlap are harmless.

    ``records`` must be a list of the adapter's own making: the engine takes it over and
    empties it as it indexes the records, so that each can be let go once indexed.
    """

    records: list[Seen]
    cursor: str | None
    complete: bool


class Create(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create a record. Must be idempotent on the natural key: if a record with ``key`` exists
    already, the adapter links to it (returning its ref) and updates it instead of duplicating."""

    key: str
    fields: Fields


class Update(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Set some fields of an existing record."""

    key: str
    ref: str
    fields: Fields


class Archive(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Take a record out of sale without deleting it (shop: draft/private; ERP: inactive)."""

    key: str
    ref: str


Operation = Create | Update | Archive


class Done(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The item was written; ``ref`` is its id on the platform."""

    key: str
    ref: str


class Failed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The item was refused. ``reason`` carries the platform's own code and message."""

    key: str
    reason: str
    transient: bool = False


ItemResult = Done | Failed


class Reject(tuple[str, str]):
    """A ``(ref, reason)`` entry of :attr:`Adapter.rejected` that also names the record's
    natural key (its SKU), when the adapter could read that much of it.

    With the key, the cycle holds that record for the cycle instead of taking it for gone
    from the side (and archiving, forgetting or re-creating it). It stays a pair, so readers
    of ``(ref, reason)`` are unchanged.

    ``seen_as`` is the ref the record has in a snapshot's :class:`Seen` (what links hold),
    when ``ref`` names it otherwise for a person (``product.product/12`` for ``12``): without
    its key, the cycle finds the article by that link."""

    key: str | None
    seen_as: str

    def __new__(
        cls, ref: str, reason: str, key: str | None = None, *, seen_as: str | None = None
    ) -> Reject:
        made = super().__new__(cls, (ref, reason))
        made.key = key.strip() if key and key.strip() else None
        made.seen_as = ref if seen_as is None else seen_as
        return made


@runtime_checkable
class Adapter(Protocol):
    """What Concord needs from a platform. Implementations: ``adapters/<platform>/``."""

    rejected: list[tuple[str, str]]
    """Records a snapshot or fetch left out because they cannot be converted: (ref, reason),
    a :class:`Reject` when the record's natural key is known. The cycle takes them (as dead
    letters, reported) and empties the list."""

    @property
    def capabilities(self) -> Capabilities: ...

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        """Read every record of ``kind`` (``since=None``) or those modified since a cursor."""
        ...

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        """Read the records of ``kind`` with these natural keys; absent keys are left out."""
        ...

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        """Write a batch of at most ``capabilities.batch_size`` operations.

        Returns one result per operation, in order. One refused item never fails the batch:
        it comes back as :class:`Failed`. A failure of the whole request raises
        :class:`TransientError` (safe to retry: creations are idempotent on the natural key) or
        :class:`PermanentError`/:class:`AuthError`.
        """
        ...

    async def aclose(self) -> None:
        """Release connections. The adapter is unusable afterwards."""
        ...


@runtime_checkable
class SnapshotInParts(Protocol):
    """Optional capability: a snapshot handed over part by part as it is read, so that a large
    side's records are never all in memory at once (the engine indexes each part as it comes).
    Implementations: ``adapters/woocommerce``."""

    async def snapshot_parts(
        self, kind: str, since: str | None, take: Callable[[list[Seen]], Awaitable[None]]
    ) -> Snapshot:
        """As :meth:`Adapter.snapshot`, each part of the records given to ``take`` (in reading
        order) as soon as it is converted; ``take`` may empty the list. The snapshot returned
        carries the cursor and completeness, and no records."""
        ...


async def gathered(parts: SnapshotInParts, kind: str, since: str | None) -> Snapshot:
    """A read in parts gathered whole: :meth:`Adapter.snapshot` for an adapter that reads in
    parts (one code path for both)."""
    records: list[Seen] = []

    async def keep(part: list[Seen]) -> None:
        records.extend(part)

    read = await parts.snapshot_parts(kind, since, keep)
    return Snapshot(records=records, cursor=read.cursor, complete=read.complete)


async def in_one_part(whole: Snapshot, take: Callable[[list[Seen]], Awaitable[None]]) -> Snapshot:
    """A whole snapshot handed over as one part: :meth:`SnapshotInParts.snapshot_parts` for a
    kind its adapter does not read in parts."""
    await take(whole.records)
    return Snapshot(records=[], cursor=whole.cursor, complete=whole.complete)


class AdapterFactory(Protocol):
    """Builds an adapter from its settings table in the connection's TOML file."""

    def __call__(self, settings: Mapping[str, Any], *, source: str) -> Adapter: ...


@runtime_checkable
class OrderImport(Protocol):
    """Optional capability of an ERP adapter: web orders imported exactly once.

    The engine (:mod:`engine.orders.importer`) writes an intent to Postgres, looks the external
    reference up with :meth:`find_orders_by_reference`, and only when it is absent calls
    :meth:`create_sale_order` then :meth:`confirm_sale_order`. None of these methods needs to
    be idempotent on its own; the reference must be stored on the document and be searchable.
    Implementations: ``adapters/odoo/order_import.py``.
    """

    async def find_orders_by_reference(self, references: Sequence[str]) -> dict[str, ErpOrder]:
        """The sale orders carrying these external references; absent ones are left out."""
        ...

    async def create_sale_order(self, order: SaleOrder) -> ErpOrder:
        """Create one sale order (unconfirmed), its customer matched by e-mail or created;
        returns it (its id, state and, when the ERP computes one, its total). Unknown SKU or
        tax: :class:`PermanentError` naming it."""
        ...

    async def confirm_sale_order(self, ref: str) -> None:
        """Confirm a sale order; one already confirmed (or further) is left as it is."""
        ...

    async def list_web_orders(self, prefix: str, since: datetime | None) -> list[ErpOrder]:
        """Every sale order whose external reference starts with ``prefix`` (for the audit)."""
        ...

    async def order_progress(self, references: Sequence[str]) -> list[OrderProgress]:
        """Delivery, invoices and credit notes of the orders with these references."""
        ...

    async def create_credit_note(
        self, reference: str, amount: Decimal, reason: str, shop_refund: str
    ) -> str:
        """Record a shop refund as a posted credit note of the order; returns its number.
        Idempotent on ``shop_refund``."""
        ...


@runtime_checkable
class OrderPricing(Protocol):
    """Optional capability of an ERP adapter: how it rounds a sale order's amounts, so the
    engine sends lines whose total the ERP computes equal to the shop's."""

    async def order_pricing(self) -> ErpPricing:
        """Tax rates by code, unit price digits, per-line or per-document tax rounding."""
        ...


@runtime_checkable
class OrderNotes(Protocol):
    """Optional capability of a shop adapter: the customer notes an order already has, so a
    note sent by a run that stopped before recording it is not sent again."""

    async def customer_notes(self, ref: str) -> list[str]:
        """The texts of the customer notes of the order with shop id ``ref``."""
        ...


@runtime_checkable
class ShipmentTracking(Protocol):
    """Optional capability of a shop adapter whose shipments are records of their own: the
    parcel's carrier and tracking number go on the shipment, not only in a note."""

    async def fulfil(self, ref: str, carrier: str | None, number: str | None) -> None:
        """Mark every open item of the order shipped, with this tracking (left when done)."""
        ...


@runtime_checkable
class OrderCancel(Protocol):
    """Optional capability of an ERP adapter: cancel an imported sale order."""

    async def cancel_sale_order(self, ref: str) -> None:
        """Cancel the sale order with ERP id ``ref`` (one already cancelled is left)."""
        ...


@runtime_checkable
class OrderFeedback(Protocol):
    """Optional capability of a shop adapter: an order's status, notes and refunds."""

    async def set_order_status(self, ref: str, status: str) -> None:
        """Move the order with shop id ``ref`` to ``status``."""
        ...

    async def add_order_note(self, ref: str, note: str, *, customer: bool) -> None:
        """Add a note to the order; ``customer`` notes are shown (and mailed) to the buyer."""
        ...

    async def list_refunds(self, ref: str) -> list[ShopRefund]:
        """The refunds recorded on the order."""
        ...

    async def create_refund(self, ref: str, amount: Decimal, reason: str) -> str:
        """Record a refund without moving money (the ERP or a person did); returns its id."""
        ...
