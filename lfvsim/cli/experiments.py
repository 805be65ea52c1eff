"""``lfvsim sweep`` and ``lfvsim recommend``; ``lfvsim run --replications`` prints from here.

Parse, call :mod:`lfvsim.experiments`, print. No model logic.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from lfvsim.atomic import MANIFEST, allow_replace, check_output_folder
from lfvsim.cli.app import ForceOpt, app, input_errors, report_interrupt
from lfvsim.cli.budgeting import AllowLargeOpt, check_range_size, check_sweep
from lfvsim.cli.progress import run_progress
from lfvsim.errors import InputError
from lfvsim.experiments import (
    HOURS_PER_MONTH,
    Recommendation,
    Replications,
    aggregate,
    recommend,
    replicate,
    sweep,
    vary_columns,
)
from lfvsim.experiments.growth import growth_factor, headroom, throttle_at
from lfvsim.experiments.recommend import (
    MINUTE_P99,
    WORST_HOUR,
    Configuration,
    Slo,
    best_cost,
    store_slo,
)
from lfvsim.experiments.replicate import metrics
from lfvsim.experiments.search import SearchResult, add_oracle, search
from lfvsim.experiments.sweep import write_table
from lfvsim.machine_output import stamped
from lfvsim.scenario import Scenario, load_scenario
from lfvsim.traces import trace_from_scenario
from lfvsim.traces.schema import traffic_for_file
from lfvsim.traces.transforms import scale as scale_trace

__all__ = [
    "format_recommendation",
    "format_replications",
    "format_sweep",
    "parse_range",
    "parse_vary",
    "recommend_command",
    "run_progress",
    "run_replications",
    "sweep_command",
]


# --- options both commands share ----------------------------------------------------------

ScenarioArg = Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")]
TraceOpt = Annotated[
    Path | None,
    typer.Option(
        help="Replay this trace (CSV, Parquet or CloudWatch JSON) instead of the scenario's "
        "traffic."
    ),
]
FillGapsOpt = Annotated[
    str | None,
    typer.Option(
        metavar="zero",
        help="With --trace: count missing intervals as zero requests (reported in the notes).",
    ),
]
ScaleOpt = Annotated[
    float | None,
    typer.Option(
        "--scale",
        metavar="FACTOR",
        help="With --trace: multiply the trace's traffic by FACTOR (e.g. 0.01 to bring a "
        "web-server trace to a few units); said in every output.",
    ),
]
DescribeOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Take the model (project, version, region) from saved describe-model or "
        "describe-project-versions JSON.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        min=0, help="Experiment seed; replication k runs with child k of its SeedSequence."
    ),
]
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


def _load(
    path: Path,
    trace: Path | None,
    describe_model: Path | None,
    fill_gaps: str | None = None,
    scale: float | None = None,
) -> Scenario:
    if fill_gaps is not None and trace is None:
        raise InputError("--fill-gaps applies to a --trace file; give --trace FILE")
    if scale is not None and trace is None:
        raise InputError("--scale applies to a --trace file; give --trace FILE")
    if scale is not None and not scale > 0:
        raise InputError(f"--scale {scale}: give a positive factor, e.g. --scale 0.01")
    scenario = load_scenario(path)
    if describe_model is not None:
        from lfvsim.cli.aws import overlay_describe_model

        scenario = overlay_describe_model(scenario, describe_model)
    if trace is not None:
        options: dict[str, Any] = {} if fill_gaps is None else {"fill_gaps": fill_gaps}
        if scale is not None:
            options["scale"] = scale
        traffic = traffic_for_file(trace, **options)
        scenario = scenario.with_overrides({"traffic": traffic}, source="--trace")
    return scenario


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
    seed: SeedOpt = None,
    vary: VaryOpt = None,
    oracle: Annotated[
        bool,
        typer.Option(
            "--oracle", help="Also run the oracle lower bound for each Min (oracle_bound rows)."
        ),
    ] = False,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    dask_timeout_s: DaskTimeoutOpt = 10.0,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Simulate every (Min, Max) configuration with replications and common random numbers."""
    with input_errors(), _interruptible(output), allow_replace(force):
        scenario = _load(scenario_path, trace, describe_model, fill_gaps, scale)
        mins = parse_range(min_range, "--min")
        maxs = parse_range(max_range, "--max")
        check_sweep(
            scenario, mins, maxs, replications, parse_vary(vary), oracle, workers, allow_large
        )
        with run_progress("sweep") as progress:
            table = sweep(
                scenario,
                min_units=mins,
                max_units=maxs,
                replications=replications,
                seed=seed,
                vary=parse_vary(vary),
                oracle=oracle,
                output=output,
                workers=workers,
                dask=dask,
                dask_timeout_s=dask_timeout_s,
                progress=progress,
            )
    typer.echo(format_sweep(table, scenario, scenario_path))
    if output is not None:
        typer.echo(f"\nwrote {output}: {len(table):,} rows, one per configuration x replication")


