"""The trend and the totals of a grouped report, merged from its finest groups' parts
(`cscli.engine.polars.compile.rollup`, `cscli.engine.polars.window.add_flow`): by hand, equal
to aggregating the records directly (hypothesis), and one query per flow where it used three.
`tests/test_sql_compile.py` checks every kind's parts against DuckDB as well."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscli.engine.polars.batch import Batch
from cscli.engine.polars.compile import aggregations, rollup
from cscli.engine.polars.window import DAY, FIRST, LAST, add_flow
from cscli.kpis.spec import Count, DistinctRatio, Erlang, Kpi, NetScore, Ratio, Stat
from tests.helpers import kpi_of

KEYS = ["channel", "period"]
#: (channel, period, v, ok, score)
Record = tuple[str | None, int, float | None, bool | None, int | None]


KPIS = [
    kpi_of(Count(), "volume"),
    kpi_of(Count(where="ok"), "answered"),
    kpi_of(Ratio(numerator="ok", denominator="v IS NOT NULL", pending="open"), "rate"),
    kpi_of(Stat(value="v", stat="mean", pending="open"), "avg"),
    kpi_of(Stat(value="v", stat="min"), "low"),
    kpi_of(Stat(value="v", stat="max"), "high"),
    kpi_of(Stat(value="v", stat="median"), "mid"),
    kpi_of(NetScore(value="score", promoter_min=9, detractor_max=6), "net"),
    kpi_of(
        Erlang(measure="traffic", offered="v IS NOT NULL", handle="v", answered="ok"), "traffic"
    ),
]


def _frame(
    rows: list[tuple[str | None, int, float | None, bool | None, int | None]],
) -> pl.LazyFrame:
    """(channel, period, v, ok, score) records; `open` = ok is null; each record's local
    day is its period's day (2026-01-period)."""
    return pl.LazyFrame(
        {
            "channel": [r[0] for r in rows],
            "period": [r[1] for r in rows],
            "v": [r[2] for r in rows],
            "ok": [r[3] for r in rows],
            "score": [r[4] for r in rows],
        },
        schema={
            "channel": pl.String,
            "period": pl.Int64,
            "v": pl.Float64,
            "ok": pl.Boolean,
            "score": pl.Int64,
        },
    ).with_columns(
        open=pl.col("ok").is_null(),
        **{DAY: pl.date(2026, 1, pl.col("period"))},
    )


def _rolled(
    lf: pl.LazyFrame, groupings: list[tuple[pl.LazyFrame, list[str]]], kpis: list[Kpi] = KPIS
) -> tuple[list[pl.DataFrame], int]:
    """Each grouping's table through `add_flow`, and the queries the batch ran."""
    batch = Batch()
    tables = add_flow(batch, lf, kpis, groupings)
    batch.collect()
    return [t.table(batch) for t in tables], len(batch.queries)


def _direct(frame: pl.LazyFrame, keys: list[str], kpis: list[Kpi] = KPIS) -> pl.DataFrame:
    """The KPIs aggregated over the records themselves (the totals with their span)."""
    exprs = [e for k in kpis for e in aggregations(k)]
    if keys:
        return frame.group_by(keys).agg(exprs).collect()
    span = [pl.col(DAY).min().alias(FIRST), pl.col(DAY).max().alias(LAST)]
    return frame.select(*exprs, *span).collect()


def _rows(table: pl.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in table.iter_rows(named=True)}


def _assert_same(got: pl.DataFrame, want: pl.DataFrame, keys: list[str]) -> None:
    assert got.columns == want.columns
    mine, theirs = _rows(got, keys), _rows(want, keys)
    assert mine.keys() == theirs.keys()
    for key, row in theirs.items():
        for name, value in row.items():
            other = mine[key][name]
            if isinstance(value, float) and isinstance(other, float):
                # a mean's sum of sums: the same values added in another order
                assert other == pytest.approx(value, rel=1e-12), (key, name)
                assert not math.isnan(other)
            else:
                assert other == value, (key, name)


RECORDS: list[Record] = [
    ("a", 1, 10.0, True, 10),
    ("a", 1, 2.0, False, 6),
    ("a", 2, 4.0, None, 9),
    ("b", 1, None, True, 7),
    ("b", 2, 6.0, True, None),
    (None, 2, 1.0, False, 0),
]


def test_totals_and_trend_merge_the_groups_by_hand() -> None:
    lf = _frame(RECORDS)
    grouped, trend, totals = (t for t in _rolled(lf, [(lf, KEYS), (lf, ["period"]), (lf, [])])[0])
    total = totals.row(0, named=True)
    # six records; ok on 3 (one null); v on 5: 10, 2, 4, 6, 1
    assert total["volume"] == 6
    assert total["answered"] == 3
    # rate: ok among the records with a v (a null ok counts as false): 2 of 5; open: of
    # those 5 (the cohort), the one whose ok is still null
    assert total["rate"] == 2 / 5
    assert total["rate__n"] == 5
    assert total["rate__open"] == 1 / 5
    assert total["avg"] == 23 / 5
    assert total["avg__n"] == 5
    assert total["low"] == 1.0
    assert total["high"] == 10.0
    assert total["mid"] == 4.0  # 1, 2, 4, 6, 10
    # scores 10, 6, 9, 7, 0: promoters 10 and 9, detractors 6 and 0: 0 of 5
    assert total["net"] == 0.0
    assert total["net__n"] == 5
    # handle time over answered (ok) records with a v: 10 and 6; offered: the 5 with a v
    assert total["traffic"] == 8.0
    assert total["traffic__n"] == 5
    assert (total[FIRST], total[LAST]) == (date(2026, 1, 1), date(2026, 1, 2))
    # the trend: period 1 has a/10, a/2, b/None
    first = _rows(trend, ["period"])[(1,)]
    assert (first["volume"], first["avg"], first["low"], first["mid"]) == (3, 6.0, 2.0, 6.0)
    assert first["net"] == pytest.approx(100 * (1 - 1) / 3)
    # every table is what the records give directly
    _assert_same(grouped, _direct(lf, KEYS), KEYS)
    _assert_same(trend, _direct(lf, ["period"]), ["period"])
    _assert_same(totals, _direct(lf, []), [])


