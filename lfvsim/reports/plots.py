"""Pictures of runs and sweeps (matplotlib).

Every function takes the data and ``ax=None`` and returns the Axes it drew on. Pass an
Axes to place the picture in a figure of your own; without one, a new figure is made with
pyplot, so the picture shows in a notebook.

- :func:`plot_timeline`: offered load against serving capacity, minute by minute, with the
  in-service and desired units stepping; below, throttled requests per minute by cause,
  the worst hour and the worst minutes.
- :func:`plot_daily_cost`: cost per day (per hour for runs shorter than two days), split
  into the MinInferenceUnits that always run and the units auto-scaling added.
- :func:`plot_frontier`: monthly cost against throttle rate over a sweep, with confidence
  bars, the SLO and the recommended configuration.
- :func:`plot_heatmap` (and :func:`plot_cost_heatmap`, :func:`plot_throttle_heatmap`): a
  figure of a sweep over (MinInferenceUnits, MaxInferenceUnits).

Runs are :class:`lfvsim.Result` objects, from :func:`lfvsim.simulate` or read back from an
``lfvsim run --out`` folder with :func:`lfvsim.reports.read_run`. Sweeps are the tidy tables
of :func:`lfvsim.experiments.sweep` (one row per configuration x replication) or their
:func:`lfvsim.experiments.aggregate`.

>>> from lfvsim.reports.plots import plot_timeline
>>> ax = plot_timeline(lfvsim.simulate(scenario, seed=1))
>>> ax.figure.savefig("timeline.png")
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colors, ticker
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from lfvsim.errors import InputError
from lfvsim.experiments import Recommendation
from lfvsim.reports.formatting import (
    CAUSE_LABELS,
    NO_AUTOSCALING,
    amount,
    percent,
    percent_tick,
    plural,
    value_text,
)
from lfvsim.reports.labels import place_labels
from lfvsim.reports.plotdata import (
    HEATMAP_METRICS,
    TIMELINE_COLUMNS,
    BusyMarks,
    bin_minutes,
    bin_text,
    busy_marks,
    cell_text,
    daily_cost_bins,
    heatmap_cells,
    label_items,
    max_label,
    model_name,
    pareto,
    require_columns,
    run_parts,
    sweep_recommendation,
    sweep_summary,
    throttle_axis,
    timeline_bins,
    unit_limits,
    vary_keys,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from lfvsim.traces.stats import TraceStats

__all__ = [
    "HEATMAP_METRICS",
    "plot_cost_heatmap",
    "plot_daily_cost",
    "plot_frontier",
    "plot_heatmap",
    "plot_throttle_heatmap",
    "plot_timeline",
    "plot_trace_stats",
    "sweep_summary",
]

_THROTTLE = "#d62728"
_CAPACITY = "#2ca02c"
_OFFERED = "#1f77b4"
_DESIRED = "#ff7f0e"
# Throttles by cause, stacked: reds, browns and a purple, apart from the lines' colours.
_CAUSE_COLORS = {
    "throttled_scaling": "#f4a582",
    "throttled_at_max": "#d62728",
    "throttled_burst": "#8c2d04",
    "throttled_capacity_lost": "#6a3d9a",
}
_WORST = "#67001f"


# --- runs ------------------------------------------------------------------------------------


def plot_timeline(
    run: Any,
    ax: Axes | None = None,
    *,
    throttle_ax: Axes | None = None,
    tps_per_unit: float | None = None,
    resample_min: int | None = None,
    title: str | None = None,
) -> Axes:
    """Offered load against serving capacity, with units stepping and throttling marked.

    The left axis is requests per second. Serving capacity is ``InServiceInferenceUnits``
    x the nominal throughput of one unit (``slots / latency_mean_s``, an assumption: AWS
    does not publish it); the right axis reads the same lines in inference units, so the
    capacity line is also the in-service units, and the dashed line the desired units. Red
    ticks along the top mark every minute (or bin) with any throttling, however little.

    Throttling has a panel of its own below (``throttle_ax``): throttled requests per
    minute, stacked by cause when the timeline has the cause columns, the worst clock
    hour shaded and labelled with its throttle rate, and triangles over the five worst
    minutes (at their own minute, whatever the bins). Without that panel the same marks go
    on ``ax``, in requests per second.

    Parameters
    ----------
    run : Result or pandas.DataFrame
        A run (:func:`lfvsim.simulate`, :func:`lfvsim.reports.read_run`), or its
        ``timeline`` alone (then give ``tps_per_unit``).
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure of two panels (load above, throttling below).
    throttle_ax : matplotlib Axes, optional
        Where to draw the throttling panel when ``ax`` is given (best below it, sharing its
        x axis); default: throttling is drawn on ``ax``.
    tps_per_unit : float, optional
        Nominal requests per second of one unit; default: the run's scenario's.
    resample_min : int, optional
        Minutes per plotted point (means over each bin); default: 1 for up to a day, then
        the smallest of 5, 15, 60, 180 or 1440 that keeps at most 1,500 points.
    title : str, optional
        Default: the model and its Min / Max.

    Returns
    -------
    matplotlib.axes.Axes
        The load panel (``ax``); the legend is under the lowest panel.
    """
    timeline, scenario = run_parts(run)
    require_columns(timeline, TIMELINE_COLUMNS, "timeline")
    if tps_per_unit is None:
        if scenario is None:
            raise InputError(
                "a bare timeline needs tps_per_unit (slots / latency_mean_s); give it, or "
                "pass the whole run"
            )
        tps_per_unit = scenario.unit.nominal_tps
    if not tps_per_unit > 0:
        raise InputError(f"tps_per_unit {tps_per_unit}: give a positive number")
    if timeline.empty:
        raise InputError("the timeline has no rows; nothing to plot")
    if ax is None:
        ax, throttle_ax = timeline_axes()
    step = resample_min or bin_minutes(len(timeline))
    bins = timeline_bins(timeline, step)
    x = _edges(bins.index, step)
    lowest = throttle_ax if throttle_ax is not None else ax
    _shade_unhosted(ax, x, bins, timeline)
    _throttle_ticks(ax, x, bins, step)
    marks = busy_marks(timeline)
    if throttle_ax is not None:
        _shade_unhosted(throttle_ax, x, bins, timeline, label=False)
        _throttle_panel(throttle_ax, x, bins, timeline, marks)
        _worst_hour_band(ax, marks)
    else:
        _stack_throttled(ax, x, bins, timeline, 1.0)
        _mark_busy(ax, marks)
    top = _capacity_lines(ax, x, bins, tps_per_unit)
    limits = unit_limits(timeline)
    top = _limit_lines(ax, limits, tps_per_unit, top)
    ax.set_ylim(0, top * 1.12)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylabel("requests per second (TPS)")
    lowest.set_xlabel(_time_label(bins.index, "time (UTC)"))
    _date_axis(lowest)
    if throttle_ax is not None:
        throttle_ax.set_xlim(x[0], x[-1])
        _date_axis(ax)
    tps = float(tps_per_unit)
    units_axis = ax.secondary_yaxis(
        "right", functions=(lambda y: np.divide(y, tps), lambda u: np.multiply(u, tps))
    )
    units_axis.set_ylabel("inference units")
    units_axis.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    if title is None:
        title = "Offered load vs serving capacity"
        if scenario is not None:
            title += f": {model_name(scenario)}"
        if limits:
            title += ", " + ", ".join(f"{n} {u}" for n, u in limits)
    if step > 1:
        title += f" ({bin_text(step)} means)"
    ax.set_title(title, fontsize="medium")
    ax.grid(axis="y", color="0.92", lw=0.6)
    _timeline_legend(ax, lowest)
    return ax


def timeline_axes(figure: Any = None) -> tuple[Axes, Axes]:
    """The timeline's two panels, load above and throttling below, sharing the time axis.

    On ``figure`` (a matplotlib Figure) when given, else on a new pyplot figure.
    """
    kwargs: dict[str, Any] = {"sharex": True, "height_ratios": (3.0, 1.25)}
    if figure is None:
        import matplotlib.pyplot as plt

        _, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.6), layout="constrained", **kwargs)
    else:
        top, bottom = figure.subplots(2, 1, **kwargs)
    return top, bottom


def _shade_unhosted(
    ax: Axes, x: np.ndarray, bins: pd.DataFrame, timeline: pd.DataFrame, *, label: bool = True
) -> None:
    """Grey where the model was not hosted, counting the requests refused meanwhile."""
    hosted = bins["hosted"].to_numpy()
    if not (hosted < 0.5).any():
        return
    refused = (
        int(timeline["unavailable_requests"].sum()) if "unavailable_requests" in timeline else 0
    )
    text = "model not hosted" + (
        f" ({refused:,} requests refused as unavailable)" if refused else ""
    )
    ax.fill_between(
        x,
        0,
        1,
        where=np.append(hosted < 0.5, hosted[-1] < 0.5),
        step="post",
        transform=ax.get_xaxis_transform(),
        color="0.9",
        lw=0,
        label=text if label else None,
    )


def _throttle_ticks(ax: Axes, x: np.ndarray, bins: pd.DataFrame, step: int) -> None:
    """A red tick along the top for every bin with any throttling, however little."""
    hit = bins["throttled_count"].to_numpy() > 0
    if not hit.any():
        return
    centres = x[:-1][hit] + (x[1:][hit] - x[:-1][hit]) / 2
    ax.plot(
        centres,
        np.full(len(centres), 0.985),
        ls="none",
        marker="|",
        ms=6,
        alpha=0.7,
        color=_THROTTLE,
        transform=ax.get_xaxis_transform(),
        label=f"{'minute' if step == 1 else 'bin'} with throttling (top ticks)",
    )


def _stack_throttled(
    ax: Axes, x: np.ndarray, bins: pd.DataFrame, timeline: pd.DataFrame, scale: float
) -> float:
    """Throttled requests per second x ``scale``, stacked by cause when the timeline has the
    causes; each part labelled with its count and share. Returns the stack's highest value.
    """
    total = int(pd.to_numeric(timeline["ThrottledCount"], errors="coerce").sum())
    if not total:
        return 0.0
    offered = int(pd.to_numeric(timeline["offered_requests"], errors="coerce").sum())
    head = (
        f"throttled ({total:,} requests, {percent(total / offered if offered else 0.0)} of offered)"
    )
    if not all(c in bins for c in CAUSE_LABELS):
        values = _closed(np.nan_to_num(bins["throttled"].to_numpy(dtype=float)) * scale)
        ax.fill_between(x, 0, values, step="post", color=_THROTTLE, alpha=0.75, lw=0, label=head)
        return float(values.max())
    bottom = np.zeros(len(x))
    first = True
    for column, name in CAUSE_LABELS.items():
        count = int(pd.to_numeric(timeline[column], errors="coerce").sum())
        if not count:
            continue  # no empty entries in the legend
        top = bottom + _closed(np.nan_to_num(bins[column].to_numpy(dtype=float)) * scale)
        ax.fill_between(
            x,
            bottom,
            top,
            step="post",
            color=_CAUSE_COLORS[column],
            alpha=0.9,
            lw=0,
            label=f"{head + ', by cause: ' if first else 'throttled: '}{name} {count:,} "
            f"({percent(count / total)})",
        )
        bottom = top
        first = False
    return float(bottom.max())


def _throttle_panel(
    ax: Axes, x: np.ndarray, bins: pd.DataFrame, timeline: pd.DataFrame, marks: BusyMarks
) -> None:
    """Throttled requests per minute by cause, the worst hour and the worst minutes."""
    top = _stack_throttled(ax, x, bins, timeline, 60.0)
    ax.set_ylabel("throttled\nper minute")
    ax.yaxis.set_major_locator(ticker.MaxNLocator(nbins=4, min_n_ticks=2))
    ax.yaxis.set_major_formatter(ticker.StrMethodFormatter("{x:,.4g}"))
    ax.grid(axis="y", color="0.92", lw=0.6)
    if not top:
        ax.set_ylim(0, 1)
        ax.text(
            0.5, 0.5, "no request throttled", transform=ax.transAxes, ha="center",
            va="center", color="0.4", fontsize="small",
        )  # fmt: skip
        return
    # Head room for the worst hour's label and the worst minutes' triangles.
    ax.set_ylim(0, top * 1.6)
    _mark_busy(ax, marks)


def _worst_hour_band(ax: Axes, marks: BusyMarks) -> None:
    """The worst hour's band alone (its label is on the throttling panel)."""
    if marks.hour_start is None or not marks.hour_throttled:
        return
    start = mdates.date2num(marks.hour_start.to_pydatetime())
    ax.axvspan(start, start + 1 / 24, color=_WORST, alpha=0.08, lw=0.8, ec=_WORST, zorder=0)


