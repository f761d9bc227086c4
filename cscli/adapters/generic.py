"""Read CSV, TSV, Parquet and JSON/JSONL exports into a canonical LazyFrame.

Every cell that must become a timestamp, number or boolean is parsed with `strict=False`, and
the raw text is kept beside it (as `__raw__<column>`) so that a quality check can count the
cells that did not parse: nothing is dropped silently. Projection pushdown removes the raw
columns from every query that does not ask for them.

Timestamps: ISO-8601 with an offset is converted to UTC; a naive stamp is read in the source's
`timezone` (ambiguous fall-back hours take the earlier instant; stamps inside a spring-forward
gap do not exist and are counted as unreadable). Formats are sniffed once per column from the
first rows unless `timestamp_format` is given; the full column is then parsed with that one
explicit format, which polars does about twice as fast as `try_parse_dates`. Numeric dates
whose day/month order is not given (`03/04/2026`) are an error that asks for the format.

Text is read as UTF-8; bytes that are not UTF-8 (a Latin-1 export) are replaced by `�` and
counted, so that one accented name does not stop a report. Beyond cells that do not parse,
the loader adds the findings of `cscli.adapters.findings` (placeholders, ids Excel mangled,
duplicate ids, …); the error path (malformed CSV lines, day/month orders it will not guess)
is `cscli.adapters.diagnose`. Vendor presets (`cscli.adapters.presets`) only name columns:
every export is read here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import glob
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from cscli.adapters.base import (
    FILE_COL,
    RAW_PREFIX,
    ROW_COL,
    Adapter,
    ColumnSource,
    LoadedSource,
    Offset,
    QualityCheck,
    header_zone,
    normalize,
)
from cscli.adapters.diagnose import (
    DELIMITER_WORDS,
    Swallowed,
    csv_structure_error,
    date_order_error,
    swallowed_records,
    wrong_delimiter,
    yaml_delimiter,
)
from cscli.adapters.findings import (
    calendar_checks,
    is_placeholder,
    is_placeholder_series,
    number_checks,
    placeholder_check,
    placeholders_in,
    record_checks,
    scientific_id_check,
    unreadable_check,
    usable_number,
)
from cscli.adapters.sniff import Prepared, prepare
from cscli.config import CalendarAssignment, SourceConfig
from cscli.engine.polars.measures import invalid_expr, measure_expr
from cscli.errors import ConfigError, ConfigProblem, InputError
from cscli.kpis.compile import sql
from cscli.kpis.measures import measures_for
from cscli.schema import FREE_TEXT, SURVEY_TYPES, TABLES, Column, Table, is_dimension

UTC = "UTC"
SNIFF_ROWS = 1000

#: Candidate timestamp formats, most specific first. `%.f` accepts no fraction as well,
#: `%#z` accepts `Z`, `+01:00` and `+0100`.
TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S %#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M%#z",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)

TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0")
BOOL_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}

DERIVED_PREFIX = "__derived__"


def load_source(
    name: str, cfg: SourceConfig, base_dir: Path, adapter: Adapter, config_file: str
) -> LoadedSource:
    """Resolve the files of a source, map and coerce its columns, and add its measures."""
    table = TABLES[name]
    files = _resolve_paths(cfg, base_dir, name)
    fmt = cfg.format or _format_of(files[0])
    file = str(files[0])
    ready = [prepare(f, fmt, cfg.encoding, f"sources.{name}") for f in files]
    frames = [_scan(r, fmt, cfg) for r in ready]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    try:
        schema = frame.collect_schema()
    except pl.exceptions.NoDataError:
        raise InputError(
            "the file is empty",
            file=str(_first_empty(ready, fmt, cfg)),
            hint="export it again: cscli needs a header row and at least one record",
        ) from None
    except (pl.exceptions.PolarsError, OSError) as e:
        raise _unreadable(ready, fmt, cfg, e) from e
    present = [c for c in schema.names() if c not in (FILE_COL, ROW_COL)]
    _check_header(present, fmt, cfg, name, file)
    frame = _drop_metadata_rows(frame, adapter, name, present)
    sample = _sample(frame, ready, fmt, cfg)

    file_columns = list(present)
    if cfg.event_log is not None:
        frame = reduce_events(frame, cfg, present, file, name, sample)
        schema = frame.collect_schema()
        present = [c for c in schema.names() if c not in (FILE_COL, ROW_COL)]
    preset = adapter.resolve(name, present)
    constant_type = _constant_survey_type(preset, present)
    frame, derived = _derive(frame, cfg, adapter, preset, present, name, file)
    schema = frame.collect_schema()
    columns_of = _map_columns(
        table, cfg, adapter, preset, present, derived, constant_type, file, config_file
    )
    survey_type = cfg.survey_type or (
        None if "survey_type" in columns_of else constant_type or adapter.survey_type
    )
    if cfg.event_log is None and derived:
        sample = _derive_sample(sample, derived, name, file)
    sniffed = _sniff_timestamps(frame, sample, table, columns_of, schema, cfg, adapter, file)
    placeholders = placeholders_in(sample, columns_of, schema, cfg.null_values)

    exprs: list[pl.Expr] = [pl.col(FILE_COL), pl.col(ROW_COL)]
    checks: list[QualityCheck] = []
    parsed_of: dict[str, pl.Expr] = {}
    # only CSV/TSV are decoded lossily, and only they pass through Excel
    text_file = fmt in ("csv", "tsv")
    for canonical, src in columns_of.items():
        parsed, column_exprs, column_checks = _canonical_column(
            table.column(canonical),
            src,
            schema[src.name],
            cfg,
            sniffed.get(canonical),
            adapter.scale.get(name, {}).get(canonical) if src.from_preset else None,
            placeholders.get(src.name, ()),
            sample if text_file else None,
        )
        parsed_of[canonical] = parsed
        exprs.extend(column_exprs)
        checks.extend(column_checks)

    offsets = _offsets(adapter, name, columns_of, present, schema)
    for canonical, (offset, duration_columns) in offsets.items():
        expr, offset_checks = _offset_expr(
            canonical, offset, duration_columns, parsed_of, schema, cfg.decimal_comma
        )
        exprs.extend(
            pl.col(c).alias(f"{RAW_PREFIX}{canonical}.{i}") for i, c in enumerate(duration_columns)
        )
        exprs.append(expr.alias(canonical))
        checks.extend(offset_checks)

    columns = set(columns_of) | set(offsets)
    if name == "surveys" and survey_type in SURVEY_TYPES:
        exprs.append(pl.lit(survey_type).alias("survey_type"))
        columns.add("survey_type")
    for canonical, value in table.defaults:
        if canonical not in columns:
            exprs.append(pl.lit(value).alias(canonical))
            columns.add(canonical)
    for extra in cfg.extra_columns:
        if extra not in present:
            raise InputError(
                f"extra column {extra!r} is not in the file{_nearest(extra, present)}",
                file=file,
                hint=f"columns present: {', '.join(present)}",
            )
        if table.has(extra):
            raise ConfigError(
                f"sources.{name}.extra_columns: {extra!r} is a canonical column; map it "
                "with `columns:` instead"
            )
        exprs.append(pl.col(extra).cast(pl.String).alias(extra))

    out = frame.select(exprs)
    checks.extend(
        record_checks(
            table,
            columns,
            columns_of,
            schema,
            text_file=text_file,
            declared=cfg.encoding,
            guess=next((r.guess for r in ready if r.guess), None),
            setting=f"sources.{name}",
        )
    )
    if text_file:
        checks.extend(_swallowed_checks(ready, _separator(fmt, cfg)))
    measures = measures_for(name, frozenset(columns))
    if measures:
        out = out.with_columns(measure_expr(m) for m in measures)
        for m in measures:
            checks.append(
                QualityCheck(
                    m.negative_issue,
                    invalid_expr(m),
                    column=m.name,
                    effect=f"excluded from KPIs that use {m.name}",
                )
            )
    available = columns | {m.name for m in measures} | set(cfg.extra_columns)
    if isinstance(cfg.calendar, CalendarAssignment):
        checks.extend(calendar_checks(name, cfg.calendar, available, config_file))
    if cfg.filter:
        out = out.filter(_source_filter(cfg.filter, name, available, config_file))

    dims = tuple(c for c in table.names if c in columns and is_dimension(table, c))
    used = {s.name for s in columns_of.values()} | set(cfg.extra_columns)
    if cfg.event_log is not None:
        log = cfg.event_log
        used |= {c for c in (log.case, log.timestamp, log.activity) if c is not None}
    for _, expression in derived.values():
        used |= set(sql(expression).meta.root_names())
    for _, duration_columns in offsets.values():
        used |= set(duration_columns)
    mapping = {c: s.shown or s.label for c, s in columns_of.items()}
    for canonical, (offset, duration_columns) in offsets.items():
        mapping[canonical] = _offset_label(offset, duration_columns, columns_of)
    return LoadedSource(
        name=name,
        table=table,
        frame=out,
        columns=frozenset(available),
        dimensions=dims + tuple(cfg.extra_columns),
        checks=tuple(checks),
        files=tuple(files),
        mapping=mapping,
        unmapped=tuple(c for c in file_columns if c not in used and c in present),
    )


def _canonical_column(
    column: Column,
    src: ColumnSource,
    dtype: pl.DataType,
    cfg: SourceConfig,
    sniffed: tuple[str, ...] | None,
    factor: float | None,
    tokens: Sequence[str],
    excel_sample: pl.DataFrame | None,
) -> tuple[pl.Expr, list[pl.Expr], list[QualityCheck]]:
    """One canonical column: its parsed expression, the expressions to select (the value,
    and the raw text when a check needs it), and its checks.

    Naive stamps are read in the zone a header names (`Created (Europe/Paris)`) unless the
    source sets `timezone:`; `factor` scales a preset's numbers (ms → s); `excel_sample` (the
    first rows of a CSV/TSV) turns on the scientific-notation check for ids."""
    explicit_zone = "timezone" in cfg.model_fields_set
    zone = (None if explicit_zone else header_zone(src.name)) or cfg.timezone
    parsed, raw_kept = _coerce(column, pl.col(src.name), dtype, cfg, sniffed, zone, factor)
    exprs = [parsed.alias(column.name)]
    checks = []
    raw = pl.col(RAW_PREFIX + column.name)
    if raw_kept or dtype == pl.String:
        exprs.append(pl.col(src.name).alias(RAW_PREFIX + column.name))
    if column.type == "float":
        read = _float(raw, dtype, factor, cfg.decimal_comma)
        checks.extend(number_checks(src, column, read, tokens, text=dtype == pl.String))
    elif raw_kept:
        checks.append(unreadable_check(src, column, _type_words(column), tokens))
    elif tokens and column.name not in FREE_TEXT:
        checks.append(placeholder_check(src.label, raw, tokens))
    if column.required:
        checks.append(
            QualityCheck(
                issue=f"{src.label}: missing value (required)",
                predicate=(raw if raw_kept else pl.col(column.name)).is_null(),
                column=src.label,
                drops_record=True,
                effect="records excluded",
            )
        )
    if excel_sample is not None and dtype == pl.String and column.name.endswith("_id"):
        checks.append(scientific_id_check(src.label, raw, excel_sample, src.name))
    return parsed, exprs, checks


# --- reading ------------------------------------------------------------------------------


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
                f"cannot read the JSON: {_first_line(e)}",
                file=str(ready.shown),
                hint="a .json export must be one array of records; one record per line is "
                ".jsonl (or set format: jsonl)",
            ) from e
    return lf.with_columns(pl.lit(ready.shown.name).alias(FILE_COL))


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
        f"cannot read the file: {_first_line(error)}", file=str(culprit.shown), hint=hint
    )


def _swallowed_checks(files: Sequence[Prepared], sep: str) -> list[QualityCheck]:
    """A finding per CSV/TSV file whose quoted fields swallow lines that look like records
    (see `swallowed_records`): the swallowing records are flagged, and the finding says
    which lines and how many records were lost into them.

    A finding, not an error: the other records are read correctly and counted, the issue is
    counted and named with its lines, and `--strict` (or `validate` in CI) turns it into exit
    2; a text column legitimately spans lines, so only the lines' shape hints that a quote
    went astray."""
    checks = []
    for ready in files:
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


def structure_error(sources: Mapping[str, SourceConfig], base_dir: Path) -> InputError | None:
    """The first malformed line (unterminated quote, too many fields) in any CSV/TSV file of
    the sources, by a full streaming pass over each (see `csv_structure_error`).

    The loader reads only the first rows up front, and polars parses only the columns a query
    needs, so an extra field in an unused last column can pass a report unnoticed; `cscli
    validate` calls this to be sure."""
    for name, cfg in sources.items():
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
        f"cannot read the data: {_first_line(error)}"
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


def no_records_error(name: str, files: Sequence[Path]) -> InputError:
    """The error for a source whose files have a header but no records."""
    where = files[0].name if len(files) == 1 else f"all {len(files)} files"
    verb = "has" if len(files) == 1 else "have"
    return InputError(
        f"no data rows: {where} {verb} a header but no records (sources.{name})",
        file=str(files[0]),
        hint=f"export data for the period, or remove sources.{name} from the config",
    )


# --- derived columns and event logs -------------------------------------------------------


def _derive(
    frame: pl.LazyFrame,
    cfg: SourceConfig,
    adapter: Adapter,
    preset: Mapping[str, str],
    present: Sequence[str],
    name: str,
    file: str,
) -> tuple[pl.LazyFrame, dict[str, tuple[str, str]]]:
    """`columns:` values that are not export columns are SQL expressions over them
    (e.g. `created_at: "date || ' ' || time"`); add each as a column of its own. A preset's
    `Sql` columns are added the same way, when every column they name is in the file and
    neither `columns:` nor a named preset column gives that canonical column.

    Returns the frame and {canonical: (alias, expression)}. A `columns:` value that is
    neither an export column nor valid SQL over export columns is left alone, so that mapping
    reports the nearest column.
    """
    derived: dict[str, tuple[str, str]] = {}
    for canonical, value in cfg.columns.items():
        if value in present:
            continue
        try:
            names = set(sql(value).meta.root_names())
        except Exception:  # not SQL: a misspelt column name, reported by the mapping step
            continue
        unknown = sorted(names - set(present))
        if unknown:
            if " " in value.strip() or "(" in value:
                raise InputError(
                    f"sources.{name}.columns.{canonical}: {value!r} uses "
                    f"{unknown[0]!r}, which is not a column of the file"
                    f"{_nearest(unknown[0], present)}",
                    file=file,
                    hint=f"columns present: {', '.join(present)}",
                )
            continue
        derived[canonical] = (DERIVED_PREFIX + canonical, value)
    for canonical, value in adapter.sql_columns(name).items():
        if canonical in cfg.columns or canonical in preset:
            continue
        if set(sql(value).meta.root_names()) <= set(present):
            derived[canonical] = (DERIVED_PREFIX + canonical, value)
    if not derived:
        return frame, derived
    return frame.with_columns(sql(e).alias(a) for a, e in derived.values()), derived


def _derive_sample(
    sample: pl.DataFrame, derived: Mapping[str, tuple[str, str]], name: str, file: str
) -> pl.DataFrame:
    """The derived columns over the first rows: a SQL expression that fails there (a strict
    CAST of a text cell, say) is reported now, with the column, rather than as a crash."""
    for canonical, (alias, expression) in derived.items():
        try:
            sample = sample.with_columns(sql(expression).alias(alias))
        except pl.exceptions.PolarsError as e:
            raise InputError(
                f"sources.{name}.columns.{canonical}: {expression!r} fails on the first rows: "
                f"{_first_line(e)}",
                file=file,
                hint="use TRY_CAST(x AS DOUBLE) instead of CAST: a cell that does not convert "
                "then gives null, and is counted",
            ) from e
    return sample


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
                f"event_log.{key}: column {col!r} is not in the file{_nearest(col, present)}",
                file=file,
                hint=f"columns present: {', '.join(present)}",
            )
    raw = pl.col(log.timestamp)
    dtype = frame.collect_schema()[log.timestamp]
    fmt = log.timestamp_format or (
        cfg.timestamp_format if isinstance(cfg.timestamp_format, str) else None
    )
    if fmt is None and dtype == pl.String:
        head = sample if sample is not None else frame.head(SNIFF_ROWS).collect()
        values = head[log.timestamp].drop_nulls().str.strip_chars()
        chosen = _cover(values) if len(values) else (TIMESTAMP_FORMATS[0],)
        if not chosen:
            raise _unreadable_stamps(
                values, file, log.timestamp, f"sources.{name}.event_log.timestamp_format"
            )
        formats = chosen
    else:
        formats = (fmt,) if fmt else (TIMESTAMP_FORMATS[0],)
    at = _timestamp(raw, dtype, cfg.timezone, formats)
    events = (
        frame.with_columns(_at=at)
        .filter(pl.col("_at").is_not_null())
        .sort(log.case, "_at", ROW_COL, maintain_order=True)
    )
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
            aggs.append(act.is_in(list(log.reopened)).cast(pl.Int64).sum().alias("reopens"))
        else:
            back = resolved.shift(1).fill_null(False) & ~resolved
            aggs.append(back.cast(pl.Int64).sum().alias("reopens"))
    if log.closed:
        ended = act.is_in(list(log.closed)).fill_null(False)
        position = pl.int_range(pl.len())
        last_other = position.filter(~ended).max()
        run = pl.col("_at").filter(ended & (last_other.is_null() | (position > last_other)))
        aggs.append(run.min().alias("closed_at"))
    if log.reassigned:
        aggs.append(act.is_in(list(log.reassigned)).cast(pl.Int64).sum().alias("reassignments"))
    derived_names = {e.meta.output_name() for e in aggs}
    skip = {log.case, FILE_COL, ROW_COL, *derived_names}
    aggs += [pl.col(c).last() for c in present if c not in skip]
    reduced = events.group_by(log.case, maintain_order=True).agg(aggs)
    id_column = TABLES[name].id_column
    # the case is the record's id unless `columns:` maps the id to something else
    case = pl.col(log.case).cast(pl.String)
    return reduced.with_columns(case.alias(log.case if id_column in cfg.columns else id_column))


# --- columns ------------------------------------------------------------------------------


def _constant_survey_type(preset: dict[str, str], present: Sequence[str]) -> str | None:
    """A preset's `infer` may give the survey type as a value rather than a column."""
    value = preset.get("survey_type")
    if value is not None and value not in present and value in SURVEY_TYPES:
        del preset["survey_type"]
        return value
    return None


