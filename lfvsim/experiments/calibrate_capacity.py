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
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lfvsim.experiments.calibrate import Estimate
from lfvsim.scenario import Unit
from lfvsim.traces.metric_history import MetricHistory

__all__ = ["MAX_SLOTS", "erlang_b", "estimate_slots"]

FloatArray = npt.NDArray[np.float64]
_TOL = 1e-6
#: Largest slot count tried.
MAX_SLOTS = 64
#: Half the 95 % chi-square quantile with one degree of freedom: the likelihood-ratio bound.
_LR_BOUND = 1.92


def estimate_slots(history: MetricHistory, unit: Unit) -> Estimate:
    """Concurrency slots per unit from the throttled share against load per unit."""
    name = "unit.slots"
    frame = history.frame
    need = ("SuccessfulRequestCount", "ThrottledCount", "InServiceInferenceUnits")
    missing = [m for m in need if m not in frame]
    if missing:
        return Estimate(name, False, None, None, None, 0, f"the history has no {missing[0]}")
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
        return Estimate(
            name, False, None, None, None, 0,
            f"nothing was ever throttled: a unit served up to {floor_rps:.3g} requests/s with "
            f"no refusal, so slots / latency_mean_s is at least that; the assumption stays",
        )  # fmt: skip
    erlangs = (served + throttled) / 60.0 * unit.latency_mean_s
    loglik = np.array(
        [_log_likelihood(c * units, erlangs, served, throttled) for c in range(1, MAX_SLOTS + 1)]
    )
    best = int(np.argmax(loglik))
    inside = np.flatnonzero(loglik >= loglik[best] - _LR_BOUND) + 1
    value = best + 1
    minutes = int((throttled > 0).sum())
    if value == MAX_SLOTS:
        return Estimate(
            name, False, None, float(inside.min()), None, minutes,
            f"the history fits {MAX_SLOTS} slots or more; too little throttling to tell",
        )  # fmt: skip
    return Estimate(
        name,
        True,
        float(value),
        float(inside.min()),
        float(inside.max()),
        minutes,
        f"Erlang loss fitted to {minutes} throttled minutes of {len(served)}, given "
        f"latency_mean_s = {unit.latency_mean_s:g}; interval: likelihood ratio (about 95 %); "
        "assumes Poisson arrivals inside a minute",
    )


def _log_likelihood(
    servers: FloatArray, erlangs: FloatArray, served: FloatArray, throttled: FloatArray
) -> float:
    blocked = np.clip(erlang_b(servers, erlangs), 1e-12, 1 - 1e-12)
    return float((throttled * np.log(blocked) + served * np.log1p(-blocked)).sum())


def erlang_b(servers: FloatArray, erlangs: FloatArray) -> FloatArray:
    """Erlang's loss formula per minute (the stable recursion, vectorised over minutes)."""
    b = np.ones_like(erlangs)
    top = int(servers.max())
    for k in range(1, top + 1):
        step = erlangs * b / (k + erlangs * b)
        b = np.where(k <= servers, step, b)
    return b
