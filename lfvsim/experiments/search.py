"""Search Min and Max together, simulating only the configurations that can win.

The grid is derived from the traffic unless given: the oracle (perfect foresight, no
delay) runs once with Min 1, and its peak units ``P`` bound the search: Min ``1..P`` (a
fleet of ``P`` units serves the busiest minute without auto-scaling) and Max up to
``ceil(P x 100 / target_percent) + 1`` (target tracking wants about ``1 / target`` times
the units the traffic fills, plus one unit of margin).

Two rules skip configurations, both from common random numbers (replication ``k`` sees the
same requests in every configuration):

- **Max never binding.** For a fixed Min, once every replication's ``peak_wanted_units``
  (the most units the autoscaler wanted before capping at Max) is at most Max, a larger Max
  makes every decision, and so every run, exactly the same: its rows are copies of that
  Max's rows (``reused_from_max_units`` says which), not simulations.
- **Cost floor.** With auto-scaling the model never holds fewer than Min units, so no
  configuration with that Min (or a larger one) costs less than Min fixed units. Once some
  configuration meets the SLO more cheaply than Min fixed units cost, that Min and every
  larger one are skipped. Failures can make one run's auto-scaled cost dip below the fixed
  one's; the rule compares means, where that does not happen in practice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lfvsim.engine import resolve_seed
from lfvsim.errors import InputError
from lfvsim.experiments.executors import make_executor
from lfvsim.experiments.sweep import _format, _write_atomic, sweep
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace, trace_from_scenario

__all__ = ["SearchResult", "add_oracle", "derived_range", "search"]

#: Cheapest cost (USD a month) meeting the SLO in a partial table, or None.
BestCost = Callable[[pd.DataFrame], float | None]


@dataclass(frozen=True)
class SearchResult:
    """A pruned (Min, Max) search: its table and what was simulated.

    Attributes
    ----------
    table : pandas.DataFrame
        Sweep-shaped rows (one per configuration x replication) for every configuration
        simulated or reused, plus the oracle rows; ``reused_from_max_units`` (Int64) names
        the Max a reused row was copied from (NA: simulated).
    min_units, max_units : list of int
        The grid searched.
    derived : bool
        The grid came from the traffic (the oracle's peak units), not from --min / --max.
    oracle_peak_units : int or None
        The oracle's peak units with Min 1 (None when the grid was given).
    simulated, skipped : int
        Configurations (Min, Max or no auto-scaling) simulated, and not simulated.
    reasons : list of str
        Why each group of configurations was skipped, with numbers.
    """

    table: pd.DataFrame
    min_units: list[int]
    max_units: list[int]
    derived: bool
    oracle_peak_units: int | None
    simulated: int
    skipped: int
    reasons: list[str] = field(default_factory=list)

    @property
    def grid_size(self) -> int:
        """Configurations in the full grid: every Max >= Min, plus no auto-scaling."""
        return sum(1 + sum(1 for x in self.max_units if x >= m) for m in self.min_units)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready account of the search."""
        return {
            "min_units": self.min_units,
            "max_units": self.max_units,
            "derived_from_traffic": self.derived,
            "oracle_peak_units": self.oracle_peak_units,
            "configurations": self.grid_size,
            "simulated": self.simulated,
            "skipped": self.skipped,
            "reasons": list(self.reasons),
        }


def derived_range(scenario: Scenario, oracle_peak_units: int) -> tuple[list[int], list[int]]:
    """Min and Max to search for traffic whose oracle needs ``oracle_peak_units`` at peak.

    Min ``1..P``; Max ``1..ceil(P x 100 / target_percent) + 1``.
    """
    peak = max(1, int(oracle_peak_units))
    target = scenario.autoscaler.target_percent
    top_max = math.ceil(peak * 100.0 / target - 1e-9) + 1
    return list(range(1, peak + 1)), list(range(1, max(top_max, peak + 1) + 1))


def search(
    scenario: Scenario,
    best_cost: BestCost,
    *,
    min_units: Iterable[int] | None = None,
    max_units: Iterable[int] | None = None,
    replications: int = 10,
    seed: int | None = None,
    trace: Trace | None = None,
    output: str | Path | None = None,
    workers: int | None = None,
    dask: Any = None,
    dask_timeout_s: float = 10.0,
    progress: Callable[[int, int], None] | None = None,
    allow_large: bool = False,
) -> SearchResult:
    """Search Min and Max together, skipping configurations that cannot be the cheapest.

    Parameters
    ----------
    scenario : Scenario
        The base scenario; its own Min and Max are replaced.
    best_cost : callable
        ``best_cost(table)``: the mean monthly cost of the cheapest configuration of a
        (partial) sweep table that meets the SLO, or None; drives the cost floor.
    min_units, max_units : iterable of int, optional
        The grid; default derived from the traffic (see :func:`derived_range`).
    replications, seed, trace, workers, dask, dask_timeout_s
        As for :func:`lfvsim.experiments.sweep`.
    output : path, optional
        ``.parquet`` or ``.csv`` file for the table (written once, at the end).
    progress : callable, optional
        ``progress(finished_runs, runs_so_far)``: the total grows as the search goes on.
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`), which is checked
        once per round of configurations (the grid is not known up front).

    Returns
    -------
    SearchResult
    """
    fmt = None if output is None else _format(Path(output))
    seed = resolve_seed(seed, scenario)
    trace = trace_from_scenario(scenario) if trace is None else trace
    executor = make_executor(workers=workers, dask=dask, dask_timeout_s=dask_timeout_s)
    counter = _Counter(progress)
    try:

        def run(configs: list[tuple[int, int | None, bool]]) -> pd.DataFrame:
            mins = sorted({c[0] for c in configs})
            maxs = sorted({c[1] for c in configs if c[1] is not None}) or mins
            return sweep(
                scenario,
                min_units=mins,
                max_units=maxs,
                replications=replications,
                seed=seed,
                trace=trace,
                oracle=any(c[2] for c in configs),
                dask=executor,
                progress=counter.sub(len(configs) * replications),
                only=configs,
                allow_large=allow_large,
            )

        parts = [run([(1, None, True)])]
        derived = min_units is None or max_units is None
        oracle_peak = int(parts[0]["peak_units"].max())
        mins_d, maxs_d = derived_range(scenario, oracle_peak)
        mins = sorted({int(m) for m in min_units}) if min_units is not None else mins_d
        maxs = sorted({int(x) for x in max_units}) if max_units is not None else maxs_d
        if not mins or not maxs or mins[0] < 1 or maxs[0] < 1:
            raise InputError("--min / --max: give ranges of at least 1 unit, e.g. --min 1..4")
        simulated, reasons = 0, []
        floor_from: tuple[int, float, float] | None = None
        for m in mins:
            fixed = run([(m, None, False)])
            parts.append(fixed)
            simulated += 1
            fixed_cost = float(fixed["monthly_cost_usd"].mean())
            best = best_cost(pd.concat(parts, ignore_index=True))
            if best is not None and fixed_cost > best:
                floor_from = (m, fixed_cost, best)
                break
            sim, rows, reason = _max_axis(run, m, [x for x in maxs if x >= m])
            simulated += sim
            parts += rows
            if reason:
                reasons.append(reason)
        if floor_from is not None:
            m, fixed_cost, best = floor_from
            reasons.append(
                f"Min {m} and above: {m} fixed units cost USD {fixed_cost:,.0f} a month, more "
                f"than USD {best:,.0f} for a configuration that meets the SLO, and with "
                f"auto-scaling the model never holds fewer than Min units"
            )
    finally:
        if executor is not dask:
            executor.close()
    table = pd.concat(parts, ignore_index=True)
    table["max_units"] = pd.array(list(table["max_units"]), dtype="Int64")
    table["reused_from_max_units"] = pd.array(
        list(table.get("reused_from_max_units", pd.Series([None] * len(table)))), dtype="Int64"
    )
    table.attrs["seed"] = seed
    result = SearchResult(
        table=table,
        min_units=mins,
        max_units=maxs,
        derived=derived,
        oracle_peak_units=oracle_peak if derived else None,
        simulated=simulated,
        skipped=0,
        reasons=reasons,
    )
    result = _with_skipped(result)
    if output is not None:
        _write_atomic(table, Path(output), fmt)
    return result


def add_oracle(
    result: SearchResult, scenario: Scenario, min_units: int, **kwargs: Any
) -> SearchResult:
    """``result`` with the oracle rows for ``min_units`` (for the oracle gap of a choice)."""
    t = result.table
    if ((t["min_units"] == min_units) & t["oracle_bound"]).any():
        return result
    reps = int(t["replication"].nunique())
    extra = sweep(
        scenario,
        min_units=[min_units],
        max_units=[min_units],
        replications=reps,
        seed=t.attrs["seed"],
        oracle=True,
        only=[(min_units, None, True)],
        **kwargs,
    )
    table = pd.concat([t, extra], ignore_index=True)
    table["max_units"] = pd.array(list(table["max_units"]), dtype="Int64")
    table["reused_from_max_units"] = pd.array(list(table["reused_from_max_units"]), dtype="Int64")
    table.attrs["seed"] = t.attrs["seed"]
    return SearchResult(**{**result.__dict__, "table": table})


def _max_axis(
    run: Callable[[list[tuple[int, int | None, bool]]], pd.DataFrame], m: int, maxs: list[int]
) -> tuple[int, list[pd.DataFrame], str]:
    """Max values for Min ``m`` in order until Max no longer binds; copies for the rest."""
    rows: list[pd.DataFrame] = []
    for i, x in enumerate(maxs):
        got = run([(m, x, False)])
        rows.append(got)
        wanted = int(got["peak_wanted_units"].max())
        rest = maxs[i + 1 :]
        if wanted <= x and rest:
            for y in rest:
                copy = got.copy()
                copy["max_units"] = y
                copy["reused_from_max_units"] = x
                rows.append(copy)
            reason = (
                f"Min {m}, Max {_span(rest)}: no replication wanted more than {wanted} units "
                f"at Max {x}, so a larger Max gives the same runs (rows reused from Max {x})"
            )
            return i + 1, rows, reason
    return len(maxs), rows, ""


def _with_skipped(result: SearchResult) -> SearchResult:
    return SearchResult(**{**result.__dict__, "skipped": result.grid_size - result.simulated})


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}..{values[-1]}"


class _Counter:
    """Runs finished over all the sub-sweeps of a search, for one progress bar."""

    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
        self.progress = progress
        self.done = 0
        self.total = 0

    def sub(self, runs: int) -> Callable[[int, int], None] | None:
        if self.progress is None:
            return None
        base = self.done
        self.total += runs
        outer = self.progress

        def update(done: int, total: int) -> None:
            self.done = base + done
            outer(self.done, self.total)

        return update
