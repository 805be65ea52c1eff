"""The ``[traffic]`` section of a scenario, and the trace it describes.

``kind`` picks the section's shape: ``csv``, ``parquet`` and ``cloudwatch`` replay files;
``constant``, ``diurnal`` and ``factory`` generate traffic. Every kind takes the arrival
model keys (how requests fall inside an interval); the synthetic kinds take the shape
modifiers (growth, noise, spikes); the file kinds take the repairs a user may ask for
(``fill_gaps``, ``duplicates``, ``unsorted``).
"""

from __future__ import annotations

import glob
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from lfvsim._schema import DEFAULT_START, Section, assumed
from lfvsim.errors import InputError
from lfvsim.traces.arrivals import arrivals_from_options
from lfvsim.traces.cloudwatch import expand_paths, read_cloudwatch_export
from lfvsim.traces.generators import (
    constant,
    diurnal,
    factory,
    growth,
    noise,
    parse_holidays,
    parse_windows,
    spikes,
    zone,
)
from lfvsim.traces.model import CountTrace, RateTrace, Trace
from lfvsim.traces.points import EPOCH_MAX_S
from lfvsim.traces.readers import detect_trace_format, read_csv_trace, read_parquet_trace
from lfvsim.traces.transforms import repeat, scale

__all__ = [
    "TRAFFIC_KINDS",
    "TRAFFIC_SECTION_CLASSES",
    "CloudWatchTraffic",
    "ConstantTraffic",
    "CsvTraffic",
    "DiurnalTraffic",
    "FactoryTraffic",
    "ParquetTraffic",
    "Traffic",
    "trace_from_scenario",
    "trace_from_traffic",
    "traffic_for_file",
]


# --- shared groups of keys (field order in the TOML: kind, own keys, then these) -----------


class _Kind(Section):
    kind: str


class _ArrivalKeys(Section):
    arrivals: Literal["poisson", "even", "batch", "onoff"] = assumed(
        "poisson",
        "how the requests of an interval fall inside it: 'poisson' (uniform at random), "
        "'even', 'batch' or 'onoff' (bursty)",
    )
    batch_mean_size: float = Field(
        4.0, ge=1, description="arrivals = 'batch': mean requests per batch"
    )
    batch_spread_s: float = Field(
        0.5, ge=0, description="arrivals = 'batch': the requests of a batch arrive within (s)"
    )
    on_fraction: float = Field(
        0.5, gt=0, le=1, description="arrivals = 'onoff': share of time the source is on"
    )
    on_mean_s: float = Field(
        30.0, gt=0, description="arrivals = 'onoff': mean length of an on period (s)"
    )


class _ShapeKeys(Section):
    scale: float = Field(1.0, ge=0, description="multiply the traffic")
    growth_percent_per_month: float = Field(
        0.0, gt=-100, description="compound traffic growth per 30 days (%)"
    )
    noise_cv: float = Field(
        0.0, ge=0, description="random variation of the rate per minute (coefficient of variation)"
    )
    spikes_per_day: float = Field(0.0, ge=0, description="random surges per day, on average")
    spike_multiplier: float = Field(3.0, ge=0, description="a surge multiplies the rate by this")
    spike_duration_s: float = Field(300.0, gt=0, description="length of a surge (s)")
    seed: int = Field(
        0, ge=0, description="seed of the surges, noise and line stops (arrivals use the run's)"
    )


class _RepairKeys(Section):
    scale: float = Field(1.0, gt=0, description="multiply the traffic (counts traces only)")
    fill_gaps: Literal["error", "zero"] = Field(
        "error", description="a missing interval or count: 'error', or 'zero' (reported)"
    )
    duplicates: Literal["error", "sum", "first"] = Field(
        "error", description="a timestamp twice: 'error', 'sum' or 'first' (reported)"
    )
    growth_percent_per_month: float = Field(
        0.0, gt=-100, description="compound traffic growth per 30 days (%; counts traces only)"
    )
    duration_h: float | None = Field(
        None, gt=0, description="repeat (or cut) the trace to this length (h); unset: as is"
    )


