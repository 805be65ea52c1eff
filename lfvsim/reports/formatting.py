"""How numbers read: percent, money, sign, duration, ranges and plain text tables.

One module so that a figure reads the same in the terminal, the report and the figures.
Precision is a parameter where two places show the same quantity at different precision
(the terminal gives cost differences to the cent, the report to the dollar); everything
that is not a number returns ``n/a``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = [
    "amount",
    "config_label",
    "duration",
    "number",
    "percent",
    "percent_tick",
    "ratio",
    "signed_usd",
    "span",
    "text_columns",
    "units_sentence",
    "usd",
    "value_text",
]


def percent(rate: float | None, digits: int = 3) -> str:
    """A rate as a percentage: ``0.00123`` reads ``0.123%`` (``digits`` significant digits).

    Zero reads ``0%``; None, NaN and infinity read ``n/a``.
    """
    if rate is None or not math.isfinite(rate):
        return "n/a"
    if rate == 0:
        return "0%"
    return f"{100 * rate:.{digits}g}%"


def percent_tick(value: float, _pos: Any = None) -> str:
    """An axis tick already in percent: ``0.05`` reads ``0.05%`` (a matplotlib formatter)."""
    if value == 0:
        return "0%"
    return f"{value:.6g}%"


def usd(value: float, digits: int = 2) -> str:
    """``USD 1,234.56``; ``n/a`` when not a number."""
    return "n/a" if not math.isfinite(value) else f"USD {value:,.{digits}f}"


def signed_usd(value: float, digits: int = 0) -> str:
    """A cost difference with its sign: ``+USD 1,234`` or ``-USD 12``; ``n/a`` when not a number."""
    if not math.isfinite(value):
        return "n/a"
    return f"{'+' if value >= 0 else '-'}USD {abs(value):,.{digits}f}"


def amount(value: float) -> str:
    """A short amount for a bar label: whole units from 100 up, cents below."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def number(value: float | None, digits: int = 3) -> str:
    """``digits`` significant digits; ``n/a`` when not a number."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def ratio(value: float) -> str:
    """A ratio read as a factor: ``3.2 x``."""
    return "n/a x" if not math.isfinite(value) else f"{value:.3g} x"


def duration(seconds: float) -> str:
    """A length of time in the largest unit that keeps it readable: s, min, h or d."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:g} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 86400:g} d"


def value_text(value: Any) -> str:
    """A varied scenario value: floats as ``%g``, anything else as ``str``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def span(values: Iterable[Any]) -> str:
    """Unit counts as a range: ``1..4``, ``3`` or ``1,2,5``; missing values are skipped."""
    vals = sorted({int(v) for v in values if not pd.isna(v)})
    if not vals:
        return "-"
    if vals == list(range(vals[0], vals[-1] + 1)):
        return f"{vals[0]}..{vals[-1]}" if len(vals) > 1 else str(vals[0])
    return ",".join(map(str, vals))


def config_label(min_units: int, max_units: int | None) -> str:
    """``Min 1, Max 4`` or ``Min 2, no auto-scaling``."""
    if max_units is None:
        return f"Min {min_units}, no auto-scaling"
    return f"Min {min_units}, Max {max_units}"


def units_sentence(min_units: int, max_units: int | None) -> str:
    """The configuration in the API's words, for a sentence."""
    if max_units is None:
        return f"MinInferenceUnits {min_units} and no MaxInferenceUnits (no auto-scaling)"
    return f"MinInferenceUnits {min_units} and MaxInferenceUnits {max_units}"


def text_columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """A plain text table: left-aligned columns two spaces apart, indented two spaces."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return out
