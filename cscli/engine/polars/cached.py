"""Exports read through the source cache (`cscli.cache`, docs/cache.md) on polars.

A source whose files are CSV, TSV, JSON or JSONL is looked up by its key (its settings and
its files' identities). On a hit, its entry — canonical Parquet and a manifest, as `cscli
ingest` writes them — is read back (`loader.canonical`): the records in the order they were
read, the findings and the export time they had. On a miss, the exports are loaded as
always (`loader.load_source`), written as an entry in one streaming pass
(`ingest._write_source`), committed atomically, and read back the same way: a hit, a miss and
`--no-cache` give the same report. Parquet exports, ingested data and databases are read as
they are: they gain nothing from it.

An entry that cannot be written (a read-only or full disk, a size limit) is skipped: the
report goes on from the exports, and meets any malformed line there as without the cache.
An entry that cannot be read back is removed and the exports are read.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cscli import cache
from cscli.adapters import ADAPTERS
from cscli.engine.canonical import MANIFEST, Manifest, read_manifest, write_manifest
from cscli.engine.polars.loader import LoadedSource, load_source
from cscli.engine.polars.loader.canonical import load_canonical
from cscli.engine.polars.loader.read import _format_of, _resolve_paths
from cscli.errors import InputError

if TYPE_CHECKING:
    from cscli.config import Config, SourceConfig

#: the formats whose reading the cache saves (Parquet is read as fast as an entry)
CACHED_FORMATS = frozenset({"csv", "tsv", "json", "jsonl"})


def settings(cfg: SourceConfig) -> dict[str, Any]:
    """What of a source's config changes its canonical records: every setting as resolved,
    and which ones the config sets (a `timezone:` set explicitly overrides a zone named in
    a column header)."""
    return {"config": cfg.model_dump(mode="json"), "set": sorted(cfg.model_fields_set)}


def cache_key(name: str, cfg: SourceConfig, files: list[Path]) -> str:
    """The key of a source's entry (`cscli.cache.source_key`)."""
    identities = [cache.file_identity(f) for f in files]
    return cache.source_key(name, settings(cfg), identities, f"polars {pl.__version__}")


def cached_files(name: str, cfg: SourceConfig, base_dir: Path) -> list[Path] | None:
    """The export files of a source the cache serves, or None (cache off, a database, a
    catalog table, Parquet). A path that does not resolve is the loader's error, as
    without the cache."""
    if not cache.enabled() or cfg.is_database or cfg.is_catalog or not cfg.paths:
        return None
    files = _resolve_paths(cfg, base_dir, name)
    fmt = cfg.format or _format_of(files[0])
    return files if fmt in CACHED_FORMATS else None


def cached_entry(name: str, config: Config) -> tuple[cache.Entry | None, LoadedSource | None]:
    """The entry of source `name`, built on a miss: (entry, None) on a hit; (entry, the
    source loaded from its exports) on a miss; (None, loaded) when the cache folder cannot
    be written; (None, None) when the cache does not serve the source."""
    cfg = config.sources[name]
    files = cached_files(name, cfg, config.base_dir)
    if files is None:
        return None, None
    store = cache.Store.default()
    try:
        key = cache_key(name, cfg, files)
    except OSError:  # a file that cannot be read: the loader says so, as without the cache
        return None, None
    entry = store.lookup(key)
    if entry is not None:
        return entry, None
    loaded = load_source(name, cfg, config.base_dir, ADAPTERS[cfg.adapter], str(config.path))
    return build(store, key, loaded, config), loaded


def load_cached(name: str, config: Config) -> LoadedSource | None:
    """The source `name` through the cache, or None when the cache does not serve it."""
    cfg = config.sources[name]
    entry, loaded = cached_entry(name, config)
    if entry is None:  # not served (None), or the cache folder cannot be written (loaded)
        return loaded
    try:
        return read_back(name, entry.folder, cfg, str(config.path))
    except (InputError, OSError, pl.exceptions.PolarsError):
        cache.Store.default().discard(entry.key)  # damaged since it was checked
        return load_source(name, cfg, config.base_dir, ADAPTERS[cfg.adapter], str(config.path))


def build(store: cache.Store, key: str, loaded: LoadedSource, config: Config) -> cache.Entry | None:
    """Write the entry of a loaded source (one streaming pass: the records, their findings
    and export time) and commit it; None when it cannot be written (a read-only or full
    disk, a file size limit, a column canonical data cannot hold). A malformed line found
    while writing is then met again by the report, which names its file and line as
    without the cache."""
    try:
        with store.building() as tmp:
            found = write_source_entry(loaded, tmp / loaded.name)
            write_manifest(found, tmp / MANIFEST)
            entry = found.sources[loaded.name]
            return store.commit(
                tmp,
                key,
                source=loaded.name,
                slot=cache.slot_of(str(config.path), loaded.name),
                config_file=str(config.path),
                files=entry.files,
                rows=entry.rows,
                manifest=MANIFEST,
            )
    except (OSError, InputError, pl.exceptions.PolarsError):
        return None


def write_source_entry(loaded: LoadedSource, folder: Path) -> Manifest:
    """The source written to `folder` as `cscli ingest` writes it, and its manifest."""
    from datetime import UTC, datetime

    from cscli import __version__
    from cscli.engine.polars.ingest import _write_source

    entry = _write_source(loaded, folder)
    return Manifest(__version__, datetime.now(UTC), {loaded.name: entry})


def read_back(name: str, folder: Path, cfg: SourceConfig, config_file: str) -> LoadedSource:
    """An entry read back as the source it was written from: the source's `filter:` was
    applied before it was written (not again), and it is not "ingested data" to `validate`
    (the user did not point the source at it)."""
    if name not in read_manifest(folder / MANIFEST).sources:
        raise InputError(f"the cache entry {folder} has no manifest entry for {name}")
    unfiltered = cfg.model_copy(update={"filter": None})
    source = load_canonical(name, folder / name, unfiltered, config_file)
    return dataclasses.replace(source, canonical_dir=None)
