"""The derivations in SQL (`cscli.engine.sql.derive`) equal the polars builders on every row.

Each source of a tiny hand-made export is loaded by polars and, as the SQL engines read it,
materialised as canonical Parquet (`cscli.engine.polars.ingest.materialise`), read by DuckDB
and enriched there by the SQL builders; the polars engine enriches the same records. Every
column of both results (but the loader's `__raw__` copies, which canonical Parquet does not
keep; its `_row` is Int64) is compared row by row (both sorted by every column). The fixture
has the cases the SQL must get right: ties at one instant, NULL customers and authors, rows
out of time order, a ticket id that appears twice (a survey rating it takes the first in
file order), a call linked to a ticket, an outbound call, `3.0`-style ids. A few values are
also worked out by hand.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cscli.config.load import load_config
from cscli.derived import (
    COMMENT_MEASURES,
    CONTACT_MEASURES,
    FIRST_REPLY_COLUMNS,
    HISTORY_FACTS,
    MESSAGE_MEASURES,
    STATUS_TIMES,
)
from cscli.engine.polars import lifecycle as polars_lifecycle
from cscli.engine.polars.enrich import enriched as polars_enriched
from cscli.engine.polars.ingest import materialise
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.measures import MICRO
from cscli.engine.polars.sources import load_sources
from cscli.engine.sql.derive import SQL_BUILDERS, SQL_SOURCES
from cscli.engine.sql.derive import lifecycle as sql_lifecycle
from cscli.engine.sql.dialect import DUCKDB
from cscli.engine.sql.relations import (
    BOOKKEEPING,
    CORE_BUILDERS,
    SqlContext,
    SqlSource,
    enriched,
)
from cscli.kpis.measures import measures_for
from cscli.schema import TABLES

Write = Callable[[str, str], Path]

# C2 has three records at 03-02 09:00 (ticket T2, ticket T5, call Q1): ordered by key,
# call:Q1 < ticket:T2 < ticket:T5. Q2 names ticket T1 (one contact with it). Q3 is outbound
# (not a contact). T4 and Q5 have no customer (Q5 names T4). T1 appears twice (the second
# row, later in the file, is another customer's). Ticket "3.0" is commented on as "3".
TICKETS = """\
    ticket_id,created_at,resolved_at,closed_at,status,channel,agent,team,customer_id
    T3,2026-03-03T10:00:00Z,,,open,chat,Bob,B,C1
    T1,2026-03-02T09:00:00Z,2026-03-02T11:00:00Z,,solved,email,Amy,A,C1
    T2,2026-03-02T09:00:00Z,,2026-03-02T12:00:00Z,closed,chat,Bob,,C2
    T4,2026-03-02T09:30:00Z,2026-03-02T10:00:00Z,,solved,email,,A,
    T1,2026-03-05T08:00:00Z,,,open,social,Zed,Z,C9
    T5,2026-03-02T09:00:00Z,,,new,,Amy,A,C2
    3.0,2026-03-02T14:00:00Z,2026-03-02T15:00:00Z,,solved,email,Kim,K,C3
"""
CALLS = """\
    call_id,queued_at,answered_at,ended_at,direction,customer_id,ticket_id,agent,team
    Q2,2026-03-02T09:40:00Z,2026-03-02T09:41:00Z,2026-03-02T09:50:00Z,inbound,C1,T1,Amy,A
    Q1,2026-03-02T09:00:00Z,,2026-03-02T09:02:00Z,inbound,C2,,,
    Q3,2026-03-02T13:00:00Z,2026-03-02T13:01:00Z,,outbound,C1,,Bob,B
    Q4,2026-03-04T10:00:00Z,2026-03-04T10:00:30Z,2026-03-04T10:05:00Z,INBOUND,C1,,Amy,A
    Q5,2026-03-02T09:00:00Z,2026-03-02T09:00:10Z,2026-03-02T09:05:00Z,inbound,,T4,Kim,K
    Q6,2026-03-02T10:00:00Z,2026-03-02T10:00:05Z,,inbound,C3,,,
"""
# s1 rates T1 (twice in the tickets: the first row's Amy/A/email), s2 rates T2 (no team: the
# NULL is kept, not skipped), s3 rates a call, s4 has its own agent, s5 rates nothing known
SURVEYS = """\
    response_id,responded_at,score,survey_type,ticket_id,call_id,agent,comment
    s1,2026-03-02T12:00:00Z,5,csat,T1,,,"Great help, thank you!"
    s2,2026-03-02T13:00:00Z,4,csat,T2,,,"  "
    s3,2026-03-02T10:00:00Z,3,csat,,Q2,,terrible wait
    s4,2026-03-02T10:30:00Z,2,csat,T3,,Own,terrible wait
    s5,2026-03-02T11:00:00Z,1,csat,T9,Q9,,
