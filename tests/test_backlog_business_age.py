"""backlog_age with `hours: business`: the backlog's age bands in the open time of the tickets'
calendar, across a weekend; the SQL engines refuse it with the reason; without a calendar
the KPI says what is missing.

Calendar: Mon–Fri 09:00–17:00 UTC (8 open hours a day). Tickets (March 2026; 03-05 is a
Thursday, 03-06 Friday, 03-07/08 the weekend, 03-09 Monday):

  t1 created Fri 03-06 16:00, open
  t2 created Thu 03-05 10:00, open
  t3 created Mon 03-09 08:00 (before opening), open
  t4 created Fri 03-06 10:00, resolved Mon 03-09 09:30
  t5 created Sat 03-07 10:00 (weekend), open
  t6 created Mon 03-09 14:00, open

Buckets [4h, 8h, 16h] → <4h, 4h–8h, 8h–16h, ≥16h, each business age at a day's end (the next
midnight):

  end of Fri (Sat 00:00): t1 Fri 16–17 = 1h (<4h); t2 Thu 10–17 7h + Fri 8h = 15h (8h–16h);
                          t4 Fri 10–17 = 7h (4h–8h)                           → [1, 1, 1, 0]
  end of Sat and of Sun:  the same ages (no open hour), t5 created: 0h (<4h)   → [2, 1, 1, 0]
  end of Mon (Tue 00:00): t1 1 + 8 = 9h (8h–16h); t2 15 + 8 = 23h (≥16h); t3 Mon 09–17 = 8h,
                          exactly on the edge (8h–16h); t4 resolved Mon 09:30 (out); t5 8h
                          (8h–16h); t6 Mon 14–17 = 3h (<4h)                   → [1, 0, 3, 1]

In calendar time at Tue 00:00: t1 80h, t2 110h, t3 16h (exactly: ≥16h), t5 62h, t6 10h
                                                                               → [0, 0, 1, 4]
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.business_hours.parse import read_calendars
from cscli.cli import app
from cscli.config.problems import Problems
from cscli.engine.polars.business_time import business_after, business_seconds

TICKETS = """\
ticket_id,created_at,resolved_at,team
t1,2026-03-06 16:00:00,,a
t2,2026-03-05 10:00:00,,a
t3,2026-03-09 08:00:00,,b
t4,2026-03-06 10:00:00,2026-03-09 09:30:00,b
t5,2026-03-07 10:00:00,,b
t6,2026-03-09 14:00:00,,a
"""

CONFIG = """\
version: 1
timezone: UTC
calendars:
  office: {timezone: UTC, hours: {mon-fri: "09:00-17:00"}}
calendar: office
sources:
  tickets: {path: tickets.csv}
kpis:
  - {id: bage, kpi: backlog_age, hours: business, buckets: [4h, 8h, 16h]}
  - {id: cage, kpi: backlog_age, buckets: [4h, 8h, 16h]}
  - backlog
