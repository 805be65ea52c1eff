"""Scenario settings the chosen modes do not use, for the run's notes.

``--show-config`` and ``run --out`` write every key with its default, so a key the mode
ignores cannot be refused. A key set to anything other than its default, in a mode that
never reads it, is said in one note, so that nobody believes it was modelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lfvsim.safe_output import toml_value
from lfvsim.scenario import Scenario

__all__ = ["ignored_notes"]

#: (section, keys, whether the scenario uses them, the setting that does).
_RULES: tuple[tuple[str, tuple[str, ...], Callable[[Scenario], bool], str], ...] = (
    ("unit", ("queue_limit",), lambda s: s.unit.when_busy == "queue", 'unit.when_busy = "queue"'),
    (
        "unit",
        ("rate_tps", "burst"),
        lambda s: s.unit.throttling == "rate",
        'unit.throttling = "rate"',
    ),
    (
        "unit",
        ("latency_p99_s",),
        lambda s: s.unit.latency_distribution == "lognormal",
        'unit.latency_distribution = "lognormal"',
    ),
    (
        "hosting",
        ("timezone", "windows", "start_early"),
        lambda s: s.hosting.mode == "schedule",
        'hosting.mode = "schedule"',
    ),
    (
        "hosting",
        ("batch_start_queue", "batch_check_s"),
        lambda s: s.hosting.mode == "batch",
        'hosting.mode = "batch"',
    ),
    (
        "hosting",
        ("start_delay_s", "bill_starting"),
        lambda s: s.hosting.mode != "always_on",
        'hosting.mode = "schedule" or "batch"',
    ),
)


def ignored_notes(scenario: Scenario) -> list[str]:
    """One note per key set to a value other than its default that the modes ignore.

    Parameters
    ----------
    scenario : Scenario
        The scenario that runs.

    Returns
    -------
    list of str
        ``'ignored: unit.queue_limit = 10 (only used with unit.when_busy = "queue")'``,
        in the order of the rules; empty when every non-default key is used.
    """
    notes = []
    for name, keys, used, needs in _RULES:
        if used(scenario):
            continue
        section = getattr(scenario, name)
        fields = type(section).model_fields
        for key in keys:
            value: Any = getattr(section, key)
            if value != fields[key].get_default(call_default_factory=True):
                shown = toml_value(value)
                notes.append(f"ignored: {name}.{key} = {shown} (only used with {needs})")
    return notes
