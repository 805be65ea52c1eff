"""Generators, modifiers, transforms and arrival models: statistics over seeds, exactness,
and common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lfvsim
import lfvsim.traces as T
from lfvsim.errors import InputError
from tests.conftest import scenario

MONDAY = "2026-01-05T00:00:00Z"


def sample_counts(trace, seed: int, bin_s: float = 60.0) -> np.ndarray:
    return T.to_counts(trace, bin_s, seed=seed).counts


# --- generators: statistics over seeds ----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_constant_rate_has_the_mean_and_poisson_dispersion(seed):
    counts = sample_counts(T.constant(2.5, 12, MONDAY), seed)
    n = len(counts)
    assert abs(counts.mean() - 150) < 4 * np.sqrt(150 / n)
    # Index of dispersion of Poisson counts: 1, standard error about sqrt(2 / (n - 1)).
    assert abs(counts.var(ddof=1) / counts.mean() - 1) < 4 * np.sqrt(2 / (n - 1))


def test_diurnal_sample_has_the_mean_and_peak_to_trough():
    ratios, means = [], []
    for seed in range(4):
        hourly = sample_counts(T.diurnal(3.0, 5.0, 15.0, 48, MONDAY), seed, 3600.0)
        per_hour = hourly.reshape(2, 24).mean(axis=0)
        means.append(hourly.mean() / 3600)
        ratios.append(per_hour.max() / per_hour.min())
        assert abs(int(np.argmax(per_hour)) - 15) <= 1
    assert np.mean(means) == pytest.approx(3.0, rel=0.01)
    # Hour averages of a sine flatten its extremes slightly (by under 1%).
    assert np.mean(ratios) == pytest.approx(5.0, rel=0.05)


def test_factory_calendar_in_local_time():
    t = T.factory(
        6.0,
        24 * 14,
        MONDAY,
        weekday_shifts="06:00-14:00, 14:00-22:00@0.5",
        saturday_shifts="06:00-12:00@0.5",
        breaks="12:00-12:30",
        holidays="2026-01-06",
        timezone="Europe/Berlin",
        idle_tps=0.1,
    )
    rates = pd.Series(
        t.rates_tps, index=pd.date_range(MONDAY, periods=len(t.rates_tps), freq="min")
    )
    local = rates.tz_convert("Europe/Berlin")
    at = lambda s: local[pd.Timestamp(s, tz="Europe/Berlin")]  # noqa: E731
    assert at("2026-01-05 05:59") == 0.1 and at("2026-01-05 06:00") == 6.0
    assert at("2026-01-05 12:10") == 0.1  # break
    assert at("2026-01-05 15:00") == 3.0 and at("2026-01-05 22:00") == 0.1
    assert at("2026-01-06 10:00") == 0.1  # holiday
    assert at("2026-01-10 09:00") == 3.0 and at("2026-01-10 13:00") == 0.1  # Saturday
    assert at("2026-01-11 10:00") == 0.1  # Sunday
    # Expected requests: 9 working weekdays of 7.5 h at 6 TPS + 8 h at 3 TPS, 2 Saturdays.
    working_s = 9 * (7.5 * 6 + 8 * 3) * 3600 + 2 * (6 * 3) * 3600
    idle_s = 14 * 86400 - (9 * 15.5 + 2 * 6) * 3600
    assert t.expected_requests == pytest.approx(working_s + 0.1 * idle_s)


def test_factory_shifts_follow_daylight_saving_and_cross_midnight():
    # 29 March 2026: Europe/Berlin moves from UTC+1 to UTC+2.
    t = T.factory(
        1.0, 72, "2026-03-27T00:00Z", weekday_shifts="22:00-06:00", timezone="Europe/Berlin"
    )
    on = pd.Series(
        t.rates_tps > 0,
        index=pd.date_range("2026-03-27", periods=len(t.rates_tps), freq="min", tz="UTC"),
    )
    # Friday 22:00 CET (21:00 UTC) to Saturday 06:00 CET (05:00 UTC); no Saturday night shift.
    assert on["2026-03-27 20:59"] == False and on["2026-03-27 21:00"] == True  # noqa: E712
    assert on["2026-03-28 04:59"] == True and on["2026-03-28 05:00"] == False  # noqa: E712
    assert not on["2026-03-28 12:00":"2026-03-29 23:59"].any()
    # Thursday's shift runs into Friday (5 h in the trace); Sunday's night shift does not run.
    assert on.sum() == 5 * 60 + 8 * 60


def test_factory_line_stops_are_seeded_and_inside_shifts():
    kw = dict(weekday_shifts="06:00-18:00", line_stops_per_day=3, line_stop_mean_min=30)
    a = T.factory(5.0, 24 * 7, MONDAY, seed=1, **kw)
    b = T.factory(5.0, 24 * 7, MONDAY, seed=1, **kw)
    plain = T.factory(5.0, 24 * 7, MONDAY, weekday_shifts="06:00-18:00")
    np.testing.assert_array_equal(a.rates_tps, b.rates_tps)
    stopped = (plain.rates_tps > 0) & (a.rates_tps == 0)
    assert 0 < stopped.sum() < (plain.rates_tps > 0).sum() / 3
    assert not ((plain.rates_tps == 0) & (a.rates_tps > 0)).any()
    assert "line stops" in a.notes[0]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"weekday_shifts": "6-14"}, "weekday_shifts: cannot read '6-14'"),
        ({"breaks": "12:00-25:00"}, "breaks: '12:00-25:00' is not a time of day"),
        ({"holidays": "Christmas"}, "holidays: cannot read 'Christmas'"),
        ({"timezone": "Berlin"}, "unknown time zone 'Berlin'"),
    ],
)
def test_factory_calendar_errors(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        T.factory(5.0, 24, MONDAY, **kwargs)


def test_spikes_growth_and_noise():
    base = T.constant(2.0, 24 * 30, MONDAY)
    spiky = T.spikes(base, per_day=4, multiplier=3.0, duration_s=600, seed=3)
    extra = spiky.expected_requests - base.expected_requests
    count = int(spiky.notes[0].split()[0])
    assert extra == pytest.approx(count * 2.0 * 2.0 * 600, rel=0.02)  # cut at the end only
    assert abs(count - 120) < 4 * np.sqrt(120)
    grown = T.growth(base, 30.0)
    assert grown.rates_tps[-1] / grown.rates_tps[0] == pytest.approx(1.3, rel=0.01)
    noisy = T.noise(base, 0.2, seed=4)
    f = noisy.rates_tps / 2.0
    assert f.mean() == pytest.approx(1.0, abs=0.01)
    assert f.std() == pytest.approx(0.2, rel=0.05)
    # The same modifiers reshape counts traces through a per-interval scale.
    counts = T.CountTrace(pd.Timestamp(MONDAY), 60.0, np.full(43200, 100))
    assert T.growth(counts, 30.0).expected_requests == pytest.approx(
        grown.expected_requests * 100 / 120, rel=1e-9
    )


# --- transforms ---------------------------------------------------------------------------


def test_superpose_rates_add_and_mixed_traces_merge():
    a, b = T.constant(1.0, 2, MONDAY), T.diurnal(2.0, 3.0, 12.0, 3, MONDAY)
    both = T.superpose(a, b)
    assert isinstance(both, T.RateTrace) and both.duration_s == 3 * 3600
    assert both.expected_requests == pytest.approx(a.expected_requests + b.expected_requests)
    counts = T.CountTrace(pd.Timestamp("2026-01-05T01:00Z"), 30.0, np.full(240, 5))
    mixed = T.superpose(a, counts)
    assert isinstance(mixed, T.SuperposedTrace) and mixed.duration_s == 3 * 3600
    times = np.concatenate(list(mixed.blocks(np.random.default_rng(1), mixed.duration_s)))
    assert np.all(np.diff(times) >= 0)
    after = times[times >= 3600]
    per_30s = np.bincount(((after - 3600) // 30).astype(int), minlength=240)
    assert np.all(per_30s >= 5)  # the counts are all there, with a's arrivals on top
    assert (times >= 3600).sum() - 1200 == pytest.approx(3600, abs=5 * 60)
    r = lfvsim.simulate(scenario(model={"min_units": 3}), trace=mixed, seed=2)
    assert abs(r.summary.requests - mixed.expected_requests) < 5 * np.sqrt(7200)


def test_scale_shift_slice_repeat_resample():
    d = T.diurnal(4.0, 4.0, 12.0, 24, MONDAY)
    assert T.scale(d, 1.5).expected_requests == pytest.approx(1.5 * d.expected_requests)
    moved = T.shift(d, 3600.0)
    assert moved.start == pd.Timestamp("2026-01-05T01:00Z")
    assert T.shift(d, to="2026-02-01").start == pd.Timestamp("2026-02-01T00:00Z")
    part = T.slice_trace(d, "2026-01-05T06:00Z", "2026-01-05T09:00Z")
    assert part.start == pd.Timestamp("2026-01-05T06:00Z") and part.duration_s == 3 * 3600
    np.testing.assert_array_equal(part.rates_tps, d.rates_tps[360:540])
    week = T.repeat(d, 24 * 7)
    assert week.duration_s == 7 * 86400
    np.testing.assert_array_equal(week.rates_tps[1440 * 3 : 1440 * 4], d.rates_tps)
    hourly = T.resample(d, 3600.0)
    assert hourly.expected_requests == pytest.approx(d.expected_requests)
    np.testing.assert_allclose(hourly.rates_tps, d.rates_tps.reshape(24, 60).mean(axis=1))
    fine = T.resample(d, 7.0)
    assert fine.expected_requests == pytest.approx(d.expected_requests, rel=1e-9)
    counts = T.CountTrace(pd.Timestamp(MONDAY), 60.0, np.arange(10))
    np.testing.assert_array_equal(T.resample(counts, 300.0).counts, [10, 35])
    with pytest.raises(InputError, match="whole multiples of 60 s"):
        T.resample(counts, 90.0)
    with pytest.raises(InputError, match="holds nothing"):
        T.slice_trace(d, "2027-01-01", None)


def test_per_request_transforms():
    req = T.RequestTrace(pd.Timestamp(MONDAY), np.array([1.0, 50.0, 70.0, 119.0]), 120.0)
    np.testing.assert_array_equal(T.slice_trace(req, "2026-01-05T00:01Z").times_s, [10.0, 59.0])
    np.testing.assert_array_equal(
        T.repeat(req, 300 / 3600).times_s, [1, 50, 70, 119, 121, 170, 190, 239, 241, 290]
    )
    np.testing.assert_array_equal(T.to_counts(req, 60.0).counts, [2, 2])
    with pytest.raises(InputError, match="to_counts"):
        T.scale(req, 2.0)


# --- arrival models -----------------------------------------------------------------------

MODELS = [
    T.PoissonArrivals(),
    T.EvenArrivals(),
    T.BatchArrivals(4.0, 0.5),
    T.BatchArrivals(2.0, 0.0),
    T.OnOffArrivals(0.5, 30.0),
    T.OnOffArrivals(0.1, 1.0),
]


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 300), min_size=1, max_size=30),
    first=st.integers(0, 1000),
    bin_s=st.sampled_from([0.5, 1.0, 60.0, 300.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_model_keeps_each_count_sorted_inside_its_interval(counts, first, bin_s, seed):
    counts = np.array(counts)
    for model in MODELS:
        t = model.place(counts, first, bin_s, np.random.default_rng(seed))
        assert np.all(np.diff(t) >= 0), model
        idx = np.floor(t / bin_s).astype(int) - first
        np.testing.assert_array_equal(np.bincount(idx, minlength=len(counts)), counts)


def dispersion(model, rate_tps: float = 4.0, seed: int = 0) -> float:
    trace = T.with_arrivals(
        T.CountTrace(pd.Timestamp(MONDAY), 60.0, np.full(600, int(60 * rate_tps))), model
    )
    return T.describe_trace(trace, seed=seed).dispersion_1s


def test_burstiness_of_the_models_within_tolerance():
    assert dispersion(T.PoissonArrivals()) == pytest.approx(1.0, abs=0.05)
    assert dispersion(T.EvenArrivals()) < 0.1
    # Batches of geometric size with mean m, all at once: E[S^2] / E[S] = 2m - 1.
    assert dispersion(T.BatchArrivals(3.0, 0.0)) == pytest.approx(5.0, rel=0.1)
    # On a share f of the time at rate r / f: variance / mean = 1 + r (1 - f) / f.
    assert dispersion(T.OnOffArrivals(0.5, 10.0)) == pytest.approx(1 + 4.0, rel=0.1)
    assert dispersion(T.OnOffArrivals(0.8, 10.0)) == pytest.approx(1 + 4.0 / 4, rel=0.1)
    flat = T.CountTrace(pd.Timestamp(MONDAY), 60.0, np.full(60, 120))
    even = T.describe_trace(T.with_arrivals(flat, T.EvenArrivals()))
    assert even.burstiness == pytest.approx(-1.0, abs=1e-6)
    poisson = T.describe_trace(T.constant(2, 4, MONDAY), seed=3)
    assert abs(poisson.burstiness) < 0.03


def test_arrivals_are_common_random_numbers_across_configurations():
    trace = T.with_arrivals(T.diurnal(3.0, 3.0, 12.0, 2, MONDAY), T.BatchArrivals(3.0, 0.3))
    runs = [
        lfvsim.simulate(scenario(model=m), trace=trace, seed=9, record_requests=True)
        for m in ({"min_units": 1}, {"min_units": 1, "max_units": 4}, {"min_units": 5})
    ]
    for r in runs[1:]:
        np.testing.assert_array_equal(r.requests["arrival_s"], runs[0].requests["arrival_s"])
        np.testing.assert_array_equal(r.requests["service_s"], runs[0].requests["service_s"])


def test_counts_trace_arrival_note_names_the_assumption():
    t = T.CountTrace(pd.Timestamp(MONDAY), 60.0, np.full(5, 10))
    r = lfvsim.simulate(scenario(), trace=T.with_arrivals(t, T.BatchArrivals()), seed=1)
    assert any(
        "assumed: arrivals inside each 60 s interval" in n and "batches" in n for n in r.notes
    )


# --- describe -----------------------------------------------------------------------------


def test_describe_a_known_trace_exactly():
    times = np.array([0.1, 0.2, 0.3, 5.0, 61.0, 62.5, 62.7, 62.9, 62.95, 119.0])
    stats = T.describe_trace(T.RequestTrace(pd.Timestamp(MONDAY), times, 120.0))
    assert stats.requests == 10 and stats.mean_tps == pytest.approx(10 / 120)
    assert stats.peak_tps_1s == 4 and stats.peak_1s_at == pd.Timestamp("2026-01-05T00:01:02Z")
    assert stats.peak_tps_1min == pytest.approx(6 / 60)
    np.testing.assert_array_equal(stats.per_minute, [4, 6])
    np.testing.assert_array_equal(stats.peak_1s_per_minute, [3, 4])
    assert not stats.sampled
    line, per = T.stats.sparkline(np.array([0, 1, 2, 3, 4, 5, 6, 7.0]), width=4)
    assert (line, per) == ("▂▄▆█", 2)  # column means 0.5, 2.5, 4.5, 6.5
    assert set(stats.to_dict()) >= {"requests", "peak_tps_1s", "burstiness", "dispersion_1s"}
