"""A library budget refusal that reaches the command line names the command's options
(``--min/--max``, ``--replications``), never the library's arguments (``min_units``)."""

from __future__ import annotations

import pytest
import typer

from lfvsim.budget import BudgetError
from lfvsim.cli.app import ALLOW_OPTION, input_errors
from lfvsim.experiments import compare_modes, replicate, sweep
from tests.conftest import scenario

SCENARIO = '[traffic]\nkind = "constant"\nrate_tps = 2\nduration_h = 1\n'


def _refusal(capsys, call) -> str:
    """The line ``input_errors`` prints for the library's refusal inside ``call``."""
    with pytest.raises(typer.Exit) as exit_info, input_errors(allow_large_option=True):
        call()
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith("lfvsim: error: this needs ") and len(err.splitlines()) == 1
    return err


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")  # below any estimate


def test_a_refused_sweep_names_the_range_and_replication_options(capsys, tiny_budget):
    sc = scenario()
    with pytest.raises(BudgetError, match="min_units/max_units ranges"):
        sweep(sc, min_units=[1], max_units=[1, 2], replications=2)  # the library's words
    err = _refusal(capsys, lambda: sweep(sc, min_units=[1], max_units=[1, 2], replications=2))
    assert "give smaller --min/--max ranges or fewer --replications" in err
    assert "min_units" not in err and "fewer replications" not in err
    assert f"allow it with {ALLOW_OPTION}" in err


def test_refused_replications_and_comparisons_name_the_options(capsys, tiny_budget):
    sc = scenario()
    err = _refusal(capsys, lambda: replicate(sc, 3, workers=1))
    assert "use fewer --replications or a shorter horizon" in err
    err = _refusal(capsys, lambda: compare_modes(sc, ["scenario", "batch"]))
    assert "compare fewer --mode values or less traffic" in err


def test_recommends_search_refused_by_the_library_names_the_options(
    cli, tmp_path, monkeypatch, tiny_budget
):
    # recommend costs the ranges it is given; a range it derives is costed by the search,
    # in the library. Skip the command's own check to reach the library's.
    import lfvsim.cli.experiments as commands

    monkeypatch.setattr(commands, "check_sweep", lambda *args, **kwargs: None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    code, out, err = cli("recommend", "s.toml", "--max-throttle-rate", "0.01", "--workers", "1")
    assert (code, out) == (2, "")
    assert err.startswith("lfvsim: error: this needs ") and len(err.splitlines()) == 1
    assert "give smaller --min/--max ranges or fewer --replications" in err
    assert "min_units" not in err


def test_a_sweep_is_costed_at_its_heaviest_vary_value(cli, tmp_path, monkeypatch):
    # 2 slots a unit fit the budget; a billion do not, and the refusal names --vary.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    args = ("sweep", "s.toml", "--min", "1", "--max", "1..2", "--replications", "2")
    code, _, err = cli(*args, "--vary", "unit.slots=2,1000000000")
    assert code == 2 and "lighter --vary values" in err and "1,000,000,000 slots" in err
    code, _, err = cli(*args, "--vary", "unit.slots=2,3")
    assert code == 0, err
