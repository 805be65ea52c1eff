"""lfvsim: cost and capacity planning for models hosted on inference units.

Simulates Amazon Lookout for Vision (and Rekognition Custom Labels) models that serve a
traffic trace on ``MinInferenceUnits``..``MaxInferenceUnits`` inference units, and reports
auto-scaling behaviour, throttling, latency, inference-unit hours and cost.

>>> import lfvsim
>>> scenario = lfvsim.load_scenario("scenarios/quickstart.toml")
>>> result = lfvsim.simulate(scenario, seed=1)
>>> result.summary.cost_usd, result.timeline["InServiceInferenceUnits"].max()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and tests/test_layers.py; loaded on first use below
    from lfvsim.engine import Result, Summary, simulate
    from lfvsim.errors import InputError
    from lfvsim.scenario import Scenario, load_scenario, render_toml
    from lfvsim.traces import (
        constant,
        describe_trace,
        diurnal,
        factory,
        read_csv_trace,
        read_trace,
    )

# Where each public name lives. They load on first use (PEP 562), so that `import lfvsim`
# and `lfvsim --help` do not pay for pandas, numba and pydantic up front.
_HOMES = {
    "InputError": "lfvsim.errors",
    "Result": "lfvsim.engine",
    "Scenario": "lfvsim.scenario",
    "Summary": "lfvsim.engine",
    "constant": "lfvsim.traces",
    "describe_trace": "lfvsim.traces",
    "diurnal": "lfvsim.traces",
    "factory": "lfvsim.traces",
    "load_scenario": "lfvsim.scenario",
    "read_csv_trace": "lfvsim.traces",
    "read_trace": "lfvsim.traces",
    "render_toml": "lfvsim.scenario",
    "simulate": "lfvsim.engine",
}

__all__ = [
    "InputError",
    "Result",
    "Scenario",
    "Summary",
    "constant",
    "describe_trace",
    "diurnal",
    "factory",
    "load_scenario",
    "read_csv_trace",
    "read_trace",
    "render_toml",
    "simulate",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'lfvsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
