"""Tags (issue 17): the multi-valued dimension `tag`, its groups that overlap, and totals that
count each ticket once.

Fixture (UTC, March 2026; period 2026-03-01 … 2026-03-31):

  t1 created Mon 03-02 09:00, resolved 12:00 (3h), email, tags "Billing, refund" → billing, refund
  t2 created Tue 03-03 09:00, open,               email, tags "billing"         → billing
  t3 created Wed 03-04 09:00, resolved 03-05 09:00 (24h), chat, no tags        → (none)
  t4 created Tue 03-10 09:00, open,               chat,  tags "vip,VIP , vip"   → vip (once)

By hand, by tag: ticket_volume billing 2 (t1, t2), refund 1, vip 1 (t4's three spellings are
one tag), (none) 1 (t3) — the groups sum to 5, the total is 4 tickets. Backlog at the end
(2026-04-01 00:00): t2 and t4 are open → billing 1, refund 0, vip 1, (none) 0; total 2.
Resolution time (median, by resolved_at): billing and refund t1 3h (n 1); (none) t3 24h;
vip none resolved (null, n 0); total the median of 3h and 24h = 13.5h (n 2), not a median
over the groups' rows.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cscli import api
from cscli.cli import app
from cscli.period import Period
from cscli.pipeline import ReportRequest, run_report

HOUR = 3600.0
PERIOD = ("--from", "2026-03-01", "--to", "2026-03-31")

TICKETS = """\
ticket_id,created_at,resolved_at,status,channel,tags
t1,2026-03-02 09:00:00,2026-03-02 12:00:00,solved,email,"Billing, refund"
t2,2026-03-03 09:00:00,,open,email,billing
t3,2026-03-04 09:00:00,2026-03-05 09:00:00,solved,chat,
t4,2026-03-10 09:00:00,,open,chat,"vip,VIP , vip"
"""


def write(tmp_path: Path, tickets: str = TICKETS, source: str = "{path: tickets.csv}") -> Path:
    (tmp_path / "tickets.csv").write_text(tickets, encoding="utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(f"version: 1\ntimezone: UTC\nsources:\n  tickets: {source}\n")
    return config


def report(config: Path, *args: str, fmt: str = "json") -> Any:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", fmt, *PERIOD, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if fmt == "json" else result.stdout


def by_group(doc: dict[str, Any], kpi: str) -> dict[tuple[Any, ...], tuple[Any, int]]:
    return {
        tuple(r["group"].values()): (r["kpis"][kpi]["value"], r["kpis"][kpi]["n"])
        for r in doc["rows"]
    }


def total(doc: dict[str, Any], kpi: str) -> tuple[Any, int]:
    v = doc["totals"]["kpis"][kpi]
    return v["value"], v["n"]


KPIS = ("--kpi", "ticket_volume", "--kpi", "backlog", "--kpi", "resolution_time")


def test_a_ticket_is_in_each_of_its_tags_groups_and_counted_once_in_the_total(
    tmp_path: Path,
) -> None:
    doc = report(write(tmp_path), "--by", "tag", *KPIS)
    assert by_group(doc, "ticket_volume") == {
        ("billing",): (2, 2),
        ("refund",): (1, 1),
        ("vip",): (1, 1),  # "vip,VIP , vip" is one tag
        (None,): (1, 1),  # the untagged ticket
    }
    assert total(doc, "ticket_volume") == (4, 4)  # tickets, not 2 + 1 + 1 + 1 = 5
    assert by_group(doc, "backlog") == {
        ("billing",): (1, 1),
        ("refund",): (0, 0),
        ("vip",): (1, 1),
        (None,): (0, 0),
    }
    assert total(doc, "backlog") == (2, 2)
    frt = by_group(doc, "resolution_time")
    assert frt[("billing",)] == (pytest.approx(3 * HOUR), 1)
    assert frt[("refund",)] == (pytest.approx(3 * HOUR), 1)
    assert frt[(None,)] == (pytest.approx(24 * HOUR), 1)
    assert frt[("vip",)] == (None, 0)
    assert total(doc, "resolution_time") == (pytest.approx(13.5 * HOUR), 2)
    assert doc["overlapping"] == ["tag"]


def test_a_kpi_may_not_be_called_tag(tmp_path: Path) -> None:
    config = write(tmp_path)
    config.write_text(config.read_text() + "kpis:\n  - {id: tag, source: tickets, sql: count(*)}\n")
    result = CliRunner().invoke(app, ["report", "-c", str(config), *PERIOD])
    assert result.exit_code == 2
    assert "KPI id 'tag' is the name of a report column or dimension" in result.output


def test_other_cuts_say_nothing_about_overlap(tmp_path: Path) -> None:
    doc = report(write(tmp_path), "--by", "channel", "--kpi", "ticket_volume")
    assert "overlapping" not in doc
    assert by_group(doc, "ticket_volume") == {("email",): (2, 2), ("chat",): (2, 2)}


def test_every_format_says_the_groups_do_not_sum(tmp_path: Path) -> None:
    config = write(tmp_path)
    md = report(config, "--by", "tag", "--kpi", "ticket_volume", fmt="md")
    assert "groups do not sum to the total" in md
    result = CliRunner().invoke(
        app, ["report", "-c", str(config), *PERIOD, "--by", "tag", "--kpi", "ticket_volume"]
    )
    assert result.exit_code == 0
    assert "groups do not sum to the total" in result.stderr.replace("\n", " ")
    html = tmp_path / "r.html"
    result = CliRunner().invoke(
        app,
        ["report", "-c", str(config), *PERIOD, "--by", "tag", "--kpi", "ticket_volume", "-o", html],
    )
    assert result.exit_code == 0, result.output
    assert "groups do not sum to the total" in html.read_text(encoding="utf-8")
    xlsx = tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        app,
        ["report", "-c", str(config), *PERIOD, "--by", "tag", "--kpi", "ticket_volume", "-o", xlsx],
    )
    assert result.exit_code == 0, result.output
    summary = openpyxl.load_workbook(xlsx)["Summary"]
    cells = [str(c.value) for row in summary.iter_rows() for c in row if c.value is not None]
    assert any("groups do not sum to the total" in c for c in cells)
    plain = report(config, "--by", "channel", "--kpi", "ticket_volume", fmt="md")
    assert "do not sum" not in plain


def test_tag_with_another_dimension(tmp_path: Path) -> None:
    doc = report(write(tmp_path), "--by", "tag,channel", "--kpi", "ticket_volume")
    assert by_group(doc, "ticket_volume") == {
        ("billing", "email"): (2, 2),
        ("refund", "email"): (1, 1),
        ("vip", "chat"): (1, 1),
        (None, "chat"): (1, 1),
    }
    assert total(doc, "ticket_volume") == (4, 4)


def test_tag_by_week_and_the_trend_count_each_ticket_once(tmp_path: Path) -> None:
    # ISO weeks: 03-02 holds t1, t2, t3; 03-09 holds t4. The backlog at each week's end:
    # week 03-02 (end 03-09 00:00): t2 open (t1 and t3 resolved) → billing 1;
    # week 03-09 (end 03-16): t2 and t4 → billing 1, vip 1
    csv = report(
        write(tmp_path),
        "--by",
        "tag",
        "--grain",
        "week",
        "--kpi",
        "ticket_volume",
        "--kpi",
        "backlog",
        fmt="csv",
    )
    table = pl.read_csv(csv.encode(), schema_overrides={"period": pl.String})
    rows = {
        (r["tag"], r["period"]): (r["ticket_volume"], r["backlog"])
        for r in table.filter(pl.col("scope") == "group").iter_rows(named=True)
    }
    assert rows[("billing", "2026-03-02")] == (2, 1)
    assert rows[("refund", "2026-03-02")] == (1, 0)
    assert rows[(None, "2026-03-02")] == (1, 0)
    assert rows[("vip", "2026-03-09")] == (1, 1)
    assert rows[("billing", "2026-03-09")] == (0, 1)
    # the terminal's trend (one row per bucket over all groups): week 03-02 has 3 tickets
    config = api.open_config(tmp_path / "cscli.yaml")
    result = run_report(
        config,
        ReportRequest(("ticket_volume",), ("tag",), "week", trend=True),
        Period(date(2026, 3, 1), date(2026, 3, 31), "UTC"),
    )
    assert result.trend_rows is not None
    weekly = {str(r.group["period"]): r.kpi("ticket_volume").value for r in result.trend_rows}
    assert weekly["2026-03-02"] == 3  # not billing 2 + refund 1 + (none) 1 = 4
    assert weekly["2026-03-09"] == 1


def test_tag_with_compare(tmp_path: Path) -> None:
    # the week of 03-09 … 03-15 against 03-02 … 03-08: vip 1 now, none before (0);
    # totals 1 now, 3 before (t1, t2, t3: each once)
    result = CliRunner().invoke(
        app,
        [
            "report", "-c", str(write(tmp_path)), "-f", "json", "--from", "2026-03-09",
            "--to", "2026-03-15", "--compare", "--by", "tag", "--kpi", "ticket_volume",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = {r["group"]["tag"]: r["kpis"]["ticket_volume"] for r in doc["rows"]}
    assert rows["vip"]["value"] == 1 and rows["vip"]["previous"] == 0
    assert doc["totals"]["kpis"]["ticket_volume"]["value"] == 1
    assert doc["totals"]["kpis"]["ticket_volume"]["previous"] == 3


def test_list_separator_and_a_parquet_list_column(tmp_path: Path) -> None:
    semi = TICKETS.replace('"Billing, refund"', '"Billing; refund"').replace(
        '"vip,VIP , vip"', '"vip;VIP ; vip"'
    )
    doc = report(
        write(tmp_path, semi, "{path: tickets.csv, list_separator: ';'}"),
        "--by",
        "tag",
        "--kpi",
        "ticket_volume",
    )
    assert by_group(doc, "ticket_volume") == {
        ("billing",): (2, 2),
        ("refund",): (1, 1),
        ("vip",): (1, 1),
        (None,): (1, 1),
    }
    # a list column: the same values, an empty list and a null list (both untagged)
    frame = pl.DataFrame(
        {
            "ticket_id": ["p1", "p2", "p3", "p4"],
            "created_at": ["2026-03-02 09:00:00"] * 4,
            "tags": [["Billing", " refund", "billing"], ["vip"], [], None],
        }
    )
    frame.write_parquet(tmp_path / "tickets.parquet")
    config = tmp_path / "parquet.yaml"
    config.write_text("version: 1\nsources:\n  tickets: {path: tickets.parquet}\n")
    doc = report(config, "--by", "tag", "--kpi", "ticket_volume")
    assert by_group(doc, "ticket_volume") == {
        ("billing",): (1, 1),  # "Billing" and "billing" on p1: once
        ("refund",): (1, 1),
        ("vip",): (1, 1),
        (None,): (2, 2),  # p3 (empty list) and p4 (null)
    }
    assert total(doc, "ticket_volume") == (4, 4)


def test_zendesk_preset_reads_space_separated_tags(tmp_path: Path) -> None:
    export = """\
