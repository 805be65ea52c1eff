"""Recommendations: the cheapest (Min, Max) whose SLO holds at a stated confidence.

A configuration meets the SLO when the *upper* confidence bound of its throttle rate (and,
if given, of its p99 latency) meets the target, not its mean: with 10 replications whose
mean throttle rate is just under the target, the true rate is above it about half of the
time. The bound is one-sided: the true mean is below it with the stated confidence. Among
the configurations that meet the SLO the cheapest by mean monthly cost wins (ties: the
lower throttle bound, then the fewer units).

Monthly figures are the simulated cost per hour times 730 hours (365 x 24 / 12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lfvsim.engine.busy import check_minute_percentile
from lfvsim.errors import InputError
from lfvsim.experiments.replicate import HOURS_PER_MONTH, _plain, plain_dict
from lfvsim.experiments.stats import mean_interval, upper_bound
from lfvsim.experiments.sweep import vary_columns
from lfvsim.scenario import Scenario
from lfvsim.startmodel import start_model_request

#: Busy-hour figures of a run (engine summary fields), when the sweep has them.
WORST_HOUR = "throttle_rate_worst_hour"
MINUTE_P99 = "throttle_rate_minute_p99"
#: The percentile of per-minute throttle rates a run was asked for (``minute_percentile``);
#: in :func:`aggregate`, the one the SLO asks for.
MINUTE = "throttle_rate_minute_percentile"


@dataclass(frozen=True)
class Slo:
    """The targets a configuration must meet, each by an upper confidence bound.

    Attributes
    ----------
    max_throttle_rate : float
        Whole-run throttle rate.
    max_p99_latency_s : float or None
        p99 latency (s).
    confidence : float
        Confidence of the one-sided bounds.
    max_worst_hour_rate : float or None
        Throttle rate of the worst clock hour (``throttle_rate_worst_hour``).
    max_minute_rate : float or None
        The ``minute_percentile``-th percentile over minutes of the per-minute throttle
        rate: "99% of minutes throttle at most this".
    minute_percentile : float
        Which percentile of per-minute throttle rates ``max_minute_rate`` holds
        (0 < P < 100; 99: ``throttle_rate_minute_p99``).
    """

    max_throttle_rate: float
    max_p99_latency_s: float | None = None
    confidence: float = 0.95
    max_worst_hour_rate: float | None = None
    max_minute_rate: float | None = None
    minute_percentile: float = 99.0

    def __post_init__(self) -> None:
        check_slo(self.max_throttle_rate, self.max_p99_latency_s, self.confidence)
        if self.max_throttle_rate == 0:
            # With no throttle seen the bound is -ln(1 - confidence) / requests, above 0.
            raise InputError(
                "--max-throttle-rate 0: no number of replications can bound the throttle "
                "rate at 0, so no configuration would meet it; give a positive fraction, "
                "e.g. 0.0001 for 0.01%"
            )
        object.__setattr__(
            self, "minute_percentile", check_minute_percentile(self.minute_percentile)
        )
        for name, value in (
            ("--max-worst-hour-rate", self.max_worst_hour_rate),
            ("--max-minute-rate", self.max_minute_rate),
        ):
            if value is not None and not 0 <= value < 1:
                raise InputError(f"{name} {value}: give a fraction in [0, 1), e.g. 0.05 for 5%")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (also what a sweep file stores)."""
        return {
            "max_throttle_rate": self.max_throttle_rate,
            "max_p99_latency_s": self.max_p99_latency_s,
            "confidence": self.confidence,
            "max_worst_hour_rate": self.max_worst_hour_rate,
            "max_minute_rate": self.max_minute_rate,
            "minute_percentile": self.minute_percentile,
        }


__all__ = [
    "Configuration",
    "Difference",
    "Recommendation",
    "Slo",
    "aggregate",
    "best_cost",
    "cause_remedy",
    "check_minute_percentile",
    "check_slo",
    "dominant_cause",
    "minute_column",
    "recommend",
    "recommend_for",
    "slo_checks",
    "store_slo",
    "stored_slo",
]


def minute_column(table: pd.DataFrame, percentile: float) -> str | None:
    """The column of a sweep table holding the ``percentile``-th per-minute throttle rate.

    ``throttle_rate_minute_p99`` for 99; else ``throttle_rate_minute_percentile`` when every
    run was measured at ``percentile`` (``minute_percentile``); None when the table has
    no such figures.
    """
    if percentile == 99.0:
        return MINUTE_P99 if MINUTE_P99 in table else None
    if MINUTE not in table or "minute_percentile" not in table or table.empty:
        return None
    measured = pd.to_numeric(table["minute_percentile"], errors="coerce")
    return MINUTE if bool((measured == percentile).all()) else None


