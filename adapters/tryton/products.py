"""Articles out of Tryton: ``product.product`` rows grouped by ``product.template``.

A template with one product is a plain :class:`Product` keyed by the product's ``code``; a
template with several products is one :class:`Product` keyed by the template's ``code`` (the
products' codes are it plus a suffix), each product a :class:`Variant`.

Which fields, and why (30,000 articles must read in seconds, not minutes): stored columns cost
next to nothing (``code``, ``active``, ``template``, ``description``, the template's ``name``,
``code``, ``account_category`` and ``categories``), and ``last_modified_at`` is a SQL
expression. The prices are company-dependent values, computed per record (0.1-0.4 ms each): the
product's ``list_price_used`` (its own price or its template's) and ``cost_price`` are read, the
template's ``list_price`` only for templates with several variants. Taxes come from the account
category (a dozen rows, cached), never through the per-product ``customer_taxes_used``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.base import Reject, Seen
from adapters.tryton.client import TrytonClient
from adapters.tryton.lookups import Lookups
from canonical.models import Product, Variant

Row = dict[str, Any]
Rejected = list[tuple[str, str]]
ALL = {"active_test": False}
"""Context that includes archived records: a full read must see them to notice archiving."""

PRODUCT_FIELDS = (
    "code",
    "active",
    "template",
    "description",
    "list_price_used",
    "cost_price",
    "last_modified_at",
)
TEMPLATE_FIELDS = (
    "name",
    "code",
    "type",
    "active",
    "account_category",
    "categories",
    "last_modified_at",
)


def stamp(value: Any) -> datetime | None:
    """A Tryton timestamp (naive, UTC) as an aware datetime."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else None


class NotANumber(ValueError):
    """A Tryton amount that is no finite number; the message names the article and field."""


def money(value: Any, code: str, field: str) -> Decimal | None:
    """An amount Tryton answered for article ``code`` (None when it has none). NaN and
    infinities fit a PostgreSQL numeric column but are no price: refused, naming them."""
    if not isinstance(value, Decimal):
        return None
    if not value.is_finite():
        raise NotANumber(f"{code}: {field} is {value}, not a finite number")
    return value


def changed_domain(after: datetime) -> list[Any]:
    """Products whose own row or whose template changed after ``after``.

    ``last_modified_at`` is ``COALESCE(write_date, create_date)``: right after a create
    ``write_date`` is still NULL. A price or name edited on the template leaves the product's
    dates alone, hence the template clause.
    """
    return ["OR", ["last_modified_at", ">", after], ["template.last_modified_at", ">", after]]


class ProductReader:
    """Reads articles; rows it cannot use go to ``rejected``."""

    def __init__(self, client: TrytonClient, lookups: Lookups, rejected: Rejected) -> None:
        self.client = client
        self.lookups = lookups
        self.rejected = rejected

    async def changed_templates(self, after: datetime | None) -> list[int]:
        """Templates with a product (or themselves) changed after ``after``; all when None."""
        if after is None:
            return await self.client.search("product.template", [], context=ALL)
        ids = await self.client.search("product.product", changed_domain(after), context=ALL)
        rows = await self.client.read("product.product", ids, ["template"], context=ALL)
        return sorted({int(row["template"]) for row in rows})

    async def templates_of_codes(self, codes: Sequence[str]) -> list[int]:
        """Templates holding these SKUs (a product code or a template code)."""
        if not codes:
            return []
        domain = ["OR", ["code", "in", list(codes)], ["template.code", "in", list(codes)]]
        ids = await self.client.search("product.product", domain, context=ALL)
        rows = await self.client.read("product.product", ids, ["template"], context=ALL)
        return sorted({int(row["template"]) for row in rows})

    async def rows(self, templates: Sequence[int]) -> tuple[list[Row], dict[int, Row]]:
        """Every product of ``templates``, and the templates by id."""
        if not templates:
            return [], {}
        product_ids = await self.client.search(
            "product.product", [["template", "in", list(templates)]], context=ALL
        )
        products, template_rows = await asyncio.gather(
            self.client.read("product.product", product_ids, PRODUCT_FIELDS, context=ALL),
            self.client.read("product.template", templates, TEMPLATE_FIELDS, context=ALL),
        )
        by_template = {row["id"]: row for row in template_rows}
        counts: dict[int, int] = defaultdict(int)
        for row in products:
            counts[row["template"]] += 1
        several = [tid for tid, n in counts.items() if n > 1]
        if several:
            prices = await self.client.read(
                "product.template", several, ["list_price"], context=ALL
            )
            for row in prices:
                by_template[row["id"]]["list_price"] = row["list_price"]
        return products, by_template

    async def seen(self, templates: Sequence[int]) -> tuple[list[Seen], list[datetime]]:
        """Canonical products of ``templates`` and every modification time read."""
        products, by_template = await self.rows(templates)
        account_categories, categories = await asyncio.gather(
            self.lookups.account_categories(), self.lookups.categories()
        )
        seen = to_products(products, by_template, account_categories, categories, self.rejected)
        stamps = [
            s for r in (*products, *by_template.values()) if (s := stamp(r["last_modified_at"]))
        ]
        return seen, stamps


