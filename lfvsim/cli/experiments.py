"""``lfvsim sweep`` and ``lfvsim recommend``: parse, call :mod:`lfvsim.experiments`, print.

The text they print is :mod:`lfvsim.reports.text`'s. No model logic.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lfvsim.atomic import allow_replace, check_output_parent
from lfvsim.budget import checked
from lfvsim.cli.app import app, input_errors, report_interrupt
from lfvsim.cli.budgeting import AllowLargeOpt, check_range_size, check_sweep
from lfvsim.cli.loading import load_with_overrides
from lfvsim.cli.options import (
    ConfidenceOpt,
    DescribeOpt,
    ExperimentSeedOpt,
    FillGapsOpt,
    ForceOpt,
    MaxMinuteOpt,
    MaxP99Opt,
    MaxThrottleOpt,
    MaxWorstHourOpt,
    MinutePercentileOpt,
    ScaleOpt,
    ScenarioArg,
    SweepMaxThrottleOpt,
    TraceOpt,
)
from lfvsim.cli.progress import run_progress
from lfvsim.cli.slo import optional_slo
from lfvsim.errors import InputError
from lfvsim.machine_output import stamped

if TYPE_CHECKING:  # the library loads when a command runs, so that --help starts fast
    import pandas as pd

    from lfvsim.experiments.recommend import Configuration, Slo
    from lfvsim.experiments.search import SearchResult
    from lfvsim.scenario import Scenario

__all__ = ["parse_range", "parse_vary", "recommend_command", "sweep_command"]


# --- options of sweep and recommend ------------------------------------------------------

MinOpt = Annotated[
    str, typer.Option("--min", metavar="RANGE", help="MinInferenceUnits to try: 1..3, 2 or 1,2,4.")
]
MaxOpt = Annotated[
    str,
    typer.Option(
        "--max",
        metavar="RANGE",
        help="MaxInferenceUnits to try (each >= Min); no auto-scaling is always tried too.",
    ),
]
VaryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--vary",
        metavar="KEY=V1,V2",
        help="Repeat for each value of a scenario key, e.g. "
        "autoscaler.provisioning_delay_s=120,300,600 (repeatable).",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(help="Local worker processes (default: the CPU count; 1: no subprocesses)."),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS",
        help="Run on this Dask scheduler (tcp://HOST:PORT); needs the dask extra.",
    ),
]
DaskTimeoutOpt = Annotated[
    float, typer.Option(min=0.1, help="Seconds to try to reach the Dask scheduler.")
]


class EngineName(StrEnum):
    """Engines a run's summary can come from (the same figures either way)."""

    auto = "auto"
    simpy = "simpy"


EngineOpt = Annotated[
    EngineName,
    typer.Option(
        help="auto: the compiled fast path where it applies (always-on hosting, no failures, "
        "a shipped policy), else SimPy; simpy: always the SimPy reference. Same results.",
    ),
]


def run_options(
    workers: int | None, dask: str | None, dask_timeout_s: float, engine: EngineName
) -> dict[str, Any]:
    """``workers`` and ``dask`` for an experiment, as an executor when --engine says simpy."""
    if engine == EngineName.auto:
        return {"workers": workers, "dask": dask}
    from lfvsim.experiments.executors import make_executor

    executor = make_executor(workers, dask, dask_timeout_s, engine=engine.value)
    return {"workers": None, "dask": executor}


OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write one row per configuration x replication (.parquet or .csv); re-running "
        "the same sweep into it resumes.",
    ),
]


