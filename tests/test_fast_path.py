"""The compiled fast path agrees exactly with the SimPy reference on every summary figure."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.engine.fast import fast_path_refusal, simulate_summary
from lfvsim.engine.kernel import pairwise_sum
from lfvsim.engine.traffic import draw_traffic
from lfvsim.errors import InputError
from lfvsim.experiments import executors
from lfvsim.experiments.executors import SerialExecutor, make_executor
from lfvsim.experiments.sweep import sweep, write_table
from lfvsim.traces import CountTrace, RateTrace
from tests.conftest import scenario

START = pd.Timestamp("2024-03-04 00:00", tz="UTC")
SCENARIOS = 240


def same(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields that differ, NaN equal to NaN; floats compared to the bit."""
    assert a.keys() == b.keys()
    return {
        k: (a[k], b[k])
        for k in a
        if not (
            (type(a[k]) is type(b[k]) and a[k] == b[k])
            or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        )
    }


def random_trace(rng: np.random.Generator, minutes: int, capacity_tps: float) -> Any:
    """Constant, step up or down, bursty, ramp or silent traffic around ``capacity_tps``."""
    shape = rng.choice(["constant", "step_up", "step_down", "bursty", "ramp", "silent", "counts"])
    level = capacity_tps * rng.uniform(0.2, 3.0)
    m = np.arange(minutes)
    if shape == "constant":
        rates = np.full(minutes, level)
    elif shape == "step_up":
        rates = np.where(m < rng.integers(1, minutes), level * 0.1, level)
    elif shape == "step_down":
        rates = np.where(m < rng.integers(1, minutes), level, level * 0.1)
    elif shape == "bursty":
        rates = np.where(rng.random(minutes) < 0.15, level * rng.uniform(2, 6), level * 0.2)
    elif shape == "ramp":
        rates = level * (0.05 + m / minutes) * (1 + 0.5 * np.sin(m / 7.0))
    elif shape == "silent":
        rates = np.where(m > minutes // 2, level, 0.0)
    else:  # exact counts in 10 s bins, with spikes
        counts = rng.poisson(level * 10.0, minutes * 6)
        counts[rng.random(len(counts)) < 0.05] *= 8
        return CountTrace(START, 10.0, counts.astype(np.int64))
    bin_s = float(rng.choice([10.0, 60.0]))
    return RateTrace(START, bin_s, np.repeat(rates, int(60 / bin_s)).astype(float))


def random_case(seed: int) -> tuple[lfvsim.Scenario, Any, int, float]:
    """A scenario with random settings, its trace, run seed and per-minute percentile.

    About one in six throttles by a token bucket (``unit.throttling = "rate"``), which the
    fast path leaves to SimPy; the fast path covers every other.
    """
    rng = np.random.default_rng(seed)
    slots = int(rng.integers(1, 7))
    mean_s = float(rng.choice([0.05, 0.3, 0.8, 2.0, 40.0]))
    dist = str(rng.choice(["constant", "exponential", "lognormal"]))
    unit: dict[str, Any] = {
        "slots": slots,
        "latency_distribution": dist,
        "latency_mean_s": mean_s,
        "latency_p99_s": mean_s * float(rng.uniform(1.5, 4.0)),
    }
    if rng.random() < 1 / 6:
        unit["throttling"] = "rate"
        unit["rate_tps"] = slots / mean_s * float(rng.uniform(0.5, 2.0))
        unit["burst"] = float(rng.choice([1.0, 5.0, 20.0]))
    elif rng.random() < 0.3:
        unit["when_busy"] = "queue"
        unit["queue_limit"] = None if rng.random() < 0.3 else int(rng.integers(0, 30))
    min_units = int(rng.integers(1, 4))
    max_units = min_units + int(rng.integers(0, 8))
    policy = str(rng.choice(["none", "target_tracking", "oracle", "auto"]))
    period_s = int(rng.choice([60, 60, 120, 180]))
    autoscaler = {
        "policy": policy,
        "metric": str(rng.choice(["utilization", "offered_utilization"])),
        "target_percent": float(rng.uniform(20, 95)),
        "evaluation_period_s": period_s,
        "scale_out_datapoints": int(rng.integers(1, 4)),
        "scale_in_datapoints": int(rng.integers(1, 6)),
        "scale_in_ratio": float(rng.uniform(0.5, 1.0)),
        "scale_out_cooldown_s": float(rng.choice([0.0, 60.0, 300.0])),
        "scale_in_cooldown_s": float(rng.choice([0.0, 120.0, 300.0])),
        # 0, the period itself and twice it: events at the same instant in SimPy's order.
        "provisioning_delay_s": float(
            rng.choice([0.0, 30.0, 90.5, period_s, 2 * period_s, 300.0, 1200.0])
        ),
    }
    model: dict[str, Any] = {"min_units": min_units}
    if policy != "none" or rng.random() < 0.5:
        model["max_units"] = max(max_units, 1)
    billing = {
        "metering_granularity_s": float(rng.choice([1.0, 60.0, 60.0, 3600.0])),
        "bill_provisioning": bool(rng.random() < 0.4),
    }
    client: dict[str, Any] = {}
    if rng.random() < 0.3:
        client = {"retry_mode": str(rng.choice(["standard", "legacy"])), "clients": 2}
    minutes = int(rng.integers(10, 150))
    capacity = min_units * slots / mean_s
    trace = random_trace(rng, minutes, min(capacity, 60.0))
    sections: dict[str, Any] = {
        "model": model,
        "unit": unit,
        "autoscaler": autoscaler,
        "billing": billing,
        "client": client,
    }
    if rng.random() < 0.3:  # a horizon inside a minute
        sections["simulation"] = {"horizon_h": float(rng.uniform(0.1, minutes / 60.0))}
    percentile = float(rng.choice([50.0, 90.0, 95.0, 99.0, 99.9, rng.uniform(1.0, 99.99)]))
    return scenario(**sections), trace, int(rng.integers(2**31)), percentile


@pytest.mark.parametrize("chunk", range(8))
def test_fast_path_equals_simpy_on_random_scenarios(chunk):
    ran = 0
    for case in range(chunk, SCENARIOS, 8):
        sc, trace, seed, percentile = random_case(case)
        rate = sc.unit.throttling == "rate"
        assert (fast_path_refusal(sc) is None) != rate
        run = simulate_summary(
            sc, trace, seed, engine="auto" if rate else "fast", minute_percentile=percentile
        )
        reference = lfvsim.simulate(sc, trace=trace, seed=seed, minute_percentile=percentile)
        assert run.engine == ("simpy" if rate else "fast"), f"case {case}"
        assert run.summary.minute_percentile == percentile
        diff = same(asdict(run.summary), asdict(reference.summary))
        assert not diff, f"case {case}: {diff}"
        ran += 1
    assert ran == SCENARIOS // 8


def test_random_scenarios_include_both_throttling_models():
    rate = sum(random_case(case)[0].unit.throttling == "rate" for case in range(SCENARIOS))
    assert 10 < rate < SCENARIOS - 10


def test_shared_traffic_gives_the_same_fast_summary():
    cases = (random_case(case) for case in range(20))
    sc, trace, seed, _ = next(c for c in cases if fast_path_refusal(c[0]) is None)
    traffic = draw_traffic(sc, trace, seed)
    shared = simulate_summary(sc, trace, seed, traffic=traffic, engine="fast").summary
    drawn = simulate_summary(sc, trace, seed, engine="simpy").summary
    assert not same(asdict(shared), asdict(drawn))


def test_many_blocks_and_grown_arrays_agree():
    # Hours of 10 s count bins (a block an hour), a queue and retries that outgrow their
    # first arrays, a long provisioning delay: the loop hands back to Python many times.
    rng = np.random.default_rng(5)
    counts = rng.poisson(60.0, 6 * 60 * 5)
    counts[1000:1100] *= 30
    trace = CountTrace(START, 10.0, counts.astype(np.int64))
    sc = scenario(
        model={"min_units": 1, "max_units": 40},
        unit={"slots": 2, "latency_distribution": "exponential", "latency_mean_s": 1.0},
        autoscaler={"policy": "target_tracking", "provisioning_delay_s": 240.0},
        client={"retry_mode": "legacy", "max_attempts": 5},
    )
    fast = simulate_summary(sc, trace, 11, engine="fast").summary
    reference = lfvsim.simulate(sc, trace=trace, seed=11).summary
    assert fast.scale_out_events > 3 and fast.retries > 1000
    assert not same(asdict(fast), asdict(reference))
    queued = sc.with_overrides(
        {"unit.when_busy": "queue", "client.retry_mode": "none", "client.max_attempts": 1}
    )
    fast = simulate_summary(queued, trace, 11, engine="fast").summary
    reference = lfvsim.simulate(queued, trace=trace, seed=11).summary
    assert fast.wait_mean_s > 0
    assert not same(asdict(fast), asdict(reference))


@pytest.mark.parametrize(
    ("sections", "reason"),
    [
        ({"hosting": {"mode": "schedule", "windows": ["daily 00:20-00:50"]}}, "hosting.mode"),
        ({"hosting": {"mode": "batch"}}, "hosting.mode"),
        ({"failures": {"unit_mtbf_h": 10.0}}, "failures"),
        ({"unit": {"throttling": "rate", "rate_tps": 3.0}}, "unit.throttling = 'rate'"),
    ],
)
def test_what_is_not_compiled_falls_back_to_simpy(sections, reason):
    sc = scenario(model={"min_units": 1, "max_units": 3}, **sections)
    assert reason in (fast_path_refusal(sc) or "")
    run = simulate_summary(sc, seed=2)
    assert run.engine == "simpy" and reason in (run.fallback or "")
    assert not same(asdict(run.summary), asdict(lfvsim.simulate(sc, seed=2).summary))
    with pytest.raises(ValueError, match="does not cover"):
        simulate_summary(sc, seed=2, engine="fast")


def test_auto_runs_the_fast_path_when_it_can():
    run = simulate_summary(scenario(model={"min_units": 1, "max_units": 3}), seed=2)
    assert run.engine == "fast" and run.fallback is None
    with pytest.raises(ValueError, match="engine 'turbo'"):
        simulate_summary(scenario(), seed=2, engine="turbo")  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 300, 1000, 1031])