def _map_columns(
    table: Table,
    cfg: SourceConfig,
    adapter: Adapter,
    preset: Mapping[str, str],
    present: Sequence[str],
    derived: Mapping[str, tuple[str, str]],
    constant_type: str | None,
    file: str,
    config_file: str,
) -> dict[str, ColumnSource]:
    """canonical name → where its values come from, for every canonical column available.

    Precedence: the source's `columns:` (a name or SQL), then the preset's named columns, then
    the preset's SQL columns, then a file column with the canonical name itself.
    """
    for canonical in cfg.columns:
        if not table.has(canonical):
            raise ConfigError(
                [
                    ConfigProblem(
                        config_file,
                        None,
                        None,
                        f"sources.{table.name}.columns: {canonical!r} is not a canonical "
                        f"{table.name} column{_nearest(canonical, table.names)}",
                    )
                ],
                hint=f"canonical columns: {', '.join(table.names)}",
            )
    by_norm = {normalize(p): p for p in present}
    mapping: dict[str, ColumnSource] = {}
    for column in table.columns:
        c = column.name
        if c in derived:
            alias, expression = derived[c]
            mapping[c] = ColumnSource(alias, c, from_preset=c not in cfg.columns, shown=expression)
        elif c in cfg.columns:
            export = cfg.columns[c]
            if export not in present:  # as loose as preset names: case, spaces, zone suffix
                export = by_norm.get(normalize(export), export)
            if export not in present:
                raise InputError(
                    f"column {export!r} (mapped to {c}) is not in the file"
                    f"{_nearest(export, present)}",
                    file=file,
                    hint=f"columns present: {', '.join(present)}",
                )
            mapping[c] = ColumnSource(export, export)
        elif c in preset:
            mapping[c] = ColumnSource(preset[c], preset[c], from_preset=True)
        elif c in present:
            mapping[c] = ColumnSource(c, c)
    if table.name == "surveys" and cfg.survey_type and cfg.survey_type not in SURVEY_TYPES:
        if cfg.survey_type not in present:
            raise InputError(
                f"survey_type {cfg.survey_type!r} is neither a survey type "
                f"({', '.join(SURVEY_TYPES)}) nor a column of the file"
                f"{_nearest(cfg.survey_type, present)}",
                file=file,
            )
        mapping["survey_type"] = ColumnSource(cfg.survey_type, cfg.survey_type)
    constant = table.name == "surveys" and (
        cfg.survey_type in SURVEY_TYPES
        or adapter.survey_type in SURVEY_TYPES
        or constant_type is not None
    )
    missing = [
        c for c in table.required if c not in mapping and not (c == "survey_type" and constant)
    ]
    if missing:
        hints = [f"{m}{_nearest(m, present)}" for m in missing]
        fix = adapter.hints.get(missing[0]) or (
            f'map an export column onto a canonical name with `columns: {{{missing[0]}: "Export '
            f'name"}}` in sources.{table.name}'
        )
        if missing == ["survey_type"] and not adapter.hints.get("survey_type"):
            fix = f"set sources.{table.name}.survey_type: csat (or nps, ces, asat, or a column)"
        raise InputError(
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(hints)}",
            file=file,
            hint=f"columns present: {', '.join(present)}. {fix[0].upper()}{fix[1:]}",
        )
    return mapping


