"""Read CSV, TSV, Parquet and JSON/JSONL exports into a canonical LazyFrame.

Every cell that must become a timestamp, number or boolean is parsed with `strict=False`, and
the raw text is kept beside it (as `__raw__<column>`) so that a quality check can count the
cells that did not parse: nothing is dropped silently. Projection pushdown removes the raw
columns from every query that does not ask for them.

Timestamps: ISO-8601 with an offset is converted to UTC; a naive stamp is read in the source's
`timezone` (ambiguous fall-back hours take the earlier instant; stamps inside a spring-forward
gap do not exist and are counted as unreadable). Formats are sniffed once per column from the
first rows unless `timestamp_format` is given; the full column is then parsed with that one
explicit format, which polars does about twice as fast as `try_parse_dates`.
"""

from __future__ import annotations

import difflib
import glob
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from cscli.adapters.base import (
    FILE_COL,
    RAW_PREFIX,
    ROW_COL,
    Adapter,
    LoadedSource,
    QualityCheck,
)
from cscli.config import SourceConfig
from cscli.errors import ConfigError, ConfigProblem, InputError
from cscli.kpis.compile import sql
from cscli.kpis.measures import invalid_expr, measure_expr, measures_for
from cscli.schema import SURVEY_TYPES, TABLES, Column, Table, is_dimension

UTC = "UTC"
SNIFF_ROWS = 1000

#: Candidate timestamp formats, most specific first. `%.f` accepts no fraction as well,
#: `%#z` accepts `Z`, `+01:00` and `+0100`.
TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
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


def load_source(
    name: str, cfg: SourceConfig, base_dir: Path, adapter: Adapter, config_file: str
) -> LoadedSource:
    """Resolve the files of a source, map and coerce its columns, and add its measures."""
    table = TABLES[name]
    files = _resolve_paths(cfg, base_dir, name)
    fmt = cfg.format or _format_of(files[0])
    frames = [_scan(f, fmt, cfg) for f in files]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    try:
        schema = frame.collect_schema()
    except pl.exceptions.NoDataError:
        raise InputError("the file is empty", file=str(files[0])) from None
    except pl.exceptions.PolarsError as e:
        raise InputError(f"cannot read the file: {_first_line(e)}", file=str(files[0])) from e
    present = [c for c in schema.names() if c not in (FILE_COL, ROW_COL)]
    if cfg.event_log is not None:
        frame = reduce_events(frame, cfg, present, str(files[0]), name)
        schema = frame.collect_schema()
        present = [c for c in schema.names() if c not in (FILE_COL, ROW_COL)]
    frame, derived = _derive(frame, cfg, present, name, str(files[0]))
    if derived:
        schema = frame.collect_schema()

    mapping = _map_columns(
        table,
        cfg,
        adapter,
        [*present, *derived],
        str(files[0]),
        config_file,
        aliases={expr: alias for alias, expr in derived.items()},
    )
    sniffed = _sniff_timestamps(frame, table, mapping, schema, cfg, str(files[0]))

    exprs: list[pl.Expr] = [pl.col(FILE_COL), pl.col(ROW_COL)]
    checks: list[QualityCheck] = []
    for canonical, export in mapping.items():
        column = table.column(canonical)
        parsed, raw_kept = _coerce(
            column, pl.col(export), schema[export], cfg, sniffed.get(canonical)
        )
        exprs.append(parsed.alias(canonical))
        label = derived.get(export, export)
        if raw_kept:
            exprs.append(pl.col(export).alias(RAW_PREFIX + canonical))
            checks.append(
                QualityCheck(
                    issue=f"{label}: cannot read as {_type_words(column)}",
                    predicate=pl.col(RAW_PREFIX + canonical).is_not_null()
                    & pl.col(canonical).is_null(),
                    column=export,
                    drops_record=column.required,
                    effect="records excluded" if column.required else "read as missing",
                )
            )
        if column.required:
            missing = pl.col(RAW_PREFIX + canonical if raw_kept else canonical).is_null()
            checks.append(
                QualityCheck(
                    issue=f"{label}: missing value (required)",
                    predicate=missing,
                    column=label,
                    drops_record=True,
                    effect="records excluded",
                )
            )
    columns = set(mapping)
    if name == "surveys" and cfg.survey_type in SURVEY_TYPES:
        exprs.append(pl.lit(cfg.survey_type).alias("survey_type"))
        columns.add("survey_type")
    for canonical, value in table.defaults:
        if canonical not in columns:
            exprs.append(pl.lit(value).alias(canonical))
            columns.add(canonical)
    for extra in cfg.extra_columns:
        if extra not in present:
            raise InputError(
                f"extra column {extra!r} is not in the file{_nearest(extra, present)}",
                file=str(files[0]),
                hint=f"columns present: {', '.join(present)}",
            )
        if table.has(extra):
            raise ConfigError(
                f"sources.{name}.extra_columns: {extra!r} is a canonical column; map it "
                "with `columns:` instead"
            )
        exprs.append(pl.col(extra).cast(pl.String).alias(extra))

    out = frame.select(exprs)
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
    if cfg.filter:
        out = out.filter(_source_filter(cfg.filter, name, available, config_file))

    dims = tuple(c for c in table.names if c in columns and is_dimension(table, c))
    used = set(mapping.values()) | set(cfg.extra_columns)
    for expression_alias in derived:
        used |= set(sql(derived[expression_alias]).meta.root_names())
    mapping = {c: derived.get(e, e) for c, e in mapping.items()}
    return LoadedSource(
        name=name,
        table=table,
        frame=out,
        columns=frozenset(available),
        dimensions=dims + tuple(cfg.extra_columns),
        checks=tuple(checks),
        files=tuple(files),
        mapping=mapping,
        unmapped=tuple(c for c in present if c not in used),
    )