Id,Created at,Solved at,Status,Via,Tags
1,2026-03-02 09:00:00,,open,email,billing vip
2,2026-03-03 09:00:00,,open,web,billing
3,2026-03-04 09:00:00,,open,web,
"""
    doc = report(
        write(tmp_path, export, "{path: tickets.csv, adapter: zendesk}"),
        "--by",
        "tag",
        "--kpi",
        "ticket_volume",
    )
    assert by_group(doc, "ticket_volume") == {
        ("billing",): (2, 2),
        ("vip",): (1, 1),
        (None,): (1, 1),
    }


def test_a_check_by_tag(tmp_path: Path) -> None:
    config = write(tmp_path)
    config.write_text(
        config.read_text()
        + "checks:\n  - {kpi: ticket_volume, by: [tag], fail: '> 1'}\n"
        + "  - {name: vip backlog, kpi: backlog, by: [tag], where: \"tag = 'vip'\", "
        + "fail: '> 0'}\n"
    )
    result = CliRunner().invoke(app, ["check", "-c", str(config), "-f", "json", *PERIOD])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    outcomes = {(c["name"], c["group"].get("tag")): c["status"] for c in doc["checks"]}
    # billing has 2 tickets (> 1): fails; refund, vip and (none) 1 each: pass
    assert outcomes == {
        ("ticket_volume by tag", "billing"): "fail",
        ("ticket_volume by tag", "refund"): "pass",
        ("ticket_volume by tag", "vip"): "pass",
        ("ticket_volume by tag", None): "pass",
        ("vip backlog", "vip"): "fail",  # t4 is open; `where:` keeps only the vip group
    }


def test_breach_records_of_a_tag_group(tmp_path: Path) -> None:
    config = write(tmp_path)
    config.write_text(config.read_text() + "checks:\n  - {kpi: backlog, by: [tag], fail: '> 0'}\n")
    target = tmp_path / "breaches.csv"
    result = CliRunner().invoke(
        app, ["check", "-c", str(config), *PERIOD, "--breaches", str(target)]
    )
    assert result.exit_code == 1, result.output
    rows = pl.read_csv(target)
    # the open tickets of each failing group: billing → t2, vip → t4
    got = sorted(zip(rows["group"].to_list(), rows["id"].to_list(), strict=True))
    assert got == [("tag=billing", "t2"), ("tag=vip", "t4")]


def test_counts_per_tag_match_duckdb(tmp_path: Path) -> None:
    """200 tickets with 0–3 tags drawn from 5 (repeats and case included): per tag, the
    tickets created in March, against DuckDB's own split, trim, lower and distinct."""
    names = ["Billing", "refund", "VIP", "bug", "billing "]
    lines = ["ticket_id,created_at,tags"]
    for i in range(200):
        picked = [names[(i * 7 + j * 3) % 5] for j in range(i % 4)]
        day = 1 + i % 28
        lines.append(f'{i},2026-03-{day:02d} 10:00:00,"{",".join(picked)}"')
    config = write(tmp_path, "\n".join(lines) + "\n")
    doc = report(config, "--by", "tag", "--kpi", "ticket_volume")
    got = {g[0]: v for g, (v, _) in by_group(doc, "ticket_volume").items()}
    sql = f"""
        WITH t AS (
            SELECT ticket_id, list_distinct(list_filter(
                list_transform(string_split(coalesce(tags, ''), ','), lambda x: lower(trim(x))),
                lambda x: x <> '')) AS tags
            FROM read_csv('{tmp_path / "tickets.csv"}', all_varchar = true)
        )
        , u AS (
            SELECT ticket_id, unnest(CASE WHEN len(tags) = 0 THEN [NULL] ELSE tags END) AS tag
            FROM t
        )
        SELECT tag, count(DISTINCT ticket_id) FROM u GROUP BY tag
    """
    want = dict(duckdb.sql(textwrap.dedent(sql)).fetchall())
    assert got == want
    assert total(doc, "ticket_volume") == (200, 200)


