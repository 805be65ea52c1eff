"""``lfvsim plot`` (one figure) and ``lfvsim report`` (a shareable HTML or Markdown report).

Parse, call :mod:`lfvsim.reports`, print. matplotlib is imported only when a figure is
drawn.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lfvsim.atomic import (
    allow_replace,
    check_output_parent,
    check_replaceable,
    record_written,
    verify_run_folder,
    write_document,
    write_text_atomic,
)
from lfvsim.cli.app import app, input_errors
from lfvsim.cli.budgeting import AllowLargeOpt
from lfvsim.cli.loading import check_scale, load_with_overrides
from lfvsim.cli.options import (
    ForceOpt,
    MaxMinuteOpt,
    MaxP99Opt,
    MaxWorstHourOpt,
    RunSeedOpt,
    ScaleOpt,
    StoredConfidenceOpt,
    StoredMaxThrottleOpt,
    StoredMinutePercentileOpt,
    TraceOpt,
)
from lfvsim.cli.slo import slo_for
from lfvsim.errors import InputError

if TYPE_CHECKING:  # the library loads when a command runs, so that --help starts fast
    import pandas as pd

    from lfvsim.engine.result import Result
    from lfvsim.experiments.recommend import Recommendation, Slo
    from lfvsim.scenario import Scenario

__all__ = ["PlotKind", "ReportFormat", "plot", "report"]


class PlotKind(StrEnum):
    """Figures ``lfvsim plot`` draws."""

    timeline = "timeline"
    daily_cost = "daily-cost"
    frontier = "frontier"
    heatmap_cost = "heatmap-cost"
    heatmap_throttle = "heatmap-throttle"


class ReportFormat(StrEnum):
    """Report file formats."""

    html = "html"
    md = "md"


@app.command()
def plot(
    kind: Annotated[
        PlotKind,
        typer.Argument(
            metavar="KIND",
            help="timeline or daily-cost (of a run folder); frontier, heatmap-cost or "
            "heatmap-throttle (of sweep results).",
            show_default=False,
        ),
    ],
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="A folder written by 'lfvsim run --out', or sweep results (.parquet/.csv) "
            "written by 'lfvsim sweep -o'.",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")],
    max_throttle_rate: StoredMaxThrottleOpt = None,
    max_p99_latency_s: MaxP99Opt = None,
    max_worst_hour_rate: MaxWorstHourOpt = None,
    max_minute_rate: MaxMinuteOpt = None,
    minute_percentile: StoredMinutePercentileOpt = None,
    confidence: StoredConfidenceOpt = None,
    scenario_path: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            metavar="SCENARIO",
            help="Sweep kinds: refuse a sweep that was not swept from this scenario (with "
            "--trace and --scale: on this traffic).",
        ),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(
            help="With --scenario: the trace the sweep replayed instead of the scenario's "
            "traffic; a sweep of other traffic is refused. Nothing is simulated."
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(
            metavar="FACTOR",
            help="With --scenario and --trace: the factor the sweep multiplied the trace by.",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Draw one figure of a run or of a sweep into an image file.

    A sweep's figure marks the configurations that meet the SLO: the one given by the
    same flags as 'lfvsim recommend', else the one the sweep stores.
    """
    from lfvsim.experiments.sweep import check_sweep_of
    from lfvsim.reports import RUN_KINDS, read_run, read_sweep, render_figure, save_figure
    from lfvsim.reports.figures import image_format
    from lfvsim.reports.text import slo_sentence_of

    with input_errors(), allow_replace(force):
        name = kind.value
        image_format(output)  # before reading the input: fail fast
        check_output_parent(output)
        check_replaceable([output])
        check_scale(scale, trace)
        if trace is not None and scenario_path is None:
            raise InputError(
                "--trace: the traffic is checked against a scenario's sweep; give the "
                "scenario too, e.g. --scenario scenario.toml --trace TRACE"
            )
        slo_note = ""
        recommendation = None
        if name in RUN_KINDS:
            if scenario_path is not None:
                raise InputError(
                    f"--scenario: '{name}' draws a finished run, which carries its own "
                    "scenario; leave --scenario out"
                )
            _check_run_input(name, input_path)
            if input_path.is_dir() or input_path.is_file():
                verify_run_folder(input_path if input_path.is_dir() else input_path.parent)
            data = read_run(input_path)
            # A run's figures draw no SLO: the flags are only checked.
            slo, _ = slo_for(
                None,
                max_throttle_rate or 0.001,
                max_p99_latency_s,
                confidence,
                max_worst_hour_rate,
                max_minute_rate,
                minute_percentile,
            )
        else:
            _check_sweep_input(name, input_path)
            data = read_sweep(input_path)
            if scenario_path is not None:
                scenario = load_with_overrides(scenario_path, trace=trace, scale=scale)
                check_sweep_of(data, scenario, source=str(input_path))
            slo, stored = slo_for(
                data,
                max_throttle_rate,
                max_p99_latency_s,
                confidence,
                max_worst_hour_rate,
                max_minute_rate,
                minute_percentile,
            )
            recommendation = _sweep_recommendation(data, slo)
            slo_note = f" (SLO {slo_sentence_of(slo)}{', as the sweep stores' if stored else ''})"
        figure = render_figure(
            name,
            data,
            recommendation=recommendation,
            max_throttle_rate=slo.max_throttle_rate,
            confidence=slo.confidence,
        )
        save_figure(figure, output)
        record_written([output])
    typer.echo(f"wrote {output}{slo_note}")


