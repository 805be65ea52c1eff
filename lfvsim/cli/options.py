"""Options and arguments several commands share, declared once.

Each alias is a parameter type with its flag and help text: a command writes
``trace: TraceOpt = None``. Options whose meaning differs between commands (``--json``,
``--output``) stay with their command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "ConfidenceOpt",
    "DescribeOpt",
    "ExperimentSeedOpt",
    "FillGapsOpt",
    "ForceOpt",
    "MaxMinuteOpt",
    "MaxP99Opt",
    "MaxThrottleOpt",
    "MaxUnitsOpt",
    "MaxWorstHourOpt",
    "MinUnitsOpt",
    "MinutePercentileOpt",
    "NoMaxUnitsOpt",
    "RunSeedOpt",
    "ScaleOpt",
    "ScenarioArg",
    "StoredConfidenceOpt",
    "StoredMaxThrottleOpt",
    "StoredMinutePercentileOpt",
    "SweepMaxThrottleOpt",
    "TraceOpt",
]

ScenarioArg = Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")]
TraceOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="TRACE",
        help="Replay this trace (CSV, Parquet or CloudWatch JSON) instead of the scenario's "
        "traffic.",
    ),
]
FillGapsOpt = Annotated[
    str | None,
    typer.Option(
        metavar="zero",
        help="With --trace: count missing intervals as zero requests (CloudWatch writes "
        "no datapoint for a minute without requests); reported in the notes.",
    ),
]
ScaleOpt = Annotated[
    float | None,
    typer.Option(
        "--scale",
        metavar="FACTOR",
        help="With --trace: multiply the trace's traffic by FACTOR; said in the notes.",
    ),
]
DescribeOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Take the model (project, version, region, units) from saved "
        "describe-model or describe-project-versions JSON.",
    ),
]
MinUnitsOpt = Annotated[
    int | None, typer.Option(min=1, help="MinInferenceUnits instead of the scenario's.")
]
MaxUnitsOpt = Annotated[
    int | None, typer.Option(min=1, help="MaxInferenceUnits instead of the scenario's.")
]
NoMaxUnitsOpt = Annotated[
    bool,
    typer.Option("--no-max-units", help="Unset MaxInferenceUnits: no auto-scaling."),
]
RunSeedOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Seed of the random draws (default: the scenario's simulation.seed, else a fresh "
        "one; the output names the seed used).",
    ),
]
ExperimentSeedOpt = Annotated[
    int | None,
    typer.Option(
        min=0, help="Experiment seed; replication k runs with child k of its SeedSequence."
    ),
]
MaxThrottleOpt = Annotated[
    float,
    typer.Option(
        metavar="RATE",
        help="SLO: the throttle rate's upper confidence bound must be at most this (0.001 = 0.1%).",
    ),
]
MaxP99Opt = Annotated[
    float | None,
    typer.Option(metavar="SECONDS", help="SLO: upper bound of the p99 latency (s)."),
]
MaxWorstHourOpt = Annotated[
    float | None,
    typer.Option(
        metavar="RATE",
        help="SLO: upper bound of the throttle rate in the worst clock hour (0.03 = 3%).",
    ),
]
MaxMinuteOpt = Annotated[
    float | None,
    typer.Option(
        metavar="RATE",
        help="SLO: upper bound of the --minute-percentile (default 99th) percentile of "
        "per-minute throttle rates (0.05: 99% of minutes throttle at most 5%).",
    ),
]
MinutePercentileOpt = Annotated[
    float,
    typer.Option(
        metavar="P",
        help="Which percentile of per-minute throttle rates --max-minute-rate holds, "
        "0 < P < 100 (e.g. 95 or 99.9); computed exactly from the per-minute rates.",
    ),
]
#: ``sweep``: an SLO is optional there; given, the table says which configurations meet it.
SweepMaxThrottleOpt = Annotated[
    float | None,
    typer.Option(
        "--max-throttle-rate",
        metavar="RATE",
        help="SLO: show whether each configuration's throttle-rate upper bound is at most "
        "this (0.001 = 0.1%), and store the SLO in the --output file for plot and report.",
    ),
]
ConfidenceOpt = Annotated[
    float,
    typer.Option(
        metavar="LEVEL",
        help="Confidence the SLO bounds and intervals hold at (one-sided bounds).",
    ),
]
#: ``plot`` and ``report``: the SLO a figure or report draws; unset, the sweep's stored SLO.
StoredMaxThrottleOpt = Annotated[
    float | None,
    typer.Option(
        "--max-throttle-rate",
        metavar="RATE",
        help="SLO: the throttle rate's upper confidence bound must be at most this (0.001 = "
        "0.1%). Default: the SLO stored with the sweep (lfvsim sweep or recommend -o).",
    ),
]
StoredConfidenceOpt = Annotated[
    float | None,
    typer.Option(
        "--confidence",
        metavar="LEVEL",
        help="Confidence of the bounds and intervals (one-sided bounds). Default: the "
        "sweep's, else 0.95.",
    ),
]
StoredMinutePercentileOpt = Annotated[
    float | None,
    typer.Option(
        "--minute-percentile",
        metavar="P",
        help="Which percentile of per-minute throttle rates --max-minute-rate holds, "
        "0 < P < 100. Default: the sweep's SLO's, else 99.",
    ),
]
#: ``--force``: let an output replace a file lfvsim did not write (see lfvsim.atomic).
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace an existing output file even if lfvsim did not write it."
    ),
]
