"""Backtest: a history made by the same scenario replays closely; one made by other
parameters gives large, reported errors; hosted stretches are simulated apart."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest

from lfvsim.engine import simulate
from lfvsim.errors import InputError
from lfvsim.experiments.backtest import backtest, scaling_steps
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_export import metric_data_export
from lfvsim.traces.metric_history import read_metric_history
from tests.test_cli import assert_clean_failure

TOML = """\
[model]
project = "line-7"
min_units = 1
max_units = 4
[autoscaler]
provisioning_delay_s = 120
[traffic]
kind = "diurnal"
mean_tps = 6.0
peak_to_trough = 5.0
peak_hour_utc = 4
duration_h = 8
"""
BASE = Scenario.model_validate(tomllib.loads(TOML))


def export(timeline: pd.DataFrame, path) -> str:
    (page,) = metric_data_export(timeline, service="lookoutvision", project="line-7", version="1")
    path.write_text(json.dumps(page))
    return str(path)


@pytest.fixture(scope="module")
def same_history(tmp_path_factory):
    """Eight hours made by BASE: four scale-outs and a scale-in."""
    result = simulate(BASE, seed=1)
    path = export(result.timeline, tmp_path_factory.mktemp("h") / "same.json")
    return read_metric_history(path), result


def test_the_same_scenario_replays_its_own_history_closely(same_history):
    history, made = same_history
    assert made.summary.scale_out_events >= 3 and made.summary.scale_in_events >= 1
    bt = backtest(BASE, history, seed=2)
    f = bt.to_dict()
    assert f["minutes_compared"] == 480
    assert f["in_service_equal_share"] >= 0.95
    assert abs(f["unit_hours_relative_error"]) <= 0.02
    assert abs(f["throttled_relative_error"]) <= 0.10
    assert f["scale_outs"]["matched"] == f["scale_outs"]["observed"] >= 3
    assert f["scale_ins"]["matched"] >= 1
    assert f["flags"] == []
    # The observed unit-hours are the history's own InService sum.
    observed = history.frame["InServiceInferenceUnits"].sum() / 60
    assert f["unit_hours_observed"] == pytest.approx(observed)
    assert f["cost_simulated_usd"] == pytest.approx(
        f["unit_hours_simulated"] * BASE.price_per_unit_hour_usd
    )


@pytest.mark.parametrize(
    ("made_with", "check"),
    [
        (
            {"autoscaler.target_percent": 80.0, "unit.slots": 8},
            lambda f: (
                f["in_service_equal_share"] < 0.5
                and f["unit_hours_relative_error"] > 1.0
                and f["scale_outs"]["matched"] == 0
            ),
        ),
        (
            {"autoscaler.provisioning_delay_s": 900},
            lambda f: (
                f["in_service_equal_share"] < 0.95
                and f["throttled_relative_error"] < -0.5
                and f["in_service_within_replays_share"] < 0.95
            ),
        ),
    ],
)
def test_a_history_made_with_other_parameters_gives_large_errors(tmp_path, made_with, check):
    made = simulate(BASE.with_overrides(made_with, source="test"), seed=1)
    history = read_metric_history(export(made.timeline, tmp_path / "other.json"))
    f = backtest(BASE, history, seed=2).to_dict()
    assert check(f), f
    assert f["flags"], f  # a misfit is flagged, not only visible in the figures


def test_the_replays_span_a_range_that_holds_the_first_replay_and_the_history(same_history):
    history, _ = same_history
    bt = backtest(BASE, history, seed=2, replications=4)
    f, m = bt.to_dict(), bt.minutes[bt.minutes["compared"]]
    assert f["replications"] == 4
    assert (m["simulated_in_service_low"] <= m["simulated_in_service"]).all()
    assert (m["simulated_in_service"] <= m["simulated_in_service_high"]).all()
    low, high = m["simulated_in_service_low"], m["simulated_in_service_high"]
    assert (low <= m["simulated_in_service_mean"]).all() and (
        m["simulated_in_service_mean"] <= high
    ).all()
    # The replays differ (their draws do), and the range holds at least what one replay equals.
    assert (high - low >= 0.5).any()
    assert f["in_service_within_replays_share"] >= f["in_service_equal_share"]
    assert f["in_service_within_replays_share"] >= 0.95
    # Unit-hours are the replays' mean; the first replay is the one the seed names.
    assert f["unit_hours_simulated"] == pytest.approx(m["simulated_in_service_mean"].sum() / 60)
    one = backtest(BASE, history, seed=2, replications=1)
    assert one.minutes["simulated_in_service"].equals(bt.minutes["simulated_in_service"])
    assert (
        one.to_dict()["in_service_within_replays_share"] == one.to_dict()["in_service_equal_share"]
    )


def test_replications_below_one_are_refused(same_history):
    history, _ = same_history
    with pytest.raises(InputError, match="replications 0 is below 1"):
        backtest(BASE, history, replications=0)


def test_stopped_stretches_are_left_out_and_bound_changes_simulated_apart(tmp_path):
    first = simulate(BASE.with_overrides({"model.max_units": 3}, source="t"), seed=1).timeline
    later = BASE.with_overrides(
        {"traffic.start": (first.index[-1] + pd.Timedelta(minutes=31)).to_pydatetime()},
        source="t",
    )
    second = simulate(later, seed=1).timeline
    history = read_metric_history(export(pd.concat([first, second]), tmp_path / "two.json"))
    kinds = [p.kind for p in history.periods]
    assert kinds == ["not_hosted", "restart", "bounds_change"]
    assert [(s.max_units, s.stop - s.first) for s in history.segments()] == [(3, 480), (4, 480)]
    bt = backtest(BASE, history, seed=2)
    assert bt.figures["minutes_compared"] == 960
    assert not bt.minutes["compared"].iloc[480:510].any()
    assert bt.minutes["simulated_in_service"].iloc[:480].max() <= 3  # that stretch's Max
    assert bt.minutes["simulated_in_service"].iloc[510:].max() == 4
    assert bt.figures["in_service_equal_share"] >= 0.95
    assert any(n.startswith("left out: not hosted") for n in bt.notes)


def test_scaling_steps_are_read_from_rounded_desired_units():
    desired = [1, 1, 2, 2, 2, 4, 3, float("nan"), 3, 1]
    assert scaling_steps(pd.Series(desired).to_numpy(float), +1).tolist() == [2, 5]
    assert scaling_steps(pd.Series(desired).to_numpy(float), -1).tolist() == [6, 9]


def test_a_history_without_units_in_service_cannot_be_backtested(tmp_path):
    page = {
        "MetricDataResults": [
            {
                "Id": "m0",
                "Label": "SuccessfulRequestCount",
                "Timestamps": ["2026-01-05T00:01:00+00:00", "2026-01-05T00:00:00+00:00"],
                "Values": [3, 4],
                "StatusCode": "Complete",
            }
        ]
    }
    path = tmp_path / "counts.json"
    path.write_text(json.dumps(page))
    with pytest.raises(InputError, match="needs InServiceInferenceUnits"):
        backtest(BASE, read_metric_history(path))


# --- the command ----------------------------------------------------------------------------


def test_backtest_command_prints_json_and_draws_the_figure(cli, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    path = tmp_path / "cw.json"
    code, out, err = cli("run", scenario, "--seed", "1", "--cloudwatch-json", path)
    assert code == 0, err
    figure = tmp_path / "bt.png"
    code, out, err = cli(
        "backtest", scenario, "--cloudwatch", path, "--seed", "2", "--json", "--plot", figure
    )
    assert code == 0, err
    f = json.loads(out)
    assert 0 <= abs(f["unit_hours_relative_error"]) <= 0.02  # a fraction, not a percentage
    assert {"in_service_mae_units", "desired_equal_share", "scale_outs", "notes"} <= set(f)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # lfvsim's own figure may be replaced; a file lfvsim did not write needs --force.
    code, out, err = cli("backtest", scenario, "--cloudwatch", path, "--plot", figure)
    assert code == 0, err
    theirs = tmp_path / "theirs.png"
    theirs.write_bytes(b"keep me")
    code, out, err = cli("backtest", scenario, "--cloudwatch", path, "--plot", theirs)
    assert_clean_failure(code, out, err, "exists", "--force")
    assert theirs.read_bytes() == b"keep me"
    code, out, err = cli("backtest", scenario, "--cloudwatch", path, "--seed", "2")
    assert code == 0, err
    assert "units in service" in out and "% of minutes equal" in out
    assert "within 10 replays" in out and "inside the replays' range" in out


def test_backtest_command_refuses_bad_input_cleanly(cli, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    code, out, err = cli("backtest", scenario, "--cloudwatch", tmp_path / "none.json")
    assert_clean_failure(code, out, err, "does not exist")
    code, out, err = cli(
        "backtest", scenario, "--cloudwatch", tmp_path / "none.json", "--plot", tmp_path / "x.gif"
    )
    assert_clean_failure(code, out, err, "image format")
    assert not (tmp_path / "x.gif").exists()
