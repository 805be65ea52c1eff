"""The shareable report and the readers: sections, embedded images, offline, all or nothing."""

from __future__ import annotations

import base64
import html
import json
import re
import socket
import tomllib

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import aggregate, recommend, sweep
from lfvsim.reports import build_report, read_run, read_sweep, report_format
from lfvsim.reports.formatting import duration, percent, signed_usd, span
from lfvsim.reports.sentences import one_more_unit_sentence, oracle_gap_sentence
from lfvsim.reports.text import format_recommendation
from tests.conftest import small_scenario_toml

SMALL = small_scenario_toml(duration_h=2)
SLO = 0.05  # Min 1, Max 3 meets it; 0.001 is met by nothing in the small sweep
RUN_SECTIONS = (
    "summary",
    "start-model",
    "figures",
    "throttling",
    "run",
    "assumptions",
    "reproduce",
)
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="[^"]+">')


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "line-7.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def scenario(scenario_file) -> lfvsim.Scenario:
    return lfvsim.load_scenario(scenario_file)


@pytest.fixture(scope="module")
def table(scenario) -> pd.DataFrame:
    return sweep(
        scenario, min_units=[1, 2], max_units=[1, 2, 3], replications=3, oracle=True, workers=1
    )


@pytest.fixture(scope="module")
def sweep_file(table, tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sweep.parquet"
    table.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_report(scenario):
    return build_report(scenario, source="line-7.toml")


@pytest.fixture(scope="module")
def swept_report(scenario, table):
    return build_report(scenario, sweep=table, max_throttle_rate=SLO)


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the report tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(data) for data in IMG.findall(html)]


def _self_contained(html: str) -> None:
    lowered = html.lower()
    for forbidden in ("<script", "<link", "http://", "https://", "@import", "url("):
        assert forbidden not in lowered, forbidden
    assert re.findall(r'src="([^",]*),', html) == ["data:image/png;base64"] * len(
        re.findall(r"<img ", html)
    )


# --- the report ------------------------------------------------------------------------------


def test_report_of_one_run_has_every_section_and_embeds_its_figures(scenario, offline):
    report = build_report(scenario, source="line-7.toml")  # built offline here
    html = report.to_html()
    assert _sections(html) == list(RUN_SECTIONS)
    images = _images(html)
    assert len(images) == 2 == len(report.figures)  # timeline, cost
    assert all(i.startswith(b"\x89PNG\r\n\x1a\n") and len(i) > 10_000 for i in images)
    for name in ("timeline", "daily-cost"):
        assert f'<figure id="figure-{name}">' in html
    _self_contained(html)
    s = report.result.summary
    summary = _section(html, "summary")
    assert f"USD {s.cost_usd:,.2f}" in summary
    assert f"{100 * s.throttle_rate:.3g}%" in summary
    request = _section(html, "start-model")
    assert "&quot;MinInferenceUnits&quot;: 1" in request
    assert "&quot;MaxInferenceUnits&quot;: 3" in request
    assert "aws lookoutvision start-model --region us-east-1" in request


def test_report_flags_every_assumption_and_the_run_notes(run_report):
    report = run_report
    html = report.to_html()
    part = _section(html, "assumptions")
    toml = lfvsim.render_toml(report.result.scenario)
    marked = [line for line in toml.splitlines() if "ASSUMPTION:" in line]
    assert part.count('<span class="mark">') == len(marked) > 10
    for key in ("unit.slots", "unit.latency_mean_s", "autoscaler.target_percent"):
        assert f"<td>{key}</td>" in part
    assert "unset: USD 4.00 per unit-hour in us-east-1" in part
    for note in report.result.notes:
        assert note.split(" (")[0].replace("'", "&#x27;") in part


def test_report_with_a_sweep_recommends_with_confidence_and_runs_the_choice(
    scenario, table, offline
):
    report = build_report(scenario, sweep=table, max_throttle_rate=SLO)
    rec = report.recommendation
    assert rec is not None and rec.choice is not None
    assert (rec.choice.min_units, rec.choice.max_units) == (1, 3)
    s = report.result.summary
    assert (s.min_units, s.max_units) == (1, 3)  # the timeline shows the recommendation
    html = report.to_html()
    assert _sections(html) == ["summary", "recommendation", *RUN_SECTIONS[1:]]
    assert len(_images(html)) == 5
    for name in ("timeline", "daily-cost", "frontier", "heatmap-cost", "heatmap-throttle"):
        assert f'<figure id="figure-{name}">' in html
    _self_contained(html)
    summary = _section(html, "summary")
    assert "Start the model with MinInferenceUnits 1 and MaxInferenceUnits 3" in summary
    lo, hi = rec.choice.monthly_cost_interval_usd
    assert f"95% confidence interval {lo:,.0f} to {hi:,.0f}" in summary
    assert f"at most {100 * rec.choice.throttle_rate_upper:.3g}% with 95% confidence" in summary
    part = _section(html, "recommendation")
    assert '<tr class="hl"><td>recommended</td><td>Min 1, Max 3</td>' in part
    assert "zero-throttle oracle" in part
    request = _section(html, "start-model")
    token = rec.start_model_request["ClientToken"]
    assert f"&quot;ClientToken&quot;: &quot;{token}&quot;" in request
    assert "for the recommended configuration" in request


