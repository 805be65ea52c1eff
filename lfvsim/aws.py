"""Models as AWS describes them: ``DescribeModel`` and ``DescribeProjectVersions``.

Amazon Lookout for Vision (``aws lookoutvision describe-model``) and Rekognition Custom
Labels (``aws rekognition describe-project-versions``) describe a trained model with its
ARN, status, performance and inference units. This module reads that description from a
saved JSON file (:func:`read_model_description`) or live through boto3
(:func:`get_model_description`), checks it against the documented constraints, and turns
it into the ``[model]`` section of a scenario (:func:`seed_scenario`,
:func:`apply_model_description`).

Saved files may come from the AWS CLI v1 (timestamps in epoch seconds), the AWS CLI v2
(ISO 8601 strings) or a boto3 response saved with ``json.dump(response, f, default=str)``;
a bare ``ModelDescription`` object loads too.

>>> from lfvsim.aws import read_model_description, seed_scenario
>>> description = read_model_description("model.json")
>>> scenario = seed_scenario(description)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lfvsim.billing import PRICE_TABLE_USD_PER_UNIT_HOUR, REGIONS
from lfvsim.errors import InputError, require_file
from lfvsim.safe_output import toml_comment
from lfvsim.scenario import RCL_PROJECT_VERSION_ARN, RCL_REGIONS, Scenario, render_toml
from lfvsim.traces.filekind import HEAD_BYTES, UTF16_BOMS, refuse_unless_json_text
from lfvsim.traces.schema import ConstantTraffic

__all__ = [
    "LFV_STATUSES",
    "PLACEHOLDER_TRAFFIC",
    "RCL_STATUSES",
    "ModelDescription",
    "apply_model_description",
    "get_model_description",
    "no_lookoutvision_client_message",
    "parse_model_description",
    "read_model_description",
    "render_seeded_scenario",
    "seed_scenario",
]

Service = Literal["lookoutvision", "rekognition"]

#: Lookout for Vision model statuses: can the version be hosted, and what the status means.
LFV_STATUSES: dict[str, tuple[bool, str]] = {
    "TRAINING": (
        False,
        "it is still training: StartModel fails until the status is TRAINED, and the "
        "performance figures are not final",
    ),
    "TRAINED": (True, "trained and not running: StartModel can host it"),
    "TRAINING_FAILED": (
        False,
        "training failed, so this version can never be hosted (StartModel fails); train a "
        "new version and seed from that",
    ),
    "STARTING_HOSTING": (True, "it is being started"),
    "HOSTED": (
        True,
        "it is running now and billed for every minute it runs; to change Min/Max, stop it "
        "and start it again",
    ),
    "HOSTING_FAILED": (
        False,
        "the last StartModel failed; read StatusMessage and fix the cause before starting it again",
    ),
    "STOPPING_HOSTING": (True, "it is being stopped and will be TRAINED again"),
    "SYSTEM_UPDATING": (True, "AWS is updating its hosting; wait until the update ends"),
    "DELETING": (
        False,
        "it is being deleted and can never be hosted again; seed from another version",
    ),
}

#: Rekognition Custom Labels project version statuses, as :data:`LFV_STATUSES`.
RCL_STATUSES: dict[str, tuple[bool, str]] = {
    "TRAINING_IN_PROGRESS": (
        False,
        "it is still training: StartProjectVersion fails until training completes, and the "
        "F1 score is not final",
    ),
    "TRAINING_COMPLETED": (True, "trained and not running: StartProjectVersion can host it"),
    "TRAINING_FAILED": (
        False,
        "training failed, so this version can never be hosted (StartProjectVersion fails); "
        "train a new version and seed from that",
    ),
    "STARTING": (True, "it is being started"),
    "RUNNING": (
        True,
        "it is running now and billed for every minute it runs; to change Min/Max, stop it "
        "and start it again",
    ),
    "FAILED": (
        False,
        "the last StartProjectVersion failed; read StatusMessage and fix the cause before "
        "starting it again",
    ),
    "STOPPING": (True, "it is being stopped"),
    "STOPPED": (True, "stopped: StartProjectVersion can host it"),
    "DELETING": (
        False,
        "it is being deleted and can never be hosted again; seed from another version",
    ),
    "COPYING_IN_PROGRESS": (
        False,
        "it is being copied and cannot be started until the copy completes",
    ),
    "COPYING_COMPLETED": (True, "copied: StartProjectVersion can host it"),
    "COPYING_FAILED": (
        False,
        "the copy failed, so this version can never be hosted; copy or train it again",
    ),
    "DEPRECATED": (
        False,
        "AWS marks it deprecated, so starting it may be refused; train a new version",
    ),
    "EXPIRED": (False, "it has expired and can no longer be started; train a new version"),
}

#: The ``[traffic]`` a seeded scenario gets when no trace is given: to be replaced.
PLACEHOLDER_TRAFFIC: dict[str, Any] = {"kind": "constant", "rate_tps": 1.0, "duration_h": 24.0}

_LFV_ARN = re.compile(
    r"^arn:aws[a-z-]*:lookoutvision:(?P<region>[^:]*):(?P<account>\d{12}):"
    r"model/(?P<project>[^/]+)/(?P<version>[^/]+)$"
)
_LFV_ARN_FORM = "arn:aws:lookoutvision:REGION:ACCOUNT:model/PROJECT/VERSION"
_RCL_ARN = re.compile(
    r"^arn:aws[a-z-]*:rekognition:(?P<region>[^:]*):(?P<account>\d{12}):"
    r"project/(?P<project>[^/]+)/version/(?P<version>[^/]+)/(?P<created>[0-9]+)$"
)
_RCL_ARN_FORM = "arn:aws:rekognition:REGION:ACCOUNT:project/PROJECT/version/VERSION/NUMBER"
_LFV_PROJECT = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]{0,254}$")
_LFV_VERSION = re.compile(r"^([1-9][0-9]{0,9}|latest)$")
_RCL_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,255}$")
_LFV_KEYS = {"ModelVersion", "ModelArn", "Performance", "EvaluationResult", "OutputConfig"}


@dataclass(frozen=True)
class ModelDescription:
    """One trained model version, as DescribeModel or DescribeProjectVersions reports it.

    Attributes
    ----------
    service : {'lookoutvision', 'rekognition'}
        Lookout for Vision, or Rekognition Custom Labels.
    project, version : str
        ProjectName and ModelVersion (Rekognition: the version name), from the ARN.
    region, account : str
        AWS region and account id, from the ARN; the region picks the price.
    arn : str
        ModelArn (Lookout for Vision) or ProjectVersionArn (Rekognition).
    min_units, max_units : int or None
        MinInferenceUnits and MaxInferenceUnits; None when the description has none
        (no Max: the model does not auto-scale).
    status, status_message : str or None
        Status and StatusMessage.
    created : datetime or None
        CreationTimestamp, timezone-aware (UTC when the input had no offset).
    f1_score, recall, precision : float or None
        Performance from training (Rekognition reports only the F1 score).
    source : str
        Where the description came from: a file name or the API call.
    """

    service: Service
    project: str
    version: str
    region: str
    account: str
    arn: str
    min_units: int | None = None
    max_units: int | None = None
    status: str | None = None
    status_message: str | None = None
    created: datetime | None = None
    f1_score: float | None = None
    recall: float | None = None
    precision: float | None = None
    source: str = "input"

    @property
    def service_name(self) -> str:
        """The service's name for people."""
        return "Lookout for Vision" if self.service == "lookoutvision" else "Rekognition"

    @property
    def status_meaning(self) -> str | None:
        """What the status means for hosting the model; None without a status."""
        if self.status is None:
            return None
        return _statuses(self.service)[self.status][1]

    @property
    def hostable(self) -> bool | None:
        """False when the status means the version cannot be started now or ever."""
        if self.status is None:
            return None
        return _statuses(self.service)[self.status][0]

    def warnings(self) -> list[str]:
        """One line per thing an analyst should know before relying on this model."""
        if self.hostable is not False:
            return []
        detail = (
            f" (StatusMessage: {_one_line(self.status_message)})" if self.status_message else ""
        )
        return [
            f"{self.source}: {self.project} version {self.version} is {self.status}: "
            f"{self.status_meaning}{detail}"
        ]

    def model_section(self) -> dict[str, Any]:
        """The ``[model]`` keys this description sets.

        ``min_units`` and ``max_units`` are left out when the description has neither
        (a model that was never started), so that the scenario's own values stay.
        """
        section: dict[str, Any] = {
            "service": self.service,
            "project": self.project,
            "version": self.version,
            "region": self.region,
            "project_version_arn": self.arn if self.service == "rekognition" else None,
        }
        if self.min_units is not None or self.max_units is not None:
            section["min_units"] = 1 if self.min_units is None else self.min_units
            section["max_units"] = self.max_units
        return section

    def header(self) -> list[str]:
        """Comment lines for a seeded scenario: what AWS said about the model."""
        lines = [f"{self.service_name} model: {self.arn}"]
        if self.status is None:
            lines.append("status: not in the description")
        else:
            lines.append(f"status: {self.status} ({self.status_meaning})")
        if self.status_message:
            lines.append(f"status message: {_one_line(self.status_message)}")
        perf = [
            f"{name} {value:.4g}"
            for name, value in (
                ("F1", self.f1_score),
                ("recall", self.recall),
                ("precision", self.precision),
            )
            if value is not None
        ]
        if perf:
            lines.append("performance from training: " + ", ".join(perf))
        if self.created is not None:
            lines.append(f"created: {self.created.isoformat()}")
        if self.min_units is None and self.max_units is None:
            lines.append(
                "no MinInferenceUnits in the description (never started?): min_units is the "
                "StartModel default, not AWS data"
            )
        elif self.max_units is None:
            lines.append("no MaxInferenceUnits in the description: the model does not auto-scale")
        return lines


