"""The report's parts from a CloudWatch history: the backtest section (figures, overlay and
error pictures, misfit flags) with --cloudwatch, and the calibrated values marked with their
source, period and interval where assumptions are shown; names from the user stay text."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

import lfvsim
from lfvsim.engine import simulate
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.reports import build_report
from lfvsim.traces.metric_history import read_metric_history
from tests.test_backtest import BASE, TOML, export
from tests.test_cli import assert_clean_failure
from tests.test_report_safety import _inert, _rendered


@pytest.fixture(scope="module")
def history_file(tmp_path_factory) -> Path:
    """Eight hours made by BASE with a 60 % target and 2 datapoints."""
    made_by = BASE.with_overrides(
        {"autoscaler.target_percent": 60.0, "autoscaler.scale_out_datapoints": 2}, source="t"
    )
    folder = tmp_path_factory.mktemp("history")
    return Path(export(simulate(made_by, seed=1).timeline, folder / "h.json"))


def section(markdown: str, title: str) -> str:
    start = markdown.index(f"## {title}")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end > 0 else None]


def test_report_with_a_history_has_a_backtest_section_and_its_pictures(cli, tmp_path, history_file):
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    calibrated = tmp_path / "c.toml"
    code, _, err = cli("calibrate", scenario, "--cloudwatch", history_file, "-o", calibrated)
    assert code == 0, err
    out = tmp_path / "r.md"
    code, _, err = cli("report", calibrated, "--cloudwatch", history_file, "-o", out)
    assert code == 0, err
    markdown = out.read_text()
    part = section(markdown, "Backtest against CloudWatch history")
    assert "h.json" in part and "unit-hours" in part and "scale-ins" in part
    assert "No misfit flagged" in part
    images = re.findall(r"\]\(([^)]+\.png)\)", part)
    assert len(images) == 2 and all((tmp_path / i).stat().st_size > 0 for i in images)
    assert any("backtest-errors" in i for i in images)
    # The report's own command rebuilds it with the same history.
    reproduce = section(markdown, "Reproduce")
    assert f"--cloudwatch {history_file}" in reproduce
    # Every calibrated value is marked with its source, period and interval, and is no
    # longer listed as an assumption.
    scenario_part = section(markdown, "Scenario and assumptions")
    loaded = lfvsim.load_scenario(calibrated)
    assert set(loaded.calibration) >= {"autoscaler.target_percent", "unit.slots"}
    assert "unit.throttling" in loaded.calibrated
    for key, fitted in loaded.calibration.items():
        row = next(line for line in scenario_part.splitlines() if line.startswith(f"| {key} |"))
        if not fitted.chosen:  # the rejected structure's fit: listed among the assumptions
            assert "h.json" not in row, row
            continue
        assert "h.json" in row and fitted.period in row and " to " in row, row
        assert "ASSUMPTION" not in row
    assumptions = scenario_part[scenario_part.index("| assumption |") :]
    table = assumptions[: assumptions.index("\n\n")]
    assert "target_percent" not in table and "ASSUMPTION" not in table
    source = loaded.calibration["unit.slots"].source
    assert f"calibrated from {source}" in scenario_part  # the resolved TOML says so too


def test_the_backtest_section_flags_a_history_the_scenario_does_not_describe(history_file):
    wrong = BASE.with_overrides({"autoscaler.target_percent": 90.0, "unit.slots": 8}, source="t")
    report = build_report(wrong, history=read_metric_history(history_file), title="t")
    markdown, images = report.to_markdown("r")
    part = section(markdown, "Backtest against CloudWatch history")
    assert "**Misfit.**" in part and "No misfit flagged" not in part
    assert sum("backtest" in name for name in images) == 2
    # Without a history there is no backtest section, and no calibrated table.
    plain, _ = build_report(BASE, title="t").to_markdown("r")
    assert "## Backtest" not in plain and "| calibrated |" not in plain


def test_a_hostile_export_name_renders_as_text_in_both_formats(tmp_path):
    # No * ? or [ in the name: those make it a glob pattern.
    hostile = tmp_path / "<img src=x onerror=alert(1)> | `c` _i_ &lt;b&gt; (javascript:x).json"
    path = export(simulate(BASE, seed=1).timeline, hostile)
    history = read_metric_history(path)
    calibrated = calibrate_scenario(BASE, history).scenario
    assert calibrated.calibration  # the name is in the calibrated table too
    report = build_report(calibrated, history=history, history_sources=(path,), title="t")
    markdown, _ = report.to_markdown("r")
    page = _rendered(markdown)
    _inert(page)
    assert "onerror=alert(1)&gt;" in page or "onerror=alert(1)>" not in page
    _inert(report.to_html())
    # The calibrated row keeps its five columns: the pipe in the name is escaped.
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    (row,) = [r for r in rows if "<td>autoscaler.provisioning_delay_s</td>" in r and "alert" in r]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert len(cells) == 5 and unescape(cells[2]) == path, cells  # the name, as text


def test_report_refuses_a_missing_history_and_writes_nothing(cli, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML)
    out = tmp_path / "r.html"
    code, stdout, err = cli("report", scenario, "--cloudwatch", tmp_path / "nope.json", "-o", out)
    assert_clean_failure(code, stdout, err, "nope.json", "does not exist")
    assert not out.exists()
