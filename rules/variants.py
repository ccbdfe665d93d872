"""Grouping plain ERP articles into one shop product with variants (pure).

ERP catalogues keep "TSHIRT-RED-M" and "TSHIRT-RED-L" as separate articles; the shop wants one
product "TSHIRT" whose variations carry colour and size. The group key (the parent's SKU) comes
from an ERP field or from a SKU pattern with named groups; each variant keeps its own SKU, price,
cost, weight and stock, so the stock and price jobs keep working per article.

A group that cannot be built faithfully (two articles with the same options, articles that
disagree on the tax code or the category, a missing option) is not guessed: it is returned as a
problem naming the group and the article, and the engine holds it as a dead letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from canonical.models import Attribute, Product, Variant

PARENT_GROUP = "parent"
"""The named group of ``pattern`` that holds the parent's SKU."""
GROUP_REF = "group:"
"""Prefix of the ref a grouped product gets on the ERP side (it has no record of its own)."""
_NAME_TRIM = " -,/_"


class VariantRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[connections.<name>.transforms.variants]``: how articles become variants.

    Exactly one of ``key`` (an ERP field, read from the article's attributes, holding the
    parent's SKU) and ``pattern`` (a regular expression over the SKU with a ``parent`` named
    group) is set. ``attributes`` maps each source (a pattern group or an ERP field) to the
    attribute name shown in the shop, in display order. ``name`` names an ERP field holding
    the parent's name; without it the words all the articles' names start with are used.
    """

    key: str | None = None
    pattern: str | None = None
    attributes: dict[str, str] = {}
    name: str | None = None

    def __post_init__(self) -> None:
        if (self.key is None) == (self.pattern is None):
            raise ValueError("set exactly one of key (an ERP field) and pattern (a SKU regex)")
        if self.pattern is not None:
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from None
            if PARENT_GROUP not in compiled.groupindex:
                raise ValueError(f"pattern needs a named group (?P<{PARENT_GROUP}>...)")
        if not self.attributes:
            raise ValueError("attributes: name at least one source of the variants' options")

    def compiled(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern is not None else None

    def consumed(self) -> frozenset[str]:
        """ERP fields the rule reads, which therefore do not become plain attributes."""
        return frozenset({*self.attributes, *(f for f in (self.key, self.name) if f)})


class Grouped(msgspec.Struct, kw_only=True):
    """The result of :func:`group_articles`."""

    products: list[Product]
    """Grouped products and the articles left plain, by SKU."""
    members: dict[str, list[str]]
    """Each grouped product's article SKUs."""
    problems: dict[str, str]
    """Group (or article) key -> why it cannot be built; none of its articles is in ``products``."""


def _field(article: Product, name: str) -> str | None:
    for attribute in article.attributes:
        if attribute.name == name:
            return attribute.value.strip() or None
    return None


def group_key(article: Product, rule: VariantRule) -> tuple[str | None, dict[str, str]]:
    """The parent SKU of ``article`` (None: it stays a plain article) and its pattern groups."""
    pattern = rule.compiled()
    if pattern is None:
        assert rule.key is not None
        return _field(article, rule.key), {}
    match = pattern.fullmatch(article.sku)
    if match is None:
        return None, {}
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    return groups.get(PARENT_GROUP) or None, groups


def _options(article: Product, rule: VariantRule, groups: Mapping[str, str]) -> list[Attribute]:
    options = []
    for source, shown in rule.attributes.items():
        value = groups.get(source) or _field(article, source)
        if not value:
            raise ValueError(f"article {article.sku}: no value for the variant option {source!r}")
        options.append(Attribute(name=shown, value=value))
    return options


def _common_name(names: list[str]) -> str:
    words = [n.split() for n in names]
    common: list[str] = []
    for column in zip(*words, strict=False):
        if any(w != column[0] for w in column):
            break
        common.append(column[0])
    return " ".join(common).strip(_NAME_TRIM) or names[0]


def _same(articles: list[Product], what: str, value: Any, parent: str) -> None:
    for article in articles:
        if getattr(article, what) != value:
            raise ValueError(
                f"articles of {parent} disagree on {what}: {articles[0].sku} has "
                f"{value!r}, {article.sku} has {getattr(article, what)!r}"
            )


