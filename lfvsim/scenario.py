"""Scenario schema: what is simulated, with documented facts and flagged assumptions.

A scenario is a TOML file with the sections ``[model]``, ``[unit]``, ``[autoscaler]``,
``[billing]``, ``[traffic]``, ``[simulation]``, and for what-ifs ``[hosting]``,
``[client]`` and ``[failures]``. Every key has a default except the
traffic; unknown keys are errors. Fields whose value AWS does not publish carry
``assumption`` in their schema so that ``lfvsim run --show-config`` can mark them.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from lfvsim._schema import Section, assumed
from lfvsim.billing import PRICE_SOURCE, PRICE_TABLE_USD_PER_UNIT_HOUR, REGIONS
from lfvsim.client import SERVICE_ERRORS, Client
from lfvsim.errors import InputError, require_file
from lfvsim.failures import Failures
from lfvsim.hosting import Hosting
from lfvsim.safe_output import toml_comment, toml_value
from lfvsim.traces.schema import TRAFFIC_KINDS, TRAFFIC_SECTION_CLASSES, Traffic

__all__ = [
    "Autoscaler",
    "Billing",
    "Calibrated",
    "Model",
    "Scenario",
    "Simulation",
    "Unit",
    "load_scenario",
    "render_toml",
]


#: Regions where botocore's endpoint data lists Amazon Rekognition (FIPS aliases left out).
#: Custom Labels runs in a subset of them; Lookout for Vision only in ``billing.REGIONS``.
RCL_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-south-2", "il-central-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-5",
    "ap-southeast-7", "us-gov-west-1",
)  # fmt: skip

#: ProjectVersionArn as botocore's Rekognition service model constrains it (20-2048 chars).
RCL_PROJECT_VERSION_ARN = re.compile(
    r"^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/[a-zA-Z0-9_.\-]{1,255}"
    r"/version/[a-zA-Z0-9_.\-]{1,255}/[0-9]+$"
)
_LFV_PROJECT = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]*$")
_LFV_VERSION = re.compile(r"^([1-9][0-9]*|latest)$")
_RCL_NAME = re.compile(r"^[a-zA-Z0-9_.\-]+$")


class Model(Section):
    """The model as ``StartModel`` (Rekognition: ``StartProjectVersion``) receives it."""

    service: Literal["lookoutvision", "rekognition"] = Field(
        "lookoutvision",
        description="'lookoutvision' (StartModel) or 'rekognition' (Custom Labels, "
        "StartProjectVersion)",
    )
    project: str = Field(
        "my-project",
        description="ProjectName (1-255 characters, [a-zA-Z0-9][a-zA-Z0-9_-]*; "
        "Rekognition: [a-zA-Z0-9_.-]+)",
    )
    version: str = Field(
        "1",
        description="ModelVersion (a positive integer or 'latest', 1-10 characters; "
        "Rekognition: the version name, [a-zA-Z0-9_.-]+)",
    )
    min_units: int = Field(1, ge=1, description="MinInferenceUnits (>= 1)")
    max_units: int | None = Field(
        None,
        ge=1,
        description="MaxInferenceUnits (>= min_units); unset means no auto-scaling",
    )
    region: str = Field("us-east-1", description="AWS region; picks the price")
    project_version_arn: str | None = Field(
        None,
        description="Rekognition only: the ProjectVersionArn StartProjectVersion takes; "
        "its project, version and region must match the keys above",
    )

    @field_validator("project")
    @classmethod
    def _project_fits_service(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("service") == "rekognition":
            ok, rule = _RCL_NAME.match(value), "[a-zA-Z0-9_.-]+"
        else:
            ok, rule = _LFV_PROJECT.match(value), "[a-zA-Z0-9][a-zA-Z0-9_-]*"
        if not (ok and len(value) <= 255):
            raise ValueError(
                f"{value!r} is not a valid ProjectName (1-255 characters, {rule}); "
                "use the project name as AWS shows it"
            )
        return value

    @field_validator("version")
    @classmethod
    def _version_fits_service(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("service") == "rekognition":
            if not (_RCL_NAME.match(value) and len(value) <= 255):
                raise ValueError(
                    f"{value!r} is not a Rekognition version name (1-255 characters, "
                    "[a-zA-Z0-9_.-]+); use the name in the ProjectVersionArn"
                )
        elif not (_LFV_VERSION.match(value) and len(value) <= 10):
            raise ValueError(
                f"{value!r} is not a ModelVersion (1-10 characters: a positive integer "
                "without leading zeros, or 'latest'); e.g. version = \"1\""
            )
        return value

    @field_validator("region")
    @classmethod
    def _region_fits_service(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("service") == "rekognition":
            if value not in RCL_REGIONS:
                raise ValueError(
                    f"{value!r} is not a Rekognition region; use one of " + ", ".join(RCL_REGIONS)
                )
        elif value not in REGIONS:
            raise ValueError(
                f"{value!r} is not a Lookout for Vision region; use one of " + ", ".join(REGIONS)
            )
        return value

    @field_validator("project_version_arn")
    @classmethod
    def _arn_fits_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("service") != "rekognition":
            raise ValueError(
                "is for service = 'rekognition' only; remove it, or set service = 'rekognition'"
            )
        if not (20 <= len(value) <= 2048 and RCL_PROJECT_VERSION_ARN.match(value)):
            raise ValueError(
                f"{value!r} is not a ProjectVersionArn (arn:aws:rekognition:REGION:ACCOUNT:"
                "project/PROJECT/version/VERSION/NUMBER); copy it from describe-project-versions"
            )
        fields = value.split(":")
        region, (_, project, _, version, _) = fields[3], fields[5].split("/")
        for key, got in (("project", project), ("version", version), ("region", region)):
            if key in info.data and info.data[key] != got:
                raise ValueError(
                    f"names {key} {got!r} but {key} = {info.data[key]!r}; make them agree"
                )
        return value

    @model_validator(mode="after")
    def _max_not_below_min(self) -> Model:
        if self.max_units is not None and self.max_units < self.min_units:
            raise ValueError(
                f"max_units ({self.max_units}) is below min_units ({self.min_units}); "
                "set max_units >= min_units, or leave it unset for no auto-scaling"
            )
        return self


class Unit(Section):
    """Capacity of one inference unit."""

    slots: int = assumed(
        4, "concurrent requests one unit serves; with the latency mean: 5 TPS per unit", ge=1
    )
    latency_distribution: Literal["lognormal", "exponential", "constant"] = assumed(
        "lognormal", "distribution of the service time of one request"
    )
    latency_mean_s: float = assumed(0.8, "mean service time of one request (s)", gt=0)
    latency_p99_s: float = assumed(
        2.0, "99th percentile of the service time (s); lognormal only", gt=0
    )
    when_busy: Literal["throttle", "queue"] = assumed(
        "throttle",
        "with every slot busy: throttle at once (ThrottlingException) or wait in a queue",
    )
    queue_limit: int | None = assumed(
        None, "requests that may wait when when_busy = 'queue'; unset: no limit", ge=0
    )
    throttling: Literal["slots", "rate"] = assumed(
        "slots",
        "what refuses a request: 'slots' (every concurrency slot busy) or 'rate' (a token "
        "bucket of rate_tps and burst per unit in service is empty)",
    )
    rate_tps: float = assumed(
        5.0, "throttling = 'rate': requests per second one unit admits, sustained", gt=0
    )
    burst: float = assumed(
        5.0,
        "throttling = 'rate': requests one idle unit admits at once (its bucket's size); "
        "the buckets of the units in service add up to one",
        ge=1,
    )

    @model_validator(mode="after")
    def _latency_within_histograms(self) -> Unit:
        # Latency percentiles come from histograms that end at 1e5 s per minute (1e6 s for
        # the run): a longer service time would be reported as the histogram's top edge.
        what = {
            "latency_mean_s": "the mean service time of one request",
            "latency_p99_s": "the 99th percentile of one request's service time",
        }
        for key, top_s in (("latency_mean_s", MAX_LATENCY_MEAN_S), ("latency_p99_s", 1e5)):
            value = getattr(self, key)
            if value > top_s:
                raise ValueError(
                    f"{key} = {value:g} s is longer than the {top_s:g} s lfvsim's latency "
                    f"figures can measure; give {what[key]} in seconds (about 1 s is typical)"
                )
        return self

    @model_validator(mode="after")
    def _p99_fits_lognormal(self) -> Unit:
        if self.latency_distribution == "lognormal":
            ratio = self.latency_p99_s / self.latency_mean_s
            if not 1.0 < ratio < math.exp(_Z99**2 / 2):
                raise ValueError(
                    f"latency_p99_s / latency_mean_s = {ratio:.3g} is outside the range a "
                    f"lognormal can have (1 < ratio < {math.exp(_Z99**2 / 2):.3g}); "
                    "adjust latency_p99_s"
                )
        return self

    @model_validator(mode="after")
    def _rate_throttles_at_once(self) -> Unit:
        if self.throttling == "rate" and self.when_busy == "queue":
            raise ValueError(
                "throttling = 'rate' refuses a request at once when the bucket is empty; "
                "set when_busy = 'throttle', or use throttling = 'slots' to queue"
            )
        return self

    @property
    def nominal_tps(self) -> float:
        """Requests per second one unit completes at capacity (slots / latency, or the rate)."""
        if self.throttling == "rate":
            return self.rate_tps
        return self.slots / self.latency_mean_s

    @property
    def servers(self) -> int:
        """Capacity units per inference unit the data plane tracks: its slots, or 1 bucket."""
        return 1 if self.throttling == "rate" else self.slots

    @property
    def work_per_request_s(self) -> float:
        """Capacity-seconds one request uses: its mean service time on a slot, or the
        share of one unit's sustained rate (1 / rate_tps) in the rate model."""
        if self.throttling == "rate":
            return 1.0 / self.rate_tps
        return self.latency_mean_s

    def lognormal_params(self) -> tuple[float, float]:
        """(mu, sigma) of the lognormal with this mean and 99th percentile."""
        # mean = exp(mu + s^2/2), p99 = exp(mu + z s): the smaller root of s^2/2 - z s + ln r.
        r = math.log(self.latency_p99_s / self.latency_mean_s)
        sigma = _Z99 - math.sqrt(_Z99**2 - 2.0 * r)
        mu = math.log(self.latency_mean_s) - sigma**2 / 2
        return mu, sigma


