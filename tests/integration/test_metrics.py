"""The Prometheus text: well-formed, and saying what the store and the budgets hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web
from prometheus_client import REGISTRY

from adapters.budget import RequestBudget
from adapters.simkit import serve
from engine.store.state import CommitBatch, Store
from web.metrics import CONTENT_TYPE, metrics_handler, metrics_text

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(
    rf'^(?P<name>{_NAME})\{{(?P<labels>({_NAME}="([^"\\]|\\.)*",?)*)\}} (?P<value>-?[0-9.e+-]+)$'
)


def parse(text: str) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """Samples by metric and labels, checking every line of the text format on the way."""
    assert text.endswith("\n")
    samples: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram") and name not in typed
            typed.add(name)
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        family = re.sub(r"_(bucket|count|sum)$", "", match["name"])
        family = family if family in typed else match["name"]
        assert family in typed, f"{match['name']} has no TYPE line before it"
        labels = frozenset(re.findall(rf'({_NAME})="((?:[^"\\]|\\.)*)"', match["labels"]))
        samples.setdefault(match["name"], {})[labels] = float(match["value"])
    return samples


def at(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


async def seed(store: Store) -> None:
    await store.ensure_connection("main")
    await store.commit(
        CommitBatch(
            connection="main",
            kind="product",
            job="products",
            mode="full",
            started_at=datetime.now(UTC) - timedelta(seconds=10),
            status="ok",
            counts={"writes_shop": 40, "writes_erp": 2},
        )
    )
    started = datetime.now(UTC) - timedelta(seconds=200)
    await store.record_failed_run("main", "stock", "incremental", started, "boom")


async def test_the_text_says_what_the_store_and_the_budgets_hold(store: Store) -> None:
    await seed(store)
    budget = RequestBudget('http://shop.example/"x"', requests_per_second=10, max_concurrency=2)
    async with budget.slot("orders"):
        pass
    for _ in range(3):
        async with budget.slot("products"):
            pass
    budget.throttle(retry_after=1.0)

    samples = parse(await metrics_text(store, [budget]))

    products, stock = at(connection="main", job="products"), at(connection="main", job="stock")
    assert samples["concord_job_records_written"][products] == 42
    assert samples["concord_job_failed_runs"][stock] == 1
    assert samples["concord_job_lag_seconds"][products] >= 0
    assert stock not in samples["concord_job_lag_seconds"]  # never succeeded
    assert samples["concord_conflicts_open"][at(connection="main")] == 0
    assert samples["concord_dead_letters_open"][at(connection="main")] == 0
    # A run started 10 s and one 200 s before it was recorded (the store stamps the finish).

    def bucket(job: str, le: str) -> float:
        return samples["concord_job_run_seconds_bucket"][at(connection="main", job=job, le=le)]

    assert (bucket("products", "5.0"), bucket("products", "15.0")) == (0, 1)
    assert [bucket("stock", le) for le in ("120.0", "300.0", "+Inf")] == [0, 1, 1]
    assert samples["concord_job_run_seconds_gcount"][stock] == 1
    assert 200 <= samples["concord_job_run_seconds_gsum"][stock] < 300
    account = 'http://shop.example/\\"x\\"'
    requests = samples["concord_budget_requests_total"]
    assert requests[at(account=account, lane="orders")] == 1
    assert requests[at(account=account, lane="products")] == 3
    assert requests[at(account=account, lane="stock")] == 0
    assert samples["concord_budget_throttled_total"][at(account=account)] == 1
    assert samples["concord_budget_rate"][at(account=account)] == 5
    assert samples["concord_budget_max_rate"][at(account=account)] == 10
    in_flight = samples["concord_budget_request_seconds_count"]
    assert in_flight[at(account=account, lane="orders")] == 1
    assert in_flight[at(account=account, lane="products")] == 3
    infinite = samples["concord_budget_request_seconds_bucket"]
    assert infinite[at(account=account, lane="products", le="+Inf")] == 3
    # Concord's own registry: nothing lands in prometheus_client's process-wide one.
    assert not [m for m in REGISTRY.collect() if m.name.startswith("concord")]


async def test_the_handler_serves_the_text_over_http(store: Store) -> None:
    await seed(store)
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(store, []))
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.get(f"{url}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"] == CONTENT_TYPE
        samples = parse(await response.text())
    assert samples["concord_job_records_written"][at(connection="main", job="products")] == 42
