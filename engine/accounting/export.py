"""The books' files of a period: the FEC or a CSV journal, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Literal

from canonical.errors import ConcordError
from engine.accounting.store import Ledger
from engine.orders.faults import checkpoint
from engine.store.state import Store
from rules.accounting.chart import AccountingConfig
from rules.accounting.csv_journal import csv_text
from rules.accounting.fec import fec_bytes, file_name
from rules.accounting.ledger import Booked

Format = Literal["fec", "csv"]


def default_name(config: AccountingConfig, fmt: Format, start: date, end: date) -> str:
    """``<SIREN>FEC<closing day>.txt`` for the FEC; a dated name for the CSV journal."""
    if fmt == "fec":
        return file_name(config.siren, end)
    return f"{config.siren}-journal-{start:%Y%m%d}-{end:%Y%m%d}.csv"


def render(booked: list[Booked], fmt: Format, *, separator: str = "tab") -> bytes:
    """The file's bytes."""
    if fmt == "fec":
        return fec_bytes(booked, separator=separator)
    return csv_text(booked).encode("utf-8")


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file renamed over it, so a crash
    leaves the previous file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        checkpoint("accounting_file_synced")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def export_file(
    store: Store,
    *,
    connection: str,
    config: AccountingConfig,
    start: date,
    end: date,
    fmt: Format,
    output: Path | None,
    separator: str = "tab",
) -> tuple[Path, list[Booked]]:
    """Write the entries booked for ``start``..``end`` to ``output`` (a file, or a folder for
    the default name; the current folder when ``None``); returns the path and the entries."""
    if fmt == "fec" and start.year != end.year:
        raise ConcordError(
            f"a FEC covers one fiscal year: {start} and {end} are in two "
            "(the numbers restart each year)"
        )
    booked = await Ledger(store).between(connection, start, end)
    target = output or Path(".")
    if target.is_dir():
        target = target / default_name(config, fmt, start, end)
    write_atomically(target, render(booked, fmt, separator=separator))
    return target, booked
