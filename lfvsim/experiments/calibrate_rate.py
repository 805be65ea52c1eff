"""Simulation-based fit of the rate model's token bucket (rate and burst per unit).

No closed form gives the share a token bucket throttles minute by minute, so the history's
offered load (``SuccessfulRequestCount + ThrottledCount``) is replayed through the bucket
(:func:`lfvsim.engine.kernel.bucket_replay`) with the units in service each minute, and
the rate and burst that make the observed ``ThrottledCount`` most likely are found with
:func:`scipy.optimize.minimize` (Nelder-Mead on their logarithms). Arrivals inside a
minute are Poisson given the minute's count (uniform order statistics), drawn once from
fixed seeds and reused for every candidate (common random numbers), so the objective is a
deterministic function of the parameters and the optimiser compares like with like.

The likelihood treats each minute's throttled count as binomial, with the share averaged
over the replicates. Throttles inside a minute are not independent (an empty bucket refuses
a run of requests), so the counts vary more than binomial: the intervals are profile
likelihood intervals widened by the dispersion the fit finds (quasi-likelihood, about
95 %, approximate). The same binomial likelihood of the slots model (Erlang's loss
formula) makes the two structures comparable by AIC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq, minimize, minimize_scalar

from lfvsim.engine.kernel import bucket_replay
from lfvsim.experiments.calibrate import Estimate
from lfvsim.traces.metric_history import MetricHistory

__all__ = ["REPLICATES", "BucketFit", "Replay", "fit_bucket", "replay_of"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_TOL = 1e-6
#: Replicates of the arrivals inside each minute (common random numbers, fixed seeds).
REPLICATES = 4
#: Half the 95 % chi-square quantile with one degree of freedom: the likelihood-ratio bound.
_LR_BOUND = 1.92
_SEED = 20_260_105
#: Parameters searched within these bounds (requests/s per unit, requests per unit).
RATE_RANGE = (1e-3, 1e5)
BURST_RANGE = (1.0, 1e6)


@dataclass(frozen=True)
class Replay:
    """What the fit replays: the history's minutes in order, and which ones it scores.

    ``units`` is the whole number of units in service each minute (0 when not hosted);
    ``scored`` marks the minutes the likelihood counts (hosted, no gap, whole units all
    minute, something offered), the same minutes the slots model is scored on.
    """

    offered: IntArray
    throttled: IntArray
    units: IntArray
    scored: npt.NDArray[np.bool_]

    @property
    def served(self) -> IntArray:
        """Requests served per minute."""
        return self.offered - self.throttled


@dataclass(frozen=True)
class BucketFit:
    """The fitted bucket and how well it fits."""

    rate: Estimate
    burst: Estimate
    log_likelihood: float
    dispersion: float
    evaluations: int


def replay_of(history: MetricHistory) -> Replay | str:
    """The minutes to replay, or why the history cannot give them."""
    frame = history.frame
    need = ("SuccessfulRequestCount", "ThrottledCount", "InServiceInferenceUnits")
    missing = [m for m in need if m not in frame]
    if missing:
        return f"the history has no {missing[0]}"
    usable = frame["hosted"].fillna(True).to_numpy(bool) & ~frame["gap"].to_numpy(bool)
    served = np.nan_to_num(frame["SuccessfulRequestCount"].to_numpy(float))
    throttled = np.nan_to_num(frame["ThrottledCount"].to_numpy(float))
    raw_units = np.nan_to_num(frame["InServiceInferenceUnits"].to_numpy(float))
    whole = (raw_units >= 1 - _TOL) & (np.abs(raw_units - np.round(raw_units)) <= _TOL)
    offered = np.round(np.where(usable, served + throttled, 0.0)).astype(np.int64)
    scored = usable & whole & (offered > 0)
    units = np.where(usable, np.round(raw_units), 0.0).astype(np.int64)
    return Replay(offered, np.round(np.where(usable, throttled, 0.0)).astype(np.int64), units, scored)


def fit_bucket(replay: Replay) -> BucketFit:
    """Rate and burst per unit that make the history's throttling most likely.

    A history never throttled in a scored minute informs neither: each is reported
    uninformed, with the bound the data gives (the bucket admitted the busiest minute).
    """
    served = replay.served[replay.scored]
    units = replay.units[replay.scored]
    throttled = replay.throttled[replay.scored]
    per_unit_rps = served / (60.0 * np.maximum(units, 1))
    floor_rps = float(per_unit_rps.max()) if len(per_unit_rps) else 0.0
    if throttled.sum() <= 0:
        why = (
            f"nothing was ever throttled: a unit admitted up to {floor_rps:.3g} requests/s "
            f"over a minute, so rate_tps + burst / 60 is at least that; the assumption stays"
        )
        return BucketFit(
            Estimate("unit.rate_tps", False, None, None, None, 0, why),
            Estimate("unit.burst", False, None, None, None, 0, why),
            math.nan,
            math.nan,
            0,
        )
    objective = _Objective(replay)
    x0 = _start(replay)
    found = minimize(
        objective.negative_log_likelihood,
        x0,
        method="Nelder-Mead",
        options={"xatol": 2e-3, "fatol": 1e-3, "maxfev": 200, "initial_simplex": _simplex(x0)},
    )
    best = np.asarray(found.x, float)
    best_nll = float(found.fun)
    dispersion = objective.dispersion(best)
    bound = _LR_BOUND * dispersion
    minutes = int((throttled > 0).sum())
    method = (
        f"token bucket replayed on the history's offered load ({REPLICATES} common-random-"
        f"number replicates, Poisson inside a minute), fitted to {minutes} throttled minutes "
        f"of {len(throttled)}; interval: profile likelihood x dispersion {dispersion:.3g} "
        "(about 95 %, approximate)"
    )
    estimates = []
    for index, (name, bounds) in enumerate(
        (("unit.rate_tps", RATE_RANGE), ("unit.burst", BURST_RANGE))
    ):
        low, high = _profile_interval(objective, best, best_nll, index, bound, bounds)
        value = math.exp(best[index])
        # An interval reaching the search's end: the history bounds the value on one side.
        # A burst of one request (the least there is) is a value, not the search's end.
        informed = (index == 1 or low > 1.001 * bounds[0]) and high < 0.999 * bounds[1]
        detail = method if informed else f"the history bounds it only: {method}"
        estimates.append(
            Estimate(name, informed, value if informed else None, low, high, minutes, detail)
        )
    return BucketFit(estimates[0], estimates[1], -best_nll, dispersion, objective.calls)


class _Objective:
    """Negative binomial log-likelihood of the scored minutes' throttles, CRN replay."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.calls = 0
        counts = replay.offered
        self.first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        minute_of = np.repeat(np.arange(len(counts), dtype=np.float64), counts)
        self.arrivals = []
        for r in range(REPLICATES):
            rng = np.random.default_rng([_SEED, r])
            inside = rng.random(int(self.first[-1])) * 60.0
            # Sorted inside each minute: minute index first, then the offset.
            order = np.lexsort((inside, minute_of))
            self.arrivals.append(minute_of * 60.0 + inside[order])
        self.out = np.zeros(len(counts), np.int64)
        scored = replay.scored
        self.n = replay.offered[scored].astype(float)
        self.k = replay.throttled[scored].astype(float)
        self.cache: dict[tuple[float, float], FloatArray] = {}

    def share(self, x: FloatArray) -> FloatArray:
        """Simulated throttled share of each scored minute at ``x`` = log(rate, burst)."""
        key = (round(float(x[0]), 9), round(float(x[1]), 9))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        rate, burst = self._params(x)
        total = np.zeros(len(self.replay.offered))
        for arrivals in self.arrivals:
            bucket_replay(arrivals, self.first, self.replay.units, rate, burst, self.out)
            total += self.out
        self.calls += 1
        mean = total[self.replay.scored] / REPLICATES
        # Half a request either way keeps a share the replay never saw off 0 and 1.
        p = (mean + 0.5) / (self.n + 1.0)
        self.cache[key] = p
        return p

    def negative_log_likelihood(self, x: FloatArray) -> float:
        """The objective the optimiser minimises."""
        p = self.share(np.asarray(x, float))
        return -float((self.k * np.log(p) + (self.n - self.k) * np.log1p(-p)).sum())

    def dispersion(self, x: FloatArray) -> float:
        """Pearson chi-square per degree of freedom at ``x``, at least 1."""
        p = self.share(x)
        informative = (p > 1e-3) | (self.k > 0)
        resid = (self.k - self.n * p) ** 2 / (self.n * p * (1 - p))
        dof = max(int(informative.sum()) - 2, 1)
        return max(float(resid[informative].sum()) / dof, 1.0)

    @staticmethod
    def _params(x: FloatArray) -> tuple[float, float]:
        rate = min(max(math.exp(x[0]), RATE_RANGE[0]), RATE_RANGE[1])
        burst = min(max(math.exp(x[1]), BURST_RANGE[0]), BURST_RANGE[1])
        return rate, burst


