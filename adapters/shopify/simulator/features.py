"""Wires the mutation modules and extra routes into a shop's application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from adapters.shopify.simulator import products_write

if TYPE_CHECKING:
    from adapters.shopify.simulator.app import Shop


def install(app: web.Application, shop: Shop) -> None:
    store = shop.store
    shop.mutation_root.update(
        {
            "productCreate": products_write.product_create(store),
            "productUpdate": products_write.product_update(store),
        }
    )
