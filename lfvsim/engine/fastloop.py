"""The control plane of the fast path, compiled: autoscaler, provisioning and scale-in.

It replays what :mod:`lfvsim.engine.control` does under SimPy for a model hosted all the
time, without failures, with a shipped policy (none, target tracking, oracle), in the
same order and with the same floating-point operations, so the run is the same to the
bit. Its state is two small arrays (``cs`` integers, ``cf`` floats, indexed by the
``CS_*`` and ``CF_*`` constants), the provisioning FIFO and the unit sessions; the data
plane's arrays come as one :class:`~lfvsim.engine.dataplane.KernelArrays` tuple.

:func:`run_control` returns to Python only to take the next block of requests or to grow
an array (``RUN_*`` codes), a handful of times per run.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lfvsim.engine import kernel as k

__all__ = ["run_control"]

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
        return k.CAUSE_SCALING
    if cs[CS_ALARM]:
        return k.CAUSE_SCALING if cs[CS_DESIRED] < cs[CS_MAX] else k.CAUSE_AT_MAX
    return k.CAUSE_BURST


@njit(cache=True)
def _account_slots(ka, cs, cf, now):
    cf[CF_LEDGER] += float(cs[CS_ACTIVE] * ka.spu) * (now - cf[CF_SINCE])
    cf[CF_SINCE] = now


@njit(cache=True)
def _reheap(ka):
    # A sorted array is a valid min-heap; the same stable sort as DataPlane._reheap.
    n = ka.st[k.ST_HEAP_N]
    order = np.argsort(ka.ht[:n], kind="mergesort")
    ht = ka.ht[:n][order]
    hs = ka.hs[:n][order]
    ka.ht[:n] = ht
    ka.hs[:n] = hs


@njit(cache=True)
def _add_units(ka, cs, cf, sessions, count, billed_from, now):
    """``Cluster._add_units`` in one zone: ``count`` new units serve from ``now``."""
    if count <= 0:
        return
    _account_slots(ka, cs, cf, now)
    spu = ka.spu
    n = ka.st[k.ST_HEAP_N]
    for _ in range(count):
        uid = cs[CS_SESSIONS]
        sessions[uid, S_BILLED_FROM] = billed_from
        sessions[uid, S_IN_SERVICE] = now
        cs[CS_SESSIONS] += 1
        cs[CS_ACTIVE] += 1
        for j in range(spu):
            ka.ht[n] = now
            ka.hs[n] = uid * spu + j
            n += 1
    ka.st[k.ST_HEAP_N] = n
    _reheap(ka)
    if cs[CS_ACTIVE] > cs[CS_PEAK_UNITS]:
        cs[CS_PEAK_UNITS] = cs[CS_ACTIVE]


@njit(cache=True)
def _scale_in(ka, cs, cf, sessions, ended, now):
    """``Cluster._release_surplus``: the least busy units beyond desired leave, draining."""
    surplus = cs[CS_ACTIVE] - cs[CS_DESIRED]
    if surplus <= 0:
        return
    spu = ka.spu
    n = ka.st[k.ST_HEAP_N]
    # Each unit's drain time (its slots' latest end), as DataPlane.least_busy_units.
    ids = np.unique(ka.hs[:n] // spu)
    drain = np.full(len(ids), -np.inf)
    for s in range(n):
        u = np.searchsorted(ids, ka.hs[s] // spu)
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
        if not leaving[np.searchsorted(ids, ka.hs[s] // spu)]:
            ka.ht[m] = ka.ht[s]
            ka.hs[m] = ka.hs[s]
            m += 1
    ka.st[k.ST_HEAP_N] = m
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
            _add_units(ka, cs, cf, sessions, missing, now, now)
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
            offered += ka.counts[m, k.C_OFFERED]
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
        _add_units(ka, cs, cf, sessions, 1, billed_from, now)
    elif cs[CS_BILL_PROVISIONING]:
        # Provisioned, then no longer wanted: it never served but it was paid for.
        uid = cs[CS_SESSIONS]
        sessions[uid, S_BILLED_FROM] = requested_at
        sessions[uid, S_RETIRED] = now
        sessions[uid, S_DRAINED] = now
        sessions[uid, S_BILLED_TO] = now
        ended[uid] = END_UNNEEDED
        cs[CS_SESSIONS] += 1


@njit(cache=True)
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
        ka.st[k.ST_CAUSE] = _cause(cs)
        pos = k.serve_block(
            arrivals, services, cs[CS_POS], t, idx0, ka.spu, ka.seed, ka.ht, ka.hs, ka.st,
            ka.rp, ka.q_t, ka.q_s, ka.q_i, ka.r_t, ka.r_s, ka.r_a, ka.r_i, ka.counts, ka.busy,
            ka.hist_min, ka.hist_all, ka.acc, ka.by_unit, ka.rec_start, ka.rec_unit,
            ka.rec_status, ka.rec_attempts, ka.rec_last,
        )  # fmt: skip
        cs[CS_POS] = pos
        if ka.st[k.ST_GROW]:
            return RUN_GROW_KERNEL
        if pos >= n and ka.st[k.ST_MORE] == 1:
            return RUN_NEXT_BLOCK
        if ka.st[k.ST_Q_LEN]:
            k.start_waiting(
                t, ka.spu, ka.ht, ka.hs, ka.st, ka.q_t, ka.q_s, ka.q_i, ka.busy, ka.hist_min,
                ka.hist_all, ka.acc, ka.by_unit, ka.rec_start, ka.rec_unit,
            )  # fmt: skip
        if is_eval:
            cf[CF_NEXT_EVAL] = t + period  # the loop's `while env.now + period < horizon`
            _evaluate(ka, cs, cf, prov, sessions, ended, needed, t)
        elif is_prov:
            _provisioned(ka, cs, cf, prov, sessions, ended, t)
        else:
            return RUN_DONE