# --- derived columns and event logs -------------------------------------------------------

DERIVED_PREFIX = "__derived__"


def _derive(
    frame: pl.LazyFrame, cfg: SourceConfig, present: Sequence[str], name: str, file: str
) -> tuple[pl.LazyFrame, dict[str, str]]:
    """`columns:` values that are not export columns are SQL expressions over them
    (e.g. `created_at: "date || ' ' || time"`); add each as a column of its own.

    Returns the frame and {alias: expression}. A value that is neither an export column nor
    valid SQL over export columns is left alone, so that mapping reports the nearest column.
    """
    derived: dict[str, str] = {}
    exprs = []
    for canonical, value in cfg.columns.items():
        if value in present:
            continue
        try:
            expr = sql(value)
            names = set(expr.meta.root_names())
        except Exception:  # not SQL: a misspelt column name, reported by the mapping step
            continue
        unknown = sorted(names - set(present))
        if unknown:
            if unknown and (" " in value.strip() or "(" in value):
                raise InputError(
                    f"sources.{name}.columns.{canonical}: {value!r} uses "
                    f"{unknown[0]!r}, which is not a column of the file"
                    f"{_nearest(unknown[0], present)}",
                    file=file,
                    hint=f"columns present: {', '.join(present)}",
                )
            continue
        alias = DERIVED_PREFIX + canonical
        derived[alias] = value
        exprs.append(expr.alias(alias))
    return (frame.with_columns(exprs) if exprs else frame), derived


def reduce_events(
    frame: pl.LazyFrame, cfg: SourceConfig, present: Sequence[str], file: str, name: str
) -> pl.LazyFrame:
    """One row per case from an event log (see `EventLogConfig` for the rules)."""
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
    fmt = log.timestamp_format or (
        cfg.timestamp_format if isinstance(cfg.timestamp_format, str) else None
    )
    if fmt is None and frame.collect_schema()[log.timestamp] == pl.String:
        values = frame.select(raw).head(SNIFF_ROWS).collect()[log.timestamp].drop_nulls()
        chosen = _cover(values.str.strip_chars()) if len(values) else (TIMESTAMP_FORMATS[0],)
        if not chosen:
            raise InputError(
                f"cannot read {values[0]!r} as a date-time",
                file=file,
                column=log.timestamp,
                hint=f"set sources.{name}.event_log.timestamp_format",
            )
        formats = chosen
    else:
        formats = (fmt,) if fmt else (TIMESTAMP_FORMATS[0],)
    at = _timestamp(raw, frame.collect_schema()[log.timestamp], cfg.timezone, formats)
    events = (
        frame.with_columns(_at=at)
        .filter(pl.col("_at").is_not_null())
        .sort(log.case, "_at", maintain_order=True)
    )
    act = pl.col(log.activity) if log.activity else pl.lit(None, dtype=pl.String)
    resolved = act.is_in(list(log.resolved)) if log.resolved else pl.lit(False)
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
        last_open = pl.col("_at").filter(~resolved.fill_null(False)).max()
        after = pl.col("_at").filter(
            resolved.fill_null(False) & (last_open.is_null() | (pl.col("_at") > last_open))
        )
        aggs.append(after.min().alias("resolved_at"))
        if log.reopened:
            aggs.append(act.is_in(list(log.reopened)).cast(pl.Int64).sum().alias("reopens"))
        else:
            back = resolved.shift(1).fill_null(False) & ~resolved.fill_null(False)
            aggs.append(back.cast(pl.Int64).sum().alias("reopens"))
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


