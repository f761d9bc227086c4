"""User SQL is checked before polars parses it: no subqueries, no table functions, bounded size,
only the source's columns, and every refusal points at file:line:column (issue #12)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli.cli import app
from cscli.config import load_config
from cscli.engine.polars.compile import sql
from cscli.errors import ConfigError
from cscli.sqlcheck import (
    MAX_SQL_CHARS,
    MAX_SQL_DEPTH,
    MAX_SQL_OPERATORS,
    SqlError,
    check_columns,
    check_sql,
    reads_data,
)

Write = Callable[[str, str], Path]

SECRET = "top-secret-first-line"

ALLOWED = [
    "channel != 'internal'",
    "avg(agent_replies)",
    "reopens > 0 AND status IN ('solved', 'closed')",
    "CASE WHEN priority = 'urgent' THEN 1 ELSE 0 END",
    "TRY_CAST(score AS DOUBLE) >= 4",
    "score::int + 1",
    "EXTRACT(hour FROM created_at) < 9",
    "TRIM(BOTH ' ' FROM agent) = 'ann'",
    "agent IS DISTINCT FROM team",
    "coalesce(team, 'none') ILIKE 'x%'",
    '"Created at" IS NOT NULL',
    "'it''s SELECT FROM read_csv(x)' = subject",  # words inside a string are data
    "count(*)",
]

REFUSED = [
    ("agent IN (SELECT x FROM read_csv('/etc/passwd'))", 10, "SELECT is not allowed"),
    ("read_csv('/etc/passwd') IS NULL", 0, "function 'read_csv' is not allowed"),
    ("agent = \"read_parquet\"('x')", 8, "function 'read_parquet' is not allowed"),
    ("agent IN (VALUES ('a'))", 10, "VALUES is not allowed"),
    ("EXISTS (SELECT 1)", 0, "EXISTS is not allowed"),
    ("agent FROM x", 6, "FROM is not allowed"),
    ("unnest(agent) = 'a'", 0, "function 'unnest' is not allowed"),
    ("agent = 'a'; DROP TABLE t", 11, "';' is not allowed"),
    ("agent = 'a' -- SELECT", 12, "comments are not allowed"),
    ("agent = $1", 8, "placeholders"),
    ("agent = 'a", 8, "unterminated string"),
    ("sum(x) OVER (PARTITION BY agent)", 7, "OVER is not allowed"),
]


@pytest.mark.parametrize("text", ALLOWED)
def test_expressions_over_columns_are_allowed(text: str) -> None:
    assert check_sql(text) is None


@pytest.mark.parametrize(("text", "offset", "message"), REFUSED)
def test_subqueries_table_functions_and_tricks_are_refused(
    text: str, offset: int, message: str
) -> None:
    problem = check_sql(text)
    assert problem is not None
    assert problem.offset == offset and message in problem.message


def test_the_compile_entry_point_refuses_before_polars_reads_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\n1\n")
    with pytest.raises(SqlError) as info:
        sql(f"agent IN (SELECT x FROM read_csv('{secret}'))")
    assert SECRET not in str(info.value)


def test_size_limits() -> None:
    # 10,000 terms: far past the operator limit; polars itself would overflow its stack
    long = " + ".join(["x"] * 10_000)
    problem = check_sql(long)
    assert problem is not None and "characters long" in problem.message
    many = " + ".join(["x"] * (MAX_SQL_OPERATORS + 2))  # MAX + 1 operators
    assert len(many) <= MAX_SQL_CHARS
    problem = check_sql(many)
    assert problem is not None and f"more than {MAX_SQL_OPERATORS} operators" in problem.message
    # the (MAX + 1)-th "+" is at 4 characters per "x + " step: offset 4·MAX + 2
    assert problem.offset == 4 * MAX_SQL_OPERATORS + 2
    assert check_sql(" + ".join(["x"] * (MAX_SQL_OPERATORS + 1))) is None  # exactly MAX
    deep = "(" * (MAX_SQL_DEPTH + 1) + "x" + ")" * (MAX_SQL_DEPTH + 1)
    problem = check_sql(deep)
    assert problem is not None and problem.offset == MAX_SQL_DEPTH  # the (MAX+1)-th "("


def test_columns_are_checked_against_the_source() -> None:
    assert check_columns("agent = 'a' AND reopens > 0", {"agent", "reopens"}) is None
    problem = check_columns("agent = 'a' AND reopen > 0", {"agent", "reopens"}, what="tickets")
    assert problem is not None
    assert problem.offset == 16  # len("agent = 'a' AND ")
    assert problem.message == (
        "unknown column 'reopen' (did you mean 'reopens'?): not a column of tickets"
    )


def test_column_names_in_columns_mapping_are_not_mistaken_for_sql() -> None:
    for name in ("From", "Time (s)", "Values", "Ticket's owner", "Selected option"):
        assert reads_data(name) is None
    problem = reads_data("(SELECT x FROM read_csv('/etc/passwd'))")
    assert problem is not None and problem.offset == 1
    problem = reads_data("read_json('f')")
    assert problem is not None and "read_json" in problem.message


def test_config_refuses_each_place_of_user_sql_with_its_position(
    write: Write, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\n1\n")
    path = write(
        "cscli.yaml",
        f"""
        sources:
          tickets:
            path: t.csv
            filter: "agent IN (SELECT x FROM read_csv('{secret}'))"
            columns: {{agent: "(select 1)", team: "From"}}
        kpis:
          - {{id: a, source: tickets, sql: "avg(agent_replies) + read_parquet('p')"}}
          - {{id: b, source: tickets, type: ratio, numerator: "reopens > 0", where: "agnt = 1"}}
        checks:
          - {{kpi: ticket_volume, fail: "> 1", where: "channel IN (SELECT 1)"}}
          - {{kpi: ticket_volume, fail: "> 1", by: [channel], where: "agent = 'x'"}}
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    got = [str(p) for p in info.value.problems]
    # each column is 1 + the index of the offending word in its (dedented) line: `    filter:
    # "agent IN (` is 23 characters, so SELECT is at column 24; and so on
    assert got == [
        f"{path}:4:24: sources.tickets.filter: SELECT is not allowed: SQL here is an expression"
        " over the source's columns (no subqueries, no tables)",
        f"{path}:5:24: sources.tickets.columns.agent: SELECT is not allowed: SQL here is an"
        " expression over the source's columns (no subqueries, no tables)",
        f"{path}:7:57: KPI 'a' sql: function 'read_parquet' is not allowed: use scalar or"
        " aggregate functions (no table functions such as read_csv)",
        f"{path}:8:77: KPI 'b' where: unknown column 'agnt' (did you mean 'agent'?): not a"
        " column of tickets",
        f"{path}:10:59: where: SELECT is not allowed: SQL here is an expression over the"
        " source's columns (no subqueries, no tables)",
        f"{path}:11:62: where: unknown column 'agent': not a column of the groups",
    ]
    assert all(SECRET not in p for p in got)


