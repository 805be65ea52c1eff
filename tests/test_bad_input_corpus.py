"""Every bad or extreme input in the corpus is refused cleanly by the real CLI.

One child process (``tests/corpus/runner.py``) runs every case in-process under a
memory cap and a per-case time limit; each case must exit with status 2 and one line on
stderr, print nothing on stdout, and leave its folder's files byte-identical with no new
file. See ``tests/corpus/cases.py`` for the cases and ``tests/corpus/judge.py`` for the rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
sys.path.insert(0, str(CORPUS))

from cases import CASES, KNOWN_OPEN  # noqa: E402
from judge import problems  # noqa: E402

NAMES = [c.name for c in CASES]
OPEN = {c.name: why for c, why in KNOWN_OPEN}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Run the whole corpus (and the known-open cases) once, in one child process."""
    out = tmp_path_factory.mktemp("corpus") / "results.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, str(CORPUS / "runner.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text(encoding="utf-8"))
    print(f"\nbad-input corpus: {len(found)} cases run", file=sys.stderr)
    return found


def test_corpus_is_large_and_names_are_unique() -> None:
    assert len(NAMES) == len(set(NAMES))
    assert len(CASES) >= 150
    assert not set(OPEN) & set(NAMES)
    commands = {c.argv[0] if c.argv[0] != "trace" else " ".join(c.argv[:2]) for c in CASES}
    every = {
        "run", "sweep", "recommend", "compare", "plot", "report", "seed",
        "start-model-input", "trace synth", "trace inspect", "trace import-cloudwatch",
        "trace convert", "trace compare-arrivals",
    }  # fmt: skip
    assert every <= commands, every - commands


@pytest.mark.parametrize("name", NAMES)
def test_refused_cleanly(results: dict[str, dict], name: str) -> None:
    result = results[name]
    assert not problems(result), (
        f"lfvsim {' '.join(result['argv'])}: {problems(result)}\n"
        f"stderr: {result['stderr'][-2000:]}\nstdout: {result['stdout'][-500:]}"
    )


def test_budget_refusals_name_what_the_user_can_pass(results: dict[str, dict]) -> None:
    # The library's own check (report simulates through it) speaks the command's words.
    over = {n: r["stderr"] for n, r in results.items() if "budget (LFVSIM_MAX_" in r["stderr"]}
    assert "report-scenario-past-time-budget" in over
    for name, err in over.items():
        assert "allow it with --allow-large (LFVSIM_ALLOW_LARGE=1)" in err, (name, err)
        assert "allow_large=True" not in err, (name, err)


@pytest.mark.parametrize("name", sorted(OPEN))
def test_known_open_case_still_fails(results: dict[str, dict], name: str) -> None:
    # A known-open case that now passes has been fixed: move it into CASES.
    assert problems(results[name]), (
        f"{name} ({OPEN[name]}) is now refused cleanly: move it into CASES"
    )