_Z99 = 2.3263478740408408  # standard normal quantile at 0.99
#: Longest mean service time: its exponential 99.99th percentile (9.2 x) stays under the
#: 1e5 s top of the per-minute latency histogram.
MAX_LATENCY_MEAN_S = 1e4


class Autoscaler(Section):
    """Auto-scaling policy; AWS does not publish its rules, so every default is assumed."""

    policy: Literal["auto", "none", "target_tracking", "oracle"] = Field(
        "auto",
        description=(
            "'auto': target_tracking when max_units is set, else none (documented: without "
            "MaxInferenceUnits the model never scales); 'oracle': perfect foresight, no delay"
        ),
    )
    metric: Literal["utilization", "offered_utilization"] = assumed(
        "utilization",
        "busy slot-seconds / in-service slot-seconds (%), or offered work including "
        "throttled requests / in-service slot-seconds (%)",
    )
    target_percent: float = assumed(50.0, "target value of the metric (%)", gt=0, le=100)
    evaluation_period_s: int = assumed(60, "one datapoint per period (s), a multiple of 60", ge=60)
    scale_out_datapoints: int = assumed(3, "consecutive datapoints above target to scale out", ge=1)
    scale_in_datapoints: int = assumed(
        15, "consecutive datapoints below scale_in_ratio x target to scale in", ge=1
    )
    scale_in_ratio: float = assumed(0.9, "scale in below this fraction of the target", gt=0, le=1)
    scale_out_cooldown_s: float = assumed(0.0, "no scale-out sooner after a scale-out (s)", ge=0)
    scale_in_cooldown_s: float = assumed(300.0, "no scale-in sooner after a scale-in (s)", ge=0)
    provisioning_delay_s: float = assumed(
        300.0, "from the scale-out decision until the new unit serves (s)", ge=0
    )

    @model_validator(mode="after")
    def _whole_minutes(self) -> Autoscaler:
        if self.evaluation_period_s % 60:
            raise ValueError(
                f"evaluation_period_s = {self.evaluation_period_s} is not a whole number of "
                "minutes; use 60, 120, ..."
            )
        return self

    @model_validator(mode="after")
    def _alarms_within_a_day(self) -> Autoscaler:
        # CloudWatch, which the policy's alarms run on, refuses an alarm whose evaluation
        # periods x period exceed one day [doc, PutMetricAlarm]; more datapoints than that
        # would also never fire in any trace lfvsim can replay in a budget.
        period = self.evaluation_period_s
        if period > MAX_ALARM_S:
            raise ValueError(
                f"evaluation_period_s = {period:,} s is longer than one day ({MAX_ALARM_S:,} s), "
                "past any CloudWatch alarm period; use 60 (one datapoint a minute) or a few "
                "minutes"
            )
        for key in ("scale_out_datapoints", "scale_in_datapoints"):
            points = getattr(self, key)
            if points * period > MAX_ALARM_S:
                raise ValueError(
                    f"{key} = {points} datapoints of evaluation_period_s = {period} s span "
                    f"{points * period:,} s, more than the one day ({MAX_ALARM_S:,} s) a "
                    f"CloudWatch alarm can evaluate; give at most {MAX_ALARM_S // period:,} "
                    f"datapoints of {period} s"
                )
        return self


