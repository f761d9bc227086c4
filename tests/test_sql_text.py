"""The SQL dialects and the kind/user SQL text layer (cscli.engine.sql.dialect, .text).

Every DuckDB function of the dialect runs on DuckDB here against the polars computation it
mirrors; the Spark spellings are asserted as text (the spark branch runs them on Spark).
"""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from cscli.config.load import load_config
from cscli.engine.polars.measures import seconds
from cscli.engine.polars.stocks import bucket as polars_bucket
from cscli.engine.sql.compile import alias
from cscli.engine.sql.dialect import DUCKDB, SPARK, dialect_for
from cscli.engine.sql.text import SqlTextError, column_names, compile_sql, parse, problems
from cscli.kpis.catalog import CATALOG
from cscli.kpis.columns import kind_sql
from cscli.kpis.spec import Built, instantiate
from cscli.sqlcheck import column_names as scanned_names
from tests.sql_duck import connect, register, same

ROOT = Path(__file__).resolve().parent.parent
D = DUCKDB
COL = exp.column


def _built_texts(built: Built | None) -> set[str]:
    texts: set[str] = set()
    while built is not None:
        texts.update(kind_sql(built.kind))
        pending = getattr(built.kind, "pending", None)
        if pending:
            texts.add(pending)
        texts.update(q.predicate for q in built.quality)
        built = built.fallback
    return texts


def catalogue_texts() -> set[str]:
    """Every SQL text of every built-in KPI: default parameters, each choice, each bool."""
    texts: set[str] = set()
    for kpi_def in CATALOG.values():
        variants: list[dict[str, object]] = [{}]
        for p in kpi_def.params:
            if p.kind == "choice":
                variants += [{p.name: c} for c in p.choices]
            elif p.kind == "bool":
                variants += [{p.name: True}, {p.name: False}]
        for params in variants:
            texts |= _built_texts(instantiate(kpi_def, params).built)
    return texts


def config_texts() -> set[str]:
    """Every SQL text of every config under configs/ and tests/: KPIs, filters, checks."""
    texts: set[str] = set()
    paths = [p for d in ("configs", "tests") for p in (ROOT / d).rglob("*.y*ml")]
    assert paths, "no configs found"
    for path in paths:
        config = load_config(path)
        for kpi in config.kpis:
            texts |= _built_texts(kpi.built)
        texts |= {s.filter for s in config.sources.values() if s.filter}
        texts |= {c.where for c in config.checks if c.where}
    return texts


def test_every_builtin_and_config_text_parses_and_renders_on_both_dialects() -> None:
    texts = catalogue_texts() | config_texts()
    assert len(texts) > 100  # the catalogue alone has 113 distinct texts
    for text in sorted(texts):
        assert problems(text, DUCKDB) == [], text
        assert problems(text, SPARK) == [], text
        for d in (DUCKDB, SPARK):
            rendered = d.render(compile_sql(text, d))
            # the rendered text is valid SQL of the engine's dialect
            sqlglot.parse_one(rendered, read=d.sqlglot)
        # the columns a text names: the same set the engine-neutral scanner finds
        assert column_names(text) == scanned_names(text), text


def test_texts_are_parsed_once_and_handed_out_as_copies() -> None:
    a = compile_sql("score >= 4.0", D)
    a.set("this", COL("other"))
    assert D.render(compile_sql("score >= 4.0", D)) == "score >= CAST(4.0 AS DOUBLE)"
    assert parse("x > 1") is not parse("x > 1")


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("percentile_cont(0.5) WITHIN GROUP (ORDER BY x)", "write quantile_cont(x, q)"),
        ("approx_quantile(x, 0.5)", "write quantile_cont(x, q)"),
        ("percentile_approx(x, 0.5)", "approximate"),
        ("approx_count_distinct(x)", "write count(DISTINCT x)"),
        ("quantile_disc(x, 0.5)", "quantile_cont(x, q)"),
        ("quantile_cont(x, 1.5)", "between 0 and 1"),
        ("quantile_cont(x, q)", "between 0 and 1"),
        ("x IN (SELECT y FROM t)", "SELECT is not allowed"),
        ("foo(x) > 1", "'foo' is not allowed"),
        ("stddev(x)", "stddev() is not supported"),
        ("date_trunc('week', created_at)", "is not supported on the SQL engines"),
        ("CAST(x AS VARCHAR) = '1'", "cast to DOUBLE"),
        ("CAST(x AS FLOAT) > 1", "cast to DOUBLE"),
        ("t.x > 1", "name the column alone"),
        ("trim(BOTH 'x' FROM s) = ''", "TRIM(… FROM …)"),
        ("b IS TRUE", "IS TRUE"),
        ("round(x, 2)", "round(x * 100) / 100"),
        ("x >", "cannot parse"),
    ],
)
def test_refused_with_the_reason_and_the_portable_spelling(text: str, reason: str) -> None:
    for d in (DUCKDB, SPARK):
        found = problems(text, d)
        assert len(found) == 1, (text, found)
        assert reason in found[0], (text, found)
    with pytest.raises(SqlTextError):
        compile_sql(text, D)


