"""agent_states: the states: mapping, occupancy and agents_staffed split exactly at bucket
edges, and the findings on state rows. Every expected value is worked out by hand in a comment,
or by an independent DuckDB SQL computation."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import yaml

from cscli import api
from cscli.config import Grain
from cscli.pipeline import ReportResult
from tests.helpers import row, totals, vn

HEADER = "agent,state,started_at,ended_at,team\n"


def run(
    tmp_path: Path,
    rows: str,
    *,
    timezone: str = "UTC",
    states: dict[str, str] | None = None,
    by: list[str] | None = None,
    grain: Grain | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> ReportResult:
    (tmp_path / "states.csv").write_text(HEADER + dedent(rows).strip() + "\n", encoding="utf-8")
    source: dict[str, Any] = {"path": "states.csv"}
    if states:
        source["states"] = states
    config = {
        "timezone": timezone,
        "sources": {"agent_states": source},
        "kpis": ["occupancy", "agents_staffed"],
    }
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return api.report(path, by=by or [], grain=grain, date_from=date_from, date_to=date_to)


def quality(result: ReportResult) -> dict[str, int]:
    return {q.issue: q.rows for q in result.data_quality if q.source == "agent_states"}


def finding(result: ReportResult, words: str) -> int:
    return sum(n for issue, n in quality(result).items() if words in issue)


MAPPED = """
    a1,Available,2026-03-02T08:00:00Z,2026-03-02T09:00:00Z,t1
    a1,On Call,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z,t1
    a2,available,2026-03-02T08:00:00Z,2026-03-02T08:45:00Z,t2
    a2,ACW,2026-03-02T08:45:00Z,2026-03-02T09:00:00Z,t2
    a2,LUNCH,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z,t2
    a2,Coffee,2026-03-02T10:00:00Z,2026-03-02T10:00:00Z,t2