#: Longest span (s) a CloudWatch alarm evaluates: EvaluationPeriods x Period <= one day.
MAX_ALARM_S = 86_400
#: Longest metering interval (s): one day. Per-second metering is 1 s and hourly 3600 s;
#: up to a day is allowed for what-if studies, and a longer interval would bill each unit
#: for time far past any run (1e12 s billed 555 million unit-hours for 2 hours of traffic).
MAX_METERING_S = 86_400.0


class Billing(Section):
    """Metering and price."""

    price_per_unit_hour_usd: float | None = assumed(
        None,
        "USD per inference-unit hour; unset: the regional price table",
        gt=0,
    )
    metering_granularity_s: float = Field(
        60.0,
        gt=0,
        description="each unit is billed in whole intervals of this length (s): 1 per second, "
        "3600 per hour, at most 86400 (one day)",
    )
    bill_provisioning: bool = assumed(
        False, "bill a new unit from the scale-out decision rather than from when it serves"
    )

    @field_validator("metering_granularity_s")
    @classmethod
    def _metering_at_most_a_day(cls, value: float) -> float:
        if value > MAX_METERING_S:
            raise ValueError(
                f"{value:g} s is longer than one day; give the interval each unit is billed "
                f"in, in seconds (1: per second, 3600: per hour, at most {MAX_METERING_S:g})"
            )
        return value


