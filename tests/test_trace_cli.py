"""``lfvsim trace`` and the trace kinds of ``lfvsim run``: output, files, and bad data."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import lfvsim
import lfvsim.traces as T
from tests.conftest import ROOT
from tests.test_cli import QUICKSTART, assert_clean_failure

CLOUDWATCH_SCENARIO = ROOT / "scenarios" / "cloudwatch-replay.toml"
FACTORY_SCENARIO = ROOT / "scenarios" / "two-shift-factory.toml"


def test_synth_inspect_round_trip(cli, tmp_path):
    out = tmp_path / "f.csv"
    code, text, err = cli(
        "trace", "synth", "factory", "--peak-tps", "5", "--duration-h", "48",
        "--timezone", "Europe/Berlin", "--spikes-per-day", "2", "--seed", "4", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    written = int(text.split("wrote ")[1].split(": ")[1].split(" requests")[0].replace(",", ""))
    trace = T.read_csv_trace(out)
    assert int(trace.counts.sum()) == written and trace.bin_s == 60.0
    code, text, err = cli("trace", "inspect", out, "--json")
    assert code == 0, err
    stats = json.loads(text)
    assert stats["requests"] == written and stats["duration_s"] == 48 * 3600
    assert stats["peak_tps_1s"] >= stats["peak_tps_1min"] >= stats["mean_tps"] > 0
    png = tmp_path / "f.png"
    code, text, err = cli("trace", "inspect", out, "--plot", png)
    assert code == 0, err
    for label in ("duration", "peak TPS, 1 min", "peak TPS, 1 s", "burstiness", "TPS, "):
        assert label in text
    assert png.read_bytes().startswith(b"\x89PNG")


def test_synth_options_are_checked_against_the_kind(cli, tmp_path):
    out = tmp_path / "x.csv"
    assert_clean_failure(
        *cli("trace", "synth", "factory", "--mean-tps", "3", "-o", out),
        "--mean-tps does not apply to kind 'factory'",
        "--peak-tps is required",
    )
    assert_clean_failure(
        *cli("trace", "synth", "factory", "--peak-tps", "3", "--weekday-shifts", "9-5", "-o", out),
        "--weekday-shifts",
        "HH:MM-HH:MM",
    )
    assert_clean_failure(*cli("trace", "synth", "weekly", "-o", out), "unknown kind 'weekly'")
    assert_clean_failure(
        *cli("trace", "synth", "constant", "--rate-tps", "1", "-o", tmp_path / "x.txt"), ".csv"
    )
    assert not out.exists()


def test_synth_cloudwatch_pages_then_import(cli, tmp_path):
    export = tmp_path / "cw.json"
    code, _, err = cli(
        "trace", "synth", "constant", "--rate-tps", "0.05", "--duration-h", "3",
        "--pages", "3", "--omit-zeros", "-o", export,
    )  # fmt: skip
    assert code == 0, err
    pages = sorted(tmp_path.glob("cw-*.json"))
    assert [p.name for p in pages] == ["cw-1.json", "cw-2.json", "cw-3.json"]
    first = json.loads(pages[0].read_text())
    stamps = first["MetricDataResults"][0]["Timestamps"]
    assert stamps == sorted(stamps, reverse=True) and stamps[0].endswith("+00:00")
    assert "NextToken" in first and "NextToken" not in json.loads(pages[2].read_text())
    out = tmp_path / "counts.parquet"
    assert_clean_failure(*cli("trace", "import-cloudwatch", *pages, "-o", out), "gap", "fill_gaps")
    code, text, err = cli("trace", "import-cloudwatch", *pages, "-o", out, "--fill-gaps", "zero")
    assert code == 0, err
    assert "missing intervals" in text and "filled with count 0" in text
    expected = T.to_counts(T.constant(0.05, 3, "2026-01-05"), 60.0, seed=0).counts
    got = T.read_parquet_trace(out).counts
    first_nonzero = int(np.flatnonzero(expected)[0])
    np.testing.assert_array_equal(got, expected[first_nonzero : first_nonzero + len(got)])


def test_convert_requests_to_counts(cli, tmp_path):
    req = tmp_path / "r.parquet"
    code, _, err = cli(
        "trace", "synth", "constant", "--rate-tps", "4", "--duration-h", "0.5", "--requests",
        "--arrivals", "batch", "-o", req,
    )  # fmt: skip
    assert code == 0, err
    counts = tmp_path / "c.csv"
    code, _, err = cli("trace", "convert", req, "-o", counts, "--bin-s", "10")
    assert code == 0, err
    back = T.read_csv_trace(counts)
    assert back.bin_s == 10.0 and back.counts.sum() == len(T.read_trace(req).times_s)


def test_convert_into_one_interval_is_refused(cli, tmp_path):
    # A counts file's interval is the step between its rows: one row reads back as nothing.
    req = tmp_path / "r.csv"
    code, _, err = cli("trace", "synth", "constant", "--rate-tps", "1", "--duration-h", "0.1",
                       "--requests", "-o", req)  # fmt: skip
    assert code == 0, err
    for name in ("c.csv", "c.parquet", "c.json"):
        code, out, err = cli("trace", "convert", req, "-o", tmp_path / name, "--bin-s", "3600")
        assert_clean_failure(code, out, err, "fills one interval of 3600 s", "--bin-s shorter")
        assert ("--requests" in err) == (name != "c.json")  # an export holds counts only
        assert not (tmp_path / name).exists()
    code, out, err = cli("trace", "convert", req, "-o", tmp_path / "c.csv", "--bin-s", "180")
    assert code == 0, err
    assert " in 2 intervals of 180 s" in out
    code, out, err = cli("trace", "inspect", tmp_path / "c.csv")
    assert code == 0, err


def test_a_one_row_counts_file_is_not_told_to_give_period_s(cli, tmp_path):
    # period_s is a CloudWatch key: a CSV or Parquet file cannot take it.
    one = tmp_path / "one.csv"
    one.write_text("timestamp,count\n2026-01-05T00:00:00Z,5\n", encoding="utf-8")
    code, out, err = cli("trace", "inspect", one)
    assert_clean_failure(code, out, err, "needs at least two rows", "add rows")
    assert "period_s" not in err


def test_compare_arrivals_shows_how_much_the_answer_moves(cli):
    code, text, err = cli("trace", "compare-arrivals", QUICKSTART, "--json")
    assert code == 0, err
    rows = {r["arrivals"]: r for r in json.loads(text)}
    assert set(rows) == {"even", "poisson", "batch", "onoff"}
    assert len({r["requests"] for r in rows.values()}) == 1  # same counts for every model
    assert rows["even"]["throttle_rate"] < rows["poisson"]["throttle_rate"]
    assert rows["poisson"]["throttle_rate"] < rows["batch"]["throttle_rate"]
    code, text, _ = cli("trace", "compare-arrivals", QUICKSTART)
    assert code == 0 and "throttled share ranges" in text


def test_run_trace_accepts_csv_parquet_and_cloudwatch(cli, tmp_path):
    trace = T.diurnal(3.0, 3.0, 12.0, 2, "2026-01-05")
    results = []
    for suffix in (".csv", ".parquet", ".json"):
        path = tmp_path / f"t{suffix}"
        T.write_trace(trace, path, seed=3)
        code, text, err = cli("run", QUICKSTART, "--trace", path, "--json", "--seed", "1")
        assert code == 0, err
        results.append(json.loads(text))
    assert len({r["requests"] for r in results}) == 1
    assert results[0]["throttled"] == results[1]["throttled"] == results[2]["throttled"]


def test_bundled_trace_scenarios():
    cw = lfvsim.simulate(lfvsim.load_scenario(CLOUDWATCH_SCENARIO))
    assert any("filled with count 0" in n for n in cw.notes)
    assert cw.summary.requests == 361_052
    factory = lfvsim.load_scenario(FACTORY_SCENARIO)
    assert factory.traffic.kind == "factory" and factory.traffic.timezone == "Europe/Berlin"
    rates = T.trace_from_scenario(factory).rates_tps
    assert rates.max() == 6.0 and rates[: 5 * 60].max() == 0  # nothing before 06:00 Berlin


def test_show_config_of_new_kinds_round_trips(cli, tmp_path):
    (tmp_path / "data").mkdir()
    for page in (ROOT / "scenarios" / "data").glob("cloudwatch-export-*.json"):
        shutil.copy(page, tmp_path / "data" / page.name)
    for path in (CLOUDWATCH_SCENARIO, FACTORY_SCENARIO):
        code, text, err = cli("run", path, "--show-config")
        assert code == 0, err
        assert 'arrivals = "poisson"  # ASSUMPTION' in text
        copy = tmp_path / path.name
        copy.write_text(text)
        again = lfvsim.load_scenario(copy)
        # File paths come back absolute, so the printed scenario works from any folder.
        original = lfvsim.load_scenario(path).traffic
        assert again.traffic.model_dump(exclude={"path"}) == original.model_dump(exclude={"path"})
        assert T.trace_from_scenario(again).expected_requests == pytest.approx(
            T.trace_from_scenario(lfvsim.load_scenario(path)).expected_requests
        )


# --- bad data: exit 2, one line naming the file and the row or timestamp -------------------

BAD_DATA = {
    "gap": (
        "c.csv", "timestamp,count\n0,1\n60,2\n180,1\n",
        ["row 4", "1970-01-01T00:02:00Z", "fill_gaps"],
    ),
    "duplicate": ("c.csv", "timestamp,count\n0,1\n60,2\n60,1\n", ["row 4", "duplicate timestamp"]),
    "unsorted": (
        "r.csv", "timestamp\n2026-01-05T00:00:05Z\n2026-01-05T00:00:01Z\n",
        ["row 3", "2026-01-05T00:00:01Z", "unsorted"],
    ),
    "negative count": ("c.csv", "timestamp,count\n0,1\n60,-3\n", ["row 3", "-3", "non-negative"]),
    "NaN count": ("c.csv", "timestamp,count\n0,1\n60,NaN\n", ["row 3", "missing", "fill_gaps"]),
    "empty count": ("c.csv", "timestamp,count\n0,1\n60,\n", ["row 3", "missing"]),
    "mixed time zones": (
        "r.csv", "timestamp\n2026-01-05T00:00:00+01:00\n2026-01-05 00:00:01\n",
        ["row 3", "has no time zone but row 2 has one"],
    ),
    "metric without datapoints": (
        "e.json",
        json.dumps({"MetricDataResults": [{"Id": "m1", "Label": "ProcessedImageCount",
                    "Timestamps": [], "Values": [], "StatusCode": "Complete"}], "Messages": []}),
        ["ProcessedImageCount has no datapoints"],
    ),
    "not whole counts": (
        "e.json",
        json.dumps({"Label": "ProcessedImageCount", "Datapoints": [
            {"Timestamp": "2026-01-05T00:00:00+00:00", "Sum": 1.5, "Unit": "Count"}]}),
        ["Datapoints[0]", "not a whole count"],
    ),
    "truncated json": ("e.json", '{"MetricDataResults": [', ["not valid JSON", "line 1"]),
    "bad parquet": ("p.parquet", "PAR1 but not really", ["a truncated Parquet file"]),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD_DATA)
@pytest.mark.parametrize("command", ["inspect", "run"])
def test_bad_data_fails_cleanly(cli, tmp_path, name, command):
    file_name, text, needles = BAD_DATA[name]
    path = tmp_path / file_name
    path.write_text(text)
    if command == "inspect":
        result = cli("trace", "inspect", path)
    else:
        result = cli("run", QUICKSTART, "--trace", path, "--out", tmp_path / "out")
        assert not (tmp_path / "out").exists()
    assert_clean_failure(*result, str(path), *needles)


def test_repairs_on_the_command_line_are_reported(cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("timestamp,count\n0,1\n60,2\n180,1\n60,4\n")
    code, text, err = cli(
        "trace", "inspect", path, "--fill-gaps", "zero", "--duplicates", "sum", "--unsorted", "sort"
    )
    assert code == 0, err
    assert re.search(r"requests +8\n", text)
    for needle in ("sorted (unsorted = 'sort')", "added up", "filled with count 0"):
        assert needle in text


def test_bad_scenario_traffic_keys_fail_cleanly(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[traffic]\nkind = "factory"\npeak_tps = 5\nweekday_shifts = "6-14"\n')
    assert_clean_failure(*cli("run", path), "weekday_shifts", "HH:MM-HH:MM")
    path.write_text('[traffic]\nkind = "cloudwatch"\npath = "nothing-*.json"\n')
    assert_clean_failure(*cli("run", path), "no file matches", "nothing-*.json")
    path.write_text('[traffic]\nkind = "csv"\npath = "r.csv"\narrivals = "batch"\n')
    (tmp_path / "r.csv").write_text("timestamp\n0\n1\n")
    assert_clean_failure(*cli("run", path), "traffic.arrivals applies to counts traces")


def _converted_scenario(tmp_path, seed: int | None = None):
    """A constant-rate scenario with a seed, written to ``tmp_path``."""
    path = tmp_path / "s.toml"
    path.write_text(
        "[model]\nmin_units = 1\nmax_units = 2\n"
        '[traffic]\nkind = "constant"\nrate_tps = 3.0\nduration_h = 0.5\n'
        + ("" if seed is None else f"[simulation]\nseed = {seed}\n")
    )
    return path


def _run_arrivals(scenario: lfvsim.Scenario, seed: int | None) -> np.ndarray:
    """The epoch seconds of the requests ``lfvsim run`` draws for ``scenario``."""
    from lfvsim.engine.simulate import run_inputs

    inputs = run_inputs(scenario, None, seed, None, False)
    blocks = [arrivals for arrivals, _ in inputs.requests()]
    return np.concatenate(blocks) + inputs.trace.start.timestamp()


@pytest.mark.parametrize("seed", [None, 9])
def test_convert_draws_the_requests_run_draws(cli, tmp_path, seed):
    path = _converted_scenario(tmp_path, seed=5)
    requests = tmp_path / "r.csv"
    extra = [] if seed is None else ["--seed", str(seed)]
    code, _, err = cli("trace", "convert", path, "--requests", "-o", requests, *extra)
    assert code == 0, err
    replayed = T.read_trace(requests)
    written = np.concatenate(list(replayed.blocks(np.random.default_rng(0), 1e9)))
    drawn = _run_arrivals(lfvsim.load_scenario(path), seed)  # seed None: the scenario's 5
    np.testing.assert_allclose(written + replayed.start.timestamp(), drawn, rtol=0, atol=1e-6)
    # Replayed by run, the converted requests give the run itself.
    run_seed = ["--seed", str(seed if seed is not None else 5)]
    code, out, err = cli("run", path, "--json", *run_seed)
    assert code == 0, err
    code, again, err = cli("run", path, "--trace", requests, "--json", *run_seed)
    assert code == 0, err
    direct, via_file = json.loads(out), json.loads(again)
    for key in ("requests", "served", "throttled", "latency_p99_s", "unit_hours", "peak_units"):
        assert via_file[key] == direct[key], key


def test_converted_counts_are_the_run_s_offered_requests(cli, tmp_path):
    path = _converted_scenario(tmp_path, seed=5)
    counts = tmp_path / "c.csv"
    code, _, err = cli("trace", "convert", path, "-o", counts)
    assert code == 0, err
    run_dir = tmp_path / "run"
    code, _, err = cli("run", path, "--out", run_dir)
    assert code == 0, err
    offered = pd.read_csv(run_dir / "timeline.csv")["offered_requests"].to_numpy()
    np.testing.assert_array_equal(T.read_csv_trace(counts).counts, offered)


def test_convert_without_a_scenario_seed_uses_seed_0(cli, tmp_path):
    path = _converted_scenario(tmp_path)
    default, zero = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli("trace", "convert", path, "--requests", "-o", default)[0] == 0
    assert cli("trace", "convert", path, "--requests", "-o", zero, "--seed", "0")[0] == 0
    assert default.read_bytes() == zero.read_bytes()


def test_inspect_describes_the_requests_run_draws(cli, tmp_path):
    path = _converted_scenario(tmp_path, seed=5)
    code, out, err = cli("trace", "inspect", path, "--json")
    assert code == 0, err
    stats = json.loads(out)
    code, out, err = cli("run", path, "--json")
    assert code == 0, err
    assert stats["requests"] == json.loads(out)["requests"]
    assert stats["seed"] == 5  # the run's seed, which the sample is drawn as


def test_inspect_of_requests_names_no_seed(cli, tmp_path):
    """A trace of requests is described as it is: no sample drawn, so no seed."""
    path = tmp_path / "requests.csv"
    path.write_text("timestamp\n2024-01-01T00:00:00Z\n2024-01-01T00:00:01.5Z\n")
    code, out, err = cli("trace", "inspect", path, "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert stats["sampled"] is False
    assert stats["seed"] is None
    code, out, err = cli("trace", "inspect", path)
    assert code == 0, err
    assert "seed" not in out
