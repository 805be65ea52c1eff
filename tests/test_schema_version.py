"""Every --json object and every written table carries ``schema_version`` and exactly the
keys :data:`lfvsim.machine_output.OUTPUTS` documents; the README shows that same list."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from lfvsim.cli import app
from lfvsim.cli.app import load_commands
from lfvsim.errors import InputError
from lfvsim.machine_output import OUTPUTS, SCHEMA_VERSION, markdown
from lfvsim.reports import read_run, read_sweep
from lfvsim.traces import read_trace
from tests.conftest import ROOT, small_scenario_toml

JSON_COMMANDS = {
    "run": ["run", "replications"],
    "compare": ["compare"],
    "recommend": ["recommend"],
    "trace inspect": ["trace-inspect"],
    "trace compare-arrivals": ["compare-arrivals"],
    "backtest": ["backtest"],
    "calibrate": ["calibrate"],
}
"""Each command with --json, and the outputs its --json prints."""


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code in (0, 1), result.output  # recommend: 1 when no SLO is met
    return result.stdout


def _columns(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        return list(pq.read_schema(path).names)
    return list(pd.read_csv(path, nrows=0).columns)


def _table_versions(path: Path) -> set[int]:
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    return set(table["schema_version"].astype(int))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("outputs")


@pytest.fixture(scope="module")
def produced(folder) -> dict[str, list[tuple[str, list[str], set[int]]]]:
    """Every output, produced once: name -> [(where, keys in order, schema versions)].

    The versions are those in the object or in the table's rows (none for a table without
    rows).
    """
    tmp = folder
    sc = tmp / "small.toml"
    sc.write_text(small_scenario_toml(1))
    out: dict[str, list[tuple[str, list[str], set[int]]]] = {}

    def obj(name: str, where: str, data: dict) -> None:
        out.setdefault(name, []).append((where, list(data), {data.get("schema_version")}))

    def table(name: str, path: Path) -> None:
        out.setdefault(name, []).append((path.name, _columns(path), _table_versions(path)))

    obj("run", "run --json", json.loads(_cli("run", sc, "--json", "--out", tmp / "run")))
    obj("run", "summary.json", json.loads((tmp / "run" / "summary.json").read_text()))
    for name in ("timeline", "units", "events"):
        table(name, tmp / "run" / f"{name}.csv")

    reps = json.loads(_cli("run", sc, "--replications", "2", "--json", "--out", tmp / "reps"))
    obj("replications", "run --replications --json", reps)
    obj("replications", "summary.json", json.loads((tmp / "reps" / "summary.json").read_text()))
    table("replications-table", tmp / "reps" / "replications.csv")

    grid = ("--max", "1..2", "--replications", "2", "--workers", "1")
    vary = ("--vary", "autoscaler.provisioning_delay_s=60,120")
    _cli("sweep", sc, *grid, *vary, "-o", tmp / "sweep.csv")
    table("sweep", tmp / "sweep.csv")
    # With an SLO and interim looks the sweep says which configurations stopped early.
    staged = ("--max", "1..2", "--replications", "4", "--workers", "1")
    _cli("sweep", sc, *staged, "--max-throttle-rate", "0.2", "-o", tmp / "staged.csv")
    table("sweep", tmp / "staged.csv")
    wide = ("--max", "1..4", "--replications", "2", "--workers", "1")
    met = json.loads(
        _cli(
            "recommend", sc, *wide, "--max-throttle-rate", "0.2", "--json", "-o", tmp / "r.parquet"
        )
    )
    table("sweep", tmp / "r.parquet")
    obj("recommend", "recommend --json", met)
    obj("recommend", "recommend --json --vary", json.loads(
        _cli("recommend", sc, *grid, *vary, "--max-throttle-rate", "0.5", "--json")
    ))  # fmt: skip
    unmet = json.loads(
        _cli("recommend", sc, "--max", "1", "--replications", "2", "--workers", "1",
             "--max-throttle-rate", "1e-9", "--json")
    )  # fmt: skip
    obj("recommend", "recommend --json (SLO not met)", unmet)
    for key, name in (
        ("runner_up", "recommend-configuration"),
        ("closest", "recommend-configuration"),
        ("one_more_max_unit", "recommend-one-more-max-unit"),
        ("oracle", "recommend-oracle"),
        ("search", "recommend-search"),
    ):
        for data in (met, unmet):
            if data[key] is not None:
                out.setdefault(name, []).append((f"recommend --json: {key}", list(data[key]), {1}))

    modes = ("--mode", "always-on", "--mode", "autoscaled", "--mode", "batch")
    for record in json.loads(_cli("compare", sc, *modes, "--json")):
        obj("compare", "compare --json", record)
    obj("trace-inspect", "trace inspect --json", json.loads(_cli("trace", "inspect", sc, "--json")))
    for record in json.loads(_cli("trace", "compare-arrivals", sc, "--json")):
        obj("compare-arrivals", "trace compare-arrivals --json", record)

    history = tmp / "history.json"
    _cli("run", sc, "--cloudwatch-json", history)
    obj("backtest", "backtest --json", json.loads(_cli("backtest", sc, "--cloudwatch", history,
                                                        "--json")))  # fmt: skip
    calibrated = json.loads(
        _cli("calibrate", sc, "--cloudwatch", history, "-o", tmp / "calibrated.toml", "--json")
    )
    obj("calibrate", "calibrate --json", calibrated)

    synth = ("trace", "synth", "constant", "--rate-tps", "2", "--duration-h", "0.1")
    for suffix in (".csv", ".parquet"):
        _cli(*synth, "-o", tmp / f"counts{suffix}")
        table("trace-counts", tmp / f"counts{suffix}")
        _cli(*synth, "--requests", "-o", tmp / f"requests{suffix}")
        table("trace-requests", tmp / f"requests{suffix}")
        _cli("trace", "convert", tmp / f"requests{suffix}", "-o", tmp / f"converted{suffix}")
        table("trace-counts", tmp / f"converted{suffix}")
    return out


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_output_has_schema_version_and_the_documented_keys(produced, name):
    doc = OUTPUTS[name]
    assert produced.get(name), f"{name}: no test produces this output"
    for where, keys, versions in produced[name]:
        if "schema_version" in doc.keys:
            assert versions <= {SCHEMA_VERSION} and (versions or where.endswith(".csv")), where
        unknown = [k for k in keys if k not in doc.keys and k not in doc.optional]
        if doc.dotted:
            unknown = [k for k in unknown if "." not in k]
        assert not unknown, f"{where}: keys not documented in OUTPUTS[{name!r}]: {unknown}"
        assert [k for k in keys if k in doc.keys] == list(doc.keys), (
            f"{where}: documented keys missing or out of order"
        )


def test_top_level_outputs_carry_schema_version():
    nested = {n for n in OUTPUTS if n.startswith("recommend-")}
    for name, doc in OUTPUTS.items():
        assert ("schema_version" in doc.keys) == (name not in nested), name


def test_optional_and_dotted_keys_were_seen(produced):
    recommend_keys = {k for _, keys, _ in produced["recommend"] for k in keys}
    assert set(OUTPUTS["recommend"].optional) <= recommend_keys
    sweep_keys = {k for _, keys, _ in produced["sweep"] for k in keys}
    assert "autoscaler.provisioning_delay_s" in sweep_keys
    assert {"stopped_early", "slo_max_throttle_rate"} <= sweep_keys


def test_every_json_command_is_checked():
    def walk(command, path=()):
        for p in command.params:
            if "--json" in getattr(p, "opts", ()):
                yield " ".join(path)
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    load_commands()  # commands are imported lazily; walk them all
    assert set(walk(typer.main.get_command(app))) == set(JSON_COMMANDS)
    assert {n for names in JSON_COMMANDS.values() for n in names} <= set(OUTPUTS)


def test_readme_documents_the_same_keys():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme, (
        "README's 'Machine-readable output' key list differs from lfvsim.machine_output; "
        "paste lfvsim.machine_output.markdown() there"
    )
    assert f"`schema_version` is {SCHEMA_VERSION}" in readme


# --- readers take the column in their stride ------------------------------------------------


def test_readers_drop_the_column(produced, folder):
    tmp = folder
    run = read_run(tmp / "run")
    assert "schema_version" not in run.timeline.columns
    assert "schema_version" not in run.units.columns
    for path in (tmp / "sweep.csv", tmp / "r.parquet"):
        assert "schema_version" not in read_sweep(path).columns
    for suffix in (".csv", ".parquet"):
        counts = read_trace(tmp / f"counts{suffix}")
        again = read_trace(tmp / f"converted{suffix}")
        assert counts.counts.sum() == again.counts.sum() > 0


def test_newer_schema_is_refused(produced, folder, tmp_path):
    tmp = folder
    table = pd.read_csv(tmp / "sweep.csv")
    table["schema_version"] = SCHEMA_VERSION + 1
    table.to_csv(tmp_path / "newer.csv", index=False)
    with pytest.raises(InputError, match="newer than this lfvsim reads"):
        read_sweep(tmp_path / "newer.csv")
    folder = tmp_path / "run"
    folder.mkdir()
    for f in (tmp / "run").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    summary = json.loads((folder / "summary.json").read_text())
    summary["schema_version"] = SCHEMA_VERSION + 1
    (folder / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(InputError, match="upgrade lfvsim"):
        read_run(folder)


def test_tables_without_the_column_still_read(produced, folder, tmp_path):
    tmp = folder
    old = pd.read_csv(tmp / "sweep.csv").drop(columns="schema_version")
    old.to_csv(tmp_path / "old.csv", index=False)
    assert len(read_sweep(tmp_path / "old.csv")) == len(old)
