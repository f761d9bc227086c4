"""The SQL kinds (cscli.engine.sql.compile) against the polars kinds, on DuckDB.

Each frame is written to Parquet with polars and aggregated twice: by polars'
`aggregations` and by DuckDB running the SQL of `cscli.engine.sql.compile.aggregations`,
grouped by a key (the NULL group kept) and as totals. Values must be equal exactly, means
within 1e-12 relative and DuckDB quantiles within 1e-15 relative (`quantile_cont` rounds its
own way, ≤ 4e-16 measured). A few values are also worked out by hand in the comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from cscli.conditions import Condition, parse_condition
from cscli.engine.polars import compile as pc
from cscli.engine.sql import compile as sc
from cscli.engine.sql.dialect import DUCKDB, SPARK
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import (
    Built,
    Count,
    DistinctRatio,
    Erlang,
    Kind,
    Kpi,
    NetScore,
    Ratio,
    SqlAggregate,
    Stat,
    StateTime,
    Stock,
    instantiate,
)
from tests.helpers import kpi_of
from tests.sql_duck import assert_frames, connect, register, same

D = DUCKDB
MEANS = 1e-12
QUANTILES = 1e-15


def both(
    tmp_path: Path,
    df: pl.DataFrame,
    kpi: Kpi,
    lo: datetime | None = None,
    hi: datetime | None = None,
    rel: float = 0.0,
    scale: float = 0.0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(grouped by g, totals) from polars and from DuckDB, compared; the DuckDB pair back."""
    exprs = pc.aggregations(kpi, lo, hi)
    frame = pc.with_as_of(df.lazy(), kpi.kind, hi)  # a banded stock without a period end
    want_grouped = frame.group_by("g").agg(exprs).collect()
    want_totals = frame.select(exprs).collect()
    con = connect()
    register(con, "raw", df, tmp_path)
    column = sc.as_of(kpi.kind, D, hi)
    extra = [] if column is None else [sc.alias(column, sc.AS_OF)]
    con.execute(f"CREATE VIEW t AS {D.render(exp.select(exp.Star(), *extra).from_('raw'))}")
    items = sc.aggregations(kpi, D, lo, hi)
    grouped = _run(con, items, ["g"])
    totals = _run(con, [i.copy() for i in items], [])
    tolerance = {c: rel for c in want_totals.columns if not c.endswith("__n")}
    assert_frames(want_grouped, grouped, ["g"], tolerance, scale)
    assert_frames(want_totals, totals, [], tolerance, scale)
    _rolled_up(frame, kpi, grouped, totals, tolerance, scale)
    # the counts are BIGINT (Int64), as polars gives them
    assert grouped[kpi.id + "__n"].dtype == pl.Int64
    return grouped, totals


def _rolled_up(
    frame: pl.LazyFrame,
    kpi: Kpi,
    grouped: pl.DataFrame,
    totals: pl.DataFrame,
    tolerance: dict[str, float],
    scale: float,
) -> None:
    """A kind made of parts, aggregated per group and its groups' parts merged (the way the
    engine makes the totals of a grouped report), gives DuckDB's groups and totals too (a
    quantile's value is no part: the columns it has)."""
    rolled = pc.rollup([kpi])
    if rolled is None:
        assert isinstance(kpi.kind, DistinctRatio | SqlAggregate | Stock | StateTime)
        return
    parts = frame.group_by("g").agg(rolled.parts).collect()
    mine = parts.select("g", *rolled.columns)
    merged = parts.select(rolled.merges).select(rolled.columns)
    assert_frames(mine, grouped.select(mine.columns), ["g"], tolerance, scale)
    assert_frames(merged, totals.select(merged.columns), [], tolerance, scale)


def _run(con: Any, items: list[exp.Expr], by: list[str]) -> pl.DataFrame:
    query = exp.select(*[exp.column(b) for b in by], *items).from_("t")
    if by:
        query = query.group_by(*[exp.column(b) for b in by])
    return con.sql(D.render(query)).pl()


def row(df: pl.DataFrame, g: str | None) -> dict[str, Any]:
    match = df.filter(pl.col("g").is_null() if g is None else pl.col("g") == g)
    assert match.height == 1
    return match.row(0, named=True)


# --- Count, Ratio ------------------------------------------------------------------------