def _mark_busy(ax: Axes, marks: BusyMarks) -> None:
    """The worst clock hour shaded and labelled with its rate; the worst minutes as triangles.

    Nothing when nothing was throttled. The hour's band keeps an edge, so it shows as a
    line even when a month of minutes squeezes it below a pixel; its label turns inwards
    near either end of the axis, so it stays inside.
    """
    if marks.hour_start is None or not marks.hour_throttled:
        return
    start = mdates.date2num(marks.hour_start.to_pydatetime())
    end = start + 1 / 24
    ax.axvspan(start, end, color=_WORST, alpha=0.10, lw=0.8, ec=_WORST, zorder=0)
    left, right = ax.get_xlim()
    where = ((start + end) / 2 - left) / (right - left) if right > left else 0.5
    ha, dx = ("left", 4) if where < 0.2 else (("right", -4) if where > 0.8 else ("center", 0))
    anchor = {"left": end, "right": start, "center": (start + end) / 2}[ha]
    ax.annotate(
        f"worst hour, from {marks.hour_start:%m-%d %H:00}: {percent(marks.hour_rate)} throttled",
        (anchor, 0.97),
        xycoords=("data", "axes fraction"),
        xytext=(dx, 0),
        textcoords="offset points",
        ha=ha,
        va="top",
        fontsize="x-small",
        color=_WORST,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        zorder=6,
    )
    minutes = marks.minutes
    if not len(minutes):
        return
    rates = minutes["throttle_rate"].to_numpy(dtype=float)
    spread = percent(rates.min())
    if rates.max() > rates.min():
        spread += f" to {percent(rates.max())}"
    centres = mdates.date2num(minutes.index.to_pydatetime()) + 0.5 / 1440
    ax.plot(
        centres,
        np.full(len(centres), 0.72),
        ls="none",
        marker="v",
        ms=6,
        mfc=_WORST,
        mec="white",
        mew=0.5,
        transform=ax.get_xaxis_transform(),
        zorder=6,
        label=f"worst {plural(len(minutes), 'minute')} ({spread} of their attempts throttled)",
    )


