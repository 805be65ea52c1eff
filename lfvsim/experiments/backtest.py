"""Backtest: replay a model's observed load and compare the simulation with its history.

Each hosted stretch of the history with one MinInferenceUnits / MaxInferenceUnits is
simulated on its own: the offered load is the observed ``SuccessfulRequestCount +
ThrottledCount`` per minute (requests placed inside each minute by the scenario's arrival
model), the bounds are the observed ones, and the model is hosted throughout the stretch.
Minute by minute, the simulated ``InServiceInferenceUnits``, ``DesiredInferenceUnits`` and
``ThrottledCount`` are set against the observed ones; gaps in the data and minutes the model
was not hosted are left out.

One replay is one draw of what the history does not record (where each request falls inside
its minute, each service time), and that draw moves a scale decision whose utilisation lies
near the target by a minute or more: even the parameters that made a history replay it with
units in service equal in only 75-99 % of the minutes. So the backtest runs
:data:`REPLICATIONS` replays: unit-hours and cost are their mean, the other figures (errors
and shares equal per minute, throttles, scaling steps) the first replay's, and
``in_service_within_replays_share`` is the share of minutes where the observed units in
service lie within the range the replays span (to the same half unit as "equal"): the figure
to hold against the 95 % a right scenario should reach, while a wrong target, delay or
capacity leaves the history outside the replays' range in more minutes.

Approximate by construction: each stretch starts from MinInferenceUnits units, while the
real model may have started a stretch with more; observed unit-hours come from
``InServiceInferenceUnits`` (units in service), not from the bill, and the simulated ones are
counted the same way so that both sides compare like with like.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lfvsim.budget import check_runs, checked
from lfvsim.engine import resolve_seed, simulate
from lfvsim.errors import InputError
from lfvsim.experiments.replicate import replication_seeds
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_history import HostedSegment, MetricHistory
from lfvsim.traces.model import CountTrace

__all__ = [
    "EVENT_WINDOW_MIN",
    "REPLICATIONS",
    "Backtest",
    "ScalingMatch",
    "backtest",
    "misfit_flags",
    "scaling_steps",
]

#: A simulated scale-out or scale-in matches an observed one this many minutes apart at most.
EVENT_WINDOW_MIN = 15
#: Two unit counts are "equal" in a minute when they differ by less than half a unit (both
#: are averages over the minute, so a unit arriving mid-minute gives a fraction).
EQUAL_WITHIN_UNITS = 0.5
#: Replays of the history by default: enough that a right scenario's range holds the
#: observed units in >= 99 % of minutes on bursty and factory round trips (a wrong target
#: or delay: 19-94 %), few enough to keep a backtest within seconds per simulated day.
REPLICATIONS = 10
#: Below this share of minutes within the replays' range, the scenario misses the history.
FLAG_WITHIN_SHARE = 0.9
#: Beyond these the replay disagrees with the history by more than its own sampling moves
#: it (replays of the true parameters on bursty and factory traffic stay within 3 % of the
#: unit-hours, above 0.6 of the minutes equal, within a third of the steps, and within
#: a half of the throttled requests): a flag
#: that the scenario's model or values do not describe the history.
FLAG_UNIT_HOURS = 0.10
FLAG_EQUAL_SHARE = 0.5
FLAG_STEP_SHARE = 0.5
FLAG_STEP_COUNT = 3
FLAG_THROTTLED = 0.5
#: Fewer throttled requests than this in the history make their relative error noise.
FLAG_THROTTLED_MIN = 100

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScalingMatch:
    """Scale-outs (or scale-ins) seen in each history and how well they pair up."""

    observed: int
    simulated: int
    matched: int
    mean_lag_min: float | None
    """Mean of simulated minus observed minute over matched pairs (positive: later)."""


@dataclass(frozen=True)
class Backtest:
    """The comparison of a simulated replay with the observed history.

    Attributes
    ----------
    minutes : pandas.DataFrame
        One row per minute of the history: ``offered``, ``observed_in_service``,
        ``simulated_in_service``, ``observed_desired``, ``simulated_desired``,
        ``observed_throttled``, ``simulated_throttled`` (the first replay),
        ``simulated_in_service_low``, ``simulated_in_service_high`` and
        ``simulated_in_service_mean`` (over all replays) and ``compared`` (whether the
        minute counts in the figures).
    figures : dict
        The headline figures (see :meth:`to_dict`).
    scale_outs, scale_ins : ScalingMatch
    notes : list of str
        What is approximate, and the recognised periods left out.
    """

    minutes: pd.DataFrame
    figures: dict[str, Any]
    scale_outs: ScalingMatch
    scale_ins: ScalingMatch
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The figures, the event matches and the notes, JSON-ready."""
        return {
            **self.figures,
            "scale_outs": asdict(self.scale_outs),
            "scale_ins": asdict(self.scale_ins),
            "flags": list(self.flags),
            "notes": list(self.notes),
        }


