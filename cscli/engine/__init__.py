"""Engines: where the KPI kinds are computed over canonical sources.

`cscli.engine.base` is the engine-neutral seam (the plan an engine executes and the small
aggregated tables it returns); `cscli.engine.polars` is the default implementation, and
`cscli.engine.sql` computes the same plan in SQL on DuckDB or Spark. Nothing outside
`cscli/engine/` may depend on how an engine computes, only on what `base` declares;
`engine_for` is where the engine of a run is chosen (`engine:` in the config, after
`$CSCLI_ENGINE` and `--engine`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cscli.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from cscli.config import Config
    from cscli.config.models import SourceConfig
    from cscli.engine.base import Engine


def engine_for(
    config: Config, *, progress: Callable[[int, int], None] | None = None
) -> Engine[Any]:
    """The engine that computes this config's KPIs: `config.engine.name` (polars by default)."""
    name = config.engine.name
    if name != "spark":
        refuse_catalog_tables(config.sources, name)
    if name == "polars":
        from cscli.engine.polars.engine import PolarsEngine

        return PolarsEngine(config, progress=progress)
    from cscli.engine.sql.engine import SqlEngine

    if name == "duckdb":
        try:
            from cscli.engine.sql.duckdb import DuckDBRunner
        except ImportError as e:  # pragma: no cover - duckdb is a dependency
            raise UsageError(
                f"the duckdb engine needs the duckdb package: {e}",
                hint='pip install "cscli[duckdb]"',
            ) from e
        return SqlEngine(config, DuckDBRunner())
    try:
        spark: Any = importlib.import_module("cscli.engine.sql.spark")
    except ImportError as e:
        raise UsageError(
            f"the spark engine needs pyspark and Java: {e}",
            hint='pip install "cscli[spark]" and install a JRE 17 (openjdk-17-jre-headless)',
        ) from e
    return SqlEngine(config, spark.SparkRunner(config.engine))


def refuse_catalog_tables(sources: Mapping[str, SourceConfig], engine: str) -> None:
    """A catalog table source (`table: db.name` alone) is read by the spark engine only."""
    for key, cfg in sorted(sources.items()):
        if cfg.is_catalog:
            raise UsageError(
                f"sources.{key} reads the catalog table {cfg.table}, which the {engine} "
                "engine cannot read",
                hint="a catalog table source needs engine: spark (or --engine spark); on "
                "another engine, point it at files (path:) or a database (database:)",
            )
