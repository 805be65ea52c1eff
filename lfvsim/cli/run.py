"""``lfvsim run``: simulate one scenario and print its summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lfvsim.cli.app import app, input_errors, progress_bar
from lfvsim.engine import simulate
from lfvsim.result import Result
from lfvsim.scenario import Scenario, load_scenario, render_toml
from lfvsim.traces.schema import traffic_for_file

__all__ = ["format_summary", "run"]


@app.command()
def run(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")],
    trace: Annotated[
        Path | None, typer.Option(help="Replay this CSV trace instead of the scenario's traffic.")
    ] = None,
    min_units: Annotated[
        int | None, typer.Option(min=1, help="Override MinInferenceUnits.")
    ] = None,
    max_units: Annotated[
        int | None, typer.Option(min=1, help="Override MaxInferenceUnits.")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write timeline.csv, units.csv, summary.json, scenario.toml here."),
    ] = None,
    show_config: Annotated[
        bool,
        typer.Option(
            "--show-config",
            help="Print the resolved scenario with every default and each assumption marked.",
        ),
    ] = False,
) -> None:
    """Replay a trace against Min/Max inference units and report cost and throttling."""
    with input_errors():
        scenario = _scenario(scenario_path, trace, min_units, max_units)
        if show_config:
            typer.echo(render_toml(scenario), nl=False)
            return
        with progress_bar() as progress:
            result = simulate(scenario, seed=seed, progress=progress)
        if out is not None:
            result.write(out)
    if json_output:
        typer.echo(result.to_json())
    else:
        typer.echo(format_summary(result, scenario_path))
        if out is not None:
            typer.echo(f"\nwrote {out}/: timeline.csv, units.csv, summary.json, scenario.toml")


def _scenario(
    path: Path, trace: Path | None, min_units: int | None, max_units: int | None
) -> Scenario:
    scenario = load_scenario(path)
    overrides: dict[str, Any] = {}
    if trace is not None:
        overrides["traffic"] = traffic_for_file(trace)
    if min_units is not None:
        overrides["model.min_units"] = min_units
    if max_units is not None:
        overrides["model.max_units"] = max_units
    return (
        scenario.with_overrides(overrides, source="command-line options") if overrides else scenario
    )


def format_summary(result: Result, scenario_path: Path | None = None) -> str:
    """The summary as a small aligned table."""
    s = result.summary
    sc = result.scenario
    max_text = "unset (no auto-scaling)" if s.max_units is None else str(s.max_units)
    rows = [
        ("requests", f"{s.requests:,}"),
        ("served", f"{s.served:,}"),
        ("throttled", f"{s.throttled:,}  ({100 * s.throttle_rate:.3g}%)"),
        (
            "latency p50/p95/p99",
            f"{s.latency_p50_s:.3f} / {s.latency_p95_s:.3f} / {s.latency_p99_s:.3f} s",
        ),
        ("mean wait", f"{s.wait_mean_s:.3f} s"),
        ("inference-unit hours", f"{s.unit_hours:,.2f}"),
        ("cost", f"USD {s.cost_usd:,.2f}  (USD {s.price_per_unit_hour_usd:.2f} per unit-hour)"),
        ("cost per 1,000 images", f"USD {s.cost_per_1000_images_usd:.4f}"),
        ("units in service", f"mean {s.mean_units:.2f}, peak {s.peak_units}"),
        ("scaling", f"{s.scale_out_events} scale-outs, {s.scale_in_events} scale-ins"),
    ]
    width = max(len(k) for k, _ in rows)
    head = [
        f"{sc.model.project} version {sc.model.version} in {sc.model.region}"
        + (f"  ({scenario_path})" if scenario_path else ""),
        f"MinInferenceUnits {s.min_units}, MaxInferenceUnits {max_text}, policy {s.policy}, "
        f"{s.duration_h:g} h simulated, seed {s.seed}",
        f"traffic: {result.trace_source}",
        "",
    ]
    body = [f"  {k:<{width}}  {v}" for k, v in rows]
    notes = ["", "notes:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(head + body + notes)
