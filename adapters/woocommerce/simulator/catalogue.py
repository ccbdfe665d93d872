"""A seeded catalogue: the same ``products=N, seed=S`` always gives the same shop.

About one product in six is variable (colour x size variations); descriptions, images, meta
and dimensions have the sizes a real shop's records have, so page sizes and memory use in the
benchmark are close to what a merchant's 30,000 articles would give.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import stamp
from adapters.woocommerce.simulator.store import Store, refresh

_TREE = {
    "Clothing": ("T-shirts", "Hoodies", "Trousers", "Jackets"),
    "Shoes": ("Sneakers", "Boots", "Sandals"),
    "Home": ("Kitchen", "Bedding", "Lighting", "Decoration"),
    "Garden": ("Tools", "Plants", "Furniture"),
    "Electronics": ("Audio", "Cables", "Chargers"),
    "Sport": ("Cycling", "Running", "Camping"),
}
_ADJECTIVES = (
    "Classic",
    "Organic",
    "Premium",
    "Compact",
    "Vintage",
    "Urban",
    "Alpine",
    "Coastal",
    "Essential",
    "Heavy-duty",
    "Lightweight",
    "Recycled",
)
_MATERIALS = (
    "cotton",
    "linen",
    "oak",
    "steel",
    "wool",
    "bamboo",
    "leather",
    "ceramic",
    "aluminium",
    "hemp",
)
_NOUNS = (
    "shirt",
    "mug",
    "lamp",
    "jacket",
    "backpack",
    "bottle",
    "blanket",
    "chair",
    "kettle",
    "cable",
    "speaker",
    "trowel",
    "tent",
    "sock",
    "boot",
)
_WORDS = [
    "durable",
    "quality",
    "design",
    "everyday",
    "comfortable",
    "made",
    "from",
    "sourced",
    "materials",
    "with",
    "care",
    "finish",
    "natural",
    "easy",
    "to",
    "clean",
    "suitable",
    "for",
    "indoor",
    "outdoor",
    "use",
    "warranty",
    "tested",
    "fits",
    "perfectly",
    "gift",
    "ideal",
    "season",
    "collection",
    "crafted",
    "responsibly",
    "classic",
    "modern",
    "style",
    "lasting",
    "light",
    "strong",
    "soft",
]
_COLOURS = ("Red", "Blue", "Green", "Black", "White", "Grey")
_SIZES = ("XS", "S", "M", "L", "XL")
_TAX_CLASSES = ("", "", "", "", "reduced-rate", "zero-rate")
_EPOCH = datetime(2025, 6, 1, tzinfo=UTC)


def description(rng: random.Random, low: int, high: int) -> str:
    """A product description of realistic length (the shop's HTML paragraph form)."""
    words = rng.choices(_WORDS, k=rng.randint(low, high))
    return "<p>" + " ".join(words).capitalize() + ".</p>"


def _ean13(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(12)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def _price(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(199, 29999)) / 100


def seed_catalogue(store: Store, products: int, seed: int) -> None:
    """Fill ``store`` with categories and ``products`` products, deterministically."""
    rng = random.Random(seed)
    leaves: list[tuple[m.Category, m.Category]] = []
    for top_name, children in _TREE.items():
        top = m.Category(id=store.next_id("term"), name=top_name, slug=top_name.lower())
        store.categories[top.id] = top
        for child_name in children:
            slug = child_name.lower().replace(" ", "-")
            child = m.Category(id=store.next_id("term"), name=child_name, slug=slug, parent=top.id)
            store.categories[child.id] = child
            leaves.append((top, child))
    for n in range(1, products + 1):
        _product(store, rng, n, leaves)
    for top, child in leaves:
        top.count += child.count


def _dates(rng: random.Random) -> tuple[tuple[str, str], tuple[str, str]]:
    created = _EPOCH - timedelta(seconds=rng.randint(3600, 730 * 86400))
    modified = created + (_EPOCH - created) * rng.random()
    return stamp(created), stamp(modified)


def _product(
    store: Store, rng: random.Random, n: int, leaves: list[tuple[m.Category, m.Category]]
) -> None:
    (created, created_gmt), (modified, modified_gmt) = _dates(rng)
    variable = rng.random() < 1 / 6
    name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {rng.choice(_NOUNS)} {n}"
    _top, leaf = rng.choice(leaves)
    leaf.count += 1
    product_id = store.next_post_id()
    slug = name.lower().replace(" ", "-")
    price = _price(rng)
    on_sale = not variable and rng.random() < 0.1
    product = m.Product(
        id=product_id,
        name=name,
        slug=slug,
        permalink=f"{store.base_url}/product/{slug}/",
        date_created=created,
        date_created_gmt=created_gmt,
        date_modified=modified,
        date_modified_gmt=modified_gmt,
        type="variable" if variable else "simple",
        status="publish" if rng.random() < 0.93 else "draft",
        description=description(rng, 60, 220),
        short_description=description(rng, 10, 30),
        sku=f"WC-{n:06d}",
        global_unique_id=_ean13(rng) if rng.random() < 0.6 else "",
        regular_price="" if variable else f"{price:f}",
        sale_price=f"{price * Decimal('0.8'):.2f}" if on_sale else "",
        tax_class=rng.choice(_TAX_CLASSES),
        manage_stock=not variable and rng.random() < 0.85,
        weight=f"{rng.randint(5, 5000) / 1000:g}",
        dimensions=m.Dimensions(
            length=str(rng.randint(5, 120)),
            width=str(rng.randint(5, 80)),
            height=str(rng.randint(1, 60)),
        ),
        categories=[m.Term(id=leaf.id, name=leaf.name, slug=leaf.slug)],
        images=[
            m.Image(
                id=store.next_id("attachment"),
                src=f"{store.base_url}/wp-content/uploads/2025/05/{slug}-{i}.jpg",
                name=f"{slug}-{i}",
                alt=name,
            )
            for i in range(rng.randint(1, 4))
        ],
        meta_data=[
            m.Meta(
                id=store.next_id("meta"),
                key="_supplier_ref",
                value=f"SUP-{rng.randint(10000, 99999)}",
            )
        ],
        total_sales=rng.randint(0, 400),
    )
    if product.manage_stock:
        product.stock_quantity = rng.randint(0, 500)
    if variable:
        colours = rng.sample(_COLOURS, rng.randint(1, 3))
        sizes = rng.sample(_SIZES, rng.randint(1, 3))
        product.attributes = [
            m.ProductAttribute(name="Colour", position=0, variation=True, options=colours),
            m.ProductAttribute(name="Size", position=1, variation=True, options=sizes),
        ]
    else:
        product.attributes = [
            m.ProductAttribute(name="Material", options=[product.name.split()[1]], visible=True)
        ]
    store.insert(product)
    if not variable:
        return
    prices: list[str] = []
    for colour in colours:
        for size in sizes:
            variant_price = price + rng.choice((0, 0, 2, 5))
            variation = m.Variation(
                id=store.next_post_id(),
                parent_id=product_id,
                date_created=created,
                date_created_gmt=created_gmt,
                date_modified=modified,
                date_modified_gmt=modified_gmt,
                sku=f"{product.sku}-{colour[:3].upper()}-{size}",
                regular_price=f"{variant_price:f}",
                tax_class=product.tax_class,
                manage_stock=True,
                stock_quantity=rng.randint(0, 80),
                weight=product.weight,
                attributes=[
                    m.ChosenAttribute(name="Colour", option=colour),
                    m.ChosenAttribute(name="Size", option=size),
                ],
                permalink=f"{product.permalink}?attribute_colour={colour.lower()}",
            )
            store.insert(variation)
            prices.append(variation.price)
    # A variable product's own ``price`` is its lowest variation price.
    product.price = min(prices, key=Decimal)
    refresh(product)
