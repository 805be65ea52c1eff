"""calibrate's budget counts its burstiness fit: a history too big is refused before any work."""

from __future__ import annotations

import json

import pytest

from lfvsim.budget import GIB
from lfvsim.experiments import calibrate_burst, calibrate_rate
from lfvsim.experiments.calibration import calibration_work

MIB = 1024**2
SCENARIO = '[traffic]\nkind = "constant"\nrate_tps = 2\nduration_h = 1\n'

#: ``lfvsim calibrate``'s peak resident memory (MiB) by requests in the history, measured
#: by ``benchmarks/bench_calibrate_memory.py`` on 1, 3, 7 and 14 days of bursty history
#: (the larger of two runs).
MEASURED_PEAK_MIB = {471_282: 505, 1_475_832: 577, 3_449_824: 972, 6_877_440: 1501}


@pytest.mark.parametrize(("requests", "peak_mib"), sorted(MEASURED_PEAK_MIB.items()))
def test_the_estimate_covers_the_measured_peak_without_doubling_it(requests, peak_mib):
    minutes = round(requests / 340)  # about 6 requests/s
    estimate_mib = calibration_work(requests, minutes).memory_bytes / MIB
    assert peak_mib <= estimate_mib <= 1.6 * peak_mib


def test_the_burstiness_fit_dominates_a_long_history():
    # The term the estimate lacked: the token bucket's fit alone is under half the peak.
    requests = 6_877_440
    assert calibrate_rate.fit_work(requests).memory_bytes < 0.5 * MEASURED_PEAK_MIB[requests] * MIB
    burst = calibrate_burst.fit_work(requests)
    assert burst.memory_bytes == requests * 2 * calibrate_burst.BYTES_PER_REPLAYED_REQUEST
    # Short histories get more replicates, so the replayed requests stay near 2 million.
    assert calibrate_burst.replicates_for(50_000) == 32
    assert calibrate_burst.replicates_for(500_000) == 4


def _scaled_history(source: str, target: str, factor: int) -> None:
    """``source``'s export with every request count multiplied by ``factor``."""
    export = json.loads(open(source).read())
    for metric in export["MetricDataResults"]:
        if metric["Label"] in ("SuccessfulRequestCount", "ThrottledCount"):
            metric["Values"] = [v * factor for v in metric["Values"]]
    with open(target, "w") as f:
        json.dump(export, f)


def test_a_history_past_the_memory_budget_is_refused_up_front(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    code, _out, err = cli("run", "s.toml", "--cloudwatch-json", "small.json")
    assert code == 0, err
    # An hour at about 2,000 requests/s: 7 million requests, like 14 days at 6 requests/s.
    _scaled_history("small.json", "big.json", 1000)
    requests = 1000 * sum(
        sum(m["Values"])
        for m in json.loads((tmp_path / "small.json").read_text())["MetricDataResults"]
        if m["Label"] in ("SuccessfulRequestCount", "ThrottledCount")
    )
    budget_gib = 1.0
    # What the token bucket's fit alone would need fits; the burstiness fit does not.
    assert (calibrate_rate.fit_work(requests).memory_bytes + 300 * MIB) / GIB < budget_gib
    assert calibration_work(requests, 60).memory_bytes / GIB > budget_gib
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", str(budget_gib))
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = cli("calibrate", "s.toml", "--cloudwatch", "big.json", "-o", "c.toml")
    assert code == 2 and out == ""
    assert err.startswith("lfvsim: error: this needs about ") and len(err.splitlines()) == 1
    assert "burstiness" in err and "1 GiB memory budget (LFVSIM_MAX_MEMORY_GIB)" in err
    assert "calibrate a shorter period of the history" in err and "--allow-large" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    # The small history fits the same budget and is calibrated.
    code, out, err = cli("calibrate", "s.toml", "--cloudwatch", "small.json", "-o", "c.toml")
    assert code == 0, err
    assert (tmp_path / "c.toml").exists() and "wrote c.toml" in out
