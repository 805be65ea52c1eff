"""Resource budgets: oversized work is refused before it starts, normal work is not.

The refusals run in a child process with a memory limit (RLIMIT_AS) and a timeout, so a
regression that allocates or loops instead of refusing fails the test rather than
taking the machine down.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import lfvsim
from lfvsim.budget import (
    GIB,
    BudgetError,
    Estimate,
    Limits,
    TrafficLoad,
    check,
    repeated,
    simulation_estimate,
    synthetic_load,
    trace_bins_estimate,
    trace_stats_estimate,
)
from lfvsim.engine.dataplane import DataPlane
from lfvsim.errors import InputError
from lfvsim.experiments.executors import capped_workers, cgroup_cpu_quota, cpu_count
from tests.conftest import scenario

#: Address space for the child: lfvsim with numba needs about 1.6 GiB; a refusal must
#: not need more, and an oversized allocation fails instead of swapping.
CHILD_MEMORY_BYTES = 3 * GIB
CHILD_TIMEOUT_S = 300

BASE = """\
[model]
min_units = {units}
[unit]
slots = {slots}
when_busy = "{when_busy}"
{queue}
[traffic]
kind = "constant"
rate_tps = {rate}
duration_h = {hours}
scale = {scale}
spikes_per_day = {spikes}
"""


def toml(
    units=2, slots=4, when_busy="throttle", queue="", rate=2.0, hours=1, scale=1.0, spikes=0.0
):
    return BASE.format(
        units=units, slots=slots, when_busy=when_busy, queue=queue, rate=rate, hours=hours,
        scale=scale, spikes=spikes,
    )  # fmt: skip


def describe_model(units: int) -> str:
    return json.dumps(
        {
            "ModelDescription": {
                "ModelVersion": "1",
                "ModelArn": "arn:aws:lookoutvision:us-east-1:123456789012:model/p/1",
                "Status": "TRAINED",
                "MinInferenceUnits": units,
                "MaxInferenceUnits": units,
            }
        }
    )


#: name -> (files to write, command line); every one must be refused with exit status 2.
REFUSED = {
    "describe-model 10^12 units": (
        {"big.json": describe_model(10**12)},
        ["run", "s.toml", "--describe-model", "big.json"],
    ),
    "10-year horizon": ({"x.toml": toml(hours=87_600)}, ["run", "x.toml"]),
    "100-year horizon": ({"x.toml": toml(hours=876_000)}, ["run", "x.toml"]),
    "sweep --max 1..10^12": ({}, ["sweep", "s.toml", "--max", "1..1000000000000"]),
    "sweep --replications 10^9": ({}, ["sweep", "s.toml", "--replications", "1000000000"]),
    "sweep 1000 x 1000 grid": ({}, ["sweep", "s.toml", "--min", "1..1000", "--max", "1..1000"]),
    "recommend 1000 x 1000 grid": (
        {},
        [
            "recommend",
            "s.toml",
            "--max-throttle-rate",
            "0.01",
            "--min",
            "1..1000",
            "--max",
            "1..1000",
        ],
    ),
    "run --replications 10^9": ({}, ["run", "s.toml", "--replications", "1000000000"]),
    "trace convert --bin-s 1e-6": (
        {"c.csv": "timestamp,count\n2026-01-05T00:00:00Z,10\n2026-01-05T01:00:00Z,12\n"},
        ["trace", "convert", "c.csv", "-o", "out.csv", "--bin-s", "1e-6"],
    ),
    "slots = 1e9": ({"x.toml": toml(slots="1e9")}, ["run", "x.toml"]),
    "queue_limit = 1e10": (
        {"x.toml": toml(when_busy="queue", queue="queue_limit = 1e10")},
        ["run", "x.toml"],
    ),
    "rate_tps = 1e9": ({"x.toml": toml(rate="1e9")}, ["run", "x.toml"]),
    "compare rate_tps = 1e9": (
        {"x.toml": toml(rate="1e9")},
        ["compare", "x.toml", "--mode", "always-on", "--mode", "batch"],
    ),
    "compare-arrivals rate_tps = 1e9": (
        {"x.toml": toml(rate="1e9")},
        ["trace", "compare-arrivals", "x.toml"],
    ),
    "scale = 1e12": ({"x.toml": toml(scale="1e12")}, ["run", "x.toml"]),
    "a count of 1e12": (
        {"c.csv": "timestamp,count\n2026-01-05T00:00:00Z,10\n2026-01-05T00:01:00Z,1000000000000\n"},
        ["run", "s.toml", "--trace", "c.csv"],
    ),
    "spikes_per_day = 1e9": ({"x.toml": toml(spikes="1e9")}, ["run", "x.toml"]),
    "trace synth spikes_per_day = 1e9": (
        {},
        [
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "--spikes-per-day",
            "1e9",
            "-o",
            "out.csv",
        ],
    ),
    "trace synth --rate-tps 1e9": (
        {},
        ["trace", "synth", "constant", "--rate-tps", "1e9", "-o", "out.csv"],
    ),
    "trace synth --scale 1e12": (
        {},
        ["trace", "synth", "constant", "--rate-tps", "1", "--scale", "1e12", "-o", "out.csv"],
    ),
    "trace inspect a count of 1e12": (
        {"c.csv": "timestamp,count\n2026-01-05T00:00:00Z,10\n2026-01-05T00:01:00Z,1000000000000\n"},
        ["trace", "inspect", "c.csv"],
    ),
    "trace inspect 2000-2099": (
        # Two intervals of 99 years: the figures kept per minute are what is too large.
        {"c.csv": "timestamp,count\n2000-01-01T00:00:00Z,3\n2099-01-01T00:00:00Z,4\n"},
        ["trace", "inspect", "c.csv"],
    ),
    "trace synth 100 years per second": (
        {},
        [
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "--duration-h",
            "876000",
            "--bin-s",
            "1",
            "-o",
            "out.csv",
        ],
    ),
}

#: Runs every case in one child process (lfvsim is imported once): exit status and output
#: of each, as JSON on stdout.
DRIVER = textwrap.dedent(
    """\
    import contextlib, io, json, os, sys
    from lfvsim.cli import entry_point
    results = {}
    for name, (folder, argv) in json.loads(sys.stdin.read()).items():
        os.chdir(folder)
        out, err = io.StringIO(), io.StringIO()
        sys.argv = ["lfvsim", *argv]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                entry_point()
                code = 0
            except SystemExit as exc:
                code = exc.code
            except BaseException as exc:
                code = repr(exc)
        results[name] = [code, out.getvalue(), err.getvalue(), sorted(os.listdir("."))]
    sys.__stdout__.write(json.dumps(results))
    """
)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))


def run_cases(tmp: Path, cases: dict, env: dict | None = None) -> dict:
    """Each case in its own folder (with ``s.toml``), in one memory-limited child."""
    jobs = {}
    for i, (name, (files, argv)) in enumerate(cases.items()):
        folder = tmp / f"case{i}"
        folder.mkdir()
        (folder / "s.toml").write_text(toml())
        for file_name, text in files.items():
            (folder / file_name).write_text(text)
        jobs[name] = [str(folder), argv]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        preexec_fn=_limit_memory,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def refused(tmp_path_factory) -> dict:
    return run_cases(tmp_path_factory.mktemp("budget"), REFUSED)


@pytest.mark.parametrize("name", list(REFUSED))
def test_oversized_work_is_refused_with_one_line_before_any_output(refused, name):
    files, _argv = REFUSED[name]
    code, out, err, listing = refused[name]
    assert code == 2, (code, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lfvsim: error: "), err
    assert "Traceback" not in err
    # The line gives the estimate and how to proceed.
    estimate = "about" in lines[0] and ("budget" in lines[0] or "machine" in lines[0])
    assert estimate or "a range may list" in lines[0], lines[0]
    # Nothing was written: the folder holds only the inputs.
    assert listing == sorted({"s.toml", *files}), listing


def test_a_refusal_names_the_way_past_the_budget(refused):
    err = refused["10-year horizon"][2]
    assert "GiB" in err and "LFVSIM_MAX_MEMORY_GIB" in err and "--allow-large" in err
    assert "shorter horizon" in err
    err = refused["sweep 1000 x 1000 grid"][2]
    assert "2,507,500 simulations" in err and "smaller --min/--max ranges" in err


def test_a_hundred_thousand_units_run_since_unit_bookkeeping_is_linear(tmp_path):
    # It used to be quadratic in the number of units and did not finish.
    cases = {"100,000 units": ({}, ["run", "s.toml", "--min-units", "100000", "--json"])}
    code, out, err, _ = run_cases(tmp_path, cases)["100,000 units"]
    assert code == 0, err
    summary = json.loads(out)
    assert summary["peak_units"] == 100_000
    assert summary["unit_hours"] == pytest.approx(100_000.0)


# --- accepted work and the limits -------------------------------------------------------


def test_normal_work_passes_without_an_estimate_line(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(toml())
    code, out, err = cli("run", path)
    assert code == 0 and err == ""
    assert "inference-unit hours" in out


def test_a_smaller_budget_refuses_and_allow_large_lifts_it(cli, tmp_path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text(toml())
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    code, out, err = cli("run", path)
    assert code == 2 and out == ""
    assert "over the 0.01 GiB memory budget" in err and len(err.splitlines()) == 1
    code, out, err = cli("run", path, "--allow-large")
    assert code == 0, err
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "lots")
    code, out, err = cli("run", path)
    assert code == 2 and "LFVSIM_MAX_MEMORY_GIB='lots' is not a positive number" in err


def test_long_accepted_work_shows_its_estimate(cli, tmp_path, monkeypatch):
    # Work estimated to take longer than ANNOUNCE_S shows the estimate: pretend a 1-hour
    # run is long.
    monkeypatch.setattr("lfvsim.cli.budgeting.ANNOUNCE_S", 0.0)
    path = tmp_path / "s.toml"
    path.write_text(toml())
    code, _out, err = cli("run", path, "--json")
    assert code == 0
    assert err.startswith("lfvsim: estimate: about ") and len(err.splitlines()) == 1


def test_the_estimate_grows_with_each_input():
    sc = scenario(
        model={"min_units": 2}, traffic={"kind": "constant", "rate_tps": 2, "duration_h": 1}
    )
    load = synthetic_load(sc.traffic)
    assert load == TrafficLoad(3600.0, 7200.0, 7200.0, 60.0, 0.0)
    one = simulation_estimate(sc, load)
    assert one.requests == 7200 and one.simulations == 1
    longer = simulation_estimate(
        sc, synthetic_load(sc.traffic.model_copy(update={"duration_h": 100}))
    )
    assert longer.memory_bytes > one.memory_bytes and longer.seconds > one.seconds
    more = simulation_estimate(sc.with_overrides({"model.min_units": 1000}), load)
    assert more.memory_bytes > one.memory_bytes and more.seconds > one.seconds
    many = repeated(one, 100, workers=2)
    assert many.simulations == 100 and many.requests == 720_000
    assert many.seconds == pytest.approx(one.seconds * 50)
    assert many.memory_bytes > 2 * one.memory_bytes
    # The horizon cuts the traffic costed.
    cut = simulation_estimate(sc.with_overrides({"simulation.horizon_h": 0.5}), load)
    assert cut.requests == pytest.approx(3600.0)


def test_check_compares_with_the_limits_and_the_machine():
    small = Estimate(10.0, 1, 0.5 * GIB, 60.0)
    assert check(small, "shrink", Limits(memory_gib=1, hours=1)) is small
    with pytest.raises(BudgetError, match="over the 1 h time budget"):
        check(Estimate(10.0, 1, 0.5 * GIB, 7200.0), "shrink", Limits(memory_gib=1, hours=1))
    big = Estimate(10.0, 1, 2 * GIB, 60.0)
    with pytest.raises(BudgetError, match=r"about 2 GiB.*over the 1 GiB memory budget.*shrink"):
        check(big, "shrink", Limits(memory_gib=1, hours=1))
    assert check(big, "shrink", Limits(memory_gib=1, hours=1, allow_large=True)) is big
    huge = Estimate(10.0, 1, 100 * GIB, 60.0)
    with pytest.raises(BudgetError, match="more than this machine's 64 GiB"):
        check(huge, "shrink", Limits(allow_large=True, machine_memory_gib=64))
    assert issubclass(BudgetError, InputError)


def test_limits_come_from_the_environment():
    limits = Limits.from_env({"LFVSIM_MAX_MEMORY_GIB": "8", "LFVSIM_MAX_HOURS": "0.5"})
    assert (limits.memory_gib, limits.hours, limits.allow_large) == (8.0, 0.5, False)
    assert Limits.from_env({"LFVSIM_ALLOW_LARGE": "1"}).allow_large
    assert not Limits.from_env({"LFVSIM_ALLOW_LARGE": "0"}).allow_large
    for bad in ("0", "-1", "inf", "nan", "x"):
        with pytest.raises(InputError, match="LFVSIM_MAX_HOURS"):
            Limits.from_env({"LFVSIM_MAX_HOURS": bad})


# --- workers --------------------------------------------------------------------------------


def test_workers_are_capped_by_the_cpus_this_process_may_use():
    cpus = cpu_count()
    assert 1 <= cpus <= len(__import__("os").sched_getaffinity(0))
    assert capped_workers(cpus) == (cpus, None)
    workers, note = capped_workers(cpus + 14)
    assert workers == cpus
    assert note.startswith(f"--workers {cpus + 14}: this process may use {cpus} CPU")


def test_the_cgroup_quota_is_read_from_cpu_max(tmp_path, monkeypatch):
    # A fake cgroup tree: the process's group allows 1.5 CPUs, its parent 3.
    own = tmp_path / "app" / "job"
    own.mkdir(parents=True)
    (own / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "app" / "cpu.max").write_text("300000 100000\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    real_read = Path.read_text

    def read_text(self, *args, **kwargs):
        if str(self) == "/proc/self/cgroup":
            return "0::/app/job\n"
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert cgroup_cpu_quota(tmp_path) == pytest.approx(1.5)
    (own / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path) == pytest.approx(3.0)
    (tmp_path / "app" / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path) is None


# --- linear unit bookkeeping, same results --------------------------------------------------


def _plane(slots: int = 3) -> DataPlane:
    unit = lfvsim.Scenario.model_validate(
        {"unit": {"slots": slots}, "traffic": {"kind": "constant", "rate_tps": 1, "duration_h": 1}}
    ).unit
    return DataPlane(iter(()), unit, 10)


def _heap(plane: DataPlane) -> tuple[list, list]:
    n = int(plane._st[0])
    return plane._ht[:n].tolist(), plane._hs[:n].tolist()


def test_bulk_unit_changes_leave_the_slots_as_one_by_one_changes_do():
    rng = np.random.default_rng(1)
    one, bulk = _plane(), _plane()
    for plane in (one, bulk):
        plane.add_units(np.arange(5), 0.0)
        n = int(plane._st[0])
        plane._ht[:n] = np.round(rng.uniform(0, 10, n) if plane is one else one._ht[:n], 0)
    for uid in range(5, 12):
        one.add_unit(uid, 3.0)
    bulk.add_units(np.arange(5, 12), 3.0)
    assert _heap(one) == _heap(bulk)
    order = [int(u) for u in bulk.least_busy_units(4)]
    picked = []
    for _ in range(4):
        uid = one.least_busy_unit()
        picked.append(uid)
        one.remove_unit(uid, 4.0)
    assert picked == order
    drained = bulk.remove_units(np.array(order), 4.0)
    assert _heap(one) == _heap(bulk)
    assert (drained >= 4.0).all()
    with pytest.raises(ValueError, match="not in service"):
        bulk.remove_units(np.array([order[0]]), 5.0)


# --- traces: what is placed, what is kept per minute ----------------------------------------


def test_writing_counts_costs_the_requests_it_places_not_those_it_merges():
    load = TrafficLoad(86_400.0, 8.64e13, 3.6e12)  # a day at 10^9 requests per second
    merged = trace_bins_estimate(load, 60.0, sampled=False)
    placed = trace_bins_estimate(load, 60.0)
    assert merged.requests == 0 and merged.memory_bytes < GIB
    assert placed.requests == 8.64e13
    assert placed.memory_bytes > 1000 * GIB and placed.seconds > 86_400
    # Per-request traces are replayed in slices, whatever their busiest hour.
    sliced = trace_bins_estimate(load, 60.0, rows=True, block_requests=65_536)
    assert sliced.memory_bytes < GIB


def test_synthetic_load_counts_rate_times_scale():
    sc = scenario(traffic={"kind": "constant", "rate_tps": 1, "duration_h": 24, "scale": 1e12})
    load = synthetic_load(sc.traffic)
    assert load.requests == pytest.approx(86_400 * 1e12)
    assert load.peak_requests_per_hour == pytest.approx(3600 * 1e12)
    with pytest.raises(BudgetError, match="more than this machine's"):
        check(trace_bins_estimate(load, 60.0), "shrink", Limits(machine_memory_gib=64))


def test_a_surge_longer_than_the_trace_is_costed_as_ending_with_it():
    # One 1e12 s surge a day on a 1-day trace was costed as 8e12 requests and refused.
    traffic = {"kind": "constant", "rate_tps": 4, "duration_h": 24, "spikes_per_day": 1}
    sc = scenario(traffic={**traffic, "spike_duration_s": 1e12})
    long = synthetic_load(sc.traffic)
    whole_day = synthetic_load(scenario(traffic={**traffic, "spike_duration_s": 86_400}).traffic)
    assert long.requests == pytest.approx(whole_day.requests)
    assert long.requests == pytest.approx(4 * 86_400 * 3)
    check(simulation_estimate(sc, long), "shrink", Limits())


def test_describing_a_trace_costs_its_minutes_and_its_requests():
    small = trace_stats_estimate(TrafficLoad(3600.0, 7200.0, 7200.0))
    assert small.memory_bytes < GIB and small.seconds < 10
    century = trace_stats_estimate(TrafficLoad(99 * 365 * 86_400.0, 7.0, 7.0))
    assert century.memory_bytes > 3 * GIB  # 52 million minutes of figures
    busy = trace_stats_estimate(TrafficLoad(120.0, 1e12, 1e12))
    assert busy.memory_bytes > 1000 * GIB and busy.seconds > 86_400
    with pytest.raises(BudgetError, match=r"over the 2 GiB memory budget"):
        check(century, "shrink", Limits(memory_gib=2))


def test_inspect_allow_large_lifts_the_budget(cli, tmp_path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text(toml())
    monkeypatch.setenv("LFVSIM_MAX_MEMORY_GIB", "0.01")
    code, out, err = cli("trace", "inspect", path)
    assert code == 2 and out == "" and "inspect less traffic" in err
    code, out, err = cli("trace", "inspect", path, "--allow-large")
    assert code == 0, err
    assert "requests" in out
