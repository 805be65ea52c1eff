"""The report's content: what a report says, for people who will not run Python.

:func:`build_report` turns a scenario (simulated now) or a saved run, and optionally a
sweep, into a :class:`Report`: the scenario with its assumptions flagged, the summary, the
recommendation with its confidence, the pictures and the StartModel request.
:meth:`Report.write` saves it as one self-contained HTML file (figures embedded, no links,
no scripts) or as Markdown with its pictures beside it. The layout is
:mod:`lfvsim.reports.template`'s; the wording of numbers and of the recommendation is
:mod:`lfvsim.reports.formatting`'s.

>>> from lfvsim.reports import build_report, read_sweep
>>> report = build_report(scenario, sweep=read_sweep("sweep.parquet"))
>>> report.write("report.html")
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import re
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lfvsim import __version__
from lfvsim.atomic import atomic_path
from lfvsim.billing import monthly_cost_usd
from lfvsim.engine import simulate
from lfvsim.engine.result import Result
from lfvsim.errors import InputError
from lfvsim.experiments import Recommendation, recommend, vary_columns
from lfvsim.experiments.backtest import Backtest, backtest
from lfvsim.experiments.recommend import Configuration, check_slo
from lfvsim.reports.figures import png_bytes, render_figure
from lfvsim.reports.formatting import (
    NO_AUTOSCALING,
    config_label,
    duration,
    percent,
    plural,
    seconds,
    span,
    units_sentence,
    usd,
)
from lfvsim.reports.history_content import backtest_section, calibrated_blocks
from lfvsim.reports.readers import SWEEP_COLUMNS
from lfvsim.reports.sentences import (
    CAUTION,
    one_more_unit_sentence,
    oracle_gap_sentence,
    slo_sentence,
    variant_rows,
)
from lfvsim.reports.template import (
    Block,
    Callout,
    Code,
    Document,
    Figure,
    KeyFigures,
    Paragraph,
    Section,
    Table,
    render_html,
    render_markdown,
)
from lfvsim.reports.throttling import choice_throttling_blocks, run_throttling_blocks
from lfvsim.safe_output import shell_command
from lfvsim.scenario import Scenario, render_toml
from lfvsim.startmodel import boto3_call, start_model_request, start_operation
from lfvsim.traces import Trace
from lfvsim.traces.metric_history import MetricHistory

__all__ = ["Report", "build_report", "lfvsim_version", "report_command", "report_format"]


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A finished report: its document and what it was built from.

    Attributes
    ----------
    document : Document
        The sections, ready to render.
    result : Result
        The run the timeline and the cost per day show.
    recommendation : Recommendation or None
        With a sweep of two replications or more.
    start_model_request : dict or None
        The request shown (the recommendation's, else the scenario's own).
    figures : tuple of str
        The names of the figures, in order.
    """

    document: Document
    result: Result
    recommendation: Recommendation | None
    start_model_request: dict[str, Any] | None
    figures: tuple[str, ...]

    def to_html(self) -> str:
        """One self-contained HTML page."""
        return render_html(self.document)

    def to_markdown(self, image_prefix: str = "report") -> tuple[str, dict[str, bytes]]:
        """Markdown and its images: ``{file name: PNG bytes}``, named ``PREFIX-FIGURE.png``."""
        names = {f.name: f"{image_prefix}-{f.name}.png" for f in self._figure_blocks()}
        images = {names[f.name]: f.png for f in self._figure_blocks()}
        return render_markdown(self.document, names), images

    def write(self, path: str | Path, format: str | None = None) -> list[Path]:
        """Write the report; with Markdown, its images beside it. All or nothing.

        Parameters
        ----------
        path : str or Path
            ``report.html`` or ``report.md``.
        format : {'html', 'md'}, optional
            Default: from the name's ending.

        Returns
        -------
        list of Path
            The files written.
        """
        path = Path(path)
        fmt = report_format(path, format)
        if fmt == "html":
            files = {path: self.to_html().encode("utf-8")}
        else:
            text, images = self.to_markdown(path.stem)
            files = {path: text.encode("utf-8")}
            files.update({path.parent / name: data for name, data in images.items()})
        # Every file or none: each is staged beside its target and moved in only when
        # all of them are written. No ledger here: the command checks and records its
        # outputs (lfvsim.atomic), so a library call leaves no ledger file behind.
        with ExitStack() as stack:
            for target, data in files.items():
                if target.is_dir():
                    raise InputError(f"output '{target}' is a folder; give a file name")
                target.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(atomic_path(target, ledger=False)).write_bytes(data)
        return list(files)

    def _figure_blocks(self) -> list[Figure]:
        return [b for s in self.document.sections for b in s.blocks if isinstance(b, Figure)]


