"""Shared by the SQL-engine tests: run rendered SQL on DuckDB over polars frames."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from sqlglot import exp

from cscli.engine.sql.dialect import DUCKDB


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection as the engine runs it: UTC, and no statistics propagation
    (polars' Parquet min/max leave NaN out, and DuckDB would fold `x <= max` to TRUE for a
    NaN row: see `test_parquet_statistics_trap`)."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("SET disabled_optimizers='statistics_propagation'")
    return con


def run(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[exp.Expr],
    table: str = "t",
    by: Sequence[str] = (),
    where: exp.Expr | None = None,
) -> pl.DataFrame:
    """`SELECT by…, items… FROM table [WHERE where] [GROUP BY by]` on DuckDB, as polars."""
    cols = [exp.column(b, quoted=True) for b in by]
    query = exp.select(*cols, *items).from_(exp.to_table(table))
    if where is not None:
        query = query.where(where)
    if by:
        query = query.group_by(*[c.copy() for c in cols])
    return con.sql(DUCKDB.render(query)).pl()


def register(con: duckdb.DuckDBPyConnection, name: str, df: pl.DataFrame, tmp: Path) -> None:
    """`df` written to Parquet with polars and read back by DuckDB as view `name`."""
    path = tmp / f"{name}.parquet"
    df.write_parquet(path)
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{path}')")


def same(a: Any, b: Any, rel: float = 0.0) -> bool:
    """Equal values: NULLs equal, NaNs equal, floats within `rel` relative."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        if fa == fb:
            return True
        return rel > 0 and abs(fa - fb) <= rel * max(abs(fa), abs(fb))
    return bool(a == b)


def assert_frames(
    polars_df: pl.DataFrame, duck_df: pl.DataFrame, keys: Sequence[str], rel: dict[str, float]
) -> None:
    """Same rows (sorted by `keys`, nulls first) and values; `rel`: column → tolerance."""
    assert sorted(polars_df.columns) == sorted(duck_df.columns)
    assert polars_df.height == duck_df.height, (polars_df, duck_df)
    if keys:
        polars_df = polars_df.sort(keys, nulls_last=False)
        duck_df = duck_df.sort(keys, nulls_last=False)
    for col in polars_df.columns:
        for i, (a, b) in enumerate(zip(polars_df[col], duck_df[col], strict=True)):
            assert same(a, b, rel.get(col, 0.0)), f"{col} row {i}: polars {a!r}, duckdb {b!r}"
