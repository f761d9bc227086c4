"""Find a source's files and scan them: paths and globs, formats, the first rows, and the
precise error for a file that is missing, empty or unreadable.

Every file becomes a LazyFrame with `_file` (the export's name) and `_row` (the row as a
spreadsheet shows it); a glob's files are concatenated. Only the first rows are read up front
(`SNIFF_ROWS`, for sniffing and for failing early with the file and line); a malformed line
further down surfaces when a report collects, and `explain_read_error` then names it.
`cscli.adapters.sniff` decides what a file's bytes are before polars reads it;
`cscli.engine.polars.loader.diagnose` finds the line at fault.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL, Adapter
from cscli.adapters.sniff import Prepared, prepare
from cscli.engine.polars.compile import sql
from cscli.engine.polars.loader.database import Reader, read_database
from cscli.engine.polars.loader.diagnose import (
    DELIMITER_WORDS,
    Swallowed,
    csv_structure_error,
    swallowed_records,
    wrong_delimiter,
    yaml_delimiter,
)
from cscli.engine.polars.loader.source import QualityCheck
from cscli.errors import InputError
from cscli.schema import DEFAULT_ANCHOR

if TYPE_CHECKING:
    from cscli.config import SourceConfig

#: rows read up front: for sniffing formats and placeholders, and to fail early
SNIFF_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Scanned:
    """A source's files as scanned: one LazyFrame over all of them, the file's own columns
    (`present`, without `_file`/`_row`) and the first rows (`sample`)."""

    files: tuple[Path, ...]
    fmt: str
    ready: tuple[Prepared, ...]
    frame: pl.LazyFrame
    present: list[str]
    sample: pl.DataFrame
    #: what messages call a database source (its masked URI and table), else ""
    shown: str = ""
    #: a database source's reader (the rows it reads can be narrowed to a run's windows)
    reader: Reader | None = None

    @property
    def file(self) -> str:
        """The file messages name: the first one (a database source: its masked URI)."""
        return self.shown or str(self.files[0])

    @property
    def text_file(self) -> bool:
        """Only CSV/TSV are decoded lossily, and only they pass through Excel."""
        return self.fmt in ("csv", "tsv")


def scan_source(name: str, cfg: SourceConfig, base_dir: Path, adapter: Adapter) -> Scanned:
    """The files of a source as one LazyFrame, its header checked and a preset's metadata
    rows removed, with its first rows read (so that an unreadable file fails here)."""
    if cfg.is_catalog:
        from cscli.engine import refuse_catalog_tables

        refuse_catalog_tables({name: cfg}, "polars")
    if cfg.is_database:
        return _scan_database(name, cfg, base_dir, adapter)
    files = _resolve_paths(cfg, base_dir, name)
    fmt = cfg.format or _format_of(files[0])
    ready = [prepare(f, fmt, cfg.encoding, f"sources.{name}") for f in files]
    frames = [_scan(r, fmt, cfg) for r in ready]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    present = data_columns(_schema(frame, ready, fmt, cfg))
    _check_header(present, fmt, cfg, name, str(files[0]))
    frame = _drop_metadata_rows(frame, adapter, name, present)
    sample = _sample(frame, ready, fmt, cfg)
    return Scanned(tuple(files), fmt, tuple(ready), frame, present, sample)


def _scan_database(name: str, cfg: SourceConfig, base_dir: Path, adapter: Adapter) -> Scanned:
    """A database table or query read as a CSV would be: text columns, `_file`, `_row`."""
    db, frame, reader = read_database(name, cfg, base_dir, _anchor_columns(name, cfg, adapter))
    present = data_columns(frame.collect_schema())
    frame = _drop_metadata_rows(frame, adapter, name, present)
    # the first rows by a LIMIT (polars does not pass head's length down to the scan)
    reader.first = reader.rows(set(present), SNIFF_ROWS)
    first = reader.first.lazy()
    first = first.with_row_index(ROW_COL, offset=1).with_columns(pl.lit(db.label).alias(FILE_COL))
    sample = _drop_metadata_rows(first, adapter, name, present).collect()
    return Scanned((Path(db.label),), "database", (), frame, present, sample, db.label, reader)


def _anchor_columns(name: str, cfg: SourceConfig, adapter: Adapter) -> tuple[str, ...]:
    """The export columns that may hold a source's anchor (for `since:`), first one first:
    the source's own `columns:` entry, else the preset's, else the canonical name."""
    canonical = DEFAULT_ANCHOR.get(name)
    if canonical is None or cfg.since is None:
        return ()
    given = cfg.columns.get(canonical) or adapter.column_map.get(name, {}).get(canonical)
    if isinstance(given, str):
        return (given, canonical)
    if isinstance(given, tuple):
        return (*given, canonical)
    return (canonical,)  # SQL over export columns cannot be pushed into the database


def data_columns(schema: pl.Schema) -> list[str]:
    """The columns of a scanned frame that come from the file (not `_file`/`_row`)."""
    return [c for c in schema.names() if c not in (FILE_COL, ROW_COL)]


def first_line(e: BaseException) -> str:
    """An exception's first line, as quoted in a message (its type when it says nothing)."""
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


