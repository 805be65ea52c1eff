"""recommend's search draws each replication's requests once for every configuration."""

from __future__ import annotations

import contextlib
import importlib

import pandas as pd
import pytest

import lfvsim
from lfvsim.experiments import executors
from lfvsim.experiments import search as search_module
from lfvsim.experiments.executors import LocalExecutor, SerialExecutor, keep_traffic
from lfvsim.experiments.recommend import Slo, best_cost
from lfvsim.experiments.search import search
from lfvsim.experiments.sequential import sequential_rule
from lfvsim.traces import generators

REPLICATIONS = 4
# Where a run's requests are drawn: to keep (draw_traffic), or inside one run.
DRAWING = [importlib.import_module(m) for m in ("lfvsim.engine.traffic", "lfvsim.engine.simulate")]


def scenario() -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 2},
            "unit": {"slots": 2, "latency_mean_s": 0.5},
            "autoscaler": {"provisioning_delay_s": 120},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 1},
        }
    )


def trace() -> lfvsim.Trace:
    base = generators.constant(3.0, 1 / 6, "2026-01-05T00:00Z")
    return generators.spikes(base, per_day=192, multiplier=3.0, duration_s=300, seed=2)


def run_search(executor: SerialExecutor, early_stop: bool = False) -> search_module.SearchResult:
    slo = Slo(0.01)
    return search(
        scenario(),
        lambda t: best_cost(t, slo),
        min_units=range(1, 4),
        max_units=range(1, 6),
        replications=REPLICATIONS,
        seed=7,
        trace=trace(),
        dask=executor,
        early_stop=sequential_rule(slo, REPLICATIONS) if early_stop else None,
    )


@pytest.fixture
def draws(monkeypatch):
    """Counts the draws of a run's requests: kept to share, or drawn inside one run."""
    count = [0]

    for module in DRAWING:
        real = module.traffic_blocks

        def counting(*args, real=real, **kwargs):
            count[0] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "traffic_blocks", counting)
    return count


@pytest.mark.parametrize("early_stop", [False, True])
def test_search_table_is_identical_with_and_without_kept_traffic(monkeypatch, early_stop):
    kept = run_search(SerialExecutor(), early_stop)
    independent = run_search(SerialExecutor(share_traffic=False), early_stop)
    monkeypatch.setattr(search_module, "keep_traffic", contextlib.nullcontext)
    last_only = run_search(SerialExecutor(), early_stop)
    assert kept.simulated > 5  # a real search, many configurations
    for other in (independent, last_only):
        pd.testing.assert_frame_equal(kept.table, other.table, check_exact=True)
        assert kept.to_dict() == other.to_dict()


def test_search_draws_each_replication_once(draws, monkeypatch):
    got = run_search(SerialExecutor())
    # The oracle and every configuration simulated share the same requests per replication.
    assert got.runs_simulated > 5 * REPLICATIONS
    assert draws[0] == REPLICATIONS
    draws[0] = 0
    monkeypatch.setattr(search_module, "keep_traffic", contextlib.nullcontext)
    run_search(SerialExecutor())
    # One configuration at a time: a draw per run, and the oracle's runs (one per
    # replication) draw once more for the oracle's look-ahead.
    assert draws[0] == got.runs_simulated + REPLICATIONS


def test_kept_traffic_beyond_the_budget_is_drawn_again(draws):
    sc, tr = scenario(), trace()
    seeds = [1, 2, 3]
    with keep_traffic(budget_bytes=1):  # nothing fits: every run draws its own
        for _ in range(2):
            for seed in seeds:
                assert executors._shared_traffic(sc, tr, seed) is not None
    assert draws[0] == 2 * len(seeds)
    draws[0] = 0
    with keep_traffic():
        for _ in range(2):
            for seed in seeds:
                executors._shared_traffic(sc, tr, seed)
        assert len(executors._CACHE.kept) == len(seeds)
    assert draws[0] == len(seeds)
    assert executors._CACHE.kept == ()  # let go when the block ends


def test_a_search_on_worker_processes_keeps_one_pool_and_gives_the_same_table():
    serial = run_search(SerialExecutor(), early_stop=True)
    pooled_executor = LocalExecutor(2)
    pools = []
    real = pooled_executor._pool_for

    def counting(*args, **kwargs):
        pools.append(args)
        return real(*args, **kwargs)

    pooled_executor._pool_for = counting  # type: ignore[method-assign]
    pooled = run_search(pooled_executor, early_stop=True)
    pd.testing.assert_frame_equal(serial.table, pooled.table, check_exact=True)
    assert len(pools) == 1  # one pool for every configuration's sweep
    assert pooled_executor._pool is None  # and stopped when the search ends


def test_search_keeps_no_more_than_the_budget_leaves(draws, monkeypatch):
    full = run_search(SerialExecutor())
    assert draws[0] == REPLICATIONS
    asked = []
    one_replication = executors.draw_traffic(scenario(), trace(), 1).nbytes
    real = search_module.kept_traffic_bytes

    def room_for_one(*args, **kwargs):
        asked.append(real(*args, **kwargs))
        return int(1.5 * one_replication)  # what a tight budget leaves beside the runs

    monkeypatch.setattr(search_module, "kept_traffic_bytes", room_for_one)
    draws[0] = 0
    tight = run_search(SerialExecutor())
    assert asked and asked[0] > 4 * one_replication  # the real budget would keep them all
    # One replication kept, the others drawn again for every configuration: same table.
    assert draws[0] > 2 * REPLICATIONS
    pd.testing.assert_frame_equal(full.table, tight.table, check_exact=True)
