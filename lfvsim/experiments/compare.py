"""Side by side: always on, auto-scaled, on a schedule, or in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lfvsim.billing import monthly_cost_usd
from lfvsim.budget import check_runs, checked
from lfvsim.engine import resolve_seed
from lfvsim.engine.fast import simulate_summary
from lfvsim.engine.traffic import Traffic, draw_traffic
from lfvsim.errors import InputError
from lfvsim.modes import MODES_HELP
from lfvsim.scenario import Scenario, read_toml
from lfvsim.traces import Trace, trace_from_scenario

__all__ = ["MODES_HELP", "compare_modes", "mode_overrides"]


def mode_overrides(scenario: Scenario, mode: str) -> dict[str, Any]:
    """Scenario overrides that put the model in an operating ``mode``."""
    name, _, arg = mode.partition(":")
    always = {"hosting.mode": "always_on"}
    if name == "scenario" and not arg:
        return {}
    if name in ("no-auto-scaling", "always-on"):  # always-on: its earlier name
        units = scenario.model.max_units or scenario.model.min_units
        if arg:
            if not arg.isdigit() or int(arg) < 1:
                raise InputError(
                    f"mode {mode!r}: N must be a whole number >= 1, e.g. no-auto-scaling:3"
                )
            units = int(arg)
        return {**always, "model.min_units": units, "model.max_units": None,
                "autoscaler.policy": "auto"}  # fmt: skip
    if name == "autoscaled" and not arg:
        if scenario.model.max_units is None:
            raise InputError(
                "mode 'autoscaled' needs model.max_units in the scenario; set it or use --max-units"
            )
        return {**always, "autoscaler.policy": "target_tracking"}
    if name == "batch" and not arg:
        return {"hosting.mode": "batch"}
    if name == "schedule" and arg:
        return {"hosting": _hosting_file(Path(arg))}
    raise InputError(f"unknown mode {mode!r}; use one of: {MODES_HELP}")


def _hosting_file(path: Path) -> dict[str, Any]:
    data = read_toml(path, "schedule file")
    hosting = data.get("hosting")
    # Only the [hosting] section is taken, so a whole scenario with a schedule (such as
    # scenarios/scheduled-business-hours.toml) serves as well as a file of that section.
    if not isinstance(hosting, dict):
        raise InputError(
            f"{path}: no [hosting] section to take the schedule from; add one, e.g. "
            "mode = 'schedule' and windows = ['Mon-Fri 06:00-22:00']"
        )
    return {"mode": "schedule", **hosting}


def mode_variants(scenario: Scenario, modes: list[str]) -> list[Scenario]:
    """The scenario as each operating mode runs it."""
    twice = sorted({m for m in modes if modes.count(m) > 1})
    if twice:
        # Same seed, same requests: a second row would repeat the first, figure for figure.
        raise InputError(f"--mode {twice[0]} is given twice; give each mode once")
    variants = []
    seen: list[tuple[str, dict[str, Any]]] = []
    for mode in modes:
        overrides = mode_overrides(scenario, mode)
        same = next((m for m, o in seen if o == overrides), None)
        if same is not None:  # always-on is no-auto-scaling by another name
            raise InputError(f"--mode {mode} runs as --mode {same} does; give each mode once")
        seen.append((mode, overrides))
        source = f"mode {mode!r}"
        variants.append(scenario.with_overrides(overrides, source) if overrides else scenario)
    return variants


def heaviest_mode(variants: list[Scenario]) -> Scenario:
    """The variant to cost every mode as: the one with the most units (always-on:N may
    add many)."""
    return max(variants, key=lambda v: max(v.model.min_units, v.model.max_units or 0))


def compare_modes(
    scenario: Scenario,
    modes: list[str],
    trace: Trace | None = None,
    seed: int | None = None,
    *,
    allow_large: bool = False,
) -> pd.DataFrame:
    """Simulate the scenario in each operating mode, on the same requests.

    Every mode runs with the same seed, so all of them see the same arrivals and service
    times (common random numbers): the differences are the modes'. The requests are drawn
    once for every mode, and each run computes only its summary (the compiled fast path
    where it applies; the same figures as :func:`lfvsim.simulate`). The budget
    (:mod:`lfvsim.budget`) is checked once for every mode; ``allow_large`` lifts it.

    Returns
    -------
    pandas.DataFrame
        One row per mode: ``mode``, ``min_units``, ``max_units``, ``monthly_cost_usd``
        (cost scaled to 730 h), ``cost_usd``, ``unit_hours``, ``hosted_h``,
        ``throttle_rate``, ``unavailable``, ``failure_rate``, ``latency_p99_s``, ``seed``.
    """
    if not modes:
        raise InputError("no mode to compare; give --mode at least once")
    variants = mode_variants(scenario, modes)
    read = check_runs(
        heaviest_mode(variants), trace, len(modes), allow_large=allow_large,
        how_to_shrink="compare fewer modes or less traffic",
    )  # fmt: skip
    if trace is None:
        trace = read if read is not None else trace_from_scenario(scenario)
    # One seed for every mode: given, else the scenario's, else fresh entropy.
    seed = resolve_seed(seed, scenario)
    rows = []
    traffic: Traffic | None = None
    for mode, variant in zip(modes, variants, strict=True):
        # Modes change hosting, not requests: draw them once (unless a mode changes the
        # horizon or latency, or they exceed the memory budget; the results are the same).
        if traffic is None or not traffic.fits(variant, trace, seed):
            traffic = draw_traffic(variant, trace, seed)
        with checked():  # costed once, above
            # Summary only: the compiled fast path where it covers the mode (a schedule
            # runs on the SimPy reference); the summary is the same either way.
            s = simulate_summary(variant, trace=trace, seed=seed, traffic=traffic).summary
        rows.append(
            {
                "mode": mode,
                "min_units": s.min_units,
                "max_units": s.max_units,
                "monthly_cost_usd": monthly_cost_usd(s.cost_usd, s.duration_h),
                "cost_usd": s.cost_usd,
                "unit_hours": s.unit_hours,
                "hosted_h": s.hosted_h,
                "throttle_rate": s.throttle_rate,
                "unavailable": s.unavailable,
                "failure_rate": s.failure_rate,
                "latency_p99_s": s.latency_p99_s,
                "seed": s.seed,
            }
        )
    frame = pd.DataFrame(rows)
    frame["max_units"] = frame["max_units"].astype("Int64")
    return frame
