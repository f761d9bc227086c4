"""What the polars loader produces: a canonical LazyFrame plus the checks that count its
unusable cells.

These are the polars-bearing halves of a source (a `pl.LazyFrame`, `pl.Expr` predicates);
what an adapter is, as engine-neutral data, stays in `cscli.adapters.base`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cscli.quality import QualityIssue
from cscli.schema import Table


@dataclass(frozen=True, slots=True)
class QualityCheck:
    """Counts records matching `predicate`, reported as `issue` (with the first rows)."""

    issue: str
    predicate: pl.Expr
    column: str | None = None
    #: True when a matching record is unusable for every KPI of the source
    drops_record: bool = False
    #: what cscli does with such records, in words
    effect: str = "read as missing"
    #: a cheaper way to the count, when it has one: a scalar, the number of records
    #: `predicate` flags, or -1 when it cannot tell (then the predicate is counted)
    count: pl.Expr | None = None


@dataclass(frozen=True, slots=True)
class LoadedSource:
    """A source ready for the pipeline.

    `frame` holds the canonical columns present, the measures they allow, extra columns, and
    `_file`/`_row`; records whose required values are missing are still in it (the pipeline
    filters them with `usable`, after the quality checks have counted them).
    """

    name: str
    table: Table
    frame: pl.LazyFrame
    columns: frozenset[str]
    dimensions: tuple[str, ...]
    checks: tuple[QualityCheck, ...]
    files: tuple[Path, ...]
    mapping: Mapping[str, str]
    unmapped: tuple[str, ...]
    #: data read back from `cscli ingest` (docs/ingest.md): the findings counted when it was
    #: ingested (reported as the source's own, its `checks` are then empty), the column that
    #: marks its usable records, and the folder it was read from
    findings: tuple[QualityIssue, ...] = ()
    usable_col: str | None = None
    canonical_dir: Path | None = None
    #: a database source's reader (`loader.database.Reader`): what narrows the rows it reads
    reader: Any = None

    @property
    def usable(self) -> pl.LazyFrame:
        if self.usable_col is not None:
            return self.frame.filter(pl.col(self.usable_col))
        required = [pl.col(c).is_not_null() for c in self.table.required]
        drops = [c.predicate.fill_null(False).not_() for c in self.checks if c.drops_record]
        return self.frame.filter(*required, *drops)
