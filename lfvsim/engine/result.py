"""The result of one run: a per-minute timeline named like CloudWatch, and a summary.

:func:`lfvsim.engine.assemble.build_result` fills it from the engine's arrays.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lfvsim.atomic import atomic_directory
from lfvsim.engine.traffic import horizon_of
from lfvsim.ignored import ignored_notes
from lfvsim.machine_output import stamped, stamped_table
from lfvsim.scenario import Scenario, render_toml
from lfvsim.traces import Trace

__all__ = ["Result", "Summary", "hist_rows", "histogram_quantiles", "notes_for"]

LATENCY_NOTE = (
    "latency percentiles are estimated from log-spaced histograms: within 0.5% for the run, "
    "within 6% per minute; means are exact"
)

HOURLY_HIST_AFTER_MINUTES = 31 * 24 * 60
"""Runs longer than this keep latency histograms per hour, not per minute: a year's
per-minute histograms would take 640 MiB, its hourly ones 11 MiB."""


def hist_rows(minutes: int) -> int:
    """Rows of the per-minute latency histogram: one a minute, or one an hour if longer."""
    return minutes if minutes <= HOURLY_HIST_AFTER_MINUTES else -(-minutes // 60)


@dataclass(frozen=True)
class Summary:
    """Headline figures of one run. Counts are requests; times are seconds."""

    requests: int
    """Requests made by callers (DetectAnomalies calls, first attempts)."""
    attempts: int
    """Calls offered to the model: requests plus retries."""
    retries: int
    """Retry attempts made by callers after a throttle."""
    served: int
    """Attempts accepted and answered (SuccessfulRequestCount)."""
    throttled: int
    """Attempts refused because every slot was busy (ThrottledCount)."""
    unavailable: int
    """Attempts refused because the model was not hosted, or still waiting in the queue when
    it stopped (except in batch mode at the end of the run: see ``waiting_at_end``)."""
    throttled_at_max: int
    """Throttled while desired units were at Max and the autoscaler wanted more."""
    throttled_scaling: int
    """Throttled while more units were wanted than served (provisioning), or while the
    autoscaler alarm accumulated datapoints above target below Max."""
    throttled_burst: int
    """Throttled in steady state: the autoscaler wanted no change (or there is none)."""
    throttled_capacity_lost: int
    """Throttled while units lost to a failure or zone outage were not yet replaced."""
    unavailable_not_hosted: int
    """Unavailable because the model was not hosted (all of ``unavailable``)."""
    throttle_rate: float
    """throttled / attempts (0 when there were none)."""
    throttle_rate_worst_hour: float
    """Highest throttled / attempts over clock-aligned hours with attempts (0 if none)."""
    throttle_rate_minute_p99: float
    """99th percentile over minutes with attempts of throttled / attempts (empirical)."""
    minute_percentile: float
    """The percentile ``throttle_rate_minute_percentile`` is (99 unless asked otherwise)."""
    throttle_rate_minute_percentile: float
    """The ``minute_percentile``-th percentile over minutes with attempts of throttled /
    attempts (empirical, exact: a rate some minute had)."""
    first_attempt_throttle_rate: float
    """First attempts throttled / requests."""
    failure_rate: float
    """Requests that finally failed (throttled on their last attempt, or unavailable) /
    requests."""
    retrying_at_end: int
    """Requests still waiting for a retry when the simulation ended (no final outcome)."""
    latency_mean_s: float
    """Mean time from arrival to answer of served requests, waiting included."""
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    latency_max_s: float
    wait_mean_s: float
    """Mean time served requests waited for a slot (0 when throttling at once)."""
    unit_hours: float
    """Billed inference-unit hours (metered in whole granularity intervals per unit)."""
    cost_usd: float
    """unit_hours x price_per_unit_hour_usd."""
    cost_per_1000_images_usd: float
    """cost_usd per 1,000 served requests (NaN when none was served)."""
    price_per_unit_hour_usd: float
    mean_units: float
    """Time-average of InServiceInferenceUnits."""
    peak_units: int
    """Most units in service at once."""
    peak_wanted_units: int
    """Most units the autoscaler wanted before capping at Max (with no autoscaler: the most
    desired); a Max at or above it never bound, so a larger Max gives the same run."""
    scale_out_events: int
    scale_in_events: int
    duration_h: float
    """Simulated time."""
    hosted_h: float
    """Time the model was HOSTED."""
    min_units: int
    max_units: int | None
    """MaxInferenceUnits, None when auto-scaling is off."""
    policy: str
    seed: int
    waiting_at_end: int = 0
    """Batch mode: requests still waiting for a batch when the simulation ended (no outcome
    yet: neither served nor failed)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values, JSON-ready (NaN becomes None)."""
        return {k: _plain(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Result:
    """Everything one run produced.

    Attributes
    ----------
    summary : Summary
        Headline figures.
    timeline : pandas.DataFrame
        One row per minute, indexed by UTC time, with CloudWatch names where CloudWatch
        has the metric: ``SuccessfulRequestCount``, ``ThrottledCount``,
        ``InServiceInferenceUnits`` (time-average), ``DesiredInferenceUnits`` (at the end
        of the minute), ``MinInferenceUnits``, ``MaxInferenceUnits``; and
        ``offered_requests`` (attempts), ``retried_requests``, ``unavailable_requests``,
        ``waiting_requests`` (batch mode: still waiting at the end, by arrival minute),
        ``hosted`` (fraction of the minute the model was HOSTED), ``billed_units``
        (unit-minutes billed in the minute: their sum / 60 is ``unit_hours``),
        ``utilization`` (busy / in-service slot time, 0-1), ``latency_p50_s``,
        ``latency_p99_s``; and the throttles by cause ``throttled_at_max``,
        ``throttled_scaling``, ``throttled_burst``, ``throttled_capacity_lost`` (they add
        up to ``ThrottledCount``).
    units : pandas.DataFrame
        One row per inference unit: its zone, when it was billed from, served from,
        retired and drained, billed to, why it ended, and how many requests it served.
    events : pandas.DataFrame
        One row per unit failure or zone outage: zone, start and end (s), units lost,
        unit-seconds of capacity lost, and the attempts offered and throttled meanwhile.
    scenario : Scenario
        The scenario as simulated.
    seed : int
        The seed; the same seed gives the same result.
    trace_source : str
        Where the replayed traffic came from.
    notes : list of str
        What is approximate or assumed in these numbers.
    requests : pandas.DataFrame or None
        One row per request when ``record_requests`` was set.
    """

    summary: Summary
    timeline: pd.DataFrame
    units: pd.DataFrame
    events: pd.DataFrame
    scenario: Scenario
    seed: int
    trace_source: str = ""
    notes: list[str] = field(default_factory=list)
    requests: pd.DataFrame | None = None

    def to_json(self) -> str:
        """The summary and notes as one JSON object, with its ``schema_version``."""
        return json.dumps(
            stamped({**self.summary.to_dict(), "trace": self.trace_source, "notes": self.notes}),
            indent=2,
        )

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``timeline.csv``, ``units.csv``, ``events.csv``, ``summary.json`` and
        ``scenario.toml``.

        Files are written to a temporary folder beside ``directory``, with
        ``lfvsim-manifest.json`` listing them, and swapped in whole when all are complete:
        an interrupted write leaves the old folder or the new one, never a mix. A folder
        holding files lfvsim did not write is refused (see :mod:`lfvsim.atomic`).
        """
        with atomic_directory(directory) as staged:
            timeline = stamped_table(self.timeline)
            timeline.to_csv(staged / "timeline.csv", index_label="timestamp")
            stamped_table(self.units).to_csv(staged / "units.csv", index=False)
            stamped_table(self.events).to_csv(staged / "events.csv", index=False)
            (staged / "summary.json").write_text(self.to_json() + "\n", encoding="utf-8")
            (staged / "scenario.toml").write_text(render_toml(self.scenario), encoding="utf-8")
            names = sorted(f.name for f in staged.iterdir())
        return [Path(directory) / name for name in names]


