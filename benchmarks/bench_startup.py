"""Benchmark of start-up: ``lfvsim --help`` and every ``lfvsim COMMAND --help``.

Run ``.venv/bin/python benchmarks/bench_startup.py [--repeats N]``.

Each case runs in a fresh process, ``--repeats`` times (default 9); the cases take turns
round after round, so that other load on the machine falls on all of them alike. The
table shows each case's median wall time and median CPU time (user + system), and how
much more than ``python -c pass`` (measured in the same rounds) they take. The target is
under 0.3 s more wall time than ``python -c pass``; it is printed as met / NOT MET and
changes the exit status only when a command fails. On a busy machine wall times grow
with the load (see the load average printed); CPU times grow less.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import typer
from _timing import command_times, machine, say, table

from lfvsim.cli import app

TARGET_S = 0.3

#: The floor of any typer command line: a one-command app drawing its rich help.
BARE_TYPER = """
import typer
app = typer.Typer(add_completion=False)
@app.command()
def main(count: int = 1) -> None:
    \"\"\"One command.\"\"\"
app()
"""


def command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand, as the words after ``lfvsim`` (``("trace", "synth")``)."""
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command: typer.core.TyperGroup, path: tuple[str, ...]) -> None:
        ctx = typer.Context(command, info_name=path[-1] if path else "lfvsim")
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            paths.append((*path, name))
            if isinstance(sub, typer.core.TyperGroup):
                walk(sub, (*path, name))

    walk(root, ())
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="runs of each case (median)")
    args = parser.parse_args(argv)
    say(machine(["typer", "rich"]))
    script = Path(sys.executable).with_name("lfvsim")  # the console script users run
    lfvsim = [str(script)] if script.exists() else [sys.executable, "-m", "lfvsim.cli"]
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import lfvsim'": [sys.executable, "-c", "import lfvsim"],
        "bare typer app --help": [sys.executable, "-c", BARE_TYPER, "--help"],
        "lfvsim --help": [*lfvsim, "--help"],
    }
    for path in command_paths():
        cases[f"lfvsim {' '.join(path)} --help"] = [*lfvsim, *path, "--help"]
    say(f"\nstart-up: median of {args.repeats} runs of each case, taking turns\n")
    times = command_times(list(cases.values()), args.repeats)
    bare_wall, bare_cpu = times[0]
    rows, missed = [], 0
    for label, (wall, cpu) in zip(cases, times, strict=True):
        extra = wall - bare_wall
        verdict = "" if label == "python -c pass" else ("met" if extra < TARGET_S else "NOT MET")
        missed += verdict == "NOT MET"
        rows.append(
            [label, f"{wall:.3f}", f"{extra:+.3f}", f"{cpu:.3f}", f"{cpu - bare_cpu:+.3f}", verdict]
        )
    headers = ["case", "wall s", "vs pass", "CPU s", "vs pass", f"< +{TARGET_S} s wall"]
    say(table(headers, rows, right={1, 2, 3, 4}))
    within = f"{len(rows) - 1 - missed} of {len(rows) - 1} cases"
    say(f"\n{within} within +{TARGET_S} s of python -c pass (wall time, median)")
    say(
        "'bare typer app --help' is a one-command typer app drawing its help with rich: the "
        "floor of\nany typer command line, which lfvsim's help cannot go below."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
