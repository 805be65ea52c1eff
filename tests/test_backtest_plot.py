"""The backtest figures read as counts over clock time: whole-unit ticks, a UTC time axis."""

from __future__ import annotations

import json
import tomllib

import matplotlib
import pytest

from lfvsim.engine import simulate
from lfvsim.experiments.backtest import backtest
from lfvsim.reports.backtest_plot import plot_backtest, plot_backtest_errors
from lfvsim.scenario import Scenario
from lfvsim.traces.metric_export import metric_data_export
from lfvsim.traces.metric_history import read_metric_history

matplotlib.use("Agg")

TOML = """\
[model]
project = "line-7"
min_units = 1
max_units = 3
[autoscaler]
provisioning_delay_s = 120
[traffic]
kind = "diurnal"
mean_tps = 4.0
peak_to_trough = 5.0
peak_hour_utc = 1
duration_h = 3
"""


@pytest.fixture(scope="module")
def bt(tmp_path_factory):
    """A backtest of a 3-hour history that scales between 1 and 3 units."""
    scenario = Scenario.model_validate(tomllib.loads(TOML))
    made = simulate(scenario, seed=1)
    (page,) = metric_data_export(
        made.timeline, service="lookoutvision", project="line-7", version="1"
    )
    path = tmp_path_factory.mktemp("h") / "history.json"
    path.write_text(json.dumps(page))
    return backtest(scenario, read_metric_history(path), seed=2)


def _drawn(fig):
    fig.canvas.draw()  # ticks are placed when drawn
    return fig.axes


def test_unit_axes_tick_whole_units_only(bt):
    import matplotlib.pyplot as plt

    fig = plot_backtest(bt)
    try:
        units, _throttled = _drawn(fig)
        ticks = [t for t in units.get_yticks() if units.get_ylim()[0] <= t <= units.get_ylim()[1]]
        assert len(ticks) >= 3
        assert all(t == int(t) for t in ticks), ticks
        # The legend sits above the highest step, not on it.
        assert units.get_ylim()[1] > 1.4 * bt.minutes["observed_in_service"].max()
    finally:
        plt.close(fig)
    diff, _hours = _drawn(plot_backtest_errors(bt))
    assert all(t == int(t) for t in diff.get_yticks()), diff.get_yticks()


def test_time_axis_names_utc_and_the_date(bt):
    import matplotlib.pyplot as plt

    fig = plot_backtest(bt)
    try:
        _units, throttled = _drawn(fig)
        day = f"{bt.minutes.index[0]:%Y-%m-%d}"
        assert throttled.get_xlabel() == f"time (UTC), {day}"
        labels = [t.get_text() for t in throttled.get_xticklabels() if t.get_text()]
        assert "01:00" in labels, labels  # hours of the day in UTC, not a float axis
    finally:
        plt.close(fig)
    _diff, hours = _drawn(plot_backtest_errors(bt))
    assert hours.get_xlabel().startswith("time (UTC), ")
