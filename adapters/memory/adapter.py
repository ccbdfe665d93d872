"""An in-memory platform behind the adapter boundary: for unit tests, the demo and trials.

It behaves like a well-mannered platform: a modification sequence serves as the incremental
cursor, creations are idempotent on the natural key, and refused items come back per item. Tests
plug faults in here, at the boundary, rather than patching Concord's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from adapters.base import (
    AdapterError,
    Archive,
    Capabilities,
    Create,
    Done,
    Failed,
    Fields,
    ItemResult,
    Operation,
    Seen,
    Snapshot,
    TransientError,
    Update,
)
from canonical.fields import from_fields, to_fields
from canonical.models import Record


class StoredRecord(msgspec.Struct, kw_only=True):
    ref: str
    fields: Fields
    modified_at: datetime
    sequence: int


class MemoryPlatform:
    """The data of one simulated platform, by kind and natural key."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.records: dict[str, dict[str, StoredRecord]] = {}
        self.sequence = 0
        self._next_ref = 0

    def _bump(self) -> tuple[int, datetime]:
        self.sequence += 1
        return self.sequence, self._clock()

    def put(self, record: Record) -> str:
        """Add or replace a record, as a user of the platform would; returns its ref."""
        return self.put_fields(record.KIND, record.natural_key(), to_fields(record))

    def put_fields(self, kind: str, key: str, fields: Fields) -> str:
        # Refuse what the platform would refuse, and store it in its one canonical spelling.
        fields = to_fields(from_fields(kind, fields))
        table = self.records.setdefault(kind, {})
        sequence, now = self._bump()
        existing = table.get(key)
        if existing is None:
            self._next_ref += 1
            ref = f"m{self._next_ref}"
        else:
            ref = existing.ref
        table[key] = StoredRecord(ref=ref, fields=fields, modified_at=now, sequence=sequence)
        return ref

    def edit(self, kind: str, key: str, **changes: Any) -> None:
        """Change some fields of a record, as a user editing it would."""
        stored = self.records[kind][key]
        self.put_fields(kind, key, {**stored.fields, **changes})

    def remove(self, kind: str, key: str) -> None:
        del self.records[kind][key]

    def fields(self, kind: str, key: str) -> Fields:
        return self.records[kind][key].fields

    def keys(self, kind: str) -> set[str]:
        return set(self.records.get(kind, {}))


class MemoryAdapter:
    """An :class:`adapters.base.Adapter` over a :class:`MemoryPlatform`.

    Faults for tests: ``refuse`` maps a key to the reason its writes are refused;
    ``transient_failures`` makes that many next ``apply`` calls raise :class:`TransientError`;
    ``crash`` is raised by the next ``apply`` (a process dying mid-push, as far as the cycle sees).
    """

    def __init__(
        self,
        platform: MemoryPlatform | None = None,
        *,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.platform = platform or MemoryPlatform()
        self._capabilities = capabilities or Capabilities(
            batch_size=100, requests_per_second=1000.0, max_concurrency=4
        )
        self.refuse: dict[str, str] = {}
        self.transient_failures = 0
        self.crash: BaseException | None = None
        self.apply_calls = 0
        self.rejected: list[tuple[str, str]] = []
        self._closed = False

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def _check_open(self) -> None:
        if self._closed:
            raise AdapterError("the adapter is closed")

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        self._check_open()
        after = int(since) if since is not None else 0
        table = self.platform.records.get(kind, {})
        seen = [self._seen(kind, stored) for stored in table.values() if stored.sequence > after]
        return Snapshot(records=seen, cursor=str(self.platform.sequence), complete=since is None)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        self._check_open()
        table = self.platform.records.get(kind, {})
        return [self._seen(kind, table[key]) for key in keys if key in table]

    def _seen(self, kind: str, stored: StoredRecord) -> Seen:
        return Seen(
            record=from_fields(kind, stored.fields), ref=stored.ref, modified_at=stored.modified_at
        )

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        self._check_open()
        self.apply_calls += 1
        if self.crash is not None:
            crash, self.crash = self.crash, None
            raise crash
        if len(operations) > self._capabilities.batch_size:
            raise AdapterError(
                f"batch of {len(operations)} exceeds {self._capabilities.batch_size}"
            )
        if self.transient_failures > 0:
            self.transient_failures -= 1
            raise TransientError("simulated outage", retry_after=0.0)
        return [self._apply_one(kind, operation) for operation in operations]

    def _apply_one(self, kind: str, operation: Operation) -> ItemResult:
        key = operation.key
        if key in self.refuse:
            return Failed(key=key, reason=self.refuse[key])
        table = self.platform.records.setdefault(kind, {})
        try:
            match operation:
                case Create(fields=fields):
                    existing = table.get(key)
                    merged = {**existing.fields, **fields} if existing else fields
                    ref = self.platform.put_fields(kind, key, merged)
                case Update(fields=fields):
                    if key not in table:
                        return Failed(key=key, reason="not_found: no such record")
                    ref = self.platform.put_fields(kind, key, {**table[key].fields, **fields})
                case Archive():
                    if key not in table:
                        return Failed(key=key, reason="not_found: no such record")
                    current = table[key].fields
                    ref = (
                        self.platform.put_fields(kind, key, {**current, "active": False})
                        if "active" in current
                        else table[key].ref
                    )
        except msgspec.ValidationError as exc:
            return Failed(key=key, reason=f"invalid: {exc}")
        return Done(key=key, ref=ref)

    async def aclose(self) -> None:
        self._closed = True


def create(settings: Mapping[str, Any], *, source: str) -> MemoryAdapter:
    """An empty in-memory platform, or one with ``products = N`` generated articles."""
    adapter = MemoryAdapter()
    count = int(settings.get("products", 0))
    if count:
        from adapters.memory.catalogue import generate_products

        for product in generate_products(count, seed=int(settings.get("seed", 0))):
            adapter.platform.put(product)
    return adapter


def load(platform: MemoryPlatform, records: Iterable[Record]) -> None:
    """Put many records at once."""
    for record in records:
        platform.put(record)