def test_one_query_per_flow_where_there_were_four() -> None:
    """Grouped, trend, totals and a median's two passes: one query (and the median's second
    pass), where there were four."""
    lf = _frame(RECORDS)
    streamed = [k for k in KPIS if k.id != "mid"]
    _, queries = _rolled(lf, [(lf, KEYS), (lf, ["period"]), (lf, [])], streamed)
    assert queries == 1
    # with a median: still one, its first pass (the bucket counts) carrying the parts
    _, queries = _rolled(lf, [(lf, KEYS), (lf, ["period"]), (lf, [])])
    assert queries == 1


def test_every_part_streams(capfd: pytest.CaptureFixture[str]) -> None:
    """The parts aggregate in polars' streaming group_by, not in the in-memory engine that it
    hands an unsupported aggregation to with all its input (`POLARS_VERBOSE` names that node
    `in-memory-map`): `(v.filter(m) >= 9).sum()` did, `(m & (v >= 9)).sum()` does not."""
    plan = rollup(KPIS)
    assert plan is not None
    query = _frame(RECORDS).group_by(KEYS).agg(plan.parts)
    capfd.readouterr()
    with pl.Config(verbose=True):
        query.collect(engine="streaming")
    log = capfd.readouterr().err
    assert "polars-stream" in log  # the streaming engine ran it, and said so
    assert "in-memory-map" not in log


def test_a_kind_without_parts_keeps_its_own_queries() -> None:
    """A distinct count does not merge (a customer in two groups is one customer): the trend
    and the totals read the records again, with the same result as before."""
    lf = _frame(RECORDS).with_columns(customer=pl.col("score") % 2)
    distinct = kpi_of(DistinctRatio(key="customer", numerator="ok"), "distinct")
    kpis = [*KPIS[:3], distinct]
    assert rollup(kpis) is None
    tables, queries = _rolled(lf, [(lf, KEYS), (lf, [])], kpis)
    assert queries == 2
    _assert_same(tables[1], _direct(lf, [], kpis), [])


def test_an_exploded_grouping_leaves_the_others_to_merge() -> None:
    """A multi-valued dimension's groups (a record in each of its tags) cannot be merged: the
    trend is the finest grouping on the records themselves, and the totals merge it."""
    lf = _frame(RECORDS).with_columns(tag=pl.when(pl.col("ok")).then(pl.lit(["x", "y"])))
    tagged = lf.explode("tag")
    tables, queries = _rolled(lf, [(tagged, ["tag", "period"]), (lf, ["period"]), (lf, [])])
    assert queries == 3  # the tags' main and median queries, the trend's median with parts
    _assert_same(tables[0], _direct(tagged, ["tag", "period"]), ["tag", "period"])
    _assert_same(tables[1], _direct(lf, ["period"]), ["period"])
    _assert_same(tables[2], _direct(lf, []), [])
    # a record with two tags counts in both tags' groups, once in the totals
    assert tables[0]["volume"].sum() == 6 + 3
    assert tables[2]["volume"][0] == 6


def test_an_empty_window_has_one_totals_row_of_nothing() -> None:
    lf = _frame(RECORDS).filter(pl.lit(False))
    grouped, trend, totals = _rolled(lf, [(lf, KEYS), (lf, ["period"]), (lf, [])])[0]
    assert grouped.height == 0 and trend.height == 0
    total = totals.row(0, named=True)
    assert (total["volume"], total["rate__n"], total["avg__n"]) == (0, 0, 0)
    for name in ("rate", "rate__open", "avg", "low", "high", "mid", "net", "traffic"):
        assert total[name] is None, name
    assert (total[FIRST], total[LAST]) == (None, None)
    _assert_same(totals, _direct(lf, []), [])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]),
            st.integers(1, 3),
            st.one_of(st.none(), st.floats(-5, 1e6, allow_nan=False)),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.integers(0, 10)),
        ),
        max_size=40,
    )
)
def test_merged_groups_equal_the_records(rows: list[Record]) -> None:
    lf = _frame(rows)
    grouped, trend, totals = _rolled(lf, [(lf, KEYS), (lf, ["period"]), (lf, [])])[0]
    _assert_same(grouped, _direct(lf, KEYS), KEYS)
    _assert_same(trend, _direct(lf, ["period"]), ["period"])
    _assert_same(totals, _direct(lf, []), [])
