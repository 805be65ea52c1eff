"""Reading traces from CSV and Parquet files. Readers are the only place traces touch disk.

Two layouts, recognised by their columns:

- ``timestamp``: one row per request;
- ``timestamp,count``: requests per interval, at any fixed interval.

The time column may also be called ``time`` or ``period``. Timestamps are ISO 8601 strings
(with a UTC offset, or naive: UTC unless ``timezone`` names their zone), epoch seconds, or
(Parquet) a timestamp column. Per-request files are read in chunks: up to
:data:`IN_MEMORY_MAX_REQUESTS` requests are kept in memory, larger files are streamed from
disk at every replay, in bounded memory.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lfvsim.errors import InputError, require_file
from lfvsim.machine_output import OUTPUTS
from lfvsim.traces.arrivals import Arrivals, PoissonArrivals
from lfvsim.traces.cloudwatch import read_cloudwatch_export
from lfvsim.traces.filekind import is_binary, packed_kind, read_head
from lfvsim.traces.generators import zone
from lfvsim.traces.model import (
    CountTrace,
    RequestTrace,
    StreamedRequestTrace,
    busiest_hour_bound,
)
from lfvsim.traces.points import (
    UNSORTED,
    Duplicates,
    FillGaps,
    Unsorted,
    check_choice,
    check_epochs,
    counts_from_points,
    epoch_timestamp,
    fmt_time,
)

__all__ = [
    "IN_MEMORY_MAX_REQUESTS",
    "detect_trace_format",
    "read_csv_trace",
    "read_parquet_trace",
    "read_trace",
]

#: Per-request files with more rows are streamed from disk instead of held in memory.
IN_MEMORY_MAX_REQUESTS = 1 << 22
#: Rows per chunk when reading per-request files.
CHUNK_ROWS = 1 << 20
_CHUNK_BYTES = 16 << 20

_TIME_COLUMNS = ("timestamp", "time", "period")
_AWARE = re.compile(r"[T ][0-9:.,]+\s*(Z|z|[+-]\d\d(:?\d\d)?)$").pattern
#: Count cells that mean "no value": missing counts (see ``fill_gaps``).
_MISSING = ("", "nan", "na", "n/a", "null", "none")


def detect_trace_format(path: str | Path) -> str:
    """``'csv'``, ``'parquet'`` or ``'cloudwatch'`` (JSON), from the file's first bytes.

    A file that is none of them (binary but not Parquet, compressed, empty where its suffix
    promises Parquet or JSON) is an InputError naming what it is and the fix.
    """
    path = Path(path)
    _check_file(path)
    head = read_head(path)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return "cloudwatch"
    _refuse_unless_text(path, head)
    return "csv"


#: Suffixes that promise a Parquet file or a JSON export, for the error about one that is not.
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_JSON_SUFFIXES = (".json",)


def _tail(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 4))
        return f.read()


def _refuse_unless_text(path: Path, head: bytes) -> None:
    """An InputError naming what ``path`` is when it cannot be a CSV trace (binary data).

    The message follows the suffix: a ``.parquet`` file without Parquet's leading 'PAR1'
    is a damaged or truncated Parquet file, not an unreadable CSV.
    """
    suffix = path.suffix.lower()
    if not head and suffix in _PARQUET_SUFFIXES + _JSON_SUFFIXES:
        kind = "Parquet" if suffix in _PARQUET_SUFFIXES else "CloudWatch JSON"
        raise InputError(f"{path}: the file is empty, not {kind}; write or export it again")
    packed = packed_kind(head)
    if packed is not None:
        raise InputError(
            f"{path}: {packed}, not a trace; extract the CSV, Parquet or CloudWatch JSON "
            "inside it (a workbook: save the sheet as CSV) and give that"
        )
    if not is_binary(head):
        return
    if suffix in _PARQUET_SUFFIXES:
        raise InputError(
            f"{path}: not a Parquet file (it does not start with Parquet's 'PAR1' signature: "
            "truncated, damaged or another format); write it again, e.g. with "
            "pandas.DataFrame.to_parquet"
        )
    if suffix == ".csv":
        raise InputError(f"{path}: not CSV text (binary data, not UTF-8); save it as UTF-8 CSV")
    if suffix in _JSON_SUFFIXES:
        raise InputError(
            f"{path}: not JSON (binary data, not text); save the AWS CLI's output as is "
            "(--output json)"
        )
    raise InputError(
        f"{path}: binary data, neither Parquet nor CSV text; give a CSV (UTF-8), Parquet or "
        "CloudWatch JSON trace"
    )


def read_trace(path: str | Path, **options: Any):
    """Read any trace file: CSV, Parquet or a CloudWatch JSON export.

    The kind is found from the file's content. ``options`` go to
    :func:`read_csv_trace`, :func:`read_parquet_trace` or
    :func:`~lfvsim.traces.cloudwatch.read_cloudwatch_export`; ones that do not apply to
    the kind found are errors only when set to something other than their default.
    """
    kind = detect_trace_format(path)
    if kind == "cloudwatch":
        _not_for(path, kind, options, unsorted="error", timezone=None, in_memory=None)
        return read_cloudwatch_export([path], **options)
    _not_for(path, kind, options, metric="auto", period_s=None)
    reader = read_parquet_trace if kind == "parquet" else read_csv_trace
    return reader(path, **options)


def _not_for(path: str | Path, kind: str, options: dict[str, Any], **defaults: Any) -> None:
    """Drop options that do not apply to this kind of file; refuse ones set otherwise."""
    for key, default in defaults.items():
        value = options.pop(key, default)
        if value != default:
            raise InputError(
                f"{path}: {key} does not apply to a {kind} file (it is read as {kind}); remove it"
            )


def read_csv_trace(
    path: str | Path,
    scale: float = 1.0,
    *,
    fill_gaps: FillGaps = "error",
    duplicates: Duplicates = "error",
    unsorted: Unsorted = "error",
    timezone: str | None = None,
    arrivals: Arrivals | None = None,
    in_memory: bool | None = None,
) -> CountTrace | RequestTrace | StreamedRequestTrace:
    """Read a CSV trace: one row per request, or counts per interval.

    Parameters
    ----------
    path : str or Path
        The file.
    scale : float
        Multiply the traffic (counts traces only).
    fill_gaps : {'error', 'zero'}
        Counts traces: a missing interval or an empty count is an error, or counts as 0.
    duplicates : {'error', 'sum', 'first'}
        Counts traces: two rows with one timestamp are an error, are added, or the first
        is kept.
    unsorted : {'error', 'sort'}
        Rows out of time order are an error, or are sorted (per-request files: only when
        they fit in memory).
    timezone : str, optional
        IANA zone of naive timestamps (default: UTC, with a note in the result).
    arrivals : Arrivals, optional
        Counts traces: how requests fall inside an interval (default: Poisson).
    in_memory : bool, optional
        Per-request files: hold them in memory (True), stream them from disk (False), or
        decide by size (None).

    Returns
    -------
    CountTrace, RequestTrace or StreamedRequestTrace
        Every repair made and every assumption is in the trace's ``notes``.

    Raises
    ------
    InputError
        Missing file, no rows, unreadable or negative timestamps, time zones mixed with
        naive times, unsorted rows, gaps, duplicates, or invalid counts; the message names
        the file, the row and the fix.
    """
    path = Path(path)
    _check_file(path)
    head = read_head(path)
    if head.startswith(b"PAR1"):
        raise InputError(f"{path}: a Parquet file, not CSV; read it as Parquet (kind 'parquet')")
    _refuse_unless_text(path, head)
    names = _csv_header(path)
    norm = {n.strip().lower(): n for n in names}
    _refuse_non_trace(path, list(norm))
    time_col = _time_column(path, list(norm))
    parser = _TimeParser(path, timezone, row_base=2)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        include_columns=[norm[time_col]] + ([norm["count"]] if "count" in norm else []),
        strings_can_be_null=False,
    )
    if "count" in norm:
        table = _arrow_call(path, "CSV", lambda: pacsv.read_csv(path, convert_options=convert))
        if table.num_rows == 0:
            raise InputError(f"{path}: the trace has no rows; give at least one request")
        seconds = parser.epochs(table.column(norm[time_col]), 0)
        values = _csv_counts(path, table.column(norm["count"]))
        return _count_trace(
            path, parser, seconds, values, scale, fill_gaps, duplicates, unsorted, arrivals,
            row_base=2,
        )  # fmt: skip

    source = _RequestFile(str(path), "csv", norm[time_col], tuple(names), timezone)
    return _request_trace(path, source, parser, scale, unsorted, in_memory)


def read_parquet_trace(
    path: str | Path,
    scale: float = 1.0,
    *,
    fill_gaps: FillGaps = "error",
    duplicates: Duplicates = "error",
    unsorted: Unsorted = "error",
    timezone: str | None = None,
    arrivals: Arrivals | None = None,
    in_memory: bool | None = None,
) -> CountTrace | RequestTrace | StreamedRequestTrace:
    """Read a Parquet trace: one row per request, or counts per interval.

    The same layouts and options as :func:`read_csv_trace`; the time column may also be a
    Parquet timestamp (with a time zone, or naive), and rows are numbered from 1.
    """
    path = Path(path)
    _check_file(path)
    head = read_head(path)
    if not head.startswith(b"PAR1"):
        _refuse_unless_text(path, head)  # names a binary non-Parquet file for what it is
    elif not _tail(path).endswith(b"PAR1"):
        raise InputError(
            f"{path}: a truncated Parquet file (it starts as Parquet but lacks the 'PAR1' "
            "that ends one: a copy or download stopped early); copy or write it again"
        )
    file = _arrow_call(path, "Parquet", lambda: pq.ParquetFile(path))
    names = file.schema_arrow.names
    norm = {n.strip().lower(): n for n in names}
    _refuse_non_trace(path, list(norm))
    time_col = _time_column(path, list(norm))
    parser = _TimeParser(path, timezone, row_base=1)
    if "count" in norm:
        table = _arrow_call(
            path, "Parquet", lambda: file.read(columns=[norm[time_col], norm["count"]])
        )
        if table.num_rows == 0:
            raise InputError(f"{path}: the trace has no rows; give at least one request")
        seconds = parser.epochs(table.column(norm[time_col]), 0)
        values = _arrow_counts(path, table.column(norm["count"]))
        return _count_trace(
            path, parser, seconds, values, scale, fill_gaps, duplicates, unsorted, arrivals,
            row_base=1,
        )  # fmt: skip

    source = _RequestFile(str(path), "parquet", norm[time_col], tuple(names), timezone)
    return _request_trace(path, source, parser, scale, unsorted, in_memory)


# --- per-request traces -----------------------------------------------------------------------


@dataclass(frozen=True)
class _RequestFile:
    """The time column of a per-request file, read in chunks of bounded size.

    A picklable, comparable description of the file (its size and modification time
    included), so a streamed trace can go to another process and be replayed there.
    """

    path: str
    fmt: str
    column: str
    names: tuple[str, ...]
    timezone: str | None
    size: int = -1
    mtime_ns: int = -1

    @property
    def row_base(self) -> int:
        """Number of the first data row: 2 under a CSV header, 1 in Parquet."""
        return 2 if self.fmt == "csv" else 1

    def stamped(self) -> _RequestFile:
        """The same, with the file's current size and modification time."""
        st = Path(self.path).stat()
        return replace(self, size=st.st_size, mtime_ns=st.st_mtime_ns)

    def __call__(self) -> Iterator[np.ndarray]:
        """Epoch seconds, chunk by chunk (what :class:`StreamedRequestTrace` replays)."""
        if self.size >= 0 and self.stamped() != self:
            raise InputError(f"{self.path}: the file changed since it was read; read it again")
        parser = _TimeParser(Path(self.path), self.timezone, self.row_base)
        for epochs, _ in self.chunks(parser):
            yield epochs

    def chunks(self, parser: _TimeParser) -> Iterator[tuple[np.ndarray, int]]:
        """(epoch seconds, index of the chunk's first row) for each chunk."""
        path = Path(self.path)
        row = 0
        for column in self._columns(path):
            if len(column):
                yield parser.epochs(column, row), row
                row += len(column)

    def _columns(self, path: Path) -> Iterator[pa.Array]:
        if self.fmt == "parquet":
            f = _arrow_call(path, "Parquet", lambda: pq.ParquetFile(path, pre_buffer=False))
            batches = f.iter_batches(batch_size=CHUNK_ROWS, columns=[self.column])
            while (batch := _arrow_call(path, "Parquet", lambda: next(batches, None))) is not None:
                yield batch.column(0)
            return
        convert = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in self.names},
            include_columns=[self.column],
            strings_can_be_null=False,
        )
        # Cut the file at line ends into blocks of about _CHUNK_BYTES and parse each alone:
        # memory stays bounded (pyarrow's streaming CSV reader reads far ahead).
        with path.open("rb") as f:
            header = f.readline()
            rest = b""
            while True:
                data = f.read(_CHUNK_BYTES)
                if data:
                    data = rest + data
                    cut = data.rfind(b"\n") + 1
                    block, rest = data[:cut], data[cut:]
                else:
                    block, rest = rest, b""
                if block.strip():
                    buf = pa.py_buffer(header + block)
                    table = _arrow_call(
                        path, "CSV", partial(pacsv.read_csv, buf, convert_options=convert)
                    )
                    yield table.column(0).combine_chunks()
                if not data:
                    return


