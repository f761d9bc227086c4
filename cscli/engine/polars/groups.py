"""Which groups of a report a check's `where:` keeps: its SQL condition on the group columns,
run by polars over the report's flat table, as the positions of the rows it keeps (the same
positions as `ReportResult.rows`). A group for which the condition is unknown (null) is not
kept."""

from __future__ import annotations

import polars as pl

from cscli.engine.polars.compile import sql

_POSITION = "_position"


class GroupFilterError(ValueError):
    """The condition cannot be applied to these groups (its text is polars' reason)."""


def matching_groups(table: pl.DataFrame, where: str) -> list[int]:
    """The positions of the table's rows whose group columns satisfy `where`."""
    try:
        kept = table.with_row_index(_POSITION).filter(sql(where).fill_null(False))
    except pl.exceptions.PolarsError as e:
        raise GroupFilterError(str(e)) from e
    return [int(i) for i in kept[_POSITION].to_list()]
