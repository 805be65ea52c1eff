"""The per-minute throttle percentile of choice, SLO flags on ``sweep``, and ``plot``'s SLO.

``--minute-percentile P`` makes every run measure the P-th percentile of its per-minute
throttle rates exactly; the SLO holds it by an upper bound; a sweep file stores the SLO,
and ``plot`` and ``report`` use it unless given the same flags as ``recommend``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import recommend, sweep
from lfvsim.experiments.recommend import (
    MINUTE,
    MINUTE_P99,
    Slo,
    aggregate,
    minute_column,
    store_slo,
    stored_slo,
)
from lfvsim.experiments.stats import upper_bound
from lfvsim.traces import generators

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


def bursty_scenario() -> tuple[lfvsim.Scenario, lfvsim.Trace]:
    """Surges over one unit's capacity: minutes with very different throttle rates."""
    sc = lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 2},
            "autoscaler": {"provisioning_delay_s": 300},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 2},
        }
    )
    base = generators.constant(3.0, 2.0, "2026-01-05T00:00Z")
    trace = generators.spikes(base, per_day=96, multiplier=3.0, duration_s=300, seed=3)
    return sc, trace


# --- the engine: exact percentiles of the per-minute rates --------------------------------


@pytest.mark.parametrize("percentile", [50.0, 95.0, 99.9])
def test_summary_gives_the_asked_percentile_of_per_minute_rates_exactly(percentile):
    sc, trace = bursty_scenario()
    result = lfvsim.simulate(sc, trace=trace, seed=11, minute_percentile=percentile)
    s = result.summary
    tl = result.timeline
    busy = tl["offered_requests"] > 0
    rates = (tl["ThrottledCount"][busy] / tl["offered_requests"][busy]).to_numpy()
    assert len(np.unique(rates)) > 5  # the minutes differ: the percentile is not trivial
    expected = float(np.quantile(rates, percentile / 100, method="inverted_cdf"))
    assert s.minute_percentile == percentile
    assert s.throttle_rate_minute_percentile == expected
    assert s.throttle_rate_minute_percentile in set(rates)  # a rate some minute had
    # the 99th is always there, and the run itself does not depend on the percentile
    default = lfvsim.simulate(sc, trace=trace, seed=11)
    assert s.throttle_rate_minute_p99 == default.summary.throttle_rate_minute_p99
    assert default.summary.throttle_rate_minute_percentile == s.throttle_rate_minute_p99
    assert s.throttled == default.summary.throttled


@pytest.mark.parametrize("bad", [0, 100, -1, 150, math.nan])
def test_a_percentile_outside_0_100_is_refused(bad):
    sc, trace = bursty_scenario()
    with pytest.raises(lfvsim.InputError, match=r"--minute-percentile .*between 0 and 100"):
        lfvsim.simulate(sc, trace=trace, seed=1, minute_percentile=bad)
    with pytest.raises(lfvsim.InputError, match="--minute-percentile"):
        Slo(0.01, max_minute_rate=0.05, minute_percentile=bad)


# --- the experiments: a sweep at P, bounds, the recommendation ------------------------------


@pytest.fixture(scope="module")
def swept_at_95() -> pd.DataFrame:
    sc, trace = bursty_scenario()
    return sweep(
        sc, min_units=[1, 2], max_units=[2, 3], replications=4, seed=7, trace=trace,
        workers=1, minute_percentile=95,
    )  # fmt: skip


def test_aggregate_bounds_the_asked_percentile_like_the_other_figures(swept_at_95):
    table = swept_at_95
    assert (table["minute_percentile"] == 95).all()
    assert minute_column(table, 95) == MINUTE
    assert minute_column(table, 99) == MINUTE_P99
    assert minute_column(table, 99.9) is None
    agg = aggregate(table, 0.9, 95)
    for _, row in agg.iterrows():
        runs = table[
            (table["min_units"] == row["min_units"])
            & (
                table["max_units"].isna()
                if pd.isna(row["max_units"])
                else table["max_units"] == row["max_units"]
            )
        ]
        assert row[MINUTE] == pytest.approx(runs[MINUTE].mean())
        assert row[f"{MINUTE}_upper"] == pytest.approx(upper_bound(runs[MINUTE], 0.9))
    assert (agg[MINUTE] <= agg[MINUTE_P99] + 1e-12).all()  # a lower percentile, lower rates


