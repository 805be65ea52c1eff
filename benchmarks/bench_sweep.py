"""Benchmark of ``lfvsim.experiments.sweep``: wall time with 1 and 2 local workers, and Dask.

Run ``.venv/bin/python benchmarks/bench_sweep.py [--quick] [--no-dask] [--repeats N]``.

The workload is the one the sweep exists for: Min 1, Max 1..12 and no auto-scaling (13
configurations), 10 replications each (130 runs), over a 7-day diurnal trace (mean 8 TPS,
peak/trough 6, about 4.8 million requests a run), target tracking. ``--quick`` runs
Max 1..4 with 3 replications over one day.

Timings (the best of ``--repeats``, default 1; 1 and 2 workers alternate) include
everything a user waits for: starting the worker processes (or sending the workload to
the Dask workers), the runs, writing each finished run to disk and the final Parquet file.
The first local pool of a Python process also starts the ``forkserver`` its workers fork
from (about a second); later pools reuse it. The Dask cluster itself (a
``distributed.LocalCluster`` with 2 single-threaded worker processes) is started before
its timer and reported separately.

Every table must be identical, number for number, whatever the executor; the exit status
is 1 if one differs. The speed-up target (2 workers at least 1.7x faster than 1) is
reported as met / NOT MET and never changes the exit status. Next to each time: the CPU
seconds the sweep's processes used (as a share of the CPUs it was given) and the CPU
seconds other processes took meanwhile, read from ``/proc``: on a shared 2-core machine
another busy process takes away what a second worker can gain.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
from _timing import machine

import lfvsim
from lfvsim.experiments import sweep
from lfvsim.experiments.executors import cpu_count

TARGET_SPEEDUP = 1.7


def scenario(days: float) -> lfvsim.Scenario:
    """Diurnal traffic for ``days``, target tracking; the sweep replaces Min and Max."""
    return lfvsim.Scenario.model_validate(
        {
            "model": {"project": "bench-line", "min_units": 1, "max_units": 12},
            "traffic": {
                "kind": "diurnal",
                "mean_tps": 8.0,
                "peak_to_trough": 6.0,
                "peak_hour_utc": 13.0,
                "duration_h": 24 * days,
            },
            "simulation": {"seed": 20260105},
        }
    )


class CpuMeter:
    """CPU seconds of this process and its descendants, and of everything else (Linux).

    A thread samples ``/proc`` every 0.2 s: the cumulative CPU time of each process in this
    process tree (the sweep's workers included) and the machine's busy time. What the
    machine spent beyond this tree is other load, which a 2-core speed-up cannot survive.
    """

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.available = Path("/proc/stat").exists()
        self.ours_s = self.others_s = float("nan")

    def _busy_s(self) -> float:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / self.tick

    def _tree(self) -> dict[int, float]:
        parent, cpu = {}, {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            rest = text[text.rindex(")") + 2 :].split()
            pid = int(stat.parent.name)
            parent[pid] = int(rest[1])
            cpu[pid] = (int(rest[11]) + int(rest[12])) / self.tick
        me = os.getpid()
        tree = {}
        for pid in cpu:
            p, seen = pid, 0
            while p > 1 and seen < 64:
                if p == me:
                    tree[pid] = cpu[pid]
                    break
                p, seen = parent.get(p, 0), seen + 1
        return tree

    def _sample(self) -> None:
        for pid, used in self._tree().items():
            self.last[pid] = used
            self.first.setdefault(pid, 0.0)

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def __enter__(self) -> CpuMeter:
        if self.available:
            self.first = dict(self._tree())
            self.last = dict(self.first)
            self.busy0 = self._busy_s()
            self.stop = threading.Event()
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.available:
            return
        self.stop.set()
        self.thread.join()
        self._sample()
        busy = self._busy_s() - self.busy0
        self.ours_s = sum(self.last[p] - self.first[p] for p in self.last)
        self.others_s = max(0.0, busy - self.ours_s)


def timed_sweep(
    label: str, folder: Path, attempt: int, cpus: int, **kw
) -> tuple[float, pd.DataFrame]:
    """Wall time of one fresh sweep (into a new output), printed with its CPU use."""
    out = folder / f"{label}-{attempt}.parquet"
    with CpuMeter() as meter:
        t0 = time.perf_counter()
        table = sweep(output=out, **kw)
        seconds = time.perf_counter() - t0
    print(
        f"  {label:<24} {seconds:8.2f} s  (CPU: sweep {meter.ours_s:.1f} s = "
        f"{meter.ours_s / (cpus * seconds):.0%} of {cpus} CPU(s); other processes "
        f"{meter.others_s:.1f} s)",
        flush=True,
    )
    return seconds, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 day, Max 1..4, 3 replications")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    parser.add_argument("--repeats", type=int, default=1, help="keep the best of N (default 1)")
    args = parser.parse_args()
    days, max_hi, reps = (1, 4, 3) if args.quick else (7, 12, 10)
    sc = scenario(days)
    kw = {
        "scenario": sc,
        "min_units": [1],
        "max_units": range(1, max_hi + 1),
        "replications": reps,
    }
    runs = (max_hi + 1) * reps
    print(machine(["numpy", "pandas"], usable_cpus=cpu_count()))
    print(
        f"\nsweep: Min 1, Max 1..{max_hi} and no auto-scaling, {reps} replications = {runs} "
        f"runs over {days} day(s) of diurnal traffic (mean 8 TPS, peak/trough 6)\n"
    )
    warm = time.perf_counter()
    lfvsim.simulate(scenario(1 / 24), seed=1)  # load the numba kernels before timing
    print(f"  {'kernels loaded':<24} {time.perf_counter() - warm:8.2f} s")

    folder = Path(tempfile.mkdtemp(prefix="lfvsim-bench-sweep-"))
    ok = True
    try:
        one_s = two_s = float("inf")
        for attempt in range(args.repeats):  # interleaved, so drifting load hits both
            seconds, one = timed_sweep("1 worker", folder, attempt, 1, workers=1, **kw)
            one_s = min(one_s, seconds)
            seconds, two = timed_sweep("2 workers", folder, attempt, 2, workers=2, **kw)
            two_s = min(two_s, seconds)
            ok &= one.equals(two)
        t0 = time.perf_counter()
        again = sweep(output=folder / "2 workers-0.parquet", workers=2, **kw)
        resume_s = time.perf_counter() - t0
        ok &= again.equals(one)
        print(f"  {'re-run, all finished':<24} {resume_s:8.2f} s  (resumes: nothing to run)")
        dask_s = None
        if not args.no_dask:
            try:
                from distributed import LocalCluster
            except ImportError:
                print("  dask: not installed (pip install 'lfvsim[dask]'), skipped")
            else:
                t0 = time.perf_counter()
                with LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
                ) as cluster:
                    start_s = time.perf_counter() - t0
                    print(f"  {'dask cluster start':<24} {start_s:8.2f} s  (not in the timings)")
                    dask_s = float("inf")
                    for attempt in range(args.repeats):
                        seconds, on_dask = timed_sweep(
                            "dask, 2 workers",
                            folder,
                            attempt,
                            2,
                            dask=cluster.scheduler_address,
                            **kw,
                        )
                        dask_s = min(dask_s, seconds)
                        ok &= on_dask.equals(one)

        requests = one.loc[one["replication"] == 0, "requests"].iloc[0]
        speedup = one_s / two_s
        print(
            f"\nrequests per run: {requests:,} (the same in every configuration of a "
            f"replication); runs: {len(one)}"
        )
        print(f"1 worker: {one_s / len(one):.3f} s a run, {len(one) * requests / one_s / 1e6:.1f}"
              " M simulated requests/s")  # fmt: skip
        print(
            f"2 workers: {two_s:.1f} s, {speedup:.2f}x faster than 1 worker "
            f"(target >= {TARGET_SPEEDUP}x: {'met' if speedup >= TARGET_SPEEDUP else 'NOT MET'})"
        )
        if dask_s is not None:
            print(f"dask (2 worker processes): {dask_s:.1f} s, {one_s / dask_s:.2f}x 1 worker")
        total = one_s + two_s + resume_s + (dask_s or 0.0)
        print(f"total sweep wall time: {total:.1f} s")
        print(f"tables identical for every executor: {'yes' if ok else 'NO'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
