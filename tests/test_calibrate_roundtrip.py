"""Round trips on real bursty traffic (WorldCup98, scaled down) and on factory traffic:
histories written as run --cloudwatch-json writes them, by five settings away from the
defaults, calibrate back, and the backtest of the calibrated scenario on the same history
gives unit-hours within 2 % and the observed units in service within its replays' range in
at least 95 % of minutes, as the true parameters' own backtest does. A history pinned at
Max says it cannot tell the scale-out rule; a rule the data barely singles out is marked
weakly informed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.engine import simulate
from lfvsim.experiments.backtest import backtest
from lfvsim.experiments.calibrate_autoscaler import WEAK_COUNTS
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.reports.text import format_calibration
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_history import MetricHistory, read_metric_history
from lfvsim.traces.transforms import scale, slice_trace
from tests.test_backtest import export
from tests.test_calibrate_rule import MUST_INFORM, SETTINGS, WHOLE, base, true_value
from tests.test_recommend_search import WORLDCUP

#: Mean offered load of the WorldCup98 slice once scaled: a few inference units' worth.
WORLDCUP_MEAN_TPS = 16.0
#: Seed of the backtests (the history itself was made with seed 3).
REPLAY_SEED = 1
#: The issue's bar: units in service equal in at least this share of minutes.
EQUAL_SHARE = 0.95

needs_worldcup = pytest.mark.skipif(not WORLDCUP.exists(), reason="WorldCup98 trace not present")


def worldcup_scenario(max_units: int) -> Scenario:
    return Scenario.model_validate(
        {
            "model": {"project": "line-7", "min_units": 1, "max_units": max_units},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 12},
        }
    )


@pytest.fixture(scope="module")
def worldcup_trace():
    """Twelve hours of the match day (the evening surge included) scaled to 16 requests/s."""
    if not WORLDCUP.exists():
        pytest.skip("WorldCup98 trace not present")
    full = lfvsim.read_csv_trace(WORLDCUP)
    start = full.start + pd.Timedelta(hours=12)
    piece = slice_trace(full, start, start + pd.Timedelta(hours=12))
    return scale(piece, WORLDCUP_MEAN_TPS / float(np.mean(piece.counts)))


def made_history(scenario: Scenario, trace, path: Path) -> MetricHistory:
    return read_metric_history(export(simulate(scenario, trace, seed=3).timeline, path))


def known_latency(setting: dict) -> dict:
    """The calibration is told the latency (its capacity model), not the rest."""
    return {k: v for k, v in setting.items() if k.startswith("unit.latency")}


def assert_comes_back(made_by: Scenario, result) -> None:
    by_name = {e.parameter: e for e in result.estimates}
    assert MUST_INFORM <= {p for p, e in by_name.items() if e.informed}, result.estimates
    for name, est in by_name.items():
        if not est.informed:
            continue
        truth = true_value(made_by, name)
        assert est.low <= truth <= est.high, (name, est)
        if name in WHOLE:
            assert est.value == truth, (name, est)
        elif name != "autoscaler.scale_in_datapoints":  # an interval, not always one count
            assert est.value == pytest.approx(truth, rel=0.10), (name, est)
        if name.endswith("_datapoints"):
            assert est.weak == (est.high - est.low + 1 > WEAK_COUNTS), est


def assert_replays(scenario: Scenario, history: MetricHistory) -> None:
    """Unit-hours within 2 % and units in service equal to some replay in 95 % of minutes.

    One replay alone is not held to 95 % equal: it draws the placement of requests inside
    each minute and the service times afresh, which moves a decision taken near the target
    by a minute or more (the true parameters: 0.72-0.998 of minutes equal, measured). The
    backtest's replays span that spread, and the observed units must lie within it.
    """
    f = backtest(scenario, history, seed=REPLAY_SEED).to_dict()
    assert not f["flags"], f["flags"]
    assert abs(f["unit_hours_relative_error"]) <= 0.02, f["unit_hours_relative_error"]
    assert f["in_service_within_replays_share"] >= EQUAL_SHARE, f


def assert_backtest_holds(calibrated: Scenario, made_by: Scenario, history) -> None:
    assert_replays(made_by, history)
    assert_replays(calibrated, history)


@needs_worldcup
@pytest.mark.parametrize("setting", range(len(SETTINGS)))
def test_worldcup98_histories_calibrate_back_and_replay(tmp_path, worldcup_trace, setting):
    made_by = worldcup_scenario(20).with_overrides(SETTINGS[setting], source="t")
    history = made_history(made_by, worldcup_trace, tmp_path / "h.json")
    assumed = worldcup_scenario(20).with_overrides(known_latency(SETTINGS[setting]), source="t")
    result = calibrate_scenario(assumed, history)
    assert_comes_back(made_by, result)
    assert_backtest_holds(result.scenario, made_by, history)


@pytest.mark.parametrize("setting", range(len(SETTINGS)))
def test_factory_histories_calibrate_back_and_replay(tmp_path, setting):
    made_by = base("factory").with_overrides(SETTINGS[setting], source="t")
    history = made_history(made_by, None, tmp_path / "h.json")
    assumed = base("factory").with_overrides(known_latency(SETTINGS[setting]), source="t")
    result = calibrate_scenario(assumed, history)
    assert_comes_back(made_by, result)
    assert_backtest_holds(result.scenario, made_by, history)


@needs_worldcup
def test_a_history_pinned_at_max_cannot_tell_the_scale_out_rule(tmp_path, worldcup_trace):
    """Two slots and Max 12: half the day at Max, the utilisation near the target whenever
    a step could come; every datapoint count fits, so neither it nor the target is set."""
    made_by = worldcup_scenario(12).with_overrides(SETTINGS[2], source="t")
    history = made_history(made_by, worldcup_trace, tmp_path / "h.json")
    result = calibrate_scenario(worldcup_scenario(12), history)
    by_name = {e.parameter: e for e in result.estimates}
    for name in ("autoscaler.target_percent", "autoscaler.scale_out_datapoints"):
        assert not by_name[name].informed, by_name[name]
        assert "cannot tell them apart" in by_name[name].detail
        assert name not in result.scenario.calibration
    assert result.scenario.autoscaler.scale_out_datapoints == 3  # the assumption stays
    assert "not informed" in format_calibration(result)


@needs_worldcup
def test_a_datapoint_count_the_data_barely_singles_out_is_marked_weak(tmp_path, worldcup_trace):
    made_by = worldcup_scenario(12).with_overrides(SETTINGS[0], source="t")
    history = made_history(made_by, worldcup_trace, tmp_path / "h.json")
    result = calibrate_scenario(worldcup_scenario(12), history)
    (points,) = [e for e in result.estimates if e.parameter == "autoscaler.scale_out_datapoints"]
    assert points.informed and points.weak
    assert points.low <= 2 <= points.high and points.high - points.low + 1 > WEAK_COUNTS
    assert "weakly informed" in points.detail
    shown = format_calibration(result)
    line = next(x for x in shown.splitlines() if x.startswith("autoscaler.scale_out_datapoints"))
    assert "weakly informed" in line and "interval" in line
    assert "weakly informed" in result.scenario.calibration[points.parameter].method
