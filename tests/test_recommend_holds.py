"""``lfvsim recommend`` with its default flags finds a configuration that holds on real traffic.

As a user would: the command line with only the SLO, the trace and its scale, then the
choice re-run with ``lfvsim run --replications`` on seeds the search never saw. The
re-run's mean rates (the estimate of the true rates) must meet every target given. Each
case is a real bursty trace (WorldCup98, a 4-hour slice, at several scales) or the factory
scenario's two shifts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORLDCUP = next(
    (
        p / "data" / "worldcup98-1998-06-25-per-second.csv"
        for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared")
        if (p / "data" / "worldcup98-1998-06-25-per-second.csv").exists()
    ),
    ROOT.parent / "shared" / "data" / "worldcup98-1998-06-25-per-second.csv",
)
needs_worldcup = pytest.mark.skipif(
    not WORLDCUP.exists(), reason="shared WorldCup98 trace not present"
)

WEB_MODEL = """\
[model]
project = "web-images"
version = "1"
min_units = 1
max_units = 2
region = "us-east-1"

[autoscaler]
provisioning_delay_s = 120

[traffic]
kind = "constant"
rate_tps = 1.0
duration_h = 1
"""

FRESH_SEED = 777_001  # the search runs with the scenario's or a fresh-entropy seed, never this


@pytest.fixture(scope="module")
def worldcup_slice(tmp_path_factory) -> Path:
    """Four busy hours of the WorldCup98 trace (from 12 h in), in the file's own format."""
    table = pd.read_csv(WORLDCUP)
    start = pd.Timestamp(table["period"].iloc[0]) + pd.Timedelta(hours=12)
    when = pd.to_datetime(table["period"])
    part = table[(when >= start) & (when < start + pd.Timedelta(hours=4))]
    path = tmp_path_factory.mktemp("worldcup") / "worldcup-4h.csv"
    part.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def web_scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "web.toml"
    path.write_text(WEB_MODEL, encoding="utf-8")
    return path


def _recommend_then_rerun(cli, scenario: Path, slo: dict[str, float], *traffic: str) -> dict:
    """Recommend with default flags; re-run the choice on fresh seeds; both JSON outputs."""
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in slo.items()]
    code, out, err = cli("recommend", scenario, *flags, *traffic, "--json", "--workers", "1")
    assert code == 0, err or out
    rec = json.loads(out)
    assert rec["met"] and rec["replications"] == 10  # the default
    units = ["--min-units", str(rec["min_units"])]
    units += (
        ["--no-max-units"] if rec["max_units"] is None else ["--max-units", str(rec["max_units"])]
    )
    code, out, err = cli(
        "run", scenario, *units, *traffic, "--replications", "10", "--seed", str(FRESH_SEED),
        "--json",
    )  # fmt: skip
    assert code == 0, err or out
    fresh = json.loads(out)
    assert fresh["seed"] == FRESH_SEED != rec["seed"]
    return {"recommend": rec, "fresh": fresh}


def _assert_holds(got: dict, slo: dict[str, float]) -> None:
    rec, fresh = got["recommend"], got["fresh"]
    assert rec["throttle_rate_upper"] <= slo["max_throttle_rate"]
    assert fresh["throttle_rate"] <= slo["max_throttle_rate"], (rec, fresh["throttle_rate"])
    if "max_worst_hour_rate" in slo:
        assert rec["throttle_rate_worst_hour_upper"] <= slo["max_worst_hour_rate"]
        assert fresh["throttle_rate_worst_hour"] <= slo["max_worst_hour_rate"]
    if "max_minute_rate" in slo:  # the 99th percentile: 'run' gives it too
        assert rec["minute_percentile"] == 99.0
        assert rec["throttle_rate_minute_percentile_upper"] <= slo["max_minute_rate"]
        assert fresh["throttle_rate_minute_p99"] <= slo["max_minute_rate"]


@needs_worldcup
@pytest.mark.parametrize("scale", [0.002, 0.005, 0.01])
@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_worldcup98_choice_holds_with_fresh_seeds(cli, web_scenario, worldcup_slice, scale, rate):
    slo = {"max_throttle_rate": rate}
    got = _recommend_then_rerun(
        cli, web_scenario, slo, "--trace", worldcup_slice, "--scale", str(scale)
    )
    _assert_holds(got, slo)
    assert got["recommend"]["traffic"]["scale"] == scale


@needs_worldcup
@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_worldcup98_choice_holds_the_worst_hour_and_minutes_with_fresh_seeds(
    cli, web_scenario, worldcup_slice, rate
):
    slo = {"max_throttle_rate": rate, "max_worst_hour_rate": 2 * rate, "max_minute_rate": 0.05}
    got = _recommend_then_rerun(
        cli, web_scenario, slo, "--trace", worldcup_slice, "--scale", "0.005"
    )
    _assert_holds(got, slo)


@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_factory_choice_holds_with_fresh_seeds_worst_hour_included(cli, tmp_path, rate):
    text = (ROOT / "scenarios" / "two-shift-factory.toml").read_text(encoding="utf-8")
    assert "duration_h = 168" in text
    scenario = tmp_path / "factory.toml"  # the first shift of a weekday: ramp, breaks, stops
    scenario.write_text(text.replace("duration_h = 168", "duration_h = 9"), encoding="utf-8")
    for slo in (
        {"max_throttle_rate": rate},
        {"max_throttle_rate": rate, "max_worst_hour_rate": 2 * rate},
    ):
        _assert_holds(_recommend_then_rerun(cli, scenario, slo), slo)
