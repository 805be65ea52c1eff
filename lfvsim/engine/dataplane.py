"""The data plane: requests, slots and the queue, advanced in batches by the kernel.

Two structural models of throttling, chosen by ``unit.throttling``: concurrency slots
(:func:`~lfvsim.engine.kernel.serve_block`) and a token bucket per unit in service
(:func:`~lfvsim.engine.kernel.serve_block_rate`). :meth:`DataPlane.advance` is the one
place that picks between them.

The rate model's bucket is one aggregate bucket for the units in service: it fills at
``rate_tps`` x units and holds ``burst`` x units tokens. ASSUMPTION (AWS does not say): the
load balancer spreads requests so evenly that the units' buckets act as one; per-unit
buckets with random routing would throttle a little earlier. A unit put in service brings a
full bucket of ``burst`` tokens; a unit taken out takes its share (tokens / units) along.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lfvsim.client import Client
from lfvsim.engine import kernel as k
from lfvsim.engine.result import hist_rows
from lfvsim.engine.traffic import TrafficBlocks, service_sampler
from lfvsim.scenario import Unit

__all__ = ["QUOTA_TOKENS", "WAITING", "DataPlane", "KernelArrays", "service_sampler"]

#: Status of a recorded request still waiting for a batch when the run ended.
WAITING = 4

QUOTA_TOKENS = 500.0


class KernelArrays(NamedTuple):
    """The data plane's state as the kernel reads it: one argument for compiled callers.

    The arrays after ``seed`` are :func:`lfvsim.engine.kernel.serve_block`'s, in its order.
    """

    spu: int
    seed: np.uint64
    ht: np.ndarray
    hs: np.ndarray
    st: np.ndarray
    rp: np.ndarray
    q_t: np.ndarray
    q_s: np.ndarray
    q_i: np.ndarray
    r_t: np.ndarray
    r_s: np.ndarray
    r_a: np.ndarray
    r_i: np.ndarray
    counts: np.ndarray
    busy: np.ndarray
    hist_min: np.ndarray
    hist_all: np.ndarray
    acc: np.ndarray
    by_unit: np.ndarray
    rec_start: np.ndarray
    rec_unit: np.ndarray
    rec_status: np.ndarray
    rec_attempts: np.ndarray
    rec_last: np.ndarray


class DataPlane:
    """Requests served by the slots of the units in service.

    Parameters
    ----------
    blocks : iterator of (ndarray, ndarray)
        Sorted arrival times (s) and their service times (s), block by block
        (:func:`lfvsim.engine.traffic.traffic_blocks`, or a shared
        :class:`~lfvsim.engine.traffic.Traffic`).
    unit : Unit
        Capacity of one inference unit.
    minutes : int
        Length of the per-minute statistics.
    record : bool
        Keep every request's arrival, service, start, unit and status (small runs only).
    progress : callable, optional
        Called with the simulated time (s) reached after each block.
    client : Client, optional
        How callers retry throttled requests; default: no retries.
    service : str
        Service the model runs on (``lookoutvision`` or ``rekognition``); with the client's
        settings it decides the throttling error and so what botocore does with it.
    batch : bool
        Requests wait for the next batch while the model is not hosted (batch hosting);
        otherwise they are refused as unavailable.
    jitter_seed : int
        Key of the retry-jitter generator.
    """

    def __init__(
        self,
        blocks: TrafficBlocks,
        unit: Unit,
        minutes: int,
        record: bool = False,
        progress: Callable[[float], None] | None = None,
        client: Client | None = None,
        batch: bool = False,
        jitter_seed: int = 0,
        service: str = "lookoutvision",
    ) -> None:
        self._blocks = blocks
        self._progress = progress
        # Slots per unit, or one entry per unit in the rate model (see Unit.servers).
        self.spu = unit.servers
        self.rate_model = unit.throttling == "rate"
        self._tb = np.zeros(k.N_TB)
        self._tb[k.TB_RATE] = unit.rate_tps
        self._tb[k.TB_BURST] = unit.burst
        self.counts = np.zeros((minutes, k.N_COUNTS), np.int64)
        self.busy_s = np.zeros(minutes)
        # Latency histograms by minute, or by hour for long runs (see hist_rows).
        self.hist_minute = np.zeros((hist_rows(minutes), k.HIST_MINUTE[2]), np.int32)
        self.hist_all = np.zeros(k.HIST_ALL[2], np.int64)
        self.acc = np.zeros(k.N_ACC)
        self.served_by_unit = np.zeros(64, np.int64)
        self.waiting = np.zeros(minutes, np.int64)  # per arrival minute, at the end only
        self._ht = np.empty(16 * self.spu)
        self._hs = np.empty(16 * self.spu, np.int64)
        queue = unit.queue_limit if unit.when_busy == "queue" else 0
        limit = -1 if queue is None or batch else queue
        ring = 1024 if limit < 0 else max(limit, 1)
        client = client if client is not None else Client()
        self._st = np.zeros(k.N_ST, np.int64)
        self._st[k.ST_Q_LIMIT] = limit
        self._st[k.ST_HOSTED] = 1
        self._st[k.ST_BATCH] = int(batch)
        rule = client.rule(service)
        self._st[k.ST_ATTEMPTS] = client.attempts if rule.retried else 1
        self._st[k.ST_QUOTA] = int(client.quota)
        self._st[k.ST_MORE] = 1
        self._st[k.ST_CLIENTS] = client.clients
        # botocore's RetryQuota: 500 tokens per client object, the most it can hold too.
        head = [client.cap_s, QUOTA_TOKENS, rule.quota_cost, rule.base_s]
        self._rp = np.array(head + [QUOTA_TOKENS] * client.clients)
        self._seed = np.uint64(jitter_seed % 2**64)
        self._q_t = np.empty(ring)
        self._q_s = np.empty(ring)
        self._q_i = np.zeros(ring, np.int64)
        self._r_t = np.empty(256)
        self._r_s = np.empty(256)
        self._r_a = np.zeros(256, np.int64)
        self._r_i = np.zeros(256, np.int64)
        self._record = record
        self._rec_arrival: list[np.ndarray] = []
        self._rec_service: list[np.ndarray] = []
        self._rec_start = np.empty(1024 if record else 0)
        self._rec_unit = np.empty(1024 if record else 0, np.int32)
        self._rec_status = np.zeros(1024 if record else 0, np.int8)
        self._rec_attempts = np.zeros(1024 if record else 0, np.int16)
        self._rec_last = np.zeros(1024 if record else 0)
        self._arrivals = np.empty(0)
        self._services = np.empty(0)
        self._pos = 0
        self._offset = 0  # index of self._arrivals[0] among all requests
        self._exhausted = False
        self._last_t = 0.0
        # Asked at each advance why a throttle would happen now (a kernel CAUSE_* code).
        # The control plane advances the data plane before every change it makes, so the
        # answer holds for every request of the advance: attribution is per request.
        self.throttle_cause: Callable[[], int] | None = None

    # --- advancing time -----------------------------------------------------------------

    def advance(self, t: float) -> None:
        """Process every arrival and retry before ``t``, then start queued requests due."""
        if self.throttle_cause is not None:
            self._st[k.ST_CAUSE] = self.throttle_cause()
        while True:
            if self._pos >= len(self._arrivals) and not self._exhausted:
                self._next_block()
            if self.rate_model:
                i = k.serve_block_rate(
                    self._arrivals, self._services, self._pos, t, self._offset, self._seed,
                    self._ht, self._hs, self._st, self._rp, self._tb, self._r_t, self._r_s,
                    self._r_a, self._r_i, self.counts, self.busy_s, self.hist_minute,
                    self.hist_all, self.acc, self.served_by_unit, self._rec_start,
                    self._rec_unit, self._rec_status, self._rec_attempts, self._rec_last,
                )  # fmt: skip
            else:
                i = k.serve_block(
                    self._arrivals, self._services, self._pos, t, self._offset, self._seed,
                    self._ht, self._hs, self._st, self._rp, self._q_t, self._q_s,
                    self._q_i, self._r_t, self._r_s, self._r_a, self._r_i, self.counts,
                    self.busy_s, self.hist_minute, self.hist_all, self.acc,
                    self.served_by_unit, self._rec_start, self._rec_unit, self._rec_status,
                    self._rec_attempts, self._rec_last,
                )  # fmt: skip
            self._pos = i
            if self._st[k.ST_GROW]:
                self._grow()
                continue
            if i < len(self._arrivals) or self._exhausted:
                break  # reached t, or nothing more will arrive
        self._start_waiting(t)
        self._last_t = t

    def set_hosted(self, hosted: bool) -> None:
        """The model becomes HOSTED, or stops being hosted."""
        self._st[k.ST_HOSTED] = int(hosted)

    def refuse_waiting(self) -> int:
        """The model stopped: requests still waiting are refused as unavailable."""
        qlen = int(self._st[k.ST_Q_LEN])
        if qlen == 0:
            return 0
        cap = len(self._q_t)
        ring = (int(self._st[k.ST_Q_HEAD]) + np.arange(qlen)) % cap
        minutes = np.minimum((self._q_t[ring] // 60).astype(np.int64), len(self.counts) - 1)
        np.add.at(self.counts[:, k.C_ACCEPTED], minutes, -1)
        np.add.at(self.counts[:, k.C_UNAVAILABLE], minutes, 1)
        self.acc[k.ACC_FAILED] += qlen
        if self._record:
            self._rec_status[self._q_i[ring]] = k.UNAVAILABLE
        self._st[k.ST_Q_LEN] = 0
        self._st[k.ST_Q_HEAD] = 0
        return qlen

    def hold_waiting(self) -> int:
        """The run ends in batch mode: requests still waiting have no outcome yet.

        They move from the accepted count to :attr:`waiting` (by the minute they arrived),
        neither served nor failed.
        """
        qlen = int(self._st[k.ST_Q_LEN])
        if qlen == 0:
            return 0
        cap = len(self._q_t)
        ring = (int(self._st[k.ST_Q_HEAD]) + np.arange(qlen)) % cap
        minutes = np.minimum((self._q_t[ring] // 60).astype(np.int64), len(self.counts) - 1)
        np.add.at(self.counts[:, k.C_ACCEPTED], minutes, -1)
        np.add.at(self.waiting, minutes, 1)
        if self._record:
            self._rec_status[self._q_i[ring]] = WAITING
        self._st[k.ST_Q_LEN] = 0
        self._st[k.ST_Q_HEAD] = 0
        return qlen

    def _start_waiting(self, t: float) -> None:
        if self._st[k.ST_Q_LEN]:
            k.start_waiting(
                t, self._ht, self._hs, self._st, self._q_t, self._q_s, self._q_i,
                self.busy_s, self.hist_minute, self.hist_all, self.acc, self.served_by_unit,
                self._rec_start, self._rec_unit,
            )  # fmt: skip

    def _next_block(self) -> None:
        self._offset += len(self._arrivals)
        self._pos = 0
        pair = next(self._blocks, None)
        if pair is None:
            self._exhausted = True
            self._st[k.ST_MORE] = 0
            self._arrivals = np.empty(0)
            self._services = np.empty(0)
            return
        block, self._services = pair
        self._arrivals = block
        if self._record:
            self._rec_arrival.append(block)
            self._rec_service.append(self._services)
            need = self._offset + len(block)
            if need > len(self._rec_start):
                size = max(need, 2 * len(self._rec_start))
                self._rec_start = _grown(self._rec_start, size)
                self._rec_unit = _grown(self._rec_unit, size)
                self._rec_status = _grown(self._rec_status, size)
                self._rec_attempts = _grown(self._rec_attempts, size)
                self._rec_last = _grown(self._rec_last, size)
        if self._progress is not None and len(block):
            self._progress(float(block[-1]))

    def _grow(self) -> None:
        if self._st[k.ST_GROW] == 1:
            cap = len(self._q_t)
            head, qlen = int(self._st[k.ST_Q_HEAD]), int(self._st[k.ST_Q_LEN])
            order = (head + np.arange(qlen)) % cap
            self._q_t = _grown(self._q_t[order], 2 * cap)
            self._q_s = _grown(self._q_s[order], 2 * cap)
            self._q_i = _grown(self._q_i[order], 2 * cap)
            self._st[k.ST_Q_HEAD] = 0
        else:
            size = 2 * len(self._r_t)
            self._r_t = _grown(self._r_t, size)
            self._r_s = _grown(self._r_s, size)
            self._r_a = _grown(self._r_a, size)
            self._r_i = _grown(self._r_i, size)
        self._st[k.ST_GROW] = 0

    # --- compiled callers ---------------------------------------------------------------

    def kernel_arrays(self) -> KernelArrays:
        """The arrays the kernel works on, for a compiled loop that advances them itself.

        Valid until the next :meth:`grow` or :meth:`reserve`, which may replace arrays.
        """
        return KernelArrays(
            self.spu, self._seed, self._ht, self._hs, self._st, self._rp, self._q_t,
            self._q_s, self._q_i, self._r_t, self._r_s, self._r_a, self._r_i, self.counts,
            self.busy_s, self.hist_minute, self.hist_all, self.acc, self.served_by_unit,
            self._rec_start, self._rec_unit, self._rec_status, self._rec_attempts,
            self._rec_last,
        )  # fmt: skip

    def grow(self) -> None:
        """Grow the queue ring or the retry heap, as the kernel's ``ST_GROW`` asks."""
        self._grow()

    def reserve(self, units: int, unit_ids: int) -> None:
        """Room for ``units`` units in service at once and unit ids below ``unit_ids``."""
        need = units * self.spu
        if need > len(self._ht):
            self._ht = _grown(self._ht, need)
            self._hs = _grown(self._hs, need)
        if unit_ids > len(self.served_by_unit):
            self.served_by_unit = _grown(self.served_by_unit, unit_ids)

    # --- capacity changes (control plane) -----------------------------------------------

    def add_unit(self, unit_id: int, t: float) -> None:
        """Put a unit's slots in service at ``t``."""
        self.add_units(np.array([unit_id], np.int64), t)

    def add_units(self, unit_ids: np.ndarray, t: float) -> None:
        """Put several units' slots in service at ``t``, in order, with one re-sort.

        The slots end up exactly where adding the units one by one puts them (a stable
        sort of the same sequence), in time linear in the slots, not quadratic.
        """
        ids = np.asarray(unit_ids, np.int64)
        if not len(ids):
            return
        n = int(self._st[k.ST_HEAP_N])
        added = len(ids) * self.spu
        if self.rate_model:
            # Tokens earned until now at the old rate; each new unit brings a full bucket.
            k.refill(self._tb, n, t)
            self._tb[k.TB_TOKENS] += len(ids) * self._tb[k.TB_BURST]
        if n + added > len(self._ht):
            self._ht = _grown(self._ht, 2 * (n + added))
            self._hs = _grown(self._hs, 2 * (n + added))
        top = int(ids.max())
        if top >= len(self.served_by_unit):
            self.served_by_unit = _grown(self.served_by_unit, 2 * top + 2)
        self._ht[n : n + added] = t
        self._hs[n : n + added] = np.repeat(ids, self.spu)  # each slot's unit
        self._st[k.ST_HEAP_N] = n + added
        self._reheap()

    def least_busy_unit(self) -> int:
        """The unit in service whose in-flight requests finish first (newest on ties)."""
        return int(self.least_busy_units(1)[0])

    def least_busy_units(self, count: int) -> np.ndarray:
        """The ``count`` units whose in-flight requests finish first (newest on ties).

        In the order :meth:`least_busy_unit` would pick them one after another: removing a
        unit does not change when the others' requests finish.
        """
        n = int(self._st[k.ST_HEAP_N])
        units = self._hs[:n]
        ids = np.unique(units)
        drain = np.full(len(ids), -np.inf)
        np.maximum.at(drain, np.searchsorted(ids, units), self._ht[:n])
        order = np.lexsort((-ids, drain))
        return ids[order[:count]]

    def remove_unit(self, unit_id: int, t: float) -> float:
        """Stop routing requests to a unit at ``t``; returns when its last request ends."""
        return float(self.remove_units(np.array([unit_id], np.int64), t)[0])

    def remove_units(self, unit_ids: np.ndarray, t: float) -> np.ndarray:
        """Stop routing requests to several units at ``t``, with one re-sort.

        Returns
        -------
        ndarray
            For each unit, when its last request ends (``t`` at the earliest).
        """
        ids = np.asarray(unit_ids, np.int64)
        if not len(ids):
            return np.empty(0)
        n = int(self._st[k.ST_HEAP_N])
        units = self._hs[:n]
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        pos = np.minimum(np.searchsorted(sorted_ids, units), len(ids) - 1)
        mine = sorted_ids[pos] == units
        found = np.bincount(pos[mine], minlength=len(ids))
        if not found.all():
            missing = sorted_ids[np.flatnonzero(found == 0)[0]]
            raise ValueError(f"unit {missing} is not in service")
        drained_sorted = np.full(len(ids), float(t))
        np.maximum.at(drained_sorted, pos[mine], self._ht[:n][mine])
        drained = np.empty(len(ids))
        drained[order] = drained_sorted
        keep = ~mine
        m = int(keep.sum())
        if self.rate_model:
            # Tokens earned until now; the units leaving take their share along.
            k.refill(self._tb, n, t)
            self._tb[k.TB_TOKENS] *= m / n
        self._ht[:m] = self._ht[:n][keep]
        self._hs[:m] = self._hs[:n][keep]
        self._st[k.ST_HEAP_N] = m
        self._reheap()
        return drained

    def _reheap(self) -> None:
        # A sorted array is a valid min-heap; capacity changes are rare.
        n = int(self._st[k.ST_HEAP_N])
        order = np.argsort(self._ht[:n], kind="stable")
        self._ht[:n] = self._ht[:n][order]
        self._hs[:n] = self._hs[:n][order]

    # --- results ------------------------------------------------------------------------

    @property
    def bucket_tokens(self) -> float:
        """Tokens in the rate model's aggregate bucket at the last update (0 for slots)."""
        return float(self._tb[k.TB_TOKENS]) if self.rate_model else 0.0

    @property
    def queued(self) -> int:
        """Requests waiting now."""
        return int(self._st[k.ST_Q_LEN])

    @property
    def busy_slots(self) -> int:
        """Slots in service that are still serving a request at the last advance."""
        return int((self._ht[: self._st[k.ST_HEAP_N]] > self._last_t).sum())

    @property
    def quota_tokens(self) -> np.ndarray:
        """Retry-quota tokens left in each client object."""
        return self._rp[k.RP_TOKENS :].copy()

    @property
    def retrying(self) -> int:
        """Requests waiting for a retry."""
        return int(self._st[k.ST_R_N])

    @property
    def offered(self) -> np.ndarray:
        """Attempts per minute (first attempts and retries)."""
        return self.counts[:, k.C_OFFERED]

    @property
    def accepted(self) -> np.ndarray:
        """Attempts served per minute (SuccessfulRequestCount)."""
        return self.counts[:, k.C_ACCEPTED]

    @property
    def throttled(self) -> np.ndarray:
        """Attempts throttled per minute (ThrottledCount)."""
        return self.counts[:, k.C_THROTTLED]

    @property
    def throttled_by_cause(self) -> np.ndarray:
        """Attempts throttled per minute (rows) by cause (columns, kernel ``CAUSE_*``)."""
        return self.counts[:, k.C_THROTTLED_BY_CAUSE : k.C_THROTTLED_BY_CAUSE + k.N_CAUSES]

    @property
    def unavailable(self) -> np.ndarray:
        """Attempts refused per minute because the model was not hosted."""
        return self.counts[:, k.C_UNAVAILABLE]

    @property
    def retries(self) -> np.ndarray:
        """Retry attempts per minute."""
        return self.counts[:, k.C_RETRIES]

    def requests(self) -> dict[str, np.ndarray] | None:
        """Every request's record, or None when ``record`` was not set."""
        if not self._record:
            return None
        arrival = np.concatenate(self._rec_arrival) if self._rec_arrival else np.empty(0)
        n = len(arrival)
        service = np.concatenate(self._rec_service) if self._rec_service else np.empty(0)
        status = self._rec_status[:n]
        served = status == k.SERVED
        return {
            "arrival_s": arrival,
            "service_s": service,
            "start_s": np.where(served, self._rec_start[:n], np.nan),
            "unit": np.where(served, self._rec_unit[:n], -1),
            "throttled": status == k.THROTTLED,
            "unavailable": status == k.UNAVAILABLE,
            "waiting": status == WAITING,
            "attempts": self._rec_attempts[:n].astype(np.int64),
            "last_attempt_s": self._rec_last[:n],
        }


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, a.dtype)
    out[: len(a)] = a
    return out
