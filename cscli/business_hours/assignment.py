"""Which calendar applies to each source of a config (`calendar:` on a source, else the
top-level one): what `hours: business` KPIs and business-time columns are measured against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cscli.business_hours.model import Calendar
    from cscli.config import CalendarAssignment, Config


@dataclass(frozen=True)
class BusinessHours:
    """The calendars of a config and which applies to each source (`hours: business`)."""

    calendars: Mapping[str, Calendar]
    #: per source: a calendar name, an assignment by a column's value, or None
    assignment: Mapping[str, str | CalendarAssignment | None]

    def for_source(self, name: str) -> str | CalendarAssignment | None:
        return self.assignment.get(name)


def business_hours(config: Config) -> BusinessHours | None:
    """The config's calendars and their sources; None without calendars."""
    if not config.calendars:
        return None
    assignment = {
        name: src.calendar if src.calendar is not None else config.default_calendar
        for name, src in config.sources.items()
    }
    return BusinessHours(config.calendars, assignment)
