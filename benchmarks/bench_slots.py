"""Slot structures for the serving loop, on the arrays of the 7-day autoscaled run.

Run ``.venv/bin/python benchmarks/bench_slots.py``. Each bare loss loop of
``bare_loops.py`` serves the same requests (7 days at 20 TPS, drawn as the engine draws
them) on 16 and 36 slots of 4-slot units, carrying each slot's unit as the engine must.
Reported: CPU ns per request (the best of a few rounds, loops alternating), the requests
throttled (must be equal: the exit status is 1 otherwise), and whether each request took
the same unit as in the engine's binary heap. A structure that picks other units on ties
would change the engine's per-unit figures, so it can replace the heap only if it is
faster and picks the same units; timings are reported, not enforced.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _timing import machine_info, say, table
from bare_loops import LOOPS
from bench_engine import AUTOSCALED, LARGE_TPS, START, engine_arrays

import lfvsim
from lfvsim.traces import CountTrace

ENGINE_LOOP = "binary heap, branch-free (the engine's)"
NO_UNITS = ("binary heap, branching", "binary heap, branch-free, no units")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the loops")
    parser.add_argument("--days", type=int, default=7, help="length of the 20 TPS run")
    args = parser.parse_args(argv)
    say(str(machine_info(["numba", "numpy"])))
    counts = np.random.default_rng(2026).poisson(LARGE_TPS * 60, args.days * 1440)
    trace = CountTrace(START, 60.0, counts.astype(np.int64), source="bench")
    scenario = lfvsim.Scenario.model_validate(AUTOSCALED)
    arrivals, services = engine_arrays(trace, scenario.unit, 11)
    n = len(arrivals)
    rows, same_count = [], True
    for slots in (16, 36):
        units = np.arange(slots, dtype=np.int64) // 4
        best = dict.fromkeys(LOOPS, np.inf)
        throttled: dict[str, int] = {}
        took: dict[str, np.ndarray] = {}
        for name, loop in LOOPS.items():  # compile; the units each request took
            picked = np.empty(n, np.int32)
            throttled[name] = loop(arrivals, services, slots, units, picked)
            took[name] = picked
        for _ in range(args.rounds):
            for name, loop in LOOPS.items():
                picked = np.empty(n, np.int32)
                t0 = time.thread_time()
                loop(arrivals, services, slots, units, picked)
                best[name] = min(best[name], time.thread_time() - t0)
        for name in LOOPS:
            same_count &= throttled[name] == throttled[ENGINE_LOOP]
            same_units = (
                "(no units)"
                if name in NO_UNITS
                else "yes"
                if np.array_equal(took[name], took[ENGINE_LOOP])
                else "NO"
            )
            rows.append(
                [
                    str(slots),
                    name,
                    f"{1e9 * best[name] / n:.1f}",
                    f"{throttled[name]:,}",
                    same_units,
                ]
            )
    say(f"\n{n:,} requests, {args.days} d at {LARGE_TPS:g} TPS, exponential 0.8 s services")
    say(
        table(
            ["slots", "structure", "CPU ns/request", "throttled", "same units as the engine"],
            rows,
            right={0, 2, 3},
        )
    )
    return 0 if same_count else 1


if __name__ == "__main__":
    sys.exit(main())
