"""Compiled loops that place an interval's requests inside it.

The random numbers are drawn by numpy beforehand, in the order and amount the arrival
models of :mod:`lfvsim.traces.arrivals` always drew them; these loops only do the
arithmetic, with the same floating-point operations in the same order as the numpy
expressions they replace, so every seeded result is the same to the bit. One pass over
the draws replaces a dozen numpy temporaries (masks, fancy indexing, repeats, two
cumulative sums).

Importing this module loads numba: :mod:`lfvsim.traces.arrivals` imports it on first use,
so ``import lfvsim`` and ``--help`` stay light.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["even_times", "poisson_times", "sorted_uniforms"]


@njit(cache=True, nogil=True)
def poisson_times(counts, spacings, first_bin, bin_s):  # pragma: no cover - compiled
    """Sorted arrival times, written over ``spacings``; returns the first ``n`` of them.

    ``spacings`` holds ``n + len(counts)`` standard exponentials. Bin ``k`` takes the next
    ``counts[k] + 1`` of them: the partial sums of the first ``counts[k]``, less the sum
    before the bin and divided by the bin's total, are ``counts[k]`` sorted uniforms
    ``u``, placed at ``(first_bin + k + u) * bin_s``.

    Same operations as the numpy pipeline: a sequential running sum (``np.cumsum``),
    ``u = (csum - before) / total`` and ``(first_bin + k + u) * bin_s``. A time is written
    at index ``i`` only after the spacing at index ``>= i`` it needs has been read.
    """
    csum = 0.0
    j = 0  # next spacing to read
    i = 0  # next time to write
    for k in range(counts.shape[0]):
        c = counts[k]
        before = csum
        start = i
        for _ in range(c):
            csum += spacings[j]
            j += 1
            spacings[i] = csum
            i += 1
        csum += spacings[j]  # the spacing after the bin's last arrival
        j += 1
        total = csum - before
        for m in range(start, i):
            spacings[m] = (first_bin + k + (spacings[m] - before) / total) * bin_s
    return spacings[:i]


@njit(cache=True, nogil=True)
def sorted_uniforms(counts, spacings):  # pragma: no cover - compiled
    """``(k, u)``: for each bin ``k``, ``counts[k]`` sorted uniforms ``u`` in [0, 1).

    The uniforms are written over ``spacings`` (``n + len(counts)`` standard
    exponentials), as :func:`poisson_times` does, without placing them in time.
    """
    n = spacings.shape[0] - counts.shape[0]
    bin_of = np.empty(n, dtype=np.int64)
    csum = 0.0
    j = 0
    i = 0
    for k in range(counts.shape[0]):
        c = counts[k]
        before = csum
        start = i
        for _ in range(c):
            csum += spacings[j]
            j += 1
            spacings[i] = csum
            bin_of[i] = k
            i += 1
        csum += spacings[j]
        j += 1
        total = csum - before
        for m in range(start, i):
            spacings[m] = (spacings[m] - before) / total
    return bin_of, spacings[:i]


@njit(cache=True, nogil=True)
def even_times(counts, first_bin, bin_s):  # pragma: no cover - compiled
    """``counts[k]`` evenly spaced times in bin ``k``: at ``(r + 0.5) / counts[k]`` of it."""
    n = 0
    for k in range(counts.shape[0]):
        n += counts[k]
    out = np.empty(n)
    i = 0
    for k in range(counts.shape[0]):
        c = counts[k]
        for r in range(c):
            out[i] = (first_bin + k + (r + 0.5) / c) * bin_s
            i += 1
    return out
