"""Catalogue transforms: a connection's catalogue rules applied around the decision.

The decision compares canonical records by natural key. A transform maps one side's snapshot
into the shape the other side holds before the decision (ERP articles grouped into products with
variants, category paths built from ERP fields, ERP tax codes as shop tax classes, ERP stock as
stock available to sell), and maps the planned writes back into each platform's terms after it
(a grouped product's change split into its articles' changes, shop tax classes as ERP codes).
The rules themselves are pure and live in ``rules/``; this module only applies them to a cycle's
reads and operations. A record a rule refuses is held as a dead letter naming the reason.

Configured per connection::

    [connections.main.transforms.variants]
    pattern = '^(?P<parent>.+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z0-9]+)$'
    attributes = { colour = "Colour", size = "Size" }

    [connections.main.transforms.categories]
    levels = ["family", "sub_family", "range", "line"]
    codes = ["family_code", "sub_family_code", "range_code", "line_code"]

    [connections.main.transforms.taxes]
    products = { VAT20 = "standard", VAT5 = "reduced-rate" }

    [connections.main.transforms.prices]
    groups = { "Wholesale" = "wholesale_customer" }

    [connections.main.transforms.stock]
    available = true
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from adapters.base import (
    SIDES,
    Adapter,
    Archive,
    Create,
    Done,
    Failed,
    Fields,
    ItemResult,
    Operation,
    Side,
    Update,
)
from canonical.fields import from_fields, normalise_decimal, to_fields
from canonical.models import Order, Price, Product, Stock
from engine.cycle.decide import Observed
from engine.cycle.snapshot import Rejected, SideRead
from rules.categories import CODES_FIELD, CategoryError, category_path, with_root
from rules.prices import PriceError, PriceRule, check_prices, erp_group, shop_price
from rules.stock import SEEN_QUANTITY, StockRule, available, reserved
from rules.taxes import TaxError, erp_tax_code, shop_tax_class
from rules.transforms import Transforms
from rules.variants import (
    GROUP_REF,
    GROUPED_VARIANT_FIELDS,
    VariantRule,
    group_articles,
    group_key,
    split_changes,
)

if TYPE_CHECKING:
    from engine.store.state import Store


class Pipeline:
    """The transforms of one cycle (one kind). Keeps what the reads taught it (which articles
    make which product, each side's values at the snapshot) for mapping the writes back."""

    def __init__(
        self,
        transforms: Transforms,
        kind: str,
        adapters: Mapping[Side, Adapter],
        *,
        store: Store | None = None,
        connection: str = "",
    ) -> None:
        self._t = transforms
        self._kind = kind
        self._adapters = adapters
        self._store = store
        self._connection = connection
        self._groups: dict[str, dict[str, tuple[str, Fields]]] = {}
        self._codes: dict[str, tuple[str, ...]] = {}
        self._reserved: dict[str, Decimal] = {}
        self._reserved_known = False
        self._shop_stock: dict[str, Any] = {}
        self._price_keys: dict[str, str] = {}
        self._origin: dict[Side, dict[str, str]] = {"erp": {}, "shop": {}}
        self._settled: dict[Side, dict[str, ItemResult]] = {"erp": {}, "shop": {}}
        self._split: dict[Side, dict[str, list[str]]] = {"erp": {}, "shop": {}}

    def translated(self) -> frozenset[str]:
        """Fields these transforms translate between the two sides' own terms."""
        if self._kind == "product" and self._t.taxes is not None:
            return frozenset({"tax_code"})
        return frozenset()

    def built_variants(self) -> dict[Side, frozenset[str]]:
        """The variant fields grouping gives the ERP's variants: those of its articles' own
        fields the ERP carries (see :func:`engine.cycle.carried.uncarried`)."""
        if self._kind != "product" or self._t.variants is None:
            return {}
        carried = self._adapters["erp"].capabilities.fields.get("product")
        return {
            "erp": frozenset(f for f in GROUPED_VARIANT_FIELDS if carried is None or f in carried)
        }

    def keeps_records(self) -> bool:
        """Whether records reach the decision as read: no transform maps, groups or rewrites
        them (so a record's digest stands for its fields, see :mod:`engine.cycle.seen`)."""
        t = self._t
        if self._kind == "product":
            return (
                t.variants is None
                and t.categories is None
                and t.taxes is None
                and (t.prices is None)
            )
        if self._kind == "price":
            return t.prices is None
        if self._kind == "stock":
            return t.stock is None or not t.stock.available
        return True

    def full_read(self, side: Side) -> bool:
        """Whether ``side`` must be read in full: a group is only right with all its articles."""
        return side == "erp" and self._kind == "product" and self._t.variants is not None

    # -- reads ---------------------------------------------------------------------------

    async def on_snapshot(self, reads: dict[Side, SideRead], rejected: list[Rejected]) -> None:
        """Map both sides' snapshots, right after they were read."""
        await self.map_erp(reads["erp"], rejected)
        self.on_fetched(reads)

    async def map_erp(self, read: SideRead, rejected: list[Rejected]) -> None:
        """Map ERP records into the shop's shape: the snapshot, then any record fetched by key
        after it (a retried dead letter must be held or published as a read one would be)."""
        if self._kind == "product":
            self._erp_products(read, rejected)
        elif self._kind == "price" and self._t.prices is not None:
            self._erp_prices(read, self._t.prices, rejected)
        elif self._kind == "stock" and self._t.stock is not None and self._t.stock.available:
            await self._erp_stock(read, self._t.stock)

    def on_fetched(self, reads: dict[Side, SideRead]) -> None:
        """Map shop records (again, after an incremental read was completed by fetching)."""
        if self._kind == "product" and self._t.variants is not None:
            # Stock is the stock job's: a variant's count must not make products differ.
            for key, observed in reads["shop"].observed.items():
                variants = observed.fields.get("variants")
                if variants and any(v.get("stock") is not None for v in variants):
                    fields = {
                        **observed.fields,
                        "variants": [{**v, "stock": None} for v in variants],
                    }
                    reads["shop"].observed[key] = Observed(
                        fields=fields, modified_at=observed.modified_at
                    )
        if self._kind == "stock":
            self._shop_stock = {
                k: o.fields.get("quantity") for k, o in reads["shop"].observed.items()
            }

    def _article(self, article: Product) -> tuple[Product, tuple[str, ...]]:
        codes: tuple[str, ...] = ()
        if self._t.categories is not None:
            path = category_path(article, self._t.categories)
            article = msgspec.structs.replace(article, category=path.names)
            codes = path.codes
        if self._t.taxes is not None:
            code = shop_tax_class(article.tax_code, self._t.taxes, record=f"article {article.sku}")
            article = msgspec.structs.replace(article, tax_code=code)
        if self._t.prices is not None:
            check_prices(article)
        return article, codes

    def _erp_products(self, read: SideRead, rejected: list[Rejected]) -> None:
        t = self._t
        if t.variants is None and t.categories is None and t.taxes is None and t.prices is None:
            return
        articles: list[tuple[Product, Observed, str]] = []
        held: dict[str, str] = {}
        for key, observed in read.observed.items():
            try:
                record = from_fields("product", observed.fields)
            except msgspec.ValidationError as exc:
                held[key] = f"article {key}: {exc}"
                continue
            assert isinstance(record, Product)
            try:
                article, codes = self._article(record)
            except (CategoryError, TaxError, PriceError) as exc:
                parent = group_key(record, t.variants)[0] if t.variants else None
                held[parent or key] = str(exc)
                continue
            self._codes[key] = codes
            articles.append((article, observed, read.refs[key]))
        if t.variants is None:
            read.observed = {
                a.sku: Observed(fields=to_fields(a), modified_at=o.modified_at)
                for a, o, _ in articles
            }
            read.refs = {a.sku: r for a, _, r in articles}
        else:
            self._group(read, articles, held, t.variants)
        rejected.extend(Rejected("erp", key, reason) for key, reason in sorted(held.items()))

    def _group(
        self,
        read: SideRead,
        articles: list[tuple[Product, Observed, str]],
        held: dict[str, str],
        rule: VariantRule,
    ) -> None:
        usable = [(a, o, r) for a, o, r in articles if group_key(a, rule)[0] not in held]
        drop = self._t.categories.consumed() if self._t.categories else frozenset()
        grouped = group_articles([a for a, _, _ in usable], rule, drop=drop)
        held.update(grouped.problems)
        by_sku = {a.sku: (a, o, r) for a, o, r in usable}
        observed: dict[str, Observed] = {}
        refs: dict[str, str] = {}
        for product in grouped.products:
            members = grouped.members.get(product.sku)
            if members is None:
                _, seen, ref = by_sku[product.sku]
                observed[product.sku] = Observed(
                    fields=to_fields(product), modified_at=seen.modified_at
                )
                refs[product.sku] = ref
                continue
            stamps = [by_sku[m][1].modified_at for m in members]
            known = [s for s in stamps if s is not None]
            observed[product.sku] = Observed(
                fields=to_fields(product), modified_at=max(known) if known else None
            )
            refs[product.sku] = GROUP_REF + product.sku
            self._codes[product.sku] = self._codes.get(members[0], ())
            self._groups[product.sku] = {
                m: (by_sku[m][2], to_fields(by_sku[m][0])) for m in members
            }
        read.observed = observed
        read.refs = refs

    def _erp_prices(self, read: SideRead, rule: PriceRule, rejected: list[Rejected]) -> None:
        observed: dict[str, Observed] = {}
        refs: dict[str, str] = {}
        for key, seen in read.observed.items():
            try:
                price = from_fields("price", seen.fields)
                assert isinstance(price, Price)
                mapped = shop_price(price, rule)
            except (PriceError, msgspec.ValidationError) as exc:
                rejected.append(Rejected("erp", key, str(exc)))
                continue
            new_key = mapped.natural_key()
            self._price_keys[new_key] = key
            observed[new_key] = Observed(fields=to_fields(mapped), modified_at=seen.modified_at)
            refs[new_key] = read.refs[key]
        read.observed, read.refs = observed, refs

    async def _erp_stock(self, read: SideRead, rule: StockRule) -> None:
        if not self._reserved_known:  # once a cycle: the shop's orders are read once
            orders = await self._adapters["shop"].snapshot("order", None)
            candidates = [
                s.record
                for s in orders.records
                if isinstance(s.record, Order) and s.record.status in rule.statuses
            ]
            numbers = sorted({o.number for o in candidates})
            imported = await self._reflected(numbers) if numbers else set()
            self._reserved = reserved(candidates, imported, rule.statuses)
            self._reserved_known = True
        for key, seen in list(read.observed.items()):
            if key not in self._reserved:
                continue
            stock = from_fields("stock", seen.fields)
            assert isinstance(stock, Stock)
            read.observed[key] = Observed(
                fields=to_fields(available(stock, self._reserved)), modified_at=seen.modified_at
            )

    async def _reflected(self, numbers: Sequence[str]) -> set[str]:
        """Orders the ERP's stock count already reflects. Imported ones: their import intent is
        done (the order import's record in Postgres), or the ERP holds them (imported by hand
        or before). For an ERP whose count is on hand, an imported order is reflected only
        once the ERP has delivered it: until then the shop must not sell its units again."""
        done: dict[str, str | None] = {}
        if self._store is not None:
            from engine.store.orders import OrderStore

            intents = await OrderStore(self._store).of_keys(self._connection, numbers)
            done = {
                key: intent.reference for key, intent in intents.items() if intent.state == "done"
            }
        reflected = set(done)
        erp = self._adapters["erp"]
        progress = getattr(erp, "order_progress", None)
        if done and erp.capabilities.sold_stock_leaves == "on-delivery" and progress is not None:
            references = sorted({ref for ref in done.values() if ref})
            states = {p.reference: p.state for p in await progress(references)}
            reflected = {key for key, ref in done.items() if states.get(ref or "") in _DELIVERED}
        rest = [n for n in numbers if n not in done]
        if rest:
            found = await erp.fetch("order", rest)
            reflected |= {s.record.natural_key() for s in found}
        return reflected

    # -- writes --------------------------------------------------------------------------

    def outgoing(
        self, operations: Mapping[Side, Sequence[Operation]], reads: Mapping[Side, SideRead]
    ) -> dict[Side, list[Operation]]:
        """The planned operations in each platform's terms."""
        out: dict[Side, list[Operation]] = {side: [] for side in SIDES}
        for side in SIDES:
            for op in operations[side]:
                try:
                    mapped = self._map(side, op)
                except (TaxError, PriceError, ValueError) as exc:
                    self._settled[side][op.key] = Failed(key=op.key, reason=f"held: {exc}")
                    continue
                if len(mapped) == 1 and op.key not in self._split[side]:
                    self._origin[side][mapped[0].key] = op.key
                out[side].extend(mapped)
        return out

    def _map(self, side: Side, op: Operation) -> list[Operation]:
        if side == "shop":
            return [self._to_shop(op)]
        if self._kind == "product" and op.key in self._groups:
            return self._ungroup(op)
        return [self._to_erp(op)]

    def _to_shop(self, op: Operation) -> Operation:
        if isinstance(op, Archive):
            return op
        fields = op.fields
        if self._kind == "product" and "category" in fields and self._codes.get(op.key):
            fields = {**fields, CODES_FIELD: list(self._codes[op.key])}
        elif (
            self._kind == "stock"
            and isinstance(op, Update)
            and self._t.stock is not None
            and self._t.stock.guard
            and self._shop_stock.get(op.key) is not None
        ):
            fields = {**fields, SEEN_QUANTITY: self._shop_stock[op.key]}
        return msgspec.structs.replace(op, fields=fields)

    def _to_erp(self, op: Operation) -> Operation:
        if isinstance(op, Archive):
            if self._kind == "price" and op.key in self._price_keys:
                return Archive(key=self._price_keys[op.key], ref=op.ref)
            return op
        fields = dict(op.fields)
        record = f"{self._kind} {op.key}"
        if self._kind == "product" and self._t.taxes is not None and "tax_code" in fields:
            fields["tax_code"] = erp_tax_code(fields["tax_code"], self._t.taxes, record=record)
        if self._kind == "product" and self._t.categories is not None and "category" in fields:
            fields["category"] = with_root(fields["category"] or (), self._t.categories)
        if self._kind == "price" and self._t.prices is not None and fields.get("group"):
            fields["group"] = erp_group(fields["group"], self._t.prices, record=record)
        if self._kind == "stock" and "quantity" in fields and self._reserved.get(op.key):
            # The shop's count excludes what its unimported orders took; the ERP's must not.
            total = Decimal(str(fields["quantity"])) + self._reserved[op.key]
            fields["quantity"] = normalise_decimal(total)
        key = op.key
        if self._kind == "price":
            # The ERP's key spells the group (and e-mail) its own way.
            key = self._price_keys.get(op.key) or key
            if isinstance(op, Create):
                key = from_fields("price", fields).natural_key()
        return msgspec.structs.replace(op, key=key, fields=fields)

    def _ungroup(self, op: Operation) -> list[Operation]:
        members = self._groups[op.key]
        if isinstance(op, Archive):
            ops: list[Operation] = [Archive(key=sku, ref=ref) for sku, (ref, _) in members.items()]
        elif isinstance(op, Create):
            raise ValueError(f"{op.key} is a group of ERP articles; it cannot be created as one")
        else:
            current = {sku: fields for sku, (_, fields) in members.items()}
            changes = split_changes(op.fields, current)
            ops = [
                self._to_erp(Update(key=sku, ref=members[sku][0], fields=fields))
                for sku, fields in sorted(changes.items())
            ]
        if not ops:
            self._settled["erp"][op.key] = Done(key=op.key, ref=GROUP_REF + op.key)
        self._split["erp"][op.key] = [o.key for o in ops]
        return ops

    def fold(
        self, results: Mapping[Side, Mapping[str, ItemResult]]
    ) -> dict[Side, dict[str, ItemResult]]:
        """The push's results by the planned operations' keys (a grouped product's result is
        its articles': done when all were written, else the first failure)."""
        out: dict[Side, dict[str, ItemResult]] = {}
        for side in SIDES:
            got = dict(results.get(side, {}))
            folded: dict[str, ItemResult] = {}
            for parent, keys in self._split[side].items():
                parts = [got.pop(k) for k in keys if k in got]
                failed = next((p for p in parts if isinstance(p, Failed)), None)
                if failed is not None:
                    folded[parent] = Failed(
                        key=parent,
                        reason=f"article {failed.key}: {failed.reason}",
                        transient=failed.transient,
                    )
                elif parts:
                    folded[parent] = Done(key=parent, ref=GROUP_REF + parent)
            origin = self._origin[side]
            for key, result in got.items():
                planned = origin.get(key, key)
                folded[planned] = msgspec.structs.replace(result, key=planned)
            folded.update(self._settled[side])
            out[side] = folded
        return out


_DELIVERED = frozenset({"shipped", "done"})
"""ERP order states (:class:`~canonical.orders.OrderProgress`) once every delivery is done."""
