"""CloudWatch metric data as series: the parsing that traffic traces and a model's history share.

One export file (``aws cloudwatch get-metric-data`` or ``get-metric-statistics``, as the
AWS CLI prints it) or one GetMetricData response page is checked and its datapoints are
gathered by metric (:func:`add_export`, :func:`get_metric_data` for every page of a live
request); a series' timestamps and values are then read as numbers
(:func:`series_seconds`, :func:`series_counts`). Every error names the file, the result
and the datapoint. :mod:`lfvsim.traces.cloudwatch` builds traffic traces from the series,
:mod:`lfvsim.traces.metric_history` a model's per-minute history.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lfvsim.errors import InputError, require_file
from lfvsim.traces.filekind import HEAD_BYTES, UTF16_BOMS, refuse_unless_json_text
from lfvsim.traces.points import check_epochs

__all__ = [
    "MetricSeries",
    "add_export",
    "get_metric_data",
    "load_export",
    "series_counts",
    "series_seconds",
]


_STATUS_CODES = ("Complete", "PartialData", "InternalError", "Forbidden")


@dataclass
class MetricSeries:
    """Datapoints of one metric, gathered over the files of an export."""

    key: str
    ids: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    times: list[Any] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def matches(self, name: str) -> bool:
        """Whether ``name`` is the series' Id, or a word of one of its labels."""
        want = name.lower()
        if want in {i.lower() for i in self.ids}:
            return True
        return any(want in re.split(r"[^a-z0-9]+", lab.lower()) for lab in self.labels)


def load_export(path: Path) -> Any:
    """The JSON of one export file; unreadable or invalid JSON is an :class:`InputError`."""
    require_file(path, "CloudWatch export")
    raw = path.read_bytes()
    refuse_unless_json_text(path, raw[:HEAD_BYTES], "CloudWatch JSON", _SAVE_AS_IS)
    # Windows PowerShell 5 redirects the AWS CLI's output as UTF-16 with a byte-order mark.
    encoding = "utf-16" if raw.startswith(UTF16_BOMS) else "utf-8-sig"
    try:
        return json.loads(raw.decode(encoding))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            f"{_SAVE_AS_IS}"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text past its start; {_SAVE_AS_IS}") from None


_SAVE_AS_IS = "save the AWS CLI's output as is (--output json)"


def add_export(path: Path, data: Any, series: dict[str, MetricSeries]) -> str | None:
    """Add one file's (or response page's) datapoints to ``series``, by metric.

    Returns 'paged' if it has a NextToken, else 'last', or None for shapes without pages.
    """
    if isinstance(data, dict) and "MetricDataResults" in data:
        results = data["MetricDataResults"]
        if not isinstance(results, list):
            raise InputError(
                f"{path}: MetricDataResults is {_kind(results)}, not a list; check the file"
            )
        token = data.get("NextToken")
        if token is not None and not isinstance(token, str):
            raise InputError(f"{path}: NextToken is {_kind(token)}, not a string; check the file")
        for k, r in enumerate(results):
            _add_result(path, k, r, series)
        return "paged" if data.get("NextToken") else "last"
    if isinstance(data, dict) and "Datapoints" in data:
        label = _text(data.get("Label"))
        s = series.setdefault(label or "(no label)", MetricSeries(label or "(no label)"))
        s.labels.add(label)
        s.files.append(str(path))
        points = data["Datapoints"]
        if not isinstance(points, list):
            raise InputError(f"{path}: Datapoints is {_kind(points)}, not a list; check the file")
        for i, p in enumerate(points):
            if not isinstance(p, dict) or "Timestamp" not in p:
                raise InputError(f"{path}: Datapoints[{i}] has no Timestamp; check the file")
            if "Sum" not in p:
                stats = ", ".join(k for k in p if k not in ("Timestamp", "Unit")) or "none"
                raise InputError(
                    f"{path}: Datapoints[{i}] has no Sum (statistics: {stats}); export with "
                    "--statistics Sum"
                )
            s.times.append(p["Timestamp"])
            s.values.append(p["Sum"])
            s.where.append(f"{path}: Datapoints[{i}]")
        return None
    if isinstance(data, dict) and "schema_version" in data:
        raise InputError(
            f"{path}: lfvsim output (it has a schema_version), not a trace or CloudWatch export; "
            "give the trace file itself, or the export of aws cloudwatch get-metric-data"
        )
    raise InputError(
        f"{path}: not a CloudWatch export (no MetricDataResults or Datapoints); save the "
        "output of aws cloudwatch get-metric-data or get-metric-statistics"
    )


