"""Plots of runs and sweeps, and ``lfvsim plot``: what is drawn, labelled and written."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle
from matplotlib.text import Text

import lfvsim
from lfvsim.engine.busy import worst_hour_throttle_rate
from lfvsim.experiments import aggregate, recommend, sweep
from lfvsim.reports import plotdata, plots
from lfvsim.reports.figures import render_figure
from tests.conftest import small_scenario_toml

matplotlib.use("Agg")  # headless; pyplot picks its backend at the first figure

SMALL = small_scenario_toml(duration_h=2)
SLO = 0.05  # Min 1, Max 3 meets it on this traffic; nothing cheaper does


@pytest.fixture(scope="module")
def scenario() -> lfvsim.Scenario:
    return lfvsim.Scenario.model_validate(tomllib.loads(SMALL))


@pytest.fixture(scope="module")
def result(scenario) -> lfvsim.Result:
    return lfvsim.simulate(scenario)


@pytest.fixture(scope="module")
def table(scenario) -> pd.DataFrame:
    return sweep(
        scenario, min_units=[1, 2], max_units=[1, 2, 3], replications=3, oracle=True, workers=1
    )


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line(ax, prefix: str):
    lines = [line for line in ax.get_lines() if str(line.get_label()).startswith(prefix)]
    assert len(lines) == 1, f"one line labelled {prefix!r}"
    return lines[0]


def _legend_texts(ax) -> list[str]:
    """The legend of the figure's lowest panel (the timeline's legend is under its panels)."""
    panel = ax if ax.get_legend() is not None else ax.figure.axes[-1]
    return [t.get_text() for t in panel.get_legend().get_texts()]


def _long_timeline(days: int) -> pd.DataFrame:
    """A synthetic timeline of several days with the columns a run has."""
    minutes = days * 1440
    index = pd.date_range("2026-03-02", periods=minutes, freq="min", tz="UTC")
    units = np.where((np.arange(minutes) // 60) % 24 >= 8, 3.0, 1.0)
    return pd.DataFrame(
        {
            "offered_requests": 240 * units,
            "ThrottledCount": np.where(np.arange(minutes) % 97 == 0, 5, 0),
            "InServiceInferenceUnits": units,
            "DesiredInferenceUnits": units,
            "MinInferenceUnits": 1,
            "MaxInferenceUnits": pd.array([4] * minutes, dtype="Int64"),
            "billed_units": units,
        },
        index=index,
    )


# --- timeline --------------------------------------------------------------------------------


def test_timeline_draws_load_capacity_units_and_throttling(result):
    ax = plots.plot_timeline(result)
    tl = result.timeline
    tps = result.scenario.unit.nominal_tps
    assert ax.get_ylabel() == "requests per second (TPS)"
    low = ax.figure.axes[-1]  # the throttling panel, under the load
    assert low is not ax and low.get_xlabel().startswith("time (UTC)")
    assert "line-7" in ax.get_title()
    units_axis = [a for a in ax.child_axes if a.get_ylabel()]
    assert [a.get_ylabel() for a in units_axis] == ["inference units"]
    capacity = _line(ax, "serving capacity")
    assert "(assumed)" in capacity.get_label()
    np.testing.assert_allclose(capacity.get_ydata()[:-1], tl["InServiceInferenceUnits"] * tps)
    offered = _line(ax, "offered load")
    np.testing.assert_allclose(offered.get_ydata()[:-1], tl["offered_requests"] / 60)
    desired = _line(ax, "desired units")
    np.testing.assert_allclose(desired.get_ydata()[:-1], tl["DesiredInferenceUnits"] * tps)
    ticks = _line(ax, "minute with throttling")
    assert len(ticks.get_xdata()) == int((tl["ThrottledCount"] > 0).sum()) > 0
    legend = " ".join(_legend_texts(ax))
    assert f"throttled ({result.summary.throttled:,} requests" in legend


def test_timeline_draws_on_the_given_axes_and_needs_a_throughput_for_a_bare_frame(result):
    _, (a, b) = plt.subplots(2)
    assert plots.plot_timeline(result, a) is a
    with pytest.raises(ValueError, match="tps_per_unit"):
        plots.plot_timeline(result.timeline, b)
    assert plots.plot_timeline(result.timeline, b, tps_per_unit=5.0) is b


def test_timeline_of_several_days_is_resampled_and_says_so():
    ax = plots.plot_timeline(_long_timeline(3), tps_per_unit=5.0)
    assert "5-minute means" in ax.get_title()
    assert len(_line(ax, "offered load").get_xdata()) == 3 * 1440 // 5 + 1
    assert "2026-03-02 to 2026-03-04" in ax.figure.axes[-1].get_xlabel()


def test_timeline_without_a_needed_column_names_it(result):
    with pytest.raises(lfvsim.InputError, match="DesiredInferenceUnits"):
        plots.plot_timeline(result.timeline.drop(columns="DesiredInferenceUnits"), tps_per_unit=5)


CAUSES = ["throttled_scaling", "throttled_at_max", "throttled_burst", "throttled_capacity_lost"]


@pytest.fixture(scope="module")
def outage_run() -> lfvsim.Result:
    """Three fixed units, one lost for an hour: throttles in steady state and from the loss."""
    sc = lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 3},
            "unit": {"slots": 1, "latency_distribution": "constant", "latency_mean_s": 1.0},
            "autoscaler": {"policy": "none"},
            "failures": {
                "availability_zones": 3,
                "replacement_delay_s": 600,
                "outages": [{"zone": 1, "start_h": 1.0, "duration_h": 1.0}],
            },
            "traffic": {"kind": "constant", "rate_tps": 2.5, "duration_h": 3},
        }
    )
    return lfvsim.simulate(sc, seed=5)


def _stack(panel) -> list:
    return [c for c in panel.collections if str(c.get_label()).startswith("throttled")]


def test_the_throttling_panel_stacks_each_minute_by_cause(outage_run):
    r, s = outage_run, outage_run.summary
    assert s.throttled_capacity_lost > 0 and s.throttled_burst > 0  # the case has two causes
    ax = plots.plot_timeline(r)
    low = ax.figure.axes[-1]
    stack = _stack(low)
    labels = [str(c.get_label()) for c in stack]
    # Only the causes that occurred, each with its count and its share of the total.
    assert len(labels) == 2
    assert labels[0].startswith(f"throttled ({s.throttled:,} requests")
    assert f"burst {s.throttled_burst:,} (" in labels[0]
    assert labels[1] == (
        f"throttled: capacity lost {s.throttled_capacity_lost:,} "
        f"({100 * s.throttled_capacity_lost / s.throttled:.3g}%)"
    )
    # The top of the stack is each minute's throttled requests (one-minute bins here).
    top = stack[-1].get_paths()[0].vertices
    x0 = plots.mdates.date2num(r.timeline.index[0].tz_localize(None).to_pydatetime())
    tops = {}
    for vx, vy in top:
        tops.setdefault(round((vx - x0) * 1440), set()).add(round(vy, 6))
    for minute, count in enumerate(r.timeline["ThrottledCount"]):
        assert round(float(count), 6) in tops[minute], minute
    assert "throttled (" not in " ".join(str(c.get_label()) for c in ax.collections)


def test_the_worst_hour_and_worst_minutes_are_marked_as_the_summary_counts_them(outage_run):
    r, s = outage_run, outage_run.summary
    ax = plots.plot_timeline(r)
    low = ax.figure.axes[-1]
    notes = [t.get_text() for t in low.texts if t.get_text().startswith("worst hour")]
    assert notes == [
        f"worst hour, from {plotdata.busy_marks(r.timeline).hour_start:%m-%d %H:00}: "
        f"{100 * s.throttle_rate_worst_hour:.3g}% throttled"
    ]
    # The outage (01:00-02:00) is the worst hour; its band is on both panels.
    assert "01-05 01:00" in notes[0]
    for panel in (ax, low):
        bands = [p for p in panel.patches if p.get_alpha() and p.get_x() > 0]
        assert any(
            np.isclose(b.get_x(), plots.mdates.date2num(pd.Timestamp("2026-01-05 01:00")))
            for b in bands
        )
    marks = _line(low, "worst 5 minutes")
    worst = r.timeline["ThrottledCount"] / r.timeline["offered_requests"]
    expected = plots.mdates.date2num(worst.nlargest(5).index.tz_localize(None).to_pydatetime())
    assert sorted(marks.get_xdata() - 0.5 / 1440) == pytest.approx(sorted(expected))
    assert f"{100 * worst.max():.3g}% of their attempts throttled" in str(marks.get_label())


def test_a_month_of_throttling_stays_inside_its_panel_with_the_worst_hour_at_the_end():
    tl = _long_timeline(30)
    tl["ThrottledCount"] = np.where(np.arange(len(tl)) % 97 == 0, 5, 0)
    tl.iloc[-30:, tl.columns.get_loc("ThrottledCount")] = 120  # the last hour is the worst
    ax = plots.plot_timeline(tl, tps_per_unit=5.0)
    fig, low = ax.figure, ax.figure.axes[-1]
    assert "1-hour means" in ax.get_title()
    assert len(_stack(low)[0].get_paths()[0].vertices) < 4 * 1500  # binned, not 43,200 steps
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = low.get_window_extent(renderer)
    (note,) = [t for t in low.texts if t.get_text().startswith("worst hour")]
    box = note.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1
    rate = worst_hour_throttle_rate(
        tl["offered_requests"].to_numpy(), tl["ThrottledCount"].to_numpy(), tl.index[0]
    )
    assert f"03-31 23:00: {100 * rate:.3g}% throttled" in note.get_text()


def test_a_timeline_without_causes_shows_one_throttled_area(outage_run):
    bare = outage_run.timeline.drop(columns=CAUSES)
    ax = plots.plot_timeline(bare, tps_per_unit=1.0)
    labels = [str(c.get_label()) for c in _stack(ax.figure.axes[-1])]
    assert labels == [
        f"throttled ({outage_run.summary.throttled:,} requests, "
        f"{100 * outage_run.summary.throttle_rate:.3g}% of offered)"
    ]


def test_on_one_given_axes_the_throttling_is_drawn_there(outage_run):
    _, (a, b) = plt.subplots(2)
    assert plots.plot_timeline(outage_run, a) is a
    assert len(_stack(a)) == 2 and not _stack(b)
    assert any(t.get_text().startswith("worst hour") for t in a.texts)


# --- cost ------------------------------------------------------------------------------------


def test_cost_bars_add_up_to_the_run_cost(result):
    ax = plots.plot_daily_cost(result)
    heights = sum(p.get_height() for p in ax.patches if isinstance(p, Rectangle))
    assert heights == pytest.approx(result.summary.cost_usd)
    assert ax.get_ylabel() == "cost per hour (USD)"  # a two-hour run: per hour
    assert len(ax.containers) == 2  # Min units, and units above Min
    assert "MinInferenceUnits" in " ".join(_legend_texts(ax))


def test_daily_cost_of_several_days_has_a_labelled_bar_a_day():
    ax = plots.plot_daily_cost(_long_timeline(3), price_per_unit_hour_usd=4.0)
    assert ax.get_ylabel() == "cost per day (USD)"
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "Mon 02 Mar",
        "Tue 03 Mar",
        "Wed 04 Mar",
    ]
    base, extra = ax.containers
    # 8 h at 1 unit, then 16 h at 3 units: 8 + 48 unit-hours, 24 of them the Min unit.
    assert [p.get_height() for p in base] == pytest.approx([96.0] * 3)
    assert [p.get_height() for p in extra] == pytest.approx([128.0] * 3)


# --- sweeps ----------------------------------------------------------------------------------


def test_frontier_marks_the_recommendation_the_slo_and_the_confidence(table):
    rec = recommend(table, SLO)
    ax = plots.plot_frontier(table, recommendation=rec)
    assert ax.get_xlabel().startswith("throttle rate (% of requests")
    assert ax.get_ylabel() == "monthly cost (USD, 730 h)"
    assert "95% confidence" in ax.get_title()
    star = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(star) == 1
    assert star[0].get_xdata()[0] == pytest.approx(100 * rec.choice.throttle_rate)
    assert star[0].get_ydata()[0] == pytest.approx(rec.choice.monthly_cost_usd)
    slo = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert slo[0].get_xdata()[0] == pytest.approx(100 * SLO)
    assert len(ax.collections) >= 2  # confidence bars of configurations and oracles
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("recommended: Min 1, Max 3") for t in texts)
    assert any(t.startswith("oracle, Min") for t in texts)
    assert "SLO: upper 95% bound ≤ 5%" in _legend_texts(ax)


def test_frontier_computes_the_recommendation_from_a_target_and_takes_an_aggregate(table):
    ax = plots.plot_frontier(table, max_throttle_rate=SLO)
    assert any(line.get_marker() == "*" for line in ax.get_lines())
    ax = plots.plot_frontier(aggregate(table), max_throttle_rate=SLO)
    assert not any(line.get_marker() == "*" for line in ax.get_lines())  # no runs, no bound


def test_cost_heatmap_shows_each_configuration_and_frames_the_choice(table):
    rec = recommend(table, SLO)
    ax = plots.plot_cost_heatmap(table, recommendation=rec)
    assert ax.get_xlabel() == "MaxInferenceUnits (no auto-scaling: none set)"
    assert ax.get_ylabel() == "MinInferenceUnits"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "no auto-scaling"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2"]
    image = ax.get_images()[0].get_array()
    agg = aggregate(table).set_index(["min_units", "max_units", "oracle_bound"])
    assert image[0, 2] == pytest.approx(agg.loc[(1, 3, False), "monthly_cost_usd"])
    assert image[1, 3] == pytest.approx(agg.loc[(2, pd.NA, False), "monthly_cost_usd"])
    assert np.ma.is_masked(image[1, 0])  # Max 1 < Min 2
    frames = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_linewidth() >= 3]
    assert [(f.get_x(), f.get_y()) for f in frames] == [(1.5, -0.5)]  # Min 1, Max 3
    colorbar = ax.figure.axes[-1]
    assert colorbar.get_ylabel() == "monthly cost (USD, 730 h)"


def test_throttle_heatmap_shows_rates_with_their_bounds(table):
    ax = plots.plot_throttle_heatmap(table, max_throttle_rate=SLO)
    agg = aggregate(table).set_index(["min_units", "max_units", "oracle_bound"])
    row = agg.loc[(1, 3, False)]
    texts = [t.get_text() for t in ax.texts]
    expected = f"{100 * row['throttle_rate']:.2g}%\n≤{100 * row['throttle_rate_upper']:.2g}%"
    assert expected in texts
    assert ax.figure.axes[-1].get_ylabel() == "throttle rate (% of requests)"
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert expected in bold  # meets the SLO


def test_heatmap_rejects_an_unknown_metric(table):
    with pytest.raises(ValueError, match="metric"):
        plots.plot_heatmap(table, "cost")


def test_sweep_plots_with_varied_keys_show_each_variant(scenario):
    varied = sweep(
        scenario,
        min_units=[1],
        max_units=[2, 3],
        replications=2,
        vary={"autoscaler.provisioning_delay_s": [60, 600]},
        workers=1,
    )
    ax = plots.plot_frontier(varied, max_throttle_rate=SLO)
    legend = _legend_texts(ax)
    assert "60" in legend and "600" in legend
    ax = plots.plot_cost_heatmap(varied)
    assert "worst case over autoscaler.provisioning_delay_s" in ax.get_title()


@pytest.fixture(scope="module")
def crowded() -> pd.DataFrame:
    """A real sweep of 50 configurations moved close together: five cost levels, each of
    ten configurations within about USD 100, throttle rates a few percent apart."""
    sc = lfvsim.Scenario.model_validate(
        {
            "model": {"min_units": 1, "max_units": 4},
            "unit": {"slots": 2, "latency_distribution": "constant", "latency_mean_s": 0.5},
            "traffic": {
                "kind": "diurnal",
                "mean_tps": 4.0,
                "peak_to_trough": 6,
                "duration_h": 0.25,
            },
        }
    )
    t = sweep(
        sc, min_units=[1, 2, 3, 4, 5], max_units=list(range(1, 13)), replications=2, workers=1
    )
    key = t["min_units"].astype(str) + "/" + t["max_units"].astype(str)
    codes, configs = pd.factorize(key)
    rng = np.random.default_rng(1)
    t["monthly_cost_usd"] = 3000.0 + 900 * t["min_units"] + rng.normal(0, 60, len(configs))[codes]
    t["cost_usd"] = t["monthly_cost_usd"] * t["duration_h"] / 730
    t["throttle_rate"] = 0.02 * rng.lognormal(0, 0.3, len(configs))[codes] / t["min_units"]
    return t


def _drawn(ax):
    """Draw the figure as a PNG would be (Agg) and return the renderer that measured it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    return canvas.get_renderer()