# --- reading -------------------------------------------------------------------------------


def read_model_description(path: str | Path, version: str | None = None) -> ModelDescription:
    """Read a saved ``describe-model`` or ``describe-project-versions`` JSON file.

    Parameters
    ----------
    path : str or Path
        ``aws lookoutvision describe-model`` output (AWS CLI v1 or v2), a bare
        ``ModelDescription`` object, ``aws rekognition describe-project-versions`` output,
        or a boto3 response saved with ``json.dump(response, f, default=str)``.
    version : str, optional
        The version to take from a Rekognition file with several versions; for other files,
        checked against the version the file describes.

    Returns
    -------
    ModelDescription

    Raises
    ------
    InputError
        The file is missing or not JSON, or a field breaks the documented constraints; the
        message names the file, the field and the value.
    """
    path = Path(path)
    require_file(path, "describe-model file")
    raw = path.read_bytes()
    refuse_unless_json_text(
        path, raw[:HEAD_BYTES], "describe-model JSON", "save the command's JSON output as is"
    )
    # Windows PowerShell 5 redirects command output as UTF-16 with a byte-order mark.
    encoding = "utf-16" if raw.startswith(UTF16_BOMS) else "utf-8-sig"
    try:
        data = json.loads(raw.decode(encoding))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the command's JSON output") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "save the output of 'aws lookoutvision describe-model' or 'aws rekognition "
            "describe-project-versions' unchanged (boto3: json.dump(response, f, default=str))"
        ) from None
    return parse_model_description(data, source=str(path), version=version)


