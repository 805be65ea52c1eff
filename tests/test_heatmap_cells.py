"""Throttle-rate heatmap cells never show a bound above the mean as equal to it."""

from __future__ import annotations

import pandas as pd
import pytest

from lfvsim.reports.plotdata import cell_text


def _cell(rate: float, upper: float) -> str:
    row = pd.Series({"throttle_rate": rate, "throttle_rate_upper": upper})
    return cell_text("throttle_rate", row)


@pytest.mark.parametrize(
    ("rate", "upper", "text"),
    [
        (0.0079, 0.0088, "0.79%\n≤0.88%"),  # two digits tell them apart: kept short
        (0.0166, 0.0172, "1.66%\n≤1.72%"),  # two digits would read 1.7% and ≤1.7%
        (0.3006, 0.3008, "30.06%\n≤30.08%"),
        (0.05, 0.05, "5%\n≤5%"),  # a bound equal to the mean (no spread) stays equal
        (0.05, float("inf"), "5%\n≤inf%"),  # one replication: no bound
    ],
)
def test_rate_and_bound_differ_when_the_values_do(rate, upper, text):
    assert _cell(rate, upper) == text