def format_sweep(table: pd.DataFrame, scenario: Scenario, scenario_path: Path | None = None) -> str:
    """One line per configuration: monthly cost, throttle rate, p99, units (95% intervals)."""
    agg = aggregate(table, 0.95)
    keys = vary_columns(table)
    runs = len(table)
    reps = int(agg["replications"].max())
    first = table.iloc[0]
    head = [
        f"{scenario.model.project} version {scenario.model.version} in "
        f"{scenario.model.region}" + (f"  ({scenario_path})" if scenario_path else ""),
        f"{len(agg)} configurations x {reps} replications = {runs:,} runs of "
        f"{first['duration_h']:g} h, seed {table.attrs.get('seed', '?')}; replication k has "
        "the same seed, so the same requests, in every configuration",
        f"offered: {agg['requests'].mean():,.0f} requests a replication on average",
        f"monthly cost = simulated cost per hour x {HOURS_PER_MONTH:g} h; "
        "(low-high) are 95% confidence intervals over replications",
        "",
    ]
    busy = [c for c in (WORST_HOUR, MINUTE_P99) if c in agg]
    busy_names = {WORST_HOUR: "worst hour", MINUTE_P99: "minute p99"}
    columns = [*keys, "Min", "Max", "monthly cost USD", "throttle rate"]
    columns += [busy_names[c] for c in busy] + ["p99 s", "units"]
    lines = []
    for _, r in agg.iterrows():
        max_text = (
            "oracle" if r["oracle_bound"] else "none" if pd.isna(r["max_units"]) else r["max_units"]
        )
        lines.append(
            [
                *(f"{r[k]:g}" if isinstance(r[k], float) else str(r[k]) for k in keys),
                str(r["min_units"]),
                str(max_text),
                f"{r['monthly_cost_usd']:,.0f} ({r['monthly_cost_low_usd']:,.0f}-"
                f"{r['monthly_cost_high_usd']:,.0f})",
                f"{_pct(r['throttle_rate'])} ({_pct(r['throttle_rate_low'])}-"
                f"{_pct(r['throttle_rate_high'])})",
                *(f"{_pct(r[c])} (bound {_pct(r[f'{c}_upper'])})" for c in busy),
                f"{r['latency_p99_s']:.3f}",
                f"mean {r['mean_units']:.2f}, peak {r['peak_units']}",
            ]
        )
    return "\n".join(head + _columns(columns, lines))


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return out


