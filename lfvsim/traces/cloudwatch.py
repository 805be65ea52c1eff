"""CloudWatch metrics as traces: exports written by the AWS CLI, and live pulls with boto3.

Lookout for Vision publishes per-model metrics in the ``AWS/LookoutVision`` namespace
(dimensions ``ProjectName`` and ``ModelVersion``), Rekognition Custom Labels in
``AWS/Rekognition`` (``ProjectName``, ``VersionName``). The offered load is one metric
(``ProcessedImageCount``) or a sum of count metrics, by default ``SuccessfulRequestCount +
ThrottledCount`` (throttled requests were offered too), each read as the ``Sum`` per
period. The trace's notes say which metrics it was built from. Rekognition describes its
``ThrottledCount`` by the account's TPS limit, so it may not count calls over the model's
capacity; ``SuccessfulRequestCount`` alone is then a lower bound of the offered load.

Two export shapes are read, as the AWS CLI prints them:

- ``aws cloudwatch get-metric-data``: ``{"MetricDataResults": [{"Id", "Label",
  "Timestamps", "Values", "StatusCode"}], "NextToken"?, "Messages"}``, newest timestamp
  first, possibly several files when paging by hand (``--max-items`` /
  ``--starting-token``);
- ``aws cloudwatch get-metric-statistics``: ``{"Label", "Datapoints": [{"Timestamp",
  "Sum", "Unit"}]}``, datapoints in no order.

Timestamps are ISO 8601 strings with an offset (CLI v2), epoch seconds, or ``datetime``
objects (boto3). CloudWatch writes no datapoint for a period without requests: such gaps
are errors unless ``fill_gaps='zero'`` (then reported in the trace's notes).
"""

from __future__ import annotations

import glob
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.arrivals import Arrivals, PoissonArrivals
from lfvsim.traces.generators import utc
from lfvsim.traces.metric_series import (
    MetricSeries,
    add_export,
    get_metric_data,
    load_export,
    series_counts,
    series_seconds,
)
from lfvsim.traces.model import CountTrace
from lfvsim.traces.points import (
    Duplicates,
    FillGaps,
    counts_from_points,
    epoch_timestamp,
    fmt_time,
)

__all__ = [
    "LFV_NAMESPACE",
    "METRICS",
    "METRIC_ALIASES",
    "RCL_NAMESPACE",
    "cloudwatch_client",
    "cloudwatch_export_pages",
    "expand_paths",
    "export_namespace",
    "get_cloudwatch_trace",
    "metric_terms",
    "read_cloudwatch_export",
]

LFV_NAMESPACE = "AWS/LookoutVision"
RCL_NAMESPACE = "AWS/Rekognition"
#: Values of ``metric``: a metric name, or 'offered' for successful + throttled requests;
#: any ``A+B`` sum of series (short names below) is accepted too.
METRICS = ("auto", "ProcessedImageCount", "offered", "SuccessfulRequestCount")
_OFFERED = ("SuccessfulRequestCount", "ThrottledCount")
#: Short names accepted in ``metric``; 'offered' is the default sum.
METRIC_ALIASES = {
    "successful": ("SuccessfulRequestCount",),
    "throttled": ("ThrottledCount",),
    "processed": ("ProcessedImageCount",),
    "offered": _OFFERED,
}
_THROTTLED_NOTE = {
    LFV_NAMESPACE: "ThrottledCount (AWS/LookoutVision) counts calls the model throttled",
    RCL_NAMESPACE: "ThrottledCount (AWS/Rekognition) may count calls over the account's TPS "
    "limit rather than over the model's capacity; --metric successful gives a lower bound",
}

#: Metrics only one of the services publishes: an export holding one tells its namespace.
_OWN_METRICS = {
    LFV_NAMESPACE: (
        "ProcessedImageCount", "InvalidImageCount", "DetectedAnomalyCount", "ErrorCount", "Time",
    ),
    RCL_NAMESPACE: ("ResponseTime", "UserErrorCount", "ServerErrorCount"),
}  # fmt: skip


@dataclass(frozen=True)
class _Page:
    """The datapoints one file of an export holds for one series."""

    file: str
    key: str
    seconds: np.ndarray

    @property
    def span(self) -> tuple[float, float]:
        return float(self.seconds.min()), float(self.seconds.max())


