"""The budget check every command makes before it starts (the rules: lfvsim.budget)."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lfvsim.budget import (
    MAX_GRID_VALUES,
    BudgetError,
    Estimate,
    Limits,
    TrafficLoad,
    check,
    describe,
    repeated,
    repeated_variants,
    simulation_estimate,
    trace_bins_estimate,
    trace_load,
    trace_stats_estimate,
    traffic_load,
)
from lfvsim.errors import InputError

if TYPE_CHECKING:  # traces (numpy, pandas) load when a command runs: --help starts fast
    from lfvsim.traces import Trace

__all__ = [
    "AllowLargeOpt",
    "announce",
    "check_range_size",
    "check_simulations",
    "check_sweep",
    "check_trace_output",
    "check_trace_stats",
    "cli_wording",
    "synthetic_or_read",
    "trace_load",
]

AllowLargeOpt = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help="Run even past the memory and time budget (LFVSIM_MAX_MEMORY_GIB, "
        "LFVSIM_MAX_HOURS); never past the machine's memory.",
    ),
]

#: Work estimated to take longer than this shows its estimate on stderr.
ANNOUNCE_S = 10.0

#: What the library's budget refusals advise in its callers' words (its arguments), and
#: the same advice in a command's words (its options). The library cannot know which
#: command called it; a refusal that reaches the command line is translated here.
CLI_WORDS = (
    ("min_units/max_units ranges", "--min/--max ranges"),
    ("fewer replications", "fewer --replications"),
    ("compare fewer modes", "compare fewer --mode values"),
)


def cli_wording(message: str) -> str:
    """A budget refusal with the options a command takes in place of the library's
    arguments (``min_units/max_units ranges`` reads ``--min/--max ranges``).

    How to lift the budget is worded already (:func:`lfvsim.budget.allow_wording`).
    """
    for library, option in CLI_WORDS:
        message = message.replace(library, option)
    return message


def synthetic_or_read(scenario: Any) -> tuple[Trace | None, TrafficLoad]:
    """The scenario's traffic load: costed from its keys when synthetic (nothing built),
    else read (the trace is returned so that it is read once)."""
    return traffic_load(scenario)


def check_simulations(
    scenario: Any,
    simulations: int = 1,
    workers: int = 1,
    allow_large: bool = False,
    how_to_shrink: str = "simulate a shorter horizon (simulation.horizon_h) or fewer units",
    trace: Trace | None = None,
) -> Trace | None:
    """Refuse ``simulations`` runs of ``scenario`` past the budget; else announce long work.

    ``trace``: the traffic, when it is not the scenario's. Returns the trace when it had to
    be read to cost it (pass it on to the engine).
    """
    if trace is not None:
        load = trace_load(trace)
    else:
        trace, load = synthetic_or_read(scenario)
    one = simulation_estimate(scenario, load)
    estimate = one if simulations == 1 and workers == 1 else repeated(one, simulations, workers)
    announce(check(estimate, how_to_shrink, Limits.from_env(allow_large=allow_large)))
    return trace


#: Most ``--vary`` combinations costed one by one; past it every run is costed as the
#: costliest combination (an upper bound, without listing them all).
MAX_COSTED_VARIANTS = 10_000


def _variant_estimates(
    largest: Any, load: TrafficLoad, vary: dict[str, list[Any]]
) -> list[Estimate]:
    """One simulation of each ``--vary`` combination of the sweep's largest configuration.

    Past :data:`MAX_COSTED_VARIANTS` combinations: the costliest alone (every key's
    costliest value together, exact for keys whose cost only grows), to stand for each.
    """

    loads: dict[tuple[tuple[str, str], ...], TrafficLoad] = {(): load}

    def cost(overrides: dict[str, Any]) -> Estimate:
        if not overrides:
            return simulation_estimate(largest, load)
        variant = largest.with_overrides(overrides, source="the sweep's --vary values")
        # Traffic keys change the load: read (or cost) each distinct traffic once.
        traffic = tuple(
            sorted((k, repr(v)) for k, v in overrides.items() if k.startswith("traffic."))
        )
        if traffic not in loads:
            loads[traffic] = synthetic_or_read(variant)[1]
        return simulation_estimate(variant, loads[traffic])

    def weight(estimate: Estimate) -> tuple[float, float]:
        return (estimate.memory_bytes, estimate.seconds)

    keys = list(vary)
    if math.prod(len(values) for values in vary.values()) <= MAX_COSTED_VARIANTS:
        return [
            cost(dict(zip(keys, combo, strict=True)))
            for combo in itertools.product(*(vary[k] for k in keys))
        ]
    worst: dict[str, Any] = {}
    for key, values in vary.items():
        worst[key] = max(values, key=lambda value: weight(cost({key: value})))
    return [max(cost({}), cost(worst), key=weight)]


def check_range_size(parts: list[str], text: str, option: str) -> None:
    """Refuse a range of more than ``MAX_GRID_VALUES`` unit counts before it is listed."""
    size = 0
    for part in parts:
        lo_text, dots, hi_text = part.partition("..")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if dots else lo
        except ValueError:
            continue  # not a number: the parser says so
        size += max(hi - lo + 1, 0)
    if size > MAX_GRID_VALUES:
        raise BudgetError(
            f"{option} {text}: {size:,} unit counts, more than the {MAX_GRID_VALUES:,} a range "
            f"may list; give a smaller range, e.g. {option} 1..12"
        )


def check_sweep(
    scenario: Any,
    mins: list[int],
    maxs: list[int],
    replications: int,
    vary: dict[str, list[Any]],
    oracle: bool,
    workers: int | None,
    allow_large: bool = False,
    trace: Trace | None = None,
    how_to_shrink: str | None = None,
) -> Trace | None:
    """Refuse a sweep past the budget: each ``--vary`` combination's runs costed as its
    largest configuration, summed over the combinations.

    Bad ``--vary`` values and a ``--max`` wholly below ``--min`` are refused first, so that
    the error is the only line printed. ``trace``: the traffic, when it is not the
    scenario's (scaled by growth, for example).
    """
    from lfvsim.experiments.executors import cpu_count  # the CLI's floor may reach down
    from lfvsim.experiments.sweep import check_vary

    if max(maxs) < min(mins):
        raise InputError(
            f"every --max value is below the smallest --min ({min(mins)}): no auto-scaled "
            "configuration to try; give Max values >= Min"
        )
    check_vary(scenario, vary)

    per_variant = sum(sum(1 for x in maxs if x >= m) + 1 + int(oracle) for m in mins)
    variants = math.prod(len(values) for values in vary.values())
    configurations = per_variant * variants
    top_min = max(mins)
    largest = scenario.with_overrides(
        {"model.min_units": top_min, "model.max_units": max(max(maxs), top_min)},
        source="the sweep's largest configuration",
    )
    if trace is not None:
        load = trace_load(trace)
    else:
        trace, load = synthetic_or_read(largest)
    ones = _variant_estimates(largest, load, vary)
    workers = min(workers or cpu_count(), cpu_count())
    # Each variant's runs costed on its own and summed; past MAX_COSTED_VARIANTS (or with
    # one variant) ones holds a single estimate that stands for every run.
    runs_each = per_variant * max(replications, 0)
    if len(ones) == 1:
        runs_each *= variants
    estimate = repeated_variants(ones, max(runs_each, 1), workers, configurations > 1)
    shrink = "give smaller --min/--max ranges or fewer --replications"
    if vary:
        shrink = "give smaller --min/--max ranges, fewer --replications or lighter --vary values"
    shrink = how_to_shrink or shrink
    announce(check(estimate, shrink, Limits.from_env(allow_large=allow_large)))
    return trace


def check_trace_output(
    load: TrafficLoad,
    bin_s: float,
    rows: bool = False,
    allow_large: bool = False,
    trace: Trace | None = None,
) -> None:
    """Refuse writing a trace of too many intervals or requests (``rows``: one row each).

    ``trace``: the trace when it is read already (None: synthetic, built from ``load``);
    counts merged exactly into a multiple of their interval place no request, anything
    else places every one of them.
    """
    if not (bin_s > 0 and math.isfinite(load.duration_s)):
        return  # the writer names the bad value
    sampled = not (trace is not None and _merged_exactly(trace, bin_s))
    estimate = trace_bins_estimate(load, bin_s, rows, sampled, _block_requests(trace))
    coarser = f"use a coarser --bin-s (e.g. {max(60.0, bin_s):g}), " if bin_s < 60 else ""
    shrink = f"{coarser}write less traffic (a lower rate or --scale) or a shorter trace"
    announce(check(estimate, shrink, Limits.from_env(allow_large=allow_large)))


def check_trace_stats(
    load: TrafficLoad, allow_large: bool = False, trace: Trace | None = None
) -> None:
    """Refuse describing a trace (``trace inspect``) whose requests or minutes are too many.

    ``trace``: the trace when it is read already (None: synthetic, built from ``load``).
    """
    if not math.isfinite(load.duration_s):
        return  # the reader names the bad value
    estimate = trace_stats_estimate(load, _block_requests(trace))
    announce(
        check(
            estimate,
            "inspect less traffic or a shorter trace",
            Limits.from_env(allow_large=allow_large),
        )
    )


def _merged_exactly(trace: Trace, bin_s: float) -> bool:
    """Whether ``to_counts(trace, bin_s)`` merges counts without placing a request."""
    import numpy as np

    from lfvsim.traces import CountTrace

    if not isinstance(trace, CountTrace) or np.ndim(trace.scale) or trace.scale != 1.0:
        return False
    ratio = bin_s / trace.bin_s
    return round(ratio) >= 1 and abs(ratio - round(ratio)) < 1e-9


def _block_requests(trace: Trace | None) -> float | None:
    """Most requests a pass over ``trace`` holds at once (None: its busiest hour)."""
    from lfvsim.traces import RequestTrace, StreamedRequestTrace
    from lfvsim.traces.model import REQUEST_BLOCK

    if isinstance(trace, RequestTrace | StreamedRequestTrace):
        return float(REQUEST_BLOCK)  # replayed in slices, whatever its busiest hour
    return None


def announce(estimate: Estimate) -> None:
    """One stderr line with the estimate of work that takes a while."""
    if estimate.seconds >= ANNOUNCE_S:
        typer.echo(f"lfvsim: estimate: {describe(estimate)}", err=True)