def test_dialect_for() -> None:
    assert dialect_for("duckdb") is DUCKDB
    assert dialect_for("spark") is SPARK
    with pytest.raises(ValueError, match="expected one of duckdb, spark"):
        dialect_for("polars")


# --- user SQL: DuckDB gives what polars gives, row by row -------------------------------

ROWS = pl.DataFrame(
    {
        "k": [1, 2, 3, 4, 5, 6, 7, 8],
        "i": [7, -7, 7, 0, None, -8, 9, 3],
        "j": [2, 2, -2, 0, 3, 3, 0, None],
        "x": [2.5, -2.5, 0.125, float("nan"), None, 1.5, 2.675, 0.5],
        "y": [0.0, 1.0, -3.0, 0.0, 2.0, 0.0, 4.0, None],
        "s": [" a ", "\u00a0B\t", "héllo", None, "x\u2003", "", "\u200bq", "Ab"],
        "b": [True, False, None, True, False, None, True, False],
        "z": [2.7, -2.7, 0.5, -0.5, None, 1e9 + 0.9, 3.0, -1.99],
    }
)

ROW_EXPRESSIONS = [
    "i / j",  # 7 / 2 = 3.5 (polars: true division), 7 / 0 = inf, 0 / 0 = NaN
    "x / y",  # 2.5 / 0.0 = inf, -2.5 / 1.0, NaN / 0.0 = NaN, 1.5 / 0.0 = inf
    "i // j",  # −7 // 2 = −3 (truncated), 7 // 0 = NULL
    "i % j",  # −7 % 2 = −1, 7 % 0 = NULL
    "x * 2.0 + 1.5",
    "i + 1",
    "-x",
    "abs(i)",
    "floor(x)",
    "ceil(x)",
    "round(x)",  # half to even: 2.5 → 2, −2.5 → −2, 0.5 → 0, 1.5 → 2
    "round(x, 0)",
    "CAST(i AS DOUBLE) * 1e-3",
    "CAST(z AS INT)",  # truncates: 2.7 → 2, −2.7 → −2 (DuckDB alone would round)
    "CAST(z AS BIGINT)",
    "trim(s)",
    "length(s)",
    "lower(s)",
    "upper(s)",
    "s || 'z'",
    "s LIKE '%a%'",
    "s ILIKE 'ab'",
    "coalesce(i, j, 0)",
    "nullif(i, 7)",
    "greatest(i, j)",
    "least(i, j)",
    "CASE WHEN x > 1.0 THEN 'big' WHEN x IS NULL THEN 'none' ELSE 'small' END",
    "CASE i WHEN 7 THEN 1 ELSE 0 END",
    "i IN (7, 9)",
    "i NOT IN (7, 9)",
    "x BETWEEN 0.1 AND 2.5",
    "x >= 0",  # NaN is larger than every number in polars and DuckDB
    "x = x",
    "NOT b",
    "b AND i > 0",
    "b OR i > 0",
    "i IS NULL",
    "j IS NOT NULL",
    "i IS DISTINCT FROM j",
    "i IS NOT DISTINCT FROM j",
    "IF(b, 1, 2)",
]


