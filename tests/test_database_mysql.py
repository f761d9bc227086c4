"""Database sources against a real MySQL-protocol server (`.ci/mysql` starts a MariaDB and sets
CSCLI_TEST_MYSQL_URI): the report from a table equals the report from the same CSV; a
Fivetran-shaped `ticket` table (DATETIME columns) through the `fivetran_zendesk` preset; the
report period pushed into the SQL as a typed parameter; bad credentials, an unreachable
server and a missing table are one `error:` + `hint:` that never shows the password."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from typer.testing import CliRunner

from cscli.cli import app
from tests.test_database_pushdown import KPIS, PERIOD, ROWS, csv_text
from tests.test_database_sources import CSV

Write = Callable[[str, str], Path]
URI = os.environ.get("CSCLI_TEST_MYSQL_URI", "")

pytestmark = [
    pytest.mark.mysql,
    pytest.mark.skipif(
        not URI, reason="CSCLI_TEST_MYSQL_URI is not set: run under .ci/mysql (a local server)"
    ),
]

FIVETRAN = [
    "CREATE TABLE zd_ticket (id bigint, created_at datetime, updated_at datetime, "
    "status text, priority text, via_channel text, assignee_id bigint, group_id bigint, "
    "requester_id bigint, subject text, _fivetran_deleted boolean, _fivetran_synced datetime)",
    "INSERT INTO zd_ticket VALUES "
    "(101, '2026-01-05 09:00:00', now(), 'solved', 'high', 'email', 7, 1, 500, 'a', false, now()),"
    "(102, '2026-01-05 09:30:00', now(), 'open', 'normal', 'web', 8, 1, 501, 'b', false, now()),"
    "(103, '2026-01-06 12:00:00', now(), 'pending', NULL, 'email', NULL, 2, 502, 'c', false, "
    "now()),"
    "(104, '2026-01-06 13:00:00', now(), 'open', 'low', 'email', 7, 2, 503, 'd', true, now())",
]


def _connect() -> Any:
    import pymysql

    parts = urlsplit(URI)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.lstrip("/"),
        autocommit=True,
    )


@pytest.fixture(scope="module")
def loaded() -> str:
    con = _connect()
    with con.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS ticket_csv, zd_ticket, pushed_text, pushed_typed")
        cur.execute(
            "CREATE TABLE ticket_csv (ticket_id text, created_at text, first_response_at text, "
            "resolved_at text, channel text)"
        )
        lines = [line.split(",") for line in CSV.strip().splitlines()[1:]]
        cur.executemany(
            "INSERT INTO ticket_csv VALUES (%s, %s, %s, %s, %s)",
            [[v or None for v in line] for line in lines],
        )
        for statement in FIVETRAN:
            cur.execute(statement)
        # the pushdown data: as text, and as DATETIME (naive, in the source's zone: UTC)
        cur.execute(
            "CREATE TABLE pushed_text (ticket_id varchar(8), created_at varchar(32), "
            "first_response_at varchar(32), resolved_at varchar(32), channel varchar(8))"
        )
        cur.execute(
            "CREATE TABLE pushed_typed (ticket_id int, created_at datetime, "
            "first_response_at datetime, resolved_at datetime, channel varchar(8))"
        )
        cur.executemany("INSERT INTO pushed_text VALUES (%s, %s, %s, %s, %s)", ROWS)
        naive = [
            [v.replace("T", " ").rstrip("Z") if v and "T" in v else v for v in r] for r in ROWS
        ]
        cur.executemany("INSERT INTO pushed_typed VALUES (%s, %s, %s, %s, %s)", naive)
    con.close()
    return URI


def _json(runner: CliRunner, config: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["report", "-c", str(config), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    assert urlsplit(URI).password not in result.output  # type: ignore[operator]
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_mysql_report_equals_csv_report(
    loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    write("tickets.csv", CSV)
    files = write("files.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    monkeypatch.setenv("CSCLI_MY", loaded)
    db = write(
        "db.yaml",
        "timezone: UTC\nsources:\n  tickets: {database: '${CSCLI_MY}', table: ticket_csv}\n",
    )
    a, b = _json(runner, files, "--by", "channel"), _json(runner, db, "--by", "channel")
    shown = runner.invoke(app, ["validate", "-c", str(db), "-f", "json"])
    assert shown.exit_code == 0, shown.output
    assert "ticket_csv" in shown.output
    assert urlsplit(loaded).password not in shown.output  # type: ignore[operator]
    assert b["rows"] == a["rows"] and b["totals"] == a["totals"]
    assert [(q["issue"], q["rows"]) for q in b["data_quality"]] == [
        (q["issue"], q["rows"]) for q in a["data_quality"]
    ]
    # by hand (as for SQLite): 4 readable tickets, ticket 4's date does not parse
    assert b["totals"]["kpis"]["ticket_volume"] == {"value": 4, "n": 4}


def test_fivetran_ticket_table_with_datetime_columns(
    loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSCLI_MY", loaded)
    cfg = write(
        "db.yaml",
        "timezone: UTC\nsources:\n  tickets: {database_env: CSCLI_MY, table: zd_ticket, "
        "adapter: fivetran_zendesk}\n",
    )
    doc = _json(CliRunner(), cfg, "--by", "channel", "--kpi", "ticket_volume")
    # by hand: 104 is _fivetran_deleted → left out; email: 101, 103; web: 102
    volume = {r["group"]["channel"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}
    assert volume == {"email": 2, "web": 1}
    assert doc["period"] == {"from": "2026-01-05", "to": "2026-01-06", "timezone": "UTC"}


@pytest.mark.parametrize("table", ["pushed_text", "pushed_typed"])
def test_report_period_pushed_into_mysql(
    loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    from datetime import datetime

    from cscli.engine.polars.loader import database

    runner = CliRunner()
    write("tickets.csv", csv_text())
    files = write("files.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    cfg = write(
        "db.yaml", f"timezone: UTC\nsources:\n  tickets: {{database: '{loaded}', table: {table}}}\n"
    )
    sent: list[tuple[str, tuple[object, ...]]] = []
    fetch = database.Reader._fetch

    def spy(self: database.Reader, chosen: list[str], limit: int | None) -> object:
        out = fetch(self, chosen, limit)
        sent.append((self.sent[-1], self.params[-1]))
        return out

    monkeypatch.setattr(database.Reader, "_fetch", spy)
    args = [*PERIOD, *(a for k in KPIS for a in ("--kpi", k))]
    pushed = _json(runner, cfg, *args)
    reads = [(q, p) for q, p in sent if "LIMIT" not in q]
    assert reads
    for query, params in reads:
        if table == "pushed_text":  # text compared as text, with the ISO day before --from
            assert query.endswith(
                " WHERE (CAST(`created_at` AS CHAR) >= %s OR (CAST(`resolved_at` AS CHAR) IS "
                "NULL OR CAST(`resolved_at` AS CHAR) >= %s) OR CAST(`first_response_at` AS CHAR) "
                ">= %s)"
            ), query
            assert params == ("2026-01-12",) * 3
        else:  # DATETIME: a local date-time, a day before 2026-01-13 00:00 UTC
            assert query.endswith(
                " WHERE (`created_at` >= %s OR (`resolved_at` IS NULL OR `resolved_at` >= %s) "
                "OR `first_response_at` >= %s)"
            ), query
            assert params == (datetime(2026, 1, 12),) * 3
    from_file = _json(runner, files, *args)
    assert pushed["totals"] == from_file["totals"] and pushed["rows"] == from_file["rows"]
    assert "since 2026-01-13" in pushed["rows_read"]["tickets"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_password_and_unreachable_server(loaded: str, write: Write) -> None:
    runner = CliRunner()
    parts = urlsplit(loaded)
    wrong = loaded.replace(f":{parts.password}@", ":not-the-Pa55word@")
    down = f"mysql://cscli:not-the-Pa55word@127.0.0.1:{_closed_port()}/support"
    for uri, hint in [(wrong, "user and password"), (down, "is the server running")]:
        cfg = write("db.yaml", f"sources:\n  tickets: {{database: '{uri}', table: ticket_csv}}\n")
        result = runner.invoke(app, ["report", "-c", str(cfg), "--format", "json"])
        assert result.exit_code == 2, result.output
        assert "not-the-Pa55word" not in result.output
        assert "cscli:***@127.0.0.1" in result.output
        assert "error:" in result.output and hint in result.output
        assert "Traceback" not in result.output


def test_missing_table_and_column_on_the_server(loaded: str, write: Write) -> None:
    cfg = write("db.yaml", f"sources:\n  tickets: {{database: '{loaded}', table: no_such}}\n")
    result = CliRunner().invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "table no_such" in result.output and "cscli init --database" in result.output
    assert urlsplit(loaded).password not in result.output  # type: ignore[operator]
    cfg = write(
        "db.yaml",
        f"sources:\n  tickets:\n    database: '{loaded}'\n"
        "    query: SELECT ticket_id, channel FROM ticket_csv\n",
    )
    result = CliRunner().invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "created_at" in result.output and "hint:" in result.output
    assert "Traceback" not in result.output


def test_init_database_on_the_server(loaded: str, tmp_path: Path) -> None:
    runner = CliRunner()
    password = urlsplit(loaded).password
    result = runner.invoke(app, ["init", str(tmp_path), "--database", loaded])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "cscli.yaml").read_text()
    assert password not in text and password not in result.output  # type: ignore[operator]
    assert "${CSCLI_DB_PASSWORD}" in text and "adapter: fivetran_zendesk" in text
    assert 'table: "zd_ticket"' in text


def test_since_on_a_datetime_column(loaded: str, write: Write) -> None:
    cfg = write(
        "db.yaml",
        f"timezone: UTC\nsources:\n  tickets: {{database: '{loaded}', table: pushed_typed, "
        "since: 2026-01-14}\n",
    )
    doc = _json(CliRunner(), cfg, "--kpi", "ticket_volume")
    # created on or after the 14th: 5 (15th) and 6 (20th)
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 2, "n": 2}
    assert doc["period"]["from"] == "2026-01-15"
