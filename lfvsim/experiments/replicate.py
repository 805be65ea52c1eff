"""Replications: one configuration run with independent seeds, every metric with its interval."""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lfvsim.atomic import atomic_directory
from lfvsim.billing import HOURS_PER_MONTH, monthly_cost_usd
from lfvsim.budget import check_runs
from lfvsim.engine import resolve_seed
from lfvsim.engine.result import Summary, notes_for
from lfvsim.errors import InputError
from lfvsim.experiments.executors import (
    Executor,
    Task,
    Workload,
    cpu_count,
    make_executor,
)
from lfvsim.experiments.stats import mean_interval
from lfvsim.machine_output import stamped, stamped_table
from lfvsim.scenario import Scenario, render_toml
from lfvsim.traces import Trace, trace_from_scenario

__all__ = [
    "HOURS_PER_MONTH",
    "Replications",
    "replicate",
    "replication_seeds",
]

"""Hours in a month for monthly figures: 365 days x 24 h / 12."""

SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Summary))

CONFIGURATION_FIELDS = frozenset(
    {
        "price_per_unit_hour_usd",
        "duration_h",
        "min_units",
        "max_units",
        "policy",
        "seed",
        "minute_percentile",
    }
)
"""Summary fields that describe the run rather than measure it: no interval."""


def metrics(table: pd.DataFrame) -> list[str]:
    """Columns of a replication table that measure a run: each gets a mean and an interval.

    Every numeric :class:`lfvsim.Summary` field except the configuration ones, plus
    ``monthly_cost_usd``.
    """
    names = set(SUMMARY_FIELDS) | {"monthly_cost_usd"}
    return [
        c
        for c in table.columns
        if c in names
        and c not in CONFIGURATION_FIELDS
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]


def _is_rate(metric: str) -> bool:
    """Whether ``metric`` is a share of requests, between 0 and 1."""
    return metric.endswith("_rate") or "_rate_" in metric


def replication_seeds(seed: int, replications: int) -> list[int]:
    """The run seed of each replication: ``SeedSequence(seed).spawn(replications)``.

    Replication ``k`` runs with the first 63 bits of its child sequence's state, so it can
    be re-run alone with ``lfvsim run --seed``. Child ``k`` does not depend on how many
    children are spawned: 20 replications start with the same 10 seeds as 10 do.
    """
    if seed < 0:
        raise InputError(f"seed {seed} is negative; use a seed >= 0")
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children]