TICKETS = pl.DataFrame(
    {
        "g": ["a", "a", "a", "b", "b", None, "c"],
        "spam": [False, None, False, True, False, False, True],
        "escalated": [True, False, None, True, True, False, False],
        "resolved": [True, None, True, False, None, True, False],
        "open": [False, True, None, False, True, False, True],
        "frt": [10.0, None, -5.0, 30.0, float("nan"), 2.0, 7.0],
        "score": [9.0, 7.0, 3.0, None, 10.0, 6.0, 0.0],
        "customer": ["x", "x", "y", None, "z", "x", "w"],
        "switched": [True, False, None, True, False, True, False],
        "seen": [True, None, False, True, True, False, None],
    }
)


def test_count(tmp_path: Path) -> None:
    grouped, totals = both(tmp_path, TICKETS, kpi_of(Count()))
    assert totals.row(0) == (7, 7)
    # spam = FALSE: a has 2 (NULL is not false: NOT NULL is NULL → not counted), b 1, None 1
    grouped, _ = both(tmp_path, TICKETS, kpi_of(Count(where="NOT spam")))
    assert row(grouped, "a")["k"] == 2 and row(grouped, "c")["k"] == 0


def test_ratio_with_judged_and_pending(tmp_path: Path) -> None:
    kind = Ratio(numerator="escalated", denominator="NOT spam", judged="resolved IS NOT NULL")
    grouped, totals = both(tmp_path, TICKETS, kpi_of(kind))
    # a: not spam rows 1 and 3 (row 2's spam is NULL), both judged; escalated: row 1 → 1/2
    # open share of a: cohort rows 1, 3; neither unjudged → 0
    assert row(grouped, "a") == {"g": "a", "k": 0.5, "k__n": 2, "k__open": 0.0}
    # b: not spam row 5 only, unjudged → den 0 → NULL (never NaN); open share 1/1
    assert row(grouped, "b") == {"g": "b", "k": None, "k__n": 0, "k__open": 1.0}
    both(tmp_path, TICKETS, kpi_of(Ratio(numerator="resolved", pending="open")))
    both(tmp_path, TICKETS, kpi_of(Ratio(numerator="escalated", where="frt > 5")))
    assert totals["k__n"][0] == 3  # rows 1, 3, 6


# --- Stat, NetScore ----------------------------------------------------------------------


@pytest.mark.parametrize("stat", ["mean", "median", "min", "max", "p90", "p99.9", "p1"])
def test_stat(tmp_path: Path, stat: str) -> None:
    rel = MEANS if stat == "mean" else QUANTILES
    kind = Stat(value="frt", stat=stat, pending="open")
    grouped, totals = both(tmp_path, TICKETS, kpi_of(kind), rel=rel)
    # a: 10.0 kept, NULL and −5.0 dropped (nonnegative) → every statistic is 10, n = 1
    assert row(grouped, "a")["k"] == 10.0 and row(grouped, "a")["k__n"] == 1
    # b: 30.0 and NaN (NaN is kept: not null, and NaN >= 0 holds in polars and DuckDB)
    assert row(grouped, "b")["k__n"] == 2
    both(
        tmp_path,
        TICKETS,
        kpi_of(Stat(value="frt", stat=stat, nonnegative=False)),
        rel=rel,
        scale=30.0,
    )
    both(tmp_path, TICKETS, kpi_of(Stat(value="frt", stat=stat, where="NOT spam")), rel=rel)
    assert totals["k__open"][0] == pytest.approx(3 / 7)  # rows 2, 5, 7 open (row 3 NULL)


def test_stat_median_by_hand(tmp_path: Path) -> None:
    df = pl.DataFrame({"g": ["a"] * 4 + ["b"], "v": [4.0, 1.0, 3.0, 10.0, 5.0]})
    grouped, _ = both(tmp_path, df, kpi_of(Stat(value="v", stat="median")))
    # a: sorted 1, 3, 4, 10 → (3 + 4) / 2 = 3.5
    assert row(grouped, "a")["k"] == 3.5
    grouped, _ = both(tmp_path, df, kpi_of(Stat(value="v", stat="p90")), rel=QUANTILES)
    # p90 of 1, 3, 4, 10: position 0.9 × 3 = 2.7 → 4 + 0.7 × (10 − 4) = 8.2
    assert row(grouped, "a")["k"] == pytest.approx(8.2, rel=1e-15)


