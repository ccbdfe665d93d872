"""A record as a flat mapping of field values, the form the decision and the base work on.

Values are JSON builtins so that what is read from a platform, what is stored as base in
Postgres (JSONB) and what is compared are the same thing. Decimals become normalised strings
("10.50" and "10.5" are one price), dates ISO strings, nested structs dicts and lists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from canonical.models import RECORD_TYPES, Record

Fields = dict[str, Any]


def normalise_decimal(value: Decimal) -> str:
    """The one spelling of a decimal number: no exponent, no trailing zeros ("10", "10.5")."""
    try:
        text = _SPELLED.get(value)
    except TypeError:  # a signalling NaN cannot even be hashed; refused below
        text = None
    if text is not None:
        return text
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    if len(_SPELLED) >= _SPELLED_MAX:
        _SPELLED.clear()
    _SPELLED[value] = text  # equal decimals ("10.50", "10.5") share one entry and one spelling
    return text


# A catalogue repeats the same few thousand prices, weights and quantities: spelling each once
# saves a format and two strips per value on a full read.
_SPELLED: dict[Decimal, str] = {}
_SPELLED_MAX = 50_000


_PLAIN = (str, bool, int, type(None))


def _normalise(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: return at once, before any isinstance walk
        return value
    if isinstance(value, Decimal):
        return normalise_decimal(value)
    # Plain values inside are tested inline: a call per value is most of the cost of the walk.
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN else _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else _normalise(v) for v in value]
    return value


def _normalise_sequence(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    # A sequence of plain values (a category path, ...) needs no walk, only to be a list.
    for v in values:
        if type(v) not in _PLAIN:
            return [_normalise(v) for v in values]
    return list(values)


def to_fields(record: Record) -> Fields:
    """The field values of a canonical record, as comparable JSON builtins."""
    raw = msgspec.to_builtins(record, builtin_types=(Decimal,))
    assert isinstance(raw, dict)
    # ``raw`` is a fresh dict of exact builtins (tuples stay tuples): rewrite in place only the
    # values that need it, rather than calling _normalise on every field (the hot path of a full
    # resync).
    for name, value in raw.items():
        kind = type(value)
        if kind is Decimal:
            raw[name] = normalise_decimal(value)
        elif kind is list or kind is tuple:
            raw[name] = _normalise_sequence(value) if value else []
        elif kind is dict:
            raw[name] = _normalise(value)
    return raw


def from_fields(kind: str, fields: Fields) -> Record:
    """Rebuild a canonical record of ``kind`` from field values (the inverse of :func:`to_fields`).

    Raises ``msgspec.ValidationError`` naming the field when a value does not fit the kind.
    """
    return msgspec.convert(fields, type=RECORD_TYPES[kind], strict=False)


def field_names(kind: str) -> tuple[str, ...]:
    """The fields of a canonical kind, in declaration order."""
    return RECORD_TYPES[kind].__struct_fields__
