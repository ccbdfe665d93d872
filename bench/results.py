"""What a benchmark run measured: one row per (catalogue size, scenario), and the report."""

from __future__ import annotations

import msgspec

from bench.decide_speed import DecideSpeed


class Row(msgspec.Struct, kw_only=True):
    """One scenario at one catalogue size. Times in seconds, memory in MB."""

    size: int
    scenario: int
    name: str
    latency: str = "none"
    """``none``: the simulators answer at once (Concord's CPU); ``real``: with each platform's
    latency profile (what a merchant waits for, :mod:`bench.latency`)."""
    status: str = "ok"
    """``ok``, or ``skipped`` with the reason in ``note``."""
    note: str = ""
    wall: float = 0.0
    records: int = 0
    records_per_second: float = 0.0
    requests: int = 0
    """Requests the simulators served (both sides), 429s included."""
    throttled: int = 0
    """429 answers the shop gave."""
    cpu: float = 0.0
    """CPU seconds of the Concord process."""
    peak_rss_mb: float = 0.0
    failed: int = 0
    conflicts: int = 0
    converged: bool | None = None
    """After the scenario, a dry run plans no write (held conflicts aside)."""
    counts: dict[str, int] = {}
    floor_wall: float | None = None
    floor_requests: int | None = None
    floor_rows: int | None = None
    concord_over_floor: float | None = None
    peer_wall: float | None = None
    peer_requests: int | None = None
    peer_updates: int | None = None
    """PUTs the peer sent (products whose price or stock differed)."""
    peer_failed: int | None = None
    peer_over_concord: float | None = None
    allowed_rate: float | None = None
    rate_share: float | None = None
    """Share of the shop's allowed request rate used over the scenario (throttled scenario)."""


class Target(msgspec.Struct, kw_only=True):
    name: str
    goal: str
    value: str
    met: bool | None
    """``None`` when the run did not measure it."""


class Machine(msgspec.Struct, kw_only=True):
    python: str
    platform: str
    cpus: int
    processor: str


class Report(msgspec.Struct, kw_only=True):
    started_at: str
    seconds: float
    machine: Machine
    options: dict[str, object]
    rows: list[Row]
    decide: DecideSpeed | None
    targets: list[Target]
