"""A hosted model's whole CloudWatch metric history: load, units, bounds and latency per minute.

Lookout for Vision publishes in ``AWS/LookoutVision`` (dimensions ``ProjectName``,
``ModelVersion``, latency metric ``Time``); Rekognition Custom Labels in ``AWS/Rekognition``
(``ProjectName``, ``VersionName``, latency metric ``ResponseTime``); both in milliseconds.
Unit metrics (``InServiceInferenceUnits``, ``DesiredInferenceUnits``, ``MinInferenceUnits``,
``MaxInferenceUnits``) are read as the ``Average`` per minute, counts
(``SuccessfulRequestCount``, ``ThrottledCount``) as the ``Sum``.

The history is read from a ``get-metric-data`` export (one file, hand-paged files or a glob
pattern) or pulled live with boto3. Stretches that are not behaviour are recognised and
listed as :class:`HistoryPeriod`: minutes the model was not hosted, gaps in the data,
changes of Min/Max mid-history, and restarts. How they are told apart is a heuristic, said
in the notes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.cloudwatch import cloudwatch_client, expand_paths
from lfvsim.traces.generators import utc
from lfvsim.traces.metric_series import (
    MetricSeries,
    add_export,
    get_metric_data,
    load_export,
    series_counts,
    series_seconds,
)
from lfvsim.traces.points import fmt_time

__all__ = [
    "COUNT_METRICS",
    "NAMESPACES",
    "UNIT_METRICS",
    "HistoryPeriod",
    "MetricHistory",
    "dimensions_for",
    "get_metric_history",
    "history_queries",
    "latency_metric",
    "read_metric_history",
]

NAMESPACES = {"lookoutvision": "AWS/LookoutVision", "rekognition": "AWS/Rekognition"}
COUNT_METRICS = ("SuccessfulRequestCount", "ThrottledCount")
UNIT_METRICS = (
    "InServiceInferenceUnits",
    "DesiredInferenceUnits",
    "MinInferenceUnits",
    "MaxInferenceUnits",
)
#: Latency statistics read, and the column each becomes (milliseconds, as CloudWatch has it).
LATENCY_COLUMNS = {"Average": "latency_mean_ms", "p50": "latency_p50_ms", "p99": "latency_p99_ms"}
_STAT_WORDS = {"average": "Average", "avg": "Average", "sum": "Sum", "p50": "p50", "p99": "p99"}
#: A run of minutes without unit metrics this short, between hosted minutes, is a gap in
#: the data rather than the model being stopped (StartModel alone takes longer).
MAX_GAP_MINUTES = 5

PeriodKind = Literal["not_hosted", "gap", "bounds_change", "restart"]


def latency_metric(service: str) -> str:
    """The latency metric's name: ``Time`` (Lookout for Vision) or ``ResponseTime``."""
    return "ResponseTime" if service == "rekognition" else "Time"


def dimensions_for(service: str, project: str, version: str) -> dict[str, str]:
    """The model's CloudWatch dimensions in the service's namespace."""
    key = "VersionName" if service == "rekognition" else "ModelVersion"
    return {"ProjectName": project, key: version}


@dataclass(frozen=True)
class HistoryPeriod:
    """A stretch of the history that is not the autoscaler's behaviour.

    ``kind`` is ``not_hosted``, ``gap`` (no data while hosted), ``bounds_change`` (Min or
    Max changed at ``start``; ``end`` equals ``start``) or ``restart`` (hosting began again
    at ``start``). ``end`` is exclusive.
    """

    kind: PeriodKind
    start: pd.Timestamp
    end: pd.Timestamp
    detail: str

    def __str__(self) -> str:
        when = (
            fmt_time(self.start.timestamp())
            if self.start == self.end
            else f"{fmt_time(self.start.timestamp())} to {fmt_time(self.end.timestamp())}"
        )
        return f"{self.kind.replace('_', ' ')} {when}: {self.detail}"


@dataclass(frozen=True)
class HostedSegment:
    """Consecutive hosted minutes ``[first, stop)`` with one MinInferenceUnits / Max."""

    first: int
    stop: int
    min_units: int | None
    max_units: int | None


