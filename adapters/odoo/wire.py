"""The shapes Odoo answers with, decoded straight from JSON into typed structs.

Odoo writes an empty value as ``false`` whatever the field's type, and a many2one as
``[id, display_name]``; the aliases below say so. Numbers decode to ``Decimal`` from their JSON
text, so ``19.99`` stays exactly ``19.99``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import msgspec

Many2one = tuple[int, str] | bool
Text = str | bool


def text(value: Text) -> str:
    """A char/text value, ``""`` when Odoo says ``false``."""
    return value if isinstance(value, str) else ""


def ref_id(value: Many2one) -> int | None:
    """The id of a many2one value, ``None`` when empty."""
    return value[0] if isinstance(value, tuple) else None


def ref_name(value: Many2one) -> str:
    return value[1] if isinstance(value, tuple) else ""


class ErrorBody(msgspec.Struct):
    """JSON-2's error body, and ``error.data`` of a JSON-RPC reply."""

    name: str = ""
    message: str = ""


class RpcError(msgspec.Struct):
    code: int = 0
    message: str = ""
    data: ErrorBody = msgspec.field(default_factory=ErrorBody)


class Row(msgspec.Struct):
    id: int


class ProductRow(msgspec.Struct):
    id: int
    default_code: Text = False
    name: Text = False
    description_sale: Text = False
    list_price: Decimal = Decimal(0)
    standard_price: Decimal = Decimal(0)
    barcode: Text = False
    weight: Decimal = Decimal(0)
    taxes_id: list[int] = msgspec.field(default_factory=list)
    categ_id: Many2one = False
    type: Text = False
    active: bool = True
    product_tmpl_id: Many2one = False
    product_template_attribute_value_ids: list[int] = msgspec.field(default_factory=list)
    write_date: Text = False


class StampRow(msgspec.Struct):
    """Enough of a row to follow modifications: its id and write_date."""

    id: int
    write_date: Text = False


class VariantStampRow(msgspec.Struct):
    id: int
    write_date: Text = False
    product_tmpl_id: Many2one = False


class SkuRow(msgspec.Struct):
    id: int
    default_code: Text = False
    write_date: Text = False


class PriceRow(msgspec.Struct):
    id: int
    default_code: Text = False
    list_price: Decimal = Decimal(0)
    product_tmpl_id: Many2one = False
    write_date: Text = False


class OrderRefRow(msgspec.Struct):
    id: int
    name: Text = False
    client_order_ref: Text = False


class TaxRow(msgspec.Struct):
    id: int
    name: Text = False


class CategoryRow(msgspec.Struct):
    id: int
    name: Text = False
    parent_id: Many2one = False


class PrecisionRow(msgspec.Struct):
    """A ``decimal.precision``: how many decimals a usage ("Product Price") keeps."""

    id: int
    name: Text = False
    digits: int = 2


class CountryRow(msgspec.Struct):
    id: int
    code: Text = False


class ValueRow(msgspec.Struct):
    """A ``product.template.attribute.value``: an attribute's option on one template."""

    id: int
    name: Text = False
    attribute_id: Many2one = False


class QuantRow(msgspec.Struct):
    id: int
    product_id: Many2one = False
    location_id: Many2one = False
    quantity: Decimal = Decimal(0)
    write_date: Text = False


class PartnerRow(msgspec.Struct):
    id: int
    name: Text = False
    email: Text = False
    phone: Text = False
    street: Text = False
    city: Text = False
    zip: Text = False
    country_id: Many2one = False
    is_company: bool = False
    write_date: Text = False


class OrderRow(msgspec.Struct):
    id: int
    name: Text = False
    client_order_ref: Text = False
    state: Text = False
    partner_id: Many2one = False
    date_order: Text = False
    amount_untaxed: Decimal = Decimal(0)
    amount_tax: Decimal = Decimal(0)
    amount_total: Decimal = Decimal(0)
    currency_id: Many2one = False
    order_line: list[int] = msgspec.field(default_factory=list)
    note: Text = False
    write_date: Text = False


class LineRow(msgspec.Struct):
    id: int
    product_id: Many2one = False
    name: Text = False
    product_uom_qty: Decimal = Decimal(0)
    price_unit: Decimal = Decimal(0)
    price_subtotal: Decimal = Decimal(0)
    price_tax: Decimal = Decimal(0)
    price_total: Decimal = Decimal(0)


class InvoiceRow(msgspec.Struct):
    id: int
    name: Text = False
    invoice_origin: Text = False
    state: Text = False
    payment_state: Text = False
    amount_total: Decimal = Decimal(0)
    currency_id: Many2one = False
    invoice_date: Text = False
    write_date: Text = False


def fields_of(row_type: type[msgspec.Struct]) -> list[str]:
    """The Odoo field names a row struct reads (its attributes, as renamed)."""
    return list(row_type.__struct_encode_fields__)


def product_row(description_field: str | None) -> type[ProductRow]:
    """:class:`ProductRow`, reading the web description from ``description_field`` into
    ``web_description`` when one is configured (the field depends on the installed modules)."""
    if description_field is None:
        return ProductRow
    row = msgspec.defstruct(
        "ProductRowWithDescription",
        [("web_description", Text, False)],
        bases=(ProductRow,),
        rename={"web_description": description_field},
    )
    return cast(type[ProductRow], row)