def test_recommend_holds_the_minute_target_at_the_asked_percentile(swept_at_95):
    table = swept_at_95
    agg = aggregate(table, 0.95, 95)
    real = agg[~agg["oracle_bound"]]
    # a target between two configurations' bounds: only some meet it
    bounds = np.sort(real[f"{MINUTE}_upper"].to_numpy())
    target = float((bounds[0] + bounds[-1]) / 2)
    rec = recommend(table, 0.5, max_minute_rate=target, minute_percentile=95)
    assert rec.met and rec.minute_percentile == 95
    assert rec.choice.minute_percentile == 95
    assert rec.choice.minute_rate_upper <= target
    cheaper_failing = real[
        (real["monthly_cost_usd"] < rec.choice.monthly_cost_usd)
        & (real["throttle_rate_upper"] <= 0.5)
    ]
    assert (cheaper_failing[f"{MINUTE}_upper"] > target).all()
    assert rec.to_dict()["throttle_rate_minute_percentile_upper"] == rec.choice.minute_rate_upper
    assert rec.to_dict()["minute_percentile"] == 95
    with pytest.raises(lfvsim.InputError, match=r"--minute-percentile 99\.9: this sweep"):
        recommend(table, 0.5, max_minute_rate=target, minute_percentile=99.9)


def test_the_slo_with_its_percentile_is_stored_and_read_back(swept_at_95):
    slo = Slo(0.01, None, 0.9, 0.03, 0.05, 95.0)
    assert stored_slo(store_slo(swept_at_95, slo)) == slo
    assert stored_slo(store_slo(swept_at_95, Slo(0.01))).minute_percentile == 99.0


def test_a_sweep_output_is_not_resumed_at_another_percentile(tmp_path):
    sc, trace = bursty_scenario()
    out = tmp_path / "s.parquet"
    kwargs = {"min_units": [1], "max_units": [2], "replications": 2, "seed": 1, "trace": trace}
    sweep(sc, output=out, workers=1, minute_percentile=95, **kwargs)
    with pytest.raises(lfvsim.InputError, match="--minute-percentile differ"):
        sweep(sc, output=out, workers=1, minute_percentile=90, **kwargs)


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text(SMALL.format(delay=120))
    b = tmp_path / "b.toml"
    b.write_text(SMALL.format(delay=600))
    return a, b


SWEEP = ("--min", "1..2", "--max", "2..3", "--replications", "3", "--workers", "1")


def test_sweep_says_per_configuration_which_slo_targets_it_meets(cli, files, tmp_path):
    a, _ = files
    out = tmp_path / "s.parquet"
    code, stdout, err = cli(
        "sweep", a, *SWEEP, "-o", out, "--max-throttle-rate", "0.01",
        "--max-worst-hour-rate", "0.02", "--max-minute-rate", "0.05", "--minute-percentile", "95",
    )  # fmt: skip
    assert code == 0, err
    assert "SLO: throttle rate <= 1%, worst hour <= 2%, 95% of minutes <= 5%" in stdout
    header = next(line for line in stdout.splitlines() if line.lstrip().startswith("Min"))
    for column in ("minute p95", "meets rate", "meets hour", "meets minutes"):
        assert column in header
    table = pd.read_parquet(out)
    agg = aggregate(table, 0.95, 95)
    rows = [line.split() for line in stdout.splitlines() if line[:5].strip().isdigit()]
    assert len(rows) == len(agg)
    for words, (_, r) in zip(rows, agg.iterrows(), strict=True):
        expected = [
            r["throttle_rate_upper"] <= 0.01,
            r["throttle_rate_worst_hour_upper"] <= 0.02,
            r[f"{MINUTE}_upper"] <= 0.05,
        ]
        assert words[-3:] == ["yes" if e else "no" for e in expected]
    assert stored_slo(table) == Slo(0.01, None, 0.95, 0.02, 0.05, 95.0)
    assert (table["minute_percentile"] == 95).all()


def test_sweep_without_an_slo_stores_none_and_shows_no_verdict(cli, files, tmp_path):
    a, _ = files
    out = tmp_path / "s.parquet"
    code, stdout, err = cli("sweep", a, *SWEEP, "-o", out)
    assert code == 0, err
    assert "meets" not in stdout and "minute p99" in stdout
    assert stored_slo(pd.read_parquet(out)) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-worst-hour-rate", "0.02"), "--max-worst-hour-rate: an SLO starts with"),
        (("--max-minute-rate", "0.02"), "--max-minute-rate: an SLO starts with"),
        (("--minute-percentile", "100"), "--minute-percentile 100.0: give a percentile"),
        (("--max-throttle-rate", "2"), "--max-throttle-rate 2.0: give a fraction"),
    ],
)
def test_sweep_refuses_a_bad_slo_before_any_work(cli, files, tmp_path, args, message):
    a, _ = files
    out = tmp_path / "s.parquet"
    code, stdout, err = cli("sweep", a, *SWEEP, "-o", out, *args)
    assert code == 2 and err.startswith("lfvsim: error: ") and err.count("\n") == 1, err
    assert message in err and stdout == ""
    assert not out.exists() and not list(tmp_path.glob(".s.parquet*"))


@pytest.fixture
def swept_file(cli, files, tmp_path):
    a, _ = files
    out = tmp_path / "s.parquet"
    code, _, err = cli(
        "sweep", a, *SWEEP, "-o", out, "--max-throttle-rate", "0.2", "--max-minute-rate", "0.4",
    )  # fmt: skip
    assert code == 0, err
    return out