"""
STATES = {"on call": "on_contact", "acw": "after_contact_work", "Lunch": "break"}


def test_occupancy_and_staffed_by_agent(tmp_path: Path) -> None:
    r = run(tmp_path, MAPPED, states=STATES, by=["agent"])
    # a1: on_contact 3600 / (3600 + available 3600) = 0.5
    assert vn(row(r, agent="a1"), "occupancy") == (pytest.approx(0.5), 2)
    # a2: ACW 900 / (900 + available 2700) = 0.25; the break row counts in n
    assert vn(row(r, agent="a2"), "occupancy") == (pytest.approx(0.25), 3)
    t = totals(r)
    # (3600 + 900) / (3600 + 3600 + 900 + 2700) = 4500 / 10800
    assert t["occupancy"] == pytest.approx(4500 / 10800)
    # staffed seconds 7200 (a1) + 3600 (a2) over the data's span 08:00–10:00 = 7200 s
    assert t["agents_staffed"] == pytest.approx(10800 / 7200)
    # a2 is staffed 3600 of 7200 s
    assert row(r, agent="a2")["agents_staffed"] == pytest.approx(0.5)
    # 'Coffee' is no state: a finding, not a crash
    assert finding(r, "not one of available") == 1


def test_two_agents_half_the_interval_each_is_one(tmp_path: Path) -> None:
    rows = """
        a1,available,2026-03-02T08:00:00Z,2026-03-02T09:00:00Z,t1
        a2,on_contact,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z,t1
    """
    t = totals(run(tmp_path, rows))
    # (3600 + 3600) / 7200 = 1.0 agent on average
    assert t["agents_staffed"] == pytest.approx(1.0)
    assert t["occupancy"] == pytest.approx(0.5)


def test_state_crossing_midnight_splits_by_day(tmp_path: Path) -> None:
    rows = """
        a1,available,2026-03-02T22:00:00Z,2026-03-03T02:00:00Z,t1
        a1,on_contact,2026-03-03T02:00:00Z,2026-03-03T04:00:00Z,t1
    """
    r = run(tmp_path, rows, grain=Grain.day)
    day1, day2 = row(r, period=date(2026, 3, 2)), row(r, period=date(2026, 3, 3))
    # 2 March: available 22:00–24:00 = 7200 s of a bucket that holds data from 22:00: 1.0
    assert day1["occupancy"] == pytest.approx(0.0)
    assert day1["agents_staffed"] == pytest.approx(1.0)
    # 3 March: available 00:00–02:00 (7200) + on_contact 02:00–04:00 (7200) over 00:00–04:00
    assert day2["occupancy"] == pytest.approx(0.5)
    assert day2["agents_staffed"] == pytest.approx(1.0)


def test_window_clips_a_state_that_began_before_it(tmp_path: Path) -> None:
    rows = """
        a1,on_contact,2026-03-02T22:00:00Z,2026-03-03T02:00:00Z,t1
        a1,available,2026-03-03T02:00:00Z,2026-03-03T08:00:00Z,t1
    """
    t = totals(run(tmp_path, rows, date_from="2026-03-03", date_to="2026-03-03"))
    # inside 3 March: on_contact 7200 s, available 21600 s → 7200 / 28800
    assert t["occupancy"] == pytest.approx(0.25)
    # staffed 28800 s over 00:00–08:00 (the data ends at 08:00)
    assert t["agents_staffed"] == pytest.approx(1.0)


def test_dst_fall_back_day_has_25_hours(tmp_path: Path) -> None:
    # Europe/Berlin 2026-10-25: 00:00 CEST = 24 Oct 22:00Z, 26 Oct 00:00 CET = 25 Oct 23:00Z
    rows = """
        a1,available,2026-10-24T22:00:00Z,2026-10-25T23:00:00Z,t1
        a2,on_contact,2026-10-25T00:00:00Z,2026-10-25T12:30:00Z,t1
    """
    r = run(tmp_path, rows, timezone="Europe/Berlin", grain=Grain.day)
    d = row(r, period=date(2026, 10, 25))
    # the local day lasts 25 h = 90000 s; a1 90000 s + a2 12.5 h = 45000 s
    assert d["agents_staffed"] == pytest.approx((90000 + 45000) / 90000)
    assert d["occupancy"] == pytest.approx(45000 / 135000)


def test_overlapping_rows_are_a_finding_and_double_count(tmp_path: Path) -> None:
    rows = """
        a1,available,2026-03-02T08:00:00Z,2026-03-02T09:00:00Z,t1
        a1,on_contact,2026-03-02T08:30:00Z,2026-03-02T09:30:00Z,t1
    """
    r = run(tmp_path, rows)
    assert finding(r, "overlaps an earlier state") == 1
    t = totals(r)
    # both rows count: 3600 + 3600 staffed seconds over 08:00–09:30 = 5400 s
    assert t["agents_staffed"] == pytest.approx(7200 / 5400)
    assert t["occupancy"] == pytest.approx(0.5)


def test_unordered_rows_give_the_same_numbers(tmp_path: Path) -> None:
    shuffled = "\n".join(reversed(dedent(MAPPED).strip().splitlines()))
    ordered = run(tmp_path, MAPPED, states=STATES, by=["agent"])
    (tmp_path / "b").mkdir()
    r = run(tmp_path / "b", shuffled, states=STATES, by=["agent"])
    for agent in ("a1", "a2"):
        got, want = row(r, agent=agent), row(ordered, agent=agent)
        assert got["occupancy"] == pytest.approx(want["occupancy"])
        assert got["agents_staffed"] == pytest.approx(want["agents_staffed"])
    assert totals(r)["occupancy"] == pytest.approx(4500 / 10800)
    # reversed: a1's 08:00 row after its 09:00 row (1); a2's rows come 10:00, 09:00, 08:45,
    # 08:00, each before the previous (3): 4 rows start before the agent's previous row
    assert finding(r, "not in start order") == 4
    assert finding(ordered, "not in start order") == 0


def test_ended_before_started_is_left_out(tmp_path: Path) -> None:
    rows = """
        a1,available,2026-03-02T08:00:00Z,2026-03-02T09:00:00Z,t1
        a1,on_contact,2026-03-02T09:00:00Z,2026-03-02T08:30:00Z,t1
    """
    r = run(tmp_path, rows)
    assert finding(r, "ended_at before started_at") == 1
    t = totals(r)
    assert t["occupancy"] == pytest.approx(0.0)
    # 3600 staffed seconds over 08:00–09:00
    assert t["agents_staffed"] == pytest.approx(1.0)


def test_bucket_without_staffed_time_has_null_occupancy(tmp_path: Path) -> None:
    rows = """
        a1,break,2026-03-02T08:00:00Z,2026-03-02T10:00:00Z,t1
        a1,available,2026-03-03T08:00:00Z,2026-03-03T10:00:00Z,t1
    """
    r = run(tmp_path, rows, grain=Grain.day)
    d = row(r, period=date(2026, 3, 2))
    # no available/on_contact/ACW seconds: 0 / 0 → null, never NaN
    assert d["occupancy"] is None
    assert d["agents_staffed"] == pytest.approx(0.0)
    assert row(r, period=date(2026, 3, 3))["occupancy"] == pytest.approx(0.0)


def test_open_row_lasts_to_the_export_time(tmp_path: Path) -> None:
    rows = """
        a1,on_contact,2026-03-02T08:00:00Z,,t1
        a2,available,2026-03-02T08:00:00Z,2026-03-02T10:00:00Z,t1
    """
    t = totals(run(tmp_path, rows))
    # the export time is 10:00 (the latest instant): a1 on_contact 7200, a2 available 7200
    assert t["occupancy"] == pytest.approx(0.5)
    assert t["agents_staffed"] == pytest.approx(2.0)


def test_row_without_end_lasts_to_the_agents_next_row(tmp_path: Path) -> None:
    rows = """
        a1,available,2026-03-02T08:00:00Z,,t1
        a1,on_contact,2026-03-02T08:30:00Z,2026-03-02T09:00:00Z,t1
        a1,break,2026-03-02T09:00:00Z,,t1
        a2,available,2026-03-02T08:00:00Z,2026-03-02T10:00:00Z,t1
    """
    t = totals(run(tmp_path, rows))
    # a1 available 08:00–08:30 (to its next row) 1800, on_contact 1800, break 09:00–10:00;
    # a2 available 7200: occupancy 1800 / (1800 + 1800 + 7200)
    assert t["occupancy"] == pytest.approx(1800 / 10800)
    # staffed 3600 + 7200 over 08:00–10:00
    assert t["agents_staffed"] == pytest.approx(10800 / 7200)


def _segments(rows: str, grain: str, timezone: str) -> dict[str, tuple[float, float, float]]:
    """The engine's split, straight from `segments`: local bucket start → (on_contact
    seconds, available seconds, bucket seconds)."""
    import io

    import polars as pl

    from cscli.engine.polars.states import segments

    frame = pl.read_csv(io.StringIO(HEADER + dedent(rows).strip() + "\n"), try_parse_dates=True)
    frame = frame.with_columns(pl.col("started_at", "ended_at").dt.replace_time_zone("UTC"))
    out = segments(frame.lazy(), [], grain, timezone, None, None).collect()
    result: dict[str, tuple[float, float, float]] = {}
    for start, part in out.group_by("period", maintain_order=True):
        label = start[0].strftime("%m-%d %H:%M%z")  # type: ignore[union-attr]
        busy = part.filter(pl.col("state") == "on_contact")["_sec"].sum()
        free = part.filter(pl.col("state") == "available")["_sec"].sum()
        result[label] = (busy, free, part["_len"].max())  # type: ignore[assignment]
    return result


def test_split_at_half_hour_edges_and_midnight() -> None:
    rows = """
        a1,on_contact,2026-03-02T23:10:00Z,2026-03-03T00:40:00Z,t1
        a1,available,2026-03-03T00:40:00Z,2026-03-03T01:00:00Z,t1
    """
    got = _segments(rows, "30m", "UTC")
    # 23:00 bucket: data from 23:10, on_contact 23:10–23:30 = 1200 of 1200 s
    assert got["03-02 23:00+0000"] == (1200, 0, 1200)
    assert got["03-02 23:30+0000"] == (1800, 0, 1800)  # across midnight: 23:30–24:00
    assert got["03-03 00:00+0000"] == (1800, 0, 1800)
    # 00:30 bucket: on_contact 00:30–00:40 = 600, available 00:40–01:00 = 1200
    assert got["03-03 00:30+0000"] == (600, 1200, 1800)
    assert len(got) == 4


def test_dst_fall_back_day_has_50_half_hours() -> None:
    # Europe/Berlin 2026-10-25 00:00 CEST = 24 Oct 22:00Z to 26 Oct 00:00 CET = 25 Oct 23:00Z
    rows = """
        a1,available,2026-10-24T22:00:00Z,2026-10-25T23:00:00Z,t1
    """
    got = _segments(rows, "30m", "Europe/Berlin")
    # 25 elapsed hours = 50 half hours of 1800 s each; 02:00 and 02:30 appear twice
    assert len(got) == 50
    assert all(v == (0, 1800, 1800) for v in got.values())
    assert "10-25 02:00+0200" in got and "10-25 02:00+0100" in got


def test_state_split_at_half_hour_edges(tmp_path: Path) -> None:
    rows = """
        a1,on_contact,2026-03-02T08:10:00Z,2026-03-02T08:50:00Z,t1
        a1,available,2026-03-02T08:50:00Z,2026-03-02T09:00:00Z,t1
    """
    r = run(tmp_path, rows, grain=Grain("30m"))
    by_start = {v["period"].strftime("%H:%M"): v for v in r.table.iter_rows(named=True)}
    # 08:00 bucket: data from 08:10, on_contact 08:10–08:30 = 1200 s of 1200 s
    assert by_start["08:00"]["occupancy"] == pytest.approx(1.0)
    assert by_start["08:00"]["agents_staffed"] == pytest.approx(1.0)
    # 08:30 bucket: on_contact 1200 s, available 600 s
    assert by_start["08:30"]["occupancy"] == pytest.approx(1200 / 1800)


def test_splitting_matches_duckdb(tmp_path: Path) -> None:
    import duckdb

    lines = []
    names = ("available", "on_contact", "after_contact_work", "break")
    for i in range(60):
        agent = f"a{i % 4}"
        start = 3600 * 6 + i * 2900 + (i * 37) % 1800
        length = 600 + (i * 1291) % 20000
        lines.append((agent, names[(i * 7) % 4], start, start + length))
    text = "\n".join(f"{a},{s},{_stamp(b)},{_stamp(e)},t1" for a, s, b, e in lines)
    r = run(tmp_path, text, by=["agent"], grain=Grain.day)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE s AS SELECT * FROM read_csv_auto(?, types={'started_at': 'TIMESTAMP', "
        "'ended_at': 'TIMESTAMP'})",
        [str(tmp_path / "states.csv")],
    )
    got = con.execute(
        """
        WITH span AS (SELECT min(started_at) AS d0, max(ended_at) AS d1 FROM s),
        days AS (
            SELECT unnest(generate_series(date_trunc('day', d0), d1, INTERVAL 1 DAY)) AS b
            FROM span
        ),
        seg AS (
            SELECT s.agent, s.state, days.b,
                   epoch(least(s.ended_at, days.b + INTERVAL 1 DAY))
                   - epoch(greatest(s.started_at, days.b)) AS sec
            FROM s, days
            WHERE s.started_at < days.b + INTERVAL 1 DAY AND s.ended_at > days.b
        )
        SELECT agent, CAST(b AS DATE) AS day,
               coalesce(sum(sec) FILTER (WHERE state IN ('on_contact', 'after_contact_work')), 0)
               / nullif(sum(sec) FILTER (WHERE state <> 'break'), 0) AS occ,
               count(*) AS n
        FROM seg GROUP BY 1, 2
        """
    ).fetchall()
    assert len(got) == r.table.height
    for agent, day, occ, n in got:
        mine = row(r, agent=agent, period=day)
        assert mine["occupancy__n"] == n
        if occ is None:
            assert mine["occupancy"] is None
        else:
            assert math.isclose(mine["occupancy"], occ, rel_tol=1e-9)


def _stamp(seconds: int) -> str:
    day, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"2026-03-{2 + day:02d}T{h:02d}:{m:02d}:{s:02d}Z"


def test_cli_a_state_mapped_to_no_canonical_state_is_a_config_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cscli.cli import app

    (tmp_path / "states.csv").write_text(HEADER + dedent(MAPPED).strip() + "\n", "utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(
        "version: 1\nsources:\n  agent_states:\n    path: states.csv\n    states: {ACW: wrapup}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "maps to 'wrapup'" in result.output
    assert "agent states are available, on_contact, after_contact_work" in result.output
    assert "Traceback" not in result.output


def test_cli_report_csv_by_team(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cscli.cli import app

    (tmp_path / "states.csv").write_text(HEADER + dedent(MAPPED).strip() + "\n", "utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(
        "version: 1\nsources:\n  agent_states:\n    path: states.csv\n"
        "    states: {On Call: on_contact, ACW: after_contact_work, Lunch: break}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["report", "-c", str(config), "--by", "team", "-f", "csv"])
    assert result.exit_code == 0, result.output
    lines = [line.split(",") for line in result.stdout.strip().splitlines()]
    head = lines[0]
    t1 = dict(zip(head, next(r for r in lines if r[1] == "t1"), strict=True))
    # team t1 is a1: on_contact 3600 / (3600 + 3600); staffed 7200 s over 7200 s
    assert float(t1["occupancy"]) == pytest.approx(0.5)
    assert float(t1["agents_staffed"]) == pytest.approx(1.0)