def _capacity_lines(ax: Axes, x: np.ndarray, bins: pd.DataFrame, tps_per_unit: float) -> float:
    """Offered load, serving capacity and desired capacity; returns the highest value."""
    offered = bins["offered"].to_numpy()
    capacity = bins["in_service"].to_numpy() * tps_per_unit
    desired = bins["desired"].to_numpy() * tps_per_unit
    ax.step(x, _closed(offered), where="post", color=_OFFERED, lw=1.0, label="offered load")
    ax.step(
        x,
        _closed(capacity),
        where="post",
        color=_CAPACITY,
        lw=2.0,
        label=f"serving capacity: units in service × {tps_per_unit:.3g} TPS (assumed)",
    )
    ax.step(
        x,
        _closed(desired),
        where="post",
        color=_DESIRED,
        lw=1.2,
        ls="--",
        label="desired units (DesiredInferenceUnits)",
    )
    top = float(np.nanmax([np.nanmax(offered), np.nanmax(capacity), np.nanmax(desired)]))
    return top if top > 0 else tps_per_unit


def _limit_lines(ax: Axes, limits: list[tuple[str, int]], tps_per_unit: float, top: float) -> float:
    """Dotted Min and Max levels that fit near the data; returns the new top."""
    for name, units in limits:
        level = units * tps_per_unit
        if level <= 1.6 * top:
            top = max(top, level)
            ax.axhline(level, color="0.45", lw=0.8, ls=":", zorder=0)
            ax.annotate(
                f"{name} {units}",
                (1.0, level),
                xycoords=("axes fraction", "data"),
                xytext=(-4, 2),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize="x-small",
                color="0.35",
            )
    return top


