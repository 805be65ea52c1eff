"""Progress bars for long commands, drawn with rich on stderr.

A bar appears only when stderr is a terminal (never in pipes, files or captured output,
so what a command prints is the same with or without it) and only once the work has
taken two seconds, so short runs stay quiet. It disappears when the work ends. rich's
progress module loads only when a bar may be drawn, so that ``--help`` starts fast.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

__all__ = ["DELAY_S", "progress_bar", "run_progress"]

DELAY_S = 2.0
"""Work shorter than this shows no bar."""


def _rate(unit: str) -> ProgressColumn:
    """A column of completed units per second of wall-clock time: ``3.2 h/s``, ``1.5 run/s``."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.speed
            shown = "?" if speed is None else f"{speed:.3g}"
            return Text(f"{shown} {unit}/s", style="progress.data.speed")

    return Rate()


@contextmanager
def _bar(
    description: str, *columns: Callable[[], ProgressColumn], delay_s: float
) -> Iterator[Callable[[float, float], None] | None]:
    """An ``update(done, total)`` callback drawing a bar, or None without a terminal.

    ``columns`` are made only when a bar is drawn (they need rich's progress module).
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *(make() for make in columns),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = progress.add_task(description, total=None)
    began = time.monotonic()
    shown = False

    def update(done: float, total: float) -> None:
        nonlocal shown
        progress.update(task, completed=done, total=total)
        if not shown and time.monotonic() - began >= delay_s:
            progress.start()
            shown = True

    try:
        yield update
    finally:
        if shown:
            progress.stop()


@contextmanager
def progress_bar(delay_s: float = DELAY_S) -> Iterator[Callable[[float, float], None] | None]:
    """A bar for one simulation, in simulated hours: ``update(done_s, total_s)``."""

    def hours() -> ProgressColumn:
        from rich.progress import TextColumn

        return TextColumn("{task.completed:,.1f}/{task.total:,.1f} h")

    with _bar("simulating", hours, lambda: _rate("h"), delay_s=delay_s) as update:
        if update is None:
            yield None
            return
        yield lambda done_s, total_s: update(done_s / 3600, total_s / 3600)


@contextmanager
def run_progress(
    desc: str, delay_s: float = DELAY_S
) -> Iterator[Callable[[int, int], None] | None]:
    """A bar counting finished runs: ``update(done, total)``."""

    def done_of_total() -> ProgressColumn:
        from rich.progress import MofNCompleteColumn

        return MofNCompleteColumn()

    with _bar(desc, done_of_total, lambda: _rate("run"), delay_s=delay_s) as update:
        yield update
