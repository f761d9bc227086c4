"""Database sources against a real PostgreSQL server (`.ci/postgres` starts one and sets
CSCLI_TEST_PG_URI): the report from a table equals the report from the same CSV; a
Fivetran-shaped `ticket` table through the `fivetran_zendesk` preset; bad credentials and an
unreachable server are one `error:` + `hint:` that never shows the password."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from cscli.cli import app
from tests.test_database_pushdown import KPIS, PERIOD, ROWS, csv_text
from tests.test_database_sources import CSV

Write = Callable[[str, str], Path]
URI = os.environ.get("CSCLI_TEST_PG_URI", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not URI, reason="CSCLI_TEST_PG_URI is not set: run under .ci/postgres (a local server)"
    ),
]

FIVETRAN = """
CREATE TABLE zd_ticket (
    id bigint, created_at timestamptz, updated_at timestamptz, status text, priority text,
    via_channel text, assignee_id bigint, group_id bigint, requester_id bigint, subject text,
    _fivetran_deleted boolean, _fivetran_synced timestamptz);
INSERT INTO zd_ticket VALUES
 (101, '2026-01-05 09:00:00+00', now(), 'solved', 'high', 'email', 7, 1, 500, 'a', false, now()),
 (102, '2026-01-05 10:30:00+01', now(), 'open', 'normal', 'web', 8, 1, 501, 'b', false, now()),
 (103, '2026-01-06 12:00:00+00', now(), 'pending', NULL, 'email', NULL, 2, 502, 'c', false, now()),
 (104, '2026-01-06 13:00:00+00', now(), 'open', 'low', 'email', 7, 2, 503, 'd', true, now());
