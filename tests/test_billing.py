"""Metering of inference-unit hours, checked against hand arithmetic.

The rule (lfvsim.billing.METERING_RULE): a unit is billed from its start until its life
ends (a scale-in unit until its in-flight calls end, every other unit when it stops being
hosted), in whole metering intervals, the last one too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lfvsim
from lfvsim.billing import METERING_RULE, billed_until_s, metered_seconds
from lfvsim.traces import trace_from_scenario
from tests.conftest import scenario
from tests.test_invariants import check_invariants

MIN_90_5_H = 90.5 / 60


def steady(units: int, duration_h: float, **sections) -> lfvsim.Scenario:
    """``units`` fixed units, 2 TPS of constant traffic for ``duration_h`` hours."""
    sections.setdefault("traffic", {"kind": "constant", "rate_tps": 2.0, "duration_h": duration_h})
    return scenario(model={"min_units": units}, **sections)


# --- the metering function ---------------------------------------------------------------


def test_whole_intervals_on_the_grid():
    # 10:00:00-10:30:00.4 on a 60 s grid: 31 minutes; 00:10-02:10 touches 3 minutes.
    billed_s, per_minute = metered_seconds(np.array([[0.0, 1800.4], [10.0, 130.0]]), 60.0, 31)
    assert billed_s == pytest.approx(31 * 60 + 3 * 60)
    assert per_minute.sum() * 60 == pytest.approx(billed_s)
    assert per_minute[0] == 2 and per_minute[3] == 1 and per_minute[30] == 1


def test_a_last_interval_past_the_timeline_is_billed_whole_and_kept_in_the_timeline():
    # 90.5 minutes of one unit on an hourly grid: 2 hours; the timeline has 91 minutes
    # (5,460 s), so its last minute carries the 7,200 - 5,460 s = 29 minutes billed past it.
    billed_s, per_minute = metered_seconds(np.array([[0.0, 5430.0]]), 3600.0, 91)
    assert billed_s == 7200.0
    assert per_minute.sum() * 60 == pytest.approx(7200.0)
    assert per_minute[-1] == pytest.approx(1 + 29)


def test_only_a_scale_in_unit_is_billed_while_it_drains():
    assert billed_until_s("scale_in", 100.0, 130.0) == 130.0
    assert billed_until_s("surplus", 100.0, 130.0) == 130.0
    for reason in ("stop", "end", "failure", "az_outage"):
        assert billed_until_s(reason, 100.0, 130.0) == 100.0
    assert "the last one too" in METERING_RULE


# --- whole runs ----------------------------------------------------------------------------


def test_partial_last_interval_at_the_horizon_is_billed_whole():
    # 3 units for 90.5 minutes: 3 x 91 whole minutes = 4.55 IU-h (pro rata would be 4.525).
    r = lfvsim.simulate(steady(3, MIN_90_5_H), seed=1)
    check_invariants(r)
    assert r.summary.duration_h == pytest.approx(MIN_90_5_H)
    assert r.summary.unit_hours == pytest.approx(3 * 91 / 60, rel=1e-12)
    assert r.summary.cost_usd == pytest.approx(4.55 * 4.0, rel=1e-12)
    assert r.summary.mean_units == pytest.approx(3.0)


def test_hourly_metering_bills_the_same_for_the_horizon_and_for_a_schedule_stop():
    # One unit whose life ends 90.5 minutes after the trace start, metered hourly: 2 hours,
    # whether the run ends then or a schedule stops the model then.
    billing = {"metering_granularity_s": 3600}
    by_horizon = lfvsim.simulate(steady(1, MIN_90_5_H, billing=billing), seed=2)
    check_invariants(by_horizon)
    assert by_horizon.summary.unit_hours == pytest.approx(2.0, rel=1e-12)
    # The trace starts at 00:29:30, the window closes at 02:00: 90.5 minutes later.
    traffic = {
        "kind": "constant",
        "rate_tps": 2.0,
        "duration_h": 3,
        "start": "2026-01-05T00:29:30Z",
    }
    hosting = {"mode": "schedule", "windows": ["daily 00:00-02:00"]}
    by_schedule = lfvsim.simulate(
        steady(1, 3, billing=billing, hosting=hosting, traffic=traffic), seed=2
    )
    check_invariants(by_schedule)
    assert by_schedule.summary.hosted_h == pytest.approx(MIN_90_5_H)
    assert by_schedule.units["ended_by"].tolist() == ["stop"]
    assert by_schedule.summary.unit_hours == pytest.approx(2.0, rel=1e-12)


def test_units_finishing_calls_after_stop_model_are_not_billed():
    # Calls take 5 minutes, so every unit still has calls in flight when the 01:00-02:00
    # window closes. The model is not hosted after the stop: 2 units x 1 h exactly.
    unit = {"latency_distribution": "constant", "latency_mean_s": 300.0, "slots": 200}
    hosting = {"mode": "schedule", "windows": ["daily 01:00-02:00"], "start_delay_s": 0}
    traffic = {"kind": "constant", "rate_tps": 1.0, "duration_h": 3}
    r = lfvsim.simulate(steady(2, 3, unit=unit, hosting=hosting, traffic=traffic), seed=3)
    check_invariants(r)
    units = r.units
    assert (units["ended_by"] == "stop").all()
    assert (units["drained_at_s"] > units["retired_at_s"] + 200).all()  # still serving
    assert (units["billed_to_s"] == units["retired_at_s"]).all()
    assert (units["retired_at_s"] == 2 * 3600).all()
    assert r.summary.unit_hours == pytest.approx(2.0, rel=1e-12)
    # No unit is in service once the model is stopped, though calls are still finishing.
    assert (r.timeline["InServiceInferenceUnits"].iloc[120:] == 0).all()
    # The horizon stop treats the same drain the same way: a run that ends at 02:00.
    ended = lfvsim.simulate(
        steady(2, 3, unit=unit, hosting=hosting, traffic=traffic, simulation={"horizon_h": 2}),
        seed=3,
    )
    assert (ended.units["ended_by"] == "end").all()
    assert (ended.units["drained_at_s"] > ended.units["retired_at_s"]).all()
    assert ended.summary.unit_hours == pytest.approx(r.summary.unit_hours, rel=1e-12)


def test_a_90_5_minute_synthetic_trace_lasts_90_5_minutes():
    # Constant 20 TPS for 90.5 minutes: 108,600 requests expected, none after 5,430 s.
    sc = steady(
        1, MIN_90_5_H, traffic={"kind": "constant", "rate_tps": 20.0, "duration_h": MIN_90_5_H}
    )
    trace = trace_from_scenario(sc)
    assert trace.duration_s == pytest.approx(5430.0)
    assert trace.expected_requests == pytest.approx(20.0 * 5430)
    arrivals = np.concatenate(list(trace.blocks(np.random.default_rng(0), 1e9)))
    assert arrivals.max() < 5430.0
    # Poisson count: within 5 standard deviations of the mean (about 330).
    assert abs(len(arrivals) - 108_600) < 5 * np.sqrt(108_600)
    r = lfvsim.simulate(sc, seed=4)
    check_invariants(r)
    assert r.summary.duration_h == pytest.approx(MIN_90_5_H)
    assert r.summary.hosted_h == pytest.approx(MIN_90_5_H)
    assert len(r.timeline) == 91
    assert r.timeline["offered_requests"].iloc[-1] < 20.0 * 30 + 5 * np.sqrt(600)
    assert r.summary.unit_hours == pytest.approx(91 / 60, rel=1e-12)


def test_a_whole_number_of_minutes_is_not_changed():
    trace = trace_from_scenario(steady(1, 2.0))
    assert trace.duration_s == 7200.0
    assert trace.expected_requests == pytest.approx(2.0 * 7200)


def test_batch_requests_waiting_at_the_end_are_shown_as_waiting(cli):
    path = Path(__file__).resolve().parents[1] / "scenarios" / "batch-inspection.toml"
    code, out, err = cli("run", path, "--json")
    assert code == 0, err
    data = json.loads(out)
    waiting = data["waiting_at_end"]
    assert waiting > 0 and data["unavailable"] == 0
    assert data["served"] + data["throttled"] + waiting == data["attempts"]
    assert data["failure_rate"] == 0
    assert any("waiting for a batch" in note for note in data["notes"])
    code, out, err = cli("run", path)
    assert f"waiting at end         {waiting:,}" in out
