"""Replications, sweeps and recommendations: statistics, common random numbers, resuming.

Seeds are fixed; a statistical check that fails points at a real problem, not bad luck
(each is sized so that a correct implementation passes with margin, and a plausible wrong
one, such as a normal quantile instead of Student t, fails).
"""

from __future__ import annotations

import math
import subprocess
import sys
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import (
    HOURS_PER_MONTH,
    aggregate,
    configurations,
    mean_interval,
    recommend,
    replicate,
    replication_seeds,
    sweep,
    t_quantile,
    upper_bound,
)
from lfvsim.experiments.stats import t_cdf
from lfvsim.theory import erlang_b
from lfvsim.traces import trace_from_scenario


def small(**sections) -> lfvsim.Scenario:
    """Three hours of diurnal traffic peaking at 1.5 h; target tracking, 120 s delay."""
    data = {
        "model": {"project": "line-7", "min_units": 1, "max_units": 3},
        "autoscaler": {"provisioning_delay_s": 120},
        "traffic": {
            "kind": "diurnal",
            "mean_tps": 5.0,
            "peak_to_trough": 4.0,
            "peak_hour_utc": 1.5,
            "duration_h": 3,
        },
        "simulation": {"seed": 5},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return lfvsim.Scenario.model_validate(data)


# --- Student t ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        (0.975, 1, 12.706205),
        (0.975, 2, 4.302653),
        (0.975, 3, 3.182446),
        (0.975, 4, 2.776445),
        (0.975, 9, 2.262157),
        (0.95, 9, 1.833113),
        (0.995, 29, 2.756386),
        (0.975, 100, 1.983972),
        (0.999, 5, 5.893430),
    ],
)
def test_t_quantile_matches_printed_tables(p, df, table):
    assert t_quantile(p, df) == pytest.approx(table, abs=2e-6)
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
    assert t_quantile(1 - p, df) == -t_quantile(p, df)


def test_intervals_use_t_for_small_samples():
    mean, low, high = mean_interval([0.0, 1.0])
    assert mean == 0.5
    assert high - mean == pytest.approx(12.706205 * math.sqrt(0.5) / math.sqrt(2), rel=1e-6)
    assert mean - low == pytest.approx(high - mean)
    assert math.isnan(mean_interval([3.0])[1])
    assert upper_bound([1.0, 2.0, 3.0], 0.95) == pytest.approx(2 + 2.919986 / math.sqrt(3))
    assert upper_bound([1.0]) == math.inf


def test_replication_seeds_are_stable_distinct_and_usable():
    ten = replication_seeds(42, 10)
    assert replication_seeds(42, 3) == ten[:3]  # more replications extend, never reshuffle
    assert len(set(ten)) == 10
    assert all(0 <= s < 2**63 for s in ten)
    assert replication_seeds(43, 3) != ten[:3]


# --- replications ---------------------------------------------------------------------------


def test_confidence_intervals_cover_erlang_b_at_the_nominal_rate():
    """300 intervals of 3 replications each on M/M/4/4 (a = 3 Erlangs): the throttle rate is
    Erlang B. The 95% t interval covers it about 95% of the time; a normal-quantile interval
    (the usual mistake with few replications) covers it about 83% of the time."""
    sc = lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 2},
            "unit": {"slots": 2, "latency_distribution": "exponential", "latency_mean_s": 1.0},
            "autoscaler": {"policy": "none"},
            "traffic": {"kind": "constant", "rate_tps": 3.0, "duration_h": 10 / 60},
        }
    )
    truth = erlang_b(4, 3.0)
    trace = trace_from_scenario(sc)
    z = NormalDist().inv_cdf(0.975)
    t_hits = z_hits = 0
    intervals = 300
    for i in range(intervals):
        rates = replicate(sc, 3, seed=7000 + i, trace=trace).table["throttle_rate"]
        mean, low, high = mean_interval(rates, 0.95)
        t_hits += low <= truth <= high
        half_z = z * rates.std(ddof=1) / math.sqrt(3)
        z_hits += mean - half_z <= truth <= mean + half_z
    # Binomial standard error at 95% over 300 intervals: 1.3 points.
    assert 0.915 <= t_hits / intervals <= 0.985
    assert z_hits / intervals < 0.9


