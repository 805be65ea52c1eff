"""Units draining after a scale-in are kept only while they drain, not for the whole run."""

from __future__ import annotations

import importlib
from typing import ClassVar

import pytest

from lfvsim.engine.control import Cluster
from tests.conftest import scenario

simulate_module = importlib.import_module("lfvsim.engine.simulate")


class WatchedCluster(Cluster):
    """A cluster that records the most units it kept as draining at once."""

    made: ClassVar[list[WatchedCluster]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.most_draining = 0
        WatchedCluster.made.append(self)

    def _retire_all(self, sessions, now, reason) -> None:
        super()._retire_all(sessions, now, reason)
        self.most_draining = max(self.most_draining, len(self._draining))


def test_the_draining_list_holds_only_units_still_draining(monkeypatch):
    # Four days of bursty diurnal traffic with slow calls: about a hundred scale-ins, most
    # of them with calls in flight.
    monkeypatch.setattr(simulate_module, "Cluster", WatchedCluster)
    WatchedCluster.made.clear()
    sc = scenario(
        model={"min_units": 1, "max_units": 12},
        unit={"latency_mean_s": 2.0, "latency_p99_s": 8.0},
        traffic={
            "kind": "diurnal",
            "mean_tps": 6.0,
            "peak_to_trough": 6,
            "duration_h": 96,
            "spikes_per_day": 24,
            "spike_multiplier": 3,
        },
    )
    result = simulate_module.simulate(sc, seed=2)
    (cluster,) = WatchedCluster.made
    drained = [
        s for s in cluster.sessions if s.ended_by == "scale_in" and s.billed_to > s.retired_at
    ]
    assert cluster.scale_in_events > 50 and len(drained) > 50
    # It used to keep every one of them until StopModel; now only overlapping drains.
    assert cluster.most_draining <= 10
    # Billing still runs each drain to its end (the model is hosted throughout).
    for s in drained:
        assert s.billed_to == pytest.approx(max(s.drained_at, s.retired_at))
    assert result.summary.unit_hours > 0
