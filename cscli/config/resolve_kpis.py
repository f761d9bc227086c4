"""`kpis:` entries → `Kpi`s: built-ins with their parameters, and KPIs defined in the config.

A `KpiRef` names a built-in; a `BuiltinKpiEntry` gives one its own id, parameters (each read
by the built-in's own parser) and, for a KPI that reads one of several sources, `source:`; a
`CustomKpiEntry` defines a KPI by SQL (`sql:`, an aggregate) or as a ratio of two predicates,
whose SQL is parsed now. Ids must be unique and must not be a report column, a dimension, or
the name of another KPI's column in flat output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cscli.config.models import (
    ABSENT,
    BuiltinKpiEntry,
    CustomKpiEntry,
    KpiEntry,
    KpiRef,
    keys_of,
    read_kpi_entry,
)
from cscli.config.problems import Problems
from cscli.config.sql import check_one_sql, extra_columns, source_columns
from cscli.derived import DERIVATIONS
from cscli.kpis.catalog import CATALOG, DEFAULT_KPIS, SLA_KPIS
from cscli.kpis.spec import (
    Built,
    Kpi,
    KpiDef,
    ParamError,
    Ratio,
    SqlAggregate,
    expand,
    instantiate,
)
from cscli.schema import DEFAULT_ANCHOR, DERIVED_TABLES, TABLES, is_dimension
from cscli.suggest import did_you_mean
from cscli.units import UNITS

#: output columns of a report besides the KPIs: its period, its scope (group/total) in flat
#: files, and `<id>__n` / `<id>__prev` beside every KPI
_INTERNAL_NAMES = frozenset({"period", "scope", "group", "kpi", "kpis", "totals", "rows"})
_INTERNAL_SUFFIXES = ("__n", "__prev")

_CUSTOM_KEYS = keys_of(CustomKpiEntry)
#: keys of a custom KPI that a built-in takes only as a parameter of that name
_CUSTOM_ONLY = frozenset(_CUSTOM_KEYS) - {"id", "kpi", "params", "title"}


def resolve_kpis(
    entries: list[Any] | None, problems: Problems, data: Mapping[str, Any]
) -> list[Kpi]:
    """The KPIs of `kpis:` (every default KPI when it is absent, with the SLA-policy ones
    when the config has `sla_policies:`), in order."""
    if entries is None:
        sla = SLA_KPIS if data.get("sla_policies") else ()
        return [m for k in (*DEFAULT_KPIS, *sla) for m in expand(instantiate(CATALOG[k]))]
    kpis: list[Kpi] = []
    seen: set[str] = set()
    taken = _taken_names(data)
    for i, raw in enumerate(entries):
        entry = read_kpi_entry(raw, ("kpis", i), problems)
        kpi = _resolve(entry, problems, data) if entry is not None else None
        if entry is None or kpi is None:
            continue
        # a family (backlog_age) is one KPI per member (backlog_age_lt_1d, …)
        for member in expand(kpi):
            if member.id in seen:
                problems.add(entry.path, f"KPI id {member.id!r} is defined twice")
                continue
            why = _reserved(member.id, taken)
            if why:
                at = entry.path if isinstance(entry, KpiRef) else (*entry.path, "id")
                problems.add(at, why)
                continue
            seen.add(member.id)
            kpis.append(member)
    for i, kpi in enumerate(kpis):
        # flat outputs (CSV, Parquet, XLSX) add <id>_n and <id>_previous columns
        for other in kpis:
            if kpi.id in (other.id + "_n", other.id + "_previous"):
                problems.add(
                    ("kpis", i),
                    f"KPI id {kpi.id!r} is the name of {other.id!r}'s "
                    f"{kpi.id.removeprefix(other.id)} column in CSV, Parquet and XLSX output; "
                    "choose another id",
                )
    return kpis


def _resolve(entry: KpiEntry, problems: Problems, data: Mapping[str, Any]) -> Kpi | None:
    if isinstance(entry, KpiRef):
        base = CATALOG.get(entry.kpi)
        if base is None:
            problems.add(entry.path, f"unknown KPI {entry.kpi!r}{did_you_mean(entry.kpi, CATALOG)}")
            return None
        return instantiate(base)
    if isinstance(entry, CustomKpiEntry):
        return _custom(entry, problems, data)
    return _builtin(entry, problems)


def _taken_names(data: Mapping[str, Any]) -> frozenset[str]:
    """Names a KPI id may not take: report columns and every dimension a report can group by."""
    names = set(_INTERNAL_NAMES) | {"responder"}
    names |= {dim for d in DERIVATIONS for dim in d.dimensions}  # tag, first_responder, …
    for table in (*TABLES.values(), *DERIVED_TABLES.values()):
        names |= {c for c in table.names if is_dimension(table, c)}
    sources = data.get("sources")
    for name in sources if isinstance(sources, dict) else ():
        names |= extra_columns(data, name)
    return frozenset(names)


def _reserved(kpi_id: str, taken: frozenset[str]) -> str | None:
    if kpi_id.endswith(_INTERNAL_SUFFIXES):
        return (
            f"KPI id {kpi_id!r} ends in {kpi_id[-3:] if kpi_id.endswith('__n') else '__prev'}, "
            "which cscli uses for the columns beside each KPI; choose another id"
        )
    if kpi_id in taken:
        return f"KPI id {kpi_id!r} is the name of a report column or dimension; choose another id"
    return None


# --- a built-in under its own id ----------------------------------------------------------


def _builtin(entry: BuiltinKpiEntry, problems: Problems) -> Kpi | None:
    path = entry.path
    base = CATALOG.get(str(entry.kpi))
    if base is None:
        problems.add(
            entry.kpi_path,
            f"unknown KPI {entry.kpi!r}{did_you_mean(str(entry.kpi), CATALOG)}; a custom KPI "
            "needs `sql:` or `type: ratio`",
        )
        return None
    alt_source = bool(base.alt_sources) and "source" in entry.others
    if alt_source:
        alternatives = dict(base.alt_sources)
        source = entry.others["source"]
        if not isinstance(source, str) or source not in alternatives:
            problems.add(
                (*path, "source"),
                f"{base.id} reads one of {', '.join(alternatives)}, not {source!r}",
            )
            return None
        base = dataclasses.replace(base, source=source, anchor=alternatives[source])
    given: dict[str, tuple[object, tuple[str | int, ...]]] = {}
    nested = entry.params
    if not isinstance(nested, dict):
        problems.add((*path, "params"), "`params:` must be a mapping of parameter names to values")
        nested = {}
    for k, v in nested.items():
        given[k] = (v, (*path, "params", k))
    for k, v in entry.others.items():
        if k == "source" and alt_source:
            continue
        if k in _CUSTOM_ONLY and k not in base.param_names:
            problems.add(
                (*path, k), f"`{k}:` is only for custom KPIs (with `sql:` or `type:`)", key=True
            )
            continue
        given[k] = (v, (*path, k))
    params: dict[str, Any] = {}
    for name, (value, where) in given.items():
        if name not in base.param_names:
            known = ", ".join(base.param_names) or "none"
            problems.add(
                where,
                f"unknown parameter {name!r} for {base.id}"
                f"{did_you_mean(name, base.param_names)}; its parameters: {known}",
                key=True,
            )
            continue
        try:
            params[name] = base.param(name).parse(value)
        except ValueError as e:
            problems.add(where, f"{entry.id}.{name}: {e}")
    try:
        return instantiate(base, params, id=entry.id, title=entry.title)
    except ParamError as e:  # parameters that contradict each other (satisfied_min > scale)
        if params.keys() >= given.keys() & set(base.param_names):  # not after a parse error
            at = given[e.param][1] if e.param in given else path
            problems.add(at, f"{entry.id}.{e.param}: {e}")
        return None


# --- a KPI defined in the config ----------------------------------------------------------


def _custom(entry: CustomKpiEntry, problems: Problems, data: Mapping[str, Any]) -> Kpi | None:
    path, kpi_id = entry.path, entry.id
    ok = True
    for k in entry.unknown:
        problems.add(
            (*path, k),
            f"unknown key {k!r} in a custom KPI{did_you_mean(k, _CUSTOM_KEYS)}",
            key=True,
        )
        ok = False
    source = entry.source
    if not isinstance(source, str) or source not in TABLES:
        problems.add(
            (*path, "source") if source is not ABSENT else path,
            f"custom KPI {kpi_id!r} needs `source:` one of {', '.join(TABLES)}",
        )
        return None
    kind_name = entry.type
    unit = _given(entry.unit, "ratio" if kind_name == "ratio" else "count")
    if unit not in UNITS:
        problems.add((*path, "unit"), f"unknown unit {unit!r}; units are {', '.join(UNITS)}")
        ok = False
    anchor = _given(entry.anchor, DEFAULT_ANCHOR[source])
    if not isinstance(anchor, str) or not _is_timestamp(anchor, source):
        problems.add((*path, "anchor"), f"anchor {anchor!r} is not a timestamp column of {source}")
        ok = False
    hib = entry.higher_is_better
    if hib is not None and not isinstance(hib, bool):
        problems.add((*path, "higher_is_better"), "higher_is_better must be true, false or absent")
        ok = False
    built = _custom_kind(entry, source, problems)
    if built is None:
        return None
    columns = source_columns(source, data, enriched=True)
    for field in ("sql", "numerator", "denominator", "where"):
        value = getattr(entry, field)
        if isinstance(value, str) and value.strip():
            label = f"KPI {kpi_id!r} {field}"
            ok = (
                check_one_sql(
                    value, (*path, field), label, columns, problems, source, unparsable=False
                )
                and ok
            )
    if not ok:
        return None
    assert isinstance(anchor, str) and unit in UNITS and (hib is None or isinstance(hib, bool))
    kind, default_def = built
    title = _given(entry.title, kpi_id.replace("_", " ").capitalize())
    kdef = KpiDef(
        id=kpi_id,
        title=str(title),
        short=str(_given(entry.short, _given(entry.title, kpi_id))),
        source=source,
        unit=unit,
        higher_is_better=hib,
        anchor=anchor,
        definition=str(_given(entry.definition, default_def)).replace("{", "{{").replace("}", "}}"),
        build=lambda _p, b=kind: b,  # type: ignore[misc]
    )
    _check_sql(kdef, path, problems)
    return instantiate(kdef)


def _custom_kind(
    entry: CustomKpiEntry, source: str, problems: Problems
) -> tuple[Built, str] | None:
    """The custom KPI's kind and its default definition; None (reported) when incomplete."""
    if entry.type == "sql":
        expr = entry.sql
        if not isinstance(expr, str) or not expr.strip():
            problems.add(
                entry.path, f"custom KPI {entry.id!r} needs `sql:` with an aggregate expression"
            )
            return None
        return Built(SqlAggregate(expr)), f"Custom: {expr} over {source} in the period."
    if entry.type == "ratio":
        num, den, where = entry.numerator, entry.denominator, entry.where
        if not isinstance(num, str):
            problems.add(entry.path, f"ratio KPI {entry.id!r} needs `numerator:` (a SQL predicate)")
            return None
        built = Built(
            Ratio(
                num,
                den if isinstance(den, str) else None,
                where if isinstance(where, str) else None,
            )
        )
        definition = (
            f"Custom ratio: {source} matching ({num}) / {source} matching ({den or 'all'})"
            + (f", among {source} matching ({where})" if where else "")
            + " in the period."
        )
        return built, definition
    problems.add((*entry.path, "type"), f"unknown KPI type {entry.type!r}; use ratio or sql")
    return None


def _is_timestamp(column: str, source: str) -> bool:
    table = TABLES[source]
    return table.has(column) and table.column(column).type == "datetime"


def _given(value: object, default: object) -> object:
    """`value`, or `default` when the key was not given."""
    return default if value is ABSENT else value


def _check_sql(kdef: KpiDef, path: tuple[str | int, ...], problems: Problems) -> None:
    """Parse the custom KPI's SQL now, so a typo is a config error with a position."""
    from cscli.engine.polars.compile import parse_kind

    try:
        parse_kind(kdef.build({}).kind)
    except Exception as e:  # polars raises several types for SQL it cannot parse
        problems.add(path, f"KPI {kdef.id!r}: cannot parse its SQL: {e}")
