"""`cscli check`: SLA rules → pass / warn / fail / skipped, exit codes and every output format.

Fixtures are a few CSV lines and a `cscli.yaml` written into `tmp_path`; every expected value is
worked out by hand next to its fixture. Spec: the `checks:` issue (exit codes 0/1/2, `--strict`,
operators and value kinds, `by:`/`where:`/`min_count:`/`name:`, change rules, JSON, JUnit,
GitHub annotations and step summary, Markdown, `--breaches`).
"""

from __future__ import annotations

import csv
import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from cscli import api
from cscli.checks import CheckResult, check_exit_code
from cscli.cli import app
from cscli.errors import ExitCode, worst
from cscli.render.checks import escape_data, escape_property
from tests.conftest import ROOT

Write = Callable[[str, str], Path]
JUNIT_XSD = ROOT / "tests" / "data" / "junit.xsd"


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default format and the step summary depend on these: a CI run must not leak them."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# --- the fixture --------------------------------------------------------------------------

TICKETS = """
    ticket_id,created_at,first_response_at,channel,agent,reopens,agent_replies
    t1,2026-01-05T09:00:00Z,2026-01-05T09:45:00Z,email,ann,0,2
    t2,2026-01-05T10:00:00Z,2026-01-05T11:00:00Z,email,ann,1,4
    t3,2026-01-05T11:00:00Z,2026-01-05T15:00:00Z,chat,bob,0,6
"""
# FRT per ticket: t1 45m (2700 s), t2 1h (3600 s), t3 4h (14400 s)
#   all:   median 3600 (1h), min 2700 (45m), max 14400 (4h); ticket_volume 3
#   email: median (2700+3600)/2 = 3150 (52m 30s), n=2;  chat: 14400 (4h), n=1
# replies = avg(agent_replies) = (2+4+6)/3 = 4
# reopen_share = tickets with reopens > 0: all 1/3; email 1/2 = 50%; chat 0/1 = 0%

# 20 csat responses: r01–r17 score 5, r18–r20 score 2 → CSAT = 17/20 = 85% exactly
SURVEYS = "response_id,responded_at,score,survey_type\n" + "".join(
    f"r{i:02d},2026-01-06T12:{i:02d}:00Z,{5 if i <= 17 else 2},csat\n" for i in range(1, 21)
)

HEAD = """\
timezone: UTC
sources:
  tickets: {path: tickets.csv}
  surveys: {path: surveys.csv}
kpis:
  - ticket_volume
  - first_response_time
  - {id: frt_min, kpi: first_response_time, stat: min}
  - {id: frt_max, kpi: first_response_time, stat: max}
  - csat
  - {id: replies, source: tickets, sql: "avg(agent_replies)", unit: count}
  - {id: reopen_share, source: tickets, type: ratio, numerator: "reopens > 0"}
checks:
"""
FIRST_RULE_LINE = HEAD.count("\n") + 1  # the line of the first rule under `checks:`


