"""The traffic of a run: its arrival times and service times, drawn from the run's seed.

A run's requests depend only on the trace, the seed, the horizon and the unit's latency
distribution, never on Min, Max, the policy or the hosting mode (common random numbers).
So every configuration of a replication can replay one :class:`Traffic`, drawn once, and
get exactly the results it would get drawing its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from lfvsim.scenario import Scenario, Unit
from lfvsim.traces import Trace

__all__ = [
    "DEFAULT_TRAFFIC_BUDGET_BYTES",
    "Traffic",
    "TrafficBlocks",
    "draw_traffic",
    "horizon_of",
    "prefetched",
    "run_streams",
    "service_sampler",
    "traffic_blocks",
]

#: Blocks of a run's requests: (sorted arrival times in s, service times in s) pairs.
TrafficBlocks = Iterator[tuple[np.ndarray, np.ndarray]]

DEFAULT_TRAFFIC_BUDGET_BYTES = 1 << 30
"""Largest traffic :func:`draw_traffic` keeps in memory: 1 GiB, about 67 M requests."""

_BYTES_PER_REQUEST = 16  # one float64 arrival and one float64 service time


def service_sampler(unit: Unit) -> Callable[[np.random.Generator, int], np.ndarray]:
    """A function drawing ``n`` service times (s) from the unit's latency distribution."""
    if unit.latency_distribution == "constant":
        mean = unit.latency_mean_s
        return lambda rng, n: np.full(n, mean)
    if unit.latency_distribution == "exponential":
        return partial(_exponential, unit.latency_mean_s)
    # numpy's lognormal is exp(mu + sigma * z) with the C library's exp; a compiled loop
    # would have to call that same exp (never a vectorised one) to stay bit-identical, for
    # a few ns of the ~25 a value costs, so it stays numpy's.
    mu, sigma = unit.lognormal_params()
    return lambda rng, n: rng.lognormal(mu, sigma, n)


def _exponential(mean_s: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """``rng.exponential(mean_s, n)`` to the bit (numpy computes ``mean_s * E`` from the
    same standard exponentials ``E``), without its per-value call overhead."""
    out = rng.standard_exponential(n)
    out *= mean_s
    return out


def _service_key(unit: Unit) -> tuple[object, ...]:
    """What the service times depend on: the distribution and its parameters."""
    if unit.latency_distribution in ("constant", "exponential"):
        return (unit.latency_distribution, unit.latency_mean_s)
    return (unit.latency_distribution, *unit.lognormal_params())


def horizon_of(scenario: Scenario, trace: Trace) -> float:
    """Simulated seconds: the trace's length, cut at ``simulation.horizon_h`` if set."""
    horizon_s = trace.duration_s
    if scenario.simulation.horizon_h is not None:
        horizon_s = min(horizon_s, scenario.simulation.horizon_h * 3600.0)
    return float(horizon_s)


def run_streams(seed: int) -> list[np.random.Generator]:
    """The run's four streams by child index: arrivals, service times, failures, jitter."""
    return [np.random.default_rng(c) for c in np.random.SeedSequence(seed).spawn(4)]


def traffic_blocks(trace: Trace, unit: Unit, seed: int, horizon_s: float) -> TrafficBlocks:
    """Draw a run's requests block by block, as :func:`lfvsim.simulate` replays them.

    Service times are drawn per block in arrival order, so the same request gets the
    same service time in every configuration.
    """
    arrival_rng, service_rng = run_streams(seed)[:2]
    sample = service_sampler(unit)
    for block in trace.blocks(arrival_rng, horizon_s):
        yield block, sample(service_rng, len(block))


def prefetched(blocks: TrafficBlocks) -> TrafficBlocks:
    """The same blocks, each drawn on a second thread while the caller serves the one before.

    Only that thread advances ``blocks`` (and so the random streams), one block after
    another, so every block is exactly what iterating ``blocks`` directly gives. Drawing
    overlaps serving only where the caller's work releases the interpreter lock (the
    compiled kernels do, and so do numpy's bulk draws). One block more is held in memory.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="lfvsim-draw") as drawer:
        ahead = drawer.submit(next, blocks, None)
        while (block := ahead.result()) is not None:
            ahead = drawer.submit(next, blocks, None)
            yield block


@dataclass(frozen=True, eq=False)
class Traffic:
    """One run's requests, drawn once and replayed by every configuration that shares them.

    Attributes
    ----------
    trace : Trace
        The trace drawn from (matched by identity).
    seed : int
        The run seed.
    horizon_s : float
        Simulated seconds.
    service_key : tuple
        The latency distribution and its parameters.
    arrivals, services : tuple of ndarray
        Arrival and service times (s), block by block as the trace yields them. Runs only
        read them.
    """

    trace: Trace
    seed: int
    horizon_s: float
    service_key: tuple[object, ...]
    arrivals: tuple[np.ndarray, ...]
    services: tuple[np.ndarray, ...]

    @property
    def requests(self) -> int:
        """Number of requests."""
        return sum(len(a) for a in self.arrivals)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return sum(a.nbytes for a in self.arrivals) + sum(s.nbytes for s in self.services)

    def blocks(self) -> TrafficBlocks:
        """The blocks again, as :func:`traffic_blocks` drew them."""
        return zip(self.arrivals, self.services, strict=True)

    def fits(self, scenario: Scenario, trace: Trace, seed: int) -> bool:
        """Whether a run of ``scenario`` on ``trace`` with ``seed`` draws exactly this."""
        return (
            trace is self.trace
            and seed == self.seed
            and horizon_of(scenario, trace) == self.horizon_s
            and _service_key(scenario.unit) == self.service_key
        )


def draw_traffic(
    scenario: Scenario,
    trace: Trace,
    seed: int,
    budget_bytes: int = DEFAULT_TRAFFIC_BUDGET_BYTES,
) -> Traffic | None:
    """Draw a run's requests once, to share; None when they would exceed the budget.

    Parameters
    ----------
    scenario : Scenario
        Gives the horizon and the latency distribution (Min, Max and the policy do not
        matter).
    trace : Trace
        The traffic to draw from.
    seed : int
        The run seed.
    budget_bytes : int
        Most memory to hold (16 bytes a request). A trace expected to exceed it, or that
        does while drawn, is not kept: each run then draws its own, with the same result.

    Returns
    -------
    Traffic or None
    """
    if trace.expected_requests * _BYTES_PER_REQUEST > budget_bytes:
        return None
    horizon_s = horizon_of(scenario, trace)
    arrivals: list[np.ndarray] = []
    services: list[np.ndarray] = []
    held = 0
    for block, service in traffic_blocks(trace, scenario.unit, seed, horizon_s):
        held += block.nbytes + service.nbytes
        if held > budget_bytes:  # a random count above the expectation
            return None
        arrivals.append(block)
        services.append(service)
    return Traffic(
        trace,
        seed,
        horizon_s,
        _service_key(scenario.unit),
        tuple(arrivals),
        tuple(services),
    )
