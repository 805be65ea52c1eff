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

import lfvsim
from lfvsim.experiments import aggregate, recommend, sweep
from lfvsim.reports import plotdata, plots
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
    return [t.get_text() for t in ax.get_legend().get_texts()]


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
    assert ax.get_xlabel().startswith("time (UTC)")
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
    assert "2026-03-02 to 2026-03-04" in ax.get_xlabel()


def test_timeline_without_a_needed_column_names_it(result):
    with pytest.raises(lfvsim.InputError, match="DesiredInferenceUnits"):
        plots.plot_timeline(result.timeline.drop(columns="DesiredInferenceUnits"), tps_per_unit=5)


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
        (("timeline", "{sweep}", "-o", "{out}.png"), "not a run folder"),
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