"""
# m1 is answered by m2 and m3 at the same instant (m2's author: the lower id) and by m5
# later; m6 answers "7.0", i.e. the message "7"; m7's direction is empty (not a reply)
MESSAGES = """\
    message_id,created_at,text,author,inbound,in_response_to
    m3,2026-03-02T09:10:00Z,again,Zed,false,m1
    m1,2026-03-02T09:00:00Z,help,cust,true,
    m2,2026-03-02T09:10:00Z,hello,Amy,false,m1
    m5,2026-03-02T09:20:00Z,more,Bob,false,m1
    7,2026-03-02T10:00:00Z,hi,cust2,true,
    m6,2026-03-02T10:30:00Z,yes,,false,7.0
    m7,2026-03-02T10:40:00Z,and,cust2,,7
    m8,2026-03-02T11:00:00Z,unanswered,cust3,true,
"""
COMMENTS = """\
    comment_id,ticket_id,created_at,author_role,public,author
    c7,T1,2026-03-02T12:00:00Z,end_user,true,cust1
    c3,T1,2026-03-02T10:00:00Z,end_user,true,cust1
    c1,T1,2026-03-02T09:00:00Z,end_user,true,cust1
    c6,T1,2026-03-02T11:00:00Z,agent,true,Zoe
    c2,T1,2026-03-02T09:30:00Z,agent,true,Amy
    c5,T1,2026-03-02T10:20:00Z,agent,false,Kim
    c4,T1,2026-03-02T10:05:00Z,End_User,,cust1
    d4,T2,2026-03-02T09:50:00Z,agent,true,Bob
    d3,T2,2026-03-02T09:20:00Z,end_user,true,cust2
    d2,T2,2026-03-02T09:10:00Z,agent,true,Bob
    d1,T2,2026-03-02T09:10:00Z,end_user,true,cust2
    ,T2,2026-03-02T09:50:00Z,agent,true,Ann
    e1,3,2026-03-02T14:10:00Z,agent,true,
    e2,3,2026-03-02T14:10:00Z,end_user,true,cust3
"""
INVITATIONS = """\
    sent_at,survey_type,responded_at,invitation_id
    2026-03-02T09:00:00Z,csat,2026-03-02T12:00:00Z,i1
    2026-03-01T09:00:00Z,csat,,i2
    2026-03-03T09:30:00Z,nps,,i3
"""
# stamps to the microsecond (a sum of float seconds would depend on its order); T1 is solved,
# reopened and solved again, then closed at the same instant (the row order decides); " T2 "
# is padded and out of time order, and still open (its last interval runs to the export
# time, T9's event); T5 has no history
EVENTS = """\
    ticket_id,at,status,event_id
    T1,2026-03-02T09:00:00.000001Z,new,e1
    T1,2026-03-02T09:10:00.123456Z,open,e2
    T1,2026-03-02T09:30:00.500000Z,pending,e3
    T1,2026-03-02T09:45:00.250001Z,open,e4
    T1,2026-03-02T10:00:00.700000Z,solved,e5
    T1,2026-03-02T10:30:00.000000Z,open,e6
    T1,2026-03-02T11:00:00.000003Z,solved,e7
    T1,2026-03-02T11:00:00.000003Z,closed,e8
    " T2 ",2026-03-02T09:20:00.300000Z,hold,e10
    T2,2026-03-02T09:00:00.100000Z,new,e9
    T2,2026-03-02T09:40:00.900000Z,open,e11
    T3,2026-03-03T10:00:00.000000Z,solved,e12
    T9,2026-03-03T11:00:00.999999Z,new,e13
