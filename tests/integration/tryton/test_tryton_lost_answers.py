"""Creations in a real Tryton whose answer is lost: Tryton carries the call out, the answer
that comes back is a 502. Such a call is sent once, the batch fails as transient, and the next
attempt finds what it made instead of making it again: one record, not two."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web
from integration.tryton.tryton_server import PASSWORD, TrytonService
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import rpc

from adapters import simkit
from adapters.base import Create, Done, Operation, TransientError, Update
from adapters.http import HttpClient
from adapters.tryton.adapter import TrytonAdapter, create
from adapters.tryton.client import TrytonClient
from canonical.fields import to_fields
from canonical.models import Customer, Product, Variant
from canonical.orders import SaleLine, SaleOrder

__all__ = ["rpc"]  # the fixture, shared


class LossyProxy:
    """Passes every call on to Tryton; a call named in ``lose`` is carried out by Tryton,
    then answered 502 (once per mention)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lose: list[str] = []
        self.sent: list[str] = []
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{path:.*}", self._forward)
        app.on_cleanup.append(self._close)
        return app

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        plain = gzip.decompress(body) if request.headers.get("Content-Encoding") == "gzip" else body
        method = str(json.loads(plain)["method"])
        self.sent.append(method)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        forwarded = {
            k: v
            for k, v in request.headers.items()
            if k in ("Authorization", "Content-Type", "Content-Encoding")
        }
        async with self._session.post(
            self.upstream + request.path, data=body, headers=forwarded
        ) as answer:
            reply, status = await answer.read(), answer.status
        if method in self.lose:
            self.lose.remove(method)
            return web.json_response({"error": "bad gateway"}, status=502)
        return web.Response(body=reply, status=status, content_type="application/json")

    async def _close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    def count(self, method: str) -> int:
        return self.sent.count(method)


@pytest.fixture
async def proxy(tryton: TrytonService) -> AsyncIterator[tuple[LossyProxy, str]]:
    lossy = LossyProxy(tryton.url)
    async with simkit.serve(lossy.app()) as url:
        yield lossy, url


@pytest.fixture
async def adapter(
    tryton: TrytonService, proxy: tuple[LossyProxy, str]
) -> AsyncIterator[TrytonAdapter]:
    made = create(tryton.settings(url=proxy[1]), source="test.toml")
    try:
        yield made
    finally:
        await made.aclose()


def article(sku: str, **extra: object) -> Create:
    record = Product(sku=sku, name=f"Article {sku}", price=Decimal("10"), **extra)  # type: ignore[arg-type]
    return Create(key=sku, fields=to_fields(record))


async def attempts(
    adapter: TrytonAdapter, lossy: LossyProxy, kind: str, op: Operation, *lost: str
) -> None:
    """Apply ``op`` as the engine retries a batch: each attempt loses the answer to the next
    call of ``lost`` and fails as transient; the attempt after them is done."""
    lossy.lose += lost
    for _ in lost:
        with pytest.raises(TransientError, match="HTTP 502"):
            await adapter.apply(kind, [op])
    [done] = await adapter.apply(kind, [op])
    assert isinstance(done, Done), done


async def test_an_article_with_variants_is_made_once(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], rpc: TrytonClient
) -> None:
    lossy, _ = proxy
    op = article("LOST-1", variants=(Variant(sku="LOST-1-S"), Variant(sku="LOST-1-L")))

    await attempts(adapter, lossy, "product", op, "model.product.template.create")

    assert lossy.count("model.product.template.create") == 1
    assert len(await rpc.search("product.template", [["code", "=", "LOST-1"]])) == 1
    assert len(await rpc.search("product.product", [["code", "like", "LOST-1-%"]])) == 2


async def test_a_new_category_is_made_once(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], rpc: TrytonClient
) -> None:
    lossy, _ = proxy
    op = article("LOST-CAT", category=("Lost", "Found"))

    await attempts(adapter, lossy, "product", op, "model.product.category.create")

    assert lossy.count("model.product.category.create") == 2  # "Lost", lost; then "Found"
    assert len(await rpc.search("product.category", [["name", "=", "Lost"]])) == 1
    [seen] = await adapter.fetch("product", ["LOST-CAT"])
    assert seen.record.category == ("Lost", "Found")  # type: ignore[attr-defined]