def _pct(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if x == 0:
        return "0%"
    return f"{100 * x:.3g}%"


# --- lfvsim recommend ---------------------------------------------------------------------


MaxWorstHourOpt = Annotated[
    float | None,
    typer.Option(help="SLO: upper bound of the throttle rate in the worst clock hour (0.03 = 3%)."),
]
MaxMinuteOpt = Annotated[
    float | None,
    typer.Option(
        help="SLO: upper bound of the 99th percentile of per-minute throttle rates "
        "(0.05: 99% of minutes throttle at most 5%)."
    ),
]


@app.command("recommend")
def recommend_command(
    scenario_path: ScenarioArg,
    max_throttle_rate: Annotated[
        float,
        typer.Option(
            help="SLO: the throttle rate's upper confidence bound must be at most this "
            "(0.001 = 0.1%)."
        ),
    ],
    max_p99_latency_s: Annotated[
        float | None, typer.Option(help="SLO: upper bound of the p99 latency (s).")
    ] = None,
    max_worst_hour_rate: MaxWorstHourOpt = None,
    max_minute_rate: MaxMinuteOpt = None,
    confidence: Annotated[
        float, typer.Option(help="Confidence the SLO must hold at (one-sided bounds).")
    ] = 0.95,
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
    months: Annotated[float, typer.Option(help="Horizon of --growth, in months.")] = 0.0,
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
    seed: SeedOpt = None,
    vary: VaryOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    dask_timeout_s: DaskTimeoutOpt = 10.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the recommendation as one JSON object.")
    ] = False,
    force: ForceOpt = False,
    allow_large: AllowLargeOpt = False,
) -> None:
    """The cheapest Min/Max whose SLO holds at a confidence level, and its StartModel request.

    Searches Min and Max together over a range derived from the traffic, skipping
    configurations that cannot win. Exit status 1 when no configuration meets the SLO.
    """
    with input_errors(), _interruptible(output), allow_replace(force):
        scenario = _load(scenario_path, trace, describe_model, fill_gaps, scale)
        mins = None if min_range is None else parse_range(min_range, "--min")
        maxs = None if max_range is None else parse_range(max_range, "--max")
        if replications < 2:
            raise InputError(
                f"--replications {replications}: an SLO bound needs at least 2 "
                "replications; use 5 or more"
            )
        slo = Slo(
            max_throttle_rate, max_p99_latency_s, confidence, max_worst_hour_rate, max_minute_rate
        )
        # The search's own range is known only once the oracle has run: the budget is
        # checked on the ranges given, else on the first configurations it runs.
        check_sweep(
            scenario,
            mins or [1],
            maxs or [1],
            replications,
            parse_vary(vary),
            True,
            workers,
            allow_large,
        )
        factor = growth_factor(growth, months, busier_day)
        varied = parse_vary(vary)
        base_trace = trace_from_scenario(scenario)
        run_trace = base_trace if factor == 1.0 else scale_trace(base_trace, factor)
        options: dict[str, Any] = {"workers": workers, "dask": dask}
        searched: SearchResult | None = None
        with run_progress("recommend") as progress:
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
                    **options,
                )
                table = searched.table
        rec = _recommend(table, slo, scenario)
        if searched is not None and rec.choice is not None:
            searched = add_oracle(
                searched, scenario, rec.choice.min_units, trace=run_trace, **options
            )
            table = searched.table
            rec = _recommend(table, slo, scenario)
        if output is not None and searched is not None:
            write_table(store_slo(table, slo), output)
        outlook = None
        if rec.choice is not None and not varied:
            outlook = _outlook(
                scenario, run_trace, rec.choice, slo, replications, table, growth, busier_day
            )
    if json_output:
        data = stamped(rec.to_dict())
        data["seed"] = _seed_of(table)
        data["requests"] = float(table["requests"].mean())
        data["duration_h"] = float(table["duration_h"].iloc[0])
        data["traffic"] = traffic_dict(scenario, factor, growth, months, busier_day)
        data["search"] = None if searched is None else searched.to_dict()
        data["outlook"] = outlook
        typer.echo(json.dumps(data, indent=2))
    else:
        text = format_recommendation(rec, table, scenario, scenario_path)
        extra = [traffic_line(scenario, factor, growth, months, busier_day)]
        if searched is not None:
            extra += _search_lines(searched)
        if outlook is not None:
            extra += _outlook_lines(outlook, growth)
        head, _, rest = text.partition("\n\n")
        typer.echo("\n".join([head, *extra, "", rest]))
    if not rec.met:
        raise typer.Exit(1)


def _recommend(table: pd.DataFrame, slo: Slo, scenario: Scenario) -> Recommendation:
    return recommend(
        table,
        slo.max_throttle_rate,
        max_p99_latency_s=slo.max_p99_latency_s,
        confidence=slo.confidence,
        scenario=scenario,
        max_worst_hour_rate=slo.max_worst_hour_rate,
        max_minute_rate=slo.max_minute_rate,
    )


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