def build_report(
    run: Scenario | Result,
    *,
    sweep: pd.DataFrame | None = None,
    trace: Trace | None = None,
    seed: int | None = None,
    max_throttle_rate: float = 0.001,
    max_p99_latency_s: float | None = None,
    confidence: float = 0.95,
    title: str | None = None,
    source: str | None = None,
    sweep_source: str | None = None,
    trace_source: str | None = None,
    output: str | None = None,
    output_format: str | None = None,
    allow_large: bool = False,
    max_worst_hour_rate: float | None = None,
    max_minute_rate: float | None = None,
    minute_percentile: float = 99.0,
    history: MetricHistory | None = None,
    history_sources: tuple[str, ...] = (),
) -> Report:
    """Build a report of one scenario, and of a sweep when one is given.

    Parameters
    ----------
    run : Scenario or Result
        A scenario to simulate now, or a finished run (:func:`lfvsim.simulate`,
        :func:`read_run`). With a sweep and a scenario, the run simulated is the
        recommended configuration (the scenario's own when nothing meets the SLO).
    sweep : pandas.DataFrame, optional
        A sweep table (:func:`lfvsim.experiments.sweep`, :func:`read_sweep`): adds the
        recommendation, the frontier and the heatmaps.
    trace : Trace, optional
        Traffic for the run instead of the scenario's.
    seed : int, optional
        Seed of the run; default: the scenario's.
    max_throttle_rate, max_p99_latency_s, confidence : float, float or None, float
        The SLO the recommendation must meet, and the confidence it must hold at.
    title : str, optional
        Default: names the model.
    source, sweep_source : str, optional
        Where the scenario and the sweep came from, for the reader.
    trace_source, output, output_format : str, optional
        The trace file that replaced the scenario's traffic, and the file and format the
        report is written to: with ``source``, they make the command under Reproduce.
    allow_large : bool
        Simulate even past the memory and time budget (:mod:`lfvsim.budget`).
    max_worst_hour_rate, max_minute_rate, minute_percentile : float or None, float or None, float
        The busy-hour targets of the SLO (see :class:`lfvsim.experiments.recommend.Slo`).
    history : MetricHistory, optional
        A model's CloudWatch history (:func:`lfvsim.traces.read_metric_history`): adds a
        backtest of the run's scenario on it (:func:`lfvsim.experiments.backtest.backtest`).
    history_sources : tuple of str
        The export files the history was read from, for the command under Reproduce.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        A bad SLO or confidence, a sweep that is not a sweep table, or a scenario that does
        not simulate (:class:`lfvsim.budget.BudgetError`: over the budget); nothing is
        written.
    """

    check_slo(max_throttle_rate, max_p99_latency_s, confidence)
    recommendation: Recommendation | None = None
    why_not = ""
    if sweep is not None:
        missing = [c for c in SWEEP_COLUMNS if c not in sweep.columns]
        if missing:
            raise InputError(f"the sweep table has no column {', '.join(missing)}")
        if sweep.empty:
            raise InputError("the sweep has no runs; run the sweep again")
        if int(sweep["seed"].nunique()) < 2:
            why_not = (
                "the sweep has one replication: a confidence bound needs two or more "
                "(lfvsim sweep --replications 5)"
            )
        else:
            scenario_for_request = run.scenario if isinstance(run, Result) else run
            recommendation = recommend(
                sweep,
                max_throttle_rate,
                max_p99_latency_s=max_p99_latency_s,
                confidence=confidence,
                scenario=scenario_for_request,
                max_worst_hour_rate=max_worst_hour_rate,
                max_minute_rate=max_minute_rate,
                minute_percentile=minute_percentile,
            )
    if isinstance(run, Result):
        result = run
        run_what = f"the run in {source}" if source else "the run given"
    else:
        scenario = run
        run_what = "the scenario as written"
        if recommendation is not None and recommendation.choice is not None:
            c = recommendation.choice
            scenario = _with_units(run, c.min_units, c.max_units)
            run_what = f"the recommended configuration ({c.label})"
        result = simulate(scenario, trace=trace, seed=seed, allow_large=allow_large)
    scenario = result.scenario
    request, request_error = _start_request(scenario, recommendation)
    figures = _figures(result, sweep, recommendation, max_throttle_rate, confidence)
    backtested = None
    if history is not None:
        backtested = (
            backtest(scenario, history, seed=result.summary.seed),
            history.source,
            result.summary.seed,
        )
    document = _document(
        result=result,
        run_what=run_what,
        sweep=sweep,
        recommendation=recommendation,
        why_not=why_not,
        request=request,
        request_error=request_error,
        figures=figures,
        title=title,
        source=source,
        sweep_source=sweep_source,
        slo=(max_throttle_rate, max_p99_latency_s, confidence),
        saved=isinstance(run, Result),
        backtested=backtested,
        command=report_command(
            source,
            output=output,
            output_format=output_format,
            sweep_source=sweep_source,
            trace_source=trace_source,
            seed=None if isinstance(run, Result) else result.summary.seed,
            title=title,
            slo=(max_throttle_rate, max_p99_latency_s, confidence),
            busy_slo=(max_worst_hour_rate, max_minute_rate, minute_percentile),
            history_sources=history_sources,
        ),
    )
    return Report(
        document=document,
        result=result,
        recommendation=recommendation,
        start_model_request=request,
        figures=tuple(f.name for f in figures),
    )


