"""The data-plane kernel: requests between two control events, in one compiled loop.

Between two control events the serving capacity does not change, so the requests in that
interval are processed in one batch. Slots are a min-heap of the times they next fall free
(``ht``, with the unit of each slot in ``hs``). A request takes the earliest-free slot if it is
free at its arrival; otherwise it waits in a FIFO queue (if allowed and not full) or is
throttled. Waiting requests start lazily, when a slot falls free before the next arrival
or the end of the batch, so capacity added at a control event serves the queue at once.
The outcome is the same as one SimPy process per request on a ``simpy.Resource``.

A throttled request may come back as a client retry: retries wait in a second heap,
ordered by the time of their next attempt, and are merged with the trace's arrivals.
Their jitter comes from a counter-based generator keyed by (seed, request, attempt), so
a request's backoff does not depend on what else happened in the run.

State lives in arrays owned by :class:`lfvsim.engine.dataplane.DataPlane`:

``st`` (int64): see the ``ST_*`` indices below.
``rp`` (float64): backoff cap (s), retry-quota maximum, tokens one retry takes, backoff
scale (s), then the retry-quota tokens of each client object (request ``i`` goes through
client ``i % clients``).
``acc`` (float64): see the ``ACC_*`` indices below.
``counts`` (int64, minutes x ``N_COUNTS``): per-minute counters, ``C_*`` columns.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types, uint64
from numba.extending import intrinsic

__all__ = [
    "HIST_ALL",
    "HIST_MINUTE",
    "bucket_replay",
    "control_add_units",
    "jitter",
    "pairwise_sum",
    "peak_concurrency",
    "run_control",
    "serve_block",
    "serve_block_rate",
    "start_waiting",
]

# Latency histograms, log-spaced: (lowest edge in s, bins per decade, bins).
HIST_MINUTE = (1e-3, 40, 320)  # per minute: 1 ms .. 10^5 s, bins 6% wide

HIST_ALL = (1e-4, 500, 5000)  # whole run: 0.1 ms .. 10^6 s, bins 0.46% wide

# Cells per octave of the bin lookup, a power of 2 (the leading mantissa bits): more cells
# than bins, so a cell holds one bin edge at most and one comparison follows the lookup
# (40 bins a decade is 12 an octave; 500 a decade, 150).
_MIN_CELL_BITS = 5
_ALL_CELL_BITS = 8


def bin_tables(
    lowest_s: float, per_decade: int, nbins: int, cell_bits: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """What finds a latency's log-spaced bin without a logarithm.

    The float's exponent and its ``cell_bits`` leading mantissa bits cut each octave into
    ``2**cell_bits`` equal cells; ``first[cell]`` is the bin holding the cell's lower end,
    and one comparison with ``edges`` (``lowest_s * 10**(b / per_decade)``) then finds
    the bin (a cell must hold one edge at most): the one
    ``int(log10(lat / lowest_s) * per_decade)`` gives, up to the rounding of a logarithm
    for a latency within about 1e-15 of an edge.

    Returns
    -------
    edges : ndarray, float64, nbins + 1
    first : ndarray, int32, one per cell
    offset : int
        The bit pattern of the first cell, ``float bits >> (52 - cell_bits)``.
    """
    edges = lowest_s * 10.0 ** (np.arange(nbins + 1) / per_decade)
    shift = 52 - cell_bits
    bits = edges[[0, -1]].view(np.int64) >> shift
    cell_lo = ((bits[0] + np.arange(bits[1] - bits[0] + 1)) << shift).view(np.float64)
    first = np.clip(np.searchsorted(edges, cell_lo, side="right") - 1, 0, nbins - 1)
    if np.any(np.diff(first) > 1):
        # A loop over edges instead of one comparison would be several times slower.
        raise ValueError(f"cells of {cell_bits} bits are wider than a bin; use more bits")
    return edges, first.astype(np.int32), int(bits[0])


_MIN_EDGES, _MIN_FIRST, _MIN_OFFSET = bin_tables(*HIST_MINUTE, _MIN_CELL_BITS)
_ALL_EDGES, _ALL_FIRST, _ALL_OFFSET = bin_tables(*HIST_ALL, _ALL_CELL_BITS)
_MIN_SHIFT = 52 - _MIN_CELL_BITS
_ALL_SHIFT = 52 - _ALL_CELL_BITS


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE 754 bits of a float64 as an int64 (a bit cast, no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


# st: int64 state
ST_HEAP_N = 0  # slots in service (heap size)
ST_Q_HEAD = 1  # queue ring head
ST_Q_LEN = 2  # requests waiting
ST_Q_LIMIT = 3  # queue limit, -1 for none
ST_GROW = 4  # set when the queue ring (1) or the retry heap (2) must grow
ST_HOSTED = 5  # 1 while the model is HOSTED
ST_BATCH = 6  # 1: requests wait for the next batch while the model is not hosted
ST_R_N = 7  # retries pending
ST_ATTEMPTS = 8  # attempts per request (1: no retries)
ST_QUOTA = 9  # 1: botocore's retry quota applies
ST_MORE = 10  # 1 while more arrival blocks may follow
ST_CLIENTS = 11  # client objects sending the requests, each with its own retry quota
ST_CAUSE = 12  # why a throttle now happens: one of the CAUSE_* codes, set by the control plane
N_ST = 13

# acc: float64 accumulators
ACC_LAT, ACC_WAIT, ACC_WAITED, ACC_LAT_MAX, ACC_STARTED = 0, 1, 2, 3, 4
ACC_FIRST_THROTTLED, ACC_FAILED, ACC_QUOTA_DENIED = 5, 6, 7
N_ACC = 8

# counts: per-minute columns
C_OFFERED, C_ACCEPTED, C_THROTTLED, C_UNAVAILABLE, C_RETRIES = 0, 1, 2, 3, 4
# Throttles by cause: column C_THROTTLED_BY_CAUSE + cause; they add up to C_THROTTLED.
C_THROTTLED_BY_CAUSE = 5
CAUSE_BURST, CAUSE_SCALING, CAUSE_AT_MAX, CAUSE_CAPACITY_LOST = 0, 1, 2, 3
N_CAUSES = 4
N_COUNTS = C_THROTTLED_BY_CAUSE + N_CAUSES

# rp: float64 retry parameters
RP_CAP, RP_TOKENS_MAX, RP_COST, RP_BASE, RP_TOKENS = 0, 1, 2, 3, 4
SUCCESS_REFUND = 1.0  # botocore's quota gain for a success at the first attempt

# tb: float64 token-bucket state (the rate model, serve_block_rate)
TB_TOKENS, TB_LAST, TB_RATE, TB_BURST = 0, 1, 2, 3
N_TB = 4

# status codes for recorded requests
SERVED, THROTTLED, UNAVAILABLE = 1, 2, 3


@njit(cache=True, inline="always")
def _sift_down(ht, hs, n, i):
    """Move entry ``i`` of the heap of ``n`` down to its place (a new, later end time).

    The smaller child is picked without a branch (the left one on ties): which one it
    is follows no pattern, and a mispredicted branch per level cost more than the rest
    of the loop together (15 ns a request on 7 units of 4 slots).
    """
    t = ht[i]
    s = hs[i]
    child = 2 * i + 1
    while child + 1 < n:
        child += np.int64(ht[child + 1] < ht[child])
        if ht[child] >= t:
            ht[i] = t
            hs[i] = s
            return
        ht[i] = ht[child]
        hs[i] = hs[child]
        i = child
        child = 2 * i + 1
    if child < n and ht[child] < t:  # a last left child without a right one
        ht[i] = ht[child]
        hs[i] = hs[child]
        i = child
    ht[i] = t
    hs[i] = s


@njit(cache=True, inline="always")
def hist_bin(lat, edges, first, offset, shift):
    """The log-spaced bin of ``lat`` (see :func:`bin_tables`); the ends catch the rest.

    The float's exponent and leading mantissa bits pick a cell, a table the bin of the
    cell's start, and one comparison with the next bin edge the bin: no ``log10`` per
    request, no loop and no branch (either made it no cheaper than the ``log10``).
    """
    nbins = edges.shape[0] - 1
    if not lat >= edges[1]:  # also NaN and lat <= 0
        return 0
    if lat >= edges[nbins - 1]:
        return nbins - 1
    b = first[(_float_bits(lat) >> shift) - offset]  # type: ignore[call-arg]  # numba fills typingctx
    # A cell holds one edge at most (see bin_tables). Added, not branched on: latencies in
    # random order would mispredict the branch about half the time (4x slower).
    return b + np.int64(lat >= edges[b + 1])


@njit(cache=True)
def jitter(seed, request, attempt):
    """Uniform [0, 1) for one (request, attempt): splitmix64 of the mixed key."""
    z = uint64(seed) ^ (uint64(request) * uint64(0x9E3779B97F4A7C15))
    z = z ^ (uint64(attempt) * uint64(0xC2B2AE3D27D4EB4F))
    z = z + uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    z = z ^ (z >> uint64(31))
    return float(z >> uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _hist_step(hist_min, nmin):
    """Minutes per row of the latency histogram: 1, or 60 when it has fewer rows than
    minutes (a long run's hourly histograms, see ``lfvsim.engine.result.hist_rows``)."""
    return 1 if hist_min.shape[0] >= nmin else 60


@njit(cache=True, inline="always")
def _count_start(lat, wait, acc):
    """The accumulators of one request that started service (its histograms aside)."""
    acc[ACC_LAT] += lat
    acc[ACC_WAIT] += wait
    if wait > 0.0:
        acc[ACC_WAITED] += 1.0
    if lat > acc[ACC_LAT_MAX]:
        acc[ACC_LAT_MAX] = lat
    acc[ACC_STARTED] += 1.0


@njit(cache=True)
def _complete(lat, wait, row, hist_min, hist_all, acc):
    """Account for one request that started service; ``row`` of the per-minute histogram."""
    _count_start(lat, wait, acc)
    if hist_min.shape[0]:  # none kept when only the summary is wanted (the fast path)
        hist_min[row, hist_bin(lat, _MIN_EDGES, _MIN_FIRST, _MIN_OFFSET, _MIN_SHIFT)] += 1
    hist_all[hist_bin(lat, _ALL_EDGES, _ALL_FIRST, _ALL_OFFSET, _ALL_SHIFT)] += 1


# Latencies of requests served at once are binned in batches of this many, after the
# loop that serves them: binning in that loop cost 12-20 ns a request (its table lookups
# waited behind the slot heap's mispredicted branches), a separate tight loop 3-8 ns.
LAT_BATCH = 256


@njit(cache=True)
def _bin_batch(lat_buf, row_buf, count, hist_min, hist_all):
    """Add the first ``count`` latencies of ``lat_buf`` to the histograms (integer counts:
    the order does not matter); ``row_buf`` holds their per-minute rows, if kept."""
    for j in range(count):
        hist_all[hist_bin(lat_buf[j], _ALL_EDGES, _ALL_FIRST, _ALL_OFFSET, _ALL_SHIFT)] += 1
    if hist_min.shape[0]:
        for j in range(count):
            b = hist_bin(lat_buf[j], _MIN_EDGES, _MIN_FIRST, _MIN_OFFSET, _MIN_SHIFT)
            hist_min[row_buf[j], b] += 1


@njit(cache=True)
def _add_busy(busy, start, duration):
    """Spread ``duration`` seconds of slot occupancy from ``start`` over the minutes."""
    _spread_busy(busy, int(start / 60.0), start, start + duration)


@njit(cache=True, inline="always")
def _spread_busy(busy, m, t, end):
    """Add the occupancy from ``t`` (in minute ``m``) to ``end`` to ``busy``, by minute."""
    nmin = busy.shape[0]
    while m < nmin and t < end:
        edge = (m + 1) * 60.0
        if end <= edge:
            busy[m] += end - t
            return
        busy[m] += edge - t
        t = edge
        m += 1


@njit(cache=True, nogil=True)
def start_waiting(
    t_limit, ht, hs, st, q_t, q_s, q_i, busy, hist_min, hist_all, acc, by_unit, rec_start,
    rec_unit,
):  # fmt: skip
    """Start queued requests on slots that fall free at or before ``t_limit``."""
    nmin = busy.shape[0]
    step = _hist_step(hist_min, nmin)
    cap = q_t.shape[0]
    recording = rec_start.shape[0] > 0
    while st[ST_Q_LEN] > 0 and st[ST_HEAP_N] > 0 and ht[0] <= t_limit:
        h = st[ST_Q_HEAD]
        arrival = q_t[h]
        service = q_s[h]
        start = ht[0] if ht[0] > arrival else arrival
        unit = hs[0]
        ht[0] = start + service
        _sift_down(ht, hs, st[ST_HEAP_N], 0)
        row = min(int(arrival / 60.0), nmin - 1) // step
        _complete(start - arrival + service, start - arrival, row, hist_min, hist_all, acc)
        _add_busy(busy, start, service)
        by_unit[unit] += 1
        if recording:
            rec_start[q_i[h]] = start
            rec_unit[q_i[h]] = unit
        st[ST_Q_HEAD] = (h + 1) % cap
        st[ST_Q_LEN] -= 1


@njit(cache=True)
def _retry_push(r_t, r_s, r_a, r_i, n, t, s, a, i):
    j = n
    while j > 0:
        parent = (j - 1) // 2
        if r_t[parent] <= t:
            break
        r_t[j] = r_t[parent]
        r_s[j] = r_s[parent]
        r_a[j] = r_a[parent]
        r_i[j] = r_i[parent]
        j = parent
    r_t[j] = t
    r_s[j] = s
    r_a[j] = a
    r_i[j] = i


@njit(cache=True)
def _retry_pop(r_t, r_s, r_a, r_i, n):
    """Remove the root of a heap of ``n`` entries (the caller reads it first)."""
    n -= 1
    t, s, a, i = r_t[n], r_s[n], r_a[n], r_i[n]
    j = 0
    while True:
        c = 2 * j + 1
        if c >= n:
            break
        if c + 1 < n and r_t[c + 1] < r_t[c]:
            c += 1
        if r_t[c] >= t:
            break
        r_t[j] = r_t[c]
        r_s[j] = r_s[c]
        r_a[j] = r_a[c]
        r_i[j] = r_i[c]
        j = c
    if n > 0:
        r_t[j] = t
        r_s[j] = s
        r_a[j] = a
        r_i[j] = i


@njit(cache=True, inline="always")
def _count_throttle(attempt, gidx, minute, st, counts, acc, recording, rec_status):
    """Count a throttled attempt, by minute and cause (:func:`_retry` schedules its retry)."""
    counts[minute, C_THROTTLED] += 1
    counts[minute, C_THROTTLED_BY_CAUSE + st[ST_CAUSE]] += 1
    if attempt == 1:
        acc[ACC_FIRST_THROTTLED] += 1.0
    if recording:
        rec_status[gidx] = THROTTLED


@njit(cache=True)
def _retry(t, service, attempt, gidx, minute, seed, st, rp, r_t, r_s, r_a, r_i, counts, acc):
    """Schedule the retry of a throttled attempt (the caller checked it has attempts left).

    Returns False when the retry heap is full: the attempt's counting is then taken back
    and ``st[ST_GROW]`` set, and the caller returns so that the heap grows before the
    attempt is repeated (nothing else has changed, so the repetition is exact).

    A call, not inlined like :func:`_count_throttle`: inlined, or behind an inlined helper
    that returns whether to go on, it made every request of the serving loop slower (by
    10 ns at 30% throttled), retries or not.
    """
    tok = RP_TOKENS + gidx % st[ST_CLIENTS]
    if st[ST_QUOTA] == 1 and rp[tok] < rp[RP_COST]:
        acc[ACC_QUOTA_DENIED] += 1.0
        acc[ACC_FAILED] += 1.0
        return True
    if st[ST_R_N] == r_t.shape[0]:
        st[ST_GROW] = 2
        counts[minute, C_THROTTLED] -= 1
        counts[minute, C_THROTTLED_BY_CAUSE + st[ST_CAUSE]] -= 1
        if attempt == 1:
            acc[ACC_FIRST_THROTTLED] -= 1.0
        _undo(counts, minute, attempt, st, r_t, r_s, r_a, r_i, t, service, gidx)
        return False
    if st[ST_QUOTA] == 1:
        rp[tok] -= rp[RP_COST]
    backoff = rp[RP_BASE] * 2.0 ** (attempt - 1)
    if backoff > rp[RP_CAP]:
        backoff = rp[RP_CAP]
    delay = jitter(seed, gidx, attempt) * backoff
    _retry_push(r_t, r_s, r_a, r_i, st[ST_R_N], t + delay, service, attempt + 1, gidx)
    st[ST_R_N] += 1
    return True


@njit(cache=True, inline="always")
def _refund(attempt, gidx, st, rp):
    """botocore's retry quota after a success: a retry's cost back, or a first attempt's gain."""
    tok = RP_TOKENS + gidx % st[ST_CLIENTS]
    refund = rp[RP_COST] if attempt > 1 else SUCCESS_REFUND
    rp[tok] = min(rp[tok] + refund, rp[RP_TOKENS_MAX])


@njit(cache=True, nogil=True)
def serve_block(
    arrivals, services, i0, t_end, idx0, seed, ht, hs, st, rp, q_t, q_s, q_i, r_t, r_s,
    r_a, r_i, counts, busy, hist_min, hist_all, acc, by_unit, rec_start, rec_unit, rec_status,
    rec_attempts, rec_last,
):  # fmt: skip
    """Process the arrivals ``arrivals[i0:]`` and due retries that come before ``t_end``.

    Returns the index of the first arrival not processed. The call also stops early when
    the block is used up while more blocks may follow (``st[ST_MORE]``), so that retries
    are never taken ahead of the next block's arrivals, and when a ring or heap is full
    (``st[ST_GROW]`` then says which must grow before the call is repeated).
    """
    nmin = counts.shape[0]
    step = _hist_step(hist_min, nmin)
    q_cap = q_t.shape[0]
    recording = rec_start.shape[0] > 0
    n = arrivals.shape[0]
    # What no request of the call changes, read once: the loop's stores to the counters
    # would otherwise make the compiler read them again for every request.
    heap_n = st[ST_HEAP_N]
    hosted = st[ST_HOSTED] == 1
    batch = st[ST_BATCH] == 1
    q_limit = st[ST_Q_LIMIT]
    quota = st[ST_QUOTA] == 1
    more = st[ST_MORE] == 1
    max_attempts = st[ST_ATTEMPTS]
    lat_buf = np.empty(LAT_BATCH)
    row_buf = np.empty(LAT_BATCH if hist_min.shape[0] else 0, np.int64)
    n_lat = 0
    # Attempts offered and accepted in minute `cur`, added to `counts` when it changes
    # (attempts come in time order, so each minute's run of them is added once).
    cur = 0
    offered = 0
    accepted_n = 0
    # The accumulators of requests that start at once, kept in registers (with busy_m
    # below, 2-3 ns a request less than a load and a store each): the sum is the same
    # sequence of additions (they are written back before start_waiting adds to them).
    lat_sum = acc[ACC_LAT]
    lat_max = acc[ACC_LAT_MAX]
    started = acc[ACC_STARTED]
    # The attempt's minute, int(t / 60.0), is `m_cur` while m_lo <= t < m_hi: no division
    # per request. Exact: t / 60.0 never rounds up to a whole number k when t < 60 k (the
    # float below 60 k is at least 32/60 of a spacing of k away from it, after dividing).
    # busy[m_cur] is kept in `busy_m` while m_cur < nmin and written back when the minute
    # changes, before start_waiting and at the end: the same additions in the same order.
    m_cur = -1
    m_lo = 0.0
    m_hi = -1.0  # also where _spread_busy moves to the next minute
    busy_m = 0.0
    # The common case in a loop of its own: arrivals of the current minute that find a
    # slot free, while no retry is pending and nobody waits (so none of their checks is
    # needed). Each is handled exactly as the general loop below would; the first that is
    # not (a new minute, a busy slot, the end of the block or of the call) leaves it.
    # It took 9 ns a request off the 7-day autoscaled run (48 to 37 ns with the registers
    # above): the general loop reloads its state after every store, as numba cannot tell
    # the arrays apart. Not with the retry quota: its refund call in the lane cost 2.5 ns,
    # so those runs take the general loop. `i` goes up before the work (after it: 11 ns
    # a request more, from the compiled code's layout).
    lane = hosted and not recording and heap_n > 0 and not quota
    i = i0
    while True:
        if lane and st[ST_R_N] == 0 and st[ST_Q_LEN] == 0:
            while i < n:
                t = arrivals[i]
                if t >= t_end or not (m_lo <= t < m_hi) or ht[0] > t:
                    break
                service = services[i]
                i += 1
                offered += 1
                unit = hs[0]
                ht[0] = t + service
                _sift_down(ht, hs, heap_n, 0)
                lat_sum += service
                if service > lat_max:
                    lat_max = service
                started += 1.0
                lat_buf[n_lat] = service
                if row_buf.shape[0]:
                    row_buf[n_lat] = cur // step  # cur: this minute's counts row
                n_lat += 1
                if n_lat == LAT_BATCH:
                    _bin_batch(lat_buf, row_buf, n_lat, hist_min, hist_all)
                    n_lat = 0
                end = t + service
                if m_cur < nmin and t < end:
                    if end <= m_hi:
                        busy_m += end - t
                    else:
                        busy_m += m_hi - t
                        _spread_busy(busy, m_cur + 1, m_hi, end)
                by_unit[unit] += 1
                accepted_n += 1
        from_trace = i < n
        if st[ST_R_N] > 0 and (not from_trace or r_t[0] < arrivals[i]):
            if not from_trace and more:
                break  # the next block may hold earlier arrivals
            t = r_t[0]
            if t >= t_end:
                break
            service = r_s[0]
            attempt = r_a[0]
            gidx = r_i[0]
            _retry_pop(r_t, r_s, r_a, r_i, st[ST_R_N])
            st[ST_R_N] -= 1
        elif from_trace:
            t = arrivals[i]
            if t >= t_end:
                break
            service = services[i]
            attempt = 1
            gidx = idx0 + i
            i += 1
        else:
            break
        if st[ST_Q_LEN] > 0:
            acc[ACC_LAT] = lat_sum
            acc[ACC_LAT_MAX] = lat_max
            acc[ACC_STARTED] = started
            if 0 <= m_cur < nmin:
                busy[m_cur] = busy_m
            start_waiting(
                t, ht, hs, st, q_t, q_s, q_i, busy, hist_min, hist_all, acc, by_unit,
                rec_start, rec_unit,
            )  # fmt: skip
            lat_sum = acc[ACC_LAT]
            lat_max = acc[ACC_LAT_MAX]
            started = acc[ACC_STARTED]
            if 0 <= m_cur < nmin:
                busy_m = busy[m_cur]
        if not (m_lo <= t < m_hi):
            if 0 <= m_cur < nmin:
                busy[m_cur] = busy_m
            m_cur = int(t / 60.0)
            m_lo = m_cur * 60.0
            m_hi = (m_cur + 1) * 60.0
            busy_m = busy[m_cur] if m_cur < nmin else 0.0
        minute = min(m_cur, nmin - 1)
        if minute != cur:
            counts[cur, C_OFFERED] += offered
            counts[cur, C_ACCEPTED] += accepted_n
            cur = minute
            offered = 0
            accepted_n = 0
        offered += 1
        if attempt > 1:
            counts[minute, C_RETRIES] += 1
        if recording:
            rec_attempts[gidx] = attempt
            rec_last[gidx] = t
        if not hosted and not batch:
            counts[minute, C_UNAVAILABLE] += 1
            acc[ACC_FAILED] += 1.0
            if recording:
                rec_status[gidx] = UNAVAILABLE
            continue
        if hosted and st[ST_Q_LEN] == 0 and heap_n > 0 and ht[0] <= t:
            unit = hs[0]
            ht[0] = t + service
            _sift_down(ht, hs, heap_n, 0)
            # _count_start(service, 0.0, acc) in registers; a wait of 0 adds nothing to
            # ACC_WAIT (a sum of waits >= 0, never -0.0) nor to ACC_WAITED.
            lat_sum += service
            if service > lat_max:
                lat_max = service
            started += 1.0
            lat_buf[n_lat] = service
            if row_buf.shape[0]:
                row_buf[n_lat] = minute // step
            n_lat += 1
            if n_lat == LAT_BATCH:
                _bin_batch(lat_buf, row_buf, n_lat, hist_min, hist_all)
                n_lat = 0
            # _spread_busy(busy, m_cur, t, t + service), its first minute in busy_m
            end = t + service
            if m_cur < nmin and t < end:
                if end <= m_hi:
                    busy_m += end - t
                else:
                    busy_m += m_hi - t
                    _spread_busy(busy, m_cur + 1, m_hi, end)
            by_unit[unit] += 1
            if recording:
                rec_start[gidx] = t
                rec_unit[gidx] = unit
        elif not hosted or q_limit < 0 or st[ST_Q_LEN] < q_limit:
            if st[ST_Q_LEN] == q_cap:
                st[ST_GROW] = 1
                _undo(counts, minute, attempt, st, r_t, r_s, r_a, r_i, t, service, gidx)
                i = i - 1 if attempt == 1 else i
                break
            tail = (st[ST_Q_HEAD] + st[ST_Q_LEN]) % q_cap
            q_t[tail] = t
            q_s[tail] = service
            q_i[tail] = gidx
            st[ST_Q_LEN] += 1
        else:
            _count_throttle(attempt, gidx, minute, st, counts, acc, recording, rec_status)
            if attempt >= max_attempts:
                acc[ACC_FAILED] += 1.0
            elif not _retry(
                t, service, attempt, gidx, minute, seed, st, rp, r_t, r_s, r_a, r_i, counts, acc
            ):
                i = i - 1 if attempt == 1 else i
                break
            continue
        accepted_n += 1
        if quota:
            _refund(attempt, gidx, st, rp)
        if recording:
            rec_status[gidx] = SERVED
    if offered or accepted_n:
        counts[cur, C_OFFERED] += offered
        counts[cur, C_ACCEPTED] += accepted_n
    acc[ACC_LAT] = lat_sum
    acc[ACC_LAT_MAX] = lat_max
    acc[ACC_STARTED] = started
    if 0 <= m_cur < nmin:
        busy[m_cur] = busy_m
    _bin_batch(lat_buf, row_buf, n_lat, hist_min, hist_all)
    return i


@njit(cache=True, inline="always")
def refill(tb, units, t):
    """Tokens of the aggregate bucket at ``t`` (at most ``burst`` per unit in service)."""
    top = tb[TB_BURST] * units
    tokens = tb[TB_TOKENS] + tb[TB_RATE] * units * (t - tb[TB_LAST])
    tb[TB_TOKENS] = tokens if tokens < top else top
    tb[TB_LAST] = t


@njit(cache=True, nogil=True)
def serve_block_rate(
    arrivals, services, i0, t_end, idx0, seed, ht, hs, st, rp, tb, r_t, r_s, r_a, r_i,
    counts, busy, hist_min, hist_all, acc, by_unit, rec_start, rec_unit, rec_status,
    rec_attempts, rec_last,
):  # fmt: skip
    """:func:`serve_block` for the rate model: a token bucket admits or throttles.

    The units in service share one bucket (``tb``) that fills at ``rate_tps`` per unit and
    holds ``burst`` tokens per unit; a request takes one token or is throttled at once.
    An admitted request is served without waiting (no concurrency limit), on the unit
    whose requests end first (``ht``/``hs``, one entry per unit, holding when its last
    request ends). ``busy`` gains ``1 / rate_tps`` per admitted request: the share of a
    unit's sustained rate it used, which the autoscaler's utilisation reads. Retries and
    throttle causes work as in :func:`serve_block`; there is no queue.
    """
    nmin = counts.shape[0]
    step = _hist_step(hist_min, nmin)
    recording = rec_start.shape[0] > 0
    n = arrivals.shape[0]
    max_attempts = st[ST_ATTEMPTS]
    work = 1.0 / tb[TB_RATE]
    i = i0
    while True:
        from_trace = i < n
        if st[ST_R_N] > 0 and (not from_trace or r_t[0] < arrivals[i]):
            if not from_trace and st[ST_MORE] == 1:
                break  # the next block may hold earlier arrivals
            t = r_t[0]
            if t >= t_end:
                break
            service = r_s[0]
            attempt = r_a[0]
            gidx = r_i[0]
            _retry_pop(r_t, r_s, r_a, r_i, st[ST_R_N])
            st[ST_R_N] -= 1
        elif from_trace:
            t = arrivals[i]
            if t >= t_end:
                break
            service = services[i]
            attempt = 1
            gidx = idx0 + i
            i += 1
        else:
            break
        minute = min(int(t / 60.0), nmin - 1)
        counts[minute, C_OFFERED] += 1
        if attempt > 1:
            counts[minute, C_RETRIES] += 1
        if recording:
            rec_attempts[gidx] = attempt
            rec_last[gidx] = t
        if st[ST_HOSTED] == 0:
            counts[minute, C_UNAVAILABLE] += 1
            acc[ACC_FAILED] += 1.0
            if recording:
                rec_status[gidx] = UNAVAILABLE
            continue
        units = st[ST_HEAP_N]
        refill(tb, units, t)
        if units > 0 and tb[TB_TOKENS] >= 1.0:
            tb[TB_TOKENS] -= 1.0
            unit = hs[0]
            end = t + service
            if end > ht[0]:
                ht[0] = end
            _sift_down(ht, hs, units, 0)
            _complete(service, 0.0, minute // step, hist_min, hist_all, acc)
            busy[minute] += work
            by_unit[unit] += 1
            counts[minute, C_ACCEPTED] += 1
            if st[ST_QUOTA] == 1:
                _refund(attempt, gidx, st, rp)
            if recording:
                rec_start[gidx] = t
                rec_unit[gidx] = unit
                rec_status[gidx] = SERVED
            continue
        # The token state is unchanged by a throttle: repeating the attempt after the
        # retry heap grows is exact.
        _count_throttle(attempt, gidx, minute, st, counts, acc, recording, rec_status)
        if attempt >= max_attempts:
            acc[ACC_FAILED] += 1.0
        elif not _retry(
            t, service, attempt, gidx, minute, seed, st, rp, r_t, r_s, r_a, r_i, counts, acc
        ):
            return i - 1 if attempt == 1 else i
    return i


@njit(cache=True, inline="always")
def _rescale(tb, before, now, t):
    """Units in service go from ``before`` to ``now`` at ``t`` (as in the DataPlane)."""
    refill(tb, before, t)
    if now > before:
        tb[TB_TOKENS] += (now - before) * tb[TB_BURST]
    elif before > 0:
        tb[TB_TOKENS] *= now / before


@njit(cache=True)
def bucket_replay(offsets, minute_first, units_start, units_end, change_s, rate_tps, burst,
                  throttled):  # fmt: skip
    """Throttles per minute of a token bucket replaying arrivals, no retries (calibration).

    Minute ``m``'s arrivals come ``offsets[minute_first[m]:minute_first[m + 1]]`` seconds
    (float32, sorted) after its start. ``units_start[m]`` units serve from its start and
    ``units_end[m]`` from ``change_s[m]`` seconds into it. The bucket behaves as in
    :func:`serve_block_rate`: a unit added brings ``burst`` tokens, a unit removed takes
    its share along. ``throttled[m]`` is set.
    """
    tb = np.zeros(N_TB)
    tb[TB_RATE] = rate_tps
    tb[TB_BURST] = burst
    before = 0
    for m in range(units_start.shape[0]):
        t0 = m * 60.0
        now = units_start[m]
        if now != before:
            _rescale(tb, before, now, t0)
        later = units_end[m]
        t_change = t0 + change_s[m]
        count = 0
        for j in range(minute_first[m], minute_first[m + 1]):
            t = t0 + offsets[j]
            if later != now and t >= t_change:
                _rescale(tb, now, later, t_change)
                now = later
            refill(tb, now, t)
            if now > 0 and tb[TB_TOKENS] >= 1.0:
                tb[TB_TOKENS] -= 1.0
            else:
                count += 1
        if later != now:
            _rescale(tb, now, later, t_change)
            now = later
        before = now
        throttled[m] = count


@njit(cache=True)
def _undo(counts, minute, attempt, st, r_t, r_s, r_a, r_i, t, service, gidx):
    """Take back the counting of an attempt that must be repeated after a resize."""
    counts[minute, C_OFFERED] -= 1
    if attempt > 1:
        counts[minute, C_RETRIES] -= 1
        # Put the retry back where it was; the heap has room for the one just popped.
        _retry_push(r_t, r_s, r_a, r_i, st[ST_R_N], t, service, attempt, gidx)
        st[ST_R_N] += 1


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


# --- the fast path's control plane ---------------------------------------------------------
#
# lfvsim.engine.fast runs a model hosted all the time, without failures, under a shipped
# policy (none, target tracking, oracle) with the control plane compiled here: the same
# decisions as lfvsim.engine.control under SimPy, in the same order and with the same
# floating-point operations, so the run is the same to the bit. Its state is two small
# arrays (``cs`` integers, ``cf`` floats, indexed by ``CS_*`` and ``CF_*``), the
# provisioning FIFO ``prov`` (request times) and the unit ``sessions`` (``S_*`` columns);
# the data plane's arrays come as one ``lfvsim.engine.dataplane.KernelArrays`` tuple.
# :func:`run_control` returns to Python only for the next block of requests or to grow an
# array (``RUN_*`` codes), a handful of times a run.
#
# It lives in this file because numba caches compiled code per source file, keyed by that
# file's content: a compiled caller in another file would keep a stale copy of serve_block
# and of the constants above after this file changes.
# What run_control asks of its caller.
RUN_DONE = 0  # the horizon is reached: the data plane is advanced to it
RUN_NEXT_BLOCK = 1  # the block of requests is used up and more may follow
RUN_GROW_KERNEL = 2  # the queue ring or the retry heap must grow (kernel ST_GROW)
RUN_GROW_SESSIONS = 3  # the session arrays must hold more units

# Policies
POLICY_NONE, POLICY_TARGET_TRACKING, POLICY_ORACLE = 0, 1, 2
# Metrics
METRIC_UTILIZATION, METRIC_OFFERED = 0, 1

# cs: int64 control state and settings
CS_POLICY = 0
CS_METRIC = 1
CS_PERIOD = 2  # evaluation period (s), 0: never evaluated
CS_MIN = 3  # the cluster's bounds on desired units
CS_MAX = 4
CS_OUT_DATAPOINTS = 5
CS_IN_DATAPOINTS = 6
CS_BILL_PROVISIONING = 7
CS_ACTIVE = 8  # units in service
CS_DESIRED = 9
CS_PENDING = 10  # units being provisioned
CS_PROV_HEAD = 11  # first pending provisioning in the FIFO
CS_ALARM = 12
CS_ABOVE = 13  # consecutive datapoints above target
CS_BELOW = 14  # consecutive datapoints below the scale-in threshold
CS_SESSIONS = 15  # unit sessions so far (also the next unit id)
CS_PEAK_UNITS = 16
CS_SCALE_OUT = 17
CS_SCALE_IN = 18
CS_PEAK_WANTED = 19  # target tracking: most units wanted before capping at Max
CS_PEAK_DESIRED = 20  # most desired units ever
CS_POS = 21  # next arrival of the current block
CS_STEP_UNITS = 22  # most units one control event can add
N_CS = 23

# cf: float64 control state and settings
CF_HORIZON = 0
CF_DELAY = 1  # provisioning delay (s)
CF_NEXT_EVAL = 2  # time of the next evaluation (inf: none)
CF_LEDGER = 3  # slot-seconds taking requests up to CF_SINCE
CF_SINCE = 4
CF_LAST_LEDGER = 5  # slot-seconds at the previous evaluation
CF_LAST_OUT = 6  # time of the last scale-out and scale-in
CF_LAST_IN = 7
CF_TARGET = 8  # target tracking settings
CF_RATIO = 9
CF_OUT_COOLDOWN = 10
CF_IN_COOLDOWN = 11
CF_MEAN_SERVICE = 12  # mean service time (s), for the offered-utilization metric
N_CF = 13

# Session columns (float64, NaN where it did not happen) and endings
S_BILLED_FROM, S_IN_SERVICE, S_RETIRED, S_DRAINED, S_BILLED_TO = 0, 1, 2, 3, 4
N_S = 5
END_NONE, END_SCALE_IN, END_UNNEEDED = 0, 1, 2


@njit(cache=True)
def pairwise_sum(a, lo, hi):
    """``a[lo:hi].sum()`` exactly as numpy adds float64 (its pairwise summation)."""
    n = hi - lo
    if n < 8:
        res = 0.0
        for i in range(lo, hi):
            res += a[i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
        r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
        i = 8
        while i < n - (n % 8):
            r0 += a[lo + i]
            r1 += a[lo + i + 1]
            r2 += a[lo + i + 2]
            r3 += a[lo + i + 3]
            r4 += a[lo + i + 4]
            r5 += a[lo + i + 5]
            r6 += a[lo + i + 6]
            r7 += a[lo + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[lo + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_sum(a, lo, lo + n2) + pairwise_sum(a, lo + n2, hi)


@njit(cache=True)
def _cause(cs):
    """Why a request throttled now is throttled (``Cluster.throttle_cause``, no failures)."""
    if cs[CS_ACTIVE] < cs[CS_DESIRED]:
        return CAUSE_SCALING
    if cs[CS_ALARM]:
        return CAUSE_SCALING if cs[CS_DESIRED] < cs[CS_MAX] else CAUSE_AT_MAX
    return CAUSE_BURST


@njit(cache=True)
def _account_slots(ka, cs, cf, now):
    cf[CF_LEDGER] += float(cs[CS_ACTIVE] * ka.spu) * (now - cf[CF_SINCE])
    cf[CF_SINCE] = now


@njit(cache=True)
def _reheap(ka):
    # A sorted array is a valid min-heap; the same stable sort as DataPlane._reheap.
    n = ka.st[ST_HEAP_N]
    order = np.argsort(ka.ht[:n], kind="mergesort")
    ht = ka.ht[:n][order]
    hs = ka.hs[:n][order]
    ka.ht[:n] = ht
    ka.hs[:n] = hs


@njit(cache=True)
def control_add_units(ka, cs, cf, sessions, count, billed_from, now):
    """``Cluster._add_units`` in one zone: ``count`` new units serve from ``now``."""
    if count <= 0:
        return
    _account_slots(ka, cs, cf, now)
    spu = ka.spu
    n = ka.st[ST_HEAP_N]
    for _ in range(count):
        uid = cs[CS_SESSIONS]
        sessions[uid, S_BILLED_FROM] = billed_from
        sessions[uid, S_IN_SERVICE] = now
        cs[CS_SESSIONS] += 1
        cs[CS_ACTIVE] += 1
        for _ in range(spu):
            ka.ht[n] = now
            ka.hs[n] = uid
            n += 1
    ka.st[ST_HEAP_N] = n
    _reheap(ka)
    if cs[CS_ACTIVE] > cs[CS_PEAK_UNITS]:
        cs[CS_PEAK_UNITS] = cs[CS_ACTIVE]


@njit(cache=True)
def _scale_in(ka, cs, cf, sessions, ended, now):
    """``Cluster._release_surplus``: the least busy units beyond desired leave, draining."""
    surplus = cs[CS_ACTIVE] - cs[CS_DESIRED]
    if surplus <= 0:
        return
    n = ka.st[ST_HEAP_N]
    # Each unit's drain time (its slots' latest end), as DataPlane.least_busy_units.
    ids = np.unique(ka.hs[:n])
    drain = np.full(len(ids), -np.inf)
    for s in range(n):
        u = np.searchsorted(ids, ka.hs[s])
        if ka.ht[s] > drain[u]:
            drain[u] = ka.ht[s]
    # Least busy first, newest on ties (numpy's lexsort((-ids, drain)): stable sorts).
    by_id = np.argsort(-ids, kind="mergesort")
    order = by_id[np.argsort(drain[by_id], kind="mergesort")]
    leaving = np.zeros(len(ids), np.bool_)
    _account_slots(ka, cs, cf, now)
    for r in range(surplus):
        u = order[r]
        leaving[u] = True
        uid = ids[u]
        drained = drain[u] if drain[u] > now else now
        sessions[uid, S_RETIRED] = now
        sessions[uid, S_DRAINED] = drained
        sessions[uid, S_BILLED_TO] = drained  # billed_until_s("scale_in", now, drained)
        ended[uid] = END_SCALE_IN
    m = 0
    for s in range(n):
        if not leaving[np.searchsorted(ids, ka.hs[s])]:
            ka.ht[m] = ka.ht[s]
            ka.hs[m] = ka.hs[s]
            m += 1
    ka.st[ST_HEAP_N] = m
    _reheap(ka)
    cs[CS_ACTIVE] -= surplus


@njit(cache=True)
def _set_desired(ka, cs, cf, prov, sessions, ended, desired, now):
    """``Cluster.set_desired`` for a model hosted all the time."""
    if desired < cs[CS_MIN]:
        desired = cs[CS_MIN]
    if desired > cs[CS_MAX]:
        desired = cs[CS_MAX]
    if desired == cs[CS_DESIRED]:
        return
    if desired > cs[CS_PEAK_DESIRED]:
        cs[CS_PEAK_DESIRED] = desired
    if desired > cs[CS_DESIRED]:
        cs[CS_SCALE_OUT] += 1
        cs[CS_DESIRED] = desired
        missing = desired - cs[CS_ACTIVE] - cs[CS_PENDING]
        if missing <= 0:
            return
        if cf[CF_DELAY] > 0:
            cap = prov.shape[0]
            for _ in range(missing):
                prov[(cs[CS_PROV_HEAD] + cs[CS_PENDING]) % cap] = now
                cs[CS_PENDING] += 1
        else:
            control_add_units(ka, cs, cf, sessions, missing, now, now)
    else:
        cs[CS_SCALE_IN] += 1
        cs[CS_DESIRED] = desired
        _scale_in(ka, cs, cf, sessions, ended, now)


@njit(cache=True)
def _target_tracking(cs, cf, metric, mean_in_service, now):
    """``TargetTracking.decide``."""
    target = cf[CF_TARGET]
    cs[CS_ABOVE] = cs[CS_ABOVE] + 1 if metric > target else 0
    cs[CS_BELOW] = cs[CS_BELOW] + 1 if metric < cf[CF_RATIO] * target else 0
    wanted = int(np.ceil(mean_in_service * metric / target - 1e-9))
    if wanted < cs[CS_MIN]:
        wanted = cs[CS_MIN]
    if wanted > cs[CS_PEAK_WANTED]:
        cs[CS_PEAK_WANTED] = wanted
    if wanted > cs[CS_MAX]:
        wanted = cs[CS_MAX]
    desired = cs[CS_DESIRED]
    if (
        cs[CS_ABOVE] >= cs[CS_OUT_DATAPOINTS]
        and now - cf[CF_LAST_OUT] >= cf[CF_OUT_COOLDOWN]
        and wanted > desired
    ):
        cf[CF_LAST_OUT] = now
        return wanted
    if (
        cs[CS_BELOW] >= cs[CS_IN_DATAPOINTS]
        and now - cf[CF_LAST_IN] >= cf[CF_IN_COOLDOWN]
        and cs[CS_PENDING] == 0
        and wanted < desired
    ):
        cf[CF_LAST_IN] = now
        return wanted
    return desired


@njit(cache=True)
def _evaluate(ka, cs, cf, prov, sessions, ended, needed, now):
    """One pass of :func:`lfvsim.engine.control.autoscaler`'s loop."""
    period = cs[CS_PERIOD]
    m1 = round(now / 60.0)
    m0 = m1 - period // 60
    slot_seconds = cf[CF_LEDGER] + float(cs[CS_ACTIVE] * ka.spu) * (now - cf[CF_SINCE])
    capacity = slot_seconds - cf[CF_LAST_LEDGER]
    cf[CF_LAST_LEDGER] = slot_seconds
    if capacity <= 0:
        cs[CS_ABOVE] = 0  # policy.reset(): only target tracking keeps state
        cs[CS_BELOW] = 0
        cf[CF_LAST_OUT] = -np.inf
        cf[CF_LAST_IN] = -np.inf
        cs[CS_ALARM] = 0
        return
    if cs[CS_METRIC] == METRIC_UTILIZATION:
        work = pairwise_sum(ka.busy, m0, m1)
    else:
        offered = 0
        for m in range(m0, m1):
            offered += ka.counts[m, C_OFFERED]
        work = float(offered) * cf[CF_MEAN_SERVICE]
    metric = 100.0 * work / capacity
    mean_in_service = capacity / float(ka.spu * period)
    if cs[CS_POLICY] == POLICY_TARGET_TRACKING:
        desired = _target_tracking(cs, cf, metric, mean_in_service, now)
    else:  # the oracle
        minute = int(now // 60)
        desired = int(needed[minute]) if minute < needed.shape[0] else cs[CS_DESIRED]
    _set_desired(ka, cs, cf, prov, sessions, ended, desired, now)
    cs[CS_ALARM] = 1 if cs[CS_POLICY] == POLICY_TARGET_TRACKING and cs[CS_ABOVE] > 0 else 0


@njit(cache=True)
def _provisioned(ka, cs, cf, prov, sessions, ended, now):
    """``Cluster._provision`` after its delay: the unit serves, or was not needed."""
    requested_at = prov[cs[CS_PROV_HEAD]]
    cs[CS_PROV_HEAD] = (cs[CS_PROV_HEAD] + 1) % prov.shape[0]
    cs[CS_PENDING] -= 1
    billed_from = requested_at if cs[CS_BILL_PROVISIONING] else now
    if cs[CS_ACTIVE] < cs[CS_DESIRED]:
        control_add_units(ka, cs, cf, sessions, 1, billed_from, now)
    elif cs[CS_BILL_PROVISIONING]:
        # Provisioned, then no longer wanted: it never served but it was paid for.
        uid = cs[CS_SESSIONS]
        sessions[uid, S_BILLED_FROM] = requested_at
        sessions[uid, S_RETIRED] = now
        sessions[uid, S_DRAINED] = now
        sessions[uid, S_BILLED_TO] = now
        ended[uid] = END_UNNEEDED
        cs[CS_SESSIONS] += 1


@njit(cache=True, nogil=True)
def run_control(arrivals, services, idx0, ka, cs, cf, prov, sessions, ended, needed):
    """Advance the run, control event by control event, to the horizon.

    Control events come in SimPy's order: by time, and at the same time an evaluation
    before a provisioning that was started at the previous evaluation (a delay equal to
    the period), after one started earlier. Events at the horizon never happen (SimPy's
    ``run(until=horizon)`` stops first). Before each event the data plane is advanced to
    its time with the throttle cause of the control state that held until then.

    Returns one of the ``RUN_*`` codes; the position in the block is ``cs[CS_POS]``.
    """
    horizon = cf[CF_HORIZON]
    delay = cf[CF_DELAY]
    period = cs[CS_PERIOD]
    n = arrivals.shape[0]
    while True:
        t = horizon
        is_eval = False
        is_prov = False
        t_eval = cf[CF_NEXT_EVAL]
        t_prov = np.inf
        if cs[CS_PENDING] > 0:
            t_prov = prov[cs[CS_PROV_HEAD]] + delay
        if t_eval < horizon and (t_eval < t_prov or (t_eval == t_prov and delay <= period)):
            t = t_eval
            is_eval = True
        elif t_prov < horizon:
            t = t_prov
            is_prov = True
        if is_eval or is_prov:
            step = cs[CS_STEP_UNITS] if is_eval else 1
            if cs[CS_SESSIONS] + step > sessions.shape[0]:
                return RUN_GROW_SESSIONS
        ka.st[ST_CAUSE] = _cause(cs)
        pos = serve_block(
            arrivals, services, cs[CS_POS], t, idx0, ka.seed, ka.ht, ka.hs, ka.st,
            ka.rp, ka.q_t, ka.q_s, ka.q_i, ka.r_t, ka.r_s, ka.r_a, ka.r_i, ka.counts, ka.busy,
            ka.hist_min, ka.hist_all, ka.acc, ka.by_unit, ka.rec_start, ka.rec_unit,
            ka.rec_status, ka.rec_attempts, ka.rec_last,
        )  # fmt: skip
        cs[CS_POS] = pos
        if ka.st[ST_GROW]:
            return RUN_GROW_KERNEL
        if pos >= n and ka.st[ST_MORE] == 1:
            return RUN_NEXT_BLOCK
        if ka.st[ST_Q_LEN]:
            start_waiting(
                t, ka.ht, ka.hs, ka.st, ka.q_t, ka.q_s, ka.q_i, ka.busy, ka.hist_min,
                ka.hist_all, ka.acc, ka.by_unit, ka.rec_start, ka.rec_unit,
            )  # fmt: skip
        if is_eval:
            cf[CF_NEXT_EVAL] = t + period  # the loop's `while env.now + period < horizon`
            _evaluate(ka, cs, cf, prov, sessions, ended, needed, t)
        elif is_prov:
            _provisioned(ka, cs, cf, prov, sessions, ended, t)
        else:
            return RUN_DONE