def test_net_score(tmp_path: Path) -> None:
    kind = NetScore(value="score", promoter_min=9.0, detractor_max=6.0)
    grouped, totals = both(tmp_path, TICKETS, kpi_of(kind))
    # a: 9 promoter, 7 passive, 3 detractor → 100 × (1 − 1) / 3 = 0
    assert row(grouped, "a")["k"] == 0.0 and row(grouped, "a")["k__n"] == 3
    # totals: scores 9, 7, 3, 10, 6, 0 → promoters 2, detractors 3 → 100 × −1 / 6
    assert totals["k"][0] == pytest.approx(-100 / 6, rel=1e-15)
    both(tmp_path, TICKETS, kpi_of(NetScore("score", 9.0, 6.0, where="NOT spam")))


# --- DistinctRatio -------------------------------------------------------------------------


def test_distinct_ratio(tmp_path: Path) -> None:
    _, totals = both(tmp_path, TICKETS, kpi_of(DistinctRatio("customer", "switched")))
    # totals: customers x, y, z, w (NULL dropped) = 4; switched: x (rows 1, 6) → 1/4
    assert totals.row(0) == (0.25, 4)
    kind = DistinctRatio("customer", "switched", judged="seen")
    _, totals = both(tmp_path, TICKETS, kpi_of(kind))
    # totals: every = 4; U (a record not judged) = x (row 2), y (row 3), x (row 6), w → {x, y,
    # w}; S = {x}; |U ∪ S| = 3 → judged = 4 − 3 + 1 = 2 (x, z); value 1/2, open (4 − 2)/4
    assert totals.row(0) == (0.5, 2, 0.5)
    both(tmp_path, TICKETS, kpi_of(DistinctRatio("customer", "switched", where="NOT spam")))


# --- Stock ---------------------------------------------------------------------------------


def _at(day: int) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC)


STOCK = pl.DataFrame(
    {
        "g": ["a", "a", "a", "b", "b", None],
        "opened": [_at(1), _at(5), _at(12), _at(2), None, _at(9)],
        "closed": [_at(8), None, _at(20), _at(10), _at(3), _at(10)],
        "vip": [True, True, False, None, True, False],
    },
    schema_overrides={"opened": pl.Datetime("us", "UTC"), "closed": pl.Datetime("us", "UTC")},
)


@pytest.mark.parametrize("measure", ["end", "retention", "churn"])
@pytest.mark.parametrize(
    ("lo", "hi"), [(_at(7), _at(14)), (None, _at(14)), (_at(7), None), (None, None)]
)
def test_stock(tmp_path: Path, measure: str, lo: datetime | None, hi: datetime | None) -> None:
    kind = Stock(opened="opened", closed="closed", measure=measure)  # type: ignore[arg-type]
    both(tmp_path, STOCK, kpi_of(kind), lo, hi)
    both(tmp_path, STOCK, kpi_of(Stock("opened", "closed", measure, "vip")), lo, hi)  # type: ignore[arg-type]


def test_stock_by_hand(tmp_path: Path) -> None:
    end = kpi_of(Stock(opened="opened", closed="closed"))
    grouped, _ = both(tmp_path, STOCK, end, _at(7), _at(14))
    # open at 01-14: a's 01-05 (never closed) and 01-12 (closes 01-20) → 2; b none
    assert row(grouped, "a")["k"] == 2 and row(grouped, "b")["k"] == 0
    churn = kpi_of(Stock(opened="opened", closed="closed", measure="churn"))
    grouped, totals = both(tmp_path, STOCK, churn, _at(7), _at(14))
    # open at 01-07: 01-01 (closes 01-08), 01-05, 01-02 (closes 01-10) → S = 3 (+ None's
    # 01-09? no: opened after 01-07); closed in [07, 14): 01-08, 01-10 → 2/3
    assert totals.row(0) == (pytest.approx(2 / 3, rel=1e-15), 3)
    # None group: nobody open at 01-07 → S = 0 → NULL, never NaN
    assert row(grouped, None)["k"] is None and row(grouped, None)["k__n"] == 0


