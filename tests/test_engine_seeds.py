"""One seed rule for runs and experiments: given, else the scenario's, else a fallback."""

from __future__ import annotations

import pytest

import lfvsim
from lfvsim.engine import resolve_seed
from lfvsim.experiments import compare_arrivals, compare_modes
from lfvsim.traces import PoissonArrivals


def scenario(seed: int | None) -> lfvsim.Scenario:
    data = {
        "model": {"min_units": 1, "max_units": 2},
        "traffic": {"kind": "constant", "rate_tps": 2.0, "duration_h": 0.25},
        "simulation": {} if seed is None else {"seed": seed},
    }
    return lfvsim.Scenario.model_validate(data)


def test_given_seed_wins_then_the_scenarios_then_the_fallback():
    assert resolve_seed(5, scenario(9), fallback=0) == 5
    assert resolve_seed(None, scenario(9), fallback=0) == 9
    assert resolve_seed(None, scenario(None), fallback=0) == 0
    assert resolve_seed(0, scenario(9)) == 0  # 0 is a seed, not "unset"


def test_no_seed_anywhere_draws_fresh_entropy_in_63_bits():
    drawn = {resolve_seed(None, scenario(None)) for _ in range(5)}
    assert len(drawn) == 5
    assert all(0 <= s < 2**63 for s in drawn)


def test_a_negative_seed_is_an_input_error():
    with pytest.raises(lfvsim.InputError, match="seed -1 is negative"):
        resolve_seed(-1, scenario(None))


def test_compare_modes_runs_every_mode_on_one_fresh_seed():
    table = compare_modes(scenario(None), ["always-on", "scenario"])
    assert table["seed"].nunique() == 1


def test_compare_arrivals_defaults_to_seed_zero():
    # Its table is the same on every call without a seed, unlike a run's fresh entropy.
    first = compare_arrivals(scenario(None), models=[PoissonArrivals()])
    again = compare_arrivals(scenario(None), models=[PoissonArrivals()], seed=0)
    assert first.equals(again)
