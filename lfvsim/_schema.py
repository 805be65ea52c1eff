"""Building blocks of the scenario schema."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_START", "MAX_FLOAT", "MAX_INT", "Section", "assumed", "check_magnitude"]

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC

#: No number in a scenario is meaningful beyond these: 1e12 s is 31,700 years, 1e12 TPS
#: or units is far past any budget. Larger values are typos (1e300) that would overflow.
MAX_FLOAT = 1e12
#: TOML integers are 64-bit; Python would take larger ones and overflow later.
MAX_INT = 2**63 - 1


def assumed(default: Any, description: str, **kw: Any) -> Any:
    """A field whose default AWS does not publish; ``--show-config`` marks it."""
    return Field(default, description=description, json_schema_extra={"assumption": True}, **kw)


def check_magnitude(value: Any) -> Any:
    """Refuse a number, alone or in a list, that is not finite or too large to be meant."""
    if isinstance(value, tuple | list):
        for item in value:
            check_magnitude(item)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int) and abs(value) > MAX_INT:
        raise ValueError(f"{value:.3g} is too large (more than 2^63 - 1); fix the value")
    elif isinstance(value, float) and not (math.isfinite(value) and abs(value) <= MAX_FLOAT):
        what = "not a finite number" if not math.isfinite(value) else f"larger than {MAX_FLOAT:g}"
        raise ValueError(f"{value!r} is {what}; give a finite value in range")
    return value


class Section(BaseModel):
    """A scenario section: immutable, unknown keys are errors, every number finite and sane."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="after")
    @classmethod
    def _finite_in_range(cls, value: Any) -> Any:
        return check_magnitude(value)