def _polars_values(text: str) -> list[object]:
    return ROWS.sort("k").select(pl.sql_expr(text).alias("v"))["v"].to_list()


def _duck_values(tmp_path: Path, text: str) -> list[object]:
    con = connect()
    register(con, "t", ROWS, tmp_path)
    query = exp.select(alias(compile_sql(text, D), "v")).from_("t").order_by("k")
    return con.sql(D.render(query)).pl()["v"].to_list()


@pytest.mark.parametrize("text", ROW_EXPRESSIONS)
def test_row_expressions_equal_polars(tmp_path: Path, text: str) -> None:
    want, got = _polars_values(text), _duck_values(tmp_path, text)
    assert len(want) == len(got)
    for a, b in zip(want, got, strict=True):
        if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
            assert same(float(a), float(b)), (text, want, got)
        else:
            assert a == b or (a is None and b is None), (text, want, got)


def test_hand_computed_row_values(tmp_path: Path) -> None:
    # 7 / 2 = 3.5, −7 / 2 = −3.5, 7 / −2 = −3.5, 0 / 0 = NaN, NULL, −8 / 3, 9 / 0 = inf, NULL
    got = _duck_values(tmp_path, "i / j")
    assert got[:3] == [3.5, -3.5, -3.5] and got[6] == float("inf") and got[7] is None
    assert got[3] != got[3]  # NaN
    assert _duck_values(tmp_path, "i // j") == [3, -3, -3, None, None, -2, None, None]
    assert _duck_values(tmp_path, "round(x)")[:3] == [2.0, -2.0, 0.0]
    assert _duck_values(tmp_path, "trim(s)")[:3] == ["a", "B", "héllo"]


GROUPS = pl.DataFrame(
    {
        "g": ["a", "a", "a", "b", "b", None, "c"],
        "v": [1.0, None, 3.5, 2.0, 2.0, 4.0, None],
        "n": [1, 2, None, 4, 4, 6, 7],
        "w": [True, None, False, True, True, False, None],
    }
)

AGGREGATES = [
    "count(*)",
    "count(v)",
    "count(DISTINCT n)",
    "sum(n)",
    "sum(v)",
    "avg(v)",
    "avg(n)",
    "min(v)",
    "max(n)",
    "median(v)",
    "quantile_cont(v, 0.9)",
    "count(*) FILTER (WHERE w)",
    "sum(n) FILTER (WHERE w)",  # c: no row passes → NULL (polars SQL, as SQL)
    "avg(v) FILTER (WHERE NOT w)",
    "count(DISTINCT n) FILTER (WHERE w)",
    "avg(CASE WHEN v > 1.0 THEN 1.0 ELSE 0.0 END)",
    "sum(v) / count(*)",
    "max(v) - min(v)",
    "sum(v > 1.0)",  # a: 3.5 → 1; c: NULL only → NULL
    "avg(v >= 2.0)",
]


@pytest.mark.parametrize("text", AGGREGATES)
def test_aggregates_equal_polars_per_group(tmp_path: Path, text: str) -> None:
    want = GROUPS.group_by("g").agg(pl.sql_expr(text).cast(pl.Float64).alias("v"))
    con = connect()
    register(con, "t", GROUPS, tmp_path)
    query = (
        exp.select(COL("g"), alias(D.double(compile_sql(text, D)), "v")).from_("t").group_by("g")
    )
    got = con.sql(D.render(query)).pl()
    want_rows = dict(want.iter_rows())
    got_rows = dict(got.iter_rows())
    assert want_rows.keys() == got_rows.keys()
    for key, value in want_rows.items():
        assert same(value, got_rows[key], rel=1e-15), (text, key, value, got_rows[key])


# --- the dialect functions on DuckDB against polars --------------------------------------

US = st.integers(min_value=-(10**15), max_value=4 * 10**15)  # 1938 … 2096


def _instants(values: list[int]) -> pl.Series:
    return pl.Series("ts", values, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(US, US), min_size=1, max_size=40))
