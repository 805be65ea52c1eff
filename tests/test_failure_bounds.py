"""Random unit failures: a practical lower bound on the MTBF, and their cost in the budget."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lfvsim.budget import SECONDS_PER_FAILURE, simulation_estimate, synthetic_load
from lfvsim.engine import simulate
from lfvsim.failures import MIN_UNIT_MTBF_H, Failures
from tests.conftest import scenario


@pytest.mark.parametrize("mtbf_h", [1e-9, 0.0001, 0.099])
def test_an_mtbf_below_six_minutes_is_refused_naming_the_smallest(mtbf_h):
    with pytest.raises(ValidationError, match=r"greater than or equal to 0\.1"):
        Failures(unit_mtbf_h=mtbf_h)


def test_the_smallest_mtbf_is_allowed():
    assert Failures(unit_mtbf_h=MIN_UNIT_MTBF_H).unit_mtbf_h == 0.1


def test_a_run_at_the_bound_serves_and_counts_its_failures():
    sc = scenario(
        model={"min_units": 2},
        failures={"unit_mtbf_h": MIN_UNIT_MTBF_H, "replacement_delay_s": 0},
        traffic={"kind": "constant", "rate_tps": 2, "duration_h": 2},
    )
    result = simulate(sc, seed=3)
    failures = int((result.events["kind"] == "unit_failure").sum())
    # 2 units x 2 h / 0.1 h: about 40 failures (Poisson, so well within 15..80).
    assert 15 <= failures <= 80
    assert result.summary.served > 0.9 * result.summary.attempts


def test_the_estimate_counts_unit_failures():
    model = {"min_units": 100}
    traffic = {"kind": "constant", "rate_tps": 1, "duration_h": 720}
    steady = scenario(model=model, traffic=traffic)
    failing = scenario(model=model, traffic=traffic, failures={"unit_mtbf_h": 0.1})
    load = synthetic_load(steady.traffic)
    extra_s = simulation_estimate(failing, load).seconds - simulation_estimate(steady, load).seconds
    assert extra_s == pytest.approx(100 * 720 / 0.1 * SECONDS_PER_FAILURE)
    assert "about 720,000 unit failures" in simulation_estimate(failing, load).detail


def test_a_run_with_millions_of_failures_is_refused_by_the_budget(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[model]\nproject = "p"\nmin_units = 1000\n'
        "[failures]\nunit_mtbf_h = 0.1\n"
        '[traffic]\nkind = "constant"\nrate_tps = 1\nduration_h = 720\n'
    )
    code, out, err = cli("run", path)
    assert code == 2 and not out
    assert "about 7,200,000 unit failures" in err, err
