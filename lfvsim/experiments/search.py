"""Search Min and Max together, simulating only the configurations that can win.

The grid is derived from the traffic unless given: the oracle (perfect foresight, no
delay) runs once with Min 1, and its peak units ``P`` bound the search: Min ``1..P`` (a
fleet of ``P`` units serves the busiest minute without auto-scaling) and Max up to
``ceil(P x 100 / target_percent) + 1`` (target tracking wants about ``1 / target`` times
the units the traffic fills, plus one unit of margin).

Two rules skip configurations, both from common random numbers (replication ``k`` sees the
same requests in every configuration):

- **Max never binding.** For a fixed Min, once every replication's ``peak_wanted_units``
  (the most units the autoscaler wanted before capping at Max) is at most Max, and none
  throttled "at Max", a larger Max makes every decision, and so every run, exactly the
  same: its rows are copies of that Max's rows (``reused_from_max_units`` says which),
  not simulations (:func:`lfvsim.experiments.sweep.max_cannot_matter`).
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

from lfvsim.budget import Limits, kept_traffic_bytes
from lfvsim.engine import resolve_seed
from lfvsim.errors import InputError
from lfvsim.experiments.executors import (
    KEPT_TRAFFIC_BYTES,
    LocalExecutor,
    keep_traffic,
    make_executor,
)
from lfvsim.experiments.sequential import SequentialRule, clearly_dearer, verdict
from lfvsim.experiments.sweep import _format, _write_atomic, max_cannot_matter, sweep
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
        Sweep-shaped rows (one per configuration x replication run) for every
        configuration simulated or reused, plus the oracle rows; ``reused_from_max_units``
        (Int64) names the Max a reused row was copied from (NA: simulated). A
        configuration stopped early has fewer rows than ``replications``, marked in
        ``stopped_early`` ("pass" or "fail"; NA: every replication ran), a column
        present when the rule had an interim look.
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
    replications : int
        Replications of a configuration that runs to the end.
    runs_simulated : int
        Simulations run, the oracle's included.
    stopped_passing, stopped_failing : int
        Configurations stopped early (sequential rule) as clearly passing, clearly failing.
    early_stop : dict or None
        The sequential rule (:meth:`SequentialRule.to_dict`), None when it was off or had
        no interim look (3 replications or fewer: nothing can stop early).
    stop_reasons : list of str
        Why configurations stopped early, with numbers.
    """

    table: pd.DataFrame
    min_units: list[int]
    max_units: list[int]
    derived: bool
    oracle_peak_units: int | None
    simulated: int
    skipped: int
    reasons: list[str] = field(default_factory=list)
    replications: int = 0
    runs_simulated: int = 0
    stopped_passing: int = 0
    stopped_failing: int = 0
    early_stop: dict[str, Any] | None = None
    stop_reasons: list[str] = field(default_factory=list)

    @property
    def grid_size(self) -> int:
        """Configurations in the full grid: every Max >= Min, plus no auto-scaling."""
        return sum(1 + sum(1 for x in self.max_units if x >= m) for m in self.min_units)

    @property
    def runs_full_grid(self) -> int:
        """Simulations the full grid takes: every configuration, every replication, the oracle."""
        return (self.grid_size + 1) * self.replications

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
            "replications": self.replications,
            "runs_simulated": self.runs_simulated,
            "runs_full_grid": self.runs_full_grid,
            "stopped_early_passing": self.stopped_passing,
            "stopped_early_failing": self.stopped_failing,
            "early_stop": self.early_stop,
            "stop_reasons": list(self.stop_reasons),
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
    minute_percentile: float = 99.0,
    early_stop: SequentialRule | None = None,
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
    replications, seed, trace, workers, dask, dask_timeout_s, minute_percentile
        As for :func:`lfvsim.experiments.sweep`.
    output : path, optional
        ``.parquet`` or ``.csv`` file for the table (written once, at the end).
    progress : callable, optional
        ``progress(finished_runs, runs_so_far)``: the total grows as the search goes on.
    early_stop : SequentialRule, optional
        Run each configuration's replications in stages and stop it once its verdict is
        clear (:mod:`lfvsim.experiments.sequential`); its ``replications`` must be
        ``replications``. None runs every configuration ``replications`` times.
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`), which is checked
        once per round of configurations (the grid is not known up front).

    Returns
    -------
    SearchResult
    """
    if early_stop is not None and early_stop.replications != replications:
        raise ValueError("early_stop.replications must equal replications")
    fmt = None if output is None else _format(Path(output))
    seed = resolve_seed(seed, scenario)
    trace = trace_from_scenario(scenario) if trace is None else trace
    executor = make_executor(workers=workers, dask=dask, dask_timeout_s=dask_timeout_s)
    counter = _Counter(progress)
    # Each configuration is its own sweep: keep the replications' requests across them,
    # as far as the memory budget leaves room beside the runs (the rest are redrawn).
    max_units = None if max_units is None else list(max_units)  # read twice
    largest = scenario
    if max_units:
        top = max(int(x) for x in max_units)
        largest = scenario.with_overrides(
            {"model.max_units": max(top, scenario.model.min_units)}, source="the search's ranges"
        )
    keep_bytes = kept_traffic_bytes(
        largest, trace, replications, executor.workers, Limits.from_env(allow_large=allow_large)
    )
    with keep_traffic(min(keep_bytes, KEPT_TRAFFIC_BYTES)):
        try:

            def run(config: Config, first: int, upto: int) -> pd.DataFrame:
                lo, hi, oracle = config
                return sweep(
                    scenario,
                    min_units=[lo],
                    max_units=[hi if hi is not None else lo],
                    replications=upto,
                    first_replication=first,
                    seed=seed,
                    trace=trace,
                    oracle=oracle,
                    dask=executor,
                    progress=counter.sub(upto - first),
                    only=[config],
                    minute_percentile=minute_percentile,
                    allow_large=allow_large,
                )

            runs = _Runs(run, replications, early_stop, best_cost)
            oracle_rows = runs.full((1, None, True))
            derived = min_units is None or max_units is None
            oracle_peak = int(oracle_rows["peak_units"].max())
            mins_d, maxs_d = derived_range(scenario, oracle_peak)
            mins = sorted({int(m) for m in min_units}) if min_units is not None else mins_d
            maxs = sorted({int(x) for x in max_units}) if max_units is not None else maxs_d
            if not mins or not maxs or mins[0] < 1 or maxs[0] < 1:
                raise InputError("--min / --max: give ranges of at least 1 unit, e.g. --min 1..4")
            simulated, reasons = 0, []
            floor_from: tuple[int, float, float] | None = None
            for m in mins:
                fixed = runs.staged((m, None, False))
                simulated += 1
                fixed_cost = float(fixed["monthly_cost_usd"].mean())
                runs.top_up()
                best = best_cost(runs.table())
                if best is not None and fixed_cost > best:
                    floor_from = (m, fixed_cost, best)
                    break
                sim, reason = _max_axis(runs, m, [x for x in maxs if x >= m])
                simulated += sim
                if reason:
                    reasons.append(reason)
            runs.top_up()
            if floor_from is not None:
                m, fixed_cost, best = floor_from
                reasons.append(
                    f"Min {m} and above: {m} fixed units cost USD {fixed_cost:,.0f} a month, more "
                    f"than USD {best:,.0f} for a configuration that meets the SLO, and with "
                    f"auto-scaling the model never holds fewer than Min units"
                )
        finally:
            if executor is not dask or isinstance(executor, LocalExecutor):
                executor.close()  # a caller's LocalExecutor: only the pool kept for the search
    table = runs.table()
    table.attrs["seed"] = seed
    passing, failing = runs.stopped()
    result = SearchResult(
        table=table,
        min_units=mins,
        max_units=maxs,
        derived=derived,
        oracle_peak_units=oracle_peak if derived else None,
        simulated=simulated,
        skipped=0,
        reasons=reasons,
        replications=replications,
        runs_simulated=runs.simulations,
        stopped_passing=passing,
        stopped_failing=failing,
        early_stop=None if early_stop is None or not early_stop.looks else early_stop.to_dict(),
        stop_reasons=runs.stop_reasons(),
    )
    result = _with_skipped(result)
    if output is not None:
        _write_atomic(table, Path(output), fmt)
    return result


#: A configuration: (min_units, max_units or None, oracle_bound).
Config = tuple[int, int | None, bool]


class _Runs:
    """Every configuration's rows so far, run in stages when stopping early."""

    def __init__(
        self,
        run: Callable[[Config, int, int], pd.DataFrame],
        replications: int,
        rule: SequentialRule | None,
        best_cost: BestCost,
    ) -> None:
        self.run = run
        self.replications = replications
        self.rule = rule
        self.best_cost = best_cost
        self.rows: dict[Config, pd.DataFrame] = {}
        self.verdicts: dict[Config, str] = {}
        self.simulations = 0
        self._passes: dict[Config, tuple[int, bool]] = {}

    def passes(self, config: Config) -> bool:
        """``config`` meets the SLO on its replications so far (the usual rule)."""
        rows = self.rows[config]
        known = self._passes.get(config)
        if known is None or known[0] != len(rows):
            known = (len(rows), self.best_cost(rows) is not None)
            self._passes[config] = known
        return known[1]

    def _simulate(self, config: Config, first: int, upto: int) -> pd.DataFrame:
        got = self.run(config, first, upto)
        self.simulations += len(got)
        old = self.rows.get(config)
        self.rows[config] = got if old is None else pd.concat([old, got], ignore_index=True)
        return self.rows[config]

    def full(self, config: Config) -> pd.DataFrame:
        """Run ``config`` to every replication."""
        done = len(self.rows.get(config, ()))
        if done >= self.replications:
            return self.rows[config]
        self.verdicts.pop(config, None)
        return self._simulate(config, done, self.replications)

    def staged(self, config: Config) -> pd.DataFrame:
        """Run ``config`` look by look until the rule decides it, or to the end."""
        if self.rule is None:
            return self.full(config)
        done = 0
        while True:
            upto = self.rule.next_look(done)
            rows = self._simulate(config, done, upto)
            done = upto
            decided = verdict(rows, self.rule)
            if decided is not None:
                self.verdicts[config] = decided
                return rows
            if done >= self.replications:
                return rows

    def copy(self, source: Config, target: Config) -> pd.DataFrame:
        """``target``'s rows as copies of ``source``'s (a Max that cannot matter)."""
        rows = self.rows[source].copy()
        rows["max_units"] = target[1]
        rows["reused_from_max_units"] = source[1]
        self.rows[target] = rows
        if source in self.verdicts:
            self.verdicts[target] = self.verdicts[source]
        return rows

    def top_up(self) -> None:
        """Run on to every replication each passing configuration that could be the cheapest.

        The cheapest passing configuration, and every other passing one not clearly dearer
        (:func:`clearly_dearer`), until the cheapest has every replication.
        """
        if self.rule is None:
            return
        while True:
            passing = [c for c in self.rows if not c[2] and self.passes(c)]
            if not passing:
                return
            cost = {c: float(self.rows[c]["monthly_cost_usd"].mean()) for c in passing}
            cheapest = min(passing, key=lambda c: cost[c])
            if len(self.rows[cheapest]) < self.replications:
                self._extend(cheapest)
                continue
            short = [
                c
                for c in passing
                if len(self.rows[c]) < self.replications
                and not clearly_dearer(
                    self.rows[c]["monthly_cost_usd"],
                    self.rows[cheapest]["monthly_cost_usd"].iloc[: len(self.rows[c])],
                    self.rule,
                )
            ]
            if not short:
                return
            for c in sorted(short, key=lambda c: (c[0], c[1] or 0)):
                self._extend(c)

    def _extend(self, config: Config) -> None:
        """Every replication of ``config``: copied from its source Max while it cannot matter."""
        rows = self.rows[config]
        source = rows["reused_from_max_units"].dropna()
        if len(source):
            src: Config = (config[0], int(source.iloc[0]), False)
            src_rows = self.full(src)
            if _cannot_matter(src_rows, int(src[1] or 0)):
                self.copy(src, config)
                self.verdicts.pop(config, None)
                return
        self.full(config)

    def stopped(self) -> tuple[int, int]:
        """Configurations stopped early: (clearly passing, clearly failing)."""
        short = [c for c, r in self.rows.items() if len(r) < self.replications]
        return (
            sum(self.verdicts.get(c) == "pass" for c in short),
            sum(self.verdicts.get(c) == "fail" for c in short),
        )

    def stop_reasons(self) -> list[str]:
        """Why configurations have fewer replications, with numbers."""
        if self.rule is None:
            return []
        out = []
        for kind, one_why, many_why in (
            (
                "fail",
                "it clearly fails the SLO",
                "they clearly fail the SLO",
            ),
            (
                "pass",
                "it clearly meets the SLO and clearly costs more than the cheapest "
                "configuration that meets it",
                "they clearly meet the SLO and clearly cost more than the cheapest "
                "configuration that meets it",
            ),
        ):
            counts = [
                len(r)
                for c, r in self.rows.items()
                if len(r) < self.replications and self.verdicts.get(c) == kind
            ]
            if counts:
                after = " or ".join(str(k) for k in sorted(set(counts)))
                one = len(counts) == 1
                out.append(
                    f"{len(counts)} configuration{'' if one else 's'} stopped after {after} "
                    f"of {self.replications} replications: {one_why if one else many_why}; "
                    f"{len(counts) * self.replications - sum(counts)} runs not needed"
                )
        return out

    def table(self) -> pd.DataFrame:
        table = pd.concat(list(self.rows.values()), ignore_index=True)
        if self.rule is not None and self.rule.looks:
            # As a sweep stopping early marks them: "pass" / "fail", NA when run to the end.
            table["stopped_early"] = pd.array(
                [
                    self.verdicts.get(c) if len(r) < self.replications else None
                    for c, r in self.rows.items()
                    for _ in range(len(r))
                ],
                dtype="string",
            )
        table["max_units"] = pd.array(list(table["max_units"]), dtype="Int64")
        table["reused_from_max_units"] = pd.array(
            list(table["reused_from_max_units"]), dtype="Int64"
        )
        return table


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
    if "stopped_early" in table:  # the oracle rows ran every replication
        table["stopped_early"] = table["stopped_early"].astype("string")
    table.attrs["seed"] = t.attrs["seed"]
    runs = result.runs_simulated + len(extra)
    return SearchResult(**{**result.__dict__, "table": table, "runs_simulated": runs})


def _max_axis(runs: _Runs, m: int, maxs: list[int]) -> tuple[int, str]:
    """Max values for Min ``m`` in order until Max no longer binds; copies for the rest.

    With stopping early, a Max whose replications so far never wanted more units than it
    gives exactly the same replications as any larger Max, so the larger one would stop
    at the same look with the same verdict: copying stays exact.
    """
    for i, x in enumerate(maxs):
        got = runs.staged((m, x, False))
        wanted = int(got["peak_wanted_units"].max())
        rest = maxs[i + 1 :]
        if _cannot_matter(got, x) and rest:
            for y in rest:
                runs.copy((m, x, False), (m, y, False))
            reason = (
                f"Min {m}, Max {_span(rest)}: no replication wanted more than "
                f"{wanted} {'unit' if wanted == 1 else 'units'} at Max {x}, so a larger Max "
                f"gives the same runs (rows reused from Max {x})"
            )
            return i + 1, reason
    return len(maxs), ""


def _cannot_matter(rows: pd.DataFrame, max_units: int) -> bool:
    """A larger Max repeats ``rows`` exactly (:func:`max_cannot_matter`)."""
    at_max = int(rows["throttled_at_max"].sum()) if "throttled_at_max" in rows else 0
    return max_cannot_matter(int(rows["peak_wanted_units"].max()), at_max, max_units)


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
