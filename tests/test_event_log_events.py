"""An `event_log:` tickets source that also gives its events as `ticket_events`
(`event_log.ticket_events:`): the status mapping, unmapped statuses as findings, the config
errors, the findings for comments and events dated before their ticket, and the shared
ServiceNow and BPI 2013 logs cross-checked by an independent DuckDB computation.

Fixture (LOG; Monday 2026-03-02, Tuesday 2026-03-03), statuses after the mapping
Created → new, Working → open, Waiting customer → pending, On hold → hold, Done → solved:

A (created Mon 09:00): new 09–10 (1h), open 10–12 (2h), pending 12–18 (6h), open Mon 18:00 →
  Tue 09:00 (15h), solved 09:00, open 10–11 (1h: reopened), hold 11–12 (1h), solved 12:00.
B (created Mon 10:00): new 10–11 (1h), "Mystery" 11–13 (unmapped: in no status time),
  solved 13:00.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from cscli.cli import app
from cscli.config import load_config
from cscli.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HOUR = 3600.0

LOG = """\
case,ts,activity,who,team
A,2026-03-02 09:00:00,Created,u1,T1
A,2026-03-02 10:00:00,Working,u2,T1
A,2026-03-02 12:00:00,Waiting customer,u2,T1
A,2026-03-02 18:00:00,Working,u2,T2
A,2026-03-03 09:00:00,Done,u2,T2
A,2026-03-03 10:00:00,Working,u3,T2
A,2026-03-03 11:00:00,on hold,u3,T2
A,2026-03-03 12:00:00,Done,u3,T2
B,2026-03-02 10:00:00,Created,u1,T1
B,2026-03-02 11:00:00,Mystery,u1,T1
B,2026-03-02 13:00:00,Done,u1,T1
"""

CONFIG = """\
version: 1
timezone: UTC
sources:
  tickets:
    path: log.csv
    event_log:
      case: case
      timestamp: ts
      activity: activity
      resolved: [Done]
      ticket_events:
        statuses: {Created: new, Working: open, Waiting customer: pending, On Hold: hold,
                   Done: solved}
        actor: who
        group: team
kpis:
  - {id: wait, kpi: requester_wait_time, stat: mean}
  - {id: work, kpi: agent_work_time, stat: mean}
  - {id: pending, kpi: agent_wait_time, stat: mean}
  - {id: hold, kpi: on_hold_time, stat: mean}
  - {id: first, kpi: first_resolution_time, stat: mean}
  - {id: full, kpi: full_resolution_time, stat: mean}
  - reopen_rate
