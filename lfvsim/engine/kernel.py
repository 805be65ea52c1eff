"""The data-plane kernel: requests between two control events, in one compiled loop.

Between two control events the serving capacity does not change, so the requests in that
interval are processed in one batch. Slots are a min-heap of the times they next fall free
(``heap_t``, with their slot ids in ``heap_slot``). A request takes the earliest-free slot
if it is free at its arrival; otherwise it waits in a FIFO queue (if allowed and not full)
or is throttled. Waiting requests start lazily, when a slot falls free before the next
arrival or the end of the batch, so capacity added at a control event serves the queue at
once. The outcome is the same as one SimPy process per request on a ``simpy.Resource``.

State lives in arrays owned by :class:`lfvsim.engine.dataplane.DataPlane`:

``st`` (int64): heap size, queue head, queue length, queue limit (-1: none), grow flag.
``acc`` (float64): latency sum, wait sum, requests that waited, latency max, started.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "HIST_ALL",
    "HIST_MINUTE",
    "peak_concurrency",
    "serve_block",
    "start_waiting",
]

# Latency histograms, log-spaced: (lowest edge in s, bins per decade, bins).
HIST_MINUTE = (1e-3, 40, 240)  # per minute: 1 ms .. 1000 s, bins 6% wide
HIST_ALL = (1e-4, 500, 4000)  # whole run: 0.1 ms .. 10^4 s, bins 0.46% wide

_MIN_LO, _MIN_PER, _MIN_N = HIST_MINUTE
_ALL_LO, _ALL_PER, _ALL_N = HIST_ALL
_LOG_MIN_LO = np.log10(_MIN_LO)
_LOG_ALL_LO = np.log10(_ALL_LO)

# st indices
HEAP_N, Q_HEAD, Q_LEN, Q_LIMIT, Q_GROW = 0, 1, 2, 3, 4
# status codes for recorded requests
SERVED, THROTTLED = 1, 2


@njit(cache=True, inline="always")
def _sift_down(ht, hs, n, i):
    t = ht[i]
    s = hs[i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        right = child + 1
        if right < n and ht[right] < ht[child]:
            child = right
        if ht[child] >= t:
            break
        ht[i] = ht[child]
        hs[i] = hs[child]
        i = child
    ht[i] = t
    hs[i] = s


@njit(cache=True, inline="always")
def _hist_bin(lat, log_lo, per_decade, nbins):
    if lat <= 0.0:
        return 0
    b = int((np.log10(lat) - log_lo) * per_decade)
    if b < 0:
        return 0
    if b >= nbins:
        return nbins - 1
    return b


@njit(cache=True)
def _complete(lat, wait, minute, hist_min, hist_all, acc):
    """Account for one request that started service."""
    acc[0] += lat
    acc[1] += wait
    if wait > 0.0:
        acc[2] += 1.0
    if lat > acc[3]:
        acc[3] = lat
    acc[4] += 1.0
    hist_min[minute, _hist_bin(lat, _LOG_MIN_LO, _MIN_PER, _MIN_N)] += 1
    hist_all[_hist_bin(lat, _LOG_ALL_LO, _ALL_PER, _ALL_N)] += 1


@njit(cache=True)
def _add_busy(busy, start, duration):
    """Spread ``duration`` seconds of slot occupancy from ``start`` over the minutes."""
    nmin = busy.shape[0]
    t = start
    end = start + duration
    m = int(t / 60.0)
    while m < nmin and t < end:
        edge = (m + 1) * 60.0
        if end <= edge:
            busy[m] += end - t
            return
        busy[m] += edge - t
        t = edge
        m += 1


@njit(cache=True)
def start_waiting(
    t_limit, spu, ht, hs, st, q_t, q_s, q_i, busy, hist_min, hist_all, acc, by_unit, rec_start,
    rec_unit,
):  # fmt: skip
    """Start queued requests on slots that fall free at or before ``t_limit``."""
    nmin = busy.shape[0]
    cap = q_t.shape[0]
    recording = rec_start.shape[0] > 0
    while st[Q_LEN] > 0 and st[HEAP_N] > 0 and ht[0] <= t_limit:
        h = st[Q_HEAD]
        arrival = q_t[h]
        service = q_s[h]
        start = ht[0] if ht[0] > arrival else arrival
        slot = hs[0]
        ht[0] = start + service
        _sift_down(ht, hs, st[HEAP_N], 0)
        minute = min(int(arrival / 60.0), nmin - 1)
        _complete(start - arrival + service, start - arrival, minute, hist_min, hist_all, acc)
        _add_busy(busy, start, service)
        by_unit[slot // spu] += 1
        if recording:
            rec_start[q_i[h]] = start
            rec_unit[q_i[h]] = slot // spu
        st[Q_HEAD] = (h + 1) % cap
        st[Q_LEN] -= 1


@njit(cache=True)
def serve_block(
    arrivals, services, i0, t_end, idx0, spu, ht, hs, st, q_t, q_s, q_i, offered, accepted,
    throttled, busy, hist_min, hist_all, acc, by_unit, rec_start, rec_unit, rec_status,
):  # fmt: skip
    """Process ``arrivals[i0:]`` that come before ``t_end``.

    Returns the index of the first request not processed: the first at or after ``t_end``,
    or, when the unbounded queue's ring is full, the request that did not fit (``st`` then
    flags that the ring must grow before the call is repeated).
    """
    nmin = offered.shape[0]
    cap = q_t.shape[0]
    limit = st[Q_LIMIT]
    recording = rec_start.shape[0] > 0
    n = arrivals.shape[0]
    i = i0
    while i < n:
        t = arrivals[i]
        if t >= t_end:
            break
        if st[Q_LEN] > 0:
            start_waiting(
                t, spu, ht, hs, st, q_t, q_s, q_i, busy, hist_min, hist_all, acc, by_unit,
                rec_start, rec_unit,
            )  # fmt: skip
        service = services[i]
        minute = min(int(t / 60.0), nmin - 1)
        if st[Q_LEN] == 0 and st[HEAP_N] > 0 and ht[0] <= t:
            slot = hs[0]
            ht[0] = t + service
            _sift_down(ht, hs, st[HEAP_N], 0)
            _complete(service, 0.0, minute, hist_min, hist_all, acc)
            _add_busy(busy, t, service)
            by_unit[slot // spu] += 1
            accepted[minute] += 1
            if recording:
                rec_start[idx0 + i] = t
                rec_unit[idx0 + i] = slot // spu
                rec_status[idx0 + i] = SERVED
        elif limit < 0 or st[Q_LEN] < limit:
            if st[Q_LEN] == cap:
                st[Q_GROW] = 1
                return i
            tail = (st[Q_HEAD] + st[Q_LEN]) % cap
            q_t[tail] = t
            q_s[tail] = service
            q_i[tail] = idx0 + i
            st[Q_LEN] += 1
            accepted[minute] += 1
            if recording:
                rec_status[idx0 + i] = SERVED
        else:
            throttled[minute] += 1
            if recording:
                rec_status[idx0 + i] = THROTTLED
        offered[minute] += 1
        i += 1
    return i


@njit(cache=True)
def peak_concurrency(arrivals, services, heap, st, peak):
    """Per-minute peak of requests in service if every request is served at once.

    ``heap`` is a min-heap of end times with ``st[0]`` entries; ``st[1]`` is set when it
    is full, and the index of the request that did not fit is returned.
    """
    nmin = peak.shape[0]
    cap = heap.shape[0]
    n = arrivals.shape[0]
    for i in range(n):
        t = arrivals[i]
        size = st[0]
        while size > 0 and heap[0] <= t:
            size -= 1
            last = heap[size]
            # sift the last element down from the root
            j = 0
            while True:
                c = 2 * j + 1
                if c >= size:
                    break
                if c + 1 < size and heap[c + 1] < heap[c]:
                    c += 1
                if heap[c] >= last:
                    break
                heap[j] = heap[c]
                j = c
            if size > 0:
                heap[j] = last
        if size == cap:
            st[0] = size
            st[1] = 1
            return i
        # sift the new end time up
        end = t + services[i]
        j = size
        while j > 0:
            parent = (j - 1) // 2
            if heap[parent] <= end:
                break
            heap[j] = heap[parent]
            j = parent
        heap[j] = end
        size += 1
        st[0] = size
        minute = min(int(t / 60.0), nmin - 1)
        if size > peak[minute]:
            peak[minute] = size
    return n