def test_replications_table_means_and_intervals():
    sc = small()
    reps = replicate(sc, 4, seed=11)
    t = reps.table
    assert list(t["replication"]) == [0, 1, 2, 3]
    assert list(t["seed"]) == replication_seeds(11, 4)
    assert t["max_units"].dtype == "Int64"
    assert (t["monthly_cost_usd"] == t["cost_usd"] / t["duration_h"] * HOURS_PER_MONTH).all()
    data = reps.to_dict()
    assert data["replications"] == 4 and data["seed"] == 11
    assert data["throttle_rate"] == pytest.approx(t["throttle_rate"].mean())
    for key in ("throttle_rate", "cost_usd", "latency_p99_s", "requests", "unit_hours"):
        low, high = data["ci95"][key]
        assert low <= data[key] <= high
    assert set(data["ci95"]) >= {"throttle_rate", "cost_usd", "monthly_cost_usd", "peak_units"}
    assert "price_per_unit_hour_usd" not in data["ci95"]


def test_any_replication_reruns_alone_with_its_seed():
    sc = small()
    reps = replicate(sc, 3, seed=99)
    row = reps.table.iloc[2]
    alone = lfvsim.simulate(sc, seed=int(row["seed"])).summary
    assert alone.requests == row["requests"]
    assert alone.throttled == row["throttled"]
    assert alone.cost_usd == row["cost_usd"]


# --- sweeps ---------------------------------------------------------------------------------


def test_grid_has_every_min_le_max_and_no_autoscaling_for_each_min():
    assert configurations([1, 2], [1, 2, 3]) == [
        (1, 1, False),
        (1, 2, False),
        (1, 3, False),
        (1, None, False),
        (2, 2, False),
        (2, 3, False),
        (2, None, False),
    ]
    assert configurations([3], [1, 2], oracle=True) == [(3, None, False), (3, None, True)]
    with pytest.raises(lfvsim.InputError, match="at least 1"):
        configurations([0, 1], [2])
    with pytest.raises(lfvsim.InputError, match="no values"):
        configurations([], [2])


def test_sweep_table_is_tidy_and_uses_common_random_numbers():
    sc = small()
    table = sweep(sc, min_units=[1, 2], max_units=[2, 3], replications=3, oracle=True, workers=1)
    # (1,2) (1,3) (1,-) (1,oracle) (2,2) (2,3) (2,-) (2,oracle), 3 replications each.
    assert len(table) == 8 * 3
    lead = ["min_units", "max_units", "oracle_bound", "replication", "seed"]
    assert list(table.columns[:5]) == lead
    assert {"throttle_rate", "cost_usd", "monthly_cost_usd", "policy"} <= set(table.columns)
    assert table["max_units"].dtype == "Int64"
    fixed = table[table["max_units"].isna() & ~table["oracle_bound"]]
    assert set(fixed["policy"]) == {"none"}
    assert set(table.loc[table["oracle_bound"], "policy"]) == {"oracle"}
    assert set(table.loc[table["max_units"].notna(), "policy"]) == {"target_tracking"}
    assert (fixed["unit_hours"] == fixed["min_units"] * 3.0).all()
    # Replication k has the same seed and so the same offered requests everywhere.
    by_rep = table.groupby("replication")
    assert (by_rep["seed"].nunique() == 1).all()
    assert (by_rep["requests"].nunique() == 1).all()
    assert table.attrs["seed"] == 5
    # The oracle throttles nothing and uses no more unit-hours than any policy that
    # throttles nothing.
    oracle = table[table["oracle_bound"]]
    assert (oracle["throttled"] == 0).all()


