"""SLA policies (`sla_policies:`, issue 17): the sla_targets source and its attainment KPIs.

Fixture tests/data/sla (calendar `office`: Mon–Fri 09:00–17:00 UTC; March 2026: Mon 2, Fri 6,
Mon 9). Policies, first match wins:

  vip       channel = 'phone', business hours, pause [pending, hold];
            first_reply 2h, next_reply 1h, resolution {urgent 4h, high 8h}
  standard  priority IS NOT NULL, calendar hours, pause [pending];
            first_reply {urgent 1h, normal 8h}, next_reply 4h, resolution {normal 3h, low 1d}

Export time = the earliest newest timestamp of tickets (T1 resolved Mon 9 15:00), comments
(T4's private note Mon 9 15:00) and events (T4 pending Mon 9 15:00) = Mon 9 15:00.

T1 phone urgent → vip (business). Created Fri 6 16:00.
  first_reply: first public agent comment Mon 9 10:30: Fri 16–17 (1h) + Mon 09–10:30 (1.5h)
    = 2.5h > 2h → breached; due Fri 16:00 + 2h business = Fri 17:00 (1h) + Mon 09–10 = Mon 10:00.
  next_reply: end user Mon 11:00 (after the agent's 10:30) → agent 11:45 = 0.75h ≤ 1h → met.
  resolution: new Fri 16–17 (1h) + Mon 09–10:30 (1.5h), pending 10:30–14:00 paused, open 14–15
    (1h) = 3.5h ≤ 4h → met at the solve Mon 15:00 (due had it kept running: 15:30).
T2 email normal → standard (calendar). Created Mon 2 09:00.
  first_reply: private agent note 09:30 ignored; public 10:00 → 1h ≤ 8h → met.
  next_reply: end user Mon 12:00 → agent Tue 11:00 = 23h > 4h → breached; due Mon 16:00.
  resolution: new 09–10 (1h), open 10–11 (1h), pending Mon 11–Tue 11 paused, open Tue 11–12
    (1h) = 3h at the first solve Tue 12:00 (it would have met 3h), reopened Wed 09–10 (1h)
    → 4h at the final solve Wed 10:00 > 3h → breached; due Tue 12:00 (2h + 1h).
T3 email low → standard: no first_reply target for low → unmeasured (a data-quality finding);
  resolution 1d, no history and no resolved_at → still running: due Fri 6 09:00 ≤ export →
  breached, placed at its due time; elapsed Thu 5 09:00 → Mon 9 15:00 = 102h.
T4 email normal → standard, created Mon 9 14:00: first_reply due 22:00 > export → pending;
  resolution new 14–15 (1h) then pending (paused: never due) → pending.
T5 chat, no priority → no policy matches: no targets.
T6 phone normal → vip (first match, though standard matches too): first_reply Tue 3 16:30 →
  Wed 09:30 = 0.5h + 0.5h business = 1h ≤ 2h → met (17h in calendar time would miss
  standard's 8h); resolution has no target for normal → unmeasured (a data-quality finding).

All targets: measured 10 (4 first_reply, 2 next_reply, 4 resolution), pending 2 (T4 ×2),
judged 8, met 4 (T2 fr, T6 fr, T1 nr, T1 res) → 4/8 = 0.5, open share 2/10.
"""

from __future__ import annotations

import csv
import json
import os
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.cli import app

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "sla"
CONFIG = DATA / "cscli.yaml"
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")
SLA_KPIS = (
    "sla_policy_attainment",
    "first_reply_sla_attainment",
    "next_reply_sla_attainment",
    "resolution_sla_attainment",
)
H = 3600.0


def _kpis() -> list[str]:
    return [a for k in SLA_KPIS for a in ("--kpi", k)]


