"""The polars engine's pass: grouped quantiles computed apart on narrow (keys, value) frames
give polars' own quantiles exactly (null keys, empty groups, ties), and a report's queries read
each source file once."""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscli import api
from cscli.engine.polars.batch import Batch
from cscli.engine.polars.compile import aggregations
from cscli.engine.polars.quantiles import (
    Narrow,
    Split,
    bucket,
    joined,
    level,
    narrow_queries,
    split,
)
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import Kpi, instantiate
from cscli.render.jsondoc import render_json

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["channel", "period"]


def _kpis() -> list[Kpi]:
    frt = CATALOG["first_response_time"]
    return [
        instantiate(CATALOG["ticket_volume"]),
        instantiate(frt),
        instantiate(frt, {"stat": "p90"}, id="frt_p90"),
        instantiate(frt, {"stat": "mean"}, id="frt_mean"),
    ]


def _frame(channels: list[str | None], seconds: list[float | None]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "channel": channels,
            "period": [1] * len(channels),
            "first_response_seconds": seconds,
            "first_response_at": [None] * len(channels),
            "ticket_open": [False] * len(channels),
        },
        schema_overrides={
            "channel": pl.String,
            "first_response_seconds": pl.Float64,
            "first_response_at": pl.Datetime("us", "UTC"),
        },
    )


def _split_way(lf: pl.LazyFrame, kpis: list[Kpi]) -> pl.DataFrame:
    parts = split(kpis)
    batch = Batch()
    main = batch.add(lf.group_by(KEYS).agg(parts.streamed))
    narrow = [batch.add(q) for q in narrow_queries(lf, KEYS, parts)]
    batch.collect()
    return joined(batch[main], [level(batch[i], 0, KEYS) for i in narrow], KEYS, parts.order)


def _inline_way(lf: pl.LazyFrame, kpis: list[Kpi]) -> pl.DataFrame:
    return lf.group_by(KEYS).agg(e for k in kpis for e in aggregations(k)).collect()


def _by_channel(table: pl.DataFrame) -> dict[Any, dict[str, Any]]:
    return {r["channel"]: r for r in table.iter_rows(named=True)}


def test_split_quantiles_by_hand() -> None:
    kpis = _kpis()
    parts = split(kpis)
    # the median and the p90 read the same value and filter: one narrow query for both
    assert len(parts.narrow) == 1
    assert [a for a, _ in parts.narrow[0].quantiles] == ["first_response_time", "frt_p90"]
    lf = _frame(
        ["a", "a", "a", "a", "a", None, "b", "b"],
        [10.0, 1.0, 3.0, 2.0, None, 5.0, None, None],
    )
    table = _split_way(lf, kpis)
    assert table.columns == [*KEYS, *parts.order]
    rows = _by_channel(table)
    # a: values 1, 2, 3, 10 (the null is not kept). Median at h = (4 − 1)·0.5 = 1.5:
    # 2 + 0.5·(3 − 2) = 2.5; p90 at h = 3·0.9 = 2.7: 3 + 0.7·(10 − 3) = 7.9; mean 16 / 4 = 4
    assert rows["a"]["first_response_time"] == 2.5
    assert rows["a"]["frt_p90"] == pytest.approx(7.9, rel=1e-12)
    assert rows["a"]["frt_mean"] == 4.0
    assert rows["a"]["first_response_time__n"] == 4
    assert rows["a"]["ticket_volume"] == 5
    # the null channel is a group of its own: one value, 5
    assert rows[None]["first_response_time"] == 5.0
    assert rows[None]["frt_p90"] == 5.0
    # b: two tickets, no response time kept: the group stays, its quantiles are null, n 0
    assert rows["b"]["ticket_volume"] == 2
    assert rows["b"]["first_response_time"] is None
    assert rows["b"]["frt_p90"] is None
    assert rows["b"]["first_response_time__n"] == 0
    # and all of it is what polars' own group_by quantile gives
    assert _by_channel(_inline_way(lf, kpis)) == rows


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.one_of(st.none(), st.integers(0, 6).map(float), st.floats(0, 1e6)),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_split_quantiles_equal_polars_inline(
    records: list[tuple[str | None, float | None]],
) -> None:
    lf = _frame([c for c, _ in records], [v for _, v in records])
    kpis = _kpis()
    got, want = _by_channel(_split_way(lf, kpis)), _by_channel(_inline_way(lf, kpis))
    assert got.keys() == want.keys()
    quantiles = {"first_response_time", "frt_p90"}
    for channel, row in want.items():
        for name, value in row.items():
            other = got[channel][name]
            if isinstance(value, float) and math.isnan(value):
                pytest.fail("a quantile is never NaN")
            if name in quantiles or not isinstance(value, float):
                assert other == value, (channel, name)  # bit for bit
            else:
                # the mean now streams where the inline group_by (with a quantile) ran in
                # memory: the same sum in another order, equal to the last bits or so
                assert other == pytest.approx(value, rel=1e-12), (channel, name)


