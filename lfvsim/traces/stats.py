"""What a trace looks like: rates, peaks and burstiness, in one pass over its arrivals."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lfvsim.traces.model import (
    CountTrace,
    RateTrace,
    RequestTrace,
    StreamedRequestTrace,
    SuperposedTrace,
    Trace,
)

__all__ = ["TraceStats", "describe_trace", "sparkline"]

_BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class TraceStats:
    """Summary of a trace's arrivals. Rates are requests per second.

    Attributes
    ----------
    source : str
        Where the trace came from.
    layout : str
        What the trace holds (per-request times, counts per interval, rates).
    start : pandas.Timestamp
        Start (UTC).
    duration_s : float
        Length in seconds.
    requests : int
        Requests (for rate traces: in this sample).
    mean_tps : float
        requests / duration_s.
    peak_tps_1min, peak_tps_1s : float
        Highest rate over one minute and over one second.
    peak_1min_at, peak_1s_at : pandas.Timestamp
        When those peaks start.
    peak_to_mean_1min, peak_to_mean_1s : float
        Peak rate / mean rate.
    burstiness : float
        Goh-Barabasi index of the inter-arrival times, (sd - mean) / (sd + mean): -1 for
        evenly spaced requests, 0 for a Poisson process, towards 1 for bursts.
    dispersion_1s : float
        Variance / mean of the requests per second inside each minute, pooled over
        minutes: 1 for Poisson arrivals, below 1 smoother, above 1 burstier. Unlike
        ``burstiness`` it ignores changes of rate from minute to minute.
    sampled : bool
        The arrival times were drawn (counts or rate traces), so second-level figures
        depend on ``seed`` and the arrival model.
    seed : int or None
        Seed of the sample; None when nothing was sampled (a trace of requests).
    per_minute : ndarray of int64
        Requests in each minute.
    peak_1s_per_minute : ndarray of int64
        Highest requests in one second within each minute.
    notes : tuple of str
        The trace's notes.
    """

    source: str
    layout: str
    start: pd.Timestamp
    duration_s: float
    requests: int
    mean_tps: float
    peak_tps_1min: float
    peak_1min_at: pd.Timestamp
    peak_tps_1s: float
    peak_1s_at: pd.Timestamp
    peak_to_mean_1min: float
    peak_to_mean_1s: float
    burstiness: float
    dispersion_1s: float
    sampled: bool
    seed: int | None
    per_minute: np.ndarray = field(repr=False)
    peak_1s_per_minute: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Scalar figures as plain Python values (no per-minute arrays)."""
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, np.ndarray):
                continue
            if isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif isinstance(v, float) and not math.isfinite(v):
                v = None
            elif isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, np.generic):
                v = v.item()
            out[k] = v
        return out


def _seed_number(seed: int | np.random.SeedSequence) -> int:
    """The int a seed was given as: a SeedSequence made from one keeps it as its entropy."""
    if isinstance(seed, np.random.SeedSequence):
        assert isinstance(seed.entropy, int)  # made from an int seed, as the CLI makes it
        return seed.entropy
    return seed


