"""Resource budgets: what a command is about to use, estimated before it starts.

Every command estimates the requests, simulations, memory and time it is about to use
from its inputs (units, horizon, rate, grid, replications, bins) and refuses past a limit,
before it allocates anything or touches a file. The estimates are approximate: each
resource has one calibration constant below, measured on a 2-core x86-64 machine (the
measured figure is in its comment) and rounded up, so an estimate errs on the large side.

Limits come from the environment: ``LFVSIM_MAX_MEMORY_GIB`` (default 4),
``LFVSIM_MAX_HOURS`` (default 2) and ``LFVSIM_ALLOW_LARGE=1`` (or a command's
``--allow-large``, or a library call's ``allow_large=True``), which lifts both; nothing is
started that needs more memory than the machine has.

The library's entry points (``simulate``, ``replicate``, ``sweep``, ``search``,
``compare_modes``) check once per call with :func:`check_runs`; work they start inside
:func:`checked` (each simulation of an experiment, or a command that made its own check)
is not checked again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lfvsim.errors import InputError

if TYPE_CHECKING:
    from lfvsim.traces import Trace

__all__ = [
    "MAX_GRID_VALUES",
    "BudgetError",
    "Estimate",
    "Limits",
    "TrafficLoad",
    "allow_wording",
    "check",
    "check_runs",
    "check_variant_runs",
    "checked",
    "describe",
    "grid_size",
    "kept_traffic_bytes",
    "repeated",
    "repeated_variants",
    "simulation_estimate",
    "synthetic_load",
    "trace_bins_estimate",
    "trace_load",
    "trace_stats_estimate",
    "traffic_load",
]

GIB = 1024**3

# --- calibration constants (approximate; measured figure in each comment) ---------------
#: Memory of the interpreter with numpy, pandas, numba and lfvsim loaded (230 MiB).
BASE_BYTES = 300 * 1024**2
#: Memory per simulated minute: per-minute counters, latency histogram, timeline (1,600 B).
BYTES_PER_MINUTE = 2_000
#: Time per simulated minute, traffic aside (50 us).
SECONDS_PER_MINUTE = 6e-5
#: Time per request served, throttled or refused (1.1 us).
SECONDS_PER_REQUEST = 1.5e-6
#: Memory per inference unit: its session record and counters (500 B).
BYTES_PER_UNIT = 600
#: Memory per slot of a unit: heap entries with room to grow (16 x 8 B, doubled).
BYTES_PER_SLOT = 256
#: Time per inference unit added or removed (50 us at 20,000 units).
SECONDS_PER_UNIT = 6e-5
#: Memory per place in a bounded queue, allocated up front (24 B).
BYTES_PER_QUEUE_PLACE = 24
#: Memory per request of one hour of traffic, the block replayed at once (about 40 B).
BYTES_PER_BLOCK_REQUEST = 48
#: Memory per request of a replication's traffic that a sweep's process keeps to share
#: with every configuration (arrival and service time: 16 B).
BYTES_PER_SHARED_REQUEST = 16
#: Most a process keeps of shared traffic (``lfvsim.engine.traffic``'s budget, 1 GiB).
SHARED_TRAFFIC_MAX_BYTES = 1024**3
#: Memory per interval of a trace built or written (rates, counts, calendar: about 150 B).
BYTES_PER_TRACE_BIN = 200
#: Time per interval of a trace built or written (a few us).
SECONDS_PER_TRACE_BIN = 5e-6
#: Time per request placed in its interval and counted, nothing simulated (0.25 us).
SECONDS_PER_PLACED_REQUEST = 4e-7
#: Memory per minute a trace's figures are kept for (``trace inspect``): per-minute
#: counts, sums of squares and peaks, and the arrays derived from them (34 B).
BYTES_PER_STATS_MINUTE = 64
#: Time per minute a trace's figures are kept for (0.25 us).
SECONDS_PER_STATS_MINUTE = 5e-7
#: Time per simulation beyond its traffic and units: trace, result, process hand-over
#: (about 0.1 s in a sweep).
SECONDS_PER_SIMULATION = 0.1
#: Memory per simulation's row kept in a sweep or replication table (about 1 KB).
BYTES_PER_RESULT_ROW = 2_000
#: Time per random traffic surge or line stop drawn (a Python loop: a few us).
SECONDS_PER_SURGE = 5e-6
#: Memory per random traffic surge drawn (start times, sorted: 16 B).
BYTES_PER_SURGE = 16
#: Time per random unit failure simulated: the failure, its replacement and its event
#: record in SimPy (134 us).
SECONDS_PER_FAILURE = 2e-4
#: Memory per random unit failure simulated: its event record and row (1.3 KB).
BYTES_PER_FAILURE = 2_000

#: Most unit counts one --min or --max range may list (a grid is their pairs).
MAX_GRID_VALUES = 100_000

_DEFAULT_MEMORY_GIB = 4.0
_DEFAULT_HOURS = 2.0


class BudgetError(InputError):
    """A command would use more than its budget; the message says how to proceed."""


@dataclass(frozen=True)
class Estimate:
    """What a piece of work is about to use (approximate).

    Attributes
    ----------
    requests : float
        Requests simulated, over all simulations (or trace rows written).
    simulations : int
        Simulations run.
    memory_bytes : float
        Peak memory, all processes together.
    seconds : float
        Wall-clock time.
    detail : str
        What drives the figures, for the message (e.g. "5,256,000 simulated minutes").
    memory_driver, time_driver : str
        The term that weighs most in the memory and in the time of one simulation
        ("requests", "failures", "minutes" or "units"; "" when not known), so that a
        refusal names the change that helps most.
    """

    requests: float
    simulations: int
    memory_bytes: float
    seconds: float
    detail: str = ""
    memory_driver: str = ""
    time_driver: str = ""


@dataclass(frozen=True)
class TrafficLoad:
    """Traffic in numbers: how long, how many requests, and the busiest hour."""

    duration_s: float
    requests: float
    peak_requests_per_hour: float
    bins: float = 0.0
    surges: float = 0.0


@dataclass(frozen=True)
class Limits:
    """Budget limits, from the environment (see the module's docstring)."""

    memory_gib: float = _DEFAULT_MEMORY_GIB
    hours: float = _DEFAULT_HOURS
    allow_large: bool = False
    machine_memory_gib: float = math.inf

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, allow_large: bool = False) -> Limits:
        """Limits from ``LFVSIM_MAX_MEMORY_GIB``, ``LFVSIM_MAX_HOURS``, ``LFVSIM_ALLOW_LARGE``."""
        env = os.environ if env is None else env
        allow = allow_large or env.get("LFVSIM_ALLOW_LARGE", "") not in ("", "0")
        return cls(
            memory_gib=_positive(env, "LFVSIM_MAX_MEMORY_GIB", _DEFAULT_MEMORY_GIB),
            hours=_positive(env, "LFVSIM_MAX_HOURS", _DEFAULT_HOURS),
            allow_large=allow,
            machine_memory_gib=_machine_memory_gib(),
        )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name}={text!r} is not a positive number; e.g. {name}={default:g}")
    return value