def aggregate(
    table: pd.DataFrame, confidence: float = 0.95, minute_percentile: float = 99.0
) -> pd.DataFrame:
    """One row per configuration of a sweep table: means and confidence bounds.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`lfvsim.experiments.sweep` table.
    confidence : float
        Level of the intervals (two-sided) and of the upper bounds (one-sided).
    minute_percentile : float
        The percentile of per-minute throttle rates to give in
        ``throttle_rate_minute_percentile`` (when the table has it: see
        :func:`minute_column`).

    Returns
    -------
    pandas.DataFrame
        The varied keys, ``min_units``, ``max_units``, ``oracle_bound``, ``replications``,
        ``monthly_cost_usd`` with ``monthly_cost_low_usd`` / ``monthly_cost_high_usd``,
        ``throttle_rate`` with ``throttle_rate_low`` / ``throttle_rate_high`` and
        ``throttle_rate_upper``, ``latency_p99_s`` and ``latency_p99_upper_s``,
        ``unit_hours``, ``mean_units``, ``peak_units`` (the most in any replication) and
        ``requests`` (mean offered requests: the same for every configuration). When the
        table has the busy-hour fields, also ``throttle_rate_worst_hour`` and
        ``throttle_rate_minute_p99`` with their upper bounds (``..._upper``); with the
        figures for ``minute_percentile``, ``minute_percentile`` and
        ``throttle_rate_minute_percentile`` with its upper bound.
    """
    _check_confidence(confidence)
    minute = minute_column(table, minute_percentile)
    keys = [*vary_columns(table), "min_units", "max_units", "oracle_bound"]
    rows = []
    for group_key, g in table.groupby(keys, dropna=False, sort=False):
        row = dict(zip(keys, group_key, strict=True))
        row["max_units"] = None if pd.isna(row["max_units"]) else int(row["max_units"])
        cost, cost_lo, cost_hi = mean_interval(g["monthly_cost_usd"], confidence)
        rate, rate_lo, rate_hi = mean_interval(g["throttle_rate"], confidence)
        row.update(
            replications=len(g),
            monthly_cost_usd=cost,
            monthly_cost_low_usd=cost_lo,
            monthly_cost_high_usd=cost_hi,
            throttle_rate=rate,
            throttle_rate_low=rate_lo,
            throttle_rate_high=rate_hi,
            throttle_rate_upper=_throttle_upper(g, confidence),
            latency_p99_s=float(g["latency_p99_s"].mean()),
            latency_p99_upper_s=upper_bound(g["latency_p99_s"], confidence),
            unit_hours=float(g["unit_hours"].mean()),
            mean_units=float(g["mean_units"].mean()),
            peak_units=int(g["peak_units"].max()),
            requests=float(g["requests"].mean()),
        )
        for column in (WORST_HOUR, MINUTE_P99):
            if column in g:
                row[column] = float(g[column].mean())
                row[f"{column}_upper"] = upper_bound(g[column], confidence)
        if minute is not None:
            row["minute_percentile"] = minute_percentile
            row[MINUTE] = float(g[minute].mean())
            row[f"{MINUTE}_upper"] = upper_bound(g[minute], confidence)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["max_units"] = pd.array(list(out["max_units"]), dtype="Int64")
    return out


def _throttle_upper(g: pd.DataFrame, confidence: float) -> float:
    """Upper bound of the throttle rate; with no throttling at all, the Poisson bound.

    When no replication throttled a single request the sample spread is zero and the t
    bound would claim certainty; the bound is then ``-ln(1 - confidence) / requests`` over
    all replications (the one-sided bound for zero events).
    """
    if int(g["throttled"].sum()) == 0:
        total = float(g["requests"].sum())
        return -math.log1p(-confidence) / total if total > 0 else 0.0
    return upper_bound(g["throttle_rate"], confidence)