def test_seconds_between_is_polars_bit_for_bit(pairs: list[tuple[int, int]]) -> None:
    """µs × 1e-6 in SQL equals polars' `seconds` (its multiply by the reciprocal) exactly."""
    starts, ends = _instants([a for a, _ in pairs]), _instants([b for _, b in pairs])
    df = pl.DataFrame({"s": starts, "e": ends}).with_row_index("k")
    want = df.select(seconds(pl.col("e") - pl.col("s")).alias("v"))["v"].to_list()
    con = connect()
    con.register("t", df.to_arrow())
    query = exp.select(alias(D.seconds_between(COL("e"), COL("s")), "v")).from_("t")
    got = con.sql(D.render(query.order_by("k"))).pl()["v"].to_list()
    assert [struct.pack("<d", v) for v in got] == [struct.pack("<d", v) for v in want]


ZONES = ["Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]
#: around the 2026 DST changes in Berlin (03-29 01:00 UTC, 10-25 01:00 UTC) and a new year
EDGES = [
    datetime(2026, 3, 28, 22, 59, 59, tzinfo=UTC),  # local 03-28 23:59:59
    datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # local 03-29 00:00
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # local 03:00 CEST
    datetime(2026, 10, 25, 0, 15, tzinfo=UTC),  # local 02:15 CEST
    datetime(2026, 10, 25, 1, 15, tzinfo=UTC),  # local 02:15 CET: the repeated hour
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # local 2027-01-01 00:30, a Friday
    datetime(2027, 1, 3, 22, 59, tzinfo=UTC),  # local Sunday 2027-01-03 23:59
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch
]
GRAINS = ["day", "week", "month", "quarter", "15m", "30m", "hour"]


def _compare_time_functions(instants: pl.Series, zone: str) -> None:
    df = pl.DataFrame({"ts": instants}).with_row_index("k")
    con = connect()
    con.register("t", df.to_arrow())
    local = pl.col("ts").dt.convert_time_zone(zone)
    want: dict[str, pl.Series] = {
        "date": df.select(local.dt.date())["ts"],
        "hod": df.select(local.dt.hour().cast(pl.Int64))["ts"],
        "dow": df.select(local.dt.weekday().cast(pl.Int64))["ts"],
    }
    items = [
        alias(D.local_date(COL("ts"), zone), "date"),
        alias(D.hour_of_day(COL("ts"), zone), "hod"),
        alias(D.weekday(COL("ts"), zone), "dow"),
    ]
    for g in GRAINS:
        bucket = df.select(polars_bucket(pl.col("ts"), g, zone))["ts"]
        if bucket.dtype == pl.Date:
            want[g] = bucket
        else:  # the SQL bucket is the UTC instant that starts the local interval
            want[g] = bucket.dt.convert_time_zone("UTC")
        items.append(alias(D.bucket(COL("ts"), g, zone), g))
    got = con.sql(D.render(exp.select(*items).from_("t").order_by("k"))).pl()
    for name, series in want.items():
        values = got[name]
        if values.dtype == pl.Datetime:
            values = values.dt.convert_time_zone("UTC")
        assert values.to_list() == series.to_list(), (zone, name, instants.to_list())


@pytest.mark.parametrize("zone", ZONES)
def test_local_dates_buckets_hours_and_weekdays_at_the_edges(zone: str) -> None:
    _compare_time_functions(pl.Series("ts", EDGES, dtype=pl.Datetime("us", "UTC")), zone)


def test_hand_computed_buckets() -> None:
    con = connect()
    at = [D.timestamp(EDGES[0]), D.timestamp(EDGES[1]), D.timestamp(EDGES[6])]
    items = [alias(D.bucket(t, "week", "Europe/Berlin"), f"w{i}") for i, t in enumerate(at)]
    items.append(alias(D.weekday(at[2].copy(), "Europe/Berlin"), "wd"))
    fall = [D.timestamp(EDGES[4]), D.timestamp(EDGES[5])]
    items += [alias(D.bucket(t, "hour", "Europe/Berlin"), f"h{i}") for i, t in enumerate(fall)]
    row = con.execute(D.render(exp.select(*items))).fetchone()
    assert row is not None
    # local 03-28 (Saturday) → week of Monday 03-23; local 03-29 (Sunday) → the same week;
    # local 2027-01-01 (Friday) → Monday 2026-12-28, ISO weekday 5
    assert row[:4] == (date(2026, 3, 23), date(2026, 3, 23), date(2026, 12, 28), 5)
    # the repeated hour gives two buckets: 00:00 UTC (02:00 CEST) and 01:00 UTC (02:00 CET)
    assert [r.astimezone(UTC) for r in row[4:]] == [
        datetime(2026, 10, 25, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
    ]


@settings(max_examples=25, deadline=None)
@given(st.lists(US, min_size=1, max_size=30), st.sampled_from(ZONES))
def test_time_functions_equal_polars(values: list[int], zone: str) -> None:
    _compare_time_functions(_instants(values), zone)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False)), min_size=1, max_size=60),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.95, 0.999, 1.0]),
)
def test_exact_quantile_equals_polars_linear(values: list[float | None], q: float) -> None:
    df = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    want = df.select(pl.col("x").drop_nulls().quantile(q, interpolation="linear"))["x"][0]
    con = connect()
    con.register("t", df.to_arrow())
    got = con.execute(D.render(exp.select(D.quantile(COL("x"), q)).from_("t"))).fetchone()
    assert got is not None
    assert same(want, got[0], rel=1e-15)


