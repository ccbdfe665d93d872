"""Field values as a reviewer reads and types them.

Stored values are JSON builtins (see :mod:`canonical.fields`): texts, normalised decimal strings,
booleans, lists. A typed value is read the way the field expects it, so that typing ``10.50`` for
a price stores the price's one spelling (``"10.5"``) and typing ``10`` for a name stores the text
``"10"``; a value the field cannot hold is refused here, naming the field, rather than failing
later as a dead letter on a platform.
"""

from __future__ import annotations

import contextlib
import typing
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec

from canonical.fields import normalise_decimal
from canonical.models import RECORD_TYPES

_TITLE_LIMIT = 2000


class BadValue(ValueError):
    """A typed value the field cannot hold."""


def shown(value: Any) -> str:
    """A value as one line of text: texts as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def preview(value: Any, limit: int = _TITLE_LIMIT) -> str:
    """:func:`shown`, cut to ``limit`` characters (for tooltips)."""
    text = shown(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@cache
def _field_type(kind: str, field: str) -> Any:
    record = RECORD_TYPES.get(kind)
    if record is None:
        return None
    return typing.get_type_hints(record).get(field)


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return normalise_decimal(value)
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def parse_typed(kind: str, field: str, text: str) -> Any:
    """The value a person typed for ``kind``.``field``, as the field stores it.

    JSON is read as JSON (``"Blue"``, ``true``, ``["A", "B"]``, ``""`` for an empty text);
    anything else is taken as text. Raises :class:`BadValue` naming the field and the reason.
    """
    if not text.strip():
        raise BadValue(f'{field}: no value typed (type "" for an empty text)')
    candidates: list[Any] = []
    with contextlib.suppress(msgspec.DecodeError):
        candidates.append(msgspec.json.decode(text))
    candidates.append(text)
    expected = _field_type(kind, field)
    if expected is None:
        return candidates[0]
    error = ""
    for candidate in candidates:
        try:
            converted = msgspec.convert(candidate, type=expected, strict=False)
        except msgspec.ValidationError as exc:
            error = error or str(exc)
            continue
        return _normalise(msgspec.to_builtins(converted, builtin_types=(Decimal,)))
    raise BadValue(f"{field}: {text!r} does not fit the field ({error})")
