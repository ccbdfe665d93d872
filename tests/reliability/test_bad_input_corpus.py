"""The bad-input corpus (``tests/data/bad/``), each case through the path it would really take.

- ``sync/*.json``: an edit made in the ERP or the shop simulator (duplicate SKUs, missing SKU,
  negative or fractional stock, decimal commas, markup, 1 MB descriptions, invalid UTF-8, an
  unknown tax code...), then the product and stock jobs between the two simulators. The
  case's record ends as its expectation says (rejected or failed with a message naming it,
  or synced as it is) and every other article still agrees on both sides.
- ``orders/*.json``: a web order (unknown country, lines for deleted products...) imported
  beside a good one: the bad one is held with its reason or imported, the good one imported.
- ``config/*.toml``: a broken configuration file given to ``concord check-config``: the error
  names the file, the key and the reason (``# expect-key`` / ``# expect-reason`` in the file).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from reliability_support import field_differences, read_side

from adapters.odoo.simulator.dispatch import call
from adapters.sandbox import WEB_DESCRIPTION, Sandbox, sandbox
from engine.cli.demo import DEMO_JOBS, DEMO_RULES
from engine.cli.main import main
from engine.cycle.carried import compared_fields
from engine.cycle.run import CycleResult, run_cycle
from engine.orders.importer import run_orders
from engine.store.state import Store
from rules.order_config import OrdersConfig
from rules.taxes import TaxRule
from rules.transforms import Transforms

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad"
CONNECTION = "bad"
TAXES = Transforms(
    taxes=TaxRule(
        products={"VAT 20%": "standard", "VAT 10%": "reduced-rate", "VAT 5.5%": "reduced-rate"}
    )
)
ORDERS = OrdersConfig(taxes={"FR": "VAT 20%"})
GOOD_BILLING = {"first_name": "Ana", "last_name": "Lima", "country": "FR", "email": "a@b.example"}


def load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = msgspec.json.decode(path.read_bytes())
    return case


def cases(folder: str, pattern: str) -> list[Any]:
    return [pytest.param(p, id=p.stem) for p in sorted((CORPUS / folder).glob(pattern))]


def test_the_corpus_has_thirty_cases_and_a_dozen_configs() -> None:
    total = sum(len(list((CORPUS / f).iterdir())) for f in ("sync", "orders", "config"))
    assert total >= 30 and len(list((CORPUS / "config").iterdir())) >= 12


# -- sync ------------------------------------------------------------------------------------


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with sandbox(products=50, seed=4, shop_share=0.9, typo_rate=0.0) as running:
        yield running


def expand(value: Any) -> Any:
    """``{"repeat": text, "bytes": n}`` in a case stands for ``text`` repeated to ``n`` bytes."""
    if isinstance(value, dict) and set(value) == {"repeat", "bytes"}:
        return value["repeat"] * (value["bytes"] // len(value["repeat"]) + 1)
    return value


class Resolver:
    """Turns ``@plainN`` / ``@stockedN`` / ``@soldN`` in a case into this sandbox's SKUs."""

    def __init__(self, box: Sandbox) -> None:
        self.lists = {
            "plain": box.plain_articles(),
            "stocked": box.stocked_articles(),
            "sold": box.plain_articles(),
        }

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            for name, skus in self.lists.items():
                if value.startswith(f"@{name}"):
                    return skus[int(value.removeprefix(f"@{name}"))]
        return value


async def resync(store: Store, box: Sandbox, case: dict[str, Any]) -> list[CycleResult]:
    taxes = case.get("transforms") == "taxes"
    results = []
    for name, job in DEMO_JOBS.items():
        results.append(
            await run_cycle(
                store,
                connection=CONNECTION,
                job_name=name,
                job=job,
                rules=DEMO_RULES[job.kind],
                adapters=box.open_adapters(),
                full=True,
                transforms=TAXES if taxes else None,
            )
        )
    return results