def _config(directory: Path, rules: str) -> Path:
    (directory / "tickets.csv").write_text(textwrap.dedent(TICKETS).lstrip(), encoding="utf-8")
    (directory / "surveys.csv").write_text(SURVEYS, encoding="utf-8")
    path = directory / "cscli.yaml"
    body = textwrap.indent(textwrap.dedent(rules).strip("\n"), "  ")
    path.write_text(HEAD + body + "\n", encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Callable[[str], Path]:
    """config(rules) → the path of a cscli.yaml over TICKETS and SURVEYS with these rules."""
    return lambda rules: _config(tmp_path, rules)


def statuses(result: CheckResult) -> dict[tuple[str, str], str]:
    return {(o.check.name, o.group_label): o.status for o in result.outcomes}


def invoke(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


# --- exit codes ---------------------------------------------------------------------------


def test_all_pass_exits_0(runner: CliRunner, config: Callable[[str], Path]) -> None:
    path = config('- {kpi: first_response_time, fail: "> 4h", warn: "> 1h"}')
    code, out, err = invoke(runner, "-c", path)
    assert code == 0, err
    # not a TTY and not GitHub Actions: the table
    assert out.startswith("cscli check  2026-01-05 → 2026-01-05")
    assert "✓ pass" in out
    assert out.rstrip().endswith("PASS: 1 pass (1 rule × group results)")


def test_warn_exits_0_and_1_with_strict(runner: CliRunner, config: Callable[[str], Path]) -> None:
    path = config('- {kpi: first_response_time, fail: "> 4h", warn: ">= 1h"}')
    code, out, _ = invoke(runner, "-c", path)
    assert code == 0
    assert "! warn" in out
    assert "first_response_time is 1h 00m, at or above 1h 00m (warn, n=3)" in out
    code, out, _ = invoke(runner, "-c", path, "--strict")
    assert code == 1
    assert out.rstrip().endswith("WARN: 1 warn (1 rule × group results)")


def test_fail_exits_1_and_fail_outranks_warn(
    runner: CliRunner, config: Callable[[str], Path]
) -> None:
    # both conditions hold: the fail decides
    path = config('- {kpi: first_response_time, fail: ">= 1h", warn: "> 45m"}')
    code, out, _ = invoke(runner, "-c", path, "-f", "json")
    assert code == 1
    (check,) = json.loads(out)["checks"]
    assert (check["status"], check["breached"]) == ("fail", "fail: >= 1h")


def test_config_error_unknown_kpi_exits_2_with_position(
    runner: CliRunner, config: Callable[[str], Path]
) -> None:
    path = config('- {kpi: first_reponse_time, fail: "> 1h"}')
    code, out, err = invoke(runner, "-c", path)
    assert code == 2
    assert out == ""
    assert err.startswith(
        f"error: {path}:{FIRST_RULE_LINE}:11: check needs `kpi:` naming a KPI of the report; "
        "'first_reponse_time' is not one (did you mean 'first_response_time'?)"
    )
    assert "Traceback" not in err


def test_config_error_duration_on_a_ratio_kpi_exits_2(
    runner: CliRunner, config: Callable[[str], Path]
) -> None:
    path = config(
        """
        - {kpi: first_response_time, fail: "> 1h"}
        - {kpi: csat, fail: "> 45m"}
        - {kpi: csat, fial: "< 80%"}
        """
    )
    code, _, err = invoke(runner, "-c", path)
    assert code == 2
    lines = path.read_text().splitlines()
    line = FIRST_RULE_LINE + 1
    col = lines[line - 1].index('"> 45m"') + 1
    # every problem at once, each with file:line:column
    assert err.startswith(f"error: 3 problems in {path}")
    assert f"{path}:{line}:{col}: fail: 45m is a duration but the KPI is measured in ratio" in err
    col = lines[line].index("fial") + 1
    assert f"{path}:{line + 1}:{col}: unknown key 'fial' in a check (did you mean 'fail'?)" in err
    assert "a check needs at least one of fail:, warn:, change:, change_abs:" in err


def test_config_error_percent_on_a_duration_kpi(
    runner: CliRunner, config: Callable[[str], Path]
) -> None:
    path = config('- {kpi: first_response_time, warn: "< 85%"}')
    code, _, err = invoke(runner, "-c", path)
    assert code == 2
    assert "warn: 85% is a percentage but the KPI is measured in seconds" in err


def test_data_error_exits_2(runner: CliRunner, write: Write) -> None:
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: nope.csv}
        checks:
          - {kpi: ticket_volume, fail: "> 100"}
        """,
    )
    code, out, err = invoke(runner, "-c", path)
    assert code == 2
    assert out == ""
    assert err.startswith(
        f"error: file not found: {path.parent / 'nope.csv'} (sources.tickets.path)"
    )
    assert "hint: paths in the config are relative to the config file's directory" in err


def test_no_checks_is_an_error(runner: CliRunner, write: Write) -> None:
    write("tickets.csv", TICKETS)
    path = write("cscli.yaml", "sources:\n  tickets: {path: tickets.csv}\n")
    code, _, err = invoke(runner, "-c", path)
    assert code == 2
    assert "error: no checks to run" in err


def test_check_exit_code_precedence() -> None:
    assert check_exit_code("pass") is ExitCode.OK
    assert check_exit_code("warn") is ExitCode.OK
    assert check_exit_code("warn", strict=True) is ExitCode.CHECK_FAILED
    assert check_exit_code("fail") is ExitCode.CHECK_FAILED
    assert check_exit_code("fail", strict=True) is ExitCode.CHECK_FAILED
    assert check_exit_code("pass", strict=True) is ExitCode.OK


def test_worst_exit_code() -> None:
    assert worst([]) is ExitCode.OK
    assert worst([ExitCode.OK, ExitCode.CHECK_FAILED]) is ExitCode.CHECK_FAILED
    # an error outranks a breach: a breach computed from bad input is not a finding
    assert worst([ExitCode.CHECK_FAILED, ExitCode.ERROR, ExitCode.OK]) is ExitCode.ERROR
    assert [int(c) for c in ExitCode] == [0, 1, 2]


# --- operators and value kinds, each exactly at its threshold ------------------------------

# (kpi, condition, status of a `fail:` rule) — the KPI value equals the threshold every time
BOUNDARY = [
    # first_response_time median = 3600 s exactly
    ("first_response_time", "> 1h", "pass"),
    ("first_response_time", ">= 1h", "fail"),
    ("first_response_time", "< 1h", "pass"),
    ("first_response_time", "<= 1h", "fail"),
    ("first_response_time", "> 60m", "pass"),
    ("first_response_time", ">= 60m", "fail"),
    ("first_response_time", "> 3600", "pass"),  # a plain number, in the KPI's unit (seconds)
    ("first_response_time", ">= 3600", "fail"),
    ("first_response_time", "between 1h and 2h", "fail"),  # bounds are inclusive
    ("first_response_time", "between 30m and 1h", "fail"),
    ("first_response_time", "between 61m and 2h", "pass"),
    ("first_response_time", "not between 1h and 2h", "pass"),
    ("first_response_time", "not between 30m and 1h", "pass"),
    ("first_response_time", "not between 61m and 2h", "fail"),
    # frt_min = 2700 s = 45m, frt_max = 14400 s = 4h
    ("frt_min", "< 45m", "pass"),
    ("frt_min", "<= 45m", "fail"),
    ("frt_max", "> 4h", "pass"),
    ("frt_max", ">= 4h", "fail"),
    # csat = 17/20 = 0.85
    ("csat", "< 85%", "pass"),
    ("csat", "<= 85%", "fail"),
    ("csat", "> 85%", "pass"),
    ("csat", ">= 85%", "fail"),
    ("csat", "< 0.85", "pass"),  # a number on a ratio KPI: the ratio itself
    ("csat", "<= 0.85", "fail"),
    ("csat", "between 85% and 90%", "fail"),
    ("csat", "not between 80% and 85%", "pass"),
    ("csat", "not between 86% and 90%", "fail"),
    # ticket_volume = 3 (a count)
    ("ticket_volume", "> 3", "pass"),
    ("ticket_volume", ">= 3", "fail"),
    ("ticket_volume", "< 3", "pass"),
    ("ticket_volume", "<= 3", "fail"),
    ("ticket_volume", "between 1 and 3", "fail"),
    ("ticket_volume", "not between 3 and 5", "pass"),
    ("ticket_volume", "not between 4 and 5", "fail"),
    # custom KPIs: sql (replies = 4) and type: ratio (reopen_share = 1/3)
    ("replies", "> 4", "pass"),
    ("replies", ">= 4", "fail"),
    ("replies", "between 4 and 5", "fail"),
    ("reopen_share", "> 0.5", "pass"),
    ("reopen_share", "<= 33.4%", "fail"),
    ("reopen_share", "< 33.3%", "pass"),
]


@pytest.fixture(scope="module")
def boundary_result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    """All BOUNDARY rules in one config, evaluated once; rule i is named `b<i>`, and rule
    `w<i>` is the same condition as a `warn:`."""
    rules = []
    for i, (kpi, cond, _) in enumerate(BOUNDARY):
        rules.append(f'- {{name: b{i}, kpi: {kpi}, fail: "{cond}"}}')
        rules.append(f'- {{name: w{i}, kpi: {kpi}, warn: "{cond}"}}')
    path = _config(tmp_path_factory.mktemp("boundary"), "\n".join(rules))
    return api.check(path)


@pytest.mark.parametrize(
    ("i", "kpi", "condition", "expected"),
    [(i, *case) for i, case in enumerate(BOUNDARY)],
    ids=[f"{kpi} {cond}" for kpi, cond, _ in BOUNDARY],
)
def test_condition_at_its_threshold(
    boundary_result: CheckResult, i: int, kpi: str, condition: str, expected: str
) -> None:
    found = statuses(boundary_result)
    assert found[(f"b{i}", "all")] == expected
    assert found[(f"w{i}", "all")] == ("warn" if expected == "fail" else "pass")
    (outcome,) = [o for o in boundary_result.outcomes if o.check.name == f"b{i}"]
    assert outcome.kpi.id == kpi
    if expected == "fail":
        assert outcome.rule == f"fail: {condition}"


def test_boundary_values_are_the_hand_computed_ones(boundary_result: CheckResult) -> None:
    values = {o.kpi.id: o.value for o in boundary_result.outcomes}
    counts = {o.kpi.id: o.n for o in boundary_result.outcomes}
    assert values == {
        "first_response_time": 3600.0,
        "frt_min": 2700.0,
        "frt_max": 14400.0,
        "csat": pytest.approx(0.85),  # 17/20 and 85/100 are the same double
        "ticket_volume": 3,
        "replies": pytest.approx(4.0),
        "reopen_share": pytest.approx(1 / 3),
    }
    assert counts == {
        "first_response_time": 3,
        "frt_min": 3,
        "frt_max": 3,
        "csat": 20,
        "ticket_volume": 3,
        "replies": 3,
        "reopen_share": 3,
    }


def test_failure_messages_say_by_how_much(boundary_result: CheckResult) -> None:
    messages = {o.check.name: o.message for o in boundary_result.outcomes}
    i = BOUNDARY.index(("first_response_time", ">= 1h", "fail"))
    assert messages[f"b{i}"] == "first_response_time is 1h 00m, at or above 1h 00m (fail, n=3)"
    i = BOUNDARY.index(("csat", "between 85% and 90%", "fail"))
    assert messages[f"b{i}"] == "csat is 85.0%, within 85.0% and 90.0% (fail, n=20)"
    i = BOUNDARY.index(("ticket_volume", "not between 4 and 5", "fail"))
    assert messages[f"w{i}"] == "ticket_volume is 3, outside 4 and 5 (warn, n=3)"


# --- by, where, min_count, name, KPIs outside `kpis:` ---------------------------------------


def test_by_judges_every_group(config: Callable[[str], Path]) -> None:
    path = config('- {kpi: first_response_time, by: [channel], fail: "> 1h"}')
    result = api.check(path)
    # email 52m 30s passes, chat 4h fails: one failing group fails the rule
    assert statuses(result) == {
        ("first_response_time by channel", "channel=chat"): "fail",
        ("first_response_time by channel", "channel=email"): "pass",
    }
    assert result.status == "fail"
    values = {o.group_label: (o.value, o.n) for o in result.outcomes}
    assert values == {"channel=chat": (14400.0, 1), "channel=email": (3150.0, 2)}
    (failed,) = [o for o in result.outcomes if o.status == "fail"]
    assert failed.message == (
        "first_response_time for channel=chat is 4h 00m, above 1h 00m (fail, n=1)"
    )


def test_where_restricts_the_groups(config: Callable[[str], Path]) -> None:
    path = config(
        """
        - {name: email only, kpi: first_response_time, by: channel, where: "channel = 'email'",
           fail: "> 1h"}
        - {name: email, kpi: reopen_share, by: [agent, channel], where: "agent = 'ann'",
           fail: ">= 50%"}
        """
    )
    result = api.check(path)
    # chat (4h) would fail, but where: leaves only email (52m 30s)
    assert statuses(result) == {
        ("email only", "channel=email"): "pass",
        ("email", "agent=ann, channel=email"): "fail",  # 1/2 = 50% exactly
    }
    assert result.status == "fail"


def test_min_count_skips_small_groups(config: Callable[[str], Path]) -> None:
    path = config(
        """
        - {name: two, kpi: first_response_time, by: [channel], fail: "> 50m", min_count: 2}
        - {name: three, kpi: first_response_time, fail: "> 50m", min_count: 4}
        """
    )
    result = api.check(path)
    # chat rests on 1 ticket (< 2): skipped, although 4h > 50m; email has exactly 2: judged
    assert statuses(result) == {
        ("two", "channel=chat"): "skipped",
        ("two", "channel=email"): "fail",
        ("three", "all"): "skipped",
    }
    messages = {(o.check.name, o.group_label): o.message for o in result.outcomes}
    assert messages[("two", "channel=chat")] == (
        "first_response_time for channel=chat rests on 1 record(s), fewer than min_count 2"
    )
    # skipped does not fail a run
    assert result.count("skipped") == 2 and result.status == "fail"


def test_name_is_used_everywhere(runner: CliRunner, config: Callable[[str], Path]) -> None:
    path = config('- {name: Email SLA, kpi: first_response_time, fail: "> 4h"}')
    code, out, _ = invoke(runner, "-c", path, "-f", "json")
    assert code == 0
    (check,) = json.loads(out)["checks"]
    assert check["name"] == "Email SLA"
    _, out, _ = invoke(runner, "-c", path, "-f", "junit")
    assert 'classname="Email SLA"' in out
    _, out, _ = invoke(runner, "-c", path)
    assert "Email SLA" in out
    # --rule selects by name or KPI id
    assert invoke(runner, "-c", path, "--rule", "Email SLA")[0] == 0
    assert invoke(runner, "-c", path, "--rule", "first_response_time")[0] == 0
    code, _, err = invoke(runner, "-c", path, "--rule", "csat")
    assert code == 2 and "no check matches csat" in err


def test_default_names(config: Callable[[str], Path]) -> None:
    path = config(
        """
        - {kpi: csat, fail: "< 80%"}
        - {kpi: first_response_time, by: [channel, agent], fail: "> 4h"}
        """
    )
    names = {o.check.name for o in api.check(path).outcomes}
    assert names == {"csat", "first_response_time by channel, agent"}


def test_a_builtin_kpi_outside_the_kpis_list(write: Write) -> None:
    write("tickets.csv", TICKETS)
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        kpis: [ticket_volume]
        checks:
          - {kpi: first_response_time, fail: ">= 1h"}
        """,
    )
    (outcome,) = api.check(path).outcomes
    assert (outcome.status, outcome.value) == ("fail", 3600.0)