def test_pairwise_sum_is_numpys(n):
    a = np.random.default_rng(n).lognormal(0.0, 3.0, n)
    assert pairwise_sum(a, 0, n) == a.sum()
    assert pairwise_sum(a, n // 3, n) == a[n // 3 :].sum()


def test_sweep_tables_are_byte_identical_on_both_engines(tmp_path, monkeypatch):
    # Target tracking, no auto-scaling and the oracle, a configuration that falls back to
    # SimPy (a schedule) included through --vary.
    rates = np.where(np.arange(90) % 30 < 10, 30.0, 4.0)
    trace = RateTrace(START, 60.0, rates)
    base = scenario(
        unit={"slots": 2, "latency_distribution": "lognormal", "latency_mean_s": 0.5},
        autoscaler={"provisioning_delay_s": 120.0},
    )
    vary = {"hosting.mode": ["always_on", "schedule"], "hosting.windows": [["daily 00:10-01:00"]]}
    ran: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        run = simulate_summary(*args, **kwargs)
        ran.append(run.engine)
        return run

    monkeypatch.setattr(executors, "simulate_summary", counted)
    tables = {}
    engines = {}
    for engine in ("auto", "simpy"):
        ran.clear()
        table = sweep(
            base,
            min_units=[1, 2],
            max_units=[2, 5],
            replications=2,
            seed=4,
            trace=trace,
            vary=vary,
            oracle=True,
            dask=SerialExecutor(engine=engine),
        )
        write_table(table, tmp_path / f"{engine}.csv")
        tables[engine] = (tmp_path / f"{engine}.csv").read_bytes()
        engines[engine] = set(ran)
    assert engines == {"auto": {"fast", "simpy"}, "simpy": {"simpy"}}
    assert len(tables["auto"].splitlines()) > 10
    assert tables["auto"] == tables["simpy"]


def test_an_unknown_engine_is_refused_in_one_line():
    with pytest.raises(InputError, match="engine 'turbo' is unknown; use one of auto"):
        make_executor(workers=1, engine="turbo")
