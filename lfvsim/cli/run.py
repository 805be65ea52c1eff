"""``lfvsim run``: simulate one scenario and print its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lfvsim.atomic import (
    MANIFEST,
    allow_replace,
    check_output_folder,
    check_replaceable,
    write_text_atomic,
)
from lfvsim.budget import checked
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.budgeting import AllowLargeOpt, check_simulations
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import (
    DescribeOpt,
    FillGapsOpt,
    MaxUnitsOpt,
    MinUnitsOpt,
    NoMaxUnitsOpt,
    RunSeedOpt,
    ScaleOpt,
    ScenarioArg,
    TraceOpt,
)
from lfvsim.cli.progress import progress_bar, run_progress
from lfvsim.errors import InputError

if TYPE_CHECKING:  # the library loads when the command runs, so that --help starts fast
    from lfvsim.engine.result import Result
    from lfvsim.scenario import Scenario

__all__ = ["run", "run_replications"]


@app.command()
def run(
    scenario_path: ScenarioArg,
    trace: TraceOpt = None,
    fill_gaps: FillGapsOpt = None,
    scale: ScaleOpt = None,
    describe_model: DescribeOpt = None,
    min_units: MinUnitsOpt = None,
    max_units: MaxUnitsOpt = None,
    no_max_units: NoMaxUnitsOpt = False,
    seed: RunSeedOpt = None,
    replications: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Run N >= 2 replications (seeds from SeedSequence(seed).spawn(N)) and "
            "report each metric's mean and 95% confidence interval.",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the summary as one JSON object (not with --show-config, which "
            "prints TOML).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FOLDER",
            help="Write timeline, units, events, summary and scenario files into this folder.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Let --out replace a folder holding files lfvsim did not write (they are "
            "kept), and --cloudwatch-json replace a file lfvsim did not write.",
        ),
    ] = False,
    show_config: Annotated[
        bool,
        typer.Option(
            "--show-config",
            help="Print the resolved scenario as TOML, every default filled in and each "
            "assumption marked, and run nothing; tomllib reads the output (refused with "
            "--json, and with options that only matter when running: --out, "
            "--replications, --cloudwatch-json, --seed, --force, --allow-large).",
        ),
    ] = False,
    cloudwatch_json: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Also write the run as CloudWatch would show it: a get-metric-data export "
            "of the model's per-minute metrics (counts, units, bounds, latency).",
        ),
    ] = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Replay a trace against Min/Max inference units and report cost and throttling."""
    from lfvsim.engine import simulate
    from lfvsim.reports.text import format_summary
    from lfvsim.scenario import render_toml

    with input_errors(allow_large_option=True), allow_replace(force):
        if show_config and json_output:
            raise InputError(
                "--show-config prints the scenario as TOML and runs nothing, --json prints "
                "a run's summary; give one of them (tomllib reads the TOML)"
            )
        if show_config:
            _refuse_run_only_options(
                {
                    "--out": out is not None,
                    "--replications": replications is not None,
                    "--cloudwatch-json": cloudwatch_json is not None,
                    "--seed": seed is not None,
                    "--force": force,
                    "--allow-large": allow_large,
                }
            )
        scenario = load_with_overrides(
            scenario_path,
            trace=trace,
            fill_gaps=fill_gaps,
            scale=scale,
            describe_model=describe_model,
            min_units=min_units,
            max_units=max_units,
            no_max_units=no_max_units,
        )
        if show_config:
            typer.echo(render_toml(scenario), nl=False)
            return
        if cloudwatch_json is not None:
            _check_new_file(cloudwatch_json, replications, inputs=[scenario_path, trace])
        if replications is not None:
            check_simulations(
                scenario, replications, allow_large=allow_large,
                how_to_shrink="use fewer --replications or a shorter horizon",
            )  # fmt: skip
            run_replications(scenario, scenario_path, replications, seed, json_output, out)
            return
        if out is not None:
            check_output_folder(out)  # before the work, not after
        trace_read = check_simulations(scenario, allow_large=allow_large)
        with progress_bar() as progress, checked():  # costed just above
            result = simulate(scenario, trace=trace_read, seed=seed, progress=progress)
        if out is not None:
            result.write(out)
        if cloudwatch_json is not None:
            _write_cloudwatch_json(result, cloudwatch_json)
    if json_output:
        typer.echo(result.to_json())
    else:
        typer.echo(format_summary(result, scenario_path))
        if out is not None:
            files = "timeline.csv, units.csv, events.csv, summary.json, scenario.toml, " + MANIFEST
            typer.echo(f"\nwrote {out}/: {files}")
        if cloudwatch_json is not None:
            typer.echo(f"wrote {cloudwatch_json} (get-metric-data export of the simulated run)")


def _refuse_run_only_options(given: dict[str, bool]) -> None:
    """Refuse options that only matter when running, rather than ignore them silently:
    --show-config runs nothing."""
    names = [name for name, is_given in given.items() if is_given]
    if names:
        them = ", ".join(names)
        raise InputError(
            f"--show-config runs nothing, so {them} would not be used; drop {them}, "
            "or drop --show-config to run"
        )


def _check_new_file(path: Path, replications: int | None, inputs: list[Path | None]) -> None:
    """Refuse, before simulating, an export that needs one run, would replace one of the
    command's inputs (whatever --force says) or a file lfvsim did not write (unless --force)."""
    if replications is not None:
        raise InputError("--cloudwatch-json writes one run; drop --replications")
    for given in inputs:
        if given is not None and path.exists() and path.resolve() == given.resolve():
            raise InputError(
                f"--cloudwatch-json {path} is also an input of this run; write the export "
                "to a new file"
            )
    check_replaceable([path])


def _write_cloudwatch_json(result: Result, path: Path) -> None:
    from lfvsim.traces.metric_export import metric_data_export

    model = result.scenario.model
    (page,) = metric_data_export(
        result.timeline, service=model.service, project=model.project, version=model.version
    )
    write_text_atomic(path, json.dumps(page, indent=1) + "\n")


def run_replications(
    scenario: Scenario,
    scenario_path: Path | None,
    replications: int,
    seed: int | None,
    json_output: bool,
    out: Path | None,
) -> None:
    """``lfvsim run --replications N``: replicate, then print (and write) the result."""
    from lfvsim.experiments import replicate
    from lfvsim.reports.text import format_replications

    if out is not None:
        check_output_folder(out)  # before the work, not after
    with run_progress("replications") as progress, checked():  # costed by the caller
        reps = replicate(scenario, replications, seed=seed, progress=progress)
    if out is not None:
        reps.write(out)
    if json_output:
        typer.echo(reps.to_json())
        return
    typer.echo(format_replications(reps, scenario_path))
    if out is not None:
        typer.echo(f"\nwrote {out}/: replications.csv, summary.json, scenario.toml, {MANIFEST}")
