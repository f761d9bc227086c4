"""The KPI vocabulary: parameters, kinds and definitions, as plain data.

A KPI is a `KpiDef` (id, title, source, unit, direction, time anchor, parameters, definition)
plus a small `build` function that turns its parameter values into one *kind*: a count, a ratio
of two filtered counts, a statistic of a value, a net score, or a SQL aggregate. Kinds hold only
SQL text over canonical column names, so they are engine-neutral: `cscli.engine.polars.compile`
turns them into polars expressions, and another engine could compile the same objects.

Built-in KPIs (`cscli.kpis.catalog`) and user-defined ones from the config go through exactly
the same path: `KpiDef` → `instantiate` → `Kpi` → compile.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cscli.units import Unit, describe_duration, parse_duration, parse_ratio

ParamKind = Literal["stat", "duration", "ratio", "number", "choice", "bool", "targets", "durations"]

_STAT = re.compile(r"^(mean|median|min|max|p(\d{1,2}(?:\.\d+)?))$")


def parse_stat(value: Any) -> str:
    """`mean`, `median`, `min`, `max` or `pNN` (p90, p95, p99.9)."""
    text = str(value).strip().lower()
    m = _STAT.match(text)
    if not m or (m.group(2) is not None and not 0 < float(m.group(2)) < 100):
        raise ValueError(f"expected mean, median, min, max or pNN (e.g. p90), got {value!r}")
    return text


def stat_quantile(stat: str) -> float | None:
    """The quantile a stat asks for: median → 0.5, p90 → 0.9; None for mean/min/max."""
    if stat == "median":
        return 0.5
    if stat.startswith("p"):
        return float(stat[1:]) / 100
    return None


def parse_edges(raw: Any) -> tuple[float, ...]:
    """Bucket edges such as `[1d, 3d, 7d]`: whole seconds, at least 1s, strictly increasing."""
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError(f"expected a list of durations such as [1d, 3d, 7d], got {raw!r}")
    edges = tuple(parse_duration(v) for v in raw)
    for v, text in zip(edges, raw, strict=True):
        if v < 1 or v != int(v):
            raise ValueError(f"expected whole seconds of at least 1s, got {text!r}")
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"expected increasing durations, got {list(raw)!r}")
    return edges


@dataclass(frozen=True, slots=True)
class Param:
    """A named, typed KPI parameter with a default."""

    name: str
    kind: ParamKind
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    #: bounds of a number (inclusive, or exclusive with `exclusive`); None = unbounded
    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False
    #: a default that follows other parameters (`default` is None): how, in words
    derived: str | None = None

    def parse(self, raw: Any) -> Any:
        """Validate and normalise a value from the config; raises ValueError with the reason."""
        if self.kind == "stat":
            return parse_stat(raw)
        if self.kind == "duration":
            return parse_duration(raw)
        if self.kind == "ratio":
            return parse_ratio(raw)
        if self.kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(f"expected a number, got {raw!r}")
            return self._bounded(float(raw), raw)
        if self.kind == "bool":
            if not isinstance(raw, bool):
                raise ValueError(f"expected true or false, got {raw!r}")
            return raw
        if self.kind == "targets":
            if not isinstance(raw, dict) or not raw:
                raise ValueError(
                    f"expected a mapping such as {{urgent: 1h, high: 4h}}, got {raw!r}"
                )
            return {str(k).strip().lower(): parse_duration(v) for k, v in raw.items()}
        if self.kind == "durations":
            return parse_edges(raw)
        text = str(raw)
        if text not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {raw!r}")
        return text

    def _bounded(self, value: float, raw: Any) -> float:
        low, high = self.minimum, self.maximum
        if self.exclusive:
            ok = (low is None or value > low) and (high is None or value < high)
        else:
            ok = (low is None or value >= low) and (high is None or value <= high)
        if ok and math.isfinite(value):
            return value
        words = ("above", "below") if self.exclusive else ("at least", "at most")
        limits = [f"{w} {b:g}" for w, b in zip(words, (low, high), strict=True) if b is not None]
        bounds = f" {' and '.join(limits)}" if limits else ""
        raise ValueError(f"expected a finite number{bounds}, got {raw!r}")

    def describe(self, value: Any) -> str:
        """A value as a person reads it in a definition."""
        if value is None and self.derived is not None:
            return self.derived
        if self.kind == "duration":
            return describe_duration(float(value))
        if self.kind == "ratio":
            return f"{float(value) * 100:g}%"
        if self.kind == "number":
            return f"{float(value):g}"
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "targets":
            return ", ".join(f"{k} {describe_duration(v)}" for k, v in value.items())
        if self.kind == "durations":
            return ", ".join(describe_duration(v) for v in value)
        return str(value)


# --- kinds: engine-neutral descriptions of an aggregation ---------------------------------
# Every SQL string is a predicate or value over canonical columns and derived measures
# (`cscli.kpis.measures`). `where` restricts the records the KPI looks at.


@dataclass(frozen=True, slots=True)
class Count:
    """value = n = number of records matching `where`."""

    where: str | None = None


@dataclass(frozen=True, slots=True)
class Ratio:
    """value = count(where ∧ denominator ∧ judged ∧ numerator) / count(where ∧ denominator ∧
    judged); n = the denominator. The numerator is counted among the denominator's records
    (escalated tickets among non-spam tickets), so a ratio always lies in [0, 1].

    `judged`: the records whose outcome the data can already show (a repeat seen, or the
    window observed); the others leave the denominator and their share is the value's *open
    share*. `pending`: records that stay in the denominator but whose outcome may still
    change (tickets still open for the resolution rate); their share is the open share."""

    numerator: str
    denominator: str | None = None
    where: str | None = None
    judged: str | None = None
    pending: str | None = None


@dataclass(frozen=True, slots=True)
class Stat:
    """value = stat(value) over records matching `where` whose value is not null (and not
    negative when `nonnegative`); n = the number of values. Quantiles interpolate linearly."""

    value: str
    stat: str
    where: str | None = None
    nonnegative: bool = True
    #: records of the cohort (matching `where`) whose value may still come (tickets not yet
    #: answered for FRT): the value's open share is count(where ∧ pending) / count(where)
    pending: str | None = None


@dataclass(frozen=True, slots=True)
class NetScore:
    """value = 100 × (count(value ≥ promoter_min) − count(value ≤ detractor_max)) / n."""

    value: str
    promoter_min: float
    detractor_max: float
    where: str | None = None


@dataclass(frozen=True, slots=True)
class SqlAggregate:
    """value = a user's SQL aggregate, e.g. `avg(agent_replies)` or
    `count(*) FILTER (WHERE reopens > 0)`; n = the records in the group."""

    expr: str


@dataclass(frozen=True, slots=True)
class DistinctRatio:
    """value = distinct `key`s with a record matching where ∧ numerator / distinct `key`s with
    a record matching where; n = the denominator (e.g. customers who switched channel)."""

    key: str
    numerator: str
    where: str | None = None
    #: records whose outcome is known; a key is judged when one of its records matches the
    #: numerator or all of them are judged (the others leave the denominator: open share)
    judged: str | None = None


@dataclass(frozen=True, slots=True)
class Stock:
    """A level at a point in time, from records that open at `opened` and close at `closed`
    (null = still open). Never summed over periods: each period gets its own level.

    measure:
      end        records open at the period's end: opened < end and (closed is null or ≥ end)
      retention  (E − N) / S: S open at the start, E open at the end, N opened in the period
      churn      records open at the start that closed in the period / S
    n is the level the value rests on: E for `end`, S for retention and churn.
    """

    opened: str
    closed: str
    measure: Literal["end", "retention", "churn"] = "end"
    where: str | None = None
    #: with measure `end`: only the records whose age at the level's instant t (t − opened)
    #: lies in [age_from, age_below) seconds; None = unbounded on that side. A record aged
    #: exactly `age_from` is in; one aged exactly `age_below` is in the next band. Without a
    #: period end, t is the newest opened or closed instant of the records.
    age_from: float | None = None
    age_below: float | None = None
    #: the age in calendar time (t − opened), or in business time (the open seconds of the
    #: source's calendar between opened and t)
    age_hours: Literal["calendar", "business"] = "calendar"

    @property
    def banded(self) -> bool:
        return self.age_from is not None or self.age_below is not None


@dataclass(frozen=True, slots=True)
class Erlang:
    """A staffing number from the Erlang C model (`cscli.erlang`), per interval bucket.

    The engine aggregates only additive parts: n = the offered records (matching `offered`),
    value = the mean of `handle` over records matching `answered` (null, never negative, values
    excluded). The non-additive number is worked out afterwards on the small aggregated table
    from n, the mean handle time and the bucket's length (`Grain.seconds`):

      traffic         A = n × AHT ÷ interval seconds (Erlangs)
      required        the fewest agents whose service level meets `target` within `threshold`
                      (and A/N ≤ `max_occupancy`), ÷ (1 − `shrinkage`) rounded up
      service_level   the service level `agents` would give within `threshold`

    Needs an interval grain; a totals row (over every bucket) is null, never an average."""

    measure: Literal["traffic", "required", "service_level"]
    offered: str
    handle: str
    answered: str
    target: float = 0.8
    threshold: float = 20.0
    max_occupancy: float | None = None
    shrinkage: float = 0.0
    agents: float | None = None


@dataclass(frozen=True, slots=True)
class StateTime:
    """Time in agent states, from intervals (`started_at` to `ended_at`) split exactly at the
    bucket edges and clipped to the window [lo, hi): a row counts for its overlap, wherever it
    starts. value = seconds in `numerator` states / seconds in `denominator` states, or, when
    `denominator` is empty, / the seconds of the bucket (the part inside the window and the
    data): the mean number of agents in those states. n = the state rows overlapping it."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()


