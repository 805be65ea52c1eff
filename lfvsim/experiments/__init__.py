"""Experiments: replications, (Min, Max) sweeps and SLO-based recommendations.

A single run is one draw of a random process, so every figure lfvsim reports for a
decision comes with its uncertainty:

- :func:`replicate` runs one scenario with independent seeds from
  ``SeedSequence(seed).spawn(n)``: a tidy table (one row per replication) and each metric's
  mean with a Student t confidence interval.
- :func:`sweep` runs every (Min, Max) configuration, replicated with common random numbers
  (replication ``k`` uses the same seed everywhere), on local processes or a Dask cluster,
  resumably into a Parquet or CSV file.
- :func:`recommend` picks the cheapest configuration whose SLO holds at a confidence level,
  with the runner-up, what one more unit of Max buys and the gap to the oracle lower bound.

>>> from lfvsim.experiments import recommend, sweep
>>> table = sweep(scenario, min_units=[1], max_units=range(1, 9), replications=10,
...               oracle=True, workers=2)
>>> rec = recommend(table, max_throttle_rate=0.001, scenario=scenario)
>>> rec.choice.max_units, rec.choice.monthly_cost_usd, rec.start_model_request
"""

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
from lfvsim.experiments.stats import mean_interval, t_quantile, upper_bound
from lfvsim.experiments.sweep import configurations, sweep, vary_columns

__all__ = [
    "HOURS_PER_MONTH",
    "Configuration",
    "DaskExecutor",
    "Difference",
    "LocalExecutor",
    "Recommendation",
    "Replications",
    "SerialExecutor",
    "aggregate",
    "configurations",
    "mean_interval",
    "recommend",
    "replicate",
    "replication_seeds",
    "sweep",
    "t_quantile",
    "upper_bound",
    "vary_columns",
]