@dataclass(frozen=True)
class MetricHistory:
    """A model's per-minute CloudWatch history.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per minute (UTC index, no minute left out between the first and last
        datapoint). Columns: the metrics present, by CloudWatch name (counts as ``Sum``, 0
        where CloudWatch wrote no datapoint; unit metrics as ``Average``, NaN where none),
        latency as ``latency_mean_ms`` / ``latency_p50_ms`` / ``latency_p99_ms``, and
        ``hosted`` (boolean; NA when the export has no ``InServiceInferenceUnits``) and
        ``gap`` (no data in a hosted stretch).
    periods : list of HistoryPeriod
        Recognised stretches that are not behaviour, in time order.
    namespace : str or None
        From the export's queries when it carries them (``lfvsim run --cloudwatch-json``
        does), else None.
    dimensions : dict
        Likewise.
    source : str
        Where the history came from.
    notes : list of str
        What was assumed or repaired while reading.
    """

    frame: pd.DataFrame
    periods: list[HistoryPeriod]
    namespace: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def has_units(self) -> bool:
        """Whether the history holds ``InServiceInferenceUnits``."""
        return "InServiceInferenceUnits" in self.frame

    def offered(self) -> np.ndarray:
        """Offered requests per minute: successful + throttled (0 where none were written)."""
        out = np.zeros(len(self.frame), np.int64)
        for name in COUNT_METRICS:
            if name in self.frame:
                out += self.frame[name].to_numpy(np.int64)
        return out

    def segments(self) -> list[HostedSegment]:
        """Stretches of hosted minutes (gaps bridged) with constant Min/Max, in order."""
        hosted = self.frame["hosted"].fillna(True).to_numpy(bool) | self.frame["gap"].to_numpy(bool)
        lo = _bound(self.frame, "MinInferenceUnits")
        hi = _bound(self.frame, "MaxInferenceUnits")
        out: list[HostedSegment] = []
        i, n = 0, len(hosted)
        while i < n:
            if not hosted[i]:
                i += 1
                continue
            j = i + 1
            while j < n and hosted[j] and lo[j] == lo[i] and hi[j] == hi[i]:
                j += 1
            out.append(
                HostedSegment(
                    i, j, None if lo[i] < 0 else int(lo[i]), None if hi[i] < 0 else int(hi[i])
                )
            )
            i = j
        return out


def read_metric_history(
    paths: str | Path | Sequence[str | Path], *, max_gap_minutes: int = MAX_GAP_MINUTES
) -> MetricHistory:
    """Read a model's metric history from a ``get-metric-data`` export.

    Parameters
    ----------
    paths : str, Path or list of them
        The export's files (one per page when paging by hand); glob patterns are expanded.
    max_gap_minutes : int
        Runs of minutes without unit metrics up to this long, between hosted minutes, are
        gaps in the data; longer ones are the model not hosted.

    Raises
    ------
    InputError
        A missing or malformed file, a missing last page, an export of another shape, or
        one holding none of the metrics.
    """
    files = expand_paths(paths)
    series: dict[str, MetricSeries] = {}
    queries: list[dict[str, Any]] = []
    paged = []
    for path in files:
        data = load_export(path)
        if not (isinstance(data, dict) and "MetricDataResults" in data):
            raise InputError(
                f"{path}: not a get-metric-data export (no MetricDataResults); save the output "
                "of aws cloudwatch get-metric-data"
            )
        paged.append(add_export(path, data, series))
        extra = data.get("MetricDataQueries")
        if isinstance(extra, list):
            queries.extend(q for q in extra if isinstance(q, dict) and q not in queries)
    if "last" not in paged:
        raise InputError(
            f"{files[-1]}: every file of the export has a NextToken, so its last page is "
            "missing; fetch it with --starting-token and add the file"
        )
    label = str(files[0]) + (f" (+{len(files) - 1} more)" if len(files) > 1 else "")
    return _history(series, queries, label, max_gap_minutes)


def history_queries(
    namespace: str, dimensions: dict[str, str], *, period_s: int = 60
) -> list[dict[str, Any]]:
    """GetMetricData queries for every metric of the history, each with its statistic."""
    latency = "ResponseTime" if namespace == NAMESPACES["rekognition"] else "Time"
    wanted = [(n, "Sum") for n in COUNT_METRICS] + [(n, "Average") for n in UNIT_METRICS]
    wanted.append((latency, "Average"))
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    return [
        {
            "Id": _query_id(name, stat),
            "Label": name,
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                "Period": period_s,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for name, stat in wanted
    ]


def get_metric_history(
    service: str,
    project: str,
    version: str,
    start: datetime | str,
    end: datetime | str,
    *,
    region: str | None = None,
    client: Any = None,
    max_gap_minutes: int = MAX_GAP_MINUTES,
) -> MetricHistory:
    """Pull a model's metric history with ``GetMetricData`` (needs ``lfvsim[aws]``).

    Parameters
    ----------
    service : {'lookoutvision', 'rekognition'}
        Chooses the namespace, the version's dimension and the latency metric.
    project, version : str
        The model.
    start, end : datetime or str
        Time range (UTC when naive).
    region : str, optional
        Region of the client made when ``client`` is not given.
    client : botocore client, optional
        A CloudWatch client.
    """
    if service not in NAMESPACES:
        raise InputError(f"unknown service {service!r}; use lookoutvision or rekognition")
    t0, t1 = utc(start), utc(end)
    if not t1 > t0:
        raise InputError(f"end {t1} is not after start {t0}; give a later end")
    if client is None:
        client = cloudwatch_client(region)
    namespace = NAMESPACES[service]
    queries = history_queries(namespace, dimensions_for(service, project, version))
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": t0.to_pydatetime(),
        "EndTime": t1.to_pydatetime(),
        "ScanBy": "TimestampAscending",
    }
    series = get_metric_data(client, request)
    label = f"CloudWatch {namespace} {project}/{version}"
    return _history(series, queries, label, max_gap_minutes)