Kind = Count | Ratio | Stat | NetScore | SqlAggregate | DistinctRatio | Stock | StateTime | Erlang


class ParamError(ValueError):
    """Parameters that are wrong together (CSAT's satisfied_min above its scale); `param`
    names the one to point at."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True, slots=True)
class QualityRule:
    """Records a KPI must exclude as unusable, counted in data_quality (e.g. a score of 6 on
    a 1–5 scale). `predicate` is SQL over the source's canonical columns."""

    issue: str
    predicate: str
    column: str | None = None
    #: the rule applies only to sources without these columns (a variant of the same issue
    #: for exports that have them names them in its predicate)
    absent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Built:
    kind: Kind
    quality: tuple[QualityRule, ...] = ()
    #: overrides the definition's direction when a parameter flips it (CES scale direction)
    higher_is_better: bool | None = None
    #: overrides the definition's unit when a parameter changes it (CSAT as a mean score)
    unit: Unit | None = None
    #: used instead when the source lacks a column this kind needs (FCR: flag → one_touch)
    fallback: Built | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """One KPI of a family (`KpiDef.family`): `<id>_<suffix>`, titled `<title> <label>`."""

    suffix: str
    label: str
    built: Built
    #: the sentence that says which part of the family it is
    definition: str


@dataclass(frozen=True, slots=True)
class KpiDef:
    """A KPI definition: the data that explains it plus `build(params) -> Built`."""

    id: str
    title: str
    short: str
    source: str
    unit: Unit
    higher_is_better: bool | None
    anchor: str
    definition: str
    build: Callable[[Mapping[str, Any]], Built]
    params: tuple[Param, ...] = ()
    #: canonical columns the KPI needs beyond those its SQL names (documentation and checks)
    requires: tuple[str, ...] = ()
    #: other sources the KPI can read (`source:` in its config entry) → their anchor
    alt_sources: tuple[tuple[str, str], ...] = ()
    #: completes defaults that follow other parameters and checks parameters together;
    #: returns the values, raises ParamError
    resolve: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    #: (dimension, why): dimensions the KPI refuses to be cut by, because the cut would make
    #: it degenerate (only answered messages have a responder: every responder answers 100%)
    degenerate_by: tuple[tuple[str, str], ...] = ()
    #: a family of KPIs from one entry (backlog_age: one KPI per age bucket): the members for
    #: the parameter values; `build` is then the whole the members split (for availability)
    family: Callable[[Mapping[str, Any]], tuple[Member, ...]] | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