def _with_units(scenario: Scenario, min_units: int, max_units: int | None) -> Scenario:
    overrides: dict[str, Any] = {"model.min_units": min_units, "model.max_units": max_units}
    if max_units is None and scenario.autoscaler.policy == "target_tracking":
        overrides["autoscaler.policy"] = "none"
    return scenario.with_overrides(overrides, source="the recommended configuration")


def _start_request(
    scenario: Scenario, recommendation: Recommendation | None
) -> tuple[dict[str, Any] | None, str]:
    if recommendation is not None and recommendation.start_model_request is not None:
        return recommendation.start_model_request, ""
    try:
        return start_model_request(scenario), ""
    except InputError as exc:
        return None, str(exc)


def _figures(
    result: Result,
    sweep: pd.DataFrame | None,
    recommendation: Recommendation | None,
    max_throttle_rate: float,
    confidence: float,
) -> list[Figure]:
    s = result.summary
    tps = result.scenario.unit.nominal_tps
    run_label = config_label(s.min_units, s.max_units)
    out = []
    specs: list[tuple[str, Any, str, str, str]] = [
        (
            "timeline",
            result,
            "Offered load and serving capacity",
            f"One simulated run ({run_label}, seed {s.seed}). Blue: requests offered per "
            f"second. Green: serving capacity, the units in service × {tps:.3g} TPS, the "
            "assumed throughput of one unit (right axis: the same line in units). Dashed "
            "orange: the units the autoscaler wants. Red: throttled requests per second; "
            "the red ticks along the top mark every minute with any throttling.",
            "Line chart of offered requests per second against serving capacity over time.",
        ),
        (
            "daily-cost",
            result,
            "Cost over time",
            "Billed inference-unit hours × the price, split into the MinInferenceUnits that "
            "run all the time and the units auto-scaling added above Min. Runs shorter than "
            "two days are shown per hour.",
            "Bar chart of cost per period.",
        ),
    ]
    if sweep is not None:
        conf = f"{100 * confidence:g}%"
        specs += [
            (
                "frontier",
                sweep,
                "Cost against throttling, every configuration",
                f"Each point is one (Min, Max) configuration over its replications, with "
                f"{conf} confidence bars. Filled points meet the SLO (the upper {conf} bound "
                f"of the throttle rate ≤ {percent(max_throttle_rate)}), hollow ones do not; "
                "the star is the recommendation; grey diamonds are the zero-throttle "
                "oracle (perfect foresight, no provisioning delay: the least cost that "
                "throttles nothing, so a choice that throttles may cost less). "
                "Labels read Min/Max.",
                "Scatter plot of monthly cost against throttle rate per configuration.",
            ),
            (
                "heatmap-cost",
                sweep,
                "Monthly cost by Min and Max",
                f"Mean monthly cost (730 h) of each configuration, ± half its {conf} "
                f"confidence interval. The column '{NO_AUTOSCALING}' has no MaxInferenceUnits.",
                "Heatmap of monthly cost by MinInferenceUnits and MaxInferenceUnits.",
            ),
            (
                "heatmap-throttle",
                sweep,
                "Throttle rate by Min and Max",
                f"Mean throttle rate and its upper {conf} bound; bold cells meet the SLO.",
                "Heatmap of throttle rate by MinInferenceUnits and MaxInferenceUnits.",
            ),
        ]
    for name, data, title, caption, alt in specs:
        fig = render_figure(
            name,
            data,
            recommendation=recommendation,
            max_throttle_rate=max_throttle_rate if sweep is not None else None,
            confidence=confidence,
        )
        out.append(Figure(name, title, caption, png_bytes(fig), alt))
    return out