def test_freshdesk_preset_reads_its_tags(tmp_path: Path) -> None:
    # tests/data/presets/freshdesk/tickets.csv: ticket 1 login, 2 refund, 3 untagged
    export = Path(__file__).parent / "data" / "presets" / "freshdesk" / "tickets.csv"
    config = write(
        tmp_path, export.read_text(encoding="utf-8"), "{path: tickets.csv, adapter: freshdesk}"
    )
    doc = report(config, "--by", "tag", "--kpi", "ticket_volume")
    assert by_group(doc, "ticket_volume") == {
        ("login",): (1, 1),
        ("refund",): (1, 1),
        (None,): (1, 1),
    }


def test_by_tag_without_a_tags_column_names_it(tmp_path: Path) -> None:
    config = write(tmp_path, "ticket_id,created_at\nt1,2026-03-02 09:00:00\n")
    result = CliRunner().invoke(app, ["report", "-c", str(config), *PERIOD, "--by", "tag"])
    assert result.exit_code == 2
    assert "error: --by tag: tickets has no tags column" in result.stderr
    assert "hint: map it on the tickets source: `columns: {tags: <export column>}`" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_surveys_by_the_tags_of_the_ticket_they_rate(tmp_path: Path) -> None:
    # s1 rates t1 (billing, refund) 5; s2 t2 (billing) 2; s3 t3 (untagged) 4; s4 t4 (vip) 1;
    # s5 a ticket the export lacks (no tags known: the null group) 5. CSAT = share of 4–5:
    # billing s1, s2 → 1/2; refund s1 → 1/1; vip s4 → 0/1; (none) s3, s5 → 2/2;
    # total 3/5 (each response once)
    (tmp_path / "surveys.csv").write_text(
        "response_id,responded_at,score,survey_type,ticket_id\n"
        "s1,2026-03-03 10:00:00,5,csat,t1\n"
        "s2,2026-03-04 10:00:00,2,csat,t2\n"
        "s3,2026-03-05 10:00:00,4,csat,t3\n"
        "s4,2026-03-11 10:00:00,1,csat,t4\n"
        "s5,2026-03-12 10:00:00,5,csat,t99\n",
        encoding="utf-8",
    )
    config = write(tmp_path)
    config.write_text(config.read_text() + "  surveys: {path: surveys.csv}\n")
    doc = report(config, "--by", "tag", "--kpi", "csat")
    assert by_group(doc, "csat") == {
        ("billing",): (0.5, 2),
        ("refund",): (1.0, 1),
        ("vip",): (0.0, 1),
        (None,): (1.0, 2),
    }
    assert total(doc, "csat") == (0.6, 5)


