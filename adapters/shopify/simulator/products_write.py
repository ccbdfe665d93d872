"""``productCreate`` and ``productUpdate``: product-level fields (variants are written by the
bulk variant mutations or ``productSet``)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.catalogue import add_variant, handleize, new_product, unique_handle
from adapters.shopify.simulator.store import Product, Store, parse_gid
from adapters.shopify.simulator.views import View, product_view, shown_status

PRODUCT_TYPE_LIMIT = 255
"""The most characters Shopify keeps in a product type."""


def product_type_too_long(data: dict[str, Any]) -> str | None:
    """Shopify's message when ``data`` gives a product type longer than it keeps, counted as
    it would be stored (trimmed)."""
    text = data.get("productType")
    if text is not None and len(text.strip()) > PRODUCT_TYPE_LIMIT:
        return f"Product type is too long (maximum is {PRODUCT_TYPE_LIMIT} characters)"
    return None


def user_error(field: list[str] | None, message: str, code: str | None = None) -> View:
    error: View = {"field": field, "message": message}
    if code is not None:
        error["code"] = code
    return error


def apply_product_fields(store: Store, product: Product, data: dict[str, Any]) -> None:
    """Scalar fields present in ``data`` replace the product's; absent ones stay."""
    if "title" in data and data["title"] is not None:
        product.title = data["title"].strip()
    if data.get("handle"):
        handle = unique_handle(store, handleize(data["handle"]), product.id)
        if store.handles.get(product.handle) == product.id:
            del store.handles[product.handle]
        product.handle = handle
        store.handles[handle] = product.id
    if data.get("productType") is not None:
        product.product_type = data["productType"].strip()  # as Shopify stores it
    for key, attribute in (
        ("status", "status"),
        ("vendor", "vendor"),
        ("descriptionHtml", "description_html"),
    ):
        if data.get(key) is not None:
            setattr(product, attribute, data[key])
    if data.get("tags") is not None:
        tags = [t.strip() for tag in data["tags"] for t in tag.split(",") if t.strip()]
        product.tags = sorted(set(tags), key=tags.index)


def status_refused(info: GraphQLResolveInfo, data: dict[str, Any]) -> View | None:
    """UNLISTED cannot be written through a version that does not know it; a product type
    cannot be longer than Shopify keeps."""
    if (
        data.get("status") == "UNLISTED"
        and shown_status("UNLISTED", info.context["version"]) != "UNLISTED"
    ):
        return user_error(["status"], "Status is not included in the list")
    if (message := product_type_too_long(data)) is not None:
        return user_error(["productType"], message)
    return None


def product_create(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, product: dict[str, Any] | None = None, **_: Any) -> View:
        data = product or {}
        title = (data.get("title") or "").strip()
        refused = status_refused(info, data)
        if refused is not None:
            return {"product": None, "userErrors": [refused]}
        if not title:
            return {"product": None, "userErrors": [user_error(["title"], "Title can't be blank")]}
        store.claim_variant_creations(1)
        created = new_product(store, title)
        apply_product_fields(store, created, {**data, "title": title})
        add_variant(store, created)
        store.touch_product(created)
        store.emit("products/create", created.id)
        return {"product": product_view(store, created), "userErrors": []}

    return resolve


def product_update(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, product: dict[str, Any] | None = None, **_: Any) -> View:
        data = product or {}
        number = parse_gid(data.get("id") or "", "Product")
        found = None if number is None else store.products.get(number)
        if found is None:
            return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}
        refused = status_refused(info, data)
        if refused is not None:
            return {"product": None, "userErrors": [refused]}
        if "title" in data and not (data["title"] or "").strip():
            return {"product": None, "userErrors": [user_error(["title"], "Title can't be blank")]}
        apply_product_fields(store, found, data)
        store.touch_product(found)
        store.emit("products/update", found.id)
        return {"product": product_view(store, found), "userErrors": []}

    return resolve


def product_delete(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, input: dict[str, Any], **_: Any) -> View:
        number = parse_gid(input["id"], "Product")
        found = None if number is None else store.products.get(number)
        if found is None:
            return {
                "deletedProductId": None,
                "userErrors": [user_error(["id"], "Product does not exist")],
            }
        store.delete_product(found)
        store.emit("products/delete", found.id)
        return {"deletedProductId": input["id"], "userErrors": []}

    return resolve