def parse_model_description(
    data: Any, source: str = "input", version: str | None = None
) -> ModelDescription:
    """Validate a decoded DescribeModel or DescribeProjectVersions response.

    Parameters
    ----------
    data : Any
        The decoded JSON (or a boto3 response, ``datetime`` objects included).
    source : str
        Names the input in error messages.
    version : str, optional
        As for :func:`read_model_description`.

    Returns
    -------
    ModelDescription
    """
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: expected a JSON object, found {_kind(data)}; save the output of "
            "describe-model or describe-project-versions unchanged"
        )
    if "ModelDescription" in data:
        body = data["ModelDescription"]
        if not isinstance(body, dict):
            raise InputError(f"{source}: ModelDescription is {_kind(body)}, not an object")
        return _parse_lfv(body, source, "ModelDescription.", version)
    if "ProjectVersionDescriptions" in data:
        return _parse_rcl_list(data["ProjectVersionDescriptions"], source, version)
    if "ProjectVersionArn" in data:
        return _parse_rcl(data, source, "", version)
    if data.keys() & _LFV_KEYS:
        return _parse_lfv(data, source, "", version)
    keys = ", ".join(sorted(map(str, data))[:6]) or "none"
    raise InputError(
        f"{source}: neither describe-model output (a 'ModelDescription' object) nor "
        f"describe-project-versions output ('ProjectVersionDescriptions'); keys found: {keys}"
    )


