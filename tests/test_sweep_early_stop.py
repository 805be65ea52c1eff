"""A sweep given an SLO stops a configuration once its verdict is clear: same choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import recommend, sweep
from lfvsim.experiments.recommend import Slo, best_cost
from lfvsim.experiments.sequential import sequential_rule
from lfvsim.experiments.sweep import run_counts
from lfvsim.reports import read_sweep
from lfvsim.traces import generators

REPS = 6  # interim looks at 3 and 5, the last at 6


def bursty(rate_tps: float, seed: int, duration_h: float = 1 / 3, multiplier: float = 3.0):
    """Constant traffic with random surges of a few minutes."""
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


def staged(slo: Slo, replications: int = REPS) -> dict:
    return {
        "early_stop": sequential_rule(slo, replications),
        "best_cost": lambda t: best_cost(t, slo),
    }


def test_sweep_stopping_early_returns_the_full_grid_choice_on_20_random_scenarios():
    """Each scenario draws its traffic (bursty, 1 to 4 TPS, surges x2 to x3), provisioning
    delay, target utilisation and SLO; Min 1..3, Max 1..5, 6 replications. The choice must
    be the full grid's with the same figures (so it ran every replication); the stopped
    configurations' rows must be the full grid's first rows of them."""
    rng = np.random.default_rng(21)
    simulated = full_runs = stopped = 0
    for i in range(20):
        sc = scenario_for(
            provisioning_delay_s=float(rng.choice([60, 180, 300])),
            target_percent=float(rng.choice([40, 50, 70])),
        )
        trace = bursty(float(rng.uniform(1, 4)), i, multiplier=float(rng.uniform(2, 3)))
        slo = Slo(float(rng.choice([0.01, 0.001])))
        kw = {"min_units": range(1, 4), "max_units": range(1, 6), "replications": REPS,
              "seed": 200 + i, "trace": trace, "workers": 1}  # fmt: skip
        got = sweep(sc, **kw, **staged(slo))
        full = sweep(sc, reuse=False, **kw)
        rec, rec_full = (recommend(t, slo.max_throttle_rate) for t in (got, full))
        assert rec.choice == rec_full.choice, f"scenario {i}"
        if rec.choice is not None:
            assert rec.choice.replications == REPS
        keys = ["min_units", "max_units", "replication"]
        merged = got.merge(full, on=keys, suffixes=("", "_full"))
        assert len(merged) == len(got)
        for column in ("throttled", "unit_hours", "requests", "latency_p99_s"):
            np.testing.assert_array_equal(merged[column], merged[f"{column}_full"])
        short = got.groupby(["min_units", "max_units"], dropna=False)["replication"].size()
        marked = got.groupby(["min_units", "max_units"], dropna=False)["stopped_early"].first()
        assert ((short < REPS) == marked.notna()).all()
        counts = run_counts(got)
        assert counts["stopped_passing"] + counts["stopped_failing"] == int(marked.notna().sum())
        simulated += counts["simulated"]
        full_runs += len(full)
        stopped += int(marked.notna().sum())
    print(f"sweep stopping early: {simulated} of {full_runs} runs simulated, {stopped} stopped")
    assert stopped > 20
    assert simulated < full_runs // 2


def test_each_varied_value_gets_the_full_grid_choice():
    sc = scenario_for()
    slo = Slo(0.01)
    kw = {"min_units": range(1, 4), "max_units": range(1, 5), "replications": REPS,
          "seed": 5, "trace": bursty(2.5, 3), "workers": 1, "oracle": True,
          "vary": {"autoscaler.provisioning_delay_s": [60, 300]}}  # fmt: skip
    got = sweep(sc, **kw, **staged(slo))
    full = sweep(sc, **kw)
    assert "stopped_early" not in full
    assert got["stopped_early"].notna().any()
    a, b = (recommend(t, slo.max_throttle_rate) for t in (got, full))
    assert [v.choice for v in a.variants] == [v.choice for v in b.variants]
    assert a.choice == b.choice
    oracle = got[got["oracle_bound"]]
    assert len(oracle) == 2 * 3 * REPS  # bounds, not judged: every replication
    assert oracle["stopped_early"].isna().all()


def test_a_stopped_sweep_read_back_gives_the_same_recommendation(tmp_path):
    sc = scenario_for(target_percent=50)
    slo = Slo(0.01)
    kw = {"min_units": range(1, 4), "max_units": range(1, 6), "replications": REPS,
          "seed": 9, "trace": bursty(3.0, 4), "workers": 1}  # fmt: skip
    out = tmp_path / "staged.csv"
    got = sweep(sc, output=out, **kw, **staged(slo))
    full = sweep(sc, **kw)
    back = read_sweep(out)
    assert back["stopped_early"].notna().sum() == got["stopped_early"].notna().sum() > 0
    assert run_counts(back)["stopped_failing"] == run_counts(got)["stopped_failing"]
    assert recommend(back, 0.01).choice == recommend(full, 0.01).choice


def test_a_resumed_or_topped_up_sweep_gives_the_same_table(tmp_path):
    sc = scenario_for()
    slo = Slo(0.01)
    kw = {"min_units": range(1, 3), "max_units": range(1, 5), "replications": REPS,
          "seed": 13, "trace": bursty(2.0, 5), "workers": 1}  # fmt: skip
    fresh = tmp_path / "fresh.csv"
    sweep(sc, output=fresh, **kw, **staged(slo))
    # Interrupted after a few runs, then run again into the same output.
    resumed = tmp_path / "resumed.csv"

    def stop_at(done: int, _total: int) -> None:
        if done >= 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(sc, output=resumed, progress=stop_at, **kw, **staged(slo))
    assert not resumed.exists()
    sweep(sc, output=resumed, **kw, **staged(slo))
    assert resumed.read_bytes() == fresh.read_bytes()
    # An output holding every run already (a full sweep): the extra runs stay out.
    everything = tmp_path / "everything.csv"
    sweep(sc, output=everything, reuse=True, **kw)
    sweep(sc, output=everything, **kw, **staged(slo))
    assert everything.read_bytes() == fresh.read_bytes()


def test_early_stop_needs_its_cost_rule_and_whole_replications():
    sc = scenario_for()
    slo = Slo(0.01)
    kw = {"min_units": [1], "max_units": [1], "trace": bursty(2.0, 5), "workers": 1}
    with pytest.raises(ValueError, match="best_cost"):
        sweep(sc, replications=REPS, early_stop=sequential_rule(slo, REPS), **kw)
    with pytest.raises(ValueError, match="best_cost"):
        sweep(sc, replications=5, **staged(slo), **kw)
    with pytest.raises(ValueError, match="first replication"):
        sweep(sc, replications=REPS, first_replication=2, **staged(slo), **kw)


SMALL = """\
[model]
min_units = 1
max_units = 2
[autoscaler]
provisioning_delay_s = 120
[traffic]
kind = "constant"
rate_tps = 3.0
duration_h = 0.5
[simulation]
seed = 5
"""


def test_sweep_command_stops_early_with_an_slo_and_can_run_everything(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SMALL)
    args = ("sweep", path, "--min", "1..2", "--max", "1..4", "--replications", "6",
            "--workers", "1")  # fmt: skip
    slo = ("--max-throttle-rate", "0.01")
    code, out, err = cli(*args, *slo, "-o", tmp_path / "staged.csv")
    assert code == 0, err
    assert "stopped early (sequential rule" in out and "after 3: clearly fails" in out
    staged_table = pd.read_csv(tmp_path / "staged.csv")
    assert staged_table["stopped_early"].notna().any()
    assert len(staged_table) < 9 * 6
    code, out, err = cli(*args, *slo, "--no-early-stop", "-o", tmp_path / "all.csv")
    assert code == 0, err
    assert "stopped early" not in out
    everything = pd.read_csv(tmp_path / "all.csv")
    assert "stopped_early" not in everything and len(everything) == 9 * 6
    code, out, err = cli(*args, "-o", tmp_path / "no_slo.csv")  # no SLO: nothing stops
    assert code == 0, err
    assert "stopped" not in out
    no_slo = pd.read_csv(tmp_path / "no_slo.csv")
    assert "stopped_early" not in no_slo and len(no_slo) == 9 * 6
    # report and plot read the stopped table (and its stored SLO) like any other.
    code, _, err = cli("report", path, "--sweep", tmp_path / "staged.csv",
                       "-o", tmp_path / "r.html")  # fmt: skip
    assert code == 0, err
    code, _, err = cli("plot", "frontier", tmp_path / "staged.csv", "-o", tmp_path / "f.png")
    assert code == 0, err


def test_recommend_vary_stops_early_unless_told_not_to(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SMALL)
    args = ("recommend", path, "--max-throttle-rate", "0.01", "--replications", "6",
            "--workers", "1", "--min", "1..2", "--max", "1..3",
            "--vary", "autoscaler.provisioning_delay_s=60,300")  # fmt: skip
    code, _, err = cli(*args, "-o", tmp_path / "staged.csv", "--json")
    assert code in (0, 1), err
    code_all, _, err = cli(*args, "-o", tmp_path / "all.csv", "--json", "--no-early-stop")
    assert code_all == code, err
    staged_table = pd.read_csv(tmp_path / "staged.csv")
    everything = pd.read_csv(tmp_path / "all.csv")
    assert staged_table["stopped_early"].notna().any()
    assert "stopped_early" not in everything
    assert len(staged_table) < len(everything)
    a, b = (recommend(t, 0.01) for t in (staged_table, everything))
    assert a.choice == b.choice


def test_the_search_marks_what_it_stopped_early_as_a_sweep_does():
    from lfvsim.experiments.search import search

    slo = Slo(0.01)
    got = search(
        scenario_for(), lambda t: best_cost(t, slo), min_units=range(1, 4),
        max_units=range(1, 5), replications=REPS, seed=3, trace=bursty(2.5, 3), workers=1,
        early_stop=sequential_rule(slo, REPS),
    )  # fmt: skip
    sizes = got.table.groupby(["min_units", "max_units", "oracle_bound"], dropna=False)
    marked = sizes["stopped_early"].first()
    assert ((sizes["replication"].size() < REPS) == marked.notna()).all()
    assert int(marked.notna().sum()) == got.stopped_passing + got.stopped_failing > 0