def _offsets(
    adapter: Adapter,
    name: str,
    columns_of: Mapping[str, ColumnSource],
    present: Sequence[str],
    schema: pl.Schema,
) -> dict[str, tuple[Offset, tuple[str, ...]]]:
    """The preset's offsets usable here: target not mapped, base mapped, durations present."""
    by_norm = {normalize(c): c for c in present}
    usable: dict[str, tuple[Offset, tuple[str, ...]]] = {}
    for canonical, offset in adapter.offsets.get(name, {}).items():
        if canonical in columns_of or offset.base not in columns_of:
            continue
        actual = tuple(by_norm.get(normalize(c)) for c in offset.columns)
        if any(a is None for a in actual):
            continue
        names = tuple(a for a in actual if a is not None)
        if offset.when and not set(sql(offset.when).meta.root_names()) <= set(schema.names()):
            continue
        usable[canonical] = (offset, names)
    return usable


def _offset_expr(
    canonical: str,
    offset: Offset,
    duration_columns: tuple[str, ...],
    parsed_of: Mapping[str, pl.Expr],
    schema: pl.Schema,
    decimal_comma: bool = False,
) -> tuple[pl.Expr, list[QualityCheck]]:
    """base + Σ durations × unit seconds (where `when` holds), and a check per duration
    column counting cells that are not numbers."""
    checks = []
    total: pl.Expr | None = None
    for i, c in enumerate(duration_columns):
        value = _number(pl.col(c), schema[c], decimal_comma)
        total = value if total is None else total + value
        raw = pl.col(f"{RAW_PREFIX}{canonical}.{i}")
        if schema[c] == pl.String:
            checks.append(
                QualityCheck(
                    issue=f"{c}: cannot read as a number",
                    predicate=raw.is_not_null()
                    & _number(raw, pl.String(), decimal_comma).is_null()
                    & ~is_placeholder(raw),
                    column=c,
                    effect=f"{canonical} read as missing",
                )
            )
    assert total is not None
    micros = (total * offset.unit * 1_000_000).round().cast(pl.Int64, strict=False)
    value = parsed_of[offset.base] + pl.duration(microseconds=micros)
    if offset.when:
        value = pl.when(sql(offset.when).fill_null(False)).then(value)
    return value, checks


