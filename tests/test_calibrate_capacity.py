"""The slots estimate: one Erlang recursion for every candidate count gives the very values
of one recursion per count, and the check of the fit withdraws the estimate on a history
the loss model does not describe (made by the token bucket) while slots-made histories
pass it (the round trips in test_calibrate_rule and test_calibrate_roundtrip need the
slots informed on ten of them)."""

from __future__ import annotations

import numpy as np
import pytest

from lfvsim.experiments.calibrate_capacity import (
    GOF_MIN_BINS,
    MAX_SLOTS,
    erlang_b,
    erlang_b_by_slots,
    fit_slots,
    misfit,
)
from lfvsim.experiments.calibration import calibrate_scenario
from lfvsim.reports.text import format_calibration
from tests.test_calibrate_rule import base, history_of
from tests.test_calibrate_structure import RATE_SETTINGS, SLOTS_SETTINGS, made_with


def test_one_recursion_gives_every_slot_count_bit_for_bit():
    rng = np.random.default_rng(7)
    units = rng.integers(1, 9, 500)
    erlangs = rng.uniform(0.0, 40.0, 500)
    table = erlang_b_by_slots(units, erlangs, MAX_SLOTS)
    assert table.shape == (MAX_SLOTS, 500)
    for c in range(1, MAX_SLOTS + 1):
        per_count = erlang_b((c * units).astype(float), erlangs)
        assert np.array_equal(table[c - 1], per_count), c


def test_the_loss_formula_at_known_points():
    # B(1, a) = a / (1 + a); B(2, 1) = 1/5.
    table = erlang_b_by_slots(np.array([1, 2]), np.array([3.0, 1.0]), 2)
    assert table[0, 0] == pytest.approx(0.75)
    assert table[0, 1] == pytest.approx(0.2)  # 1 slot x 2 units = 2 servers at 1 erlang


def synthetic(blocked: np.ndarray, offered: int, rng: np.random.Generator):
    throttled = rng.binomial(offered, blocked).astype(float)
    return offered - throttled, throttled


def test_binomial_throttles_at_the_predicted_share_are_no_misfit():
    rng = np.random.default_rng(1)
    blocked = rng.uniform(0.002, 0.3, 400)
    served, throttled = synthetic(blocked, 600, rng)
    assert misfit(blocked, served, throttled) is None


def test_a_cliff_the_loss_formula_does_not_have_is_a_misfit():
    # Nothing refused below a load, then refusals above it: a rate limit's shape.
    rng = np.random.default_rng(1)
    blocked = rng.uniform(0.002, 0.3, 400)
    served, throttled = synthetic(np.where(blocked < 0.15, 0.0, 2 * blocked), 600, rng)
    found = misfit(blocked, served, throttled)
    assert found is not None and "load bins" in found and "standard errors" in found


def test_throttles_far_more_variable_than_binomial_are_a_misfit():
    rng = np.random.default_rng(1)
    blocked = rng.uniform(0.002, 0.3, 400)
    # The right mean share, but all or nothing per minute.
    throttled = np.where(rng.random(400) < blocked, 600.0, 0.0)
    found = misfit(blocked, 600 - throttled, throttled)
    assert found is not None and "times more than the loss model allows" in found


def test_too_few_predicted_minutes_are_not_judged():
    blocked = np.full(2 * GOF_MIN_BINS - 1, 0.1)
    assert misfit(blocked, np.full_like(blocked, 500), np.full_like(blocked, 100)) is None


@pytest.mark.parametrize(("traffic", "setting"), RATE_SETTINGS)
def test_a_rate_made_history_withdraws_the_slots_estimate(tmp_path, traffic, setting):
    made_by = made_with(traffic, setting, "rate")
    history = history_of(made_by, tmp_path / "h.json")
    fit = fit_slots(history, base(traffic).unit)
    assert fit.misfit is not None and fit.best is not None
    est = fit.estimate
    assert not est.informed and est.value is None and est.low is None
    assert est.detail.startswith("misfit: ") and "withdrawn" in est.detail
    # The calibration says so, and still compares the structures by AIC.
    result = calibrate_scenario(base(traffic), history)
    assert result.structure is not None and result.structure.chosen == "rate"
    assert "slots" in result.structure.log_likelihood
    assert "misfit" in format_calibration(result)


@pytest.mark.parametrize(("traffic", "setting"), SLOTS_SETTINGS)
def test_a_slots_made_history_passes_the_check(tmp_path, traffic, setting):
    made_by = made_with(traffic, setting, "slots")
    history = history_of(made_by, tmp_path / "h.json")
    fit = fit_slots(history, base(traffic).unit)
    assert fit.misfit is None and fit.estimate.informed
    assert fit.estimate.value == made_by.unit.slots == fit.best
    assert "no misfit" in fit.estimate.detail
