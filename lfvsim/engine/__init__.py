"""The engine floor: one run of a scenario on a trace, and its result.

It owns :func:`simulate` (a SimPy control plane for hosting, units, failures and the
autoscaler, over a batched numba data plane that serves every request exactly), the
auto-scaling policies and their :class:`~lfvsim.engine.policies.Policy` interface, the
seed of a run, the assembly of the :class:`Result` (per-minute timeline, summary, units,
events) and the plain per-request SimPy model the engine is tested against. It reads
scenarios and traces; it knows nothing of experiments, reports or the command line.
"""

from lfvsim.engine.policies import NoScaling, Observation, Oracle, Policy, TargetTracking
from lfvsim.engine.result import Result, Summary
from lfvsim.engine.seeds import resolve_seed
from lfvsim.engine.simulate import simulate

__all__ = [
    "NoScaling",
    "Observation",
    "Oracle",
    "Policy",
    "Result",
    "Summary",
    "TargetTracking",
    "resolve_seed",
    "simulate",
]
