"""The StartModel / StartProjectVersion request a scenario stands for."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

import lfvsim
from lfvsim.errors import InputError
from lfvsim.startmodel import client_token, start_model_request, start_operation, today_utc
from tests.conftest import ROOT, scenario

SEEDED = ROOT / "scenarios" / "seeded-circuit-boards.toml"
RCL_ARN = (
    "arn:aws:rekognition:us-east-1:123456789012:project/pcb-defects/version/"
    "pcb.2022-08-10T09.12.45/1660122765123"
)
# Pinned: the token follows the plan and the day of the start; it must not change between
# runs, machines or releases, or a retry within 8 hours would start a second model instead
# of being safe.
DAY = date(2026, 3, 1)
SEEDED_REQUEST = {
    "ProjectName": "circuit-boards",
    "ModelVersion": "3",
    "MinInferenceUnits": 2,
    "MaxInferenceUnits": 5,
    "ClientToken": "lfvsim-20260301-70772dfc230b6db078f4a11e7f3258b8df72b258",
}
STARTMODEL_MEMBERS = {
    "ProjectName",
    "ModelVersion",
    "MinInferenceUnits",
    "MaxInferenceUnits",
    "ClientToken",
}


def rcl_scenario(**model):
    fields = {
        "service": "rekognition",
        "project": "pcb-defects",
        "version": "pcb.2022-08-10T09.12.45",
        "region": "us-east-1",
        "project_version_arn": RCL_ARN,
        "min_units": 1,
        "max_units": 3,
    }
    return scenario(model={**fields, **model})


@pytest.fixture
def rcl_file(tmp_path):
    path = tmp_path / "rcl.toml"
    path.write_text(
        '[model]\nservice = "rekognition"\nproject = "pcb-defects"\n'
        'version = "pcb.2022-08-10T09.12.45"\nregion = "us-east-1"\n'
        f'project_version_arn = "{RCL_ARN}"\nmin_units = 1\nmax_units = 3\n'
        '[traffic]\nkind = "constant"\nrate_tps = 1\n'
    )
    return path


# --- Lookout for Vision --------------------------------------------------------------------


def test_request_for_the_seeded_scenario_is_pinned():
    request = start_model_request(lfvsim.load_scenario(SEEDED), start_date=DAY)
    assert request == SEEDED_REQUEST
    assert list(request) == list(SEEDED_REQUEST)  # key order too: the JSON text is stable
    assert set(request) <= STARTMODEL_MEMBERS


def test_cli_json_is_stable_across_processes(cli):
    code, out, err = cli("start-model-input", SEEDED, "--start-date", "2026-03-01")
    assert code == 0, err
    assert json.loads(out) == SEEDED_REQUEST
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"}
    proc = subprocess.run(
        [sys.executable, "-m", "lfvsim.cli", "start-model-input", str(SEEDED), "--start-date",
         "2026-03-01"],
        capture_output=True, text=True, env=env, check=True, cwd=ROOT / "tests",
    )  # fmt: skip
    assert proc.stdout == out


def test_token_follows_the_plan():
    token = client_token("circuit-boards", "3", 2, 5)
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,64}", token)
    assert token == client_token("circuit-boards", "3", 2, 5)
    others = {
        client_token("circuit-boards", "3", 2, None),
        client_token("circuit-boards", "3", 2, 6),
        client_token("circuit-boards", "3", 3, 5),
        client_token("circuit-boards", "4", 2, 5),
        client_token("circuit-board", "3", 2, 5),
        client_token("circuit-boards", "32", 2, 5),
    }
    assert token not in others and len(others) == 6


def test_units_override_and_no_autoscaling():
    sc = lfvsim.load_scenario(SEEDED)
    request = start_model_request(sc, units=(3, None))
    assert request["MinInferenceUnits"] == 3 and "MaxInferenceUnits" not in request
    assert request["ClientToken"] == client_token("circuit-boards", "3", 3, None)
    numpy = pytest.importorskip("numpy")
    request = start_model_request(sc, units=(numpy.int64(2), numpy.int64(4)))
    assert json.loads(json.dumps(request))["MaxInferenceUnits"] == 4


@pytest.mark.parametrize(
    ("units", "needle"),
    [
        ((0, None), "inference units must be >= 1"),
        ((2, 0), "inference units must be >= 1"),
        ((3, 2), "MaxInferenceUnits 2 is below MinInferenceUnits 3"),
        ((2.5, None), "whole numbers"),
    ],
)
def test_units_are_checked(units, needle):
    with pytest.raises(InputError, match=needle):
        start_model_request(lfvsim.load_scenario(SEEDED), units=units)


def test_names_are_checked_before_printing():
    sc = lfvsim.load_scenario(SEEDED)
    for field, value, needle in [
        ("project", "-circuit", "ProjectName '-circuit'"),
        ("project", "x" * 256, "1-255 characters"),
        ("version", "03", "ModelVersion '03'"),
    ]:
        broken = sc.model_copy(update={"model": sc.model.model_copy(update={field: value})})
        with pytest.raises(InputError, match=needle):
            start_model_request(broken)


# --- Rekognition Custom Labels -------------------------------------------------------------


def test_rekognition_request_has_the_arn_and_no_token():
    sc = rcl_scenario()
    request = start_model_request(sc)
    assert request == {"ProjectVersionArn": RCL_ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 3}
    assert start_operation(sc).method == "start_project_version"
    assert start_model_request(sc, units=(2, None)) == {
        "ProjectVersionArn": RCL_ARN,
        "MinInferenceUnits": 2,
    }


def test_rekognition_request_needs_the_arn():
    with pytest.raises(InputError, match=r"model\.project_version_arn is unset"):
        start_model_request(rcl_scenario(project_version_arn=None))


@pytest.fixture
def rekognition(monkeypatch, tmp_path):
    boto3 = pytest.importorskip("boto3")
    stub = pytest.importorskip("botocore.stub")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.session.Session(region_name="us-east-1").client("rekognition")
    with stub.Stubber(client) as stubber:
        yield client, stubber


@pytest.mark.parametrize("units", [None, (2, None), (1, 1), (4, 10)])
def test_botocore_accepts_the_rekognition_request(rekognition, units):
    client, stubber = rekognition
    request = start_model_request(rcl_scenario(), units=units)
    stubber.add_response("start_project_version", {"Status": "STARTING"}, request)
    assert client.start_project_version(**request)["Status"] == "STARTING"
    stubber.assert_no_pending_responses()


def test_botocore_validation_would_catch_a_bad_request(rekognition):
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    client, _ = rekognition
    shape = client.meta.service_model.operation_model("StartProjectVersion").input_shape
    validate_parameters(start_model_request(rcl_scenario()), shape)
    for bad in (
        {"ProjectVersionArn": RCL_ARN, "MinInferenceUnits": 0},
        {"ProjectVersionArn": "arn:aws:rekognition", "MinInferenceUnits": 1},  # < 20 chars
        {"ProjectVersionArn": RCL_ARN, "MinInferenceUnits": 1, "ClientToken": "t"},
    ):
        with pytest.raises(ParamValidationError):
            validate_parameters(bad, shape)


def test_cli_json_for_rekognition_is_accepted_by_botocore(rekognition, cli, rcl_file):
    client, stubber = rekognition
    code, out, err = cli("start-model-input", rcl_file, "--max-units", "6")
    assert code == 0, err
    request = json.loads(out)
    assert request == {"ProjectVersionArn": RCL_ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 6}
    stubber.add_response("start_project_version", {"Status": "STARTING"}, request)
    client.start_project_version(**request)


# --- command line --------------------------------------------------------------------------


def boto3_keywords(source: str) -> tuple[str, dict]:
    """The method called and its keyword arguments, from the printed Python."""
    tree = ast.parse(source)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.keywords
    ]
    call = next(c for c in calls if c.func.attr.startswith("start_"))
    return call.func.attr, {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def test_boto3_format_prints_the_same_keyword_arguments(cli, rcl_file):
    code, out, err = cli(
        "start-model-input", SEEDED, "--format", "boto3", "--start-date", "2026-03-01"
    )
    assert code == 0, err
    assert boto3_keywords(out) == ("start_model", SEEDED_REQUEST)
    assert 'boto3.client("lookoutvision", region_name="eu-west-1")' in out
    assert "botocore <= 1.40.60" in out
    code, out, err = cli("start-model-input", rcl_file, "--format", "boto3", "--no-max-units")
    assert code == 0, err
    assert boto3_keywords(out) == (
        "start_project_version",
        {"ProjectVersionArn": RCL_ARN, "MinInferenceUnits": 1},
    )


def test_cli_overrides(cli):
    code, out, _ = cli("start-model-input", SEEDED, "--min-units", "3", "--max-units", "8")
    request = json.loads(out)
    assert code == 0
    assert (request["MinInferenceUnits"], request["MaxInferenceUnits"]) == (3, 8)
    assert request["ClientToken"] == client_token("circuit-boards", "3", 3, 8, today_utc())
    code, out, _ = cli("start-model-input", SEEDED, "--no-max-units")
    assert code == 0 and "MaxInferenceUnits" not in json.loads(out)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--min-units", "6"), "MaxInferenceUnits 5 is below MinInferenceUnits 6"),
        (("--max-units", "3", "--no-max-units"), "not both"),
        (("--min-units", "0"), "--min-units"),
        (("--format", "yaml"), "--format"),
    ],
)
def test_cli_bad_options_fail_cleanly(cli, args, needle):
    code, out, err = cli("start-model-input", SEEDED, *args)
    assert code == 2 and out == ""
    assert err.startswith("lfvsim: error: ") and len(err.strip().splitlines()) == 1
    assert needle in err


def test_cli_rekognition_scenario_without_arn_fails_cleanly(cli, tmp_path):
    path = tmp_path / "rcl.toml"
    path.write_text(
        '[model]\nservice = "rekognition"\nproject = "p"\nversion = "v1"\n'
        '[traffic]\nkind = "constant"\nrate_tps = 1\n'
    )
    code, out, err = cli("start-model-input", path)
    assert (code, out) == (2, "")
    assert "model.project_version_arn is unset" in err


def test_cli_warns_when_the_scenario_names_no_model(cli, tmp_path):
    path = tmp_path / "anon.toml"
    path.write_text('[traffic]\nkind = "constant"\nrate_tps = 1\n')
    code, out, err = cli("start-model-input", path)
    assert code == 0 and json.loads(out)["ProjectName"] == "my-project"
    assert err.startswith("lfvsim: warning: ") and "model.project or model.version" in err
    code, out, err = cli("start-model-input", SEEDED)
    assert code == 0 and err == ""


# --- ClientToken across deliberate restarts ----------------------------------------------


def test_token_separates_restarts_and_keeps_retries_idempotent():
    token = client_token("circuit-boards", "3", 2, 5, DAY)
    # A retry of the same start (same plan, day and suffix) sends the same token.
    assert token == client_token("circuit-boards", "3", 2, 5, DAY, "")
    # A new start of the same plan: another day, or another suffix, is another call.
    restarts = {
        client_token("circuit-boards", "3", 2, 5, DAY + timedelta(days=1)),
        client_token("circuit-boards", "3", 2, 5, DAY, "restart2"),
        client_token("circuit-boards", "3", 2, 5, DAY, "restart3"),
    }
    assert token not in restarts and len(restarts) == 3
    for t in (token, *restarts):
        assert re.fullmatch(r"[a-zA-Z0-9-]{1,64}", t)
    assert token.startswith("lfvsim-20260301-")
    # No day given: today in UTC.
    assert client_token("p", "1", 1, None) == client_token("p", "1", 1, None, today_utc())
    for bad in ("has space", "x" * 17, "under_score"):
        with pytest.raises(InputError, match="token suffix"):
            client_token("p", "1", 1, None, DAY, bad)


def test_cli_start_date_and_token_suffix(cli, rcl_file):
    def token(*args: str) -> str:
        code, out, err = cli("start-model-input", SEEDED, *args)
        assert code == 0, err
        return json.loads(out)["ClientToken"]

    first = token("--start-date", "2026-03-01")
    assert first == SEEDED_REQUEST["ClientToken"]
    assert token("--start-date", "2026-03-01") == first  # a retry
    assert token("--start-date", "2026-03-01", "--token-suffix", "restart2") != first
    assert token("--start-date", "2026-03-02") != first
    assert token() == client_token("circuit-boards", "3", 2, 5, today_utc())
    for args, needle in (
        (("--start-date", "1 March"), "YYYY-MM-DD"),
        (("--start-date", "2026-02-30"), "YYYY-MM-DD"),
        (("--token-suffix", "a b"), "token suffix"),
    ):
        code, out, err = cli("start-model-input", SEEDED, *args)
        assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1, err
        assert needle in err
    # StartProjectVersion has no ClientToken.
    code, out, err = cli("start-model-input", rcl_file, "--token-suffix", "x")
    assert (code, out) == (2, "") and "StartProjectVersion does not have" in err


def describe_file(tmp_path, status: str, version: str = "3") -> Path:
    doc = json.loads(
        (ROOT / "scenarios" / "data" / "circuit-boards-describe-model.json").read_text()
    )
    body = doc["ModelDescription"]
    body["Status"] = status
    body["ModelVersion"] = version
    body["ModelArn"] = body["ModelArn"].rsplit("/", 1)[0] + f"/{version}"
    path = tmp_path / f"describe-{status}-{version}.json"
    path.write_text(json.dumps(doc))
    return path


def test_cli_warns_when_describe_model_shows_the_model_hosted(cli, tmp_path):
    hosted = describe_file(tmp_path, "HOSTED")
    code, out, err = cli("start-model-input", SEEDED, "--describe-model", hosted)
    assert code == 0 and json.loads(out)["MinInferenceUnits"] == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lfvsim: warning: ")
    assert "is HOSTED" in lines[0] and "stop-model" in lines[0]
    code, out, err = cli(
        "start-model-input", SEEDED, "--describe-model", describe_file(tmp_path, "TRAINED")
    )
    assert code == 0 and err == ""
    # A description of another model is an error, not a silent pass.
    other = describe_file(tmp_path, "HOSTED", version="4")
    code, out, err = cli("start-model-input", SEEDED, "--describe-model", other)
    assert (code, out) == (2, "") and "version 4" in err and len(err.strip().splitlines()) == 1
