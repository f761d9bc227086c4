"""`cscli check` never passes what it did not judge, and can check that the data is recent
(issue #11, "Honest numbers").

- A change rule whose previous value is null (or 0, for a relative change) is `skipped` with
  the reason; a `by:` rule that finds no group shows one skipped row; a run where every
  result is skipped says so in the verdict line (JSON status "skipped").
- `freshness:` rules: the newest record's anchor is at most `max_age` old at the end of
  `--to` (in the config's zone), or now; stale is a fail (`warn_age:` a warn); exactly
  `max_age` old passes. They appear in every output format.

Fixtures are a few CSV lines; every expected age and value is worked out next to them.
"""

from __future__ import annotations

import csv
import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from cscli import api
from cscli.checks import run_checks
from cscli.cli import app
from cscli.config import load_config
from cscli.period import resolve_period
from tests.conftest import ROOT

Write = Callable[[str, str], Path]


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


# --- change rules without a previous value ------------------------------------------------

TICKETS = """
    ticket_id,created_at,first_response_at,channel
    p1,2026-01-03T09:00:00Z,,email
    c1,2026-01-09T09:00:00Z,2026-01-09T09:30:00Z,email
    c2,2026-01-10T09:00:00Z,2026-01-10T11:00:00Z,chat
"""
# --from 2026-01-08 --to 2026-01-14; previous window 2026-01-01 … 2026-01-07
#   ticket_volume: current 2 (c1, c2), previous 1 (p1)
#   first_response_time: current median (30m + 2h) / 2 = 1h 15m (4500 s); previous: p1 has no
#     response → no value (null)
#   by channel: email 30m (n=1), chat 2h (n=1); previous null for both


@pytest.fixture
def change_config(write: Write) -> Path:
    write("tickets.csv", TICKETS)
    return write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        checks:
          - {name: frt_rel, kpi: first_response_time, change: "> 25%"}
          - {name: frt_abs, kpi: first_response_time, change_abs: "> 10m"}
          - {name: frt_by, kpi: first_response_time, by: [channel], change_abs: "> 10m"}
          - {name: frt_fail, kpi: first_response_time, fail: "> 1h", change: "> 25%"}
          - {name: frt_warn, kpi: first_response_time, warn: "> 1h", change: "> 25%"}
          - {name: vol_rel, kpi: ticket_volume, change: "> 150%"}
        """,
    )


def test_a_change_rule_without_a_previous_value_is_skipped(change_config: Path) -> None:
    result = api.check(change_config, date_from="2026-01-08", date_to="2026-01-14")
    found = {(o.check.name, o.group_label): (o.status, o.message) for o in result.outcomes}
    assert found[("frt_rel", "all")] == (
        "skipped",
        "first_response_time is 1h 15m (n=2); change > 25% not judged: the previous window "
        "has no value",
    )
    assert found[("frt_abs", "all")][0] == "skipped"
    assert found[("frt_by", "channel=chat")][0] == "skipped"
    assert found[("frt_by", "channel=email")][0] == "skipped"
    # fail: and warn: are judged all the same: 1h 15m > 1h
    assert found[("frt_fail", "all")][0] == "fail"
    assert found[("frt_warn", "all")][0] == "warn"
    # a previous value that exists is judged: volume 1 → 2 is +100%, not > 150%
    assert found[("vol_rel", "all")][0] == "pass"


ZERO_TICKETS = """
    ticket_id,created_at,reopens
    p1,2026-01-03T09:00:00Z,0
    p2,2026-01-04T09:00:00Z,0
    c1,2026-01-09T09:00:00Z,1
    c2,2026-01-10T09:00:00Z,0
"""
# reopen_share (reopens > 0): previous 0/2 = 0, current 1/2 = 0.5
#   relative change from 0: undefined → skipped; absolute change +0.5 → judged


def test_a_relative_change_from_zero_is_skipped(write: Write) -> None:
    write("tickets.csv", ZERO_TICKETS)
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        kpis:
          - {id: reopen_share, source: tickets, type: ratio, numerator: "reopens > 0"}
        checks:
          - {name: rel, kpi: reopen_share, change: "> 10%"}
          - {name: abs, kpi: reopen_share, change_abs: "> 40%"}
          - {name: both, kpi: reopen_share, change: "> 10%", change_abs: "> 60%"}
        """,
    )
    code, out, _ = invoke("-c", path, "--from", "2026-01-08", "--to", "2026-01-14", "-f", "json")
    assert code == 1  # abs: +50 points > 40 points
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert (checks["rel"]["value"], checks["rel"]["previous"]) == (0.5, 0.0)
    assert checks["rel"]["status"] == "skipped"
    assert checks["rel"]["message"] == (
        "reopen_share is 50.0% (n=2); change > 10% not judged: the previous value is 0, "
        "and a relative change from 0 is undefined"
    )
    assert checks["abs"]["status"] == "fail"
    # change_abs is judged (+50 points is not > 60), change is not: the rule is not a pass
    assert checks["both"]["status"] == "skipped"