def test_common_random_numbers_make_differences_less_noisy():
    """Two nearby configurations (new units serve after 240 s or after 300 s): the
    per-replication difference in throttle rate is far less noisy with the same seeds
    (common random numbers) than with independent ones, so a sweep can rank them."""
    sc = small(
        traffic={"mean_tps": 4.0, "peak_to_trough": 6.0, "duration_h": 6, "peak_hour_utc": 3}
    )
    kw = {
        "min_units": [1],
        "max_units": [4],
        "replications": 10,
        "workers": 1,
        "vary": {"autoscaler.provisioning_delay_s": [240, 300]},
    }
    same = sweep(sc, seed=1, **kw)
    other = sweep(sc, seed=2, **kw)

    def rates(table, delay_s):
        runs = table[table["max_units"].notna()]
        return runs[runs["autoscaler.provisioning_delay_s"] == delay_s]["throttle_rate"].to_numpy()

    crn = rates(same, 300) - rates(same, 240)
    independent = rates(same, 300) - rates(other, 240)
    assert crn.std(ddof=1) < 0.5 * independent.std(ddof=1)
    assert crn.mean() > 0  # a longer delay throttles more; with CRN every replication says so
    assert (crn > 0).sum() >= 9


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path):
    sc = small()
    kw = {"min_units": [1], "max_units": [1, 2, 3], "replications": 4, "oracle": True}
    reference = sweep(sc, output=tmp_path / "ref.parquet", workers=1, **kw)

    calls = []

    def interrupt_after_seven(done, total):
        calls.append(done)
        if done >= 7:
            raise KeyboardInterrupt

    out = tmp_path / "run.parquet"
    with pytest.raises(KeyboardInterrupt):
        sweep(sc, output=out, workers=1, progress=interrupt_after_seven, **kw)
    assert not out.exists()  # no half-written output
    parts = tmp_path / ".run.parquet.parts"
    assert len(list(parts.glob("*.json"))) == 7 + 1  # seven runs and the sweep's identity
    # A part whose write was killed before its rename: the writer's own temporary name,
    # of a process that has ended.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = parts / f".0123.json.lfvsim-{dead.pid}-0badc0de.tmp"
    left.write_text("{trunc")

    progress = []
    resumed = sweep(sc, output=out, workers=1, progress=lambda d, t: progress.append((d, t)), **kw)
    assert progress[0] == (7, 20) and progress[-1] == (20, 20)
    assert len(progress) == 1 + 13  # only the missing runs ran
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out), pd.read_parquet(tmp_path / "ref.parquet"), check_exact=True
    )
    assert not left.exists()

    # A finished sweep re-run into the same output runs nothing and changes nothing.
    progress.clear()
    again = sweep(sc, output=out, workers=1, progress=lambda d, t: progress.append((d, t)), **kw)
    assert progress == [(20, 20)]
    pd.testing.assert_frame_equal(again, reference, check_exact=True)
    # More replications reuse the finished ones: replication k's seed does not depend on N.
    more = sweep(sc, output=out, workers=1, **{**kw, "replications": 5})
    pd.testing.assert_frame_equal(
        more[more["replication"] < 4].reset_index(drop=True), reference, check_exact=True
    )


def test_output_of_another_sweep_is_refused(tmp_path):
    sc = small()
    out = tmp_path / "s.parquet"
    kw = {"min_units": [1], "max_units": [2], "replications": 2, "workers": 1, "output": out}
    sweep(sc, **kw)
    before = out.read_bytes()
    with pytest.raises(lfvsim.InputError, match=r"seed differs.*delete"):
        sweep(sc, seed=6, **kw)
    with pytest.raises(lfvsim.InputError, match="scenario differs"):
        sweep(small(unit={"slots": 3}), **kw)
    with pytest.raises(lfvsim.InputError, match="trace differs"):
        sweep(small(traffic={"mean_tps": 6.0}), **kw)
    assert out.read_bytes() == before


