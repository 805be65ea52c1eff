"""The engine against queueing theory: Erlang B, Erlang C, Little's law, the SimPy reference.

Every statistical check is a Student t confidence interval over seeded, independent
replications. The level is 99%: the file makes 18 interval checks, so at 95% a correct
engine would fail at least one for 60% of seed choices; at 99%, for 17%. Seeds are fixed
entropy values: if a check fails, investigate (run more replications), do not re-seed.
Each interval is also asserted narrow enough to exclude a plausible wrong answer, so no
check passes because the noise is large.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

import numpy as np
import pytest

import lfvsim
from lfvsim.engine.reference import simulate_reference
from lfvsim.theory import erlang_b, erlang_c, mmc_mean_wait_s

CONFIDENCE = 0.99


def t_quantile(p: float, df: int) -> float:
    """Student t quantile (Abramowitz & Stegun 26.7.5; error < 1e-4 for df >= 10)."""
    x = NormalDist().inv_cdf(p)
    g1 = (x**3 + x) / 4
    g2 = (5 * x**5 + 16 * x**3 + 3 * x) / 96
    g3 = (3 * x**7 + 19 * x**5 + 17 * x**3 - 15 * x) / 384
    g4 = (79 * x**9 + 776 * x**7 + 1482 * x**5 - 1920 * x**3 - 945 * x) / 92160
    return x + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_ci(values) -> tuple[float, float]:
    """Mean of independent replications and the half-width of its t confidence interval."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    assert n >= 10, "too few replications for a t interval"
    half = t_quantile(0.5 + CONFIDENCE / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean()), float(half)


def seeds(entropy: int, n: int) -> list[int]:
    """``n`` independent run seeds derived from one fixed entropy value."""
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(n)]


def scenario(
    units: int,
    slots: int,
    rate_tps: float,
    hours: float,
    *,
    dist: str = "exponential",
    mean_s: float = 1.0,
    p99_s: float | None = None,
    when_busy: str = "throttle",
    queue_limit: int | None = None,
) -> lfvsim.Scenario:
    """Fixed ``units`` (no auto-scaling) serving Poisson arrivals at ``rate_tps``."""
    unit = {
        "slots": slots,
        "latency_distribution": dist,
        "latency_mean_s": mean_s,
        "when_busy": when_busy,
    }
    if p99_s is not None:
        unit["latency_p99_s"] = p99_s
    if when_busy == "queue":
        unit["queue_limit"] = queue_limit
    return lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": units},
            "unit": unit,
            "traffic": {"kind": "constant", "rate_tps": rate_tps, "duration_h": hours},
        }
    )


def test_t_quantile_matches_table():
    """The t quantile approximation against printed t-table values."""
    for df, table in [(9, 3.2498), (19, 2.8609), (29, 2.7564), (59, 2.6618)]:
        assert t_quantile(0.995, df) == pytest.approx(table, abs=2e-3)
    assert t_quantile(0.975, 29) == pytest.approx(2.0452, abs=1e-3)


# --- Erlang B: M/G/c/c, throttle at once ------------------------------------------------

# (units, slots, rate_tps): light load B(8, 3) = 0.81%, heavy (overload) B(6, 6) = 26.5%.
ERLANG_B_LOADS = {"light": (2, 4, 3.0), "heavy": (3, 2, 6.0)}
# Erlang B does not depend on the service distribution beyond its mean: exponential,
# lognormal with p99 = 10 x mean (coefficient of variation 2.6) and constant.
ERLANG_B_SERVICE = {"exponential": None, "lognormal": 10.0, "constant": None}
ERLANG_B_REPS, ERLANG_B_HOURS = 100, 3.0


@functools.cache
def erlang_b_runs(dist: str, load: str) -> np.ndarray:
    units, slots, rate = ERLANG_B_LOADS[load]
    sc = scenario(units, slots, rate, ERLANG_B_HOURS, dist=dist, p99_s=ERLANG_B_SERVICE[dist])
    entropy = 1100 + 10 * list(ERLANG_B_SERVICE).index(dist) + list(ERLANG_B_LOADS).index(load)
    rates = []
    for seed in seeds(entropy, ERLANG_B_REPS):
        s = lfvsim.simulate(sc, seed=seed).summary
        assert s.served + s.throttled == s.requests
        rates.append(s.throttle_rate)
    return np.array(rates)


@pytest.mark.parametrize("load", list(ERLANG_B_LOADS))
@pytest.mark.parametrize("dist", list(ERLANG_B_SERVICE))
def test_throttle_rate_matches_erlang_b(dist, load):
    """M/G/c/c: the throttle rate is Erlang B(c, a) whatever the service distribution.
    The empty-start transient (a few service times of 3 h) is far inside the interval."""
    units, slots, rate = ERLANG_B_LOADS[load]
    c, a = units * slots, rate * 1.0
    mean, half = mean_ci(erlang_b_runs(dist, load))
    theory = erlang_b(c, a)
    assert abs(mean - theory) <= half, (
        f"{dist}/{load}: throttle rate {mean:.5f} +- {half:.5f}, Erlang B({c}, {a}) = {theory:.5f}"
    )


