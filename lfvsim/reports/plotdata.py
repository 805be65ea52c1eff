"""The data each figure shows, prepared apart from the drawing.

Every function here takes and returns plain pandas and numpy objects and never imports
matplotlib, so what a figure shows can be checked without drawing it:
:func:`timeline_bins` (the timeline's lines and throttles by cause), :func:`busy_marks`
(its worst hour and worst minutes), :func:`daily_cost_bins` (the cost bars),
:func:`sweep_summary` and :func:`pareto` (the frontier's points and line),
:func:`label_items` (the frontier's labels) and :func:`heatmap_cells` (the heatmap's
grid). :mod:`lfvsim.reports.plots` draws them.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lfvsim.engine.busy import hourly_throttle_rates, worst_minutes
from lfvsim.errors import InputError
from lfvsim.experiments import Recommendation, aggregate, recommend
from lfvsim.reports.formatting import CAUSE_LABELS, NO_AUTOSCALING, percent

__all__ = [
    "HEATMAP_METRICS",
    "TIMELINE_COLUMNS",
    "BusyMarks",
    "bin_minutes",
    "busy_marks",
    "config_text",
    "daily_cost_bins",
    "heatmap_cells",
    "label_items",
    "pareto",
    "sweep_summary",
    "throttle_axis",
    "timeline_bins",
]

TIMELINE_COLUMNS = (
    "offered_requests",
    "ThrottledCount",
    "InServiceInferenceUnits",
    "DesiredInferenceUnits",
    "MinInferenceUnits",
)
"""Timeline columns :func:`timeline_bins` needs."""

HEATMAP_METRICS: dict[str, str] = {
    "monthly_cost_usd": "monthly cost (USD, 730 h)",
    "throttle_rate": "throttle rate (% of requests)",
    "throttle_rate_upper": "throttle rate, upper confidence bound (%)",
    "latency_p99_s": "p99 latency (s)",
    "mean_units": "mean units in service",
}
"""Metrics a heatmap can show, with their colour-bar labels."""

_BINS_MIN = (1, 5, 15, 60, 180, 1440)
_MAX_POINTS = 1500


# --- runs ------------------------------------------------------------------------------------


def timeline_bins(timeline: pd.DataFrame, step: int) -> pd.DataFrame:
    """The timeline's plotted lines, one row per bin of ``step`` minutes.

    Returns
    -------
    pandas.DataFrame
        Indexed by the bin's start (naive UTC): ``offered`` and ``throttled`` (requests per
        second, means over the bin), ``throttled_count`` (requests, summed), ``in_service``
        and ``desired`` (units, means) and ``hosted`` (share of the bin the model was
        hosted); and, when the timeline has them, the throttles by cause of
        :data:`~lfvsim.reports.formatting.CAUSE_LABELS` (requests per second, means), which
        add up to ``throttled``.
    """
    per_min = pd.DataFrame(
        {
            "offered": numeric_values(timeline, "offered_requests") / 60.0,
            "throttled": numeric_values(timeline, "ThrottledCount") / 60.0,
            "throttled_count": numeric_values(timeline, "ThrottledCount"),
            "in_service": numeric_values(timeline, "InServiceInferenceUnits"),
            "desired": numeric_values(timeline, "DesiredInferenceUnits"),
            "hosted": numeric_values(timeline, "hosted") if "hosted" in timeline else 1.0,
        },
        index=naive_utc(timeline.index),
    )
    if all(c in timeline for c in CAUSE_LABELS):  # runs written before causes lack them
        for column in CAUSE_LABELS:
            per_min[column] = numeric_values(timeline, column) / 60.0
    if step > 1:
        binned = per_min.resample(f"{step}min", origin="start").mean()
        binned["throttled_count"] = (
            per_min["throttled_count"].resample(f"{step}min", origin="start").sum()
        )
        per_min = binned
    return per_min


class BusyMarks(NamedTuple):
    """Where a run throttled most: its worst clock hour and its worst minutes.

    ``hour_start`` is None when no minute had attempts; ``hour_rate`` is the hour's
    throttled share of attempts (``hour_throttled`` of ``hour_attempts``); ``minutes`` is
    :func:`lfvsim.engine.busy.worst_minutes` with a naive UTC index, the worst first, and
    only minutes that throttled anything.
    """

    hour_start: pd.Timestamp | None
    hour_rate: float
    hour_attempts: int
    hour_throttled: int
    minutes: pd.DataFrame


def busy_marks(timeline: pd.DataFrame, count: int = 5) -> BusyMarks:
    """The worst clock hour (as the summary's ``throttle_rate_worst_hour`` counts it) and
    the ``count`` minutes with the highest throttled share."""
    index = naive_utc(timeline.index)
    offered = numeric_values(timeline, "offered_requests")
    throttled = numeric_values(timeline, "ThrottledCount")
    offered = np.nan_to_num(offered).astype(np.int64)
    throttled = np.nan_to_num(throttled).astype(np.int64)
    frame = pd.DataFrame({"offered_requests": offered, "ThrottledCount": throttled}, index=index)
    top = worst_minutes(frame, count)
    top = top[top["throttled"] > 0]
    if not len(index):
        return BusyMarks(None, 0.0, 0, 0, top)
    hours = hourly_throttle_rates(offered, throttled, pd.Timestamp(index[0]))
    if not len(hours):
        return BusyMarks(None, 0.0, 0, 0, top)
    # The first of equal hours, as the maximum the summary reports.
    worst = hours["throttle_rate"].idxmax()
    row = hours.loc[worst]
    return BusyMarks(
        pd.Timestamp(worst),
        float(row["throttle_rate"]),
        int(row["attempts"]),
        int(row["throttled"]),
        top,
    )


def daily_cost_bins(
    timeline: pd.DataFrame, price_per_unit_hour_usd: float, freq: str
) -> pd.DataFrame:
    """Cost per day (``freq="D"``) or hour (``"h"``), split at MinInferenceUnits.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``base`` (USD for the units up to Min), ``extra`` (USD for the
        units auto-scaling added above Min) and ``minutes`` (minutes of the period the run
        covers; fewer than the period's length is a partial period).
    """
    price = price_per_unit_hour_usd
    billed = numeric_values(timeline, "billed_units")
    base = np.minimum(billed, numeric_values(timeline, "MinInferenceUnits"))
    frame = pd.DataFrame(
        {"base": base / 60.0 * price, "extra": (billed - base) / 60.0 * price, "minutes": 1},
        index=naive_utc(timeline.index),
    )
    return frame.resample(freq).sum()


def run_parts(run: Any) -> tuple[pd.DataFrame, Any]:
    """A run's timeline and scenario; a bare timeline has no scenario (None)."""
    if isinstance(run, pd.DataFrame):
        return run, None
    timeline = getattr(run, "timeline", None)
    if not isinstance(timeline, pd.DataFrame):
        raise TypeError(f"expected a Result (or its timeline DataFrame), got {type(run).__name__}")
    return timeline, getattr(run, "scenario", None)


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Raise :class:`InputError` naming the columns ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} has no column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; give the output of lfvsim"
        )


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats, NaN where it is not a number."""
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def naive_utc(index: pd.Index) -> pd.DatetimeIndex:
    """Timestamps in UTC without a time zone (what matplotlib's date axis reads)."""
    index = pd.DatetimeIndex(index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index


def bin_minutes(rows: int) -> int:
    """Minutes per plotted point: 1 up to a day, then the smallest bin that keeps 1,500."""
    if rows <= 1440:
        return 1
    for step in _BINS_MIN:
        if rows / step <= _MAX_POINTS:
            return step
    return _BINS_MIN[-1]


def bin_text(step: int) -> str:
    """``5-minute``, ``1-hour`` or ``1-day``."""
    if step % 1440 == 0:
        return f"{step // 1440}-day"
    if step % 60 == 0:
        return f"{step // 60}-hour"
    return f"{step}-minute"


def unit_limits(timeline: pd.DataFrame) -> list[tuple[str, int]]:
    """``[("Min", 1), ("Max", 4)]``: the limits the timeline ran with (Max when it differs)."""
    out = []
    lo = timeline["MinInferenceUnits"].dropna()
    if len(lo):
        out.append(("Min", int(lo.iloc[0])))
    if "MaxInferenceUnits" in timeline:
        hi = pd.to_numeric(timeline["MaxInferenceUnits"], errors="coerce").dropna()
        if len(hi) and not (out and int(hi.iloc[0]) == out[0][1]):
            out.append(("Max", int(hi.iloc[0])))
    return out


def model_name(scenario: Any) -> str:
    """``project vVERSION``."""
    model = scenario.model
    return f"{model.project} v{model.version}"


# --- sweeps ----------------------------------------------------------------------------------


def label_items(
    real: pd.DataFrame, oracle: pd.DataFrame, choice: Any
) -> list[tuple[float, float, str]]:
    """The frontier's labels, ``(throttle rate, monthly cost, text)``, cheapest first.

    Configurations with the same figures share one label; the recommended configuration
    has its own annotation, so it gets no label when it stands alone.
    """
    groups: dict[tuple[float, float], list[tuple[int, int | None]]] = {}
    for _, row in real.iterrows():
        key = (round(float(row["throttle_rate"]), 9), round(float(row["monthly_cost_usd"]), 4))
        hi = None if pd.isna(row["max_units"]) else int(row["max_units"])
        groups.setdefault(key, []).append((int(row["min_units"]), hi))
    items = [(rate, cost, config_text(configs)) for (rate, cost), configs in groups.items()]
    if choice is not None:
        alone = (choice.min_units, choice.max_units)
        items = [
            (r, c, t)
            for (r, c, t), configs in zip(items, groups.values(), strict=True)
            if configs != [alone]
        ]
    items += [
        (
            float(row["throttle_rate"]),
            float(row["monthly_cost_usd"]),
            f"oracle, Min {int(row['min_units'])}",
        )
        for _, row in oracle.iterrows()
    ]
    return sorted(items, key=lambda item: item[1])


def throttle_axis(agg: pd.DataFrame, max_throttle_rate: float | None) -> tuple[float, float]:
    """The frontier's throttle axis in percent: where it turns logarithmic, and its data end.

    The linear part reaches up to the power of ten below the smallest non-zero throttle
    rate (or SLO), so zero and tiny rates both show.
    """
    rates = agg["throttle_rate"].to_numpy(dtype=float)
    positive = [float(v) for v in rates if v > 0]
    if max_throttle_rate:
        positive.append(max_throttle_rate)
    linthresh = 10 ** math.floor(math.log10(100 * min(positive))) if positive else 0.01
    right = 100 * max(positive) if positive else 1.0
    return linthresh, right


def heatmap_cells(
    real: pd.DataFrame, metric: str
) -> tuple[pd.DataFrame, list[int], list[float], np.ndarray]:
    """A heatmap's cells: the worst case over varied values of each (Min, Max).

    Returns
    -------
    cells : pandas.DataFrame
        Indexed by (Min, Max) with Max infinite for no auto-scaling.
    mins, maxs : list
        The rows and the columns, sorted.
    grid : numpy.ndarray
        ``metric`` by row and column, NaN where no configuration ran.
    """
    cols = [
        metric,
        "monthly_cost_low_usd",
        "monthly_cost_high_usd",
        "throttle_rate_upper",
    ]
    cols = list(dict.fromkeys(c for c in cols if c in real.columns))
    cells = (
        real.assign(_max=real["max_units"].astype("float").fillna(np.inf))
        .groupby(["min_units", "_max"], sort=True)[cols]
        .max()
    )
    mins = sorted({int(m) for m in cells.index.get_level_values(0)})
    maxs = sorted(set(cells.index.get_level_values(1)))
    grid = np.full((len(mins), len(maxs)), np.nan)
    for (lo, hi), row in cells.iterrows():
        grid[mins.index(int(lo)), maxs.index(hi)] = row[metric]
    return cells, mins, maxs, grid


def max_label(value: float) -> str:
    """A heatmap column: the Max, or ``no auto-scaling`` (infinite: no Max)."""
    return NO_AUTOSCALING if not np.isfinite(value) else str(int(value))


def vary_keys(table: pd.DataFrame) -> list[str]:
    """The varied scenario keys of a sweep table (dotted column names)."""
    return [c for c in table.columns if "." in str(c)]


def sweep_recommendation(
    sweep: pd.DataFrame,
    recommendation: Recommendation | None,
    max_throttle_rate: float | None,
    confidence: float,
) -> Recommendation | None:
    if recommendation is not None or max_throttle_rate is None:
        return recommendation
    if "replication" not in sweep.columns or sweep["seed"].nunique() < 2:
        return None  # an aggregate, or too few replications for a bound
    return recommend(sweep, max_throttle_rate, confidence=confidence)


def pareto(rows: pd.DataFrame) -> pd.DataFrame:
    """Configurations that no cheaper (or equally cheap) one beats on throttling."""
    ordered = rows.sort_values(["monthly_cost_usd", "throttle_rate"])
    keep, best = [], math.inf
    for i, rate in zip(ordered.index, ordered["throttle_rate"], strict=True):
        if rate < best:
            keep.append(i)
            best = rate
    return ordered.loc[keep]


def config_text(configs: list[tuple[int, int | None]]) -> str:
    """``1/2-4,no auto-scaling 2/3``: Min/Max with runs of Max collapsed."""
    by_min: dict[int, list[int | None]] = {}
    for lo, hi in configs:
        by_min.setdefault(lo, []).append(hi)
    parts = []
    for lo in sorted(by_min):
        his = sorted(h for h in by_min[lo] if h is not None)
        runs: list[str] = []
        start = prev = None
        for h in [*his, None]:
            if h is not None and prev is not None and h == prev + 1:
                prev = h
                continue
            if start is not None:
                runs.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = h
        if None in by_min[lo]:
            runs.append(NO_AUTOSCALING)
        parts.append(f"{lo}/{','.join(runs)}")
    return " ".join(parts)


def cell_text(metric: str, row: pd.Series) -> str:
    """The text of a heatmap cell: the value and, below it, its spread."""
    value = float(row[metric])
    if metric == "monthly_cost_usd":
        half = (float(row["monthly_cost_high_usd"]) - float(row["monthly_cost_low_usd"])) / 2
        text = f"{value:,.0f}"
        if math.isfinite(half) and half >= 0.5:
            text += f"\n±{half:,.0f}"
        return text
    if metric == "throttle_rate":
        return _rate_and_bound_text(value, float(row["throttle_rate_upper"]))
    if metric == "throttle_rate_upper":
        return _rate_text(value)
    if metric == "latency_p99_s":
        return f"{value:.3g} s"
    return f"{value:.3g}"


def _rate_text(rate: float, digits: int = 2) -> str:
    # An infinite bound (one replication) reads "inf%", as it always has in these cells.
    return percent(rate, digits) if math.isfinite(rate) else f"{100 * rate:.2g}%"


def _rate_and_bound_text(rate: float, bound: float) -> str:
    """A throttle rate and, below it, its upper bound, with the digits that tell them apart.

    Two significant digits keep a cell short, but can round a bound above the mean to the
    mean's text ("1.7% / ≤1.7%"), which reads as no uncertainty at all; up to four digits
    are used until the two differ.
    """
    for digits in (2, 3, 4):
        rate_text, bound_text = _rate_text(rate, digits), _rate_text(bound, digits)
        if rate_text != bound_text or not bound > rate:
            break
    return f"{rate_text}\n≤{bound_text}"


def sweep_summary(sweep: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per configuration: a sweep's :func:`lfvsim.experiments.aggregate`.

    Parameters
    ----------
    sweep : pandas.DataFrame
        A sweep table (one row per configuration x replication), or its aggregate (with a
        ``replications`` column), which is returned as is.
    confidence : float
        Level of the intervals and bounds.

    Returns
    -------
    pandas.DataFrame
    """
    if "replications" in sweep.columns and "replication" not in sweep.columns:
        return sweep
    require_columns(
        sweep,
        ("min_units", "max_units", "oracle_bound", "monthly_cost_usd", "throttle_rate"),
        "sweep table",
    )
    return aggregate(sweep, confidence)