class Simulation(Section):
    """Run settings."""

    seed: int | None = Field(None, ge=0, description="random seed; unset: fresh entropy")
    horizon_h: float | None = Field(
        None, gt=0, description="simulate only the first hours of the trace; unset: all of it"
    )


SECTIONS = (
    "model", "unit", "autoscaler", "billing", "traffic", "simulation", "hosting", "client",
    "failures",
)  # fmt: skip


class Calibrated(Section):
    """Where a calibrated value came from (``lfvsim calibrate`` writes these)."""

    source: str = Field(description="the CloudWatch history the value was estimated from")
    period: str = Field(description="the history's first and last minute (UTC)")
    low: float | None = Field(None, description="low end of the estimate's interval, if any")
    high: float | None = Field(None, description="high end of the estimate's interval, if any")
    method: str = Field("", description="how the history gave the value")
    chosen: bool = Field(
        True,
        description="false for a fit of the structure of throttling not chosen: recorded "
        "for the reader, not set in the scenario",
    )

    @property
    def interval(self) -> str:
        """``'interval LOW-HIGH'``, or the method's first clause for a value with no numeric
        interval (the structure of throttling: ``'chosen by AIC (difference D)'``)."""
        if self.low is None or self.high is None:
            return self.method.partition(":")[0]
        return f"interval {self.low:.4g}-{self.high:.4g}"


