"""``simulate``: one run of a scenario on a trace, from the seed to the :class:`Result`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import simpy

from lfvsim.budget import check_runs
from lfvsim.engine.assemble import build_result
from lfvsim.engine.busy import check_minute_percentile
from lfvsim.engine.control import Cluster, autoscaler
from lfvsim.engine.dataplane import DataPlane
from lfvsim.engine.operations import (
    batch_hosting,
    scheduled_hosting,
    unit_failures,
    zone_outage,
)
from lfvsim.engine.policies import NoScaling, Policy, make_policy
from lfvsim.engine.result import Result
from lfvsim.engine.seeds import resolve_seed
from lfvsim.engine.traffic import (
    Traffic,
    TrafficBlocks,
    horizon_of,
    prefetched,
    run_streams,
    traffic_blocks,
)
from lfvsim.hosting import schedule_intervals
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace, trace_from_scenario

__all__ = ["RunInputs", "run_inputs", "simulate", "unit_bounds"]


def simulate(
    scenario: Scenario,
    trace: Trace | None = None,
    seed: int | None = None,
    *,
    record_requests: bool = False,
    progress: Callable[[float, float], None] | None = None,
    traffic: Traffic | None = None,
    minute_percentile: float = 99.0,
    allow_large: bool = False,
) -> Result:
    """Replay a trace against the scenario's inference units.

    Parameters
    ----------
    scenario : Scenario
        What to simulate (see :func:`lfvsim.load_scenario`).
    trace : Trace, optional
        Traffic to replay; default: the scenario's ``[traffic]``.
    seed : int, optional
        Random seed; default: ``simulation.seed``, else fresh entropy. The seed used is in
        the result.
    record_requests : bool
        Keep one row per request in ``Result.requests`` (memory grows with the trace).
    progress : callable, optional
        Called as ``progress(simulated_s, horizon_s)`` as the run advances.
    traffic : Traffic, optional
        The run's requests drawn beforehand (:func:`lfvsim.engine.traffic.draw_traffic`
        with this trace and seed), shared by runs that differ only in Min, Max, policy or
        hosting; the result is the same as without it.
    minute_percentile : float
        The percentile of per-minute throttle rates the summary gives in
        ``throttle_rate_minute_percentile`` (0 < P < 100; ``throttle_rate_minute_p99`` is
        always there).
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`); never past the
        machine's memory.

    Returns
    -------
    Result

    Raises
    ------
    lfvsim.budget.BudgetError
        The run would use more than the budget (checked before anything is allocated).
    """
    minute_percentile = check_minute_percentile(minute_percentile)
    trace, horizon_s, seed, minutes, requests = run_inputs(
        scenario, trace, seed, traffic, allow_large
    )
    failure_rng, jitter_rng = run_streams(seed)[2:]
    batch = scenario.hosting.mode == "batch"
    data = DataPlane(
        # Drawing its own requests, the run draws the next block while it serves this one.
        requests() if traffic is not None else prefetched(requests()),
        scenario.unit,
        minutes,
        record=record_requests,
        progress=None if progress is None else (lambda t: progress(min(t, horizon_s), horizon_s)),
        client=scenario.client,
        batch=batch,
        jitter_seed=int(jitter_rng.integers(2**63)),
        service=scenario.model.service,
    )
    if batch:
        policy: Policy = NoScaling()
    else:
        # The oracle's first pass reads the same requests as the run, before it.
        policy = make_policy(scenario, minutes, requests)
    min_units, max_units = unit_bounds(scenario)
    env = simpy.Environment()
    failures = scenario.failures
    cluster = Cluster(
        env,
        data,
        min_units,
        max_units,
        policy.provisioning_delay_s,
        scenario.billing.bill_provisioning,
        zones=failures.availability_zones,
        replacement_delay_s=failures.replacement_delay_s,
    )
    if failures.unit_mtbf_h is not None:
        unit_failures(env, cluster, failure_rng, failures.unit_mtbf_h * 3600.0)
    for outage in failures.outages:
        env.process(zone_outage(env, cluster, outage))
    _start_hosting(env, cluster, scenario, trace, horizon_s, policy, min_units)
    if policy.period_s:
        env.process(
            autoscaler(
                env,
                cluster,
                policy,
                scenario.autoscaler.metric,
                scenario.unit.work_per_request_s,
                horizon_s,
            )
        )
    env.run(until=horizon_s)
    data.advance(horizon_s)
    if batch:
        data.hold_waiting()  # waiting for a batch: no outcome yet
    else:
        data.refuse_waiting()  # the model stops at the horizon
    cluster.close()
    if progress is not None:
        progress(horizon_s, horizon_s)
    return build_result(
        scenario,
        trace,
        seed,
        horizon_s,
        data,
        cluster,
        policy.name,
        peak_wanted_units=getattr(policy, "peak_wanted", None),
        minute_percentile=minute_percentile,
    )


class RunInputs(NamedTuple):
    """What one run starts from, resolved the same way by both engines."""

    trace: Trace
    horizon_s: float
    seed: int
    minutes: int
    requests: Callable[[], TrafficBlocks]
    """A fresh pass over the run's requests: the shared ones, or drawn from the seed."""


def run_inputs(
    scenario: Scenario,
    trace: Trace | None,
    seed: int | None,
    traffic: Traffic | None,
    allow_large: bool,
) -> RunInputs:
    """Check the run's budget, then resolve its trace, horizon, seed and requests.

    Raises
    ------
    lfvsim.budget.BudgetError
        The run would use more than the budget (checked before anything is allocated).
    ValueError
        ``traffic`` was drawn for another trace, seed, horizon or latency.
    """
    if traffic is not None and trace is None:
        trace = traffic.trace
    read = check_runs(scenario, trace, allow_large=allow_large)
    if trace is None:
        trace = read if read is not None else trace_from_scenario(scenario)
    horizon_s = horizon_of(scenario, trace)
    run_seed = resolve_seed(seed, scenario)
    if traffic is not None and not traffic.fits(scenario, trace, run_seed):
        raise ValueError("the traffic was drawn for another trace, seed, horizon or latency")
    minutes = max(1, math.ceil(horizon_s / 60.0 - 1e-9))
    run_trace = trace

    def requests() -> TrafficBlocks:
        if traffic is not None:
            return traffic.blocks()
        return traffic_blocks(run_trace, scenario.unit, run_seed, horizon_s)

    return RunInputs(run_trace, horizon_s, run_seed, minutes, requests)


def unit_bounds(scenario: Scenario) -> tuple[int, int]:
    """The [Min, Max] units the cluster keeps to, with auto-scaling off meaning Max = Min."""
    min_units, max_units = scenario.model.min_units, scenario.model.max_units
    if scenario.hosting.mode == "batch":
        return (max_units or min_units,) * 2  # a batch runs at full capacity
    if scenario.policy == "oracle":
        return min_units, max_units or 1 << 30
    if scenario.policy == "none" or max_units is None:
        return min_units, min_units
    return min_units, max_units


def _start_hosting(
    env: simpy.Environment,
    cluster: Cluster,
    scenario: Scenario,
    trace: Trace,
    horizon_s: float,
    policy: Policy,
    min_units: int,
) -> None:
    """Host the model all the time, in the schedule's windows, or for each batch."""
    hosting = scenario.hosting

    def units_at(time_s: float) -> int:
        return policy.initial_units(min_units, time_s)

    if hosting.mode == "always_on":
        cluster.start_model(units_at(0.0))
    elif hosting.mode == "schedule":
        cluster.data.set_hosted(False)  # until the first window's StartModel completes
        windows = schedule_intervals(hosting, trace.start, horizon_s)
        env.process(scheduled_hosting(env, cluster, windows, hosting, units_at))
    else:
        cluster.data.set_hosted(False)
        env.process(batch_hosting(env, cluster, hosting, units_at, horizon_s))
