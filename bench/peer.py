"""The peer: the script a merchant would write instead of Concord, for the price updates.

It uses the public ``woocommerce`` client from PyPI and sends one ``PUT`` per article, one after
the other. It is handed the new prices and the shop's ids up front (so it reads nothing): the
most favourable version of such a script. Over plain HTTP that client signs requests with OAuth
1.0a, which the simulator does not check; the consumer key and secret are also passed in the
query string, the form WooCommerce accepts for such scripts.
"""

from __future__ import annotations

import time

import msgspec


class PeerResult(msgspec.Struct, kw_only=True):
    seconds: float
    requests: int
    failed: int


def update_prices(
    url: str, consumer_key: str, consumer_secret: str, prices: list[tuple[str, str]]
) -> PeerResult:
    """PUT each ``(shop ref, price)``: ``"12"`` a product, ``"12/34"`` variation 34 of 12."""
    from woocommerce import API

    api = API(url=url, consumer_key=consumer_key, consumer_secret=consumer_secret, timeout=30)
    auth = {"consumer_key": consumer_key, "consumer_secret": consumer_secret}
    failed = 0
    started = time.perf_counter()
    for ref, price in prices:
        parent, _, variation = ref.partition("/")
        endpoint = f"products/{parent}/variations/{variation}" if variation else f"products/{ref}"
        response = api.put(endpoint, {"regular_price": price}, params=dict(auth))
        if response.status_code != 200:
            failed += 1
    return PeerResult(seconds=time.perf_counter() - started, requests=len(prices), failed=failed)
