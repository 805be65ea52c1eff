"""Headroom: how much more traffic a configuration absorbs before its SLO breaks.

The traffic is scaled by a factor and the configuration re-run with the same seeds (common
random numbers), so the SLO verdict changes with the factor, not with fresh noise. The
factor where it breaks is found by doubling, then bisection; it is approximate: a
resolution of a few percent, and the verdict at each factor is itself a confidence bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lfvsim.errors import InputError
from lfvsim.experiments.recommend import Slo, best_cost
from lfvsim.experiments.sweep import sweep
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace
from lfvsim.traces.transforms import scale

__all__ = ["Headroom", "growth_factor", "headroom", "throttle_at"]

#: Largest traffic factor tried; past it the headroom is reported as "at least".
MAX_FACTOR = 8.0


def growth_factor(percent_per_month: float, months: float, busier_day: float = 1.0) -> float:
    """Traffic at the end of the horizon over today's: ``(1 + g/100) ** months x busier``."""
    if not (percent_per_month > -100 and math.isfinite(percent_per_month)):
        raise InputError(f"--growth {percent_per_month}: give a finite percentage above -100")
    if not (months >= 0 and math.isfinite(months)):
        raise InputError(f"--months {months}: give a finite number of months, 0 or more")
    if not (busier_day >= 1 and math.isfinite(busier_day)):
        # Below 1 the day is quieter, yet the outlook would still call it busier.
        raise InputError(
            f"--busier-day {busier_day:g}: give a factor of 1 or more, e.g. 1.25 for a day a "
            "quarter busier; for less traffic give --growth below 0 with --months"
        )
    try:
        factor = (1 + percent_per_month / 100.0) ** months * busier_day
    except OverflowError:
        factor = math.inf
    if not math.isfinite(factor):
        raise InputError(
            f"--growth {percent_per_month:g} over --months {months:g} multiplies the traffic "
            "past any number; give a smaller growth or fewer months"
        )
    return float(factor)


@dataclass(frozen=True)
class Headroom:
    """How far traffic can grow before the SLO breaks.

    Attributes
    ----------
    factor : float
        Largest traffic factor found to meet the SLO (a lower estimate, within
        ``resolution``); ``MAX_FACTOR`` with ``at_least`` when it never broke.
    at_least : bool
        The SLO still held at the largest factor tried.
    resolution : float
        Relative width of the final bisection bracket.
    breaks_at : float or None
        The smallest factor tried at which the SLO failed (None: it never did).
    """

    factor: float
    at_least: bool
    resolution: float
    breaks_at: float | None = None

    def months(self, percent_per_month: float) -> float:
        """Months of compound growth at ``percent_per_month`` that the factor absorbs."""
        if percent_per_month <= 0:
            return math.inf
        return math.log(self.factor) / math.log1p(percent_per_month / 100.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "traffic_factor": self.factor,
            "at_least": self.at_least,
            "resolution": self.resolution,
            "breaks_at": self.breaks_at,
        }


def _runs(
    scenario: Scenario,
    trace: Trace,
    config: tuple[int, int | None],
    factor: float,
    replications: int,
    seed: int,
    **kwargs: Any,
) -> pd.DataFrame:
    lo, hi = config
    return sweep(
        scenario,
        min_units=[lo],
        max_units=[hi or lo],
        replications=replications,
        seed=seed,
        trace=scale(trace, factor),
        only=[(lo, hi, False)],
        **kwargs,
    )


def throttle_at(
    scenario: Scenario,
    trace: Trace,
    config: tuple[int, int | None],
    factor: float,
    replications: int,
    seed: int,
    **kwargs: Any,
) -> float:
    """Mean throttle rate of ``config`` with the traffic times ``factor`` (same seeds)."""
    table = _runs(scenario, trace, config, factor, replications, seed, **kwargs)
    return float(table["throttle_rate"].mean())


def headroom(
    scenario: Scenario,
    trace: Trace,
    config: tuple[int, int | None],
    slo: Slo,
    replications: int,
    seed: int,
    *,
    resolution: float = 0.05,
    **kwargs: Any,
) -> Headroom:
    """The largest traffic factor at which ``config`` still meets ``slo``.

    Parameters
    ----------
    scenario, trace : Scenario, Trace
        The scenario and the traffic the factor multiplies.
    config : (int, int or None)
        (Min, Max); Max None: no auto-scaling.
    slo : Slo
        The SLO, held by upper confidence bounds as in :func:`recommend`.
    replications, seed : int
        As in the search, so factor 1 repeats its runs.
    resolution : float
        Stop bisecting when the bracket is narrower than this, relatively.
    **kwargs
        ``workers``, ``dask``: passed to :func:`lfvsim.experiments.sweep`.
    """

    kwargs.setdefault("minute_percentile", slo.minute_percentile)

    def meets(factor: float) -> bool:
        table = _runs(scenario, trace, config, factor, replications, seed, **kwargs)
        return best_cost(table, slo) is not None

    if not meets(1.0):
        return Headroom(0.0, False, resolution, 1.0)
    good, bad = 1.0, None
    while bad is None:
        trial = min(2 * good, MAX_FACTOR) if good >= 1.25 else 1.25
        if meets(trial):
            good = trial
            if good >= MAX_FACTOR:
                return Headroom(good, True, resolution)
        else:
            bad = trial
    while bad / good - 1 > resolution:
        mid = math.sqrt(good * bad)
        if meets(mid):
            good = mid
        else:
            bad = mid
    return Headroom(good, False, resolution, bad)