class _LocalTimeKeys(Section):
    unsorted: Literal["error", "sort"] = Field(
        "error", description="rows out of time order: 'error', or 'sort' (reported)"
    )
    timezone: str | None = Field(
        None, description="IANA zone of timestamps without an offset; unset: UTC (reported)"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


# --- the kinds ------------------------------------------------------------------------------

_YEAR_MIN, _YEAR_END = 1970, 2200


class _Span(Section):
    """A synthetic trace's ``start`` and ``duration_h``: the trace lies within 1970-2200."""

    @model_validator(mode="after")
    def _within_years(self) -> _Span:
        start: datetime = self.start  # type: ignore[attr-defined]
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if not _YEAR_MIN <= start.year < _YEAR_END:
            raise ValueError(
                f"start {start.isoformat()} is outside {_YEAR_MIN}-{_YEAR_END}; give a start "
                "such as 2026-01-05T00:00:00Z"
            )
        end_s = start.timestamp() + self.duration_h * 3600.0  # type: ignore[attr-defined]
        if end_s >= EPOCH_MAX_S:
            raise ValueError(
                f"duration_h = {self.duration_h:g} ends the trace after {_YEAR_END}; "  # type: ignore[attr-defined]
                "shorten it"
            )
        return self


class _Path(Section):
    path: str = Field(..., description="the file; relative paths are from the scenario file")


class _CloudWatchOwn(Section):
    path: str = Field(
        ...,
        description="the export (JSON); a pattern such as 'export-*.json' reads every page",
    )
    metric: str = Field(
        "auto",
        description="'ProcessedImageCount', 'offered' (SuccessfulRequestCount + ThrottledCount), "
        "a series' Label or Id, or 'auto'",
    )
    period_s: float | None = Field(
        None, gt=0, description="period of the datapoints (s); unset: the smallest step"
    )


class CsvTraffic(_ArrivalKeys, _RepairKeys, _LocalTimeKeys, _Path, _Kind):
    """A CSV trace: one row per request, or per-interval counts."""

    kind: Literal["csv"] = "csv"


class ParquetTraffic(_ArrivalKeys, _RepairKeys, _LocalTimeKeys, _Path, _Kind):
    """A Parquet trace: one row per request, or per-interval counts."""

    kind: Literal["parquet"] = "parquet"


class CloudWatchTraffic(_ArrivalKeys, _RepairKeys, _CloudWatchOwn, _Kind):
    """Request counts from a CloudWatch export (get-metric-data or get-metric-statistics)."""

    kind: Literal["cloudwatch"] = "cloudwatch"


class _ConstantOwn(_Span):
    rate_tps: float = Field(..., ge=0, description="mean requests per second")
    duration_h: float = Field(24.0, gt=0, description="length of the trace (h)")
    start: datetime = Field(DEFAULT_START, description="start of the trace (UTC)")


class ConstantTraffic(_ShapeKeys, _ArrivalKeys, _ConstantOwn, _Kind):
    """Poisson arrivals at a constant rate."""

    kind: Literal["constant"] = "constant"


class _DiurnalOwn(_Span):
    mean_tps: float = Field(..., gt=0, description="mean requests per second over a day")
    peak_to_trough: float = Field(4.0, ge=1, description="peak rate / lowest rate")
    peak_hour_utc: float = Field(14.0, ge=0, lt=24, description="hour of the peak (UTC)")
    duration_h: float = Field(24.0, gt=0, description="length of the trace (h)")
    start: datetime = Field(DEFAULT_START, description="start of the trace (UTC)")


class DiurnalTraffic(_ShapeKeys, _ArrivalKeys, _DiurnalOwn, _Kind):
    """Poisson arrivals whose rate follows a daily sine wave."""

    kind: Literal["diurnal"] = "diurnal"


class _FactoryOwn(_Span):
    peak_tps: float = Field(..., ge=0, description="requests per second while a shift runs")
    weekday_shifts: str = Field(
        "06:00-14:00,14:00-22:00",
        description="Monday-Friday shifts, local 'HH:MM-HH:MM[@factor]' separated by commas; "
        "factor = share of peak_tps",
    )
    saturday_shifts: str = Field("", description="Saturday shifts; empty: closed")
    sunday_shifts: str = Field("", description="Sunday shifts; empty: closed")
    breaks: str = Field("", description="daily stops, local 'HH:MM-HH:MM' separated by commas")
    holidays: str = Field("", description="closed days, 'YYYY-MM-DD' separated by commas")
    timezone: str = Field("UTC", description="IANA time zone of the calendar")
    idle_tps: float = Field(0.0, ge=0, description="requests per second outside the shifts")
    line_stops_per_day: float = Field(
        0.0, ge=0, description="unplanned line stops per production day, on average"
    )
    line_stop_mean_min: float = Field(20.0, gt=0, description="mean length of a line stop (min)")
    duration_h: float = Field(168.0, gt=0, description="length of the trace (h)")
    start: datetime = Field(DEFAULT_START, description="start of the trace (UTC)")

    @field_validator("weekday_shifts", "saturday_shifts", "sunday_shifts", "breaks")
    @classmethod
    def _windows(cls, value: str) -> str:
        parse_windows(value)
        return value

    @field_validator("holidays")
    @classmethod
    def _dates(cls, value: str) -> str:
        parse_holidays(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value


class FactoryTraffic(_ShapeKeys, _ArrivalKeys, _FactoryOwn, _Kind):
    """A production line running shifts on a weekly calendar in a local time zone."""

    kind: Literal["factory"] = "factory"


TRAFFIC_SECTION_CLASSES: tuple[type[Section], ...] = (
    CsvTraffic,
    ParquetTraffic,
    CloudWatchTraffic,
    ConstantTraffic,
    DiurnalTraffic,
    FactoryTraffic,
)
#: The values of ``[traffic] kind``.
TRAFFIC_KINDS = tuple(c.model_fields["kind"].default for c in TRAFFIC_SECTION_CLASSES)

Traffic = Annotated[
    CsvTraffic
    | ParquetTraffic
    | CloudWatchTraffic
    | ConstantTraffic
    | DiurnalTraffic
    | FactoryTraffic,
    Field(discriminator="kind"),
]


def trace_from_scenario(scenario) -> Trace:
    """The trace a scenario's ``[traffic]`` section describes."""
    return trace_from_traffic(scenario.traffic, scenario.base_dir)


def trace_from_traffic(t: Any, base_dir: Path = Path(".")) -> Trace:
    """The trace a ``[traffic]`` section describes; relative paths are from ``base_dir``."""
    if t.kind in ("csv", "parquet", "cloudwatch"):
        arrivals = _arrivals(t)
        path = Path(t.path)
        path = path if path.is_absolute() else base_dir / path
        file_trace: Trace
        if t.kind == "cloudwatch":
            file_trace = read_cloudwatch_export(
                expand_paths(path),
                metric=t.metric,
                period_s=t.period_s,
                fill_gaps=t.fill_gaps,
                duplicates=t.duplicates,
                scale=t.scale,
                arrivals=arrivals,
            )
        else:
            reader = read_csv_trace if t.kind == "csv" else read_parquet_trace
            file_trace = reader(
                path,
                t.scale,
                fill_gaps=t.fill_gaps,
                duplicates=t.duplicates,
                unsorted=t.unsorted,
                timezone=t.timezone,
                arrivals=arrivals,
            )
            if not isinstance(file_trace, CountTrace):
                _per_request_only(path, t)
        if t.growth_percent_per_month:
            assert isinstance(file_trace, CountTrace)  # _per_request_only refused the others
            file_trace = growth(file_trace, t.growth_percent_per_month)
        if t.duration_h is not None:
            file_trace = repeat(file_trace, t.duration_h)
        return file_trace
    trace: RateTrace
    if t.kind == "constant":
        trace = constant(t.rate_tps, t.duration_h, t.start)
    elif t.kind == "diurnal":
        trace = diurnal(t.mean_tps, t.peak_to_trough, t.peak_hour_utc, t.duration_h, t.start)
    else:
        trace = factory(
            t.peak_tps,
            t.duration_h,
            t.start,
            weekday_shifts=t.weekday_shifts,
            saturday_shifts=t.saturday_shifts,
            sunday_shifts=t.sunday_shifts,
            breaks=t.breaks,
            holidays=t.holidays,
            timezone=t.timezone,
            idle_tps=t.idle_tps,
            line_stops_per_day=t.line_stops_per_day,
            line_stop_mean_min=t.line_stop_mean_min,
            seed=t.seed,
        )
    return shaped(trace, t)


def shaped(trace: RateTrace, t: Any) -> Trace:
    """A synthetic trace with the section's arrival model and shape modifiers applied."""
    out: RateTrace | CountTrace = replace(trace, arrivals=_arrivals(t))
    if t.growth_percent_per_month:
        out = growth(out, t.growth_percent_per_month)
    if t.noise_cv:
        out = noise(out, t.noise_cv, t.seed)
    if t.spikes_per_day:
        out = spikes(out, t.spikes_per_day, t.spike_multiplier, t.spike_duration_s, t.seed)
    if t.scale != 1.0:
        return scale(out, t.scale)
    return out


def traffic_for_file(path: str | Path, **options: Any) -> dict[str, Any]:
    """The ``[traffic]`` section that replays a trace file (``lfvsim run --trace``).

    The kind (``csv``, ``parquet`` or ``cloudwatch``) is found from the file's content;
    ``options`` are further keys of the section, such as ``fill_gaps='zero'``.
    """
    text = str(path)
    if glob.has_magic(text):  # a paginated CloudWatch export: "export-*.json"
        matches = sorted(glob.glob(text))
        if not matches:
            raise InputError(f"no trace file matches '{text}'; check the pattern")
        return {"kind": detect_trace_format(matches[0]), "path": os.path.abspath(text), **options}
    kind = detect_trace_format(path)
    return {"kind": kind, "path": str(Path(path).resolve()), **options}


def _arrivals(t: Any):
    return arrivals_from_options(
        t.arrivals, t.batch_mean_size, t.batch_spread_s, t.on_fraction, t.on_mean_s
    )


def _per_request_only(path: Path, t: Any) -> None:
    """Keys that reshape counts do not apply to recorded request times."""
    for key, default in (("arrivals", "poisson"), ("growth_percent_per_month", 0.0)):
        if getattr(t, key) != default:
            raise InputError(
                f"{path}: traffic.{key} applies to counts traces, and this file has one row "
                "per request; remove it, or count the requests per interval first "
                "(lfvsim trace convert FILE -o counts.csv)"
            )