@pytest.mark.parametrize(
    ("age_from", "age_below"),
    [(None, 3 * 86400.0), (3 * 86400.0, 7 * 86400.0), (7 * 86400.0, None)],
)
@pytest.mark.parametrize("hi", [_at(14), None])
def test_banded_stock(
    tmp_path: Path, age_from: float | None, age_below: float | None, hi: datetime | None
) -> None:
    kind = Stock(opened="opened", closed="closed", age_from=age_from, age_below=age_below)
    kpi = kpi_of(kind)
    want = pc.with_as_of(STOCK.lazy(), kind, hi)
    exprs = pc.aggregations(kpi, _at(7), hi)
    want_grouped = want.group_by("g").agg(exprs).collect()
    want_totals = want.select(exprs).collect()
    con = connect()
    register(con, "raw", STOCK, tmp_path)
    column = sc.as_of(kind, D, hi)
    assert (column is None) == (hi is not None)
    extra = [] if column is None else [sc.alias(column, sc.AS_OF)]
    view = exp.select(exp.Star(), *extra).from_("raw")
    con.execute(f"CREATE VIEW t AS {D.render(view)}")
    items = sc.aggregations(kpi, D, _at(7), hi)
    assert_frames(want_grouped, _run(con, items, ["g"]), ["g"], {})
    assert_frames(want_totals, _run(con, [i.copy() for i in items], []), [], {})
    if hi is not None and age_from == 3 * 86400.0:
        # open at 01-14: 01-05 (9 days) and 01-12 (2 days) → none aged [3 d, 7 d)
        assert want_totals.row(0) == (0, 0)
    if hi is None and age_below is None:
        # as of the newest stamp (01-20, a close), open: 01-05 only, aged 15 days ≥ 7 d → 1
        assert want_totals.row(0) == (1, 1)


def test_banded_stock_edges_are_exact(tmp_path: Path) -> None:
    """A record aged exactly `age_from` is in the band; one aged exactly `age_below` is not."""
    hi = _at(14)
    df = pl.DataFrame(
        {"g": ["a", "a", "a"], "opened": [_at(11), _at(7), _at(13)], "closed": [None, None, None]},
        schema_overrides={"opened": pl.Datetime("us", "UTC"), "closed": pl.Datetime("us", "UTC")},
    )
    kind = Stock(opened="opened", closed="closed", age_from=3 * 86400.0, age_below=7 * 86400.0)
    _, totals = both(tmp_path, df, kpi_of(kind), _at(7), hi)
    assert totals.row(0) == (1, 1)  # aged 3 d (in), 7 d (out: next band), 1 d (out)


# --- Erlang, SqlAggregate, StateTime -------------------------------------------------------


def test_erlang_parts(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "g": ["a", "a", "a", "b", None],
            "inbound": [True, True, False, True, None],
            "answered": [True, False, True, None, True],
            "handle": [100.0, 50.0, -3.0, 40.0, None],
        }
    )
    kind = Erlang("traffic", offered="inbound", handle="handle", answered="answered")
    grouped, _ = both(tmp_path, df, kpi_of(kind), rel=MEANS)
    # a: offered rows 1, 2 → n = 2; mean handle of answered non-negative: 100 only
    assert row(grouped, "a") == {"g": "a", "k": 100.0, "k__n": 2}


@pytest.mark.parametrize(
    "expr",
    [
        "avg(frt)",
        "count(*) FILTER (WHERE escalated)",
        "sum(score) / count(*)",
        "quantile_cont(score, 0.75)",
        "median(frt)",
        "avg(CASE WHEN score >= 9.0 THEN 1.0 ELSE 0.0 END)",
        "count(DISTINCT customer)",
        "max(score) - min(score)",
    ],
)
def test_sql_aggregate(tmp_path: Path, expr: str) -> None:
    _, totals = both(tmp_path, TICKETS, kpi_of(SqlAggregate(expr)), rel=MEANS)
    assert totals["k__n"][0] == 7  # n = COUNT(*)


def test_state_time_is_unsupported() -> None:
    kpi = kpi_of(StateTime(numerator=("available",)))
    with pytest.raises(sc.Unsupported, match="polars engine only"):
        sc.aggregations(kpi, D)
    with pytest.raises(sc.Unsupported):
        sc.breach(kpi, D, None, None, {})