@dataclass(frozen=True, slots=True)
class Kpi:
    """A KPI as it appears in one report: a definition with resolved parameters."""

    id: str
    base: KpiDef
    params: Mapping[str, Any]
    built: Built
    title: str
    definition: str
    higher_is_better: bool | None
    unit: Unit
    params_described: Mapping[str, str] = field(default_factory=dict)
    #: the id of the family entry it comes from (backlog_age), None for a KPI of its own
    family: str | None = None

    @property
    def source(self) -> str:
        return self.base.source

    @property
    def anchor(self) -> str:
        return self.base.anchor

    @property
    def kind(self) -> Kind:
        return self.built.kind


def instantiate(
    base: KpiDef,
    params: Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    title: str | None = None,
) -> Kpi:
    """Resolve `params` (already parsed) over the defaults and build the kind; raises
    ParamError when the KPI's `resolve` rejects the parameters together."""
    given = {p.name: p.default for p in base.params}
    given.update(params or {})
    values = dict(base.resolve(given)) if base.resolve is not None else given
    built = base.build(values)
    described = {p.name: p.describe(values[p.name]) for p in base.params}
    definition = base.definition.format(**described)
    for dim, why in base.degenerate_by:
        definition += f" Not cut by {dim}: {why}."
    direction = built.higher_is_better if built.higher_is_better is not None else None
    if direction is None:
        direction = base.higher_is_better
    kpi_title = title or base.title
    if title is None and id is not None and id != base.id:
        changed = [f"{k}={described[k]}" for k in described if given[k] != base.param(k).default]
        if changed:
            kpi_title = f"{base.title} ({', '.join(changed)})"
    return Kpi(
        id=id or base.id,
        base=base,
        params=values,
        built=built,
        title=kpi_title,
        definition=definition,
        higher_is_better=direction,
        unit=built.unit or base.unit,
        params_described=described,
    )


def expand(kpi: Kpi) -> tuple[Kpi, ...]:
    """The KPIs a report computes for one entry: its family's members (`backlog_age` →
    `backlog_age_lt_1d`, `backlog_age_1d_3d`, …), or the KPI itself."""
    members = kpi.base.family
    if members is None or kpi.family is not None:
        return (kpi,)
    return tuple(
        Kpi(
            id=f"{kpi.id}_{m.suffix}",
            base=kpi.base,
            params=kpi.params,
            built=m.built,
            title=f"{kpi.title} {m.label}",
            definition=f"{kpi.definition} This one: {m.definition}",
            higher_is_better=kpi.higher_is_better,
            unit=kpi.unit,
            params_described=kpi.params_described,
            family=kpi.id,
        )
        for m in members(kpi.params)
    )
