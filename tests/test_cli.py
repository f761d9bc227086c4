"""Every command through typer's CliRunner: output, exit codes, error format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from cscli import __version__
from cscli.cli import app
from tests.conftest import ROOT

Write = Callable[[str, str], Path]
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def small(write: Write) -> Path:
    write(
        "tickets.csv",
        """
        ticket_id,created_at,first_response_at,resolved_at,channel
        1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email
        2,2026-01-06T09:00:00Z,2026-01-06T09:30:00Z,,chat
        3,2026-01-13T09:00:00Z,,2026-01-13T08:00:00Z,email
        4,not a date,,,email
        """,
    )
    return write("cscli.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"cscli {__version__}\n"


def test_help_lists_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "report" in result.stdout and "kpis" in result.stdout


def test_report_table(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(app, ["report", "-c", str(small), "--width", "100"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "cscli report  2026-01-05 → 2026-01-13 (all data), UTC"
    # 3 readable tickets; FRT median of 600 s and 1800 s = 1200 s = 20m 00s
    assert any(line.split()[:2] == ["Tickets", "3"] for line in lines)
    assert any("First response time" in line and "20m 00s" in line for line in lines)
    # data-quality notes go to stderr, with file and row
    assert "tickets.csv:5" in result.stderr
    assert "resolved_at before created_at (tickets.csv:4)" in result.stderr


def test_report_json_contract(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(
        app, ["report", "-c", str(small), "--by", "channel", "--grain", "week", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["period"] == {"from": "2026-01-05", "to": "2026-01-13", "timezone": "UTC"}
    assert doc["by"] == ["channel"] and doc["grain"] == "week"
    groups = [(r["group"]["channel"], r["group"]["period"]) for r in doc["rows"]]
    # chat has no ticket created in the week of 01-12, but its backlog row is there: ticket 2
    # is still open at the end of that week (backlog is a stock, not a flow)
    assert groups == [
        ("chat", "2026-01-05"),
        ("chat", "2026-01-12"),
        ("email", "2026-01-05"),
        ("email", "2026-01-12"),
    ]
    chat_w2 = doc["rows"][1]["kpis"]
    assert chat_w2["backlog"] == {"value": 1, "n": 1}
    assert chat_w2["ticket_volume"] == {"value": 0, "n": 0}
    assert doc["totals"]["kpis"]["backlog"] == {"value": 1, "n": 1}
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 3, "n": 3}
    # resolution rate: tickets 1 and 3 have resolved_at, 2 does not → 2/3
    assert doc["totals"]["kpis"]["resolution_rate"]["value"] == pytest.approx(2 / 3)
    issues = {q["issue"]: q["rows"] for q in doc["data_quality"]}
    assert issues == {
        "created_at: cannot read as a date-time": 1,
        "resolved_at before created_at": 1,
    }


def test_report_period_and_kpi_selection(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(
        app,
        [
            "report",
            "-c",
            str(small),
            "--from",
            "2026-01-06",
            "--to",
            "2026-01-12",
            "--kpi",
            "ticket_volume",
            "-f",
            "json",
        ],
    )
    doc = json.loads(result.stdout)
    assert [k["id"] for k in doc["kpis"]] == ["ticket_volume"]
    assert doc["totals"]["kpis"] == {"ticket_volume": {"value": 1, "n": 1}}


def test_strict_turns_quality_findings_into_exit_2(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(app, ["report", "-c", str(small), "--strict", "-f", "json"])
    assert result.exit_code == 2
    assert "error: --strict: 2 data-quality finding(s) on 2 rows" in result.stderr


def test_config_error_exit_2_without_traceback(runner: CliRunner, write: Write) -> None:
    path = write("cscli.yaml", "sources:\n  tickets: {path: t.csv, colums: {}}\n")
    result = runner.invoke(app, ["report", "-c", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:2:26: unknown key 'colums'")
    assert "Traceback" not in result.output


def test_missing_input_exit_2_with_hint(runner: CliRunner, write: Write) -> None:
    path = write("cscli.yaml", "sources:\n  tickets: {path: nope.csv}\n")
    result = runner.invoke(app, ["report", "-c", str(path)])
    assert result.exit_code == 2
    assert "error: file not found:" in result.stderr
    assert "hint: paths in the config are relative" in result.stderr


def test_unknown_dimension_and_kpi(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(app, ["report", "-c", str(small), "--by", "chanel"])
    assert result.exit_code == 2
    assert "no source has a dimension called 'chanel' (did you mean 'channel'?)" in result.stderr
    result = runner.invoke(app, ["report", "-c", str(small), "--kpi", "csta"])
    assert result.exit_code == 2
    assert "unknown KPI 'csta' (did you mean 'csat'?)" in result.stderr


def test_usage_error_is_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "--grain", "fortnight"])
    assert result.exit_code == 2


def test_debug_shows_traceback(runner: CliRunner, write: Write) -> None:
    path = write("cscli.yaml", "sources:\n  tickets: {path: nope.csv}\n")
    result = runner.invoke(app, ["--debug", "report", "-c", str(path)])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_unavailable_kpi_is_reported_not_zero(runner: CliRunner, write: Write) -> None:
    write("t.csv", "ticket_id,created_at\n1,2026-01-05T09:00:00Z\n")
    path = write("cscli.yaml", "sources:\n  tickets: {path: t.csv}\n")
    result = runner.invoke(app, ["report", "-c", str(path), "-f", "json"])
    doc = json.loads(result.stdout)
    frt = next(k for k in doc["kpis"] if k["id"] == "first_response_time")
    assert frt["unavailable"] == "tickets has no first_response_at column"
    assert "first_response_time" not in doc["totals"]["kpis"]
    assert "note: first_response_time unavailable" in result.stderr


def test_kpis_command_formats(runner: CliRunner) -> None:
    table = runner.invoke(app, ["kpis", "--width", "160"])
    assert table.exit_code == 0 and "service_level" in table.stdout
    md = runner.invoke(app, ["kpis", "--format", "md"])
    assert md.stdout.startswith("# KPI catalogue")
    doc = json.loads(runner.invoke(app, ["kpis", "--format", "json"]).stdout)
    sl = next(k for k in doc["kpis"] if k["id"] == "service_level")
    assert sl["unit"] == "ratio" and sl["higher_is_better"] is True
    assert {p["name"]: p["default"] for p in sl["params"]} == {
        "threshold": "20s",
        "abandons": "missed",
        "short_abandon": "0s",
    }


DEMO = pytest.mark.skipif(
    not (ROOT / "sample_data" / "tickets.csv").exists(), reason="sample data not generated"
)


@DEMO
def test_demo_report(runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "--demo", "--width", "120"])
    assert result.exit_code == 0, result.output
    for title in ("Tickets", "First response time", "Service level", "CSAT", "NPS"):
        assert title in result.stdout


@DEMO
def test_demo_by_channel_week_json(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["report", "--demo", "--by", "channel", "--grain", "week", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    channels = {r["group"]["channel"] for r in doc["rows"]}
    assert {"email", "chat", "phone", "web", "social"} <= channels
    # grouped counts add up to the total
    total = sum(
        r["kpis"]["ticket_volume"]["value"] for r in doc["rows"] if "ticket_volume" in r["kpis"]
    )
    assert total == doc["totals"]["kpis"]["ticket_volume"]["value"]


@DEMO
def test_demo_with_explicit_config_is_the_same(runner: CliRunner) -> None:
    a = runner.invoke(app, ["report", "--demo", "-f", "json"])
    b = runner.invoke(app, ["report", "-c", str(ROOT / "configs" / "sample.yaml"), "-f", "json"])
    strip = lambda s: {k: v for k, v in json.loads(s).items() if k != "generated_at"}  # noqa: E731
    assert strip(a.stdout) == strip(b.stdout)
