"""The mechanisms that make calibration fast change no result.

Arrivals placed minute by minute (compiled) are the same to the bit as one sort of the
whole history (the numpy reference below, as calibration placed them before), for Poisson
and for batch arrivals on random histories, empty minutes included. Replicates replayed
on threads give the same per-minute throttles as one after another, for the slots and the
token bucket, so the fits' objectives are the same functions either way. The slots'
throttles counted from the requests in service with unlimited slots (less the throttled
ones) are the slot heap's.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from lfvsim.engine.loss_replay import (
    bucket_replay_nogil,
    busy_before,
    per_replicate,
    slots_replay_busy,
    summed_replicates,
)
from lfvsim.engine.minute_arrivals import batch_offsets, poisson_offsets
from lfvsim.experiments import calibrate_burst, calibrate_rate
from lfvsim.experiments.calibrate_rate import Replay
from lfvsim.scenario import Unit
from tests.slots_reference import slots_replay


def random_counts(seed: int, minutes: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.uniform(0, 300), minutes)
    counts[rng.random(minutes) < 0.1] = 0  # empty minutes (not hosted, or idle)
    return counts.astype(np.int64)


def first_of(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def poisson_reference(counts: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """One sort of the whole history (as calibration placed Poisson arrivals before)."""
    minute_of = np.repeat(np.arange(len(counts), dtype=np.float64), counts)
    keys = np.sort(minute_of + uniforms)
    return ((keys - minute_of) * 60.0).astype(np.float32)


def batch_reference(counts, marks, epochs, offsets, size, spread_s) -> np.ndarray:
    """One sort of the whole history (as calibration placed batch arrivals before)."""
    first = first_of(counts)
    minute_of = np.repeat(np.arange(len(counts), dtype=np.float64), counts)
    index = np.arange(len(minute_of))
    new = marks < 1.0 / size
    new[first[:-1][counts > 0]] = True
    leader = np.maximum.accumulate(np.where(new, index, 0))
    within = epochs[leader] * (60.0 - spread_s) + offsets * spread_s
    keys = np.sort(minute_of * 60.0 + np.minimum(within, np.nextafter(60.0, 0)))
    return (keys - minute_of * 60.0).astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_poisson_placement_is_the_whole_history_sort(seed):
    counts = random_counts(seed, minutes=3000 if seed == 0 else 400)
    if seed == 0:
        counts[:] = 0
        counts[2990:] = 50  # minutes late in a long history: larger keys, coarser floats
    total = int(counts.sum())
    uniforms = np.random.default_rng([seed, 1]).random(total)
    placed = poisson_offsets(first_of(counts), uniforms, np.empty(total, np.float32))
    expected = poisson_reference(counts, uniforms)
    assert placed.dtype == np.float32
    assert np.array_equal(placed, expected)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [1.0, 1.7, 4.0, 32.0])
def test_batch_placement_is_the_whole_history_sort(seed, size):
    counts = random_counts(seed)
    total = int(counts.sum())
    rng = np.random.default_rng([seed, 2])
    marks, epochs, offsets = rng.random(total), rng.random(total), rng.random(total)
    spread_s = [0.5, 5.0, 59.0, 60.0][seed % 4]
    placed = batch_offsets(
        first_of(counts), marks, epochs, offsets, size, spread_s, np.empty(total, np.float32)
    )
    assert np.array_equal(placed, batch_reference(counts, marks, epochs, offsets, size, spread_s))
    # Sorted inside each minute, and inside it.
    first = first_of(counts)
    for m in np.flatnonzero(counts > 1)[:50]:
        assert np.all(np.diff(placed[first[m] : first[m + 1]]) >= 0)
    assert placed.min() >= 0 and placed.max() < 60


def random_replay(seed: int) -> Replay:
    rng = np.random.default_rng(seed)
    minutes = 300
    offered = rng.poisson(rng.uniform(50, 600), minutes).astype(np.int64)
    units = rng.integers(1, 5, minutes).astype(np.int64)
    units_end = units.copy()
    change_s = np.full(minutes, 60.0)
    step = rng.random(minutes) < 0.05
    units_end[step] = rng.integers(1, 5, int(step.sum()))
    change_s[step] = rng.uniform(0, 60, int(step.sum()))
    throttled = rng.binomial(offered, 0.05).astype(np.int64)
    scored = offered > 0
    bins = np.where(scored, np.arange(minutes) % 7, -1).astype(np.int64)
    return Replay(offered, throttled, units, units_end, change_s, scored, bins)


def test_per_replicate_keeps_replicate_order_on_threads():
    assert per_replicate(lambda r: r * r, 5, workers=3) == [0, 1, 4, 9, 16]
    assert per_replicate(lambda r: r * r, 5, workers=1) == [0, 1, 4, 9, 16]


@pytest.mark.parametrize("seed", range(4))
def test_threaded_slot_replays_equal_serial(seed):
    replay = random_replay(seed)
    first = first_of(replay.offered)
    total = int(replay.offered.sum())
    rng = np.random.default_rng(seed)
    arrivals = [
        poisson_offsets(first, rng.random(total), np.empty(total, np.float32)) for _ in range(4)
    ]
    services = [rng.standard_exponential(total).astype(np.float32) for _ in range(4)]

    def replay_one(r, out):
        slots_replay(
            arrivals[r], services[r], first, replay.units, replay.units_end, replay.change_s, 2,
            out,
        )  # fmt: skip

    serial = summed_replicates(replay_one, 4, len(replay.offered), workers=1)
    threaded = summed_replicates(replay_one, 4, len(replay.offered), workers=2)
    assert serial.sum() > 0  # the slots were tight enough to throttle
    assert np.array_equal(serial, threaded)


@pytest.mark.parametrize("seed", range(4))
def test_threaded_bucket_replays_equal_serial(seed):
    replay = random_replay(seed)
    first = first_of(replay.offered)
    total = int(replay.offered.sum())
    rng = np.random.default_rng(seed)
    arrivals = [
        poisson_offsets(first, rng.random(total), np.empty(total, np.float32)) for _ in range(3)
    ]

    def replay_one(r, out):
        bucket_replay_nogil(
            arrivals[r], first, replay.units, replay.units_end, replay.change_s, 1.5, 5.0, out
        )

    serial = summed_replicates(replay_one, 3, len(replay.offered), workers=1)
    threaded = summed_replicates(replay_one, 3, len(replay.offered), workers=2)
    assert serial.sum() > 0
    assert np.array_equal(serial, threaded)


def test_fit_objectives_are_the_same_on_threads():
    """The objectives the fits minimise, with their arrivals drawn on threads or not."""
    replay = random_replay(7)
    one = calibrate_rate._Objective(replay, workers=1)
    two = calibrate_rate._Objective(replay, workers=2)
    x = np.array([np.log(2.0), np.log(4.0)])
    assert np.array_equal(one.expected(x), two.expected(x))
    unit = Unit(slots=2)
    p1 = calibrate_burst._Profile(replay, unit, 0.5, workers=1)
    p2 = calibrate_burst._Profile(replay, unit, 0.5, workers=2)
    for size in (1.0, 3.0):
        assert np.array_equal(p1.expected(size, 2), p2.expected(size, 2))
    assert p1.expected(3.0, 2).sum() > 0


@pytest.mark.parametrize("seed", range(8))
def test_replay_from_busy_counts_equals_the_slot_heap(seed):
    """Throttles from the unlimited-slot counts less the throttled in service are the
    slot heap's, for every slot count, changes of units inside minutes and ties."""
    replay = random_replay(seed)
    first = first_of(replay.offered)
    total = int(replay.offered.sum())
    rng = np.random.default_rng([seed, 3])
    offsets = poisson_offsets(first, rng.random(total), np.empty(total, np.float32))
    if seed % 2:
        services = np.full(total, 0.75, np.float32)  # constant latency: ends tie with arrivals
        offsets = np.round(offsets * 4) / 4  # arrivals on a quarter-second grid
        offsets = offsets.astype(np.float32)
    else:
        services = (rng.standard_exponential(total) * 0.8).astype(np.float32)
    busy = np.empty(total, np.int32)
    most = busy_before(offsets, services, first, busy)
    assert most == busy.max() > 0
    seen = 0
    for slots in (1, 2, 3, 5, 8):
        args = (first, replay.units, replay.units_end, replay.change_s, slots)
        heap = slots_replay(offsets, services, *args, np.zeros(len(replay.offered), np.int64))
        fast = slots_replay_busy(
            offsets, services, busy, *args, np.zeros(len(replay.offered), np.int64)
        )
        assert np.array_equal(heap, fast), slots
        seen += int(heap.sum() > 0)
    assert seen >= 2  # some of the slot counts throttled


