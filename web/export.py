"""Conflicts as files: CSV for a spreadsheet, JSON for programs, HTML for people.

Shared by ``concord conflicts export`` and the review page's export links. Nothing here speaks
HTTP. Values come from the platforms, so the CSV defuses cells a spreadsheet would run as a
formula, and the HTML is the review page's own escaped rendering, without any script.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from engine.store.state import ConflictRow
from web.conflict_view import export_document
from web.values import shown

Format = Literal["csv", "json", "html"]
FORMATS: tuple[Format, ...] = ("csv", "json", "html")
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "html": "text/html",
}
COLUMNS = (
    "id",
    "connection",
    "kind",
    "key",
    "field",
    "base",
    "erp",
    "shop",
    "reason",
    "suggested",
    "status",
    "resolution",
    "resolution_source",
    "resolved_by",
    "resolved_at",
    "created_at",
)
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else shown(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: Sequence[ConflictRow]) -> str:
    """One line per conflict; values as text (JSON for lists and numbers), formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in COLUMNS])
    return out.getvalue()


def to_json(rows: Sequence[ConflictRow]) -> str:
    """The conflicts as a JSON array, every stored column included."""
    return msgspec.json.encode(list(rows)).decode()


def to_html(
    rows: Sequence[ConflictRow], *, title: str = "Concord conflicts", now: datetime | None = None
) -> str:
    """A self-contained HTML page, grouped and escaped like the review page."""
    return export_document(rows, title=title, generated_at=now or datetime.now(UTC))


def export(rows: Sequence[ConflictRow], format: Format) -> str:
    """``rows`` in ``format``; an unknown format is refused by name."""
    match format:
        case "csv":
            return to_csv(rows)
        case "json":
            return to_json(rows)
        case "html":
            return to_html(rows)
    raise ValueError(f"unknown export format {format!r} (formats: {', '.join(FORMATS)})")
