"""Booked exactly once, proved by killing: ``concord accounting export`` is SIGKILLed while it
books, around its commit and while it writes the FEC, then run again.

The WooCommerce simulator runs in a process of its own (with tax rates for three countries,
three payment methods and refunds), so what it holds survives every kill. Each export is
``python -m engine.cli.main accounting export`` with the fault-injection switch
``CONCORD_CRASH_AT=<checkpoint>:<n>`` (engine/orders/faults.py). Before each run the shop takes
new paid orders, so every run has work to die in. Afterwards every document is booked once:
the FEC passes the checker (numbers without a gap, every entry balanced), the customers are
debited exactly the shop's sales and credited exactly its payments and refunds.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from test_orders_kill import Shop, simulator

from engine.accounting.erp import KIND
from engine.accounting.store import Ledger
from engine.store.queries import query
from engine.store.state import Store
from rules.accounting.fec import COLUMNS
from rules.accounting.fec_check import check_fec

KILLS: list[tuple[str, int]] = [
    ("accounting_start", 1),
    ("accounting_before_book", 1),
    ("accounting_after_book", 1),
    ("accounting_after_book", 4),
    ("accounting_before_book", 7),
    ("accounting_after_book", 9),
    ("accounting_before_commit", 1),
    ("accounting_after_commit", 1),
    ("accounting_file_synced", 1),
    ("accounting_after_book", 2),
]
ORDERS_PER_RUN = 4
RATES = {"FR": ("20", "5.5"), "DE": ("19", "7"), "BE": ("21", "6")}
PRODUCTS = (("ART-1", "", "10.00"), ("ART-2", "reduced-rate", "4.35"), ("ART-3", "", "23.90"))
GATEWAYS = (("stripe", "Card"), ("ppcp-gateway", "PayPal"), ("bacs", "Bank transfer"))


async def plant_shop(shop: Shop) -> None:
    for sku, tax_class, price in PRODUCTS:
        await shop.post(
            "/products",
            {"sku": sku, "name": sku, "regular_price": price, "tax_class": tax_class},
        )
    for country, (standard, reduced) in RATES.items():
        for tax_class, rate in (("standard", standard), ("reduced-rate", reduced)):
            await shop.post(
                "/taxes",
                {"country": country, "rate": rate, "name": f"VAT {rate}", "class": tax_class},
            )


async def place(shop: Shop, n: int) -> dict[str, Any]:
    country = tuple(RATES)[n % len(RATES)]
    method, title = GATEWAYS[n % len(GATEWAYS)]
    address = {"first_name": f"Buyer{n % 5}", "country": country}
    order = await shop.post(
        "/orders",
        {
            "set_paid": True,
            "payment_method": method,
            "payment_method_title": title,
            "billing": {**address, "email": f"buyer{n % 5}@example.com"},
            "shipping": address,
            "line_items": [
                {"sku": PRODUCTS[n % 3][0], "quantity": 1 + n % 2},
                {"sku": PRODUCTS[(n + 1) % 3][0], "quantity": 1},
            ],
            "shipping_lines": [{"method_title": "Colissimo", "total": "4.90"}],
        },
    )
    assert order["status"] == "processing"
    if n % 3 == 0:  # a third refunded: in full or for a part
        amount = order["total"] if n % 2 else f"{Decimal(order['total']) / 3:.2f}"
        await shop.post(
            f"/orders/{order['id']}/refunds",
            {"amount": amount, "api_refund": False, "api_restock": False, "reason": "returned"},
        )
    return order


def write_config(workdir: Path, shop_url: str) -> None:
    (workdir / "ck").write_text("ck_test")
    (workdir / "cs").write_text("cs_test")
    vat = "\n".join(
        f'"{country}:{rate}" = {{ sales = "7071{i}{j}", vat = "44571{i}{j}" }}'
        for i, (country, rates) in enumerate(RATES.items())
        for j, rate in enumerate(rates)
    )
    (workdir / "concord.toml").write_text(
        f"""