def _request_trace(
    path: Path,
    source: _RequestFile,
    parser: _TimeParser,
    scale: float,
    unsorted: Unsorted,
    in_memory: bool | None,
) -> RequestTrace | StreamedRequestTrace:
    check_choice("unsorted", unsorted, UNSORTED)
    if scale != 1.0:
        raise InputError(
            f"{path}: traffic.scale applies to counts traces only; remove it for per-request "
            "traces, or count them per interval first (lfvsim.traces.to_counts)"
        )
    keep = in_memory is not False
    kept: list[np.ndarray] = []
    n, lo, hi, last = 0, math.inf, -math.inf, -math.inf
    sort_from: int | None = None
    # Requests per hour of the epoch, so that the budget knows the busiest hour of a file
    # too large to keep (one entry per hour the file spans).
    per_hour: dict[int, int] = {}
    row_base = source.row_base
    source = source.stamped()
    for epochs, row0 in source.chunks(parser):
        back = np.flatnonzero(np.diff(np.concatenate(([last], epochs))) < 0)
        if len(back) and sort_from is None:
            row = row0 + int(back[0]) + row_base
            if unsorted != "sort":
                raise InputError(
                    f"{path}: row {row}: timestamp {fmt_time(epochs[back[0]])} is earlier than "
                    "the row before; sort the file by timestamp, or pass unsorted = 'sort' "
                    "in [traffic] (--unsorted sort in lfvsim trace)"
                )
            sort_from = row
        n += len(epochs)
        if len(epochs):
            hours, counts = np.unique(np.floor(epochs / 3600.0), return_counts=True)
            for hour, count in zip(hours.tolist(), counts.tolist(), strict=True):
                per_hour[int(hour)] = per_hour.get(int(hour), 0) + count
        lo, hi, last = min(lo, float(epochs.min())), max(hi, float(epochs.max())), epochs[-1]
        if keep:
            kept.append(epochs)
            if in_memory is None and n > IN_MEMORY_MAX_REQUESTS:
                keep, kept = False, []
        if sort_from is not None and not keep:
            raise InputError(
                f"{path}: row {sort_from}: rows are out of time order and the file is too large "
                "to sort in memory; sort it by timestamp first, or read it with in_memory=True"
            )
    if n == 0:
        raise InputError(f"{path}: the trace has no rows; give at least one request")
    start_s = math.floor(lo / 60.0) * 60.0
    duration = (math.floor((hi - start_s) / 60.0) + 1) * 60.0
    start = pd.Timestamp(start_s, unit="s", tz="UTC")
    remarks = parser.remarks()
    if not keep:
        peak = busiest_hour_bound(
            np.fromiter(per_hour.keys(), dtype=np.int64, count=len(per_hour)),
            np.fromiter(per_hour.values(), dtype=np.int64, count=len(per_hour)),
        )
        return StreamedRequestTrace(
            start,
            duration,
            n,
            source,
            start_s,
            source=str(path),
            remarks=remarks,
            peak_requests_per_hour=peak,
        )
    times = np.concatenate(kept) - start_s
    if sort_from is not None:
        times.sort(kind="stable")
        remarks += (
            f"{path}: rows out of time order from row {sort_from} sorted (unsorted = 'sort')",
        )
    return RequestTrace(start, times, duration, source=str(path), remarks=remarks)


