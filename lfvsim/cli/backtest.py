"""``lfvsim backtest``: replay a model's CloudWatch history and compare, minute by minute."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lfvsim.atomic import allow_replace, check_replaceable
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.budgeting import AllowLargeOpt
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import ForceOpt, RunSeedOpt, ScenarioArg
from lfvsim.errors import InputError
from lfvsim.machine_output import stamped

__all__ = ["backtest", "format_backtest"]


@app.command()
def backtest(
    scenario_path: ScenarioArg,
    cloudwatch: Annotated[
        list[str],
        typer.Option(
            metavar="EXPORT",
            help="A get-metric-data export of the model's metrics (repeat for hand-paged "
            "files, or give a quoted glob pattern).",
        ),
    ],
    seed: RunSeedOpt = None,
    replications: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="Replays of the history; the output gives the share of minutes whose "
            "observed units in service lie within their range.",
        ),
    ] = 10,
    allow_large: AllowLargeOpt = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the figures as one JSON object.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Draw both timelines overlaid (.png, .svg or .pdf)."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Replay the observed load with the observed Min/Max, and compare with the history."""
    with input_errors(allow_large_option=True), allow_replace(force):
        from lfvsim.experiments.backtest import backtest as run_backtest
        from lfvsim.traces.metric_history import read_metric_history

        if replications < 1:
            raise InputError(
                f"--replications {replications} is below 1; replay the history at least once"
            )
        if plot is not None:
            _check_plot(plot)
        scenario = load_with_overrides(scenario_path)
        history = read_metric_history(cloudwatch)
        result = run_backtest(
            scenario, history, seed=seed, replications=replications, allow_large=allow_large
        )
        if plot is not None:
            from lfvsim.reports.backtest_plot import save_backtest_figure

            save_backtest_figure(result, plot)
    if json_output:
        typer.echo(json.dumps(stamped(result.to_dict()), indent=2))
        return
    typer.echo(format_backtest(result.to_dict(), history.source))
    if plot is not None:
        typer.echo(f"\nwrote {plot}")


def _check_plot(path: Path) -> None:
    from lfvsim.reports.backtest_plot import IMAGE_SUFFIXES

    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(
            f"'{path}': unknown image format '{path.suffix}'; end the name in "
            + ", ".join(IMAGE_SUFFIXES)
        )
    check_replaceable([path])  # before the work, not after


def format_backtest(figures: dict[str, Any], source: str) -> str:
    """The figures as a small aligned table, then the notes."""
    f = figures

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:+.1f}%"

    def share(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}% of minutes equal"

    def mae(x: float | None) -> str:
        return "-" if x is None else f"mean abs. error {x:.3f} units"

    def events(e: dict[str, Any]) -> str:
        lag = "-" if e["mean_lag_min"] is None else f"{e['mean_lag_min']:+.1f} min"
        return (
            f"{e['observed']} observed, {e['simulated']} simulated, {e['matched']} matched "
            f"(mean lag {lag})"
        )

    thr_obs = "-" if f["throttled_observed"] is None else f"{f['throttled_observed']:,.0f}"
    rows = [
        ("minutes compared", f"{f['minutes_compared']:,}"),
        (
            "units in service",
            f"{mae(f['in_service_mae_units'])}, {share(f['in_service_equal_share'])}",
        ),
        (
            f"within {f['replications']} replays",
            "-"
            if f["in_service_within_replays_share"] is None
            else f"{100 * f['in_service_within_replays_share']:.1f}% of minutes: observed units "
            "in service inside the replays' range",
        ),
        ("desired units", f"{mae(f['desired_mae_units'])}, {share(f['desired_equal_share'])}"),
        (
            "unit-hours",
            f"observed {f['unit_hours_observed']:,.2f}, simulated {f['unit_hours_simulated']:,.2f} "
            f"({pct(f['unit_hours_relative_error'])})",
        ),
        (
            "cost",
            f"observed USD {f['cost_observed_usd']:,.2f}, simulated USD "
            f"{f['cost_simulated_usd']:,.2f} ({pct(f['cost_relative_error'])})",
        ),
        (
            "throttled",
            f"observed {thr_obs}, simulated {f['throttled_simulated']:,.0f} "
            f"({pct(f['throttled_relative_error'])})",
        ),
        ("scale-outs", events(f["scale_outs"])),
        ("scale-ins", events(f["scale_ins"])),
    ]
    width = max(len(k) for k, _ in rows)
    head = [f"backtest against {source}", ""]
    body = [f"  {k:<{width}}  {v}" for k, v in rows]
    flags = ["", "misfit:"] + [f"  - {x}" for x in f["flags"]] if f.get("flags") else []
    notes = ["", "notes:"] + [f"  - {n}" for n in f["notes"]]
    return "\n".join(head + body + flags + notes)
