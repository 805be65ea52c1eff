"""The StartModel request a scenario stands for: what an analyst finally runs.

Lookout for Vision scenarios give a ``StartModel`` request (ProjectName, ModelVersion,
MinInferenceUnits, MaxInferenceUnits, ClientToken); Rekognition Custom Labels scenarios
(``service = "rekognition"``) give a ``StartProjectVersion`` request (ProjectVersionArn,
MinInferenceUnits, MaxInferenceUnits), which has no idempotency token.

>>> request = start_model_request(scenario, units=(2, 6))
>>> json.dumps(request)  # for aws lookoutvision start-model --cli-input-json

The ClientToken follows the plan and the day of the start (UTC): StartModel treats a call
with a token it saw in the last 8 hours as a retry of that call and starts nothing, so a
retry of one start must send the same token, and a new start of the same plan (after a
StopModel) a new one. Retries the same day give the same token; a deliberate restart the
same day needs a ``token_suffix``; a retry after midnight UTC passes the first day's
``start_date``.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from lfvsim.errors import InputError
from lfvsim.scenario import RCL_PROJECT_VERSION_ARN, Scenario

__all__ = [
    "StartOperation",
    "boto3_call",
    "client_token",
    "start_model_request",
    "start_operation",
    "today_utc",
]

_PROJECT = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]*$")
_VERSION = re.compile(r"^([1-9][0-9]*|latest)$")
_TOKEN = re.compile(r"^[a-zA-Z0-9-]{1,64}$")
_SUFFIX = re.compile(r"^[a-zA-Z0-9-]{1,16}$")


class StartOperation(NamedTuple):
    """The API operation that starts a scenario's model."""

    service: str  #: boto3 client name, also the AWS CLI service
    method: str  #: boto3 client method
    command: str  #: AWS CLI command
    name: str  #: API operation name


_OPERATIONS = {
    "lookoutvision": StartOperation("lookoutvision", "start_model", "start-model", "StartModel"),
    "rekognition": StartOperation(
        "rekognition", "start_project_version", "start-project-version", "StartProjectVersion"
    ),
}


def start_operation(scenario: Scenario) -> StartOperation:
    """The operation that starts the scenario's model: StartModel or StartProjectVersion."""
    return _OPERATIONS[scenario.model.service]


def today_utc() -> date:
    """Today's date in UTC, the default day of a start."""
    return datetime.now(UTC).date()


def client_token(
    project: str,
    version: str,
    min_units: int,
    max_units: int | None,
    start_date: date | None = None,
    suffix: str = "",
) -> str:
    """A ClientToken derived from the plan, the day of the start and an optional suffix.

    StartModel treats a repeated call with the same token within 8 hours as the same call
    (and as an error if its other parameters differ). The same plan, day and suffix give
    the same token, so retrying one start is safe; two plans never share a token; a new
    start of the same plan on another day, or with another ``suffix``, gets a new one.

    Parameters
    ----------
    project, version : str
        ProjectName and ModelVersion.
    min_units, max_units : int, int or None
        MinInferenceUnits and MaxInferenceUnits (None: no auto-scaling).
    start_date : date, optional
        Day of the intended start; default: today in UTC.
    suffix : str
        Tells apart deliberate starts of one plan on one day: 1-16 characters of
        ``[a-zA-Z0-9-]``, or empty.

    Returns
    -------
    str
        ``lfvsim-YYYYMMDD-`` and 40 hex digits: 57 characters of ``[a-zA-Z0-9-]``.
    """
    day = today_utc() if start_date is None else start_date
    if suffix and not _SUFFIX.match(suffix):
        raise InputError(
            f"token suffix {suffix!r} must be 1-16 characters of a-z, A-Z, 0-9 and '-'; "
            "pick one such as 'restart2'"
        )
    plan = f"{project}\n{version}\n{min_units}\n{'' if max_units is None else max_units}"
    key = f"{plan}\n{day.isoformat()}\n{suffix}"
    token = f"lfvsim-{day:%Y%m%d}-" + hashlib.sha256(key.encode()).hexdigest()[:40]
    assert _TOKEN.match(token)
    return token


