"""Why requests are throttled, and the busy-hour throttle rates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lfvsim
from lfvsim.engine.busy import (
    hourly_throttle_rates,
    minute_throttle_rate_quantile,
    worst_hour_throttle_rate,
    worst_minutes,
)
from lfvsim.experiments import replicate
from lfvsim.theory import erlang_b
from lfvsim.traces import RateTrace
from tests.conftest import scenario

CAUSES = ["throttled_at_max", "throttled_scaling", "throttled_burst", "throttled_capacity_lost"]
START = pd.Timestamp("2024-03-04 00:00", tz="UTC")
# One unit: 4 slots of exactly 1 s, so 4 requests per second.
UNIT = {"slots": 4, "latency_distribution": "constant", "latency_mean_s": 1.0}


def check_causes(result: lfvsim.Result) -> None:
    """The causes add up exactly to the throttled and unavailable totals, in every minute."""
    s, tl = result.summary, result.timeline
    assert sum(getattr(s, c) for c in CAUSES) == s.throttled
    assert s.unavailable_not_hosted == s.unavailable
    assert (tl[CAUSES].sum(axis=1) == tl["ThrottledCount"]).all()
    assert (tl[CAUSES] >= 0).all().all()
    for c in CAUSES:
        assert tl[c].sum() == getattr(s, c)


def step_trace(before_tps: float, after_tps: float, step_min: int, total_min: int) -> RateTrace:
    rates = np.where(np.arange(total_min) < step_min, before_tps, after_tps)
    return RateTrace(START, 60.0, rates.astype(float))


def test_a_step_with_a_long_provisioning_delay_throttles_for_scaling():
    # 0.1 TPS, then 20 TPS from minute 10 against one unit (4 TPS); new units take 40 min,
    # longer than the run, so every throttle after the autoscaler's first look at the
    # new load waits on scaling.
    sc = scenario(
        model={"min_units": 1, "max_units": 10},
        unit=UNIT,
        autoscaler={"policy": "auto", "provisioning_delay_s": 2400},
    )
    r = lfvsim.simulate(sc, trace=step_trace(0.1, 20.0, 10, 40), seed=3)
    check_causes(r)
    tl = r.timeline
    # The first datapoint of the new load is taken at the end of minute 10: until then
    # nothing has seen the change and the throttles are burst.
    assert tl["throttled_burst"].iloc[10] == tl["ThrottledCount"].iloc[10] > 0
    after = tl.iloc[11:]
    assert (after["throttled_scaling"] == after["ThrottledCount"]).all()
    assert r.summary.throttled_scaling > 0.9 * r.summary.throttled
    assert r.summary.throttled_at_max == r.summary.throttled_capacity_lost == 0


def test_load_above_max_after_scaling_settles_throttles_at_max():
    # 20 TPS against at most 2 units (8 TPS): once both serve, every throttle is at Max.
    sc = scenario(
        model={"min_units": 1, "max_units": 2},
        unit=UNIT,
        autoscaler={"policy": "auto", "provisioning_delay_s": 60},
    )
    r = lfvsim.simulate(sc, trace=step_trace(20.0, 20.0, 0, 30), seed=4)
    check_causes(r)
    tl, units = r.timeline, r.units
    settled_min = int(np.ceil(units["in_service_from_s"].max() / 60))
    assert units["in_service_from_s"].notna().sum() == 2 and settled_min < 10
    late = tl.iloc[settled_min:]
    assert (late["throttled_at_max"] == late["ThrottledCount"]).all()
    assert late["ThrottledCount"].sum() > 0
    assert (
        tl["throttled_at_max"].iloc[:settled_min].sum()
        < tl["ThrottledCount"].iloc[:settled_min].sum()
    )


def test_fixed_units_under_poisson_load_throttle_in_bursts_at_the_erlang_b_rate():
    sc = scenario(
        model={"min_units": 2},
        unit={"slots": 2, "latency_distribution": "exponential", "latency_mean_s": 1.0},
        autoscaler={"policy": "none"},
        traffic={"kind": "constant", "rate_tps": 3.0, "duration_h": 4},
    )
    s = lfvsim.simulate(sc, seed=11).summary
    assert s.throttled_burst == s.throttled > 0
    # About 43,000 attempts: the standard error of the rate is about 0.002.
    assert s.throttle_rate == pytest.approx(erlang_b(4, 3.0), abs=0.01)


def test_a_zone_outage_throttles_for_lost_capacity_until_the_replacement_serves():
    # Three 1-TPS units in three zones at 2.5 TPS; zone 1 goes down at 1 h and its unit is
    # replaced elsewhere after 10 min.
    sc = scenario(
        model={"min_units": 3},
        unit={"slots": 1, "latency_distribution": "constant", "latency_mean_s": 1.0},
        autoscaler={"policy": "none"},
        failures={
            "availability_zones": 3,
            "replacement_delay_s": 600,
            "outages": [{"zone": 1, "start_h": 1.0, "duration_h": 1.0}],
        },
        traffic={"kind": "constant", "rate_tps": 2.5, "duration_h": 3},
    )
    r = lfvsim.simulate(sc, seed=5)
    check_causes(r)
    tl = r.timeline
    lost = tl.iloc[60:70]
    assert (lost["throttled_capacity_lost"] == lost["ThrottledCount"]).all()
    assert lost["ThrottledCount"].sum() > 0
    assert tl["throttled_capacity_lost"].drop(lost.index).sum() == 0
    assert r.summary.throttled_burst == r.summary.throttled - r.summary.throttled_capacity_lost


def test_requests_to_a_stopped_model_are_unavailable_because_not_hosted():
    sc = scenario(
        model={"min_units": 1},
        hosting={"mode": "schedule", "timezone": "UTC", "windows": ["daily 01:00-02:00"]},
        traffic={"kind": "constant", "rate_tps": 2, "duration_h": 3},
    )
    r = lfvsim.simulate(sc, seed=2)
    check_causes(r)
    assert r.summary.unavailable_not_hosted == r.summary.unavailable > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    min_units=st.integers(1, 3),
    extra=st.one_of(st.none(), st.integers(0, 3)),
    slots=st.integers(1, 4),
    rate=st.floats(0.5, 20.0),
    delay=st.sampled_from([0.0, 60.0, 600.0]),
    mtbf_h=st.one_of(st.none(), st.floats(0.2, 2.0)),
    outage=st.booleans(),
    schedule=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_causes_add_up_for_random_scenarios(
    min_units, extra, slots, rate, delay, mtbf_h, outage, schedule, seed
):
    hosting = {"mode": "always_on"}
    if schedule:
        hosting = {"mode": "schedule", "timezone": "UTC", "windows": ["daily 00:20-01:10"]}
    sc = scenario(
        model={"min_units": min_units, "max_units": None if extra is None else min_units + extra},
        hosting=hosting,
        unit={"slots": slots},
        autoscaler={"policy": "auto", "provisioning_delay_s": delay},
        failures={
            "availability_zones": 2,
            "unit_mtbf_h": mtbf_h,
            "replacement_delay_s": 300,
            "outages": [{"zone": 0, "start_h": 0.5, "duration_h": 0.25}] if outage else [],
        },
        traffic={"kind": "diurnal", "mean_tps": rate, "peak_to_trough": 8, "duration_h": 1.5},
    )
    r = lfvsim.simulate(sc, seed=seed)
    check_causes(r)
    s, tl = r.summary, r.timeline
    assert s.throttle_rate_worst_hour == worst_hour_throttle_rate(
        tl["offered_requests"].to_numpy(), tl["ThrottledCount"].to_numpy(), tl.index[0]
    )
    assert s.throttle_rate <= s.throttle_rate_worst_hour + 1e-12 or s.attempts == 0


def test_replications_carry_the_causes_and_busy_hour_rates_of_each_run():
    sc = scenario(
        model={"min_units": 1, "max_units": 2},
        unit=UNIT,
        autoscaler={"policy": "auto", "provisioning_delay_s": 120},
        traffic={"kind": "diurnal", "mean_tps": 5.0, "peak_to_trough": 6, "duration_h": 1},
    )
    table = replicate(sc, 3, seed=2).table
    assert (table[CAUSES].sum(axis=1) == table["throttled"]).all()
    assert (table["unavailable_not_hosted"] == table["unavailable"]).all()
    assert (table["throttle_rate_worst_hour"] >= table["throttle_rate"]).all()
    first = lfvsim.simulate(sc, seed=int(table["seed"].iloc[0])).summary
    assert table["throttled_scaling"].iloc[0] == first.throttled_scaling
    assert table["throttle_rate_minute_p99"].iloc[0] == first.throttle_rate_minute_p99


# --- busy-hour rates ---------------------------------------------------------------------


def test_worst_hour_is_the_highest_share_over_clock_hours():
    # Starting at 10:30: minutes 0-29 are the 10:00 hour, 30-89 the 11:00 hour, 90-99 the
    # 12:00 hour.
    offered = np.zeros(100, np.int64)
    throttled = np.zeros(100, np.int64)
    offered[:30], throttled[:30] = 10, 1  # 30 / 300 = 0.10
    offered[30:90], throttled[30:90] = 20, 1  # 60 / 1200 = 0.05
    offered[90:], throttled[95] = 4, 6  # 6 / 40 = 0.15
    start = pd.Timestamp("2024-03-04 10:30", tz="UTC")
    assert worst_hour_throttle_rate(offered, throttled, start) == pytest.approx(0.15)
    # Aligned on the hour, minutes 0-59 and 60-99: (30 + 30) / (300 + 600) and
    # (30 + 6) / (600 + 40).
    aligned = pd.Timestamp("2024-03-04 10:00", tz="UTC")
    assert worst_hour_throttle_rate(offered, throttled, aligned) == pytest.approx(60 / 900)
    assert worst_hour_throttle_rate(offered * 0, throttled * 0, start) == 0.0
    hours = hourly_throttle_rates(offered, throttled, start)
    assert list(hours.index.hour) == [10, 11, 12]
    assert hours["attempts"].tolist() == [300, 1200, 40]
    assert hours["throttled"].tolist() == [30, 60, 6]


def test_worst_minutes_rank_minutes_with_load_by_throttled_share():
    index = pd.date_range("2024-03-04 10:00", periods=6, freq="min", tz="UTC")
    timeline = pd.DataFrame(
        {"offered_requests": [10, 0, 4, 20, 10, 8], "ThrottledCount": [1, 0, 2, 10, 5, 0]},
        index=index,
    )
    worst = worst_minutes(timeline, 3)
    # Three minutes throttle half their attempts: more throttles rank first, so 10:03
    # (10 throttles), 10:04 (5), 10:02 (2).
    assert list(worst.index.minute) == [3, 4, 2]
    assert worst["throttle_rate"].tolist() == [0.5, 0.5, 0.5]
    assert len(worst_minutes(timeline, 10)) == 5  # the idle minute is left out


def test_minute_p99_is_an_empirical_quantile_over_minutes_with_load():
    # 200 minutes with load: 197 at 0, then 0.25, 0.5, 1.0; 100 idle minutes do not count.
    offered = np.r_[np.full(200, 4), np.zeros(100)].astype(np.int64)
    throttled = np.zeros(300, np.int64)
    throttled[197:200] = [1, 2, 4]
    # 99% of 200 minutes is 198: the 198th smallest rate is 0.25.
    assert minute_throttle_rate_quantile(offered, throttled) == 0.25
    assert minute_throttle_rate_quantile(offered, throttled, 0.995) == 0.5
    assert minute_throttle_rate_quantile(offered, throttled, 1.0) == 1.0
    assert minute_throttle_rate_quantile(offered * 0, throttled, 0.99) == 0.0


def test_summary_busy_hour_rates_come_from_the_timeline():
    # 8 TPS in the last 20 minutes on one fixed unit (4 TPS): the worst hour is the last.
    sc = scenario(model={"min_units": 1}, unit=UNIT, autoscaler={"policy": "none"})
    r = lfvsim.simulate(sc, trace=step_trace(1.0, 8.0, 100, 120), seed=1)
    s, tl = r.summary, r.timeline
    offered, throttled = tl["offered_requests"].to_numpy(), tl["ThrottledCount"].to_numpy()
    assert s.throttle_rate_worst_hour == pytest.approx(throttled[60:].sum() / offered[60:].sum())
    # About half of the 8 TPS is throttled: 1/3 of the last hour's attempts, 1/4 of all.
    assert 0.38 < throttled[100:].sum() / offered[100:].sum() < 0.62
    assert s.throttle_rate_worst_hour > 1.2 * s.throttle_rate
    assert s.throttle_rate_minute_p99 == minute_throttle_rate_quantile(offered, throttled)
    assert s.throttle_rate_minute_p99 > s.throttle_rate_worst_hour


# --- output ------------------------------------------------------------------------------


def test_run_prints_throttles_by_cause_and_the_busy_hour(cli, tmp_path):
    path = tmp_path / "outage.toml"
    path.write_text(
        """\