# --- assembly -------------------------------------------------------------------------------


def _query_id(name: str, stat: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() + "_" + stat.lower()


def _identify(
    s: MetricSeries, queries: dict[str, dict[str, Any]], latency_names: tuple[str, ...]
) -> tuple[str, str | None] | None:
    """(metric, statistic or None when unknown) of a series: from its query, else its label."""
    for rid in s.ids:
        q = queries.get(rid)
        if q is not None and "MetricStat" in q:
            stat = q["MetricStat"]
            return str(stat["Metric"]["MetricName"]), str(stat.get("Stat"))
    names = COUNT_METRICS + UNIT_METRICS + latency_names
    found = [n for n in names if s.matches(n)]
    if not found:
        return None
    words = {w for lab in s.labels | s.ids for w in re.split(r"[^a-z0-9]+", lab.lower())}
    stats = {_STAT_WORDS[w] for w in words if w in _STAT_WORDS}
    return found[0], (stats.pop() if len(stats) == 1 else None)


def _history(
    series: dict[str, MetricSeries],
    query_list: list[dict[str, Any]],
    label: str,
    max_gap_minutes: int,
) -> MetricHistory:
    notes: list[str] = []
    queries = {str(q.get("Id")): q for q in query_list}
    namespace, dimensions = _where_from(query_list)
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s in series.values():
        if not s.times:
            continue
        found = _identify(s, queries, ("Time", "ResponseTime"))
        if found is None:
            notes.append(f"{label}: ignored series {s.key!r} (not a metric of the history)")
            continue
        name, stat = found
        column, expected = _column(name, stat)
        if column is None:
            notes.append(f"{label}: ignored {name} with statistic {stat} (read: {expected})")
            continue
        if stat is None:
            notes.append(f"{label}: {s.key!r} names no statistic; read as the {expected}")
        elif stat != expected and column == name:
            raise InputError(
                f"{label}: {name} is exported as {stat}; export it as {expected} "
                "(Stat in --metric-data-queries)"
            )
        if column in columns:
            raise InputError(f"{label}: two series hold {column}; keep one in the export")
        seconds = series_seconds(s)
        values = series_counts(s) if column in COUNT_METRICS else _floats(s)
        columns[column] = (seconds, values)
    if not columns:
        raise InputError(
            f"{label}: none of SuccessfulRequestCount, ThrottledCount or the inference-unit "
            f"metrics (found {', '.join(sorted(series)) or 'nothing'}); check the export"
        )
    frame = _grid(columns, label)
    periods = _recognise(frame, max_gap_minutes, notes, label)
    return MetricHistory(frame, periods, namespace, dimensions, label, notes)


def _where_from(queries: list[dict[str, Any]]) -> tuple[str | None, dict[str, str]]:
    for q in queries:
        metric = q.get("MetricStat", {}).get("Metric", {})
        if metric.get("Namespace"):
            dims = {str(d["Name"]): str(d["Value"]) for d in metric.get("Dimensions", [])}
            return str(metric["Namespace"]), dims
    return None, {}


def _column(name: str, stat: str | None) -> tuple[str | None, str]:
    if name in COUNT_METRICS:
        return name, "Sum"
    if name in UNIT_METRICS:
        return name, "Average"
    column = LATENCY_COLUMNS.get(stat or "Average")
    return column, "Average, p50 or p99"


def _floats(s: MetricSeries) -> np.ndarray:
    out = np.empty(len(s.values))
    for i, v in enumerate(s.values):
        try:
            out[i] = np.nan if v is None else float(v)
        except (TypeError, ValueError):
            raise InputError(f"{s.where[i]}: value {v!r} is not a number; check the file") from None
    return out


def _grid(columns: dict[str, tuple[np.ndarray, np.ndarray]], label: str) -> pd.DataFrame:
    """Every column on one per-minute grid from the first datapoint to the last."""
    everything = np.concatenate([t for t, _ in columns.values()])
    lo, hi = float(everything.min()), float(everything.max())
    steps = np.concatenate([np.diff(np.unique(t)) for t, _ in columns.values()])
    if steps.size and steps.min() != 60.0:
        raise InputError(
            f"{label}: datapoints {steps.min():g} s apart; export with a 60 s period (--period 60)"
        )
    n = round((hi - lo) / 60.0) + 1
    data: dict[str, np.ndarray] = {}
    for name, (t, v) in columns.items():
        off = (t - lo) / 60.0
        if np.any(np.abs(off - np.round(off)) > 1e-6):
            raise InputError(
                f"{label}: {name}'s timestamps are not on one minute grid with the rest"
            )
        idx = np.round(off).astype(np.int64)
        if len(np.unique(idx)) != len(idx):
            raise InputError(
                f"{label}: {name} has a minute twice (overlapping pages?); export each minute once"
            )
        col = np.full(n, np.nan)
        col[idx] = v
        data[name] = col
    index = pd.DatetimeIndex(
        pd.Timestamp(lo, unit="s", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min"),
        name="timestamp",
    )
    return pd.DataFrame(data, index=index)


def _recognise(
    frame: pd.DataFrame, max_gap_minutes: int, notes: list[str], label: str
) -> list[HistoryPeriod]:
    """Fill the ``hosted`` and ``gap`` columns and list the periods that are not behaviour."""
    n = len(frame)
    index = frame.index
    counts_missing = np.zeros(n, bool)
    for name in COUNT_METRICS:
        if name in frame:
            missing = frame[name].isna().to_numpy()
            counts_missing |= missing
            frame[name] = frame[name].fillna(0).astype(np.int64)
    served = frame.get("SuccessfulRequestCount", pd.Series(0, index=index)).to_numpy() > 0
    if "InServiceInferenceUnits" not in frame:
        frame["hosted"] = pd.array([pd.NA] * n, dtype="boolean")
        frame["gap"] = False
        notes.append(
            f"{label}: no InServiceInferenceUnits, so hosting, gaps and restarts cannot be told; "
            "read as hosted throughout"
        )
        return []
    units = frame["InServiceInferenceUnits"].to_numpy()
    present = ~np.isnan(units)
    hosted = present & (units > 0)
    gap = np.zeros(n, bool)
    periods: list[HistoryPeriod] = []
    i = 0
    while i < n:
        if hosted[i]:
            i += 1
            continue
        j = i
        while j < n and not hosted[j]:
            j += 1
        between = i > 0 and j < n
        no_data = not present[i:j].any()
        if no_data and (served[i:j].any() or (between and j - i <= max_gap_minutes)):
            gap[i:j] = True
            periods.append(
                HistoryPeriod(
                    "gap", index[i], _end(index, j),
                    f"{j - i} min without unit metrics while hosted; left out of comparisons",
                )
            )  # fmt: skip
        else:
            periods.append(
                HistoryPeriod(
                    "not_hosted", index[i], _end(index, j),
                    f"{j - i} min with no unit in service (model stopped or starting)",
                )
            )  # fmt: skip
            if j < n:
                periods.append(
                    HistoryPeriod("restart", index[j], index[j], "units in service again")
                )
        i = j
    frame["hosted"] = pd.array(hosted | gap, dtype="boolean")
    frame["gap"] = gap
    periods += _bound_changes(frame, hosted)
    periods.sort(key=lambda p: (p.start, p.kind != "not_hosted"))
    quiet = int((counts_missing & hosted).sum())
    if quiet:
        notes.append(
            f"{label}: {quiet} hosted minutes without a request datapoint read as 0 requests "
            "(CloudWatch writes none for a minute without requests)"
        )
    return periods


def _bound_changes(frame: pd.DataFrame, hosted: np.ndarray) -> list[HistoryPeriod]:
    out = []
    for name in ("MinInferenceUnits", "MaxInferenceUnits"):
        if name not in frame:
            continue
        values = frame[name].to_numpy()
        last = np.nan
        for k in np.flatnonzero(hosted & ~np.isnan(values)):
            if not np.isnan(last) and values[k] != last:
                out.append(
                    HistoryPeriod(
                        "bounds_change", frame.index[k], frame.index[k],
                        f"{name} {last:g} -> {values[k]:g}",
                    )
                )  # fmt: skip
            last = values[k]
    return out


def _end(index: pd.DatetimeIndex, j: int) -> pd.Timestamp:
    return index[j] if j < len(index) else index[-1] + pd.Timedelta(minutes=1)


def _bound(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A bound per minute, carried over minutes without a datapoint; -1 where unknown."""
    if name not in frame:
        return np.full(len(frame), -1.0)
    return frame[name].ffill().bfill().fillna(-1).round().to_numpy()
