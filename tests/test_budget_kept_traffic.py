"""The requests a search keeps across configurations fit in the memory budget beside its runs."""

from __future__ import annotations

import lfvsim
from lfvsim.budget import (
    BYTES_PER_SHARED_REQUEST,
    GIB,
    SHARED_TRAFFIC_MAX_BYTES,
    Limits,
    kept_traffic_bytes,
    repeated,
    simulation_estimate,
    synthetic_load,
)


def scenario(rate_tps: float = 2.0, duration_h: float = 1.0) -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 3},
            "traffic": {"kind": "constant", "rate_tps": rate_tps, "duration_h": duration_h},
        }
    )


def runs_bytes(sc: lfvsim.Scenario, replications: int, workers: int) -> float:
    one = simulation_estimate(sc, synthetic_load(sc.traffic))
    return repeated(one, replications, workers, shared_traffic=True).memory_bytes


def test_small_traffic_is_kept_whole_with_room_for_random_counts():
    sc = scenario()  # 7,200 requests a replication
    kept = kept_traffic_bytes(sc, None, 10, 1, Limits())
    assert kept >= 10 * 7_200 * BYTES_PER_SHARED_REQUEST * 1.2
    assert kept < 10 * 7_200 * BYTES_PER_SHARED_REQUEST * 1.5


def test_what_is_kept_fills_only_the_room_the_runs_leave():
    sc = scenario(rate_tps=200.0, duration_h=24)  # 17 M requests, 276 MB a replication
    for workers in (1, 2):
        runs = runs_bytes(sc, 10, workers)
        room = 100 * 1024**2
        limits = Limits(memory_gib=(runs + room) / GIB)
        kept = kept_traffic_bytes(sc, None, 10, workers, limits)
        assert abs(kept - room) <= 1  # capped by the budget, not by what it would keep
        assert runs + kept <= limits.memory_gib * GIB + 1
    # No room left beside the runs: nothing is kept (every run draws its own).
    tight = Limits(memory_gib=runs_bytes(sc, 10, 1) / GIB * 0.9)
    assert kept_traffic_bytes(sc, None, 10, 1, tight) == 0


def test_allowing_large_work_lifts_the_budget_but_not_the_cap_or_the_machine():
    sc = scenario(rate_tps=200.0, duration_h=24)
    small = Limits(memory_gib=0.5, allow_large=True)
    assert kept_traffic_bytes(sc, None, 10, 1, small) == SHARED_TRAFFIC_MAX_BYTES
    machine = runs_bytes(sc, 10, 1) / GIB + 0.25
    tight_machine = Limits(allow_large=True, machine_memory_gib=machine)
    assert kept_traffic_bytes(sc, None, 10, 1, tight_machine) == int(0.25 * GIB)
