"""A budget refusal leads with what shrinks the term that dominates: the traffic for a trace
of very many requests, the unit MTBF for a run of very many unit failures."""

from __future__ import annotations

import pytest

from lfvsim.budget import BudgetError, Limits, TrafficLoad, check, repeated, simulation_estimate
from tests.conftest import scenario

GENERIC = "simulate a shorter horizon (simulation.horizon_h) or fewer units"
LIMITS = Limits(memory_gib=4.0, hours=2.0)


def _refusal(estimate, how_to_shrink=GENERIC, limits=LIMITS) -> str:
    with pytest.raises(BudgetError) as info:
        check(estimate, how_to_shrink, limits)
    return str(info.value)


def test_a_trace_of_very_many_requests_is_told_to_replay_less_traffic():
    load = TrafficLoad(duration_s=120.0, requests=2e15, peak_requests_per_hour=2e15)
    estimate = simulation_estimate(scenario(), load)
    assert (estimate.memory_driver, estimate.time_driver) == ("requests", "requests")
    message = _refusal(estimate)
    assert "most of it is the traffic" in message and "--scale below 1" in message
    assert message.index("--scale") < message.index("shorter horizon")
    # Past the machine's memory too, and for repeated runs.
    machine = Limits(memory_gib=1e12, hours=1e12, machine_memory_gib=24.0)
    assert "--scale below 1" in _refusal(repeated(estimate, 3), limits=machine)


def test_many_unit_failures_are_told_to_lengthen_the_mtbf():
    sc = scenario(
        model={"project": "p", "min_units": 1, "max_units": 1000},
        failures={"unit_mtbf_h": 0.1},
    )
    load = TrafficLoad(duration_s=8760 * 3600.0, requests=1e6, peak_requests_per_hour=1e3)
    estimate = simulation_estimate(sc, load)
    assert estimate.time_driver == "failures"
    assert "give a longer failures.unit_mtbf_h" in _refusal(estimate)


def test_the_horizon_advice_stands_alone_when_minutes_dominate_or_the_caller_said_it():
    load = TrafficLoad(duration_s=1e9, requests=10.0, peak_requests_per_hour=1.0)
    estimate = simulation_estimate(scenario(), load)
    assert estimate.time_driver == "minutes"
    message = _refusal(estimate)
    assert "most of it" not in message and GENERIC in message
    heavy = simulation_estimate(
        scenario(), TrafficLoad(duration_s=120.0, requests=2e15, peak_requests_per_hour=2e15)
    )
    told = "write less traffic (a lower rate or --scale) or a shorter trace"
    assert "most of it" not in _refusal(heavy, told)
