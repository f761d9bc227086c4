"""Honest numbers (issue #11): what the data can show at the export time.

Each fixture is small enough to check by hand; the arithmetic sits next to each assertion.
The repeat-contact rules are also cross-checked on the bundled sample operation against an
independent DuckDB SQL formulation of the same definition.

Calendar (UTC): Monday 2026-01-05 starts "week 1", Monday 2026-01-12 "week 2".
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from cscli import api
from cscli.config import load_config
from cscli.engine.polars.sources import load_sources
from cscli.period import Period
from tests.helpers import totals, vn
from tests.test_catalogue import run

ROOT = Path(__file__).resolve().parent.parent

# --- repeat contacts: judged, window from the resolution, linked records -------------------

TICKETS = """
    ticket_id,created_at,resolved_at,customer_id,channel
    a1,2026-01-05T09:00:00Z,2026-01-19T09:00:00Z,A,email
    b1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,B,email
    c1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,C,email
    d1,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z,D,email
    e1,2026-01-21T09:00:00Z,2026-01-21T10:00:00Z,E,email
    x1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,,email
    z1,2026-01-24T09:00:00Z,,Z,email
"""
CALLS = """
    call_id,queued_at,answered_at,ended_at,customer_id,ticket_id
    ka,2026-01-20T09:00:00Z,2026-01-20T09:00:10Z,2026-01-20T09:10:00Z,A,
    kb,2026-01-05T08:50:00Z,2026-01-05T08:50:10Z,2026-01-05T09:00:00Z,B,b1
    kc,2026-01-06T09:00:00Z,2026-01-06T09:00:10Z,2026-01-06T09:10:00Z,C,
    ke,2026-01-22T09:00:00Z,2026-01-22T09:00:10Z,2026-01-22T09:10:00Z,E,
    kz,2026-01-25T09:00:00Z,2026-01-25T09:00:10Z,2026-01-25T09:10:00Z,Y,
