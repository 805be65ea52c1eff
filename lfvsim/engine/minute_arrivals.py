"""Arrival times inside each minute of a per-minute count history, drawn for replays.

Calibration replays a history's offered load many times with the same random arrivals
(common random numbers). Given each minute's count, the arrivals are placed from uniforms
drawn by the caller and sorted minute by minute: a history's minutes never overlap, so
sorting each minute's few hundred times gives exactly the order one sort of the whole
history would (at a fraction of its cost), and the offsets are computed as
``(minute start + offset) - minute start``, the same floating point operations as such a
whole-history sort, so the result is the same to the bit. Each minute is sorted by
distributing its times into as many equal buckets as it has arrivals, then insertion
(expected linear time: the times spread over the minute).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["batch_offsets", "poisson_offsets", "sort_spread"]

#: The last moment inside a minute (s): a batch spilling past the minute's end stays in it.
LAST_S = float(np.nextafter(60.0, 0.0))


@njit(cache=True, nogil=True)
def sort_spread(keys, n, low, width, out, counts):
    """``keys[:n]``, all within ``[low, low + width]``, sorted into ``out[:n]``.

    Bucket sort: ``n`` equal buckets, then one insertion pass (keys out of order only
    inside a bucket). ``counts`` is scratch of at least ``n + 1`` integers.
    """
    counts[: n + 1] = 0
    scale = n / width
    for i in range(n):
        b = min(max(int((keys[i] - low) * scale), 0), n - 1)
        counts[b + 1] += 1
    for b in range(n):
        counts[b + 1] += counts[b]
    for i in range(n):
        b = min(max(int((keys[i] - low) * scale), 0), n - 1)
        out[counts[b]] = keys[i]
        counts[b] += 1
    for i in range(1, n):
        value = out[i]
        j = i - 1
        while j >= 0 and out[j] > value:
            out[j + 1] = out[j]
            j -= 1
        out[j + 1] = value


@njit(cache=True, nogil=True)
def poisson_offsets(minute_first, uniforms, out):
    """Seconds into its minute of each arrival, sorted within each minute (float32).

    Minute ``m`` holds arrivals ``minute_first[m]:minute_first[m + 1]``; each is placed at
    ``60 x uniforms[j]`` into it (uniform order statistics: Poisson given the count).
    ``out`` is set.
    """
    widest = _widest(minute_first)
    keys, ordered = np.empty(widest), np.empty(widest)
    counts = np.empty(widest + 1, np.int64)
    for m in range(minute_first.shape[0] - 1):
        first, end = minute_first[m], minute_first[m + 1]
        if end == first:
            continue
        base = float(m)
        for j in range(first, end):
            keys[j - first] = base + uniforms[j]
        sort_spread(keys, end - first, base, 1.0, ordered, counts)
        for i in range(end - first):
            out[first + i] = np.float32((ordered[i] - base) * 60.0)
    return out


@njit(cache=True, nogil=True)
def batch_offsets(minute_first, marks, epochs, offsets, size, spread_s, out):
    """Seconds into its minute of each arrival in geometric batches, sorted (float32).

    Arrival ``j`` starts a batch when ``marks[j] < 1 / size`` (the first of a minute
    always does), so the same marks nest batches across sizes; a batch starts at
    ``epochs[leader] x (60 - spread_s)`` and its members arrive ``offsets[j] x spread_s``
    later, within the minute. ``out`` is set.
    """
    starts = 1.0 / size
    widest = _widest(minute_first)
    keys, ordered = np.empty(widest), np.empty(widest)
    counts = np.empty(widest + 1, np.int64)
    for m in range(minute_first.shape[0] - 1):
        first, end = minute_first[m], minute_first[m + 1]
        if end == first:
            continue
        base = m * 60.0
        leader = first
        for j in range(first, end):
            if marks[j] < starts:
                leader = j
            within = epochs[leader] * (60.0 - spread_s) + offsets[j] * spread_s
            keys[j - first] = base + min(within, LAST_S)
        sort_spread(keys, end - first, base, 60.0, ordered, counts)
        for i in range(end - first):
            out[first + i] = np.float32(ordered[i] - base)
    return out


@njit(cache=True, nogil=True)
def _widest(minute_first):
    """The most arrivals of any minute."""
    widest = 0
    for m in range(minute_first.shape[0] - 1):
        widest = max(widest, minute_first[m + 1] - minute_first[m])
    return widest