def apply_edit(box: Sandbox, edit: dict[str, Any], sku_of: Resolver) -> set[str]:
    """Make one edit of a case; returns the SKUs it touched."""
    erp, shop = box.erp_store, box.shop_store
    sku = sku_of(edit.get("sku"))
    values = {k: expand(v) for k, v in edit.get("values", {}).items()}
    match edit["do"]:
        case "erp_add":
            if "code_length" in edit:
                values["default_code"] = values["default_code"] * edit["code_length"]
            erp.add("product.product", **values)
            return {values.get("default_code", "")}
        case "erp_duplicate":
            erp.unique_default_code = False
            for n in range(edit["count"]):
                erp.add("product.product", name=f"Twin {n}", default_code=edit["code"])
            return {edit["code"]}
        case "erp_set":
            box._erp_write(sku, **values)
        case "erp_stock":
            product = erp.product_id(sku)
            quant = next(q for (p, _), q in erp.quant_at.items() if p == product)
            erp.edit("stock.quant", quant, inventory_quantity=edit["quantity"])
            call(erp, "stock.quant", "action_apply_inventory", [quant], {}, {})
        case "erp_tax":
            box._erp_write(sku, taxes_id=[erp.find("account.tax", [["name", "=", edit["tax"]]])[0]])
        case "shop_add":
            shop.add_product(**values)
            return {values["sku"]}
        case "shop_duplicate":
            shop.add_product(sku=edit["sku"], name="Original")
            clone = shop.add_product(sku=f"{edit['sku']}-TMP", name="Copy")
            clone.sku = edit["sku"]  # a duplicate the shop's own check missed
            return {edit["sku"]}
        case "shop_set":
            shop.edit_product(box._shop_item(sku).id, **values)
        case "shop_raw":
            item = box._shop_item(sku)
            setattr(item, edit["field"], msgspec.Raw(bytes.fromhex(edit["hex"])))
        case other:
            raise AssertionError(f"unknown edit {other!r}")
    return {sku}


def side_value(box: Sandbox, side: str, sku: str, field: str) -> Any:
    if side == "shop":
        item = box._shop_item(sku)
        return {"stock": item.stock_quantity, "name": getattr(item, "name", None)}.get(
            field, getattr(item, field, None)
        )
    template = box._template(box.erp_store.product_id(sku))
    return template[WEB_DESCRIPTION if field == "description" else field]


@pytest.mark.parametrize("path", cases("sync", "*.json"))
async def test_a_bad_record_is_reported_and_the_rest_syncs(
    path: Path, store: Store, box: Sandbox
) -> None:
    case = load(path)
    expect = case["expect"]
    sku_of = Resolver(box)
    for edit in case["edits"]:
        if edit["do"] == "erp_tax":  # a tax the ERP has, which the tax mapping does not name
            box.erp_store.add("account.tax", name=edit["tax"], amount=7.0, type_tax_use="sale")
    await resync(store, box, case)  # a clean start: base holds every article
    touched: set[str] = set()
    for edit in case["edits"]:
        touched |= apply_edit(box, edit, sku_of)

    results = await resync(store, box, case)  # never raises: bad input is reported

    rejected = [r for result in results for r in result.rejected]
    failed = [f for result in results for f in result.failures]
    letters = await store.list_dead_letters(CONNECTION)
    outcome, side = expect["outcome"], expect.get("side")
    if outcome == "rejected":
        found = [
            r
            for r in rejected
            if r.side == side
            and all(text in r.reason for text in expect["message"])
            and r.key == expect.get("key", r.key)
        ]
        assert found, rejected
        assert any(d.key == found[0].key and d.reason == found[0].reason for d in letters)
        touched |= {r.key for r in rejected}
    elif outcome == "failed":
        sku = sku_of(expect["sku"])
        assert any(
            f.key == sku and all(t in f.reason for t in expect["message"]) for f in failed
        ), failed
        assert any(d.key == sku for d in letters)
    elif outcome == "synced":
        value = side_value(box, side, sku_of(expect["sku"]), expect["field"])
        if "equals" in expect:
            assert value == expect["equals"]
        else:
            assert len(value) >= expect["length_at_least"]
        assert rejected == [] and failed == []
    else:
        assert outcome == "completes"
    # The rest of the run is unaffected: every other article agrees on both sides.
    adapters = box.open_adapters()
    erp = await read_side(adapters["erp"], "product", twice=True)
    shop = await read_side(adapters["shop"], "product", twice=True)
    for adapter in adapters.values():
        adapter.rejected.clear()
    differ = field_differences(erp, shop, compared_fields("product", adapters))
    assert {k for k in differ if k not in touched} == set(), differ
    assert len(erp) > 35
    # And the next run copes just as well.
    await resync(store, box, case)


