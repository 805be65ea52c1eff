"""The recommendation's sentences, written once for the terminal and the report.

Each function decides what to say (which case applies, which figures, which sign) once and
words it in one of two registers: ``terse`` for a line of terminal output
(:mod:`lfvsim.reports.text`), prose for a paragraph of the report
(:mod:`lfvsim.reports.content`). The two registers keep today's wording of each; they
differ in phrasing, not in the figures they give.
"""

from __future__ import annotations

from lfvsim.experiments import Recommendation
from lfvsim.reports.formatting import percent, signed_usd, value_text

__all__ = [
    "CAUTION",
    "one_more_unit_sentence",
    "oracle_gap_sentence",
    "slo_sentence",
    "variant_rows",
]

CAUTION = "the choice is the cheapest of many configurations that pass"
"""Why a narrow margin needs checking with fresh seeds: the winner's curse of a search."""


def slo_sentence(
    max_throttle_rate: float,
    max_p99_latency_s: float | None,
    le: str,
    *,
    max_worst_hour_rate: float | None = None,
    max_minute_rate: float | None = None,
    minute_percentile: float = 99.0,
) -> str:
    """``throttle rate <= 0.1%, worst hour <= 3% and p99 latency <= 2 s``.

    ``le`` is the sign to use; the busy-hour targets appear only when set.
    """
    parts = [f"throttle rate {le} {percent(max_throttle_rate)}"]
    if max_worst_hour_rate is not None:
        parts.append(f"worst hour {le} {percent(max_worst_hour_rate)}")
    if max_minute_rate is not None:
        parts.append(f"{minute_percentile:g}% of minutes {le} {percent(max_minute_rate)}")
    text = ", ".join(parts)
    if max_p99_latency_s is not None:
        text += f" and p99 latency {le} {max_p99_latency_s:g} s"
    return text


def one_more_unit_sentence(rec: Recommendation, *, terse: bool) -> str | None:
    """What one more unit (of Max, or fixed) would cost and change; None without one."""
    c, d = rec.choice, rec.one_more_max_unit
    if c is None or d is None:
        return None
    conf = f"{100 * rec.confidence:g}%"
    nothing = d.monthly_cost_usd == 0 and d.throttle_rate == 0
    lo, hi = d.monthly_cost_interval_usd
    if terse:
        what = "one more unit of Max" if c.max_units is not None else "one more fixed unit"
        if nothing:
            return (
                f"{what} ({d.other.label}): changes nothing on this traffic "
                f"(at most {c.peak_units} units are ever in service)"
            )
        return (
            f"{what} ({d.other.label}): {signed_usd(d.monthly_cost_usd, 2)} a month "
            f"({conf} CI {signed_usd(lo, 2)} to {signed_usd(hi, 2)}), throttle rate "
            f"{percent(c.throttle_rate)} -> {percent(d.other.throttle_rate)}"
        )
    if nothing:
        return (
            f"{d.other.label} changes nothing on this traffic: at most "
            f"{c.peak_units} units are ever in service."
        )
    return (
        f"{d.other.label} costs {signed_usd(d.monthly_cost_usd)} a month ({conf} CI "
        f"{signed_usd(lo)} to {signed_usd(hi)}) and changes the throttle rate from "
        f"{percent(c.throttle_rate)} to {percent(d.other.throttle_rate)} "
        "(paired replication by replication: the same requests in both)."
    )


def oracle_gap_sentence(rec: Recommendation, *, terse: bool) -> str | None:
    """The recommendation against the zero-throttle oracle; None without an oracle."""
    c, o, gap = rec.choice, rec.oracle, rec.oracle_gap
    if c is None or o is None or gap is None:
        return None
    conf = f"{100 * rec.confidence:g}%"
    lo, hi = gap.monthly_cost_interval_usd
    more = gap.monthly_cost_usd >= 0
    if terse:
        share = 100 * gap.monthly_cost_usd / o.monthly_cost_usd if o.monthly_cost_usd else 0
        head = (
            f"zero-throttle oracle (Min {o.min_units}, perfect foresight, no provisioning "
            f"delay, no Max: the least cost that throttles nothing): USD "
            f"{o.monthly_cost_usd:,.0f} a month; "
        )
        if more:
            return (
                head + f"the choice costs USD {gap.monthly_cost_usd:,.0f} ({share:.0f}%) "
                f"more ({conf} CI {lo:,.0f} to {hi:,.0f}): what not knowing the future "
                "costs"
            )
        return (
            head + f"the choice costs USD {-gap.monthly_cost_usd:,.0f} "
            f"({-share:.0f}%) less, because it throttles {percent(c.throttle_rate)} "
            "of the requests"
        )
    head = (
        f"an autoscaler with perfect foresight and no provisioning delay (Min "
        f"{o.min_units}, no Max), which throttles nothing, would cost USD "
        f"{o.monthly_cost_usd:,.0f} a month; "
    )
    if more:
        return head + (
            f"the recommendation costs USD {gap.monthly_cost_usd:,.0f} more ({conf} CI "
            f"{lo:,.0f} to {hi:,.0f}): what not knowing the future costs."
        )
    return head + (
        f"the recommendation costs USD {-gap.monthly_cost_usd:,.0f} less ({conf} "
        f"CI {-hi:,.0f} to {-lo:,.0f}) because it throttles "
        f"{percent(c.throttle_rate)} of the requests."
    )


def variant_rows(rec: Recommendation, cost_prefix: str = "") -> list[list[str]]:
    """One row per varied value: the values, the choice, its monthly cost and its bound."""
    rows = []
    for v in rec.variants:
        values = [value_text(x) for x in v.values.values()]
        if v.choice is None:
            rows.append([*values, "none meets the SLO", "", ""])
        else:
            c = v.choice
            rows.append(
                [
                    *values,
                    c.label,
                    f"{cost_prefix}{c.monthly_cost_usd:,.0f}",
                    percent(c.throttle_rate_upper),
                ]
            )
    return rows
