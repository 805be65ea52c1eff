"""Sequential replications: stop a configuration once its SLO verdict is clear.

A recommendation runs every configuration ``n`` times and keeps those whose one-sided
upper confidence bounds meet the SLO (:mod:`lfvsim.experiments.recommend`). Most
configurations are far from the targets: a Max that is too small throttles far more than
allowed after three replications already. The sequential rule looks at a configuration
after ``3``, ``5``, then ``10, 20, 40, ...`` replications (each below ``n``), and at ``n``:

- **clearly passes** at an interim look when every target's upper bound, at the stricter
  level ``1 - e / J``, meets the target;
- **clearly fails** at an interim look when some target's *lower* bound, at level
  ``1 - e / (J m)``, is above the target;
- otherwise it runs on; at the last look (``n`` replications) the usual rule decides.

``J`` is the number of interim looks, ``m`` the number of targets in the SLO (throttle
rate, and whichever of p99 latency, worst hour and minute percentile are given), and
``e = (1 - confidence) / 5`` the error spent at interim looks (0.01 at 95%). The bounds are
the Student t bounds of :mod:`lfvsim.experiments.stats` (the zero-event Poisson bound for
a throttle rate that never throttled), so by Bonferroni over the looks and targets:

- a configuration with some target's true mean at or above it is declared passing at an
  interim look with probability at most ``e``;
- a configuration with every true mean at or below its target is declared failing at an
  interim look with probability at most ``e``.

Both hold exactly for normally distributed replication values and approximately
otherwise. A configuration that runs to ``n`` replications is judged exactly as without
sequential stopping, so the recommendation differs from the full grid's only when an
interim verdict is wrong in this sense or the full grid's own verdict, on ``n``
replications, is.

A configuration that clearly passes is a candidate: its cost decides the recommendation.
Every passing configuration that is not clearly more expensive than the cheapest passing
one (paired over the replications both ran, lower bound of the cost difference above zero
at level ``1 - e``) is run on to ``n`` replications, so the configurations the choice is
made among have all ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from lfvsim.experiments.stats import t_quantile

__all__ = [
    "INTERIM_ERROR_SHARE",
    "SequentialRule",
    "clearly_dearer",
    "interim_looks",
    "sequential_rule",
    "verdict",
]

#: Share of the SLO's own error (1 - confidence) spent on the interim looks.
INTERIM_ERROR_SHARE = 0.2

Verdict = Literal["pass", "fail"]


def interim_looks(replications: int) -> tuple[int, ...]:
    """Replication counts of the interim looks for ``replications`` in all.

    ``3``, ``5``, then ``10, 20, 40, ...``, each strictly below ``replications``: none for 3
    replications or fewer.
    """
    looks: list[int] = []
    k = 3
    while k < replications:
        looks.append(k)
        k = 5 if k == 3 else 2 * k
    return tuple(looks)


@dataclass(frozen=True)
class SequentialRule:
    """The stopping rule for one SLO and ``replications`` replications in all.

    Attributes
    ----------
    replications : int
        Replications of a configuration that runs to the end (the full grid's).
    max_throttle_rate : float
        Target for the whole-run throttle rate.
    max_p99_latency_s, max_worst_hour_rate, max_minute_rate : float or None
        The other targets, when given.
    minute_column : str
        The sweep column ``max_minute_rate`` holds (the SLO's per-minute percentile).
    confidence : float
        The SLO's confidence; the interim looks spend ``(1 - confidence) / 5`` in each
        direction.
    """

    replications: int
    max_throttle_rate: float
    confidence: float = 0.95
    max_p99_latency_s: float | None = None
    max_worst_hour_rate: float | None = None
    max_minute_rate: float | None = None
    minute_column: str = "throttle_rate_minute_p99"

    @property
    def looks(self) -> tuple[int, ...]:
        """Replication counts of the interim looks."""
        return interim_looks(self.replications)

    @property
    def interim_error(self) -> float:
        """Error spent at the interim looks, in each direction (``e``)."""
        return INTERIM_ERROR_SHARE * (1.0 - self.confidence)

    @property
    def targets(self) -> dict[str, float]:
        """Column of a sweep table -> target, for every target the SLO gives."""
        out = {"throttle_rate": self.max_throttle_rate}
        for column, value in (
            ("latency_p99_s", self.max_p99_latency_s),
            ("throttle_rate_worst_hour", self.max_worst_hour_rate),
            (self.minute_column, self.max_minute_rate),
        ):
            if value is not None:
                out[column] = value
        return out

    def next_look(self, done: int) -> int:
        """How many replications to have after ``done``: the next look, or all."""
        return next((k for k in self.looks if k > done), self.replications)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready account of the rule."""
        return {
            "looks": [*self.looks, self.replications],
            "interim_error": self.interim_error,
        }


def sequential_rule(slo: Any, replications: int) -> SequentialRule:
    """The rule for an :class:`lfvsim.experiments.recommend.Slo` and ``replications``."""
    return SequentialRule(
        replications=replications,
        max_throttle_rate=slo.max_throttle_rate,
        confidence=slo.confidence,
        max_p99_latency_s=slo.max_p99_latency_s,
        max_worst_hour_rate=slo.max_worst_hour_rate,
        max_minute_rate=slo.max_minute_rate,
        minute_column=_minute_column(getattr(slo, "minute_percentile", 99.0)),
    )


def _minute_column(percentile: float) -> str:
    """The per-minute throttle column of a sweep for the SLO's percentile."""
    return "throttle_rate_minute_p99" if percentile == 99.0 else "throttle_rate_minute_percentile"


def verdict(runs: pd.DataFrame, rule: SequentialRule) -> Verdict | None:
    """The interim verdict on one configuration's replications so far, or None (run on).

    Parameters
    ----------
    runs : pandas.DataFrame
        Its rows of a sweep table (one per replication run).
    rule : SequentialRule

    Returns
    -------
    "pass", "fail" or None
        None also at the last look (``rule.replications`` runs or more), which the usual
        rule decides, and before the first interim look.
    """
    n = len(runs)
    if n >= rule.replications or n not in rule.looks:
        return None
    looks = len(rule.looks)
    targets = rule.targets
    fail_level = 1.0 - rule.interim_error / (looks * len(targets))
    pass_level = 1.0 - rule.interim_error / looks
    passes = True
    for column, target in targets.items():
        if column not in runs:
            return None
        values = runs[column].to_numpy(dtype=float)
        if column == "throttle_rate" and float(runs["throttled"].sum()) == 0:
            # Nothing throttled: the one-sided zero-event bound, and no lower bound above 0.
            upper = -math.log(1.0 - pass_level) / max(float(runs["requests"].sum()), 1.0)
            lower = 0.0
        else:
            lower = _bound(values, fail_level, -1.0)
            upper = _bound(values, pass_level, +1.0)
        if lower > target:
            return "fail"
        passes &= upper <= target
    return "pass" if passes else None


def clearly_dearer(
    costs: Sequence[float] | np.ndarray,
    cheapest_costs: Sequence[float] | np.ndarray,
    rule: SequentialRule,
) -> bool:
    """A configuration costs more than the cheapest passing one, beyond doubt.

    Paired by replication (common random numbers: the same traffic in both): the lower
    bound, at level ``1 - e``, of the mean of ``costs - cheapest_costs`` is above zero.
    Both sequences are over the same replications.
    """
    d = np.asarray(costs, dtype=float) - np.asarray(cheapest_costs, dtype=float)
    if len(d) < 2:
        return False
    return _bound(d, 1.0 - rule.interim_error, -1.0) > 0.0


def _bound(values: np.ndarray, level: float, side: float) -> float:
    """One-sided Student t bound of the mean at ``level``: upper (side +1) or lower (-1)."""
    n = len(values)
    if n < 2:
        return side * math.inf
    mean = float(values.mean())
    if not math.isfinite(mean):
        return math.nan
    half = t_quantile(level, n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean + side * half
