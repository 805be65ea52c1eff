"""A picture of a trace (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lfvsim.traces.stats import TraceStats

__all__ = ["plot_trace_stats"]


def plot_trace_stats(stats: TraceStats, ax: Any = None) -> Any:
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
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 3.5), layout="constrained")
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
