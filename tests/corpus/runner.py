"""Run the corpus of bad inputs through the real CLI, in this one process.

``python tests/corpus/runner.py RESULTS.json [NAME ...]`` runs every case (or the named
ones) under a memory cap (``RLIMIT_AS``) and a per-case time limit, each in an empty
folder holding its files, and writes one result per case: exit status, stdout, stderr,
whether the folder's files are unchanged, and any new files. The test judges them.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import DATA, GOOD, Case, all_cases  # noqa: E402

MEMORY_CAP_BYTES = 3 * 1024**3
CASE_TIME_LIMIT_S = 20


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


def _on_alarm(signum, frame):
    raise CaseTimeout


def _checksums(folder: Path) -> dict[str, str]:
    sums = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        sums[rel] = "<dir>" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def _materialise(case: Case, folder: Path, fixtures: Path) -> None:
    for d in case.dirs:
        (folder / d).mkdir(parents=True, exist_ok=True)
    for rel, spec in case.files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, PurePosixPath):
            root, *rest = spec.parts
            base = HERE / "data" if root == DATA.name else fixtures
            shutil.copyfile(base.joinpath(*rest), target)
        elif isinstance(spec, bytes):
            target.write_bytes(spec)
        else:
            target.write_text(spec, encoding="utf-8")


def _invoke(
    argv: list[str], out_path: Path, err_path: Path, limit_s: int = CASE_TIME_LIMIT_S
) -> tuple[int | str, str | None]:
    """Run ``lfvsim *argv`` with stdout and stderr going to files (at the fd level)."""
    from lfvsim.cli import entry_point

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        crash = None
        sys.argv = ["lfvsim", *argv]
        signal.alarm(limit_s)
        try:
            entry_point()
            code: int | str = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except CaseTimeout:
            code, crash = "timeout", f"no exit within {limit_s} s"
        except MemoryError:
            code, crash = "memory", traceback.format_exc()
        except BaseException:
            code, crash = "traceback", traceback.format_exc()
        finally:
            signal.alarm(0)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    return code, crash


def _prepare_fixtures(root: Path) -> Path:
    """A real run folder and a real sweep table, for the cases that damage or reuse them."""
    fixtures = root / "fixtures"
    fixtures.mkdir()
    (fixtures / "s.toml").write_text(GOOD, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(fixtures)
    try:
        for argv in (
            ["run", "s.toml", "--out", "run"],
            [
                "sweep",
                "s.toml",
                "--max",
                "1..2",
                "--replications",
                "2",
                "--workers",
                "1",
                "-o",
                "sweep.csv",
            ],
        ):
            # The first run compiles the data plane: a longer limit.
            code, crash = _invoke(argv, root / "fx.out", root / "fx.err", limit_s=300)
            if code != 0:
                err = (root / "fx.err").read_text(errors="replace")
                raise SystemExit(f"fixture {argv} failed ({code}): {crash or err}")
    finally:
        os.chdir(cwd)
    return fixtures


def main(results_path: str, names: list[str]) -> None:
    # The budget below the memory cap, so that what it accepts fits under the cap.
    os.environ["LFVSIM_MAX_MEMORY_GIB"] = "2"
    os.environ.pop("LFVSIM_ALLOW_LARGE", None)
    os.environ["COLUMNS"] = "100"
    cases = [c for c in all_cases() if not names or c.name in names]
    import lfvsim.cli  # noqa: F401 - import (and its memory) before the cap

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = MEMORY_CAP_BYTES if hard == resource.RLIM_INFINITY else min(hard, MEMORY_CAP_BYTES)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.signal(signal.SIGALRM, _on_alarm)

    results = {}
    with tempfile.TemporaryDirectory(prefix="lfvsim-corpus-") as tmp:
        root = Path(tmp)
        fixtures = _prepare_fixtures(root)
        cwd = os.getcwd()
        for i, case in enumerate(cases):
            folder = root / f"case-{i}"
            folder.mkdir()
            _materialise(case, folder, fixtures)
            before = _checksums(folder)
            os.chdir(folder)
            try:
                code, crash = _invoke(list(case.argv), root / "out", root / "err")
            finally:
                os.chdir(cwd)
            after = _checksums(folder)
            results[case.name] = {
                "argv": list(case.argv),
                "code": code,
                "stdout": (root / "out").read_text(errors="replace"),
                "stderr": (root / "err").read_text(errors="replace"),
                "crash": crash,
                "changed": sorted(k for k in before if after.get(k) != before[k]),
                "new": sorted(k for k in after if k not in before),
            }
    Path(results_path).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