def histogram_quantiles(
    counts: np.ndarray, quantiles: list[float], lowest_s: float, per_decade: int
) -> np.ndarray:
    """Quantiles of log-spaced histograms, interpolated inside the bin.

    Parameters
    ----------
    counts : ndarray, shape (..., bins)
        Histogram counts; bin ``b`` covers ``lowest_s * 10**([b, b+1] / per_decade)``.
    quantiles : list of float
        Probabilities in [0, 1].

    Returns
    -------
    ndarray, shape (..., len(quantiles))
        NaN where a histogram is empty.
    """
    counts = np.asarray(counts)
    if counts.ndim == 2 and len(counts) > _CHUNK_ROWS:
        # Row chunks keep the float copies small on long timelines.
        return np.concatenate(
            [
                histogram_quantiles(counts[i : i + _CHUNK_ROWS], quantiles, lowest_s, per_decade)
                for i in range(0, len(counts), _CHUNK_ROWS)
            ]
        )
    counts = counts.astype(float)
    cum = np.cumsum(counts, axis=-1)
    total = cum[..., -1:]
    out = []
    for q in quantiles:
        target = np.maximum(q * total, 1e-12)
        b = np.minimum((cum < target).sum(axis=-1, keepdims=True), counts.shape[-1] - 1)
        before = np.take_along_axis(cum, b, -1) - np.take_along_axis(counts, b, -1)
        inside = np.take_along_axis(counts, b, -1)
        frac = np.clip((target - before) / np.where(inside > 0, inside, 1), 0, 1)
        value = lowest_s * 10 ** ((b + frac) / per_decade)
        out.append(np.where(total > 0, value, np.nan)[..., 0])
    return np.stack(out, axis=-1)


_CHUNK_ROWS = 4096


def notes_for(scenario: Scenario, trace: Trace) -> list[str]:
    """What is approximate or assumed in a run of ``scenario`` on ``trace``."""
    return _scenario_notes(scenario, trace) + list(getattr(trace, "notes", ()))


