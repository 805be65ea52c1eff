"""The compiled placement loops give, to the bit, what the numpy pipelines they replaced gave.

The reference implementations below are the numpy code the arrival models used before the
loops were compiled; a seeded run must not move by one ulp when the code gets faster.
"""

from __future__ import annotations

import numpy as np
import pytest

from lfvsim.traces.arrivals import (
    BatchArrivals,
    EvenArrivals,
    OnOffArrivals,
    PoissonArrivals,
    _sorted_uniforms,
    spread_in_bins,
)

# --- the numpy references ------------------------------------------------------------------


def reference_sorted_uniforms(counts, rng):
    n, nb = int(counts.sum()), len(counts)
    spacings = rng.standard_exponential(n + nb)
    csum = np.cumsum(spacings)
    seg_last = np.cumsum(counts + 1) - 1
    before = np.concatenate(([0.0], csum[seg_last[:-1]]))
    total = csum[seg_last] - before
    points = np.ones(n + nb, dtype=bool)
    points[seg_last] = False
    bin_of = np.repeat(np.arange(nb), counts)
    return bin_of, (csum[points] - before[bin_of]) / total[bin_of]


def reference_spread(counts, first_bin, bin_s, rng):
    counts = np.asarray(counts, dtype=np.int64)
    if int(counts.sum()) == 0:
        return np.empty(0)
    bin_of, u = reference_sorted_uniforms(counts, rng)
    return (first_bin + bin_of + u) * bin_s


def reference_even(counts, first_bin, bin_s):
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        return np.empty(0)
    bin_of = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    rank = np.arange(n) - first[bin_of]
    return (first_bin + bin_of + (rank + 0.5) / counts[bin_of]) * bin_s


# --- count vectors -------------------------------------------------------------------------


def count_vectors(seed: int) -> list[np.ndarray]:
    """Edge cases and random shapes: zeros, single bins, huge counts, long vectors."""
    rng = np.random.default_rng(seed)
    fixed = [
        np.array([0]),
        np.array([1]),
        np.array([0, 0, 0]),
        np.array([0, 5, 0]),
        np.array([3, 0, 0, 0]),
        np.array([0, 0, 0, 7]),
        np.array([1, 1, 1, 1, 1]),
        np.array([250_000]),
        np.array([0, 400_000, 0, 1]),
    ]
    shapes = [
        rng.poisson(rng.uniform(0, 3), rng.integers(1, 50)),
        rng.poisson(1200, 60),
        rng.poisson(rng.uniform(0, 20_000), rng.integers(1, 30)),
        rng.poisson(0.05, 20_000),  # long and nearly empty
        rng.integers(0, 2, 5_000) * rng.poisson(50, 5_000),
    ]
    return [np.asarray(c, dtype=np.int64) for c in fixed + shapes]


SEEDS = range(12)
BINS = [(0, 60.0), (7, 2.0), (1_000_003, 60.0), (3, 0.1), (12, 86_400.0), (5, 1.0 / 3.0)]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("seed", SEEDS)
def test_poisson_placement_is_bit_identical_to_numpy(seed):
    for i, counts in enumerate(count_vectors(seed)):
        first_bin, bin_s = BINS[(seed + i) % len(BINS)]
        new_rng, old_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        new = spread_in_bins(counts, first_bin, bin_s, new_rng)
        old = reference_spread(counts, first_bin, bin_s, old_rng)
        assert same_bits(new, old), (seed, i, counts[:10])
        assert len(new) == counts.sum()
        # Both consumed the same draws: the streams stay in step afterwards.
        assert new_rng.random() == old_rng.random()


@pytest.mark.parametrize("seed", SEEDS)
def test_sorted_uniforms_are_bit_identical_to_numpy(seed):
    for counts in count_vectors(100 + seed):
        new_rng, old_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        new_bins, new_u = _sorted_uniforms(counts, new_rng)
        old_bins, old_u = reference_sorted_uniforms(counts, old_rng)
        assert same_bits(new_bins.astype(np.int64), old_bins.astype(np.int64))
        assert same_bits(new_u, old_u)
        assert new_rng.random() == old_rng.random()


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_even_placement_is_bit_identical_to_numpy(seed):
    for i, counts in enumerate(count_vectors(200 + seed)):
        first_bin, bin_s = BINS[(seed + i) % len(BINS)]
        rng = np.random.default_rng(seed)
        new = EvenArrivals().place(counts, first_bin, bin_s, rng)
        assert same_bits(new, reference_even(counts, first_bin, bin_s)), (seed, i)


def test_models_place_sorted_times_inside_their_bins():
    counts = np.array([0, 3, 1200, 0, 1, 50_000], dtype=np.int64)
    bins = np.repeat(np.arange(len(counts)), counts)
    for model in (PoissonArrivals(), EvenArrivals(), OnOffArrivals(0.3, 5.0)):
        t = model.place(counts, 4, 60.0, np.random.default_rng(1))
        assert len(t) == counts.sum()
        assert np.all(np.diff(t) >= 0)
        assert np.array_equal(np.floor(t / 60.0).astype(np.int64), 4 + bins)


def test_placement_accepts_any_integer_counts_and_leaves_them_alone():
    counts32 = np.array([2, 0, 9], dtype=np.int32)
    kept = counts32.copy()
    a = spread_in_bins(counts32, 2, 10.0, np.random.default_rng(4))
    b = reference_spread(counts32.astype(np.int64), 2, 10.0, np.random.default_rng(4))
    assert same_bits(a, b)
    assert np.array_equal(counts32, kept)
    strided = np.array([5, 99, 0, 99, 7], dtype=np.int64)[::2]
    a = spread_in_bins(strided, 0, 60.0, np.random.default_rng(5))
    b = reference_spread(np.ascontiguousarray(strided), 0, 60.0, np.random.default_rng(5))
    assert same_bits(a, b)


@pytest.mark.parametrize("distribution", ["exponential", "lognormal", "constant"])
def test_service_times_are_bit_identical_to_numpy(distribution):
    from lfvsim.engine.traffic import service_sampler
    from lfvsim.scenario import Unit

    unit = Unit(latency_distribution=distribution, latency_mean_s=0.7)
    sample = service_sampler(unit)
    for seed in SEEDS:
        new_rng, old_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        for n in (0, 1, 17, 72_000):
            new = sample(new_rng, n)
            if distribution == "exponential":
                old = old_rng.exponential(0.7, n)
            elif distribution == "lognormal":
                old = old_rng.lognormal(*unit.lognormal_params(), n)
            else:
                old = np.full(n, 0.7)
            assert same_bits(new, old), (seed, n)
        assert new_rng.random() == old_rng.random()


def test_negative_counts_are_refused_before_any_draw():
    from lfvsim.errors import InputError

    rng = np.random.default_rng(0)
    for model in (PoissonArrivals(), EvenArrivals(), BatchArrivals(), OnOffArrivals()):
        with pytest.raises(InputError, match="counts must be 0 or more"):
            model.place(np.array([3, -1, 2]), 0, 60.0, rng)
    assert rng.random() == np.random.default_rng(0).random()