"""
# Export time of the contact sources: newest ticket timestamp z1 01-24T09:00; newest call
# timestamp kz ended 01-25T09:10 → H = the earlier = 2026-01-24T09:00Z. Window 7 d.
# a1 (A): open 14 days, resolved 01-19T09:00; A calls (ka) the day after the resolution:
#         within resolved_at + 7 d → a repeat → not resolved on first contact. (Counted from
#         creation, the call came 15 days later and a1 would have passed.)
# b1 (B): created from call kb (kb.ticket_id = b1): one contact, not a repeat; no other B
#         contact, window ends 01-12T10:00 ≤ H → judged, resolved on first contact.
# c1 (C): C calls the next day (kc) → repeat → no.
# d1 (D): window ends 01-27T10:00 > H and no repeat seen → not judged yet.
# e1 (E): window ends 01-28T10:00 > H, but E's call ke the next day was seen → judged: a
#         known failure. (The old rule dropped it and inflated FCR.)
# x1: no customer → not judged, counted in data_quality ("customer_id missing").
# z1: unresolved → not counted.
# → resolved on first contact: b1 = 1 / judged a1, b1, c1, e1 = 4 → 0.25; d1 is the one
#   resolved ticket with a customer not judged: open share 1/5.


def test_ticket_fcr_no_repeat_judges_known_repeats_and_counts_from_the_resolution(
    tmp_path: Path,
) -> None:
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "no_repeat"}]
    result = run(tmp_path, kpis, tickets=TICKETS, calls=CALLS)
    t = totals(result)
    assert vn(t, "fcr") == (pytest.approx(0.25), 4)
    assert t["fcr__open"] == pytest.approx(1 / 5)  # d1 of a1, b1, c1, d1, e1
    missing = {(q.source, q.issue): q.rows for q in result.data_quality}
    assert missing[("tickets", "customer_id missing")] == 1  # x1


def test_call_fcr_linked_ticket_is_the_same_contact(tmp_path: Path) -> None:
    result = run(tmp_path, ["call_first_contact_resolution"], tickets=TICKETS, calls=CALLS)
    # calls end at ended_at; window 7 d; H = 01-24T09:00.
    # ka (A): window to 01-27T09:10 > H, no later A contact → not judged.
    # kb (B): its own ticket b1 (created 10 min after the call) is the same contact; no other
    #         B contact; window ends 01-12T09:00 ≤ H → yes.
    # kc (C): nothing after; window ends 01-13T09:10 → yes.
    # ke (E): window to 01-29 > H → not judged. kz (Y): after H → not judged.
    # → 2 (kb, kc) / 2; open share 3/5 (ka, ke, kz of 5 answered calls with a customer)
    t = totals(result)
    assert vn(t, "call_first_contact_resolution") == (pytest.approx(1.0), 2)
    assert t["call_first_contact_resolution__open"] == pytest.approx(3 / 5)


def test_channel_switching_judges_only_what_the_data_shows(tmp_path: Path) -> None:
    result = run(tmp_path, ["channel_switch_rate"], tickets=TICKETS, calls=CALLS)
    # contacts (linked kb + b1 are one contact, B's only one), window 7 d from each contact's
    # start, H = 01-24T09:00:
    # A: a1 (email) → ka (phone) 15 days later: not within 7 d; ka's window (to 01-27) not
    #    observed → A not judged.
    # B: one contact, observed 19 days → judged, no switch.
    # C: c1 (email) → kc (phone) the next day → switched.
    # D: d1, 4 days observed → not judged. E: e1 (email) → ke (phone) next day → switched.
    # Z: z1, 0 days → not judged. Y: kz after H → not judged. x1 has no customer.
    # → switched C, E = 2 / judged B, C, E = 3; not judged A, D, Z, Y: open share 4/7
    t = totals(result)
    assert vn(t, "channel_switch_rate") == (pytest.approx(2 / 3), 3)
    assert t["channel_switch_rate__open"] == pytest.approx(4 / 7)


def test_gave_up_counts_a_call_and_its_ticket_once(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,resolved_at,status
        t1,2026-01-05T09:00:00Z,,cancelled
        t2,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,solved
    """
    calls = """
        call_id,queued_at,answered_at,ticket_id
        k1,2026-01-05T08:55:00Z,2026-01-05T08:55:10Z,t1
        k2,2026-01-05T08:55:00Z,,
    """
    result = run(tmp_path, ["gave_up_rate"], tickets=tickets, calls=calls)
    # contacts: {k1 + t1} (one contact, decided by the ticket: cancelled without resolution →
    # gave up), t2 (resolved), k2 (never answered → gave up) → 2/3; counted per record it
    # would have been 2/4
    assert vn(totals(result), "gave_up_rate") == (pytest.approx(2 / 3), 3)


# --- backlog: tickets that ended without a resolution ---------------------------------------

ENDED = """
    ticket_id,created_at,resolved_at,closed_at,status
    o1,2026-01-05T09:00:00Z,,,open
    o2,2026-01-05T09:00:00Z,2026-01-08T09:00:00Z,,solved
    o3,2026-01-05T09:00:00Z,,2026-01-07T09:00:00Z,cancelled
    o4,2026-01-05T09:00:00Z,,,closed
    o5,2026-01-13T09:00:00Z,,2026-01-14T09:00:00Z,closed
"""


def test_backlog_drains_tickets_closed_without_resolution(tmp_path: Path) -> None:
    result = run(tmp_path, ["backlog", "gave_up_rate"], tickets=ENDED, grain="week")
    # end of week 1 (01-12T00:00Z): o1 open; o2 resolved 01-08; o3 closed 01-07 (cancelled);
    # o4 'closed' with neither resolved_at nor closed_at: no end instant → left out → 1.
    # end of week 2 (01-19): o1; o5 closed 01-14 → 1.
    rows = {r["period"]: r for r in result.table.iter_rows(named=True)}
    assert vn(rows[date(2026, 1, 5)], "backlog") == (1, 1)
    assert vn(rows[date(2026, 1, 12)], "backlog") == (1, 1)
    issues = {q.issue: q for q in result.data_quality}
    endless = issues["ticket ended without resolution and without an end time"]
    assert endless.rows == 1 and "backlog" in endless.effect  # o4
    # gave up (ended without a resolution): o3, o4, o5 of 5 contacts — the same tickets that
    # leave the backlog unresolved (o4 is known to have ended, only its instant is not)
    assert vn(totals(result), "gave_up_rate") == (pytest.approx(3 / 5), 5)


