"""Routes for product categories and tax classes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import SimError
from adapters.woocommerce.simulator.products import STORE_KEY, slugify
from adapters.woocommerce.simulator.records import Sellable
from adapters.woocommerce.simulator.rest import (
    PREFIX,
    batch,
    body_of,
    forced,
    int_param,
    item_id,
    ordered,
    paginated,
    respond,
)
from adapters.woocommerce.simulator.store import Store, refresh


def _store(request: web.Request) -> Store:
    return request.app[STORE_KEY]


def create_category(store: Store, data: dict[str, Any]) -> m.Category:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SimError("rest_missing_callback_param", "Missing parameter(s): name", params=["name"])
    parent = data.get("parent", 0)
    if parent and parent not in store.categories:
        raise SimError("woocommerce_rest_term_invalid", "Parent resource does not exist.")
    for existing in store.categories.values():
        if existing.parent == parent and existing.name.lower() == name.strip().lower():
            raise SimError(
                "term_exists",
                "A term with the name provided already exists with this parent.",
                resource_id=existing.id,
            )
    category = m.Category(
        id=store.next_id("term"),
        name=name.strip(),
        slug=str(data.get("slug") or slugify(name)),
        parent=int(parent),
        description=str(data.get("description", "")),
    )
    if any(c.slug == category.slug for c in store.categories.values()):
        category.slug = f"{category.slug}-{category.id}"
    store.categories[category.id] = category
    store.version += 1
    return category


def update_category(store: Store, data: dict[str, Any]) -> m.Category:
    category = store.categories.get(data.get("id"))  # type: ignore[arg-type]
    if category is None:
        raise SimError("woocommerce_rest_term_invalid", "Resource does not exist.", status=404)
    for key in ("name", "slug", "description"):
        if isinstance(data.get(key), str):
            setattr(category, key, data[key])
    if isinstance(data.get("parent"), int):
        category.parent = data["parent"]
    store.version += 1
    return category


def delete_category(store: Store, category_id: Any) -> m.Category:
    category = store.categories.pop(category_id, None)
    if category is None:
        raise SimError("woocommerce_rest_term_invalid", "Resource does not exist.", status=404)
    for product in store.products.values():
        product.categories = [c for c in product.categories if c.id != category.id]
    store.version += 1
    return category


async def list_categories(request: web.Request) -> web.Response:
    store = _store(request)
    records = (
        ordered(
            request,
            store.categories.values(),
            {"name": lambda c: c.name, "id": lambda c: c.id, "slug": lambda c: c.slug},
            "name",
        )
        if "order" in request.query
        else sorted(store.categories.values(), key=lambda c: c.name)
    )
    if "parent" in request.query:
        parent = int_param(request, "parent", 0, 0, None)
        records = [c for c in records if c.parent == parent]
    if "slug" in request.query:
        records = [c for c in records if c.slug == request.query["slug"]]
    return paginated(request, records)


async def get_category(request: web.Request) -> web.Response:
    category = _store(request).categories.get(item_id(request))
    if category is None:
        raise SimError("woocommerce_rest_term_invalid", "Resource does not exist.", status=404)
    return respond(category)


async def post_category(request: web.Request) -> web.Response:
    return respond(create_category(_store(request), await body_of(request)), status=201)


async def put_category(request: web.Request) -> web.Response:
    data = await body_of(request)
    data["id"] = item_id(request)
    return respond(update_category(_store(request), data))


async def del_category(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported",
            "Resource does not support trashing.",
            status=501,
        )
    return respond(delete_category(_store(request), item_id(request)))


async def batch_categories(request: web.Request) -> web.Response:
    store = _store(request)
    return await batch(
        request,
        lambda data: create_category(store, data),
        lambda data: update_category(store, data),
        lambda category_id: delete_category(store, category_id),
    )


async def list_tax_classes(request: web.Request) -> web.Response:
    return respond(list(_store(request).tax_classes.values()))


async def post_tax_class(request: web.Request) -> web.Response:
    store = _store(request)
    data = await body_of(request)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SimError("rest_missing_callback_param", "Missing parameter(s): name", params=["name"])
    slug = slugify(name)
    if slug in store.tax_classes:
        raise SimError("woocommerce_rest_tax_class_exists", "Tax class already exists.")
    store.tax_classes[slug] = m.TaxClass(slug=slug, name=name.strip())
    return respond(store.tax_classes[slug], status=201)


async def del_tax_class(request: web.Request) -> web.Response:
    store = _store(request)
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported", "Taxes do not support trashing.", status=501
        )
    tax_class = store.tax_classes.pop(request.match_info["slug"], None)
    if tax_class is None or tax_class.slug == "standard":
        raise SimError("woocommerce_rest_invalid_id", "Invalid tax class.", status=404)
    items: list[Sellable] = [*store.products.values(), *store.variations.values()]
    for item in items:
        if item.tax_class == tax_class.slug:
            item.tax_class = ""
            refresh(item)
    return respond(tax_class)


def add_routes(app: web.Application) -> None:
    r = app.router
    p = PREFIX
    r.add_get(f"{p}/products/categories", list_categories)
    r.add_post(f"{p}/products/categories", post_category)
    r.add_post(f"{p}/products/categories/batch", batch_categories)
    r.add_get(f"{p}/products/categories/{{id:\\d+}}", get_category)
    r.add_put(f"{p}/products/categories/{{id:\\d+}}", put_category)
    r.add_delete(f"{p}/products/categories/{{id:\\d+}}", del_category)
    r.add_get(f"{p}/taxes/classes", list_tax_classes)
    r.add_post(f"{p}/taxes/classes", post_tax_class)
    r.add_delete(f"{p}/taxes/classes/{{slug}}", del_tax_class)