def report(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json", *_kpis(), *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def values(kpis: dict[str, Any]) -> dict[str, tuple[Any, int, Any]]:
    return {k: (v["value"], v["n"], v.get("open_share")) for k, v in kpis.items()}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def table(config: Path = CONFIG) -> pl.DataFrame:
    """The sla_targets rows, as the engine builds them for a report."""
    from cscli.business_hours.assignment import business_hours
    from cscli.config import load_config
    from cscli.engine.polars.enrich import enriched
    from cscli.engine.polars.sources import load_sources

    cfg = load_config(config)
    sources = load_sources(cfg, {"tickets", "ticket_comments", "ticket_events"} & set(cfg.sources))
    frame = enriched(
        "sla_targets", sources, (), {"sla_met"}, None, business_hours(cfg), cfg.sla_policies
    )
    return frame.collect().sort("sla_id")


def test_attainment_totals() -> None:
    doc = report(CONFIG, *MARCH)
    assert values(doc["totals"]["kpis"]) == {
        # met 4 / judged 8; pending 2 of the 10 measured
        "sla_policy_attainment": (0.5, 8, pytest.approx(0.2)),
        # T2, T6 met, T1 breached; T4 pending of 4 measured (T3 unmeasured)
        "first_reply_sla_attainment": (pytest.approx(2 / 3), 3, pytest.approx(0.25)),
        # T1 met, T2 breached
        "next_reply_sla_attainment": (0.5, 2, 0.0),
        # T1 met, T2 and T3 breached; T4 pending of 4 measured (T6 unmeasured)
        "resolution_sla_attainment": (pytest.approx(1 / 3), 3, pytest.approx(0.25)),
    }
    issues = [
        i for i in doc["data_quality"] if i["issue"] == "no SLA target for the ticket's priority"
    ]
    assert len(issues) == 1
    assert issues[0]["source"] == "tickets"
    assert issues[0]["rows"] == 2  # T3 (first_reply, low) and T6 (resolution, normal)


def test_each_target_row() -> None:
    rows = {r["sla_id"]: r for r in table().iter_rows(named=True)}
    # T5 matches no policy: no row
    assert not any(k.startswith("5/") for k in rows)
    assert sorted(rows) == [
        "1/first_reply/1",
        "1/next_reply/1",
        "1/resolution/1",
        "2/first_reply/1",
        "2/next_reply/1",
        "2/resolution/1",
        "3/first_reply/1",
        "3/resolution/1",
        "4/first_reply/1",
        "4/resolution/1",
        "6/first_reply/1",
        "6/resolution/1",
    ]

    def got(key: str) -> tuple[Any, ...]:
        r = rows[key]
        return (
            r["policy"],
            r["hours"],
            r["sla_state"],
            r["due_at"],
            r["stopped_at"],
            r["placed_at"],
            r["target_seconds"],
            r["elapsed_seconds"],
        )

    # business hours across the weekend: 1h Friday + 1.5h Monday
    assert got("1/first_reply/1") == (
        "vip",
        "business",
        "breached",
        at(9, 10),
        at(9, 10, 30),
        at(9, 10, 30),
        2 * H,
        2.5 * H,
    )
    assert got("1/next_reply/1") == (
        "vip",
        "business",
        "met",
        at(9, 12),
        at(9, 11, 45),
        at(9, 11, 45),
        H,
        0.75 * H,
    )
    # paused while pending: 1h + 1.5h + 1h
    assert got("1/resolution/1") == (
        "vip",
        "business",
        "met",
        at(9, 15, 30),
        at(9, 15),
        at(9, 15),
        4 * H,
        3.5 * H,
    )
    assert got("2/first_reply/1") == (
        "standard",
        "calendar",
        "met",
        at(2, 17),
        at(2, 10),
        at(2, 10),
        8 * H,
        H,
    )
    assert got("2/next_reply/1") == (
        "standard",
        "calendar",
        "breached",
        at(2, 16),
        at(3, 11),
        at(3, 11),
        4 * H,
        23 * H,
    )
    # reopened after its first solve (3h, on target): the final solve at 4h misses
    assert got("2/resolution/1") == (
        "standard",
        "calendar",
        "breached",
        at(3, 12),
        at(4, 10),
        at(4, 10),
        3 * H,
        4 * H,
    )
    # no target for priority low: not measured
    r = rows["3/first_reply/1"]
    assert (r["sla_state"], r["target_seconds"], r["sla_met"]) == ("unmeasured", None, None)
    # still open, due time passed at the export: a breach placed at its due time
    assert got("3/resolution/1") == (
        "standard",
        "calendar",
        "breached",
        at(6, 9),
        None,
        at(6, 9),
        24 * H,
        102 * H,
    )
    # still running, not due yet: pending, placed at the export time
    assert got("4/first_reply/1") == (
        "standard",
        "calendar",
        "pending",
        at(9, 22),
        None,
        at(9, 15),
        8 * H,
        H,
    )
    # paused (pending) at the export: never due
    assert got("4/resolution/1") == (
        "standard",
        "calendar",
        "pending",
        None,
        None,
        at(9, 15),
        3 * H,
        H,
    )
    assert rows["4/resolution/1"]["sla_met"] is None
    # first match wins: vip (business) though standard matches too
    assert got("6/first_reply/1") == (
        "vip",
        "business",
        "met",
        at(4, 10, 30),
        at(4, 9, 30),
        at(4, 9, 30),
        2 * H,
        H,
    )
    assert rows["6/resolution/1"]["sla_state"] == "unmeasured"
    assert rows["2/next_reply/1"]["team"] == "b"


def test_placed_in_the_period_of_the_stop() -> None:
    # Monday 9 only: T1's three targets stop that day (first_reply breached, next_reply and
    # resolution met); T4's two pending targets sit at the export time (Mon 15:00)
    doc = report(CONFIG, "--from", "2026-03-09", "--to", "2026-03-09")
    assert values(doc["totals"]["kpis"]) == {
        "sla_policy_attainment": (pytest.approx(2 / 3), 3, pytest.approx(2 / 5)),
        "first_reply_sla_attainment": (0.0, 1, 0.5),
        "next_reply_sla_attainment": (1.0, 1, 0.0),
        "resolution_sla_attainment": (1.0, 1, 0.5),
    }
    # Friday 6: T3's open resolution target breached at its due time, 09:00
    doc = report(CONFIG, "--from", "2026-03-06", "--to", "2026-03-06")
    assert doc["totals"]["kpis"]["resolution_sla_attainment"]["value"] == 0.0
    assert doc["totals"]["kpis"]["resolution_sla_attainment"]["n"] == 1


def test_by_team_and_empty_groups() -> None:
    doc = report(CONFIG, *MARCH, "--by", "team")
    rows = {r["group"]["team"]: values(r["kpis"]) for r in doc["rows"]}
    # team a: T1 fr ✗, nr ✓, res ✓; T6 fr ✓ (res unmeasured) → 3/4
    assert rows["a"]["sla_policy_attainment"] == (0.75, 4, 0.0)
    # team b: T2 fr ✓, nr ✗, res ✗; T3 res ✗ → 1/4
    assert rows["b"]["sla_policy_attainment"] == (0.25, 4, 0.0)
    # team night: only T4's pending targets → nothing judged: null, never NaN
    assert rows["night"]["sla_policy_attainment"] == (None, 0, 1.0)
    assert rows["a"]["next_reply_sla_attainment"] == (1.0, 1, 0.0)
    assert rows["night"]["next_reply_sla_attainment"][:2] == (None, 0)


def test_by_policy_and_target() -> None:
    doc = report(CONFIG, *MARCH, "--by", "policy,target")
    got = {
        (r["group"]["policy"], r["group"]["target"]): r["kpis"]["sla_policy_attainment"]["value"]
        for r in doc["rows"]
    }
    assert got == {
        ("vip", "first_reply"): 0.5,  # T6 ✓, T1 ✗
        ("vip", "next_reply"): 1.0,
        ("vip", "resolution"): 1.0,  # T1 ✓ (T6 unmeasured)
        ("standard", "first_reply"): 1.0,  # T2 ✓ (T4 pending)
        ("standard", "next_reply"): 0.0,
        ("standard", "resolution"): 0.0,  # T2 ✗, T3 ✗ (T4 pending)
    }


def test_breaches_csv(tmp_path: Path) -> None:
    out = tmp_path / "breaches.csv"
    result = CliRunner().invoke(app, ["check", "-c", str(CONFIG), *MARCH, "--breaches", str(out)])
    assert result.exit_code == 1, result.output
    with out.open(encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["id"])
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-8:] == [
        "ticket_id",
        "policy",
        "target",
        "hours",
        "due_at",
        "stopped_at",
        "target_seconds",
        "elapsed_seconds",
    ]
    got = [
        (
            r["id"],
            r["ticket_id"],
            r["policy"],
            r["target"],
            r["hours"],
            r["due_at"],
            r["stopped_at"],
            r["target_seconds"],
            r["elapsed_seconds"],
            r["value"],
            r["row"],
        )
        for r in rows
    ]
    assert got == [
        (
            "1/first_reply/1",
            "1",
            "vip",
            "first_reply",
            "business",
            "2026-03-09T10:00:00Z",
            "2026-03-09T10:30:00Z",
            "7200.0",
            "9000.0",
            "9000.0",
            "2",
        ),
        (
            "2/next_reply/1",
            "2",
            "standard",
            "next_reply",
            "calendar",
            "2026-03-02T16:00:00Z",
            "2026-03-03T11:00:00Z",
            "14400.0",
            "82800.0",
            "82800.0",
            "3",
        ),
        (
            "2/resolution/1",
            "2",
            "standard",
            "resolution",
            "calendar",
            "2026-03-03T12:00:00Z",
            "2026-03-04T10:00:00Z",
            "10800.0",
            "14400.0",
            "14400.0",
            "3",
        ),
        # still open: no stop
        (
            "3/resolution/1",
            "3",
            "standard",
            "resolution",
            "calendar",
            "2026-03-06T09:00:00Z",
            "",
            "86400.0",
            "367200.0",
            "367200.0",
            "4",
        ),
    ]
    assert {r["source"] for r in rows} == {"sla_targets"}
    assert {r["file"] for r in rows} == {"tickets.csv"}