@dataclass(frozen=True)
class Configuration:
    """One configuration over its replications (all money in USD a month, 730 hours).

    Attributes
    ----------
    min_units, max_units : int, int or None
        MinInferenceUnits, MaxInferenceUnits (None: no auto-scaling, or the oracle).
    replications : int
        Replications behind the figures.
    monthly_cost_usd : float
        Mean monthly cost.
    monthly_cost_interval_usd : (float, float)
        Two-sided confidence interval of the monthly cost.
    throttle_rate, throttle_rate_upper : float
        Mean throttle rate and its one-sided upper confidence bound.
    latency_p99_s, latency_p99_upper_s : float
        Mean p99 latency and its upper bound.
    mean_units : float
        Mean units in service.
    peak_units : int
        Most units in service in any replication.
    oracle_bound : bool
        The zero-throttle oracle rather than a configuration one can start.
    worst_hour_rate, worst_hour_rate_upper : float
        Mean throttle rate of the worst clock hour and its upper bound (NaN: not recorded).
    minute_p99_rate, minute_p99_rate_upper : float
        Mean 99th percentile of per-minute throttle rates and its upper bound.
    minute_percentile : float
        The percentile of per-minute throttle rates ``minute_rate`` is.
    minute_rate, minute_rate_upper : float
        Mean ``minute_percentile``-th percentile of per-minute throttle rates and its
        upper bound (NaN: not recorded).
    """

    min_units: int
    max_units: int | None
    replications: int
    monthly_cost_usd: float
    monthly_cost_interval_usd: tuple[float, float]
    throttle_rate: float
    throttle_rate_upper: float
    latency_p99_s: float
    latency_p99_upper_s: float
    mean_units: float
    peak_units: int
    oracle_bound: bool = False
    worst_hour_rate: float = math.nan
    worst_hour_rate_upper: float = math.nan
    minute_p99_rate: float = math.nan
    minute_p99_rate_upper: float = math.nan
    minute_percentile: float = 99.0
    minute_rate: float = math.nan
    minute_rate_upper: float = math.nan

    @classmethod
    def from_row(cls, row: pd.Series) -> Configuration:
        """From a row of :func:`aggregate`."""
        return cls(
            min_units=int(row["min_units"]),
            max_units=None if pd.isna(row["max_units"]) else int(row["max_units"]),
            replications=int(row["replications"]),
            monthly_cost_usd=float(row["monthly_cost_usd"]),
            monthly_cost_interval_usd=(
                float(row["monthly_cost_low_usd"]),
                float(row["monthly_cost_high_usd"]),
            ),
            throttle_rate=float(row["throttle_rate"]),
            throttle_rate_upper=float(row["throttle_rate_upper"]),
            latency_p99_s=float(row["latency_p99_s"]),
            latency_p99_upper_s=float(row["latency_p99_upper_s"]),
            mean_units=float(row["mean_units"]),
            peak_units=int(row["peak_units"]),
            oracle_bound=bool(row["oracle_bound"]),
            worst_hour_rate=float(row.get(WORST_HOUR, math.nan)),
            worst_hour_rate_upper=float(row.get(f"{WORST_HOUR}_upper", math.nan)),
            minute_p99_rate=float(row.get(MINUTE_P99, math.nan)),
            minute_p99_rate_upper=float(row.get(f"{MINUTE_P99}_upper", math.nan)),
            minute_percentile=float(row.get("minute_percentile", 99.0)),
            minute_rate=float(row.get(MINUTE, math.nan)),
            minute_rate_upper=float(row.get(f"{MINUTE}_upper", math.nan)),
        )

    @property
    def label(self) -> str:
        """``Min 1, Max 4``, ``Min 2, no auto-scaling`` or ``oracle, Min 1``."""
        if self.oracle_bound:
            return f"oracle, Min {self.min_units}"
        if self.max_units is None:
            return f"Min {self.min_units}, no auto-scaling"
        return f"Min {self.min_units}, Max {self.max_units}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return plain_dict(
            {
                "min_units": self.min_units,
                "max_units": self.max_units,
                "replications": self.replications,
                "monthly_cost_usd": self.monthly_cost_usd,
                "monthly_cost_interval_usd": list(self.monthly_cost_interval_usd),
                "throttle_rate": self.throttle_rate,
                "throttle_rate_upper": self.throttle_rate_upper,
                "latency_p99_s": self.latency_p99_s,
                "latency_p99_upper_s": self.latency_p99_upper_s,
                "mean_units": self.mean_units,
                "peak_units": self.peak_units,
                "throttle_rate_worst_hour": _finite(self.worst_hour_rate),
                "throttle_rate_worst_hour_upper": _finite(self.worst_hour_rate_upper),
                "throttle_rate_minute_p99": _finite(self.minute_p99_rate),
                "throttle_rate_minute_p99_upper": _finite(self.minute_p99_rate_upper),
                "minute_percentile": self.minute_percentile,
                "throttle_rate_minute_percentile": _finite(self.minute_rate),
                "throttle_rate_minute_percentile_upper": _finite(self.minute_rate_upper),
            }
        )


@dataclass(frozen=True)
class Difference:
    """``other`` minus the recommended configuration, paired by replication (same seeds).

    With common random numbers the paired difference is far less noisy than the
    difference of two separate means.

    Attributes
    ----------
    other : Configuration
        The configuration compared with the recommendation.
    monthly_cost_usd : float
        Mean difference in monthly cost (positive: ``other`` costs more).
    monthly_cost_interval_usd : (float, float)
        Its two-sided confidence interval.
    throttle_rate : float
        Mean difference in throttle rate (negative: ``other`` throttles less).
    throttle_rate_interval : (float, float)
        Its two-sided confidence interval.
    """

    other: Configuration
    monthly_cost_usd: float
    monthly_cost_interval_usd: tuple[float, float]
    throttle_rate: float
    throttle_rate_interval: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return plain_dict(
            {
                **self.other.to_dict(),
                "monthly_cost_difference_usd": self.monthly_cost_usd,
                "monthly_cost_difference_interval_usd": list(self.monthly_cost_interval_usd),
                "throttle_rate_difference": self.throttle_rate,
                "throttle_rate_difference_interval": list(self.throttle_rate_interval),
            }
        )


