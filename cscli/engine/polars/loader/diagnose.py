"""Say precisely why a file cannot be read: the error path of the loader.

Nothing here runs on a file that reads fine. When polars stops on a CSV (an unterminated
quote, a line with more fields than the header), the message it gives names a byte offset;
users need the line and the fix, so the file is scanned again, as text, to find them. When no
timestamp format reads a column, the values are checked for a day/month order that cannot be
told apart (`03/04/2026`), so that cscli asks for `timestamp_format` instead of guessing.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cscli.errors import InputError

#: how a delimiter is written in YAML and named in messages
DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def yaml_delimiter(sep: str) -> str:
    """The delimiter as a YAML double-quoted scalar (`"\\t"` for a tab)."""
    return json.dumps(sep)


def wrong_delimiter(header: Sequence[str], sep: str) -> str | None:
    """The delimiter a one-column header is really split by, if it contains one.

    A semicolon-separated export read with commas has a single column whose name is the whole
    header line, e.g. `ticket_id;created_at`.
    """
    if len(header) != 1:
        return None
    counts = {d: header[0].count(d) for d in DELIMITER_WORDS if d != sep}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def read_text(path: Path) -> str:
    """A file's text for diagnosis (gzip-aware; undecodable bytes replaced)."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def _lines(path: Path) -> pl.LazyFrame:
    """A delimited file as its physical lines (`n`, 1-based; `line`), streamed by polars:
    read with a separator that never occurs (0x1F) and no quoting."""
    return pl.scan_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        encoding="utf8-lossy",
        row_index_name="n",
        row_index_offset=1,
        glob=False,
    )


def _lines_in_memory(path: Path) -> pl.LazyFrame:
    """The same, read in Python: for a file that contains 0x1F itself."""
    text = read_text(path).removeprefix("\ufeff")
    lines = pl.Series("line", text.split("\n")).str.strip_suffix("\r")
    if lines.len() and lines[-1] == "":
        lines = lines.head(-1)
    return pl.LazyFrame({"line": lines}).with_row_index("n", offset=1)


def csv_structure_error(path: Path, sep: str, shown: Path | None = None) -> InputError | None:
    """The first structural problem of a delimited file, with its line number, if any.

    Rules (lines are physical lines, 1-based, as an editor shows them):
    - the file has an odd number of `"` characters: the quote opened last is never closed;
      it is on the last line where the running count of quotes turns odd;
    - a line that starts and ends outside quotes has more fields (delimiters outside quoted
      text, plus one) than the header: the field count is wrong from that line on.

    One streaming pass; the whole file is never held in memory. `shown` is the export's own
    name when `path` is a readable copy of it (`cscli.adapters.sniff`).
    """
    file = str(shown or path)
    quotes = pl.col("line").str.count_matches('"', literal=True).fill_null(0).cast(pl.Int64)
    outside = pl.col("line").fill_null("").str.replace_all(r'"[^"]*"', "")
    fields = outside.str.count_matches(sep, literal=True) + 1
    running = quotes.cum_sum()
    starts_inside = (running - quotes) % 2 == 1
    opened = pl.col("n").filter((running % 2 == 1) & ~starts_inside).max()
    header_fields = fields.first()
    ragged = ~starts_inside & (quotes % 2 == 0) & (fields > header_fields) & (pl.col("n") > 1)
    query = [
        quotes.sum().alias("quotes"),
        opened.alias("opened"),
        header_fields.alias("header"),
        pl.col("n").filter(ragged).min().alias("ragged"),
        fields.filter(ragged).first().alias("fields"),
    ]
    try:
        found = _lines(path).select(query).collect(engine="streaming").row(0, named=True)
    except pl.exceptions.PolarsError:
        found = _lines_in_memory(path).select(query).collect().row(0, named=True)
    if found["quotes"] is None:
        return None
    if found["quotes"] % 2 == 1:
        return InputError(
            f"line {found['opened']}: a quoted field starts here and is never closed "
            f"(an unmatched {chr(34)})",
            file=file,
            hint='close the quote; a quote inside a quoted field is written twice ("")',
        )
    if found["ragged"] is not None:
        word = DELIMITER_WORDS.get(sep, repr(sep))
        return InputError(
            f"line {found['ragged']}: {found['fields']} fields, but the header has "
            f"{found['header']}",
            file=file,
            hint=(
                f"a value containing a {word} must be quoted; if the file uses another "
                "delimiter, set `delimiter:` on the source"
            ),
        )
    return None


@dataclass(frozen=True, slots=True)
class Swallowed:
    """Records read as the text of a quoted field that runs on over later lines."""

    #: per swallowing record: (its row, first line, last line, lines in it that look like records)
    spans: tuple[tuple[int, int, int, int], ...]
    #: the row of every swallowing record (the header is row 1)
    rows: tuple[int, ...]
    #: lines inside quoted fields that look like records, over the whole file
    lines: int


def _count(lf: pl.LazyFrame) -> int | None:
    try:
        return int(lf.select(pl.len()).collect().item())
    except pl.exceptions.PolarsError:
        return None


