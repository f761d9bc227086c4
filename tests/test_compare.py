"""`--compare`: every value next to its value over the previous window, and invariants.

The previous window is the one of equal length right before the period (`Period.previous`):
`--from 2026-01-12 --to 2026-01-18` compares with 2026-01-05 … 2026-01-11. With a grain, each
row's previous is the same group's previous bucket, the first bucket's coming from the
previous window. Expected values are worked out by hand next to each assertion; the hypothesis
tests at the end check the invariants of DESIGN §5 and §8 on random small exports.

Calendar (UTC): Mondays 2025-12-29, 2026-01-05 ("week 1"), 2026-01-12 ("week 2"), 2026-01-19.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import jsonschema
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli import api
from cscli.cli import app
from cscli.config import Grain
from cscli.errors import UsageError
from cscli.pipeline import ReportResult
from cscli.render.jsondoc import render_json, report_document
from tests.helpers import row, totals

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))

DEC29 = date(2025, 12, 29)
WEEK1 = date(2026, 1, 5)
WEEK2 = date(2026, 1, 12)
WEEK3 = date(2026, 1, 19)


# --- helpers ------------------------------------------------------------------------------


def write_config(tmp_path: Path, kpis: list[Any] | None, **csvs: str | None) -> Path:
    sources: dict[str, Any] = {}
    for name in ("tickets", "calls", "surveys", "customers"):
        text = csvs.get(name)
        if text is None:
            continue
        (tmp_path / f"{name}.csv").write_text(dedent(text).strip() + "\n", encoding="utf-8")
        sources[name] = {"path": f"{name}.csv"}
    config: dict[str, Any] = {"timezone": "UTC", "sources": sources}
    if kpis is not None:
        config["kpis"] = kpis
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def assert_finite(frame: pl.DataFrame) -> None:
    for column in frame.columns:
        for value in frame[column].to_list():
            if isinstance(value, float):
                assert math.isfinite(value), f"{column}: {value}"


# --- the fixture ----------------------------------------------------------------------------

TICKETS = """
    ticket_id,created_at,first_response_at,resolved_at,channel,priority
    w0,2025-12-30T09:00:00Z,2025-12-30T10:00:00Z,2025-12-30T12:00:00Z,email,normal
    z0,2026-01-01T09:00:00Z,2026-01-01T09:05:00Z,2026-01-12T09:00:00Z,email,normal
    p1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email,urgent
    p2,2026-01-06T09:00:00Z,2026-01-06T11:00:00Z,2026-01-13T09:00:00Z,chat,urgent
    p3,2026-01-11T20:00:00Z,,2026-01-16T09:00:00Z,email,urgent
    p4,2026-01-11T23:30:00Z,,,chat,urgent
    q1,2026-01-12T09:00:00Z,2026-01-12T09:20:00Z,2026-01-12T10:00:00Z,email,urgent
    q2,2026-01-13T09:00:00Z,2026-01-13T09:40:00Z,,chat,urgent
    q3,2026-01-14T09:00:00Z,2026-01-14T12:00:00Z,2026-01-15T09:00:00Z,email,high
    q4,2026-01-18T23:00:00Z,,,email,urgent
    q5,2026-01-15T09:00:00Z,2026-01-15T09:30:00Z,2026-01-15T10:00:00Z,chat,normal
    r1,2026-01-20T09:00:00Z,2026-01-20T09:15:00Z,2026-01-20T12:00:00Z,email,normal
    r2,2026-01-21T09:00:00Z,2026-01-21T09:50:00Z,,chat,normal
"""
# FRT: w0 3600, z0 300, p1 600, p2 7200, q1 1200, q2 2400, q3 10800, q5 1800, r1 900, r2 3000;
# p3, p4, q4 never answered. SLA targets (defaults): urgent 1h, high 4h, normal 8h.
SURVEYS = """
    responded_at,score,survey_type
    2026-01-06T10:00:00Z,5,csat
    2026-01-07T10:00:00Z,2,csat
    2026-01-06T10:00:00Z,10,nps
    2026-01-06T10:00:00Z,6,nps
    2026-01-13T10:00:00Z,4,csat
    2026-01-14T10:00:00Z,5,csat
    2026-01-15T10:00:00Z,1,csat
    2026-01-13T10:00:00Z,9,nps
    2026-01-13T10:00:00Z,9,nps
    2026-01-14T10:00:00Z,7,nps
    2026-01-14T10:00:00Z,3,nps
