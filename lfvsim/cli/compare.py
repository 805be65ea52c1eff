"""``lfvsim compare``: operating modes side by side."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lfvsim.budget import checked
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.budgeting import check_simulations
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import RunSeedOpt, ScaleOpt, ScenarioArg, TraceOpt
from lfvsim.experiments.compare import MODES_HELP, compare_modes
from lfvsim.machine_output import stamped

__all__ = ["compare"]


@app.command()
def compare(
    scenario_path: ScenarioArg,
    mode: Annotated[
        list[str],
        typer.Option("--mode", help=f"An operating mode, repeatable: {MODES_HELP}."),
    ],
    trace: TraceOpt = None,
    scale: ScaleOpt = None,
    seed: RunSeedOpt = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per mode, in a list.")
    ] = False,
) -> None:
    """Always on, auto-scaled, scheduled or batch: cost and service side by side."""
    with input_errors():
        scenario = load_with_overrides(scenario_path, trace=trace, scale=scale)
        check_simulations(scenario, len(mode), how_to_shrink="compare fewer modes or less traffic")
        with checked():  # costed just above
            table = compare_modes(scenario, mode, seed=seed)
    if json_output:
        records = [stamped(r) for r in json.loads(table.to_json(orient="records"))]
        typer.echo(json.dumps(records, indent=2))
        return
    shown = table.assign(
        max_units=table["max_units"].astype(object).where(table["max_units"].notna(), "-"),
        monthly_cost_usd=table["monthly_cost_usd"].map("{:,.0f}".format),
        unit_hours=table["unit_hours"].map("{:,.1f}".format),
        hosted_h=table["hosted_h"].map("{:,.1f}".format),
        throttle_rate=table["throttle_rate"].map("{:.3%}".format),
        failure_rate=table["failure_rate"].map("{:.3%}".format),
        latency_p99_s=table["latency_p99_s"].map("{:.2f}".format),
    ).drop(columns=["cost_usd", "seed"])
    typer.echo(shown.to_string(index=False))
    typer.echo(
        f"\nsame requests in every mode (seed {int(table['seed'].iloc[0])}); monthly cost is "
        "the simulated cost scaled to 730 h; failure_rate counts throttled and unavailable "
        "requests"
    )
