"""The KPI kinds as polars expressions: one small class per kind, all it means in one place.

Each kind's class gives, side by side, its value and n (the records it rests on), valid inside
`group_by().agg()` and `select()`; for a maturing kind its open share; the records behind a
breached threshold (`breach`: which records to list, and each one's own value); and, for a kind
whose value is made of parts that merge across groups (counts add up, a mean is a sum over a
count), those parts (`parts`, `finish`). `cscli.engine.polars.compile` names the columns.

Booleans are summed as booleans and the sum cast to Int64: a polars sum of booleans is UInt32
and a difference of two wraps around (the NPS trap). A zero denominator gives null, never NaN
or infinity.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal

import polars as pl

from cscli.conditions import Condition
from cscli.engine.polars.bands import in_business_band
from cscli.engine.polars.conditions import meets
from cscli.engine.polars.measures import seconds
from cscli.kpis.columns import kind_sql, matures
from cscli.kpis.spec import (
    Count,
    DistinctRatio,
    Erlang,
    Kind,
    NetScore,
    Ratio,
    SqlAggregate,
    Stat,
    StateTime,
    Stock,
    stat_quantile,
)
from cscli.sqlcheck import parse

#: (records to list, their per-record value or None)
Breach = tuple[pl.Expr, pl.Expr | None]
#: how a part of two groups merges into the part of their union
Merge = Literal["sum", "min", "max"]
#: a kind's parts: name → (its aggregation over records, how two groups' values merge)
Parts = dict[str, tuple[pl.Expr, Merge]]
#: a kind's (value, n, open share) made of its parts (value None: a quantile, computed apart;
#: open share None: the kind does not mature)
Finished = tuple[pl.Expr | None, pl.Expr, pl.Expr | None]


@cache
def sql(text: str) -> pl.Expr:
    """A SQL expression over canonical columns as a polars expression.

    The text passes `cscli.sqlcheck` first (no subqueries, no table functions, bounded size):
    raises `SqlError` (a ValueError) otherwise, before polars reads it.
    """
    return parse(text)


def parse_kind(kind: Kind) -> None:
    """Parse every SQL text of the kind now (a config's custom KPI at load): raises `SqlError`
    for the first one polars cannot read."""
    for text in kind_sql(kind):
        sql(text)


def stat_values(kind: Stat) -> tuple[pl.Expr, pl.Expr]:
    """A statistic's value per record (Float64) and the records it keeps: a value, in the
    `where`, not negative when the kind says so (never null)."""
    v = sql(kind.value).cast(pl.Float64)
    keep = v.is_not_null()
    where = _mask(kind.where)
    if where is not None:
        keep = keep & where
    if kind.nonnegative:
        keep = keep & (v >= 0)
    return v, keep


def compiled(kind: Kind) -> KindCompiler:
    """The polars meaning of one kind."""
    match kind:
        case Count():
            return _Count(kind)
        case Ratio():
            return _Ratio(kind)
        case Stat():
            return _Stat(kind)
        case NetScore():
            return _NetScore(kind)
        case DistinctRatio():
            return _DistinctRatio(kind)
        case Stock():
            return _Stock(kind)
        case Erlang():
            return _Erlang(kind)
        case SqlAggregate():
            return _SqlAggregate(kind)
        case StateTime():
            return _StateTime(kind)


class KindCompiler(ABC):
    """What a kind means on polars."""

    @abstractmethod
    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        """The value and the records it rests on, over the records of the window [lo, hi)."""

    def open_share(self) -> pl.Expr:
        """The share of the cohort whose outcome is not known yet (null when the cohort is
        empty); only for a kind that `matures`."""
        raise TypeError(f"{type(self).__name__} does not mature")

    @abstractmethod
    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        """The records behind a breach (see `breach`); `good` is the KPI's direction."""

    def parts(self) -> Parts | None:
        """The kind's aggregations as parts that merge across groups (`Rollup`); None when
        it has none."""
        return None

    def finish(self, p: Mapping[str, pl.Expr]) -> Finished:
        """The value, n and open share of the parts' columns `p` (named as in `parts`)."""
        raise TypeError(f"{type(self).__name__} has no parts")


class _Parted(KindCompiler):
    """A kind made of parts: over the records, its value, n and open share are `finish` of
    the parts' own aggregations."""

    @abstractmethod
    def parts(self) -> Parts: ...

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        value, n, _ = self._direct()
        assert value is not None
        return value, n

    def open_share(self) -> pl.Expr:
        share = self._direct()[2]
        if share is None:
            raise TypeError(f"{type(self).__name__} does not mature")
        return share

    def _direct(self) -> Finished:
        return self.finish({name: expr for name, (expr, _) in self.parts().items()})


# --- the kinds ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Count(_Parted):
    kind: Count

    def parts(self) -> Parts:
        return {"n": (_count(_mask(self.kind.where)), "sum")}

    def finish(self, p: Mapping[str, pl.Expr]) -> Finished:
        return p["n"], p["n"], None

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return pl.lit(False), None


@dataclass(frozen=True, slots=True)
class _Ratio(_Parted):
    kind: Ratio

    def parts(self) -> Parts:
        k = self.kind
        parts: Parts = {
            "num": (_count(_mask(k.where, k.denominator, k.judged, k.numerator)), "sum"),
            "den": (_count(_mask(k.where, k.denominator, k.judged)), "sum"),
        }
        if matures(k):  # the cohort, and those of it whose outcome is not known yet
            cohort = _mask(k.where, k.denominator)
            unknown = _unknown(k.judged) if k.judged else _mask(k.pending)
            assert unknown is not None
            both = unknown if cohort is None else cohort & unknown
            parts |= {"unknown": (_count(both), "sum"), "cohort": (_count(cohort), "sum")}
        return parts

    def finish(self, p: Mapping[str, pl.Expr]) -> Finished:
        share = _safe_div(p["unknown"], p["cohort"]) if "unknown" in p else None
        return _safe_div(p["num"], p["den"]), p["den"], share

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        k = self.kind
        population = _where(k.where, k.denominator, k.judged)
        hit = sql(k.numerator).fill_null(False)
        if good is True:
            return population & ~hit, None
        if good is False:
            return population & hit, None
        return population, None


@dataclass(frozen=True, slots=True)
class _Stat(_Parted):
    """A mean is its values' sum over their count (polars' own mean, bit for bit); a
    quantile's value is no part (`cscli.engine.polars.quantiles` computes it apart)."""

    kind: Stat

    def parts(self) -> Parts:
        k = self.kind
        v, keep = stat_values(k)
        values = v.filter(keep)
        parts: Parts = {"n": (values.count().cast(pl.Int64), "sum")}
        if k.stat == "mean":
            parts["sum"] = (values.sum(), "sum")
        elif k.stat == "min":
            parts["min"] = (values.min(), "min")
        elif k.stat == "max":
            parts["max"] = (values.max(), "max")
        if k.pending:
            parts["pending"] = (_count(_mask(k.where, k.pending)), "sum")
            parts["cohort"] = (_count(_mask(k.where)), "sum")
        return parts

    def finish(self, p: Mapping[str, pl.Expr]) -> Finished:
        stat = self.kind.stat
        value = _safe_div(p["sum"], p["n"]) if stat == "mean" else p.get(stat)
        share = _safe_div(p["pending"], p["cohort"]) if "pending" in p else None
        return value, p["n"], share

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        q = stat_quantile(self.kind.stat)
        if q is None:
            return _Parted.value_n(self, lo, hi)  # slots: no zero-argument super()
        v, keep = stat_values(self.kind)
        values = v.filter(keep)
        return values.quantile(q, interpolation="linear"), values.count()

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        k = self.kind
        value = sql(k.value).cast(pl.Float64)
        base = _where(k.where) & value.is_not_null()
        if k.nonnegative:
            base = base & (value >= 0)
        return (base & meets(value, cond) if cond else base), value


@dataclass(frozen=True, slots=True)
class _NetScore(_Parted):
    kind: NetScore

    def parts(self) -> Parts:
        k = self.kind
        v = sql(k.value).cast(pl.Float64)
        where = _mask(k.where)
        scored = v.is_not_null() if where is None else v.is_not_null() & where
        # masks, not `v.filter(scored) >= …`: an operation on a filtered column inside an
        # aggregation sends polars' streaming group_by to the in-memory engine
        return {
            "promoters": (_count(scored & (v >= k.promoter_min)), "sum"),
            "detractors": (_count(scored & (v <= k.detractor_max)), "sum"),
            "n": (_count(scored), "sum"),
        }

    def finish(self, p: Mapping[str, pl.Expr]) -> Finished:
        return _safe_div((p["promoters"] - p["detractors"]) * 100, p["n"]), p["n"], None

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        value = sql(self.kind.value).cast(pl.Float64)
        return _where(self.kind.where) & (value <= self.kind.detractor_max), value


@dataclass(frozen=True, slots=True)
class _DistinctRatio(KindCompiler):
    kind: DistinctRatio

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        _, den, num = self._counts()
        return _safe_div(num, den), den

    def open_share(self) -> pl.Expr:
        every, judged, _ = self._counts()
        return _safe_div(every - judged, every)

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        hit = sql(self.kind.numerator).fill_null(False)
        return _where(self.kind.where) & (hit if good is False else ~hit), None

    def _counts(self) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        """(keys in the population, keys judged, keys in the numerator).

        With `judged`, a key is judged when one of its records is in the numerator or all of
        its records are judged: |all| − |U \\ S| with U the keys of an unjudged record and S
        the numerator's keys, and |U \\ S| = |U ∪ S| − |S|."""
        k = self.kind
        key = sql(k.key)

        def distinct(mask: pl.Expr | None) -> pl.Expr:
            values = key.filter(mask) if mask is not None else key
            return values.drop_nulls().n_unique().cast(pl.Int64)

        where = _mask(k.where)
        hit = _mask(k.numerator)
        assert hit is not None
        every = distinct(where)
        num = distinct(hit if where is None else where & hit)
        if k.judged is None:
            return every, every, num
        unknown_or_hit = _unknown(k.judged) | hit
        unknown_or_hit = unknown_or_hit if where is None else where & unknown_or_hit
        return every, every - distinct(unknown_or_hit) + num, num


@dataclass(frozen=True, slots=True)
class _Stock(KindCompiler):
    """A level over every record (not only the window's): `lo` and `hi` bound the window."""

    kind: Stock

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        k = self.kind
        where = _mask(k.where)

        def keep(e: pl.Expr) -> pl.Expr:
            return e if where is None else e & where

        end = _count(keep(self._open_at(hi)))
        if k.measure == "end":
            return end, end
        opened, closed = pl.col(k.opened), pl.col(k.closed)
        if lo is None:  # no period start: nobody is "active at the start"
            zero = pl.lit(0, dtype=pl.Int64)
            return pl.lit(None, dtype=pl.Float64), zero
        start = _count(keep(self._open_at(lo)))
        if k.measure == "retention":
            # N: customers who started in the period and are still active at its end
            in_window = opened >= lo if hi is None else (opened >= lo) & (opened < hi)
            new = _count(keep(in_window & self._open_at(hi)))
            return _safe_div(end - new, start), start
        closed_in = closed >= lo if hi is None else (closed >= lo) & (closed < hi)
        lost = _count(keep((opened < lo) & closed_in))
        return _safe_div(lost, start), start

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        """The records open at `hi`, each with its age then (how long it has been open)."""
        age = None if hi is None else seconds(pl.lit(hi) - pl.col(self.kind.opened))
        return _where(self.kind.where) & self._open_at(hi), age

    def _open_at(self, at: datetime | None) -> pl.Expr:
        """Records open at instant `at` (or still open, after the last record, when None),
        and for an age band aged [age_from, age_below) then (without `at`, at `AS_OF`)."""
        k = self.kind
        opened, closed = pl.col(k.opened), pl.col(k.closed)
        if at is None:
            open_now = opened.is_not_null() & closed.is_null()
            when: pl.Expr = pl.col(AS_OF)
        else:
            open_now = (opened < at) & (closed.is_null() | (closed >= at))
            when = pl.lit(at)
        if not k.banded:
            return open_now
        if k.age_hours == "business":
            return (open_now & in_business_band(k, when)).fill_null(False)
        age = (when - opened).dt.total_microseconds()  # exact on the edges
        if k.age_from is not None:
            open_now = open_now & (age >= round(k.age_from * 1_000_000))
        if k.age_below is not None:
            open_now = open_now & (age < round(k.age_below * 1_000_000))
        return open_now.fill_null(False)


#: the instant an age band is measured at without a period end: the newest opened or closed
#: instant of the records (`with_as_of`)
AS_OF = "_as_of"


def with_as_of(frame: pl.LazyFrame, kind: Kind, hi: datetime | None) -> pl.LazyFrame:
    """Add `AS_OF` over all the records (before any grouping) for a banded stock without a
    period end; the frame as it is otherwise."""
    if hi is not None or not isinstance(kind, Stock) or not kind.banded:
        return frame
    stamps = pl.max_horizontal(pl.col(kind.opened).max(), pl.col(kind.closed).max())
    return frame.with_columns(stamps.alias(AS_OF))


@dataclass(frozen=True, slots=True)
class _SqlAggregate(KindCompiler):
    kind: SqlAggregate

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        return sql(self.kind.expr).cast(pl.Float64), pl.len().cast(pl.Int64)

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return _where(), None


@dataclass(frozen=True, slots=True)
class _Erlang(_Parted):
    """The additive parts of an Erlang number: n = offered records, value = their mean handle
    time over answered records; `cscli.engine.polars.staffing` turns them into the number."""

    kind: Erlang

    def parts(self) -> Parts:
        k = self.kind
        handle = sql(k.handle).cast(pl.Float64)
        keep = handle.is_not_null() & (handle >= 0)
        answered = _mask(k.answered)
        if answered is not None:
            keep = keep & answered
        handled = handle.filter(keep)
        return {
            "sum": (handled.sum(), "sum"),
            "handled": (handled.count().cast(pl.Int64), "sum"),
            "offered": (_count(_mask(k.offered)), "sum"),
        }

    def finish(self, p: Mapping[str, pl.Expr]) -> Finished:
        return _safe_div(p["sum"], p["handled"]), p["offered"], None

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return _where(self.kind.offered), None


@dataclass(frozen=True, slots=True)
class _StateTime(KindCompiler):
    """Over the segments of `cscli.engine.polars.states.segments`: `_sec` (a state row's
    seconds inside one bucket), `state`, `_len` (the bucket's seconds) and `_row`."""

    kind: StateTime

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[pl.Expr, pl.Expr]:
        k = self.kind
        sec = pl.col("_sec")
        num = sec.filter(pl.col("state").is_in(list(k.numerator))).sum()
        if k.denominator:
            den = sec.filter(pl.col("state").is_in(list(k.denominator))).sum()
        else:
            den = pl.col("_len").max()
        return _safe_div(num, den), pl.col("_seg").n_unique()

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return pl.col("state").is_in(list(self.kind.numerator)), None


# --- shared pieces ------------------------------------------------------------------------


def _mask(*predicates: str | None) -> pl.Expr | None:
    """A boolean mask in which null (unknown) counts as false; None when nothing filters."""
    expr: pl.Expr | None = None
    for p in predicates:
        if p:
            term = sql(p).fill_null(False)
            expr = term if expr is None else expr & term
    return expr


def _where(*predicates: str | None) -> pl.Expr:
    """The records matching every predicate (null counts as false); all records without any."""
    expr = pl.lit(True)
    for p in predicates:
        if p:
            expr = expr & sql(p).fill_null(False)
    return expr


def _unknown(judged: str) -> pl.Expr:
    """Records not judged: the predicate does not hold *or is unknown* (null)."""
    mask = _mask(judged)
    assert mask is not None
    return ~mask


def _count(mask: pl.Expr | None) -> pl.Expr:
    # a boolean's own sum: casting each value to Int64 first took ten times as long
    return pl.len().cast(pl.Int64) if mask is None else mask.sum().cast(pl.Int64)


def _safe_div(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None)
