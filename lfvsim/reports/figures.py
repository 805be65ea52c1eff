"""Figures by name: draw one of :data:`FIGURE_KINDS` on a new figure, save it atomically.

This is the figure API the report and ``lfvsim plot`` share; the drawing itself is in
:mod:`lfvsim.reports.plots`, the data each figure shows in :mod:`lfvsim.reports.plotdata`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lfvsim.atomic import atomic_path
from lfvsim.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from lfvsim.experiments import Recommendation

__all__ = [
    "FIGURE_KINDS",
    "IMAGE_FORMATS",
    "RUN_KINDS",
    "SWEEP_KINDS",
    "image_format",
    "png_bytes",
    "render_figure",
    "save_figure",
]

RUN_KINDS = ("timeline", "daily-cost")
"""Figures of one run (an ``lfvsim run --out`` folder)."""
SWEEP_KINDS = ("frontier", "heatmap-cost", "heatmap-throttle")
"""Figures of a sweep (an ``lfvsim sweep -o`` table)."""
FIGURE_KINDS = RUN_KINDS + SWEEP_KINDS
IMAGE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""File name endings :func:`save_figure` writes."""

_FIGSIZE = {
    "timeline": (11, 6.6),
    "daily-cost": (11, 4.0),
    "frontier": (10, 6),
}
_DPI = 110


def render_figure(
    kind: str,
    data: Any,
    *,
    recommendation: Recommendation | None = None,
    max_throttle_rate: float | None = None,
    confidence: float = 0.95,
) -> MplFigure:
    """Draw one figure on a new matplotlib Figure (no pyplot: nothing stays open).

    Parameters
    ----------
    kind : str
        One of :data:`FIGURE_KINDS`.
    data : Result or pandas.DataFrame
        A run for :data:`RUN_KINDS`, a sweep table for :data:`SWEEP_KINDS`.
    recommendation, max_throttle_rate, confidence
        For sweep figures: see :func:`lfvsim.reports.plots.plot_frontier`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    # matplotlib loads only when a figure is drawn: the CLI starts faster without it.
    from matplotlib.figure import Figure as MplFigure

    from lfvsim.reports import plots

    if kind not in FIGURE_KINDS:
        raise InputError(f"unknown figure '{kind}'; use one of {', '.join(FIGURE_KINDS)}")
    if kind in SWEEP_KINDS:
        agg = plots.sweep_summary(data, confidence)
        real = agg[~agg["oracle_bound"].astype(bool)]
        cols = real["max_units"].nunique(dropna=False)
        rows = real["min_units"].nunique()
        heat = (min(10.5, max(6.5, 2.2 + 0.62 * cols)), max(3.4, 1.8 + 0.6 * rows))
        size = _FIGSIZE.get(kind, heat)
    else:
        size = _FIGSIZE[kind]
    fig = MplFigure(figsize=size, layout="constrained")
    if kind == "timeline":
        top, bottom = plots.timeline_axes(fig)
        plots.plot_timeline(data, top, throttle_ax=bottom)
        return fig
    ax = fig.add_subplot()
    if kind == "daily-cost":
        plots.plot_daily_cost(data, ax)
    elif kind == "frontier":
        plots.plot_frontier(
            data,
            ax,
            recommendation=recommendation,
            max_throttle_rate=max_throttle_rate,
            confidence=confidence,
        )
    else:
        metric = "monthly_cost_usd" if kind == "heatmap-cost" else "throttle_rate"
        plots.plot_heatmap(
            data,
            metric,
            ax,
            recommendation=recommendation,
            max_throttle_rate=max_throttle_rate,
            confidence=confidence,
        )
    return fig


def save_figure(figure: MplFigure, path: str | Path, dpi: int = _DPI) -> Path:
    """Write a figure to ``path`` (.png, .svg or .pdf) atomically: complete or not at all."""
    path = Path(path)
    fmt = image_format(path)
    if path.is_dir():
        raise InputError(f"output '{path}' is a folder; give a file name ending in .{fmt}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    path.parent.mkdir(parents=True, exist_ok=True)
    # No ledger here: the command checks and records its outputs (lfvsim.atomic).
    with atomic_path(path, ledger=False) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return path


def image_format(path: str | Path) -> str:
    """``png``, ``svg`` or ``pdf``, from the name's ending.

    Raises
    ------
    InputError
        Any other ending.
    """
    path = Path(path)
    fmt = IMAGE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"output '{path}': unknown image format '{path.suffix}'; end the name in "
            f"{', '.join(IMAGE_FORMATS)}"
        )
    return fmt


def _metadata(fmt: str) -> dict[str, Any]:
    # Leave out the creation date so the same figure gives the same file.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def png_bytes(figure: MplFigure) -> bytes:
    """The figure as PNG at the reports' resolution."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()