def test_where_without_by_is_not_silently_ignored(
    runner: CliRunner, config: Callable[[str], Path]
) -> None:
    path = config('- {kpi: first_response_time, where: "channel = \'chat\'", fail: "> 2h"}')
    code, out, _ = invoke(runner, "-c", path, "-f", "json")
    # either refused as a config error, or applied (chat alone: 4h > 2h fails)
    assert code == 2 or json.loads(out)["checks"][0]["value"] == 14400.0


# --- change rules against the previous window ----------------------------------------------

CHANGE_TICKETS = """
    ticket_id,created_at,first_response_at
    p1,2026-01-02T09:00:00Z,2026-01-02T09:30:00Z
    p2,2026-01-03T09:00:00Z,2026-01-03T10:30:00Z
    c1,2026-01-09T09:00:00Z,2026-01-09T09:30:00Z
    c2,2026-01-10T09:00:00Z,2026-01-10T11:00:00Z
    c3,2026-01-11T09:00:00Z,2026-01-11T10:15:00Z
"""
# --from 2026-01-08 --to 2026-01-14 (7 days); previous window 2026-01-01 … 2026-01-07
#   previous: p1 30m, p2 1h30m → FRT median 1h (3600 s); 2 tickets
#   current:  c1 30m, c2 2h, c3 1h15m → median 1h15m (4500 s); 3 tickets
#   FRT change: relative (4500 − 3600) / 3600 = +25%; absolute +900 s = +15m
#   ticket_volume change: relative (3 − 2) / 2 = +50%; absolute +1


