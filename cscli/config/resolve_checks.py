"""`checks:` entries → `CheckConfig`s: conditions read and matched to their KPI's unit.

A `CheckEntry` is a rule on a KPI of the report (or any built-in): `fail:`/`warn:` are
conditions on its value, in its unit (`< 85%` on a ratio, `> 1h` on a duration); `change:` is
a relative change against the previous window (`> 10%`), `change_abs:` an absolute one in
the KPI's unit. `by:` and `where:` check per group. A `FreshnessEntry` is a rule on a source's
newest record: its age at the end of the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cscli.conditions import Condition, Quantity, check_units, parse_condition, parse_quantity
from cscli.config.models import (
    ABSENT,
    CheckConfig,
    CheckEntry,
    Freshness,
    FreshnessEntry,
    keys_of,
    read_check_entry,
)
from cscli.config.problems import Problems
from cscli.config.sql import check_one_sql
from cscli.kpis.spec import Kpi
from cscli.schema import DEFAULT_ANCHOR
from cscli.suggest import did_you_mean

_CHECK_KEYS = keys_of(CheckEntry)
_FRESHNESS_KEYS = keys_of(FreshnessEntry)


def resolve_checks(
    entries: list[Any], ids: Mapping[str, Kpi], problems: Problems, sources: Sequence[str]
) -> list[CheckConfig]:
    """The checks of `checks:`, in order; `ids`: the KPIs a check may name."""
    checks: list[CheckConfig] = []
    for i, raw in enumerate(entries):
        entry = read_check_entry(raw, ("checks", i), problems)
        if isinstance(entry, FreshnessEntry):
            fresh = _freshness(entry, sources, problems)
            if fresh is not None:
                default_name = f"{fresh.source} freshness"
                checks.append(
                    CheckConfig(
                        kpi=None,
                        fail=None,
                        warn=None,
                        change=None,
                        change_abs=None,
                        by=(),
                        where=None,
                        min_count=0,
                        name=_unique_name(_name(entry.name, default_name), checks),
                        line=problems.line(entry.path),
                        freshness=fresh,
                    )
                )
        elif entry is not None:
            check = _check(entry, ids, problems, checks)
            if check is not None:
                checks.append(check)
    return checks


def _check(
    entry: CheckEntry, ids: Mapping[str, Kpi], problems: Problems, earlier: list[CheckConfig]
) -> CheckConfig | None:
    path = entry.path
    for k in entry.unknown:
        problems.add(
            (*path, k),
            f"unknown key {k!r} in a check"
            + (
                f" ({k}: belongs to a freshness: rule)"
                if k in _FRESHNESS_KEYS
                else did_you_mean(k, (*_CHECK_KEYS, "freshness"))
            ),
            key=True,
        )
    kpi = _kpi(entry, ids, problems)
    conds = _conditions(entry, kpi, problems)
    if not entry.conditions:
        problems.add(path, "a check needs at least one of fail:, warn:, change:, change_abs:")
    by = _by(entry, problems)
    min_count = entry.min_count
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 0:
        problems.add((*path, "min_count"), "min_count: must be a whole number ≥ 0")
        min_count = 0
    where, by = _where(entry, by, problems)
    if kpi is None:
        return None
    default_name = kpi.id + (f" by {', '.join(by)}" if by else "")
    return CheckConfig(
        kpi=kpi.id,
        fail=conds["fail"],
        warn=conds["warn"],
        change=conds["change"],
        change_abs=conds["change_abs"],
        by=tuple(by),
        where=where,
        min_count=min_count,
        name=_unique_name(_name(entry.name, default_name.strip()), earlier),
        line=problems.line(path),
    )


def _kpi(entry: CheckEntry, ids: Mapping[str, Kpi], problems: Problems) -> Kpi | None:
    kpi_id = None if entry.kpi is ABSENT else entry.kpi
    kpi = ids.get(str(kpi_id)) if kpi_id is not None else None
    if kpi is None:
        problems.add(
            (*entry.path, "kpi") if entry.kpi is not ABSENT else entry.path,
            "check needs `kpi:` naming a KPI of the report"
            + (
                f"; {kpi_id!r} is not one{did_you_mean(str(kpi_id), ids)}"
                if kpi_id is not None
                else " (or `freshness:` naming a source)"
            ),
        )
    return kpi


def _conditions(
    entry: CheckEntry, kpi: Kpi | None, problems: Problems
) -> dict[str, Condition | None]:
    """fail:, warn:, change:, change_abs: read; fail, warn and change_abs in the KPI's unit."""
    conds: dict[str, Condition | None] = dict.fromkeys(("fail", "warn", "change", "change_abs"))
    for key, text in entry.conditions.items():
        where = (*entry.path, key)
        try:
            cond = parse_condition(str(text))
        except ValueError as e:
            problems.add(where, f"{key}: {e}")
            continue
        if kpi is not None and key != "change":
            why = check_units(cond, kpi.unit)
            if why:
                problems.add(where, f"{key}: {why}")
        if key == "change" and any(q.kind == "duration" for q in cond.quantities()):
            problems.add(
                where,
                "change: is a relative change (e.g. '> 10%'); for an absolute one such as "
                "'> 10m' use change_abs:",
            )
        conds[key] = cond
    return conds


