"""The [client] section: service, throttling error and client objects, end to end."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import lfvsim
from tests.conftest import scenario
from tests.test_cli import assert_clean_failure

RCL = {
    "service": "rekognition",
    "project": "pcb-defects",
    "version": "v1",
    "region": "us-east-1",
}


def overloaded(client: dict, model: dict | None = None) -> lfvsim.Scenario:
    return scenario(
        model={"min_units": 1, **(model or {})},
        unit={"slots": 2, "latency_distribution": "exponential", "latency_mean_s": 1.0},
        client=client,
        traffic={"kind": "constant", "rate_tps": 6.0, "duration_h": 2},
    )


def test_throttle_error_follows_the_model_service():
    sc = overloaded({"retry_mode": "legacy"}, RCL)
    assert sc.client.error(sc.model.service) == ("ProvisionedThroughputExceededException", 400)
    sc = overloaded({"retry_mode": "legacy", "throttle_error": "ThrottlingException"}, RCL)
    assert sc.client.error(sc.model.service) == ("ThrottlingException", 500)
    with pytest.raises(ValidationError, match="not an error of lookoutvision"):
        overloaded({"throttle_error": "ProvisionedThroughputExceededException"})
    # client.service overrides model.service.
    sc = overloaded({"service": "rekognition"})
    assert sc.client.error(sc.model.service)[0] == "ProvisionedThroughputExceededException"
    with pytest.raises(ValidationError, match="clients"):
        overloaded({"clients": 0})


def test_more_client_objects_retry_longer_under_persistent_throttling():
    # Each client object has its own quota, so under the same overload more callers
    # retry more before their quotas run dry; without a quota the count does not matter.
    one = lfvsim.simulate(overloaded({"retry_mode": "standard"}), seed=4).summary
    eight = lfvsim.simulate(overloaded({"retry_mode": "standard", "clients": 8}), seed=4).summary
    assert eight.retries > one.retries
    assert one.requests == eight.requests
    free = {"retry_mode": "standard", "retry_quota": False}
    a = lfvsim.simulate(overloaded(free), seed=4).summary
    b = lfvsim.simulate(overloaded({**free, "clients": 8}), seed=4).summary
    assert (a.retries, a.served) == (b.retries, b.served)


def test_bad_client_section_fails_cleanly(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[client]\nretry_mode = "standard"\n'
        'throttle_error = "ProvisionedThroughputExceededException"\n'
        '[traffic]\nkind = "constant"\nrate_tps = 1\n'
    )
    assert_clean_failure(*cli("run", path), "throttle_error", "ThrottlingException")
