"""``lfvsim run``: simulate one scenario and print its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lfvsim.atomic import (
    MANIFEST,
    allow_replace,
    check_output_folder,
    check_replaceable,
    write_text_atomic,
)
from lfvsim.cli.app import app, input_errors, progress_bar
from lfvsim.cli.budgeting import AllowLargeOpt, check_simulations
from lfvsim.engine import simulate
from lfvsim.engine.result import Result
from lfvsim.errors import InputError
from lfvsim.scenario import Scenario, load_scenario, render_toml
from lfvsim.traces.metric_export import metric_data_export
from lfvsim.traces.schema import traffic_for_file

__all__ = ["format_summary", "run"]


@app.command()
def run(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")],
    trace: Annotated[
        Path | None,
        typer.Option(
            help="Replay this trace (CSV, Parquet or CloudWatch JSON) instead of the "
            "scenario's traffic."
        ),
    ] = None,
    fill_gaps: Annotated[
        str | None,
        typer.Option(
            metavar="zero",
            help="With --trace: count missing intervals as zero requests (CloudWatch writes "
            "no datapoint for a minute without requests); reported in the notes.",
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(
            "--scale",
            metavar="FACTOR",
            help="With --trace: multiply the trace's traffic by FACTOR; said in the notes.",
        ),
    ] = None,
    describe_model: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Take the model (project, version, region, units) from saved "
            "describe-model or describe-project-versions JSON.",
        ),
    ] = None,
    min_units: Annotated[
        int | None, typer.Option(min=1, help="Override MinInferenceUnits.")
    ] = None,
    max_units: Annotated[
        int | None, typer.Option(min=1, help="Override MaxInferenceUnits.")
    ] = None,
    no_max_units: Annotated[
        bool,
        typer.Option("--no-max-units", help="Unset MaxInferenceUnits: no auto-scaling."),
    ] = False,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed.")] = None,
    replications: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Run N >= 2 replications (seeds from SeedSequence(seed).spawn(N)) and "
            "report each metric's mean and 95% confidence interval.",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write timeline, units, events, summary and scenario files here."),
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
            help="Print the resolved scenario with every default and each assumption marked.",
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
    with input_errors(), allow_replace(force):
        if no_max_units and max_units is not None:
            raise InputError("--max-units and --no-max-units contradict each other; keep one")
        trace_options: dict[str, Any] = {} if fill_gaps is None else {"fill_gaps": fill_gaps}
        if trace_options and trace is None:
            raise InputError("--fill-gaps applies to a --trace file; give --trace FILE")
        if scale is not None:
            if trace is None:
                raise InputError("--scale applies to a --trace file; give --trace FILE")
            if not scale > 0:
                raise InputError(f"--scale {scale}: give a positive factor, e.g. --scale 0.01")
            trace_options["scale"] = scale
        scenario = _scenario(
            scenario_path, trace, min_units, max_units, describe_model, no_max_units,
            trace_options,
        )  # fmt: skip
        if show_config:
            typer.echo(render_toml(scenario), nl=False)
            return
        if cloudwatch_json is not None:
            _check_new_file(cloudwatch_json, replications)
        if replications is not None:
            from lfvsim.cli.experiments import run_replications

            check_simulations(
                scenario, replications, allow_large=allow_large,
                how_to_shrink="use fewer --replications or a shorter horizon",
            )  # fmt: skip
            run_replications(scenario, scenario_path, replications, seed, json_output, out)
            return
        if out is not None:
            check_output_folder(out)  # before the work, not after
        trace_read = check_simulations(scenario, allow_large=allow_large)
        with progress_bar() as progress:
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


def _check_new_file(path: Path, replications: int | None) -> None:
    """Refuse, before simulating, an export that needs one run or would replace a file
    lfvsim did not write (unless --force)."""
    if replications is not None:
        raise InputError("--cloudwatch-json writes one run; drop --replications")
    check_replaceable([path])


def _write_cloudwatch_json(result: Result, path: Path) -> None:
    model = result.scenario.model
    (page,) = metric_data_export(
        result.timeline, service=model.service, project=model.project, version=model.version
    )
    write_text_atomic(path, json.dumps(page, indent=1) + "\n")


def _scenario(
    path: Path,
    trace: Path | None,
    min_units: int | None,
    max_units: int | None,
    describe_model: Path | None = None,
    no_max_units: bool = False,
    trace_options: dict[str, Any] | None = None,
) -> Scenario:
    scenario = load_scenario(path)
    if describe_model is not None:
        from lfvsim.cli.aws import overlay_describe_model  # keeps `lfvsim --help` in order

        scenario = overlay_describe_model(scenario, describe_model)
    overrides: dict[str, Any] = {}
    if trace is not None:
        overrides["traffic"] = traffic_for_file(trace, **(trace_options or {}))
    if min_units is not None:
        overrides["model.min_units"] = min_units
    if max_units is not None:
        overrides["model.max_units"] = max_units
    if no_max_units:
        overrides["model.max_units"] = None
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
        *_throttle_rows(s),
        *_optional_rows(s),
        *_event_rows(result),
        (
            "latency p50/p95/p99",
            (
                f"{s.latency_p50_s:.3f} / {s.latency_p95_s:.3f} / {s.latency_p99_s:.3f} s"
                if s.served
                else "- (nothing served)"
            ),
        ),
        ("mean wait", f"{s.wait_mean_s:.3f} s" if s.served else "-"),
        ("inference-unit hours", f"{s.unit_hours:,.2f}"),
        ("cost", f"USD {s.cost_usd:,.2f}  (USD {s.price_per_unit_hour_usd:.2f} per unit-hour)"),
        (
            "cost per 1,000 images",
            f"USD {s.cost_per_1000_images_usd:.4f}" if s.served else "- (nothing served)",
        ),
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


#: How the summary's throttle causes are named in the text output.
CAUSE_LABELS = {
    "throttled_scaling": "scaling",
    "throttled_at_max": "at Max",
    "throttled_burst": "burst",
    "throttled_capacity_lost": "capacity lost",
}


def _throttle_rows(s) -> list[tuple[str, str]]:
    """Throttles by cause and the busy-hour rates, when anything was throttled."""
    if not s.throttled or getattr(s, "throttled_burst", None) is None:
        return []  # nothing throttled, or a summary written before causes were counted
    causes = ", ".join(
        f"{label} {getattr(s, name):,}" for name, label in CAUSE_LABELS.items() if getattr(s, name)
    )
    return [
        ("  by cause", causes),
        (
            "  worst hour, minutes",
            f"{100 * s.throttle_rate_worst_hour:.3g}% in the worst hour; 99% of minutes "
            f"at or under {100 * s.throttle_rate_minute_p99:.3g}%",
        ),
    ]


def _optional_rows(s) -> list[tuple[str, str]]:
    """Rows that only matter when retries, hosting windows or batches are simulated."""
    rows = []
    if s.retries:
        rows += [
            ("retries", f"{s.retries:,} ({s.attempts:,} attempts)"),
            ("first-attempt throttled", f"{100 * s.first_attempt_throttle_rate:.3g}%"),
        ]
    if s.unavailable:
        rows.append(("unavailable", f"{s.unavailable:,}  (model not hosted)"))
    if s.retries or s.unavailable:
        rows.append(("requests failed", f"{100 * s.failure_rate:.3g}%"))
    if s.waiting_at_end:
        rows.append(("waiting at end", f"{s.waiting_at_end:,}  (for a batch: no outcome yet)"))
    if s.hosted_h < s.duration_h:
        rows.append(("hosted", f"{s.hosted_h:,.1f} of {s.duration_h:g} h"))
    return rows


def _event_rows(result: Result) -> list[tuple[str, str]]:
    """One row per kind of failure event, when failures were simulated."""
    rows = []
    for kind, events in result.events.groupby("kind", sort=True):
        lost_h = events["capacity_lost_unit_s"].sum() / 3600
        rows.append(
            (
                kind.replace("_", " ") + "s",
                f"{len(events)}: {lost_h:,.2f} unit-hours of capacity lost, "
                f"{int(events['throttled_during'].sum()):,} calls throttled meanwhile",
            )
        )
    return rows
