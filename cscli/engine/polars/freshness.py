"""How fresh each source is, for the `freshness:` checks: one small lazy query per source (its
newest anchor up to a reference instant, and how many records fall before and after it),
collected together with the data-quality counts of the sources no KPI rule has loaded."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from cscli.config import Config
from cscli.engine.polars.quality import quality_checks, quality_query, quality_results
from cscli.quality import QualityIssue


@dataclass(frozen=True, slots=True)
class Newest:
    """A source's newest record up to the reference instant (None: no such record), the
    records up to it (`n`) and those after it (`later`)."""

    newest: datetime | None
    n: int
    later: int


def newest_records(
    config: Config,
    anchors: Mapping[str, str],
    reference: datetime,
    *,
    inclusive: bool,
    quality_for: Collection[str],
) -> tuple[dict[str, Newest], list[QualityIssue]]:
    """Per source in `anchors` (source → anchor column), its `Newest` before `reference` (or
    at it, when `inclusive`); the data-quality findings of the sources in `quality_for`."""
    from cscli.engine.polars.sources import load_sources

    included = pl.col("_anchor") <= reference if inclusive else pl.col("_anchor") < reference
    sources = load_sources(config, set(anchors))
    names = sorted(anchors)
    queries = [
        sources[name]
        .usable.select(pl.col(anchors[name]).alias("_anchor"))
        .select(
            pl.col("_anchor").filter(included).max().alias("newest"),
            included.sum().alias("n"),
            (~included).sum().alias("later"),
        )
        for name in names
    ]
    extra = sorted(quality_for)
    checks = {name: quality_checks(sources[name], []) for name in extra}
    queries += [quality_query(sources[name], checks[name]) for name in extra]
    try:
        frames = pl.collect_all(queries)
    except pl.exceptions.PolarsError as e:
        from cscli.engine.polars.loader import explain_read_error

        raise explain_read_error(config.sources, config.base_dir, e) from e
    newest = {name: _newest(frames[i].row(0, named=True)) for i, name in enumerate(names)}
    issues, _ = quality_results(
        {n: sources[n] for n in extra},
        checks,
        {name: frames[len(names) + i] for i, name in enumerate(extra)},
    )
    return newest, issues


def _newest(row: Mapping[str, object]) -> Newest:
    n, later, newest = row["n"], row["later"], row["newest"]
    return Newest(
        newest if isinstance(newest, datetime) else None,
        int(n) if isinstance(n, int) else 0,
        int(later) if isinstance(later, int) else 0,
    )
