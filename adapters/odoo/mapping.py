"""Odoo rows -> canonical records, pure (no I/O).

A row that cannot become a valid record is not an error of the read: it is left out and
reported as ``(ref, reason)`` so it becomes a dead letter for a person to fix in Odoo.

Products: a template with one variant is a plain :class:`Product` keyed by the variant's
``default_code``; a template with several variants is one :class:`Product` whose SKU is the
variants' common SKU prefix (``SKU-000042`` for ``SKU-000042-RED-M``...), each variant a
:class:`Variant`. Odoo keeps no "unset" for floats, so a weight of 0 reads as no weight.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from adapters.base import Reject, Seen
from adapters.odoo.wire import (
    InvoiceRow,
    LineRow,
    OrderRow,
    PartnerRow,
    PriceRow,
    ProductRow,
    QuantRow,
    SkuRow,
    ref_id,
    ref_name,
    text,
)
from canonical.models import (
    Address,
    Attribute,
    Customer,
    Invoice,
    Order,
    OrderLine,
    Price,
    Product,
    Stock,
    Variant,
)

Rejected = list[tuple[str, str]]
_SEPARATORS = "-_/. "


def stamp(value: str | bool) -> datetime | None:
    """An Odoo UTC datetime string as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    # fromisoformat reads Odoo's "YYYY-MM-DD HH:MM:SS" ten times faster than strptime, which
    # counts at 30,000 articles; anything shorter than a full stamp is still refused.
    if len(value) < 19:
        raise ValueError(f"not an Odoo datetime: {value!r}")
    return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)


def _unique(seen: list[Seen], rejected: Rejected) -> list[Seen]:
    kept: dict[str, Seen] = {}
    for item in seen:
        key = item.record.natural_key()
        if key in kept:
            # Under the key: both records are held, as which one is the article is a guess.
            reason = f"duplicate key {key!r}, also on record {kept[key].ref}"
            rejected.append(Reject(item.ref, reason, key))
        else:
            kept[key] = item
    return list(kept.values())


def common_prefix(skus: list[str]) -> str:
    """The SKU variants share, cut at a separator: ``SKU-1-RED-M``, ``SKU-1-RED-L`` -> ``SKU-1``."""
    first, last = min(skus), max(skus)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    prefix = first[:size]
    if size < len(first) and prefix and prefix[-1] not in _SEPARATORS:
        cut = max(prefix.rfind(c) for c in _SEPARATORS)
        prefix = prefix[: cut + 1] if cut >= 0 else ""
    return prefix.rstrip(_SEPARATORS)


def _weight(value: Decimal) -> Decimal | None:
    return value if value else None


def _latest(stamps: list[str]) -> datetime | None:
    return stamp(max(stamps, default=""))


def products(
    rows: list[ProductRow],
    taxes: dict[int, str],
    values: dict[int, Attribute],
    categories: dict[int, tuple[str, ...]],
    template_stamps: dict[int, str],
    rejected: Rejected,
) -> list[Seen]:
    """Canonical products from ``product.product`` rows (all variants of each template).

    A product's modification time is the latest ``write_date`` of its template and variants:
    a name or price edited on the template in Odoo bumps only the template's."""
    by_template: dict[int, list[ProductRow]] = defaultdict(list)
    for row in rows:
        by_template[ref_id(row.product_tmpl_id) or -row.id].append(row)
    out: list[Seen] = []
    for template, variants in by_template.items():
        variants.sort(key=lambda r: r.id)
        first = variants[0]
        name = text(first.name)
        if not name:
            single = len(variants) == 1
            rejected.append(
                Reject(
                    f"product.template/{template}",
                    "product has no name",
                    text(first.default_code) if single else None,
                    seen_as=str(first.id) if single else f"tmpl-{template}",
                )
            )
            continue
        tax_code = taxes.get(first.taxes_id[0]) if first.taxes_id else None
        category = categories.get(ref_id(first.categ_id) or 0, ())
        modified = _latest(
            [template_stamps.get(template, ""), *(text(r.write_date) for r in variants)]
        )
        service = text(first.type) == "service"
        if len(variants) == 1:
            sku = text(first.default_code)
            if not sku:
                rejected.append(_no_reference(first.id))
                continue
            product = Product(
                sku=sku,
                name=name,
                description=text(getattr(first, "web_description", False)),
                short_description=text(first.description_sale),
                price=first.list_price,
                cost=first.standard_price,
                tax_code=tax_code,
                category=category,
                weight=_weight(first.weight),
                barcode=text(first.barcode) or None,
                active=first.active,
                service=service,
            )
            out.append(Seen(record=product, ref=str(first.id), modified_at=modified))
            continue
        missing = [r.id for r in variants if not text(r.default_code)]
        if missing:
            rejected.append(
                Reject(
                    f"product.template/{template}",
                    f"variants {missing} have no internal reference",
                    seen_as=f"tmpl-{template}",
                )
            )
            continue
        skus = [text(r.default_code) for r in variants]
        parent = common_prefix(skus)
        if not parent:
            rejected.append(
                Reject(
                    f"product.template/{template}",
                    f"variants {skus} share no SKU prefix",
                    seen_as=f"tmpl-{template}",
                )
            )
            continue
        product = Product(
            sku=parent,
            name=name,
            description=text(getattr(first, "web_description", False)),
            short_description=text(first.description_sale),
            price=first.list_price,
            tax_code=tax_code,
            category=category,
            active=any(r.active for r in variants),
            service=service,
            variants=tuple(
                Variant(
                    sku=text(r.default_code),
                    attributes=tuple(
                        values[v] for v in r.product_template_attribute_value_ids if v in values
                    ),
                    price=r.list_price,
                    active=r.active,
                )
                for r in variants
            ),
        )
        out.append(Seen(record=product, ref=f"tmpl-{template}", modified_at=modified))
    return _unique(out, rejected)


