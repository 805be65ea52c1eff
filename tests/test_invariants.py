"""Invariants every run must keep, whatever the scenario."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lfvsim
from tests.conftest import scenario


def accepting_units_at(units: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """Units taking requests at each time, from the unit table."""
    start = units["in_service_from_s"].to_numpy()[:, None]
    end = units["retired_at_s"].to_numpy()[:, None]
    return ((start <= times) & (times < end)).sum(axis=0)


def check_invariants(result: lfvsim.Result) -> None:
    s, tl, sc = result.summary, result.timeline, result.scenario
    # Every attempt is counted exactly once, overall and in every minute, and every request
    # ends served, failed, or (only at the very end) still waiting for a retry or, in batch
    # mode, for a batch.
    waiting = s.waiting_at_end
    assert s.served + s.throttled + s.unavailable + waiting == s.attempts
    assert s.attempts == s.requests + s.retries
    outcome = (
        tl["SuccessfulRequestCount"]
        + tl["ThrottledCount"]
        + tl["unavailable_requests"]
        + tl["waiting_requests"]
    )
    assert (outcome == tl["offered_requests"]).all()
    assert tl["offered_requests"].sum() == s.attempts
    assert tl["retried_requests"].sum() == s.retries
    assert tl["waiting_requests"].sum() == waiting
    assert waiting == 0 or sc.hosting.mode == "batch"
    failed = round(s.failure_rate * s.requests)
    assert s.served + failed + s.retrying_at_end + waiting == s.requests
    # Units stay within [Min, Max] (Max = Min without auto-scaling).
    upper = s.max_units if s.max_units is not None else s.min_units
    if s.policy == "oracle" and sc.model.max_units is None:
        upper = math.inf
    horizon = s.duration_h * 3600
    times = np.linspace(0, horizon, 997, endpoint=False)
    accepting = accepting_units_at(result.units.dropna(subset=["in_service_from_s"]), times)
    # While the model is hosted and no unit or zone has failed, Min <= units <= Max.
    hosted = tl["hosted"].to_numpy()[(times // 60).astype(int)] == 1
    if result.events.empty and hosted.any():
        assert accepting[hosted].min() >= s.min_units
    assert accepting.max() <= upper
    assert (accepting[~hosted] <= upper).all()
    assert s.peak_units <= upper
    in_minute_hosted = tl["hosted"] == 1
    assert tl.loc[in_minute_hosted, "DesiredInferenceUnits"].between(s.min_units, upper).all()
    assert (tl.loc[tl["hosted"] == 0, "DesiredInferenceUnits"] == 0).all()
    # IU-hours: the metered per-minute units add up to the bill; metering bills every grid
    # interval a unit runs in, so the bill is at least the integral of units in service and
    # less than two intervals per unit more (a partial interval at each end of its life).
    assert s.unit_hours == pytest.approx(tl["billed_units"].sum() / 60.0, rel=1e-12)
    minute_s = np.minimum(60.0, horizon - np.arange(len(tl)) * 60.0)
    integral_h = float((tl["InServiceInferenceUnits"] * minute_s).sum() / 3600)
    g_h = sc.billing.metering_granularity_s / 3600
    assert integral_h - 1e-9 <= s.unit_hours <= integral_h + 2 * len(result.units) * g_h + 1e-9
    assert s.cost_usd == pytest.approx(s.unit_hours * s.price_per_unit_hour_usd, rel=1e-12)
    # No negative latencies; utilisation is a fraction.
    if s.served:
        assert 0 < s.latency_p50_s <= s.latency_p95_s <= s.latency_p99_s
        assert s.latency_p99_s <= s.latency_max_s * 1.005
        assert s.wait_mean_s >= 0
    assert tl["utilization"].between(0, 1).all()
    # Units served what the per-minute counts say they served.
    assert result.units["served"].sum() == s.served


def test_fixed_units_bill_exactly_min_units_for_the_whole_run():
    sc = scenario(
        model={"min_units": 3}, traffic={"kind": "constant", "rate_tps": 5, "duration_h": 2}
    )
    r = lfvsim.simulate(sc, seed=1)
    check_invariants(r)
    assert r.summary.unit_hours == pytest.approx(6.0, rel=1e-12)
    assert r.summary.cost_usd == pytest.approx(24.0, rel=1e-12)
    assert (r.timeline["InServiceInferenceUnits"] == 3).all()


def test_same_seed_same_result_and_different_seed_different_result():
    sc = scenario(
        model={"min_units": 1, "max_units": 5},
        traffic={"kind": "diurnal", "mean_tps": 6, "duration_h": 6},
    )
    a, b, c = (lfvsim.simulate(sc, seed=s) for s in (5, 5, 6))
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.timeline, b.timeline)
    pd.testing.assert_frame_equal(a.units, b.units)
    assert a.summary.requests != c.summary.requests


def test_configurations_see_the_same_traffic_for_the_same_seed():
    base = scenario(
        model={"min_units": 1, "max_units": 6},
        traffic={"kind": "diurnal", "mean_tps": 5, "duration_h": 4},
    )
    runs = [
        lfvsim.simulate(base.with_overrides(o), seed=9)
        for o in (
            {},
            {"model.max_units": 2},
            {"model.min_units": 3},
            {"autoscaler.policy": "oracle"},
        )
    ]
    offered = [r.timeline["offered_requests"].to_numpy() for r in runs]
    for other in offered[1:]:
        np.testing.assert_array_equal(offered[0], other)


def test_scale_in_drains_in_flight_requests_before_the_unit_leaves():
    sc = scenario(
        model={"min_units": 1, "max_units": 6},
        unit={"latency_distribution": "constant", "latency_mean_s": 5.0},
        autoscaler={"provisioning_delay_s": 60, "scale_in_cooldown_s": 0},
        traffic={"kind": "diurnal", "mean_tps": 2, "peak_to_trough": 20, "duration_h": 24},
    )
    r = lfvsim.simulate(sc, seed=3, record_requests=True)
    check_invariants(r)
    retired = r.units.dropna(subset=["retired_at_s"])
    retired = retired[retired["retired_at_s"] < r.summary.duration_h * 3600]
    assert len(retired) > 0 and r.summary.scale_in_events > 0
    req = r.requests[~r.requests["throttled"]]
    end = req["start_s"] + req["service_s"]
    for _, unit in retired.iterrows():
        mine = req["unit"] == unit["unit_id"]
        # Nothing starts on a unit after it is retired; it stays until its last request ends.
        assert (req.loc[mine, "start_s"] < unit["retired_at_s"]).all()
        assert unit["drained_at_s"] == pytest.approx(max(unit["retired_at_s"], end[mine].max()))


def test_oracle_uses_no_more_unit_hours_than_any_policy_that_never_throttles():
    traffic = {"kind": "diurnal", "mean_tps": 4, "peak_to_trough": 5, "duration_h": 12}
    oracle = lfvsim.simulate(
        scenario(
            model={"min_units": 1, "max_units": 10},
            autoscaler={"policy": "oracle"},
            traffic=traffic,
        ),
        seed=4,
    )
    check_invariants(oracle)
    assert oracle.summary.throttled == 0
    rivals = [scenario(model={"min_units": m}, traffic=traffic) for m in (4, 6, 10)] + [
        scenario(
            model={"min_units": 1, "max_units": 10},
            autoscaler={"target_percent": t, "provisioning_delay_s": d},
            traffic=traffic,
        )
        for t in (10, 20, 35)
        for d in (0, 60)
    ]
    clean = 0
    for rival in rivals:
        r = lfvsim.simulate(rival, seed=4)
        check_invariants(r)
        if r.summary.throttled == 0:
            clean += 1
            assert oracle.summary.unit_hours <= r.summary.unit_hours
    assert clean >= 2  # the comparison must not be empty


def test_price_follows_the_region_and_the_override():
    traffic = {"kind": "constant", "rate_tps": 1, "duration_h": 1}
    listed = lfvsim.simulate(scenario(model={"region": "eu-west-1"}, traffic=traffic), seed=1)
    custom = lfvsim.simulate(
        scenario(billing={"price_per_unit_hour_usd": 2.5}, traffic=traffic), seed=1
    )
    assert listed.summary.cost_usd == pytest.approx(4.0)
    assert custom.summary.cost_usd == pytest.approx(2.5)


def test_billing_provisioning_time_adds_exactly_the_delay_per_scale_out_unit():
    common = dict(
        model={"min_units": 1, "max_units": 4},
        traffic={"kind": "constant", "rate_tps": 8, "duration_h": 3},
    )
    free = lfvsim.simulate(scenario(**common, autoscaler={"provisioning_delay_s": 300}), seed=2)
    paid = lfvsim.simulate(
        scenario(
            **common, autoscaler={"provisioning_delay_s": 300}, billing={"bill_provisioning": True}
        ),
        seed=2,
    )
    added = len(paid.units) - 1
    assert added > 0
    assert paid.summary.throttled == free.summary.throttled
    assert paid.summary.unit_hours - free.summary.unit_hours == pytest.approx(added * 300 / 3600)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    min_units=st.integers(1, 3),
    extra=st.one_of(st.none(), st.integers(0, 4)),
    slots=st.integers(1, 5),
    rate=st.floats(0.0, 25.0),
    queue=st.sampled_from([("throttle", None), ("queue", None), ("queue", 0), ("queue", 7)]),
    policy=st.sampled_from(["auto", "oracle"]),
    delay=st.sampled_from([0.0, 45.0, 300.0]),
    granularity=st.sampled_from([1.0, 60.0, 3600.0]),
    seed=st.integers(0, 2**32),
)
def test_invariants_hold_for_random_scenarios(
    min_units, extra, slots, rate, queue, policy, delay, granularity, seed
):
    sc = scenario(
        model={"min_units": min_units, "max_units": None if extra is None else min_units + extra},
        unit={"slots": slots, "when_busy": queue[0], "queue_limit": queue[1]},
        autoscaler={"policy": policy, "provisioning_delay_s": delay, "scale_in_datapoints": 3},
        billing={"metering_granularity_s": granularity},
        traffic={
            "kind": "diurnal",
            "mean_tps": max(rate, 0.01),
            "peak_to_trough": 8,
            "duration_h": 1.5,
        },
    )
    result = lfvsim.simulate(sc, seed=seed)
    check_invariants(result)
    if queue == ("queue", None):
        assert result.summary.throttled == 0
