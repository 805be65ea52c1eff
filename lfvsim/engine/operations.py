"""SimPy processes for how the model is operated: hosting schedules, batches, failures."""

from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np
import simpy

from lfvsim.engine.control import Cluster, UnitSession
from lfvsim.failures import Outage
from lfvsim.hosting import Hosting

__all__ = ["batch_hosting", "scheduled_hosting", "unit_failures", "zone_outage"]


def scheduled_hosting(
    env: simpy.Environment,
    cluster: Cluster,
    windows: np.ndarray,
    hosting: Hosting,
    units_at: Callable[[float], int],
) -> Generator[simpy.Event, None, None]:
    """Start the model for each window and stop it when the window closes.

    ``units_at(t)`` gives the units the model starts with at time ``t``. StartModel is
    called when a window opens (or ``start_delay_s`` earlier with
    ``start_early``); the model is HOSTED ``start_delay_s`` after the call. A window open
    at the trace start is taken as already hosted. Windows closer than the start delay
    merge: the model is not stopped in between.
    """
    delay = hosting.start_delay_s
    plan: list[list[float]] = []  # [call, hosted_from, close]
    for open_s, close_s in windows:
        hosted_from = open_s if hosting.start_early else open_s + delay
        call = hosted_from - delay
        if open_s <= 0:
            call = hosted_from = 0.0
        if hosted_from >= close_s:
            continue  # too short to ever be hosted
        if plan and call <= plan[-1][2]:
            plan[-1][2] = close_s
        else:
            plan.append([max(call, 0.0), hosted_from, close_s])
    data = cluster.data
    for call, hosted_from, close in plan:
        if hosted_from > env.now:
            yield env.timeout(hosted_from - env.now)
        data.advance(env.now)
        billed_from = call if hosting.bill_starting else None
        cluster.start_model(units_at(env.now), billed_from=billed_from)
        yield env.timeout(close - env.now)
        data.advance(env.now)
        cluster.stop_model()


def batch_hosting(
    env: simpy.Environment,
    cluster: Cluster,
    hosting: Hosting,
    units_at: Callable[[float], int],
    horizon_s: float,
) -> Generator[simpy.Event, None, None]:
    """Start when enough work waits, serve it at full capacity, stop when it is done."""
    data = cluster.data
    while env.now + hosting.batch_check_s < horizon_s:
        yield env.timeout(hosting.batch_check_s)
        data.advance(env.now)
        if not cluster.hosted and data.queued >= hosting.batch_start_queue:
            call = env.now
            yield env.timeout(hosting.start_delay_s)
            data.advance(env.now)
            billed_from = call if hosting.bill_starting else None
            cluster.start_model(units_at(env.now), billed_from=billed_from)
        elif cluster.hosted and not (data.queued or data.busy_slots or data.retrying):
            cluster.stop_model()


def unit_failures(
    env: simpy.Environment, cluster: Cluster, rng: np.random.Generator, mtbf_s: float
) -> None:
    """Give every unit that comes into service an exponential time to failure."""

    def fail_later(session: UnitSession) -> Generator[simpy.Event, None, None]:
        yield env.timeout(rng.exponential(mtbf_s))
        if cluster.is_active(session):
            cluster.fail_unit(session)

    cluster.on_unit_added = lambda session: env.process(fail_later(session))


def zone_outage(
    env: simpy.Environment, cluster: Cluster, outage: Outage
) -> Generator[simpy.Event, None, None]:
    """Take one zone down at ``start_h`` for ``duration_h``."""
    yield env.timeout(outage.start_h * 3600.0)
    yield from cluster.zone_outage(outage.zone, outage.duration_h * 3600.0)
