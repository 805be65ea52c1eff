"""Drawing the next block of requests on a second thread changes nothing a run sees."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import scenario

from lfvsim.engine.fast import simulate_summary
from lfvsim.engine.traffic import draw_traffic, horizon_of, prefetched, traffic_blocks
from lfvsim.traces import trace_from_scenario


def diurnal(hours: float):
    return scenario(
        model={"min_units": 1, "max_units": 4},
        unit={"slots": 2, "latency_mean_s": 0.5, "latency_distribution": "exponential"},
        autoscaler={"policy": "target_tracking"},
        traffic={"kind": "diurnal", "mean_tps": 5.0, "peak_to_trough": 3.0, "duration_h": hours},
    )


def drawer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lfvsim-draw")]


def test_prefetched_blocks_are_the_blocks_drawn_directly():
    sc = diurnal(4.5)
    trace = trace_from_scenario(sc)
    horizon = horizon_of(sc, trace)
    direct = list(traffic_blocks(trace, sc.unit, 21, horizon))
    ahead = list(prefetched(traffic_blocks(trace, sc.unit, 21, horizon)))
    assert len(direct) == len(ahead) == 5  # hour-long blocks
    for (a, s), (a2, s2) in zip(direct, ahead, strict=True):
        np.testing.assert_array_equal(a, a2)
        np.testing.assert_array_equal(s, s2)


def test_an_error_while_drawing_reaches_the_caller_after_the_blocks_before_it():
    def source():
        yield np.zeros(1), np.zeros(1)
        yield np.ones(1), np.ones(1)
        raise MemoryError("drawing block 3")

    got = []
    with pytest.raises(MemoryError, match="block 3"):
        for arrivals, _ in prefetched(source()):
            got.append(float(arrivals[0]))
    assert got == [0.0, 1.0]
    assert not drawer_threads()


def test_a_caller_that_stops_early_leaves_no_thread_drawing():
    drawn = []

    def source():
        for i in range(1000):
            drawn.append(i)
            yield np.full(1, i), np.zeros(1)

    blocks = prefetched(source())
    assert next(blocks)[0][0] == 0
    blocks.close()
    assert not drawer_threads()
    assert drawn == [0, 1]  # the one block drawn ahead, no more


def test_fast_path_drawing_ahead_equals_replaying_drawn_traffic():
    sc = diurnal(3.2)
    trace = trace_from_scenario(sc)
    traffic = draw_traffic(sc, trace, 5)
    assert traffic is not None and len(traffic.arrivals) == 4
    own = simulate_summary(sc, trace, 5, engine="fast")
    replayed = simulate_summary(sc, trace, 5, traffic=traffic, engine="fast")
    assert own.engine == replayed.engine == "fast"
    assert own.summary == replayed.summary
    assert not drawer_threads()