def parse_range(text: str, option: str) -> list[int]:
    """``"1..3"``, ``"4"`` or ``"1,2,5..7"`` as a sorted list of unit counts (>= 1).

    Raises
    ------
    InputError
        Not a range, an empty range, or fewer than one unit.
    """
    values: set[int] = set()
    parts = text.replace(" ", "").split(",")
    check_range_size(parts, text, option)
    for part in parts:
        lo_text, dots, hi_text = part.partition("..")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if dots else lo
        except ValueError:
            raise InputError(
                f"{option} {text}: not a range of unit counts; write LOW..HIGH, e.g. {option} 1..4"
            ) from None
        if hi < lo:
            raise InputError(
                f"{option} {text}: the range {lo}..{hi} is empty; write LOW..HIGH with "
                f"LOW <= HIGH, e.g. {option} {hi}..{lo}"
            )
        if lo < 1:
            raise InputError(
                f"{option} {text}: a model runs on at least 1 inference unit; e.g. "
                f"{option} 1..{max(hi, 1)}"
            )
        values.update(range(lo, hi + 1))
    return sorted(values)


def parse_vary(items: list[str] | None) -> dict[str, list[Any]]:
    """``["autoscaler.provisioning_delay_s=120,300"]`` as ``{key: [120, 300]}``.

    Values are read as TOML literals (numbers, booleans, quoted strings); anything else
    is a string. The scenario schema checks them.
    """
    out: dict[str, list[Any]] = {}
    for item in items or []:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise InputError(
                f"--vary {item}: write KEY=V1,V2,..., e.g. "
                "--vary autoscaler.provisioning_delay_s=120,300,600"
            )
        if key in out:
            raise InputError(f"--vary {key}: given twice; list all its values in one --vary")
        out[key] = [_literal(v.strip()) for v in values.split(",")]
        if any(v == "" for v in out[key]):
            raise InputError(f"--vary {item}: an empty value; remove the extra comma")
    return out


