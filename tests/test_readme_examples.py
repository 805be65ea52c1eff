"""The README's examples print what the README quotes: each ``$ lfvsim ...`` of a console
block (and ``make run``'s output) is run, and its output compared line by line.

Commands whose output is redirected (``> start.json``) or that call AWS are not run. The
budget example's figures assume the README's 2-core machine and no other limits.
"""

from __future__ import annotations

import re
import shlex
import shutil

import pytest

import lfvsim.budget
import lfvsim.experiments.executors
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

#: Files the examples name, made from bundled data in the folder they run in.
FILES = {
    "model.json": ROOT / "scenarios" / "data" / "circuit-boards-describe-model.json",
    "line2-march.csv": ROOT / "tests" / "corpus" / "data" / "counts.csv",
}


def console_examples() -> list[tuple[str, list[str], list[str]]]:
    """(id, argv after 'lfvsim', expected output lines) of every runnable example."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        lines = block.splitlines()
        k = 0
        while k < len(lines):
            if not lines[k].startswith("$ "):
                k += 1
                continue
            command = lines[k][2:]
            while command.endswith("\\"):
                k += 1
                command = command[:-1] + lines[k]
            k += 1
            expected = []
            while k < len(lines) and not lines[k].startswith("$ "):
                expected.append(lines[k].rstrip())
                k += 1
            argv = shlex.split(command)
            if argv[0] != "lfvsim" or ">" in argv:
                continue  # AWS's own CLI, or output written to a file
            found.append((" ".join(argv[1:3]), argv[1:], expected))
    quickstart = re.search(r"`make run` prints:\n\n```\n(.*?)```", README, flags=re.S)
    assert quickstart is not None, "the README's 'make run prints' block moved"
    make_run = ["run", "scenarios/quickstart.toml"]  # what the Makefile's run target runs
    found.append(("make run", make_run, quickstart.group(1).rstrip("\n").split("\n")))
    return found


EXAMPLES = console_examples()


def test_the_examples_are_found():
    # A README edit that hides an example from this test shows up here.
    assert {name.split()[0] for name, _, _ in EXAMPLES} >= {"run", "sweep", "compare", "seed"}
    assert "make run" in {name for name, _, _ in EXAMPLES}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\t$(BIN)/lfvsim run scenarios/quickstart.toml\n" in makefile
    assert all(expected for _, _, expected in EXAMPLES)


@pytest.mark.parametrize(
    ("argv", "expected"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES]
)
def test_readme_example_prints_what_the_readme_quotes(argv, expected, cli, tmp_path, monkeypatch):
    for name, source in FILES.items():
        shutil.copyfile(source, tmp_path / name)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    for var in ("LFVSIM_MAX_MEMORY_GIB", "LFVSIM_MAX_HOURS", "LFVSIM_ALLOW_LARGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(lfvsim.experiments.executors, "cpu_count", lambda: 2)
    monkeypatch.setattr(lfvsim.budget, "_machine_memory_gib", lambda: 64.0)
    code, out, err = cli(*argv)
    printed = out if code == 0 else err
    assert [line.rstrip() for line in printed.rstrip("\n").split("\n")] == expected