def _machine_memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return math.inf


# --- estimates ----------------------------------------------------------------------------


def synthetic_load(traffic: Any) -> TrafficLoad | None:
    """The load of a synthetic ``[traffic]`` section, from its keys alone (None for files).

    Nothing is built: a 100-year trace or a rate of 10^12 is costed, not allocated.
    """
    kind = getattr(traffic, "kind", "")
    if kind == "constant":
        mean_tps = peak_tps = traffic.rate_tps
    elif kind == "diurnal":
        mean_tps = traffic.mean_tps
        # The sine's peak: mean x (1 + a), a = (r - 1) / (r + 1).
        ratio = traffic.peak_to_trough
        peak_tps = mean_tps * (1 + (ratio - 1) / (ratio + 1))
    elif kind == "factory":
        peak_tps = max(traffic.peak_tps, traffic.idle_tps)
        mean_tps = peak_tps  # an upper bound: shifts are not laid out here
    else:
        return None
    duration_s = traffic.duration_h * 3600.0
    days = duration_s / 86400.0
    surges = traffic.spikes_per_day * days + getattr(traffic, "line_stops_per_day", 0.0) * days
    # Overlapping surges add up; on average a share spikes_per_day x length / day of the
    # time is surging. A surge ends with the trace, so no longer than the trace counts.
    surge_s = min(traffic.spike_duration_s, duration_s)
    surge_share = traffic.spikes_per_day * surge_s / 86400.0
    surge = 1.0 + max(traffic.spike_multiplier - 1.0, 0.0) * surge_share
    growth = (1 + traffic.growth_percent_per_month / 100.0) ** (duration_s / (30 * 86400.0))
    factor = traffic.scale * surge * max(growth, 1.0)
    peak_hour = peak_tps * traffic.scale * max(growth, 1.0) * 3600.0
    if traffic.spikes_per_day:
        peak_hour *= max(traffic.spike_multiplier, 1.0)
    return TrafficLoad(
        duration_s=duration_s,
        requests=mean_tps * duration_s * factor,
        peak_requests_per_hour=peak_hour,
        bins=duration_s / 60.0,
        surges=surges,
    )