def test_json_lines_with_lists_and_texts(tmp_path: Path) -> None:
    # a JSON Lines file whose tags are a list on one line and text on another is read as
    # text (`["A", "b"]`): a JSON list written as text is still that list
    (tmp_path / "tickets.jsonl").write_text(
        '{"ticket_id": "j1", "created_at": "2026-03-02T09:00:00Z", "tags": ["A", "b"]}\n'
        '{"ticket_id": "j2", "created_at": "2026-03-02T09:00:00Z", "tags": "b, c"}\n'
        '{"ticket_id": "j3", "created_at": "2026-03-02T09:00:00Z", "tags": []}\n',
        encoding="utf-8",
    )
    config = tmp_path / "jsonl.yaml"
    config.write_text("version: 1\nsources:\n  tickets: {path: tickets.jsonl}\n")
    doc = report(config, "--by", "tag", "--kpi", "ticket_volume")
    assert by_group(doc, "ticket_volume") == {
        ("a",): (1, 1),
        ("b",): (2, 2),  # j1 and j2
        ("c",): (1, 1),
        (None,): (1, 1),  # j3
    }


def test_feedback_counts_labels_per_tag(tmp_path: Path) -> None:
    pytest.importorskip("vaderSentiment")
    # f1 "terrible and broken" (negative) is tagged billing and vip; f2 "Great help, thanks"
    # (positive) billing; f3 "Awful, awful" (negative) untagged
    config = write(
        tmp_path,
        "ticket_id,created_at,subject,tags\n"
        'f1,2026-03-02 09:00:00,This is terrible and broken,"billing,vip"\n'
        'f2,2026-03-02 09:00:00,"Great help, thanks",billing\n'
        'f3,2026-03-02 09:00:00,"Awful, awful",\n',
    )
    result = CliRunner().invoke(
        app,
        ["feedback", "-c", str(config), "--source", "tickets", "--by", "tag", "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    counts = {(r["tag"], r["label"]): r["n"] for r in json.loads(result.stdout)["labels"]}
    assert {k: n for k, n in counts.items() if n} == {
        ("billing", "negative"): 1,
        ("billing", "positive"): 1,
        ("vip", "negative"): 1,
        (None, "negative"): 1,
    }