# --- counts traces ------------------------------------------------------------------------


def _count_trace(
    path: Path,
    parser: _TimeParser,
    seconds: np.ndarray,
    values: np.ndarray,
    scale: float,
    fill_gaps: FillGaps,
    duplicates: Duplicates,
    unsorted: Unsorted,
    arrivals: Arrivals | None,
    row_base: int,
) -> CountTrace:
    grid = counts_from_points(
        seconds,
        values,
        label=str(path),
        where=lambda i: f"{path}: row {i + row_base}",
        fill_gaps=fill_gaps,
        duplicates=duplicates,
        unsorted=unsorted,
    )
    return CountTrace(
        epoch_timestamp(grid.start_s),
        grid.bin_s,
        grid.counts,
        scale=scale,
        source=str(path),
        arrivals=arrivals or PoissonArrivals(),
        remarks=parser.remarks() + grid.remarks,
    )


def _csv_counts(path: Path, column: pa.ChunkedArray) -> np.ndarray:
    text = pd.Series(pc.utf8_trim_whitespace(column).to_pylist(), dtype=object)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    missing = text.str.lower().isin(_MISSING).to_numpy()
    invalid = np.isnan(values) & ~missing
    if invalid.any():
        row = int(np.argmax(invalid))
        raise InputError(
            f"{path}: row {row + 2}: count {text.iloc[row]!r} is not a non-negative integer; "
            "fix or remove the row"
        )
    return values