@dataclass(frozen=True)
class Recommendation:
    """What to start the model with, how sure that is, and what it costs.

    Attributes
    ----------
    met : bool
        Some configuration meets the SLO (with ``--vary``: in every variant).
    choice : Configuration or None
        The cheapest configuration that meets the SLO. With ``variants``, its figures are
        the worst case over the variants.
    runner_up : Configuration or None
        The next cheapest that meets the SLO.
    one_more_max_unit : Difference or None
        The choice with Max + 1 (Min + 1 for no auto-scaling) against the choice.
    oracle : Configuration or None
        The zero-throttle oracle for the choice's Min (perfect foresight, no delay, no Max):
        the least a configuration with that Min costs while throttling nothing, not a floor
        for configurations that throttle within the SLO.
    oracle_gap : Difference or None
        The choice against the oracle (``other`` is the choice; positive: it costs more).
    closest : Configuration or None
        When nothing meets the SLO: the configuration with the lowest throttle bound.
    binding : tuple of str
        When nothing meets the SLO: the constraints that cannot be met.
    advice : str
        When nothing meets the SLO: what range to try.
    max_throttle_rate, max_p99_latency_s, confidence : float, float or None, float
        The SLO and the confidence it must hold at.
    values : dict
        The varied keys' values this recommendation is for (empty without ``--vary``).
    variants : tuple of Recommendation
        One recommendation per combination of varied values.
    start_model_request : dict or None
        The StartModel parameters for the choice.
    """

    met: bool
    choice: Configuration | None
    max_throttle_rate: float
    max_p99_latency_s: float | None
    confidence: float
    runner_up: Configuration | None = None
    one_more_max_unit: Difference | None = None
    oracle: Configuration | None = None
    oracle_gap: Difference | None = None
    closest: Configuration | None = None
    binding: tuple[str, ...] = ()
    advice: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    variants: tuple[Recommendation, ...] = ()
    start_model_request: dict[str, Any] | None = None
    max_worst_hour_rate: float | None = None
    max_minute_rate: float | None = None
    minute_percentile: float = 99.0

    @property
    def slo(self) -> Slo:
        """The SLO this recommendation is for."""
        return Slo(
            self.max_throttle_rate,
            self.max_p99_latency_s,
            self.confidence,
            self.max_worst_hour_rate,
            self.max_minute_rate,
            self.minute_percentile,
        )

    @property
    def depends_on(self) -> list[str]:
        """Varied keys whose values change the recommended Min or Max."""
        picks = {
            (v.choice.min_units, v.choice.max_units) if v.choice else None for v in self.variants
        }
        if len(picks) <= 1:
            return []
        keys = list(self.variants[0].values)
        out = []
        for key in keys:
            # The key matters if two variants that differ only in it pick differently.
            groups: dict[str, set[tuple[int, int | None] | None]] = {}
            for v in self.variants:
                rest = repr(sorted((k, str(x)) for k, x in v.values.items() if k != key))
                pick = (v.choice.min_units, v.choice.max_units) if v.choice else None
                groups.setdefault(rest, set()).add(pick)
            if any(len(p) > 1 for p in groups.values()):
                out.append(key)
        return out

    @property
    def max_units_changes(self) -> bool:
        """The recommended Max differs between variants."""
        picks = {v.choice.max_units if v.choice else "none" for v in self.variants}
        return len(picks) > 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the chosen configuration's figures at the top level."""
        c = self.choice
        out: dict[str, Any] = {
            "met": self.met,
            "min_units": c.min_units if c else None,
            "max_units": c.max_units if c else None,
            "monthly_cost_usd": c.monthly_cost_usd if c else None,
            "monthly_cost_interval_usd": list(c.monthly_cost_interval_usd) if c else None,
            "throttle_rate": c.throttle_rate if c else None,
            "throttle_rate_upper": c.throttle_rate_upper if c else None,
            "latency_p99_s": c.latency_p99_s if c else None,
            "latency_p99_upper_s": c.latency_p99_upper_s if c else None,
            "mean_units": c.mean_units if c else None,
            "peak_units": c.peak_units if c else None,
            "throttle_rate_worst_hour": _finite(c.worst_hour_rate) if c else None,
            "throttle_rate_worst_hour_upper": _finite(c.worst_hour_rate_upper) if c else None,
            "throttle_rate_minute_p99": _finite(c.minute_p99_rate) if c else None,
            "throttle_rate_minute_p99_upper": _finite(c.minute_p99_rate_upper) if c else None,
            "throttle_rate_minute_percentile": _finite(c.minute_rate) if c else None,
            "throttle_rate_minute_percentile_upper": _finite(c.minute_rate_upper) if c else None,
            "replications": c.replications if c else None,
            **self.slo.to_dict(),
            "hours_per_month": HOURS_PER_MONTH,
            "start_model_request": self.start_model_request,
            "runner_up": self.runner_up.to_dict() if self.runner_up else None,
            "one_more_max_unit": (
                self.one_more_max_unit.to_dict() if self.one_more_max_unit else None
            ),
            "oracle": None,
            "binding": list(self.binding),
            "advice": self.advice or None,
            "closest": self.closest.to_dict() if self.closest else None,
        }
        if self.oracle is not None and self.oracle_gap is not None:
            gap = self.oracle_gap
            out["oracle"] = {
                **self.oracle.to_dict(),
                "gap_usd": gap.monthly_cost_usd,
                "gap_interval_usd": list(gap.monthly_cost_interval_usd),
                "gap_percent": _percent(gap.monthly_cost_usd, self.oracle.monthly_cost_usd),
            }
        if self.values:
            out["values"] = self.values
        if self.variants:
            out["variants"] = [
                {"values": v.values, **{k: x for k, x in v.to_dict().items() if k != "values"}}
                for v in self.variants
            ]
            out["depends_on"] = self.depends_on
            out["max_units_changes"] = self.max_units_changes
        return plain_dict(out)


