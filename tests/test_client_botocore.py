"""lfvsim's client retries checked request by request against botocore's own handlers.

Standard mode uses ``botocore.retries.standard`` (RetryHandler, RetryQuotaChecker with a
RetryQuota per client object); legacy mode the handler ``botocore.retryhandler`` builds
from ``data/_retry.json``. Lookout for Vision is no longer in botocore's data, so its
DetectAnomalies errors come from a small model written from its API reference.
"""

from __future__ import annotations

import heapq
import itertools
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("botocore")

import botocore.retryhandler
import botocore.session
import botocore.translate
from botocore.awsrequest import AWSResponse
from botocore.model import ServiceModel
from botocore.retries import quota, standard

from lfvsim.client import SERVICE_ERRORS, Client, backoff_s, retry_rule
from lfvsim.engine import kernel
from lfvsim.engine.dataplane import QUOTA_TOKENS, DataPlane
from lfvsim.engine.traffic import service_sampler
from lfvsim.scenario import Unit

# DetectAnomalies (rest-json): its errors and their HTTP status, from the LfV API reference.
_LFV_ERRORS = {
    "AccessDeniedException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 429,
    "ValidationException": 400,
}
_LFV_MODEL = {
    "metadata": {
        "apiVersion": "2020-11-20",
        "endpointPrefix": "lookoutvision",
        "protocol": "rest-json",
        "serviceId": "LookoutVision",
        "signatureVersion": "v4",
    },
    "operations": {
        "DetectAnomalies": {
            "name": "DetectAnomalies",
            "http": {"method": "POST", "requestUri": "/2020-11-20/detect"},
            "errors": [{"shape": name} for name in _LFV_ERRORS],
        }
    },
    "shapes": {
        name: {
            "type": "structure",
            "members": {},
            "error": {"httpStatusCode": status},
            "exception": True,
        }
        for name, status in _LFV_ERRORS.items()
    },
}
# Refused while not deployed (Rekognition's model says so for DetectCustomLabels).
_NOT_HOSTED = {"rekognition": ("ResourceNotReadyException", 400)}


def operation(service: str):
    if service == "lookoutvision":
        return ServiceModel(_LFV_MODEL, "lookoutvision").operation_model("DetectAnomalies")
    model = botocore.session.get_session().get_service_model("rekognition")
    return model.operation_model("DetectCustomLabels")


def response(status: int, code: str | None = None):
    http = AWSResponse("https://example.invalid", status, {}, None)
    parsed = {"ResponseMetadata": {"HTTPStatusCode": status}}
    if code is not None:
        parsed["Error"] = {"Code": code, "Message": ""}
    return http, parsed


class StandardClient:
    """One botocore client object in standard mode: its handler and its own quota."""

    def __init__(self, service: str, max_attempts: int, cap_s: float, uniform):
        adapter = standard.RetryEventAdapter()
        detector = standard.ThrottlingErrorDetector(adapter)
        self.quota = quota.RetryQuota()
        self.checker = standard.RetryQuotaChecker(self.quota, detector)
        backoff = standard.ExponentialBackoff(
            max_backoff=cap_s, random=uniform, service_name=service, throttling_detector=detector
        )
        policy = standard.RetryPolicy(standard.StandardRetryConditions(max_attempts), backoff)
        self.handler = standard.RetryHandler(policy, adapter, self.checker, service)
        self.op = operation(service)

    def failed(self, attempt: int, resp, context: dict) -> float | None:
        return self.handler.needs_retry(
            response=resp, attempts=attempt, operation=self.op, caught_exception=None,
            request_dict={"context": context},
        )  # fmt: skip

    def succeeded(self, resp, context: dict) -> None:
        self.checker.release_retry_quota(context=context, http_response=resp[0])

    @property
    def tokens(self) -> float:
        return self.quota.available_capacity


class LegacyClient:
    """One botocore client object in legacy mode, its handler built from _retry.json."""

    def __init__(self, service: str, max_attempts: int):
        data = botocore.session.get_session().get_component("data_loader").load_data("_retry")
        config = botocore.translate.build_retry_config(
            service, data["retry"], data["definitions"], {"max_attempts": max_attempts - 1}
        )
        self.handler = botocore.retryhandler.create_retry_handler(config, service)

    def failed(self, attempt: int, resp, context: dict) -> float | None:
        return self.handler(
            attempts=attempt, response=resp, caught_exception=None,
            request_dict={"context": context},
        )  # fmt: skip

    def succeeded(self, resp, context: dict) -> None:
        pass

    tokens = QUOTA_TOKENS  # legacy mode has no quota


def botocore_client(mode, service, max_attempts, cap_s, uniform):
    if mode == "standard":
        return StandardClient(service, max_attempts, cap_s, uniform)
    return LegacyClient(service, max_attempts)


