"""Wires the mutation modules and extra routes into a shop's application."""

from __future__ import annotations

from aiohttp import web

from adapters.shopify.simulator import (
    bulk,
    control,
    inventory_write,
    metafields,
    orders_refund,
    orders_views,
    orders_write,
    product_set,
    products_write,
    reads,
    variants_write,
    webhooks,
)
from adapters.shopify.simulator.idempotency import idempotent
from adapters.shopify.simulator.shop import Shop

DELIVERIES_KEY = web.AppKey("shopify_deliveries", webhooks.Deliveries)
BULK_KEY = web.AppKey("shopify_bulk", bulk.BulkOperations)


def install(app: web.Application, shop: Shop) -> None:
    store = shop.store
    deliveries = webhooks.Deliveries(shop)
    app[DELIVERIES_KEY] = deliveries

    async def close_deliveries(app: web.Application) -> None:
        await deliveries.close()

    bulk_operations = bulk.BulkOperations(shop)
    app[BULK_KEY] = bulk_operations

    async def close_bulk(app: web.Application) -> None:
        await bulk_operations.close()

    app.on_cleanup.append(close_deliveries)
    app.on_cleanup.append(close_bulk)
    app.router.add_get("/__sim__/bulk/{id:\\d+}.jsonl", bulk_operations.serve_result)
    app.router.add_post("/__sim__/staged-uploads", bulk_operations.receive_upload)
    control.add_routes(app, shop)
    bulk_mutations, bulk_queries = bulk_operations.resolvers()
    hooks = webhooks.mutations(deliveries)
    shop.query_root.update(
        {
            **reads.query_root(store, shop.settings.shop_domain),
            **orders_views.query_fields(store),
            "job": orders_refund.job_query(store),
            "webhookSubscriptions": hooks.pop("webhookSubscriptions"),
            **bulk_queries,
        }
    )
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
            "orderUpdate": orders_write.order_update(store),
            "fulfillmentCreate": orders_write.fulfillment_create(store),
            "orderCancel": orders_refund.order_cancel(store),
            "refundCreate": orders_refund.refund_create(store),
            **hooks,
            **bulk_mutations,
        }
    )