def _parse_lfv(body: dict[str, Any], source: str, at: str, version: str | None) -> ModelDescription:
    arn = _required_string(body, "ModelArn", source, at)
    match = _LFV_ARN.match(arn)
    if match is None:
        hint = (
            "; this is a Rekognition ARN: save 'aws rekognition describe-project-versions' output"
            if ":rekognition:" in arn
            else ""
        )
        raise InputError(
            f"{source}: {at}ModelArn {arn!r} is not a Lookout for Vision model ARN "
            f"({_LFV_ARN_FORM}){hint}"
        )
    region, project, arn_version = match["region"], match["project"], match["version"]
    if region not in REGIONS:
        raise InputError(
            f"{source}: {at}ModelArn names region {region!r}, which is not a Lookout for "
            f"Vision region ({', '.join(REGIONS)}); check the ARN"
        )
    if not _LFV_PROJECT.match(project):
        raise InputError(
            f"{source}: {at}ModelArn names project {project!r}, which is not a valid "
            "ProjectName (1-255 characters, [a-zA-Z0-9][a-zA-Z0-9_-]*); check the ARN"
        )
    if not _LFV_VERSION.match(arn_version):
        raise InputError(
            f"{source}: {at}ModelArn names version {arn_version!r}, which is not a "
            "ModelVersion (a positive integer or 'latest', 1-10 characters); check the ARN"
        )
    model_version = _string(body, "ModelVersion", source, at)
    if model_version is not None:
        if not _LFV_VERSION.match(model_version):
            raise InputError(
                f"{source}: {at}ModelVersion {model_version!r} is not a ModelVersion (a "
                "positive integer without leading zeros or 'latest', 1-10 characters)"
            )
        if model_version != arn_version:
            raise InputError(
                f"{source}: {at}ModelVersion {model_version!r} differs from the version in "
                f"ModelArn ({arn_version!r}); the file mixes two models"
            )
    _check_asked_version(version, arn_version, source)
    min_units, max_units = _units(body, source, at)
    status = _status(body, source, at, LFV_STATUSES)
    perf = body.get("Performance")
    if perf is not None and not isinstance(perf, dict):
        raise InputError(f"{source}: {at}Performance is {_kind(perf)}, not an object")
    perf = perf or {}
    _timestamp(body, "EvaluationEndTimestamp", source, at)
    return ModelDescription(
        service="lookoutvision",
        project=project,
        version=arn_version,
        region=region,
        account=match["account"],
        arn=arn,
        min_units=min_units,
        max_units=max_units,
        status=status,
        status_message=_string(body, "StatusMessage", source, at),
        created=_timestamp(body, "CreationTimestamp", source, at),
        f1_score=_score(perf, "F1Score", source, f"{at}Performance."),
        recall=_score(perf, "Recall", source, f"{at}Performance."),
        precision=_score(perf, "Precision", source, f"{at}Performance."),
        source=source,
    )


