"""``/taxes``: the shop's tax table (rates by country and tax class), read and edited."""

from __future__ import annotations

import msgspec
from aiohttp import web

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import TAX_RATES, SimError, decimal_or_none
from adapters.woocommerce.simulator.products import STORE_KEY
from adapters.woocommerce.simulator.rest import (
    PREFIX,
    body_of,
    forced,
    item_id,
    paginated,
    respond,
)
from adapters.woocommerce.simulator.store import Store


def _store(request: web.Request) -> Store:
    return request.app[STORE_KEY]


async def list_taxes(request: web.Request) -> web.Response:
    rows = sorted(_store(request).tax_rates.values(), key=lambda r: (r.order, r.id))
    wanted = request.query.get("class")
    if wanted:
        rows = [r for r in rows if r.tax_class == wanted]
    return paginated(request, rows)


async def post_tax(request: web.Request) -> web.Response:
    store = _store(request)
    data = await body_of(request)
    rate = decimal_or_none(str(data.get("rate", "")))
    if rate is None or rate < 0:
        raise SimError("rest_invalid_param", "Invalid parameter(s): rate", params={"rate": "rate"})
    fields = {k: v for k, v in data.items() if k in m.TaxRate.__struct_fields__ and k != "id"}
    fields["country"] = str(fields.get("country", "")).upper()
    fields["rate"] = f"{rate:.4f}"
    tax_class = str(data.get("class", "standard"))
    known = set(store.tax_classes)
    if tax_class not in known:
        raise SimError("woocommerce_rest_invalid_tax_class", "Invalid tax class.")
    row = msgspec.convert(
        {**fields, "id": store.next_id("tax_rate") + len(TAX_RATES), "class": tax_class},
        m.TaxRate,
    )
    store.tax_rates[row.id] = row
    store.version += 1
    return respond(row, status=201)


async def get_tax(request: web.Request) -> web.Response:
    row = _store(request).tax_rates.get(item_id(request))
    if row is None:
        raise SimError("woocommerce_rest_invalid_id", "Invalid resource ID.", status=404)
    return respond(row)


async def del_tax(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported", "Taxes do not support trashing.", status=501
        )
    row = _store(request).tax_rates.pop(item_id(request), None)
    if row is None:
        raise SimError("woocommerce_rest_invalid_id", "Invalid resource ID.", status=404)
    return respond(row)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/taxes", list_taxes)
    r.add_post(f"{PREFIX}/taxes", post_tax)
    r.add_get(f"{PREFIX}/taxes/{{id:\\d+}}", get_tax)
    r.add_delete(f"{PREFIX}/taxes/{{id:\\d+}}", del_tax)