# --- files --------------------------------------------------------------------------------


def _resolve_paths(cfg: SourceConfig, base_dir: Path, name: str) -> list[Path]:
    files: list[Path] = []
    for pattern in cfg.paths:
        full = pattern if Path(pattern).is_absolute() else str(base_dir / pattern)
        if glob.has_magic(full):
            matches = sorted(Path(p) for p in glob.glob(full) if Path(p).is_file())
            if not matches:
                raise InputError(
                    f"no file matches {pattern!r} (sources.{name}.path, relative to {base_dir})",
                    hint="check the pattern; paths are relative to the config file",
                )
            files.extend(matches)
        else:
            p = Path(full)
            if not p.is_file():
                raise InputError(
                    f"file not found: {p} (sources.{name}.path)",
                    hint="paths in the config are relative to the config file's directory",
                )
            files.append(p)
    return files


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    for s in reversed(suffixes):
        fmt = {
            ".csv": "csv",
            ".tsv": "tsv",
            ".tab": "tsv",
            ".parquet": "parquet",
            ".pq": "parquet",
            ".json": "json",
            ".jsonl": "jsonl",
            ".ndjson": "jsonl",
        }.get(s)
        if fmt:
            return fmt
    raise InputError(
        f"cannot tell the format of {path.name} from its extension",
        file=str(path),
        hint="set `format:` on the source (csv, tsv, parquet, json or jsonl)",
    )


def _scan(path: Path, fmt: str, cfg: SourceConfig) -> pl.LazyFrame:
    """One file as a LazyFrame with `_file` and a 1-based `_row` as a spreadsheet shows it."""
    if fmt in ("csv", "tsv"):
        lf = pl.scan_csv(
            path,
            separator=cfg.delimiter or ("\t" if fmt == "tsv" else ","),
            infer_schema=False,  # every cell as text: we parse and count failures ourselves
            null_values=list(cfg.null_values) or None,
            row_index_name=ROW_COL,
            row_index_offset=2,  # the header is row 1
            missing_columns="insert",
        )
    elif fmt == "parquet":
        lf = pl.scan_parquet(path, row_index_name=ROW_COL, row_index_offset=1)
    elif fmt == "jsonl":
        lf = pl.scan_ndjson(path, row_index_name=ROW_COL, row_index_offset=1)
    else:
        try:
            lf = pl.read_json(path).lazy().with_row_index(ROW_COL, offset=1)
        except pl.exceptions.PolarsError as e:
            raise InputError(f"cannot read the JSON: {_first_line(e)}", file=str(path)) from e
    return lf.with_columns(pl.lit(path.name).alias(FILE_COL))


# --- columns ------------------------------------------------------------------------------


def _map_columns(
    table: Table,
    cfg: SourceConfig,
    adapter: Adapter,
    present: Sequence[str],
    file: str,
    config_file: str,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """canonical name → export column, for every canonical column the export has.

    `aliases` maps a derived column's SQL expression to the column that holds its value."""
    explicit = {**adapter.column_map.get(table.name, {}), **cfg.columns}
    explicit = {c: (aliases or {}).get(e, e) for c, e in explicit.items()}
    present = list(present)
    shown = [c for c in present if not c.startswith(DERIVED_PREFIX)]
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
    mapping: dict[str, str] = {}
    for column in table.columns:
        export = explicit.get(column.name)
        if export is not None:
            if export not in present:
                raise InputError(
                    f"column {export!r} (mapped to {column.name}) is not in the file"
                    f"{_nearest(export, shown)}",
                    file=file,
                    hint=f"columns present: {', '.join(shown)}",
                )
            mapping[column.name] = export
        elif column.name in present:
            mapping[column.name] = column.name
    if table.name == "surveys" and cfg.survey_type and cfg.survey_type not in SURVEY_TYPES:
        if cfg.survey_type not in present:
            raise InputError(
                f"survey_type {cfg.survey_type!r} is neither a survey type "
                f"({', '.join(SURVEY_TYPES)}) nor a column of the file"
                f"{_nearest(cfg.survey_type, shown)}",
                file=file,
            )
        mapping["survey_type"] = cfg.survey_type
    has_constant_type = table.name == "surveys" and cfg.survey_type in SURVEY_TYPES
    missing = [
        c
        for c in table.required
        if c not in mapping and not (c == "survey_type" and has_constant_type)
    ]
    if missing:
        hints = [f"{m}{_nearest(m, shown)}" for m in missing]
        raise InputError(
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(hints)}",
            file=file,
            hint=(
                f"columns present: {', '.join(shown)}. Map an export column onto a "
                f'canonical name with `columns: {{{missing[0]}: "Export name"}}` '
                f"in sources.{table.name}"
            ),
        )
    return mapping


