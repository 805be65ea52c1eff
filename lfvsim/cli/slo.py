"""The SLO a command works with: from its flags, or the one a sweep file stores.

``recommend`` always takes it from its flags; ``sweep`` optionally; ``plot`` and ``report``
from their flags, else from the sweep they draw. One rule for all of them, so that the
same sweep and the same flags give the same recommendation everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lfvsim.errors import InputError
from lfvsim.experiments.recommend import Slo, check_slo, stored_slo

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["optional_slo", "slo_for"]


def optional_slo(
    max_throttle_rate: float | None,
    max_p99_latency_s: float | None,
    confidence: float,
    max_worst_hour_rate: float | None,
    max_minute_rate: float | None,
    minute_percentile: float,
) -> Slo | None:
    """The SLO of ``sweep``'s flags, or None when no target is given.

    Raises
    ------
    InputError
        A busy-hour or latency target without ``--max-throttle-rate``, or a value out of
        range.
    """
    if max_throttle_rate is None:
        others = {
            "--max-p99-latency-s": max_p99_latency_s,
            "--max-worst-hour-rate": max_worst_hour_rate,
            "--max-minute-rate": max_minute_rate,
        }
        given = [name for name, value in others.items() if value is not None]
        if given:
            raise InputError(
                f"{given[0]}: an SLO starts with the whole run's throttle rate; give "
                "--max-throttle-rate too, e.g. --max-throttle-rate 0.01"
            )
        check_slo(0.0, None, confidence)
        return None
    return Slo(
        max_throttle_rate,
        max_p99_latency_s,
        confidence,
        max_worst_hour_rate,
        max_minute_rate,
        minute_percentile,
    )


def slo_for(
    table: pd.DataFrame | None,
    max_throttle_rate: float | None,
    max_p99_latency_s: float | None,
    confidence: float | None,
    max_worst_hour_rate: float | None = None,
    max_minute_rate: float | None = None,
    minute_percentile: float | None = None,
) -> tuple[Slo, bool]:
    """The SLO of ``plot`` and ``report``, and whether it came from the sweep.

    With ``--max-throttle-rate`` the SLO is the flags' alone, as ``recommend`` reads them
    (confidence 0.95 and the 99th percentile unless given). Without it, the SLO the sweep
    stores, each flag given replacing its part. Neither is an error: there is no default
    SLO that ``recommend`` would not have.

    Raises
    ------
    InputError
        No SLO at all, or a value out of range.
    """
    if confidence is not None:
        check_slo(0.0, None, confidence)  # a bad level is reported before a missing SLO
    if max_throttle_rate is not None:
        slo = Slo(
            max_throttle_rate,
            max_p99_latency_s,
            0.95 if confidence is None else confidence,
            max_worst_hour_rate,
            max_minute_rate,
            99.0 if minute_percentile is None else minute_percentile,
        )
        return slo, False
    stored = None if table is None else stored_slo(table)
    if stored is None:
        raise InputError(
            "--max-throttle-rate: this sweep stores no SLO; give the one you recommend for, "
            "e.g. --max-throttle-rate 0.001 (0.1%)"
        )
    given = {
        "max_p99_latency_s": max_p99_latency_s,
        "confidence": confidence,
        "max_worst_hour_rate": max_worst_hour_rate,
        "max_minute_rate": max_minute_rate,
        "minute_percentile": minute_percentile,
    }
    parts = {**stored.to_dict(), **{k: v for k, v in given.items() if v is not None}}
    return Slo(**parts), True
