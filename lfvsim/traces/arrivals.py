"""Where the requests of an interval fall inside it.

A counts trace (or a synthetic rate) says how many requests an interval holds, not when
they arrive; per-minute CloudWatch counts hide the bursts that cause throttling. An arrival
model places a given number of requests inside each interval:

- :class:`PoissonArrivals` (default): uniform and independent, the arrivals of a Poisson
  process given its count;
- :class:`EvenArrivals`: evenly spaced, the smoothest traffic a count allows (a lower bound
  on burstiness);
- :class:`BatchArrivals`: requests come in batches (a part passing several cameras, a
  client sending a burst), batch sizes geometric with a given mean;
- :class:`OnOffArrivals`: a Markov-modulated Poisson process with an off state (an
  interrupted Poisson process): requests arrive only while the source is on.

Every model keeps the exact count of each interval, so a counts trace keeps its counts
whatever the model. Random numbers are drawn in an order that depends only on the counts,
never on the unit configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from lfvsim.errors import InputError

#: Most on periods the on/off model draws in one interval of a trace.
MAX_ON_PERIODS = 10_000

__all__ = [
    "ARRIVAL_MODELS",
    "Arrivals",
    "BatchArrivals",
    "EvenArrivals",
    "OnOffArrivals",
    "PoissonArrivals",
    "arrivals_from_options",
    "spread_in_bins",
]


def spread_in_bins(
    counts: np.ndarray, first_bin: int, bin_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Sorted arrival times with exactly ``counts[k]`` arrivals uniform in bin ``k``.

    Uses exponential spacings: the partial sums of ``n + 1`` exponentials, divided by their
    total, are ``n`` sorted uniforms. This is O(n), with no sort.

    Parameters
    ----------
    counts : array of int
        Arrivals in each bin.
    first_bin : int
        Index of the first bin; bin ``k`` spans ``[(first_bin + k) bin_s, (first_bin + k + 1)
        bin_s)``.
    bin_s : float
        Bin length in seconds.
    rng : numpy.random.Generator
        Random stream.

    Returns
    -------
    ndarray of float64
        Sorted times in seconds.
    """
    counts = _counts(counts)
    n = int(counts.sum())
    if n == 0:
        return np.empty(0)
    spacings = rng.standard_exponential(n + len(counts))
    return _placement().poisson_times(counts, spacings, int(first_bin), float(bin_s))


