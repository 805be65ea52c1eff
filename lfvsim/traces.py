"""Traffic traces: readers, generators, and the arrival stream the engine replays.

Three kinds of trace, one interface:

- :class:`RequestTrace`: one arrival time per request, replayed as is.
- :class:`CountTrace`: exact counts per fixed interval; the arrivals of an interval are
  spread over it as a Poisson process given its count (sorted uniform times).
- :class:`RateTrace`: a Poisson rate per interval (synthetic traffic); counts are drawn.

Times inside lfvsim are seconds since the trace start; ``start`` is a UTC timestamp.
Arrivals are produced in blocks whose boundaries depend only on the trace, so the same
seed gives the same arrivals whatever the configuration (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from lfvsim.errors import InputError

__all__ = [
    "CountTrace",
    "RateTrace",
    "RequestTrace",
    "Trace",
    "constant",
    "diurnal",
    "read_csv_trace",
    "trace_from_scenario",
]

#: Aim for blocks of about this many seconds of traffic; fixed per trace.
BLOCK_S = 3600.0
#: Per-request traces are replayed in slices of this many requests.
REQUEST_BLOCK = 1 << 16


@dataclass(frozen=True)
class CountTrace:
    """Exact request counts per fixed interval.

    Attributes
    ----------
    start : pandas.Timestamp
        Start of the first interval (UTC).
    bin_s : float
        Interval length in seconds.
    counts : ndarray of int64
        Requests in each interval.
    scale : float
        Traffic multiplier: each count ``c`` becomes ``floor(scale) * c`` plus a binomial
        draw of ``c`` requests kept with probability ``scale - floor(scale)``.
    source : str
        Where the trace came from, for reports.
    """

    start: pd.Timestamp
    bin_s: float
    counts: np.ndarray
    scale: float = 1.0
    source: str = "counts"

    @property
    def duration_s(self) -> float:
        """Length of the trace in seconds."""
        return len(self.counts) * self.bin_s

    @property
    def expected_requests(self) -> float:
        """Mean number of requests over the whole trace."""
        return float(self.counts.sum()) * self.scale

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Sorted arrival times (s) in blocks, up to ``horizon_s``."""
        per_block = max(1, round(BLOCK_S / self.bin_s))
        last_bin = min(len(self.counts), math.ceil(horizon_s / self.bin_s))
        for j0 in range(0, last_bin, per_block):
            counts = _scaled(self.counts[j0 : min(j0 + per_block, last_bin)], self.scale, rng)
            times = spread_in_bins(counts, j0, self.bin_s, rng)
            yield times[times < horizon_s] if j0 + per_block >= last_bin else times


@dataclass(frozen=True)
class RateTrace:
    """A Poisson arrival rate per fixed interval (synthetic traffic).

    Attributes
    ----------
    start : pandas.Timestamp
        Start of the first interval (UTC).
    bin_s : float
        Interval length in seconds.
    rates_tps : ndarray of float
        Mean requests per second in each interval.
    source : str
        How the trace was made.
    """

    start: pd.Timestamp
    bin_s: float
    rates_tps: np.ndarray
    source: str = "rates"

    @property
    def duration_s(self) -> float:
        """Length of the trace in seconds."""
        return len(self.rates_tps) * self.bin_s

    @property
    def expected_requests(self) -> float:
        """Mean number of requests over the whole trace."""
        return float(self.rates_tps.sum() * self.bin_s)

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Sorted arrival times (s) in blocks, up to ``horizon_s``."""
        per_block = max(1, round(BLOCK_S / self.bin_s))
        last_bin = min(len(self.rates_tps), math.ceil(horizon_s / self.bin_s))
        for j0 in range(0, last_bin, per_block):
            rates = self.rates_tps[j0 : min(j0 + per_block, last_bin)]
            counts = rng.poisson(rates * self.bin_s)
            times = spread_in_bins(counts, j0, self.bin_s, rng)
            yield times[times < horizon_s] if j0 + per_block >= last_bin else times


@dataclass(frozen=True)
class RequestTrace:
    """One arrival time per request.

    Attributes
    ----------
    start : pandas.Timestamp
        Time zero of ``times_s`` (UTC), the first request's minute.
    times_s : ndarray of float64
        Sorted arrival times in seconds since ``start``.
    duration_s : float
        Length of the trace: whole minutes covering every request.
    source : str
        Where the trace came from.
    """

    start: pd.Timestamp
    times_s: np.ndarray
    duration_s: float
    source: str = "requests"

    @property
    def expected_requests(self) -> float:
        """Number of requests in the trace."""
        return float(len(self.times_s))

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Arrival times (s) in slices, up to ``horizon_s``; ``rng`` is not used."""
        end = int(np.searchsorted(self.times_s, horizon_s, side="left"))
        for i in range(0, end, REQUEST_BLOCK):
            yield self.times_s[i : min(i + REQUEST_BLOCK, end)]