def _offset_label(
    offset: Offset, duration_columns: tuple[str, ...], columns_of: Mapping[str, ColumnSource]
) -> str:
    unit = {60.0: "minutes", 3600.0: "hours", 1.0: "seconds", 0.001: "ms"}.get(
        offset.unit, f"× {offset.unit:g} s"
    )
    base = columns_of[offset.base].label
    label = f"{base} + {' + '.join(duration_columns)} ({unit})"
    return label + (f" where {offset.when}" if offset.when else "")


def _nearest(word: str, options: Sequence[str]) -> str:
    shown = [o for o in options if not o.startswith(DERIVED_PREFIX)]
    match = difflib.get_close_matches(word, shown, n=1, cutoff=0.5)
    if not match:  # case-insensitive: "created at" vs "Created at"
        lowered = {o.lower(): o for o in shown}
        found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.5)
        match = [lowered[found[0]]] if found else []
    return f" (nearest: {match[0]!r})" if match else ""


def _type_words(column: Column) -> str:
    return {
        "datetime": "a date-time",
        "float": "a number",
        "int": "a whole number",
        "bool": "true/false",
        "string": "text",
    }[column.type]


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


# --- parsing ------------------------------------------------------------------------------


def _unreadable_stamps(values: pl.Series, file: str, column: str, setting: str) -> InputError:
    ordered = date_order_error(values, file=file, column=column, setting=setting)
    if ordered is not None:
        return ordered
    return InputError(
        f"cannot read {values[0]!r} as a date-time",
        file=file,
        column=column,
        hint=f'set {setting} (strftime, e.g. "%d/%m/%Y %H:%M")',
    )


