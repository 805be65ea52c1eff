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
    "CAUSE_LABELS",
    "NO_AUTOSCALING",
    "amount",
    "config_label",
    "duration",
    "metric_texts",
    "number",
    "percent",
    "percent_tick",
    "plural",
    "ratio",
    "seconds",
    "signed_usd",
    "span",
    "text_columns",
    "units_sentence",
    "usd",
    "value_text",
]


#: The one name people read for a configuration without MaxInferenceUnits.
NO_AUTOSCALING = "no auto-scaling"

#: How the throttle causes (summary fields and timeline columns) are named for people, in
#: the terminal, the report and the figures alike.
CAUSE_LABELS = {
    "throttled_scaling": "scaling",
    "throttled_at_max": "at Max",
    "throttled_burst": "burst",
    "throttled_capacity_lost": "capacity lost",
}

#: Percentages below this read ``< 0.001%``: more digits would claim a precision that
#: a simulated rate does not have, and ``1e-05%`` is not read by people.
SMALLEST_PERCENT = 0.001


def percent(rate: float | None, digits: int = 3) -> str:
    """A rate as a percentage: ``0.00123`` reads ``0.123%`` (``digits`` significant digits).

    Zero reads ``0%``; a rate above zero but below 0.001% reads ``< 0.001%``; None, NaN
    and infinity read ``n/a``.
    """
    if rate is None or not math.isfinite(rate):
        return "n/a"
    if rate == 0:
        return "0%"
    if 0 < 100 * rate < SMALLEST_PERCENT:
        return f"< {SMALLEST_PERCENT:g}%"
    return f"{100 * rate:.{digits}g}%"


def plural(count: int, word: str, many: str | None = None) -> str:
    """A count and its noun in agreement: ``1 scale-out``, ``2 scale-outs``, ``0 scale-outs``.

    ``many`` is the plural when it is not ``word`` + ``s``.
    """
    noun = word if count == 1 else (many or word + "s")
    return f"{count:,} {noun}"


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


#: Summary metrics that ``lfvsim run`` prints with two decimals (hours, dollars, mean units).
_TWO_DECIMALS = ("_usd", "_h", "unit_hours", "mean_units")


def metric_texts(metric: str, *values: float) -> list[str]:
    """A summary metric's values (a mean and its interval bounds) at one precision.

    The precision is the one ``lfvsim run`` prints the metric with: rates as percentages,
    seconds as :func:`seconds`, cost per 1,000 images to 4 decimals, dollars, hours and mean
    units to 2. Counts, whole in one run, are means over replications here: whole numbers
    when all are whole or the first is 100 or more, else one decimal, so that a mean and its
    bounds read alike (not ``860.3 .. 1,095``). Not a number reads ``n/a``.
    """
    if metric.endswith("_rate") or "_rate_" in metric:  # throttle_rate_worst_hour too
        return [percent(v) for v in values]
    if metric.endswith("_s"):
        return [seconds(v, like=values[0]) for v in values]
    if metric == "cost_per_1000_images_usd":
        digits = 4
    elif metric.endswith(_TWO_DECIMALS):
        digits = 2
    else:
        first = values[0] if values else math.nan
        whole = all(float(v).is_integer() for v in values if math.isfinite(v))
        digits = 0 if whole or (math.isfinite(first) and abs(first) >= 100) else 1
    return [f"{v:,.{digits}f}" if math.isfinite(v) else "n/a" for v in values]


#: From this many seconds up, a time reads in whole seconds: milliseconds of an hour-long
#: wait (a batch's) are noise, and ``24728.494`` is hard to read beside ``0.727``.
WHOLE_SECONDS_FROM = 100.0


def seconds(value: float, like: float | None = None) -> str:
    """A latency or wait in seconds, without the unit: ``0.727``, ``24,728``.

    Milliseconds below 100 s, whole seconds with thousands separators from there; ``like``
    picks the precision instead (a mean's, for its interval bounds). ``n/a`` when not a
    number.
    """
    if not math.isfinite(value):
        return "n/a"
    scale = value if like is None or not math.isfinite(like) else like
    return f"{value:,.0f}" if abs(scale) >= WHOLE_SECONDS_FROM else f"{value:.3f}"


def ratio(value: float) -> str:
    """A ratio read as a factor: ``3.2 x``."""
    return "n/a x" if not math.isfinite(value) else f"{value:.3g} x"


def duration(seconds: float) -> str:
    """A length of time as people write it: ``45 s``, ``3 min 19 s``, ``2 h 05 min``, ``3 d 04 h``.

    Two units at most, the smaller one rounded and zero-padded; under a minute, three
    significant digits. ``n/a`` when not a number.
    """
    if not math.isfinite(seconds):
        return "n/a"
    if seconds < 0:
        return "-" + duration(-seconds)
    if seconds < 59.5:
        return f"{seconds:.3g} s"
    tiers = ((3600, 60, 1, "min", "s"), (86400, 3600, 60, "h", "min"))
    for limit, big, small, big_name, small_name in tiers:
        if seconds < limit - small / 2:
            a, b = divmod(round(seconds / small), big // small)
            return f"{a} {big_name} {b:02d} {small_name}" if b else f"{a} {big_name}"
    whole = round(seconds / 3600)
    days, hours = divmod(whole, 24)
    return f"{days} d {hours:02d} h" if hours else f"{days} d"


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
        return f"Min {min_units}, {NO_AUTOSCALING}"
    return f"Min {min_units}, Max {max_units}"


def units_sentence(min_units: int, max_units: int | None) -> str:
    """The configuration in the API's words, for a sentence."""
    if max_units is None:
        return f"MinInferenceUnits {min_units} and no MaxInferenceUnits ({NO_AUTOSCALING})"
    return f"MinInferenceUnits {min_units} and MaxInferenceUnits {max_units}"


def text_columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """A plain text table: left-aligned columns two spaces apart, indented two spaces."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return out
