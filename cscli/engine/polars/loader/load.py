"""Load one source into a canonical LazyFrame: scan its files, reduce an event log, map and
coerce its columns, add its measures, findings and filter.

Every cell that must become a timestamp, number or boolean is parsed with `strict=False`, and
the raw text is kept beside it (as `__raw__<column>`) so that a quality check can count the
cells that did not parse: nothing is dropped silently. Projection pushdown removes the raw
columns from every query that does not ask for them.

Text is read as UTF-8; bytes that are not UTF-8 (a Latin-1 export) are replaced by `�` and
counted, so that one accented name does not stop a report. Beyond cells that do not parse,
the loader adds the findings of `findings` (placeholders, ids Excel mangled, duplicate ids,
…); the error path (malformed CSV lines, day/month orders it will not guess) is `diagnose`.
Vendor presets (`cscli.adapters.presets`) only name columns: every export is read here, in
the steps of `load_source` (`read`, `event_log`, `mapping`, `parse`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cscli.adapters.base import (
    FILE_COL,
    RAW_PREFIX,
    ROW_COL,
    Adapter,
    ColumnSource,
    Offset,
    header_zone,
)
from cscli.config import CalendarAssignment
from cscli.engine.polars.compile import sql
from cscli.engine.polars.loader.event_log import reduce_events
from cscli.engine.polars.loader.findings import (
    calendar_checks,
    number_checks,
    placeholder_check,
    placeholders_in,
    record_checks,
    scientific_id_check,
    unreadable_check,
)
from cscli.engine.polars.loader.known import known_columns
from cscli.engine.polars.loader.mapping import (
    Mapped,
    map_source,
    nearest,
    offset_expr,
    offset_label,
    offsets,
    source_filter,
)
from cscli.engine.polars.loader.parse import as_float, coerce, is_duration, sniff_timestamps
from cscli.engine.polars.loader.read import Scanned, data_columns, scan_source, swallowed_checks
from cscli.engine.polars.loader.source import LoadedSource, QualityCheck
from cscli.engine.polars.loader.states import map_states, state_checks
from cscli.engine.polars.measures import invalid_expr, measure_expr
from cscli.errors import ConfigError, InputError
from cscli.kpis.measures import Measure, measures_for
from cscli.schema import (
    COMMENT_ROLES,
    FREE_TEXT,
    SURVEY_SOURCES,
    SURVEY_TYPES,
    TABLES,
    Column,
    Table,
    is_dimension,
)

if TYPE_CHECKING:
    from cscli.config import SourceConfig

#: a preset's offsets usable in a source: canonical → (offset, its duration columns)
Offsets = Mapping[str, tuple[Offset, tuple[str, ...]]]


@dataclass
class _Selection:
    """What the loaded frame selects, built step by step: the expressions, the checks that
    count what they could not read, and the canonical columns they give."""

    exprs: list[pl.Expr] = field(default_factory=lambda: [pl.col(FILE_COL), pl.col(ROW_COL)])
    checks: list[QualityCheck] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)


def load_source(
    name: str, cfg: SourceConfig, base_dir: Path, adapter: Adapter, config_file: str
) -> LoadedSource:
    """Resolve the files of a source, map and coerce its columns, and add its measures."""
    table = TABLES[name]
    scanned = scan_source(name, cfg, base_dir, adapter)
    frame, present = _records(scanned, cfg, name)
    mapped = map_source(
        table, frame, present, scanned.sample, cfg, adapter, scanned.file, config_file
    )
    chosen = _Selection()
    parsed_of = _add_canonical(chosen, table, mapped, scanned, cfg, adapter)
    usable_offsets = offsets(adapter, name, mapped.columns_of, present, mapped.schema)
    _add_offsets(chosen, usable_offsets, parsed_of, mapped.schema, cfg.decimal_comma)
    _add_constants(chosen, table, mapped.survey_type)
    _add_extras(chosen, table, cfg, present, scanned.file)
    out = mapped.frame.select(chosen.exprs)
    if name == "agent_states" and "state" in chosen.columns:
        out = map_states(out, cfg.states)
        chosen.checks.extend(state_checks(chosen.columns))
    chosen.checks.extend(_record_checks(chosen, table, mapped, scanned, cfg))
    out, measures = _add_measures(out, chosen, name)
    available = chosen.columns | {m.name for m in measures} | set(cfg.extra_columns)
    out = _restrict(out, chosen, cfg, name, available, config_file)
    dims = tuple(c for c in table.names if c in chosen.columns and is_dimension(table, c))
    if scanned.reader is not None and cfg.event_log is None:
        # the timestamps read from one table column as is: what a run's bound can compare
        scanned.reader.anchors = {
            c: src.name
            for c, src in mapped.columns_of.items()
            if table.column(c).type == "datetime" and src.name in scanned.present
        }
    return LoadedSource(
        name=name,
        table=table,
        frame=out,
        columns=frozenset(available),
        dimensions=dims + tuple(cfg.extra_columns),
        checks=tuple(chosen.checks),
        files=scanned.files,
        mapping=_shown(mapped.columns_of, usable_offsets),
        unmapped=_unmapped(scanned.present, present, mapped, usable_offsets, cfg),
        reader=scanned.reader,
    )


# --- the steps of load_source -------------------------------------------------------------


def _records(scanned: Scanned, cfg: SourceConfig, name: str) -> tuple[pl.LazyFrame, list[str]]:
    """The frame of records and its file columns: an event log is reduced to one row per
    case first."""
    if cfg.event_log is None:
        return scanned.frame, scanned.present
    frame = reduce_events(scanned.frame, cfg, scanned.present, scanned.file, name, scanned.sample)
    return frame, data_columns(frame.collect_schema())


def _add_canonical(
    chosen: _Selection,
    table: Table,
    mapped: Mapped,
    scanned: Scanned,
    cfg: SourceConfig,
    adapter: Adapter,
) -> dict[str, pl.Expr]:
    """Every mapped canonical column, coerced, with its checks; returns canonical → its
    parsed value (the base of an offset)."""
    sniffed = sniff_timestamps(
        mapped.frame,
        mapped.sample,
        table,
        mapped.columns_of,
        mapped.schema,
        cfg,
        adapter,
        scanned.file,
    )
    placeholders = placeholders_in(mapped.sample, mapped.columns_of, mapped.schema, cfg.null_values)
    scale = adapter.scale.get(table.name, {})
    separator = cfg.list_separator or adapter.list_separator.get(table.name, ",")
    parsed_of: dict[str, pl.Expr] = {}
    known = known_columns(table, mapped, scanned, cfg)
    for canonical, src in mapped.columns_of.items():
        parsed, exprs, checks = _canonical_column(
            table.column(canonical),
            src,
            mapped.schema[src.name],
            cfg,
            sniffed.get(canonical),
            scale.get(canonical) if src.from_preset else None,
            placeholders.get(src.name, ()),
            mapped.sample if scanned.text_file else None,
            separator,
            known.codes.get(canonical),
            canonical in known.in_range,
        )
        parsed_of[canonical] = parsed
        chosen.exprs.extend(exprs)
        chosen.checks.extend(checks)
    chosen.columns.update(mapped.columns_of)
    return parsed_of


def _add_offsets(
    chosen: _Selection,
    usable: Offsets,
    parsed_of: Mapping[str, pl.Expr],
    schema: pl.Schema,
    decimal_comma: bool,
) -> None:
    """The timestamps a preset gives as durations after another one, and their raw text."""
    for canonical, (offset, duration_columns) in usable.items():
        expr, checks = offset_expr(
            canonical, offset, duration_columns, parsed_of, schema, decimal_comma
        )
        chosen.exprs.extend(
            pl.col(c).alias(f"{RAW_PREFIX}{canonical}.{i}") for i, c in enumerate(duration_columns)
        )
        chosen.exprs.append(expr.alias(canonical))
        chosen.checks.extend(checks)
    chosen.columns.update(usable)


def _add_constants(chosen: _Selection, table: Table, survey_type: str | None) -> None:
    """Columns with one value for the whole source: the survey type, and the table's
    defaults (every call is a phone contact) where the export gives none."""
    if table.name in SURVEY_SOURCES and survey_type in SURVEY_TYPES:
        chosen.exprs.append(pl.lit(survey_type).alias("survey_type"))
        chosen.columns.add("survey_type")
    for canonical, value in table.defaults:
        if canonical not in chosen.columns:
            chosen.exprs.append(pl.lit(value).alias(canonical))
            chosen.columns.add(canonical)
    if table.name == "ticket_comments":
        _add_comment_rules(chosen)


def _add_comment_rules(chosen: _Selection) -> None:
    """A comment without `public` is public (an export of public replies only); an author
    role other than end_user or agent is a finding, and the comment is left out (who spoke
    decides every reply wait)."""
    if "public" not in chosen.columns:
        chosen.exprs.append(pl.lit(True).alias("public"))
        chosen.columns.add("public")
    if "author_role" in chosen.columns:
        chosen.checks.append(
            QualityCheck(
                issue="author_role: unknown role (not end_user or agent)",
                predicate=pl.col("author_role").is_not_null()
                & pl.col("author_role").is_in(COMMENT_ROLES).not_(),
                column="author_role",
                drops_record=True,
                effect="records excluded",
            )
        )


def _add_extras(
    chosen: _Selection, table: Table, cfg: SourceConfig, present: Sequence[str], file: str
) -> None:
    """The source's `extra_columns`, as text: file columns kept to group or filter by."""
    for extra in cfg.extra_columns:
        if extra not in present:
            raise InputError(
                f"extra column {extra!r} is not in the file{nearest(extra, present)}",
                file=file,
                hint=f"columns present: {', '.join(present)}",
            )
        if table.has(extra):
            raise ConfigError(
                f"sources.{table.name}.extra_columns: {extra!r} is a canonical column; map it "
                "with `columns:` instead"
            )
        chosen.exprs.append(pl.col(extra).cast(pl.String).alias(extra))


