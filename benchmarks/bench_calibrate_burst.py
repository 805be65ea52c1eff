"""Benchmark: fitting the burstiness of arrivals inside a minute on 14 days of history.

Run ``.venv/bin/python benchmarks/bench_calibrate_burst.py [--days N] [--size S]``.

A history of ``--days`` days is made by ``lfvsim.engine.simulate`` on bursty diurnal
traffic (about 6 requests/s, Min 1, Max 8, 4 slots) with batch arrivals of mean ``--size``
(1: Poisson) and exported as ``run --cloudwatch-json`` would; it is read back and
calibrated from a scenario with the default (Poisson) assumptions. Printed: wall time of
the whole calibration and of the burstiness fit alone, the replays it made, the fitted
size and slots against the truth, and the arrival model chosen. Target: the whole
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

from bench_calibrate_structure import TRAFFIC, make_history

from lfvsim.experiments.calibrate_burst import fit_burstiness
from lfvsim.experiments.calibrate_rate import replay_of
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_history import read_metric_history

SCENARIO = """\
[model]
project = "line-7"
min_units = 1
max_units = 8
"""
SCENARIO += TRAFFIC


def bench(days: float, size: float, folder: Path) -> dict[str, object]:
    """Make, read and calibrate one history; the figures."""
    assumed = Scenario.model_validate(tomllib.loads(SCENARIO.format(hours=days * 24)))
    arrivals = {"traffic.arrivals": "batch", "traffic.batch_mean_size": size}
    made_by = assumed.with_overrides(arrivals if size > 1 else {}, source="bench")
    path = folder / "history.json"
    made = make_history(made_by, path)
    history = read_metric_history([str(path)])
    t0 = time.perf_counter()
    result = calibrate_scenario(assumed, history)
    calibrate_s = time.perf_counter() - t0
    replay = replay_of(history)
    assert not isinstance(replay, str)
    t0 = time.perf_counter()
    burst = fit_burstiness(replay, assumed.unit, 0.5, 4)
    burst_s = time.perf_counter() - t0
    fitted = result.burstiness
    assert fitted is not None
    return {
        "requests": made.summary.requests,
        "throttled": made.summary.throttled,
        "calibrate_s": round(calibrate_s, 1),
        "burst_fit_s": round(burst_s, 1),
        "replays": burst.replays,
        "arrivals": fitted.arrivals,
        "batch_mean_size": [fitted.size.value, fitted.size.low, fitted.size.high],
        "slots": result.scenario.unit.slots,
        "throttling": result.scenario.unit.throttling,
        "truth": {"batch_mean_size": size, "slots": 4},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--size", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(bench(args.days, args.size, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
