"""What every adapter promises the engine (adapters/base.py), checked against each platform.

The tests speak only to the :class:`Harness` and the adapter boundary: a new adapter passes
the contract when these pass against its harness.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from contract_platforms import Harness

from adapters.base import AuthError, Create, Done, Failed, Seen, Update
from adapters.simkit import Faults
from canonical.fields import to_fields
from canonical.models import Product


def names(seen: list[Seen]) -> dict[str, str]:
    products = [s.record for s in seen]
    assert all(isinstance(p, Product) for p in products)
    return {p.sku: p.name for p in products if isinstance(p, Product)}


def new_product(sku: str, name: str = "Fresh article") -> Create:
    return Create(key=sku, fields=to_fields(Product(sku=sku, name=name, price=Decimal("12.5"))))


async def test_full_snapshot_is_complete_over_many_pages(platform: Harness) -> None:
    skus = await platform.seed(230)
    snapshot = await platform.adapter.snapshot("product", None)
    assert snapshot.complete
    assert names(snapshot.records) == {sku: f"Article {sku}" for sku in skus}
    assert len(snapshot.records) == len(skus)  # no page read twice
    assert len({s.ref for s in snapshot.records}) == len(skus)
    assert snapshot.cursor is not None
    if platform.remote:
        assert (await platform.served()).requests >= -(-len(skus) // platform.page_size)


async def test_incremental_cursor_sees_edits_and_not_the_rest(platform: Harness) -> None:
    skus = await platform.seed(120)
    full = await platform.adapter.snapshot("product", None)
    await platform.rename(skus[3], "Renamed in the back office")
    changed = await platform.adapter.snapshot("product", full.cursor)
    assert not changed.complete
    seen = names(changed.records)
    assert seen[skus[3]] == "Renamed in the back office"
    # Besides the edit, at most what lies within the overlap margin before the cursor
    # (the last article planted: see Harness.seed) comes back.
    assert set(seen) <= {skus[3], skus[-1]}
    assert changed.cursor is not None and changed.cursor != full.cursor
    quiet = await platform.adapter.snapshot("product", changed.cursor)
    assert set(names(quiet.records)) <= {skus[3]}
    assert quiet.cursor == changed.cursor


async def test_fetch_by_natural_keys_leaves_out_unknown_ones(platform: Harness) -> None:
    skus = await platform.seed(30)
    found = await platform.adapter.fetch("product", [skus[0], skus[17], "NO-SUCH-SKU"])
    assert names(found) == {skus[0]: f"Article {skus[0]}", skus[17]: f"Article {skus[17]}"}
    assert await platform.adapter.fetch("product", ["NO-SUCH-SKU"]) == []


async def test_batch_results_per_item_and_one_bad_item_does_not_sink_it(
    platform: Harness,
) -> None:
    skus = await platform.seed(5)
    [existing] = await platform.adapter.fetch("product", [skus[0]])
    operations = [
        new_product("NEW-1"),
        Update(key="GHOST", ref=platform.missing_ref(), fields={"name": "Nobody"}),
        Update(key=skus[0], ref=existing.ref, fields={"name": "Still written"}),
    ]
    results = await platform.adapter.apply("product", operations)
    assert [r.key for r in results] == ["NEW-1", "GHOST", skus[0]]
    created, ghost, updated = results
    assert isinstance(created, Done) and isinstance(updated, Done)
    assert isinstance(ghost, Failed) and ghost.reason.strip() and not ghost.transient
    assert updated.ref == existing.ref
    found = names(await platform.adapter.fetch("product", ["NEW-1", skus[0]]))
    assert found == {"NEW-1": "Fresh article", skus[0]: "Still written"}


async def test_cost_and_weight_read_back_as_written_where_carried(platform: Harness) -> None:
    article = Product(
        sku="KG-1",
        name="Weighed article",
        price=Decimal("12.5"),
        cost=Decimal("4.25"),
        weight=Decimal("0.75"),
    )
    [made] = await platform.adapter.apply(
        "product", [Create(key="KG-1", fields=to_fields(article))]
    )
    assert isinstance(made, Done), made
    [seen] = await platform.adapter.fetch("product", ["KG-1"])
    assert isinstance(seen.record, Product)
    carried = platform.adapter.capabilities.fields.get("product", Product.__struct_fields__)
    for name in {"cost", "weight"} & set(carried):
        assert getattr(seen.record, name) == getattr(article, name), name  # in kilograms


async def test_creation_is_idempotent_on_the_natural_key(platform: Harness) -> None:
    skus = await platform.seed(3)
    [first] = await platform.adapter.apply("product", [new_product("NEW-1")])
    # The answer was lost, so the engine sends the same creation again.
    [again] = await platform.adapter.apply("product", [new_product("NEW-1", "Fresh, renamed")])
    # A creation of an article the platform already holds links to it.
    [linked] = await platform.adapter.apply("product", [new_product(skus[1], "Linked")])
    assert isinstance(first, Done) and isinstance(again, Done) and isinstance(linked, Done)
    assert first.ref == again.ref
    assert await platform.holding("NEW-1") == 1 and await platform.holding(skus[1]) == 1
    [seen_linked] = await platform.adapter.fetch("product", [skus[1]])
    assert seen_linked.ref == linked.ref
    found = names(await platform.adapter.fetch("product", ["NEW-1", skus[1]]))
    assert found == {"NEW-1": "Fresh, renamed", skus[1]: "Linked"}


async def test_records_with_bad_data_are_rejected_with_the_reason(remote: Harness) -> None:
    skus = await remote.seed(20)
    ref = await remote.plant_without_sku()
    snapshot = await remote.adapter.snapshot("product", None)
    assert set(names(snapshot.records)) == set(skus)  # the rest is read
    assert ref not in {s.ref for s in snapshot.records}
    reasons = dict(remote.adapter.rejected)
    assert ref in reasons
    assert "SKU" in reasons[ref] or "reference" in reasons[ref]


async def test_refused_credentials_are_an_auth_error(remote: Harness) -> None:
    adapter = remote.connect(wrong_secret=True)
    with pytest.raises(AuthError) as refused:
        await adapter.snapshot("product", None)
    assert "wrong" not in str(refused.value)  # the secret is never in the message
    assert (await remote.served()).requests <= 3  # refused credentials are not retried


async def test_the_request_rate_is_respected(simulated: Harness) -> None:
    rate = 10.0
    skus = await simulated.seed(60)
    adapter = simulated.connect(requests_per_second=rate, max_concurrency=8)
    before = (await simulated.served()).requests
    started = time.monotonic()
    sent, waves = 0, 0
    # Waves of concurrent reads until three seconds' allowance went out (whatever a read costs
    # on this platform), so the bound below says something.
    while sent < 3 * rate:
        wave = skus[waves * 5 : waves * 5 + 5]
        found = await asyncio.gather(*(adapter.fetch("product", [sku]) for sku in wave))
        assert all(len(f) == 1 for f in found)
        waves += 1
        sent = (await simulated.served()).requests - before
    elapsed = time.monotonic() - started
    # A one-second bucket: at most one second's allowance at once, then the rate.
    assert sent <= rate * (elapsed + 1) + 2


async def test_throttling_with_retry_after_is_waited_out(simulated: Harness) -> None:
    skus = await simulated.seed(40)
    simulated.set_faults(Faults(rate_limit=5.0, retry_after=0.5))
    for sku in skus[:8]:
        assert set(names(await simulated.adapter.fetch("product", [sku]))) == {sku}
        if (await simulated.served()).throttled:
            break
    assert (await simulated.served()).throttled > 0


async def test_server_errors_are_retried(simulated: Harness) -> None:
    skus = await simulated.seed(120)
    simulated.set_faults(Faults(error_rate=0.3, seed=3))
    snapshot = await simulated.adapter.snapshot("product", None)
    for sku in skus[:4]:
        assert set(names(await simulated.adapter.fetch("product", [sku]))) == {sku}
    results = await simulated.adapter.apply("product", [new_product("NEW-1")])
    assert set(names(snapshot.records)) == set(skus)
    assert isinstance(results[0], Done)
    simulated.set_faults(Faults())
    assert await simulated.holding("NEW-1") == 1
    assert (await simulated.served()).errors > 0
