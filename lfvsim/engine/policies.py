"""Auto-scaling policies: how many inference units the model should have.

A policy is any object that satisfies :class:`Policy`. The engine calls ``decide`` every
``period_s`` seconds with the metrics of the period just ended and moves the model's
desired units to the answer, clamped to [Min, Max]. The oracle's first pass over the
traffic, which finds the units each minute needs, is :func:`oracle_needed_units`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from lfvsim.engine import kernel
from lfvsim.engine.traffic import TrafficBlocks
from lfvsim.scenario import Autoscaler, Scenario

__all__ = [
    "NoScaling",
    "Observation",
    "Oracle",
    "Policy",
    "TargetTracking",
    "make_policy",
    "oracle_needed_units",
]


@dataclass(frozen=True)
class Observation:
    """What a policy sees at an evaluation.

    Attributes
    ----------
    time_s : float
        Simulated time of the evaluation (s since the trace start).
    metric_percent : float
        The autoscaler metric over the period just ended (%).
    in_service : int
        Units serving requests now.
    mean_in_service : float
        Average units taking requests over the period just ended: the capacity the metric
        was measured against.
    desired : int
        Current DesiredInferenceUnits.
    pending : int
        Units being provisioned.
    min_units, max_units : int
        Bounds; ``max_units`` is ``min_units`` when auto-scaling is off.
    """

    time_s: float
    metric_percent: float
    in_service: int
    mean_in_service: float
    desired: int
    pending: int
    min_units: int
    max_units: int


class Policy(Protocol):
    """What the engine needs of an auto-scaling policy.

    Attributes
    ----------
    name : str
        Reported as the summary's ``policy``.
    provisioning_delay_s : float
        Seconds from a scale-out decision until the new units serve.
    period_s : int
        Seconds between evaluations; 0: never evaluated.
    """

    @property
    def name(self) -> str: ...

    @property
    def provisioning_delay_s(self) -> float: ...

    @property
    def period_s(self) -> int: ...

    def initial_units(self, min_units: int, time_s: float = 0.0) -> int:
        """Units to start the model with at ``time_s`` (StartModel)."""
        ...

    def decide(self, obs: Observation) -> int:
        """Desired units after an evaluation of the period just ended."""
        ...

    def reset(self) -> None:
        """Forget the evaluations so far (called while the model is not hosted)."""
        ...

    def breaching(self) -> bool:
        """Whether the last evaluation counted a datapoint towards a scale-out."""
        ...


class NoScaling:
    """MaxInferenceUnits unset: MinInferenceUnits all the time (documented behaviour)."""

    name = "none"
    provisioning_delay_s = 0.0
    period_s = 0  # never evaluated

    def initial_units(self, min_units: int, time_s: float = 0.0) -> int:
        return min_units

    def decide(self, obs: Observation) -> int:
        return obs.desired

    def reset(self) -> None:
        pass

    def breaching(self) -> bool:
        return False


@dataclass
class TargetTracking:
    """Target tracking as AWS Application Auto Scaling does it (an assumption for LfV).

    Scale out when ``scale_out_datapoints`` consecutive datapoints exceed the target, to
    ``ceil(units * metric / target)``; scale in when ``scale_in_datapoints`` consecutive
    datapoints are below ``scale_in_ratio * target``, to the same formula. ``units`` is
    the average in service over the period the metric was measured on, so a unit that
    arrives at the evaluation instant is not counted as if it had carried the load.
    Cooldowns keep two actions of the same direction apart.
    """

    config: Autoscaler
    name: str = "target_tracking"
    _above: int = field(default=0, init=False)
    _below: int = field(default=0, init=False)
    _last_out: float = field(default=-math.inf, init=False)
    _last_in: float = field(default=-math.inf, init=False)
    #: Most units wanted at an evaluation before capping at Max: once Max is at least this,
    #: a larger Max changes nothing in the run (what the Min/Max search prunes on).
    peak_wanted: int = field(default=0, init=False)

    @property
    def provisioning_delay_s(self) -> float:
        return self.config.provisioning_delay_s

    @property
    def period_s(self) -> int:
        return self.config.evaluation_period_s

    def initial_units(self, min_units: int, time_s: float = 0.0) -> int:
        return min_units

    def decide(self, obs: Observation) -> int:
        c = self.config
        metric = obs.metric_percent
        self._above = self._above + 1 if metric > c.target_percent else 0
        self._below = self._below + 1 if metric < c.scale_in_ratio * c.target_percent else 0
        # The small tolerance keeps 2.0000000001 units from becoming 3.
        wanted = math.ceil(obs.mean_in_service * metric / c.target_percent - 1e-9)
        wanted = max(wanted, obs.min_units)
        self.peak_wanted = max(self.peak_wanted, wanted)
        wanted = min(wanted, obs.max_units)
        if (
            self._above >= c.scale_out_datapoints
            and obs.time_s - self._last_out >= c.scale_out_cooldown_s
            and wanted > obs.desired
        ):
            self._last_out = obs.time_s
            return wanted
        if (
            self._below >= c.scale_in_datapoints
            and obs.time_s - self._last_in >= c.scale_in_cooldown_s
            and obs.pending == 0
            and wanted < obs.desired
        ):
            self._last_in = obs.time_s
            return wanted
        return obs.desired

    def reset(self) -> None:
        self._above = self._below = 0
        self._last_out = self._last_in = -math.inf

    def breaching(self) -> bool:
        # The alarm accumulates datapoints above target, or has fired and still does.
        return self._above > 0


@dataclass
class Oracle:
    """Perfect foresight and no provisioning delay: each minute, the fewest units that
    serve every request of that minute without throttling or waiting.

    With every request served at once, the number of requests in service at any time does
    not depend on the policy, so choosing per minute ``ceil(peak concurrency / slots)``
    units is the least that serves all traffic: a lower bound for the IU-hours of every
    policy that never throttles, under per-minute metering. With coarser metering
    (``metering_granularity_s`` above 60) changing units every minute costs a whole interval
    each time, and the oracle is no longer a bound; with service times over a minute,
    units draining after a scale-in can make it cost slightly more than a fixed fleet.

    Parameters
    ----------
    needed_units : ndarray
        Units needed in each minute, already clamped to [Min, Max].
    """

    needed_units: np.ndarray
    name: str = "oracle"
    provisioning_delay_s: float = 0.0
    period_s: int = 60

    def initial_units(self, min_units: int, time_s: float = 0.0) -> int:
        minute = int(time_s // 60)
        return int(self.needed_units[minute]) if minute < len(self.needed_units) else min_units

    def decide(self, obs: Observation) -> int:
        minute = int(obs.time_s // 60)
        if minute >= len(self.needed_units):
            return obs.desired
        return int(self.needed_units[minute])

    def reset(self) -> None:
        pass

    def breaching(self) -> bool:
        # Foresight: the oracle moves at once, it never waits on an alarm.
        return False


def oracle_needed_units(
    scenario: Scenario, minutes: int, blocks: TrafficBlocks
) -> npt.NDArray[np.int64]:
    """The oracle's first pass: the units each minute needs, clamped to [Min, Max].

    A pass over the run's own requests (``blocks``: the same arrivals and service times
    the run replays) finds each minute's peak concurrency with every request served at
    once.
    """
    peak = np.zeros(minutes, np.int64)
    if scenario.unit.throttling == "rate":
        # The rate model: each minute's requests over what one unit admits in a minute.
        for block, _ in blocks:
            np.add.at(peak, np.minimum((block // 60.0).astype(np.int64), minutes - 1), 1)
        rate_needed = np.ceil(peak / (60.0 * scenario.unit.rate_tps)).astype(np.int64)
        upper = scenario.model.max_units or np.iinfo(np.int64).max
        rate_clipped: npt.NDArray[np.int64] = np.clip(rate_needed, scenario.model.min_units, upper)
        return rate_clipped
    heap = np.empty(1024)
    st = np.zeros(2, np.int64)
    for block, services in blocks:
        done = 0
        while done < len(block):
            done += kernel.peak_concurrency(block[done:], services[done:], heap, st, peak)
            if st[1]:
                heap = np.concatenate([heap, np.empty(len(heap))])
                st[1] = 0
    needed = np.ceil(peak / scenario.unit.slots).astype(np.int64)
    upper = scenario.model.max_units or np.iinfo(np.int64).max
    clipped: npt.NDArray[np.int64] = np.clip(needed, scenario.model.min_units, upper)
    return clipped


def make_policy(
    scenario: Scenario, minutes: int, first_pass: Callable[[], TrafficBlocks]
) -> Policy:
    """The scenario's policy; the oracle's first pass reads the run's requests again.

    ``first_pass()`` returns a fresh iterator over the run's requests, called only for
    the oracle.
    """
    name = scenario.policy
    if name == "none":
        return NoScaling()
    if name == "target_tracking":
        return TargetTracking(scenario.autoscaler)
    return Oracle(oracle_needed_units(scenario, minutes, first_pass()))