def _start(replay: Replay) -> FloatArray:
    """A starting point: the per-unit rate served in throttled minutes, one second's burst."""
    hot = replay.scored & (replay.throttled > 0)
    served = replay.served[hot] / (60.0 * replay.units[hot])
    rate = float(np.median(served)) if len(served) else 1.0
    return np.log(np.array([max(rate, 0.01), max(rate, 1.0)]))


def _simplex(x0: FloatArray) -> FloatArray:
    return np.array([x0, x0 + [0.1, 0.0], x0 + [0.0, 0.5]])


def _profile_interval(
    objective: _Objective,
    best: FloatArray,
    best_nll: float,
    index: int,
    bound: float,
    bounds: tuple[float, float],
) -> tuple[float, float]:
    """Where the profile negative log-likelihood rises ``bound`` above the optimum."""
    other = 1 - index
    lo_other, hi_other = (math.log(b) for b in (BURST_RANGE if other == 1 else RATE_RANGE))

    def profile(v: float) -> float:
        def nll(w: float) -> float:
            x = np.empty(2)
            x[index], x[other] = v, w
            return objective.negative_log_likelihood(x)

        centre = best[other]
        found = minimize_scalar(
            nll,
            bounds=(max(centre - 3.0, lo_other), min(centre + 3.0, hi_other)),
            method="bounded",
            options={"xatol": 0.02},
        )
        return float(min(found.fun, nll(centre))) - best_nll - bound

    edges = []
    for direction, limit in ((-1.0, math.log(bounds[0])), (1.0, math.log(bounds[1]))):
        step = 0.05
        inner = best[index]
        outer = inner + direction * step
        # Walk out, doubling the step, until the profile crosses the bound.
        while profile(outer) < 0:
            inner = outer
            step *= 2.0
            outer = inner + direction * step
            if (outer - limit) * direction >= 0:
                outer = limit
                break
        if (outer - limit) * direction >= 0 and profile(outer) < 0:
            edges.append(limit)
            continue
        edges.append(brentq(profile, inner, outer, xtol=0.005) if inner != outer else outer)
    return math.exp(min(edges)), math.exp(max(edges))
