"""Readers of CSV and Parquet traces: layouts, time zones, streaming, repairs, round trips."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lfvsim
import lfvsim.traces as T
from lfvsim.errors import InputError
from lfvsim.traces import readers
from lfvsim.traces.points import counts_from_points
from tests.conftest import scenario

START = pd.Timestamp("2026-01-05T10:00:00Z")


def write_requests_csv(path, epochs) -> None:
    path.write_text("timestamp\n" + "".join(f"{t:.6f}\n" for t in epochs))


def test_parquet_per_request_with_zoned_naive_and_numeric_times(tmp_path):
    epochs = START.timestamp() + np.sort(np.random.default_rng(1).uniform(0, 300, 200))
    us = np.round(epochs * 1e6).astype(np.int64)
    zoned, naive, numeric = (tmp_path / f"{n}.parquet" for n in ("zoned", "naive", "numeric"))
    pq.write_table(pa.table({"timestamp": pa.array(us, pa.timestamp("us", tz="UTC"))}), zoned)
    pq.write_table(pa.table({"Timestamp": pa.array(us, pa.timestamp("us"))}), naive)
    pq.write_table(pa.table({"time": epochs}), numeric)
    traces = [T.read_parquet_trace(p) for p in (zoned, naive, numeric)]
    for t in traces:
        assert isinstance(t, T.RequestTrace) and t.start == START
        np.testing.assert_allclose(t.times_s, epochs - START.timestamp(), atol=1e-6)
    assert not traces[0].notes
    assert "read as UTC" in traces[1].notes[0]
    # Naive times in a named zone: Berlin is UTC+1 in January.
    berlin = T.read_parquet_trace(naive, timezone="Europe/Berlin")
    assert berlin.start == START - pd.Timedelta(hours=1)


def test_counts_parquet_and_csv_read_the_same(tmp_path):
    counts = np.random.default_rng(2).poisson(40, 90)
    stamps = pd.date_range(START, periods=90, freq="min")
    pq.write_table(
        pa.table({"timestamp": pa.array(stamps.as_unit("us")), "count": counts}),
        tmp_path / "c.parquet",
    )
    (tmp_path / "c.csv").write_text(
        "timestamp,count\n"
        + "".join(f"{t.isoformat()},{c}\n" for t, c in zip(stamps, counts, strict=True))
    )
    a, b = T.read_trace(tmp_path / "c.parquet"), T.read_trace(tmp_path / "c.csv")
    assert isinstance(a, T.CountTrace) and isinstance(b, T.CountTrace)
    assert a.start == b.start == START and a.bin_s == b.bin_s == 60.0
    np.testing.assert_array_equal(a.counts, counts)
    np.testing.assert_array_equal(b.counts, counts)


def test_naive_local_times_in_a_zone_follow_daylight_saving(tmp_path):
    path = tmp_path / "local.csv"
    path.write_text("timestamp\n2026-03-29 01:30:00\n2026-03-29 03:30:00\n")
    t = T.read_csv_trace(path, timezone="Europe/Berlin")
    # 01:30 CET = 00:30 UTC; 03:30 CEST = 01:30 UTC: one hour apart, not two.
    assert t.start == pd.Timestamp("2026-03-29T00:30:00Z")
    np.testing.assert_allclose(t.times_s, [0.0, 3600.0])
    path.write_text("timestamp\n2026-03-29 01:30:00\n2026-03-29 02:30:00\n")
    with pytest.raises(InputError, match=r"row 3: timestamp '2026-03-29 02:30:00' does not exist"):
        T.read_csv_trace(path, timezone="Europe/Berlin")
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        T.read_csv_trace(path, timezone="Mars/Olympus")


def test_mixed_offsets_are_instants_but_naive_among_zoned_is_an_error(tmp_path):
    path = tmp_path / "offsets.csv"
    path.write_text("timestamp\n2026-01-05T10:00:00Z\n2026-01-05T11:00:30+01:00\n")
    np.testing.assert_allclose(T.read_csv_trace(path).times_s, [0.0, 30.0])
    path.write_text("timestamp\n2026-01-05T10:00:00\n2026-01-05T10:00:30Z\n")
    with pytest.raises(InputError, match=r"row 3: .* has a time zone but row 2 has none"):
        T.read_csv_trace(path)


@pytest.mark.parametrize("reader", ["csv", "parquet"])
def test_large_per_request_files_stream_in_chunks_and_replay_identically(
    tmp_path, monkeypatch, reader
):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(readers, "_CHUNK_BYTES", 1 << 14)
    epochs = START.timestamp() + np.sort(np.random.default_rng(3).uniform(0, 1800, 5000))
    path = tmp_path / f"r.{reader}"
    if reader == "csv":
        write_requests_csv(path, epochs)
    else:
        pq.write_table(pa.table({"timestamp": epochs}), path)
    memory = T.read_trace(path, in_memory=True)
    streamed = T.read_trace(path, in_memory=False)
    assert isinstance(memory, T.RequestTrace)
    assert isinstance(streamed, T.StreamedRequestTrace)
    assert streamed.requests == 5000 and streamed.duration_s == memory.duration_s
    blocks = list(streamed.blocks(np.random.default_rng(0), 1e9))
    np.testing.assert_array_equal(np.concatenate(blocks), memory.times_s)
    sc = scenario(model={"min_units": 1, "max_units": 3})
    a = lfvsim.simulate(sc, trace=memory, seed=4).summary
    b = lfvsim.simulate(sc, trace=streamed, seed=4).summary
    assert a == b
    # By size: past the in-memory limit the reader switches to streaming.
    monkeypatch.setattr(readers, "IN_MEMORY_MAX_REQUESTS", 2500)
    assert isinstance(T.read_trace(path), T.StreamedRequestTrace)
    # Counting a streamed trace is exact.
    counts = T.to_counts(streamed, 60.0)
    expected = np.bincount(((epochs - streamed.start.timestamp()) // 60).astype(int))
    np.testing.assert_array_equal(counts.counts, expected)


def test_unsorted_rows_across_chunks_are_found(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_CHUNK_BYTES", 1 << 12)
    epochs = START.timestamp() + np.arange(2000.0)
    epochs[1500] = epochs[10]
    path = tmp_path / "r.csv"
    write_requests_csv(path, epochs)
    with pytest.raises(InputError, match=r"row 1502: .* earlier than the row before"):
        T.read_csv_trace(path, in_memory=False)
    fixed = T.read_csv_trace(path, unsorted="sort")
    assert np.all(np.diff(fixed.times_s) >= 0) and len(fixed.times_s) == 2000
    assert any("sorted (unsorted = 'sort')" in n for n in fixed.notes)
    with pytest.raises(InputError, match="too large to sort in memory"):
        T.read_csv_trace(path, unsorted="sort", in_memory=False)


COUNTS = "timestamp,count\n0,1\n60,2\n"


@pytest.mark.parametrize(
    ("text", "options", "counts", "remark"),
    [
        (COUNTS + "240,4\n", {"fill_gaps": "zero"}, [1, 2, 0, 0, 4], "2 missing intervals"),
        (COUNTS + "120,\n180,3\n", {"fill_gaps": "zero"}, [1, 2, 0, 3], "1 row without a count"),
        (COUNTS + "60,5\n120,1\n", {"duplicates": "sum"}, [1, 7, 1], "added up"),
        (COUNTS + "60,5\n120,1\n", {"duplicates": "first"}, [1, 2, 1], "the first kept"),
        ("timestamp,count\n60,2\n0,1\n120,3\n", {"unsorted": "sort"}, [1, 2, 3], "sorted"),
    ],
    ids=["gap", "nan", "dup-sum", "dup-first", "unsorted"],
)
def test_repairs_happen_only_when_asked_and_are_reported(tmp_path, text, options, counts, remark):
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=str(path)):
        T.read_csv_trace(path)
    t = T.read_csv_trace(path, **options)
    np.testing.assert_array_equal(t.counts, counts)
    assert any(remark in n and str(path) in n for n in t.notes), t.notes


def test_off_grid_timestamps_and_bad_options_are_errors(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("timestamp,count\n0,1\n60,2\n150,1\n")
    with pytest.raises(
        InputError, match=r"row 4: timestamp 1970-01-01T00:02:30Z is not on the 60 s"
    ):
        T.read_csv_trace(path)
    with pytest.raises(InputError, match="fill_gaps = 'guess' is not an option"):
        T.read_csv_trace(path, fill_gaps="guess")
    with pytest.raises(InputError, match="period_s does not apply to a csv file"):
        T.read_trace(path, period_s=60)


def test_points_closer_than_a_microsecond_are_an_error_not_a_crash(tmp_path):
    # Steps of 1e-9 s round to a 0 s interval, which used to divide by zero.
    path = tmp_path / "c.csv"
    path.write_text("timestamp,count\n0,3\n1e-9,4\n2e-9,4\n")
    with pytest.raises(InputError, match=r"rows 1e-09 s apart, closer than the 1 us"):
        T.read_csv_trace(path)


def test_detect_format_by_content(tmp_path):
    (tmp_path / "a.txt").write_text("timestamp\n0\n")
    (tmp_path / "b.data").write_text('  {"Datapoints": []}')
    pq.write_table(pa.table({"timestamp": [0.0]}), tmp_path / "c.bin")
    kinds = [T.detect_trace_format(tmp_path / n) for n in ("a.txt", "b.data", "c.bin")]
    assert kinds == ["csv", "cloudwatch", "parquet"]
    section = T.traffic_for_file(tmp_path / "c.bin", fill_gaps="zero")
    assert section["kind"] == "parquet" and section["fill_gaps"] == "zero"
    with pytest.raises(InputError, match="not a readable Parquet"):
        T.read_parquet_trace(tmp_path / "a.txt")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_synth_to_file_and_back_gives_the_same_counts(tmp_path, suffix):
    trace = T.spikes(T.diurnal(2.0, 4.0, 12.0, 6, "2026-01-05"), 8, 3.0, 600, seed=2)
    counts = T.to_counts(trace, 60.0, seed=5)
    path = tmp_path / f"t{suffix}"
    T.write_trace(trace, path, seed=5)
    back = T.read_trace(path)
    assert back.start == counts.start and back.bin_s == 60.0
    np.testing.assert_array_equal(back.counts, counts.counts)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_requests_written_and_read_back_keep_every_request(tmp_path, suffix):
    trace = T.with_arrivals(T.constant(3.0, 0.5, "2026-01-05T08:00Z"), T.BatchArrivals(3, 0.2))
    path = tmp_path / f"r{suffix}"
    n = T.write_requests(trace, path, seed=7)
    back = T.read_trace(path)
    assert isinstance(back, T.RequestTrace) and len(back.times_s) == n
    expected = np.concatenate(list(trace.blocks(np.random.default_rng(7), trace.duration_s)))
    offset = (trace.start - back.start).total_seconds()
    np.testing.assert_allclose(back.times_s, expected + offset, atol=2e-6)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_sub_second_intervals_round_trip(tmp_path, suffix):
    counts = T.CountTrace(pd.Timestamp("2026-01-05T00:00:00.25Z"), 0.5, np.arange(7))
    path = tmp_path / f"c{suffix}"
    T.write_trace(counts, path, bin_s=0.5)
    back = T.read_trace(path)
    assert (back.start, back.bin_s) == (counts.start, 0.5)
    np.testing.assert_array_equal(back.counts, counts.counts)


# --- counts_from_points: each stage's message -----------------------------------------------


def _grid(seconds, values, **options):
    return counts_from_points(
        np.array(seconds, float),
        np.array(values, float),
        label="t.csv",
        where=lambda i: f"t.csv: row {i + 2}",
        **options,
    )


def test_a_missing_count_is_an_error_or_zero():
    with pytest.raises(InputError, match=r"t.csv: row 3: count is missing at .*--fill-gaps zero"):
        _grid([0, 60, 120], [1, np.nan, 3])
    grid = _grid([0, 60, 120], [1, np.nan, 3], fill_gaps="zero")
    assert list(grid.counts) == [1, 0, 3]
    assert grid.remarks == (
        "t.csv: 1 row without a count (first at 1970-01-01T00:01:00Z) counted as 0 "
        "(fill_gaps = 'zero')",
    )


def test_points_out_of_order_are_sorted_with_a_remark_unless_the_format_allows_any_order():
    grid = _grid([120, 0, 60], [3, 1, 2], unsorted="sort")
    assert list(grid.counts) == [1, 2, 3]
    assert grid.remarks == ("t.csv: 1 row out of time order, sorted (unsorted = 'sort')",)
    assert _grid([120, 0, 60], [3, 1, 2], any_order=True).remarks == ()


def test_the_interval_needs_two_points_or_a_positive_period():
    with pytest.raises(InputError, match="needs at least two rows to know its interval"):
        _grid([0], [1])
    with pytest.raises(InputError, match="period_s = 0 is not positive"):
        _grid([0, 60], [1, 1], period_s=0)
    assert _grid([0], [4], period_s=60).counts.tolist() == [4]


def test_points_outside_the_window_are_an_error():
    with pytest.raises(InputError, match=r"t\.csv: rows outside the requested time range"):
        _grid([0, 60], [1, 1], window_s=(60.0, 600.0))


GARBAGE = bytes(range(256)) * 4  # NUL bytes and invalid UTF-8: no text format
#: A file that is no trace, its name, and what the one-line refusal must say.
UNREADABLE = [
    ("x.parquet", GARBAGE, "not a Parquet file"),
    ("x.parquet", b"", "the file is empty, not Parquet"),
    ("x.parquet", b"PAR1\x15\x04\x15\x80", "a truncated Parquet file"),
    ("x.csv", GARBAGE, "not CSV text (binary data, not UTF-8)"),
    ("x.json", GARBAGE, "not JSON (binary data"),
    ("x.json", b"", "the file is empty, not CloudWatch JSON"),
    ("x.dat", GARBAGE, "binary data, neither Parquet nor CSV text"),
    ("x.csv.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "a gzip-compressed file"),
    ("x.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive or an Excel workbook"),
]


@pytest.mark.parametrize(("name", "content", "says"), UNREADABLE)
def test_a_file_that_is_no_trace_is_named_for_what_it_is(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(says)) as raised:
        T.read_trace(path)
    assert "not a readable CSV" not in str(raised.value)
    if not content.startswith(b"PAR1"):  # the readers a scenario's traffic.kind names
        for reader in (T.read_csv_trace, T.read_parquet_trace):
            with pytest.raises(InputError, match=re.escape(says)):
                reader(path)


def test_the_csv_reader_names_a_parquet_file(tmp_path):
    pq.write_table(pa.table({"timestamp": [0.0]}), tmp_path / "t.csv")
    with pytest.raises(InputError, match="a Parquet file, not CSV"):
        T.read_csv_trace(tmp_path / "t.csv")


def test_a_multibyte_character_cut_by_the_sniffed_head_is_still_text(tmp_path):
    path = tmp_path / "t.csv"
    # the header pads the first 4,096 bytes so that 'é' (2 bytes) straddles their end
    header = "timestamp,count," + "a" * (4095 - len("timestamp,count,")) + "é\n"
    path.write_text(header + "2026-01-05T00:00:00Z,1\n", encoding="utf-8")
    assert path.read_bytes()[:4096].endswith(b"\xc3")
    assert T.detect_trace_format(path) == "csv"


def _timeline(tmp_path, suffix):
    """A small run's own timeline, written as ``run --out`` writes it."""
    result = lfvsim.simulate(scenario(model={"project": "p", "min_units": 1, "max_units": 2}))
    result.write(tmp_path / "run")
    timeline = pd.read_csv(tmp_path / "run" / "timeline.csv")
    path = tmp_path / f"timeline{suffix}"
    if suffix == ".parquet":
        timeline.to_parquet(path)
    return path if suffix == ".parquet" else tmp_path / "run" / "timeline.csv"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_runs_own_timeline_is_refused_not_read_as_one_request_per_minute(tmp_path, suffix):
    path = _timeline(tmp_path, suffix)
    with pytest.raises(InputError, match=r"lfvsim output \(timeline\.csv in a run --out"):
        T.read_trace(path)


