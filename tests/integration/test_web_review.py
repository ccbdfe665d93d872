"""Reviewing conflicts and dead letters through the pages, end to end: real cycles between two
in-memory platforms, real PostgreSQL, real HTTP on loopback. A resolution made on the page is
written to both sides by the next cycle, and the review trail keeps who, when and what."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from adapters.base import Side
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform
from canonical.models import Product
from engine.config import Config, jobs_of, parse_config
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store
from web.app import create_app
from web.review_store import ReviewStore, Target
from web.server import running
from web.values import BadValue, parse_typed

TOKEN = "review-token-0123456789"
CONFIG = """
[connections.main.erp]
type = "memory"
[connections.main.shop]
type = "memory"
[connections.main.jobs.products]
kind = "product"
every = "1h"
[connections.main.rules.product]
default = { owner = "erp" }
fields.name = { owner = "both", policy = "manual" }
fields.description = { owner = "both", policy = "manual" }
fields.price = { owner = "both", policy = "manual" }
"""


class Shop:
    """An ERP and a shop in memory, and the configured job that reconciles them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.erp = MemoryPlatform()
        self.shop = MemoryPlatform()
        self.refuse: dict[str, str] = {}

    async def cycle(self, store: Store) -> CycleResult:
        connection = self.config.connections["main"]
        adapters: dict[Side, MemoryAdapter] = {
            "erp": MemoryAdapter(self.erp),
            "shop": MemoryAdapter(self.shop),
        }
        adapters["shop"].refuse.update(self.refuse)
        return await run_cycle(
            store,
            connection="main",
            job_name="products",
            job=jobs_of(connection)["products"],
            rules=connection.rules["product"],
            adapters=dict(adapters),
            full=True,
        )


@pytest.fixture
async def shop(store: Store) -> Shop:
    """Five articles; a week of edits on both sides leaves conflicts on names, descriptions and
    one price."""
    pair = Shop(parse_config(CONFIG, source="test.toml"))
    for n in range(1, 6):
        article = Product(sku=f"SKU-{n}", name=f"Chair {n}", price=Decimal("10"))
        pair.erp.put(article)
        pair.shop.put(article)
    await pair.cycle(store)
    for n in range(1, 5):
        pair.erp.edit("product", f"SKU-{n}", name=f"Chair {n} (ERP)")
        pair.shop.edit("product", f"SKU-{n}", name=f"Chair {n} (web)")
    pair.erp.edit("product", "SKU-1", description="Oak, 4 legs")
    pair.shop.edit("product", "SKU-1", description="<p>Solid oak</p>")
    pair.erp.edit("product", "SKU-5", price="11")
    pair.shop.edit("product", "SKU-5", price="12")
    result = await pair.cycle(store)
    assert result.counts["conflicts"] == 6
    return pair


@pytest.fixture
async def url(store: Store, shop: Shop) -> AsyncIterator[str]:
    app = create_app(store, token=TOKEN, config=shop.config)
    async with running(app, "127.0.0.1", 0) as base:
        yield base


@pytest.fixture
async def client(url: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{url}/login") as response:
            form = re.search(r'name="csrf" value="([^"]+)"', await response.text())
        assert form
        async with session.post(
            f"{url}/login", data={"csrf": form.group(1), "name": "Grace", "token": TOKEN}
        ) as response:
            assert response.status == 200
        yield session


async def page(client: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    """The page's HTML and its CSRF token."""
    async with client.get(url) as response:
        assert response.status == 200
        body = await response.text()
    found = re.search(r'name="csrf" value="([^"]+)"', body)
    assert found
    return body, found.group(1)


def targets(body: str) -> dict[str, str]:
    """The page's checkboxes: "key field" -> "id@version"."""
    boxes = re.findall(r'value="([^"]+)" form="bulk" aria-label="select ([^"]+)"', body)
    return {label: value for value, label in boxes}


async def by_field(store: Store) -> dict[tuple[str, str], int]:
    return {(r.key, r.field): r.id for r in await store.list_conflicts(status="open")}


async def test_the_page_groups_open_conflicts_with_their_values_reason_and_rule(
    client: aiohttp.ClientSession, url: str
) -> None:
    body, _ = await page(client, f"{url}/conflicts")
    assert "6 open conflicts" in body
    assert body.count("main · product") == 1
    assert "Chair 2 (ERP)" in body and "Chair 2 (web)" in body and "Chair 2" in body
    assert "changed on both sides" in body
    assert "owner both, policy manual (field rule)" in body
    assert "&lt;p&gt;Solid oak&lt;/p&gt;" in body
    assert len(targets(body)) == 6


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("field=description", {"SKU-1 description"}),
        ("field=price", {"SKU-5 price"}),
        ("search=sku-3", {"SKU-3 name"}),
        ("search=solid%20OAK", {"SKU-1 description"}),  # values are searched too
        ("kind=stock", set()),
        ("connection=other", set()),
    ],
)
async def test_filters_and_search_narrow_the_list(
    client: aiohttp.ClientSession, url: str, query: str, expected: set[str]
) -> None:
    body, _ = await page(client, f"{url}/conflicts?{query}")
    assert set(targets(body)) == expected