CASES = [
    (service, code, status)
    for service, errors in SERVICE_ERRORS.items()
    for code, status in errors.items()
]


# --- one error response at a time --------------------------------------------------------


@pytest.mark.parametrize("mode", ["standard", "legacy"])
@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        *CASES,
        ("rekognition", *_NOT_HOSTED["rekognition"]),
        ("rekognition", "LimitExceededException", 400),
    ],
)
def test_each_error_is_retried_as_botocore_retries_it(mode, service, code, status):
    rule = retry_rule(mode, code, status)
    attempts = Client(retry_mode=mode).attempts
    cap_s = Client(retry_mode=mode).cap_s
    # Uniform 1 (the top of botocore's jitter range): the delay is the bound itself.
    client = botocore_client(mode, service, attempts, cap_s, lambda: 1.0)
    context: dict = {}
    decisions = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(botocore.retryhandler, "random", SimpleNamespace(random=lambda: 1.0))
        for attempt in range(1, attempts + 2):
            decisions.append(client.failed(attempt, response(status, code), context))
    retried = [d is not None for d in decisions]
    if not rule.retried:
        assert not any(retried)
        return
    # Retried until the mode's attempts are used up, never after.
    assert retried == [True] * (attempts - 1) + [False, False]
    bounds = backoff_s(np.arange(1, attempts), 1.0, cap_s, rule.base_s)
    np.testing.assert_allclose(decisions[: attempts - 1], bounds, rtol=1e-12)
    if mode == "standard":
        # Each retry took the rule's cost from this client's quota.
        assert client.tokens == QUOTA_TOKENS - (attempts - 1) * rule.quota_cost


def test_documented_error_shapes_match_the_service_models():
    rek = {s.name for s in operation("rekognition").error_shapes}
    assert set(SERVICE_ERRORS["rekognition"]) | {"ResourceNotReadyException"} <= rek
    assert set(SERVICE_ERRORS["lookoutvision"]) <= set(_LFV_ERRORS)
    assert all(_LFV_ERRORS[c] == s for c, s in SERVICE_ERRORS["lookoutvision"].items())


def test_rekognition_throughput_error_is_retried_in_legacy_mode_too():
    # botocore's _retry.json lists ProvisionedThroughputExceededException (HTTP 400) in its
    # default policies, so every service's caller retries it, not only DynamoDB's.
    client = LegacyClient("rekognition", 5)
    resp = response(400, "ProvisionedThroughputExceededException")
    assert client.failed(1, resp, {}) is not None
    assert retry_rule("legacy", "ProvisionedThroughputExceededException", 400).retried


# --- whole runs, request by request ------------------------------------------------------


def reference_run(arrivals, services, slots, mode, service, code, status, clients, attempts,
                  cap_s, seed):  # fmt: skip
    """The same loss system as the kernel, every retry decided by botocore's handlers.

    Arrivals and retries are taken in time order (an arrival first on a tie), a call is
    served if a slot is free at its time, and botocore's jitter is fed the kernel's
    uniform for (request, attempt) so that delays can be compared exactly.
    """
    current = {"u": 0.0}

    def uniform() -> float:
        return current["u"]

    objects = [botocore_client(mode, service, attempts, cap_s, uniform) for _ in range(clients)]
    with pytest.MonkeyPatch.context() as mp:
        # Legacy mode draws its jitter from the random module.
        mp.setattr(botocore.retryhandler, "random", SimpleNamespace(random=uniform))
        return _replay(arrivals, services, slots, objects, code, status, attempts, seed, current)


def _replay(arrivals, services, slots, objects, code, status, attempts, seed, current):
    clients = len(objects)
    free_at = [0.0] * slots
    n = len(arrivals)
    out_attempts = np.zeros(n, np.int64)
    out_last = np.zeros(n)
    out_served = np.zeros(n, bool)
    denied = max_reached = 0
    contexts: list[dict] = [{} for _ in range(n)]
    events = [(float(t), 0, i, 1) for i, t in enumerate(arrivals)]
    heapq.heapify(events)
    while events:
        t, _, i, attempt = heapq.heappop(events)
        out_attempts[i], out_last[i] = attempt, t
        client = objects[i % clients]
        slot = int(np.argmin(free_at))
        if free_at[slot] <= t:
            free_at[slot] = t + services[i]
            out_served[i] = True
            client.succeeded(response(200), contexts[i])
            continue
        current["u"] = kernel.jitter(np.uint64(seed), i, attempt)
        delay = client.failed(attempt, response(status, code), contexts[i])
        if delay is None:
            if attempt >= attempts:
                max_reached += 1
            else:
                denied += 1
            continue
        heapq.heappush(events, (t + delay, 1, i, attempt + 1))
    return out_attempts, out_last, out_served, [c.tokens for c in objects], denied, max_reached