Trace = CountTrace | RateTrace | RequestTrace


def spread_in_bins(
    counts: np.ndarray, first_bin: int, bin_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Sorted arrival times with exactly ``counts[k]`` arrivals uniform in bin ``k``.

    Uses exponential spacings: the partial sums of ``n + 1`` exponentials, divided by their
    total, are ``n`` sorted uniforms. This is O(n), with no sort.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n, nb = int(counts.sum()), len(counts)
    if n == 0:
        return np.empty(0)
    spacings = rng.standard_exponential(n + nb)
    csum = np.cumsum(spacings)
    seg_last = np.cumsum(counts + 1) - 1
    before = np.concatenate(([0.0], csum[seg_last[:-1]]))
    total = csum[seg_last] - before
    points = np.ones(n + nb, dtype=bool)
    points[seg_last] = False
    bin_of = np.repeat(np.arange(nb), counts)
    u = (csum[points] - before[bin_of]) / total[bin_of]
    return (first_bin + bin_of + u) * bin_s


def _scaled(counts: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    if scale == 1.0:
        return counts
    whole = math.floor(scale)
    return counts * whole + rng.binomial(counts, scale - whole)


# --- generators -------------------------------------------------------------------------


def constant(rate_tps: float, duration_h: float, start: datetime | str) -> RateTrace:
    """Poisson arrivals at ``rate_tps`` requests per second for ``duration_h`` hours."""
    bins = _minutes(duration_h)
    return RateTrace(
        _utc(start), 60.0, np.full(bins, float(rate_tps)), source=f"constant {rate_tps:g} TPS"
    )


def diurnal(
    mean_tps: float,
    peak_to_trough: float,
    peak_hour_utc: float,
    duration_h: float,
    start: datetime | str,
) -> RateTrace:
    """Poisson arrivals whose rate follows a daily sine wave.

    The rate is ``mean_tps * (1 + a cos(2 pi (hour - peak_hour_utc) / 24))`` with ``a``
    chosen so that the peak rate is ``peak_to_trough`` times the lowest; piecewise constant
    per minute.
    """
    bins = _minutes(duration_h)
    t0 = _utc(start)
    amplitude = (peak_to_trough - 1) / (peak_to_trough + 1)
    start_hour = t0.hour + t0.minute / 60 + t0.second / 3600
    hours = start_hour + (np.arange(bins) + 0.5) / 60.0
    rates = mean_tps * (1 + amplitude * np.cos(2 * np.pi * (hours - peak_hour_utc) / 24))
    desc = (
        f"diurnal mean {mean_tps:g} TPS, peak/trough {peak_to_trough:g} at {peak_hour_utc:g}h UTC"
    )
    return RateTrace(t0, 60.0, rates, source=desc)


def _minutes(duration_h: float) -> int:
    bins = math.ceil(duration_h * 60 - 1e-9)
    if bins < 1:
        raise InputError(f"duration_h = {duration_h} is shorter than a minute; use at least 1/60")
    return bins


def _utc(value: datetime | str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# --- readers ----------------------------------------------------------------------------

_TIME_COLUMNS = ("timestamp", "time", "period")


def read_csv_trace(path: str | Path, scale: float = 1.0) -> CountTrace | RequestTrace:
    """Read a CSV trace.

    Two layouts are recognised by their header:

    - ``timestamp``: one row per request;
    - ``timestamp,count``: requests per interval, at any fixed interval.

    The time column may also be called ``time`` or ``period``. Timestamps are ISO 8601
    (naive ones are UTC) or epoch seconds.

    Raises
    ------
    InputError
        Missing file, no rows, unparseable or negative timestamps, unsorted rows,
        irregular intervals, or invalid counts; the message names the row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"trace file '{path}' does not exist; check the path")
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a readable CSV ({reason}); check the file") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    time_col = next((c for c in _TIME_COLUMNS if c in frame.columns), None)
    if time_col is None:
        raise InputError(
            f"{path}: no time column (found {', '.join(frame.columns) or 'none'}); "
            "name it 'timestamp'"
        )
    if frame.empty:
        raise InputError(f"{path}: the trace has no rows; give at least one request")
    seconds = _epoch_seconds(frame[time_col], path)
    _check_sorted(seconds, path)
    if "count" in frame.columns:
        return _counts_trace(seconds, frame["count"], path, scale)
    if scale != 1.0:
        raise InputError(
            f"{path}: traffic.scale applies to counts traces only; remove it for per-request traces"
        )
    start_s = math.floor(seconds[0] / 60.0) * 60.0
    times = seconds - start_s
    duration = (math.floor(times[-1] / 60.0) + 1) * 60.0
    return RequestTrace(_from_epoch(start_s), times, duration, source=str(path))


def _counts_trace(seconds: np.ndarray, col: pd.Series, path: Path, scale: float) -> CountTrace:
    counts = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{path}: row {row + 2}: count {_cell(col.iloc[row])} is not a non-negative integer; "
            "fix or remove the row"
        )
    if len(seconds) == 1:
        raise InputError(
            f"{path}: a counts trace needs at least two rows to know its interval; add rows"
        )
    steps = np.diff(seconds)
    dup = steps == 0
    if dup.any():
        row = int(np.argmax(dup)) + 1
        raise InputError(
            f"{path}: row {row + 2}: duplicate timestamp {_from_epoch(seconds[row])}; "
            "merge the rows into one count"
        )
    bin_s = float(steps.min())
    irregular = np.abs(steps - bin_s) > 1e-6 * bin_s
    if irregular.any():
        row = int(np.argmax(irregular)) + 1
        raise InputError(
            f"{path}: row {row + 2}: gap of {steps[row - 1]:g} s at {_from_epoch(seconds[row])} "
            f"in a trace of {bin_s:g} s intervals; add the missing rows with count 0"
        )
    return CountTrace(
        _from_epoch(seconds[0]), bin_s, counts.astype(np.int64), scale=scale, source=str(path)
    )


def _epoch_seconds(col: pd.Series, path: Path) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(
                f"{path}: row {row + 2}: timestamp {_cell(col.iloc[row])} is not a non-negative "
                "epoch second; fix or remove the row"
            )
        return values
    try:
        parsed = pd.to_datetime(col, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(col, utc=True, format="ISO8601", errors="coerce")
        if not parsed.isna().any():  # every row parses alone: a mix of zones and none
            raise InputError(
                f"{path}: timestamps mix time zones with naive times; give every row an offset"
            ) from None
    if parsed.isna().any():
        row = int(np.argmax(parsed.isna().to_numpy()))
        raise InputError(
            f"{path}: row {row + 2}: cannot read timestamp {_cell(col.iloc[row])}; use ISO 8601 "
            "(2026-01-05T10:00:00Z) or epoch seconds"
        )
    values = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    if (values < 0).any():
        row = int(np.argmax(values < 0))
        raise InputError(
            f"{path}: row {row + 2}: timestamp {_cell(col.iloc[row])} is before 1970; fix the row"
        )
    return values


def _check_sorted(seconds: np.ndarray, path: Path) -> None:
    back = np.diff(seconds) < 0
    if back.any():
        row = int(np.argmax(back)) + 1
        raise InputError(
            f"{path}: row {row + 2}: timestamp {_from_epoch(seconds[row])} is earlier than the "
            "row before; sort the file by timestamp"
        )


def _from_epoch(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def trace_from_scenario(scenario) -> Trace:
    """The trace a scenario's ``[traffic]`` section describes."""
    t = scenario.traffic
    if t.kind == "csv":
        path = Path(t.path)
        return read_csv_trace(path if path.is_absolute() else scenario.base_dir / path, t.scale)
    if t.kind == "constant":
        return constant(t.rate_tps, t.duration_h, t.start)
    return diurnal(t.mean_tps, t.peak_to_trough, t.peak_hour_utc, t.duration_h, t.start)


def _cell(value: object) -> str:
    """A CSV cell as the user wrote it."""
    return repr(value) if isinstance(value, str) else str(value)
