"""The peer: the script a merchant would write instead of Concord, to keep prices and stock.

It does the job one way, ERP -> shop, the way such scripts are written: read the ERP's articles
and stock (Odoo's JSON-2 API over plain ``requests``, in pages of 500), read the shop's
products page by page with the public ``woocommerce`` client from PyPI (and the variations of
each variable product) to map SKU -> id, compare price and stock, and send one ``PUT`` per
product that differs, one request after the other. It runs against the same data Concord saw
(the simulators' state before Concord's cycles) under the same latency profile. Over plain
HTTP the client signs requests with OAuth 1.0a, which the simulator does not check; the
consumer key and secret are also passed in the query string, the form WooCommerce accepts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

ERP_PAGE = 500
SHOP_PAGE = 100
_CENT = Decimal("0.01")


class PeerResult(msgspec.Struct, kw_only=True):
    seconds: float
    requests: int
    """Requests sent to both platforms."""
    updates: int
    """PUTs sent (products whose price or stock differed)."""
    failed: int


class _Erp:
    """Odoo's JSON-2 API, as a script calls it with ``requests``."""

    def __init__(self, url: str, database: str, api_key: str) -> None:
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"bearer {api_key}", "X-Odoo-Database": database}
        )
        self.requests = 0

    def call(self, model: str, method: str, **params: Any) -> Any:
        response = self.session.post(f"{self.url}/json/2/{model}/{method}", json=params)
        self.requests += 1
        response.raise_for_status()
        return response.json()

    def rows(self, model: str, domain: list[Any], fields: list[str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.call(
                model, "search_read", domain=domain, fields=fields, offset=offset, limit=ERP_PAGE
            )
            yield from page
            if len(page) < ERP_PAGE:
                return
            offset += ERP_PAGE


def _erp_articles(erp: _Erp) -> dict[str, tuple[Decimal, int]]:
    """SKU -> (price, units in stock) of every stocked article on sale."""
    [location] = erp.call(
        "stock.location", "search", domain=[["usage", "=", "internal"]], limit=1, order="id asc"
    )
    units: dict[int, float] = {}
    quants = erp.rows(
        "stock.quant", [["location_id", "child_of", location]], ["product_id", "quantity"]
    )
    for quant in quants:
        product = quant["product_id"][0] if quant["product_id"] else 0
        units[product] = units.get(product, 0.0) + float(quant["quantity"])
    goods = [["type", "!=", "service"], ["active", "=", True]]
    articles: dict[str, tuple[Decimal, int]] = {}
    for row in erp.rows("product.product", goods, ["default_code", "list_price"]):
        if row["default_code"]:
            price = Decimal(str(row["list_price"])).quantize(_CENT)
            articles[row["default_code"]] = (price, round(units.get(row["id"], 0.0)))
    return articles


def _pages(api: Any, endpoint: str, auth: dict[str, str]) -> Iterator[dict[str, Any]]:
    page, pages = 1, 1
    while page <= pages:
        params = {"per_page": SHOP_PAGE, "page": page, **auth}
        response = api.get(endpoint, params=params)
        response.raise_for_status()
        pages = int(response.headers.get("X-WP-TotalPages", 1))
        yield from response.json()
        page += 1


def _shop_items(api: Any, auth: dict[str, str]) -> dict[str, tuple[str, str, int | None]]:
    """SKU -> (endpoint, price, stock) of every product and variation."""
    items: dict[str, tuple[str, str, int | None]] = {}
    variable: list[int] = []
    for product in _pages(api, "products", auth):
        if product["type"] == "variable":
            variable.append(product["id"])
        elif product["sku"]:
            items[product["sku"]] = (
                f"products/{product['id']}",
                product["regular_price"],
                product["stock_quantity"],
            )
    for parent in variable:
        for variation in _pages(api, f"products/{parent}/variations", auth):
            if variation["sku"]:
                items[variation["sku"]] = (
                    f"products/{parent}/variations/{variation['id']}",
                    variation["regular_price"],
                    variation["stock_quantity"],
                )
    return items


def sync_prices_and_stock(
    erp_url: str,
    erp_database: str,
    erp_key: str,
    shop_url: str,
    consumer_key: str,
    consumer_secret: str,
) -> PeerResult:
    """Copy each ERP article's price and stock to the shop where they differ."""
    from woocommerce import API

    started = time.perf_counter()
    erp = _Erp(erp_url, erp_database, erp_key)
    articles = _erp_articles(erp)
    api = _CountingAPI(
        API(url=shop_url, consumer_key=consumer_key, consumer_secret=consumer_secret, timeout=60)
    )
    auth = {"consumer_key": consumer_key, "consumer_secret": consumer_secret}
    items = _shop_items(api, auth)
    updates = failed = 0
    for sku, (endpoint, shop_price, shop_stock) in items.items():
        if sku not in articles:
            continue
        price, units = articles[sku]
        change: dict[str, Any] = {}
        if not shop_price or Decimal(shop_price).quantize(_CENT) != price:
            change["regular_price"] = f"{price:f}"
        if shop_stock is not None and shop_stock != units:
            change["stock_quantity"] = units
        if change:
            updates += 1
            if api.put(endpoint, change, params=dict(auth)).status_code != 200:
                failed += 1
    return PeerResult(
        seconds=time.perf_counter() - started,
        requests=erp.requests + api.requests,
        updates=updates,
        failed=failed,
    )


class _CountingAPI:
    """The client, counting the requests it sends."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.requests = 0

    def get(self, endpoint: str, **kwargs: Any) -> Any:
        self.requests += 1
        return self.api.get(endpoint, **kwargs)

    def put(self, endpoint: str, data: Any, **kwargs: Any) -> Any:
        self.requests += 1
        return self.api.put(endpoint, data, **kwargs)