def _record_checks(
    chosen: _Selection, table: Table, mapped: Mapped, scanned: Scanned, cfg: SourceConfig
) -> list[QualityCheck]:
    """The findings on whole records (duplicate ids, damaged text, …) and, in CSV/TSV,
    quoted fields that swallow records."""
    checks = record_checks(
        table,
        chosen.columns,
        mapped.columns_of,
        mapped.schema,
        text_file=scanned.text_file,
        declared=cfg.encoding,
        guess=next((r.guess for r in scanned.ready if r.guess), None),
        setting=f"sources.{table.name}",
    )
    if scanned.text_file:
        checks.extend(swallowed_checks(scanned, cfg))
    return checks


def _add_measures(
    out: pl.LazyFrame, chosen: _Selection, name: str
) -> tuple[pl.LazyFrame, list[Measure]]:
    """The measures the canonical columns allow (durations), each with the check counting
    the records where it cannot be trusted."""
    measures = measures_for(name, frozenset(chosen.columns))
    if measures:
        out = out.with_columns(measure_expr(m) for m in measures)
        for m in measures:
            chosen.checks.append(
                QualityCheck(
                    m.negative_issue,
                    invalid_expr(m),
                    column=m.name,
                    effect=f"excluded from KPIs that use {m.name}",
                )
            )
    return out, measures


