"""Ticket comments (issue 17): each customer wait to the next public agent reply, next reply
time, and a ticket's first responder. Every value below is worked out by hand from COMMENTS;
the rows are written out of time order on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from cscli import api
from cscli.config.load import load_config
from cscli.engine.polars.enrich import enriched
from cscli.engine.polars.sources import load_sources
from tests.helpers import row, totals, vn

Write = Callable[[str, str], Path]

# t1: c1 asks 09:00, Amy answers 09:30 (c1 waits 1800 s); c3 asks 10:00 and c4 again 10:05,
# c5 is a private note 10:20 (not a reply), Zoe answers 11:00 (c3 waits 3600 s and opens a
# next-reply wait; c4 waits 3300 s but does not open one: the previous public comment is the
# customer's); c7 asks 12:00 and is still waiting.
# t2: d1 asks 09:00, Bob answers 09:10 (600 s); d3 asks 09:20, Bob answers 09:50 (1800 s);
# d5 has the role "admin": a finding, left out.
COMMENTS = """\
    comment_id,ticket_id,created_at,author_role,public,author
    c7,t1,2026-03-02T12:00:00Z,end_user,true,cust1
    c3,t1,2026-03-02T10:00:00Z,end_user,true,cust1
    c1,t1,2026-03-02T09:00:00Z,end_user,true,cust1
    c6,t1,2026-03-02T11:00:00Z,agent,true,Zoe
    c2,t1,2026-03-02T09:30:00Z,agent,true,Amy
    c5,t1,2026-03-02T10:20:00Z,agent,false,Kim
    c4,t1,2026-03-02T10:05:00Z,End_User,true,cust1
    d4,t2,2026-03-02T09:50:00Z,agent,true,Bob
    d3,t2,2026-03-02T09:20:00Z,end_user,true,cust2
    d2,t2,2026-03-02T09:10:00Z,agent,true,Bob
    d1,t2,2026-03-02T09:00:00Z,end_user,true,cust2
    d5,t2,2026-03-02T08:00:00Z,admin,true,Root
"""
TICKETS = """\
    ticket_id,created_at,resolved_at
    t1,2026-03-02T09:00:00Z,
    t2,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z
    t3,2026-03-02T09:00:00Z,
"""
SOURCES = "sources:\n  ticket_comments: {path: comments.csv}\n  tickets: {path: tickets.csv}\n"


@pytest.fixture
def config(write: Write) -> Path:
    write("comments.csv", COMMENTS)
    write("tickets.csv", TICKETS)
    return write(
        "cscli.yaml",
        SOURCES + "kpis:\n  - {id: nrt, kpi: next_reply_time, stat: mean}\n"
        "  - {id: vol, kpi: ticket_volume}\n",
    )


def test_each_customer_comment_waits_for_the_next_public_agent_comment(config: Path) -> None:
    cfg = load_config(config)
    sources = load_sources(cfg, ["ticket_comments", "tickets"])
    got = (
        enriched("ticket_comments", sources, (), {"reply_wait_seconds", "next_reply_wait"})
        .select("comment_id", "reply_wait_seconds", "next_reply_wait")
        .collect()
    )
    waits = dict(zip(got["comment_id"], got["reply_wait_seconds"], strict=True))
    opens = {c for c, o in zip(got["comment_id"], got["next_reply_wait"], strict=True) if o}
    assert waits == {
        "c1": 1800.0,
        "c2": None,
        "c3": 3600.0,
        "c4": 3300.0,
        "c5": None,
        "c6": None,
        "c7": None,
        "d1": 600.0,
        "d2": None,
        "d3": 1800.0,
        "d4": None,
    }
    assert opens == {"c3", "c7", "d3"}
    tickets = (
        enriched("tickets", sources, (), {"first_public_reply_at", "first_responder"})
        .select("ticket_id", "first_public_reply_at", "first_responder")
        .sort("ticket_id")
        .collect()
    )
    assert tickets["first_responder"].to_list() == ["Amy", "Bob", None]
    assert [str(t) if t else None for t in tickets["first_public_reply_at"].to_list()] == [
        "2026-03-02 09:30:00+00:00",
        "2026-03-02 09:10:00+00:00",
        None,
    ]


def test_next_reply_time_and_the_unknown_role_finding(config: Path) -> None:
    result = api.report(config)
    t = totals(result)
    # next-reply waits: c3 3600, d3 1800 (c7 unanswered) → mean 2700, n 2; open share: 1 of
    # the 3 waits (c7) has no reply yet
    assert vn(t, "nrt") == (pytest.approx(2700.0), 2)
    assert t["nrt__open"] == pytest.approx(1 / 3)
    issues = {(q.source, q.issue): q.rows for q in result.data_quality}
    assert issues[("ticket_comments", "author_role: unknown role (not end_user or agent)")] == 1


def test_first_responder_cuts_tickets(config: Path) -> None:
    result = api.report(config, by=["first_responder"])
    # t1 → Amy, t2 → Bob, t3 has no public agent comment (null group)
    assert vn(row(result, first_responder="Amy"), "vol")[0] == 1
    assert vn(row(result, first_responder="Bob"), "vol")[0] == 1
    assert vn(row(result, first_responder=None), "vol")[0] == 1


def test_no_comments_no_reply_waits(write: Write) -> None:
    write("comments.csv", "ticket_id,created_at,author_role\nt1,2026-03-02T09:00:00Z,agent\n")
    config = write(
        "cscli.yaml",
        "sources:\n  ticket_comments: {path: comments.csv}\n"
        "kpis:\n  - {id: nrt, kpi: next_reply_time}\n",
    )
    t = totals(api.report(config))
    # one agent comment, no customer comment: no wait at all → null, n 0 (never NaN)
    assert vn(t, "nrt") == (None, 0)
    _ = pl


TOUCH_TICKETS = """\
    ticket_id,created_at,resolved_at,reopens
    r1,2026-03-02T09:00:00Z,2026-03-03T09:00:00Z,0
    r2,2026-03-02T09:00:00Z,2026-03-03T09:00:00Z,0
    r3,2026-03-02T09:00:00Z,2026-03-03T09:00:00Z,1
    r4,2026-03-02T09:00:00Z,2026-03-03T09:00:00Z,
    r5,2026-03-02T09:00:00Z,2026-03-03T09:00:00Z,0
    r6,2026-03-02T09:00:00Z,,0
