"""Plan and push: the decision's writes as batches of operations, sent under the platform's limits.

Pushing keeps a result per item: one refused record never sinks its batch, and a batch that
fails as a whole for a transient reason is retried with backoff (honouring ``Retry-After``) a
bounded number of times before its items are reported as failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiolimiter import AsyncLimiter

from adapters.base import (
    Adapter,
    Archive,
    Create,
    Failed,
    ItemResult,
    Operation,
    PermanentError,
    Side,
    TransientError,
    Update,
)
from engine.cycle.actions import Action, ArchiveRecord, CreateRecord, SetField

log = logging.getLogger("concord.push")


def plan(
    actions: Sequence[Action], refs: Mapping[Side, Mapping[str, str]]
) -> dict[Side, list[Operation]]:
    """Group the writes of ``actions`` into one operation per record and side.

    ``refs`` gives each side's platform id by key, from the snapshots and the stored links.
    """
    updates: dict[tuple[Side, str], dict[str, Any]] = {}
    operations: dict[Side, list[Operation]] = {"erp": [], "shop": []}
    for action in actions:
        match action:
            case SetField(key=key, field=field, value=value, side=side):
                updates.setdefault((side, key), {})[field] = value
            case CreateRecord(key=key, side=side, fields=fields):
                operations[side].append(Create(key=key, fields=fields))
            case ArchiveRecord(key=key, side=side):
                ref = refs[side].get(key)
                if ref is not None:
                    operations[side].append(Archive(key=key, ref=ref))
            case _:
                pass
    for (side, key), fields in updates.items():
        ref = refs[side].get(key)
        if ref is None:
            # Present in the snapshot but without an id: only a broken adapter does that.
            raise ValueError(f"{side} record {key!r} has no platform id to update")
        operations[side].append(Update(key=key, ref=ref, fields=fields))
    return operations


def batches(operations: Sequence[Operation], size: int) -> list[Sequence[Operation]]:
    return [operations[i : i + size] for i in range(0, len(operations), size)]


class Pusher:
    """Sends one side's operations through its adapter."""

    def __init__(
        self,
        adapter: Adapter,
        kind: str,
        *,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        caps = adapter.capabilities
        self._adapter = adapter
        self._kind = kind
        self._limiter = AsyncLimiter(max(caps.requests_per_second, 0.001), 1.0)
        self._slots = asyncio.Semaphore(max(1, caps.max_concurrency))
        self._batch_size = max(1, caps.batch_size)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._on_progress = on_progress
        self.retries = 0

    async def push(self, operations: Sequence[Operation]) -> dict[str, ItemResult]:
        """Send every operation; return the result of each by key."""
        results = await asyncio.gather(
            *(self._send(batch) for batch in batches(operations, self._batch_size))
        )
        return {result.key: result for batch in results for result in batch}

    async def _send(self, batch: Sequence[Operation]) -> list[ItemResult]:
        attempt = 0
        async with self._slots:
            while True:
                attempt += 1
                await self._limiter.acquire()
                try:
                    results = await self._adapter.apply(self._kind, batch)
                except TransientError as exc:
                    if attempt >= self._max_attempts:
                        return self._all_failed(
                            batch, f"gave up after {attempt} attempts: {exc}", transient=True
                        )
                    self.retries += 1
                    delay = self._delay(attempt, exc.retry_after)
                    log.warning(
                        "batch of %d %s: %s; retrying in %.1fs", len(batch), self._kind, exc, delay
                    )
                    await asyncio.sleep(delay)
                    continue
                except PermanentError as exc:
                    return self._all_failed(batch, str(exc), transient=False)
                break
        if len(results) != len(batch):
            return self._all_failed(
                batch,
                f"adapter returned {len(results)} results for {len(batch)} items",
                transient=True,
            )
        if self._on_progress is not None:
            self._on_progress(len(batch))
        return results

    def _all_failed(
        self, batch: Sequence[Operation], reason: str, *, transient: bool
    ) -> list[ItemResult]:
        if self._on_progress is not None:
            self._on_progress(len(batch))
        return [Failed(key=op.key, reason=reason, transient=transient) for op in batch]

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._max_backoff)
        exponential = self._backoff * 2 ** (attempt - 1)
        return float(min(self._max_backoff, exponential * (0.5 + random.random() / 2)))
