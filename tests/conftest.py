"""Shared test helpers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import lfvsim
from lfvsim.cli import entry_point

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def small_scenario_toml(duration_h: float = 2) -> str:
    """A small auto-scaled scenario (Min 1, Max 3, diurnal 5 TPS) as TOML text."""
    return f"""\
[model]
project = "line-7"
min_units = 1
max_units = 3
[autoscaler]
provisioning_delay_s = 120
[traffic]
kind = "diurnal"
mean_tps = 5.0
peak_to_trough = 4.0
peak_hour_utc = 1.5
duration_h = {duration_h:g}
[simulation]
seed = 5
"""


def scenario(**sections: dict[str, Any]) -> lfvsim.Scenario:
    """A scenario from section dicts; traffic defaults to 2 TPS for one hour."""
    sections.setdefault("traffic", {"kind": "constant", "rate_tps": 2.0, "duration_h": 1})
    return lfvsim.Scenario.model_validate(sections)


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run the console script in-process: returns (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["lfvsim", *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            entry_point()
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run
