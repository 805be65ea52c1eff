"""``lfvsim trace``: make, inspect, import and convert traffic traces."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from lfvsim.atomic import allow_replace, check_replaceable, record_written
from lfvsim.budget import TrafficLoad, checked, synthetic_load
from lfvsim.cli.app import Group, app, input_errors
from lfvsim.cli.budgeting import (
    AllowLargeOpt,
    check_simulations,
    check_trace_output,
    check_trace_stats,
    trace_load,
)
from lfvsim.cli.options import ForceOpt, ScenarioArg
from lfvsim.errors import InputError
from lfvsim.machine_output import stamped

if TYPE_CHECKING:  # the library loads when a command runs, so that --help starts fast
    import numpy as np
    from matplotlib.figure import Figure

    from lfvsim.traces.model import CountTrace, Trace
    from lfvsim.traces.stats import TraceStats

__all__ = ["trace_app"]

trace_app = typer.Typer(
    cls=Group,
    help="Make, inspect, import and convert traffic traces.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(trace_app, name="trace")

_SYNTH_KINDS = ("constant", "diurnal", "factory")
_OUTPUT = "Output"
_SHAPE = "Shape (any kind)"
_ARRIVALS = "Arrivals inside an interval"
_REPAIRS = "Reading files: repairs and options"
#: Most pages an export is split into: each is a file of its own, written one by one.
_MAX_PAGES = 1000

Output = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help="File to write: .csv or .parquet (counts, or requests with --requests), or .json "
        "(a CloudWatch get-metric-data export).",
        rich_help_panel=_OUTPUT,
    ),
]
FillGaps = Annotated[
    str | None,
    typer.Option(
        metavar="error|zero",
        help="Missing intervals or counts: 'error' (default) or 'zero' (reported).",
        rich_help_panel=_REPAIRS,
    ),
]
Duplicates = Annotated[
    str | None,
    typer.Option(
        metavar="error|sum|first",
        help="A timestamp twice: 'error' (default), 'sum' or 'first' (reported).",
        rich_help_panel=_REPAIRS,
    ),
]
Unsorted = Annotated[
    str | None,
    typer.Option(
        metavar="error|sort",
        help="Rows out of time order: 'error' (default) or 'sort' (reported).",
        rich_help_panel=_REPAIRS,
    ),
]
Timezone = Annotated[
    str | None,
    typer.Option(
        metavar="ZONE",
        help="IANA time zone of timestamps without an offset (default: UTC, reported).",
        rich_help_panel=_REPAIRS,
    ),
]
Metric = Annotated[
    str | None,
    typer.Option(
        metavar="METRIC",
        help="CloudWatch: the offered load: 'ProcessedImageCount', 'offered' "
        "(SuccessfulRequestCount + ThrottledCount), a series' Label or Id, a sum such as "
        "'successful+throttled' or 'successful', or 'auto' (default: ProcessedImageCount, "
        "else successful + throttled). The choice is recorded in the notes.",
        rich_help_panel=_REPAIRS,
    ),
]
PeriodS = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        help="CloudWatch: period of the datapoints in seconds (default: the smallest step).",
        rich_help_panel=_REPAIRS,
    ),
]
RunSeed = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Seed of the sampled arrivals, as 'lfvsim run --seed' uses it: the same seed "
        "draws the same requests as run (default: the scenario's simulation.seed, else 0).",
    ),
]


# --- synth --------------------------------------------------------------------------------


@trace_app.command()
def synth(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="constant, diurnal or factory.")],
    output: Output,
    rate_tps: Annotated[
        float | None,
        typer.Option(help="constant: requests per second.", rich_help_panel="constant"),
    ] = None,
    mean_tps: Annotated[
        float | None,
        typer.Option(help="diurnal: mean requests per second.", rich_help_panel="diurnal"),
    ] = None,
    peak_to_trough: Annotated[
        float | None,
        typer.Option(help="diurnal: peak rate / lowest rate (4).", rich_help_panel="diurnal"),
    ] = None,
    peak_hour_utc: Annotated[
        float | None,
        typer.Option(help="diurnal: hour of the peak, UTC (14).", rich_help_panel="diurnal"),
    ] = None,
    peak_tps: Annotated[
        float | None,
        typer.Option(help="factory: requests per second in a shift.", rich_help_panel="factory"),
    ] = None,
    weekday_shifts: Annotated[
        str | None,
        typer.Option(
            metavar="SHIFTS",
            help="factory: Monday-Friday shifts, local HH:MM-HH:MM[@factor],... "
            "('06:00-14:00,14:00-22:00').",
            rich_help_panel="factory",
        ),
    ] = None,
    saturday_shifts: Annotated[
        str | None,
        typer.Option(
            metavar="SHIFTS", help="factory: Saturday shifts (none).", rich_help_panel="factory"
        ),
    ] = None,
    sunday_shifts: Annotated[
        str | None,
        typer.Option(
            metavar="SHIFTS", help="factory: Sunday shifts (none).", rich_help_panel="factory"
        ),
    ] = None,
    breaks: Annotated[
        str | None,
        typer.Option(
            metavar="TIMES",
            help="factory: daily stops, HH:MM-HH:MM,...",
            rich_help_panel="factory",
        ),
    ] = None,
    holidays: Annotated[
        str | None,
        typer.Option(
            metavar="DATES", help="factory: closed days, YYYY-MM-DD,...", rich_help_panel="factory"
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            metavar="ZONE",
            help="factory: IANA zone of the calendar (UTC).",
            rich_help_panel="factory",
        ),
    ] = None,
    idle_tps: Annotated[
        float | None,
        typer.Option(
            help="factory: requests per second between shifts (0).", rich_help_panel="factory"
        ),
    ] = None,
    line_stops_per_day: Annotated[
        float | None,
        typer.Option(
            help="factory: random line stops per production day (0).", rich_help_panel="factory"
        ),
    ] = None,
    line_stop_mean_min: Annotated[
        float | None,
        typer.Option(
            help="factory: mean length of a line stop, minutes (20).", rich_help_panel="factory"
        ),
    ] = None,
    duration_h: Annotated[
        float | None,
        typer.Option(help="Length in hours (24; factory 168).", rich_help_panel=_SHAPE),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="Start, ISO 8601 (2026-01-05T00:00Z, a Monday).",
            rich_help_panel=_SHAPE,
        ),
    ] = None,
    scale: Annotated[
        float | None, typer.Option(help="Multiply the traffic.", rich_help_panel=_SHAPE)
    ] = None,
    growth_percent_per_month: Annotated[
        float | None,
        typer.Option(help="Compound growth per 30 days (%).", rich_help_panel=_SHAPE),
    ] = None,
    noise_cv: Annotated[
        float | None,
        typer.Option(help="Random variation of the rate per minute (CV).", rich_help_panel=_SHAPE),
    ] = None,
    spikes_per_day: Annotated[
        float | None, typer.Option(help="Random surges per day.", rich_help_panel=_SHAPE)
    ] = None,
    spike_multiplier: Annotated[
        float | None, typer.Option(help="Rate multiplier of a surge (3).", rich_help_panel=_SHAPE)
    ] = None,
    spike_duration_s: Annotated[
        float | None, typer.Option(help="Length of a surge, s (300).", rich_help_panel=_SHAPE)
    ] = None,
    arrivals: Annotated[
        str | None,
        typer.Option(
            metavar="KIND",
            help="poisson (default), even, batch or onoff; used with --requests.",
            rich_help_panel=_ARRIVALS,
        ),
    ] = None,
    batch_mean_size: Annotated[
        float | None,
        typer.Option(help="batch: mean requests per batch (4).", rich_help_panel=_ARRIVALS),
    ] = None,
    batch_spread_s: Annotated[
        float | None,
        typer.Option(help="batch: a batch arrives within (s) (0.5).", rich_help_panel=_ARRIVALS),
    ] = None,
    on_fraction: Annotated[
        float | None,
        typer.Option(help="onoff: share of time on (0.5).", rich_help_panel=_ARRIVALS),
    ] = None,
    on_mean_s: Annotated[
        float | None, typer.Option(help="onoff: mean on period, s (30).", rich_help_panel=_ARRIVALS)
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the shape (surges, noise, line stops) and sample.")
    ] = 0,
    bin_s: Annotated[
        float, typer.Option(help="Interval of the counts written, s.", rich_help_panel=_OUTPUT)
    ] = 60.0,
    requests: Annotated[
        bool,
        typer.Option("--requests", help="Write one row per request.", rich_help_panel=_OUTPUT),
    ] = False,
    pages: Annotated[
        int,
        typer.Option(
            min=1,
            max=_MAX_PAGES,
            help=f".json: split the export into pages (at most {_MAX_PAGES:,}).",
            rich_help_panel=_OUTPUT,
        ),
    ] = 1,
    omit_zeros: Annotated[
        bool,
        typer.Option(
            "--omit-zeros",
            help=".json: leave out periods without requests, as CloudWatch does.",
            rich_help_panel=_OUTPUT,
        ),
    ] = False,
    metric: Annotated[
        str,
        typer.Option(metavar="LABEL", help=".json: the metric's label.", rich_help_panel=_OUTPUT),
    ] = "ProcessedImageCount",
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Generate seeded synthetic traffic and write it to a file.

    Options take the names of the keys of a scenario's traffic section; unset ones keep
    their defaults. The file holds one sample: counts drawn with --seed (or one row per
    request with --requests), which reads back to the same counts.
    """
    options = {k: v for k, v in locals().items() if v is not None}
    from lfvsim.traces.schema import trace_from_traffic
    from lfvsim.traces.transforms import to_counts
    from lfvsim.traces.writers import output_format, write_trace

    with input_errors(allow_large_option=True), allow_replace(force):
        _check_bin_s(bin_s)
        if kind not in _SYNTH_KINDS:
            raise InputError(f"unknown kind {kind!r}; use {', '.join(_SYNTH_KINDS)}")
        section_keys = {
            k: v
            for k, v in options.items()
            if k
            not in {
                "kind",
                "output",
                "bin_s",
                "requests",
                "pages",
                "omit_zeros",
                "metric",
                "allow_large",
                "force",
            }
        }
        traffic = _section({"kind": kind, **section_keys})
        output_format(output)
        load = synthetic_load(traffic)
        if load is not None:  # always: synth makes only the kinds whose load is known
            check_trace_output(load, bin_s, requests, allow_large)
        trace = trace_from_traffic(traffic)
        written = write_trace(
            trace,
            output,
            requests=requests,
            bin_s=bin_s,
            seed=seed,
            metric=metric,
            pages=pages,
            omit_zeros=omit_zeros,
        )
        counts = None if requests else to_counts(trace, bin_s, seed=seed)
    typer.echo(_wrote(written, trace, counts))