def _arrow_counts(path: Path, column: pa.ChunkedArray) -> np.ndarray:
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise InputError(
            f"{path}: the count column has type {column.type}; store counts as integers"
        )
    return column.to_numpy().astype(float)  # nulls become NaN: missing counts


# --- timestamps ---------------------------------------------------------------------------


class _TimeParser:
    """Turns a time column into epoch seconds, chunk by chunk, with errors naming rows.

    Remembers across chunks whether the file uses time zones, so that naive and zoned
    timestamps are never mixed silently.
    """

    def __init__(self, path: Path, timezone: str | None, row_base: int) -> None:
        self.path = path
        self.tz = zone(timezone) if timezone else None
        self.row_base = row_base
        self.aware: bool | None = None
        self.aware_row = 0
        self.numeric: bool | None = None
        self.naive_seen = False

    def remarks(self) -> tuple[str, ...]:
        """What was assumed about the time zone."""
        if not self.naive_seen:
            return ()
        if self.tz is None:
            return (
                f"{self.path}: timestamps have no time zone and were read as UTC (set "
                "timezone if they are local times)",
            )
        return (f"{self.path}: timestamps without a time zone were read as {self.tz.key} time",)

    def epochs(self, column: pa.Array | pa.ChunkedArray, row0: int) -> np.ndarray:
        """Epoch seconds of one chunk whose first row is ``row0`` (0-based)."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        t = column.type
        if pa.types.is_timestamp(t):
            values = self._timestamps(column, row0)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            values = self._numbers(
                column.to_numpy(zero_copy_only=False).astype(float), column, row0
            )
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            values = self._strings(column, row0)
        else:
            raise InputError(
                f"{self.path}: the time column has type {t}; use timestamps, ISO 8601 strings "
                "or epoch seconds"
            )
        self._check_range(values, column, row0)
        return values

    def _check_range(self, values: np.ndarray, column: pa.Array, row0: int) -> None:
        t = column.type
        numeric = (
            pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or bool((pa.types.is_string(t) or pa.types.is_large_string(t)) and self.numeric)
        )
        check_epochs(
            values,
            lambda i: self._where(row0, i),
            lambda i: _cell(column[i].as_py()),
            lambda i: numeric,
        )

    def _where(self, row0: int, i: int) -> str:
        return f"{self.path}: row {row0 + i + self.row_base}"

    def _numbers(self, values: np.ndarray, column: pa.Array, row0: int) -> np.ndarray:
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"{self._where(row0, i)}: timestamp {_cell(column[i].as_py())} is not a "
                "non-negative epoch second; fix or remove the row"
            )
        return values

    def _timestamps(self, column: pa.Array, row0: int) -> np.ndarray:
        if column.null_count:
            i = int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
            raise InputError(f"{self._where(row0, i)}: the timestamp is empty; fix the row")
        unit = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[column.type.unit]
        values = column.cast(pa.int64()).to_numpy() / unit
        self._check_range(values, column, row0)  # before pandas meets a year it cannot hold
        if column.type.tz is None:
            self.naive_seen = True
            if self.tz is not None:
                local = pd.Series(pd.to_datetime(values, unit="s"))
                values = self._localized(local, row0, lambda i: str(local.iloc[i]))
        return values

    def _strings(self, column: pa.Array, row0: int) -> np.ndarray:
        text = pc.utf8_trim_whitespace(column.fill_null(""))
        if self.numeric is None:
            first = text[0].as_py()
            self.numeric = _is_number(first)
        if self.numeric:
            try:
                values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values = None  # find the bad row below
            if values is not None and np.isfinite(values).all():
                return self._numbers(values, column, row0)
        strings = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        if self.numeric:
            values = pd.to_numeric(strings, errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(values)
            if bad.any():
                i = int(np.argmax(bad))
                raise InputError(
                    f"{self._where(row0, i)}: cannot read timestamp {_cell(strings.iloc[i])}; "
                    "use epoch seconds like the first row, or ISO 8601 in every row"
                )
            return self._numbers(values, column, row0)
        parsed = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=True)
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"{self._where(row0, i)}: cannot read timestamp {_cell(strings.iloc[i])}; use "
                "ISO 8601 (2026-01-05T10:00:00Z) or epoch seconds"
            )
        aware = pc.match_substring_regex(text, _AWARE).to_numpy(zero_copy_only=False)
        if self.aware is None:
            self.aware, self.aware_row = bool(aware[0]), row0 + self.row_base
        mixed = aware != self.aware
        if mixed.any():
            i = int(np.argmax(mixed))
            this, that = ("has a", "has none") if aware[i] else ("has no", "has one")
            raise InputError(
                f"{self._where(row0, i)}: timestamp {_cell(strings.iloc[i])} {this} time zone "
                f"but row {self.aware_row} {that}; give every row a UTC offset (or none)"
            )
        if self.aware or self.tz is None:
            self.naive_seen = self.naive_seen or not self.aware
            return _epoch_seconds(parsed)
        self.naive_seen = True
        local = parsed.dt.tz_localize(None)
        return self._localized(local, row0, lambda i: _cell(strings.iloc[i]))

    def _localized(self, local: pd.Series, row0: int, cell: Callable[[int], str]) -> np.ndarray:
        zoned = local.dt.tz_localize(self.tz, ambiguous="NaT", nonexistent="NaT")
        bad = zoned.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            assert self.tz is not None  # only local times can fall in a daylight-saving change
            raise InputError(
                f"{self._where(row0, i)}: timestamp {cell(i)} does not exist or happens twice in "
                f"{self.tz.key} (a daylight-saving change); give the row a UTC offset"
            )
        return _epoch_seconds(zoned)


# --- helpers --------------------------------------------------------------------------------


def _epoch_seconds(stamps: pd.Series) -> np.ndarray:
    """Epoch seconds of zoned timestamps, whatever unit pandas parsed them in.

    Through microseconds: a year past 2262 (parsed in seconds) would overflow nanoseconds
    before the range check could name it.
    """
    return stamps.dt.as_unit("us").astype("int64").to_numpy() / 1e6


def _check_file(path: Path) -> None:
    require_file(path, "trace file")


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            line = f.readline()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a readable CSV (not UTF-8 text); check the file") from None
    if not line.strip():
        raise InputError(f"{path}: not a readable CSV (no header line); check the file")
    return [n for n in next(csv.reader([line])) if n.strip()]


#: lfvsim's own tables that are not traces, by lower-cased column (the trace outputs excluded).
_OUTPUT_COLUMNS = {
    name: frozenset(key.lower() for key in output.keys) - {"timestamp", "schema_version"}
    for name, output in OUTPUTS.items()
    if not name.startswith("trace-")
}
#: Words of column names that hold requests per interval under another name than
#: ``count`` (``requests``, ``RequestCount``, ``n``), but not ``request_id`` or ``country``.
_COUNT_WORDS = frozenset("requests value values sum total n rate tps hits calls".split())
_COUNT_WORD = re.compile(r"(\w*(request|image|call|hit)s?)?counts?")


def _count_like(name: str) -> bool:
    words = re.split(r"[^a-z0-9]+", name)
    return any(w in _COUNT_WORDS or _COUNT_WORD.fullmatch(w) for w in words)


def _refuse_non_trace(path: Path, names: list[str]) -> None:
    """Refuse lfvsim's own outputs and tables whose columns do not describe a trace.

    Without a ``count`` column every row is one request, so a table of counts under another
    column name (a run's ``timeline.csv`` among them) would be read silently as a few
    requests per interval.
    """
    others = set(names) - {*_TIME_COLUMNS, "count", "schema_version"}
    matched = {name: len(others & keys) for name, keys in _OUTPUT_COLUMNS.items()}
    best = max(matched, key=lambda name: matched[name])
    if matched[best] >= 2:
        where = OUTPUTS[best].where.replace("`", "").split(";")[0]
        raise InputError(
            f"{path}: lfvsim output ({where}), not a trace; give the trace file itself "
            "(columns timestamp, or timestamp,count)"
        )
    if "count" not in names:
        like = sorted(n for n in others if _count_like(n))
        if like:
            raise InputError(
                f"{path}: column '{like[0]}' looks like requests per interval, but without a "
                "'count' column every row is read as one request; rename it 'count', or "
                "drop it for a trace of one row per request"
            )


def _time_column(path: Path, names: list[str]) -> str:
    col = next((c for c in _TIME_COLUMNS if c in names), None)
    if col is None:
        raise InputError(
            f"{path}: no time column (found {', '.join(names) or 'none'}); name it 'timestamp'"
        )
    return col


def _arrow_call(path: Path, what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable {what} ({reason}); check the file") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(value: object) -> str:
    """A cell as the user wrote it."""
    return repr(value) if isinstance(value, str) else str(value)
