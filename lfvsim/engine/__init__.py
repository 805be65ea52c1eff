"""The simulation engine: SimPy control plane, batched exact data plane."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from lfvsim.engine import kernel
from lfvsim.engine.control import Cluster, autoscaler
from lfvsim.engine.dataplane import DataPlane, service_sampler
from lfvsim.engine.operations import (
    batch_hosting,
    scheduled_hosting,
    unit_failures,
    zone_outage,
)
from lfvsim.errors import InputError
from lfvsim.hosting import schedule_intervals
from lfvsim.policies import NoScaling, Oracle, TargetTracking
from lfvsim.result import Result, build_result
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace, trace_from_scenario

__all__ = ["simulate"]


def simulate(
    scenario: Scenario,
    trace: Trace | None = None,
    seed: int | None = None,
    *,
    record_requests: bool = False,
    progress: Callable[[float, float], None] | None = None,
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

    Returns
    -------
    Result
    """
    trace = trace if trace is not None else trace_from_scenario(scenario)
    horizon_s = trace.duration_s
    if scenario.simulation.horizon_h is not None:
        horizon_s = min(horizon_s, scenario.simulation.horizon_h * 3600.0)
    if seed is None:
        seed = scenario.simulation.seed
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    if seed < 0:
        raise InputError(f"seed {seed} is negative; use a seed >= 0")
    minutes = max(1, math.ceil(horizon_s / 60.0 - 1e-9))

    def streams() -> list[np.random.Generator]:
        # Children by index: arrivals, service times, failures, retry jitter.
        return [np.random.default_rng(c) for c in np.random.SeedSequence(seed).spawn(4)]

    arrival_rng, service_rng, failure_rng, jitter_rng = streams()
    hosting = scenario.hosting
    batch = hosting.mode == "batch"
    data = DataPlane(
        trace.blocks(arrival_rng, horizon_s),
        service_rng,
        scenario.unit,
        minutes,
        record=record_requests,
        progress=None if progress is None else (lambda t: progress(min(t, horizon_s), horizon_s)),
        client=scenario.client,
        batch=batch,
        jitter_seed=int(jitter_rng.integers(2**63)),
        service=scenario.model.service,
    )
    policy = NoScaling() if batch else _policy(scenario, trace, horizon_s, minutes, streams)
    min_units, max_units = scenario.model.min_units, scenario.model.max_units
    if batch:
        min_units = max_units = max_units or min_units  # a batch runs at full capacity
    elif scenario.policy == "oracle":
        max_units = max_units or 1 << 30
    elif scenario.policy == "none" or max_units is None:
        max_units = min_units
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

    def units_at(time_s: float) -> int:
        return policy.initial_units(min_units, time_s)

    if hosting.mode == "always_on":
        cluster.start_model(units_at(0.0))
    elif hosting.mode == "schedule":
        data.set_hosted(False)  # until the first window's StartModel completes
        windows = schedule_intervals(hosting, trace.start, horizon_s)
        env.process(scheduled_hosting(env, cluster, windows, hosting, units_at))
    else:
        data.set_hosted(False)
        env.process(batch_hosting(env, cluster, hosting, units_at, horizon_s))
    if policy.period_s:
        env.process(
            autoscaler(
                env,
                cluster,
                policy,
                scenario.autoscaler.metric,
                scenario.unit.latency_mean_s,
                horizon_s,
            )
        )
    env.run(until=horizon_s)
    data.advance(horizon_s)
    data.refuse_waiting()  # the model stops at the horizon
    cluster.close()
    if progress is not None:
        progress(horizon_s, horizon_s)
    return build_result(scenario, trace, seed, horizon_s, data, cluster, policy.name)


def _policy(scenario: Scenario, trace: Trace, horizon_s: float, minutes: int, streams):
    name = scenario.policy
    if name == "none":
        return NoScaling()
    if name == "target_tracking":
        return TargetTracking(scenario.autoscaler)
    # Oracle: a first pass over the same arrivals and service times finds each minute's
    # peak concurrency with every request served at once.
    arrival_rng, service_rng = streams()[:2]
    sample = service_sampler(scenario.unit)
    peak = np.zeros(minutes, np.int64)
    heap = np.empty(1024)
    st = np.zeros(2, np.int64)
    for block in trace.blocks(arrival_rng, horizon_s):
        services = sample(service_rng, len(block))
        done = 0
        while done < len(block):
            done += kernel.peak_concurrency(block[done:], services[done:], heap, st, peak)
            if st[1]:
                heap = np.concatenate([heap, np.empty(len(heap))])
                st[1] = 0
    needed = np.ceil(peak / scenario.unit.slots).astype(np.int64)
    upper = scenario.model.max_units or np.iinfo(np.int64).max
    return Oracle(np.clip(needed, scenario.model.min_units, upper))
