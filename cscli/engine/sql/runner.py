"""What a SQL engine needs of the database it runs on (`Runner`): views over canonical
Parquet, small lookup tables, and queries whose results come back as polars frames.

DuckDB (`cscli.engine.sql.duckdb`) runs in-process on one connection; Spark
(`cscli.engine.sql.spark`) on a session from the config. The runner knows nothing of KPIs:
`cscli.engine.sql.engine.SqlEngine` renders every query for the runner's dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

    from cscli.engine.sql.dialect import Dialect
    from cscli.engine.sql.relations import Canonical, Lookup

#: the SQL type of each dtype name of canonical Parquet (`CanonicalSource.columns`), for an
#: empty source (no Parquet file to read the types from)
SQL_TYPES = {
    "duckdb": {
        "string": "VARCHAR",
        "int": "BIGINT",
        "float": "DOUBLE",
        "bool": "BOOLEAN",
        "datetime": "TIMESTAMPTZ",
        "date": "DATE",
        "list[string]": "VARCHAR[]",
    },
    "spark": {
        "string": "STRING",
        "int": "BIGINT",
        "float": "DOUBLE",
        "bool": "BOOLEAN",
        "datetime": "TIMESTAMP",
        "date": "DATE",
        "list[string]": "ARRAY<STRING>",
    },
}


class Runner(Protocol):
    """One database session: `name` and `version` label the report ("duckdb 2.0.1")."""

    name: str
    version: str
    dialect: Dialect

    def register(self, name: str, source: Canonical) -> None:
        """A view `name` over the source's canonical Parquet files (or its catalog table)."""
        ...

    #: optional (Spark has it, DuckDB not): a catalog table (`db.name`) as a view `name`,
    #: returning its columns as dtype names (`cscli.engine.canonical.DTYPES`); see
    #: `register_table_of`
    #: def register_table(self, name: str, table: str) -> dict[str, str]

    def register_lookup(self, lookup: Lookup) -> None:
        """A small table `lookup.name` from a polars frame (business-hours grids, scores)."""
        ...

    def run(self, queries: list[str]) -> list[pl.DataFrame]:
        """The results of the queries, in order."""
        ...

    def close(self) -> None:
        """End the session (idempotent)."""
        ...


def register_table_of(runner: Runner) -> Callable[[str, str], dict[str, str]] | None:
    """The runner's optional `register_table(view, "db.table") -> {column: dtype name}`
    (catalog tables as sources), or None when its database has no catalog (DuckDB)."""
    found = getattr(runner, "register_table", None)
    return found if callable(found) else None
