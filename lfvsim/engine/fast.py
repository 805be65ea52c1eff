"""The summary-only fast path: one run's :class:`Summary` without SimPy or a timeline.

Experiments read only a run's summary. For the scenarios it covers, the fast path runs
the control plane compiled (:func:`lfvsim.engine.kernel.run_control`) around the same
data-plane kernel, and builds the summary from the same arrays by the same code as
:func:`lfvsim.simulate`, so every figure is identical, to the bit. It covers a model
hosted all the time (``hosting.mode = "always_on"``), without unit failures or zone
outages, with a shipped policy (none, target tracking, oracle), the concurrency-slots
throttling model (``unit.throttling = "slots"``), and no per-request records; anything
else (the token bucket of ``throttling = "rate"`` included) runs the SimPy reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from lfvsim.engine import kernel as k
from lfvsim.engine.assemble import Sessions, build_summary
from lfvsim.engine.busy import check_minute_percentile
from lfvsim.engine.dataplane import DataPlane, KernelArrays
from lfvsim.engine.policies import Oracle, TargetTracking, make_policy
from lfvsim.engine.result import Summary
from lfvsim.engine.simulate import run_inputs, simulate, unit_bounds
from lfvsim.engine.traffic import Traffic, TrafficBlocks, prefetched, run_streams
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace

__all__ = ["ENGINES", "Engine", "SummaryRun", "fast_path_refusal", "simulate_summary"]

Engine = Literal["auto", "fast", "simpy"]

ENGINES: tuple[str, ...] = ("auto", "fast", "simpy")
"""``auto``: the fast path when it covers the scenario, else SimPy; ``fast``: the fast path
or an error; ``simpy``: always the SimPy reference."""

_SHIPPED_POLICIES = ("none", "target_tracking", "oracle")


@dataclass(frozen=True)
class SummaryRun:
    """A run's summary and the engine that computed it.

    Attributes
    ----------
    summary : Summary
    engine : str
        ``fast`` or ``simpy``.
    fallback : str or None
        Why the fast path did not run, when ``auto`` fell back to SimPy.
    """

    summary: Summary
    engine: str
    fallback: str | None = None


@dataclass(frozen=True)
class _Control:
    """What the summary reads of the control plane (see ``assemble.ControlRecord``)."""

    hosted_log: list[tuple[float, bool]]
    peak_units: int
    scale_out_events: int
    scale_in_events: int


def fast_path_refusal(scenario: Scenario, record_requests: bool = False) -> str | None:
    """Why the fast path cannot run ``scenario``; None when it can."""
    if scenario.hosting.mode != "always_on":
        return f"hosting.mode = '{scenario.hosting.mode}' (only 'always_on' is compiled)"
    if scenario.failures.unit_mtbf_h is not None or scenario.failures.outages:
        return "unit failures or zone outages (not compiled)"
    if scenario.unit.throttling != "slots":
        return f"unit.throttling = '{scenario.unit.throttling}' (only 'slots' is compiled)"
    if scenario.policy not in _SHIPPED_POLICIES:
        return f"policy '{scenario.policy}' (not compiled)"
    if record_requests:
        return "per-request records were asked for"
    return None


def simulate_summary(
    scenario: Scenario,
    trace: Trace | None = None,
    seed: int | None = None,
    *,
    traffic: Traffic | None = None,
    engine: Engine = "auto",
    allow_large: bool = False,
    minute_percentile: float = 99.0,
) -> SummaryRun:
    """The summary of one run, by the fast path when it covers the scenario.

    Parameters
    ----------
    scenario, trace, seed, traffic, allow_large, minute_percentile
        As :func:`lfvsim.simulate` (the same budget and percentile checks).
    engine : {"auto", "fast", "simpy"}
        ``auto``: the fast path when :func:`fast_path_refusal` allows, else the SimPy
        reference; ``fast``: the fast path, ValueError when it does not cover the
        scenario; ``simpy``: the reference (to check or measure the fast path).

    Returns
    -------
    SummaryRun
        The summary (identical either way) and which engine ran.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine '{engine}' is not one of {', '.join(ENGINES)}")
    minute_percentile = check_minute_percentile(minute_percentile)
    refusal = None if engine == "simpy" else fast_path_refusal(scenario)
    if engine == "fast" and refusal is not None:
        raise ValueError(f"the fast path does not cover this scenario: {refusal}")
    if engine == "simpy" or refusal is not None:
        result = simulate(
            scenario,
            trace=trace,
            seed=seed,
            traffic=traffic,
            allow_large=allow_large,
            minute_percentile=minute_percentile,
        )
        return SummaryRun(result.summary, "simpy", refusal)
    summary = _fast_summary(scenario, trace, seed, traffic, allow_large, minute_percentile)
    return SummaryRun(summary, "fast")


