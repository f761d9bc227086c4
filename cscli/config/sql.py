"""The SQL a config holds, checked at load so that a typo is a problem with its position.

Custom KPIs (`sql:`, `numerator:`…), a check's `where:`, a source's `filter:` and its
`columns:` values are parsed by `cscli.sqlcheck` against the columns they may read; the first
problem of each is reported at its character inside the string. (`cscli.sqlcheck` and the
measure lists import polars: imported when a config has SQL to check.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from cscli.config.marks import Path_
from cscli.config.problems import Problems
from cscli.schema import TABLES


def source_columns(source: str, data: Mapping[str, Any], *, enriched: bool) -> frozenset[str]:
    """The columns SQL over `source` may name: canonical columns, measures, `extra_columns`
    and, for KPIs (`enriched`), what the pipeline adds (repeat contacts, sentiment, business
    hours, the rated contact's dimensions for surveys)."""
    from cscli.derived import (
        CONTACT_MEASURES,
        MESSAGE_MEASURES,
        SENTIMENT_MEASURES,
        WINDOW_MEASURES,
    )
    from cscli.kpis.measures import BUSINESS_MEASURES, MEASURES
    from cscli.schema import SURVEY_CONTACT_DIMENSIONS

    names = set(TABLES[source].names) | {m.name for m in MEASURES if m.table == source}
    names |= extra_columns(data, source)
    if enriched:
        names |= CONTACT_MEASURES | WINDOW_MEASURES | MESSAGE_MEASURES | SENTIMENT_MEASURES
        names |= set(BUSINESS_MEASURES.values())
        if source == "surveys":
            names |= set(SURVEY_CONTACT_DIMENSIONS)
    return frozenset(names)


def extra_columns(data: Mapping[str, Any], source: str) -> set[str]:
    """The `extra_columns:` of source `source` as written (the names among them)."""
    sources = data.get("sources")
    src = sources.get(source) if isinstance(sources, dict) else None
    extra = src.get("extra_columns") if isinstance(src, dict) else None
    return {e for e in extra if isinstance(e, str)} if isinstance(extra, list) else set()


def check_one_sql(
    text: str,
    path: Path_,
    label: str,
    columns: Collection[str] | None,
    problems: Problems,
    what: str,
    *,
    unparsable: bool = True,
) -> bool:
    """Report `text`'s first problem at its position; True when it is fine. `columns`: the
    names it may use, or None to check only that it is safe to parse. `unparsable=False`
    leaves SQL that polars cannot parse to the caller's own message."""
    from cscli.sqlcheck import check_columns, check_sql

    found = check_sql(text) if columns is None else check_columns(text, columns, what=what)
    if found is None or (found.unparsable and not unparsable):
        return True
    problems.add(path, f"{label}: {found.message}", sql=(text, found.offset))
    return False


def check_source_sql(data: Mapping[str, Any], problems: Problems) -> None:
    """`filter:` against the source's columns; `columns:` values for subqueries (a value may be
    an export column's name, which only the file knows: it is checked in full when read)."""
    from cscli.sqlcheck import reads_data

    sources = data.get("sources")
    for name, src in sources.items() if isinstance(sources, dict) else ():
        if name not in TABLES or not isinstance(src, dict):
            continue
        flt = src.get("filter")
        if isinstance(flt, str) and flt.strip():
            columns = source_columns(name, data, enriched=False)
            path: Path_ = ("sources", name, "filter")
            check_one_sql(flt, path, f"sources.{name}.filter", columns, problems, name)
        mapping = src.get("columns")
        for canonical, value in mapping.items() if isinstance(mapping, dict) else ():
            if not isinstance(value, str):
                continue
            found = reads_data(value)
            if found is not None:
                problems.add(
                    ("sources", name, "columns", canonical),
                    f"sources.{name}.columns.{canonical}: {found.message}",
                    sql=(value, found.offset),
                )
