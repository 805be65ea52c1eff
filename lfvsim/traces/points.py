"""Checking timestamped counts and turning them into a regular grid of intervals.

Shared by every reader of counts (CSV, Parquet, CloudWatch). Problems in the data are
errors that name the row and the fix, unless the caller asked for a repair; every repair
made is described in the returned remarks, never applied silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from lfvsim.errors import InputError

__all__ = [
    "DUPLICATES",
    "EPOCH_MAX_S",
    "FILL_GAPS",
    "MAX_COUNT",
    "MAX_INTERVALS",
    "UNSORTED",
    "Grid",
    "check_choice",
    "check_epochs",
    "counts_from_points",
    "epoch_problem",
    "epoch_timestamp",
    "fmt_time",
]

FillGaps = Literal["error", "zero"]
Duplicates = Literal["error", "sum", "first"]
Unsorted = Literal["error", "sort"]

FILL_GAPS = ("error", "zero")
DUPLICATES = ("error", "sum", "first")
UNSORTED = ("error", "sort")

_TOL = 1e-6

#: Timestamps must fall between 1970 and 2200 (2200-01-01T00:00:00Z, epoch seconds):
#: anything else is a unit mistake or a typo, not traffic lfvsim can plan for.
EPOCH_MAX_S = 7258118400.0
_YEAR_END = 2200
#: The largest count per interval: above 2^53 a float no longer holds every integer.
MAX_COUNT = 2.0**53
#: The most intervals a counts trace may span: 20 million (38 years of minutes, 231 days of
#: seconds) is 160 MB of counts, past which a stray timestamp is far likelier than data.
MAX_INTERVALS = 20_000_000
_SECONDS_PER_YEAR = 365.2425 * 86400
_UNITS = (("milliseconds", "1000"), ("microseconds", "1000000"), ("nanoseconds", "1000000000"))


@dataclass(frozen=True)
class Grid:
    """Counts on a regular grid: ``counts[k]`` requests from ``start_s + k * bin_s``."""

    start_s: float
    bin_s: float
    counts: np.ndarray
    remarks: tuple[str, ...]


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse an unknown repair option."""
    if value not in allowed:
        raise InputError(f"{name} = {value!r} is not an option; use one of {', '.join(allowed)}")


def epoch_problem(seconds: float, numeric: bool = True) -> str | None:
    """What is wrong with a timestamp (as epoch seconds), or None when it is in 1970-2200.

    A number (``numeric``) past 2200 that fits as milliseconds (or micro-, nanoseconds)
    says so, since that is almost always what it is.
    """
    if not math.isfinite(seconds):
        return "is not a finite number of epoch seconds; fix or remove it"
    if seconds < 0:
        return f"is before 1970; lfvsim takes times from 1970 to {_YEAR_END}: fix it"
    if seconds < EPOCH_MAX_S:
        return None
    years = seconds / _SECONDS_PER_YEAR
    if not numeric:
        return f"is after {_YEAR_END}; lfvsim takes times from 1970 to {_YEAR_END}: fix it"
    year = f"in the year {1970 + int(years):,}" if years < 1e6 else f"{years:.2g} years after 1970"
    for unit, per_second in _UNITS:
        if seconds / float(per_second) < EPOCH_MAX_S:
            return (
                f"read as epoch seconds is {year}; it looks like {unit}: divide "
                f"by {per_second} or write ISO 8601 (2026-01-05T10:00:00Z)"
            )
    return f"read as epoch seconds is {year}; lfvsim takes times from 1970 to {_YEAR_END}: fix it"


