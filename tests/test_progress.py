"""Progress bars: rich on stderr, only on a terminal, and no change to what is printed."""

from __future__ import annotations

import io
import sys

from lfvsim.cli.progress import progress_bar, run_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_terminal_no_bar(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress_bar(delay_s=0) as update:
        assert update is None
    with run_progress("sweep", delay_s=0) as update:
        assert update is None
    assert err.getvalue() == ""


def test_simulation_bar_counts_simulated_hours_on_stderr(monkeypatch, capsys):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with progress_bar(delay_s=0) as update:
        update(0.0, 7200.0)
        update(3600.0, 7200.0)
    drawn = err.getvalue()
    assert "simulating" in drawn
    assert "1.0/2.0 h" in drawn
    assert "h/s" in drawn and "eta" in drawn
    assert capsys.readouterr().out == ""  # nothing on stdout


def test_run_bar_counts_runs(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with run_progress("sweep", delay_s=0) as update:
        update(3, 20)
        update(7, 20)
    drawn = err.getvalue()
    assert "sweep" in drawn
    assert "7/20" in drawn
    assert "run/s" in drawn


def test_short_work_draws_nothing(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with run_progress("sweep", delay_s=3600) as update:
        update(1, 2)
        update(2, 2)
    assert err.getvalue() == ""