def test_report_reads_each_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The joint plan of the report's batch scans every source file once (the anchors'
    filters, the quality counts and the survey lookups all read one cached node)."""
    plans: list[str] = []
    real = pl.collect_all

    def capture(frames: Any, **kwargs: Any) -> Any:
        frames = list(frames)
        plans.append(pl.explain_all(frames))
        return real(frames, **kwargs)

    monkeypatch.setattr(pl, "collect_all", capture)
    api.report(ROOT / "configs" / "sample.yaml", by=["channel"], grain="week")  # type: ignore[arg-type]
    first = plans[0]
    scans = re.findall(r"(?:Parquet|Csv) SCAN \[([^\]]+)\]", first)
    assert sorted(scans) == sorted(set(scans))
    assert {Path(s).name for s in scans} >= {"tickets.csv", "calls.parquet", "surveys.csv"}


# --- the two-pass quantile: the bucketing, and any floats -----------------------------------

_EDGES = [
    v
    for e in (-1074, -1022, -1, 0, 1, 10, 52, 1023)
    for base in (2.0**e,)
    for v in (base, math.nextafter(base, 0), math.nextafter(base, math.inf), base * 1.5)
]


def _buckets(values: list[float]) -> pl.DataFrame:
    df = pl.DataFrame({"v": values}, schema={"v": pl.Float64})
    return df.with_columns(b=bucket(pl.col("v")).cast(pl.Int64)).sort("v")  # diff: no overflow


def test_bucket_orders_powers_of_two_and_their_neighbours() -> None:
    """Around powers of two (the edges of the exponent's bits), subnormals, ±0, infinities and
    NaN: in order, 64 buckets per power of two."""
    values = [*_EDGES, *(-v for v in _EDGES), 0.0, -0.0, math.inf, -math.inf, math.nan]
    table = _buckets(values)
    assert table["b"].diff().drop_nulls().min() >= 0  # type: ignore[operator]
    by_value = dict(zip(table["v"].to_list()[:-1], table["b"].to_list()[:-1], strict=True))
    assert by_value[0.0] == 0  # ±0 together
    # 64 buckets per power of two: 1 and 1.5 are 32 buckets apart, 1 and 2 are 64
    assert by_value[1.5] - by_value[1.0] == 32
    assert by_value[2.0] - by_value[1.0] == 64
    assert by_value[math.nextafter(2.0, 0)] == by_value[2.0] - 1
    assert table["b"][-1] == 2**31 - 1  # NaN last, after +inf


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=80))
def test_bucket_is_monotone(values: list[float]) -> None:
    table = _buckets(values)
    assert (table["b"].diff().drop_nulls() >= 0).all()


_Q = [("p0", 0.0), ("p10", 0.1), ("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p100", 1.0)]


def _two_pass(
    lf: pl.LazyFrame, keys: list[str], rollups: list[list[str]] | None = None
) -> list[pl.DataFrame]:
    """The quantiles per group of `keys`, then per group of each rollup (from the same two
    passes)."""
    value = pl.col("v")
    parts = Split(streamed=[], narrow=[Narrow(value, value.is_not_null(), list(_Q))], order=[])
    batch = Batch()
    (i,) = [batch.add(q) for q in narrow_queries(lf, keys, parts, rollups or [])]
    batch.collect()
    return [level(batch[i], n, k) for n, k in enumerate([keys, *(rollups or [])])]


def _inline(lf: pl.LazyFrame, keys: list[str]) -> pl.DataFrame:
    aggs = [pl.col("v").drop_nulls().quantile(q, interpolation="linear").alias(a) for a, q in _Q]
    if not keys:
        return lf.select(aggs).collect()
    # a group without a value: no row in the two-pass table (null once joined back)
    return lf.drop_nulls("v").group_by(keys).agg(aggs).collect()


def _same_bits(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]),
            st.one_of(
                st.none(),
                st.floats(allow_nan=True, allow_infinity=True),
                st.floats(-1e3, 1e3),
                st.integers(-3, 3).map(float),
            ),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_two_pass_quantiles_equal_polars_on_any_floats(
    records: list[tuple[str | None, float | None]],
) -> None:
    """Negative values, ±0, infinities, NaN (sorted last), ties: polars' own quantile, bit
    for bit, per group and over all records."""
    lf = pl.LazyFrame(
        {"k": [k for k, _ in records], "v": [v for _, v in records]},
        schema={"k": pl.String, "v": pl.Float64},
    )
    by_key, total = _two_pass(lf, ["k"], rollups=[[]])  # the totals rolled up from the groups
    for keys, table in ((["k"], by_key), ([], _two_pass(lf, [])[0]), ([], total)):
        got = {r["k"] if keys else 0: r for r in table.iter_rows(named=True)}
        want = {r["k"] if keys else 0: r for r in _inline(lf, keys).iter_rows(named=True)}
        if not keys and not got:  # no value at all: the totals row is made null on joining
            assert all(v is None for v in want[0].values())
            continue
        assert got.keys() == want.keys()
        for group, row in want.items():
            for alias, _ in _Q:
                assert _same_bits(got[group][alias], row[alias]), (keys, group, alias)


def test_two_pass_quantiles_over_many_buckets_match_duckdb() -> None:
    """50,000 values spread over twelve powers of ten in five groups (a null one too): polars'
    quantiles bit for bit, and DuckDB's `quantile_cont` as an independent check."""
    duckdb = pytest.importorskip("duckdb")
    rng = np.random.default_rng(7)
    n = 50_000
    keys = rng.choice(np.array(["chat", "email", "phone", "web", None], dtype=object), n)
    values = np.round(10 ** rng.uniform(-3, 9, n), 3)
    values[rng.random(n) < 0.05] = 42.0  # a heavy tie
    lf = pl.LazyFrame({"k": keys.tolist(), "v": values}, schema={"k": pl.String, "v": pl.Float64})
    got, total = _two_pass(lf, ["k"], rollups=[[]])
    got = got.sort("k", nulls_last=True)
    assert got.equals(_inline(lf, ["k"]).sort("k", nulls_last=True))
    frame = lf.collect()  # noqa: F841 — read by DuckDB's replacement scan
    cols = ", ".join(f"quantile_cont(v, {q}) AS {a}" for a, q in _Q)
    con = duckdb.connect()
    sql = f"SELECT k, {cols} FROM frame GROUP BY k ORDER BY k NULLS LAST"
    ref = con.execute(sql).fetchall()
    assert [r[0] for r in ref] == got["k"].to_list()
    for row, want in zip(got.iter_rows(), ref, strict=True):
        assert row[1:] == pytest.approx(want[1:], rel=1e-12)
    assert total.equals(_inline(lf, []))
    assert _two_pass(lf, [])[0].equals(_inline(lf, []))


def test_large_sources_collect_one_heavy_query_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above `ONE_HEAVY_ROWS` a step runs its light queries with one group_by, then each
    other group_by alone; the report is the same, value for value."""
    from cscli.engine.polars import engine

    config = ROOT / "configs" / "sample.yaml"
    calls: list[int] = []
    real = pl.collect_all

    def counting(frames: Any, **kwargs: Any) -> Any:
        frames = list(frames)
        calls.append(len(frames))
        return real(frames, **kwargs)

    monkeypatch.setattr(pl, "collect_all", counting)
    shared = api.report(config, by=["channel"], grain="week")  # type: ignore[arg-type]
    in_steps = list(calls)
    calls.clear()
    monkeypatch.setattr(engine, "ONE_HEAVY_ROWS", 0)
    rounds = api.report(config, by=["channel"], grain="week")  # type: ignore[arg-type]
    # the sample's sources are a few hundred rows: by default a collect per step (the
    # queries with the quantiles' bucket counts, then their rows, then their picks: two
    # values, first response and resolution) and the quality examples' own; in rounds the
    # bucket counts come after the queries, more collects, smaller, each query still once
    assert in_steps[1:3] == [2, 2]
    assert len(calls) > len(in_steps)
    assert max(calls) < max(in_steps)
    assert sum(calls) == sum(in_steps)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert render_json(rounds, now=now) == render_json(shared, now=now)


def test_jemalloc_keeps_its_pages_unless_the_caller_says_otherwise() -> None:
    """cscli sets polars' allocator setting before polars is imported: over nothing, and over
    the value polars leaves in a parent process's environment; a caller's own value (even
    empty: polars' defaults) is kept."""
    import subprocess
    import sys

    code = "import os, cscli; print(repr(os.environ['_RJEM_MALLOC_CONF']))"
    polars_own = "dirty_decay_ms:500,muzzy_decay_ms:1000"
    cases = {
        None: "dirty_decay_ms:-1,muzzy_decay_ms:-1",
        polars_own: "dirty_decay_ms:-1,muzzy_decay_ms:-1",
        "": "",
        "background_thread:true": "background_thread:true",
    }
    for inherited, expected in cases.items():
        env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
        if inherited is not None:
            env["_RJEM_MALLOC_CONF"] = inherited
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.stdout.strip() == repr(expected), inherited


def test_rows_hint_reads_parquet_metadata_and_estimates_csv(tmp_path: Path) -> None:
    from cscli.engine.polars.engine import rows_hint

    parquet = tmp_path / "t.parquet"
    pl.DataFrame({"a": range(1234)}).write_parquet(parquet)
    csv = tmp_path / "t.csv"
    csv.write_bytes(b"x" * 25_000)  # 25,000 bytes at 100 bytes a row: 250 rows
    source = SimpleNamespace(reader=None, files=(parquet, csv))
    assert rows_hint(source) == 1234 + 250  # type: ignore[arg-type]
    assert rows_hint(SimpleNamespace(reader=object(), files=(parquet,))) == 0  # type: ignore[arg-type]
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    # the batch's own read reports a broken file, with its name: here it only counts 0
    assert rows_hint(SimpleNamespace(reader=None, files=(broken,))) == 0  # type: ignore[arg-type]


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"])
def test_day_buckets_are_truncate_by_arithmetic(zone: str, grain: str) -> None:
    """The week and month buckets are the local date minus its place in the week or month:
    the same as polars' `dt.truncate`, hour by hour over four years (a leap day, DST changes,
    zones at half and quarter hours) and across the epoch (negative day counts)."""
    from cscli.engine.polars.stocks import bucket as period_bucket
    from cscli.period import Grain

    def hours(start: datetime, end: datetime) -> pl.Series:
        return pl.datetime_range(start, end, "1h", time_unit="us", time_zone="UTC", eager=True)

    instants = pl.concat(
        [
            hours(datetime(2023, 12, 31, 12, 30, tzinfo=UTC), datetime(2028, 1, 2, tzinfo=UTC)),
            hours(datetime(1969, 11, 20, tzinfo=UTC), datetime(1970, 2, 10, tzinfo=UTC)),
        ]
    )
    frame = pl.DataFrame({"at": instants}).with_columns(
        pl.lit(None, pl.Datetime("us", "UTC")).alias("none")
    )
    got = frame.select(
        period_bucket(pl.col("at"), grain, zone).alias("b"),
        period_bucket(pl.col("none"), grain, zone).alias("n"),
    )
    local = pl.col("at").dt.convert_time_zone(zone).dt.date()
    want = frame.select(local.dt.truncate(Grain(grain).every))
    assert got["b"].dtype == pl.Date
    assert got["b"].equals(want["at"].alias("b"))
    assert got["n"].null_count() == frame.height  # no instant, no bucket
    if grain == "week":
        assert set(got["b"].dt.weekday()) == {1}  # ISO weeks start on Monday
    if grain == "month":
        assert got["b"].n_unique() == 50 + 4  # Dec 2023 … Jan 2028; Nov 1969 … Feb 1970
