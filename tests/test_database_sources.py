"""Database sources (SQLite and DuckDB files): the report equals the CSV's, the URI's password
is masked everywhere, and a missing table, column or variable is one `error:` + `hint:`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cscli.cli import app

Write = Callable[[str, str], Path]

CSV = """
ticket_id,created_at,first_response_at,resolved_at,channel
1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email
2,2026-01-06T09:00:00Z,2026-01-06T09:30:00Z,,chat
3,2026-01-13T09:00:00Z,,2026-01-13T08:00:00Z,email
4,not a date,,,email
5,2026-01-14T10:00:00Z,2026-01-14T11:00:00Z,2026-01-15T10:00:00Z,
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _databases(csv: Path) -> tuple[Path, Path]:
    """The CSV loaded into a SQLite and a DuckDB file (by DuckDB's own CSV reader, as text)."""
    folder = csv.parent
    duck = folder / "support.duckdb"
    con = duckdb.connect(str(duck))
    con.execute(f"CREATE TABLE ticket AS SELECT * FROM read_csv('{csv}', all_varchar=true)")
    rows = con.execute("SELECT * FROM ticket").fetchall()
    con.close()
    lite = folder / "support.db"
    with sqlite3.connect(lite) as sq:
        sq.execute(
            "CREATE TABLE ticket (ticket_id TEXT, created_at TEXT, first_response_at TEXT, "
            "resolved_at TEXT, channel TEXT)"
        )
        sq.executemany("INSERT INTO ticket VALUES (?, ?, ?, ?, ?)", rows)
    return lite, duck


