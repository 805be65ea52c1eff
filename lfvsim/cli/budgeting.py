"""The budget check every command makes before it starts (the rules: lfvsim.budget)."""

from __future__ import annotations

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
    simulation_estimate,
    synthetic_load,
    trace_bins_estimate,
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


def trace_load(trace: Trace) -> TrafficLoad:
    """Duration, requests and busiest hour of a trace that is already read."""
    import numpy as np

    from lfvsim.traces import CountTrace, RateTrace

    requests = float(trace.expected_requests)
    peak_hour = requests  # an upper bound when the trace has no intervals
    if isinstance(trace, CountTrace) and len(trace.counts):
        per_bin = float(np.max(trace.counts * np.asarray(trace.scale, dtype=float)))
        peak_hour = per_bin * max(1.0, 3600.0 / trace.bin_s)
    elif isinstance(trace, RateTrace) and len(trace.rates_tps):
        peak_hour = float(np.max(trace.rates_tps)) * 3600.0
    return TrafficLoad(trace.duration_s, requests, min(peak_hour, requests))


def synthetic_or_read(scenario: Any) -> tuple[Trace | None, TrafficLoad]:
    """The scenario's traffic load: costed from its keys when synthetic (nothing built),
    else read (the trace is returned so that it is read once)."""
    from lfvsim.traces.schema import trace_from_scenario

    load = synthetic_load(scenario.traffic)
    if load is not None:
        return None, load
    trace = trace_from_scenario(scenario)
    return trace, trace_load(trace)


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
) -> Trace | None:
    """Refuse a sweep past the budget: runs x the largest configuration's simulation.

    Bad ``--vary`` values and a ``--max`` wholly below ``--min`` are refused first, so that
    the error is the only line printed.
    """
    from lfvsim.experiments.executors import cpu_count  # the CLI's floor may reach down
    from lfvsim.experiments.sweep import check_vary

    if max(maxs) < min(mins):
        raise InputError(
            f"every --max value is below the smallest --min ({min(mins)}): no auto-scaled "
            "configuration to try; give Max values >= Min"
        )
    check_vary(scenario, vary)

    configurations = sum(sum(1 for x in maxs if x >= m) + 1 + int(oracle) for m in mins)
    configurations *= math.prod(len(values) for values in vary.values())
    runs = configurations * max(replications, 0)
    top_min = max(mins)
    largest = scenario.with_overrides(
        {"model.min_units": top_min, "model.max_units": max(max(maxs), top_min)},
        source="the sweep's largest configuration",
    )
    trace, load = synthetic_or_read(largest)
    one = simulation_estimate(largest, load)
    workers = min(workers or cpu_count(), cpu_count())
    estimate = repeated(one, max(runs, 1), workers, shared_traffic=configurations > 1)
    shrink = "give smaller --min/--max ranges or fewer --replications"
    announce(check(estimate, shrink, Limits.from_env(allow_large=allow_large)))
    return trace


def check_trace_output(
    load: TrafficLoad, bin_s: float, rows: bool = False, allow_large: bool = False
) -> None:
    """Refuse writing a trace of too many intervals or request rows (``rows``)."""
    if not (bin_s > 0 and math.isfinite(load.duration_s)):
        return  # the writer names the bad value
    estimate = trace_bins_estimate(load, bin_s, rows)
    announce(
        check(
            estimate,
            f"use a coarser --bin-s (e.g. {max(60.0, bin_s):g}), less traffic or a shorter trace",
            Limits.from_env(allow_large=allow_large),
        )
    )


def announce(estimate: Estimate) -> None:
    """One stderr line with the estimate of work that takes a while."""
    if estimate.seconds >= ANNOUNCE_S:
        typer.echo(f"lfvsim: estimate: {describe(estimate)}", err=True)
