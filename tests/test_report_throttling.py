"""The report's 'Why requests were throttled': causes, advice, worst hour and worst minutes."""

from __future__ import annotations

import pandas as pd
import pytest
from markdown_it import MarkdownIt

import lfvsim
from lfvsim.engine.busy import hourly_throttle_rates, worst_minutes
from lfvsim.experiments import recommend, sweep
from lfvsim.experiments.recommend import cause_remedy
from lfvsim.reports.formatting import percent
from lfvsim.reports.template import Document, Paragraph, Section, Table, render_markdown
from lfvsim.reports.throttling import (
    _summed_over,
    choice_throttling_blocks,
    dominant_cause_text,
    run_throttling_blocks,
)

CAUSES = ["throttled_scaling", "throttled_at_max", "throttled_burst", "throttled_capacity_lost"]
UNIT = {"slots": 1, "latency_distribution": "constant", "latency_mean_s": 1.0}


def _scenario(**sections) -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(sections)


@pytest.fixture(scope="module")
def outage_run() -> lfvsim.Result:
    """Three fixed units, one lost for the second hour: steady-state and lost-capacity throttles."""
    sc = _scenario(
        model={"min_units": 3},
        unit=UNIT,
        autoscaler={"policy": "none"},
        failures={
            "availability_zones": 3,
            "replacement_delay_s": 600,
            "outages": [{"zone": 1, "start_h": 1.0, "duration_h": 1.0}],
        },
        traffic={"kind": "constant", "rate_tps": 2.5, "duration_h": 3},
    )
    return lfvsim.simulate(sc, seed=5)


def _tables(blocks) -> list[Table]:
    return [b for b in blocks if isinstance(b, Table)]


def _text(blocks) -> str:
    return " ".join(b.strong + " " + b.text for b in blocks if isinstance(b, Paragraph))


def test_the_causes_add_up_to_the_throttled_total(outage_run):
    s = outage_run.summary
    causes, _ = _tables(run_throttling_blocks(outage_run))
    rows = {row[0]: row for row in causes.rows}
    assert [r[0] for r in causes.rows] == ["scaling", "at Max", "burst", "capacity lost", "total"]
    assert rows["burst"][1:3] == (
        f"{s.throttled_burst:,}",
        percent(s.throttled_burst / s.throttled),
    )
    assert rows["capacity lost"][1] == f"{s.throttled_capacity_lost:,}"
    assert rows["scaling"][1] == rows["at Max"][1] == "0"
    counts = [int(r[1].replace(",", "")) for r in causes.rows[:-1]]
    assert sum(counts) == int(rows["total"][1].replace(",", "")) == s.throttled
    assert causes.highlight == frozenset({4})


def test_the_dominant_cause_gets_the_advice_recommend_prints(outage_run):
    s = outage_run.summary
    text = _text(run_throttling_blocks(outage_run))
    share = percent(s.throttled_burst / s.throttled)
    # Min 3 and no Max: the ranges start above them, as recommend's would.
    assert f"{share} of the throttling ({s.throttled_burst:,} requests, cause burst) " in text
    assert cause_remedy("burst", 3, 3) in text
    assert "--min 4..7" in text


def test_each_cause_leads_to_its_own_advice():
    base = dict.fromkeys(CAUSES, 0)
    at_max = dominant_cause_text({**base, "throttled_at_max": 9, "throttled_burst": 1}, 1, 4)
    assert at_max.startswith("90% of the throttling (9 requests, cause at Max) comes with every")
    assert "--max 5..9" in at_max
    scaling = dominant_cause_text({**base, "throttled_scaling": 3}, 2, 6)
    assert "raise Min (try --min 3..5)" in scaling
    assert dominant_cause_text(base, 1, 4) == ""


def test_the_worst_hour_and_the_worst_minutes_are_the_summarys(outage_run):
    r, s = outage_run, outage_run.summary
    blocks = run_throttling_blocks(r)
    _, minutes = _tables(blocks)
    text = _text(blocks)
    tl = r.timeline
    hours = hourly_throttle_rates(
        tl["offered_requests"].to_numpy(), tl["ThrottledCount"].to_numpy(), tl.index[0]
    )
    worst = hours["throttle_rate"].idxmax()
    assert hours["throttle_rate"].max() == pytest.approx(s.throttle_rate_worst_hour)
    assert (
        f"from {worst:%Y-%m-%d %H:00} UTC, throttled {percent(s.throttle_rate_worst_hour)} "
        f"({int(hours.loc[worst, 'throttled']):,} of {int(hours.loc[worst, 'attempts']):,} "
        f"attempts), against {percent(s.throttle_rate)} over the whole run"
    ) in text
    assert (
        f"99% of the minutes with attempts throttled at most {percent(s.throttle_rate_minute_p99)}"
        in text
    )
    expected = worst_minutes(tl, 5)
    assert [row[0] for row in minutes.rows] == [f"{t:%Y-%m-%d %H:%M}" for t in expected.index]
    assert [row[3] for row in minutes.rows] == [percent(v) for v in expected["throttle_rate"]]
    for row, when in zip(minutes.rows, expected.index, strict=True):
        top = max(CAUSES, key=lambda c: tl.loc[when, c])
        assert (
            row[4] == {"throttled_burst": "burst", "throttled_capacity_lost": "capacity lost"}[top]
        )