def trace_load(trace: Trace) -> TrafficLoad:
    """Duration, requests and busiest hour of a trace that is already read.

    The busiest hour is an upper bound: the busiest interval's rate for a counts or rates
    trace, at most two consecutive hours' requests for a per-request one (counted as the
    file was read when it is streamed from disk).
    """
    import numpy as np  # here, so that importing the budget stays light (lfvsim --help)

    from lfvsim.traces import CountTrace, RateTrace, RequestTrace, StreamedRequestTrace
    from lfvsim.traces.model import busiest_hour_bound

    requests = float(trace.expected_requests)
    peak_hour = requests  # an upper bound when nothing finer is known
    if isinstance(trace, CountTrace) and len(trace.counts):
        per_bin = float(np.max(trace.counts * np.asarray(trace.scale, dtype=float)))
        peak_hour = per_bin * max(1.0, 3600.0 / trace.bin_s)
    elif isinstance(trace, RateTrace) and len(trace.rates_tps):
        peak_hour = float(np.max(trace.rates_tps)) * 3600.0
    elif isinstance(trace, RequestTrace) and len(trace.times_s):
        # Sorted times: each hour's requests lie between two searches.
        edges_s = np.arange(0.0, float(trace.times_s[-1]) + 3600.0, 3600.0)
        counts = np.diff(np.searchsorted(trace.times_s, edges_s), append=len(trace.times_s))
        peak_hour = busiest_hour_bound(np.arange(len(counts)), counts)
    elif isinstance(trace, StreamedRequestTrace):
        peak_hour = trace.peak_requests_per_hour  # counted when the file was read
    return TrafficLoad(trace.duration_s, requests, min(peak_hour, requests))


def traffic_load(scenario: Any, trace: Trace | None = None) -> tuple[Trace | None, TrafficLoad]:
    """The load of ``trace``, else of the scenario's traffic: costed from its keys when
    synthetic (nothing built), else read (returned, so that it is read once)."""
    if trace is not None:
        return None, trace_load(trace)
    load = synthetic_load(scenario.traffic)
    if load is not None:
        return None, load
    from lfvsim.traces.schema import trace_from_scenario

    read = trace_from_scenario(scenario)
    return read, trace_load(read)


