"""The report period pushed into a database source's SQL (SQLite and DuckDB files): the WHERE
and its typed parameters, the rows read, and the report equal, value for value, to the same
report from a CSV and from the whole table; where it cannot be pushed, every row is read and
the source summary says why."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.cli import app
from cscli.engine.base import Plan, ReportPlan, WindowSpec
from cscli.engine.polars.loader import database
from cscli.engine.reads import Reads, Term, needed, with_export_time
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import instantiate

Write = Callable[[str, str], Path]
SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "report.schema.json").read_text())
COLUMNS = ("ticket_id", "created_at", "first_response_at", "resolved_at", "channel")

#: ticket 1 was resolved before the day before --from: no KPI of the report needs it; 2 was
#: created before the period and resolved in it; 3 is still open (the backlog); 4 and 5 were
#: created in the period; 6 after it (the period's end is not pushed: the export time)
ROWS = [
    ("1", "2025-12-20T09:00:00Z", "2025-12-20T10:00:00Z", "2025-12-21T09:00:00Z", "email"),
    ("2", "2025-12-28T09:00:00Z", None, "2026-01-14T09:00:00Z", "chat"),
    ("3", "2026-01-02T09:00:00Z", None, None, "email"),
    ("4", "2026-01-13T09:00:00Z", "2026-01-13T09:30:00Z", "2026-01-13T12:00:00Z", "email"),
    ("5", "2026-01-15T10:00:00Z", "2026-01-15T11:00:00Z", None, "chat"),
    ("6", "2026-01-20T10:00:00Z", None, None, "chat"),
]
KPIS = ("ticket_volume", "resolution_time", "backlog", "first_response_time", "resolution_rate")
PERIOD = ("--from", "2026-01-13", "--to", "2026-01-19")


def csv_text(rows: list[tuple[str | None, ...]] = ROWS) -> str:
    lines = [",".join(COLUMNS), *(",".join(v or "" for v in r) for r in rows)]
    return "\n".join(lines) + "\n"


def _sqlite(path: Path, rows: list[tuple[str | None, ...]] = ROWS) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as con:
        con.execute(f"CREATE TABLE ticket ({', '.join(f'{c} TEXT' for c in COLUMNS)})")
        con.executemany("INSERT INTO ticket VALUES (?, ?, ?, ?, ?)", rows)
    con.close()


def _duckdb(path: Path, stamp: str) -> None:
    """The rows in DuckDB, the times as `stamp` (TIMESTAMPTZ, TIMESTAMP or VARCHAR)."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    typed = ", ".join(f"{c} {stamp if c.endswith('_at') else 'VARCHAR'}" for c in COLUMNS)
    con.execute(f"CREATE TABLE ticket ({typed})")
    for r in ROWS:
        if stamp == "TIMESTAMP":  # naive: the UTC wall time, the source's zone being UTC
            r = tuple(v.rstrip("Z") if v and v.endswith("Z") else v for v in r)
        con.execute("INSERT INTO ticket VALUES (?, ?, ?, ?, ?)", list(r))
    con.close()


class Spy:
    """Every full read (no LIMIT) a database source sends: SQL, parameters, rows."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads: list[tuple[str, tuple[Any, ...], int]] = []
        fetch = database.Reader._fetch

        def spy(reader: database.Reader, chosen: list[str], limit: int | None) -> Any:
            out = fetch(reader, chosen, limit)
            if limit is None:
                self.reads.append((reader.sent[-1], reader.params[-1], out.height))
            return out

        monkeypatch.setattr(database.Reader, "_fetch", spy)


def _json(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _unrestricted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every row read, whatever the plan (the reference run)."""
    monkeypatch.setattr(database.Reader, "restrict", lambda self, reads, timezone: None)


def _config(write: Write, uri: str, extra: str = "") -> Path:
    return write(
        "db.yaml",
        f"timezone: UTC\nsources:\n  tickets:\n    database: '{uri}'\n    table: ticket\n{extra}",
    )