def _parse_rcl_list(items: Any, source: str, version: str | None) -> ModelDescription:
    if not isinstance(items, list):
        raise InputError(f"{source}: ProjectVersionDescriptions is {_kind(items)}, not a list")
    if not items:
        raise InputError(
            f"{source}: ProjectVersionDescriptions is empty; check the project ARN and "
            "--version-names of describe-project-versions"
        )
    names = []
    for i, item in enumerate(items):
        at = f"ProjectVersionDescriptions[{i}]."
        if not isinstance(item, dict):
            raise InputError(f"{source}: {at[:-1]} is {_kind(item)}, not an object")
        names.append(_rcl_arn(item, source, at)["version"])
    if version is None:
        if len(items) > 1:
            listed = ", ".join(
                f"{name} ({item.get('Status', 'no status')})"
                for name, item in zip(names, items, strict=True)
            )
            raise InputError(
                f"{source}: {len(items)} model versions: {listed}; pick one with 'lfvsim seed "
                "--version NAME', or save just that one (describe-project-versions "
                "--version-names NAME)"
            )
        index = 0
    elif version in names:
        index = names.index(version)
    else:
        raise InputError(
            f"{source}: no version {version!r} among ProjectVersionDescriptions "
            f"({', '.join(names)}); pick one of those with --version"
        )
    return _parse_rcl(items[index], source, f"ProjectVersionDescriptions[{index}].", None)


def _parse_rcl(body: dict[str, Any], source: str, at: str, version: str | None) -> ModelDescription:
    match = _rcl_arn(body, source, at)
    _check_asked_version(version, match["version"], source)
    feature = body.get("Feature")
    if feature == "CONTENT_MODERATION":
        raise InputError(
            f"{source}: {at}Feature is CONTENT_MODERATION: a Custom Moderation adapter is not "
            "hosted on inference units; lfvsim models Custom Labels versions"
        )
    min_units, max_units = _units(body, source, at)
    status = _status(body, source, at, RCL_STATUSES)
    evaluation = body.get("EvaluationResult")
    if evaluation is not None and not isinstance(evaluation, dict):
        raise InputError(f"{source}: {at}EvaluationResult is {_kind(evaluation)}, not an object")
    _timestamp(body, "TrainingEndTimestamp", source, at)
    return ModelDescription(
        service="rekognition",
        project=match["project"],
        version=match["version"],
        region=match["region"],
        account=match["account"],
        arn=match.string,
        min_units=min_units,
        max_units=max_units,
        status=status,
        status_message=_string(body, "StatusMessage", source, at),
        created=_timestamp(body, "CreationTimestamp", source, at),
        f1_score=_score(evaluation or {}, "F1Score", source, f"{at}EvaluationResult."),
        source=source,
    )


def _rcl_arn(body: dict[str, Any], source: str, at: str) -> re.Match[str]:
    arn = _required_string(body, "ProjectVersionArn", source, at)
    match = _RCL_ARN.match(arn)
    if match is None or not (20 <= len(arn) <= 2048 and RCL_PROJECT_VERSION_ARN.match(arn)):
        hint = (
            "; this is a Lookout for Vision ARN: save 'aws lookoutvision describe-model' output"
            if ":lookoutvision:" in arn
            else ""
        )
        raise InputError(
            f"{source}: {at}ProjectVersionArn {arn!r} is not a Rekognition project version "
            f"ARN ({_RCL_ARN_FORM}){hint}"
        )
    if match["region"] not in RCL_REGIONS:
        raise InputError(
            f"{source}: {at}ProjectVersionArn names region {match['region']!r}, which is not "
            f"a Rekognition region ({', '.join(RCL_REGIONS)}); check the ARN"
        )
    return match


def _check_asked_version(asked: str | None, found: str, source: str) -> None:
    if asked is not None and asked != found:
        raise InputError(
            f"{source}: describes version {found!r}, not the {asked!r} asked for with --version; "
            "drop --version or save the description of that version"
        )