def to_products(
    products: list[Row],
    templates: dict[int, Row],
    account_categories: dict[int, str | None],
    categories: dict[int, tuple[str, ...]],
    rejected: Rejected,
) -> list[Seen]:
    """Canonical products from product rows (all products of each template), pure."""
    grouped: dict[int, list[Row]] = defaultdict(list)
    for row in products:
        grouped[int(row["template"])].append(row)
    out: list[Seen] = []
    for tid, rows in sorted(grouped.items()):
        rows.sort(key=lambda r: r["id"])
        template = templates.get(tid)
        if template is None:
            continue
        name = str(template["name"] or "").strip()
        if not name:
            single = len(rows) == 1
            key = str((rows[0] if single else template)["code"] or "")
            linked = str(rows[0]["id"]) if single else f"tmpl-{tid}"
            rejected.append(
                Reject(f"product.template/{tid}", "product has no name", key, seen_as=linked)
            )
            continue
        stamps = [stamp(r["last_modified_at"]) for r in (*rows, template)]
        modified = max((s for s in stamps if s), default=None)
        tax_code = account_categories.get(template["account_category"] or 0)
        category = next((categories[c] for c in template["categories"] if c in categories), ())
        if len(rows) == 1:
            row = rows[0]
            sku = str(row["code"] or "").strip()
            if not sku:
                rejected.append(
                    Reject(
                        f"product.product/{row['id']}",
                        "the product has no code (SKU)",
                        seen_as=str(row["id"]),
                    )
                )
                continue
            try:
                price = money(row["list_price_used"], sku, "list_price")
                cost = money(row["cost_price"], sku, "cost_price")
            except NotANumber as exc:
                rejected.append(Reject(f"product.product/{row['id']}", str(exc), sku))
                continue
            record = Product(
                sku=sku,
                name=name,
                description=str(row["description"] or ""),
                price=price,
                cost=cost,
                tax_code=tax_code,
                category=category,
                active=bool(row["active"]) and bool(template["active"]),
                service=template["type"] == "service",
            )
            out.append(Seen(record=record, ref=str(row["id"]), modified_at=modified))
            continue
        parent = str(template["code"] or "").strip()
        missing = [r["id"] for r in rows if not str(r["code"] or "").strip()]
        if not parent or missing:
            why = "the template has no code" if not parent else f"products {missing} have no code"
            reason = f"{why}; variants need SKUs"
            rejected.append(
                Reject(f"product.template/{tid}", reason, parent, seen_as=f"tmpl-{tid}")
            )
            continue
        try:
            variants = tuple(
                Variant(
                    sku=str(r["code"]).strip(),
                    price=money(r["list_price_used"], str(r["code"]).strip(), "list_price"),
                    active=bool(r["active"]),
                )
                for r in rows
            )
            price = money(template.get("list_price"), parent, "list_price")
        except NotANumber as exc:
            rejected.append(Reject(f"product.template/{tid}", str(exc), parent))
            continue
        record = Product(
            sku=parent,
            name=name,
            description=str(rows[0]["description"] or ""),
            price=price,
            tax_code=tax_code,
            category=category,
            active=bool(template["active"]) and any(v.active for v in variants),
            service=template["type"] == "service",
            variants=variants,
        )
        out.append(Seen(record=record, ref=f"tmpl-{tid}", modified_at=modified))
    return out
