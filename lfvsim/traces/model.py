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

import numpy as np
import pandas as pd

__all__ = ["CountTrace", "RateTrace", "RequestTrace", "Trace", "spread_in_bins"]

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
