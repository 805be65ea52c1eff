"""lfvsim: cost and capacity planning for models hosted on inference units.

Simulates Amazon Lookout for Vision (and Rekognition Custom Labels) models that serve a
traffic trace on ``MinInferenceUnits``..``MaxInferenceUnits`` inference units, and reports
auto-scaling behaviour, throttling, latency, inference-unit hours and cost.

>>> import lfvsim
>>> scenario = lfvsim.load_scenario("scenarios/quickstart.toml")
>>> result = lfvsim.simulate(scenario, seed=1)
>>> result.summary.cost_usd, result.timeline["InServiceInferenceUnits"].max()
"""

from lfvsim.engine import Result, Summary, simulate
from lfvsim.errors import InputError
from lfvsim.scenario import Scenario, load_scenario, render_toml
from lfvsim.traces import constant, describe_trace, diurnal, factory, read_csv_trace, read_trace

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
