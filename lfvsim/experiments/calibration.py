"""Run every estimator on a history and set what they inform in the scenario.

The order matters: the unit's capacity comes first, in both structures of throttling (the
slots given the scenario's mean latency, directly; the token bucket's rate and burst by
simulation), and the one that fits better by AIC is chosen; the autoscaler's utilisation
is rebuilt with it, and the scale-in threshold is a fraction of the target found before
it. ``unit.throttling`` names the chosen structure, calibrated by the AIC difference, and
only its fitted values are set; the other's are recorded with ``chosen = false``. With the
slots, the burstiness of arrivals inside a minute is fitted too
(:mod:`lfvsim.experiments.calibrate_burst`) and competes with both by AIC: where slots
with batch arrivals fit best, ``traffic.arrivals`` becomes ``'batch'`` with the fitted
mean size and the slots fitted with it replace the Poisson ones, before the autoscaler's
rule is rebuilt. Each
informed value is set in the scenario and recorded in its ``calibration`` table with its
source, period and interval; the rest keep their assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lfvsim.budget import BASE_BYTES, Limits, check
from lfvsim.budget import Estimate as Work
from lfvsim.experiments import calibrate_burst, calibrate_rate
from lfvsim.experiments.calibrate import Estimate, estimate_provisioning_delay
from lfvsim.experiments.calibrate_autoscaler import (
    estimate_scale_in,
    estimate_scale_out,
    rebuild_utilisation,
)
from lfvsim.experiments.calibrate_burst import BurstFit, fit_burstiness, with_batches
from lfvsim.experiments.calibrate_capacity import fit_slots
from lfvsim.experiments.calibrate_rate import (
    BucketFit,
    Replay,
    fit_bucket,
    replay_of,
)
from lfvsim.experiments.calibrate_structure import StructureChoice, compare_structures
from lfvsim.scenario import Calibrated, Scenario
from lfvsim.traces.metric_history import MetricHistory

__all__ = [
    "NOT_ESTIMATED",
    "Calibration",
    "calibrate_scenario",
    "calibration_work",
    "check_calibration_budget",
]

#: Parameters no direct estimator informs: they keep the scenario's assumption.
NOT_ESTIMATED = (
    "unit.latency_mean_s",
    "unit.when_busy",
    "autoscaler.metric",
    "autoscaler.scale_out_cooldown_s",
    "autoscaler.scale_in_cooldown_s",
)
_WHOLE = ("unit.slots", "autoscaler.scale_out_datapoints", "autoscaler.scale_in_datapoints")


@dataclass(frozen=True)
class Calibration:
    """The estimates and the scenario with the informed ones set."""

    scenario: Scenario
    estimates: list[Estimate]
    period: str
    notes: list[str] = field(default_factory=list)
    structure: StructureChoice | None = None
    other_structure: list[Estimate] = field(default_factory=list)
    burstiness: BurstFit | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        throttling = None
        if self.structure is not None:
            throttling = {
                **self.structure.to_dict(),
                "other_estimates": [e.to_dict() for e in self.other_structure],
            }
        return {
            "period": self.period,
            "estimates": [e.to_dict() for e in self.estimates],
            "throttling": throttling,
            "burstiness": None if self.burstiness is None else self.burstiness.to_dict(),
            "not_estimated": list(NOT_ESTIMATED),
            "notes": self.notes,
        }


#: Memory per minute of history: the frame read, the replay's arrays and the rebuilt
#: utilisation (a few hundred bytes).
_BYTES_PER_HISTORY_MINUTE = 1_000


def calibration_work(requests: float, minutes: int) -> Work:
    """What calibrating a history of ``requests`` offered requests over ``minutes`` uses
    (approximate, erring on the large side: ``benchmarks/bench_calibrate_memory.py``).

    The two simulation-based fits dominate: the token bucket's, then the burstiness's
    (one after the other, so memory is the larger of the two and time their sum).
    """
    rate = calibrate_rate.fit_work(requests)
    burst = calibrate_burst.fit_work(requests)
    # No requests or simulations in the message: the detail says what is replayed.
    return Work(
        requests=0.0,
        simulations=0,
        memory_bytes=BASE_BYTES
        + minutes * _BYTES_PER_HISTORY_MINUTE
        + max(rate.memory_bytes, burst.memory_bytes),
        seconds=rate.seconds + burst.seconds,
        detail=f"{requests:,.0f} requests in the history; {rate.detail}; {burst.detail}",
    )


def check_calibration_budget(history: MetricHistory, allow_large: bool = False) -> Work:
    """Refuse calibrating ``history`` past the memory and time budget, before any work
    (:func:`calibration_work`).

    Raises
    ------
    lfvsim.budget.BudgetError
        Over the budget (unless ``allow_large``), or over the machine's memory.
    """
    work = calibration_work(float(history.offered().sum()), len(history.frame))
    return check(
        work, "calibrate a shorter period of the history", Limits.from_env(allow_large=allow_large)
    )


def calibrate_scenario(
    scenario: Scenario, history: MetricHistory, *, allow_large: bool = False
) -> Calibration:
    """Estimate what ``history`` shows directly and set it in a copy of ``scenario``.

    ``allow_large`` lifts the memory and time budget of the fits; past it,
    :class:`lfvsim.budget.BudgetError` is raised before any work
    (:func:`check_calibration_budget`).
    """
    check_calibration_budget(history, allow_large)
    index = history.frame.index
    period = f"{index[0]:%Y-%m-%dT%H:%MZ} to {index[-1]:%Y-%m-%dT%H:%MZ}" if len(index) else ""
    notes: list[str] = []
    slots_fit = fit_slots(history, scenario.unit)
    slots = slots_fit.estimate
    replay = replay_of(history)
    structure: StructureChoice | None = None
    burst: BurstFit | None = None
    if isinstance(replay, str):
        bucket = None
        notes.append(f"the token bucket is not fitted: {replay}")
    else:
        bucket = fit_bucket(replay)
        structure = compare_structures(replay, scenario.unit, slots_fit.best, bucket)
        burst = _burstiness(replay, scenario, slots)
        structure, burst = with_batches(structure, burst)
        if burst.arrivals == "batch" and burst.slots is not None:
            # The Poisson fit read the bursts as too few slots: the joint fit replaces it.
            slots = burst.slots
    if slots_fit.misfit is not None:
        notes.append(
            f"the slots model misfits the history ({slots_fit.misfit}): its estimate is withdrawn"
            if slots is slots_fit.estimate
            else f"the slots model with Poisson arrivals misfits the history ({slots_fit.misfit});"
            " the fit with bursty arrivals replaces it"
        )
    chosen = scenario.unit.throttling if structure is None else structure.chosen
    chosen = chosen or scenario.unit.throttling
    fits = {"slots": [slots], "rate": _bucket_estimates(bucket)}
    other = "rate" if chosen == "slots" else "slots"
    estimates = [estimate_provisioning_delay(history), *fits[chosen]]
    unit = scenario.unit.model_copy(update={"throttling": chosen})
    for e in fits["slots"] + fits["rate"]:
        if e.informed and e.value is not None:
            key = e.parameter.partition(".")[2]
            unit = unit.model_copy(update={key: round(e.value) if key == "slots" else e.value})
    utilisation = rebuild_utilisation(history, unit)
    if isinstance(utilisation, str):
        notes.append(f"the autoscaler's rule is not estimated: {utilisation}")
    else:
        target, out_points = estimate_scale_out(utilisation, scenario.autoscaler)
        if unit.throttling == "rate" and bucket is not None:
            target = _through_rate(target, bucket)
        estimates += [target, out_points]
        if target.informed and target.value is not None:
            estimates += estimate_scale_in(utilisation, scenario.autoscaler, target.value)
        else:
            notes.append("scale-in is not estimated: it is a fraction of the target")
    values: dict[str, Any] = {}
    fitted: dict[str, Calibrated] = {}
    others = [] if bucket is None and other == "rate" else fits[other]
    for e in estimates + others:
        if not e.informed or e.value is None or e.low is None or e.high is None:
            continue
        method = e.detail
        if structure is not None and e in others:
            # Recorded for the reader, not set: the scenario does not use the other model.
            method = f"the {other} model, not chosen ({structure.meaning}): {method}"
            fitted[e.parameter] = Calibrated(
                source=history.source,
                period=period,
                low=e.low,
                high=e.high,
                method=method,
                chosen=False,
            )
            continue
        values[e.parameter] = round(e.value) if e.parameter in _WHOLE else e.value
        if structure is not None and structure.chosen is not None and e in fits[chosen]:
            method = f"the {chosen} model, chosen ({structure.meaning}): {method}"
        fitted[e.parameter] = Calibrated(
            source=history.source, period=period, low=e.low, high=e.high, method=method
        )
    if structure is not None and structure.chosen is not None:
        values["unit.throttling"] = structure.chosen
        fitted["unit.throttling"] = Calibrated(
            source=history.source,
            period=period,
            method=f"chosen by AIC (difference {structure.aic_difference or 0:.1f}): "
            f"{structure.meaning}",
        )
    if burst is not None:
        if burst.arrivals == "batch" or not burst.size.informed:
            # A size kept out (Poisson stays, or the bucket won) is in ``burstiness`` only:
            # the estimates are what the scenario sets, or could not inform.
            estimates.append(burst.size)
        _set_arrivals(burst, values, fitted, history.source, period)
    calibrated = scenario.with_overrides(values, source="calibration") if values else scenario
    calibrated = calibrated.model_copy(update={"calibration": {**scenario.calibration, **fitted}})
    return Calibration(calibrated, estimates, period, notes, structure, others, burst)


def _burstiness(replay: Replay, scenario: Scenario, slots: Estimate) -> BurstFit:
    """The burstiness fitted with the slots (whichever structure the scenario assumes),
    starting from the Poisson fit's slots."""
    spread_s = float(getattr(scenario.traffic, "batch_spread_s", 0.5))
    start = round(slots.value) if slots.informed and slots.value is not None else None
    unit = scenario.unit.model_copy(update={"throttling": "slots"})
    return fit_burstiness(replay, unit, spread_s, start)


