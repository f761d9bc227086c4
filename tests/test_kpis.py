"""Built-in and custom KPIs against tiny fixtures whose expected values are worked out by hand.

Every fixture is a few CSV lines written into pytest's `tmp_path` next to a `cscli.yaml`; the
report is run through `cscli.api.report`, exactly as the CLI does. The arithmetic behind every
expected value is written next to its assertion. Specs: DESIGN §4–§6 and the definitions in
`cscli/kpis/builtin/`.

Default calendar used below (UTC unless stated): Monday 2026-01-05 starts ISO week 2 ("week 1"
in the comments), Monday 2026-01-12 starts the next one ("week 2").
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from textwrap import dedent
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import yaml

from cscli import api
from cscli.config import Grain
from cscli.pipeline import ReportResult
from tests.helpers import row, totals, vn

WEEK1 = date(2026, 1, 5)
WEEK2 = date(2026, 1, 12)


# --- helpers ------------------------------------------------------------------------------


def run(
    tmp_path: Path,
    kpis: list[Any],
    *,
    tickets: str | None = None,
    calls: str | None = None,
    surveys: str | None = None,
    timezone: str = "UTC",
    source_options: dict[str, dict[str, Any]] | None = None,
    by: list[str] | None = None,
    grain: Grain | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> ReportResult:
    """Write the CSVs and a config into `tmp_path` and run the report."""
    sources: dict[str, Any] = {}
    for name, text in (("tickets", tickets), ("calls", calls), ("surveys", surveys)):
        if text is None:
            continue
        (tmp_path / f"{name}.csv").write_text(dedent(text).strip() + "\n", encoding="utf-8")
        sources[name] = {"path": f"{name}.csv", **(source_options or {}).get(name, {})}
    config = {"timezone": timezone, "sources": sources, "kpis": kpis}
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return api.report(
        path,
        by=by or [],
        grain=grain,
        date_from=date_from,
        date_to=date_to,
    )


def quality(result: ReportResult) -> dict[tuple[str, str], int]:
    return {(q.source, q.issue): q.rows for q in result.data_quality}


def status(result: ReportResult, kpi: str) -> Any:
    (found,) = [s for s in result.kpis if s.kpi.id == kpi]
    return found


def assert_no_nan_or_inf(frame: pl.DataFrame) -> None:
    for column in frame.columns:
        for value in frame[column].to_list():
            if isinstance(value, float):
                assert math.isfinite(value), f"{column}: {value}"


# --- tickets: ticket_volume, first_response_time ------------------------------------------

FRT_TICKETS = """
    ticket_id,created_at,first_response_at,channel,agent
    t1,2026-01-05T09:00:00Z,2026-01-05T09:01:00Z,email,ann
    t2,2026-01-05T09:00:00Z,2026-01-05T09:02:00Z,email,ann
    t3,2026-01-05T09:00:00Z,2026-01-05T09:03:00Z,chat,bob
    t4,2026-01-05T09:00:00Z,2026-01-05T09:04:00Z,chat,bob
    t5,2026-01-05T09:00:00Z,,chat,bob
    t6,2026-01-05T10:00:00Z,2026-01-05T09:00:00Z,email,ann
"""
# FRT per ticket: t1 60 s, t2 120 s, t3 180 s, t4 240 s, t5 null (no response: not counted),
# t6 −3600 s (response before creation: excluded, reported in data_quality).

FRT_KPIS = [
    "ticket_volume",
    "first_response_time",
    {"id": "frt_mean", "kpi": "first_response_time", "stat": "mean"},
    {"id": "frt_p90", "kpi": "first_response_time", "stat": "p90"},
    {"id": "frt_p25", "kpi": "first_response_time", "stat": "p25"},
    {"id": "frt_min", "kpi": "first_response_time", "stat": "min"},
    {"id": "frt_max", "kpi": "first_response_time", "stat": "max"},
]


def test_ticket_volume_counts_every_created_ticket(tmp_path: Path) -> None:
    t = totals(run(tmp_path, FRT_KPIS, tickets=FRT_TICKETS))
    # 6 tickets created, whatever their response: value = n = 6
    assert vn(t, "ticket_volume") == (6, 6)


def test_first_response_time_stats(tmp_path: Path) -> None:
    result = run(tmp_path, FRT_KPIS, tickets=FRT_TICKETS)
    t = totals(result)
    # valid FRTs: [60, 120, 180, 240] (t5 null and t6 negative are excluded) → n = 4
    assert vn(t, "first_response_time") == (pytest.approx(150.0), 4)  # median (120+180)/2
    assert vn(t, "frt_mean") == (pytest.approx(150.0), 4)  # (60+120+180+240)/4 = 600/4
    # p90: rank 0.9·(4−1) = 2.7 → 180 + 0.7·(240−180) = 222
    assert vn(t, "frt_p90") == (pytest.approx(222.0), 4)
    # p25: rank 0.25·3 = 0.75 → 60 + 0.75·(120−60) = 105
    assert vn(t, "frt_p25") == (pytest.approx(105.0), 4)
    assert vn(t, "frt_min") == (pytest.approx(60.0), 4)
    assert vn(t, "frt_max") == (pytest.approx(240.0), 4)


def test_first_response_time_negative_duration_reported_in_data_quality(tmp_path: Path) -> None:
    result = run(tmp_path, FRT_KPIS, tickets=FRT_TICKETS)
    # t6: first_response_at 09:00 before created_at 10:00 → 1 record flagged
    assert quality(result)[("tickets", "first_response_at before created_at")] == 1
    # ...and only that: a missing first_response_at (t5) is not a quality issue
    assert sum(rows for (source, _), rows in quality(result).items() if source == "tickets") == 1


def test_p90_interpolates_linearly_between_closest_ranks(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at
        a,2026-01-05T09:00:00Z,2026-01-05T09:00:10Z
        b,2026-01-05T09:00:00Z,2026-01-05T09:00:20Z
        c,2026-01-05T09:00:00Z,2026-01-05T09:00:30Z
        d,2026-01-05T09:00:00Z,2026-01-05T09:00:40Z
    """
    kpis = [
        {"id": "frt_p90", "kpi": "first_response_time", "stat": "p90"},
        {"id": "frt_p50", "kpi": "first_response_time", "stat": "p50"},
        {"id": "frt_p99", "kpi": "first_response_time", "stat": "p99"},
    ]
    t = totals(run(tmp_path, kpis, tickets=tickets))
    # [10, 20, 30, 40]: p90 at rank 2.7 → 30 + 0.7·10 = 37 (numpy default, PERCENTILE.INC)
    assert vn(t, "frt_p90") == (pytest.approx(37.0), 4)
    # p50 at rank 1.5 → 20 + 0.5·10 = 25 (same as the median)
    assert vn(t, "frt_p50") == (pytest.approx(25.0), 4)
    # p99 at rank 2.97 → 30 + 0.97·10 = 39.7
    assert vn(t, "frt_p99") == (pytest.approx(39.7), 4)


