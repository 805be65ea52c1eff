"""How much a run's answer moves with the arrival model inside an interval.

Per-minute counts (CloudWatch, most logs) say how many requests a minute held, not how they
were spread inside it; bursts inside the minute are what throttle. :func:`compare_arrivals`
replays the same counts under several arrival models with the same seed and puts the
summaries side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lfvsim.budget import check_runs, checked
from lfvsim.engine import resolve_seed
from lfvsim.engine.fast import simulate_summary
from lfvsim.scenario import Scenario
from lfvsim.traces import (
    Arrivals,
    BatchArrivals,
    CountTrace,
    EvenArrivals,
    OnOffArrivals,
    PoissonArrivals,
    RequestTrace,
    StreamedRequestTrace,
    Trace,
    describe_trace,
    to_counts,
    trace_from_scenario,
    with_arrivals,
)

__all__ = ["DEFAULT_ARRIVAL_MODELS", "compare_arrivals"]

#: Models compared by default: the smoothest, Poisson, and two bursty ones.
DEFAULT_ARRIVAL_MODELS: tuple[Arrivals, ...] = (
    EvenArrivals(),
    PoissonArrivals(),
    BatchArrivals(4.0, 0.5),
    OnOffArrivals(0.5, 30.0),
)

_COLUMNS = [
    "requests", "throttled", "throttle_rate", "latency_p50_s", "latency_p99_s",
    "wait_mean_s", "unit_hours", "cost_usd", "peak_units", "scale_out_events",
]  # fmt: skip


def compare_arrivals(
    scenario: Scenario,
    trace: Trace | None = None,
    models: Sequence[Arrivals] = DEFAULT_ARRIVAL_MODELS,
    seed: int | None = None,
    *,
    allow_large: bool = False,
) -> pd.DataFrame:
    """Run a scenario once per arrival model; one row per model.

    Parameters
    ----------
    scenario : Scenario
        What to simulate.
    trace : Trace, optional
        Traffic; default: the scenario's. A per-request trace is run as recorded first,
        then counted per minute and re-spread by each model. A synthetic trace is sampled
        into counts once (from ``seed``), so every model places the same counts.
    models : sequence of Arrivals
        The arrival models to compare.
    seed : int, optional
        One seed for every run (default: the scenario's, else 0), so the runs differ only by
        the arrival model.
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`), checked once for
        every run.

    Returns
    -------
    pandas.DataFrame
        Index ``arrivals`` (the model's name); columns ``description``, the summary's
        ``requests``, ``throttled``, ``throttle_rate``, ``latency_p50_s``,
        ``latency_p99_s``, ``wait_mean_s``, ``unit_hours``, ``cost_usd``, ``peak_units``,
        ``scale_out_events``, and the trace's ``peak_tps_1s`` and ``dispersion_1s``.
    """
    read = check_runs(scenario, trace, len(models) + 1, allow_large=allow_large)
    base = trace if trace is not None else read
    base = base if base is not None else trace_from_scenario(scenario)
    # Seed 0, not fresh entropy, when none is set: the table is the same on every run.
    seed = resolve_seed(seed, scenario, fallback=0)
    runs: list[tuple[str, str, Trace]] = []
    if isinstance(base, RequestTrace | StreamedRequestTrace):
        runs.append(("recorded", "the recorded request times", base))
    elif not (isinstance(base, CountTrace) and np.ndim(base.scale) == 0 and base.scale == 1.0):
        # Draw the counts once, so that every model places exactly the same counts.
        base = to_counts(base, getattr(base, "bin_s", 60.0), seed=seed)
    for model in models:
        runs.append((model.name, model.describe(), with_arrivals(base, model)))
    rows = []
    for name, desc, t in runs:
        with checked():  # costed once, above
            # Summary only (the fast path where it applies; the same figures as simulate).
            # Each model places other arrival times: there are no requests to share.
            summary = simulate_summary(scenario, trace=t, seed=seed).summary.to_dict()
        stats = describe_trace(t, seed=seed)
        rows.append(
            {
                "arrivals": name,
                "description": desc,
                **{k: summary[k] for k in _COLUMNS},
                "peak_tps_1s": stats.peak_tps_1s,
                "dispersion_1s": stats.dispersion_1s,
            }
        )
    frame = pd.DataFrame(rows).set_index("arrivals")
    frame["throttle_rate"] = frame["throttle_rate"].astype(float)
    return frame.replace({None: np.nan})
