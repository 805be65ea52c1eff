"""What ``lfvsim run`` prints: every rate the same way, and one format per invocation."""

from __future__ import annotations

import json
import tomllib

from lfvsim.experiments import replicate
from lfvsim.reports.formatting import percent
from lfvsim.reports.text import format_replications
from tests.conftest import ROOT, scenario

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


def test_show_config_with_json_is_refused_in_one_line(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[traffic]\nkind = "constant"\nrate_tps = 2\nduration_h = 1\n')
    for order in (("--json", "--show-config"), ("--show-config", "--json")):
        code, out, err = cli("run", path, *order)
        assert (code, out) == (2, "")
        assert err.startswith("lfvsim: error: --show-config prints the scenario as TOML")
        assert len(err.splitlines()) == 1 and "--json" in err
    # Each alone does what it says: TOML that loads back, or one JSON object.
    code, out, _ = cli("run", path, "--show-config")
    assert code == 0 and tomllib.loads(out)["traffic"]["rate_tps"] == 2
    code, out, _ = cli("run", path, "--json")
    assert code == 0 and json.loads(out)["requests"] > 0


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_replications_print_each_metric_at_one_precision_as_run_does():
    reps = replicate(BUSY, 2, seed=5)
    rows = _rows(format_replications(reps))
    # run prints these with a fixed number of decimals; a mean over replications too
    as_run = {
        "cost_usd": 2,
        "unit_hours": 2,
        "hosted_h": 2,
        "mean_units": 2,
        "monthly_cost_usd": 2,
        "cost_per_1000_images_usd": 4,
        "latency_p99_s": 3,
        "wait_mean_s": 3,
    }
    for name, digits in as_run.items():
        assert _decimals(rows[name][0]) == digits, (name, rows[name])
    for name, (mean, *interval) in rows.items():
        if "_rate" in name or name == "metric" or not interval:
            continue
        low, high = interval[0].split(" .. ")
        # a mean and its bounds read alike: never '860.3' beside '1,095'
        assert _decimals(mean) == _decimals(low) == _decimals(high), (name, rows[name])


def test_seconds_read_to_the_millisecond_below_100_s_and_whole_from_there():
    from lfvsim.reports.formatting import metric_texts, seconds

    assert [seconds(0.7274), seconds(99.9), seconds(24728.494)] == ["0.727", "99.900", "24,728"]
    assert seconds(150.0, like=0.7) == "150.000"  # a row follows its first value
    assert seconds(float("nan")) == "n/a"
    # an interval's bounds take the mean's precision
    assert metric_texts("wait_mean_s", 9571.967, 80.2, 19000.4) == ["9,572", "80", "19,000"]


def test_a_batch_run_prints_hours_long_latencies_in_whole_seconds(cli):
    path = ROOT / "scenarios" / "batch-inspection.toml"
    code, out, err = cli("run", path)
    assert code == 0, err
    row = next(line for line in out.splitlines() if "latency p50/p95/p99" in line)
    values = row.split("p99", 1)[1].removesuffix(" s").split(" / ")
    assert all("." not in v and float(v.replace(",", "")) > 100 for v in values), row
