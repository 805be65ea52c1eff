"""Auto-scaling policies: how many inference units the model should have.

A policy is any object with ``name``, ``provisioning_delay_s``, ``period_s``,
``initial_units(min_units, time_s)`` (units when the model starts at ``time_s``),
``decide(obs) -> int`` and ``reset()`` (called while the
model is not hosted). The engine calls ``decide`` every
``period_s`` seconds with the metrics of the period just ended and moves the model's
desired units to the answer, clamped to [Min, Max].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lfvsim.scenario import Autoscaler

__all__ = ["NoScaling", "Observation", "Oracle", "TargetTracking"]


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
        wanted = min(max(wanted, obs.min_units), obs.max_units)
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