def simulation_estimate(scenario: Any, load: TrafficLoad) -> Estimate:
    """One simulation of ``scenario`` on traffic ``load``.

    Parameters
    ----------
    scenario : Scenario
        Units, slots, queue and horizon come from it.
    load : TrafficLoad
        The trace's duration, requests and busiest hour.
    """
    horizon_s = load.duration_s
    horizon_h = scenario.simulation.horizon_h
    if horizon_h is not None:
        horizon_s = min(horizon_s, horizon_h * 3600.0)
    share = horizon_s / load.duration_s if load.duration_s > 0 else 1.0
    requests = load.requests * min(share, 1.0)
    minutes = max(1.0, math.ceil(horizon_s / 60.0))
    model = scenario.model
    units = float(max(model.min_units, model.max_units or 0))
    unit = scenario.unit
    queue = unit.queue_limit if unit.when_busy == "queue" and unit.queue_limit else 0
    failures = _unit_failures(scenario, units, horizon_s)
    memory_terms = {
        "minutes": minutes * BYTES_PER_MINUTE,
        "units": units * (BYTES_PER_UNIT + unit.slots * BYTES_PER_SLOT)
        + queue * BYTES_PER_QUEUE_PLACE,
        "requests": min(load.peak_requests_per_hour, requests) * BYTES_PER_BLOCK_REQUEST
        + load.bins * BYTES_PER_TRACE_BIN
        + load.surges * BYTES_PER_SURGE,
        "failures": failures * BYTES_PER_FAILURE,
    }
    time_terms = {
        "minutes": minutes * SECONDS_PER_MINUTE,
        "units": units * SECONDS_PER_UNIT,
        "requests": requests * SECONDS_PER_REQUEST
        + load.bins * SECONDS_PER_TRACE_BIN
        + load.surges * SECONDS_PER_SURGE,
        "failures": failures * SECONDS_PER_FAILURE,
    }
    memory = BASE_BYTES + sum(memory_terms.values())
    seconds = SECONDS_PER_SIMULATION + sum(time_terms.values())
    plural = "s" if units != 1 else ""
    detail = f"{minutes:,.0f} simulated minutes, {units:,.0f} unit{plural} x {unit.slots:,} slots"
    if queue:
        detail += f", a queue of {queue:,}"
    if failures >= 1:
        detail += f", about {failures:,.0f} unit failures"
    return Estimate(
        requests,
        1,
        memory,
        seconds,
        detail,
        memory_driver=max(memory_terms, key=lambda k: memory_terms[k]),
        time_driver=max(time_terms, key=lambda k: time_terms[k]),
    )


def _unit_failures(scenario: Any, units: float, horizon_s: float) -> float:
    """Random unit failures expected in a run, as if every unit served throughout."""
    mtbf_h = scenario.failures.unit_mtbf_h
    return 0.0 if mtbf_h is None else units * horizon_s / (mtbf_h * 3600.0)


def repeated(
    one: Estimate, simulations: int, workers: int = 1, shared_traffic: bool = False
) -> Estimate:
    """``simulations`` runs like ``one``, ``workers`` at a time (each a process).

    With ``shared_traffic`` each process also keeps one replication's requests to replay
    in every configuration (a sweep).
    """
    workers = max(1, min(workers, simulations))
    shared = 0.0
    if shared_traffic:
        shared = min(one.requests * BYTES_PER_SHARED_REQUEST, SHARED_TRAFFIC_MAX_BYTES)
    return Estimate(
        requests=one.requests * simulations,
        simulations=one.simulations * simulations,
        memory_bytes=(one.memory_bytes + shared) * workers + simulations * BYTES_PER_RESULT_ROW,
        seconds=one.seconds * math.ceil(simulations / workers),
        detail=f"{simulations:,} runs on {workers} worker{'s' if workers > 1 else ''}; "
        f"each {one.detail}",
        memory_driver=one.memory_driver,
        time_driver=one.time_driver,
    )


def repeated_variants(
    ones: Sequence[Estimate], simulations_each: int, workers: int = 1, shared_traffic: bool = False
) -> Estimate:
    """``simulations_each`` runs of each variant in ``ones`` (a sweep's ``--vary``
    combinations), ``workers`` at a time.

    Requests and time are summed over the variants; memory is the heaviest variant's, its
    runs on every worker at once (a worker runs one variant at a time), plus every row.
    So a variant too big alone is refused, and light variants are not costed as heavy.
    """
    if len(ones) == 1:
        return repeated(ones[0], simulations_each, workers, shared_traffic)
    each = [repeated(one, simulations_each, workers, shared_traffic) for one in ones]
    rows_each = simulations_each * BYTES_PER_RESULT_ROW
    heaviest = max(range(len(ones)), key=lambda i: each[i].memory_bytes)
    total = simulations_each * len(ones)
    workers = max(1, min(workers, total))
    return Estimate(
        requests=sum(e.requests for e in each),
        simulations=sum(e.simulations for e in each),
        memory_bytes=each[heaviest].memory_bytes - rows_each + total * BYTES_PER_RESULT_ROW,
        seconds=sum(e.seconds for e in each),
        detail=f"{total:,} runs of {len(ones):,} variants on {workers} worker"
        f"{'s' if workers > 1 else ''}; the heaviest each {ones[heaviest].detail}",
        memory_driver=ones[heaviest].memory_driver,
        time_driver=ones[heaviest].time_driver,
    )


