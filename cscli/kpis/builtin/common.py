"""What the built-in KPIs share: parameters, SQL helpers and the repeat-contact predicates.

The subject modules beside this one (tickets, calls, surveys, …) build their definitions from
these pieces, so a parameter such as `hours` or `window` is described the same way in every
KPI that takes it, and the repeat-contact KPIs of tickets, calls and contacts judge a repeat by
the same predicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.spec import Param, QualityRule

STAT_DOC = "mean, median, min, max or pNN (linear interpolation between closest ranks)"
HOURS = Param(
    "hours",
    "choice",
    "calendar",
    "calendar (every second) or business (only the seconds inside the source's calendar's "
    "open hours; see docs/business-hours.md)",
    ("calendar", "business"),
)


def measure(name: str, p: Mapping[str, Any]) -> str:
    """The calendar-time measure, or its business-time twin with `hours: business`."""
    return f"business_{name}" if p.get("hours") == "business" else name


def stat_param(default: str) -> Param:
    """The `stat` parameter with its default (the statistic a duration KPI reports)."""
    return Param("stat", "stat", default, STAT_DOC)


def all_of(*predicates: str | None) -> str | None:
    """The conjunction of the given predicates (empty ones skipped); None when none is left."""
    parts = [f"({p})" for p in predicates if p]
    return " AND ".join(parts) if parts else None


def sql_num(value: float) -> str:
    """A SQL numeric literal."""
    return repr(float(value))


# --- repeat contacts (first contact resolution of tickets and calls, channel switching) ---

WINDOW = Param("window", "duration", 7 * 86400.0, "how long after a contact a repeat counts")


def no_repeat(window: float) -> str:
    """No other contact of the customer from the contact's start to its end + window."""
    return f"next_contact_seconds IS NULL OR next_contact_seconds > {sql_num(window)}"


def judged(window: float) -> str:
    """A repeat was seen within the window, or the data extends to the window's end."""
    w = sql_num(window)
    return f"next_contact_seconds <= {w} OR followup_observed_seconds >= {w}"


#: contacts without a customer cannot be followed (excluded from repeat-contact KPIs)
NO_CUSTOMER = QualityRule("customer_id missing", "customer_id IS NULL", column="customer_id")
