"""Replay of given arrivals through concurrency slots that throttle when all are busy.

Calibration (:mod:`lfvsim.experiments.calibrate_burst`) replays a history's offered load
many times, once per candidate slot count and arrival burstiness, with the same random
arrivals and service times each time (common random numbers); the full data plane
(:mod:`lfvsim.engine.kernel`) carries retries, queues and the autoscaler, which a replay of
observed units in service does not need. A request is admitted when fewer requests are in
service than the units in service hold slots, and throttled otherwise, as
:func:`lfvsim.engine.kernel.serve_block` does with ``when_busy = 'throttle'``. The
replays release the interpreter lock, and :func:`summed_replicates` runs a candidate's
replicates on threads side by side (the same counts as one after another).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from numba import njit

from lfvsim.engine.kernel import bucket_replay
from lfvsim.engine.minute_arrivals import sort_spread

__all__ = [
    "bucket_replay_nogil",
    "busy_before",
    "default_workers",
    "per_replicate",
    "slots_replay_busy",
    "summed_replicates",
]

IntArray = npt.NDArray[np.int64]
_T = TypeVar("_T")


@njit(cache=True)
def _push(heap, n, value):
    """Add ``value`` to the min-heap ``heap[:n]``; returns the new size."""
    i = n
    heap[i] = value
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent] <= heap[i]:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    return n + 1


@njit(cache=True)
def _pop(heap, n):
    """Remove the smallest of ``heap[:n]``; returns the new size."""
    n -= 1
    heap[0] = heap[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        small = left
        if left + 1 < n and heap[left + 1] < heap[left]:
            small = left + 1
        if heap[i] <= heap[small]:
            break
        heap[i], heap[small] = heap[small], heap[i]
        i = small
    return n


@njit(cache=True, nogil=True)
def _grown(heap, n):
    """``heap`` with room for one more entry than ``n`` (doubled when full)."""
    if n < heap.shape[0]:
        return heap
    bigger = np.empty(2 * heap.shape[0])
    bigger[:n] = heap[:n]
    return bigger


@njit(cache=True, nogil=True)
def busy_before(offsets, services, minute_first, busy):
    """Requests in service just before each arrival were every request admitted.

    What a replay through the slots counts, with unlimited slots: a request that arrives at
    ``t`` and takes ``s`` seconds is in service until ``t + s`` (exclusive), the same
    floating point values. The arrivals come in time order, so with the end times sorted
    (by bucket: about one per bucket, then insertion) one pass counts, for each arrival,
    the earlier requests that have ended; no heap. ``busy[j]`` is set for every arrival
    ``j``; its largest value is returned.
    """
    n = offsets.shape[0]
    if n == 0:
        return 0
    arrive = np.empty(n)
    ends = np.empty(n)
    for m in range(minute_first.shape[0] - 1):
        t0 = m * 60.0
        for j in range(minute_first[m], minute_first[m + 1]):
            arrive[j] = t0 + offsets[j]
            ends[j] = arrive[j] + services[j]
    ordered = np.empty(n)
    low, high = ends.min(), ends.max()
    sort_spread(ends, n, low, high - low if high > low else 1.0, ordered, np.empty(n + 1, np.int64))
    ended = 0
    most = 0
    for j in range(n):
        t = arrive[j]
        while ended < n and ordered[ended] <= t:
            ended += 1
        # Requests from j on have not arrived; one of them counts as ended only if it
        # arrives at t and takes no time (its end rounds to t).
        later = 0
        if ends[j] <= t or (j + 1 < n and arrive[j + 1] == t):
            i = j
            while i < n and arrive[i] == t:
                if ends[i] <= t:
                    later += 1
                i += 1
        busy[j] = j - (ended - later)
        most = max(most, busy[j])
    return most


@njit(cache=True, nogil=True)
def slots_replay_busy(offsets, services, busy, minute_first, units_start, units_end, change_s,
                      slots, throttled):  # fmt: skip
    """Throttles per minute of ``slots`` slots per unit in service, no retries, from
    :func:`busy_before`'s counts.

    The requests in service under limited slots are those of unlimited slots less the
    throttled ones still within their service time (a throttled request would have
    been in service until ``t + s``; an admitted one is, with the same times). So only
    throttled requests are kept in a heap, and the arrivals the slots admit cost a
    comparison: one :func:`busy_before` serves every slot count.
    """
    heap = np.empty(64)
    n = 0
    for m in range(units_start.shape[0]):
        t0 = m * 60.0
        t_change = t0 + change_s[m]
        count = 0
        for j in range(minute_first[m], minute_first[m + 1]):
            t = t0 + offsets[j]
            units = units_end[m] if t >= t_change else units_start[m]
            while n > 0 and heap[0] <= t:
                n = _pop(heap, n)
            if busy[j] - n >= units * slots:
                count += 1
                heap = _grown(heap, n)
                n = _push(heap, n, t + services[j])
        throttled[m] = count
    return throttled


@njit(cache=True, nogil=True)
def bucket_replay_nogil(offsets, minute_first, units_start, units_end, change_s, rate_tps,
                        burst, throttled):  # fmt: skip
    """:func:`lfvsim.engine.kernel.bucket_replay` without holding the interpreter lock, so
    replicates can run on threads side by side."""
    bucket_replay(offsets, minute_first, units_start, units_end, change_s, rate_tps, burst,
                  throttled)  # fmt: skip


def default_workers() -> int:
    """Threads a replay of several replicates uses: the cores this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def per_replicate(
    work: Callable[[int], _T], replicates: int, workers: int | None = None
) -> list[_T]:
    """``[work(0), work(1), ...]``, on up to ``workers`` threads (default:
    :func:`default_workers`; 1 runs them in turn).

    For work that releases the interpreter lock (the compiled replays and placements) on
    independent replicates: the results, in replicate order, are the same either way.
    """
    count = min(workers or default_workers(), replicates)
    if count <= 1:
        return [work(r) for r in range(replicates)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        # list() waits for every replicate and re-raises the first error.
        return list(pool.map(work, range(replicates)))


def summed_replicates(
    replay_one: Callable[[int, IntArray], object],
    replicates: int,
    minutes: int,
    workers: int | None = None,
) -> IntArray:
    """Sum over replicates of per-minute counts that ``replay_one(r, out)`` sets in ``out``,
    the replicates run by :func:`per_replicate` (an integer sum: the same in any order)."""
    rows = np.zeros((replicates, minutes), np.int64)
    per_replicate(lambda r: replay_one(r, rows[r]), replicates, workers)
    total: IntArray = rows.sum(axis=0)
    return total
