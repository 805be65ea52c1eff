"""``lfvsim calibrate``: set what a model's CloudWatch history shows directly, keep the rest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from lfvsim.atomic import allow_replace, check_replaceable, write_text_atomic
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import ForceOpt, ScenarioArg
from lfvsim.errors import InputError
from lfvsim.machine_output import stamped
from lfvsim.safe_output import toml_comment
from lfvsim.scenario import render_toml

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
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the estimates as one JSON object.")
    ] = False,
) -> None:
    """Estimate the provisioning delay from the history (direct estimate, with an interval)."""
    with input_errors(), allow_replace(force):
        from lfvsim.experiments.calibrate import NOT_ESTIMATED, estimate_provisioning_delay
        from lfvsim.traces.metric_history import read_metric_history

        # Before the ownership check: --force must never let -o replace the input.
        if output.resolve() == scenario_path.resolve():
            raise InputError("-o names the input scenario; write the calibration to a new file")
        check_replaceable([output])
        scenario = load_with_overrides(scenario_path)
        history = read_metric_history(cloudwatch)
        estimate = estimate_provisioning_delay(history)
        text = render_toml(scenario)
        if estimate.informed:
            key = estimate.parameter
            scenario = scenario.with_overrides({key: estimate.value}, source="calibration")
            text = _mark_calibrated(
                render_toml(scenario),
                key.split(".")[1],
                # The export's name is user text: one line, no control characters.
                toml_comment(
                    f"calibrated from {history.source}: {estimate.events} scale-outs, "
                    f"interval {estimate.low:.1f}-{estimate.high:.1f} s"
                ),
            )
        write_text_atomic(output, text)
    figures = {
        "estimates": [estimate.to_dict()],
        "not_estimated": list(NOT_ESTIMATED),
        "history_notes": history.notes,
        "periods": [str(p) for p in history.periods],
    }
    if json_output:
        typer.echo(json.dumps(stamped(figures), indent=2))
        return
    if estimate.informed:
        typer.echo(
            f"{estimate.parameter} = {estimate.value:.1f} s  (interval {estimate.low:.1f}-"
            f"{estimate.high:.1f} s, {estimate.events} scale-outs)"
        )
    else:
        typer.echo(f"{estimate.parameter}: not informed ({estimate.detail})")
    typer.echo(
        "not estimated (no direct estimator; the scenario's assumptions stay): "
        + ", ".join(NOT_ESTIMATED)
    )
    typer.echo(f"wrote {output}")


def _mark_calibrated(text: str, key: str, comment: str) -> str:
    """Replace the 'ASSUMPTION' comment of ``key``'s line with where its value came from."""
    pattern = re.compile(rf"^({re.escape(key)} = [^#\n]*?)\s*#.*$", re.MULTILINE)
    return pattern.sub(lambda m: f"{m.group(1)}  # {comment}", text, count=1)
