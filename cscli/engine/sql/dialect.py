"""The dialect-sensitive SQL functions, written by us for each engine (never transpiled).

sqlglot renders the generic nodes (comparisons, CASE, COALESCE, COUNT…) for any dialect, but
its transpiler maps quantiles, time zones and epochs WRONGLY between DuckDB and Spark
(`quantile_cont` → a Spark `PERCENTILE_CONT` that takes one argument, `percentile_cont …
WITHIN GROUP` → `PERCENTILE_APPROX`, `from_utc_timestamp` → DuckDB `AT TIME ZONE`, which
converts the other way). So every function whose name or meaning differs between the engines
is built here as an `exp.Anonymous` call with the engine's own name, from one small table
(`_FUNCTIONS`), and a tree is rendered (`Dialect.render`) only once all of them are ours.

The meanings are polars' (the reference engine):

- a duration is µs × 1e-6 (polars multiplies by the reciprocal; an exact division differs
  from it in the last bit in about 29% of values);
- a UTC instant's local wall time, date, hour and ISO weekday (1 = Monday … 7 = Sunday) in a
  zone; a grain's bucket: the local date that starts it (ISO weeks from Monday), or for an
  interval grain the UTC instant that starts the local interval (two buckets for the repeated
  hour of a fall-back day, as polars);
- exact linear quantiles (never an approximate percentile);
- the value at the smallest order keeping NULL values (DuckDB `arg_min` skips them);
- trim of every Unicode whitespace character (polars `strip_chars()`, Rust `char::is_whitespace`);
- decimal literals as DOUBLE (DuckDB and Spark read `1.0` as DECIMAL);
- `a / b` is IEEE division of doubles (`1 / 0` is inf, `0 / 0` NaN: polars), `a // b` and
  `a % b` truncate toward zero, NULL for an integer zero divisor (polars);
- GREATEST / LEAST skip NULL (polars `max_horizontal` / `min_horizontal`).

Sessions run in UTC (DuckDB `SET TimeZone='UTC'`, Spark `spark.sql.session.timeZone=UTC`);
timestamps are UTC instants (DuckDB TIMESTAMPTZ, Spark TIMESTAMP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlglot import exp

from cscli.period import Grain

Name = Literal["duckdb", "spark"]

#: the dialect-sensitive functions: our name → (DuckDB, Spark) function names
_FUNCTIONS: dict[str, tuple[str, str]] = {
    "epoch_us": ("epoch_us", "unix_micros"),
    "quantile": ("quantile_cont", "percentile"),
    "first_by": ("arg_min_null", "min_by"),
    "struct": ("row", "struct"),
    "regexp_replace": ("regexp_replace", "regexp_replace"),
    "round_even": ("round_even", "bround"),
    "from_micros": ("make_timestamp", "timestamp_micros"),
    "hour": ("hour", "hour"),
    "length": ("length", "char_length"),
    "isnan": ("isnan", "isnan"),
    "starts_with": ("starts_with", "startswith"),
    "ends_with": ("ends_with", "endswith"),
    "replace": ("replace", "replace"),
    "left": ("left", "left"),
    "right": ("right", "right"),
}

#: every Unicode White_Space character (what Rust's `char::is_whitespace`, hence polars'
#: `strip_chars()`, removes), as a regular-expression class both RE2 and Java read
_WHITESPACE = (
    r"[\x{09}-\x{0d}\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)

#: the local-date truncation unit of each day-or-longer grain (same word in both engines)
_TRUNC = {"day": None, "week": "week", "month": "month", "quarter": "quarter"}


@dataclass(frozen=True)
class Dialect:
    """One engine's SQL: `name` is "duckdb" or "spark"; `sqlglot` the sqlglot dialect that
    renders the generic nodes."""

    name: Name
    sqlglot: str

    # --- plumbing ---------------------------------------------------------------------

    def fn(self, name: str, *args: exp.Expr) -> exp.Expr:
        """A call of one of the functions of `_FUNCTIONS`, under this engine's name."""
        duck, spark = _FUNCTIONS[name]
        return exp.Anonymous(this=duck if self.name == "duckdb" else spark, expressions=list(args))

    def render(self, e: exp.Expr) -> str:
        """The SQL text of a tree whose dialect-sensitive nodes are all ours."""
        return e.sql(dialect=self.sqlglot)

    # --- literals and types -----------------------------------------------------------

    def double(self, v: exp.Expr | float | int) -> exp.Expr:
        """`CAST(v AS DOUBLE)`: a float literal (a bare `1.0` is DECIMAL in DuckDB and Spark,
        Float64 in polars) or a value as a double."""
        if isinstance(v, bool):
            raise TypeError("double() takes a number or an expression")
        if isinstance(v, int | float):
            v = exp.Literal.number(repr(float(v)))
        elif isinstance(v, exp.Cast) and v.to.this == exp.DataType.Type.DOUBLE:
            return v
        return exp.Cast(this=v, to=exp.DataType.build("DOUBLE"))

    def bigint(self, v: exp.Expr | int) -> exp.Expr:
        """`CAST(v AS BIGINT)`: an Int64 count or literal."""
        if isinstance(v, int):
            v = exp.Literal.number(str(v))
        return exp.Cast(this=v, to=exp.DataType.build("BIGINT"))

    def timestamp(self, dt: datetime) -> exp.Expr:
        """A UTC instant as a literal (an aware `dt`, or a naive one read as UTC)."""
        at = dt.astimezone(UTC) if dt.tzinfo is not None else dt
        text = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        if self.name == "duckdb":
            return exp.Cast(
                this=exp.Literal.string(text + "+00:00"), to=exp.DataType.build("TIMESTAMPTZ")
            )
        # Spark's TIMESTAMP is an instant; the session zone is UTC, the offset says so anyway
        return exp.Cast(this=exp.Literal.string(text + "Z"), to=exp.DataType.build("TIMESTAMP"))

    # --- time -------------------------------------------------------------------------

    def epoch_us(self, ts: exp.Expr) -> exp.Expr:
        """Microseconds since 1970-01-01 UTC (BIGINT)."""
        return self.fn("epoch_us", ts)

    def seconds(self, us: exp.Expr) -> exp.Expr:
        """Seconds from a microsecond count: µs × 1e-6, as polars computes every duration."""
        micro = exp.Cast(this=exp.Literal.number("1e-06"), to=exp.DataType.build("DOUBLE"))
        return exp.Mul(this=self.double(exp.Paren(this=us)), expression=micro)

    def seconds_between(self, end: exp.Expr, start: exp.Expr) -> exp.Expr:
        """`end − start` in seconds (DOUBLE): `CAST(epoch_us(end) − epoch_us(start) AS
        DOUBLE) * CAST(1e-06 AS DOUBLE)`, bit-identical to polars."""
        return self.seconds(exp.Sub(this=self.epoch_us(end), expression=self.epoch_us(start)))

    def local_ts(self, ts: exp.Expr, tz: str) -> exp.Expr:
        """The local wall-clock time in zone `tz` of a UTC instant, as a zone-less timestamp."""
        zone = exp.Literal.string(tz)
        if self.name == "duckdb":
            return exp.Anonymous(this="timezone", expressions=[zone, ts])
        return exp.Anonymous(this="from_utc_timestamp", expressions=[ts, zone])

    def local_date(self, ts: exp.Expr, tz: str) -> exp.Expr:
        """The local date in zone `tz` of a UTC instant."""
        local = self.local_ts(ts, tz)
        if self.name == "duckdb":
            return exp.Cast(this=local, to=exp.DataType.build("DATE"))
        return exp.Anonymous(this="to_date", expressions=[local])

    def offset_us(self, ts: exp.Expr, tz: str) -> exp.Expr:
        """Local wall time − UTC at instant `ts`, in microseconds (+3600000000 in CET)."""
        local = self.epoch_us(self.local_ts(ts.copy(), tz))
        return exp.Sub(this=local, expression=self.epoch_us(ts.copy()))

    def bucket(self, ts: exp.Expr, grain: str, tz: str) -> exp.Expr:
        """The bucket of a UTC instant: for day, week (ISO, from Monday), month and quarter
        the local DATE that starts it; for an interval grain (15m, 30m, hour) the UTC instant
        that starts the local interval, `ts − ((epoch_us(ts) + offset) mod length)` (the
        driver converts it to `Datetime("us", zone)`)."""
        g = Grain(grain)
        if g.seconds is not None:
            length = exp.Literal.number(str(g.seconds * 1_000_000))
            wall = exp.Add(
                this=self.epoch_us(ts.copy()), expression=exp.Paren(this=self.offset_us(ts, tz))
            )
            start = exp.Sub(this=self.epoch_us(ts.copy()), expression=self.floor_mod(wall, length))
            made = self.fn("from_micros", start)
            if self.name == "duckdb":  # make_timestamp gives a zone-less TIMESTAMP (UTC)
                return exp.Cast(this=made, to=exp.DataType.build("TIMESTAMPTZ"))
            return made
        day = self.local_date(ts, tz)
        unit = _TRUNC[g.value]
        if unit is None:
            return day
        if self.name == "duckdb":
            trunc = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(unit), day])
            return exp.Cast(this=trunc, to=exp.DataType.build("DATE"))
        return exp.Anonymous(this="trunc", expressions=[day, exp.Literal.string(unit)])

    def hour_of_day(self, ts: exp.Expr, tz: str) -> exp.Expr:
        """The local hour (0–23) of a UTC instant."""
        return self.fn("hour", self.local_ts(ts, tz))

    def weekday(self, ts: exp.Expr, tz: str) -> exp.Expr:
        """The local ISO weekday of a UTC instant: 1 = Monday … 7 = Sunday (Spark's
        `dayofweek` is 1 = Sunday: its `weekday` is 0 = Monday, plus one)."""
        local = self.local_ts(ts, tz)
        if self.name == "duckdb":
            return exp.Anonymous(this="isodow", expressions=[local])
        day = exp.Anonymous(this="to_date", expressions=[local])
        return exp.Add(
            this=exp.Anonymous(this="weekday", expressions=[day]),
            expression=exp.Literal.number("1"),
        )

    # --- aggregates -------------------------------------------------------------------

    def quantile(self, x: exp.Expr, q: float) -> exp.Expr:
        """The exact linearly interpolated quantile `q` of `x` (polars `quantile(q,
        "linear")`): DuckDB `quantile_cont`, Spark `percentile`; never an approximation."""
        return self.fn("quantile", x, self.double(q))

    def first_by(self, x: exp.Expr, order: Sequence[exp.Expr]) -> exp.Expr:
        """The value of `x` on the row with the smallest `order` (a tuple compared left to
        right), NULL values of `x` kept: DuckDB `arg_min_null`, Spark `min_by` over a struct."""
        key = order[0] if len(order) == 1 else self.fn("struct", *order)
        return self.fn("first_by", x, key)

    # --- scalars ----------------------------------------------------------------------

    def trim(self, x: exp.Expr) -> exp.Expr:
        """`x` without leading and trailing whitespace, every Unicode White_Space character
        (SQL TRIM removes spaces only)."""
        # \A and \z: the ends of the text (Java's `$` also matches before a final newline)
        pattern = exp.Literal.string(rf"\A{_WHITESPACE}+|{_WHITESPACE}+\z")
        args: list[exp.Expr] = [x, pattern, exp.Literal.string("")]
        if self.name == "duckdb":
            args.append(exp.Literal.string("g"))  # Spark replaces every match already
        return self.fn("regexp_replace", *args)

    def length(self, x: exp.Expr) -> exp.Expr:
        """The number of characters of a string."""
        return self.fn("length", x)

    def concat(self, *xs: exp.Expr) -> exp.Expr:
        """The strings joined, NULLs skipped (polars SQL `concat`: all NULL gives '');
        Spark's `concat` is NULL as soon as one is, its `concat_ws('', …)` skips them."""
        if self.name == "duckdb":
            return exp.Anonymous(this="concat", expressions=list(xs))
        return exp.Anonymous(this="concat_ws", expressions=[exp.Literal.string(""), *xs])

    def round(self, x: exp.Expr, digits: exp.Expr | None = None) -> exp.Expr:
        """Round half to even (polars `round`), to `digits` decimals (0 when None)."""
        return self.fn("round_even", x, digits if digits is not None else exp.Literal.number("0"))

    def divide(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """`a / b` as polars divides: doubles, IEEE (x / 0 is ±inf, 0 / 0 NaN, NULL in →
        NULL). DuckDB divides so; Spark returns NULL or raises for a zero divisor, so the
        zero case is spelled out there."""
        quotient = exp.Div(this=self.double(a), expression=self.double(b))
        if self.name == "duckdb":
            return quotient
        inf = exp.Cast(this=exp.Literal.string("Infinity"), to=exp.DataType.build("DOUBLE"))
        nan = exp.Cast(this=exp.Literal.string("NaN"), to=exp.DataType.build("DOUBLE"))
        zero = exp.Literal.number("0")
        nan_or_zero = exp.Or(
            this=self.fn("isnan", self.double(a.copy())),
            expression=exp.EQ(this=a.copy(), expression=zero.copy()),
        )
        by_zero = exp.Case(  # NaN first: Spark orders NaN above every number
            ifs=[
                exp.If(this=nan_or_zero, true=nan),
                exp.If(this=exp.GT(this=a.copy(), expression=zero.copy()), true=inf),
                exp.If(
                    this=exp.LT(this=a.copy(), expression=zero.copy()),
                    true=exp.Neg(this=inf.copy()),
                ),
            ]
        )
        return exp.Case(
            ifs=[exp.If(this=exp.EQ(this=b.copy(), expression=zero.copy()), true=by_zero)],
            default=quotient,
        )

    def int_div(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """`a // b` as polars SQL: truncated toward zero (−7 // 2 = −3), NULL for a zero
        divisor."""
        if self.name == "duckdb":
            return exp.Anonymous(this="try", expressions=[exp.IntDiv(this=a, expression=b)])
        return _unless_zero(b, exp.IntDiv(this=a, expression=b))

    def mod(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """`a % b` as polars SQL: the sign of `a` (−7 % 2 = −1), NULL for a zero divisor."""
        if self.name == "duckdb":
            return exp.Anonymous(this="try", expressions=[exp.Mod(this=a, expression=b)])
        return _unless_zero(b, exp.Mod(this=a, expression=b))

    def floor_mod(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """`a mod b` for integers and b > 0, in [0, b) whatever the sign of a (the offset
        into a bucket): `((a % b) + b) % b`."""
        inner = exp.Mod(this=exp.Paren(this=a), expression=b)
        plus = exp.Add(this=inner, expression=b.copy())
        return exp.Mod(this=exp.Paren(this=plus), expression=b.copy())

    def floor_div(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """`floor(a / b)` for integers and b > 0, exactly (polars `//` on Int64 columns is a
        floor division): `(a − floor_mod(a, b)) / b` divides without a remainder."""
        exact = exp.Sub(this=exp.Paren(this=a.copy()), expression=self.floor_mod(a, b))
        return exp.IntDiv(this=exp.Paren(this=exact), expression=b.copy())

    def greatest(self, *xs: exp.Expr) -> exp.Expr:
        """The largest non-NULL value (NULL when all are NULL), as `max_horizontal`."""
        return exp.Anonymous(this="greatest", expressions=list(xs))

    def least(self, *xs: exp.Expr) -> exp.Expr:
        """The smallest non-NULL value (NULL when all are NULL), as `min_horizontal`."""
        return exp.Anonymous(this="least", expressions=list(xs))


def _unless_zero(b: exp.Expr, e: exp.Expr) -> exp.Expr:
    zero = exp.EQ(this=b.copy(), expression=exp.Literal.number("0"))
    return exp.Case(ifs=[exp.If(this=zero, true=exp.Null())], default=e)


DUCKDB = Dialect("duckdb", "duckdb")
SPARK = Dialect("spark", "spark")

_BY_NAME = {"duckdb": DUCKDB, "spark": SPARK}


def dialect_for(name: str) -> Dialect:
    """The dialect of an engine name ("duckdb", "spark"); raises ValueError otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise ValueError(f"no SQL dialect for engine {name!r}: expected one of {known}") from None