def _calibrated_notes(scenario: Scenario) -> list[str]:
    """One note per value fitted to a CloudWatch history, in place of its assumption."""
    notes = []
    for dotted, fitted in scenario.calibrated.items():
        section, _, key = dotted.partition(".")
        value = getattr(getattr(scenario, section), key)
        shown = f"{value:g}" if isinstance(value, int | float) else str(value)
        interval = f", {fitted.interval}" if fitted.interval else ""
        notes.append(
            f"calibrated: {dotted} = {shown} from {fitted.source} ({fitted.period}){interval}"
        )
    return notes


def _word(scenario: Scenario, *keys: str) -> str:
    """'calibrated' when every one of ``keys`` was fitted to a history, 'assumed' when none
    was, else which were fitted and which assumed."""
    fitted = [k for k in keys if k in scenario.calibrated]
    if len(fitted) == len(keys):
        return "calibrated"
    if not fitted:
        return "assumed"
    rest = [k for k in keys if k not in fitted]
    return f"calibrated {', '.join(fitted)}, assumed {', '.join(rest)}"


def _past_the_end(scenario: Scenario, trace: Trace) -> list[str]:
    """What the scenario asks for after the simulated span ends, and so does not happen."""
    notes = []
    simulated_h = horizon_of(scenario, trace) / 3600.0
    horizon_h = scenario.simulation.horizon_h
    if horizon_h is not None and horizon_h > simulated_h * (1 + 1e-9):
        notes.append(
            f"simulation.horizon_h = {horizon_h:g} is past the end of the traffic: "
            f"{simulated_h:.4g} h simulated"
        )
    late = [o for o in scenario.failures.outages if o.start_h >= simulated_h]
    if late:
        starts = ", ".join(f"{o.start_h:g} h" for o in late)
        notes.append(
            f"{len(late)} zone outage{'s' if len(late) > 1 else ''} starting at {starts}, "
            f"at or after the {simulated_h:.4g} h simulated, "
            f"{'do' if len(late) > 1 else 'does'} not happen"
        )
    return notes


def _scenario_notes(scenario: Scenario, trace: Trace) -> list[str]:
    notes = [
        LATENCY_NOTE,
        *ignored_notes(scenario),
        *_calibrated_notes(scenario),
        *_past_the_end(scenario, trace),
    ]
    if horizon_of(scenario, trace) > HOURLY_HIST_AFTER_MINUTES * 60.0:
        notes.append(
            f"runs longer than {HOURLY_HIST_AFTER_MINUTES // 1440} days keep latency "
            "histograms per hour: each minute's latency percentiles are its hour's"
        )
    trace_scale = getattr(scenario.traffic, "scale", 1.0)
    if trace_scale != 1.0:
        notes.append(
            f"the trace's traffic is scaled x{trace_scale:g} (--scale / traffic.scale): "
            "every figure is for the scaled traffic"
        )
    if scenario.unit.throttling == "rate":
        u = scenario.unit
        notes.append(
            f"{_word(scenario, 'unit.rate_tps', 'unit.burst')}: a token bucket per unit in "
            f"service, {u.rate_tps:g} requests/s sustained and bursts of {u.burst:g}; requests "
            "throttled when the units' buckets are empty, with no limit on concurrency"
        )
    else:
        notes.append(
            f"{_word(scenario, 'unit.slots', 'unit.latency_mean_s')}: "
            f"{scenario.unit.slots} slots per unit with mean latency "
            f"{scenario.unit.latency_mean_s:g} s ({scenario.unit.nominal_tps:.3g} TPS per unit), "
            f"requests {'throttled' if scenario.unit.when_busy == 'throttle' else 'queued'} "
            "when every slot is busy"
        )
    if scenario.policy == "target_tracking":
        a = scenario.autoscaler
        word = _word(scenario, "autoscaler.target_percent", "autoscaler.provisioning_delay_s")
        notes.append(
            f"{word}: target tracking on {a.metric} at {a.target_percent:g}%, new units serve "
            f"after {a.provisioning_delay_s:g} s (AWS does not publish its auto-scaling rules)"
        )
    hosting = scenario.hosting
    if hosting.mode != "always_on":
        notes.append(
            f"assumed: StartModel takes {hosting.start_delay_s:g} s until the model is HOSTED"
            + ("" if hosting.bill_starting else ", not billed")
            + (
                "; in batch mode calls wait for the next batch and are not throttled"
                if hosting.mode == "batch"
                else ""
            )
        )
    failures = scenario.failures
    if failures.unit_mtbf_h is not None or failures.outages:
        mtbf = (
            f"units fail at random (MTBF {failures.unit_mtbf_h:g} h), "
            if failures.unit_mtbf_h is not None
            else ""
        )
        notes.append(
            f"assumed: {mtbf}a lost unit is replaced after {failures.replacement_delay_s:g} s"
        )
    if scenario.billing.price_per_unit_hour_usd is None:
        notes.append(
            f"assumed: list price USD {scenario.price_per_unit_hour_usd:.2f} per unit-hour "
            f"in {scenario.model.region} (override billing.price_per_unit_hour_usd)"
        )
    return notes


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