def kept_traffic_bytes(
    scenario: Any,
    trace: Trace | None,
    replications: int,
    workers: int = 1,
    limits: Limits | None = None,
) -> int:
    """Most bytes of requests a search may keep across its configurations.

    Every replication's requests (:data:`BYTES_PER_SHARED_REQUEST` each), at most
    :data:`SHARED_TRAFFIC_MAX_BYTES`, and no more than the memory budget leaves beside
    the runs themselves (``replications`` runs of ``scenario``, ``workers`` at a time):
    what is not kept is drawn again (same results), so keeping never makes work refused
    or past the budget. With large work allowed, the machine's memory is the limit.
    """
    limits = Limits.from_env() if limits is None else limits
    _, load = traffic_load(scenario, trace)
    one = simulation_estimate(scenario, load)
    replications = max(replications, 1)
    runs = repeated(one, replications, workers, shared_traffic=True)
    limit_gib = limits.machine_memory_gib
    if not limits.allow_large:
        limit_gib = min(limit_gib, limits.memory_gib)
    room = limit_gib * GIB - runs.memory_bytes
    # A replication's random count may exceed the expectation: room for a quarter more.
    wanted = replications * (1.25 * one.requests + 1024) * BYTES_PER_SHARED_REQUEST
    return int(max(0.0, min(room, wanted, SHARED_TRAFFIC_MAX_BYTES)))


def trace_bins_estimate(
    load: TrafficLoad,
    bin_s: float,
    rows: bool = False,
    sampled: bool = True,
    block_requests: float | None = None,
) -> Estimate:
    """Writing a trace of ``load`` as intervals of ``bin_s``, or as request rows.

    Parameters
    ----------
    load : TrafficLoad
        The trace's duration, requests and busiest hour (``bins``: intervals it still has
        to build).
    bin_s : float
        Interval of the counts written.
    rows : bool
        One row per request instead of counts.
    sampled : bool
        Whether counting places every request (a synthetic trace, or counts re-binned
        finer); False when counts are merged exactly, without placing a request.
    block_requests : float, optional
        Most requests placed at once (default: the busiest hour).
    """
    bins = load.duration_s / bin_s + load.bins
    placed = rows or sampled
    requests = load.requests if placed else 0.0
    block = _block(load, block_requests) if placed else 0.0
    memory = (
        BASE_BYTES
        + bins * BYTES_PER_TRACE_BIN
        + block * BYTES_PER_BLOCK_REQUEST
        + load.surges * BYTES_PER_SURGE
    )
    seconds = (
        bins * SECONDS_PER_TRACE_BIN
        + requests * (SECONDS_PER_REQUEST if rows else SECONDS_PER_PLACED_REQUEST)
        + load.surges * SECONDS_PER_SURGE
    )
    detail = f"{load.duration_s / bin_s:,.0f} intervals of {bin_s:g} s"
    return Estimate(requests, 0, memory, seconds, detail)


def trace_stats_estimate(load: TrafficLoad, block_requests: float | None = None) -> Estimate:
    """Describing a trace of ``load`` (``trace inspect``): every request is placed, block by
    block, and a few figures are kept per minute.

    ``block_requests``: most requests placed at once (default: the busiest hour).
    """
    minutes = max(1.0, math.ceil(load.duration_s / 60.0))
    block = _block(load, block_requests)
    memory = (
        BASE_BYTES
        + minutes * BYTES_PER_STATS_MINUTE
        + load.bins * BYTES_PER_TRACE_BIN
        + block * BYTES_PER_BLOCK_REQUEST
        + load.surges * BYTES_PER_SURGE
    )
    seconds = (
        minutes * SECONDS_PER_STATS_MINUTE
        + load.bins * SECONDS_PER_TRACE_BIN
        + load.requests * SECONDS_PER_PLACED_REQUEST
        + load.surges * SECONDS_PER_SURGE
    )
    return Estimate(load.requests, 0, memory, seconds, f"{minutes:,.0f} minutes described")