def _sniff_timestamps(
    frame: pl.LazyFrame,
    sample: pl.DataFrame,
    table: Table,
    columns_of: Mapping[str, ColumnSource],
    schema: pl.Schema,
    cfg: SourceConfig,
    adapter: Adapter,
    file: str,
) -> dict[str, tuple[str, ...]]:
    """canonical timestamp column → the formats its text cells use (from the first rows).

    The preset's `timestamp_format` is tried first, and kept when it reads the sample."""
    todo = {
        c: s.name
        for c, s in columns_of.items()
        if table.column(c).type == "datetime"
        and schema[s.name] == pl.String
        and cfg.format_for(c) is None
    }
    if not todo:
        return {}
    head = (
        sample
        if all(e in sample.columns for e in todo.values())
        else frame.select(list(set(todo.values()))).head(SNIFF_ROWS).collect()
    )
    formats: dict[str, tuple[str, ...]] = {}
    for canonical, export in todo.items():
        values = head[export].drop_nulls().str.strip_chars()
        values = values.filter(~is_placeholder_series(values))
        if values.is_empty():
            formats[canonical] = (adapter.timestamp_format or TIMESTAMP_FORMATS[0],)
            continue
        chosen = _cover(values, adapter.timestamp_format)
        if not chosen:
            label = columns_of[canonical].label
            raise _unreadable_stamps(values, file, label, f"sources.{table.name}.timestamp_format")
        formats[canonical] = chosen
    return formats