def start_model_request(
    scenario: Scenario,
    units: tuple[int, int | None] | None = None,
    start_date: date | None = None,
    token_suffix: str = "",
) -> dict[str, Any]:
    """The request that starts the scenario's model, checked against the API's constraints.

    Parameters
    ----------
    scenario : Scenario
        Supplies the service, ProjectName and ModelVersion (Rekognition: the
        ProjectVersionArn) and the units.
    units : (int, int or None), optional
        ``(MinInferenceUnits, MaxInferenceUnits)`` instead of the scenario's, for example a
        recommended configuration; ``None`` as Max means no auto-scaling.
    start_date : date, optional
        Day of the intended start, part of the ClientToken; default: today in UTC.
    token_suffix : str
        Makes a deliberate new start of the same plan on the same day a new call.

    Returns
    -------
    dict
        Lookout for Vision: ``ProjectName``, ``ModelVersion``, ``MinInferenceUnits``,
        ``MaxInferenceUnits`` (absent for no auto-scaling) and ``ClientToken``, usable as
        ``aws lookoutvision start-model --cli-input-json`` and as boto3 keyword arguments.
        Rekognition: ``ProjectVersionArn``, ``MinInferenceUnits`` and ``MaxInferenceUnits``
        (absent for no auto-scaling), for ``aws rekognition start-project-version``.

    Raises
    ------
    InputError
        A parameter breaks the API's constraints, or a Rekognition scenario has no
        ``project_version_arn``; the message names the parameter and the value.
    """
    model = scenario.model
    lo, hi = (model.min_units, model.max_units) if units is None else units
    try:
        lo = operator.index(lo)
        hi = None if hi is None else operator.index(hi)
    except TypeError:
        raise InputError(
            f"inference units must be whole numbers (got Min {lo!r}, Max {hi!r})"
        ) from None
    if lo < 1 or (hi is not None and hi < 1):
        raise InputError(f"inference units must be >= 1 (got Min {lo}, Max {hi})")
    if hi is not None and hi < lo:
        raise InputError(
            f"MaxInferenceUnits {hi} is below MinInferenceUnits {lo}; raise Max or lower Min"
        )
    if model.service == "rekognition":
        arn = model.project_version_arn
        if arn is None:
            raise InputError(
                "model.project_version_arn is unset: StartProjectVersion needs the model's "
                "ProjectVersionArn; seed the scenario with 'lfvsim seed' from "
                "describe-project-versions output, or copy the ARN into [model]"
            )
        if not (20 <= len(arn) <= 2048 and RCL_PROJECT_VERSION_ARN.match(arn)):
            raise InputError(
                f"ProjectVersionArn {arn!r} breaks StartProjectVersion's rule (20-2048 "
                "characters, arn:aws:rekognition:REGION:ACCOUNT:project/PROJECT/version/"
                "VERSION/NUMBER); copy it from describe-project-versions"
            )
        request: dict[str, Any] = {"ProjectVersionArn": arn, "MinInferenceUnits": lo}
        if hi is not None:
            request["MaxInferenceUnits"] = hi
        return request
    if not (1 <= len(model.project) <= 255 and _PROJECT.match(model.project)):
        raise InputError(
            f"ProjectName {model.project!r} breaks StartModel's rule "
            "(1-255 characters, [a-zA-Z0-9][a-zA-Z0-9_-]*); rename the project in [model]"
        )
    if not (len(model.version) <= 10 and _VERSION.match(model.version)):
        raise InputError(
            f"ModelVersion {model.version!r} breaks StartModel's rule (1-10 characters, a "
            "positive integer or 'latest'); fix version in [model]"
        )
    request = {
        "ProjectName": model.project,
        "ModelVersion": model.version,
        "MinInferenceUnits": lo,
    }
    if hi is not None:
        request["MaxInferenceUnits"] = hi
    request["ClientToken"] = client_token(
        model.project, model.version, lo, hi, start_date, token_suffix
    )
    return request


def boto3_call(scenario: Scenario, request: dict[str, Any]) -> str:
    """Python source that sends ``request`` with boto3, one keyword argument a line."""
    op = start_operation(scenario)
    lines = ["import boto3", ""]
    if op.service == "lookoutvision":
        lines.append(
            "# Needs boto3 and botocore <= 1.40.60: later releases have no lookoutvision client."
        )
    lines += [
        f"client = boto3.client({json.dumps(op.service)}, "
        f"region_name={json.dumps(scenario.model.region)})",
        f"response = client.{op.method}(",
        *(f"    {key}={json.dumps(value)}," for key, value in request.items()),
        ")",
        "print(response['Status'])",
    ]
    return "\n".join(lines) + "\n"