def _write(tmp_path: Path, body: str, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    path = tmp_path / "cscli.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


TICKETS_ONLY = """\
    ticket_id,created_at,first_response_at,resolved_at,priority
    a,2026-03-02 09:00:00,2026-03-02 09:30:00,2026-03-02 12:00:00,high
    b,2026-03-02 10:00:00,2026-03-02 13:00:00,,high
    c,2026-03-03 10:00:00,2026-03-03 10:10:00,2026-03-03 11:00:00,
    d,2026-03-04 08:00:00,,,high
"""


def test_tickets_only_and_nulls(tmp_path: Path) -> None:
    """Without comments or a history: first_reply → first_response_at, resolution →
    resolved_at. Export time = newest ticket timestamp = d's created_at, Wed 4 08:00.

    a: fr 0.5h ≤ 1h ✓; res 3h ≤ 4h ✓.
    b: fr 3h > 1h ✗; res open, due Mon 14:00 ≤ export → ✗ (elapsed 46h).
    c: no priority: fr (one target for all) 10 min ✓; res per priority → unmeasured.
    d: fr due 09:00 > export → pending; res due 12:00 → pending.
    """
    path = _write(
        tmp_path,
        """\
        version: 1
        sources:
          tickets: {path: tickets.csv}
        sla_policies:
          - name: all
            targets: {first_reply: 1h, resolution: {high: 4h}}
        """,
        **{"tickets.csv": TICKETS_ONLY},
    )
    doc = report(path, *MARCH)
    assert values(doc["totals"]["kpis"]) == {
        # fr: a ✓, b ✗, c ✓, d pending; res: a ✓, b ✗, d pending → 3 met of 5 judged
        "sla_policy_attainment": (pytest.approx(3 / 5), 5, pytest.approx(2 / 7)),
        "first_reply_sla_attainment": (pytest.approx(2 / 3), 3, 0.25),
        "next_reply_sla_attainment": (None, 0, None),
        "resolution_sla_attainment": (0.5, 2, pytest.approx(1 / 3)),
    }
    rows = {r["sla_id"]: r for r in table(path).iter_rows(named=True)}
    assert rows["b/resolution/1"]["elapsed_seconds"] == 46 * H
    assert rows["c/resolution/1"]["sla_state"] == "unmeasured"
    assert rows["d/first_reply/1"]["sla_state"] == "pending"
    assert {i["rows"] for i in doc["data_quality"] if "SLA" in i["issue"]} == {1}


def test_without_sla_policies_the_kpis_are_unavailable(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "version: 1\nsources:\n  tickets: {path: tickets.csv}\n",
        **{"tickets.csv": TICKETS_ONLY},
    )
    result = CliRunner().invoke(
        app, ["report", "-c", str(path), *MARCH, "--kpi", "sla_policy_attainment"]
    )
    assert "needs sla_policies: in the config" in result.output


def test_sql_engine_refuses(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        version: 1
        engine: {name: duckdb}
        sources:
          tickets: {path: tickets.csv}
        sla_policies:
          - {name: all, targets: {first_reply: 1h}}
        """,
        **{"tickets.csv": TICKETS_ONLY},
    )
    env = {k: v for k, v in os.environ.items() if k != "CSCLI_ENGINE"}
    result = CliRunner(env=env).invoke(
        app, ["report", "-c", str(path), *MARCH, "--kpi", "sla_policy_attainment"]
    )
    assert "unavailable on the duckdb engine" in result.output
    assert "polars engine only" in result.output


@pytest.mark.parametrize(
    ("policy", "extra", "message", "hint"),
    [
        (
            "{name: p, pause: [pending], targets: {resolution: 1d}}",
            "",
            "pause: needs a ticket_events source",
            "add a ticket_events source",
        ),
        (
            "{name: p, hours: business, targets: {resolution: 1d}}",
            "",
            "hours: business needs a calendar for tickets",
            "define one under calendars:",
        ),
        (
            "{name: p, targets: {resolutoin: 1d}}",
            "",
            "unknown SLA target 'resolutoin' (did you mean 'resolution'?)",
            "the targets are first_reply, next_reply, resolution",
        ),
        (
            "{name: p, targets: {first_reply: {urgent: soon}}}",
            "",
            "expected a positive duration such as 4h, got 'soon'",
            "one per priority",
        ),
        (
            "{name: p, where: \"chanel = 'x'\", targets: {first_reply: 1h}}",
            "",
            "unknown column 'chanel' (did you mean 'channel'?)",
            None,
        ),
        (
            "{name: p, pause: [waiting], targets: {resolution: 1d}}",
            "  ticket_events: {path: events.csv}\n",
            "pause: unknown status 'waiting'",
            "a policy pauses in new, open, pending, hold",
        ),
    ],
)
def test_config_errors(
    tmp_path: Path, policy: str, extra: str, message: str, hint: str | None
) -> None:
    path = tmp_path / "cscli.yaml"
    path.write_text(
        "version: 1\nsources:\n  tickets: {path: tickets.csv}\n"
        + extra
        + f"sla_policies:\n  - {policy}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["report", "-c", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    line = 5 + extra.count("\n")  # the line of the policy
    assert f"{path}:{line}:" in result.output
    assert message in result.output
    assert "error:" in result.output
    if hint is not None:
        assert "hint:" in result.output and hint in result.output


# --- the inverse of the business clock ----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    target=st.integers(min_value=1, max_value=30 * 24 * 3600),
)
def test_business_instant_inverts_the_clock(start: datetime, target: int) -> None:
    """due = B⁻¹(B(start) + target): B(due) − B(start) = target, and due is the earliest
    such instant (one µs before it the clock is short)."""
    from cscli.business_hours.parse import read_calendars
    from cscli.config.problems import Problems
    from cscli.engine.polars.business_time import business_clock, business_instant

    cal = read_calendars(
        {"c": {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"]}}},
        Problems(),
    )["c"]
    frame = pl.DataFrame({"t": [start.replace(tzinfo=UTC)]})
    us = target * 1_000_000
    due = frame.select(
        due=business_instant(business_clock(pl.col("t"), cal) + us, cal)
    ).with_columns(t=frame["t"])
    check = due.select(
        gained=business_clock(pl.col("due"), cal) - business_clock(pl.col("t"), cal),
        before=business_clock(pl.col("due") - pl.duration(microseconds=1), cal)
        - business_clock(pl.col("t"), cal),
    ).row(0)
    assert check[0] == us
    assert check[1] == us - 1


def test_resolution_clock_against_duckdb(tmp_path: Path) -> None:
    """The resolution clock in calendar time with pause [pending], cross-checked by an
    independent DuckDB query over the same history: per ticket, the seconds from created_at
    (the first interval) to the final solve spent in statuses other than pending, solved and
    closed; a ticket still open runs to the export time (the earliest newest timestamp)."""
    import duckdb

    path = _write(
        tmp_path,
        f"""\
        version: 1
        sources:
          tickets: {{path: '{DATA / "tickets.csv"}'}}
          ticket_comments: {{path: '{DATA / "comments.csv"}'}}
          ticket_events: {{path: '{DATA / "events.csv"}'}}
        sla_policies:
          - {{name: all, pause: [pending], targets: {{resolution: 3h}}}}
        """,
    )
    got = {
        r["ticket_id"]: r["elapsed_seconds"]
        for r in table(path).filter(pl.col("target") == "resolution").iter_rows(named=True)
    }
    con = duckdb.connect()
    rows = con.execute(
        f"""
        WITH t AS (SELECT CAST(ticket_id AS VARCHAR) AS id, CAST(created_at AS TIMESTAMP) AS c
                   FROM read_csv_auto('{DATA / "tickets.csv"}', all_varchar=true)),
        e AS (SELECT CAST(ticket_id AS VARCHAR) AS id, CAST("at" AS TIMESTAMP) AS a, status
              FROM read_csv_auto('{DATA / "events.csv"}', all_varchar=true)),
        export AS (SELECT least(
            (SELECT max(greatest(CAST(created_at AS TIMESTAMP),
                     coalesce(CAST(first_response_at AS TIMESTAMP), TIMESTAMP '1970-01-01'),
                     coalesce(CAST(resolved_at AS TIMESTAMP), TIMESTAMP '1970-01-01')))
             FROM read_csv_auto('{DATA / "tickets.csv"}', all_varchar=true)),
            (SELECT max(CAST(created_at AS TIMESTAMP))
             FROM read_csv_auto('{DATA / "comments.csv"}', all_varchar=true)),
            (SELECT max(a) FROM e)) AS x),
        iv AS (SELECT id, status, a,
                      coalesce(lead(a) OVER (PARTITION BY id ORDER BY a),
                               greatest((SELECT x FROM export), a)) AS b
               FROM e)
        SELECT id, sum(CASE WHEN status NOT IN ('pending', 'solved', 'closed')
                            THEN epoch(b) - epoch(a) ELSE 0 END)
        FROM iv WHERE id IN (SELECT id FROM e) GROUP BY id ORDER BY id
        """
    ).fetchall()
    # every ticket with a history starts it at its created_at in this fixture
    assert rows == [(k, got[k]) for k, _ in rows]
    assert {k for k, _ in rows} == {"1", "2", "4", "6"}
    # by hand: 1 = 1h + … calendar: Fri 16:00 → Mon 10:30 (66.5h) + Mon 14–15 (1h) = 67.5h
    assert got["1"] == 67.5 * H
    # no history: created → export, Thu 09:00 → Mon 15:00 (T3), Tue 09:00 → resolved 10:00 (T5)
    assert got["3"] == 102 * H and got["5"] == H


def test_calendar_by_team(tmp_path: Path) -> None:
    """Business hours under each ticket's own calendar (assigned by team): x (team a, office
    Mon–Fri 09–17) and y (team b, 24/7), both created Fri 6 16:00, target 2h.
    x answered Mon 10:30: 1h Fri + 1.5h Mon = 2.5h > 2h, due Mon 10:00 → breached.
    y answered Sat 10:00: 18h on 24/7 > 2h (1h on the office calendar), due Fri 18:00."""
    path = _write(
        tmp_path,
        """\
        version: 1
        calendars:
          office: {timezone: UTC, hours: {mon-fri: 09:00-17:00}}
          always: {timezone: UTC, hours: 24/7}
        sources:
          tickets:
            path: tickets.csv
            calendar: {by: team, map: {a: office, b: always}, default: office}
        sla_policies:
          - {name: all, hours: business, targets: {first_reply: 2h}}
        """,
        **{
            "tickets.csv": """\
                ticket_id,created_at,first_response_at,team
                x,2026-03-06 16:00:00,2026-03-09 10:30:00,a
                y,2026-03-06 16:00:00,2026-03-07 10:00:00,b
                """
        },
    )
    rows = {r["ticket_id"]: r for r in table(path).iter_rows(named=True)}
    assert (rows["x"]["elapsed_seconds"], rows["x"]["due_at"]) == (2.5 * H, at(9, 10))
    assert (rows["y"]["elapsed_seconds"], rows["y"]["due_at"]) == (18 * H, at(6, 18))
    assert {r["sla_state"] for r in rows.values()} == {"breached"}


# --- the resolution clock against a plain-Python reference --------------------------------

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


def _reference(
    created: int, events: list[tuple[int, str]], export: int, target: int, pause: set[str]
) -> tuple[int, int | None, int | None, str]:
    """(elapsed, due, stopped, state) in seconds, by walking the intervals one by one."""
    rows = [(created, "new")] + [(max(a, created), s) for a, s in events]
    elapsed, due, cum = 0, None, 0
    for i, (a, status) in enumerate(rows):
        last = i == len(rows) - 1
        b = max(export, a) if last else rows[i + 1][0]
        if status in ("solved", "closed") or status in pause:
            continue
        if due is None and (cum + (b - a) >= target or last):
            due = a + target - cum
        cum += b - a
        elapsed += b - a
    stopped = None
    if rows[-1][1] in ("solved", "closed"):
        j = len(rows) - 1
        while j > 0 and rows[j - 1][1] in ("solved", "closed"):
            j -= 1
        stopped = rows[j][0]
        if due is None:
            due = stopped + target - elapsed
        state = "met" if elapsed <= target else "breached"
    else:
        state = "breached" if due is not None and due <= export else "pending"
    return elapsed, due, stopped, state


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5 * 86400),  # created, seconds after Mon 2 00:00
            st.lists(
                st.tuples(st.integers(-3600, 6 * 86400), st.sampled_from(STATUSES)), max_size=6
            ),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 3 * 86400),
    st.sets(st.sampled_from(("new", "open", "pending", "hold"))),
)
def test_resolution_clock_matches_a_reference(
    tmp_path_factory: pytest.TempPathFactory,
    tickets: list[tuple[int, list[tuple[int, str]]]],
    target: int,
    pause: set[str],
) -> None:
    tmp = tmp_path_factory.mktemp("ref")
    origin = datetime(2026, 3, 2, tzinfo=UTC)

    def stamp(s: int) -> str:
        return (origin + timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")

    (tmp / "tickets.csv").write_text(
        "ticket_id,created_at\n"
        + "".join(f"t{i},{stamp(c)}\n" for i, (c, _) in enumerate(tickets)),
        encoding="utf-8",
    )
    # events in time order (the file order breaks ties, as the engine's order does)
    ordered = {i: sorted(evs, key=lambda e: e[0]) for i, (_, evs) in enumerate(tickets)}
    (tmp / "events.csv").write_text(
        "ticket_id,at,status\n"
        + "".join(f"t{i},{stamp(a)},{s}\n" for i, evs in ordered.items() for a, s in evs),
        encoding="utf-8",
    )
    pauses = ", ".join(sorted(pause))
    (tmp / "cscli.yaml").write_text(
        "version: 1\nsources:\n  tickets: {path: tickets.csv}\n"
        "  ticket_events: {path: events.csv}\nsla_policies:\n"
        f"  - {{name: p, pause: [{pauses}], targets: {{resolution: {target}}}}}\n",
        encoding="utf-8",
    )
    got = {r["ticket_id"]: r for r in table(tmp / "cscli.yaml").iter_rows(named=True)}
    newest_events = [a for evs in ordered.values() for a, _ in evs]
    newest = [max(c for c, _ in tickets)] + ([max(newest_events)] if newest_events else [])
    export = min(newest)
    for i, (created, _) in enumerate(tickets):
        evs = ordered[i]
        if not evs:  # no history and no resolved_at: created → export
            evs = []
        elapsed, due, stopped, state = _reference(created, evs, export, target, pause)
        row = got[f"t{i}"]
        assert row["elapsed_seconds"] == elapsed, (i, row)
        assert row["sla_state"] == state, (i, row)
        assert row["stopped_at"] == (
            None if stopped is None else origin + timedelta(seconds=stopped)
        )
        assert row["due_at"] == (None if due is None else origin + timedelta(seconds=due)), (i, row)


def test_in_the_default_report_when_policies_are_set() -> None:
    result = CliRunner().invoke(app, ["report", "-c", str(CONFIG), *MARCH, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ids = [k["id"] for k in doc["kpis"]]
    assert [k for k in ids if k in SLA_KPIS] == list(SLA_KPIS)
    assert "ticket_volume" in ids  # the usual defaults stay
    assert doc["totals"]["kpis"]["sla_policy_attainment"]["value"] == 0.5  # as above: 4 / 8


def test_pending_targets_are_counted() -> None:
    def pending(*period: str) -> Any:
        result = CliRunner().invoke(
            app,
            ["report", "-c", str(CONFIG), "-f", "json", "--kpi", "sla_targets_pending", *period],
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["totals"]["kpis"]["sla_targets_pending"]["value"]

    # T4's first reply and resolution, placed at the export time (Mon 9 15:00)
    assert pending(*MARCH) == 2
    assert pending("--from", "2026-03-09", "--to", "2026-03-09") == 2
    assert pending("--from", "2026-03-02", "--to", "2026-03-08") == 0


def test_a_ticket_without_a_calendar_is_not_measured(tmp_path: Path) -> None:
    """calendar: {by: team, map: {a: office}} without a default: team z has no calendar (a
    loader finding), so its business clock is unknown: not measured, never pending."""
    path = _write(
        tmp_path,
        """\
        version: 1
        calendars:
          office: {timezone: UTC, hours: {mon-fri: 09:00-17:00}}
        sources:
          tickets: {path: tickets.csv, calendar: {by: team, map: {a: office}}}
        sla_policies:
          - {name: all, hours: business, targets: {first_reply: 2h}}
        """,
        **{
            "tickets.csv": """\
                ticket_id,created_at,first_response_at,team
                x,2026-03-06 16:00:00,2026-03-09 10:30:00,a
                z,2026-03-06 16:00:00,2026-03-09 10:30:00,z
                """
        },
    )
    rows = {r["ticket_id"]: r["sla_state"] for r in table(path).iter_rows(named=True)}
    assert rows == {"x": "breached", "z": "unmeasured"}
    doc = report(path, *MARCH)
    assert values(doc["totals"]["kpis"])["first_reply_sla_attainment"] == (0.0, 1, 0.0)
    assert any("calendar" in i["issue"] for i in doc["data_quality"])


def test_the_docs_config_loads() -> None:
    """docs/sla-policies.md's config block is a config that loads, with its two policies."""
    from cscli.config import parse_config

    text = (ROOT / "docs" / "sla-policies.md").read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(block, ROOT / "docs" / "cscli.yaml")
    vip, standard = config.sla_policies
    assert (vip.name, vip.hours, vip.pause) == ("vip", "business", ("pending", "hold"))
    assert vip.targets["resolution"] == {"urgent": 4 * H, "high": 8 * H}
    assert (standard.where, standard.targets["resolution"]) == (None, 3 * 86400.0)
