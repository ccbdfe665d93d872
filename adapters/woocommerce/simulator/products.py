"""Routes for products, variations, categories and tax classes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import SimError, invalid_params
from adapters.woocommerce.simulator.content import wpautop
from adapters.woocommerce.simulator.rest import (
    PREFIX,
    batch,
    body_of,
    date_filter,
    forced,
    id_list,
    int_param,
    item_id,
    ordered,
    paginated,
    respond,
)
from adapters.woocommerce.simulator.store import Store, sku_key
from adapters.woocommerce.simulator.writes import apply_sellable

STORE_KEY = web.AppKey("wc_store", Store)

_PRODUCT_ORDER: dict[str, Callable[[Any], Any]] = {
    "date": lambda p: (p.date_created_gmt, p.id),
    "id": lambda p: p.id,
    "include": lambda p: p.id,
    "title": lambda p: (p.name, p.id),
    "slug": lambda p: (p.slug, p.id),
    "modified": lambda p: (p.date_modified_gmt, p.id),
    "menu_order": lambda p: (p.menu_order, p.id),
}


def _invalid_id() -> SimError:
    return SimError("woocommerce_rest_product_invalid_id", "Invalid ID.", status=404)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# -- operations shared by single routes and batches ---------------------------------------


def create_product(store: Store, data: dict[str, Any]) -> m.Product:
    local, gmt = store.now()
    product = m.Product(
        id=store.next_post_id(),
        name=str(data.get("name", "Product")),
        date_created=local,
        date_created_gmt=gmt,
        date_modified=local,
        date_modified_gmt=gmt,
    )
    apply_sellable(store, product, data)
    product.categories = product.categories or [store.default_term()]
    product.slug = product.slug or slugify(product.name) or str(product.id)
    product.permalink = f"{store.base_url}/product/{product.slug}/"
    store.insert(product)
    store.saved(product, created=True)
    return product


def update_product(store: Store, data: dict[str, Any]) -> m.Product:
    product = store.products.get(data.get("id"))  # type: ignore[arg-type]
    if product is None:
        raise SimError("woocommerce_rest_product_invalid_id", "Invalid ID.")
    apply_sellable(store, product, data)
    store.saved(product)
    return product


def delete_product(store: Store, product_id: Any, force: bool = True) -> m.Product:
    product = store.products.get(product_id)
    if product is None:
        raise SimError("woocommerce_rest_product_invalid_id", "Invalid ID.")
    if force:
        store.remove(product)
    else:
        product.status = "trash"
        store.saved(product)
    return product


def create_variation(store: Store, parent_id: int, data: dict[str, Any]) -> m.Variation:
    if parent_id not in store.products:
        raise SimError("woocommerce_rest_product_invalid_id", "Invalid ID.")
    local, gmt = store.now()
    variation = m.Variation(
        id=store.next_post_id(),
        parent_id=parent_id,
        date_created=local,
        date_created_gmt=gmt,
        date_modified=local,
        date_modified_gmt=gmt,
    )
    apply_sellable(store, variation, data)
    variation.permalink = f"{store.base_url}/?p={variation.id}"
    store.insert(variation)
    store.saved(variation, created=True)
    return variation


def _variation(store: Store, parent_id: int, variation_id: Any) -> m.Variation:
    variation = store.variations.get(variation_id)
    if variation is None or variation.parent_id != parent_id:
        raise SimError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
    return variation


def update_variation(store: Store, parent_id: int, data: dict[str, Any]) -> m.Variation:
    variation = _variation(store, parent_id, data.get("id"))
    apply_sellable(store, variation, data)
    store.saved(variation)
    return variation


# -- routes -------------------------------------------------------------------------------


def _shown(request: web.Request, products: list[Any]) -> list[Any]:
    """Products as the ``context`` asked for shows them: ``view`` (the default) renders the
    texts as a theme displays them, ``edit`` answers them as stored."""
    context = request.query.get("context", "view")
    if context not in ("view", "edit", "embed"):
        raise invalid_params({"context": "context is not one of view, embed, edit."})
    if context == "edit":
        return products
    return [
        msgspec.structs.replace(
            p,
            description=_rendered(p.description),
            short_description=_rendered(p.short_description),
        )
        for p in products
    ]


def _rendered(text: Any) -> Any:
    # A test may plant raw bytes (text saved in another encoding): shown as they are.
    return wpautop(text) if isinstance(text, str) else text


def _store(request: web.Request) -> Store:
    return request.app[STORE_KEY]


def _product_filter(request: web.Request, store: Store) -> Callable[[m.Product], bool] | None:
    tests: list[Callable[[m.Product], bool]] = []
    query = request.query
    status = query.get("status", "any")
    if status == "any":
        tests.append(lambda p: p.status != "trash")
    else:
        tests.append(lambda p: p.status == status)
    for name in ("type", "tax_class", "stock_status"):
        if name in query:
            wanted = query[name]
            if name == "tax_class" and wanted == "standard":
                wanted = ""
            tests.append(lambda p, n=name, w=wanted: getattr(p, n) == w)  # type: ignore[misc]
    if "category" in query:
        category = int_param(request, "category", 0, 0, None)
        tests.append(lambda p: any(c.id == category for c in p.categories))
    if "search" in query:
        needle = query["search"].lower()
        tests.append(lambda p: needle in p.name.lower())
    for name, keep in (("include", True), ("exclude", False)):
        ids = id_list(request, name)
        if ids is not None:
            tests.append(lambda p, i=ids, k=keep: (p.id in i) == k)  # type: ignore[misc]
    dates = date_filter(request)
    if dates is not None:
        tests.append(dates)
    return lambda p: all(test(p) for test in tests)


def _sorted_records(request: web.Request, name: str, records: dict[int, Any]) -> list[Any]:
    # Sorting 30,000 records per page request would dominate serving time: cache per write.
    store = _store(request)
    key = (name, request.query.get("orderby", "date"), request.query.get("order", "desc"))
    if store.sort_cache.get("version") != store.version:
        store.sort_cache.clear()
        store.sort_cache["version"] = store.version
    cached = store.sort_cache.get(key)
    if cached is None:
        cached = store.sort_cache[key] = ordered(request, records.values(), _PRODUCT_ORDER, "date")
    return list(cached)


async def list_products(request: web.Request) -> web.Response:
    store = _store(request)
    sku = request.query.get("sku")
    if sku:
        # The SKU filter takes a comma-separated list and matches products only.
        found = (store.products.get(store.skus.get(sku_key(s.strip()), 0)) for s in sku.split(","))
        records: list[Any] = ordered(
            request, (p for p in found if p is not None), _PRODUCT_ORDER, "date"
        )
        keep = _product_filter(request, store)
        if keep is not None:
            records = [p for p in records if keep(p)]
        return paginated(request, records, _shown)
    include = id_list(request, "include")
    if include is not None:
        # WordPress answers ``include`` from the posts' primary key: the few products asked
        # for, not the catalogue sorted and filtered again after every write (a stock job
        # looks its batch's counts up so, and at 300,000 products that was minutes).
        asked = (store.products.get(i) for i in sorted(include))  # in id order, as stored
        records = ordered(request, (p for p in asked if p is not None), _PRODUCT_ORDER, "date")
        keep = _product_filter(request, store)
        return paginated(request, [p for p in records if keep is None or keep(p)], _shown)
    # Filtering 30,000 products for each page of one listing dominated serving time: the
    # filtered list is cached with the sort orders, until the next write.
    key = ("filtered", *sorted((k, v) for k, v in request.query.items() if k != "page"))
    filtered: list[Any] | None = store.sort_cache.get(key)
    if filtered is None or store.sort_cache.get("version") != store.version:
        records = _sorted_records(request, "products", store.products)
        keep = _product_filter(request, store)
        filtered = [p for p in records if keep(p)] if keep is not None else records
        store.sort_cache[key] = filtered
    return paginated(request, filtered, _shown)


async def get_product(request: web.Request) -> web.Response:
    product = _store(request).products.get(item_id(request))
    if product is None:
        raise _invalid_id()
    return respond(_shown(request, [product])[0])


async def post_product(request: web.Request) -> web.Response:
    return respond(create_product(_store(request), await body_of(request)), status=201)


async def put_product(request: web.Request) -> web.Response:
    data = await body_of(request)
    data["id"] = item_id(request)
    return respond(update_product(_store(request), data))


async def del_product(request: web.Request) -> web.Response:
    return respond(delete_product(_store(request), item_id(request), forced(request)))


async def batch_products(request: web.Request) -> web.Response:
    store = _store(request)
    return await batch(
        request,
        lambda data: create_product(store, data),
        lambda data: update_product(store, data),
        lambda product_id: delete_product(store, product_id),
    )


async def list_variations(request: web.Request) -> web.Response:
    store = _store(request)
    parent = store.products.get(item_id(request, "pid"))
    if parent is None:
        raise _invalid_id()
    variations = [store.variations[v] for v in parent.variations]
    sku = request.query.get("sku")
    if sku:
        wanted = {sku_key(s.strip()) for s in sku.split(",")}
        variations = [v for v in variations if sku_key(v.sku) in wanted]
    include = id_list(request, "include")
    if include is not None:
        variations = [v for v in variations if v.id in include]
    dates = date_filter(request)
    if dates is not None:
        variations = [v for v in variations if dates(v)]
    return paginated(request, ordered(request, variations, _PRODUCT_ORDER, "date"))


async def get_variation(request: web.Request) -> web.Response:
    store = _store(request)
    try:
        variation = _variation(store, item_id(request, "pid"), item_id(request))
    except SimError:
        raise _invalid_id() from None
    return respond(variation)


async def post_variation(request: web.Request) -> web.Response:
    store = _store(request)
    variation = create_variation(store, item_id(request, "pid"), await body_of(request))
    return respond(variation, status=201)


async def put_variation(request: web.Request) -> web.Response:
    data = await body_of(request)
    data["id"] = item_id(request)
    return respond(update_variation(_store(request), item_id(request, "pid"), data))


def _delete_variation(store: Store, parent_id: int, variation_id: Any) -> m.Variation:
    variation = _variation(store, parent_id, variation_id)
    store.remove(variation)
    return variation


async def del_variation(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported",
            "Variations do not support trashing.",
            status=501,
        )
    return respond(_delete_variation(_store(request), item_id(request, "pid"), item_id(request)))


async def batch_variations(request: web.Request) -> web.Response:
    store = _store(request)
    parent_id = item_id(request, "pid")
    if parent_id not in store.products:
        raise _invalid_id()
    return await batch(
        request,
        lambda data: create_variation(store, parent_id, data),
        lambda data: update_variation(store, parent_id, data),
        lambda variation_id: _delete_variation(store, parent_id, variation_id),
    )


def add_routes(app: web.Application) -> None:
    r = app.router
    p = PREFIX
    r.add_get(f"{p}/products", list_products)
    r.add_post(f"{p}/products", post_product)
    r.add_post(f"{p}/products/batch", batch_products)
    r.add_get(f"{p}/products/{{id:\\d+}}", get_product)
    r.add_put(f"{p}/products/{{id:\\d+}}", put_product)
    r.add_delete(f"{p}/products/{{id:\\d+}}", del_product)
    r.add_get(f"{p}/products/{{pid:\\d+}}/variations", list_variations)
    r.add_post(f"{p}/products/{{pid:\\d+}}/variations", post_variation)
    r.add_post(f"{p}/products/{{pid:\\d+}}/variations/batch", batch_variations)
    r.add_get(f"{p}/products/{{pid:\\d+}}/variations/{{id:\\d+}}", get_variation)
    r.add_put(f"{p}/products/{{pid:\\d+}}/variations/{{id:\\d+}}", put_variation)
    r.add_delete(f"{p}/products/{{pid:\\d+}}/variations/{{id:\\d+}}", del_variation)