"""
KPIS = [
    "ticket_volume",
    "first_response_time",
    "resolution_rate",
    "backlog",
    "sla_attainment",
    "csat",
    "nps",
]


def compare_week2(tmp_path: Path, **options: Any) -> ReportResult:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    return api.report(path, date_from="2026-01-12", date_to="2026-01-18", compare=True, **options)


# --- totals ---------------------------------------------------------------------------------


def test_totals_previous_is_the_window_of_equal_length_before(tmp_path: Path) -> None:
    result = compare_week2(tmp_path)
    assert result.compare is not None
    assert (result.compare.start, result.compare.end) == (date(2026, 1, 5), date(2026, 1, 11))
    t = totals(result)
    # current window 01-12 … 01-18 (ends 01-19T00:00Z)
    # tickets created: q1, q2, q3, q4, q5 = 5
    assert (t["ticket_volume"], t["ticket_volume__prev"]) == (5, 4)  # previous: p1 … p4 = 4
    # FRT median: [1200, 1800, 2400, 10800] → (1800 + 2400)/2 = 2100;
    # previous [600, 7200] (p3, p4 unanswered) → 3900
    assert t["first_response_time"] == pytest.approx(2100.0)
    assert t["first_response_time__prev"] == pytest.approx(3900.0)
    # resolved at any time: q1, q3, q5 / 5 = 0.6; previous p1, p2, p3 / 4 = 0.75
    assert t["resolution_rate"] == pytest.approx(0.6)
    assert t["resolution_rate__prev"] == pytest.approx(0.75)
    # backlog at 01-19T00:00Z: p4, q2, q4 = 3; at 01-12T00:00Z: z0 (resolved 01-12T09:00),
    # p2 (01-13), p3 (01-16), p4 = 4
    assert (t["backlog"], t["backlog__prev"]) == (3, 4)
    # SLA, judged as of the export time (the newest ticket timestamp: r2's response,
    # 01-21T09:50Z) in both windows: q1 20 m ≤ 1 h met, q2 40 m met, q3 3 h ≤ 4 h met, q5 30 m
    # ≤ 8 h met, q4 urgent unanswered for 2 d 10 h 50 m → a miss → 4/5.
    # Previous: p1 10 m met, p2 2 h miss, p3 and p4 urgent, unanswered for days → misses → 1/4
    assert t["sla_attainment"] == pytest.approx(4 / 5)
    assert t["sla_attainment__prev"] == pytest.approx(1 / 4)
    # CSAT ≥ 4: 4, 5 of 4, 5, 1 → 2/3; previous 5 of 5, 2 → 1/2
    assert t["csat"] == pytest.approx(2 / 3)
    assert t["csat__prev"] == pytest.approx(0.5)
    # NPS: 9, 9 promoters, 3 detractor of 4 → (2 − 1)/4 = +25; previous 10, 6 → (1 − 1)/2 = 0
    assert t["nps"] == pytest.approx(25.0)
    assert t["nps__prev"] == pytest.approx(0.0)


def test_totals_previous_equals_a_report_over_the_previous_window(tmp_path: Path) -> None:
    result = compare_week2(tmp_path)
    path = tmp_path / "cscli.yaml"
    before = totals(api.report(path, date_from="2026-01-05", date_to="2026-01-11"))
    t = totals(result)
    for kpi in KPIS:
        assert t[kpi + "__prev"] == pytest.approx(before[kpi]), kpi


def test_previous_with_last(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    result = api.report(path, date_to="2026-01-18", last="1w", compare=True)
    # --last 1w ending 01-18 = 01-12 … 01-18; previous 01-05 … 01-11
    assert result.compare is not None
    assert (result.compare.start, result.compare.end) == (date(2026, 1, 5), date(2026, 1, 11))
    assert totals(result)["ticket_volume__prev"] == 4


def test_empty_previous_window_gives_null_never_nan(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at,resolved_at,priority
        a,2026-01-12T09:00:00Z,2026-01-12T09:30:00Z,2026-01-12T10:00:00Z,urgent
        b,2026-01-13T09:00:00Z,2026-01-13T09:10:00Z,,urgent
    """
    surveys = """
        responded_at,score,survey_type
        2026-01-13T10:00:00Z,5,csat
        2026-01-13T10:00:00Z,10,nps
    """
    path = write_config(tmp_path, KPIS, tickets=tickets, surveys=surveys)
    result = api.report(path, date_from="2026-01-12", date_to="2026-01-18", compare=True)
    t = totals(result)
    # nothing in 01-05 … 01-11: a count of nothing is 0 (as for an empty group, see
    # pipeline._fill_counts), the backlog level at 01-12T00:00Z is 0, every other KPI is null
    assert t["ticket_volume__prev"] == 0
    assert t["backlog__prev"] == 0
    for kpi in ("first_response_time", "resolution_rate", "sla_attainment", "csat", "nps"):
        assert t[kpi + "__prev"] is None, kpi
    assert_finite(result.totals)
    doc = report_document(result)
    assert doc["totals"]["kpis"]["csat"] == {"value": 1.0, "n": 1, "previous": None}
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 2, "n": 2, "previous": 0}
    json.loads(render_json(result))  # allow_nan=False: would raise on NaN