def test_crowded_frontier_labels_stay_by_their_markers_inside_the_axes(crowded):
    fig = render_figure("frontier", crowded, max_throttle_rate=0.005)
    ax = fig.axes[0]
    renderer = _drawn(ax)
    frame = ax.get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    labels = [t for t in ax.texts if not t.get_text().startswith("recommended")]
    (note,) = [t for t in ax.texts if t.get_text().startswith("recommended")]
    assert crowded.groupby(["min_units", "max_units"], dropna=False).ngroups >= 50
    items = _label_items(crowded)
    left_out = [t.get_text() for t in ax.get_legend().get_texts() if "left out" in t.get_text()]
    missing = int(left_out[0].split("; ")[1].split()[0]) if left_out else 0
    assert len(labels) + missing == len(items) >= 45
    assert len(labels) >= 0.8 * len(items)
    # The texts' own boxes: an annotation's extent takes in its leader line too.
    boxes = [Text.get_window_extent(t, renderer) for t in labels]
    others = [title, legend, note.get_bbox_patch().get_window_extent(renderer)]
    for text, box in zip(labels, boxes, strict=True):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
        assert not any(box.overlaps(b) for b in others), text.get_text()
        # Beside its marker (within half a line), or joined to it by a line.
        px, py = ax.transData.transform(text.xy)
        beside = box.padded(10).contains(px, py)
        assert beside or text.arrow_patch is not None, text.get_text()
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (labels[i].get_text(), a, b)


