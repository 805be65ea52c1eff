"""Round trips of the token bucket's simulation-based fit and of the choice between the two
structures of throttling: histories made with the rate model come back (rate and burst
within 10 %, each inside its interval) and choose 'rate'; histories made with slots choose
'slots'; a history never throttled leaves the bucket uninformed, with the bound it gives."""

from __future__ import annotations

import json

import pytest

from lfvsim.engine import simulate
from lfvsim.experiments.calibrate_rate import replay_of
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.reports.history_content import calibrated_rows
from lfvsim.scenario import load_scenario
from tests.test_calibrate_rule import BURSTY, base, history_of, true_value

#: Rate-model settings away from the defaults (rate_tps 5, burst 5), on both traffics.
RATE_SETTINGS = [
    ("bursty", {"unit.rate_tps": 3.0, "unit.burst": 10.0}),
    ("factory", {"unit.rate_tps": 6.0, "unit.burst": 4.0}),
    ("bursty", {"unit.rate_tps": 4.0, "unit.burst": 30.0}),
    ("factory", {"unit.rate_tps": 2.5, "unit.burst": 15.0, "autoscaler.target_percent": 60.0}),
]
SLOTS_SETTINGS = [("bursty", {"unit.slots": 3}), ("factory", {"unit.slots": 6})]


def made_with(traffic: str, setting: dict[str, float], throttling: str):
    return base(traffic).with_overrides({**setting, "unit.throttling": throttling}, source="t")


@pytest.mark.parametrize(("traffic", "setting"), RATE_SETTINGS)
def test_a_rate_made_history_chooses_the_rate_model_and_gives_its_bucket_back(
    tmp_path, traffic, setting
):
    made_by = made_with(traffic, setting, "rate")
    history = history_of(made_by, tmp_path / "h.json")
    result = calibrate_scenario(base(traffic), history)
    assert result.structure is not None and result.structure.chosen == "rate"
    assert result.structure.aic_difference > 10.0
    by_name = {e.parameter: e for e in result.estimates}
    for name in ("unit.rate_tps", "unit.burst"):
        est, truth = by_name[name], true_value(made_by, name)
        assert est.informed, est
        assert est.low <= truth <= est.high, est
        assert est.value == pytest.approx(truth, rel=0.10), est
        assert result.scenario.calibration[name].low == est.low
    # The autoscaler's rule, rebuilt with the fitted rate, comes back too.
    for name in ("autoscaler.target_percent", "autoscaler.provisioning_delay_s"):
        est = by_name[name]
        if est.informed:
            assert est.low <= true_value(made_by, name) <= est.high, est
    assert by_name["autoscaler.target_percent"].informed
    assert "unit.slots" not in by_name  # the structure not chosen is reported apart
    assert [e.parameter for e in result.other_structure] == ["unit.slots"]
    calibrated = result.scenario
    assert calibrated.unit.throttling == "rate"
    # The loser's fit misfits the history: withdrawn, never recorded nor set.
    (slots,) = result.other_structure
    assert not slots.informed and slots.detail.startswith("misfit: ")
    assert "unit.slots" not in calibrated.calibration
    assert "unit.slots" not in calibrated.calibrated
    assert calibrated.unit.slots == base(traffic).unit.slots
    assert "chosen" in calibrated.calibration["unit.rate_tps"].method
    assert calibrated.calibration["unit.rate_tps"].chosen
    # The structure itself is calibrated, by the AIC difference rather than an interval.
    throttling = calibrated.calibrated["unit.throttling"]
    assert throttling.low is None and throttling.high is None
    assert throttling.interval.startswith("chosen by AIC (difference ")


@pytest.mark.parametrize(("traffic", "setting"), SLOTS_SETTINGS)
def test_a_slots_made_history_chooses_the_slots_model(tmp_path, traffic, setting):
    made_by = made_with(traffic, setting, "slots")
    history = history_of(made_by, tmp_path / "h.json")
    # The scenario calibrated from says 'rate': the history overrules it.
    assumed = base(traffic).with_overrides({"unit.throttling": "rate"}, source="t")
    result = calibrate_scenario(assumed, history)
    assert result.structure is not None and result.structure.chosen == "slots"
    assert result.structure.aic_difference > 10.0
    assert "rate fits" not in result.structure.meaning
    assert result.scenario.unit.throttling == "slots"
    (slots,) = [e for e in result.estimates if e.parameter == "unit.slots"]
    assert slots.value == setting["unit.slots"]


def test_a_history_never_throttled_leaves_the_bucket_uninformed_with_a_bound(tmp_path):
    roomy = made_with("bursty", {"unit.rate_tps": 20.0, "model.min_units": 3}, "rate")
    history = history_of(roomy, tmp_path / "h.json")
    assert history.frame["ThrottledCount"].sum() == 0
    assumed = base("bursty").with_overrides({"unit.throttling": "rate"}, source="t")
    result = calibrate_scenario(assumed, history)
    assert result.structure is not None and result.structure.chosen is None
    assert "neither" in result.structure.meaning
    for e in result.estimates:
        if e.parameter in ("unit.rate_tps", "unit.burst"):
            assert not e.informed and e.value is None
            assert "nothing was ever throttled" in e.detail and "at least" in e.detail
    # The bound is the busiest minute's admitted rate per unit.
    frame = history.frame
    busiest = (frame["SuccessfulRequestCount"] / (60 * frame["InServiceInferenceUnits"])).max()
    assert f"{busiest:.3g} requests/s" in result.estimates[1].detail
    assert result.scenario.unit.throttling == "rate"
    assert result.scenario.unit.rate_tps == assumed.unit.rate_tps
    assert not {"unit.rate_tps", "unit.burst", "unit.slots"} & set(result.scenario.calibration)


