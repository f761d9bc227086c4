"""Which file column (or SQL over file columns) gives each canonical column of a source.

Precedence: the source's `columns:` (a name or SQL), then the preset's named columns, then the
preset's SQL columns, then a file column with the canonical name itself. Names compare as
`cscli.adapters.base.normalize` says (case, spaces, a time-zone suffix). A preset's `Offset`s
give timestamps written as durations after another one; the source's `filter:` is SQL over
the canonical names. An unknown name is an error that names the nearest one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from cscli.adapters.base import RAW_PREFIX, Adapter, ColumnSource, Offset, normalize
from cscli.engine.polars.compile import sql
from cscli.engine.polars.loader.findings import is_placeholder
from cscli.engine.polars.loader.parse import as_number
from cscli.engine.polars.loader.read import first_line
from cscli.engine.polars.loader.source import QualityCheck
from cscli.errors import ConfigError, ConfigProblem, InputError
from cscli.schema import SURVEY_SOURCES, SURVEY_TYPES, Table
from cscli.suggest import closest

if TYPE_CHECKING:
    from cscli.config import SourceConfig

DERIVED_PREFIX = "__derived__"


@dataclass(frozen=True, slots=True)
class Mapped:
    """A source's columns, mapped: the frame with its derived columns, its schema, where each
    canonical column comes from, the derived columns ({canonical: (alias, SQL)}), the constant
    survey type (when no column gives it) and the first rows (with the derived columns)."""

    frame: pl.LazyFrame
    schema: pl.Schema
    columns_of: dict[str, ColumnSource]
    derived: dict[str, tuple[str, str]]
    survey_type: str | None
    sample: pl.DataFrame


def map_source(
    table: Table,
    frame: pl.LazyFrame,
    present: Sequence[str],
    sample: pl.DataFrame,
    cfg: SourceConfig,
    adapter: Adapter,
    file: str,
    config_file: str,
) -> Mapped:
    """Resolve the preset, add the derived columns and map every canonical column."""
    name = table.name
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
    return Mapped(frame, schema, columns_of, derived, survey_type, sample)


def nearest(word: str, options: Sequence[str]) -> str:
    """` (nearest: 'x')` for the option most like `word` (derived aliases aside), or ""."""
    shown = [o for o in options if not o.startswith(DERIVED_PREFIX)]
    match = closest(word, shown, cutoff=0.5)
    if match is None:  # case-insensitive: "created at" vs "Created at"
        lowered = {o.lower(): o for o in shown}
        found = closest(word.lower(), lowered, cutoff=0.5)
        match = lowered[found] if found is not None else None
    return f" (nearest: {match!r})" if match is not None else ""


# --- derived columns ----------------------------------------------------------------------


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
                    f"{nearest(unknown[0], present)}",
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
                f"{first_line(e)}",
                file=file,
                hint="use TRY_CAST(x AS DOUBLE) instead of CAST: a cell that does not convert "
                "then gives null, and is counted",
            ) from e
    return sample


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
    """canonical name → where its values come from, for every canonical column available."""
    for canonical in cfg.columns:
        if not table.has(canonical):
            raise ConfigError(
                [
                    ConfigProblem(
                        config_file,
                        None,
                        None,
                        f"sources.{table.name}.columns: {canonical!r} is not a canonical "
                        f"{table.name} column{nearest(canonical, table.names)}",
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
                    f"{nearest(export, present)}",
                    file=file,
                    hint=f"columns present: {', '.join(present)}",
                )
            mapping[c] = ColumnSource(export, export)
        elif c in preset:
            mapping[c] = ColumnSource(preset[c], preset[c], from_preset=True)
        elif c in present:
            mapping[c] = ColumnSource(c, c)
    if table.name in SURVEY_SOURCES and cfg.survey_type and cfg.survey_type not in SURVEY_TYPES:
        if cfg.survey_type not in present:
            raise InputError(
                f"survey_type {cfg.survey_type!r} is neither a survey type "
                f"({', '.join(SURVEY_TYPES)}) nor a column of the file"
                f"{nearest(cfg.survey_type, present)}",
                file=file,
            )
        mapping["survey_type"] = ColumnSource(cfg.survey_type, cfg.survey_type)
    _require(table, cfg, adapter, mapping, present, constant_type, file)
    return mapping


def _require(
    table: Table,
    cfg: SourceConfig,
    adapter: Adapter,
    mapping: Mapping[str, ColumnSource],
    present: Sequence[str],
    constant_type: str | None,
    file: str,
) -> None:
    """A required column that nothing gives is an error, with the nearest column and the
    fix (the preset's hint, or the `columns:` to write)."""
    constant = table.name in SURVEY_SOURCES and (
        cfg.survey_type in SURVEY_TYPES
        or adapter.survey_type in SURVEY_TYPES
        or constant_type is not None
    )
    missing = [
        c for c in table.required if c not in mapping and not (c == "survey_type" and constant)
    ]
    if missing:
        hints = [f"{m}{nearest(m, present)}" for m in missing]
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


# --- offsets ------------------------------------------------------------------------------


def offsets(
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


def offset_expr(
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
        value = as_number(pl.col(c), schema[c], decimal_comma)
        total = value if total is None else total + value
        raw = pl.col(f"{RAW_PREFIX}{canonical}.{i}")
        if schema[c] == pl.String:
            checks.append(
                QualityCheck(
                    issue=f"{c}: cannot read as a number",
                    predicate=raw.is_not_null()
                    & as_number(raw, pl.String(), decimal_comma).is_null()
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


def offset_label(
    offset: Offset, duration_columns: tuple[str, ...], columns_of: Mapping[str, ColumnSource]
) -> str:
    """How `validate` shows an offset column's source, e.g. `Created at + First reply time in
    minutes (minutes)`."""
    unit = {60.0: "minutes", 3600.0: "hours", 1.0: "seconds", 0.001: "ms"}.get(
        offset.unit, f"× {offset.unit:g} s"
    )
    base = columns_of[offset.base].label
    label = f"{base} + {' + '.join(duration_columns)} ({unit})"
    return label + (f" where {offset.when}" if offset.when else "")


# --- the source filter --------------------------------------------------------------------


def source_filter(text: str, name: str, available: set[str], config_file: str) -> pl.Expr:
    """The source's `filter:` as a predicate over its canonical columns (null → dropped)."""
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
                    f"{nearest(unknown[0], sorted(available))}",
                )
            ],
            hint=f"the filter sees canonical names: {', '.join(sorted(available))}",
        )
    return expr.fill_null(False)