@pytest.fixture
def change_config(write: Write) -> Path:
    write("tickets.csv", CHANGE_TICKETS)
    return write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        kpis: [ticket_volume, first_response_time]
        checks:
          - {name: rel_gt, kpi: first_response_time, change: "> 25%"}
          - {name: rel_ge, kpi: first_response_time, change: ">= 25%"}
          - {name: rel_drop, kpi: first_response_time, change: "< -5%"}
          - {name: abs_gt, kpi: first_response_time, change_abs: "> 15m"}
          - {name: abs_ge, kpi: first_response_time, change_abs: ">= 15m"}
          - {name: vol_rel_gt, kpi: ticket_volume, change: "> 50%"}
          - {name: vol_rel_ge, kpi: ticket_volume, change: ">= 50%"}
          - {name: vol_abs, kpi: ticket_volume, change_abs: "between 1 and 2"}
        """,
    )


def test_change_rules_against_the_previous_window(change_config: Path) -> None:
    result = api.check(change_config, date_from="2026-01-08", date_to="2026-01-14")
    assert {o.check.name: o.status for o in result.outcomes} == {
        "rel_gt": "pass",
        "rel_ge": "fail",
        "rel_drop": "pass",
        "abs_gt": "pass",
        "abs_ge": "fail",
        "vol_rel_gt": "pass",
        "vol_rel_ge": "fail",
        "vol_abs": "fail",
    }
    frt = {o.check.name: o for o in result.outcomes}["rel_ge"]
    assert (frt.value, frt.previous, frt.n) == (4500.0, 3600.0, 3)
    assert frt.rule == "change: >= 25%"
    assert frt.message == (
        "first_response_time moved +25% to 1h 15m from 1h 00m (change >= 25%, n=3)"
    )
    assert result.compare is not None
    assert (str(result.compare.start), str(result.compare.end)) == ("2026-01-01", "2026-01-07")


def test_change_rules_with_last(runner: CliRunner, change_config: Path) -> None:
    code, out, _ = invoke(
        runner, "-c", change_config, "--last", "7d", "--to", "2026-01-14", "-f", "json"
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["period"] == {"from": "2026-01-08", "to": "2026-01-14"}
    vol = next(c for c in doc["checks"] if c["name"] == "vol_rel_ge")
    assert (vol["value"], vol["previous"], vol["status"]) == (3, 2, "fail")


def test_change_rules_need_a_bounded_period(runner: CliRunner, change_config: Path) -> None:
    code, out, err = invoke(runner, "-c", change_config)
    assert code == 2
    assert out == ""
    assert err.startswith(
        "error: change rules (change:, change_abs:) compare with the previous window, "
        "which needs a bounded period"
    )
    assert "hint: give --last 7d, or --from and --to" in err
    # only the rules without change: can run unbounded
    code, _, _ = invoke(runner, "-c", change_config, "--from", "2026-01-08")
    assert code == 2


def test_change_with_a_duration_is_a_config_error(runner: CliRunner, write: Write) -> None:
    write("tickets.csv", CHANGE_TICKETS)
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        checks:
          - {kpi: first_response_time, change: "> 10m"}
        """,
    )
    code, _, err = invoke(runner, "-c", path, "--from", "2026-01-08", "--to", "2026-01-14")
    assert code == 2
    assert f"{path}:4:" in err