"""


def report(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def totals(doc: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    return {k: (v["value"], v["n"]) for k, v in doc["totals"]["kpis"].items()}


def write(tmp_path: Path, body: str = CONFIG, log: str = LOG) -> Path:
    (tmp_path / "log.csv").write_text(log, encoding="utf-8")
    path = tmp_path / "cscli.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")


@pytest.mark.parametrize("engine", ["", "engine: duckdb\n"])
def test_the_log_gives_tickets_and_their_status_history(tmp_path: Path, engine: str) -> None:
    """The same numbers on polars and on DuckDB (which reads the events source as any other)."""
    doc = report(write(tmp_path, CONFIG + engine), *MARCH)
    t = totals(doc)
    # requester wait (new + open + hold): A = 1 + 2 + 15 + 1 + 1 = 20h, B = 1h → mean 10.5h
    assert t["wait"] == (pytest.approx(10.5 * HOUR), 2)
    # agent work (new + open): A = 1 + 2 + 15 + 1 = 19h, B = 1h → 10h
    assert t["work"] == (pytest.approx(10 * HOUR), 2)
    # pending: A 6h, B 0 → 3h; hold: A 1h, B 0 → 0.5h
    assert t["pending"] == (pytest.approx(3 * HOUR), 2)
    assert t["hold"] == (pytest.approx(0.5 * HOUR), 2)
    # first solve: A Mon 09 → Tue 09 = 24h, B 3h → 13.5h; final: A 27h, B 3h → 15h
    assert t["first"] == (pytest.approx(13.5 * HOUR), 2)
    assert t["full"] == (pytest.approx(15 * HOUR), 2)
    # reopens from the history: A once (solved → open), B never → 1/2
    assert t["reopen_rate"] == (pytest.approx(0.5), 2)
    issues = {(q["source"], q["issue"]): q for q in doc["data_quality"]}
    unmapped = issues[
        ("ticket_events", "status not one of new, open, pending, hold, solved, closed (unmapped)")
    ]
    # B's Mystery event, line 11 of the log (the header is line 1)
    assert unmapped["rows"] == 1
    assert unmapped["examples"] == [{"file": "log.csv", "row": 11}]


def test_the_events_source_maps_actor_and_group(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    events = config.sources["ticket_events"]
    assert events.event_log is None and events.filter is None
    assert events.columns["ticket_id"] == "case" and events.columns["at"] == "ts"
    assert events.columns["actor"] == "who" and events.columns["group"] == "team"
    # the tickets keep their own reading
    assert config.sources["tickets"].event_log is not None
    result = CliRunner().invoke(app, ["validate", "-c", str(tmp_path / "cscli.yaml")])
    assert "ticket_events: 11 rows read from log.csv" in result.output
    assert "actor ← who" in result.output and "group ← team" in result.output


def test_canonical_activities_need_no_mapping(tmp_path: Path) -> None:
    """Without `statuses:`, the activity values are the statuses (lower-cased): Open, SOLVED."""
    log = "case,ts,activity\nX,2026-03-02 09:00:00,New\nX,2026-03-02 11:00:00,Open\n"
    log += "X,2026-03-02 12:30:00,SOLVED\n"
    body = CONFIG.replace(
        """        statuses: {Created: new, Working: open, Waiting customer: pending, On Hold: hold,
                   Done: solved}
        actor: who
        group: team
""",
        "        {}\n",
    ).replace("resolved: [Done]", "resolved: [SOLVED]")
    t = totals(report(write(tmp_path, body, log), *MARCH))
    # new 2h + open 1.5h = 3.5h of requester wait; full resolution 3.5h
    assert t["wait"] == (pytest.approx(3.5 * HOUR), 1)
    assert t["full"] == (pytest.approx(3.5 * HOUR), 1)
    assert t["reopen_rate"] == (0.0, 1)


def test_coded_activities_map_by_their_number(tmp_path: Path) -> None:
    """A process-mining log with numbered activities (`1: new`, unquoted in YAML): new 09–10,
    open 10–12, pending 12–13, solved 13:00 → requester wait 3h, agent wait 1h, full 4h."""
    log = "case,ts,activity\n"
    log += "X,2026-03-02 09:00:00,1\nX,2026-03-02 10:00:00,2\n"
    log += "X,2026-03-02 12:00:00,3\nX,2026-03-02 13:00:00,6\n"
    body = CONFIG.replace(
        """        statuses: {Created: new, Working: open, Waiting customer: pending, On Hold: hold,
                   Done: solved}
        actor: who
        group: team
