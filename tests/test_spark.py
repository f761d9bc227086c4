"""The SPARK dialect on a real Spark (local[2]): every dialect-sensitive function gives what
polars (the reference engine) gives, on the values where the engines are known to differ.

Marked `spark` (not in the default run: `pytest -m spark`, `.ci/spark`); skipped with a message
when pyspark or Java is missing. One session for the whole pytest session (`spark_runner`)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlglot import exp

from cscli.engine.polars.stocks import bucket as polars_bucket
from cscli.engine.sql.dialect import SPARK
from cscli.engine.sql.text import compile_sql

pytestmark = pytest.mark.spark

BERLIN = "Europe/Berlin"


@dataclass(frozen=True)
class _Lookup:
    name: str
    frame: pl.DataFrame
    broadcast: bool = False


def lookup(runner, name: str, frame: pl.DataFrame, broadcast: bool = False) -> exp.Table:
    runner.register_lookup(_Lookup(name, frame, broadcast))
    return exp.to_table(name)


def col(name: str) -> exp.Expr:
    return exp.column(name)


def spark_select(runner, frame: pl.DataFrame, **named: exp.Expr) -> pl.DataFrame:
    """`SELECT <named> FROM frame ORDER BY _i` on Spark (the frame shipped through Arrow)."""
    table = lookup(runner, "t", frame.with_row_index("_i"))
    select = exp.select(*[exp.alias_(e, n, quoted=True) for n, e in named.items()]).from_(table)
    query = SPARK.render(select.order_by("_i"))
    [out] = runner.run([query])
    return out


def spark_agg(runner, frame: pl.DataFrame, **named: exp.Expr) -> dict[str, object]:
    table = lookup(runner, "a", frame)
    select = exp.select(*[exp.alias_(e, n, quoted=True) for n, e in named.items()]).from_(table)
    [out] = runner.run([SPARK.render(select)])
    return out.row(0, named=True)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- time ---------------------------------------------------------------------------------


def test_epoch_us_and_seconds_are_bit_identical_to_polars(spark_runner) -> None:
    rng = random.Random(15)
    start = utc(2026, 1, 1)
    ends = [start + timedelta(microseconds=rng.randrange(1, 10**11)) for _ in range(400)]
    frame = pl.DataFrame({"s": [start] * len(ends), "e": ends, "x": [None, *ends[1:]]})
    out = spark_select(
        spark_runner,
        frame,
        us=SPARK.epoch_us(col("e")),
        secs=SPARK.seconds_between(col("e"), col("s")),
        none=SPARK.seconds_between(col("x"), col("s")),
    )
    # 2026-01-01T00:00:00Z = 20454 days × 86400 s after 1970-01-01 (56 years, 14 leap days)
    assert (20454 * 86400) * 10**6 == int(start.timestamp()) * 10**6
    expected_us = frame.select(pl.col("e").dt.epoch("us"))["e"]
    assert out["us"].to_list() == expected_us.to_list()
    # polars' duration in seconds: µs × (1/1e6) — the reference every engine must match bitwise
    polars_secs = frame.select(
        ((pl.col("e") - pl.col("s")).dt.total_microseconds() / 1_000_000).alias("v")
    )["v"]
    assert out["secs"].to_list() == polars_secs.to_list()
    assert out["none"][0] is None
    # the spelling matters: an exact division differs from µs × 1e-6 in some of these values
    exact = [(e - start) / timedelta(seconds=1) for e in ends]
    assert sum(a != b for a, b in zip(exact, polars_secs.to_list(), strict=True)) > 0


def test_local_time_date_hour_across_dst(spark_runner) -> None:
    stamps = [
        utc(2026, 3, 28, 22, 59, 59),  # 23:59:59 CET, Saturday 28 March
        utc(2026, 3, 29, 0, 30),  # 01:30 CET, Sunday 29 March (before the jump at 01:00Z)
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST (02:00–03:00 local does not exist)
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST (first pass of the repeated hour)
        utc(2026, 10, 25, 1, 30),  # 02:30 CET (second pass)
        utc(2026, 12, 31, 23, 30),  # 00:30 on 1 January 2027 local
    ]
    frame = pl.DataFrame({"ts": stamps}, schema={"ts": pl.Datetime("us", "UTC")})
    out = spark_select(
        spark_runner,
        frame,
        day=SPARK.local_date(col("ts"), BERLIN),
        hour=SPARK.hour_of_day(col("ts"), BERLIN),
        offset=SPARK.offset_us(col("ts"), BERLIN),
    )
    local = frame.select(pl.col("ts").dt.convert_time_zone(BERLIN))["ts"]
    assert out["day"].to_list() == local.dt.date().to_list()
    assert [d.isoformat() for d in out["day"]] == [
        "2026-03-28", "2026-03-29", "2026-03-29", "2026-10-25", "2026-10-25", "2027-01-01",
    ]  # fmt: skip
    assert out["hour"].to_list() == [23, 1, 3, 2, 2, 0] == local.dt.hour().to_list()
    hour_us = 3_600_000_000
    assert out["offset"].to_list() == [hour_us, hour_us, 2 * hour_us, 2 * hour_us, hour_us, hour_us]


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "15m", "30m", "hour"])
@pytest.mark.parametrize("zone", [BERLIN, "Asia/Kathmandu", "America/New_York"])
def test_buckets_equal_polars(spark_runner, grain: str, zone: str) -> None:
    # every 7 min 13 s over both 2026 DST changes of Europe and America, and New Year
    stamps = [
        base + timedelta(seconds=433 * i)
        for base in (utc(2026, 3, 7, 22), utc(2026, 3, 28, 20), utc(2026, 10, 24, 22),
                     utc(2026, 12, 31, 20))
        for i in range(60)
    ]  # fmt: skip
    frame = pl.DataFrame({"ts": stamps}, schema={"ts": pl.Datetime("us", "UTC")})
    out = spark_select(spark_runner, frame, b=SPARK.bucket(col("ts"), grain, zone))
    expected = frame.select(polars_bucket(pl.col("ts"), grain, zone))["ts"]
    got = out["b"]
    if expected.dtype == pl.Date:
        assert got.dtype == pl.Date
    else:  # the UTC start instant; the driver gives it the report's zone
        got = got.dt.convert_time_zone(zone)
    assert got.to_list() == expected.to_list()


def test_week_bucket_starts_monday(spark_runner) -> None:
    frame = pl.DataFrame(
        {"ts": [utc(2026, 1, 1, 12), utc(2027, 1, 3, 12), utc(2026, 12, 6, 23, 30)]},
        schema={"ts": pl.Datetime("us", "UTC")},
    )
    out = spark_select(
        spark_runner,
        frame,
        week=SPARK.bucket(col("ts"), "week", BERLIN),
        weekday=SPARK.weekday(col("ts"), BERLIN),
    )
    # Thu 2026-01-01 → Mon 2025-12-29; Sun 2027-01-03 → Mon 2026-12-28;
    # Sun 2026-12-06 23:30Z is Mon 2026-12-07 00:30 in Berlin → its own week, ISO weekday 1
    assert [d.isoformat() for d in out["week"]] == ["2025-12-29", "2026-12-28", "2026-12-07"]
    assert out["weekday"].to_list() == [4, 7, 1]


def test_iso_weekday_every_day(spark_runner) -> None:
    days = [utc(2026, 11, 30, 12) + timedelta(days=i) for i in range(7)]  # Mon 30 Nov … Sun 6 Dec
    frame = pl.DataFrame({"ts": days}, schema={"ts": pl.Datetime("us", "UTC")})
    out = spark_select(spark_runner, frame, w=SPARK.weekday(col("ts"), BERLIN))
    assert out["w"].to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert out["w"].to_list() == frame["ts"].dt.convert_time_zone(BERLIN).dt.weekday().to_list()


def test_timestamp_literal_is_the_utc_instant(spark_runner) -> None:
    frame = pl.DataFrame({"x": [1]})
    at = datetime(2026, 3, 29, 3, 0, tzinfo=UTC) + timedelta(microseconds=7)
    row = spark_agg(spark_runner, frame, t=SPARK.timestamp(at), us=SPARK.epoch_us(SPARK.timestamp(at)))
    assert row["us"] == int(at.timestamp()) * 10**6 + 7
    assert row["t"] == at


# --- aggregates ---------------------------------------------------------------------------


def test_percentile_is_exact_linear_as_polars(spark_runner) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(5, 1.2) for _ in range(1553)]
    groups = [rng.randrange(12) for _ in values]
    frame = pl.DataFrame({"g": groups, "v": values})
    table = lookup(spark_runner, "p", frame)
    select = (
        exp.select(
            "g",
            exp.alias_(SPARK.quantile(col("v"), 0.5), "p50"),
            exp.alias_(SPARK.quantile(col("v"), 0.9), "p90"),
        )
        .from_(table)
        .group_by("g")
        .order_by("g")
    )
    [out] = spark_runner.run([SPARK.render(select)])
    expected = (
        frame.group_by("g")
        .agg(
            pl.col("v").quantile(0.5, "linear").alias("p50"),
            pl.col("v").quantile(0.9, "linear").alias("p90"),
        )
        .sort("g")
    )
    assert out["p50"].to_list() == expected["p50"].to_list()  # bit-identical, not approximate
    assert out["p90"].to_list() == expected["p90"].to_list()
    # by hand: 1, 2, 3, 4 → p90 at rank 0.9 × 3 = 2.7 → 3 + 0.7 × (4 − 3); median 2.5
    small = spark_agg(
        spark_runner,
        pl.DataFrame({"v": [4.0, 1.0, 3.0, 2.0]}),
        p90=SPARK.quantile(col("v"), 0.9),
        p50=SPARK.quantile(col("v"), 0.5),
    )
    assert small["p50"] == 2.5
    assert small["p90"] == pytest.approx(3.7, rel=1e-15)


def test_first_by_keeps_null_values(spark_runner) -> None:
    # the first row in file order (_file, _row) has a NULL channel: the result is NULL
    # (DuckDB's arg_min would skip it and give 'email')
    frame = pl.DataFrame(
        {
            "k": ["a", "a", "a", "b", "b"],
            "channel": ["email", None, "chat", "phone", None],
            "_file": ["f2.csv", "f1.csv", "f1.csv", "f1.csv", "f1.csv"],
            "_row": [1, 2, 10, 5, 3],
        }
    )
    table = lookup(spark_runner, "f", frame)
    first = SPARK.first_by(col("channel"), [col("_file"), col("_row")])
    select = exp.select("k", exp.alias_(first, "c")).from_(table).group_by("k").order_by("k")
    [out] = spark_runner.run([SPARK.render(select)])
    assert out.rows() == [("a", None), ("b", None)]
    expected = (
        frame.sort("_file", "_row").group_by("k", maintain_order=True).agg(pl.col("channel").first())
    )
    assert expected.sort("k").rows() == out.rows()


def test_decimal_literals_are_doubles(spark_runner) -> None:
    # avg(CASE … 1.0 ELSE 0.0) over v = 1, 3, 5: two of three rows → 2/3. Bare, Spark types the
    # literals DECIMAL(2,1) and the average is a DECIMAL(6,5): 0.66667, 3.3e-6 off;
    # rewritten to DOUBLE it is the double 2.0 / 3 (polars sums in another order: its mean is
    # 1 ulp above, within the 1e-12 allowed for float means)
    frame = pl.DataFrame({"v": [1, 3, 5]})
    text = "avg(CASE WHEN v > 2 THEN 1.0 ELSE 0.0 END)"
    row = spark_agg(spark_runner, frame, a=compile_sql(text, SPARK), m=compile_sql("0.1 * 3", SPARK))
    assert row["a"] == 2.0 / 3
    assert isinstance(row["a"], float)
    assert row["a"] == pytest.approx(frame.select(pl.sql_expr(text)).item(), rel=1e-12)
    assert row["m"] == 0.1 * 3  # 0.30000000000000004 in doubles; DECIMAL would give 0.3
    table = lookup(spark_runner, "d", frame)
    [bare] = spark_runner.run([f"SELECT {text} AS a, 0.1 * 3 AS m FROM d"])
    assert isinstance(bare.dtypes[0], pl.Decimal)
    assert float(bare["a"][0]) == 0.66667 and float(bare["m"][0]) == 0.3


def test_greatest_least_skip_null(spark_runner) -> None:
    frame = pl.DataFrame({"a": [None, 1, None, 5], "b": [2, None, None, 3]})
    out = spark_select(
        spark_runner,
        frame,
        g=SPARK.greatest(col("a"), col("b")),
        lo=SPARK.least(col("a"), col("b")),
    )
    expected = frame.select(
        pl.max_horizontal("a", "b").alias("g"), pl.min_horizontal("a", "b").alias("lo")
    )
    assert out["g"].to_list() == [2, 1, None, 5] == expected["g"].to_list()
    assert out["lo"].to_list() == [2, 1, None, 3] == expected["lo"].to_list()


# --- scalars ------------------------------------------------------------------------------


def test_trim_removes_tabs_newlines_and_unicode_spaces(spark_runner) -> None:
    texts = ["\t Email \n", "\r\nchat\u00a0", "\u3000phone\u2003", "  ", "a b", None, "\u200bx"]
    frame = pl.DataFrame({"s": texts})
    out = spark_select(spark_runner, frame, t=SPARK.trim(col("s")))
    # SQL TRIM would leave '\t', '\n', NBSP; polars strip_chars removes every White_Space
    # character (U+200B ZERO WIDTH SPACE is not one: it stays)
    assert out["t"].to_list() == ["Email", "chat", "phone", "", "a b", None, "\u200bx"]
    assert out["t"].to_list() == frame["s"].str.strip_chars().to_list()


def test_division_rounding_and_lengths_as_polars(spark_runner) -> None:
    frame = pl.DataFrame({"a": [7, -7, 1, -1, 0, 5], "b": [2, 2, 0, 0, 0, -3]})
    out = spark_select(
        spark_runner,
        frame,
        q=SPARK.divide(col("a"), col("b")),
        i=SPARK.int_div(col("a"), col("b")),
        m=SPARK.mod(col("a"), col("b")),
    )
    # 7/2 = 3.5, −7/2 = −3.5, 1/0 = inf, −1/0 = −inf, 0/0 = NaN, 5/−3 = −1.666…
    q = out["q"].to_list()
    assert q[:2] == [3.5, -3.5] and q[2] == math.inf and q[3] == -math.inf and math.isnan(q[4])
    assert q[5] == 5 / -3
    # truncating toward zero as polars SQL: 7 // 2 = 3, −7 // 2 = −3, x // 0 NULL, 5 // −3 = −1
    assert out["i"].to_list() == [3, -3, None, None, None, -1]
    assert out["m"].to_list() == [1, -1, None, None, None, 2]
    rounded = spark_select(
        spark_runner,
        pl.DataFrame({"x": [0.5, 1.5, 2.5, -2.5, 0.125]}),
        r=SPARK.round(col("x")),
        r2=SPARK.round(col("x"), exp.Literal.number("2")),
        n=SPARK.length(exp.Literal.string("Grüße")),
    )
    assert rounded["r"].to_list() == [0.0, 2.0, 2.0, -2.0, 0.0]  # half to even
    assert rounded["r2"].to_list() == [0.5, 1.5, 2.5, -2.5, 0.12]
    assert rounded["n"].to_list() == [5] * 5  # characters, not bytes


# --- the runner ---------------------------------------------------------------------------


def test_runner_reads_partitioned_parquet_and_broadcasts_lookups(spark_runner, tmp_path) -> None:
    @dataclass(frozen=True)
    class Source:
        paths: tuple[str, ...]
        columns: dict[str, str]

    parts = []
    for month, ids in (("2026-01", ["a", "b"]), ("2026-02", ["c"])):
        folder = tmp_path / "tickets" / f"month={month}"
        folder.mkdir(parents=True)
        path = folder / "part-0.parquet"
        pl.DataFrame(
            {"id": ids, "created_at": [utc(2026, int(month[-2:]), 3)] * len(ids)},
            schema={"id": pl.String, "created_at": pl.Datetime("us", "UTC")},
        ).write_parquet(path)
        parts.append(str(path))
    columns = {"id": "string", "created_at": "datetime"}
    spark_runner.register("tickets", Source(tuple(parts), columns))
    spark_runner.register("nothing", Source((), columns))
    lookup(spark_runner, "grid", pl.DataFrame({"id": ["a", "c"], "w": [1.5, 2.5]}), broadcast=True)
    joined = "SELECT t.id, g.w FROM tickets t JOIN grid g ON t.id = g.id"
    out, count, schema = spark_runner.run(
        [joined + " ORDER BY t.id", "SELECT COUNT(*) AS n FROM nothing",
         "SELECT * FROM tickets LIMIT 0"],
    )  # fmt: skip
    assert out.rows() == [("a", 1.5), ("c", 2.5)]
    assert count.rows() == [(0,)]
    assert schema.columns == ["id", "created_at"]  # the month= folders add no column
    assert schema.schema["created_at"] == pl.Datetime("us", "UTC")
    plan = spark_runner.session.sql(joined)._jdf.queryExecution().executedPlan().toString()
    assert "BroadcastHashJoin" in plan


def test_a_failing_query_is_one_error_with_a_hint(spark_runner) -> None:
    from cscli.engine.sql.spark import SparkError

    query = "SELECT COUNT(nope) AS `frt`, COUNT(*) AS `frt__n`, 1 AS `aht__n` FROM range(1)"
    with pytest.raises(SparkError) as caught:
        spark_runner.run([query, "SELECT 1 AS x"])
    message = caught.value.message
    assert message.startswith("Spark could not compute the KPIs frt, aht: ")
    assert "UNRESOLVED_COLUMN" in message
    assert "\tat " not in message and len(message.splitlines()) <= 7
    assert caught.value.hint is not None and "SELECT COUNT(nope)" in caught.value.hint
