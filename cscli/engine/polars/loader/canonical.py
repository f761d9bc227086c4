"""Canonical data read back on polars: a folder written by `cscli ingest` as a `LoadedSource`.

The columns are canonical already, so no adapter maps them; the measures are recomputed
from them (as the loader does), the manifest's findings are the source's own (its `checks`
are empty: they were counted when the data was ingested), and `_usable` says which records
are usable. Records come back in the order the loader read them (file, then row), so that
"the first rows" of a finding and of a breach are the same as on the exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.engine.canonical import USABLE_COL, canonical_source
from cscli.engine.polars.loader.mapping import source_filter
from cscli.engine.polars.loader.source import LoadedSource
from cscli.engine.polars.measures import measure_expr
from cscli.errors import InputError
from cscli.kpis.measures import measures_for
from cscli.schema import TABLES, is_dimension

if TYPE_CHECKING:
    from cscli.config import SourceConfig

#: the columns of canonical data that are not data
BOOKKEEPING = (FILE_COL, ROW_COL, USABLE_COL)
_ORDER = "__file_order"


def dtype_name(dtype: pl.DataType) -> str | None:
    """The canonical type name of a polars type (`cscli.engine.canonical.DTYPES`), None for
    a type canonical data does not hold."""
    if dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        return "string"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.List) and dtype.inner in (pl.String, pl.Null):
        return "list[string]"
    return None


def parquet_columns(paths: Sequence[str]) -> dict[str, str]:
    """column → type name of canonical Parquet files (their first file's schema)."""
    schema = pl.scan_parquet(paths[0], hive_partitioning=False).collect_schema()
    return {c: dtype_name(t) or str(t) for c, t in schema.items()}


def parquet_rows(paths: Sequence[str]) -> int:
    """The records in canonical Parquet files (from their metadata)."""
    return int(
        pl.scan_parquet(list(paths), hive_partitioning=False).select(pl.len()).collect().item()
    )


def load_canonical(name: str, folder: Path, cfg: SourceConfig, config_file: str) -> LoadedSource:
    """The ingested source in `folder` (docs/ingest.md), ready for the pipeline."""
    source, entry = canonical_source(name, folder, parquet_columns, parquet_rows)
    table = TABLES[name]
    try:
        frame = pl.scan_parquet(list(source.paths), hive_partitioning=False, glob=False)
        schema = frame.collect_schema()
    except pl.exceptions.PolarsError as e:
        raise InputError(
            f"cannot read the ingested data of {name}: {str(e).strip().splitlines()[0]}",
            file=str(folder),
            hint="run `cscli ingest` again for this source",
        ) from e
    missing = [c for c in (FILE_COL, ROW_COL) if c not in schema]
    if missing:
        raise InputError(
            f"{folder} is not canonical data: no {', '.join(missing)} column",
            hint="point the source at a folder written by `cscli ingest`",
        )
    files = source.summary.files
    if len(source.paths) > 1 and entry is None:  # no manifest, no file order: by name
        frame = frame.sort(FILE_COL, ROW_COL, maintain_order=True)
    elif len(source.paths) > 1:
        # partitions hold the records of one month each: back to the order they were read
        names = list(dict.fromkeys(Path(f).name for f in files))
        order = pl.col(FILE_COL).replace_strict(
            names, list(range(len(names))), default=len(names), return_dtype=pl.Int64
        )
        frame = (
            frame.with_columns(order.alias(_ORDER))
            .sort(_ORDER, ROW_COL, maintain_order=True)
            .drop(_ORDER)
        )
    canonical = {c for c in schema if table.has(c)}
    extras = [c for c in schema if c not in canonical and c not in BOOKKEEPING]
    measures = measures_for(name, frozenset(canonical))
    if measures:
        frame = frame.with_columns(measure_expr(m) for m in measures)
    available = canonical | {m.name for m in measures} | set(extras)
    if cfg.filter:
        frame = frame.filter(source_filter(cfg.filter, name, available, config_file))
    if entry is not None:
        dims = entry.dimensions
    else:
        dims = tuple(c for c in table.names if c in canonical and is_dimension(table, c))
        dims += tuple(extras)
    return LoadedSource(
        name=name,
        table=table,
        frame=frame,
        columns=frozenset(available),
        dimensions=dims,
        checks=(),
        files=files,
        mapping=source.summary.mapping,
        unmapped=source.summary.unmapped,
        findings=source.findings,
        usable_col=USABLE_COL if USABLE_COL in schema else None,
        canonical_dir=folder,
    )