"""
SOURCES = {
    "tickets": ("tickets.csv", TICKETS),
    "calls": ("calls.csv", CALLS),
    "surveys": ("surveys.csv", SURVEYS),
    "messages": ("messages.csv", MESSAGES),
    "ticket_comments": ("comments.csv", COMMENTS),
    "survey_invitations": ("invitations.csv", INVITATIONS),
    "ticket_events": ("events.csv", EVENTS),
}


@dataclass
class World:
    polars: dict[str, LoadedSource]
    sql: dict[str, SqlSource]
    con: duckdb.DuckDBPyConnection
    lookups: list[Any] = field(default_factory=list)

    def both(
        self, name: str, needed: set[str], by: tuple[str, ...] = ()
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The enriched records of `name` from polars and from DuckDB, sorted alike."""
        want = polars_enriched(name, self.polars, by, needed).collect()
        want = want.drop(c for c in want.columns if c.startswith("__raw__"))
        if "_row" in want.columns:  # the loader's row index; canonical Parquet's is Int64
            want = want.with_columns(pl.col("_row").cast(pl.Int64))
        columns = self.polars[name].columns if name in self.polars else frozenset()
        ctx = SqlContext(name, self.sql, columns, by, DUCKDB)
        ctx.run = lambda queries: [self.con.sql(q).pl() for q in queries]
        rel = enriched(
            name,
            self.sql,
            by,
            needed,
            ctx,
            {**CORE_BUILDERS, **SQL_BUILDERS},
            SQL_SOURCES,
        )
        assert set(rel.columns) == set(want.columns)
        for lookup in ctx.lookups:
            self.con.register(lookup.name, lookup.frame.to_arrow())
        got = self.con.sql(rel.sql(DUCKDB)).pl()
        assert tuple(got.columns) == rel.columns
        got = got.select(want.columns)
        keys = [c for c, t in want.schema.items() if not isinstance(t, pl.List)]
        return (
            want.sort(keys, nulls_last=True),
            got.sort(keys, nulls_last=True),
        )

    def same(self, name: str, needed: set[str], by: tuple[str, ...] = ()) -> pl.DataFrame:
        want, got = self.both(name, needed, by)
        assert_frame_equal(got, want, check_exact=True)
        return want


def _world(config: Path, names: list[str], out: Path) -> World:
    """The sources `names` of a config, loaded by polars and, as canonical Parquet, by DuckDB."""
    cfg = load_config(config)
    loaded = load_sources(cfg, names)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("SET disabled_optimizers = 'statistics_propagation'")  # as the DuckDB runner
    sql: dict[str, SqlSource] = {}
    for name, canon in materialise(cfg, names, out).items():
        paths = ", ".join(f"'{p}'" for p in canon.paths)
        view = f"cscli_{name}"
        con.execute(
            f'CREATE VIEW "{view}" AS SELECT * FROM read_parquet([{paths}], '
            "hive_partitioning = false)"
        )
        # what the SQL engine gives planning: the data columns and the measures they allow
        data = {c for c in canon.columns if c not in BOOKKEEPING}
        measures = {m.name for m in measures_for(canon.table, data)}
        table = TABLES[canon.table]
        sql[name] = SqlSource(
            name, view, frozenset(data | measures), canon.dimensions, canon, table.required
        )
        assert sql[name].columns == loaded[name].columns
    return World(loaded, sql, con)


@pytest.fixture
def world(write: Write, tmp_path: Path) -> Iterator[World]:
    lines = ["sources:"]
    for name, (file, text) in SOURCES.items():
        write(file, text)
        lines.append(f"  {name}: {{path: {file}}}")
    w = _world(write("cscli.yaml", "\n".join(lines) + "\n"), list(SOURCES), tmp_path)
    yield w
    w.con.close()


def _by(frame: pl.DataFrame, key: str, *cols: str) -> dict[Any, tuple[Any, ...]]:
    return {r[0]: tuple(r[1:]) for r in frame.select(key, *cols).iter_rows()}


def test_contacts_table_and_next_contacts_equal_polars(world: World) -> None:
    contacts = world.same("contacts", set(CONTACT_MEASURES), ("channel", "kind", "agent"))
    # C2 at 09:00: call:Q1, then ticket:T2 (next: T5 at the same instant, 0 s), then T5
    # (next: none); Q2 is merged into T1 (one contact, key ticket:T1)
    rows = _by(contacts, "contact_id", "next_contact_seconds", "gave_up")
    assert rows["Q1"] == (0.0, True)  # unanswered; next is T2 at 09:00
    assert rows["T2"] == (0.0, True)  # closed without resolution
    assert rows["T5"][0] is None
    assert "Q2" not in rows and "Q3" not in rows
    # C1: T1 09:00 → T3 on 03-03 10:00 = 25 h = 90000 s
    assert rows["T1"][0] == 90000.0


