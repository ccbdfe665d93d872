"""A seeded Odoo catalogue: the same ``products`` and ``seed`` always give the same data.

``products`` counts sellable articles (``product.product``): most templates have one variant,
about one in six has two to four (colour x size). Every article gets a quant in the warehouse
stock location except about one in ten; one in twenty keeps a third of it on a shelf below that
location (``WH/Stock/Shelf 1``), as a warehouse with bins does. Write dates step one minute per
record from 2024-01-01 so a full read's newest write_date lies well in the past.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from adapters.odoo.simulator.records import Row
from adapters.odoo.simulator.store import STAMP, OdooStore

_START = datetime(2024, 1, 1)
_CATEGORIES = (
    ("All", None),
    ("Shoes", "All"),
    ("Boots", "Shoes"),
    ("Sneakers", "Shoes"),
    ("Clothing", "All"),
    ("Shirts", "Clothing"),
    ("Jackets", "Clothing"),
    ("Home", "All"),
    ("Kitchen", "Home"),
    ("Garden", "Home"),
)
_TAXES = (("VAT 20%", 20.0, "sale"), ("VAT 10%", 10.0, "sale"), ("VAT 5.5%", 5.5, "sale"))
_COLOURS = ("Red", "Blue", "Black", "White")
_SIZES = ("S", "M", "L", "XL")
_NOUNS = ("Boot", "Sneaker", "Shirt", "Jacket", "Pan", "Kettle", "Rake", "Lamp", "Mug", "Bag")
_ADJECTIVES = ("Classic", "Urban", "Alpine", "Coastal", "Nordic", "Vintage", "Light", "Sturdy")
_COUNTRIES = (("France", "FR"), ("Belgium", "BE"), ("Germany", "DE"), ("United States", "US"))


class _Seeder:
    def __init__(self, store: OdooStore, seed: int) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.tick = 0

    def stamp(self) -> str:
        self.tick += 1
        return (_START + timedelta(minutes=self.tick)).strftime(STAMP)

    def put(self, model: str, vals: Row) -> int:
        """Insert directly: seeding 30,000 articles must not pay for the ORM's checks."""
        rid = self.store.new_id(model)
        stamp = self.stamp()
        self.store.insert(model, {"id": rid, "create_date": stamp, "write_date": stamp, **vals})
        return rid

    def reference_data(self) -> None:
        self.put("res.currency", {"name": "EUR"})
        self.put(
            "res.company",
            {"name": "My Company", "tax_calculation_rounding_method": "round_per_line"},
        )
        for precision in ("Product Price", "Discount", "Product Unit of Measure", "Stock Weight"):
            self.put("decimal.precision", {"name": precision, "digits": 2})
        self.countries = [self.put("res.country", {"name": n, "code": c}) for n, c in _COUNTRIES]
        self.taxes = [
            self.put("account.tax", {"name": n, "amount": a, "type_tax_use": u, "active": True})
            for n, a, u in _TAXES
        ]
        by_name: dict[str, int] = {}
        for name, parent in _CATEGORIES:
            parent_id = by_name[parent] if parent else False
            by_name[name] = self.put("product.category", {"name": name, "parent_id": parent_id})
        self.categories = list(by_name.values())[1:]
        warehouse = self.put("stock.location", {"name": "WH", "usage": "view", "active": True})
        self.location = self.put(
            "stock.location",
            {"name": "Stock", "location_id": warehouse, "usage": "internal", "active": True},
        )
        self.shelves = [
            self.put(
                "stock.location",
                {"name": name, "location_id": self.location, "usage": "internal", "active": True},
            )
            for name in ("Shelf 1", "Shelf 2")
        ]
        self.put("stock.location", {"name": "Customers", "usage": "customer", "active": True})
        self.colour = self.put("product.attribute", {"name": "Color"})
        self.size = self.put("product.attribute", {"name": "Size"})

    def template(self, number: int, variants: int) -> list[int]:
        rng = self.rng
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {number}"
        tmpl = self.put(
            "product.template",
            {
                "name": name,
                "description_sale": f"{name}, made to last." if rng.random() < 0.7 else False,
                "list_price": round(rng.uniform(5, 300), 2),
                "categ_id": rng.choice(self.categories),
                "taxes_id": [rng.choice(self.taxes)],
                "active": True,
                "product_variant_ids": [],
            },
        )
        base = f"SKU-{number:06d}"
        options = [(c, s) for c in _COLOURS for s in _SIZES]
        rng.shuffle(options)
        ids = []
        for colour, size in options[:variants] if variants > 1 else [(None, None)]:
            values: list[int] = []
            code = base
            if colour is not None and size is not None:
                values = [
                    self.put(
                        "product.template.attribute.value",
                        {"name": colour, "attribute_id": self.colour, "product_tmpl_id": tmpl},
                    ),
                    self.put(
                        "product.template.attribute.value",
                        {"name": size, "attribute_id": self.size, "product_tmpl_id": tmpl},
                    ),
                ]
                code = f"{base}-{colour[:3].upper()}-{size}"
            ids.append(
                self.put(
                    "product.product",
                    {
                        "default_code": code,
                        "barcode": f"{rng.randrange(10**12, 10**13)}"
                        if rng.random() < 0.8
                        else False,
                        "standard_price": round(rng.uniform(1, 150), 2),
                        "weight": round(rng.uniform(0.1, 5), 2),
                        "active": True,
                        "product_tmpl_id": tmpl,
                        "product_template_attribute_value_ids": values,
                    },
                )
            )
        self.store.tables["product.template"][tmpl]["product_variant_ids"] = ids
        return ids

    def quant(self, product: int) -> None:
        if self.rng.random() < 0.1:
            return
        quantity = float(self.rng.randrange(0, 200))
        reserved = float(self.rng.randrange(0, int(quantity) + 1) // 4)
        shelved = quantity // 3 if product % 20 == 0 else 0.0
        for location, amount in ((self.location, quantity - shelved), (self.shelves[0], shelved)):
            if location == self.location or amount:
                self.put(
                    "stock.quant",
                    {
                        "product_id": product,
                        "location_id": location,
                        "quantity": amount,
                        "reserved_quantity": min(reserved, amount),
                        "inventory_quantity": 0.0,
                        "inventory_quantity_set": False,
                    },
                )
                reserved -= min(reserved, amount)

    def sales(self, products: list[int], count: int) -> None:
        partners = []
        for n in range(count):
            partners.append(
                self.put(
                    "res.partner",
                    {
                        "name": f"Customer {n}",
                        "email": f"customer{n}@example.com",
                        "phone": f"+33 1 00 00 {n:04d}",
                        "street": f"{n} rue de la Paix",
                        "city": "Paris",
                        "zip": "75002",
                        "country_id": self.countries[0],
                        "active": True,
                    },
                )
            )
        for n in range(count):
            order = self.put(
                "sale.order",
                {
                    "name": f"S{n + 1:05d}",
                    "partner_id": self.rng.choice(partners),
                    "client_order_ref": f"WEB-{1000 + n}" if n % 2 == 0 else False,
                    "state": ("draft", "sale", "sale", "cancel")[n % 4],
                    "date_order": self.stamp(),
                    "currency_id": 1,
                    "order_line": [],
                },
            )
            lines = []
            for product in self.rng.sample(products, min(2, len(products))):
                row = self.store.tables["product.product"][product]
                template = self.store.tables["product.template"][row["product_tmpl_id"]]
                lines.append(
                    self.put(
                        "sale.order.line",
                        {
                            "order_id": order,
                            "product_id": product,
                            "name": template["name"],
                            "product_uom_qty": float(self.rng.randrange(1, 4)),
                            "price_unit": template["list_price"],
                            self.store.tax_field: list(template["taxes_id"]),
                        },
                    )
                )
            self.store.tables["sale.order"][order]["order_line"] = lines
            if n % 4 == 1:
                total = self.store.raw(
                    "sale.order", self.store.tables["sale.order"][order], "amount_total"
                )
                self.put(
                    "account.move",
                    {
                        "name": f"INV/2024/{n + 1:05d}",
                        "move_type": "out_invoice",
                        "state": "posted",
                        "partner_id": self.store.tables["sale.order"][order]["partner_id"],
                        "invoice_origin": f"S{n + 1:05d}",
                        "invoice_date": "2024-02-01",
                        "amount_total": total,
                        "currency_id": 1,
                        "payment_state": "paid" if n % 8 == 1 else "not_paid",
                    },
                )


def _vary(seeder: _Seeder) -> None:
    """Give the catalogue what a real one holds besides plain goods: one template in 25 a
    service (no stock), one in 30 archived, one in 15 named with padding and non-ASCII letters,
    one in 10 in a category whose own name contains " / "."""
    store = seeder.store
    [top] = [rid for rid, row in store.tables["product.category"].items() if not row["parent_id"]]
    bags = seeder.put("product.category", {"name": "Sacs / Bagages", "parent_id": top})
    quants: dict[int, list[int]] = {}
    for row in store.tables["stock.quant"].values():
        quants.setdefault(row["product_id"], []).append(row["id"])
    for number, (tid, template) in enumerate(sorted(store.tables["product.template"].items()), 1):
        variants = template["product_variant_ids"]
        if number % 25 == 0:
            template["type"] = "service"
            for qid in [q for variant in variants for q in quants.get(variant, [])]:
                store.delete("stock.quant", qid)
        if number % 30 == 0:
            template["active"] = False
            for variant in variants:
                store.tables["product.product"][variant]["active"] = False
        if number % 15 == 0:
            template["name"] = f"  Thé « {template['name']} » n°{tid}  "
        if number % 10 == 0:
            template["categ_id"] = bags


def seed_catalogue(store: OdooStore, *, products: int, seed: int, varied: bool = False) -> None:
    """Fill an empty store with reference data and ``products`` articles; ``varied`` adds
    services, archived articles, padded unicode names and a category named with " / "."""
    seeder = _Seeder(store, seed)
    seeder.reference_data()
    made: list[int] = []
    number = 0
    while len(made) < products:
        number += 1
        variants = seeder.rng.randrange(2, 5) if seeder.rng.random() < 1 / 6 else 1
        ids = seeder.template(number, min(variants, products - len(made)))
        for product in ids:
            seeder.quant(product)
        made.extend(ids)
    if varied:
        _vary(seeder)
    if made:
        seeder.sales(made, min(20, max(4, products // 50)))


def warehouse_location(store: OdooStore) -> int:
    """The internal stock location (``WH/Stock``)."""
    return next(
        rid for rid, row in store.tables["stock.location"].items() if row.get("usage") == "internal"
    )
