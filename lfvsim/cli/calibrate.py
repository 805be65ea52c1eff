"""``lfvsim calibrate``: set what a model's CloudWatch history shows directly, keep the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lfvsim.atomic import allow_replace, check_replaceable, write_text_atomic
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.budgeting import AllowLargeOpt
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import ForceOpt, ScenarioArg
from lfvsim.errors import InputError
from lfvsim.machine_output import stamped

__all__ = ["calibrate"]


@app.command()
def calibrate(
    scenario_path: ScenarioArg,
    cloudwatch: Annotated[
        list[str],
        typer.Option(
            metavar="EXPORT",
            help="A get-metric-data export of the model's metrics (repeat for hand-paged "
            "files, or give a quoted glob pattern).",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The calibrated scenario (TOML) to write.")
    ],
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the estimates as one JSON object.")
    ] = False,
) -> None:
    """Set what the history shows directly (each estimate with an interval), keep the rest."""
    with input_errors(allow_large_option=True), allow_replace(force):
        from lfvsim.experiments.calibration import calibrate_scenario
        from lfvsim.reports.text import format_calibration
        from lfvsim.scenario import render_toml
        from lfvsim.traces.cloudwatch import expand_paths
        from lfvsim.traces.metric_history import read_metric_history

        # Before the ownership check: --force must never let -o replace an input.
        if output.resolve() == scenario_path.resolve():
            raise InputError("-o names the input scenario; write the calibration to a new file")
        if output.resolve() in {p.resolve() for p in expand_paths(cloudwatch)}:
            raise InputError(
                f"-o {output} is also a --cloudwatch export; write the calibration to a new file"
            )
        check_replaceable([output])
        scenario = load_with_overrides(scenario_path)
        history = read_metric_history(cloudwatch)
        result = calibrate_scenario(scenario, history, allow_large=allow_large)
        # render_toml passes the export's name (user text) through toml_comment.
        write_text_atomic(output, render_toml(result.scenario))
    found = result.to_dict()
    figures = {
        "estimates": found["estimates"],
        "throttling": found["throttling"],
        "burstiness": found["burstiness"],
        "not_estimated": found["not_estimated"],
        "history_notes": history.notes,
        "periods": [str(p) for p in history.periods],
        "period": found["period"],
        "notes": found["notes"],
    }
    if json_output:
        typer.echo(json.dumps(stamped(figures), indent=2))
        return
    typer.echo(format_calibration(result))
    typer.echo(f"wrote {output}")
