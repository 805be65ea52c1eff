"""``lfvsim sweep`` and ``lfvsim recommend``: parse, call :mod:`lfvsim.experiments`, print.

The text they print is :mod:`lfvsim.reports.text`'s. No model logic.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from lfvsim.atomic import allow_replace
from lfvsim.cli.app import app, input_errors, report_interrupt
from lfvsim.cli.budgeting import AllowLargeOpt, check_range_size, check_sweep
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import (
    ConfidenceOpt,
    DescribeOpt,
    ExperimentSeedOpt,
    FillGapsOpt,
    ForceOpt,
    MaxP99Opt,
    MaxThrottleOpt,
    ScenarioArg,
    TraceOpt,
)
from lfvsim.cli.progress import run_progress
from lfvsim.errors import InputError
from lfvsim.experiments import recommend, sweep
from lfvsim.experiments.recommend import check_slo
from lfvsim.machine_output import stamped
from lfvsim.reports.text import format_recommendation, format_sweep

__all__ = ["parse_range", "parse_vary", "recommend_command", "sweep_command"]


# --- options of sweep and recommend ------------------------------------------------------

MinOpt = Annotated[
    str, typer.Option("--min", metavar="RANGE", help="MinInferenceUnits to try: 1..3, 2 or 1,2,4.")
]
MaxOpt = Annotated[
    str,
    typer.Option(
        "--max",
        metavar="RANGE",
        help="MaxInferenceUnits to try (each >= Min); no auto-scaling is always tried too.",
    ),
]
VaryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--vary",
        metavar="KEY=V1,V2",
        help="Repeat for each value of a scenario key, e.g. "
        "autoscaler.provisioning_delay_s=120,300,600 (repeatable).",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(help="Local worker processes (default: the CPU count; 1: no subprocesses)."),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS",
        help="Run on this Dask scheduler (tcp://HOST:PORT); needs the dask extra.",
    ),
]
DaskTimeoutOpt = Annotated[
    float, typer.Option(min=0.1, help="Seconds to try to reach the Dask scheduler.")
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write one row per configuration x replication (.parquet or .csv); re-running "
        "the same sweep into it resumes.",
    ),
]


def parse_range(text: str, option: str) -> list[int]:
    """``"1..3"``, ``"4"`` or ``"1,2,5..7"`` as a sorted list of unit counts (>= 1).

    Raises
    ------
    InputError
        Not a range, an empty range, or fewer than one unit.
    """
    values: set[int] = set()
    parts = text.replace(" ", "").split(",")
    check_range_size(parts, text, option)
    for part in parts:
        lo_text, dots, hi_text = part.partition("..")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if dots else lo
        except ValueError:
            raise InputError(
                f"{option} {text}: not a range of unit counts; write LOW..HIGH, e.g. {option} 1..4"
            ) from None
        if hi < lo:
            raise InputError(
                f"{option} {text}: the range {lo}..{hi} is empty; write LOW..HIGH with "
                f"LOW <= HIGH, e.g. {option} {hi}..{lo}"
            )
        if lo < 1:
            raise InputError(
                f"{option} {text}: a model runs on at least 1 inference unit; e.g. "
                f"{option} 1..{max(hi, 1)}"
            )
        values.update(range(lo, hi + 1))
    return sorted(values)


def parse_vary(items: list[str] | None) -> dict[str, list[Any]]:
    """``["autoscaler.provisioning_delay_s=120,300"]`` as ``{key: [120, 300]}``.

    Values are read as TOML literals (numbers, booleans, quoted strings); anything else
    is a string. The scenario schema checks them.
    """
    out: dict[str, list[Any]] = {}
    for item in items or []:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise InputError(
                f"--vary {item}: write KEY=V1,V2,..., e.g. "
                "--vary autoscaler.provisioning_delay_s=120,300,600"
            )
        if key in out:
            raise InputError(f"--vary {key}: given twice; list all its values in one --vary")
        out[key] = [_literal(v.strip()) for v in values.split(",")]
        if any(v == "" for v in out[key]):
            raise InputError(f"--vary {item}: an empty value; remove the extra comma")
    return out


def _literal(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


@contextmanager
def _interruptible(output: Path | None) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        hint = (
            f"; finished runs are kept: run the same command again to resume into '{output}'"
            if output is not None
            else ""
        )
        report_interrupt(f"lfvsim: interrupted{hint}")
        raise typer.Exit(130) from None


# --- lfvsim sweep -------------------------------------------------------------------------


@app.command("sweep")
def sweep_command(
    scenario_path: ScenarioArg,
    min_range: MinOpt = "1",
    max_range: MaxOpt = "1..12",
    replications: Annotated[
        int, typer.Option(help="Replications per configuration (same seeds in each).")
    ] = 5,
    output: OutputOpt = None,
    trace: TraceOpt = None,
    fill_gaps: FillGapsOpt = None,
    describe_model: DescribeOpt = None,
    seed: ExperimentSeedOpt = None,
    vary: VaryOpt = None,
    oracle: Annotated[
        bool,
        typer.Option(
            "--oracle", help="Also run the oracle lower bound for each Min (oracle_bound rows)."
        ),
    ] = False,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    dask_timeout_s: DaskTimeoutOpt = 10.0,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Simulate every (Min, Max) configuration with replications and common random numbers."""
    with input_errors(), _interruptible(output), allow_replace(force):
        scenario = load_with_overrides(
            scenario_path, trace=trace, fill_gaps=fill_gaps, describe_model=describe_model
        )
        mins = parse_range(min_range, "--min")
        maxs = parse_range(max_range, "--max")
        check_sweep(
            scenario, mins, maxs, replications, parse_vary(vary), oracle, workers, allow_large
        )
        with run_progress("sweep") as progress:
            table = sweep(
                scenario,
                min_units=mins,
                max_units=maxs,
                replications=replications,
                seed=seed,
                vary=parse_vary(vary),
                oracle=oracle,
                output=output,
                workers=workers,
                dask=dask,
                dask_timeout_s=dask_timeout_s,
                progress=progress,
            )
    typer.echo(format_sweep(table, scenario, scenario_path))
    if output is not None:
        typer.echo(f"\nwrote {output}: {len(table):,} rows, one per configuration x replication")


