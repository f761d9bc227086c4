"""The KPI kinds as SQL: one small class per kind, line for line the classes of
`cscli.engine.polars.compile` (value and n, open share, breach), over sqlglot trees.

The SQL texts of a kind are compiled per dialect by `cscli.engine.sql.text.compile_sql`;
`compiled(kind, d)` gives its class. Every class builds fresh trees on each call (sqlglot
trees are mutable: a node has one parent).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from cscli.conditions import Condition
from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.text import compile_sql
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

Breach = tuple[exp.Expr, exp.Expr | None]


class Unsupported(ValueError):
    """A kind the SQL engines do not compute; the message says why (for "unavailable on the
    <engine> engine: …")."""


def compiled(kind: Kind, d: Dialect) -> KindSql:
    """The SQL meaning of one kind on dialect `d`; raises Unsupported (StateTime)."""
    match kind:
        case Count():
            return _Count(kind, d)
        case Ratio():
            return _Ratio(kind, d)
        case Stat():
            return _Stat(kind, d)
        case NetScore():
            return _NetScore(kind, d)
        case DistinctRatio():
            return _DistinctRatio(kind, d)
        case Stock():
            return _Stock(kind, d)
        case Erlang():
            return _Erlang(kind, d)
        case SqlAggregate():
            return _SqlAggregate(kind, d)
        case StateTime():
            raise Unsupported(
                "agent state time is split at the bucket edges by the polars engine only"
            )


class KindSql(ABC):
    """What a kind means in SQL."""

    d: Dialect

    @abstractmethod
    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        """The value and the records it rests on, over the records of the window [lo, hi)."""

    def open_share(self) -> exp.Expr:
        """The share of the cohort whose outcome is not known yet (NULL for an empty
        cohort); only for a kind that `matures`."""
        raise TypeError(f"{type(self).__name__} does not mature")

    @abstractmethod
    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        """The records behind a breach; `good` is the KPI's direction."""

    # --- shared pieces (polars: _mask, _where, _unknown, _count, _safe_div) ------------

    def sql(self, text: str) -> exp.Expr:
        return exp.Paren(this=compile_sql(text, self.d))

    def mask(self, *predicates: str | None) -> exp.Expr | None:
        """A boolean mask in which NULL counts as false; None when nothing filters."""
        out: exp.Expr | None = None
        for p in predicates:
            if p:
                term = _fill_false(self.sql(p))
                out = term if out is None else exp.And(this=out, expression=term)
        return out

    def where(self, *predicates: str | None) -> exp.Expr:
        """The records matching every predicate (NULL counts as false); TRUE without any."""
        out: exp.Expr = exp.true()
        for p in predicates:
            if p:
                out = exp.And(this=out, expression=_fill_false(self.sql(p)))
        return out

    def unknown(self, judged: str) -> exp.Expr:
        """Records not judged: the predicate does not hold or is unknown (NULL)."""
        mask = self.mask(judged)
        assert mask is not None
        return exp.Not(this=exp.Paren(this=mask))

    def double(self, text: str) -> exp.Expr:
        return self.d.double(self.sql(text))


def _fill_false(e: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=e, expressions=[exp.false()])


def _and(a: exp.Expr | None, b: exp.Expr) -> exp.Expr:
    return b if a is None else exp.And(this=a, expression=b)


def count(mask: exp.Expr | None) -> exp.Expr:
    """`COUNT(*)`, or the rows where `mask` holds: `COUNT(CASE WHEN m THEN 1 END)`."""
    if mask is None:
        return exp.Count(this=exp.Star())
    return exp.Count(this=exp.Case(ifs=[exp.If(this=mask, true=exp.Literal.number("1"))]))


def safe_div(num: exp.Expr, den: exp.Expr) -> exp.Expr:
    """`CASE WHEN den > 0 THEN CAST(num AS DOUBLE) / den END`: NULL for a zero denominator."""
    quotient = exp.Div(
        this=exp.Cast(this=num, to=exp.DataType.build("DOUBLE")),
        expression=exp.Paren(this=den.copy()),
    )
    positive = exp.GT(this=exp.Paren(this=den), expression=exp.Literal.number("0"))
    return exp.Case(ifs=[exp.If(this=positive, true=quotient)])


def _keep(keep: exp.Expr, value: exp.Expr) -> exp.Expr:
    """`CASE WHEN keep THEN value END`: the values of the kept records (polars' filter)."""
    return exp.Case(ifs=[exp.If(this=keep, true=value)])


def _not_null(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def _is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=e, expression=exp.Null())


def column(name: str) -> exp.Expr:
    return exp.column(name, quoted=True)


def statistic(d: Dialect, values: exp.Expr, stat: str) -> exp.Expr:
    q = stat_quantile(stat)
    if q is not None:
        return d.quantile(values, q)
    if stat == "mean":
        return exp.Avg(this=values)
    if stat == "min":  # NaN sorts above every number: MIN skips it unless all are NaN
        return exp.Min(this=values)
    return nan_max(d, values)


def nan_max(d: Dialect, values: exp.Expr) -> exp.Expr:
    """polars' `max` of doubles: the largest number, NaN only when every value is NaN (SQL
    engines order NaN above every number, so their MAX is NaN as soon as one is):
    `COALESCE(MAX(CASE WHEN isnan(v) THEN NULL ELSE v END), MAX(v))`."""
    numbers = exp.Case(
        ifs=[exp.If(this=d.fn("isnan", values.copy()), true=exp.Null())], default=values.copy()
    )
    return exp.Coalesce(this=exp.Max(this=numbers), expressions=[exp.Max(this=values)])


def condition(d: Dialect, value: exp.Expr, cond: Condition) -> exp.Expr:
    """The records whose own value meets a threshold condition (`> 1h`, `between …`)."""
    low = d.double(cond.low.value)
    ops: dict[str, type[exp.Binary]] = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    if cond.op in ops:
        return ops[cond.op](this=value, expression=low)
    assert cond.high is not None
    inside = exp.Between(this=value, low=low, high=d.double(cond.high.value))
    return inside if cond.op == "between" else exp.Not(this=exp.Paren(this=inside))


# --- the kinds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Count(KindSql):
    kind: Count
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        n = self.d.bigint(count(self.mask(self.kind.where)))
        return n, n.copy()

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return exp.false(), None


@dataclass(frozen=True)
class _Ratio(KindSql):
    kind: Ratio
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        k = self.kind
        num = count(self.mask(k.where, k.denominator, k.judged, k.numerator))
        den = count(self.mask(k.where, k.denominator, k.judged))
        return safe_div(num, den), den.copy()

    def open_share(self) -> exp.Expr:
        k = self.kind
        cohort = self.mask(k.where, k.denominator)
        unknown = self.unknown(k.judged) if k.judged else self.mask(k.pending)
        assert unknown is not None
        both = unknown if cohort is None else exp.And(this=cohort.copy(), expression=unknown)
        return safe_div(count(both), count(cohort))

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        k = self.kind
        population = self.where(k.where, k.denominator, k.judged)
        hit = _fill_false(self.sql(k.numerator))
        if good is True:
            return exp.And(this=population, expression=exp.Not(this=hit)), None
        if good is False:
            return exp.And(this=population, expression=hit), None
        return population, None


@dataclass(frozen=True)
class _Stat(KindSql):
    kind: Stat
    d: Dialect

    def _keep(self) -> exp.Expr:
        k = self.kind
        v = self.double(k.value)
        keep: exp.Expr = _not_null(v)
        where = self.mask(k.where)
        if where is not None:
            keep = exp.And(this=keep, expression=where)
        if k.nonnegative:
            zero = exp.GTE(this=self.double(k.value), expression=exp.Literal.number("0"))
            keep = exp.And(this=keep, expression=zero)
        return keep

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        k = self.kind
        values = _keep(self._keep(), self.double(k.value))
        return statistic(self.d, values, k.stat), exp.Count(this=values.copy())

    def open_share(self) -> exp.Expr:
        k = self.kind
        return safe_div(count(self.mask(k.where, k.pending)), count(self.mask(k.where)))

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        k = self.kind
        base = exp.And(this=self.where(k.where), expression=_not_null(self.double(k.value)))
        if k.nonnegative:
            zero = exp.GTE(this=self.double(k.value), expression=exp.Literal.number("0"))
            base = exp.And(this=base, expression=zero)
        if cond:
            base = exp.And(this=base, expression=condition(self.d, self.double(k.value), cond))
        return base, self.double(k.value)


@dataclass(frozen=True)
class _NetScore(KindSql):
    kind: NetScore
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        k = self.kind
        keep = _and(self.mask(k.where), _not_null(self.double(k.value)))
        values = _keep(keep, self.double(k.value))

        def share(op: type[exp.Binary], bound: float) -> exp.Expr:
            return count(op(this=values.copy(), expression=self.d.double(bound)))

        promoters = share(exp.GTE, k.promoter_min)
        detractors = share(exp.LTE, k.detractor_max)
        net = exp.Mul(
            this=exp.Paren(this=exp.Sub(this=promoters, expression=detractors)),
            expression=exp.Literal.number("100"),
        )
        n = exp.Count(this=values)
        return safe_div(net, n), n.copy()

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        k = self.kind
        low = exp.LTE(this=self.double(k.value), expression=self.d.double(k.detractor_max))
        return exp.And(this=self.where(k.where), expression=low), self.double(k.value)


@dataclass(frozen=True)
class _DistinctRatio(KindSql):
    kind: DistinctRatio
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        _, den, num = self._counts()
        return safe_div(num, den), den.copy()

    def open_share(self) -> exp.Expr:
        every, judged, _ = self._counts()
        return safe_div(exp.Sub(this=every, expression=exp.Paren(this=judged)), every.copy())

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        hit = _fill_false(self.sql(self.kind.numerator))
        mark = hit if good is False else exp.Not(this=hit)
        return exp.And(this=self.where(self.kind.where), expression=mark), None

    def _counts(self) -> tuple[exp.Expr, exp.Expr, exp.Expr]:
        """(keys in the population, keys judged, keys in the numerator); with `judged`,
        |all| − |U ∪ S| + |S| (U: keys of an unjudged record, S: the numerator's keys)."""
        k = self.kind

        def distinct(mask: exp.Expr | None) -> exp.Expr:
            key = self.sql(k.key)
            values = key if mask is None else _keep(mask, key)
            return exp.Count(this=exp.Distinct(expressions=[values]))

        every = distinct(self.mask(k.where))
        hit = self.mask(k.numerator)
        assert hit is not None
        num = distinct(_and(self.mask(k.where), hit))
        if k.judged is None:
            return every, every.copy(), num
        unknown_or_hit: exp.Expr = exp.Or(this=self.unknown(k.judged), expression=hit.copy())
        unknown_or_hit = _and(self.mask(k.where), exp.Paren(this=unknown_or_hit))
        judged = exp.Add(
            this=exp.Sub(this=every.copy(), expression=distinct(unknown_or_hit)),
            expression=num.copy(),
        )
        return every, judged, num


@dataclass(frozen=True)
class _Stock(KindSql):
    """A level over every record (not only the window's): `lo` and `hi` bound the window."""

    kind: Stock
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        k = self.kind

        def keep(e: exp.Expr) -> exp.Expr:
            where = self.mask(k.where)
            return e if where is None else exp.And(this=e, expression=where)

        end = count(keep(self._open_at(hi)))
        if k.measure == "end":
            return end, end.copy()
        if lo is None:  # no period start: nobody is "active at the start"
            # aggregates, so that a totals query gives one row (polars' broadcast literals)
            null = exp.Max(this=exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE")))
            return null, count(exp.false())
        start = count(keep(self._open_at(lo)))
        if k.measure == "retention":
            # N: customers who started in the period and are still active at its end
            in_window: exp.Expr = exp.GTE(this=self._opened(), expression=self._at(lo))
            if hi is not None:
                before = exp.LT(this=self._opened(), expression=self._at(hi))
                in_window = exp.And(this=in_window, expression=before)
            new = count(keep(exp.And(this=in_window, expression=self._open_at(hi))))
            kept = exp.Sub(this=end, expression=new)
            return safe_div(kept, start), start.copy()
        closed_in: exp.Expr = exp.GTE(this=self._closed(), expression=self._at(lo))
        if hi is not None:
            closed_in = exp.And(
                this=closed_in, expression=exp.LT(this=self._closed(), expression=self._at(hi))
            )
        opened_before = exp.LT(this=self._opened(), expression=self._at(lo))
        lost = count(keep(exp.And(this=opened_before, expression=closed_in)))
        return safe_div(lost, start), start.copy()

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        """The records open at `hi`, each with its age then (how long it has been open)."""
        age = None if hi is None else self.d.seconds_between(self._at(hi), self._opened())
        return exp.And(this=self.where(self.kind.where), expression=self._open_at(hi)), age

    def _opened(self) -> exp.Expr:
        return self.sql(self.kind.opened)

    def _closed(self) -> exp.Expr:
        return self.sql(self.kind.closed)

    def _at(self, at: datetime) -> exp.Expr:
        return self.d.timestamp(at)

    def _open_at(self, at: datetime | None) -> exp.Expr:
        """Records open at instant `at` (or still open, after the last record, when None),
        and for an age band aged [age_from, age_below) then (without `at`, at the column
        `AS_OF`: see `as_of`)."""
        k = self.kind
        if at is None:
            open_now: exp.Expr = exp.And(
                this=_not_null(self._opened()), expression=_is_null(self._closed())
            )
            when: exp.Expr = column(AS_OF)
        else:
            still = exp.Or(
                this=_is_null(self._closed()),
                expression=exp.GTE(this=self._closed(), expression=self._at(at)),
            )
            opened = exp.LT(this=self._opened(), expression=self._at(at))
            open_now = exp.And(this=opened, expression=exp.Paren(this=still))
            when = self._at(at)
        if not k.banded:
            return exp.Paren(this=open_now)
        # the age in whole microseconds: exact on the band's edges
        age = exp.Sub(this=self.d.epoch_us(when), expression=self.d.epoch_us(self._opened()))
        if k.age_from is not None:
            bound = exp.Literal.number(str(round(k.age_from * 1_000_000)))
            open_now = exp.And(this=open_now, expression=exp.GTE(this=age, expression=bound))
        if k.age_below is not None:
            bound = exp.Literal.number(str(round(k.age_below * 1_000_000)))
            below = exp.LT(this=age.copy(), expression=bound)
            open_now = exp.And(this=open_now, expression=below)
        return _fill_false(exp.Paren(this=open_now))


#: the instant an age band is measured at without a period end: the newest opened or closed
#: instant of the records (a column the relation gets from `as_of`)
AS_OF = "_as_of"


def as_of(kind: Kind, d: Dialect, hi: datetime | None) -> exp.Expr | None:
    """For a banded stock without a period end: the column `AS_OF` to add to its records
    (over every record, before any grouping, as `cscli.engine.polars.compile.with_as_of`):
    `GREATEST(MAX(opened) OVER (), MAX(closed) OVER ())`; None when none is needed."""
    if hi is not None or not isinstance(kind, Stock) or not kind.banded:
        return None

    def newest(text: str) -> exp.Expr:
        return exp.Window(this=exp.Max(this=exp.Paren(this=compile_sql(text, d))))

    return d.greatest(newest(kind.opened), newest(kind.closed))


@dataclass(frozen=True)
class _SqlAggregate(KindSql):
    kind: SqlAggregate
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        return self.double(self.kind.expr), exp.Count(this=exp.Star())

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return self.where(), None


@dataclass(frozen=True)
class _Erlang(KindSql):
    """The additive parts of an Erlang number: n = offered records, value = their mean
    handle time over answered records (the driver turns them into the number)."""

    kind: Erlang
    d: Dialect

    def value_n(self, lo: datetime | None, hi: datetime | None) -> tuple[exp.Expr, exp.Expr]:
        k = self.kind
        keep: exp.Expr = exp.And(
            this=_not_null(self.double(k.handle)),
            expression=exp.GTE(this=self.double(k.handle), expression=exp.Literal.number("0")),
        )
        answered = self.mask(k.answered)
        if answered is not None:
            keep = exp.And(this=keep, expression=answered)
        mean = exp.Avg(this=_keep(keep, self.double(k.handle)))
        return mean, count(self.mask(k.offered))

    def breach(self, good: bool | None, cond: Condition | None, hi: datetime | None) -> Breach:
        return self.where(self.kind.offered), None