async def test_variants_added_by_a_write_are_made_once(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], tryton: TrytonService, rpc: TrytonClient
) -> None:
    lossy, url = proxy
    await adapter.apply("product", [article("ADD")])
    [template] = await rpc.search("product.template", [["code", "=", "ADD"]])
    http = HttpClient(url, requests_per_second=1000, max_concurrency=1, backoff=0.001)
    client = TrytonClient(http, database=tryton.database, login="admin", password=PASSWORD)
    try:
        lossy.lose.append("model.product.template.write")
        variant = {"products": [["create", [{"suffix_code": "-B"}]]]}
        with pytest.raises(TransientError, match="HTTP 502"):
            await client.execute("product.template", "write", [template], variant)
        lossy.lose.append("model.product.template.write")
        await client.execute("product.template", "write", [template], {"name": "Renamed"})
    finally:
        await client.aclose()

    # The write adding a variant went once; a plain write is sent again after the same 502.
    assert lossy.count("model.product.template.write") == 3
    assert len(await rpc.search("product.product", [["code", "=", "ADD-B"]])) == 1


async def test_a_customer_is_made_once(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], rpc: TrytonClient
) -> None:
    lossy, _ = proxy
    customer = Customer(email="lost@example.com", first_name="Lou", last_name="Lost")
    op = Create(key=customer.email, fields=to_fields(customer))

    await attempts(adapter, lossy, "customer", op, "model.party.party.create")

    assert lossy.count("model.party.party.create") == 1
    found = await rpc.search("party.contact_mechanism", [["value", "=", "lost@example.com"]])
    assert len(found) == 1


async def test_a_stock_count_is_taken_once(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], rpc: TrytonClient
) -> None:
    lossy, _ = proxy
    await adapter.apply("product", [article("LOST-STK")])
    count = Update(key="LOST-STK", ref="", fields={"quantity": "6"})

    await attempts(adapter, lossy, "stock", count, "model.stock.inventory.create")

    assert lossy.count("model.stock.inventory.create") == 2  # the lost one, then the count
    counted = await rpc.search("stock.inventory", [["lines.product.code", "=", "LOST-STK"]])
    [row] = await rpc.read("stock.inventory", counted, ["state"])
    assert row["state"] == "done"
    [seen] = await adapter.fetch("stock", ["LOST-STK"])
    assert seen.record.quantity == Decimal(6)  # type: ignore[attr-defined]


async def test_a_customer_s_price_list_and_its_line_are_made_once(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], rpc: TrytonClient
) -> None:
    lossy, _ = proxy
    await adapter.apply("product", [article("LOST-PRC")])
    fay = Customer(email="fay@example.com", first_name="Fay", last_name="Lost")
    await adapter.apply("customer", [Create(key=fay.email, fields=to_fields(fay))])
    key = "LOST-PRC|customer:fay@example.com|1"
    op = Create(key=key, fields={"sku": "LOST-PRC", "amount": "8", "customer": fay.email})

    # The list's answer is lost; the next attempt takes the list up and loses the line's answer.
    lost = ("model.product.price_list.create", "model.product.price_list.line.create")
    await attempts(adapter, lossy, "price", op, *lost)

    assert lossy.count("model.product.price_list.create") == 1
    assert lossy.count("model.product.price_list.line.create") == 1
    [price_list] = await rpc.search("product.price_list", [["name", "=", "Prices of Fay Lost"]])
    lines = await rpc.search("product.price_list.line", [["price_list", "=", price_list]])
    assert len(lines) == 1
    prices = {s.record.natural_key(): s for s in (await adapter.snapshot("price", None)).records}
    assert prices[key].record.amount == Decimal("8")  # type: ignore[attr-defined]


async def test_a_sale_is_made_once_and_found_by_its_reference(
    adapter: TrytonAdapter, proxy: tuple[LossyProxy, str], rpc: TrytonClient
) -> None:
    lossy, _ = proxy
    await adapter.apply("product", [article("LOST-ORD", tax_code=TAX_NAME)])
    order = SaleOrder(
        reference="WEB-LOST",
        customer=Customer(email="gus@example.com", first_name="Gus", last_name="Lost"),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        currency="EUR",
        lines=(
            SaleLine(sku="LOST-ORD", name="Article", quantity=Decimal(1), unit_price=Decimal("10")),
        ),
    )
    lossy.lose.append("model.sale.sale.create")

    with pytest.raises(TransientError, match="HTTP 502"):
        await adapter.create_sale_order(order)

    # The order import's next attempt looks the reference up before creating.
    found = await adapter.find_orders_by_reference(["WEB-LOST"])
    assert found["WEB-LOST"].duplicates == ()
    assert lossy.count("model.sale.sale.create") == 1
    assert len(await rpc.search("sale.sale", [["reference", "=", "WEB-LOST"]])) == 1
