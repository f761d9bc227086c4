"""Catalog tables as sources: `sources.tickets: {table: support.tickets}` on Spark.

Such a source is not read by the polars loader and not materialised: the runner registers
the table as a view (`register_table`, which only Spark's runner has) and the table's columns
are read as canonical columns. It has no `_usable`, `_file` or `_row` columns: a record is
usable when its required values are present (`SqlSource.usable`), and one query counts the
rows, the records missing each required value (its findings) and the export time (the newest
timestamp of the usable records, as `cscli.engine.polars.facts.source_end`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlglot import exp

from cscli.config.models import SourceConfig
from cscli.engine.canonical import CanonicalSource
from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.relations import TIMESTAMPS, SqlSource, alias, col, render, subquery
from cscli.engine.sql.runner import Runner, register_table_of
from cscli.errors import InputError, UsageError
from cscli.quality import QualityIssue, SourceSummary
from cscli.schema import TABLES, is_dimension


def catalog_source(
    name: str, cfg: SourceConfig, runner: Runner, view: str
) -> tuple[CanonicalSource, tuple[str, ...]]:
    """The catalog table of source `name` registered as `view`; the source and the canonical
    table's required columns."""
    register = register_table_of(runner)
    if register is None:
        raise UsageError(
            f"sources.{name} reads the catalog table {cfg.table}, which the {runner.name} "
            "engine cannot read",
            hint="a catalog table source needs engine: spark",
        )
    if name not in TABLES:
        raise UsageError(
            f"sources.{name} reads a catalog table, but {name!r} is no canonical table",
            hint=f"name the source after its canonical table ({', '.join(sorted(TABLES))})",
        )
    if cfg.filter or cfg.columns:
        raise UsageError(
            f"sources.{name}: filter: and columns: do not apply to a catalog table",
            hint="select, rename and filter in a view of the table, and name the view",
        )
    assert cfg.table is not None
    columns = register(view, cfg.table)
    required = tuple(TABLES[name].required)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(
            f"the catalog table {cfg.table} has no column {', '.join(missing)}, which "
            f"{name} requires (sources.{name}.table)",
            hint="a catalog table source has the canonical columns (docs/schema.md); "
            "rename them in a view of the table",
        )
    empty = SourceSummary(name, (), 0, {}, ())
    bare = CanonicalSource(name, name, (), columns, (), empty, usable_col=None)
    stamps = [c for c in TIMESTAMPS.get(name, ()) if c in columns]
    src = SqlSource(name, view, frozenset(columns), (), bare, required)
    row = runner.run([render(_facts_query(src, required, stamps, runner.dialect), runner.dialect)])
    facts = row[0].row(0)
    rows = int(facts[0])
    findings = tuple(
        QualityIssue(name, f"{c}: missing", int(n), c, (), "records excluded")
        for c, n in zip(required, facts[1 : 1 + len(required)], strict=True)
        if n
    )
    ends = [_utc(v) for v in facts[1 + len(required) :] if isinstance(v, datetime)]
    read = f"rows read: all of the catalog table {cfg.table}"
    summary = SourceSummary(name, (), rows, {}, (), read)
    table = TABLES[name]
    dims = tuple(c for c in table.names if c in columns and is_dimension(table, c))
    dims += tuple(c for c in columns if not table.has(c))
    source = CanonicalSource(
        name=name,
        table=name,
        paths=(),
        columns=columns,
        dimensions=dims,
        summary=summary,
        findings=findings,
        data_end=max(ends, default=None),
        usable_col=None,
    )
    return source, required


def _facts_query(
    src: SqlSource, required: tuple[str, ...], stamps: list[str], d: Dialect
) -> exp.Expr:
    """One row: every row, the rows missing each required value, the newest value of each
    timestamp column over the usable rows."""

    def count_when(cond: exp.Expr) -> exp.Expr:
        return d.bigint(
            exp.Count(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number("1"))]))
        )

    usable = src.usable()
    items: list[Any] = [alias(d.bigint(exp.Count(this=exp.Star())), "_rows")]
    items += [
        alias(count_when(exp.Is(this=col(c), expression=exp.Null())), f"_m{i}")
        for i, c in enumerate(required)
    ]
    items += [
        alias(exp.Max(this=exp.Case(ifs=[exp.If(this=usable.copy(), true=col(c))])), f"_e{i}")
        for i, c in enumerate(stamps)
    ]
    return exp.Select(expressions=items).from_(subquery(src.all_rows().query, "_r"))


def _utc(value: datetime) -> datetime:
    """A timestamp from the runner as UTC (Spark's session time zone is UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
