"""A per-minute timeline as CloudWatch would show it: a ``get-metric-data`` export.

The pages have the shape ``aws cloudwatch get-metric-data`` prints (``MetricDataResults``
newest first, ``NextToken`` on every page but the last, ``Messages``), plus the
``MetricDataQueries`` that would fetch the same metrics from CloudWatch: namespace,
dimensions, period and statistic of each series (a key the CLI's output does not have;
:func:`lfvsim.traces.metric_history.read_metric_history` reads each series' statistic from
it).

What the file cannot say: CloudWatch writes no datapoint for a minute without requests,
while this export writes 0; and the latency here is the engine's per-minute p50 and p99
(estimated from histograms), under the ``p50`` and ``p99`` statistics, not the ``Average``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.metric_history import (
    COUNT_METRICS,
    NAMESPACES,
    UNIT_METRICS,
    dimensions_for,
    latency_metric,
)

__all__ = ["metric_data_export"]


def metric_data_export(
    timeline: pd.DataFrame,
    *,
    service: str,
    project: str,
    version: str,
    pages: int = 1,
) -> list[dict[str, Any]]:
    """The timeline's CloudWatch metrics as ``get-metric-data`` pages.

    Parameters
    ----------
    timeline : pandas.DataFrame
        One row per minute, UTC index, with columns named like CloudWatch's metrics, a
        ``hosted`` fraction and ``latency_p50_s`` / ``latency_p99_s`` (as
        :attr:`lfvsim.engine.result.Result.timeline` has them).
    service : {'lookoutvision', 'rekognition'}
        Chooses the namespace, the version's dimension name and the latency metric.
    project, version : str
        The model's dimensions.
    pages : int
        Split the datapoints over this many pages.

    Returns
    -------
    list of dict
        One JSON-ready dict per page. Minutes the model was not hosted at all have no
        datapoint, as in CloudWatch; a metric without any (MaxInferenceUnits when
        auto-scaling is off) has no series.
    """
    if service not in NAMESPACES:
        raise InputError(f"unknown service {service!r}; use lookoutvision or rekognition")
    if pages < 1:
        raise InputError(f"pages must be at least 1, not {pages}")
    namespace = NAMESPACES[service]
    dims = [{"Name": k, "Value": v} for k, v in dimensions_for(service, project, version).items()]
    hosted = timeline["hosted"].to_numpy(float) > 0 if "hosted" in timeline else None
    stamps = np.array([t.isoformat() for t in timeline.index])
    latency = latency_metric(service)
    wanted = [(n, n, "Sum", 1.0) for n in COUNT_METRICS]
    wanted += [(n, n, "Average", 1.0) for n in UNIT_METRICS]
    wanted += [
        (f"latency_{q}_s", f"{latency} {q}", q, 1000.0) for q in ("p50", "p99")
    ]  # seconds -> ms
    queries: list[dict[str, Any]] = []
    results: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    for column, label, stat, factor in wanted:
        if column not in timeline:
            continue
        values = pd.to_numeric(timeline[column], errors="coerce").to_numpy(float) * factor
        keep = np.isfinite(values) & (hosted if hosted is not None else True)
        if not keep.any():
            continue
        name = label.split()[0]
        rid = f"m{len(queries)}"
        queries.append(
            {
                "Id": rid,
                "Label": label,
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                    "Period": 60,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )
        # Newest first, as get-metric-data prints them by default.
        results.append((rid, label, stamps[keep][::-1], values[keep][::-1]))
    return _pages(queries, results, pages)


def _pages(
    queries: list[dict[str, Any]],
    results: list[tuple[str, str, np.ndarray, np.ndarray]],
    pages: int,
) -> list[dict[str, Any]]:
    longest = max((len(r[2]) for r in results), default=0)
    size = max(1, -(-longest // pages))
    out: list[dict[str, Any]] = []
    for k in range(0, max(longest, 1), size):
        last = k + size >= longest
        page: dict[str, Any] = {
            "MetricDataResults": [
                {
                    "Id": rid,
                    "Label": label,
                    "Timestamps": [str(t) for t in times[k : k + size]],
                    "Values": [_plain(v) for v in values[k : k + size]],
                    "StatusCode": "Complete" if last else "PartialData",
                }
                for rid, label, times, values in results
            ],
            "Messages": [],
            "MetricDataQueries": queries,
        }
        if not last:
            page["NextToken"] = f"page-{len(out) + 2}"
        out.append(page)
    return out


def _plain(value: float) -> float | int:
    """Whole values as integers (counts, unit bounds), the rest rounded to 6 decimals."""
    return int(value) if float(value).is_integer() else round(float(value), 6)
