"""The extended KPI catalogue (DESIGN §5) against tiny fixtures worked out by hand.

Each test writes a few CSV lines and a `cscli.yaml` into `tmp_path` and runs the report
through `cscli.api.report`, as the CLI does. The spec of every KPI is its definition text in
`cscli/kpis/builtin/`; the arithmetic behind each expected value sits next to its assertion.

Calendar (UTC): Monday 2026-01-05 starts the ISO week called "week 1" below, Monday 2026-01-12
"week 2", Monday 2026-01-19 "week 3". Periods are half-open in time: `--to 2026-01-18` ends at
2026-01-19T00:00Z, and an event stamped exactly at a boundary belongs to the later period.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from textwrap import dedent
from typing import Any

import polars as pl
import pytest
import yaml

from cscli import api
from cscli.config import Grain, load_config
from cscli.pipeline import ReportResult
from tests.helpers import row, totals, vn

WEEK1 = date(2026, 1, 5)
WEEK2 = date(2026, 1, 12)
SOURCES = ("tickets", "calls", "surveys", "customers")


# --- helpers ------------------------------------------------------------------------------


def write_config(
    tmp_path: Path,
    kpis: list[Any] | None,
    *,
    checks: list[dict[str, Any]] | None = None,
    timezone: str = "UTC",
    **csvs: str | None,
) -> Path:
    """Write each given CSV (tickets=..., calls=..., ...) and a config; return its path."""
    sources: dict[str, Any] = {}
    for name in SOURCES:
        text = csvs.get(name)
        if text is None:
            continue
        (tmp_path / f"{name}.csv").write_text(dedent(text).strip() + "\n", encoding="utf-8")
        sources[name] = {"path": f"{name}.csv"}
    config: dict[str, Any] = {"timezone": timezone, "sources": sources}
    if kpis is not None:
        config["kpis"] = kpis
    if checks:
        config["checks"] = checks
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run(
    tmp_path: Path,
    kpis: list[Any],
    *,
    by: list[str] | None = None,
    grain: Grain | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    timezone: str = "UTC",
    **csvs: str | None,
) -> ReportResult:
    path = write_config(tmp_path, kpis, timezone=timezone, **csvs)
    return api.report(path, by=by or [], grain=grain, date_from=date_from, date_to=date_to)


def status(result: ReportResult, kpi: str) -> Any:
    (found,) = [s for s in result.kpis if s.kpi.id == kpi]
    return found


def assert_finite(frame: pl.DataFrame) -> None:
    for column in frame.columns:
        for value in frame[column].to_list():
            if isinstance(value, float):
                assert math.isfinite(value), f"{column}: {value}"


# --- backlog ------------------------------------------------------------------------------

BACKLOG_TICKETS = """
    ticket_id,created_at,resolved_at
    old,2025-12-20T10:00:00Z,
    gone,2025-12-22T10:00:00Z,2025-12-30T10:00:00Z
    a,2026-01-06T10:00:00Z,2026-01-14T10:00:00Z
    b,2026-01-07T10:00:00Z,2026-01-12T00:00:00Z
    d,2026-01-08T10:00:00Z,2026-01-09T10:00:00Z
    c,2026-01-13T10:00:00Z,
    g,2026-01-15T10:00:00Z,2026-01-21T10:00:00Z
    e,2026-01-20T10:00:00Z,
"""
# old:  created before the report period, never resolved → open at every end.
# gone: created and resolved before the period → never in it.
# a:    created week 1, resolved in week 2 (the next bucket).
# b:    resolved exactly at 2026-01-12T00:00Z, the instant week 1 ends: still open at the end
#       of week 1 (its resolution belongs to week 2, as resolved_at places it there).
# d:    created and resolved inside week 1.
# c:    created week 2, open.
# g:    created week 2, resolved 2026-01-21, after the report period.
# e:    created 2026-01-20, after the report period (and never resolved).


def test_backlog_per_week_is_the_level_at_each_week_end(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["backlog"],
        tickets=BACKLOG_TICKETS,
        grain="week",
        date_from="2026-01-05",
        date_to="2026-01-18",
    )
    assert result.table["period"].to_list() == [WEEK1, WEEK2]
    # end of week 1 (2026-01-12T00:00Z): old, a (resolved 01-14), b (resolved at that very
    # instant, not before it) open; d resolved 01-09; c, g, e not created yet → 3
    assert vn(row(result, period=WEEK1), "backlog") == (3, 3)
    # end of week 2 (2026-01-19T00:00Z): old, c, g (resolved 01-21) → 3; a and b resolved
    assert vn(row(result, period=WEEK2), "backlog") == (3, 3)
    # total = the level at the end of the whole period (2026-01-19T00:00Z) = 3, not 3 + 3
    assert vn(totals(result), "backlog") == (3, 3)


def test_backlog_total_is_the_level_at_the_period_end_not_a_sum(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["backlog"],
        tickets=BACKLOG_TICKETS,
        grain="week",
        date_from="2026-01-05",
        date_to="2026-01-11",
    )
    # one week only: end 2026-01-12T00:00Z → old, a, b = 3, in the row and the total alike
    assert vn(row(result, period=WEEK1), "backlog") == (3, 3)
    assert vn(totals(result), "backlog") == (3, 3)
    # only --to, a Wednesday (the level at 01-15T00:00Z): old and c open; a (resolved
    # 01-14T10:00), b, d resolved before; g not created yet → 2
    mid = run(tmp_path, ["backlog"], tickets=BACKLOG_TICKETS, date_to="2026-01-14")
    assert vn(totals(mid), "backlog") == (2, 2)


def test_backlog_without_a_period_counts_unresolved_tickets(tmp_path: Path) -> None:
    result = run(tmp_path, ["backlog"], tickets=BACKLOG_TICKETS)
    # all data: tickets with no resolved_at = old, c, e → 3
    assert vn(totals(result), "backlog") == (3, 3)


def test_backlog_last_bucket_cut_by_the_period_end(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["backlog"],
        tickets=BACKLOG_TICKETS,
        grain="week",
        date_from="2026-01-05",
        date_to="2026-01-14",
    )
    # the report ends on Wednesday 2026-01-14 (at 01-15T00:00Z): week 2's row is the level at
    # that instant: old, c open; a resolved 01-14T10:00, b resolved; g not created yet → 2
    assert vn(row(result, period=WEEK1), "backlog") == (3, 3)
    assert vn(row(result, period=WEEK2), "backlog") == (2, 2)
    assert vn(totals(result), "backlog") == (2, 2)


def test_backlog_week_ends_in_the_config_timezone(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,resolved_at
        late,2026-01-05T10:00:00Z,2026-01-11T23:30:00Z
        early,2026-01-05T10:00:00Z,2026-01-11T22:30:00Z
    """
    result = run(
        tmp_path,
        ["backlog"],
        tickets=tickets,
        grain="week",
        timezone="Europe/Berlin",
        date_from="2026-01-05",
        date_to="2026-01-18",
    )
    # Berlin is UTC+1 in January: week 1 ends 2026-01-12T00:00 local = 01-11T23:00Z.
    # 'early' resolved 22:30Z (23:30 local, week 1); 'late' 23:30Z (00:30 local on Monday,
    # week 2) → open at the end of week 1: late = 1; at the end of week 2: none
    assert vn(row(result, period=WEEK1), "backlog") == (1, 1)
    assert vn(row(result, period=WEEK2), "backlog") == (0, 0)
    one_week = run(
        tmp_path,
        ["backlog"],
        tickets=tickets,
        timezone="Europe/Berlin",
        date_from="2026-01-05",
        date_to="2026-01-11",
    )
    assert vn(totals(one_week), "backlog") == (1, 1)  # the same instant: late only


