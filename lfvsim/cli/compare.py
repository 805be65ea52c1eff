"""``lfvsim compare``: operating modes side by side."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lfvsim.budget import checked
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.budgeting import AllowLargeOpt, check_simulations
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import RunSeedOpt, ScaleOpt, ScenarioArg, TraceOpt
from lfvsim.machine_output import stamped
from lfvsim.modes import MODES_HELP

__all__ = ["compare"]


@app.command()
def compare(
    scenario_path: ScenarioArg,
    mode: Annotated[
        list[str],
        typer.Option(
            "--mode", metavar="MODE", help=f"An operating mode, repeatable: {MODES_HELP}."
        ),
    ],
    trace: TraceOpt = None,
    scale: ScaleOpt = None,
    seed: RunSeedOpt = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per mode, in a list.")
    ] = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Always on, auto-scaled, scheduled or batch: cost and service side by side."""
    from lfvsim.experiments.compare import compare_modes
    from lfvsim.reports.text import format_modes

    with input_errors(allow_large_option=True):
        scenario = load_with_overrides(scenario_path, trace=trace, scale=scale)
        check_simulations(
            scenario, len(mode), allow_large=allow_large,
            how_to_shrink="compare fewer modes or less traffic",
        )  # fmt: skip
        with checked():  # costed just above
            table = compare_modes(scenario, mode, seed=seed)
    if json_output:
        records = [stamped(r) for r in json.loads(table.to_json(orient="records"))]
        typer.echo(json.dumps(records, indent=2))
        return
    typer.echo(format_modes(table))