def _timeline_legend(ax: Axes, lowest: Axes) -> None:
    """One legend for both panels below the lowest, in reading order: load, capacity, then
    throttling and the rest."""
    handles, labels = [], []
    for panel in dict.fromkeys((ax, lowest)):
        h, lab = panel.get_legend_handles_labels()
        handles += h
        labels += lab
    order = ("offered", "serving", "desired", "throttled", "minute", "bin", "worst", "model")
    ranked = sorted(
        zip(handles, labels, strict=True),
        key=lambda hl: next((i for i, p in enumerate(order) if hl[1].startswith(p)), 99),
    )
    lowest.legend(
        [h for h, _ in ranked],
        [label for _, label in ranked],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14 if lowest is ax else -0.4),
        ncols=2,
        fontsize="small",
        frameon=False,
    )


def plot_daily_cost(
    run: Any,
    ax: Axes | None = None,
    *,
    freq: str | None = None,
    price_per_unit_hour_usd: float | None = None,
) -> Axes:
    """Cost per day, split into the Min units that always run and the units added above Min.

    Parameters
    ----------
    run : Result or pandas.DataFrame
        A run, or its ``timeline`` (then give ``price_per_unit_hour_usd``). Uses
        ``billed_units`` (units billed each minute) and ``MinInferenceUnits``.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.
    freq : {'D', 'h'}, optional
        Bar length: a day or an hour; default: a day, or an hour for runs shorter than two
        days (a one-day run would be a single bar).
    price_per_unit_hour_usd : float, optional
        Default: the run's price.

    Returns
    -------
    matplotlib.axes.Axes
    """
    timeline, scenario = run_parts(run)
    require_columns(timeline, ("billed_units", "MinInferenceUnits"), "timeline")
    price = price_per_unit_hour_usd
    if price is None:
        if scenario is None:
            raise InputError(
                "a bare timeline needs price_per_unit_hour_usd; give it, or pass the whole run"
            )
        price = scenario.price_per_unit_hour_usd
    if timeline.empty:
        raise InputError("the timeline has no rows; nothing to plot")
    if freq is None:
        freq = "D" if len(timeline) >= 2 * 1440 else "h"
    if freq not in ("D", "h"):
        raise InputError(f"freq {freq!r}: use 'D' (days) or 'h' (hours)")
    ax = _axes(ax, (11, 4.2))
    bins = daily_cost_bins(timeline, price, freq)
    full = 1440 if freq == "D" else 60
    width_days = 1.0 if freq == "D" else 1.0 / 24.0
    left = mdates.date2num(bins.index.to_pydatetime())
    centre = left + width_days / 2
    partial = bins["minutes"].to_numpy() < full
    totals = _cost_bars(ax, bins, centre, 0.8 * width_days, partial)
    if partial.any():
        ax.add_artist(
            ax.legend(
                handles=[Patch(color="0.6", alpha=0.5, label="pale: a partial period")],
                loc="upper right",
                fontsize="small",
                frameon=False,
            )
        )
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    per = "day" if freq == "D" else "hour"
    total = float(totals.sum())
    hours = len(timeline) / 60.0
    ax.set_title(
        f"Cost per {per} at USD {price:.2f} per unit-hour: USD {total:,.2f} over {hours:g} h",
        fontsize="medium",
    )
    ax.set_ylabel(f"cost per {per} (USD)")
    ax.set_xlabel(_time_label(bins.index, "date (UTC)" if freq == "D" else "time (UTC)"))
    ax.set_ylim(0, max(float(totals.max()), 1e-9) * 1.22)
    ax.set_xlim(left[0], left[-1] + width_days)
    ax.yaxis.set_major_formatter(ticker.StrMethodFormatter("{x:,.0f}"))
    if freq == "D" and len(bins) <= 31:
        # One label under each day's bar.
        style = "%a %d %b" if len(bins) <= 14 else "%d"
        ax.set_xticks(centre, [d.strftime(style) for d in bins.index])
        ax.tick_params(axis="x", length=0)
    else:
        _date_axis(ax)
    ax.grid(axis="y", color="0.92", lw=0.6)
    ax.set_axisbelow(True)
    return ax


def _cost_bars(
    ax: Axes, bins: pd.DataFrame, centre: np.ndarray, width: float, partial: np.ndarray
) -> pd.Series:
    """Min units below, units above Min stacked on top, partial periods pale; the totals."""
    alpha = np.where(partial, 0.5, 1.0)
    base_bars = ax.bar(
        centre,
        bins["base"],
        width,
        color="#4c72b0",
        label="MinInferenceUnits (the floor while hosted)",
    )
    totals = bins["base"] + bins["extra"]
    top_bars = base_bars
    if bins["extra"].sum() > 0:
        top_bars = ax.bar(
            centre,
            bins["extra"],
            width,
            bottom=bins["base"],
            color="#dd8452",
            label="units above Min (added by auto-scaling)",
        )
    for bars in (base_bars, top_bars):
        for patch, a in zip(bars, alpha, strict=True):
            patch.set_alpha(a)
    if len(bins) <= 40:
        ax.bar_label(
            top_bars,
            labels=[amount(t) for t in totals],
            padding=2,
            fontsize="x-small" if len(bins) > 14 else "small",
        )
    return totals


# --- sweeps ----------------------------------------------------------------------------------


