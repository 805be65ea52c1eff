"""Prices and metering of inference-unit hours."""

from __future__ import annotations

import math

import numpy as np

from lfvsim.minutes import MINUTE_S, overlap_seconds_per_minute

__all__ = [
    "DRAINED_ENDINGS",
    "HOURS_PER_MONTH",
    "METERING_RULE",
    "PRICE_SOURCE",
    "PRICE_TABLE_USD_PER_UNIT_HOUR",
    "REGIONS",
    "billed_until_s",
    "metered_seconds",
    "monthly_cost_usd",
]

PRICE_SOURCE = (
    "USD 4.00 per inference-unit hour for hosting, from third-party pricing sources for "
    "Lookout for Vision and Rekognition Custom Labels, not confirmed against AWS's price list; "
    "an assumption: override billing.price_per_unit_hour_usd with your negotiated price"
)

#: Hosting price per inference-unit hour by region (USD). Every entry is an assumption,
#: see ``PRICE_SOURCE``; the regions are those where the service was offered.
PRICE_TABLE_USD_PER_UNIT_HOUR: dict[str, float] = {
    "us-east-1": 4.00,
    "us-east-2": 4.00,
    "us-west-2": 4.00,
    "ap-northeast-1": 4.00,
    "ap-northeast-2": 4.00,
    "eu-central-1": 4.00,
    "eu-west-1": 4.00,
}

REGIONS = tuple(PRICE_TABLE_USD_PER_UNIT_HOUR)

#: Hours in an average month (8,760 h / 12): the basis of every monthly figure.
HOURS_PER_MONTH = 730.0


def monthly_cost_usd(cost_usd: float, duration_h: float) -> float:
    """A simulated cost scaled to a month of the same traffic (NaN for an empty run)."""
    return cost_usd / duration_h * HOURS_PER_MONTH if duration_h else math.nan


#: The metering rule, stated once; README.md quotes it.
METERING_RULE = (
    "each unit is billed from its start (the StartModel call or scale-out decision when "
    "those are billed, else when it serves) until its life ends: a unit removed by "
    "scale-in until its in-flight calls end; every other unit when it stops being hosted "
    "(StopModel by a schedule, the end of a batch or the end of the run, a failure, a zone "
    "outage); every metering interval it runs in is billed whole, the last one too"
)

#: Endings after which a unit keeps running until its in-flight calls end.
DRAINED_ENDINGS = frozenset({"scale_in", "surplus"})


def billed_until_s(ended_by: str, retired_at_s: float, drained_at_s: float) -> float:
    """When a unit stops being billed, by how its life ended (see ``METERING_RULE``).

    Parameters
    ----------
    ended_by : str
        Why the unit left: ``scale_in`` or ``surplus`` (it drains, still hosted), else
        ``stop``, ``end``, ``failure``, ``az_outage`` or ``unneeded``.
    retired_at_s : float
        When it stopped taking requests.
    drained_at_s : float
        When its last in-flight request ends.

    Returns
    -------
    float
        End of the unit's billed time, seconds since the trace start.
    """
    return max(drained_at_s, retired_at_s) if ended_by in DRAINED_ENDINGS else retired_at_s


def metered_seconds(
    sessions: np.ndarray, granularity_s: float, minutes: int
) -> tuple[float, np.ndarray]:
    """Meter unit sessions on a grid of ``granularity_s`` (see ``METERING_RULE``).

    Each unit is billed for every grid interval it runs in, in whole intervals: a unit that
    runs 10:00:00-10:30:00.4 with 60 s granularity is billed 31 minutes, and a run that
    ends 30 s into an interval bills that interval whole.

    Parameters
    ----------
    sessions : ndarray, shape (n, 2)
        Start and end of each unit's billed time, seconds since the trace start (ends from
        :func:`billed_until_s`).
    granularity_s : float
        Metering interval in seconds.
    minutes : int
        Length of the per-minute timeline.

    Returns
    -------
    billed_s : float
        Billed unit-seconds over all sessions.
    billed_units_per_minute : ndarray, shape (minutes,)
        Billed units in each minute (billed unit-seconds in the minute / 60). Billed time
        of a last interval that reaches past the timeline is added to its last minute, so
        the timeline adds up to the bill.
    """
    sessions = np.asarray(sessions, dtype=float).reshape(-1, 2)
    start, end = sessions[:, 0], sessions[:, 1]
    keep = end > start
    # The small tolerance keeps a session that starts or ends exactly on the grid from
    # being pushed into the neighbouring interval by floating-point noise.
    a = np.floor(start[keep] / granularity_s + 1e-9) * granularity_s
    b = np.ceil(end[keep] / granularity_s - 1e-9) * granularity_s
    per_minute = overlap_seconds_per_minute(a, b, minutes)
    billed_s = float(np.sum(b - a))
    if minutes:
        per_minute[-1] += billed_s - float(per_minute.sum())
    return billed_s, per_minute / MINUTE_S
