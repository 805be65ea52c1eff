"""Round trips of the direct estimators: histories made by run --cloudwatch-json's export
with known parameters, on bursty and on factory traffic, calibrate back; a history never
throttled leaves the slots uninformed; a history made by another scale-in rule is reported
as a misfit."""

from __future__ import annotations

import tomllib
from collections import deque
from pathlib import Path

import pytest

from lfvsim.engine import policies, simulate
from lfvsim.experiments.backtest import backtest
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.scenario import Scenario, load_scenario
from lfvsim.traces.metric_history import read_metric_history
from tests.test_backtest import export

BURSTY = """\
[model]
project = "line-7"
min_units = 1
max_units = 8
[traffic]
kind = "diurnal"
mean_tps = 8.0
peak_to_trough = 5.0
peak_hour_utc = 6
noise_cv = 0.3
spikes_per_day = 12
spike_multiplier = 2.0
spike_duration_s = 900
duration_h = 12
"""
FACTORY = """\
[model]
project = "line-7"
min_units = 1
max_units = 12
[traffic]
kind = "factory"
idle_tps = 1.0
peak_tps = 14.0
breaks = "10:00-10:30, 18:00-18:45"
line_stops_per_day = 6
duration_h = 24
"""
TRAFFIC = {"bursty": BURSTY, "factory": FACTORY}
#: Five settings away from the defaults: target, datapoints, delay, slots and latency.
SETTINGS = [
    {"autoscaler.target_percent": 60.0, "autoscaler.scale_out_datapoints": 2},
    {
        "autoscaler.target_percent": 40.0,
        "autoscaler.scale_out_datapoints": 5,
        "autoscaler.provisioning_delay_s": 180.0,
    },
    {"autoscaler.target_percent": 70.0, "autoscaler.scale_out_datapoints": 1, "unit.slots": 2},
    {
        "autoscaler.target_percent": 55.0,
        "autoscaler.scale_out_datapoints": 4,
        "unit.latency_mean_s": 0.5,
        "unit.latency_p99_s": 1.2,
        "autoscaler.provisioning_delay_s": 240.0,
    },
    {
        "autoscaler.target_percent": 45.0,
        "autoscaler.scale_out_datapoints": 2,
        "unit.slots": 6,
        "autoscaler.scale_in_datapoints": 8,
        "autoscaler.provisioning_delay_s": 420.0,
    },
]
WHOLE = {"unit.slots", "autoscaler.scale_out_datapoints"}
MUST_INFORM = {
    "autoscaler.provisioning_delay_s",
    "unit.slots",
    "autoscaler.target_percent",
    "autoscaler.scale_out_datapoints",
}


def base(traffic: str) -> Scenario:
    return Scenario.model_validate(tomllib.loads(TRAFFIC[traffic]))


def true_value(scenario: Scenario, dotted: str) -> float:
    if dotted == "traffic.batch_mean_size" and scenario.traffic.arrivals != "batch":
        return 1.0  # Poisson arrivals: batches of one request
    section, _, key = dotted.partition(".")
    return float(getattr(getattr(scenario, section), key))


def history_of(scenario: Scenario, path: Path):
    made = simulate(scenario, seed=3)
    return read_metric_history(export(made.timeline, path))


@pytest.mark.parametrize("traffic", ["bursty", "factory"])
@pytest.mark.parametrize("setting", range(len(SETTINGS)))
def test_the_parameters_come_back_within_their_intervals(tmp_path, traffic, setting):
    made_by = base(traffic).with_overrides(SETTINGS[setting], source="t")
    history = history_of(made_by, tmp_path / "h.json")
    # The calibration knows the latency (its capacity model), not the rest.
    latency = {k: v for k, v in SETTINGS[setting].items() if k.startswith("unit.latency")}
    assumed = base(traffic).with_overrides(latency, source="t")
    result = calibrate_scenario(assumed, history)
    by_name = {e.parameter: e for e in result.estimates}
    assert MUST_INFORM <= {p for p, e in by_name.items() if e.informed}
    for name, est in by_name.items():
        if not est.informed:
            continue
        truth = true_value(made_by, name)
        assert est.low <= truth <= est.high, (name, est)
        if name in WHOLE:
            assert est.value == truth, (name, est)
        elif name != "autoscaler.scale_in_datapoints":  # an interval, not always one count
            assert est.value == pytest.approx(truth, rel=0.10), (name, est)
        # The calibrated scenario holds the informed value and says where it came from.
        assert true_value(result.scenario, name) == pytest.approx(est.value)
        fitted = result.scenario.calibration[name]
        assert (fitted.low, fitted.high) == (est.low, est.high)
        assert fitted.source == history.source


