"""``lfvsim seed`` and ``lfvsim start-model-input``: from AWS's description to StartModel."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lfvsim.atomic import allow_replace, check_replaceable, write_text_atomic
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.loading import check_max_units_flags, warn
from lfvsim.cli.options import ForceOpt, MaxUnitsOpt, MinUnitsOpt, NoMaxUnitsOpt, ScenarioArg
from lfvsim.errors import InputError
from lfvsim.safe_output import shell_command

if TYPE_CHECKING:  # the library loads when a command runs, so that --help starts fast
    from lfvsim.aws import ModelDescription
    from lfvsim.scenario import Scenario

__all__ = [
    "RequestFormat",
    "ServiceName",
    "seed",
    "start_model_input",
]


class ServiceName(StrEnum):
    """Services whose models run on inference units."""

    lookoutvision = "lookoutvision"
    rekognition = "rekognition"


class RequestFormat(StrEnum):
    """How ``start-model-input`` prints the request."""

    json = "json"
    boto3 = "boto3"


@app.command()
def seed(
    describe_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="DESCRIBE.json",
            help="Saved 'aws lookoutvision describe-model' or "
            "'aws rekognition describe-project-versions' output.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the scenario here instead of to stdout."),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            metavar="VERSION",
            help="Model version: picks one of several Rekognition versions; required for a "
            "live Lookout for Vision read.",
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            metavar="PROJECT", help="Read the model live through boto3 instead of from a file."
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(metavar="REGION", help="AWS region of a live read (default: boto3's)."),
    ] = None,
    service: Annotated[
        ServiceName | None, typer.Option(help="Service of a live read (default: lookoutvision).")
    ] = None,
    traffic: Annotated[
        Path | None,
        typer.Option(
            metavar="CSV",
            help="Trace for the traffic section; without it, a placeholder to replace.",
        ),
    ] = None,
    price_per_unit_hour: Annotated[
        float | None,
        typer.Option(
            "--price-per-unit-hour",
            metavar="USD",
            help="Set billing.price_per_unit_hour_usd (needed where the price table has none).",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Write a scenario for a real model, from what DescribeModel says about it."""
    from lfvsim.aws import render_seeded_scenario, seed_scenario
    from lfvsim.traces import trace_from_scenario

    with input_errors(), allow_replace(force):
        if output is not None:
            for given in (describe_file, traffic):
                if given is not None and given.exists() and output.exists():
                    if output.samefile(given):
                        raise InputError(f"-o {output} is also an input; write elsewhere")
            check_replaceable([output])  # before reading anything live
        description = _describe(describe_file, version, project, region, service)
        base_dir = (output.parent if output is not None else Path.cwd()).resolve()
        traffic_section = None
        if traffic is not None:
            if not traffic.is_file():
                raise InputError(
                    f"--traffic: trace file '{traffic}' does not exist; check the path"
                )
            traffic_section = {
                "kind": "csv",
                "path": Path(os.path.relpath(traffic.resolve(), base_dir)).as_posix(),
            }
        scenario = seed_scenario(description, traffic_section, price_per_unit_hour, base_dir)
        if traffic is not None:
            # Read the trace now: a scenario that names an unreadable trace would only
            # fail later, at its first run.
            trace_from_scenario(scenario)
        text = render_seeded_scenario(description, scenario, placeholder_traffic=traffic is None)
        for message in description.warnings():
            warn(message)
        if output is not None:
            write_text_atomic(output, text)
    if output is None:
        typer.echo(text, nl=False)
        return
    m = scenario.model
    max_text = "no Max (no auto-scaling)" if m.max_units is None else f"Max {m.max_units}"
    typer.echo(
        f"wrote {output}: {m.project} version {m.version} in {m.region}, "
        f"Min {m.min_units}, {max_text}; next: {shell_command('lfvsim', 'run', output)}"
    )


def _describe(
    path: Path | None,
    version: str | None,
    project: str | None,
    region: str | None,
    service: ServiceName | None,
) -> ModelDescription:
    from lfvsim.aws import get_model_description, read_model_description

    if path is not None and project is not None:
        raise InputError("give DESCRIBE.json or --project (a live read), not both")
    if path is not None:
        if region is not None or service is not None:
            raise InputError(
                "--region and --service are for live reads (--project); a file's region and "
                "service come from its ARN"
            )
        return read_model_description(path, version=version)
    if project is None:
        raise InputError(
            "give a describe-model JSON file, or --project and --version to read the model live"
        )
    return get_model_description(
        project,
        version,
        region=region,
        service="lookoutvision" if service is None else service.value,
    )


