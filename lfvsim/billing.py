"""Prices and metering of inference-unit hours."""

from __future__ import annotations

import math

import numpy as np

from lfvsim.minutes import MINUTE_S, overlap_seconds_per_minute

__all__ = [
    "HOURS_PER_MONTH",
    "PRICE_SOURCE",
    "PRICE_TABLE_USD_PER_UNIT_HOUR",
    "REGIONS",
    "metered_seconds",
    "monthly_cost_usd",
]

PRICE_SOURCE = (
    "USD 4.00 per inference-unit hour for hosting, from third-party pricing sources for "
    "Lookout for Vision and Rekognition Custom Labels (AWS's pricing page could not be read); "
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


def metered_seconds(
    sessions: np.ndarray, granularity_s: float, horizon_s: float, minutes: int
) -> tuple[float, np.ndarray]:
    """Meter unit sessions on a grid of ``granularity_s``.

    Each unit is billed for every grid interval it runs in, in whole intervals: a unit that
    runs 10:00:00-10:30:00.4 with 60 s granularity is billed 31 minutes. Billing stops at
    ``horizon_s``, when the simulated model is stopped.

    Parameters
    ----------
    sessions : ndarray, shape (n, 2)
        Start and end of each unit's billed time, seconds since the trace start.
    granularity_s : float
        Metering interval in seconds.
    horizon_s : float
        End of the simulation in seconds.
    minutes : int
        Length of the per-minute timeline.

    Returns
    -------
    billed_s : float
        Billed unit-seconds over all sessions.
    billed_units_per_minute : ndarray, shape (minutes,)
        Billed units in each minute (billed unit-seconds in the minute / 60).
    """
    sessions = np.asarray(sessions, dtype=float).reshape(-1, 2)
    start = sessions[:, 0]
    end = np.minimum(sessions[:, 1], horizon_s)
    keep = end > start
    # The small tolerance keeps a session that starts exactly on the grid from being
    # pushed into the previous interval by floating-point noise.
    a = np.floor(start[keep] / granularity_s + 1e-9) * granularity_s
    b = np.minimum(np.ceil(end[keep] / granularity_s - 1e-9) * granularity_s, horizon_s)
    per_minute = overlap_seconds_per_minute(a, b, minutes)
    return float(np.sum(b - a)), per_minute / MINUTE_S