@pytest.mark.parametrize("load", list(ERLANG_B_LOADS))
@pytest.mark.parametrize("dist", list(ERLANG_B_SERVICE))
def test_erlang_b_interval_excludes_wrong_answers(dist, load):
    """The Erlang B intervals exclude c - 1 and c + 1 servers and a 5% load error."""
    units, slots, rate = ERLANG_B_LOADS[load]
    c, a = units * slots, rate * 1.0
    mean, half = mean_ci(erlang_b_runs(dist, load))
    assert half < 0.05 * erlang_b(c, a)
    for wrong in (
        erlang_b(c - 1, a),
        erlang_b(c + 1, a),
        erlang_b(c, 0.95 * a),
        erlang_b(c, 1.05 * a),
    ):
        assert abs(mean - wrong) > half


# --- Erlang C: M/M/c with an unbounded FIFO queue ---------------------------------------

# (units, slots, rate_tps) with exponential service of mean 1 s: rho = 0.75 and 0.85.
ERLANG_C_LOADS = {"rho75": (3, 2, 4.5), "rho85": (2, 4, 6.8)}
ERLANG_C_REPS, ERLANG_C_HOURS, WARMUP_S, WAIT_T_S = 30, 4.0, 600.0, 0.5


@pytest.mark.parametrize("load", list(ERLANG_C_LOADS))
def test_unbounded_queue_matches_erlang_c(load):
    """M/M/c, unbounded FIFO queue: mean wait C(c, a) / (c mu - lambda), P(wait) =
    Erlang C, P(W > t) = C(c, a) exp(-(c mu - lambda) t) (FIFO); nothing throttled."""
    units, slots, rate = ERLANG_C_LOADS[load]
    c, a = units * slots, rate * 1.0
    sc = scenario(units, slots, rate, ERLANG_C_HOURS, when_busy="queue", queue_limit=None)
    mean_wait, waited, waited_long = [], [], []
    for seed in seeds(1200 + list(ERLANG_C_LOADS).index(load), ERLANG_C_REPS):
        r = lfvsim.simulate(sc, seed=seed, record_requests=True)
        # Requests still waiting when the model stops at the end are refused, not served.
        q = r.requests[~r.requests.unavailable]
        assert r.summary.unavailable == r.requests.unavailable.sum()
        assert r.summary.throttled == 0 and not q.throttled.any()
        wait = (q.start_s - q.arrival_s).to_numpy()
        assert (wait >= 0).all()
        # The engine's accumulator and its request records describe the same waits.
        assert r.summary.wait_mean_s == pytest.approx(wait.mean(), rel=1e-9)
        mean_wait.append(r.summary.wait_mean_s)
        steady = wait[q.arrival_s.to_numpy() >= WARMUP_S]
        waited.append((steady > 0).mean())
        waited_long.append((steady > WAIT_T_S).mean())

    theory_w = mmc_mean_wait_s(c, rate, 1.0)
    theory_c = erlang_c(c, a)
    theory_tail = theory_c * math.exp(-(c - a) * WAIT_T_S)
    for name, values, theory in [
        ("mean wait (s)", mean_wait, theory_w),
        ("P(wait > 0)", waited, theory_c),
        (f"P(wait > {WAIT_T_S} s)", waited_long, theory_tail),
    ]:
        mean, half = mean_ci(values)
        assert abs(mean - theory) <= half, (
            f"{load} {name}: {mean:.5f} +- {half:.5f} vs {theory:.5f}"
        )
        assert half < 0.05 * theory, f"{load} {name}: interval too wide to tell"

    # Tight enough to tell c from c - 1 or c + 1 servers.
    mean, half = mean_ci(mean_wait)
    for wrong in (mmc_mean_wait_s(c - 1, rate, 1.0), mmc_mean_wait_s(c + 1, rate, 1.0)):
        assert abs(mean - wrong) > half
    mean, half = mean_ci(waited)
    for wrong in (erlang_c(c + 1, a), erlang_b(c, a)):
        assert abs(mean - wrong) > half


# --- Little's law -----------------------------------------------------------------------

LITTLE_UNITS, LITTLE_SLOTS, LITTLE_RATE = 2, 4, 6.4  # c = 8, rho = 0.8
LITTLE_REPS, LITTLE_HOURS, LITTLE_EDGE_S, LITTLE_POINTS = 20, 6.0, 1800.0, 20_000