def backtest(
    scenario: Scenario,
    history: MetricHistory,
    *,
    seed: int | None = None,
    replications: int = REPLICATIONS,
    allow_large: bool = False,
) -> Backtest:
    """Replay ``history``'s offered load on ``scenario`` and compare minute by minute.

    Parameters
    ----------
    scenario : Scenario
        Unit, autoscaler and billing assumptions to test; its traffic, hosting and bounds
        are replaced by the history's.
    history : MetricHistory
        Needs ``SuccessfulRequestCount`` and ``InServiceInferenceUnits``.
    seed : int, optional
        Seed of the first replay's simulations (default: the scenario's); the others use
        ``SeedSequence(seed).spawn``.
    replications : int
        Replays of the history (at least 1).
    allow_large : bool
        Run even past the memory and time budget (:mod:`lfvsim.budget`).

    Raises
    ------
    InputError
        The history lacks the metrics a backtest needs, or has no hosted minute, or
        ``replications`` is below 1.
    lfvsim.budget.BudgetError
        One replay would use more than the budget.
    """
    if replications < 1:
        raise InputError(
            f"replications {replications} is below 1; replay the history at least once"
        )
    frame = history.frame
    for name in ("SuccessfulRequestCount", "InServiceInferenceUnits"):
        if name not in frame:
            raise InputError(f"{history.source}: a backtest needs {name}; add it to the export")
    segments = history.segments()
    if not segments:
        raise InputError(f"{history.source}: the model was never hosted; choose another period")
    n = len(frame)
    notes = list(history.notes)
    offered = history.offered()
    # Costed once for every replay of the whole history, so that a refusal names what a
    # backtest can shrink; the replays' own simulations then do not check again. Costed
    # before the seeds are drawn: 10^9 of them alone took minutes.
    whole = CountTrace(frame.index[0], 60.0, offered.astype(np.int64), source=history.source)
    check_runs(
        scenario,
        whole,
        simulations=replications,
        allow_large=allow_large,
        how_to_shrink="give a shorter history or fewer replications",
    )
    first = resolve_seed(seed, scenario)
    seeds = [first, *replication_seeds(first, replications - 1)]
    replays = []
    with checked():
        for k, replay_seed in enumerate(seeds):
            sim = {key: np.full(n, np.nan) for key in ("in_service", "desired", "throttled")}
            for seg in segments:
                # Notes of the first replay only: the others would repeat them.
                said = notes if k == 0 else []
                _simulate_segment(
                    scenario, history, seg, offered, replay_seed, sim, said, allow_large
                )
            replays.append(sim)
    sim = replays[0]
    spread = np.array([r["in_service"] for r in replays])
    observed_in_service = frame["InServiceInferenceUnits"].to_numpy(float)
    compared = (
        frame["hosted"].fillna(True).to_numpy(bool)
        & ~frame["gap"].to_numpy(bool)
        & ~np.isnan(observed_in_service)
        & ~np.isnan(sim["in_service"])
    )
    observed_desired = _column(frame, "DesiredInferenceUnits")
    minutes = pd.DataFrame(
        {
            "offered": offered,
            "observed_in_service": observed_in_service,
            "simulated_in_service": sim["in_service"],
            "observed_desired": observed_desired,
            "simulated_desired": sim["desired"],
            "observed_throttled": _column(frame, "ThrottledCount"),
            "simulated_throttled": sim["throttled"],
            "simulated_in_service_low": spread.min(axis=0),
            "simulated_in_service_high": spread.max(axis=0),
            "simulated_in_service_mean": spread.mean(axis=0),
            "compared": compared,
        },
        index=frame.index,
    )
    notes += [f"left out: {p}" for p in history.periods if p.kind in ("not_hosted", "gap")]
    notes += [f"simulated apart: {p}" for p in history.periods if p.kind == "bounds_change"]
    figures = _figures(minutes, scenario, notes)
    figures["replications"] = replications
    figures["in_service_within_replays_share"] = _within(minutes[minutes["compared"]])
    notes.append(
        f"in_service_within_replays_share: minutes whose observed units in service lie within "
        f"the range of {replications} replays (seeds from {first}); the other figures are the "
        "first replay's except unit-hours and cost, the replays' mean"
    )
    outs = _match(minutes, +1)
    ins = _match(minutes, -1)
    return Backtest(minutes, figures, outs, ins, notes, misfit_flags(figures, outs, ins))


