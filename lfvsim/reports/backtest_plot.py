"""The backtest figure: observed and simulated timelines overlaid, minute by minute."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lfvsim.atomic import atomic_path
from lfvsim.errors import InputError
from lfvsim.experiments.backtest import Backtest

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["IMAGE_SUFFIXES", "plot_backtest", "plot_backtest_errors", "save_backtest_figure"]

IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
_OBSERVED = "#1f77b4"
_SIMULATED = "#ff7f0e"


def plot_backtest(bt: Backtest) -> Figure:
    """Units in service and desired (top) and throttled requests (bottom), both histories.

    Minutes left out of the comparison (not hosted, gaps) are shaded.
    """
    # Deferred: matplotlib is only needed when a figure is drawn.
    import matplotlib.pyplot as plt

    m = bt.minutes
    fig, (units, throttled) = plt.subplots(
        2, 1, figsize=(11, 6), sharex=True, layout="constrained", height_ratios=[2, 1]
    )
    t = m.index
    for col, colour, label in (
        ("observed_in_service", _OBSERVED, "observed in service"),
        ("simulated_in_service", _SIMULATED, "simulated in service"),
    ):
        units.step(t, m[col], where="post", color=colour, label=label)
    for col, colour, label in (
        ("observed_desired", _OBSERVED, "observed desired"),
        ("simulated_desired", _SIMULATED, "simulated desired"),
    ):
        units.step(t, m[col], where="post", color=colour, ls=":", label=label)
    throttled.plot(t, m["observed_throttled"], color=_OBSERVED, lw=0.8, label="observed")
    throttled.plot(t, m["simulated_throttled"], color=_SIMULATED, lw=0.8, label="simulated")
    for ax in (units, throttled):
        _shade_left_out(ax, m)
    f = bt.figures
    units.set_ylabel("inference units")
    _integer_ticks(units)
    highest = m[[c for c in m.columns if c.endswith(("_in_service", "_desired"))]].max().max()
    if highest > 0:  # room above the highest step for the legend (NaN: nothing drawn)
        units.set_ylim(0, 1.45 * highest + 0.5)
    units.set_title(
        f"Backtest: units equal in {100 * (f['in_service_equal_share'] or 0):.1f}% of "
        f"{f['minutes_compared']} minutes, unit-hours {_pct(f['unit_hours_relative_error'])}"
    )
    units.legend(loc="upper left", ncols=2, fontsize="small")
    throttled.set_ylabel("throttled / min")
    throttled.legend(loc="upper left", fontsize="small")
    _time_axis(throttled, t)
    return fig


def save_backtest_figure(bt: Backtest, path: str | Path) -> Path:
    """Draw the backtest figure into ``path`` (.png, .svg or .pdf), complete or not at all."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(
            f"'{path}': unknown image format '{path.suffix}'; end the name in "
            + ", ".join(IMAGE_SUFFIXES)
        )
    import matplotlib.pyplot as plt

    fig = plot_backtest(bt)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=120)
    finally:
        plt.close(fig)
    return path


def _shade_left_out(ax, m) -> None:
    left_out = ~m["compared"].to_numpy(bool)
    if not left_out.any():
        return
    ax.fill_between(
        m.index, 0, 1, where=left_out, step="post", color="0.85", alpha=0.6,
        transform=ax.get_xaxis_transform(), label="left out",
    )  # fmt: skip


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{round(100 * x, 1) + 0.0:+.1f}%"  # + 0.0: no "-0.0%"


def _integer_ticks(ax) -> None:
    """Ticks on whole units only: a unit count has no fractions."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _time_axis(ax, index) -> None:
    """Dates and times in UTC (the histories' clock), the dates spelled out in the label."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10, tz="UTC")
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC", show_offset=False))
    first, last = index[0], index[-1]
    dates = f"{first:%Y-%m-%d}" + ("" if first.date() == last.date() else f" to {last:%Y-%m-%d}")
    ax.set_xlabel(f"time (UTC), {dates}")


def plot_backtest_errors(bt: Backtest) -> Figure:
    """Where the replay and the history part: the per-minute difference in units in service
    (top) and both cumulative unit-hours (bottom). Minutes left out are shaded.
    """
    # Deferred: matplotlib is only needed when a figure is drawn; no pyplot, nothing stays open.
    from matplotlib.figure import Figure as MplFigure

    m = bt.minutes
    fig = MplFigure(figsize=(11, 5), layout="constrained")
    diff_ax, hours_ax = fig.subplots(2, 1, sharex=True)
    t = m.index
    compared = m["compared"].to_numpy(bool)
    diff = (m["simulated_in_service"] - m["observed_in_service"]).where(compared)
    diff_ax.step(t, diff, where="post", color=_SIMULATED, lw=0.9)
    diff_ax.axhline(0, color="0.4", lw=0.6)
    diff_ax.set_ylabel("simulated − observed\nunits in service")
    _integer_ticks(diff_ax)
    low, high = diff_ax.get_ylim()  # at least -1..1: no fractional ticks when all agree
    diff_ax.set_ylim(min(low, -1.2), max(high, 1.2))
    f = bt.figures
    diff_ax.set_title(
        f"Backtest errors: mean absolute error {f['in_service_mae_units'] or 0:.2f} units; "
        f"unit-hours {_pct(f['unit_hours_relative_error'])}"
    )
    for col, colour, label in (
        ("observed_in_service", _OBSERVED, "observed"),
        ("simulated_in_service", _SIMULATED, "simulated"),
    ):
        hours = (m[col].where(compared).fillna(0.0) / 60.0).cumsum()
        hours_ax.plot(t, hours, color=colour, label=label)
    hours_ax.set_ylabel("cumulative unit-hours")
    hours_ax.legend(loc="upper left", fontsize="small")
    for ax in (diff_ax, hours_ax):
        _shade_left_out(ax, m)
    _time_axis(hours_ax, t)
    return fig
