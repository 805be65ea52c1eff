"""DescribeModel / DescribeProjectVersions data: parsing, validation, seeding, live reads."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime

import pytest

import lfvsim
from lfvsim import aws
from lfvsim.billing import PRICE_TABLE_USD_PER_UNIT_HOUR
from lfvsim.errors import InputError
from lfvsim.scenario import RCL_REGIONS
from tests.conftest import ROOT, SCENARIOS

QUICKSTART = ROOT / "scenarios" / "quickstart.toml"
EXAMPLE_JSON = ROOT / "scenarios" / "data" / "circuit-boards-describe-model.json"
EXAMPLE_SCENARIO = ROOT / "scenarios" / "seeded-circuit-boards.toml"

CREATED = datetime(2022, 8, 10, 9, 12, 45, 123000, tzinfo=UTC)
LFV_ARN = "arn:aws:lookoutvision:eu-west-1:123456789012:model/circuit-boards/3"


def assert_clean_failure(code, out, err, *needles):
    """Exit status 2, nothing on stdout, one 'lfvsim: error:' line holding every needle."""
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lfvsim: error: ")
    for needle in needles:
        assert needle in lines[0]


def lfv_description(created, **changes):
    """A ModelDescription as DescribeModel returns it, timestamps as given."""
    body = {
        "ModelVersion": "3",
        "ModelArn": LFV_ARN,
        "CreationTimestamp": created,
        "Description": "Solder joints, line 2",
        "Status": "TRAINED",
        "StatusMessage": "Training completed successfully.",
        "Performance": {"F1Score": 0.9565, "Recall": 0.9361, "Precision": 0.9778},
        "OutputConfig": {"S3Location": {"Bucket": "lfv-output", "Prefix": "circuit-boards/"}},
        "EvaluationManifest": {"Bucket": "lfv-output", "Key": "circuit-boards/manifest"},
        "EvaluationResult": {"Bucket": "lfv-output", "Key": "circuit-boards/result.json"},
        "EvaluationEndTimestamp": created,
        "MinInferenceUnits": 2,
        "MaxInferenceUnits": 5,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def boto3_response(body):
    """What boto3's describe_model returns: datetimes, plus ResponseMetadata."""
    return {
        "ModelDescription": body,
        "ResponseMetadata": {"RequestId": "0f5e", "HTTPStatusCode": 200, "RetryAttempts": 0},
    }


# Each format AWS tools save: AWS CLI v1 (epoch seconds), CLI v2 (ISO 8601), a bare
# ModelDescription object, and a boto3 response saved with json.dumps(default=str).
FORMATS = {
    "cli-v1": lambda: json.dumps({"ModelDescription": lfv_description(CREATED.timestamp())}),
    "cli-v2": lambda: json.dumps(
        {"ModelDescription": lfv_description(CREATED.isoformat())}, indent=4
    ),
    "bare": lambda: json.dumps(lfv_description(CREATED.isoformat())),
    "boto3-default-str": lambda: json.dumps(boto3_response(lfv_description(CREATED)), default=str),
}

RCL_PROJECT = "arn:aws:rekognition:us-east-1:123456789012:project/pcb-defects/1650000000000"