def _section(data: dict[str, Any]) -> Any:
    from pydantic import TypeAdapter, ValidationError

    from lfvsim.traces.schema import Traffic

    try:
        return TypeAdapter(Traffic).validate_python(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = [str(p) for p in e["loc"][1:]] or ["kind"]
            option = "--" + loc[-1].replace("_", "-")
            if not e["loc"][1:] and e["type"] == "value_error":
                # The one check across keys: the trace's span (start + duration) in years.
                option = "--start/--duration-h"
            if e["type"] == "extra_forbidden":
                problems.append(f"{option} does not apply to kind {data['kind']!r}")
            elif e["type"] == "missing":
                problems.append(f"{option} is required for kind {data['kind']!r}")
            else:
                msg = e["msg"].removeprefix("Value error, ")
                problems.append(f"{option}: {msg}")
        raise InputError("; ".join(problems)) from None


def _wrote(paths: list[Path], trace: Trace, counts: CountTrace | None) -> str:
    from lfvsim.reports.formatting import duration
    from lfvsim.traces.points import fmt_time

    names = ", ".join(str(p) for p in paths)
    span = f"from {fmt_time(trace.start.timestamp())}, {duration(trace.duration_s)}"
    if counts is None:
        return f"wrote {names}: one row per request, {span}"
    intervals = len(counts.counts)
    return (
        f"wrote {names}: {int(counts.counts.sum()):,} requests in {intervals:,} "
        f"interval{'' if intervals == 1 else 's'} of {counts.bin_s:g} s, {span}"
    )


# --- inspect ------------------------------------------------------------------------------


@trace_app.command()
def inspect(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Trace file (CSV, Parquet, CloudWatch JSON: every page), or a scenario TOML.",
        ),
    ],
    seed: RunSeed = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw the trace to this PNG file.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the figures as one JSON object.")
    ] = False,
    width: Annotated[int, typer.Option(min=8, help="Width of the sparkline.")] = 60,
    fill_gaps: FillGaps = None,
    duplicates: Duplicates = None,
    unsorted: Unsorted = None,
    timezone: Timezone = None,
    metric: Metric = None,
    period_s: PeriodS = None,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Duration, requests, mean and peak TPS at 1 s and 1 min, burstiness, a sparkline."""
    from lfvsim.reports.text import format_stats
    from lfvsim.traces.stats import describe_trace

    def budget(load: TrafficLoad, read: Trace | None) -> None:
        check_trace_stats(load, allow_large, read)

    with input_errors(allow_large_option=True), allow_replace(force):
        opts = (fill_gaps, duplicates, unsorted, timezone, metric, period_s)
        trace = _load(paths, *opts, budget=budget)
        stats = describe_trace(trace, seed=_run_arrival_seed(_default_seed(seed, paths)))
        if plot is not None:
            _plot(stats, plot)
    if json_output:
        typer.echo(json.dumps(stamped(stats.to_dict()), indent=2))
        return
    typer.echo(format_stats(stats, width))
    if plot is not None:
        typer.echo(f"\nwrote {plot}")


def _plot(stats: TraceStats, path: Path) -> None:
    # matplotlib loads only with --plot: every other trace command starts without it.
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window
    import matplotlib.pyplot as plt

    from lfvsim.reports import save_figure
    from lfvsim.reports.plots import plot_trace_stats

    if not path.parent.is_dir():
        raise InputError(f"--plot {path}: the folder does not exist; create it first")
    check_replaceable([path])
    ax = plot_trace_stats(stats)
    figure = cast("Figure", ax.figure)  # a figure of its own, never a subfigure
    try:
        save_figure(figure, path)
        record_written([path])
    finally:
        plt.close(figure)


# --- import-cloudwatch, convert -----------------------------------------------------------


@trace_app.command("import-cloudwatch")
def import_cloudwatch(
    exports: Annotated[
        list[Path],
        typer.Argument(
            metavar="EXPORT.json...",
            help="Output of aws cloudwatch get-metric-data or get-metric-statistics; one file "
            "per page.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Counts file to write: .csv or .parquet.")
    ],
    metric: Metric = None,
    period_s: PeriodS = None,
    fill_gaps: FillGaps = None,
    duplicates: Duplicates = None,
    force: ForceOpt = False,
    namespace: Annotated[
        str | None,
        typer.Option(
            metavar="NAMESPACE",
            help="Namespace of the export, AWS/LookoutVision or AWS/Rekognition: the notes "
            "then say what its ThrottledCount counts (default: told by the export's "
            "MetricDataQueries or by metrics only one service publishes; both are noted "
            "when it cannot be told).",
            rich_help_panel=_REPAIRS,
        ),
    ] = None,
) -> None:
    """Turn a CloudWatch export into a counts trace (timestamp,count)."""
    from lfvsim.traces.cloudwatch import LFV_NAMESPACE, RCL_NAMESPACE, read_cloudwatch_export
    from lfvsim.traces.writers import output_format, write_trace

    with input_errors(), allow_replace(force):
        if output_format(output) == "cloudwatch":
            raise InputError(f"-o {output}: write counts to a .csv or .parquet file")
        _not_an_input(output, exports)
        if namespace is not None and namespace not in (LFV_NAMESPACE, RCL_NAMESPACE):
            raise InputError(f"--namespace {namespace}: use {LFV_NAMESPACE} or {RCL_NAMESPACE}")
        opts = _options(
            fill_gaps=fill_gaps, duplicates=duplicates, metric=metric, namespace=namespace
        )
        trace = read_cloudwatch_export(exports, period_s=period_s, **opts)
        written = write_trace(trace, output, bin_s=trace.bin_s)
    typer.echo(_wrote(written, trace, trace))
    _echo_repairs(trace)


@trace_app.command()
def convert(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Trace file (CSV, Parquet, CloudWatch JSON: every page), or a scenario TOML.",
        ),
    ],
    output: Output,
    bin_s: Annotated[
        float, typer.Option(help="Interval of the counts written, s.", rich_help_panel=_OUTPUT)
    ] = 60.0,
    requests: Annotated[
        bool,
        typer.Option("--requests", help="Write one row per request.", rich_help_panel=_OUTPUT),
    ] = False,
    seed: RunSeed = None,
    fill_gaps: FillGaps = None,
    duplicates: Duplicates = None,
    unsorted: Unsorted = None,
    timezone: Timezone = None,
    metric: Metric = None,
    period_s: PeriodS = None,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Convert a trace to counts, requests, another format or a CloudWatch export.

    Per-request rows are counted per --bin-s in one pass over the file, in bounded memory.
    Arrivals sampled from counts or a scenario are the ones 'lfvsim run' draws with the
    same seed: replaying the --requests file with 'run --trace' gives the same run (run
    stops at simulation.horizon_h; convert writes the whole trace).
    The output format follows the suffix: .csv, .parquet, or .json (CloudWatch).
    """
    from lfvsim.traces.transforms import to_counts
    from lfvsim.traces.writers import write_trace

    def budget(load: TrafficLoad, read: Trace | None) -> None:
        check_trace_output(load, bin_s, requests, allow_large, read)

    with input_errors(allow_large_option=True), allow_replace(force):
        _check_bin_s(bin_s)
        _not_an_input(output, paths)
        opts = (fill_gaps, duplicates, unsorted, timezone, metric, period_s)
        trace = _load(paths, *opts, budget=budget)
        arrival_seed = _run_arrival_seed(_default_seed(seed, paths))
        written = write_trace(trace, output, requests=requests, bin_s=bin_s, seed=arrival_seed)
        counts = None if requests else to_counts(trace, bin_s, seed=arrival_seed)
    typer.echo(_wrote(written, trace, counts))
    _echo_repairs(trace)


