"""Parts of the data-plane kernel that its speed depends on, against plain references."""

from __future__ import annotations

import numpy as np

import lfvsim
from lfvsim.engine import kernel
from lfvsim.engine.dataplane import DataPlane
from lfvsim.scenario import Unit


def _sift_down_reference(ht: list[float], hs: list[int], n: int, i: int) -> None:
    """The textbook sift-down, branching on the smaller child (the left one on ties)."""
    t, s = ht[i], hs[i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and ht[child + 1] < ht[child]:
            child += 1
        if ht[child] >= t:
            break
        ht[i], hs[i] = ht[child], hs[child]
        i = child
    ht[i], hs[i] = t, s


def test_sift_down_moves_every_entry_as_the_branching_version_does():
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 5, 8, 9, 28, 44):
        # Whole seconds: many ties, where the choice of the left child shows.
        ht = np.sort(rng.integers(0, 6, n)).astype(float)
        hs = rng.permutation(n).astype(np.int64)
        ref_t, ref_s = ht.tolist(), hs.tolist()
        for _ in range(300):
            end = ht[0] + float(rng.integers(0, 6))
            ht[0] = end
            ref_t[0] = end
            kernel._sift_down(ht, hs, n, 0)
            _sift_down_reference(ref_t, ref_s, n, 0)
            assert ht.tolist() == ref_t and hs.tolist() == ref_s, f"{n} slots"


def _unit(slots: int) -> Unit:
    return lfvsim.Scenario.model_validate(
        {
            "unit": {"slots": slots, "when_busy": "throttle"},
            "traffic": {"kind": "constant", "rate_tps": 1, "duration_h": 1},
        }
    ).unit