def _document(
    *,
    result: Result,
    run_what: str,
    sweep: pd.DataFrame | None,
    recommendation: Recommendation | None,
    why_not: str,
    request: dict[str, Any] | None,
    request_error: str,
    figures: list[Figure],
    title: str | None,
    source: str | None,
    sweep_source: str | None,
    slo: tuple[float, float | None, float],
    saved: bool,
    command: list[str],
    backtested: tuple[Backtest, str, int] | None = None,
) -> Document:
    scenario = result.scenario
    model = scenario.model
    s = result.summary
    toml = render_toml(scenario)
    assumptions = _assumptions(toml)
    service = (
        "Rekognition Custom Labels" if model.service == "rekognition" else "Lookout for Vision"
    )
    title = title or f"Inference units for {model.project} version {model.version}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = " · ".join(
        p
        for p in (
            f"{service} in {model.region}",
            (f"run {source}" if saved else f"scenario {source}") if source else "",
            f"sweep {sweep_source}" if sweep_source else "",
            f"lfvsim {lfvsim_version()}",
            f"generated {generated}",
        )
        if p
    )
    sections = [
        Section(
            "summary",
            "Summary",
            tuple(
                _summary_blocks(result, run_what, recommendation, why_not, len(assumptions), slo)
            ),
        ),
    ]
    if sweep is not None:
        sections.append(
            Section(
                "recommendation",
                "Recommendation",
                tuple(_recommendation_blocks(sweep, recommendation, why_not, slo, sweep_source)),
            )
        )
    sections += [
        Section(
            "start-model",
            f"{start_operation(scenario).name} request",
            tuple(_request_blocks(scenario, request, request_error, recommendation)),
        ),
        Section("figures", "Figures", tuple(figures)),
        _throttling_section(result, sweep, recommendation, slo[2]),
        Section("run", "The simulated run", tuple(_run_blocks(result, run_what))),
        *([backtest_section(*backtested)] if backtested is not None else []),
        Section(
            "assumptions",
            "Scenario and assumptions",
            tuple(_assumption_blocks(result, assumptions, toml)),
        ),
        Section(
            "reproduce",
            "Reproduce",
            tuple(_reproduce_blocks(result, source, saved, command)),
        ),
    ]
    footer = (
        "Simulated with lfvsim: a model of inference-unit hosting, auto-scaling, throttling "
        "and billing. Values marked ASSUMPTION are not published by AWS; change them in the "
        f"scenario and compare before relying on an answer that moves with them. "
        f"{s.duration_h:g} h of traffic; monthly figures are cost per hour × 730 h."
    )
    return Document(title, subtitle, tuple(sections), footer)


def _throttling_section(
    result: Result, sweep: pd.DataFrame | None, rec: Recommendation | None, confidence: float
) -> Section:
    """Why requests were throttled: the recommended configuration over the sweep, then the
    simulated run, with their worst hour and worst minutes."""
    blocks = choice_throttling_blocks(rec, sweep, confidence) + run_throttling_blocks(result)
    return Section("throttling", "Why requests were throttled", tuple(blocks))


def _summary_blocks(
    result: Result,
    run_what: str,
    rec: Recommendation | None,
    why_not: str,
    n_assumptions: int,
    slo: tuple[float, float | None, float],
) -> list[Block]:
    conf = f"{100 * slo[2]:g}%"
    if rec is not None and rec.choice is not None:
        blocks = _choice_blocks(rec, rec.choice, conf)
    else:
        blocks = _run_summary_blocks(result, run_what, rec, why_not, conf)
    blocks.append(
        Callout(
            f"{n_assumptions} scenario values are assumptions AWS does not publish, among them "
            f"the throughput of one unit ({result.scenario.unit.nominal_tps:.3g} TPS here), "
            "the auto-scaling rules and the price. They are listed under Scenario and "
            "assumptions.",
            strong="These figures rest on assumptions.",
        )
    )
    return blocks


