"""An output into a folder that does not exist is refused, never created on a typo."""

from __future__ import annotations

from tests.test_cli import QUICKSTART, assert_clean_failure


def test_plot_refuses_a_missing_output_folder(cli, tmp_path):
    target = tmp_path / "no" / "p.png"
    # refused before the input is read: the output is the problem named
    result = cli("plot", "timeline", tmp_path / "nope", "-o", target)
    assert_clean_failure(*result, "output folder", "create it first")
    assert not target.parent.exists()


def test_report_refuses_a_missing_output_folder(cli, tmp_path):
    target = tmp_path / "no" / "r.html"
    result = cli("report", QUICKSTART, "-o", target)
    assert_clean_failure(*result, "output folder", "create it first")
    assert not target.parent.exists()


def test_sweep_refuses_a_missing_output_folder(cli, tmp_path):
    target = tmp_path / "no" / "s.csv"
    result = cli("sweep", QUICKSTART, "--min", "1", "--max", "1..2", "-o", target)
    assert_clean_failure(*result, "output folder", "create it first")
    assert not target.parent.exists()


def test_recommend_refuses_a_missing_output_folder(cli, tmp_path):
    target = tmp_path / "no" / "r.csv"
    result = cli("recommend", QUICKSTART, "--max-throttle-rate", "0.01", "-o", target)
    assert_clean_failure(*result, "output folder", "create it first")
    assert not target.parent.exists()
