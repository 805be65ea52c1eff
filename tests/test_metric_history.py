"""Metric history: reading exports and live pulls, recognising what is not behaviour, and
``lfvsim run --cloudwatch-json`` writing a run in the same shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from lfvsim.errors import InputError
from lfvsim.traces import read_cloudwatch_export
from lfvsim.traces.metric_export import metric_data_export
from lfvsim.traces.metric_history import history_queries, read_metric_history
from tests.test_cli import assert_clean_failure

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

LFV_TOML = """\
[model]
project = "line-7"
version = "3"
min_units = 1
max_units = 3
[autoscaler]
provisioning_delay_s = 120
[traffic]
kind = "diurnal"
mean_tps = 5.0
peak_to_trough = 4.0
peak_hour_utc = 0.75
duration_h = 1.5
[simulation]
seed = 5
"""

RCL_TOML = LFV_TOML.replace(
    '[model]\nproject = "line-7"\nversion = "3"',
    '[model]\nservice = "rekognition"\nproject = "bolts.v2"\nversion = "bolts.2026-01-05"',
)


def stamps(n: int, start: datetime = T0) -> list[str]:
    return [(start + timedelta(minutes=k)).isoformat() for k in range(n)]


def page(series: dict[str, tuple[list, list]], **extra) -> dict:
    """A get-metric-data page, newest first, with each series labelled by its key."""
    return {
        "MetricDataResults": [
            {
                "Id": f"m{k}",
                "Label": label,
                "Timestamps": times[::-1],
                "Values": values[::-1],
                "StatusCode": "Complete",
            }
            for k, (label, (times, values)) in enumerate(series.items())
        ],
        "Messages": [],
        **extra,
    }


def dump(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


# --- run --cloudwatch-json round trip ------------------------------------------------------


@pytest.fixture(scope="module")
def lfv_run(tmp_path_factory):
    """A simulated run written with --cloudwatch-json and --out, once for the module."""
    import tomllib

    from lfvsim.engine import simulate
    from lfvsim.scenario import Scenario

    scenario = Scenario.model_validate(tomllib.loads(LFV_TOML))
    return simulate(scenario, seed=5)


def test_run_writes_an_export_that_reads_back_minute_for_minute(cli, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(LFV_TOML)
    export = tmp_path / "cw.json"
    code, out, err = cli("run", scenario, "--cloudwatch-json", export, "--out", tmp_path / "o")
    assert code == 0, err
    assert f"wrote {export}" in out
    timeline = pd.read_csv(tmp_path / "o" / "timeline.csv", index_col=0, parse_dates=True)

    history = read_metric_history(export)
    assert history.namespace == "AWS/LookoutVision"
    assert history.dimensions == {"ProjectName": "line-7", "ModelVersion": "3"}
    frame = history.frame
    assert len(frame) == len(timeline) == 90
    for name in ("SuccessfulRequestCount", "ThrottledCount", "DesiredInferenceUnits"):
        np.testing.assert_array_equal(frame[name].to_numpy(), timeline[name].to_numpy())
    np.testing.assert_allclose(
        frame["InServiceInferenceUnits"], timeline["InServiceInferenceUnits"], atol=1e-6
    )
    np.testing.assert_allclose(frame["latency_p99_ms"], 1000 * timeline["latency_p99_s"], atol=1e-3)
    assert (frame["MinInferenceUnits"] == 1).all() and (frame["MaxInferenceUnits"] == 3).all()
    assert history.periods == [] and history.notes == []
    assert len(history.segments()) == 1 and history.segments()[0].max_units == 3

    # The trace reader replays the same offered load from it.
    trace = read_cloudwatch_export(export)
    np.testing.assert_array_equal(trace.counts, timeline["offered_requests"].to_numpy())


def test_rekognition_export_uses_its_namespace_dimensions_and_latency_metric(lfv_run):
    import tomllib

    from lfvsim.scenario import Scenario

    model = Scenario.model_validate(tomllib.loads(RCL_TOML)).model
    (only,) = metric_data_export(
        lfv_run.timeline, service=model.service, project=model.project, version=model.version
    )
    metrics = {q["Label"]: q["MetricStat"] for q in only["MetricDataQueries"]}
    assert set(metrics) == {
        "SuccessfulRequestCount", "ThrottledCount", "InServiceInferenceUnits",
        "DesiredInferenceUnits", "MinInferenceUnits", "MaxInferenceUnits",
        "ResponseTime p50", "ResponseTime p99",
    }  # fmt: skip
    stat = metrics["InServiceInferenceUnits"]
    assert stat["Metric"]["Namespace"] == "AWS/Rekognition"
    assert stat["Metric"]["Dimensions"] == [
        {"Name": "ProjectName", "Value": "bolts.v2"},
        {"Name": "VersionName", "Value": "bolts.2026-01-05"},
    ]
    assert stat["Stat"] == "Average" and metrics["ThrottledCount"]["Stat"] == "Sum"
    assert metrics["ResponseTime p99"]["Metric"]["MetricName"] == "ResponseTime"
    first = only["MetricDataResults"][0]
    assert first["Timestamps"][0] > first["Timestamps"][-1]  # newest first, like the CLI


def test_paged_export_reads_back_like_one_file(lfv_run, tmp_path):
    pages = metric_data_export(
        lfv_run.timeline, service="lookoutvision", project="p", version="1", pages=3
    )
    assert [("NextToken" in p) for p in pages] == [True, True, False]
    for k, p in enumerate(pages):
        dump(tmp_path / f"e-{k}.json", p)
    paged = read_metric_history(str(tmp_path / "e-*.json")).frame
    (whole,) = metric_data_export(
        lfv_run.timeline, service="lookoutvision", project="p", version="1"
    )
    pd.testing.assert_frame_equal(
        paged, read_metric_history(dump(tmp_path / "w.json", whole)).frame
    )
    with pytest.raises(InputError, match="last page is missing"):
        read_metric_history([tmp_path / "e-0.json", tmp_path / "e-1.json"])


def test_cloudwatch_json_never_replaces_a_file_without_force(cli, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(LFV_TOML.replace("duration_h = 1.5", "duration_h = 0.25"))
    export = tmp_path / "cw.json"
    export.write_text("keep me")
    code, out, err = cli("run", scenario, "--cloudwatch-json", export)
    assert_clean_failure(code, out, err, "exists", "--force")
    assert export.read_text() == "keep me"
    code, out, err = cli("run", scenario, "--cloudwatch-json", export, "--replications", "2")
    assert_clean_failure(code, out, err, "--replications")
    code, out, err = cli("run", scenario, "--cloudwatch-json", export, "--force", "--json")
    assert code == 0, err
    json.loads(out)  # stdout stays one JSON object
    assert len(read_metric_history(export).frame) == 15


# --- recognising what is not behaviour ---------------------------------------------------


def history_export(tmp_path):
    """30 minutes: hosted with Min 1 / Max 3, a 2-minute hole in the unit metrics, Max raised
    to 4, stopped for 10 minutes, then started again."""
    n = 30
    times = stamps(n)
    hosted = np.ones(n, bool)
    hosted[15:25] = False  # stopped
    hole = [6, 7]  # no unit datapoint (CloudWatch hiccup), model still serving
    unit_idx = [k for k in range(n) if hosted[k] and k not in hole]
    max_units = [3 if k < 10 else 4 for k in range(n)]
    served_idx = [k for k in range(n) if hosted[k] and k != 3]  # minute 3 had no requests

    def pick(idx, values):
        return [times[k] for k in idx], [values[k] for k in idx]

    series = {
        "SuccessfulRequestCount": pick(served_idx, [100] * n),
        "ThrottledCount": pick(served_idx, [2] * n),
        "InServiceInferenceUnits": pick(unit_idx, [1.0] * n),
        "DesiredInferenceUnits": pick(unit_idx, [1.0] * n),
        "MinInferenceUnits": pick(unit_idx, [1.0] * n),
        "MaxInferenceUnits": pick(unit_idx, max_units),
        "Time": pick(served_idx, [800.0] * n),
    }
    return dump(tmp_path / "h.json", page(series))


def test_not_hosted_gaps_bound_changes_and_restarts_are_recognised(tmp_path):
    history = read_metric_history(history_export(tmp_path))
    frame = history.frame
    kinds = [(p.kind, p.start.minute, p.end.minute) for p in history.periods]
    assert kinds == [
        ("gap", 6, 8),
        ("bounds_change", 10, 10),
        ("not_hosted", 15, 25),
        ("restart", 25, 25),
    ]
    assert "MaxInferenceUnits 3 -> 4" in str(history.periods[1])
    assert frame["hosted"].tolist() == [True] * 15 + [False] * 10 + [True] * 5
    assert frame["gap"].sum() == 2
    assert frame["ThrottledCount"].iloc[3] == 0  # no datapoint: no requests
    assert frame["latency_mean_ms"].iloc[0] == 800.0  # label without a statistic: Average
    assert any("1 hosted minutes without a request datapoint" in n for n in history.notes)
    assert any("'Time' names no statistic" in n for n in history.notes)
    segments = [(s.first, s.stop, s.min_units, s.max_units) for s in history.segments()]
    assert segments == [(0, 10, 1, 3), (10, 15, 1, 4), (25, 30, 1, 4)]
    np.testing.assert_array_equal(history.offered()[:3], [102, 102, 102])


def test_a_long_hole_without_requests_is_not_hosted_not_a_gap(tmp_path):
    times = stamps(20)
    keep = list(range(5)) + list(range(15, 20))
    series = {
        "InServiceInferenceUnits": ([times[k] for k in keep], [2.0] * len(keep)),
        "SuccessfulRequestCount": ([times[k] for k in keep], [10] * len(keep)),
    }
    history = read_metric_history(dump(tmp_path / "h.json", page(series)))
    assert [p.kind for p in history.periods] == ["not_hosted", "restart"]
    assert not history.frame["gap"].any()


def test_without_unit_metrics_hosting_is_unknown_and_said_so(tmp_path):
    series = {"SuccessfulRequestCount": (stamps(5), [1, 2, 3, 4, 5])}
    history = read_metric_history(dump(tmp_path / "h.json", page(series)))
    assert history.frame["hosted"].isna().all()
    assert history.periods == []
    assert any("cannot be told" in n for n in history.notes)
    assert [(s.first, s.stop, s.max_units) for s in history.segments()] == [(0, 5, None)]


def test_bad_exports_are_refused_with_the_fix(tmp_path):
    queries = history_queries("AWS/LookoutVision", {"ProjectName": "p", "ModelVersion": "1"})
    unit_query = next(q for q in queries if q["Label"] == "InServiceInferenceUnits")
    wrong = {**unit_query, "MetricStat": {**unit_query["MetricStat"], "Stat": "Sum"}}
    as_sum = page({"InServiceInferenceUnits": (stamps(3), [1, 1, 1])}, MetricDataQueries=[wrong])
    as_sum["MetricDataResults"][0]["Id"] = wrong["Id"]
    with pytest.raises(InputError, match="exported as Sum; export it as Average"):
        read_metric_history(dump(tmp_path / "sum.json", as_sum))
    stats = {"Label": "InServiceInferenceUnits", "Datapoints": []}
    with pytest.raises(InputError, match="not a get-metric-data export"):
        read_metric_history(dump(tmp_path / "stats.json", stats))
    other = page({"CPUUtilization": (stamps(2), [1.0, 2.0])})
    with pytest.raises(InputError, match="none of SuccessfulRequestCount"):
        read_metric_history(dump(tmp_path / "other.json", other))
    five_min = page({"SuccessfulRequestCount": ([stamps(11)[0], stamps(11)[5]], [1, 2])})
    with pytest.raises(InputError, match="60 s period"):
        read_metric_history(dump(tmp_path / "five.json", five_min))


# --- live pulls -----------------------------------------------------------------------------

boto3 = pytest.importorskip("boto3")
Stubber = pytest.importorskip("botocore.stub").Stubber


@pytest.mark.parametrize(
    ("service", "namespace", "version_key", "latency"),
    [
        ("lookoutvision", "AWS/LookoutVision", "ModelVersion", "Time"),
        ("rekognition", "AWS/Rekognition", "VersionName", "ResponseTime"),
    ],
)
def test_live_pull_asks_for_every_metric_with_its_statistic(
    service, namespace, version_key, latency
):
    from lfvsim.traces.metric_history import get_metric_history

    client = boto3.client(
        "cloudwatch",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queries = history_queries(namespace, {"ProjectName": "line-1", version_key: "v2"})
    assert [q["MetricStat"]["Stat"] for q in queries] == ["Sum"] * 2 + ["Average"] * 5
    assert queries[-1]["MetricStat"]["Metric"]["MetricName"] == latency
    start, end = T0, T0 + timedelta(minutes=4)
    request = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    times = [T0 + timedelta(minutes=k) for k in range(4)]
    values = {
        "successful_request_count_sum": [5.0, 6, 7, 8],
        "in_service_inference_units_average": [1.0] * 4,
    }

    def results(part):
        return [
            {
                "Id": q["Id"],
                "Label": q["Label"],
                "Timestamps": times[part],
                "Values": values.get(q["Id"], [0.0] * 4)[part],
                "StatusCode": "Complete",
            }
            for q in queries
        ]

    with Stubber(client) as stub:
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": results(slice(0, 2)), "NextToken": "t2"},
            request,
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": results(slice(2, 4))},
            {**request, "NextToken": "t2"},
        )
        history = get_metric_history(service, "line-1", "v2", start, end, client=client)
        stub.assert_no_pending_responses()
    assert history.namespace == namespace
    assert history.frame["SuccessfulRequestCount"].tolist() == [5, 6, 7, 8]
    assert history.frame["hosted"].tolist() == [True] * 4
    assert "latency_mean_ms" in history.frame