def _set_arrivals(
    burst: BurstFit,
    values: dict[str, Any],
    fitted: dict[str, Calibrated],
    source: str,
    period: str,
) -> None:
    """Set the arrival model the history supports (batch, or Poisson kept), if it does."""
    size = burst.size
    if burst.arrivals is None or size.value is None:
        return
    values["traffic.arrivals"] = burst.arrivals
    fitted["traffic.arrivals"] = Calibrated(
        source=source, period=period, method=f"chosen by likelihood ratio: {burst.meaning}"
    )
    if burst.arrivals == "batch":
        values["traffic.batch_mean_size"] = size.value
        fitted["traffic.batch_mean_size"] = Calibrated(
            source=source, period=period, low=size.low, high=size.high, method=size.detail
        )


def _through_rate(target: Estimate, bucket: BucketFit) -> Estimate:
    """The target's interval widened by the fitted rate's: the rate model's utilisation is
    served / (rate_tps x units), so the rate's uncertainty carries over in proportion."""
    rate = bucket.rate
    t_low, t_high, r_value, r_low, r_high = target.low, target.high, rate.value, rate.low, rate.high
    if t_low is None or t_high is None or r_value is None or r_low is None or r_high is None:
        return target
    return replace(
        target,
        low=t_low * r_value / r_high,
        high=t_high * r_value / r_low,
        detail=f"{target.detail}; interval widened by the fitted rate_tps's",
    )


def _bucket_estimates(bucket: BucketFit | None) -> list[Estimate]:
    if bucket is None:
        return []
    return [bucket.rate, bucket.burst]
