"""The Python API checks the budget too: once per call, never per simulation of an
experiment, and not again for work a command has costed already."""

from __future__ import annotations

import pytest

import lfvsim
import lfvsim.budget
import lfvsim.cli.budgeting
from lfvsim.budget import BudgetError, checked
from lfvsim.errors import InputError
from lfvsim.experiments import replicate, sweep
from lfvsim.experiments.compare import compare_modes
from tests.conftest import scenario

#: A day at 10^9 requests per second: petabytes if it were ever drawn.
HUGE = {"kind": "constant", "rate_tps": 1e9, "duration_h": 24}


@pytest.fixture
def estimates(monkeypatch) -> list[int]:
    """Counts the budget's estimates of one simulation (one per check)."""
    calls: list[int] = []
    real = lfvsim.budget.simulation_estimate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lfvsim.budget, "simulation_estimate", counted)
    monkeypatch.setattr(lfvsim.cli.budgeting, "simulation_estimate", counted)  # the commands'
    return calls


def test_simulate_refuses_petabytes_before_allocating():
    with pytest.raises(BudgetError, match="shorter horizon") as info:
        lfvsim.simulate(scenario(traffic=HUGE), seed=1)
    message = str(info.value)
    assert "TiB" in message or "PiB" in message
    assert "more than this machine's" in message
    assert isinstance(info.value, InputError)
    # Past the machine's memory even allow_large refuses.
    with pytest.raises(BudgetError, match="more than this machine's"):
        lfvsim.simulate(scenario(traffic=HUGE), seed=1, allow_large=True)


def test_simulate_honours_the_configured_budget_and_allow_large(monkeypatch):
    sc = scenario()
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    with pytest.raises(BudgetError, match=r"over the 0.01 GiB memory budget.*allow_large=True"):
        lfvsim.simulate(sc, seed=1)
    result = lfvsim.simulate(sc, seed=1, allow_large=True)
    assert result.summary.requests > 0
    monkeypatch.setenv("LFVSIM_ALLOW_LARGE", "1")
    assert lfvsim.simulate(sc, seed=1).summary.requests == result.summary.requests


def test_replicate_sweep_and_compare_refuse_before_running():
    huge = scenario(traffic=HUGE)
    with pytest.raises(BudgetError, match="fewer replications"):
        replicate(huge, 3, seed=1)
    with pytest.raises(BudgetError, match="smaller min_units/max_units ranges"):
        sweep(huge, min_units=[1], max_units=[1, 2], replications=2, seed=1, workers=1)
    with pytest.raises(BudgetError, match="fewer modes"):
        compare_modes(huge, ["always-on", "batch"], seed=1)


def test_compare_costs_the_mode_with_the_most_units():
    # The scenario is small; always-on with 10^9 units is not (it used to run out of memory).
    with pytest.raises(BudgetError, match=r"1,000,000,000 units"):
        compare_modes(scenario(), ["always-on", "always-on:1000000000"], seed=1)


def test_a_sweep_grid_is_costed_as_a_whole(monkeypatch, tmp_path):
    # Each run is small; 2,000 configurations x 200 replications are not.
    monkeypatch.setenv("LFVSIM_MAX_HOURS", "1")
    out = tmp_path / "grid.csv"
    with pytest.raises(BudgetError, match=r"simulations.*over the 1 h time budget"):
        sweep(
            scenario(),
            min_units=range(1, 41),
            max_units=range(1, 51),
            replications=200,
            seed=1,
            workers=1,
            output=out,
        )
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_experiment_checks_once_not_per_simulation(estimates):
    table = sweep(scenario(), min_units=[1], max_units=[1, 2], replications=3, seed=1, workers=1)
    assert len(table) == 9  # 3 configurations x 3 replications, in this process
    assert len(estimates) == 1
    estimates.clear()
    reps = replicate(scenario(), 4, seed=1)
    assert len(reps.table) == 4 and len(estimates) == 1


def test_work_already_costed_is_not_checked_again(estimates, monkeypatch):
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")  # would refuse if checked
    with checked():
        result = lfvsim.simulate(scenario(), seed=1)
    assert result.summary.requests > 0 and estimates == []
    with pytest.raises(BudgetError):
        lfvsim.simulate(scenario(), seed=1)  # outside: checked again


def test_a_command_checks_once(cli, tmp_path, estimates):
    path = tmp_path / "s.toml"
    path.write_text('[traffic]\nkind = "constant"\nrate_tps = 2\nduration_h = 1\n')
    code, _out, err = cli("run", path, "--json")
    assert code == 0, err
    assert len(estimates) == 1
    estimates.clear()
    code, _out, err = cli("run", path, "--json", "--replications", "3")
    assert code == 0, err
    assert len(estimates) == 1