def test_a_change_fail_outranks_a_warn(write: Write) -> None:
    write("tickets.csv", ZERO_TICKETS)
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        kpis:
          - {id: reopen_share, source: tickets, type: ratio, numerator: "reopens > 0"}
        checks:
          - {name: r, kpi: reopen_share, warn: "> 40%", change_abs: "> 40%"}
        """,
    )
    (outcome,) = api.check(path, date_from="2026-01-08", date_to="2026-01-14").outcomes
    # 50% is above the warn threshold and +50 points above the change_abs one: a fail
    assert (outcome.status, outcome.rule) == ("fail", "change_abs: > 40%")


# --- by: rules without groups, all skipped ------------------------------------------------


@pytest.fixture
def groupless(write: Write) -> Path:
    write("tickets.csv", TICKETS)
    return write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        checks:
          - {name: phone, kpi: first_response_time, by: [channel], where: "channel = 'phone'",
             fail: "> 1h"}
          - {name: by channel, kpi: first_response_time, by: [channel], fail: "> 1h"}
        """,
    )


def test_a_by_rule_without_groups_shows_one_skipped_row(groupless: Path) -> None:
    # 2026-01-01 … 2026-01-02 has no ticket at all; where: picks no channel in the other
    result = api.check(groupless, date_from="2026-01-01", date_to="2026-01-02")
    found = [(o.check.name, o.group_label, o.status, o.message) for o in result.outcomes]
    assert found == [
        (
            "phone",
            "(no groups)",
            "skipped",
            "first_response_time by channel: no group with records matches where: "
            "channel = 'phone'",
        ),
        (
            "by channel",
            "(no groups)",
            "skipped",
            "first_response_time by channel: no group has records in the period",
        ),
    ]
    assert result.status == "skipped"


def test_an_all_skipped_run_says_so(groupless: Path, tmp_path: Path) -> None:
    period = ("--from", "2026-01-01", "--to", "2026-01-02")
    verdict = (
        "SKIPPED: 2 skipped (2 rule × group results); nothing was checked: every result is skipped"
    )
    code, out, err = invoke("-c", groupless, *period)
    assert code == 0  # exit 0 as documented, but nobody can read it as a pass
    assert out.rstrip().endswith(verdict)
    assert "– first_response_time by channel: no group has records in the period" in out
    assert "(no groups)" in out
    assert "nothing was checked" in err
    code, out, _ = invoke("-c", groupless, *period, "-f", "json")
    assert (code, json.loads(out)["status"]) == (0, "skipped")
    _, out, _ = invoke("-c", groupless, *period, "-f", "github")
    assert out.splitlines() == [verdict]
    _, out, _ = invoke("-c", groupless, *period, "-f", "md")
    assert out.startswith("### cscli check: ⏭️ SKIPPED\n")
    target = tmp_path / "checks.xml"
    invoke("-c", groupless, *period, "-f", "junit", "-o", target)
    suite = ET.parse(target).getroot()[0]
    assert (suite.get("tests"), suite.get("skipped"), suite.get("failures")) == ("2", "2", "0")


def test_a_run_with_one_result_judged_is_not_all_skipped(groupless: Path) -> None:
    # 2026-01-08 … 2026-01-14: by channel judges email (30m) and chat (2h, fails)
    result = api.check(groupless, date_from="2026-01-08", date_to="2026-01-14")
    assert result.status == "fail" and not result.all_skipped


# --- freshness ----------------------------------------------------------------------------

FRESH = """
    ticket_id,created_at,first_response_at,channel
    t1,2026-01-08T09:00:00Z,2026-01-08T09:30:00Z,email
    t2,2026-01-09T23:30:00Z,2026-01-10T01:00:00Z,chat
    t3,2026-01-10T12:00:00Z,,email
    t4,2026-01-12T08:00:00Z,2026-01-12T08:10:00Z,email
"""
CALLS = """
    call_id,queued_at,answered_at
    k1,2026-01-10T20:00:00Z,2026-01-10T20:00:10Z
"""
# --to 2026-01-10 in UTC: the reference is 2026-01-11 00:00Z; t4 comes later and is left out.
#   tickets: newest created_at t3 2026-01-10 12:00Z → 12h (43200 s) old, n=3 (t1, t2, t3)
#   calls:   newest queued_at k1 2026-01-10 20:00Z → 4h (14400 s) old, n=1


