"""Sequential replications and reused Max rows: fewer runs, the same answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import recommend, sweep
from lfvsim.experiments.recommend import Slo, best_cost
from lfvsim.experiments.search import search
from lfvsim.experiments.sequential import (
    SequentialRule,
    clearly_dearer,
    interim_looks,
    sequential_rule,
    verdict,
)
from lfvsim.experiments.sweep import run_counts, write_table
from lfvsim.traces import generators


def bursty(rate_tps: float, seed: int, duration_h: float = 1.0, multiplier: float = 3.0):
    base = generators.constant(rate_tps, duration_h, "2026-01-05T00:00Z")
    return generators.spikes(base, per_day=96, multiplier=multiplier, duration_s=300, seed=seed)


def scenario_for(**autoscaler: float) -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 2},
            "autoscaler": {"provisioning_delay_s": 120, **autoscaler},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 1},
        }
    )


def _choice(table: pd.DataFrame, slo: Slo) -> tuple[int, int | None] | None:
    rec = recommend(table, slo.max_throttle_rate, confidence=slo.confidence)
    return None if rec.choice is None else (rec.choice.min_units, rec.choice.max_units)


# --- the rule -----------------------------------------------------------------------------


def test_interim_looks_come_before_the_last_replication():
    assert interim_looks(10) == (3, 5)
    assert interim_looks(40) == (3, 5, 10, 20)
    assert interim_looks(3) == ()
    rule = SequentialRule(10, 0.01)
    assert [rule.next_look(k) for k in (0, 3, 5)] == [3, 5, 10]
    assert rule.interim_error == pytest.approx(0.01)


def _runs(values: np.ndarray, requests: float = 1e5) -> pd.DataFrame:
    return pd.DataFrame(
        {"throttle_rate": values, "throttled": values * requests, "requests": requests}
    )


def test_clear_cases_stop_at_the_first_look_and_close_ones_run_on():
    rule = SequentialRule(10, 0.01)
    assert verdict(_runs(np.array([0.20, 0.21, 0.19])), rule) == "fail"
    assert verdict(_runs(np.array([0.0001, 0.00012, 0.00011])), rule) == "pass"
    assert verdict(_runs(np.array([0.009, 0.011, 0.010])), rule) is None
    assert verdict(_runs(np.array([0.20, 0.21])), rule) is None  # not a look
    assert verdict(_runs(np.full(10, 0.2)), rule) is None  # the last look: the usual rule
    # Nothing throttled at all: the zero-event bound, -ln(e / J) / requests.
    assert verdict(_runs(np.zeros(3), requests=1e4), rule) == "pass"
    assert verdict(_runs(np.zeros(3), requests=100), rule) is None


def test_a_target_given_only_in_the_slo_is_judged():
    rule = sequential_rule(Slo(0.01, max_worst_hour_rate=0.02), 10)
    runs = _runs(np.array([0.001, 0.0011, 0.0009]))
    runs["throttle_rate_worst_hour"] = [0.30, 0.31, 0.29]
    assert verdict(runs, rule) == "fail"
    runs["throttle_rate_worst_hour"] = [0.001, 0.0012, 0.0011]
    assert verdict(runs, rule) == "pass"


@pytest.mark.parametrize("replications", [10, 20])
def test_stated_error_rates_hold_where_the_truth_is_at_the_target(replications):
    """The worst case for both errors: every true mean exactly at its target.

    Replication values are normal with mean at the target, so any interim "pass" is a
    false pass and any interim "fail" a false fail; each must happen in at most ``e`` of
    the configurations (the documented bound), up to three Monte Carlo standard errors.
    """
    rule = SequentialRule(replications, 0.01, confidence=0.95)
    e = rule.interim_error
    rng = np.random.default_rng(5)
    trials = 6000
    passes = fails = 0
    for _ in range(trials):
        values = rng.normal(0.01, 0.004, replications)
        for k in rule.looks:
            got = verdict(_runs(values[:k]), rule)
            if got is not None:
                passes += got == "pass"
                fails += got == "fail"
                break
    slack = 3 * np.sqrt(e * (1 - e) / trials)
    print(f"false pass {passes / trials:.4f}, false fail {fails / trials:.4f}, bound {e}")
    assert passes / trials <= e + slack
    assert fails / trials <= e + slack
    assert passes + fails > 0  # the looks do stop some: the bound is not met by never stopping


def test_a_dearer_configuration_is_known_by_its_paired_difference():
    rule = SequentialRule(10, 0.01)
    cheap = np.array([100.0, 130.0, 90.0])  # noisy between replications
    assert clearly_dearer(cheap + 5.0 + np.array([0.1, -0.1, 0.0]), cheap, rule)
    assert not clearly_dearer(cheap + np.array([2.0, -2.0, 0.5]), cheap, rule)


# --- sequential search = full grid --------------------------------------------------------


def test_sequential_search_returns_the_full_grid_choice_on_20_random_scenarios():
    """Same choice as every configuration run every replication, with fewer runs.

    Each scenario draws its traffic (bursty, 1 to 4 TPS, surges x2 to x3), provisioning
    delay, target utilisation and SLO; Min 1..3, Max 1..5, 6 replications (looks at 3, 5
    and 6). The choice's own figures must equal the full grid's: it ran every replication.
    """
    rng = np.random.default_rng(12)
    simulated = full_runs = stopped = 0
    for i in range(20):
        sc = scenario_for(
            provisioning_delay_s=float(rng.choice([60, 180, 300])),
            target_percent=float(rng.choice([40, 50, 70])),
        )
        trace = bursty(
            float(rng.uniform(1, 4)), i, duration_h=1 / 3, multiplier=float(rng.uniform(2, 3))
        )
        slo = Slo(float(rng.choice([0.01, 0.001])))
        got = search(
            sc,
            lambda t, s=slo: best_cost(t, s),
            min_units=range(1, 4),
            max_units=range(1, 6),
            replications=6,
            seed=100 + i,
            trace=trace,
            workers=1,
            early_stop=sequential_rule(slo, 6),
        )
        full = sweep(
            sc, min_units=range(1, 4), max_units=range(1, 6), replications=6, seed=100 + i,
            trace=trace, workers=1, reuse=False,
        )  # fmt: skip
        assert _choice(got.table, slo) == _choice(full, slo), f"scenario {i}"
        rec = recommend(got.table, slo.max_throttle_rate)
        if rec.choice is not None:
            assert rec.choice.replications == 6
            assert rec.choice == recommend(full, slo.max_throttle_rate).choice
        assert got.runs_simulated == int(got.table["reused_from_max_units"].isna().sum())
        simulated += got.runs_simulated
        full_runs += len(full)
        stopped += got.stopped_passing + got.stopped_failing
    print(f"sequential search: {simulated} of {full_runs} runs, {stopped} configurations stopped")
    assert stopped > 0
    assert simulated < full_runs // 2


def test_search_reports_what_stopped_early_and_why():
    sc = scenario_for()
    slo = Slo(0.01)
    got = search(
        sc, lambda t: best_cost(t, slo), replications=6, seed=3, trace=bursty(2.0, 3),
        workers=1, early_stop=sequential_rule(slo, 6),
    )  # fmt: skip
    data = got.to_dict()
    assert data["early_stop"] == {"looks": [3, 5, 6], "interim_error": pytest.approx(0.01)}
    assert data["stopped_early_failing"] > 0
    assert any("clearly fail" in r for r in data["stop_reasons"])
    per_config = got.table.groupby(["min_units", "max_units", "oracle_bound"], dropna=False).size()
    short = int((per_config < 6).sum())
    assert short == data["stopped_early_passing"] + data["stopped_early_failing"]
    assert data["runs_simulated"] < data["runs_full_grid"]
    without = search(
        sc, lambda t: best_cost(t, slo), replications=6, seed=3, trace=bursty(2.0, 3),
        workers=1,
    )  # fmt: skip
    assert without.to_dict()["early_stop"] is None and without.stopped_failing == 0
    assert (
        without.table.groupby(["min_units", "max_units", "oracle_bound"], dropna=False).size().min()
        == 6
    )


# --- reused Max rows in a sweep -----------------------------------------------------------


@pytest.mark.parametrize("vary", [None, {"autoscaler.provisioning_delay_s": [60, 300]}])
def test_reused_sweep_rows_are_byte_identical_to_simulated_ones(tmp_path, vary):
    sc = scenario_for()
    trace = bursty(1.5, 4, duration_h=0.5)
    kw = {
        "min_units": [1, 2], "max_units": range(1, 9), "replications": 3, "seed": 8,
        "trace": trace, "workers": 1, "vary": vary, "oracle": True,
    }  # fmt: skip
    pruned = sweep(sc, **kw)
    full = sweep(sc, reuse=False, **kw)
    counts = run_counts(pruned)
    assert counts["reused"] > 0 and counts["reasons"]
    assert counts["simulated"] + counts["reused"] == len(full)
    assert int(pruned["reused_from_max_units"].notna().sum()) == counts["reused"]
    assert full["reused_from_max_units"].isna().all()
    assert run_counts(full)["reused"] == 0
    rest = [c for c in full.columns if c != "reused_from_max_units"]
    for name, table in (("pruned", pruned), ("full", full)):
        write_table(table[rest], tmp_path / f"{name}.csv")
    assert (tmp_path / "pruned.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()


def test_a_resumed_sweep_reuses_the_same_rows(tmp_path):
    sc = scenario_for()
    trace = bursty(1.5, 4, duration_h=0.5)
    out = tmp_path / "s.parquet"
    kw = {"min_units": [1], "max_units": range(1, 7), "replications": 2, "seed": 8,
          "trace": trace, "workers": 1}  # fmt: skip
    first = sweep(sc, output=out, **kw)
    again = sweep(sc, output=out, **kw)
    pd.testing.assert_frame_equal(first, again)
    assert run_counts(pd.read_parquet(out))["reused"] == run_counts(first)["reused"] > 0


SMALL = """\
[model]
min_units = 1
max_units = 2
[autoscaler]
provisioning_delay_s = 120
[traffic]
kind = "constant"
rate_tps = 1.0
duration_h = 0.5
[simulation]
seed = 5
"""


def test_sweep_command_says_what_it_reused_and_can_simulate_all(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SMALL)
    args = ("sweep", path, "--max", "1..8", "--replications", "2", "--workers", "1")
    code, out, err = cli(*args)
    assert code == 0, err
    assert "reused (marked in reused_from_max_units" in out
    code, out, err = cli(*args, "--no-reuse")
    assert code == 0, err
    assert "reused" not in out


def test_recommend_command_reports_its_runs_and_can_run_them_all(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SMALL)
    args = ("recommend", path, "--max-throttle-rate", "0.01", "--replications", "6",
            "--workers", "1", "--max", "1..4")  # fmt: skip
    code, out, err = cli(*args)
    assert code in (0, 1), err
    assert "simulated of the full grid's" in out and "stopped early" in out
    code, out, err = cli(*args, "--json")
    data = json.loads(out)["search"]
    assert data["early_stop"]["looks"] == [3, 5, 6]
    code, out, err = cli(*args, "--json", "--no-early-stop")
    data = json.loads(out)["search"]
    assert data["early_stop"] is None
    assert data["stopped_early_passing"] == data["stopped_early_failing"] == 0


def test_three_replications_have_no_interim_look_and_no_early_stop():
    sc = scenario_for()
    slo = Slo(0.01)
    got = search(
        sc, lambda t: best_cost(t, slo), replications=3, seed=3, trace=bursty(2.0, 3),
        workers=1, early_stop=sequential_rule(slo, 3),
    )  # fmt: skip
    data = got.to_dict()
    assert data["early_stop"] is None
    assert data["stopped_early_passing"] == data["stopped_early_failing"] == 0
    for reason in data["reasons"]:
        assert "more than 1 units" not in reason