def _outlook_lines(outlook: dict[str, Any], growth: float) -> list[str]:
    room = outlook["headroom"]
    factor = room["traffic_factor"]
    if factor <= 0:
        return []
    more = "at least " if room["at_least"] else "about "
    line = (
        f"headroom: the choice meets the SLO up to {more}x{factor:.2f} the traffic it is "
        f"recommended for "
        f"(+{100 * (factor - 1):.0f}%; bisection with the same seeds, to within "
        f"{100 * room['resolution']:.0f}%)"
    )
    if growth > 0 and math.isfinite(room.get("months_at_growth", math.inf)):
        line += f": {room['months_at_growth']:.1f} more months of {growth:g}% monthly growth"
    out = [line]
    if "busier_day" in outlook:
        b = outlook["busier_day"]
        out.append(
            f"Max equals the most units in service: a day x{b['factor']:g} busier would "
            f"throttle {_pct(b['throttle_rate'])} of the requests (mean over replications)"
        )
    return out


def _search_lines(searched: SearchResult) -> list[str]:
    where = (
        f"derived from the traffic (the oracle needs {searched.oracle_peak_units} units at peak)"
        if searched.derived
        else "as given"
    )
    lines = [
        f"search: Min {_span(pd.Series(searched.min_units))}, Max "
        f"{_span(pd.Series(searched.max_units))}, {where}: {searched.simulated} of "
        f"{searched.grid_size} configurations simulated, {searched.skipped} skipped"
    ]
    lines += [f"  skipped {r}" for r in searched.reasons]
    return lines


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


def traffic_line(
    scenario: Scenario, factor: float = 1.0, growth: float = 0, months: float = 0,
    busier_day: float = 1.0,
) -> str:  # fmt: skip
    """``traffic: trace.csv scaled x0.01; x1.34 for 12 months of 2.5% growth``."""
    t = scenario.traffic
    path = getattr(t, "path", None)
    text = f"traffic: {Path(path).name if path else t.kind}"
    trace_scale = getattr(t, "scale", 1.0)
    if trace_scale != 1.0:
        text += f", the trace scaled x{trace_scale:g}"
    if factor != 1.0:
        parts = []
        if growth and months:
            parts.append(f"{months:g} months of {growth:g}% monthly growth")
        if busier_day != 1.0:
            parts.append(f"a day x{busier_day:g} busier")
        text += f"; recommended for x{factor:.3g} that traffic ({' and '.join(parts)})"
    return text


def _seed_of(table: pd.DataFrame) -> int | None:
    return table.attrs.get("seed")


