"""Writing a batch to Tryton with a result per item.

A Tryton call is one transaction: one refused record undoes the whole call. So a batch is sent
in one call (``create`` of every new record; ``write`` with one ``(ids, values)`` pair per
record), and when Tryton refuses it for a data reason the items are sent one by one, so that
only the bad ones fail, each with Tryton's own message. A writer that words its own reasons
has Tryton's unexpected errors (``ServerError``: a value Tryton did not check, such as a NUL
character, failing deep in the server) treated the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from adapters.base import Archive, Done, Failed, ItemResult, Operation, Update
from adapters.tryton.client import TrytonClient, TrytonFault

Results = list[ItemResult | None]
NewItem = tuple[int, str, dict[str, Any]]
"""(position in the batch, natural key, values to create)"""
WriteItem = tuple[int, str, list[int], dict[str, Any]]
"""(position, natural key, record ids, values to write)"""
T = TypeVar("T", NewItem, WriteItem)
R = TypeVar("R")
Unexpected = Callable[[int, TrytonFault], str]
"""The reason of the item at a position that Tryton met with an unexpected error."""


def naming_sent(operations: Sequence[Operation], what: str) -> Unexpected:
    """Words the failure of an operation's write that Tryton failed on without saying which
    value it chokes on: the fields it sent, the record (``what``, its key) and Tryton's fault."""

    def reason(position: int, fault: TrytonFault) -> str:
        op = operations[position]
        if isinstance(op, Archive):
            sent = ["active"]
        elif isinstance(op, Update):
            sent = list(op.fields)
        else:
            # A creation carries every canonical field; the suspects are those holding a value.
            sent = [k for k, v in op.fields.items() if v not in (None, "", [], {}, False)]
        return f"{', '.join(sorted(sent))}: Tryton failed writing the {what} {op.key}: {fault}"

    return reason


class Batch:
    """Creates and writes on one model, filling a result slot per operation."""

    def __init__(
        self, client: TrytonClient, results: Results, *, unexpected: Unexpected | None = None
    ) -> None:
        """Without ``unexpected``, Tryton's unexpected errors fail the whole call."""
        self.client = client
        self.results = results
        self._unexpected = unexpected

    def fail(self, position: int, key: str, reason: str) -> None:
        self.results[position] = Failed(key=key, reason=reason)

    def done(self, position: int, key: str, ref: str) -> None:
        self.results[position] = Done(key=key, ref=ref)

    async def create(self, model: str, items: Sequence[NewItem]) -> dict[int, int]:
        """Create ``items``; returns the new id by position (refused items are marked)."""

        async def send(part: Sequence[NewItem]) -> list[int]:
            ids = await self.client.execute(model, "create", [vals for _, _, vals in part])
            return [int(i) for i in ids]

        created: dict[int, int] = {}
        for part, ids in await self.each(items, send):
            created.update({pos: rid for (pos, _, _), rid in zip(part, ids, strict=True)})
        return created

    async def write(self, model: str, items: Sequence[WriteItem]) -> set[int]:
        """Write ``items``; returns the positions written."""

        async def send(part: Sequence[WriteItem]) -> None:
            args: list[Any] = []
            for _, _, ids, vals in part:
                args += [ids, vals]
            await self.client.execute(model, "write", *args)

        written: set[int] = set()
        for part, _ in await self.each([i for i in items if i[3]], send):
            written.update(pos for pos, *_ in part)
        return written | {pos for pos, _, _, vals in items if not vals}

    async def each(
        self, items: Sequence[T], send: Callable[[Sequence[T]], Awaitable[R]]
    ) -> list[tuple[Sequence[T], R]]:
        """``send`` all items at once, then one by one if Tryton refuses the values."""
        if not items:
            return []
        try:
            return [(items, await send(items))]
        except TrytonFault as fault:
            if not self._alone(fault):
                raise
            if len(items) == 1:
                self._refused(items[0], fault)
                return []
        sent: list[tuple[Sequence[T], R]] = []
        for item in items:
            try:
                sent.append(([item], await send([item])))
            except TrytonFault as fault:
                if not self._alone(fault):
                    raise
                self._refused(item, fault)
        return sent

    def _alone(self, fault: TrytonFault) -> bool:
        """Whether ``fault`` may come from one item's values, so the others are sent alone."""
        return fault.about_data or (fault.kind == "ServerError" and self._unexpected is not None)

    def _refused(self, item: NewItem | WriteItem, fault: TrytonFault) -> None:
        if fault.about_data or self._unexpected is None:
            self.fail(item[0], item[1], str(fault))
        else:
            self.fail(item[0], item[1], self._unexpected(item[0], fault))