@pytest.mark.parametrize(
    ("kind", "stamp", "where", "value"),
    [
        (
            "sqlite",
            "TEXT",
            'WHERE (CAST("created_at" AS TEXT) >= ? OR (CAST("resolved_at" AS TEXT) IS NULL OR '
            'CAST("resolved_at" AS TEXT) >= ?) OR CAST("first_response_at" AS TEXT) >= ?)',
            "2026-01-12",  # text: the ISO day before --from
        ),
        (
            "duckdb",
            "TIMESTAMPTZ",
            'WHERE ("created_at" >= ? OR ("resolved_at" IS NULL OR "resolved_at" >= ?) '
            'OR "first_response_at" >= ?)',
            datetime(2026, 1, 13, tzinfo=UTC),  # an instant: --from itself
        ),
        (
            "duckdb",
            "TIMESTAMP",
            'WHERE ("created_at" >= ? OR ("resolved_at" IS NULL OR "resolved_at" >= ?) '
            'OR "first_response_at" >= ?)',
            datetime(2026, 1, 12),  # a local date-time: a day early
        ),
        (
            "duckdb",
            "VARCHAR",
            'WHERE (CAST("created_at" AS VARCHAR) >= ? OR (CAST("resolved_at" AS VARCHAR) IS '
            'NULL OR CAST("resolved_at" AS VARCHAR) >= ?) OR CAST("first_response_at" AS VARCHAR) '
            ">= ?)",
            "2026-01-12",
        ),
    ],
)
def test_report_period_is_pushed_into_the_sql(
    write: Write, monkeypatch: pytest.MonkeyPatch, kind: str, stamp: str, where: str, value: Any
) -> None:
    csv = write("tickets.csv", csv_text())
    db = csv.parent / f"support.{kind}"
    _sqlite(db) if kind == "sqlite" else _duckdb(db, stamp)
    cfg = _config(write, f"{kind}:///{db.name}")
    args = [*PERIOD, "--grain", "day", *(a for k in KPIS for a in ("--kpi", k))]
    spy = Spy(monkeypatch)
    pushed = _json(cfg, *args)
    assert spy.reads
    for query, params, height in spy.reads:
        assert query.endswith(where), query
        # the KPIs' anchors, and first_response_at for the export time (the newest stamp)
        assert params == (value, value, value)
        assert height == 5  # ticket 1 is not read: created, answered, resolved in December
    files = write("files.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    from_file = _json(files, *args)
    _unrestricted(monkeypatch)
    whole = _json(cfg, *args)
    for other in (from_file, whole):
        assert pushed["rows"] == other["rows"] and pushed["totals"] == other["totals"]
        assert pushed["period"] == other["period"]
        assert pushed["data_quality"] == other["data_quality"] == []
    assert [r["group"]["period"] for r in pushed["rows"]] == [f"2026-01-{d}" for d in range(13, 20)]
    got = pushed["totals"]["kpis"]
    # by hand: created 13th–19th: tickets 4 and 5
    assert got["ticket_volume"] == {"value": 2, "n": 2}
    # resolved in the period: 2 (28 Dec 09:00 → 14 Jan 09:00 = 17 d = 1,468,800 s) and 4
    # (09:00 → 12:00 = 10,800 s): median (1,468,800 + 10,800) / 2 = 739,800
    assert got["resolution_time"] == {"value": 739800.0, "n": 2}
    # open at the end (20th 00:00): 3 and 5 (2 was resolved the 14th, 6 opened the 20th)
    assert got["backlog"] == {"value": 2, "n": 2}
    # first responses of 4 (30 min) and 5 (1 h): median 2,700 s
    assert got["first_response_time"]["value"] == 2700.0
    # 4 resolved, 5 open: 1 / 2
    assert got["resolution_rate"]["value"] == 0.5
    assert pushed["rows_read"]["tickets"].startswith("rows read: since 2026-01-13 (")
    assert "rows_read" not in whole and "rows_read" not in from_file
    jsonschema.validate(pushed, SCHEMA)  # the JSON contract documents rows_read


def test_compare_reads_from_the_previous_window(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = write("tickets.csv", csv_text()).parent / "support.duckdb"
    _duckdb(db, "TIMESTAMPTZ")
    cfg = _config(write, f"duckdb:///{db.name}")
    args = [*PERIOD, "--compare", "--kpi", "ticket_volume", "--kpi", "resolution_time"]
    spy = Spy(monkeypatch)
    pushed = _json(cfg, *args)
    # the previous 7 days: 6th–12th, so the rows from the 6th on
    start = datetime(2026, 1, 6, tzinfo=UTC)
    assert {p for _, p, _ in spy.reads} == {(start, start, start)}
    # rows read: 2 (resolved the 14th), 4, 5, 6 (created since); not 3 (created the 2nd,
    # never answered, still open: no stock here, and a null resolved_at is not on or after
    # the 6th), nor 1
    assert {h for _, _, h in spy.reads} == {4}
    assert "since 2026-01-06" in pushed["rows_read"]["tickets"]
    _unrestricted(monkeypatch)
    whole = _json(cfg, *args)
    assert pushed["totals"] == whole["totals"]
    # previous window 6th–12th: created there: none; resolved there: none
    assert whole["totals"]["kpis"]["ticket_volume"]["previous"] == 0


def test_the_export_time_is_the_whole_tables(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    db = write("tickets.csv", csv_text()).parent / "support.db"
    # 7 was created in December but resolved on the 22nd: the newest timestamp of all
    late = ("7", "2025-12-01T09:00:00Z", "2025-12-01T10:00:00Z", "2026-01-22T10:00:00Z", "web")
    _sqlite(db, [*ROWS, late])
    cfg = _config(write, f"sqlite:///{db.name}")
    args = ("--from", "2026-01-13", "--to", "2026-01-31", "--kpi", "ticket_volume")
    spy = Spy(monkeypatch)
    pushed = _json(cfg, *args)
    # ticket_volume needs created_at ≥ the 13th only; resolved_at is read for the export time
    assert [h for _, _, h in spy.reads] == [5]  # 2, 4, 5, 6 and 7 (1 and 3 are older)
    _unrestricted(monkeypatch)
    whole = _json(cfg, *args)
    # the data ends the 22nd (7's resolution), before the period's end, in both runs
    assert pushed["data_end"] == whole["data_end"] == {"tickets": "2026-01-22"}
    # created 13th–31st: 4, 5, 6
    assert pushed["totals"] == whole["totals"]
    assert pushed["totals"]["kpis"]["ticket_volume"] == {"value": 3, "n": 3}


def test_a_period_after_the_data_reads_it_whole(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = write("tickets.csv", csv_text()).parent / "support.db"
    _sqlite(db, ROWS[:3])  # 1–3: created before the 3rd; 3 is still open
    cfg = _config(write, f"sqlite:///{db.name}")
    args = ("--from", "2026-01-13", "--to", "2026-01-19", "--grain", "day", "--kpi", "backlog")
    spy = Spy(monkeypatch)
    pushed = _json(cfg, *args)
    # the backlog reads 2 (resolved the 14th) and 3 (open); the newest stamp, 2's resolution,
    # is after the window's start: the export time is the table's, one pass suffices
    assert {h for _, _, h in spy.reads} == {2}
    _sqlite(db, [ROWS[0], ROWS[2]])  # 1 and 3 only: the newest stamp is 2 Jan, before the 13th
    spy.reads.clear()
    pushed = _json(cfg, *args)
    # the bound read 3 alone; its export time (2 Jan) is older than the window: read again,
    # whole, so that the export time (and the days after the data: unknown) are the table's
    assert {("WHERE" in q, h) for q, _, h in spy.reads} == {(True, 1), (False, 2)}
    _unrestricted(monkeypatch)
    whole = _json(cfg, *args)
    assert pushed["rows"] == whole["rows"] and pushed["totals"] == whole["totals"]
    assert pushed["data_end"] == whole["data_end"] == {"tickets": "2026-01-02"}
    assert "rows_read" not in pushed


def test_since_and_the_period_together(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    db = write("tickets.csv", csv_text()).parent / "support.db"
    _sqlite(db)
    cfg = _config(write, f"sqlite:///{db.name}", "    since: 2026-01-14\n")
    spy = Spy(monkeypatch)
    doc = _json(cfg, *PERIOD, "--kpi", "ticket_volume")
    [(query, params, height)] = spy.reads
    assert query.endswith(
        """ WHERE "created_at" >= '2026-01-14' AND (CAST("created_at" AS TEXT) >= ? OR """
        """CAST("first_response_at" AS TEXT) >= ?)"""
    )
    # first_response_at for the export time; resolved_at is not compared: the first rows
    # (since the 14th: 5 and 6) have none, so they cannot tell how it is written
    assert params == ("2026-01-12",) * 2
    # since: wins, being later: 5 and 6 are read, 5 is in the period
    assert height == 2
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 1, "n": 1}


def test_every_row_read_and_why(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    db = write("tickets.csv", csv_text()).parent / "support.db"
    _sqlite(db)
    cfg = _config(write, f"sqlite:///{db.name}")
    spy = Spy(monkeypatch)
    # no --from: nothing to push; --debug says why, on stderr
    result = runner.invoke(app, ["--debug", "report", "-c", str(cfg), "--kpi", "ticket_volume"])
    assert result.exit_code == 0, result.output
    assert "tickets: rows read: all (the report period has no start: no --from)" in result.output
    assert all("WHERE" not in q for q, _, _ in spy.reads)
    quiet = runner.invoke(app, ["report", "-c", str(cfg), "--kpi", "ticket_volume"])
    assert "rows read" not in quiet.output
    # text that is not ISO in the first rows: compared as text it would drop rows
    bad = [*ROWS, ("7", "13/01/2026 09:00", None, None, "email")]
    _sqlite(db, bad)
    shown = runner.invoke(app, ["--debug", "report", "-c", str(cfg), *PERIOD])
    assert "created_at is text whose first rows are not ISO dates" in shown.output
    # validate reads every row (no period) and says so per source
    _sqlite(db)
    checked = runner.invoke(app, ["validate", "-c", str(cfg), "-f", "json"])
    assert checked.exit_code == 0, checked.output
    [source] = json.loads(checked.stdout)["sources"]
    assert source["read"] == "rows read: all (the report period has no start: no --from)"


def _kpi(kpi_id: str, **params: Any) -> Any:
    return instantiate(CATALOG[kpi_id], **params)


def _plan(kpis: tuple[str, ...], *windows: WindowSpec, by: tuple[str, ...] = ()) -> Plan:
    return Plan((ReportPlan(tuple(_kpi(k) for k in kpis), by, windows),), "UTC")


LO = datetime(2026, 1, 13, tzinfo=UTC)
HI = datetime(2026, 1, 20, tzinfo=UTC)


def test_needed_rows_of_a_plan() -> None:
    week, before = WindowSpec(LO, HI), WindowSpec(datetime(2026, 1, 6, tzinfo=UTC), LO)
    # flows by their anchors, from the earliest window's start
    got = needed(_plan(("ticket_volume", "resolution_time"), week, before), "tickets", {"tickets"})
    early = datetime(2026, 1, 6, tzinfo=UTC)
    assert got == Reads((Term("created_at", early), Term("resolved_at", early)))
    # a stock: still open at the start (ended_at = coalesce(resolved_at, closed_at): its
    # stand-in resolved_at ≥ lo or null), or opened since
    got = needed(_plan(("backlog",), week), "tickets", {"tickets"})
    assert got == Reads((Term("resolved_at", LO, nulls=True), Term("created_at", LO)))
    # every row, and why
    cases = [
        (_plan(("ticket_volume",), WindowSpec(None, HI)), "tickets", "no start"),
        (_plan(("ticket_volume",), week), "calls", "no KPI of the report reads it"),
        (_plan(("gave_up_rate",), week), "tickets", "the contacts (gave_up_rate)"),
        (_plan(("full_resolution_time",), week), "ticket_events", "status_times of tickets"),
        (_plan(("occupancy",), week), "agent_states", "reads every interval"),
        (_plan(("backlog",), week, by=("channel",)), "tickets", "backlog by channel lists"),
        (_plan(("message_first_response_time",), week), "messages", "reads replies"),
    ]
    for plan, source, why in cases:
        reads = needed(plan, source, {"tickets", "calls", "ticket_events"})
        assert reads.terms == () and why in reads.why_all, (source, reads)
    # an age at the export time: the export time's columns are compared too, not optionally
    sla = needed(_plan(("sla_attainment",), week), "tickets", {"tickets"})
    assert sla == Reads((Term("created_at", LO),), exact_end=True)
    both = with_export_time(sla, ["created_at", "first_response_at"])
    assert both == Reads((Term("created_at", LO), Term("first_response_at", LO)), exact_end=True)
    flows = with_export_time(Reads((Term("created_at", LO),)), ["created_at", "resolved_at"])
    assert flows == Reads((Term("created_at", LO),), optional=(Term("resolved_at", LO),))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days=st.lists(
        st.tuples(st.integers(0, 40), st.none() | st.integers(0, 30)), min_size=1, max_size=12
    ),
    start=st.integers(0, 40),
    length=st.integers(1, 14),
    grain=st.sampled_from([None, "day", "week"]),
)
def test_pushed_report_equals_the_whole_read(
    tmp_path_factory: pytest.TempPathFactory,
    days: list[tuple[int, int | None]],
    start: int,
    length: int,
    grain: str | None,
) -> None:
    """Whatever the tickets, the period and the grain: the report from the rows pushed down
    equals the report from every row, for flows and a stock, with --compare (the previous
    window, and with a grain the whole earlier buckets)."""
    from datetime import timedelta

    folder = tmp_path_factory.mktemp("push")
    origin = datetime(2026, 1, 1, 9, tzinfo=UTC)

    def iso(t: datetime) -> str:
        return t.isoformat().replace("+00:00", "Z")

    rows: list[tuple[str | None, ...]] = []
    for i, (opened, took) in enumerate(days):
        created = origin + timedelta(days=opened)
        resolved = None if took is None else iso(created + timedelta(days=took, hours=1))
        rows.append((str(i), iso(created), None, resolved, "email"))
    _sqlite(folder / "t.db", rows)
    cfg = folder / "c.yaml"
    cfg.write_text(
        "timezone: UTC\nsources:\n  tickets: {database: 'sqlite:///t.db', table: ticket}\n"
    )
    first = date(2026, 1, 1) + timedelta(days=start)
    last = first + timedelta(days=length - 1)
    args = ["--from", first.isoformat(), "--to", last.isoformat(), "--compare"]
    args += [a for k in ("ticket_volume", "resolution_time", "backlog") for a in ("--kpi", k)]
    args += ["--grain", grain] if grain else []
    pushed = _json(cfg, *args)
    with pytest.MonkeyPatch.context() as mp:
        _unrestricted(mp)
        whole = _json(cfg, *args)
    assert pushed["totals"] == whole["totals"] and pushed["rows"] == whole["rows"]