def format_recommendation(
    rec: Recommendation,
    table: pd.DataFrame,
    scenario: Scenario,
    scenario_path: Path | None = None,
) -> str:
    """The recommendation as text: the choice, its cost and risk, alternatives, the request."""
    reps = int(table.groupby("seed").ngroups)
    conf = f"{100 * rec.confidence:g}%"
    slo = rec.slo.text()
    keys = vary_columns(table)
    lines = [
        f"{scenario.model.project} version {scenario.model.version} in "
        f"{scenario.model.region}" + (f"  ({scenario_path})" if scenario_path else ""),
        f"SLO: {slo}, held by the upper {conf} confidence bound (not the mean)",
        f"searched: Min {_span(table['min_units'])}, Max "
        f"{_span(table['max_units'].dropna())} and no auto-scaling; {reps} replications of "
        f"{table['duration_h'].iloc[0]:g} h each, the same requests in every configuration",
        "",
    ]
    if rec.met and rec.choice is not None:
        c = rec.choice
        worst = " (worst case over the varied values)" if rec.variants else ""
        lines += [f"recommended: {c.label}{worst}", *_figures(c, conf)]
        if rec.runner_up is not None:
            r = rec.runner_up
            lines.append(
                f"runner-up: {r.label}: USD {r.monthly_cost_usd:,.0f} a month "
                f"({_signed(r.monthly_cost_usd - c.monthly_cost_usd)}), throttle rate "
                f"{_pct(r.throttle_rate)} (bound {_pct(r.throttle_rate_upper)})"
            )
        if rec.one_more_max_unit is not None:
            d = rec.one_more_max_unit
            what = "one more unit of Max" if c.max_units is not None else "one more fixed unit"
            if d.monthly_cost_usd == 0 and d.throttle_rate == 0:
                lines.append(
                    f"{what} ({d.other.label}): changes nothing on this traffic "
                    f"(at most {c.peak_units} units are ever in service)"
                )
            else:
                lo, hi = d.monthly_cost_interval_usd
                lines.append(
                    f"{what} ({d.other.label}): {_signed(d.monthly_cost_usd)} a month "
                    f"({conf} CI {_signed(lo)} to {_signed(hi)}), throttle rate "
                    f"{_pct(c.throttle_rate)} -> {_pct(d.other.throttle_rate)}"
                )
        if rec.oracle is not None and rec.oracle_gap is not None:
            o, gap = rec.oracle, rec.oracle_gap
            share = 100 * gap.monthly_cost_usd / o.monthly_cost_usd if o.monthly_cost_usd else 0
            lo, hi = gap.monthly_cost_interval_usd
            head = (
                f"oracle lower bound (Min {o.min_units}, perfect foresight, no provisioning "
                f"delay, no Max, throttles nothing): USD {o.monthly_cost_usd:,.0f} a month; "
            )
            if gap.monthly_cost_usd >= 0:
                lines.append(
                    head + f"the choice costs USD {gap.monthly_cost_usd:,.0f} ({share:.0f}%) "
                    f"more ({conf} CI {lo:,.0f} to {hi:,.0f}): what not knowing the future "
                    "costs"
                )
            else:
                lines.append(
                    head + f"the choice costs USD {-gap.monthly_cost_usd:,.0f} "
                    f"({-share:.0f}%) less, because it throttles {_pct(c.throttle_rate)} "
                    "of the requests"
                )
        if rec.variants:
            lines += ["", *_variants_text(rec, keys)]
        if rec.start_model_request is not None:
            lines += [
                "",
                f"{_operation_name(scenario)} request (aws ... --cli-input-json):",
                json.dumps(rec.start_model_request, indent=2),
            ]
    else:
        lines.append(
            f"no configuration in range meets the SLO at {conf} confidence; "
            f"binds: {', '.join(rec.binding)}"
        )
        if rec.closest is not None:
            c = rec.closest
            lines.append(
                f"closest: {c.label}: throttle rate {_pct(c.throttle_rate)} (bound "
                f"{_pct(c.throttle_rate_upper)}), p99 {c.latency_p99_s:.3f} s, USD "
                f"{c.monthly_cost_usd:,.0f} a month"
            )
        lines.append(f"try: {rec.advice}")
        if rec.variants:
            lines += ["", *_variants_text(rec, keys)]
    notes = [
        f"monthly figures: simulated cost per hour x {HOURS_PER_MONTH:g} h",
        "the choice is the cheapest of many configurations that pass; check it with fresh "
        "seeds (lfvsim run --replications N --seed S) before relying on a narrow margin",
    ]
    return "\n".join([*lines, "", "notes:", *(f"  - {n}" for n in notes)])


def _figures(c: Configuration, conf: str) -> list[str]:
    lo, hi = c.monthly_cost_interval_usd
    rate, rate_up = _pct(c.throttle_rate), _pct(c.throttle_rate_upper)
    p99_up = c.latency_p99_upper_s
    return [
        f"  monthly cost       USD {c.monthly_cost_usd:,.2f}  ({conf} CI {lo:,.2f} to {hi:,.2f})",
        f"  throttle rate      {rate}  (upper bound {rate_up})",
        f"  latency p99        {c.latency_p99_s:.3f} s  (upper bound {p99_up:.3f} s)",
        f"  units in service   mean {c.mean_units:.2f}, peak {c.peak_units}",
        *_busy_hour_lines(c),
    ]


def _busy_hour_lines(c: Configuration) -> list[str]:
    out = []
    if math.isfinite(c.worst_hour_rate):
        out.append(
            f"  worst hour         throttle rate {_pct(c.worst_hour_rate)}  (upper bound "
            f"{_pct(c.worst_hour_rate_upper)})"
        )
    if math.isfinite(c.minute_p99_rate):
        out.append(
            f"  worst minutes      99% of minutes throttle at most {_pct(c.minute_p99_rate)}  "
            f"(upper bound {_pct(c.minute_p99_rate_upper)})"
        )
    return out


