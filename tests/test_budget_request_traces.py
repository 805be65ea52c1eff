"""The budget of a per-request trace counts its busiest hour from the data, not the whole
file: a large file spread over many hours is accepted, one truly too large refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lfvsim.traces as T
from lfvsim.budget import BudgetError, check_runs, trace_load
from lfvsim.traces.model import busiest_hour_bound
from tests.conftest import scenario

START = pd.Timestamp("2026-01-05", tz="UTC")


def _busiest_window(times_s: np.ndarray) -> int:
    """Most requests in any [t, t + 3600) starting at a request (the true busiest hour)."""
    return int(np.max(np.searchsorted(times_s, times_s + 3600.0) - np.arange(len(times_s))))


def test_bound_by_hand():
    # Hours 0, 1 and 3: 3 + 2 in the two consecutive ones; hour 3 stands alone.
    assert busiest_hour_bound(np.array([3, 0, 1]), np.array([4, 3, 2])) == 5.0
    assert busiest_hour_bound(np.array([0, 2]), np.array([3, 4])) == 4.0
    assert busiest_hour_bound(np.array([], dtype=int), np.array([])) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_bound_holds_every_window_and_is_at_most_twice_it(seed):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, 20 * 3600, 3000) ** 1.3 / (20 * 3600) ** 0.3)
    load = trace_load(T.RequestTrace(START, times, float(np.ceil(times[-1] / 60 + 1) * 60)))
    true = _busiest_window(times)
    assert true <= load.peak_requests_per_hour <= 2 * true
    assert load.peak_requests_per_hour < load.requests  # not the whole trace


def _write_requests(path, hours: int, per_hour: int) -> np.ndarray:
    offsets = np.repeat(np.arange(hours) * 3600.0, per_hour) + np.tile(
        np.linspace(0, 3599, per_hour), hours
    )
    stamps = pd.to_datetime(START.value // 10**9 + offsets, unit="s", utc=True)
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ")}).to_csv(path, index=False)
    return offsets


def test_a_streamed_file_counts_its_busiest_hour_as_it_is_read(tmp_path):
    path = tmp_path / "r.csv"
    offsets = _write_requests(path, hours=30, per_hour=200)
    streamed = T.read_trace(path, in_memory=False)
    kept = T.read_trace(path, in_memory=True)
    assert isinstance(streamed, T.StreamedRequestTrace)
    assert isinstance(kept, T.RequestTrace)
    load = trace_load(streamed)
    assert load.requests == 6000
    assert _busiest_window(np.sort(offsets)) <= load.peak_requests_per_hour <= 400
    assert load == trace_load(kept)  # the same figures, whether kept or streamed


def _streamed(requests: float, hours: float, peak: float) -> T.StreamedRequestTrace:
    """A trace as the reader makes it for a file too large to keep (never replayed here)."""
    return T.StreamedRequestTrace(
        START, hours * 3600.0, int(requests), lambda: iter(()), 0.0,
        peak_requests_per_hour=peak,
    )  # fmt: skip


def test_a_large_file_over_many_hours_is_accepted_one_too_large_refused(monkeypatch):
    for name in ("LFVSIM_ALLOW_LARGE", "LFVSIM_MAX_MEMORY_GIB", "LFVSIM_MAX_HOURS"):
        monkeypatch.delenv(name, raising=False)
    sc = scenario()
    # 3e9 requests over 1,000 hours, 3e6 an hour: about an hour and 0.7 GiB. Counted as
    # all in one block it would need 144 GB, more than most machines have.
    spread = _streamed(3e9, 1000, peak=2 * 3e6)
    assert check_runs(sc, spread) is None
    # Twice as many requests: over the 2 h time budget whatever the busiest hour.
    with pytest.raises(BudgetError, match="time budget"):
        check_runs(sc, _streamed(6e9, 1000, peak=2 * 6e6))
    # The same 3e9 requests in one hour: their block alone is past the memory budget.
    with pytest.raises(BudgetError, match="memory"):
        check_runs(sc, _streamed(3e9, 1, peak=3e9))


def test_an_unknown_busiest_hour_is_the_whole_file():
    trace = T.StreamedRequestTrace(START, 3600.0, 1000, lambda: iter(()), 0.0)
    assert trace_load(trace).peak_requests_per_hour == 1000
