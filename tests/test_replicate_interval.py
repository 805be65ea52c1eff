"""Replication intervals stay where each metric's mean can be."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lfvsim.experiments.replicate import Replications


def _intervals(**columns: list[float]) -> dict[str, tuple[float, float]]:
    table = pd.DataFrame({"replication": [0, 1], "seed": [1, 2], **columns})
    return Replications(table=table, scenario=None, seed=0).interval(0.95)  # type: ignore[arg-type]


def test_a_count_interval_never_goes_below_zero():
    # two replications: t(0.975, 1) = 12.7 makes the raw interval about -58 to 68
    low, high = _intervals(scale_out_events=[0.0, 10.0])["scale_out_events"]
    assert low == 0.0
    assert high == pytest.approx(5 + 12.706 * math.sqrt(50) / math.sqrt(2), rel=1e-3)


def test_a_rate_interval_stays_within_zero_and_one():
    intervals = _intervals(throttle_rate=[0.5, 0.9], throttle_rate_worst_hour=[0.0, 0.2])
    assert intervals["throttle_rate"][1] == 1.0
    assert intervals["throttle_rate"][0] == 0.0
    low, high = intervals["throttle_rate_worst_hour"]
    assert low == 0.0
    assert 0.2 < high <= 1.0


def test_an_interval_inside_the_range_is_unchanged():
    low, high = _intervals(unit_hours=[47.0, 48.0])["unit_hours"]
    assert low == pytest.approx(47.5 - 12.706 * math.sqrt(0.5) / math.sqrt(2), rel=1e-3)
    assert high == pytest.approx(47.5 + 12.706 * math.sqrt(0.5) / math.sqrt(2), rel=1e-3)