# --- paths and formats --------------------------------------------------------------------


def _resolve_paths(cfg: SourceConfig, base_dir: Path, name: str) -> list[Path]:
    """The files of a source. A path with glob characters (`*?[`) is a pattern, unless a
    file of that very name exists (`tickets [march].csv` is read as named)."""
    files: list[Path] = []
    for pattern in cfg.paths:
        full = pattern if Path(pattern).is_absolute() else str(base_dir / pattern)
        try:
            if glob.has_magic(full) and not os.path.lexists(full):
                matches = sorted(Path(p) for p in glob.glob(full) if Path(p).is_file())
                if not matches:
                    raise InputError(
                        f"no file matches {_short(pattern)!r} (sources.{name}.path, relative "
                        f"to {base_dir})",
                        hint="check the pattern; paths are relative to the config file",
                    )
                files.extend(matches)
            else:
                files.append(_regular_file(Path(full), name))
        except OSError as e:  # a name too long for the file system, a loop of links, …
            raise InputError(
                f"cannot use the path {_short(pattern)!r} (sources.{name}.path): {e.strerror or e}",
                hint="check the path; paths in the config are relative to the config file",
            ) from e
    return files


def _regular_file(p: Path, name: str) -> Path:
    if p.is_file():
        return p
    if p.is_dir():
        raise InputError(
            f"{_short(str(p))} is a folder, not a file (sources.{name}.path)",
            hint=f"name the files in it, e.g. path: {_short(str(p))}/*.csv",
        )
    if os.path.lexists(p):
        what = "a broken link" if p.is_symlink() and not p.exists() else "not a regular file"
        raise InputError(
            f"{_short(str(p))} is {what} (sources.{name}.path)",
            hint="point the source at an exported file (a device, pipe or socket is not read)",
        )
    raise InputError(
        f"file not found: {_short(str(p))} (sources.{name}.path)",
        hint="paths in the config are relative to the config file's directory",
    )


def _short(text: str, most: int = 160) -> str:
    """A path as shown in one line of a message: its start and end when it is very long."""
    return text if len(text) <= most else f"{text[: most // 2]}…{text[-most // 2 :]}"


_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    for s in reversed(suffixes):
        if s in _FORMATS:
            return _FORMATS[s]
        if s in (".xlsx", ".xls", ".xlsm", ".ods"):
            raise InputError(
                "spreadsheet workbooks are not read",
                file=str(path),
                hint="save the sheet as CSV (in Excel: File → Save As → CSV UTF-8), and point "
                "the source at the .csv file",
            )
    raise InputError(
        f"cannot tell the format of {path.name} from its extension",
        file=str(path),
        hint="set `format:` on the source (csv, tsv, parquet, json or jsonl)",
    )


def _separator(fmt: str, cfg: SourceConfig) -> str:
    return cfg.delimiter or ("\t" if fmt == "tsv" else ",")


# --- scanning -----------------------------------------------------------------------------


