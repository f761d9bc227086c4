"""The DuckDB runner: one in-process connection in UTC, views over canonical Parquet
(`read_parquet([...])`), lookups registered from polars frames through Arrow, results back as
polars frames (`.pl()`). Queries run one after another on the connection; DuckDB parallelises
each one itself (its default thread count). Statistics propagation is off (NaN: see
`__init__`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import polars as pl

from cscli.engine.sql.dialect import DUCKDB, Dialect
from cscli.engine.sql.runner import SQL_TYPES

if TYPE_CHECKING:
    from cscli.engine.sql.relations import Canonical, Lookup


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBRunner:
    """An in-memory DuckDB database for one run."""

    name = "duckdb"

    def __init__(self) -> None:
        self.version: str = duckdb.__version__
        self.dialect: Dialect = DUCKDB
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        # Parquet min/max statistics written by polars leave NaN out, and DuckDB's statistics
        # propagation trusts them (it folds `x <= 30.0` to TRUE for a NaN row, where polars
        # says FALSE): off, so every comparison sees the values themselves
        self._con.execute("SET disabled_optimizers = 'statistics_propagation'")
        self._lookups: dict[str, object] = {}

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("the DuckDB runner is closed")
        return self._con

    def register(self, name: str, source: Canonical) -> None:
        if source.paths:
            files = ", ".join(_string(p) for p in source.paths)
            # the month=YYYY-MM folders are not columns of canonical Parquet
            options = "union_by_name = true, hive_partitioning = false"
            body = f"SELECT * FROM read_parquet([{files}], {options})"
        else:  # no rows at all: an empty relation with the source's columns
            types = SQL_TYPES["duckdb"]
            cols = ", ".join(
                f"CAST(NULL AS {types.get(t, 'VARCHAR')}) AS {_quote(c)}"
                for c, t in source.columns.items()
            )
            body = f"SELECT {cols} WHERE FALSE"
        self.con.execute(f"CREATE OR REPLACE VIEW {_quote(name)} AS {body}")

    def register_lookup(self, lookup: Lookup) -> None:
        table = lookup.frame.to_arrow()
        self._lookups[lookup.name] = table  # DuckDB reads the Arrow table while it is alive
        self.con.register(lookup.name, table)

    def run(self, queries: list[str]) -> list[pl.DataFrame]:
        return [self.con.sql(q).pl() for q in queries]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        self._lookups.clear()
