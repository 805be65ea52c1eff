"""Inputs at the edges that used to pass, mislead or name the wrong thing."""

from __future__ import annotations

import json
import math
import tomllib

import pandas as pd
import pytest

import lfvsim
from lfvsim.errors import InputError
from lfvsim.experiments.recommend import Slo, _throttle_upper
from tests.test_cli import assert_clean_failure

SCENARIO = """\
[model]
project = "p"
min_units = 1
max_units = 2
[traffic]
kind = "{kind}"
{keys}
"""


def test_a_zero_throttle_target_is_refused_because_no_bound_reaches_it() -> None:
    # With no throttle at all the bound is -ln(1 - confidence) / requests, still above 0:
    # a zero target is met by no configuration, whatever the replications.
    runs = pd.DataFrame({"requests": [7_200] * 10, "throttled": 0, "throttle_rate": 0.0})
    upper = _throttle_upper(runs, 0.95)
    assert upper == pytest.approx(-math.log(0.05) / 72_000) and upper > 0
    with pytest.raises(InputError, match=r"--max-throttle-rate 0: .*give a positive fraction"):
        Slo(0.0)
    assert Slo(1e-6).max_throttle_rate == 1e-6


def test_recommend_with_a_zero_target_is_refused_before_simulating(cli, tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(kind="constant", keys="rate_tps = 2\nduration_h = 1"))
    code, out, err = cli("recommend", path, "--max-throttle-rate", "0")
    assert_clean_failure(code, out, err, "--max-throttle-rate 0", "positive fraction")


@pytest.mark.parametrize(
    ("kind", "keys", "needle"),
    [
        ("csv", 'path = "t.csv"\nperiod_s = 60', "it applies to kind 'cloudwatch', not 'csv'"),
        ("constant", "rate_tps = 2\nmean_tps = 3", "it applies to kind 'diurnal', not 'constant'"),
        (
            "constant",
            "rate_tps = 2\nbreaks = '12:00-12:30'",
            "it applies to kind 'factory', not 'constant'",
        ),
    ],
)
def test_a_traffic_key_of_another_kind_names_the_kinds_that_take_it(
    cli, tmp_path, kind: str, keys: str, needle: str
) -> None:
    (tmp_path / "t.csv").write_text("timestamp\n2026-01-05T00:00:00Z\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(kind=kind, keys=keys))
    code, out, err = cli("run", path)
    assert_clean_failure(code, out, err, needle)
    assert "did you mean" not in err  # the key is spelled right: it is in the wrong kind


def test_a_misspelt_traffic_key_still_gets_a_suggestion(cli, tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(kind="constant", keys="rat_tps = 2"))
    code, out, err = cli("run", path)
    assert_clean_failure(code, out, err, "unknown key 'traffic.rat_tps'; did you mean 'rate_tps'?")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--start", "1900-01-01"), "start 1900-01-01T00:00:00+00:00 is outside 1970-2200"),
        (("--start", "2199-12-31", "--duration-h", "100"), "duration_h = 100 ends the trace"),
    ],
)
def test_synth_names_start_and_duration_not_kind(cli, tmp_path, args, needle: str) -> None:
    out_path = tmp_path / "o.csv"
    code, out, err = cli("trace", "synth", "constant", "--rate-tps", "1", *args, "-o", out_path)
    assert_clean_failure(code, out, err, "--start/--duration-h: " + needle)
    assert "--kind" not in err
    assert not out_path.exists()


@pytest.mark.parametrize("mode", [None, "always_on", "batch"])
def test_schedule_windows_in_a_mode_that_ignores_them_are_refused(cli, tmp_path, mode) -> None:
    # Without mode = 'schedule' the windows were ignored: hosted and billed all day.
    path = tmp_path / "s.toml"
    hosting = "[hosting]\n" + ("" if mode is None else f'mode = "{mode}"\n')
    hosting += 'windows = ["Mon-Fri 06:00-08:00"]\n'
    path.write_text(SCENARIO.format(kind="constant", keys="rate_tps = 2") + hosting)
    code, out, err = cli("run", path)
    assert_clean_failure(code, out, err, "hosting.windows is set", "add mode = 'schedule'")
    assert ("(the default)" in err) == (mode is None)


def test_compare_still_switches_a_scheduled_scenario_to_other_modes(cli) -> None:
    from tests.conftest import ROOT

    path = ROOT / "scenarios" / "scheduled-business-hours.toml"
    code, out, err = cli("compare", path, "--mode", "always-on", "--mode", "batch", "--json")
    assert code == 0, err
    assert [row["mode"] for row in json.loads(out)] == ["always-on", "batch"]


def test_the_same_export_page_given_twice_is_named_not_summed(cli, tmp_path) -> None:
    # Read twice, a page's datapoints are duplicates, and duplicates = 'sum' doubles them.
    code, _, err = cli("trace", "synth", "constant", "--rate-tps", "1", "--duration-h", "1",
                       "-o", tmp_path / "cw.json")  # fmt: skip
    assert code == 0, err
    pattern = str(tmp_path / "c*.json")
    for pages in ([tmp_path / "cw.json", tmp_path / "cw.json"], [tmp_path / "cw.json", pattern]):
        code, out, err = cli("trace", "import-cloudwatch", *pages, "-o", tmp_path / "o.csv")
        assert_clean_failure(code, out, err, "the same file is given twice", "each page")
        assert "duplicate" not in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("factor", ["0.5", "0.999"])
def test_a_busier_day_below_one_is_refused(cli, tmp_path, factor: str) -> None:
    # It was run as a quieter day and printed as "a day x0.5 busier".
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(kind="constant", keys="rate_tps = 2\nduration_h = 1"))
    code, out, err = cli("recommend", path, "--max-throttle-rate", "0.01", "--busier-day", factor)
    assert_clean_failure(code, out, err, f"--busier-day {factor}: give a factor of 1 or more")


def test_a_horizon_or_outage_past_the_end_is_said_in_the_notes() -> None:
    text = SCENARIO.format(kind="constant", keys="rate_tps = 2\nduration_h = 1")
    sc = lfvsim.Scenario.model_validate(
        {
            **tomllib.loads(text),
            "simulation": {"seed": 1, "horizon_h": 1e9},
            "failures": {"outages": [{"zone": 0, "start_h": 5, "duration_h": 1}]},
        }
    )
    notes = lfvsim.simulate(sc).notes
    assert "simulation.horizon_h = 1e+09 is past the end of the traffic: 1 h simulated" in notes
    assert "1 zone outage starting at 5 h, at or after the 1 h simulated, does not happen" in notes
    inside = sc.with_overrides({"simulation.horizon_h": 0.5, "failures.outages": []})
    assert not [n for n in lfvsim.simulate(inside).notes if "past the end" in n or "outage" in n]


def test_compare_refuses_a_mode_given_twice(cli, tmp_path) -> None:
    # It ran the same requests twice and printed two identical rows.
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(kind="constant", keys="rate_tps = 2\nduration_h = 1"))
    modes = ["--mode", "autoscaled", "--mode", "batch", "--mode", "autoscaled"]
    code, out, err = cli("compare", path, *modes)
    assert_clean_failure(code, out, err, "--mode autoscaled is given twice")
    code, out, err = cli("compare", path, "--mode", "always-on", "--mode", "no-auto-scaling")
    assert_clean_failure(code, out, err, "--mode no-auto-scaling runs as --mode always-on does")
