"""Reports for people who will not run Python, and readers for what lfvsim writes.

:func:`build_report` turns a scenario (simulated now) or a saved run, and optionally a
sweep, into a :class:`Report`: the scenario with its assumptions flagged, the summary, the
recommendation with its confidence, the pictures and the StartModel request.
:meth:`Report.write` saves it as one self-contained HTML file (figures embedded, no links,
no scripts) or as Markdown with its pictures beside it.

Readers: :func:`read_run` loads an ``lfvsim run --out`` folder back into a
:class:`lfvsim.Result`; :func:`read_sweep` loads an ``lfvsim sweep -o`` table.
:func:`render_figure` draws one of :data:`FIGURE_KINDS` on a new figure and
:func:`save_figure` writes it atomically.

>>> from lfvsim.report import build_report, read_sweep
>>> report = build_report(scenario, sweep=read_sweep("sweep.parquet"))
>>> report.write("report.html")
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lfvsim.billing import monthly_cost_usd
from lfvsim.errors import InputError
from lfvsim.machine_output import check_schema_version, unstamped_table
from lfvsim.report_template import (
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
from lfvsim.safe_output import shell_command

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from lfvsim.engine.result import Result
    from lfvsim.experiments import Recommendation
    from lfvsim.scenario import Scenario
    from lfvsim.traces import Trace

__all__ = [
    "FIGURE_KINDS",
    "IMAGE_FORMATS",
    "RUN_KINDS",
    "SWEEP_KINDS",
    "Report",
    "build_report",
    "read_run",
    "read_sweep",
    "render_figure",
    "report_format",
    "save_figure",
]

RUN_KINDS = ("timeline", "daily-cost")
"""Figures of one run (an ``lfvsim run --out`` folder)."""
SWEEP_KINDS = ("frontier", "heatmap-cost", "heatmap-throttle")
"""Figures of a sweep (an ``lfvsim sweep -o`` table)."""
FIGURE_KINDS = RUN_KINDS + SWEEP_KINDS
IMAGE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""File name endings :func:`save_figure` writes."""

_RUN_FILES = ("timeline.csv", "summary.json", "scenario.toml")
#: Sweep columns that every row has: a row without one is a damaged (cut) file.
_SWEEP_COUNTS = ("min_units", "replication", "seed", "requests", "throttled", "unit_hours")
_SWEEP_COLUMNS = (
    "min_units",
    "max_units",
    "oracle_bound",
    "replication",
    "seed",
    "requests",
    "throttled",
    "throttle_rate",
    "monthly_cost_usd",
    "latency_p99_s",
    "unit_hours",
    "mean_units",
    "peak_units",
)
_FIGSIZE = {
    "timeline": (11, 4.8),
    "daily-cost": (11, 4.0),
    "frontier": (10, 6),
}
_DPI = 110


# --- readers -----------------------------------------------------------------------------------