def _sweep_recommendation(table: pd.DataFrame, slo: Slo) -> Recommendation | None:
    """The recommendation the figure marks, for the whole SLO (as 'recommend' makes it)."""
    if "replication" not in table.columns or table["seed"].nunique() < 2:
        return None  # too few replications for a bound: the figure says so
    from lfvsim.experiments.recommend import recommend_for

    return recommend_for(table, slo)


@app.command()
def report(
    scenario_path: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIO",
            help="Scenario TOML file (simulated now), or a folder written by 'lfvsim run --out'.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Report file: report.html or report.md.")
    ],
    sweep: Annotated[
        Path | None,
        typer.Option(
            metavar="RESULTS",
            help="Sweep results (.parquet/.csv from 'lfvsim sweep -o'): adds the "
            "recommendation, the cost/throttle frontier and the heatmaps.",
        ),
    ] = None,
    format: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            help="html: one self-contained file; md: Markdown with PNG images beside it. "
            "Default: from the output's name.",
        ),
    ] = None,
    max_throttle_rate: StoredMaxThrottleOpt = None,
    max_p99_latency_s: MaxP99Opt = None,
    max_worst_hour_rate: MaxWorstHourOpt = None,
    max_minute_rate: MaxMinuteOpt = None,
    minute_percentile: StoredMinutePercentileOpt = None,
    confidence: StoredConfidenceOpt = None,
    trace: TraceOpt = None,
    scale: ScaleOpt = None,
    seed: RunSeedOpt = None,
    title: Annotated[str | None, typer.Option(metavar="TITLE", help="Title of the report.")] = None,
    cloudwatch: Annotated[
        list[str] | None,
        typer.Option(
            metavar="EXPORT",
            help="The model's CloudWatch history (get-metric-data export; repeat for "
            "hand-paged files, or a quoted glob): adds a backtest of the scenario on it.",
        ),
    ] = None,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Write a report to share: summary, recommendation, figures, StartModel request."""
    from lfvsim.experiments.sweep import check_sweep_of
    from lfvsim.reports import build_report, read_run, read_sweep, report_format

    with input_errors(allow_large_option=True), allow_replace(force):
        fmt = report_format(output, None if format is None else format.value)
        check_output_parent(output)
        check_replaceable([output])  # before the work; the images are checked below
        table = None if sweep is None else read_sweep(sweep)
        if table is None:
            # Without a sweep there is no recommendation: the SLO only checks its flags.
            max_throttle_rate = 0.001 if max_throttle_rate is None else max_throttle_rate
        slo, _ = slo_for(
            table,
            max_throttle_rate,
            max_p99_latency_s,
            confidence,
            max_worst_hour_rate,
            max_minute_rate,
            minute_percentile,
        )
        check_scale(scale, trace)
        if scenario_path.is_dir():
            if trace is not None or seed is not None:
                raise InputError(
                    f"'{scenario_path}' is a finished run: --trace and --seed apply to a "
                    "scenario file; give the scenario TOML instead"
                )
            verify_run_folder(scenario_path)
            run: Scenario | Result = read_run(scenario_path)
        else:
            run = load_with_overrides(scenario_path, trace=trace, scale=scale)
            if table is not None:
                check_sweep_of(table, run, source=str(sweep))
        history = None
        if cloudwatch:
            from lfvsim.traces.metric_history import read_metric_history

            history = read_metric_history(cloudwatch)
        built = build_report(
            run,
            sweep=table,
            seed=seed,
            max_throttle_rate=slo.max_throttle_rate,
            max_p99_latency_s=slo.max_p99_latency_s,
            confidence=slo.confidence,
            max_worst_hour_rate=slo.max_worst_hour_rate,
            max_minute_rate=slo.max_minute_rate,
            minute_percentile=slo.minute_percentile,
            title=title,
            source=str(scenario_path),
            sweep_source=None if sweep is None else str(sweep),
            trace_source=None if trace is None else str(trace),
            output=str(output),
            output_format=None if format is None else format.value,
            allow_large=allow_large,
            history=history,
            history_sources=tuple(cloudwatch or ()),
        )
        if fmt == "md":
            paths = write_document(output, built.to_markdown)
        else:
            write_text_atomic(output, built.to_html())
            paths = [output]
    extra = f" and {len(paths) - 1} images beside it" if len(paths) > 1 else ""
    typer.echo(f"wrote {output}{extra}")
    if built.recommendation is not None and not built.recommendation.met:
        typer.echo("no configuration in the sweep meets the SLO; the report says what to try")


def _check_run_input(kind: str, path: Path) -> None:
    """A run kind given a file that is no run folder's (a sweep table, most likely)."""
    from lfvsim.reports.readers import RUN_FILES

    if path.is_file() and path.name not in (*RUN_FILES, "units.csv", "events.csv"):
        what = "a sweep table" if path.suffix.lower() in (".parquet", ".csv") else "a file"
        raise InputError(
            f"{path.name} is {what}; {kind} draws a run folder (lfvsim run SCENARIO --out "
            "DIR); sweep results draw as frontier, heatmap-cost or heatmap-throttle"
        )


def _check_sweep_input(kind: str, path: Path) -> None:
    if path.is_dir():
        raise InputError(
            f"'{kind}' draws a sweep, and '{path}' is a folder (a run?); give the .parquet "
            "or .csv that lfvsim sweep -o wrote, or use the kinds timeline and daily-cost"
        )