def _block(load: TrafficLoad, block_requests: float | None) -> float:
    peak = load.peak_requests_per_hour if block_requests is None else block_requests
    return min(peak, load.requests)


def grid_size(ranges: list[tuple[int, int]]) -> int:
    """Values in ranges ``[(low, high), ...]`` (overlaps counted twice: an upper bound)."""
    return sum(max(hi - lo + 1, 0) for lo, hi in ranges)


# --- checks -------------------------------------------------------------------------------


def describe(estimate: Estimate) -> str:
    """The estimate in words: 'about 9.8 GiB and 6 min (...)'."""
    runs = estimate.simulations
    what = [f"{_count(estimate.requests)} requests"] if estimate.requests or runs else []
    if runs:
        what.append(f"{runs:,} simulation{'s' if runs != 1 else ''}")
    if estimate.detail:
        what.append(estimate.detail)
    return (
        f"about {_size(estimate.memory_bytes)} of memory and {_duration(estimate.seconds)} "
        f"({', '.join(what)}; estimates are approximate)"
    )


def check(
    estimate: Estimate,
    how_to_shrink: str,
    limits: Limits | None = None,
    how_to_allow: str | None = None,
) -> Estimate:
    """Refuse ``estimate`` past the limits, with one line that says how to proceed.

    Parameters
    ----------
    estimate : Estimate
        What the work would use.
    how_to_shrink : str
        The smaller request that fits, e.g. "simulate a shorter horizon (--horizon-h)".
    limits : Limits, optional
        Default: :meth:`Limits.from_env`.
    how_to_allow : str, optional
        How to lift the budget; default: the wording set by :func:`allow_wording` (a
        library call's keyword outside any command).

    Returns
    -------
    Estimate
        ``estimate``, when it fits.

    Raises
    ------
    BudgetError
        Over the memory or time budget (unless large work is allowed), or over the
        machine's memory (always).
    """
    limits = Limits.from_env() if limits is None else limits
    how_to_allow = _HOW_TO_ALLOW.get() if how_to_allow is None else how_to_allow
    memory_gib = estimate.memory_bytes / GIB
    hours = estimate.seconds / 3600.0
    if not memory_gib <= limits.machine_memory_gib:
        how_to_shrink = _driver_first(estimate.memory_driver, how_to_shrink)
        raise BudgetError(
            f"this needs {describe(estimate)}, more than this machine's "
            f"{limits.machine_memory_gib:,.0f} GiB; {how_to_shrink}"
        )
    if limits.allow_large:
        return estimate
    over = []
    if not memory_gib <= limits.memory_gib:
        over.append(f"the {limits.memory_gib:g} GiB memory budget (LFVSIM_MAX_MEMORY_GIB)")
    if not hours <= limits.hours:
        over.append(f"the {limits.hours:g} h time budget (LFVSIM_MAX_HOURS)")
    if over:
        driver = estimate.memory_driver if memory_gib > limits.memory_gib else ""
        how_to_shrink = _driver_first(driver or estimate.time_driver, how_to_shrink)
        raise BudgetError(
            f"this needs {describe(estimate)}, over {' and '.join(over)}; {how_to_shrink}, "
            f"or allow it with {how_to_allow} or a larger budget"
        )
    return estimate


#: What shrinks each driver of an estimate, and the words that show the caller's advice
#: says it already.
_DRIVER_ADVICE = {
    "requests": (
        "most of it is the traffic: replay less of it (a --scale below 1, traffic.scale, "
        "or a shorter trace)",
        ("traffic", "scale"),
    ),
    "failures": (
        "most of it is unit failures: give a longer failures.unit_mtbf_h",
        ("unit_mtbf_h",),
    ),
}


def _driver_first(driver: str, how_to_shrink: str) -> str:
    """``how_to_shrink``, led by what shrinks the dominant term unless it says it already."""
    advice, words = _DRIVER_ADVICE.get(driver, ("", ()))
    if not advice or any(word in how_to_shrink for word in words):
        return how_to_shrink
    return f"{advice}; else {how_to_shrink}"