def _choice_blocks(rec: Recommendation, c: Configuration, conf: str) -> list[Block]:
    """The recommended configuration ``c`` in a sentence and four key figures."""
    blocks: list[Block] = []
    lo, hi = c.monthly_cost_interval_usd
    blocks.append(
        Callout(
            f"about USD {c.monthly_cost_usd:,.0f} a month ({conf} confidence interval "
            f"{lo:,.0f} to {hi:,.0f}); throttle rate {percent(c.throttle_rate)}, at most "
            f"{percent(c.throttle_rate_upper)} with {conf} confidence, against a target of "
            f"{percent(rec.max_throttle_rate)}.",
            kind="good",
            strong=f"Start the model with {units_sentence(c.min_units, c.max_units)}:",
        )
    )
    blocks.append(
        KeyFigures(
            (
                (
                    "monthly cost",
                    f"USD {c.monthly_cost_usd:,.0f}",
                    f"{conf} CI {lo:,.0f} to {hi:,.0f}",
                ),
                (
                    "throttle rate",
                    percent(c.throttle_rate),
                    f"upper {conf} bound {percent(c.throttle_rate_upper)}",
                ),
                (
                    "latency p99",
                    f"{c.latency_p99_s:.2f} s",
                    f"upper bound {c.latency_p99_upper_s:.2f} s",
                ),
                (
                    "units in service",
                    f"{c.mean_units:.2f}",
                    f"mean; peak {c.peak_units}",
                ),
            )
        )
    )
    return blocks


def _run_summary_blocks(
    result: Result, run_what: str, rec: Recommendation | None, why_not: str, conf: str
) -> list[Block]:
    """Why there is no recommendation, and the one run's figures instead."""
    s = result.summary
    blocks: list[Block] = []
    if rec is not None:
        blocks.append(
            Callout(
                f"{rec.advice}." if rec.advice else "widen the ranges of the sweep.",
                kind="warn",
                strong=f"No configuration tried meets the SLO at {conf} confidence "
                f"(binds: {', '.join(rec.binding)}). Try:",
            )
        )
    elif why_not:
        blocks.append(Callout(why_not + ".", kind="warn", strong="No recommendation:"))
    monthly = monthly_cost_usd(s.cost_usd, s.duration_h)
    blocks.append(
        Paragraph(
            f"{units_sentence(s.min_units, s.max_units)} over {s.duration_h:g} h of "
            f"traffic ({run_what}, seed {s.seed}) cost USD {s.cost_usd:,.2f}, USD "
            f"{monthly:,.0f} a month at this rate, and throttled {percent(s.throttle_rate)} of "
            "the requests. This is one simulated run, one draw of a random process: a sweep "
            "with replications gives the same figures with confidence intervals."
        )
    )
    blocks.append(
        KeyFigures(
            (
                ("cost", f"USD {s.cost_usd:,.2f}", f"USD {monthly:,.0f} a month"),
                (
                    "throttle rate",
                    percent(s.throttle_rate),
                    f"{s.throttled:,} of {s.attempts:,} requests",
                ),
                (
                    "latency p99",
                    f"{s.latency_p99_s:.2f} s",
                    f"p50 {s.latency_p50_s:.2f} s",
                ),
                (
                    "units in service",
                    f"{s.mean_units:.2f}",
                    f"mean; peak {s.peak_units}",
                ),
                *_hosting_figures(s),
            )
        )
    )
    return blocks


def _hosting_figures(s: Any) -> tuple[tuple[str, str, str], ...]:
    """Key figures for a model that is not hosted all the time, if it is not."""
    out = []
    if s.unavailable:
        share = s.unavailable / s.attempts if s.attempts else math.nan
        out.append(("unavailable", percent(share), f"{s.unavailable:,} requests while not hosted"))
    if s.hosted_h < s.duration_h:
        out.append(("hosted", f"{s.hosted_h:,.1f} h", f"of {s.duration_h:g} h simulated"))
    return tuple(out)