def _fresh(write: Write, rules: str, timezone: str = "UTC") -> Path:
    """A config over FRESH and CALLS whose rules start on line 6."""
    write("tickets.csv", FRESH)
    write("calls.csv", CALLS)
    body = "".join(f"  {line}\n" for line in textwrap.dedent(rules).strip().splitlines())
    path = write("cscli.yaml", "")
    path.write_text(
        f"timezone: {timezone}\n"
        "sources:\n"
        "  tickets: {path: tickets.csv}\n"
        "  calls: {path: calls.csv}\n"
        "checks:\n" + body,
        encoding="utf-8",
    )
    return path


def test_freshness_exactly_at_the_limit(write: Write) -> None:
    path = _fresh(
        write,
        """
        - {name: at, freshness: tickets, max_age: 12h}
        - {name: over, freshness: tickets, max_age: 43199}
        - {name: half day, freshness: tickets, max_age: 0.5d}
        - {name: compound, freshness: tickets, max_age: 11h 59m 59s}
        - {name: warn, freshness: tickets, max_age: 1d, warn_age: 11h}
        - {name: warn at, freshness: tickets, max_age: 1d, warn_age: 720m}
        - {name: warn only, freshness: calls, warn_age: 3.9h}
        """,
    )
    result = api.check(path, date_to="2026-01-10")
    found = {o.check.name: (o.status, o.value, o.n) for o in result.outcomes}
    assert found == {
        "at": ("pass", 43200.0, 3),  # exactly 12h: at most that old
        "over": ("fail", 43200.0, 3),  # 43200 s > 43199 s
        "half day": ("pass", 43200.0, 3),  # 0.5d = 43200 s exactly
        "compound": ("fail", 43200.0, 3),
        "warn": ("warn", 43200.0, 3),
        "warn at": ("pass", 43200.0, 3),
        "warn only": ("warn", 14400.0, 1),  # 4h > 3.9h (14040 s)
    }
    messages = {o.check.name: (o.rule, o.message) for o in result.outcomes}
    assert messages["at"] == (
        "",
        "tickets: the newest created_at (2026-01-10 12:00+00:00) is 12h 00m old at the end of "
        "2026-01-10 (n=3)",
    )
    assert messages["over"] == (
        "max_age: 43199",
        "tickets: the newest created_at (2026-01-10 12:00+00:00) is 12h 00m old at the end of "
        "2026-01-10, older than max_age 43199 (fail, n=3)",
    )
    assert messages["warn only"][0] == "warn_age: 3.9h"
    assert result.status == "fail"


def test_freshness_days_end_in_the_config_zone(write: Write) -> None:
    # Europe/Berlin is UTC+1 in January: 2026-01-10 ends at 2026-01-10 23:00Z, so t3 (12:00Z)
    # is 11h old and k1 (20:00Z) 3h; the stamps are shown in the zone
    path = _fresh(
        write,
        """
        - {name: a, freshness: tickets, max_age: 11h}
        - {name: b, freshness: tickets, max_age: 10h 59m}
        - {name: c, freshness: calls, max_age: 3h}
        """,
        timezone="Europe/Berlin",
    )
    result = api.check(path, date_to="2026-01-10")
    found = {o.check.name: (o.status, o.value) for o in result.outcomes}
    assert found == {"a": ("pass", 39600.0), "b": ("fail", 39600.0), "c": ("pass", 10800.0)}
    (a,) = [o for o in result.outcomes if o.check.name == "a"]
    assert a.message == (
        "tickets: the newest created_at (2026-01-10 13:00+01:00) is 11h 00m old at the end of "
        "2026-01-10 (n=3)"
    )


def test_freshness_with_last_ends_on_to(write: Write) -> None:
    path = _fresh(write, "- {freshness: tickets, max_age: 12h}")
    (o,) = api.check(path, last="7d", date_to="2026-01-10").outcomes
    assert (o.status, o.value) == ("pass", 43200.0)


