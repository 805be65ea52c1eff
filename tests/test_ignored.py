"""A scenario key set away from its default in a mode that never reads it is noted."""

from __future__ import annotations

import pytest

from lfvsim.ignored import ignored_notes
from tests.conftest import ROOT, scenario

WINDOWS = ["Mon-Fri 06:00-22:00"]

# (sections with the key set, the note, sections in which the mode uses that key).
CASES = [
    (
        {"unit": {"queue_limit": 10}},
        'ignored: unit.queue_limit = 10 (only used with unit.when_busy = "queue")',
        {"unit": {"queue_limit": 10, "when_busy": "queue"}},
    ),
    (
        {"unit": {"rate_tps": 7.0}},
        'ignored: unit.rate_tps = 7.0 (only used with unit.throttling = "rate")',
        {"unit": {"rate_tps": 7.0, "throttling": "rate"}},
    ),
    (
        {"unit": {"burst": 20.0}},
        'ignored: unit.burst = 20.0 (only used with unit.throttling = "rate")',
        {"unit": {"burst": 20.0, "throttling": "rate"}},
    ),
    (
        {"unit": {"latency_distribution": "exponential", "latency_p99_s": 3.0}},
        "ignored: unit.latency_p99_s = 3.0 "
        '(only used with unit.latency_distribution = "lognormal")',
        {"unit": {"latency_distribution": "lognormal", "latency_p99_s": 3.0}},
    ),
    (
        {"unit": {"latency_distribution": "constant", "latency_p99_s": 3.0}},
        "ignored: unit.latency_p99_s = 3.0 "
        '(only used with unit.latency_distribution = "lognormal")',
        {"unit": {"latency_p99_s": 3.0}},
    ),
    (
        {"hosting": {"windows": WINDOWS}},
        'ignored: hosting.windows = ["Mon-Fri 06:00-22:00"] '
        '(only used with hosting.mode = "schedule")',
        {"hosting": {"mode": "schedule", "windows": WINDOWS}},
    ),
    (
        {"hosting": {"mode": "batch", "timezone": "Europe/Berlin"}},
        'ignored: hosting.timezone = "Europe/Berlin" (only used with hosting.mode = "schedule")',
        {"hosting": {"mode": "schedule", "windows": WINDOWS, "timezone": "Europe/Berlin"}},
    ),
    (
        {"hosting": {"start_early": True}},
        'ignored: hosting.start_early = true (only used with hosting.mode = "schedule")',
        {"hosting": {"mode": "schedule", "windows": WINDOWS, "start_early": True}},
    ),
    (
        {"hosting": {"mode": "schedule", "windows": WINDOWS, "batch_start_queue": 50}},
        'ignored: hosting.batch_start_queue = 50 (only used with hosting.mode = "batch")',
        {"hosting": {"mode": "batch", "batch_start_queue": 50}},
    ),
    (
        {"hosting": {"batch_check_s": 300.0}},
        'ignored: hosting.batch_check_s = 300.0 (only used with hosting.mode = "batch")',
        {"hosting": {"mode": "batch", "batch_check_s": 300.0}},
    ),
    (
        {"hosting": {"start_delay_s": 60.0}},
        "ignored: hosting.start_delay_s = 60.0 "
        '(only used with hosting.mode = "schedule" or "batch")',
        {"hosting": {"mode": "batch", "start_delay_s": 60.0}},
    ),
    (
        {"hosting": {"bill_starting": True}},
        "ignored: hosting.bill_starting = true "
        '(only used with hosting.mode = "schedule" or "batch")',
        {"hosting": {"mode": "schedule", "windows": WINDOWS, "bill_starting": True}},
    ),
]


@pytest.mark.parametrize(("ignored", "note", "used"), CASES)
def test_a_non_default_key_the_mode_ignores_is_noted(ignored, note, used):
    assert note in ignored_notes(scenario(**ignored))


@pytest.mark.parametrize(("ignored", "note", "used"), CASES)
def test_no_note_when_the_mode_uses_the_key(ignored, note, used):
    assert ignored_notes(scenario(**used)) == []


@pytest.mark.parametrize(("ignored", "note", "used"), CASES)
def test_no_note_when_the_key_keeps_its_default(ignored, note, used):
    # Same modes with the noted key left at its default: --show-config writes them all.
    section, _, key = note.removeprefix("ignored: ").split(" = ")[0].partition(".")
    defaults = {**ignored, section: {k: v for k, v in ignored[section].items() if k != key}}
    assert ignored_notes(scenario(**defaults)) == []


def test_a_default_scenario_and_one_written_by_show_config_have_no_notes(cli, tmp_path):
    assert ignored_notes(scenario()) == []
    path = ROOT / "scenarios" / "batch-inspection.toml"
    code, out, err = cli("run", path, "--show-config")
    assert code == 0, err
    written = tmp_path / "resolved.toml"
    written.write_text(out, encoding="utf-8")
    code, out, err = cli("run", written)
    assert code == 0, err
    assert "ignored:" not in out


def test_run_prints_the_note(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[unit]\nqueue_limit = 10\n\n"
        "[traffic]\nkind = 'constant'\nrate_tps = 2.0\nduration_h = 1\n\n"
        "[simulation]\nseed = 1\n",
        encoding="utf-8",
    )
    code, out, err = cli("run", path)
    assert code == 0, err
    assert 'ignored: unit.queue_limit = 10 (only used with unit.when_busy = "queue")' in out
