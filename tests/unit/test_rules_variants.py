"""Named scenarios for grouping plain ERP articles into products with variants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from canonical.models import Attribute, Product, Variant
from rules.variants import Grouped, VariantRule, group_articles, split_changes

BY_PATTERN = VariantRule(
    pattern=r"^(?P<parent>[A-Z]+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z0-9]+)$",
    attributes={"colour": "Colour", "size": "Size"},
)
BY_FIELD = VariantRule(
    key="model", attributes={"colour": "Colour", "size": "Size"}, name="model_name"
)


def article(sku: str, name: str = "", price: str = "10", **fields: Any) -> Product:
    attributes = tuple(
        Attribute(name=k, value=str(v))
        for k, v in fields.pop("attrs", {}).items()  # ERP fields arrive as attributes
    )
    return Product(
        sku=sku,
        name=name or f"T-shirt {sku}",
        price=Decimal(price),
        tax_code="standard",
        attributes=attributes,
        **fields,
    )


def variant(sku: str, colour: str, size: str, price: str = "10", **extra: Any) -> Variant:
    return Variant(
        sku=sku,
        attributes=(Attribute(name="Colour", value=colour), Attribute(name="Size", value=size)),
        price=Decimal(price),
        **extra,
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    articles: list[Product]
    rule: VariantRule
    products: list[Product]
    members: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()


SCENARIOS = [
    Scenario(
        "SKU pattern: three articles of one model -> one product, three variants",
        [
            article("TEE-RED-M", "Tee Red M"),
            article("TEE-RED-L", "Tee Red L", price="11"),
            article("TEE-BLUE-M", "Tee Blue M"),
        ],
        BY_PATTERN,
        [
            Product(
                sku="TEE",
                name="Tee",
                tax_code="standard",
                variants=(
                    variant("TEE-BLUE-M", "BLUE", "M"),
                    variant("TEE-RED-L", "RED", "L", price="11"),
                    variant("TEE-RED-M", "RED", "M"),
                ),
            )
        ],
        members={"TEE": ["TEE-BLUE-M", "TEE-RED-L", "TEE-RED-M"]},
    ),
    Scenario(
        "an article the pattern does not match stays a plain product",
        [article("MUG-1", "Mug"), article("TEE-RED-M", "Tee Red M")],
        BY_PATTERN,
        [
            article("MUG-1", "Mug"),
            Product(
                sku="TEE",
                name="Tee Red M",
                tax_code="standard",
                variants=(variant("TEE-RED-M", "RED", "M"),),
            ),
        ],
        members={"TEE": ["TEE-RED-M"]},
    ),
    Scenario(
        "ERP field as key, options and name from ERP fields; other shared fields kept",
        [
            article(
                "A1",
                attrs={
                    "model": "POLO",
                    "model_name": "Polo shirt",
                    "colour": "Red",
                    "size": "S",
                    "material": "cotton",
                },
            ),
            article(
                "A2",
                sale_price=Decimal("8"),
                active=False,
                attrs={
                    "model": "POLO",
                    "model_name": "Polo shirt",
                    "colour": "Red",
                    "size": "M",
                    "material": "cotton",
                },
            ),
        ],
        BY_FIELD,
        [
            Product(
                sku="POLO",
                name="Polo shirt",
                tax_code="standard",
                attributes=(Attribute(name="material", value="cotton"),),
                variants=(
                    variant("A1", "Red", "S"),
                    variant("A2", "Red", "M", sale_price=Decimal("8"), active=False),
                ),
            )
        ],
        members={"POLO": ["A1", "A2"]},
    ),
    Scenario(
        "fields consumed by the category rule do not become attributes",
        [
            article("A1", attrs={"model": "P", "colour": "Red", "size": "S", "family": "Tops"}),
            article("A2", attrs={"model": "P", "colour": "Red", "size": "M", "family": "Tops"}),
        ],
        BY_FIELD,
        [
            Product(
                sku="P",
                name="T-shirt",
                tax_code="standard",
                variants=(variant("A1", "Red", "S"), variant("A2", "Red", "M")),
            )
        ],
        members={"P": ["A1", "A2"]},
        drop=frozenset({"family"}),
    ),
    Scenario(
        "every article inactive -> the product is inactive",
        [article("TEE-RED-M", active=False), article("TEE-RED-L", active=False)],
        BY_PATTERN,
        [
            Product(
                sku="TEE",
                name="T-shirt",
                tax_code="standard",
                active=False,
                variants=(
                    variant("TEE-RED-L", "RED", "L", active=False),
                    variant("TEE-RED-M", "RED", "M", active=False),
                ),
            )
        ],
        members={"TEE": ["TEE-RED-L", "TEE-RED-M"]},
    ),
    Scenario(
        "two articles with the same options -> the group is held, naming both",
        [
            article("A1", attrs={"model": "P", "colour": "Red", "size": "S"}),
            article("A2", attrs={"model": "P", "colour": "Red", "size": "S"}),
        ],
        BY_FIELD,
        [],
        problems={"P": "articles A1 and A2 of P have the same options Colour=Red, Size=S"},
    ),
    Scenario(
        "articles disagreeing on the tax code -> held, not guessed",
        [
            article("TEE-RED-M"),
            msgspec.structs.replace(article("TEE-RED-L"), tax_code="reduced-rate"),
        ],
        BY_PATTERN,
        [],
        problems={
            "TEE": "articles of TEE disagree on tax_code: TEE-RED-L has 'reduced-rate', "
            "TEE-RED-M has 'standard'"
        },
    ),
    Scenario(
        "articles disagreeing on the category -> held",
        [article("TEE-RED-M", category=("Tops",)), article("TEE-RED-L", category=("Shirts",))],
        BY_PATTERN,
        [],
        problems={
            "TEE": "articles of TEE disagree on category: TEE-RED-L has ('Shirts',), "
            "TEE-RED-M has ('Tops',)"
        },
    ),
    Scenario(
        "an article without a value for an option -> held, naming article and option",
        [article("A1", attrs={"model": "P", "colour": "Red"})],
        BY_FIELD,
        [],
        problems={"P": "article A1: no value for the variant option 'size'"},
    ),
    Scenario(
        "a group key equal to a plain article's SKU -> both held",
        [article("P"), article("A1", attrs={"model": "P", "colour": "Red", "size": "S"})],
        BY_FIELD,
        [],
        problems={"P": "P is both an article's SKU and the group key of A1; rename one of them"},
    ),
    Scenario(
        "a variant with sale dates -> held (a variant has no dates to carry them)",
        [
            article("TEE-RED-M", sale_price=Decimal(5)),
            msgspec.structs.replace(article("TEE-RED-L"), sale_to=date(2030, 1, 1)),
        ],
        BY_PATTERN,
        [],
        problems={
            "TEE": "article TEE-RED-L: a variant cannot carry sale dates; set the sale price "
            "without dates or on a plain article"
        },
    ),
    Scenario(
        "the article moved to another model -> it moves to its new parent; emptied one is gone",
        [
            article("A1", attrs={"model": "NEW", "colour": "Red", "size": "S"}),
            article("A2", attrs={"model": "NEW", "colour": "Red", "size": "M"}),
        ],
        BY_FIELD,
        [
            Product(
                sku="NEW",
                name="T-shirt",
                tax_code="standard",
                variants=(variant("A1", "Red", "S"), variant("A2", "Red", "M")),
            )
        ],
        members={"NEW": ["A1", "A2"]},
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_grouping(scenario: Scenario) -> None:
    grouped = group_articles(scenario.articles, scenario.rule, drop=scenario.drop)
    assert grouped == Grouped(
        products=scenario.products, members=scenario.members, problems=scenario.problems
    )


@dataclass(frozen=True)
class Split:
    name: str
    changes: dict[str, Any]
    expected: dict[str, dict[str, Any]] | str


ARTICLES = {
    "A1": {"sku": "A1", "price": "10", "sale_price": None, "active": True, "description": "x"},
    "A2": {"sku": "A2", "price": "12", "sale_price": None, "active": True, "description": "x"},
}
SPLITS = [
    Split(
        "one variant's price changed -> only its article is written",
        {"variants": [{"sku": "A1", "price": "10"}, {"sku": "A2", "price": "13"}]},
        {"A2": {"price": "13"}},
    ),
    Split(
        "a variant's cost and weight -> its own article's",
        {"variants": [{"sku": "A1", "cost": "4.2", "weight": "0.3"}, {"sku": "A2", "price": "12"}]},
        {"A1": {"cost": "4.2", "weight": "0.3"}},
    ),
    Split(
        "product-wide description -> every article whose description differs",
        {"description": "new"},
        {"A1": {"description": "new"}, "A2": {"description": "new"}},
    ),
    Split(
        "a variant no ERP article holds -> refused, naming it",
        {"variants": [{"sku": "A9", "price": "1"}]},
        "variant 'A9' has no ERP article to write to",
    ),
    Split(
        "the grouped product's own name -> refused (it is derived from the articles)",
        {"name": "Polo"},
        "name of a grouped product cannot be written back to its articles",
    ),
]


@pytest.mark.parametrize("split", SPLITS, ids=[s.name for s in SPLITS])
def test_split_changes_back_to_articles(split: Split) -> None:
    if isinstance(split.expected, str):
        with pytest.raises(ValueError, match=split.expected):
            split_changes(split.changes, ARTICLES)
    else:
        assert split_changes(split.changes, ARTICLES) == split.expected


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"attributes": {"a": "A"}}, "set exactly one of key"),
        ({"key": "m", "pattern": "x", "attributes": {"a": "A"}}, "set exactly one of key"),
        ({"pattern": "(", "attributes": {"a": "A"}}, "not a regular expression"),
        ({"pattern": "(?P<model>.+)", "attributes": {"a": "A"}}, "named group"),
        ({"key": "m"}, "attributes"),
    ],
)
def test_a_rule_that_cannot_group_is_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert(settings, VariantRule)
