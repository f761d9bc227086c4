"""The engine seam: what planning knows of a kind without an engine, and what the seam imports.

Availability asks which columns a KPI reads before any engine runs, so `cscli.kpis.columns`
reads them from the SQL's tokens (`sqlcheck.column_names`) instead of polars' parser. Here the
two must agree on every SQL text of the catalogue and on the corners of the grammar.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import polars as pl
import pytest

from cscli.kpis.catalog import CATALOG
from cscli.kpis.columns import columns_used, kind_sql, pending_columns
from cscli.kpis.spec import Built, Kpi, instantiate
from cscli.sqlcheck import column_names

CORNERS = [
    'Foo > 1 AND "Foo Bar" < 2 AND `q` = 3',
    "count(*)",
    "count(*) FILTER (WHERE reopens > 0)",
    "avg(x) filter (where not y)",
    "sum(x) FILTER (WHERE y > 0)",
    "extract(epoch from x) > 3",
    "extract(year from date) = 2026",
    "cast(a as double) + TRY_CAST(b AS INTEGER)",
    "x::double precision > y::int4",
    "date '2026-01-01' < x AND timestamp '2026-01-01 00:00' > y",
    "interval '1 day'",
    "date || ' ' || time",
    "cast(date as date) = time",
    "int = 1 AND text <> 'a' AND timestamp > 1",
    "CASE x WHEN 1 THEN y ELSE z END",
    "CASE WHEN a THEN b ELSE c END",
    "date_part('hour', x) = strftime(y, '%Y')",
    "x IS NOT DISTINCT FROM y",
    "a.b > 1",
    "position('a' in b) > 0",
    "trim(both ' ' from x) = substring(y from 1 for 2)",
    "current_date > x AND now() > y",
    "x not in (a, b) AND c between d and e",
    "string_agg(x, ',' order by y)",
    "count(distinct x) + first(y)",
    "coalesce(a, b, 0) > abs(c - d) / nullif(e, 0)",
    "true and false or z is true",
    "lower(channel) like 'e%' and x = 'it''s'",
    '"a""b" = 1',
]


@pytest.mark.parametrize("text", CORNERS)
def test_the_scanner_finds_the_columns_polars_finds(text: str) -> None:
    assert column_names(text) == set(pl.sql_expr(text).meta.root_names())


def _variants() -> Iterator[Kpi]:
    """Every catalogue KPI with its defaults, with each choice of a choice parameter and with
    each boolean flipped."""
    for base in CATALOG.values():
        yield instantiate(base)
        for p in base.params:
            values = list(p.choices) if p.kind == "choice" else []
            if p.kind == "bool":
                values = [not p.default]
            for value in values:
                yield instantiate(base, {p.name: value})


def _builts(built: Built | None) -> Iterator[Built]:
    while built is not None:
        yield built
        built = built.fallback


def test_every_catalogue_kind_reads_the_columns_polars_finds() -> None:
    compared = 0
    for kpi in _variants():
        for built in _builts(kpi.built):
            texts = [*kind_sql(built.kind), *(r.predicate for r in built.quality)]
            pending = getattr(built.kind, "pending", None)
            for text in [*texts, *([pending] if pending else [])]:
                assert column_names(text) == set(pl.sql_expr(text).meta.root_names()), text
                compared += 1
            polars_sets = [set(pl.sql_expr(t).meta.root_names()) for t in kind_sql(built.kind)]
            assert columns_used(built.kind) == set().union(*polars_sets)
            if pending:
                assert pending_columns(built.kind) == set(pl.sql_expr(pending).meta.root_names())
    assert compared > 100


def test_the_seam_imports_no_polars() -> None:
    code = (
        "import sys\n"
        "import cscli.engine.base, cscli.kpis.columns, cscli.quality\n"
        "assert 'polars' not in sys.modules, 'polars imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
