"""The records a run needs (`cscli.engine.reads`) as a predicate in a database source's SQL.

Each term `column ≥ lo` becomes a comparison on the table's own column with a typed parameter
(never text pasted into the SQL), chosen by how the column is stored:

- an instant (`timestamptz`): `lo` itself;
- a local date-time (`timestamp`, MySQL `DATETIME`): `lo` in the source's zone, a day early;
- a date: the local day of `lo`, a day early;
- text: compared as text with the ISO day before `lo` (`'2026-01-12'`), only when the first
  rows read are ISO dates (`2026-01-13T09:00:00Z` sorts after it whatever its offset).

The day of margin covers any UTC offset a local or written time may carry; the window filters
then cut exactly. A term that cannot be pushed (a derived column, a number, text in another
format) leaves the whole table read, and says why; an optional one (a timestamp read only for
the export time) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from cscli.engine.polars.loader.drivers import DATE, NAIVE, TEXT, TZ, placeholder, quote_column
from cscli.engine.reads import Reads

_ISO_DAY = r"^\d{4}-\d{2}-\d{2}"
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pushed:
    """A predicate for the SQL's WHERE (with placeholders), its parameters, and in words."""

    sql: str
    params: tuple[Any, ...]
    shown: str


def push(
    reads: Reads,
    kind: str,
    anchors: Mapping[str, str],
    stored: Mapping[str, str],
    first: pl.DataFrame,
    timezone: str,
) -> Pushed | str:
    """The predicate of `reads` on a database of `kind`, or why it cannot be pushed.

    `anchors`: canonical column → the table column it is read from as is; `stored`: table
    column → how it is stored (`drivers.column_kinds`); `first`: the first rows read."""
    if not reads.terms:
        return reads.why_all
    zone = ZoneInfo(timezone)
    parts, params, shown = [], [], []
    mark = placeholder(kind)
    todo = [(t, False) for t in reads.terms] + [(t, True) for t in reads.optional]
    for term, optional in todo:
        column = anchors.get(term.column)
        why = _unpushable(term.column, column, stored, first)
        if why is not None:
            if optional:
                continue  # an export-time column: read as far as it can be
            return why
        assert column is not None
        how = stored.get(column, "?")
        quoted = quote_column(kind, column)
        if how == TZ:
            value: Any = term.lo
        elif how == NAIVE:
            value = (term.lo - _DAY).astimezone(zone).replace(tzinfo=None)
        elif how == DATE:
            value = (term.lo.astimezone(zone) - _DAY).date()
        else:
            value = (term.lo.astimezone(zone) - _DAY).date().isoformat()
            quoted = _as_text(kind, quoted)
        test = f"{quoted} >= {mark}"
        parts.append(f"({quoted} IS NULL OR {test})" if term.nulls else test)
        params.append(value)
        said = value.isoformat() if hasattr(value, "isoformat") else str(value)
        shown.append(f"{column} ≥ {said}" + (" or null" if term.nulls else ""))
    return Pushed(" OR ".join(parts), tuple(params), ", or ".join(shown))


def _unpushable(
    canonical: str,
    column: str | None,
    stored: Mapping[str, str],
    first: pl.DataFrame,
) -> str | None:
    """Why a term on `canonical` (read from the table's `column`) cannot be pushed, or None."""
    if column is None:
        return f"{canonical} is not read from one column of the table as is"
    how = stored.get(column, "?")
    if how == TEXT:
        cells = first[column].drop_nulls() if column in first.columns else pl.Series([])
        if cells.is_empty() or not cells.str.contains(_ISO_DAY).all():
            return f"{column} is text whose first rows are not ISO dates (YYYY-MM-DD…)"
    elif how not in (TZ, NAIVE, DATE):
        return f"{column} is stored as {how}, which is not compared in SQL"
    return None


def _as_text(kind: str, quoted: str) -> str:
    if kind == "postgresql":
        return f'CAST({quoted} AS TEXT) COLLATE "C"'
    if kind == "mysql":
        return f"CAST({quoted} AS CHAR)"
    return f"CAST({quoted} AS {'TEXT' if kind == 'sqlite' else 'VARCHAR'})"
