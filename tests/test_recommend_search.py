"""The pruned (Min, Max) search, the busy-hour SLOs and the recommendation they give."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import recommend, sweep
from lfvsim.experiments.growth import growth_factor, headroom
from lfvsim.experiments.recommend import Slo, best_cost, dominant_cause
from lfvsim.experiments.search import derived_range, search
from lfvsim.traces import generators
from lfvsim.traces.transforms import scale, slice_trace

ROOT = Path(__file__).resolve().parents[1]
WORLDCUP = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared")
            if (p / "data" / "worldcup98-1998-06-25-per-second.csv").exists()
        ),
        ROOT.parent / "shared",
    )
    / "data"
    / "worldcup98-1998-06-25-per-second.csv"
)


def bursty(rate_tps: float, seed: int, duration_h: float = 1.0, multiplier: float = 3.0):
    """Constant traffic with random surges: about four an hour, each a few minutes long."""
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


# --- the range derived from the traffic ---------------------------------------------------


def test_derived_range_covers_the_oracle_peak_and_the_target():
    sc = scenario_for(target_percent=50)
    mins, maxs = derived_range(sc, 4)
    assert mins == [1, 2, 3, 4]
    assert maxs == list(range(1, 10))  # ceil(4 / 0.5) + 1


# --- pruned search = full grid ------------------------------------------------------------


def test_pruned_search_returns_the_full_grid_choice_on_20_random_scenarios():
    """Same choice as simulating every configuration, with fewer simulations.

    Each scenario draws its traffic (bursty, 1 to 4 TPS, surges x2 to x3), provisioning
    delay, target utilisation and SLO; the grid is Min 1..3, Max 1..5 to keep it quick.
    The reused rows must equal the rows the full grid simulates, which tests the "Max
    never binding" rule itself, not only its outcome.
    """
    rng = np.random.default_rng(11)
    saved = total = 0
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
            replications=2,
            seed=i,
            trace=trace,
            workers=1,
        )
        full = sweep(
            sc,
            min_units=got.min_units,
            max_units=got.max_units,
            replications=2,
            seed=i,
            trace=trace,
            workers=1,
        )
        assert _choice(got.table, slo) == _choice(full, slo), f"scenario {i}"
        reused = got.table[got.table["reused_from_max_units"].notna()]
        keys = ["min_units", "max_units", "replication"]
        merged = reused.merge(full, on=keys, suffixes=("", "_full"))
        assert len(merged) == len(reused)
        for column in ("throttled", "unit_hours", "requests", "latency_p99_s"):
            np.testing.assert_array_equal(merged[column], merged[f"{column}_full"])
        assert (
            got.simulated + got.skipped
            == got.grid_size
            == full.groupby(["min_units", "max_units"], dropna=False).ngroups
        )
        saved += got.skipped
        total += got.grid_size
    print(f"pruned search: {total - saved} of {total} configurations simulated, {saved} saved")
    assert saved > total // 4  # about a third on this small grid, more on derived ones


def test_search_says_what_it_skipped_and_why():
    sc = scenario_for()
    slo = Slo(0.01)
    got = search(
        sc, lambda t: best_cost(t, slo), replications=3, seed=3, trace=bursty(2.0, 3), workers=1
    )
    assert got.derived and got.oracle_peak_units >= 1
    assert got.skipped > 0
    assert any("larger Max gives the same runs" in r for r in got.reasons)
    data = got.to_dict()
    assert data["simulated"] + data["skipped"] == data["configurations"]


# --- SLOs ---------------------------------------------------------------------------------


def test_busy_hour_slo_needs_the_busy_hour_columns():
    table = sweep(scenario_for(), min_units=[1], max_units=[2], replications=2, workers=1)
    if "throttle_rate_worst_hour" in table:
        rec = recommend(table, 0.5, max_worst_hour_rate=0.5)
        assert rec.max_worst_hour_rate == 0.5
    else:
        with pytest.raises(lfvsim.InputError, match="--max-worst-hour-rate"):
            recommend(table, 0.5, max_worst_hour_rate=0.5)


def test_worst_hour_target_is_held_by_its_upper_bound():
    """A table whose whole-run rate passes but whose worst hour does not: no choice."""
    rows = []
    for rep in range(4):
        for hi, worst in ((2, 0.08 + 0.01 * rep), (3, 0.001 * rep)):
            rows.append(
                {
                    "min_units": 1,
                    "max_units": hi,
                    "oracle_bound": False,
                    "replication": rep,
                    "seed": rep,
                    "monthly_cost_usd": 100.0 * hi + rep,
                    "throttle_rate": 0.004,
                    "throttled": 4,
                    "requests": 1000,
                    "latency_p99_s": 1.0,
                    "unit_hours": float(hi),
                    "mean_units": float(hi),
                    "peak_units": hi,
                    "throttle_rate_worst_hour": worst,
                    "throttle_rate_minute_p99": worst,
                }
            )
    table = pd.DataFrame(rows)
    table["max_units"] = pd.array(table["max_units"], dtype="Int64")
    assert recommend(table, 0.01).choice.max_units == 2
    rec = recommend(table, 0.01, max_worst_hour_rate=0.02)
    assert rec.choice.max_units == 3
    assert rec.choice.worst_hour_rate_upper <= 0.02
    assert recommend(table, 0.01, max_minute_rate=0.02).choice.max_units == 3
    with pytest.raises(lfvsim.InputError, match="--max-worst-hour-rate"):
        Slo(0.01, max_worst_hour_rate=1.5)


def test_dominant_cause_reads_the_cause_columns():
    runs = pd.DataFrame(
        {
            "throttled_scaling": [80, 70],
            "throttled_at_max": [10, 20],
            "throttled_burst": [5, 5],
            "throttled_capacity_lost": [0, 0],
        }
    )
    name, share = dominant_cause(runs)
    assert name == "scaling"
    assert share == pytest.approx(150 / 190)
    assert dominant_cause(runs.drop(columns=list(runs.columns))) is None


# --- the recommendation holds with fresh seeds --------------------------------------------


def _holds_with_fresh_seeds(sc: lfvsim.Scenario, trace, slo: Slo, seed: int) -> None:
    got = search(sc, lambda t: best_cost(t, slo), replications=5, seed=seed, trace=trace, workers=1)
    rec = recommend(got.table, slo.max_throttle_rate, confidence=slo.confidence)
    assert rec.met, rec.advice
    c = rec.choice
    fresh = sweep(
        sc,
        min_units=[c.min_units],
        max_units=[c.max_units or c.min_units],
        replications=5,
        seed=seed + 1000,
        trace=trace,
        only=[(c.min_units, c.max_units, False)],
        workers=1,
    )
    assert float(fresh["throttle_rate"].mean()) <= slo.max_throttle_rate


@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_recommendation_holds_with_fresh_seeds_on_bursty_synthetic_traffic(rate):
    sc = scenario_for(provisioning_delay_s=300)
    _holds_with_fresh_seeds(sc, bursty(3.0, seed=7, duration_h=1.0), Slo(rate), seed=21)


@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_recommendation_holds_with_fresh_seeds_on_factory_traffic(rate):
    sc = lfvsim.load_scenario(ROOT / "scenarios" / "two-shift-factory.toml")
    sc = sc.with_overrides({"traffic.duration_h": 9}, source="test")
    _holds_with_fresh_seeds(sc, None, Slo(rate), seed=5)


@pytest.mark.skipif(not WORLDCUP.exists(), reason="shared WorldCup98 trace not present")
@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_recommendation_holds_with_fresh_seeds_on_worldcup98(rate):
    trace = lfvsim.read_csv_trace(WORLDCUP, scale=0.005)
    start = trace.start + pd.Timedelta(hours=12)
    trace = slice_trace(trace, start, start + pd.Timedelta(hours=4))
    _holds_with_fresh_seeds(scenario_for(), trace, Slo(rate), seed=9)


# --- the command line: one stored SLO, sweeps tied to their scenario and trace, --scale --


SMALL = """\
[model]
project = "line-7"
min_units = 1
max_units = 2
[autoscaler]
provisioning_delay_s = {delay}
[traffic]
kind = "constant"
rate_tps = 3.0
duration_h = 1
[simulation]
seed = 5
"""


@pytest.fixture
def files(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text(SMALL.format(delay=120))
    b = tmp_path / "b.toml"
    b.write_text(SMALL.format(delay=600))
    counts = tmp_path / "counts.csv"
    minutes = pd.date_range("2026-01-05", periods=60, freq="min", tz="UTC")
    pd.DataFrame({"timestamp": minutes.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": 600}).to_csv(
        counts, index=False
    )
    return a, b, counts


def test_report_refuses_a_sweep_of_another_scenario_or_trace(cli, files, tmp_path):
    a, b, counts = files
    swept = tmp_path / "a.parquet"
    code, _, err = cli(
        "sweep", a, "--max", "1..2", "--replications", "2", "--workers", "1", "-o", swept
    )
    assert code == 0, err
    for args, message in [
        ((b, "--sweep", swept), "a sweep of another scenario"),
        ((a, "--sweep", swept, "--trace", counts), "swept on other traffic"),
    ]:
        out = tmp_path / "report.html"
        code, stdout, err = cli("report", *args, "--max-throttle-rate", "0.01", "-o", out)
        assert code == 2, err
        assert err.startswith("lfvsim: error: ") and err.count("\n") == 1, err
        assert message in err
        assert not out.exists() and stdout == ""


def test_recommend_stores_its_slo_and_plot_takes_it_from_the_sweep(cli, files, tmp_path):
    a, _, _ = files
    out = tmp_path / "rec.parquet"
    code, _, err = cli(
        "recommend", a, "--max-throttle-rate", "0.05", "--replications", "3",
        "--workers", "1", "-o", out, "--json",
    )  # fmt: skip
    assert code == 0, err
    stored = pd.read_parquet(out)
    assert (stored["slo_max_throttle_rate"] == 0.05).all()
    assert stored["sweep_scenario"].nunique() == 1
    code, _, err = cli("plot", "frontier", out, "-o", tmp_path / "f.png")
    assert code == 0, err


def test_recommend_with_a_scaled_trace_says_so(cli, files, tmp_path):
    a, _, counts = files
    code, stdout, err = cli(
        "recommend", a, "--trace", counts, "--scale", "0.5", "--max-throttle-rate", "0.05",
        "--replications", "3", "--workers", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(stdout)
    assert data["traffic"]["scale"] == 0.5
    assert data["requests"] == pytest.approx(0.5 * 600 * 60, rel=0.05)
    search_info = data["search"]
    assert search_info["simulated"] + search_info["skipped"] == search_info["configurations"]
    code, stdout, err = cli(
        "recommend", a, "--trace", counts, "--scale", "0.5", "--max-throttle-rate", "0.05",
        "--replications", "3", "--workers", "1",
    )  # fmt: skip
    assert "the trace scaled x0.5" in stdout
    assert "configurations simulated" in stdout


def test_scale_without_a_trace_is_refused(cli, files):
    a, _, _ = files
    for command in (("recommend", "--max-throttle-rate", "0.01"), ("sweep",), ("run",)):
        code, _, err = cli(command[0], a, *command[1:], "--scale", "0.5")
        assert code == 2 and "--scale applies to a --trace file" in err, err


# --- growth and headroom ------------------------------------------------------------------


def test_months_without_growth_is_refused(cli, files):
    # It used to be ignored: the recommendation was for today's traffic, with no word.
    a, _, _ = files
    code, out, err = cli("recommend", a, "--max-throttle-rate", "0.01", "--months", "12")
    assert code == 2 and out == ""
    assert "--months 12 grows nothing without --growth" in err, err


def test_growth_factor_compounds_monthly_and_multiplies_the_busier_day():
    assert growth_factor(5, 12, 1.25) == pytest.approx(1.05**12 * 1.25)
    assert growth_factor(0, 0) == 1.0
    with pytest.raises(lfvsim.InputError, match="--busier-day"):
        growth_factor(5, 12, 0)


@pytest.mark.parametrize(
    ("growth", "months", "busier", "words"),
    [
        (1e6, 1e6, 1.0, "multiplies the traffic past any number"),  # used to overflow
        (10, math.inf, 1.0, "--months inf: give a finite number"),
        (10, math.nan, 1.0, "--months nan: give a finite number"),
        (math.inf, 1, 1.0, "--growth inf: give a finite percentage"),
        (10, 1, math.inf, "--busier-day inf"),
    ],
)
def test_growth_past_any_number_is_an_input_error(growth, months, busier, words):
    with pytest.raises(lfvsim.InputError, match=words):
        growth_factor(growth, months, busier)


def test_headroom_brackets_the_factor_where_the_slo_breaks():
    """Two fixed units at 3 TPS: the SLO holds at the headroom factor and fails just above."""
    sc = scenario_for()
    trace = generators.constant(3.0, 1.0, "2026-01-05T00:00Z")
    slo = Slo(0.01)
    room = headroom(sc, trace, (2, None), slo, replications=3, seed=4, workers=1)
    assert not room.at_least and room.breaks_at is not None
    assert 1.0 < room.factor < room.breaks_at <= room.factor * (1 + room.resolution) + 1e-12

    def verdict(factor: float) -> bool:
        table = sweep(
            sc,
            min_units=[2],
            max_units=[2],
            replications=3,
            seed=4,
            trace=scale(trace, factor),
            only=[(2, None, False)],
            workers=1,
        )
        return best_cost(table, slo) is not None

    assert verdict(room.factor) and not verdict(room.breaks_at)
    assert room.months(10) == pytest.approx(np.log(room.factor) / np.log(1.1))


def test_recommend_for_growth_meets_the_slo_on_the_grown_traffic(cli, files, tmp_path):
    a, _, _ = files
    code, stdout, err = cli(
        "recommend", a, "--max-throttle-rate", "0.01", "--replications", "3", "--workers", "1",
        "--growth", "10", "--months", "6", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(stdout)
    factor = 1.1**6
    assert data["traffic"]["traffic_factor"] == pytest.approx(factor)
    assert data["requests"] == pytest.approx(3.0 * 3600 * factor, rel=0.05)
    room = data["outlook"]["headroom"]
    assert room["traffic_factor"] >= 1.0 and room["months_at_growth"] >= 0


BUSY_HOUR_RECORDED = "throttle_rate_worst_hour" in {
    f.name for f in dataclasses.fields(lfvsim.Summary)
}


@pytest.mark.skipif(not BUSY_HOUR_RECORDED, reason="runs do not record the worst hour yet")
@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_worst_hour_slo_holds_with_fresh_seeds_on_bursty_traffic(rate):
    sc = scenario_for(provisioning_delay_s=300)
    trace = bursty(3.0, seed=8, duration_h=3.0)
    slo = Slo(rate, max_worst_hour_rate=3 * rate)
    got = search(sc, lambda t: best_cost(t, slo), replications=5, seed=31, trace=trace, workers=1)
    rec = recommend(got.table, rate, max_worst_hour_rate=3 * rate)
    assert rec.met, rec.advice
    c = rec.choice
    assert c.worst_hour_rate_upper <= 3 * rate
    fresh = sweep(
        sc,
        min_units=[c.min_units],
        max_units=[c.max_units or c.min_units],
        replications=5,
        seed=1031,
        trace=trace,
        only=[(c.min_units, c.max_units, False)],
        workers=1,
    )
    assert float(fresh["throttle_rate"].mean()) <= rate
    assert float(fresh["throttle_rate_worst_hour"].mean()) <= 3 * rate
