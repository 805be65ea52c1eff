"""Which structure of throttling fits a history better: concurrency slots or a token bucket.

AWS does not say whether a unit refuses requests because its concurrency slots are busy or
because it exceeds a request rate. Both structures are fitted to the same history
(:func:`lfvsim.experiments.calibrate_capacity.fit_slots`,
:func:`lfvsim.experiments.calibrate_rate.fit_bucket`) and scored by the same likelihood:
the throttled counts of the scored minutes, pooled by load per unit, as binomial draws
(:func:`lfvsim.experiments.calibrate_rate.pooled_log_likelihood`). The slots model's
share is Erlang's loss formula per minute (1 parameter, the latency given), the bucket's
the replay's (2 parameters). Akaike's information criterion (AIC = 2 parameters - 2 log
likelihood) weighs the extra parameter; the difference says by how much the better one
wins. Approximate: both assume Poisson arrivals inside a minute, and the binomial
likelihood counts clustered throttles as independent, which exaggerates a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lfvsim.experiments.calibrate_capacity import erlang_b
from lfvsim.experiments.calibrate_rate import BucketFit, Replay, pooled_log_likelihood
from lfvsim.scenario import Unit

__all__ = ["PARAMETERS", "StructureChoice", "compare_structures"]

#: Fitted parameters of each structure (the slots model's latency is given, not fitted).
PARAMETERS = {"slots": 1, "rate": 2}


@dataclass(frozen=True)
class StructureChoice:
    """The structure that fits better, by how much, and what that means.

    ``chosen`` is None when the history informs neither structure (never throttled).
    """

    chosen: str | None
    log_likelihood: dict[str, float]
    aic: dict[str, float]
    aic_difference: float | None
    meaning: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "chosen": self.chosen,
            "log_likelihood": self.log_likelihood,
            "aic": self.aic,
            "aic_difference": self.aic_difference,
            "meaning": self.meaning,
        }


def compare_structures(
    replay: Replay, unit: Unit, slots: float | None, bucket: BucketFit
) -> StructureChoice:
    """Score both fitted structures on the same minutes and pick the lower AIC.

    ``slots`` is the best slot count (:attr:`SlotsFit.best`), None when none was fitted:
    a count withdrawn for a misfit is still scored, so the comparison says by how much
    the other structure fits better.
    """
    fitted: dict[str, float] = {}
    if slots is not None:
        fitted["slots"] = pooled_log_likelihood(_slots_expected(replay, unit, slots), replay)
    if bucket.rate.informed and bucket.burst.informed:
        fitted["rate"] = bucket.log_likelihood
    aic = {name: 2.0 * PARAMETERS[name] - 2.0 * ll for name, ll in fitted.items()}
    if not fitted:
        return StructureChoice(
            None, {}, {}, None,
            "the history informs neither structure of throttling; the scenario's stays",
        )  # fmt: skip
    if len(fitted) == 1:
        (only,) = fitted
        other = "rate" if only == "slots" else "slots"
        return StructureChoice(
            only, fitted, aic, None,
            f"only the {only} model could be fitted (the {other} model's parameters were "
            "not informed); nothing to compare it with",
        )  # fmt: skip
    chosen = min(aic, key=lambda name: aic[name])
    other = "rate" if chosen == "slots" else "slots"
    difference = aic[other] - aic[chosen]
    return StructureChoice(chosen, fitted, aic, difference, _meaning(chosen, other, difference))


def _meaning(chosen: str, other: str, difference: float) -> str:
    """Burnham and Anderson's reading of an AIC difference, said as a sentence."""
    if difference < 2.0:
        verdict = "both fit about equally well: the history does not tell them apart"
    elif difference < 10.0:
        verdict = f"the {other} model has considerably less support"
    else:
        verdict = f"the {other} model has essentially no support"
    return (
        f"{chosen} fits better by {difference:.1f} in AIC: {verdict} (approximate: "
        "throttles come in runs, which the binomial likelihood counts as independent)"
    )


def _slots_expected(replay: Replay, unit: Unit, slots: float) -> np.ndarray:
    """Erlang's expected throttles of each scored minute with ``slots`` per unit."""
    scored = replay.scored
    offered = replay.offered[scored].astype(float)
    servers = round(slots) * replay.units[scored].astype(float)
    erlangs = offered / 60.0 * unit.latency_mean_s
    expected: np.ndarray = offered * erlang_b(servers, erlangs)
    return expected
