"""What a few reads of a Parquet source's columns tell before its queries run (`Known`)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cscli.engine.polars.loader.mapping import Mapped
from cscli.engine.polars.loader.parse import EARLIEST, LATEST
from cscli.engine.polars.loader.read import Scanned
from cscli.schema import Table

if TYPE_CHECKING:
    from cscli.config import SourceConfig

#: the most distinct values of a code column mapped value by value (beyond, per row)
_CODE_VALUES = 10_000
#: a naive stamp's bounds for `in_range`: its zone moves it by less than a day
_NAIVE_EARLIEST = datetime(1900, 1, 2)
_NAIVE_LATEST = datetime(2199, 12, 31)


@dataclass(frozen=True)
class Known:
    """What a few reads of a Parquet source's columns tell before its queries: code columns
    as cleaned text (`codes`), timestamp columns within the readable years (`in_range`)."""

    codes: dict[str, pl.Expr] = field(default_factory=dict)
    in_range: frozenset[str] = frozenset()


def known_columns(
    table: Table, mapped: Mapped, scanned: Scanned, cfg: SourceConfig | None = None
) -> Known:
    """Per-row work a Parquet source does not need, from a streaming read of a few columns
    here instead of the same work in every query that reads them (at 20M rows and per pass,
    0.4 s to trim and lower-case a code column, 0.2 s to bound a timestamp column).

    A code column (status, priority…) whose distinct values are all trimmed lower-case text
    is read as it is, one with a few to clean by a mapping of those values; a typed timestamp
    column whose minimum and maximum lie in [1900, 2200) is not bounded per row. Text files
    are parsed per query anyway: their rows are cleaned and bounded there. What is read is
    kept between runs over unchanged files and settings (`cfg`; `cscli.cache_facts`)."""
    if scanned.fmt != "parquet" or scanned.reader is not None:
        return Known()
    codes: dict[str, str] = {}
    stamps: dict[str, tuple[str, bool]] = {}  # canonical → (source column, zone-aware)
    for canonical, src in mapped.columns_of.items():
        column, dtype = table.column(canonical), mapped.schema[src.name]
        if column.code and column.type == "string" and dtype == pl.String:
            codes[canonical] = src.name
        elif column.type == "datetime" and isinstance(dtype, pl.Datetime):
            stamps[canonical] = (src.name, dtype.time_zone is not None)
    if not codes and not stamps:
        return Known()
    # each code column's distinct values apart (a streaming `unique`; an `implode` would hold
    # the whole column), the bounds of the timestamps in one streaming reduction
    queries = [mapped.frame.select(pl.col(n).unique().alias(c)) for c, n in codes.items()]
    bounds = []
    for c, (n, aware) in stamps.items():
        utc = pl.col(n).dt.convert_time_zone("UTC") if aware else pl.col(n)
        bounds += [utc.min().alias(f"{c}:min"), utc.max().alias(f"{c}:max")]
    if bounds:
        queries.append(mapped.frame.select(bounds))
    try:
        read = _read(queries, scanned.files, cfg)
    except pl.exceptions.PolarsError:  # the report's own read names the file and what is wrong
        return Known()
    distinct = dict(zip(codes, read, strict=False))
    limits = read[-1] if bounds else pl.DataFrame()
    clean = {}
    for canonical, name in codes.items():
        values = distinct[canonical][canonical].drop_nulls()
        cleaned = values.str.strip_chars().str.to_lowercase()
        if (values == cleaned).all():
            clean[canonical] = pl.col(name)
        elif len(values) <= _CODE_VALUES:
            changed = values != cleaned
            clean[canonical] = pl.col(name).replace(values.filter(changed), cleaned.filter(changed))
    in_range = set()
    for canonical, (_, aware) in stamps.items():
        lo, hi = limits[f"{canonical}:min"][0], limits[f"{canonical}:max"][0]
        earliest, latest = (EARLIEST, LATEST) if aware else (_NAIVE_EARLIEST, _NAIVE_LATEST)
        if lo is None or (lo >= earliest and hi < latest):
            in_range.add(canonical)
    return Known(clean, frozenset(in_range))


def _read(
    queries: Sequence[pl.LazyFrame], files: Sequence[Path], cfg: SourceConfig | None
) -> list[pl.DataFrame]:
    """The queries' results: kept between runs over unchanged files and settings
    (`cscli.cache_facts`) while the cache is on, else read."""
    from cscli import cache, cache_facts
    from cscli.engine.polars.cached import settings

    if not cache.enabled():
        return [q.collect(engine="streaming") for q in queries]
    try:
        # a Parquet file's edges hold its footer (the row groups' offsets and statistics):
        # hashing a whole 50 MB file would cost more than the reads the facts save
        identities = [cache.file_identity(f, whole_limit=0) for f in files]
    except OSError:  # the report's own read names what is wrong
        return [q.collect(engine="streaming") for q in queries]
    # the plans name the columns and how they are read; the settings cover what a plan
    # abbreviates (a long list of values in a source's filter)
    plans = [q.explain(optimized=False) for q in queries]
    plans.append(json.dumps(settings(cfg) if cfg is not None else None, sort_keys=True))
    key = cache_facts.facts_key(plans, identities, pl.__version__)
    if (text := cache_facts.read_facts(key)) is not None:
        try:
            kept = [
                pl.DataFrame.deserialize(io.StringIO(t), format="json") for t in json.loads(text)
            ]
        except (ValueError, TypeError, pl.exceptions.PolarsError):  # damaged: read again
            kept = []
        # a file that is not what these queries give (edited, another key's) is read again
        wanted = [q.collect_schema() for q in queries]
        if [df.schema for df in kept] == wanted:
            return kept
    read = [q.collect(engine="streaming") for q in queries]
    cache_facts.write_facts(key, json.dumps([df.serialize(format="json") for df in read]))
    return read