def test_calibrate_from_run_cloudwatch_json_says_which_structure_fits_and_writes_it(cli, tmp_path):
    made = tmp_path / "made.toml"
    made.write_text(BURSTY + '[unit]\nthrottling = "rate"\nrate_tps = 3.0\nburst = 10.0\n')
    history = tmp_path / "h.json"
    code, _, err = cli("run", made, "--seed", "3", "--cloudwatch-json", history)
    assert code == 0, err
    scenario = tmp_path / "s.toml"
    scenario.write_text(BURSTY)
    out = tmp_path / "c.toml"
    code, stdout, err = cli("calibrate", scenario, "--cloudwatch", history, "-o", out, "--json")
    assert code == 0, err
    whole = json.loads(stdout)
    found = whole["throttling"]
    assert found["chosen"] == "rate" and found["aic_difference"] > 10
    assert set(found["aic"]) == {"slots", "rate"}
    assert found["aic"]["slots"] - found["aic"]["rate"] == pytest.approx(found["aic_difference"])
    assert [e["parameter"] for e in found["other_estimates"]] == ["unit.slots"]
    loaded = load_scenario(out)
    assert loaded.unit.throttling == "rate"
    assert loaded.unit.rate_tps == pytest.approx(3.0, rel=0.10)
    assert {"unit.rate_tps", "unit.burst"} <= set(loaded.calibration)
    # The slots model misfits this history: its count is withdrawn, not recorded.
    assert "unit.slots" not in loaded.calibration
    assert any(n.startswith("the slots model misfits the history") for n in whole["notes"])
    lines = out.read_text().splitlines()
    line = next(x for x in lines if x.startswith("rate_tps"))
    assert "calibrated from" in line and "ASSUMPTION" not in line
    # The structure is marked calibrated; the rejected model's slots keep their assumption.
    line = next(x for x in lines if x.startswith("throttling"))
    assert "calibrated from" in line and "chosen by AIC (difference " in line
    assert "ASSUMPTION" not in line
    line = next(x for x in lines if x.startswith("slots"))
    assert "ASSUMPTION" in line and "calibrated" not in line
    notes = simulate(loaded, seed=1).notes
    assert any(n.startswith("calibrated: a token bucket") for n in notes)
    assert any(n.startswith("calibrated: unit.throttling = rate from ") for n in notes)
    assert not any(n.startswith("calibrated: unit.slots") for n in notes)
    rows = {row[0]: row for row in calibrated_rows(loaded)}
    assert "unit.slots" not in rows and {"unit.rate_tps", "unit.burst"} <= set(rows)
    assert rows["unit.throttling"][1] == "rate"
    assert rows["unit.throttling"][4].startswith("chosen by AIC (difference ")
    # The text output names the structure, both AICs and the fit not chosen.
    code, text, err = cli("calibrate", scenario, "--cloudwatch", history, "-o", out, "--force")
    assert code == 0, err
    assert "throttling structure: rate (AIC rate" in text and "not chosen: unit.slots" in text
    assert "note: the slots model misfits the history" in text


def test_the_rate_model_is_fitted_on_the_same_minutes_as_the_slots(tmp_path):
    # The AIC comparison is fair only on the same minutes: those the slots are scored on.
    made_by = made_with("bursty", {"unit.slots": 3}, "slots")
    history = history_of(made_by, tmp_path / "h.json")
    replay = replay_of(history)
    assert not isinstance(replay, str)
    frame = history.frame
    units = frame["InServiceInferenceUnits"].to_numpy()
    whole = (units >= 1) & (abs(units - units.round()) < 1e-6)
    offered = (frame["SuccessfulRequestCount"] + frame["ThrottledCount"]).to_numpy()
    assert (replay.scored == (whole & (offered > 0))).all()


def test_a_note_on_values_partly_calibrated_does_not_call_them_assumed():
    from lfvsim.engine.result import _word
    from lfvsim.scenario import Calibrated

    fitted = Calibrated(source="h.json", period="p", low=4.0, high=4.0)
    rejected = Calibrated(source="h.json", period="p", low=2.0, high=3.0, chosen=False)
    scenario = base("bursty").model_copy(
        update={"calibration": {"unit.slots": fitted, "unit.rate_tps": rejected}}
    )
    assert _word(scenario, "unit.slots", "unit.latency_mean_s") == (
        "calibrated unit.slots, assumed unit.latency_mean_s"
    )
    assert _word(scenario, "unit.slots") == "calibrated"
    assert _word(scenario, "unit.rate_tps") == "assumed"  # fitted, but not chosen
