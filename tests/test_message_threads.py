"""Message threading: replies found by `in_response_to` = `message_id`, however the ids were
written, and `cscli validate` saying so when the threading column matches nothing.

No sentiment here (no `sentiment` extra needed): only reply times and response rates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cscli import api

Write = Callable[[str, str], Path]

CONFIG = """
    sources:
      messages: {path: messages.csv}
    kpis:
      - {id: frt, kpi: message_first_response_time, stat: mean}
      - message_response_rate
"""

# Integer ids, but in_response_to written as 3.0 (pandas writes an integer column with empty
# cells as floats): 1 is answered by 2 after 10 min, 3 by 4 after 1 h; 5 is never answered.
FLOAT_REPLY_IDS = """
    message_id,created_at,text,author,inbound,in_response_to
    1,2026-03-02T09:00:00Z,my order is late,c1,true,
    2,2026-03-02T09:10:00Z,sorry! DM us,BrandA,false,1.0
    3,2026-03-02T10:00:00Z,where is my refund,c2,true,
    4,2026-03-02T11:00:00Z,sent today,BrandB,false,3.0
    5,2026-03-03T08:00:00Z,anyone there?,c3,true,
"""


def test_reply_ids_written_as_floats_still_match(write: Write) -> None:
    write("messages.csv", FLOAT_REPLY_IDS)
    result = api.report(write("cscli.yaml", CONFIG))
    t = result.totals.row(0, named=True)
    # 3.0 matches 3 and 1.0 matches 1: reply times 600 s and 3600 s → mean 2100 over n 2;
    # conversation starts 1, 3, 5 → 2 answered of 3 (unmatched, it was 0 of 3 and no FRT)
    assert (t["frt"], t["frt__n"]) == (pytest.approx(2100.0), 2)
    assert (t["message_response_rate"], t["message_response_rate__n"]) == (
        pytest.approx(2 / 3),
        3,
    )
    rows = {
        r["responder"]: r
        for r in api.report(write("cscli.yaml", CONFIG), by=["responder"]).table.iter_rows(
            named=True
        )
    }
    assert rows["BrandA"]["frt"] == pytest.approx(600.0)
    assert rows["BrandB"]["frt"] == pytest.approx(3600.0)


def test_validate_reports_a_threading_column_that_matches_nothing(write: Write) -> None:
    # in_response_to holds conversation ids, not message ids: no reply matches a message
    write(
        "messages.csv",
        """
        message_id,created_at,text,author,inbound,in_response_to
        m1,2026-03-02T09:00:00Z,my order is late,c1,true,
        m2,2026-03-02T09:10:00Z,sorry! DM us,BrandA,false,conv-1
        m3,2026-03-02T10:00:00Z,where is my refund,c2,true,
        m4,2026-03-02T11:00:00Z,sent today,BrandB,false,conv-2
        """,
    )
    result = api.validate(write("cscli.yaml", CONFIG))
    [issue] = [i for i in result.issues if i.column == "in_response_to"]
    assert issue.issue == "no reply matches any message (no in_response_to equals a message_id)"
    assert issue.rows == 2  # m2 and m4: the two messages with an in_response_to
    assert issue.examples == (("messages.csv", 3), ("messages.csv", 5))
    assert "message_response_rate is 0" in issue.effect


def test_validate_is_quiet_when_some_replies_match(write: Write) -> None:
    # one reply to a message before the export began (m0) is normal: no finding
    write(
        "messages.csv",
        """
        message_id,created_at,text,author,inbound,in_response_to
        m1,2026-03-02T09:00:00Z,my order is late,c1,true,
        m2,2026-03-02T09:10:00Z,sorry! DM us,BrandA,false,m1
        m3,2026-03-02T09:20:00Z,as promised,BrandA,false,m0
        """,
    )
    result = api.validate(write("cscli.yaml", CONFIG))
    assert not [i for i in result.issues if i.column == "in_response_to"]


def test_validate_matches_float_written_reply_ids(write: Write) -> None:
    write("messages.csv", FLOAT_REPLY_IDS)
    result = api.validate(write("cscli.yaml", CONFIG))
    # 1.0 and 3.0 match 1 and 3, as in the report: nothing to report on threading
    assert not [i for i in result.issues if i.column == "in_response_to"]


def test_response_rate_is_refused_by_responder(write: Write) -> None:
    write("messages.csv", FLOAT_REPLY_IDS)
    result = api.report(write("cscli.yaml", CONFIG), by=["responder"])
    statuses = {s.kpi.id: s for s in result.kpis}
    # by responder the rate would be 1/1 for BrandA (1), 1/1 for BrandB (3) and 0/1 for the
    # empty responder (5): the cut, not the team, decides the value → refused, with the reason
    reason = statuses["message_response_rate"].reason
    assert reason is not None and reason.startswith(
        "cannot be cut by responder: only answered messages have a responder"
    )
    assert "message_response_rate" not in result.table.columns
    assert statuses["frt"].available  # the reply time by responder is meaningful
    # without the cut it is computed: 2 of 3, and the definition states the rule
    plain = api.report(write("cscli.yaml", CONFIG))
    rate = {s.kpi.id: s for s in plain.kpis}["message_response_rate"]
    assert rate.available and "Not cut by responder: only answered messages" in rate.kpi.definition