def test_the_issue_example_never_prints_the_file(write: Write, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\n1\n")
    write("t.csv", "ticket_id,created_at,agent\n1,2024-01-01T00:00:00,ann\n")
    path = write(
        "cscli.yaml",
        f"""
        sources:
          tickets: {{path: t.csv, filter: "agent IN (SELECT x FROM read_csv('{secret}'))"}}
        """,
    )
    result = CliRunner().invoke(app, ["report", "-c", str(path)])
    assert result.exit_code == 2
    assert SECRET not in result.output
    assert f"{path}:2:45: sources.tickets.filter: SELECT is not allowed" in result.output
    assert "Traceback" not in result.output


def test_a_10000_term_expression_is_a_positioned_config_error(write: Write) -> None:
    path = write(
        "cscli.yaml",
        "sources: {tickets: {path: t.csv}}\n"
        "kpis:\n"
        f'  - {{id: big, source: tickets, sql: "{" + ".join(["reopens"] * 10_000)}"}}\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    [problem] = info.value.problems
    assert problem.line == 3
    assert "characters long; the limit is 5,000" in problem.message


def test_feedback_where_goes_through_the_same_check(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\n1\n")
    result = CliRunner().invoke(
        app,
        ["feedback", "--demo", "--where", f"channel IN (SELECT x FROM read_csv('{secret}'))"],
    )
    assert result.exit_code == 2
    assert "--where: SELECT is not allowed" in result.output
    assert "(at character 13)" in result.output  # len("channel IN (") + 1
    assert SECRET not in result.output
