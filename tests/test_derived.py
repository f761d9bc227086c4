"""Derived columns: the registry is whole, availability is read from it, and rows that tie in
time are ordered the same way by every polars engine (kind, then id).

The tie fixtures are worked out by hand; each runs under the in-memory and the streaming
engine, which must agree with the hand-computed value and with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from cscli import api
from cscli.derived import DERIVATIONS
from cscli.engine.polars.enrich import BUILDERS, SOURCES
from tests.helpers import row, totals, vn

Write = Callable[[str, str], Path]
ENGINES = ("in-memory", "streaming")


# --- the registry ---------------------------------------------------------------------------


def test_every_derivation_has_a_polars_builder() -> None:
    for d in DERIVATIONS:
        if d.builds_source:
            assert d.source in SOURCES, d
        elif d.stage != "load" and d.source not in SOURCES:
            assert d.name in BUILDERS, d


def test_each_column_has_one_derivation_per_source() -> None:
    seen: set[tuple[str, str]] = set()
    for d in DERIVATIONS:
        for column in d.provides:
            assert (d.source, column) not in seen, (d.source, column)
            seen.add((d.source, column))


def test_a_missing_derived_column_names_the_export_column_of_its_own_source(
    write: Write,
) -> None:
    # with abandons met, service_level reads wait_seconds (answered_at, else ended_at − the
    # queued_at): on calls without ended_at it is calls' own ended_at that is missing (before
    # the registry, tickets' derived ended_at was read as meaning resolved_at in any source)
    write("calls.csv", "call_id,queued_at,answered_at\nc1,2026-01-05T09:00:00Z,\n")
    config = write(
        "cscli.yaml",
        "sources:\n  calls: {path: calls.csv}\n"
        "kpis:\n  - {id: sl, kpi: service_level, abandons: met}\n",
    )
    (status,) = api.report(config).kpis
    assert status.reason == "calls has no ended_at column"


# --- ties in time -----------------------------------------------------------------------------

TICKETS = """
    ticket_id,created_at,channel,customer_id
    a1,2026-01-05T08:00:00Z,email,A
    a2,2026-01-05T09:00:00Z,email,A
    b1,2026-01-06T08:00:00Z,email,B
    b2,2026-01-06T09:00:00Z,email,B
    c1,2026-01-07T08:00:00Z,email,C
    c2,2026-01-08T08:00:00Z,chat,C
    d1,2026-01-08T08:00:00Z,email,D
    d2,2026-01-09T08:00:00Z,email,D
    z1,2026-01-20T09:00:00Z,email,Z
"""
CALLS = """
    call_id,queued_at,answered_at,customer_id,ticket_id
    ca,2026-01-05T09:00:00Z,2026-01-05T09:00:05Z,A,a2
    cb,2026-01-06T09:00:00Z,2026-01-06T09:00:05Z,B,b2
    cy,2026-01-25T09:00:00Z,2026-01-25T09:00:05Z,Y,
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_channel_switching_orders_a_ticket_and_its_call_at_one_instant_by_kind(
    write: Write, engine: str
) -> None:
    write("tickets.csv", TICKETS)
    write("calls.csv", CALLS)
    config = write(
        "cscli.yaml",
        "sources:\n  tickets: {path: tickets.csv}\n  calls: {path: calls.csv}\n"
        "kpis: [channel_switch_rate]\n",
    )
    with pl.Config(engine_affinity=engine):
        result = api.report(config)
    # export time: min(newest ticket z1 01-20T09:00, newest call cy 01-25) = 01-20T09:00.
    # A: email a1 at 08:00, then a2 (email) and its call ca (phone) at 09:00 — one contact,
    #    two records at one instant. Ordered by kind, the call comes first ("call" < "ticket"),
    #    as when the two merge into one contact: the next contact of a1 is on the phone, 1 h
    #    later → switched. (Taking the ticket first would make it email → email: no switch.)
    # B: the same at 01-06 → switched.
    # C: email, then chat a day later, no tie → switched.
    # D: email twice → not switched; both 7-day windows are observed (to 01-16) → judged.
    # Z (0 days observed) and Y (after the export time) cannot be judged yet → not counted.
    # → A, B, C = 3 / A, B, C, D = 4
    assert vn(totals(result), "channel_switch_rate") == (pytest.approx(0.75), 4)


MESSAGES = """
    message_id,created_at,text,author,inbound,in_response_to
    m1,2026-03-02T09:00:00Z,my order is late,c1,true,
    m3,2026-03-02T09:10:00Z,on it,Zoe,false,m1
    m2,2026-03-02T09:10:00Z,looking now,Amy,false,m1
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_the_responder_of_replies_at_one_instant_is_the_lowest_message_id(
    write: Write, engine: str
) -> None:
    write("messages.csv", MESSAGES)
    config = write(
        "cscli.yaml",
        "sources:\n  messages: {path: messages.csv}\n"
        "kpis:\n  - {id: frt, kpi: message_first_response_time, stat: mean}\n",
    )
    with pl.Config(engine_affinity=engine):
        result = api.report(config, by=["responder"])
    # m2 (Amy) and m3 (Zoe) both reply to m1 ten minutes later: the first reply is at
    # 09:10 either way (600 s); its author is m2's, the lower message_id, whatever the file
    # order (m3 is written first)
    assert vn(row(result, responder="Amy"), "frt") == (pytest.approx(600.0), 1)
    assert "Zoe" not in result.table["responder"].to_list()