def plot_frontier(
    sweep: pd.DataFrame,
    ax: Axes | None = None,
    *,
    recommendation: Recommendation | None = None,
    max_throttle_rate: float | None = None,
    confidence: float = 0.95,
    labels: bool = True,
) -> Axes:
    """Monthly cost against throttle rate, one point per configuration, with confidence bars.

    Filled points meet the SLO (the throttle rate's upper confidence bound is at most the
    target), hollow ones do not; the grey line joins the configurations no cheaper
    configuration beats on throttling (the frontier); the star is the recommendation; grey
    diamonds are the zero-throttle oracles. Labels read ``Min/Max`` (``no auto-scaling``: no
    Max). The throttle axis is logarithmic above its smallest non-zero value.

    Parameters
    ----------
    sweep : pandas.DataFrame
        A sweep table (one row per configuration x replication) or its aggregate.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.
    recommendation : Recommendation, optional
        Marks its choice and draws its SLO. Default: computed from a sweep table when
        ``max_throttle_rate`` is given (needs two replications or more).
    max_throttle_rate : float, optional
        SLO target (a fraction, 0.001 = 0.1%) when no recommendation is given.
    confidence : float
        Level of the confidence bars (two-sided) and of the SLO bound (one-sided).
    labels : bool
        Write ``Min/Max`` beside the points.

    Returns
    -------
    matplotlib.axes.Axes
    """
    agg = sweep_summary(sweep, confidence)
    recommendation = sweep_recommendation(sweep, recommendation, max_throttle_rate, confidence)
    if recommendation is not None:
        max_throttle_rate = recommendation.max_throttle_rate
        confidence = recommendation.confidence
    ax = _axes(ax, (10, 6))
    keys = vary_keys(agg)
    groups = list(agg.groupby(keys, sort=False)) if keys else [((), agg)]
    conf = f"{100 * confidence:g}%"
    pending: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    for i, (values, g) in enumerate(groups):
        values = values if isinstance(values, tuple) else (values,)
        name = ", ".join(f"{k}={value_text(v)}" for k, v in zip(keys, values, strict=True))
        color = f"C{i}" if keys else _OFFERED
        drawn = _frontier_group(
            ax, g, color, max_throttle_rate, f"frontier, {name}" if keys else None
        )
        if labels:
            pending.append(drawn)
    if max_throttle_rate is not None:
        ax.axvline(100 * max_throttle_rate, color=_THROTTLE, ls="--", lw=1.2, zorder=1)
    choice = recommendation.choice if recommendation is not None else None
    if choice is not None:
        ax.plot(
            100 * choice.throttle_rate,
            choice.monthly_cost_usd,
            marker="*",
            ms=20,
            mfc="gold",
            mec="black",
            mew=1.0,
            ls="none",
            zorder=4,
        )
    _frontier_axes(ax, agg, max_throttle_rate, conf)
    choice_note = _annotate_choice(ax, choice) if choice is not None else None
    handles = _frontier_handles(agg, max_throttle_rate, conf, choice is not None)
    if keys:
        handles += [
            Line2D([], [], color=f"C{i}", lw=2, label=", ".join(map(value_text, _tuple(v))))
            for i, (v, _) in enumerate(groups)
        ]
    note = Line2D([], [], ls="none", label=f"labels: Min/Max ({NO_AUTOSCALING}: no Max)")
    handles.append(note)
    # Cheap and never throttled is impossible, so the lower left stays empty.
    legend = ax.legend(handles=handles, loc="lower left", fontsize="small", framealpha=0.9)
    if pending:
        # Labels last: their places need the final limits and layout, and the boxes of the
        # legend and of the recommendation to keep clear of.
        _root_figure(ax).draw_without_rendering()
        frame = legend.get_window_extent()
        # Room for the legend's last line to grow by the count of labels left out.
        boxes = [(frame.x0, frame.y0, frame.x1 + 0.5 * frame.width, frame.y1)]
        if choice_note is not None:
            boxes.append(tuple(choice_note.get_window_extent().padded(6).extents))
        left_out = _label_points(ax, pending, choice, boxes)
        if left_out:
            legend.get_texts()[-1].set_text(
                f"labels: Min/Max ({NO_AUTOSCALING}: no Max); {left_out} left out where "
                "points crowd"
            )
    return ax


