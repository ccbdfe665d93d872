"""Log lines: readable by default, JSON lines on request, and never a secret in either.

Every secret read through :mod:`canonical.secrets` is masked in the rendered line, whatever logged
it (our code, aiohttp, asyncpg), because the filter sits on the handler.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

import msgspec

from canonical.secrets import known_secrets

MASK = "***"


def mask_secrets(text: str) -> str:
    for secret in known_secrets():
        if secret:
            text = text.replace(secret, MASK)
    return text


class _Readable(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return mask_secrets(msgspec.json.encode(line).decode())


def setup_logging(
    *, json: bool = False, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Send Concord's log lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Json() if json else _Readable())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
