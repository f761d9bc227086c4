"""The terminal front: -h, shell completion, usage errors as `error:`/`hint:`, tables that fit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli.cli import app
from cscli.render.terminal import _fit
from cscli.units import format_value
from tests.conftest import ROOT

Write = Callable[[str, str], Path]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    "args", [[], ["report"], ["check"], ["validate"], ["init"], ["feedback"], ["kpis"]]
)
def test_dash_h_is_help_everywhere(runner: CliRunner, args: list[str]) -> None:
    short = runner.invoke(app, [*args, "-h"])
    long = runner.invoke(app, [*args, "--help"])
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout
    assert "-h, --help" in short.stdout


def test_shell_completion(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["--help"])
    assert "--install-completion" in shown.stdout and "--show-completion" in shown.stdout
    script = runner.invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0, script.output
    assert "complete" in script.stdout and "_CSCLI_COMPLETE" in script.stdout


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["--bogus"], "No such option: --bogus", "cscli"),
        (["report", "--bogus"], "No such option: --bogus", "cscli report"),
        (
            ["report", "--grain", "fortnight"],
            "Invalid value for '--grain': 'fortnight' is not one of 'day', 'week', 'month', "
            "'quarter', '15m', '30m', 'hour'.",
            "cscli report",
        ),
        (["repot"], "No such command 'repot'. Did you mean 'report'?", "cscli"),
        (["init", "a", "b"], "Got unexpected extra argument(s) (b)", "cscli init"),
        (["report", "--from"], "Option '--from' requires an argument.", "cscli report"),
    ],
)
def test_usage_errors_are_error_and_hint(
    runner: CliRunner, args: list[str], message: str, command: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\nhint: see `{command} --help`\n"
    assert "Usage:" not in result.output


def test_no_arguments_still_prints_the_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert "Usage:" in result.output and "report" in result.output
    assert "error:" not in result.output


# --- tables that fit: no number is cut ------------------------------------------------------

DEMO = pytest.mark.skipif(
    not (ROOT / "sample_data" / "tickets.csv").exists(), reason="sample data not generated"
)


@DEMO
@pytest.mark.parametrize(
    "extra",
    [
        ["--by", "channel"],
        ["--by", "channel", "--show-n"],
        ["--by", "channel", "--grain", "month", "--from", "2026-02-01", "--to", "2026-04-30"],
        ["--by", "channel", "--compare", "--from", "2026-03-01", "--to", "2026-03-31"],
        ["--compare", "--from", "2026-03-01", "--to", "2026-03-31"],
        ["--grain", "week"],
    ],
)
def test_no_number_is_cut_at_80_columns(runner: CliRunner, extra: list[str]) -> None:
    table = runner.invoke(app, ["report", "--demo", "--width", "80", *extra])
    assert table.exit_code == 0, table.output
    assert "…" not in table.stdout.replace("… more rows", "")
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    # every total, as the JSON has it, appears whole (the tickets count is 19,998 in the demo)
    doc = json.loads(runner.invoke(app, ["report", "--demo", "-f", "json", *extra]).stdout)
    units = {k["id"]: k["unit"] for k in doc["kpis"]}
    for kpi, v in doc["totals"]["kpis"].items():
        shown = format_value(v["value"], units[kpi])
        assert re.search(rf"(^|\s){re.escape(shown)}(\*|\s|$)", table.stdout, re.M), (kpi, shown)


@DEMO
def test_a_wide_grouped_table_splits_in_two(runner: CliRunner) -> None:
    table = runner.invoke(app, ["report", "--demo", "--width", "80", "--by", "channel"])
    lines = [line.strip() for line in table.stdout.splitlines()]
    assert "Tickets" in lines and "Tickets (continued, 2/2)" in lines
    assert (
        sum(line.split()[:1] == ["Total"] for line in lines) == 4
    )  # 2 ticket parts, calls, surveys
    assert "19,998" in table.stdout
    wide = runner.invoke(app, ["report", "--demo", "--width", "200", "--by", "channel"])
    assert "continued" not in wide.stdout


def test_fit_splits_by_width() -> None:
    # label column 7 wide, value columns 10 wide: a table of the label and k values is
    # 7 + 10k + 3k (between columns) + 2 (edges) = 9 + 13k cells; in 40 cells k = 2 (35)
    assert _fit(1, [7, 10, 10, 10, 10, 10], 40) == [range(1, 3), range(3, 5), range(5, 6)]
    assert _fit(1, [7, 10, 10], 200) == [range(1, 3)]
    # a value too wide for any table still gets one of its own
    assert _fit(1, [7, 100, 10], 40) == [range(1, 2), range(2, 3)]


# --- column headers: titles or short labels, never ids ----------------------------------------


def test_custom_kpis_are_headed_by_their_label(runner: CliRunner, write: Write) -> None:
    write(
        "tickets.csv",
        """
        ticket_id,created_at,first_response_at,channel,agent_replies
        1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,email,3
        2,2026-01-06T09:00:00Z,2026-01-06T09:30:00Z,chat,1
        """,
    )
    config = write(
        "cscli.yaml",
        """
        timezone: UTC
        sources:
          tickets: {path: tickets.csv}
        kpis:
          - {id: replies_per_ticket, source: tickets, sql: "avg(agent_replies)", unit: count}
          - {id: replies_total, title: All replies, source: tickets, sql: "sum(agent_replies)",
             unit: count}
          - {id: frt_mean, kpi: first_response_time, stat: mean}
        """,
    )
    args = ["report", "-c", str(config), "--by", "channel", "--width", "120"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if line.startswith(" channel"))
    assert re.split(r"\s{2,}", header.strip())[1:] == [
        "Replies per ticket",
        "All replies",
        "FRT (stat=mean)",
    ]
    assert "replies_per_ticket" not in result.stdout and "frt_mean" not in result.stdout
    # email: 3 replies, FRT 10 min; chat: 1 reply, 30 min; mean FRT (600+1800)/2 = 20m 00s
    assert "20m 00s" in result.stdout


# --- cscli kpis: a list when narrow -------------------------------------------------------


def test_kpis_is_a_list_under_100_columns(runner: CliRunner) -> None:
    narrow = runner.invoke(app, ["kpis", "--width", "80"])
    assert narrow.exit_code == 0, narrow.output
    lines = narrow.stdout.splitlines()
    assert "ticket_volume  Tickets" in lines
    at = lines.index("first_response_time  First response time")
    assert lines[at + 1] == "  seconds · lower is better · anchor tickets.created_at"
    assert lines[at + 2].rstrip() == "  parameters: stat=median, hours=calendar"
    # the definition wraps at 80 with a 2-space indent, its words whole
    assert lines[at + 3].startswith("  median of first_response_at − created_at")
    assert all(len(line) <= 80 for line in lines)
    assert "─" not in narrow.stdout  # no table rule
    wide = runner.invoke(app, ["kpis", "--width", "160"])
    assert "─" in wide.stdout and "ticket_volume  Tickets" not in wide.stdout


def test_help_and_completion_import_no_polars() -> None:
    # --help (now listing --install-completion) and the completion script stay polars-free
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cscli.cli import app\n"
        "for args in (['--help'], ['-h'], ['report', '-h'], ['--show-completion', 'zsh']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "print('polars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
