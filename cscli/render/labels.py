"""What every report renderer shows the same way: group and period labels, the sections per
source, the tone of a change and which values carry the provisional mark.

The terminal, Markdown, HTML and XLSX renderers import these rules from here and never from
each other, so a rule changes in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from cscli.period import WEEKDAY_NAMES
from cscli.results import PERIOD_COL, KpiValue, Row
from cscli.units import format_change

if TYPE_CHECKING:
    from cscli.kpis.spec import Kpi

#: the sections of a breakdown, one per source, in this order
SOURCE_TITLES = {
    "tickets": "Tickets",
    "calls": "Calls",
    "surveys": "Surveys",
    "contacts": "Contacts",
    "customers": "Customers",
    "messages": "Messages",
    "agent_states": "Agent states",
    "ticket_comments": "Ticket comments",
    "survey_invitations": "Survey invitations",
    "sla_targets": "SLA targets",
}


def period_label(value: object, grain: str | None) -> str:
    """2026-W03, 2026-03, 2026-Q1, or the day; an interval bucket (15m, 30m, hour) as its
    local start, `2026-03-02 09:30`, with the UTC offset on the repeated hour of a fall-back
    day (`2026-10-25 02:00+02:00`, then `2026-10-25 02:00+01:00`)."""
    if isinstance(value, datetime):
        return interval_label(value)
    if not isinstance(value, date):
        return str(value)
    if grain == "week":
        iso = value.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return value.strftime("%Y-%m")
    if grain == "quarter":
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    return value.isoformat()


def interval_label(value: datetime) -> str:
    """The local start of an interval bucket; the offset only where the wall time repeats."""
    text = value.strftime("%Y-%m-%d %H:%M")
    zone = value.tzinfo
    if zone is not None:
        naive = value.replace(tzinfo=None)
        first = naive.replace(tzinfo=zone, fold=0).utcoffset()
        second = naive.replace(tzinfo=zone, fold=1).utcoffset()
        if first != second and value.utcoffset() is not None:
            offset = value.strftime("%z")
            text += f"{offset[:3]}:{offset[3:]}"
    return text


def group_label(value: object, column: str, grain: str | None) -> str:
    """A group value as shown: `(none)` for a missing one, the period's label, else the text."""
    if value is None:
        return "(none)"
    if column == PERIOD_COL:
        return period_label(value, grain)
    if column == "weekday" and isinstance(value, int) and 1 <= value <= 7:
        return WEEKDAY_NAMES[value - 1]
    if column == "hour_of_day" and isinstance(value, int):
        return f"{value:02d}:00"
    return str(value)


def group_labels(row: Row, grain: str | None) -> list[str]:
    """The labels of a row's group columns, in order."""
    return [group_label(value, column, grain) for column, value in row.group.items()]


def by_period(rows: Iterable[Row] | None) -> list[Row]:
    """Rows of one series (the trend, or an ungrouped table by grain) in bucket order; a row
    without a bucket first, as polars sorts nulls."""
    return sorted(rows or (), key=lambda r: (r.group.get(PERIOD_COL) is not None, _bucket(r)))


def _bucket(row: Row) -> date:
    value = row.group.get(PERIOD_COL)
    return value if isinstance(value, date) else date.min


def by_source(kpis: Iterable[Kpi]) -> list[tuple[str, list[Kpi]]]:
    """(section title, its KPIs) per source that has KPIs, in SOURCE_TITLES order."""
    kpis = list(kpis)
    sections = [(title, [k for k in kpis if k.source == s]) for s, title in SOURCE_TITLES.items()]
    return [(title, mine) for title, mine in sections if mine]


def with_records(rows: Iterable[Row], kpis: Sequence[Kpi]) -> list[Row]:
    """The rows with a record of any of `kpis`: a group without adds nothing to their table."""
    return [r for r in rows if any(r.kpi(k.id).n for k in kpis)]


def marked(value: KpiValue) -> bool:
    """Whether a shown value carries the provisional mark (its cohort is still open)."""
    return value.value is not None and value.provisional


def change_tone(delta: float | None, kpi: Kpi) -> str:
    """good / bad for the KPI's direction; neutral without a direction, or when the change
    rounds to zero as shown (`▼ -0%` is not a move)."""
    if delta is None or delta == 0 or kpi.higher_is_better is None:
        return "neutral"
    if format_change(delta, kpi.unit).lstrip("+-") == format_change(0.0, kpi.unit).lstrip("+-"):
        return "neutral"
    return "good" if (delta > 0) == kpi.higher_is_better else "bad"
