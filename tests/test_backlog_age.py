"""backlog_age (issue 17): the backlog at each period's end in age buckets, one KPI per bucket.

Fixture (UTC, March 2026):

  a created 03-01 00:00, open
  b created 03-06 00:00, open
  c created 03-07 12:00, resolved 03-20 00:00 (after the first periods' ends)
  d created 03-07 23:00, open
  e created 03-05 00:00, resolved 03-07 00:00

Default buckets [1d, 3d, 7d] → backlog_age_lt_1d, _1d_3d, _3d_7d, _ge_7d; a ticket aged exactly
on an edge is in the bucket that starts there.
"""

from __future__ import annotations

import json
import random
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.cli import app
from cscli.engine.polars.compile import aggregations
from cscli.engine.polars.stocks import events_query
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import Stock, expand, instantiate
from cscli.stocks import levels

TICKETS = """\
ticket_id,created_at,resolved_at,status,channel
a,2026-03-01 00:00:00,,open,email
b,2026-03-06 00:00:00,,open,chat
c,2026-03-07 12:00:00,2026-03-20 00:00:00,solved,email
d,2026-03-07 23:00:00,,open,chat
e,2026-03-05 00:00:00,2026-03-07 00:00:00,solved,email
"""
BANDS = ("backlog_age_lt_1d", "backlog_age_1d_3d", "backlog_age_3d_7d", "backlog_age_ge_7d")


def write(tmp_path: Path, extra: str = "", tickets: str = TICKETS) -> Path:
    (tmp_path / "tickets.csv").write_text(tickets, encoding="utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(
        "version: 1\ntimezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n" + extra,
        encoding="utf-8",
    )
    return config


def run(config: Path, *args: str, fmt: str = "json", code: int = 0) -> Any:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", fmt, *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if fmt == "json" else result


def totals(doc: dict[str, Any], ids: tuple[str, ...] = (*BANDS, "backlog")) -> list[Any]:
    return [doc["totals"]["kpis"][k]["value"] for k in ids]


def grid(csv_text: str, ids: tuple[str, ...] = (*BANDS, "backlog")) -> dict[str, list[Any]]:
    table = pl.read_csv(csv_text.encode(), schema_overrides={"period": pl.String})
    groups = table.filter(pl.col("scope") == "group")
    return {r["period"]: [r[k] for k in ids] for r in groups.iter_rows(named=True)}


def test_the_backlog_at_the_period_end_by_age(tmp_path: Path) -> None:
    # end 03-08 00:00: a aged exactly 7d → ≥7d; b 2d → 1–3d; c 12h → <1d (resolved 03-20,
    # after the end: still in this period's backlog); d 1h → <1d; e resolved before the end
    doc = run(
        write(tmp_path), "--from", "2026-03-01", "--to", "2026-03-07", "--kpi", "backlog_age",
        "--kpi", "backlog",
    )  # fmt: skip
    assert totals(doc) == [2, 1, 0, 1, 4]
    titles = {k["id"]: k["title"] for k in doc["kpis"]}
    assert titles["backlog_age_lt_1d"] == "Backlog aged <1d"
    assert titles["backlog_age_1d_3d"] == "Backlog aged 1d–3d"
    assert titles["backlog_age_ge_7d"] == "Backlog aged ≥7d"


def test_each_day_its_own_level_with_tickets_on_the_edges(tmp_path: Path) -> None:
    result = run(
        write(tmp_path), "--from", "2026-03-01", "--to", "2026-03-07", "--grain", "day",
        "--kpi", "backlog_age", "--kpi", "backlog", fmt="csv",
    )  # fmt: skip
    # [<1d, 1–3d, 3–7d, ≥7d, backlog] at each day's end (the next midnight):
    assert grid(result.stdout) == {
        "2026-03-01": [0, 1, 0, 0, 1],  # a aged exactly 1d at 03-02 00:00: 1–3d, not <1d
        "2026-03-02": [0, 1, 0, 0, 1],  # a 2d
        "2026-03-03": [0, 0, 1, 0, 1],  # a exactly 3d: 3–7d
        "2026-03-04": [0, 0, 1, 0, 1],  # a 4d
        "2026-03-05": [0, 1, 1, 0, 2],  # a 5d; e exactly 1d; b created at 03-06 00:00: not yet
        "2026-03-06": [0, 2, 1, 0, 3],  # a 6d; e 2d; b 1d
        "2026-03-07": [2, 1, 0, 1, 4],  # a 7d; b 2d; c 12h; d 1h (e resolved 03-07 00:00)
    }