def test_report_when_nothing_meets_the_slo_says_what_to_try(scenario, table):
    report = build_report(scenario, sweep=table, max_throttle_rate=0.001)
    assert report.recommendation is not None and not report.recommendation.met
    html = report.to_html()
    assert "No configuration tried meets the SLO" in _section(html, "summary")
    assert "Try:" in _section(html, "recommendation")
    assert "scenario&#x27;s own Min and Max" in _section(html, "start-model")
    assert report.result.summary.max_units == 3  # the scenario as written


def test_report_of_a_sweep_with_one_replication_shows_it_without_a_recommendation(scenario, table):
    one = table[table["replication"] == 0]
    report = build_report(scenario, sweep=one)
    assert report.recommendation is None
    html = report.to_html()
    assert "a confidence bound needs two or more" in html
    assert len(_images(html)) == 5


def test_markdown_report_writes_images_beside_it(swept_report, tmp_path, offline):
    report = swept_report
    paths = report.write(tmp_path / "line-7.md")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(p.name for p in paths)
    assert len(names) == 6
    text = (tmp_path / "line-7.md").read_text()
    for name in report.figures:
        image = tmp_path / f"line-7-{name}.png"
        assert f"]({image.name})" in text
        assert image.read_bytes().startswith(b"\x89PNG")
    for heading in ("## Summary", "## Recommendation", "## StartModel request", "## Figures"):
        assert heading in text
    assert '"MaxInferenceUnits": 3' in text


def test_report_format_follows_the_name_and_refuses_a_mismatch(tmp_path):
    assert report_format(tmp_path / "r.html") == "html"
    assert report_format(tmp_path / "r.md") == "md"
    assert report_format(tmp_path / "r", "md") == "md"
    with pytest.raises(lfvsim.InputError, match=r"name the file r\.md"):
        report_format(tmp_path / "r.html", "md")
    with pytest.raises(lfvsim.InputError, match=r"\.html or \.md"):
        report_format(tmp_path / "r.pdf")


# --- lfvsim report ---------------------------------------------------------------------------


def test_report_command_writes_html(cli, scenario_file, sweep_file, tmp_path, offline):
    out = tmp_path / "report.html"
    code, stdout, err = cli(
        "report", scenario_file, "--sweep", sweep_file, "--max-throttle-rate", SLO, "-o", out
    )
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}"
    html = out.read_text()
    assert "recommendation" in _sections(html) and len(_images(html)) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name != ".lfvsim-written"] == ["report.html"]


def test_report_command_from_a_run_folder_writes_markdown(cli, scenario, tmp_path):
    lfvsim.simulate(scenario).write(tmp_path / "run")
    code, stdout, err = cli("report", tmp_path / "run", "--format", "md", "-o", tmp_path / "r.md")
    assert code == 0, err
    assert "2 images beside it" in stdout
    text = (tmp_path / "r.md").read_text()
    assert "the run in" in text and "![" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (("{scenario}", "--sweep", "{missing}.parquet", "-o", "{out}.html"), "do not exist"),
        (("{scenario}", "--sweep", "{scenario}", "-o", "{out}.html"), "unknown format '.toml'"),
        (("{scenario}", "--sweep", "{bad}", "-o", "{out}.html"), "is not a sweep table"),
        (("{missing}.toml", "-o", "{out}.html"), "nope.toml"),
        (("{scenario}", "-o", "{out}.pdf"), "end the name in .html or .md"),
        (("{scenario}", "-o", "{out}.html", "--format", "md"), "name the file out.md"),
        (("{scenario}", "-o", "{out}.html", "--max-throttle-rate", "2"), "--max-throttle-rate"),
    ],
)
def test_report_command_bad_input_is_one_line_exit_2_and_no_file(
    cli, scenario_file, tmp_path, args, message
):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    values = {
        "scenario": scenario_file,
        "missing": tmp_path / "nope",
        "out": tmp_path / "out",
        "bad": bad,
    }
    code, _, err = cli("report", *(a.format(**values) for a in args))
    assert code == 2
    assert err.startswith("lfvsim: error: ") and err.count("\n") == 1, err
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


# --- readers ---------------------------------------------------------------------------------