def _variants_text(rec: Recommendation, keys: list[str]) -> list[str]:
    rows = []
    for v in rec.variants:
        values = [f"{x:g}" if isinstance(x, float) else str(x) for x in v.values.values()]
        if v.choice is None:
            rows.append([*values, "none meets the SLO", "", ""])
        else:
            c = v.choice
            rows.append(
                [
                    *values,
                    c.label,
                    f"USD {c.monthly_cost_usd:,.0f}",
                    _pct(c.throttle_rate_upper),
                ]
            )
    out = ["robustness to the varied values:"]
    out += _columns([*keys, "recommended", "a month", "throttle bound"], rows)
    depends = rec.depends_on
    if rec.max_units_changes or depends:
        which = ", ".join(depends) if depends else ", ".join(keys)
        out.append(
            f"the recommended {'Max' if rec.max_units_changes else 'Min'} changes with {which}: "
            "AWS does not publish its auto-scaling rules, so this answer depends on an "
            "assumption; the recommendation above meets the SLO for every value tried"
            if rec.met
            else f"the recommendation changes with {which}"
        )
    else:
        out.append(f"the recommendation is the same for every value of {', '.join(keys)}")
    return out


def _operation_name(scenario: Scenario) -> str:
    from lfvsim import startmodel

    operation = getattr(startmodel, "start_operation", None)
    return "StartModel" if operation is None else operation(scenario).name


def _span(values: pd.Series) -> str:
    vals = sorted({int(v) for v in values})
    if not vals:
        return "-"
    if vals == list(range(vals[0], vals[-1] + 1)):
        return f"{vals[0]}..{vals[-1]}" if len(vals) > 1 else str(vals[0])
    return ",".join(map(str, vals))


def _signed(usd: float) -> str:
    sign = "+" if usd >= 0 else "-"
    return f"{sign}USD {abs(usd):,.2f}"


# --- lfvsim run --replications ------------------------------------------------------------


def run_replications(
    scenario: Scenario,
    scenario_path: Path | None,
    replications: int,
    seed: int | None,
    json_output: bool,
    out: Path | None,
) -> None:
    """``lfvsim run --replications N``: replicate, then print (and write) the result."""
    if out is not None:
        check_output_folder(out)  # before the work, not after
    with run_progress("replications") as progress:
        reps = replicate(scenario, replications, seed=seed, progress=progress)
    if out is not None:
        reps.write(out)
    if json_output:
        typer.echo(reps.to_json())
        return
    typer.echo(format_replications(reps, scenario_path))
    if out is not None:
        typer.echo(f"\nwrote {out}/: replications.csv, summary.json, scenario.toml, {MANIFEST}")


def format_replications(reps: Replications, scenario_path: Path | None = None) -> str:
    """Each metric's mean and 95% confidence interval over the replications."""
    sc = reps.scenario
    t = reps.table
    first = t.iloc[0]
    max_units = first["max_units"]
    max_text = "unset (no auto-scaling)" if pd.isna(max_units) else str(max_units)
    means, ci = reps.mean(), reps.interval(0.95)
    head = [
        f"{sc.model.project} version {sc.model.version} in {sc.model.region}"
        + (f"  ({scenario_path})" if scenario_path else ""),
        f"MinInferenceUnits {first['min_units']}, MaxInferenceUnits {max_text}, policy "
        f"{first['policy']}, {first['duration_h']:g} h simulated",
        f"{reps.replications} replications, seeds from SeedSequence({reps.seed}).spawn"
        f"({reps.replications}); mean and 95% confidence interval",
        f"traffic: {reps.trace_source}",
        "",
    ]
    rows = []
    for m in metrics(t):
        lo, hi = ci[m]
        rows.append([m, _num(m, means[m]), "" if math.isnan(lo) else f"{_num(m, lo)} .. "
                     f"{_num(m, hi)}"])  # fmt: skip
    body = _columns(["metric", "mean", "95% CI"], rows)
    seeds = ", ".join(str(s) for s in t["seed"][:5]) + (", ..." if len(t) > 5 else "")
    tail = [
        "",
        f"re-run replication k alone with --seed (seeds: {seeds})",
        f"monthly_cost_usd = cost_usd / duration_h x {HOURS_PER_MONTH:g} h",
        "",
        "notes:",
        *(f"  - {n}" for n in reps.notes),
    ]
    return "\n".join(head + body + tail)


def _num(metric: str, value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if metric.endswith("_rate"):
        return _pct(value)
    if metric.endswith("_s"):
        return f"{value:.3f}"
    if metric.endswith("_usd") and abs(value) < 10:
        return f"{value:.4f}"
    if metric.endswith("_usd") or metric.endswith("_h") or metric.endswith("hours"):
        return f"{value:,.2f}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