def _default_seed(seed: int | None, paths: list[Path]) -> int:
    """``--seed``, else a scenario's ``simulation.seed`` (the seed ``run`` defaults to), else 0."""
    from lfvsim.scenario import load_scenario

    if seed is not None:
        return seed
    if len(paths) == 1 and paths[0].suffix.lower() == ".toml":
        scenario_seed = load_scenario(paths[0]).simulation.seed
        if scenario_seed is not None:
            return scenario_seed
    return 0


def _run_arrival_seed(seed: int) -> np.random.SeedSequence:
    """The seed of the arrivals a run with ``seed`` draws: child 0 of its SeedSequence, as
    :func:`lfvsim.engine.traffic.run_streams` spawns them (so convert and run agree)."""
    import numpy as np

    return np.random.SeedSequence(seed).spawn(4)[0]


def _not_an_input(output: Path, inputs: list[Path]) -> None:
    """Refuse an output, or a page of it (``NAME-K.json``), that is one of the inputs (even
    with --force): it would be replaced or removed."""
    from lfvsim.traces.cloudwatch import expand_paths

    page = re.compile(rf"^{re.escape(output.stem)}-\d+{re.escape(output.suffix)}$")
    for given in map(Path, expand_paths(inputs)):
        if not given.exists():
            continue
        same = output.exists() and output.samefile(given)
        if same or (page.match(given.name) and given.resolve().parent == output.resolve().parent):
            raise InputError(f"-o {output}: would replace the input '{given}'; write elsewhere")


