"""Simulation-based fit of the rate model's token bucket (rate and burst per unit).

No closed form gives the share a token bucket throttles minute by minute, so the history's
offered load (``SuccessfulRequestCount + ThrottledCount``) is replayed through the bucket
(:func:`lfvsim.engine.kernel.bucket_replay`) with the units in service each minute, and
the rate and burst that make the observed ``ThrottledCount`` most likely are found with
:func:`scipy.optimize.minimize` (Nelder-Mead on their logarithms). Arrivals inside a
minute are Poisson given the minute's count (uniform order statistics), drawn once from
fixed seeds and reused for every candidate (common random numbers), so the objective is a
deterministic function of the parameters and the optimiser compares like with like. The
replicates are placed and replayed on threads, one per core (the same counts as one after
another: :func:`lfvsim.engine.loss_replay.summed_replicates`).

The scored minutes are pooled by load per unit in service (:data:`BINS` bins, fixed by the
history alone, finer where it throttled): a minute's own simulated count is too noisy to
score a rare throttle against, a bin's is not. Each bin's throttled count is treated as
binomial with the share the replicates give. Throttles are not independent (an empty
bucket refuses a run of requests), so the counts vary more than binomial: the intervals
are approximate profile likelihood intervals widened by the dispersion the fit finds
(quasi-likelihood, about 95 %). The same pooled likelihood of the slots model (Erlang's
loss formula per minute) makes the two structures comparable by AIC
(:mod:`lfvsim.experiments.calibrate_structure`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq, minimize

from lfvsim.budget import Estimate as Work
from lfvsim.engine.loss_replay import bucket_replay_nogil, per_replicate, summed_replicates
from lfvsim.engine.minute_arrivals import poisson_offsets
from lfvsim.experiments.calibrate import Estimate
from lfvsim.traces.metric_history import MetricHistory

__all__ = [
    "BINS",
    "REPLICATES",
    "BucketFit",
    "Replay",
    "fit_bucket",
    "fit_work",
    "minute_dispersion",
    "pooled_log_likelihood",
    "replay_of",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_TOL = 1e-6
#: Bins of load per unit the scored minutes are pooled in (at most).
BINS = 48
#: Most replicates of the arrivals inside each minute (common random numbers, fixed
#: seeds); a short history gets more, for a Monte Carlo error small beside its own.
REPLICATES = 8
#: Requests one evaluation replays, over all replicates, where the history allows.
REPLAYED_REQUESTS = 4_000_000
#: Half the 95 % chi-square quantile with one degree of freedom: the likelihood-ratio bound.
_LR_BOUND = 1.92
#: Memory per request of the history while the arrivals are drawn (minute index, keys and
#: sort buffer: 8 B each) and per request per replicate kept (an offset: 4 B).
_BYTES_PER_REQUEST = 24
_BYTES_PER_REPLICATE_REQUEST = 4
#: Replays of the whole history one fit makes at most (starts, the search, the profiles).
_REPLAYS_PER_FIT = 250
#: Time per request replayed through the bucket (about 10 ns compiled), with room.
_SECONDS_PER_REPLAYED_REQUEST = 2e-8
_SEED = 20_260_105
#: Pseudo-count of throttles (and of admissions) in each minute's simulated share.
_PSEUDO = 0.02
#: Bursts (per unit) tried before the search starts: the likelihood can have more than
#: one hollow, and Nelder-Mead finds the nearest.
_BURST_STARTS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
#: Step (in logarithms) of the finite differences that find the likelihood's ridge.
_HESSIAN_STEP = 0.03
#: Parameters searched within these bounds (requests/s per unit, requests per unit).
RATE_RANGE = (1e-3, 1e5)
BURST_RANGE = (1.0, 1e6)


@dataclass(frozen=True)
class Replay:
    """What the fit replays: the history's minutes in order, and which ones it scores.

    ``units`` is the whole number of units in service at each minute's start (0 when not
    hosted), ``units_end`` from ``change_s`` seconds into it (a minute whose average is not
    whole had one change, placed where the average puts it);
    ``scored`` marks the minutes the likelihood counts (hosted, no gap, whole units all
    minute, something offered), the same minutes the slots model is scored on.
    """

    offered: IntArray
    throttled: IntArray
    units: IntArray
    units_end: IntArray
    change_s: FloatArray
    scored: npt.NDArray[np.bool_]
    bins: IntArray

    @property
    def bin_count(self) -> int:
        """Bins the scored minutes are pooled in."""
        return int(self.bins.max()) + 1 if self.scored.any() else 0

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
    units_end, change_s = units.copy(), np.full(len(units), 60.0)
    # A minute between two whole ones with an average between theirs: one step, timed.
    before, after = np.roll(units, 1), np.roll(units, -1)
    inner = np.arange(len(units))
    step = (
        usable & ~whole & (inner > 0) & (inner < len(units) - 1) & (before != after)
        & (np.minimum(before, after) < raw_units) & (raw_units < np.maximum(before, after))
    )  # fmt: skip
    share_after = (raw_units - before) / np.where(step, after - before, 1)
    units[step], units_end[step] = before[step], after[step]
    change_s[step] = 60.0 * (1.0 - share_after[step])
    throttled_counts = np.round(np.where(usable, throttled, 0.0)).astype(np.int64)
    bins = _bins(offered, throttled, units, scored)
    return Replay(offered, throttled_counts, units, units_end, change_s, scored, bins)


def _bins(
    offered: IntArray, throttled: FloatArray, units: IntArray, scored: npt.NDArray[np.bool_]
) -> IntArray:
    """Each scored minute's bin of load per unit (-1: not scored).

    Half the edges are quantiles of all scored minutes' load, half of the throttled ones',
    so the bins are finest where the history shows the unit's limit.
    """
    load = offered / np.maximum(units, 1)
    out = np.full(len(offered), -1, np.int64)
    if not scored.any():
        return out
    levels = np.linspace(0, 1, BINS // 2 + 1)[1:-1]
    edges = [np.quantile(load[scored], levels)]
    hot = scored & (throttled > 0)
    if hot.any():
        edges.append(np.quantile(load[hot], levels))
    cuts = np.unique(np.concatenate(edges))
    found = np.searchsorted(cuts, load[scored], side="right")
    # Numbered densely: a cut no minute falls between leaves no empty bin.
    out[scored] = np.unique(found, return_inverse=True)[1]
    return out


def pooled_log_likelihood(expected: FloatArray, replay: Replay) -> float:
    """Binomial log-likelihood of the binned throttled counts given each scored minute's
    expected throttles (a model's, at its parameters)."""
    bins = replay.bins[replay.scored]
    n = np.bincount(bins, replay.offered[replay.scored], replay.bin_count)
    k = np.bincount(bins, replay.throttled[replay.scored], replay.bin_count)
    e = np.bincount(bins, expected, replay.bin_count)
    p = np.clip((e + _PSEUDO) / (n + 2 * _PSEUDO), 1e-300, 1 - 1e-16)
    return float((k * np.log(p) + (n - k) * np.log1p(-p)).sum())


def minute_dispersion(
    expected: FloatArray, replay: Replay, parameters: int, replicates: int | None = None
) -> float:
    """Pearson chi-square per degree of freedom of the scored minutes, at least 1.

    ``replicates``: the expected counts are a simulation's mean over that many replicates,
    whose own variance (about 1 / replicates of the data's) is taken out.
    """
    n = replay.offered[replay.scored].astype(float)
    k = replay.throttled[replay.scored].astype(float)
    # A minute expected to throttle less than a tenth of a request scores as a tenth.
    e = np.clip(expected, 0.1, n - 0.1)
    informative = (expected > 0) | (k > 0)
    resid = (k - e) ** 2 / (e * (1 - e / n))
    dof = max(int(informative.sum()) - parameters, 1)
    chi2 = float(resid[informative].sum()) / dof
    if replicates:
        chi2 /= 1.0 + 1.0 / replicates
    return max(chi2, 1.0)


def fit_work(requests: float) -> Work:
    """What a token bucket fit of a history of ``requests`` offered requests uses, beyond
    the interpreter (approximate): the arrivals drawn once per replicate, and at most
    :data:`_REPLAYS_PER_FIT` replays of them through the bucket."""
    replicates = int(np.clip(REPLAYED_REQUESTS // max(requests, 1.0), 2, REPLICATES))
    return Work(
        requests=requests * replicates,
        simulations=replicates,
        memory_bytes=requests * (_BYTES_PER_REQUEST + replicates * _BYTES_PER_REPLICATE_REQUEST),
        seconds=_REPLAYS_PER_FIT * replicates * requests * _SECONDS_PER_REPLAYED_REQUEST,
        detail=f"{replicates} replicates of the token bucket's arrivals replayed up to "
        f"{_REPLAYS_PER_FIT} times",
    )


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
    rate0 = _start_rate(replay)
    x0 = min(
        (np.array([rate0, math.log(b)]) for b in _BURST_STARTS),
        key=objective.negative_log_likelihood,
    )
    found = minimize(
        objective.negative_log_likelihood,
        x0,
        method="Nelder-Mead",
        options={"xatol": 3e-3, "fatol": 0.05, "maxfev": 150, "initial_simplex": _simplex(x0)},
    )
    best = np.asarray(found.x, float)
    best_nll = float(found.fun)
    dispersion = objective.dispersion(best)
    # The replay's own Monte Carlo error adds about 1 / replicates to the variance.
    bound = _LR_BOUND * dispersion * (1.0 + 1.0 / objective.replicates)
    slopes = _ridge_slopes(objective, best)
    minutes = int((throttled > 0).sum())
    method = (
        f"token bucket replayed on the history's offered load ({objective.replicates} "
        "common-random-number replicates, Poisson inside a minute), fitted to "
        f"{minutes} throttled minutes of {len(throttled)}; interval: approximate profile "
        f"likelihood x dispersion {dispersion:.3g} (about 95 %)"
    )
    estimates = []
    for index, (name, bounds) in enumerate(
        (("unit.rate_tps", RATE_RANGE), ("unit.burst", BURST_RANGE))
    ):
        low, high = _profile_interval(
            objective, best, best_nll, index, float(slopes[index]), bound, bounds
        )
        value = params(best)[index]
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

    def __init__(self, replay: Replay, workers: int | None = None) -> None:
        self.replay = replay
        self.calls = 0
        self.workers = workers
        counts = replay.offered
        total = int(counts.sum())
        # As many replicates as keep one replay near REPLAYED_REQUESTS (2 at least).
        self.replicates = int(np.clip(REPLAYED_REQUESTS // max(total, 1), 2, REPLICATES))
        self.first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

        def draw(r: int) -> npt.NDArray[np.float32]:
            # Uniform order statistics in each minute: Poisson given the minute's count.
            uniforms = np.random.default_rng([_SEED, r]).random(total)
            placed = np.empty(total, np.float32)
            poisson_offsets(self.first, uniforms, placed)
            return placed

        self.offsets = per_replicate(draw, self.replicates, workers)
        self.cache: dict[tuple[float, float], FloatArray] = {}

    def expected(self, x: FloatArray) -> FloatArray:
        """Mean simulated throttles of each scored minute at ``x`` = log(rate, burst)."""
        key = (round(float(x[0]), 9), round(float(x[1]), 9))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        rate, burst = params(x)
        r = self.replay

        def replay_one(k: int, out: IntArray) -> None:
            bucket_replay_nogil(
                self.offsets[k], self.first, r.units, r.units_end, r.change_s, rate, burst, out
            )

        total = summed_replicates(replay_one, self.replicates, len(r.offered), self.workers)
        self.calls += 1
        mean: FloatArray = total[self.replay.scored] / self.replicates
        self.cache[key] = mean
        return mean

    def negative_log_likelihood(self, x: FloatArray) -> float:
        """The objective the optimiser minimises."""
        return -pooled_log_likelihood(self.expected(np.asarray(x, float)), self.replay)

    def dispersion(self, x: FloatArray) -> float:
        """How much more the throttles vary than binomial, at least 1.

        Minute by minute, not by bin: throttles come in runs (an empty bucket refuses
        many requests in a row), which a minute's count shows and a bin's sum hides. The
        replicates' mean carries Monte Carlo error too, which is taken out.
        """
        return minute_dispersion(self.expected(x), self.replay, 2, self.replicates)


def params(x: FloatArray) -> tuple[float, float]:
    """(rate_tps, burst) from their logarithms, kept inside the search's range."""
    rate = min(max(math.exp(x[0]), RATE_RANGE[0]), RATE_RANGE[1])
    burst = min(max(math.exp(x[1]), BURST_RANGE[0]), BURST_RANGE[1])
    return rate, burst


def _start_rate(replay: Replay) -> float:
    """Where the search starts: log of the median per-unit rate served in throttled minutes
    (with a unit refusing requests, what it serves is about its rate)."""
    hot = replay.scored & (replay.throttled > 0)
    served = replay.served[hot] / (60.0 * replay.units[hot])
    rate = float(np.median(served)) if len(served) else 1.0
    return math.log(max(rate, 0.01))


def _simplex(x0: FloatArray) -> FloatArray:
    return np.array([x0, x0 + np.array([0.1, 0.0]), x0 + np.array([0.0, 0.5])])


def _ridge_slopes(objective: _Objective, best: FloatArray) -> FloatArray:
    """How the other parameter's conditional optimum moves with each (from the Hessian).

    ``slopes[i]`` is d(best other) / d(parameter i) in logarithms, 0 where the curvature
    says nothing (a flat direction).
    """
    h = _HESSIAN_STEP

    def f(a: float, b: float) -> float:
        return objective.negative_log_likelihood(best + np.array([a, b]))

    centre = f(0.0, 0.0)
    h00 = (f(h, 0.0) - 2 * centre + f(-h, 0.0)) / h**2
    h11 = (f(0.0, h) - 2 * centre + f(0.0, -h)) / h**2
    h01 = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h**2)
    return np.array([-h01 / h11 if h11 > 0 else 0.0, -h01 / h00 if h00 > 0 else 0.0])


def _profile_interval(
    objective: _Objective,
    best: FloatArray,
    best_nll: float,
    index: int,
    slope: float,
    bound: float,
    bounds: tuple[float, float],
) -> tuple[float, float]:
    """Where the objective, along the ridge of the other parameter's conditional optimum
    (an approximate profile), rises ``bound`` above the optimum."""
    other = 1 - index
    direction_vector = np.zeros(2)
    direction_vector[index], direction_vector[other] = 1.0, slope

    def rise(v: float) -> float:
        x = best + (v - best[index]) * direction_vector
        return objective.negative_log_likelihood(x) - best_nll - bound

    edges = []
    for direction, limit in ((-1.0, math.log(bounds[0])), (1.0, math.log(bounds[1]))):
        step = 0.02
        inner = float(best[index])
        outer = inner + direction * step
        # Walk out, doubling the step, until the objective crosses the bound.
        while (outer - limit) * direction < 0 and rise(outer) < 0:
            inner = outer
            step *= 2.0
            outer = inner + direction * step
        if (outer - limit) * direction >= 0:
            outer = limit
            if rise(outer) < 0:
                edges.append(limit)
                continue
        edges.append(brentq(rise, inner, outer, xtol=0.002))
    return math.exp(min(edges)), math.exp(max(edges))
