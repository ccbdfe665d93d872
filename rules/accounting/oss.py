"""Which country's VAT a sale carries (the EU one-stop shop), and whether the shop charged it.

Since July 2021 a B2C distance sale to a consumer in another EU country carries the VAT of
the destination country, declared through the one-stop shop (OSS); a sale at home carries the
seller's VAT; an export outside the EU and an intra-EU sale to a business (reverse charge)
carry none. The books keep each (country, rate) on its own accounts, and an order whose shop
charged a rate the destination does not have is held: the shop's tax table is wrong, and
booking it would put a wrong figure on the VAT return.
"""

from __future__ import annotations

from decimal import Decimal

_D = Decimal
EU_RATES: dict[str, tuple[Decimal, ...]] = {
    "AT": (_D(20), _D(13), _D(10)),
    "BE": (_D(21), _D(12), _D(6)),
    "BG": (_D(20), _D(9)),
    "CY": (_D(19), _D(9), _D(5)),
    "CZ": (_D(21), _D(12)),
    "DE": (_D(19), _D(7)),
    "DK": (_D(25),),
    "EE": (_D(24), _D(22), _D(13), _D(9)),
    "ES": (_D(21), _D(10), _D(4)),
    "FI": (_D("25.5"), _D(24), _D(14), _D(10)),
    "FR": (_D(20), _D(10), _D("5.5"), _D("2.1")),
    "GR": (_D(24), _D(13), _D(6)),
    "HR": (_D(25), _D(13), _D(5)),
    "HU": (_D(27), _D(18), _D(5)),
    "IE": (_D(23), _D("13.5"), _D(9), _D("4.8")),
    "IT": (_D(22), _D(10), _D(5), _D(4)),
    "LT": (_D(21), _D(9), _D(5)),
    "LU": (_D(17), _D(14), _D(8), _D(3)),
    "LV": (_D(21), _D(12), _D(5)),
    "MT": (_D(18), _D(7), _D(5)),
    "NL": (_D(21), _D(9)),
    "PL": (_D(23), _D(8), _D(5)),
    "PT": (_D(23), _D(13), _D(6)),
    "RO": (_D(21), _D(19), _D(11), _D(9), _D(5)),
    "SE": (_D(25), _D(12), _D(6)),
    "SI": (_D(22), _D("9.5"), _D(5)),
    "SK": (_D(23), _D(19), _D(5)),
}
"""Standard and reduced VAT rates per EU member state (percent; recent changes kept beside
the former rate, so orders from either side of a change are recognised). A connection's
``accounting.rates`` replaces a country's list."""


def rates_of(country: str, overrides: dict[str, list[float | int]]) -> tuple[Decimal, ...] | None:
    """The VAT rates of an EU country (``None`` outside the EU)."""
    if country in overrides:
        return tuple(Decimal(str(rate)) for rate in overrides[country])
    return EU_RATES.get(country)


def vat_country(*, seller: str, destination: str, business: bool, oss: bool) -> str:
    """The country whose VAT the sale carries (its accounts are that country's): the seller's
    at home and, without the one-stop shop, for EU consumers; the destination's for EU
    consumers under the one-stop shop, for EU businesses (reverse charge) and for exports."""
    if destination == seller:
        return seller
    if destination in EU_RATES and not business and not oss:
        return seller
    return destination


def wrong_rate(
    *,
    country: str,
    rate: Decimal,
    overrides: dict[str, list[float | int]],
) -> str | None:
    """Why ``rate`` cannot be charged in ``country``, or ``None`` when it can (0 always can:
    exports, reverse charge and exempt goods)."""
    if rate == 0:
        return None
    known = rates_of(country, overrides)
    if known is None or rate in known:
        return None
    listed = ", ".join(f"{r.normalize():f}" for r in known)
    return f"{country} has no VAT rate {rate.normalize():f}% (its rates: {listed})"