def _literal(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


@contextmanager
def _interruptible(output: Path | None) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        hint = (
            f"; finished runs are kept: run the same command again to resume into '{output}'"
            if output is not None
            else ""
        )
        report_interrupt(f"lfvsim: interrupted{hint}")
        raise typer.Exit(130) from None


# --- lfvsim sweep -------------------------------------------------------------------------


NoEarlyStopOpt = Annotated[
    bool,
    typer.Option(
        "--no-early-stop",
        help="Run every configuration --replications times, even one that clearly "
        "passes or fails the SLO after fewer.",
    ),
]


def _early_stop(
    slo: Slo | None, replications: int, off: bool, best_cost: Callable[..., Any]
) -> dict[str, Any]:
    """The sweep's early-stopping arguments: the SLO's sequential rule, unless turned off."""
    from lfvsim.experiments.sequential import sequential_rule

    if slo is None or off:
        return {}
    rule = sequential_rule(slo, replications)
    if not rule.looks:  # 3 replications or fewer: nothing could stop early
        return {}
    return {"early_stop": rule, "best_cost": lambda table: best_cost(table, slo)}


@app.command("sweep")
def sweep_command(
    scenario_path: ScenarioArg,
    min_range: MinOpt = "1",
    max_range: MaxOpt = "1..12",
    replications: Annotated[
        int, typer.Option(help="Replications per configuration (same seeds in each).")
    ] = 5,
    output: OutputOpt = None,
    trace: TraceOpt = None,
    scale: ScaleOpt = None,
    fill_gaps: FillGapsOpt = None,
    describe_model: DescribeOpt = None,
    seed: ExperimentSeedOpt = None,
    vary: VaryOpt = None,
    oracle: Annotated[
        bool,
        typer.Option(
            "--oracle", help="Also run the zero-throttle oracle for each Min (oracle_bound rows)."
        ),
    ] = False,
    max_throttle_rate: SweepMaxThrottleOpt = None,
    max_p99_latency_s: MaxP99Opt = None,
    max_worst_hour_rate: MaxWorstHourOpt = None,
    max_minute_rate: MaxMinuteOpt = None,
    minute_percentile: MinutePercentileOpt = 99.0,
    confidence: ConfidenceOpt = 0.95,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    dask_timeout_s: DaskTimeoutOpt = 10.0,
    engine: EngineOpt = EngineName.auto,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
    no_reuse: Annotated[
        bool,
        typer.Option(
            "--no-reuse",
            help="Simulate every Max, even one above the most units any replication of a "
            "smaller Max wanted (whose runs it repeats exactly).",
        ),
    ] = False,
    no_early_stop: NoEarlyStopOpt = False,
) -> None:
    """Simulate every (Min, Max) configuration with replications and common random numbers.

    With an SLO (--max-throttle-rate and optionally the busy-hour targets) the table says
    which configurations meet each target by its upper bound, and --output stores the SLO
    for 'lfvsim plot' and 'lfvsim report'. A configuration that clearly meets or clearly
    fails the SLO after fewer replications stops there (column stopped_early), unless
    given --no-early-stop.
    """
    from lfvsim.experiments import sweep
    from lfvsim.experiments.recommend import best_cost, check_minute_percentile, store_slo
    from lfvsim.experiments.sweep import write_table
    from lfvsim.reports.text import format_sweep

    with input_errors(allow_large_option=True), _interruptible(output), allow_replace(force):
        if output is not None:
            check_output_parent(output)
        slo = optional_slo(
            max_throttle_rate,
            max_p99_latency_s,
            confidence,
            max_worst_hour_rate,
            max_minute_rate,
            minute_percentile,
        )
        minute_percentile = check_minute_percentile(minute_percentile)  # also with no SLO
        scenario = load_with_overrides(
            scenario_path,
            trace=trace,
            fill_gaps=fill_gaps,
            scale=scale,
            describe_model=describe_model,
        )
        mins = parse_range(min_range, "--min")
        maxs = parse_range(max_range, "--max")
        check_sweep(
            scenario, mins, maxs, replications, parse_vary(vary), oracle, workers, allow_large
        )
        with run_progress("sweep") as progress, checked():  # costed just above
            table = sweep(
                scenario,
                min_units=mins,
                max_units=maxs,
                replications=replications,
                seed=seed,
                vary=parse_vary(vary),
                oracle=oracle,
                output=output,
                dask_timeout_s=dask_timeout_s,
                progress=progress,
                minute_percentile=minute_percentile,
                reuse=not no_reuse,
                **_early_stop(slo, replications, no_early_stop, best_cost),
                **run_options(workers, dask, dask_timeout_s, engine),
            )
        if output is not None and slo is not None:
            table = store_slo(table, slo)
            write_table(table, output)
    typer.echo(format_sweep(table, scenario, scenario_path, slo, minute_percentile))
    if output is not None:
        typer.echo(f"\nwrote {output}: {len(table):,} rows, one per configuration x replication")


# --- lfvsim recommend ---------------------------------------------------------------------


@app.command("recommend")
def recommend_command(
    scenario_path: ScenarioArg,
    max_throttle_rate: MaxThrottleOpt,
    max_p99_latency_s: MaxP99Opt = None,
    max_worst_hour_rate: MaxWorstHourOpt = None,
    max_minute_rate: MaxMinuteOpt = None,
    minute_percentile: MinutePercentileOpt = 99.0,
    confidence: ConfidenceOpt = 0.95,
    min_range: Annotated[
        str | None,
        typer.Option(
            "--min",
            metavar="RANGE",
            help="MinInferenceUnits to try: 1..3, 2 or 1,2,4 (default: from the traffic).",
        ),
    ] = None,
    max_range: Annotated[
        str | None,
        typer.Option(
            "--max",
            metavar="RANGE",
            help="MaxInferenceUnits to try (default: from the traffic); no auto-scaling is "
            "always tried too.",
        ),
    ] = None,
    replications: Annotated[
        int, typer.Option(help="Replications per configuration (same seeds in each), >= 2.")
    ] = 10,
    growth: Annotated[
        float,
        typer.Option(
            metavar="PERCENT_PER_MONTH",
            help="Traffic growth a month: recommend for the traffic after --months.",
        ),
    ] = 0.0,
    months: Annotated[
        float, typer.Option(help="Horizon of --growth, in months (needs --growth).")
    ] = 0.0,
    busier_day: Annotated[
        float,
        typer.Option(
            metavar="FACTOR",
            help="Also hold the SLO on a day this much busier (e.g. 1.25); with Max at the "
            "simulated peak, the throttling such a day would bring is shown.",
        ),
    ] = 1.0,
    output: OutputOpt = None,
    trace: TraceOpt = None,
    scale: ScaleOpt = None,
    fill_gaps: FillGapsOpt = None,
    describe_model: DescribeOpt = None,
    seed: ExperimentSeedOpt = None,
    vary: VaryOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    dask_timeout_s: DaskTimeoutOpt = 10.0,
    engine: EngineOpt = EngineName.auto,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the recommendation as one JSON object.")
    ] = False,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
    no_early_stop: NoEarlyStopOpt = False,
) -> None:
    """The cheapest Min/Max whose SLO holds at a confidence level, and its StartModel request.

    Searches Min and Max together over a range derived from the traffic, skipping
    configurations that cannot win. Exit status 1 when no configuration meets the SLO.
    """
    from lfvsim.experiments import sweep
    from lfvsim.experiments.growth import growth_factor
    from lfvsim.experiments.recommend import Slo, best_cost, recommend_for, store_slo
    from lfvsim.experiments.search import add_oracle, search
    from lfvsim.experiments.sequential import sequential_rule
    from lfvsim.experiments.sweep import write_table
    from lfvsim.reports.text import (
        format_outlook,
        format_recommendation,
        format_search,
        traffic_line,
    )
    from lfvsim.traces import trace_from_scenario
    from lfvsim.traces.transforms import scale as scale_trace

    with input_errors(allow_large_option=True), _interruptible(output), allow_replace(force):
        if output is not None:
            check_output_parent(output)
        scenario = load_with_overrides(
            scenario_path,
            trace=trace,
            fill_gaps=fill_gaps,
            scale=scale,
            describe_model=describe_model,
        )
        mins = None if min_range is None else parse_range(min_range, "--min")
        maxs = None if max_range is None else parse_range(max_range, "--max")
        if replications < 2:
            raise InputError(
                f"--replications {replications}: an SLO bound needs at least 2 "
                "replications; use 5 or more"
            )
        slo = Slo(
            max_throttle_rate,
            max_p99_latency_s,
            confidence,
            max_worst_hour_rate,
            max_minute_rate,
            minute_percentile,
        )
        # The search's own range is known only once the oracle has run: the budget is
        # checked on the ranges given, else on the first configurations it runs.
        varied = parse_vary(vary)
        if months != 0 and growth == 0:
            # Without a growth rate the horizon multiplies nothing: refused rather than
            # silently recommending for today's traffic.
            raise InputError(
                f"--months {months:g} grows nothing without --growth; add --growth "
                "PERCENT_PER_MONTH (e.g. --growth 5), or drop --months"
            )
        factor = growth_factor(growth, months, busier_day)
        base_trace = trace_from_scenario(scenario)
        if base_trace.expected_requests == 0:
            # Nothing to size units for: every configuration would tie at no throttling,
            # with latencies of no request (nan) and a headroom bounded only by the search.
            raise InputError(
                f"{base_trace.source}: the traffic has no requests (every count is 0), so "
                "there is nothing to size units for; give a trace or traffic with requests"
            )
        run_trace = base_trace if factor == 1.0 else scale_trace(base_trace, factor)
        # Costed on the traffic the search replays: growth may multiply it.
        check_sweep(
            scenario, mins or [1], maxs or [1], replications, varied, True, workers,
            allow_large, trace=run_trace,
            how_to_shrink=None if factor == 1.0 else (
                "give a smaller --growth, --months or --busier-day, smaller --min/--max "
                "ranges or fewer --replications"
            ),
        )  # fmt: skip
        options = run_options(workers, dask, dask_timeout_s, engine)
        searched: SearchResult | None = None
        # Costed just above when the ranges are given (the library does not check again);
        # a range the search derives is costed by the search, a round at a time.
        costed = varied or (mins is not None and maxs is not None)
        with run_progress("recommend") as progress, checked() if costed else nullcontext():
            if varied:
                table = sweep(
                    scenario,
                    min_units=mins or [1],
                    max_units=maxs or range(1, 13),
                    replications=replications,
                    seed=seed,
                    trace=run_trace,
                    vary=varied,
                    oracle=True,
                    output=output,
                    dask_timeout_s=dask_timeout_s,
                    progress=progress,
                    minute_percentile=slo.minute_percentile,
                    **_early_stop(slo, replications, no_early_stop, best_cost),
                    **options,
                )
            else:
                searched = search(
                    scenario,
                    lambda t: best_cost(t, slo),
                    min_units=mins,
                    max_units=maxs,
                    replications=replications,
                    seed=seed,
                    trace=run_trace,
                    dask_timeout_s=dask_timeout_s,
                    progress=progress,
                    minute_percentile=slo.minute_percentile,
                    early_stop=None if no_early_stop else sequential_rule(slo, replications),
                    allow_large=allow_large,
                    **options,
                )
                table = searched.table
        rec = recommend_for(table, slo, scenario)
        if searched is not None and rec.choice is not None:
            with checked():  # one configuration of the grid costed above
                searched = add_oracle(
                    searched,
                    scenario,
                    rec.choice.min_units,
                    trace=run_trace,
                    minute_percentile=slo.minute_percentile,
                    **options,
                )
            table = searched.table
            rec = recommend_for(table, slo, scenario)
        if output is not None and searched is not None:
            write_table(store_slo(table, slo), output)
        outlook = None
        if rec.choice is not None and not varied:
            with checked():  # the choice, on one worker: within the grid costed above
                outlook = _outlook(
                    scenario, run_trace, rec.choice, slo, replications, table, growth, busier_day
                )
    if json_output:
        data = stamped(rec.to_dict())
        data["seed"] = table.attrs.get("seed")
        data["requests"] = float(table["requests"].mean())
        data["duration_h"] = float(table["duration_h"].iloc[0])
        data["traffic"] = traffic_dict(scenario, factor, growth, months, busier_day)
        data["search"] = None if searched is None else searched.to_dict()
        data["outlook"] = outlook
        typer.echo(json.dumps(data, indent=2))
    else:
        text = format_recommendation(rec, table, scenario, scenario_path, searched)
        extra = [traffic_line(scenario, factor, growth, months, busier_day)]
        if searched is not None:
            extra += format_search(searched)
        if outlook is not None:
            extra += format_outlook(
                outlook, growth, None if rec.choice is None else rec.choice.max_units
            )
        head, _, rest = text.partition("\n\n")
        typer.echo("\n".join([head, *extra, "", rest]))
    if not rec.met:
        raise typer.Exit(1)


