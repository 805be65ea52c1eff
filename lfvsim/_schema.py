"""Building blocks of the scenario schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_START", "Section", "assumed"]

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC


def assumed(default: Any, description: str, **kw: Any) -> Any:
    """A field whose default AWS does not publish; ``--show-config`` marks it."""
    return Field(default, description=description, json_schema_extra={"assumption": True}, **kw)


class Section(BaseModel):
    """A scenario section: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