def recommend(
    table: pd.DataFrame,
    max_throttle_rate: float,
    *,
    max_p99_latency_s: float | None = None,
    confidence: float = 0.95,
    scenario: Scenario | None = None,
    max_worst_hour_rate: float | None = None,
    max_minute_rate: float | None = None,
    minute_percentile: float = 99.0,
) -> Recommendation:
    """The cheapest configuration of a sweep whose SLO holds at ``confidence``.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`lfvsim.experiments.sweep` table with at least two replications per
        configuration; with ``oracle=True`` it also gives the oracle gap.
    max_throttle_rate : float
        Target: the throttle rate's upper confidence bound must be at most this.
    max_p99_latency_s : float, optional
        Target for the upper confidence bound of the p99 latency (s).
    confidence : float
        Confidence of the one-sided bounds (and level of the two-sided intervals).
    scenario : Scenario, optional
        Gives the StartModel request for the choice.
    max_worst_hour_rate, max_minute_rate : float, optional
        Targets for the upper bounds of the worst hour's throttle rate and of the
        ``minute_percentile``-th percentile of per-minute throttle rates (see :class:`Slo`).
    minute_percentile : float
        Which percentile of per-minute throttle rates (0 < P < 100); the table must have
        it (see :func:`minute_column`).

    Returns
    -------
    Recommendation
        With varied keys in the table, one recommendation per combination in
        ``variants``; the top-level choice is then the cheapest configuration (by its
        worst-case cost) that meets the SLO in every variant.
    """
    slo = Slo(
        max_throttle_rate,
        max_p99_latency_s,
        confidence,
        max_worst_hour_rate,
        max_minute_rate,
        minute_percentile,
    )
    if table.empty:
        raise InputError("the sweep has no runs; widen --min / --max")
    if int(table.groupby("seed").ngroups) < 2:
        raise InputError(
            "--replications 1: an SLO bound needs at least 2 replications; use 5 or more"
        )
    _check_busy_hour_columns(table, slo)
    agg = aggregate(table, confidence, slo.minute_percentile)
    keys = vary_columns(table)
    if not keys:
        rec = _decide(agg, table, slo, {})
        return _with_request(rec, scenario)
    variants = []
    for values, _ in agg.groupby(keys, sort=False):
        values = values if isinstance(values, tuple) else (values,)
        values_dict = {k: _plain(v) for k, v in zip(keys, values, strict=True)}
        mask_a = np.logical_and.reduce([agg[k] == v for k, v in zip(keys, values, strict=True)])
        mask_t = np.logical_and.reduce([table[k] == v for k, v in zip(keys, values, strict=True)])
        variants.append(_decide(agg[mask_a], table[mask_t], slo, values_dict))
    return _with_request(_robust(agg, keys, variants, slo), scenario)


def check_slo(max_throttle_rate: float, max_p99_latency_s: float | None, confidence: float) -> None:
    """Raise :class:`lfvsim.InputError` for an SLO or confidence level out of range."""
    if not 0 <= max_throttle_rate < 1:
        raise InputError(
            f"--max-throttle-rate {max_throttle_rate}: give a fraction in [0, 1), "
            "e.g. 0.001 for 0.1%"
        )
    if max_p99_latency_s is not None and not max_p99_latency_s > 0:
        raise InputError(f"--max-p99-latency-s {max_p99_latency_s}: give a positive time (s)")
    _check_confidence(confidence)


def _check_confidence(confidence: float) -> None:
    if not 0.5 <= confidence < 1:
        raise InputError(f"--confidence {confidence}: give a level in [0.5, 1), e.g. 0.95")


def _with_request(rec: Recommendation, scenario: Scenario | None) -> Recommendation:
    if scenario is None or rec.choice is None:
        return rec
    request = start_model_request(scenario, units=(rec.choice.min_units, rec.choice.max_units))
    return replace(rec, start_model_request=request)


def _rank(c: Configuration) -> tuple[float, float, int, int, int]:
    fixed = c.max_units is None
    return (
        c.monthly_cost_usd,
        c.throttle_rate_upper,
        c.min_units,
        0 if fixed else 1,
        c.max_units or 0,
    )


def slo_checks(agg: pd.DataFrame, slo: Slo) -> dict[str, pd.Series]:
    """Per target of ``slo`` given, which rows of :func:`aggregate` meet it by upper bound.

    Keys: ``throttle_rate``, then ``worst_hour``, ``minute`` and ``latency_p99`` for the
    targets set. ``agg`` must have been aggregated at ``slo``'s confidence and minute
    percentile. A bound that cannot be computed (NaN: one replication) does not meet.
    """
    checks = {"throttle_rate": agg["throttle_rate_upper"] <= slo.max_throttle_rate}
    if slo.max_worst_hour_rate is not None:
        checks["worst_hour"] = agg[f"{WORST_HOUR}_upper"] <= slo.max_worst_hour_rate
    if slo.max_minute_rate is not None:
        checks["minute"] = agg[f"{MINUTE}_upper"] <= slo.max_minute_rate
    if slo.max_p99_latency_s is not None:
        checks["latency_p99"] = agg["latency_p99_upper_s"] <= slo.max_p99_latency_s
    return checks


def _meets(agg: pd.DataFrame, slo: Slo) -> tuple[pd.Series, pd.Series]:
    """Configurations meeting the throttle targets (whole run and busy hour), and p99."""
    checks = slo_checks(agg, slo)
    ok_rate = checks["throttle_rate"]
    for name in ("worst_hour", "minute"):
        if name in checks:
            ok_rate = ok_rate & checks[name]
    ok_p99 = checks.get("latency_p99", ok_rate | True)
    return ok_rate, ok_p99


def _check_busy_hour_columns(table: pd.DataFrame, slo: Slo) -> None:
    if slo.max_worst_hour_rate is not None and WORST_HOUR not in table:
        raise InputError(
            f"--max-worst-hour-rate: this sweep has no '{WORST_HOUR}' figures (written by an "
            "older lfvsim); run the sweep again"
        )
    if slo.max_minute_rate is None or minute_column(table, slo.minute_percentile) is not None:
        return
    p = slo.minute_percentile
    if p == 99.0:
        raise InputError(
            f"--max-minute-rate: this sweep has no '{MINUTE_P99}' figures (written by an "
            "older lfvsim); run the sweep again"
        )
    raise InputError(
        f"--minute-percentile {p:g}: this sweep's runs did not measure the {p:g}th "
        f"percentile of per-minute throttle rates; run the sweep again with "
        f"--minute-percentile {p:g}, or use --minute-percentile 99"
    )