[model]
min_units = 3
[unit]
slots = 1
latency_distribution = "constant"
latency_mean_s = 1.0
[autoscaler]
policy = "none"
[failures]
availability_zones = 3
replacement_delay_s = 600
outages = [{ zone = 1, start_h = 1.0, duration_h = 1.0 }]
[traffic]
kind = "constant"
rate_tps = 2.5
duration_h = 3
[simulation]
seed = 5
""",
        encoding="utf-8",
    )
    code, out, _ = cli("run", path, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["throttled_burst"] + data["throttled_capacity_lost"] == data["throttled"]
    assert data["throttled_capacity_lost"] > 0 and data["throttled_at_max"] == 0
    assert data["unavailable_not_hosted"] == data["unavailable"] == 0
    assert data["throttle_rate_worst_hour"] >= data["throttle_rate"] > 0
    code, out, _ = cli("run", path)
    assert code == 0
    line = next(x for x in out.splitlines() if x.strip().startswith("by cause"))
    assert f"burst {data['throttled_burst']:,}" in line
    assert f"capacity lost {data['throttled_capacity_lost']:,}" in line
    assert "at Max" not in line and "scaling" not in line
    worst = next(x for x in out.splitlines() if "worst hour" in x)
    assert f"{100 * data['throttle_rate_worst_hour']:.3g}% in the worst hour" in worst
