"""Catalog tables as sources (`sources.tickets: {table: support.tickets}`): accepted by the
config, read by the spark engine only (tests/test_spark_reports.py runs one on Spark); the
polars and duckdb engines, and `cscli ingest`, refuse them with an error and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli.cli import app
from cscli.config.load import load_config
from cscli.errors import ConfigError, UsageError

HINT = "a catalog table source needs engine: spark"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "cscli.yaml"
    path.write_text(
        "timezone: UTC\nsources:\n  tickets: {table: support.tickets}\n", encoding="utf-8"
    )
    return path


def test_a_table_alone_is_a_catalog_table(config: Path) -> None:
    src = load_config(config).sources["tickets"]
    assert src.is_catalog and not src.is_database and src.paths == ()
    assert src.table == "support.tickets"


@pytest.mark.parametrize(
    "source",
    [
        "{table: support.tickets, since: 30d}",  # since: reads a database
        "{query: 'SELECT 1'}",  # a query needs a database
        "{table: t, path: tickets.csv}",  # files or a table, not both
    ],
)
def test_what_a_catalog_table_is_not(tmp_path: Path, source: str) -> None:
    path = tmp_path / "cscli.yaml"
    path.write_text(f"timezone: UTC\nsources:\n  tickets: {source}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_other_engines_refuse_a_catalog_table(config: Path, engine: str) -> None:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "--engine", engine])
    assert result.exit_code == 2, result.output
    assert "error: sources.tickets reads the catalog table support.tickets" in result.stderr
    assert f"the {engine} engine cannot read" in result.stderr
    assert f"hint: {HINT}" in result.stderr
    assert "Traceback" not in result.output


def test_ingest_refuses_a_catalog_table(config: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "-c", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert f"hint: {HINT}" in result.stderr


def test_a_runner_without_a_catalog_refuses_it(config: Path) -> None:
    # the SQL engine on a runner without `register_table` (DuckDB): the same error
    from cscli.engine.sql.duckdb import DuckDBRunner
    from cscli.engine.sql.engine import SqlEngine

    engine = SqlEngine(load_config(config), DuckDBRunner())
    with engine, pytest.raises(UsageError, match="the duckdb engine cannot read") as info:
        engine.load({"tickets"})
    assert info.value.hint == HINT
