"""Erlang C math (cscli.erlang) against textbook values and an independent direct sum."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscli import erlang


def direct_erlang_c(n: int, a: Fraction) -> Fraction:
    """Erlang C by the textbook direct sum, exactly in fractions (independent of the recursion):
    C = (A^N/N! · N/(N−A)) / (Σ_{k=0}^{N−1} A^k/k! + A^N/N! · N/(N−A))."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    below = sum((a**k / math.factorial(k) for k in range(n)), Fraction(0))
    return top / (below + top)


def direct_sl(n: int, a: Fraction, aht: float, t: float) -> float:
    return 1 - float(direct_erlang_c(n, a)) * math.exp(-(n - float(a)) * t / aht)


def test_traffic_intensity_textbook() -> None:
    # 100 calls in 30 min (1800 s) with AHT 180 s: 100 × 180 / 1800 = 10 Erlangs
    assert erlang.traffic_intensity(100, 180, 1800) == pytest.approx(10.0)
    assert erlang.traffic_intensity(0, 180, 1800) == 0.0
    assert erlang.traffic_intensity(5, 180, 0) is None


def test_ten_erlangs_80_20_needs_14_agents() -> None:
    a = 10.0
    # direct sum: SL(13) = 0.7956 < 0.80, SL(14) = 0.8884 ≥ 0.80 → 14 agents
    assert erlang.service_level(13, a, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    assert erlang.service_level(14, a, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert erlang.required_agents(a, 180, target=0.8, threshold_seconds=20) == 14


def test_pwait_and_asa_at_14_match_the_direct_sum() -> None:
    c = direct_erlang_c(14, Fraction(10))
    assert erlang.erlang_c(14, 10.0) == pytest.approx(float(c), rel=1e-12)
    assert float(c) == pytest.approx(0.1741, abs=1e-4)  # published: P(wait) ≈ 17.4 %
    # ASA = C × AHT / (N − A) = 0.17413 × 180 / 4 = 7.84 s
    assert erlang.asa(14, 10.0, 180) == pytest.approx(float(c) * 180 / 4, rel=1e-12)
    assert erlang.asa(14, 10.0, 180) == pytest.approx(7.84, abs=0.01)


def test_understaffed_and_empty_intervals() -> None:
    # N ≤ A: the queue grows without bound — every call waits, SL 0, ASA unbounded (None)
    assert erlang.erlang_c(10, 10.0) == 1.0
    assert erlang.service_level(9, 10.0, 180, 20) == 0.0
    assert erlang.asa(10, 10.0, 180) is None
    # no traffic: nobody waits, no agents needed
    assert erlang.erlang_c(3, 0.0) == 0.0
    assert erlang.service_level(0, 0.0, 180, 20) == 1.0
    assert erlang.required_agents(0.0, 180) == 0


def test_shrinkage_and_max_occupancy() -> None:
    # 14 on the phones at 30 % shrinkage: 14 / 0.7 = 20 rostered
    assert erlang.required_agents(10.0, 180, shrinkage=0.3) == 20
    # max occupancy 70 %: A/N ≤ 0.7 → N ≥ 10/0.7 = 14.29 → 15 (SL already met there)
    assert erlang.required_agents(10.0, 180, max_occupancy=0.7) == 15
    # max occupancy 80 %: N ≥ 12.5 → 13, but SL(13) fails → 14
    assert erlang.required_agents(10.0, 180, max_occupancy=0.8) == 14
    with pytest.raises(ValueError, match="shrinkage"):
        erlang.required_agents(10.0, 180, shrinkage=1.0)
    with pytest.raises(ValueError, match="target"):
        erlang.required_agents(10.0, 180, target=1.0)


def test_stable_for_thousands_of_agents() -> None:
    # A^N / N! would overflow a float long before N = 1000; the recursion does not
    for a in (1000.0, 2500.0, 5000.0):
        n = erlang.required_agents(a, 180)
        assert math.ceil(a) < n < a * 1.1
        sl = erlang.service_level(n, a, 180, 20)
        assert math.isfinite(sl) and sl >= 0.8
        assert erlang.service_level(n - 1, a, 180, 20) < 0.8
        c = erlang.erlang_c(n, a)
        assert math.isfinite(c) and 0 < c < 1
    # against the exact direct sum at 1,000 Erlangs (fractions never overflow)
    exact = float(direct_erlang_c(1040, Fraction(1000)))
    assert erlang.erlang_c(1040, 1000.0) == pytest.approx(exact, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(min_value=0.1, max_value=80.0),
    aht=st.floats(min_value=10.0, max_value=900.0),
    t=st.floats(min_value=0.0, max_value=120.0),
    target=st.floats(min_value=0.05, max_value=0.99),
)
def test_required_agents_is_minimal_and_sl_monotone(
    a: float, aht: float, t: float, target: float
) -> None:
    n = erlang.required_agents(a, aht, target=target, threshold_seconds=t)
    assert erlang.service_level(n, a, aht, t) >= target
    if n - 1 >= math.ceil(a):
        assert erlang.service_level(n - 1, a, aht, t) < target
    levels = [erlang.service_level(k, a, aht, t) for k in range(max(0, math.floor(a) - 1), n + 5)]
    assert all(x <= y + 1e-12 for x, y in itertools.pairwise(levels))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    a=st.fractions(min_value=Fraction(1, 10), max_value=55),
)
def test_erlang_c_matches_direct_sum(n: int, a: Fraction) -> None:
    if n <= a:
        assert erlang.erlang_c(n, float(a)) == 1.0
    else:
        exact = float(direct_erlang_c(n, a))
        assert erlang.erlang_c(n, float(a)) == pytest.approx(exact, rel=1e-9)
        sl = direct_sl(n, a, 180, 20)
        assert erlang.service_level(n, float(a), 180, 20) == pytest.approx(sl, abs=1e-9)