def test_contact_sources_next_contacts_equal_polars(world: World) -> None:
    tickets = world.same("tickets", set(CONTACT_MEASURES))
    calls = world.same("calls", set(CONTACT_MEASURES))
    # Q1 ended 09:02, C2's next other contact after the call record (T2 at 09:00): −120 s
    assert _by(calls, "call_id", "next_contact_seconds")["Q1"] == (-120.0,)
    # each of the two T1 rows joins both contact records with id T1: 7 rows − 2 + 2 × 2
    assert len(tickets) == 9


def test_rated_contact_takes_the_first_ticket_row_and_keeps_nulls(world: World) -> None:
    surveys = world.same("surveys", set(), ("agent", "team", "channel"))
    rows = _by(surveys, "response_id", "agent", "team", "channel")
    assert rows["s1"] == ("Amy", "A", "email")  # the first T1 row in file order
    assert rows["s2"] == ("Bob", None, "chat")  # T2's team is empty: NULL, kept
    assert rows["s3"] == ("Amy", "A", "phone")  # the call Q2
    assert rows["s4"] == ("Own", "B", "chat")  # its own agent first, T3's team and channel
    assert rows["s5"] == (None, None, None)


def test_replies_equal_polars(world: World) -> None:
    messages = world.same("messages", set(MESSAGE_MEASURES), ("responder",))
    rows = _by(messages, "message_id", "reply_seconds", "responder")
    assert rows["m1"] == (600.0, "Amy")  # m2 and m3 at 09:10: the lower id, m2 (Amy)
    assert rows["7"] == (1800.0, None)  # m6 answers "7.0"; its author is empty
    assert rows["m8"] == (None, None)


def test_first_public_reply_equals_polars(world: World) -> None:
    tickets = world.same("tickets", set(FIRST_REPLY_COLUMNS), ("first_responder",))
    rows = _by(tickets.unique("ticket_id"), "ticket_id", "first_responder", "public_replies")
    # T2 at 09:10: d2 (Bob); at 09:50 d4 and a comment without id (Ann): 3 agent comments
    assert rows["T2"] == ("Bob", 3)
    assert rows["3.0"] == (None, 1)  # comment e1 (on ticket "3") has no author
    assert rows["T5"] == (None, 0)


def test_comment_reply_waits_equal_polars(world: World) -> None:
    comments = world.same("ticket_comments", set(COMMENT_MEASURES))
    rows = _by(comments, "comment_id", "reply_wait_seconds", "next_reply_wait")
    assert rows["c1"] == (1800.0, False)
    assert rows["c3"] == (3600.0, True)
    assert rows["c4"] == (3300.0, False)  # public empty: public; the previous is c3's
    assert rows["d1"] == (0.0, False)  # d2 at the same instant answers it
    # e1 (agent) and e2 (customer) at one instant: the customer's first, so e1 answers e2
    # after 0 s; nothing public came before e2
    assert rows["e2"] == (0.0, False)


def test_invitation_observed_equals_polars(world: World) -> None:
    invitations = world.same("survey_invitations", {"invitation_observed_seconds"})
    rows = _by(invitations, "invitation_id", "invitation_observed_seconds")
    # export time: the newest sent_at or responded_at = i3's sent_at, 03-03 09:30
    assert rows["i1"] == (86400.0 + 1800.0,)  # from 03-02 09:00: 24.5 h
    assert rows["i2"] == (2 * 86400.0 + 1800.0,)  # from 03-01 09:00: 48.5 h
    assert rows["i3"] == (0.0,)


def test_sentiment_is_scored_on_the_driver_and_joined(world: World) -> None:
    pytest.importorskip("vaderSentiment")
    surveys = world.same("surveys", {"sentiment"})
    scores = _by(surveys, "response_id", "sentiment")
    assert scores["s1"][0] > 0.5 and scores["s3"][0] < -0.3  # VADER: positive, negative
    assert scores["s3"] == scores["s4"]  # one text, one score
    assert scores["s2"] == (None,) and scores["s5"] == (None,)  # blank, missing: not neutral
    messages = world.same("messages", {"sentiment"})
    outbound = _by(messages, "message_id", "sentiment")
    assert outbound["m2"] == (None,) and outbound["m7"] == (None,)  # a brand's reply; unknown
    assert outbound["m1"][0] is not None  # "help", from a customer


ROOT = Path(__file__).resolve().parents[1]
TWCS = ROOT.parent / "shared" / "data" / "twcs_head5000" / "twcs_head5000.csv"


