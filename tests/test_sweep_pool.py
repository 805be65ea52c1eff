"""A sweep on worker processes starts its pool once, for every wave and early-stopping look."""

from __future__ import annotations

import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import executors, sweep
from lfvsim.experiments.recommend import Slo, best_cost
from lfvsim.experiments.sequential import sequential_rule
from lfvsim.traces import generators

REPS = 6  # interim looks at 3 and 5, the last at 6


def scenario() -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 2},
            "autoscaler": {"provisioning_delay_s": 120},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 1},
        }
    )


def bursty() -> lfvsim.Trace:
    base = generators.constant(2.5, 1 / 3, "2026-01-05T00:00Z")
    return generators.spikes(base, per_day=96, multiplier=3.0, duration_s=300, seed=3)


@pytest.fixture
def pools(monkeypatch):
    """Counts the process pools that local executors start."""
    started = []
    real = executors.LocalExecutor._pool_for

    def counting(self, *args, **kwargs):
        pool = real(self, *args, **kwargs)
        started.append(pool)
        return pool

    monkeypatch.setattr(executors.LocalExecutor, "_pool_for", counting)
    return started


def run(workers: int, early_stop: bool) -> pd.DataFrame:
    slo = Slo(0.01)
    staged = {"early_stop": sequential_rule(slo, REPS), "best_cost": lambda t: best_cost(t, slo)}
    return sweep(
        scenario(),
        min_units=range(1, 4),
        max_units=range(1, 5),
        replications=REPS,
        seed=5,
        trace=bursty(),
        workers=workers,
        **(staged if early_stop else {}),
    )


@pytest.mark.parametrize("early_stop", [True, False])
def test_a_sweep_on_two_workers_starts_one_pool_and_gives_the_serial_table(pools, early_stop):
    serial = run(1, early_stop)
    assert pools == []  # one worker runs in this process
    pooled = run(2, early_stop)
    pd.testing.assert_frame_equal(serial, pooled, check_exact=True)
    if early_stop:
        assert pooled["stopped_early"].notna().any()  # it did stop at an interim look
    assert len(pools) == 1
    # Stopped when the sweep ends: no worker outlives it.
    assert all(not p._processes for p in pools)


def test_a_reused_pool_serves_several_calls_and_close_stops_it(pools):
    sc, tr = scenario(), bursty()
    workload = executors.Workload("w", (sc,), (tr,), 99.0)
    tasks = [executors.Task(0, (("model.min_units", m),), seed) for m in (1, 2) for seed in (1, 2)]
    fresh = executors.LocalExecutor(2)
    once = dict(fresh.run(workload, tasks))
    assert len(pools) == 1 and fresh._pool is None  # a plain executor stops its pool
    reused = executors.LocalExecutor(2, reuse_pool=True)
    first = dict(reused.run(workload, tasks))
    second = dict(reused.run(workload, tasks[:2]))
    assert len(pools) == 2  # one more pool for both calls

    def table(runs: dict, which: list) -> pd.DataFrame:  # NaN equals NaN here
        return pd.DataFrame([runs[t] for t in which])

    pd.testing.assert_frame_equal(table(first, tasks), table(once, tasks), check_exact=True)
    pd.testing.assert_frame_equal(
        table(second, tasks[:2]), table(once, tasks[:2]), check_exact=True
    )
    assert reused._pool is not None
    reused.close()
    assert reused._pool is None and not pools[-1]._processes
