"""Reduce an event log (one row per event) to one record per case, before mapping.

The rules are those of `EventLogConfig`: the case's first event is its creation, the first
`first_response` activity its first reply, the start of the final run of `resolved`
activities its resolution, and so on; every other column keeps the case's last value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.engine.polars.loader.mapping import nearest
from cscli.engine.polars.loader.parse import (
    TIMESTAMP_FORMATS,
    as_timestamp,
    cover,
    unreadable_stamps,
)
from cscli.engine.polars.loader.read import SNIFF_ROWS
from cscli.errors import InputError
from cscli.schema import TABLES

if TYPE_CHECKING:
    from cscli.config.event_log import EventLogConfig
    from cscli.config.models import SourceConfig


def reduce_events(
    frame: pl.LazyFrame,
    cfg: SourceConfig,
    present: Sequence[str],
    file: str,
    name: str,
    sample: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """One row per case from an event log (see `EventLogConfig` for the rules).

    Events are ordered by time, then by their order in the file, so that events stamped in
    the same minute keep the order the system wrote them in; "the final run of resolved
    activities" follows that order.
    """
    log = cfg.event_log
    assert log is not None
    for key in ("case", "timestamp", "activity"):
        col = getattr(log, key)
        if col is not None and col not in present:
            raise InputError(
                f"event_log.{key}: column {col!r} is not in the file{nearest(col, present)}",
                file=file,
                hint=f"columns present: {', '.join(present)}",
            )
    at = _event_time(frame, cfg, log, file, name, sample)
    events = (
        frame.with_columns(_at=at)
        .filter(pl.col("_at").is_not_null())
        .sort(log.case, "_at", ROW_COL, maintain_order=True)
    )
    aggs = _case_values(log)
    derived_names = {e.meta.output_name() for e in aggs}
    skip = {log.case, FILE_COL, ROW_COL, *derived_names}
    aggs += [pl.col(c).last() for c in present if c not in skip]
    reduced = events.group_by(log.case, maintain_order=True).agg(aggs)
    id_column = TABLES[name].id_column
    # the case is the record's id unless `columns:` maps the id to something else
    case = pl.col(log.case).cast(pl.String)
    return reduced.with_columns(case.alias(log.case if id_column in cfg.columns else id_column))


def _event_time(
    frame: pl.LazyFrame,
    cfg: SourceConfig,
    log: EventLogConfig,
    file: str,
    name: str,
    sample: pl.DataFrame | None,
) -> pl.Expr:
    """The events' timestamp, in the log's format (or the source's, or sniffed)."""
    raw = pl.col(log.timestamp)
    dtype = frame.collect_schema()[log.timestamp]
    fmt = log.timestamp_format or (
        cfg.timestamp_format if isinstance(cfg.timestamp_format, str) else None
    )
    if fmt is None and dtype == pl.String:
        head = sample if sample is not None else frame.head(SNIFF_ROWS).collect()
        values = head[log.timestamp].drop_nulls().str.strip_chars()
        chosen = cover(values) if len(values) else (TIMESTAMP_FORMATS[0],)
        if not chosen:
            raise unreadable_stamps(
                values, file, log.timestamp, f"sources.{name}.event_log.timestamp_format"
            )
        formats = chosen
    else:
        formats = (fmt,) if fmt else (TIMESTAMP_FORMATS[0],)
    return as_timestamp(raw, dtype, cfg.timezone, formats)


def _case_values(log: EventLogConfig) -> list[pl.Expr]:
    """The per-case aggregations of the canonical columns an event log gives."""
    act = pl.col(log.activity) if log.activity else pl.lit(None, dtype=pl.String)
    resolved = (act.is_in(list(log.resolved)) if log.resolved else pl.lit(False)).fill_null(False)
    aggs: list[pl.Expr] = [
        pl.col("_at").min().alias("created_at"),
        pl.col(FILE_COL).first(),
        pl.col(ROW_COL).min(),
    ]
    if log.first_response:
        aggs.append(
            pl.col("_at")
            .filter(act.is_in(list(log.first_response)))
            .min()
            .alias("first_response_at")
        )
    if log.resolved:
        position = pl.int_range(pl.len())
        last_open = position.filter(~resolved).max()
        after = pl.col("_at").filter(resolved & (last_open.is_null() | (position > last_open)))
        aggs.append(after.min().alias("resolved_at"))
        if log.reopened:
            aggs.append(act.is_in(list(log.reopened)).sum().cast(pl.Int64).alias("reopens"))
        else:
            back = resolved.shift(1).fill_null(False) & ~resolved
            aggs.append(back.sum().cast(pl.Int64).alias("reopens"))
    if log.closed:
        ended = act.is_in(list(log.closed)).fill_null(False)
        position = pl.int_range(pl.len())
        last_other = position.filter(~ended).max()
        run = pl.col("_at").filter(ended & (last_other.is_null() | (position > last_other)))
        aggs.append(run.min().alias("closed_at"))
    if log.reassigned:
        aggs.append(act.is_in(list(log.reassigned)).sum().cast(pl.Int64).alias("reassignments"))
    return aggs
