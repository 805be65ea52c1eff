"""Client retries as the AWS SDK for Python (botocore) makes them.

A throttled call is retried after a backoff with full jitter, which adds offered load:

- ``standard``: 3 attempts; before retry ``k`` (after the ``k``-th attempt failed) the
  client sleeps ``U * min(2 ** (k - 1), 20)`` seconds, ``U ~ Uniform(0, 1)``; a retry
  quota (500 tokens, 5 per retry, returned on success, 1 back per first-attempt success)
  stops retries when throttling persists.
- ``legacy``: 5 attempts; sleep ``U * 2 ** (k - 1)`` seconds, no cap and no quota.

Only throttling is retried: a model that is not hosted answers with an error that the SDK
does not retry.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from lfvsim._schema import Section

__all__ = ["Client", "backoff_s"]

_DEFAULTS = {"none": (1, 0.0, False), "standard": (3, 20.0, True), "legacy": (5, math.inf, False)}


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

    @model_validator(mode="after")
    def _attempts_need_a_mode(self) -> Client:
        if self.retry_mode == "none" and (self.max_attempts or 1) > 1:
            raise ValueError("max_attempts > 1 needs retry_mode = 'standard' or 'legacy'")
        return self

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


def backoff_s(failed_attempt: np.ndarray, uniform: np.ndarray, cap_s: float) -> np.ndarray:
    """Sleep before the next attempt after attempt ``failed_attempt`` (1-based) failed."""
    return uniform * np.minimum(2.0 ** (np.asarray(failed_attempt) - 1), cap_s)
