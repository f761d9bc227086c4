"""The ticket lifecycle from a status history (`ticket_events`): status times, first and full
resolution, reopens from the history, the presets that read histories, and the shared
ServiceNow audit log cross-checked by an independent DuckDB count.

Fixture (tests/data/presets/zendesk/ticket_field_history.csv, fivetran's ticket_field_history;
Monday 2026-03-02 and Tuesday 2026-03-03):

ticket 101 (created Mon 09:00): new 09–10 (1h), open 10–12 (2h), pending 12–18 (6h), open
  Mon 18:00–Tue 09:00 (15h), hold 09–11 (2h), solved 11:00, open 11:30–12:00 (0.5h: reopened),
  solved 12:00 (final). The priority row at 09:05 is not a status change.
ticket 102 (created Mon 10:00): new 10–11 (1h), open 11–13 (2h), solved 13:00.
"""

from __future__ import annotations

import gzip
import json
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from cscli.cli import app

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "tests" / "data" / "presets" / "zendesk" / "ticket_field_history.csv"
SHARED = ROOT.parent / "shared" / "data"
HOUR = 3600.0

KPIS = (
    "requester_wait_time",
    "agent_work_time",
    "agent_wait_time",
    "on_hold_time",
    "first_resolution_time",
    "full_resolution_time",
    "reopen_rate",
)

TICKETS = """ticket_id,created_at,resolved_at,status
101,2026-03-02 09:00:00,2026-03-03 12:00:00,solved
102,2026-03-02 10:00:00,2026-03-02 13:00:00,solved
"""


def run(tmp_path: Path, body: str, *args: str) -> dict[str, Any]:
    config = tmp_path / "cscli.yaml"
    config.write_text(textwrap.dedent(body), encoding="utf-8")
    kpis = [a for k in KPIS for a in ("--kpi", k)]
    result = CliRunner().invoke(
        app,
        ["report", "-c", str(config), "-f", "json", "--from", "2026-03-01", "--to", "2026-03-31"]
        + kpis
        + list(args),
    )
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def totals(doc: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    return {k: (v["value"], v["n"]) for k, v in doc["totals"]["kpis"].items()}


def config(tmp_path: Path, extra: str = "") -> str:
    (tmp_path / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    return f"""\
version: 1
timezone: UTC
sources:
  tickets: {{path: tickets.csv}}
  ticket_events: {{path: '{HISTORY}', adapter: zendesk}}
{extra}"""


def test_status_times_calendar(tmp_path: Path) -> None:
    t = totals(run(tmp_path, config(tmp_path)))
    # medians of two tickets = their means
    # requester wait: 101 = 1 + 2 + 15 + 2 + 0.5 = 20.5h, 102 = 3h → 11.75h
    assert t["requester_wait_time"] == (pytest.approx(11.75 * HOUR), 2)
    # agent work: 101 = 1 + 2 + 15 + 0.5 = 18.5h, 102 = 3h → 10.75h
    assert t["agent_work_time"] == (pytest.approx(10.75 * HOUR), 2)
    # agent wait (pending): 6h and 0 → 3h; on hold: 2h and 0 → 1h
    assert t["agent_wait_time"] == (pytest.approx(3 * HOUR), 2)
    assert t["on_hold_time"] == (pytest.approx(1 * HOUR), 2)
    # first resolution: Mon 09 → Tue 11 = 26h, 3h → 14.5h; full: 27h, 3h → 15h
    assert t["first_resolution_time"] == (pytest.approx(14.5 * HOUR), 2)
    assert t["full_resolution_time"] == (pytest.approx(15 * HOUR), 2)
    # reopens from the history (tickets.csv has no reopens column): 101 once, 102 never
    assert t["reopen_rate"] == (pytest.approx(0.5), 2)


def test_status_times_business(tmp_path: Path) -> None:
    extra = """\
calendars:
  support: {timezone: UTC, hours: {mon-fri: 09:00-17:00}}
calendar: support
kpis:
"""
    extra += "".join(f"  - {{id: b_{k}, kpi: {k}, hours: business}}\n" for k in KPIS[:6])
    doc = run(tmp_path, config(tmp_path, extra), *[a for k in KPIS[:6] for a in ("--kpi", f"b_{k}")])
    t = totals(doc)
    # open 09–17: 101 new 1h, open 2h, pending 12–17 = 5h, open Mon 18 → Tue 09 = 0, hold 2h,
    # open 0.5h; 102 as in calendar time (all inside the hours)
    # requester wait (5.5h + 3h) / 2 = 4.25h; agent work (3.5h + 3h) / 2 = 3.25h
    assert t["b_requester_wait_time"] == (pytest.approx(4.25 * HOUR), 2)
    assert t["b_agent_work_time"] == (pytest.approx(3.25 * HOUR), 2)
    # agent wait (5h + 0) / 2; hold (2h + 0) / 2
    assert t["b_agent_wait_time"] == (pytest.approx(2.5 * HOUR), 2)
    assert t["b_on_hold_time"] == (pytest.approx(1 * HOUR), 2)
    # first resolution: Mon 09–17 (8h) + Tue 09–11 (2h) = 10h, 3h → 6.5h; full 11h, 3h → 7h
    assert t["b_first_resolution_time"] == (pytest.approx(6.5 * HOUR), 2)
    assert t["b_full_resolution_time"] == (pytest.approx(7 * HOUR), 2)
