"""A seeded catalogue: the same ``products=N, seed=S`` always gives the same shop.

Two locations; about one product in six has colour x size variants, one in ten is a service
(inventory not tracked), one in fifteen archived and one in twenty a draft; titles include
accented and non-Latin characters, as merchants' catalogues do. ``products`` counts variants.
"""

from __future__ import annotations

import random
from decimal import Decimal

from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.simulator.store import Store

_ADJECTIVES = ("Classic", "Urban", "Alpine", "Nordic", "Vintage", "Léger", "Große", "Κλασικό")
_NOUNS = ("Boot", "Shirt", "Jacket", "Mug", "Lamp", "Kettle", "Sac à dos", "Tasse", "茶碗")
_VENDORS = ("Acme", "Maison Dupont", "Nordwerk", "Ōsaka Craft")
_TYPES = ("Shoes", "Clothing", "Home", "Kitchen")
_COLOURS = ("Red", "Blue", "Black", "White")
_SIZES = ("S", "M", "L", "XL")


def _price(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(199, 29999)) / 100


def seed_catalogue(store: Store, products: int, seed: int) -> None:
    """Fill ``store`` with ``products`` sellable variants (and the shop's locations)."""
    rng = random.Random(seed)
    warehouse = store.add_location("Warehouse")
    shop_floor = store.add_location("Shop floor")
    made, number = 0, 0
    while made < products:
        number += 1
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {number}"
        roll = rng.random()
        status = "ARCHIVED" if roll < 1 / 15 else "DRAFT" if roll < 1 / 15 + 1 / 20 else "ACTIVE"
        product = new_product(
            store,
            title,
            status=status,
            vendor=rng.choice(_VENDORS),
            product_type=rng.choice(_TYPES),
            tags=rng.sample(("new", "sale", "eco", "gift"), k=rng.randint(0, 2)),
            description_html=f"<p>{title}: made to last.</p>",
        )
        service = rng.random() < 0.1
        if not service and rng.random() < 1 / 6 and products - made >= 2:
            combos = [(c, s) for c in _COLOURS[:2] for s in _SIZES[: rng.randint(1, 3)]]
            combos = combos[: products - made]
        else:
            combos = []
        price = _price(rng)
        for colour, size in combos or [("", "")]:
            variant = add_variant(
                store,
                product,
                sku=f"SKU-{number:05d}" + (f"-{colour[:2].upper()}-{size}" if colour else ""),
                price=price,
                compare_at_price=price + Decimal(10) if rng.random() < 0.2 else None,
                barcode=None if service else f"{rng.randrange(10**12, 10**13)}",
                selected=[("Colour", colour), ("Size", size)] if colour else None,
                tracked=not service,
                requires_shipping=not service,
            )
            if variant.tracked:
                store.stock(variant.item_id, warehouse.id, rng.randint(0, 50))
                if rng.random() < 0.3:
                    store.stock(variant.item_id, shop_floor.id, rng.randint(0, 5))
            made += 1
        store.index_product(product)