def test_backlog_by_channel_per_week(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,resolved_at,channel
        x1,2026-01-01T10:00:00Z,,email
        x2,2026-01-06T10:00:00Z,2026-01-13T10:00:00Z,email
        x3,2026-01-06T10:00:00Z,,chat
        x4,2026-01-13T10:00:00Z,,chat
        x5,2025-12-20T10:00:00Z,,web
    """
    result = run(
        tmp_path,
        ["backlog"],
        tickets=tickets,
        by=["channel"],
        grain="week",
        date_from="2026-01-05",
        date_to="2026-01-18",
    )
    # email: end of week 1 x1, x2 = 2; end of week 2 x1 = 1 (x2 resolved 01-13)
    assert vn(row(result, channel="email", period=WEEK1), "backlog") == (2, 2)
    assert vn(row(result, channel="email", period=WEEK2), "backlog") == (1, 1)
    # chat: end of week 1 x3 = 1; end of week 2 x3, x4 = 2
    assert vn(row(result, channel="chat", period=WEEK1), "backlog") == (1, 1)
    assert vn(row(result, channel="chat", period=WEEK2), "backlog") == (2, 2)
    # web: x5, opened before the period and never touched since, is open at both ends
    assert vn(row(result, channel="web", period=WEEK1), "backlog") == (1, 1)
    assert vn(row(result, channel="web", period=WEEK2), "backlog") == (1, 1)
    # total: x1, x3, x4, x5 = 4 (= email 1 + chat 2 + web 1 at the same instant)
    assert vn(totals(result), "backlog") == (4, 4)


# --- first contact resolution ------------------------------------------------------------

FCR_TICKETS = """
    ticket_id,created_at,resolved_at,agent_replies,reopens,first_contact_resolved
    f1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,1,0,true
    f2,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,3,0,false
    f3,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,2,0,
    f4,2026-01-05T09:00:00Z,,1,0,true
    f5,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,1,1,true
    f6,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,0,0,false
    f7,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,,0,true
"""
# flag (first_contact_resolved): resolved with a known flag: f1 T, f2 F, f5 T, f6 F, f7 T
#   (f3 empty flag, f4 unresolved) → 3/5.
# one_touch (exactly 1 agent reply and never reopened, as Zendesk/fivetran): resolved with
#   known replies: f1 (1, 0) yes, f2 (3) no, f3 (2) no, f5 (1 reply but reopened) no, f6 (0
#   replies: resolved without any touch) no; f7 unknown replies, f4 unresolved → 1/5.


def test_fcr_flag_method(tmp_path: Path) -> None:
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "flag"}]
    t = totals(run(tmp_path, kpis, tickets=FCR_TICKETS))
    assert vn(t, "fcr") == (pytest.approx(3 / 5), 5)  # f1, f5, f7 / f1, f2, f5, f6, f7


def test_fcr_one_touch_method(tmp_path: Path) -> None:
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "one_touch"}]
    t = totals(run(tmp_path, kpis, tickets=FCR_TICKETS))
    assert vn(t, "fcr") == (pytest.approx(1 / 5), 5)  # f1 / f1, f2, f3, f5, f6


def test_fcr_auto_uses_the_flag_when_the_export_has_it(tmp_path: Path) -> None:
    result = run(tmp_path, ["first_contact_resolution"], tickets=FCR_TICKETS)
    assert status(result, "first_contact_resolution").available
    # same as flag: 3/5 (one_touch would give 2/5)
    assert vn(totals(result), "first_contact_resolution") == (pytest.approx(3 / 5), 5)


def test_fcr_auto_falls_back_to_one_touch_without_the_flag(tmp_path: Path) -> None:
    no_flag = "\n".join(line.rsplit(",", 1)[0] for line in dedent(FCR_TICKETS).strip().splitlines())
    result = run(tmp_path, ["first_contact_resolution"], tickets=no_flag)
    assert status(result, "first_contact_resolution").available
    # no first_contact_resolved column → one_touch: 1/5
    assert vn(totals(result), "first_contact_resolution") == (pytest.approx(1 / 5), 5)


def test_fcr_flag_method_without_the_column_is_unavailable(tmp_path: Path) -> None:
    no_flag = "\n".join(line.rsplit(",", 1)[0] for line in dedent(FCR_TICKETS).strip().splitlines())
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "flag"}]
    result = run(tmp_path, kpis, tickets=no_flag)
    assert not status(result, "fcr").available
    assert "first_contact_resolved" in status(result, "fcr").reason


NO_REPEAT_TICKETS = """
    ticket_id,created_at,resolved_at,customer_id
    t1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,A
    t2,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,B
    t3,2026-01-12T09:00:00Z,2026-01-12T10:00:00Z,B
    t4,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,C
    t5,2026-01-12T09:00:01Z,2026-01-12T10:00:00Z,C
    t6,2026-01-28T09:00:00Z,2026-01-28T10:00:00Z,D
    t8,2026-01-25T09:00:00Z,2026-01-25T10:00:00Z,E
    t9,2026-01-06T09:00:00Z,,F
"""
NO_REPEAT_CALLS = """
    call_id,queued_at,answered_at,direction,customer_id
    c1,2026-01-08T09:00:00Z,2026-01-08T09:00:10Z,inbound,A
    c2,2026-01-06T09:00:00Z,2026-01-06T09:00:10Z,outbound,C
    c9,2026-02-01T09:00:00Z,2026-02-01T09:00:10Z,inbound,Z
"""
# The export time of the contact sources: the earlier of the newest ticket timestamp (t6
# resolved 2026-01-28T10:00Z) and the newest call timestamp (c9 answered 02-01T09:00:10Z)
# → H = 2026-01-28T10:00Z. A repeat is another contact of the customer after the ticket's
# creation and no later than resolved_at + window (7d, inclusive).
# t1 (A): A calls 3 days later (c1) → repeat → not resolved on first contact.
# t2 (B): t3 at 01-12T09:00 ≤ resolved 01-05T10:00 + 7 d = 01-12T10:00 → repeat → no.
# t3 (B): no further B contact; window ends 01-19T10:00 ≤ H → judged, yes.
# t4 (C): C's outbound call c2 is not a contact by the customer; t5 at 01-12T09:00:01 ≤
#         01-12T10:00 (the window runs from the resolution) → repeat → no.
# t5 (C): nothing later; window ends 01-19T10:00 ≤ H → yes.
# t6 (D): window ends 02-04T10:00 > H, no repeat seen → not judged.
# t8 (E): window ends 02-01T10:00 > H, no repeat seen → not judged.
# t9 (F): unresolved → not counted.
# → 2 (t3, t5) / 5 (t1, t2, t3, t4, t5)


def test_fcr_no_repeat_method(tmp_path: Path) -> None:
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "no_repeat", "window": "7d"}]
    result = run(tmp_path, kpis, tickets=NO_REPEAT_TICKETS, calls=NO_REPEAT_CALLS)
    assert vn(totals(result), "fcr") == (pytest.approx(2 / 5), 5)


def test_fcr_no_repeat_window_parameter(tmp_path: Path) -> None:
    kpis = [
        {"id": "fcr3", "kpi": "first_contact_resolution", "method": "no_repeat", "window": "3d"}
    ]
    result = run(tmp_path, kpis, tickets=NO_REPEAT_TICKETS, calls=NO_REPEAT_CALLS)
    # window 3d (H = 01-28T10:00): t1's repeat c1 at 01-08T09:00 ≤ 01-05T10:00 + 3 d → no;
    # t2's next contact (01-12) is after 01-08T10:00 and that window is observed → yes;
    # t4's next (01-12) likewise → yes; t3, t5 yes; t8's window ends 01-28T10:00 = H → judged,
    # yes; t6's ends 01-31T10:00 > H → not judged → 5 (t2, t3, t4, t5, t8) / 6
    assert vn(totals(result), "fcr3") == (pytest.approx(5 / 6), 6)


def test_fcr_no_repeat_per_week_by_resolved_at(tmp_path: Path) -> None:
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "no_repeat"}]
    result = run(tmp_path, kpis, tickets=NO_REPEAT_TICKETS, calls=NO_REPEAT_CALLS, grain="week")
    # week 1 (resolved 01-05): t1 no, t2 no, t4 no → 0/3
    assert vn(row(result, period=WEEK1), "fcr") == (pytest.approx(0.0), 3)
    # week 2 (resolved 01-12): t3 yes, t5 yes → 2/2
    assert vn(row(result, period=WEEK2), "fcr") == (pytest.approx(1.0), 2)


def test_fcr_no_repeat_sees_contacts_after_the_period(tmp_path: Path) -> None:
    kpis = [{"id": "fcr", "kpi": "first_contact_resolution", "method": "no_repeat"}]
    result = run(
        tmp_path,
        kpis,
        tickets=NO_REPEAT_TICKETS,
        calls=NO_REPEAT_CALLS,
        date_from="2026-01-05",
        date_to="2026-01-11",
    )
    # the period holds t1, t2, t4 (resolved 01-05); t2's repeat (t3, 01-12) and t4's (t5)
    # lie after the period but still count: t1 no, t2 no, t4 no → 0/3
    assert vn(totals(result), "fcr") == (pytest.approx(0.0), 3)


# --- reopen, reroute, transfers, KB usage ---------------------------------------------------

FLOW_TICKETS = """
    ticket_id,created_at,resolved_at,reopens,reassignments,kb_used
    r1,2026-01-05T10:00:00Z,2026-01-06T10:00:00Z,0,0,true
    r2,2026-01-05T10:00:00Z,2026-01-07T10:00:00Z,1,1,false
    r3,2026-01-06T10:00:00Z,2026-01-13T10:00:00Z,2,2,yes
    r4,2026-01-06T10:00:00Z,,1,0,
    r5,2026-01-07T10:00:00Z,2026-01-08T10:00:00Z,,,no
    r6,2026-01-12T10:00:00Z,2026-01-14T10:00:00Z,0,3,1
"""
# r2 was resolved in week 1 and reopened later (in week 2): the export only carries the count
# (reopens = 1), so r2 counts as reopened in the period of its resolved_at, week 1.


def test_reopen_rate_by_resolved_at(tmp_path: Path) -> None:
    result = run(tmp_path, ["reopen_rate"], tickets=FLOW_TICKETS, grain="week")
    # week 1 resolved with a known count: r1 (0), r2 (1); r5's count is unknown → 1/2
    assert vn(row(result, period=WEEK1), "reopen_rate") == (pytest.approx(0.5), 2)
    # week 2 resolved: r3 (2), r6 (0) → 1/2; r4 is unresolved → not counted
    assert vn(row(result, period=WEEK2), "reopen_rate") == (pytest.approx(0.5), 2)
    # total: r2, r3 / r1, r2, r3, r6 = 2/4
    assert vn(totals(result), "reopen_rate") == (pytest.approx(0.5), 4)


def test_reopen_rate_period_uses_resolved_at(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["reopen_rate"],
        tickets=FLOW_TICKETS,
        date_from="2026-01-12",
        date_to="2026-01-18",
    )
    # resolved in week 2: r3 (reopens 2, created in week 1) and r6 (0) → 1/2
    assert vn(totals(result), "reopen_rate") == (pytest.approx(0.5), 2)


def test_reroute_rate_by_created_at(tmp_path: Path) -> None:
    result = run(tmp_path, ["reroute_rate"], tickets=FLOW_TICKETS, grain="week")
    # week 1 created with a known count: r1 0, r2 1, r3 2, r4 0 (r5 unknown) → r2, r3 = 2/4
    assert vn(row(result, period=WEEK1), "reroute_rate") == (pytest.approx(0.5), 4)
    # week 2: r6 (3) → 1/1
    assert vn(row(result, period=WEEK2), "reroute_rate") == (pytest.approx(1.0), 1)
    assert vn(totals(result), "reroute_rate") == (pytest.approx(3 / 5), 5)  # r2, r3, r6 / 5


def test_kb_usage_rate(tmp_path: Path) -> None:
    result = run(tmp_path, ["kb_usage_rate"], tickets=FLOW_TICKETS, grain="week")
    # kb_used read as booleans: true, false, yes, (empty), no, 1
    # week 1: r1 T, r2 F, r3 T, r5 F (r4 unknown) → 2/4
    assert vn(row(result, period=WEEK1), "kb_usage_rate") == (pytest.approx(0.5), 4)
    assert vn(row(result, period=WEEK2), "kb_usage_rate") == (pytest.approx(1.0), 1)  # r6
    assert vn(totals(result), "kb_usage_rate") == (pytest.approx(3 / 5), 5)  # r1, r3, r6 / 5


def test_call_reroute_rate(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,transfers
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,0
        c2,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,1
        c3,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,2
        c4,2026-01-05T10:00:00Z,,0
        c5,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,
    """
    t = totals(run(tmp_path, ["call_reroute_rate"], calls=calls))
    # answered with a known count: c1, c2, c3 (c4 abandoned, c5 unknown) → c2, c3 = 2/3
    assert vn(t, "call_reroute_rate") == (pytest.approx(2 / 3), 3)


# --- SLA attainment -----------------------------------------------------------------------

SLA_TICKETS = """
    ticket_id,created_at,first_response_at,priority
    s1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,urgent
    s2,2026-01-05T09:00:00Z,2026-01-05T10:00:01Z,Urgent
    s3,2026-01-05T10:00:00Z,2026-01-05T13:00:00Z,high
    s4,2026-01-05T20:00:00Z,,urgent
    s5,2026-01-05T22:00:00Z,,high
    s6,2026-01-05T09:00:00Z,2026-01-06T09:00:00Z,low
    s7,2026-01-05T09:00:00Z,2026-01-05T09:30:00Z,URGENT
    s8,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,
    s9,2026-01-05T23:30:00Z,2026-01-06T02:00:00Z,urgent
    s10,2026-01-05T20:00:00Z,,HIGH
"""
# Targets: Urgent 1h (the config key is lower-cased too), high 4h; no target for low.
# Unanswered tickets are judged as of the export time, the newest timestamp of the tickets:
# s6's first response at 2026-01-06T09:00Z, whatever the report period's end.
# s1  urgent, answered after exactly 1 h → met (the target itself meets it)
# s2  'Urgent' → urgent, 1 h 0 m 1 s → miss
# s3  high, 3 h ≤ 4 h → met
# s4  urgent, unanswered, 13 h old at the export time > 1 h → due, a miss
# s5  high, unanswered, 11 h old > 4 h → due, a miss
# s6  low: no target → not counted
# s7  'URGENT' → urgent, 30 m → met
# s8  no priority → not counted
# s9  urgent, answered after the period end after 2 h 30 m → answered, a miss
# s10 'HIGH', unanswered, 13 h old > 4 h → a miss
# → met s1, s3, s7 = 3 / due s1, s2, s3, s4, s5, s7, s9, s10 = 8


def test_sla_attainment_with_targets(tmp_path: Path) -> None:
    kpis = [{"id": "sla", "kpi": "sla_attainment", "targets": {"Urgent": "1h", "high": "4h"}}]
    result = run(tmp_path, kpis, tickets=SLA_TICKETS, date_from="2026-01-05", date_to="2026-01-05")
    assert vn(totals(result), "sla") == (pytest.approx(3 / 8), 8)


def test_sla_attainment_default_targets_include_low(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["sla_attainment"],
        tickets=SLA_TICKETS,
        date_from="2026-01-05",
        date_to="2026-01-05",
    )
    # defaults urgent 1h, high 4h, normal 8h, low 24h: s6 (low, exactly 24 h) now met
    # → met s1, s3, s6, s7 = 4 / due s1, s2, s3, s4, s5, s6, s7, s9, s10 = 9
    assert vn(totals(result), "sla_attainment") == (pytest.approx(4 / 9), 9)


def test_sla_attainment_does_not_age_tickets_past_the_export_time(tmp_path: Path) -> None:
    kpis = [{"id": "sla", "kpi": "sla_attainment", "targets": {"urgent": "1h", "high": "4h"}}]
    # a period of two days, or one running weeks past the data (cron at noon, --last 7d),
    # judges the same tickets as of the same export time → 3/8 as above
    for date_to in ("2026-01-06", "2026-01-31"):
        result = run(tmp_path, kpis, tickets=SLA_TICKETS, date_from="2026-01-05", date_to=date_to)
        assert vn(totals(result), "sla") == (pytest.approx(3 / 8), 8)


def test_sla_attainment_unanswered_ticket_is_not_due_before_its_target_passed(
    tmp_path: Path,
) -> None:
    tickets = """
        ticket_id,created_at,first_response_at,priority
        u1,2026-01-05T09:00:00Z,,urgent
        u2,2026-01-05T08:00:00Z,,urgent
        u3,2026-01-05T09:30:00Z,2026-01-05T10:00:00Z,urgent
    """
    kpis = [{"id": "sla", "kpi": "sla_attainment", "targets": {"urgent": "1h"}}]
    result = run(tmp_path, kpis, tickets=tickets)
    # export time: u3's response, 10:00. u1 unanswered for exactly 1 h: its target has not
    # *passed* → not judged; u2 unanswered 2 h → a miss; u3 answered in 30 m → met → 1/2
    t = totals(result)
    assert vn(t, "sla") == (pytest.approx(0.5), 2)
    # u1 of the 3 tickets with a target is not judged yet: open share 1/3 → provisional
    assert t["sla__open"] == pytest.approx(1 / 3)


# --- calls: hold time and call FCR ---------------------------------------------------------

HOLD_CALLS = """
    call_id,queued_at,answered_at,hold_seconds
    h1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,30
    h2,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,0
    h3,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,
    h4,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,90
    h5,2026-01-05T10:00:00Z,,50
"""


def test_average_hold_time_over_answered_and_held(tmp_path: Path) -> None:
    kpis = [
        "average_hold_time",
        {"id": "hold_held", "kpi": "average_hold_time", "over": "held"},
        {"id": "hold_p50", "kpi": "average_hold_time", "stat": "median"},
    ]
    t = totals(run(tmp_path, kpis, calls=HOLD_CALLS))
    # answered: h1 30, h2 0, h3 empty → 0, h4 90 (h5 not answered) → 120/4 = 30
    assert vn(t, "average_hold_time") == (pytest.approx(30.0), 4)
    # held: only calls put on hold, h1 30 and h4 90 → 60
    assert vn(t, "hold_held") == (pytest.approx(60.0), 2)
    # median of [0, 0, 30, 90] → (0 + 30)/2 = 15
    assert vn(t, "hold_p50") == (pytest.approx(15.0), 4)


DIRECTION_CALLS = """
    call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds,transfers,direction
    i1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10,0,inbound
    i2,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,200,0,20,1,Inbound
    o1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,300,30,0,1,outbound
    o2,2026-01-05T10:00:00Z,,,,,,outbound
    x1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,50,0,0,0,
"""
# handle i1 120, i2 220, o1 330, x1 50; hold i1 10, i2 0, o1 30, x1 0; transfers: i2, o1.
# o2 is not answered; x1 has an empty direction: it counts only with direction all.


def test_handle_hold_and_transfers_follow_their_direction(tmp_path: Path) -> None:
    kpis: list[Any] = ["average_handle_time", "average_hold_time", "call_reroute_rate"]
    for base in list(kpis):
        for direction in ("outbound", "all"):
            kpis.append({"id": f"{base}_{direction}", "kpi": base, "direction": direction})
    result = run(tmp_path, kpis, calls=DIRECTION_CALLS)
    t = totals(result)
    # inbound (the default): i1, i2 → AHT (120 + 220)/2 = 170, hold (10 + 0)/2 = 5, i2 of 2
    assert vn(t, "average_handle_time") == (pytest.approx(170.0), 2)
    assert vn(t, "average_hold_time") == (pytest.approx(5.0), 2)
    assert vn(t, "call_reroute_rate") == (pytest.approx(0.5), 2)
    # outbound: o1 only (o2 unanswered) → 330, 30, 1/1
    assert vn(t, "average_handle_time_outbound") == (pytest.approx(330.0), 1)
    assert vn(t, "average_hold_time_outbound") == (pytest.approx(30.0), 1)
    assert vn(t, "call_reroute_rate_outbound") == (pytest.approx(1.0), 1)
    # all: i1, i2, o1, x1 → (120 + 220 + 330 + 50)/4 = 180, (10 + 0 + 30 + 0)/4 = 10, 2/4
    assert vn(t, "average_handle_time_all") == (pytest.approx(180.0), 4)
    assert vn(t, "average_hold_time_all") == (pytest.approx(10.0), 4)
    assert vn(t, "call_reroute_rate_all") == (pytest.approx(0.5), 4)
    # x1's empty direction is counted, not silently left out of the inbound numbers
    [empty] = [q for q in result.data_quality if q.issue == "direction: empty direction"]
    assert empty.rows == 1 and "direction: all" in empty.effect
    for kpi_id in ("average_handle_time", "average_hold_time", "call_reroute_rate"):
        assert "Direction inbound: inbound by default" in status(result, kpi_id).kpi.definition
        outbound = status(result, f"{kpi_id}_outbound").kpi
        assert "Direction outbound" in outbound.definition
        assert outbound.title.endswith("(direction=outbound)")


def test_calls_without_a_direction_column_are_inbound(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds,transfers
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10,1
        b,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,200,0,0,0
    """
    kpis = [
        "average_handle_time",
        "call_reroute_rate",
        {"id": "aht_out", "kpi": "average_handle_time", "direction": "outbound"},
    ]
    result = run(tmp_path, kpis, calls=calls)
    t = totals(result)
    # no direction column → every call inbound: (120 + 200)/2 = 160; a of 2 transferred
    assert vn(t, "average_handle_time") == (pytest.approx(160.0), 2)
    assert vn(t, "call_reroute_rate") == (pytest.approx(0.5), 2)
    assert vn(t, "aht_out") == (None, 0)  # no outbound call: null, n 0
    assert not [q for q in result.data_quality if "direction" in q.issue]


def test_empty_talk_finding_names_the_direction(tmp_path: Path) -> None:
    kpis = [{"id": "aht_out", "kpi": "average_handle_time", "direction": "outbound"}]
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds,direction
        o1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,300,0,0,outbound
        o2,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,,0,0,outbound
        i1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,,0,0,inbound
    """
    result = run(tmp_path, kpis, calls=calls)
    # o2 is excluded from the outbound AHT (300 over n 1); i1 is not in that KPI at all
    assert vn(totals(result), "aht_out") == (pytest.approx(300.0), 1)
    [issue] = [q for q in result.data_quality if "talk_seconds" in q.issue]
    assert (issue.issue, issue.rows) == ("answered outbound call with an empty talk_seconds", 1)
    assert issue.effect == "excluded from aht_out"


CALL_FCR_CALLS = """
    call_id,queued_at,answered_at,direction,customer_id,resolved
    k1,2026-01-05T09:00:00Z,2026-01-05T09:00:10Z,inbound,A,true
    k2,2026-01-05T09:00:00Z,2026-01-05T09:00:10Z,inbound,B,false
    k3,2026-01-12T09:00:00Z,2026-01-12T09:00:10Z,inbound,B,
    k4,2026-01-05T09:00:00Z,,inbound,C,true
    k5,2026-01-06T09:00:00Z,2026-01-06T09:00:10Z,inbound,D,true
    k6,2026-01-07T09:00:00Z,2026-01-07T09:00:10Z,outbound,D,true
    k7,2026-01-30T09:00:00Z,2026-01-30T09:00:10Z,inbound,E,false
    k8,2026-02-01T09:00:00Z,2026-02-01T09:00:10Z,inbound,Z,true
"""
CALL_FCR_TICKETS = """
    ticket_id,created_at,customer_id
    tA,2026-01-07T09:00:00Z,A
    tZ,2026-02-01T09:00:00Z,Y
"""
# Export time of the contact sources: min(newest ticket tZ 02-01T09:00, newest call k8
# answered 02-01T09:00:10) = 2026-02-01T09:00Z. Without ended_at a call ends at queued_at.
# no_repeat (7d): answered inbound calls: k1 (A opens tA 2 days later → repeat → no),
#   k2 (B calls again exactly 7 d later → within → no), k3 (nothing later → yes),
#   k5 (D's outbound k6 is not a contact by D → yes), k7 (2 days observed, no repeat seen →
#   not judged), k8 (0 observed → not judged); k4 abandoned, k6 outbound → not counted → 2/4
# flag (resolved): answered inbound with a known flag: k1 T, k2 F, k5 T, k7 F, k8 T → 3/5


def test_call_first_contact_resolution_no_repeat(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["call_first_contact_resolution"],
        calls=CALL_FCR_CALLS,
        tickets=CALL_FCR_TICKETS,
    )
    assert vn(totals(result), "call_first_contact_resolution") == (pytest.approx(0.5), 4)


def test_call_first_contact_resolution_flag(tmp_path: Path) -> None:
    kpis = [{"id": "cfcr", "kpi": "call_first_contact_resolution", "method": "flag"}]
    result = run(tmp_path, kpis, calls=CALL_FCR_CALLS, tickets=CALL_FCR_TICKETS)
    assert vn(totals(result), "cfcr") == (pytest.approx(3 / 5), 5)


# --- surveys: ASAT and responses -----------------------------------------------------------

SURVEYS = """
    responded_at,score,survey_type
    2026-01-05T10:00:00Z,5,asat
    2026-01-05T10:00:00Z,4,asat
    2026-01-05T10:00:00Z,2,ASAT
    2026-01-05T10:00:00Z,5,csat
    2026-01-05T10:00:00Z,3,CSAT
    2026-01-05T10:00:00Z,4,csat
    2026-01-05T10:00:00Z,9,nps
    2026-01-05T10:00:00Z,10,nps
    2026-01-05T10:00:00Z,6,ces
    2026-01-12T10:00:00Z,1,asat
"""


def test_asat_mean_score(tmp_path: Path) -> None:
    result = run(tmp_path, ["asat"], surveys=SURVEYS, grain="week")
    # asat responses (types lower-cased): 5, 4, 2 in week 1, 1 in week 2
    assert vn(row(result, period=WEEK1), "asat") == (pytest.approx(11 / 3), 3)  # (5+4+2)/3
    assert vn(row(result, period=WEEK2), "asat") == (pytest.approx(1.0), 1)
    assert vn(totals(result), "asat") == (pytest.approx(3.0), 4)  # (5+4+2+1)/4


def test_asat_scores_outside_the_scale_are_excluded_and_reported(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,5,asat
        2026-01-05T10:00:00Z,3,asat
        2026-01-05T10:00:00Z,6,asat
        2026-01-05T10:00:00Z,0,asat
    """
    result = run(tmp_path, ["asat"], surveys=surveys)
    assert vn(totals(result), "asat") == (pytest.approx(4.0), 2)  # (5+3)/2; 6 and 0 excluded
    issues = {q.issue: q.rows for q in result.data_quality}
    assert issues.get("asat score outside 1–5") == 2


def test_survey_responses_by_survey_type(tmp_path: Path) -> None:
    result = run(tmp_path, ["survey_responses"], surveys=SURVEYS, by=["survey_type"])
    # asat 4 (5, 4, 2, 1), csat 3 (one spelt CSAT), nps 2, ces 1 → total 10
    assert vn(row(result, survey_type="asat"), "survey_responses") == (4, 4)
    assert vn(row(result, survey_type="csat"), "survey_responses") == (3, 3)
    assert vn(row(result, survey_type="nps"), "survey_responses") == (2, 2)
    assert vn(row(result, survey_type="ces"), "survey_responses") == (1, 1)
    assert result.table.height == 4
    assert vn(totals(result), "survey_responses") == (10, 10)


# --- contacts: channel switching and giving up ---------------------------------------------


def test_channel_switch_rate(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,channel,customer_id
        a1,2026-01-05T09:00:00Z,email,A
        a2,2026-01-10T09:00:00Z,chat,A
        b1,2026-01-05T09:00:00Z,email,B
        c1,2026-01-06T09:00:00Z,chat,C
        d1,2026-01-06T09:00:00Z,email,D
        d2,2026-01-07T09:00:00Z,email,D
        e1,2026-01-05T09:00:00Z,chat,E
        n1,2026-01-05T09:00:00Z,chat,
        z1,2026-01-20T09:00:00Z,email,Z
    """
    calls = """
        call_id,queued_at,answered_at,customer_id
        cb,2026-01-13T09:00:00Z,2026-01-13T09:00:05Z,B
        ce,2026-01-12T09:00:00Z,2026-01-12T09:00:05Z,E
        cy,2026-01-25T09:00:00Z,2026-01-25T09:00:05Z,Y
    """
    result = run(tmp_path, ["channel_switch_rate"], tickets=tickets, calls=calls)
    # export time: min(newest ticket z1 01-20T09:00, newest call cy 01-25) = 01-20T09:00
    # A: email then chat 5 days later → switched
    # B: email, then phone (calls are 'phone') 8 days later → not within 7d; cb's own window
    #    (01-13T09:00 + 7 d = 01-20T09:00) is observed → judged, not switched
    # C: a single contact, 14 days observed → no
    # D: email twice → same channel, no (both windows observed)
    # E: chat, then phone exactly 7 d later → within 7d (inclusive) → switched
    # Z (0 days observed) and Y (after the export time) have not switched and cannot be
    #   judged yet → not counted; n1 has no customer → not counted
    # → A, E = 2 / A, B, C, D, E = 5
    assert vn(totals(result), "channel_switch_rate") == (pytest.approx(0.4), 5)


def test_channel_switch_rate_follows_contacts_past_the_period(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,channel,customer_id
        a1,2026-01-05T09:00:00Z,email,A
        a2,2026-01-10T09:00:00Z,chat,A
        b1,2026-01-05T09:00:00Z,email,B
        b2,2026-01-04T09:00:00Z,chat,B
        z1,2026-01-20T09:00:00Z,chat,Z
    """
    result = run(
        tmp_path,
        ["channel_switch_rate"],
        tickets=tickets,
        date_from="2026-01-05",
        date_to="2026-01-07",
    )
    # in the period: a1 (A) and b1 (B). A's next contact (chat, 01-10, after the period) is
    # within 7 d → switched. B switched *into* b1 from a chat before the period: b1 is followed
    # by nothing (its window is observed: the data runs to z1, 01-20) → not a switch → 1/2
    assert vn(totals(result), "channel_switch_rate") == (pytest.approx(0.5), 2)


def test_gave_up_rate(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,resolved_at,status
        g1,2026-01-05T09:00:00Z,,closed
        g2,2026-01-05T09:00:00Z,,Cancelled
        g3,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,solved
        g4,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,closed
        g5,2026-01-05T09:00:00Z,,open
    """
    calls = """
        call_id,queued_at,answered_at,direction
        k1,2026-01-05T09:00:00Z,2026-01-05T09:00:10Z,inbound
        k2,2026-01-05T09:00:00Z,,inbound
        k3,2026-01-05T09:00:00Z,,outbound
    """
    result = run(tmp_path, ["gave_up_rate"], tickets=tickets, calls=calls)
    # contacts: 5 tickets + 2 inbound calls (k3 is outbound) = 7
    # gave up: g1 (closed, no resolved_at), g2 ('Cancelled' → cancelled), k2 (never answered);
    # g4 is closed *with* a resolution, g5 is still open → 3/7
    assert vn(totals(result), "gave_up_rate") == (pytest.approx(3 / 7), 7)


# --- customers: retention and churn --------------------------------------------------------

CUSTOMERS = """
    customer_id,started_at,churned_at
    A,2025-06-01T00:00:00Z,
    B,2025-09-01T00:00:00Z,2026-02-10T00:00:00Z
    C,2026-02-05T00:00:00Z,2026-02-20T00:00:00Z
    D,2026-02-15T00:00:00Z,
    E,2025-10-01T00:00:00Z,2026-02-01T00:00:00Z
    F,2025-05-01T00:00:00Z,2026-01-15T00:00:00Z
    G,2026-03-05T00:00:00Z,
    H,2025-12-01T00:00:00Z,2026-03-10T00:00:00Z
    I,2026-02-01T00:00:00Z,
"""
# February 2026 = [02-01T00:00Z, 03-01T00:00Z):
# S (active at the start: started before it, not churned before it) = A, B, E, H = 4
#   (E churned exactly at the start instant: its churn belongs to February, so it was active
#   when February began; F churned in January; I started at the very start → new, not S)
# E (active at the end) = A, D, H, I = 4 (B, C, E churned; G not started; H churns in March)
# N (started during February and still active at its end) = D, I = 2 (C started and churned
#   within February: a new customer lost is in neither E nor N)
# lost (active at the start, churned during) = B, E = 2
# retention = (E − N)/S = (4 − 2)/4 = 0.5 (= 1 − churn)
# churn = lost/S = 2/4 = 0.5


def test_retention_and_churn_for_one_month(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["retention_rate", "churn_rate"],
        customers=CUSTOMERS,
        date_from="2026-02-01",
        date_to="2026-02-28",
    )
    t = totals(result)
    assert vn(t, "retention_rate") == (pytest.approx(0.5), 4)
    assert vn(t, "churn_rate") == (pytest.approx(0.5), 4)


def test_retention_and_churn_per_month(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["retention_rate", "churn_rate"],
        customers=CUSTOMERS,
        grain="month",
        date_from="2026-01-01",
        date_to="2026-02-28",
    )
    jan, feb = row(result, period=date(2026, 1, 1)), row(result, period=date(2026, 2, 1))
    # January: S = A, B, E, F, H = 5; N = none; E(nd, 02-01T00:00Z) = A, B, E, H = 4
    # (E's churn at 02-01T00:00Z is February's); lost = F → retention 4/5, churn 1/5
    assert vn(jan, "retention_rate") == (pytest.approx(0.8), 5)
    assert vn(jan, "churn_rate") == (pytest.approx(0.2), 5)
    # February as worked out above
    assert vn(feb, "retention_rate") == (pytest.approx(0.5), 4)
    assert vn(feb, "churn_rate") == (pytest.approx(0.5), 4)
    # the whole period: S at 01-01 = 5; E at 03-01 = A, D, H, I = 4; N (new and still active)
    # = D, I = 2; lost = B, E, F = 3 → retention (4 − 2)/5 = 0.4 = 1 − churn, churn 3/5 = 0.6
    t = totals(result)
    assert vn(t, "retention_rate") == (pytest.approx(0.4), 5)
    assert vn(t, "churn_rate") == (pytest.approx(0.6), 5)
    assert_finite(result.table)


def test_retention_first_bucket_starts_at_the_period_start(tmp_path: Path) -> None:
    customers = (
        CUSTOMERS.replace(
            "F,2025-05-01T00:00:00Z,2026-01-15T00:00:00Z",
            "F,2025-05-01T00:00:00Z,2026-01-10T00:00:00Z",
        )
        + "    J,2026-01-05T00:00:00Z,\n"
    )
    result = run(
        tmp_path,
        ["retention_rate", "churn_rate"],
        customers=customers,
        grain="month",
        date_from="2026-01-15",
        date_to="2026-02-28",
    )
    # The report starts on 2026-01-15; flows in the January row only count 01-15 … 01-31, and
    # so must the stock: S at 01-15 = A, B, E, H, J = 5 (F churned 01-10, J started 01-05, both
    # before the period); N = none; E at 02-01 = A, B, E, H, J = 5; lost = none
    # → retention (5 − 0)/5 = 1.0, churn 0/5 = 0 (the same as a report for 01-15 … 01-31)
    alone = totals(
        run(
            tmp_path,
            ["retention_rate", "churn_rate"],
            customers=customers,
            date_from="2026-01-15",
            date_to="2026-01-31",
        )
    )
    assert vn(alone, "retention_rate") == (pytest.approx(1.0), 5)
    assert vn(alone, "churn_rate") == (pytest.approx(0.0), 5)
    jan = row(result, period=date(2026, 1, 1))
    # (measured from the bucket's start 01-01 it would be S = A, B, E, F, H = 5, N = J,
    # lost = F → retention 0.8, churn 0.2: F's churn and J's start precede the report)
    assert vn(jan, "retention_rate") == (pytest.approx(1.0), 5)
    assert vn(jan, "churn_rate") == (pytest.approx(0.0), 5)
    # February is a whole bucket: S = A, B, E, H, J = 5; E at 03-01 = A, D, H, I, J = 5;
    # N (new, still active) = D, I = 2 (C churned within February); lost = B, E = 2
    # → retention (5 − 2)/5 = 0.6 = 1 − churn, churn 2/5 = 0.4
    feb = row(result, period=date(2026, 2, 1))
    assert vn(feb, "retention_rate") == (pytest.approx(0.6), 5)
    assert vn(feb, "churn_rate") == (pytest.approx(0.4), 5)
    # totals from 01-15: S = 5, E = 5, N = 2, lost = 2 → 0.6 and 0.4
    t = totals(result)
    assert vn(t, "retention_rate") == (pytest.approx(0.6), 5)
    assert vn(t, "churn_rate") == (pytest.approx(0.4), 5)


def test_retention_and_churn_over_all_data_are_null(tmp_path: Path) -> None:
    result = run(tmp_path, ["retention_rate", "churn_rate"], customers=CUSTOMERS)
    t = totals(result)
    # no period start: nobody is "active at the start" → S = 0 → null, never 0 or NaN
    assert vn(t, "retention_rate") == (None, 0)
    assert vn(t, "churn_rate") == (None, 0)


def test_retention_with_only_an_end_date_is_null(tmp_path: Path) -> None:
    result = run(
        tmp_path, ["retention_rate", "churn_rate"], customers=CUSTOMERS, date_to="2026-02-28"
    )
    t = totals(result)
    assert vn(t, "retention_rate") == (None, 0)
    assert vn(t, "churn_rate") == (None, 0)


# --- the scorecard profile -----------------------------------------------------------------


def test_scorecard_profile(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at,resolved_at,agent,agent_replies,reopens
        t1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T11:00:00Z,ann,1,0
        t2,2026-01-05T09:00:00Z,2026-01-05T09:30:00Z,2026-01-05T12:00:00Z,ann,2,1
        t3,2026-01-05T09:00:00Z,2026-01-05T09:20:00Z,2026-01-05T10:00:00Z,bob,1,0
    """
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds,agent
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,200,0,40,bob
        c2,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,20,0,bob
    """
    surveys = """
        responded_at,score,survey_type,ticket_id
        2026-01-05T13:00:00Z,5,csat,t1
        2026-01-05T13:00:00Z,2,csat,t2
        2026-01-05T13:00:00Z,4,csat,t3
    """
    path = write_config(tmp_path, None, tickets=tickets, calls=calls, surveys=surveys)
    result = api.report(path, profile="scorecard")
    assert result.by == ("agent",)
    assert [s.kpi.id for s in result.kpis] == [
        "ticket_volume",
        "call_volume",
        "first_response_time",
        "average_handle_time",
        "first_contact_resolution",
        "reopen_rate",
        "csat",
    ]
    assert all(s.available for s in result.kpis)
    ann, bob = row(result, agent="ann"), row(result, agent="bob")
    assert vn(ann, "ticket_volume") == (2, 2)
    assert vn(ann, "call_volume") == (0, 0)
    assert vn(ann, "first_response_time") == (pytest.approx(1200.0), 2)  # median(600, 1800)
    # no flag column → one_touch: t1 (1 reply, 0 reopens) yes, t2 (2 replies) no → 1/2
    assert vn(ann, "first_contact_resolution") == (pytest.approx(0.5), 2)
    assert vn(ann, "reopen_rate") == (pytest.approx(0.5), 2)  # t2 / t1, t2
    # csat cut by the agent of the rated ticket: t1 5 (≥ 4), t2 2 → 1/2
    assert vn(ann, "csat") == (pytest.approx(0.5), 2)
    assert vn(bob, "ticket_volume") == (1, 1)
    assert vn(bob, "call_volume") == (2, 2)
    assert vn(bob, "average_handle_time") == (pytest.approx(180.0), 2)  # (240 + 120)/2
    assert vn(bob, "csat") == (pytest.approx(1.0), 1)  # t3: 4
    assert vn(totals(result), "csat") == (pytest.approx(2 / 3), 3)


def test_scorecard_profile_by_and_kpis_can_be_overridden(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,agent,team
        t1,2026-01-05T09:00:00Z,ann,red
        t2,2026-01-05T09:00:00Z,bob,red
    """
    path = write_config(tmp_path, None, tickets=tickets)
    result = api.report(path, profile="scorecard", by=["team"], kpis=["ticket_volume"])
    assert result.by == ("team",)
    assert [s.kpi.id for s in result.kpis] == ["ticket_volume"]
    assert vn(row(result, team="red"), "ticket_volume") == (2, 2)


# --- custom KPIs in checks -----------------------------------------------------------------

CUSTOM_KPIS: list[Any] = [
    {
        "id": "escalations",
        "source": "tickets",
        "type": "ratio",
        "numerator": "reassignments > 1",
        "denominator": "status <> 'spam'",
    },
    {"id": "replies", "source": "tickets", "sql": "avg(agent_replies)"},
]
CUSTOM_TICKETS = """
    ticket_id,created_at,reassignments,status,agent_replies
    e1,2026-01-05T09:00:00Z,0,open,1
    e2,2026-01-05T09:00:00Z,2,solved,3
    e3,2026-01-05T09:00:00Z,1,Spam,0
    e4,2026-01-05T09:00:00Z,4,solved,
    e5,2026-01-05T09:00:00Z,1,pending,2
"""


def test_custom_kpis_are_computed(tmp_path: Path) -> None:
    result = run(tmp_path, CUSTOM_KPIS, tickets=CUSTOM_TICKETS)
    t = totals(result)
    # reassignments > 1: e2, e4 = 2 / status <> 'spam' ('Spam' is lower-cased): e1, e2, e4,
    # e5 = 4 → 0.5
    assert vn(t, "escalations") == (pytest.approx(0.5), 4)
    # avg ignores the empty value: (1 + 3 + 0 + 2)/4 = 1.5; n = the 5 records
    assert vn(t, "replies") == (pytest.approx(1.5), 5)


def test_checks_may_reference_custom_kpis(tmp_path: Path) -> None:
    checks = [
        {"kpi": "escalations", "fail": "> 20%", "warn": "> 10%"},
        {"kpi": "replies", "warn": "> 3", "by": ["channel"], "min_count": 5},
        {"kpi": "reopen_rate", "fail": "> 10%"},
    ]
    path = write_config(tmp_path, CUSTOM_KPIS, checks=checks, tickets=CUSTOM_TICKETS)
    config = load_config(path)
    assert [k.id for k in config.kpis] == ["escalations", "replies"]
    got = {c.kpi: c for c in config.checks}
    assert list(got) == ["escalations", "replies", "reopen_rate"]
    fail = got["escalations"].fail
    assert fail is not None and fail.op == ">" and fail.low.value == pytest.approx(0.2)
    warn = got["replies"].warn
    assert warn is not None and warn.low.value == pytest.approx(3.0)
    assert got["replies"].by == ("channel",) and got["replies"].min_count == 5
    assert api.report(path).totals["escalations"][0] == pytest.approx(0.5)