""",
        "        statuses: {1: new, 2: open, 3: pending, 6: solved}\n",
    ).replace("resolved: [Done]", "resolved: ['6']")
    doc = report(write(tmp_path, body, log), *MARCH)
    t = totals(doc)
    assert t["wait"] == (pytest.approx(3 * HOUR), 1)
    assert t["pending"] == (pytest.approx(1 * HOUR), 1)
    assert t["full"] == (pytest.approx(4 * HOUR), 1)
    assert doc["data_quality"] == []


@pytest.mark.parametrize(
    ("body", "message", "hint"),
    [
        (
            CONFIG.replace("On Hold: hold", "On Hold: held"),
            "'On Hold' maps to 'held' (did you mean 'hold'?); ticket statuses are new, open",
            None,
        ),
        (
            CONFIG.replace("kpis:\n", "  ticket_events: {path: other.csv}\nkpis:\n", 1),
            "sources.ticket_events is configured too",
            "hint: remove event_log.ticket_events, or the ticket_events source",
        ),
        (
            CONFIG.replace("      activity: activity\n", ""),
            "the events need a status",
            "hint: set event_log.activity, or event_log.ticket_events.status",
        ),
    ],
)
def test_config_errors(tmp_path: Path, body: str, message: str, hint: str | None) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    shown = [str(p) for p in info.value.problems]
    assert any(message in s and s.startswith(f"{path}:") for s in shown), shown
    result = CliRunner().invoke(app, ["report", "-c", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output
    if hint is not None:
        assert hint in result.output


def test_only_the_tickets_source_gives_events(tmp_path: Path) -> None:
    body = """\
    version: 1
    sources:
      tickets: {path: t.csv}
      calls:
        path: log.csv
        event_log: {case: case, timestamp: ts, activity: activity, ticket_events: {}}
    """
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    [problem] = [str(p) for p in info.value.problems]
    # the key's own position: line 6 of the dedented file
    assert problem.startswith(f"{path}:6:")
    assert "event_log.ticket_events belongs to the tickets source, not 'calls'" in problem


# --- records dated before their ticket ------------------------------------------------------


def test_comments_and_events_before_the_ticket_are_findings(tmp_path: Path) -> None:
    (tmp_path / "tickets.csv").write_text(
        "ticket_id,created_at,resolved_at\n"
        "1,2026-03-02 09:00:00,2026-03-02 12:00:00\n"
        "2,2026-03-02 10:00:00,\n",
        encoding="utf-8",
    )
    (tmp_path / "comments.csv").write_text(
        "ticket_id,created_at,author_role\n"
        "1,2026-03-02 08:59:00,end_user\n"  # line 2: a minute before ticket 1: counted
        "1,2026-03-02 09:00:00,agent\n"  # at created_at exactly: not before
        "2,2026-03-02 09:30:00,end_user\n"  # line 4: before ticket 2: counted
        "3,2026-03-01 09:00:00,end_user\n",  # ticket 3 is not in tickets: not compared
        encoding="utf-8",
    )
    (tmp_path / "events.csv").write_text(
        "ticket_id,at,status\n"
        "1,2026-03-02 08:00:00,new\n"  # line 2: before ticket 1: counted
        "1,2026-03-02 12:00:00,solved\n",
        encoding="utf-8",
    )
    (tmp_path / "cscli.yaml").write_text(
        "version: 1\nsources:\n  tickets: {path: tickets.csv}\n"
        "  ticket_comments: {path: comments.csv}\n  ticket_events: {path: events.csv}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["validate", "-c", str(tmp_path / "cscli.yaml"), "--format", "json"]
    )
    doc = json.loads(result.stdout)
    found = {(q["source"], q["issue"]): q for q in doc["data_quality"]}
    comments = found[("ticket_comments", "created_at before the ticket's created_at (in tickets)")]
    assert comments["rows"] == 2
    assert [e["row"] for e in comments["examples"]] == [2, 4]
    assert "reply waits run from comment to comment" in comments["effect"]
    events = found[("ticket_events", "at before the ticket's created_at (in tickets)")]
    assert events["rows"] == 1 and [e["row"] for e in events["examples"]] == [2]


# --- the shared logs ----------------------------------------------------------------------

SERVICENOW = SHARED / "servicenow_incident_log" / "incident_event_log.csv.gz"
VINST = SHARED / "bpi2013_incidents" / "VINST-new.csv.gz"

#: the status times, reopens and resolutions of a log, computed independently in DuckDB from
#: `e` (number, t, s: the canonical status, rn: the file order): intervals to the ticket's next
#: event or the log's newest, the final solve as the start of the last run of solved/closed
INDEPENDENT = """
o AS (
  SELECT *, row_number() OVER (PARTITION BY number ORDER BY t, rn) AS k,
         s IN ('solved', 'closed') AS done,
         epoch(coalesce(lead(t) OVER (PARTITION BY number ORDER BY t, rn),
                        (SELECT max(t) FROM e))) - epoch(t) AS secs,
         lag(s IN ('solved', 'closed')) OVER (PARTITION BY number ORDER BY t, rn) AS was
  FROM e
), c AS (
  SELECT number, max(k) FILTER (WHERE NOT done) AS last_open,
         coalesce(arg_max(opened, k), min(t)) AS created,
         min(t) FILTER (WHERE done) AS first_solve,
         coalesce(sum(secs) FILTER (WHERE s IN ('new', 'open', 'hold')), 0) AS wait,
         coalesce(sum(secs) FILTER (WHERE s IN ('new', 'open')), 0) AS work,
         coalesce(sum(secs) FILTER (WHERE s = 'pending'), 0) AS pending,
         coalesce(sum(secs) FILTER (WHERE s = 'hold'), 0) AS hold,
         count(*) FILTER (WHERE was AND NOT done) AS reopens
  FROM o GROUP BY number
), f AS (
  SELECT c.*, (SELECT min(o.t) FROM o WHERE o.number = c.number AND o.done
               AND (c.last_open IS NULL OR o.k > c.last_open)) AS final
  FROM c
)
SELECT count(*) AS solved, avg(wait) AS wait, avg(work) AS work, avg(pending) AS pending,
       avg(hold) AS hold, avg(fs) FILTER (WHERE fs >= 0) AS first,
       count(fs) FILTER (WHERE fs >= 0) AS first_n,
       avg(ls) FILTER (WHERE ls >= 0) AS "full",
       count(ls) FILTER (WHERE ls >= 0) AS full_n,
       count(*) FILTER (WHERE reopens > 0) AS reopened