def _units(body: dict[str, Any], source: str, at: str) -> tuple[int | None, int | None]:
    values = []
    for key in ("MinInferenceUnits", "MaxInferenceUnits"):
        value = body.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InputError(
                f"{source}: {at}{key} is {value!r}; inference units are whole numbers >= 1"
            )
        values.append(value)
    lo, hi = values
    if lo is not None and hi is not None and hi < lo:
        raise InputError(
            f"{source}: {at}MaxInferenceUnits ({hi}) is below MinInferenceUnits ({lo}); "
            "the description is inconsistent: check it was saved unchanged"
        )
    return lo, hi


def _status(
    body: dict[str, Any], source: str, at: str, known: dict[str, tuple[bool, str]]
) -> str | None:
    status = _string(body, "Status", source, at)
    if status is not None and status not in known:
        raise InputError(
            f"{source}: {at}Status {status!r} is not a known status ({', '.join(known)})"
        )
    return status


def _string(
    body: dict[str, Any], key: str, source: str, at: str, required: bool = False
) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise InputError(
                f"{source}: {at}{key} is missing; lfvsim takes the project, version and region "
                "from it: save the full describe output"
            )
        return None
    if not isinstance(value, str):
        raise InputError(f"{source}: {at}{key} is {value!r}, not a string")
    return value


def _required_string(body: dict[str, Any], key: str, source: str, at: str) -> str:
    value = _string(body, key, source, at, required=True)
    assert value is not None  # _string raises on a missing required key
    return value