def test_backlog_without_closed_at_column_counts_endless_by_status(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,resolved_at,status
        o1,2026-01-05T09:00:00Z,,open
        o4,2026-01-05T09:00:00Z,,Rejected
    """
    result = run(
        tmp_path, ["backlog"], tickets=tickets, date_from="2026-01-05", date_to="2026-01-11"
    )
    # o4 rejected, no end instant → excluded and counted; o1 open → 1
    assert vn(totals(result), "backlog") == (1, 1)
    assert {q.issue: q.rows for q in result.data_quality}[
        "ticket ended without resolution and without an end time"
    ] == 1


# --- open shares: maturing cohorts -------------------------------------------------------------


def test_resolution_rate_and_frt_report_their_open_share(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at,resolved_at,status
        r1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,2026-01-05T12:00:00Z,solved
        r2,2026-01-05T09:00:00Z,2026-01-05T11:00:00Z,,open
        r3,2026-01-05T09:00:00Z,,,open
        r4,2026-01-05T09:00:00Z,,,cancelled
    """
    result = run(tmp_path, ["resolution_rate", "first_response_time"], tickets=tickets)
    t = totals(result)
    # resolved r1 of 4 → 0.25; still open (neither resolved nor ended): r2, r3 → 2/4
    assert vn(t, "resolution_rate") == (pytest.approx(0.25), 4)
    assert t["resolution_rate__open"] == pytest.approx(0.5)
    # FRT over answered r1 (1 h), r2 (2 h) → median 1.5 h; still waiting for a first
    # response and open: r3 (r4 ended unanswered) → 1/4
    assert vn(t, "first_response_time") == (pytest.approx(5400.0), 2)
    assert t["first_response_time__open"] == pytest.approx(0.25)


# --- a second opinion: the repeat-contact rules in DuckDB SQL on the sample operation --------


def _sample_frames() -> tuple[pl.DataFrame, pl.DataFrame, Period]:
    config = load_config(ROOT / "configs" / "sample.yaml")
    sources = load_sources(config, {"tickets", "calls"})
    tickets = sources["tickets"].usable.select(
        "ticket_id", "created_at", "first_response_at", "resolved_at", "customer_id"
    )
    calls = sources["calls"].usable.select(
        "call_id",
        "queued_at",
        "answered_at",
        "ended_at",
        "direction",
        "customer_id",
        *(["ticket_id"] if "ticket_id" in sources["calls"].columns else []),
    )
    return tickets.collect(), calls.collect(), Period(None, None, config.timezone)


REPEAT_SQL = """
WITH contacts AS (
    SELECT 'ticket:' || ticket_id AS k, created_at AS at, customer_id AS cust FROM t
    UNION ALL
    SELECT coalesce('ticket:' || {call_ticket}, 'call:' || call_id), queued_at, customer_id
    FROM c WHERE direction = 'inbound'
),
horizon AS (
    SELECT least(
        (SELECT max(greatest(created_at, first_response_at, resolved_at)) FROM t),
        (SELECT max(greatest(queued_at, answered_at, ended_at)) FROM c)
    ) AS h
),
judged AS (
    SELECT t.ticket_id,
        (SELECT min(x.at) FROM contacts x
          WHERE x.cust = t.customer_id AND x.k <> 'ticket:' || t.ticket_id
            AND (x.at > t.created_at OR (x.at = t.created_at AND x.k > 'ticket:' || t.ticket_id))
        ) AS repeat_at,
        t.resolved_at
    FROM t
    WHERE t.resolved_at IS NOT NULL AND t.customer_id IS NOT NULL
      AND t.resolved_at >= $lo AND t.resolved_at < $hi
)
SELECT
    count(*) FILTER (WHERE NOT coalesce(repeat_at <= resolved_at + INTERVAL 7 DAY, false)
                       AND (coalesce(repeat_at <= resolved_at + INTERVAL 7 DAY, false)
                            OR (SELECT h FROM horizon) >= resolved_at + INTERVAL 7 DAY)) AS yes,
    count(*) FILTER (WHERE coalesce(repeat_at <= resolved_at + INTERVAL 7 DAY, false)
                       OR (SELECT h FROM horizon) >= resolved_at + INTERVAL 7 DAY) AS judged,
    count(*) AS cohort
FROM judged
"""


def _sample_config(tmp_path: Path, kpis: list[object]) -> Path:
    """configs/sample.yaml with other KPIs and no checks, its paths made absolute."""
    config = yaml.safe_load((ROOT / "configs" / "sample.yaml").read_text(encoding="utf-8"))
    for source in config["sources"].values():
        source["path"] = str((ROOT / "configs" / source["path"]).resolve())
    config["kpis"] = kpis
    config.pop("checks", None)
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 6, 22), date(2026, 6, 28)), (date(2026, 6, 1), date(2026, 6, 30))],
)
def test_ticket_fcr_matches_an_independent_duckdb_query(
    tmp_path: Path, start: date, end: date
) -> None:
    duckdb = pytest.importorskip("duckdb")
    tickets, calls, period = _sample_frames()
    lo, hi = Period(start, end, period.timezone).bounds_utc()
    call_ticket = "ticket_id" if "ticket_id" in calls.columns else "NULL"
    tickets.write_parquet(tmp_path / "t.parquet")
    calls.write_parquet(tmp_path / "c.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{tmp_path / 't.parquet'}')")
    con.execute(f"CREATE VIEW c AS SELECT * FROM read_parquet('{tmp_path / 'c.parquet'}')")
    row = con.execute(REPEAT_SQL.format(call_ticket=call_ticket), {"lo": lo, "hi": hi}).fetchone()
    assert row is not None
    yes, judged, cohort = row
    path = _sample_config(
        tmp_path, [{"id": "fcr", "kpi": "first_contact_resolution", "method": "no_repeat"}]
    )
    t = totals(api.report(path, date_from=start.isoformat(), date_to=end.isoformat()))
    assert judged > 0
    assert t["fcr__n"] == judged
    assert t["fcr"] == pytest.approx(yes / judged, abs=1e-12)
    assert t["fcr__open"] == pytest.approx((cohort - judged) / cohort, abs=1e-12)


