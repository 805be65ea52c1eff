"""Trace readers and generators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.engine.dataplane import service_sampler
from lfvsim.engine.result import histogram_quantiles
from lfvsim.traces import CountTrace, RequestTrace, spread_in_bins
from tests.conftest import ROOT, scenario

WORLDCUP = ROOT.parent / "shared" / "data" / "worldcup98-1998-06-25-per-second.csv"


def test_per_request_csv_iso_and_epoch_give_the_same_trace(tmp_path):
    iso = tmp_path / "iso.csv"
    iso.write_text(
        "timestamp\n2026-01-05T10:00:01.5Z\n2026-01-05T11:00:02+01:00\n2026-01-05 10:02:00Z\n"
    )
    epoch = tmp_path / "epoch.csv"
    t0 = pd.Timestamp("2026-01-05T10:00:00Z").timestamp()
    epoch.write_text(f"timestamp\n{t0 + 1.5}\n{t0 + 2}\n{t0 + 120}\n")
    a, b = lfvsim.read_csv_trace(iso), lfvsim.read_csv_trace(epoch)
    assert isinstance(a, RequestTrace)
    assert a.start == b.start == pd.Timestamp("2026-01-05T10:00:00Z")
    np.testing.assert_allclose(a.times_s, [1.5, 2.0, 120.0])
    np.testing.assert_allclose(b.times_s, a.times_s)
    assert a.duration_s == 180.0


def test_per_request_trace_is_replayed_request_by_request(tmp_path):
    path = tmp_path / "requests.csv"
    times = np.sort(np.random.default_rng(1).uniform(0, 600, 500))
    path.write_text("timestamp\n" + "\n".join(f"{1_700_000_000 + t:.6f}" for t in times) + "\n")
    trace = lfvsim.read_csv_trace(path)
    r = lfvsim.simulate(scenario(model={"min_units": 2}), trace=trace, seed=1, record_requests=True)
    assert r.summary.requests == 500
    start_offset = 1_700_000_000 - trace.start.timestamp()
    np.testing.assert_allclose(r.requests["arrival_s"], times + start_offset)
    expected = np.bincount(((times + start_offset) // 60).astype(int), minlength=len(r.timeline))
    np.testing.assert_array_equal(r.timeline["offered_requests"], expected)


def test_counts_keep_their_exact_count_in_every_interval(tmp_path):
    counts = np.random.default_rng(2).poisson(30, 120)
    counts[5] = 0
    path = tmp_path / "counts.csv"
    stamps = pd.date_range("2026-03-01", periods=120, freq="30s", tz="UTC")
    path.write_text(
        "timestamp,count\n"
        + "".join(f"{t.isoformat()},{c}\n" for t, c in zip(stamps, counts, strict=True))
    )
    trace = lfvsim.read_csv_trace(path)
    assert isinstance(trace, CountTrace) and trace.bin_s == 30.0
    r = lfvsim.simulate(scenario(model={"min_units": 2}), trace=trace, seed=3, record_requests=True)
    per_bin = np.bincount((r.requests["arrival_s"] // 30).astype(int), minlength=120)
    np.testing.assert_array_equal(per_bin, counts)
    assert r.timeline.index[0] == stamps[0]


def test_spread_in_bins_is_sorted_exact_and_uniform():
    rng = np.random.default_rng(4)
    counts = np.array([0, 3, 10_000, 0, 1, 50_000])
    t = spread_in_bins(counts, 7, 2.0, rng)
    assert np.all(np.diff(t) >= 0)
    np.testing.assert_array_equal(np.bincount((t // 2.0).astype(int) - 7, minlength=6), counts)
    # Inside a bin the times are uniform: mean and variance of U(0,1) within 4 standard errors.
    u = t[(t >= 18) & (t < 20)] / 2.0 - 9
    n = len(u)
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 4 * np.sqrt(1 / 180 / n)


def test_scale_thins_and_multiplies_counts():
    counts = np.full(600, 100)
    start = pd.Timestamp("2026-01-05", tz="UTC")
    sc = scenario(model={"min_units": 50})
    for scale in (0.25, 2.5):
        r = lfvsim.simulate(sc, trace=CountTrace(start, 60.0, counts, scale=scale), seed=1)
        expected = 60_000 * scale
        # Binomial thinning of the fractional part: sd = sqrt(n p (1 - p)).
        frac = scale % 1
        sd = np.sqrt(60_000 * frac * (1 - frac))
        assert abs(r.summary.requests - expected) < 5 * sd


def test_constant_generator_has_the_poisson_mean_and_dispersion():
    r = lfvsim.simulate(
        scenario(
            model={"min_units": 10}, traffic={"kind": "constant", "rate_tps": 3, "duration_h": 24}
        ),
        seed=5,
    )
    per_minute = r.timeline["offered_requests"].to_numpy()
    assert abs(per_minute.mean() - 180) < 4 * np.sqrt(180 / len(per_minute))
    # Index of dispersion of Poisson counts is 1.
    assert per_minute.var(ddof=1) / per_minute.mean() == pytest.approx(1.0, abs=0.12)


def test_diurnal_generator_peaks_at_the_given_hour_with_the_given_ratio():
    trace = lfvsim.diurnal(4.0, 6.0, 13.0, 48, "2026-01-05T00:00:00Z")
    rates = trace.rates_tps
    assert rates.mean() == pytest.approx(4.0, rel=1e-3)
    assert rates.max() / rates.min() == pytest.approx(6.0, rel=1e-3)
    peak_minute = int(np.argmax(rates[:1440]))
    assert abs(peak_minute / 60 - 13.0) < 0.05


def test_lognormal_service_times_have_the_requested_mean_and_p99():
    unit = scenario(unit={"latency_mean_s": 0.8, "latency_p99_s": 2.0}).unit
    x = service_sampler(unit)(np.random.default_rng(6), 400_000)
    assert x.mean() == pytest.approx(0.8, rel=0.01)
    assert np.quantile(x, 0.99) == pytest.approx(2.0, rel=0.02)


def test_histogram_percentiles_match_exact_percentiles():
    from lfvsim.engine.kernel import HIST_ALL, HIST_MINUTE

    x = np.random.default_rng(7).lognormal(-0.5, 0.6, 200_000)
    for lo, per, nbins in (HIST_ALL, HIST_MINUTE):
        bins = np.clip((np.log10(x / lo) * per).astype(int), 0, nbins - 1)
        hist = np.bincount(bins, minlength=nbins)
        est = histogram_quantiles(hist, [0.5, 0.95, 0.99], lo, per)
        exact = np.quantile(x, [0.5, 0.95, 0.99])
        width = 10 ** (1 / per) - 1  # relative width of one bin
        np.testing.assert_allclose(est, exact, rtol=width)


def test_run_percentiles_agree_with_recorded_latencies():
    sc = scenario(
        model={"min_units": 2},
        unit={"when_busy": "queue"},
        traffic={"kind": "constant", "rate_tps": 9, "duration_h": 2},
    )
    r = lfvsim.simulate(sc, seed=8, record_requests=True)
    req = r.requests[~r.requests["unavailable"]]  # still queued when the model stopped
    lat = (req["start_s"] - req["arrival_s"] + req["service_s"]).to_numpy()
    exact = np.quantile(lat, [0.5, 0.95, 0.99])
    got = [r.summary.latency_p50_s, r.summary.latency_p95_s, r.summary.latency_p99_s]
    np.testing.assert_allclose(got, exact, rtol=0.005)
    assert r.summary.latency_mean_s == pytest.approx(lat.mean(), rel=1e-9)


@pytest.mark.skipif(not WORLDCUP.exists(), reason="shared WorldCup98 trace not present")
def test_worldcup_trace_reads_as_per_second_counts():
    trace = lfvsim.read_csv_trace(WORLDCUP, scale=0.01)
    assert isinstance(trace, CountTrace)
    assert trace.bin_s == 1.0 and len(trace.counts) == 172_800
    assert trace.counts.mean() == pytest.approx(522, rel=0.01)