def check_epochs(
    seconds: np.ndarray,
    where: Callable[[int], str],
    cell: Callable[[int], str],
    numeric: Callable[[int], bool] = lambda i: True,
) -> None:
    """Refuse timestamps outside 1970-2200.

    ``where(i)`` and ``cell(i)`` name point ``i``; ``numeric(i)`` tells whether it was
    written as a number (then a unit mistake is named).
    """
    seconds = np.asarray(seconds, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(seconds) | (seconds < 0) | (seconds >= EPOCH_MAX_S)
    if bad.any():
        i = int(np.argmax(bad))
        problem = epoch_problem(float(seconds[i]), numeric(i))
        raise InputError(f"{where(i)}: timestamp {cell(i)} {problem}")


def epoch_timestamp(seconds: float) -> pd.Timestamp:
    """Epoch seconds as a UTC timestamp, rounded to the microsecond."""
    return pd.Timestamp(round(seconds * 1e6), unit="us", tz="UTC")


def fmt_time(seconds: float) -> str:
    """Epoch seconds as ``2026-01-05T10:03:00Z`` (with a fraction when there is one)."""
    ts = pd.Timestamp(seconds, unit="s", tz="UTC")
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    if ts.microsecond or ts.nanosecond:
        text += f"{ts.microsecond / 1e6:.6f}".lstrip("0").rstrip("0")
    return text + "Z"


def counts_from_points(
    seconds: np.ndarray,
    values: np.ndarray,
    *,
    label: str,
    where: Callable[[int], str],
    fill_gaps: FillGaps = "error",
    duplicates: Duplicates = "error",
    unsorted: Unsorted = "error",
    period_s: float | None = None,
    any_order: bool = False,
    window_s: tuple[float, float] | None = None,
    what: str = "row",
) -> Grid:
    """Check timestamped counts and lay them on a grid of fixed intervals.

    Parameters
    ----------
    seconds : ndarray of float
        Start of each point's interval, epoch seconds.
    values : ndarray of float
        Requests in the interval; NaN means missing.
    label : str
        The file(s), first in every message.
    where : callable
        ``where(i)`` names point ``i`` in a message, file included (``"a.csv: row 7"``).
    fill_gaps : {'error', 'zero'}
        Missing intervals (and missing counts) are errors, or count as 0.
    duplicates : {'error', 'sum', 'first'}
        Several points with one timestamp are an error, are added up, or the first is kept.
    unsorted : {'error', 'sort'}
        Points out of time order are an error, or are sorted.
    period_s : float, optional
        Interval length; default: the smallest step between points.
    any_order : bool
        The format lists points in any order (CloudWatch): sort without a remark.
    window_s : (float, float), optional
        The grid must cover this span (epoch seconds); missing intervals at its edges are
        gaps.
    what : str
        What one point is called in remarks ("row", "datapoint").

    Returns
    -------
    Grid
    """
    check_choice("fill_gaps", fill_gaps, FILL_GAPS)
    check_choice("duplicates", duplicates, DUPLICATES)
    check_choice("unsorted", unsorted, UNSORTED)
    pts = _Points(
        np.asarray(seconds, dtype=float),
        np.asarray(values, dtype=float),
        np.arange(len(seconds)),
        label,
        where,
        what,
    )
    remarks: list[str] = []
    pts = _checked_counts(pts, fill_gaps, remarks)
    pts = _in_time_order(pts, unsorted, any_order, remarks)
    pts = _without_duplicates(pts, duplicates, remarks)
    bin_s = _interval(pts, period_s)
    return _on_grid(pts, bin_s, window_s, fill_gaps, remarks)


@dataclass(frozen=True)
class _Points:
    """Points on their way to a grid, with what names them in a message."""

    seconds: np.ndarray
    values: np.ndarray
    index: np.ndarray
    """Each point's position in the input, for ``where``."""
    label: str
    where: Callable[[int], str]
    what: str

    def keep(self, order: np.ndarray, values: np.ndarray | None = None) -> _Points:
        """The points at ``order`` (with new ``values`` when given)."""
        kept = self.values[order] if values is None else values
        return replace(self, seconds=self.seconds[order], values=kept, index=self.index[order])


def _checked_counts(pts: _Points, fill_gaps: FillGaps, remarks: list[str]) -> _Points:
    """Counts are non-negative integers; a missing one is an error or 0."""
    seconds, values, where = pts.seconds, pts.values, pts.where
    check_epochs(seconds, where, lambda i: f"{seconds[i]:g}")
    with np.errstate(invalid="ignore"):
        huge = values > MAX_COUNT
        bad = ~np.isnan(values) & (
            ~np.isfinite(values) | (values < 0) | (np.abs(values - np.round(values)) > _TOL)
        )
    if (bad & ~huge).any():
        i = int(np.argmax(bad & ~huge))
        raise InputError(
            f"{where(i)}: count {values[i]:g} at {fmt_time(seconds[i])} is not a "
            "non-negative integer; fix or remove it"
        )
    if huge.any():
        i = int(np.argmax(huge))
        problem = (
            "is not a finite count"
            if np.isinf(values[i])
            else f"is too large (more than 2^53 = {MAX_COUNT:.3g} requests in one interval)"
        )
        raise InputError(
            f"{where(i)}: count {values[i]:g} at {fmt_time(seconds[i])} {problem}; fix or remove it"
        )
    missing = np.isnan(values)  # NaN is a missing count; inf was refused above
    if not missing.any():
        return pts
    i = int(np.argmax(missing))
    if fill_gaps != "zero":
        raise InputError(
            f"{where(i)}: count is missing at {fmt_time(seconds[i])}; fill it in, "
            "or pass --fill-gaps zero (fill_gaps = 'zero' in [traffic]) to count missing "
            "intervals as 0"
        )
    remarks.append(
        f"{pts.label}: {_n(int(missing.sum()), pts.what)} without a count (first at "
        f"{fmt_time(seconds[i])}) counted as 0 (fill_gaps = 'zero')"
    )
    return replace(pts, values=np.where(missing, 0.0, values))


def _in_time_order(
    pts: _Points, unsorted: Unsorted, any_order: bool, remarks: list[str]
) -> _Points:
    """Points sorted by time; out of order is an error unless the format allows it."""
    back = np.diff(pts.seconds) < 0
    if not back.any():
        return pts
    if not any_order and unsorted != "sort":
        k = int(np.argmax(back)) + 1
        raise InputError(
            f"{pts.where(int(pts.index[k]))}: timestamp {fmt_time(pts.seconds[k])} is earlier "
            "than the one before; sort the file by timestamp, or pass unsorted = 'sort' "
            "in [traffic] (--unsorted sort in lfvsim trace)"
        )
    if not any_order:
        remarks.append(
            f"{pts.label}: {_n(int(back.sum()), pts.what)} out of time order, sorted "
            "(unsorted = 'sort')"
        )
    return pts.keep(np.argsort(pts.seconds, kind="stable"))


def _without_duplicates(pts: _Points, duplicates: Duplicates, remarks: list[str]) -> _Points:
    """One point per timestamp: duplicates are an error, added up, or the first kept."""
    same = np.diff(pts.seconds) == 0
    if not same.any():
        return pts
    k = int(np.argmax(same)) + 1
    if duplicates == "error":
        raise InputError(
            f"{pts.where(int(pts.index[k]))}: duplicate timestamp {fmt_time(pts.seconds[k])}; "
            "merge the rows into one count, or pass duplicates = 'sum' (or 'first')"
        )
    group = np.flatnonzero(np.concatenate(([True], ~same)))
    if duplicates == "sum":
        values = np.add.reduceat(pts.values, group)
        how = "added up"
    else:
        values = pts.values[group]
        how = "the first kept"
    remarks.append(
        f"{pts.label}: {_n(int(same.sum()), 'duplicate timestamp')} (first "
        f"{fmt_time(pts.seconds[k])}) {how} (duplicates = '{duplicates}')"
    )
    return pts.keep(group, values)


def _interval(pts: _Points, period_s: float | None) -> float:
    """The grid's interval (s): given, else the smallest step between points."""
    if period_s is not None:
        if not period_s > 0:
            raise InputError(f"{pts.label}: period_s = {period_s} is not positive")
        return float(period_s)
    steps = np.diff(pts.seconds)
    if len(steps) == 0:
        # Only a CloudWatch export takes its period from the user (period_s, --period-s).
        given = " or give the interval (period_s)" if pts.what == "datapoint" else ""
        raise InputError(
            f"{pts.label}: a counts trace needs at least two {pts.what}s to know its "
            f"interval; add {pts.what}s{given}"
        )
    # Epoch seconds carry about 0.2 us of rounding: the interval is kept to 1 us.
    interval_s = round(float(steps.min()), 6)
    if interval_s <= 0:
        # Steps under 0.5 us round to 0, which no grid can hold.
        raise InputError(
            f"{pts.label}: {pts.what}s {float(steps.min()):g} s apart, closer than the 1 us "
            "lfvsim resolves; check the timestamps (epoch seconds or ISO 8601)"
        )
    return interval_s


def _on_grid(
    pts: _Points,
    bin_s: float,
    window_s: tuple[float, float] | None,
    fill_gaps: FillGaps,
    remarks: list[str],
) -> Grid:
    """Lay the points on the grid; a missing interval is an error or 0."""
    seconds, index, label = pts.seconds, pts.index, pts.label
    lo = seconds[0]
    hi = seconds[-1] + bin_s
    if window_s is not None:
        w_lo, w_hi = window_s
        if seconds[0] < w_lo - _TOL or seconds[-1] >= w_hi:
            raise InputError(f"{label}: {pts.what}s outside the requested time range; check it")
        lo = seconds[0] - math.floor((seconds[0] - w_lo) / bin_s + _TOL) * bin_s
        hi = max(hi, w_hi)
    pos = (seconds - lo) / bin_s
    off_grid = np.abs(pos - np.round(pos)) > _TOL * max(1.0, float(np.abs(pos).max()))
    if off_grid.any():
        k = int(np.argmax(off_grid))
        raise InputError(
            f"{pts.where(int(index[k]))}: timestamp {fmt_time(seconds[k])} is not on the "
            f"{bin_s:g} s grid of the trace (which starts {fmt_time(lo)}); fix the row, or give "
            "the right interval"
        )
    n_float = max(float(np.round(pos[-1])) + 1, math.ceil((hi - lo) / bin_s - _TOL))
    if n_float > MAX_INTERVALS:
        # Usually one stray timestamp far from the rest; refuse before allocating the grid.
        raise InputError(
            f"{label}: the points span {n_float:,.0f} intervals of {bin_s:g} s ({fmt_time(lo)} "
            f"to {fmt_time(hi)}), more than {MAX_INTERVALS:,}; look for a stray timestamp, or "
            "count the trace in longer intervals"
        )
    slot = np.round(pos).astype(np.int64)
    n = max(int(slot[-1]) + 1, math.ceil((hi - lo) / bin_s - _TOL))
    filled = n - len(slot)
    if filled:
        gap = np.flatnonzero(np.diff(np.concatenate(([-1], slot, [n]))) > 1)[0]
        at = lo + (slot[gap - 1] + 1 if gap > 0 else 0) * bin_s
        if fill_gaps != "zero":
            k = int(index[min(gap, len(index) - 1)])
            where_text = pts.where(k) if gap < len(slot) else label
            raise InputError(
                f"{where_text}: gap: no count for {fmt_time(at)} in a trace of "
                f"{bin_s:g} s intervals; add the missing rows with count 0, or pass "
                "--fill-gaps zero (fill_gaps = 'zero' in [traffic]) to count them as 0"
            )
        remarks.append(
            f"{label}: {_n(filled, 'missing interval')} of {bin_s:g} s (first at "
            f"{fmt_time(at)}) filled with count 0 (fill_gaps = 'zero')"
        )
    counts = np.zeros(n, np.int64)
    counts[slot] = np.round(pts.values).astype(np.int64)
    return Grid(float(lo), bin_s, counts, tuple(remarks))


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
