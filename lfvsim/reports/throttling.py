"""The report's account of throttling: by cause, in the worst hour and in the worst minutes.

Each throttled request is counted under the cause in force at its instant (see the
README's "Why requests are throttled"), so the causes add up to the throttled total. The
advice for the dominant cause is the wording ``lfvsim recommend`` prints
(:func:`lfvsim.experiments.recommend.cause_remedy`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from lfvsim.engine.result import Result
from lfvsim.experiments import Recommendation
from lfvsim.experiments.recommend import CAUSES, Configuration, cause_remedy, dominant_cause
from lfvsim.reports.formatting import CAUSE_LABELS, percent, plural
from lfvsim.reports.plotdata import busy_marks, naive_utc
from lfvsim.reports.template import Block, Paragraph, Table

__all__ = ["CAUSE_MEANINGS", "choice_throttling_blocks", "run_throttling_blocks"]

#: What each cause means, for a reader who has not seen the README.
CAUSE_MEANINGS = {
    "throttled_scaling": "more units wanted or being provisioned than serve, or the "
    "autoscaler's alarm counting datapoints",
    "throttled_at_max": "desired units at MaxInferenceUnits and every slot busy",
    "throttled_burst": "steady state: every slot busy, no change of units wanted",
    "throttled_capacity_lost": "units lost to a failure or a zone outage, not yet replaced",
}

_WORST_MINUTES = 5


def run_throttling_blocks(result: Result) -> list[Block]:
    """Why the run's requests were throttled, its worst clock hour and its worst minutes.

    One sentence when nothing was throttled; without the cause table for a run written
    before causes were counted.
    """
    s, timeline = result.summary, result.timeline
    counts = _counts({col: getattr(s, col, None) for col in CAUSE_LABELS})
    if not s.throttled:
        text = f"None of the {s.attempts:,} attempts of the simulated run was throttled."
        if s.unavailable:
            text += f" {_unavailable_text(s.unavailable)}"
        return [Paragraph(text, strong="The simulated run.")]
    blocks: list[Block] = [
        Paragraph(
            f"{s.throttled:,} of {s.attempts:,} attempts ({percent(s.throttle_rate)}) were "
            "throttled. Each is counted under the cause in force at its instant, so the "
            "causes add up to the total."
            + (f" {_unavailable_text(s.unavailable)}" if s.unavailable else ""),
            strong="The simulated run.",
        )
    ]
    if counts is not None:
        blocks.append(_cause_table(counts, s.throttled))
        advice = dominant_cause_text(counts, s.min_units, s.max_units)
        if advice:
            blocks.append(Paragraph(advice, strong="What to change:"))
    if {"offered_requests", "ThrottledCount"} <= set(timeline.columns) and len(timeline):
        blocks += _busy_blocks(result)
    return blocks


def choice_throttling_blocks(
    rec: Recommendation | None, sweep: pd.DataFrame | None, confidence: float
) -> list[Block]:
    """The recommended configuration's throttling over the sweep's replications: by
    cause, in its worst hour and in its worst minutes (nothing without a choice)."""
    if rec is None or rec.choice is None or sweep is None:
        return []
    c = rec.choice
    runs = _choice_runs(sweep, c)
    conf = f"{100 * confidence:g}%"
    throttled = int(runs["throttled"].sum()) if "throttled" in runs else 0
    head = (
        f"{c.label} over its {plural(c.replications, 'replication')} in the sweep: "
        f"throttle rate {percent(c.throttle_rate)} (upper {conf} bound "
        f"{percent(c.throttle_rate_upper)})"
    )
    busy = []
    if math.isfinite(c.worst_hour_rate):
        busy.append(
            f"its worst clock hour throttled {percent(c.worst_hour_rate)} on average (upper "
            f"bound {percent(c.worst_hour_rate_upper)})"
        )
    if math.isfinite(c.minute_p99_rate):
        busy.append(
            f"99% of its minutes throttled at most {percent(c.minute_p99_rate)} (upper bound "
            f"{percent(c.minute_p99_rate_upper)})"
        )
    text = head + ("; " + " and ".join(busy) if busy else "") + "."
    blocks: list[Block] = [Paragraph(text, strong="The recommended configuration.")]
    counts = _counts({col: runs[col].sum() for col in CAUSE_LABELS if col in runs})
    if counts is not None and throttled:
        blocks.append(_cause_table(counts, throttled, _summed_over(len(runs), c.replications)))
    return blocks


def _summed_over(runs: int, replications: int) -> str:
    """What the cause table's counts add up: the replications, or with ``--vary`` every
    replication of every varied value."""
    if runs == replications:
        return f"summed over {plural(runs, 'replication')}"
    return f"summed over {plural(runs, 'run')} (every replication of every varied value)"


def dominant_cause_text(counts: Mapping[str, int], min_units: int, max_units: int | None) -> str:
    """The cause of most throttles, its share, and what to change, in ``recommend``'s words.

    Empty when nothing was throttled. The ranges suggested start above the run's Min and
    Max, as flags of ``lfvsim sweep`` and ``lfvsim recommend``.
    """
    top = dominant_cause(pd.DataFrame([counts]))
    if top is None:
        return ""
    name, share = top
    column = next(col for col, short in CAUSES.items() if short == name)
    return (
        f"{percent(share)} of the throttling ({counts[column]:,} requests, cause "
        f"{CAUSE_LABELS[column]}) {cause_remedy(name, min_units, max_units or min_units)}. "
        "The ranges are for lfvsim sweep and lfvsim recommend."
    )


def _counts(source: Mapping[str, object]) -> dict[str, int] | None:
    """The throttles by cause, or None when they were not recorded."""
    if not all(source.get(col) is not None for col in CAUSE_LABELS):
        return None
    return {col: int(source[col]) for col in CAUSE_LABELS}  # type: ignore[call-overload]


def _cause_table(counts: Mapping[str, int], total: int, summed_over: str = "") -> Table:
    """Throttled requests and their share by cause, then the total they add up to.

    ``summed_over`` says, in the count column's header, what the counts add up when they
    come from more than one run (``summed over 3 replications``).
    """
    rows = [
        (CAUSE_LABELS[col], f"{counts[col]:,}", percent(counts[col] / total), CAUSE_MEANINGS[col])
        for col in CAUSE_LABELS
    ]
    rows.append(("total", f"{sum(counts.values()):,}", percent(1.0), ""))
    return Table(
        (
            "cause",
            f"throttled requests, {summed_over}" if summed_over else "throttled requests",
            "share",
            "when",
        ),
        tuple(rows),
        highlight=frozenset({len(rows) - 1}),
        numeric=frozenset({1, 2}),
    )


def _unavailable_text(unavailable: int) -> str:
    return (
        f"Apart from them, {unavailable:,} requests came while the model was not hosted "
        "and were refused as unavailable (cause not hosted; not counted as throttled)."
    )


def _busy_blocks(result: Result) -> list[Block]:
    """The worst clock hour against the run, the minute percentile, the worst minutes."""
    s, timeline = result.summary, result.timeline
    marks = busy_marks(timeline, _WORST_MINUTES)
    if marks.hour_start is None:
        return []
    text = (
        f"The worst clock hour, from {marks.hour_start:%Y-%m-%d %H:00} UTC, throttled "
        f"{percent(marks.hour_rate)} ({marks.hour_throttled:,} of {marks.hour_attempts:,} "
        f"attempts), against {percent(s.throttle_rate)} over the whole run."
    )
    p99 = getattr(s, "throttle_rate_minute_p99", None)
    if p99 is not None:
        text += f" 99% of the minutes with attempts throttled at most {percent(p99)}."
    blocks: list[Block] = [Paragraph(text, strong="The busy hour.")]
    if len(marks.minutes):
        causes = [c for c in CAUSE_LABELS if c in timeline]
        index = naive_utc(timeline.index)
        rows = []
        for when, row in marks.minutes.iterrows():
            cause = "-"
            if causes:
                minute = timeline.iloc[int(index.get_loc(when))]
                cause = CAUSE_LABELS[max(causes, key=lambda col: minute[col])]
            rows.append(
                (
                    f"{when:%Y-%m-%d %H:%M}",
                    f"{int(row['attempts']):,}",
                    f"{int(row['throttled']):,}",
                    percent(row["throttle_rate"]),
                    cause,
                )
            )
        blocks.append(
            Table(
                ("worst minutes (UTC)", "attempts", "throttled", "share", "main cause"),
                tuple(rows),
                numeric=frozenset({1, 2, 3}),
            )
        )
    return blocks


def _choice_runs(sweep: pd.DataFrame, c: Configuration) -> pd.DataFrame:
    """The sweep's rows of configuration ``c`` (every replication and varied value)."""
    mask = (sweep["min_units"] == c.min_units) & ~sweep["oracle_bound"].astype(bool)
    if c.max_units is None:
        mask &= sweep["max_units"].isna()
    else:
        mask &= sweep["max_units"] == c.max_units
    return sweep[mask.fillna(False).astype(bool)]
