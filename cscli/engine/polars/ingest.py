"""`cscli ingest` on polars: exports loaded by the adapters, written as canonical Parquet.

Each source is loaded as a report loads it (`sources.load_sources`: CSV parsing, timestamp
sniffing and the data-quality checks stay the loader's) and every record it read is streamed
to `<out>/<source>/month=YYYY-MM/part-0.parquet` (polars' partitioned sink: no Python loop
over rows), with `_usable`; its own findings and its export time go to the manifest
(`cscli.engine.canonical`). The folders are built in a temporary folder beside `out` and
moved in when every source is written, then the manifest: a failing ingest leaves the old
output as it was. Re-running replaces only the sources ingested. `docs/ingest.md` describes
the format.

`materialise` is what the SQL engines load through: canonical sources as they are, the
exports the source cache serves from their entries (`cached`, docs/cache.md), every other
source ingested into a work folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from cscli import __version__, cache
from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.config import Config
from cscli.engine.canonical import (
    MANIFEST,
    NO_ANCHOR,
    PARTITION_KEY,
    USABLE_COL,
    CanonicalSource,
    Manifest,
    SourceEntry,
    canonical_folder,
    canonical_source,
    read_manifest,
    write_manifest,
)
from cscli.engine.polars.cached import cached_entry
from cscli.engine.polars.facts import source_end
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.loader.canonical import dtype_name, parquet_columns, parquet_rows
from cscli.engine.polars.quality import quality_checks, quality_results
from cscli.engine.polars.sources import load_sources
from cscli.errors import InputError, OutputError, UsageError
from cscli.kpis.measures import measures_for
from cscli.schema import DEFAULT_ANCHOR

#: hears of each source as its ingest starts
Progress = Callable[[str], None]

_MONTH = "__month"


def ingest(
    config: Config, names: Collection[str], out: Path, progress: Progress | None = None
) -> Manifest:
    """Ingest the sources `names` of the config (every source when empty) into `out`; returns
    the manifest written (its entries for other sources, ingested before, are kept)."""
    chosen = sorted(names) if names else sorted(config.sources)
    unknown = [n for n in chosen if n not in config.sources]
    if unknown:
        raise UsageError(
            f"no source named {', '.join(map(repr, unknown))} in {config.path}",
            hint=f"sources of this config: {', '.join(sorted(config.sources))}",
        )
    out = out.resolve()
    old = _existing(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(
            f"cannot create the output folder {out}: {e.strerror or e}",
            hint="choose a folder you can write to with -o",
        ) from e
    if not out.is_dir():
        raise InputError(f"{out} is not a folder", hint="choose a folder with -o")
    try:  # beside `out`, on its file system: the folders move in by a rename
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.ingest-", dir=out.parent))
    except OSError as e:
        raise InputError(
            f"cannot create a temporary folder beside {out}: {e.strerror or e}",
            hint=f"cscli ingest builds the data next to the output folder first; make "
            f"{out.parent} writable, or choose another folder with -o",
        ) from e
    try:
        with cache.switched(False):  # ingest is the conversion itself: from the exports
            sources = load_sources(config, chosen)
        entries = {}
        for name, src in sources.items():
            if progress is not None:
                progress(name)
            try:
                entries[name] = _write_source(src, tmp / name)
            except pl.exceptions.PolarsError as e:
                # a malformed line past the rows read up front: name the file and line
                from cscli.engine.polars.loader import explain_read_error

                raise explain_read_error(config.sources, config.base_dir, e) from e
        now = datetime.now(UTC)
        kept = {n: e for n, e in (old.sources.items() if old else ()) if n not in entries}
        manifest = Manifest(__version__, now, {**kept, **entries})
        write_manifest(manifest, tmp / MANIFEST)
        _move_in(tmp, out, sorted(entries))
    except OSError as e:  # a full disk, a folder made read-only meanwhile
        raise OutputError(
            f"cannot write {out}: {e.strerror or e}",
            hint="check the free space and permissions of the output folder; the data "
            "ingested before is unchanged",
        ) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _existing(out: Path) -> Manifest | None:
    """The manifest already in `out` (its other sources are kept), or None."""
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        return read_manifest(path)
    except InputError as e:
        raise InputError(
            f"{out} holds an ingest manifest this cscli cannot update: "
            + e.message.removeprefix(f"{path}: "),
            file=str(path),
            hint="ingest into another folder with -o (or remove that folder first)",
        ) from e


def _move_in(tmp: Path, out: Path, names: list[str]) -> None:
    """Replace each source folder of `out` by the new one, then the manifest: the old folder
    renamed aside, the new one renamed in (a reader sees a whole folder, or for an instant
    none). A failed rename undoes the renames before it, so `out` stays as it was."""
    done: list[tuple[str, bool, bool]] = []  # (name, old one aside, new one in)
    try:
        for name in names:
            target = out / name
            had = target.exists()
            if had:
                os.replace(target, tmp / f".old-{name}")
            done.append((name, had, False))
            os.replace(tmp / name, target)
            done[-1] = (name, had, True)
        os.replace(tmp / MANIFEST, out / MANIFEST)
    except OSError:
        for name, had, moved in reversed(done):
            with suppress(OSError):  # best effort: the first error is the one reported
                if moved:
                    os.replace(out / name, tmp / name)
                if had:
                    os.replace(tmp / f".old-{name}", out / name)
        raise


def _usable(src: LoadedSource) -> pl.Expr:
    """Whether a record is usable: as `LoadedSource.usable` filters."""
    if src.usable_col is not None:
        return pl.col(src.usable_col).fill_null(False)
    parts = [pl.col(c).is_not_null() for c in src.table.required if c in src.columns]
    parts += [c.predicate.fill_null(False).not_() for c in src.checks if c.drops_record]
    return pl.all_horizontal(parts) if parts else pl.lit(True)


def _stored(src: LoadedSource) -> list[str]:
    """The columns written: canonical columns present, then the extra columns kept (not the
    measures, which every engine recomputes)."""
    schema = src.frame.collect_schema()
    measures = {m.name for m in measures_for(src.name, frozenset(src.columns))}
    canonical = [c for c in src.table.names if c in schema and c in src.columns]
    extras = [
        c
        for c in schema
        if c in src.columns and c not in canonical and c not in measures and c != USABLE_COL
    ]
    return canonical + extras


def _written(name: str, column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as canonical data holds it: instants in UTC (µs), text as String."""
    c = pl.col(column)
    kind = dtype_name(dtype)
    if kind is None:
        raise InputError(
            f"sources.{name}: column {column!r} has the type {dtype}, which canonical data "
            "does not hold",
            hint="map a text, number, boolean or time column onto it",
        )
    if isinstance(dtype, pl.Datetime):
        c = c.dt.replace_time_zone("UTC") if dtype.time_zone is None else c
        return c.dt.convert_time_zone("UTC").dt.cast_time_unit("us").alias(column)
    if kind == "string" and dtype != pl.String:
        return c.cast(pl.String).alias(column)
    if isinstance(dtype, pl.List) and dtype.inner != pl.String:
        return c.cast(pl.List(pl.String)).alias(column)
    return c


