"""The customer of a web order in Odoo: matched on a normalised e-mail, addresses kept.

- The customer is the oldest company-level partner (no ``parent_id``) whose e-mail, trimmed
  and case-folded, is the order's; Odoo's ``=ilike`` would miss ``" chloe@example.com"``, so
  candidates are searched with ``ilike`` and compared here. A new one is created from the
  billing address when none matches.
- An existing customer is never renamed or re-addressed from an order: a guest order by
  another person with the same e-mail keeps that person's name on the order's own addresses.
- The order's billing and shipping addresses become the sale order's ``partner_invoice_id``
  and ``partner_shipping_id``: the customer itself when the address is its own, otherwise a
  child contact of type ``invoice`` / ``delivery``, reused when one with the same address
  exists.
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.odoo.client import ALL, OdooClient, list_of
from adapters.odoo.wire import Many2one, Text, fields_of, ref_id, text
from canonical.models import Address, Customer


class ContactRow(msgspec.Struct):
    id: int
    name: Text = False
    email: Text = False
    street: Text = False
    street2: Text = False
    city: Text = False
    zip: Text = False
    country_id: Many2one = False
    type: Text = False


class OrderPartners(msgspec.Struct, frozen=True, kw_only=True):
    """The three partners of a sale order, and those created for it (to undo on refusal)."""

    customer: int
    invoice: int
    shipping: int
    created: tuple[int, ...] = ()


def normalised_email(email: str) -> str:
    return email.strip().casefold()


def _name(address: Address | None, customer: Customer) -> str:
    if address is not None:
        person = " ".join(p for p in (address.first_name, address.last_name) if p)
        if person or address.company:
            return person or address.company
    person = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return person or customer.company or customer.email


def _address_vals(address: Address, countries: dict[str, int]) -> dict[str, Any]:
    return {
        "street": address.line1 or False,
        "street2": address.line2 or False,
        "city": address.city or False,
        "zip": address.postcode or False,
        "country_id": countries.get(address.country.strip().upper(), False),
    }


def _same(row: ContactRow, name: str, vals: dict[str, Any]) -> bool:
    mine = (text(row.name), text(row.street), text(row.street2), text(row.city), text(row.zip))
    wanted = (name, *(vals[k] or "" for k in ("street", "street2", "city", "zip")))
    return mine == wanted and (ref_id(row.country_id) or False) == vals["country_id"]


async def _rows(client: OdooClient, domain: list[Any], limit: int) -> list[ContactRow]:
    params = {"domain": domain, "fields": fields_of(ContactRow), "limit": limit, "order": "id asc"}
    rows: list[ContactRow] = await client.call(
        "res.partner", "search_read", params, result=list_of(ContactRow), context=ALL
    )
    return rows


async def order_partners(client: OdooClient, customer: Customer) -> OrderPartners:
    """The customer, invoice and delivery partners of an order, created where missing."""
    email = normalised_email(customer.email)
    candidates = await _rows(client, [["email", "ilike", email], ["parent_id", "=", False]], 50)
    matched = [row for row in candidates if normalised_email(text(row.email)) == email]
    countries = {code: cid for cid, code in (await client.countries()).items()}
    created: list[int] = []
    if matched:
        own = matched[0]
    else:
        billing = customer.billing
        vals: dict[str, Any] = {
            "name": _name(billing, customer),
            "email": email,
            "phone": customer.phone or False,
            "is_company": not (customer.first_name or customer.last_name)
            and bool(customer.company),
        }
        if billing is not None:
            vals |= _address_vals(billing, countries)
        [pid] = await client.call("res.partner", "create", {"vals_list": [vals]}, result=list[int])
        created.append(pid)
        own = ContactRow(id=pid, name=vals["name"], **_address_only(vals))
    wanted = {"invoice": customer.billing, "delivery": customer.shipping or customer.billing}
    chosen: dict[str, int] = {}
    children: list[ContactRow] | None = None
    new: list[tuple[str, dict[str, Any]]] = []
    for kind, address in wanted.items():
        if address is None:
            chosen[kind] = own.id
            continue
        name = _name(address, customer)
        vals = _address_vals(address, countries)
        if _same(own, name, vals):
            chosen[kind] = own.id
            continue
        if children is None:
            children = [] if created else await _rows(client, [["parent_id", "=", own.id]], 200)
        reuse = next((c for c in children if text(c.type) == kind and _same(c, name, vals)), None)
        if reuse is not None:
            chosen[kind] = reuse.id
        else:
            new.append((kind, {"name": name, "type": kind, "parent_id": own.id, **vals}))
    if new:
        ids = await client.call(
            "res.partner", "create", {"vals_list": [v for _, v in new]}, result=list[int]
        )
        for (kind, _), rid in zip(new, ids, strict=True):
            chosen[kind] = rid
        created[:0] = ids  # children first: undone before their parent
    return OrderPartners(
        customer=own.id,
        invoice=chosen["invoice"],
        shipping=chosen["delivery"],
        created=tuple(created),
    )


def _address_only(vals: dict[str, Any]) -> dict[str, Any]:
    keys = ("street", "street2", "city", "zip")
    out: dict[str, Any] = {k: vals.get(k, False) for k in keys}
    country = vals.get("country_id", False)
    out["country_id"] = (country, "") if country else False
    return out
