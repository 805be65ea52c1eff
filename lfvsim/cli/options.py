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
    "MaxP99Opt",
    "MaxThrottleOpt",
    "MaxUnitsOpt",
    "MinUnitsOpt",
    "NoMaxUnitsOpt",
    "RunSeedOpt",
    "ScenarioArg",
    "TraceOpt",
]

ScenarioArg = Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")]
TraceOpt = Annotated[
    Path | None,
    typer.Option(
        help="Replay this trace (CSV, Parquet or CloudWatch JSON) instead of the scenario's "
        "traffic."
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
RunSeedOpt = Annotated[int | None, typer.Option(min=0, help="Random seed.")]
ExperimentSeedOpt = Annotated[
    int | None,
    typer.Option(
        min=0, help="Experiment seed; replication k runs with child k of its SeedSequence."
    ),
]
MaxThrottleOpt = Annotated[
    float,
    typer.Option(
        help="SLO: the throttle rate's upper confidence bound must be at most this (0.001 = 0.1%)."
    ),
]
MaxP99Opt = Annotated[float | None, typer.Option(help="SLO: upper bound of the p99 latency (s).")]
ConfidenceOpt = Annotated[
    float, typer.Option(help="Confidence the SLO bounds and intervals hold at (one-sided bounds).")
]
#: ``--force``: let an output replace a file lfvsim did not write (see lfvsim.atomic).
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace an existing output file even if lfvsim did not write it."
    ),
]