def _recommendation_blocks(
    sweep: pd.DataFrame,
    rec: Recommendation | None,
    why_not: str,
    slo: tuple[float, float | None, float],
    sweep_source: str | None,
) -> list[Block]:
    rate, p99, confidence = slo
    conf = f"{100 * confidence:g}%"
    reps = int(sweep["seed"].nunique())
    configs = sweep[~sweep["oracle_bound"].astype(bool)]
    n_configs = len(configs.groupby(["min_units", "max_units"], dropna=False))
    slo_text = slo_sentence(
        rate,
        p99,
        "≤",
        max_worst_hour_rate=None if rec is None else rec.max_worst_hour_rate,
        max_minute_rate=None if rec is None else rec.max_minute_rate,
        minute_percentile=99.0 if rec is None else rec.minute_percentile,
    )
    duration = float(sweep["duration_h"].iloc[0]) if "duration_h" in sweep else math.nan
    keys = vary_columns(sweep)
    blocks: list[Block] = [
        Paragraph(
            f"{n_configs} configurations (Min {span(configs['min_units'])}, Max "
            f"{span(configs['max_units'].dropna())} and {NO_AUTOSCALING}), {reps} "
            f"replications each of {duration:g} h, every configuration seeing the same "
            "requests in a given replication"
            + (f", from {sweep_source}" if sweep_source else "")
            + (f"; varied: {', '.join(keys)}" if keys else "")
            + ".",
            strong="Searched:",
        ),
        Paragraph(
            f"{slo_text}, held by the upper one-sided {conf} confidence bound rather than the "
            "mean; the cheapest configuration that meets it wins.",
            strong="SLO:",
        ),
    ]
    if rec is None:
        blocks.append(Callout(why_not + ".", kind="warn", strong="No recommendation:"))
        return blocks
    table = _alternatives_table(rec, conf)
    if table is not None:
        blocks.append(table)
    if rec.choice is not None:
        more = one_more_unit_sentence(rec, terse=False)
        if more is not None:
            blocks.append(Paragraph(more, strong="One more unit:"))
        gap = oracle_gap_sentence(rec, terse=False)
        if gap is not None:
            blocks.append(Paragraph(gap, strong="Against the oracle:"))
        if rec.variants:
            blocks.append(_variants_table(rec, keys, conf))
        blocks.append(
            Paragraph(
                f"{CAUTION}; before relying on a narrow margin, check it with fresh seeds "
                "(see Reproduce).",
                strong="Caution:",
            )
        )
    else:
        blocks.append(
            Callout(
                rec.advice or "widen the ranges of the sweep",
                kind="warn",
                strong=f"Nothing meets the SLO (binds: {', '.join(rec.binding)}). Try:",
            )
        )
    return blocks


def _alternatives_table(rec: Recommendation, conf: str) -> Table | None:
    """The choice beside its runner-up, one more unit, the oracle and the closest miss."""
    rows: list[tuple[str, ...]] = []
    highlight: set[int] = set()
    if rec.choice is not None:
        highlight.add(0)
        rows.append(_config_row("recommended", rec.choice))
    if rec.runner_up is not None:
        rows.append(_config_row("runner-up", rec.runner_up))
    if rec.one_more_max_unit is not None:
        what = "Max + 1" if rec.choice and rec.choice.max_units is not None else "Min + 1"
        rows.append(_config_row(what, rec.one_more_max_unit.other))
    if rec.oracle is not None:
        rows.append(_config_row("zero-throttle oracle", rec.oracle))
    if rec.closest is not None:
        rows.append(_config_row("closest to the SLO", rec.closest))
    if not rows:
        return None
    return Table(
        (
            "",
            "configuration",
            "USD a month",
            f"{conf} CI",
            "throttle rate",
            f"upper {conf} bound",
            "p99 latency (s)",
            "units mean / peak",
        ),
        tuple(rows),
        highlight=frozenset(highlight),
        numeric=frozenset({2, 3, 4, 5, 6, 7}),
    )


def _variants_table(rec: Recommendation, keys: list[str], conf: str) -> Table:
    return Table(
        (*keys, "recommended", "USD a month", f"upper {conf} throttle bound"),
        tuple(tuple(row) for row in variant_rows(rec)),
        numeric=frozenset({len(keys) + 1, len(keys) + 2}),
    )


def _request_blocks(
    scenario: Scenario,
    request: dict[str, Any] | None,
    error: str,
    rec: Recommendation | None,
) -> list[Block]:
    op = start_operation(scenario)
    if request is None:
        return [Callout(error, kind="warn", strong=f"No {op.name} request:")]
    which = (
        "for the recommended configuration"
        if rec is not None and rec.start_model_request is not None
        else "for the scenario's own Min and Max (no recommendation)"
    )
    body = json.dumps(request, indent=2)
    blocks: list[Block] = [
        Paragraph(f"The request {which}, checked against the API's constraints."),
        Code(body, "json", caption=f"{op.name} parameters (--cli-input-json):"),
        Code(
            shell_command(
                "aws",
                op.service,
                op.command,
                "--region",
                scenario.model.region,
                "--cli-input-json",
                json.dumps(request),
            ),
            "sh",
            caption="AWS CLI:",
        ),
        Code(boto3_call(scenario, request), "python", caption="Python (boto3):"),
    ]
    if "ClientToken" in request:
        blocks.append(
            Paragraph(
                "the ClientToken is derived from the plan and today's date (UTC): sending "
                "the same request again within 8 hours is the same call, and a different "
                "plan never shares it; for a new start of the same plan the same day, use "
                "lfvsim start-model-input --token-suffix.",
                strong="ClientToken:",
            )
        )
    return blocks


