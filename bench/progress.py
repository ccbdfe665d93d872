"""The benchmark's progress bar: steps done out of the steps planned, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class StepBar:
    """One line per step (redrawn in place on a terminal) with the time so far."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 24) -> None:
        self._total = max(total, 1)
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._width = width
        self._done = -1
        self._started = time.monotonic()

    def __call__(self, name: str) -> None:
        self._done = min(self._done + 1, self._total)
        filled = int(self._width * self._done / self._total)
        elapsed = time.monotonic() - self._started
        text = f"bench [{'#' * filled}{'.' * (self._width - filled)}] {elapsed:6.0f}s  {name}"
        if self._tty:
            self._stream.write("\r" + text[:110].ljust(110))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
