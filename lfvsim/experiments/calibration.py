"""Run every direct estimator on a history and set what they inform in the scenario.

The order matters: the slots come first (given the scenario's mean latency), the
autoscaler's utilisation is rebuilt with them, and the scale-in threshold is a fraction of
the target found before it. Each informed value is set in the scenario and recorded in its
``calibration`` table with its source, period and interval; the rest keep their assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lfvsim.experiments.calibrate import Estimate, estimate_provisioning_delay
from lfvsim.experiments.calibrate_autoscaler import (
    estimate_scale_in,
    estimate_scale_out,
    rebuild_utilisation,
)
from lfvsim.experiments.calibrate_capacity import estimate_slots
from lfvsim.scenario import Calibrated, Scenario
from lfvsim.traces.metric_history import MetricHistory

__all__ = ["NOT_ESTIMATED", "Calibration", "calibrate_scenario"]

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "period": self.period,
            "estimates": [e.to_dict() for e in self.estimates],
            "not_estimated": list(NOT_ESTIMATED),
            "notes": self.notes,
        }


def calibrate_scenario(scenario: Scenario, history: MetricHistory) -> Calibration:
    """Estimate what ``history`` shows directly and set it in a copy of ``scenario``."""
    index = history.frame.index
    period = f"{index[0]:%Y-%m-%dT%H:%MZ} to {index[-1]:%Y-%m-%dT%H:%MZ}" if len(index) else ""
    estimates = [estimate_provisioning_delay(history), estimate_slots(history, scenario.unit)]
    unit = scenario.unit
    if estimates[1].informed and estimates[1].value is not None:
        unit = unit.model_copy(update={"slots": round(estimates[1].value)})
    notes: list[str] = []
    utilisation = rebuild_utilisation(history, unit)
    if isinstance(utilisation, str):
        notes.append(f"the autoscaler's rule is not estimated: {utilisation}")
    else:
        target, out_points = estimate_scale_out(utilisation, scenario.autoscaler)
        estimates += [target, out_points]
        if target.informed and target.value is not None:
            estimates += estimate_scale_in(utilisation, scenario.autoscaler, target.value)
        else:
            notes.append("scale-in is not estimated: it is a fraction of the target")
    values: dict[str, Any] = {}
    fitted: dict[str, Calibrated] = {}
    for e in estimates:
        if not e.informed or e.value is None or e.low is None or e.high is None:
            continue
        values[e.parameter] = round(e.value) if e.parameter in _WHOLE else e.value
        fitted[e.parameter] = Calibrated(
            source=history.source, period=period, low=e.low, high=e.high, method=e.detail
        )
    calibrated = scenario.with_overrides(values, source="calibration") if values else scenario
    calibrated = calibrated.model_copy(update={"calibration": {**scenario.calibration, **fitted}})
    return Calibration(calibrated, estimates, period, notes)
