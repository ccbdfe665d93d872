"""The report: a table on the terminal, JSON for comparing runs, a PNG chart, the targets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from bench.decide_speed import DecideSpeed
from bench.results import Report, Row, Target

_MB_LIMITS = {30_000: 200.0, 300_000: 1000.0}
_PEER_GOAL = 50.0


def _find(rows: Sequence[Row], size: int, scenario: int, latency: str = "none") -> Row | None:
    return next(
        (
            r
            for r in rows
            if r.size == size
            and r.scenario == scenario
            and r.latency == latency
            and r.status == "ok"
        ),
        None,
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
    for size, limit in _MB_LIMITS.items():
        peaks = [r.peak_rss_mb for r in rows if r.size == size and r.status == "ok"]
        out.append(
            Target(
                name=f"peak RSS at {size // 1000}k",
                goal=f"<= {limit:.0f} MB",
                value="-" if not peaks else f"{max(peaks):.0f} MB",
                met=None if not peaks else max(peaks) <= limit,
            )
        )
    # The peer is a script a merchant runs again and again; Concord's counterpart is the
    # loop's incremental cycle (9). Its ratio to the full two-way resync (3) is given beside.
    for scenario, what, goal in ((9, "loop cycle", _PEER_GOAL), (3, "full resync", None)):
        real = _find(rows, 30_000, scenario, "real")
        times = real.peer_over_concord if real else None
        out.append(
            Target(
                name=f"peer script / Concord's {what} ({scenario}) at 30k, latency profiles",
                goal="(reported)" if goal is None else f">= {goal:.0f}x",
                value="-" if times is None else f"{times:.1f}x",
                met=None if times is None or goal is None else times >= goal,
            )
        )
    for scenario, what in ((7, "export"), (8, "resync")):
        shopify = _find(rows, 30_000, scenario)
        points = shopify.rate_share if shopify else None
        out.append(
            Target(
                name=f"Odoo -> Shopify {what} at 30k, 100 points/s: points used, failures",
                goal=">= 95%, 0 failed",
                value="-"
                if shopify is None or points is None
                else f"{points:.1%}, {shopify.failed} failed, {shopify.throttled} THROTTLED",
                met=None
                if shopify is None or points is None
                else points >= 0.95 and not shopify.failed,
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
        f"{'size':>7} {'#':>1} {'lat':<4} {'scenario':<34} {'wall s':>8} {'rec/s':>8} {'reqs':>6} "
        f"{'429':>4} {'cpu s':>7} {'RSS MB':>6} {'floor s':>8} {'C/floor':>7} "
        f"{'peer s':>7} {'peer/C':>6} {'rate':>5} {'ok':>3}"
    )
    lines = [head, "-" * len(head)]
    for r in report.rows:
        if r.status != "ok":
            lines.append(f"{r.size:>7} {r.scenario:>1} {r.latency:<4} {r.name[:34]:<34} {r.note}")
            continue
        converged = {True: "yes", False: "NO", None: "-"}[r.converged]
        lines.append(
            f"{r.size:>7} {r.scenario:>1} {r.latency:<4} {r.name[:34]:<34} {r.wall:>8.2f} "
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
        if r.peer_requests is not None:
            lines.append(
                f"{'':>10}peer script: {r.peer_requests} requests, {r.peer_updates} PUTs, "
                f"{r.peer_failed} failed"
            )
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
        if t.met is None and t.goal == "(reported)" and t.value != "-":
            mark = ""
        lines.append(f"  {t.name:<62} {t.goal:>18}  {t.value:>24}  {mark}")
    return "\n".join(lines)


def write_json(report: Report, out: Path) -> Path:
    path = out / "bench.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    return path


_SERIES = (
    ("Concord", "wall", "o", "tab:blue"),
    ("raw I/O floor", "floor_wall", "s", "tab:gray"),
    ("peer script", "peer_wall", "^", "tab:red"),
)
_LATENCY_STYLE = {"none": ("-", "no latency (CPU)"), "real": ("--", "latency profiles")}


def _size_label(value: float, _position: object = None) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


def _seconds_label(value: float, _position: object = None) -> str:
    if value >= 1:
        return f"{value:,.0f} s"
    return f"{value:g} s" if value >= 0.01 else f"{value * 1000:g} ms"


def write_chart(report: Report, out: Path) -> Path | None:
    """One panel per scenario: seconds against catalogue size (log-log) for Concord, the floor
    and the peer, with no latency (solid) and under the latency profiles (dashed)."""
    try:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    except ImportError:
        return None
    measured = [r for r in report.rows if r.status == "ok" and r.wall > 0]
    scenarios = sorted({r.scenario for r in measured})
    if not scenarios:
        return None
    columns = 2 if len(scenarios) in (2, 4) else min(3, len(scenarios))
    lines = -(-len(scenarios) // columns)
    figure, grid = plt.subplots(lines, columns, figsize=(4.6 * columns, 3.6 * lines), squeeze=False)
    for axes in grid.flat[len(scenarios) :]:
        axes.set_visible(False)
    for axes, scenario in zip(grid.flat, scenarios, strict=False):
        rows = [r for r in measured if r.scenario == scenario]
        plotted: list[float] = []
        for latency, (style, _label) in _LATENCY_STYLE.items():
            chosen = sorted((r for r in rows if r.latency == latency), key=_size)
            for name, attribute, marker, colour in _SERIES:
                points = [
                    (r.size, value)
                    for r in chosen
                    if (value := getattr(r, attribute)) is not None and value > 0
                ]
                if points:
                    plotted.extend(value for _size_of, value in points)
                    axes.plot(
                        *zip(*points, strict=True),
                        linestyle=style,
                        marker=marker,
                        color=colour,
                        label=f"{name}, {_LATENCY_STYLE[latency][1]}",
                    )
        axes.set_xscale("log")
        axes.set_yscale("log")
        sizes = sorted({r.size for r in rows})
        axes.set_xticks(sizes)
        axes.xaxis.set_major_formatter(FuncFormatter(_size_label))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
        axes.yaxis.set_major_formatter(FuncFormatter(_seconds_label))
        axes.yaxis.set_minor_formatter(NullFormatter())
        if len(sizes) == 1:
            axes.set_xlim(sizes[0] / 2, sizes[0] * 2)
        if max(plotted) < 3 * min(plotted):
            # Within less than half a decade the log axis has no major tick to label but the
            # minor ones, all printed alike ("84 s" six times): widen it to hold two.
            axes.set_ylim(min(plotted) / 2, max(plotted) * 2)
        axes.set_title(f"{scenario}. {rows[0].name}", fontsize=9)
        axes.set_xlabel("catalogue size (articles)", fontsize=8)
        axes.set_ylabel("wall time", fontsize=8)
        axes.tick_params(labelsize=8)
        axes.grid(True, which="major", alpha=0.3)
    handles, labels = [], []
    for axes in grid.flat:
        for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.08 if lines > 1 else 0.14, 1, 1))
    path = out / "bench.png"
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _size(row: Row) -> int:
    return row.size
