"""A value Tryton fails on deep in the server (a ``ServerError``, not a refusal naming a field)
fails only the record holding it, for customers as for articles, with a reason naming the
record and the fields sent."""

from __future__ import annotations

from integration.tryton.test_tryton_adapter import adapter
from integration.tryton.tryton_shop import rpc

from adapters.base import Create, Done, Failed
from adapters.tryton.adapter import TrytonAdapter
from adapters.tryton.client import TrytonClient
from canonical.fields import to_fields
from canonical.models import Customer

__all__ = ["adapter", "rpc"]  # the fixtures, shared


def customer(email: str, last_name: str) -> Create:
    return Create(key=email, fields=to_fields(Customer(email=email, last_name=last_name)))


async def test_a_customer_tryton_fails_on_fails_alone_naming_it_and_its_fields(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    # Tryton does not check for NUL characters: PostgreSQL refuses them, a ServerError.
    results = await adapter.apply(
        "customer",
        [customer("dana@example.com", "Lee"), customer("eli@example.com", "Ng\x00")],
    )

    assert isinstance(results[0], Done), results
    assert isinstance(results[1], Failed), results
    assert results[1].reason.startswith("email, last_name: ")
    assert "customer eli@example.com" in results[1].reason and "ServerError" in results[1].reason
    parties = await rpc.search_read("party.party", [["name", "like", "%Lee%"]], ["name"])
    assert [p["name"] for p in parties] == ["Lee"]