def _label_items(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """What the frontier labels, by text: its point in percent and USD."""
    agg = plotdata.sweep_summary(table, 0.95)
    choice = recommend(table, 0.005).choice
    real = agg[~agg["oracle_bound"].astype(bool)]
    oracle = agg[agg["oracle_bound"].astype(bool)]
    return {t: (100 * r, c) for r, c, t in plotdata.label_items(real, oracle, choice)}


def test_each_configuration_is_labelled_at_its_own_point(crowded):
    ax = plots.plot_frontier(crowded, max_throttle_rate=0.005)
    items = _label_items(crowded)
    labels = [t for t in ax.texts if not t.get_text().startswith("recommended")]
    assert len(labels) > 40
    for text in labels:
        assert text.xy == pytest.approx(items[text.get_text()])


def test_labels_that_find_no_free_spot_are_left_out_not_piled_up():
    from lfvsim.reports.labels import place_labels

    _, ax = plt.subplots(figsize=(3, 2))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    items = [(0.5, 0.5, f"{i}/{i + 1}") for i in range(60)]
    placed, left_out = place_labels(ax, items, avoid_points=[(0.5, 0.5)])
    assert len(placed) + len(left_out) == 60 and 5 < len(placed) < 60
    assert left_out == [t for _, _, t in items[len(placed) :]]  # the first given go first
    renderer = _drawn(ax)
    frame = ax.get_window_extent(renderer)
    texts = [Text.get_window_extent(t, renderer) for t in ax.texts]
    assert len(texts) == len(placed)
    for i, a in enumerate(texts):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1
        assert not any(a.overlaps(b) for b in texts[i + 1 :])


@pytest.mark.parametrize("max_units", [1, 2, 4])
def test_a_one_row_heatmap_keeps_its_whole_subtitle(crowded, max_units):
    narrow = crowded[
        (crowded["min_units"] == 1)
        & (crowded["max_units"].isna() | (crowded["max_units"] <= max_units))
    ]
    fig = render_figure("heatmap-throttle", narrow, max_throttle_rate=0.05)
    ax = fig.axes[0]
    words = " ".join(ax.get_title().split())
    assert "bold: meets the SLO (bound ≤ 5%); framed: recommended" in words
    assert "mean, and ≤ its upper 95% bound" in words
    box = ax.title.get_window_extent(_drawn(ax))
    assert 0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1


# --- lfvsim plot -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    result.write(folder)
    return folder


@pytest.fixture(scope="module")
def sweep_file(table, tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sweep.parquet"
    table.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(
    "kind, suffix",
    [
        ("timeline", ".png"),
        ("daily-cost", ".svg"),
        ("frontier", ".png"),
        ("heatmap-cost", ".png"),
        ("heatmap-throttle", ".svg"),
    ],
)
def test_plot_command_writes_each_kind(cli, run_folder, sweep_file, tmp_path, kind, suffix):
    source = run_folder if kind in ("timeline", "daily-cost") else sweep_file
    slo = () if source == run_folder else ("--max-throttle-rate", "0.001")
    out = tmp_path / f"figure{suffix}"
    code, stdout, err = cli("plot", kind, source, "-o", out, *slo)
    assert code == 0, err
    if source == run_folder:
        assert stdout.strip() == f"wrote {out}"
    else:  # a sweep's figure says which SLO it marks
        assert (
            stdout.strip()
            == f"wrote {out} (SLO throttle rate <= 0.1%, upper bounds at 95% confidence)"
        )
    data = out.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    else:
        assert b"<svg" in data[:2000] and len(data) > 10_000
    left = [p.name for p in tmp_path.iterdir() if p.name != ".lfvsim-written"]  # the ledger
    assert left == [out.name]  # no temporary file left


def test_plot_command_reads_sweep_csv(cli, table, tmp_path):
    csv = tmp_path / "sweep.csv"
    table.to_csv(csv, index=False)
    code, _, err = cli(
        "plot", "heatmap-cost", csv, "-o", tmp_path / "h.png", "--max-throttle-rate", "0.001"
    )
    assert code == 0, err


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("timeline", "{sweep}", "-o", "{out}.png"),
            "is a sweep table; timeline draws a run folder",
        ),
        (("frontier", "{run}", "-o", "{out}.png"), "is a folder (a run?)"),
        (("timeline", "{run}", "-o", "{out}.jpg"), "unknown image format '.jpg'"),
        (("frontier", "{missing}.parquet", "-o", "{out}.png"), "do not exist"),
        (("timeline", "{missing}", "-o", "{out}.png"), "does not exist"),
        (("frontier", "{sweep}", "-o", "{out}.png", "--confidence", "1.5"), "--confidence"),
        (("frontier", "{sweep}", "-o", "{out}.png"), "this sweep stores no SLO"),
    ],
)
def test_plot_command_bad_input_is_one_line_exit_2_and_no_file(
    cli, run_folder, sweep_file, tmp_path, args, message
):
    out = tmp_path / "out"
    values = {"sweep": sweep_file, "run": run_folder, "out": out, "missing": tmp_path / "nope"}
    code, _, err = cli("plot", *(a.format(**values) for a in args))
    assert code == 2
    assert err.startswith("lfvsim: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not list(tmp_path.iterdir())


# --- the data each figure shows (no drawing) --------------------------------------------------


def test_plotdata_loads_without_matplotlib():
    code = "import sys, lfvsim.reports.plotdata; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_timeline_bins_are_per_second_means_and_summed_throttling():
    timeline = _long_timeline(1)
    per_minute = plotdata.timeline_bins(timeline, 1)
    assert len(per_minute) == 1440 and per_minute.index.tz is None
    assert per_minute["offered"].iloc[0] == pytest.approx(240 / 60)
    assert per_minute["in_service"].iloc[9 * 60] == 3.0 and (per_minute["hosted"] == 1.0).all()
    hourly = plotdata.timeline_bins(timeline, 60)
    assert len(hourly) == 24
    # counts add up over a bin, rates are means over it
    assert hourly["throttled_count"].sum() == timeline["ThrottledCount"].sum()
    assert hourly["offered"].iloc[0] == pytest.approx(per_minute["offered"].iloc[:60].mean())


def test_bin_minutes_keep_at_most_1500_points():
    assert plotdata.bin_minutes(1440) == 1
    assert plotdata.bin_minutes(3 * 1440) == 5
    assert all(rows / plotdata.bin_minutes(rows) <= 1500 for rows in (2000, 20_000, 200_000))


def test_daily_cost_bins_split_at_min_and_add_up_to_the_cost():
    timeline = _long_timeline(3).iloc[: 2 * 1440 + 600]  # the last day is partial
    bins = plotdata.daily_cost_bins(timeline, 4.0, "D")
    assert list(bins["minutes"]) == [1440, 1440, 600]
    # 1 Min unit all day at USD 4 an hour; 2 more units from 08:00 to 24:00
    assert bins["base"].iloc[0] == pytest.approx(24 * 4.0)
    assert bins["extra"].iloc[0] == pytest.approx(16 * 2 * 4.0)
    total = (timeline["billed_units"].sum() / 60) * 4.0
    assert (bins["base"] + bins["extra"]).sum() == pytest.approx(total)


def test_pareto_keeps_only_configurations_no_cheaper_one_beats():
    rows = pd.DataFrame(
        {"monthly_cost_usd": [100.0, 200.0, 150.0, 300.0], "throttle_rate": [0.1, 0.0, 0.2, 0.0]}
    )
    front = plotdata.pareto(rows)
    assert list(front.index) == [0, 1]  # 150 throttles more than 100; 300 no less than 200


def test_config_text_collapses_runs_of_max():
    assert (
        plotdata.config_text([(1, 2), (1, 3), (1, 4), (1, None), (2, 3)])
        == "1/2-4,no auto-scaling 2/3"
    )


def test_heatmap_cells_put_each_configuration_in_its_row_and_column(table):
    agg = aggregate(table)
    real = agg[~agg["oracle_bound"]]
    cells, mins, maxs, grid = plotdata.heatmap_cells(real, "monthly_cost_usd")
    assert len(cells) == len(real)
    assert mins == [1, 2] and maxs == [1.0, 2.0, 3.0, np.inf]  # inf: no auto-scaling
    row = real[(real["min_units"] == 2) & real["max_units"].isna()].iloc[0]
    assert grid[1, 3] == pytest.approx(row["monthly_cost_usd"])
    assert np.isnan(grid[1, 0])  # Max 1 below Min 2 never ran


def test_label_items_share_a_label_and_leave_the_choice_to_its_annotation(table):
    agg = aggregate(table)
    real, oracle = agg[~agg["oracle_bound"]], agg[agg["oracle_bound"]]
    rec = recommend(table, SLO)
    items = plotdata.label_items(real, oracle, rec.choice)
    costs = [cost for _, cost, _ in items]
    assert costs == sorted(costs)
    texts = [text for _, _, text in items]
    assert sum(t.startswith("oracle") for t in texts) == len(oracle)
    assert f"{rec.choice.min_units}/{rec.choice.max_units}" not in texts


def test_throttle_axis_is_linear_below_the_smallest_rate():
    agg = pd.DataFrame({"throttle_rate": [0.0, 0.0004, 0.02]})
    linthresh, right = plotdata.throttle_axis(agg, 0.001)
    assert linthresh == pytest.approx(0.01) and right == pytest.approx(2.0)  # percent
    assert plotdata.throttle_axis(pd.DataFrame({"throttle_rate": [0.0]}), None) == (0.01, 1.0)


def test_bad_arguments_to_the_plots_are_input_errors(result):
    with pytest.raises(lfvsim.InputError, match="price_per_unit_hour_usd"):
        plots.plot_daily_cost(result.timeline)
    with pytest.raises(lfvsim.InputError, match="freq"):
        plots.plot_daily_cost(result, freq="W")
    with pytest.raises(lfvsim.InputError, match="positive"):
        plots.plot_timeline(result, tps_per_unit=0)
