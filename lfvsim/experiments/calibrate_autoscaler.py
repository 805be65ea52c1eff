"""Direct estimates of the autoscaler's rule from a model's CloudWatch history.

The model's rule (:class:`lfvsim.engine.policies.TargetTracking`) acts at each minute's start
on the utilisation of the minutes just ended: busy slot-seconds over in-service slot-seconds.
CloudWatch does not show busy time, so each minute's utilisation is rebuilt from the history
as ``SuccessfulRequestCount x latency_mean_s / (slots x 60 x InServiceInferenceUnits)``: it
rests on the scenario's capacity model (slots and mean latency), and it is approximate, off
by the sampling error of the service times and by requests that straddle a minute. Each
estimate's interval is widened by three standard errors of that rebuild.

Scale-out: a decision at minute ``j`` needs the ``n`` minutes before it all above the target.
For each candidate ``n`` the boundaries split into those that scaled out (the target lies
below the lowest utilisation of their window) and those that could have and did not (model
settled, below MaxInferenceUnits: the target lies at or above the lowest utilisation of
their window). The ``n`` and target that misclassify the fewest boundaries are the estimate;
the interval of the target runs from the highest non-triggering to the lowest triggering
window. Scale-in is the same with the highest utilisation of the window against
``scale_in_ratio x target``, counting only boundaries where the rule's formula asks for fewer
units and its cooldown has passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from lfvsim.experiments.calibrate import Estimate
from lfvsim.scenario import Autoscaler, Unit
from lfvsim.traces.metric_history import MetricHistory

__all__ = [
    "MAX_DATAPOINTS",
    "MISFIT_SHARE",
    "WIDEST",
    "Utilisation",
    "estimate_scale_in",
    "estimate_scale_out",
    "rebuild_utilisation",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_TOL = 1e-6
_Z = 3.0  # standard errors the intervals are widened by
#: Largest datapoint count tried.
MAX_DATAPOINTS = 20
#: A threshold interval wider than this share of its midpoint is a bound, not an estimate.
WIDEST = 0.5
#: A rule that misclassifies more than this share of its decisive boundaries beyond the
#: rebuild's error (three standard errors: about 1 in 300 by chance) does not fit the
#: history: its estimates are reported as a misfit, not as values.
MISFIT_SHARE = 0.005


@dataclass(frozen=True)
class Utilisation:
    """Per-minute utilisation rebuilt from the history, with what the rule needs around it.

    Attributes
    ----------
    percent : ndarray
        Utilisation (%) per minute; NaN where the model was not hosted, in a gap, or had no
        unit in service.
    rel_error : ndarray
        Relative error (3 standard errors) of ``percent``.
    desired, in_service, max_units, min_units : ndarray
        The history's unit metrics per minute (NaN where missing).
    """

    percent: FloatArray
    rel_error: FloatArray
    desired: FloatArray
    in_service: FloatArray
    max_units: FloatArray
    min_units: FloatArray


def rebuild_utilisation(history: MetricHistory, unit: Unit) -> Utilisation | str:
    """The utilisation the autoscaler saw each minute, or why the history cannot give it."""
    frame = history.frame
    need = ("SuccessfulRequestCount", "InServiceInferenceUnits", "DesiredInferenceUnits")
    missing = [m for m in need if m not in frame]
    if missing:
        return f"the history has no {missing[0]}"
    usable = frame["hosted"].fillna(True).to_numpy(bool) & ~frame["gap"].to_numpy(bool)
    served = frame["SuccessfulRequestCount"].to_numpy(float)
    in_service = np.where(usable, frame["InServiceInferenceUnits"].to_numpy(float), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = 100.0 * served * unit.work_per_request_s / (unit.servers * 60.0 * in_service)
        percent[~(in_service > _TOL)] = np.nan
        if unit.throttling == "rate":
            # The rate model's utilisation is served / (rate x units): exact, no sampling.
            rel = np.full_like(percent, _TOL)
        else:
            cv = _service_cv(unit)
            # Sampling error of a sum of service times, plus requests straddling the minute.
            rel = _Z * cv / np.sqrt(np.maximum(served, 1.0)) + _tail_s(unit) / 60.0

    def column(name: str) -> FloatArray:
        if name not in frame:
            return np.full(len(frame), np.nan)
        return np.where(usable, frame[name].to_numpy(float), np.nan)

    return Utilisation(
        percent,
        rel,
        column("DesiredInferenceUnits"),
        in_service,
        column("MaxInferenceUnits"),
        column("MinInferenceUnits"),
    )


def estimate_scale_out(u: Utilisation, config: Autoscaler) -> tuple[Estimate, Estimate]:
    """The target (%) and the datapoints to scale out, each with its interval."""
    names = ("autoscaler.target_percent", "autoscaler.scale_out_datapoints")
    settled = _settled(u)
    room = ~(u.desired >= u.max_units - _TOL)  # NaN Max (not exported): assume room
    minutes = len(u.percent)
    fired = np.zeros(minutes, bool)
    could = np.zeros(minutes, bool)
    fired[1:] = u.desired[1:] > u.desired[:-1] + _TOL
    could[1:] = settled[:-1] & room[:-1] & ~fired[1:]
    # The cooldown keeps a fired boundary's successor from being a fair "did not fire".
    could &= _cooled(fired, config.scale_out_cooldown_s)
    target, points = _fit_rule(u, fired, could, names, above=True, threshold_of=lambda t: t)
    return _clip(target, 0.0, 100.0), points


def _clip(e: Estimate, lowest: float, highest: float) -> Estimate:
    """The estimate kept inside the values the scenario allows."""

    def inside(x: float | None) -> float | None:
        return None if x is None else min(max(x, lowest), highest)

    return replace(e, value=inside(e.value), low=inside(e.low), high=inside(e.high))


def estimate_scale_in(
    u: Utilisation, config: Autoscaler, target_percent: float
) -> tuple[Estimate, Estimate]:
    """The datapoints to scale in and the scale-in ratio, given the target (%)."""
    names = ("autoscaler.scale_in_ratio", "autoscaler.scale_in_datapoints")
    settled = _settled(u)
    minutes = len(u.percent)
    fired = np.zeros(minutes, bool)
    could = np.zeros(minutes, bool)
    fired[1:] = u.desired[1:] < u.desired[:-1] - _TOL
    # The rule only scales in when its formula asks for fewer units: with the minute's
    # utilisation at its highest plausible value, ceil(units x metric / target) < desired.
    high = u.percent * (1.0 + u.rel_error)
    with np.errstate(invalid="ignore"):
        wants_fewer = np.ceil(u.in_service * high / target_percent - 1e-9) < u.desired - _TOL
        floor = ~(u.desired <= u.min_units + _TOL)
    could[1:] = settled[:-1] & wants_fewer[:-1] & floor[:-1] & ~fired[1:]
    could &= _cooled(fired, config.scale_in_cooldown_s)
    ratio, points = _fit_rule(
        u, fired, could, names, above=False, threshold_of=lambda t: t / target_percent
    )
    return _clip(ratio, 0.0, 1.0), points


def _fit_rule(
    u: Utilisation,
    fired: BoolArray,
    could: BoolArray,
    names: tuple[str, str],
    *,
    above: bool,
    threshold_of: Callable[[float], float],
) -> tuple[Estimate, Estimate]:
    """Fit ``n`` datapoints and a threshold to the boundaries that fired and could have."""
    threshold_name, points_name = names
    events = int(fired.sum())
    if events == 0:
        why = "no such step of DesiredInferenceUnits in the history; the assumption stays"
        return _uninformed(threshold_name, why), _uninformed(points_name, why)
    fits = [_fit_n(u, fired, could, n, above) for n in range(1, MAX_DATAPOINTS + 1)]
    scored = [f for f in fits if f is not None]
    if not scored:
        why = "no scaling step with whole windows of data before it; the assumption stays"
        return _uninformed(threshold_name, why), _uninformed(points_name, why)
    best = min((f.violations, f.errors) for f in scored)
    chosen = next(f for f in scored if (f.violations, f.errors) == best)
    # Every count the data cannot rule out beyond the rebuild's error is in the interval.
    tied = [f for f in scored if f.violations == best[0]]
    if best[0] > math.floor(MISFIT_SHARE * chosen.decisive):
        why = (
            f"misfit: the best rule ({chosen.n} datapoints) misclassifies {best[0]} of "
            f"{chosen.decisive} boundaries beyond the rebuild's error; the history was not "
            "made by this rule, the assumption stays"
        )
        return _uninformed(threshold_name, why, events), _uninformed(points_name, why, events)
    n_low, n_high = min(f.n for f in tied), max(f.n for f in tied)
    if n_low == 1 and n_high == MAX_DATAPOINTS:
        why = (
            f"every datapoint count from 1 to {MAX_DATAPOINTS} fits the {events} steps "
            "equally; the history cannot tell them apart, the assumption stays"
        )
        return _uninformed(threshold_name, why, events), _uninformed(points_name, why, events)
    low, high = float(threshold_of(chosen.low)), float(threshold_of(chosen.high))
    if not (math.isfinite(low) and math.isfinite(high)):
        side = (
            "minute that could have stepped and did not"
            if math.isnan(low if above else high)
            else "step"
        )
        bound = high if math.isfinite(high) else low
        why = (
            f"no {side} in the history bounds it; the data only says "
            f"{'below' if math.isfinite(high) else 'above'} {bound:.3g}, the assumption stays"
        )
        threshold = Estimate(
            threshold_name,
            False,
            None,
            low if math.isfinite(low) else None,
            high if math.isfinite(high) else None,
            events,
            why,
        )
    elif high - low > WIDEST * 0.5 * (low + high):
        threshold = Estimate(
            threshold_name,
            False,
            None,
            low,
            high,
            events,
            f"the data only bounds it to {low:.3g}-{high:.3g}: too few minutes near the "
            "threshold to pin it down; the assumption stays",
        )
    else:
        threshold = Estimate(
            threshold_name,
            True,
            0.5 * (low + high),
            low,
            high,
            events,
            f"{events} steps, {chosen.decisive - events} boundaries that could have stepped "
            f"and did not, {best[0]} misclassified beyond the rebuild's error ({best[1]} "
            "within it); interval: highest non-triggering to lowest "
            "triggering window, widened by the rebuild's sampling error; rests on the "
            "scenario's slots and latency_mean_s",
        )
    points = Estimate(
        points_name,
        True,
        float(chosen.n),
        float(n_low),
        float(n_high),
        events,
        f"fewest misclassified boundaries ({best[0]}, {best[1]} within the error) at {n_low}"
        + (f"-{n_high}" if n_high > n_low else "")
        + " datapoints",
    )
    return threshold, points


@dataclass(frozen=True)
class _Fit:
    n: int
    violations: int
    errors: int
    decisive: int
    low: float
    high: float


def _fit_n(u: Utilisation, fired: BoolArray, could: BoolArray, n: int, above: bool) -> _Fit | None:
    """Best threshold for ``n`` datapoints: misclassified boundaries and the interval."""
    minutes = len(u.percent)
    if minutes <= n:
        return None
    win = np.lib.stride_tricks.sliding_window_view(u.percent, n)  # win[k] = minutes k..k+n-1
    err = np.lib.stride_tricks.sliding_window_view(u.rel_error, n)
    j = np.arange(n, minutes)  # boundary j uses minutes j-n..j-1 = win[j-n]
    w, e = win[j - n], err[j - n]
    ok = np.isfinite(w).all(axis=1)
    if above:  # fires when every minute is above: the window's lowest decides
        key, lo, hi = w.min(axis=1), (w * (1 - e)).min(axis=1), (w * (1 + e)).min(axis=1)
    else:  # fires when every minute is below: the window's highest decides
        key, lo, hi = w.max(axis=1), (w * (1 - e)).max(axis=1), (w * (1 + e)).max(axis=1)
    f, c = fired[j] & ok, could[j] & ok
    if not f.any():
        return None
    # Sweep the threshold t. A boundary is a violation when it lies on the wrong side of t
    # even at the far end of its error band, and an error when its rebuilt value does; the
    # best t has the fewest violations, then the fewest errors.
    if above:  # fired wrong when the window's lowest <= t; could wrong when it is > t
        f_key, f_band, c_key, c_band = key[f], hi[f], key[c], lo[c]
    else:  # fired wrong when the window's highest >= t; could wrong when it is < t
        f_key, f_band, c_key, c_band = key[f], lo[f], key[c], hi[c]
    cuts = np.unique(np.concatenate([[-np.inf, np.inf], f_key, f_band, c_key, c_band]))
    violations = _wrong(f_band, c_band, cuts, above)
    errors = _wrong(f_key, c_key, cuts, above)
    k = int(np.lexsort((errors, violations))[0])
    best, t = int(violations[k]), cuts[k]
    # The interval from the boundaries that are not violations at the best threshold.
    if above:
        c_ok, f_ok = c_band <= t, f_band > t
        low = float(c_band[c_ok].max()) if c_ok.any() else math.nan
        high = float(f_band[f_ok].min()) if f_ok.any() else math.nan
    else:
        f_ok, c_ok = f_band < t, c_band >= t
        low = float(f_band[f_ok].max()) if f_ok.any() else math.nan
        high = float(c_band[c_ok].min()) if c_ok.any() else math.nan
    return _Fit(n, best, int(errors[k]), int(f.sum() + c.sum()), low, high)


def _wrong(
    f_values: FloatArray, c_values: FloatArray, cuts: FloatArray, above: bool
) -> npt.NDArray[np.int64]:
    """Per threshold in ``cuts``: fired and could-have boundaries on the wrong side."""
    fs, cs = np.sort(f_values), np.sort(c_values)
    if above:
        out = np.searchsorted(fs, cuts, "right") + (len(cs) - np.searchsorted(cs, cuts, "right"))
    else:
        out = (len(fs) - np.searchsorted(fs, cuts, "left")) + np.searchsorted(cs, cuts, "left")
    return np.asarray(out, np.int64)


def _settled(u: Utilisation) -> BoolArray:
    """Minutes with every desired unit in service and no step inside the minute."""
    whole = np.abs(u.desired - np.round(u.desired)) <= _TOL
    with np.errstate(invalid="ignore"):
        return np.asarray(whole & (np.abs(u.in_service - u.desired) <= _TOL), bool)


def _cooled(fired: BoolArray, cooldown_s: float) -> BoolArray:
    """Boundaries at least ``cooldown_s`` after the last step of the same direction."""
    gap = math.ceil(cooldown_s / 60.0 - _TOL)
    out = np.ones(len(fired), bool)
    if gap <= 0:
        return out
    for k in np.flatnonzero(fired):
        out[k + 1 : k + gap] = False
    return out


def _service_cv(unit: Unit) -> float:
    if unit.latency_distribution == "constant":
        return 0.0
    if unit.latency_distribution == "exponential":
        return 1.0
    _, sigma = unit.lognormal_params()
    return math.sqrt(math.expm1(sigma * sigma))


def _tail_s(unit: Unit) -> float:
    """A long service time: how much busy time can fall in the next minute."""
    if unit.latency_distribution == "lognormal":
        return unit.latency_p99_s
    return unit.latency_mean_s * (1.0 if unit.latency_distribution == "constant" else 4.6)


def _uninformed(name: str, why: str, events: int = 0) -> Estimate:
    return Estimate(name, False, None, None, None, events, why)