def _cover(values: pl.Series, preferred: str | None = None) -> tuple[str, ...]:
    """The fewest candidate formats (at most 3, greedily) that read the sampled values.

    One format is the rule; a second covers exports that drop seconds or offsets on some rows.
    Empty when no format reads even half of the sample: the column needs `timestamp_format`.
    A `preferred` format (the preset's) that reads every value is taken alone.
    """
    if (
        preferred is not None
        and values.str.to_datetime(preferred, strict=False).is_not_null().all()
    ):
        return (preferred,)
    hits = {f: values.str.to_datetime(f, strict=False).is_not_null() for f in TIMESTAMP_FORMATS}
    chosen: list[str] = []
    covered = pl.Series([False] * len(values))
    while len(chosen) < 3 and not covered.all():
        best = max(TIMESTAMP_FORMATS, key=lambda f: (hits[f] & ~covered).sum())
        gain = int((hits[best] & ~covered).sum())
        if gain == 0:
            break
        chosen.append(best)
        covered = covered | hits[best]
    if covered.sum() < len(values) / 2:
        return ()
    return tuple(chosen)


def _number(raw: pl.Expr, dtype: pl.DataType, decimal_comma: bool = False) -> pl.Expr:
    """A number from text (trimmed) or from any numeric type; unreadable → null.

    With `decimal_comma`, text numbers are written `1,5`; a thousands separator (`1.234,5`)
    is not read (the cell is counted as unreadable rather than guessed)."""
    if dtype == pl.String:
        text = raw.str.strip_chars()
        if decimal_comma:
            text = (
                pl.when(text.str.contains(".", literal=True))
                .then(None)
                .otherwise(text.str.replace(",", ".", literal=True))
            )
        return text.cast(pl.Float64, strict=False).fill_nan(None)
    return raw.cast(pl.Float64, strict=False).fill_nan(None)


