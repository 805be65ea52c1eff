"""Client retries as the AWS SDK for Python (botocore) makes them, per service.

A call over the model's capacity fails with the service's throttling error; botocore
decides from that error whether, when and how often to call again, which adds load:

- Lookout for Vision answers ``ThrottlingException`` (HTTP 429).
- Rekognition Custom Labels documents ``ProvisionedThroughputExceededException``
  (HTTP 400); its ``ThrottlingException`` (HTTP 500) can be chosen instead.

botocore 1.44 treats each of these the same way (checked error by error against
``botocore.retries.standard`` and ``botocore.retryhandler`` in the tests):

- ``standard``: 3 attempts; a throttling error, so before retry ``k`` (after the ``k``-th
  attempt failed) the client sleeps ``U * min(2 ** (k - 1), 20)`` s, ``U ~ Uniform(0, 1)``.
  Each client object has a retry quota: 500 tokens, 5 taken per throttling retry, given
  back on the success that follows, 1 added for each first-attempt success; no token, no
  retry.
- ``legacy``: 5 attempts; ``_retry.json`` retries each of these errors (429, HTTP 500, and
  ``ProvisionedThroughputExceededException`` with 400 for every service, not only DynamoDB);
  sleep ``U * 2 ** (k - 1)`` s, no cap and no quota.

``clients`` caller processes, each with its own client object and so its own quota, send
the requests: request ``i`` (in arrival order, from 0) goes through client ``i % clients``.
A model that is not hosted answers with an error neither mode retries (Rekognition:
``ResourceNotReadyException``, HTTP 400).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from lfvsim._schema import Section

__all__ = [
    "SERVICE_ERRORS",
    "Client",
    "RetryRule",
    "backoff_s",
    "retry_rule",
]

_DEFAULTS = {"none": (1, 0.0, False), "standard": (3, 20.0, True), "legacy": (5, math.inf, False)}

Service = Literal["lookoutvision", "rekognition"]
ThrottleError = Literal["ThrottlingException", "ProvisionedThroughputExceededException"]

#: (error code, HTTP status) a throttled call gets, per service; the first is the default.
SERVICE_ERRORS: dict[str, dict[str, int]] = {
    "lookoutvision": {"ThrottlingException": 429},
    "rekognition": {"ProvisionedThroughputExceededException": 400, "ThrottlingException": 500},
}

# botocore.retries.standard: error codes it treats as throttling, and the status codes of
# transient errors; quota costs and backoff base scales by kind of error.
_STANDARD_THROTTLING_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException",
        "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
        "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    }
)  # fmt: skip
_STANDARD_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
# botocore/data/_retry.json, "__default__" policies that look at a response.
_LEGACY_STATUS = frozenset({429, 500, 502, 503, 504, 509})
_LEGACY_CODES_AT_400 = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException",
        "RequestThrottledException", "ProvisionedThroughputExceededException",
    }
)  # fmt: skip


@dataclass(frozen=True)
class RetryRule:
    """What botocore does with one error response.

    Attributes
    ----------
    retried : bool
        Whether the error is retried (attempts and quota permitting).
    quota_cost : float
        Retry-quota tokens one retry takes, as standard mode charges them (used in legacy
        mode only when ``retry_quota`` is forced on).
    base_s : float
        Backoff scale: retry ``k`` sleeps ``U * min(base_s * 2 ** (k - 1), cap)`` s.
    """

    retried: bool
    quota_cost: float
    base_s: float


def retry_rule(mode: str, code: str, status: int) -> RetryRule:
    """botocore's decision for an error ``code`` with HTTP ``status`` in a retry mode.

    Covers the error responses a throttled or refused model call gets, not connection
    errors nor the retryable traits of other services' models.
    """
    throttling = code in _STANDARD_THROTTLING_CODES
    cost = 5.0 if throttling else 14.0
    if mode == "standard":
        if throttling:
            return RetryRule(True, cost, 1.0)
        if status in _STANDARD_TRANSIENT_STATUS:
            return RetryRule(True, cost, 0.05)
        return RetryRule(False, cost, 0.0)
    if mode == "legacy":
        retried = status in _LEGACY_STATUS or (status == 400 and code in _LEGACY_CODES_AT_400)
        return RetryRule(retried, cost, 1.0)
    return RetryRule(False, cost, 0.0)


class Client(Section):
    """How callers retry throttled requests."""

    retry_mode: Literal["none", "standard", "legacy"] = Field(
        "none", description="boto3 retry mode of the callers: none, standard or legacy"
    )
    max_attempts: int | None = Field(
        None, ge=1, description="attempts per request; unset: the mode's default (3 or 5)"
    )
    max_backoff_s: float | None = Field(
        None, gt=0, description="cap on one backoff (s); unset: 20 for standard, none for legacy"
    )
    retry_quota: bool | None = Field(
        None, description="apply botocore's retry quota; unset: on for standard only"
    )
    # Each client keeps its own retry quota; 10^9 of them took minutes before a run began.
    clients: int = Field(
        1,
        ge=1,
        le=100_000,
        description="caller processes, each with its own client object and retry quota",
    )
    service: Service | None = Field(
        None, description="service the callers call; unset: model.service"
    )
    throttle_error: ThrottleError | None = Field(
        None,
        description="error of a throttled call; unset: ThrottlingException (Lookout for "
        "Vision), ProvisionedThroughputExceededException (Rekognition)",
    )

    @model_validator(mode="after")
    def _attempts_need_a_mode(self) -> Client:
        if self.retry_mode == "none" and (self.max_attempts or 1) > 1:
            raise ValueError("max_attempts > 1 needs retry_mode = 'standard' or 'legacy'")
        if self.service is not None and self.throttle_error is not None:
            if self.throttle_error not in SERVICE_ERRORS[self.service]:
                raise ValueError(
                    f"throttle_error {self.throttle_error!r} is not an error of "
                    f"{self.service}; use one of " + ", ".join(SERVICE_ERRORS[self.service])
                )
        return self

    def error(self, service: str) -> tuple[str, int]:
        """(code, HTTP status) of a throttled call to ``service`` (``self.service`` wins)."""
        errors = SERVICE_ERRORS[self.service or service]
        code: str = self.throttle_error or next(iter(errors))
        if code not in errors:
            raise ValueError(
                f"client.throttle_error {code!r} is not an error of {self.service or service}; "
                "use one of " + ", ".join(errors)
            )
        return code, errors[code]

    def rule(self, service: str) -> RetryRule:
        """What botocore does with a throttled call to ``service``."""
        return retry_rule(self.retry_mode, *self.error(service))

    @property
    def attempts(self) -> int:
        """Attempts per request, the first included."""
        return self.max_attempts or _DEFAULTS[self.retry_mode][0]

    @property
    def cap_s(self) -> float:
        """Longest single backoff (s)."""
        return self.max_backoff_s or _DEFAULTS[self.retry_mode][1]

    @property
    def quota(self) -> bool:
        """Whether the retry quota applies."""
        return _DEFAULTS[self.retry_mode][2] if self.retry_quota is None else self.retry_quota


def backoff_s(
    failed_attempt: np.ndarray, uniform: np.ndarray, cap_s: float, base_s: float = 1.0
) -> np.ndarray:
    """Sleep before the next attempt after attempt ``failed_attempt`` (1-based) failed."""
    return uniform * np.minimum(base_s * 2.0 ** (np.asarray(failed_attempt) - 1), cap_s)
