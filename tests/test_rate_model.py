"""The rate model (a token bucket per unit in service) against an independent reference and
theory: request for request the same throttles as a plain Python bucket on the same
arrivals (fixed units, and units coming and going under the autoscaler), the throttled
share of an even stream and of a Poisson stream where theory gives it, and the invariants
(served + throttled = offered, causes add up, billing as in the slots model)."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from lfvsim.engine import simulate
from lfvsim.errors import InputError
from lfvsim.scenario import Scenario, render_toml

ONE_UNIT = """\
[model]
project = "line-7"
min_units = {units}
max_units = {units}
[unit]
throttling = "rate"
rate_tps = {rate}
burst = {burst}
[traffic]
kind = "constant"
rate_tps = {tps}
arrivals = "{arrivals}"
duration_h = {hours}
"""

SCALING = """\
[model]
project = "line-7"
min_units = 1
max_units = 6
[unit]
throttling = "rate"
rate_tps = 3.0
burst = 12.0
[autoscaler]
scale_in_datapoints = 5
[traffic]
kind = "diurnal"
mean_tps = 4.0
peak_to_trough = 5.0
peak_hour_utc = 2
spikes_per_day = 24
spike_multiplier = 2.0
spike_duration_s = 600
duration_h = 6
"""


def scenario(text: str, **fields: object) -> Scenario:
    return Scenario.model_validate(tomllib.loads(text.format(**fields)))


def reference_throttles(
    arrivals: np.ndarray, changes: list[tuple[float, int]], rate: float, burst: float
) -> np.ndarray:
    """A plain token bucket, request by request: which requests it refuses.

    ``changes`` are (time, units in service from then on), in time order; the bucket
    holds ``burst`` per unit, fills at ``rate`` per unit, a unit added brings a full
    bucket and a unit removed takes its share of the tokens along.
    """
    tokens, last, units = 0.0, 0.0, 0
    refused = np.zeros(len(arrivals), bool)
    pending = list(changes)

    def refill(t: float) -> None:
        nonlocal tokens, last
        tokens = min(tokens + rate * units * (t - last), burst * units)
        last = t

    for i, t in enumerate(arrivals):
        while pending and pending[0][0] <= t:
            when, now = pending.pop(0)
            refill(when)
            if now > units:
                tokens += (now - units) * burst
            elif units:
                tokens *= now / units
            units = now
        refill(t)
        if units and tokens >= 1.0:
            tokens -= 1.0
        else:
            refused[i] = True
    return refused


def unit_changes(units) -> list[tuple[float, int]]:
    """Units in service over time, from the run's unit table."""
    steps: dict[float, int] = {}
    for start, end in zip(units["in_service_from_s"], units["retired_at_s"], strict=True):
        if np.isnan(start):
            continue
        steps[start] = steps.get(start, 0) + 1
        if not np.isnan(end):
            steps[end] = steps.get(end, 0) - 1
    out, level = [], 0
    for t in sorted(steps):
        level += steps[t]
        out.append((t, level))
    return out


@pytest.mark.parametrize(
    ("arrivals", "tps", "rate", "burst", "units"),
    [("poisson", 9.0, 4.0, 6.0, 2), ("even", 7.0, 5.0, 3.0, 1), ("poisson", 3.0, 2.0, 40.0, 1)],
)
def test_fixed_units_throttle_exactly_the_requests_a_plain_bucket_refuses(
    arrivals, tps, rate, burst, units
):
    s = scenario(ONE_UNIT, units=units, rate=rate, burst=burst, tps=tps, arrivals=arrivals, hours=1)
    made = simulate(s, seed=5, record_requests=True)
    req = made.requests
    expected = reference_throttles(
        req["arrival_s"].to_numpy(), unit_changes(made.units), rate, burst
    )
    assert expected.sum() > 100  # the bucket is exercised
    np.testing.assert_array_equal(req["throttled"].to_numpy(), expected)


def test_units_coming_and_going_throttle_exactly_what_a_plain_bucket_refuses():
    s = scenario(SCALING)
    made = simulate(s, seed=2, record_requests=True)
    assert made.summary.scale_out_events >= 2 and made.summary.scale_in_events >= 1
    req = made.requests
    expected = reference_throttles(req["arrival_s"].to_numpy(), unit_changes(made.units), 3.0, 12.0)
    assert expected.sum() > 100
    np.testing.assert_array_equal(req["throttled"].to_numpy(), expected)


