"""Synthetic traffic: seeded rates that vary in time, and modifiers that reshape any trace.

Generators return a :class:`~lfvsim.traces.model.RateTrace` (a Poisson rate per minute):

- :func:`constant`: one rate;
- :func:`diurnal`: a daily sine wave with a peak hour and a peak-to-trough ratio;
- :func:`factory`: production shifts on a weekly calendar in a local time zone, with breaks,
  holidays and random line stops.

Modifiers take a rate or counts trace and return the same kind, reshaped:

- :func:`spikes`: random surges of a given height and length;
- :func:`growth`: a compound growth trend;
- :func:`noise`: random variation of the rate from minute to minute.

Everything random here is drawn once from the ``seed`` argument, so the same arguments give
the same trace; the arrivals themselves are drawn later, from the run's seed.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.model import CountTrace, RateTrace

__all__ = [
    "constant",
    "diurnal",
    "factory",
    "growth",
    "noise",
    "parse_holidays",
    "parse_windows",
    "spikes",
]

DAY_S = 86400.0
#: A month, for growth rates: 30 days.
MONTH_S = 30 * DAY_S


def constant(
    rate_tps: float, duration_h: float, start: datetime | str, bin_s: float = 60.0
) -> RateTrace:
    """Poisson arrivals at ``rate_tps`` requests per second for ``duration_h`` hours."""
    if not rate_tps >= 0:
        raise InputError(f"rate_tps = {rate_tps} is negative; use 0 or more")
    bins = _bins(duration_h, bin_s)
    return RateTrace(
        utc(start),
        bin_s,
        np.full(bins, float(rate_tps)),
        source=f"constant {rate_tps:g} TPS",
        end_s=duration_h * 3600.0,
    )


def diurnal(
    mean_tps: float,
    peak_to_trough: float,
    peak_hour_utc: float,
    duration_h: float,
    start: datetime | str,
    bin_s: float = 60.0,
) -> RateTrace:
    """Poisson arrivals whose rate follows a daily sine wave.

    The rate is ``mean_tps * (1 + a cos(2 pi (hour - peak_hour_utc) / 24))`` with ``a``
    chosen so that the peak rate is ``peak_to_trough`` times the lowest; piecewise constant
    per interval of ``bin_s`` seconds.
    """
    if not peak_to_trough >= 1:
        raise InputError(f"peak_to_trough = {peak_to_trough} is below 1; use 1 or more")
    bins = _bins(duration_h, bin_s)
    t0 = utc(start)
    amplitude = (peak_to_trough - 1) / (peak_to_trough + 1)
    start_hour = t0.hour + t0.minute / 60 + t0.second / 3600
    hours = start_hour + (np.arange(bins) + 0.5) / (3600.0 / bin_s)
    rates = mean_tps * (1 + amplitude * np.cos(2 * np.pi * (hours - peak_hour_utc) / 24))
    desc = (
        f"diurnal mean {mean_tps:g} TPS, peak/trough {peak_to_trough:g} at {peak_hour_utc:g}h UTC"
    )
    return RateTrace(t0, bin_s, rates, source=desc, end_s=duration_h * 3600.0)


def factory(
    peak_tps: float,
    duration_h: float,
    start: datetime | str,
    *,
    weekday_shifts: str = "06:00-14:00,14:00-22:00",
    saturday_shifts: str = "",
    sunday_shifts: str = "",
    breaks: str = "",
    holidays: str = "",
    timezone: str = "UTC",
    idle_tps: float = 0.0,
    line_stops_per_day: float = 0.0,
    line_stop_mean_min: float = 20.0,
    seed: int = 0,
    bin_s: float = 60.0,
) -> RateTrace:
    """Traffic of a production line that runs in shifts on a weekly calendar.

    Parameters
    ----------
    peak_tps : float
        Requests per second while a shift runs at full rate.
    duration_h : float
        Length of the trace in hours.
    start : datetime or str
        Start of the trace (naive: UTC).
    weekday_shifts, saturday_shifts, sunday_shifts : str
        Shift windows in local time, comma-separated ``HH:MM-HH:MM``, each optionally
        followed by ``@factor``, its rate as a fraction of ``peak_tps`` (default 1). A window
        whose end is not after its start runs past midnight and belongs to the day it
        starts. Empty: the line does not run that day. Where windows overlap, the higher
        rate applies.
    breaks : str
        Windows (``HH:MM-HH:MM``, local) of every day in which the line stops.
    holidays : str
        Comma-separated dates (``YYYY-MM-DD``, local) on which no shift starts.
    timezone : str
        IANA time zone of the calendar (``Europe/Berlin``); daylight saving time is applied.
    idle_tps : float
        Requests per second when the line does not run (test images, other clients).
    line_stops_per_day : float
        Mean number of unplanned line stops per production day; each starts at a random
        minute of that day's shifts.
    line_stop_mean_min : float
        Mean length of a line stop in minutes (exponential).
    seed : int
        Seed of the line stops.
    bin_s : float
        Interval of the rate in seconds (at most 60 s steps follow the calendar exactly).

    Returns
    -------
    RateTrace
    """
    if not peak_tps >= 0 or not idle_tps >= 0:
        raise InputError("peak_tps and idle_tps must be 0 or more")
    calendars = [
        parse_windows(weekday_shifts, "weekday_shifts"),
        parse_windows(saturday_shifts, "saturday_shifts"),
        parse_windows(sunday_shifts, "sunday_shifts"),
    ]
    pauses = parse_windows(breaks, "breaks")
    closed = parse_holidays(holidays)
    bins = _bins(duration_h, bin_s)
    t0 = utc(start)
    factor, shift_day, working = _calendar(
        t0, bins, bin_s, zone(timezone), calendars, pauses, closed
    )
    stops = _line_stops(
        factor, shift_day, working, line_stops_per_day, line_stop_mean_min, seed, bin_s
    )
    rates = np.where(factor > 0, peak_tps * factor, idle_tps)
    desc = f"factory peak {peak_tps:g} TPS, weekdays {weekday_shifts or 'closed'}"
    if saturday_shifts:
        desc += f", Saturday {saturday_shifts}"
    if sunday_shifts:
        desc += f", Sunday {sunday_shifts}"
    desc += f" ({timezone})"
    remarks: tuple[str, ...] = ()
    if stops:
        remarks = (
            f"{stops} random line stops of mean {line_stop_mean_min:g} min (seed {seed}) are "
            "in the factory calendar",
        )
    return RateTrace(t0, bin_s, rates, source=desc, remarks=remarks, end_s=duration_h * 3600.0)


def _calendar(
    t0: pd.Timestamp,
    bins: int,
    bin_s: float,
    tz: ZoneInfo,
    calendars: list[list[tuple[float, float, float]]],
    pauses: list[tuple[float, float, float]],
    closed: set[date],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each interval's share of the peak rate, its production day, and whether a shift
    covers it (breaks included: line stops may start in them).

    A shift that crosses midnight belongs to the production day it started on.
    """
    mid = pd.DatetimeIndex(t0 + pd.to_timedelta((np.arange(bins) + 0.5) * bin_s, unit="s"))
    local = mid.tz_convert(tz)
    minute = (local.hour * 60 + local.minute + local.second / 60).to_numpy(float)
    days = local.tz_localize(None).normalize()
    weekday = local.day_of_week.to_numpy()
    # numpy's stubs leave out arrays of date objects, which isin compares as objects.
    closed_days = np.array(sorted(closed), dtype=object)
    is_holiday = np.isin(days.date, closed_days) if closed else np.zeros(bins, bool)
    was_holiday = np.isin((days - pd.Timedelta(days=1)).date, closed_days) if closed else is_holiday

    factor = np.zeros(bins)
    shift_day = np.full(bins, -1, np.int64)  # production day index (days since epoch)
    day_no = (days - pd.Timestamp("1970-01-01")).days.to_numpy()
    for back, open_day in ((0, ~is_holiday), (1, ~was_holiday)):
        kind = _day_kind((weekday - back) % 7)
        for k, windows in enumerate(calendars):
            for lo, hi, f in windows:
                wraps = hi <= lo
                if back == 0:
                    inside = (minute >= lo) & ((minute < hi) | wraps)
                elif wraps:
                    inside = minute < hi
                else:
                    continue
                hit = inside & (kind == k) & open_day & (f > factor)
                factor[hit] = f
                shift_day[hit] = day_no[hit] - back
    working = factor > 0
    for lo, hi, _ in pauses:
        in_break = (minute >= lo) & (minute < hi) if hi > lo else (minute >= lo) | (minute < hi)
        factor[in_break] = 0.0
    return factor, shift_day, working


