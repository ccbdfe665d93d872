"""What the simulator's ORM rules (field checks, trees, sale amounts) use of its store.

The store runs those rules on every write and the rules read and change the store's rows:
naming the store's class in them would close a circle. They name this instead;
:class:`~.store.OdooStore` provides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from adapters.odoo.simulator.schema import FieldSpec

Row = dict[str, Any]
"""One record of a model: field name to stored value."""


class Records(Protocol):
    tables: dict[str, dict[int, Row]]
    tax_field: str
    unique_default_code: bool
    constraints: list[Callable[[str, Row], str | None]]
    by_code: dict[str, int]
    by_barcode: dict[str, int]
    quant_at: dict[tuple[int, int], int]

    def now(self) -> str: ...
    def insert(self, model: str, row: Row) -> None: ...
    def delete(self, model: str, rid: int) -> None: ...
    def set(self, model: str, rid: int, field: str, value: Any) -> None: ...
    def new_id(self, model: str) -> int: ...
    def spec(self, model: str, field: str) -> FieldSpec: ...
    def row(self, model: str, rid: int) -> Row: ...
    def raw(self, model: str, row: Row, field: str) -> Any: ...
    def display_name(self, model: str, rid: int) -> str: ...
    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]: ...