async def test_a_bulk_resolution_is_applied_to_both_sides_by_the_next_cycle(
    client: aiohttp.ClientSession, url: str, store: Store, shop: Shop
) -> None:
    body, csrf = await page(client, f"{url}/conflicts?field=name")
    picked = [targets(body)[f"SKU-{n} name"] for n in (1, 2, 3)]
    async with client.post(
        f"{url}/conflicts/resolve",
        data=[("csrf", csrf), ("op", "shop"), *[("id", p) for p in picked]],
    ) as response:
        assert "Resolved 3" in await response.text()

    await shop.cycle(store)

    for n in (1, 2, 3):
        assert shop.erp.fields("product", f"SKU-{n}")["name"] == f"Chair {n} (web)"
        assert shop.shop.fields("product", f"SKU-{n}")["name"] == f"Chair {n} (web)"
    assert shop.erp.fields("product", "SKU-4")["name"] == "Chair 4 (ERP)"  # still held
    left = await by_field(store)
    assert ("SKU-4", "name") in left and ("SKU-1", "name") not in left
    body, _ = await page(client, f"{url}/conflicts")
    assert "3 open conflicts" in body


async def test_a_typed_value_is_read_as_the_field_expects_and_reaches_both_sides(
    client: aiohttp.ClientSession, url: str, store: Store, shop: Shop
) -> None:
    body, csrf = await page(client, f"{url}/conflicts?field=price")
    async with client.post(
        f"{url}/conflicts/resolve",
        data={"csrf": csrf, "op": "value", "value": "11.50", "id": targets(body)["SKU-5 price"]},
    ) as response:
        assert "Resolved 1" in await response.text()
    await shop.cycle(store)
    assert shop.erp.fields("product", "SKU-5")["price"] == "11.5"
    assert shop.shop.fields("product", "SKU-5")["price"] == "11.5"


async def test_a_value_the_field_cannot_hold_is_refused_naming_the_field(
    client: aiohttp.ClientSession, url: str, store: Store
) -> None:
    body, csrf = await page(client, f"{url}/conflicts?field=price")
    async with client.post(
        f"{url}/conflicts/resolve",
        data={"csrf": csrf, "op": "value", "value": "cheap", "id": targets(body)["SKU-5 price"]},
    ) as response:
        text = await response.text()
    assert "Nothing resolved: price: &#39;cheap&#39; does not fit the field" in text
    assert ("SKU-5", "price") in await by_field(store)


async def test_a_conflict_changed_by_a_cycle_since_the_page_was_loaded_is_left_open(
    client: aiohttp.ClientSession, url: str, store: Store, shop: Shop
) -> None:
    body, csrf = await page(client, f"{url}/conflicts?field=name")
    seen = targets(body)["SKU-2 name"]
    shop.erp.edit("product", "SKU-2", name="Chair 2 (ERP, again)")
    await shop.cycle(store)  # refreshes the open conflict with the new ERP value

    async with client.post(
        f"{url}/conflicts/resolve", data={"csrf": csrf, "one": f"{seen}:erp"}
    ) as response:
        text = await response.text()

    assert "1 left as they were" in text
    row = await store.get_conflict(int(seen.partition("@")[0]))
    assert row is not None and row.status == "open" and row.erp == "Chair 2 (ERP, again)"


async def test_taking_the_suggestion_leaves_conflicts_without_one_open(
    store: Store, shop: Shop
) -> None:
    shop.erp.edit("product", "SKU-2", name="Chair 2")  # the ERP went back to the base
    await shop.cycle(store)
    review = ReviewStore(store)
    ids = await by_field(store)
    suggested = await store.get_conflict(ids["SKU-2", "name"])
    assert suggested is not None and suggested.suggested == "shop"

    done = await review.resolve(
        [Target(ids["SKU-2", "name"]), Target(ids["SKU-3", "name"])], take="suggested", by="Grace"
    )

    assert done == [ids["SKU-2", "name"]]
    await shop.cycle(store)
    assert shop.erp.fields("product", "SKU-2")["name"] == "Chair 2 (web)"


