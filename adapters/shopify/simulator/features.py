"""Wires the mutation modules and extra routes into a shop's application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from adapters.shopify.simulator import (
    inventory_write,
    metafields,
    product_set,
    products_write,
    variants_write,
)
from adapters.shopify.simulator.idempotency import idempotent

if TYPE_CHECKING:
    from adapters.shopify.simulator.app import Shop


def install(app: web.Application, shop: Shop) -> None:
    store = shop.store
    shop.mutation_root.update(
        {
            "productCreate": products_write.product_create(store),
            "productUpdate": products_write.product_update(store),
            "productDelete": products_write.product_delete(store),
            "productSet": product_set.product_set(store),
            "productVariantsBulkCreate": variants_write.bulk_create(store),
            "productVariantsBulkUpdate": variants_write.bulk_update(store),
            "productVariantsBulkDelete": variants_write.bulk_delete(store),
            "inventorySetQuantities": idempotent(
                store,
                "inventorySetQuantities",
                inventory_write.set_quantities(store),
                required=True,
            ),
            "inventoryAdjustQuantities": idempotent(
                store,
                "inventoryAdjustQuantities",
                inventory_write.adjust_quantities(store),
                required=True,
            ),
            "metafieldsSet": metafields.metafields_set(store),
        }
    )