def test_unseeded_sweep_resumes_with_its_recorded_seed(tmp_path):
    sc = small(simulation={"seed": None})
    out = tmp_path / "s.csv"
    first = sweep(sc, min_units=[1], max_units=[2], replications=2, workers=1, output=out)
    second = sweep(sc, min_units=[1], max_units=[2], replications=2, workers=1, output=out)
    assert first.attrs["seed"] == second.attrs["seed"]
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    read = pd.read_csv(out)
    assert read["max_units"].isna().sum() == 2 and len(read) == 4


def test_vary_adds_a_column_per_key_and_checks_values(tmp_path):
    sc = small()
    table = sweep(
        sc,
        min_units=[1],
        max_units=[3],
        replications=2,
        workers=1,
        vary={"autoscaler.provisioning_delay_s": [0, 900], "traffic.mean_tps": [5.0, 7.0]},
    )
    assert list(table.columns[:2]) == ["autoscaler.provisioning_delay_s", "traffic.mean_tps"]
    assert len(table) == 2 * 2 * 2 * 2
    rates = table.groupby(["traffic.mean_tps"])["requests"].mean()
    assert rates[7.0] > 1.3 * rates[5.0]  # the traffic key changes the trace
    slow = table[(table["autoscaler.provisioning_delay_s"] == 900) & table["max_units"].notna()]
    fast = table[(table["autoscaler.provisioning_delay_s"] == 0) & table["max_units"].notna()]
    assert slow["throttle_rate"].mean() > fast["throttle_rate"].mean()
    out = tmp_path / "never.parquet"
    bad = [
        ({"model.max_units": [2, 3]}, "--max"),
        ({"autoscaler.nope": [1]}, "unknown key"),
        ({"autoscaler.provisioning_delay_s": ["soon"]}, "valid number"),
        ({"simulation.seed": [1, 2]}, "--seed"),
        ({"autoscaler.target_percent": [50, 50.0]}, "twice"),
    ]
    for vary, message in bad:
        with pytest.raises(lfvsim.InputError, match=message):
            sweep(sc, max_units=[2], replications=1, vary=vary, output=out, workers=1)
    assert not out.exists() and not (tmp_path / ".never.parquet.parts").exists()


# --- recommendations ------------------------------------------------------------------------


def synthetic(configs: dict, vary: dict | None = None) -> pd.DataFrame:
    """A sweep table from ``{(min, max): (monthly_cost_usd, [throttle rate per rep])}``."""
    rows = []
    for (lo, hi), (cost, rates) in configs.items():
        for k, rate in enumerate(rates):
            rows.append(
                {
                    **(vary or {}),
                    "min_units": lo,
                    "max_units": hi,
                    "oracle_bound": hi == "oracle",
                    "replication": k,
                    "seed": 100 + k,
                    "requests": 100_000,
                    "throttled": round(rate * 100_000),
                    "throttle_rate": rate,
                    "latency_p99_s": 2.0,
                    "unit_hours": cost / HOURS_PER_MONTH,
                    "cost_usd": cost / HOURS_PER_MONTH,
                    "monthly_cost_usd": cost + 0.1 * k,
                    "mean_units": 1.0,
                    "peak_units": 2,
                    "duration_h": 1.0,
                }
            )
    table = pd.DataFrame(rows)
    table["max_units"] = pd.array(
        [None if v in (None, "oracle") else v for v in table["max_units"]], dtype="Int64"
    )
    return table


def test_recommend_refuses_a_mean_that_meets_the_slo_when_its_upper_bound_does_not():
    noisy = [0.0005, 0.0015, 0.0002, 0.0012, 0.0001]  # mean 0.00070, upper bound ~0.0013
    steady = [0.0002, 0.0003, 0.0002, 0.0001, 0.0002]
    table = synthetic({(1, 2): (1000.0, noisy), (1, 3): (1500.0, steady)})
    assert np.mean(noisy) <= 0.001  # judged by its mean, Max 2 would pass
    rec = recommend(table, 0.001)
    assert rec.met
    assert (rec.choice.min_units, rec.choice.max_units) == (1, 3)
    refused = aggregate(table).iloc[0]
    assert refused["throttle_rate"] <= 0.001 < refused["throttle_rate_upper"]
    # With only the noisy configuration, nothing passes and the advice names the remedy.
    alone = recommend(synthetic({(1, 2): (1000.0, noisy)}), 0.001)
    assert not alone.met and alone.binding == ("throttle rate",)
    assert "--replications 10" in alone.advice
    assert alone.to_dict()["min_units"] is None


