"""When the model is hosted: always, on a weekly schedule, or in batches.

AWS's cost advice is to stop a model nobody uses; its samples start a model on a timer or
when work is waiting and stop it afterwards. While a model is not HOSTED, requests are
refused (counted as ``unavailable``), or, in batch mode, wait for the next batch.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from lfvsim._schema import Section, assumed

__all__ = ["Hosting", "parse_window", "schedule_intervals"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^\s*(?P<days>[A-Za-z,\-]+|daily)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


class Hosting(Section):
    """When the model runs."""

    mode: Literal["always_on", "schedule", "batch"] = Field(
        "always_on",
        description="'always_on'; 'schedule': hosted in weekly windows; 'batch': started when "
        "work is waiting, stopped when the queue is empty",
    )
    timezone: str = Field("UTC", description="IANA time zone of the schedule windows")
    windows: tuple[str, ...] = Field(
        (),
        description="weekly windows such as 'Mon-Fri 06:00-22:00' (an end before the start "
        "crosses midnight)",
    )
    start_delay_s: float = assumed(
        600.0, "StartModel until HOSTED (s); AWS says 'a few minutes', up to 30", ge=0
    )
    start_early: bool = Field(
        False, description="call StartModel start_delay_s before each window opens"
    )
    bill_starting: bool = assumed(False, "bill units while the model is starting")
    batch_start_queue: int = Field(
        1, ge=1, description="batch mode: start when this many requests are waiting"
    )
    # At least 1 s: a check every nanosecond is 10^14 events a day, a hang, not a model.
    batch_check_s: float = Field(
        60.0, ge=1.0, description="batch mode: how often the queue is checked (s, at least 1)"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'"
            ) from None
        return value

    @field_validator("windows")
    @classmethod
    def _parse_windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            parse_window(text)
        return value

    @model_validator(mode="after")
    def _windows_for_schedule(self) -> Hosting:
        if self.mode == "schedule" and not self.windows:
            raise ValueError(
                "mode = 'schedule' needs windows, e.g. windows = ['Mon-Fri 06:00-22:00']"
            )
        return self


def parse_window(text: str) -> tuple[tuple[int, ...], time, time]:
    """Parse 'Mon-Fri 06:00-22:00', 'Sat,Sun 08:00-12:00' or 'daily 22:00-06:00'."""
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"window {text!r} is not 'DAYS HH:MM-HH:MM'; e.g. 'Mon-Fri 06:00-22:00'")
    days = _days(match["days"].lower(), text)
    start, end = _clock(match["start"], text), _clock(match["end"], text)
    if start == end and match["end"] != "24:00":  # 00:00-24:00 is the whole day
        raise ValueError(f"window {text!r} is empty (start = end)")
    return days, start, end


def _days(spec: str, text: str) -> tuple[int, ...]:
    if spec == "daily":
        return tuple(range(7))
    out: list[int] = []
    for part in spec.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e[:3] not in DAYS for e in ends):
            raise ValueError(f"window {text!r}: unknown day in {part!r}; use Mon..Sun")
        a, b = DAYS.index(ends[0][:3]), DAYS.index(ends[-1][:3])
        out += list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(b + 1))
    return tuple(sorted(set(out)))


def _clock(value: str, text: str) -> time:
    hours, minutes = map(int, value.split(":"))
    if hours == 24 and minutes == 0:
        return time(0, 0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"window {text!r}: {value} is not a time of day")
    return time(hours, minutes)


def schedule_intervals(hosting: Hosting, start: pd.Timestamp, horizon_s: float) -> np.ndarray:
    """Hosted windows as merged ``[open, close)`` seconds since ``start``.

    Local times are converted with the zone's rules on each date, so a window keeps its
    local hours across daylight-saving changes (a 06:00 window opens at 06:00 local time
    both sides of the change). A local time that does not exist (spring forward) moves
    forward to the first valid instant; an ambiguous one (fall back) takes the first.
    """
    zone = ZoneInfo(hosting.timezone)
    first_day = (start.tz_convert(zone) - pd.Timedelta(days=1)).date()
    n_days = int(horizon_s // 86400) + 3
    intervals = []
    for text in hosting.windows:
        days, t_open, t_close = parse_window(text)
        for k in range(n_days):
            day = first_day + timedelta(days=k)
            if day.weekday() not in days:
                continue
            close_day = day + timedelta(days=1) if t_close <= t_open else day
            a = _local(datetime.combine(day, t_open), zone)
            b = _local(datetime.combine(close_day, t_close), zone)
            intervals.append(((a - start).total_seconds(), (b - start).total_seconds()))
    return _merge(intervals, horizon_s)


def _local(naive: datetime, zone: ZoneInfo) -> pd.Timestamp:
    ts = pd.Timestamp(naive).tz_localize(zone, nonexistent="shift_forward", ambiguous=True)
    return ts.tz_convert("UTC")


def _merge(intervals: list[tuple[float, float]], horizon_s: float) -> np.ndarray:
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        a, b = max(a, 0.0), min(b, horizon_s)
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.array(out, dtype=float).reshape(-1, 2)
