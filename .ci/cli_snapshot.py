"""Snapshot the CLI's output on every bundled scenario, and compare two snapshots.

A change that must not change behaviour (a refactoring) is checked by taking a snapshot
before and after it and comparing the two::

    python .ci/cli_snapshot.py OUT_DIR              # one file per command into OUT_DIR
    python .ci/cli_snapshot.py --compare DIR_A DIR_B

Each command runs as ``lfvsim ...`` would from the repository root, with fixed seeds, inside
one of ``--jobs`` worker processes (one import of lfvsim per worker keeps this quick); its file
holds the command line, the exit status, stdout, stderr and the SHA-256 of every
file the command writes. Only what legitimately varies between two runs is masked: the
temporary folder the commands write into, the repository's own path, and the wall-clock
timestamp of a generated report. ``--compare`` prints every difference and exits 1 if there
is any, else prints how many outputs are identical and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").glob("*.toml"))
TMP = "{tmp}"  # replaced by a fresh temporary folder per command

# A few scenarios for the slower, many-run commands; 24 h each, so they stay quick.
FEW = ["scenarios/quickstart.toml", "scenarios/az-outage.toml", "scenarios/retries-standard.toml"]
BUNDLED_TRACE = [
    "scenarios/data/cloudwatch-export-1.json",
    "scenarios/data/cloudwatch-export-2.json",
]


def _seed_option(scenario: str) -> list[str]:
    """``--seed 1`` for a scenario that sets no seed (its runs would differ every time)."""
    with open(ROOT / scenario, "rb") as f:
        seeded = "seed" in tomllib.load(f).get("simulation", {})
    return [] if seeded else ["--seed", "1"]


def commands() -> list[tuple[str, list[str], list[str]]]:
    """``(name, argv, files written under {tmp} to hash)`` of every command, in order."""
    out: list[tuple[str, list[str], list[str]]] = []
    for s in SCENARIOS:
        stem = Path(s).stem
        seed = _seed_option(s)
        out += [
            (f"run-{stem}", ["run", s, *seed], []),
            (f"run-json-{stem}", ["run", s, "--json", *seed], []),
            (f"run-show-config-{stem}", ["run", s, "--show-config", *seed], []),
            (f"start-model-input-{stem}", ["start-model-input", s], []),
        ]
    for s in FEW:
        stem = Path(s).stem
        out += [
            (
                f"compare-json-{stem}",
                ["compare", s, "--mode", "always-on", "--mode", "scenario", "--json"],
                [],
            ),
            (f"compare-{stem}", ["compare", s, "--mode", "always-on", "--mode", "batch"], []),
            (f"compare-arrivals-json-{stem}", ["trace", "compare-arrivals", s, "--json"], []),
        ]
    quick = "scenarios/quickstart.toml"
    out += [
        (
            "run-output-quickstart",
            ["run", quick, "--seed", "5", "--out", f"{TMP}/run"],
            [
                "run/summary.json",
                "run/timeline.csv",
                "run/units.csv",
                "run/events.csv",
                "run/scenario.toml",
            ],
        ),
        ("run-replications-quickstart", ["run", quick, "--replications", "3", "--seed", "4"], []),
        (
            "sweep-csv-quickstart",
            [
                "sweep",
                quick,
                "--min",
                "1..2",
                "--max",
                "2..3",
                "--replications",
                "2",
                "--seed",
                "7",
                "--oracle",
                "--workers",
                "1",
                "-o",
                f"{TMP}/sweep.csv",
            ],
            ["sweep.csv"],
        ),
        (
            "recommend-json-quickstart",
            [
                "recommend",
                quick,
                "--max-throttle-rate",
                "0.02",
                "--min",
                "1..2",
                "--max",
                "2..4",
                "--replications",
                "2",
                "--seed",
                "7",
                "--workers",
                "1",
                "--json",
            ],
            [],
        ),
        (
            "recommend-quickstart",
            [
                "recommend",
                quick,
                "--max-throttle-rate",
                "0.02",
                "--min",
                "1",
                "--max",
                "2..4",
                "--replications",
                "2",
                "--seed",
                "7",
                "--workers",
                "1",
            ],
            [],
        ),
        ("start-model-input-boto3", ["start-model-input", quick, "--format", "boto3"], []),
        (
            "trace-inspect-cloudwatch",
            ["trace", "inspect", *BUNDLED_TRACE, "--fill-gaps", "zero"],
            [],
        ),
        (
            "trace-inspect-json-cloudwatch",
            ["trace", "inspect", *BUNDLED_TRACE, "--fill-gaps", "zero", "--json"],
            [],
        ),
        ("trace-inspect-scenario", ["trace", "inspect", "scenarios/two-shift-factory.toml"], []),
        (
            "compare-autoscaled-no-max",
            ["compare", "scenarios/retries-standard.toml", "--mode", "autoscaled"],
            [],
        ),
        ("bad-input-min-max", ["run", quick, "--min-units", "5", "--max-units", "2"], []),
        ("bad-input-missing", ["run", "scenarios/no-such-file.toml"], []),
    ]
    return out


def _mask(text: str, tmp: str) -> str:
    text = text.replace(tmp, "<TMP>").replace(str(ROOT), "<ROOT>")
    # A generated report states when it was written.
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "<NOW>", text)


def _sha256(path: Path) -> str:
    if not path.exists():
        return "missing"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _invoke(argv: list[str]) -> tuple[int, str, str]:
    """Run the ``lfvsim`` console script in this process: exit status, stdout, stderr."""
    from lfvsim.cli import entry_point  # imported once per worker, after the chdir

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["lfvsim", *argv]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            entry_point()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        # An uncaught exception: recorded as the interpreter would print it.
        err.write(traceback.format_exc())
        code = 1
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


def run_one(name: str, argv: list[str], files: list[str], out_dir: Path) -> None:
    """Run one command in a fresh temporary folder and write its masked record."""
    with tempfile.TemporaryDirectory(prefix="lfvsim-snap-") as tmp:
        code, stdout, stderr = _invoke([a.replace(TMP, tmp) for a in argv])
        hashes = [f"{f} {_sha256(Path(tmp) / f)}" for f in files]
        record = "\n".join(
            [
                f"$ lfvsim {' '.join(argv)}",
                f"exit: {code}",
                "--- stdout",
                stdout,
                "--- stderr",
                stderr,
                "--- files",
                *hashes,
                "",
            ]
        )
        (out_dir / f"{name}.txt").write_text(_mask(record, tmp), encoding="utf-8")


def worker(out_dir: Path, index: int, count: int) -> int:
    """Run every ``count``-th command from ``index`` on, in this process."""
    os.chdir(ROOT)
    for name, argv, files in commands()[index::count]:
        run_one(name, argv, files, out_dir)
    return 0


def snapshot(out_dir: Path, jobs: int) -> int:
    """Write one file per command into ``out_dir`` (created; must not hold a snapshot)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.glob("*.txt")):
        print(f"cli_snapshot: error: {out_dir} already holds a snapshot; give an empty folder")
        return 2
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(i), str(jobs), str(out_dir.resolve())],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        for i in range(jobs)
    ]
    codes = [p.wait() for p in procs]
    if any(codes):
        print(f"cli_snapshot: error: a worker failed (exit statuses {codes})")
        return 1
    print(f"wrote {len(commands())} outputs to {out_dir}")
    return 0


