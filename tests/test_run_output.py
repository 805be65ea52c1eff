"""What ``lfvsim run`` prints: every rate the same way, and one format per invocation."""

from __future__ import annotations

from lfvsim.experiments import replicate
from lfvsim.reports.formatting import percent
from lfvsim.reports.text import format_replications
from tests.conftest import scenario

#: One unit (5 TPS nominal) offered 6 TPS: every replication throttles, hour by hour.
BUSY = scenario(
    model={"min_units": 1},
    traffic={"kind": "constant", "rate_tps": 6.0, "duration_h": 2},
)

RATES = (
    "throttle_rate",
    "throttle_rate_worst_hour",
    "throttle_rate_minute_p99",
    "first_attempt_throttle_rate",
    "failure_rate",
)


def _rows(text: str) -> dict[str, list[str]]:
    """The replication table's rows: metric -> [mean, '95% CI']."""
    rows = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0].replace("_", "").isalnum() and "  " in parts[1]:
            rows[parts[0]] = [p.strip() for p in parts[1].split("  ") if p.strip()]
    return rows


def test_replications_print_every_rate_as_a_percentage():
    reps = replicate(BUSY, 2, seed=5)
    means, ci = reps.mean(), reps.interval(0.95)
    assert means["throttle_rate_worst_hour"] > means["throttle_rate"] > 0
    rows = _rows(format_replications(reps))
    for name in RATES:
        mean, interval = rows[name]
        assert mean == percent(means[name]), (name, rows[name])
        assert interval == f"{percent(ci[name][0])} .. {percent(ci[name][1])}", name
    # Counts keep their plain form.
    assert not rows["throttled"][0].endswith("%")