FROM (SELECT *, epoch(first_solve) - epoch(created) AS fs,
             epoch(final) - epoch(created) AS ls FROM f)
WHERE final IS NOT NULL
"""

KPIS = """\
kpis:
  - {id: wait, kpi: requester_wait_time, stat: mean}
  - {id: work, kpi: agent_work_time, stat: mean}
  - {id: pending, kpi: agent_wait_time, stat: mean}
  - {id: hold, kpi: on_hold_time, stat: mean}
  - {id: first, kpi: first_resolution_time, stat: mean}
  - {id: full, kpi: full_resolution_time, stat: mean}
  - reopen_rate
"""


def independent(events_sql: str) -> dict[str, Any]:
    con = duckdb.connect()
    cur = con.execute(f"WITH e AS ({events_sql}), {INDEPENDENT}")
    names = [x[0] for x in cur.description]
    row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def assert_matches(got: dict[str, tuple[Any, int]], want: dict[str, Any]) -> None:
    n = want["solved"]
    for kpi in ("wait", "work", "pending", "hold"):
        assert got[kpi] == (pytest.approx(want[kpi], rel=1e-9), n), kpi
    # a resolution before created_at (the export's opened_at) is left out of the mean
    for kpi in ("first", "full"):
        assert got[kpi] == (pytest.approx(want[kpi], rel=1e-9), want[f"{kpi}_n"]), kpi
    assert got["reopen_rate"] == (pytest.approx(want["reopened"] / n, rel=1e-12), n)


@pytest.mark.skipif(not SERVICENOW.is_file(), reason="../shared/data is not available")
def test_servicenow_audit_log_gives_its_own_history(tmp_path: Path) -> None:
    """One source: the ServiceNow audit log read as incidents and, with `ticket_events: {}`,
    as their status history in the preset's state mapping."""
    body = f"""\
version: 1
timezone: UTC
sources:
  tickets:
    path: '{SERVICENOW}'
    adapter: servicenow
    null_values: ["?"]
    timestamp_format: "%d/%m/%Y %H:%M"
    event_log: {{case: number, timestamp: sys_updated_at, activity: incident_state,
                 resolved: [Resolved, Closed], ticket_events: {{}}}}
{KPIS}"""
    config = tmp_path / "cscli.yaml"
    config.write_text(body, encoding="utf-8")
    doc = report(config, "--from", "2015-01-01", "--to", "2018-12-31")
    want = independent(
        f"""
        SELECT number, row_number() OVER () AS rn,
               strptime(sys_updated_at, '%d/%m/%Y %H:%M') AS t,
               strptime(opened_at, '%d/%m/%Y %H:%M') AS opened,
               CASE incident_state WHEN 'New' THEN 'new' WHEN 'Active' THEN 'open'
                    WHEN 'Awaiting User Info' THEN 'pending'
                    WHEN 'Awaiting Problem' THEN 'hold' WHEN 'Awaiting Vendor' THEN 'hold'
                    WHEN 'Awaiting Evidence' THEN 'hold' WHEN 'Resolved' THEN 'solved'
                    WHEN 'Closed' THEN 'closed' ELSE incident_state END AS s
        FROM read_csv('{SERVICENOW}', header = true, all_varchar = true)
        """
    )
    assert want["solved"] > 20_000
    assert_matches(totals(doc), want)
    # the five rows whose state is -100 are the only unmapped statuses
    issues = {(q["source"], q["issue"]): q["rows"] for q in doc["data_quality"]}
    key = "status not one of new, open, pending, hold, solved, closed (unmapped)"
    assert issues[("ticket_events", key)] == 5


