"""Help texts and option messages say what a command accepts and how to fix a bad value."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lfvsim.cli import app
from tests.test_cli import QUICKSTART, assert_clean_failure


def _help(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    # rich wraps help in a box: drop its borders, then join the wrapped words
    return " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize("command", ["inspect", "convert"])
def test_trace_commands_say_they_take_a_scenario(command):
    # both read a scenario TOML's traffic as well as a trace file
    assert "or a scenario TOML" in _help("trace", command)


@pytest.mark.parametrize("command", ["plot", "report"])
def test_stored_slo_names_both_commands_that_store_it(command):
    # `sweep -o` with an SLO stores it as `recommend -o` does; plot and report read either
    assert "(lfvsim sweep or recommend -o)" in _help(command)


@pytest.mark.parametrize("command", ["synth", "convert"])
@pytest.mark.parametrize("bin_s", ["0", "-5", "nan", "inf"])
def test_a_bad_bin_names_the_option_and_the_fix(cli, tmp_path, command, bin_s):
    source = ("constant", "--rate-tps", "1") if command == "synth" else (QUICKSTART,)
    result = cli("trace", command, *source, "--bin-s", bin_s, "-o", tmp_path / "o.csv")
    assert_clean_failure(*result, f"--bin-s {bin_s}", "e.g. --bin-s 60")
    assert not (tmp_path / "o.csv").exists()
