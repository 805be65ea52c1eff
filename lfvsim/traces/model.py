"""Traffic traces: the arrival streams the engine replays.

Five kinds of trace, one interface:

- :class:`RequestTrace`: one arrival time per request, held in memory, replayed as is.
- :class:`StreamedRequestTrace`: the same, read from disk in chunks at every replay (a
  trace of 100 million requests in bounded memory).
- :class:`CountTrace`: exact counts per fixed interval; an arrival model
  (:mod:`lfvsim.traces.arrivals`) places each interval's requests inside it.
- :class:`RateTrace`: a Poisson rate per interval (synthetic traffic); counts are drawn,
  then placed by the arrival model.
- :class:`SuperposedTrace`: several traces at once (their arrivals merged).

Every trace has ``start`` (UTC), ``duration_s``, ``source``, ``expected_requests``,
``notes`` (what was assumed or repaired, for the run's report) and
``blocks(rng, horizon_s)``, which yields sorted float64 arrays of arrival times in seconds
since ``start``. Block boundaries and the use of ``rng`` depend only on the trace, so the
same seed gives the same arrivals whatever the unit configuration (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, cast, runtime_checkable

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.arrivals import Arrivals, PoissonArrivals, spread_in_bins

__all__ = [
    "CountTrace",
    "RateTrace",
    "RequestTrace",
    "StreamedRequestTrace",
    "SuperposedTrace",
    "Trace",
    "busiest_hour_bound",
    "spread_in_bins",
]

#: Aim for blocks of about this many seconds of traffic; fixed per trace.
BLOCK_S = 3600.0
#: Per-request traces are replayed in slices of this many requests.
REQUEST_BLOCK = 1 << 16


def busiest_hour_bound(hours: np.ndarray, counts: np.ndarray) -> float:
    """An upper bound of the requests in any 3600 s window, from requests per hour.

    Parameters
    ----------
    hours : ndarray of int
        Hour numbers (e.g. ``floor(epoch_s / 3600)``), each once, in any order.
    counts : ndarray
        Requests in each of those hours.

    Returns
    -------
    float
        The largest sum of two consecutive hours' requests: a window of 3600 s meets at
        most two consecutive hours, so no window holds more (and the bound is at most
        twice the true busiest window).
    """
    if len(hours) == 0:
        return 0.0
    order = np.argsort(hours, kind="stable")
    hours = np.asarray(hours)[order]
    counts = np.asarray(counts, dtype=float)[order]
    pairs = counts.copy()
    followed = np.flatnonzero(np.diff(hours) == 1)
    pairs[followed] += counts[followed + 1]
    return float(pairs.max())


@runtime_checkable
class Trace(Protocol):
    """What the engine needs from a trace."""

    # Read-only, so that the frozen dataclasses below satisfy the protocol.
    @property
    def start(self) -> pd.Timestamp:
        """UTC time of the trace's first instant."""

    @property
    def source(self) -> str:
        """Where the traffic came from, for the report."""

    @property
    def duration_s(self) -> float:
        """Length of the trace in seconds."""

    @property
    def expected_requests(self) -> float:
        """Mean number of requests over the whole trace."""

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Sorted arrival times (s since ``start``) in blocks, up to ``horizon_s``."""


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
    scale : float or ndarray of float
        Traffic multiplier, one for the whole trace or one per interval: each count ``c``
        becomes ``floor(scale) * c`` plus a binomial draw of ``c`` requests kept with
        probability ``scale - floor(scale)``.
    source : str
        Where the trace came from, for reports.
    arrivals : Arrivals
        How an interval's requests are placed inside it (default: Poisson).
    remarks : tuple of str
        What reading the trace assumed or repaired; part of :attr:`notes`.
    """

    start: pd.Timestamp
    bin_s: float
    counts: np.ndarray
    scale: float | np.ndarray = 1.0
    source: str = "counts"
    arrivals: Arrivals = field(default_factory=PoissonArrivals)
    remarks: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        """Length of the trace in seconds."""
        return len(self.counts) * self.bin_s

    @property
    def expected_requests(self) -> float:
        """Mean number of requests over the whole trace."""
        return float(np.sum(self.counts * np.asarray(self.scale, dtype=float)))

    @property
    def notes(self) -> tuple[str, ...]:
        """What was assumed or repaired, for the run's report."""
        return (
            *self.remarks,
            f"assumed: arrivals inside each {self.bin_s:g} s interval of the trace are "
            f"{self.arrivals.describe()} (traffic.arrivals; `lfvsim trace compare-arrivals` "
            "shows how much this moves the result)",
        )

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Sorted arrival times (s) in blocks, up to ``horizon_s``."""
        per_block = max(1, round(BLOCK_S / self.bin_s))
        last_bin = min(len(self.counts), math.ceil(horizon_s / self.bin_s))
        for j0 in range(0, last_bin, per_block):
            j1 = min(j0 + per_block, last_bin)
            scale = self.scale if np.ndim(self.scale) == 0 else cast(np.ndarray, self.scale)[j0:j1]
            counts = _scaled(self.counts[j0:j1], scale, rng)
            times = self.arrivals.place(counts, j0, self.bin_s, rng)
            yield times[times < horizon_s] if j1 >= last_bin else times


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
    arrivals : Arrivals
        How an interval's requests are placed inside it (default: Poisson, which makes the
        trace a Poisson process with a piecewise constant rate).
    remarks : tuple of str
        What making the trace assumed; part of :attr:`notes`.
    end_s : float, optional
        Where the trace ends when that is inside its last interval (a synthetic
        ``duration_h`` that is not a whole number of intervals). Ignored once the number of
        intervals no longer matches (a trace repeated or merged into a longer one).
    """

    start: pd.Timestamp
    bin_s: float
    rates_tps: np.ndarray
    source: str = "rates"
    arrivals: Arrivals = field(default_factory=PoissonArrivals)
    remarks: tuple[str, ...] = ()
    end_s: float | None = None

    @property
    def duration_s(self) -> float:
        """Length of the trace in seconds."""
        whole_s = len(self.rates_tps) * self.bin_s
        if self.end_s is None or math.ceil(self.end_s / self.bin_s - 1e-9) != len(self.rates_tps):
            return whole_s
        return min(self.end_s, whole_s)

    @property
    def expected_requests(self) -> float:
        """Mean number of requests over the whole trace."""
        total = float(self.rates_tps.sum() * self.bin_s)
        cut_s = len(self.rates_tps) * self.bin_s - self.duration_s
        return total - float(self.rates_tps[-1]) * cut_s if cut_s > 0 else total

    @property
    def notes(self) -> tuple[str, ...]:
        """What was assumed, for the run's report."""
        if isinstance(self.arrivals, PoissonArrivals):
            return self.remarks
        return (
            *self.remarks,
            f"arrivals inside each {self.bin_s:g} s interval are {self.arrivals.describe()}",
        )

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Sorted arrival times (s) in blocks, up to ``horizon_s``."""
        per_block = max(1, round(BLOCK_S / self.bin_s))
        # Arrivals past a partial last interval are drawn, then dropped: the same Poisson
        # process cut at the trace's end.
        horizon_s = min(horizon_s, self.duration_s)
        last_bin = min(len(self.rates_tps), math.ceil(horizon_s / self.bin_s))
        for j0 in range(0, last_bin, per_block):
            j1 = min(j0 + per_block, last_bin)
            counts = rng.poisson(self.rates_tps[j0:j1] * self.bin_s)
            times = self.arrivals.place(counts, j0, self.bin_s, rng)
            yield times[times < horizon_s] if j1 >= last_bin else times


@dataclass(frozen=True)
class RequestTrace:
    """One arrival time per request, in memory.

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
    remarks : tuple of str
        What reading the trace assumed or repaired; the trace's :attr:`notes`.
    """

    start: pd.Timestamp
    times_s: np.ndarray
    duration_s: float
    source: str = "requests"
    remarks: tuple[str, ...] = ()

    @property
    def expected_requests(self) -> float:
        """Number of requests in the trace."""
        return float(len(self.times_s))

    @property
    def notes(self) -> tuple[str, ...]:
        """What was assumed or repaired, for the run's report."""
        return self.remarks

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Arrival times (s) in slices, up to ``horizon_s``; ``rng`` is not used."""
        end = int(np.searchsorted(self.times_s, horizon_s, side="left"))
        for i in range(0, end, REQUEST_BLOCK):
            yield self.times_s[i : min(i + REQUEST_BLOCK, end)]


@dataclass(frozen=True)
class StreamedRequestTrace:
    """One arrival time per request, read from a file in chunks at every replay.

    Memory stays bounded by the chunk size whatever the number of requests. The file was
    checked once when the trace was made (sorted, valid times); a replay that finds it
    changed stops with an error.

    Attributes
    ----------
    start : pandas.Timestamp
        Time zero of the trace (UTC).
    duration_s : float
        Length of the trace in seconds.
    requests : int
        Requests inside ``[window_lo_s, window_hi_s)``.
    read_epochs : callable
        Returns a fresh iterator over the file's arrival times, in chunks of epoch seconds.
    epoch0_s : float
        The epoch second that is time zero of the trace.
    window_lo_s, window_hi_s : float
        Only requests in this window (s since ``start``) are replayed.
    source : str
        The file.
    remarks : tuple of str
        What reading the trace assumed; the trace's :attr:`notes`.
    peak_requests_per_hour : float
        Most requests of the file in any 3600 s window, or an upper bound of it
        (:func:`busiest_hour_bound`, counted when the file was read); inf: unknown.
    """

    start: pd.Timestamp
    duration_s: float
    requests: int
    read_epochs: Callable[[], Iterator[np.ndarray]]
    epoch0_s: float
    window_lo_s: float = 0.0
    window_hi_s: float = math.inf
    source: str = "requests"
    remarks: tuple[str, ...] = ()
    peak_requests_per_hour: float = math.inf

    @property
    def expected_requests(self) -> float:
        """Number of requests in the trace."""
        return float(self.requests)

    @property
    def notes(self) -> tuple[str, ...]:
        """What was assumed, for the run's report."""
        return self.remarks

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Arrival times (s) in slices read from disk, up to ``horizon_s``; no ``rng``."""
        hi = min(self.window_hi_s, horizon_s)
        last = -math.inf
        for epochs in self.read_epochs():
            if len(epochs) == 0:
                continue
            if epochs[0] < last or (len(epochs) > 1 and np.any(np.diff(epochs) < 0)):
                raise InputError(
                    f"{self.source}: the file changed since it was read (rows out of order); "
                    "read it again"
                )
            last = float(epochs[-1])
            times = epochs - self.epoch0_s
            if times[-1] < self.window_lo_s:
                continue
            i0 = int(np.searchsorted(times, self.window_lo_s, side="left"))
            i1 = int(np.searchsorted(times, hi, side="left"))
            for i in range(i0, i1, REQUEST_BLOCK):
                yield times[i : min(i + REQUEST_BLOCK, i1)]
            if i1 < len(times):
                return


@dataclass(frozen=True)
class SuperposedTrace:
    """Several traces replayed together: their arrivals merged in time order.

    Each part draws from its own stream, spawned from the run's arrival stream in the order
    of ``parts``. Parts may start at different times; the superposition starts with the
    earliest and lasts until the last one ends.

    Attributes
    ----------
    parts : tuple of Trace
        The traces to merge.
    """

    parts: tuple
    source: str = ""

    def __post_init__(self) -> None:
        if not self.parts:
            raise InputError("superpose needs at least one trace")
        if not self.source:
            object.__setattr__(self, "source", " + ".join(p.source for p in self.parts))

    @property
    def start(self) -> pd.Timestamp:
        """Start of the earliest part (UTC)."""
        return min(p.start for p in self.parts)

    @property
    def duration_s(self) -> float:
        """From the earliest start to the latest end, in seconds."""
        return max(self._offset_s(p) + p.duration_s for p in self.parts)

    @property
    def expected_requests(self) -> float:
        """Sum of the parts' expected requests."""
        return float(sum(p.expected_requests for p in self.parts))

    @property
    def notes(self) -> tuple[str, ...]:
        """The parts' notes, each once."""
        seen: dict[str, None] = {}
        for p in self.parts:
            seen.update(dict.fromkeys(getattr(p, "notes", ())))
        return tuple(seen)

    def _offset_s(self, part) -> float:
        return (part.start - self.start).total_seconds()

    def blocks(self, rng: np.random.Generator, horizon_s: float) -> Iterator[np.ndarray]:
        """Merged arrival times (s) in windows of about an hour, up to ``horizon_s``."""
        rngs = rng.spawn(len(self.parts))
        offsets = [self._offset_s(p) for p in self.parts]
        streams = [
            p.blocks(r, horizon_s - off)
            for p, r, off in zip(self.parts, rngs, offsets, strict=True)
        ]
        buffers: list[list[np.ndarray]] = [[] for _ in self.parts]
        done = [False] * len(self.parts)
        end = min(self.duration_s, horizon_s)
        w0 = 0.0
        while w0 < end:
            w1 = min(w0 + BLOCK_S, end)
            out = []
            for k, stream in enumerate(streams):
                while not done[k] and (not buffers[k] or buffers[k][-1][-1] + offsets[k] < w1):
                    block = next(stream, None)
                    if block is None:
                        done[k] = True
                    elif len(block):
                        buffers[k].append(block)
                if buffers[k]:
                    times = np.concatenate(buffers[k]) + offsets[k]
                    cut = int(np.searchsorted(times, w1, side="left"))
                    out.append(times[:cut])
                    buffers[k] = [times[cut:] - offsets[k]] if cut < len(times) else []
            merged = np.concatenate(out) if out else np.empty(0)
            merged.sort(kind="mergesort")
            yield merged
            w0 = w1


def _scaled(counts: np.ndarray, scale: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if np.ndim(scale) == 0 and scale == 1.0:
        return counts
    whole = np.floor(scale)
    return (counts * whole).astype(np.int64) + rng.binomial(counts, scale - whole)