def rcl_version(name, status="TRAINING_COMPLETED", region="us-east-1", **changes):
    body = {
        "ProjectVersionArn": (
            f"arn:aws:rekognition:{region}:123456789012:project/pcb-defects/version/{name}"
            "/1660122765123"
        ),
        "CreationTimestamp": CREATED,
        "Status": status,
        "StatusMessage": "The model is ready to run.",
        "BillableTrainingTimeInSeconds": 3600,
        "TrainingEndTimestamp": CREATED,
        "OutputConfig": {"S3Bucket": "rcl-output", "S3KeyPrefix": "pcb/"},
        "EvaluationResult": {"F1Score": 0.912},
        "MinInferenceUnits": 1,
        "MaxInferenceUnits": 3,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def rcl_file(*versions):
    return json.dumps({"ProjectVersionDescriptions": list(versions)}, indent=4, default=str)


@pytest.fixture
def write(tmp_path):
    def write(text, name="describe.json"):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    return write


# --- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_saved_format_gives_the_same_model(write, fmt):
    d = aws.read_model_description(write(FORMATS[fmt]()))
    assert (d.service, d.project, d.version, d.region) == (
        "lookoutvision",
        "circuit-boards",
        "3",
        "eu-west-1",
    )
    assert (d.min_units, d.max_units, d.account) == (2, 5, "123456789012")
    assert d.status == "TRAINED" and d.hostable
    assert (d.f1_score, d.recall, d.precision) == (0.9565, 0.9361, 0.9778)
    assert d.created == CREATED
    assert d.warnings() == []


def test_boto3_response_with_datetimes_parses_directly():
    d = aws.parse_model_description(boto3_response(lfv_description(CREATED)))
    assert d.created == CREATED and d.max_units == 5


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_naive_and_zulu_timestamps_are_utc(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")  # the local zone must not leak in
    time.tzset()
    try:
        for stamp in ("2022-08-10T09:12:45.123Z", "2022-08-10 09:12:45.123", "1660122765.123"):
            assert aws.parse_model_description(lfv_description(stamp)).created == CREATED, stamp
        assert aws.parse_model_description(lfv_description(1660122765.123)).created == CREATED
    finally:
        monkeypatch.undo()
        time.tzset()


def test_model_without_max_units_does_not_autoscale(write, cli):
    path = write(json.dumps({"ModelDescription": lfv_description(1.0, MaxInferenceUnits=None)}))
    d = aws.read_model_description(path)
    assert (d.min_units, d.max_units) == (2, None)
    scenario = aws.seed_scenario(d)
    assert scenario.model.max_units is None and scenario.policy == "none"
    code, out, err = cli("seed", path)
    assert code == 0, err
    assert "does not auto-scale" in out
    assert "# max_units is unset" in out


def test_model_never_started_keeps_default_units(write):
    body = lfv_description(1.0, MinInferenceUnits=None, MaxInferenceUnits=None)
    d = aws.read_model_description(write(json.dumps({"ModelDescription": body})))
    assert (d.min_units, d.max_units) == (None, None)
    assert aws.seed_scenario(d).model.min_units == 1
    assert any("not AWS data" in line for line in d.header())
    # On an existing scenario, the scenario's own units stay.
    sc = aws.apply_model_description(lfvsim.load_scenario(QUICKSTART), d)
    assert (sc.model.min_units, sc.model.max_units, sc.model.project) == (1, 4, "circuit-boards")


# --- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["TRAINING_FAILED", "DELETING", "HOSTING_FAILED", "TRAINING"])
def test_unhostable_status_warns_and_still_seeds(write, cli, tmp_path, status):
    body = lfv_description(1.0, Status=status, StatusMessage="Dataset\nhas too few images.")
    path = write(json.dumps({"ModelDescription": body}))
    out_file = tmp_path / "seeded.toml"
    code, out, err = cli("seed", path, "-o", out_file)
    assert code == 0, err
    assert out.startswith(f"wrote {out_file}")
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lfvsim: warning: ")
    assert status in lines[0] and "Dataset has too few images." in lines[0]
    assert aws.LFV_STATUSES[status][1] in lines[0]
    assert lfvsim.load_scenario(out_file).model.project == "circuit-boards"
    assert f"# status: {status}" in out_file.read_text()


def test_failed_status_says_it_can_never_be_hosted():
    d = aws.parse_model_description(lfv_description(1.0, Status="TRAINING_FAILED"))
    assert d.hostable is False
    assert "can never be hosted" in d.warnings()[0]


def test_every_status_has_a_meaning_and_hostable_ones_do_not_warn():
    lfv = {"TRAINING", "TRAINED", "TRAINING_FAILED", "STARTING_HOSTING", "HOSTED"}
    lfv |= {"HOSTING_FAILED", "STOPPING_HOSTING", "SYSTEM_UPDATING", "DELETING"}
    assert set(aws.LFV_STATUSES) == lfv
    for status, (hostable, meaning) in aws.LFV_STATUSES.items():
        d = aws.parse_model_description(lfv_description(1.0, Status=status))
        assert d.status_meaning == meaning
        assert bool(d.warnings()) is not hostable


def test_rcl_statuses_match_botocore():
    botocore = pytest.importorskip("botocore.session")
    model = botocore.get_session().get_service_model("rekognition")
    assert set(aws.RCL_STATUSES) == set(model.shape_for("ProjectVersionStatus").enum)


# --- Rekognition Custom Labels -------------------------------------------------------------


def test_rcl_single_version(write):
    d = aws.read_model_description(write(rcl_file(rcl_version("pcb.2022-08-10T09.12.45"))))
    assert (d.service, d.project, d.version, d.region) == (
        "rekognition",
        "pcb-defects",
        "pcb.2022-08-10T09.12.45",
        "us-east-1",
    )
    assert (d.min_units, d.max_units, d.f1_score, d.created) == (1, 3, 0.912, CREATED)
    sc = aws.seed_scenario(d)
    assert sc.model.service == "rekognition"
    assert sc.model.project_version_arn == d.arn


def test_rcl_several_versions_need_a_choice(write, cli):
    path = write(
        rcl_file(
            rcl_version("v2", "RUNNING", MinInferenceUnits=2, MaxInferenceUnits=6),
            rcl_version("v1", "TRAINING_FAILED"),
        )
    )
    code, out, err = cli("seed", path)
    assert_clean_failure(code, out, err, "2 model versions", "v2 (RUNNING)", "--version")
    code, out, err = cli("seed", path, "--version", "v2")
    assert code == 0, err
    assert err == ""
    assert 'version = "v2"' in out and "min_units = 2" in out and "max_units = 6" in out
    code, out, err = cli("seed", path, "--version", "v1")
    assert code == 0 and "TRAINING_FAILED" in err and "can never be hosted" in err
    code, out, err = cli("seed", path, "--version", "v9")
    assert_clean_failure(code, out, err, "no version 'v9'", "v2, v1")


def test_rcl_region_without_price_is_refused_unless_priced(write, cli, tmp_path):
    assert "ap-south-1" in RCL_REGIONS and "ap-south-1" not in PRICE_TABLE_USD_PER_UNIT_HOUR
    path = write(rcl_file(rcl_version("v1", region="ap-south-1")))
    out_file = tmp_path / "s.toml"
    code, out, err = cli("seed", path, "-o", out_file)
    assert_clean_failure(code, out, err, "'ap-south-1'", "--price-per-unit-hour")
    assert not out_file.exists()
    code, out, err = cli("seed", path, "-o", out_file, "--price-per-unit-hour", "4.2")
    assert code == 0, err
    sc = lfvsim.load_scenario(out_file)
    assert sc.model.region == "ap-south-1" and sc.price_per_unit_hour_usd == 4.2
    # The same region through run --describe-model: the scenario must set the price.
    code, out, err = cli("run", QUICKSTART, "--describe-model", path, "--show-config")
    assert_clean_failure(code, out, err, "billing.price_per_unit_hour_usd")


def test_rcl_regions_have_a_rekognition_endpoint_in_botocore():
    botocore = pytest.importorskip("botocore.session")
    session = botocore.get_session()
    listed = set(session.get_available_regions("rekognition"))
    listed |= set(session.get_available_regions("rekognition", "aws-us-gov"))
    assert set(RCL_REGIONS) <= listed


def test_content_moderation_adapter_is_refused():
    with pytest.raises(InputError, match="Custom Moderation adapter"):
        aws.parse_model_description(
            {"ProjectVersionDescriptions": [rcl_version("a1", Feature="CONTENT_MODERATION")]}
        )


# --- validation ----------------------------------------------------------------------------

BAD = {
    "not json": ('{"ModelDescription": {"ModelArn": ', "not valid JSON", "line 1"),
    "python repr": ("{'ModelDescription': {}}", "not valid JSON", "default=str"),
    "empty": ("", "the file is empty, not describe-model JSON"),
    "gzipped": (b"\x1f\x8b\x08\x00\x00\x00", "a gzip-compressed file, not describe-model JSON"),
    "a list": ("[1, 2]", "expected a JSON object", "a list"),
    "unrelated": ('{"Projects": []}', "neither describe-model", "Projects"),
    "no arn": (
        json.dumps({"ModelDescription": {"ModelVersion": "1"}}),
        "ModelDescription.ModelArn is missing",
    ),
    "rcl arn in lfv": (
        json.dumps({"ModelDescription": lfv_description(1.0, ModelArn=RCL_PROJECT)}),
        "ModelDescription.ModelArn",
        "is not a Lookout for Vision model ARN",
        "Rekognition ARN",
    ),
    "arn without version": (
        json.dumps(
            {
                "ModelDescription": lfv_description(
                    1.0, ModelArn="arn:aws:lookoutvision:us-east-1:123456789012:model/p"
                )
            }
        ),
        "'arn:aws:lookoutvision:us-east-1:123456789012:model/p'",
        "arn:aws:lookoutvision:REGION:ACCOUNT:model/PROJECT/VERSION",
    ),
    "arn bad region": (
        json.dumps(
            {
                "ModelDescription": lfv_description(
                    1.0, ModelArn="arn:aws:lookoutvision:ap-south-1:123456789012:model/p/3"
                )
            }
        ),
        "region 'ap-south-1'",
        "not a Lookout for Vision region",
    ),
    "arn bad project": (
        json.dumps(
            {
                "ModelDescription": lfv_description(
                    1.0, ModelArn="arn:aws:lookoutvision:us-east-1:123456789012:model/-p/3"
                )
            }
        ),
        "project '-p'",
        "ProjectName",
    ),
    "version mismatch": (
        json.dumps({"ModelDescription": lfv_description(1.0, ModelVersion="4")}),
        "ModelVersion '4'",
        "('3')",
    ),
    "version pattern": (
        json.dumps({"ModelDescription": lfv_description(1.0, ModelVersion="03")}),
        "ModelDescription.ModelVersion '03'",
    ),
    "zero units": (
        json.dumps({"ModelDescription": lfv_description(1.0, MinInferenceUnits=0)}),
        "ModelDescription.MinInferenceUnits is 0",
        ">= 1",
    ),
    "string units": (
        json.dumps({"ModelDescription": lfv_description(1.0, MaxInferenceUnits="5")}),
        "ModelDescription.MaxInferenceUnits is '5'",
    ),
    "max below min": (
        json.dumps({"ModelDescription": lfv_description(1.0, MaxInferenceUnits=1)}),
        "MaxInferenceUnits (1) is below MinInferenceUnits (2)",
    ),
    "unknown status": (
        json.dumps({"ModelDescription": lfv_description(1.0, Status="READY")}),
        "ModelDescription.Status 'READY'",
        "TRAINED",
    ),
    "bad timestamp": (
        json.dumps({"ModelDescription": lfv_description(1.0, CreationTimestamp="last tuesday")}),
        "ModelDescription.CreationTimestamp is 'last tuesday'",
        "ISO 8601",
    ),
    "bad score": (
        json.dumps({"ModelDescription": lfv_description(1.0, Performance={"F1Score": "high"})}),
        "ModelDescription.Performance.F1Score is 'high'",
    ),
    "rcl bad arn": (
        rcl_file(rcl_version("v1", ProjectVersionArn=LFV_ARN)),
        "ProjectVersionDescriptions[0].ProjectVersionArn",
        "Lookout for Vision ARN",
    ),
    "rcl empty": (rcl_file(), "ProjectVersionDescriptions is empty"),
    "rcl bad units": (
        rcl_file(rcl_version("v1", MinInferenceUnits=-1)),
        "ProjectVersionDescriptions[0].MinInferenceUnits is -1",
    ),
    "rcl unknown region": (
        rcl_file(rcl_version("v1", region="mars-1")),
        "region 'mars-1'",
        "not a Rekognition region",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_description_fails_cleanly_naming_field_and_value(write, cli, tmp_path, name):
    text, *needles = BAD[name]
    path = write(text)
    out_file = tmp_path / "seeded.toml"
    code, out, err = cli("seed", path, "-o", out_file)
    assert_clean_failure(code, out, err, str(path), *needles)
    assert not out_file.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lfvsim-")]
    code, out, err = cli("run", QUICKSTART, "--describe-model", path)
    assert_clean_failure(code, out, err, str(path), *needles)


def test_bad_seed_arguments_fail_cleanly(cli, write, tmp_path):
    path = write(FORMATS["cli-v2"]())
    assert_clean_failure(*cli("seed"), "--project")
    assert_clean_failure(*cli("seed", path, "--project", "p"), "not both")
    assert_clean_failure(*cli("seed", path, "--region", "us-east-1"), "live reads")
    assert_clean_failure(*cli("seed", tmp_path / "nope.json"), "does not exist")
    assert_clean_failure(*cli("seed", path, "--version", "7"), "'3', not the '7'")
    assert_clean_failure(*cli("seed", path, "-o", tmp_path / "no" / "s.toml"), "does not exist")
    assert_clean_failure(*cli("seed", path, "--traffic", tmp_path / "t.csv"), "--traffic")
    assert_clean_failure(*cli("seed", path, "--price-per-unit-hour", "-1"), "price_per_unit")


# --- seeding and running -------------------------------------------------------------------


def test_seeded_scenario_runs_with_the_models_units_and_regional_price(
    write, cli, tmp_path, monkeypatch
):
    # A distinct price for the model's region: the run must pick it from the region.
    monkeypatch.setitem(PRICE_TABLE_USD_PER_UNIT_HOUR, "eu-west-1", 4.5)
    (tmp_path / "trace.csv").write_text(
        "timestamp,count\n" + "".join(f"{60 * i},{300}\n" for i in range(60))
    )
    path = write(FORMATS["cli-v1"]())
    seeded = tmp_path / "out" / "seeded.toml"
    seeded.parent.mkdir()
    code, out, err = cli("seed", path, "-o", seeded, "--traffic", tmp_path / "trace.csv")
    assert code == 0, err
    assert out.startswith(f"wrote {seeded}: circuit-boards version 3 in eu-west-1, Min 2, Max 5")
    text = seeded.read_text()
    assert f'path = "{tmp_path / "trace.csv"}"' in text and "PLACEHOLDER" not in text
    assert LFV_ARN in text and "F1 0.9565" in text and CREATED.isoformat() in text
    code, out, err = cli("run", seeded, "--json", "--seed", "3")
    assert code == 0, err
    result = json.loads(out)
    assert (result["min_units"], result["max_units"]) == (2, 5)
    assert result["requests"] == 18_000
    assert result["price_per_unit_hour_usd"] == 4.5
    assert result["cost_usd"] == pytest.approx(result["unit_hours"] * 4.5)


def test_seed_to_stdout_is_a_loadable_scenario_with_placeholder_traffic(write, cli, tmp_path):
    code, out, err = cli("seed", write(FORMATS["bare"]()))
    assert code == 0, err
    assert "PLACEHOLDER" in out and "ASSUMPTION" in out
    (tmp_path / "s.toml").write_text(out)
    sc = lfvsim.load_scenario(tmp_path / "s.toml")
    assert sc.traffic.kind == "constant"
    assert (sc.model.min_units, sc.model.max_units, sc.model.region) == (2, 5, "eu-west-1")


def test_seed_replaces_only_its_own_output_unless_forced(write, cli, tmp_path):
    target = tmp_path / "s.toml"
    target.write_text("old")
    describe = write(FORMATS["cli-v2"]())
    code, _, err = cli("seed", describe, "-o", target)
    assert code == 2 and "not written by lfvsim" in err and "--force" in err
    assert target.read_text() == "old"
    code, _, err = cli("seed", describe, "-o", target, "--force")
    assert code == 0, err
    assert target.read_text().startswith("# Seeded by 'lfvsim seed'")
    code, _, err = cli("seed", describe, "-o", target)  # lfvsim's own file: replaced
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".lfvsim-written", "describe.json", "s.toml"]  # no temporary left


def test_run_describe_model_overlays_the_model_and_options_still_apply(write, cli):
    path = write(FORMATS["cli-v2"]())
    code, out, err = cli("run", QUICKSTART, "--describe-model", path, "--show-config")
    assert code == 0, err
    assert 'project = "circuit-boards"' in out and 'region = "eu-west-1"' in out
    assert "min_units = 2" in out and "max_units = 5" in out
    assert "mean_tps = 4.0" in out  # the scenario's traffic stays
    code, out, err = cli(
        "run", QUICKSTART, "--describe-model", path, "--max-units", "7", "--show-config"
    )
    assert code == 0 and "max_units = 7" in out
    failed = write(json.dumps({"ModelDescription": lfv_description(1.0, Status="DELETING")}))
    code, out, err = cli("run", QUICKSTART, "--describe-model", failed, "--show-config")
    assert code == 0 and err.startswith("lfvsim: warning: ") and "DELETING" in err


def test_rcl_overlay_on_lfv_scenario_and_back():
    sc = lfvsim.load_scenario(QUICKSTART)
    rcl = aws.parse_model_description({"ProjectVersionDescriptions": [rcl_version("v1")]})
    on = aws.apply_model_description(sc, rcl)
    assert on.model.service == "rekognition" and on.model.project_version_arn == rcl.arn
    lfv = aws.parse_model_description(lfv_description(1.0))
    back = aws.apply_model_description(on, lfv)
    assert back.model.service == "lookoutvision" and back.model.project_version_arn is None


def test_bundled_seeded_scenario_matches_the_bundled_description():
    description = aws.read_model_description(EXAMPLE_JSON)
    seeded = aws.seed_scenario(description)
    bundled = lfvsim.load_scenario(EXAMPLE_SCENARIO)
    assert bundled.model == seeded.model
    assert bundled.traffic == seeded.traffic
    text = EXAMPLE_SCENARIO.read_text()
    assert all(f"# {line}" in text for line in description.header())
    assert EXAMPLE_SCENARIO in SCENARIOS  # so the generic scenario tests run it too


# --- live reads ----------------------------------------------------------------------------


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Dummy credentials and region; no config files; nothing reaches the network."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def rekognition(aws_env):
    boto3 = pytest.importorskip("boto3")
    stub_module = pytest.importorskip("botocore.stub")
    client = boto3.session.Session(region_name="us-east-1").client("rekognition")
    with stub_module.Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def stub_rcl_reads(stubber, versions, version_names=None):
    stubber.add_response(
        "describe_projects",
        {
            "ProjectDescriptions": [
                {"ProjectArn": RCL_PROJECT, "CreationTimestamp": CREATED, "Status": "CREATED"}
            ]
        },
        {"ProjectNames": ["pcb-defects"]},
    )
    expected = {"ProjectArn": RCL_PROJECT}
    if version_names:
        expected["VersionNames"] = version_names
    stubber.add_response(
        "describe_project_versions", {"ProjectVersionDescriptions": versions}, expected
    )


def test_live_rekognition_read_through_the_real_service_model(rekognition):
    client, stubber = rekognition
    stub_rcl_reads(stubber, [rcl_version("v2", "RUNNING")], ["v2"])
    d = aws.get_model_description("pcb-defects", "v2", service="rekognition", client=client)
    assert (d.project, d.version, d.status, d.min_units, d.max_units) == (
        "pcb-defects",
        "v2",
        "RUNNING",
        1,
        3,
    )
    assert d.created == CREATED


def test_live_rekognition_seed_from_the_command_line(rekognition, cli, monkeypatch):
    client, stubber = rekognition
    stub_rcl_reads(stubber, [rcl_version("v1", "STOPPED")])
    monkeypatch.setattr(aws, "_client", lambda service, region: client)
    code, out, err = cli("seed", "--project", "pcb-defects", "--service", "rekognition")
    assert code == 0, err
    assert 'service = "rekognition"' in out and 'version = "v1"' in out
    assert "# status: STOPPED" in out


def test_live_rekognition_errors_are_one_line(rekognition, cli, monkeypatch):
    client, stubber = rekognition
    stubber.add_client_error(
        "describe_projects",
        service_error_code="AccessDeniedException",
        service_message="User is not\nauthorized",
        http_status_code=400,
    )
    monkeypatch.setattr(aws, "_client", lambda service, region: client)
    code, out, err = cli("seed", "--project", "pcb-defects", "--service", "rekognition")
    assert_clean_failure(code, out, err, "DescribeProjects failed: AccessDeniedException")
    stubber.add_response("describe_projects", {"ProjectDescriptions": []})
    code, out, err = cli("seed", "--project", "pcb-defects", "--service", "rekognition")
    assert_clean_failure(code, out, err, "no Rekognition project 'pcb-defects' in us-east-1")


def test_rekognition_client_is_built_offline_for_known_regions_only(aws_env):
    pytest.importorskip("boto3")
    assert aws._client("rekognition", None).meta.region_name == "us-east-1"
    assert aws._client("rekognition", "ap-south-1").meta.region_name == "ap-south-1"
    with pytest.raises(InputError, match="'mars-1' is not a rekognition region"):
        aws._client("rekognition", "mars-1")


def test_live_lookoutvision_read_says_the_client_is_gone(aws_env, cli):
    botocore = pytest.importorskip("botocore.session")
    if "lookoutvision" in botocore.get_session().get_available_services():
        pytest.skip("this botocore still has the lookoutvision client")
    import botocore as botocore_package

    expected = (
        f"the installed botocore {botocore_package.__version__} has no 'lookoutvision' client: "
        "it was removed in botocore 1.40.61, when Amazon Lookout for Vision was retired "
        "(2025-10-31); seed from a saved describe-model JSON file instead "
        "('lfvsim seed model.json'), or install boto3 and botocore <= 1.40.60 "
        "(pip install 'boto3<=1.40.60' 'botocore<=1.40.60')"
    )
    with pytest.raises(InputError) as info:
        aws.get_model_description("circuit-boards", "3", region="eu-west-1")
    assert str(info.value) == expected
    code, out, err = cli("seed", "--project", "circuit-boards", "--version", "3")
    assert (code, out, err) == (2, "", f"lfvsim: error: {expected}\n")


class OldBotocoreClient:
    """Stands for a lookoutvision client of botocore <= 1.40.60."""

    def __init__(self, response):
        self.response = response
        self.calls = []

    def describe_model(self, **params):
        self.calls.append(params)
        return copy.deepcopy(self.response)


def test_live_lookoutvision_read_with_an_older_botocore():
    client = OldBotocoreClient(boto3_response(lfv_description(CREATED)))
    d = aws.get_model_description("circuit-boards", "3", client=client)
    assert client.calls == [{"ProjectName": "circuit-boards", "ModelVersion": "3"}]
    assert (d.project, d.version, d.region, d.min_units, d.max_units) == (
        "circuit-boards",
        "3",
        "eu-west-1",
        2,
        5,
    )
    with pytest.raises(InputError, match="--version is required"):
        aws.get_model_description("circuit-boards", client=client)
    with pytest.raises(InputError, match="'-bad' is not a valid ProjectName"):
        aws.get_model_description("-bad", "3", client=client)
    with pytest.raises(InputError, match="describes version '3', not the 'latest'"):
        aws.get_model_description("circuit-boards", "latest", client=client)


def test_powershell_utf16_output_loads(tmp_path):
    path = tmp_path / "ps.json"
    path.write_bytes(FORMATS["cli-v2"]().encode("utf-16"))  # with a byte-order mark
    assert aws.read_model_description(path).project == "circuit-boards"
