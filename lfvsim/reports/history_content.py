"""The report's parts that come from a model's CloudWatch history.

:func:`calibrated_blocks` lists the scenario's calibrated values (those ``lfvsim calibrate``
set) with their source, period and interval, beside the assumptions; :func:`backtest_section`
is the backtest of the report's scenario on a history: its figures, its misfit flags, the
overlay of both timelines and where they part.
"""

from __future__ import annotations

from typing import Any

from lfvsim.experiments.backtest import Backtest
from lfvsim.reports.figures import png_bytes
from lfvsim.reports.template import Block, Callout, Figure, KeyFigures, Paragraph, Section, Table
from lfvsim.scenario import Scenario

__all__ = ["backtest_section", "calibrated_blocks", "calibrated_rows"]


def calibrated_rows(scenario: Scenario) -> list[tuple[str, str, str, str, str]]:
    """``(key, value, source, period, interval)`` of every calibrated value, by key (the
    fits of the structure of throttling not chosen are left out: the scenario does not use
    them)."""
    rows = []
    for key, fitted in sorted(scenario.calibrated.items()):
        section, _, name = key.partition(".")
        value = getattr(getattr(scenario, section, None), name, None)
        shown = "unset" if value is None else f"{value:.4g}" if isinstance(value, float) else value
        rows.append(
            (
                key,
                str(shown),
                fitted.source,
                fitted.period,
                f"{fitted.low:.4g} to {fitted.high:.4g}"
                if fitted.low is not None and fitted.high is not None
                else fitted.interval,
            )
        )
    return rows


def calibrated_blocks(scenario: Scenario) -> list[Block]:
    """The calibrated values as a table marked ``calibrated``; nothing when there are none."""
    rows = calibrated_rows(scenario)
    if not rows:
        return []
    weak = [k for k, f in sorted(scenario.calibrated.items()) if "weakly informed" in f.method]
    blocks: list[Block] = [
        Paragraph(
            "The values below come from the model's own CloudWatch history (lfvsim "
            "calibrate) instead of assumptions: each is an estimate with the interval the "
            "history allows, and rests on the assumptions that remain.",
            strong="Calibrated.",
        ),
        Table(
            ("calibrated", "value", "source", "period", "interval"),
            tuple(rows),
        ),
    ]
    if weak:
        blocks.append(
            Callout(
                f"Weakly informed: {', '.join(weak)}. Other values in the interval fit the "
                "history about as well; read the interval, and check with a backtest.",
                kind="warn",
            )
        )
    return blocks


def backtest_section(bt: Backtest, source: str, seed: int) -> Section:
    """The backtest of the report's scenario on the history in ``source``."""
    f = bt.to_dict()
    blocks: list[Block] = [
        Paragraph(
            f"The observed offered load of {source} (successful + throttled requests per "
            f"minute) replayed on this report's scenario with the history's own Min and Max "
            f"(seed {seed}), and compared minute by minute with what the model did. One "
            "replay is one draw: near a threshold a step can move by minutes from draw to "
            "draw, so a share of equal minutes below 100 % is expected even with the right "
            "parameters."
        ),
        KeyFigures(_key_figures(f)),
    ]
    if f["flags"]:
        blocks.append(
            Callout(
                "; ".join(f["flags"]) + ". The scenario does not describe this history: "
                "calibrate it (lfvsim calibrate) or change its model before relying on it.",
                kind="warn",
                strong="Misfit.",
            )
        )
    else:
        blocks.append(
            Callout(
                "No misfit flagged: the replay stays within its own sampling noise of the "
                "history on unit-hours, equal minutes, scaling steps and throttling.",
                kind="good",
            )
        )
    blocks += [
        Table(
            ("figure", "observed", "simulated", "error"),
            tuple(_rows(f)),
            numeric=frozenset({1, 2, 3}),
        ),
        *_figures(bt),
    ]
    if f["notes"]:
        blocks.append(Table(("what the backtest rests on",), tuple((n,) for n in f["notes"])))
    return Section("backtest", "Backtest against CloudWatch history", tuple(blocks))


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}%"


def _key_figures(f: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    share = f["in_service_equal_share"]
    return (
        ("unit-hours", _pct(f["unit_hours_relative_error"]), "simulated against observed"),
        (
            "units in service",
            "n/a" if share is None else f"{100 * share:.1f}%",
            f"of {f['minutes_compared']:,} minutes equal (one replay)",
        ),
        (
            "within the replays",
            _share(f.get("in_service_within_replays_share")),
            f"of minutes: observed units inside the range of {f.get('replications', 1)} replays",
        ),
        (
            "scale-outs matched",
            f"{f['scale_outs']['matched']} of {f['scale_outs']['observed']}",
            f"{f['scale_outs']['simulated']} simulated",
        ),
    )


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _rows(f: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    def events(e: dict[str, Any]) -> tuple[str, str, str]:
        lag = "" if e["mean_lag_min"] is None else f", mean lag {e['mean_lag_min']:+.1f} min"
        return str(e["observed"]), str(e["simulated"]), f"{e['matched']} matched{lag}"

    throttled = f["throttled_observed"]
    mae = f["in_service_mae_units"]
    return [
        (
            "unit-hours",
            f"{f['unit_hours_observed']:,.2f}",
            f"{f['unit_hours_simulated']:,.2f}",
            _pct(f["unit_hours_relative_error"]),
        ),
        (
            "cost (USD)",
            f"{f['cost_observed_usd']:,.2f}",
            f"{f['cost_simulated_usd']:,.2f}",
            _pct(f["cost_relative_error"]),
        ),
        (
            "throttled requests",
            "n/a" if throttled is None else f"{throttled:,.0f}",
            f"{f['throttled_simulated']:,.0f}",
            _pct(f["throttled_relative_error"]),
        ),
        (
            "units in service, mean abs. error",
            "",
            "",
            "n/a" if mae is None else f"{mae:.3f} units",
        ),
        ("scale-outs", *events(f["scale_outs"])),
        ("scale-ins", *events(f["scale_ins"])),
    ]


def _figures(bt: Backtest) -> list[Figure]:
    # Deferred: matplotlib loads only when a figure is drawn.
    import matplotlib.pyplot as plt

    from lfvsim.reports.backtest_plot import plot_backtest, plot_backtest_errors

    overlay = plot_backtest(bt)  # drawn with pyplot: closed once rendered
    try:
        overlay_png = png_bytes(overlay)
    finally:
        plt.close(overlay)
    return [
        Figure(
            "backtest",
            "Observed and simulated, overlaid",
            "Blue: the history; orange: the replay. Solid: units in service; dotted: units "
            "desired. Bottom: throttled requests per minute. Grey: minutes left out (not "
            "hosted, gaps).",
            overlay_png,
            "Step chart of observed and simulated inference units and throttling over time.",
        ),
        Figure(
            "backtest-errors",
            "Where the replay and the history part",
            "Top: simulated minus observed units in service, per minute (0: equal). Bottom: "
            "both cumulative unit-hours; the gap at the end is the unit-hours error.",
            png_bytes(plot_backtest_errors(bt)),
            "Step chart of the per-minute unit difference and line chart of cumulative unit-hours.",
        ),
    ]
