"""A sweep's --vary combinations are costed each on its own and summed, not every run as the
costliest: light values add little, and a value too heavy alone is still refused."""

from __future__ import annotations

import pytest

import lfvsim
from lfvsim.budget import (
    BudgetError,
    check_variant_runs,
    repeated,
    repeated_variants,
    simulation_estimate,
    synthetic_load,
)
from lfvsim.cli.budgeting import check_sweep

RATES = [1.0, 2.0, 3.0, 400.0]  # the last alone nearly all of the sweep's time
RUNS_EACH = 6  # Min 1 with Max 1..2 (and the fixed row), 2 replications


def scenario() -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 2},
            "traffic": {"kind": "constant", "rate_tps": 1.0, "duration_h": 24},
        }
    )


def estimates(rates: list[float]) -> list:
    largest = scenario()
    out = []
    for rate in rates:
        variant = largest.with_overrides({"traffic.rate_tps": rate}, source="test")
        out.append(simulation_estimate(variant, synthetic_load(variant.traffic)))
    return out


def sweep_budget(rates: list[float]) -> None:
    check_sweep(scenario(), [1], [1, 2], 2, {"traffic.rate_tps": rates}, False, 1)


def test_the_heaviest_value_alone_near_the_limit_passes(monkeypatch):
    ones = estimates(RATES)
    summed = repeated_variants(ones, RUNS_EACH, 1, shared_traffic=True)
    at_heaviest = repeated(ones[-1], RUNS_EACH * len(RATES), 1, shared_traffic=True)
    heaviest_alone = repeated(ones[-1], RUNS_EACH, 1, shared_traffic=True)
    assert heaviest_alone.seconds > 0.95 * summed.seconds  # near the whole
    assert at_heaviest.seconds > 3.5 * summed.seconds  # what the old estimate said
    assert summed.memory_bytes < heaviest_alone.memory_bytes + 1e6  # one variant at a time
    limit_h = 1.2 * summed.seconds / 3600
    monkeypatch.setenv("LFVSIM_MAX_HOURS", f"{limit_h:.6f}")
    sweep_budget(RATES)  # accepted: costed as the sum, under the limit
    # The library's own check (a sweep called from Python) costs the same way.
    largest = scenario()
    variants = [largest.with_overrides({"traffic.rate_tps": r}, source="test") for r in RATES]
    traces = [lfvsim.traces.trace_from_scenario(v) for v in variants]
    check_variant_runs(variants, traces, RUNS_EACH, 1, shared_traffic=True)
    # A last value too heavy alone is refused, by both.
    heavier = [*RATES[:-1], 800.0]
    with pytest.raises(BudgetError, match="lighter --vary values"):
        sweep_budget(heavier)
    variants[-1] = largest.with_overrides({"traffic.rate_tps": 800.0}, source="test")
    traces[-1] = lfvsim.traces.trace_from_scenario(variants[-1])
    with pytest.raises(BudgetError, match="4 variants"):
        check_variant_runs(variants, traces, RUNS_EACH, 1, shared_traffic=True)


def test_one_variant_is_costed_as_before():
    (one,) = estimates([400.0])
    assert repeated_variants([one], RUNS_EACH, 2, True) == repeated(one, RUNS_EACH, 2, True)