def _line_stops(
    factor: np.ndarray,
    shift_day: np.ndarray,
    working: np.ndarray,
    per_day: float,
    mean_min: float,
    seed: int,
    bin_s: float,
) -> int:
    """Stop the line (factor 0) at random in each production day; the number of stops."""
    stops = 0
    if per_day > 0 and working.any():
        if not mean_min > 0:
            raise InputError(f"line_stop_mean_min = {mean_min} is not positive")
        rng = np.random.default_rng(seed)
        for d in np.unique(shift_day[working]):
            where = np.flatnonzero(working & (shift_day == d))
            for _ in range(rng.poisson(per_day)):
                first = where[rng.integers(len(where))]
                length = max(1, round(rng.exponential(mean_min) * 60.0 / bin_s))
                factor[first : first + length] = 0.0
                stops += 1
    return stops


def spikes(
    trace: RateTrace | CountTrace,
    per_day: float,
    multiplier: float,
    duration_s: float,
    seed: int = 0,
) -> RateTrace | CountTrace:
    """Random traffic surges: the rate times ``multiplier`` for ``duration_s`` seconds.

    Surges start as a Poisson process at ``per_day`` a day; intervals partly covered get a
    proportional share of the extra rate, and overlapping surges add up.
    """
    if not per_day >= 0 or not multiplier >= 0 or not duration_s > 0:
        raise InputError(
            "spikes need per_day >= 0, multiplier >= 0 and duration_s > 0; "
            f"got {per_day}, {multiplier}, {duration_s}"
        )
    bin_s, n = _grid(trace)
    span = n * bin_s
    rng = np.random.default_rng(seed)
    count = rng.poisson(per_day * span / DAY_S)
    starts = np.sort(rng.uniform(0.0, span, count))
    edges = np.arange(n + 1) * bin_s
    cover = np.zeros(n)
    for s in starts:
        lo, hi = s, min(s + duration_s, span)
        j0, j1 = int(lo // bin_s), min(n, math.ceil(hi / bin_s))
        cover[j0:j1] += (np.minimum(edges[j0 + 1 : j1 + 1], hi) - np.maximum(edges[j0:j1], lo)) / (
            bin_s
        )
    factors = 1.0 + (multiplier - 1.0) * cover
    remark = (
        f"{count} random spikes x{multiplier:g} for {duration_s:g} s "
        f"({per_day:g} a day on average, seed {seed})"
    )
    return _modulated(trace, factors, f"spikes x{multiplier:g} {per_day:g}/day", remark)


def growth(trace: RateTrace | CountTrace, percent_per_month: float) -> RateTrace | CountTrace:
    """A compound growth trend: the rate times ``(1 + p/100) ** (t / 30 days)``."""
    if not percent_per_month > -100:
        raise InputError(f"growth of {percent_per_month}% a month is below -100%")
    bin_s, n = _grid(trace)
    t_mid = (np.arange(n) + 0.5) * bin_s
    factors = (1.0 + percent_per_month / 100.0) ** (t_mid / MONTH_S)
    remark = f"traffic grows {percent_per_month:g}% a month (compound, 30-day months)"
    return _modulated(trace, factors, f"growth {percent_per_month:+g}%/month", remark)


def noise(trace: RateTrace | CountTrace, cv: float, seed: int = 0) -> RateTrace | CountTrace:
    """Random variation: each interval's rate times a gamma variable of mean 1 and
    coefficient of variation ``cv``, independent from interval to interval."""
    if not cv >= 0:
        raise InputError(f"noise cv = {cv} is negative; use 0 or more")
    bin_s, n = _grid(trace)
    if cv == 0:
        return trace
    rng = np.random.default_rng(seed)
    factors = rng.gamma(1.0 / cv**2, cv**2, n)
    remark = f"rate noise with coefficient of variation {cv:g} per {bin_s:g} s (seed {seed})"
    return _modulated(trace, factors, f"noise cv {cv:g}", remark)


# --- calendars ------------------------------------------------------------------------------

_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s*@\s*([0-9.]+))?$")


