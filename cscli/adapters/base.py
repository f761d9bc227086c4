"""What every adapter produces: a canonical LazyFrame plus the checks that count unusable cells."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cscli.schema import Table

if TYPE_CHECKING:
    import polars as pl

#: internal columns every source carries: the file a record came from and its row there
FILE_COL = "_file"
ROW_COL = "_row"
RAW_PREFIX = "__raw__"


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


@dataclass(frozen=True, slots=True)
class Adapter:
    """An export family: how its column names map onto the canonical tables.

    The generic adapter maps nothing (canonical names are expected, or given by `columns:`);
    a vendor preset is one more entry with its own map.
    """

    name: str
    description: str
    column_map: dict[str, dict[str, str]] = field(default_factory=dict)
    timestamp_format: str | None = None


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
    mapping: dict[str, str]
    unmapped: tuple[str, ...]

    @property
    def usable(self) -> pl.LazyFrame:
        import polars as pl

        required = [pl.col(c).is_not_null() for c in self.table.required]
        drops = [c.predicate.fill_null(False).not_() for c in self.checks if c.drops_record]
        return self.frame.filter(*required, *drops)