def test_compare_without_a_bounded_period_is_a_usage_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS)
    with pytest.raises(UsageError, match="bounded period"):
        api.report(path, compare=True)
    with pytest.raises(UsageError, match="bounded period"):
        api.report(path, date_from="2026-01-12", compare=True)
    with pytest.raises(UsageError, match="bounded period"):
        api.report(path, date_to="2026-01-18", compare=True)


def test_config_compare_default_can_be_switched_off(tmp_path: Path) -> None:
    path = write_config(tmp_path, ["ticket_volume"], tickets=TICKETS)
    text = path.read_text(encoding="utf-8") + "report: {compare: true}\n"
    path.write_text(text, encoding="utf-8")
    # the config asks for compare: a bounded period gets previous values …
    bounded = api.report(path, date_from="2026-01-12", date_to="2026-01-18")
    assert totals(bounded)["ticket_volume__prev"] == 4
    # … an unbounded one is the same usage error as --compare, unless compare is switched off
    with pytest.raises(UsageError, match="bounded period"):
        api.report(path)
    result = api.report(path, compare=False)
    assert result.compare is None
    assert totals(result)["ticket_volume"] == 13  # all tickets, w0 … r2
    assert "ticket_volume__prev" not in result.totals.columns


# --- with a grain and groups ----------------------------------------------------------------


