"""Confidence intervals over replications: Student t, computed to machine precision.

A replication is one independent run (its own seed), so a metric over ``n`` replications is
``n`` independent draws. Its mean has the Student t interval
``mean +- t(q, n - 1) * s / sqrt(n)``, where ``s`` is the sample standard deviation. The
t quantile is computed here from the regularized incomplete beta function (no SciPy), so it
is exact for small ``n``, where tables and normal approximations are most wrong.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np

__all__ = ["mean_interval", "t_cdf", "t_quantile", "upper_bound"]


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution function of Student's t with ``df`` degrees of freedom.

    Parameters
    ----------
    t : float
        Point at which to evaluate.
    df : float
        Degrees of freedom, > 0.

    Returns
    -------
    float
        ``P(T <= t)``.
    """
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive (got {df})")
    if t == 0:
        return 0.5
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t: the ``t`` with ``P(T <= t) = p``.

    Closed forms for one and two degrees of freedom, otherwise bisection on
    :func:`t_cdf` to a relative error of 1e-13.

    Parameters
    ----------
    p : float
        Probability, 0 < p < 1.
    df : float
        Degrees of freedom, > 0.

    Returns
    -------
    float
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1) (got {p})")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive (got {df})")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, 2.0 * hi
    while hi - lo > 1e-13 * hi:
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def mean_interval(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of independent replications and its two-sided Student t confidence interval.

    Parameters
    ----------
    values : iterable of float
        One value per replication.
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    (mean, low, high) : tuple of float
        ``low`` and ``high`` are NaN with fewer than two values (no spread to estimate),
        and every figure is NaN if any value is.
    """
    x = np.asarray(list(values), dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2 or not math.isfinite(mean):
        return mean, math.nan, math.nan
    half = t_quantile(0.5 + confidence / 2.0, len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


def upper_bound(values: Iterable[float], confidence: float = 0.95) -> float:
    """One-sided upper confidence bound of the mean: ``mean + t(confidence, n - 1) s / sqrt(n)``.

    The true mean is below it with probability ``confidence`` (for normal replication
    means). Infinite with fewer than two values: one run says nothing about its own noise.
    """
    x = np.asarray(list(values), dtype=float)
    if len(x) < 2:
        return math.inf
    mean = float(x.mean())
    return mean + t_quantile(confidence, len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function ``I_x(a, b)`` (continued fraction, Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return h
