"""A progress bar for long commands: counts, rate and time left, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TerminalProgress:
    """Implements :class:`engine.cycle.run.Progress` on a terminal (plain lines when not a TTY)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self._label = label
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._width = width
        self._stage = ""
        self._total: int | None = None
        self._done = 0
        self._started = time.monotonic()
        self._last_draw = 0.0

    def stage(self, name: str, total: int | None) -> None:
        self._end_line()
        self._stage, self._total, self._done = name, total, 0
        self._started = time.monotonic()
        self._draw(force=True)

    def advance(self, count: int) -> None:
        self._done += count
        self._draw(force=self._total is not None and self._done >= self._total)

    def close(self) -> None:
        self._end_line()

    def _end_line(self) -> None:
        if self._tty and self._stage:
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < (0.1 if self._tty else 5.0):
            return
        self._last_draw = now
        elapsed = now - self._started
        text = f"{self._label} {self._stage}"
        if self._total:
            share = min(1.0, self._done / self._total)
            filled = int(share * self._width)
            rate = self._done / elapsed if elapsed > 0 else 0.0
            left = (self._total - self._done) / rate if rate > 0 else 0.0
            text += (
                f" [{'#' * filled}{'.' * (self._width - filled)}] {self._done}/{self._total}"
                f" {share:4.0%} {rate:,.0f}/s ETA {left:4.0f}s"
            )
        elif self._total == 0:
            text += " (nothing to do)"
        else:
            text += " ..."
        if self._tty:
            self._stream.write("\r" + text.ljust(100))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