def test_plot_takes_the_stored_slo_or_the_flags_as_recommend_reads_them(cli, swept_file, tmp_path):
    stored = tmp_path / "stored.svg"
    code, stdout, err = cli("plot", "frontier", swept_file, "-o", stored)
    assert code == 0, err
    assert (
        "throttle rate <= 20%, 99% of minutes <= 40%" in stdout and "as the sweep stores" in stdout
    )
    flags = tmp_path / "flags.svg"
    code, stdout, err = cli(
        "plot", "frontier", swept_file, "-o", flags, "--max-throttle-rate", "0.2",
        "--max-minute-rate", "0.4",
    )  # fmt: skip
    assert code == 0, err and "as the sweep stores" not in stdout
    assert _svg(flags) == _svg(stored)
    code, _, err = cli(
        "plot", "frontier", swept_file, "-o", tmp_path / "x.svg", "--max-throttle-rate", "0.001"
    )
    assert code == 0 and _svg(tmp_path / "x.svg") != _svg(stored), err  # the comparison can fail
    # a flag alone replaces only its part of the stored SLO
    code, stdout, err = cli(
        "plot", "frontier", swept_file, "-o", tmp_path / "c.svg", "--confidence", "0.9"
    )
    assert code == 0 and "99% of minutes <= 40%, upper bounds at 90% confidence" in stdout, err
    # --max-throttle-rate alone is recommend's SLO: no minute target left over from the sweep
    other = tmp_path / "other.svg"
    code, stdout, err = cli(
        "plot", "frontier", swept_file, "-o", other, "--max-throttle-rate", "0.2"
    )
    assert code == 0 and "minutes" not in stdout, err


def _svg(path) -> str:
    """The SVG text without matplotlib's random element ids."""
    return re.sub(r"\b[mp][0-9a-f]{10}\b", "ID", path.read_text(encoding="utf-8"))


def test_plot_refuses_a_sweep_of_another_scenario_and_writes_nothing(
    cli, files, swept_file, tmp_path
):
    a, b = files
    out = tmp_path / "f.png"
    code, stdout, err = cli("plot", "heatmap-cost", swept_file, "-o", out, "--scenario", b)
    assert code == 2 and err.startswith("lfvsim: error: ") and err.count("\n") == 1, err
    assert "a sweep of another scenario" in err and stdout == "" and not out.exists()
    counts = tmp_path / "counts.csv"
    minutes = pd.date_range("2026-01-05", periods=60, freq="min", tz="UTC")
    frame = pd.DataFrame({"timestamp": minutes.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": 600})
    frame.to_csv(counts, index=False)
    code, _, err = cli(
        "plot", "frontier", swept_file, "-o", out, "--scenario", a, "--trace", counts
    )
    assert code == 2 and "swept on other traffic" in err and not out.exists(), err
    code, _, err = cli("plot", "frontier", swept_file, "-o", out, "--trace", counts)
    assert code == 2 and "give the scenario too" in err and not out.exists(), err
    code, _, err = cli("plot", "frontier", swept_file, "-o", out, "--scenario", a)
    assert code == 0 and out.exists(), err


def test_plot_refuses_a_percentile_the_sweep_did_not_measure(cli, swept_file, tmp_path):
    out = tmp_path / "f.png"
    code, _, err = cli("plot", "frontier", swept_file, "-o", out, "--minute-percentile", "95")
    assert code == 2 and "did not measure the 95th percentile" in err and not out.exists(), err
    code, _, err = cli("plot", "frontier", swept_file, "-o", out, "--minute-percentile", "0")
    assert code == 2 and "between 0 and 100" in err and not out.exists(), err


def test_report_takes_the_whole_stored_slo_and_reproduces_it(cli, files, tmp_path):
    a, _ = files
    swept = tmp_path / "s.parquet"
    code, _, err = cli(
        "sweep", a, *SWEEP, "-o", swept, "--max-throttle-rate", "0.2",
        "--max-worst-hour-rate", "0.3", "--max-minute-rate", "0.4", "--minute-percentile", "95",
    )  # fmt: skip
    assert code == 0, err
    out = tmp_path / "r.md"
    code, _, err = cli("report", a, "--sweep", swept, "-o", out)
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert "throttle rate ≤ 20%, worst hour ≤ 30%, 95% of minutes ≤ 40%" in page
    assert "--max-worst-hour-rate 0.3 --max-minute-rate 0.4 --minute-percentile 95" in page
    table = pd.read_parquet(swept)
    rec = recommend(table, 0.2, max_worst_hour_rate=0.3, max_minute_rate=0.4, minute_percentile=95)
    assert rec.met
    assert f'"MinInferenceUnits": {rec.choice.min_units}' in page
    if rec.choice.max_units is not None:
        assert f'"MaxInferenceUnits": {rec.choice.max_units}' in page