def _run_blocks(result: Result, run_what: str) -> list[Block]:
    s = result.summary
    rows = [
        ("configuration", config_label(s.min_units, s.max_units) + f", policy {s.policy}"),
        ("what ran", run_what),
        ("traffic", result.trace_source or "-"),
        (
            "simulated",
            f"{duration(s.duration_h * 3600)} (hosted {duration(s.hosted_h * 3600)}), "
            f"seed {s.seed}",
        ),
        ("requests", f"{s.requests:,}"),
        ("served", f"{s.served:,}"),
        ("throttled", f"{s.throttled:,} ({percent(s.throttle_rate)} of {s.attempts:,} attempts)"),
    ]
    if s.retries:
        rows.append(("retries", f"{s.retries:,}"))
    if s.unavailable:
        rows.append(("unavailable (model not hosted)", f"{s.unavailable:,}"))
    rows += [
        (
            "latency p50 / p95 / p99",
            " / ".join(
                seconds(v, like=s.latency_p50_s)
                for v in (s.latency_p50_s, s.latency_p95_s, s.latency_p99_s)
            )
            + " s",
        ),
        (
            "latency mean / max",
            f"{seconds(s.latency_mean_s)} / {seconds(s.latency_max_s, like=s.latency_mean_s)} s",
        ),
        ("mean wait for a slot", f"{seconds(s.wait_mean_s)} s"),
        ("inference-unit hours", f"{s.unit_hours:,.2f}"),
        ("cost", f"USD {s.cost_usd:,.2f} at USD {s.price_per_unit_hour_usd:.2f} per unit-hour"),
        ("cost per 1,000 images", usd(s.cost_per_1000_images_usd, 4)),
        ("units in service", f"mean {s.mean_units:.2f}, peak {s.peak_units}"),
        (
            "scaling",
            f"{plural(s.scale_out_events, 'scale-out')}, {plural(s.scale_in_events, 'scale-in')}",
        ),
    ]
    return [Table(("figure", "value"), tuple(rows))]


def _assumption_blocks(
    result: Result, assumptions: list[tuple[str, str, str]], toml: str
) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            "AWS does not publish these values; lfvsim uses a default for each. An answer that "
            "changes when one of them changes depends on how AWS runs the service: sweep it "
            "(lfvsim sweep --vary KEY=V1,V2) before relying on it."
        ),
        *calibrated_blocks(result.scenario),
        Table(("assumption", "value", "meaning"), tuple(_with_price(assumptions, result))),
    ]
    if result.notes:
        blocks.append(
            Table(("what this run's figures rest on",), tuple((n,) for n in result.notes))
        )
    blocks.append(
        Code(
            toml,
            "toml",
            caption="The resolved scenario (every default filled in; highlighted lines are "
            "assumptions). It loads back with lfvsim run.",
            mark="ASSUMPTION:",
        )
    )
    return blocks


def _with_price(rows: list[tuple[str, str, str]], result: Result) -> list[tuple[str, str, str]]:
    """Say which price an unset ``price_per_unit_hour_usd`` means."""
    scenario = result.scenario
    price = (
        f"unset: USD {scenario.price_per_unit_hour_usd:.2f} per unit-hour in "
        f"{scenario.model.region}, from the price table"
    )
    return [
        (
            key,
            price if key == "billing.price_per_unit_hour_usd" and value == "unset" else value,
            meaning,
        )
        for key, value, meaning in rows
    ]


def report_command(
    source: str | None,
    *,
    output: str | None = None,
    output_format: str | None = None,
    sweep_source: str | None = None,
    trace_source: str | None = None,
    seed: int | None = None,
    title: str | None = None,
    slo: tuple[float, float | None, float] = (0.001, None, 0.95),
    busy_slo: tuple[float | None, float | None, float] = (None, None, 99.0),
    history_sources: tuple[str, ...] = (),
) -> list[str]:
    """The words of the ``lfvsim report`` command that builds this report again.

    Every option that shapes the report is given explicitly (the seed, and with a sweep
    the SLO, even at their defaults), so the command does not depend on defaults that a
    later version may change; the SLO is left out without a sweep, where it shapes nothing.
    Quote it with :func:`lfvsim.safe_output.shell_command` before printing.
    """
    words = ["lfvsim", "report", source or "SCENARIO.toml"]
    if sweep_source:
        words += ["--sweep", sweep_source]
    if trace_source:
        words += ["--trace", trace_source]
    for export in history_sources:
        words += ["--cloudwatch", export]
    if seed is not None:
        words += ["--seed", str(seed)]
    if sweep_source:
        # The SLO picks the recommendation from the sweep; without one it shapes nothing.
        rate, p99, confidence = slo
        words += ["--max-throttle-rate", f"{rate:g}"]
        if p99 is not None:
            words += ["--max-p99-latency-s", f"{p99:g}"]
        words += ["--confidence", f"{confidence:g}"]
        worst_hour, minute, percentile = busy_slo
        if worst_hour is not None:
            words += ["--max-worst-hour-rate", f"{worst_hour:g}"]
        if minute is not None:
            words += [
                "--max-minute-rate", f"{minute:g}", "--minute-percentile", f"{percentile:g}"
            ]  # fmt: skip
    if title is not None:
        words += ["--title", title]
    if output_format is not None:
        words += ["--format", output_format]
    return [*words, "-o", output or "report.html"]