def _frontier_group(
    ax: Axes,
    g: pd.DataFrame,
    color: str,
    max_throttle_rate: float | None,
    label: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One group's points, bars and frontier line; returns its (real, oracle) rows."""
    real = g[~g["oracle_bound"].astype(bool)]
    oracle = g[g["oracle_bound"].astype(bool)]
    passes = (
        real["throttle_rate_upper"] <= max_throttle_rate
        if max_throttle_rate is not None
        else pd.Series(True, index=real.index)
    )
    _error_bars(ax, real, color)
    for ok, face in ((True, color), (False, "white")):
        part = real[passes == ok]
        if len(part):
            ax.plot(
                100 * part["throttle_rate"],
                part["monthly_cost_usd"],
                ls="none",
                marker="o",
                ms=6,
                mfc=face,
                mec=color,
                mew=1.3,
                zorder=3,
            )
    if len(oracle):
        _error_bars(ax, oracle, "0.5")
        ax.plot(
            100 * oracle["throttle_rate"],
            oracle["monthly_cost_usd"],
            ls="none",
            marker="D",
            ms=6,
            color="0.45",
            zorder=3,
        )
    front = pareto(real)
    ax.plot(
        100 * front["throttle_rate"],
        front["monthly_cost_usd"],
        color="0.55" if label is None else color,
        lw=1.0,
        zorder=2,
        label=label,
    )
    return real, oracle


def _frontier_axes(ax: Axes, agg: pd.DataFrame, max_throttle_rate: float | None, conf: str) -> None:
    """A throttle axis logarithmic above its smallest non-zero value, the cost axis, title."""
    linthresh, right = throttle_axis(agg, max_throttle_rate)
    ax.set_xscale("symlog", linthresh=linthresh, linscale=0.6)
    ax.set_xlim(-0.3 * linthresh, max(right * 2.5, 3 * linthresh))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(percent_tick))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlabel(f"throttle rate (% of requests; log scale above {linthresh:g}%)")
    ax.set_ylabel("monthly cost (USD, 730 h)")
    ax.yaxis.set_major_formatter(ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(bottom=0, top=float(np.nanmax(agg["monthly_cost_high_usd"].fillna(0))) * 1.08 or 1)
    reps = int(agg["replications"].max())
    ax.set_title(
        f"Cost vs throttling over {len(agg[~agg['oracle_bound'].astype(bool)])} "
        f"configurations ({reps} replications each, bars: {conf} confidence intervals)",
        fontsize="medium",
    )
    ax.grid(color="0.93", lw=0.6)
    ax.set_axisbelow(True)


def _annotate_choice(ax: Axes, choice: Any) -> Any:
    """The recommendation's box, towards the (nearly empty) cheaper, less throttled side."""
    x, y = 100 * choice.throttle_rate, choice.monthly_cost_usd
    frac = ax.transAxes.inverted().transform(ax.transData.transform((x, y)))
    left = frac[0] > 0.4
    return ax.annotate(
        f"recommended: {choice.label}\nUSD {choice.monthly_cost_usd:,.0f} a month",
        (x, y),
        xytext=(-30 if left else 30, -48 if frac[1] > 0.3 else 30),
        textcoords="offset points",
        ha="right" if left else "left",
        va="center",
        fontsize="small",
        fontweight="bold",
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.6", "alpha": 0.92},
        arrowprops={"arrowstyle": "-", "color": "0.3", "lw": 0.8},
        zorder=6,
    )


def _frontier_handles(
    agg: pd.DataFrame, max_throttle_rate: float | None, conf: str, chosen: bool
) -> list[Line2D]:
    """Legend entries for the marks every frontier has, and the SLO and star when drawn."""
    handles = [
        Line2D([], [], ls="none", marker="o", mfc=_OFFERED, mec=_OFFERED, label="meets the SLO"),
        Line2D([], [], ls="none", marker="o", mfc="white", mec=_OFFERED, label="misses the SLO"),
        Line2D([], [], color="0.55", lw=1.0, label="frontier (no cheaper one throttles less)"),
    ]
    if agg["oracle_bound"].astype(bool).any():
        handles.append(
            Line2D([], [], ls="none", marker="D", color="0.45", label="zero-throttle oracle")
        )
    if max_throttle_rate is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=_THROTTLE,
                ls="--",
                label=f"SLO: upper {conf} bound ≤ {percent(max_throttle_rate)}",
            )
        )
    if chosen:
        handles.append(
            Line2D(
                [], [], ls="none", marker="*", ms=14, mfc="gold", mec="black", label="recommended"
            )
        )
    return handles


