"""Assembly of a :class:`Result` from the engine's arrays, once, at the end of a run.

The timeline, the summary and the per-unit and per-event tables are built apart; they
share the per-minute quantities of :class:`_Minutes` (capacity, billing, hosting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from lfvsim.billing import metered_seconds
from lfvsim.engine import kernel
from lfvsim.engine.busy import minute_throttle_rate_quantile, worst_hour_throttle_rate
from lfvsim.engine.control import Cluster, UnitSession
from lfvsim.engine.dataplane import DataPlane
from lfvsim.engine.result import Result, Summary, histogram_quantiles, notes_for
from lfvsim.minutes import MINUTE_S, overlap_seconds_per_minute
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace

__all__ = ["ControlRecord", "Sessions", "build_result", "build_summary"]

FloatArray = npt.NDArray[np.float64]

#: Summary field and timeline column of each throttle cause, by kernel ``CAUSE_*`` code.
CAUSE_NAMES = {
    kernel.CAUSE_AT_MAX: "throttled_at_max",
    kernel.CAUSE_SCALING: "throttled_scaling",
    kernel.CAUSE_BURST: "throttled_burst",
    kernel.CAUSE_CAPACITY_LOST: "throttled_capacity_lost",
}

_EVENT_COLUMNS = [
    "kind", "zone", "start_s", "end_s", "units_lost", "capacity_lost_unit_s",
    "offered_during", "throttled_during",
]  # fmt: skip


class ControlRecord(Protocol):
    """What the summary reads of the control plane (a :class:`Cluster`, or the fast path's)."""

    @property
    def hosted_log(self) -> list[tuple[float, bool]]: ...

    @property
    def peak_units(self) -> int: ...

    @property
    def scale_out_events(self) -> int: ...

    @property
    def scale_in_events(self) -> int: ...


@dataclass(frozen=True)
class Sessions:
    """Per-unit times (s; NaN where it did not happen) as arrays."""

    in_service_from: FloatArray
    drained: FloatArray
    retired: FloatArray
    billed_from: FloatArray
    billed_to: FloatArray
    zones: npt.NDArray[np.int64]
    serving: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, sessions: list[UnitSession], horizon_s: float) -> Sessions:
        """The arrays of ``sessions``, billed times cut at the horizon."""
        in_service_from = np.array([_nan(s.in_service_from) for s in sessions])
        # Every unit has left by now (the model is stopped at the horizon); its billed time
        # ends as lfvsim.billing.billed_until_s says, never after the horizon.
        billed_to = np.minimum(
            [horizon_s if s.billed_to is None else s.billed_to for s in sessions], horizon_s
        )
        return cls(
            in_service_from=in_service_from,
            drained=np.array([_nan(s.drained_at) for s in sessions]),
            retired=np.array([_nan(s.retired_at) for s in sessions]),
            billed_from=np.array([s.billed_from for s in sessions]),
            billed_to=np.asarray(billed_to, dtype=float),
            zones=np.array([s.zone for s in sessions], dtype=np.int64),
            serving=~np.isnan(in_service_from),
        )


@dataclass(frozen=True)
class _Minutes:
    """Per-minute capacity, billing and hosting, in seconds within each minute."""

    billed_s: float
    billed_units: FloatArray
    in_service: FloatArray
    accepting: FloatArray
    hosted_s: FloatArray
    minute_len: FloatArray


def build_result(
    scenario: Scenario,
    trace: Trace,
    seed: int,
    horizon_s: float,
    data: DataPlane,
    cluster: Cluster,
    policy: str,
    peak_wanted_units: int | None = None,
    minute_percentile: float = 99.0,
) -> Result:
    """Assemble the timeline, summary, units and events of a finished run.

    ``peak_wanted_units`` is the most units the policy wanted before capping at Max
    (default: the most it asked for, ``max`` of the desired units);
    ``minute_percentile`` the percentile of per-minute throttle rates the summary gives
    besides the 99th.
    """
    sessions = Sessions.of(cluster.sessions, horizon_s)
    per_minute = _per_minute(scenario, horizon_s, data, cluster, sessions)
    max_units = scenario.model.max_units if scenario.policy != "none" else None
    records = data.requests()
    if peak_wanted_units is None:
        peak_wanted_units = max(d for _, d in cluster.desired_log)
    summary = _finished_summary(
        scenario,
        trace,
        seed,
        horizon_s,
        data,
        cluster,
        per_minute,
        policy,
        peak_wanted_units,
        minute_percentile,
    )
    return Result(
        summary=summary,
        timeline=_timeline(scenario, trace, horizon_s, data, cluster, per_minute, max_units),
        units=_units(cluster.sessions, sessions, data),
        events=_events(cluster, horizon_s),
        scenario=scenario,
        seed=seed,
        trace_source=trace.source,
        notes=notes_for(scenario, trace) + _waiting_notes(summary),
        requests=None if records is None else pd.DataFrame(records),
    )