# --- comparisons: calendar-aligned, year over year, whole previous buckets ------------------

WEEKS = """
    ticket_id,created_at
    w1,2026-01-05T09:00:00Z
    w2,2026-01-12T09:00:00Z
    w3,2026-01-12T10:00:00Z
    w4,2026-01-14T09:00:00Z
    w5,2026-01-20T09:00:00Z
    w6,2026-01-21T09:00:00Z
    w7,2026-01-22T09:00:00Z
    y1,2025-01-14T09:00:00Z
    y2,2025-01-15T09:00:00Z
    f1,2026-02-03T09:00:00Z
"""


def _compare(tmp_path: Path, **options: Any) -> Any:
    from tests.test_catalogue import write_config

    path = write_config(tmp_path, ["ticket_volume"], tickets=WEEKS)
    return api.report(path, **options)


def test_grain_rows_compare_with_whole_previous_buckets(tmp_path: Path) -> None:
    result = _compare(
        tmp_path, date_from="2026-01-13", date_to="2026-01-25", grain="week", compare=True
    )
    rows = {r["period"]: r for r in result.table.iter_rows(named=True)}
    # week of Mon 01-12, cut by --from 01-13: only w4 (01-14) → 1; a cut bucket has no
    # previous (part of a week against a whole one would mislead)
    assert rows[date(2026, 1, 12)]["ticket_volume"] == 1
    assert rows[date(2026, 1, 12)]["ticket_volume__prev"] is None
    # week of 01-19: w5, w6, w7 → 3; its previous is the *whole* week of 01-12 (w2, w3 on the
    # Monday before --from, and w4) → 3, not the 1-ticket stub of the current table
    assert rows[date(2026, 1, 19)]["ticket_volume"] == 3
    assert rows[date(2026, 1, 19)]["ticket_volume__prev"] == 3
    # totals: 13 days (01-13 … 01-25) vs the 13 days before (12-31 … 01-12): w1, w2, w3 → 3
    assert result.compare.start == date(2025, 12, 31) and result.compare.end == date(2026, 1, 12)
    t = totals(result)
    assert (t["ticket_volume"], t["ticket_volume__prev"]) == (4, 3)