def _score(body: dict[str, Any], key: str, source: str, at: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{source}: {at}{key} is {value!r}, not a number")
    return float(value)


def _timestamp(body: dict[str, Any], key: str, source: str, at: str) -> datetime | None:
    """Epoch seconds (AWS CLI v1), ISO 8601 (CLI v2, boto3 with default=str) or datetime."""
    value = body.get(key)
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            stamp = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            stamp = datetime.fromtimestamp(value, UTC)
        elif isinstance(value, str):
            try:
                stamp = datetime.fromtimestamp(float(value), UTC)
            except ValueError:
                stamp = datetime.fromisoformat(value.strip())
        else:
            raise TypeError
    except (TypeError, ValueError, OverflowError, OSError):
        raise InputError(
            f"{source}: {at}{key} is {value!r}; expected epoch seconds (AWS CLI v1) or an "
            "ISO 8601 time (AWS CLI v2, boto3)"
        ) from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _statuses(service: Service) -> dict[str, tuple[bool, str]]:
    return LFV_STATUSES if service == "lookoutvision" else RCL_STATUSES


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return kinds.get(type(value), "null" if value is None else f"the value {value!r}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- live reads ----------------------------------------------------------------------------


def no_lookoutvision_client_message(botocore_version: str) -> str:
    """What to say when the installed botocore cannot talk to Lookout for Vision."""
    return (
        f"the installed botocore {botocore_version} has no 'lookoutvision' client: it was "
        "removed in botocore 1.40.61, when Amazon Lookout for Vision was retired "
        "(2025-10-31); seed from a saved describe-model JSON file instead "
        "('lfvsim seed model.json'), or install boto3 and botocore <= 1.40.60 "
        "(pip install 'boto3<=1.40.60' 'botocore<=1.40.60')"
    )


def get_model_description(
    project: str,
    version: str | None = None,
    *,
    region: str | None = None,
    service: Service = "lookoutvision",
    client: Any = None,
) -> ModelDescription:
    """Describe a model live through boto3 (optional extra ``aws``).

    Parameters
    ----------
    project : str
        ProjectName.
    version : str, optional
        ModelVersion (required for Lookout for Vision) or the Rekognition version name
        (optional when the project has a single version).
    region : str, optional
        AWS region; default: boto3's (``AWS_REGION``, ``AWS_DEFAULT_REGION``, config).
    service : {'lookoutvision', 'rekognition'}
        Lookout for Vision ``DescribeModel`` or Rekognition ``DescribeProjects`` +
        ``DescribeProjectVersions``.
    client : botocore client, optional
        The client to call (for tests, a stubbed one); default: a new boto3 client.

    Returns
    -------
    ModelDescription

    Raises
    ------
    InputError
        boto3 is not installed, botocore has no ``lookoutvision`` client, the names break
        the API's constraints, or AWS refused the call; one line saying what to do.
    """
    if service not in ("lookoutvision", "rekognition"):
        raise InputError(f"service {service!r} is unknown; use 'lookoutvision' or 'rekognition'")
    pattern, rule = (
        (_LFV_PROJECT, "[a-zA-Z0-9][a-zA-Z0-9_-]*")
        if service == "lookoutvision"
        else (_RCL_NAME, "[a-zA-Z0-9_.-]+")
    )
    if not pattern.match(project):
        raise InputError(f"--project {project!r} is not a valid ProjectName (1-255, {rule})")
    if service == "lookoutvision":
        if version is None:
            raise InputError("--version is required for a Lookout for Vision model, e.g. 1")
        if not _LFV_VERSION.match(version):
            raise InputError(
                f"--version {version!r} is not a ModelVersion (a positive integer or 'latest')"
            )
    elif version is not None and not _RCL_NAME.match(version):
        raise InputError(f"--version {version!r} is not a Rekognition version name")
    if client is None:
        client = _client(service, region)
    if service == "lookoutvision":
        response = _call(client, "DescribeModel", ProjectName=project, ModelVersion=version)
        return parse_model_description(
            response, source=f"DescribeModel({project}, {version})", version=version
        )
    projects = _call(client, "DescribeProjects", ProjectNames=[project])
    arns = [
        p.get("ProjectArn", "")
        for p in projects.get("ProjectDescriptions", [])
        if p.get("ProjectArn", "").split("/")[1:2] == [project]
    ]
    if not arns:
        where = getattr(getattr(client, "meta", None), "region_name", region)
        raise InputError(
            f"DescribeProjects: no Rekognition project {project!r} in {where}; check the "
            "name and --region"
        )
    request: dict[str, Any] = {"ProjectArn": arns[0]}
    if version is not None:
        request["VersionNames"] = [version]
    versions: list[dict[str, Any]] = []
    while True:
        page = _call(client, "DescribeProjectVersions", **request)
        versions += page.get("ProjectVersionDescriptions", [])
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    source = f"DescribeProjectVersions({project}{'' if version is None else ', ' + version})"
    return parse_model_description(
        {"ProjectVersionDescriptions": versions}, source=source, version=version
    )


def _client(service: Service, region: str | None) -> Any:
    try:
        # Deferred: boto3 is the optional 'aws' extra, needed only for live reads.
        import boto3
        import botocore
    except ImportError:
        raise InputError(
            "live reads need boto3: pip install 'lfvsim[aws]', or seed from a saved JSON file"
        ) from None
    session = boto3.session.Session(region_name=region)
    if service not in session.get_available_services():
        if service == "lookoutvision":
            raise InputError(no_lookoutvision_client_message(botocore.__version__))
        raise InputError(
            f"the installed botocore {botocore.__version__} has no {service!r} client; "
            "upgrade boto3"
        )
    region = session.region_name
    if region is None:
        raise InputError("no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
    known = REGIONS if service == "lookoutvision" else RCL_REGIONS
    if region not in known:
        raise InputError(
            f"--region {region!r} is not a {service} region; use one of {', '.join(known)}"
        )
    return session.client(service, region_name=region)


def _call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    # Deferred: botocore comes with the optional 'aws' extra; only live reads get here.
    from botocore.exceptions import BotoCoreError, ClientError

    method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
    try:
        return getattr(client, method)(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise InputError(
            f"{operation} failed: {error.get('Code', 'error')}: "
            f"{_one_line(str(error.get('Message', '')))}; check the project, version, region "
            "and AWS credentials"
        ) from None
    except BotoCoreError as exc:
        raise InputError(
            f"{operation} failed: {_one_line(str(exc))}; check the region and AWS credentials, "
            "or seed from a saved JSON file"
        ) from None


# --- scenarios -----------------------------------------------------------------------------


def apply_model_description(
    scenario: Scenario, description: ModelDescription, price_fix: str | None = None
) -> Scenario:
    """The scenario with its ``[model]`` section taken from a description.

    Project, version, region, service, Min and Max (and the Rekognition ARN) come from
    AWS; every other section stays. A description without MinInferenceUnits and
    MaxInferenceUnits keeps the scenario's units.

    Parameters
    ----------
    scenario : Scenario
        Supplies every section but ``[model]``.
    description : ModelDescription
        Supplies ``[model]``.
    price_fix : str, optional
        How the user sets a price, for the error raised when the region has none in the
        price table and the scenario sets none; default: set billing.price_per_unit_hour_usd.

    Returns
    -------
    Scenario
        Validated again; errors name ``description.source``.
    """
    region = description.region
    if scenario.billing.price_per_unit_hour_usd is None and (
        region not in PRICE_TABLE_USD_PER_UNIT_HOUR
    ):
        fix = price_fix or "set billing.price_per_unit_hour_usd in the scenario"
        raise InputError(
            f"{description.source}: region {region!r} has no price in lfvsim's price table "
            f"({', '.join(PRICE_TABLE_USD_PER_UNIT_HOUR)}); {fix}"
        )
    overrides = {f"model.{key}": value for key, value in description.model_section().items()}
    return scenario.with_overrides(overrides, source=description.source)


def seed_scenario(
    description: ModelDescription,
    traffic: dict[str, Any] | None = None,
    price_per_unit_hour_usd: float | None = None,
    base_dir: str | Path = ".",
) -> Scenario:
    """A scenario for the described model, every other value a default.

    Parameters
    ----------
    description : ModelDescription
        Supplies ``[model]``.
    traffic : dict, optional
        The ``[traffic]`` section; default :data:`PLACEHOLDER_TRAFFIC`, to be replaced.
    price_per_unit_hour_usd : float, optional
        ``billing.price_per_unit_hour_usd``; needed for a region without a listed price.
    base_dir : str or Path
        Folder that relative trace paths are resolved from.

    Returns
    -------
    Scenario
    """
    base = Scenario.model_validate(
        {"traffic": traffic or PLACEHOLDER_TRAFFIC, "base_dir": Path(base_dir)}
    )
    if price_per_unit_hour_usd is not None:
        base = base.with_overrides(
            {"billing.price_per_unit_hour_usd": price_per_unit_hour_usd},
            source="--price-per-unit-hour",
        )
    return apply_model_description(
        base,
        description,
        price_fix="pass --price-per-unit-hour USD (billing.price_per_unit_hour_usd)",
    )


def render_seeded_scenario(
    description: ModelDescription, scenario: Scenario, placeholder_traffic: bool = True
) -> str:
    """The seeded scenario as TOML: what AWS said in a header, then the resolved scenario.

    With ``placeholder_traffic`` the ``[traffic]`` section is marked as a placeholder.
    """
    header = [
        f"# Seeded by 'lfvsim seed' from {toml_comment(description.source)}.",
        *(f"# {toml_comment(line)}" for line in description.header()),
        "# [model] is AWS's data; everything else is a default, and 'ASSUMPTION' marks what",
        "# AWS does not publish.",
        "",
    ]
    body = render_toml(scenario)
    if placeholder_traffic:
        assert isinstance(scenario.traffic, ConstantTraffic)  # seed_scenario writes constant
        rate = scenario.traffic.rate_tps
        note = (
            f"# PLACEHOLDER, not AWS data: a constant {rate:g} TPS. Replace this section with\n"
            '# your traffic (kind = "csv", path = "trace.csv"), or run with --trace FILE.\n'
        )
        if "\n[traffic]\n" in body:
            body = body.replace("\n[traffic]\n", "\n" + note + "[traffic]\n", 1)
        else:
            header.insert(-1, note.rstrip("\n"))
    return "\n".join(header) + "\n" + body
