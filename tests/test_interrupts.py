"""SIGINT or SIGKILL at any write step leaves the old output or the whole new one.

Each command runs in a forked child that signals itself after its N-th write step (the
``LFVSIM_TEST_SIGNAL_AT`` hook of :mod:`lfvsim.atomic`, also counting a step before and
after every ``os.replace`` and ``os.rename``), for N = 1, 2, ... until the command finishes
untouched.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from lfvsim import atomic
from lfvsim.atomic import verify_run_folder
from lfvsim.cli import entry_point
from tests.conftest import ROOT, small_scenario_toml

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="forks, and reads /proc"
)

SIGNALS = ("SIGKILL", "SIGINT")
MAX_STEPS = 60


def _child(args: list[str], at: int, signame: str, err_path: str) -> None:
    os.environ["LFVSIM_TEST_SIGNAL_AT"] = f"{at}:{signame}"
    atomic._steps = 0
    real_replace, real_rename = os.replace, os.rename

    def replace(*a, **k):
        atomic._step()
        real_replace(*a, **k)
        atomic._step()

    def rename(*a, **k):
        atomic._step()
        real_rename(*a, **k)
        atomic._step()

    os.replace, os.rename = replace, rename
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(err, 2)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    sys.argv = ["lfvsim", *map(str, args)]
    entry_point()


def run_signalled(args: list, at: int, signame: str, tmp_path: Path) -> tuple[int, str]:
    """Run ``lfvsim ARGS`` in a forked child signalled after write step ``at``."""
    err = tmp_path / "child-stderr.txt"
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=([str(a) for a in args], at, signame, str(err))
    )
    proc.start()
    proc.join(300)
    assert proc.exitcode is not None, "the command hung"
    return proc.exitcode, err.read_text() if err.exists() else ""


def every_step(
    tmp_path: Path,
    prepare: Callable[[Path], list],
    check: Callable[[Path], str],
    signals: tuple[str, ...] = SIGNALS,
) -> set[str]:
    """Interrupt at every step with each signal; ``check`` names the state it finds.

    ``prepare`` writes the old output once, into a template folder, and returns the
    command; each try runs in a copy made of hard links (the same inodes, so the copies
    are lfvsim's own files as the ledger says; every write is a rename, so the template
    never changes).
    """
    template = tmp_path / "template"
    template.mkdir()
    command = [str(a) for a in prepare(template)]
    seen: set[str] = set()
    for signame in signals:
        for at in range(1, MAX_STEPS):
            where = tmp_path / f"{signame}-{at}"
            shutil.copytree(template, where, copy_function=os.link)
            args = [a.replace(str(template), str(where)) for a in command]
            code, err = run_signalled(args, at, signame, where)
            state = check(where)
            assert state in ("old", "new"), (signame, at, state)
            seen.add(state)
            if code == 0:
                assert state == "new"
                break
            if signame == "SIGKILL":
                assert code == -signal.SIGKILL, (at, err)
            else:
                assert code == 130 and err.count("\n") == 1, (at, err)
                assert err.startswith("lfvsim: interrupted"), err
                leftovers = [p for p in where.rglob("*.tmp")]
                assert not leftovers, (at, leftovers)  # Ctrl-C cleans up after itself
        else:
            pytest.fail(f"still interrupted after {MAX_STEPS} steps")
    return seen


def scenario_file(folder: Path) -> Path:
    path = folder / "small.toml"
    path.write_text(small_scenario_toml(duration_h=1))
    return path


def run_cli(*args) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lfvsim.cli", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def in_process(*args) -> None:
    """Run the CLI in this process (fast); it must succeed."""
    saved = sys.argv
    sys.argv = ["lfvsim", *map(str, args)]
    try:
        with pytest.raises(SystemExit) as info:
            entry_point()
    finally:
        sys.argv = saved
    assert info.value.code == 0


def test_run_out_interrupted_anywhere_leaves_the_old_run_or_the_new(tmp_path, capsys):
    def prepare(where: Path) -> list:
        sc = scenario_file(where)
        in_process("run", sc, "--seed", "1", "--out", where / "out")
        capsys.readouterr()
        return ["run", sc, "--seed", "2", "--out", where / "out"]

    def check(where: Path) -> str:
        verify_run_folder(where / "out")
        seed = json.loads((where / "out" / "summary.json").read_text())["seed"]
        return {1: "old", 2: "new"}.get(seed, f"seed {seed}")

    assert every_step(tmp_path, prepare, check) == {"old", "new"}
    # The next run removes what killed runs left (staging folders, an old folder aside).
    for where in tmp_path.glob("SIGKILL-*"):
        in_process("run", where / "small.toml", "--seed", "3", "--out", where / "out")
        assert not list(where.glob(".*.tmp")), where


def test_sweep_interrupted_anywhere_leaves_the_old_table_or_the_new(tmp_path, capsys):
    grid = ["--max", "1..2", "--seed", "5", "--workers", "1"]
    references: dict[str, pd.DataFrame] = {}

    def prepare(where: Path) -> list:
        sc = scenario_file(where)
        in_process("sweep", sc, *grid, "--replications", "1", "-o", where / "s.csv")
        capsys.readouterr()
        return ["sweep", sc, *grid, "--replications", "2", "-o", where / "s.csv"]

    def check(where: Path) -> str:
        table = pd.read_csv(where / "s.csv")
        state = {3: "old", 6: "new"}.get(len(table), f"{len(table)} rows")
        if state in references:
            pd.testing.assert_frame_equal(table, references[state])
        else:
            references[state] = table
        return state

    assert every_step(tmp_path, prepare, check) == {"old", "new"}
    # A killed sweep resumes to the same table as one never interrupted.
    for where in tmp_path.glob("SIGKILL-*"):
        sc = where / "small.toml"
        in_process("sweep", sc, *grid, "--replications", "2", "-o", where / "s.csv")
        pd.testing.assert_frame_equal(pd.read_csv(where / "s.csv"), references["new"])


def test_report_interrupted_anywhere_leaves_the_old_report_or_the_new(tmp_path, capsys):
    def prepare(where: Path) -> list:
        sc = scenario_file(where)
        in_process("run", sc, "--out", where / "run")
        in_process("report", where / "run", "-o", where / "r.html", "--title", "OLD-REPORT")
        capsys.readouterr()
        return ["report", where / "run", "-o", where / "r.html", "--title", "NEW-REPORT"]

    def check(where: Path) -> str:
        html = (where / "r.html").read_text()
        assert html.rstrip().endswith("</html>")
        return "old" if "OLD-REPORT" in html else "new" if "NEW-REPORT" in html else "?"

    assert every_step(tmp_path, prepare, check) == {"old", "new"}


def test_markdown_report_interrupted_anywhere_links_only_its_own_images(tmp_path, capsys):
    def prepare(where: Path) -> list:
        sc = scenario_file(where)
        in_process("run", sc, "--out", where / "run", "--seed", "1")
        in_process("run", sc, "--out", where / "run2", "--seed", "2")
        in_process("report", where / "run", "-o", where / "r.md", "--title", "OLD-REPORT")
        capsys.readouterr()
        return ["report", where / "run2", "-o", where / "r.md", "--title", "NEW-REPORT"]

    def check(where: Path) -> str:
        text = (where / "r.md").read_text()
        linked = re.findall(r"\]\((r-[0-9a-f]{8}-[\w-]+\.png)\)", text)
        assert linked and all((where / n).read_bytes()[:4] == b"\x89PNG" for n in linked)
        return "old" if "OLD-REPORT" in text else "new" if "NEW-REPORT" in text else "?"

    # SIGKILL only: Ctrl-C's clean-up is the same code as for the HTML report above.
    assert every_step(tmp_path, prepare, check, ("SIGKILL",)) == {"old", "new"}


def test_trace_convert_interrupted_anywhere_leaves_the_old_file_or_the_new(tmp_path, capsys):
    def prepare(where: Path) -> list:
        for name, rate in (("a.csv", "1"), ("b.csv", "3")):
            in_process("trace", "synth", "constant", "--rate-tps", rate, "-o", where / name)
        in_process("trace", "convert", where / "a.csv", "-o", where / "old.parquet")
        in_process("trace", "convert", where / "b.csv", "-o", where / "new.parquet")
        in_process("trace", "convert", where / "a.csv", "-o", where / "out.parquet")
        capsys.readouterr()
        return ["trace", "convert", where / "b.csv", "-o", where / "out.parquet"]

    def check(where: Path) -> str:
        out = pd.read_parquet(where / "out.parquet")
        for state in ("old", "new"):
            if out.equals(pd.read_parquet(where / f"{state}.parquet")):
                return state
        return "neither"

    assert every_step(tmp_path, prepare, check) == {"old", "new"}


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_when_the_sweep_is_killed(tmp_path):
    sc = tmp_path / "long.toml"
    sc.write_text(small_scenario_toml(duration_h=400))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lfvsim.cli", "sweep", str(sc), "--max", "1..4",
         "--replications", "20", "--workers", "2", "-o", str(tmp_path / "s.csv")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        # The forkserver and two workers.
        while len(family := _descendants(proc.pid)) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no workers started"
            time.sleep(0.1)
        proc.kill()  # the parent alone: nobody stops the pool
        proc.wait()
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in family if _alive(p)], "workers outlived the sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_sweep_with_workers_runs_beside_a_folder_named_lfvsim(tmp_path):
    script = Path(sys.executable).parent / "lfvsim"
    if not script.exists():
        pytest.skip("the lfvsim console script is not installed beside this Python")
    (tmp_path / "lfvsim").mkdir()  # a checkout, or anything else of that name
    (tmp_path / "s.toml").write_text(small_scenario_toml(duration_h=1))
    proc = subprocess.run(
        [str(script), "sweep", "s.toml", "--max", "1..2", "--replications", "2",
         "--workers", "2", "-o", "s.csv"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 3 * 2
