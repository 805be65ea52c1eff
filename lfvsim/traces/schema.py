"""The ``[traffic]`` section of a scenario, and the trace it describes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from lfvsim._schema import DEFAULT_START, Section
from lfvsim.traces.generators import constant, diurnal
from lfvsim.traces.model import Trace
from lfvsim.traces.readers import read_csv_trace

__all__ = [
    "ConstantTraffic",
    "CsvTraffic",
    "DiurnalTraffic",
    "Traffic",
    "trace_from_scenario",
    "traffic_for_file",
]


class CsvTraffic(Section):
    """A CSV trace: one row per request, or per-interval counts."""

    kind: Literal["csv"] = "csv"
    path: str = Field(..., description="CSV file; relative paths are from the scenario file")
    scale: float = Field(1.0, gt=0, description="multiply the traffic (counts traces only)")


class ConstantTraffic(Section):
    """Poisson arrivals at a constant rate."""

    kind: Literal["constant"] = "constant"
    rate_tps: float = Field(..., ge=0, description="mean requests per second")
    duration_h: float = Field(24.0, gt=0, description="length of the trace (h)")
    start: datetime = Field(DEFAULT_START, description="start of the trace (UTC)")


class DiurnalTraffic(Section):
    """Poisson arrivals whose rate follows a daily sine wave."""

    kind: Literal["diurnal"] = "diurnal"
    mean_tps: float = Field(..., gt=0, description="mean requests per second over a day")
    peak_to_trough: float = Field(4.0, ge=1, description="peak rate / lowest rate")
    peak_hour_utc: float = Field(14.0, ge=0, lt=24, description="hour of the peak (UTC)")
    duration_h: float = Field(24.0, gt=0, description="length of the trace (h)")
    start: datetime = Field(DEFAULT_START, description="start of the trace (UTC)")


Traffic = Annotated[CsvTraffic | ConstantTraffic | DiurnalTraffic, Field(discriminator="kind")]

TRAFFIC_SECTION_CLASSES = (CsvTraffic, ConstantTraffic, DiurnalTraffic)


def trace_from_scenario(scenario) -> Trace:
    """The trace a scenario's ``[traffic]`` section describes."""
    t = scenario.traffic
    if t.kind == "csv":
        path = Path(t.path)
        return read_csv_trace(path if path.is_absolute() else scenario.base_dir / path, t.scale)
    if t.kind == "constant":
        return constant(t.rate_tps, t.duration_h, t.start)
    return diurnal(t.mean_tps, t.peak_to_trough, t.peak_hour_utc, t.duration_h, t.start)


def traffic_for_file(path: str | Path) -> dict[str, str]:
    """The ``[traffic]`` section that replays a trace file (``lfvsim run --trace``)."""
    return {"kind": "csv", "path": str(Path(path).resolve())}