def _float(
    raw: pl.Expr, dtype: pl.DataType, factor: float | None, decimal_comma: bool = False
) -> pl.Expr:
    """A float column as read (scaled by `factor`), before `usable_number`: unreadable text is
    null, inf and a numeric file's NaN are kept for the range check to count."""
    num = (
        _number(raw, dtype, decimal_comma)
        if dtype == pl.String
        else raw.cast(pl.Float64, strict=False)
    )
    return num * factor if factor is not None else num


def _coerce(
    column: Column,
    raw: pl.Expr,
    dtype: pl.DataType,
    cfg: SourceConfig,
    sniffed: tuple[str, ...] | None,
    zone: str,
    factor: float | None = None,
) -> tuple[pl.Expr, bool]:
    """(canonical expression, whether the raw value must be kept to count parse failures).

    `zone` reads naive timestamps; `factor` scales numbers (milliseconds → seconds)."""
    is_text = dtype == pl.String
    if column.type == "string":
        text = raw.cast(pl.String)
        return (text.str.strip_chars().str.to_lowercase() if column.code else text), False
    if column.type == "datetime":
        explicit = cfg.format_for(column.name)
        formats = (explicit,) if explicit else sniffed or (TIMESTAMP_FORMATS[0],)
        return _timestamp(raw, dtype, zone, formats), True
    if column.type == "float":
        # raw kept for every file type: inf and NaN are counted (number_checks)
        return usable_number(_float(raw, dtype, factor, cfg.decimal_comma)), True
    if column.type == "int":
        num = _number(raw, dtype, cfg.decimal_comma)
        whole = pl.when(num == num.floor()).then(num.cast(pl.Int64, strict=False))
        return whole, True
    # bool
    if is_text:
        word = raw.str.strip_chars().str.to_lowercase()
        return word.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean), True
    if dtype == pl.Boolean:
        return raw, False
    return raw.cast(pl.Float64, strict=False) != 0, True


