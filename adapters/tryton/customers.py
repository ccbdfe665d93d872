"""Customers: ``party.party`` with its addresses and e-mail contact mechanism.

A party is a customer for the shop when it has an e-mail contact mechanism; the first one (by
id) is its natural key. Tryton keeps one ``name``; it reads as first name (up to the first space)
and last name, and is written back joined, so a name survives the round trip. The address
flagged for invoices (else the first) is the billing address, the one flagged for delivery
(else the billing one) the shipping address.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.base import Archive, Create, Operation, Reject, Seen
from adapters.tryton.batch import Batch, NewItem, Results, WriteItem, naming_sent
from adapters.tryton.client import TrytonClient
from adapters.tryton.lookups import Lookups
from adapters.tryton.products import stamp
from canonical.models import Address, Customer

Row = dict[str, Any]
Rejected = list[tuple[str, str]]
ADDRESS_FIELDS = (
    "party",
    "party_name",
    "street",
    "postal_code",
    "city",
    "country",
    "invoice",
    "delivery",
)


class CustomerReader:
    def __init__(self, client: TrytonClient, lookups: Lookups, rejected: Rejected) -> None:
        self.client = client
        self.lookups = lookups
        self.rejected = rejected

    async def changed(self, after: datetime | None) -> tuple[list[int], list[datetime]]:
        """Parties with an e-mail whose own row, addresses or contacts changed after ``after``."""
        if after is None:
            rows = await self.client.search_read(
                "party.contact_mechanism", [["type", "=", "email"]], ["party", "last_modified_at"]
            )
            stamps = [s for r in rows if (s := stamp(r["last_modified_at"]))]
            return sorted({int(r["party"]) for r in rows}), stamps
        since = [["last_modified_at", ">", after]]
        found = await asyncio.gather(
            self.client.search_read("party.party", since, ["last_modified_at"]),
            self.client.search_read("party.address", since, ["party", "last_modified_at"]),
            self.client.search_read(
                "party.contact_mechanism", since, ["party", "last_modified_at"]
            ),
        )
        ids = {int(r["id"]) for r in found[0]}
        ids |= {int(r["party"]) for rows in found[1:] for r in rows}
        stamps = [s for rows in found for r in rows if (s := stamp(r["last_modified_at"]))]
        return sorted(ids), stamps

    async def by_email(self, emails: Sequence[str]) -> dict[str, int]:
        """Party ids by lower-cased e-mail (the oldest party when several share one)."""
        if not emails:
            return {}
        domain: list[Any] = ["OR", *(["value", "ilike", e] for e in emails)]
        rows = await self.client.search_read(
            "party.contact_mechanism", [["type", "=", "email"], domain], ["party", "value"]
        )
        found: dict[str, int] = {}
        for row in sorted(rows, key=lambda r: r["party"]):
            found.setdefault(str(row["value"]).strip().lower(), int(row["party"]))
        return found

    async def seen(self, party_ids: Sequence[int]) -> list[Seen]:
        parties, mechanisms, addresses = await asyncio.gather(
            self.client.read("party.party", party_ids, ["name", "active", "last_modified_at"]),
            self.client.search_read(
                "party.contact_mechanism",
                [["party", "in", list(party_ids)], ["type", "in", ["email", "phone", "mobile"]]],
                ["party", "type", "value"],
            ),
            self.client.search_read(
                "party.address", [["party", "in", list(party_ids)]], ADDRESS_FIELDS
            ),
        )
        return to_customers(
            parties, mechanisms, addresses, await self.lookups.countries(), self.rejected
        )


def _split(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return (first, last) if last else ("", first)


def _address(row: Row, countries: dict[int, str]) -> Address:
    first, last = _split(str(row["party_name"] or ""))
    street = str(row["street"] or "").splitlines()
    return Address(
        first_name=first,
        last_name=last,
        line1=street[0] if street else "",
        line2=" ".join(street[1:]),
        city=str(row["city"] or ""),
        postcode=str(row["postal_code"] or ""),
        country=countries.get(row["country"] or 0, ""),
    )


def to_customers(
    parties: list[Row],
    mechanisms: list[Row],
    addresses: list[Row],
    countries: dict[int, str],
    rejected: Rejected,
) -> list[Seen]:
    """Canonical customers, pure."""
    contacts: dict[int, dict[str, str]] = defaultdict(dict)
    for row in sorted(mechanisms, key=lambda r: r["id"]):
        kind = "phone" if row["type"] in ("phone", "mobile") else "email"
        contacts[row["party"]].setdefault(kind, str(row["value"] or "").strip())
    places: dict[int, list[Row]] = defaultdict(list)
    for row in sorted(addresses, key=lambda r: r["id"]):
        places[row["party"]].append(row)
    out = []
    for party in parties:
        pid = party["id"]
        email = contacts[pid].get("email", "")
        if not email:
            continue  # a party without e-mail (a supplier, the company) is no web customer
        if "@" not in email:
            reason = f"e-mail {email!r} is not an address"
            rejected.append(Reject(f"party.party/{pid}", reason, seen_as=str(pid)))
            continue
        first, last = _split(str(party["name"] or ""))
        mine = places[pid]
        billing = next((a for a in mine if a["invoice"]), mine[0] if mine else None)
        shipping = next((a for a in mine if a["delivery"] and a is not billing), billing)
        record = Customer(
            email=email,
            first_name=first,
            last_name=last,
            phone=contacts[pid].get("phone", ""),
            billing=_address(billing, countries) if billing else None,
            shipping=_address(shipping, countries) if shipping else None,
        )
        out.append(Seen(record=record, ref=str(pid), modified_at=stamp(party["last_modified_at"])))
    return out


async def _address_vals(lookups: Lookups, address: dict[str, Any]) -> dict[str, Any]:
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    street = "\n".join(p for p in (address.get("line1"), address.get("line2")) if p)
    return {
        "party_name": name or None,
        "street": street or None,
        "city": address.get("city") or None,
        "postal_code": address.get("postcode") or None,
        "country": await lookups.country_id(str(address.get("country") or "")),
    }


async def party_vals(lookups: Lookups, fields: dict[str, Any], *, new: bool) -> dict[str, Any]:
    """Values creating (or, for an existing party, updating) a party from customer fields."""
    vals: dict[str, Any] = {}
    if "first_name" in fields or "last_name" in fields or new:
        name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p)
        vals["name"] = name or fields.get("company") or fields.get("email")
    if new:
        mechanisms = [{"type": "email", "value": fields["email"]}]
        if fields.get("phone"):
            mechanisms.append({"type": "phone", "value": fields["phone"]})
        vals["contact_mechanisms"] = [["create", mechanisms]]
        places = []
        billing, shipping = fields.get("billing"), fields.get("shipping")
        if billing:
            places.append({**await _address_vals(lookups, billing), "invoice": True})
        if shipping and shipping != billing:
            places.append({**await _address_vals(lookups, shipping), "delivery": True})
        elif places:
            places[0]["delivery"] = True
        if places:
            vals["addresses"] = [["create", places]]
    return vals


async def apply_customers(
    client: TrytonClient,
    lookups: Lookups,
    reader: CustomerReader,
    operations: Sequence[Operation],
    results: Results,
) -> None:
    batch = Batch(client, results, unexpected=naming_sent(operations, "customer"))
    known = await reader.by_email([op.key for op in operations if isinstance(op, Create)])
    new: list[NewItem] = []
    writes: list[WriteItem] = []
    address_writes: list[WriteItem] = []
    for position, op in enumerate(operations):
        if isinstance(op, Archive):
            writes.append((position, op.key, [int(op.ref)], {"active": False}))
            continue
        email = op.key.strip().lower()
        ref = op.ref if not isinstance(op, Create) else str(known.get(email, ""))
        if not ref:
            new.append(
                (
                    position,
                    op.key,
                    await party_vals(lookups, {"email": op.key, **op.fields}, new=True),
                )
            )
            continue
        writes.append(
            (position, op.key, [int(ref)], await party_vals(lookups, op.fields, new=False))
        )
        for kind, flag in (("billing", "invoice"), ("shipping", "delivery")):
            if op.fields.get(kind):
                found = await client.search(
                    "party.address", [["party", "=", int(ref)], [flag, "=", True]], limit=1
                ) or await client.search("party.address", [["party", "=", int(ref)]], limit=1)
                vals = await _address_vals(lookups, op.fields[kind])
                if found:
                    address_writes.append((position, op.key, found, vals))
    created = await batch.create("party.party", new)
    for position, pid in created.items():
        batch.done(position, operations[position].key, str(pid))
    written = await batch.write("party.party", writes)
    addressed = await batch.write("party.address", [w for w in address_writes if w[0] in written])
    for position, key, ids, _ in writes:
        if (
            position in written
            and results[position] is None
            and (position in addressed or all(w[0] != position for w in address_writes))
        ):
            batch.done(position, key, str(ids[0]))
