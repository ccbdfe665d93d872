"""The Odoo simulator over real HTTP: ORM semantics and Odoo's error shapes on both protocols."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters import simkit
from adapters.odoo.simulator.app import create_app, store_of
from adapters.odoo.simulator.seed import warehouse_location
from adapters.odoo.simulator.store import OdooStore

KEY = "odoo-test-key"


class Odoo:
    """A raw client for both endpoints of one running simulator."""

    def __init__(self, url: str, session: aiohttp.ClientSession, store: OdooStore) -> None:
        self.url = url
        self.session = session
        self.store = store

    async def json2(
        self, model: str, method: str, body: dict[str, Any], *, key: str = KEY
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"bearer {key}", "X-Odoo-Database": "odoo"}
        async with self.session.post(
            f"{self.url}/json/2/{model}/{method}", json=body, headers=headers
        ) as response:
            return response.status, await response.json()

    async def ok(self, model: str, method: str, **body: Any) -> Any:
        status, payload = await self.json2(model, method, body)
        assert status == 200, payload
        return payload

    async def rpc(self, service: str, method: str, *args: Any) -> tuple[int, Any]:
        envelope = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": 7,
        }
        async with self.session.post(f"{self.url}/jsonrpc", json=envelope) as response:
            return response.status, await response.json()


@pytest.fixture
async def odoo() -> AsyncIterator[Odoo]:
    app = create_app(products=60, seed=3)
    async with simkit.serve(app) as url, aiohttp.ClientSession() as session:
        yield Odoo(url, session, store_of(app))


async def test_same_seed_gives_same_catalogue() -> None:
    first = store_of(create_app(products=40, seed=9)).tables["product.product"]
    again = store_of(create_app(products=40, seed=9)).tables["product.product"]
    other = store_of(create_app(products=40, seed=10)).tables["product.product"]
    assert len(first) == 40
    assert first == again
    assert first != other


async def test_search_read_domain_order_limit_offset(odoo: Odoo) -> None:
    fields = ["default_code", "list_price", "write_date"]
    cheap = await odoo.ok(
        "product.product",
        "search_read",
        domain=[["list_price", "<", 100]],
        fields=fields,
        order="list_price desc, id asc",
    )
    prices = [row["list_price"] for row in cheap]
    assert prices and all(p < 100 for p in prices)
    assert prices == sorted(prices, reverse=True)
    assert set(cheap[0]) == {"id", *fields}

    everything = await odoo.ok("product.product", "search", domain=[], order="id asc")
    page = await odoo.ok(
        "product.product", "search_read", domain=[], fields=["id"], offset=10, limit=5
    )
    assert [row["id"] for row in page] == everything[10:15]
    count = await odoo.ok("product.product", "search_count", domain=[])
    assert count == len(everything) == 60


async def test_domain_operators_and_prefix_notation(odoo: Odoo) -> None:
    store = odoo.store
    a = store.add("product.product", name="Alpha Lamp", default_code="ZZ-A", list_price=10)
    b = store.add("product.product", name="Beta Lamp", default_code="ZZ-B", list_price=20)
    c = store.add("product.product", name="Gamma Mug", default_code="ZZ-C", list_price=30)

    async def ids(domain: list[Any]) -> set[int]:
        found = await odoo.ok("product.product", "search", domain=domain)
        return set(found) & {a, b, c}

    assert await ids([["default_code", "in", ["ZZ-A", "ZZ-C"]]]) == {a, c}
    assert await ids([["default_code", "=like", "ZZ-%"], ["name", "ilike", "lamp"]]) == {a, b}
    assert await ids(["|", ["default_code", "=", "ZZ-A"], ["list_price", ">=", 30]]) == {a, c}
    assert await ids(["!", ["name", "ilike", "lamp"], ["default_code", "like", "ZZ"]]) == {c}
    assert await ids([["default_code", "not in", ["ZZ-A"]], ["list_price", "<=", 20]]) == {b}
    assert await ids([["default_code", "=like", "ZZ-%"], ["list_price", "!=", 20]]) == {a, c}


async def test_an_indexed_in_leaf_finds_what_the_domain_compiler_finds(odoo: Odoo) -> None:
    # An [field, "in", values] leaf among leaves joined by an implicit "and" takes the
    # simulator's indexed path, the other leaves tested on the rows it finds; written with an
    # explicit "|" or "&" the same domain is a scan of every row: both must agree.
    templates = await odoo.ok("product.template", "search", domain=[])
    some = [*templates[:7], templates[-1], 999_999]
    for field, values in (
        ("product_tmpl_id", some),
        ("default_code", ["ZZ-none", False]),
        ("product_tmpl_id", []),
    ):
        leaf = [field, "in", values]
        indexed = await odoo.ok("product.product", "search", domain=[leaf])
        scanned = await odoo.ok("product.product", "search", domain=["|", leaf, ["id", "=", 0]])
        assert indexed == scanned
        left_out = ["id", "!=", indexed[0] if indexed else 0]
        narrowed = await odoo.ok("product.product", "search", domain=[leaf, left_out])
        assert narrowed == [pid for pid in indexed if pid != left_out[2]]
        both = await odoo.ok("product.product", "search", domain=["&", leaf, left_out])
        assert narrowed == both
    variants = await odoo.ok("product.product", "search", domain=[["product_tmpl_id", "in", some]])
    assert len(variants) >= 8


async def test_many2one_values_and_false_for_empty(odoo: Odoo) -> None:
    pid = odoo.store.add("product.product", name="Bare", default_code="BARE-1")
    [row] = await odoo.ok(
        "product.product",
        "read",
        ids=[pid],
        fields=["barcode", "categ_id", "product_tmpl_id", "description_sale", "display_name"],
    )
    assert row["barcode"] is False and row["description_sale"] is False
    assert row["categ_id"] is False
    assert row["product_tmpl_id"][1] == "Bare"
    assert row["display_name"] == "[BARE-1] Bare"
    seeded = await odoo.ok(
        "product.product", "search_read", domain=[], fields=["categ_id"], limit=1
    )
    assert seeded[0]["categ_id"][1].startswith("All / ")


async def test_archived_records_hidden_unless_asked(odoo: Odoo) -> None:
    pid = odoo.store.product_id("SKU-000001")
    odoo.store.edit("product.product", pid, active=False)
    visible = await odoo.ok("product.product", "search", domain=[])
    everything = await odoo.ok(
        "product.product", "search", domain=[], context={"active_test": False}
    )
    assert pid not in visible and pid in everything


async def test_write_bumps_write_date_and_create_takes_a_list(odoo: Odoo) -> None:
    pid = odoo.store.product_id("SKU-000002")
    before = odoo.store.get("product.product", pid, "write_date")["write_date"]
    assert await odoo.ok("product.product", "write", ids=[pid], vals={"weight": 2.5}) is True
    after = odoo.store.get("product.product", pid, "write_date", "weight")
    assert after["write_date"] > before and after["weight"] == 2.5
    ids = await odoo.ok(
        "product.product",
        "create",
        vals_list=[{"name": "N1", "default_code": "N-1"}, {"name": "N2", "default_code": "N-2"}],
    )
    assert len(ids) == 2
    assert odoo.store.get("product.product", ids[1], "default_code")["default_code"] == "N-2"


async def test_json2_errors_in_odoo_shape(odoo: Odoo) -> None:
    status, body = await odoo.json2(
        "product.product", "create", {"vals_list": [{"name": "Dup", "default_code": "SKU-000001"}]}
    )
    assert status == 422
    assert body["name"] == "odoo.exceptions.ValidationError"
    assert "SKU-000001" in body["message"] and body["arguments"] == [body["message"]]
    assert {"context", "debug"} <= set(body)

    status, body = await odoo.json2(
        "product.product", "search_read", {"domain": [["no_such_field", "=", 1]]}
    )
    # An invalid field escapes Odoo as a ValueError: an internal error (500), named in the body.
    assert status == 500 and "no_such_field" in body["message"]
    assert body["name"] == "builtins.ValueError"

    status, body = await odoo.json2("product.product", "write", {"ids": [999999], "vals": {}})
    assert status == 404 and body["name"] == "odoo.exceptions.MissingError"

    status, body = await odoo.json2("no.such.model", "search", {})
    assert status == 404


async def test_atomic_create_leaves_nothing_behind(odoo: Odoo) -> None:
    count = len(odoo.store.tables["product.product"])
    status, _ = await odoo.json2(
        "product.product",
        "create",
        {"vals_list": [{"name": "Fine", "default_code": "OK-1"}, {"default_code": "NO-NAME"}]},
    )
    assert status == 422
    assert len(odoo.store.tables["product.product"]) == count
    assert "OK-1" not in odoo.store.by_code


async def test_json2_refuses_a_wrong_key(odoo: Odoo) -> None:
    status, body = await odoo.json2("product.product", "search", {}, key="wrong")
    assert status == 401
    assert body["name"] == "werkzeug.exceptions.Unauthorized"


async def test_jsonrpc_login_and_execute_kw(odoo: Odoo) -> None:
    _, reply = await odoo.rpc("common", "login", "odoo", "admin", "wrong")
    assert reply["result"] is False
    _, reply = await odoo.rpc("common", "authenticate", "odoo", "admin", "admin", {})
    uid = reply["result"]
    assert isinstance(uid, int) and uid > 0

    _, reply = await odoo.rpc(
        "object",
        "execute_kw",
        "odoo",
        uid,
        "admin",
        "product.product",
        "search_read",
        [[["default_code", "=", "SKU-000003"]]],
        {"fields": ["default_code"]},
    )
    assert [r["default_code"] for r in reply["result"]] == ["SKU-000003"]

    _, reply = await odoo.rpc(
        "object", "execute_kw", "odoo", uid, "admin", "res.partner", "create",
        [{"name": "Solo", "email": "solo@example.com"}], {},
    )  # fmt: skip
    assert isinstance(reply["result"], int)


async def test_jsonrpc_errors_come_with_http_200(odoo: Odoo) -> None:
    status, reply = await odoo.rpc(
        "object", "execute_kw", "odoo", 2, "wrong", "product.product", "search", [[]], {}
    )
    assert status == 200
    assert reply["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"

    status, reply = await odoo.rpc(
        "object", "execute_kw", "odoo", 2, "admin", "product.product", "create",
        [[{"name": "Dup", "default_code": "SKU-000001"}]], {},
    )  # fmt: skip
    assert status == 200 and reply["id"] == 7
    error = reply["error"]
    assert error["code"] == 200 and error["message"] == "Odoo Server Error"
    assert error["data"]["name"] == "odoo.exceptions.ValidationError"
    assert "SKU-000001" in error["data"]["message"] and error["data"]["debug"]


async def test_inventory_mode_moves_quantity(odoo: Odoo) -> None:
    store = odoo.store
    pid = store.product_id("SKU-000004")
    location = warehouse_location(store)
    [quant] = await odoo.ok(
        "stock.quant",
        "create",
        vals_list=[{"product_id": pid, "location_id": location, "inventory_quantity": 42}],
    )
    status, body = await odoo.json2(
        "stock.quant", "write", {"ids": [quant], "vals": {"quantity": 1}}
    )
    assert status == 422 and body["name"] == "odoo.exceptions.UserError"
    await odoo.ok("stock.quant", "action_apply_inventory", ids=[quant])
    row = store.get("stock.quant", quant, "quantity", "inventory_quantity_set")
    assert row == {"id": quant, "quantity": 42.0, "inventory_quantity_set": False}


async def test_sale_order_confirm_and_amounts(odoo: Odoo) -> None:
    store = odoo.store
    partner = store.add("res.partner", name="Ann Lee", email="ann@example.com")
    pid = store.product_id("SKU-000005")
    tax = store.find("account.tax", [["name", "=", "VAT 20%"]])[0]
    [order] = await odoo.ok(
        "sale.order",
        "create",
        vals_list=[
            {
                "partner_id": partner,
                "client_order_ref": "WEB-9",
                "order_line": [
                    [
                        0,
                        0,
                        {
                            "product_id": pid,
                            "product_uom_qty": 2,
                            "price_unit": 10,
                            store.tax_field: [tax],
                        },
                    ]
                ],
            }
        ],
    )
    await odoo.ok("sale.order", "action_confirm", ids=[order])
    row = store.get("sale.order", order, "state", "amount_untaxed", "amount_tax", "amount_total")
    assert (row["state"], row["amount_untaxed"], row["amount_tax"], row["amount_total"]) == (
        "sale",
        20.0,
        4.0,
        24.0,
    )
    status, body = await odoo.json2("sale.order", "action_confirm", {"ids": [order]})
    assert status == 422 and body["name"] == "odoo.exceptions.UserError"


async def test_faults_and_stats_installed(odoo: Odoo) -> None:
    await odoo.ok("product.product", "search_count", domain=[])
    async with odoo.session.get(f"{odoo.url}/__sim__/stats") as response:
        stats = await response.json()
    assert stats["requests"] >= 1


async def test_holds_thirty_thousand_products() -> None:
    store = store_of(create_app(products=30_000, seed=1))
    assert len(store.tables["product.product"]) == 30_000
    ids = store.search(
        "product.product", [], offset=29_500, limit=500, order="write_date asc, id asc"
    )
    assert len(ids) == 500
