"""compare and the arrival sensitivity: summaries only, same figures as simulate."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
from conftest import scenario

import lfvsim
from lfvsim.experiments import compare_arrivals, compare_modes
from lfvsim.experiments.compare import mode_overrides
from lfvsim.traces import (
    BatchArrivals,
    EvenArrivals,
    PoissonArrivals,
    generators,
    to_counts,
    trace_from_scenario,
    with_arrivals,
)

MODES = ["always-on:2", "autoscaled", "batch", "no-auto-scaling:1"]


def bursty() -> lfvsim.Scenario:
    return scenario(
        model={"min_units": 1, "max_units": 3},
        unit={"slots": 2, "latency_mean_s": 0.5, "latency_distribution": "lognormal"},
        autoscaler={"provisioning_delay_s": 60},
        client={"retry_mode": "standard"},
        traffic={"kind": "diurnal", "mean_tps": 6.0, "peak_to_trough": 4.0, "duration_h": 1},
    )


def same(a: object, b: object) -> bool:
    return a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b))  # type: ignore[arg-type]


def test_compare_modes_gives_simulates_figures_for_every_mode_and_column():
    sc = bursty()
    trace = trace_from_scenario(sc)
    table = compare_modes(sc, MODES, trace=trace, seed=5)
    for mode in MODES:
        over = mode_overrides(sc, mode)
        s = lfvsim.simulate(sc.with_overrides(over, mode), trace=trace, seed=5).summary
        row = table[table["mode"] == mode].iloc[0]
        for column in ("cost_usd", "unit_hours", "hosted_h", "throttle_rate", "unavailable",
                       "failure_rate", "latency_p99_s", "min_units", "seed"):  # fmt: skip
            assert same(row[column], getattr(s, column)), (mode, column)
        assert row["throttle_rate"] > 0 or mode == "batch"  # real runs, not empty ones


def test_compare_modes_draws_the_requests_once_for_modes_that_share_them(monkeypatch):
    sc = bursty()
    trace = trace_from_scenario(sc)
    count = [0]
    for name in ("lfvsim.engine.traffic", "lfvsim.engine.simulate"):
        module = importlib.import_module(name)

        def counting(*args, real=module.traffic_blocks, **kwargs):
            count[0] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "traffic_blocks", counting)
    compare_modes(sc, ["always-on:2", "autoscaled", "no-auto-scaling:3"], trace=trace, seed=5)
    assert count[0] == 1


def test_compare_arrivals_gives_simulates_figures_for_every_model():
    sc = bursty()
    base = generators.constant(4.0, 0.5, "2026-01-05T00:00Z")
    models = [EvenArrivals(), PoissonArrivals(), BatchArrivals(4.0, 0.5)]
    table = compare_arrivals(sc, trace=base, models=models, seed=3)
    counts = to_counts(base, getattr(base, "bin_s", 60.0), seed=3)
    for model in models:
        s = lfvsim.simulate(sc, trace=with_arrivals(counts, model), seed=3).summary.to_dict()
        row = table.loc[model.name]
        for column in ("requests", "throttled", "throttle_rate", "latency_p50_s",
                       "latency_p99_s", "unit_hours", "cost_usd", "peak_units"):  # fmt: skip
            assert same(row[column], s[column]), (model.name, column)
    assert isinstance(table, pd.DataFrame) and table["throttled"].sum() > 0
