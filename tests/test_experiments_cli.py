"""``lfvsim run --replications``, ``lfvsim sweep`` and ``lfvsim recommend``; executors.

Checks the promised output, that results do not depend on the executor (one worker, two
worker processes, a Dask cluster), that a sweep killed mid-way resumes to the same table,
and that bad input fails in one line with exit status 2 and no output file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from lfvsim.experiments import DaskExecutor, sweep
from lfvsim.experiments.replicate import replication_seeds
from lfvsim.machine_output import SCHEMA_VERSION
from lfvsim.scenario import load_scenario
from tests.conftest import ROOT, small_scenario_toml

SMALL = small_scenario_toml(duration_h=3)


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


# --- run --replications -------------------------------------------------------------------


def test_run_replications_json_holds_means_and_intervals(cli, small, tmp_path):
    code, out, err = cli("run", small, "--replications", "4", "--json", "--seed", "8")
    assert code == 0, err
    data = json.loads(out)
    seeds = replication_seeds(8, 4)
    assert data["replications"] == 4 and data["seeds"] == seeds and data["seed"] == 8
    single = json.loads(cli("run", small, "--json")[1])
    assert set(single) - {"notes", "trace"} <= set(data)  # every single-run key is there
    for key in ("throttle_rate", "cost_usd", "latency_p99_s", "unit_hours", "requests"):
        low, high = data["ci95"][key]
        assert low <= data[key] <= high, key
    # Replication 2 re-runs alone with its seed.
    code, out, _ = cli("run", small, "--json", "--seed", str(seeds[2]))
    alone = json.loads(out)
    code, _, _ = cli("run", small, "--replications", "4", "--seed", "8", "--out", tmp_path / "r")
    rows = pd.read_csv(tmp_path / "r" / "replications.csv")
    assert rows.loc[2, "requests"] == alone["requests"]
    assert rows.loc[2, "throttled"] == alone["throttled"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "lfvsim-manifest.json",
        "replications.csv",
        "scenario.toml",
        "summary.json",
    ]


def test_run_replications_table(cli, small):
    code, out, err = cli("run", small, "--replications", "3")
    assert code == 0, err
    assert "3 replications" in out and "95% CI" in out
    assert "throttle_rate" in out and "monthly_cost_usd" in out and "assumed:" in out


# --- sweep --------------------------------------------------------------------------------


def test_sweep_writes_a_tidy_table_and_resumes(cli, small, tmp_path):
    out = tmp_path / "results.parquet"
    args = ("sweep", small, "--min", "1..2", "--max", "2..3", "--replications", "2")
    code, text, err = cli(*args, "--workers", "1", "-o", out)
    assert code == 0, err
    table = pd.read_parquet(out)
    assert len(table) == 6 * 2
    assert table["max_units"].dtype == "Int64"
    assert "monthly cost USD" in text and "none" in text and f"wrote {out}" in text
    before = out.read_bytes()
    started = time.perf_counter()
    code, _, err = cli(*args, "-o", out)  # finished: nothing runs, the same table
    assert code == 0, err
    assert time.perf_counter() - started < 2
    pd.testing.assert_frame_equal(pd.read_parquet(out), table, check_exact=True)
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--min", "3..1"), "--min 3..1: the range 3..1 is empty"),
        (("--max", "0..4"), "--max 0..4: a model runs on at least 1"),
        (("--max", "two"), "--max two: not a range"),
        (("--vary", "autoscaler.nope=1,2"), "unknown key 'autoscaler.nope'"),
        (("--vary", "autoscaler.provisioning_delay_s=60,soon"), "valid number"),
        (("--vary", "model.max_units=2,3"), "use --min and --max"),
        (("--vary", "provisioning"), "write KEY=V1,V2"),
        (("--workers", "0"), "--workers 0"),
        (("--replications", "0"), "--replications 0"),
        (("--dask", "tcp://127.0.0.1:1", "--dask-timeout-s", "0.2"), "cannot reach the Dask"),
        (("--dask", "tcp://127.0.0.1:1", "--workers", "2"), "exclude each other"),
    ],
)
def test_sweep_bad_input_one_line_exit_2_no_file(cli, small, tmp_path, args, message):
    out = tmp_path / "never.parquet"
    code, stdout, err = cli("sweep", small, "--max", "1..2", "-o", out, *args)
    assert code == 2
    assert err.startswith("lfvsim: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.toml"]


def test_sweep_refuses_an_output_of_another_sweep(cli, small, tmp_path):
    out = tmp_path / "s.csv"
    assert (
        cli("sweep", small, "--max", "2", "--replications", "2", "--workers", "1", "-o", out)[0]
        == 0
    )
    code, _, err = cli("sweep", small, "--max", "2", "--seed", "9", "-o", out)
    assert code == 2 and "seed differs" in err and "delete" in err
    code, _, err = cli("sweep", small, "--max", "2", "-o", tmp_path / "s.txt")
    assert code == 2 and "end the name in .parquet or .csv" in err


def test_killed_sweep_resumes_to_the_uninterrupted_table(small, tmp_path):
    """SIGKILL a two-worker sweep (and its workers) mid-way, then run it again."""
    out = tmp_path / "killed.parquet"
    parts = tmp_path / ".killed.parquet.parts"
    kw = {"min_units": [1, 2], "max_units": [1, 2, 3, 4], "replications": 6, "oracle": True}
    total = (6 + 5) * 6  # Min 1: Max 1..4, none, oracle; Min 2: Max 2..4, none, oracle
    command = [sys.executable, "-m", "lfvsim.cli", "sweep", str(small), "--min", "1..2"]
    command += ["--max", "1..4", "--replications", "6", "--oracle", "--workers", "2"]
    command += ["-o", str(out)]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(parts.glob("*.json"))) < 6 and time.monotonic() < deadline:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = len(list(parts.glob("*.json"))) - 1
    assert 5 <= finished < total
    assert not out.exists()

    progress = []
    resumed = sweep(
        load_scenario(small),
        output=out,
        workers=1,
        progress=lambda d, t: progress.append(d),
        **kw,
    )
    assert progress[0] >= finished and progress[-1] == total
    reference = sweep(load_scenario(small), output=tmp_path / "reference.parquet", workers=1, **kw)
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out), pd.read_parquet(tmp_path / "reference.parquet"), check_exact=True
    )


def test_results_equal_for_one_worker_two_workers_and_dask(small, dask_cluster, cli, tmp_path):
    sc = load_scenario(small)
    kw = {
        "min_units": [1, 2],
        "max_units": [2, 3],
        "replications": 3,
        "oracle": True,
        "vary": {"autoscaler.provisioning_delay_s": [60, 300]},
    }
    one = sweep(sc, workers=1, **kw)
    two = sweep(sc, workers=2, **kw)
    on_dask = sweep(sc, dask=dask_cluster.scheduler_address, **kw)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, on_dask, check_exact=True)
    # The command line on the same cluster writes the same numbers.
    out = tmp_path / "dask.parquet"
    code, _, err = cli(
        "sweep", small, "--min", "1..2", "--max", "2..3", "--replications", "3", "--oracle",
        "--vary", "autoscaler.provisioning_delay_s=60,300",
        "--dask", dask_cluster.scheduler_address, "-o", out,
    )  # fmt: skip
    assert code == 0, err
    written = pd.read_parquet(out)
    assert set(written["schema_version"]) == {SCHEMA_VERSION}
    pd.testing.assert_frame_equal(written.drop(columns="schema_version"), one, check_exact=True)


def test_dask_executor_reports_its_workers(dask_cluster):
    with DaskExecutor(dask_cluster.scheduler_address) as executor:
        assert executor.workers == 2


# --- recommend ----------------------------------------------------------------------------


def test_recommend_json_has_the_choice_its_bounds_and_the_request(cli, small):
    code, out, err = cli(
        "recommend", small, "--max-throttle-rate", "0.01", "--min", "1..2", "--max", "2..5",
        "--replications", "5", "--workers", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert (data["min_units"], data["max_units"]) == (2, 4)
    assert data["throttle_rate"] <= data["throttle_rate_upper"] <= 0.01
    assert data["monthly_cost_interval_usd"][0] <= data["monthly_cost_usd"]
    request = data["start_model_request"]
    assert request["ProjectName"] == "line-7"
    assert (request["MinInferenceUnits"], request["MaxInferenceUnits"]) == (2, 4)
    assert data["oracle"]["min_units"] == 2 and "gap_usd" in data["oracle"]
    assert data["one_more_max_unit"]["max_units"] == 5
    assert data["seed"] == 5


def test_recommend_text_and_robustness_to_a_varied_assumption(cli, small):
    code, out, err = cli(
        "recommend", small, "--max-throttle-rate", "0.025", "--min", "2", "--max", "3..5",
        "--replications", "4", "--workers", "1",
        "--vary", "autoscaler.provisioning_delay_s=0,900",
    )  # fmt: skip
    assert code == 0, err
    # New units serving at once: Max 3 is enough; after 15 minutes, Max 4 is needed.
    assert "recommended: Min 2, Max 4 (worst case over the varied values)" in out
    assert "robustness to the varied values" in out
    assert "the recommended Max changes with autoscaler.provisioning_delay_s" in out
    assert "AWS does not publish its auto-scaling rules" in out
    assert "StartModel request" in out and '"MaxInferenceUnits": 4' in out


def test_recommend_exits_1_and_says_what_binds_when_nothing_meets_the_slo(cli, small):
    code, out, err = cli(
        "recommend", small, "--max-throttle-rate", "0.0001", "--min", "1", "--max", "1..2",
        "--replications", "3", "--workers", "1",
    )  # fmt: skip
    assert code == 1, err
    assert "no configuration in range meets the SLO" in out
    assert "binds: throttle rate" in out and "try: " in out
    # Most of the closest configuration's (Max 2) throttling is at Max: raise Max past 2.
    assert "raise Max (try --max 3..5)" in out
    code, out, _ = cli(
        "recommend", small, "--max-throttle-rate", "0.0001", "--min", "1", "--max", "1..2",
        "--replications", "3", "--workers", "1", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == 1 and data["met"] is False and data["min_units"] is None
    assert data["binding"] == ["throttle rate"]


def test_recommend_bad_input(cli, small, tmp_path):
    for args, message in [
        (("--max-throttle-rate", "2"), "--max-throttle-rate 2.0"),
        (("--max-throttle-rate", "0.01", "--replications", "1"), "at least 2 replications"),
        (("--max-throttle-rate", "0.01", "--confidence", "1.5"), "--confidence 1.5"),
    ]:
        code, _, err = cli("recommend", small, *args, "-o", tmp_path / "never.parquet")
        assert code == 2 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.toml"]


def test_recommend_refuses_a_trace_without_requests_instead_of_nan_latencies(cli, small, tmp_path):
    zero = tmp_path / "zero.csv"
    zero.write_text("timestamp,count\n2026-01-05T00:00:00Z,0\n2026-01-05T00:01:00Z,0\n")
    code, out, err = cli("recommend", small, "--max-throttle-rate", "0.01", "--trace", zero)
    assert (code, out) == (2, "")
    assert "has no requests" in err and "nan" not in err and len(err.splitlines()) == 1


def test_sweep_and_recommend_tables_are_byte_identical_with_engine_simpy(cli, small, tmp_path):
    outputs = {}
    for engine in ("auto", "simpy"):
        out = tmp_path / f"{engine}.csv"
        args = ("--min", "1..2", "--max", "2..3", "--replications", "2", "--workers", "1")
        code, text, err = cli("sweep", small, *args, "--engine", engine, "-o", out)
        assert code == 0, err
        rec = tmp_path / f"rec-{engine}.csv"
        code, rec_text, err = cli(
            "recommend", small, "--max-throttle-rate", "0.01", "--replications", "2",
            "--workers", "1", "--engine", engine, "-o", rec,
        )  # fmt: skip
        assert code in (0, 1), err
        # The printed tables and recommendation, the output's name aside.
        text, rec_text = text.replace(str(out), "OUT"), rec_text.replace(str(rec), "OUT")
        outputs[engine] = (out.read_bytes(), text, rec.read_bytes(), rec_text)
    assert outputs["auto"] == outputs["simpy"]


def test_an_unknown_engine_is_one_line_exit_2(cli, small):
    code, stdout, err = cli("sweep", small, "--max", "1..2", "--engine", "turbo")
    assert code == 2 and stdout == ""
    assert "turbo" in err and "auto" in err and "simpy" in err
    assert err.count("\n") == 1 and "Traceback" not in err