def misfit_flags(figures: dict[str, Any], outs: ScalingMatch, ins: ScalingMatch) -> list[str]:
    """Where the replay disagrees with the history beyond its own sampling noise.

    An empty list does not prove the scenario right (a short history may not tell); a
    flag says its model or values do not describe the history.
    """
    flags = []
    error = figures["unit_hours_relative_error"]
    if error is not None and abs(error) > FLAG_UNIT_HOURS:
        flags.append(
            f"unit-hours off by {error:+.0%} (replay noise stays within a few %): the "
            "scenario does not describe the history"
        )
    share = figures["in_service_equal_share"]
    if share is not None and share < FLAG_EQUAL_SHARE:
        flags.append(f"units in service equal in only {share:.0%} of minutes")
    within = figures.get("in_service_within_replays_share")
    if within is not None and within < FLAG_WITHIN_SHARE:
        flags.append(
            f"observed units in service outside the replays' range in {1 - within:.0%} of "
            "minutes: the scenario's autoscaler, delay or capacity differ from the history's"
        )
    throttled, observed = figures["throttled_relative_error"], figures["throttled_observed"]
    if throttled is not None and observed >= FLAG_THROTTLED_MIN and abs(throttled) > FLAG_THROTTLED:
        flags.append(
            f"throttled requests off by {throttled:+.0%}: the capacity or the provisioning "
            "delay differ from the history's"
        )
    for what, match in (("scale-outs", outs), ("scale-ins", ins)):
        gap = abs(match.observed - match.simulated)
        if gap > max(FLAG_STEP_COUNT, FLAG_STEP_SHARE * max(match.observed, match.simulated)):
            flags.append(
                f"{match.simulated} simulated {what} against {match.observed} observed: the "
                "autoscaler's rule or its values differ from the history's"
            )
    return flags


def _simulate_segment(
    scenario: Scenario,
    history: MetricHistory,
    seg: HostedSegment,
    offered: npt.NDArray[np.int64],
    seed: int | None,
    sim: dict[str, FloatArray],
    notes: list[str],
    allow_large: bool,
) -> None:
    frame = history.frame
    overrides: dict[str, Any] = {"hosting": {"mode": "always_on"}}
    if seg.min_units is not None:
        overrides["model.min_units"] = seg.min_units
    if "MaxInferenceUnits" in frame:
        overrides["model.max_units"] = seg.max_units
    elif seg.first == 0:
        notes.append("no MaxInferenceUnits in the history: the scenario's is used")
    if seg.min_units is None and seg.first == 0:
        notes.append("no MinInferenceUnits in the history: the scenario's is used")
    stretch = scenario.with_overrides(overrides, source="the CloudWatch history")
    trace = CountTrace(
        frame.index[seg.first],
        60.0,
        offered[seg.first : seg.stop].astype(np.int64),
        source=f"observed offered load from {history.source}",
    )
    result = simulate(stretch, trace=trace, seed=seed, allow_large=allow_large)
    tl = result.timeline
    part = slice(seg.first, seg.first + len(tl))
    sim["in_service"][part] = tl["InServiceInferenceUnits"].to_numpy(float)
    sim["desired"][part] = tl["DesiredInferenceUnits"].to_numpy(float)
    sim["throttled"][part] = tl["ThrottledCount"].to_numpy(float)
    first_units = frame["InServiceInferenceUnits"].iloc[seg.first]
    if np.isfinite(first_units) and round(first_units) != stretch.model.min_units:
        notes.append(
            f"at {frame.index[seg.first]:%Y-%m-%d %H:%M} the model had {first_units:g} units in "
            f"service; the simulation starts that stretch from MinInferenceUnits "
            f"{stretch.model.min_units}"
        )


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    return frame[name].to_numpy(float) if name in frame else np.full(len(frame), np.nan)