def test_latencies_binned_in_batches_fill_both_histograms_as_one_by_one():
    # Several batches of latencies in one call and a partial one at the end, on enough
    # slots that every request is served at once: its latency is its service time.
    n = 3 * kernel.LAT_BATCH + 17
    rng = np.random.default_rng(3)
    arrivals = np.sort(rng.uniform(0.0, 600.0, n))
    services = rng.lognormal(-1.0, 1.5, n)
    plane = DataPlane(iter([(arrivals, services)]), _unit(4), 10)
    plane.add_units(np.arange(n), 0.0)
    plane.advance(600.0)
    assert plane.accepted.sum() == n and plane.throttled.sum() == 0
    want_all = np.zeros(kernel.HIST_ALL[2], np.int64)
    want_min = np.zeros_like(plane.hist_minute)
    for t, lat in zip(arrivals, services, strict=True):
        want_all[kernel.hist_bin(lat, *_tables(kernel.HIST_ALL))] += 1
        want_min[int(t // 60), kernel.hist_bin(lat, *_tables(kernel.HIST_MINUTE))] += 1
    assert np.array_equal(plane.hist_all, want_all)
    assert np.array_equal(plane.hist_minute, want_min)
    assert plane.acc[kernel.ACC_STARTED] == n


def _tables(hist: tuple[float, int, int]) -> tuple:
    if hist == kernel.HIST_ALL:
        return kernel._ALL_EDGES, kernel._ALL_FIRST, kernel._ALL_OFFSET, kernel._ALL_SHIFT
    return kernel._MIN_EDGES, kernel._MIN_FIRST, kernel._MIN_OFFSET, kernel._MIN_SHIFT


def test_offered_and_accepted_counts_follow_the_minute_of_each_attempt():
    # Requests in minutes 0, 2 and 9 (the last row also takes anything later), on one slot:
    # the minute counts are added when the minute changes and at the end of the call.
    arrivals = np.array([1.0, 2.0, 130.0, 131.0, 132.0, 590.0])
    services = np.array([0.5, 0.5, 5.0, 0.1, 0.1, 0.1])
    plane = DataPlane(iter([(arrivals, services)]), _unit(1), 10)
    plane.add_units(np.array([0]), 0.0)
    plane.advance(100.0)  # the first call stops at minute 1
    plane.advance(600.0)
    offered = np.zeros(10, np.int64)
    offered[[0, 2, 9]] = [2, 3, 1]
    accepted = offered.copy()
    accepted[2] = 1  # 131 and 132 s come while the 130 s request is served
    assert np.array_equal(plane.offered, offered)
    assert np.array_equal(plane.accepted, accepted)
    assert plane.throttled[2] == 2 and plane.throttled.sum() == 2


def test_the_rounded_division_gives_minute_m_exactly_from_60_m_up_to_60_m_plus_60():
    # serve_block keeps the minute of int(t / 60.0) while 60 m <= t < 60 (m + 1): exact
    # only if the division never rounds a time just below 60 k up to k. Times a few floats
    # either side of minute starts up to ten years, and anywhere.
    rng = np.random.default_rng(5)
    ks = np.concatenate([np.arange(1, 5000), rng.integers(1, 5_256_000, 20000)]) * 60.0
    ts = np.concatenate(
        [ks + s * np.spacing(ks) for s in range(-4, 5)]
        + [np.nextafter(ks, 0.0), rng.uniform(0.0, 3.2e8, 20000)]
    )
    minute = (ts / 60.0).astype(np.int64)
    assert np.all(minute * 60.0 <= ts) and np.all(ts < (minute + 1) * 60.0)


def _spread_reference(busy: list[float], t: float, end: float) -> None:
    """Slot occupancy from ``t`` to ``end`` added to each minute in turn, as floats."""
    m = int(t / 60.0)
    while m < len(busy) and t < end:
        edge = (m + 1) * 60.0
        if end <= edge:
            busy[m] += end - t
            return
        busy[m] += edge - t
        t = edge
        m += 1


def _edge_times(rng: np.random.Generator, n: int, minutes: int) -> np.ndarray:
    """Arrival times, many of them a few floats either side of a minute's start."""
    near = 60.0 * rng.integers(1, minutes + 2, n)
    steps = rng.integers(-3, 4, n)
    near = np.array([x + s * np.spacing(x) for x, s in zip(near, steps, strict=True)])
    anywhere = rng.uniform(0.0, 60.0 * (minutes + 2), n)
    return np.sort(np.where(rng.random(n) < 0.5, near, anywhere))


def test_busy_seconds_and_latency_sums_of_requests_served_at_once_are_the_plain_sums():
    # Served at once on enough slots: each request adds its service time to the latency
    # sum and its occupancy to the minutes it spans, in arrival order, as plain floats;
    # some arrive after the last minute kept (their occupancy is dropped).
    rng = np.random.default_rng(11)
    minutes = 8
    n = 4000
    arrivals = _edge_times(rng, n, minutes)
    services = rng.lognormal(2.0, 1.5, n)  # many span a minute's end, some several
    plane = DataPlane(iter([(arrivals, services)]), _unit(4), minutes)
    plane.add_units(np.arange(n), 0.0)
    for t in (61.0, 200.0, np.nextafter(240.0, 0.0), 1e6):  # several calls
        plane.advance(t)
    busy = [0.0] * minutes
    lat_sum, lat_max = 0.0, 0.0
    for t, s in zip(arrivals.tolist(), services.tolist(), strict=True):
        _spread_reference(busy, t, t + s)
        lat_sum += s
        lat_max = max(lat_max, s)
    assert plane.busy_s.tolist() == busy
    assert plane.acc[kernel.ACC_LAT] == lat_sum
    assert plane.acc[kernel.ACC_LAT_MAX] == lat_max
    assert plane.acc[kernel.ACC_STARTED] == n
    assert plane.acc[kernel.ACC_WAIT] == 0.0 and plane.acc[kernel.ACC_WAITED] == 0.0


def test_busy_seconds_and_latency_sums_with_a_queue_are_the_plain_sums_in_start_order():
    # One slot and an unbounded queue: requests that wait start when the slot falls free,
    # before the next arrival is taken; the sums get each request's figures at its start.
    rng = np.random.default_rng(12)
    minutes = 6
    n = 600
    arrivals = _edge_times(rng, n, minutes - 1)
    services = rng.exponential(0.9 * (arrivals[-1] / n), n)
    unit = lfvsim.Scenario.model_validate(
        {
            "unit": {"slots": 1, "when_busy": "queue"},
            "traffic": {"kind": "constant", "rate_tps": 1, "duration_h": 1},
        }
    ).unit
    plane = DataPlane(iter([(arrivals, services)]), unit, minutes)
    plane.add_units(np.array([0]), 0.0)
    horizon = 60.0 * (minutes + 3)
    plane.advance(horizon)
    busy = [0.0] * minutes
    lat_sum, wait_sum, lat_max, waited = 0.0, 0.0, 0.0, 0
    free_at = 0.0
    for t, s in zip(arrivals.tolist(), services.tolist(), strict=True):
        start = free_at if free_at > t else t  # FIFO on one slot: start order = arrival order
        free_at = start + s
        _spread_reference(busy, start, start + s)
        lat_sum += start - t + s
        wait_sum += start - t
        lat_max = max(lat_max, start - t + s)
        waited += start > t
    assert free_at < horizon and waited > n // 10  # the queue was used
    assert plane.busy_s.tolist() == busy
    assert plane.acc[kernel.ACC_LAT] == lat_sum
    assert plane.acc[kernel.ACC_WAIT] == wait_sum
    assert plane.acc[kernel.ACC_LAT_MAX] == lat_max
    assert plane.acc[kernel.ACC_WAITED] == waited
    assert plane.acc[kernel.ACC_STARTED] == n


def _plane_run(record: bool, when_busy: str, client: dict, seed: int) -> DataPlane:
    """Ten minutes at about the capacity of 2 then 3 units of 2 slots, with a change of
    units, a throttle cause, several calls and times on minute starts."""
    rng = np.random.default_rng(seed)
    arrivals = _edge_times(rng, 3000, 9)
    services = rng.exponential(0.8, len(arrivals))
    scenario = lfvsim.Scenario.model_validate(
        {
            "unit": {"slots": 2, "when_busy": when_busy, "queue_limit": 3},
            "client": client,
            "traffic": {"kind": "constant", "rate_tps": 1, "duration_h": 1},
        }
    )
    plane = DataPlane(
        iter([(arrivals[:1800], services[:1800]), (arrivals[1800:], services[1800:])]),
        scenario.unit,
        10,
        record=record,
        client=scenario.client,
        jitter_seed=seed,
    )
    plane.add_units(np.array([0, 1]), 0.0)
    for t in (60.0, 200.0, 333.3):
        plane.advance(t)
    plane.add_units(np.array([2]), 333.3)
    for t in (420.0, 480.0, 2000.0):
        plane.advance(t)
    return plane


def test_the_loop_for_requests_served_at_once_gives_what_the_general_loop_gives():
    # Recording requests turns that loop off: with it and without, every count, sum and
    # histogram must be the same, with throttles, retries without a quota, and a queue.
    cases = [
        ("throttle", {"retry_mode": "legacy"}),
        ("throttle", {"retry_mode": "standard", "retry_quota": False}),
        ("queue", {}),
        ("throttle", {}),
    ]
    for k, (when_busy, client) in enumerate(cases):
        general = _plane_run(True, when_busy, client, 20 + k)
        fast = _plane_run(False, when_busy, client, 20 + k)
        assert general.accepted.sum() > 0 and general.throttled.sum() > 100, when_busy
        assert np.array_equal(fast.counts, general.counts), (when_busy, client)
        assert fast.busy_s.tolist() == general.busy_s.tolist()
        assert np.array_equal(fast.hist_minute, general.hist_minute)
        assert np.array_equal(fast.hist_all, general.hist_all)
        assert fast.acc.tolist() == general.acc.tolist()
        assert np.array_equal(fast.served_by_unit, general.served_by_unit)
