"""Busy-hour throttling: the worst clock hour and the worst minutes of a run.

A run's average throttle rate can hide an hour or a few minutes that throttle far more.
These figures look at the per-minute attempts and throttles of the timeline.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["minute_throttle_rate_quantile", "worst_hour_throttle_rate"]

IntArray = npt.NDArray[np.int64]


def worst_hour_throttle_rate(offered: IntArray, throttled: IntArray, start: pd.Timestamp) -> float:
    """The highest throttled share of attempts over clock-aligned hours with attempts.

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
    float
        0 when no hour had any attempt.
    """
    offered = np.asarray(offered, np.int64)
    throttled = np.asarray(throttled, np.int64)
    into_hour_s = (start - start.floor("h")).total_seconds()
    hour = ((into_hour_s + 60.0 * np.arange(len(offered))) // 3600).astype(np.int64)
    offered_h = np.bincount(hour, weights=offered, minlength=1)
    throttled_h = np.bincount(hour, weights=throttled, minlength=1)
    busy = offered_h > 0
    if not busy.any():
        return 0.0
    return float((throttled_h[busy] / offered_h[busy]).max())


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
