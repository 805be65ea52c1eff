"""Readers for what lfvsim writes: run folders and sweep tables.

The writers live on the floors that produce the data (:meth:`lfvsim.Result.write` in the
engine's result, the sweep's output in :mod:`lfvsim.experiments.sweep`); their readers
live here, at the reports floor that consumes them, and take the sweep's file formats from
its writer.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from lfvsim.engine.result import Result, Summary
from lfvsim.errors import InputError
from lfvsim.experiments.sweep import _FORMATS as SWEEP_FORMATS
from lfvsim.machine_output import check_schema_version, unstamped_table
from lfvsim.safe_output import csv_restored_frame, shell_command
from lfvsim.scenario import load_scenario

__all__ = ["RUN_FILES", "SWEEP_COLUMNS", "SWEEP_FORMATS", "read_run", "read_sweep"]

RUN_FILES = ("timeline.csv", "summary.json", "scenario.toml")
"""Files every ``lfvsim run --out`` folder has."""
SWEEP_COLUMNS = (
    "min_units",
    "max_units",
    "oracle_bound",
    "replication",
    "seed",
    "requests",
    "throttled",
    "throttle_rate",
    "monthly_cost_usd",
    "latency_p99_s",
    "unit_hours",
    "mean_units",
    "peak_units",
)
"""Columns a sweep table must have for the reports."""
#: Sweep columns that every row has: a row without one is a damaged (cut) file.
_SWEEP_COUNTS = ("min_units", "replication", "seed", "requests", "throttled", "unit_hours")


def read_run(directory: str | Path) -> Result:
    """Read the folder ``lfvsim run --out`` wrote back into a :class:`lfvsim.Result`.

    Parameters
    ----------
    directory : str or Path
        The folder (or a file in it) with ``timeline.csv``, ``summary.json`` and
        ``scenario.toml``; ``units.csv`` and ``events.csv`` are read when present.

    Returns
    -------
    Result
        With the timeline indexed by UTC time, the summary, the resolved scenario, the
        seed, the trace's description and the notes. ``requests`` is None.

    Raises
    ------
    InputError
        The folder is missing, lacks a file, or a file is malformed.
    """

    folder = Path(directory)
    if folder.is_file():
        if folder.name not in (*RUN_FILES, "units.csv", "events.csv"):
            raise InputError(
                f"'{folder}' is a file, not a run folder; give the folder lfvsim run --out "
                "wrote (sweep results draw as frontier, heatmap-cost or heatmap-throttle)"
            )
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"run folder '{directory}' does not exist; give an lfvsim run --out DIR")
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing and (folder / "replications.csv").is_file():
        # 'run --replications N --out' writes one row per replication and no timeline:
        # telling its author to run 'run --out' again would not say what to change.
        raise InputError(
            f"'{folder}' holds replications (run --replications), not one run's timeline; "
            "write a run folder without --replications, e.g. "
            + shell_command("lfvsim", "run", "SCENARIO", "--out", "DIR")
        )
    if missing:
        raise InputError(
            f"'{folder}' has no {', '.join(missing)}: it is not a run folder; write one with "
            + shell_command("lfvsim", "run", "SCENARIO", "--out", folder)
        )
    try:
        with (folder / "timeline.csv").open(encoding="utf-8", errors="replace") as handle:
            if "timestamp" not in handle.readline().split(","):
                raise ValueError("no timestamp column")
        timeline = pd.read_csv(folder / "timeline.csv", index_col="timestamp")
        timeline.index = pd.to_datetime(timeline.index, utc=True)
        timeline.index.name = "timestamp"
        _check_timeline(timeline)
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise InputError(
            f"'{folder / 'timeline.csv'}' is not an lfvsim timeline ({one_line(exc)}); "
            "write it again with lfvsim run --out"
        ) from None
    timeline = unstamped_table(timeline, str(folder / "timeline.csv"))
    if "MaxInferenceUnits" in timeline:
        timeline["MaxInferenceUnits"] = pd.array(
            pd.to_numeric(timeline["MaxInferenceUnits"], errors="coerce"), dtype="Int64"
        )
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"'{folder / 'summary.json'}' is not JSON ({one_line(exc)})") from None
    if not isinstance(data, dict):
        raise InputError(f"'{folder / 'summary.json'}' is not an lfvsim summary")
    check_schema_version(data.get("schema_version", 1), str(folder / "summary.json"))
    scenario = load_scenario(folder / "scenario.toml")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Summary):
        value = data.get(f.name)
        if value is None and "float" in str(f.type) and "None" not in str(f.type):
            value = math.nan
        values[f.name] = _summary_value(folder / "summary.json", f.name, str(f.type), value)
    minutes = values.get("duration_h")
    if isinstance(minutes, float) and math.isfinite(minutes):
        # One row per minute: fewer (or more) rows than the run lasted is a cut or mixed file.
        expected = math.ceil(minutes * 60 - 1e-6)
        if len(timeline) != expected:
            raise InputError(
                f"'{folder / 'timeline.csv'}' has {len(timeline)} rows but the summary's "
                f"{minutes:g} h need {expected}; it is damaged: write it again with "
                "lfvsim run --out"
            )
    notes = data.get("notes", [])
    if not isinstance(notes, list):
        raise InputError(f"'{folder / 'summary.json'}': notes is not a list; run it again")
    units = _optional_csv(folder / "units.csv")
    events = _optional_csv(folder / "events.csv")
    return Result(
        summary=Summary(**values),
        timeline=timeline,
        units=units,
        events=events,
        scenario=scenario,
        seed=int(data.get("seed") or 0),
        trace_source=str(data.get("trace", "")),
        notes=[str(n) for n in notes],
    )


def _check_timeline(timeline: pd.DataFrame) -> None:
    """Raise ValueError unless the timeline has rows and numbers in its number columns."""
    if timeline.empty:
        raise ValueError("no rows")
    if "offered_requests" in timeline and timeline["offered_requests"].isna().any():
        raise ValueError("a row without offered_requests (cut short?)")
    times = timeline.index
    if times.hasnans or not times.is_monotonic_increasing:
        raise ValueError("timestamps missing or out of order")
    if times[0].year < 1970 or times[-1].year >= 2200:
        raise ValueError(f"timestamps from {times[0]} to {times[-1]}, outside 1970-2200")
    for name in timeline.columns:
        if name != "MaxInferenceUnits" and not pd.api.types.is_numeric_dtype(timeline[name]):
            raise ValueError(f"column {name!r} holds text where numbers belong")


def _summary_value(path: Path, key: str, kind: str, value: Any) -> Any:
    """A summary value checked against its field's type: numbers are numbers, text is text."""
    if value is None:
        return value
    if kind.startswith(("int", "float")):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind.startswith("int"):
            ok = isinstance(value, int) or (math.isfinite(value) and value == int(value))
            value = int(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise InputError(
            f"'{path}': {key} is {value!r}, not {kind.split(' ')[0]}; it is damaged: run it again"
        )
    return value


def read_sweep(path: str | Path) -> pd.DataFrame:
    """Read a sweep's results (``lfvsim sweep -o``/``lfvsim recommend -o``, Parquet or CSV).

    Returns
    -------
    pandas.DataFrame
        One row per configuration x replication, as :func:`lfvsim.experiments.sweep`
        returns it (``max_units`` as Int64, NA for no auto-scaling).

    Raises
    ------
    InputError
        The file is missing, not Parquet or CSV, or not a sweep table.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SWEEP_FORMATS:
        raise InputError(
            f"sweep results '{path}': unknown format '{suffix}'; give the .parquet or .csv "
            "that lfvsim sweep -o wrote"
        )
    if not path.is_file():
        raise InputError(f"sweep results '{path}' do not exist; check the path")
    try:
        csv = SWEEP_FORMATS[suffix] == "csv"
        table = pd.read_csv(path) if csv else pd.read_parquet(path)
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        raise InputError(f"sweep results '{path}' are unreadable ({one_line(exc)})") from None
    if csv:  # text cells a spreadsheet would run got an apostrophe when written
        table = csv_restored_frame(table)
    table = unstamped_table(table, str(path))
    missing = [c for c in SWEEP_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"'{path}' is not a sweep table (no {', '.join(missing[:4])}"
            f"{', ...' if len(missing) > 4 else ''}); write one with lfvsim sweep SCENARIO -o FILE"
        )
    if table.empty:
        raise InputError(f"sweep results '{path}' have no rows; run the sweep again")
    for name in SWEEP_COLUMNS:
        if name in ("max_units", "oracle_bound"):
            continue
        column = table[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise InputError(
                f"sweep results '{path}': column {name} holds text where numbers belong; it is "
                "damaged: run the sweep again"
            )
        if name in _SWEEP_COUNTS and column.isna().any():
            row = int(column.isna().to_numpy().argmax()) + (2 if csv else 1)
            raise InputError(
                f"sweep results '{path}': row {row} has no {name} (cut short?); it is damaged: "
                "run the sweep again"
            )
    table["max_units"] = pd.array(pd.to_numeric(table["max_units"], errors="coerce"), dtype="Int64")
    oracle = table["oracle_bound"]
    if oracle.dtype == object:
        oracle = oracle.astype(str).str.lower().map({"true": True, "false": False})
    table["oracle_bound"] = oracle.fillna(False).astype(bool)
    return table


def _optional_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    try:
        return unstamped_table(pd.read_csv(path), str(path))
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")