def test_every_builtin_kind_but_state_time_compiles_on_both_dialects() -> None:
    for kpi_def in CATALOG.values():
        kpi = instantiate(kpi_def)
        built: Built | None = kpi.built
        while built is not None:
            if not isinstance(built.kind, StateTime):
                for d in (DUCKDB, SPARK):
                    variant = kpi_of(built.kind, kpi.id)
                    hi = datetime(2026, 2, 1, tzinfo=UTC)
                    for item in sc.aggregations(variant, d, datetime(2026, 1, 1, tzinfo=UTC), hi):
                        assert d.render(item)
            built = built.fallback


# --- breach: the records behind a breach and each one's value ------------------------------


def _dtype_names(schema: Mapping[str, pl.DataType]) -> dict[str, str]:
    def name(t: pl.DataType) -> str:
        if t == pl.Boolean:
            return "bool"
        if t.is_integer():
            return "int"
        if t.is_float():
            return "float"
        if isinstance(t, pl.Datetime):
            return "datetime"
        return "string"

    return {c: name(t) for c, t in schema.items()}


def check_breach(
    tmp_path: Path, df: pl.DataFrame, kpi: Kpi, cond: Condition | None, hi: datetime | None
) -> list[tuple[int, float | None]]:
    df = df.with_row_index("r")
    predicate, value = pc.breach(kpi, cond, hi, df.schema)
    want_value = pl.lit(None, dtype=pl.Float64) if value is None else value.cast(pl.Float64)
    want = df.filter(predicate).select("r", want_value.alias("v")).sort("r").rows()
    con = connect()
    register(con, "t", df, tmp_path)
    sql_pred, sql_value = sc.breach(kpi, D, cond, hi, _dtype_names(df.schema))
    assert (value is None) == (sql_value is None)
    v = exp.Null() if sql_value is None else sql_value
    query = exp.select("r", sc.alias(v, "v")).from_("t").where(sql_pred).order_by("r")
    got = con.sql(D.render(query)).fetchall()
    assert len(got) == len(want), (got, want)
    for (r1, v1), (r2, v2) in zip(want, got, strict=True):
        assert r1 == r2 and same(v1, None if v2 is None else float(v2)), (want, got)
    return [(int(r), v) for r, v in got]


@pytest.mark.parametrize("good", [True, False, None])
def test_breach_ratio_count_distinct(tmp_path: Path, good: bool | None) -> None:
    ratio = kpi_of(Ratio(numerator="escalated", denominator="NOT spam"), good=good)
    got = check_breach(tmp_path, TICKETS, ratio, None, None)
    if good is True:
        # not spam and not escalated: rows 2? no (spam NULL); rows 5 (escalated TRUE)… → 5
        # rows (0-based): 2 (escalated NULL counts as not), 5 (FALSE)
        assert [r for r, _ in got] == [2, 5]
    check_breach(tmp_path, TICKETS, kpi_of(Count(), good=good), None, None)
    distinct = kpi_of(DistinctRatio("customer", "switched"), good=good)
    check_breach(tmp_path, TICKETS, distinct, None, None)


@pytest.mark.parametrize("cond", ["> 5", "<= 10", "between 5 and 30", "not between 5 and 30"])
def test_breach_stat_lists_values_past_the_threshold(tmp_path: Path, cond: str) -> None:
    stat = kpi_of(Stat(value="frt", stat="median"), good=False)
    got = check_breach(tmp_path, TICKETS, stat, parse_condition(cond), None)
    if cond == "> 5":
        # frt 10, 30, NaN (larger than every number), 7; −5 is dropped (negative)
        assert [r for r, _ in got] == [0, 3, 4, 6]
    check_breach(tmp_path, TICKETS, stat, None, None)