def _restrict(
    out: pl.LazyFrame,
    chosen: _Selection,
    cfg: SourceConfig,
    name: str,
    available: set[str],
    config_file: str,
) -> pl.LazyFrame:
    """The checks of a business-calendar assignment, and the source's `filter:`."""
    if isinstance(cfg.calendar, CalendarAssignment):
        chosen.checks.extend(calendar_checks(name, cfg.calendar, available, config_file))
    if cfg.filter:
        out = out.filter(source_filter(cfg.filter, name, available, config_file))
    return out


def _shown(columns_of: Mapping[str, ColumnSource], usable: Offsets) -> dict[str, str]:
    """canonical → its source as `validate` shows it."""
    mapping = {c: s.shown or s.label for c, s in columns_of.items()}
    for canonical, (offset, duration_columns) in usable.items():
        mapping[canonical] = offset_label(offset, duration_columns, columns_of)
    return mapping


def _unmapped(
    file_columns: Sequence[str],
    present: Sequence[str],
    mapped: Mapped,
    usable: Offsets,
    cfg: SourceConfig,
) -> tuple[str, ...]:
    """The file's columns that nothing reads (`file_columns`: before an event log's
    reduction; `present`: after)."""
    used = {s.name for s in mapped.columns_of.values()} | set(cfg.extra_columns)
    if cfg.event_log is not None:
        log = cfg.event_log
        used |= {c for c in (log.case, log.timestamp, log.activity) if c is not None}
    for _, expression in mapped.derived.values():
        used |= set(sql(expression).meta.root_names())
    for _, duration_columns in usable.values():
        used |= set(duration_columns)
    return tuple(c for c in file_columns if c not in used and c in present)


# --- one canonical column -----------------------------------------------------------------


def _canonical_column(
    column: Column,
    src: ColumnSource,
    dtype: pl.DataType,
    cfg: SourceConfig,
    sniffed: tuple[str, ...] | None,
    factor: float | None,
    tokens: Sequence[str],
    excel_sample: pl.DataFrame | None,
    separator: str = ",",
    clean: pl.Expr | None = None,
    in_range: bool = False,
) -> tuple[pl.Expr, list[pl.Expr], list[QualityCheck]]:
    """One canonical column: its parsed expression, the expressions to select (the value,
    and the raw text when a check needs it), and its checks.

    Naive stamps are read in the zone a header names (`Created (Europe/Paris)`) unless the
    source sets `timezone:`; `factor` scales a preset's numbers (ms → s); `excel_sample` (the
    first rows of a CSV/TSV) turns on the scientific-notation check for ids; `clean`, a code
    column's cleaned text from its distinct values, `in_range` a timestamp column known
    within the readable years (`known.known_columns`)."""
    explicit_zone = "timezone" in cfg.model_fields_set
    zone = (None if explicit_zone else header_zone(src.name)) or cfg.timezone
    parsed, raw_kept = coerce(
        column, pl.col(src.name), dtype, cfg, sniffed, zone, factor, separator, in_range
    )
    if clean is not None:
        parsed = clean
    exprs = [parsed.alias(column.name)]
    checks = []
    raw = pl.col(RAW_PREFIX + column.name)
    if raw_kept or dtype == pl.String:
        exprs.append(pl.col(src.name).alias(RAW_PREFIX + column.name))
    if column.type == "float":
        read = as_float(raw, dtype, factor, cfg.decimal_comma, clock=is_duration(column))
        checks.extend(number_checks(src, column, read, tokens, text=dtype == pl.String))
    elif raw_kept:
        checks.append(unreadable_check(src, column, _type_words(column), tokens))
    elif tokens and column.name not in FREE_TEXT and column.type != "list":
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


def _type_words(column: Column) -> str:
    return {
        "datetime": "a date-time",
        "float": "a number",
        "int": "a whole number",
        "bool": "true/false",
        "string": "text",
        "list": "a list of values",
    }[column.type]