async def test_the_review_trail_keeps_who_when_and_what(
    client: aiohttp.ClientSession, url: str, store: Store, shop: Shop
) -> None:
    ids = await by_field(store)
    body, csrf = await page(client, f"{url}/conflicts?field=description")
    async with client.post(
        f"{url}/conflicts/resolve",
        data={"csrf": csrf, "one": targets(body)["SKU-1 description"] + ":erp"},
    ):
        pass
    await shop.cycle(store)

    history = await ReviewStore(store).history(ids["SKU-1", "description"])
    assert [(e.action, e.actor) for e in history] == [
        ("opened", "cycle"),
        ("resolved", "Grace"),
        ("applied", "cycle"),
    ]
    resolved = history[1]
    assert resolved.detail["source"] == "erp" and resolved.detail["value"] == "Oak, 4 legs"
    assert resolved.detail["shop"] == "<p>Solid oak</p>"
    detail, _ = await page(client, f"{url}/conflicts/{ids['SKU-1', 'description']}")
    assert "Grace" in detail and "applied" in detail


async def test_the_cli_and_a_hand_written_update_leave_the_same_trail(
    store: Store, shop: Shop
) -> None:
    ids = await by_field(store)
    await store.resolve_conflict(ids["SKU-4", "name"], source="value", value="Chair", by="ops")
    history = await ReviewStore(store).history(ids["SKU-4", "name"])
    assert [(e.action, e.actor, e.detail.get("value")) for e in history][-1] == (
        "resolved",
        "ops",
        "Chair",
    )


async def test_the_status_page_lists_dead_letters_and_a_retry_is_marked_then_made(
    client: aiohttp.ClientSession, url: str, store: Store, shop: Shop
) -> None:
    shop.erp.edit("product", "SKU-3", price="15")
    shop.refuse["SKU-3"] = "product_invalid_price: <locked> by the shop"
    await shop.cycle(store)

    body, csrf = await page(client, f"{url}/status")
    assert "&lt;locked&gt; by the shop" in body
    assert "main / products" in body and "partial" in body
    letter = (await store.list_dead_letters("main"))[0]

    async with client.post(
        f"{url}/status/retry", data={"csrf": csrf, "one": str(letter.id)}
    ) as response:
        text = await response.text()
    assert "Retry asked for 1" in text and "waits for the next cycle" in text

    await shop.cycle(store)  # still refused
    body, _ = await page(client, f"{url}/status")
    assert "failed again after the retry asked by Grace" in body

    del shop.refuse["SKU-3"]
    await shop.cycle(store)
    assert shop.shop.fields("product", "SKU-3")["price"] == "15"
    body, _ = await page(client, f"{url}/status")
    assert "No dead letter" in body
    assert "Grace" in body  # the retry stays in the recent decisions


async def test_the_export_link_downloads_what_the_filters_show(
    client: aiohttp.ClientSession, url: str
) -> None:
    async with client.get(f"{url}/conflicts/export?format=csv&field=price") as response:
        assert response.headers["Content-Disposition"] == 'attachment; filename="conflicts.csv"'
        lines = (await response.text()).splitlines()
    assert len(lines) == 2 and ",SKU-5,price,10,11,12," in lines[1]
    async with client.get(f"{url}/conflicts/export?format=xml") as response:
        assert response.status == 400


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("name", "10", "10"),
        ("name", '"Blue"', "Blue"),
        ("name", '""', ""),
        ("price", "10.50", "10.5"),
        ("price", "null", None),
        ("active", "false", False),
        ("category", '["Chairs", "Oak"]', ["Chairs", "Oak"]),
    ],
)
def test_typed_values_take_the_fields_own_spelling(field: str, typed: str, stored: object) -> None:
    assert parse_typed("product", field, typed) == stored


@pytest.mark.parametrize(("field", "typed"), [("price", "ten"), ("active", "maybe"), ("name", " ")])
def test_typed_values_that_do_not_fit_are_refused(field: str, typed: str) -> None:
    with pytest.raises(BadValue, match=field):
        parse_typed("product", field, typed)