def swallowed_records(path: Path, sep: str) -> Swallowed | None:
    """Quoted fields that swallow whole records: a quote opened on one line and closed lines
    later takes the lines between into one field (10 lines in, 6 records read).

    First, two fast counts (polars counts lines, and quote-aware records, without parsing):
    when the records are the lines less the header, no field spans lines and nothing more is
    read. Otherwise one streaming pass over the lines, as in `csv_structure_error`: a line
    whose running count of quotes before it is odd starts inside a quoted field; such a line
    looks like a record of its own when it has as many delimiters as a record (the header's
    fields less one). Fields spanning lines that do not look like records (a comment written
    over three lines) are ordinary multi-line text, and not reported.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, sep)
    if key not in _SWALLOWED:  # `validate` loads each source twice: count once
        _SWALLOWED[key] = _swallowed(path, sep)
    return _SWALLOWED[key]


_SWALLOWED: dict[tuple[str, int, int, str], Swallowed | None] = {}


def _swallowed(path: Path, sep: str) -> Swallowed | None:
    lines = _count(_lines(path))
    records = _count(
        pl.scan_csv(path, separator=sep, infer_schema=False, encoding="utf8-lossy", glob=False)
    )
    if lines is not None and records is not None and records + 1 >= lines:
        return None
    try:
        found = _swallow_query(_lines(path), sep).collect(engine="streaming")
    except pl.exceptions.PolarsError:
        found = _swallow_query(_lines_in_memory(path), sep).collect()
    if found.is_empty():
        return None
    spans = tuple(
        (int(r), int(a), int(b), int(k))
        for r, a, b, k in found.head(SPANS).select("_record", "first", "last", "looks").rows()
    )
    rows = tuple(int(r) for r in found["_record"])
    return Swallowed(spans, rows, int(found["looks"].sum()))


#: swallowing fields named in a finding (the count covers all)
SPANS = 3


def _swallow_query(lines: pl.LazyFrame, sep: str) -> pl.LazyFrame:
    """Per record spanning lines (`_record` is its row: the header is record 1), its first
    and last line and how many of its lines look like records; only those with some."""
    text = pl.col("line").fill_null("")
    quotes = text.str.count_matches('"', literal=True).cast(pl.Int64)
    inside = (quotes.cum_sum() - quotes) % 2 == 1
    delimiters = text.str.count_matches(sep, literal=True)
    header = text.str.replace_all(r'"[^"]*"', "").str.count_matches(sep, literal=True).first()
    return (
        lines.with_columns(
            _inside=inside,
            _record=(~inside).cast(pl.Int64).cum_sum(),
            _looks=inside & (delimiters >= header) & (header > 0),
        )
        .filter(pl.col("_inside"))
        .group_by("_record")
        .agg(
            (pl.col("n").min() - 1).alias("first"),
            pl.col("n").max().alias("last"),
            pl.col("_looks").sum().alias("looks"),
        )
        .filter(pl.col("looks") > 0)
        .sort("_record")
    )


# --- timestamps ---------------------------------------------------------------------------

_NUMERIC_DATE = (
    r"^(?<a>\d{1,2})(?<sep>[/.\-])(?<b>\d{1,2})[/.\-](?<year>\d{4}|\d{2})"
    r"(?:[ T]+(?<hour>\d{1,2}):(?<minute>\d{2})(?::(?<second>\d{2})(?<frac>\.\d+)?)?"
    r"\s*(?<ampm>[AaPp][Mm])?)?$"
)


def _format(sep: str, first: str, second: str, shape: dict[str, object]) -> str:
    fmt = f"%{first}{sep}%{second}{sep}{'%Y' if shape['long_year'] else '%y'}"
    if shape["hour"]:
        fmt += " %I:%M" if shape["ampm"] else " %H:%M"
        if shape["second"]:
            fmt += ":%S%.f" if shape["frac"] else ":%S"
        if shape["ampm"]:
            fmt += " %p"
    return fmt


def date_order_error(
    values: pl.Series, *, file: str, column: str, setting: str
) -> InputError | None:
    """An error asking for `timestamp_format` when stamps are numeric dates such as
    `03/04/2026 09:15`, whose day/month order cscli does not guess.

    Over the sampled values (at least half must look like `n/n/yyyy[ time]`): a first number
    above 12 somewhere (and no second one) means day first; a second number above 12 means
    month first; neither means the order cannot be told. In every case cscli asks for the
    format explicitly, and suggests the exact one.
    """
    parts = values.str.extract_groups(_NUMERIC_DATE)
    ok = parts.struct.field("a").is_not_null()
    if ok.sum() < max(1, len(values) / 2):
        return None
    found = parts.filter(ok).struct.unnest()
    first = found["a"].cast(pl.Int64)
    second = found["b"].cast(pl.Int64)
    example = values.filter(ok)[0]
    shape: dict[str, object] = {
        "long_year": len(found["year"][0]) == 4,
        "hour": found["hour"][0] is not None,
        "second": found["second"][0] is not None,
        "frac": found["frac"][0] is not None,
        "ampm": found["ampm"][0] is not None,
    }
    sep = found["sep"][0]
    day_first = _format(sep, "d", "m", shape)
    month_first = _format(sep, "m", "d", shape)
    high_first = bool((first > 12).any())
    high_second = bool((second > 12).any())
    if high_first and high_second:
        return None
    if high_first or high_second:
        which = first if high_first else second
        telling = values.filter(ok).filter(which > 12)[0]
        order, fmt = ("day-first", day_first) if high_first else ("month-first", month_first)
        return InputError(
            f"cannot read {example!r} as a date-time without its format: the dates are "
            f"{order} ({telling!r}), and cscli does not guess the order of day and month",
            file=file,
            column=column,
            hint=f'confirm it with {setting}: "{fmt}"',
        )
    return InputError(
        f"cannot read {example!r} as a date-time: it may be day-first or month-first (no "
        f"number above 12 in either place in the first {len(values):,} values)",
        file=file,
        column=column,
        hint=f'set {setting}: "{day_first}" (day first) or "{month_first}" (month first)',
    )