def _nearest(word: str, options: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
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


def _sniff_timestamps(
    frame: pl.LazyFrame,
    table: Table,
    mapping: dict[str, str],
    schema: pl.Schema,
    cfg: SourceConfig,
    file: str,
) -> dict[str, tuple[str, ...]]:
    """canonical timestamp column → the formats its text cells use (from the first rows)."""
    todo = {
        c: e
        for c, e in mapping.items()
        if table.column(c).type == "datetime"
        and schema[e] == pl.String
        and cfg.format_for(c) is None
    }
    if not todo:
        return {}
    sample = frame.select(list(set(todo.values()))).head(SNIFF_ROWS).collect()
    formats: dict[str, tuple[str, ...]] = {}
    for canonical, export in todo.items():
        values = sample[export].drop_nulls().str.strip_chars()
        if values.is_empty():
            formats[canonical] = (TIMESTAMP_FORMATS[0],)
            continue
        chosen = _cover(values)
        if not chosen:
            raise InputError(
                f"cannot read {values[0]!r} as a date-time",
                file=file,
                column=export,
                hint=(
                    f'set sources.{table.name}.timestamp_format (strftime, e.g. "%d/%m/%Y %H:%M")'
                ),
            )
        formats[canonical] = chosen
    return formats


def _cover(values: pl.Series) -> tuple[str, ...]:
    """The fewest candidate formats (at most 3, greedily) that read the sampled values.

    One format is the rule; a second covers exports that drop seconds or offsets on some rows.
    Empty when no format reads even half of the sample: the column needs `timestamp_format`.
    """
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


def _coerce(
    column: Column,
    raw: pl.Expr,
    dtype: pl.DataType,
    cfg: SourceConfig,
    sniffed: tuple[str, ...] | None,
) -> tuple[pl.Expr, bool]:
    """(canonical expression, whether the raw value must be kept to count parse failures)."""
    is_text = dtype == pl.String
    if column.type == "string":
        text = raw.cast(pl.String)
        return (text.str.strip_chars().str.to_lowercase() if column.code else text), False
    if column.type == "datetime":
        explicit = cfg.format_for(column.name)
        formats = (explicit,) if explicit else sniffed or (TIMESTAMP_FORMATS[0],)
        return _timestamp(raw, dtype, cfg.timezone, formats), True
    if column.type == "float":
        num = (
            raw.str.strip_chars().cast(pl.Float64, strict=False)
            if is_text
            else raw.cast(pl.Float64, strict=False)
        )
        return num.fill_nan(None), is_text
    if column.type == "int":
        num = (
            raw.str.strip_chars().cast(pl.Float64, strict=False)
            if is_text
            else raw.cast(pl.Float64, strict=False)
        )
        whole = pl.when(num == num.floor()).then(num.cast(pl.Int64, strict=False))
        return whole, True
    # bool
    if is_text:
        word = raw.str.strip_chars().str.to_lowercase()
        return word.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean), True
    if dtype == pl.Boolean:
        return raw, False
    return raw.cast(pl.Float64, strict=False) != 0, True


def _timestamp(raw: pl.Expr, dtype: pl.DataType, zone: str, formats: tuple[str, ...]) -> pl.Expr:
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
        aware = "%z" in fmt or "%#z" in fmt
        parts.append(parsed.dt.convert_time_zone(UTC) if aware else _localize(parsed, zone))
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