def _fast_summary(
    scenario: Scenario,
    trace: Trace | None,
    seed: int | None,
    traffic: Traffic | None,
    allow_large: bool,
    minute_percentile: float,
) -> Summary:
    trace, horizon_s, seed, minutes, requests = run_inputs(
        scenario, trace, seed, traffic, allow_large
    )
    jitter_rng = run_streams(seed)[3]
    data = DataPlane(
        iter(()),  # the loop below feeds the blocks
        scenario.unit,
        minutes,
        client=scenario.client,
        jitter_seed=int(jitter_rng.integers(2**63)),
        service=scenario.model.service,
    )
    # The summary reads no per-minute latency: the kernel keeps no per-minute histogram.
    data.hist_minute = np.zeros((0, data.hist_minute.shape[1]), data.hist_minute.dtype)
    policy = make_policy(scenario, minutes, requests)
    min_units, max_units = unit_bounds(scenario)
    initial = policy.initial_units(min_units, 0.0)
    needed = np.zeros(0, np.int64)
    cs = np.zeros(k.N_CS, np.int64)
    cf = np.zeros(k.N_CF)
    if isinstance(policy, TargetTracking):
        c = policy.config
        cs[k.CS_POLICY] = k.POLICY_TARGET_TRACKING
        cs[k.CS_OUT_DATAPOINTS] = c.scale_out_datapoints
        cs[k.CS_IN_DATAPOINTS] = c.scale_in_datapoints
        cf[k.CF_TARGET] = c.target_percent
        cf[k.CF_RATIO] = c.scale_in_ratio
        cf[k.CF_OUT_COOLDOWN] = c.scale_out_cooldown_s
        cf[k.CF_IN_COOLDOWN] = c.scale_in_cooldown_s
        upper = max_units
    elif isinstance(policy, Oracle):
        cs[k.CS_POLICY] = k.POLICY_ORACLE
        needed = np.asarray(policy.needed_units, np.int64)
        upper = min(int(needed.max()) if len(needed) else 0, max_units)
    else:
        cs[k.CS_POLICY] = k.POLICY_NONE
        upper = min_units
    upper = max(upper, min_units, initial, 1)
    metric = scenario.autoscaler.metric
    cs[k.CS_METRIC] = k.METRIC_UTILIZATION if metric == "utilization" else k.METRIC_OFFERED
    cs[k.CS_PERIOD] = policy.period_s
    cs[k.CS_MIN] = min_units
    cs[k.CS_MAX] = max_units
    cs[k.CS_BILL_PROVISIONING] = int(scenario.billing.bill_provisioning)
    cs[k.CS_STEP_UNITS] = upper
    cf[k.CF_HORIZON] = horizon_s
    cf[k.CF_DELAY] = policy.provisioning_delay_s
    cf[k.CF_NEXT_EVAL] = 0.0 + policy.period_s if policy.period_s else np.inf
    cf[k.CF_LAST_OUT] = -np.inf
    cf[k.CF_LAST_IN] = -np.inf
    cf[k.CF_MEAN_SERVICE] = scenario.unit.latency_mean_s
    prov = np.zeros(upper + 1)
    sessions = np.full((2 * upper + 16, k.N_S), np.nan)
    ended = np.zeros(len(sessions), np.int64)
    data.reserve(upper, len(sessions))
    ka = data.kernel_arrays()
    # StartModel at 0: the model is hosted with the policy's first units.
    cs[k.CS_DESIRED] = initial
    cs[k.CS_PEAK_DESIRED] = max(initial, 0)
    k.control_add_units(ka, cs, cf, sessions, initial, 0.0, 0.0)

    # A run drawing its own requests draws the next block while the kernel serves this one.
    blocks = requests() if traffic is not None else prefetched(requests())
    arrivals, services = _next_block(blocks, ka.st)
    idx0 = 0
    while True:
        code = k.run_control(arrivals, services, idx0, ka, cs, cf, prov, sessions, ended, needed)
        if code == k.RUN_DONE:
            break
        if code == k.RUN_NEXT_BLOCK:
            idx0 += len(arrivals)
            cs[k.CS_POS] = 0
            arrivals, services = _next_block(blocks, ka.st)
        elif code == k.RUN_GROW_KERNEL:
            data.grow()
        else:  # RUN_GROW_SESSIONS
            more = np.full((len(sessions), k.N_S), np.nan)
            sessions = np.concatenate([sessions, more])
            ended = np.concatenate([ended, np.zeros(len(more), np.int64)])
            data.reserve(upper, len(sessions))
        ka = data.kernel_arrays()
    data.refuse_waiting()  # the model stops at the horizon
    count = int(cs[k.CS_SESSIONS])
    billed_to = _close(sessions[:count], ka, horizon_s)
    s = sessions[:count]
    in_service = s[:, k.S_IN_SERVICE]
    control = _Control(
        hosted_log=[(0.0, True), (horizon_s, False)],
        peak_units=int(cs[k.CS_PEAK_UNITS]),
        scale_out_events=int(cs[k.CS_SCALE_OUT]),
        scale_in_events=int(cs[k.CS_SCALE_IN]),
    )
    peak_wanted = cs[k.CS_PEAK_WANTED] if isinstance(policy, TargetTracking) else None
    if peak_wanted is None:
        peak_wanted = cs[k.CS_PEAK_DESIRED]
    return build_summary(
        scenario,
        trace,
        seed,
        horizon_s,
        data,
        control,
        Sessions(
            in_service_from=in_service,
            drained=s[:, k.S_DRAINED],
            retired=s[:, k.S_RETIRED],
            billed_from=s[:, k.S_BILLED_FROM],
            billed_to=np.minimum(billed_to, horizon_s),
            zones=np.zeros(count, np.int64),  # one zone: without failures zones do not matter
            serving=~np.isnan(in_service),
        ),
        policy.name,
        int(peak_wanted),
        minute_percentile,
    )