def test_grain_previous_is_the_groups_previous_bucket(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    result = api.report(
        path,
        date_from="2026-01-12",
        date_to="2026-01-25",
        by=["channel"],
        grain="week",
        kpis=["ticket_volume", "first_response_time", "backlog"],
        compare=True,
    )
    # the previous window is 2025-12-29 … 2026-01-11 (two weeks)
    assert result.compare is not None
    assert (result.compare.start, result.compare.end) == (DEC29, date(2026, 1, 11))
    email2, email3 = (
        row(result, channel="email", period=WEEK2),
        row(result, channel="email", period=WEEK3),
    )
    chat2, chat3 = (
        row(result, channel="chat", period=WEEK2),
        row(result, channel="chat", period=WEEK3),
    )
    # ticket_volume per channel and week: email week 1 p1, p3 = 2; week 2 q1, q3, q4 = 3;
    # week 3 r1 = 1. chat week 1 p2, p4 = 2; week 2 q2, q5 = 2; week 3 r2 = 1.
    # The first bucket (week 2) takes week 1 from the previous window
    assert (email2["ticket_volume"], email2["ticket_volume__prev"]) == (3, 2)
    assert (email3["ticket_volume"], email3["ticket_volume__prev"]) == (1, 3)
    assert (chat2["ticket_volume"], chat2["ticket_volume__prev"]) == (2, 2)
    assert (chat3["ticket_volume"], chat3["ticket_volume__prev"]) == (1, 2)
    # FRT median: email week 1 [600] = 600, week 2 [1200, 10800] = 6000, week 3 [900];
    # chat week 1 [7200], week 2 [2400, 1800] = 2100, week 3 [3000]
    assert email2["first_response_time"] == pytest.approx(6000.0)
    assert email2["first_response_time__prev"] == pytest.approx(600.0)
    assert email3["first_response_time"] == pytest.approx(900.0)
    assert email3["first_response_time__prev"] == pytest.approx(6000.0)
    assert chat2["first_response_time__prev"] == pytest.approx(7200.0)
    assert chat3["first_response_time__prev"] == pytest.approx(2100.0)
    # backlog at each week end: email 01-12 z0, p3 = 2; 01-19 q4 = 1; 01-26 q4 = 1.
    # chat 01-12 p2, p4 = 2; 01-19 p4, q2 = 2; 01-26 p4, q2, r2 = 3
    assert (email2["backlog"], email2["backlog__prev"]) == (1, 2)
    assert (email3["backlog"], email3["backlog__prev"]) == (1, 1)
    assert (chat2["backlog"], chat2["backlog__prev"]) == (2, 2)
    assert (chat3["backlog"], chat3["backlog__prev"]) == (3, 2)
    t = totals(result)
    # totals: created 01-12 … 01-25 = q1 … q5, r1, r2 = 7; previous w0, z0, p1 … p4 = 6
    assert (t["ticket_volume"], t["ticket_volume__prev"]) == (7, 6)
    # backlog at 01-26: p4, q2, q4, r2 = 4; at 01-12: z0, p2, p3, p4 = 4
    assert (t["backlog"], t["backlog__prev"]) == (4, 4)
    assert_finite(result.table)


def test_grain_without_groups(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    result = api.report(
        path, date_from="2026-01-12", date_to="2026-01-25", grain="week", compare=True
    )
    w2, w3 = row(result, period=WEEK2), row(result, period=WEEK3)
    # volume: week 1 4, week 2 5, week 3 2
    assert (w2["ticket_volume"], w2["ticket_volume__prev"]) == (5, 4)
    assert (w3["ticket_volume"], w3["ticket_volume__prev"]) == (2, 5)
    # CSAT: week 1 1/2, week 2 2/3, week 3 none
    assert w2["csat__prev"] == pytest.approx(0.5)
    assert w3["csat"] is None
    assert w3["csat__prev"] == pytest.approx(2 / 3)
    # NPS: week 1 0, week 2 +25
    assert w2["nps__prev"] == pytest.approx(0.0)
    assert w3["nps__prev"] == pytest.approx(25.0)
    # backlog: 01-12 4, 01-19 3, 01-26 4 (p4, q2, q4, r2)
    assert (w2["backlog"], w2["backlog__prev"]) == (3, 4)
    assert (w3["backlog"], w3["backlog__prev"]) == (4, 3)


@pytest.mark.parametrize(
    ("kpis", "grain"),
    [
        pytest.param(["ticket_volume"], None, id="volume"),
        pytest.param(["ticket_volume"], "week", id="volume-week"),
        pytest.param(["ticket_volume", "backlog"], None, id="volume+backlog"),
        pytest.param(["ticket_volume", "backlog"], "week", id="volume+backlog-week"),
    ],
)
def test_previous_of_a_group_absent_from_the_previous_window(
    tmp_path: Path, kpis: list[str], grain: Grain | None
) -> None:
    tickets = """
        ticket_id,created_at,resolved_at,channel
        a,2026-01-06T09:00:00Z,,email
        b,2026-01-13T09:00:00Z,,email
        c,2026-01-13T09:00:00Z,,chat
    """
    path = write_config(tmp_path, None, tickets=tickets)
    result = api.report(
        path,
        kpis=kpis,
        by=["channel"],
        grain=grain,
        date_from="2026-01-12",
        date_to="2026-01-18",
        compare=True,
    )
    keys: dict[str, Any] = (
        {"channel": "chat"} if grain is None else {"channel": "chat", "period": WEEK2}
    )
    chat = row(result, **keys)
    # chat had no ticket in 01-05 … 01-11: a count of nothing is 0 (pipeline._fill_counts), as
    # the totals give for an empty previous window; the same KPI must not change with the
    # other KPIs asked for
    assert chat["ticket_volume"] == 1
    assert chat["ticket_volume__prev"] == 0
    if "backlog" in kpis:
        # chat's backlog at 01-12T00:00Z: nothing open → 0
        assert chat["backlog__prev"] == 0
    # email: a in the previous window → 1
    email = row(result, **{**keys, "channel": "email"})
    assert email["ticket_volume__prev"] == 1


# --- JSON -----------------------------------------------------------------------------------


def test_json_document_carries_previous_and_validates(tmp_path: Path) -> None:
    result = compare_week2(tmp_path, by=["channel"], grain="week")
    doc = report_document(result, now=datetime(2026, 2, 1, tzinfo=UTC))
    jsonschema.validate(doc, SCHEMA)
    assert doc["compare"] == {"from": "2026-01-05", "to": "2026-01-11", "mode": "previous"}
    assert doc["period"]["from"] == "2026-01-12" and doc["period"]["to"] == "2026-01-18"
    assert doc["rows"], "one row per channel and week"
    # the surveys have no ticket_id: they cannot be cut by channel and are marked unavailable
    unavailable = {k["id"] for k in doc["kpis"] if "unavailable" in k}
    assert unavailable == {"csat", "nps"}
    for entry in [*doc["rows"], doc["totals"]]:
        assert set(entry["kpis"]) == set(KPIS) - unavailable
        for value in entry["kpis"].values():
            assert "previous" in value
    totals_doc = doc["totals"]["kpis"]
    assert totals_doc["ticket_volume"] == {"value": 5, "n": 5, "previous": 4}
    assert totals_doc["sla_attainment"]["previous"] == pytest.approx(1 / 4)
    email = next(
        r for r in doc["rows"] if r["group"] == {"channel": "email", "period": "2026-01-12"}
    )
    # email week 1 (previous window): p1, p3 → 2
    assert email["kpis"]["ticket_volume"] == {"value": 3, "n": 3, "previous": 2}
    # the text output parses back to the same document
    assert json.loads(render_json(result, now=datetime(2026, 2, 1, tzinfo=UTC))) == doc


def test_json_without_compare_has_no_previous(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    result = api.report(path, date_from="2026-01-12", date_to="2026-01-18")
    doc = report_document(result)
    jsonschema.validate(doc, SCHEMA)
    assert doc["compare"] is None
    assert all("previous" not in v for v in doc["totals"]["kpis"].values())


# --- CLI ------------------------------------------------------------------------------------


def test_cli_report_compare(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    args = ["report", "-c", str(path), "--compare", "--from", "2026-01-12"]
    result = CliRunner().invoke(app, [*args, "--to", "2026-01-18", "--width", "160"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "vs 2026-01-05 → 2026-01-11" in out
    assert "Previous" in out and "Change" in out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines() if line.strip()}
    # tickets 4 → 5: +25 % (counts change relatively)
    assert "▲ +25%" in lines["Tickets"]
    # resolution rate 75 % → 60 %: −15 points, red (higher is better)
    assert "▼ -15.0pp" in lines["Resolution rate"]
    # SLA 25 % → 80 % (both as of the export time): +55.0 points
    assert "▲ +55.0pp" in lines["First-response SLA attainment"]
    # NPS 0 → +25
    assert "▲ +25.0" in lines["NPS"]


def test_cli_report_compare_json(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS, surveys=SURVEYS)
    args = ["report", "-c", str(path), "--compare", "--from", "2026-01-12", "--to", "2026-01-18"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["totals"]["kpis"]["backlog"] == {"value": 3, "n": 3, "previous": 4}


def test_cli_compare_without_a_period_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, KPIS, tickets=TICKETS)
    result = CliRunner().invoke(app, ["report", "-c", str(path), "--compare"])
    assert result.exit_code == 2
    assert "error:" in result.stderr and "bounded period" in result.stderr
    assert "Traceback" not in result.output


# --- hypothesis: invariants -------------------------------------------------------------------

BASE = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SPAN = 21 * 86400
CHANNELS = ["email", "chat", "web"]
PRIORITIES = ["urgent", "high", "normal", "low", "none"]
CUSTOMERS = ["A", "B", "C", "D"]

PROPERTY_KPIS: list[Any] = [
    "ticket_volume",
    "backlog",
    "reopen_rate",
    "reroute_rate",
    "kb_usage_rate",
    "sla_attainment",
    {"id": "fcr_flag", "kpi": "first_contact_resolution", "method": "flag"},
    {"id": "fcr_one_touch", "kpi": "first_contact_resolution", "method": "one_touch"},
    {"id": "fcr_no_repeat", "kpi": "first_contact_resolution", "method": "no_repeat"},
    {"id": "frt_p50", "kpi": "first_response_time", "stat": "p50"},
    {"id": "frt_p90", "kpi": "first_response_time", "stat": "p90"},
    {"id": "res_p50", "kpi": "resolution_time", "stat": "p50"},
    {"id": "res_p90", "kpi": "resolution_time", "stat": "p90"},
    "call_volume",
    "call_reroute_rate",
    "call_first_contact_resolution",
    {"id": "hold_p50", "kpi": "average_hold_time", "stat": "p50"},
    {"id": "hold_p90", "kpi": "average_hold_time", "stat": "p90"},
    "channel_switch_rate",
    "gave_up_rate",
    "survey_responses",
    "csat",
    "nps",
]
RATES = [
    "reopen_rate",
    "reroute_rate",
    "kb_usage_rate",
    "sla_attainment",
    "fcr_flag",
    "fcr_one_touch",
    "fcr_no_repeat",
    "call_reroute_rate",
    "call_first_contact_resolution",
    "channel_switch_rate",
    "gave_up_rate",
    "csat",
]
COUNTS = ["ticket_volume", "call_volume", "survey_responses", "backlog"]
QUANTILE_PAIRS = [("frt_p50", "frt_p90"), ("res_p50", "res_p90"), ("hold_p50", "hold_p90")]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ts(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


ticket_st = st.fixed_dictionaries(
    {
        "created": st.integers(-5 * 86400, SPAN),
        "response": st.one_of(st.none(), st.integers(-600, 30 * 3600)),
        "resolved": st.one_of(st.none(), st.integers(-3600, 12 * 86400)),
        "channel": st.sampled_from([*CHANNELS, None]),
        "priority": st.sampled_from(PRIORITIES),
        "customer": st.sampled_from([*CUSTOMERS, None]),
        "replies": st.one_of(st.none(), st.integers(0, 3)),
        "reopens": st.one_of(st.none(), st.integers(0, 2)),
        "reassignments": st.one_of(st.none(), st.integers(0, 3)),
        "fcr": st.one_of(st.none(), st.booleans()),
        "kb": st.one_of(st.none(), st.booleans()),
        "status": st.sampled_from(["open", "solved", "closed", "cancelled"]),
    }
)
call_st = st.fixed_dictionaries(
    {
        "queued": st.integers(0, SPAN),
        "wait": st.one_of(st.none(), st.integers(0, 90)),
        "inbound": st.booleans(),
        "hold": st.one_of(st.none(), st.integers(0, 300)),
        "transfers": st.one_of(st.none(), st.integers(0, 2)),
        "customer": st.sampled_from([*CUSTOMERS, None]),
    }
)
survey_st = st.fixed_dictionaries(
    {
        "responded": st.integers(0, SPAN),
        "score": st.integers(-1, 11),
        "type": st.sampled_from(["csat", "nps", "ces", "asat"]),
    }
)


def _write(
    directory: Path,
    tickets: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    surveys: list[dict[str, Any]],
) -> Path:
    lines = [
        "ticket_id,created_at,first_response_at,resolved_at,channel,priority,customer_id,"
        "agent_replies,reopens,reassignments,first_contact_resolved,kb_used,status"
    ]
    for i, t in enumerate(tickets):
        response = None if t["response"] is None else t["created"] + t["response"]
        resolved = None if t["resolved"] is None else t["created"] + t["resolved"]
        priority = "" if t["priority"] == "none" else t["priority"]
        cells = [
            f"t{i}",
            _ts(t["created"]),
            _ts(response),
            _ts(resolved),
            _cell(t["channel"]),
            priority,
            _cell(t["customer"]),
            _cell(t["replies"]),
            _cell(t["reopens"]),
            _cell(t["reassignments"]),
            _cell(t["fcr"]),
            _cell(t["kb"]),
            t["status"],
        ]
        lines.append(",".join(cells))
    (directory / "tickets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["call_id,queued_at,answered_at,direction,hold_seconds,transfers,customer_id,resolved"]
    for i, c in enumerate(calls):
        answered = None if c["wait"] is None else c["queued"] + c["wait"]
        direction = "inbound" if c["inbound"] else "outbound"
        cells = [
            f"c{i}",
            _ts(c["queued"]),
            _ts(answered),
            direction,
            _cell(c["hold"]),
            _cell(c["transfers"]),
            _cell(c["customer"]),
            "true" if i % 2 else "false",
        ]
        lines.append(",".join(cells))
    (directory / "calls.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["responded_at,score,survey_type"]
    lines += [f"{_ts(s['responded'])},{s['score']},{s['type']}" for s in surveys]
    (directory / "surveys.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = {
        "timezone": "UTC",
        "sources": {
            "tickets": {"path": "tickets.csv"},
            "calls": {"path": "calls.csv"},
            "surveys": {"path": "surveys.csv"},
        },
        "kpis": PROPERTY_KPIS,
    }
    path = directory / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _values(frame: pl.DataFrame, column: str) -> list[Any]:
    return frame[column].to_list() if column in frame.columns else []


@SETTINGS
@given(
    tickets=st.lists(ticket_st, min_size=1, max_size=12),
    calls=st.lists(call_st, max_size=8),
    surveys=st.lists(survey_st, max_size=8),
    grain=st.sampled_from([None, "week"]),
)
def test_invariants(
    tickets: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    surveys: list[dict[str, Any]],
    grain: Grain | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), tickets, calls, surveys)
        grouped = api.report(
            path,
            date_from="2026-01-12",
            date_to="2026-01-25",
            by=["channel"],
            grain=grain,
            compare=True,
        )
    t = totals(grouped)
    frames = [grouped.totals, grouped.table]
    for frame in frames:
        assert_finite(frame)
        for kpi in RATES:
            for suffix in ("", "__prev"):
                for value in _values(frame, kpi + suffix):
                    assert value is None or 0.0 <= value <= 1.0, (kpi + suffix, value)
        for suffix in ("", "__prev"):
            for value in _values(frame, "nps" + suffix):
                assert value is None or -100.0 <= value <= 100.0
            for value in _values(frame, "backlog" + suffix):
                assert value is None or value >= 0
        for low, high in QUANTILE_PAIRS:
            for a, b in zip(_values(frame, low), _values(frame, high), strict=True):
                assert a is None or b is None or a <= b + 1e-9, (low, a, high, b)
    # The channels partition the records (calls are all 'phone', tickets without a channel form
    # the null group), so counts and each ratio's n add up to the total; so does the backlog, a
    # level at one instant. Survey KPIs cannot be cut by channel here (no link to a ticket).
    table = grouped.table

    def total_of(column: str, frame: pl.DataFrame = table) -> int:
        return sum(v or 0 for v in frame[column].to_list())

    if grain is None:
        for kpi in ["ticket_volume", "call_volume", "backlog"]:
            assert total_of(kpi) == t[kpi], kpi
        for kpi in ["reopen_rate", "reroute_rate", "sla_attainment", "fcr_one_touch"]:
            assert total_of(kpi + "__n") == t[kpi + "__n"], kpi
    else:
        # per week: flows add up to the total; the last week's backlog is the total level
        assert total_of("ticket_volume") == t["ticket_volume"]
        assert total_of("reopen_rate__n") == t["reopen_rate__n"]
        last = table.filter(pl.col("period") == table["period"].max())
        assert total_of("backlog", last) == t["backlog"]


@SETTINGS
@given(
    tickets=st.lists(ticket_st, max_size=10),
    extra=st.fixed_dictionaries(
        {
            "created": st.integers(7 * 86400, 14 * 86400 - 1),
            "priority": st.sampled_from(["urgent", "high", "normal", "low"]),
            "fraction": st.floats(0.0, 1.0),
        }
    ),
)
def test_a_ticket_answered_within_its_target_never_lowers_sla_attainment(
    tickets: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    targets = {"urgent": 3600, "high": 4 * 3600, "normal": 8 * 3600, "low": 24 * 3600}
    answered = {
        **extra,
        "response": int(extra["fraction"] * targets[extra["priority"]]),  # ≤ its target
        "resolved": None,
        "channel": "email",
        "customer": None,
        "replies": 1,
        "reopens": 0,
        "reassignments": 0,
        "fcr": None,
        "kb": None,
        "status": "open",
    }
    # unanswered tickets are judged as of the export time (the newest ticket timestamp): a
    # ticket without a target created well after every other one pins it for both runs, so
    # the new ticket cannot make another ticket due
    export = {**answered, "created": 60 * 86400, "response": None, "priority": "none"}
    tickets = [*tickets, export]
    with tempfile.TemporaryDirectory() as tmp:
        before = api.report(
            _write(Path(tmp), tickets, [], []),
            date_from="2026-01-12",
            date_to="2026-01-18",
            kpis=["sla_attainment"],
        )
        after = api.report(
            _write(Path(tmp), [*tickets, answered], [], []),
            date_from="2026-01-12",
            date_to="2026-01-18",
            kpis=["sla_attainment"],
        )
    old, new = totals(before), totals(after)
    # the new ticket is created in the period (01-12 … 01-18) and met its target
    assert new["sla_attainment__n"] == old["sla_attainment__n"] + 1
    assert new["sla_attainment"] >= (old["sla_attainment"] or 0.0) - 1e-12