@pytest.mark.skipif(not VINST.is_file(), reason="../shared/data is not available")
def test_bpi2013_log_gives_its_own_history(tmp_path: Path) -> None:
    """BPI 2013 (VINST): Sub Status mapped onto the statuses; Unmatched (5 rows) left unmapped
    and counted."""
    body = f"""\
version: 1
timezone: Europe/Brussels
sources:
  tickets:
    path: '{VINST}'
    event_log:
      case: SR Number
      timestamp: Change Date+Time
      activity: Status
      resolved: [Completed]
      ticket_events:
        status: Sub Status
        statuses:
          Awaiting Assignment: new
          In Progress: open
          Assigned: open
          Wait - User: pending
          Wait - Customer: pending
          Wait: hold
          Wait - Implementation: hold
          Wait - Vendor: hold
          Resolved: solved
          In Call: solved
          Closed: closed
          Cancelled: closed
        group: Involved ST
        assignee: Owner First Name
{KPIS}"""
    config = tmp_path / "cscli.yaml"
    config.write_text(body, encoding="utf-8")
    doc = report(config, "--from", "2010-01-01", "--to", "2012-12-31")
    want = independent(
        f"""
        SELECT "SR Number" AS number, row_number() OVER () AS rn,
               CAST("Change Date+Time" AS TIMESTAMPTZ) AS t, NULL AS opened,
               CASE "Sub Status" WHEN 'Awaiting Assignment' THEN 'new'
                    WHEN 'In Progress' THEN 'open' WHEN 'Assigned' THEN 'open'
                    WHEN 'Wait - User' THEN 'pending' WHEN 'Wait - Customer' THEN 'pending'
                    WHEN 'Wait' THEN 'hold' WHEN 'Wait - Implementation' THEN 'hold'
                    WHEN 'Wait - Vendor' THEN 'hold' WHEN 'Closed' THEN 'closed'
                    WHEN 'Cancelled' THEN 'closed' WHEN 'Resolved' THEN 'solved'
                    WHEN 'In Call' THEN 'solved' ELSE lower("Sub Status") END AS s
        FROM read_csv('{VINST}', header = true, all_varchar = true)
        """
    )
    assert want["solved"] > 7_000
    assert_matches(totals(doc), want)
    issues = {(q["source"], q["issue"]): q["rows"] for q in doc["data_quality"]}
    key = "status not one of new, open, pending, hold, solved, closed (unmapped)"
    assert issues[("ticket_events", key)] == 5