def _sorted_uniforms(counts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(k, u)``: for each bin ``k``, ``counts[k]`` sorted uniforms ``u`` in [0, 1)."""
    counts = _counts(counts)
    spacings = rng.standard_exponential(int(counts.sum()) + len(counts))
    return _placement().sorted_uniforms(counts, spacings)


def _counts(counts: np.ndarray) -> np.ndarray:
    """``counts`` as contiguous int64, checked: the compiled loops trust every count."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if counts.size and int(counts.min()) < 0:
        raise InputError(f"an interval has {int(counts.min())} requests; counts must be 0 or more")
    return counts


def _placement() -> ModuleType:
    """The compiled placement loops, imported on first use: they load numba."""
    from lfvsim.traces import placement

    return placement


@dataclass(frozen=True)
class PoissonArrivals:
    """Arrivals uniform and independent inside each interval (a Poisson process given its
    count)."""

    name = "poisson"

    def place(
        self, counts: np.ndarray, first_bin: int, bin_s: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Sorted arrival times (s) with ``counts[k]`` arrivals in bin ``first_bin + k``."""
        return spread_in_bins(counts, first_bin, bin_s, rng)

    def describe(self) -> str:
        """One phrase for reports."""
        return "Poisson (uniform at random inside each interval)"


@dataclass(frozen=True)
class EvenArrivals:
    """Arrivals evenly spaced inside each interval; draws no random numbers."""

    name = "even"

    def place(
        self, counts: np.ndarray, first_bin: int, bin_s: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Sorted arrival times (s): ``c`` arrivals at ``(i + 0.5) / c`` of the bin."""
        counts = _counts(counts)
        if int(counts.sum()) == 0:
            return np.empty(0)
        return _placement().even_times(counts, int(first_bin), float(bin_s))

    def describe(self) -> str:
        """One phrase for reports."""
        return "evenly spaced inside each interval"


@dataclass(frozen=True)
class BatchArrivals:
    """Requests arrive in batches.

    Inside an interval, each request after the first starts a new batch with probability
    ``1 / mean_size`` (so batch sizes are geometric with mean ``mean_size``, cut at the
    interval's end). Batch epochs are uniform in the interval; the requests of a batch are
    spread uniformly over ``spread_s`` seconds after its epoch (0: all at once).

    Attributes
    ----------
    mean_size : float
        Mean requests per batch (>= 1).
    spread_s : float
        Length of a batch in seconds (>= 0).
    """

    mean_size: float = 4.0
    spread_s: float = 0.5
    name = "batch"

    def __post_init__(self) -> None:
        if not (self.mean_size >= 1 and math.isfinite(self.mean_size)):
            raise InputError(
                f"batch mean size {self.mean_size} is not a finite number of 1 or more; e.g. use 4"
            )
        if not (self.spread_s >= 0 and math.isfinite(self.spread_s)):
            raise InputError(
                f"batch spread {self.spread_s} s is not a finite time of 0 or more; e.g. use 0.5"
            )

    def place(
        self, counts: np.ndarray, first_bin: int, bin_s: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Sorted arrival times (s) with ``counts[k]`` arrivals in bin ``first_bin + k``."""
        counts = _counts(counts)
        n = int(counts.sum())
        if n == 0:
            return np.empty(0)
        bin_of = np.repeat(np.arange(len(counts)), counts)
        new = rng.random(n) < 1.0 / self.mean_size
        new[np.cumsum(counts)[counts > 0] - counts[counts > 0]] = True  # first of each bin
        batch = np.cumsum(new) - 1
        spread = min(self.spread_s, bin_s)
        epochs = rng.random(int(new.sum())) * (bin_s - spread)
        offsets = rng.random(n) * spread
        within = np.minimum(epochs[batch] + offsets, np.nextafter(bin_s, 0))
        return np.sort((first_bin + bin_of) * bin_s + within)

    def describe(self) -> str:
        """One phrase for reports."""
        return f"in batches of mean {self.mean_size:g} requests spread over {self.spread_s:g} s"


@dataclass(frozen=True)
class OnOffArrivals:
    """Requests arrive only while an on/off source is on.

    Inside each interval the source is on for ``on_fraction`` of the time, in
    ``k = max(1, round(on_fraction * bin_s / on_mean_s))`` on periods placed at random
    (period lengths and the off gaps between them are uniform spacings); the interval's
    requests are uniform over its on time. While on, the rate is the interval's rate divided
    by ``on_fraction``: bursts of a known height, with the interval's count kept exactly.

    Attributes
    ----------
    on_fraction : float
        Share of time the source is on, in (0, 1].
    on_mean_s : float
        Typical length of an on period in seconds.
    """

    on_fraction: float = 0.5
    on_mean_s: float = 30.0
    name = "onoff"

    def __post_init__(self) -> None:
        if not 0 < self.on_fraction <= 1:
            raise InputError(f"on_fraction {self.on_fraction} is outside (0, 1]; e.g. use 0.5")
        if not (self.on_mean_s > 0 and math.isfinite(self.on_mean_s)):
            raise InputError(
                f"on_mean_s {self.on_mean_s} is not a finite positive time; e.g. use 10"
            )

    def place(
        self, counts: np.ndarray, first_bin: int, bin_s: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Sorted arrival times (s) with ``counts[k]`` arrivals in bin ``first_bin + k``."""
        counts = _counts(counts)
        if int(counts.sum()) == 0:
            return np.empty(0)
        nb = len(counts)
        on_s = self.on_fraction * bin_s
        k = max(1, round(on_s / self.on_mean_s))
        if k > MAX_ON_PERIODS:  # each period is drawn: refuse before allocating them
            raise InputError(
                f"on_mean_s = {self.on_mean_s:g} s makes {k:,.0f} on periods in each "
                f"{bin_s:g} s interval, more than {MAX_ON_PERIODS:,}; give on_mean_s >= "
                f"{on_s / MAX_ON_PERIODS:.3g}"
            )
        on = _spacings(rng, nb, k) * on_s  # on period lengths, each row sums to on_s
        off = _spacings(rng, nb, k + 1) * (bin_s - on_s)  # gaps before, between, after
        on_end = np.cumsum(on, axis=1)  # on time up to the end of each on period
        off_before = np.cumsum(off, axis=1)[:, :k]  # off time before each on period
        bin_of, u = _sorted_uniforms(counts, rng)
        x = u * on_s  # position in the bin's on time
        ends = (on_end + (np.arange(nb) * on_s)[:, None]).ravel()
        seg = np.searchsorted(ends, x + bin_of * on_s, side="right")
        seg = np.minimum(seg, (bin_of + 1) * k - 1)
        t = x + off_before.ravel()[seg]
        t = np.clip(t, 0.0, np.nextafter(bin_s, 0))
        return (first_bin + bin_of) * bin_s + t

    def describe(self) -> str:
        """One phrase for reports."""
        return (
            f"on/off: on {100 * self.on_fraction:g}% of each interval in periods of about "
            f"{self.on_mean_s:g} s"
        )


def _spacings(rng: np.random.Generator, rows: int, k: int) -> np.ndarray:
    """``rows`` draws of ``k`` uniform spacings (each row positive, summing to 1)."""
    e = rng.standard_exponential((rows, k))
    return e / e.sum(axis=1, keepdims=True)


Arrivals = PoissonArrivals | EvenArrivals | BatchArrivals | OnOffArrivals

#: Arrival model names as scenario files and the command line spell them.
ARRIVAL_MODELS = ("poisson", "even", "batch", "onoff")


def arrivals_from_options(
    name: str,
    batch_mean_size: float = 4.0,
    batch_spread_s: float = 0.5,
    on_fraction: float = 0.5,
    on_mean_s: float = 30.0,
) -> Arrivals:
    """The arrival model called ``name`` with its parameters (the rest are ignored)."""
    if name == "poisson":
        return PoissonArrivals()
    if name == "even":
        return EvenArrivals()
    if name == "batch":
        return BatchArrivals(batch_mean_size, batch_spread_s)
    if name == "onoff":
        return OnOffArrivals(on_fraction, on_mean_s)
    raise InputError(f"unknown arrival model {name!r}; use {', '.join(ARRIVAL_MODELS)}")
