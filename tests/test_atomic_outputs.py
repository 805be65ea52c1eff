"""Outputs are all or nothing and never replace a file lfvsim did not write."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import lfvsim
from lfvsim.atomic import (
    allow_replace,
    clean_stale,
    temp_path,
    verify_run_folder,
    write_text_atomic,
)
from lfvsim.experiments import sweep
from tests.conftest import ROOT, small_scenario_toml

USER_BYTES = b"a user's own data\n"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(small_scenario_toml(duration_h=1))
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, (out, err)
    assert err.startswith("lfvsim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


# --- the temporary-name rule and the ledger -------------------------------------------------


def test_stale_temporaries_of_ended_writes_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "a.csv"
    stale = tmp_path / f".a.csv.lfvsim-{dead_pid()}-0123abcd.tmp"
    stale.write_text("half")
    stale_dir = tmp_path / f".run.lfvsim-{dead_pid()}-89abcdef.tmp"
    stale_dir.mkdir()
    (stale_dir / "timeline.csv").write_text("half")
    live = temp_path(target)  # this process: a write going on
    live.write_text("in progress")
    users = tmp_path / ".a.csv.tmp"  # not lfvsim's pattern
    users.write_bytes(USER_BYTES)

    write_text_atomic(target, "x\n")
    assert not stale.exists() and live.exists() and users.read_bytes() == USER_BYTES
    assert stale_dir.exists()  # another target's: cleaned when that one is written
    assert clean_stale(tmp_path) == 1 and not stale_dir.exists() and live.exists()


def test_a_file_is_replaced_only_if_lfvsim_wrote_it_and_it_is_unchanged(tmp_path):
    path = tmp_path / "out.txt"
    path.write_bytes(USER_BYTES)
    with pytest.raises(lfvsim.InputError, match=r"not written by lfvsim.*--force"):
        write_text_atomic(path, "new")
    assert path.read_bytes() == USER_BYTES
    with allow_replace():
        write_text_atomic(path, "first")
    write_text_atomic(path, "second")  # lfvsim's own, unchanged: replaced
    assert path.read_text() == "second"
    path.write_text("edited by hand")
    with pytest.raises(lfvsim.InputError, match="changed since"):
        write_text_atomic(path, "third")
    assert path.read_text() == "edited by hand"
    (tmp_path / ".lfvsim-written").write_text("{damaged")  # a damaged ledger owns nothing
    with pytest.raises(lfvsim.InputError, match="not written by lfvsim"):
        write_text_atomic(path, "fourth")


# --- run --out ------------------------------------------------------------------------------


def test_run_out_refuses_a_users_folder_and_force_keeps_the_users_files(cli, small, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "replications.csv").write_bytes(USER_BYTES)
    (out / "notes").mkdir()
    (out / "notes" / "a.txt").write_bytes(USER_BYTES)
    before = checksums(out)
    one_line_error(*cli("run", small, "--out", out), "did not write", "--force")
    assert checksums(out) == before
    one_line_error(*cli("run", small, "--replications", "2", "--out", out), "--force")
    assert checksums(out) == before

    code, _, err = cli("run", small, "--out", out, "--force")
    assert code == 0, err
    after = checksums(out)
    assert {k: after[k] for k in before} == before  # the user's files, byte-identical
    assert verify_run_folder(out)["kind"] == "run"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_run_out_replaces_its_own_run_whole(cli, small, tmp_path):
    out = tmp_path / "run"
    assert cli("run", small, "--out", out, "--seed", "1")[0] == 0
    first = verify_run_folder(out)
    assert cli("run", small, "--out", out, "--seed", "2")[0] == 0
    second = verify_run_folder(out)
    assert first["files"]["summary.json"] != second["files"]["summary.json"]
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert cli("run", small, "--replications", "2", "--out", out)[0] == 0
    assert verify_run_folder(out)["kind"] == "replications"
    assert not (out / "timeline.csv").exists()  # lfvsim's own files of the earlier run
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_report_and_plot_refuse_a_mixed_or_half_written_run_folder(cli, small, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("run", small, "--out", a, "--seed", "1")[0] == 0
    assert cli("run", small, "--out", b, "--seed", "2")[0] == 0
    shutil.copy(b / "timeline.csv", a / "timeline.csv")  # the timeline of another run
    one_line_error(*cli("report", a, "-o", tmp_path / "r.html"), "timeline.csv", "mixed")
    one_line_error(*cli("plot", "timeline", a, "-o", tmp_path / "t.png"), "mixed")
    (b / "units.csv").unlink()
    one_line_error(*cli("report", b, "-o", tmp_path / "r.html"), "units.csv")
    (b / "lfvsim-manifest.json").unlink()
    one_line_error(*cli("report", b, "-o", tmp_path / "r.html"), "lfvsim-manifest.json")
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "t.png").exists()


# --- every -o -------------------------------------------------------------------------------


def _counts_csv(path: Path, n: int = 120, scale: int = 1) -> Path:
    stamps = pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC")
    body = "".join(f"{t:%Y-%m-%dT%H:%M:%SZ},{scale * (i % 7)}\n" for i, t in enumerate(stamps))
    path.write_text("timestamp,count\n" + body)
    return path


FOREIGN_CASES = {
    "sweep -o": (["sweep", "{small}", "--max", "1..2", "-o", "{foreign}"], "out.csv"),
    "recommend -o": (
        ["recommend", "{small}", "--max-throttle-rate", "0.01", "-o", "{foreign}"],
        "out.csv",
    ),
    "report -o": (["report", "{small}", "-o", "{foreign}"], "r.html"),
    "report -o r.md": (["report", "{small}", "-o", "{foreign}"], "r.md"),
    "plot -o": (["plot", "timeline", "{run}", "-o", "{foreign}"], "fig.png"),
    "trace synth -o": (
        ["trace", "synth", "constant", "--rate-tps", "1", "-o", "{foreign}"],
        "t.csv",
    ),
    "trace synth, a stale page": (
        ["trace", "synth", "constant", "--rate-tps", "1", "--pages", "2", "-o", "{dir}/exp.json"],
        "exp-3.json",
    ),
    "trace convert -o": (["trace", "convert", "{counts}", "-o", "{foreign}"], "c.parquet"),
    "trace import-cloudwatch -o": (
        ["trace", "import-cloudwatch", "{export}", "-o", "{foreign}"],
        "i.csv",
    ),
    "trace inspect --plot": (["trace", "inspect", "{counts}", "--plot", "{foreign}"], "p.png"),
}


@pytest.mark.parametrize("case", list(FOREIGN_CASES))
def test_every_output_refuses_a_foreign_file_and_leaves_it_byte_identical(
    cli, small, tmp_path, case
):
    args, name = FOREIGN_CASES[case]
    work = tmp_path / "work"
    work.mkdir()
    run = tmp_path / "run"
    assert cli("run", small, "--out", run)[0] == 0
    counts = _counts_csv(tmp_path / "counts.csv")
    export = tmp_path / "export.json"
    assert cli("trace", "convert", counts, "-o", export)[0] == 0
    foreign = work / name
    foreign.write_bytes(USER_BYTES)
    values = {"small": small, "foreign": foreign, "dir": work, "run": run}
    values.update(counts=counts, export=export)
    code, out, err = cli(*(a.format(**values) for a in args))
    one_line_error(code, out, err, "not written by lfvsim", "--force")
    assert checksums(work) == {name: hashlib.sha256(USER_BYTES).hexdigest()}
    assert [p.name for p in work.iterdir()] == [name]  # nothing else written
    assert not (tmp_path / f".{foreign.name}.parts").exists()


def test_a_markdown_report_leaves_a_users_image_beside_it_alone(cli, small, tmp_path):
    users = tmp_path / "r-timeline.png"
    users.write_bytes(USER_BYTES)
    code, _, err = cli("report", small, "-o", tmp_path / "r.md")
    assert code == 0, err
    assert users.read_bytes() == USER_BYTES
    text = (tmp_path / "r.md").read_text()
    linked = sorted(p for p in tmp_path.glob("r-*-*.png") if f"]({p.name})" in text)
    assert linked and all(p.read_bytes().startswith(b"\x89PNG") for p in linked)
    # Another report of that name: its images replace lfvsim's earlier ones, not the user's.
    code, _, err = cli("report", small, "-o", tmp_path / "r.md", "--seed", "9")
    assert code == 0, err
    now = sorted(tmp_path.glob("r-*-*.png"))
    text = (tmp_path / "r.md").read_text()
    assert now and all(f"]({p.name})" in text for p in now) and users.exists()


def test_force_replaces_a_foreign_file(cli, tmp_path):
    out = tmp_path / "t.csv"
    out.write_bytes(USER_BYTES)
    code, _, err = cli(
        "trace", "synth", "constant", "--rate-tps", "1", "--duration-h", "1", "-o", out, "--force"
    )
    assert code == 0, err
    assert out.read_text().startswith("timestamp,count")
    code, _, err = cli(
        "trace", "synth", "constant", "--rate-tps", "1", "--duration-h", "2", "-o", out
    )
    assert code == 0, err  # lfvsim's own now: replaced without --force


def test_a_paginated_export_removes_its_own_stale_pages(cli, tmp_path):
    export = tmp_path / "exp.json"
    base = ["trace", "synth", "constant", "--rate-tps", "1", "-o", export]
    assert cli(*base, "--duration-h", "5", "--pages", "5")[0] == 0
    assert sorted(p.name for p in tmp_path.glob("exp-*.json")) == [
        f"exp-{k}.json" for k in range(1, 6)
    ]
    assert cli(*base, "--duration-h", "2", "--pages", "2")[0] == 0
    assert sorted(p.name for p in tmp_path.glob("exp-*.json")) == ["exp-1.json", "exp-2.json"]
    code, out, err = cli("trace", "inspect", str(tmp_path / "exp-*.json"), "--json")
    assert code == 0, err
    assert json.loads(out)["duration_s"] == pytest.approx(2 * 3600)
    assert cli(*base, "--duration-h", "1")[0] == 0  # one page: no exp-K.json left
    assert not list(tmp_path.glob("exp-*.json")) and export.exists()


def test_no_command_writes_over_its_own_input(cli, tmp_path):
    counts = _counts_csv(tmp_path / "c.csv")
    before = counts.read_bytes()
    one_line_error(*cli("trace", "convert", counts, "-o", counts, "--force"), "input")
    assert counts.read_bytes() == before
    assert (
        cli(
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "--pages",
            "2",
            "-o",
            tmp_path / "e.json",
        )[0]
        == 0
    )
    pages = sorted(tmp_path.glob("e-*.json"))
    kept = checksums(tmp_path)
    code, out, err = cli("trace", "convert", str(tmp_path / "e-*.json"), "-o", tmp_path / "e.json")
    one_line_error(code, out, err, "input")
    assert checksums(tmp_path) == kept and len(pages) == 2


# --- sweeps: one writer, parts of one sweep -----------------------------------------------


def test_a_second_sweep_into_a_locked_output_fails_cleanly(cli, small, tmp_path):
    out = tmp_path / "s.csv"
    parts = tmp_path / ".s.csv.parts"
    parts.mkdir()
    with open(parts / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # as a running sweep holds it
        f.write("4242\n")
        f.flush()
        one_line_error(*cli("sweep", small, "--max", "1..2", "-o", out), "another sweep", "4242")
    assert not out.exists() and os.listdir(parts) == ["lock"]


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_two_sweeps_at_once_one_fails_cleanly_and_no_rows_mix(cli, small, tmp_path):
    out = tmp_path / "s.csv"
    args = ["--max", "1..2", "--replications", "2", "--workers", "1", "-o", str(out)]
    # The first sweep stops itself (SIGSTOP) after its first write step, holding the lock.
    env = {**os.environ, "LFVSIM_TEST_SIGNAL_AT": "1:SIGSTOP"}
    first = subprocess.Popen(
        [sys.executable, "-m", "lfvsim.cli", "sweep", str(small), "--seed", "1", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _stopped(first.pid):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        code, stdout, err = cli("sweep", small, "--seed", "2", *args)
        one_line_error(code, stdout, err, "being written by another sweep", str(first.pid))
        first.send_signal(signal.SIGCONT)
        _, first_err = first.communicate(timeout=300)
        assert first.returncode == 0, first_err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    reference = sweep(
        lfvsim.load_scenario(small), max_units=[1, 2], replications=2, seed=1, workers=1
    )
    table = pd.read_csv(out)
    assert (table["seed"].isin(reference["seed"])).all()
    assert table["cost_usd"].tolist() == pytest.approx(reference["cost_usd"].tolist())


def test_a_sweep_resumed_with_another_scenario_is_refused(cli, small, tmp_path):
    out = tmp_path / "s.csv"
    args = ["--max", "1..3", "--replications", "2", "--workers", "1", "--seed", "3"]
    env = {**os.environ, "LFVSIM_TEST_SIGNAL_AT": "6:SIGKILL"}  # after the second part
    killed = subprocess.run(
        [sys.executable, "-m", "lfvsim.cli", "sweep", str(small), *args, "-o", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    parts = tmp_path / ".s.csv.parts"
    before = checksums(parts)
    assert 2 <= len([n for n in before if n.endswith(".json")]) - 1 < 8
    other = tmp_path / "other.toml"
    other.write_text(small.read_text().replace("mean_tps = 5.0", "mean_tps = 6.0"))
    one_line_error(*cli("sweep", other, *args, "-o", out), "another sweep", "trace differs")
    assert not out.exists()
    assert {k: v for k, v in checksums(parts).items() if k != "lock"} == {
        k: v for k, v in before.items() if k != "lock"
    }
    code, _, err = cli("sweep", small, *args, "-o", out)  # the same sweep resumes
    assert code == 0, err
    assert len(pd.read_csv(out)) == 4 * 2


def test_a_part_of_another_sweep_is_refused_not_merged(small, tmp_path):
    sc = lfvsim.load_scenario(small)
    other = sc.with_overrides({"unit.slots": 3}, source="test")
    kw = {"max_units": [1], "replications": 1, "seed": 4, "workers": 1}
    sweep(sc, output=tmp_path / "a.csv", **kw)
    sweep(other, output=tmp_path / "b.csv", **kw)
    a_parts, b_parts = tmp_path / ".a.csv.parts", tmp_path / ".b.csv.parts"
    names = [p.name for p in a_parts.glob("*.json") if p.name != "sweep.json"]
    assert names and all((b_parts / n).exists() for n in names)  # the same grid points
    shutil.copy(b_parts / names[0], a_parts / names[0])
    with pytest.raises(lfvsim.InputError, match="run of another sweep"):
        sweep(sc, output=tmp_path / "a.csv", **kw)
