"""Writing traces to files: counts or requests as CSV or Parquet, and CloudWatch exports.

Every file is written to a temporary name beside it and renamed when complete, so a failed
write leaves nothing behind. What is written reads back with
:func:`lfvsim.traces.read_trace` to the same counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lfvsim.atomic import atomic_path, check_replaceable
from lfvsim.errors import InputError
from lfvsim.machine_output import SCHEMA_VERSION
from lfvsim.traces.cloudwatch import cloudwatch_export_pages
from lfvsim.traces.model import CountTrace, Trace
from lfvsim.traces.transforms import to_counts

__all__ = [
    "output_format",
    "write_cloudwatch_export",
    "write_counts",
    "write_requests",
    "write_trace",
]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "cloudwatch"}


def output_format(path: str | Path) -> str:
    """``'csv'``, ``'parquet'`` or ``'cloudwatch'`` from a file name's suffix."""
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the format of '{path}' from its suffix; use .csv, .parquet or .json"
        )
    return fmt


def write_trace(
    trace: Trace,
    path: str | Path,
    *,
    requests: bool = False,
    bin_s: float = 60.0,
    seed: int | np.random.SeedSequence = 0,
    metric: str = "ProcessedImageCount",
    pages: int = 1,
    omit_zeros: bool = False,
) -> list[Path]:
    """Write a trace in the format its suffix names (.csv, .parquet, or .json for a
    CloudWatch ``get-metric-data`` export).

    Counts per ``bin_s`` seconds are written unless ``requests`` asks for one row per
    request. A synthetic trace is sampled once from ``seed`` (an int, or a SeedSequence
    such as the child a run draws its arrivals from). Returns the files written.
    """
    fmt = output_format(path)
    if requests:
        if fmt == "cloudwatch":
            raise InputError("a CloudWatch export holds counts; drop --requests or use .csv")
        write_requests(trace, path, seed=seed)
        return [Path(path)]
    counts = to_counts(trace, bin_s, seed=seed)
    if len(counts.counts) < 2:
        # A counts file's interval is the step between its rows: one row cannot tell it.
        raise InputError(
            f"{path}: the trace ({trace.duration_s:g} s) fills one interval of {bin_s:g} s, "
            "and a counts file of one row cannot be read back (its interval is the step "
            "between rows); give a --bin-s shorter than the trace"
            + ("" if fmt == "cloudwatch" else ", or write one row per request (--requests)")
        )
    if fmt == "cloudwatch":
        return write_cloudwatch_export(
            counts, path, metric=metric, pages=pages, omit_zeros=omit_zeros
        )
    write_counts(counts, path)
    return [Path(path)]


def write_counts(trace: CountTrace, path: str | Path) -> None:
    """Write ``timestamp,count,schema_version`` rows (CSV: ISO 8601 in UTC; Parquet: a UTC
    timestamp)."""
    if np.ndim(trace.scale) != 0 or trace.scale != 1.0:
        raise InputError("write a counts trace without scale; use to_counts() first")
    stamps = trace.start + pd.to_timedelta(np.arange(len(trace.counts)) * trace.bin_s, unit="s")
    if output_format(path) == "parquet":
        table = pa.table(
            {
                "timestamp": pa.array(stamps.as_unit("us"), pa.timestamp("us", tz="UTC")),
                "count": pa.array(trace.counts, pa.int64()),
                "schema_version": pa.array(np.full(len(trace.counts), SCHEMA_VERSION), pa.int64()),
            }
        )
        with atomic_path(path) as tmp:
            pq.write_table(table, str(tmp))
        return
    fraction = bool((stamps.microsecond != 0).any() or (stamps.nanosecond != 0).any())
    iso = stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write("timestamp,count,schema_version\n")
            f.writelines(
                f"{t},{c},{SCHEMA_VERSION}\n"
                for t, c in zip(iso, trace.counts.tolist(), strict=True)
            )


def write_requests(
    trace: Trace, path: str | Path, *, seed: int | np.random.SeedSequence = 0
) -> int:
    """Write one row per request, streaming block by block (bounded memory).

    CSV rows hold epoch seconds; Parquet a UTC timestamp in microseconds. Returns the
    number of requests written.
    """
    fmt = output_format(path)
    start_s = trace.start.timestamp()
    blocks = trace.blocks(np.random.default_rng(seed), trace.duration_s)
    n = 0
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            schema = pa.schema(
                [("timestamp", pa.timestamp("us", tz="UTC")), ("schema_version", pa.int64())]
            )
            with pq.ParquetWriter(str(tmp), schema) as writer:
                for batch in _batches(blocks, start_s):
                    us = np.round(batch * 1e6).astype(np.int64)
                    writer.write_table(
                        pa.table([pa.array(us, schema[0].type), _versions(len(us))], schema=schema)
                    )
                    n += len(batch)
        else:
            schema = pa.schema([("timestamp", pa.float64()), ("schema_version", pa.int64())])
            with pacsv.CSVWriter(str(tmp), schema) as writer:
                for batch in _batches(blocks, start_s):
                    writer.write_table(pa.table([batch, _versions(len(batch))], schema=schema))
                    n += len(batch)
    return n


def _versions(n: int) -> pa.Array:
    """The ``schema_version`` column of ``n`` rows."""
    return pa.array(np.full(n, SCHEMA_VERSION, dtype=np.int64))


def write_cloudwatch_export(
    trace: CountTrace,
    path: str | Path,
    *,
    metric: str = "ProcessedImageCount",
    pages: int = 1,
    omit_zeros: bool = False,
    shape: str = "get-metric-data",
) -> list[Path]:
    """Write counts as the AWS CLI prints a CloudWatch export (indented JSON).

    With ``pages > 1`` the pages go to ``NAME-1.json``, ``NAME-2.json``, ..., newest
    timestamps in the first. Pages ``NAME-K.json`` of an earlier export that this one does
    not write are removed, so a glob ``NAME-*.json`` reads this export alone; that and
    replacing a file lfvsim did not write need ``--force``. Returns the files written.
    """
    docs = cloudwatch_export_pages(trace, metric, pages=pages, omit_zeros=omit_zeros, shape=shape)
    path = Path(path)
    if len(docs) == 1:
        targets = [path]
    else:
        targets = [path.with_name(f"{path.stem}-{k + 1}{path.suffix}") for k in range(len(docs))]
    page = re.compile(rf"^{re.escape(path.stem)}-\d+{re.escape(path.suffix)}$")
    parent = path.parent if path.parent.is_dir() else None
    stale = [] if parent is None else [p for p in parent.iterdir() if page.match(p.name)]
    stale = [p for p in stale if p not in targets]
    check_replaceable(targets + stale)  # before writing any page
    for doc, target in zip(docs, targets, strict=True):
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(doc, indent=4) + "\n", encoding="utf-8")
    for old in stale:
        old.unlink(missing_ok=True)
    return targets


def _batches(blocks: Iterator[np.ndarray], start_s: float, rows: int = 1 << 20):
    """Epoch seconds in batches of about ``rows``."""
    pending: list[np.ndarray] = []
    size = 0
    for block in blocks:
        pending.append(block + start_s)
        size += len(block)
        if size >= rows:
            yield np.concatenate(pending)
            pending, size = [], 0
    if size:
        yield np.concatenate(pending)
