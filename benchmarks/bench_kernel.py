"""CPU seconds per run of the summary-only fast path: this checkout against another one.

Run ``.venv/bin/python benchmarks/bench_kernel.py --ref /tmp/kernref`` after
``git worktree add --detach /tmp/kernref main`` (or any other commit to compare with).

In a sweep the requests of a replication are drawn once and shared, so what each
configuration pays is the fast path itself. Each code tree runs in its own subprocess
(its ``lfvsim`` first on ``PYTHONPATH``) on the same workloads, drawn once per process
with the same seed, so the two trees replay the same arrays:

1. WorldCup98 (``../shared/data``) x0.01, 48 h, target tracking on 4-slot units, a few
   (Min, Max) configurations sharing one draw of the requests.
2. 7 days at 20 TPS as per-minute counts, target tracking Min 1 Max 12 (the autoscaled
   run of ``bench_engine.py``), its requests drawn once and shared.

A run's CPU time is ``time.process_time`` around ``simulate_summary(..., traffic=...)``,
the best of a few repeats; the trees alternate, twice, and each keeps its best. Every
summary of this tree must equal the other tree's field by field (the exit status is 1
otherwise); the timings are reported, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _timing import machine_info, say, table

ROOT = Path(__file__).resolve().parents[1]
WORLDCUP = ROOT.parent / "shared" / "data" / "worldcup98-1998-06-25-per-second.csv"

UNIT = {
    "slots": 4,
    "latency_distribution": "exponential",
    "latency_mean_s": 0.8,
    "when_busy": "throttle",
}
WORLDCUP_CONFIGS = ((1, 3), (2, 7), (4, 10), (11, 11))  # (Min, Max)

CHILD = r"""
import json, sys, time
import numpy as np
import pandas as pd
import lfvsim
from lfvsim.engine.fast import simulate_summary
from lfvsim.engine.traffic import draw_traffic
from lfvsim.traces import CountTrace

args = json.loads(sys.argv[1])
out = {"lfvsim": lfvsim.__file__, "runs": []}


def scenario(min_units, max_units, seed):
    return lfvsim.Scenario.model_validate({
        "model": {"min_units": min_units, "max_units": max_units},
        "unit": args["unit"],
        "autoscaler": {"policy": "target_tracking"},
        "traffic": {"kind": "constant", "rate_tps": 20, "duration_h": 1},
        "simulation": {"seed": seed},
    })


def measure(name, trace, configs, seed):
    traffic = draw_traffic(scenario(1, 1, seed), trace, seed, budget_bytes=2**31)
    for lo, hi in configs:
        sc = scenario(lo, hi, seed)
        simulate_summary(sc, trace, seed, traffic=traffic, engine="fast")  # compile, warm
        best = float("inf")
        for _ in range(args["repeats"]):
            t0 = time.process_time()
            run = simulate_summary(sc, trace, seed, traffic=traffic, engine="fast")
            best = min(best, time.process_time() - t0)
        out["runs"].append({
            "workload": name, "min": lo, "max": hi, "requests": traffic.requests,
            "cpu_s": best, "summary": run.summary.to_dict(),
        })


if args["worldcup"]:
    trace = lfvsim.read_csv_trace(args["worldcup"], scale=0.01)
    measure("WorldCup98 x0.01 48 h", trace, args["configs"], 5)
counts = np.random.default_rng(2026).poisson(20.0 * 60, args["days"] * 1440).astype(np.int64)
trace = CountTrace(pd.Timestamp("2026-01-05", tz="UTC"), 60.0, counts, source="bench")
measure(f"{args['days']} d @ 20 TPS", trace, [(1, 12)], 11)
print(json.dumps(out, default=str))
"""


def run_tree(tree: Path, child_args: dict[str, Any]) -> dict[str, Any]:
    """One subprocess with ``tree``'s lfvsim first on the path; its JSON output."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(child_args)],
        env=env,
        cwd=tree,  # python -c puts the working folder first on the path
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the run in {tree} failed:\n{proc.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    if not out["lfvsim"].startswith(str(tree)):
        raise SystemExit(f"{tree} did not import its own lfvsim ({out['lfvsim']})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", type=Path, required=True, help="the other code tree")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the trees")
    parser.add_argument("--days", type=int, default=7, help="length of the 20 TPS run")
    parser.add_argument("--quick", action="store_true", help="1 day, 1 round, 2 repeats")
    args = parser.parse_args(argv)
    if not (args.ref / "lfvsim" / "__init__.py").is_file():
        raise SystemExit(f"no lfvsim in {args.ref}: git worktree add --detach {args.ref} main")
    if args.quick:
        args.days, args.rounds, args.repeats = 1, 1, 2
    child_args = {
        "unit": UNIT,
        "configs": WORLDCUP_CONFIGS,
        "worldcup": str(WORLDCUP) if WORLDCUP.is_file() else None,
        "days": args.days,
        "repeats": args.repeats,
    }
    say(json.dumps(machine_info(["numba", "numpy"]), indent=1))
    trees = {"ref": args.ref.resolve(), "new": ROOT}
    best: dict[str, list[dict[str, Any]]] = {}
    for r in range(args.rounds):
        for name, tree in trees.items():
            say(f"round {r + 1}: {name} ({tree})")
            runs = run_tree(tree, child_args)["runs"]
            if name not in best:
                best[name] = runs
            for kept, run in zip(best[name], runs, strict=True):
                kept["cpu_s"] = min(kept["cpu_s"], run["cpu_s"])
    rows, same_all = [], True
    for ref, new in zip(best["ref"], best["new"], strict=True):
        same = ref["summary"] == new["summary"]
        same_all &= same
        n = new["requests"]
        rows.append(
            [
                ref["workload"],
                f"{new['min']}..{new['max']}",
                f"{n:,}",
                f"{ref['cpu_s']:.4f}",
                f"{new['cpu_s']:.4f}",
                f"{1e9 * ref['cpu_s'] / n:.0f}",
                f"{1e9 * new['cpu_s'] / n:.0f}",
                f"{ref['cpu_s'] / new['cpu_s']:.2f}x",
                "yes" if same else "NO",
            ]
        )
    say(
        table(
            [
                "workload",
                "Min..Max",
                "requests",
                "ref CPU-s",
                "new CPU-s",
                "ref ns/req",
                "new ns/req",
                "speed-up",
                "same summary",
            ],
            rows,
        )
    )
    return 0 if same_all else 1


if __name__ == "__main__":
    sys.exit(main())
