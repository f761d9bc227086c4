"""Business hours in the report: `calendars:`, `calendar:` per source or team, `hours: business`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cscli import api
from cscli.config import load_config
from cscli.errors import ConfigError

Write = Callable[[str, str], Path]

TICKETS = """
    ticket_id,created_at,first_response_at,resolved_at,priority,team
    1,2026-01-09T17:30:00+01:00,2026-01-12T09:30:00+01:00,2026-01-12T12:00:00+01:00,high,A
    2,2026-01-07T12:00:00+01:00,2026-01-07T14:00:00+01:00,,urgent,B
    3,2026-01-10T10:00:00+01:00,2026-01-10T11:00:00+01:00,,normal,A
"""

CONFIG = """
    timezone: Europe/Berlin
    calendars:
      office:
        timezone: Europe/Berlin
        hours: {mon-fri: ["09:00-12:30", "13:30-17:00"]}
      late: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-18:00"]}}
    calendar: office
    sources:
      tickets:
        path: tickets.csv
        calendar: {by: team, map: {B: late}, default: office}
    kpis:
      - {id: frt, kpi: first_response_time, stat: mean}
      - {id: frt_business, kpi: first_response_time, stat: mean, hours: business}
      - {id: res_business, kpi: resolution_time, hours: business}
      - {id: sla_business, kpi: sla_attainment, hours: business}
"""


def test_business_durations_side_by_side(write: Write) -> None:
    write("tickets.csv", TICKETS)
    result = api.report(write("cscli.yaml", CONFIG), by=["team"])
    rows = {r["team"]: r for r in result.table.iter_rows(named=True)}
    # team A, office hours 09:00–12:30, 13:30–17:00:
    #   ticket 1 Fri 17:30 → Mon 09:30 = 30 min of open time (1800 s), calendar 2d 16h;
    #   ticket 3 Sat 10:00 → Sat 11:00, created and answered while closed = 0 s
    # mean business FRT (1800 + 0) / 2 = 900; mean calendar FRT (230400 + 3600) / 2 = 117000
    assert rows["A"]["frt_business"] == pytest.approx(900.0)
    assert rows["A"]["frt"] == pytest.approx(117000.0)
    # resolution Fri 17:30 → Mon 12:00 = 09:00–12:00 = 3h
    assert rows["A"]["res_business"] == pytest.approx(10800.0)
    # team B uses the `late` calendar (09:00–18:00, no lunch): Wed 12:00 → 14:00 = 2h
    assert rows["B"]["frt_business"] == pytest.approx(7200.0)
    # SLA in business time: A high 30m ≤ 4h met, A normal 0 ≤ 8h met; B urgent 2h > 1h missed
    assert rows["A"]["sla_business"] == pytest.approx(1.0)
    assert rows["B"]["sla_business"] == pytest.approx(0.0)
    totals = result.totals.row(0, named=True)
    assert totals["sla_business"] == pytest.approx(2 / 3)
    assert totals["sla_business__n"] == 3


def test_business_kpi_without_a_calendar_is_unavailable(write: Write) -> None:
    write("tickets.csv", TICKETS)
    path = write(
        "cscli.yaml",
        """
        sources: {tickets: {path: tickets.csv}}
        kpis: [{id: frt_business, kpi: first_response_time, hours: business}]
        """,
    )
    [status] = api.report(path).kpis
    assert status.reason is not None and "needs a calendar for tickets" in status.reason


def test_calendar_errors_have_positions(write: Write) -> None:
    path = write(
        "cscli.yaml",
        """
        calendars:
          office: {timezone: Europe/Berlin, hours: {mon-fry: ["09:00-17:00"]}}
          never: {timezone: UTC, hours: {}}
        calendar: ofice
        sources: {tickets: {path: t.csv, calendar: nope}}
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = [str(p) for p in info.value.problems]
    assert any("calendars.office" in m and "mon-fry" in m for m in found), found
    assert any("calendars.never" in m for m in found), found  # no open hours: never zero-fill
    assert any(":4:11: unknown calendar 'ofice' (did you mean 'office'?)" in m for m in found)
    assert any("unknown calendar 'nope'" in m for m in found), found


UNMAPPED_TICKETS = (
    TICKETS.rstrip() + "\n    4,2026-01-07T12:00:00+01:00,2026-01-07T13:00:00+01:00,,high,\n"
)


def test_records_without_a_calendar_are_counted(write: Write) -> None:
    write("tickets.csv", UNMAPPED_TICKETS)
    path = write(
        "cscli.yaml",
        """
        calendars:
          office: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-12:30", "13:30-17:00"]}}
        sources:
          tickets:
            path: tickets.csv
            calendar: {by: team, map: {A: office}}
        kpis:
          - {id: frt, kpi: first_response_time, stat: mean}
          - {id: frt_business, kpi: first_response_time, stat: mean, hours: business}
        """,
    )
    result = api.report(path)
    t = result.totals.row(0, named=True)
    # team A (tickets 1 and 3) has the office calendar: (1800 + 0) / 2 = 900 over n 2 (see
    # test_business_durations_side_by_side); ticket 2 (team B, not in the map) and ticket 4
    # (no team) have no calendar and no default: no business time
    assert (t["frt_business"], t["frt_business__n"]) == (pytest.approx(900.0), 2)
    assert t["frt__n"] == 4  # calendar time needs no calendar: 1, 2, 3 and 4
    [issue] = [q for q in result.data_quality if q.column == "team"]
    assert issue.rows == 2
    assert issue.examples == (("tickets.csv", 3), ("tickets.csv", 5))  # tickets 2 and 4
    assert issue.issue == (
        "team: no business calendar (empty, or not one of A in calendar.map, and no default)"
    )
    assert issue.effect.startswith("no business time: excluded from KPIs with hours: business")


def test_a_default_calendar_leaves_nothing_unresolved(write: Write) -> None:
    write("tickets.csv", UNMAPPED_TICKETS)
    result = api.report(write("cscli.yaml", CONFIG))
    # CONFIG maps B to late and everything else (A and the empty team) to office: no finding
    assert not [q for q in result.data_quality if q.column == "team"]
    # tickets 1, 2, 3 and 4 all have business time
    assert result.totals.row(0, named=True)["frt_business__n"] == 4


def test_calendar_by_an_unknown_column_is_a_config_error(write: Write) -> None:
    write("tickets.csv", TICKETS)
    path = write(
        "cscli.yaml",
        """
        calendars: {office: {timezone: UTC, hours: 24/7}}
        sources:
          tickets: {path: tickets.csv, calendar: {by: tem, map: {A: office}, default: office}}
        kpis: [{id: frt_business, kpi: first_response_time, hours: business}]
        """,
    )
    with pytest.raises(ConfigError) as info:
        api.report(path)
    assert str(info.value).endswith(
        "sources.tickets.calendar.by: tickets has no column 'tem' (did you mean 'team'?)"
    )
