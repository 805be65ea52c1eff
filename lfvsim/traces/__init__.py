"""Traffic traces: readers, generators, and the arrival stream the engine replays."""

from lfvsim.traces.generators import constant, diurnal
from lfvsim.traces.model import CountTrace, RateTrace, RequestTrace, Trace, spread_in_bins
from lfvsim.traces.readers import read_csv_trace
from lfvsim.traces.schema import trace_from_scenario

__all__ = [
    "CountTrace",
    "RateTrace",
    "RequestTrace",
    "Trace",
    "constant",
    "diurnal",
    "read_csv_trace",
    "spread_in_bins",
    "trace_from_scenario",
]