# --- library entry points ---------------------------------------------------------------

#: Whether the work running now was costed already (by a command, or an experiment).
_CHECKED: ContextVar[bool] = ContextVar("lfvsim_budget_checked", default=False)

#: How a library caller lifts the budget.
LIBRARY_ALLOW = "allow_large=True (LFVSIM_ALLOW_LARGE=1)"

#: How whoever started the work running now can lift the budget: a library call's keyword
#: unless a command said otherwise (its option, or only the environment variable).
_HOW_TO_ALLOW: ContextVar[str] = ContextVar("lfvsim_budget_how_to_allow", default=LIBRARY_ALLOW)


@contextmanager
def allow_wording(how_to_allow: str) -> Iterator[None]:
    """Name ``how_to_allow`` in every budget refusal inside, the library's included.

    A command says what its user can pass (``--allow-large``, or only
    ``LFVSIM_ALLOW_LARGE=1``), so a refusal raised deep in the library still names it.
    """
    token = _HOW_TO_ALLOW.set(how_to_allow)
    try:
        yield
    finally:
        _HOW_TO_ALLOW.reset(token)


@contextmanager
def checked() -> Iterator[None]:
    """Run work already costed: the library's entry points inside do not check again."""
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def check_runs(
    scenario: Any,
    trace: Trace | None = None,
    simulations: int = 1,
    workers: int = 1,
    *,
    shared_traffic: bool = False,
    allow_large: bool = False,
    how_to_shrink: str = "simulate a shorter horizon (simulation.horizon_h) or fewer units",
) -> Trace | None:
    """Refuse ``simulations`` runs of ``scenario`` past the budget (a library call).

    Nothing is checked inside :func:`checked`. Returns the scenario's trace when it had to
    be read to cost it (pass it on, so that it is read once), else None.

    Raises
    ------
    BudgetError
        Over the budget; the message gives the estimate and how to proceed.
    """
    if _CHECKED.get():
        return None
    read, load = traffic_load(scenario, trace)
    one = simulation_estimate(scenario, load)
    estimate = one
    if simulations != 1 or workers != 1:
        estimate = repeated(one, max(simulations, 1), workers, shared_traffic)
    check(estimate, how_to_shrink, Limits.from_env(allow_large=allow_large))
    return read


def check_variant_runs(
    scenarios: Sequence[Any],
    traces: Sequence[Trace],
    simulations_each: int,
    workers: int = 1,
    *,
    shared_traffic: bool = False,
    allow_large: bool = False,
    how_to_shrink: str = "simulate a shorter horizon (simulation.horizon_h) or fewer units",
) -> None:
    """Refuse ``simulations_each`` runs of every scenario (on its trace) past the budget,
    costed together (:func:`repeated_variants`); nothing is checked inside :func:`checked`.

    Raises
    ------
    BudgetError
        Over the budget; the message gives the estimate and how to proceed.
    """
    if _CHECKED.get():
        return
    ones = [
        simulation_estimate(sc, trace_load(trace))
        for sc, trace in zip(scenarios, traces, strict=True)
    ]
    estimate = ones[0] if len(ones) == 1 and simulations_each == workers == 1 else None
    if estimate is None:
        estimate = repeated_variants(ones, max(simulations_each, 1), workers, shared_traffic)
    check(estimate, how_to_shrink, Limits.from_env(allow_large=allow_large))


def _count(n: float) -> str:
    if not math.isfinite(n):
        return "unbounded"
    return f"{n:,.0f}" if n < 1e7 else f"{n:.2g}"


def _size(n_bytes: float) -> str:
    if not math.isfinite(n_bytes):
        return "unbounded memory"
    gib = n_bytes / GIB
    if gib >= 1024:
        return f"{gib / 1024:,.3g} TiB" if gib < 1024**2 else f"{gib / 1024**2:,.3g} PiB"
    return f"{gib:.2g} GiB" if gib >= 1 else f"{n_bytes / 1024**2:,.0f} MiB"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unbounded time"
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.3g} h"
    if seconds < 3 * 365 * 86400:
        return f"{seconds / 86400:,.3g} days"
    return f"{seconds / (365 * 86400):,.3g} years"