def plot_heatmap(
    sweep: pd.DataFrame,
    metric: str = "monthly_cost_usd",
    ax: Axes | None = None,
    *,
    recommendation: Recommendation | None = None,
    max_throttle_rate: float | None = None,
    confidence: float = 0.95,
    colorbar: bool = True,
) -> Axes:
    """A sweep's metric over (MinInferenceUnits, MaxInferenceUnits), one cell each.

    Rows are Min, columns Max, and the last column ``fixed`` is no auto-scaling (Max
    unset). Each cell shows the mean and, below it, the spread over the replications: the
    half-width of the confidence interval for cost, the upper confidence bound for the
    throttle rate. Bold text meets the SLO; the framed cell is the recommendation. With
    varied scenario keys each cell shows the worst case over the varied values.

    Parameters
    ----------
    sweep : pandas.DataFrame
        A sweep table or its aggregate.
    metric : str
        One of :data:`HEATMAP_METRICS`.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.
    recommendation : Recommendation, optional
        Framed; default: computed when ``max_throttle_rate`` is given.
    max_throttle_rate : float, optional
        SLO target (a fraction) when no recommendation is given.
    confidence : float
        Level of the intervals and bounds.
    colorbar : bool
        Draw a colour bar.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in HEATMAP_METRICS:
        raise InputError(f"metric {metric!r}: use one of {', '.join(HEATMAP_METRICS)}")
    agg = sweep_summary(sweep, confidence)
    recommendation = sweep_recommendation(sweep, recommendation, max_throttle_rate, confidence)
    if recommendation is not None:
        max_throttle_rate = recommendation.max_throttle_rate
        confidence = recommendation.confidence
    real = agg[~agg["oracle_bound"].astype(bool)]
    if real.empty:
        raise InputError("the sweep has no (Min, Max) configurations to show")
    keys = vary_keys(real)
    cells, mins, maxs, grid = heatmap_cells(real, metric)
    ax = _axes(ax, (min(10.5, max(6.0, 2.2 + 0.62 * len(maxs))), max(3.2, 1.8 + 0.6 * len(mins))))
    throttle = metric.startswith("throttle_rate")
    cmap, norm, shown = _heat_scale(grid, throttle)
    image = ax.imshow(
        np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto", interpolation="none"
    )
    choice = recommendation.choice if recommendation is not None else None
    _cell_texts(ax, cells, metric, (mins, maxs, grid, shown), cmap, norm, max_throttle_rate, choice)
    ax.set_xticks(range(len(maxs)), [max_label(m) for m in maxs])
    ax.set_yticks(range(len(mins)), [str(m) for m in mins])
    ax.set_xticks(np.arange(len(maxs) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(mins) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(f"MaxInferenceUnits ({NO_AUTOSCALING}: none set)")
    ax.set_ylabel("MinInferenceUnits")
    lines = _heatmap_title(metric, confidence, max_throttle_rate, choice is not None, keys)
    ax.set_title("\n".join(_wrap_to(ax, lines)), fontsize="medium")
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.9, pad=0.02)
        bar.set_label(HEATMAP_METRICS[metric])
        if throttle:
            bar.formatter = ticker.FuncFormatter(percent_tick)
            # A log colour bar within a decade labels its minor ticks too: in percent alike.
            bar.minorformatter = ticker.FuncFormatter(_minor_percent_tick)
            bar.update_ticks()
        elif metric == "monthly_cost_usd":
            bar.formatter = ticker.StrMethodFormatter("{x:,.0f}")
            bar.update_ticks()
    return ax


def _heat_scale(
    grid: np.ndarray, throttle: bool
) -> tuple[colors.Colormap, colors.Normalize, np.ndarray]:
    """Colour map, norm and the values to colour: throttle rates in percent on a log scale."""
    shown = 100 * grid if throttle else grid
    finite = shown[np.isfinite(shown)]
    cmap = colors.ListedColormap(
        mpl.colormaps["OrRd" if throttle else "YlGnBu"](np.linspace(0.05, 0.9, 256))
    ).with_extremes(bad="white")
    if throttle and (finite > 0).any():
        floor = float(finite[finite > 0].min())
        top = float(finite.max())
        norm: colors.Normalize = colors.LogNorm(vmin=floor, vmax=max(top, floor * 10))
        shown = np.where(np.isfinite(shown), np.maximum(shown, floor), np.nan)
    else:
        lo = float(finite.min()) if len(finite) else 0.0
        hi = float(finite.max()) if len(finite) else 1.0
        norm = colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
    return cmap, norm, shown


def _cell_texts(
    ax: Axes,
    cells: pd.DataFrame,
    metric: str,
    layout: tuple[list[int], list[float], np.ndarray, np.ndarray],
    cmap: colors.Colormap,
    norm: colors.Normalize,
    max_throttle_rate: float | None,
    choice: Any,
) -> None:
    """Each cell's text (bold when it meets the SLO), the frame of the choice, dashes for gaps."""
    mins, maxs, grid, shown = layout
    size = "small" if len(maxs) <= 8 else ("x-small" if len(maxs) <= 13 else 6)
    for (lo, hi), row in cells.iterrows():
        r, c = mins.index(int(lo)), maxs.index(hi)
        value = row[metric]
        if not np.isfinite(value):
            continue
        meets = max_throttle_rate is not None and row["throttle_rate_upper"] <= max_throttle_rate
        text = cell_text(metric, row)
        rgba = cmap(norm(shown[r, c]))
        dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
        ax.text(
            c,
            r,
            text,
            ha="center",
            va="center",
            fontsize=size,
            color="white" if dark else "black",
            fontweight="bold" if meets else "normal",
        )
        if (
            choice is not None
            and int(lo) == choice.min_units
            and hi == (np.inf if choice.max_units is None else choice.max_units)
        ):
            ax.add_patch(
                Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="black", lw=3, zorder=4)
            )
    for r in range(len(mins)):
        for c in range(len(maxs)):
            if not np.isfinite(grid[r, c]):
                ax.text(c, r, "-", ha="center", va="center", fontsize=size, color="0.7")


def _minor_percent_tick(value: float, _pos: Any = None) -> str:
    """Minor log ticks at 2 and 5 times a power of ten labelled, the others left blank."""
    if not value > 0:
        return ""
    lead = round(value / 10 ** np.floor(np.log10(value)), 6)
    return percent_tick(value) if lead in (2.0, 5.0) else ""


def _wrap_to(ax: Axes, lines: list[str]) -> list[str]:
    """The title's lines wrapped to fit a narrow figure (a heatmap of one row or few columns).

    The title is centred on the axes, which leave room for the labels and the colour bar:
    about 80% of the figure's width is free, at about 0.6 of the font size a character.
    """
    width_pt = _root_figure(ax).get_figwidth() * 72.0 * 0.8
    chars = max(30, int(width_pt / (0.6 * mpl.rcParams["font.size"])))
    out: list[str] = []
    for line in lines:
        # Break between the notes ("; ") first, inside a note only when it alone is too long.
        current = ""
        for note in line.split("; "):
            joined = f"{current}; {note}" if current else note
            if len(joined) <= chars or not current:
                current = joined
            else:
                out.append(current + ";")
                current = note
        out += textwrap.wrap(current, chars, break_on_hyphens=False)
    return out


def _heatmap_title(
    metric: str,
    confidence: float,
    max_throttle_rate: float | None,
    chosen: bool,
    keys: list[str],
) -> list[str]:
    """The title's lines: what the cells show, then how to read them."""
    name = {"monthly_cost_usd": "Monthly cost", "throttle_rate": "Throttle rate"}.get(
        metric, HEATMAP_METRICS[metric].capitalize()
    )
    lines = [f"{name} by MinInferenceUnits and MaxInferenceUnits"]
    notes = []
    if metric == "monthly_cost_usd":
        notes.append(f"USD a month, ± half the {100 * confidence:g}% interval")
    elif metric == "throttle_rate":
        notes.append(f"mean, and ≤ its upper {100 * confidence:g}% bound")
    if max_throttle_rate is not None:
        notes.append(f"bold: meets the SLO (bound ≤ {percent(max_throttle_rate)})")
    if chosen:
        notes.append("framed: recommended")
    if keys:
        notes.append("worst case over " + ", ".join(keys))
    if notes:
        lines.append("; ".join(notes))
    return lines