class Scenario(Section):
    """A complete, validated scenario."""

    model: Model = Model()
    unit: Unit = Unit()
    autoscaler: Autoscaler = Autoscaler()
    billing: Billing = Billing()
    traffic: Traffic
    simulation: Simulation = Simulation()
    hosting: Hosting = Hosting()
    client: Client = Client()
    failures: Failures = Failures()
    calibration: dict[str, Calibrated] = Field(
        default_factory=dict,
        description="provenance of values fitted to a CloudWatch history, by SECTION.KEY",
    )
    base_dir: Path = Field(Path("."), exclude=True)

    @property
    def calibrated(self) -> dict[str, Calibrated]:
        """The calibration entries whose values the scenario uses (the chosen ones)."""
        return {k: v for k, v in self.calibration.items() if v.chosen}

    @model_validator(mode="after")
    def _calibrated_keys_exist(self) -> Scenario:
        for dotted in self.calibration:
            section, _, key = dotted.partition(".")
            if section not in SECTIONS or key not in type(getattr(self, section)).model_fields:
                raise ValueError(
                    f"calibration names '{dotted}', which is no scenario key; use SECTION.KEY, "
                    "e.g. autoscaler.target_percent"
                )
        return self

    @model_validator(mode="after")
    def _policy_fits_model(self) -> Scenario:
        if self.autoscaler.policy == "target_tracking" and self.model.max_units is None:
            raise ValueError(
                "autoscaler.policy = 'target_tracking' needs model.max_units; set max_units, "
                "or use policy = 'none'"
            )
        return self

    @model_validator(mode="after")
    def _client_fits_service(self) -> Scenario:
        service = self.client.service or self.model.service
        code = self.client.throttle_error
        if code is not None and code not in SERVICE_ERRORS[service]:
            raise ValueError(
                f"client.throttle_error {code!r} is not an error of {service}; use one of "
                + ", ".join(SERVICE_ERRORS[service])
            )
        return self

    @model_validator(mode="after")
    def _rate_needs_no_batch(self) -> Scenario:
        if self.unit.throttling == "rate" and self.hosting.mode == "batch":
            raise ValueError(
                "unit.throttling = 'rate' cannot hold requests for a batch; use "
                "throttling = 'slots' with hosting.mode = 'batch'"
            )
        return self

    @model_validator(mode="after")
    def _price_known(self) -> Scenario:
        if self.billing.price_per_unit_hour_usd is None and (
            self.model.region not in PRICE_TABLE_USD_PER_UNIT_HOUR
        ):
            raise ValueError(
                f"model.region {self.model.region!r} has no price in lfvsim's price table "
                f"({', '.join(PRICE_TABLE_USD_PER_UNIT_HOUR)}); set "
                "billing.price_per_unit_hour_usd"
            )
        return self

    @property
    def policy(self) -> str:
        """The policy that runs, with 'auto' resolved."""
        if self.autoscaler.policy != "auto":
            return self.autoscaler.policy
        return "none" if self.model.max_units is None else "target_tracking"

    @property
    def price_per_unit_hour_usd(self) -> float:
        """Price used for the cost, USD per inference-unit hour."""
        if self.billing.price_per_unit_hour_usd is not None:
            return self.billing.price_per_unit_hour_usd
        return PRICE_TABLE_USD_PER_UNIT_HOUR[self.model.region]

    def with_overrides(self, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
        """A copy with dotted keys replaced (``{"model.min_units": 2}``), validated again.

        A bare section name (``{"hosting": {...}}``) replaces the whole section; a value of
        None unsets a key. ``source`` names the overrides in error messages.
        """
        data = self.model_dump(exclude_none=True)
        for dotted, value in overrides.items():
            section, _, key = dotted.partition(".")
            if not key and section in SECTIONS:
                data[section] = value
                continue
            if not key or section not in data:
                raise InputError(
                    f"unknown scenario key '{dotted}'; use SECTION.KEY, e.g. model.min_units"
                )
            data[section] = {**data[section], key: value}
            if value is None:
                del data[section][key]
        return _validate(data, base_dir=self.base_dir, source=source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    InputError
        The file is missing, is not TOML, or breaks the schema; the message names the key.
    """
    path = Path(path)
    data = read_toml(path, "scenario file")
    _check_windows_hosted(data.get("hosting"), str(path))
    return _validate(data, base_dir=path.resolve().parent, source=str(path))


def _check_windows_hosted(hosting: object, source: str) -> None:
    """Refuse schedule windows in a file whose hosting mode ignores them.

    Forgetting ``mode = 'schedule'`` would otherwise host the model all the time and bill
    every hour, with no word said. Only files are held to this: ``compare`` and ``--vary``
    switch the mode of a scheduled scenario on purpose.
    """
    if not isinstance(hosting, dict) or not hosting.get("windows"):
        return
    mode = hosting.get("mode", "always_on")
    if mode in ("always_on", "batch"):
        default = " (the default)" if "mode" not in hosting else ""
        raise InputError(
            f"{source}: hosting.windows is set but hosting.mode is {mode!r}{default}, which "
            "ignores them; add mode = 'schedule' to host the model in the windows only, or "
            "remove windows"
        )


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; ``what`` names it in the error when it is missing or malformed."""
    require_file(path, what)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None


def _validate(data: dict[str, Any], base_dir: Path, source: str) -> Scenario:
    if "traffic" not in data:
        raise InputError(
            f"{source}: missing [traffic] section; add one, e.g. kind = 'constant' and rate_tps = 2"
        )
    try:
        return Scenario.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise InputError(f"{source}: " + "; ".join(_describe(e) for e in exc.errors())) from None


def _describe(error: Mapping[str, Any]) -> str:
    """One validation error as 'key: what is wrong'."""
    loc = [str(p) for p in error["loc"] if str(p) not in TRAFFIC_KINDS]
    kind = next((str(p) for p in error["loc"] if str(p) in TRAFFIC_KINDS), None)
    key = ".".join(loc) or "scenario"
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'" + _suggest(loc, kind)
    if error["type"] == "missing":
        return f"missing required key '{key}'"
    kinds = ", ".join(repr(k) for k in TRAFFIC_KINDS)
    if error["type"] == "union_tag_not_found":
        return f"{key}.kind: missing; set kind to one of {kinds}"
    if error["type"] == "union_tag_invalid":
        return f"{key}.kind: {error['ctx']['tag']!r} is not a traffic kind; use one of {kinds}"
    if error["type"] == "finite_number":
        return f"{key}: {error.get('input')!r} is not a finite number; give a finite value"
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] in {"value_error", "assertion_error"}:
        return f"{key}: {msg}" if loc else msg
    return f"{key}: {msg} (got {error.get('input')!r})"


def _suggest(loc: list[str], kind: str | None = None) -> str:
    section: dict[str, type[Section]] = {
        "model": Model,
        "unit": Unit,
        "autoscaler": Autoscaler,
        "billing": Billing,
        "simulation": Simulation,
        "hosting": Hosting,
        "client": Client,
        "failures": Failures,
    }
    if len(loc) == 1:
        known = [k for k in Scenario.model_fields if k != "base_dir"]
    elif loc[0] in section:
        known = list(section[loc[0]].model_fields)
    elif loc[0] == "traffic":
        # A key of another kind is no typo: name the kinds that take it.
        takers = [c for c in TRAFFIC_SECTION_CLASSES if loc[-1] in c.model_fields]
        if kind is not None and takers:
            names = ", ".join(repr(c.model_fields["kind"].default) for c in takers)
            kinds = "kind" if len(takers) == 1 else "kinds"
            return f"; it applies to {kinds} {names}, not {kind!r}: remove it"
        known = sorted({k for m in TRAFFIC_SECTION_CLASSES for k in m.model_fields})
    else:
        return ""
    close = difflib.get_close_matches(loc[-1], known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(known)
    return f"; {hint}"


def render_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML, every default filled in and each assumption marked.

    The output loads back with :func:`load_scenario` to the same scenario.
    """
    lines = [
        "# Resolved lfvsim scenario. 'ASSUMPTION' marks values AWS does not publish:",
        "# sweep them (see the README) before you rely on an answer that depends on them.",
    ]
    for name in SECTIONS:
        section = getattr(scenario, name)
        lines += ["", f"[{name}]"]
        for key, field in type(section).model_fields.items():
            value = getattr(section, key)
            if name == "traffic" and key == "path" and not Path(value).is_absolute():
                # Relative to the scenario's folder: absolute, so the text works anywhere.
                value = os.path.abspath(scenario.base_dir / value)
            note = field.description or ""
            fitted = scenario.calibrated.get(f"{name}.{key}")
            if fitted is not None:
                interval = f", {fitted.interval}" if fitted.interval else ""
                note = f"calibrated from {fitted.source} ({fitted.period}){interval}: {note}"
            elif (field.json_schema_extra or {}).get("assumption"):
                note = f"ASSUMPTION: {note}"
            note = toml_comment(note)
            if value is None:
                lines.append(f"# {key} is unset: {note}")
            else:
                comment = f"  # {note}" if note else ""
                lines.append(f"{key} = {toml_value(value)}{comment}")
    if scenario.calibration:
        lines += ["", "# Where each value marked 'calibrated' came from."]
        if len(scenario.calibrated) < len(scenario.calibration):
            lines.append("# chosen = false: fitted for the structure not chosen, not used.")
        lines.append("[calibration]")
        lines += [f"{toml_value(k)} = {toml_value(v)}" for k, v in scenario.calibration.items()]
    lines += [
        "",
        f"# policy that runs: {scenario.policy}",
        f"# nominal throughput: {scenario.unit.nominal_tps:.3g} TPS per unit "
        + ("(rate_tps" if scenario.unit.throttling == "rate" else "(slots / latency_mean_s")
        + "; ASSUMPTION: AWS once documented 'up to 5 TPS')",
        f"# price: USD {scenario.price_per_unit_hour_usd:.2f} per unit-hour"
        + ("" if scenario.billing.price_per_unit_hour_usd else f" ({PRICE_SOURCE})"),
    ]
    return "\n".join(lines) + "\n"