def test_first_by_keeps_null_values() -> None:
    # the first row in file order (_file, _row) of key 1 has a NULL channel: NULL, not 'email'
    df = pl.DataFrame(
        {
            "key": [1, 1, 1, 2, 2],
            "channel": ["email", None, "chat", "phone", None],
            "_file": ["b.csv", "a.csv", "a.csv", "a.csv", "a.csv"],
            "_row": [1, 7, 9, 3, 2],
        }
    )
    want = (
        df.sort("_file", "_row").group_by("key", maintain_order=True).agg(pl.col("channel").first())
    )
    con = connect()
    con.register("t", df.to_arrow())
    first = D.first_by(COL("channel"), [COL("_file"), COL("_row")])
    query = exp.select(COL("key"), alias(first, "channel")).from_("t").group_by("key")
    got = dict(con.sql(D.render(query)).fetchall())
    assert got == dict(want.iter_rows()) == {1: None, 2: None}
    single = D.first_by(COL("channel"), [COL("_row")])
    query = exp.select(COL("key"), alias(single, "c")).from_("t").group_by("key")
    assert dict(con.sql(D.render(query)).fetchall()) == {1: "email", 2: None}


def test_trim_strips_every_unicode_whitespace_like_polars() -> None:
    spaces = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000"
    texts = [spaces + "a b" + spaces, "\u200bx\u200b", "\x1cy", "", None, " z"]
    df = pl.DataFrame({"s": texts}).with_row_index("k")
    want = df.select(pl.col("s").str.strip_chars())["s"].to_list()
    con = connect()
    con.register("t", df.to_arrow())
    query = exp.select(D.trim(COL("s"))).from_("t").order_by("k")
    got = [r[0] for r in con.sql(D.render(query)).fetchall()]
    assert got == want == ["a b", "\u200bx\u200b", "\x1cy", "", None, "z"]


def test_greatest_and_least_skip_null_like_polars() -> None:
    df = pl.DataFrame({"a": [1, None, None, 5], "b": [3, 2, None, 4]}).with_row_index("k")
    want = df.select(
        pl.max_horizontal("a", "b").alias("g"), pl.min_horizontal("a", "b").alias("l")
    ).rows()
    con = connect()
    con.register("t", df.to_arrow())
    items = [D.greatest(COL("a"), COL("b")), D.least(COL("a"), COL("b"))]
    got = con.sql(D.render(exp.select(*items).from_("t").order_by("k"))).fetchall()
    assert got == want == [(3, 1), (2, 2), (None, None), (5, 4)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=30))