def test_zero_throttling_still_has_a_positive_upper_bound():
    table = synthetic({(1, 2): (1000.0, [0.0, 0.0, 0.0])})
    upper = aggregate(table, 0.95)["throttle_rate_upper"].iloc[0]
    assert upper == pytest.approx(-math.log(0.05) / 300_000)
    assert not recommend(table, 1e-6).met
    assert recommend(table, 1e-4).met


def test_recommend_reports_runner_up_next_unit_and_oracle_gap():
    table = synthetic(
        {
            (1, 2): (900.0, [0.02, 0.03, 0.025]),
            (1, 3): (1000.0, [0.0004, 0.0005, 0.0006]),
            (1, 4): (1100.0, [0.0001, 0.0002, 0.0001]),
            (1, None): (700.0, [0.3, 0.31, 0.29]),
            (1, "oracle"): (800.0, [0.0, 0.0, 0.0]),
        }
    )
    rec = recommend(table, 0.001)
    assert (rec.choice.min_units, rec.choice.max_units) == (1, 3)
    assert (rec.runner_up.min_units, rec.runner_up.max_units) == (1, 4)
    assert rec.one_more_max_unit.other.max_units == 4
    assert rec.one_more_max_unit.monthly_cost_usd == pytest.approx(100.0)
    assert rec.one_more_max_unit.throttle_rate == pytest.approx(np.mean([-3e-4, -3e-4, -5e-4]))
    assert rec.oracle.monthly_cost_usd == pytest.approx(800.1)
    assert rec.oracle_gap.monthly_cost_usd == pytest.approx(200.0)
    data = rec.to_dict()
    assert data["oracle"]["gap_percent"] == pytest.approx(100 * 200 / 800.1)
    assert data["max_units"] == 3 and data["runner_up"]["max_units"] == 4


def test_runner_up_is_never_a_configuration_that_runs_like_the_choice():
    # Max 4's rows are copies of Max 3's: the same runs, no alternative to Max 3.
    table = synthetic(
        {
            (1, 3): (1000.0, [0.0004, 0.0005, 0.0006]),
            (1, 4): (1000.0, [0.0004, 0.0005, 0.0006]),
            (1, 5): (1200.0, [0.0001, 0.0001, 0.0001]),
        }
    )
    reused = [4 if x == 4 else None for x in table["max_units"]]
    table["reused_from_max_units"] = pd.array([3 if r else None for r in reused], dtype="Int64")
    rec = recommend(table, 0.001)
    assert (rec.choice.min_units, rec.choice.max_units) == (1, 3)
    assert (rec.runner_up.min_units, rec.runner_up.max_units) == (1, 5)
    # Max = Min holds Min units throughout, as no auto-scaling does.
    fixed = recommend(
        synthetic(
            {
                (3, None): (1000.0, [0.0004, 0.0005, 0.0006]),
                (3, 3): (1000.0, [0.0004, 0.0005, 0.0006]),
                (3, 4): (1100.0, [0.0001, 0.0001, 0.0001]),
            }
        ),
        0.001,
    )
    assert (fixed.choice.min_units, fixed.choice.max_units) == (3, None)
    assert (fixed.runner_up.min_units, fixed.runner_up.max_units) == (3, 4)
    # A Max that never came into play, simulated: the same figures replication by replication.
    same = synthetic(
        {(2, 3): (1000.0, [0.004] * 3), (2, 4): (1000.0, [0.004] * 3), (2, 5): (1300.0, [0.0] * 3)}
    )
    rec = recommend(same, 0.01)
    assert (rec.runner_up.min_units, rec.runner_up.max_units) == (2, 5)


