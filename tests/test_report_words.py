"""The words people read: one name for no auto-scaling, agreement, durations, small rates."""

from __future__ import annotations

import re

import pytest

import lfvsim
from lfvsim.billing import PRICE_SOURCE
from lfvsim.experiments.compare import mode_overrides
from lfvsim.reports import build_report
from lfvsim.reports.formatting import NO_AUTOSCALING, config_label, duration, percent, plural
from lfvsim.reports.plotdata import config_text, max_label
from tests.conftest import scenario as make_scenario
from tests.conftest import small_scenario_toml


@pytest.mark.parametrize(
    "count, expected",
    [(0, "0 scale-outs"), (1, "1 scale-out"), (2, "2 scale-outs"), (1234, "1,234 scale-outs")],
)
def test_plural_agrees_with_the_count(count, expected):
    assert plural(count, "scale-out") == expected


def test_plural_takes_an_irregular_plural():
    assert plural(1, "replication", "replications") == "1 replication"
    assert plural(3, "unit-hour of", "unit-hours of") == "3 unit-hours of"


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0.25, "0.25 s"),
        (45, "45 s"),
        (60, "1 min"),
        (199, "3 min 19 s"),
        (3599.4, "59 min 59 s"),
        (3599.6, "1 h"),
        (7500, "2 h 05 min"),
        (90.5 * 60, "1 h 30 min"),
        (86400, "1 d"),
        (3 * 86400 + 4 * 3600, "3 d 04 h"),
        (float("nan"), "n/a"),
    ],
)
def test_durations_read_as_people_write_them(seconds, expected):
    assert duration(seconds) == expected


@pytest.mark.parametrize(
    "rate, expected",
    [(0, "0%"), (1e-9, "< 0.001%"), (9.9e-6, "< 0.001%"), (1e-5, "0.001%"), (0.00123, "0.123%")],
)
def test_small_percentages_say_less_than_rather_than_show_noise(rate, expected):
    assert percent(rate) == expected


def test_no_auto_scaling_has_one_name_in_labels_tables_and_plots():
    assert NO_AUTOSCALING == "no auto-scaling"
    assert config_label(2, None) == "Min 2, no auto-scaling"
    assert max_label(float("inf")) == "no auto-scaling"
    assert config_text([(1, 2), (1, None)]) == "1/2,no auto-scaling"


def test_compare_mode_no_auto_scaling_is_the_old_always_on():
    s = make_scenario(model={"project": "p", "version": "1", "min_units": 1, "max_units": 3})
    assert mode_overrides(s, "no-auto-scaling") == mode_overrides(s, "always-on")
    assert mode_overrides(s, "no-auto-scaling:2")["model.min_units"] == 2
    with pytest.raises(lfvsim.InputError, match="no-auto-scaling:3"):
        mode_overrides(s, "no-auto-scaling:x")


def test_the_price_is_called_an_assumption_without_a_note_on_how_it_was_found(tmp_path):
    assert "assumption" in PRICE_SOURCE
    path = tmp_path / "s.toml"
    path.write_text(small_scenario_toml(duration_h=1))
    page = build_report(lfvsim.load_scenario(path)).to_html()
    for remark in ("pricing page", "could not be read", "could not read"):
        assert remark not in PRICE_SOURCE and remark not in page
    assert "ASSUMPTION" in page
    # The run table gives durations and scaling counts in words.
    assert re.search(r"<td>simulated</td><td>1 h \(hosted 1 h\), seed \d+</td>", page)
    assert re.search(r"<td>\d+ scale-(out|outs), \d+ scale-(in|ins)</td>", page)