def test_floor_mod_and_floor_div_equal_polars(values: list[int]) -> None:
    df = pl.DataFrame({"a": values}, schema={"a": pl.Int64}).with_row_index("k")
    want = df.select((pl.col("a") % 900).alias("m"), (pl.col("a") // 900).alias("q")).rows()
    con = connect()
    con.register("t", df.to_arrow())
    b = exp.Literal.number("900")
    items = [D.floor_mod(COL("a"), b), D.floor_div(COL("a"), b.copy())]
    got = con.sql(D.render(exp.select(*items).from_("t").order_by("k"))).fetchall()
    assert got == want


def test_timestamp_literal_is_the_utc_instant() -> None:
    con = connect()
    berlin = datetime(2026, 7, 1, 2, 30, 0, 250, tzinfo=UTC) + timedelta(0)
    row = con.execute(D.render(exp.select(D.epoch_us(D.timestamp(berlin))))).fetchone()
    assert row == (int(berlin.timestamp()) * 1_000_000 + 250,)


# --- Spark: the spellings (run on Spark by the spark branch) ----------------------------


def test_spark_spellings() -> None:
    s, ts = SPARK, COL("ts")
    assert s.render(s.epoch_us(ts)) == "UNIX_MICROS(ts)"
    assert (
        s.render(s.seconds_between(COL("e"), COL("s")))
        == "CAST((UNIX_MICROS(e) - UNIX_MICROS(s)) AS DOUBLE) * CAST(1e-06 AS DOUBLE)"
    )
    assert s.render(s.local_date(ts, "Europe/Berlin")) == (
        "TO_DATE(FROM_UTC_TIMESTAMP(ts, 'Europe/Berlin'))"
    )
    assert s.render(s.bucket(ts, "week", "UTC")) == (
        "TRUNC(TO_DATE(FROM_UTC_TIMESTAMP(ts, 'UTC')), 'week')"
    )
    assert s.render(s.bucket(ts, "day", "UTC")) == "TO_DATE(FROM_UTC_TIMESTAMP(ts, 'UTC'))"
    assert s.render(s.bucket(ts, "hour", "UTC")) == (
        "TIMESTAMP_MICROS(UNIX_MICROS(ts) - ((UNIX_MICROS(ts) + (UNIX_MICROS("
        "FROM_UTC_TIMESTAMP(ts, 'UTC')) - UNIX_MICROS(ts))) % 3600000000 + 3600000000) "
        "% 3600000000)"
    )
    assert s.render(s.weekday(ts, "UTC")) == "WEEKDAY(FROM_UTC_TIMESTAMP(ts, 'UTC')) + 1"
    assert s.render(s.hour_of_day(ts, "UTC")) == "HOUR(FROM_UTC_TIMESTAMP(ts, 'UTC'))"
    assert s.render(s.quantile(COL("x"), 0.9)) == "PERCENTILE(x, CAST(0.9 AS DOUBLE))"
    first = s.first_by(COL("x"), [COL("_file"), COL("_row")])
    assert s.render(first) == "MIN_BY(x, STRUCT(_file, _row))"
    assert s.render(s.timestamp(datetime(2026, 1, 1, 1, tzinfo=UTC))) == (
        "CAST('2026-01-01 01:00:00.000000Z' AS TIMESTAMP)"
    )
    assert s.render(compile_sql("round(x)", s)) == "BROUND(x, 0)"
    assert s.render(compile_sql("length(s)", s)) == "CHAR_LENGTH(s)"
    assert s.render(compile_sql("median(x)", s)) == "PERCENTILE(x, CAST(0.5 AS DOUBLE))"
    assert s.render(compile_sql("i // j", s)) == "(CASE WHEN j = 0 THEN NULL ELSE i DIV j END)"
    assert s.render(compile_sql("score >= 4.0", s)) == "score >= CAST(4.0 AS DOUBLE)"
    assert s.render(compile_sql("sum(x > 1)", s)) == "SUM(CAST(x > 1 AS INT))"
    assert s.render(s.trim(COL("s"))).startswith("REGEXP_REPLACE(s, '^[\\\\x{09}-\\\\x{0d}")
    divided = s.render(compile_sql("a / b", s))
    assert divided == (
        "(CASE WHEN b = 0 THEN CASE WHEN ISNAN(CAST(a AS DOUBLE)) OR a = 0 THEN "
        "CAST('NaN' AS DOUBLE) WHEN a > 0 THEN CAST('Infinity' AS DOUBLE) WHEN a < 0 THEN "
        "-CAST('Infinity' AS DOUBLE) END ELSE CAST(a AS DOUBLE) / CAST(b AS DOUBLE) END)"
    )