def test_whole_months_compare_with_the_previous_calendar_month(tmp_path: Path) -> None:
    result = _compare(tmp_path, date_from="2026-02-01", date_to="2026-02-28", compare=True)
    # February (f1 → 1) vs January 1–31, not "the 28 days before" (Jan 4–31): w1 … w7 → 7
    assert (result.compare.start, result.compare.end) == (date(2026, 1, 1), date(2026, 1, 31))
    t = totals(result)
    assert (t["ticket_volume"], t["ticket_volume__prev"]) == (1, 7)


def test_compare_year_over_year(tmp_path: Path) -> None:
    result = _compare(tmp_path, date_from="2026-01-12", date_to="2026-01-18", compare="yoy")
    # 2026-01-12 … 18: w2, w3, w4 → 3; a year earlier (2025-01-12 … 18): y1, y2 → 2
    assert (result.compare.start, result.compare.end) == (date(2025, 1, 12), date(2025, 1, 18))
    t = totals(result)
    assert (t["ticket_volume"], t["ticket_volume__prev"]) == (3, 2)
    weekly = _compare(
        tmp_path, date_from="2026-01-12", date_to="2026-01-18", grain="week", compare="yoy"
    )
    # the week of Mon 2026-01-12 vs 52 weeks earlier, Mon 2025-01-13 … 19 (the same ISO
    # week 3, the same weekdays): y1, y2 → 2
    (row,) = weekly.table.iter_rows(named=True)
    assert (row["ticket_volume"], row["ticket_volume__prev"]) == (3, 2)


