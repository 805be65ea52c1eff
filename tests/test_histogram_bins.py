"""The latency histograms' bin lookup gives the bins of the log10 formula, without log10."""

from __future__ import annotations

import numpy as np
import pytest

from lfvsim.engine import kernel


@pytest.mark.parametrize(
    ("hist", "tables"),
    [
        (
            kernel.HIST_ALL,
            (kernel._ALL_EDGES, kernel._ALL_FIRST, kernel._ALL_OFFSET, kernel._ALL_SHIFT),
        ),
        (
            kernel.HIST_MINUTE,
            (kernel._MIN_EDGES, kernel._MIN_FIRST, kernel._MIN_OFFSET, kernel._MIN_SHIFT),
        ),
    ],
)
def test_bin_lookup_equals_the_log10_formula(hist, tables):
    lo, per, nbins = hist
    edges = tables[0]
    rng = np.random.default_rng(3)
    inner = edges[1:-1]
    lats = np.concatenate(
        [
            10 ** rng.uniform(np.log10(lo) - 2, np.log10(edges[-1]) + 2, 30_000),
            rng.lognormal(-0.5, 1.0, 10_000),
            inner[::7],  # exact edges and their neighbours
            np.nextafter(inner[::7], 0),
            np.nextafter(inner[::7], np.inf),
            [0.0, -1.0, np.inf, lo, edges[-1], 1e300],
        ]
    )
    got = np.array([kernel.hist_bin(x, *tables) for x in lats])
    with np.errstate(divide="ignore", invalid="ignore"):
        formula = np.clip(np.floor(np.log10(lats / lo) * per), 0, nbins - 1)
    formula = np.where(lats > 0, formula, 0).astype(int)
    # Every latency lands in the bin whose edges hold it (the ends take the rest) ...
    assert np.all((lats >= edges[got]) | (got == 0))
    assert np.all((lats < edges[got + 1]) | (got == nbins - 1))
    # ... which is the log10 formula's bin, but where log10 rounds across an edge.
    differ = got != formula
    assert not differ[:40_000].any()  # random latencies: none is within 1e-12 of an edge
    with np.errstate(divide="ignore", invalid="ignore"):
        position = np.log10(lats[differ] / lo) * per
    assert np.all(np.abs(position - np.round(position)) < 1e-9)


def test_bin_tables_cover_every_cell_between_the_ends():
    for hist, bits in ((kernel.HIST_ALL, 8), (kernel.HIST_MINUTE, 5)):
        edges, first, offset = kernel.bin_tables(*hist, bits)
        assert np.all(np.diff(first) >= 0)
        assert first[0] == 0 and first[-1] == hist[2] - 1
        top = int(edges[-2:-1].view(np.int64)[0] >> (52 - bits)) - offset
        assert top < len(first)
        assert np.all(np.diff(first) <= 1)  # one edge a cell at most
    with pytest.raises(ValueError, match="wider than a bin"):
        kernel.bin_tables(*kernel.HIST_ALL, 6)  # 64 cells an octave, 150 bins


def test_long_runs_keep_hourly_latency_histograms():
    from conftest import scenario

    import lfvsim
    from lfvsim.engine.result import HOURLY_HIST_AFTER_MINUTES, hist_rows

    days = HOURLY_HIST_AFTER_MINUTES / 1440 + 1
    sc = scenario(
        model={"min_units": 1},
        unit={"when_busy": "queue", "slots": 1, "latency_distribution": "exponential"},
        traffic={"kind": "constant", "rate_tps": 0.1, "duration_h": 24 * days},
    )
    r = lfvsim.simulate(sc, seed=2, record_requests=True)
    minutes = len(r.timeline)
    assert hist_rows(minutes) == -(-minutes // 60) < minutes
    assert any("per hour" in n for n in r.notes)
    p50 = r.timeline["latency_p50_s"].to_numpy()
    hours = np.arange(minutes) // 60
    # Each minute shows its hour's percentile ...
    for h in (0, 17, hours[-1]):
        assert len(np.unique(p50[hours == h])) == 1
    # ... within the per-minute histograms' accuracy of the hour's exact percentile.
    req = r.requests[~r.requests["unavailable"]]
    lat = (req["start_s"] - req["arrival_s"] + req["service_s"]).to_numpy()
    hour = (req["arrival_s"].to_numpy() // 3600).astype(int)
    for h in (0, 100, 500):
        exact = np.quantile(lat[hour == h], 0.5)
        assert p50[h * 60] == pytest.approx(exact, rel=10 ** (1 / 40) - 1)
    short = lfvsim.simulate(sc.with_overrides({"simulation.horizon_h": 2}), seed=2)
    assert not any("per hour" in n for n in short.notes)