def _merge(series: dict[str, MetricSeries], own: dict[str, MetricSeries]) -> None:
    """Add one file's series to those of the whole export."""
    for key, s in own.items():
        into = series.setdefault(key, MetricSeries(key))
        into.ids |= s.ids
        into.labels |= s.labels
        into.times.extend(s.times)
        into.values.extend(s.values)
        into.where.extend(s.where)
        into.files.extend(s.files)


def _partial_notes(path: Path, data: Any) -> list[str]:
    """A note for each result marked PartialData in a file that is the export's last page."""
    results = data.get("MetricDataResults") if isinstance(data, dict) else None
    notes = []
    for k, r in enumerate(results or []):
        if isinstance(r, dict) and r.get("StatusCode") == "PartialData":
            name = r.get("Label") or r.get("Id") or f"MetricDataResults[{k}]"
            notes.append(
                f"{path}: {name} has StatusCode PartialData and the file no NextToken: "
                "CloudWatch had more datapoints than the export holds, so the trace may miss "
                "some; export again, following NextToken to the last page"
            )
    return notes


def _missing_pages(
    pages: list[_Page],
    series: dict[str, MetricSeries],
    period_s: float | None,
    fill_gaps: FillGaps,
) -> list[str]:
    """Gaps that fall between two files of a paged export: a page may be missing.

    A hand-paged export splits one time range into contiguous pages, so periods missing
    exactly between two files may be a lost page as well as periods without requests
    (CloudWatch writes no datapoint for those); the message names both.
    """
    notes = []
    for key in series:
        mine = sorted((p for p in pages if p.key == key), key=lambda p: p.span)
        if len(mine) < 2:
            continue
        step = period_s or _smallest_step(np.concatenate([p.seconds for p in mine]))
        if step is None:
            continue
        for a, b in itertools.pairwise(mine):
            (_, a_hi), (b_lo, _) = a.span, b.span
            if b_lo - a_hi <= step * (1 + 1e-6):
                continue
            missing = round((b_lo - a_hi) / step) - 1
            where = (
                f"{a.file} and {b.file}: {key} has no datapoints for {missing} period(s) from "
                f"{fmt_time(a_hi + step)} to {fmt_time(b_lo)}, between the two files"
            )
            if fill_gaps != "zero":
                raise InputError(
                    f"{where}: a page of the export may be missing (fetch it and add the file), "
                    "or there were no requests (pass --fill-gaps zero, fill_gaps = 'zero' in "
                    "[traffic])"
                )
            notes.append(
                f"{where}, filled with count 0 (fill_gaps = 'zero'): if requests were made "
                "then, a page of the export is missing"
            )
    return notes


def _smallest_step(seconds: np.ndarray) -> float | None:
    steps = np.diff(np.unique(seconds))
    return float(steps.min()) if len(steps) else None


