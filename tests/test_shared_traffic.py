"""Requests drawn once per replication and shared by every configuration change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import scenario

import lfvsim
from lfvsim.engine.traffic import draw_traffic, horizon_of, traffic_blocks
from lfvsim.experiments import compare_modes, recommend, sweep
from lfvsim.experiments.compare import mode_overrides
from lfvsim.experiments.executors import (
    BATCH_TASKS,
    LocalExecutor,
    SerialExecutor,
    Task,
    Workload,
    batches,
)
from lfvsim.traces import trace_from_scenario


def bursty(policy="target_tracking", duration_h=1.0, **extra):
    """A short auto-scaled scenario whose load needs a few units, with retries."""
    return scenario(
        model={"min_units": 1, "max_units": 3},
        unit={"slots": 2, "latency_mean_s": 0.5, "latency_distribution": "lognormal"},
        autoscaler={"provisioning_delay_s": 60, "policy": policy},
        client={"retry_mode": "standard"},
        traffic={
            "kind": "diurnal",
            "mean_tps": 6.0,
            "peak_to_trough": 4.0,
            "duration_h": duration_h,
        },
        **extra,
    )


def sweep_csv(tmp_path, name, executor, **kw):
    out = tmp_path / f"{name}.csv"
    sweep(bursty(), output=out, dask=executor, **kw)
    return out.read_bytes()


def test_shared_traffic_gives_byte_identical_sweep_tables(tmp_path):
    kw = {
        "min_units": [1, 2],
        "max_units": [2, 3, 5],
        "replications": 3,
        "seed": 11,
        "oracle": True,
        # Two latencies: two different draws of service times per replication.
        "vary": {"unit.latency_mean_s": [0.4, 0.6]},
    }
    independent = sweep_csv(tmp_path, "independent", SerialExecutor(share_traffic=False), **kw)
    shared = sweep_csv(tmp_path, "shared", SerialExecutor(), **kw)
    pooled = sweep_csv(tmp_path, "pooled", LocalExecutor(2), **kw)
    assert len(independent) > 1000  # a real table, not an empty one
    assert shared == independent
    assert pooled == independent


def test_recommendation_is_the_same_with_shared_traffic():
    kw = {"min_units": [1, 2], "max_units": [2, 3], "replications": 3, "seed": 4}
    old = sweep(bursty(), dask=SerialExecutor(share_traffic=False), **kw)
    new = sweep(bursty(), dask=SerialExecutor(), **kw)
    a = recommend(old, 0.05).to_dict()
    b = recommend(new, 0.05).to_dict()
    assert a == b


@pytest.mark.parametrize(
    "extra",
    [
        {"policy": "target_tracking"},
        {"policy": "none"},
        {"policy": "oracle"},
        {"hosting": {"mode": "batch", "batch_start_queue": 50}},
    ],
)
def test_simulate_with_drawn_traffic_equals_drawing_it(extra):
    sc = bursty(duration_h=2.5, **extra)
    trace = trace_from_scenario(sc)
    alone = lfvsim.simulate(sc, trace=trace, seed=3, record_requests=True)
    traffic = draw_traffic(sc, trace, 3)
    assert traffic is not None and len(traffic.arrivals) == 3  # hour-long blocks
    shared = lfvsim.simulate(sc, trace=trace, seed=3, record_requests=True, traffic=traffic)
    again = lfvsim.simulate(sc, trace=trace, seed=3, traffic=traffic)  # replayed twice
    assert shared.summary == alone.summary
    assert again.summary == alone.summary
    pd.testing.assert_frame_equal(shared.timeline, alone.timeline)
    pd.testing.assert_frame_equal(shared.requests, alone.requests)


def test_traffic_is_what_the_run_draws_and_fits_only_its_run():
    sc = bursty(duration_h=2.5)
    trace = trace_from_scenario(sc)
    traffic = draw_traffic(sc, trace, 8)
    assert traffic is not None
    drawn = list(traffic_blocks(trace, sc.unit, 8, horizon_of(sc, trace)))
    assert len(drawn) == len(traffic.arrivals)
    for (a, s), a2, s2 in zip(drawn, traffic.arrivals, traffic.services, strict=True):
        np.testing.assert_array_equal(a, a2)
        np.testing.assert_array_equal(s, s2)
    assert traffic.nbytes == 16 * traffic.requests
    recorded = lfvsim.simulate(sc, trace=trace, seed=8, record_requests=True).requests
    np.testing.assert_array_equal(recorded["arrival_s"], np.concatenate(traffic.arrivals))
    np.testing.assert_array_equal(recorded["service_s"], np.concatenate(traffic.services))

    assert traffic.fits(sc.with_overrides({"model.max_units": 7}), trace, 8)
    assert not traffic.fits(sc, trace, 9)
    assert not traffic.fits(sc, trace_from_scenario(sc), 8)  # another trace object
    assert not traffic.fits(sc.with_overrides({"unit.latency_mean_s": 0.3}), trace, 8)
    assert not traffic.fits(sc.with_overrides({"simulation.horizon_h": 0.5}), trace, 8)
    with pytest.raises(ValueError, match="another trace, seed"):
        lfvsim.simulate(sc, trace=trace, seed=9, traffic=traffic)


def test_traffic_over_the_memory_budget_is_not_kept():
    sc = bursty()
    trace = trace_from_scenario(sc)
    expected = 16 * trace.expected_requests
    assert draw_traffic(sc, trace, 1, budget_bytes=int(expected / 2)) is None
    # Just above the expectation: kept, or given up while drawing when the count is higher.
    near = draw_traffic(sc, trace, 1, budget_bytes=int(expected))
    assert near is None or near.nbytes <= expected
    assert draw_traffic(sc, trace, 1, budget_bytes=int(2 * expected)) is not None


def test_batches_group_each_replication_and_keep_every_task_once():
    sc = bursty()
    t1, t2 = trace_from_scenario(sc), trace_from_scenario(sc)
    workload = Workload("w", (sc, sc), (t1, t2))
    tasks = [
        Task(v, (("model.max_units", m),), s)
        for v in (0, 1)
        for m in range(1, 21)
        for s in (100, 200, 300)
    ]
    out = [b for b, share in batches(workload, tasks)]
    assert all(share for _, share in batches(workload, tasks))
    assert sorted(id(t) for b in out for t in b) == sorted(id(t) for t in tasks)
    assert all(1 <= len(b) <= BATCH_TASKS for b in out)
    for b in out:
        assert len({(b[0].variant, t.seed) for t in b}) == 1
        assert {(t.variant, t.seed) for t in b} == {(b[0].variant, b[0].seed)}
    # 2 traces x 3 seeds x 20 configurations: ceil(20 / 16) = 2 batches a replication.
    assert len(out) == 2 * 3 * 2
    # A replication's batches come one after another, in the order of its first task.
    keys = [(b[0].variant, b[0].seed) for b in out]
    assert keys == [(v, s) for v in (0, 1) for s in (100, 200, 300) for _ in range(2)]
    # Replications of a single configuration share nothing: each seed is one run.
    alone = batches(workload, [Task(0, (), s) for s in (1, 2, 3)])
    assert [(len(b), share) for b, share in alone] == [(1, False)] * 3


def test_compare_modes_equals_one_run_per_mode():
    sc = bursty()
    trace = trace_from_scenario(sc)
    table = compare_modes(sc, ["always-on:2", "autoscaled", "batch"], trace=trace, seed=5)
    for mode in ["always-on:2", "autoscaled", "batch"]:
        over = mode_overrides(sc, mode)
        variant = sc.with_overrides(over, mode) if over else sc
        s = lfvsim.simulate(variant, trace=trace, seed=5).summary
        row = table[table["mode"] == mode].iloc[0]
        assert row["cost_usd"] == s.cost_usd
        assert row["throttle_rate"] == s.throttle_rate
        assert row["latency_p99_s"] == s.latency_p99_s or (
            np.isnan(row["latency_p99_s"]) and np.isnan(s.latency_p99_s)
        )


def test_the_budget_counts_the_shared_traffic_with_the_engines_limit():
    from lfvsim import budget
    from lfvsim.engine.traffic import DEFAULT_TRAFFIC_BUDGET_BYTES

    assert budget.SHARED_TRAFFIC_MAX_BYTES == DEFAULT_TRAFFIC_BUDGET_BYTES
    one = budget.Estimate(requests=1e6, simulations=1, memory_bytes=1e8, seconds=1.0)
    alone = budget.repeated(one, 20, workers=2)
    shared = budget.repeated(one, 20, workers=2, shared_traffic=True)
    assert shared.memory_bytes - alone.memory_bytes == 2 * 16 * 1e6
    huge = budget.Estimate(requests=1e12, simulations=1, memory_bytes=1e8, seconds=1.0)
    capped = budget.repeated(huge, 2, workers=1, shared_traffic=True)
    assert capped.memory_bytes - budget.repeated(huge, 2).memory_bytes == 1024**3