#: Columns of a sweep file that store the SLO it was searched for.
_SLO_COLUMNS = {
    "max_throttle_rate": "slo_max_throttle_rate",
    "max_p99_latency_s": "slo_max_p99_latency_s",
    "confidence": "slo_confidence",
    "max_worst_hour_rate": "slo_max_worst_hour_rate",
    "max_minute_rate": "slo_max_minute_rate",
    "minute_percentile": "slo_minute_percentile",
}


def store_slo(table: pd.DataFrame, slo: Slo) -> pd.DataFrame:
    """``table`` with the SLO in columns, so that a sweep file carries it."""
    out = table.copy()
    for name, column in _SLO_COLUMNS.items():
        value = getattr(slo, name)
        out[column] = math.nan if value is None else float(value)
    out.attrs.update(table.attrs)
    return out


def stored_slo(table: pd.DataFrame) -> Slo | None:
    """The SLO a sweep table stores (:func:`store_slo`), or None."""
    if _SLO_COLUMNS["max_throttle_rate"] not in table or table.empty:
        return None
    row = table.iloc[0]
    values = {name: row.get(column, math.nan) for name, column in _SLO_COLUMNS.items()}
    given = {k: (None if pd.isna(v) else float(v)) for k, v in values.items()}
    if given["max_throttle_rate"] is None:
        return None
    return Slo(
        given["max_throttle_rate"],
        given["max_p99_latency_s"],
        given["confidence"] or 0.95,
        given["max_worst_hour_rate"],
        given["max_minute_rate"],
        given["minute_percentile"] or 99.0,
    )


def best_cost(table: pd.DataFrame, slo: Slo) -> float | None:
    """Mean monthly cost of the cheapest configuration of ``table`` that meets ``slo``.

    None when none does (or with fewer than two replications: no bound). Oracle rows are
    not configurations and never count.
    """
    table = table[~table["oracle_bound"]]
    if table.empty or int(table["replication"].nunique()) < 2:
        return None
    _check_busy_hour_columns(table, slo)
    agg = aggregate(table, slo.confidence, slo.minute_percentile)
    ok_rate, ok_p99 = _meets(agg, slo)
    ok = agg[ok_rate & ok_p99]
    return None if ok.empty else float(ok["monthly_cost_usd"].min())


def _decide(
    agg: pd.DataFrame, table: pd.DataFrame, slo: Slo, values: dict[str, Any]
) -> Recommendation:
    configs = agg[~agg["oracle_bound"]]
    ok_rate, ok_p99 = _meets(configs, slo)
    ranked = sorted(
        (Configuration.from_row(r) for _, r in configs[ok_rate & ok_p99].iterrows()), key=_rank
    )
    base = _empty(slo, met=bool(ranked), choice=ranked[0] if ranked else None, values=values)
    if not ranked:
        binding, advice, closest = _explain(configs, ok_rate, ok_p99, slo, table)
        return replace(base, binding=binding, advice=advice, closest=closest)
    choice = ranked[0]
    next_key = (
        (choice.min_units + 1, None)
        if choice.max_units is None
        else (choice.min_units, choice.max_units + 1)
    )
    one_more = _find(configs, *next_key)
    oracle_rows = agg[agg["oracle_bound"] & (agg["min_units"] == choice.min_units)]
    oracle = Configuration.from_row(oracle_rows.iloc[0]) if len(oracle_rows) else None
    return replace(
        base,
        runner_up=next((c for c in ranked[1:] if not _same_runs(table, choice, c)), None),
        one_more_max_unit=(
            None if one_more is None else _difference(table, choice, one_more, slo.confidence)
        ),
        oracle=oracle,
        oracle_gap=None if oracle is None else _difference(table, oracle, choice, slo.confidence),
    )


def _same_runs(table: pd.DataFrame, a: Configuration, b: Configuration) -> bool:
    """True when ``a`` and ``b`` run exactly alike, so one is no alternative to the other.

    Same Min and the same runs: rows reused from the same Max (``reused_from_max_units``),
    Max equal to Min beside no auto-scaling (both hold Min units throughout), or runs whose
    figures match replication by replication (a Max that never came into play).
    """
    if a.min_units != b.min_units:
        return False
    if _source(table, a) == _source(table, b):
        return True
    columns = [c for c in _SAME_RUN_COLUMNS if c in table]
    ra, rb = (_runs(table, c).sort_index() for c in (a, b))
    if list(ra.index) != list(rb.index):
        return False
    return bool((ra[columns].to_numpy() == rb[columns].to_numpy()).all())


#: Figures of a run that two configurations with the same runs share exactly.
_SAME_RUN_COLUMNS = ("requests", "throttled", "latency_p99_s", "unit_hours", "peak_units")


def _source(table: pd.DataFrame, c: Configuration) -> int:
    """The Max whose runs ``c`` has (itself unless reused; Min for no auto-scaling)."""
    if c.max_units is None or c.max_units == c.min_units:
        return c.min_units
    if "reused_from_max_units" in table:
        rows = _runs(table, c)["reused_from_max_units"].dropna()
        if len(rows):
            return int(rows.iloc[0])
    return c.max_units