def busy_reference(offsets, services, first) -> list[int]:
    """Requests in service before each arrival, all admitted: a plain heap of end times."""
    heap: list[float] = []
    busy = []
    for m in range(len(first) - 1):
        for j in range(first[m], first[m + 1]):
            t = m * 60.0 + float(offsets[j])
            while heap and heap[0] <= t:
                heapq.heappop(heap)
            busy.append(len(heap))
            heapq.heappush(heap, t + float(services[j]))
    return busy


@pytest.mark.parametrize("seed", range(6))
def test_busy_counts_equal_a_heap_of_end_times(seed):
    """Ties included: arrivals at the same moment (a batch spread over no time) and
    requests taking no time, or ending exactly when a later one arrives."""
    counts = random_counts(seed, minutes=60)
    first = first_of(counts)
    total = int(counts.sum())
    rng = np.random.default_rng([seed, 4])
    marks, epochs, offsets = rng.random(total), rng.random(total), rng.random(total)
    spread_s = 0.0 if seed % 2 else 0.5
    placed = batch_offsets(
        first, marks, epochs, offsets, 6.0, spread_s, np.empty(total, np.float32)
    )
    services = (rng.standard_exponential(total) * 0.8).astype(np.float32)
    services[rng.random(total) < 0.05] = 0.0
    if seed % 3 == 0:
        services[:] = np.float32(0.25)
        placed = (np.round(placed * 8) / 8).astype(np.float32)
    busy = np.empty(total, np.int32)
    most = busy_before(placed, services, first, busy)
    expected = busy_reference(placed, services, first)
    assert busy.tolist() == expected
    assert most == max(expected) > 3
