"""The command line: output formats, files written, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import lfvsim
from tests.conftest import ROOT, SCENARIOS

QUICKSTART = ROOT / "scenarios" / "quickstart.toml"
JSON_KEYS = {
    "requests", "served", "throttled", "throttle_rate", "latency_p99_s", "unit_hours",
    "cost_usd", "peak_units", "seed",
}  # fmt: skip


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(
        '[model]\nmin_units = 1\nmax_units = 3\n[traffic]\nkind = "constant"\n'
        "rate_tps = 6\nduration_h = 1\n[simulation]\nseed = 11\n"
    )
    return path


def test_json_prints_exactly_one_object_with_the_promised_keys(cli, small):
    code, out, err = cli("run", small, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert JSON_KEYS <= set(data)
    assert data["served"] + data["throttled"] == data["requests"]
    assert data["seed"] == 11


def test_overrides_change_the_run(cli, small):
    code, out, _ = cli(
        "run", small, "--json", "--min-units", "2", "--max-units", "2", "--seed", "3"
    )
    data = json.loads(out)
    assert code == 0
    assert (data["min_units"], data["max_units"], data["seed"]) == (2, 2, 3)
    assert data["unit_hours"] == pytest.approx(2.0)


def test_table_output_names_the_figures(cli, small):
    code, out, _ = cli("run", small)
    assert code == 0
    for label in ("requests", "throttled", "latency p50/p95/p99", "inference-unit hours", "cost"):
        assert label in out
    assert "assumed:" in out


def test_out_writes_timeline_summary_and_scenario(cli, small, tmp_path):
    out_dir = tmp_path / "run1"
    code, _, err = cli("run", small, "--out", out_dir)
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [
        "events.csv",
        "lfvsim-manifest.json",
        "scenario.toml",
        "summary.json",
        "timeline.csv",
        "units.csv",
    ]
    summary = json.loads((out_dir / "summary.json").read_text())
    timeline = (out_dir / "timeline.csv").read_text().splitlines()
    assert len(timeline) == 61  # header + 60 minutes
    assert "InServiceInferenceUnits" in timeline[0]
    # The written scenario loads back to the same scenario.
    again = lfvsim.load_scenario(out_dir / "scenario.toml")
    assert again.model == lfvsim.load_scenario(small).model
    assert summary["requests"] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_show_config_marks_assumptions_and_round_trips(cli, tmp_path):
    code, out, _ = cli("run", QUICKSTART, "--show-config", "--max-units", "7")
    assert code == 0
    assert "ASSUMPTION" in out
    assert "slots = 4  # ASSUMPTION" in out
    assert "provisioning_delay_s = 300.0  # ASSUMPTION" in out
    resolved = tmp_path / "resolved.toml"
    resolved.write_text(out)
    again = lfvsim.load_scenario(resolved)
    original = lfvsim.load_scenario(QUICKSTART)
    assert again.model.max_units == 7
    assert again.unit == original.unit
    assert again.autoscaler == original.autoscaler
    assert again.traffic == original.traffic


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (("--out", "run1"), "--out"),
        (("--replications", "3"), "--replications"),
        (("--cloudwatch-json", "cw.json"), "--cloudwatch-json"),
        (("--seed", "4", "--allow-large"), "--seed, --allow-large"),
    ],
)
def test_show_config_refuses_options_it_would_not_use(cli, tmp_path, monkeypatch, extra, named):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("run", QUICKSTART, "--show-config", *extra)
    assert code == 2
    assert out == ""
    assert named in err and "drop --show-config to run" in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_bundled_scenario_runs(cli, path):
    code, out, err = cli("run", path, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["requests"] > 0
    # Batch requests still waiting at the end have no outcome yet (waiting_at_end).
    outcomes = data["served"] + data["throttled"] + data["unavailable"] + data["waiting_at_end"]
    assert outcomes == data["attempts"]


def test_bundled_throttling_scenario_throttles_and_quickstart_scales():
    throttled = lfvsim.simulate(
        lfvsim.load_scenario(ROOT / "scenarios" / "throttled-single-unit.toml")
    )
    assert throttled.summary.min_units == throttled.summary.max_units == 1
    assert throttled.summary.throttle_rate > 0.05
    quick = lfvsim.simulate(lfvsim.load_scenario(QUICKSTART))
    assert (quick.summary.min_units, quick.summary.max_units) == (1, 4)
    assert quick.summary.scale_out_events > 0 and quick.summary.peak_units > 1


# --- bad input: one line, exit status 2, no traceback, no output left behind ---------------

BAD_SCENARIOS = {
    "unknown key": (
        '[model]\nmin_unit = 2\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "min_unit",
    ),
    "min above max": (
        '[model]\nmin_units = 3\nmax_units = 2\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "max_units (2) is below min_units (3)",
    ),
    "not toml": ("[model\nmin_units = 1\n", "not valid TOML"),
    "no traffic": ("[model]\nmin_units = 1\n", "missing [traffic]"),
    "bad kind": ('[traffic]\nkind = "constnt"\nrate_tps = 1\n', "'constnt' is not a traffic kind"),
    "negative rate": ('[traffic]\nkind = "constant"\nrate_tps = -1\n', "traffic.rate_tps"),
    "bad region": (
        '[model]\nregion = "mars-1"\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "model.region",
    ),
    "bad version": (
        '[model]\nversion = "01"\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "model.version",
    ),
    "zero units": (
        '[model]\nmin_units = 0\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "model.min_units",
    ),
    "p99 below mean": (
        '[unit]\nlatency_p99_s = 0.5\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "latency_p99_s",
    ),
    "tracking without max": (
        '[autoscaler]\npolicy = "target_tracking"\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "needs model.max_units",
    ),
    "unknown section": (
        '[modle]\nmin_units = 1\n[traffic]\nkind = "constant"\nrate_tps = 1\n',
        "did you mean 'model'",
    ),
}

BAD_TRACES = {
    "unsorted": (
        "timestamp\n2026-01-01T00:00:05Z\n2026-01-01T00:00:01Z\n",
        "row 3",
        "sort the file",
    ),
    "negative epoch": ("timestamp\n-5\n3\n", "row 2", "non-negative"),
    "empty": ("timestamp\n", "no rows", "at least one"),
    "no header": ("", "not a readable CSV", "check the file"),
    "no time column": ("when,count\n1,2\n", "no time column", "timestamp"),
    "bad timestamp": ("timestamp\n2026-01-01T00:00:00Z\nyesterday\n", "row 3", "ISO 8601"),
    "negative count": ("timestamp,count\n0,1\n60,-1\n", "row 3", "non-negative integer"),
    "fractional count": ("timestamp,count\n0,1\n60,1.5\n", "row 3", "non-negative integer"),
    "gap": ("timestamp,count\n0,1\n60,2\n180,1\n", "row 4", "--fill-gaps zero"),
    "duplicate interval": ("timestamp,count\n0,1\n60,2\n60,1\n", "row 4", "duplicate"),
    "single count row": ("timestamp,count\n0,5\n", "two rows", "interval"),
}


def assert_clean_failure(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lfvsim: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("name", BAD_SCENARIOS)
def test_bad_scenario_fails_cleanly(cli, tmp_path, name):
    text, needle = BAD_SCENARIOS[name]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out_dir = tmp_path / "out"
    code, out, err = cli("run", path, "--out", out_dir)
    assert_clean_failure(code, out, err, needle)
    assert not out_dir.exists()


@pytest.mark.parametrize("name", BAD_TRACES)
def test_bad_trace_fails_cleanly(cli, tmp_path, name):
    text, *needles = BAD_TRACES[name]
    trace = tmp_path / "trace.csv"
    trace.write_text(text)
    out_dir = tmp_path / "out"
    code, out, err = cli("run", QUICKSTART, "--trace", trace, "--out", out_dir)
    assert_clean_failure(code, out, err, str(trace), *needles)
    assert not out_dir.exists()


def test_missing_files_fail_cleanly(cli, tmp_path):
    assert_clean_failure(*cli("run", tmp_path / "nope.toml"), "does not exist")
    assert_clean_failure(
        *cli("run", QUICKSTART, "--trace", tmp_path / "nope.csv"), "does not exist"
    )


def test_bad_options_fail_cleanly(cli):
    assert_clean_failure(*cli("run", QUICKSTART, "--min-units", "0"), "--min-units")
    assert_clean_failure(*cli("run", QUICKSTART, "--min-units", "5"), "max_units (4)")
    assert_clean_failure(*cli("run", QUICKSTART, "--bogus"), "--bogus")
    assert_clean_failure(*cli("run"), "SCENARIO")


def test_console_script_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[model]\nmin_units = 2\nmax_units = 1\n[traffic]\nkind = "constant"\nrate_tps = 1\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "lfvsim.cli", "run", str(bad)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert_clean_failure(proc.returncode, proc.stdout, proc.stderr, "max_units")


def test_no_max_units_turns_auto_scaling_off(cli):
    code, out, _ = cli("run", QUICKSTART, "--no-max-units", "--json")
    data = json.loads(out)
    assert code == 0 and data["max_units"] is None and data["policy"] == "none"
    assert data["unit_hours"] == pytest.approx(24.0)
    both = cli("run", QUICKSTART, "--no-max-units", "--max-units", "3")
    assert_clean_failure(*both, "--max-units or --no-max-units, not both")


def test_a_paginated_cloudwatch_export_replays_with_gaps_filled_on_request(cli):
    pattern = str(ROOT / "scenarios" / "data" / "cloudwatch-export-*.json")
    assert_clean_failure(*cli("run", QUICKSTART, "--trace", pattern), "fill_gaps")
    code, out, err = cli("run", QUICKSTART, "--trace", pattern, "--fill-gaps", "zero", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["requests"] > 0
    assert any("filled with count 0" in note for note in data["notes"])
    assert_clean_failure(*cli("run", QUICKSTART, "--fill-gaps", "zero"), "--trace")


def test_failure_events_are_summarised_in_the_table(cli):
    code, out, _ = cli("run", ROOT / "scenarios" / "az-outage.toml", "--seed", "3")
    assert code == 0
    line = next(x for x in out.splitlines() if x.strip().startswith("az outages"))
    assert "1: 0.25 unit-hours of capacity lost" in line


def test_an_output_folder_never_mixes_two_runs(cli, tmp_path):
    out = tmp_path / "D"
    assert cli("run", QUICKSTART, "--out", out)[0] == 0
    assert cli("run", QUICKSTART, "--replications", "2", "--out", out)[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "lfvsim-manifest.json", "replications.csv", "scenario.toml", "summary.json",
    ]  # fmt: skip


def test_an_output_path_under_a_file_fails_cleanly(cli, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert_clean_failure(*cli("run", QUICKSTART, "--out", blocker / "sub"), "afile")


def test_a_run_figure_of_a_sweep_table_says_it_is_a_sweep_table(cli, tmp_path):
    table = tmp_path / "sw.parquet"
    table.write_bytes(b"PAR1")
    code, out, err = cli("plot", "timeline", table, "-o", tmp_path / "a.png")
    assert_clean_failure(
        code, out, err, "sw.parquet is a sweep table", "timeline draws a run folder"
    )
    assert "manifest" not in err


def test_an_unknown_option_suggests_only_a_close_name(cli):
    code, out, err = cli("run", QUICKSTART, "--workers", "1")
    assert_clean_failure(code, out, err, "No such option: --workers")
    assert "Possible options" not in err
    code, out, err = cli("run", QUICKSTART, "--forse")
    assert_clean_failure(code, out, err, "(Possible options: --force)")


def test_an_unknown_choice_lists_the_choices_in_plain_words(cli, tmp_path):
    code, out, err = cli("plot", "heatmap", tmp_path, "-o", tmp_path / "a.png")
    assert_clean_failure(
        code,
        out,
        err,
        "KIND: 'heatmap' is not one of timeline, daily-cost, frontier, heatmap-cost, "
        "heatmap-throttle (see",
    )
    assert "Value error" not in err and "Invalid value" not in err
