"""The models the Odoo simulator knows, with their fields, as Odoo declares them.

Only what Concord reads or writes is declared. Field kinds follow Odoo's: many2one values are
ids (read back as ``[id, display_name]``), x2many values are lists of ids, empty values are
``False``. ``delegated`` fields of ``product.product`` live on its template (Odoo's
``_inherits``); ``from_variant`` fields of ``product.template`` show the single variant's value.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

FieldKind = Literal[
    "char",
    "text",
    "float",
    "integer",
    "boolean",
    "many2one",
    "many2many",
    "one2many",
    "datetime",
    "date",
    "selection",
]


class FieldSpec(NamedTuple):
    kind: FieldKind
    relation: str = ""
    inverse: str = ""
    """For a one2many: the many2one on ``relation`` pointing back."""
    required: bool = False
    computed: bool = False
    """Not stored: computed on read, ignored on write (as Odoo does for fields without inverse)."""
    delegated: bool = False
    from_variant: bool = False
    selection: tuple[str, ...] = ()
    default: object = False
    digits: str = ""
    """For a float: the ``decimal.precision`` usage it is rounded to on write (2 if unset)."""


def _char(required: bool = False) -> FieldSpec:
    return FieldSpec("char", required=required)


def _float(digits: str = "") -> FieldSpec:
    return FieldSpec("float", default=0.0, digits=digits)


def _m2o(relation: str, required: bool = False) -> FieldSpec:
    return FieldSpec("many2one", relation, required=required)


def _m2m(relation: str) -> FieldSpec:
    return FieldSpec("many2many", relation, default=[])


def _computed(kind: FieldKind, relation: str = "") -> FieldSpec:
    return FieldSpec(kind, relation, computed=True)


_ACTIVE = FieldSpec("boolean", default=True)
_PRICE = "Product Price"
_TYPES = ("consu", "service", "combo")
"""``product.template.type`` from Odoo 18 on (17 has ``product`` for storable goods)."""

_PRODUCT_TEMPLATE: dict[str, FieldSpec] = {
    "name": _char(required=True),
    "description_sale": FieldSpec("text"),
    "description": FieldSpec("text"),
    "description_ecommerce": FieldSpec("text"),
    "list_price": FieldSpec("float", default=1.0, digits=_PRICE),
    "type": FieldSpec("selection", selection=_TYPES, default="consu"),
    "categ_id": _m2o("product.category"),
    "taxes_id": _m2m("account.tax"),
    "active": _ACTIVE,
    "product_variant_ids": FieldSpec("one2many", "product.product", "product_tmpl_id", default=[]),
    "product_variant_count": _computed("integer"),
    "default_code": FieldSpec("char", from_variant=True),
    "barcode": FieldSpec("char", from_variant=True),
    "standard_price": FieldSpec("float", from_variant=True, default=0.0),
    "weight": FieldSpec("float", from_variant=True, default=0.0),
}

_PRODUCT_PRODUCT: dict[str, FieldSpec] = {
    "default_code": _char(),
    "barcode": _char(),
    "standard_price": _float(_PRICE),
    "weight": _float("Stock Weight"),
    "active": _ACTIVE,
    "product_tmpl_id": _m2o("product.template", required=True),
    "product_template_attribute_value_ids": _m2m("product.template.attribute.value"),
    "lst_price": _computed("float"),
    "name": FieldSpec("char", delegated=True),
    "description_sale": FieldSpec("text", delegated=True),
    "description": FieldSpec("text", delegated=True),
    "description_ecommerce": FieldSpec("text", delegated=True),
    "list_price": FieldSpec("float", delegated=True, default=1.0),
    "type": FieldSpec("selection", selection=_TYPES, delegated=True, default="consu"),
    "categ_id": FieldSpec("many2one", "product.category", delegated=True),
    "taxes_id": FieldSpec("many2many", "account.tax", delegated=True, default=[]),
}

MODELS: dict[str, dict[str, FieldSpec]] = {
    "product.template": _PRODUCT_TEMPLATE,
    "product.product": _PRODUCT_PRODUCT,
    "product.category": {
        "name": _char(required=True),
        "parent_id": _m2o("product.category"),
        "complete_name": _computed("char"),
        "parent_path": _computed("char"),
    },
    "product.attribute": {"name": _char(required=True)},
    "product.template.attribute.value": {
        "name": _char(required=True),
        "attribute_id": _m2o("product.attribute", required=True),
        "product_tmpl_id": _m2o("product.template"),
    },
    "account.tax": {
        "name": _char(required=True),
        "description": _char(),
        "amount": _float(),
        "type_tax_use": FieldSpec(
            "selection", selection=("sale", "purchase", "none"), default="sale"
        ),
        "active": _ACTIVE,
    },
    "stock.location": {
        "name": _char(required=True),
        "location_id": _m2o("stock.location"),
        "usage": FieldSpec(
            "selection", selection=("view", "internal", "customer", "supplier"), default="internal"
        ),
        "complete_name": _computed("char"),
        "parent_path": _computed("char"),
        "active": _ACTIVE,
    },
    "stock.quant": {
        "product_id": _m2o("product.product", required=True),
        "location_id": _m2o("stock.location", required=True),
        "quantity": _float(),
        "reserved_quantity": _float(),
        "inventory_quantity": _float(),
        "inventory_quantity_set": FieldSpec("boolean"),
        "available_quantity": _computed("float"),
    },
    "res.country": {"name": _char(required=True), "code": _char()},
    "res.company": {
        "name": _char(required=True),
        "tax_calculation_rounding_method": FieldSpec(
            "selection", selection=("round_per_line", "round_globally"), default="round_per_line"
        ),
    },
    "decimal.precision": {"name": _char(required=True), "digits": FieldSpec("integer", default=2)},
    "res.currency": {"name": _char(required=True)},
    "res.partner": {
        "name": _char(required=True),
        "email": _char(),
        "phone": _char(),
        "street": _char(),
        "city": _char(),
        "zip": _char(),
        "street2": _char(),
        "country_id": _m2o("res.country"),
        "is_company": FieldSpec("boolean"),
        "parent_id": _m2o("res.partner"),
        "type": FieldSpec(
            "selection", selection=("contact", "invoice", "delivery", "other"), default="contact"
        ),
        "child_ids": FieldSpec("one2many", "res.partner", "parent_id", default=[]),
        "active": _ACTIVE,
    },
    "sale.order": {
        "name": _char(),
        "partner_id": _m2o("res.partner", required=True),
        "partner_invoice_id": _m2o("res.partner"),
        "partner_shipping_id": _m2o("res.partner"),
        "client_order_ref": _char(),
        "state": FieldSpec(
            "selection", selection=("draft", "sent", "sale", "done", "cancel"), default="draft"
        ),
        "date_order": FieldSpec("datetime"),
        "currency_id": _m2o("res.currency"),
        "order_line": FieldSpec("one2many", "sale.order.line", "order_id", default=[]),
        "amount_untaxed": _computed("float"),
        "amount_tax": _computed("float"),
        "amount_total": _computed("float"),
        "note": FieldSpec("text"),
        "picking_ids": FieldSpec("one2many", "stock.picking", "sale_id", default=[]),
    },
    "sale.order.line": {
        "order_id": _m2o("sale.order", required=True),
        "product_id": _m2o("product.product"),
        "display_type": FieldSpec("selection", selection=("line_section", "line_note")),
        "name": FieldSpec("text"),
        "product_uom_qty": FieldSpec("float", default=1.0),
        "price_unit": _float(),
        "discount": _float(),
        "tax_id": _m2m("account.tax"),
        "tax_ids": _m2m("account.tax"),
        "price_subtotal": _computed("float"),
        "price_tax": _computed("float"),
        "price_total": _computed("float"),
    },
    "account.move": {
        "name": _char(),
        "move_type": FieldSpec(
            "selection",
            selection=("entry", "out_invoice", "out_refund", "in_invoice", "in_refund"),
            default="entry",
        ),
        "state": FieldSpec("selection", selection=("draft", "posted", "cancel"), default="draft"),
        "partner_id": _m2o("res.partner"),
        "invoice_origin": _char(),
        "invoice_date": FieldSpec("date"),
        "amount_total": _float(),
        "currency_id": _m2o("res.currency"),
        "payment_state": FieldSpec(
            "selection",
            selection=("not_paid", "in_payment", "paid", "partial", "reversed"),
            default="not_paid",
        ),
        "ref": _char(),
        "narration": FieldSpec("text"),
        "access_token": _char(),
        "reversed_entry_id": _m2o("account.move"),
        "journal_id": _m2o("account.journal"),
        "date": FieldSpec("date"),
        "line_ids": FieldSpec("one2many", "account.move.line", "move_id", default=[]),
    },
    "account.move.line": {
        "move_id": _m2o("account.move", required=True),
        "account_id": _m2o("account.account", required=True),
        "partner_id": _m2o("res.partner"),
        "name": FieldSpec("text"),
        "debit": _float(),
        "credit": _float(),
    },
    "account.account": {"code": _char(required=True), "name": _char(required=True)},
    "account.journal": {
        "code": _char(required=True),
        "name": _char(required=True),
        "type": FieldSpec(
            "selection",
            selection=("sale", "purchase", "cash", "bank", "general"),
            default="general",
        ),
    },
    "delivery.carrier": {"name": _char(required=True)},
    "stock.picking": {
        "name": _char(),
        "origin": _char(),
        "sale_id": _m2o("sale.order"),
        "state": FieldSpec(
            "selection",
            selection=("draft", "waiting", "confirmed", "assigned", "done", "cancel"),
            default="draft",
        ),
        "picking_type_code": FieldSpec(
            "selection", selection=("incoming", "outgoing", "internal"), default="outgoing"
        ),
        "carrier_id": _m2o("delivery.carrier"),
        "carrier_tracking_ref": _char(),
        "date_done": FieldSpec("datetime"),
    },
}

TAX_FIELD_RENAMED = (18, 1)
"""From this version on, ``sale.order.line.tax_id`` is called ``tax_ids``: a store of an older
version has only ``tax_id``, a newer one only ``tax_ids`` (see ``OdooStore.tax_field``)."""

LOG_FIELDS = ("create_date", "write_date")
"""Every model has these (Odoo's log access fields), plus ``id`` and ``display_name``."""


def fields_of(model: str) -> dict[str, FieldSpec]:
    """The declared fields of ``model`` including the automatic ones."""
    declared = dict(MODELS[model])
    declared["id"] = FieldSpec("integer", computed=True)
    declared["display_name"] = FieldSpec("char", computed=True)
    for name in LOG_FIELDS:
        declared[name] = FieldSpec("datetime", computed=True)
    return declared


FIELDS: dict[str, dict[str, FieldSpec]] = {model: fields_of(model) for model in MODELS}
