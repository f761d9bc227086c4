"""Turn export cells into canonical values: timestamps (formats sniffed from the first rows),
numbers, whole numbers and booleans, each unreadable cell becoming null for a check to count.

Timestamps: ISO-8601 with an offset is converted to UTC; a naive stamp is read in the source's
`timezone` (ambiguous fall-back hours take the earlier instant; stamps inside a spring-forward
gap do not exist and are counted as unreadable). Formats are sniffed once per column from the
first rows unless `timestamp_format` is given; the full column is then parsed with that one
explicit format, which polars does about twice as fast as `try_parse_dates`. Numeric dates
whose day/month order is not given (`03/04/2026`) are an error that asks for the format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from cscli.engine.polars.loader.diagnose import date_order_error
from cscli.engine.polars.loader.findings import is_placeholder_series, usable_number
from cscli.engine.polars.loader.read import SNIFF_ROWS
from cscli.engine.polars.measures import seconds
from cscli.errors import InputError
from cscli.schema import Column, Table

if TYPE_CHECKING:
    from cscli.adapters.base import Adapter, ColumnSource
    from cscli.config import SourceConfig

UTC = "UTC"

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

#: stamps outside these years are unreadable cells: year 0000, five-digit years and
#: milliseconds read as seconds are typing or export errors, not contacts
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


# --- sniffing -----------------------------------------------------------------------------


def unreadable_stamps(values: pl.Series, file: str, column: str, setting: str) -> InputError:
    """The error for a column no candidate format reads: the day/month order to confirm
    when the stamps are numeric dates, else the first value and the setting to give."""
    ordered = date_order_error(values, file=file, column=column, setting=setting)
    if ordered is not None:
        return ordered
    return InputError(
        f"cannot read {values[0]!r} as a date-time",
        file=file,
        column=column,
        hint=f'set {setting} (strftime, e.g. "%d/%m/%Y %H:%M")',
    )


def sniff_timestamps(
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
        chosen = cover(values, adapter.timestamp_format)
        if not chosen:
            label = columns_of[canonical].label
            raise unreadable_stamps(values, file, label, f"sources.{table.name}.timestamp_format")
        formats[canonical] = chosen
    return formats


def cover(values: pl.Series, preferred: str | None = None) -> tuple[str, ...]:
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


# --- coercion -----------------------------------------------------------------------------


def coerce(
    column: Column,
    raw: pl.Expr,
    dtype: pl.DataType,
    cfg: SourceConfig,
    sniffed: tuple[str, ...] | None,
    zone: str,
    factor: float | None = None,
    separator: str = ",",
    in_range: bool = False,
) -> tuple[pl.Expr, bool]:
    """(canonical expression, whether the raw value must be kept to count parse failures).

    `zone` reads naive timestamps; `factor` scales numbers (milliseconds → seconds);
    `separator` splits a list column written as text; `in_range`: a typed timestamp column
    known to lie within [1900, 2200) (no per-row bound)."""
    is_text = dtype == pl.String
    if column.type == "list":
        return as_list(raw, dtype, separator), False
    if column.type == "string":
        text = raw.cast(pl.String)
        return (text.str.strip_chars().str.to_lowercase() if column.code else text), False
    if column.type == "datetime":
        explicit = cfg.format_for(column.name)
        formats = (explicit,) if explicit else sniffed or (TIMESTAMP_FORMATS[0],)
        return as_timestamp(raw, dtype, zone, formats, in_range=in_range), not (
            in_range and reads_every_stamp(dtype, zone)
        )
    if column.type == "float":
        # raw kept for every file type: inf and NaN are counted (number_checks)
        read = as_float(raw, dtype, factor, cfg.decimal_comma, clock=is_duration(column))
        return usable_number(read), True
    if column.type == "int":
        if dtype in EXACT_INTEGERS:  # every value an Int64's: no check
            return raw.cast(pl.Int64), False
        num = as_number(raw, dtype, cfg.decimal_comma)
        whole = pl.when(num == num.floor()).then(num.cast(pl.Int64, strict=False))
        return whole, True
    # bool
    if is_text:
        word = raw.str.strip_chars().str.to_lowercase()
        return word.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean), True
    if dtype == pl.Boolean:
        return raw, False
    return raw.cast(pl.Float64, strict=False) != 0, True


def as_list(raw: pl.Expr, dtype: pl.DataType, separator: str = ",") -> pl.Expr:
    """A list of codes: a list column as it is, text split at `separator` (or, written as a
    JSON list, read as one), any other value as text; each value trimmed (of spaces and
    quotes) and lower-cased, empty and repeated values dropped (first seen order kept). A
    record without any value has an empty list; a missing cell stays null."""
    if isinstance(dtype, pl.List | pl.Array):
        items = raw.cast(pl.List(pl.String))
        clean = pl.element().str.strip_chars().str.to_lowercase()
    else:
        # text written as a JSON list (`["a", "b"]`, as a JSON file with mixed cells is
        # read) is that list, whatever the separator
        text = (raw if dtype == pl.String else raw.cast(pl.String)).str.strip_chars()
        listed = text.str.starts_with("[") & text.str.ends_with("]")
        body = text.str.strip_prefix("[").str.strip_suffix("]")
        items = pl.when(listed).then(body.str.split(",")).otherwise(text.str.split(separator))
        clean = pl.element().str.strip_chars().str.strip_chars("\"'").str.to_lowercase()
    return items.list.eval(clean.filter(clean != "")).list.unique(maintain_order=True)


def as_number(raw: pl.Expr, dtype: pl.DataType, decimal_comma: bool = False) -> pl.Expr:
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


def is_duration(column: Column) -> bool:
    """A duration in seconds (talk, hold, wrap): text cells may be written as a clock."""
    return column.type == "float" and column.name.endswith("_seconds")


#: `H:MM:SS`, `HH:MM:SS.fff` or `MM:SS` (minutes may pass 59 when no hours are written)
CLOCK = r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$"


def as_clock(text: pl.Expr) -> pl.Expr:
    """Seconds from a clock-written duration (`1:02:03` → 3723, `02:03` → 123,
    `0:00:01.5` → 1.5); null when the text is no clock or a field is out of range (seconds
    from 60 on, or minutes from 60 on after hours). Vectorised: a regex extract, arithmetic."""
    parts = text.str.extract_groups(CLOCK)
    hours = parts.struct.field("1").cast(pl.Float64)
    minutes = parts.struct.field("2").cast(pl.Float64)
    seconds = parts.struct.field("3").cast(pl.Float64)
    valid = (seconds < 60) & (hours.is_null() | (minutes < 60))
    total = hours.fill_null(0.0) * 3600 + minutes * 60 + seconds
    return pl.when(valid).then(total)


def as_float(
    raw: pl.Expr,
    dtype: pl.DataType,
    factor: float | None,
    decimal_comma: bool = False,
    *,
    clock: bool = False,
) -> pl.Expr:
    """A float column as read (scaled by `factor`), before `usable_number`: unreadable text is
    null, inf and a numeric file's NaN are kept for the range check to count. With `clock`
    (a duration in seconds), text written `H:MM:SS` / `MM:SS` is read as seconds, unscaled:
    a clock is seconds whatever unit the export's plain numbers use; so is a Parquet
    `Duration` column."""
    if clock and isinstance(dtype, pl.Duration):  # a Parquet duration: exact, any unit
        return seconds(raw)
    if dtype != pl.String:
        num = raw.cast(pl.Float64, strict=False)
        return num * factor if factor is not None else num
    num = as_number(raw, dtype, decimal_comma)
    scaled = num * factor if factor is not None else num
    if not clock:
        return scaled
    text = raw.str.strip_chars()
    return pl.when(text.str.contains(":", literal=True)).then(as_clock(text)).otherwise(scaled)


#: integer types whose every value is an Int64's (not UInt64 or Int128, which may exceed it:
#: those go through the checked path and a value beyond Int64 is counted as unreadable)
EXACT_INTEGERS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)


def reads_every_stamp(dtype: pl.DataType, zone: str) -> bool:
    """Whether a typed timestamp column known within the readable years (`in_range`) reads
    every value: a zone-aware one converts to UTC, a naive one in UTC has no gap of local
    time (in another zone a stamp in a spring-forward gap is read as null and counted)."""
    return isinstance(dtype, pl.Datetime) and (dtype.time_zone is not None or zone == "UTC")


def as_timestamp(
    raw: pl.Expr,
    dtype: pl.DataType,
    zone: str,
    formats: tuple[str, ...],
    *,
    in_range: bool = False,
) -> pl.Expr:
    """Parse with each format in turn (first success wins); `%z` stamps carry their offset,
    `%s` (seconds since 1970) is UTC by definition, the rest are local time in `zone`.
    A stamp before 1900 or from 2200 on is read as null (and counted as unreadable), unless
    the column is known `in_range` (a typed column whose minimum and maximum are)."""
    value = _parse_timestamp(raw, dtype, zone, formats)
    if in_range:
        return value
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
