"""Composing traces: superpose, scale, time-shift, slice, repeat, resample, count.

Every function returns a new trace and leaves its argument alone. Rate and counts traces
support all of them; per-request traces support shift, slice and counting (and repeat when
they are held in memory); :func:`to_counts` turns any trace into counts per interval.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import cast

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.arrivals import Arrivals
from lfvsim.traces.generators import utc
from lfvsim.traces.model import (
    CountTrace,
    RateTrace,
    RequestTrace,
    StreamedRequestTrace,
    SuperposedTrace,
    Trace,
)
from lfvsim.traces.points import MAX_INTERVALS

__all__ = [
    "repeat",
    "resample",
    "scale",
    "shift",
    "slice_trace",
    "superpose",
    "to_counts",
    "with_arrivals",
]

_TOL = 1e-9
#: Most request times a repeated per-request trace may hold in memory (8 B each: 512 MiB).
MAX_REPEATED_REQUESTS = 1 << 26
_ARRIVALS_NOTE = "assumed: arrivals inside each"


def superpose(*traces: Trace) -> Trace:
    """All the traffic of several traces at once.

    Rate traces on the same grid (same start and interval) and arrival model add up into one
    rate trace; anything else becomes a :class:`SuperposedTrace` whose parts draw their
    arrivals from separate streams.
    """
    if not traces:
        raise InputError("superpose needs at least one trace")
    if len(traces) == 1:
        return traces[0]
    rated = [t for t in traces if isinstance(t, RateTrace)]
    first = rated[0] if rated else None
    if (
        first is not None
        and len(rated) == len(traces)
        and all(
            t.bin_s == first.bin_s and t.start == first.start and t.arrivals == first.arrivals
            for t in rated
        )
    ):
        n = max(len(t.rates_tps) for t in rated)
        rates = np.zeros(n)
        for t in rated:
            rates[: len(t.rates_tps)] += t.rates_tps
        remarks = tuple(dict.fromkeys(r for t in rated for r in t.remarks))
        return replace(
            first, rates_tps=rates, source=" + ".join(t.source for t in rated), remarks=remarks
        )
    parts: list[Trace] = []
    for part in traces:
        parts.extend(part.parts if isinstance(part, SuperposedTrace) else [part])
    return SuperposedTrace(tuple(parts))


def scale(trace: Trace, factor: float) -> Trace:
    """The traffic times ``factor`` (counts are thinned or multiplied binomially)."""
    if not factor >= 0:
        raise InputError(f"scale factor {factor} is negative; use 0 or more")
    if isinstance(trace, RateTrace):
        return replace(
            trace, rates_tps=trace.rates_tps * factor, source=_tag(trace, f"x{factor:g}")
        )
    if isinstance(trace, CountTrace):
        return replace(trace, scale=trace.scale * factor, source=_tag(trace, f"x{factor:g}"))
    if isinstance(trace, SuperposedTrace):
        return SuperposedTrace(tuple(scale(p, factor) for p in trace.parts))
    raise InputError(
        "a per-request trace replays its recorded requests and cannot be scaled; turn it into "
        "counts first (to_counts) and scale those"
    )


def shift(trace: Trace, by_s: float = 0.0, *, to: datetime | str | None = None) -> Trace:
    """The same traffic, earlier or later: moved by ``by_s`` seconds, or to start at ``to``."""
    new_start = utc(to) if to is not None else trace.start + pd.Timedelta(seconds=by_s)
    if isinstance(trace, SuperposedTrace):
        delta = (new_start - trace.start).total_seconds()
        return SuperposedTrace(tuple(shift(p, delta) for p in trace.parts))
    return replace(trace, start=new_start)  # type: ignore[type-var]  # every Trace is a dataclass


def slice_trace(
    trace: Trace, start: datetime | str | None = None, end: datetime | str | None = None
) -> Trace:
    """The part of a trace between ``start`` and ``end`` (UTC; naive times are UTC).

    Rate and counts traces keep whole intervals: ``start`` is rounded down and ``end`` up
    to an interval boundary.
    """
    lo = 0.0 if start is None else (utc(start) - trace.start).total_seconds()
    hi = trace.duration_s if end is None else (utc(end) - trace.start).total_seconds()
    lo, hi = max(lo, 0.0), min(hi, trace.duration_s)
    if not hi > lo:
        raise InputError(
            f"slice {start} to {end} holds nothing of the trace, which runs from "
            f"{trace.start} for {trace.duration_s / 3600:g} h; pick times inside it"
        )
    if isinstance(trace, RateTrace | CountTrace):
        j0 = math.floor(lo / trace.bin_s + _TOL)
        j1 = math.ceil(hi / trace.bin_s - _TOL)
        new_start = trace.start + pd.Timedelta(seconds=j0 * trace.bin_s)
        if isinstance(trace, RateTrace):
            return replace(trace, start=new_start, rates_tps=trace.rates_tps[j0:j1])
        sc = trace.scale if np.ndim(trace.scale) == 0 else cast(np.ndarray, trace.scale)[j0:j1]
        return replace(trace, start=new_start, counts=trace.counts[j0:j1], scale=sc)
    new_start = trace.start + pd.Timedelta(seconds=lo)
    if isinstance(trace, RequestTrace):
        i0, i1 = np.searchsorted(trace.times_s, [lo, hi], side="left")
        return replace(
            trace, start=new_start, times_s=trace.times_s[i0:i1] - lo, duration_s=hi - lo
        )
    if isinstance(trace, StreamedRequestTrace):
        window = replace(
            trace,
            start=new_start,
            epoch0_s=trace.epoch0_s + lo,
            window_lo_s=max(trace.window_lo_s - lo, 0.0),
            window_hi_s=min(trace.window_hi_s - lo, hi - lo),
            duration_s=hi - lo,
        )
        requests = sum(len(b) for b in window.blocks(np.random.default_rng(0), hi - lo))
        return replace(window, requests=requests)
    if isinstance(trace, SuperposedTrace):
        parts = []
        for p in trace.parts:
            p_lo, p_hi = (
                trace.start + pd.Timedelta(seconds=lo),
                trace.start + pd.Timedelta(seconds=hi),
            )
            if p.start < p_hi and p.start + pd.Timedelta(seconds=p.duration_s) > p_lo:
                parts.append(slice_trace(p, max(p_lo, p.start), p_hi))
        return SuperposedTrace(tuple(parts))
    raise InputError(f"cannot slice a {type(trace).__name__}")


def repeat(trace: Trace, duration_h: float) -> Trace:
    """The trace repeated end to end (and cut) to last ``duration_h`` hours.

    A day of CloudWatch data repeated to a month, say. A shorter ``duration_h`` cuts the
    trace.
    """
    target_s = duration_h * 3600.0
    if not target_s > 0:
        raise InputError(f"repeat to {duration_h} h: give a positive duration")
    if isinstance(trace, RateTrace | CountTrace):
        n = math.ceil(target_s / trace.bin_s - _TOL)
        if n > MAX_INTERVALS:  # checked before anything is allocated
            raise InputError(
                f"repeat to {duration_h:g} h: {n:,} intervals of {trace.bin_s:g} s, more than "
                f"{MAX_INTERVALS:,}; give a shorter duration_h, or count the trace in longer "
                "intervals"
            )
        times = math.ceil(n / _length(trace))
        how = f"repeated to {duration_h:g} h" if times > 1 else f"cut to {duration_h:g} h"
        if isinstance(trace, RateTrace):
            return replace(trace, rates_tps=np.resize(trace.rates_tps, n), source=_tag(trace, how))
        sc = trace.scale if np.ndim(trace.scale) == 0 else np.resize(trace.scale, n)
        return replace(trace, counts=np.resize(trace.counts, n), scale=sc, source=_tag(trace, how))
    if isinstance(trace, RequestTrace):
        period = trace.duration_s
        copies = math.ceil(target_s / period)
        if copies * len(trace.times_s) > MAX_REPEATED_REQUESTS:
            raise InputError(
                f"repeat to {duration_h:g} h: {copies:,} copies of {len(trace.times_s):,} "
                f"requests, more than {MAX_REPEATED_REQUESTS:,} in memory; give a shorter "
                "duration_h, or count the requests per interval first (lfvsim trace convert)"
            )
        times_s = np.concatenate([trace.times_s + k * period for k in range(copies)])
        times_s = times_s[times_s < target_s]
        return replace(
            trace, times_s=times_s, duration_s=target_s, source=_tag(trace, f"x{copies} repeated")
        )
    raise InputError(
        f"cannot repeat a {type(trace).__name__}; turn it into counts first (to_counts)"
    )


def resample(trace: RateTrace | CountTrace, bin_s: float) -> RateTrace | CountTrace:
    """The same traffic on intervals of ``bin_s`` seconds.

    A rate trace keeps its expected requests in every stretch of time (any new interval).
    A counts trace can only be merged into intervals that are a whole multiple of its own:
    finer counts would need a guess of where inside an interval the requests were, which is
    the arrival model's job.
    """
    if not bin_s > 0:
        raise InputError(f"resample to {bin_s} s: give a positive interval")
    if isinstance(trace, RateTrace):
        edges = np.arange(len(trace.rates_tps) + 1) * trace.bin_s
        cum = np.concatenate(([0.0], np.cumsum(trace.rates_tps * trace.bin_s)))
        n = math.ceil(trace.duration_s / bin_s - _TOL)
        new_edges = np.minimum(np.arange(n + 1) * bin_s, edges[-1])
        rates = np.diff(np.interp(new_edges, edges, cum)) / bin_s
        # The rates already spread a partial last interval; a kept end_s would cut it twice.
        return replace(trace, bin_s=float(bin_s), rates_tps=rates, end_s=None)
    if isinstance(trace, CountTrace):
        ratio = bin_s / trace.bin_s
        k = round(ratio)
        if k < 1 or abs(ratio - k) > 1e-9 * max(ratio, 1.0):
            raise InputError(
                f"counts per {trace.bin_s:g} s can only be merged into whole multiples of "
                f"{trace.bin_s:g} s, not {bin_s:g} s; use the arrival model for finer detail"
            )
        if np.ndim(trace.scale) != 0:
            raise InputError("resample a counts trace before applying a per-interval scale")
        n = len(trace.counts)
        padded = np.zeros(math.ceil(n / k) * k, np.int64)
        padded[:n] = trace.counts
        return replace(trace, bin_s=float(bin_s), counts=padded.reshape(-1, k).sum(axis=1))
    raise InputError(
        f"cannot resample a {type(trace).__name__}; use to_counts(trace, bin_s) instead"
    )


def to_counts(
    trace: Trace, bin_s: float = 60.0, seed: int | np.random.SeedSequence = 0
) -> CountTrace:
    """Requests per interval of ``bin_s`` seconds.

    A per-request trace is counted exactly (a streamed one in one pass over its file, in
    bounded memory). Counts traces are merged exactly when ``bin_s`` is a multiple of their
    interval and their scale is 1. Anything else is drawn once from ``seed`` with the
    trace's own arrival model, which makes a synthetic trace a fixed sample; ``seed`` is an
    int or a SeedSequence (named in the source by its entropy, the seed it was made from).
    """
    if not bin_s > 0:
        raise InputError(f"to_counts: bin_s = {bin_s} is not positive")
    if isinstance(trace, CountTrace) and np.ndim(trace.scale) == 0 and trace.scale == 1.0:
        ratio = bin_s / trace.bin_s
        if abs(ratio - round(ratio)) < 1e-9 and round(ratio) >= 1:
            merged = resample(trace, bin_s)
            assert isinstance(merged, CountTrace)  # resampled counts stay counts
            return merged
    n = max(1, math.ceil(trace.duration_s / bin_s - _TOL))
    counts = np.zeros(n, np.int64)
    for block in trace.blocks(np.random.default_rng(seed), trace.duration_s):
        if len(block):
            idx = np.minimum((block // bin_s).astype(np.int64), n - 1)
            counts += np.bincount(idx, minlength=n)
    sampled = not isinstance(trace, RequestTrace | StreamedRequestTrace)
    named = seed.entropy if isinstance(seed, np.random.SeedSequence) else seed
    source = trace.source + (f", sampled (seed {named})" if sampled else "")
    remarks = tuple(r for r in getattr(trace, "notes", ()) if not r.startswith(_ARRIVALS_NOTE))
    return CountTrace(trace.start, float(bin_s), counts, source=source, remarks=remarks)


def with_arrivals(trace: Trace, arrivals: Arrivals) -> Trace:
    """The same trace with another model of arrivals inside an interval.

    A per-request trace is counted per minute first (its recorded times are given up).
    """
    if isinstance(trace, RateTrace | CountTrace):
        return replace(trace, arrivals=arrivals)
    if isinstance(trace, SuperposedTrace):
        return SuperposedTrace(tuple(with_arrivals(p, arrivals) for p in trace.parts))
    return replace(to_counts(trace, 60.0), arrivals=arrivals)


def _length(trace: RateTrace | CountTrace) -> int:
    return len(trace.rates_tps) if isinstance(trace, RateTrace) else len(trace.counts)


def _tag(trace, what: str) -> str:
    return f"{trace.source}, {what}"
