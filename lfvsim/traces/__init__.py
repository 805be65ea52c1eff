"""The traces floor: traffic as input, with nothing of the engine in it.

It owns reading, generating, transforming, describing and writing traffic traces, the
``[traffic]`` section of a scenario, and the arrival stream the engine replays. It imports
only the shared base (errors, the scenario section helpers); running the engine on traces
(e.g. how much the arrival model matters: ``lfvsim.experiments.compare_arrivals``) lives
in the experiments floor.

Readers (the only file access): :func:`read_trace` (any kind, detected),
:func:`read_csv_trace`, :func:`read_parquet_trace`, :func:`read_cloudwatch_export`, and
:func:`get_cloudwatch_trace` for a live pull. Writers: :func:`write_trace` and friends.
Generators: :func:`constant`, :func:`diurnal`, :func:`factory`, with the modifiers
:func:`spikes`, :func:`growth`, :func:`noise`. Transforms: :func:`superpose`,
:func:`scale`, :func:`shift`, :func:`slice_trace`, :func:`repeat`, :func:`resample`,
:func:`to_counts`, :func:`with_arrivals`. Arrival models inside an interval:
:class:`PoissonArrivals`, :class:`EvenArrivals`, :class:`BatchArrivals`,
:class:`OnOffArrivals`. What a trace looks like: :func:`describe_trace`.
"""

from lfvsim.traces.arrivals import (
    ARRIVAL_MODELS,
    Arrivals,
    BatchArrivals,
    EvenArrivals,
    OnOffArrivals,
    PoissonArrivals,
    arrivals_from_options,
    spread_in_bins,
)
from lfvsim.traces.cloudwatch import get_cloudwatch_trace, read_cloudwatch_export
from lfvsim.traces.generators import constant, diurnal, factory, growth, noise, spikes
from lfvsim.traces.model import (
    CountTrace,
    RateTrace,
    RequestTrace,
    StreamedRequestTrace,
    SuperposedTrace,
    Trace,
)
from lfvsim.traces.readers import (
    detect_trace_format,
    read_csv_trace,
    read_parquet_trace,
    read_trace,
)
from lfvsim.traces.schema import trace_from_scenario, traffic_for_file
from lfvsim.traces.stats import TraceStats, describe_trace
from lfvsim.traces.transforms import (
    repeat,
    resample,
    scale,
    shift,
    slice_trace,
    superpose,
    to_counts,
    with_arrivals,
)
from lfvsim.traces.writers import (
    write_cloudwatch_export,
    write_counts,
    write_requests,
    write_trace,
)

__all__ = [
    "ARRIVAL_MODELS",
    "Arrivals",
    "BatchArrivals",
    "CountTrace",
    "EvenArrivals",
    "OnOffArrivals",
    "PoissonArrivals",
    "RateTrace",
    "RequestTrace",
    "StreamedRequestTrace",
    "SuperposedTrace",
    "Trace",
    "TraceStats",
    "arrivals_from_options",
    "constant",
    "describe_trace",
    "detect_trace_format",
    "diurnal",
    "factory",
    "get_cloudwatch_trace",
    "growth",
    "noise",
    "read_cloudwatch_export",
    "read_csv_trace",
    "read_parquet_trace",
    "read_trace",
    "repeat",
    "resample",
    "scale",
    "shift",
    "slice_trace",
    "spikes",
    "spread_in_bins",
    "superpose",
    "to_counts",
    "trace_from_scenario",
    "traffic_for_file",
    "with_arrivals",
    "write_cloudwatch_export",
    "write_counts",
    "write_requests",
    "write_trace",
]
