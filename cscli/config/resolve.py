"""The meaning pass: what the names and values of a structurally read config refer to.

Source names against the canonical tables, KPI entries against the registry
(`resolve_kpis`), SQL against the columns it may read (`sql`), checks against their KPIs
(`resolve_checks`), `report.kpis`, and `calendars:` with every reference to a calendar. It
reads the data as the YAML gave it, so it runs (and reports) also where pass 1 failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cscli.business_hours.model import Calendar
from cscli.config.event_log import check_log_events
from cscli.config.models import CheckConfig, RawConfig
from cscli.config.problems import Problems
from cscli.config.resolve_checks import resolve_checks
from cscli.config.resolve_kpis import resolve_kpis
from cscli.config.sql import check_source_sql
from cscli.errors import ConfigError
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import Kpi, expand, instantiate
from cscli.schema import TABLES
from cscli.suggest import did_you_mean


@dataclass(frozen=True, slots=True)
class Resolved:
    """What the meaning pass makes of a config (complete only when it reported nothing)."""

    kpis: tuple[Kpi, ...]
    checks: tuple[CheckConfig, ...]
    calendars: Mapping[str, Calendar]


def resolve(data: dict[str, Any], raw: RawConfig | None, problems: Problems) -> Resolved:
    """Check what `data` means, reporting to `problems`; `raw` is its structure when valid."""
    sources = data.get("sources")
    for name in sources if isinstance(sources, dict) else ():
        if name not in TABLES:
            problems.add(
                ("sources", name),
                f"unknown source {name!r}{did_you_mean(name, TABLES)}; sources are "
                + ", ".join(TABLES),
                key=True,
            )
    kpi_entries = data.get("kpis")
    kpis = resolve_kpis(kpi_entries if isinstance(kpi_entries, list) else None, problems, data)
    check_source_sql(data, problems)
    # checks and report.kpis may name any built-in KPI, configured or not
    known = {
        **{m.id: m for d in CATALOG.values() for m in expand(instantiate(d))},
        **{k.id: k for k in kpis},
    }
    check_entries = data.get("checks")
    checks = resolve_checks(
        check_entries if isinstance(check_entries, list) else [],
        known,
        problems,
        tuple(sources) if isinstance(sources, dict) else (),
    )
    report = data.get("report")
    report_kpis = report.get("kpis") if isinstance(report, dict) else None
    families = {k.family for k in known.values()}  # a family's id names all its members
    for i, kpi_id in enumerate(report_kpis if isinstance(report_kpis, list) else []):
        if isinstance(kpi_id, str) and kpi_id not in known and kpi_id not in families:
            problems.add(
                ("report", "kpis", i), f"unknown KPI {kpi_id!r}{did_you_mean(kpi_id, known)}"
            )
    calendars = _calendars(data, problems)
    if raw is not None:
        _check_calendar_names(raw, data.get("calendars"), problems)
        check_log_events(raw.sources, problems)
    return Resolved(tuple(kpis), tuple(checks), calendars)


def _calendars(data: dict[str, Any], problems: Problems) -> dict[str, Calendar]:
    """`calendars:`, read by cscli.business_hours.parse into the config's problems."""
    specs = data.get("calendars")
    if not isinstance(specs, dict) or not specs:
        return {}
    # imported here: cscli.business_hours.parse reports through this package's Problems
    from cscli.business_hours.parse import read_calendars

    try:
        return read_calendars(
            specs, problems.within("calendars"), default_timezone=data.get("timezone", "UTC")
        )
    except ConfigError as e:  # the holidays package is missing
        problems.add(("calendars",), e.message + (f" ({e.hint})" if e.hint else ""))
        return {}


def _check_calendar_names(raw: RawConfig, specs: object, problems: Problems) -> None:
    """Every calendar named (`calendar:`, a source's `calendar:`) is defined under calendars:."""
    names = set(specs) if isinstance(specs, dict) else set()

    def known(name: str | None, path: tuple[str | int, ...]) -> None:
        if name is not None and name not in names:
            problems.add(
                path,
                f"unknown calendar {name!r}{did_you_mean(name, names)}; define it under calendars:",
            )

    known(raw.calendar, ("calendar",))
    for source_name, src in raw.sources.items():
        cal = src.calendar
        if isinstance(cal, str):
            known(cal, ("sources", source_name, "calendar"))
        elif cal is not None:
            for value, name in cal.map.items():
                known(name, ("sources", source_name, "calendar", "map", value))
            known(cal.default, ("sources", source_name, "calendar", "default"))
