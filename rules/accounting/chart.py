"""The chart of accounts: the ``[connections.<name>.accounting]`` table, and its checks.

::

    [connections.main.accounting]
    siren = "732829320"              # the FEC file's name; nine digits (Luhn-checked)
    country = "FR"                   # where the seller is established
    oss = true                       # EU one-stop shop: B2C sales to other EU countries
                                     # carry the destination country's VAT
    timezone = "Europe/Paris"        # the day an entry belongs to
    entry_per = "order"              # or "day": one sales entry per day
    customer_mode = "per_customer"   # or "collective": one customer account for all
    customer_account = "411000"
    sales_journal = "VE"
    shipping_account = "708500"
    fees_account = "708800"
    rounding_debit = "658000"
    rounding_credit = "758000"

    [connections.main.accounting.vat]        # "<country>:<rate>", or "*:<rate>" for any
    "FR:20" = { sales = "707100", vat = "445711" }
    "DE:19" = { sales = "707210", vat = "445712" }
    "*:0" = { sales = "707900", vat = "445700" }

    [connections.main.accounting.gateways]   # the shop's payment method id
    stripe = { journal = "CB", label = "Card", clearing = "511100" }
    bacs = { journal = "BQ", label = "Bank transfer", clearing = "512000" }

Every problem is reported as (record, field, reason) by :func:`check_chart`, so the
configuration loader can name the TOML key. Secrets have no place here: the table names
accounts, not credentials.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import msgspec

from rules.accounting.oss import EU_RATES

Account = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Journal = Annotated[str, msgspec.Meta(min_length=1, max_length=8)]
Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]

_ACCOUNT = re.compile(r"^[0-9]{3}[0-9A-Za-z]*$")
_JOURNAL = re.compile(r"^[A-Z0-9]{1,8}$")
_VAT_KEY = re.compile(r"^(?P<country>[A-Z]{2}|\*):(?P<rate>[0-9]+(?:\.[0-9]+)?)$")
_TEXT_FORBIDDEN = re.compile(r"[\t|\r\n]")


class VatAccounts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the sales at one VAT rate and country go: revenue and collected VAT."""

    sales: Account
    vat: Account


class GatewayAccounts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A payment method: its journal, and the clearing account its money waits on."""

    journal: Journal
    clearing: Account
    label: str = ""


class AccountingConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How one connection's sales, payments and refunds are booked."""

    enabled: bool = True
    siren: str
    country: Country = "FR"
    oss: bool = True
    timezone: str = "UTC"
    currency: str = "EUR"
    entry_per: Literal["order", "day"] = "order"
    customer_mode: Literal["collective", "per_customer"] = "collective"
    customer_account: Account = "411000"
    customer_prefix: str = "C"
    """Per customer: the auxiliary account is this prefix and a code of the buyer's e-mail."""
    sales_journal: Journal = "VE"
    sales_journal_label: str = "Web sales"
    shipping_account: Account
    fees_account: Account
    rounding_debit: Account = "658000"
    rounding_credit: Account = "758000"
    rounding_tolerance: str = "0.05"
    """The most a rounding line may carry per order; more holds the order."""
    vat: dict[str, VatAccounts] = {}
    gateways: dict[str, GatewayAccounts] = {}
    rates: dict[Country, list[float | int]] = {}
    """Replaces the built-in VAT rates of these EU countries (rules/accounting/oss.py)."""
    labels: dict[str, str] = {}
    """Account number -> its name in the FEC's CompteLib (default: a name of its role)."""
    since: str | None = None
    """The scheduled job books nothing dated before this day."""
    erp: bool = False
    """Also post every booked entry into the ERP's journals (Odoo ``account.move``)."""
    erp_reference_prefix: str = ""
    """Before the entry's key (``sale:<order id>``...) in the ERP entry's reference."""
    every: str = "1d"


class ChartProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with the table: which record, which field, why."""

    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}.{self.field}: {self.reason}" if self.record else self.field


def siren_is_valid(siren: str) -> bool:
    """Nine digits whose Luhn sum is a multiple of ten (the INSEE's check)."""
    if not re.fullmatch(r"[0-9]{9}", siren):
        return False
    total = 0
    for index, char in enumerate(reversed(siren)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def rate_text(rate: Decimal) -> str:
    """A rate as the table's keys spell it: ``20``, ``5.5``, ``0``."""
    text = f"{rate.normalize():f}"
    return text if text != "-0" else "0"


def parse_vat_key(key: str) -> tuple[str, Decimal] | None:
    """``"DE:19"`` -> ("DE", 19); ``None`` when the key is not of that form."""
    found = _VAT_KEY.match(key)
    if found is None:
        return None
    return found["country"], Decimal(found["rate"])


def _account_problem(value: str) -> str | None:
    if not _ACCOUNT.match(value):
        return (
            f"{value!r} is not an account number (letters and digits, the first three "
            "digits of the French chart of accounts)"
        )
    return None


def check_chart(config: AccountingConfig) -> list[ChartProblem]:
    """Every problem of the table, empty when it can be used."""
    problems: list[ChartProblem] = []

    def add(record: str, field: str, reason: str) -> None:
        problems.append(ChartProblem(record=record, field=field, reason=reason))

    if not siren_is_valid(config.siren):
        add("", "siren", f"{config.siren!r} is not a SIREN (nine digits, Luhn-checked)")
    for field in (
        "customer_account",
        "shipping_account",
        "fees_account",
        "rounding_debit",
        "rounding_credit",
    ):
        reason = _account_problem(getattr(config, field))
        if reason:
            add("", field, reason)
    if not _JOURNAL.match(config.sales_journal):
        add("", "sales_journal", f"{config.sales_journal!r}: capital letters and digits, 1 to 8")
    try:
        tolerance = Decimal(config.rounding_tolerance)
        if not tolerance.is_finite() or tolerance < 0:
            raise InvalidOperation
    except InvalidOperation:
        add("", "rounding_tolerance", f"{config.rounding_tolerance!r} is not an amount")
    if config.customer_mode == "per_customer" and not re.fullmatch(
        r"[0-9A-Za-z]{0,6}", config.customer_prefix
    ):
        add("", "customer_prefix", "up to six letters or digits")
    if not config.vat:
        add("", "vat", 'map at least one VAT rate ("FR:20" = { sales = ..., vat = ... })')
    for key, accounts in config.vat.items():
        parsed = parse_vat_key(key)
        if parsed is None:
            add(
                f"vat.{key}",
                "(key)",
                'expected <country>:<rate> ("DE:19", "FR:5.5") or *:<rate> ("*:0")',
            )
        else:
            country, rate = parsed
            known = EU_RATES.get(country)
            if country in config.rates:
                known = tuple(Decimal(str(r)) for r in config.rates[country])
            if known is not None and rate != 0 and rate not in known:
                listed = ", ".join(rate_text(r) for r in known)
                add(f"vat.{key}", "(key)", f"{country} has no VAT rate {rate} (rates: {listed})")
        for field in ("sales", "vat"):
            reason = _account_problem(getattr(accounts, field))
            if reason:
                add(f"vat.{key}", field, reason)
    for name, gateway in config.gateways.items():
        if not _JOURNAL.match(gateway.journal):
            add(f"gateways.{name}", "journal", f"{gateway.journal!r}: capital letters and digits")
        if gateway.journal == config.sales_journal:
            add(f"gateways.{name}", "journal", "is the sales journal; payments need their own")
        reason = _account_problem(gateway.clearing)
        if reason:
            add(f"gateways.{name}", "clearing", reason)
    for account, label in config.labels.items():
        reason = _account_problem(account)
        if reason:
            add(f"labels.{account}", "(key)", reason)
        if _TEXT_FORBIDDEN.search(label):
            add(f"labels.{account}", "(value)", "no tab, pipe or line break (FEC separators)")
    return problems