def test_a_runs_summary_is_refused_as_lfvsim_output(tmp_path):
    _timeline(tmp_path, ".csv")
    with pytest.raises(InputError, match=r"lfvsim output .*schema_version"):
        T.read_trace(tmp_path / "run" / "summary.json")


@pytest.mark.parametrize(
    "column", ["requests", "RequestCount", "ProcessedImageCount", "request_count", "value", "n"]
)
def test_a_count_column_under_another_name_is_refused(tmp_path, column):
    path = tmp_path / "t.csv"
    path.write_text(f"timestamp,{column}\n2026-01-05T00:00:00Z,5\n")
    with pytest.raises(InputError, match=f"column '{column.lower()}' looks like requests"):
        T.read_trace(path)


def test_per_request_files_with_unrelated_columns_and_lfvsim_traces_still_read(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "timestamp,request_id,country,account\n"
        "2026-01-05T00:00:00Z,a,de,1\n2026-01-05T00:00:01Z,b,fr,2\n"
    )
    assert T.read_trace(extra).expected_requests == 2
    versioned = tmp_path / "counts.csv"
    versioned.write_text(
        "timestamp,count,schema_version\n2026-01-05T00:00:00Z,7,1\n2026-01-05T00:01:00Z,3,1\n"
    )
    assert T.read_trace(versioned).expected_requests == 10
