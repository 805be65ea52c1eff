"""What the terminal shows: a run, replications, a sweep, a recommendation, a trace.

The command line prints these; a notebook can print them too. The wording of the
recommendation's sentences is :mod:`lfvsim.reports.sentences`', shared with the report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lfvsim.engine.result import Result, Summary
from lfvsim.experiments import (
    HOURS_PER_MONTH,
    Recommendation,
    Replications,
    aggregate,
    vary_columns,
)
from lfvsim.experiments.recommend import MINUTE, WORST_HOUR, Configuration, Slo, slo_checks
from lfvsim.experiments.replicate import metrics
from lfvsim.experiments.sweep import run_counts
from lfvsim.reports.formatting import (
    CAUSE_LABELS,
    duration,
    metric_texts,
    number,
    percent,
    plural,
    ratio,
    seconds,
    signed_usd,
    span,
    text_columns,
)
from lfvsim.reports.sentences import (
    CAUTION,
    one_more_unit_sentence,
    oracle_gap_sentence,
    slo_sentence,
    variant_rows,
)
from lfvsim.scenario import Scenario
from lfvsim.startmodel import start_operation
from lfvsim.traces.points import fmt_time
from lfvsim.traces.stats import TraceStats, sparkline

if TYPE_CHECKING:
    from lfvsim.experiments.calibration import Calibration
    from lfvsim.experiments.search import SearchResult

__all__ = [
    "format_calibration",
    "format_comparison",
    "format_modes",
    "format_outlook",
    "format_recommendation",
    "format_replications",
    "format_search",
    "format_stats",
    "format_summary",
    "format_sweep",
    "traffic_line",
]


def format_summary(result: Result, scenario_path: Path | None = None) -> str:
    """The summary as a small aligned table."""
    s = result.summary
    sc = result.scenario
    max_text = "unset (no auto-scaling)" if s.max_units is None else str(s.max_units)
    rows = [
        ("requests", f"{s.requests:,}"),
        ("served", f"{s.served:,}"),
        ("throttled", f"{s.throttled:,}  ({100 * s.throttle_rate:.3g}%)"),
        *_throttle_rows(s),
        *_optional_rows(s),
        *_event_rows(result),
        (
            "latency p50/p95/p99",
            (
                " / ".join(
                    seconds(v, like=s.latency_p50_s)
                    for v in (s.latency_p50_s, s.latency_p95_s, s.latency_p99_s)
                )
                + " s"
                if s.served
                else "- (nothing served)"
            ),
        ),
        ("mean wait", f"{seconds(s.wait_mean_s)} s" if s.served else "-"),
        ("inference-unit hours", f"{s.unit_hours:,.2f}"),
        ("cost", f"USD {s.cost_usd:,.2f}  (USD {s.price_per_unit_hour_usd:.2f} per unit-hour)"),
        (
            "cost per 1,000 images",
            f"USD {s.cost_per_1000_images_usd:.4f}" if s.served else "- (nothing served)",
        ),
        ("units in service", f"mean {s.mean_units:.2f}, peak {s.peak_units}"),
        (
            "scaling",
            f"{plural(s.scale_out_events, 'scale-out')}, {plural(s.scale_in_events, 'scale-in')}",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    head = [
        f"{sc.model.project} version {sc.model.version} in {sc.model.region}"
        + (f"  ({scenario_path})" if scenario_path else ""),
        f"MinInferenceUnits {s.min_units}, MaxInferenceUnits {max_text}, policy {s.policy}, "
        f"{s.duration_h:g} h simulated, seed {s.seed}",
        f"traffic: {result.trace_source}",
        "",
    ]
    body = [f"  {k:<{width}}  {v}" for k, v in rows]
    notes = ["", "notes:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(head + body + notes)


def _throttle_rows(s: Summary) -> list[tuple[str, str]]:
    """Throttles by cause and the busy-hour rates, when anything was throttled."""
    if not s.throttled or getattr(s, "throttled_burst", None) is None:
        return []  # nothing throttled, or a summary written before causes were counted
    causes = ", ".join(
        f"{label} {getattr(s, name):,}" for name, label in CAUSE_LABELS.items() if getattr(s, name)
    )
    return [
        ("  by cause", causes),
        (
            "  worst hour, minutes",
            f"{100 * s.throttle_rate_worst_hour:.3g}% in the worst hour; 99% of minutes "
            f"at or under {100 * s.throttle_rate_minute_p99:.3g}%",
        ),
    ]


def _optional_rows(s: Summary) -> list[tuple[str, str]]:
    """Rows that only matter when retries, hosting windows or batches are simulated."""
    rows = []
    if s.retries:
        rows += [
            ("retries", f"{s.retries:,} ({s.attempts:,} attempts)"),
            ("first-attempt throttled", f"{100 * s.first_attempt_throttle_rate:.3g}%"),
        ]
    if s.unavailable:
        rows.append(("unavailable", f"{s.unavailable:,}  (model not hosted)"))
    if s.retries or s.unavailable:
        rows.append(("requests failed", f"{100 * s.failure_rate:.3g}%"))
    if s.waiting_at_end:
        rows.append(("waiting at end", f"{s.waiting_at_end:,}  (for a batch: no outcome yet)"))
    if s.hosted_h < s.duration_h:
        rows.append(("hosted", f"{s.hosted_h:,.1f} of {s.duration_h:g} h"))
    return rows


def _event_rows(result: Result) -> list[tuple[str, str]]:
    """One row per kind of failure event, when failures were simulated."""
    rows = []
    for kind, events in result.events.groupby("kind", sort=True):
        lost_h = events["capacity_lost_unit_s"].sum() / 3600
        rows.append(
            (
                kind.replace("_", " ") + "s",
                f"{len(events)}: {lost_h:,.2f} unit-hours of capacity lost, "
                f"{int(events['throttled_during'].sum()):,} calls throttled meanwhile",
            )
        )
    return rows


def format_sweep(
    table: pd.DataFrame,
    scenario: Scenario,
    scenario_path: Path | None = None,
    slo: Slo | None = None,
    minute_percentile: float = 99.0,
) -> str:
    """One line per configuration: monthly cost, throttle rate, p99, units (95% intervals).

    With an SLO, the bounds are at its confidence and one column per target says whether
    the configuration meets it by its upper bound; the busy-minute column is the
    ``minute_percentile``-th percentile (the SLO's when given).
    """
    if slo is not None:
        minute_percentile = slo.minute_percentile
    agg = aggregate(table, 0.95 if slo is None else slo.confidence, minute_percentile)
    keys = vary_columns(table)
    runs = len(table)
    reps = int(agg["replications"].max())
    first = table.iloc[0]
    head = [
        f"{scenario.model.project} version {scenario.model.version} in "
        f"{scenario.model.region}" + (f"  ({scenario_path})" if scenario_path else ""),
        f"{len(agg)} configurations x {reps} replications = {runs:,} runs of "
        f"{first['duration_h']:g} h, seed {table.attrs.get('seed', '?')}; replication k has "
        "the same seed, so the same requests, in every configuration",
        f"offered: {agg['requests'].mean():,.0f} requests a replication on average",
        f"monthly cost = simulated cost per hour x {HOURS_PER_MONTH:g} h; "
        "(low-high) are 95% confidence intervals over replications",
        *_reuse_lines(table),
        *_stop_lines(table),
        "",
    ]
    if slo is not None:
        head[-1:] = [
            f"SLO: {slo_sentence_of(slo)}; 'meets' columns compare the upper bound with each "
            "target (n/a: the oracle, or too few replications for a bound)",
            "",
        ]
    busy = [c for c in (WORST_HOUR, MINUTE) if c in agg]
    busy_names = {WORST_HOUR: "worst hour", MINUTE: f"minute p{minute_percentile:g}"}
    columns = [*keys, "Min", "Max", "monthly cost USD", "throttle rate"]
    columns += [busy_names[c] for c in busy] + ["p99 s", "units"]
    checks = {} if slo is None else slo_checks(agg, slo)
    check_names = {
        "throttle_rate": "meets rate",
        "worst_hour": "meets hour",
        "minute": "meets minutes",
        "latency_p99": "meets p99",
    }
    columns += [check_names[c] for c in checks]
    stopped = _stopped_by_config(table, keys)
    if stopped:
        columns.append("stopped early")
    lines = []
    for i, r in agg.iterrows():
        max_text = (
            "oracle" if r["oracle_bound"] else "none" if pd.isna(r["max_units"]) else r["max_units"]
        )
        lines.append(
            [
                *(f"{r[k]:g}" if isinstance(r[k], float) else str(r[k]) for k in keys),
                str(r["min_units"]),
                str(max_text),
                f"{r['monthly_cost_usd']:,.0f} ({r['monthly_cost_low_usd']:,.0f}-"
                f"{r['monthly_cost_high_usd']:,.0f})",
                f"{percent(r['throttle_rate'])} ({percent(r['throttle_rate_low'])}-"
                f"{percent(r['throttle_rate_high'])})",
                *(f"{percent(r[c])} (bound {percent(r[f'{c}_upper'])})" for c in busy),
                f"{r['latency_p99_s']:.3f}",
                f"mean {r['mean_units']:.2f}, peak {r['peak_units']}",
                *(_meets_text(r, bool(ok.loc[i])) for ok in checks.values()),
                *([_stopped_text(r, stopped, keys)] if stopped else []),
            ]
        )
    return "\n".join(head + text_columns(columns, lines))


def _config_key(row: pd.Series, keys: list[str]) -> str:
    return repr([str(row[k]) for k in (*keys, "min_units", "max_units", "oracle_bound")])


def _stopped_by_config(table: pd.DataFrame, keys: list[str]) -> dict[str, str]:
    """Configuration -> "pass" or "fail" for those a sweep stopped early (none: {})."""
    if "stopped_early" not in table:
        return {}
    rows = table[table["stopped_early"].notna()]
    return {_config_key(r, keys): str(r["stopped_early"]) for _, r in rows.iterrows()}


def _stopped_text(row: pd.Series, stopped: dict[str, str], keys: list[str]) -> str:
    kind = stopped.get(_config_key(row, keys))
    if kind is None:
        return "-"
    return f"after {int(row['replications'])}: clearly {'meets' if kind == 'pass' else 'fails'}"


def _stop_lines(table: pd.DataFrame) -> list[str]:
    """How many configurations a sweep stopped early, and why."""
    counts = run_counts(table)
    reasons = counts.get("stop_reasons") or []
    if not reasons and not counts.get("stopped_passing") and not counts.get("stopped_failing"):
        return []
    return [
        f"stopped early (sequential rule, --no-early-stop runs every replication): "
        f"{counts['stopped_failing']} configurations clearly failing the SLO, "
        f"{counts['stopped_passing']} clearly meeting it but clearly dearer; their figures "
        "use the replications they ran (stopped_early)",
        *(f"  {r}" for r in reasons),
    ]


def _meets_text(row: pd.Series, ok: bool) -> str:
    if row["oracle_bound"] or not math.isfinite(float(row["throttle_rate_upper"])):
        return "n/a"
    return "yes" if ok else "no"


def slo_sentence_of(slo: Slo) -> str:
    """The SLO in words with its confidence: ``throttle rate <= 1%, ..., upper bounds at
    95% confidence``."""
    text = slo_sentence(
        slo.max_throttle_rate,
        slo.max_p99_latency_s,
        "<=",
        max_worst_hour_rate=slo.max_worst_hour_rate,
        max_minute_rate=slo.max_minute_rate,
        minute_percentile=slo.minute_percentile,
    )
    return f"{text}, upper bounds at {100 * slo.confidence:g}% confidence"


def _reuse_lines(table: pd.DataFrame) -> list[str]:
    """How many runs of a sweep were simulated and how many reused, and why."""
    counts = run_counts(table)
    if not counts["reused"]:
        return []
    return [
        f"runs: {counts['simulated']:,} simulated, {counts['reused']:,} reused (marked in "
        "reused_from_max_units; the same seeds give exactly the same runs)",
        *(f"  reused {r}" for r in counts["reasons"]),
    ]


def format_recommendation(
    rec: Recommendation,
    table: pd.DataFrame,
    scenario: Scenario,
    scenario_path: Path | None = None,
    searched: SearchResult | None = None,
) -> str:
    """The recommendation as text: the choice, its cost and risk, alternatives, the request.

    With ``searched`` (a pruned search), the range given is the grid searched, not only the
    configurations simulated (:func:`format_search` says which were skipped and why).
    """
    reps = int(table.groupby("seed").ngroups)
    conf = f"{100 * rec.confidence:g}%"
    slo = slo_sentence(
        rec.max_throttle_rate,
        rec.max_p99_latency_s,
        "<=",
        max_worst_hour_rate=rec.slo.max_worst_hour_rate,
        max_minute_rate=rec.slo.max_minute_rate,
        minute_percentile=rec.slo.minute_percentile,
    )
    keys = vary_columns(table)
    if searched is not None:
        mins, maxs = pd.Series(searched.min_units), pd.Series(searched.max_units)
    else:
        mins, maxs = table["min_units"], table["max_units"].dropna()
    lines = [
        f"{scenario.model.project} version {scenario.model.version} in "
        f"{scenario.model.region}" + (f"  ({scenario_path})" if scenario_path else ""),
        f"SLO: {slo}, held by the upper {conf} confidence bound (not the mean)",
        f"searched: Min {span(mins)}, Max {span(maxs)} and no auto-scaling; {reps} replications of "
        f"{table['duration_h'].iloc[0]:g} h each, the same requests in every configuration",
        "",
    ]
    if rec.met and rec.choice is not None:
        c = rec.choice
        worst = " (worst case over the varied values)" if rec.variants else ""
        lines += [f"recommended: {c.label}{worst}", *_choice_figures(c, conf)]
        if rec.runner_up is not None:
            r = rec.runner_up
            lines.append(
                f"runner-up: {r.label}: USD {r.monthly_cost_usd:,.0f} a month "
                f"({signed_usd(r.monthly_cost_usd - c.monthly_cost_usd, 2)}), throttle rate "
                f"{percent(r.throttle_rate)} (bound {percent(r.throttle_rate_upper)})"
            )
        for sentence in (
            one_more_unit_sentence(rec, terse=True),
            oracle_gap_sentence(rec, terse=True),
        ):
            if sentence is not None:
                lines.append(sentence)
        if rec.variants:
            lines += ["", *_variants_text(rec, keys)]
        if rec.start_model_request is not None:
            lines += [
                "",
                f"{start_operation(scenario).name} request (aws ... --cli-input-json):",
                json.dumps(rec.start_model_request, indent=2),
            ]
    else:
        lines.append(
            f"no configuration in range meets the SLO at {conf} confidence; "
            f"binds: {', '.join(rec.binding)}"
        )
        if rec.closest is not None:
            c = rec.closest
            lines.append(
                f"closest: {c.label}: throttle rate {percent(c.throttle_rate)} (bound "
                f"{percent(c.throttle_rate_upper)}), p99 {_seconds(c.latency_p99_s)}, USD "
                f"{c.monthly_cost_usd:,.0f} a month"
            )
        lines.append(f"try: {rec.advice}")
        if rec.variants:
            lines += ["", *_variants_text(rec, keys)]
    notes = [f"monthly figures: simulated cost per hour x {HOURS_PER_MONTH:g} h"]
    if rec.met:
        notes.append(
            f"{CAUTION}; check it with fresh seeds (lfvsim run --replications N --seed S) "
            "before relying on a narrow margin"
        )
    return "\n".join([*lines, "", "notes:", *(f"  - {n}" for n in notes)])


def _choice_figures(c: Configuration, conf: str) -> list[str]:
    lo, hi = c.monthly_cost_interval_usd
    rate, rate_up = percent(c.throttle_rate), percent(c.throttle_rate_upper)
    p99_up = c.latency_p99_upper_s
    return [
        f"  monthly cost       USD {c.monthly_cost_usd:,.2f}  ({conf} CI {lo:,.2f} to {hi:,.2f})",
        f"  throttle rate      {rate}  (upper bound {rate_up})",
        f"  latency p99        {_seconds(c.latency_p99_s)}  (upper bound {_seconds(p99_up)})",
        f"  units in service   mean {c.mean_units:.2f}, peak {c.peak_units}",
        *_busy_hour_lines(c),
    ]


def _seconds(value: float) -> str:
    """A latency: ``0.412 s`` (milliseconds shown) below a minute, else ``9 h 18 min``."""
    return f"{value:.3f} s" if not value >= 59.5 else duration(value)


def _busy_hour_lines(c: Configuration) -> list[str]:
    """The choice's busy-hour throttling, when the sweep measured it."""
    out = []
    if math.isfinite(c.worst_hour_rate):
        out.append(
            f"  worst hour         throttle rate {percent(c.worst_hour_rate)}  (upper bound "
            f"{percent(c.worst_hour_rate_upper)})"
        )
    rate, upper = c.minute_rate, c.minute_rate_upper
    if not math.isfinite(rate):  # a table without the asked percentile: the 99th
        rate, upper = c.minute_p99_rate, c.minute_p99_rate_upper
    if math.isfinite(rate):
        p = c.minute_percentile if math.isfinite(c.minute_rate) else 99.0
        out.append(
            f"  worst minutes      {p:g}% of minutes throttle at most {percent(rate)}  "
            f"(upper bound {percent(upper)})"
        )
    return out


def format_search(searched: SearchResult) -> list[str]:
    """How the joint Min/Max search went: its range, and what it skipped and why."""
    where = (
        f"derived from the traffic (the oracle needs "
        f"{plural(searched.oracle_peak_units or 0, 'unit')} at peak)"
        if searched.derived
        else "as given"
    )
    lines = [
        f"search: range {where}: {searched.simulated} of "
        f"{searched.grid_size} configurations simulated, {searched.skipped} skipped"
    ]
    lines += [f"  skipped {r}" for r in searched.reasons]
    lines.append(
        f"runs: {searched.runs_simulated:,} simulated of the full grid's "
        f"{searched.runs_full_grid:,} ({searched.replications} replications a configuration, "
        f"the oracle's included)" + _early_stop_text(searched)
    )
    lines += [f"  {r}" for r in searched.stop_reasons]
    return lines


def _early_stop_text(searched: SearchResult) -> str:
    """How the sequential rule went: off, no interim look, or its looks and error."""
    rule = searched.early_stop
    if rule is None and searched.replications <= 3:
        return (
            "; every configuration ran all its replications (no early stop: the sequential "
            "rule's first interim look is at 3 replications, so it needs 4 or more)"
        )
    if rule is None:
        return "; every configuration ran all its replications (--no-early-stop)"
    looks = rule["looks"]
    return (
        f"; {searched.stopped_passing + searched.stopped_failing} configurations stopped "
        f"early (sequential rule: interim {'look' if len(looks) == 2 else 'looks'} after "
        f"{_and(looks[:-1])} replications, error {rule['interim_error']:g} spent on them; "
        f"the rest ran all {looks[-1]})"
    )


def _and(values: list[int]) -> str:
    if len(values) == 1:
        return str(values[0])
    return ", ".join(str(k) for k in values[:-1]) + f" and {values[-1]}"


def format_outlook(
    outlook: dict[str, Any], growth: float, max_units: int | None = None
) -> list[str]:
    """The choice's headroom and, with Max at the simulated peak, a busier day's throttling.

    ``max_units`` is the choice's Max (None: no auto-scaling, every fixed unit in service).
    """
    room = outlook["headroom"]
    factor = room["traffic_factor"]
    if factor <= 0:
        return []
    more = "at least " if room["at_least"] else "about "
    line = (
        f"headroom: the choice meets the SLO up to {more}x{factor:.2f} the traffic it is "
        f"recommended for "
        f"(+{100 * (factor - 1):.0f}%; bisection with the same seeds, to within "
        f"{100 * room['resolution']:.0f}%)"
    )
    if growth > 0 and math.isfinite(room.get("months_at_growth", math.inf)):
        line += f": {room['months_at_growth']:.1f} more months of {growth:g}% monthly growth"
    out = [line]
    if "busier_day" in outlook:
        b = outlook["busier_day"]
        full = (
            "Max equals the most units in service"
            if max_units is not None
            else "every fixed unit is in service at the peak"
        )
        out.append(
            f"{full}: a day x{b['factor']:g} busier would "
            f"throttle {percent(b['throttle_rate'])} of the requests (mean over replications)"
        )
    return out


def traffic_line(
    scenario: Scenario,
    factor: float = 1.0,
    growth: float = 0,
    months: float = 0,
    busier_day: float = 1.0,
) -> str:
    """``traffic: trace.csv, the trace scaled x0.01; recommended for x1.34 that traffic (...)``."""
    t = scenario.traffic
    path = getattr(t, "path", None)
    text = f"traffic: {Path(path).name if path else t.kind}"
    trace_scale = getattr(t, "scale", 1.0)
    if trace_scale != 1.0:
        text += f", the trace scaled x{trace_scale:g}"
    if factor != 1.0:
        parts = []
        if growth and months:
            parts.append(f"{months:g} months of {growth:g}% monthly growth")
        if busier_day != 1.0:
            parts.append(f"a day x{busier_day:g} busier")
        text += f"; recommended for x{factor:.3g} that traffic ({' and '.join(parts)})"
    return text


def _variants_text(rec: Recommendation, keys: list[str]) -> list[str]:
    rows = variant_rows(rec, cost_prefix="USD ")
    out = ["robustness to the varied values:"]
    out += text_columns([*keys, "recommended", "a month", "throttle bound"], rows)
    depends = rec.depends_on
    if rec.max_units_changes or depends:
        which = ", ".join(depends) if depends else ", ".join(keys)
        out.append(
            f"the recommended {'Max' if rec.max_units_changes else 'Min'} changes with {which}: "
            "AWS does not publish its auto-scaling rules, so this answer depends on an "
            "assumption; the recommendation above meets the SLO for every value tried"
            if rec.met
            else f"the recommendation changes with {which}"
        )
    else:
        out.append(f"the recommendation is the same for every value of {', '.join(keys)}")
    return out


def format_replications(reps: Replications, scenario_path: Path | None = None) -> str:
    """Each metric's mean and 95% confidence interval over the replications."""
    sc = reps.scenario
    t = reps.table
    first = t.iloc[0]
    max_units = first["max_units"]
    max_text = "unset (no auto-scaling)" if pd.isna(max_units) else str(max_units)
    means, ci = reps.mean(), reps.interval(0.95)
    head = [
        f"{sc.model.project} version {sc.model.version} in {sc.model.region}"
        + (f"  ({scenario_path})" if scenario_path else ""),
        f"MinInferenceUnits {first['min_units']}, MaxInferenceUnits {max_text}, policy "
        f"{first['policy']}, {first['duration_h']:g} h simulated",
        f"{reps.replications} replications, seeds from SeedSequence({reps.seed}).spawn"
        f"({reps.replications}); mean and 95% confidence interval",
        f"traffic: {reps.trace_source}",
        "",
    ]
    rows = []
    for m in metrics(t):
        lo, hi = ci[m]
        mean, low, high = metric_texts(m, means[m], lo, hi)
        rows.append([m, mean, "" if math.isnan(lo) else f"{low} .. {high}"])
    body = text_columns(["metric", "mean", "95% CI"], rows)
    seeds = ", ".join(str(s) for s in t["seed"][:5]) + (", ..." if len(t) > 5 else "")
    tail = [
        "",
        f"re-run replication k alone with --seed (seeds: {seeds})",
        f"monthly_cost_usd = cost_usd / duration_h x {HOURS_PER_MONTH:g} h",
        "",
        "notes:",
        *(f"  - {n}" for n in reps.notes),
    ]
    return "\n".join(head + body + tail)


def format_stats(stats: TraceStats, width: int = 60) -> str:
    """The figures of :func:`~lfvsim.traces.describe_trace` as an aligned table."""
    line, per = sparkline(stats.per_minute / 60.0, width)
    mean = stats.mean_tps
    rows = [
        ("layout", stats.layout),
        ("start", fmt_time(stats.start.timestamp())),
        ("duration", duration(stats.duration_s)),
        ("requests", f"{stats.requests:,}"),
        ("mean TPS", f"{mean:.4g}"),
        (
            "peak TPS, 1 min",
            f"{stats.peak_tps_1min:.4g} at {fmt_time(stats.peak_1min_at.timestamp())}  "
            f"({ratio(stats.peak_to_mean_1min)} the mean)",
        ),
        (
            "peak TPS, 1 s",
            f"{stats.peak_tps_1s:.4g} at {fmt_time(stats.peak_1s_at.timestamp())}  "
            f"({ratio(stats.peak_to_mean_1s)} the mean)",
        ),
        (
            "burstiness",
            f"{number(stats.burstiness)}  (inter-arrival times: -1 even, 0 Poisson, 1 bursty)",
        ),
        (
            "1 s dispersion",
            f"{number(stats.dispersion_1s)}  (per-second counts in each minute: 1 Poisson, "
            "above 1 bursty)",
        ),
    ]
    if stats.sampled:
        rows.append(("arrivals", f"one sample, seed {stats.seed} (1 s figures vary with it)"))
    rows.append((f"TPS, {duration(per * 60.0)}/char", line))
    w = max(len(k) for k, _ in rows)
    out = [stats.source] + [f"  {k:<{w}}  {v}" for k, v in rows]
    if stats.notes:
        out += ["", "notes:"] + [f"  - {n}" for n in stats.notes]
    return "\n".join(out)


def format_comparison(table: pd.DataFrame) -> str:
    """The table of :func:`~lfvsim.traces.compare_arrivals` as text."""
    head = ["arrivals", "requests", "throttled", "p99 s", "unit-h", "USD", "peak 1s", "disp."]
    rows = [
        [
            name,
            f"{int(r.requests):,}",
            percent(r.throttle_rate),
            number(r.latency_p99_s, 3),
            f"{r.unit_hours:,.2f}",
            f"{r.cost_usd:,.2f}",
            f"{r.peak_tps_1s:.4g}",
            number(r.dispersion_1s, 3),
        ]
        for name, r in table.iterrows()
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if k == 0 else c.rjust(w)
        for k, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    lines = [fmt(head)] + [fmt(r) for r in rows]
    rate = table["throttle_rate"]
    lines += [
        "",
        f"throttled share ranges {percent(rate.min())} to {percent(rate.max())} and p99 "
        f"latency {table['latency_p99_s'].min():.3f} to {table['latency_p99_s'].max():.3f} s "
        "across arrival models, with the same counts per interval and the same seed.",
    ]
    lines += [f"  {name}: {r.description}" for name, r in table.iterrows()]
    return "\n".join(lines)


def format_modes(table: pd.DataFrame) -> str:
    """The table of :func:`~lfvsim.experiments.compare.compare_modes` as text.

    Counts carry thousands separators and rates read as :func:`percent` does everywhere
    else (``0%``, ``< 0.001%``), so a mode that never throttles does not read ``0.000%``.
    """
    shown = table.assign(
        max_units=table["max_units"].astype(object).where(table["max_units"].notna(), "-"),
        monthly_cost_usd=table["monthly_cost_usd"].map("{:,.0f}".format),
        # At lfvsim run's precision: a run of minutes reads 0.02 unit-hours, not 0.0.
        unit_hours=table["unit_hours"].map(lambda v: metric_texts("unit_hours", v)[0]),
        hosted_h=table["hosted_h"].map(lambda v: metric_texts("hosted_h", v)[0]),
        throttle_rate=table["throttle_rate"].map(percent),
        unavailable=table["unavailable"].map(lambda n: f"{int(n):,}"),
        failure_rate=table["failure_rate"].map(percent),
        latency_p99_s=table["latency_p99_s"].map("{:,.2f}".format),
    ).drop(columns=["cost_usd", "seed"])
    return "\n".join(
        [
            shown.to_string(index=False),
            "",
            f"same requests in every mode (seed {int(table['seed'].iloc[0])}); monthly cost "
            f"is the simulated cost scaled to {HOURS_PER_MONTH:g} h; failure_rate counts "
            "throttled and unavailable requests",
        ]
    )


def format_calibration(result: Calibration) -> str:
    """What ``lfvsim calibrate`` estimated (each with its interval), and what it left alone."""
    lines = []
    for e in result.estimates:
        if e.informed:
            lines.append(
                f"{e.parameter} = {e.value:.4g}  (interval {e.low:.4g}-{e.high:.4g}, "
                f"{e.events} events)" + (f"; {e.detail}" if e.weak else "")
            )
        else:
            lines.append(f"{e.parameter}: not informed ({e.detail})")
    choice = result.structure
    if choice is not None:
        if choice.chosen is None:
            lines.append(f"throttling structure: {choice.meaning}")
        else:
            scores = ", ".join(f"{name} {choice.aic[name]:.1f}" for name in sorted(choice.aic))
            lines.append(f"throttling structure: {choice.chosen} (AIC {scores}): {choice.meaning}")
        for e in result.other_structure:
            if e.informed:
                lines.append(
                    f"  not chosen: {e.parameter} = {e.value:.4g}  (interval "
                    f"{e.low:.4g}-{e.high:.4g})"
                )
            else:
                lines.append(f"  not chosen: {e.parameter}: not informed")
    burst = result.burstiness
    if burst is not None:
        found = burst.arrivals or "not informed"
        lines.append(f"arrivals inside a minute: {found}: {burst.meaning}")
    lines += [f"note: {note}" for note in result.notes]
    lines.append(
        "not estimated (no direct estimator; the scenario's assumptions stay): "
        + ", ".join(result.to_dict()["not_estimated"])
    )
    return "\n".join(lines)