def _scan(ready: Prepared, fmt: str, cfg: SourceConfig) -> pl.LazyFrame:
    """One file as a LazyFrame with `_file` and a 1-based `_row` as a spreadsheet shows it.

    polars reads `ready.path` (the export, or its UTF-8 copy); `_file` names the export."""
    path = ready.path
    if fmt in ("csv", "tsv"):
        lf = pl.scan_csv(
            path,
            separator=_separator(fmt, cfg),
            infer_schema=False,  # every cell as text: we parse and count failures ourselves
            null_values=list(cfg.null_values) or None,
            row_index_name=ROW_COL,
            row_index_offset=2,  # the header is row 1
            missing_columns="insert",
            # bytes that are not UTF-8 become U+FFFD and are counted (a quality check), so a
            # Latin-1 export is read, and said to be damaged, instead of stopping the report
            encoding="utf8-lossy",
            glob=False,  # a file named `tickets [march].csv` is read as named
        )
    elif fmt == "parquet":
        lf = pl.scan_parquet(path, row_index_name=ROW_COL, row_index_offset=1, glob=False)
    elif fmt == "jsonl":  # polars globs this path in any case: `[` and `*` are escaped
        lf = pl.scan_ndjson(glob.escape(str(path)), row_index_name=ROW_COL, row_index_offset=1)
    else:
        try:
            lf = pl.read_json(path).lazy().with_row_index(ROW_COL, offset=1)
        except pl.exceptions.PolarsError as e:
            raise InputError(
                f"cannot read the JSON: {first_line(e)}",
                file=str(ready.shown),
                hint="a .json export must be one array of records; one record per line is "
                ".jsonl (or set format: jsonl)",
            ) from e
    return lf.with_columns(pl.lit(ready.shown.name).alias(FILE_COL))


def _schema(
    frame: pl.LazyFrame, ready: Sequence[Prepared], fmt: str, cfg: SourceConfig
) -> pl.Schema:
    """The scanned frame's schema: an empty file, or one polars cannot read, is an error."""
    try:
        return frame.collect_schema()
    except pl.exceptions.NoDataError:
        raise InputError(
            "the file is empty",
            file=str(_first_empty(ready, fmt, cfg)),
            hint="export it again: cscli needs a header row and at least one record",
        ) from None
    except (pl.exceptions.PolarsError, OSError) as e:
        raise _unreadable(ready, fmt, cfg, e) from e


def _first_empty(files: Sequence[Prepared], fmt: str, cfg: SourceConfig) -> Path:
    """Which file of a glob has no header at all (polars names none)."""
    for ready in files:
        try:
            _scan(ready, fmt, cfg).collect_schema()
        except pl.exceptions.NoDataError:
            return ready.shown
    return files[0].shown


def _unreadable(
    files: Sequence[Prepared], fmt: str, cfg: SourceConfig, error: BaseException
) -> InputError:
    """The precise error for a file polars could not read: the line and the fix for a
    malformed CSV, else polars' own first line (naming the file, when a glob has several, by
    reading each alone)."""
    if fmt in ("csv", "tsv"):
        for ready in files:
            found = csv_structure_error(ready.path, _separator(fmt, cfg), ready.shown)
            if found is not None:
                return found
    hint = None
    if fmt == "parquet":
        hint = "is it really a Parquet file? set `format:` on the source if the extension lies"
    culprit = files[0]
    if len(files) > 1:
        for ready in files:
            try:
                _scan(ready, fmt, cfg).head(SNIFF_ROWS).collect()
            except (pl.exceptions.PolarsError, OSError) as e:
                culprit, error = ready, e
                break
    return InputError(
        f"cannot read the file: {first_line(error)}", file=str(culprit.shown), hint=hint
    )


def _check_header(
    present: Sequence[str], fmt: str, cfg: SourceConfig, name: str, file: str
) -> None:
    if fmt not in ("csv", "tsv"):
        return
    sep = _separator(fmt, cfg)
    actual = wrong_delimiter(present, sep)
    if actual is not None:
        raise InputError(
            f"the header is one column, {present[0]!r}: the file is "
            f"{DELIMITER_WORDS[actual]}-separated, not {DELIMITER_WORDS.get(sep, repr(sep))}-"
            "separated",
            file=file,
            hint=f"set delimiter: {yaml_delimiter(actual)} on sources.{name}",
        )


def _drop_metadata_rows(
    frame: pl.LazyFrame, adapter: Adapter, name: str, present: Sequence[str]
) -> pl.LazyFrame:
    """Remove the rows a preset knows are not records (e.g. Qualtrics' second and third
    header rows). Row numbers were assigned before, so they still match the file."""
    rule = adapter.metadata_rows.get(name)
    if not rule:
        return frame
    expr = sql(rule)
    if not set(expr.meta.root_names()) <= set(present):
        return frame
    return frame.filter(~expr.fill_null(False))


