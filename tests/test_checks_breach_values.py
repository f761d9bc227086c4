"""`check --breaches`: every KPI kind fills each record's `value`, and a volume lists none.

Each fixture is a few CSV lines; the expected values are worked out by hand next to it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli.cli import app

Write = Callable[[str, str], Path]


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _breaches(write: Write, tmp_path: Path, checks: str) -> list[dict[str, str]]:
    path = write(
        "cscli.yaml",
        "timezone: UTC\nsources:\n"
        "  calls: {path: calls.csv}\n  surveys: {path: surveys.csv}\n"
        "  tickets: {path: tickets.csv}\nchecks:\n" + checks,
    )
    target = tmp_path / "breaches.csv"
    result = CliRunner().invoke(
        app, ["check", "-c", str(path), "-f", "json", "--breaches", str(target)]
    )
    assert result.exit_code == 1, result.stderr
    with target.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


CALLS = """
    call_id,queued_at,answered_at,ended_at,direction
    c1,2026-01-05T09:00:00Z,2026-01-05T09:00:10Z,2026-01-05T09:05:00Z,inbound
    c2,2026-01-05T09:10:00Z,2026-01-05T09:11:00Z,2026-01-05T09:15:00Z,inbound
    c3,2026-01-05T09:20:00Z,,2026-01-05T09:21:30Z,inbound
    c4,2026-01-05T09:30:00Z,,2026-01-05T09:30:45Z,inbound
"""
# waits: c1 answered after 10 s, c2 after 60 s; c3 abandoned after 90 s, c4 after 45 s
# abandonment = 2/4 = 50% > 10%: fails; its records are the abandoned calls, valued by their
#   wait: c3 90 s, c4 45 s
# service level (20 s, abandons missed) = c1 only / 4 = 25% < 80%: fails; its records are the
#   calls not answered within 20 s, valued by their answer time: c2 60 s; c3, c4 (no answer) null
# call_volume = 4 > 1: fails, but a volume lists no records
SURVEYS = """
    response_id,responded_at,score,survey_type
    s1,2026-01-06T10:00:00Z,5,csat
    s2,2026-01-06T10:00:00Z,3,csat
    s3,2026-01-06T10:00:00Z,10,nps
    s4,2026-01-06T10:00:00Z,6,nps
    s5,2026-01-06T10:00:00Z,2,nps
"""
# CSAT (top-2 of 5: score >= 4) = 1/2 = 50% < 80%: fails; its record is s2, valued by its score 3
# NPS = (1 promoter − 2 detractors) / 3 × 100 = −33.3 < 0: fails; detractors s4 (6) and s5 (2)
TICKETS = """
    ticket_id,created_at,resolved_at
    t1,2026-01-05T00:00:00Z,
    t2,2026-01-06T12:00:00Z,
    t3,2026-01-06T00:00:00Z,2026-01-06T06:00:00Z
"""
# backlog at the end of --to 2026-01-07 (2026-01-08T00:00Z): t1 and t2 open = 2 > 1: fails;
#   valued by their age then: t1 3 days = 259200 s, t2 1.5 days = 129600 s


def test_every_kind_has_a_value_and_volume_lists_none(write: Write, tmp_path: Path) -> None:
    write("calls.csv", CALLS)
    write("surveys.csv", SURVEYS)
    write("tickets.csv", TICKETS)
    rows = _breaches(
        write,
        tmp_path,
        '  - {kpi: abandonment_rate, fail: "> 10%"}\n'
        '  - {kpi: service_level, fail: "< 80%"}\n'
        '  - {kpi: call_volume, fail: "> 1"}\n'
        '  - {kpi: csat, fail: "< 80%"}\n'
        '  - {kpi: nps, fail: "< 0"}\n',
    )
    got = [(r["kpi"], r["id"], r["value"]) for r in rows]
    assert got == [
        ("abandonment_rate", "c3", "90.0"),
        ("abandonment_rate", "c4", "45.0"),
        ("service_level", "c2", "60.0"),
        ("service_level", "c3", ""),
        ("service_level", "c4", ""),
        ("csat", "s2", "3.0"),
        ("nps", "s4", "6.0"),
        ("nps", "s5", "2.0"),
    ]
    assert "call_volume" not in {r["kpi"] for r in rows}


def test_a_stock_is_valued_by_its_age_at_the_end(write: Write, tmp_path: Path) -> None:
    write("calls.csv", CALLS)
    write("surveys.csv", SURVEYS)
    write("tickets.csv", TICKETS)
    path = write(
        "cscli.yaml",
        "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\nchecks:\n"
        '  - {kpi: backlog, fail: "> 1"}\n',
    )
    target = tmp_path / "breaches.csv"
    result = CliRunner().invoke(
        app,
        ["check", "-c", str(path), "--from", "2026-01-01", "--to", "2026-01-07",
         "--breaches", str(target)],
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["id"], r["value"]) for r in rows] == [("t1", "259200.0"), ("t2", "129600.0")]


def test_record_value_reads_the_sql_not_a_key() -> None:
    import polars as pl

    from cscli.engine.polars.compile import record_value
    from cscli.kpis.spec import DistinctRatio, Ratio

    schema = {"customer_id": pl.Int64(), "switched": pl.Boolean(), "reopens": pl.Int64()}
    # a distinct ratio's key (an integer id) is not a value; its boolean numerator neither
    assert record_value(DistinctRatio("customer_id", "switched"), schema) is None
    # a rate's numerator column that holds a number is: each record's reopens
    value = record_value(Ratio("reopens > 0"), schema)
    assert value is not None
    frame = pl.DataFrame({"customer_id": [1], "switched": [True], "reopens": [2]})
    assert frame.select(value).item() == 2.0