def _write_source(src: LoadedSource, folder: Path) -> SourceEntry:
    """Stream every record of the source to `folder`, partitioned by month, and count its
    findings in the same pass."""
    schema = src.frame.collect_schema()
    columns = _stored(src)
    anchor = DEFAULT_ANCHOR.get(src.name)
    anchor = anchor if anchor in columns else None
    month = (
        pl.col(anchor).dt.convert_time_zone("UTC").dt.strftime("%Y-%m").fill_null(NO_ANCHOR)
        if anchor is not None
        else pl.lit(NO_ANCHOR)
    )
    records = src.frame.select(
        *(_written(src.name, c, schema[c]) for c in columns),
        pl.col(FILE_COL).cast(pl.String),
        pl.col(ROW_COL).cast(pl.Int64),
        _usable(src).alias(USABLE_COL),
        month.alias(_MONTH),
    )
    sink = records.sink_parquet(
        pl.PartitionBy(
            folder,
            key=_MONTH,
            include_key=False,
            approximate_bytes_per_file=None,
            file_path_provider=lambda a: (
                f"{PARTITION_KEY}={a.partition_keys[_MONTH][0]}/part-{a.index_in_partition}.parquet"
            ),
        ),
        # min/max statistics stay (row-group pruning on the anchor): polars leaves NaN out
        # of them, but canonical floats hold none (the loader reads NaN and inf as missing,
        # with a finding), so no engine trusting them can misjudge a row
        mkdir=True,
        lazy=True,
    )
    checks = quality_checks(src, ())
    counts = src.frame.select(
        pl.len().alias("_rows"),
        source_end(src.name, src.columns).alias("_end"),
        *(
            c.predicate.fill_null(False).sum().cast(pl.Int64).alias(f"_n{i}")
            for i, c in enumerate(checks)
        ),
        _usable(src).sum().cast(pl.Int64).alias("_usable_rows"),
    )
    months = records.group_by(_MONTH).agg(pl.len().alias("n"))
    _, quality, parts = pl.collect_all([sink, counts, months])
    if not any(folder.glob(f"{PARTITION_KEY}=*/*.parquet")):  # no records: an empty file
        (folder / f"{PARTITION_KEY}={NO_ANCHOR}").mkdir(parents=True, exist_ok=True)
        records.drop(_MONTH).head(0).collect().write_parquet(
            folder / f"{PARTITION_KEY}={NO_ANCHOR}" / "part-0.parquet"
        )
    issues, summaries = quality_results({src.name: src}, {src.name: checks}, {src.name: quality})
    end = quality["_end"][0]
    summary = summaries[0]
    return SourceEntry(
        table=src.name,
        files=tuple(str(f) for f in summary.files),
        rows=int(quality["_rows"][0]),
        usable_rows=int(quality["_usable_rows"][0]),
        columns=parquet_columns([str(p) for p in sorted(folder.glob("*/*.parquet"))]),
        dimensions=src.dimensions,
        mapping=dict(summary.mapping),
        unmapped=tuple(summary.unmapped),
        findings=tuple(issues),
        data_end=end if isinstance(end, datetime) else None,
        anchor=anchor,
        partitions={str(m): int(n) for m, n in sorted(parts.iter_rows())},
        ingested_at=datetime.now(UTC),
    )


def materialise(
    config: Config, names: Collection[str], workdir: Path
) -> dict[str, CanonicalSource]:
    """The sources `names` as canonical data: those that point at ingested data as they are,
    the others ingested into `workdir` (which the caller removes)."""
    found: dict[str, CanonicalSource] = {}
    todo = []
    for name in sorted(names):
        cfg = config.sources[name]
        folder = canonical_folder(cfg.path, cfg.format, config.base_dir)
        if folder is not None:
            found[name] = canonical_source(name, folder, parquet_columns, parquet_rows)[0]
            continue
        # an export the source cache serves: its entry is canonical data (docs/cache.md)
        entry, _ = cached_entry(name, config)
        if entry is None:
            todo.append(name)
        else:
            found[name] = canonical_source(name, entry.folder / name)[0]
    if todo:
        ingest(config, todo, workdir)
        for name in todo:
            found[name] = canonical_source(name, workdir.resolve() / name)[0]
    return found
