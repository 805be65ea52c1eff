"""Where the runs of an experiment execute: this process, local processes, or Dask.

Every executor runs the same function, :func:`run_task`, on the same inputs, and a run's
outcome depends only on its scenario, trace and seed. So results never depend on the
executor or on the number of workers; only the order in which runs finish does, and the
callers put rows back in grid order.

The scenario and traces an experiment shares (a :class:`Workload`) go to each worker once:
as the process pool's initializer argument, or scattered to every Dask worker. A task
carries only a variant number, a few scenario overrides and a seed.

Runs with the same trace and seed (one replication of every configuration) replay the
same requests, so by default the executors draw them once and share them: tasks go out
grouped by replication, in batches, and each process keeps the requests of the last
replication it drew (one replication's arrays per process at most, and none above
:data:`~lfvsim.engine.traffic.DEFAULT_TRAFFIC_BUDGET_BYTES`). Inside :func:`keep_traffic`
(recommend's search, which runs one configuration after another) this process keeps every
replication's requests up to :data:`KEPT_TRAFFIC_BYTES` instead. The results are identical
to drawing them in every run (``share_traffic=False``, kept to check and measure that).

Each run computes only its summary, by the compiled fast path when it covers the scenario
(:func:`lfvsim.engine.fast.simulate_summary`, engine ``auto``), else by the SimPy
reference; ``engine="simpy"`` forces the reference. The summaries, and so every table,
are identical either way.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import ctypes.util
import math
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lfvsim.budget import checked
from lfvsim.engine.fast import ENGINES, Engine, simulate_summary
from lfvsim.engine.traffic import DEFAULT_TRAFFIC_BUDGET_BYTES, Traffic, draw_traffic
from lfvsim.errors import InputError
from lfvsim.scenario import Scenario
from lfvsim.traces import Trace

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "SerialExecutor",
    "Task",
    "Workload",
    "capped_workers",
    "cgroup_cpu_quota",
    "cpu_count",
    "keep_traffic",
    "make_executor",
    "run_batch",
    "run_task",
]

BATCH_TASKS = 16
"""Most tasks a process runs per message: small enough for even load and live progress,
large enough that a replication's requests are drawn once per batch at most."""


@dataclass(frozen=True)
class Workload:
    """What every run of one experiment shares; sent to each worker once.

    Attributes
    ----------
    token : str
        Identifies the workload in the workers' caches (the experiment's fingerprint).
    scenarios : tuple of Scenario
        One base scenario per variant (``--vary`` value combination).
    traces : tuple of Trace
        The trace of each variant; variants that share traffic share the object.
    minute_percentile : float
        The percentile of per-minute throttle rates each summary gives besides the 99th.
    """

    token: str
    scenarios: tuple[Scenario, ...]
    traces: tuple[Trace, ...]
    minute_percentile: float = 99.0


@dataclass(frozen=True)
class Task:
    """One run: a variant, scenario overrides on top of it, and a seed.

    Attributes
    ----------
    variant : int
        Index into :attr:`Workload.scenarios`.
    overrides : tuple of (str, object)
        Dotted scenario keys and values (``("model.max_units", 4)``); empty: as is.
    seed : int
        Seed of the run.
    """

    variant: int
    overrides: tuple[tuple[str, Any], ...]
    seed: int


def run_task(
    workload: Workload, task: Task, share_traffic: bool = False, engine: Engine = "auto"
) -> dict[str, Any]:
    """Simulate one task; the summary as plain Python values (NaN stays NaN).

    Parameters
    ----------
    workload : Workload
        The shared scenarios and traces.
    task : Task
        Which variant, which overrides, which seed.
    share_traffic : bool
        Replay the requests this process drew last when they are this run's (same trace,
        seed, horizon and latency distribution), else draw them and keep them for the
        next task. The summary is the same either way.
    engine : {"auto", "fast", "simpy"}
        Which engine computes the summary (:func:`lfvsim.engine.fast.simulate_summary`);
        the summary is the same either way.

    Returns
    -------
    dict
        :class:`lfvsim.Summary` fields.
    """
    scenario = _scenario(workload, task.variant, task.overrides)
    trace = workload.traces[task.variant]
    traffic = _shared_traffic(scenario, trace, task.seed) if share_traffic else None
    with checked():  # the experiment costed its runs once, before the first
        run = simulate_summary(
            scenario,
            trace=trace,
            seed=task.seed,
            traffic=traffic,
            engine=engine,
            minute_percentile=workload.minute_percentile,
        )
    return {k: _plain(v) for k, v in asdict(run.summary).items()}