# --- JSON ---------------------------------------------------------------------------------


def test_json_shape(runner: CliRunner, config: Callable[[str], Path]) -> None:
    path = config(
        """
        - {kpi: csat, fail: "< 80%", warn: "<= 85%"}
        - {kpi: first_response_time, by: [channel], fail: "> 1h", min_count: 2}
        """
    )
    code, out, _ = invoke(runner, "-c", path, "-f", "json")
    assert code == 0  # a warn and a skipped group: still exit 0
    doc = json.loads(out)
    assert doc["status"] == "warn"
    required = {"kpi", "group", "value", "n", "rule", "status"}
    assert all(required <= set(c) for c in doc["checks"])
    simple = [{k: c[k] for k in sorted(required)} for c in doc["checks"]]
    assert simple == [
        {
            "group": {},
            "kpi": "csat",
            "n": 20,
            "rule": "fail < 80%; warn <= 85%",
            "status": "warn",
            "value": pytest.approx(0.85),
        },
        {
            "group": {"channel": "chat"},
            "kpi": "first_response_time",
            "n": 1,
            "rule": "fail > 1h",
            "status": "skipped",
            "value": 14400.0,
        },
        {
            "group": {"channel": "email"},
            "kpi": "first_response_time",
            "n": 2,
            "rule": "fail > 1h",
            "status": "pass",
            "value": 3150.0,
        },
    ]
    assert doc["checks"][0]["line"] == FIRST_RULE_LINE
    assert doc["checks"][0]["breached"] == "warn: <= 85%"


def test_json_to_a_file(runner: CliRunner, config: Callable[[str], Path], tmp_path: Path) -> None:
    path = config('- {kpi: ticket_volume, fail: ">= 3"}')
    target = tmp_path / "out" / "checks.json"
    target.parent.mkdir()
    code, out, err = invoke(runner, "-c", path, "-f", "json", "-o", target)
    assert code == 1
    assert out == ""
    assert f"wrote {target}" in err
    assert json.loads(target.read_text())["status"] == "fail"


