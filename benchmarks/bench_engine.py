"""Benchmarks of the lfvsim engine: correctness against references, speed, and memory.

Run ``make bench`` or ``.venv/bin/python benchmarks/bench_engine.py [--quick]``.

Every speed is reported next to references measured in the same run, on the same arrays:

1. M/M/c loss system: the engine against a plain per-request SimPy model
   (:func:`lfvsim.engine.reference.simulate_reference`) and a bare numba loss loop. All three must
   agree request by request (same throttled flags, same start times), and the blocking rate
   must match Erlang B.
2. A large per-minute counts trace (7 days at 20 TPS, ~12M requests) with target tracking
   (Min 1, Max 12): engine requests per second, x SimPy, and % of the bare numba loop; the
   summary-only fast path and the SimPy path on the same run (their summaries must be
   equal), against the floor of drawing the requests plus the bare loop on them (one after
   the other, and overlapped: the slower of the two). The fast path draws the next block
   on a second thread while it serves one; it is timed that way, drawing in line (one
   thread), and in CPU time over both threads. The time to draw the requests alone, in
   ns per request (arrivals, service times, and with the default lognormal service
   times).
3. The WorldCup98 trace scaled x0.01, when the file exists.
4. Peak RSS of fresh subprocesses: one that only imports lfvsim and loads the kernels, and
   ones that run 7-day and 30-day traces (~52M requests), with the simulation's own share.

Timings are the best of a few repeats (the machines are shared and noisy). The exit status
is non-zero only when statistics that should agree do not; speed and memory targets are
reported, never enforced.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bare_loops
import numpy as np
import pandas as pd
from _timing import best_of, machine_info, say, table
from bare_loops import take_earliest
from numba import njit

import lfvsim
import lfvsim.engine.fast
from lfvsim.engine.fast import simulate_summary
from lfvsim.engine.reference import simulate_reference
from lfvsim.engine.traffic import run_streams, traffic_blocks
from lfvsim.theory import erlang_b
from lfvsim.traces import CountTrace, RateTrace

ROOT = Path(__file__).resolve().parents[1]
WORLDCUP = ROOT.parent / "shared" / "data" / "worldcup98-1998-06-25-per-second.csv"
START = pd.Timestamp("2026-01-05", tz="UTC")

# Targets the project sets itself: reported as met / not met, never a reason to fail.
TARGET_ENGINE_RPS = 5e6
TARGET_FAST_RPS = 25e6
TARGET_PEAK_MIB = 1024.0

UNIT = {
    "slots": 4,
    "latency_distribution": "exponential",
    "latency_mean_s": 0.8,
    "when_busy": "throttle",
}
PLACEHOLDER_TRAFFIC = {"kind": "constant", "rate_tps": 20, "duration_h": 1}
AUTOSCALED = {
    "model": {"min_units": 1, "max_units": 12},
    "unit": UNIT,
    "autoscaler": {"policy": "target_tracking"},
    "traffic": PLACEHOLDER_TRAFFIC,
    "simulation": {"seed": 3},
}


def fixed_units(units: int) -> dict[str, Any]:
    """A scenario without auto-scaling: ``units`` units all the time."""
    return {
        "model": {"min_units": units},
        "unit": UNIT,
        "autoscaler": {"policy": "none"},
        "traffic": PLACEHOLDER_TRAFFIC,
        "simulation": {"seed": 3},
    }


@dataclasses.dataclass(frozen=True)
class Sizes:
    mmc_requests: int  # M/M/c workload for the SimPy comparison
    mmc_rate_tps: float
    mmc_units: int
    large_days: int  # per-minute counts at LARGE_TPS, target tracking
    fixed_units: int  # engine without scaling on the same arrays, checked against the loop
    memory_days: tuple[int, ...]  # subprocess runs; the last is the headline
    repeats: int
    simpy_repeats: int


LARGE_TPS = 20.0
FULL = Sizes(200_000, 7.0, 2, 7, 4, (7, 30), repeats=3, simpy_repeats=3)
QUICK = Sizes(20_000, 7.0, 2, 1, 4, (1, 2), repeats=2, simpy_repeats=1)


# --- the ceiling: a bare loss-queue loop --------------------------------------------------


@njit
def loss_loop(arrivals, services, slots):
    """Throttled requests of an M/G/c/c system: the speed ceiling for the engine.

    ``free`` is a min-heap of the times the ``slots`` slots fall free. A request takes the
    earliest-free slot if it is free at its arrival, else it is throttled.
    """
    free = np.zeros(slots)
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
        else:
            take_earliest(free, slots, t + services[i])
    return throttled


@njit
def loss_loop_flags(arrivals, services, slots, throttled):
    """As :func:`loss_loop`, writing each request's throttled flag into ``throttled``."""
    free = np.zeros(slots)
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled[i] = True
        else:
            take_earliest(free, slots, t + services[i])