def test_an_even_stream_above_the_rate_is_throttled_by_the_excess_after_the_burst():
    # 10 requests/s evenly on one unit of 4/s: after the first 5 (the burst) are spent,
    # the bucket admits 4 of every 10.
    s = scenario(ONE_UNIT, units=1, rate=4.0, burst=5.0, tps=10.0, arrivals="even", hours=1)
    made = simulate(s, seed=1)
    offered, served = made.summary.requests, made.summary.served
    horizon_s = 3600.0
    # Admitted: the burst plus what the rate refills, within one request either way.
    assert abs(served - (5.0 + 4.0 * horizon_s)) <= 2
    assert made.summary.throttled == offered - served


@pytest.mark.parametrize(("tps", "share"), [(12.0, 1.0 - 4.0 / 12.0), (20.0, 1.0 - 4.0 / 20.0)])
def test_a_poisson_stream_far_above_the_rate_loses_the_excess(tps, share):
    # Far above the rate the bucket is nearly always empty: it admits the rate, no more.
    s = scenario(ONE_UNIT, units=1, rate=4.0, burst=4.0, tps=tps, arrivals="poisson", hours=2)
    made = simulate(s, seed=3)
    assert made.summary.throttle_rate == pytest.approx(share, abs=0.01)


def test_a_large_burst_far_below_the_rate_throttles_nothing():
    s = scenario(ONE_UNIT, units=1, rate=10.0, burst=200.0, tps=2.0, arrivals="poisson", hours=2)
    assert simulate(s, seed=3).summary.throttled == 0


def test_served_plus_throttled_is_offered_and_causes_add_up_with_retries():
    s = scenario(SCALING).with_overrides({"client.retry_mode": "standard"}, source="t")
    made = simulate(s, seed=4)
    t = made.timeline
    assert made.summary.retries > 0
    np.testing.assert_array_equal(
        t["SuccessfulRequestCount"] + t["ThrottledCount"] + t["unavailable_requests"],
        t["offered_requests"],
    )
    causes = [c for c in t.columns if c.startswith("throttled_") and c != "throttled_requests"]
    assert causes
    np.testing.assert_array_equal(t[causes].sum(axis=1), t["ThrottledCount"])


def test_billing_does_not_depend_on_the_structure_of_throttling():
    rate = scenario(ONE_UNIT, units=2, rate=4.0, burst=5.0, tps=9.0, arrivals="poisson", hours=1)
    slots = rate.with_overrides({"unit.throttling": "slots"}, source="t")
    a, b = simulate(rate, seed=1).summary, simulate(slots, seed=1).summary
    assert a.unit_hours == b.unit_hours and a.cost_usd == b.cost_usd
    assert a.throttled != b.throttled  # the structures do differ


def test_the_autoscaler_reads_the_share_of_the_rate_used():
    made = simulate(scenario(SCALING), seed=2)
    t = made.timeline
    whole = (t["InServiceInferenceUnits"] % 1 == 0) & (t["InServiceInferenceUnits"] > 0)
    expected = t["SuccessfulRequestCount"] / (3.0 * 60.0 * t["InServiceInferenceUnits"])
    np.testing.assert_allclose(t["utilization"][whole], expected[whole].clip(0, 1), rtol=1e-9)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"unit.when_busy": "queue"}, "when_busy = 'throttle'"),
        ({"hosting.mode": "batch"}, "hosting.mode = 'batch'"),
        ({"unit.burst": 0.5}, "burst"),
        ({"unit.rate_tps": 0.0}, "rate_tps"),
    ],
)
def test_the_rate_model_refuses_what_it_cannot_do(override, words):
    s = scenario(ONE_UNIT, units=1, rate=4.0, burst=5.0, tps=2.0, arrivals="poisson", hours=1)
    with pytest.raises(InputError, match=words.replace("(", r"\(")):
        s.with_overrides(override, source="t")


def test_show_config_marks_the_structure_and_the_bucket_as_assumptions():
    s = scenario(ONE_UNIT, units=1, rate=4.0, burst=5.0, tps=2.0, arrivals="poisson", hours=1)
    text = render_toml(s)
    for key in ('throttling = "rate"', "rate_tps = 4.0", "burst = 5.0"):
        line = next(x for x in text.splitlines() if x.startswith(key))
        assert "ASSUMPTION" in line, line
    assert "nominal throughput: 4 TPS per unit (rate_tps" in text
    assert any("token bucket" in n for n in simulate(s, seed=1).notes)