def _report(runner: CliRunner, config: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(
        app, ["report", "-c", str(config), "--by", "channel", "--format", "json", *extra]
    )
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def _quality(doc: dict[str, object]) -> dict[str, int]:
    return {q["issue"]: q["rows"] for q in doc["data_quality"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_database_report_equals_csv_report(runner: CliRunner, write: Write, kind: str) -> None:
    csv = write("tickets.csv", CSV)
    lite, duck = _databases(csv)
    file_cfg = write("files.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    db = lite if kind == "sqlite" else duck
    db_cfg = write(
        "db.yaml",
        f"timezone: UTC\nsources:\n  tickets: {{database: '{kind}:///{db.name}', table: ticket}}\n",
    )
    from_file, from_db = _report(runner, file_cfg), _report(runner, db_cfg)
    assert from_db["rows"] == from_file["rows"]
    assert from_db["totals"] == from_file["totals"]
    assert from_db["period"] == from_file["period"]
    assert _quality(from_db) == _quality(from_file)
    # by hand: 4 readable tickets (ticket 4's date does not parse), ticket 5 has no channel
    totals = from_db["totals"]["kpis"]  # type: ignore[index]
    assert totals["ticket_volume"] == {"value": 4, "n": 4}
    assert _quality(from_db)["created_at: cannot read as a date-time"] == 1


def test_query_source_is_a_subquery(runner: CliRunner, write: Write) -> None:
    _databases(write("tickets.csv", CSV))
    cfg = write(
        "db.yaml",
        "timezone: UTC\nsources:\n  tickets:\n    database: duckdb:///support.duckdb\n"
        "    query: \"SELECT * FROM ticket WHERE channel = 'email'\"\n",
    )
    doc = _report(runner, cfg)
    # email tickets: 1, 3 (4 does not parse) → 2 readable
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 2, "n": 2}  # type: ignore[index]


def test_password_is_masked_and_env_expanded(
    runner: CliRunner, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSCLI_DB_SECRET", "hunter2secret")
    cfg = write(
        "db.yaml",
        "sources:\n  tickets: {database: 'postgresql://ana:${CSCLI_DB_SECRET}@db.example/x', "
        "table: ticket}\n",
    )
    result = runner.invoke(app, ["report", "-c", str(cfg), "--format", "json"])
    assert result.exit_code == 2
    assert "hunter2secret" not in result.output
    assert "postgresql://ana:***@db.example/x" in result.output
    assert "error:" in result.output and "hint:" in result.output
    assert "Traceback" not in result.output


def test_database_env_names_the_uri(
    runner: CliRunner, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = write("tickets.csv", CSV)
    lite, _ = _databases(csv)
    monkeypatch.setenv("CSCLI_TEST_URI", f"sqlite:///{lite}")
    cfg = write("db.yaml", "sources:\n  tickets: {database_env: CSCLI_TEST_URI, table: ticket}\n")
    doc = _report(runner, cfg)
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 4, "n": 4}  # type: ignore[index]
    monkeypatch.delenv("CSCLI_TEST_URI")
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2
    assert "CSCLI_TEST_URI is not set" in result.output and "hint:" in result.output


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_missing_table_and_column(runner: CliRunner, write: Write, kind: str) -> None:
    csv = write("tickets.csv", CSV)
    lite, duck = _databases(csv)
    db = lite if kind == "sqlite" else duck
    cfg = write(
        "db.yaml", f"sources:\n  tickets: {{database: '{kind}:///{db.name}', table: tickets}}\n"
    )
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "table tickets" in result.output and "hint:" in result.output
    assert "Traceback" not in result.output
    cfg = write(
        "db.yaml",
        f"sources:\n  tickets:\n    database: '{kind}:///{db.name}'\n"
        "    query: SELECT ticket_id, channel FROM ticket\n",
    )
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "created_at" in result.output and "hint:" in result.output


def test_path_and_database_are_exclusive(runner: CliRunner, write: Write) -> None:
    cfg = write(
        "db.yaml", "sources:\n  tickets: {path: t.csv, database: 'sqlite:///x.db', table: t}\n"
    )
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2
    assert "exactly one" in result.output


def test_init_database_proposes_a_config_that_runs(runner: CliRunner, tmp_path: Path) -> None:
    preset = Path(__file__).parent / "data" / "presets" / "fivetran_zendesk" / "ticket.csv"
    duck = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(duck))
    con.execute(f"CREATE TABLE ticket AS SELECT * FROM read_csv('{preset}', all_varchar=true)")
    con.execute("CREATE TABLE audit_log (x INTEGER)")
    con.close()
    out = tmp_path / "conf"
    out.mkdir()
    result = runner.invoke(app, ["init", str(out), "--database", f"duckdb:///{duck}"])
    assert result.exit_code == 0, result.output
    text = (out / "cscli.yaml").read_text()
    assert 'database: "duckdb:///../warehouse.duckdb"' in text
    assert 'table: "ticket"' in text and "adapter: fivetran_zendesk" in text
    assert "audit_log" not in text
    doc = _report(runner, out / "cscli.yaml")
    # by hand: 4 rows, 104 is _fivetran_deleted → 3 tickets; email 101, 103; web 102
    volume = {r["group"]["channel"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}  # type: ignore[attr-defined]
    assert volume == {"email": 2, "web": 1}


def test_a_config_error_does_not_echo_the_password(runner: CliRunner, write: Write) -> None:
    cfg = write("db.yaml", "sources:\n  tickets: {database: 'postgresql://a:pw123zz@h/db'}\n")
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2
    assert "table: or a query:" in result.output and "pw123zz" not in result.output


FLOWS = ("ticket_volume", "first_response_time", "resolution_time", "resolution_rate")


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_since_reads_only_newer_records(runner: CliRunner, write: Write, kind: str) -> None:
    lite, duck = _databases(write("tickets.csv", CSV))
    db = lite if kind == "sqlite" else duck
    head = f"timezone: UTC\nsources:\n  tickets:\n    database: '{kind}:///{db.name}'\n"
    flows = [a for k in FLOWS for a in ("--kpi", k)]
    full_cfg = write("full.yaml", head + "    table: ticket\n")
    since = write("since.yaml", head + "    table: ticket\n    since: 2026-01-13\n")
    full = _report(runner, full_cfg, "--from", "2026-01-13", *flows)
    pushed = _report(runner, since, "--from", "2026-01-13", *flows)
    # the period starts on the 13th: tickets 3 and 5 in both runs, value for value
    assert pushed["totals"] == full["totals"]
    assert pushed["totals"]["kpis"]["ticket_volume"] == {"value": 2, "n": 2}  # type: ignore[index]
    # ticket 5: first response 10:00 → 11:00 = 3600 s, resolved 14th 10:00 → 15th 10:00
    assert pushed["totals"]["kpis"]["resolution_time"] == {"value": 86400.0, "n": 1}  # type: ignore[index]
    assert pushed["rows"] == full["rows"]
    # tickets 1 and 2 are not read; 'not a date' sorts after '2026-01-13' as text, so
    # ticket 4 is read and still counted as unreadable
    assert _quality(pushed)["created_at: cannot read as a date-time"] == 1
    assert "since 2026-01-13" in json.dumps(pushed["data_quality"])
    query = write("query.yaml", head + "    query: SELECT * FROM ticket\n    since: 2026-01-13\n")
    assert _report(runner, query, "--from", "2026-01-13", *flows)["totals"] == full["totals"]
    # a stock is not exact: ticket 2 (opened the 6th, still open) is in the full backlog only
    stock = ("--from", "2026-01-13", "--kpi", "backlog")
    backlog = [_report(runner, c, *stock)["totals"]["kpis"]["backlog"] for c in (full_cfg, since)]  # type: ignore[index]
    assert backlog == [{"value": 1, "n": 1}, {"value": 0, "n": 0}]


def test_since_in_days_counts_back_from_today() -> None:
    from datetime import date

    from cscli.engine.polars.loader.database import since_day

    # 2026-03-01 − 90 days = 2025-12-01 (31 Dec + 31 Jan + 28 Feb = 90)
    assert since_day("90d", "UTC", date(2026, 3, 1)) == "2025-12-01"
    assert since_day("2026-01-01", "UTC") == "2026-01-01"


def test_since_needs_a_database_and_a_day(runner: CliRunner, write: Write) -> None:
    for body, said in [
        ("  tickets: {path: t.csv, since: 2026-01-01}\n", "database source"),
        ("  tickets: {database: 'sqlite:///x.db', table: t, since: last week}\n", "since"),
    ]:
        result = runner.invoke(app, ["report", "-c", str(write("c.yaml", "sources:\n" + body))])
        assert result.exit_code == 2, result.output
        assert said in result.output and "Traceback" not in result.output


def test_since_without_the_anchor_column(runner: CliRunner, write: Write) -> None:
    _databases(write("tickets.csv", CSV))
    cfg = write(
        "db.yaml",
        "sources:\n  tickets:\n    database: duckdb:///support.duckdb\n"
        "    query: SELECT ticket_id, channel FROM ticket\n    since: 90d\n",
    )
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "since: needs the anchor column 'created_at'" in result.output
    assert "hint:" in result.output


WIDE = """
ticket_id,created_at,first_response_at,resolved_at,channel,region,notes,legacy_score
1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email,eu,long text,7
2,2026-01-06T09:00:00Z,2026-01-06T09:30:00Z,,chat,us,,3
3,2026-01-13T09:00:00Z,,2026-01-13T08:00:00Z,email,eu,"a, b",
5,2026-01-14T10:00:00Z,2026-01-14T11:00:00Z,2026-01-15T10:00:00Z,,,x,1
"""


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_projection_selects_only_the_needed_columns(
    runner: CliRunner, write: Write, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cscli.engine.polars.loader import database

    csv = write("tickets.csv", WIDE)
    db = write("wide.db", "") if kind == "sqlite" else csv.parent / "wide.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db)) if kind == "duckdb" else sqlite3.connect(db)
    if kind == "duckdb":
        con.execute(f"CREATE TABLE ticket AS SELECT * FROM read_csv('{csv}', all_varchar=true)")
    else:
        rows = duckdb.sql(f"SELECT * FROM read_csv('{csv}', all_varchar=true)").fetchall()
        con.execute(f"CREATE TABLE ticket ({', '.join(WIDE.split()[0].split(','))})")
        con.executemany(f"INSERT INTO ticket VALUES ({', '.join('?' * 8)})", rows)
        con.commit()
    con.close()
    cfg = write(
        "db.yaml",
        f"timezone: UTC\nsources:\n  tickets:\n    database: '{kind}:///{db.name}'\n"
        "    table: ticket\n    extra_columns: [region]\n",
    )
    sent: list[str] = []
    fetch = database._Reader._fetch

    def spy(self: database._Reader, chosen: list[str], limit: int | None) -> object:
        out = fetch(self, chosen, limit)
        sent.append(self.sent[-1])
        return out

    monkeypatch.setattr(database._Reader, "_fetch", spy)
    args = ["--by", "region", "--kpi", "ticket_volume", "--kpi", "resolution_time"]
    projected = _report(runner, cfg, *args)
    full_reads = [q for q in sent if "LIMIT" not in q]
    assert full_reads, sent
    for query in full_reads:
        assert '"notes"' not in query and '"legacy_score"' not in query, query
    # the --by dimension and the anchor are read (by one query or another: polars runs the
    # report's queries in parallel, each asks for its own columns)
    assert any('"region"' in q for q in full_reads) and all('"created_at"' in q for q in full_reads)
    # the same report with every column read (projection switched off) and from the CSV
    monkeypatch.setattr(database._Reader, "_fetch", fetch)
    call = database._Reader.__call__

    def unprojected(self: database._Reader, with_columns: object, *rest: object) -> object:
        return (f.select(with_columns or f.columns) for f in call(self, None, *rest))  # type: ignore[arg-type]

    monkeypatch.setattr(database._Reader, "__call__", unprojected)
    everything = _report(runner, cfg, *args)
    file_cfg = write(
        "files.yaml",
        "timezone: UTC\nsources:\n  tickets: {path: tickets.csv, extra_columns: [region]}\n",
    )
    from_file = _report(runner, file_cfg, *args)
    for other in (everything, from_file):
        assert projected["rows"] == other["rows"] and projected["totals"] == other["totals"]
        assert _quality(projected) == _quality(other)
    # by hand: eu 1, 3 → 2 tickets; us 2 → 1; no region 5 → 1; resolution: ticket 1 3 h
    # (3 resolves before it opens: excluded), ticket 5 24 h
    volume = {r["group"]["region"]: r["kpis"]["ticket_volume"]["value"] for r in projected["rows"]}  # type: ignore[attr-defined]
    assert volume == {"eu": 2, "us": 1, None: 1}
    assert projected["totals"]["kpis"]["resolution_time"]["value"] == (3 * 3600 + 86400) / 2  # type: ignore[index]


def test_amazon_connect_ctr_table_in_duckdb(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cscli.engine.polars.loader import database

    csv = Path(__file__).parent / "data" / "presets" / "amazon_connect" / "contact_records.csv"
    duck = tmp_path / "connect.duckdb"
    con = duckdb.connect(str(duck))
    # typed columns as DuckDB detects them (timestamps, integers), flattened CTR names
    con.execute(f"CREATE TABLE ctr AS SELECT * FROM read_csv('{csv}')")
    assert "TIMESTAMP" in str(
        con.execute('SELECT typeof("Queue.EnqueueTimestamp") FROM ctr').fetchone()
    )
    con.close()
    sent: list[str] = []
    fetch = database._Reader._fetch

    def spy(self: database._Reader, chosen: list[str], limit: int | None) -> object:
        out = fetch(self, chosen, limit)
        sent.append(self.sent[-1])
        return out

    monkeypatch.setattr(database._Reader, "_fetch", spy)
    kpis = ("call_volume", "abandonment_rate", "average_speed_of_answer", "average_handle_time")
    args = ["report", "--format", "json", *(a for k in kpis for a in ("--kpi", k))]
    docs = []
    for source in (
        f"{{path: '{csv}', adapter: amazon_connect}}",
        "{database: 'duckdb:///connect.duckdb', table: ctr, adapter: amazon_connect}",
        "{database: 'duckdb:///connect.duckdb', table: ctr, adapter: amazon_connect, "
        "since: 2026-03-02}",
    ):
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f"timezone: UTC\nsources:\n  calls: {source}\n")
        result = runner.invoke(app, [*args, "-c", str(cfg)])
        assert result.exit_code == 0, result.output
        docs.append(json.loads(result.stdout))
    from_file, from_db, since = docs
    assert from_db["totals"] == from_file["totals"] == since["totals"]
    got = from_db["totals"]["kpis"]
    # as tests/test_presets.py: 3 INBOUND contacts; 0002 abandoned; answered after 15 s and
    # 30 s → 22.5; handle 300 + 20 + 40 = 360 and 200 + 0 + 30 = 230 → 295
    assert got["call_volume"] == {"value": 3, "n": 3}
    assert got["average_speed_of_answer"]["value"] == 22.5
    assert got["average_handle_time"]["value"] == 295.0
    assert _quality(from_db) == {"Queue.EnqueueTimestamp: missing value (required)": 1}
    # the dotted names are quoted as one identifier each; unmapped CTR fields are not read
    reads = [q for q in sent if "LIMIT" not in q]
    assert reads and all('"Queue.EnqueueTimestamp"' in q for q in reads)
    assert all('"Agent.NumberOfHolds"' not in q and '"Queue.Duration"' not in q for q in reads)
    assert any("WHERE \"Queue.EnqueueTimestamp\" >= '2026-03-02'" in q for q in reads)


def test_mysql_without_a_server_or_a_driver(
    runner: CliRunner, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import sys

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = write(
        "db.yaml",
        f"sources:\n  tickets: {{database: 'mysql://ana:s3cret-pw@127.0.0.1:{port}/x', "
        "table: ticket}\n",
    )
    pytest.importorskip("pymysql")
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "s3cret-pw" not in result.output
    assert f"mysql://ana:***@127.0.0.1:{port}/x table ticket" in result.output
    assert "is the server running" in result.output and "Traceback" not in result.output
    monkeypatch.setitem(sys.modules, "pymysql", None)  # as if the extra were not installed
    result = runner.invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "needs the PyMySQL driver" in result.output
    assert "pip install 'cscli[db]'" in result.output and "s3cret-pw" not in result.output


def test_identifiers_are_quoted_per_database() -> None:
    from cscli.engine.polars.loader.drivers import quote_column, quote_ident

    # MySQL reads "…" as a string: backticks, a backtick doubled; a dotted column stays one
    assert quote_ident("mysql", "zendesk.tick`et") == "`zendesk`.`tick``et`"
    assert quote_column("mysql", "Queue.Name") == "`Queue.Name`"
    assert quote_ident("postgresql", 'zendesk.tick"et') == '"zendesk"."tick""et"'
    assert quote_column("duckdb", "Queue.Name") == '"Queue.Name"'