[database]
url_env = "CONCORD_DATABASE_URL"

[connections.main.erp]
type = "memory"

[connections.main.shop]
type = "woocommerce"
url = "{shop_url}"
consumer_key_file = "ck"
consumer_secret_file = "cs"
requests_per_second = 1000

[connections.main.accounting]
siren = "732829320"
timezone = "UTC"
customer_mode = "per_customer"
shipping_account = "708500"
fees_account = "708800"

[connections.main.accounting.vat]
{vat}

[connections.main.accounting.gateways]
stripe = {{ journal = "CB", clearing = "511100", label = "Card" }}
ppcp-gateway = {{ journal = "PP", clearing = "512200", label = "PayPal" }}
bacs = {{ journal = "BQ", clearing = "512000", label = "Bank transfer" }}
"""
    )


async def export(workdir: Path, db_url: str, crash: str | None, *extra: str) -> tuple[int, str]:
    env = {**os.environ, "CONCORD_DATABASE_URL": db_url, "ODOO_KEY": "odoo-test-key"}
    env.pop("CONCORD_CRASH_AT", None)
    if crash:
        env["CONCORD_CRASH_AT"] = crash
    today = datetime.now(UTC).date()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        "--config",
        "concord.toml",
        "accounting",
        "export",
        "--from",
        str(today - timedelta(days=1)),
        "--to",
        str(today),
        "-o",
        "books",
        *extra,
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


async def test_every_document_is_booked_exactly_once_whatever_the_kills(
    tmp_path: Path, db_url: str, store: Store
) -> None:
    (tmp_path / "books").mkdir()
    async with (
        simulator("woocommerce", "--products", "0", pattern=r"simulator: (\S+)/wp-json") as web,
        aiohttp.ClientSession() as session,
    ):
        shop = Shop(session, f"{web}/wp-json/wc/v3")
        await plant_shop(shop)
        write_config(tmp_path, web)
        placed: list[dict[str, Any]] = []
        for _ in range(ORDERS_PER_RUN):
            placed.append(await place(shop, len(placed)))
        code, out = await export(tmp_path, db_url, None, "--dry-run")
        assert code == 0, out
        assert "would book" in out and await Ledger(store).counts("main") == {}
        for point, n in KILLS:
            for _ in range(ORDERS_PER_RUN):
                placed.append(await place(shop, len(placed)))
            code, out = await export(tmp_path, db_url, f"{point}:{n}")
            assert code == -signal.SIGKILL, f"{point}:{n} was never reached: {out}"
            assert f"killed at {point}:{n}" in out
        code, out = await export(tmp_path, db_url, None)
        assert code == 0, out
        refunds: list[dict[str, Any]] = []
        for order in placed:
            async with session.get(
                f"{shop.url}/orders/{order['id']}/refunds", headers=shop.headers
            ) as reply:
                refunds += await reply.json()

    [fec] = [p for p in (tmp_path / "books").iterdir() if not p.name.startswith(".")]
    text = fec.read_bytes().decode("iso8859_15")
    assert check_fec(text, name=fec.name) == []
    rows = [dict(zip(COLUMNS, line.split("\t"), strict=True)) for line in text.splitlines()[1:]]
    kinds = await Ledger(store).counts("main")
    assert kinds == {
        "sale": len(placed),
        "payment": len(placed),
        "credit_note": len(refunds),
        "refund_payment": len(refunds),
    }
    assert len({row["EcritureNum"] for row in rows}) == sum(kinds.values())
    customer = [row for row in rows if row["CompteNum"] == "411000"]
    sales = sum(money(r["Debit"]) for r in customer if r["JournalCode"] == "VE")
    assert sales == sum(Decimal(o["total"]) for o in placed)
    paid = sum(money(r["Credit"]) for r in customer if r["JournalCode"] != "VE")
    assert paid == sales
    refunded = sum(money(r["Credit"]) for r in customer if r["JournalCode"] == "VE")
    assert refunded == sum(Decimal(r["amount"]) for r in refunds) > 0
    letters = Counter(row["EcritureLet"] for row in customer)
    assert letters[""] == 0 and set(letters.values()) == {2}


ERP_KILLS: list[tuple[str, int]] = [
    ("accounting_before_erp_intent", 1),
    ("accounting_after_erp_intent", 2),
    ("accounting_after_erp_lookup", 1),
    ("accounting_after_erp_create", 1),
    ("accounting_after_erp_create", 3),
    ("accounting_after_book", 2),
    ("accounting_after_erp_create", 2),
]


async def odoo(session: aiohttp.ClientSession, url: str, model: str, method: str, body: Any) -> Any:
    async with session.post(
        f"{url}/json/2/{model}/{method}",
        json=body,
        headers={"Authorization": "bearer odoo-test-key"},
    ) as reply:
        assert reply.status == 200, await reply.text()
        return await reply.json()


async def plant_odoo_chart(session: aiohttp.ClientSession, url: str, config: str) -> None:
    """Odoo's journals and accounts under every code the configuration names."""
    codes = set(re.findall(r'(?:sales|vat|clearing|_account|rounding_\w+) = "(\d+)"', config))
    codes |= {"411000", "658000", "758000"}
    accounts = [{"code": code, "name": f"Account {code}"} for code in sorted(codes)]
    await odoo(session, url, "account.account", "create", {"vals_list": accounts})
    journals = [{"code": code, "name": f"Journal {code}"} for code in ("VE", "CB", "PP", "BQ")]
    await odoo(session, url, "account.journal", "create", {"vals_list": journals})