def describe_trace(trace: Trace, seed: int | np.random.SeedSequence = 0) -> TraceStats:
    """Duration, requests, mean and peak rates at 1 s and 1 min, and burstiness.

    Counts and rate traces are described through one sample of their arrivals, drawn from
    ``seed`` with the trace's arrival model (an int, or a SeedSequence such as the child a
    run draws its arrivals from, recorded by its entropy). Memory is a few numbers per
    minute, so a streamed trace of any size is described in one pass over its file.
    """
    duration = trace.duration_s
    minutes = max(1, math.ceil(duration / 60.0 - 1e-9))
    acc = _Seconds(minutes)
    gaps = [0, 0.0, 0.0]  # n, sum, sum of squares
    last = None
    for block in trace.blocks(np.random.default_rng(seed), duration):
        if not len(block):
            continue
        g = np.diff(block)
        if last is not None:
            g = np.concatenate(([block[0] - last], g))
        gaps[0] += len(g)
        gaps[1] += float(g.sum())
        gaps[2] += float(np.dot(g, g))
        last = float(block[-1])
        acc.add(block)
    acc.flush()

    n = int(acc.count.sum())
    mean = n / duration if duration > 0 else math.nan
    lengths = np.minimum(60.0, duration - 60.0 * np.arange(minutes))
    per_min_tps = acc.count / np.maximum(lengths, 1.0)
    m_peak = int(np.argmax(per_min_tps))
    peak_1min = per_min_tps[m_peak]
    if gaps[0] >= 2:
        mu = gaps[1] / gaps[0]
        sd = math.sqrt(max(gaps[2] / gaps[0] - mu * mu, 0.0))
        burstiness = (sd - mu) / (sd + mu) if sd + mu > 0 else math.nan
    else:
        burstiness = math.nan
    lengths = lengths.round()
    ok = (acc.count > 0) & (lengths >= 2)
    if ok.any():
        c, q, L = acc.count[ok].astype(float), acc.sq[ok], lengths[ok]
        var = (q - c * c / L) / (L - 1)
        dispersion = float(var.sum() / (c / L).sum())
    else:
        dispersion = math.nan
    sampled = not isinstance(trace, RequestTrace | StreamedRequestTrace)
    at = lambda s: trace.start + pd.Timedelta(seconds=float(s))  # noqa: E731
    return TraceStats(
        source=trace.source,
        layout=_layout(trace),
        start=trace.start,
        duration_s=float(duration),
        requests=n,
        mean_tps=mean,
        peak_tps_1min=float(peak_1min),
        peak_1min_at=at(60 * m_peak),
        peak_tps_1s=float(acc.best),
        peak_1s_at=at(acc.best_sec),
        peak_to_mean_1min=float(peak_1min / mean) if mean > 0 else math.nan,
        peak_to_mean_1s=float(acc.best / mean) if mean > 0 else math.nan,
        burstiness=float(burstiness),
        dispersion_1s=dispersion,
        sampled=sampled,
        seed=_seed_number(seed) if sampled else None,
        per_minute=acc.count,
        peak_1s_per_minute=acc.mx,
        notes=tuple(getattr(trace, "notes", ())),
    )


def sparkline(values: np.ndarray, width: int = 60) -> tuple[str, int]:
    """Values as a line of block characters, averaged into at most ``width`` columns.

    Returns the line and how many values each column averages.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return "", 1
    per = max(1, math.ceil(len(values) / width))
    pad = (-len(values)) % per
    cols = np.concatenate([values, np.full(pad, np.nan)]).reshape(-1, per)
    means = np.nanmean(cols, axis=1)
    top = means.max()
    if not top > 0:
        return _BARS[0] * len(means), per
    idx = np.clip(np.round(means / top * (len(_BARS) - 1)).astype(int), 0, len(_BARS) - 1)
    return "".join(_BARS[i] for i in idx), per


class _Seconds:
    """Per-minute sums of requests per second, carried across blocks."""

    def __init__(self, minutes: int) -> None:
        self.count = np.zeros(minutes, np.int64)
        self.sq = np.zeros(minutes)
        self.mx = np.zeros(minutes, np.int64)
        self.best, self.best_sec = 0, 0
        self._sec, self._c = -1, 0

    def add(self, times: np.ndarray) -> None:
        secs = np.floor(times).astype(np.int64)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(secs)) + 1))
        u = secs[starts]
        c = np.diff(np.concatenate((starts, [len(secs)])))
        if u[0] == self._sec:
            c[0] += self._c
        else:
            self._emit(np.array([self._sec]), np.array([self._c]))
        self._emit(u[:-1], c[:-1])
        self._sec, self._c = int(u[-1]), int(c[-1])

    def flush(self) -> None:
        self._emit(np.array([self._sec]), np.array([self._c]))
        self._sec, self._c = -1, 0

    def _emit(self, u: np.ndarray, c: np.ndarray) -> None:
        keep = (u >= 0) & (c > 0)
        u, c = u[keep], c[keep]
        if not len(u):
            return
        m = np.minimum(u // 60, len(self.count) - 1)
        np.add.at(self.count, m, c)
        np.add.at(self.sq, m, c.astype(float) ** 2)
        np.maximum.at(self.mx, m, c)
        i = int(np.argmax(c))
        if c[i] > self.best:
            self.best, self.best_sec = int(c[i]), int(u[i])


def _layout(trace: Trace) -> str:
    if isinstance(trace, RequestTrace):
        return "one row per request (in memory)"
    if isinstance(trace, StreamedRequestTrace):
        return "one row per request (streamed from disk)"
    if isinstance(trace, CountTrace):
        return f"counts per {trace.bin_s:g} s ({len(trace.counts):,} intervals)"
    if isinstance(trace, RateTrace):
        return f"Poisson rate per {trace.bin_s:g} s ({len(trace.rates_tps):,} intervals)"
    if isinstance(trace, SuperposedTrace):
        return f"{len(trace.parts)} traces superposed"
    return type(trace).__name__
