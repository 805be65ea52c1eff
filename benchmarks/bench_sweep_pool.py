"""Benchmark: a sweep that stops early on 2 workers, one process pool per look against one.

Run ``.venv/bin/python benchmarks/bench_sweep_pool.py [--repeats 5] [--replications 20]``.

The sweep: Min 1..3, Max 1..5, bursty constant traffic (2.5 requests/s with surges x3 for
20 minutes), an SLO of 1 % throttled, ``--replications`` replications stopped early by the
sequential rule, ``workers=2``. Each repeat runs it twice, each time in a fresh process:
with the executor starting a pool for every wave and look (``reuse_pool=False``, as before)
and with one pool for the whole sweep (``reuse_pool=True``, what the sweep asks for now).
Printed: wall time and pools started of each, and whether the two tables are identical
(exit status 1 if not). Timings on a shared 2-core machine are noisy: read the medians.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import machine, say, table

import lfvsim
from lfvsim.experiments import executors
from lfvsim.experiments.recommend import Slo, best_cost
from lfvsim.experiments.sequential import sequential_rule
from lfvsim.traces import generators

sweep_module = importlib.import_module("lfvsim.experiments.sweep")


def one_sweep(reuse_pool: bool, replications: int, table_path: Path) -> dict[str, object]:
    """Run the sweep in this process; its wall time and the pools it started."""
    real_make = executors.make_executor

    def make(*args: object, **kwargs: object) -> object:
        kwargs["reuse_pool"] = reuse_pool  # what the sweep asks for, overridden
        return real_make(*args, **kwargs)  # type: ignore[arg-type]

    sweep_module.make_executor = make
    pools = []
    real_pool_for = executors.LocalExecutor._pool_for

    def counting(self: executors.LocalExecutor, *args: object, **kwargs: object) -> object:
        pools.append(1)
        return real_pool_for(self, *args, **kwargs)  # type: ignore[arg-type]

    executors.LocalExecutor._pool_for = counting  # type: ignore[method-assign]
    scenario = lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 2},
            "autoscaler": {"provisioning_delay_s": 120},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 1},
        }
    )
    base = generators.constant(2.5, 1 / 3, "2026-01-05T00:00Z")
    trace = generators.spikes(base, per_day=96, multiplier=3.0, duration_s=300, seed=3)
    slo = Slo(0.01)
    t0 = time.perf_counter()
    result = sweep_module.sweep(
        scenario,
        min_units=range(1, 4),
        max_units=range(1, 6),
        replications=replications,
        seed=5,
        trace=trace,
        workers=2,
        early_stop=sequential_rule(slo, replications),
        best_cost=lambda t: best_cost(t, slo),
    )
    wall_s = time.perf_counter() - t0
    result.to_csv(table_path, index=False)
    return {"wall_s": round(wall_s, 2), "pools": len(pools), "rows": len(result)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--child", choices=["before", "after"], help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = one_sweep(args.child == "after", args.replications, Path(args.table))
        print(json.dumps(figures))
        return
    say(machine(["numpy", "numba"], usable_cpus=executors.cpu_count()))
    runs: dict[str, list[dict[str, object]]] = {"before": [], "after": []}
    same = True
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            tables = {}
            for mode in ("before", "after"):
                tables[mode] = Path(folder) / f"{mode}.csv"
                command = [sys.executable, __file__, "--child", mode, "--table", str(tables[mode])]
                command += ["--replications", str(args.replications)]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                runs[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
                say(f"{mode}: {runs[mode][-1]}")
            same = same and tables["before"].read_bytes() == tables["after"].read_bytes()
    rows = [
        [
            mode,
            runs[mode][0]["pools"],
            statistics.median(float(r["wall_s"]) for r in runs[mode]),  # type: ignore[arg-type]
            min(float(r["wall_s"]) for r in runs[mode]),  # type: ignore[arg-type]
        ]
        for mode in ("before", "after")
    ]
    say(table(["pools", "pools started", "median wall (s)", "best wall (s)"], rows))
    say(f"tables identical: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