def _add_result(path: Path, k: int, r: Any, series: dict[str, MetricSeries]) -> None:
    if not isinstance(r, dict):
        raise InputError(f"{path}: MetricDataResults[{k}] is not an object; check the file")
    rid, label = _text(r.get("Id")), _text(r.get("Label"))
    at = f"{path}: MetricDataResults[{k}] ({label or rid or 'no Id'})"
    status = r.get("StatusCode", "Complete")
    if status not in _STATUS_CODES:
        raise InputError(
            f"{at}: StatusCode {status!r} is not one of {', '.join(_STATUS_CODES)}; save the "
            "AWS CLI's output unchanged"
        )
    if status in ("InternalError", "Forbidden"):
        raise InputError(
            f"{at} has StatusCode {status}; export it again"
            + (" with permission to read it" if status == "Forbidden" else "")
        )
    times, values = r.get("Timestamps", []), r.get("Values", [])
    for name, got in (("Timestamps", times), ("Values", values)):
        if not isinstance(got, list):
            raise InputError(f"{at}: {name} is {_kind(got)}, not a list; check the file")
    if len(times) != len(values):
        raise InputError(
            f"{at} has {len(times)} Timestamps but {len(values)} Values; check the file"
        )
    key = label or rid
    s = series.setdefault(key, MetricSeries(key))
    s.ids.add(rid)
    s.labels.add(label)
    s.files.append(str(path))
    s.times.extend(times)
    s.values.extend(values)
    s.where.extend(f"{path}: MetricDataResults[{k}] Timestamps[{i}]" for i in range(len(times)))


def get_metric_data(client: Any, request: dict[str, Any]) -> dict[str, MetricSeries]:
    """Every page of a GetMetricData request, as series by metric."""
    series: dict[str, MetricSeries] = {}
    pages = 0
    while True:
        try:
            page = client.get_metric_data(**request)
        except Exception as exc:  # botocore's errors: credentials, access, throttling, network
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"CloudWatch GetMetricData failed ({reason}); check credentials, region and "
                "permissions (cloudwatch:GetMetricData)"
            ) from None
        pages += 1
        add_export(Path(f"GetMetricData page {pages}"), page, series)
        token = page.get("NextToken")
        if not token:
            return series
        request["NextToken"] = token


def series_seconds(s: MetricSeries) -> np.ndarray:
    """Epoch seconds of the series' timestamps (ISO 8601 with an offset, epoch seconds or
    ``datetime``), checked to lie in 1970-2200."""
    out = np.empty(len(s.times))
    for i, t in enumerate(s.times):
        try:
            if isinstance(t, int | float) and not isinstance(t, bool):
                out[i] = float(t)  # epoch seconds (AWS CLI v1); the range is checked below
                continue
            if isinstance(t, datetime):
                ts = pd.Timestamp(t if t.tzinfo else t.replace(tzinfo=UTC))
            elif isinstance(t, str):
                ts = pd.Timestamp(t)
            else:
                raise TypeError(t)
        except (ValueError, TypeError, OverflowError):
            raise InputError(
                f"{s.where[i]}: cannot read timestamp {_short(t)}; expected ISO 8601 with an offset"
            ) from None
        if ts.tzinfo is None:
            raise InputError(
                f"{s.where[i]}: timestamp {t!r} has no time zone; CloudWatch exports give one "
                "(2026-01-05T10:00:00+00:00)"
            )
        out[i] = ts.timestamp()
    check_epochs(
        out,
        lambda i: s.where[i],
        lambda i: _short(s.times[i]),
        lambda i: isinstance(s.times[i], int | float),
    )
    return out


def series_counts(s: MetricSeries) -> np.ndarray:
    """The series' values as whole counts (NaN where a value is null)."""
    out = np.empty(len(s.values))
    for i, v in enumerate(s.values):
        if v is None:
            out[i] = np.nan
            continue
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise InputError(f"{s.where[i]}: value {_short(v)} is not a number; check the file")
        try:
            out[i] = float(v)
        except (TypeError, ValueError, OverflowError):
            raise InputError(
                f"{s.where[i]}: value {_short(v)} is not a number; check the file"
            ) from None
    with np.errstate(invalid="ignore"):
        frac = np.isfinite(out) & (np.abs(out - np.round(out)) > 1e-6)
    if frac.any():
        i = int(np.argmax(frac))
        raise InputError(
            f"{s.where[i]}: value {out[i]:g} is not a whole count; export the Sum statistic "
            "(--metric-data-queries ... Stat=Sum)"
        )
    return out


def _text(value: Any) -> str:
    """An Id or Label as text; numbers and other JSON values are shown, not trusted."""
    return value if isinstance(value, str) else ("" if value is None else _short(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), "null" if value is None else f"the value {_short(value)}")
