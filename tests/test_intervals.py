"""Interval grains (15m, 30m, hour) and the hour_of_day / weekday dimensions.

Every expected value is worked out by hand in the comment next to it. Offsets used: Europe/Berlin
is UTC+1 (CET) in winter and UTC+2 (CEST) in summer, switching 2026-03-29 02:00 CET → 03:00
CEST (the day has 23 h) and back 2026-10-25 03:00 CEST → 02:00 CET (25 h); Asia/Kolkata is
UTC+5:30 and Asia/Kathmandu UTC+5:45 all year.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from cscli import api
from cscli.cli import app
from cscli.engine.polars.stocks import bucket
from cscli.errors import UsageError
from cscli.period import Grain
from cscli.render.labels import group_label, period_label

Write = Callable[[str, str], Path]
BERLIN = ZoneInfo("Europe/Berlin")


def buckets_of(instants: list[datetime], grain: str, zone: str) -> list[datetime]:
    frame = pl.DataFrame({"t": instants}, schema={"t": pl.Datetime("us", "UTC")})
    return frame.select(bucket(pl.col("t"), grain, zone))["t"].to_list()  # type: ignore[no-any-return]


def calls_config(write: Write, zone: str, rows: list[str]) -> Path:
    write(
        "calls.csv",
        "call_id,queued_at,answered_at,talk_seconds\n" + "\n".join(rows) + "\n",
    )
    return write("cscli.yaml", f"timezone: {zone}\nsources:\n  calls: {{path: calls.csv}}\n")


def test_grain_contract() -> None:
    assert [g.value for g in Grain if g.is_interval] == ["15m", "30m", "hour"]
    assert [Grain(v).seconds for v in ("15m", "30m", "hour")] == [900, 1800, 3600]
    assert Grain.day.seconds is None and not Grain.month.is_interval


def test_bucket_edges_berlin() -> None:
    # 2026-03-02 is CET (UTC+1): 08:29:59Z = 09:29:59 local → the 09:00 half hour,
    # 08:30:00Z = 09:30 local → the 09:30 one; the hour of both is 09:00; 15m: 09:15, 09:30
    at = [datetime(2026, 3, 2, 8, 29, 59, tzinfo=UTC), datetime(2026, 3, 2, 8, 30, tzinfo=UTC)]
    local = [datetime(2026, 3, 2, h, m, tzinfo=BERLIN) for h, m in ((9, 0), (9, 30))]
    assert buckets_of(at, "30m", "Europe/Berlin") == local
    assert buckets_of(at, "hour", "Europe/Berlin") == [local[0], local[0]]
    assert buckets_of(at, "15m", "Europe/Berlin") == [
        datetime(2026, 3, 2, 9, 15, tzinfo=BERLIN),
        datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN),
    ]
    # the bucket is the start instant: 09:30 CET = 08:30Z
    assert buckets_of(at, "30m", "Europe/Berlin")[1].astimezone(UTC) == at[1]


@pytest.mark.parametrize(
    ("zone", "instant", "half_hour", "hour"),
    [
        # Kolkata +5:30: 04:00Z = 09:30 IST, 04:29Z = 09:59 IST → half hour 09:30, hour 09:00
        ("Asia/Kolkata", datetime(2026, 3, 2, 4, 0), (9, 30), (9, 0)),
        ("Asia/Kolkata", datetime(2026, 3, 2, 4, 29), (9, 30), (9, 0)),
        # 04:30Z = 10:00 IST → 10:00 / 10:00 (a UTC truncation would give 09:30 + 10:00)
        ("Asia/Kolkata", datetime(2026, 3, 2, 4, 30), (10, 0), (10, 0)),
        # Kathmandu +5:45: 04:14Z = 09:59 NPT → 09:30 / 09:00; 04:15Z = 10:00 → 10:00 / 10:00
        ("Asia/Kathmandu", datetime(2026, 3, 2, 4, 14), (9, 30), (9, 0)),
        ("Asia/Kathmandu", datetime(2026, 3, 2, 4, 15), (10, 0), (10, 0)),
    ],
)
def test_half_hour_offset_zones_bucket_on_local_edges(
    zone: str, instant: datetime, half_hour: tuple[int, int], hour: tuple[int, int]
) -> None:
    at = [instant.replace(tzinfo=UTC)]
    tz = ZoneInfo(zone)
    assert buckets_of(at, "30m", zone) == [datetime(2026, 3, 2, *half_hour, tzinfo=tz)]
    assert buckets_of(at, "hour", zone) == [datetime(2026, 3, 2, *hour, tzinfo=tz)]


def test_fall_back_repeated_hour_gives_two_buckets() -> None:
    # 00:05Z = 02:05 CEST (first 02:00), 01:05Z = 02:05 CET (the repeated 02:00)
    at = [datetime(2026, 10, 25, 0, 5, tzinfo=UTC), datetime(2026, 10, 25, 1, 5, tzinfo=UTC)]
    first, second = buckets_of(at, "30m", "Europe/Berlin")
    assert first.astimezone(UTC) == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert second.astimezone(UTC) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert period_label(first, "30m") == "2026-10-25 02:00+02:00"
    assert period_label(second, "30m") == "2026-10-25 02:00+01:00"
    assert period_label(datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN), "30m") == "2026-03-02 09:30"


@pytest.mark.parametrize(
    ("day", "grain", "count"),
    [
        # spring forward: 23 h → 46 half hours, 23 hours, 92 quarter hours
        ("2026-03-29", "30m", 46),
        ("2026-03-29", "hour", 23),
        ("2026-03-29", "15m", 92),
        # fall back: 25 h → 50 half hours, 25 hours; an ordinary day 48
        ("2026-10-25", "30m", 50),
        ("2026-10-25", "hour", 25),
        ("2026-10-26", "30m", 48),
    ],
)
def test_dst_days_have_real_intervals(write: Write, day: str, grain: str, count: int) -> None:
    cfg = calls_config(write, "Europe/Berlin", [f"c1,{day}T10:00:00Z,{day}T10:00:30Z,60"])
    result = api.report(cfg, date_from=day, date_to=day, grain=Grain(grain), kpis=["call_volume"])
    periods = result.table["period"].to_list()
    assert len(periods) == count
    # consecutive buckets are exactly one interval of elapsed time apart (compared in UTC:
    # Python subtracts two datetimes of one zone by wall clock)
    step = timedelta(seconds=Grain(grain).seconds or 0)
    utc = [p.astimezone(UTC) for p in periods]
    assert all(b - a == step for a, b in itertools.pairwise(utc))
    assert result.table["call_volume"].sum() == 1


def test_quiet_intervals_are_filled_with_zero(write: Write) -> None:
    # Berlin CET, 2026-03-02: c1 08:10Z = 09:10 → the 09:00 half hour; c2 09:40Z = 10:40 → 10:30;
    # c3 09:50Z = 10:50 → 10:30 too. 48 half hours, 09:30 and 10:00 between them are quiet.
    cfg = calls_config(
        write,
        "Europe/Berlin",
        [
            "c1,2026-03-02T08:10:00Z,2026-03-02T08:10:20Z,60",
            "c2,2026-03-02T09:40:00Z,2026-03-02T09:40:40Z,60",
            "c3,2026-03-02T09:50:00Z,,",
        ],
    )
    result = api.report(
        cfg,
        date_from="2026-03-02",
        date_to="2026-03-02",
        grain=Grain.m30,
        kpis=["call_volume", "average_speed_of_answer"],
    )
    table = result.table
    assert table.height == 48
    by_label = {
        period_label(p, "30m"): r
        for p, r in zip(table["period"], table.rows(named=True), strict=True)
    }
    assert by_label["2026-03-02 09:00"]["call_volume"] == 1
    assert by_label["2026-03-02 09:00"]["average_speed_of_answer"] == 20.0  # 20 s wait
    assert by_label["2026-03-02 09:30"]["call_volume"] == 0
    assert by_label["2026-03-02 09:30"]["call_volume__n"] == 0
    assert by_label["2026-03-02 09:30"]["average_speed_of_answer"] is None  # no answer: null
    assert by_label["2026-03-02 10:00"]["call_volume"] == 0
    assert by_label["2026-03-02 10:30"]["call_volume"] == 2
    assert by_label["2026-03-02 10:30"]["average_speed_of_answer"] == 40.0  # c2 only answered


def test_compare_previous_interval(write: Write) -> None:
    # 2026-03-02 CET: c1, c2 in the 09:00 hour (08:10Z, 08:50Z), c3 in 10:00 (09:05Z);
    # each hour's previous is the hour before it: 10:00 has 1 and its previous (09:00) 2
    cfg = calls_config(
        write,
        "Europe/Berlin",
        [
            "c1,2026-03-02T08:10:00Z,,",
            "c2,2026-03-02T08:50:00Z,,",
            "c3,2026-03-02T09:05:00Z,,",
        ],
    )
    result = api.report(
        cfg,
        date_from="2026-03-02",
        date_to="2026-03-02",
        grain=Grain.hour,
        kpis=["call_volume"],
        compare=True,
    )
    rows = {period_label(r["period"], "hour"): r for r in result.table.rows(named=True)}
    assert rows["2026-03-02 09:00"]["call_volume"] == 2
    assert rows["2026-03-02 09:00"]["call_volume__prev"] == 0  # 08:00 was quiet
    assert rows["2026-03-02 10:00"]["call_volume"] == 1
    assert rows["2026-03-02 10:00"]["call_volume__prev"] == 2
    assert rows["2026-03-02 00:00"]["call_volume__prev"] == 0  # 23:00 the day before: quiet


def test_backlog_by_hour(write: Write) -> None:
    # UTC. t1 opens 09:10, resolved 10:20; t2 opens 09:40, still open; t3 opens 11:05, resolved
    # 11:30. Open at the end of each hour: 09:00 → 2 (t1, t2), 10:00 → 1 (t2), 11:00 → 1 (t2;
    # t3 opened and closed), 08:00 → 0
    write(
        "tickets.csv",
        """
        ticket_id,created_at,resolved_at
        t1,2026-03-02T09:10:00Z,2026-03-02T10:20:00Z
        t2,2026-03-02T09:40:00Z,
        t3,2026-03-02T11:05:00Z,2026-03-02T11:30:00Z
        """,
    )
    cfg = write("cscli.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    result = api.report(
        cfg, date_from="2026-03-02", date_to="2026-03-02", grain=Grain.hour, kpis=["backlog"]
    )
    levels = {r["period"].hour: r["backlog"] for r in result.table.rows(named=True)}
    assert len(levels) == 24
    assert (levels[8], levels[9], levels[10], levels[11], levels[23]) == (0, 2, 1, 1, 1)


def test_hour_of_day_and_weekday_counts(write: Write) -> None:
    # Kolkata +5:30. Mon 2026-03-02 03:40Z = 09:10 IST (Mon, 9); 04:20Z = 09:50 (Mon, 9);
    # 04:40Z = 10:10 (Mon, 10); Sun 2026-03-01 18:40Z = Mon 00:10 IST (Mon, 0: the local day);
    # Tue 2026-03-03 04:00Z = 09:30 (Tue, 9). weekday: Mon 4, Tue 1; hour: 0→1, 9→3, 10→1
    cfg = calls_config(
        write,
        "Asia/Kolkata",
        [
            "a,2026-03-02T03:40:00Z,,",
            "b,2026-03-02T04:20:00Z,,",
            "c,2026-03-02T04:40:00Z,,",
            "d,2026-03-01T18:40:00Z,,",
            "e,2026-03-03T04:00:00Z,,",
        ],
    )
    by_day = api.report(cfg, by=["weekday"], kpis=["call_volume"])
    assert dict(zip(by_day.table["weekday"], by_day.table["call_volume"], strict=True)) == {
        1: 4,
        2: 1,
    }
    by_hour = api.report(cfg, by=["hour_of_day"], kpis=["call_volume"])
    assert dict(zip(by_hour.table["hour_of_day"], by_hour.table["call_volume"], strict=True)) == {
        0: 1,
        9: 3,
        10: 1,
    }
    both = api.report(cfg, by=["weekday", "hour_of_day"], kpis=["call_volume"])
    cells = {
        (r["weekday"], r["hour_of_day"]): r["call_volume"] for r in both.table.rows(named=True)
    }
    assert cells == {(1, 0): 1, (1, 9): 2, (1, 10): 1, (2, 9): 1}
    assert group_label(1, "weekday", None) == "Mon" and group_label(7, "weekday", None) == "Sun"
    assert group_label(9, "hour_of_day", None) == "09:00"


def test_stock_by_hour_of_day_is_unavailable(write: Write) -> None:
    write("tickets.csv", "ticket_id,created_at,resolved_at\nt1,2026-03-02T09:10:00Z,\n")
    cfg = write("cscli.yaml", "timezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    result = api.report(cfg, by=["hour_of_day"], kpis=["backlog", "ticket_volume"])
    reasons = {s.kpi.id: s.reason for s in result.kpis}
    assert "--grain hour" in (reasons["backlog"] or "")
    assert result.table["ticket_volume"].to_list() == [1]


def test_long_interval_report_is_refused(write: Write) -> None:
    cfg = calls_config(write, "UTC", ["c1,2026-03-02T09:00:00Z,,"])
    # 2026 has 365 days × 48 = 17,520 half hours > 10,000
    with pytest.raises(UsageError, match="17,520 buckets"):
        api.report(cfg, date_from="2026-01-01", date_to="2026-12-31", grain=Grain.m30)
    # 208 days × 48 = 9,984 ≤ 10,000: allowed
    api.report(cfg, date_from="2026-01-01", date_to="2026-07-27", grain=Grain.m30)


def test_cli_interval_grain(write: Write) -> None:
    cfg = calls_config(
        write,
        "Europe/Berlin",
        ["c1,2026-10-25T00:05:00Z,,", "c2,2026-10-25T01:05:00Z,,"],
    )
    runner = CliRunner()
    args = ["report", "-c", str(cfg), "--from", "2026-10-25", "--to", "2026-10-25"]
    out = runner.invoke(app, [*args, "--grain", "30m", "--kpi", "call_volume"])
    assert out.exit_code == 0, out.output
    assert "02:00+02:00" in out.output and "02:00+01:00" in out.output
    md = runner.invoke(app, [*args, "--grain", "hour", "--kpi", "call_volume", "-f", "md"])
    assert md.exit_code == 0, md.output
    assert "| 2026-10-25 02:00+01:00 | 1 |" in md.output
    bad = runner.invoke(app, ["report", "-c", str(cfg), "--last", "1y", "--grain", "15m"])
    assert bad.exit_code == 2
    assert "error:" in bad.output and "hint:" in bad.output
    by = runner.invoke(app, [*args, "--by", "weekday,hour_of_day", "--kpi", "call_volume"])
    assert by.exit_code == 0, by.output
    assert "Sun" in by.output


# --- heatmaps and --profile intraday ------------------------------------------------------

HEAT_CALLS = [
    # UTC. Mon 2026-03-02: two calls at 09:xx (waits 10 s and 50 s: ASA 30 s, SL 80/20: 1 of
    # 2 = 50%), one at 11:05 (wait 5 s); Tue 2026-03-03 10:15 unanswered (SL 0 of 1 = 0%)
    "a,2026-03-02T09:05:00Z,2026-03-02T09:05:10Z,60",
    "b,2026-03-02T09:35:00Z,2026-03-02T09:35:50Z,60",
    "c,2026-03-02T11:05:00Z,2026-03-02T11:05:05Z,60",
    "d,2026-03-03T10:15:00Z,,",
]


def test_heatmap_cells_by_hand(write: Write) -> None:
    from cscli.render.heatmap import heatmaps

    cfg = calls_config(write, "UTC", HEAT_CALLS)
    result = api.report(
        cfg,
        by=["weekday", "hour_of_day"],
        kpis=["call_volume", "average_speed_of_answer", "service_level"],
    )
    maps = {h.id: h for h in heatmaps(result)}
    assert list(maps) == ["call_volume", "average_speed_of_answer", "service_level"]
    volume = maps["call_volume"]
    assert volume.hours == [9, 10, 11]  # first to last hour with records
    grid = {label: [c.text for c in cells] for label, cells in volume.rows}
    # a quiet hour of a count is 0, not blank
    assert grid == {"Mon": ["2", "0", "1"], "Tue": ["0", "1", "0"]}
    # shades 0…4 from the lowest (0) to the highest (2): 2 → 4, 1 → int(0.5 × 5) = 2, 0 → 0
    assert [c.shade for c in volume.rows[0][1]] == [4, 0, 2]
    asa = {label: [c.text for c in cells] for label, cells in maps["average_speed_of_answer"].rows}
    # a cell holds a few digits; the unit is in the title (seconds: the longest wait is < 2 min)
    assert maps["average_speed_of_answer"].title == "Average speed of answer (seconds)"
    assert asa == {"Mon": ["30", "", "5.0"], "Tue": ["", "", ""]}  # d unanswered: no ASA
    sl = {label: [c.text for c in cells] for label, cells in maps["service_level"].rows}
    assert maps["service_level"].title.endswith("(%)")
    assert sl == {"Mon": ["50", "", "100"], "Tue": ["", "0", ""]}
    # not an intraday cut: no heatmaps
    assert heatmaps(api.report(cfg, by=["weekday"], kpis=["call_volume"])) == []


def test_terminal_heatmap_keeps_numbers_without_colour(write: Write) -> None:
    cfg = calls_config(write, "UTC", HEAT_CALLS)
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["report", "-c", str(cfg), "--profile", "intraday", "--width", "120"],
        env={"NO_COLOR": "1"},
    )
    assert out.exit_code == 0, out.output
    assert "\x1b[" not in out.output  # no colour codes at all
    assert "Calls offered by weekday × hour" in out.output
    lines = out.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Calls offered by weekday"))
    mon = next(line for line in lines[start:] if line.strip().startswith("Mon"))
    assert mon.split() == ["Mon", "2", "0", "1"]
    # the staffing KPIs are not in this branch's catalogue: the profile works without them
    assert "Staffing gap" not in out.output


def test_profile_intraday_lists_only_catalogue_kpis() -> None:
    from cscli.api import get_profile, profile_kpis
    from cscli.kpis.catalog import CATALOG

    profile = get_profile("intraday")
    assert profile.by == ("weekday", "hour_of_day")
    ids = profile_kpis(profile)
    assert ids[:3] == ("call_volume", "average_speed_of_answer", "service_level")
    assert all(i in CATALOG for i in ids)
    assert set(ids[3:]) <= set(profile.optional)


def test_staffing_gap_column_and_heatmap(write: Write) -> None:
    # stand-ins for the staffing KPIs of the workforce branches, as config SQL KPIs of the same
    # ids: staffed = 2 × calls, required = calls + 1 → gap = calls − 1: Mon 09 → +1.0,
    # Mon 11 → +0.0, Tue 10 → +0.0
    write(
        "calls.csv",
        "call_id,queued_at,answered_at,talk_seconds\n" + "\n".join(HEAT_CALLS) + "\n",
    )
    cfg = write(
        "cscli.yaml",
        """
        timezone: UTC
        sources:
          calls: {path: calls.csv}
        kpis:
          - call_volume
          - {id: agents_staffed, source: calls, sql: "count(*) * 2.0", anchor: queued_at}
          - {id: required_agents, source: calls, sql: "count(*) + 1.0", anchor: queued_at}
        """,
    )
    from cscli.render.heatmap import heatmaps

    result = api.report(cfg, by=["weekday", "hour_of_day"])
    gap = {h.id: h for h in heatmaps(result)}["staffing_gap"]
    assert {label: [c.text for c in cells] for label, cells in gap.rows} == {
        "Mon": ["+1.0", "", "+0.0"],
        "Tue": ["", "+0.0", ""],
    }
    out = CliRunner().invoke(app, ["report", "-c", str(cfg), "--profile", "intraday"])
    assert out.exit_code == 0, out.output
    assert "Staffing gap" in out.output
    html = CliRunner().invoke(
        app,
        ["report", "-c", str(cfg), "--by", "weekday,hour_of_day", "-o", str(cfg.parent / "r.html")],
    )
    assert html.exit_code == 0, html.output
    page = (cfg.parent / "r.html").read_text(encoding="utf-8")
    assert 'id="intraday"' in page and "Staffing gap" in page


def test_json_of_interval_and_intraday_reports_meets_the_schema(write: Write) -> None:
    import json

    import jsonschema

    from cscli.render.jsondoc import render_json

    schema = json.loads(
        (Path(__file__).resolve().parent.parent / "docs" / "report.schema.json").read_text()
    )
    cfg = calls_config(write, "Europe/Berlin", ["c1,2026-10-25T01:05:00Z,,"])
    interval = api.report(cfg, date_from="2026-10-25", date_to="2026-10-25", grain=Grain.m30)
    doc = json.loads(render_json(interval))
    jsonschema.validate(doc, schema)
    # 01:05Z = 02:05 CET, in the repeated hour: the second 02:00 bucket, offset +01:00
    busy = [r for r in doc["rows"] if r["kpis"]["call_volume"]["value"] == 1]
    assert [r["group"]["period"] for r in busy] == ["2026-10-25T02:00:00+01:00"]
    intraday = api.report(cfg, by=["weekday", "hour_of_day"], kpis=["call_volume"])
    doc = json.loads(render_json(intraday))
    jsonschema.validate(doc, schema)
    assert doc["rows"][0]["group"] == {"weekday": 7, "hour_of_day": 2}  # Sunday, 02:xx local
