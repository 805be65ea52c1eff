"""The experiments floor: everything that runs the engine many times.

It owns replications, (Min, Max) sweeps and their executors (local processes, Dask),
SLO-based recommendations, operating modes side by side (:func:`compare_modes`) and how
much the arrival model inside an interval moves a run (:func:`compare_arrivals`). It calls
:func:`lfvsim.engine.simulate` and reads its results; reports and the command line sit above.

A single run is one draw of a random process, so every figure lfvsim reports for a
decision comes with its uncertainty:

- :func:`replicate` runs one scenario with independent seeds from
  ``SeedSequence(seed).spawn(n)``: a tidy table (one row per replication) and each metric's
  mean with a Student t confidence interval.
- :func:`sweep` runs every (Min, Max) configuration, replicated with common random numbers
  (replication ``k`` uses the same seed everywhere), on local processes or a Dask cluster,
  resumably into a Parquet or CSV file.
- :func:`recommend` picks the cheapest configuration whose SLO holds at a confidence level,
  with the runner-up, what one more unit of Max buys and the gap to the zero-throttle oracle.

>>> from lfvsim.experiments import recommend, sweep
>>> table = sweep(scenario, min_units=[1], max_units=range(1, 9), replications=10,
...               oracle=True, workers=2)
>>> rec = recommend(table, max_throttle_rate=0.001, scenario=scenario)
>>> rec.choice.max_units, rec.choice.monthly_cost_usd, rec.start_model_request
"""

from lfvsim.experiments.compare import MODES_HELP, compare_modes, mode_overrides
from lfvsim.experiments.executors import DaskExecutor, LocalExecutor, SerialExecutor
from lfvsim.experiments.recommend import (
    Configuration,
    Difference,
    Recommendation,
    aggregate,
    recommend,
)
from lfvsim.experiments.replicate import (
    HOURS_PER_MONTH,
    Replications,
    replicate,
    replication_seeds,
)
from lfvsim.experiments.sensitivity import DEFAULT_ARRIVAL_MODELS, compare_arrivals
from lfvsim.experiments.stats import mean_interval, t_quantile, upper_bound
from lfvsim.experiments.sweep import configurations, sweep, vary_columns

__all__ = [
    "DEFAULT_ARRIVAL_MODELS",
    "HOURS_PER_MONTH",
    "MODES_HELP",
    "Configuration",
    "DaskExecutor",
    "Difference",
    "LocalExecutor",
    "Recommendation",
    "Replications",
    "SerialExecutor",
    "aggregate",
    "compare_arrivals",
    "compare_modes",
    "configurations",
    "mean_interval",
    "mode_overrides",
    "recommend",
    "replicate",
    "replication_seeds",
    "sweep",
    "t_quantile",
    "upper_bound",
    "vary_columns",
]