def test_weeks_count_tickets_created_before_the_report(tmp_path: Path) -> None:
    # from Monday 03-02: a (created 03-01) is in the level from the start
    result = run(
        write(tmp_path), "--from", "2026-03-02", "--to", "2026-03-15", "--grain", "week",
        "--kpi", "backlog_age", "--kpi", "backlog", fmt="csv",
    )  # fmt: skip
    assert grid(result.stdout) == {
        # end 03-09 00:00: a 8d ≥7d; b exactly 3d → 3–7d; c 1d12h and d 1d1h → 1–3d
        "2026-03-02": [0, 2, 1, 1, 4],
        # end 03-16 00:00: a 15d, b 10d, c 8d12h (resolved 03-20: still open), d 8d1h
        "2026-03-09": [0, 0, 0, 4, 4],
    }
    total = pl.read_csv(result.stdout.encode()).filter(pl.col("scope") == "total")
    assert [total[k][0] for k in (*BANDS, "backlog")] == [0, 0, 0, 4, 4]  # the last level


def test_custom_buckets_by_channel_and_without_a_period_end(tmp_path: Path) -> None:
    config = write(
        tmp_path, "kpis:\n  - {id: aged, kpi: backlog_age, buckets: [1d, 15d]}\n  - backlog\n"
    )
    ids = ("aged_lt_1d", "aged_1d_15d", "aged_ge_15d", "backlog")
    # no period: the level after the last record (a, b, d still open), aged at the newest
    # instant of the tickets (c resolved 03-20 00:00): a 19d → ≥15d, b 14d and d 12d1h → 1d–15d
    doc = run(config)
    assert totals(doc, ids) == [0, 2, 1, 3]
    # by channel at the end of 03-07 (03-08 00:00): email a 7d, c 12h; chat b 2d, d 1h
    doc = run(config, "--from", "2026-03-01", "--to", "2026-03-07", "--by", "channel")
    rows = {r["group"]["channel"]: [r["kpis"][k]["value"] for k in ids] for r in doc["rows"]}
    assert rows == {"email": [1, 1, 0, 2], "chat": [1, 1, 0, 2]}
    assert totals(doc, ids) == [2, 2, 0, 4]
    # the family's id asks for all its members
    doc = run(config, "--from", "2026-03-01", "--to", "2026-03-07", "--kpi", "aged")
    assert [k["id"] for k in doc["kpis"]] == list(ids[:3])


def test_one_member_and_compare(tmp_path: Path) -> None:
    # the week 03-09 … 03-15 (end 03-16: a, b, c, d all ≥7d) against 03-02 … 03-08
    # (end 03-09: a only)
    doc = run(
        write(tmp_path), "--from", "2026-03-09", "--to", "2026-03-15", "--compare",
        "--kpi", "backlog_age_ge_7d",
    )  # fmt: skip
    assert [k["id"] for k in doc["kpis"]] == ["backlog_age_ge_7d"]
    v = doc["totals"]["kpis"]["backlog_age_ge_7d"]
    assert (v["value"], v["previous"]) == (4, 1)


def test_a_check_on_a_bucket(tmp_path: Path) -> None:
    config = write(tmp_path, "checks:\n  - {kpi: backlog_age_ge_7d, fail: '> 0'}\n")
    period = ("--from", "2026-03-01", "--to", "2026-03-07")
    result = CliRunner().invoke(app, ["check", "-c", str(config), "-f", "json", *period])
    assert result.exit_code == 1, result.output
    (outcome,) = json.loads(result.stdout)["checks"]
    assert (outcome["kpi"], outcome["value"], outcome["status"]) == ("backlog_age_ge_7d", 1, "fail")
    # its breach records: the ≥7d ticket (a), with its age at the period's end (7d)
    target = tmp_path / "breaches.csv"
    result = CliRunner().invoke(
        app,
        ["check", "-c", str(config), "--from", "2026-03-01", "--to", "2026-03-07",
         "--breaches", str(target)],
    )  # fmt: skip
    rows = pl.read_csv(target)
    assert rows["id"].to_list() == ["a"]
    assert rows["value"].to_list() == [7 * 86400.0]


def test_bad_buckets_are_config_errors(tmp_path: Path) -> None:
    config = write(tmp_path, "kpis:\n  - {id: aged, kpi: backlog_age, buckets: [3d, 1d]}\n")
    result = run(config, fmt="table", code=2)
    assert "increasing" in result.output and "buckets" in result.output
    assert "Traceback" not in result.output


