"""Wall time, CPU time and peak memory of a block of this process.

Peak RSS is the kernel's high-water mark (``VmHWM``), reset at the start of each measured block
through ``/proc/self/clear_refs`` so that one scenario's peak is not another's, after memory
freed earlier has been handed back to the system. Where that is
not possible (not Linux), the process's lifetime peak is reported instead and marked so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import msgspec

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


class Usage(msgspec.Struct, kw_only=True):
    """What one measured block cost this process."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_rss_mb: float = 0.0
    peak_is_lifetime: bool = False
    """True when the peak could not be reset: it is the process's peak so far."""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _give_back_free_memory() -> None:
    # The C allocator keeps what earlier scenarios freed; handing it back to the system first
    # makes each scenario's peak its own, not the leftovers of the one before (glibc only).
    with suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


@contextmanager
def measured() -> Iterator[Usage]:
    """Measure the block; the :class:`Usage` yielded is filled in when the block ends."""
    usage = Usage()
    gc.collect()
    _give_back_free_memory()
    reset = _reset_peak()
    cpu, wall = _cpu(), time.perf_counter()
    try:
        yield usage
    finally:
        usage.wall = time.perf_counter() - wall
        usage.cpu = _cpu() - cpu
        peak = _status_mb("VmHWM") if reset else None
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            usage.peak_is_lifetime = True
        usage.peak_rss_mb = peak
