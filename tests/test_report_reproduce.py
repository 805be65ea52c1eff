"""The command under a report's Reproduce heading, run as printed, writes the same report."""

from __future__ import annotations

import html
import re
import shlex
import shutil

import pytest

import lfvsim
from lfvsim.experiments import sweep
from lfvsim.reports import build_report
from lfvsim.reports.content import lfvsim_version, report_command
from tests.conftest import small_scenario_toml

GENERATED = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def _reproduce_command(page: str) -> str:
    start = page.index('<section id="reproduce">')
    block = page[start : page.index("</section>", start)]
    lines = [line for line in block.split("\n") if line.startswith("lfvsim report ")]
    assert len(lines) == 1, lines
    return html.unescape(lines[0])


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_the_printed_command_rebuilds_the_report_apart_from_its_timestamp(
    cli, tmp_path, monkeypatch, fmt
):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    # A name and a title that need quoting in a shell.
    scenario_name = "line 7; $(echo x).toml"
    (first / scenario_name).write_text(small_scenario_toml(duration_h=1))
    table = sweep(
        lfvsim.load_scenario(first / scenario_name),
        min_units=[1, 2],
        max_units=[2],
        replications=2,
        workers=1,
    )
    table.to_csv(first / "sweep 1.csv", index=False)
    shutil.copytree(first, second)
    monkeypatch.chdir(first)
    out = f"my 'report'.{fmt}"
    code, _, err = cli(
        "report", scenario_name, "--sweep", "sweep 1.csv", "--seed", "11",
        "--max-throttle-rate", "0.05", "--max-p99-latency-s", "30",
        "--title", "Line 7's plan", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    page = (first / out).read_text()
    if fmt == "md":
        command = next(x for x in page.split("\n") if x.startswith("lfvsim report "))
    else:
        command = _reproduce_command(page)
    words = shlex.split(command)
    assert words[:3] == ["lfvsim", "report", scenario_name]
    for flag in ("--sweep", "--seed", "--max-throttle-rate", "--max-p99-latency-s", "--title"):
        assert flag in words
    assert f"lfvsim {lfvsim_version()}" in page

    monkeypatch.chdir(second)
    code, _, err = cli(*words[1:])
    assert code == 0, err
    again = (second / out).read_text()
    assert GENERATED.search(page) and GENERATED.search(again)
    assert GENERATED.sub("", again) == GENERATED.sub("", page)
    if fmt == "md":
        images = sorted(p.name for p in first.glob("*.png"))
        assert images == sorted(p.name for p in second.glob("*.png")) and len(images) == 5
        for name in images:
            assert (first / name).read_bytes() == (second / name).read_bytes()


def test_the_command_keeps_a_trace_and_leaves_out_an_slo_nothing_used(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(small_scenario_toml(duration_h=1))
    report = build_report(
        lfvsim.load_scenario(path), source="s.toml", trace_source="t r.csv", output="r.md"
    )
    code = report.to_html()
    assert "lfvsim report s.toml --trace &#x27;t r.csv&#x27; --seed " in code
    assert "--max-throttle-rate" not in code and "--confidence" not in code
    assert re.search(r"--seed \d+ -o r\.md", code)


def test_the_command_of_a_sweep_report_keeps_the_default_slo_explicit():
    words = report_command("s.toml", sweep_source="sw.csv", seed=3, output="r.md")
    assert words[3:] == [
        "--sweep", "sw.csv", "--seed", "3",
        "--max-throttle-rate", "0.001", "--confidence", "0.95", "-o", "r.md",
    ]  # fmt: skip