@app.command("start-model-input")
def start_model_input(
    scenario_path: ScenarioArg,
    min_units: MinUnitsOpt = None,
    max_units: MaxUnitsOpt = None,
    no_max_units: NoMaxUnitsOpt = False,
    output_format: Annotated[
        RequestFormat,
        typer.Option(
            "--format",
            help="json: for the AWS CLI's --cli-input-json; boto3: a Python call.",
        ),
    ] = RequestFormat.json,
    start_date: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help="Day of the intended start, part of the ClientToken (default: today, UTC). "
            "Retrying a start after midnight UTC: pass the first day.",
            show_default=False,
        ),
    ] = None,
    token_suffix: Annotated[
        str | None,
        typer.Option(
            metavar="SUFFIX",
            help="Part of the ClientToken (1-16 of a-z, A-Z, 0-9, -): a new start of the same "
            "plan on the same day, such as after StopModel, needs a new suffix, or StartModel "
            "takes it for a retry of the first start and starts nothing.",
            show_default=False,
        ),
    ] = None,
    describe_model: Annotated[
        Path | None,
        typer.Option(
            metavar="DESCRIBE.json",
            help="Saved describe-model (Rekognition: describe-project-versions) output: warn "
            "when the model is running, since new Min/Max need StopModel first.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the StartModel (Rekognition: StartProjectVersion) request for a scenario.

    The ClientToken is derived from the plan (project, version, Min, Max), the day of the
    start (UTC) and --token-suffix: retrying one start sends the same token, so AWS runs it
    once; a deliberate new start of the same plan within 8 hours needs another suffix.
    """
    from lfvsim.scenario import load_scenario
    from lfvsim.startmodel import boto3_call, start_model_request

    with input_errors():
        check_max_units_flags(max_units, no_max_units)
        day = _start_date(start_date)
        scenario = load_scenario(scenario_path)
        if scenario.model.service == "rekognition" and (
            token_suffix is not None or start_date is not None
        ):
            raise InputError(
                "--start-date and --token-suffix set the ClientToken, which "
                "StartProjectVersion does not have; leave them out"
            )
        running = None if describe_model is None else _running(describe_model, scenario)
        lo = scenario.model.min_units if min_units is None else min_units
        hi = scenario.model.max_units if max_units is None else max_units
        request = start_model_request(
            scenario,
            units=(lo, None if no_max_units else hi),
            start_date=day,
            token_suffix=token_suffix or "",
        )
        # Warn only once the request is built: a refused request gets its one error line.
        unset = {"project", "version"} - scenario.model.model_fields_set
        if scenario.model.service == "lookoutvision" and unset:
            warn(
                f"{scenario_path} sets no model.{' or model.'.join(sorted(unset))}: the request "
                "uses the defaults; set them in [model], or seed the scenario with 'lfvsim seed'"
            )
    if running is not None:
        warn(running)
    if output_format is RequestFormat.boto3:
        typer.echo(boto3_call(scenario, request), nl=False)
    else:
        typer.echo(json.dumps(request, indent=2))


def _start_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--start-date {text!r} is not a date; write it as YYYY-MM-DD, such as 2026-03-01"
        ) from None


def _running(path: Path, scenario: Scenario) -> str | None:
    """The warning for a model that runs now, after checking it is the scenario's model."""
    from lfvsim.aws import read_model_description
    from lfvsim.startmodel import start_operation

    description = read_model_description(path)
    model = scenario.model
    same = (description.service, description.project, description.version) == (
        model.service, model.project, model.version,
    )  # fmt: skip
    if not same:
        raise InputError(
            f"{path} describes {description.service} {description.project} version "
            f"{description.version}, but {model.service} {model.project} version "
            f"{model.version} is the scenario's model; pass the describe output of that model"
        )
    if description.status not in ("HOSTED", "RUNNING"):
        return None
    stop = "stop-model" if model.service == "lookoutvision" else "stop-project-version"
    return (
        f"{path}: {model.project} version {model.version} is {description.status}: "
        f"{start_operation(scenario).name} with new Min/Max needs it stopped first "
        f"(aws {model.service} {stop}), then started with this request"
    )