"""
BUSINESS = ("bage_lt_4h", "bage_4h_8h", "bage_8h_16h", "bage_ge_16h")
CALENDAR = ("cage_lt_4h", "cage_4h_8h", "cage_8h_16h", "cage_ge_16h")
PERIOD = ("--from", "2026-03-06", "--to", "2026-03-09")


def write(tmp_path: Path, body: str = CONFIG) -> Path:
    (tmp_path / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(body, encoding="utf-8")
    return config


def run(config: Path, *args: str, fmt: str = "json") -> Any:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", fmt, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if fmt == "json" else result.stdout


def values(doc: dict[str, Any], ids: tuple[str, ...]) -> list[Any]:
    return [doc["totals"]["kpis"][k]["value"] for k in ids]


def test_business_age_bands_at_the_period_end(tmp_path: Path) -> None:
    doc = run(write(tmp_path), *PERIOD)
    assert values(doc, BUSINESS) == [1, 0, 3, 1]
    assert values(doc, CALENDAR) == [0, 0, 1, 4]
    # the bands partition the backlog either way: 5 open tickets at Tue 00:00
    assert values(doc, ("backlog",)) == [5]
    definition = {k["id"]: k["definition"] for k in doc["kpis"]}["bage_lt_4h"]
    assert "in business time" in definition


def test_business_age_bands_each_day(tmp_path: Path) -> None:
    out = run(write(tmp_path), *PERIOD, "--grain", "day", fmt="csv")
    table = pl.read_csv(out.encode(), schema_overrides={"period": pl.String})
    rows = table.filter(pl.col("scope") == "group")
    got = {r["period"]: [r[k] for k in BUSINESS] for r in rows.iter_rows(named=True)}
    assert got == {
        "2026-03-06": [1, 1, 1, 0],
        "2026-03-07": [2, 1, 1, 0],
        "2026-03-08": [2, 1, 1, 0],
        "2026-03-09": [1, 0, 3, 1],
    }


def test_business_age_by_team(tmp_path: Path) -> None:
    # team a: t1 9h, t2 23h, t6 3h; team b: t3 8h, t5 8h (t4 resolved)
    doc = run(write(tmp_path), *PERIOD, "--by", "team")
    rows = {r["group"]["team"]: [r["kpis"][k]["value"] for k in BUSINESS] for r in doc["rows"]}
    assert rows == {"a": [1, 0, 1, 1], "b": [0, 0, 2, 0]}


def test_without_a_calendar_the_kpi_says_why(tmp_path: Path) -> None:
    body = CONFIG.replace("calendar: office\n", "")
    doc = run(write(tmp_path, body), *PERIOD)
    why = {k["id"]: k.get("unavailable", "") for k in doc["kpis"]}
    for kpi in BUSINESS:
        assert why[kpi].startswith("hours: business needs a calendar for tickets")
    # the calendar-time bands are still computed
    assert values(doc, CALENDAR) == [0, 0, 1, 4]


@pytest.mark.parametrize("engine", ["duckdb"])
def test_the_sql_engines_refuse_with_the_reason(tmp_path: Path, engine: str) -> None:
    doc = run(write(tmp_path, CONFIG + f"engine: {engine}\n"), *PERIOD)
    why = {k["id"]: k.get("unavailable", "") for k in doc["kpis"]}
    for kpi in BUSINESS:
        assert why[kpi].startswith(
            f"unavailable on the {engine} engine: a level by business-hours age band"
        )
    # calendar bands stay exact on the SQL engine
    assert values(doc, CALENDAR) == [0, 0, 1, 4]


# --- B⁻¹ itself ---------------------------------------------------------------------------

START = datetime(2026, 1, 1, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 60 * 24 * 60), min_size=1, max_size=20),
    amount=st.integers(1, 3 * 24 * 3600),
)
def test_business_after_is_the_first_instant_with_that_much_open_time(
    minutes: list[int], amount: int
) -> None:
    """For every start s and amount x: business_seconds(s, after) = x, and one microsecond
    earlier it is less than x (on a calendar with a lunch break, in Berlin across the DST
    change of 29 March)."""
    calendar = read_calendars(
        {"c": {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-12:00", "13:00-17:30"]}}},
        Problems(),
    )["c"]
    starts = pl.DataFrame(
        {"s": [START + timedelta(minutes=m) for m in minutes]},
        schema={"s": pl.Datetime("us", "UTC")},
    )
    out = starts.with_columns(after=business_after(pl.col("s"), amount, calendar)).with_columns(
        got=business_seconds(pl.col("s"), pl.col("after"), calendar),
        just_before=business_seconds(
            pl.col("s"), pl.col("after") - timedelta(microseconds=1), calendar
        ),
    )
    assert out["got"].to_list() == [float(amount)] * len(minutes)
    assert all(b < amount for b in out["just_before"].to_list())


def test_each_team_ages_on_its_own_calendar(tmp_path: Path) -> None:
    """Both created Friday 16:00; at the end of Friday (Sat 00:00) team a (09–17) has 1 open
    hour (<2h), team b (09–20) 4 (exactly on the edge: ≥4h)."""
    (tmp_path / "tickets.csv").write_text(
        "ticket_id,created_at,resolved_at,team\n"
        "t1,2026-03-06 16:00:00,,a\n"
        "t2,2026-03-06 16:00:00,,b\n",
        encoding="utf-8",
    )
    config = tmp_path / "cscli.yaml"
    config.write_text(
        "version: 1\ntimezone: UTC\ncalendars:\n"
        '  office: {timezone: UTC, hours: {mon-fri: "09:00-17:00"}}\n'
        '  late: {timezone: UTC, hours: {mon-fri: "09:00-20:00"}}\n'
        "sources:\n"
        "  tickets: {path: tickets.csv, calendar: {by: team, map: {a: office, b: late}}}\n"
        "kpis:\n  - {id: bage, kpi: backlog_age, hours: business, buckets: [2h, 4h]}\n",
        encoding="utf-8",
    )
    doc = run(config, "--from", "2026-03-06", "--to", "2026-03-06", "--by", "team")
    ids = ("bage_lt_2h", "bage_2h_4h", "bage_ge_4h")
    rows = {r["group"]["team"]: [r["kpis"][k]["value"] for k in ids] for r in doc["rows"]}
    assert rows == {"a": [1, 0, 0], "b": [0, 0, 1]}


def test_the_records_behind_a_business_band_breach(tmp_path: Path) -> None:
    """`check --breaches` lists the tickets in the band at the period's end: only t2 (23
    business hours) is ≥16h."""
    config = write(tmp_path, CONFIG + 'checks:\n  - {kpi: bage_ge_16h, fail: "> 0"}\n')
    out = tmp_path / "breaches.csv"
    result = CliRunner().invoke(app, ["check", "-c", str(config), *PERIOD, "--breaches", str(out)])
    assert result.exit_code == 1, result.output
    rows = pl.read_csv(out)
    assert rows["id"].to_list() == ["t2"]
