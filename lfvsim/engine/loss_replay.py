"""Replay of given arrivals through concurrency slots that throttle when all are busy.

Calibration (:mod:`lfvsim.experiments.calibrate_burst`) replays a history's offered load
many times, once per candidate slot count and arrival burstiness, with the same random
arrivals and service times each time (common random numbers); the full data plane
(:mod:`lfvsim.engine.kernel`) carries retries, queues and the autoscaler, which a replay of
observed units in service does not need. A request is admitted when fewer requests are in
service than the units in service hold slots, and throttled otherwise, as
:func:`lfvsim.engine.kernel.serve_block` does with ``when_busy = 'throttle'``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["slots_replay"]


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


@njit(cache=True)
def slots_replay(offsets, services, minute_first, units_start, units_end, change_s, slots,
                 throttled):  # fmt: skip
    """Throttles per minute of ``slots`` slots per unit in service, no retries.

    Minute ``m``'s arrivals come ``offsets[minute_first[m]:minute_first[m + 1]]`` seconds
    (sorted) after its start, and each takes ``services[j]`` seconds once admitted.
    ``units_start[m]`` units serve from the minute's start and ``units_end[m]`` from
    ``change_s[m]`` seconds into it; a unit removed lets its requests finish. ``throttled[m]``
    is set.
    """
    most = int(units_start.max()) if units_start.shape[0] else 0
    most = max(most, int(units_end.max()) if units_end.shape[0] else 0)
    heap = np.empty(most * slots + 1)
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
            if n < units * slots:
                n = _push(heap, n, t + services[j])
            else:
                count += 1
        throttled[m] = count
    return throttled