def test_read_run_gives_back_the_result_that_was_written(scenario, tmp_path):
    result = lfvsim.simulate(scenario)
    result.write(tmp_path)
    back = read_run(tmp_path)
    assert back.summary == result.summary or _same_summary(back.summary, result.summary)
    pd.testing.assert_frame_equal(back.timeline, result.timeline, check_freq=False)
    assert back.scenario.model == result.scenario.model
    assert back.scenario.unit == result.scenario.unit
    assert back.notes == result.notes
    assert back.seed == result.seed
    assert read_run(tmp_path / "timeline.csv").summary.seed == result.seed


def _same_summary(a, b) -> bool:
    da, db = a.to_dict(), b.to_dict()
    return da.keys() == db.keys() and all(
        (x is None and y is None) or x == pytest.approx(y)
        for x, y in zip(da.values(), db.values(), strict=True)
    )


def test_read_run_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(lfvsim.InputError, match="does not exist"):
        read_run(tmp_path / "nothing")
    (tmp_path / "timeline.csv").write_text("timestamp,x\n")
    with pytest.raises(lfvsim.InputError, match=r"summary\.json, scenario\.toml"):
        read_run(tmp_path)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_read_sweep_round_trips_parquet_and_csv(table, tmp_path, suffix):
    path = tmp_path / f"sweep{suffix}"
    if suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)
    back = read_sweep(path)
    assert back["max_units"].dtype == "Int64"
    assert back["oracle_bound"].dtype == bool
    a, b = aggregate(table), aggregate(back)
    np.testing.assert_allclose(a["monthly_cost_usd"], b["monthly_cost_usd"])
    np.testing.assert_allclose(a["throttle_rate_upper"], b["throttle_rate_upper"])


def test_report_json_request_matches_start_model_input(scenario, run_report):
    from lfvsim.startmodel import start_model_request

    report = run_report
    assert report.start_model_request == start_model_request(scenario)
    assert json.dumps(report.start_model_request, indent=2).replace('"', "&quot;") in (
        report.to_html()
    )


def test_scenario_toml_in_the_report_loads_back(run_report):
    html = run_report.to_html()
    block = _section(html, "assumptions")
    code = block[block.index("<pre><code>") + 11 : block.index("</code></pre>")]
    text = re.sub(r"</?span[^>]*>", "", code)
    text = text.replace("&quot;", '"').replace("&#x27;", "'").replace("&lt;", "<")
    text = text.replace("&gt;", ">").replace("&amp;", "&")
    assert tomllib.loads(text)["model"]["project"] == "line-7"


# --- formatting and the recommendation's sentences -------------------------------------------


def test_percent_reads_zero_missing_and_precision():
    assert percent(0) == "0%"
    assert percent(0.00123) == "0.123%" and percent(0.00123, 2) == "0.12%"
    assert percent(None) == percent(float("nan")) == percent(float("inf")) == "n/a"


def test_signed_usd_keeps_the_sign_and_the_precision_asked_for():
    assert signed_usd(-12.6) == "-USD 13"
    assert signed_usd(1234.5, 2) == "+USD 1,234.50"
    assert signed_usd(0.0) == "+USD 0" and signed_usd(float("nan")) == "n/a"


def test_span_and_duration_read_as_ranges_and_units():
    assert span([1, 2, 3]) == "1..3" and span([4]) == "4"
    assert span(pd.Series([1, 3, None], dtype="Int64")) == "1,3" and span([]) == "-"
    assert [duration(s) for s in (90, 600, 7200, 3 * 86400)] == [
        "1 min 30 s",
        "10 min",
        "2 h",
        "3 d",
    ]


def test_terminal_and_report_give_the_recommendation_the_same_figures(scenario, table):
    rec = recommend(table, SLO, scenario=scenario)
    assert rec.choice is not None and rec.oracle is not None and rec.oracle_gap is not None
    terse = oracle_gap_sentence(rec, terse=True)
    prose = oracle_gap_sentence(rec, terse=False)
    oracle_cost = f"USD {rec.oracle.monthly_cost_usd:,.0f} a month"
    gap = f"USD {abs(rec.oracle_gap.monthly_cost_usd):,.0f}"
    word = "more" if rec.oracle_gap.monthly_cost_usd >= 0 else "less"
    for sentence in (terse, prose):
        assert oracle_cost in sentence and gap in sentence and f" {word}" in sentence
    text = format_recommendation(rec, table, scenario)
    assert terse in text
    report = build_report(scenario, sweep=table, max_throttle_rate=SLO)
    assert html.escape(prose) in report.to_html()
    if rec.one_more_max_unit is not None:
        assert one_more_unit_sentence(rec, terse=True) in text
        assert html.escape(one_more_unit_sentence(rec, terse=False)) in report.to_html()
