"""Fenced commits: a worker frozen past its lease cannot commit over the worker that took over.

Every claim of a job (:mod:`engine.loop.leases`) is numbered: its claim id, which only grows, is its
*fencing token*, and the job's lease row holds the token of the claim that owns it. The worker runs
a job inside :func:`fenced`; a commit made in that context (:meth:`engine.store.state.Store.commit`)
first locks the lease row in its own transaction and goes on only while the row still holds its
token. A worker paused (swapped out, stopped, cut off) until its lease expired and another claim
took the job finds a newer token there: its commit is refused with :class:`FencedOut` and nothing of
its cycle is written. The lock also keeps a takeover from slipping in during the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import msgspec

from canonical.errors import StoreError


class Fence(msgspec.Struct, frozen=True, kw_only=True):
    """The claim a job runs under: commits check that its lease still holds ``token``."""

    connection: str
    job: str
    token: int
    """The claim's id: a later claim of the same job always has a larger one."""


class FencedOut(StoreError):
    """A commit refused: the job's lease is no longer held by the claim it runs under."""

    def __init__(self, fence: Fence, holder: int | None) -> None:
        now = "no claim" if holder is None else f"claim {holder}"
        super().__init__(
            f"{fence.connection}/{fence.job}: commit refused, the lease now belongs to {now}, "
            f"not to this run's claim {fence.token} (it expired while the run was paused); "
            "nothing of this run was committed"
        )
        self.fence = fence
        self.holder = holder


current_fence: ContextVar[Fence | None] = ContextVar("concord_fence", default=None)
"""The claim the job running in this context holds; ``None`` outside the loop (one-off runs)."""


@contextmanager
def fenced(fence: Fence) -> Iterator[None]:
    """Make the commits made inside the block (and in tasks it starts) check ``fence``."""
    token = current_fence.set(fence)
    try:
        yield
    finally:
        current_fence.reset(token)
