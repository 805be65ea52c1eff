"""Benchmark of trace reading at scale: time and peak memory of 100 million requests.

Run ``.venv/bin/python benchmarks/bench_traces.py [--quick] [--requests N] [--dir DIR]``.

1. Writes per-request traces of N requests (default 100 million; ``--quick``: 2 million)
   spread over 7 days, as Parquet (a UTC timestamp column) and as CSV (epoch seconds), in
   bounded memory, under a temporary directory that is deleted at the end.
2. In a fresh Python process for each case, measures:

   - reading the file (one checking pass: sorted, valid times; the trace is then streamed
     from disk at every replay),
   - replaying it through the engine (target tracking, Min 1, Max 60 units),
   - counting it per minute (``to_counts``, one pass),

   and the process's peak resident memory (VmHWM). The same cases at a tenth of the size
   show whether memory grows with the trace (it should not).
3. One more process holds a tenth of the trace in memory (``in_memory=True``) for
   comparison.

The exit status is non-zero only if a replay loses or invents requests; times and memory
are reported, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _timing import say, table  # noqa: E402

import lfvsim  # noqa: E402
import lfvsim.traces as T  # noqa: E402

DAYS = 7
SCENARIO = {
    "model": {"min_units": 1, "max_units": 60},
    "autoscaler": {"policy": "target_tracking"},
    "traffic": {"kind": "constant", "rate_tps": 1, "duration_h": 1},
    "simulation": {"seed": 5},
}

CHILD = r"""
import json, resource, sys, time
args = json.loads(sys.argv[1])

def status_mib(key):
    try:
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None

import numpy as np
import lfvsim
import lfvsim.traces as T
scenario = lfvsim.Scenario.model_validate(args["scenario"])
tiny = T.CountTrace(T.constant(1, 1, "2026-01-05").start, 60.0, np.full(3, 30))
lfvsim.simulate(scenario, trace=tiny, seed=1)  # load the compiled kernels
out = {"rss_before_mib": status_mib("VmRSS")}
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the high-water mark to the current RSS
    out["hwm_reset"] = True
except OSError:
    out["hwm_reset"] = False
t0 = time.perf_counter()
trace = T.read_trace(args["path"], in_memory=args["in_memory"])
out["read_s"] = time.perf_counter() - t0
out["layout"] = type(trace).__name__
out["expected"] = int(trace.expected_requests)
if args["task"] == "replay":
    t0 = time.perf_counter()
    s = lfvsim.simulate(scenario, trace=trace, seed=2).summary
    out["work_s"] = time.perf_counter() - t0
    out["requests"] = s.requests
    out["counted"] = s.served + s.throttled
    out["peak_units"] = s.peak_units
else:
    t0 = time.perf_counter()
    counts = T.to_counts(trace, 60.0)
    out["work_s"] = time.perf_counter() - t0
    out["requests"] = out["counted"] = int(counts.counts.sum())
out["peak_mib"] = status_mib("VmHWM")
if out["peak_mib"] is None:
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps(out))
"""


def make_files(folder: Path, requests: int, csv: bool) -> dict[str, Path]:
    """Per-request files of about ``requests`` requests over DAYS days."""
    rate = requests / (DAYS * 86400.0)
    trace = T.constant(rate, 24 * DAYS, "2026-01-05")
    files = {}
    for suffix in (".parquet", ".csv") if csv else (".parquet",):
        path = folder / f"requests-{requests}{suffix}"
        t0 = time.perf_counter()
        n = T.write_requests(trace, path, seed=1)
        size = path.stat().st_size / 2**20
        say(
            f"  wrote {path.name}: {n:,} requests, {size:,.0f} MiB in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        files[suffix] = path
    return files


def run_child(path: Path, task: str, in_memory: bool | None) -> dict[str, Any]:
    args = json.dumps(
        {"path": str(path), "task": task, "in_memory": in_memory, "scenario": SCENARIO}
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child for {path.name} ({task}) failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 million requests")
    parser.add_argument("--requests", type=int, help="requests in the large trace")
    parser.add_argument("--no-csv", action="store_true", help="Parquet only (faster)")
    parser.add_argument("--dir", type=Path, help="where the temporary files go")
    args = parser.parse_args(argv)
    big = args.requests or (2_000_000 if args.quick else 100_000_000)
    small = big // 10

    say(f"lfvsim trace benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    say(f"machine:  {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    say(
        f"software: Python {platform.python_version()}, lfvsim {lfvsim.__version__}, "
        f"{platform.platform()}"
    )
    say(
        f"traces: per-request, {DAYS} days at a constant Poisson rate; replay: target tracking "
        "Min 1 Max 60"
    )
    say("peak RSS: the child's high-water mark (VmHWM), Python and the kernels included\n")

    failures = 0
    with tempfile.TemporaryDirectory(prefix="lfvsim-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        free = shutil.disk_usage(folder).free / 2**30
        say(f"temporary files in {folder} ({free:,.0f} GiB free)")
        large = make_files(folder, big, csv=not args.no_csv)
        smaller = make_files(folder, small, csv=not args.no_csv)
        say()
        rows = []
        cases = []
        for suffix in large:
            for task in ("replay", "count"):
                cases.append((smaller[suffix], task, False))
                cases.append((large[suffix], task, False))
        cases.append((smaller[".parquet"], "replay", True))
        for path, task, in_memory in cases:
            out = run_child(path, task, in_memory)
            ok = out["requests"] == out["expected"] == out["counted"]
            failures += not ok
            rate = out["requests"] / out["work_s"] / 1e6 if out["work_s"] > 0 else float("nan")
            rows.append(
                [
                    path.suffix.lstrip("."),
                    f"{out['requests']:,}",
                    "in memory" if out["layout"] == "RequestTrace" else "streamed",
                    "simulate" if task == "replay" else "to_counts",
                    f"{out['read_s']:.1f}",
                    f"{out['work_s']:.1f}",
                    f"{rate:.2f}",
                    f"{out['rss_before_mib']:.0f}",
                    f"{out['peak_mib']:.0f}",
                    "yes" if ok else "NO",
                ]
            )
            say(
                f"  {rows[-1][0]:8} {rows[-1][1]:>12} {rows[-1][2]:9} {rows[-1][3]:9} done "
                f"(peak RSS {rows[-1][8]} MiB)"
            )
        say()
        say(
            table(
                [
                    "file",
                    "requests",
                    "held",
                    "task",
                    "read s",
                    "task s",
                    "M req/s",
                    "RSS before MiB",
                    "peak RSS MiB",
                    "all counted",
                ],
                rows,
            )
        )
    say(f"\ntemporary files deleted. {'OK' if not failures else f'{failures} FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
