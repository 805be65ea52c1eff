"""The wording of ``lfvsim recommend``'s text: ranges, early stop, outlook, notes, units."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lfvsim.experiments import recommend
from lfvsim.experiments.search import SearchResult
from lfvsim.reports.text import format_outlook, format_recommendation, format_search
from lfvsim.scenario import load_scenario
from tests.test_experiments import synthetic

QUICKSTART = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.toml"


def _searched(replications: int, early_stop: dict | None, peak: int = 5) -> SearchResult:
    return SearchResult(
        table=pd.DataFrame(),
        min_units=list(range(1, peak + 1)),
        max_units=list(range(1, 12)),
        derived=True,
        oracle_peak_units=peak,
        simulated=10,
        skipped=5,
        replications=replications,
        runs_simulated=30,
        early_stop=early_stop,
    )


def test_header_states_the_grid_searched_once():
    table = synthetic({(1, 2): (900.0, [0.0, 0.0, 0.0]), (1, 3): (1000.0, [0.0, 0.0, 0.0])})
    rec = recommend(table, 0.01)
    text = format_recommendation(rec, table, load_scenario(QUICKSTART), None, _searched(3, None))
    assert "searched: Min 1..5, Max 1..11 and no auto-scaling" in text
    lines = format_search(_searched(3, None))
    assert lines[0].startswith("search: range derived from the traffic")
    assert "Min" not in lines[0]


def test_no_interim_look_means_no_early_stop():
    text = "\n".join(format_search(_searched(3, None)))
    assert "no early stop" in text and "looks after  and" not in text
    text = "\n".join(format_search(_searched(6, {"looks": [3, 5, 6], "interim_error": 0.01})))
    assert "interim looks after 3 and 5 replications, error 0.01 spent on them" in text
    assert "the rest ran all 6" in text
    text = "\n".join(format_search(_searched(4, {"looks": [3, 4], "interim_error": 0.01})))
    assert "interim look after 3 replications" in text


def test_units_are_plural_by_count():
    assert "the oracle needs 1 unit at peak" in format_search(_searched(3, None, peak=1))[0]
    assert "the oracle needs 2 units at peak" in format_search(_searched(3, None, peak=2))[0]


def test_busier_day_speaks_of_max_only_when_there_is_one():
    outlook = {
        "headroom": {"traffic_factor": 1.5, "at_least": False, "resolution": 0.05},
        "busier_day": {"factor": 1.25, "throttle_rate": 0.02},
    }
    fixed = "\n".join(format_outlook(outlook, 0, None))
    assert "Max equals" not in fixed and "every fixed unit is in service at the peak" in fixed
    assert "Max equals the most units in service" in "\n".join(format_outlook(outlook, 0, 3))


def test_notes_claim_a_pass_only_when_something_passes():
    table = synthetic({(1, 2): (900.0, [0.02, 0.03, 0.025])})
    scenario = load_scenario(QUICKSTART)
    failed = format_recommendation(recommend(table, 0.001), table, scenario)
    assert "cheapest of many configurations that pass" not in failed
    passed = format_recommendation(recommend(table, 0.1), table, scenario)
    assert "cheapest of many configurations that pass" in passed


def test_long_latencies_read_in_hours():
    table = synthetic({(1, 2): (900.0, [0.0, 0.0, 0.0])})
    table["latency_p99_s"] = 33473.684
    text = format_recommendation(recommend(table, 0.01), table, load_scenario(QUICKSTART))
    assert "33473.684 s" not in text
    assert "latency p99        9 h 18 min" in text


def test_the_oracle_is_not_called_a_lower_bound_when_the_choice_costs_less():
    from lfvsim.reports.sentences import oracle_gap_sentence

    table = synthetic(
        {(1, 3): (700.0, [0.004, 0.005, 0.006]), (1, "oracle"): (800.0, [0.0, 0.0, 0.0])}
    )
    rec = recommend(table, 0.01)
    for terse in (True, False):
        sentence = oracle_gap_sentence(rec, terse=terse)
        assert sentence is not None and "lower bound" not in sentence
        assert "less" in sentence
    assert "zero-throttle oracle" in oracle_gap_sentence(rec, terse=True)