def lfvsim_version() -> str:
    """The installed lfvsim's version (the package metadata's, else the source's)."""
    try:
        return importlib.metadata.version("lfvsim")
    except importlib.metadata.PackageNotFoundError:
        return __version__


def _reproduce_blocks(
    result: Result, source: str | None, saved: bool, command: list[str]
) -> list[Block]:
    s = result.summary
    scenario = source or "SCENARIO.toml"
    if saved and source:
        scenario = str(Path(source) / "scenario.toml")
    units = ["--min-units", s.min_units]
    if s.max_units is not None:
        units += ["--max-units", s.max_units]
    trace = (
        command[command.index("--trace") : command.index("--trace") + 2]
        if "--trace" in command
        else []
    )
    lines = [
        f"# this report, with lfvsim {lfvsim_version()} (another version may simulate differently)",
        shell_command(*command),
        "# the run in this report",
        shell_command("lfvsim", "run", scenario, *trace, *units, "--seed", s.seed),
        "# the same configuration with fresh seeds and confidence intervals",
        shell_command(
            "lfvsim", "run", scenario, *trace, *units, "--replications", 10, "--seed", s.seed + 1
        ),
    ]
    return [Code("\n".join(lines), "sh")]


def _assumptions(toml: str) -> list[tuple[str, str, str]]:
    """``(key, value, meaning)`` of every line :func:`render_toml` marks ASSUMPTION."""
    rows = []
    section = ""
    for line in toml.splitlines():
        header = re.match(r"^\[(\w+)\]$", line)
        if header:
            section = header.group(1)
            continue
        if "ASSUMPTION" not in line or not section:
            continue
        unset = re.match(r"^# (\w+) is unset: ASSUMPTION: (.*)$", line)
        value = re.match(r"^(\w+) = (.*?)  # ASSUMPTION: (.*)$", line)
        if unset:
            rows.append((f"{section}.{unset.group(1)}", "unset", unset.group(2)))
        elif value:
            rows.append((f"{section}.{value.group(1)}", value.group(2), value.group(3)))
        elif line.startswith("# "):
            name, _, rest = line[2:].partition(": ")
            text, _, note = rest.partition("ASSUMPTION: ")
            text = text.rstrip(" ;")
            if text.count("(") > text.count(")"):
                text += ")"
            rows.append((name, text, note.rstrip(")")))
    return rows


# --- formatting and files ----------------------------------------------------------------------


def report_format(path: str | Path, format: str | None = None) -> str:
    """``html`` or ``md``: ``format`` when given, checked against the name's ending.

    Raises
    ------
    InputError
        An unknown format, or a name that ends in the other one.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    by_suffix = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}.get(suffix)
    if format is None:
        if by_suffix is None:
            raise InputError(
                f"output '{path}': end the name in .html or .md, or give --format html|md"
            )
        return by_suffix
    if format not in ("html", "md"):
        raise InputError(f"--format {format}: use html or md")
    if by_suffix is not None and by_suffix != format:
        raise InputError(
            f"output '{path}' with --format {format}: name the file {path.stem}."
            f"{'html' if format == 'html' else 'md'}"
        )
    return format


def _config_row(name: str, c: Any) -> tuple[str, ...]:
    lo, hi = c.monthly_cost_interval_usd
    return (
        name,
        c.label,
        f"{c.monthly_cost_usd:,.0f}",
        f"{lo:,.0f} to {hi:,.0f}",
        percent(c.throttle_rate),
        percent(c.throttle_rate_upper),
        f"{c.latency_p99_s:.2f}",
        f"{c.mean_units:.2f} / {c.peak_units}",
    )
