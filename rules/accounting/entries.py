"""Journal entries from the shop's documents (pure): sales, payments, credit notes, refunds.

Per paid order:

- a **sale** in the sales journal: the customer's account debited with the order's total;
  revenue credited per (country, VAT rate) on the rate's sales account, shipping and fees on
  their own accounts, the VAT the shop totalled per rate on the rate's VAT account, and, when
  the shop's total and its lines differ by a rounding, that difference on a rounding account
  (more than ``rounding_tolerance`` holds the order: it is not a rounding);
- a **payment** in the payment method's journal: its clearing account debited, the customer
  credited, the two customer lines lettered together.

Per refund: a **credit note** (the sale's lines reversed in proportion of the refund, to the
cent) and a **refund payment** through the order's payment method, lettered together.

With ``entry_per = "day"`` the sales of a closed day become one entry: one customer line per
order (so payments still letter against them) and the other lines summed per account.

Anything that cannot be booked faithfully raises :class:`EntryHeld` naming the document, the
field and the reason; :func:`plan` keeps it as :class:`Held` and books the rest.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, tzinfo
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import partial
from typing import Literal

import msgspec

from rules.accounting.chart import AccountingConfig, VatAccounts, rate_text
from rules.accounting.documents import RefundDocument, SaleDocument
from rules.accounting.oss import EU_RATES, vat_country, wrong_rate

CENT = Decimal("0.01")
ZERO = Decimal(0)
EntryKind = Literal["sale", "payment", "credit_note", "refund_payment", "sales_day"]
_KIND_ORDER = {"sale": 0, "sales_day": 0, "payment": 1, "credit_note": 2, "refund_payment": 3}
_NOT_SOLD = frozenset({"pending", "failed", "cancelled", "trash", "checkout-draft"})


class EntryHeld(ValueError):
    """A document cannot be booked as it is; the message names it, the field and why."""


class EntryLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an entry: an amount on the debit or the credit of an account."""

    account: str
    account_label: str
    label: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    aux: str = ""
    aux_label: str = ""
    piece: str = ""
    match: str = ""
    """Lines of one account sharing a match are lettered together once they balance."""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A balanced journal entry, and the shop documents it books."""

    key: str
    kind: EntryKind
    journal: str
    journal_label: str
    day: date
    piece: str
    piece_day: date
    label: str
    lines: tuple[EntryLine, ...]
    sources: tuple[str, ...]
    """The shop documents booked by it (``sale:<order id>``, ``refund:<refund id>``, ...):
    each is booked once, whatever entry carries it."""
    currency: str = "EUR"

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)


class Held(msgspec.Struct, frozen=True, kw_only=True):
    """A document that was not booked, and why."""

    key: str
    reason: str


class Plan(msgspec.Struct, kw_only=True):
    """What to book: entries in booking order, documents held, sales waiting for their day."""

    entries: list[Entry]
    held: list[Held]
    waiting: int = 0


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The day a moment belongs to in the books' time zone."""
    return moment.astimezone(zone).date()


def is_sold(doc: SaleDocument) -> bool:
    """Paid, and not an order the shop gave up (a paid order refunded later stays sold)."""
    return doc.paid_at is not None and doc.status not in _NOT_SOLD


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _line(
    account: str, account_label: str, label: str, amount: Decimal, *, piece: str
) -> EntryLine:
    """A line crediting ``amount`` (debiting it when negative)."""
    amount = _cents(amount)
    line = EntryLine(account=account, account_label=account_label, label=label, piece=piece)
    if amount >= 0:
        return msgspec.structs.replace(line, credit=amount)
    return msgspec.structs.replace(line, debit=-amount)


def _reversed(line: EntryLine, **changes: object) -> EntryLine:
    return msgspec.structs.replace(line, debit=line.credit, credit=line.debit, **changes)