def build_summary(
    scenario: Scenario,
    trace: Trace,
    seed: int,
    horizon_s: float,
    data: DataPlane,
    control: ControlRecord,
    sessions: Sessions,
    policy: str,
    peak_wanted_units: int,
    minute_percentile: float = 99.0,
) -> Summary:
    """The summary of a finished run alone: no timeline, units or events tables.

    The same figures, by the same arithmetic, as :func:`build_result`'s summary;
    ``peak_wanted_units`` as :attr:`Summary.peak_wanted_units` defines it and
    ``minute_percentile`` as :func:`build_result` takes it.
    """
    per_minute = _per_minute(scenario, horizon_s, data, control, sessions)
    return _finished_summary(
        scenario,
        trace,
        seed,
        horizon_s,
        data,
        control,
        per_minute,
        policy,
        peak_wanted_units,
        minute_percentile,
    )


def _finished_summary(
    scenario: Scenario,
    trace: Trace,
    seed: int,
    horizon_s: float,
    data: DataPlane,
    control: ControlRecord,
    per_minute: _Minutes,
    policy: str,
    peak_wanted_units: int,
    minute_percentile: float = 99.0,
) -> Summary:
    max_units = scenario.model.max_units if scenario.policy != "none" else None
    summary = _summary(
        scenario,
        trace,
        seed,
        horizon_s,
        data,
        control,
        per_minute,
        max_units,
        policy,
        minute_percentile,
    )
    return replace(summary, peak_wanted_units=peak_wanted_units)


def _per_minute(
    scenario: Scenario, horizon_s: float, data: DataPlane, cluster: ControlRecord, s: Sessions
) -> _Minutes:
    minutes = len(data.offered)
    billed_s, billed_units = metered_seconds(
        np.column_stack([s.billed_from, s.billed_to]),
        scenario.billing.metering_granularity_s,
        minutes,
    )
    # A unit is in service until its billed time ends: a stopped model has none, even
    # while calls accepted before the stop finish.
    start = s.in_service_from[s.serving]
    in_service = overlap_seconds_per_minute(start, s.billed_to[s.serving], minutes)
    accepting = overlap_seconds_per_minute(
        start, np.minimum(s.retired[s.serving], horizon_s), minutes
    )
    hosted_s = overlap_seconds_per_minute(*_hosted_intervals(cluster, horizon_s), minutes)
    return _Minutes(
        billed_s=billed_s,
        billed_units=billed_units,
        in_service=in_service,
        accepting=accepting,
        hosted_s=hosted_s,
        minute_len=np.minimum(MINUTE_S, horizon_s - np.arange(minutes) * MINUTE_S),
    )


def _timeline(
    scenario: Scenario,
    trace: Trace,
    horizon_s: float,
    data: DataPlane,
    cluster: Cluster,
    m: _Minutes,
    max_units: int | None,
) -> pd.DataFrame:
    minutes = len(data.offered)
    log_t = np.array([t for t, _ in cluster.desired_log])
    log_d = np.array([d for _, d in cluster.desired_log])
    ends = np.minimum((np.arange(minutes) + 1) * MINUTE_S, horizon_s)
    desired = log_d[np.maximum(np.searchsorted(log_t, ends, side="left") - 1, 0)]
    lo, per, _ = kernel.HIST_MINUTE
    minute_q = histogram_quantiles(data.hist_minute, [0.5, 0.99], lo, per)
    if len(minute_q) < minutes:  # hourly histograms: each minute shows its hour's
        minute_q = np.repeat(minute_q, 60, axis=0)[:minutes]
    index = trace.start + pd.to_timedelta(np.arange(minutes) * MINUTE_S, unit="s")
    return pd.DataFrame(
        {
            "offered_requests": data.offered,
            "SuccessfulRequestCount": data.accepted,
            "ThrottledCount": data.throttled,
            **{name: data.throttled_by_cause[:, c] for c, name in CAUSE_NAMES.items()},
            "unavailable_requests": data.unavailable,
            "waiting_requests": data.waiting,
            "retried_requests": data.retries,
            "InServiceInferenceUnits": m.in_service / m.minute_len,
            "DesiredInferenceUnits": desired,
            "MinInferenceUnits": scenario.model.min_units,
            "MaxInferenceUnits": pd.array([max_units] * minutes, dtype="Int64"),
            "hosted": m.hosted_s / m.minute_len,
            "billed_units": m.billed_units,
            "utilization": np.divide(
                data.busy_s,
                m.accepting * data.spu,
                out=np.zeros(minutes),
                where=m.accepting > 0,
            ).clip(0, 1),
            "latency_p50_s": minute_q[:, 0],
            "latency_p99_s": minute_q[:, 1],
        },
        index=pd.DatetimeIndex(index, name="timestamp"),
    )


