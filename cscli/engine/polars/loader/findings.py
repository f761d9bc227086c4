"""Data-quality findings the loader adds to a source, beyond cells that do not parse.

Each is a `QualityCheck` (a predicate counted over the whole source, with its first rows), so
`report`, `validate` and `check` all count it; none of them drops a record. The rules:

- a number that is read but unusable (inf, NaN, or beyond ±2^53, where a sum or a mean
  overflows) is read as missing and flagged;
- a placeholder such as `?`, `N/A` or `-` in a date or number column is an unreadable cell
  whose finding names the placeholder and the `null_values:` fix; in a text column (seen in
  the first rows) it is kept as text, and flagged;
- an id in scientific notation (`5.70306E+17`) has lost digits in Excel: flagged (CSV/TSV);
- a duplicate id (a row repeating an earlier row's id) is flagged, not removed: which of two
  rows is right (the first? the later export?) is the user's call;
- a survey type other than csat, nps, ces, asat; a call with no direction; a call that ends
  before it is answered;
- a record with no business calendar (`calendar: {by: team, map: …}` without a default);
- in CSV/TSV, text that was not UTF-8, or not in the source's `encoding:` (read with U+FFFD
  in place of the bad bytes); the finding names the encoding to set.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl

from cscli.adapters.base import RAW_PREFIX, ColumnSource
from cscli.engine.polars.loader.source import QualityCheck
from cscli.errors import ConfigError, ConfigProblem
from cscli.schema import (
    FREE_TEXT,
    SURVEY_SOURCES,
    SURVEY_TYPES,
    TICKET_STATUSES,
    Column,
    Table,
)
from cscli.suggest import did_you_mean

if TYPE_CHECKING:
    from cscli.config import CalendarAssignment

#: cell texts that stand for "no value" (compared trimmed and lower-cased)
PLACEHOLDERS = ("?", "??", "-", "--", "n/a", "na", "#n/a", "null", "(null)", "none", "nan", "nil")

#: an id Excel has turned into a number and written in scientific notation
SCIENTIFIC_ID = r"^\s*[0-9](?:\.[0-9]+)?[eE]\+[0-9]+\s*$"

REPLACEMENT = "\ufffd"

#: the largest magnitude a number may have: beyond 2^53 a float no longer holds every whole
#: number, and a sum of a few values near the float maximum (1.8e308) is infinite
NUMBER_LIMIT = 2.0**53


def is_placeholder(raw: pl.Expr) -> pl.Expr:
    return raw.cast(pl.String).str.strip_chars().str.to_lowercase().is_in(PLACEHOLDERS)


def is_placeholder_series(values: pl.Series) -> pl.Series:
    return values.str.strip_chars().str.to_lowercase().is_in(PLACEHOLDERS)


def placeholders_in(
    sample: pl.DataFrame,
    columns_of: Mapping[str, ColumnSource],
    schema: pl.Schema,
    null_values: Sequence[str],
) -> dict[str, tuple[str, ...]]:
    """export column → the placeholder spellings its first rows use (for messages and the
    `null_values:` fix)."""
    found: dict[str, tuple[str, ...]] = {}
    for c, s in columns_of.items():
        if s.name not in sample.columns or schema[s.name] != pl.String or c in FREE_TEXT:
            continue
        values = sample[s.name].drop_nulls().str.strip_chars()
        hits = values.filter(is_placeholder_series(values)).unique(maintain_order=True)
        tokens = tuple(v for v in hits.to_list() if v not in null_values)
        if tokens:
            found[s.name] = tokens
    return found


def placeholder_fix(tokens: Sequence[str]) -> str:
    """The effect's second half when a column's unreadable cells are placeholders."""
    if not tokens:
        return ""
    shown = " / ".join(repr(t) for t in tokens)
    return f"; {shown} stands for no value: add null_values: {json.dumps(list(tokens))}"


def unreadable_check(
    source: ColumnSource,
    column: Column,
    words: str,
    tokens: Sequence[str],
    parsed: pl.Expr | None = None,
) -> QualityCheck:
    """Cells with text that did not parse as the column's type (`parsed`: the value as read,
    before any range check; the canonical column by default)."""
    raw = pl.col(RAW_PREFIX + column.name)
    value = pl.col(column.name) if parsed is None else parsed
    return QualityCheck(
        issue=f"{source.label}: cannot read as {words}",
        predicate=raw.is_not_null() & value.is_null(),
        column=source.label,
        drops_record=column.required,
        effect=("records excluded" if column.required else "read as missing")
        + placeholder_fix(tokens),
    )


def usable_number(num: pl.Expr) -> pl.Expr:
    """`num` where it is finite and smaller than NUMBER_LIMIT in magnitude, else null."""
    return pl.when(num.is_finite() & (num.abs() < NUMBER_LIMIT)).then(num)


def number_checks(
    source: ColumnSource,
    column: Column,
    read: pl.Expr,
    tokens: Sequence[str],
    *,
    text: bool,
) -> list[QualityCheck]:
    """A number column's findings: text that is no number (`text`: the file holds text), and
    numbers that are read but unusable: inf, NaN (a float column of a Parquet file) or beyond
    ±2^53. `read` is the value as read, before `usable_number`."""
    checks = [unreadable_check(source, column, "a number", tokens, read)] if text else []
    checks.append(
        QualityCheck(
            issue=f"{source.label}: inf, NaN or a number beyond ±2^53 (a sum or mean of it "
            "overflows)",
            predicate=read.is_not_null() & usable_number(read).is_null(),
            column=source.label,
            drops_record=column.required,
            effect="records excluded" if column.required else "read as missing",
        )
    )
    return checks


def calendar_checks(
    name: str, assignment: CalendarAssignment, columns: Collection[str], config_file: str
) -> list[QualityCheck]:
    """`calendar: {by: team, map: {…}}` without a `default:` leaves a record whose team is
    empty or unmapped with no calendar: its business-time durations are null. Counted, with
    the effect, instead of vanishing from the business-hours KPIs. A `by` column the source
    does not have is a config error."""
    by = assignment.by
    if by not in columns:
        raise ConfigError(
            [
                ConfigProblem(
                    config_file,
                    None,
                    None,
                    f"sources.{name}.calendar.by: {name} has no column {by!r}"
                    + did_you_mean(by, sorted(columns)),
                )
            ],
            hint=f"calendar.by names a canonical column of {name} or one of its extra_columns",
        )
    if assignment.default is not None:
        return []
    keys = list(assignment.map)
    return [
        QualityCheck(
            issue=f"{by}: no business calendar (empty, or not one of {', '.join(keys)} in "
            "calendar.map, and no default)",
            predicate=pl.col(by).cast(pl.String).is_in(keys).fill_null(False).not_(),
            column=by,
            effect="no business time: excluded from KPIs with hours: business; add the value "
            "to calendar.map or set calendar.default",
        )
    ]


def placeholder_check(label: str, raw: pl.Expr, tokens: Sequence[str]) -> QualityCheck:
    """Text columns keep placeholders as text (an agent called 'N/A'); say so."""
    shown = " / ".join(repr(t) for t in tokens)
    return QualityCheck(
        issue=f"{label}: {shown} used for a missing value",
        predicate=is_placeholder(raw),
        column=label,
        effect=f"kept as text; add null_values: {json.dumps(list(tokens))} to read them as missing",
    )


def scientific_id_check(
    label: str, raw: pl.Expr, sample: pl.DataFrame, export: str
) -> QualityCheck:
    example = "5.70306E+17"
    if export in sample.columns and sample.schema[export] == pl.String:
        values = sample[export].drop_nulls()
        hits = values.filter(values.str.contains(SCIENTIFIC_ID))
        if hits.len():
            example = hits[0].strip()
    return QualityCheck(
        issue=f"{label}: ids in scientific notation (e.g. {example}) have lost digits",
        predicate=raw.cast(pl.String).str.contains(SCIENTIFIC_ID),
        column=label,
        effect="kept as they are; export the column as text (Excel drops the digits for good), "
        "or records will not match across files",
    )


def sorted_repeats(key: pl.Expr) -> pl.Expr:
    """The number of non-null values of `key` that repeat an earlier one, when the values
    arrive in ascending order (an export sorted by id); -1 when they do not.

    Sorted, every repeat sits right after its first occurrence, so the repeats are the values
    minus the runs of equal values (`rle_id`). Both steps stream in constant memory, where a
    hash set of 100M ids takes about 4 GB; the caller counts the predicate when this is -1.
    (`is_sorted` compares neighbours: half the time of comparing each id with the running
    maximum, the same answer.)"""
    ids = key.drop_nulls()
    ascending = ids.is_sorted(descending=False, nulls_last=False)
    runs = ids.rle_id().max().cast(pl.Int64).fill_null(-1) + 1
    return pl.when(ascending).then(ids.len().cast(pl.Int64) - runs).otherwise(-1)


def record_checks(
    table: Table,
    columns: set[str],
    columns_of: Mapping[str, ColumnSource],
    schema: pl.Schema,
    *,
    text_file: bool,
    declared: str | None = None,
    guess: str | None = None,
    setting: str = "the source",
) -> list[QualityCheck]:
    """Checks on canonical values: duplicate ids, unknown survey types, calls ending before
    they are answered, and (in CSV/TSV, the only formats read lossily) text that was not UTF-8
    (or not in the `declared` encoding). The finding names the `encoding:` to set: the
    `guess` made from the bytes (`cscli.adapters.sniff.guess_encoding`) when there is one.

    Duplicate ids are counted without a hash set when the ids arrive in ascending order (see
    `sorted_repeats`); otherwise, and to flag the rows, they are found by a 64-bit hash of the
    id, three times faster than comparing strings; a false match needs a hash collision
    (about 1 in 10^5 for ten million distinct ids)."""
    checks = []
    id_col = table.id_column
    if id_col in columns:
        label = columns_of[id_col].label if id_col in columns_of else id_col
        key = pl.col(id_col)
        checks.append(
            QualityCheck(
                issue=f"{label}: duplicate id (the same {id_col} as an earlier row)",
                predicate=key.is_not_null() & ~key.hash().is_first_distinct(),
                column=label,
                effect="counted as separate records: remove the repeated rows (overlapping "
                "exports?)",
                count=sorted_repeats(key),
            )
        )
    if table.name in SURVEY_SOURCES and "survey_type" in columns_of:
        kind = pl.col("survey_type")
        checks.append(
            QualityCheck(
                issue=f"{columns_of['survey_type'].label}: survey type not one of "
                f"{', '.join(SURVEY_TYPES)}",
                predicate=kind.is_not_null() & ~kind.is_in(list(SURVEY_TYPES)),
                column=columns_of["survey_type"].label,
                effect="excluded from every survey KPI",
            )
        )
    if table.name == "calls" and "direction" in columns_of:
        label = columns_of["direction"].label
        checks.append(
            QualityCheck(
                issue=f"{label}: empty direction",
                predicate=pl.col("direction").is_null(),
                column=label,
                effect="counted only by call KPIs with direction: all (inbound is the default)",
            )
        )
    if table.name == "calls" and {"answered_at", "ended_at"} <= columns:
        checks.append(
            QualityCheck(
                issue="ended_at before answered_at",
                predicate=pl.col("ended_at") < pl.col("answered_at"),
                column="ended_at",
                effect="counted only (no KPI uses the end of an answered call)",
            )
        )
    if table.name == "ticket_events" and {"ticket_id", "at", "status"} <= columns:
        event = pl.struct("ticket_id", "at", "status")
        checks.append(
            QualityCheck(
                issue="repeated status event (the same ticket_id, at and status as an earlier row)",
                predicate=pl.col("at").is_not_null() & ~event.hash().is_first_distinct(),
                column="at",
                effect="kept: a repeat adds a zero-length interval, so no status time changes",
            )
        )
        checks.append(
            QualityCheck(
                issue="status event out of order (earlier than the ticket's previous row)",
                predicate=(pl.col("at") < pl.col("at").shift(1).over("ticket_id")).fill_null(False),
                column="at",
                effect="kept: each ticket's history is sorted by time before its intervals",
            )
        )
    if table.name == "ticket_events" and "status" in columns:
        checks.append(
            QualityCheck(
                issue=f"{_status_words(columns_of['status'].label)} not one of "
                f"{', '.join(TICKET_STATUSES)} (unmapped)",
                predicate=pl.col("status").is_not_null()
                & ~pl.col("status").is_in(list(TICKET_STATUSES)),
                column=columns_of["status"].label,
                effect="kept: its time counts in no status time, and a move to it from solved "
                "is a reopen; map it (event_log.ticket_events.statuses, or columns:)",
            )
        )
    # Text columns only: free text (subjects, comments) costs most to scan and a replaced
    # character there is cosmetic, unlike in an agent's name or an id; in a date or number
    # column a damaged cell is already unreadable.
    issue, effect = _not_text_words(declared, guess, setting)
    for c, s in columns_of.items():
        text = table.column(c).type == "string" and c not in FREE_TEXT
        if text_file and text and s.name in schema and schema[s.name] == pl.String:
            checks.append(
                QualityCheck(
                    issue=f"{s.label}: {issue}",
                    predicate=pl.col(RAW_PREFIX + c).str.contains(REPLACEMENT, literal=True),
                    column=s.label,
                    effect=effect,
                )
            )
    return checks


def _status_words(label: str) -> str:
    return "status" if label == "status" else f"status ({label})"


def _not_text_words(declared: str | None, guess: str | None, setting: str) -> tuple[str, str]:
    """(issue, effect) of the check counting replaced bytes."""
    replaced = f"bytes replaced by {REPLACEMENT!r}"
    if declared is not None and codecs.lookup(declared).name != "utf-8":
        return (
            f"not {declared} text: {replaced}",
            f"read with the replacement character; check encoding: {declared} on {setting}",
        )
    if guess is None:
        return (
            f"not UTF-8 text (cp1252 or latin-1?): {replaced}",
            f"read with the replacement character; set encoding: cp1252 (or latin-1) on "
            f"{setting}, or save the file as UTF-8",
        )
    return (
        f"not UTF-8 text ({guess}?): {replaced}",
        f"read with the replacement character; set encoding: {guess} on {setting}, or save "
        "the file as UTF-8",
    )
