"""Seeded catalogues of plausible articles, for the demo, trials and benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from canonical.models import Product, Stock

_FAMILIES = {
    "Clothing": ["T-shirts", "Jackets", "Trousers", "Socks"],
    "Garden": ["Tools", "Seeds", "Pots"],
    "Kitchen": ["Knives", "Pans", "Cups", "Storage"],
    "Office": ["Paper", "Pens", "Folders"],
}
_ADJECTIVES = ["Classic", "Organic", "Heavy-duty", "Compact", "Premium", "Recycled", "Vintage"]
_MATERIALS = ["cotton", "steel", "oak", "ceramic", "bamboo", "linen", "aluminium"]
_TAXES = ["VAT20", "VAT20", "VAT20", "VAT10", "VAT5"]


def _price(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(199, 49999)) / 100


def generate_products(count: int, *, seed: int = 0) -> Iterator[Product]:
    """``count`` plain articles with SKUs ``SKU-000001``..., the same for the same seed."""
    rng = random.Random(seed)
    families = sorted(_FAMILIES)
    for number in range(1, count + 1):
        family = rng.choice(families)
        sub = rng.choice(_FAMILIES[family])
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {sub[:-1].lower()} {number}"
        yield Product(
            sku=f"SKU-{number:06d}",
            name=name,
            description=f"{name}. " + " ".join(rng.choices(_MATERIALS, k=rng.randrange(20, 60))),
            price=_price(rng),
            cost=(_price(rng) / 2).quantize(Decimal("0.01")),
            tax_code=rng.choice(_TAXES),
            category=(family, sub),
            weight=Decimal(rng.randrange(50, 5000)) / 1000,
            barcode=f"{rng.randrange(10**12, 10**13)}",
        )


def generate_stock(count: int, *, seed: int = 0) -> Iterator[Stock]:
    """A stock quantity for each article of :func:`generate_products`."""
    rng = random.Random(seed + 1)
    for number in range(1, count + 1):
        yield Stock(sku=f"SKU-{number:06d}", quantity=Decimal(rng.randrange(0, 500)))