def test_first_response_time_median_odd_count(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at
        a,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z
        b,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z
        c,2026-01-05T09:00:00Z,2026-01-05T09:20:00Z
    """
    t = totals(run(tmp_path, ["first_response_time"], tickets=tickets))
    # FRT median of 600, 3600, 1200 s → sorted [600, 1200, 3600] → 1200
    assert vn(t, "first_response_time") == (pytest.approx(1200.0), 3)


def test_first_response_time_is_elapsed_time_across_dst(tmp_path: Path) -> None:
    # naive stamps in Europe/Berlin local time; clocks jump 02:00 → 03:00 on 2026-03-29
    tickets = """
        ticket_id,created_at,first_response_at
        a,2026-03-29 01:30:00,2026-03-29 03:30:00
    """
    result = run(
        tmp_path,
        ["first_response_time"],
        tickets=tickets,
        timezone="Europe/Berlin",
        source_options={"tickets": {"timezone": "Europe/Berlin"}},
    )
    # 01:30 CET = 00:30 UTC, 03:30 CEST = 01:30 UTC → 3600 s, not the 7200 s of the wall clock
    assert vn(totals(result), "first_response_time") == (pytest.approx(3600.0), 1)


def test_only_null_first_responses_give_null_not_zero(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at
        a,2026-01-05T09:00:00Z,
        b,2026-01-05T09:00:00Z,
    """
    t = totals(run(tmp_path, ["ticket_volume", "first_response_time"], tickets=tickets))
    assert vn(t, "ticket_volume") == (2, 2)
    # no ticket has a response: no value to take a median of → null with n 0
    assert vn(t, "first_response_time") == (None, 0)


# --- tickets: resolution_time, resolution_rate, anchors, totals ---------------------------

RESOLUTION_TICKETS = """
    ticket_id,created_at,resolved_at,channel
    r1,2026-01-05T09:00:00Z,2026-01-05T11:00:00Z,email
    r2,2026-01-09T09:00:00Z,2026-01-13T09:00:00Z,email
    r3,2026-01-06T09:00:00Z,,chat
    r4,2026-01-12T09:00:00Z,2026-01-12T10:00:00Z,chat
"""
# resolution seconds: r1 7200 (resolved week 1), r2 4 d = 345600 (created week 1, resolved
# week 2), r3 unresolved, r4 3600 (week 2)
RESOLUTION_KPIS = ["ticket_volume", "resolution_time", "resolution_rate"]


def test_resolution_time_is_placed_by_resolved_at(tmp_path: Path) -> None:
    result = run(tmp_path, RESOLUTION_KPIS, tickets=RESOLUTION_TICKETS, grain="week")
    w1 = row(result, period=WEEK1)
    w2 = row(result, period=WEEK2)
    # ticket_volume by created_at: week 1 = r1, r2, r3; week 2 = r4
    assert vn(w1, "ticket_volume") == (3, 3)
    assert vn(w2, "ticket_volume") == (1, 1)
    # resolution_time by resolved_at: week 1 = [r1 7200]; week 2 = [r4 3600, r2 345600]
    assert vn(w1, "resolution_time") == (pytest.approx(7200.0), 1)
    assert vn(w2, "resolution_time") == (pytest.approx((3600 + 345600) / 2), 2)  # 174600
    # resolution_rate by created_at: week 1 r1, r2 resolved of r1, r2, r3 = 2/3; week 2 1/1
    assert vn(w1, "resolution_rate") == (pytest.approx(2 / 3), 3)
    assert vn(w2, "resolution_rate") == (pytest.approx(1.0), 1)


def test_totals_are_computed_over_all_records_not_averaged_over_groups(tmp_path: Path) -> None:
    result = run(tmp_path, RESOLUTION_KPIS, tickets=RESOLUTION_TICKETS, grain="week")
    t = totals(result)
    assert vn(t, "ticket_volume") == (4, 4)  # 3 + 1
    # median of [3600, 7200, 345600] = 7200 (a mean of the group medians would be 90900)
    assert vn(t, "resolution_time") == (pytest.approx(7200.0), 3)
    # 3 resolved / 4 created = 0.75 (a mean of the group rates would be (2/3 + 1)/2 ≈ 0.833)
    assert vn(t, "resolution_rate") == (pytest.approx(0.75), 4)


def test_totals_with_by_dimension(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at,agent
        a,2026-01-05T09:00:00Z,2026-01-05T09:01:00Z,ann
        b,2026-01-05T09:00:00Z,2026-01-05T09:02:00Z,ann
        c,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,ann
        d,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,bob
    """
    result = run(tmp_path, ["ticket_volume", "first_response_time"], tickets=tickets, by=["agent"])
    # ann: FRT [60, 120, 600] → median 120; bob: [3600] → 3600
    assert vn(row(result, agent="ann"), "first_response_time") == (pytest.approx(120.0), 3)
    assert vn(row(result, agent="bob"), "first_response_time") == (pytest.approx(3600.0), 1)
    assert vn(row(result, agent="ann"), "ticket_volume") == (3, 3)
    assert vn(row(result, agent="bob"), "ticket_volume") == (1, 1)
    # totals: median of [60, 120, 600, 3600] = (120 + 600)/2 = 360, not (120 + 3600)/2 = 1860
    t = totals(result)
    assert vn(t, "first_response_time") == (pytest.approx(360.0), 4)
    assert vn(t, "ticket_volume") == (4, 4)


def test_resolution_period_filter_uses_each_anchor(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        RESOLUTION_KPIS,
        tickets=RESOLUTION_TICKETS,
        date_from="2026-01-12",
        date_to="2026-01-18",
    )
    t = totals(result)
    # created in 12–18 Jan: r4 only
    assert vn(t, "ticket_volume") == (1, 1)
    # resolved in 12–18 Jan: r2 (345600, created the week before) and r4 (3600) → median 174600
    assert vn(t, "resolution_time") == (pytest.approx(174600.0), 2)
    # of the tickets created in the period (r4), 1 resolved → 1/1
    assert vn(t, "resolution_rate") == (pytest.approx(1.0), 1)


def test_resolution_rate_counts_resolutions_after_the_period(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        RESOLUTION_KPIS,
        tickets=RESOLUTION_TICKETS,
        date_from="2026-01-05",
        date_to="2026-01-09",
    )
    t = totals(result)
    # created 5–9 Jan: r1, r2, r3
    assert vn(t, "ticket_volume") == (3, 3)
    # r2 was resolved on 13 Jan, after the period, and still counts as resolved ("at any time
    # up to the end of the data"): (r1, r2) / 3
    assert vn(t, "resolution_rate") == (pytest.approx(2 / 3), 3)
    # ...but its resolution time belongs to the period of resolved_at: only r1 here
    assert vn(t, "resolution_time") == (pytest.approx(7200.0), 1)


def test_unreadable_or_missing_created_at_excludes_the_ticket(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at
        a,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z
        b,2026-01-05T09:00:00Z,2026-01-05T09:20:00Z
        c,,2026-01-05T09:30:00Z
        d,yesterday,2026-01-05T09:40:00Z
    """
    result = run(tmp_path, ["ticket_volume", "first_response_time"], tickets=tickets)
    t = totals(result)
    # c has no created_at and d's cannot be read: both records are unusable
    assert vn(t, "ticket_volume") == (2, 2)
    assert vn(t, "first_response_time") == (pytest.approx(900.0), 2)  # median(600, 1200)
    q = quality(result)
    assert q[("tickets", "created_at: missing value (required)")] == 1
    assert q[("tickets", "created_at: cannot read as a date-time")] == 1


def test_resolution_time_stats_and_negative_durations(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,resolved_at
        a,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z
        b,2026-01-05T09:00:00Z,2026-01-05T11:00:00Z
        c,2026-01-05T09:00:00Z,2026-01-05T15:00:00Z
        d,2026-01-05T12:00:00Z,2026-01-05T11:00:00Z
        e,2026-01-05T09:00:00Z,
    """
    kpis = [
        "resolution_time",
        {"id": "res_mean", "kpi": "resolution_time", "stat": "mean"},
        {"id": "res_max", "kpi": "resolution_time", "stat": "max"},
        "resolution_rate",
    ]
    result = run(tmp_path, kpis, tickets=tickets)
    t = totals(result)
    # valid: a 3600, b 7200, c 21600; d is −3600 (excluded); e unresolved (null)
    assert vn(t, "resolution_time") == (pytest.approx(7200.0), 3)
    assert vn(t, "res_mean") == (pytest.approx((3600 + 7200 + 21600) / 3), 3)  # 10800
    assert vn(t, "res_max") == (pytest.approx(21600.0), 3)
    # resolution_rate: tickets with a resolved_at (a, b, c, d) / created (5) = 4/5
    assert vn(t, "resolution_rate") == (pytest.approx(0.8), 5)
    assert quality(result)[("tickets", "resolved_at before created_at")] == 1


def test_missing_input_column_makes_kpi_unavailable_not_zero(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,channel
        a,2026-01-05T09:00:00Z,email
        b,2026-01-05T10:00:00Z,chat
    """
    kpis = ["ticket_volume", "resolution_rate", "resolution_time", "first_response_time", "csat"]
    result = run(tmp_path, kpis, tickets=tickets)
    for kpi, column in (
        ("resolution_rate", "resolved_at"),
        ("resolution_time", "resolved_at"),
        ("first_response_time", "first_response_at"),
    ):
        s = status(result, kpi)
        assert not s.available
        assert column in s.reason
        # unavailable KPIs get no column at all: never a 0 that looks like a measurement
        assert kpi not in result.totals.columns
        assert kpi + "__n" not in result.totals.columns
    # no surveys source at all
    assert not status(result, "csat").available
    assert "surveys" in status(result, "csat").reason
    assert status(result, "ticket_volume").available
    assert vn(totals(result), "ticket_volume") == (2, 2)


# --- empty groups and zero denominators ---------------------------------------------------

MIXED_TICKETS = """
    ticket_id,created_at,first_response_at,resolved_at,channel
    t1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email
    t2,2026-01-05T09:00:00Z,2026-01-05T09:20:00Z,,chat
"""
MIXED_CALLS = """
    call_id,queued_at,answered_at,ended_at
    c1,2026-01-12T10:00:00Z,2026-01-12T10:00:30Z,2026-01-12T10:05:00Z
    c2,2026-01-12T11:00:00Z,,2026-01-12T11:01:00Z
"""
MIXED_KPIS = [
    "ticket_volume",
    "first_response_time",
    "resolution_rate",
    "call_volume",
    "average_speed_of_answer",
    "abandonment_rate",
]


def test_empty_channel_group(tmp_path: Path) -> None:
    result = run(tmp_path, MIXED_KPIS, tickets=MIXED_TICKETS, calls=MIXED_CALLS, by=["channel"])
    # calls have no channel column: every call is 'phone'; no ticket is
    phone = row(result, channel="phone")
    assert vn(phone, "ticket_volume") == (0, 0)  # a count of nothing is 0, with n 0
    assert vn(phone, "first_response_time") == (None, 0)  # no values → null
    assert vn(phone, "resolution_rate") == (None, 0)  # 0/0 → null, never NaN
    assert vn(phone, "call_volume") == (2, 2)
    assert vn(phone, "average_speed_of_answer") == (pytest.approx(30.0), 1)  # c1 waited 30 s
    assert vn(phone, "abandonment_rate") == (pytest.approx(0.5), 2)  # c2 / (c1, c2)
    email = row(result, channel="email")
    assert vn(email, "ticket_volume") == (1, 1)
    assert vn(email, "first_response_time") == (pytest.approx(600.0), 1)
    assert vn(email, "resolution_rate") == (pytest.approx(1.0), 1)
    assert vn(email, "call_volume") == (0, 0)
    assert vn(email, "average_speed_of_answer") == (None, 0)
    assert vn(email, "abandonment_rate") == (None, 0)
    chat = row(result, channel="chat")
    assert vn(chat, "ticket_volume") == (1, 1)
    assert vn(chat, "first_response_time") == (pytest.approx(1200.0), 1)
    assert vn(chat, "resolution_rate") == (pytest.approx(0.0), 1)  # 0 resolved / 1
    assert result.table.height == 3
    assert_no_nan_or_inf(result.table)


def test_empty_period_group(tmp_path: Path) -> None:
    result = run(tmp_path, MIXED_KPIS, tickets=MIXED_TICKETS, calls=MIXED_CALLS, grain="week")
    # tickets only in week 1, calls only in week 2
    w1, w2 = row(result, period=WEEK1), row(result, period=WEEK2)
    assert vn(w1, "ticket_volume") == (2, 2)
    assert vn(w1, "call_volume") == (0, 0)
    assert vn(w1, "abandonment_rate") == (None, 0)
    assert vn(w2, "ticket_volume") == (0, 0)
    assert vn(w2, "first_response_time") == (None, 0)
    assert vn(w2, "resolution_rate") == (None, 0)
    assert vn(w2, "call_volume") == (2, 2)
    assert_no_nan_or_inf(result.table)


def test_zero_denominators_are_null(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,ended_at,talk_seconds,hold_seconds,wrap_seconds,queue
        a1,2026-01-05T10:00:00Z,,2026-01-05T10:00:40Z,,,,sales
        b1,2026-01-05T10:00:00Z,,2026-01-05T10:00:02Z,,,,support
    """
    kpis = [
        "call_volume",
        "average_speed_of_answer",
        "average_handle_time",
        {"id": "sl_excl", "kpi": "service_level", "abandons": "excluded"},
        {"id": "aband_sa", "kpi": "abandonment_rate", "short_abandon": "5s"},
    ]
    result = run(tmp_path, kpis, calls=calls, by=["queue"])
    sales = row(result, queue="sales")
    # one abandoned call: nothing answered
    assert vn(sales, "call_volume") == (1, 1)
    assert vn(sales, "average_speed_of_answer") == (None, 0)
    assert vn(sales, "average_handle_time") == (None, 0)
    # abandons excluded: the denominator (answered calls) is 0 → null
    assert vn(sales, "sl_excl") == (None, 0)
    # the 40 s abandon is not short: 1 abandoned / 1 offered
    assert vn(sales, "aband_sa") == (pytest.approx(1.0), 1)
    support = row(result, queue="support")
    # the only call is a 2 s abandon, shorter than 5 s: excluded from both sides → 0/0 → null
    assert vn(support, "aband_sa") == (None, 0)
    assert vn(support, "sl_excl") == (None, 0)
    t = totals(result)
    assert vn(t, "sl_excl") == (None, 0)
    assert vn(t, "aband_sa") == (pytest.approx(1.0), 1)  # 1 abandoned (a1) / 1 (b1 is short)
    assert_no_nan_or_inf(result.table)
    assert_no_nan_or_inf(result.totals)


# --- calls --------------------------------------------------------------------------------

CALLS = """
    call_id,queued_at,answered_at,ended_at,talk_seconds,hold_seconds,wrap_seconds
    c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,2026-01-05T10:05:40Z,300,0,30
    c2,2026-01-05T10:00:00Z,2026-01-05T10:00:20Z,2026-01-05T10:04:40Z,200,60,
    c3,2026-01-05T10:00:00Z,2026-01-05T10:00:45Z,2026-01-05T10:02:25Z,100,,20
    c4,2026-01-05T10:00:00Z,,2026-01-05T10:00:03Z,,,
    c5,2026-01-05T10:00:00Z,,2026-01-05T10:00:05Z,,,
    c6,2026-01-05T10:00:00Z,,2026-01-05T10:00:15Z,,,
    c7,2026-01-05T10:00:00Z,,2026-01-05T10:01:00Z,,,
"""
# all inbound (no direction column). Answered: c1 after 10 s, c2 after exactly 20 s, c3 after
# 45 s. Abandoned: c4 after 3 s, c5 after exactly 5 s, c6 after 15 s, c7 after 60 s.
# Handle: c1 300+0+30 = 330, c2 200+60+null→0 = 260, c3 100+null→0+20 = 120.


def test_call_volume(tmp_path: Path) -> None:
    t = totals(run(tmp_path, ["call_volume"], calls=CALLS))
    assert vn(t, "call_volume") == (7, 7)  # 3 answered + 4 abandoned, all offered


def test_call_volume_and_speed_of_answer_count_inbound_only(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,direction
        i1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,inbound
        i2,2026-01-05T10:00:00Z,,inbound
        o1,2026-01-05T10:00:00Z,2026-01-05T10:00:50Z,outbound
    """
    kpis = ["call_volume", "average_speed_of_answer", "abandonment_rate", "service_level"]
    t = totals(run(tmp_path, kpis, calls=calls))
    assert vn(t, "call_volume") == (2, 2)  # i1, i2; o1 is outbound
    assert vn(t, "average_speed_of_answer") == (pytest.approx(10.0), 1)  # i1 only
    assert vn(t, "abandonment_rate") == (pytest.approx(0.5), 2)  # i2 / (i1, i2)
    assert vn(t, "service_level") == (pytest.approx(0.5), 2)  # i1 (10 s ≤ 20 s) / (i1, i2)


def test_direction_values_are_case_insensitive(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,direction
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,Inbound
        c2,2026-01-05T10:00:00Z,,INBOUND
        c3,2026-01-05T10:00:00Z,2026-01-05T10:00:50Z,OUTBOUND
    """
    t = totals(run(tmp_path, ["call_volume", "abandonment_rate"], calls=calls))
    # direction is a code: trimmed and lower-cased like survey_type
    assert vn(t, "call_volume") == (2, 2)  # c1, c2 are inbound; c3 is not
    assert vn(t, "abandonment_rate") == (pytest.approx(0.5), 2)  # c2 / (c1, c2)


def test_average_handle_time(tmp_path: Path) -> None:
    kpis = [
        "average_handle_time",
        {"id": "aht_median", "kpi": "average_handle_time", "stat": "median"},
        {"id": "aht_max", "kpi": "average_handle_time", "stat": "max"},
    ]
    t = totals(run(tmp_path, kpis, calls=CALLS))
    # answered calls only; null hold/wrap count as 0: (330 + 260 + 120) / 3 = 710/3
    assert vn(t, "average_handle_time") == (pytest.approx(710 / 3), 3)
    assert vn(t, "aht_median") == (pytest.approx(260.0), 3)  # [120, 260, 330]
    assert vn(t, "aht_max") == (pytest.approx(330.0), 3)


def test_average_handle_time_null_talk_excludes_the_call(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10
        b,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,,50,50
    """
    t = totals(run(tmp_path, ["average_handle_time"], calls=calls))
    # a: 100+10+10 = 120; b has no talk time → excluded (not 0 + 50 + 50)
    assert vn(t, "average_handle_time") == (pytest.approx(120.0), 1)


def test_average_handle_time_negative_total_excluded(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10
        b,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,-500,0,0
    """
    result = run(tmp_path, ["average_handle_time"], calls=calls)
    # b: −500 + 0 + 0 < 0 → excluded; AHT = a's 120
    assert vn(totals(result), "average_handle_time") == (pytest.approx(120.0), 1)
    assert quality(result)[("calls", "negative talk, hold or wrap seconds")] == 1


def test_average_handle_time_negative_component_excluded(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10
        b,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,300,-30,0
    """
    result = run(tmp_path, ["average_handle_time"], calls=calls)
    # b has a hold time of −30 s: a negative duration → b excluded, AHT = a's 120, n 1
    # (not 300 − 30 + 0 = 270 counted in, which would give (120 + 270)/2 = 195 over n 2)
    assert vn(totals(result), "average_handle_time") == (pytest.approx(120.0), 1)
    assert quality(result).get(("calls", "negative talk, hold or wrap seconds")) == 1


def test_average_handle_time_empty_talk_is_a_finding(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10
        b,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,,50,50
        c,2026-01-05T10:00:00Z,,,,
    """
    result = run(tmp_path, ["average_handle_time"], calls=calls)
    # b is answered with no talk time → excluded and counted; c is not answered (no finding)
    assert vn(totals(result), "average_handle_time") == (pytest.approx(120.0), 1)
    [issue] = [q for q in result.data_quality if "talk_seconds" in q.issue]
    assert (issue.issue, issue.rows) == ("answered inbound call with an empty talk_seconds", 1)
    assert issue.effect == "excluded from average_handle_time"
    assert issue.examples == (("calls.csv", 3),)  # b: the header is line 1, a line 2


OVERFLOW_CALLS = """
    call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds,queue
    a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,100,10,10,q
    b,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,inf,0,0,q
    c,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,1e308,1e308,0,q
    d,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,-inf,0,0,q
    e,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,9007199254740992,0,0,q
    f,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,Infinity,0,0,x
"""
# b, d, f: ±inf; c: 1e308 + 1e308 = inf (float max ≈ 1.8e308), and two of them in a mean;
# e: exactly 2^53 = 9007199254740992, the first magnitude refused.


def test_infinite_and_overflowing_values_are_findings(tmp_path: Path) -> None:
    kpis = ["average_handle_time", "average_hold_time"]
    result = run(tmp_path, kpis, calls=OVERFLOW_CALLS, by=["queue"])
    t = totals(result)
    # talk read as missing for b, c, d, e, f → only a is left: 100 + 10 + 10 = 120 over n 1
    assert vn(t, "average_handle_time") == (pytest.approx(120.0), 1)
    # hold: a 10, b 0, c 1e308 → missing → 0 (an empty hold counts 0), d 0, e 0, f 0 → 10/6
    assert vn(t, "average_hold_time") == (pytest.approx(10 / 6), 6)
    q = quality(result)
    assert (
        q[
            (
                "calls",
                "talk_seconds: inf, NaN or a number beyond ±2^53 (a sum or mean of it overflows)",
            )
        ]
        == 5
    )
    assert (
        q[
            (
                "calls",
                "hold_seconds: inf, NaN or a number beyond ±2^53 (a sum or mean of it overflows)",
            )
        ]
        == 1
    )
    assert q[("calls", "answered inbound call with an empty talk_seconds")] == 5
    # queue x holds only f: a null value, and always n = 0 with it (never null over n 1)
    assert vn(row(result, queue="x"), "average_handle_time") == (None, 0)
    assert vn(row(result, queue="q"), "average_handle_time") == (pytest.approx(120.0), 1)
    assert_no_nan_or_inf(result.table)
    assert_no_nan_or_inf(result.totals)


def test_nan_and_inf_in_a_parquet_float_column_are_findings(tmp_path: Path) -> None:
    stamp = datetime(2026, 1, 5, 10, tzinfo=ZoneInfo("UTC"))
    pl.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "queued_at": [stamp] * 3,
            "answered_at": [stamp] * 3,
            "talk_seconds": [100.0, float("nan"), float("inf")],
            "hold_seconds": [10.0, 0.0, 0.0],
            "wrap_seconds": [10.0, 0.0, 0.0],
        }
    ).write_parquet(tmp_path / "calls.parquet")
    path = tmp_path / "cscli.yaml"
    path.write_text(
        "sources: {calls: {path: calls.parquet}}\nkpis: [average_handle_time]\n",
        encoding="utf-8",
    )
    result = api.report(path)
    # a float file keeps NaN and inf as numbers: both read as missing → a alone, 120 over n 1
    assert vn(totals(result), "average_handle_time") == (pytest.approx(120.0), 1)
    q = quality(result)
    assert (
        q[
            (
                "calls",
                "talk_seconds: inf, NaN or a number beyond ±2^53 (a sum or mean of it overflows)",
            )
        ]
        == 2
    )


def test_an_infinite_score_excludes_the_response(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,5,csat
        2026-01-05T10:00:00Z,inf,csat
        2026-01-05T10:00:00Z,2,csat
    """
    result = run(tmp_path, [{"id": "csat_mean", "kpi": "csat", "stat": "mean"}], surveys=surveys)
    # score is required: the inf response is excluded → (5 + 2)/2 = 3.5 over n 2
    assert vn(totals(result), "csat_mean") == (pytest.approx(3.5), 2)
    [issue] = [q for q in result.data_quality if q.issue.startswith("score: inf")]
    assert (issue.rows, issue.effect) == (1, "records excluded")


def test_average_speed_of_answer(tmp_path: Path) -> None:
    kpis = [
        "average_speed_of_answer",
        {"id": "asa_median", "kpi": "average_speed_of_answer", "stat": "median"},
        {"id": "asa_p90", "kpi": "average_speed_of_answer", "stat": "p90"},
        {"id": "asa_min", "kpi": "average_speed_of_answer", "stat": "min"},
    ]
    t = totals(run(tmp_path, kpis, calls=CALLS))
    # answered inbound calls: [10, 20, 45]; abandons have no answer time
    assert vn(t, "average_speed_of_answer") == (pytest.approx(25.0), 3)  # 75/3
    assert vn(t, "asa_median") == (pytest.approx(20.0), 3)
    # p90 rank 0.9·2 = 1.8 → 20 + 0.8·(45−20) = 40
    assert vn(t, "asa_p90") == (pytest.approx(40.0), 3)
    assert vn(t, "asa_min") == (pytest.approx(10.0), 3)


def test_average_speed_of_answer_negative_excluded(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:30Z
        b,2026-01-05T10:00:00Z,2026-01-05T09:59:00Z
    """
    result = run(tmp_path, ["average_speed_of_answer"], calls=calls)
    # b answered 60 s before it was queued → excluded; ASA = 30 over 1 call
    assert vn(totals(result), "average_speed_of_answer") == (pytest.approx(30.0), 1)
    assert quality(result)[("calls", "answered_at before queued_at")] == 1


def test_service_level_leaves_out_answers_before_queueing(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,ended_at
        a,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,2026-01-05T10:05:00Z
        b,2026-01-05T10:00:00Z,2026-01-05T09:59:00Z,2026-01-05T10:05:00Z
        c,2026-01-05T10:00:00Z,,2026-01-05T10:01:00Z
    """
    result = run(tmp_path, ["service_level", "call_volume"], calls=calls)
    t = totals(result)
    # b's answer time is −60 s (unusable): it is neither met nor missed → a / (a, c) = 1/2
    assert vn(t, "service_level") == (pytest.approx(0.5), 2)
    assert vn(t, "call_volume") == (3, 3)  # b was still offered
    assert quality(result)[("calls", "answered_at before queued_at")] == 1


ABANDONMENT_KPIS = [
    "abandonment_rate",
    {"id": "aband_5s", "kpi": "abandonment_rate", "short_abandon": "5s"},
    {"id": "aband_6s", "kpi": "abandonment_rate", "short_abandon": 6},
]


def test_abandonment_rate_with_and_without_short_abandon(tmp_path: Path) -> None:
    t = totals(run(tmp_path, ABANDONMENT_KPIS, calls=CALLS))
    # no short_abandon: abandoned c4, c5, c6, c7 / offered 7 = 4/7
    assert vn(t, "abandonment_rate") == (pytest.approx(4 / 7), 7)
    # short_abandon 5 s: c4 (3 s < 5 s) leaves both sides; c5 waited exactly 5 s, not less,
    # so it stays an abandon → (c5, c6, c7) / (7 − 1) = 3/6
    assert vn(t, "aband_5s") == (pytest.approx(0.5), 6)
    # short_abandon 6 s: c4 and c5 leave → (c6, c7) / 5 = 2/5
    assert vn(t, "aband_6s") == (pytest.approx(0.4), 5)


SERVICE_LEVEL_KPIS = [
    "service_level",
    {"id": "sl_10s", "kpi": "service_level", "threshold": "10s"},
    {"id": "sl_45s", "kpi": "service_level", "threshold": 45},
    {"id": "sl_met", "kpi": "service_level", "abandons": "met"},
    {"id": "sl_excluded", "kpi": "service_level", "abandons": "excluded"},
    {"id": "sl_short5", "kpi": "service_level", "short_abandon": "5s"},
    {"id": "sl_short6", "kpi": "service_level", "short_abandon": "6s"},
    {"id": "sl_met_short5", "kpi": "service_level", "abandons": "met", "short_abandon": "5s"},
    {
        "id": "sl_excl_short5",
        "kpi": "service_level",
        "params": {"abandons": "excluded", "short_abandon": "5s"},
    },
]


def test_service_level_default_threshold_is_inclusive(tmp_path: Path) -> None:
    t = totals(run(tmp_path, SERVICE_LEVEL_KPIS, calls=CALLS))
    # default 20 s, abandons missed: answered within 20 s = c1 (10 s) and c2 (exactly 20 s,
    # which meets the target) / all 7 offered = 2/7
    assert vn(t, "service_level") == (pytest.approx(2 / 7), 7)
    # 10 s: c1 only → 1/7; 45 s: c1, c2, c3 → 3/7
    assert vn(t, "sl_10s") == (pytest.approx(1 / 7), 7)
    assert vn(t, "sl_45s") == (pytest.approx(3 / 7), 7)


def test_service_level_abandon_handling(tmp_path: Path) -> None:
    t = totals(run(tmp_path, SERVICE_LEVEL_KPIS, calls=CALLS))
    # met: answered ≤ 20 s (c1, c2) + abandoned ≤ 20 s (c4 3 s, c5 5 s, c6 15 s) = 5 / 7
    assert vn(t, "sl_met") == (pytest.approx(5 / 7), 7)
    # excluded: (c1, c2) / answered (c1, c2, c3) = 2/3
    assert vn(t, "sl_excluded") == (pytest.approx(2 / 3), 3)


def test_service_level_short_abandon_boundary(tmp_path: Path) -> None:
    t = totals(run(tmp_path, SERVICE_LEVEL_KPIS, calls=CALLS))
    # short_abandon 5 s: c4 (3 s) leaves the denominator; c5 (exactly 5 s) stays → 2 / 6
    assert vn(t, "sl_short5") == (pytest.approx(2 / 6), 6)
    # short_abandon 6 s: c4 and c5 leave → 2 / 5
    assert vn(t, "sl_short6") == (pytest.approx(2 / 5), 5)
    # met + short 5 s: c4 gone; met = c1, c2, c5, c6 → 4 / 6
    assert vn(t, "sl_met_short5") == (pytest.approx(4 / 6), 6)
    # excluded + short 5 s: abandons leave anyway → 2/3 over the 3 answered calls
    assert vn(t, "sl_excl_short5") == (pytest.approx(2 / 3), 3)


# --- surveys ------------------------------------------------------------------------------

SURVEYS = """
    responded_at,score,survey_type
    2026-01-05T10:00:00Z,5,csat
    2026-01-05T10:00:00Z,4,CSAT
    2026-01-05T10:00:00Z,3,csat
    2026-01-05T10:00:00Z,1,csat
    2026-01-05T10:00:00Z,6,csat
    2026-01-05T10:00:00Z,0,csat
    2026-01-05T10:00:00Z,0,nps
    2026-01-05T10:00:00Z,6,nps
    2026-01-05T10:00:00Z,7,nps
    2026-01-05T10:00:00Z,8,nps
    2026-01-05T10:00:00Z,9,nps
    2026-01-05T10:00:00Z,9,nps
    2026-01-05T10:00:00Z,10,nps
    2026-01-05T10:00:00Z,11,nps
    2026-01-05T10:00:00Z,2,ces
    2026-01-05T10:00:00Z,5,ces
    2026-01-05T10:00:00Z,7,ces
    2026-01-05T10:00:00Z,8,ces
"""
# csat in scale 1–5: [5, 4 (type written 'CSAT'), 3, 1]; 6 and 0 are outside the scale.
# nps in 0–10: [0, 6, 7, 8, 9, 9, 10]; 11 is outside. ces in 1–7: [2, 5, 7]; 8 is outside.
SURVEY_KPIS = [
    "csat",
    {"id": "csat_mean", "kpi": "csat", "stat": "mean"},
    {"id": "csat_3", "kpi": "csat", "satisfied_min": 3},
    "nps",
    "ces",
]


def test_csat_share_counts_satisfied_min_as_satisfied(tmp_path: Path) -> None:
    t = totals(run(tmp_path, SURVEY_KPIS, surveys=SURVEYS))
    # scores ≥ 4: 5 and 4 (4 is exactly satisfied_min) / in-scale responses 4 = 0.5
    assert vn(t, "csat") == (pytest.approx(0.5), 4)
    # satisfied_min 3: 5, 4, 3 / 4 = 0.75
    assert vn(t, "csat_3") == (pytest.approx(0.75), 4)


def test_csat_mean(tmp_path: Path) -> None:
    result = run(tmp_path, SURVEY_KPIS, surveys=SURVEYS)
    # (5 + 4 + 3 + 1) / 4 = 3.25
    assert vn(totals(result), "csat_mean") == (pytest.approx(3.25), 4)
    assert status(result, "csat_mean").kpi.unit == "score"


def test_survey_scores_outside_the_scale_are_reported(tmp_path: Path) -> None:
    q = quality(run(tmp_path, SURVEY_KPIS, surveys=SURVEYS))
    assert q[("surveys", "csat score outside 1–5")] == 2  # 6 and 0
    assert q[("surveys", "nps score outside 0–10")] == 1  # 11
    assert q[("surveys", "ces score outside 1–7")] == 1  # 8


def test_nps(tmp_path: Path) -> None:
    t = totals(run(tmp_path, SURVEY_KPIS, surveys=SURVEYS))
    # [0, 6, 7, 8, 9, 9, 10]: promoters (≥ 9) 9, 9, 10 = 3; detractors (≤ 6) 0, 6 = 2;
    # passives 7, 8 count only in n → 100·(3 − 2)/7 = 14.2857
    assert vn(t, "nps") == (pytest.approx(100 / 7), 7)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([10, 9, 10], 100.0),  # all promoters
        ([0, 6, 3], -100.0),  # all detractors: negative, not a UInt32 wrap-around
        ([6, 7, 9], 0.0),  # 6 detractor, 7 passive, 9 promoter → (1 − 1)/3
        ([7, 8], 0.0),  # passives only → 0 over n 2
        ([6, 6, 6, 9], -50.0),  # (1 − 3)/4 · 100
    ],
)
def test_nps_range(tmp_path: Path, scores: list[int], expected: float) -> None:
    surveys = "responded_at,score,survey_type\n" + "\n".join(
        f"2026-01-05T10:00:00Z,{s},nps" for s in scores
    )
    t = totals(run(tmp_path, ["nps"], surveys=surveys))
    assert vn(t, "nps") == (pytest.approx(expected), len(scores))


def test_ces_mean(tmp_path: Path) -> None:
    t = totals(run(tmp_path, SURVEY_KPIS, surveys=SURVEYS))
    # (2 + 5 + 7)/3 = 14/3 on the default 1–7 scale (8 excluded)
    assert vn(t, "ces") == (pytest.approx(14 / 3), 3)


def test_survey_kpis_without_responses_are_null(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,9,asat
    """
    t = totals(run(tmp_path, ["csat", "nps", "ces"], surveys=surveys))
    # no csat/nps/ces response at all → null with n 0 each
    assert vn(t, "csat") == (None, 0)
    assert vn(t, "nps") == (None, 0)
    assert vn(t, "ces") == (None, 0)


def test_csat_on_a_ten_point_scale(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,10,csat
        2026-01-05T10:00:00Z,9,csat
        2026-01-05T10:00:00Z,8,csat
        2026-01-05T10:00:00Z,1,csat
        2026-01-05T10:00:00Z,11,csat
    """
    kpi = {"id": "csat10", "kpi": "csat", "params": {"scale": 10, "satisfied_min": 9}}
    result = run(tmp_path, [kpi], surveys=surveys)
    # in 1–10: [10, 9, 8, 1]; ≥ 9: 10 and 9 → 2/4; 11 is outside the scale
    assert vn(totals(result), "csat10") == (pytest.approx(0.5), 4)
    assert quality(result)[("surveys", "csat score outside 1–10")] == 1


CSAT_TEN = """
    responded_at,score,survey_type
    2026-01-05T10:00:00Z,10,csat
    2026-01-05T10:00:00Z,9,csat
    2026-01-05T10:00:00Z,8,csat
    2026-01-05T10:00:00Z,7,csat
    2026-01-05T10:00:00Z,6,csat
    2026-01-05T10:00:00Z,1,csat
"""


def test_csat_satisfied_min_follows_the_scale(tmp_path: Path) -> None:
    kpis = [
        {"id": "csat10", "kpi": "csat", "scale": 10},
        {"id": "csat10_8", "kpi": "csat", "scale": 10, "satisfied_min": 8},
        {"id": "csat7", "kpi": "csat", "scale": 7},
    ]
    result = run(tmp_path, kpis, surveys=CSAT_TEN)
    t = totals(result)
    # scale 10, satisfied_min not given → top-2-box 10 − 1 = 9: [10, 9] of 6 = 1/3
    # (it used to stay at 4, counting 10, 9, 8, 7, 6 = 5/6)
    assert vn(t, "csat10") == (pytest.approx(1 / 3), 6)
    # given satisfied_min 8 wins over the scale: [10, 9, 8] of 6 = 1/2
    assert vn(t, "csat10_8") == (pytest.approx(0.5), 6)
    # scale 7 → satisfied_min 6; in 1–7: [7, 6, 1] (10, 9, 8 outside) → [7, 6] of 3 = 2/3
    assert vn(t, "csat7") == (pytest.approx(2 / 3), 3)
    csat10 = status(result, "csat10").kpi
    assert "at least 9 on the 1–10 scale" in csat10.definition
    assert "Scores outside 1–10 are excluded" in csat10.definition
    assert csat10.title == "CSAT (scale=10)"  # satisfied_min was not given: not a change
    assert "at least 6 on the 1–7 scale" in status(result, "csat7").kpi.definition


def test_csat_default_definition_states_its_scale() -> None:
    from cscli.kpis.catalog import CATALOG
    from cscli.kpis.spec import instantiate

    kpi = instantiate(CATALOG["csat"])
    # the default scale 5 → satisfied_min 5 − 1 = 4, stated with the actual scale
    assert kpi.params["satisfied_min"] == 4.0
    assert "at least 4 on the 1–5 scale" in kpi.definition
    assert "top-2-box on 1–5" not in kpi.definition  # no hard-coded scale any more


def test_csat_satisfied_min_off_the_scale_is_a_config_error(tmp_path: Path) -> None:
    from cscli.config import load_config
    from cscli.errors import ConfigError

    path = tmp_path / "cscli.yaml"
    path.write_text(
        "sources: {surveys: {path: s.csv}}\n"
        "kpis:\n"
        "  - {id: csat10, kpi: csat, params: {scale: 10, satisfied_min: 11}}\n"
        "  - {id: csat_six, kpi: csat, satisfied_min: 6}\n"
        "  - {id: csat_one, kpi: csat, scale: 1}\n"
        "  - {id: csat_ok, kpi: csat, scale: 10, satisfied_min: 10}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = [str(p) for p in info.value.problems]
    # each at the value that is wrong (line:column of `11`, `6` and `1` above)
    assert found == [
        f"{path}:3:64: csat10.satisfied_min: 11 is not on the 1–10 scale: give a score from "
        "1 to 10 (or set scale:)",
        f"{path}:4:46: csat_six.satisfied_min: 6 is not on the 1–5 scale: give a score from "
        "1 to 5 (or set scale:)",
        f"{path}:5:38: csat_one.scale: expected a finite number at least 2, got 1",
    ]


def test_sentiment_neutral_must_lie_between_0_and_1(tmp_path: Path) -> None:
    from cscli.config import load_config
    from cscli.errors import ConfigError

    path = tmp_path / "cscli.yaml"
    path.write_text(
        "sources: {surveys: {path: s.csv}}\n"
        "kpis:\n"
        "  - {id: neg0, kpi: negative_share, neutral: 0}\n"
        "  - {id: pos1, kpi: positive_share, neutral: 1}\n"
        "  - {id: neg_minus, kpi: negative_share, neutral: -0.1}\n"
        "  - {id: pos_ok, kpi: positive_share, neutral: 0.5}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = [str(p).split(": ", 1)[1] for p in info.value.problems]
    # 0 would make every text negative or positive (≤ −0 / ≥ +0), 1 none of them: both refused
    assert found == [
        "neg0.neutral: expected a finite number above 0 and below 1, got 0",
        "pos1.neutral: expected a finite number above 0 and below 1, got 1",
        "neg_minus.neutral: expected a finite number above 0 and below 1, got -0.1",
    ]


def test_ces_scale_and_direction_params(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,1,ces
        2026-01-05T10:00:00Z,4,ces
        2026-01-05T10:00:00Z,6,ces
    """
    kpi = {"id": "ces5", "kpi": "ces", "params": {"scale": 5, "higher_is_better": False}}
    result = run(tmp_path, ["ces", kpi], surveys=surveys)
    t = totals(result)
    # default 1–7: (1 + 4 + 6)/3 = 11/3; on 1–5 the 6 is out of scale: (1 + 4)/2 = 2.5
    assert vn(t, "ces") == (pytest.approx(11 / 3), 3)
    assert vn(t, "ces5") == (pytest.approx(2.5), 2)
    assert status(result, "ces").kpi.higher_is_better is True
    assert status(result, "ces5").kpi.higher_is_better is False


def test_ces_flat_higher_is_better_param(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,2,ces
    """
    kpi = {"id": "ces_rev", "kpi": "ces", "higher_is_better": False}
    result = run(tmp_path, [kpi], surveys=surveys)
    assert status(result, "ces_rev").kpi.higher_is_better is False
    assert vn(totals(result), "ces_rev") == (pytest.approx(2.0), 1)


def test_constant_survey_type_from_the_source(tmp_path: Path) -> None:
    surveys = """
        responded_at,score
        2026-01-05T10:00:00Z,10
        2026-01-05T10:00:00Z,3
        2026-01-05T10:00:00Z,9
        2026-01-05T10:00:00Z,9
    """
    result = run(
        tmp_path,
        ["nps", "csat"],
        surveys=surveys,
        source_options={"surveys": {"survey_type": "nps"}},
    )
    t = totals(result)
    # every row is an nps response: promoters 10, 9, 9 = 3; detractors 3 = 1 → 100·2/4 = 50
    assert vn(t, "nps") == (pytest.approx(50.0), 4)
    assert vn(t, "csat") == (None, 0)


SURVEY_LINK_TICKETS = """
    ticket_id,created_at,channel,agent
    t1,2026-01-05T09:00:00Z,email,ann
    t2,2026-01-05T09:00:00Z,chat,bob
    t0,2025-12-20T09:00:00Z,email,bob
"""
SURVEY_LINK_SURVEYS = """
    responded_at,score,survey_type,ticket_id
    2026-01-06T10:00:00Z,5,csat,t1
    2026-01-06T10:00:00Z,2,csat,t1
    2026-01-06T10:00:00Z,4,csat,t2
    2026-01-06T10:00:00Z,5,csat,t9
    2026-01-06T10:00:00Z,1,csat,t0
"""
# t9 is not a known ticket; t0 was created before the report period


def test_surveys_are_cut_by_the_channel_of_their_ticket(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["csat"],
        tickets=SURVEY_LINK_TICKETS,
        surveys=SURVEY_LINK_SURVEYS,
        by=["channel"],
        date_from="2026-01-01",
        date_to="2026-01-31",
    )
    # email: t1 (5, 2) and t0 (1; the ticket is older than the period, its survey is not)
    # → satisfied 5 / 3 responses
    assert vn(row(result, channel="email"), "csat") == (pytest.approx(1 / 3), 3)
    assert vn(row(result, channel="chat"), "csat") == (pytest.approx(1.0), 1)  # t2: 4
    # t9 matches no ticket: its channel is unknown (null group), not dropped
    assert vn(row(result, channel=None), "csat") == (pytest.approx(1.0), 1)
    # totals: 5, 2, 4, 5, 1 → 3 satisfied of 5
    assert vn(totals(result), "csat") == (pytest.approx(0.6), 5)


def test_surveys_are_cut_by_the_agent_of_their_ticket(tmp_path: Path) -> None:
    result = run(
        tmp_path, ["csat"], tickets=SURVEY_LINK_TICKETS, surveys=SURVEY_LINK_SURVEYS, by=["agent"]
    )
    assert vn(row(result, agent="ann"), "csat") == (pytest.approx(0.5), 2)  # t1: 5, 2
    assert vn(row(result, agent="bob"), "csat") == (pytest.approx(0.5), 2)  # t2 4, t0 1


def test_surveys_are_cut_by_the_channel_of_their_call(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z
    """
    surveys = """
        responded_at,score,survey_type,ticket_id,call_id
        2026-01-06T10:00:00Z,3,csat,,c1
        2026-01-06T10:00:00Z,5,csat,,c1
        2026-01-06T10:00:00Z,4,csat,t2,
    """
    result = run(
        tmp_path,
        ["csat", "call_volume", "ticket_volume"],
        tickets=SURVEY_LINK_TICKETS,
        calls=calls,
        surveys=surveys,
        by=["channel"],
    )
    # the calls export has no channel: calls are 'phone' → c1's surveys (3, 5) → 1/2
    assert vn(row(result, channel="phone"), "csat") == (pytest.approx(0.5), 2)
    assert vn(row(result, channel="chat"), "csat") == (pytest.approx(1.0), 1)
    assert vn(row(result, channel="email"), "csat") == (None, 0)  # tickets, no surveys
    assert vn(row(result, channel="phone"), "call_volume") == (1, 1)


def test_surveys_are_cut_by_the_queue_and_agent_of_their_call(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,queue,agent
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,sales,ann
        c2,2026-01-05T10:00:00Z,2026-01-05T10:00:30Z,support,bob
    """
    surveys = """
        responded_at,score,survey_type,call_id
        2026-01-06T10:00:00Z,5,csat,c1
        2026-01-06T10:00:00Z,2,csat,c2
        2026-01-06T10:00:00Z,4,csat,c2
    """
    result = run(tmp_path, ["csat", "service_level"], calls=calls, surveys=surveys, by=["queue"])
    # sales: c1's survey 5 → 1/1; support: c2's surveys 2, 4 → 1/2
    assert vn(row(result, queue="sales"), "csat") == (pytest.approx(1.0), 1)
    assert vn(row(result, queue="support"), "csat") == (pytest.approx(0.5), 2)
    # SL per queue: c1 10 s ≤ 20 s → 1/1; c2 30 s > 20 s → 0/1
    assert vn(row(result, queue="sales"), "service_level") == (pytest.approx(1.0), 1)
    assert vn(row(result, queue="support"), "service_level") == (pytest.approx(0.0), 1)
    by_agent = run(tmp_path, ["csat"], calls=calls, surveys=surveys, by=["agent"])
    assert vn(row(by_agent, agent="bob"), "csat") == (pytest.approx(0.5), 2)


def test_survey_own_channel_column_wins(tmp_path: Path) -> None:
    surveys = """
        responded_at,score,survey_type,ticket_id,channel
        2026-01-06T10:00:00Z,5,csat,t1,web
        2026-01-06T10:00:00Z,1,csat,t1,
    """
    result = run(tmp_path, ["csat"], tickets=SURVEY_LINK_TICKETS, surveys=surveys, by=["channel"])
    # the first response names its own channel; the second inherits t1's 'email'
    assert vn(row(result, channel="web"), "csat") == (pytest.approx(1.0), 1)
    assert vn(row(result, channel="email"), "csat") == (pytest.approx(0.0), 1)


# --- periods and time zones ---------------------------------------------------------------

BERLIN_TICKETS = """
    ticket_id,created_at
    a,2026-01-31T22:30:00Z
    b,2026-01-31T23:30:00Z
    c,2026-02-01T22:59:59Z
    d,2026-02-01T23:00:00Z
"""
# Berlin is UTC+1 in winter: a = 31 Jan 23:30 local, b = 1 Feb 00:30, c = 1 Feb 23:59:59,
# d = 2 Feb 00:00 local


def test_date_filter_uses_the_config_timezone(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["ticket_volume"],
        tickets=BERLIN_TICKETS,
        timezone="Europe/Berlin",
        date_from="2026-02-01",
        date_to="2026-02-01",
    )
    # 1 Feb local = [2026-01-31T23:00Z, 2026-02-01T23:00Z) → b and c
    assert vn(totals(result), "ticket_volume") == (2, 2)


def test_date_to_alone_is_inclusive_in_local_time(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["ticket_volume"],
        tickets=BERLIN_TICKETS,
        timezone="Europe/Berlin",
        date_to="2026-01-31",
    )
    # up to the end of 31 Jan local (2026-01-31T23:00Z): a only
    assert vn(totals(result), "ticket_volume") == (1, 1)


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        # a, b, c, d in local days: 31 Jan, 1 Feb, 1 Feb, 2 Feb
        ("day", {date(2026, 1, 31): 1, date(2026, 2, 1): 2, date(2026, 2, 2): 1}),
        # ISO weeks: Sat 31 Jan and Sun 1 Feb are in the week of Mon 26 Jan; Mon 2 Feb starts one
        ("week", {date(2026, 1, 26): 3, date(2026, 2, 2): 1}),
        ("month", {date(2026, 1, 1): 1, date(2026, 2, 1): 3}),
        ("quarter", {date(2026, 1, 1): 4}),
    ],
)
def test_periods_are_cut_in_the_config_timezone(
    tmp_path: Path, grain: Grain, expected: dict[date, int]
) -> None:
    result = run(
        tmp_path, ["ticket_volume"], tickets=BERLIN_TICKETS, timezone="Europe/Berlin", grain=grain
    )
    got = dict(zip(result.table["period"], result.table["ticket_volume"], strict=True))
    assert got == expected


def test_period_column_is_a_date(tmp_path: Path) -> None:
    result = run(tmp_path, ["ticket_volume"], tickets=BERLIN_TICKETS, grain="week")
    assert result.table.schema["period"] == pl.Date


def test_periods_across_dst_from_parquet(tmp_path: Path) -> None:
    utc = ZoneInfo("UTC")
    pl.DataFrame(
        {
            "ticket_id": ["a", "b", "c", "d"],
            "created_at": [
                datetime(2026, 3, 29, 21, 30, tzinfo=utc),  # Sun 29 Mar 23:30 CEST (UTC+2)
                datetime(2026, 3, 29, 22, 30, tzinfo=utc),  # Mon 30 Mar 00:30 CEST
                datetime(2026, 10, 31, 22, 30, tzinfo=utc),  # Sat 31 Oct 23:30 CET (UTC+1)
                datetime(2026, 10, 31, 23, 30, tzinfo=utc),  # Sun 1 Nov 00:30 CET
            ],
        }
    ).write_parquet(tmp_path / "tickets.parquet")
    config = {
        "timezone": "Europe/Berlin",
        "sources": {"tickets": {"path": "tickets.parquet"}},
        "kpis": ["ticket_volume"],
    }
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")

    def counts(result: ReportResult) -> dict[date, int]:
        # every bucket from the first to the last appears (quiet ones with 0); keep the busy
        every = dict(zip(result.table["period"], result.table["ticket_volume"], strict=True))
        assert sorted(every) == sorted(result.table["period"].unique())
        return {d: n for d, n in every.items() if n}

    assert counts(api.report(path, grain="day")) == {
        date(2026, 3, 29): 1,
        date(2026, 3, 30): 1,
        date(2026, 10, 31): 1,
        date(2026, 11, 1): 1,
    }
    # a → week of Mon 23 Mar, b → Mon 30 Mar; c and d (Sat, Sun) → week of Mon 26 Oct
    assert counts(api.report(path, grain="week")) == {
        date(2026, 3, 23): 1,
        date(2026, 3, 30): 1,
        date(2026, 10, 26): 2,
    }
    # 30 Mar – 31 Oct local: b and c
    result = api.report(path, date_from="2026-03-30", date_to="2026-10-31")
    assert vn(totals(result), "ticket_volume") == (2, 2)


@pytest.mark.parametrize(
    ("source_timezone", "expected_day"),
    [
        # the naive stamp is read in the source's timezone (default UTC): 23:30 UTC = 00:30
        # Berlin on 1 Feb
        (None, date(2026, 2, 1)),
        # read as Berlin local time it stays on 31 Jan
        ("Europe/Berlin", date(2026, 1, 31)),
    ],
)
def test_naive_timestamps_use_the_source_timezone(
    tmp_path: Path, source_timezone: str | None, expected_day: date
) -> None:
    tickets = """
        ticket_id,created_at
        a,2026-01-31 23:30:00
    """
    options = {"tickets": {"timezone": source_timezone}} if source_timezone else None
    result = run(
        tmp_path,
        ["ticket_volume"],
        tickets=tickets,
        timezone="Europe/Berlin",
        source_options=options,
        grain="day",
    )
    assert result.table["period"].to_list() == [expected_day]


def test_week_starts_on_monday(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at
        sun,2026-01-11T23:59:59Z
        mon,2026-01-12T00:00:00Z
    """
    result = run(tmp_path, ["ticket_volume"], tickets=tickets, grain="week")
    assert vn(row(result, period=WEEK1), "ticket_volume") == (1, 1)  # Sunday 11 Jan
    assert vn(row(result, period=WEEK2), "ticket_volume") == (1, 1)  # Monday 12 Jan


def test_survey_and_call_periods_use_their_own_anchor(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at
        c1,2026-01-11T23:59:50Z,2026-01-12T00:00:15Z
    """
    surveys = """
        responded_at,score,survey_type
        2026-01-12T08:00:00Z,5,csat
    """
    kpis = ["call_volume", "average_speed_of_answer", "csat"]
    result = run(tmp_path, kpis, calls=calls, surveys=surveys, grain="week")
    # the call is placed by queued_at (Sunday, week 1) even though it was answered in week 2
    assert vn(row(result, period=WEEK1), "call_volume") == (1, 1)
    assert vn(row(result, period=WEEK1), "average_speed_of_answer") == (pytest.approx(25.0), 1)
    assert vn(row(result, period=WEEK2), "csat") == (pytest.approx(1.0), 1)
    assert vn(row(result, period=WEEK2), "call_volume") == (0, 0)


# --- custom KPIs --------------------------------------------------------------------------

CUSTOM_TICKETS = """
    ticket_id,created_at,channel,agent_replies,reopens
    a,2026-01-05T09:00:00Z,email,1,0
    b,2026-01-05T09:00:00Z,email,2,2
    c,2026-01-05T09:00:00Z,chat,6,
    d,2026-01-05T09:00:00Z,chat,,1
"""
CUSTOM_KPIS = [
    "ticket_volume",
    {"id": "replies", "source": "tickets", "sql": "avg(agent_replies)", "unit": "count"},
    {"id": "reopen_share", "source": "tickets", "type": "ratio", "numerator": "reopens > 0"},
]


def test_custom_sql_and_ratio_kpis(tmp_path: Path) -> None:
    result = run(tmp_path, CUSTOM_KPIS, tickets=CUSTOM_TICKETS, by=["channel"])
    t = totals(result)
    # avg ignores the null: (1 + 2 + 6)/3 = 3; n = records in the group = 4
    assert vn(t, "replies") == (pytest.approx(3.0), 4)
    # reopens > 0: b (2), d (1) = 2 / all 4 tickets (c's null reopens is not > 0) = 0.5
    assert vn(t, "reopen_share") == (pytest.approx(0.5), 4)
    email, chat = row(result, channel="email"), row(result, channel="chat")
    assert vn(email, "replies") == (pytest.approx(1.5), 2)  # (1 + 2)/2
    assert vn(chat, "replies") == (pytest.approx(6.0), 2)  # 6 (d null)
    assert vn(email, "reopen_share") == (pytest.approx(0.5), 2)  # b / (a, b)
    assert vn(chat, "reopen_share") == (pytest.approx(0.5), 2)  # d / (c, d)
    assert status(result, "replies").kpi.unit == "count"
    assert status(result, "reopen_share").kpi.unit == "ratio"


def test_custom_kpi_missing_column_is_unavailable(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at
        a,2026-01-05T09:00:00Z
    """
    result = run(tmp_path, CUSTOM_KPIS, tickets=tickets)
    for kpi, column in (("replies", "agent_replies"), ("reopen_share", "reopens")):
        assert not status(result, kpi).available
        assert column in status(result, kpi).reason
        assert kpi not in result.totals.columns
    assert vn(totals(result), "ticket_volume") == (1, 1)


# --- the full catalogue on one fixture ----------------------------------------------------


def test_every_builtin_kpi_on_one_fixture(tmp_path: Path) -> None:
    tickets = """
        ticket_id,created_at,first_response_at,resolved_at
        t1,2026-01-05T09:00:00Z,2026-01-05T09:30:00Z,2026-01-05T13:00:00Z
        t2,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,
    """
    calls = """
        call_id,queued_at,answered_at,ended_at,talk_seconds,hold_seconds,wrap_seconds
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:12Z,2026-01-05T10:03:12Z,180,20,40
        c2,2026-01-05T10:00:00Z,,2026-01-05T10:00:30Z,,,
    """
    surveys = """
        responded_at,score,survey_type
        2026-01-05T10:00:00Z,4,csat
        2026-01-05T10:00:00Z,10,nps
        2026-01-05T10:00:00Z,3,ces
    """
    kpis = [
        "ticket_volume",
        "first_response_time",
        "resolution_time",
        "resolution_rate",
        "call_volume",
        "average_handle_time",
        "average_speed_of_answer",
        "abandonment_rate",
        "service_level",
        "csat",
        "nps",
        "ces",
    ]
    result = run(tmp_path, kpis, tickets=tickets, calls=calls, surveys=surveys)
    assert all(s.available for s in result.kpis)
    t = totals(result)
    assert vn(t, "ticket_volume") == (2, 2)
    assert vn(t, "first_response_time") == (pytest.approx(2700.0), 2)  # median(1800, 3600)
    assert vn(t, "resolution_time") == (pytest.approx(14400.0), 1)  # t1: 4 h
    assert vn(t, "resolution_rate") == (pytest.approx(0.5), 2)  # t1 / (t1, t2)
    assert vn(t, "call_volume") == (2, 2)
    assert vn(t, "average_handle_time") == (pytest.approx(240.0), 1)  # 180 + 20 + 40
    assert vn(t, "average_speed_of_answer") == (pytest.approx(12.0), 1)
    assert vn(t, "abandonment_rate") == (pytest.approx(0.5), 2)  # c2 / (c1, c2)
    assert vn(t, "service_level") == (pytest.approx(0.5), 2)  # c1 (12 s ≤ 20 s) / 2
    assert vn(t, "csat") == (pytest.approx(1.0), 1)
    assert vn(t, "nps") == (pytest.approx(100.0), 1)
    assert vn(t, "ces") == (pytest.approx(3.0), 1)
    assert result.data_quality == ()