def test_littles_law_on_a_queueing_run():
    """Little's law L = lambda W, L_q = lambda W_q, L_s = lambda E[S] (M/M/8, rho 0.8).

    L, L_q: number in system / waiting at random times of an interior window, from the
    request records; lambda = served / duration, W, W_q: the summary means; L_s: busy
    slots from the timeline's utilization, which must also equal the offered load a."""
    c = LITTLE_UNITS * LITTLE_SLOTS
    a = LITTLE_RATE * 1.0
    sc = scenario(LITTLE_UNITS, LITTLE_SLOTS, LITTLE_RATE, LITTLE_HOURS, when_busy="queue")
    duration = LITTLE_HOURS * 3600.0
    t0, t1 = LITTLE_EDGE_S, duration - LITTLE_EDGE_S
    minutes = slice(int(t0 // 60), int(t1 // 60))
    rel_l, rel_lq, rel_ls, busy = [], [], [], []
    for seed in seeds(1300, LITTLE_REPS):
        r = lfvsim.simulate(sc, seed=seed, record_requests=True)
        s, q = r.summary, r.requests
        arrival = q.arrival_s.to_numpy()
        start = q.start_s.to_numpy()
        depart = np.sort(start + q.service_s.to_numpy())
        times = np.random.default_rng(seed).uniform(t0, t1, LITTLE_POINTS)
        arrived = np.searchsorted(arrival, times, side="right")
        in_system = arrived - np.searchsorted(depart, times, side="right")
        waiting = arrived - np.searchsorted(np.sort(start), times, side="right")
        lam = s.served / duration
        rel_l.append(in_system.mean() / (lam * s.latency_mean_s) - 1)
        rel_lq.append(waiting.mean() / (lam * s.wait_mean_s) - 1)
        in_service = c * r.timeline["utilization"].to_numpy()[minutes].mean()
        rel_ls.append(in_service / (lam * (s.latency_mean_s - s.wait_mean_s)) - 1)
        busy.append(in_service)

    for name, values, width in [("L", rel_l, 0.01), ("L_q", rel_lq, 0.03), ("L_s", rel_ls, 0.01)]:
        mean, half = mean_ci(values)
        assert abs(mean) <= half, f"{name} / lambda W - 1 = {mean:.4f} +- {half:.4f}"
        assert half < width, f"{name}: interval +-{half:.4f} too wide to tell"
    mean, half = mean_ci(busy)
    assert abs(mean - a) <= half, f"busy slots {mean:.4f} +- {half:.4f}, offered load {a}"
    assert half < 0.01 * a


# --- Exact agreement with the per-request SimPy reference -------------------------------


@pytest.mark.parametrize(
    ("when_busy", "queue_limit", "dist"),
    [
        ("throttle", 0, "exponential"),
        ("queue", None, "exponential"),
        ("queue", 3, "exponential"),
        ("queue", 0, "exponential"),
        ("queue", 3, "lognormal"),
    ],
)
def test_same_outcome_as_simpy_reference(when_busy, queue_limit, dist):
    """Request by request, the same throttled flags and start times as the per-request
    SimPy reference on c = units x slots (exact, same arrivals and service times)."""
    units, slots = 3, 2
    sc = scenario(
        units, slots, 5.4, 1.5, dist=dist, p99_s=4.0 if dist == "lognormal" else None,
        when_busy=when_busy, queue_limit=queue_limit,
    )  # fmt: skip
    r = lfvsim.simulate(sc, seed=1400, record_requests=True)
    q = r.requests
    ref = simulate_reference(
        q.arrival_s.to_numpy(), q.service_s.to_numpy(), units * slots, queue_limit
    )
    throttled = q.throttled.to_numpy()
    start = q.start_s.to_numpy()
    # Not vacuous: this load throttles and/or queues a good share of requests.
    waited = int((start > q.arrival_s.to_numpy()).sum())
    if queue_limit is None:
        assert waited > 1000 and not throttled.any()
    elif queue_limit == 0:
        assert throttled.sum() > 1000 and waited == 0
    else:
        assert throttled.sum() > 500 and waited > 1000
    assert len(q) == r.summary.requests and throttled.sum() == r.summary.throttled
    mismatch = np.flatnonzero(throttled != ref.throttled)
    assert mismatch.size == 0, f"throttled flags differ first at request {mismatch[:1]}"
    # The model stops at the end of the run: requests still waiting then are refused. The
    # reference has no end and serves them after it; everything else must match exactly.
    refused = q.unavailable.to_numpy()
    assert (ref.start_s[refused] >= 1.5 * 3600).all()
    assert np.allclose(start[~refused], ref.start_s[~refused], rtol=0, atol=1e-9, equal_nan=True)
    unit = q.unit.to_numpy()
    assert ((unit >= 0) & (unit < units))[~throttled].all() and (unit[throttled] == -1).all()


# --- Scaled-out units really serve -----------------------------------------------------

SCALE_UNITS_MAX, SCALE_SLOTS, SCALE_RATE, SCALE_MEAN_S = 6, 4, 15.0, 0.8
SCALE_SCENARIO = lfvsim.Scenario.model_validate(
    {
        "model": {"min_units": 1, "max_units": SCALE_UNITS_MAX},
        "unit": {"slots": SCALE_SLOTS, "latency_mean_s": SCALE_MEAN_S},
        "autoscaler": {"provisioning_delay_s": 120},
        "traffic": {"kind": "constant", "rate_tps": SCALE_RATE, "duration_h": 2},
    }
)
SETTLE_S = 600.0  # after the last unit comes into service


def scale_out_run(seed: int) -> lfvsim.Result:
    return lfvsim.simulate(SCALE_SCENARIO, seed=seed, record_requests=True)


def test_scaled_out_units_serve_traffic():
    """Scale-out from 1 unit (4 slots, 12 erlangs offered): every added unit serves, only
    while in service, never over its slots, takes its share; throttling then drops."""
    r = scale_out_run(1500)
    units, q = r.units, r.requests
    assert r.summary.scale_out_events >= 2
    assert len(units) == SCALE_UNITS_MAX and units.in_service_from_s.notna().all()
    first = int(units.unit_id[units.in_service_from_s.idxmin()])
    others = units[units.unit_id != first]
    assert (others.served > 0).all(), others
    assert units.served.sum() == r.summary.served == (~q.throttled).sum()

    served = q[~q.throttled]
    in_service_from = units.set_index("unit_id").in_service_from_s
    retired = units.set_index("unit_id").retired_at_s.fillna(np.inf)
    start = served.start_s.to_numpy()
    assert (start >= in_service_from[served.unit].to_numpy()).all()
    assert (start < retired[served.unit].to_numpy()).all()
    first_out = float(others.in_service_from_s.min())
    assert (served.unit[served.start_s > first_out] != first).sum() > 1000

    # No unit ever has more requests in service than its slots.
    for uid, g in served.groupby("unit"):
        b = g.start_s.to_numpy()
        e = np.sort(b + g.service_s.to_numpy())
        concurrent = np.arange(1, len(b) + 1) - np.searchsorted(e, b, side="right")
        assert concurrent.max() <= SCALE_SLOTS, f"unit {uid}: {concurrent.max()} at once"

    # Once every unit serves, each takes about its share (1/6) of the requests.
    settled = float(units.in_service_from_s.max()) + SETTLE_S
    late = served[served.arrival_s >= settled]
    share = late.unit.value_counts(normalize=True)
    assert len(share) == SCALE_UNITS_MAX
    assert share.between(0.8 / SCALE_UNITS_MAX, 1.2 / SCALE_UNITS_MAX).all(), share

    early_rate = q.throttled[q.arrival_s < 180].mean()
    late_rate = q.throttled[q.arrival_s >= settled].mean()
    assert early_rate > 0.5 and late_rate < early_rate / 50, (early_rate, late_rate)


def test_throttle_rate_before_and_after_scale_out_matches_erlang_b():
    """Throttling is Erlang B(4, 12) while 1 unit serves and Erlang B(24, 12) once 6 do:
    scaled-out units bring exactly their slots (M/G/c/c, lognormal service)."""
    a = SCALE_RATE * SCALE_MEAN_S
    before, after = [], []
    for seed in seeds(1600, 20):
        r = scale_out_run(seed)
        q, tl = r.requests, r.timeline
        second = float(np.sort(r.units.in_service_from_s.to_numpy())[1])
        assert second >= 180.0  # the window below has one unit only
        w = (q.arrival_s >= 30.0) & (q.arrival_s < 180.0)  # 30 s: past the empty start
        before.append(q.throttled[w].mean())
        settled = float(r.units.in_service_from_s.max()) + SETTLE_S
        assert r.summary.scale_in_events == 0
        m = math.ceil(settled / 60)
        assert (tl.InServiceInferenceUnits.to_numpy()[m:] == SCALE_UNITS_MAX).all()
        after.append(q.throttled[q.arrival_s >= m * 60].mean())
    for name, values, c in [
        ("1 unit", before, SCALE_SLOTS),
        ("6 units", after, SCALE_SLOTS * SCALE_UNITS_MAX),
    ]:
        mean, half = mean_ci(values)
        theory = erlang_b(c, a)
        assert abs(mean - theory) <= half, f"{name}: {mean:.5f} +- {half:.5f} vs B = {theory:.5f}"
        wrong = erlang_b(c - SCALE_SLOTS, a) if c > SCALE_SLOTS else erlang_b(c - 1, a)
        assert abs(mean - wrong) > half
