"""The terminal front: -h, shell completion, usage errors as `error:`/`hint:`, tables that fit."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cscli.cli import app


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
            "'quarter'.",
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
