"""Reading traces from files. Readers are the only place traces touch the disk."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.model import CountTrace, RequestTrace

__all__ = ["read_csv_trace"]

_TIME_COLUMNS = ("timestamp", "time", "period")


def read_csv_trace(path: str | Path, scale: float = 1.0) -> CountTrace | RequestTrace:
    """Read a CSV trace.

    Two layouts are recognised by their header:

    - ``timestamp``: one row per request;
    - ``timestamp,count``: requests per interval, at any fixed interval.

    The time column may also be called ``time`` or ``period``. Timestamps are ISO 8601
    (naive ones are UTC) or epoch seconds.

    Raises
    ------
    InputError
        Missing file, no rows, unparseable or negative timestamps, unsorted rows,
        irregular intervals, or invalid counts; the message names the row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"trace file '{path}' does not exist; check the path")
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a readable CSV ({reason}); check the file") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    time_col = next((c for c in _TIME_COLUMNS if c in frame.columns), None)
    if time_col is None:
        raise InputError(
            f"{path}: no time column (found {', '.join(frame.columns) or 'none'}); "
            "name it 'timestamp'"
        )
    if frame.empty:
        raise InputError(f"{path}: the trace has no rows; give at least one request")
    seconds = _epoch_seconds(frame[time_col], path)
    _check_sorted(seconds, path)
    if "count" in frame.columns:
        return _counts_trace(seconds, frame["count"], path, scale)
    if scale != 1.0:
        raise InputError(
            f"{path}: traffic.scale applies to counts traces only; remove it for per-request traces"
        )
    start_s = math.floor(seconds[0] / 60.0) * 60.0
    times = seconds - start_s
    duration = (math.floor(times[-1] / 60.0) + 1) * 60.0
    return RequestTrace(_from_epoch(start_s), times, duration, source=str(path))


def _counts_trace(seconds: np.ndarray, col: pd.Series, path: Path, scale: float) -> CountTrace:
    counts = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{path}: row {row + 2}: count {_cell(col.iloc[row])} is not a non-negative integer; "
            "fix or remove the row"
        )
    if len(seconds) == 1:
        raise InputError(
            f"{path}: a counts trace needs at least two rows to know its interval; add rows"
        )
    steps = np.diff(seconds)
    dup = steps == 0
    if dup.any():
        row = int(np.argmax(dup)) + 1
        raise InputError(
            f"{path}: row {row + 2}: duplicate timestamp {_from_epoch(seconds[row])}; "
            "merge the rows into one count"
        )
    bin_s = float(steps.min())
    irregular = np.abs(steps - bin_s) > 1e-6 * bin_s
    if irregular.any():
        row = int(np.argmax(irregular)) + 1
        raise InputError(
            f"{path}: row {row + 2}: gap of {steps[row - 1]:g} s at {_from_epoch(seconds[row])} "
            f"in a trace of {bin_s:g} s intervals; add the missing rows with count 0"
        )
    return CountTrace(
        _from_epoch(seconds[0]), bin_s, counts.astype(np.int64), scale=scale, source=str(path)
    )


def _epoch_seconds(col: pd.Series, path: Path) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(
                f"{path}: row {row + 2}: timestamp {_cell(col.iloc[row])} is not a non-negative "
                "epoch second; fix or remove the row"
            )
        return values
    try:
        parsed = pd.to_datetime(col, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(col, utc=True, format="ISO8601", errors="coerce")
        if not parsed.isna().any():  # every row parses alone: a mix of zones and none
            raise InputError(
                f"{path}: timestamps mix time zones with naive times; give every row an offset"
            ) from None
    if parsed.isna().any():
        row = int(np.argmax(parsed.isna().to_numpy()))
        raise InputError(
            f"{path}: row {row + 2}: cannot read timestamp {_cell(col.iloc[row])}; use ISO 8601 "
            "(2026-01-05T10:00:00Z) or epoch seconds"
        )
    values = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    if (values < 0).any():
        row = int(np.argmax(values < 0))
        raise InputError(
            f"{path}: row {row + 2}: timestamp {_cell(col.iloc[row])} is before 1970; fix the row"
        )
    return values


def _check_sorted(seconds: np.ndarray, path: Path) -> None:
    back = np.diff(seconds) < 0
    if back.any():
        row = int(np.argmax(back)) + 1
        raise InputError(
            f"{path}: row {row + 2}: timestamp {_from_epoch(seconds[row])} is earlier than the "
            "row before; sort the file by timestamp"
        )


def _from_epoch(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def _cell(value: object) -> str:
    """A CSV cell as the user wrote it."""
    return repr(value) if isinstance(value, str) else str(value)