"""


@pytest.fixture(scope="module")
def loaded() -> str:
    import psycopg

    with psycopg.connect(URI, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS ticket_csv, zd_ticket")
        con.execute(
            "CREATE TABLE ticket_csv (ticket_id text, created_at text, first_response_at text, "
            "resolved_at text, channel text)"
        )
        lines = [line.split(",") for line in CSV.strip().splitlines()[1:]]
        with con.cursor() as cur:
            cur.executemany(
                "INSERT INTO ticket_csv VALUES (%s, %s, %s, %s, %s)",
                [[v or None for v in line] for line in lines],
            )
        con.execute(FIVETRAN)
        # the pushdown data: as text, and as timestamptz
        con.execute("DROP TABLE IF EXISTS pushed_text, pushed_typed")
        con.execute(
            "CREATE TABLE pushed_text (ticket_id text, created_at text, first_response_at text, "
            "resolved_at text, channel text)"
        )
        con.execute(
            "CREATE TABLE pushed_typed (ticket_id int, created_at timestamptz, "
            "first_response_at timestamptz, resolved_at timestamptz, channel text)"
        )
        with con.cursor() as cur:
            for table in ("pushed_text", "pushed_typed"):
                cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s)", ROWS)
    return URI


def _json(runner: CliRunner, config: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(app, ["report", "-c", str(config), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    assert urlsplit(URI).password not in result.output  # type: ignore[operator]
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_postgres_report_equals_csv_report(
    loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    write("tickets.csv", CSV)
    files = write("files.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    monkeypatch.setenv("CSCLI_PG", loaded)
    db = write(
        "db.yaml",
        "timezone: UTC\nsources:\n  tickets: {database: '${CSCLI_PG}', table: ticket_csv}\n",
    )
    a, b = _json(runner, files, "--by", "channel"), _json(runner, db, "--by", "channel")
    for fmt in ("json", "table"):  # the sources are named, the password is not
        shown = runner.invoke(app, ["validate", "-c", str(db), "-f", fmt])
        assert shown.exit_code == 0, shown.output
        assert "ticket_csv" in shown.output
        assert urlsplit(loaded).password not in shown.output  # type: ignore[operator]
    assert b["rows"] == a["rows"] and b["totals"] == a["totals"]
    assert [(q["issue"], q["rows"]) for q in b["data_quality"]] == [  # type: ignore[attr-defined]
        (q["issue"], q["rows"])
        for q in a["data_quality"]  # type: ignore[attr-defined]
    ]


def test_fivetran_ticket_table(loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSCLI_PG", loaded)
    cfg = write(
        "db.yaml",
        "timezone: UTC\nsources:\n  tickets: {database_env: CSCLI_PG, table: public.zd_ticket, "
        "adapter: fivetran_zendesk}\n",
    )
    doc = _json(CliRunner(), cfg, "--by", "channel", "--kpi", "ticket_volume")
    # by hand: 104 is _fivetran_deleted → left out; email: 101, 103; web: 102
    volume = {r["group"]["channel"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}  # type: ignore[attr-defined]
    assert volume == {"email": 2, "web": 1}
    # 102 was created at 10:30+01 = 09:30 UTC on 2026-01-05; the period spans 01-05 → 01-06
    assert doc["period"]["from"] == "2026-01-05"  # type: ignore[index]
    assert doc["period"]["to"] == "2026-01-06"  # type: ignore[index]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_password_and_unreachable_server(loaded: str, write: Write) -> None:
    runner = CliRunner()
    parts = urlsplit(loaded)
    wrong = loaded.replace(f":{parts.password}@", ":not-the-Pa55word@")
    down = f"postgresql://cscli:not-the-Pa55word@127.0.0.1:{_closed_port()}/support"
    for uri, hint in [(wrong, "user and password"), (down, "is the server running")]:
        cfg = write("db.yaml", f"sources:\n  tickets: {{database: '{uri}', table: ticket_csv}}\n")
        result = runner.invoke(app, ["report", "-c", str(cfg), "--format", "json"])
        assert result.exit_code == 2, result.output
        assert "not-the-Pa55word" not in result.output
        assert "cscli:***@127.0.0.1" in result.output
        assert "error:" in result.output and hint in result.output
        assert "Traceback" not in result.output


def test_missing_table_on_the_server(loaded: str, write: Write) -> None:
    cfg = write("db.yaml", f"sources:\n  tickets: {{database: '{loaded}', table: no_such}}\n")
    result = CliRunner().invoke(app, ["report", "-c", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "table no_such" in result.output and "hint:" in result.output
    assert urlsplit(loaded).password not in result.output  # type: ignore[operator]


def test_init_database_on_the_server(loaded: str, tmp_path: Path) -> None:
    runner = CliRunner()
    password = urlsplit(loaded).password
    result = runner.invoke(app, ["init", str(tmp_path), "--database", loaded])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "cscli.yaml").read_text()
    assert password not in text and password not in result.output  # type: ignore[operator]
    assert "${CSCLI_DB_PASSWORD}" in text and "adapter: fivetran_zendesk" in text
    assert 'table: "zd_ticket"' in text
    assert 'table: "ticket_csv"' not in text  # both are tickets: the preset's table wins


@pytest.mark.parametrize("table", ["pushed_text", "pushed_typed"])
def test_report_period_pushed_into_postgres(
    loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    from datetime import UTC, datetime

    from cscli.engine.polars.loader import database

    runner = CliRunner()
    write("tickets.csv", csv_text())
    files = write("files.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    monkeypatch.setenv("CSCLI_PG", loaded)
    cfg = write(
        "db.yaml",
        f"timezone: UTC\nsources:\n  tickets: {{database_env: CSCLI_PG, table: {table}}}\n",
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
        if table == "pushed_text":  # text compared byte-wise with the ISO day before --from
            text = 'CAST("{}" AS TEXT) COLLATE "C"'
            assert query.endswith(
                f" WHERE ({text.format('created_at')} >= %s OR ({text.format('resolved_at')} "
                f"IS NULL OR {text.format('resolved_at')} >= %s) OR "
                f"{text.format('first_response_at')} >= %s)"
            ), query
            assert params == ("2026-01-12",) * 3
        else:  # timestamptz: --from itself, an instant
            assert query.endswith(
                ' WHERE ("created_at" >= %s OR ("resolved_at" IS NULL OR "resolved_at" >= %s) '
                'OR "first_response_at" >= %s)'
            ), query
            assert params == (datetime(2026, 1, 13, tzinfo=UTC),) * 3
    from_file = _json(runner, files, *args)
    assert pushed["totals"] == from_file["totals"] and pushed["rows"] == from_file["rows"]
    # as tests/test_database_pushdown.py: created in the period 4 and 5; backlog 3 and 5
    assert pushed["totals"]["kpis"]["ticket_volume"] == {"value": 2, "n": 2}  # type: ignore[index]
    assert pushed["totals"]["kpis"]["backlog"] == {"value": 2, "n": 2}  # type: ignore[index]
    assert "since 2026-01-13" in pushed["rows_read"]["tickets"]  # type: ignore[index]


def test_a_percent_in_a_query_beside_the_pushed_parameters(
    loaded: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSCLI_PG", loaded)
    cfg = write(
        "db.yaml",
        "timezone: UTC\nsources:\n  tickets:\n    database_env: CSCLI_PG\n"
        "    query: \"SELECT * FROM pushed_typed WHERE channel LIKE '%mai%'\"\n",
    )
    doc = _json(CliRunner(), cfg, *PERIOD, "--kpi", "ticket_volume")
    # email tickets created 13th–19th: 4 only (5 is chat)
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 1, "n": 1}  # type: ignore[index]
    assert "rows_read" in doc