def test_breach_net_score_stock_sql_erlang(tmp_path: Path) -> None:
    check_breach(tmp_path, TICKETS, kpi_of(NetScore("score", 9.0, 6.0)), None, None)
    stock = kpi_of(Stock(opened="opened", closed="closed"), good=False)
    got = check_breach(tmp_path, STOCK, stock, None, _at(14))
    # open at 01-14: rows 1 (opened 01-05: 9 days) and 2 (01-12: 2 days), ages in seconds
    assert got == [(1, 9 * 86400.0), (2, 2 * 86400.0)]
    check_breach(tmp_path, STOCK, stock, None, None)
    # a SQL aggregate lists every record, valued by the first numeric column it names (score)
    got = check_breach(tmp_path, TICKETS, kpi_of(SqlAggregate("avg(score)")), None, None)
    assert got[0] == (0, 9.0)
    df = pl.DataFrame({"inbound": [True, False, None], "handle": [1.0, 2.0, 3.0]})
    kind = Erlang("traffic", offered="inbound", handle="handle", answered="inbound")
    check_breach(tmp_path, df, kpi_of(kind), None, None)


def test_record_value_falls_back_to_the_duration_measures(tmp_path: Path) -> None:
    """Abandonment (`answered_at IS NULL`) is valued by the wait: `wait_seconds`."""
    kpi = instantiate(CATALOG["abandonment_rate"])
    stamps = [datetime(2026, 1, 1, 9, tzinfo=UTC), None]
    df = pl.DataFrame(
        {
            "direction": ["inbound", "inbound"],
            "answered_at": stamps,
            "wait_seconds": [None, 42.0],
            "answer_seconds": [12.0, None],
        },
        schema_overrides={"answered_at": pl.Datetime("us", "UTC")},
    )
    got = check_breach(tmp_path, df, kpi, None, None)
    assert got == [(1, 42.0)]


def test_parquet_statistics_trap(tmp_path: Path) -> None:
    """Why the engine's DuckDB connection disables statistics propagation: polars' Parquet
    statistics leave NaN out (max 30 here), and DuckDB folds `v <= 30` to TRUE with them."""
    df = pl.DataFrame({"v": [10.0, None, -5.0, 30.0, float("nan")]})
    df.write_parquet(tmp_path / "v.parquet")
    scan = f"SELECT v <= 30.0 FROM read_parquet('{tmp_path / 'v.parquet'}')"
    want = df.select(pl.col("v") <= 30.0)["v"].to_list()
    assert want == [True, None, True, True, False]  # NaN is above every number
    # (a plain `duckdb.connect()` gave TRUE for the NaN row on duckdb 2.0.1)
    assert [r[0] for r in connect().execute(scan).fetchall()] == want


# --- random frames --------------------------------------------------------------------------

VALUES = st.one_of(st.none(), st.floats(-50, 1000, allow_nan=False), st.just(float("nan")))
FLAGS = st.one_of(st.none(), st.booleans())


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", None]), VALUES, FLAGS, FLAGS), max_size=25),
    st.sampled_from(["mean", "median", "p90", "min", "max"]),
)
def test_random_frames_equal_polars(
    tmp_path: Path, rows: list[tuple[str | None, float | None, bool | None, bool | None]], stat: str
) -> None:
    df = pl.DataFrame(
        rows,
        schema={"g": pl.String, "v": pl.Float64, "p": pl.Boolean, "q": pl.Boolean},
        orient="row",
    )
    rel = MEANS if stat == "mean" else QUANTILES
    both(tmp_path, df, kpi_of(Count(where="p")))
    both(tmp_path, df, kpi_of(Ratio(numerator="p", denominator="q IS NOT NULL", judged="q")))
    both(tmp_path, df, kpi_of(Ratio(numerator="p", where="v > 10.0", pending="q")))
    both(tmp_path, df, kpi_of(Stat(value="v", stat=stat, where="p", pending="q")), rel=rel)
    # negative and positive values: quantiles near zero compare at the inputs' magnitude
    signed = kpi_of(Stat(value="v", stat=stat, nonnegative=False))
    both(tmp_path, df, signed, rel=rel, scale=1000.0)
    both(tmp_path, df, kpi_of(NetScore(value="v", promoter_min=500.0, detractor_max=100.0)))


# --- every built-in KPI on a synthetic frame -------------------------------------------------

_BOOLS = {"gave_up", "ticket_end_unknown", "ticket_open", "next_reply_wait"}
_INTS = {"history_reopens", "public_replies"}
_LO, _HI = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)


