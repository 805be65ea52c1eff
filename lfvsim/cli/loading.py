"""The scenario a command runs: the file, then the command line's overrides.

Registers no command. Every command that loads a scenario goes through
:func:`load_with_overrides`, so the same options mean the same thing and a conflict
between them reads the same everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lfvsim.errors import InputError

if TYPE_CHECKING:  # the library loads when a command runs, so that --help starts fast
    from lfvsim.scenario import Scenario

__all__ = [
    "check_max_units_flags",
    "check_scale",
    "load_with_overrides",
    "overlay_describe_model",
    "warn",
]


def warn(message: str) -> None:
    """A non-fatal problem: one line on stderr."""
    typer.echo(f"lfvsim: warning: {message}", err=True)


def check_max_units_flags(max_units: int | None, no_max_units: bool) -> None:
    """``--max-units`` and ``--no-max-units`` together: one message for every command."""
    if no_max_units and max_units is not None:
        raise InputError("give --max-units or --no-max-units, not both")


def check_scale(scale: float | None, trace: Path | None) -> None:
    """``--scale``: a positive factor, and only together with ``--trace``."""
    if scale is None:
        return
    if trace is None:
        raise InputError("--scale applies to a --trace file; give --trace FILE")
    if not scale > 0:
        raise InputError(f"--scale {scale}: give a positive factor, e.g. --scale 0.01")


def overlay_describe_model(scenario: Scenario, path: Path) -> Scenario:
    """``--describe-model``: the scenario with [model] from a describe file."""
    from lfvsim.aws import apply_model_description, read_model_description

    description = read_model_description(path)
    scenario = apply_model_description(scenario, description)
    for message in description.warnings():
        warn(message)
    return scenario


def load_with_overrides(
    path: Path,
    *,
    trace: Path | None = None,
    fill_gaps: str | None = None,
    scale: float | None = None,
    describe_model: Path | None = None,
    min_units: int | None = None,
    max_units: int | None = None,
    no_max_units: bool = False,
) -> Scenario:
    """Load a scenario file and apply the command line's options to it.

    Parameters
    ----------
    path : Path
        The scenario TOML file.
    trace, fill_gaps, scale : Path or None, str or None, float or None
        Traffic from this file instead of the scenario's; ``fill_gaps`` reads it and
        ``scale`` multiplies its traffic.
    describe_model : Path, optional
        Saved describe-model JSON whose model replaces the scenario's [model].
    min_units, max_units, no_max_units : int or None, int or None, bool
        MinInferenceUnits and MaxInferenceUnits instead of the scenario's; ``no_max_units``
        unsets Max (no auto-scaling).

    Raises
    ------
    InputError
        Options that contradict each other, or a file that does not load.
    """
    from lfvsim.scenario import load_scenario
    from lfvsim.traces.schema import traffic_for_file

    check_max_units_flags(max_units, no_max_units)
    if fill_gaps is not None and trace is None:
        raise InputError("--fill-gaps applies to a --trace file; give --trace FILE")
    check_scale(scale, trace)
    scenario = load_scenario(path)
    if describe_model is not None:
        scenario = overlay_describe_model(scenario, describe_model)
    overrides: dict[str, Any] = {}
    if trace is not None:
        options: dict[str, Any] = {} if fill_gaps is None else {"fill_gaps": fill_gaps}
        if scale is not None:
            options["scale"] = scale
        # The path as typed, so that messages name the file as the user did.
        overrides["traffic"] = {**traffic_for_file(trace, **options), "path": str(trace)}
    if min_units is not None:
        overrides["model.min_units"] = min_units
    if max_units is not None:
        overrides["model.max_units"] = max_units
    if no_max_units:
        overrides["model.max_units"] = None
    if not overrides:
        return scenario
    scenario = scenario.with_overrides(overrides, source="command-line options")
    if trace is not None:
        # --trace is relative to where the command runs, not to the scenario's folder.
        scenario = scenario.model_copy(update={"base_dir": Path(".")})
    return scenario
