"""Full cycles that know unchanged records by their digests (engine/cycle/seen.py).

Each story first brings both sides into agreement and reads them once more, so that every record
has its digests kept beside its base; then a change on one side must be found and carried over
as it would be with every base decoded.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from integration.test_cycle import Pair, product

from engine.config import JobConfig
from engine.store.state import Store


@pytest.fixture
def pair() -> Pair:
    return Pair()


async def _seen(store: Store) -> dict[str, tuple[bytes | None, bytes | None]]:
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "select key, erp_seen, shop_seen from concord_base"
            " where connection = 'c' and kind = 'product'"
        )
    return {row["key"]: (row["erp_seen"], row["shop_seen"]) for row in rows}


async def _settled(pair: Pair, store: Store, skus: tuple[str, ...] = ("A", "B", "C")) -> None:
    for sku in skus:
        pair.erp.platform.put(product(sku, description=f"About {sku}"))
    await pair.cycle(store)  # creates them in the shop: the shop's digests are not known yet
    second = await pair.cycle(store)
    assert second.operations == {"erp": [], "shop": []}
    seen = await _seen(store)
    assert set(seen) == set(skus)
    assert all(erp is not None and shop is not None for erp, shop in seen.values())


async def test_an_erp_price_change_reaches_the_shop_and_only_its_shop_digest_is_dropped(
    pair: Pair, store: Store
) -> None:
    await _settled(pair, store)
    before = await _seen(store)
    pair.erp.platform.edit("product", "B", price=Decimal("12.50"))

    result = await pair.cycle(store)

    assert [op.key for op in result.operations["shop"]] == ["B"]
    assert pair.shop.platform.fields("product", "B")["price"] == "12.5"
    after = await _seen(store)
    assert after["B"][0] is not None and after["B"][0] != before["B"][0]  # the new ERP record
    assert after["B"][1] is None  # written to: what the shop holds was not read
    assert after["A"] == before["A"] and after["C"] == before["C"]
    again = await pair.cycle(store)
    assert again.operations == {"erp": [], "shop": []}
    assert (await _seen(store))["B"][1] is not None


async def test_a_shop_edit_of_an_erp_owned_field_is_put_back_while_the_erp_is_unchanged(
    pair: Pair, store: Store
) -> None:
    await _settled(pair, store)
    pair.shop.platform.edit("product", "A", name="Typo")

    result = await pair.cycle(store)

    assert [op.key for op in result.operations["shop"]] == ["A"]
    assert pair.shop.platform.fields("product", "A")["name"] == "Article A"
    assert (await pair.cycle(store)).operations == {"erp": [], "shop": []}


async def test_a_record_gone_from_the_erp_is_archived_while_the_shop_is_unchanged(
    pair: Pair, store: Store
) -> None:
    await _settled(pair, store)
    pair.erp.platform.remove("product", "C")

    result = await pair.cycle(store)

    assert result.counts["archived"] == 1
    assert pair.shop.platform.fields("product", "C")["active"] is False


async def test_edits_on_both_sides_of_a_shared_field_are_still_a_conflict(
    pair: Pair, store: Store
) -> None:
    await _settled(pair, store)
    pair.erp.platform.edit("product", "A", description="ERP text")
    pair.shop.platform.edit("product", "A", description="Shop text")

    result = await pair.cycle(store)

    assert [(c.key, c.field) for c in result.conflicts] == [("A", "description")]
    assert (await _seen(store))["A"] == (None, None)  # neither side agrees with the base now
    follow = await pair.cycle(store)
    assert [(c.key, c.field) for c in follow.conflicts] == [("A", "description")]
    assert follow.operations == {"erp": [], "shop": []}


async def test_digests_kept_under_other_settings_are_never_taken_for_a_match(
    pair: Pair, store: Store
) -> None:
    await _settled(pair, store)
    before = await _seen(store)
    # The same records compared on fewer fields: a digest of another configuration, not a match.
    narrower = JobConfig(kind="product", fields=["sku", "name", "price"])
    pair.erp.platform.edit("product", "B", price=Decimal("13"))

    result = await pair.cycle(store, job=narrower)

    assert [op.key for op in result.operations["shop"]] == ["B"]
    assert pair.shop.platform.fields("product", "B")["price"] == "13"
    assert (await _seen(store))["A"] != before["A"]  # re-read under these settings