def customer_code(email: str, prefix: str) -> str:
    """The auxiliary account of a buyer: the prefix and ten letters of their e-mail's hash
    (stable, and the same for every order of the buyer)."""
    digest = hashlib.sha256(email.strip().lower().encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


def _customer_line(
    doc: SaleDocument, config: AccountingConfig, label: str, *, debit: Decimal, match: str
) -> EntryLine:
    aux = aux_label = ""
    if config.customer_mode == "per_customer":
        if "@" not in doc.customer_email:
            raise EntryHeld(
                f"order {doc.number}: customer_email {doc.customer_email!r} is not an e-mail "
                "address; the customer's account cannot be chosen"
            )
        aux = customer_code(doc.customer_email, config.customer_prefix)
        aux_label = (doc.customer_name or doc.customer_email).strip()
    line = EntryLine(
        account=config.customer_account,
        account_label=config.labels.get(config.customer_account, "Customers"),
        label=label,
        aux=aux,
        aux_label=aux_label,
        piece=doc.number,
        match=match,
    )
    if debit >= 0:
        return msgspec.structs.replace(line, debit=_cents(debit))
    return msgspec.structs.replace(line, credit=_cents(-debit))


def _vat_accounts(
    config: AccountingConfig, doc: SaleDocument, country: str, rate: Decimal
) -> VatAccounts:
    if country in EU_RATES or country in config.rates:
        reason = wrong_rate(country=country, rate=rate, overrides=config.rates)
        if reason:
            raise EntryHeld(
                f"order {doc.number}: VAT {rate_text(rate)}% charged for a sale taxed in "
                f"{country}, but {reason}; correct the shop's tax rates"
            )
    key = f"{country}:{rate_text(rate)}"
    found = config.vat.get(key) or config.vat.get(f"*:{rate_text(rate)}")
    if found is None:
        raise EntryHeld(
            f"order {doc.number}: no accounts for VAT rate {rate_text(rate)}% in {country} "
            f'(add "{key}" or "*:{rate_text(rate)}" to the accounting.vat table)'
        )
    return found


def _label_of(config: AccountingConfig, account: str, default: str) -> str:
    return config.labels.get(account, default)


def sale_match(doc: SaleDocument) -> str:
    """The lettering code of an order's sale and payment."""
    return f"S{doc.ref}"


def refund_match(refund: RefundDocument) -> str:
    """The lettering code of a refund's credit note and its payment."""
    return f"R{refund.ref}"


def _check_document(doc: SaleDocument, config: AccountingConfig) -> None:
    if doc.currency != config.currency:
        raise EntryHeld(
            f"order {doc.number}: currency {doc.currency!r}: the books are kept in "
            f"{config.currency} and no exchange rate is known"
        )
    if doc.paid_at is None:
        raise EntryHeld(f"order {doc.number}: paid_at is empty; an unpaid order is not a sale")


def sale_entry(doc: SaleDocument, config: AccountingConfig, zone: tzinfo) -> Entry:
    """The sale of a paid order; raises :class:`EntryHeld`."""
    _check_document(doc, config)
    assert doc.paid_at is not None
    destination = doc.country.strip().upper()
    if not destination:
        raise EntryHeld(f"order {doc.number}: country is empty; the VAT country is unknown")
    business = bool(doc.company.strip()) and all(a.rate == 0 for a in doc.amounts)
    country = vat_country(
        seller=config.country, destination=destination, business=business, oss=config.oss
    )
    credits: dict[tuple[str, str, str], Decimal] = {}

    def credit(account: str, account_label: str, label: str, amount: Decimal) -> None:
        key = (account, account_label, label)
        credits[key] = credits.get(key, ZERO) + amount

    for amount in doc.amounts:
        accounts = _vat_accounts(config, doc, country, amount.rate)
        where = f"{country} {rate_text(amount.rate)}%"
        if amount.kind == "goods":
            account, role = accounts.sales, f"Sales {where}"
        elif amount.kind == "shipping":
            account, role = config.shipping_account, "Shipping"
        else:
            account, role = config.fees_account, "Fees"
        credit(account, _label_of(config, account, role), f"{role} {doc.number}", amount.net)
    for tax in doc.taxes:
        accounts = _vat_accounts(config, doc, country, tax.rate)
        where = f"{country} {rate_text(tax.rate)}%"
        credit(
            accounts.vat,
            _label_of(config, accounts.vat, f"VAT collected {where}"),
            f"VAT {where} {doc.number}",
            tax.amount,
        )
    booked = sum(credits.values(), ZERO)
    rounding = _cents(doc.total - booked)
    if abs(rounding) > Decimal(config.rounding_tolerance):
        raise EntryHeld(
            f"order {doc.number}: total {doc.total} is not its lines and VAT ({_cents(booked)}); "
            f"a difference of {rounding} is not a rounding"
        )
    if rounding > 0:
        credit(
            config.rounding_credit,
            _label_of(config, config.rounding_credit, "Rounding"),
            f"Rounding {doc.number}",
            rounding,
        )
    elif rounding < 0:
        credit(
            config.rounding_debit,
            _label_of(config, config.rounding_debit, "Rounding"),
            f"Rounding {doc.number}",
            rounding,
        )
    name = doc.customer_name or doc.customer_email
    label = f"Sale {doc.number} {name}".strip()
    lines = [_customer_line(doc, config, label, debit=doc.total, match=sale_match(doc))]
    lines += [
        _line(account, account_label, text, amount, piece=doc.number)
        for (account, account_label, text), amount in credits.items()
        if _cents(amount) != 0
    ]
    day = local_day(doc.paid_at, zone)
    return _entry(
        f"sale:{doc.ref}",
        "sale",
        (config.sales_journal, config.sales_journal_label),
        day,
        doc.number,
        label,
        tuple(lines),
        doc.currency,
    )


def _gateway(doc: SaleDocument, config: AccountingConfig) -> tuple[str, str, str, str]:
    """(journal, journal label, clearing account, its label) of the order's payment method."""
    found = config.gateways.get(doc.gateway)
    if found is None:
        known = ", ".join(sorted(config.gateways)) or "none"
        raise EntryHeld(
            f"order {doc.number}: payment method {doc.gateway!r} has no journal "
            f"(add it to the accounting.gateways table; mapped: {known})"
        )
    title = found.label or doc.gateway_title or doc.gateway
    clearing_label = _label_of(config, found.clearing, f"{title} clearing")
    return found.journal, title, found.clearing, clearing_label


def payment_entry(doc: SaleDocument, config: AccountingConfig, zone: tzinfo) -> Entry:
    """The payment of a paid order through its payment method; raises :class:`EntryHeld`."""
    _check_document(doc, config)
    assert doc.paid_at is not None
    journal, title, clearing, clearing_label = _gateway(doc, config)
    label = f"Payment {doc.number} {title}"
    if doc.transaction_id:
        label += f" {doc.transaction_id}"
    day = local_day(doc.paid_at, zone)
    lines = (
        EntryLine(
            account=clearing,
            account_label=clearing_label,
            label=label,
            debit=_cents(doc.total),
            piece=doc.number,
        ),
        _customer_line(doc, config, label, debit=-doc.total, match=sale_match(doc)),
    )
    return _entry(
        f"payment:{doc.ref}",
        "payment",
        (journal, title),
        day,
        doc.number,
        label,
        lines,
        doc.currency,
    )


def prorate(amounts: Sequence[Decimal], target: Decimal) -> list[Decimal]:
    """``amounts`` scaled to add up to ``target``, each to the cent: every share is rounded
    down, then the cents left go to the largest remainders (the sum is exact)."""
    whole = sum(amounts, ZERO)
    if whole == 0:
        raise ValueError("cannot prorate amounts that add up to zero")
    exact = [a * target / whole for a in amounts]
    shares = [e.quantize(CENT, rounding=ROUND_FLOOR) for e in exact]
    left = int((_cents(target) - sum(shares, ZERO)) / CENT)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in order[: max(left, 0)]:
        shares[index] += CENT
    return shares


def credit_note_entry(
    doc: SaleDocument, refund: RefundDocument, config: AccountingConfig, zone: tzinfo
) -> Entry:
    """A refund as a credit note: the sale's lines reversed in proportion of the refund."""
    sale = sale_entry(doc, config, zone)
    if refund.amount <= 0 or refund.amount > doc.total:
        raise EntryHeld(
            f"refund {refund.ref} of order {doc.number}: amount {refund.amount} is not between "
            f"0 and the order's total {doc.total}"
        )
    others = [line for line in sale.lines if not line.match]
    signed = [line.credit - line.debit for line in others]
    shares = signed if refund.amount == doc.total else prorate(signed, refund.amount)
    label = f"Credit note {doc.number} refund {refund.ref}"
    lines = [_customer_line(doc, config, label, debit=-refund.amount, match=refund_match(refund))]
    for line, share in zip(others, shares, strict=True):
        if share == 0:
            continue
        lines.append(
            _reversed(
                _line(line.account, line.account_label, line.label, share, piece=doc.number),
                label=f"{line.label} refund {refund.ref}",
            )
        )
    day = local_day(refund.created_at, zone)
    return _entry(
        f"credit:{refund.ref}",
        "credit_note",
        (config.sales_journal, config.sales_journal_label),
        day,
        f"{doc.number}-R{refund.ref}",
        label,
        tuple(lines),
        doc.currency,
    )


def refund_payment_entry(
    doc: SaleDocument, refund: RefundDocument, config: AccountingConfig, zone: tzinfo
) -> Entry:
    """The money of a refund going back through the order's payment method."""
    _check_document(doc, config)
    journal, title, clearing, clearing_label = _gateway(doc, config)
    label = f"Refund {doc.number} {title} {refund.ref}"
    day = local_day(refund.created_at, zone)
    lines = (
        _customer_line(doc, config, label, debit=refund.amount, match=refund_match(refund)),
        EntryLine(
            account=clearing,
            account_label=clearing_label,
            label=label,
            credit=_cents(refund.amount),
            piece=f"{doc.number}-R{refund.ref}",
        ),
    )
    return _entry(
        f"refund-payment:{refund.ref}",
        "refund_payment",
        (journal, title),
        day,
        f"{doc.number}-R{refund.ref}",
        label,
        lines,
        doc.currency,
    )


def day_entry(day: date, sales: Sequence[Entry], config: AccountingConfig) -> Entry:
    """The sales of one day as one entry: a customer line per order, the rest per account."""
    customers: list[EntryLine] = []
    summed: dict[tuple[str, str], Decimal] = {}
    for sale in sales:
        for line in sale.lines:
            if line.match:
                customers.append(line)
            else:
                key = (line.account, line.account_label)
                summed[key] = summed.get(key, ZERO) + line.credit - line.debit
    piece = f"D{day:%Y%m%d}"
    label = f"Web sales of {day.isoformat()}"
    lines = customers + [
        _line(account, account_label, f"{account_label} {day.isoformat()}", amount, piece=piece)
        for (account, account_label), amount in summed.items()
        if amount != 0
    ]
    return _balanced(
        Entry(
            key=f"sales-day:{day.isoformat()}:{sales[0].sources[0]}",
            kind="sales_day",
            journal=config.sales_journal,
            journal_label=config.sales_journal_label,
            day=day,
            piece=piece,
            piece_day=day,
            label=label,
            lines=tuple(lines),
            sources=tuple(source for sale in sales for source in sale.sources),
            currency=config.currency,
        )
    )


def _entry(
    key: str,
    kind: EntryKind,
    journal: tuple[str, str],
    day: date,
    piece: str,
    label: str,
    lines: Iterable[EntryLine],
    currency: str,
) -> Entry:
    """The entry booking the one shop document ``key``, checked to balance."""
    return _balanced(
        Entry(
            key=key,
            kind=kind,
            journal=journal[0],
            journal_label=journal[1],
            day=day,
            piece=piece,
            piece_day=day,
            label=label,
            lines=tuple(lines),
            sources=(key,),
            currency=currency,
        )
    )


def _balanced(entry: Entry) -> Entry:
    if entry.debit != entry.credit:
        raise AssertionError(f"{entry.key}: debit {entry.debit} != credit {entry.credit}")
    return entry


def plan(
    docs: Iterable[SaleDocument],
    config: AccountingConfig,
    zone: tzinfo,
    *,
    start: date,
    end: date,
    booked: Collection[str],
    open_day: date | None = None,
) -> Plan:
    """The entries to book for the documents dated from ``start`` to ``end`` (inclusive) not
    yet ``booked`` (by source key), in booking order. With ``entry_per = "day"`` the sales of
    ``open_day`` and later wait for their day to end."""
    entries: list[Entry] = []
    held: list[Held] = []
    day_sales: dict[date, list[Entry]] = {}
    waiting = 0

    def attempt(key: str, make: Callable[[], Entry]) -> Entry | None:
        if key in booked:
            return None
        try:
            return make()
        except EntryHeld as exc:
            held.append(Held(key=key, reason=str(exc)))
            return None

    for doc in docs:
        if is_sold(doc):
            assert doc.paid_at is not None
            day = local_day(doc.paid_at, zone)
            if start <= day <= end:
                sale = attempt(f"sale:{doc.ref}", partial(sale_entry, doc, config, zone))
                if sale is not None and config.entry_per == "day":
                    if open_day is not None and day >= open_day:
                        waiting += 1
                    else:
                        day_sales.setdefault(day, []).append(sale)
                elif sale is not None:
                    entries.append(sale)
                payment = attempt(f"payment:{doc.ref}", partial(payment_entry, doc, config, zone))
                if payment is not None:
                    entries.append(payment)
        for refund in doc.refunds:
            if not start <= local_day(refund.created_at, zone) <= end:
                continue
            for key, make in (
                (f"credit:{refund.ref}", credit_note_entry),
                (f"refund-payment:{refund.ref}", refund_payment_entry),
            ):
                entry = attempt(key, partial(make, doc, refund, config, zone))
                if entry is not None:
                    entries.append(entry)
    for day, sales in day_sales.items():
        entries.append(day_entry(day, sorted(sales, key=lambda e: e.key), config))
    entries.sort(key=lambda e: (e.day, _KIND_ORDER[e.kind], e.key))
    return Plan(entries=entries, held=held, waiting=waiting)