def test_recommend_with_vary_says_whether_the_max_changes():
    fast = synthetic(
        {(1, 3): (1000.0, [0.0005] * 3), (1, 4): (1100.0, [0.0001] * 3)},
        vary={"autoscaler.provisioning_delay_s": 120.0},
    )
    slow = synthetic(
        {(1, 3): (1000.0, [0.005] * 3), (1, 4): (1150.0, [0.0004] * 3)},
        vary={"autoscaler.provisioning_delay_s": 600.0},
    )
    rec = recommend(pd.concat([fast, slow], ignore_index=True), 0.001)
    assert [v.choice.max_units for v in rec.variants] == [3, 4]
    assert rec.max_units_changes
    assert rec.depends_on == ["autoscaler.provisioning_delay_s"]
    assert rec.choice.max_units == 4  # meets the SLO whatever the delay
    assert rec.choice.monthly_cost_usd == pytest.approx(1150.1)  # worst case
    data = rec.to_dict()
    assert data["max_units_changes"] is True
    assert [v["values"] for v in data["variants"]] == [
        {"autoscaler.provisioning_delay_s": 120.0},
        {"autoscaler.provisioning_delay_s": 600.0},
    ]
    same = recommend(
        pd.concat([fast, fast.assign(**{"autoscaler.provisioning_delay_s": 300.0})]), 0.001
    )
    assert not same.max_units_changes and same.depends_on == []


def test_recommendation_holds_out_of_sample():
    """Re-simulate the recommended configuration with fresh seeds: its throttle rate meets
    the SLO. Also: the StartModel request is for the recommended units."""
    sc = small()
    target = 0.01
    table = sweep(sc, min_units=[1, 2], max_units=[2, 3, 4, 5], replications=5, oracle=True,
                  workers=1)  # fmt: skip
    rec = recommend(table, target, scenario=sc)
    assert rec.met
    chosen = sc.with_overrides(
        {"model.min_units": rec.choice.min_units, "model.max_units": rec.choice.max_units}
    )
    fresh = replicate(chosen, 10, seed=2026_11_29)
    assert not set(fresh.table["seed"]) & set(table["seed"])
    assert fresh.table["throttle_rate"].mean() <= target
    # Every cheaper configuration fails the SLO at the stated confidence.
    agg = aggregate(table)
    cheaper = agg[~agg["oracle_bound"] & (agg["monthly_cost_usd"] < rec.choice.monthly_cost_usd)]
    assert (cheaper["throttle_rate_upper"] > target).all()
    request = rec.start_model_request
    assert request["MinInferenceUnits"] == rec.choice.min_units
    assert request.get("MaxInferenceUnits") == rec.choice.max_units
    assert rec.oracle is not None and rec.oracle.min_units == rec.choice.min_units


def test_recommend_rejects_bad_slo_and_single_replication():
    table = synthetic({(1, 2): (1000.0, [0.0001, 0.0002])})
    for kwargs, message in [
        ({"max_throttle_rate": 1.5}, "max-throttle-rate"),
        ({"max_throttle_rate": 0.01, "confidence": 1.0}, "confidence"),
        ({"max_throttle_rate": 0.01, "max_p99_latency_s": 0}, "p99"),
    ]:
        with pytest.raises(lfvsim.InputError, match=message):
            recommend(table, **kwargs)
    with pytest.raises(lfvsim.InputError, match="at least 2 replications"):
        recommend(table[table["replication"] == 0], 0.01)


def test_latency_slo_that_no_unit_count_meets_binds():
    table = synthetic({(1, 2): (1000.0, [0.0001, 0.0002, 0.0001])})
    rec = recommend(table, 0.01, max_p99_latency_s=1.0)
    assert not rec.met and rec.binding == ("p99 latency",)
    assert "--max-p99-latency-s" in rec.advice
