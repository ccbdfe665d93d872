"""The report: a table on the terminal, JSON for comparing runs, a PNG chart, the targets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from bench.decide_speed import DecideSpeed
from bench.results import Report, Row, Target

_MB_LIMIT = 250.0


def _find(rows: Sequence[Row], size: int, scenario: int) -> Row | None:
    return next(
        (r for r in rows if r.size == size and r.scenario == scenario and r.status == "ok"), None
    )


def targets(rows: Sequence[Row], decide: DecideSpeed | None) -> list[Target]:
    """Each target of the benchmark with the value measured, met or not (None: not measured)."""
    out: list[Target] = []
    resync = _find(rows, 30_000, 3)
    ratio = resync.concord_over_floor if resync else None
    out.append(
        Target(
            name="resync at 30k vs the I/O floor",
            goal="<= 1.5x",
            value="-" if ratio is None else f"{ratio:.2f}x",
            met=None if ratio is None else ratio <= 1.5,
        )
    )
    quiet = _find(rows, 30_000, 2)
    out.append(
        Target(
            name="no-change incremental cycle at 30k",
            goal="<= 0.3 s",
            value="-" if quiet is None else f"{quiet.wall:.2f} s",
            met=None if quiet is None else quiet.wall <= 0.3,
        )
    )
    ms = decide.seconds * 1000 if decide else None
    out.append(
        Target(
            name="decide, 30k products x 20 fields, 5% changed",
            goal="<= 60 ms",
            value="-" if ms is None else f"{ms:.1f} ms",
            met=None if ms is None else ms <= 60,
        )
    )
    throttled = [r for r in rows if r.scenario == 6 and r.status == "ok"]
    if throttled:
        worst = min(throttled, key=lambda r: r.rate_share or 0.0)
        share = worst.rate_share or 0.0
        failed = sum(r.failed for r in throttled)
        out.append(
            Target(
                name="throttled resync: share of the allowed rate, no record failed",
                goal=">= 95%, 0 failed",
                value=f"{share:.1%}, {failed} failed (at {worst.size})",
                met=share >= 0.95 and failed == 0,
            )
        )
    else:
        out.append(Target(name="throttled resync", goal=">= 95%", value="-", met=None))
    at_30k = [r.peak_rss_mb for r in rows if r.size == 30_000 and r.status == "ok"]
    out.append(
        Target(
            name="peak RSS at 30k",
            goal=f"<= {_MB_LIMIT:.0f} MB",
            value="-" if not at_30k else f"{max(at_30k):.0f} MB",
            met=None if not at_30k else max(at_30k) <= _MB_LIMIT,
        )
    )
    big, mid = _find(rows, 300_000, 3), resync
    scale = big.wall / mid.wall if big and mid and mid.wall else None
    out.append(
        Target(
            name="resync 300k vs 30k",
            goal="<= 12x",
            value="-" if scale is None else f"{scale:.1f}x",
            met=None if scale is None else scale <= 12,
        )
    )
    return out


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def table(report: Report) -> str:
    """The results as a plain-text table, then decide's figure and the targets."""
    head = (
        f"{'size':>7} {'#':>1} {'scenario':<34} {'wall s':>8} {'rec/s':>8} {'reqs':>6} "
        f"{'429':>4} {'cpu s':>7} {'RSS MB':>6} {'floor s':>8} {'C/floor':>7} "
        f"{'peer s':>7} {'peer/C':>6} {'rate':>5} {'ok':>3}"
    )
    lines = [head, "-" * len(head)]
    for r in report.rows:
        if r.status != "ok":
            lines.append(f"{r.size:>7} {r.scenario:>1} {r.name[:34]:<34} {r.note}")
            continue
        converged = {True: "yes", False: "NO", None: "-"}[r.converged]
        lines.append(
            f"{r.size:>7} {r.scenario:>1} {r.name[:34]:<34} {r.wall:>8.2f} "
            f"{r.records_per_second:>8,.0f} {r.requests:>6} {r.throttled:>4} {r.cpu:>7.2f} "
            f"{r.peak_rss_mb:>6.0f} {_num(r.floor_wall, '>8.2f'):>8} "
            f"{_num(r.concord_over_floor, '>7.2f'):>7} {_num(r.peer_wall, '>7.2f'):>7} "
            f"{_num(r.peer_over_concord, '>6.1f'):>6} {_num(r.rate_share, '>5.0%'):>5} "
            f"{converged:>3}"
        )
        if r.failed or r.conflicts:
            lines.append(f"{'':>10}{r.failed} failed, {r.conflicts} conflicts held; {r.note}")
        elif r.note:
            lines.append(f"{'':>10}{r.note}")
    if report.decide:
        d = report.decide
        lines.append("")
        lines.append(
            f"decide(): {d.products:,} products x {d.fields} fields, {d.changed_share:.0%} "
            f"changed: {d.seconds * 1000:.1f} ms, {d.comparisons_per_second / 1e6:.1f} M "
            "field comparisons/s (effective)"
        )
    lines.append("")
    lines.append("targets:")
    for t in report.targets:
        mark = {True: "met", False: "MISSED", None: "not measured"}[t.met]
        lines.append(f"  {t.name:<62} {t.goal:>18}  {t.value:>24}  {mark}")
    return "\n".join(lines)


def write_json(report: Report, out: Path) -> Path:
    path = out / "bench.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    return path


def write_chart(report: Report, out: Path) -> Path | None:
    """Time against catalogue size for the resync: Concord, the floor, the peer (log-log)."""
    try:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = sorted((r for r in report.rows if r.scenario == 3 and r.status == "ok"), key=_size)
    if not rows:
        rows = sorted((r for r in report.rows if r.scenario == 1 and r.status == "ok"), key=_size)
    if not rows:
        return None
    sizes = [r.size for r in rows]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(sizes, [r.wall for r in rows], "o-", label="Concord")
    floors = [(r.size, r.floor_wall) for r in rows if r.floor_wall is not None]
    if floors:
        axes.plot(*zip(*floors, strict=True), "s--", label="raw I/O floor")
    peers = [(r.size, r.peer_wall) for r in rows if r.peer_wall is not None]
    if peers:
        axes.plot(*zip(*peers, strict=True), "^:", label="peer script (price PUTs only)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("catalogue size (articles)")
    axes.set_ylabel("seconds")
    axes.set_title(f"Scenario {rows[0].scenario}: {rows[0].name}")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    path = out / "bench.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _size(row: Row) -> int:
    return row.size