def _sample(
    frame: pl.LazyFrame, files: Sequence[Prepared], fmt: str, cfg: SourceConfig
) -> pl.DataFrame:
    """The first rows (for sniffing formats and placeholders), read up front so that an
    unreadable file fails here, with its file and line.

    A file with a header and no records is not an error here: a report over a quiet day has
    zero records (and says n = 0); `cscli validate` reports it (see `no_records_error`)."""
    try:
        return frame.head(SNIFF_ROWS).collect()
    except (pl.exceptions.PolarsError, OSError) as e:
        raise _unreadable(files, fmt, cfg, e) from e


# --- findings and errors of the files -----------------------------------------------------


def swallowed_checks(scanned: Scanned, cfg: SourceConfig) -> list[QualityCheck]:
    """A finding per CSV/TSV file whose quoted fields swallow lines that look like records
    (see `swallowed_records`): the swallowing records are flagged, and the finding says
    which lines and how many records were lost into them.

    A finding, not an error: the other records are read correctly and counted, the issue is
    counted and named with its lines, and `--strict` (or `validate` in CI) turns it into exit
    2; a text column legitimately spans lines, so only the lines' shape hints that a quote
    went astray."""
    sep = _separator(scanned.fmt, cfg)
    checks = []
    for ready in scanned.ready:
        found = swallowed_records(ready.path, sep)
        if found is not None:
            checks.append(_swallowed_check(ready.shown.name, found))
    return checks


def _swallowed_check(name: str, found: Swallowed) -> QualityCheck:
    spans = ", ".join(f"{a}–{b}" for _, a, b, _ in found.spans)
    more = len(found.rows) - len(found.spans)
    if more:
        spans += f" and {more:,} more"
    first = found.spans[0][1]
    fields = "a quoted field spans" if len(found.rows) == 1 else "quoted fields span"
    predicate = (pl.col(FILE_COL) == name) & pl.col(ROW_COL).is_in(list(found.rows))
    return QualityCheck(
        issue=f"{fields} lines {spans}, swallowing {found.lines:,} line(s) that look like records",
        predicate=predicate,
        effect=f"those lines are read as text inside one field, not as records: check the "
        f'quote that opens on line {first} (a quote inside a field is written twice, "")',
    )


def no_records_error(name: str, files: Sequence[Path]) -> InputError:
    """The error for a source whose files have a header but no records."""
    where = files[0].name if len(files) == 1 else f"all {len(files)} files"
    verb = "has" if len(files) == 1 else "have"
    return InputError(
        f"no data rows: {where} {verb} a header but no records (sources.{name})",
        file=str(files[0]),
        hint=f"export data for the period, or remove sources.{name} from the config",
    )


def structure_error(sources: Mapping[str, SourceConfig], base_dir: Path) -> InputError | None:
    """The first malformed line (unterminated quote, too many fields) in any CSV/TSV file of
    the sources, by a full streaming pass over each (see `csv_structure_error`).

    The loader reads only the first rows up front, and polars parses only the columns a query
    needs, so an extra field in an unused last column can pass a report unnoticed; `cscli
    validate` calls this to be sure."""
    for name, cfg in sources.items():
        if cfg.is_database or cfg.is_catalog:
            continue
        try:
            files = _resolve_paths(cfg, base_dir, name)
            fmt = cfg.format or _format_of(files[0])
        except InputError:
            continue  # reported precisely when the source is loaded
        if fmt in ("csv", "tsv"):
            for path in files:
                ready = prepare(path, fmt, cfg.encoding, f"sources.{name}")
                found = csv_structure_error(ready.path, _separator(fmt, cfg), ready.shown)
                if found is not None:
                    return found
    return None


def explain_read_error(
    sources: Mapping[str, SourceConfig], base_dir: Path, error: BaseException
) -> InputError:
    """Translate an error raised while collecting a report into the file and line at fault.

    The loader reads only the first rows of each file up front; a malformed line further down
    surfaces when the report collects. This looks for it in every source's files, and falls
    back to polars' own first line."""
    return structure_error(sources, base_dir) or InputError(
        f"cannot read the data: {first_line(error)}"
    )