def expand_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """File names, with glob patterns (``export-*.json``) expanded in sorted order."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    out: list[Path] = []
    for item in items:
        text = str(item)
        if any(c in text for c in "*?["):
            found = sorted(glob.glob(text))
            if not found:
                raise InputError(f"no file matches '{text}'; check the pattern")
            out.extend(Path(f) for f in found)
        else:
            out.append(Path(text))
    if not out:
        raise InputError("no CloudWatch export given; name at least one JSON file")
    seen: dict[Path, Path] = {}
    for path in out:
        # A page read twice would read as duplicate datapoints, whose repair (sum) doubles it.
        first = seen.setdefault(path.resolve(), path)
        if first is not path:
            same = f"'{path}'" if str(first) == str(path) else f"'{first}' and '{path}'"
            raise InputError(
                f"{same}: the same file is given twice; give each page of the export once"
            )
    return out


def read_cloudwatch_export(
    paths: str | Path | Sequence[str | Path],
    *,
    metric: str = "auto",
    period_s: float | None = None,
    fill_gaps: FillGaps = "error",
    duplicates: Duplicates = "error",
    scale: float = 1.0,
    arrivals: Arrivals | None = None,
    namespace: str | None = None,
) -> CountTrace:
    """Read request counts from CloudWatch JSON exported with the AWS CLI.

    Parameters
    ----------
    paths : str, Path or sequence of them
        The export's files (one per page when paging by hand); glob patterns are expanded.
    metric : str
        ``'auto'`` (``ProcessedImageCount`` if present, else successful + throttled, else
        the only series), ``'offered'`` (``SuccessfulRequestCount + ThrottledCount``), the
        ``Label`` or ``Id`` of one series, or a sum such as ``'successful+throttled'``
        (short names: see :data:`METRIC_ALIASES`).
    period_s : float, optional
        Period of the datapoints; default: the smallest step between them.
    fill_gaps : {'error', 'zero'}
        A period without a datapoint is an error, or counts as 0.
    duplicates : {'error', 'sum', 'first'}
        A timestamp twice (overlapping pages) is an error, is added up, or the first is kept.
    scale : float
        Multiply the traffic.
    arrivals : Arrivals, optional
        How requests fall inside a period (default: Poisson).
    namespace : str, optional
        Namespace the export came from (``AWS/LookoutVision`` or ``AWS/Rekognition``), for
        the notes on what ``ThrottledCount`` counts; unset: both are noted.

    Returns
    -------
    CountTrace
        The metric's ``Sum`` per period; repairs and assumptions are in its ``notes``.

    Raises
    ------
    InputError
        A missing or malformed file, a page missing from a hand-paged export, a metric
        with no datapoints, values that are not whole counts, gaps, or duplicates.
    """
    files = expand_paths(paths)
    series: dict[str, MetricSeries] = {}
    tokens = []
    pages: list[_Page] = []
    notes: list[str] = []
    queried: set[str] = set()
    for path in files:
        data = load_export(path)
        queried |= _queried_namespaces(data)
        own: dict[str, MetricSeries] = {}
        tokens.append(add_export(path, data, own))
        pages.extend(_Page(str(path), key, series_seconds(s)) for key, s in own.items() if s.times)
        if tokens[-1] != "paged":  # PartialData on a page with a NextToken is completed later
            notes.extend(_partial_notes(path, data))
        _merge(series, own)
    paged = [t for t in tokens if t is not None]
    if paged and "last" not in paged:
        raise InputError(
            f"{files[-1]}: every file of the export has a NextToken, so its last page is "
            "missing; fetch it with --starting-token and add the file"
        )
    label = str(files[0]) + (f" (+{len(files) - 1} more)" if len(files) > 1 else "")
    notes.extend(_missing_pages(pages, series, period_s, fill_gaps))
    detected = None
    if namespace is None:
        namespace, detected = export_namespace(series, queried)
    trace = _trace_from_series(
        series, label, metric, period_s, fill_gaps, duplicates, scale, arrivals, window_s=None,
        namespace=namespace, detected=detected,
    )  # fmt: skip
    return replace(trace, remarks=(*notes, *trace.remarks)) if notes else trace


def export_namespace(
    series: dict[str, MetricSeries], queried: Iterable[str] = ()
) -> tuple[str | None, str | None]:
    """The namespace an export came from, and how that is known (None, None: unknown).

    The namespace its ``MetricDataQueries`` name (lfvsim's exports keep them), else the
    one service that publishes metrics the export holds (``ServerErrorCount``: Rekognition;
    ``ProcessedImageCount``: Lookout for Vision). Both services, or neither: unknown.
    """
    known = set(queried) & set(_OWN_METRICS)
    if len(known) == 1:
        return known.pop(), "the export's MetricDataQueries"
    if known:
        return None, None
    found = {
        ns: [m for m in own if any(s.matches(m) for s in series.values())]
        for ns, own in _OWN_METRICS.items()
    }
    found = {ns: metrics for ns, metrics in found.items() if metrics}
    if len(found) != 1:
        return None, None
    ((ns, metrics),) = found.items()
    return ns, f"the export's {', '.join(metrics)} series"


def _queried_namespaces(data: Any) -> set[str]:
    """Namespaces named by an export file's ``MetricDataQueries`` (kept beside the results)."""
    queries = data.get("MetricDataQueries") if isinstance(data, dict) else None
    if not isinstance(queries, list):
        return set()
    out = set()
    for q in queries:
        stat = q.get("MetricStat") if isinstance(q, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict) and isinstance(metric.get("Namespace"), str):
            out.add(metric["Namespace"])
    return out


def cloudwatch_client(region: str | None) -> Any:
    """A boto3 CloudWatch client for a live pull, or a one-line error without boto3."""
    try:
        # Deferred: boto3 is the optional 'aws' extra, needed only for a live pull.
        import boto3
    except ImportError:
        raise InputError(
            "reading CloudWatch needs boto3; install it with pip install 'lfvsim[aws]'"
        ) from None
    return boto3.client("cloudwatch", region_name=region)


def get_cloudwatch_trace(
    project: str,
    version: str,
    start: datetime | str,
    end: datetime | str,
    *,
    metric: str = "ProcessedImageCount",
    period_s: int = 60,
    fill_gaps: FillGaps = "error",
    namespace: str = LFV_NAMESPACE,
    dimensions: dict[str, str] | None = None,
    region: str | None = None,
    client: Any = None,
    arrivals: Arrivals | None = None,
) -> CountTrace:
    """Pull request counts from CloudWatch with ``GetMetricData`` (needs ``lfvsim[aws]``).

    Parameters
    ----------
    project, version : str
        The model (dimensions ``ProjectName`` and ``ModelVersion``).
    start, end : datetime or str
        Time range (UTC when naive).
    metric : str
        ``'ProcessedImageCount'``, ``'offered'`` (``SuccessfulRequestCount +
        ThrottledCount``), or another metric name or sum of them (``'successful'``,
        ``'SuccessfulRequestCount+ThrottledCount'``).
    period_s : int
        Period of the datapoints (a multiple of 60, or 1, 5, 10, 30 for high resolution).
    fill_gaps : {'error', 'zero'}
        A period without a datapoint (CloudWatch omits periods without requests) is an
        error, or counts as 0.
    namespace : str
        ``AWS/LookoutVision``; for Rekognition Custom Labels use ``AWS/Rekognition`` and
        ``dimensions``.
    dimensions : dict, optional
        Replaces the default ``ProjectName`` / ``ModelVersion`` dimensions.
    region : str, optional
        AWS region of the client that is made when ``client`` is not given.
    client : botocore client, optional
        A CloudWatch client (``boto3.client('cloudwatch')``).
    arrivals : Arrivals, optional
        How requests fall inside a period.

    Returns
    -------
    CountTrace
    """
    t0, t1 = utc(start), utc(end)
    if not t1 > t0:
        raise InputError(f"end {t1} is not after start {t0}; give a later end")
    names = metric_terms(metric) or ("ProcessedImageCount",)
    dims = dimensions or {"ProjectName": project, "ModelVersion": version}
    if client is None:
        client = cloudwatch_client(region)
    request: dict[str, Any] = {
        "MetricDataQueries": _metric_queries(names, namespace, dims, period_s),
        "StartTime": t0.to_pydatetime(),
        "EndTime": t1.to_pydatetime(),
        "ScanBy": "TimestampAscending",
    }
    series = get_metric_data(client, request)
    for name in names:
        series.setdefault(name, MetricSeries(name, ids=set(), labels={name}))
    label = f"CloudWatch {namespace} {'/'.join(dims.values())}"
    return _trace_from_series(
        series,
        label,
        "+".join(names),
        float(period_s),
        fill_gaps,
        "error",
        1.0,
        arrivals,
        window_s=(t0.timestamp(), t1.timestamp()),
        namespace=namespace,
    )


def _metric_queries(
    names: tuple[str, ...], namespace: str, dims: dict[str, str], period_s: float
) -> list[dict[str, Any]]:
    """One GetMetricData query per metric: its Sum over each period."""
    return [
        {
            "Id": f"m{k}",
            "Label": name,
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": k_, "Value": v} for k_, v in dims.items()],
                },
                "Period": int(period_s),
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        for k, name in enumerate(names)
    ]


def metric_terms(metric: str) -> tuple[str, ...]:
    """The series a ``metric`` adds up, short names expanded; ``()`` for ``'auto'``."""
    if metric.strip().lower() == "auto":
        return ()
    terms: list[str] = []
    for part in metric.split("+"):
        name = part.strip()
        if not name:
            raise InputError(
                f"metric {metric!r} has an empty term; write names joined by '+', such as "
                "'successful+throttled'"
            )
        terms.extend(METRIC_ALIASES.get(name.lower(), (name,)))
    if len(set(terms)) < len(terms):
        raise InputError(f"metric {metric!r} names a series twice; name each once")
    return tuple(terms)


def cloudwatch_export_pages(
    trace: CountTrace,
    metric: str = "ProcessedImageCount",
    *,
    pages: int = 1,
    omit_zeros: bool = False,
    shape: str = "get-metric-data",
) -> list[dict[str, Any]]:
    """A counts trace as the AWS CLI would print its export: one dict per page.

    ``get-metric-data`` pages list timestamps newest first; every page but the last has a
    ``NextToken`` and the status ``PartialData``. ``omit_zeros`` leaves out periods without
    requests, as CloudWatch does.
    """
    if np.ndim(trace.scale) != 0 or trace.scale != 1.0:
        raise InputError("write a counts trace without scale; use to_counts() first")
    stamps = trace.start + pd.to_timedelta(np.arange(len(trace.counts)) * trace.bin_s, unit="s")
    keep = trace.counts > 0 if omit_zeros else np.ones(len(trace.counts), bool)
    times = [t.isoformat() for t in stamps[keep]]
    values = [float(v) for v in trace.counts[keep]]
    if shape == "get-metric-statistics":
        return [
            {
                "Label": metric,
                "Datapoints": [
                    {"Timestamp": t, "Sum": v, "Unit": "Count"}
                    for t, v in zip(times, values, strict=True)
                ],
            }
        ]
    if shape != "get-metric-data":
        raise InputError(f"unknown export shape {shape!r}; use get-metric-data")
    times, values = times[::-1], values[::-1]
    size = max(1, -(-len(times) // max(1, pages)))
    out: list[dict[str, Any]] = []
    for k in range(0, max(len(times), 1), size):
        last = k + size >= len(times)
        page: dict[str, Any] = {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": metric,
                    "Timestamps": times[k : k + size],
                    "Values": values[k : k + size],
                    "StatusCode": "Complete" if last else "PartialData",
                }
            ],
        }
        if not last:
            page["NextToken"] = f"page-{len(out) + 2}-of-{pages}"
        page["Messages"] = []
        out.append(page)
    return out


# --- parsing ------------------------------------------------------------------------------


def _pick(series: dict[str, MetricSeries], name: str) -> MetricSeries | None:
    found = [s for s in series.values() if s.matches(name)]
    if len(found) > 1:
        raise InputError(
            f"several series match {name!r} ({', '.join(s.key for s in found)}); name one by "
            "its Id with metric"
        )
    return found[0] if found else None


def _trace_from_series(
    series: dict[str, MetricSeries],
    label: str,
    metric: str,
    period_s: float | None,
    fill_gaps: FillGaps,
    duplicates: Duplicates,
    scale: float,
    arrivals: Arrivals | None,
    window_s: tuple[float, float] | None,
    namespace: str | None = None,
    detected: str | None = None,
) -> CountTrace:
    remarks: list[str] = []
    chosen, what = _choose_series(series, label, metric, fill_gaps, remarks)
    remarks.extend(_load_notes(chosen, what, namespace, detected))
    _check_datapoints(chosen, label, fill_gaps, remarks)
    grids = []
    for s in chosen:
        if not s.times:
            continue
        seconds = series_seconds(s)
        values = series_counts(s)
        grids.append(
            counts_from_points(
                seconds,
                values,
                label=label,
                where=s.where.__getitem__,
                fill_gaps=fill_gaps,
                duplicates=duplicates,
                period_s=period_s,
                any_order=True,
                window_s=window_s,
                what="datapoint",
            )
        )
        remarks.extend(g for g in grids[-1].remarks if g not in remarks)
    grid = grids[0]
    counts = grid.counts
    named = [s.key for s in chosen if s.times]
    if len(grids) > 1:
        counts, start_s = _add_grids(grids, named, label, fill_gaps, remarks)
    else:
        start_s = grid.start_s
    source = f"CloudWatch {what} from {label}"
    return CountTrace(
        epoch_timestamp(start_s),
        grid.bin_s,
        counts,
        scale=scale,
        source=source,
        arrivals=arrivals or PoissonArrivals(),
        remarks=tuple(remarks),
    )


def _choose_series(
    series: dict[str, MetricSeries],
    label: str,
    metric: str,
    fill_gaps: FillGaps,
    remarks: list[str],
) -> tuple[list[MetricSeries], str]:
    """The series to count (several for a sum) and the metric's name."""
    known = ", ".join(sorted(series)) or "none"
    terms = metric_terms(metric)
    if not terms:
        if _pick(series, "ProcessedImageCount") is not None:
            terms = ("ProcessedImageCount",)
        elif _pick(series, _OFFERED[0]) is not None:
            terms = _OFFERED
        elif len(series) == 1:
            only = next(iter(series.values()))
            terms = (only.key,)
            remarks.append(f"{label}: read the only series, {only.key!r}, as request counts")
        else:
            raise InputError(
                f"{label}: no ProcessedImageCount or SuccessfulRequestCount series (found "
                f"{known}); choose one with metric"
            )
    if len(terms) > 1:
        return _summed(series, terms, label, fill_gaps), " + ".join(terms)
    s = _pick(series, terms[0])
    if s is None:
        raise InputError(f"{label}: no series {terms[0]!r} (found {known}); check metric")
    return [s], terms[0]


def _check_datapoints(
    chosen: list[MetricSeries], label: str, fill_gaps: FillGaps, remarks: list[str]
) -> None:
    """A chosen series without datapoints is an error (a later term of a sum may count as 0)."""
    for s in chosen:
        if s.times:
            continue
        if len(chosen) > 1 and s.key != chosen[0].key and fill_gaps == "zero":
            remarks.append(
                f"{label}: {s.key} has no datapoints; counted as 0 throughout (fill_gaps = 'zero')"
            )
            continue
        raise InputError(
            f"{label}: the metric {s.key} has no datapoints; check the export's time range, "
            "dimensions and period"
            + (
                ", or pass --fill-gaps zero (fill_gaps = 'zero' in [traffic]) to count it as 0"
                if s is not chosen[0]
                else ""
            )
        )


def _summed(
    series: dict[str, MetricSeries], terms: Sequence[str], label: str, fill_gaps: FillGaps
) -> list[MetricSeries]:
    found = ", ".join(sorted(series)) or "none"
    first = _pick(series, terms[0])
    if first is None:
        raise InputError(
            f"{label}: offered load needs {terms[0]} (found {found}); add it to the export"
        )
    chosen = [first]
    for name in terms[1:]:
        s = _pick(series, name)
        if s is None:
            if fill_gaps != "zero":
                raise InputError(
                    f"{label}: offered load needs {name} too and the export has none; add "
                    "it, or pass --fill-gaps zero (fill_gaps = 'zero' in [traffic]) to count "
                    "it as 0"
                )
            s = MetricSeries(name)
        chosen.append(s)
    return chosen


def _load_notes(
    chosen: list[MetricSeries], what: str, namespace: str | None, detected: str | None = None
) -> list[str]:
    """Say which metrics the offered load is built from, and what ThrottledCount counts in
    ``namespace`` (``detected``: how the export told it; unknown: both services' notes)."""
    notes = [f"offered load = {what} (Sum per period); another sum: --metric (metric in [traffic])"]
    if any(s.key == "ThrottledCount" or s.matches("ThrottledCount") for s in chosen):
        spaces = [namespace] if namespace in _THROTTLED_NOTE else list(_THROTTLED_NOTE)
        notes.extend(_THROTTLED_NOTE[ns] for ns in spaces)
        if detected is not None and namespace is not None:
            notes.append(f"namespace {namespace}, as {detected} show; --namespace overrides")
    return notes


def _add_grids(grids, names: list[str], label: str, fill_gaps: FillGaps, remarks: list[str]):
    a = grids[0]
    for name, g in zip(names[1:], grids[1:], strict=True):
        if abs(a.bin_s - g.bin_s) > 1e-9:
            raise InputError(
                f"{label}: {names[0]} has a {a.bin_s:g} s period but {name} "
                f"{g.bin_s:g} s; export both with the same period"
            )
    lo = min(g.start_s for g in grids)
    hi = max(g.start_s + len(g.counts) * g.bin_s for g in grids)
    n = round((hi - lo) / a.bin_s)
    total = np.zeros(n, np.int64)
    have = np.zeros((len(grids), n), bool)
    for k, g in enumerate(grids):
        off = (g.start_s - lo) / a.bin_s
        if abs(off - round(off)) > 1e-6:
            raise InputError(f"{label}: the metrics' timestamps are not on one grid")
        j = round(off)
        total[j : j + len(g.counts)] += g.counts
        have[k, j : j + len(g.counts)] = True
    lacking = ~have.all(axis=0)
    if lacking.any():
        i = int(np.argmax(lacking))
        who = names[int(np.argmin(have[:, i]))]
        if fill_gaps != "zero":
            raise InputError(
                f"{label}: {who} has no datapoint at {fmt_time(lo + i * a.bin_s)} where another "
                "metric has one (CloudWatch omits periods without requests); pass "
                "--fill-gaps zero (fill_gaps = 'zero' in [traffic]) to count it as 0"
            )
        remarks.append(
            f"{label}: {int(lacking.sum())} periods without a datapoint of one of "
            f"{', '.join(names)}; counted as 0 there (fill_gaps = 'zero')"
        )
    return total, lo
