"""Progress of long work (parsing a large file, a backup): rows, rows per second, time left.

On a terminal it is a rich progress bar; otherwise (a pipe, an Airflow task log) it is one line
per batch, so a log shows that a long task is alive and how far it got. The work reports through
`current()`, which is a no-op unless a command opened `tracking(...)`: core code never needs to
know whether anyone is watching.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO

log = logging.getLogger("serasan.progress")


def _every_s(default: float = 2.0) -> float:
    """SERASAN_PROGRESS_EVERY_S when it is a number of seconds (0: a line per batch), else 2."""
    try:
        return max(0.0, float(os.environ.get("SERASAN_PROGRESS_EVERY_S") or default))
    except ValueError:
        return default


LINE_EVERY_S = _every_s()  # at most one plain line per this many seconds (and one at the end)


class Progress:
    """Reports nothing: what the work sees when no command tracks it."""

    def advance(self, rows: int, done: int | None = None) -> None:
        """`rows` more rows handled; `done` is how far through `total` the work is (bytes)."""

    def set_total(self, total: int | None) -> None:
        """The size of the whole work in the unit of `done`, once known."""


_SILENT = Progress()
_current: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "serasan_progress", default=None
)


def current() -> Progress:
    return _current.get() or _SILENT


def _eta(elapsed: float, done: int | None, total: int | None) -> float | None:
    if not done or not total or done >= total or elapsed <= 0:
        return None
    return elapsed * (total - done) / done


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class LineProgress(Progress):
    """One line per batch (at most every LINE_EVERY_S), for logs and pipes."""

    def __init__(self, label: str, total: int | None, stream: IO[str] | None) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.rows, self.done = 0, 0
        self.start = self.last = time.monotonic()

    def set_total(self, total: int | None) -> None:
        self.total = total

    def advance(self, rows: int, done: int | None = None) -> None:
        self.rows += rows
        if done is not None:
            self.done = done
        now = time.monotonic()
        if now - self.last >= LINE_EVERY_S:
            self.last = now
            self._line(now)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        text = f"{self.label}: {self.rows:,} baris, {self.rows / elapsed:,.0f} baris/s"
        if self.total:
            text += f", {min(self.done / self.total, 1):.0%}"
        eta = _eta(elapsed, self.done, self.total)
        if eta is not None:
            text += f", sisa ~{_duration(eta)}"
        return text

    def _line(self, now: float) -> None:
        text = self.line()
        if self.stream is not None:
            print(text, file=self.stream, flush=True)
        else:
            log.info("%s", text)

    def finish(self) -> None:
        if self.rows:
            self._line(time.monotonic())


class BarProgress(Progress):
    """A rich progress bar on a terminal: rows read, rows per second, time left."""

    def __init__(self, label: str, total: int | None, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        self.rows = 0
        self.start = time.monotonic()
        self.bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,} baris, {task.fields[rate]:,.0f} baris/s"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self.task = self.bar.add_task(label, total=total, rows=0, rate=0.0)
        self.bar.start()

    def set_total(self, total: int | None) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, rows: int, done: int | None = None) -> None:
        self.rows += rows
        rate = self.rows / max(time.monotonic() - self.start, 1e-9)
        self.bar.update(self.task, completed=done, rows=self.rows, rate=rate)

    def finish(self) -> None:
        self.bar.stop()


@contextmanager
def tracking(
    label: str, total: int | None = None, stream: IO[str] | None = None
) -> Iterator[Progress]:
    """Show the progress of the work done inside: a bar when `stream` is a terminal, else a line
    per batch (to `stream`, or to the `serasan.progress` log when there is none)."""
    tracker: LineProgress | BarProgress
    if stream is not None and stream.isatty():
        tracker = BarProgress(label, total, stream)
    else:
        tracker = LineProgress(label, total, stream)
    token = _current.set(tracker)
    try:
        yield tracker
    finally:
        _current.reset(token)
        tracker.finish()


def stderr_tracking(label: str, total: int | None = None) -> AbstractContextManager[Progress]:
    """`tracking` to standard error: commands keep standard output for their result (--json)."""
    return tracking(label, total, sys.stderr)