def _no_reference(product_id: int) -> Reject:
    return Reject(
        f"product.product/{product_id}",
        "no internal reference (default_code)",
        seen_as=str(product_id),
    )


def stocks(products: list[SkuRow], quants: list[QuantRow], rejected: Rejected) -> list[Seen]:
    """Stock per SKU: the sum of the location's quants (0 for an article with none)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    latest: dict[int, str] = {}
    for quant in quants:
        pid = ref_id(quant.product_id)
        if pid is not None:
            totals[pid] += quant.quantity
            latest[pid] = max(latest.get(pid, ""), text(quant.write_date))
    out = []
    for row in products:
        sku = text(row.default_code)
        if not sku:
            rejected.append(_no_reference(row.id))
            continue
        record = Stock(sku=sku, quantity=totals.get(row.id, Decimal(0)))
        out.append(
            Seen(
                record=record,
                ref=str(row.id),
                modified_at=stamp(latest.get(row.id, False) or False),
            )
        )
    return _unique(out, rejected)


def prices(
    rows: list[PriceRow], currency: str, template_stamps: dict[int, str], rejected: Rejected
) -> list[Seen]:
    """The sales price (``list_price``, kept on the template) of every article; modified when
    the article or its template was."""
    out = []
    for row in rows:
        sku = text(row.default_code)
        if not sku:
            rejected.append(_no_reference(row.id))
            continue
        record = Price(sku=sku, amount=row.list_price, currency=currency)
        template = template_stamps.get(ref_id(row.product_tmpl_id) or 0, "")
        modified = _latest([template, text(row.write_date)])
        out.append(Seen(record=record, ref=str(row.id), modified_at=modified))
    return _unique(out, rejected)


def split_name(name: str) -> tuple[str, str]:
    """Odoo keeps one name; the last word is taken as the last name."""
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


def customers(rows: list[PartnerRow], countries: dict[int, str], rejected: Rejected) -> list[Seen]:
    out = []
    for row in rows:
        email = text(row.email).strip()
        if "@" not in email:
            rejected.append((f"res.partner/{row.id}", f"invalid e-mail {email!r}"))
            continue
        name = text(row.name)
        first, last = ("", "") if row.is_company else split_name(name)
        company = name if row.is_company else ""
        country_id = ref_id(row.country_id)
        address = Address(
            first_name=first,
            last_name=last,
            company=company,
            line1=text(row.street),
            city=text(row.city),
            postcode=text(row.zip),
            country=countries.get(country_id, "") if country_id else "",
            phone=text(row.phone),
        )
        record = Customer(
            email=email,
            first_name=first,
            last_name=last,
            company=company,
            phone=text(row.phone),
            billing=address,
        )
        out.append(Seen(record=record, ref=str(row.id), modified_at=stamp(row.write_date)))
    return _unique(out, rejected)


def orders(
    rows: list[OrderRow],
    lines: dict[int, LineRow],
    skus: dict[int, str],
    emails: dict[int, str],
    rejected: Rejected,
) -> list[Seen]:
    """Sale orders keyed by the shop's number (``client_order_ref``), else their own name."""
    out = []
    for row in rows:
        ref = f"sale.order/{row.id}"
        created = stamp(row.date_order)
        number = text(row.client_order_ref) or text(row.name)
        if created is None or not number:
            rejected.append((ref, "order without a number or a date"))
            continue
        order_lines = []
        for line_id in row.order_line:
            line = lines.get(line_id)
            if line is None:
                continue
            sku = skus.get(ref_id(line.product_id) or 0, "")
            if not sku:
                rejected.append((ref, f"line {line_id} has no product with an internal reference"))
                break
            order_lines.append(
                OrderLine(
                    sku=sku,
                    name=text(line.name),
                    quantity=line.product_uom_qty,
                    unit_price=line.price_unit,
                    subtotal=line.price_subtotal,
                    total=line.price_total,
                    tax=line.price_tax,
                )
            )
        else:
            record = Order(
                number=number,
                status=text(row.state),
                currency=ref_name(row.currency_id) or "EUR",
                customer_email=emails.get(ref_id(row.partner_id) or 0, ""),
                created_at=created,
                lines=tuple(order_lines),
                tax_total=row.amount_tax,
                total=row.amount_total,
                note=text(row.note),
            )
            out.append(Seen(record=record, ref=str(row.id), modified_at=stamp(row.write_date)))
    return _unique(out, rejected)


def invoices(
    rows: list[InvoiceRow], order_numbers: dict[str, str], rejected: Rejected
) -> list[Seen]:
    """Customer invoices; ``order_number`` is the shop's number of the originating order."""
    out = []
    for row in rows:
        number = text(row.name)
        if not number or number == "/":
            rejected.append((f"account.move/{row.id}", "invoice without a number"))
            continue
        origin = text(row.invoice_origin)
        state = text(row.state)
        if state == "posted" and text(row.payment_state) in ("paid", "in_payment"):
            state = "paid"
        issued = (
            stamp(f"{row.invoice_date} 00:00:00") if isinstance(row.invoice_date, str) else None
        )
        record = Invoice(
            number=number,
            order_number=order_numbers.get(origin, origin),
            state=state,
            total=row.amount_total,
            currency=ref_name(row.currency_id) or "EUR",
            issued_on=issued.date() if issued else None,
        )
        out.append(Seen(record=record, ref=str(row.id), modified_at=stamp(row.write_date)))
    return _unique(out, rejected)
