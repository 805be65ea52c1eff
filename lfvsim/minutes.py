"""Spreading time intervals over the one-minute grid of the timeline."""

from __future__ import annotations

import numpy as np

__all__ = ["MINUTE_S", "overlap_seconds_per_minute"]

MINUTE_S = 60.0


def overlap_seconds_per_minute(starts: np.ndarray, ends: np.ndarray, minutes: int) -> np.ndarray:
    """Seconds of overlap between a set of intervals and each minute.

    Parameters
    ----------
    starts, ends : array_like
        Interval bounds in seconds since the trace start; ``ends < starts`` counts as empty.
        Time outside ``[0, minutes * 60)`` is ignored.
    minutes : int
        Number of one-minute bins.

    Returns
    -------
    ndarray, shape (minutes,)
        Summed overlap in seconds for each minute.
    """
    horizon = minutes * MINUTE_S
    a = np.clip(np.asarray(starts, dtype=float), 0.0, horizon)
    b = np.clip(np.asarray(ends, dtype=float), 0.0, horizon)
    keep = b > a
    a, b = a[keep], b[keep]
    # A difference array of full-minute coverage plus exact partial first and last minutes.
    m0 = np.minimum((a // MINUTE_S).astype(np.int64), minutes - 1)
    m1 = np.minimum((b // MINUTE_S).astype(np.int64), minutes - 1)
    out = np.zeros(minutes + 1)
    same = m0 == m1
    np.add.at(out, m0[same], b[same] - a[same])
    a, b, m0, m1 = a[~same], b[~same], m0[~same], m1[~same]
    np.add.at(out, m0, (m0 + 1) * MINUTE_S - a)
    np.add.at(out, m1, b - m1 * MINUTE_S)
    full = np.zeros(minutes + 1)
    np.add.at(full, m0 + 1, MINUTE_S)
    np.add.at(full, m1, -MINUTE_S)
    return (out + np.cumsum(full))[:minutes]