def _figures(minutes: pd.DataFrame, scenario: Scenario, notes: list[str]) -> dict[str, Any]:
    m = minutes[minutes["compared"]]
    if m.empty:
        raise InputError("no minute of the history can be compared (no unit metrics while hosted)")
    price = scenario.price_per_unit_hour_usd
    obs_uh = float(m["observed_in_service"].sum() / 60)
    sim_uh = float(m["simulated_in_service_mean"].sum() / 60)
    out: dict[str, Any] = {
        "minutes_compared": len(m),
        "in_service_mae_units": _mae(m["observed_in_service"], m["simulated_in_service"]),
        "in_service_equal_share": _equal(m["observed_in_service"], m["simulated_in_service"]),
        "desired_mae_units": _mae(m["observed_desired"], m["simulated_desired"]),
        "desired_equal_share": _equal(m["observed_desired"], m["simulated_desired"]),
        "unit_hours_observed": obs_uh,
        "unit_hours_simulated": sim_uh,
        "unit_hours_relative_error": _relative(sim_uh, obs_uh),
        "cost_observed_usd": obs_uh * price,
        "cost_simulated_usd": sim_uh * price,
        "cost_relative_error": _relative(sim_uh * price, obs_uh * price),
    }
    if m["observed_throttled"].isna().all():
        notes.append("no ThrottledCount in the history: throttling is not compared")
        obs_thr = None
    else:
        obs_thr = float(m["observed_throttled"].sum())
    sim_thr = float(m["simulated_throttled"].sum())
    out["throttled_observed"] = obs_thr
    out["throttled_simulated"] = sim_thr
    out["throttled_relative_error"] = None if obs_thr is None else _relative(sim_thr, obs_thr)
    if obs_thr == 0:
        notes.append(
            "nothing was throttled in the history: throttled_relative_error is undefined; "
            "compare throttled_simulated with 0"
        )
    notes.append(
        f"unit-hours on both sides are InServiceInferenceUnits summed over the {len(m)} "
        "compared minutes, not the bill; cost is those unit-hours at "
        f"USD {price:.2f} per unit-hour"
    )
    return out


def _mae(a: pd.Series, b: pd.Series) -> float | None:
    both = a.notna() & b.notna()
    return float((a[both] - b[both]).abs().mean()) if both.any() else None


def _equal(a: pd.Series, b: pd.Series) -> float | None:
    both = a.notna() & b.notna()
    if not both.any():
        return None
    return float(((a[both] - b[both]).abs() < EQUAL_WITHIN_UNITS).mean())


def _within(m: pd.DataFrame) -> float | None:
    observed = m["observed_in_service"]
    ok = observed.notna() & m["simulated_in_service_low"].notna()
    if not ok.any():
        return None
    nearest = observed[ok].clip(
        m["simulated_in_service_low"][ok], m["simulated_in_service_high"][ok]
    )
    return float(((observed[ok] - nearest).abs() < EQUAL_WITHIN_UNITS).mean())


def _relative(simulated: float, observed: float) -> float | None:
    return None if observed == 0 else (simulated - observed) / observed


def scaling_steps(desired: FloatArray, direction: int) -> npt.NDArray[np.int64]:
    """Minutes where the desired units (rounded) step up (``direction`` +1) or down (-1)."""
    d = np.round(desired)
    step = np.diff(d)
    ok = ~np.isnan(step)
    return np.flatnonzero(ok & (np.sign(np.nan_to_num(step)) == direction)) + 1


def _match(minutes: pd.DataFrame, direction: int) -> ScalingMatch:
    """Pair observed and simulated steps in time order, each at most once, within the window."""
    use = "observed_desired" if minutes["observed_desired"].notna().any() else None
    sim_desired = minutes["simulated_desired"].to_numpy(float)
    simulated = scaling_steps(sim_desired, direction)
    if use is None:
        return ScalingMatch(0, len(simulated), 0, None)
    observed = scaling_steps(minutes[use].to_numpy(float), direction)
    taken = np.zeros(len(simulated), bool)
    lags = []
    for t in observed:
        free = np.flatnonzero(~taken & (np.abs(simulated - t) <= EVENT_WINDOW_MIN))
        if free.size == 0:
            continue
        k = free[np.argmin(np.abs(simulated[free] - t))]
        taken[k] = True
        lags.append(int(simulated[k] - t))
    mean_lag = float(np.mean(lags)) if lags else None
    return ScalingMatch(len(observed), len(simulated), len(lags), mean_lag)
