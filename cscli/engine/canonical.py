"""Canonical data on disk: what `cscli ingest` writes and every engine reads (no polars here).

An ingested source is a folder `<out>/<source>/` of Parquet files `month=YYYY-MM/part-0.parquet`
(the month of the source's default anchor in UTC; `month=none` for records without one),
holding every record the loader read: the canonical columns present, the extra columns kept,
`_file`, `_row` and `_usable`. Beside the folders, `<out>/cscli-ingest.json` (the `Manifest`)
says what each folder holds: its columns and their types, where it came from, its own
data-quality findings and its export time. `docs/ingest.md` describes the format.

`CanonicalSource` is how an engine is handed one such source (the Parquet files plus the
manifest's facts); `canonical_source` builds it from a folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cscli.errors import InputError
from cscli.quality import QualityIssue, SourceSummary

#: the manifest's file name, beside the source folders
MANIFEST = "cscli-ingest.json"
#: the version of the format this cscli writes (and the newest it reads)
FORMAT_VERSION = 1
#: the value of the manifest's `format` key
FORMAT_NAME = "cscli-ingest"
#: the column saying whether a record is usable (its required values present, no dropping
#: finding); the partition folder's prefix; its name for records without an anchor
USABLE_COL = "_usable"
PARTITION_KEY = "month"
NO_ANCHOR = "none"
#: the type names of `columns`
DTYPES = ("string", "int", "float", "bool", "datetime", "date", "list[string]")


@dataclass(frozen=True, slots=True)
class CanonicalSource:
    """One canonical source as an engine reads it.

    `paths`: its Parquet files (empty for a warehouse table named by `table`); `columns`:
    column → type name (`DTYPES`); `usable_col`: the column marking usable records, or None
    (then every record with its required values is usable)."""

    name: str
    table: str
    paths: tuple[str, ...]
    columns: Mapping[str, str]
    dimensions: tuple[str, ...]
    summary: SourceSummary
    findings: tuple[QualityIssue, ...] = ()
    data_end: datetime | None = None
    usable_col: str | None = USABLE_COL


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """What the manifest says of one ingested source."""

    table: str
    #: the exports it was read from, in the order the loader read them
    files: tuple[str, ...]
    rows: int
    usable_rows: int
    columns: Mapping[str, str]
    dimensions: tuple[str, ...]
    mapping: Mapping[str, str]
    unmapped: tuple[str, ...]
    findings: tuple[QualityIssue, ...]
    #: the export time (the newest timestamp of the source), UTC
    data_end: datetime | None
    #: the column whose UTC month places a record in its partition (None: all in month=none)
    anchor: str | None
    #: partition (YYYY-MM or `none`) → records in it
    partitions: Mapping[str, int]
    ingested_at: datetime


@dataclass(frozen=True, slots=True)
class Manifest:
    """`cscli-ingest.json`: the format version, who wrote it and when, and every source."""

    cscli_version: str
    written_at: datetime
    sources: Mapping[str, SourceEntry] = field(default_factory=dict)
    version: int = FORMAT_VERSION


# --- JSON ---------------------------------------------------------------------------------


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_stamp(value: object) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _issue_json(i: QualityIssue) -> dict[str, Any]:
    return {
        "issue": i.issue,
        "rows": i.rows,
        "column": i.column,
        "examples": [[f, r] for f, r in i.examples],
        "effect": i.effect,
    }


def manifest_json(manifest: Manifest) -> dict[str, Any]:
    """The manifest as the JSON document written to disk."""
    return {
        "format": FORMAT_NAME,
        "version": manifest.version,
        "cscli_version": manifest.cscli_version,
        "written_at": _stamp(manifest.written_at),
        "sources": {
            name: {
                "table": e.table,
                "files": list(e.files),
                "rows": e.rows,
                "usable_rows": e.usable_rows,
                "columns": dict(e.columns),
                "dimensions": list(e.dimensions),
                "mapping": dict(e.mapping),
                "unmapped": list(e.unmapped),
                "findings": [_issue_json(i) for i in e.findings],
                "data_end": _stamp(e.data_end),
                "anchor": e.anchor,
                "partitions": dict(e.partitions),
                "ingested_at": _stamp(e.ingested_at),
            }
            for name, e in sorted(manifest.sources.items())
        },
    }


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write the manifest to `path` (a temporary file beside it, then renamed: atomic)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest_json(manifest), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _entry(name: str, raw: Mapping[str, Any]) -> SourceEntry:
    return SourceEntry(
        table=str(raw["table"]),
        files=tuple(str(f) for f in raw["files"]),
        rows=int(raw["rows"]),
        usable_rows=int(raw["usable_rows"]),
        columns={str(k): str(v) for k, v in raw["columns"].items()},
        dimensions=tuple(str(d) for d in raw["dimensions"]),
        mapping={str(k): str(v) for k, v in raw["mapping"].items()},
        unmapped=tuple(str(u) for u in raw["unmapped"]),
        findings=tuple(
            QualityIssue(
                name,
                str(i["issue"]),
                int(i["rows"]),
                None if i.get("column") is None else str(i["column"]),
                tuple((str(f), int(r)) for f, r in i.get("examples", ())),
                str(i.get("effect", "")),
            )
            for i in raw["findings"]
        ),
        data_end=_parse_stamp(raw.get("data_end")),
        anchor=None if raw.get("anchor") is None else str(raw["anchor"]),
        partitions={str(k): int(v) for k, v in raw.get("partitions", {}).items()},
        ingested_at=_parse_stamp(raw.get("ingested_at")) or datetime.now(UTC),
    )


def read_manifest(path: Path) -> Manifest:
    """Read a manifest; a newer format version, or a file that is not one, is an error."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(
            f"cannot read the ingest manifest: {e}",
            file=str(path),
            hint="run `cscli ingest` again to rewrite it",
        ) from e
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise InputError(
            f'{path.name} is not a cscli ingest manifest (no "format": "{FORMAT_NAME}")',
            file=str(path),
            hint="point the source at a folder written by `cscli ingest`",
        )
    version = raw.get("version")
    if not isinstance(version, int) or version < 1:
        raise InputError(
            f"the ingest manifest has no valid format version ({version!r})",
            file=str(path),
            hint="run `cscli ingest` again to rewrite it",
        )
    if version > FORMAT_VERSION:
        raise InputError(
            f"the data was ingested in format version {version} by cscli "
            f"{raw.get('cscli_version', '?')}; this cscli reads versions up to {FORMAT_VERSION}",
            file=str(path),
            hint="upgrade cscli, or ingest the exports again with this version (into a new folder)",
        )
    try:
        return Manifest(
            cscli_version=str(raw.get("cscli_version", "")),
            written_at=_parse_stamp(raw.get("written_at")) or datetime.now(UTC),
            sources={str(n): _entry(str(n), e) for n, e in raw.get("sources", {}).items()},
            version=version,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InputError(
            f"the ingest manifest is damaged: {type(e).__name__}: {e}",
            file=str(path),
            hint="run `cscli ingest` again to rewrite it",
        ) from e


# --- finding and reading an ingested folder ----------------------------------------------


def manifest_of(folder: Path) -> Path | None:
    """The manifest of an ingested source folder (one level up), if there is one."""
    candidate = folder.parent / MANIFEST
    return candidate if candidate.is_file() else None


def canonical_folder(
    path: str | tuple[str, ...] | None, fmt: str | None, base_dir: Path
) -> Path | None:
    """The folder of a source that reads canonical data: `format: canonical`, or a path that
    is a folder beside a manifest (detected). None for any other source."""
    if fmt == "canonical" and not isinstance(path, str):
        raise InputError(
            "format: canonical reads one folder written by `cscli ingest`, not "
            + ("a database" if path is None else "a list of paths"),
            hint="set path: to the source's folder, e.g. path: lake/tickets",
        )
    if not isinstance(path, str):
        return None
    folder = Path(path) if Path(path).is_absolute() else base_dir / path
    if fmt == "canonical":
        return folder
    if fmt is None and folder.is_dir() and manifest_of(folder) is not None:
        return folder
    return None


def partition_files(folder: Path) -> tuple[str, ...]:
    """The Parquet files of an ingested source folder, by partition (months in order, then
    `month=none`)."""
    return tuple(str(p) for p in sorted(folder.glob(f"{PARTITION_KEY}=*/*.parquet")))


def canonical_source(
    name: str, folder: Path, read_schema: Any = None, count_rows: Any = None
) -> tuple[CanonicalSource, SourceEntry | None]:
    """The canonical source in `folder`, with its manifest entry (None without a manifest:
    then its columns come from `read_schema(paths) -> {column: type name}` and its rows from
    `count_rows(paths) -> int`, and it has no findings of its own)."""
    if not folder.is_dir():
        raise InputError(
            f"{folder} is not a folder of ingested data (sources.{name}.path)",
            hint="run `cscli ingest -o DIR` and point the source at DIR/<source>",
        )
    paths = partition_files(folder)
    if not paths:
        raise InputError(
            f"no Parquet files under {folder} (expected month=YYYY-MM/part-0.parquet)",
            hint="point the source at a folder written by `cscli ingest`",
        )
    found = manifest_of(folder)
    entry = None
    if found is not None:
        entry = read_manifest(found).sources.get(folder.name)
    if entry is None:
        if read_schema is None:
            raise InputError(
                f"no entry for {folder.name!r} in the ingest manifest beside {folder}",
                hint="run `cscli ingest` again for this source",
            )
        columns: Mapping[str, str] = read_schema(paths)
        rows = int(count_rows(paths)) if count_rows is not None else 0
        summary = SourceSummary(name, tuple(Path(p) for p in paths), rows, {}, ())
        dims: tuple[str, ...] = ()
        source = CanonicalSource(name, name, paths, columns, dims, summary)
        return source, None
    if entry.table != name:
        raise InputError(
            f"{folder} holds ingested {entry.table}, not {name} (sources.{name}.path)",
            hint=f"point sources.{name} at the {name} folder of the ingested data",
        )
    summary = SourceSummary(
        name, tuple(Path(f) for f in entry.files), entry.rows, entry.mapping, entry.unmapped
    )
    source = CanonicalSource(
        name=name,
        table=entry.table,
        paths=paths,
        columns=entry.columns,
        dimensions=entry.dimensions,
        summary=summary,
        findings=entry.findings,
        data_end=entry.data_end,
    )
    return source, entry
