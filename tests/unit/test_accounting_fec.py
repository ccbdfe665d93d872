"""The FEC file and its checker, the CSV journal (rules/accounting/fec*.py, csv_journal.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date

import pytest
from accounting_samples import SIREN, chart, order, refund

from rules.accounting.csv_journal import CSV_COLUMNS, csv_text
from rules.accounting.entries import plan
from rules.accounting.fec import COLUMNS, fec_bytes, fec_text, file_name
from rules.accounting.fec_check import check_fec
from rules.accounting.ledger import Booked

CLOSING = date(2026, 11, 30)


def booked(first: int = 1) -> list[Booked]:
    docs = [
        order("101", refunds=(refund("900", "45.22"),)),
        order("102", gateway="bacs", customer_name="Émile Zoé"),
        order("103", total=order().total + order().total.__class__("0.01")),
    ]
    result = plan(docs, chart(), UTC, start=date(2026, 11, 1), end=CLOSING, booked=set())
    assert result.held == []
    return [
        Booked(number=first + i, validated=CLOSING, entry=entry)
        for i, entry in enumerate(result.entries)
    ]


def rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


def test_the_file_has_the_18_columns_comma_amounts_and_passes_the_checker() -> None:
    text = fec_text(booked())
    lines = rows(text)
    assert lines[0] == list(COLUMNS) and len(COLUMNS) == 18
    assert all(len(line) == 18 for line in lines)
    sale = next(line for line in lines[1:] if line[4] == "445719")
    assert sale[0] == "VE" and sale[3] == "20261103" and sale[12] == "19,95"
    name = file_name(SIREN, CLOSING)
    assert name == "732829320FEC20261130.txt"
    assert check_fec(text, name=name) == []
    assert check_fec(fec_text(booked(), separator="pipe"), name=name) == []


def test_payments_and_refunds_are_lettered_with_their_date() -> None:
    lines = rows(fec_text(booked()))
    lettered = [line for line in lines[1:] if line[13]]
    codes = {line[13] for line in lettered}
    assert codes == {"S101", "S102", "S103", "R900"}
    assert {line[14] for line in lettered if line[13] == "R900"} == {"20261110"}


def test_latin9_with_accents() -> None:
    data = fec_bytes(booked())
    assert "Émile Zoé".encode("iso8859_15") in data


def _lettered(table: list[list[str]]) -> list[str]:
    return next(line for line in table[1:] if line[13])


CHANGES = {
    "unbalanced": (lambda t: t[1].__setitem__(11, "999,00"), "Debit/Credit", "not balanced"),
    "bad date": (lambda t: t[1].__setitem__(3, "20261131"), "EcritureDate", "not a date"),
    "point": (lambda t: t[1].__setitem__(12, "19.95"), "Credit", "not an amount"),
    "account": (lambda t: t[1].__setitem__(4, "AB1000"), "CompteNum", "first three"),
    "no date let": (lambda t: _lettered(t).__setitem__(14, ""), "DateLet", "lettering date"),
    "letter": (lambda t: _lettered(t).__setitem__(13, "ZZ"), "EcritureLet", "does not balance"),
    "gap": (
        lambda t: [line.__setitem__(2, "9") for line in t[1:] if line[2] == "2"],
        "EcritureNum",
        "gap",
    ),
    "header": (lambda t: t[0].pop(), "(header)", "18 fields"),
    "short line": (lambda t: t[3].pop(), "(line)", "17 fields"),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_the_checker_names_the_line_field_and_reason(case: str) -> None:
    change, field, reason = CHANGES[case]
    table = rows(fec_text(booked()))
    change(table)
    problems = check_fec("\r\n".join("\t".join(line) for line in table))
    assert any(p.field == field and reason in p.reason for p in problems), problems


def test_split_entries_dates_going_back_and_names() -> None:
    table = rows(fec_text(booked()))
    table.append(list(table[1]))
    problems = check_fec("\n".join("\t".join(line) for line in table))
    assert any("split" in p.reason for p in problems)
    assert any(p.field == "(file name)" for p in check_fec(fec_text(booked()), name="FEC.txt"))
    late = check_fec(fec_text(booked()), name=f"{SIREN}FEC20261105.txt")
    assert any("after the closing day" in p.reason for p in late)


def test_a_numbering_that_starts_later_is_still_continuous() -> None:
    assert check_fec(fec_text(booked(first=500))) == []


def test_the_csv_journal_has_one_row_per_line_and_balances() -> None:
    entries = booked()
    table = list(csv.DictReader(io.StringIO(csv_text(entries))))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == sum(len(b.entry.lines) for b in entries)
    debit = sum(float(row["debit"]) for row in table)
    credit = sum(float(row["credit"]) for row in table)
    assert round(debit - credit, 2) == 0