def test_daily_levels_match_duckdb(tmp_path: Path) -> None:
    """300 random tickets over March; each day's bucket levels against DuckDB counting the
    tickets open at the day's end with their age there."""
    rng = random.Random(17)
    start = datetime(2026, 3, 1)
    lines = ["ticket_id,created_at,resolved_at"]
    for i in range(300):
        created = start + timedelta(minutes=rng.randrange(31 * 24 * 60))
        if i % 50 == 0:  # some on a day's edge exactly 1d, 3d, 7d before a midnight
            created = datetime(2026, 3, 1 + i // 50)
        resolved = created + timedelta(minutes=rng.randrange(12 * 24 * 60))
        end = resolved.strftime("%Y-%m-%d %H:%M:%S") if rng.random() < 0.7 else ""
        lines.append(f"t{i},{created:%Y-%m-%d %H:%M:%S},{end}")
    config = write(tmp_path, tickets="\n".join(lines) + "\n")
    result = run(
        config, "--from", "2026-03-01", "--to", "2026-03-31", "--grain", "day",
        "--kpi", "backlog_age", "--kpi", "backlog", fmt="csv",
    )  # fmt: skip
    got = grid(result.stdout)
    sql = f"""
        WITH t AS (
            SELECT CAST(created_at AS TIMESTAMP) AS c, TRY_CAST(resolved_at AS TIMESTAMP) AS r
            FROM read_csv('{tmp_path / "tickets.csv"}', all_varchar = true)
        ), days AS (
            SELECT CAST(d AS DATE) AS day, d + INTERVAL 1 DAY AS e
            FROM generate_series(TIMESTAMP '2026-03-01', TIMESTAMP '2026-03-31', INTERVAL 1 DAY)
                AS g(d)
        ), open AS (
            SELECT day, epoch_us(e) - epoch_us(c) AS age
            FROM days JOIN t ON t.c < days.e AND (t.r IS NULL OR t.r >= days.e)
        )
        SELECT strftime(day, '%Y-%m-%d'),
            count(*) FILTER (WHERE age < 86400e6),
            count(*) FILTER (WHERE age >= 86400e6 AND age < 3 * 86400e6),
            count(*) FILTER (WHERE age >= 3 * 86400e6 AND age < 7 * 86400e6),
            count(*) FILTER (WHERE age >= 7 * 86400e6),
            count(age)
        FROM days LEFT JOIN open USING (day) GROUP BY day ORDER BY day
    """
    want = {
        day: [int(v) for v in rest] for day, *rest in duckdb.sql(textwrap.dedent(sql)).fetchall()
    }
    assert got == want
    assert all(sum(v[:4]) == v[4] for v in got.values())  # the buckets sum to the backlog


# --- invariants -----------------------------------------------------------------------------

_HOURS = st.lists(
    st.tuples(st.integers(0, 24 * 20), st.one_of(st.none(), st.integers(0, 24 * 20))),
    min_size=1,
    max_size=40,
)


@given(_HOURS, st.lists(st.integers(1, 24 * 9), min_size=1, max_size=4, unique=True))
@settings(max_examples=60, deadline=None)
def test_the_buckets_partition_the_backlog_on_both_paths(
    tickets: list[tuple[int, int | None]], edges: list[int]
) -> None:
    """Tickets on an hourly grid (so ages fall exactly on the edges often): per day, the
    levels from the event counts (`events_query` + `levels`, the µs-shifted intervals) equal
    the direct count at the day's end (`aggregations`, age = end − created), and the buckets
    sum to the backlog."""
    base = datetime(2026, 3, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "created_at": [base + timedelta(hours=c) for c, _ in tickets],
            "ended_at": [
                None if e is None else base + timedelta(hours=max(c, e)) for c, e in tickets
            ],
            "ticket_end_unknown": [False] * len(tickets),
        },
        schema={
            "created_at": pl.Datetime("us", "UTC"),
            "ended_at": pl.Datetime("us", "UTC"),
            "ticket_end_unknown": pl.Boolean,
        },
    ).lazy()
    hours = sorted(edges)
    kpi = instantiate(CATALOG["backlog_age"], {"buckets": tuple(h * 3600.0 for h in hours)})
    members = expand(kpi)
    backlog = instantiate(CATALOG["backlog"])
    lo, hi = base, base + timedelta(days=21)
    daily = {}
    for k in (*members, backlog):
        assert isinstance(k.kind, Stock)
        events = events_query(frame, k.kind, [], "day", "UTC", hi, lo).collect()
        table = levels(events, k, [], "day", lo.date(), (hi - timedelta(days=1)).date(), "p")
        daily[k.id] = dict(zip(table["p"].to_list(), table[k.id].to_list(), strict=True))
    for day in range(21):
        end = base + timedelta(days=day + 1)
        at = (base + timedelta(days=day)).date()
        direct = [frame.select(aggregations(k, None, end)).collect()[k.id][0] for k in members]
        assert [daily[k.id].get(at, 0) for k in members] == direct
        assert sum(direct) == daily["backlog"].get(at, 0)


def test_report_kpis_may_name_the_family(tmp_path: Path) -> None:
    config = write(tmp_path, "report:\n  kpis: [backlog_age, backlog]\n")
    doc = run(config, "--from", "2026-03-01", "--to", "2026-03-07")
    assert [k["id"] for k in doc["kpis"]] == [*BANDS, "backlog"]
    assert totals(doc) == [2, 1, 0, 1, 4]  # as in the first test