def _logical(source: str, column: str) -> str:
    from cscli.schema import DERIVED_TABLES, TABLES

    table = TABLES.get(source) or DERIVED_TABLES.get(source)
    if table is not None and table.has(column):
        return table.column(column).type
    if column in _BOOLS:
        return "bool"
    if column in _INTS:
        return "int"
    if column.endswith(("seconds", "_wait")) or column == "sentiment":
        return "float"
    return "datetime" if column.endswith("_at") else "string"


def _synthetic(kind: Kind, source: str, seed: int, rows: int = 80) -> pl.DataFrame:
    """Random values of every column the kind reads, drawn from the literals its SQL names
    (so that its predicates hit and miss) with NULLs, ties and negative durations."""
    import random

    from cscli.engine.sql.text import parse
    from cscli.kpis.columns import columns_used, kind_sql, pending_columns

    rng = random.Random(seed)
    texts = [*kind_sql(kind), getattr(kind, "pending", None) or "TRUE"]
    literals = [lit for t in texts for lit in parse(t).find_all(exp.Literal)]
    strings = [lit.this for lit in literals if lit.is_string] + ["other"]
    numbers = [float(lit.this) for lit in literals if lit.is_number] + [0.0, 1.0]
    data: dict[str, pl.Series] = {
        "g": pl.Series([rng.choice(["a", "b", None]) for _ in range(rows)])
    }
    for column in sorted(columns_used(kind) | pending_columns(kind)):
        logical = _logical(source, column)
        if logical == "bool":
            values: list[Any] = [rng.choice([True, False, None]) for _ in range(rows)]
            data[column] = pl.Series(values, dtype=pl.Boolean)
        elif logical in ("float", "int"):
            pool = [*numbers, *(rng.uniform(-10, 1e6) for _ in range(8)), None]
            values = [rng.choice(pool) for _ in range(rows)]
            if logical == "int":
                values = [None if v is None else round(v) for v in values]
            data[column] = pl.Series(values, dtype=pl.Int64 if logical == "int" else pl.Float64)
        elif logical == "datetime":
            days = [rng.choice([None, *range(1, 28)]) for _ in range(rows)]
            stamps = [
                None if d is None else datetime(2026, 1, d, rng.randrange(24), tzinfo=UTC)
                for d in days
            ]
            data[column] = pl.Series(stamps, dtype=pl.Datetime("us", "UTC"))
        else:
            data[column] = pl.Series([rng.choice([*strings, None]) for _ in range(rows)])
    return pl.DataFrame(data)


def _tolerance(kind: Kind) -> tuple[float, float]:
    """Exact, but float means within 1e-12 and DuckDB quantiles within 1e-15 (of the inputs'
    magnitude when values of both signs are kept)."""
    if isinstance(kind, Stat):
        if kind.stat == "mean":
            return MEANS, 0.0
        return QUANTILES, 0.0 if kind.nonnegative else 1e6
    if isinstance(kind, Erlang | SqlAggregate):
        return MEANS, 0.0
    return 0.0, 0.0


@pytest.mark.parametrize("kpi_id", sorted(CATALOG))
def test_every_builtin_kpi_equals_polars_on_duckdb(tmp_path: Path, kpi_id: str) -> None:
    kpi = instantiate(CATALOG[kpi_id])
    built: Built | None = kpi.built
    seed = 0
    while built is not None:
        if isinstance(built.kind, StateTime):
            with pytest.raises(sc.Unsupported):
                sc.aggregations(kpi_of(built.kind), D)
        else:
            for lo, hi in ((_LO, _HI), (None, None)):
                seed += 1
                df = _synthetic(built.kind, kpi.source, seed)
                rel, scale = _tolerance(built.kind)
                both(tmp_path, df, kpi_of(built.kind, kpi.id), lo, hi, rel=rel, scale=scale)
        built = built.fallback


def test_backlog_age_buckets_equal_polars(tmp_path: Path) -> None:
    from cscli.kpis.builtin.backlog_age import buckets

    members = buckets({"buckets": (86400.0, 3 * 86400.0, 7 * 86400.0)})
    assert len(members) == 4
    for seed, member in enumerate(members):
        kind = member.built.kind
        assert isinstance(kind, Stock) and kind.banded
        for lo, hi in ((_LO, _HI), (None, None)):
            df = _synthetic(kind, "tickets", 200 + seed)
            both(tmp_path, df, kpi_of(kind, "backlog_age"), lo, hi)
