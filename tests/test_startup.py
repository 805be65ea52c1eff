"""Start-up is light: the heavy libraries load when a name or a command that needs them is used.

`import lfvsim`, `lfvsim --help` and `lfvsim COMMAND --help` load none of them. These
tests check which modules load, never how long it takes (benchmarks/bench_startup.py
times it).
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import lfvsim
from lfvsim.cli import app
from lfvsim.cli.app import COMMANDS, load_commands

HEAVY = ("pandas", "numba", "matplotlib", "boto3", "pydantic", "pyarrow")


def loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The ``heavy`` modules a fresh interpreter holds after running ``code``."""
    probe = (
        f"{code}\nimport sys, json\nprint(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_lfvsim_loads_no_heavy_library():
    assert loaded_after("import lfvsim; lfvsim.__version__") == []


def test_a_public_name_loads_what_it_needs():
    assert {"pandas", "numba"} <= set(loaded_after("import lfvsim; lfvsim.simulate"))


def test_every_public_name_resolves_and_unknown_names_fail():
    for name in lfvsim.__all__:
        assert getattr(lfvsim, name) is not None
    assert set(lfvsim.__all__) <= set(dir(lfvsim))
    with pytest.raises(AttributeError, match="no_such_name"):
        lfvsim.no_such_name  # noqa: B018


# --- the command line ---------------------------------------------------------------------

#: What ``lfvsim --help`` and ``lfvsim COMMAND --help`` must not load: the libraries a
#: command calls load when it runs.
CLI_HEAVY = (
    "pandas",
    "numpy",
    "numba",
    "matplotlib",
    "boto3",
    "botocore",
    "pydantic",
    "scipy",
    "simpy",
    "pyarrow",
)

HELP_PROBE = """
import contextlib, io, json, sys
from lfvsim.cli import app
heavy = {heavy!r}
found, seen = {{}}, set()
for path in {paths!r}:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            app([*path, "--help"], prog_name="lfvsim")
        except SystemExit:
            pass
    loaded = [m for m in heavy if m in sys.modules]
    found[" ".join(path) or "lfvsim"] = [m for m in loaded if m not in seen]
    seen.update(loaded)
print(json.dumps(found))
"""


def help_paths() -> list[tuple[str, ...]]:
    """``()`` (``lfvsim --help``) and every command and subcommand of ``lfvsim``."""
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(group: Any, path: tuple[str, ...]) -> None:
        ctx = typer.Context(group, info_name=" ".join(("lfvsim", *path)))
        for name in group.list_commands(ctx):
            paths.append((*path, name))
            sub = group.get_command(ctx, name)
            if hasattr(sub, "list_commands"):
                walk(sub, (*path, name))

    walk(root, ())
    return paths


def test_help_loads_no_heavy_library():
    # One fresh interpreter shows every help in turn; a heavy module is blamed on the first
    # help that loaded it. Find the import chain with: python -X importtime -m lfvsim.cli ...
    paths = help_paths()
    assert len(paths) > len(COMMANDS)  # the subcommands of trace too
    probe = HELP_PROBE.format(heavy=CLI_HEAVY, paths=paths)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert list(found) == [" ".join(p) or "lfvsim" for p in paths]
    loaded = {help_of: modules for help_of, modules in found.items() if modules}
    assert not loaded, f"--help loads heavy libraries (first seen after): {loaded}"


def test_the_console_script_help_loads_no_heavy_library():
    code = "import sys; sys.argv = ['lfvsim', '--help']\nfrom lfvsim.cli import entry_point\n"
    code += "try:\n    entry_point()\nexcept SystemExit:\n    pass"
    assert loaded_after(code, CLI_HEAVY) == []


def test_running_a_command_loads_its_library():
    # The check above can fail: a command that runs does load what it needs.
    code = "import sys; sys.argv = ['lfvsim', 'run', 'no-such.toml']\n"
    code += (
        "from lfvsim.cli import entry_point\ntry:\n    entry_point()\nexcept SystemExit:\n    pass"
    )
    assert {"pandas", "pydantic"} <= set(loaded_after(code, CLI_HEAVY))


def test_the_command_table_matches_the_commands():
    load_commands()
    built = typer.main.get_command(app)
    registered = {
        name: inspect.cleandoc(command.help or "").split("\n\n")[0]
        for name, command in built.commands.items()
    }
    assert registered == {name: c.help for name, c in COMMANDS.items()}, (
        "lfvsim.cli.app.COMMANDS lists each command with the first paragraph of its help"
    )
    for name, command in built.commands.items():
        module = command.callback.__module__ if command.callback else None
        if module is not None:
            assert module == COMMANDS[name].module, name


def test_help_lists_the_commands_without_loading_them():
    # The listing from COMMANDS reads exactly as the one typer draws from the commands.
    code = (
        "from typer.testing import CliRunner\nfrom lfvsim.cli import app\n"
        "print(CliRunner().invoke(app, ['--help'], terminal_width=100).output, end='')"
    )
    lazy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    load_commands()
    eager = CliRunner().invoke(app, ["--help"], terminal_width=100).output
    assert lazy.stdout == eager
    for name in COMMANDS:
        assert f" {name} " in eager