def _find(agg: pd.DataFrame, min_units: int, max_units: int | None) -> Configuration | None:
    mask = (agg["min_units"] == min_units) & ~agg["oracle_bound"]
    mask &= agg["max_units"].isna() if max_units is None else (agg["max_units"] == max_units)
    rows = agg[mask.fillna(False).astype(bool)]
    return Configuration.from_row(rows.iloc[0]) if len(rows) else None


def _runs(table: pd.DataFrame, c: Configuration) -> pd.DataFrame:
    mask = (table["min_units"] == c.min_units) & (table["oracle_bound"] == c.oracle_bound)
    if c.max_units is None:
        mask &= table["max_units"].isna()
    else:
        mask &= table["max_units"] == c.max_units
    return table[mask.fillna(False).astype(bool)].set_index("replication")


def _difference(
    table: pd.DataFrame, base: Configuration, other: Configuration, confidence: float
) -> Difference:
    """``other - base`` per replication (same seeds), with its confidence interval."""
    a, b = _runs(table, base), _runs(table, other)
    common = a.index.intersection(b.index)
    cost = b.loc[common, "monthly_cost_usd"] - a.loc[common, "monthly_cost_usd"]
    rate = b.loc[common, "throttle_rate"] - a.loc[common, "throttle_rate"]
    c_mean, c_lo, c_hi = mean_interval(cost, confidence)
    r_mean, r_lo, r_hi = mean_interval(rate, confidence)
    return Difference(other, c_mean, (c_lo, c_hi), r_mean, (r_lo, r_hi))


CAUSES = {
    "throttled_scaling": "scaling",
    "throttled_at_max": "at_max",
    "throttled_burst": "burst",
    "throttled_capacity_lost": "capacity_lost",
}


def dominant_cause(runs: pd.DataFrame) -> tuple[str, float] | None:
    """The cause of most throttled requests over ``runs`` and its share, or None.

    None when the table has no cause columns (an older sweep) or nothing was throttled.
    """
    present = [c for c in CAUSES if c in runs]
    if not present:
        return None
    totals = {c: float(runs[c].sum()) for c in present}
    total = sum(totals.values())
    if total <= 0:
        return None
    top = max(totals, key=lambda c: totals[c])
    return CAUSES[top], totals[top] / total


def _explain(
    configs: pd.DataFrame,
    ok_rate: pd.Series,
    ok_p99: pd.Series,
    slo: Slo,
    table: pd.DataFrame | None = None,
) -> tuple[tuple[str, ...], str, Configuration | None]:
    """Which constraint binds, and what to try: following the dominant throttling cause."""
    rate, p99 = slo.max_throttle_rate, slo.max_p99_latency_s
    binding = []
    if not ok_rate.any():
        binding.append(_throttle_names(slo))
    if not ok_p99.any():
        binding.append("p99 latency")
    if not binding:
        binding.append("throttle rate and p99 latency together")
    if configs.empty:
        return tuple(binding), "widen --min / --max", None
    closest = Configuration.from_row(configs.loc[configs["throttle_rate_upper"].idxmin()])
    top_max = configs["max_units"].max()
    top_min = int(configs["min_units"].max())
    advice = []
    if not ok_rate.any():
        near = configs[configs["throttle_rate"] <= rate]
        cause = None if table is None else dominant_cause(_runs(table, closest))
        if len(near) and slo.max_worst_hour_rate is None and slo.max_minute_rate is None:
            c = Configuration.from_row(near.sort_values("monthly_cost_usd").iloc[0])
            advice.append(
                f"the mean throttle rate of {c.label} ({_pct(c.throttle_rate)}) meets the "
                f"target but its upper bound ({_pct(c.throttle_rate_upper)}) does not: run "
                f"more replications (--replications {2 * c.replications})"
            )
        elif cause is not None:
            advice.append(_cause_advice(closest, cause, top_min, top_max))
        elif (
            closest.max_units is not None
            and not pd.isna(top_max)
            and closest.max_units == int(top_max)
        ):
            advice.append(
                f"throttling still falls as Max grows (lowest bound "
                f"{_pct(closest.throttle_rate_upper)} at {closest.label}): try "
                f"--max {closest.min_units}..{2 * int(top_max)}"
            )
        else:
            advice.append(
                f"a larger Max does not lower throttling further (lowest bound "
                f"{_pct(closest.throttle_rate_upper)} at {closest.label}, at most "
                f"{closest.peak_units} units in service): the autoscaler adds units too late "
                f"or not at all for the bursts, so raise Min (try --min {top_min + 1}.."
                f"{2 * top_min + 1}) or question its assumptions (e.g. --vary "
                "autoscaler.target_percent=30,50)"
            )
    if not ok_p99.any():
        fastest = configs.loc[configs["latency_p99_upper_s"].idxmin()]
        advice.append(
            f"the lowest p99 latency bound is {fastest['latency_p99_upper_s']:.3g} s "
            f"({Configuration.from_row(fastest).label}), above {p99:g} s: more units only "
            "shorten waiting, not the service time itself; relax --max-p99-latency-s"
        )
    if ok_rate.any() and ok_p99.any():
        advice.append(
            "configurations meet the throttle target or the latency target but never both; "
            "widen --min / --max"
        )
    return tuple(binding), "; ".join(advice), closest


def _throttle_names(slo: Slo) -> str:
    names = ["throttle rate"]
    if slo.max_worst_hour_rate is not None:
        names.append("worst-hour throttle rate")
    if slo.max_minute_rate is not None:
        names.append("per-minute throttle rate")
    return " / ".join(names)