def _build(
    parent: str, articles: list[Product], rule: VariantRule, drop: frozenset[str]
) -> Product:
    articles.sort(key=lambda a: a.sku)
    first = articles[0]
    _same(articles, "tax_code", first.tax_code, parent)
    _same(articles, "category", first.category, parent)
    variants: list[Variant] = []
    seen: dict[tuple[Attribute, ...], str] = {}
    for article in articles:
        if article.sale_from is not None or article.sale_to is not None:
            raise ValueError(
                f"article {article.sku}: a variant cannot carry sale dates; "
                "set the sale price without dates or on a plain article"
            )
        _, groups = group_key(article, rule)
        options = tuple(_options(article, rule, groups))
        if options in seen:
            raise ValueError(
                f"articles {seen[options]} and {article.sku} of {parent} have the same options "
                + ", ".join(f"{a.name}={a.value}" for a in options)
            )
        seen[options] = article.sku
        variants.append(
            Variant(
                sku=article.sku,
                attributes=options,
                price=article.price,
                sale_price=article.sale_price,
                cost=article.cost,
                weight=article.weight,
                active=article.active,
            )
        )
    name = _field(first, rule.name) if rule.name else None
    skip = drop | rule.consumed()
    shared = [
        a
        for a in first.attributes
        if a.name not in skip and all(a in other.attributes for other in articles)
    ]
    return Product(
        sku=parent,
        name=name or _common_name([a.name for a in articles]),
        description=first.description,
        tax_code=first.tax_code,
        category=first.category,
        active=any(a.active for a in articles),
        attributes=tuple(shared),
        variants=tuple(variants),
    )


def group_articles(
    articles: Iterable[Product], rule: VariantRule, *, drop: frozenset[str] = frozenset()
) -> Grouped:
    """Group ``articles`` by their parent key; articles without one stay plain products.

    ``drop`` names further ERP fields consumed elsewhere (category levels) that must not become
    plain attributes of the grouped product.
    """
    plain: dict[str, Product] = {}
    groups: dict[str, list[Product]] = {}
    problems: dict[str, str] = {}
    for article in articles:
        parent, _ = group_key(article, rule)
        if parent is None:
            plain[article.sku] = article
        else:
            groups.setdefault(parent, []).append(article)
    members = {parent: sorted(a.sku for a in group) for parent, group in groups.items()}
    for parent in sorted(groups.keys() & plain.keys()):
        problems[parent] = (
            f"{parent} is both an article's SKU and the group key of "
            f"{', '.join(members[parent])}; rename one of them"
        )
        del plain[parent]
    built: list[Product] = []
    for parent, group in sorted(groups.items()):
        if parent in problems:
            continue
        try:
            built.append(_build(parent, group, rule, drop))
        except ValueError as exc:
            problems[parent] = str(exc)
    return Grouped(
        products=sorted([*built, *plain.values()], key=lambda p: p.sku),
        members={k: v for k, v in members.items() if k not in problems},
        problems=problems,
    )


_VARIANT_FIELDS = {
    "price": "price",
    "sale_price": "sale_price",
    "cost": "cost",
    "weight": "weight",
    "active": "active",
}
GROUPED_VARIANT_FIELDS = frozenset(_VARIANT_FIELDS)
"""An article's fields its variant carries when grouped (and writes back to it)."""
_SHARED_FIELDS = ("description", "tax_code", "category")


def split_changes(
    changes: Mapping[str, Any], articles: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """A grouped product's changed fields as changes to each of its articles (for writing back
    to the ERP). ``articles`` holds each article's current fields by SKU.

    Product-wide fields (description, tax code, category) go to every article; a variant's
    price, sale price, cost, weight and active flag go to its article only. Anything else
    cannot be written back to separate articles and raises ``ValueError`` naming it.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        if name in _SHARED_FIELDS:
            for sku, current in articles.items():
                if current.get(name) != value:
                    out.setdefault(sku, {})[name] = value
        elif name == "variants":
            for variant in value or []:
                article = articles.get(variant.get("sku", ""))
                if article is None:
                    raise ValueError(
                        f"variant {variant.get('sku')!r} has no ERP article to write to"
                    )
                for source, target in _VARIANT_FIELDS.items():
                    if source in variant and article.get(target) != variant[source]:
                        out.setdefault(variant["sku"], {})[target] = variant[source]
        else:
            raise ValueError(f"{name} of a grouped product cannot be written back to its articles")
    return out