async def test_every_entry_is_posted_to_odoo_exactly_once_whatever_the_kills(
    tmp_path: Path, db_url: str, store: Store
) -> None:
    (tmp_path / "books").mkdir()
    async with (
        simulator("odoo", "--products", "0", pattern=r"listening on (\S+)") as erp,
        simulator("woocommerce", "--products", "0", pattern=r"simulator: (\S+)/wp-json") as web,
        aiohttp.ClientSession() as session,
    ):
        shop = Shop(session, f"{web}/wp-json/wc/v3")
        await plant_shop(shop)
        write_config(tmp_path, web)
        config = (tmp_path / "concord.toml").read_text()
        config = config.replace(
            '[connections.main.erp]\ntype = "memory"',
            f'[connections.main.erp]\ntype = "odoo"\nurl = "{erp}"\ndatabase = "odoo"\n'
            'api_key_env = "ODOO_KEY"\nrequests_per_second = 1000',
        ).replace('timezone = "UTC"', 'timezone = "UTC"\nerp = true')
        (tmp_path / "concord.toml").write_text(config)
        await plant_odoo_chart(session, erp, config)
        placed: list[dict[str, Any]] = []
        for point, n in ERP_KILLS:
            for _ in range(ORDERS_PER_RUN):
                placed.append(await place(shop, len(placed)))
            code, out = await export(tmp_path, db_url, f"{point}:{n}")
            assert code == -signal.SIGKILL, f"{point}:{n} was never reached: {out}"
        code, out = await export(tmp_path, db_url, None)
        assert code == 0, out
        moves = await odoo(
            session,
            erp,
            "account.move",
            "search_read",
            {"domain": [["move_type", "=", "entry"]], "fields": ["ref", "state", "line_ids"]},
        )

    kinds = await Ledger(store).counts("main")
    refs = Counter(str(m["ref"]) for m in moves)
    assert len(refs) == sum(kinds.values()) and set(refs.values()) == {1}
    assert {m["state"] for m in moves} == {"posted"}
    async with store.pool.acquire() as conn:
        states = await conn.fetch(query("intents_count"), "main", KIND)
    assert {row["state"]: row["count"] for row in states} == {"done": len(refs)}