def test_a_history_never_throttled_leaves_the_slots_uninformed_with_a_bound(tmp_path):
    roomy = base("bursty").with_overrides({"unit.slots": 32, "model.min_units": 3}, source="t")
    history = history_of(roomy, tmp_path / "h.json")
    assert history.frame["ThrottledCount"].sum() == 0
    result = calibrate_scenario(base("bursty"), history)
    (slots,) = [e for e in result.estimates if e.parameter == "unit.slots"]
    assert not slots.informed and slots.value is None
    assert "nothing was ever throttled" in slots.detail and "at least" in slots.detail
    assert result.scenario.unit.slots == base("bursty").unit.slots
    assert "unit.slots" not in result.scenario.calibration


class ThreeOfTen(policies.TargetTracking):
    """Another scale-in rule: one unit fewer after any 3 of the last 10 datapoints below."""

    def decide(self, obs: policies.Observation) -> int:
        c = self.config
        recent = self.__dict__.setdefault("recent", deque(maxlen=10))
        recent.append(obs.metric_percent < c.scale_in_ratio * c.target_percent)
        if (
            sum(recent) >= 3
            and obs.pending == 0
            and obs.desired > obs.min_units
            and obs.time_s - self._last_in >= c.scale_in_cooldown_s
        ):
            self._last_in = obs.time_s
            recent.clear()
            return obs.desired - 1
        return super().decide(obs)


@pytest.mark.parametrize("traffic", ["bursty", "factory"])
def test_another_scale_in_rule_is_reported_as_a_misfit(tmp_path, monkeypatch, traffic):
    monkeypatch.setattr(policies, "TargetTracking", ThreeOfTen)
    history = history_of(base(traffic), tmp_path / "h.json")
    monkeypatch.undo()
    result = calibrate_scenario(base(traffic), history)
    scale_in = [e for e in result.estimates if "scale_in" in e.parameter]
    assert any("misfit" in e.detail for e in result.estimates), result.estimates
    assert not any(e.informed for e in scale_in)
    assert not any("scale_in" in key for key in result.scenario.calibration)
    # The backtest of what calibration kept says so too: far fewer scale-ins than observed.
    flags = backtest(result.scenario, history, seed=1).flags
    assert any("scale-ins against" in f for f in flags), flags


def test_the_calibrated_scenario_loads_and_shows_where_its_values_came_from(cli, tmp_path):
    made_by = base("bursty").with_overrides(SETTINGS[0], source="t")
    path = export(simulate(made_by, seed=3).timeline, tmp_path / "h.json")
    scenario = tmp_path / "s.toml"
    scenario.write_text(BURSTY)
    out = tmp_path / "c.toml"
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", out)
    assert code == 0, err
    assert "autoscaler.target_percent = " in stdout
    loaded = load_scenario(out)
    assert loaded.autoscaler.scale_out_datapoints == 2
    assert set(loaded.calibration) >= MUST_INFORM
    line = next(x for x in out.read_text().splitlines() if x.startswith("target_percent"))
    assert "calibrated from" in line and "interval" in line and "ASSUMPTION" not in line
    assert "[calibration]" in out.read_text()
    code, shown, err = cli("run", out, "--show-config")
    assert code == 0, err
    assert shown == out.read_text()  # --show-config renders the provenance back
    notes = simulate(loaded, seed=1).notes
    assert any(n.startswith("calibrated: autoscaler.target_percent") for n in notes)
    assert any(n.startswith("calibrated: target tracking") for n in notes)
