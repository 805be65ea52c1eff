"""Bad and extreme input at the edges, and output that is safe to read back, paste or open."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

import lfvsim
from lfvsim.errors import InputError
from lfvsim.reports import read_run, read_sweep
from lfvsim.safe_output import (
    csv_restored_cell,
    csv_safe_cell,
    csv_safe_frame,
    shell_command,
    toml_comment,
)
from lfvsim.scenario import load_scenario, render_toml
from lfvsim.traces import read_trace
from lfvsim.traces.cloudwatch import read_cloudwatch_export
from lfvsim.traces.points import epoch_problem
from tests.conftest import ROOT, small_scenario_toml

DESCRIBE = ROOT / "scenarios" / "data" / "circuit-boards-describe-model.json"
MS_2026 = 1767571200000  # 2026-01-05T00:00:00Z in epoch milliseconds


def assert_clean_failure(code, out, err, *needles):
    """Exit status 2, nothing on stdout, one 'lfvsim: error:' line holding every needle."""
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lfvsim: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- scenario numbers ----------------------------------------------------------------------------

BASE = '[traffic]\nkind = "constant"\nrate_tps = 1\n'


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        (BASE + "duration_h = inf\n", ("traffic.duration_h", "not a finite number")),
        (BASE + "duration_h = nan\n", ("traffic.duration_h", "not a finite number")),
        (BASE + "duration_h = 1e300\n", ("traffic.duration_h", "1e+300")),
        (BASE + "duration_h = 1e10\n", ("duration_h", "after 2200")),
        (BASE + "[billing]\nprice_per_unit_hour_usd = inf\n", ("price_per_unit_hour_usd",)),
        (BASE + "[billing]\nprice_per_unit_hour_usd = 1e300\n", ("price_per_unit_hour_usd",)),
        (BASE + "[unit]\nlatency_mean_s = inf\n", ("unit.latency_mean_s", "finite")),
        (BASE + "[unit]\nlatency_p99_s = 1e300\n", ("unit.latency_p99_s",)),
        (BASE + "start = 9999-01-05T00:00:00Z\n", ("start 9999-01-05", "1970-2200")),
        (BASE + "start = 1960-01-05T00:00:00Z\n", ("1970-2200",)),
        (BASE + "[model]\nmin_units = 1e300\n", ("model.min_units",)),
        (BASE + "[simulation]\nhorizon_h = -inf\n", ("simulation.horizon_h",)),
        (BASE + "[autoscaler]\ntarget_percent = nan\n", ("autoscaler.target_percent",)),
    ],
)
def test_scenario_numbers_out_of_range_are_refused(cli, tmp_path, toml, needles):
    path = tmp_path / "s.toml"
    path.write_text(toml, encoding="utf-8")
    before = files_in(tmp_path)
    assert_clean_failure(*cli("run", path, "--show-config"), str(path), *needles)
    assert files_in(tmp_path) == before


def test_a_folder_given_as_scenario_is_named_as_a_folder(cli, tmp_path):
    assert_clean_failure(*cli("run", tmp_path), "is a folder, not a scenario file")


def test_a_folder_given_as_trace_or_description_is_named_as_a_folder(cli, tmp_path):
    assert_clean_failure(*cli("trace", "inspect", tmp_path), "is a folder, not a trace file")
    assert_clean_failure(*cli("seed", tmp_path), "is a folder, not a describe-model file")


def test_a_device_given_as_trace_is_named_as_not_a_file_not_as_missing(cli):
    code, out, err = cli("trace", "inspect", "/dev/null")
    assert_clean_failure(code, out, err, "'/dev/null' is not a regular file")
    assert "does not exist" not in err


# --- trace timestamps and counts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (f"timestamp\n{MS_2026}\n{MS_2026 + 1000}\n", ("row 2", "looks like milliseconds")),
        ("timestamp\n1e15\n", ("row 2", "looks like microseconds", "divide by 1000000")),
        ("timestamp\n9999-01-01T00:00:00Z\n", ("row 2", "after 2200")),
        ("timestamp\n2300-01-01T00:00:00Z\n", ("row 2", "after 2200")),
        ("timestamp\n1767571200\ninf\n", ("row 3", "timestamp")),
        (
            "timestamp,count\n2026-01-05T00:00:00Z,1e300\n2026-01-05T00:01:00Z,1\n",
            ("row 2", "too large"),
        ),
        (
            "timestamp,count\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,inf\n",
            ("row 3", "not a finite count"),
        ),
        (
            "timestamp,count\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,-inf\n",
            ("row 3", "not a non-negative integer"),
        ),
    ],
)
def test_trace_values_out_of_range_are_refused(cli, tmp_path, text, needles):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert_clean_failure(*cli("trace", "inspect", path), *needles)
    out = tmp_path / "counts.csv"
    assert_clean_failure(*cli("trace", "convert", path, "-o", out), *needles)
    assert not out.exists()


def test_inf_count_is_not_read_as_missing_even_with_fill_gaps_zero(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,count\n2026-01-05T00:00:00Z,inf\n2026-01-05T00:01:00Z,1\n")
    with pytest.raises(InputError, match="not a finite count"):
        read_trace(path, fill_gaps="zero")


def test_epoch_problem_names_the_unit_only_for_numbers():
    assert epoch_problem(1767571200.0) is None
    assert "milliseconds" in epoch_problem(MS_2026)
    assert "nanoseconds" in epoch_problem(MS_2026 * 1e6)
    assert "looks like" not in epoch_problem(MS_2026, numeric=False)
    assert "before 1970" in epoch_problem(-1.0)


# --- CloudWatch ----------------------------------------------------------------------------------


def cw_result(times, values, **extra):
    return {
        "Id": "m1",
        "Label": "ProcessedImageCount",
        "Timestamps": times,
        "Values": values,
        **extra,
    }


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("doc", "needles"),
    [
        ({"MetricDataResults": [cw_result(5, [1])]}, ("Timestamps is the value 5, not a list",)),
        ({"MetricDataResults": [cw_result([1], "x")]}, ("Values is a string, not a list",)),
        ({"MetricDataResults": 5}, ("MetricDataResults is the value 5",)),
        ({"MetricDataResults": [cw_result([], [], StatusCode=7)]}, ("StatusCode 7",)),
        ({"MetricDataResults": [cw_result([], [])], "NextToken": 3}, ("NextToken",)),
        (
            {"MetricDataResults": [cw_result([MS_2026, MS_2026 + 60000], [1, 2])]},
            ("Timestamps[0]", "looks like milliseconds"),
        ),
        (
            {"Datapoints": [{"Timestamp": "9999-01-01T00:00:00Z", "Sum": 1}]},
            ("Datapoints[0]", "after 2200"),
        ),
        ({"MetricDataResults": [cw_result([{"a": 1}], [1])]}, ("cannot read timestamp",)),
        ({"MetricDataResults": [cw_result([1767571200], [[1]])]}, ("is not a number",)),
    ],
)
def test_cloudwatch_structure_is_checked_before_use(cli, tmp_path, doc, needles):
    path = write_json(tmp_path / "export.json", doc)
    out = tmp_path / "counts.csv"
    assert_clean_failure(*cli("trace", "import-cloudwatch", path, "-o", out), *needles)
    assert not out.exists()


def test_partial_data_in_the_last_page_is_noted(tmp_path):
    times = ["2026-01-05T00:01:00Z", "2026-01-05T00:00:00Z"]
    path = write_json(
        tmp_path / "e.json",
        {"MetricDataResults": [cw_result(times, [1, 2], StatusCode="PartialData")]},
    )
    trace = read_cloudwatch_export(path)
    assert any("PartialData" in n and "NextToken" in n for n in trace.notes)


def test_partial_data_completed_by_a_later_page_is_not_noted(tmp_path):
    a = write_json(
        tmp_path / "p-1.json",
        {
            "MetricDataResults": [
                cw_result(["2026-01-05T00:01:00Z"], [1], StatusCode="PartialData")
            ],
            "NextToken": "t",
        },
    )
    b = write_json(
        tmp_path / "p-2.json",
        {"MetricDataResults": [cw_result(["2026-01-05T00:00:00Z"], [2])]},
    )
    trace = read_cloudwatch_export([a, b])
    assert not any("PartialData" in n for n in trace.notes)
    assert trace.counts.tolist() == [2, 1]


def paged_export_missing_the_middle(tmp_path: Path) -> list[Path]:
    stamps = [f"2026-01-05T00:{m:02d}:00Z" for m in range(9)]
    first = {
        "MetricDataResults": [cw_result(stamps[6:][::-1], [1, 1, 1], StatusCode="PartialData")],
        "NextToken": "page-2",
    }
    last = {"MetricDataResults": [cw_result(stamps[:3][::-1], [1, 1, 1])]}
    return [write_json(tmp_path / "p-1.json", first), write_json(tmp_path / "p-3.json", last)]


def test_a_missing_middle_page_is_named_as_a_missing_page(tmp_path):
    pages = paged_export_missing_the_middle(tmp_path)
    with pytest.raises(InputError, match="a page of the export may be missing") as info:
        read_cloudwatch_export(pages)
    assert "3 period(s) from 2026-01-05T00:03:00Z" in str(info.value)
    assert "--fill-gaps zero" in str(info.value)
    trace = read_cloudwatch_export(pages, fill_gaps="zero")
    assert trace.counts.tolist() == [1, 1, 1, 0, 0, 0, 1, 1, 1]
    assert any("a page of the export is missing" in n for n in trace.notes)


# --- DescribeModel -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"MinInferenceUnits": 1.5}, "MinInferenceUnits"),
        ({"MinInferenceUnits": "2"}, "MinInferenceUnits"),
        ({"CreationTimestamp": 1e300}, "CreationTimestamp"),
        ({"Performance": {"F1Score": "high"}}, "F1Score"),
        ({"Status": 5}, "Status"),
    ],
)
def test_describe_model_fields_are_checked(cli, tmp_path, change, needle):
    data = json.loads(DESCRIBE.read_text())
    data["ModelDescription"].update(change)
    path = write_json(tmp_path / "d.json", data)
    out = tmp_path / "s.toml"
    assert_clean_failure(*cli("seed", path, "-o", out), needle)
    assert not out.exists()


# --- damaged run folders and sweep tables --------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    path = folder / "s.toml"
    path.write_text(small_scenario_toml(duration_h=1), encoding="utf-8")
    result = lfvsim.simulate(load_scenario(path))
    result.write(folder / "out")
    return folder / "out"


def text_in_first_row(text: str) -> str:
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[1] = "abc"
    lines[1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def damaged(run_folder: Path, tmp_path: Path, name: str, edit) -> Path:
    copy = tmp_path / "run"
    copy.mkdir()
    for p in run_folder.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    path = copy / name
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("name", "edit", "needle"),
    [
        ("timeline.csv", lambda t: "x\n", "no timestamp column"),
        ("timeline.csv", lambda t: t.splitlines()[0] + "\n", "no rows"),
        # Cut mid-row: the last row lacks its schema_version (the last column).
        ("timeline.csv", lambda t: t[: len(t) // 2], "cut or damaged"),
        ("timeline.csv", lambda t: "".join(t.splitlines(True)[:30]), "rows but the summary"),
        ("timeline.csv", lambda t: t.replace("\n2026", "\n9999", 1), "timestamps"),
        ("timeline.csv", text_in_first_row, "holds text where numbers belong"),
        (
            "summary.json",
            lambda t: t.replace('"requests": ', '"requests": "many", "x": '),
            "requests",
        ),
        ("summary.json", lambda t: "[1]", "not an lfvsim summary"),
        (
            "scenario.toml",
            lambda t: re.sub(r"^min_units = \d+", "min_units = inf", t, flags=re.M),
            "min_units",
        ),
    ],
)
def test_a_damaged_run_folder_gives_one_line(cli, tmp_path, run_folder, name, edit, needle):
    folder = damaged(run_folder, tmp_path, name, edit)
    with pytest.raises(InputError, match=needle):
        read_run(folder)
    # The command checks the folder against its manifest first, so it names the damaged
    # file; the reader's own checks above cover folders that carry no manifest.
    out = tmp_path / "t.png"
    assert_clean_failure(
        *cli("plot", "timeline", folder, "-o", out), name, "changed since the run wrote it"
    )
    assert not out.exists()


def test_a_replications_folder_is_named_as_such(cli, tmp_path):
    # It used to be called "not a run folder" with advice to write one with
    # 'lfvsim run SCENARIO --out' - which is how it was written.
    path = tmp_path / "s.toml"
    path.write_text(small_scenario_toml(duration_h=1), encoding="utf-8")
    code, _, err = cli("run", path, "--replications", "2", "--out", tmp_path / "reps")
    assert code == 0, err
    with pytest.raises(InputError, match="holds replications"):
        read_run(tmp_path / "reps")
    out = tmp_path / "r.md"
    assert_clean_failure(
        *cli("report", tmp_path / "reps", "-o", out), "holds replications", "without --replications"
    )
    assert not out.exists()


SWEEP_HEADER = (
    "min_units,max_units,oracle_bound,replication,seed,requests,throttled,throttle_rate,"
    "monthly_cost_usd,latency_p99_s,unit_hours,mean_units,peak_units\n"
)


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ("1,2,False,0,1,abc,0,0,1,1,1,1,1\n", "column requests holds text"),
        ("1,2,False,0,1,1,0,0,1,1,1,1,1\n1,2,False,0", "row 3 has no seed"),
    ],
)
def test_a_damaged_sweep_table_gives_one_line(cli, tmp_path, rows, needle):
    path = tmp_path / "sweep.csv"
    path.write_text(SWEEP_HEADER + rows, encoding="utf-8")
    with pytest.raises(InputError, match=needle):
        read_sweep(path)
    out = tmp_path / "f.png"
    assert_clean_failure(*cli("plot", "frontier", path, "-o", out), needle)
    assert not out.exists()


# --- safe output ---------------------------------------------------------------------------------

NASTY = "trace \U0001f600 \x01\x7f \u202e \"q\" 'a' \\ \n#[x].csv"


def test_scenario_toml_with_any_unicode_path_reads_back(tmp_path):
    trace = tmp_path / NASTY.replace("\n", "_").replace("\\", "_")
    trace.write_text("timestamp,count\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,2\n")
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps({"traffic": {"kind": "csv", "path": str(trace)}}))
    scenario = load_scenario(path)
    written = render_toml(scenario)
    again = tmp_path / "again.toml"
    again.write_text(written, encoding="utf-8")
    reread = load_scenario(again)
    assert reread.traffic.path == str(trace)
    assert reread.model_dump() == scenario.model_dump()
    assert lfvsim.simulate(reread).summary.requests == 3


def test_seeded_scenario_with_control_characters_and_emoji_reads_back(cli, tmp_path):
    data = json.loads(DESCRIBE.read_text())
    message = "line one\nline two \x00\x07\x1b[31m red \x7f \U0001f525 done"
    data["ModelDescription"].update(Status="HOSTING_FAILED", StatusMessage=message)
    describe = write_json(tmp_path / NASTY.replace("\n", "_").replace("/", "_"), data)
    out = tmp_path / "seeded.toml"
    code, _, err = cli("seed", describe, "-o", out)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    tomllib.loads(text)  # raises if a comment or a value breaks TOML
    assert load_scenario(out).model.project == "circuit-boards"
    assert "\\x1b[31m red" in text and "\U0001f525" in text


def test_show_config_prints_toml_that_reads_back(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(small_scenario_toml(), encoding="utf-8")
    code, out, err = cli("run", path, "--show-config")
    assert code == 0, err
    again = tmp_path / "again.toml"
    again.write_text(out, encoding="utf-8")
    assert load_scenario(again).model_dump() == load_scenario(path).model_dump()


def test_printed_commands_are_shell_quoted(cli, tmp_path):
    out = tmp_path / "q.toml;touch PWNED;#.toml"
    code, stdout, err = cli("seed", DESCRIBE, "-o", out)
    assert code == 0, err
    command = stdout.split("next: ")[1].strip()
    assert shlex.split(command) == ["lfvsim", "run", str(out)]


def test_shell_command_round_trips_through_a_shell_parser():
    words = ["lfvsim", "run", "a b.toml", "$(rm -rf ~)", "x;y", "'", "\U0001f600", "--seed", 3]
    assert shlex.split(shell_command(*words)) == [str(w) for w in words]


def test_csv_cells_a_spreadsheet_would_evaluate_are_neutralised():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'):
        assert csv_safe_cell(text) == "'" + text
    for value in ("plain", "", "1-2", -3, -2.5, None):
        assert csv_safe_cell(value) == value


def test_csv_safe_frame_keeps_negative_numbers_in_number_columns(tmp_path):
    frame = pd.DataFrame(
        {"growth": [-5.0, 10.0], "units": [-1, 2], "label": ["=cmd|' /C calc'!A0", "ok"]}
    )
    path = tmp_path / "t.csv"
    csv_safe_frame(frame).to_csv(path, index=False)
    back = pd.read_csv(path)
    assert back["growth"].tolist() == [-5.0, 10.0]
    assert back["units"].tolist() == [-1, 2]
    assert back["label"].tolist() == ["'=cmd|' /C calc'!A0", "ok"]
    assert frame["label"][0].startswith("=")  # the caller's frame is not changed


def test_toml_comment_is_one_line_without_control_characters():
    text = toml_comment("a\nb\x00c\x1bd\x7f\U0001f600")
    assert "\n" not in text and text.isprintable()
    tomllib.loads(f"# {text}\nx = 1\n")


def test_report_reproduce_commands_are_shell_quoted(cli, tmp_path, run_folder):
    folder = tmp_path / "q;touch PWNED;#"
    folder.mkdir()
    for p in run_folder.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    out = tmp_path / "r.md"
    code, _, err = cli("report", folder, "-o", out)
    assert code == 0, err
    commands = [
        shlex.split(line)
        for line in out.read_text(encoding="utf-8").splitlines()
        if line.startswith(("lfvsim run ", "lfvsim report ", "aws "))
    ]
    assert len(commands) == 4
    runs = [c for c in commands if c[:2] == ["lfvsim", "run"]]
    assert [c[2] for c in runs] == [str(folder / "scenario.toml")] * 2
    assert ["lfvsim", "report", str(folder)] in [c[:3] for c in commands]
    aws = next(c for c in commands if c[0] == "aws")
    assert json.loads(aws[aws.index("--cli-input-json") + 1])["MinInferenceUnits"] >= 1


def test_sweep_csv_neutralises_varied_text_but_not_numbers(tmp_path):
    from lfvsim.experiments.sweep import _write_atomic

    table = pd.DataFrame(
        {
            "min_units": [1, 2],
            "traffic.growth_percent_per_month": [-5.0, 3.0],
            "hosting.windows": ["@SUM(1+1)*cmd|' /C calc'!A0", "Mon-Fri 06:00-22:00"],
        }
    )
    csv_path, parquet_path = tmp_path / "s.csv", tmp_path / "s.parquet"
    _write_atomic(table, csv_path, "csv")
    _write_atomic(table, parquet_path, "parquet")
    back = pd.read_csv(csv_path)
    assert back["traffic.growth_percent_per_month"].tolist() == [-5.0, 3.0]
    assert back["hosting.windows"][0] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert back["hosting.windows"][1] == "Mon-Fri 06:00-22:00"
    # Parquet is not opened by spreadsheets as formulas: its text stays exact.
    assert pd.read_parquet(parquet_path)["hosting.windows"][0].startswith("@SUM")


def test_neutralised_csv_cells_read_back_as_written():
    texts = ["=1+1", "+1", "-1", "@SUM(A1)", "'quoted", "''", "plain", "1-2", ""]
    for text in texts:
        assert csv_restored_cell(csv_safe_cell(text)) == text
    for value in (-3, -2.5, None, True):
        assert csv_restored_cell(csv_safe_cell(value)) == value


def test_a_sweep_csv_with_formula_like_values_reads_back_as_the_original(tmp_path):
    # Varied text that a spreadsheet would run (here trace file names): neutralised in the
    # file, the original values when lfvsim reads its own table back.
    from lfvsim.experiments import sweep
    from lfvsim.reports import read_sweep

    names = ["=1+2.csv", "+cmd.csv", "-x.csv", "@SUM(A1).csv", "'kept.csv"]
    for k, name in enumerate(names):
        rows = "".join(f"2026-01-05T00:{m:02d}:00Z,{30 + k}\n" for m in range(10))
        (tmp_path / name).write_text("timestamp,count\n" + rows)
    (tmp_path / "s.toml").write_text(f'[traffic]\nkind = "csv"\npath = "{names[0]}"\n')
    out = tmp_path / "grid.csv"
    table = sweep(
        lfvsim.load_scenario(tmp_path / "s.toml"),
        min_units=[1],
        max_units=[1],
        replications=1,
        seed=3,
        workers=1,
        vary={"traffic.path": names},
        output=out,
    )
    raw = pd.read_csv(out)["traffic.path"]
    assert sorted(set(raw)) == sorted(
        ["'=1+2.csv", "'+cmd.csv", "'-x.csv", "'@SUM(A1).csv", "''kept.csv"]
    )
    back = read_sweep(out)
    assert sorted(set(back["traffic.path"])) == sorted(names)
    assert back["traffic.path"].tolist() == table["traffic.path"].tolist()
    # Numbers are untouched both ways.
    assert back["requests"].tolist() == table["requests"].tolist()
    assert back["cost_usd"].tolist() == pytest.approx(table["cost_usd"].tolist())