def test_a_run_without_throttling_says_so_in_one_sentence():
    sc = _scenario(
        model={"min_units": 4},
        unit=UNIT,
        autoscaler={"policy": "none"},
        traffic={"kind": "constant", "rate_tps": 0.2, "duration_h": 1},
    )
    r = lfvsim.simulate(sc, seed=1)
    assert r.summary.throttled == 0
    (block,) = run_throttling_blocks(r)
    assert (
        block.text
        == f"None of the {r.summary.attempts:,} attempts of the simulated run was throttled."
    )


def test_a_run_written_before_causes_keeps_its_busy_hour(outage_run):
    from dataclasses import replace

    old = lfvsim.Result(
        **{
            **outage_run.__dict__,
            "summary": replace(outage_run.summary, **dict.fromkeys(CAUSES, None)),
            "timeline": outage_run.timeline.drop(columns=CAUSES),
        }
    )
    blocks = run_throttling_blocks(old)
    (minutes,) = _tables(blocks)
    assert minutes.header[0] == "worst minutes (UTC)"
    assert {row[4] for row in minutes.rows} == {"-"}
    assert "What to change" not in _text(blocks)


@pytest.fixture(scope="module")
def small_sweep() -> pd.DataFrame:
    sc = _scenario(
        model={"min_units": 1, "max_units": 3},
        unit={"slots": 2, "latency_distribution": "constant", "latency_mean_s": 0.5},
        traffic={"kind": "diurnal", "mean_tps": 4.0, "peak_to_trough": 6, "duration_h": 2},
    )
    return sweep(sc, min_units=[1, 2], max_units=[2, 3], replications=3, workers=1)


def test_the_recommended_configuration_shows_its_worst_hour_minutes_and_causes(small_sweep):
    rec = recommend(small_sweep, 0.2)
    c = rec.choice
    assert c is not None
    blocks = choice_throttling_blocks(rec, small_sweep, 0.95)
    text = _text(blocks)
    assert f"its worst clock hour throttled {percent(c.worst_hour_rate)} on average" in text
    assert f"(upper bound {percent(c.worst_hour_rate_upper)})" in text
    assert f"99% of its minutes throttled at most {percent(c.minute_p99_rate)}" in text
    same_max = (
        small_sweep["max_units"].isna()
        if c.max_units is None
        else small_sweep["max_units"] == c.max_units
    )
    runs = small_sweep[(small_sweep["min_units"] == c.min_units) & same_max]
    assert len(runs) == 3
    (causes,) = _tables(blocks)
    # The counts are sums over the replications, and the table says so.
    assert causes.header[1] == "throttled requests, summed over 3 replications"
    assert causes.rows[-1][1] == f"{int(runs['throttled'].sum()):,}"
    for row, column in zip(causes.rows, CAUSES, strict=False):
        assert row[1] == f"{int(runs[column].sum()):,}"
    assert choice_throttling_blocks(rec, None, 0.95) == []
    assert choice_throttling_blocks(recommend(small_sweep, 1e-9), small_sweep, 0.95) == []


def test_with_varied_values_the_sum_is_over_every_run():
    assert _summed_over(3, 3) == "summed over 3 replications"
    assert _summed_over(6, 3) == "summed over 6 runs (every replication of every varied value)"


def test_one_run_s_cause_table_is_not_labelled_as_a_sum(outage_run):
    causes, _ = _tables(run_throttling_blocks(outage_run))
    assert causes.header[1] == "throttled requests"


def test_the_section_renders_as_text_and_tables_in_markdown(outage_run):
    blocks = tuple(run_throttling_blocks(outage_run))
    md = render_markdown(Document("t", "s", (Section("throttling", "Why", blocks),)), {})
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<table>") == 2
    html = html.split('id="throttling"')[1]  # the section, without the subtitle
    assert "<em>" not in html  # target_percent and the like stay literal
    assert "autoscaler.target_percent=30,50" in html
    assert "--min 4..7" in html
