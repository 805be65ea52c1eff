"""Every boolean switch is shown as a flag in ``--help``: ``--json``, never ``--json <bool>``."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from lfvsim.cli import app
from lfvsim.cli.app import load_commands


def _commands(command, path=()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


load_commands()  # commands are imported lazily; walk them all
COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_listed():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"run", "sweep", "recommend", "compare", "trace inspect"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "lfvsim")
def test_help_shows_switches_as_flags(path):
    command = dict(COMMANDS)[path]
    switches = [
        p
        for p in command.params
        if getattr(p, "type_descriptor", None) is not None and p.type_descriptor.annotation is bool
    ]
    for option in switches:
        assert option.is_flag, f"{option.opts} takes a value; declare it as a flag"
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output
    for option in switches:
        for name in option.opts:
            line = next(line for line in result.output.splitlines() if f" {name} " in line)
            after = line.split(name, 1)[1].lstrip(" │")
            assert not after.startswith("<"), f"{name} shown with a value: {line.strip()}"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "lfvsim")
def test_help_at_80_columns_wraps_and_cuts_nothing(path):
    command = dict(COMMANDS)[path]
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    for param in command.params:
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("--"):
                assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", result.output), name


def test_help_paragraphs_reflow_to_the_width():
    """A docstring's single line breaks do not break the help mid-sentence."""
    result = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "the table says which configurations meet each target" in result.output


#: What typer prints for a parameter without a metavar: a Python type, not a word.
PYTHON_TYPES = re.compile(r"list\[|<class|Path\]|<(str|int|float|path|bool)\b|\{[A-Z][A-Z.]*\}")


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "lfvsim")
def test_help_names_values_in_words_not_python_types(path):
    """``FILE...``, ``FOLDER``, ``INTEGER``: never ``<list[Path]>``, ``<int range>``, ``{X}``."""
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    found = PYTHON_TYPES.search(result.output)
    assert found is None, f"{found.group()} in: {result.output[found.start() - 60 : found.end()]}"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "lfvsim")
def test_every_argument_has_its_help_beside_it(path):
    """An argument's help text is shown, not squeezed out by a long type column."""
    command = dict(COMMANDS)[path]
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    text = " ".join(result.output.replace("│", " ").split())
    for param in command.params:
        if param.param_type_name == "argument" and param.help:
            assert " ".join(param.help.split()[:3]) in text, param.help


def test_a_repeatable_argument_reads_file_dots_once():
    result = CliRunner().invoke(app, ["trace", "inspect", "--help"], terminal_width=100)
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert usage.rstrip().endswith("[OPTIONS] FILE..."), usage


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "lfvsim")
def test_text_options_name_what_they_take(path):
    """``--start TIME``, ``--weekday-shifts SHIFTS``: never click's bare ``TEXT``."""
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    found = re.search(r"--[\w-]+\s+TEXT\b", result.output)
    assert found is None, found.group()