# --- JUnit --------------------------------------------------------------------------------

JUNIT_RULES = """
- {name: frt, kpi: first_response_time, by: [channel], fail: "> 1h"}
- {name: csat, kpi: csat, warn: "<= 85%"}
- {name: small groups, kpi: reopen_share, by: [channel], fail: "> 90%", min_count: 2}
"""
# frt: chat 4h fails, email 52m 30s passes; csat 85% warns; small groups: chat (n=1)
# skipped, email (n=2, 50%) passes → 5 testcases: 1 failure, 1 skipped


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(JUNIT_XSD)


def _junit(runner: CliRunner, path: Path, tmp_path: Path, *extra: str) -> tuple[int, Path]:
    target = tmp_path / "checks.xml"
    code, _, err = invoke(runner, "-c", path, "-f", "junit", "-o", target, *extra)
    assert f"wrote {target}" in err
    return code, target


def test_junit_xsd_is_strict(junit_schema: xmlschema.XMLSchema) -> None:
    """The schema rejects what JUnit consumers reject: it is no `xs:any` catch-all."""
    good = '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
    good += '<testcase name="c" classname="k"/></testsuite></testsuites>'
    assert junit_schema.is_valid(good)
    assert not junit_schema.is_valid(good.replace(' name="c"', ""))  # testcase needs a name
    assert not junit_schema.is_valid(good.replace(' errors="0"', ""))  # suite needs errors
    assert not junit_schema.is_valid(good.replace("<testcase", "<testcas"))
    assert not junit_schema.is_valid(good.replace('classname="k"', 'classname="k" verdict="x"'))


def test_junit_is_valid_against_the_xsd(
    runner: CliRunner,
    config: Callable[[str], Path],
    tmp_path: Path,
    junit_schema: xmlschema.XMLSchema,
) -> None:
    code, target = _junit(runner, config(JUNIT_RULES), tmp_path)
    assert code == 1
    junit_schema.validate(target)


def test_junit_valid_but_for_the_testsuites_skipped_attribute(
    runner: CliRunner,
    config: Callable[[str], Path],
    tmp_path: Path,
    junit_schema: xmlschema.XMLSchema,
) -> None:
    """Pins the only schema violation (see the xfail above): everything else validates."""
    _, target = _junit(runner, config(JUNIT_RULES), tmp_path, "--strict")
    root = ET.parse(target).getroot()
    errors = {e.reason for e in junit_schema.iter_errors(target)}
    assert errors <= {"'skipped' attribute not allowed for element"}
    root.attrib.pop("skipped", None)
    junit_schema.validate(ET.tostring(root, encoding="unicode"))


def test_junit_testcases(runner: CliRunner, config: Callable[[str], Path], tmp_path: Path) -> None:
    code, target = _junit(runner, config(JUNIT_RULES), tmp_path)
    assert code == 1
    root = ET.parse(target).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "cscli check cscli.yaml"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "1", "0")
    assert suite.get("skipped") == "1"
    cases = suite.findall("testcase")
    # one testcase per rule × group; classname is the rule
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("frt", "first_response_time [channel=chat]"),
        ("frt", "first_response_time [channel=email]"),
        ("csat", "csat [all]"),
        ("small groups", "reopen_share [channel=chat]"),
        ("small groups", "reopen_share [channel=email]"),
    ]
    by_name = {(c.get("classname"), c.get("name")): c for c in cases}
    failure = by_name[("frt", "first_response_time [channel=chat]")].find("failure")
    assert failure is not None
    explanation = "first_response_time for channel=chat is 4h 00m, above 1h 00m (fail, n=1)"
    assert failure.get("message") == explanation
    assert failure.get("type") == "fail"
    # the explanation is in the body too: GitLab shows only the body
    body = failure.text or ""
    assert body.splitlines()[0] == explanation
    for line in ("rule: frt (fail > 1h)", "group: channel=chat", "value: 4h 00m (n=1)"):
        assert line in body.splitlines()
    skipped = by_name[("small groups", "reopen_share [channel=chat]")].find("skipped")
    assert skipped is not None
    assert "fewer than min_count 2" in (skipped.get("message") or "")
    warn = by_name[("csat", "csat [all]")]
    assert warn.find("failure") is None
    assert (warn.findtext("system-out") or "").startswith("WARN: csat is 85.0%, at or below")
    passed = by_name[("frt", "first_response_time [channel=email]")]
    assert list(passed) == []


def test_junit_strict_turns_warnings_into_failures(
    runner: CliRunner, config: Callable[[str], Path], tmp_path: Path
) -> None:
    code, target = _junit(runner, config(JUNIT_RULES), tmp_path, "--strict")
    assert code == 1
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"
    csat = suite.find("testcase[@classname='csat']")
    assert csat is not None
    failure = csat.find("failure")
    assert failure is not None and failure.get("type") == "warn"
    assert (failure.text or "").startswith("csat is 85.0%, at or below 85.0% (warn, n=20)")


# --- GitHub Actions -----------------------------------------------------------------------