def _summary(
    scenario: Scenario,
    trace: Trace,
    seed: int,
    horizon_s: float,
    data: DataPlane,
    cluster: ControlRecord,
    m: _Minutes,
    max_units: int | None,
    policy: str,
    minute_percentile: float = 99.0,
) -> Summary:
    attempts = int(data.offered.sum())
    retries = int(data.retries.sum())
    requests = attempts - retries
    throttled = int(data.throttled.sum())
    accepted = int(data.accepted.sum())
    acc = data.acc
    started = acc[kernel.ACC_STARTED]
    lo, per, _ = kernel.HIST_ALL
    # A quantile interpolated inside the highest occupied bin can pass the largest value.
    top = float(acc[kernel.ACC_LAT_MAX])
    p50, p95, p99 = np.minimum(histogram_quantiles(data.hist_all, [0.5, 0.95, 0.99], lo, per), top)
    unavailable = int(data.unavailable.sum())
    by_cause = data.throttled_by_cause.sum(axis=0)
    unit_hours = m.billed_s / 3600.0
    price = scenario.price_per_unit_hour_usd
    cost = unit_hours * price
    return Summary(
        requests=requests,
        attempts=attempts,
        retries=retries,
        served=accepted,
        throttled=throttled,
        unavailable=unavailable,
        **{name: int(by_cause[c]) for c, name in CAUSE_NAMES.items()},
        unavailable_not_hosted=unavailable,
        throttle_rate=throttled / attempts if attempts else 0.0,
        throttle_rate_worst_hour=worst_hour_throttle_rate(
            data.offered, data.throttled, trace.start
        ),
        throttle_rate_minute_p99=minute_throttle_rate_quantile(data.offered, data.throttled),
        minute_percentile=minute_percentile,
        throttle_rate_minute_percentile=minute_throttle_rate_quantile(
            data.offered, data.throttled, minute_percentile / 100.0
        ),
        first_attempt_throttle_rate=(
            float(acc[kernel.ACC_FIRST_THROTTLED]) / requests if requests else 0.0
        ),
        failure_rate=float(acc[kernel.ACC_FAILED]) / requests if requests else 0.0,
        retrying_at_end=data.retrying,
        latency_mean_s=float(acc[kernel.ACC_LAT] / started) if started else math.nan,
        latency_p50_s=float(p50),
        latency_p95_s=float(p95),
        latency_p99_s=float(p99),
        latency_max_s=float(acc[kernel.ACC_LAT_MAX]) if started else math.nan,
        wait_mean_s=float(acc[kernel.ACC_WAIT] / started) if started else math.nan,
        unit_hours=unit_hours,
        cost_usd=cost,
        cost_per_1000_images_usd=1000.0 * cost / accepted if accepted else math.nan,
        price_per_unit_hour_usd=price,
        mean_units=float(m.in_service.sum() / horizon_s),
        peak_units=cluster.peak_units,
        peak_wanted_units=cluster.peak_units,  # build_result sets the policy's figure
        scale_out_events=cluster.scale_out_events,
        scale_in_events=cluster.scale_in_events,
        duration_h=horizon_s / 3600.0,
        hosted_h=float(m.hosted_s.sum() / 3600.0),
        min_units=scenario.model.min_units,
        max_units=max_units,
        policy=policy,
        seed=seed,
        waiting_at_end=int(data.waiting.sum()),
    )


def _units(sessions: list[UnitSession], s: Sessions, data: DataPlane) -> pd.DataFrame:
    served = np.zeros(len(sessions))
    n_ids = min(len(sessions), len(data.served_by_unit))
    served[:n_ids] = data.served_by_unit[:n_ids]
    return pd.DataFrame(
        {
            "unit_id": [u.unit_id for u in sessions],
            "zone": s.zones,
            "billed_from_s": s.billed_from,
            "in_service_from_s": s.in_service_from,
            "retired_at_s": s.retired,
            "drained_at_s": s.drained,
            "billed_to_s": s.billed_to,
            "served": np.where(s.serving, served, np.nan),
            "ended_by": [u.ended_by for u in sessions],
        }
    )


def _events(cluster: Cluster, horizon_s: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "kind": e.kind,
                "zone": e.zone,
                "start_s": e.start_s,
                "end_s": e.end_s,
                "units_lost": e.units_lost,
                "capacity_lost_unit_s": e.capacity_lost_unit_s(horizon_s),
                "offered_during": e.offered,
                "throttled_during": e.throttled,
            }
            for e in cluster.events
        ],
        columns=_EVENT_COLUMNS,
    )


def _hosted_intervals(cluster: ControlRecord, horizon_s: float) -> tuple[FloatArray, FloatArray]:
    """Start and end (s) of each stretch the model was HOSTED."""
    starts: list[float] = []
    ends: list[float] = []
    for t, hosted in cluster.hosted_log:
        if hosted:
            starts.append(t)
        elif len(ends) < len(starts):
            ends.append(t)
    ends += [horizon_s] * (len(starts) - len(ends))
    return np.array(starts, dtype=float), np.array(ends, dtype=float)


def _waiting_notes(summary: Summary) -> list[str]:
    if not summary.waiting_at_end:
        return []
    return [
        f"{summary.waiting_at_end:,} requests were still waiting for a batch when the run "
        "ended: counted as waiting (waiting_at_end), neither served nor failed"
    ]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