def summary_record(summary: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Summary fields in order, with ``monthly_cost_usd`` after ``cost_usd``."""
    skip = set(skip)
    record: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        if name in skip:
            continue
        record[name] = summary.get(name)
        if name == "cost_usd":
            record["monthly_cost_usd"] = monthly_cost_usd(
                summary["cost_usd"], summary.get("duration_h") or 0.0
            )
    return record


@dataclass(frozen=True)
class Replications:
    """Independent replications of one scenario.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per replication: ``replication``, ``seed`` (re-run one alone with
        ``lfvsim run --seed``), every :class:`lfvsim.Summary` field, and
        ``monthly_cost_usd`` (``cost_usd / duration_h x 730``).
    scenario : Scenario
        The scenario replicated.
    seed : int
        The experiment seed the replication seeds were spawned from.
    trace_source : str
        Where the traffic came from.
    notes : list of str
        What is approximate or assumed (as in a single run).
    """

    table: pd.DataFrame
    scenario: Scenario
    seed: int
    trace_source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def replications(self) -> int:
        """Number of replications."""
        return len(self.table)

    def mean(self) -> dict[str, float]:
        """Mean of each metric over the replications."""
        return {m: float(self.table[m].astype(float).mean()) for m in metrics(self.table)}

    def interval(self, confidence: float = 0.95) -> dict[str, tuple[float, float]]:
        """Two-sided Student t confidence interval of each metric's mean.

        Every metric is a count, time, cost or rate, so each interval is cut to what its
        mean can be: at least 0, and at most 1 for a rate (a t interval from few
        replications can reach below 0, e.g. -7.7 to 17.7 scale-outs; the cut keeps its
        coverage). NaN bounds with a single replication.
        """
        out = {}
        for m in metrics(self.table):
            _, low, high = mean_interval(self.table[m].astype(float), confidence)
            low = max(low, 0.0) if math.isfinite(low) else low
            if _is_rate(m) and math.isfinite(high):
                high = min(high, 1.0)
            out[m] = (low, high)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the single-run keys hold means, ``ci95`` their 95% intervals.

        Also ``schema_version``, ``replications``, ``seeds`` (one per replication),
        ``seed`` (the experiment seed), ``trace`` and ``notes``. Non-finite numbers become None.
        """
        first = self.table.iloc[0]
        means = self.mean()
        out: dict[str, Any] = {}
        for name in SUMMARY_FIELDS:
            if name == "seed":
                out[name] = self.seed
            elif name in means:
                out[name] = means[name]
            else:
                out[name] = first[name]
            if name == "cost_usd":
                out["monthly_cost_usd"] = means["monthly_cost_usd"]
        out["max_units"] = None if pd.isna(out["max_units"]) else out["max_units"]
        out["replications"] = self.replications
        out["seeds"] = [int(s) for s in self.table["seed"]]
        out["ci95"] = {m: list(v) for m, v in self.interval(0.95).items()}
        out["hours_per_month"] = HOURS_PER_MONTH
        out["trace"] = self.trace_source
        out["notes"] = self.notes
        return plain_dict(stamped(out))

    def to_json(self) -> str:
        """:meth:`to_dict` as one JSON object."""
        return json.dumps(self.to_dict(), indent=2)

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``replications.csv``, ``summary.json`` and ``scenario.toml``, all or nothing.

        Files are staged in a temporary folder beside ``directory`` and moved in when all
        are complete.
        """
        with atomic_directory(directory, kind="replications") as staged:
            stamped_table(self.table).to_csv(staged / "replications.csv", index=False)
            (staged / "summary.json").write_text(self.to_json() + "\n", encoding="utf-8")
            (staged / "scenario.toml").write_text(render_toml(self.scenario), encoding="utf-8")
            names = sorted(f.name for f in staged.iterdir())
        return [Path(directory) / name for name in names]


def replicate(
    scenario: Scenario,
    replications: int,
    *,
    seed: int | None = None,
    trace: Trace | None = None,
    workers: int | None = 1,
    dask: Any = None,
    progress: Callable[[int, int], None] | None = None,
    allow_large: bool = False,
) -> Replications:
    """Run one scenario ``replications`` times with seeds from ``SeedSequence(seed).spawn``.

    Parameters
    ----------
    scenario : Scenario
        What to simulate, with its own Min and Max.
    replications : int
        Number of independent runs, >= 1.
    seed : int, optional
        Experiment seed; default ``simulation.seed``, else fresh entropy (recorded).
    trace : Trace, optional
        Traffic; default: the scenario's ``[traffic]``, read once.
    workers : int, optional
        Local processes (1: this process; None: the CPU count).
    dask : str or distributed.Client, optional
        Run on this Dask cluster instead.
    progress : callable, optional
        Called as ``progress(finished_runs, total_runs)``.
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`), checked once for
        all the replications.

    Returns
    -------
    Replications
        Identical for any executor and worker count.

    Raises
    ------
    lfvsim.budget.BudgetError
        The replications would use more than the budget.
    """
    if replications < 1:
        raise InputError(f"--replications {replications}: need at least 1")
    parallel = cpu_count() if workers is None or dask is not None else min(workers, cpu_count())
    read = check_runs(
        scenario, trace, replications, parallel, allow_large=allow_large,
        how_to_shrink="use fewer replications or a shorter horizon (simulation.horizon_h)",
    )  # fmt: skip
    if trace is None:
        trace = read if read is not None else trace_from_scenario(scenario)
    seed = resolve_seed(seed, scenario)
    seeds = replication_seeds(seed, replications)
    tasks = [Task(0, (), s) for s in seeds]
    workload = Workload(uuid.uuid4().hex, (scenario,), (trace,))
    executor = make_executor(workers=workers if dask is None else None, dask=dask)
    try:
        summaries = run_tasks(executor, workload, tasks, progress)
    finally:
        if executor is not dask:
            executor.close()
    rows = [
        {"replication": k, "seed": s, **summary_record(summaries[k], skip=("seed",))}
        for k, s in enumerate(seeds)
    ]
    table = pd.DataFrame(rows)
    table["max_units"] = pd.array(list(table["max_units"]), dtype="Int64")
    return Replications(table, scenario, seed, trace.source, notes_for(scenario, trace))


def run_tasks(
    executor: Executor,
    workload: Workload,
    tasks: Sequence[Task],
    progress: Callable[[int, int], None] | None = None,
    on_result: Callable[[int, dict[str, Any]], None] | None = None,
    already_done: int = 0,
) -> dict[int, dict[str, Any]]:
    """Run tasks on an executor; summaries by task index.

    ``on_result(index, summary)`` is called as each finishes (to store it), then
    ``progress(already_done + finished, already_done + len(tasks))``.
    """
    index = {id(t): i for i, t in enumerate(tasks)}
    total = already_done + len(tasks)
    if progress is not None:
        progress(already_done, total)
    results: dict[int, dict[str, Any]] = {}
    with closing(executor.run(workload, tasks)) as runs:
        for task, summary in runs:
            i = index[id(task)]
            results[i] = summary
            if on_result is not None:
                on_result(i, summary)
            if progress is not None:
                progress(already_done + len(results), total)
    return results


def plain_dict(value: dict[str, Any]) -> dict[str, Any]:
    """:func:`_plain` of a dict, typed as one."""
    out: dict[str, Any] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
