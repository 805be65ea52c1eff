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
    MaxP99Opt,
    RunSeedOpt,
    ScaleOpt,
    StoredConfidenceOpt,
    StoredMaxThrottleOpt,
    TraceOpt,
)
from lfvsim.engine.result import Result
from lfvsim.errors import InputError
from lfvsim.experiments.recommend import check_slo, stored_slo
from lfvsim.experiments.sweep import check_sweep_of
from lfvsim.reports import (
    RUN_KINDS,
    build_report,
    read_run,
    read_sweep,
    render_figure,
    report_format,
    save_figure,
)
from lfvsim.reports.figures import image_format
from lfvsim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

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


def _slo_for(
    table: pd.DataFrame | None,
    max_throttle_rate: float | None,
    max_p99_latency_s: float | None,
    confidence: float | None,
) -> tuple[float, float | None, float]:
    """The SLO from the flags, else the one the sweep stores; none at all is an error."""
    if confidence is not None:
        check_slo(0.0, None, confidence)  # a bad level is reported before a missing SLO
    stored = None if table is None else stored_slo(table)
    if max_throttle_rate is None:
        if stored is None:
            raise InputError(
                "--max-throttle-rate: this sweep stores no SLO; give the one you recommend "
                "for, e.g. --max-throttle-rate 0.001 (0.1%)"
            )
        max_throttle_rate = stored.max_throttle_rate
        if max_p99_latency_s is None:
            max_p99_latency_s = stored.max_p99_latency_s
    if confidence is None:
        confidence = stored.confidence if stored is not None else 0.95
    check_slo(max_throttle_rate, max_p99_latency_s, confidence)
    return max_throttle_rate, max_p99_latency_s, confidence


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
    confidence: StoredConfidenceOpt = None,
    force: ForceOpt = False,
) -> None:
    """Draw one figure of a run or of a sweep into an image file."""
    with input_errors(), allow_replace(force):
        name = kind.value
        image_format(output)  # before reading the input: fail fast
        check_replaceable([output])
        if name in RUN_KINDS:
            if input_path.is_dir() or input_path.is_file():
                verify_run_folder(input_path if input_path.is_dir() else input_path.parent)
            data = read_run(input_path)
            rate, _, conf = _slo_for(None, max_throttle_rate or 0.001, None, confidence)
        else:
            _check_sweep_input(name, input_path)
            data = read_sweep(input_path)
            rate, _, conf = _slo_for(data, max_throttle_rate, None, confidence)
        figure = render_figure(name, data, max_throttle_rate=rate, confidence=conf)
        save_figure(figure, output)
        record_written([output])
    typer.echo(f"wrote {output}")


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
    confidence: StoredConfidenceOpt = None,
    trace: TraceOpt = None,
    scale: ScaleOpt = None,
    seed: RunSeedOpt = None,
    title: Annotated[str | None, typer.Option(help="Title of the report.")] = None,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Write a report to share: summary, recommendation, figures, StartModel request."""
    with input_errors(allow_large_option=True), allow_replace(force):
        fmt = report_format(output, None if format is None else format.value)
        check_replaceable([output])  # before the work; the images are checked below
        table = None if sweep is None else read_sweep(sweep)
        if table is None:
            # Without a sweep there is no recommendation: the SLO only checks its flags.
            max_throttle_rate = 0.001 if max_throttle_rate is None else max_throttle_rate
        max_throttle_rate, max_p99_latency_s, confidence = _slo_for(
            table, max_throttle_rate, max_p99_latency_s, confidence
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
        built = build_report(
            run,
            sweep=table,
            seed=seed,
            max_throttle_rate=max_throttle_rate,
            max_p99_latency_s=max_p99_latency_s,
            confidence=confidence,
            title=title,
            source=str(scenario_path),
            sweep_source=None if sweep is None else str(sweep),
            trace_source=None if trace is None else str(trace),
            output=str(output),
            output_format=None if format is None else format.value,
            allow_large=allow_large,
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "md":
            paths = write_document(output, built.to_markdown)
        else:
            write_text_atomic(output, built.to_html())
            paths = [output]
    extra = f" and {len(paths) - 1} images beside it" if len(paths) > 1 else ""
    typer.echo(f"wrote {output}{extra}")
    if built.recommendation is not None and not built.recommendation.met:
        typer.echo("no configuration in the sweep meets the SLO; the report says what to try")


def _check_sweep_input(kind: str, path: Path) -> None:
    if path.is_dir():
        raise InputError(
            f"'{kind}' draws a sweep, and '{path}' is a folder (a run?); give the .parquet "
            "or .csv that lfvsim sweep -o wrote, or use the kinds timeline and daily-cost"
        )