def read_run(directory: str | Path) -> Result:
    """Read the folder ``lfvsim run --out`` wrote back into a :class:`lfvsim.Result`.

    Parameters
    ----------
    directory : str or Path
        The folder (or a file in it) with ``timeline.csv``, ``summary.json`` and
        ``scenario.toml``; ``units.csv`` and ``events.csv`` are read when present.

    Returns
    -------
    Result
        With the timeline indexed by UTC time, the summary, the resolved scenario, the
        seed, the trace's description and the notes. ``requests`` is None.

    Raises
    ------
    InputError
        The folder is missing, lacks a file, or a file is malformed.
    """
    from lfvsim.engine.result import Result, Summary
    from lfvsim.scenario import load_scenario

    folder = Path(directory)
    if folder.is_file():
        if folder.name not in (*_RUN_FILES, "units.csv", "events.csv"):
            raise InputError(
                f"'{folder}' is a file, not a run folder; give the folder lfvsim run --out "
                "wrote (sweep results draw as frontier, heatmap-cost or heatmap-throttle)"
            )
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"run folder '{directory}' does not exist; give an lfvsim run --out DIR")
    missing = [name for name in _RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(
            f"'{folder}' has no {', '.join(missing)}: it is not a run folder; write one with "
            + shell_command("lfvsim", "run", "SCENARIO", "--out", folder)
        )
    try:
        with (folder / "timeline.csv").open(encoding="utf-8", errors="replace") as f:
            if "timestamp" not in f.readline().split(","):
                raise ValueError("no timestamp column")
        timeline = pd.read_csv(folder / "timeline.csv", index_col="timestamp")
        timeline.index = pd.to_datetime(timeline.index, utc=True)
        timeline.index.name = "timestamp"
        _check_timeline(timeline)
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise InputError(
            f"'{folder / 'timeline.csv'}' is not an lfvsim timeline ({_one_line(exc)}); "
            "write it again with lfvsim run --out"
        ) from None
    timeline = unstamped_table(timeline, str(folder / "timeline.csv"))
    if "MaxInferenceUnits" in timeline:
        timeline["MaxInferenceUnits"] = pd.array(
            pd.to_numeric(timeline["MaxInferenceUnits"], errors="coerce"), dtype="Int64"
        )
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"'{folder / 'summary.json'}' is not JSON ({_one_line(exc)})") from None
    if not isinstance(data, dict):
        raise InputError(f"'{folder / 'summary.json'}' is not an lfvsim summary")
    check_schema_version(data.get("schema_version", 1), str(folder / "summary.json"))
    scenario = load_scenario(folder / "scenario.toml")
    values = {}
    for f in dataclasses.fields(Summary):
        value = data.get(f.name)
        if value is None and "float" in str(f.type) and "None" not in str(f.type):
            value = math.nan
        values[f.name] = _summary_value(folder / "summary.json", f.name, str(f.type), value)
    minutes = values.get("duration_h")
    if isinstance(minutes, float) and math.isfinite(minutes):
        # One row per minute: fewer (or more) rows than the run lasted is a cut or mixed file.
        expected = math.ceil(minutes * 60 - 1e-6)
        if len(timeline) != expected:
            raise InputError(
                f"'{folder / 'timeline.csv'}' has {len(timeline)} rows but the summary's "
                f"{minutes:g} h need {expected}; it is damaged: write it again with "
                "lfvsim run --out"
            )
    notes = data.get("notes", [])
    if not isinstance(notes, list):
        raise InputError(f"'{folder / 'summary.json'}': notes is not a list; run it again")
    units = _optional_csv(folder / "units.csv")
    events = _optional_csv(folder / "events.csv")
    return Result(
        summary=Summary(**values),
        timeline=timeline,
        units=units,
        events=events,
        scenario=scenario,
        seed=int(data.get("seed") or 0),
        trace_source=str(data.get("trace", "")),
        notes=[str(n) for n in notes],
    )


def _check_timeline(timeline: pd.DataFrame) -> None:
    """Raise ValueError unless the timeline has rows and numbers in its number columns."""
    if timeline.empty:
        raise ValueError("no rows")
    if "offered_requests" in timeline and timeline["offered_requests"].isna().any():
        raise ValueError("a row without offered_requests (cut short?)")
    times = timeline.index
    if times.hasnans or not times.is_monotonic_increasing:
        raise ValueError("timestamps missing or out of order")
    if times[0].year < 1970 or times[-1].year >= 2200:
        raise ValueError(f"timestamps from {times[0]} to {times[-1]}, outside 1970-2200")
    for name in timeline.columns:
        if name != "MaxInferenceUnits" and not pd.api.types.is_numeric_dtype(timeline[name]):
            raise ValueError(f"column {name!r} holds text where numbers belong")