def _by(entry: CheckEntry, problems: Problems) -> Sequence[str]:
    by = entry.by
    if isinstance(by, str):
        by = [p.strip() for p in by.split(",") if p.strip()]
    if not isinstance(by, list | tuple) or not all(isinstance(b, str) for b in by):
        problems.add((*entry.path, "by"), "by: must be a list of dimension names")
        return ()
    return by


def _where(
    entry: CheckEntry, by: Sequence[str], problems: Problems
) -> tuple[str | None, Sequence[str]]:
    """`where:` checked against the groups of `by`; without `by`, its columns are the groups."""
    where, at = entry.where, (*entry.path, "where")
    if where is not None and not isinstance(where, str):
        problems.add(at, "where: must be a SQL predicate on the group's dimensions")
        return None, by
    if not where:
        return where, by
    if not check_one_sql(where, at, "where", list(by) if by else None, problems, "the groups"):
        return None, by
    if not by:
        from cscli.sqlcheck import SqlError, parse

        try:
            return where, sorted(set(parse(where).meta.root_names()))
        except SqlError as e:
            problems.add(at, f"where: cannot parse {where!r}: {e}")
            return None, by
    return where, by


def _name(name: object, default: str) -> str:
    return str(name) if name is not None else default


def _unique_name(name: str, checks: Sequence[CheckConfig]) -> str:
    taken = {c.name for c in checks}
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def _freshness(
    entry: FreshnessEntry, sources: Sequence[str], problems: Problems
) -> Freshness | None:
    """`{freshness: SOURCE, max_age: 1d, warn_age: 12h, name: ...}`."""
    path = entry.path
    ok = True
    for k in entry.unknown:
        hint = did_you_mean(str(k), _FRESHNESS_KEYS)
        problems.add(
            (*path, k),
            f"unknown key {k!r} in a freshness check{hint}; a freshness check takes "
            + ", ".join(f"{key}:" for key in _FRESHNESS_KEYS),
            key=True,
        )
        ok = False
    source = entry.freshness
    if not isinstance(source, str) or source not in sources:
        problems.add((*path, "freshness"), _source_problem(source, sources))
        ok = False
    ages: dict[str, Quantity | None] = {"max_age": None, "warn_age": None}
    for key, raw in (("max_age", entry.max_age), ("warn_age", entry.warn_age)):
        if raw is ABSENT:
            continue
        q = _age(raw)
        if q is None:
            problems.add(
                (*path, key), f"{key}: expected a duration such as 1d, 12h or 1h 30m, got {raw!r}"
            )
            ok = False
            continue
        ages[key] = q
    if entry.max_age is ABSENT and entry.warn_age is ABSENT:
        problems.add(path, "a freshness check needs max_age: (fail when older), warn_age:, or both")
        ok = False
    max_age, warn_age = ages["max_age"], ages["warn_age"]
    if max_age is not None and warn_age is not None and warn_age.exact >= max_age.exact:
        problems.add(
            (*path, "warn_age"),
            f"warn_age: {warn_age.text} must be shorter than max_age: {max_age.text}",
        )
        ok = False
    if not ok or not isinstance(source, str) or source not in DEFAULT_ANCHOR:
        return None  # an unknown source under `sources:` is reported on its own
    return Freshness(source, DEFAULT_ANCHOR[source], max_age, warn_age)


def _source_problem(source: object, sources: Sequence[str]) -> str:
    listed = ", ".join(sources) or "none"
    if not isinstance(source, str):
        return "freshness: names a source, e.g. {freshness: tickets, max_age: 1d}"
    if source in DEFAULT_ANCHOR:
        return f"freshness: {source!r} is not a source of this config (sources: {listed})"
    return (
        f"freshness: unknown source {source!r}{did_you_mean(source, sources)}; "
        f"sources of this config: {listed}"
    )


def _age(raw: object) -> Quantity | None:
    """A positive duration (`1d`, `12h`, `1h 30m`, or seconds), or None."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    try:
        q = parse_quantity(str(raw))
    except ValueError:
        return None
    if q.kind == "percent" or q.exact <= 0:
        return None
    return q