SETTINGS = [
    {"retry_mode": mode, "clients": clients}
    for mode in ("standard", "legacy")
    for clients in (1, 3)
] + [
    # Attempts and backoff cap set by hand, as botocore's Config(retries=...) takes them.
    {"retry_mode": "standard", "clients": 2, "max_attempts": 5, "max_backoff_s": 3.0},
    {"retry_mode": "legacy", "clients": 2, "max_attempts": 3},
]


def constant_blocks(arrivals, unit):
    """One block of requests with the unit's constant service time, as the engine draws."""
    return iter([(arrivals, service_sampler(unit)(np.random.default_rng(0), len(arrivals)))])


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda d: "-".join(map(str, d.values())))
@pytest.mark.parametrize(("service", "code", "status"), CASES)
def test_runs_match_botocore_request_by_request(service, code, status, settings):
    mode, clients = settings["retry_mode"], settings["clients"]
    seed = 2024
    rng = np.random.default_rng(11)
    # Three times the capacity for 20 minutes, then a lull: the quota runs dry and refills.
    busy = np.cumsum(rng.exponential(1 / 7.5, 9000))
    busy = busy[busy < 1200]
    calm = 1200 + np.cumsum(rng.exponential(1 / 1.0, 1200))
    arrivals = np.concatenate([busy, calm[calm < 2400]])
    unit = Unit(slots=2, latency_distribution="constant", latency_mean_s=0.8)
    client = Client(**settings, throttle_error=code)
    data = DataPlane(
        constant_blocks(arrivals, unit), unit, 60, record=True, client=client,
        jitter_seed=seed, service=service,
    )  # fmt: skip
    data.add_unit(0, 0.0)
    data.advance(3600.0)
    assert data.retrying == 0
    got = data.requests()
    ref_attempts, ref_last, ref_served, ref_tokens, denied, max_reached = reference_run(
        arrivals, got["service_s"], unit.slots, mode, service, code, status, clients,
        client.attempts, client.cap_s, seed,
    )  # fmt: skip
    # The run exercised every branch it claims to check.
    assert max_reached > 0 and ref_served.sum() > 0
    if mode == "standard":
        assert denied > 0  # the quota ran out at least once
        assert data.acc[kernel.ACC_QUOTA_DENIED] == denied
    else:
        assert denied == 0
    np.testing.assert_array_equal(got["attempts"], ref_attempts)
    np.testing.assert_array_equal(~got["throttled"], ref_served)
    np.testing.assert_allclose(got["last_attempt_s"], ref_last, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(data.quota_tokens, ref_tokens)


def test_each_client_object_keeps_its_own_quota():
    # One client object per caller process: more callers, more tokens to spend on retries.
    rng = np.random.default_rng(3)
    arrivals = np.cumsum(rng.exponential(1 / 7.5, 12000))
    unit = Unit(slots=2, latency_distribution="constant", latency_mean_s=0.8)
    retries = {}
    for clients in (1, 4):
        data = DataPlane(
            constant_blocks(arrivals, unit), unit, 60, client=Client(
                retry_mode="standard", clients=clients), jitter_seed=1,
        )  # fmt: skip
        data.add_unit(0, 0.0)
        data.advance(float(arrivals[-1]) + 120)
        retries[clients] = int(data.retries.sum())
        assert len(data.quota_tokens) == clients
    assert retries[4] > retries[1]


def test_requests_go_round_robin_through_the_clients():
    # Every attempt fails (one slot held for the run); with two clients only request 0's
    # client spends tokens on requests 0, 2, 4, ...
    arrivals = np.array([0.0, *np.arange(1, 12) * 100.0])
    unit = Unit(slots=1, latency_distribution="constant", latency_mean_s=1e4)
    client = Client(retry_mode="standard", clients=2)
    data = DataPlane(constant_blocks(arrivals, unit), unit, 60, record=True, client=client)
    data.add_unit(0, 0.0)
    data.advance(3000.0)
    # Request 0 is served; the 5 even throttled requests (2..10) and 6 odd ones (1..11)
    # each take 2 retries at 5 tokens from their own client.
    evens, odds = 5, 6
    assert list(data.quota_tokens) == [500 - evens * 2 * 5, 500 - odds * 2 * 5]
    assert list(itertools.islice(data.requests()["attempts"], 3)) == [1, 3, 3]


def test_throttle_error_must_belong_to_the_service():
    with pytest.raises(ValueError, match="not an error of lookoutvision"):
        Client(service="lookoutvision", throttle_error="ProvisionedThroughputExceededException")
    assert Client().error("rekognition") == ("ProvisionedThroughputExceededException", 400)
    assert Client().error("lookoutvision") == ("ThrottlingException", 429)
