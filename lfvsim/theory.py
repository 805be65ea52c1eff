"""Queueing formulas the simulator is checked against (M/G/c/c and M/M/c)."""

from __future__ import annotations

__all__ = ["erlang_b", "erlang_c", "mmc_mean_wait_s"]


def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Blocking probability of an M/G/c/c loss system (Erlang B).

    Uses the stable recursion ``B(k) = a B(k-1) / (k + a B(k-1))``. Insensitive to the
    service-time distribution beyond its mean.
    """
    if servers < 0 or offered_erlangs < 0:
        raise ValueError("servers and offered load must be non-negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_erlangs * b / (k + offered_erlangs * b)
    return b


def erlang_c(servers: int, offered_erlangs: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C); needs a < c."""
    if offered_erlangs >= servers:
        raise ValueError("Erlang C needs offered load below the number of servers")
    b = erlang_b(servers, offered_erlangs)
    rho = offered_erlangs / servers
    return b / (1 - rho + rho * b)


def mmc_mean_wait_s(servers: int, arrival_rate_tps: float, mean_service_s: float) -> float:
    """Mean time in queue of an M/M/c system: ``C(c, a) / (c mu - lambda)``."""
    a = arrival_rate_tps * mean_service_s
    return erlang_c(servers, a) * mean_service_s / (servers - a)