def _outlook(
    scenario: Scenario,
    trace: Any,
    choice: Configuration,
    slo: Slo,
    replications: int,
    table: pd.DataFrame,
    growth: float,
    busier_day: float,
) -> dict[str, Any]:
    """Headroom of the choice and, with Max at the simulated peak, a busier day's throttling."""
    from lfvsim.experiments.growth import headroom, throttle_at

    config = (choice.min_units, choice.max_units)
    seed = int(table.attrs["seed"])
    room = headroom(scenario, trace, config, slo, replications, seed, workers=1)
    out: dict[str, Any] = {"headroom": room.to_dict()}
    if growth > 0:
        out["headroom"]["months_at_growth"] = room.months(growth)
    top = choice.max_units if choice.max_units is not None else choice.min_units
    if choice.peak_units >= top:
        busier = busier_day if busier_day > 1 else 1.25
        out["busier_day"] = {
            "factor": busier,
            "throttle_rate": throttle_at(
                scenario, trace, config, busier, replications, seed, workers=1
            ),
        }
    return out


def traffic_dict(
    scenario: Scenario, factor: float, growth: float, months: float, busier_day: float
) -> dict[str, Any]:
    """Where the traffic came from and how it was scaled (for JSON)."""
    t = scenario.traffic
    return {
        "kind": t.kind,
        "path": getattr(t, "path", None),
        "scale": getattr(t, "scale", 1.0),
        "growth_percent_per_month": growth,
        "months": months,
        "busier_day": busier_day,
        "traffic_factor": factor,
    }
