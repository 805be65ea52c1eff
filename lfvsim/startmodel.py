"""The StartModel request a scenario stands for: what an analyst finally runs."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from lfvsim.errors import InputError
from lfvsim.scenario import Scenario

__all__ = ["client_token", "start_model_request"]

_PROJECT = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]*$")
_TOKEN = re.compile(r"^[a-zA-Z0-9-]{1,64}$")


def client_token(project: str, version: str, min_units: int, max_units: int | None) -> str:
    """A ClientToken derived from the plan: the same plan gives the same token.

    StartModel treats a repeated call with the same token within 8 hours as the same call
    (and as an error if its other parameters differ), so re-running one plan is safe and
    two different plans never share a token. 1-64 characters of ``[a-zA-Z0-9-]``.
    """
    plan = f"{project}\n{version}\n{min_units}\n{'' if max_units is None else max_units}"
    token = "lfvsim-" + hashlib.sha256(plan.encode()).hexdigest()[:40]
    assert _TOKEN.match(token)
    return token


def start_model_request(
    scenario: Scenario, units: tuple[int, int | None] | None = None
) -> dict[str, Any]:
    """The ``StartModel`` parameters for a scenario, checked against the API's constraints.

    Parameters
    ----------
    scenario : Scenario
        Supplies ProjectName, ModelVersion and the units.
    units : (int, int or None), optional
        ``(MinInferenceUnits, MaxInferenceUnits)`` instead of the scenario's, for example a
        recommended configuration; ``None`` as Max means no auto-scaling.

    Returns
    -------
    dict
        ``ProjectName``, ``ModelVersion``, ``MinInferenceUnits``, ``MaxInferenceUnits``
        (absent for no auto-scaling) and ``ClientToken``: usable as
        ``aws lookoutvision start-model --cli-input-json`` and as boto3 keyword arguments.
    """
    model = scenario.model
    lo, hi = (model.min_units, model.max_units) if units is None else units
    if not (1 <= len(model.project) <= 255 and _PROJECT.match(model.project)):
        raise InputError(
            f"ProjectName {model.project!r} breaks StartModel's rule "
            "(1-255 characters, [a-zA-Z0-9][a-zA-Z0-9_-]*); rename the project in [model]"
        )
    if lo < 1 or (hi is not None and hi < 1):
        raise InputError(f"inference units must be >= 1 (got Min {lo}, Max {hi})")
    if hi is not None and hi < lo:
        raise InputError(f"MaxInferenceUnits {hi} is below MinInferenceUnits {lo}; raise Max")
    request: dict[str, Any] = {
        "ProjectName": model.project,
        "ModelVersion": model.version,
        "MinInferenceUnits": lo,
    }
    if hi is not None:
        request["MaxInferenceUnits"] = hi
    request["ClientToken"] = client_token(model.project, model.version, lo, hi)
    return request
