"""How bursty arrivals are inside a minute, fitted jointly with the slots from throttling.

Per-minute counts say how many requests came, not when. The throttling pattern tells more:
in the slots model, Poisson arrivals on ``slots x units`` slots throttle along Erlang's loss
curve, steeply once the load nears capacity; requests arriving in batches throttle already
at loads where Poisson arrivals almost never would, and the throttled share then grows
more slowly with the load. Where a history throttled over a range of loads per unit, the
shape of that curve separates burstiness from capacity.

The burst model is :class:`lfvsim.traces.arrivals.BatchArrivals` (geometric batches of
mean ``batch_mean_size``, spread over the scenario's ``batch_spread_s``; a mean of 1 is
Poisson). For each mean size on a grid (:data:`SIZES`), the history's offered load is
replayed through the slots (:func:`lfvsim.engine.loss_replay.slots_replay_busy`: the
throttles of a heap of every admitted request, at a fraction of the cost)
with the units in service each minute, for the slot counts around the best, and scored by
the binned binomial likelihood of the throttled counts that the structure comparison uses
(:func:`lfvsim.experiments.calibrate_rate.pooled_log_likelihood`). The batch marks, epochs
and service times are drawn once from fixed seeds and reused for every candidate (common
random numbers; replicates on threads, one per core, with the same counts as in turn), so
the profile likelihood of the mean size (the slots at their best for
each size) is a deterministic function; the point is refined between grid sizes with
:func:`scipy.optimize.minimize_scalar`. The interval is the approximate profile
likelihood interval widened by the dispersion the fit finds (about 95 %), and the
likelihood ratio against Poisson (mean size 1) says whether batches fit better, and by
how much (quasi-AIC: the log-likelihoods divided by the dispersion).

What it cannot tell: a history never throttled gives no shape (only a bound on the
burstiness given the assumed slots); one throttled in a narrow band of loads fits larger
batches with more slots about as well as Poisson with fewer (the interval then reaches the
grid's end and the size is reported as not informed); the spread of a batch and the kind
of burstiness (batches or on/off) are assumed, not fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq, minimize_scalar

from lfvsim.budget import Estimate as Work
from lfvsim.engine.loss_replay import (
    busy_before,
    per_replicate,
    slots_replay_busy,
    summed_replicates,
)
from lfvsim.engine.minute_arrivals import batch_offsets
from lfvsim.experiments.calibrate import Estimate
from lfvsim.experiments.calibrate_capacity import MAX_SLOTS
from lfvsim.experiments.calibrate_rate import Replay, minute_dispersion, pooled_log_likelihood
from lfvsim.experiments.calibrate_structure import PARAMETERS, StructureChoice
from lfvsim.scenario import Unit

__all__ = [
    "BYTES_PER_REPLAYED_REQUEST",
    "SIZES",
    "BurstFit",
    "fit_burstiness",
    "fit_work",
    "replicates_for",
    "with_batches",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: Batch mean sizes the profile likelihood is computed at (1: Poisson).
SIZES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)
#: Most replicates of the arrivals (common random numbers, fixed seeds).
REPLICATES = 32
#: Requests one evaluation replays, over all replicates, where the history allows.
REPLAYED_REQUESTS = 2_000_000
#: Half the 95 % chi-square quantile with one degree of freedom: the likelihood-ratio bound.
_LR_BOUND = 1.92
_SEED = 20_261_130
#: Throttles a model may expect where none were seen: P(none | 3 expected) is about 5 %.
_NONE_SEEN = 3.0
#: An interval wider than this ratio (high / low) marks the size weakly informed.
_WEAK_RATIO = 1.5
#: Peak memory per request of the history per replicate while the fit runs: its service
#: time, the three uniforms that place it, its arrival offset and busy count at the sizes
#: kept and the one being placed, and the temporaries that make them. Measured 75 to
#: 115 B above 300 MiB (``lfvsim calibrate``'s peak resident memory on 1, 3, 7 and 14 days
#: of history, two runs: ``benchmarks/bench_calibrate_memory.py``), rounded up.
BYTES_PER_REPLAYED_REQUEST = 128
#: Replays of the history one fit makes at most (about 80 measured on bursty history).
_REPLAYS_PER_FIT = 150
#: Time per request per replay: placing the arrivals and replaying them through the slots
#: (tens of ns compiled), with room.
_SECONDS_PER_REPLAYED_REQUEST = 5e-8


def replicates_for(requests: float) -> int:
    """Replicates of the arrivals a history of ``requests`` offered requests gets: as many
    as keep one replay near :data:`REPLAYED_REQUESTS` (2 at least)."""
    return int(np.clip(REPLAYED_REQUESTS // max(requests, 1.0), 2, REPLICATES))


def fit_work(requests: float) -> Work:
    """What a burstiness fit of a history of ``requests`` offered requests uses, beyond the
    interpreter (approximate): every replicate's arrivals and service times held at once,
    replayed up to :data:`_REPLAYS_PER_FIT` times."""
    replicates = replicates_for(requests)
    replayed = requests * replicates
    return Work(
        requests=replayed,
        simulations=replicates,
        memory_bytes=replayed * BYTES_PER_REPLAYED_REQUEST,
        seconds=_REPLAYS_PER_FIT * replayed * _SECONDS_PER_REPLAYED_REQUEST,
        detail=f"{replicates} replicates of the burstiness fit's arrivals replayed up to "
        f"{_REPLAYS_PER_FIT} times",
    )


@dataclass(frozen=True)
class BurstFit:
    """The fitted burstiness, the slots that go with it, and how it compares with Poisson.

    ``size`` estimates ``traffic.batch_mean_size``; ``slots`` the slots fitted jointly with
    it (None when not fitted). ``arrivals`` is what the calibrated scenario should use:
    ``'batch'`` when batches fit better than Poisson beyond the interval, ``'poisson'``
    when the interval holds 1, None when the history does not inform the burstiness.
    ``aic_difference`` is Poisson's quasi-AIC minus the batch model's (positive: batches
    fit better); ``replays`` counts the candidates replayed (each over every replicate).
    """

    size: Estimate
    slots: Estimate | None
    arrivals: str | None
    log_likelihood: dict[str, float]
    aic_difference: float | None
    dispersion: float
    meaning: str
    replays: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "arrivals": self.arrivals,
            "batch_mean_size": self.size.to_dict(),
            "slots": None if self.slots is None else self.slots.to_dict(),
            "log_likelihood": self.log_likelihood,
            "aic_difference": self.aic_difference,
            "dispersion": self.dispersion,
            "meaning": self.meaning,
            "replays": self.replays,
        }


def fit_burstiness(
    replay: Replay, unit: Unit, spread_s: float, slots_start: int | None = None
) -> BurstFit:
    """Batch mean size and slots that make the history's throttling most likely.

    Parameters
    ----------
    replay : Replay
        The history's minutes (:func:`lfvsim.experiments.calibrate_rate.replay_of`).
    unit : Unit
        The scenario's unit: its latency is given, its slots are the search's start when
        ``slots_start`` is None and the bound's capacity when nothing was throttled.
    spread_s : float
        Seconds the requests of a batch arrive within (assumed, not fitted).
    slots_start : int, optional
        Where the slot search starts (the Poisson fit's slots, say).
    """
    name = "traffic.batch_mean_size"
    if unit.throttling != "slots" or unit.when_busy != "throttle":
        why = (
            "fitted only for concurrency slots that throttle at once; with "
            f"throttling = '{unit.throttling}' and when_busy = '{unit.when_busy}' a burst "
            "and the unit's own tolerance of bursts cannot be told apart; the assumption stays"
        )
        return _uninformed(Estimate(name, False, None, None, None, 0, why))
    objective = _Profile(replay, unit, spread_s)
    throttled_minutes = int((replay.throttled[replay.scored] > 0).sum())
    if throttled_minutes == 0:
        return _never_throttled(objective, unit.slots, name)
    start = slots_start or unit.slots
    profile, best_slots = [], []
    for size in SIZES:
        # Burstier arrivals throttle more: each size's search starts at the last one's best.
        value, start = objective.profile(size, start)
        profile.append(value)
        best_slots.append(start)
    grid = np.array(profile)
    best_index = int(np.argmin(grid))
    size, nll, slots = _refine(objective, best_index, best_slots[best_index])
    dispersion = minute_dispersion(objective.expected(size, slots), replay, 2, objective.replicates)
    bound = _LR_BOUND * dispersion * (1.0 + 1.0 / objective.replicates)
    low, high = _interval(objective, grid, size, nll + bound, slots)
    poisson_nll = float(grid[0])
    method = (
        f"batch arrivals (geometric, spread over {spread_s:g} s) replayed through the slots "
        f"on the history's offered load ({objective.replicates} common-random-number "
        f"replicates), the slots fitted with the size, given latency_mean_s = "
        f"{unit.latency_mean_s:g}; {throttled_minutes} throttled minutes of "
        f"{int(replay.scored.sum())}; interval: approximate profile likelihood x dispersion "
        f"{dispersion:.3g} (about 95 %)"
    )
    log_likelihood = {"poisson": -poisson_nll, "batch": -nll}
    difference = 2.0 * (poisson_nll - nll) / dispersion - 2.0
    if high is None or slots >= MAX_SLOTS:
        why = (
            f"larger batches with more slots fit as well as smaller ones: the history "
            f"bounds the mean size only from below (at least {low:.3g}), burstiness and "
            f"capacity cannot be told apart; the assumption stays ({method})"
        )
        estimate = Estimate(name, False, None, low, None, throttled_minutes, why)
        meaning = "burstiness and capacity cannot be told apart from this history"
        return BurstFit(
            estimate, None, None, log_likelihood, None, dispersion, meaning, objective.calls
        )
    weak = high / low > _WEAK_RATIO
    if weak:
        method = (
            f"weakly informed: sizes from {low:.3g} to {high:.3g} fit about as well, each "
            f"with its own slot count (burstiness and capacity partly confounded); read the "
            f"interval and check the value with lfvsim backtest; {method}"
        )
    estimate = Estimate(name, True, size, low, high, throttled_minutes, method, weak)
    within = [s for z, s in zip(SIZES, best_slots, strict=True) if low <= z <= high]
    slot_estimate = _slots_given(objective, size, slots, bound, within, throttled_minutes, method)
    slot_estimate = replace(slot_estimate, weak=weak)
    if low <= 1.0:
        meaning = (
            f"Poisson arrivals fit as well as batches: the mean size's interval "
            f"({low:.3g}-{high:.3g}) holds 1, the best fit (mean {size:.3g}) gains only "
            f"{difference + 2.0:.2f} in quasi-likelihood ratio; Poisson stays"
        )
        return BurstFit(
            estimate, slot_estimate, "poisson", log_likelihood, difference, dispersion,
            meaning, objective.calls,
        )  # fmt: skip
    meaning = (
        f"batches of mean {size:.3g} fit better than Poisson by {difference:.1f} in "
        f"quasi-AIC ({_verdict(difference)}; approximate: the batch spread is assumed)"
    )
    return BurstFit(
        estimate, slot_estimate, "batch", log_likelihood, difference, dispersion, meaning,
        objective.calls,
    )  # fmt: skip


def with_batches(structure: StructureChoice, burst: BurstFit) -> tuple[StructureChoice, BurstFit]:
    """The structure choice with slots and batch arrivals competing too, and the burst fit
    kept only if it wins (batches were fitted under the slots model, not the bucket's).

    Scored by the same binned likelihood as the other two, with two parameters (slots and
    mean size); its log-likelihood and AIC appear as ``slots_batch``.
    """
    if burst.arrivals != "batch":
        return structure, burst
    ll = {**structure.log_likelihood, "slots_batch": burst.log_likelihood["batch"]}
    params = {**PARAMETERS, "slots_batch": 2}
    aic = {name: 2.0 * params[name] - 2.0 * value for name, value in ll.items()}
    ranked = sorted(aic, key=lambda name: aic[name])
    if ranked[0] != "slots_batch":
        lost = (
            f"{burst.meaning}; but the {ranked[0]} model fits the throttling better still "
            f"(AIC {aic[ranked[0]]:.1f} against {aic['slots_batch']:.1f}), so the arrivals stay"
        )
        return structure, replace(burst, arrivals=None, meaning=lost)
    runner_up = ranked[1]
    difference = aic[runner_up] - aic["slots_batch"]
    meaning = (
        f"slots with batch arrivals (mean {burst.size.value:.3g}) fit better than "
        f"{runner_up} by {difference:.1f} in AIC (approximate: throttles come in runs, "
        "which the binomial likelihood counts as independent)"
    )
    return StructureChoice("slots", ll, aic, difference, meaning), burst


def _uninformed(estimate: Estimate, meaning: str | None = None) -> BurstFit:
    return BurstFit(estimate, None, None, {}, None, math.nan, meaning or estimate.detail)


def _never_throttled(objective: _Profile, slots: int, name: str) -> BurstFit:
    """No throttled minute: the size is not informed. With the assumed slots, the data
    bounds it from above: batches that would throttle more than :data:`_NONE_SEEN`
    requests on average would have shown a throttle (with about 95 % probability)."""
    expected = [float(objective.expected(size, slots).sum()) for size in SIZES]
    if expected[0] > _NONE_SEEN:
        bound = (
            f"the assumed {slots} slots would have throttled about {expected[0]:.3g} "
            "requests even with Poisson arrivals, so the unit holds more; no bound follows"
        )
        high = None
    elif expected[-1] <= _NONE_SEEN:
        bound = f"with the assumed {slots} slots even batches of mean {SIZES[-1]:g} fit"
        high = None
    else:
        k = int(np.flatnonzero(np.array(expected) > _NONE_SEEN)[0])
        # Between the last size that fits and the first that does not, in the logarithm.
        share = (_NONE_SEEN - expected[k - 1]) / (expected[k] - expected[k - 1])
        high = math.exp(math.log(SIZES[k - 1]) + share * math.log(SIZES[k] / SIZES[k - 1]))
        bound = f"with the assumed {slots} slots, batches of mean above {high:.3g} would have"
        bound += " throttled something"
    why = (
        f"nothing was ever throttled, so the throttling pattern shows no burstiness ({bound}); "
        "the assumption stays"
    )
    return _uninformed(Estimate(name, False, None, None, high, 0, why))


def _refine(objective: _Profile, best_index: int, start: int) -> tuple[float, float, int]:
    """The size of least profile negative log-likelihood between the best grid size's
    neighbours (bounded Brent on the logarithm), with its value and slots."""
    lo = math.log(SIZES[max(best_index - 1, 0)])
    hi = math.log(SIZES[min(best_index + 1, len(SIZES) - 1)])
    found = minimize_scalar(
        lambda x: objective.profile(math.exp(x), start)[0],
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 0.02},
    )
    candidates = [(objective.profile(SIZES[best_index], start), SIZES[best_index])]
    candidates.append((objective.profile(math.exp(float(found.x)), start), math.exp(found.x)))
    (nll, slots), size = min(candidates, key=lambda c: c[0][0])
    return float(size), float(nll), int(slots)


def _interval(
    objective: _Profile, grid: FloatArray, point: float, level: float, start: int
) -> tuple[float, float | None]:
    """Sizes whose profile stays below ``level``.

    From the outermost grid sizes inside it (or the point, if further out), the crossing
    with the next grid size out is found by Brent's method on the profile; the low end is
    1 when the grid's first size (Poisson) is inside, and the high end None when its last
    is (the history bounds the size from below only).
    """
    logs = np.log(np.array(SIZES))
    inside = np.flatnonzero(grid <= level)
    here = math.log(point)

    def rise(x: float) -> float:
        return objective.profile(math.exp(x), start)[0] - level

    # The point is inside even where no grid size is (the profile dips between them).
    first = int(inside.min()) if len(inside) else int(np.searchsorted(logs, here))
    last = int(inside.max()) if len(inside) else int(np.searchsorted(logs, here, "right")) - 1
    first = min(first, int(np.searchsorted(logs, here)))
    last = max(last, int(np.searchsorted(logs, here, "right")) - 1)
    if first == 0:
        low = SIZES[0]
    else:
        low = math.exp(brentq(rise, logs[first - 1], min(logs[first], here), xtol=0.005))
    if last == len(SIZES) - 1:
        return low, None
    high = math.exp(brentq(rise, max(logs[last], here), logs[last + 1], xtol=0.005))
    return low, high


def _slots_given(
    objective: _Profile,
    size: float,
    slots: int,
    bound: float,
    others: list[int],
    events: int,
    method: str,
) -> Estimate:
    """The slots at the fitted size; the interval holds the counts within ``bound`` of the
    best at that size and ``others``, the best counts at the other sizes inside the size's
    interval (the slots move with the size: an approximate profile interval)."""
    best = objective.negative_log_likelihood(size, slots)
    inside = [slots, *others]
    for step in (-1, 1):
        s = slots + step
        while 1 <= s <= MAX_SLOTS and objective.negative_log_likelihood(size, s) <= best + bound:
            inside.append(s)
            s += step
    return Estimate(
        "unit.slots", True, float(slots), float(min(inside)), float(max(inside)), events,
        f"fitted with the batch mean size: {method}",
    )  # fmt: skip


def _verdict(difference: float) -> str:
    if difference < 2.0:
        return "about as well: the history barely tells them apart"
    if difference < 10.0:
        return "Poisson has considerably less support"
    return "Poisson has essentially no support"


class _Profile:
    """Negative log-likelihood of the scored minutes' throttles, by (size, slots), CRN."""

    def __init__(
        self, replay: Replay, unit: Unit, spread_s: float, workers: int | None = None
    ) -> None:
        self.replay = replay
        self.spread_s = min(spread_s, 60.0)
        self.workers = workers
        counts = replay.offered
        self.total = int(counts.sum())
        total = self.total
        self.replicates = replicates_for(total)
        self.first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        # Service times are kept (float32), and so are the uniforms that place the arrivals
        # (the same for every size: only where they put the arrivals changes).
        self.services = [
            _services(unit, total, np.random.default_rng([_SEED, r, 0])).astype(np.float32)
            for r in range(self.replicates)
        ]
        self.uniforms = per_replicate(self._uniforms, self.replicates, workers)
        self.arrivals: dict[float, list[tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]]] = {}
        self.cache: dict[tuple[float, int], FloatArray] = {}
        self.calls = 0
        self.profiles: dict[float, tuple[float, int]] = {}

    def _uniforms(self, r: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Replicate ``r``'s uniforms: batch marks, batch epochs, offsets inside a batch."""
        rng = np.random.default_rng([_SEED, r, 1])
        return rng.random(self.total), rng.random(self.total), rng.random(self.total)

    def _offsets(self, size: float) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]]:
        """Each replicate's arrival offsets (s into their minute, sorted) for ``size``, and
        the requests in service before each were every one admitted."""
        key = round(size, 9)
        hit = self.arrivals.get(key)
        if hit is not None:
            return hit

        def place(r: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]:
            # The same marks start a batch at every size below 1 / mark: sizes nest.
            marks, epochs, offsets = self.uniforms[r]
            placed = np.empty(self.total, np.float32)
            batch_offsets(self.first, marks, epochs, offsets, size, self.spread_s, placed)
            # Requests in service before each arrival, were all admitted: every slot
            # count's replay at this size starts from them.
            busy = np.empty(self.total, np.int32)
            busy_before(placed, self.services[r], self.first, busy)
            return placed, busy

        out = per_replicate(place, self.replicates, self.workers)
        # A size is asked about for a few slot counts in a row: the last two are kept.
        if len(self.arrivals) >= 2:
            self.arrivals.pop(next(iter(self.arrivals)))
        self.arrivals[key] = out
        return out

    def expected(self, size: float, slots: int) -> FloatArray:
        """Mean simulated throttles of each scored minute."""
        key = (round(size, 9), slots)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        r = self.replay
        arrivals = self._offsets(size)

        def replay_one(k: int, out: IntArray) -> None:
            offsets, busy = arrivals[k]
            slots_replay_busy(
                offsets, self.services[k], busy, self.first, r.units, r.units_end, r.change_s,
                slots, out,
            )  # fmt: skip

        total = summed_replicates(replay_one, self.replicates, len(r.offered), self.workers)
        self.calls += 1
        mean: FloatArray = total[r.scored] / self.replicates
        self.cache[key] = mean
        return mean

    def negative_log_likelihood(self, size: float, slots: int) -> float:
        """Of the history's binned throttled counts at ``size`` and ``slots``."""
        return -pooled_log_likelihood(self.expected(size, slots), self.replay)

    def profile(self, size: float, start: int) -> tuple[float, int]:
        """(least negative log-likelihood over the slots, those slots) at ``size``: the
        slots walked from ``start`` while the fit improves (more slots, fewer throttles).

        Kept by size: asked again, a size gives the same answer whatever the start.
        """
        known = self.profiles.get(round(size, 9))
        if known is not None:
            return known
        best_slots = min(max(start, 1), MAX_SLOTS)
        best = self.negative_log_likelihood(size, best_slots)
        for step in (1, -1):
            s = best_slots + step
            while 1 <= s <= MAX_SLOTS:
                value = self.negative_log_likelihood(size, s)
                if value >= best:
                    break
                best, best_slots = value, s
                s += step
        self.profiles[round(size, 9)] = (best, best_slots)
        return best, best_slots


def _services(unit: Unit, count: int, rng: np.random.Generator) -> FloatArray:
    """Service times (s) from the unit's latency distribution."""
    if unit.latency_distribution == "constant":
        return np.full(count, unit.latency_mean_s)
    if unit.latency_distribution == "exponential":
        return rng.standard_exponential(count) * unit.latency_mean_s
    mu, sigma = unit.lognormal_params()
    return np.exp(mu + sigma * rng.standard_normal(count))
