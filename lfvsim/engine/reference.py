"""A plain per-request SimPy model: the reference the engine is tested and timed against.

One SimPy process per request on a ``simpy.Resource`` with a fixed number of slots. It is
slow (tens of thousands of requests per second) and knows no auto-scaling; it exists to
show that the batched engine gives the same outcome request by request.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

__all__ = ["ReferenceOutcome", "simulate_reference"]


@dataclass(frozen=True)
class ReferenceOutcome:
    """Per-request outcome: ``start_s`` is NaN for throttled requests."""

    start_s: np.ndarray
    throttled: np.ndarray

    @property
    def served(self) -> int:
        return int((~self.throttled).sum())


def simulate_reference(
    arrivals_s: np.ndarray,
    services_s: np.ndarray,
    slots: int,
    queue_limit: int | None = 0,
) -> ReferenceOutcome:
    """Serve requests on ``slots`` slots, one SimPy process each.

    Parameters
    ----------
    arrivals_s, services_s : ndarray
        Sorted arrival times and service times (s).
    slots : int
        Concurrent requests served.
    queue_limit : int or None
        Requests allowed to wait: 0 throttles at once, None waits without limit.
    """
    env = simpy.Environment()
    resource = simpy.Resource(env, capacity=slots)
    n = len(arrivals_s)
    start = np.full(n, np.nan)
    throttled = np.zeros(n, dtype=bool)

    def request(i: int) -> Generator[simpy.Event, None, None]:
        with resource.request() as req:
            yield req
            start[i] = env.now
            yield env.timeout(services_s[i])

    def source() -> Generator[simpy.Event, None, None]:
        for i in range(n):
            delay = arrivals_s[i] - env.now
            if delay > 0:
                yield env.timeout(delay)
            busy = resource.count >= slots
            if busy and queue_limit is not None and len(resource.queue) >= queue_limit:
                throttled[i] = True
                continue
            env.process(request(i))

    env.process(source())
    env.run()
    return ReferenceOutcome(start_s=start, throttled=throttled)