def test_cli_compare_yoy_and_bare_compare(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cscli.cli import app
    from tests.test_catalogue import write_config

    path = write_config(tmp_path, ["ticket_volume"], tickets=WEEKS)
    common = ["report", "-c", str(path), "--from", "2026-01-12", "--to", "2026-01-18"]
    yoy = CliRunner().invoke(app, [*common, "--compare", "yoy", "-f", "json"])
    assert yoy.exit_code == 0, yoy.output
    doc = json.loads(yoy.stdout)
    assert doc["compare"] == {"from": "2025-01-12", "to": "2025-01-18", "mode": "yoy"}
    bare = CliRunner().invoke(app, [*common, "--compare", "-f", "json"])
    assert bare.exit_code == 0, bare.output
    assert json.loads(bare.stdout)["compare"]["mode"] == "previous"
    off = CliRunner().invoke(app, [*common, "--no-compare", "-f", "json"])
    assert json.loads(off.stdout)["compare"] is None


def test_every_bucket_appears_in_a_grain_report(tmp_path: Path) -> None:
    from tests.test_catalogue import write_config

    tickets = """
        ticket_id,created_at,resolved_at
        a,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z
        b,2026-01-20T09:00:00Z,
    """
    path = write_config(tmp_path, ["ticket_volume", "resolution_rate"], tickets=tickets)
    result = api.report(path, grain="week")
    rows = {r["period"]: r for r in result.table.iter_rows(named=True)}
    # weeks of 01-05 (a), 01-12 (nothing) and 01-19 (b): the quiet week is a row, with a
    # count of 0, n = 0 and no rate
    assert sorted(rows) == [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    assert vn(rows[date(2026, 1, 12)], "ticket_volume") == (0, 0)
    assert vn(rows[date(2026, 1, 12)], "resolution_rate") == (None, 0)


def test_a_period_past_the_data_says_where_the_data_ends(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cscli.cli import app
    from tests.test_catalogue import write_config

    path = write_config(tmp_path, ["ticket_volume"], tickets=WEEKS)
    args = ["report", "-c", str(path), "--from", "2026-02-01", "--to", "2026-02-10"]
    result = CliRunner().invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    # the newest ticket (f1) is 2026-02-03: the last 7 days of the period are unknown
    assert json.loads(result.stdout)["data_end"] == {"tickets": "2026-02-03"}
    assert "tickets: data ends 2026-02-03" in result.stderr
    inside = CliRunner().invoke(app, [*args[:3], "--from", "2026-01-01", "--to", "2026-01-31"])
    assert "data ends" not in inside.stderr


def test_event_log_closed_activities_end_a_case_for_the_backlog(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(
        "case,at,activity\n"
        "e1,2026-01-05T09:00:00Z,open\n"
        "e1,2026-01-06T09:00:00Z,cancelled\n"
        "e2,2026-01-05T09:00:00Z,open\n"
        "e2,2026-01-07T09:00:00Z,solved\n"
        "e3,2026-01-05T09:00:00Z,open\n"
        "e3,2026-01-06T09:00:00Z,cancelled\n"
        "e3,2026-01-08T09:00:00Z,open\n",
        encoding="utf-8",
    )
    config = {
        "timezone": "UTC",
        "sources": {
            "tickets": {
                "path": "log.csv",
                "event_log": {
                    "case": "case",
                    "timestamp": "at",
                    "activity": "activity",
                    "resolved": ["solved"],
                    "closed": ["cancelled"],
                },
            }
        },
        "kpis": ["backlog"],
    }
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = api.report(path, date_from="2026-01-05", date_to="2026-01-11", grain="day")
    rows = {r["period"]: r["backlog"] for r in result.table.iter_rows(named=True)}
    # e1 cancelled 01-06 (closed_at) → leaves the backlog that day; e2 solved 01-07; e3 was
    # cancelled and reopened: its last run is not a closed activity → no closed_at, open
    # end of 01-05: e1, e2, e3 = 3; 01-06: e2, e3 = 2; 01-07 … 01-11: e3 = 1
    assert rows[date(2026, 1, 5)] == 3
    assert rows[date(2026, 1, 6)] == 2
    assert rows[date(2026, 1, 7)] == 1
    assert totals(result)["backlog"] == 1


def test_provisional_values_are_marked_in_every_report_file(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from cscli.render import files
    from tests.test_catalogue import write_config

    tickets = """
        ticket_id,created_at,resolved_at,status
        r1,2026-01-05T09:00:00Z,2026-01-05T12:00:00Z,solved
        r2,2026-01-05T09:00:00Z,,open
    """
    path = write_config(tmp_path, ["resolution_rate", "ticket_volume"], tickets=tickets)
    result = api.report(path)
    # r2 still open: open share 1/2 > 5% → resolution_rate provisional; volume does not mature
    assert [k.id for k in result.provisional()] == ["resolution_rate"]
    assert "50.0%\\*" in files.render_markdown(result)
    csv_text = files.flat_csv(result)
    assert "resolution_rate_open_share" in csv_text.splitlines()[0]
    assert "ticket_volume_open_share" not in csv_text
    out = tmp_path / "r.xlsx"
    files.write_xlsx(result, out)
    notes = [
        c.comment.text
        for ws in openpyxl.load_workbook(out).worksheets
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None
    ]
    assert notes and all(n.startswith("Provisional: 50.0%") for n in notes)
