"""Labels beside their points: inside the axes, apart from each other and from what is drawn.

A crowded scatter (a frontier of many configurations of nearly equal cost) cannot label
every point legibly. :func:`place_labels` gives each label, in the order given (most
important first), the nearest free spot around its point; a label with no free spot near
its point is left out rather than drawn over another or outside the axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.transforms import Bbox

__all__ = ["Box", "place_labels"]

Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in display pixels."""

# Directions tried around a point, nearest first: right, left, above, below, diagonals.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_RINGS = 4  # how far out (in label sizes) a label may move before it is left out
# Width of a character as a share of the font size: DejaVu Sans averages about 0.6, and
# digits and '/' are of that width; a little more keeps the estimate on the safe side.
_CHAR_EM = 0.64


def place_labels(
    ax: Axes,
    items: Sequence[tuple[float, float, str]],
    *,
    fontsize: float = 7.0,
    color: str | Callable[[str], str] = "0.2",
    avoid_points: Sequence[tuple[float, float]] = (),
    avoid_boxes: Sequence[Box] = (),
) -> tuple[list[Box], list[str]]:
    """Write each ``(x, y, text)`` (data coordinates) beside its point.

    Each label takes the nearest spot around its point (right, left, above, below, then
    the diagonals, then the same further out) that lies inside the axes and overlaps
    neither a label already placed, nor a marker at a point of ``avoid_points``, nor a box
    of ``avoid_boxes`` (display pixels: a legend, an annotation). A label that had to move
    away from its point is joined to it by a thin line. Call it once the axis limits and
    the layout are final (``Figure.draw_without_rendering``).

    Returns
    -------
    placed : list of Box
        The labels' estimated boxes in display pixels, in the order placed.
    left_out : list of str
        The texts that found no free spot.
    """
    px_per_pt = ax.figure.dpi / 72.0
    frame = ax.get_window_extent()
    marker_r = 4.5 * px_per_pt
    taken: list[Box] = list(avoid_boxes)
    for x, y in avoid_points:
        mx, my = ax.transData.transform((x, y))
        if np.isfinite(mx) and np.isfinite(my):
            taken.append((mx - marker_r, my - marker_r, mx + marker_r, my + marker_r))
    height = 1.3 * fontsize * px_per_pt
    gap = marker_r + 1.0 * px_per_pt  # clear of the label's own marker
    placed: list[Box] = []
    left_out: list[str] = []
    to_data = ax.transData.inverted()
    for x, y, text in items:
        px, py = ax.transData.transform((x, y))
        if not (np.isfinite(px) and np.isfinite(py)):
            left_out.append(text)
            continue
        width = _CHAR_EM * fontsize * px_per_pt * len(text) + 2 * px_per_pt
        spot = _free_spot(px, py, width, height, gap, frame, taken + placed)
        if spot is None:
            left_out.append(text)
            continue
        box, far, (dx, dy) = spot
        placed.append(box)
        # Anchor the text at the side of its box nearest the point: the estimated width is
        # generous, and the slack goes to the far side.
        ha = {1: "left", -1: "right", 0: "center"}[dx]
        va = {1: "bottom", -1: "top", 0: "center"}[dy]
        ax_ = {"left": box[0], "right": box[2], "center": (box[0] + box[2]) / 2}[ha]
        ay_ = {"bottom": box[1], "top": box[3], "center": (box[1] + box[3]) / 2}[va]
        tx, ty = to_data.transform((ax_, ay_))
        line = {"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 1, "shrinkB": 3}
        ax.annotate(
            text,
            (x, y),
            xytext=(tx, ty),
            textcoords="data",
            ha=ha,
            va=va,
            fontsize=fontsize,
            color=color(text) if callable(color) else color,
            arrowprops=line if far else None,
            zorder=5,
        )
    return placed, left_out


def _free_spot(
    px: float, py: float, width: float, height: float, gap: float, frame: Bbox, taken: list[Box]
) -> tuple[Box, bool, tuple[int, int]] | None:
    """The nearest box around (px, py) inside ``frame`` that overlaps nothing ``taken``,
    whether it is away from the point, and its direction; else None."""
    for ring in range(_RINGS):
        spots = [(_box(px, py, d[0], d[1], ring, width, height, gap), d) for d in _DIRECTIONS]
        spots.sort(
            key=lambda s: math.hypot((s[0][0] + s[0][2]) / 2 - px, (s[0][1] + s[0][3]) / 2 - py)
        )
        for box, direction in spots:
            inside = (
                box[0] >= frame.x0 and box[2] <= frame.x1
                and box[1] >= frame.y0 and box[3] <= frame.y1
            )  # fmt: skip
            if inside and not any(_overlap(box, b) for b in taken):
                return box, ring > 0, direction
    return None


def _box(
    px: float, py: float, dx: int, dy: int, ring: int, width: float, height: float, gap: float
) -> Box:
    """The label's box in direction (dx, dy) from the point, ``ring`` steps out."""
    step_x = gap + ring * (0.5 * width + gap)
    step_y = gap + ring * (height + gap)
    x0 = px + step_x if dx > 0 else (px - step_x - width if dx < 0 else px - width / 2)
    y0 = py + step_y if dy > 0 else (py - step_y - height if dy < 0 else py - height / 2)
    return (x0, y0, x0 + width, y0 + height)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