# --- compare-arrivals ---------------------------------------------------------------------


@trace_app.command("compare-arrivals")
def compare_arrivals_command(
    scenario_path: ScenarioArg,
    trace: Annotated[
        Path | None, typer.Option(help="Replay this trace file instead of the scenario's traffic.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed of every run (default: the scenario's).")
    ] = None,
    batch_mean_size: Annotated[float, typer.Option(help="batch: mean requests per batch.")] = 4.0,
    batch_spread_s: Annotated[float, typer.Option(help="batch: a batch arrives within (s).")] = 0.5,
    on_fraction: Annotated[float, typer.Option(help="onoff: share of time on.")] = 0.5,
    on_mean_s: Annotated[float, typer.Option(help="onoff: mean on period (s).")] = 30.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per arrival model.")
    ] = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Run a scenario under each arrival model inside an interval, side by side.

    The same counts and seed under even, Poisson, batch and on/off arrivals: how much the
    answer depends on what per-minute counts hide.
    """
    from lfvsim.experiments.sensitivity import compare_arrivals
    from lfvsim.reports.text import format_comparison
    from lfvsim.scenario import load_scenario
    from lfvsim.traces.arrivals import arrivals_from_options
    from lfvsim.traces.readers import read_trace

    with input_errors(allow_large_option=True):
        scenario = load_scenario(scenario_path)
        base = read_trace(trace) if trace is not None else None
        models = [
            arrivals_from_options(name, batch_mean_size, batch_spread_s, on_fraction, on_mean_s)
            for name in ("even", "poisson", "batch", "onoff")
        ]
        check_simulations(scenario, len(models), allow_large=allow_large, trace=base)
        with checked():  # costed just above
            table = compare_arrivals(scenario, base, models, seed=seed)
    if json_output:
        records = json.loads(table.reset_index().to_json(orient="records"))
        typer.echo(json.dumps([stamped(r) for r in records], indent=2))
        return
    typer.echo(format_comparison(table))


# --- helpers ------------------------------------------------------------------------------


def _load(
    paths: list[Path],
    fill_gaps: str | None,
    duplicates: str | None,
    unsorted: str | None,
    timezone: str | None,
    metric: str | None,
    period_s: float | None,
    budget: Callable[[TrafficLoad, Trace | None], None],
) -> Trace:
    """The trace of ``paths``, after ``budget(load, trace)`` accepts the work on it (a
    synthetic scenario's traffic is costed before it is built: ``trace`` None)."""
    from lfvsim.scenario import load_scenario
    from lfvsim.traces.cloudwatch import expand_paths, read_cloudwatch_export
    from lfvsim.traces.readers import detect_trace_format, read_trace
    from lfvsim.traces.schema import trace_from_scenario

    opts = _options(
        fill_gaps=fill_gaps, duplicates=duplicates, unsorted=unsorted, timezone=timezone,
        metric=metric, period_s=period_s,
    )  # fmt: skip
    if len(paths) == 1 and paths[0].suffix.lower() == ".toml":
        if opts:
            raise InputError(
                f"{paths[0]}: set reading options in the scenario's [traffic] section, not here"
            )
        scenario = load_scenario(paths[0])
        load = synthetic_load(scenario.traffic)
        if load is not None:
            budget(load, None)
            return trace_from_scenario(scenario)
        trace = trace_from_scenario(scenario)
        budget(trace_load(trace), trace)
        return trace
    files = expand_paths(paths)
    if len(files) == 1:
        trace = read_trace(files[0], **opts)
        budget(trace_load(trace), trace)
        return trace
    for f in files:
        if detect_trace_format(f) != "cloudwatch":
            raise InputError(
                f"{f}: several files are read as the pages of one CloudWatch export, and this "
                "is not JSON; give one CSV or Parquet file"
            )
    for key in ("unsorted", "timezone"):
        opts.pop(key, None)
    trace = read_cloudwatch_export(files, **opts)
    budget(trace_load(trace), trace)
    return trace


def _check_bin_s(bin_s: float) -> None:
    """Refuse an interval that is not a positive number of seconds, naming the option."""
    if not (bin_s > 0 and bin_s != float("inf")):
        raise InputError(f"--bin-s {bin_s:g}: give a positive interval in seconds, e.g. --bin-s 60")


def _options(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _echo_repairs(trace: Trace) -> None:
    notes = [n for n in getattr(trace, "notes", ()) if not n.startswith("assumed: arrivals")]
    if notes:
        typer.echo("\nnotes:\n" + "\n".join(f"  - {n}" for n in notes))