def _next_block(blocks: TrafficBlocks, st: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The next block of requests; empty arrays, and no more to come, after the last."""
    pair = next(blocks, None)
    if pair is None:
        st[k.ST_MORE] = 0
        return np.empty(0), np.empty(0)
    return pair


def _close(sessions: np.ndarray, ka: KernelArrays, horizon_s: float) -> np.ndarray:
    """StopModel at the horizon: units still in service leave, billed until now.

    Fills the retired and drained times of those units in ``sessions`` and returns every
    unit's billed end (``billing.billed_until_s``, draining units cut at the horizon by
    the caller).
    """
    ht, hs = ka.ht, ka.hs  # hs: the unit of each slot
    n = int(ka.st[k.ST_HEAP_N])
    active = ~np.isnan(sessions[:, k.S_IN_SERVICE]) & np.isnan(sessions[:, k.S_RETIRED])
    drained = np.full(len(sessions), horizon_s)
    np.maximum.at(drained, hs[:n], ht[:n])
    sessions[active, k.S_RETIRED] = horizon_s
    sessions[active, k.S_DRAINED] = drained[active]
    sessions[active, k.S_BILLED_TO] = horizon_s  # billed_until_s("end", horizon, drained)
    billed_to: np.ndarray = sessions[:, k.S_BILLED_TO]
    return billed_to
