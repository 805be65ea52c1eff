"""Direct estimates of unpublished parameters from a model's CloudWatch history.

This module holds the provisioning delay (the autoscaler's rule and the slots have modules
of their own; :mod:`lfvsim.experiments.calibration` runs them all): the lag between a
``DesiredInferenceUnits`` step up and the matching rise of ``InServiceInferenceUnits``. Both
are per-minute averages, so a unit that starts serving mid-minute shows as a fraction, which
places the moment to the second; a step of the desired units that is whole in its minute was
decided at the minute's start (the autoscaler acts on one-minute datapoints). A parameter
the history cannot inform is reported as such and keeps the scenario's assumption.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lfvsim.traces.metric_history import MetricHistory

__all__ = ["RESOLUTION_S", "Estimate", "estimate_provisioning_delay"]

FloatArray = npt.NDArray[np.float64]
_TOL = 1e-6
#: How closely per-minute averages place a moment (s): exports round them, and a unit's
#: share of a minute written to 6 decimals is good to well under a second.
RESOLUTION_S = 1.0


@dataclass(frozen=True)
class Estimate:
    """One parameter's estimate from the history.

    ``informed`` is False when the history holds nothing that shows the parameter; then
    ``value`` is None, ``low`` and ``high`` hold whatever bound the data does give (else
    None), and ``detail`` says why. ``weak`` marks an informed value the data barely
    singles out: its interval holds other values that fit about as well, so the value is a
    best guess and the interval is the finding.
    """

    parameter: str
    informed: bool
    value: float | None
    low: float | None
    high: float | None
    events: int
    detail: str
    weak: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def estimate_provisioning_delay(history: MetricHistory) -> Estimate:
    """Seconds from a scale-out decision until the new units serve.

    Each step up of ``DesiredInferenceUnits`` from a settled state (every desired unit in
    service) gives one estimate; the value is their median and the interval their range
    widened by :data:`RESOLUTION_S`.
    Steps taken while earlier units were still pending, or undone before the units
    arrived, are skipped.
    """
    name = "autoscaler.provisioning_delay_s"
    frame = history.frame
    missing = [m for m in ("DesiredInferenceUnits", "InServiceInferenceUnits") if m not in frame]
    if missing:
        return Estimate(name, False, None, None, None, 0, f"the history has no {missing[0]}")
    usable = frame["hosted"].fillna(True).to_numpy(bool) & ~frame["gap"].to_numpy(bool)
    desired = np.where(usable, frame["DesiredInferenceUnits"].to_numpy(float), np.nan)
    in_service = np.where(usable, frame["InServiceInferenceUnits"].to_numpy(float), np.nan)
    lags = [
        lag
        for j in range(1, len(frame))
        if (lag := _lag_after_step(desired, in_service, j)) is not None
    ]
    if not lags:
        return Estimate(
            name, False, None, None, None, 0,
            "no scale-out from a settled state in the history; the assumption stays",
        )  # fmt: skip
    values = np.array(lags)
    return Estimate(
        name,
        True,
        float(np.median(values)),
        float(values.min()) - RESOLUTION_S,
        float(values.max()) + RESOLUTION_S,
        len(lags),
        f"median of {len(lags)} scale-outs; interval: their range, widened by the "
        f"{RESOLUTION_S:g} s the per-minute averages resolve",
    )


def _lag_after_step(desired: FloatArray, in_service: FloatArray, j: int) -> float | None:
    """The lag (s) after a step up of the desired units in minute ``j``, or None."""
    before, after = desired[j - 1], desired[j]
    if not (np.isfinite(before) and np.isfinite(after)) or after <= before + _TOL:
        return None
    d0 = round(before)
    if abs(before - d0) > _TOL or abs(in_service[j - 1] - d0) > _TOL:
        return None  # not settled: units still pending, or a step inside minute j - 1
    target = np.ceil(after - _TOL)
    step = target - d0
    # The desired units' average over minute j says when in the minute the step came.
    decided_s = 60.0 * (j + 1 - (after - d0) / step)
    m = j
    while m < len(in_service) and np.isfinite(in_service[m]) and in_service[m] <= d0 + _TOL:
        if not np.isfinite(desired[m]) or desired[m] < after - _TOL:
            return None  # undone or data ends before the units arrived
        m += 1
    if m >= len(in_service) or not np.isfinite(in_service[m]):
        return None
    share = min(1.0, (in_service[m] - d0) / step)
    serving_s = 60.0 * (m + 1 - share)
    return float(serving_s - decided_s)
