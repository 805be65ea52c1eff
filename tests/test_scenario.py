"""Scenario loading, defaults and overrides."""

from __future__ import annotations

import pytest

import lfvsim
from lfvsim.errors import InputError
from tests.conftest import ROOT, scenario


def test_defaults_follow_the_documented_facts():
    sc = scenario()
    assert sc.model.min_units == 1 and sc.model.max_units is None
    assert sc.policy == "none"  # documented: without MaxInferenceUnits the model never scales
    assert scenario(model={"max_units": 3}).policy == "target_tracking"
    assert sc.unit.nominal_tps == pytest.approx(5.0)  # the once-documented 5 TPS per unit
    a = sc.autoscaler
    assert (a.scale_out_datapoints, a.scale_in_datapoints, a.scale_in_ratio) == (3, 15, 0.9)
    assert sc.billing.metering_granularity_s == 60
    assert sc.price_per_unit_hour_usd == 4.0


def test_every_assumed_default_is_marked():
    text = lfvsim.render_toml(scenario())
    for key in (
        "slots",
        "latency_mean_s",
        "target_percent",
        "provisioning_delay_s",
        "bill_provisioning",
    ):
        line = next(
            x for x in text.splitlines() if x.startswith(f"{key} =") or f" {key} is unset" in x
        )
        assert "ASSUMPTION" in line, line
    line = next(x for x in text.splitlines() if x.startswith("min_units ="))
    assert "ASSUMPTION" not in line


def test_overrides_are_validated_again():
    sc = lfvsim.load_scenario(ROOT / "scenarios" / "quickstart.toml")
    assert sc.with_overrides({"model.max_units": 8}).model.max_units == 8
    assert sc.with_overrides({"model.max_units": None}).policy == "none"
    with pytest.raises(InputError, match="max_units"):
        sc.with_overrides({"model.min_units": 9})
    with pytest.raises(InputError, match=r"unknown key 'model\.max_unit'"):
        sc.with_overrides({"model.max_unit": 9})
    with pytest.raises(InputError, match=r"SECTION\.KEY"):
        sc.with_overrides({"max_units": 9})


@pytest.mark.parametrize(
    ("unit", "key"),
    [
        ({"latency_distribution": "exponential", "latency_mean_s": 1e9}, "latency_mean_s"),
        ({"latency_distribution": "constant", "latency_mean_s": 2e4}, "latency_mean_s"),
        ({"latency_mean_s": 9e3, "latency_p99_s": 1.2e5}, "latency_p99_s"),
    ],
)
def test_service_times_past_the_latency_histograms_are_refused(unit, key):
    # Longer service times would be reported as the histograms' top edge, not measured.
    with pytest.raises(ValueError, match=rf"{key} = .* s is longer than the") as refused:
        scenario(unit=unit)
    # The hint names what the key is, not the other key.
    named = "99th percentile" if key == "latency_p99_s" else "mean service time"
    assert named in str(refused.value)


def test_the_longest_accepted_service_time_still_simulates():
    unit = {"latency_distribution": "constant", "latency_mean_s": 1e4}
    sc = scenario(unit=unit, traffic={"kind": "constant", "rate_tps": 0.01, "duration_h": 1})
    assert sc.unit.latency_mean_s == 1e4
    assert lfvsim.simulate(sc, seed=1).summary.requests > 0


def test_csv_paths_are_relative_to_the_scenario_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.csv").write_text("timestamp,count\n0,5\n60,7\n")
    (tmp_path / "sub" / "s.toml").write_text('[traffic]\nkind = "csv"\npath = "t.csv"\n')
    r = lfvsim.simulate(lfvsim.load_scenario(tmp_path / "sub" / "s.toml"), seed=1)
    assert r.summary.requests == 12


def test_a_region_without_a_listed_price_needs_an_explicit_price():
    model = {
        "service": "rekognition",
        "project": "pcb",
        "version": "pcb.2026-01-05",
        "region": "ap-south-1",
        "project_version_arn": (
            "arn:aws:rekognition:ap-south-1:123456789012:project/pcb/version/pcb.2026-01-05/1"
        ),
    }
    with pytest.raises(InputError, match="'ap-south-1' has no price"):
        scenario().with_overrides({"model": model})
    priced = scenario(model=model, billing={"price_per_unit_hour_usd": 4.2})
    result = lfvsim.simulate(priced, seed=1)
    assert result.summary.cost_usd == pytest.approx(4.2)


@pytest.mark.parametrize(
    ("sections", "says"),
    [
        ({"billing": {"metering_granularity_s": 1e12}}, "longer than one day"),
        ({"billing": {"metering_granularity_s": 86_401}}, "at most 86400"),
        ({"autoscaler": {"evaluation_period_s": 60_000_000_000}}, "longer than one day"),
        ({"autoscaler": {"scale_in_datapoints": 1_000_000_000}}, "at most 1,440 datapoints"),
        (
            {"autoscaler": {"evaluation_period_s": 3600, "scale_out_datapoints": 25}},
            "at most 24 datapoints of 3600 s",
        ),
    ],
)
def test_durations_past_a_day_that_would_make_a_run_absurd_are_refused(sections, says):
    # 1e12 s metering billed 555 million unit-hours for two hours of traffic; an alarm
    # spanning more than a day is one CloudWatch refuses and that never fires in a run.
    with pytest.raises(ValueError, match=says):
        scenario(**sections)


def test_a_day_is_the_longest_metering_interval_and_alarm_span():
    sc = scenario(
        billing={"metering_granularity_s": 86_400},
        autoscaler={"evaluation_period_s": 3600, "scale_in_datapoints": 24},
    )
    assert sc.billing.metering_granularity_s == 86_400
    assert sc.autoscaler.scale_in_datapoints * sc.autoscaler.evaluation_period_s == 86_400