def run_batch(
    workload: Workload, tasks: Sequence[Task], share_traffic: bool = True, engine: Engine = "auto"
) -> list[dict[str, Any]]:
    """:func:`run_task` for each task of a batch, in order; the unit of work of a worker."""
    return [run_task(workload, task, share_traffic, engine) for task in tasks]


def _checked_engine(engine: str) -> Engine:
    if engine not in ENGINES:
        raise InputError(f"engine '{engine}' is unknown; use one of {', '.join(ENGINES)}")
    return engine  # type: ignore[return-value]  # checked against ENGINES


KEPT_TRAFFIC_BYTES = DEFAULT_TRAFFIC_BUDGET_BYTES
"""Most memory :func:`keep_traffic` holds in requests kept across configurations (1 GiB)."""


class _TrafficCache:
    """The requests this process drew, to replay in the next runs with the same ones.

    Outside :func:`keep_traffic` it holds the last replication drawn only (a sweep's tasks
    come replication by replication). Inside, it keeps every replication it draws while
    their arrays fit in the budget, and draws again (without keeping) beyond it: a search
    runs one configuration's replications after another's, so the first replications stay
    and the rest are redrawn, where dropping the oldest would keep none that comes back.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: tuple[Traffic, ...] = ()
        self.budget_bytes = 0  # 0: the last replication only
        self.depth = 0

    def get(self, scenario: Scenario, trace: Trace, seed: int) -> Traffic | None:
        for kept in self.kept:
            if kept.fits(scenario, trace, seed):
                return kept
        with self.lock:
            if not self.budget_bytes:
                self.kept = ()  # let the old arrays go before drawing the new ones
        traffic = draw_traffic(scenario, trace, seed)
        if traffic is None:
            return None
        with self.lock:
            if not self.budget_bytes:
                self.kept = (traffic,)
            elif sum(t.nbytes for t in self.kept) + traffic.nbytes <= self.budget_bytes:
                self.kept = (*self.kept, traffic)
        return traffic

    @property
    def keeping(self) -> bool:
        return self.depth > 0

    def forget(self) -> None:
        if not self.keeping:
            self.kept = ()


# Tuples are rebound, never mutated, so Dask threads sharing the cache read a whole value.
_CACHE = _TrafficCache()


def _shared_traffic(scenario: Scenario, trace: Trace, seed: int) -> Traffic | None:
    """The requests of a run, reused when this process drew them already."""
    return _CACHE.get(scenario, trace, seed)


def forget_traffic() -> None:
    """Let go of the requests this process keeps for the next task (not inside
    :func:`keep_traffic`)."""
    _CACHE.forget()


@contextlib.contextmanager
def keep_traffic(budget_bytes: int = KEPT_TRAFFIC_BYTES) -> Iterator[None]:
    """Keep every replication's requests drawn in this process while the block runs.

    Runs in this process (:class:`SerialExecutor`, and a pool of one) then draw each
    replication's requests once for all the configurations run inside the block, even
    over many experiments (a search runs one sweep per configuration), as long as they
    fit in ``budget_bytes``; replications beyond it are drawn again in every run. A
    :class:`LocalExecutor` keeps its pool for the next experiment on the same scenarios
    and traces, its workers keeping the replications they draw (the budget split between
    them), until its ``close``. Results are the same either way.
    """
    with _CACHE.lock:
        _CACHE.depth += 1
        outer = _CACHE.budget_bytes
        _CACHE.budget_bytes = max(outer, int(budget_bytes), 1)
    try:
        yield
    finally:
        with _CACHE.lock:
            _CACHE.depth -= 1
            _CACHE.budget_bytes = outer
            if not _CACHE.keeping:
                _CACHE.kept = ()


def batches(
    workload: Workload, tasks: Sequence[Task], size: int = BATCH_TASKS
) -> list[tuple[list[Task], bool]]:
    """Tasks grouped by replication (same trace and seed), in batches of at most ``size``.

    Groups keep the order in which their first task comes, and tasks keep their order
    inside a group, so a process that takes consecutive batches draws each replication's
    requests once. Each batch comes with whether to share: only a replication with more
    than one task gains from keeping its requests (replications of one configuration do
    not, and keep no more than a block in memory).
    """
    groups: dict[tuple[int, int], list[Task]] = {}
    for task in tasks:
        groups.setdefault((id(workload.traces[task.variant]), task.seed), []).append(task)
    return [(g[i : i + size], len(g) > 1) for g in groups.values() for i in range(0, len(g), size)]


_SCENARIOS: dict[tuple[str, int, tuple[tuple[str, Any], ...]], Scenario] = {}


def _scenario(workload: Workload, variant: int, overrides: tuple[tuple[str, Any], ...]) -> Scenario:
    """The scenario of a task, validated once per worker and configuration."""
    key = (workload.token, variant, overrides)
    scenario = _SCENARIOS.get(key)
    if scenario is None:
        base = workload.scenarios[variant]
        scenario = base.with_overrides(dict(overrides), source="sweep") if overrides else base
        if len(_SCENARIOS) > 4096:
            _SCENARIOS.clear()
        _SCENARIOS[key] = scenario
    return scenario


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


#: What :meth:`Executor.run` yields: each task with its summary, as each finishes.
Runs = Generator[tuple[Task, dict[str, Any]], None, None]


class Executor(Protocol):
    """Runs tasks of one workload and yields ``(task, summary)`` as each finishes."""

    workers: int

    def run(self, workload: Workload, tasks: Sequence[Task]) -> Runs:
        """Yield each task with its summary, in the order they finish."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class SerialExecutor:
    """Runs every task in this process, one after another.

    Parameters
    ----------
    share_traffic : bool
        Run the tasks replication by replication, drawing each replication's requests once
        (same results; False draws them in every run, as each run alone would).
    engine : {"auto", "fast", "simpy"}
        Which engine runs each task (same results; see :func:`run_task`).
    """

    workers = 1

    def __init__(self, share_traffic: bool = True, engine: str = "auto") -> None:
        self.share_traffic = share_traffic
        self.engine = _checked_engine(engine)

    def run(self, workload: Workload, tasks: Sequence[Task]) -> Runs:
        """Yield each task with its summary: in order, or replication by replication."""
        if not self.share_traffic:
            for task in tasks:
                yield task, run_task(workload, task, engine=self.engine)
            return
        try:
            for batch, share in batches(workload, tasks):
                for task in batch:
                    # Inside keep_traffic a lone task's requests may serve a later experiment.
                    share = share or _CACHE.keeping
                    yield task, run_task(workload, task, share, self.engine)
        finally:
            forget_traffic()

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor:
    """Runs tasks in ``workers`` local processes (``concurrent.futures``).

    Workers start from a ``forkserver`` that has imported lfvsim once, so starting them is
    cheap, and no worker is forked from a process that may be running threads (a Dask
    client, numba, a test harness). Workers ignore Ctrl-C: the parent stops them.

    Parameters
    ----------
    workers : int
        Number of processes, >= 1.
    share_traffic : bool
        Send tasks in batches grouped by replication, each process drawing a replication's
        requests once (same results; False sends one task at a time, each drawing its own).
        Inside :func:`keep_traffic` the pool outlives :meth:`run` for the next experiment
        on the same scenarios and traces (until :meth:`close`), and its workers keep the
        replications they draw.
    engine : {"auto", "fast", "simpy"}
        Which engine runs each task (same results; see :func:`run_task`).
    reuse_pool : bool
        Keep the pool after :meth:`run` for the next call on the same workload (a sweep's
        waves and early-stopping looks), until :meth:`close`: processes start once, not
        once per call. The caller must call :meth:`close`.
    """

    def __init__(
        self,
        workers: int,
        share_traffic: bool = True,
        engine: str = "auto",
        reuse_pool: bool = False,
    ) -> None:
        if workers < 1:
            raise InputError(f"--workers {workers}: need at least one worker; use --workers 1")
        self.workers = workers
        self.share_traffic = share_traffic
        self.engine = _checked_engine(engine)
        self.reuse_pool = reuse_pool
        self._pool: cf.Executor | None = None
        self._pool_key: tuple[Any, ...] = ()
        self._pool_workload: Workload | None = None

    def run(self, workload: Workload, tasks: Sequence[Task]) -> Runs:
        """Yield each task with its summary, as each batch finishes."""
        if self.workers == 1 or len(tasks) <= 1:
            yield from SerialExecutor(self.share_traffic, self.engine).run(workload, tasks)
            return
        work = batches(workload, tasks) if self.share_traffic else [([t], False) for t in tasks]
        kept = self.share_traffic and _CACHE.keeping
        if kept:  # lone tasks too: their requests may serve the next experiment's
            work = [(b, True) for b, _ in work]
        reuse = kept or self.reuse_pool
        if reuse:
            pool = self._kept_pool(workload, _CACHE.budget_bytes if kept else 0)
        else:
            pool = self._pool_for(workload, len(work), 0)
        futures = {pool.submit(_run_in_worker, b, share, self.engine): b for b, share in work}
        finished = False
        try:
            for future in cf.as_completed(futures):
                yield from zip(futures[future], future.result(), strict=True)
            finished = True
        finally:
            if not reuse or not finished:
                pool.shutdown(wait=True, cancel_futures=True)
                if reuse:
                    self._pool = None
                    self._pool_workload = None

    def _pool_for(self, workload: Workload, workers: int, keep_bytes: int) -> cf.Executor:
        return cf.ProcessPoolExecutor(
            max_workers=min(self.workers, workers),
            mp_context=_context(),
            initializer=_init_worker,
            initargs=(workload, os.getpid(), keep_bytes),
        )

    def _kept_pool(self, workload: Workload, keep_bytes: int) -> cf.Executor:
        """One pool for every call on the same workload (kept until :meth:`close`).

        Inside :func:`keep_traffic` (``keep_bytes`` > 0) a search runs one small sweep per
        configuration, each with its own :class:`Workload` holding the same scenario and
        trace objects: the pool's workers, which keep the replications they drew (the
        budget split between them), serve them all. With ``reuse_pool`` (``keep_bytes``
        0) a sweep's waves and looks share it, each worker keeping the last replication
        it drew. The workload the pool started with is held, so its objects' ids stay
        theirs.
        """
        key = (
            tuple(map(id, workload.scenarios)),
            tuple(map(id, workload.traces)),
            workload.minute_percentile,
            keep_bytes > 0,
        )
        if self._pool is None or self._pool_key != key:
            self.close()
            budget = max(1, keep_bytes // self.workers) if keep_bytes > 0 else 0
            self._pool = self._pool_for(workload, self.workers, budget)
            self._pool_key, self._pool_workload = key, workload
        return self._pool

    def close(self) -> None:
        """Stop the pool kept across calls (``reuse_pool``, :func:`keep_traffic`), if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._pool_workload = None


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lfvsim.experiments.executors"])
    _start_forkserver()
    return context


def _start_forkserver() -> None:
    """Start the forkserver without the current folder on its ``sys.path``.

    It is started as ``python -c ...``, which puts the current folder first on
    ``sys.path`` (Python 3.11 ignores the parent's path there): a folder named ``lfvsim``
    in it (a checkout next to an installed lfvsim) would be imported instead, and every
    worker would die. ``PYTHONSAFEPATH`` keeps the current folder out.
    """
    from multiprocessing import forkserver

    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = saved


_WORKLOAD: Workload | None = None


def _init_worker(workload: Workload, parent_pid: int, keep_bytes: int = 0) -> None:
    global _WORKLOAD
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent_pid)
    _WORKLOAD = workload
    if keep_bytes:  # a pool kept across experiments: keep replications, not the last one
        _CACHE.depth = 1
        _CACHE.budget_bytes = keep_bytes


def _die_with(parent_pid: int) -> None:
    """End this worker when the process that started the pool ends, however it ends.

    A killed parent cannot stop its pool; without this its workers would simulate on,
    holding memory, until their current task ends. On Linux the kernel signals the worker
    when its own parent (the forkserver) exits; a thread also polls the pool's owner, which
    covers other systems and a forkserver that outlives it.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the polling thread below still applies

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="lfvsim-parent-watch", daemon=True).start()


def _run_in_worker(
    tasks: Sequence[Task], share_traffic: bool, engine: Engine
) -> list[dict[str, Any]]:
    assert _WORKLOAD is not None, "worker not initialized"
    return run_batch(_WORKLOAD, tasks, share_traffic, engine)


_DASK_ADDRESS = re.compile(r"^([a-z]+://)?[A-Za-z0-9.\-\[\]:]+:\d+/?$")


class DaskExecutor:
    """Runs tasks on an existing Dask distributed cluster.

    The workload is scattered to every worker once; each task is then a small message.
    The workers need lfvsim installed (the same version as here).

    Parameters
    ----------
    address : str or distributed.Client
        Scheduler address (``tcp://HOST:PORT``) or a connected client (left open on close).
    timeout_s : float
        How long to try to reach the scheduler.
    share_traffic : bool
        Submit tasks in batches grouped by replication, each drawing a replication's
        requests once (same results; False submits one task at a time). A worker process
        keeps the last replication's requests until it runs another batch.
    engine : {"auto", "fast", "simpy"}
        Which engine runs each task (same results; see :func:`run_task`).
    """

    def __init__(
        self,
        address: Any,
        timeout_s: float = 10.0,
        share_traffic: bool = True,
        engine: str = "auto",
    ) -> None:
        self.share_traffic = share_traffic
        self.engine = _checked_engine(engine)
        try:
            # Deferred: distributed is the optional 'dask' extra, and slow to import.
            from distributed import Client
        except ImportError:
            raise InputError(
                "--dask needs the optional Dask dependencies; install them with "
                "pip install 'lfvsim[dask]'"
            ) from None
        if isinstance(address, Client):
            self.client, self._owned = address, False
        else:
            if not _DASK_ADDRESS.match(str(address)):
                raise InputError(
                    f"'{address}' is not a Dask scheduler address; give tcp://HOST:PORT "
                    "(or HOST:PORT)"
                )
            try:
                self.client = Client(str(address), timeout=f"{timeout_s}s", set_as_default=False)
            except Exception as exc:  # OSError, TimeoutError, ValueError for a bad address
                message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise InputError(
                    f"cannot reach the Dask scheduler at '{address}' ({message}); check the "
                    "address (tcp://HOST:PORT) or use local processes with --workers"
                ) from None
            self._owned = True
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self._worker_info()))

    def _worker_info(self) -> list[dict[str, Any]]:
        return list(self.client.scheduler_info().get("workers", {}).values())

    def run(self, workload: Workload, tasks: Sequence[Task]) -> Runs:
        """Yield each task with its summary, in the order they finish."""
        from distributed import as_completed  # deferred: the optional 'dask' extra

        if not tasks:
            return
        shared = self.client.scatter(workload, broadcast=True, hash=False)
        work = batches(workload, tasks) if self.share_traffic else [([t], False) for t in tasks]
        futures = {
            self.client.submit(run_batch, shared, b, share, self.engine, pure=False): b
            for b, share in work
        }
        try:
            done = as_completed(list(futures), loop=self.client.loop, with_results=True)
            for future, summaries in done:
                yield from zip(futures[future], summaries, strict=True)
        finally:
            self.client.cancel([*futures, shared])

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._owned:
            self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cpu_count() -> int:
    """CPUs this process may use: its CPU affinity, capped by a cgroup v2 CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cpus, math.ceil(quota))) if quota is not None else cpus


def cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup v2 ``cpu.max`` quota of this process (None: no quota).

    Every level from the process's own cgroup up to the root may set a quota; the
    smallest applies.
    """
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None:
        return None
    quotas = []
    here = root / own.lstrip("/")
    for folder in (here, *here.parents):
        if root not in (folder, *folder.parents):
            break
        try:
            limit, period = (folder / "cpu.max").read_text().split()[:2]
        except (OSError, ValueError):
            continue
        if limit != "max" and float(period) > 0:
            quotas.append(float(limit) / float(period))
    return min(quotas) if quotas else None