GITHUB_CONFIG = """\
timezone: UTC
sources:
  tickets: {path: tickets.csv}
  surveys: {path: surveys.csv}
checks:
  - name: "FRT: email, chat (100%)"
    kpi: first_response_time
    by: [channel]
    fail: "> 1h"
  - kpi: csat
    warn: "<= 85%"
  - kpi: ticket_volume
    fail: "> 10"
"""
# the first rule starts on line 6, the csat rule on line 10


@pytest.fixture
def github_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _config(tmp_path, "- {kpi: csat, fail: '< 1%'}")  # the data files
    path = tmp_path / "cscli.yaml"
    path.write_text(GITHUB_CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # annotations name the config relative to the repository
    return Path("cscli.yaml")


GITHUB_ANNOTATIONS = [
    "::error file=cscli.yaml,line=6,title=SLA fail%3A FRT%3A email%2C chat (100%25)"
    "::first_response_time for channel=chat is 4h 00m, above 1h 00m (fail, n=1)",
    "::warning file=cscli.yaml,line=10,title=SLA warn%3A csat"
    "::csat is 85.0%25, at or below 85.0%25 (warn, n=20)",
    "FAIL: 1 fail, 1 warn, 2 pass (4 rule × group results)",
]


def test_github_annotations(runner: CliRunner, github_config: Path) -> None:
    code, out, _ = invoke(runner, "-c", github_config, "-f", "github")
    assert code == 1
    assert out.splitlines() == GITHUB_ANNOTATIONS


def test_github_strict_warning_is_an_error(runner: CliRunner, github_config: Path) -> None:
    code, out, _ = invoke(runner, "-c", github_config, "-f", "github", "--strict")
    assert code == 1
    assert out.splitlines()[1].startswith("::error file=cscli.yaml,line=10,")


def test_github_is_the_default_under_github_actions(
    runner: CliRunner, github_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = invoke(runner, "-c", github_config)
    assert code == 1 and out.startswith("cscli check")  # the table outside Actions
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = invoke(runner, "-c", github_config)
    assert code == 1
    assert out.splitlines() == GITHUB_ANNOTATIONS
    # an explicit format still wins
    _, out, _ = invoke(runner, "-c", github_config, "-f", "json")
    assert json.loads(out)["status"] == "fail"


def test_github_step_summary_is_appended(
    runner: CliRunner, github_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## an earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for _ in range(2):
        code, _, _ = invoke(runner, "-c", github_config, "-f", "github")
        assert code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## an earlier step\n### cscli check: ❌ FAIL\n")
    assert text.count("### cscli check: ❌ FAIL") == 2  # appended, not overwritten
    lines = text.splitlines()
    assert "| status | rule | group | value | n | condition |" in lines
    assert "| ❌ fail | FRT: email, chat (100%) | channel=chat | 4h 00m | 1 | fail: > 1h |" in lines
    assert "- ⚠️ csat is 85.0%, at or below 85.0% (warn, n=20)" in lines


def test_no_step_summary_for_other_formats(
    runner: CliRunner, github_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    invoke(runner, "-c", github_config, "-f", "json")
    assert not summary.exists()


def test_escape_data_and_property() -> None:
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext%3A a%2C b"
    # `%` first, so an escape sequence in the input is not mistaken for one
    assert escape_data("%0A") == "%250A"
    assert escape_property("%3A:") == "%253A%3A"
    assert escape_data("plain") == escape_property("plain") == "plain"


def test_github_escapes_newlines_from_the_data(runner: CliRunner, write: Write) -> None:
    write(
        "tickets.csv",
        "ticket_id,created_at,first_response_at,channel\n"
        't1,2026-01-05T09:00:00Z,2026-01-05T11:00:00Z,"web\r\nform: a, b"\n',
    )
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        checks:
          - {name: "x,y:z", kpi: first_response_time, by: [channel], fail: "> 1h"}
        """,
    )
    code, out, _ = invoke(runner, "-c", path, "-f", "github")
    assert code == 1
    first, verdict = out.splitlines()
    assert first.endswith(
        ",line=4,title=SLA fail%3A x%2Cy%3Az"
        "::first_response_time for channel=web%0D%0Aform: a, b is 2h 00m, above 1h 00m "
        "(fail, n=1)"
    )
    assert verdict == "FAIL: 1 fail (1 rule × group results)"


# --- Markdown -----------------------------------------------------------------------------


def test_markdown(runner: CliRunner, config: Callable[[str], Path]) -> None:
    path = config(
        """
        - {name: "frt | by channel", kpi: first_response_time, by: [channel], fail: "> 1h"}
        - {kpi: csat, fail: "< 80%"}
        """
    )
    code, out, _ = invoke(runner, "-c", path, "-f", "md")
    assert code == 1
    lines = out.splitlines()
    assert lines[2].endswith(" · 1 fail, 2 pass (3 rule × group results)")  # period: see below
    assert lines[:2] + lines[3:] == [
        "### cscli check: ❌ FAIL",
        "",
        "",
        "| status | rule | group | value | n | condition |",
        "| --- | --- | --- | ---: | ---: | --- |",
        "| ❌ fail | frt \\| by channel | channel=chat | 4h 00m | 1 | fail: > 1h |",
        "| ✅ pass | frt \\| by channel | channel=email | 52m 30s | 2 | fail > 1h |",
        "| ✅ pass | csat | all | 85.0% | 20 | fail < 80% |",
        "",
        "- ❌ first_response_time for channel=chat is 4h 00m, above 1h 00m (fail, n=1)",
    ]


def test_period_covers_every_rule(runner: CliRunner, config: Callable[[str], Path]) -> None:
    path = config(
        """
        - {kpi: first_response_time, by: [channel], fail: "> 1h"}
        - {kpi: csat, fail: "< 80%"}
        """
    )
    _, out, _ = invoke(runner, "-c", path, "-f", "json")
    assert json.loads(out)["period"] == {"from": "2026-01-05", "to": "2026-01-06"}


def test_table_to_a_file(runner: CliRunner, config: Callable[[str], Path], tmp_path: Path) -> None:
    path = config('- {kpi: csat, warn: "<= 85%"}')
    target = tmp_path / "checks.txt"
    code, out, _ = invoke(runner, "-c", path, "-f", "table", "-o", target)
    assert code == 0 and out == ""
    text = target.read_text(encoding="utf-8")
    assert "! warn" in text and "csat is 85.0%, at or below 85.0% (warn, n=20)" in text


# --- the records behind a failure ---------------------------------------------------------

BREACH_TICKETS = """
    ticket_id,created_at,first_response_at,channel
    b1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,email
    b2,2026-01-05T09:00:00Z,2026-01-05T09:55:00Z,email
    b3,2026-01-05T09:00:00Z,2026-01-05T11:00:00Z,email
    b4,2026-01-05T09:00:00Z,2026-01-05T09:05:00Z,chat
    b5,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,chat
    b6,2026-01-05T09:00:00Z,2026-01-05T12:00:00Z,chat
    b7,2026-01-05T09:00:00Z,,email
"""
# FRT: email b1 10m, b2 55m, b3 2h (b7 unanswered: no FRT) → median 55m > 50m: email fails
#      chat b4 5m, b5 10m, b6 3h → median 10m: chat passes, although b6 alone is above 50m
# → the breaches of `fail: > 50m` are exactly b2 (3300 s) and b3 (7200 s)
BREACH_SURVEYS = """
    response_id,responded_at,score,survey_type
    s1,2026-01-06T10:00:00Z,5,csat
    s2,2026-01-06T10:00:00Z,4,csat
    s3,2026-01-06T10:00:00Z,3,csat
    s4,2026-01-06T10:00:00Z,1,csat
    s5,2026-01-06T10:00:00Z,5,csat
    s6,2026-01-06T10:00:00Z,2,nps
    s7,2026-01-06T10:00:00Z,7,csat
"""
# CSAT: s1–s5 in scale (s6 is NPS, s7 is off the 1–5 scale) → 3/5 = 60% < 80%: fails
# → its breaches are the unsatisfied responses (score < 4): s3 and s4


def test_breaches_csv(runner: CliRunner, write: Write, tmp_path: Path) -> None:
    write("tickets.csv", BREACH_TICKETS)
    write("surveys.csv", BREACH_SURVEYS)
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
          surveys: {path: surveys.csv}
        checks:
          - {name: frt by channel, kpi: first_response_time, by: [channel], fail: "> 50m"}
          - {kpi: csat, fail: "< 80%"}
          - {kpi: ticket_volume, fail: "> 100", warn: "> 1"}
        """,
    )
    target = tmp_path / "breaches.csv"
    code, _, err = invoke(runner, "-c", path, "-f", "json", "--breaches", target)
    assert code == 1
    assert f"wrote {target} (4 records)" in err
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "check", "kpi", "group", "status", "source", "id", "at", "value",
        "channel", "agent", "team", "queue", "priority", "file", "row",
    ]  # fmt: skip
    # each record carries its own dimensions (the tickets' channel; surveys have none here)
    assert [r["channel"] for r in rows] == ["email", "email", "", ""]
    got = [
        (r["check"], r["group"], r["status"], r["source"], r["id"], r["value"], r["file"], r["row"])
        for r in rows
    ]
    assert got == [
        ("frt by channel", "channel=email", "fail", "tickets", "b2", "3300.0", "tickets.csv", "3"),
        ("frt by channel", "channel=email", "fail", "tickets", "b3", "7200.0", "tickets.csv", "4"),
        # a rate's records carry the value its numerator reads: the score
        ("csat", "all", "fail", "surveys", "s3", "3.0", "surveys.csv", "4"),
        ("csat", "all", "fail", "surveys", "s4", "1.0", "surveys.csv", "5"),
    ]
    assert {r["at"] for r in rows if r["source"] == "surveys"} == {"2026-01-06T10:00:00Z"}
    assert {r["kpi"] for r in rows} == {"first_response_time", "csat"}


def test_breaches_csv_without_failures_has_the_header_only(
    runner: CliRunner, config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = config('- {kpi: csat, fail: "< 80%", warn: "<= 85%"}')
    target = tmp_path / "breaches.csv"
    code, _, err = invoke(runner, "-c", path, "--breaches", target)
    assert code == 0
    assert f"wrote {target} (0 records)" in err
    assert target.read_text().splitlines() == [
        "check,kpi,group,status,source,id,at,value,channel,agent,team,queue,priority,file,row"
    ]
