"""Erlang C queueing math for staffing: pure Python, no polars (an engine-neutral layer).

The model (M/M/N, "Erlang C"): calls arrive as a Poisson process, handle times are exponential,
N identical agents serve one FIFO queue and nobody abandons (infinite patience). With offered
traffic ``A`` Erlangs (arrival rate × mean handle time) and ``N`` agents:

- Erlang B by the stable recursion ``B(0) = 1``, ``B(n) = A·B(n−1) / (n + A·B(n−1))``; it never
  forms ``A^N`` or ``N!``, so it stays finite for thousands of agents.
- Erlang C (the probability a call waits): ``C = N·B / (N − A·(1 − B))``, for ``N > A``.
- Service level within ``t`` seconds: ``SL = 1 − C·exp(−(N − A)·t / AHT)``.
- Average speed of answer: ``ASA = C·AHT / (N − A)``.

With ``N ≤ A`` the queue grows without bound: every call waits (``P(wait) = 1``), the service
level is 0 and the ASA is unbounded (``None`` here, never inf). Documented in docs/workforce.md.
"""

from __future__ import annotations

import math

__all__ = [
    "asa",
    "erlang_b",
    "erlang_c",
    "required_agents",
    "service_level",
    "traffic_intensity",
]

#: a bound on the search so a wild input cannot loop for ever: far beyond any contact centre
MAX_AGENTS = 1_000_000


def traffic_intensity(calls: float, aht_seconds: float, interval_seconds: float) -> float | None:
    """Offered traffic in Erlangs: ``calls × AHT ÷ interval length``; None for an empty interval."""
    if interval_seconds <= 0:
        return None
    return calls * aht_seconds / interval_seconds


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of ``agents`` servers offered ``traffic`` Erlangs (stable recursion)."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must be ≥ 0")
    b = 1.0
    for n in range(1, agents + 1):
        ab = traffic * b
        b = ab / (n + ab)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (Erlang C); 1.0 when ``agents ≤ traffic`` (unstable queue)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1.0 - b))


def service_level(
    agents: int, traffic: float, aht_seconds: float, threshold_seconds: float
) -> float:
    """Share of calls answered within ``threshold_seconds``: ``1 − C·exp(−(N−A)·t/AHT)``.

    0 when N ≤ A (the queue is unstable); 1 when there is no traffic."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    if aht_seconds <= 0:
        return 1.0
    c = erlang_c(agents, traffic)
    return max(0.0, 1.0 - c * math.exp(-(agents - traffic) * threshold_seconds / aht_seconds))


def _sl_from_b(n: int, traffic: float, b: float, aht: float, threshold: float) -> float:
    if n <= traffic:
        return 0.0
    if aht <= 0:
        return 1.0
    c = n * b / (n - traffic * (1.0 - b))
    return max(0.0, 1.0 - c * math.exp(-(n - traffic) * threshold / aht))


def asa(agents: int, traffic: float, aht_seconds: float) -> float | None:
    """Average speed of answer in seconds: ``C·AHT/(N−A)``; None (unbounded) when N ≤ A."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return None
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


def required_agents(
    traffic: float,
    aht_seconds: float,
    *,
    target: float = 0.8,
    threshold_seconds: float = 20.0,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
) -> int:
    """The smallest N ≥ ceil(A) (and A/N ≤ max_occupancy) with SL ≥ target, ÷ (1 − shrinkage) up.

    No traffic needs no agents (0). ``target`` is a share in (0, 1), ``max_occupancy`` in (0, 1];
    ``shrinkage`` in [0, 1).
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1), got {target}")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy}")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage}")
    if traffic <= 0:
        return 0
    n = max(1, math.ceil(traffic))
    if max_occupancy is not None:
        n = max(n, math.ceil(traffic / max_occupancy - 1e-12))
    # Erlang B is carried forward one agent at a time, so the search is linear in N overall
    b = erlang_b(n, traffic)
    while n < MAX_AGENTS and _sl_from_b(n, traffic, b, aht_seconds, threshold_seconds) < target:
        n += 1
        ab = traffic * b
        b = ab / (n + ab)
    if shrinkage:
        return math.ceil(n / (1.0 - shrinkage) - 1e-9)
    return n