def _cause_advice(
    closest: Configuration, cause: tuple[str, float], top_min: int, top_max: Any
) -> str:
    """What to change for the cause of most of the closest configuration's throttling."""
    name, share = cause
    head = (
        f"{100 * share:.0f}% of the throttling of the closest configuration ({closest.label}, "
        f"throttle rate {_pct(closest.throttle_rate)}, upper bound "
        f"{_pct(closest.throttle_rate_upper)})"
    )
    top = closest.max_units or closest.min_units
    if not pd.isna(top_max):
        top = max(int(top_max), closest.min_units)
    return f"{head} {cause_remedy(name, top_min, top)}"


def cause_remedy(cause: str, top_min: int, top_max: int) -> str:
    """Where throttling of ``cause`` comes from and what to change, as a predicate.

    ``cause`` is one of the values of :data:`CAUSES`; ``top_min`` and ``top_max`` are the
    largest Min and Max tried, so the ranges suggested start above them. It reads after a
    subject such as "80% of the throttling": "... comes with every unit up to Max busy:
    raise Max (try --max 4..9)". ``recommend`` and the report share this wording.
    """
    more_min = f"--min {top_min + 1}..{2 * top_min + 1}"
    if cause == "at_max":
        return (
            f"comes with every unit up to Max busy: raise Max (try --max "
            f"{top_max + 1}..{2 * top_max + 1})"
        )
    if cause == "scaling":
        return (
            "comes while units are wanted but not yet serving: the autoscaler reacts too "
            f"late for the bursts, so raise Min (try {more_min}) or schedule more units "
            "ahead of the busy hours"
        )
    if cause == "burst":
        return (
            "comes in steady state, with no change of units wanted: leave more headroom, a "
            "lower target utilisation (e.g. --vary autoscaler.target_percent=30,50) or a "
            f"higher Min (try {more_min})"
        )
    return (
        "comes from lost capacity (unit failures, zone outages): spread more units over "
        f"zones with a higher Min (try {more_min})"
    )


def recommend_for(
    table: pd.DataFrame, slo: Slo, scenario: Scenario | None = None
) -> Recommendation:
    """:func:`recommend` for the whole of ``slo`` (busy-hour targets and percentile included)."""
    return recommend(
        table,
        slo.max_throttle_rate,
        max_p99_latency_s=slo.max_p99_latency_s,
        confidence=slo.confidence,
        scenario=scenario,
        max_worst_hour_rate=slo.max_worst_hour_rate,
        max_minute_rate=slo.max_minute_rate,
        minute_percentile=slo.minute_percentile,
    )


def _empty(slo: Slo, **fields: Any) -> Recommendation:
    return Recommendation(
        max_throttle_rate=slo.max_throttle_rate,
        max_p99_latency_s=slo.max_p99_latency_s,
        confidence=slo.confidence,
        max_worst_hour_rate=slo.max_worst_hour_rate,
        max_minute_rate=slo.max_minute_rate,
        minute_percentile=slo.minute_percentile,
        **fields,
    )


def _robust(
    agg: pd.DataFrame, keys: list[str], variants: list[Recommendation], slo: Slo
) -> Recommendation:
    """The cheapest configuration (by worst-case cost) meeting the SLO in every variant."""
    configs = agg[~agg["oracle_bound"]].copy()
    ok_rate, ok_p99 = _meets(configs, slo)
    configs["ok"] = ok_rate & ok_p99
    candidates = []
    for _, g in configs.groupby(["min_units", "max_units"], dropna=False, sort=False):
        if not g["ok"].all():
            continue
        worst = g.loc[g["monthly_cost_usd"].idxmax()]
        c = Configuration.from_row(worst)
        c = replace(
            c,
            throttle_rate=float(g["throttle_rate"].max()),
            throttle_rate_upper=float(g["throttle_rate_upper"].max()),
            latency_p99_s=float(g["latency_p99_s"].max()),
            latency_p99_upper_s=float(g["latency_p99_upper_s"].max()),
            peak_units=int(g["peak_units"].max()),
        )
        if WORST_HOUR in g:
            c = replace(
                c,
                worst_hour_rate=float(g[WORST_HOUR].max()),
                worst_hour_rate_upper=float(g[f"{WORST_HOUR}_upper"].max()),
            )
        if MINUTE_P99 in g:
            c = replace(
                c,
                minute_p99_rate=float(g[MINUTE_P99].max()),
                minute_p99_rate_upper=float(g[f"{MINUTE_P99}_upper"].max()),
            )
        if MINUTE in g:
            c = replace(
                c,
                minute_rate=float(g[MINUTE].max()),
                minute_rate_upper=float(g[f"{MINUTE}_upper"].max()),
            )
        candidates.append(c)
    candidates.sort(key=_rank)
    base = _empty(
        slo,
        met=bool(candidates),
        choice=candidates[0] if candidates else None,
        runner_up=candidates[1] if len(candidates) > 1 else None,
        variants=tuple(variants),
    )
    if candidates:
        return base
    failing = [v for v in variants if not v.met]
    if failing:
        v = failing[0]
        where = ", ".join(f"{k}={x}" for k, x in v.values.items())
        return replace(
            base,
            binding=v.binding,
            advice=f"with {where}: {v.advice}",
            closest=v.closest,
        )
    return replace(
        base,
        binding=("the SLO in every variant",),
        advice="no single configuration meets the SLO for every varied value; widen --max",
    )


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.3g}%"


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else math.nan
