"""Direct calibration: the provisioning delay comes back from histories made with known
delays, a history without scale-outs says it cannot inform it, and the command writes a
scenario that loads."""

from __future__ import annotations

import json

import pytest

from lfvsim.engine import simulate
from lfvsim.experiments.calibrate import estimate_provisioning_delay
from lfvsim.scenario import load_scenario
from lfvsim.traces.metric_history import read_metric_history
from tests.test_backtest import BASE, TOML, export
from tests.test_cli import assert_clean_failure


@pytest.mark.parametrize("delay_s", [45.0, 150.0, 277.0, 420.0, 600.0])
def test_the_provisioning_delay_comes_back_within_its_interval(tmp_path, delay_s):
    made = simulate(
        BASE.with_overrides({"autoscaler.provisioning_delay_s": delay_s}, source="t"), seed=1
    )
    history = read_metric_history(export(made.timeline, tmp_path / "h.json"))
    est = estimate_provisioning_delay(history)
    assert est.informed and est.events >= 2
    assert est.value == pytest.approx(delay_s, rel=0.10)
    assert est.low <= delay_s <= est.high
    assert est.high - est.low < 0.1 * delay_s


def test_a_history_without_scale_outs_cannot_inform_the_delay(tmp_path):
    flat = simulate(BASE.with_overrides({"model.max_units": 1}, source="t"), seed=1)
    history = read_metric_history(export(flat.timeline, tmp_path / "h.json"))
    est = estimate_provisioning_delay(history)
    assert not est.informed
    assert est.value is None and est.low is None and est.high is None
    assert "no scale-out" in est.detail


def test_calibrate_writes_a_scenario_with_the_estimate_marked(cli, tmp_path):
    made = simulate(
        BASE.with_overrides({"autoscaler.provisioning_delay_s": 150.0}, source="t"), seed=1
    )
    path = export(made.timeline, tmp_path / "h.json")
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    out = tmp_path / "calibrated.toml"
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", out, "--json")
    assert code == 0, err
    figures = json.loads(stdout)
    est = next(
        e for e in figures["estimates"] if e["parameter"] == "autoscaler.provisioning_delay_s"
    )
    assert est["informed"]
    assert "unit.latency_mean_s" in figures["not_estimated"]
    calibrated = load_scenario(out)
    assert calibrated.autoscaler.provisioning_delay_s == pytest.approx(150.0, abs=1.0)
    # Not estimated: the assumption stays.
    assert calibrated.unit.latency_mean_s == BASE.unit.latency_mean_s
    line = next(x for x in out.read_text().splitlines() if x.startswith("provisioning_delay_s"))
    assert "calibrated from" in line and "ASSUMPTION" not in line

    # lfvsim's own output may be replaced; a file lfvsim did not write needs --force.
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", out)
    assert code == 0, err
    theirs = tmp_path / "theirs.toml"
    theirs.write_text("keep me")
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", theirs)
    assert_clean_failure(code, stdout, err, "exists", "--force")
    assert theirs.read_text() == "keep me"
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", scenario, "--force")
    assert_clean_failure(code, stdout, err, "input scenario")


def test_calibrate_keeps_the_assumption_when_the_history_cannot_inform_it(cli, tmp_path):
    flat = simulate(BASE.with_overrides({"model.max_units": 1}, source="t"), seed=1)
    path = export(flat.timeline, tmp_path / "h.json")
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    out = tmp_path / "c.toml"
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", out)
    assert code == 0, err
    assert "not informed" in stdout
    assert (
        load_scenario(out).autoscaler.provisioning_delay_s == BASE.autoscaler.provisioning_delay_s
    )


def test_calibrate_comment_survives_an_export_name_with_a_newline(cli, tmp_path):
    """The export's name goes into a TOML comment: a newline in it must not break the file."""
    made = simulate(
        BASE.with_overrides({"autoscaler.provisioning_delay_s": 150.0}, source="t"), seed=1
    )
    path = export(made.timeline, tmp_path / "odd\nunit = 1.json")
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    out = tmp_path / "cal.toml"
    code, _, err = cli("calibrate", scenario, "--cloudwatch", path, "-o", out)
    assert code == 0, err
    assert load_scenario(out).autoscaler.provisioning_delay_s == pytest.approx(150.0, abs=1.0)