def test_the_sample_operation_equals_polars(tmp_path: Path) -> None:
    """The bundled demo data (20k tickets, 30k calls, 8k surveys): contacts and next contacts
    by every route, and the surveys cut by the rated contact's dimensions."""
    w = _world(ROOT / "configs" / "sample.yaml", ["tickets", "calls", "surveys"], tmp_path)
    contacts = w.same("contacts", set(CONTACT_MEASURES), ("channel", "kind"))
    assert contacts["next_contact_seconds"].drop_nulls().len() > 1000
    w.same("tickets", set(CONTACT_MEASURES))
    w.same("calls", set(CONTACT_MEASURES))
    w.same("surveys", set(), ("agent", "team", "channel", "queue", "priority"))
    w.con.close()


@pytest.mark.skipif(not TWCS.is_file(), reason="../shared/data is not available")
def test_twitter_replies_equal_polars(tmp_path: Path) -> None:
    """5,000 tweets whose reply ids are written as floats ("3.0")."""
    w = _world(ROOT / "configs" / "examples" / "twitter_support.yaml", ["messages"], tmp_path)
    messages = w.same("messages", set(MESSAGE_MEASURES), ("responder",))
    assert messages["reply_seconds"].drop_nulls().len() > 1000
    w.con.close()


def test_status_times_equal_polars(world: World) -> None:
    tickets = world.same("tickets", set(STATUS_TIMES | HISTORY_FACTS))
    rows = _by(
        tickets.unique("ticket_id"),
        "ticket_id",
        "requester_wait_seconds",
        "agent_wait_seconds",
        "history_reopens",
        "history_open",
    )
    # T1 new + open: 600.123455 + 1200.376544 + 900.449999 + 1800.000003 s, summed in µs;
    # pending 09:30:00.5 → 09:45:00.250001; solved, reopened at 10:30, solved again
    assert rows["T1"] == (4_500_950_001 * MICRO, 899_750_001 * MICRO, 1, False)
    # T2: new 09:00:00.1 → hold 09:20:00.3 → open 09:40:00.9 → export 03-03 11:00:00.999999
    open_us = (86_400 + 3600 + 20 * 60) * 10**6 + 99_999  # 25 h 20 min 0.099999 s
    assert rows["T2"] == ((1_200_200_000 + 1_200_600_000 + open_us) * MICRO, 0.0, 0, True)
    assert rows["T5"] == (None, None, None, None)


def test_the_sql_status_groups_are_polars_ones() -> None:
    assert sql_lifecycle.SOLVED == polars_lifecycle.SOLVED
    assert sql_lifecycle.STATUS_GROUPS == polars_lifecycle.GROUPS


def test_many_ties_next_contacts_equal_polars(write: Write, tmp_path: Path) -> None:
    """300 tickets and 300 calls of 12 customers at 6 instants (ties everywhere), calls that
    name tickets at random, NULL customers and answers: the total order decides alike."""
    rng = random.Random(15)
    instants = [f"2026-03-0{d}T0{h}:00:00Z" for d in (2, 3) for h in (8, 9, 9, 7)][:6]

    def customer() -> str:
        return rng.choice(["", *(f"C{i}" for i in range(12))])

    tickets = ["ticket_id,created_at,resolved_at,channel,customer_id"]
    for i in range(300):
        resolved = rng.choice(["", *instants])
        tickets.append(f"T{i},{rng.choice(instants)},{resolved},{rng.choice('abc')},{customer()}")
    calls = ["call_id,queued_at,answered_at,ended_at,customer_id,ticket_id,direction"]
    for i in range(300):
        at = rng.choice(instants)
        linked = rng.choice(["", f"T{rng.randrange(300)}"])
        answered = rng.choice(["", at])
        way = rng.choice(["inbound", "inbound", "outbound"])
        calls.append(f"Q{i},{at},{answered},{rng.choice(['', at])},{customer()},{linked},{way}")
    write("tickets.csv", "\n".join(tickets) + "\n")
    write("calls.csv", "\n".join(calls) + "\n")
    config = write(
        "cscli.yaml", "sources:\n  tickets: {path: tickets.csv}\n  calls: {path: calls.csv}\n"
    )
    w = _world(config, ["tickets", "calls"], tmp_path)
    contacts = w.same("contacts", set(CONTACT_MEASURES), ("channel",))
    assert contacts["next_contact_seconds"].drop_nulls().len() > 100
    w.same("tickets", set(CONTACT_MEASURES))
    w.same("calls", set(CONTACT_MEASURES))
    w.con.close()
