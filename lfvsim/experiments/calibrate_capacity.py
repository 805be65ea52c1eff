"""Direct estimate of a unit's concurrency slots from where a history was throttled.

In the slots model a request finding every slot of every unit in service busy is throttled
at once, and with arrivals that are Poisson inside a minute the share throttled is Erlang's
loss formula ``B(slots x units, offered x latency_mean_s / 60)``, whatever the service time's
distribution. So each minute's ``ThrottledCount`` out of ``SuccessfulRequestCount +
ThrottledCount``, against the units in service, is a binomial draw whose probability
depends on the slots alone once the scenario's mean latency is given; the slots that make
the history most likely are the estimate, and the interval holds every count within the
likelihood-ratio bound (about 95 %). Burstier arrivals than Poisson throttle more at the
same load and read as fewer slots: the estimate is approximate there.

A history that was never throttled only bounds the unit from below: the unit served the
highest per-unit rate seen without refusing anything.

The best slot count is not proof that the loss model holds: a history made by a request-rate
limit is fitted by some count too, with a narrow interval. So the fit is checked against the
history (:func:`misfit`): minutes are pooled in up to :data:`GOF_BINS` bins of the predicted
throttled share, and the observed throttles of each bin are set against Erlang's, with the
throttles' extra variance (they come in runs) measured from the minutes' scatter inside the
bins. A bin off by more than a factor :data:`GOF_RATIO` at more than :data:`GOF_Z` standard
errors, or throttles varying more than :data:`GOF_DISPERSION` times the binomial, withdraw
the estimate: the history is reported as a misfit of the slots model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lfvsim.experiments.calibrate import Estimate
from lfvsim.scenario import Unit
from lfvsim.traces.metric_history import MetricHistory

__all__ = [
    "GOF_BINS",
    "MAX_SLOTS",
    "SlotsFit",
    "erlang_b",
    "erlang_b_by_slots",
    "estimate_slots",
    "fit_slots",
    "misfit",
]

FloatArray = npt.NDArray[np.float64]
_TOL = 1e-6
#: Largest slot count tried.
MAX_SLOTS = 64
#: Half the 95 % chi-square quantile with one degree of freedom: the likelihood-ratio bound.
_LR_BOUND = 1.92
#: Bins of predicted throttled share the fit is checked in, and the least predicted share
#: of a minute that enters them (below it a minute tells nothing about the shape).
GOF_BINS = 10
GOF_MIN_SHARE = 1e-3
#: Fewer bins than this (two minutes each) tell nothing about the shape: not judged.
GOF_MIN_BINS = 3
#: A bin is a misfit when its observed throttles differ from Erlang's by more than this
#: factor and by more than GOF_Z standard errors. Histories made by the slots model on
#: bursty and factory traffic stay within 3.4 standard errors (transients after a scale
#: step, load changing inside a minute); rate-made ones miss by 9 or more.
GOF_RATIO = 2.0
GOF_Z = 5.0
#: Throttles varying more than this times the binomial inside the bins: the loss model
#: does not describe them (slots-made histories: 1.0-2.6).
GOF_DISPERSION = 10.0


@dataclass(frozen=True)
class SlotsFit:
    """The slots estimate, and the best count whatever the check of the fit says.

    ``best`` is the maximum likelihood count (None when nothing was fitted), kept so that
    the structures of throttling can still be compared by AIC when ``estimate`` is
    withdrawn for a misfit (``misfit`` says why, else None).
    """

    estimate: Estimate
    best: float | None
    misfit: str | None = None


def estimate_slots(history: MetricHistory, unit: Unit) -> Estimate:
    """Concurrency slots per unit from the throttled share against load per unit."""
    return fit_slots(history, unit).estimate


def fit_slots(history: MetricHistory, unit: Unit) -> SlotsFit:
    """The slots estimate with its check against the history (see the module's notes)."""
    name = "unit.slots"
    frame = history.frame
    need = ("SuccessfulRequestCount", "ThrottledCount", "InServiceInferenceUnits")
    missing = [m for m in need if m not in frame]
    if missing:
        why = f"the history has no {missing[0]}"
        return SlotsFit(Estimate(name, False, None, None, None, 0, why), None)
    usable = frame["hosted"].fillna(True).to_numpy(bool) & ~frame["gap"].to_numpy(bool)
    served = frame["SuccessfulRequestCount"].to_numpy(float)
    throttled = frame["ThrottledCount"].to_numpy(float)
    units = frame["InServiceInferenceUnits"].to_numpy(float)
    # Whole units all minute: a unit arriving mid-minute changes the servers inside it.
    keep = usable & (units >= 1 - _TOL) & (np.abs(units - np.round(units)) <= _TOL)
    keep &= served + throttled > 0
    served, throttled, units = served[keep], throttled[keep], np.round(units[keep])
    per_unit_rps = served / (60.0 * units)
    floor_rps = float(per_unit_rps.max()) if len(per_unit_rps) else 0.0
    if throttled.sum() <= 0:
        return SlotsFit(Estimate(
            name, False, None, None, None, 0,
            f"nothing was ever throttled: a unit served up to {floor_rps:.3g} requests/s with "
            f"no refusal, so slots / latency_mean_s is at least that; the assumption stays",
        ), None)  # fmt: skip
    erlangs = (served + throttled) / 60.0 * unit.latency_mean_s
    blocked = erlang_b_by_slots(units.astype(np.int64), erlangs, MAX_SLOTS)
    loglik = np.array([_log_likelihood(row, served, throttled) for row in blocked])
    best = int(np.argmax(loglik))
    inside = np.flatnonzero(loglik >= loglik[best] - _LR_BOUND) + 1
    value = best + 1
    minutes = int((throttled > 0).sum())
    if value == MAX_SLOTS:
        return SlotsFit(Estimate(
            name, False, None, float(inside.min()), None, minutes,
            f"the history fits {MAX_SLOTS} slots or more; too little throttling to tell",
        ), None)  # fmt: skip
    wrong = misfit(blocked[best], served, throttled)
    if wrong is not None:
        why = (
            f"misfit: the Erlang loss with the best count, {value}, does not describe the "
            f"history's throttling ({wrong}); the slots model is withdrawn (another structure "
            "of throttling, or arrivals far from Poisson inside a minute); the assumption stays"
        )
        return SlotsFit(Estimate(name, False, None, None, None, minutes, why), float(value), wrong)
    return SlotsFit(
        Estimate(
            name,
            True,
            float(value),
            float(inside.min()),
            float(inside.max()),
            minutes,
            f"Erlang loss fitted to {minutes} throttled minutes of {len(served)}, given "
            f"latency_mean_s = {unit.latency_mean_s:g}; interval: likelihood ratio (about 95 %); "
            "assumes Poisson arrivals inside a minute; checked against the throttles by load: "
            "no misfit",
        ),
        float(value),
    )


def misfit(blocked: FloatArray, served: FloatArray, throttled: FloatArray) -> str | None:
    """Why Erlang's throttled shares ``blocked`` do not describe the minutes, or None.

    Minutes are pooled in up to :data:`GOF_BINS` bins of ``blocked`` (equal numbers of
    minutes, two at least, those predicted above :data:`GOF_MIN_SHARE`); each minute's
    Pearson residual against the binomial gives, by its scatter inside its bin, the
    dispersion of the throttles.
    Approximate: minutes are taken as independent.
    """
    offered = served + throttled
    use = np.flatnonzero(blocked > GOF_MIN_SHARE)
    # Two minutes a bin at least: the scatter inside a bin measures the dispersion.
    count = min(GOF_BINS, len(use) // 2)
    if count < GOF_MIN_BINS:
        return None  # too few minutes to judge the shape
    bins = np.array_split(use[np.argsort(blocked[use], kind="stable")], count)
    expected = offered * blocked
    variance = expected * (1.0 - blocked)
    scatter, freedom = 0.0, 0
    for rows in bins:
        r = (throttled[rows] - expected[rows]) / np.sqrt(variance[rows])
        scatter += float(((r - r.mean()) ** 2).sum())
        freedom += len(rows) - 1
    dispersion = max(1.0, scatter / max(freedom, 1))
    if dispersion > GOF_DISPERSION:
        return (
            f"throttles vary {dispersion:.0f} times more than the loss model allows, "
            f"against at most {GOF_DISPERSION:g}"
        )
    for k, rows in enumerate(bins):
        seen, want = float(throttled[rows].sum()), float(expected[rows].sum())
        z = (seen - want) / np.sqrt(dispersion * float(variance[rows].sum()))
        off = seen > GOF_RATIO * want or seen < want / GOF_RATIO
        if off and abs(z) > GOF_Z:
            return (
                f"in the {_ordinal(k + 1)} of {count} load bins {seen:,.0f} throttled "
                f"against {want:,.0f} predicted, {abs(z):.1f} standard errors apart"
            )
    return None


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def _log_likelihood(blocked: FloatArray, served: FloatArray, throttled: FloatArray) -> float:
    blocked = np.clip(blocked, 1e-12, 1 - 1e-12)
    return float((throttled * np.log(blocked) + served * np.log1p(-blocked)).sum())


def erlang_b_by_slots(
    units: npt.NDArray[np.int64], erlangs: FloatArray, max_slots: int
) -> FloatArray:
    """Erlang's loss formula for every slot count at once: row ``c - 1`` holds, per minute,
    ``B(c x units, erlangs)`` for ``c`` = 1 .. ``max_slots``.

    The recursion over servers passes through ``c x units`` for every ``c`` on its way to
    ``max_slots x units``, so one pass per distinct unit count gives every candidate; the
    values are bit for bit those of :func:`erlang_b` with ``servers = c x units``.
    """
    out = np.empty((max_slots, len(erlangs)))
    for u in np.unique(units):
        rows = np.flatnonzero(units == u)
        a = erlangs[rows]
        b = np.ones_like(a)
        for k in range(1, max_slots * int(u) + 1):
            b = a * b / (k + a * b)
            if k % u == 0:
                out[k // u - 1, rows] = b
    return out


def erlang_b(servers: FloatArray, erlangs: FloatArray) -> FloatArray:
    """Erlang's loss formula per minute (the stable recursion, vectorised over minutes)."""
    b = np.ones_like(erlangs)
    top = int(servers.max())
    for k in range(1, top + 1):
        step = erlangs * b / (k + erlangs * b)
        b = np.where(k <= servers, step, b)
    return b