def parse_windows(text: str, name: str | None = None) -> list[tuple[float, float, float]]:
    """``"06:00-14:00, 14:00-22:00@0.8"`` as ``[(360, 840, 1.0), (840, 1320, 0.8)]``.

    Minutes of the day (start, end) and the rate factor of each window; ``name`` (the
    option's) starts error messages.

    Raises
    ------
    InputError
        A window that is not ``HH:MM-HH:MM[@factor]`` or has a time past 24:00.
    """
    out = []
    name = f"{name}: " if name else ""
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = _WINDOW.match(part)
        if not m:
            raise InputError(
                f"{name}cannot read {part!r}; write windows as HH:MM-HH:MM or "
                "HH:MM-HH:MM@factor, separated by commas"
            )
        h0, m0, h1, m1, f = m.groups()
        lo, hi = int(h0) * 60 + int(m0), int(h1) * 60 + int(m1)
        if lo >= 1440 or hi > 1440 or int(m0) > 59 or int(m1) > 59:
            raise InputError(f"{name}{part!r} is not a time of day; use 00:00 to 24:00")
        factor = 1.0 if f is None else float(f)
        if not factor > 0:
            raise InputError(f"{name}{part!r} has a factor of 0; remove the window instead")
        if lo == hi and hi != 0:
            raise InputError(f"{name}{part!r} is empty; give an end after the start")
        out.append((float(lo), float(hi), factor))
    return out


