"""Benchmark: calibrating 14 days of per-minute history with both structures of throttling.

Run ``.venv/bin/python benchmarks/bench_calibrate_structure.py [--days N]``.

For each structure (the rate model, then slots) a history of ``--days`` days is made by
``lfvsim.engine.simulate`` on bursty diurnal traffic (about 6 requests/s, Min 1, Max 8) and
exported as ``run --cloudwatch-json`` would; then it is read back and calibrated from a
scenario with the default assumptions. Printed: wall time of the read, of the whole
calibration and of the token bucket's fit alone (with its replays), the structure chosen
and its AIC difference, and the unit's fitted values against the truth. Target: the whole
calibration under 2 minutes on a 2-core machine. Timings are single runs on shared
machines: read them as an order of magnitude.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tomllib
from pathlib import Path

from lfvsim.engine import Result, simulate
from lfvsim.experiments.calibrate_rate import fit_bucket, replay_of
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_export import metric_data_export
from lfvsim.traces.metric_history import read_metric_history

SCENARIO = """\
[model]
project = "line-7"
min_units = 1
max_units = 8
[unit]
throttling = "{throttling}"
rate_tps = 3.0
burst = 10.0
"""
# Bursty diurnal traffic of about 6 requests/s, shared with bench_calibrate_burst.py.
TRAFFIC = """\
[traffic]
kind = "diurnal"
mean_tps = 5.0
peak_to_trough = 5.0
peak_hour_utc = 6
noise_cv = 0.3
spikes_per_day = 12
spike_multiplier = 2.0
spike_duration_s = 900
duration_h = {hours}
"""
SCENARIO += TRAFFIC


def make_history(made_by: Scenario, path: Path) -> Result:
    """Simulate ``made_by`` (seed 3) and export it to ``path`` as ``run --cloudwatch-json``
    does."""
    made = simulate(made_by, seed=3)
    (page,) = metric_data_export(
        made.timeline, service="lookoutvision", project="line-7", version="1"
    )
    path.write_text(json.dumps(page))
    return made


def bench(throttling: str, days: float, folder: Path) -> dict[str, object]:
    """Make, read and calibrate one history; the figures."""
    hours = days * 24
    made_by = Scenario.model_validate(
        tomllib.loads(SCENARIO.format(throttling=throttling, hours=hours))
    )
    path = folder / f"{throttling}.json"
    made = make_history(made_by, path)
    assumed = Scenario.model_validate(
        tomllib.loads(SCENARIO.format(throttling="slots", hours=hours))
    )
    t0 = time.perf_counter()
    history = read_metric_history([str(path)])
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = calibrate_scenario(assumed, history)
    calibrate_s = time.perf_counter() - t0
    replay = replay_of(history)
    assert not isinstance(replay, str)
    t0 = time.perf_counter()
    bucket = fit_bucket(replay)
    bucket_s = time.perf_counter() - t0
    structure = result.structure
    return {
        "made_with": throttling,
        "requests": made.summary.requests,
        "throttled": made.summary.throttled,
        "read_s": round(read_s, 1),
        "calibrate_s": round(calibrate_s, 1),
        "bucket_fit_s": round(bucket_s, 1),
        "bucket_replays": bucket.evaluations,
        "chosen": None if structure is None else structure.chosen,
        "aic_difference": None if structure is None else structure.aic_difference,
        "fitted": {
            e.parameter: [e.value, e.low, e.high]
            for e in result.estimates + result.other_structure
            if e.parameter.startswith("unit.")
        },
        "truth": {"unit.rate_tps": 3.0, "unit.burst": 10.0, "unit.slots": 4},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=14.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for throttling in ("rate", "slots"):
            print(json.dumps(bench(throttling, args.days, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