# -- orders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", cases("orders", "*.json"))
async def test_a_bad_order_is_held_with_its_reason_and_the_good_one_imported(
    path: Path, store: Store, box: Sandbox
) -> None:
    case = load(path)
    expect, sku_of = case["expect"], Resolver(box)
    shop, erp = box.shop_store, box.erp_store
    if case.get("before") == "shop_only_product":
        shop.add_product(sku="WEB-ONLY", name="Only in the shop", regular_price="3.00")
    lines = [(sku_of(sku), quantity) for sku, quantity in case["order"]["lines"]]
    billing = {**GOOD_BILLING, **case["order"].get("billing", {})}
    bad = shop.add_order(lines, status="processing", billing=billing)
    bad.billing.email = billing["email"]  # the simulator fills a missing e-mail in
    good = shop.add_order([(sku_of("@sold3"), 1)], status="processing", billing=GOOD_BILLING)
    if case.get("then") == "erp_delete_line0":
        erp.unlink("product.product", [erp.product_id(lines[0][0])])
    elif case.get("then") == "shop_delete_line0":
        shop.remove(box._shop_item(lines[0][0]))

    result = await run_orders(
        store, connection=CONNECTION, adapters=box.open_adapters(), config=ORDERS, full=True
    )

    def in_erp(number: str) -> int:
        return len(erp.find("sale.order", [["client_order_ref", "=", number]]))

    assert in_erp(str(good.number)) == 1  # the rest of the run is unaffected
    letters = {d.key: d.reason for d in await store.list_dead_letters(CONNECTION)}
    if expect["outcome"] == "held":
        reason = letters[str(bad.number)]
        assert all(str(sku_of(t.strip("'"))) in reason for t in expect["message"]), reason
        assert in_erp(str(bad.number)) == 0 and result.counts.get("held") == 1
    else:
        assert in_erp(str(bad.number)) == 1 and letters == {}
    # Held, not lost: the next run looks at it again, and imports nothing twice.
    again = await run_orders(
        store, connection=CONNECTION, adapters=box.open_adapters(), config=ORDERS, full=True
    )
    assert again.counts.get("imported", 0) == 0
    assert in_erp(str(good.number)) == 1


# -- configuration ---------------------------------------------------------------------------


def expectations(path: Path) -> tuple[str, str]:
    header = dict(
        line[2:].split(": ", 1)
        for line in path.read_bytes().decode("ascii", "replace").splitlines()
        if line.startswith("# expect-")
    )
    return header["expect-key"].strip(), header.get("expect-reason", "").strip()


@pytest.mark.parametrize("path", cases("config", "*.toml"))
def test_a_broken_config_names_the_file_the_key_and_the_reason(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RELIABILITY_ODOO_KEY", "RELIABILITY_WC_KEY", "RELIABILITY_WC_SECRET"):
        monkeypatch.setenv(name, f"{name.lower()}-value-0123")
    key, reason = expectations(path)

    outcome = CliRunner().invoke(main, ["check-config", str(path)])

    assert outcome.exit_code == 1, outcome.output
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit)
    message = outcome.output.strip().splitlines()[-1]
    assert message.startswith("Error: ") and str(path) in message, message
    assert f": {key}: " in message and reason in message, message
    assert "Traceback" not in outcome.output
