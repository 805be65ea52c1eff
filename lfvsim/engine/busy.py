"""Busy-hour throttling: the worst clock hour and the worst minutes of a run.

A run's average throttle rate can hide an hour or a few minutes that throttle far more.
These figures look at the per-minute attempts and throttles of the timeline.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from lfvsim.errors import InputError

__all__ = [
    "check_minute_percentile",
    "hourly_throttle_rates",
    "minute_throttle_rate_quantile",
    "worst_hour_throttle_rate",
    "worst_minutes",
]

IntArray = npt.NDArray[np.int64]


def check_minute_percentile(percentile: float) -> float:
    """``percentile`` as a float when it is strictly between 0 and 100.

    Raises
    ------
    InputError
        Outside (0, 100), or not a number.
    """
    try:
        value = float(percentile)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 < value < 100.0:  # also refuses NaN
        raise InputError(
            f"--minute-percentile {percentile}: give a percentile strictly between 0 and 100, "
            "e.g. 95 or 99.9"
        )
    return value


def hourly_throttle_rates(
    offered: IntArray, throttled: IntArray, start: pd.Timestamp
) -> pd.DataFrame:
    """Attempts, throttles and throttled share per clock-aligned hour with attempts.

    Minute ``i`` of the run starts at ``start + i`` minutes and belongs to the clock hour
    it starts in, so a run starting at 10:30 has a first hour of 30 minutes (10:30-11:00).

    Parameters
    ----------
    offered, throttled : ndarray
        Attempts and throttled attempts per minute.
    start : pandas.Timestamp
        When the first minute starts.

    Returns
    -------
    pandas.DataFrame
        Indexed by the hour's start: ``attempts``, ``throttled``, ``throttle_rate``; hours
        without attempts are left out.
    """
    offered = np.asarray(offered, np.int64)
    throttled = np.asarray(throttled, np.int64)
    first = start.floor("h")
    into_hour_s = (start - first).total_seconds()
    hour = ((into_hour_s + 60.0 * np.arange(len(offered))) // 3600).astype(np.int64)
    offered_h = np.bincount(hour, weights=offered, minlength=1).astype(np.int64)
    throttled_h = np.bincount(hour, weights=throttled, minlength=1).astype(np.int64)
    busy = np.flatnonzero(offered_h > 0)
    return pd.DataFrame(
        {
            "attempts": offered_h[busy],
            "throttled": throttled_h[busy],
            "throttle_rate": throttled_h[busy] / offered_h[busy],
        },
        index=pd.DatetimeIndex(first + pd.to_timedelta(busy, unit="h"), name="hour"),
    )


def worst_hour_throttle_rate(offered: IntArray, throttled: IntArray, start: pd.Timestamp) -> float:
    """The highest throttled share of attempts over clock-aligned hours with attempts.

    See :func:`hourly_throttle_rates`; 0 when no hour had any attempt.
    """
    hours = hourly_throttle_rates(offered, throttled, start)
    return float(hours["throttle_rate"].max()) if len(hours) else 0.0


def worst_minutes(timeline: pd.DataFrame, count: int = 5) -> pd.DataFrame:
    """The ``count`` minutes with the highest throttled share, worst first.

    Only minutes with attempts; ties go to the minute with more throttles, then the earlier.

    Returns
    -------
    pandas.DataFrame
        Indexed like the timeline: ``attempts``, ``throttled``, ``throttle_rate``.
    """
    offered = timeline["offered_requests"].to_numpy(np.int64)
    throttled = timeline["ThrottledCount"].to_numpy(np.int64)
    busy = offered > 0
    table = pd.DataFrame(
        {
            "attempts": offered[busy],
            "throttled": throttled[busy],
            "throttle_rate": throttled[busy] / offered[busy],
            "order": np.arange(int(busy.sum())),
        },
        index=timeline.index[busy],
    )
    table = table.sort_values(
        ["throttle_rate", "throttled", "order"], ascending=[False, False, True], kind="stable"
    )
    return table.drop(columns="order").head(count)


def minute_throttle_rate_quantile(
    offered: IntArray, throttled: IntArray, quantile: float = 0.99
) -> float:
    """A quantile of the per-minute throttled share over minutes with attempts.

    The empirical quantile (numpy's ``inverted_cdf``): the smallest per-minute rate that at
    least ``quantile`` of those minutes do not exceed, so it is always a rate some minute
    had. 0 when no minute had any attempt.
    """
    offered = np.asarray(offered, np.int64)
    busy = offered > 0
    if not busy.any():
        return 0.0
    rates = np.asarray(throttled, np.int64)[busy] / offered[busy]
    return float(np.quantile(rates, quantile, method="inverted_cdf"))