def plot_cost_heatmap(sweep: pd.DataFrame, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """:func:`plot_heatmap` of the monthly cost (USD)."""
    return plot_heatmap(sweep, "monthly_cost_usd", ax, **kwargs)


def plot_throttle_heatmap(sweep: pd.DataFrame, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """:func:`plot_heatmap` of the throttle rate (%)."""
    return plot_heatmap(sweep, "throttle_rate", ax, **kwargs)


def plot_trace_stats(stats: TraceStats, ax: Axes | None = None) -> Axes:
    """Requests per second each minute (mean and 1 s peak) against time.

    Parameters
    ----------
    stats : TraceStats
        From :func:`lfvsim.traces.describe_trace`.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (10, 3.5))
    minutes = len(stats.per_minute)
    index = stats.start + pd.to_timedelta(np.arange(minutes) * 60.0, unit="s")
    x = index.tz_localize(None)
    ax.step(x, stats.peak_1s_per_minute, where="post", lw=0.6, alpha=0.5, label="peak 1 s")
    ax.step(x, stats.per_minute / 60.0, where="post", lw=1.0, label="mean over 1 min")
    ax.axhline(stats.mean_tps, color="grey", lw=0.8, ls="--", label="mean of the trace")
    ax.set_ylabel("requests per second")
    ax.set_xlabel("time (UTC)")
    ax.set_title(stats.source, fontsize="medium")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize="small")
    return ax


# --- helpers ---------------------------------------------------------------------------------


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _root_figure(ax: Axes) -> MplFigure:
    """The figure ``ax`` is drawn in, also when it is on a SubFigure (whose ``figure`` is
    its root)."""
    fig = ax.figure
    while not isinstance(fig, MplFigure):
        fig = fig.figure
    return fig


def _edges(index: pd.DatetimeIndex, step: int) -> np.ndarray:
    """Bin edges as matplotlib date numbers: one more than bins."""
    start = mdates.date2num(index.to_pydatetime())
    return np.append(start, start[-1] + step / 1440.0)


def _closed(values: np.ndarray) -> np.ndarray:
    """Repeat the last value so a ``post`` step covers the last bin."""
    values = np.asarray(values, dtype=float)
    return np.append(values, values[-1])


def _date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def _time_label(index: pd.DatetimeIndex, label: str) -> str:
    """``time (UTC), 2026-01-05 to 2026-01-06``: the dates the ticks may not show."""
    first, last = index[0], index[-1]
    if first.date() == last.date():
        return f"{label}, {first:%Y-%m-%d}"
    return f"{label}, {first:%Y-%m-%d} to {last:%Y-%m-%d}"


def _tuple(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _error_bars(ax: Axes, rows: pd.DataFrame, color: str) -> None:
    if rows.empty:
        return
    x = 100 * rows["throttle_rate"].to_numpy(dtype=float)
    y = rows["monthly_cost_usd"].to_numpy(dtype=float)
    x_lo = 100 * np.clip(rows["throttle_rate_low"].to_numpy(dtype=float), 0, None)
    x_hi = 100 * rows["throttle_rate_high"].to_numpy(dtype=float)
    y_lo = rows["monthly_cost_low_usd"].to_numpy(dtype=float)
    y_hi = rows["monthly_cost_high_usd"].to_numpy(dtype=float)
    xerr = np.nan_to_num(np.clip([x - x_lo, x_hi - x], 0, None))
    yerr = np.nan_to_num(np.clip([y - y_lo, y_hi - y], 0, None))
    ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="none", ecolor=color, alpha=0.55, lw=1, capsize=2.5)


def _label_points(
    ax: Axes,
    points: list[tuple[pd.DataFrame, pd.DataFrame]],
    choice: Any,
    boxes: list[Any],
) -> int:
    """``Min/Max`` beside each point; configurations with the same figures share one label.

    Labels stay inside the axes (never over the title), apart from each other, the
    markers, the legend and the recommendation (``boxes``, display pixels); the frontier's
    first, then by cost. Returns how many found no free spot and were left out.
    """
    items: list[tuple[float, float, str]] = []
    markers: list[tuple[float, float]] = []
    front: set[tuple[float, float]] = set()
    for real, oracle in points:
        items += [
            (100 * rate, cost, text) for rate, cost, text in label_items(real, oracle, choice)
        ]
        edge = pareto(real)
        front |= set(
            zip(100 * edge["throttle_rate"].to_numpy(float), edge["monthly_cost_usd"], strict=True)
        )
        for rows in (real, oracle):
            rates = 100 * rows["throttle_rate"].to_numpy(dtype=float)
            markers += list(zip(rates, rows["monthly_cost_usd"].to_numpy(dtype=float), strict=True))
    if choice is not None:
        # The star is larger than a marker: mark its corners too.
        x, y = ax.transData.transform((100 * choice.throttle_rate, choice.monthly_cost_usd))
        star = (x - 12, y - 12, x + 12, y + 12)
        boxes = [*boxes, star]
    items.sort(key=lambda item: (item[:2] not in front, item[1], item[0]))
    _, left_out = place_labels(
        ax,
        items,
        fontsize=7.0,
        color=lambda text: "0.4" if text.startswith("oracle") else "0.2",
        avoid_points=markers,
        avoid_boxes=[tuple(b) for b in boxes],
    )
    return len(left_out)