def test_freshness_without_to_is_measured_now(write: Write) -> None:
    path = _fresh(write, "- {freshness: tickets, max_age: 1d}")
    config = load_config(path)
    unbounded = resolve_period(None, None, None, "UTC")
    # now = t4's stamp: t4 counts (at or before now), it is 0 s old
    now = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    (o,) = run_checks(config, unbounded, now=now).outcomes
    assert (o.status, o.value, o.n) == ("pass", 0.0, 4)
    assert o.message.endswith("is 0s old at now (2026-01-12 08:00+00:00) (n=4)")
    # one second earlier t4 is in the future: t3 (2026-01-10 12:00) is 1d 19h 59m 59s old
    now = datetime(2026, 1, 12, 7, 59, 59, tzinfo=UTC)
    (o,) = run_checks(config, unbounded, now=now).outcomes
    assert (o.status, o.value, o.n) == ("fail", 1 * 86400 + 19 * 3600 + 59 * 60 + 59, 3)
    # --to today (or later) is measured now, not at the end of the day, which is to come
    today = resolve_period(None, "2026-01-12", "3d", "UTC")
    (o,) = run_checks(config, today, now=datetime(2026, 1, 12, 9, 0, tzinfo=UTC)).outcomes
    assert (o.status, o.value) == ("pass", 3600.0)  # t4 at 08:00, one hour before now


def test_freshness_of_a_source_without_records(write: Write) -> None:
    path = _fresh(write, "- {freshness: tickets, max_age: 30d}")
    # every ticket is after the end of 2026-01-07
    (o,) = api.check(path, date_to="2026-01-07").outcomes
    assert (o.status, o.value, o.n) == ("fail", None, 0)
    assert o.message == (
        "tickets has no record before the end of 2026-01-07: its 4 record(s) are all later "
        "(by created_at)"
    )
    write("tickets.csv", "ticket_id,created_at\n")
    (o,) = api.check(path, date_to="2026-01-07").outcomes
    assert (o.status, o.n) == ("fail", 0)
    assert o.message == (
        "tickets has no records with a created_at: the source is empty or every row is "
        "unusable (see data_quality)"
    )