def compare(a: Path, b: Path) -> int:
    """Print every difference between two snapshots; 1 if any, else 0."""
    names_a = {p.name for p in a.glob("*.txt")}
    names_b = {p.name for p in b.glob("*.txt")}
    differ = 0
    for name in sorted(names_a ^ names_b):
        print(f"only in {a if name in names_a else b}: {name}")
        differ += 1
    same = 0
    for name in sorted(names_a & names_b):
        text_a = (a / name).read_text(encoding="utf-8")
        text_b = (b / name).read_text(encoding="utf-8")
        if text_a == text_b:
            same += 1
            continue
        differ += 1
        diff = difflib.unified_diff(
            text_a.splitlines(), text_b.splitlines(), f"{a}/{name}", f"{b}/{name}", lineterm=""
        )
        print("\n".join(diff))
    if differ:
        print(f"{differ} outputs differ, {same} identical")
        return 1
    print(f"{same} outputs identical")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, help="Folder to write the snapshot to.")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"), help="Compare two snapshots."
    )
    parser.add_argument("--jobs", type=int, default=2, help="Worker processes (2).")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        index, count, out = args.worker
        return worker(Path(out), int(index), int(count))
    if args.compare:
        for d in args.compare:
            if not d.is_dir():
                parser.exit(2, f"cli_snapshot: error: {d} is not a folder; give two snapshots\n")
        return compare(*args.compare)
    if args.out_dir is None:
        parser.exit(2, "cli_snapshot: error: give an output folder or --compare DIR_A DIR_B\n")
    return snapshot(args.out_dir, max(1, args.jobs))


if __name__ == "__main__":
    sys.exit(main())