#: stamps outside these years are unreadable cells: year 0000, five-digit years and
#: milliseconds read as seconds are typing or export errors, not contacts
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _timestamp(raw: pl.Expr, dtype: pl.DataType, zone: str, formats: tuple[str, ...]) -> pl.Expr:
    """Parse with each format in turn (first success wins); `%z` stamps carry their offset,
    `%s` (seconds since 1970) is UTC by definition, the rest are local time in `zone`.
    A stamp before 1900 or from 2200 on is read as null (and counted as unreadable)."""
    value = _parse_timestamp(raw, dtype, zone, formats)
    return pl.when(value.is_between(EARLIEST, LATEST, closed="left")).then(value)


def _parse_timestamp(
    raw: pl.Expr, dtype: pl.DataType, zone: str, formats: tuple[str, ...]
) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return _localize(raw.dt.cast_time_unit("us"), zone)
        return raw.dt.convert_time_zone(UTC).dt.cast_time_unit("us")
    if dtype == pl.Date:
        return _localize(raw.cast(pl.Datetime("us")), zone)
    text = raw.cast(pl.String).str.strip_chars()
    parts = []
    for fmt in formats:
        parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
        if "%z" in fmt or "%#z" in fmt:
            parts.append(parsed.dt.convert_time_zone(UTC))
        elif "%s" in fmt:
            parts.append(parsed.dt.replace_time_zone(UTC))
        else:
            parts.append(_localize(parsed, zone))
    return parts[0] if len(parts) == 1 else pl.coalesce(parts)


def _localize(naive: pl.Expr, zone: str) -> pl.Expr:
    local = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone(UTC)


def _source_filter(text: str, name: str, available: set[str], config_file: str) -> pl.Expr:
    try:
        expr = sql(text)
        used = set(expr.meta.root_names())
    except Exception as e:  # polars raises several types for SQL it cannot parse
        raise ConfigError(f"sources.{name}.filter: cannot parse {text!r}: {e}") from e
    unknown = sorted(used - available)
    if unknown:
        raise ConfigError(
            [
                ConfigProblem(
                    config_file,
                    None,
                    None,
                    f"sources.{name}.filter: unknown column {unknown[0]!r}"
                    f"{_nearest(unknown[0], sorted(available))}",
                )
            ],
            hint=f"the filter sees canonical names: {', '.join(sorted(available))}",
        )
    return expr.fill_null(False)