def test_freshness_counts_unusable_rows_in_data_quality(write: Write) -> None:
    # t2's stamp cannot be read: it is not the newest record, and it is reported, not dropped
    write("tickets.csv", "ticket_id,created_at\nt1,2026-01-10T12:00:00Z\nt2,soon\n")
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        checks:
          - {freshness: tickets, max_age: 1d}
        """,
    )
    code, out, _ = invoke("-c", path, "--to", "2026-01-10", "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert [(c["status"], c["value"], c["n"]) for c in doc["checks"]] == [("pass", 43200.0, 1)]
    assert [(q["source"], q["rows"]) for q in doc["data_quality"]] == [("tickets", 1)]
    assert "created_at" in doc["data_quality"][0]["issue"]


FORMAT_RULES = """
- {freshness: tickets, max_age: 6h}
- {name: calls fresh, freshness: calls, max_age: 1d, warn_age: 2h}
- {kpi: first_response_time, fail: "> 4h"}
"""
# --to 2026-01-10: tickets 12h old > 6h → fail; calls 4h old: ≤ 1d, > 2h → warn;
# FRT of t1 30m, t2 1h 30m (t3 unanswered) → median 1h → pass. Rules on lines 6, 7, 8.


def test_freshness_in_every_format(write: Write, tmp_path: Path) -> None:
    path = _fresh(write, FORMAT_RULES)
    to = ("--to", "2026-01-10")
    tickets = (
        "tickets: the newest created_at (2026-01-10 12:00+00:00) is 12h 00m old at the end of "
        "2026-01-10, older than max_age 6h (fail, n=3)"
    )
    calls = (
        "calls: the newest queued_at (2026-01-10 20:00+00:00) is 4h 00m old at the end of "
        "2026-01-10, older than warn_age 2h (warn, n=1)"
    )

    code, out, err = invoke("-c", path, *to)
    assert code == 1, err
    rows = [line.split() for line in out.splitlines()]
    assert ["✗", "fail", "tickets", "freshness", "all", "12h", "00m", "3", "max_age:", "6h"] in rows
    assert ["!", "warn", "calls", "fresh", "all", "4h", "00m", "1", "warn_age:", "2h"] in rows
    flowing = " ".join(out.split())  # the table wraps long messages at 120 columns
    assert f"✗ {tickets}" in flowing and f"! {calls}" in flowing
    assert out.rstrip().endswith("FAIL: 1 fail, 1 warn, 1 pass (3 rule × group results)")

    _, out, _ = invoke("-c", path, *to, "-f", "json")
    checks = json.loads(out)["checks"]
    assert checks[0] == {
        "name": "tickets freshness",
        "kpi": None,
        "source": "tickets",
        "group": {},
        "value": 43200.0,
        "n": 3,
        "previous": None,
        "rule": "max_age 6h",
        "breached": "max_age: 6h",
        "status": "fail",
        "message": tickets,
        "line": 6,
    }
    assert (checks[1]["rule"], checks[1]["status"], checks[1]["line"]) == (
        "max_age 1d; warn_age 2h",
        "warn",
        7,
    )
    assert (checks[2]["kpi"], checks[2]["source"]) == ("first_response_time", "tickets")

    _, out, _ = invoke("-c", path, *to, "-f", "github")
    assert out.splitlines() == [
        f"::error file={path},line=6,title=SLA fail%3A tickets freshness::{tickets}",
        f"::warning file={path},line=7,title=SLA warn%3A calls fresh::{calls}",
        "FAIL: 1 fail, 1 warn, 1 pass (3 rule × group results)",
    ]

    _, out, _ = invoke("-c", path, *to, "-f", "md")
    lines = out.splitlines()
    assert "| ❌ fail | tickets freshness | all | 12h 00m | 3 | max_age: 6h |" in lines
    assert "| ⚠️ warn | calls fresh | all | 4h 00m | 1 | warn_age: 2h |" in lines
    assert f"- ❌ {tickets}" in lines

    target = tmp_path / "checks.xml"
    code, _, _ = invoke("-c", path, *to, "-f", "junit", "-o", target)
    assert code == 1
    xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit.xsd").validate(target)
    cases = {c.get("classname"): c for c in ET.parse(target).iter("testcase")}
    stale = cases["tickets freshness"]
    assert stale.get("name") == "tickets.created_at [all]"
    failure = stale.find("failure")
    assert failure is not None and failure.get("message") == tickets
    assert (failure.text or "").splitlines()[:3] == [
        tickets,
        "rule: tickets freshness (max_age 6h)",
        "freshness: the age of the newest tickets.created_at",
    ]
    assert (cases["calls fresh"].findtext("system-out") or "").startswith(f"WARN: {calls}")

    # --breaches: a stale source has no records behind it; the CSV holds the KPI rules' only
    breaches = tmp_path / "breaches.csv"
    code, _, err = invoke("-c", path, *to, "--breaches", breaches)
    assert code == 1 and "(0 records)" in err
    with breaches.open(encoding="utf-8") as f:
        assert list(csv.DictReader(f)) == []
    # --rule selects a freshness rule by its name
    code, out, _ = invoke("-c", path, *to, "--rule", "calls fresh", "-f", "json")
    assert code == 0 and [c["name"] for c in json.loads(out)["checks"]] == ["calls fresh"]


@pytest.mark.parametrize(
    ("rule", "token", "message"),
    [
        (
            "{freshness: tickts, max_age: 1d}",
            "tickts",
            "freshness: unknown source 'tickts' (did you mean 'tickets'?); sources of this "
            "config: tickets, calls",
        ),
        (
            "{freshness: surveys, max_age: 1d}",
            "surveys",
            "freshness: 'surveys' is not a source of this config (sources: tickets, calls)",
        ),
        (
            "{freshness: tickets, max_age: 1d, by: [channel]}",
            "by",
            "unknown key 'by' in a freshness check; a freshness check takes freshness:, "
            "max_age:, warn_age:, name:",
        ),
        (
            "{freshness: tickets, max_ag: 1d}",
            "max_ag",
            "unknown key 'max_ag' in a freshness check (did you mean 'max_age'?)",
        ),
        (
            "{freshness: tickets, max_age: 85%}",
            "85%",
            "max_age: expected a duration such as 1d, 12h or 1h 30m, got '85%'",
        ),
        (
            "{freshness: tickets, max_age: soon}",
            "soon",
            "max_age: expected a duration such as 1d, 12h or 1h 30m, got 'soon'",
        ),
        (
            "{freshness: tickets, max_age: 1h, warn_age: 2h}",
            "2h}",
            "warn_age: 2h must be shorter than max_age: 1h",
        ),
        (
            "{freshness: tickets}",
            "{",
            "a freshness check needs max_age: (fail when older), warn_age:, or both",
        ),
        (
            "{fresness: tickets, max_age: 1d}",
            "fresness",
            "unknown key 'fresness' in a check (did you mean 'freshness'?)",
        ),
    ],
)
def test_freshness_config_errors(write: Write, rule: str, token: str, message: str) -> None:
    path = _fresh(write, f"- {rule}")
    # the rule is line 6, written `  - {rule}`: the token's 1-based column is 4 + its index + 1
    column = 5 + rule.index(token)
    code, out, err = invoke("-c", path, "--to", "2026-01-10")
    assert code == 2 and out == ""
    assert f"{path}:6:{column}: {message}" in err, err
    assert "Traceback" not in err
