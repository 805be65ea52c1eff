"""Bare loss loops, one per slot structure: the floor the engine's serving loop is held to.

Each loop serves ``arrivals`` (sorted) with ``services`` on ``slots`` slots: a request
takes the earliest-free slot if it is free at its arrival, else it is throttled; the
loop returns the number throttled. That number does not depend on the structure (slots
free at the same time are interchangeable here), so every loop must return the same
count on the same arrays. ``units`` (one int64 entry per slot, or none) asks a loop to
carry each slot's unit along, as the engine must, and to write the unit each request
took into ``took`` (-1 when throttled): structures that break ties differently pick
different units, which the engine's outputs (requests per unit, which unit drains first)
would show.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lfvsim.engine.kernel import _sift_down


@njit(inline="always")
def take_earliest(free, slots, end):
    """Replace the root of the min-heap ``free`` (the earliest-free slot) by ``end``."""
    j = 0
    while True:
        child = 2 * j + 1
        if child >= slots:
            break
        if child + 1 < slots and free[child + 1] < free[child]:
            child += 1
        if free[child] >= end:
            break
        free[j] = free[child]
        j = child
    free[j] = end


@njit
def heap2_branching(arrivals, services, slots, units, took):
    """Binary heap, branching on the smaller child (the benchmark's loop until 2026-11)."""
    free = np.zeros(slots)
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
        else:
            take_earliest(free, slots, t + services[i])
    return throttled


@njit(inline="always")
def _sift_bare(free, n, end):
    """The engine's sift-down (``kernel._sift_down``) of a new root ``end``, no units."""
    i = 0
    child = 1
    while child + 1 < n:
        child += np.int64(free[child + 1] < free[child])
        if free[child] >= end:
            free[i] = end
            return
        free[i] = free[child]
        i = child
        child = 2 * i + 1
    if child < n and free[child] < end:
        free[i] = free[child]
        i = child
    free[i] = end


@njit
def heap2_bare(arrivals, services, slots, units, took):
    """Binary heap of free times alone, the engine's branch-free choice of the child."""
    free = np.zeros(slots)
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
        else:
            _sift_bare(free, slots, t + services[i])
    return throttled


@njit
def heap2(arrivals, services, slots, units, took):
    """Binary heap with each slot's unit, the engine's own sift-down (branch-free child)."""
    free = np.zeros(slots)
    unit = units.copy() if units.shape[0] else np.zeros(slots, np.int64)
    keep = took.shape[0] > 0
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
            if keep:
                took[i] = -1
        else:
            if keep:
                took[i] = unit[0]
            free[0] = t + services[i]
            _sift_down(free, unit, slots, 0)
    return throttled


@njit
def heap2_floyd(arrivals, services, slots, units, took):
    """Binary heap, Floyd's sift: the hole goes down to a leaf along the smaller children
    without comparing with the new end time, which then goes up past every entry ``>=``
    it: the same layout as the engine's sift-down, with one data-dependent exit."""
    free = np.zeros(slots)
    unit = units.copy() if units.shape[0] else np.zeros(slots, np.int64)
    keep = took.shape[0] > 0
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
            if keep:
                took[i] = -1
            continue
        u = unit[0]
        if keep:
            took[i] = u
        end = t + services[i]
        j = 0
        child = 1
        while child + 1 < slots:
            child += np.int64(free[child + 1] < free[child])
            free[j] = free[child]
            unit[j] = unit[child]
            j = child
            child = 2 * j + 1
        if child < slots:
            free[j] = free[child]
            unit[j] = unit[child]
            j = child
        while j > 0:
            parent = (j - 1) >> 1
            if free[parent] < end:
                break
            free[j] = free[parent]
            unit[j] = unit[parent]
            j = parent
        free[j] = end
        unit[j] = u
    return throttled


@njit
def heap2_fixed(arrivals, services, slots, units, took):
    """Binary heap, a sift of fixed depth with no branch at all: the free times beyond the
    heap are +inf, so a missing child is never taken, and once the new end time stops the
    hole stays put (the same layout as the engine's sift-down)."""
    free = np.full(2 * slots + 2, np.inf)
    free[:slots] = 0.0
    unit = np.zeros(2 * slots + 2, np.int64)
    if units.shape[0]:
        unit[:slots] = units
    keep = took.shape[0] > 0
    depth = 0
    while (2 << depth) <= slots:
        depth += 1
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
            if keep:
                took[i] = -1
            continue
        u = unit[0]
        if keep:
            took[i] = u
        end = t + services[i]
        j = 0
        for _ in range(depth):
            c = 2 * j + 1
            c += np.int64(free[c + 1] < free[c])
            move = free[c] < end
            free[j] = free[c] if move else free[j]
            unit[j] = unit[c] if move else unit[j]
            j = c if move else j
        free[j] = end
        unit[j] = u
    return throttled


@njit
def heap4(arrivals, services, slots, units, took):
    """4-ary heap, children contiguous, the least of four found without a branch."""
    free = np.zeros(slots)
    unit = units.copy() if units.shape[0] else np.zeros(slots, np.int64)
    keep = took.shape[0] > 0
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        if free[0] > t:
            throttled += 1
            if keep:
                took[i] = -1
            continue
        if keep:
            took[i] = unit[0]
        end = t + services[i]
        u = unit[0]
        j = 0
        while True:
            c = 4 * j + 1
            if c + 3 < slots:
                a = c + np.int64(free[c + 1] < free[c])
                b = c + 2 + np.int64(free[c + 3] < free[c + 2])
                m = b if free[b] < free[a] else a
            elif c < slots:
                m = c
                for k in range(c + 1, slots):
                    if free[k] < free[m]:
                        m = k
            else:
                break
            if free[m] >= end:
                break
            free[j] = free[m]
            unit[j] = unit[m]
            j = m
        free[j] = end
        unit[j] = u
    return throttled


@njit
def scan(arrivals, services, slots, units, took):
    """No order kept: the least free time by a linear (vectorisable) scan, then its index."""
    free = np.zeros(slots)
    unit = units.copy() if units.shape[0] else np.zeros(slots, np.int64)
    keep = took.shape[0] > 0
    throttled = 0
    for i in range(arrivals.shape[0]):
        t = arrivals[i]
        least = free[0]
        for j in range(1, slots):
            least = min(least, free[j])
        if least > t:
            throttled += 1
            if keep:
                took[i] = -1
            continue
        j = 0
        while free[j] != least:
            j += 1
        if keep:
            took[i] = unit[j]
        free[j] = t + services[i]
    return throttled


LOOPS = {
    "binary heap, branching": heap2_branching,
    "binary heap, branch-free, no units": heap2_bare,
    "binary heap, branch-free (the engine's)": heap2,
    "binary heap, Floyd's sift": heap2_floyd,
    "binary heap, fixed-depth sift, no branch": heap2_fixed,
    "4-ary heap, branch-free": heap4,
    "linear scan": scan,
}
"""Every bare loop, by structure: the floor is the fastest of them on the run's arrays."""