# --- helpers ------------------------------------------------------------------------------


def engine_arrays(trace, unit, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The arrival and service times that ``lfvsim.simulate(..., trace, seed)`` draws.

    Mirrors the engine's streams: ``SeedSequence(seed).spawn(2)`` gives the arrival and
    service generators, and exponential service times are drawn per arrival block. Checked
    against ``record_requests=True`` on the M/M/c workload, and by the fixed-unit run on the
    large workload against the loop, so a drift in the engine shows up as a mismatch.
    """
    arrival_ss, service_ss = np.random.SeedSequence(seed).spawn(2)
    arrival_rng = np.random.default_rng(arrival_ss)
    service_rng = np.random.default_rng(service_ss)
    arrivals, services = [], []
    for block in trace.blocks(arrival_rng, trace.duration_s):
        arrivals.append(block)
        services.append(service_rng.exponential(unit.latency_mean_s, len(block)))
    return np.concatenate(arrivals), np.concatenate(services)


def time_draws(trace, unit, seed: int, repeats: int) -> dict[str, float]:
    """Best wall seconds to draw a run's requests as the engine does, block by block.

    ``requests``: arrivals and the unit's service times (:func:`traffic_blocks`);
    ``arrivals``: the arrival times alone, from the same stream; ``lognormal``: arrivals
    with lognormal service times of the same mean (the default distribution).
    """
    lognormal = type(unit).model_validate(
        {**unit.model_dump(), "latency_distribution": "lognormal"}
    )

    def drain(blocks) -> None:
        for _ in blocks:
            pass

    def arrivals_only() -> None:
        drain(trace.blocks(run_streams(seed)[0], trace.duration_s))

    return {
        "requests": best_of(
            repeats, lambda: drain(traffic_blocks(trace, unit, seed, trace.duration_s))
        )[0],
        "arrivals": best_of(repeats, arrivals_only)[0],
        "lognormal": best_of(
            repeats, lambda: drain(traffic_blocks(trace, lognormal, seed, trace.duration_s))
        )[0],
    }


def best_cpu(repeats: int, fn) -> float:
    """Least CPU seconds of this process (all its threads) over ``repeats`` calls."""
    best = math.inf
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


@contextlib.contextmanager
def drawing_in_line():
    """The fast path draws each block when it needs it, on its own thread."""
    saved = lfvsim.engine.fast.prefetched
    lfvsim.engine.fast.prefetched = lambda blocks: blocks
    try:
        yield
    finally:
        lfvsim.engine.fast.prefetched = saved


def mrps(requests: int, seconds: float) -> str:
    return f"{requests / seconds / 1e6:.3f}"


def ratio(x: float) -> str:
    if not math.isfinite(x):
        return ""  # no SimPy reference in this run (--only)
    return f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def speed_row(
    workload: str,
    model: str,
    n: int,
    seconds: float,
    simpy_rps: float,
    ceiling_s: float | None = None,
) -> list[str]:
    """One row of the throughput table; ``ceiling_s`` is the loop's time on the same arrays."""
    return [
        workload,
        model,
        f"{n:,}",
        f"{seconds:.4f}" if seconds < 0.1 else f"{seconds:.3f}",
        mrps(n, seconds),
        ratio(n / seconds / simpy_rps),
        "" if ceiling_s is None else f"{100 * ceiling_s / seconds:.0f}%",
    ]


class Checks:
    """Statistics that must agree; any failure makes the exit status 1."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.rows.append((name, bool(ok), detail))
        if not ok:
            print(f"  MISMATCH: {name}: {detail}", flush=True)

    @property
    def failed(self) -> int:
        return sum(not ok for _, ok, _ in self.rows)


# --- 1. M/M/c: engine, SimPy reference and loop, request by request ----------------------


def bench_mmc(sizes: Sizes, checks: Checks, speed: list[list[str]]) -> dict[str, float]:
    slots = sizes.mmc_units * UNIT["slots"]
    minutes = math.ceil(sizes.mmc_requests / sizes.mmc_rate_tps / 60.0)
    trace = RateTrace(START, 60.0, np.full(minutes, sizes.mmc_rate_tps), source="M/M/c")
    scenario = lfvsim.Scenario.model_validate(fixed_units(sizes.mmc_units))
    seed = 7
    offered = sizes.mmc_rate_tps * UNIT["latency_mean_s"]
    say(
        f"\n[1] M/M/c loss system: Poisson {sizes.mmc_rate_tps:g} TPS for {minutes} min, "
        f"exponential service {UNIT['latency_mean_s']:g} s, {sizes.mmc_units} units x "
        f"{UNIT['slots']} = {slots} slots, throttle when all are busy "
        f"(offered load {offered:.2f} erlangs)"
    )

    recorded = lfvsim.simulate(scenario, trace=trace, seed=seed, record_requests=True)
    req = recorded.requests
    arrivals = req["arrival_s"].to_numpy()
    services = req["service_s"].to_numpy()
    eng_throttled = req["throttled"].to_numpy()
    eng_start = req["start_s"].to_numpy()
    n = len(arrivals)

    mirror_a, mirror_s = engine_arrays(trace, scenario.unit, seed)
    checks.add(
        "benchmark draws the engine's arrays",
        np.array_equal(mirror_a, arrivals) and np.array_equal(mirror_s, services),
        f"{n:,} arrival and service times",
    )

    t_ref, refs = best_of(
        sizes.simpy_repeats, lambda: simulate_reference(arrivals, services, slots, queue_limit=0)
    )
    ref = refs[-1]
    t_eng, runs = best_of(
        max(sizes.repeats, 5), lambda: lfvsim.simulate(scenario, trace=trace, seed=seed)
    )
    summary = runs[-1].summary
    loss_loop(arrivals[:10], services[:10], slots)  # compile outside the timing
    t_loop, loops = best_of(max(sizes.repeats, 5), lambda: loss_loop(arrivals, services, slots))
    loop_flags = np.zeros(n, dtype=np.bool_)
    loss_loop_flags(arrivals, services, slots, loop_flags)

    flag_diff = int((eng_throttled != ref.throttled).sum())
    same_nan = np.array_equal(np.isnan(eng_start), np.isnan(ref.start_s))
    served = ~ref.throttled
    start_diff = float(np.max(np.abs(eng_start[served] - ref.start_s[served]), initial=0.0))
    checks.add("engine vs SimPy: throttled flags", flag_diff == 0, f"{flag_diff} of {n:,} differ")
    checks.add(
        "engine vs SimPy: start times",
        same_nan and start_diff <= 1e-9,
        f"max |difference| {start_diff:.3g} s over {int(served.sum()):,} served",
    )
    loop_diff = int((loop_flags != ref.throttled).sum())
    checks.add("numba loop vs SimPy: throttled flags", loop_diff == 0, f"{loop_diff} differ")
    checks.add(
        "engine summary vs recorded run",
        summary.requests == n and summary.throttled == int(ref.throttled.sum()),
        f"requests {summary.requests:,} / {n:,}, throttled {summary.throttled:,} / "
        f"{int(ref.throttled.sum()):,}",
    )
    checks.add(
        "numba loop (count) vs SimPy",
        loops[-1] == int(ref.throttled.sum()),
        f"{loops[-1]:,} vs {int(ref.throttled.sum()):,} throttled",
    )
    ref_latency = ref.start_s[served] - arrivals[served] + services[served]
    mean_latency = float(ref_latency.mean()) if served.any() else math.nan
    checks.add(
        "engine mean latency vs SimPy",
        math.isclose(summary.latency_mean_s, mean_latency, rel_tol=1e-9),
        f"{summary.latency_mean_s:.9f} vs {mean_latency:.9f} s",
    )
    # Erlang B, with a batch-means standard error (throttling comes in bursts).
    theory = erlang_b(slots, offered)
    batches = np.array_split(ref.throttled, 20)
    rate = float(ref.throttled.mean())
    se = float(np.std([b.mean() for b in batches], ddof=1) / math.sqrt(len(batches)))
    z = (rate - theory) / se if se > 0 else math.inf
    checks.add(
        "blocking vs Erlang B",
        abs(z) <= 4.0,
        f"{rate:.5f} simulated vs {theory:.5f} theory, z = {z:+.2f} (batch means, |z| <= 4)",
    )

    stats = [
        ["requests", f"{n:,}", f"{n:,}", f"{n:,}", ""],
        [
            "throttled",
            f"{summary.throttled:,}",
            f"{int(ref.throttled.sum()):,}",
            f"{loops[-1]:,}",
            "",
        ],
        [
            "throttle rate",
            f"{summary.throttle_rate:.5f}",
            f"{rate:.5f}",
            f"{loops[-1] / n:.5f}",
            f"{theory:.5f} (+/- {1.96 * se:.5f} sim. 95%)",
        ],
        [
            "mean latency of served (s)",
            f"{summary.latency_mean_s:.6f}",
            f"{mean_latency:.6f}",
            "",
            f"{UNIT['latency_mean_s']:.6f}",
        ],
        ["throttled flags differing from SimPy", str(flag_diff), "-", str(loop_diff), ""],
        ["max |start time - SimPy| (s)", f"{start_diff:.3g}", "-", "", ""],
    ]
    say(
        table(
            ["statistic", "engine", "SimPy ref", "numba loop", "Erlang B"], stats, right={1, 2, 3}
        )
    )

    simpy_rps = n / t_ref
    workload = f"M/M/c, {slots} slots"
    speed.append(speed_row(workload, "SimPy, one process per request", n, t_ref, simpy_rps))
    speed.append(speed_row(workload, "engine, fixed units", n, t_eng, simpy_rps, t_loop))
    speed.append(speed_row(workload, "numba loss loop (ceiling)", n, t_loop, simpy_rps, t_loop))
    return {"simpy_rps": simpy_rps, "mmc_engine_rps": n / t_eng}


# --- 2. a large trace with target tracking -----------------------------------------------


def bench_large(sizes: Sizes, checks: Checks, speed: list[list[str]], simpy_rps: float) -> dict:
    counts = np.random.default_rng(2026).poisson(LARGE_TPS * 60, sizes.large_days * 1440)
    trace = CountTrace(START, 60.0, counts.astype(np.int64), source="bench")
    expected = int(counts.sum())
    seed = 11
    say(
        f"\n[2] {sizes.large_days} d at {LARGE_TPS:g} TPS as per-minute counts "
        f"({expected:,} requests); target tracking Min 1 Max 12"
    )
    scenario = lfvsim.Scenario.model_validate(AUTOSCALED)
    # At least two runs: the second must repeat the first exactly.
    repeats = max(sizes.repeats, 2)
    t_tt, runs = best_of(repeats, lambda: lfvsim.simulate(scenario, trace=trace, seed=seed))
    s = runs[-1].summary
    same = all(r.summary.to_dict() == s.to_dict() for r in runs)
    checks.add("same seed, same summary", same, f"{len(runs)} repeats of the autoscaled run")
    checks.add(
        "every request counted once (autoscaled)",
        s.requests == expected and s.served + s.throttled == s.requests,
        f"requests {s.requests:,} of {expected:,}; served + throttled = {s.served + s.throttled:,}",
    )
    checks.add(
        "units scale",
        s.peak_units > 1 and s.scale_out_events > 0 and s.scale_in_events > 0,
        f"peak {s.peak_units} units, {s.scale_out_events} scale-outs, "
        f"{s.scale_in_events} scale-ins",
    )
    say(
        f"    autoscaled run: throttle rate {s.throttle_rate:.5f}, {s.unit_hours:,.1f} unit-h, "
        f"mean {s.mean_units:.2f} units, peak {s.peak_units}, {s.scale_out_events} scale-outs, "
        f"{s.scale_in_events} scale-ins"
    )

    arrivals, services = engine_arrays(trace, scenario.unit, seed)
    fixed = lfvsim.Scenario.model_validate(fixed_units(sizes.fixed_units))
    t_fixed, fixed_runs = best_of(
        sizes.repeats, lambda: lfvsim.simulate(fixed, trace=trace, seed=seed)
    )
    fixed_slots = sizes.fixed_units * UNIT["slots"]
    # The ceiling for the autoscaled run uses the run's mean capacity (rounded up).
    tt_slots = UNIT["slots"] * math.ceil(s.mean_units)
    loss_loop(arrivals[:10], services[:10], tt_slots)
    t_loop_tt, tt_loops = best_of(sizes.repeats, lambda: loss_loop(arrivals, services, tt_slots))
    # The floor takes the fastest bare loop of every slot structure (bare_loops.py); the
    # binary heap that branches (loss_loop) was the floor before, reported too.
    bare_s: dict[str, float] = {}
    no_units = np.empty(0, np.int64)
    no_took = np.empty(0, np.int32)
    for name, loop in bare_loops.LOOPS.items():
        loop(arrivals[:10], services[:10], tt_slots, no_units, no_took)
        bare_s[name], counted = best_of(
            sizes.repeats, lambda loop=loop: loop(arrivals, services, tt_slots, no_units, no_took)
        )
        checks.add(
            f"bare loop ({name}) vs loss_loop, {tt_slots} slots",
            counted[-1] == tt_loops[-1],
            f"throttled {counted[-1]:,} vs {tt_loops[-1]:,}",
        )
    best_loop = min(bare_s, key=bare_s.__getitem__)
    t_best_loop = bare_s[best_loop]
    t_loop_fixed, loops = best_of(sizes.repeats, lambda: loss_loop(arrivals, services, fixed_slots))
    fs = fixed_runs[-1].summary
    checks.add(
        f"engine ({sizes.fixed_units} fixed units) vs numba loop, {len(arrivals):,} requests",
        fs.requests == len(arrivals) and fs.throttled == loops[-1],
        f"throttled {fs.throttled:,} vs {loops[-1]:,}",
    )

    # The summary-only fast path on the same run, against the floor of drawing the requests
    # plus the bare loop on them (both part of a run's time, as in simulate). The fast path
    # draws the next block on a second thread while it serves one; it is also timed drawing
    # in line, one thread, as it did before.
    def fast() -> lfvsim.Summary:
        return simulate_summary(scenario, trace, seed, engine="fast").summary

    t_fast, fast_runs = best_of(repeats, fast)
    cpu_fast = best_cpu(repeats, fast)
    with drawing_in_line():
        t_inline, inline_runs = best_of(repeats, fast)
    checks.add(
        "fast path drawing ahead = drawing in line",
        fast_runs[-1] == inline_runs[-1],
        "every summary field",
    )
    t_ref, ref_runs = best_of(
        repeats, lambda: simulate_summary(scenario, trace, seed, engine="simpy")
    )
    fast_same = fast_runs[-1].to_dict() == ref_runs[-1].summary.to_dict() == s.to_dict()
    checks.add("fast path summary = SimPy summary", fast_same, "every field, autoscaled run")
    draws = time_draws(trace, scenario.unit, seed, repeats)
    t_draw = draws["requests"]
    floor_s = t_draw + t_best_loop
    # Drawing on one core while the loop runs on the other: the slower of the two.
    overlapped_floor_s = max(t_draw, t_best_loop)
    old_floor_s = t_draw + t_loop_tt

    n = s.requests
    label = f"{sizes.large_days} d @ {LARGE_TPS:g} TPS"
    model = "engine, target tracking 1..12"
    speed.append(speed_row(label, model, n, t_tt, simpy_rps, t_loop_tt))
    model = "fast path (summary only), same run"
    speed.append(speed_row(label, model, n, t_fast, simpy_rps, floor_s))
    model = "fast path drawing in line (one thread), same run"
    speed.append(speed_row(label, model, n, t_inline, simpy_rps, floor_s))
    model = "SimPy path (summary only), same run"
    speed.append(speed_row(label, model, n, t_ref, simpy_rps, floor_s))
    model = f"floor: draw requests + fastest bare loop ({best_loop})"
    speed.append(speed_row(label, model, n, floor_s, simpy_rps, floor_s))
    model = "old floor: draw requests + binary heap loop, branching"
    speed.append(speed_row(label, model, n, old_floor_s, simpy_rps, floor_s))
    model = "draw requests alone (arrivals + services)"
    speed.append(speed_row(label, model, n, t_draw, simpy_rps))
    model = f"numba loss loop, {tt_slots} slots (ceiling)"
    speed.append(speed_row(label, model, n, t_loop_tt, simpy_rps, t_loop_tt))
    for name, seconds in bare_s.items():
        model = f"bare loop, {tt_slots} slots: {name}"
        speed.append(speed_row(label, model, n, seconds, simpy_rps, t_best_loop))
    model = f"engine, {sizes.fixed_units} fixed units"
    speed.append(speed_row(label, model, n, t_fixed, simpy_rps, t_loop_fixed))
    model = f"numba loss loop, {fixed_slots} slots (ceiling)"
    speed.append(speed_row(label, model, n, t_loop_fixed, simpy_rps, t_loop_fixed))
    ns = {key: 1e9 * t / n for key, t in draws.items()}
    say(
        f"    drawing the requests (the engine's own code, block by block): "
        f"{ns['requests']:.1f} ns/request = arrivals {ns['arrivals']:.1f} + exponential "
        f"service times {ns['requests'] - ns['arrivals']:.1f}; with lognormal service times "
        f"(the default distribution) {ns['lognormal']:.1f} ns/request; the bare loop "
        f"{1e9 * t_loop_tt / n:.1f} ns/request, the fastest bare loop ({best_loop}) "
        f"{1e9 * t_best_loop / n:.1f} ns/request"
    )
    return {
        "engine_rps": n / t_tt,
        "ceiling_rps": n / t_loop_tt,
        "best_loop": best_loop,
        "best_loop_rps": n / t_best_loop,
        "floor_rps": n / floor_s,
        "old_floor_rps": n / old_floor_s,
        "fast_pct_old_floor": 100 * old_floor_s / t_fast,
        "draw_ns": ns["requests"],
        "engine_pct_ceiling": 100 * t_loop_tt / t_tt,
        "fast_rps": n / t_fast,
        "fast_cpu_ns": 1e9 * cpu_fast / n,
        "inline_rps": n / t_inline,
        "overlapped_floor_rps": n / overlapped_floor_s,
        "fast_pct_floor": 100 * floor_s / t_fast,
        "inline_pct_floor": 100 * floor_s / t_inline,
        "fast_pct_overlapped_floor": 100 * overlapped_floor_s / t_fast,
        "fast_vs_simpy": t_ref / t_fast,
    }


# --- 3. the WorldCup98 trace -------------------------------------------------------------


def bench_worldcup(
    path: Path, sizes: Sizes, checks: Checks, speed: list[list[str]], simpy_rps: float
) -> None:
    say(f"\n[3] WorldCup98 trace x0.01, target tracking Min 1 Max 12 ({path})")
    if not path.is_file():
        say(f"    skipped: {path} does not exist")
        return
    t0 = time.perf_counter()
    trace = lfvsim.read_csv_trace(path, scale=0.01)
    t_read = time.perf_counter() - t0
    scenario = lfvsim.Scenario.model_validate(AUTOSCALED)
    t_sim, runs = best_of(sizes.repeats, lambda: lfvsim.simulate(scenario, trace=trace, seed=5))
    s = runs[-1].summary
    checks.add(
        "every request counted once (WorldCup98)",
        s.served + s.throttled == s.requests,
        f"served {s.served:,} + throttled {s.throttled:,} = {s.requests:,}",
    )
    say(
        f"    read {t_read:.2f} s; {s.duration_h:g} h, {s.requests:,} requests, throttle rate "
        f"{s.throttle_rate:.5f}, {s.unit_hours:,.1f} unit-h, peak {s.peak_units} units, "
        f"{s.scale_out_events} scale-outs, {s.scale_in_events} scale-ins"
    )
    model = "engine, target tracking 1..12"
    speed.append(speed_row("WorldCup98 x0.01, 48 h", model, s.requests, t_sim, simpy_rps))


# --- 4. memory in fresh subprocesses -------------------------------------------------------

CHILD = r"""
import gc, json, resource, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd, lfvsim
from lfvsim.traces import CountTrace

def status_mib(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None

args = json.loads(sys.argv[1])
scenario = lfvsim.Scenario.model_validate(args["scenario"])
start = pd.Timestamp("2026-01-05", tz="UTC")
lfvsim.simulate(scenario, trace=CountTrace(start, 60.0, np.full(5, 60, np.int64)), seed=1)
rng = np.random.default_rng(args["seed"])
counts = rng.poisson(args["tps"] * 60, args["days"] * 1440).astype(np.int64)
gc.collect()
kib = 1024.0 if sys.platform == "darwin" else 1.0

def peak_mib():
    # VmHWM, not ru_maxrss: a child that subprocess starts with vfork inherits the parent's
    # RSS in ru_maxrss (exec accounts the parent's address space to the child).
    hwm = status_mib("VmHWM")
    if hwm is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib / 1024.0
    return hwm

out = {"startup_s": time.perf_counter() - t0, "startup_peak_mib": peak_mib(),
       "rss_before_mib": status_mib("VmRSS")}
# Reset the high-water mark to the current RSS (Linux >= 4.0), so the simulation's own peak
# is visible even when it stays below the peak of importing and loading kernels.
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    reset = True
except OSError:
    reset = False
if args["days"]:
    t1 = time.perf_counter()
    s = lfvsim.simulate(scenario, trace=CountTrace(start, 60.0, counts), seed=args["seed"]).summary
    out.update(sim_s=time.perf_counter() - t1, requests=s.requests, expected=int(counts.sum()),
               counted=s.served + s.throttled, peak_units=s.peak_units)
out["sim_hwm_mib"] = peak_mib()
out["peak_mib"] = max(out["startup_peak_mib"], out["sim_hwm_mib"])
out["hwm_reset"] = reset
out["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib / 1024.0
print(json.dumps(out))
"""


def run_child(days: int) -> dict[str, Any]:
    """Run ``days`` of per-minute counts (0: only import and load kernels) in a fresh
    Python and return its timings and memory figures (MiB)."""
    args = json.dumps({"scenario": AUTOSCALED, "days": days, "tps": LARGE_TPS, "seed": 13})
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child ({days} d) failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # Without the reset (not Linux), the high-water mark may be the start-up's.
    before = out["rss_before_mib"] or 0.0
    out["share_mib"] = max(0.0, out["sim_hwm_mib"] - before) if out["hwm_reset"] else math.nan
    return out


def bench_memory(sizes: Sizes, checks: Checks, speed: list[list[str]], simpy_rps: float) -> dict:
    say(
        f"\n[4] Memory of fresh subprocesses, per-minute counts at {LARGE_TPS:g} TPS, target "
        "tracking Min 1 Max 12.\n    peak RSS = the child's high-water mark (VmHWM) over its "
        "whole life; sim. share = high-water mark during simulate() minus the RSS just before it"
    )
    base = run_child(0)
    rows = [
        [
            "import lfvsim + load kernels",
            "-",
            "-",
            "-",
            f"{base['rss_before_mib']:.0f}",
            "-",
            f"{base['peak_mib']:.0f}",
        ]
    ]
    runs = {}
    for days in sizes.memory_days:
        out = run_child(days)
        runs[days] = out
        checks.add(
            f"every request counted once ({days} d subprocess)",
            out["requests"] == out["expected"] and out["counted"] == out["requests"],
            f"requests {out['requests']:,} of {out['expected']:,}",
        )
        rows.append(
            [
                f"{days} d trace",
                f"{out['requests']:,}",
                f"{out['sim_s']:.2f}",
                mrps(out["requests"], out["sim_s"]),
                f"{out['rss_before_mib']:.0f}",
                f"{out['share_mib']:.0f}",
                f"{out['peak_mib']:.0f}",
            ]
        )
    say(
        table(
            [
                "child",
                "requests",
                "sim s",
                "M req/s",
                "RSS before MiB",
                "sim. share MiB",
                "peak RSS MiB",
            ],
            rows,
        )
    )
    days = sizes.memory_days
    big = runs[days[-1]]
    per_day = (big["share_mib"] - runs[days[0]]["share_mib"]) / (days[-1] - days[0])
    year = big["rss_before_mib"] + big["share_mib"] + (365 - days[-1]) * per_day
    say(
        f"    simulation share grows {per_day:.1f} MiB per simulated day between {days[0]} d "
        f"and {days[-1]} d; linear extrapolation to a 365 d trace: ~{year:,.0f} MiB peak"
    )
    label = f"{days[-1]} d @ {LARGE_TPS:g} TPS (subprocess, 1 run)"
    model = "engine, target tracking 1..12"
    speed.append(speed_row(label, model, big["requests"], big["sim_s"], simpy_rps))
    return {
        "days": days[-1],
        "peak_mib": big["peak_mib"],
        "base_mib": base["peak_mib"],
        "share_mib": big["share_mib"],
        "per_day_mib": per_day,
        "year_mib": year,
    }


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one smoke pass")
    parser.add_argument("--repeats", type=int, help="repeats per timing (best is kept)")
    parser.add_argument("--worldcup", type=Path, default=WORLDCUP, help="WorldCup98 CSV")
    parser.add_argument(
        "--only",
        choices=["large"],
        help="run only part 2, the autoscaled run with the fast path, the floor and the "
        "draws (e.g. to compare two checkouts in turn); no SimPy ratios",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.repeats:
        sizes = dataclasses.replace(sizes, repeats=args.repeats, simpy_repeats=args.repeats)

    info = machine_info(["numpy", "numba", "simpy", "pandas"])
    say(f"lfvsim engine benchmark ({'quick' if args.quick else 'full'}), {info['date']}")
    say(f"machine:  {info['cpu']}")
    say(f"software: {info['software']}")
    say(f"os:       {info['os']}")
    say("timings: wall clock, best of a few repeats, one thread; ratios are against references")
    say("measured in this run on the same arrays.")

    t0 = time.perf_counter()
    tiny = CountTrace(START, 60.0, np.full(5, 60, np.int64))
    lfvsim.simulate(lfvsim.Scenario.model_validate(AUTOSCALED), trace=tiny, seed=1)
    lfvsim.simulate(lfvsim.Scenario.model_validate(fixed_units(1)), trace=tiny, seed=1)
    say(f"warm-up (numba kernels compiled or loaded from cache): {time.perf_counter() - t0:.2f} s")

    started = time.perf_counter()
    checks = Checks()
    speed: list[list[str]] = []
    everything = args.only is None
    mmc = bench_mmc(sizes, checks, speed) if everything else {"simpy_rps": math.nan}
    large = bench_large(sizes, checks, speed, mmc["simpy_rps"])
    memory = None
    if everything:
        bench_worldcup(args.worldcup, sizes, checks, speed, mmc["simpy_rps"])
        memory = bench_memory(sizes, checks, speed, mmc["simpy_rps"])

    say("\nThroughput (simulated requests per second of wall time)")
    say(
        table(
            ["workload", "model", "requests", "best s", "M req/s", "vs SimPy", "of ceiling"],
            speed,
            right={2, 3, 4, 5, 6},
        )
    )

    say("\nTargets (reported, not enforced)")
    met = {True: "met", False: "NOT MET"}
    engine_rps = large["engine_rps"]
    targets = [
        [
            "engine, target tracking >= 5 M req/s",
            f"{engine_rps / 1e6:.2f} M req/s",
            met[engine_rps >= TARGET_ENGINE_RPS],
        ],
        ["engine / numba loss loop", f"{large['engine_pct_ceiling']:.0f}%", "(report only)"],
        [
            "fast path, target tracking >= 25 M req/s",
            f"{large['fast_rps'] / 1e6:.2f} M req/s",
            met[large["fast_rps"] >= TARGET_FAST_RPS],
        ],
        [
            "  CPU time of the fast path (both threads)",
            f"{large['fast_cpu_ns']:.1f} ns/request",
            "(report only)",
        ],
        [
            "  fast path drawing in line (one thread)",
            f"{large['inline_rps'] / 1e6:.2f} M req/s",
            "(report only)",
        ],
        [
            "  floor: draws + fastest bare loop, one after the other",
            f"{large['floor_rps'] / 1e6:.2f} M req/s",
            "(report only)",
        ],
        [
            f"  fastest bare loop alone ({large['best_loop']})",
            f"{large['best_loop_rps'] / 1e6:.2f} M req/s",
            "(report only)",
        ],
        [
            "  old floor: draws + binary heap loop, branching",
            f"{large['old_floor_rps'] / 1e6:.2f} M req/s",
            "(report only)",
        ],
        [
            "  binary heap loop, branching, alone",
            f"{large['ceiling_rps'] / 1e6:.2f} M req/s",
            "(report only)",
        ],
        [
            "  drawing the requests",
            f"{large['draw_ns']:.1f} ns/request",
            "(report only)",
        ],
        [
            "fast path >= 60% of floor (draws + fastest loop)",
            f"{large['fast_pct_floor']:.0f}%",
            met[large["fast_pct_floor"] >= 60],
        ],
        [
            "  fast path drawing in line / floor",
            f"{large['inline_pct_floor']:.0f}%",
            "(report only)",
        ],
        [
            "  fast path / overlapped floor (the slower of draws and loop)",
            f"{large['fast_pct_overlapped_floor']:.0f}%",
            "(report only)",
        ],
        [
            "  fast path / old floor",
            f"{large['fast_pct_old_floor']:.0f}%",
            "(report only)",
        ],
        ["fast path vs SimPy path, same run", ratio(large["fast_vs_simpy"]), "(report only)"],
    ]
    if everything:
        targets.insert(
            1,
            [
                "engine vs SimPy model (~60x expected)",
                ratio(engine_rps / mmc["simpy_rps"]),
                met[engine_rps / mmc["simpy_rps"] >= 60],
            ],
        )
    if memory is not None:
        targets += [
            [
                f"{memory['days']} d trace peak RSS < 1 GiB",
                f"{memory['peak_mib']:.0f} MiB",
                met[memory["peak_mib"] < TARGET_PEAK_MIB],
            ],
            [
                f"  of which simulate() itself ({memory['per_day_mib']:.1f} MiB per day)",
                f"{memory['share_mib']:.0f} MiB",
                "(report only)",
            ],
        ]
    if args.quick:
        targets.append(["(quick run: small sizes, targets are indicative)", "", ""])
    say(table(["target", "measured", "status"], targets, right={1}))

    say("\nCorrectness checks")
    say(
        table(
            ["check", "result", "detail"],
            [[name, "ok" if ok else "MISMATCH", detail] for name, ok, detail in checks.rows],
            right=set(),
        )
    )
    say(f"\ndone in {time.perf_counter() - started:.0f} s; {checks.failed} mismatches")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
