"""Synthetic traffic: seeded Poisson processes with a rate that varies in time."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd

from lfvsim.errors import InputError
from lfvsim.traces.model import RateTrace

__all__ = ["constant", "diurnal"]


def constant(rate_tps: float, duration_h: float, start: datetime | str) -> RateTrace:
    """Poisson arrivals at ``rate_tps`` requests per second for ``duration_h`` hours."""
    bins = _minutes(duration_h)
    return RateTrace(
        _utc(start), 60.0, np.full(bins, float(rate_tps)), source=f"constant {rate_tps:g} TPS"
    )


def diurnal(
    mean_tps: float,
    peak_to_trough: float,
    peak_hour_utc: float,
    duration_h: float,
    start: datetime | str,
) -> RateTrace:
    """Poisson arrivals whose rate follows a daily sine wave.

    The rate is ``mean_tps * (1 + a cos(2 pi (hour - peak_hour_utc) / 24))`` with ``a``
    chosen so that the peak rate is ``peak_to_trough`` times the lowest; piecewise constant
    per minute.
    """
    bins = _minutes(duration_h)
    t0 = _utc(start)
    amplitude = (peak_to_trough - 1) / (peak_to_trough + 1)
    start_hour = t0.hour + t0.minute / 60 + t0.second / 3600
    hours = start_hour + (np.arange(bins) + 0.5) / 60.0
    rates = mean_tps * (1 + amplitude * np.cos(2 * np.pi * (hours - peak_hour_utc) / 24))
    desc = (
        f"diurnal mean {mean_tps:g} TPS, peak/trough {peak_to_trough:g} at {peak_hour_utc:g}h UTC"
    )
    return RateTrace(t0, 60.0, rates, source=desc)


def _minutes(duration_h: float) -> int:
    bins = math.ceil(duration_h * 60 - 1e-9)
    if bins < 1:
        raise InputError(f"duration_h = {duration_h} is shorter than a minute; use at least 1/60")
    return bins


def _utc(value: datetime | str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
