"""Benchmark of calibration: 14 days of per-minute history, wall time of `lfvsim calibrate`.

Run ``.venv/bin/python benchmarks/bench_calibrate.py [--quick] [--days N]``
(``make bench-calibrate``).

1. Writes a scenario with bursty diurnal traffic (spikes, noise) and parameters away from
   the defaults, and makes its history with ``lfvsim run SCENARIO --cloudwatch-json`` (14
   days of per-minute metrics; ``--quick``: 2 days), in a temporary directory deleted at
   the end.
2. Times, each in a fresh process: ``lfvsim calibrate`` on that export (reading it,
   every direct estimator, writing the calibrated scenario), and ``lfvsim backtest`` of the
   calibrated scenario on the same history; wall and CPU seconds (CPU: all threads).
3. Checks the calibrated values against the known ones (integers exactly, the rest within
   10 %, each inside its interval).
4. Times, in this process, the slots estimate's Erlang loss likelihood over every candidate
   slot count two ways: one recursion over servers per candidate (as before), and the one
   shared recursion ``erlang_b_by_slots``; the likelihoods must be identical (exit status 1
   otherwise).

The target (calibration under 2 minutes for 14 days) is printed as met / NOT MET and never
changes the exit status; the exit status is 1 only when a known parameter does not come
back. Do not assert timings in unit tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LFVSIM = [sys.executable, "-m", "lfvsim.cli"]
TARGET_S = 120.0
#: Known parameters of the history (the rest stay at the defaults).
TRUE = {
    "autoscaler.target_percent": 60.0,
    "autoscaler.scale_out_datapoints": 2,
    "autoscaler.provisioning_delay_s": 240.0,
    "unit.slots": 3,
}
WHOLE = {"autoscaler.scale_out_datapoints", "unit.slots"}
SCENARIO = """\
[model]
project = "line-7"
min_units = 1
max_units = 16
[unit]
slots = 3
[autoscaler]
target_percent = 60.0
scale_out_datapoints = 2
provisioning_delay_s = 240.0
[traffic]
kind = "diurnal"
mean_tps = 10.0
peak_to_trough = 5.0
peak_hour_utc = 14
noise_cv = 0.3
spikes_per_day = 12
spike_multiplier = 2.0
spike_duration_s = 900
duration_h = {hours}
[simulation]
seed = 3
"""
#: What the calibration starts from: the same model and traffic, default unit and rule.
ASSUMED = """\
[model]
project = "line-7"
min_units = 1
max_units = 16
[traffic]
kind = "constant"
rate_tps = 1.0
duration_h = 1
"""


def header() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}; {cpu}, {os.cpu_count()} logical CPUs, "
        f"load average {load}; Python {platform.python_version()}"
    )


def children_cpu_s() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(label: str, args: list[str]) -> tuple[str, float]:
    """Run one lfvsim command in a fresh process; its stdout and wall seconds, printed
    with its CPU seconds (all threads: more than the wall time when it used both cores,
    and steadier than the wall time on a shared machine)."""
    wall0, cpu0 = time.perf_counter(), children_cpu_s()
    done = subprocess.run([*LFVSIM, *args], capture_output=True, text=True, cwd=ROOT)
    wall_s, cpu_s = time.perf_counter() - wall0, children_cpu_s() - cpu0
    if done.returncode != 0:
        sys.exit(f"{label} failed ({done.returncode}): {done.stderr.strip()}")
    print(f"  {label:<52} {wall_s:8.1f} s wall {cpu_s:8.1f} s CPU", flush=True)
    return done.stdout, wall_s


def check(estimates: list[dict]) -> list[str]:
    """The known parameters that did not come back, each with why."""
    by_name = {e["parameter"]: e for e in estimates}
    wrong = []
    for name, truth in TRUE.items():
        e = by_name.get(name)
        if e is None or not e["informed"]:
            wrong.append(f"{name}: not informed")
            continue
        close = e["value"] == truth if name in WHOLE else abs(e["value"] - truth) <= 0.1 * truth
        if not (close and e["low"] <= truth <= e["high"]):
            wrong.append(f"{name}: {e['value']:g} ({e['low']:g}-{e['high']:g}), true {truth:g}")
    return wrong


def slots_likelihood_timing(export: Path) -> tuple[float, float, bool]:
    """Seconds of the per-candidate and of the shared Erlang recursion, and whether the
    log-likelihoods of every slot count are identical."""
    import numpy as np

    from lfvsim.experiments import calibrate_capacity as cc
    from lfvsim.scenario import Unit
    from lfvsim.traces.metric_history import read_metric_history

    frame = read_metric_history([str(export)]).frame
    served = frame["SuccessfulRequestCount"].to_numpy(float)
    throttled = frame["ThrottledCount"].to_numpy(float)
    units = frame["InServiceInferenceUnits"].to_numpy(float)
    keep = (units >= 1) & (units == np.round(units)) & (served + throttled > 0)
    served, throttled, units = served[keep], throttled[keep], units[keep]
    erlangs = (served + throttled) / 60.0 * Unit().latency_mean_s

    def loglik(blocked: np.ndarray) -> float:
        b = np.clip(blocked, 1e-12, 1 - 1e-12)
        return float((throttled * np.log(b) + served * np.log1p(-b)).sum())

    t0 = time.perf_counter()
    before = [loglik(cc.erlang_b(c * units, erlangs)) for c in range(1, cc.MAX_SLOTS + 1)]
    before_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = cc.erlang_b_by_slots(units.astype(np.int64), erlangs, cc.MAX_SLOTS)
    after = [loglik(row) for row in table]
    after_s = time.perf_counter() - t0
    return before_s, after_s, before == after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 days instead of 14")
    parser.add_argument("--days", type=int, default=None, help="days of history")
    args = parser.parse_args()
    days = args.days or (2 if args.quick else 14)
    print(header())
    print(f"calibrating {days} days of per-minute history ({days * 1440:,} minutes)")
    with tempfile.TemporaryDirectory(prefix="lfvsim-bench-calibrate-") as tmp:
        folder = Path(tmp)
        made_by, assumed = folder / "made_by.toml", folder / "assumed.toml"
        made_by.write_text(SCENARIO.format(hours=24 * days))
        assumed.write_text(ASSUMED)
        export, calibrated = folder / "history.json", folder / "calibrated.toml"
        timed("make the history: run --cloudwatch-json", [
            "run", str(made_by), "--cloudwatch-json", str(export)
        ])  # fmt: skip
        print(f"  export: {export.stat().st_size / 2**20:.1f} MiB")
        out, calibrate_s = timed("lfvsim calibrate (read, estimate, write)", [
            "calibrate", str(assumed), "--cloudwatch", str(export), "-o", str(calibrated),
            "--json",
        ])  # fmt: skip
        estimates = json.loads(out)["estimates"]
        bt_out, _ = timed("lfvsim backtest of the calibrated scenario", [
            "backtest", str(calibrated), "--cloudwatch", str(export), "--json"
        ])  # fmt: skip
        bt = json.loads(bt_out)
        before_s, after_s, same = slots_likelihood_timing(export)
    from lfvsim.experiments.calibrate_capacity import MAX_SLOTS

    print(
        f"  slots likelihood over {MAX_SLOTS} counts: one recursion per count {before_s:.2f} s, "
        f"one shared recursion {after_s:.2f} s ({before_s / after_s:.1f}x); "
        f"identical: {same}"
    )
    for e in estimates:
        shown = f"{e['value']:g} ({e['low']:g}-{e['high']:g})" if e["informed"] else "not informed"
        print(f"    {e['parameter']:<36} {shown}{'  weak' if e.get('weak') else ''}")
    print(
        f"  backtest: unit-hours {100 * bt['unit_hours_relative_error']:+.2f}%, units in "
        f"service equal in {100 * bt['in_service_equal_share']:.1f}% of minutes (one "
        f"replay), within the range of {bt['replications']} replays in "
        f"{100 * bt['in_service_within_replays_share']:.1f}%, flags: {bt['flags'] or 'none'}"
    )
    verdict = "met" if calibrate_s < TARGET_S else "NOT MET"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"target: calibrate under {TARGET_S:.0f} s: {verdict} ({calibrate_s:.1f} s; load "
        f"average now {load})"
    )
    wrong = check(estimates)
    if not same:
        wrong.append("the shared Erlang recursion's likelihoods differ from per-count ones")
    for w in wrong:
        print(f"WRONG: {w}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
