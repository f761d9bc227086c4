"""CI and cron habits: `::error`/`::warning` workflow commands under GitHub Actions, the
data-quality findings of `check`, `check -q`, and `--strict-data` on every command that reads
data (with `--strict` on report/validate as its deprecated spelling).

Fixtures are a few CSV lines; the expected lines are written out by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli.cli import app
from cscli.render.annotations import workspace_relative

Write = Callable[[str, str], Path]

# t2's created_at is unreadable: one finding at tickets.csv row 3 (the header is row 1), and
# t2 leaves the KPIs. FRT of t1 30m and t3 2h → median 1h 15m > 1h: the rule fails (exit 1).
TICKETS = """
    ticket_id,created_at,first_response_at
    t1,2026-01-05T09:00:00Z,2026-01-05T09:30:00Z
    t2,not a date,2026-01-05T10:30:00Z
    t3,2026-01-05T11:00:00Z,2026-01-05T13:00:00Z
"""
CONFIG = """
    timezone: UTC
    sources:
      tickets: {path: tickets.csv}
    checks:
      - {kpi: first_response_time, fail: "> 1h"}
"""
FINDING = "tickets: 1 row created_at: cannot read as a date-time (tickets.csv:3): records excluded"


@pytest.fixture(autouse=True)
def _outside_github(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path.parent))


@pytest.fixture
def config(write: Write) -> Path:
    write("tickets.csv", TICKETS)
    return write("cscli.yaml", CONFIG)


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


# --- ::error from the error boundary ------------------------------------------------------


def test_a_config_error_is_also_an_error_annotation(
    write: Write, tmp_path: Path, github: None
) -> None:
    path = write("bad.yaml", "sources:\n  tickets: {path: t.csv, colums: {}}\n")
    code, out, err = run("report", "-c", path)
    assert code == 2 and "::" not in out
    lines = err.splitlines()
    # the plain lines stay; the annotation follows, with the path relative to the workspace
    # (the parent of tmp_path here) and the problem's line and column (2:26, as `error:` says)
    assert (
        lines[0]
        == f"error: {path}:2:26: unknown key 'colums' in sources.tickets (did you mean 'columns'?)"
    )
    assert lines[-1] == (
        f"::error file={tmp_path.name}/bad.yaml,line=2,col=26,title=cscli::unknown key 'colums' "
        "in sources.tickets (did you mean 'columns'?)"
    )


def test_a_data_error_points_at_its_line(write: Write, tmp_path: Path, github: None) -> None:
    data = write("q.csv", 'ticket_id,created_at\nt1,"2026-01-05\nt2,2026-01-05\n')
    path = write("q.yaml", "sources:\n  tickets: {path: q.csv}\n")
    code, _, err = run("report", "-c", path)
    assert code == 2
    assert err.startswith(f"error: {data}: line 2: a quoted field starts here and is never closed")
    # the file relative to the workspace; the line from the message ("line 2")
    assert err.splitlines()[-1].startswith(
        f"::error file={tmp_path.name}/q.csv,line=2,title=cscli::line 2: a quoted field starts"
    )


def test_no_annotation_outside_github_actions(write: Write) -> None:
    path = write("bad.yaml", "sources:\n  tickets: {path: t.csv, colums: {}}\n")
    code, _, err = run("report", "-c", path)
    assert code == 2 and "::error" not in err


def test_paths_outside_the_workspace_stay_as_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    inside = tmp_path / "ws"
    inside.mkdir()
    monkeypatch.setenv("GITHUB_WORKSPACE", str(inside))
    monkeypatch.chdir(inside)
    assert workspace_relative(str(inside / "configs" / "c.yaml")) == "configs/c.yaml"
    elsewhere = str(tmp_path / "other" / "c.yaml")
    assert workspace_relative(elsewhere) == elsewhere


# --- check: data-quality findings ----------------------------------------------------------


def test_check_notes_findings_outside_github_actions(config: Path) -> None:
    code, out, err = run("check", "-c", config)
    assert code == 1
    assert f"data: {FINDING}" in err.splitlines()
    assert "::" not in out + err


def test_check_annotates_findings_under_github_actions(
    config: Path, tmp_path: Path, github: None
) -> None:
    code, out, _ = run("check", "-c", config)
    assert code == 1
    # the github format (the default here) carries them on stdout, before the verdict
    assert out.splitlines()[-2] == (
        f"::warning file={tmp_path.name}/tickets.csv,line=3,"
        f"title=data quality%3A tickets::{FINDING}"
    )


def test_with_json_on_stdout_the_annotations_go_to_stderr(
    config: Path, tmp_path: Path, github: None
) -> None:
    code, out, err = run("check", "-c", config, "-f", "json")
    assert code == 1 and out.startswith("{") and "::" not in out
    assert err.splitlines() == [
        f"::warning file={tmp_path.name}/tickets.csv,line=3,"
        f"title=data quality%3A tickets::{FINDING}"
    ]


def test_check_quiet_prints_nothing_but_keeps_the_exit_code(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "checks.json"
    code, out, err = run("check", "-c", config, "-q", "-f", "json", "-o", target)
    assert (code, out, err) == (1, "", "")
    assert target.read_text(encoding="utf-8").startswith("{")  # the file is still written


def test_check_quiet_still_reports_errors(write: Write) -> None:
    path = write("bad.yaml", "sources:\n  tickets: {path: t.csv, colums: {}}\n")
    code, out, err = run("check", "-c", path, "-q")
    assert code == 2 and out == "" and err.startswith("error: ")


# --- --strict-data and the deprecated --strict ---------------------------------------------


def test_check_strict_data_exits_2_after_the_output(config: Path) -> None:
    code, out, err = run("check", "-c", config, "--strict-data", "-f", "json")
    assert code == 2
    assert out.startswith("{")
    assert "error: --strict-data: 1 data-quality finding(s) on 1 rows" in err


def test_check_strict_is_still_warnings_fail(write: Write) -> None:
    write("tickets.csv", TICKETS)
    path = write("cscli.yaml", CONFIG.replace('fail: "> 1h"', 'warn: "> 1h"'))
    assert run("check", "-c", path)[0] == 0  # a warning passes
    code, _, err = run("check", "-c", path, "--strict")
    assert code == 1 and "deprecated" not in err  # --strict on check: warnings fail, exit 1


@pytest.mark.parametrize("command", ["report", "validate"])
def test_strict_data_on_report_and_validate(config: Path, command: str) -> None:
    code, _, err = run(command, "-c", config, "--strict-data")
    assert code == 2
    assert "error: --strict-data: 1 data-quality finding(s)" in err
    assert "deprecated" not in err
    assert run(command, "-c", config)[0] == 0


@pytest.mark.parametrize("command", ["report", "validate"])
def test_strict_on_report_and_validate_is_a_deprecated_alias(config: Path, command: str) -> None:
    code, _, err = run(command, "-c", config, "--strict")
    assert code == 2
    assert err.startswith(f"warning: --strict on {command} is deprecated: it is now --strict-data")
    assert "error: --strict: 1 data-quality finding(s)" in err
