"""What every benchmark shares: the machine it ran on, timers and a plain-text table.

Imported by the ``bench_*.py`` scripts beside it (run from any folder: each puts this
folder on ``sys.path`` first, as Python does for the script's own folder).
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.metadata
import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "best_of",
    "command_times",
    "cpu_model",
    "load_average",
    "machine",
    "machine_info",
    "say",
    "table",
    "timed",
]


def say(text: str = "") -> None:
    """Print now (a benchmark's progress shows while it runs, also through a pipe)."""
    print(text, flush=True)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews timings."""
    if not hasattr(os, "getloadavg"):
        return "?"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info(libraries: Iterable[str] = (), usable_cpus: int | None = None) -> dict[str, str]:
    """Date, CPU, load, and the versions of Python, ``libraries`` and lfvsim.

    ``usable_cpus``: the CPUs this process may use, when it differs from the machine's.
    """
    usable = "" if usable_cpus is None else f" ({usable_cpus} usable)"
    versions = [f"Python {platform.python_version()}"]
    for name in [*libraries, "lfvsim"]:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} ?")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical CPUs{usable}, "
        f"load average {load_average()}",
        "software": ", ".join(versions),
        "os": platform.platform(),
    }


def machine(libraries: Iterable[str] = (), usable_cpus: int | None = None) -> str:
    """:func:`machine_info` as two lines: when and where, then what software."""
    info = machine_info(libraries, usable_cpus)
    return f"{info['date']}; {info['cpu']}\n{info['software']}"


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, list[Any]]:
    """Best wall time (s) of ``repeats`` calls, and every call's result."""
    best, results = math.inf, []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        results.append(fn())
        best = min(best, time.perf_counter() - t0)
    return best, results


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Call ``fn``; its result, CPU seconds of this process and wall seconds, printed."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    out = fn()
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    say(f"  {label:<44} {cpu_s:8.1f} CPU-s  {wall_s:8.1f} s wall")
    return out, cpu_s, wall_s


def command_times(commands: Sequence[Sequence[str]], repeats: int) -> list[tuple[float, float]]:
    """Median wall and CPU seconds (user + system) of each command, run ``repeats`` times.

    The commands take turns, round after round, so that a burst of other load on the
    machine falls on all of them alike. Output is discarded; a command that fails raises
    :class:`subprocess.CalledProcessError`.
    """
    walls: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    for _ in range(repeats):
        for k, argv in enumerate(commands):
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(proc.pid, 0)
            walls[k].append(time.perf_counter() - t0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                raise subprocess.CalledProcessError(proc.returncode, list(argv))
            cpus[k].append(usage.ru_utime + usage.ru_stime)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


def table(headers: list[Any], rows: list[list[Any]], right: set[int] | None = None) -> str:
    """A plain-text table of cells shown with ``str``; columns in ``right`` are right-aligned
    (default: all but 0)."""
    right = set(range(1, len(headers))) if right is None else right
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    headers, rows = cells[0], cells[1:]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(row: list[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), rule, *(fmt(r) for r in rows)])
