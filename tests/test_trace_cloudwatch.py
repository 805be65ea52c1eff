"""CloudWatch exports as the AWS CLI prints them, and live pulls checked with botocore's
Stubber against the real CloudWatch service model (no network)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import lfvsim.traces as T
from lfvsim.errors import InputError
from lfvsim.traces.cloudwatch import LFV_NAMESPACE, RCL_NAMESPACE

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def stamps(n: int, step_s: int = 60, start: datetime = T0) -> list[datetime]:
    return [start + timedelta(seconds=step_s * i) for i in range(n)]


def gmd_page(series: dict[str, tuple[list[datetime], list[float]]], token=None) -> dict:
    """A get-metric-data page exactly as AWS CLI v2 prints it: newest first, ISO offsets."""
    results = []
    for k, (label, (times, values)) in enumerate(series.items()):
        order = np.argsort(times)[::-1]
        results.append(
            {
                "Id": f"m{k}",
                "Label": label,
                "Timestamps": [times[i].isoformat() for i in order],
                "Values": [float(values[i]) for i in order],
                "StatusCode": "PartialData" if token else "Complete",
            }
        )
    page = {"MetricDataResults": results}
    if token:
        page["NextToken"] = token
    page["Messages"] = []
    return page


def dump(path, doc) -> str:
    path.write_text(json.dumps(doc, indent=4))
    return str(path)


def test_get_metric_data_newest_first_with_offsets(tmp_path):
    counts = [5, 0, 7, 3, 9]
    path = dump(tmp_path / "e.json", gmd_page({"ProcessedImageCount": (stamps(5), counts)}))
    text = open(path).read()
    assert '"2026-01-05T10:04:00+00:00"' in text.split('"Timestamps"')[1][:80]  # newest first
    t = T.read_cloudwatch_export(path)
    assert t.start == pd.Timestamp(T0) and t.bin_s == 60.0
    np.testing.assert_array_equal(t.counts, counts)
    assert "ProcessedImageCount" in t.source


def test_paginated_export_in_several_files_in_any_order(tmp_path):
    times, counts = stamps(9), list(range(1, 10))
    # Pages hold the newest timestamps first, as CloudWatch pages them.
    pages = [
        (times[6:], counts[6:], "t1"),
        (times[3:6], counts[3:6], "t2"),
        (times[:3], counts[:3], None),
    ]
    paths = [
        dump(tmp_path / f"page-{k}.json", gmd_page({"ProcessedImageCount": (ts, cs)}, tok))
        for k, (ts, cs, tok) in enumerate(pages)
    ]
    t = T.read_cloudwatch_export(paths[::-1])
    np.testing.assert_array_equal(t.counts, counts)
    t = T.read_cloudwatch_export(str(tmp_path / "page-*.json"))
    np.testing.assert_array_equal(t.counts, counts)
    with pytest.raises(InputError, match="its last page is missing"):
        T.read_cloudwatch_export(paths[:2])


def test_overlapping_pages_are_duplicates(tmp_path):
    a = dump(tmp_path / "a.json", gmd_page({"ProcessedImageCount": (stamps(4), [1, 2, 3, 4])}))
    b = dump(
        tmp_path / "b.json",
        gmd_page({"ProcessedImageCount": (stamps(2, start=T0 + timedelta(minutes=3)), [4, 5])}),
    )
    with pytest.raises(
        InputError,
        match=r"b\.json: MetricDataResults\[0\] .*duplicate timestamp 2026-01-05T10:03:00Z",
    ):
        T.read_cloudwatch_export([a, b])
    t = T.read_cloudwatch_export([a, b], duplicates="first")
    np.testing.assert_array_equal(t.counts, [1, 2, 3, 4, 5])
    assert any("duplicate" in n for n in t.notes)


def test_get_metric_statistics_datapoints_in_any_order(tmp_path):
    times = stamps(4, step_s=300)
    doc = {
        "Label": "ProcessedImageCount",
        "Datapoints": [
            {"Timestamp": times[i].isoformat().replace("+00:00", "Z"), "Sum": s, "Unit": "Count"}
            for i, s in ((2, 30.0), (0, 10.0), (3, 40.0), (1, 20.0))
        ],
    }
    t = T.read_cloudwatch_export(dump(tmp_path / "s.json", doc))
    assert t.bin_s == 300.0
    np.testing.assert_array_equal(t.counts, [10, 20, 30, 40])
    doc["Datapoints"][1] = {"Timestamp": times[0].isoformat(), "Average": 1.0, "Unit": "Count"}
    with pytest.raises(InputError, match=r"Datapoints\[1\] has no Sum .*--statistics Sum"):
        T.read_cloudwatch_export(dump(tmp_path / "s.json", doc))


def test_offered_load_adds_successful_and_throttled(tmp_path):
    ok = (stamps(4), [10, 12, 11, 9])
    throttled = (stamps(2, start=T0 + timedelta(minutes=1)), [3, 4])
    path = dump(
        tmp_path / "e.json",
        gmd_page({"SuccessfulRequestCount": ok, "ThrottledCount": throttled}),
    )
    with pytest.raises(InputError, match="ThrottledCount has no datapoint at 2026-01-05T10:00:00Z"):
        T.read_cloudwatch_export(path)
    t = T.read_cloudwatch_export(path, fill_gaps="zero")  # 'auto' finds the two metrics
    np.testing.assert_array_equal(t.counts, [10, 15, 15, 9])
    assert "SuccessfulRequestCount + ThrottledCount" in t.source
    assert any("counted as 0" in n for n in t.notes)
    # Two get-metric-statistics files, one per metric.
    files = [
        dump(
            tmp_path / f"{name}.json",
            {
                "Label": name,
                "Datapoints": [
                    {"Timestamp": ts.isoformat(), "Sum": float(v), "Unit": "Count"}
                    for ts, v in zip(*data, strict=True)
                ],
            },
        )
        for name, data in (("SuccessfulRequestCount", ok), ("ThrottledCount", throttled))
    ]
    t = T.read_cloudwatch_export(files, metric="offered", fill_gaps="zero")
    np.testing.assert_array_equal(t.counts, [10, 15, 15, 9])


def test_metric_without_datapoints(tmp_path):
    empty = {"ProcessedImageCount": ([], [])}
    path = dump(tmp_path / "e.json", gmd_page(empty))
    with pytest.raises(
        InputError, match=r"e\.json: the metric ProcessedImageCount has no datapoints"
    ):
        T.read_cloudwatch_export(path)
    only_ok = dump(
        tmp_path / "o.json",
        gmd_page({"SuccessfulRequestCount": (stamps(3), [1, 2, 3]), "ThrottledCount": ([], [])}),
    )
    with pytest.raises(InputError, match=r"ThrottledCount has no datapoints.*fill_gaps = 'zero'"):
        T.read_cloudwatch_export(only_ok, metric="offered")
    t = T.read_cloudwatch_export(only_ok, metric="offered", fill_gaps="zero")
    np.testing.assert_array_equal(t.counts, [1, 2, 3])


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (
            lambda d: d["MetricDataResults"][0]["Values"].__setitem__(1, 2.5),
            "2.5 is not a whole count",
        ),
        (
            lambda d: d["MetricDataResults"][0]["Values"].__setitem__(0, -1.0),
            "-1 at 2026-01-05T10:02:00Z is not a non-negative",
        ),
        (
            lambda d: d["MetricDataResults"][0].__setitem__("StatusCode", "Forbidden"),
            "StatusCode Forbidden",
        ),
        (lambda d: d["MetricDataResults"][0]["Timestamps"].pop(), "3 Timestamps but 4 Values"),
        (
            lambda d: d["MetricDataResults"][0]["Timestamps"].__setitem__(0, "2026-01-05 10:03"),
            "has no time zone",
        ),
        (lambda d: d.pop("MetricDataResults"), "not a CloudWatch export"),
    ],
    ids=["fraction", "negative", "forbidden", "lengths", "naive", "shape"],
)
def test_malformed_exports_name_file_and_datapoint(tmp_path, mutate, needle):
    doc = gmd_page({"ProcessedImageCount": (stamps(3), [1, 2, 3])})
    doc["MetricDataResults"][0]["Timestamps"].append((T0 - timedelta(minutes=1)).isoformat())
    doc["MetricDataResults"][0]["Values"].append(4.0)
    mutate(doc)
    path = dump(tmp_path / "bad.json", doc)
    with pytest.raises(InputError, match=r"bad\.json") as info:
        T.read_cloudwatch_export(path)
    assert needle in str(info.value)
    (tmp_path / "trunc.json").write_text('{"MetricDataResults": [')
    with pytest.raises(InputError, match=r"trunc\.json: not valid JSON \(line 1"):
        T.read_cloudwatch_export(tmp_path / "trunc.json")


def test_several_unknown_series_need_a_choice(tmp_path):
    path = dump(tmp_path / "e.json", gmd_page({"a": (stamps(2), [1, 2]), "b": (stamps(2), [3, 4])}))
    with pytest.raises(InputError, match=r"no ProcessedImageCount .*found a, b"):
        T.read_cloudwatch_export(path)
    t = T.read_cloudwatch_export(path, metric="m1")  # by Id
    np.testing.assert_array_equal(t.counts, [3, 4])


# --- live pull ------------------------------------------------------------------------------

boto3 = pytest.importorskip("boto3")
Stubber = pytest.importorskip("botocore.stub").Stubber


@pytest.fixture
def cloudwatch():
    client = boto3.client(
        "cloudwatch",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def query(name: str, k: int) -> dict:
    return {
        "Id": f"m{k}",
        "Label": name,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/LookoutVision",
                "MetricName": name,
                "Dimensions": [
                    {"Name": "ProjectName", "Value": "line-1"},
                    {"Name": "ModelVersion", "Value": "2"},
                ],
            },
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def test_live_pull_pages_through_get_metric_data(cloudwatch):
    client, stub = cloudwatch
    start, end = T0, T0 + timedelta(minutes=6)
    request = {
        "MetricDataQueries": [query("ProcessedImageCount", 0)],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    times = stamps(6)
    result = lambda ts, vs, status: {  # noqa: E731
        "Id": "m0", "Label": "ProcessedImageCount", "Timestamps": ts, "Values": vs,
        "StatusCode": status,
    }  # fmt: skip
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result(times[1:3], [4.0, 5.0], "PartialData")], "NextToken": "tok"},
        request,
    )
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result(times[3:5], [6.0, 7.0], "Complete")]},
        {**request, "NextToken": "tok"},
    )
    with pytest.raises(InputError, match="gap: no count for 2026-01-05T10:00:00Z"):
        T.get_cloudwatch_trace("line-1", "2", start, end, client=client)
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result(times[1:3], [4.0, 5.0], "PartialData")], "NextToken": "tok"},
        request,
    )
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result(times[3:5], [6.0, 7.0], "Complete")]},
        {**request, "NextToken": "tok"},
    )
    t = T.get_cloudwatch_trace("line-1", "2", start, end, client=client, fill_gaps="zero")
    # The requested window is covered: the empty first and last minutes count as 0.
    assert t.start == pd.Timestamp(start)
    np.testing.assert_array_equal(t.counts, [0, 4, 5, 6, 7, 0])


def test_live_pull_of_offered_load_and_errors(cloudwatch):
    client, stub = cloudwatch
    start, end = T0, T0 + timedelta(minutes=3)
    times = stamps(3)
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {"Id": "m0", "Label": "SuccessfulRequestCount", "Timestamps": times,
                 "Values": [5.0, 6.0, 7.0], "StatusCode": "Complete"},
                {"Id": "m1", "Label": "ThrottledCount", "Timestamps": times[1:2],
                 "Values": [2.0], "StatusCode": "Complete"},
            ]
        },
        {
            "MetricDataQueries": [query("SuccessfulRequestCount", 0), query("ThrottledCount", 1)],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        },
    )  # fmt: skip
    t = T.get_cloudwatch_trace(
        "line-1", "2", start, end, metric="offered", client=client, fill_gaps="zero"
    )
    np.testing.assert_array_equal(t.counts, [5, 8, 7])
    stub.add_client_error("get_metric_data", "AccessDenied", "User is not authorized")
    with pytest.raises(InputError, match=r"GetMetricData failed .*AccessDenied"):
        T.get_cloudwatch_trace("line-1", "2", start, end, client=client)


# --- which metrics make the offered load ------------------------------------------------


def rekognition_export(tmp_path) -> str:
    times = stamps(3)
    return dump(
        tmp_path / "rek.json",
        gmd_page(
            {
                "SuccessfulRequestCount": (times, [10, 12, 11]),
                "ThrottledCount": (times, [3, 0, 5]),
                "ServerErrorCount": (times, [1, 0, 0]),
            }
        ),
    )


def test_offered_load_is_a_chosen_sum_recorded_in_the_notes(tmp_path):
    path = rekognition_export(tmp_path)
    rek = RCL_NAMESPACE
    default = T.read_cloudwatch_export(path, namespace=rek)
    np.testing.assert_array_equal(default.counts, [13, 12, 16])
    assert "offered load = SuccessfulRequestCount + ThrottledCount (Sum per period)" in (
        " | ".join(default.notes)
    )
    assert any("account's TPS limit" in n for n in default.notes)
    assert not any("AWS/LookoutVision" in n for n in default.notes)
    # Successful calls only: a lower bound when ThrottledCount is not capacity throttling.
    ok = T.read_cloudwatch_export(path, metric="successful", namespace=rek)
    np.testing.assert_array_equal(ok.counts, [10, 12, 11])
    assert any(n.startswith("offered load = SuccessfulRequestCount (") for n in ok.notes)
    assert not any("ThrottledCount" in n for n in ok.notes)
    # Any sum of the export's count metrics, short or full names.
    three = T.read_cloudwatch_export(path, metric="successful+throttled+ServerErrorCount")
    np.testing.assert_array_equal(three.counts, [14, 12, 16])
    assert "SuccessfulRequestCount + ThrottledCount + ServerErrorCount" in three.source
    # Without a namespace, ServerErrorCount (Rekognition's alone) tells it.
    assert [n for n in three.notes if "ThrottledCount (AWS/" in n] == [
        n for n in default.notes if "ThrottledCount (AWS/" in n
    ]
    same = T.read_cloudwatch_export(path, metric="SuccessfulRequestCount + throttled")
    np.testing.assert_array_equal(same.counts, default.counts)
    for bad, needle in (("successful+", "empty term"), ("offered+throttled", "twice")):
        with pytest.raises(InputError, match=needle):
            T.read_cloudwatch_export(path, metric=bad)
    with pytest.raises(InputError, match="no series 'UserErrorCount'"):
        T.read_cloudwatch_export(path, metric="UserErrorCount")


def test_lookout_for_vision_notes_say_what_its_throttled_count_counts(tmp_path):
    times = stamps(2)
    path = dump(
        tmp_path / "lfv.json",
        gmd_page({"SuccessfulRequestCount": (times, [4, 5]), "ThrottledCount": (times, [1, 1])}),
    )
    t = T.read_cloudwatch_export(path, namespace=LFV_NAMESPACE, metric="offered")
    np.testing.assert_array_equal(t.counts, [5, 6])
    assert any("ThrottledCount (AWS/LookoutVision) counts calls the model throttled" in n
               for n in t.notes)  # fmt: skip
    assert not any("AWS/Rekognition" in n for n in t.notes)


def _throttled_notes(trace) -> list[str]:
    return [n for n in trace.notes if n.startswith("ThrottledCount (AWS/")]


@pytest.mark.parametrize(
    ("own", "namespace"),
    [
        ("ServerErrorCount", RCL_NAMESPACE),
        ("UserErrorCount", RCL_NAMESPACE),
        ("ResponseTime", RCL_NAMESPACE),
        ("InvalidImageCount", LFV_NAMESPACE),
        ("ErrorCount", LFV_NAMESPACE),
        ("Time", LFV_NAMESPACE),
    ],
)
def test_the_namespace_is_told_by_a_metric_only_one_service_publishes(tmp_path, own, namespace):
    times = stamps(2)
    page = gmd_page(
        {
            "SuccessfulRequestCount": (times, [4, 5]),
            "ThrottledCount": (times, [1, 1]),
            own: (times, [0, 1]),
        }
    )
    t = T.read_cloudwatch_export(dump(tmp_path / "e.json", page))
    (note,) = _throttled_notes(t)
    assert note.startswith(f"ThrottledCount ({namespace})")
    assert f"namespace {namespace}, as the export's {own} series show; --namespace overrides" in (
        t.notes
    )
    # Given, the namespace wins (and nothing is said about detecting it).
    other = RCL_NAMESPACE if namespace == LFV_NAMESPACE else LFV_NAMESPACE
    given = T.read_cloudwatch_export(tmp_path / "e.json", namespace=other)
    (note,) = _throttled_notes(given)
    assert note.startswith(f"ThrottledCount ({other})")
    assert not any(n.startswith("namespace ") for n in given.notes)


def test_the_namespace_is_told_by_the_queries_an_export_keeps(tmp_path):
    # lfvsim's exports keep the MetricDataQueries that would fetch them; metric names alone
    # (successful, throttled) would not tell the service.
    times = stamps(2)
    page = gmd_page({"SuccessfulRequestCount": (times, [4, 5]), "ThrottledCount": (times, [1, 1])})
    page["MetricDataQueries"] = [
        {"Id": f"m{k}", "MetricStat": {"Metric": {"Namespace": RCL_NAMESPACE, "MetricName": n}}}
        for k, n in enumerate(("SuccessfulRequestCount", "ThrottledCount"))
    ]
    t = T.read_cloudwatch_export(dump(tmp_path / "q.json", page))
    (note,) = _throttled_notes(t)
    assert note.startswith(f"ThrottledCount ({RCL_NAMESPACE})")
    assert any(
        n.startswith(f"namespace {RCL_NAMESPACE}, as the export's MetricDataQueries")
        for n in t.notes
    )


def test_an_export_that_does_not_tell_its_namespace_notes_both(tmp_path):
    times = stamps(2)
    only_common = {"SuccessfulRequestCount": (times, [4, 5]), "ThrottledCount": (times, [1, 1])}
    both = {
        **only_common,
        "ServerErrorCount": (times, [0, 0]),
        "InvalidImageCount": (times, [0, 0]),
    }
    for k, series in enumerate((only_common, both)):
        t = T.read_cloudwatch_export(dump(tmp_path / f"{k}.json", gmd_page(series)))
        assert len(_throttled_notes(t)) == 2
        assert not any(n.startswith("namespace ") for n in t.notes)


def test_live_pull_from_rekognition_with_a_chosen_sum(cloudwatch):
    client, stub = cloudwatch
    start, end = T0, T0 + timedelta(minutes=2)
    times = stamps(2)
    dims = {"ProjectName": "boards", "VersionName": "v1"}

    def rek_query(name: str, k: int) -> dict:
        q = query(name, k)
        q["MetricStat"]["Metric"]["Namespace"] = RCL_NAMESPACE
        q["MetricStat"]["Metric"]["Dimensions"] = [{"Name": n, "Value": v} for n, v in dims.items()]
        return q

    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {"Id": "m0", "Label": "SuccessfulRequestCount", "Timestamps": times,
                 "Values": [5.0, 6.0], "StatusCode": "Complete"},
            ]
        },
        {
            "MetricDataQueries": [rek_query("SuccessfulRequestCount", 0)],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        },
    )  # fmt: skip
    t = T.get_cloudwatch_trace(
        "boards", "v1", start, end, metric="successful", client=client,
        namespace=RCL_NAMESPACE, dimensions=dims,
    )  # fmt: skip
    np.testing.assert_array_equal(t.counts, [5, 6])
    assert any(n.startswith("offered load = SuccessfulRequestCount (") for n in t.notes)


def test_import_cloudwatch_records_the_choice(cli, tmp_path):
    path = rekognition_export(tmp_path)
    out = tmp_path / "counts.csv"
    code, text, err = cli(
        "trace", "import-cloudwatch", path, "-o", out, "--namespace", "AWS/Rekognition"
    )
    assert code == 0, err
    assert "offered load = SuccessfulRequestCount + ThrottledCount" in text
    assert "account's TPS limit" in text
    code, text, err = cli(
        "trace", "import-cloudwatch", path, "-o", tmp_path / "ok.csv", "--metric", "successful"
    )
    assert code == 0, err
    assert "offered load = SuccessfulRequestCount (" in text
    assert T.read_csv_trace(tmp_path / "ok.csv").counts.sum() == 33
    code, text, err = cli(
        "trace", "import-cloudwatch", path, "-o", tmp_path / "x.csv", "--namespace", "AWS/Foo"
    )
    assert (code, text) == (2, "") and len(err.strip().splitlines()) == 1
    assert "AWS/Rekognition" in err and not (tmp_path / "x.csv").exists()


def test_import_cloudwatch_prints_only_the_detected_services_caveat(cli, tmp_path):
    # The export holds ServerErrorCount, which only Rekognition publishes.
    path = rekognition_export(tmp_path)
    code, text, err = cli("trace", "import-cloudwatch", path, "-o", tmp_path / "c.csv")
    assert code == 0, err
    assert "account's TPS limit" in text
    assert "AWS/LookoutVision" not in text
    assert "namespace AWS/Rekognition, as the export's ServerErrorCount series show" in text


#: A file that is no CloudWatch export, and what the one-line refusal must say.
NOT_AN_EXPORT = [
    (b"", "the file is empty, not CloudWatch JSON"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "a gzip-compressed file, not CloudWatch JSON"),
    (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive or an Excel workbook, not CloudWatch JSON"),
    (b"PAR1\x15\x04\x15\x80\x01", "a Parquet file, not CloudWatch JSON"),
    (bytes(range(256)) * 4, "binary data, not CloudWatch JSON"),
]


@pytest.mark.parametrize(("content", "says"), NOT_AN_EXPORT)
def test_a_file_that_is_no_export_is_named_for_what_it_is(tmp_path, content, says):
    """Traffic exports and a model's history share the reader: both name the file's kind."""
    from lfvsim.traces.metric_history import read_metric_history

    path = tmp_path / "e.json"
    path.write_bytes(content)
    for read in (T.read_cloudwatch_export, read_metric_history):
        with pytest.raises(InputError, match=re.escape(says)) as raised:
            read(path)
        assert str(raised.value).startswith(f"{path}: ")


def test_a_utf16_export_from_powershell_is_read(tmp_path):
    doc = gmd_page({"ProcessedImageCount": (stamps(3), [1, 2, 3])})
    path = tmp_path / "e.json"
    path.write_bytes(json.dumps(doc).encode("utf-16"))  # with a byte-order mark
    np.testing.assert_array_equal(T.read_cloudwatch_export(path).counts, [1, 2, 3])