# --- lfvsim recommend ---------------------------------------------------------------------


@app.command("recommend")
def recommend_command(
    scenario_path: ScenarioArg,
    max_throttle_rate: MaxThrottleOpt,
    max_p99_latency_s: MaxP99Opt = None,
    confidence: ConfidenceOpt = 0.95,
    min_range: MinOpt = "1",
    max_range: MaxOpt = "1..12",
    replications: Annotated[
        int, typer.Option(help="Replications per configuration (same seeds in each), >= 2.")
    ] = 10,
    output: OutputOpt = None,
    trace: TraceOpt = None,
    fill_gaps: FillGapsOpt = None,
    describe_model: DescribeOpt = None,
    seed: ExperimentSeedOpt = None,
    vary: VaryOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    dask_timeout_s: DaskTimeoutOpt = 10.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the recommendation as one JSON object.")
    ] = False,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """The cheapest Min/Max whose SLO holds at a confidence level, and its StartModel request.

    Exit status 1 when no configuration in range meets the SLO.
    """
    with input_errors(), _interruptible(output), allow_replace(force):
        scenario = load_with_overrides(
            scenario_path, trace=trace, fill_gaps=fill_gaps, describe_model=describe_model
        )
        mins = parse_range(min_range, "--min")
        maxs = parse_range(max_range, "--max")
        if replications < 2:
            raise InputError(
                f"--replications {replications}: an SLO bound needs at least 2 "
                "replications; use 5 or more"
            )
        check_slo(max_throttle_rate, max_p99_latency_s, confidence)
        check_sweep(
            scenario, mins, maxs, replications, parse_vary(vary), True, workers, allow_large
        )
        with run_progress("recommend") as progress:
            table = sweep(
                scenario,
                min_units=mins,
                max_units=maxs,
                replications=replications,
                seed=seed,
                vary=parse_vary(vary),
                oracle=True,
                output=output,
                workers=workers,
                dask=dask,
                dask_timeout_s=dask_timeout_s,
                progress=progress,
            )
        rec = recommend(
            table,
            max_throttle_rate,
            max_p99_latency_s=max_p99_latency_s,
            confidence=confidence,
            scenario=scenario,
        )
    if json_output:
        data = stamped(rec.to_dict())
        data["seed"] = table.attrs.get("seed")
        data["requests"] = float(table["requests"].mean())
        data["duration_h"] = float(table["duration_h"].iloc[0])
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(format_recommendation(rec, table, scenario, scenario_path))
    if not rec.met:
        raise typer.Exit(1)
