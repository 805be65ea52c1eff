"""Every command names an input file as the user typed it, not as an absolute path."""

from __future__ import annotations

import pytest

from tests.test_cli import QUICKSTART

#: A command line per command that takes --trace; the trace's name is added to it.
COMMANDS = {
    "run": ["run", str(QUICKSTART)],
    "compare": ["compare", str(QUICKSTART), "--mode", "no-auto-scaling"],
    "sweep": ["sweep", str(QUICKSTART), "--min", "1", "--max", "1"],
    "recommend": ["recommend", str(QUICKSTART), "--max-throttle-rate", "0.05"],
    "report": ["report", str(QUICKSTART), "-o", "r.html"],
}


@pytest.mark.parametrize("given", ["bad.csv", "data/bad.csv", "../here/data/bad.csv"])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_trace_is_named_as_given(cli, tmp_path, monkeypatch, command, given):
    here = tmp_path / "here"
    (here / "data").mkdir(parents=True)
    monkeypatch.chdir(here)
    (here / given).resolve().write_text("a,b\n1,2\n")
    code, out, err = cli(*COMMANDS[command], "--trace", given)
    assert code == 2 and not out
    assert err.startswith(f"lfvsim: error: {given}: no time column"), err
    assert str(tmp_path) not in err


def test_the_scenario_shown_keeps_the_trace_absolute(cli, tmp_path, monkeypatch):
    """--show-config prints TOML that works from any folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("timestamp,count\n2026-01-05T00:00:00Z,1\n")
    code, out, _err = cli("run", QUICKSTART, "--trace", "t.csv", "--show-config")
    assert code == 0
    assert f'path = "{tmp_path / "t.csv"}"' in out
