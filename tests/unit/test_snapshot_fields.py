"""Field values of canonical records, the NUL-character check of a snapshot, the collector pause."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal

import pytest

from adapters.base import Capabilities, Seen, Snapshot
from canonical.fields import to_fields
from canonical.models import Attribute, Product, Variant
from engine.cycle.carried import uncarried, without
from engine.cycle.decide import Observed
from engine.cycle.snapshot import CollectorPause, Indexer, Rejected, ingest
from engine.store.rows import StoredRecord


def _product(sku: str = "A-1", **changes: object) -> Product:
    values: dict[str, object] = {
        "sku": sku,
        "name": "Mug",
        "price": Decimal("10.50"),
        "weight": Decimal("1E+1"),
        "category": ("Kitchen", "Mugs"),
        "attributes": (Attribute(name="Colour", value="red"),),
        "variants": (Variant(sku=f"{sku}-S", price=Decimal("-0.00"), stock=Decimal("3.000")),),
    }
    values.update(changes)
    return Product(**values)  # type: ignore[arg-type]


def test_fields_are_json_builtins_with_normalised_decimals() -> None:
    fields = to_fields(_product())
    assert to_fields(_product(variants=()))["price"] == "10.5"
    assert to_fields(_product(variants=()))["weight"] == "10"
    # A product with variants leaves its prices and weight to them: none of its own to compare.
    assert fields["price"] is None and fields["weight"] is None
    assert fields["category"] == ["Kitchen", "Mugs"]
    assert fields["attributes"] == [{"name": "Colour", "value": "red"}]
    assert fields["variants"] == [
        {
            "sku": "A-1-S",
            "attributes": [],
            "price": "0",
            "sale_price": None,
            "stock": "3",
            "cost": None,
            "weight": None,
            "active": True,
        }
    ]
    assert fields["sale_from"] is None and fields["active"] is True


def _ingest(*products: Product) -> tuple[list[str], list[Rejected]]:
    snapshot = Snapshot(
        records=[Seen(record=p, ref=str(n), modified_at=None) for n, p in enumerate(products)],
        cursor=None,
        complete=True,
    )
    rejected: list[Rejected] = []
    read = ingest("erp", snapshot, rejected)
    return sorted(read.observed), rejected


def test_a_nul_character_deep_in_a_record_sets_it_aside_naming_the_field() -> None:
    bad_variant = (Variant(sku="B-1-S", attributes=(Attribute(name="Size", value="L\x00"),)),)
    kept, rejected = _ingest(_product("A-1"), _product("B-1", variants=bad_variant))
    assert kept == ["A-1"]
    assert [r.key for r in rejected] == ["B-1"]
    assert "record 1: variants contains a NUL character" in rejected[0].reason


def test_text_that_merely_spells_the_escape_is_kept() -> None:
    kept, rejected = _ingest(_product("A-1", description="a literal \\u0000 in the text"))
    assert kept == ["A-1"] and rejected == []


def test_a_nul_character_in_the_key_is_reported_by_reference() -> None:
    kept, rejected = _ingest(_product("A\x001"))
    assert kept == []
    assert [r.key for r in rejected] == ["erp:0"]
    assert "record 0: sku, variants contains a NUL character" in rejected[0].reason


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_nested_pauses_bring_the_collector_back_when_the_last_ends() -> None:
    first, second = CollectorPause(), CollectorPause()
    assert not gc.isenabled()
    first.release()
    first.release()  # a second release of the same pause changes nothing
    assert not gc.isenabled()
    second.release()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_pause_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    pause = CollectorPause()
    pause.release()
    assert not gc.isenabled()


def _seen(product: Product, ref: str) -> Seen:
    return Seen(record=product, ref=ref)


def test_indexer_finds_a_key_repeated_across_parts_and_keeps_a_reread_once() -> None:
    rejected: list[Rejected] = []
    indexer = Indexer("shop", rejected)
    first = [_seen(_product("A-1"), "1"), _seen(_product("B-1"), "2")]
    indexer.add(first)
    assert first == []  # handed over: each record can go once indexed
    indexer.add([_seen(_product("A-1"), "9"), _seen(_product("B-1", name="Cup"), "2")])
    indexer.add([_seen(_product("A-1"), "5")])
    read = indexer.finish(Snapshot(records=[], cursor="c", complete=True))
    assert list(read.observed) == ["B-1"]
    assert read.observed["B-1"].fields["name"] == "Cup"  # the later reading of ref 2
    assert read.refs == {"B-1": "2"} and read.count == 5
    assert read.cursor == "c" and read.complete
    assert [(r.key, r.reason) for r in rejected] == [
        ("A-1", "'A-1' is used by several records (1, 5, 9)")
    ]


def test_indexer_shares_the_base_values_equal_to_what_was_read() -> None:
    base_fields = to_fields(_product("A-1", description="a long text " * 50))
    known = {"A-1": StoredRecord("A-1", base_fields, "1", "1")}
    indexer = Indexer("erp", [], known)
    indexer.add([_seen(_product("A-1", description="a long text " * 50), "1")])
    indexer.add([_seen(_product("B-1"), "2")])
    read = indexer.finish(Snapshot(records=[], cursor=None, complete=True))
    assert read.observed["A-1"].fields is base_fields  # one copy in memory, not two

    changed = Indexer("erp", [], known)
    changed.add([_seen(_product("A-1", description="a long text " * 50, name="Cup"), "1")])
    fields = changed.finish(Snapshot(records=[], cursor=None, complete=True)).observed["A-1"]
    assert fields.fields["name"] == "Cup"
    assert fields.fields["description"] is base_fields["description"]
    assert fields.fields["category"] == ["Kitchen", "Mugs"] and fields.fields["active"] is True


def test_a_variant_field_one_side_cannot_carry_is_left_out_of_every_variant() -> None:
    class Side:
        def __init__(self, in_variants: frozenset[str] | None) -> None:
            self.capabilities = Capabilities(variant_fields=in_variants)

    erp = Side(frozenset(Variant.__struct_fields__) - {"cost", "weight"})
    left_out = uncarried("product", {"erp": erp, "shop": Side(None)})  # type: ignore[dict-item]
    assert {"variants.cost", "variants.weight"} <= left_out and "cost" not in left_out
    boot = Product(
        sku="BOOT",
        name="Boot",
        variants=(Variant(sku="BOOT-38", price=Decimal(59), cost=Decimal(20), weight=Decimal(1)),),
    )
    indexer = Indexer("shop", [], None, left_out)
    indexer.add([_seen(boot, "1")])
    read = indexer.finish(Snapshot(records=[], cursor=None, complete=True)).observed["BOOT"]
    [variant] = read.fields["variants"]
    assert variant["price"] == "59" and "cost" not in variant and "weight" not in variant
    assert without(Observed(fields=to_fields(boot)), left_out).fields == read.fields
    plain = Observed(fields=to_fields(Product(sku="MUG", name="Mug", cost=Decimal(2))))
    assert without(plain, left_out) is plain  # nothing of it left out: the same object
