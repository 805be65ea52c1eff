"""Benchmark: peak memory of ``lfvsim calibrate`` by length of history, against its estimate.

Run ``.venv/bin/python benchmarks/bench_calibrate_memory.py [--days 1 3 7] [--size S]``.

For each length, a history is made as in ``bench_calibrate_burst.py`` (bursty diurnal
traffic of about 6 requests/s, batch arrivals of mean ``--size``, slots that throttle)
and ``lfvsim calibrate`` runs on it in a fresh process (``--allow-large``, so that the
budget does not refuse it); its peak resident memory is read from the operating system
(``os.wait4``'s ``ru_maxrss``). Printed per length: requests in the history, the measured
peak, the budget's estimate for it (``lfvsim.experiments.calibration.check_calibration_budget``)
and their ratio. The estimate is meant to err on the large side (ratio >= 1). Each length
is one run on a shared machine: the peak varies by a few per cent from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from _timing import machine, say, table
from bench_calibrate_burst import SCENARIO
from bench_calibrate_structure import make_history

from lfvsim.experiments.calibration import check_calibration_budget
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_history import read_metric_history

MIB = 1024**2


def peak_rss_bytes(command: list[str]) -> int:
    """Peak resident memory of ``command``, run to the end in a child process."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {err}")
    return int(usage.ru_maxrss) * 1024  # kilobytes on Linux


def measure(days: float, size: float, folder: Path) -> dict[str, object]:
    """Make one history, calibrate it in a fresh process; its figures."""
    scenario_text = SCENARIO.format(hours=days * 24)
    assumed = Scenario.model_validate(tomllib.loads(scenario_text))
    made_by = assumed.with_overrides(
        {"traffic.arrivals": "batch", "traffic.batch_mean_size": size}, source="bench"
    )
    history_path = folder / f"history-{days:g}.json"
    make_history(made_by, history_path)
    scenario_path = folder / "assumed.toml"
    scenario_path.write_text(scenario_text)
    history = read_metric_history([str(history_path)])
    estimate = check_calibration_budget(history, allow_large=True)
    output = folder / f"calibrated-{days:g}.toml"
    code = "import sys; from lfvsim.cli import entry_point; sys.argv[0] = 'lfvsim'; entry_point()"
    command = [sys.executable, "-c", code, "calibrate", str(scenario_path)]
    command += ["--cloudwatch", str(history_path), "-o", str(output), "--allow-large"]
    peak = peak_rss_bytes(command)
    return {
        "days": days,
        "requests": int(history.offered().sum()),
        "peak_mib": round(peak / MIB),
        "estimate_mib": round(estimate.memory_bytes / MIB),
        "estimate_over_peak": round(estimate.memory_bytes / peak, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, nargs="+", default=[1.0, 3.0, 7.0])
    parser.add_argument("--size", type=float, default=3.0)
    args = parser.parse_args()
    say(machine(["numpy", "numba", "scipy"]))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for days in args.days:
            row = measure(days, args.size, Path(folder))
            say(json.dumps(row))
            rows.append(row)
    headers = list(rows[0]) if rows else []
    say(table(headers, [list(r.values()) for r in rows]))


if __name__ == "__main__":
    main()