def _summary_value(path: Path, key: str, kind: str, value: Any) -> Any:
    """A summary value checked against its field's type: numbers are numbers, text is text."""
    if value is None:
        return value
    if kind.startswith(("int", "float")):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind.startswith("int"):
            ok = isinstance(value, int) or (math.isfinite(value) and value == int(value))
            value = int(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise InputError(
            f"'{path}': {key} is {value!r}, not {kind.split(' ')[0]}; it is damaged: run it again"
        )
    return value


def read_sweep(path: str | Path) -> pd.DataFrame:
    """Read a sweep's results (``lfvsim sweep -o``/``lfvsim recommend -o``, Parquet or CSV).

    Returns
    -------
    pandas.DataFrame
        One row per configuration x replication, as :func:`lfvsim.experiments.sweep`
        returns it (``max_units`` as Int64, NA for no auto-scaling).

    Raises
    ------
    InputError
        The file is missing, not Parquet or CSV, or not a sweep table.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise InputError(
            f"sweep results '{path}': unknown format '{suffix}'; give the .parquet or .csv "
            "that lfvsim sweep -o wrote"
        )
    if not path.is_file():
        raise InputError(f"sweep results '{path}' do not exist; check the path")
    try:
        table = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        raise InputError(f"sweep results '{path}' are unreadable ({_one_line(exc)})") from None
    table = unstamped_table(table, str(path))
    missing = [c for c in _SWEEP_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"'{path}' is not a sweep table (no {', '.join(missing[:4])}"
            f"{', ...' if len(missing) > 4 else ''}); write one with lfvsim sweep SCENARIO -o FILE"
        )
    if table.empty:
        raise InputError(f"sweep results '{path}' have no rows; run the sweep again")
    for name in _SWEEP_COLUMNS:
        if name in ("max_units", "oracle_bound"):
            continue
        column = table[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise InputError(
                f"sweep results '{path}': column {name} holds text where numbers belong; it is "
                "damaged: run the sweep again"
            )
        if name in _SWEEP_COUNTS and column.isna().any():
            row = int(column.isna().to_numpy().argmax()) + (2 if suffix == ".csv" else 1)
            raise InputError(
                f"sweep results '{path}': row {row} has no {name} (cut short?); it is damaged: "
                "run the sweep again"
            )
    table["max_units"] = pd.array(pd.to_numeric(table["max_units"], errors="coerce"), dtype="Int64")
    oracle = table["oracle_bound"]
    if oracle.dtype == object:
        oracle = oracle.astype(str).str.lower().map({"true": True, "false": False})
    table["oracle_bound"] = oracle.fillna(False).astype(bool)
    return table


def _optional_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    try:
        return unstamped_table(pd.read_csv(path), str(path))
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


# --- figures -----------------------------------------------------------------------------------


def render_figure(
    kind: str,
    data: Any,
    *,
    recommendation: Recommendation | None = None,
    max_throttle_rate: float | None = None,
    confidence: float = 0.95,
) -> MplFigure:
    """Draw one figure on a new matplotlib Figure (no pyplot: nothing stays open).

    Parameters
    ----------
    kind : str
        One of :data:`FIGURE_KINDS`.
    data : Result or pandas.DataFrame
        A run for :data:`RUN_KINDS`, a sweep table for :data:`SWEEP_KINDS`.
    recommendation, max_throttle_rate, confidence
        For sweep figures: see :func:`lfvsim.plots.plot_frontier`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure as MplFigure

    from lfvsim import plots

    if kind not in FIGURE_KINDS:
        raise InputError(f"unknown figure '{kind}'; use one of {', '.join(FIGURE_KINDS)}")
    sweep_opts = {
        "recommendation": recommendation,
        "max_throttle_rate": max_throttle_rate,
        "confidence": confidence,
    }
    if kind in SWEEP_KINDS:
        agg = plots.sweep_summary(data, confidence)
        real = agg[~agg["oracle_bound"].astype(bool)]
        cols = real["max_units"].nunique(dropna=False)
        rows = real["min_units"].nunique()
        heat = (min(10.5, max(6.5, 2.2 + 0.62 * cols)), max(3.4, 1.8 + 0.6 * rows))
        size = _FIGSIZE.get(kind, heat)
    else:
        size = _FIGSIZE[kind]
    fig = MplFigure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    if kind == "timeline":
        plots.plot_timeline(data, ax)
    elif kind == "daily-cost":
        plots.plot_daily_cost(data, ax)
    elif kind == "frontier":
        plots.plot_frontier(data, ax, **sweep_opts)
    elif kind == "heatmap-cost":
        plots.plot_heatmap(data, "monthly_cost_usd", ax, **sweep_opts)
    else:
        plots.plot_heatmap(data, "throttle_rate", ax, **sweep_opts)
    return fig


def save_figure(figure: MplFigure, path: str | Path, dpi: int = _DPI) -> Path:
    """Write a figure to ``path`` (.png, .svg or .pdf) atomically: complete or not at all."""
    path = Path(path)
    fmt = IMAGE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"output '{path}': unknown image format '{path.suffix}'; end the name in "
            f"{', '.join(IMAGE_FORMATS)}"
        )
    if path.is_dir():
        raise InputError(f"output '{path}' is a folder; give a file name ending in .{fmt}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    _write_files({path: buffer.getvalue()})
    return path


def _metadata(fmt: str) -> dict[str, Any]:
    # Leave out the creation date so the same figure gives the same file.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def _png(figure: MplFigure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


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
        _write_files(files)
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

    Returns
    -------
    Report

    Raises
    ------
    InputError
        A bad SLO or confidence, a sweep that is not a sweep table, or a scenario that does
        not simulate; nothing is written.
    """
    from lfvsim.engine import simulate
    from lfvsim.engine.result import Result
    from lfvsim.experiments import recommend
    from lfvsim.experiments.recommend import check_slo

    check_slo(max_throttle_rate, max_p99_latency_s, confidence)
    recommendation: Recommendation | None = None
    why_not = ""
    if sweep is not None:
        missing = [c for c in _SWEEP_COLUMNS if c not in sweep.columns]
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
        result = simulate(scenario, trace=trace, seed=seed)
    scenario = result.scenario
    request, request_error = _start_request(scenario, recommendation)
    figures = _figures(result, sweep, recommendation, max_throttle_rate, confidence)
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
    from lfvsim.startmodel import start_model_request

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
    run_label = _config_label(s.min_units, s.max_units)
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
                f"of the throttle rate ≤ {_pct(max_throttle_rate)}), hollow ones do not; "
                "the star is the recommendation; grey diamonds are the oracle lower bound "
                "(perfect foresight, no provisioning delay). Labels read Min/Max.",
                "Scatter plot of monthly cost against throttle rate per configuration.",
            ),
            (
                "heatmap-cost",
                sweep,
                "Monthly cost by Min and Max",
                f"Mean monthly cost (730 h) of each configuration, ± half its {conf} "
                "confidence interval. The column 'fixed' is no auto-scaling.",
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
        out.append(Figure(name, title, caption, _png(fig), alt))
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
) -> Document:
    from lfvsim import __version__
    from lfvsim.scenario import render_toml

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
            f"lfvsim {__version__}",
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
            f"{_operation(scenario)} request",
            tuple(_request_blocks(scenario, request, request_error, recommendation)),
        ),
        Section("figures", "Figures", tuple(figures)),
        Section("run", "The simulated run", tuple(_run_blocks(result, run_what))),
        Section(
            "assumptions",
            "Scenario and assumptions",
            tuple(_assumption_blocks(result, assumptions, toml)),
        ),
        Section(
            "reproduce",
            "Reproduce",
            tuple(_reproduce_blocks(result, source, sweep_source, slo, saved)),
        ),
    ]
    footer = (
        "Simulated with lfvsim: a model of inference-unit hosting, auto-scaling, throttling "
        "and billing. Values marked ASSUMPTION are not published by AWS; change them in the "
        f"scenario and compare before relying on an answer that moves with them. "
        f"{s.duration_h:g} h of traffic; monthly figures are cost per hour × 730 h."
    )
    return Document(title, subtitle, tuple(sections), footer)


def _summary_blocks(
    result: Result,
    run_what: str,
    rec: Recommendation | None,
    why_not: str,
    n_assumptions: int,
    slo: tuple[float, float | None, float],
) -> list[Block]:

    s = result.summary
    conf = f"{100 * slo[2]:g}%"
    blocks: list[Block] = []
    if rec is not None and rec.choice is not None:
        c = rec.choice
        lo, hi = c.monthly_cost_interval_usd
        blocks.append(
            Callout(
                f"about USD {c.monthly_cost_usd:,.0f} a month ({conf} confidence interval "
                f"{lo:,.0f} to {hi:,.0f}); throttle rate {_pct(c.throttle_rate)}, at most "
                f"{_pct(c.throttle_rate_upper)} with {conf} confidence, against a target of "
                f"{_pct(rec.max_throttle_rate)}.",
                kind="good",
                strong=f"Start the model with {_units_sentence(c.min_units, c.max_units)}:",
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
                        _pct(c.throttle_rate),
                        f"upper {conf} bound {_pct(c.throttle_rate_upper)}",
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
    else:
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
                f"{_units_sentence(s.min_units, s.max_units)} over {s.duration_h:g} h of "
                f"traffic ({run_what}, seed {s.seed}) cost USD {s.cost_usd:,.2f}, USD "
                f"{monthly:,.0f} a month at this rate, and throttled {_pct(s.throttle_rate)} of "
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
                        _pct(s.throttle_rate),
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


def _hosting_figures(s: Any) -> tuple[tuple[str, str, str], ...]:
    """Key figures for a model that is not hosted all the time, if it is not."""
    out = []
    if s.unavailable:
        share = s.unavailable / s.attempts if s.attempts else math.nan
        out.append(("unavailable", _pct(share), f"{s.unavailable:,} requests while not hosted"))
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
    from lfvsim.experiments import vary_columns

    rate, p99, confidence = slo
    conf = f"{100 * confidence:g}%"
    reps = int(sweep["seed"].nunique())
    configs = sweep[~sweep["oracle_bound"].astype(bool)]
    n_configs = len(configs.groupby(["min_units", "max_units"], dropna=False))
    slo_text = f"throttle rate ≤ {_pct(rate)}"
    if p99 is not None:
        slo_text += f" and p99 latency ≤ {p99:g} s"
    duration = float(sweep["duration_h"].iloc[0]) if "duration_h" in sweep else math.nan
    keys = vary_columns(sweep)
    blocks: list[Block] = [
        Paragraph(
            f"{n_configs} configurations (Min {_span(configs['min_units'])}, Max "
            f"{_span(configs['max_units'].dropna())} and no auto-scaling), {reps} "
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
    rows: list[tuple[str, ...]] = []
    highlight = set()
    if rec.choice is not None:
        highlight.add(0)
        rows.append(_config_row("recommended", rec.choice))
    if rec.runner_up is not None:
        rows.append(_config_row("runner-up", rec.runner_up))
    if rec.one_more_max_unit is not None:
        what = "Max + 1" if rec.choice and rec.choice.max_units is not None else "Min + 1"
        rows.append(_config_row(what, rec.one_more_max_unit.other))
    if rec.oracle is not None:
        rows.append(_config_row("oracle lower bound", rec.oracle))
    if rec.closest is not None:
        rows.append(_config_row("closest to the SLO", rec.closest))
    if rows:
        blocks.append(
            Table(
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
        )
    if rec.choice is not None:
        if rec.one_more_max_unit is not None:
            d = rec.one_more_max_unit
            lo, hi = d.monthly_cost_interval_usd
            if d.monthly_cost_usd == 0 and d.throttle_rate == 0:
                text = (
                    f"{d.other.label} changes nothing on this traffic: at most "
                    f"{rec.choice.peak_units} units are ever in service."
                )
            else:
                text = (
                    f"{d.other.label} costs {_signed(d.monthly_cost_usd)} a month ({conf} CI "
                    f"{_signed(lo)} to {_signed(hi)}) and changes the throttle rate from "
                    f"{_pct(rec.choice.throttle_rate)} to {_pct(d.other.throttle_rate)} "
                    "(paired replication by replication: the same requests in both)."
                )
            blocks.append(Paragraph(text, strong="One more unit:"))
        if rec.oracle is not None and rec.oracle_gap is not None:
            gap, o = rec.oracle_gap, rec.oracle
            lo, hi = gap.monthly_cost_interval_usd
            head = (
                f"an autoscaler with perfect foresight and no provisioning delay (Min "
                f"{o.min_units}, no Max), which throttles nothing, would cost USD "
                f"{o.monthly_cost_usd:,.0f} a month; "
            )
            if gap.monthly_cost_usd >= 0:
                tail = (
                    f"the recommendation costs USD {gap.monthly_cost_usd:,.0f} more ({conf} CI "
                    f"{lo:,.0f} to {hi:,.0f}): what not knowing the future costs."
                )
            else:
                tail = (
                    f"the recommendation costs USD {-gap.monthly_cost_usd:,.0f} less ({conf} "
                    f"CI {-hi:,.0f} to {-lo:,.0f}) because it throttles "
                    f"{_pct(rec.choice.throttle_rate)} of the requests."
                )
            blocks.append(Paragraph(head + tail, strong="Against the oracle:"))
        if rec.variants:
            blocks.append(_variants_table(rec, keys, conf))
        blocks.append(
            Paragraph(
                "the choice is the cheapest of many configurations that pass; before relying "
                "on a narrow margin, check it with fresh seeds (see Reproduce).",
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


def _variants_table(rec: Recommendation, keys: list[str], conf: str) -> Table:
    rows = []
    for v in rec.variants:
        values = [_value_text(x) for x in v.values.values()]
        if v.choice is None:
            rows.append((*values, "none meets the SLO", "", ""))
        else:
            c = v.choice
            rows.append(
                (*values, c.label, f"{c.monthly_cost_usd:,.0f}", _pct(c.throttle_rate_upper))
            )
    return Table(
        (*keys, "recommended", "USD a month", f"upper {conf} throttle bound"),
        tuple(rows),
        numeric=frozenset({len(keys) + 1, len(keys) + 2}),
    )


def _request_blocks(
    scenario: Scenario,
    request: dict[str, Any] | None,
    error: str,
    rec: Recommendation | None,
) -> list[Block]:
    from lfvsim.startmodel import boto3_call, start_operation

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
        ("configuration", _config_label(s.min_units, s.max_units) + f", policy {s.policy}"),
        ("what ran", run_what),
        ("traffic", result.trace_source or "-"),
        ("simulated", f"{s.duration_h:g} h (hosted {s.hosted_h:g} h), seed {s.seed}"),
        ("requests", f"{s.requests:,}"),
        ("served", f"{s.served:,}"),
        ("throttled", f"{s.throttled:,} ({_pct(s.throttle_rate)} of {s.attempts:,} attempts)"),
    ]
    if s.retries:
        rows.append(("retries", f"{s.retries:,}"))
    if s.unavailable:
        rows.append(("unavailable (model not hosted)", f"{s.unavailable:,}"))
    rows += [
        (
            "latency p50 / p95 / p99",
            f"{s.latency_p50_s:.3f} / {s.latency_p95_s:.3f} / {s.latency_p99_s:.3f} s",
        ),
        ("latency mean / max", f"{s.latency_mean_s:.3f} / {s.latency_max_s:.3f} s"),
        ("mean wait for a slot", f"{s.wait_mean_s:.3f} s"),
        ("inference-unit hours", f"{s.unit_hours:,.2f}"),
        ("cost", f"USD {s.cost_usd:,.2f} at USD {s.price_per_unit_hour_usd:.2f} per unit-hour"),
        ("cost per 1,000 images", _usd(s.cost_per_1000_images_usd, 4)),
        ("units in service", f"mean {s.mean_units:.2f}, peak {s.peak_units}"),
        ("scaling", f"{s.scale_out_events} scale-outs, {s.scale_in_events} scale-ins"),
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


def _reproduce_blocks(
    result: Result,
    source: str | None,
    sweep_source: str | None,
    slo: tuple[float, float | None, float],
    saved: bool,
) -> list[Block]:
    s = result.summary
    scenario = source or "SCENARIO.toml"
    if saved and source:
        scenario = str(Path(source) / "scenario.toml")
    units = ["--min-units", s.min_units]
    if s.max_units is not None:
        units += ["--max-units", s.max_units]
    lines = [
        "# the run in this report",
        shell_command("lfvsim", "run", scenario, *units, "--seed", s.seed),
        "# the same configuration with fresh seeds and confidence intervals",
        shell_command(
            "lfvsim", "run", scenario, *units, "--replications", 10, "--seed", s.seed + 1
        ),
    ]
    words = ["lfvsim", "report", source or scenario]
    if sweep_source:
        words += ["--sweep", sweep_source, "--max-throttle-rate", f"{slo[0]:g}"]
        if slo[1] is not None:
            words += ["--max-p99-latency-s", f"{slo[1]:g}"]
        words += ["--confidence", f"{slo[2]:g}"]
    report = shell_command(*words)
    lines += ["# this report", report + " -o report.html"]
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


def _write_files(files: dict[Path, bytes]) -> None:
    """Write every file or none: stage all beside their targets, then move them in."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            if path.is_dir():
                raise InputError(f"output '{path}' is a folder; give a file name")
            path.parent.mkdir(parents=True, exist_ok=True)
            # open(..., "xb") rather than mkstemp: the file gets the usual permissions.
            tmp = str(path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
            with open(tmp, "xb") as f:
                staged.append((tmp, path))
                f.write(data)
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


def _operation(scenario: Scenario) -> str:
    from lfvsim.startmodel import start_operation

    return start_operation(scenario).name


def _units_sentence(min_units: int, max_units: int | None) -> str:
    if max_units is None:
        return f"MinInferenceUnits {min_units} and no MaxInferenceUnits (no auto-scaling)"
    return f"MinInferenceUnits {min_units} and MaxInferenceUnits {max_units}"


def _config_label(min_units: int, max_units: int | None) -> str:
    if max_units is None:
        return f"Min {min_units}, no auto-scaling"
    return f"Min {min_units}, Max {max_units}"


def _config_row(name: str, c: Any) -> tuple[str, ...]:
    lo, hi = c.monthly_cost_interval_usd
    return (
        name,
        c.label,
        f"{c.monthly_cost_usd:,.0f}",
        f"{lo:,.0f} to {hi:,.0f}",
        _pct(c.throttle_rate),
        _pct(c.throttle_rate_upper),
        f"{c.latency_p99_s:.2f}",
        f"{c.mean_units:.2f} / {c.peak_units}",
    )


def _pct(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0%"
    return f"{100 * x:.3g}%"


def _signed_pct(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{'+' if x >= 0 else '-'}{100 * abs(x):.3g} percentage points"


def _signed(usd: float) -> str:
    if not math.isfinite(usd):
        return "n/a"
    return f"{'+' if usd >= 0 else '-'}USD {abs(usd):,.0f}"


def _usd(value: float, digits: int = 2) -> str:
    return "n/a" if not math.isfinite(value) else f"USD {value:,.{digits}f}"


def _value_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _span(values: Sequence[Any] | pd.Series) -> str:
    vals = sorted({int(v) for v in values if not pd.isna(v)})
    if not vals:
        return "-"
    if vals == list(range(vals[0], vals[-1] + 1)):
        return f"{vals[0]}..{vals[-1]}" if len(vals) > 1 else str(vals[0])
    return ",".join(map(str, vals))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")