def parse_holidays(text: str) -> set[date]:
    """``"2026-01-01, 2026-12-25"`` as a set of dates."""
    out = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.add(date.fromisoformat(part))
        except ValueError:
            raise InputError(
                f"holidays: cannot read {part!r}; write dates as YYYY-MM-DD, separated by commas"
            ) from None
    return out


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None


def utc(value: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """A time as a UTC timestamp (naive times are UTC)."""
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise InputError(f"cannot read time {value!r}; use ISO 8601, 2026-01-05T06:00Z") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _day_kind(weekday: np.ndarray) -> np.ndarray:
    """0 for Monday-Friday, 1 for Saturday, 2 for Sunday."""
    return np.where(weekday < 5, 0, weekday - 4)


# --- helpers --------------------------------------------------------------------------------


def _bins(duration_h: float, bin_s: float) -> int:
    if not bin_s > 0:
        raise InputError(f"bin_s = {bin_s} is not positive; use e.g. 60")
    bins = math.ceil(duration_h * (3600.0 / bin_s) - 1e-9)
    if bins < 1:
        raise InputError(
            f"duration_h = {duration_h} is shorter than one {bin_s:g} s interval; make it longer"
        )
    return bins


def _grid(trace: RateTrace | CountTrace) -> tuple[float, int]:
    if isinstance(trace, RateTrace):
        return trace.bin_s, len(trace.rates_tps)
    if isinstance(trace, CountTrace):
        return trace.bin_s, len(trace.counts)
    raise InputError(
        f"{type(trace).__name__} has no intervals to reshape; turn it into counts first "
        "(lfvsim.traces.to_counts)"
    )


def _modulated(
    trace: RateTrace | CountTrace, factors: np.ndarray, what: str, remark: str
) -> RateTrace | CountTrace:
    source = f"{trace.source}, {what}"
    remarks = (*trace.remarks, remark)
    if isinstance(trace, RateTrace):
        return replace(trace, rates_tps=trace.rates_tps * factors, source=source, remarks=remarks)
    scale = np.asarray(trace.scale, dtype=float) * factors
    return replace(trace, scale=scale, source=source, remarks=remarks)
