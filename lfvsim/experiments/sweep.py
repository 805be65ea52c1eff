"""(Min, Max) sweeps: every configuration, replicated with common random numbers, resumable.

Replication ``k`` of every configuration runs with the same seed, so all configurations see
the same arrivals and the same service times in a given replication (common random
numbers): the difference between two configurations is the configuration, not noise.

With an output file, each finished run is written at once, atomically, as a small part
file in the hidden folder ``.<name>.parts/`` beside the output. Re-running the same sweep
into the same output skips the runs already there; the output itself is replaced
atomically when the sweep is complete, so an interrupted sweep never leaves a corrupt file.

The sweep holds an exclusive lock (``flock`` on ``.<name>.parts/lock``) while it runs: a
second sweep into the same output is refused, not interleaved. Each part file carries the
sweep's fingerprint (scenario, trace, seed, lfvsim version) and its point of the grid (Min,
Max, oracle, replication, seed, varied values); a part of another sweep is refused, never
merged.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lfvsim import __version__
from lfvsim.atomic import atomic_path, check_replaceable, clean_stale, write_text_atomic
from lfvsim.budget import check_variant_runs
from lfvsim.engine import resolve_seed
from lfvsim.engine.busy import check_minute_percentile
from lfvsim.errors import InputError
from lfvsim.experiments.executors import Task, Workload, cpu_count, make_executor
from lfvsim.experiments.replicate import (
    replication_seeds,
    run_tasks,
    summary_record,
)
from lfvsim.experiments.sequential import SequentialRule, clearly_dearer, verdict
from lfvsim.machine_output import stamped_table
from lfvsim.safe_output import csv_safe_frame
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace, trace_from_scenario

__all__ = [
    "check_sweep_of",
    "check_vary",
    "configurations",
    "max_cannot_matter",
    "run_counts",
    "sweep",
    "vary_columns",
    "write_table",
]

_AXES = ("model.min_units", "model.max_units")
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_STORE_VERSION = 2


@dataclass(frozen=True)
class _Point:
    """One run of a sweep: a variant, a configuration and a replication."""

    variant: int
    min_units: int
    max_units: int | None
    oracle_bound: bool
    replication: int
    seed: int
    key: str


def configurations(
    min_units: Iterable[int], max_units: Iterable[int], oracle: bool = False
) -> list[tuple[int, int | None, bool]]:
    """The configurations of a sweep, in order: ``(min_units, max_units, oracle_bound)``.

    For each Min: every Max >= Min, then no auto-scaling (Max None), then with ``oracle``
    the zero-throttle oracle for that Min (perfect foresight, no delay, no Max).
    """
    mins = _units("--min", min_units)
    maxs = _units("--max", max_units)
    out: list[tuple[int, int | None, bool]] = []
    for lo in mins:
        out += [(lo, hi, False) for hi in maxs if hi >= lo]
        out.append((lo, None, False))
        if oracle:
            out.append((lo, None, True))
    return out


def vary_columns(table: pd.DataFrame) -> list[str]:
    """The varied scenario keys of a sweep table (its dotted column names)."""
    return [c for c in table.columns if "." in str(c)]


def sweep(
    scenario: Scenario,
    *,
    min_units: Iterable[int] = (1,),
    max_units: Iterable[int] = range(1, 13),
    replications: int = 5,
    seed: int | None = None,
    trace: Trace | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    oracle: bool = False,
    output: str | Path | None = None,
    workers: int | None = None,
    dask: Any = None,
    dask_timeout_s: float = 10.0,
    progress: Callable[[int, int], None] | None = None,
    only: Iterable[tuple[int, int | None, bool]] | None = None,
    minute_percentile: float = 99.0,
    reuse: bool = True,
    first_replication: int = 0,
    allow_large: bool = False,
    early_stop: SequentialRule | None = None,
    best_cost: Callable[[pd.DataFrame], float | None] | None = None,
) -> pd.DataFrame:
    """Simulate every (Min, Max) configuration, replicated with common random numbers.

    Parameters
    ----------
    scenario : Scenario
        The base scenario; its own Min and Max are replaced by the grid.
    min_units, max_units : iterable of int
        MinInferenceUnits and MaxInferenceUnits values (>= 1). Every pair with
        Min <= Max runs, plus no auto-scaling (Max unset) for each Min.
    replications : int
        Replications per configuration; replication ``k`` uses the same seed, from
        ``SeedSequence(seed).spawn(replications)[k]``, in every configuration.
    seed : int, optional
        Experiment seed; default ``simulation.seed``, else the seed of the sweep already in
        ``output``, else fresh entropy.
    trace : Trace, optional
        Traffic; default the scenario's ``[traffic]``, read once for the whole sweep.
    vary : mapping of str to sequence, optional
        Scenario keys to vary, each with its values (``{"autoscaler.provisioning_delay_s":
        [120, 300]}``): the grid runs for every combination.
    oracle : bool
        Also run the zero-throttle oracle for each Min (rows with ``oracle_bound`` True).
    output : path, optional
        ``.parquet`` or ``.csv`` file for the table (written with a last column
        ``schema_version``); makes the sweep resumable.
    workers : int, optional
        Local processes; default: the CPU count; 1 runs in this process.
    dask : str or distributed.Client, optional
        Run on this Dask cluster (``tcp://HOST:PORT``) instead of local processes.
    dask_timeout_s : float
        How long to try to reach the Dask scheduler.
    progress : callable, optional
        Called as ``progress(finished_runs, total_runs)``, finished runs from an earlier,
        interrupted sweep included.
    only : iterable of (int, int or None, bool), optional
        Run just these configurations ``(min_units, max_units, oracle_bound)`` of the grid
        (the search runs the grid a few configurations at a time).
    minute_percentile : float
        The percentile of per-minute throttle rates each run gives in
        ``throttle_rate_minute_percentile`` (0 < P < 100), besides the 99th.
    reuse : bool
        Skip a Max that cannot change the runs: for each Min the Max values run in
        increasing order, and once no replication at Max ``x`` wanted more than ``x`` units
        (``peak_wanted_units``) and none throttled "at Max", every larger Max would take
        exactly the same decisions, so its rows are copies of Max ``x``'s
        (``reused_from_max_units`` = ``x``). False simulates them all.
    first_replication : int
        Run only replications ``first_replication .. replications - 1`` (with the seeds
        they have among ``replications``): more replications for configurations already
        run.
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`), checked once for
        the whole grid: every run costed as the largest configuration.
    early_stop : SequentialRule, optional
        Run each configuration's replications look by look and stop it once its SLO
        verdict is clear (:mod:`lfvsim.experiments.sequential`); its ``replications`` must
        be ``replications``. The cheapest configuration meeting the SLO, and every one
        meeting it that is not clearly dearer, still get every replication. Needs
        ``best_cost``. None (the default) runs every replication of every configuration.
    best_cost : callable, optional
        ``best_cost(rows)``: the mean monthly cost of the cheapest configuration of a
        (partial) sweep table that meets the SLO, or None
        (:func:`lfvsim.experiments.recommend.best_cost` with the SLO).

    Returns
    -------
    pandas.DataFrame
        One row per configuration x replication, in grid order: the varied keys (one column
        each), ``min_units``, ``max_units`` (Int64; NA: no auto-scaling, or no Max for the
        oracle), ``oracle_bound``, ``replication``, ``seed`` (re-run one with
        ``lfvsim run --seed``), every :class:`lfvsim.Summary` field and
        ``monthly_cost_usd`` (``cost_usd / duration_h x 730`` hours a month) and
        ``reused_from_max_units`` (Int64; NA: simulated); with ``early_stop`` also
        ``stopped_early`` ("pass" or "fail": the configuration stopped at an interim look,
        clearly meeting or clearly failing the SLO; NA: every replication ran), and a
        stopped configuration has fewer rows. The same for any executor and
        number of workers, and with or without ``reuse``, but for that column.
        ``table.attrs["seed"]`` is the experiment seed; ``table.attrs["runs"]`` counts the
        runs simulated and reused (:func:`run_counts`).

    Raises
    ------
    InputError
        An empty or invalid range, a bad ``vary`` key or value, an output of another
        sweep, an unreachable Dask scheduler, a grid over the budget
        (:class:`lfvsim.budget.BudgetError`); nothing is written.
    """
    if replications < 1:
        raise InputError(f"--replications {replications}: need at least 1")
    if not 0 <= first_replication < replications:
        raise InputError(
            f"first replication {first_replication}: give one in 0..{replications - 1}"
        )
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: need at least one worker; use --workers 1")
    if early_stop is not None:
        if early_stop.replications != replications or best_cost is None:
            raise ValueError("early_stop needs best_cost and replications equal to its own")
        if first_replication:
            raise ValueError("early_stop runs every configuration from its first replication")
    minute_percentile = check_minute_percentile(minute_percentile)
    configs = configurations(min_units, max_units, oracle)
    if only is not None:
        wanted = set(only)
        configs = [c for c in configs if c in wanted]
    output = None if output is None else Path(output)
    fmt = None if output is None else _format(output)
    values, scenarios = _variants(scenario, vary or {})
    overrides = [[_overrides(sc, lo, hi, ob) for lo, hi, ob in configs] for sc in scenarios]
    for sc, row in zip(scenarios, overrides, strict=True):
        for (lo, hi, _), over in zip(configs, row, strict=True):
            sc.with_overrides(dict(over), source=f"Min {lo}, Max {_max_text(hi)}")
    traces = _traces(scenario, scenarios, trace)
    plan = _Plan(replications, first_replication, reuse, early_stop, best_cost)
    runs = replications - first_replication
    _check_budget(configs, scenarios, traces, runs, workers, dask, allow_large)
    if output is None:
        return _sweep(scenario, configs, values, scenarios, overrides, traces, plan,
                      seed, None, None, workers, dask, dask_timeout_s, progress,
                      minute_percentile)  # fmt: skip
    check_replaceable([output])
    with _PartStore(output) as store:
        table = _sweep(scenario, configs, values, scenarios, overrides, traces, plan,
                       seed, store, fmt, workers, dask, dask_timeout_s, progress,
                       minute_percentile)  # fmt: skip
    return table


@dataclass(frozen=True)
class _Plan:
    """Which replications of each configuration to run, and whether to reuse rows."""

    replications: int
    first_replication: int
    reuse: bool
    early_stop: SequentialRule | None = None
    best_cost: Callable[[pd.DataFrame], float | None] | None = None


def _sweep(
    scenario: Scenario,
    configs: list[tuple[int, int | None, bool]],
    values: list[dict[str, Any]],
    scenarios: list[Scenario],
    overrides: list[list[tuple[tuple[str, Any], ...]]],
    traces: list[Trace],
    plan: _Plan,
    seed: int | None,
    store: _PartStore | None,
    fmt: str | None,
    workers: int | None,
    dask: Any,
    dask_timeout_s: float,
    progress: Callable[[int, int], None] | None,
    minute_percentile: float = 99.0,
) -> pd.DataFrame:
    if seed is None and scenario.simulation.seed is None and store is not None:
        seed = store.stored_seed()
    seed = resolve_seed(seed, scenario)
    fingerprint = _fingerprint(scenario, traces[0], seed)
    if minute_percentile != 99.0:
        # Runs measured at another per-minute percentile are not interchangeable (the
        # default leaves the fingerprint as sweeps wrote it before the option existed).
        fingerprint["minute_percentile"] = minute_percentile
    if store is not None:
        store.check(fingerprint)

    seeds = replication_seeds(seed, plan.replications)
    reps = list(enumerate(seeds))[plan.first_replication :]
    points = {
        (v, config): [_point(v, values[v], *config, k, s) for k, s in reps]
        for v in range(len(scenarios))
        for config in configs
    }
    everything = [p for group in points.values() for p in group]
    done = {} if store is None else store.load([p.key for p in everything], fingerprint)
    waves = _Waves(configs, len(scenarios), plan.reuse)
    reused: dict[str, int] = {}
    overall = _overall(progress, len(everything))
    runner = _Runner(
        workers, dask, dask_timeout_s, store, fingerprint, overall, done,
        Workload(uuid.uuid4().hex, tuple(scenarios), tuple(traces), minute_percentile),
        {config: i for i, config in enumerate(configs)}, overrides,
    )  # fmt: skip
    staged = _Staged(plan, points, values, done, reused, runner)
    try:
        for wave in waves:
            staged.run(wave)
            for key in wave:
                runs = [done[p.key] for p in staged.ran(key)]
                wanted = max(int(r["peak_wanted_units"]) for r in runs)
                at_max = sum(int(r.get("throttled_at_max", 0)) for r in runs)
                for copy in waves.after(key, wanted, at_max):
                    staged.copy(key, copy)
        staged.top_up()
    finally:
        runner.close()
    if overall is not None:
        overall(len(everything), len(everything))
    ran = [p for key in points for p in staged.ran(key)]
    table = _table(ran, values, done, reused)
    if plan.early_stop is not None:
        table["stopped_early"] = pd.array(
            [staged.stopped(key) for key in points for _ in staged.ran(key)], dtype="string"
        )
    table["sweep_scenario"] = fingerprint["scenario"]
    table["sweep_trace"] = fingerprint["trace"]
    table["trace_scale"] = _scale_of(scenario)
    table.attrs["seed"] = seed
    table.attrs["runs"] = {
        "runs": len(ran),
        "simulated": len(ran) - len(reused),
        "reused": len(reused),
        "reasons": waves.reasons,
        **staged.counts(),
    }
    if store is not None:
        _write_atomic(table, store.output, fmt)
    return table


class _Runner:
    """Runs a sweep's points not done yet; starts the executor at the first one."""

    def __init__(
        self,
        workers: int | None,
        dask: Any,
        dask_timeout_s: float,
        store: _PartStore | None,
        fingerprint: dict[str, Any],
        overall: Callable[[int, int], None] | None,
        done: dict[str, dict[str, Any]],
        workload: Workload,
        config_index: dict[tuple[int, int | None, bool], int],
        overrides: list[list[tuple[tuple[str, Any], ...]]],
    ) -> None:
        self.workers, self.dask, self.dask_timeout_s = workers, dask, dask_timeout_s
        self.store, self.fingerprint, self.overall, self.done = store, fingerprint, overall, done
        self.workload, self.config_index, self.overrides = workload, config_index, overrides
        self.executor: Any = None

    def run(self, points: list[_Point]) -> None:
        pending = [p for p in points if p.key not in self.done]
        if not pending:
            return
        if self.executor is None:
            # One pool for every wave and early-stopping look: closed by close().
            self.executor = make_executor(
                workers=self.workers,
                dask=self.dask,
                dask_timeout_s=self.dask_timeout_s,
                reuse_pool=True,
            )
            if self.store is not None:
                self.store.create(self.fingerprint)
        tasks = [
            Task(p.variant, self.overrides[p.variant][self.config_index[_config(p)]], p.seed)
            for p in pending
        ]

        def finished(i: int, summary: dict[str, Any]) -> None:
            self.done[pending[i].key] = summary
            if self.store is not None:
                self.store.write(pending[i].key, summary, self.fingerprint)

        run_tasks(self.executor, self.workload, tasks, self.overall, finished, len(self.done))

    def close(self) -> None:
        if self.executor is not None and self.executor is not self.dask:
            self.executor.close()


class _Staged:
    """How many replications each configuration runs: all, or look by look with a rule.

    With ``plan.early_stop`` a wave's configurations run to the rule's next look together
    (one batch of tasks, so each replication's requests are still drawn once), and a
    configuration whose verdict is clear stops there. Oracle rows are bounds, not
    configurations to judge: they always run every replication. :meth:`top_up` then runs
    on the passing configurations that could be the cheapest, as the search does.
    """

    def __init__(
        self,
        plan: _Plan,
        points: dict[_Key, list[_Point]],
        values: list[dict[str, Any]],
        done: dict[str, dict[str, Any]],
        reused: dict[str, int],
        runner: _Runner,
    ) -> None:
        self.plan, self.points, self.values = plan, points, values
        self.done, self.reused, self.runner = done, reused, runner
        self.n: dict[_Key, int] = {}
        self.verdicts: dict[_Key, str] = {}
        self._passing: dict[_Key, tuple[int, bool]] = {}

    def ran(self, key: _Key) -> list[_Point]:
        """The points of ``key`` run (or reused) so far, replication order."""
        group = self.points[key]
        return group[: self.n.get(key, len(group))]

    def rows(self, key: _Key) -> pd.DataFrame:
        return _table(self.ran(key), self.values, self.done, self.reused)

    def run(self, wave: list[_Key]) -> None:
        """Run the configurations of a wave: to the end, or until each is decided."""
        rule = self.plan.early_stop
        if rule is None:
            self.runner.run([p for key in wave for p in self.points[key]])
            return
        bounds = [key for key in wave if key[1][2]]
        self.runner.run([p for key in bounds for p in self.points[key]])
        undecided = [key for key in wave if not key[1][2]]
        for key in undecided:
            self.n[key] = 0
        while undecided:
            for key in undecided:
                self.n[key] = rule.next_look(self.n[key])
            self.runner.run([p for key in undecided for p in self.ran(key)])
            still = []
            for key in undecided:
                decided = verdict(self.rows(key), rule)
                if decided is not None:
                    self.verdicts[key] = decided
                elif self.n[key] < rule.replications:
                    still.append(key)
            undecided = still

    def copy(self, source: _Key, target: _Key) -> None:
        """``target``'s runs are ``source``'s (a larger Max that cannot matter)."""
        self.n[target] = len(self.ran(source))
        self.verdicts.pop(target, None)
        if source in self.verdicts:
            self.verdicts[target] = self.verdicts[source]
        for a, b in zip(self.ran(source), self.ran(target), strict=True):
            self.done[b.key] = self.done[a.key]
            self.reused[b.key] = a.max_units or 0

    def top_up(self) -> None:
        """Every replication for each passing configuration that could be the cheapest.

        Per variant: the cheapest passing configuration, and every other passing one not
        clearly dearer (:func:`clearly_dearer`), until the cheapest has every replication.
        """
        rule = self.plan.early_stop
        if rule is None:
            return
        full = rule.replications
        for variant in sorted({key[0] for key in self.points}):
            keys = [k for k in self.points if k[0] == variant and not k[1][2]]
            while True:
                passing = [k for k in keys if self._passes(k)]
                if not passing:
                    break
                cost = {k: self.rows(k)["monthly_cost_usd"].to_numpy(dtype=float) for k in passing}
                cheapest = min(passing, key=lambda k: float(cost[k].mean()))
                if self.n[cheapest] < full:
                    self._extend([cheapest])
                    continue
                short = [
                    k
                    for k in passing
                    if self.n[k] < full
                    and not clearly_dearer(cost[k], cost[cheapest][: self.n[k]], rule)
                ]
                if not short:
                    break
                self._extend(short)

    def _passes(self, key: _Key) -> bool:
        known = self._passing.get(key)
        if known is None or known[0] != self.n[key]:
            assert self.plan.best_cost is not None
            known = (self.n[key], self.plan.best_cost(self.rows(key)) is not None)
            self._passing[key] = known
        return known[1]

    def _extend(self, keys: list[_Key]) -> None:
        """Every replication of ``keys``: copied from their source Max while it cannot matter."""
        assert self.plan.early_stop is not None
        full = self.plan.early_stop.replications
        copies = {key: self._source(key) for key in keys if self._source(key) is not None}
        sources = [s for s in copies.values() if s is not None and self.n[s] < full]
        self._run_all([k for k in keys if k not in copies] + list(dict.fromkeys(sources)))
        rerun = []
        for key, source in copies.items():
            assert source is not None
            runs = [self.done[p.key] for p in self.ran(source)]
            wanted = max(int(r["peak_wanted_units"]) for r in runs)
            at_max = sum(int(r.get("throttled_at_max", 0)) for r in runs)
            if max_cannot_matter(wanted, at_max, int(source[1][1] or 0)):
                self.copy(source, key)
                continue
            for p in self.ran(key):  # the source's later runs bind: simulate its own
                del self.done[p.key]
                del self.reused[p.key]
            rerun.append(key)
        self._run_all(rerun)

    def _source(self, key: _Key) -> _Key | None:
        """The configuration ``key``'s rows are copied from (a smaller Max), or None."""
        x = self.reused.get(self.points[key][0].key)
        return None if x is None else (key[0], (key[1][0], x, False))

    def _run_all(self, keys: list[_Key]) -> None:
        assert self.plan.early_stop is not None
        for key in keys:
            self.verdicts.pop(key, None)
            self.n[key] = self.plan.early_stop.replications
        self.runner.run([p for key in keys for p in self.ran(key)])

    def stopped(self, key: _Key) -> str | None:
        """ "pass" or "fail" for a configuration stopped at an interim look, else None."""
        return self.verdicts.get(key) if len(self.ran(key)) < len(self.points[key]) else None

    def counts(self) -> dict[str, Any]:
        """Configurations stopped early and why, for ``table.attrs["runs"]``."""
        rule = self.plan.early_stop
        if rule is None:
            return {}
        out: dict[str, Any] = {"stopped_passing": 0, "stopped_failing": 0, "stop_reasons": []}
        for kind, field, why in (
            ("fail", "stopped_failing", "clearly failing the SLO"),
            (
                "pass",
                "stopped_passing",
                "clearly meeting the SLO and clearly dearer than the cheapest that meets it",
            ),
        ):
            counts = [len(self.ran(k)) for k in self.points if self.stopped(k) == kind]
            out[field] = len(counts)
            if counts:
                after = " or ".join(str(k) for k in sorted(set(counts)))
                out["stop_reasons"].append(
                    f"{len(counts)} configuration{'' if len(counts) == 1 else 's'} stopped "
                    f"after {after} of {rule.replications} replications, {why}; "
                    f"{len(counts) * rule.replications - sum(counts):,} runs not needed"
                )
        return out


def _overall(
    progress: Callable[[int, int], None] | None, total: int
) -> Callable[[int, int], None] | None:
    """Progress over the whole sweep (reused runs count as done), each count once."""
    if progress is None:
        return None
    last = [-1]

    def update(finished: int, _wave_total: int) -> None:
        if finished != last[0]:
            last[0] = finished
            progress(finished, total)

    return update


_Key = tuple[int, tuple[int, int | None, bool]]


class _Waves:
    """The order configurations run in, so that a Max that cannot matter is reused.

    The first wave holds every configuration but the larger Max values of each (variant,
    Min); each later wave the next Max of each (variant, Min) still binding. Without
    reuse, one wave holds everything.
    """

    def __init__(
        self, configs: list[tuple[int, int | None, bool]], variants: int, reuse: bool
    ) -> None:
        self.reasons: list[str] = []
        self.axis: dict[tuple[int, int], list[int]] = {}
        first: list[_Key] = []
        for v in range(variants):
            for config in configs:
                lo, hi, oracle = config
                if reuse and hi is not None and not oracle:
                    maxs = self.axis.setdefault((v, lo), [])
                    maxs.append(hi)
                    if len(maxs) > 1:
                        continue
                first.append((v, config))
        self.next: list[_Key] = first
        self.variants = variants

    def __iter__(self) -> Any:
        while self.next:
            wave, self.next = self.next, []
            yield wave

    def after(self, key: _Key, wanted_units: int, throttled_at_max: int) -> list[_Key]:
        """Record that ``key`` ran; the configurations to copy from it (larger Max).

        See :func:`max_cannot_matter` for the rule.
        """
        v, (lo, hi, oracle) = key
        if hi is None or oracle or (v, lo) not in self.axis:
            return []
        maxs = self.axis[(v, lo)]
        rest = maxs[maxs.index(hi) + 1 :]
        if not rest:
            return []
        if not max_cannot_matter(wanted_units, throttled_at_max, hi):
            self.next.append((v, (lo, rest[0], False)))
            return []
        where = f" (variant {v + 1})" if self.variants > 1 else ""
        span = str(rest[0]) if len(rest) == 1 else f"{rest[0]}..{rest[-1]}"
        self.reasons.append(
            f"Min {lo}, Max {span}{where}: no replication wanted more than {wanted_units} "
            f"{'unit' if wanted_units == 1 else 'units'} at Max {hi}, so a larger Max "
            f"gives the same runs (rows reused from Max {hi})"
        )
        return [(v, (lo, y, False)) for y in rest]


def max_cannot_matter(peak_wanted_units: int, throttled_at_max: int, max_units: int) -> bool:
    """Every larger Max repeats these runs exactly, throttling causes included.

    True when no replication wanted more than ``max_units`` (so a larger Max takes the
    same decisions on the same requests) and none throttled a request "at Max": that
    cause means the autoscaler's alarm was on with every unit up to Max in place, which a
    larger Max would call "scaling" instead.
    """
    return peak_wanted_units <= max_units and throttled_at_max == 0


def run_counts(table: pd.DataFrame) -> dict[str, Any]:
    """Runs of a sweep table simulated and reused, and why (from ``table.attrs``).

    With early stopping also the configurations stopped (``stopped_passing``,
    ``stopped_failing``) and why (``stop_reasons``). A table read back from a file counts
    its ``reused_from_max_units`` rows and ``stopped_early`` configurations; the reasons
    are then not known.
    """
    stored = table.attrs.get("runs")
    if stored is not None:
        return dict(stored)
    reused = (
        int(table["reused_from_max_units"].notna().sum()) if "reused_from_max_units" in table else 0
    )
    out: dict[str, Any] = {
        "runs": len(table),
        "simulated": len(table) - reused,
        "reused": reused,
        "reasons": [],
    }
    if "stopped_early" in table:
        configs = table[table["stopped_early"].notna()].drop_duplicates(
            [*vary_columns(table), "min_units", "max_units", "oracle_bound"]
        )
        kinds = configs["stopped_early"].astype(str)
        out["stopped_passing"] = int((kinds == "pass").sum())
        out["stopped_failing"] = int((kinds == "fail").sum())
        out["stop_reasons"] = []
    return out


def _units(option: str, values: Iterable[int]) -> list[int]:
    out = sorted({int(v) for v in values})
    if not out:
        raise InputError(f"{option}: no values; give a range such as 1..4")
    if out[0] < 1:
        raise InputError(
            f"{option}: {out[0]} inference units; a model runs on at least 1, e.g. {option} 1..4"
        )
    return out


def _format(output: Path) -> str:
    fmt = _FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise InputError(
            f"output '{output}': unknown format '{output.suffix}'; end the name in .parquet or .csv"
        )
    if output.is_dir():
        raise InputError(f"output '{output}' is a folder; give a file name ending in {fmt}")
    return fmt


def _variants(
    scenario: Scenario, vary: Mapping[str, Sequence[Any]]
) -> tuple[list[dict[str, Any]], list[Scenario]]:
    """Every combination of the varied values: its resolved values and its scenario."""
    if not vary:
        return [{}], [scenario]
    for key, options in vary.items():
        if key in _AXES:
            raise InputError(
                f"--vary {key}: Min and Max are the sweep's own axes; use --min and --max"
            )
        if key == "simulation.seed":
            raise InputError("--vary simulation.seed: use --seed and --replications instead")
        if "." not in key:
            raise InputError(f"--vary {key}: give a scenario key as SECTION.KEY")
        if not list(options):
            raise InputError(f"--vary {key}: no values; write KEY=V1,V2,...")
    keys = list(vary)
    values, scenarios, seen = [], [], set()
    for combo in itertools.product(*(list(vary[k]) for k in keys)):
        given = dict(zip(keys, combo, strict=True))
        text = ", ".join(f"{k}={v}" for k, v in given.items())
        variant = scenario.with_overrides(given, source=f"--vary {text}")
        resolved = {k: _get(variant, k) for k in keys}
        marker = json.dumps(resolved, sort_keys=True, default=str)
        if marker in seen:
            raise InputError(f"--vary {text}: the same values are given twice; list each once")
        seen.add(marker)
        values.append(resolved)
        scenarios.append(variant)
    return values, scenarios


def _get(scenario: Scenario, dotted: str) -> Any:
    value: Any = scenario
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _overrides(
    scenario: Scenario, min_units: int, max_units: int | None, oracle_bound: bool
) -> tuple[tuple[str, Any], ...]:
    if oracle_bound:
        return (
            ("model.min_units", min_units),
            ("model.max_units", None),
            ("autoscaler.policy", "oracle"),
        )
    over: list[tuple[str, Any]] = [("model.min_units", min_units), ("model.max_units", max_units)]
    if max_units is None and scenario.autoscaler.policy == "target_tracking":
        # Without MaxInferenceUnits the model does not scale (documented).
        over.append(("autoscaler.policy", "none"))
    return tuple(over)


def _check_budget(
    configs: list[tuple[int, int | None, bool]],
    scenarios: list[Scenario],
    traces: list[Trace],
    replications: int,
    workers: int | None,
    dask: Any,
    allow_large: bool,
) -> None:
    """Refuse a grid past the budget, once for the sweep: each variant's runs costed as its
    largest configuration, summed over the variants."""
    if not configs:
        return
    top_min = max(c[0] for c in configs)
    top_max = max(max(c[1] or c[0] for c in configs), top_min)
    parallel = cpu_count() if workers is None or dask is not None else min(workers, cpu_count())
    largest = [
        sc.with_overrides(
            {"model.min_units": top_min, "model.max_units": top_max},
            source="the sweep's largest configuration",
        )
        for sc in scenarios
    ]
    check_variant_runs(
        largest, traces, len(configs) * replications, parallel, shared_traffic=len(configs) > 1,
        allow_large=allow_large,
        how_to_shrink="give smaller min_units/max_units ranges or fewer replications",
    )  # fmt: skip


def _traces(scenario: Scenario, scenarios: list[Scenario], trace: Trace | None) -> list[Trace]:
    """One trace per variant, each distinct traffic section read once."""
    if trace is not None:
        if any(sc.traffic != scenario.traffic for sc in scenarios):
            raise InputError(
                "--vary traffic.*: cannot vary the traffic of a trace given as an object; "
                "describe the traffic in the scenario instead"
            )
        return [trace] * len(scenarios)
    cache: dict[str, Trace] = {}
    out = []
    for sc in scenarios:
        marker = sc.traffic.model_dump_json()
        if marker not in cache:
            cache[marker] = trace_from_scenario(sc)
        out.append(cache[marker])
    return out


def _point(
    variant: int,
    values: dict[str, Any],
    min_units: int,
    max_units: int | None,
    oracle_bound: bool,
    replication: int,
    seed: int,
) -> _Point:
    key = json.dumps(
        {
            "vary": values,
            "min_units": min_units,
            "max_units": max_units,
            "oracle_bound": oracle_bound,
            "replication": replication,
            "seed": seed,
        },
        sort_keys=True,
        default=str,
    )
    return _Point(variant, min_units, max_units, oracle_bound, replication, seed, key)


def _config(p: _Point) -> tuple[int, int | None, bool]:
    return p.min_units, p.max_units, p.oracle_bound


def _max_text(max_units: int | None) -> str:
    return "unset" if max_units is None else str(max_units)


def _table(
    points: list[_Point],
    values: list[dict[str, Any]],
    done: dict[str, dict[str, Any]],
    reused: Mapping[str, int],
) -> pd.DataFrame:
    rows = []
    for p in points:
        row = dict(values[p.variant])
        row.update(
            min_units=p.min_units,
            max_units=p.max_units,
            oracle_bound=p.oracle_bound,
            replication=p.replication,
            seed=p.seed,
        )
        row.update(summary_record(done[p.key], skip=("min_units", "max_units", "seed")))
        row["reused_from_max_units"] = reused.get(p.key)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["max_units"] = pd.array(list(table["max_units"]), dtype="Int64")
    table["reused_from_max_units"] = pd.array(list(table["reused_from_max_units"]), dtype="Int64")
    table["oracle_bound"] = table["oracle_bound"].astype(bool)
    return table


def _fingerprint(scenario: Scenario, trace: Trace, seed: int) -> dict[str, Any]:
    """What makes two sweeps' runs interchangeable: scenario, trace, seed, version."""
    data = scenario.model_dump(mode="json", exclude={"traffic", "base_dir"})
    data["model"].pop("min_units", None)
    data["model"].pop("max_units", None)
    data["simulation"].pop("seed", None)
    return {
        "store": _STORE_VERSION,
        "lfvsim": __version__,
        "scenario": _digest(json.dumps(data, sort_keys=True).encode()),
        "trace": _trace_digest(trace),
        "seed": seed,
    }


def _scale_of(scenario: Scenario) -> float:
    """The factor a trace file's traffic was scaled by (1 for generated traffic)."""
    return float(getattr(scenario.traffic, "scale", 1.0))


def check_sweep_of(
    table: pd.DataFrame, scenario: Scenario, trace: Trace | None = None, source: str = "sweep"
) -> None:
    """Raise :class:`InputError` when ``table`` was not swept from ``scenario`` and its trace.

    A sweep written before sweeps recorded their scenario passes unchecked.

    Parameters
    ----------
    table : pandas.DataFrame
        A sweep table (from a file).
    scenario : Scenario
        The scenario a report or figure is about; Min, Max, seed and traffic aside.
    trace : Trace, optional
        Its traffic; default the scenario's ``[traffic]``.
    source : str
        Names the table in the message.
    """
    if "sweep_scenario" not in table or table.empty:
        return
    trace = trace_from_scenario(scenario) if trace is None else trace
    mine = _fingerprint(scenario, trace, 0)
    if str(table["sweep_scenario"].iloc[0]) != mine["scenario"]:
        raise InputError(
            f"'{source}' is a sweep of another scenario (its model, billing, autoscaler or "
            "other settings differ); sweep this scenario first (lfvsim sweep SCENARIO -o FILE)"
        )
    if str(table["sweep_trace"].iloc[0]) != mine["trace"]:
        stored = float(table["trace_scale"].iloc[0]) if "trace_scale" in table else 1.0
        raise InputError(
            f"'{source}' was swept on other traffic (trace scaled x{stored:g}, this one "
            f"x{_scale_of(scenario):g}); give the same --trace and --scale as the sweep"
        )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _trace_digest(trace: Trace) -> str:
    """A hash of the trace's content (arrays and parameters), not of where it came from.

    Walks the trace's fields: arrays by their bytes, nested traces and dataclasses (an
    arrival model, a file description with its size and modification time) field by
    field. Descriptive text (``source``, ``notes``, ``remarks``) is left out.
    """
    h = hashlib.sha256()
    _feed(h, trace, 0)
    return h.hexdigest()[:32]


_DESCRIPTIVE = frozenset({"source", "notes", "remarks"})


def _feed(h: Any, value: Any, depth: int) -> None:
    kind = type(value)
    h.update(f"<{kind.__module__}.{kind.__qualname__}>".encode())
    if depth > 8:
        return
    if value is None or isinstance(value, bool | int | float | str | bytes | np.generic):
        h.update(repr(value).encode())
    elif isinstance(value, np.ndarray):
        h.update(f"{value.dtype}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, pd.Timestamp | Path) or hasattr(value, "isoformat"):
        h.update(str(value).encode())
    elif isinstance(value, list | tuple):
        for item in value:
            _feed(h, item, depth + 1)
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            h.update(str(key).encode())
            _feed(h, value[key], depth + 1)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if f.name not in _DESCRIPTIVE:
                h.update(f.name.encode())
                _feed(h, getattr(value, f.name), depth + 1)
    elif isinstance(value, functools.partial):
        _feed(h, (value.func, value.args, value.keywords), depth + 1)
    elif callable(value) and hasattr(value, "__qualname__"):
        h.update(f"{getattr(value, '__module__', '')}.{value.__qualname__}".encode())
    elif hasattr(value, "__dict__"):
        _feed(h, {k: v for k, v in vars(value).items() if k not in _DESCRIPTIVE}, depth + 1)
    else:
        h.update(repr(value).encode())


class _PartStore:
    """Finished runs of one sweep: one small JSON file each, written atomically.

    Used as a context manager: holds the output's lock while the sweep runs.
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        self.folder = output.parent / f".{output.name}.parts"
        self.meta = self.folder / "sweep.json"
        self._lock_fd: int | None = None

    def __enter__(self) -> _PartStore:
        lock = self.folder / "lock"
        while True:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise InputError(
                    f"cannot write beside '{self.output}': {exc.strerror}; check the path"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise InputError(
                    f"output '{self.output}' is being written by another sweep now (process "
                    f"{holder}); wait for it to finish, or write to another output"
                ) from None
            try:
                same = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the lock file was removed meanwhile by a sweep that ended: retry
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fd is None:
            return
        if not self.meta.exists():
            # Nothing of this sweep was kept (it failed before its first run): leave no
            # folder behind. Removed while still locked, so no other sweep holds it.
            (self.folder / "lock").unlink(missing_ok=True)
            try:
                self.folder.rmdir()
            except OSError:
                pass
        os.close(self._lock_fd)  # releases the lock
        self._lock_fd = None

    def _stored(self) -> dict[str, Any] | None:
        try:
            stored: dict[str, Any] = json.loads(self.meta.read_text(encoding="utf-8"))
            return stored
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise InputError(
                f"'{self.meta}' is unreadable; delete the folder '{self.folder}' to start "
                "the sweep afresh"
            ) from None

    def stored_seed(self) -> int | None:
        stored = self._stored()
        return None if stored is None else stored.get("seed")

    def check(self, fingerprint: dict[str, Any]) -> None:
        stored = self._stored()
        if stored is None or stored == fingerprint:
            return
        names = {
            "scenario": "scenario",
            "trace": "trace",
            "seed": "seed",
            "lfvsim": "lfvsim version",
            "store": "file layout",
            "minute_percentile": "--minute-percentile",
        }
        differ = [names[k] for k in names if stored.get(k) != fingerprint.get(k)]
        raise InputError(
            f"'{self.output}' belongs to another sweep (its {' and '.join(differ)} "
            f"differ{'s' if len(differ) == 1 else ''}); write to another output, or delete "
            f"'{self.output}' and '{self.folder}' to start afresh"
        )

    def create(self, fingerprint: dict[str, Any]) -> None:
        clean_stale(self.folder)
        if not self.meta.exists():
            write_text_atomic(
                self.meta, json.dumps(fingerprint, sort_keys=True, indent=1), ledger=False
            )

    def _path(self, key: str) -> Path:
        return self.folder / f"{_digest(key.encode())}.json"

    def load(self, keys: list[str], fingerprint: dict[str, Any]) -> dict[str, dict[str, Any]]:
        mark = _digest(json.dumps(fingerprint, sort_keys=True).encode())
        done = {}
        for key in keys:
            path = self._path(key)
            try:
                part = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # cannot happen with atomic writes; redo it
                continue
            if not isinstance(part, dict) or part.get("sweep") != mark or part.get("key") != key:
                raise InputError(
                    f"'{path}' is a run of another sweep; delete '{self.output}' and "
                    f"'{self.folder}' to start afresh, or write to another output"
                )
            done[key] = part["summary"]
        return done

    def write(self, key: str, summary: dict[str, Any], fingerprint: dict[str, Any]) -> None:
        mark = _digest(json.dumps(fingerprint, sort_keys=True).encode())
        text = json.dumps({"sweep": mark, "key": key, "summary": summary})
        write_text_atomic(self._path(key), text, ledger=False)


def write_table(table: pd.DataFrame, output: str | Path) -> None:
    """Write a sweep table to ``output`` (.parquet or .csv), atomically."""
    output = Path(output)
    _write_atomic(table, output, _format(output))


def _write_atomic(table: pd.DataFrame, output: Path, fmt: str | None) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as tmp:
        if fmt == "parquet":
            stamped_table(table).to_parquet(tmp, index=False)
        else:
            # Varied values are user text: keep a spreadsheet from running them as formulas.
            csv_safe_frame(stamped_table(table)).to_csv(tmp, index=False)


def check_vary(scenario: Scenario, vary: Mapping[str, Sequence[Any]]) -> None:
    """Refuse a bad ``--vary`` before any work: each key's values applied on their own.

    Linear in the number of values (not in the number of their combinations), so that it
    can run before the sweep's budget is estimated.

    Raises
    ------
    InputError
        A key that is not a scenario key or a sweep axis, a value the key does not
        accept, or a value given twice.
    """
    for key, options in vary.items():
        _variants(scenario, {key: options})