def capped_workers(workers: int) -> tuple[int, str | None]:
    """``workers`` capped at the CPUs this process may use, with a note when capped."""
    cpus = cpu_count()
    if workers <= cpus:
        return workers, None
    return cpus, (
        f"--workers {workers}: this process may use {cpus} CPU{'s' if cpus > 1 else ''} "
        f"(CPU affinity and cgroup quota), so {cpus} worker{'s' if cpus > 1 else ''} run"
    )


def make_executor(
    workers: int | None = None,
    dask: Any = None,
    dask_timeout_s: float = 10.0,
    engine: str = "auto",
    reuse_pool: bool = False,
) -> Executor:
    """The executor for ``--workers`` / ``--dask`` / ``--engine``.

    Parameters
    ----------
    workers : int, optional
        Local processes; default: the CPU count. 1 runs in this process.
    dask : str, distributed.Client or executor, optional
        A scheduler address, a client, or one of this module's executors to use as is.
    dask_timeout_s : float
        How long to try to reach the scheduler.
    engine : {"auto", "fast", "simpy"}
        Which engine runs each task: ``auto`` (the compiled fast path where it applies),
        or ``simpy`` to force the reference (same results).
    reuse_pool : bool
        Local processes start once for every :meth:`Executor.run` until ``close`` (see
        :class:`LocalExecutor`); an executor passed as ``dask`` is used as it is.
    """
    if isinstance(dask, SerialExecutor | LocalExecutor | DaskExecutor):
        return dask
    if dask is not None and workers is not None:
        raise InputError("--workers and --dask exclude each other; give one of them")
    if dask is not None:
        return DaskExecutor(dask, dask_timeout_s, engine=engine)
    if workers is None:
        workers = cpu_count()
    if workers < 1:
        raise InputError(f"--workers {workers}: need at least one worker; use --workers 1")
    workers, note = capped_workers(workers)
    if note is not None:
        print(f"lfvsim: note: {note}", file=sys.stderr)
    if workers == 1:
        return SerialExecutor(engine=engine)
    return LocalExecutor(workers, engine=engine, reuse_pool=reuse_pool)