"""
TOUCH_COMMENTS = """\
    ticket_id,created_at,author_role,public
    r1,2026-03-02T10:00:00Z,agent,true
    r2,2026-03-02T10:00:00Z,agent,true
    r2,2026-03-02T11:00:00Z,agent,true
    r3,2026-03-02T10:00:00Z,agent,true
    r4,2026-03-02T10:00:00Z,agent,true
    r4,2026-03-02T11:00:00Z,agent,true
    r4,2026-03-02T12:00:00Z,agent,true
    r4,2026-03-02T13:00:00Z,agent,false
    r4,2026-03-02T09:30:00Z,end_user,true
    r6,2026-03-02T10:00:00Z,agent,true
"""


def test_replies_to_resolve_and_the_touch_shares(write: Write) -> None:
    write("comments.csv", TOUCH_COMMENTS)
    write("tickets.csv", TOUCH_TICKETS)
    config = write(
        "cscli.yaml",
        SOURCES + "kpis:\n  - {id: rtr, kpi: replies_to_resolve}\n"
        "  - {id: one, kpi: one_touch_share}\n  - {id: two, kpi: two_touch_share}\n"
        "  - {id: multi, kpi: multi_touch_share}\n",
    )
    t = totals(api.report(config))
    # resolved r1..r5 with 1, 2, 1 (reopened), 3 (r4's private note not counted), 0 public
    # agent replies; r6 is open → mean (1+2+1+3+0)/5 = 1.4 over n 5
    assert vn(t, "rtr") == (pytest.approx(1.4), 5)
    # one-touch r1 (1/5); two-touch r2 (1/5); multi-touch r3 (reopened), r4 (3 replies) 2/5;
    # r5 (no reply) in none of them
    assert vn(t, "one") == (pytest.approx(0.2), 5)
    assert vn(t, "two") == (pytest.approx(0.2), 5)
    assert vn(t, "multi") == (pytest.approx(0.4), 5)


def test_no_resolved_ticket_no_touch_share(write: Write) -> None:
    write("comments.csv", TOUCH_COMMENTS)
    write("tickets.csv", "ticket_id,created_at,resolved_at,reopens\nr6,2026-03-02T09:00:00Z,,0\n")
    config = write("cscli.yaml", SOURCES + "kpis:\n  - {id: one, kpi: one_touch_share}\n")
    # nothing resolved: 0 / 0 → null, never NaN
    assert vn(totals(api.report(config)), "one") == (None, 0)


def test_touch_shares_without_comments_name_the_missing_source(write: Write) -> None:
    write("tickets.csv", TOUCH_TICKETS)
    config = write(
        "cscli.yaml",
        "sources:\n  tickets: {path: tickets.csv}\n"
        "kpis:\n  - {id: one, kpi: one_touch_share}\n  - {id: vol, kpi: ticket_volume}\n",
    )
    reasons = {s.kpi.id: s.reason for s in api.report(config).kpis}
    assert reasons == {"one": "needs a ticket_comments source in the config", "vol": None}
