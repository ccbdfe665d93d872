"""A fresh Tryton database made ready to sell, by RPC: company, chart, fiscal year, tax.

What a merchant's accountant does once by hand: a company in EUR, the English minimal chart of
accounts with its default receivable and payable, a fiscal year with monthly periods and invoice
numbering, a 20 % sales tax, an accounting product category carrying that tax, and a customer
price list. The stock module ships the "WH" warehouse.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from adapters.tryton.client import TrytonClient

ACCOUNT_CATEGORY = "Goods"
TAX_NAME = "VAT 20%"
COUNTRIES = {"FR": "France", "DE": "Germany", "GB": "United Kingdom", "US": "United States"}


async def _wizard(client: TrytonClient, name: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
    session, _, _ = await client.call(f"wizard.{name}.create", client.context)
    try:
        for state, data in steps:
            await client.call(f"wizard.{name}.execute", session, data, state, client.context)
    finally:
        await client.call(f"wizard.{name}.delete", session, client.context)


async def _one(client: TrytonClient, model: str, domain: list[Any]) -> int:
    found = await client.search(model, domain, limit=1)
    if not found:
        raise LookupError(f"Tryton has no {model} matching {domain}")
    return found[0]


async def set_up_company(client: TrytonClient) -> dict[str, int]:
    """Everything selling needs; returns the ids the tests refer to."""
    await client.sign_in()
    # Tryton ships no currencies or countries: its import scripts fetch them from the Internet.
    [eur] = await client.execute(
        "currency.currency",
        "create",
        [{"name": "Euro", "code": "EUR", "symbol": "€", "rounding": Decimal("0.01"), "digits": 2}],
    )
    await client.execute(
        "country.country",
        "create",
        [{"name": name, "code": code} for code, name in COUNTRIES.items()],
    )
    [party] = await client.execute("party.party", "create", [{"name": "Concord Test Shop"}])
    [company] = await client.execute(
        "company.company", "create", [{"party": party, "currency": eur}]
    )
    await client.execute(
        "res.user",
        "write",
        [await _one(client, "res.user", [["login", "=", client.login_name]])],
        {"companies": [["add", [company]]], "company": company},
    )
    await client.sign_in()  # the context now carries the company
    root = await client.execute("ir.model.data", "get_id", "account", "account_template_root_en")
    await _wizard(
        client,
        "account.create_chart",
        [("create_account", {"account": {"company": company, "account_template": root}})],
    )
    accounts = {}
    for kind in ("receivable", "payable", "revenue", "expense"):
        accounts[kind] = await _one(
            client,
            "account.account",
            [[f"type.{kind}", "=", True], ["company", "=", company], ["closed", "!=", True]],
        )
    tax_account = await _one(client, "account.account", [["code", "=", "6.3.6"]])
    await _wizard(
        client,
        "account.create_chart",
        [
            (
                "create_properties",
                {
                    "properties": {
                        "company": company,
                        "account_receivable": accounts["receivable"],
                        "account_payable": accounts["payable"],
                    }
                },
            )
        ],
    )
    today = date.today()
    move_type = await _one(client, "ir.sequence.type", [["name", "=", "Account Move"]])
    invoice_type = await _one(client, "ir.sequence.type", [["name", "=", "Invoice"]])
    [move_seq, invoice_seq] = await client.execute(
        "ir.sequence.strict",
        "create",
        [
            {"name": "Moves", "sequence_type": move_type, "company": company},
            {"name": "Invoices", "sequence_type": invoice_type, "company": company},
        ],
    )
    [year] = await client.execute(
        "account.fiscalyear",
        "create",
        [
            {
                "name": str(today.year),
                "start_date": date(today.year, 1, 1),
                "end_date": date(today.year, 12, 31),
                "company": company,
                "move_sequence": move_seq,
                "invoice_sequences": [
                    [
                        "create",
                        [
                            {
                                "company": company,
                                "out_invoice_sequence": invoice_seq,
                                "in_invoice_sequence": invoice_seq,
                                "out_credit_note_sequence": invoice_seq,
                                "in_credit_note_sequence": invoice_seq,
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    await client.execute("account.fiscalyear", "create_period", [year])
    [tax] = await client.execute(
        "account.tax",
        "create",
        [
            {
                "name": TAX_NAME,
                "description": TAX_NAME,
                "type": "percentage",
                "rate": Decimal("0.20"),
                "invoice_account": tax_account,
                "credit_note_account": tax_account,
                "company": company,
            }
        ],
    )
    [category] = await client.execute(
        "product.category",
        "create",
        [
            {
                "name": ACCOUNT_CATEGORY,
                "accounting": True,
                "account_revenue": accounts["revenue"],
                "account_expense": accounts["expense"],
                "customer_taxes": [["add", [tax]]],
            }
        ],
    )
    warehouse = await _one(client, "stock.location", [["code", "=", "WH"]])
    return {
        "company": company,
        "currency": eur,
        "tax": tax,
        "account_category": category,
        "warehouse": warehouse,
        "fiscal_year": year,
    }
