"""A budget refusal names what its reader can pass: a command's ``--allow-large``, the
environment variable for a command without it, the keyword for a library caller; and every
command with ``--allow-large`` passes it on to the work it starts."""

from __future__ import annotations

import pytest
import typer

import lfvsim
from lfvsim.budget import BudgetError, allow_wording
from lfvsim.cli import app
from lfvsim.cli.app import ALLOW_ENV, ALLOW_OPTION, input_errors, load_commands
from tests.conftest import scenario

SCENARIO = '[traffic]\nkind = "constant"\nrate_tps = 2\nduration_h = 1\n'

#: Every command with --allow-large, with arguments that make it do real work in ``tmp``.
COMMANDS: dict[str, list[str]] = {
    "run": ["run", "s.toml", "--json"],
    "sweep": ["sweep", "s.toml", "--min", "1", "--max", "1..2", "--replications", "2",
              "--workers", "1"],
    "recommend": ["recommend", "s.toml", "--max-throttle-rate", "0.01", "--min", "1",
                  "--max", "1..2", "--replications", "2",
                  "--workers", "1"],
    "compare": ["compare", "s.toml", "--mode", "always-on"],
    "report": ["report", "s.toml", "-o", "r.md"],
    "trace synth": ["trace", "synth", "constant", "--rate-tps", "1", "-o", "t.csv"],
    "trace inspect": ["trace", "inspect", "s.toml"],
    "trace convert": ["trace", "convert", "s.toml", "-o", "c.csv"],
    "trace compare-arrivals": ["trace", "compare-arrivals", "s.toml"],
    "backtest": ["backtest", "s.toml", "--cloudwatch", "h.json", "--replications", "2"],
    "calibrate": ["calibrate", "s.toml", "--cloudwatch", "h.json", "-o", "c.toml"],
}  # fmt: skip
#: A CloudWatch export of one simulated hour, for the commands that read a history.
HISTORY_OF = {"backtest", "calibrate"}


def _with_allow_large(group: typer.Typer, prefix: str = "") -> set[str]:
    """Names of the commands (``trace inspect``) that declare an ``allow_large`` option."""
    from typer.main import get_command

    found = set()
    root = get_command(group)
    stack = [(prefix, root)]
    while stack:
        path, command = stack.pop()
        for name, sub in getattr(command, "commands", {}).items():
            stack.append((f"{path} {name}".strip(), sub))
        if any(p.name == "allow_large" for p in command.params):
            found.add(path)
    return found


def test_every_command_with_the_option_is_checked_here():
    load_commands()  # commands are imported lazily: alone, this test would see none
    assert _with_allow_large(app) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_refusal_names_the_option_and_the_option_lifts_it(name, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    if name in HISTORY_OF:
        code, _out, err = cli("run", "s.toml", "--cloudwatch-json", "h.json")
        assert code == 0, err
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")  # below any estimate
    code, out, err = cli(*COMMANDS[name])
    assert code == 2 and out == ""
    assert err.startswith("lfvsim: error: ") and len(err.splitlines()) == 1
    assert f"allow it with {ALLOW_OPTION}" in err
    assert "allow_large=True" not in err
    code, out, err = cli(*COMMANDS[name], "--allow-large")
    assert code in (0, 1), err  # recommend exits 1 when nothing meets the SLO
    assert "memory budget" not in err and out


def test_report_refused_by_the_library_names_the_option(cli, tmp_path, monkeypatch):
    # report makes no check of its own: the refusal comes from lfvsim.simulate.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    code, _out, err = cli("report", "s.toml", "-o", "r.md")
    assert code == 2
    assert err.rstrip().endswith(f"allow it with {ALLOW_OPTION} or a larger budget")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_command_without_the_option_names_only_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    with pytest.raises(typer.Exit) as info, input_errors():
        lfvsim.simulate(scenario(), seed=1)
    assert info.value.exit_code == 2
    err = capsys.readouterr().err
    assert f"allow it with {ALLOW_ENV} or a larger budget" in err
    assert "--allow-large" not in err and "allow_large=True" not in err


def test_the_library_keeps_its_keyword_outside_commands(monkeypatch):
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    with pytest.raises(BudgetError, match=r"allow_large=True \(LFVSIM_ALLOW_LARGE=1\)"):
        lfvsim.simulate(scenario(), seed=1)
    with allow_wording("--big"), pytest.raises(BudgetError, match="allow it with --big or"):
        lfvsim.simulate(scenario(), seed=1)
    # The wording is restored on the way out, even after a refusal.
    with pytest.raises(BudgetError, match=r"allow_large=True"):
        lfvsim.simulate(scenario(), seed=1)


def test_backtest_refusal_says_what_a_backtest_can_shrink(cli, tmp_path, monkeypatch):
    # Costed once for all its replays, in a backtest's own terms, not a scenario's horizon.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    code, _out, err = cli("run", "s.toml", "--cloudwatch-json", "h.json")
    assert code == 0, err
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    code, out, err = cli("backtest", "s.toml", "--cloudwatch", "h.json")
    assert code == 2 and out == ""
    assert "shorter history or fewer --replications" in err
    assert "horizon" not in err
