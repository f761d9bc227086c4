"""Vendor presets end to end, and the two ways to shape an export: derived columns and logs.

Each preset is run through `cscli report -c` on a small file in tests/data/presets/<vendor>/,
written by hand from the vendor's documented column names; the expected values are worked
out in the comments. docs/presets.md is checked against the registry.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from cscli.adapters import ADAPTERS
from cscli.adapters.base import header_zone, normalize
from cscli.adapters.presets import PRESETS
from cscli.cli import app
from cscli.config import SourceConfig
from cscli.engine.polars.loader import load_source
from cscli.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PRESET_DATA = ROOT / "tests" / "data" / "presets"

MIN, HOUR, DAY = 60.0, 3600.0, 86400.0


def run(tmp_path: Path, sources: str, *args: str) -> dict[str, Any]:
    """`cscli report -f json` on a config with these `sources:` → the JSON document."""
    config = tmp_path / "cscli.yaml"
    body = textwrap.indent(textwrap.dedent(sources).strip(), "  ")
    config.write_text(f"version: 1\ntimezone: UTC\nsources:\n{body}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def totals(doc: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    return {k: (v["value"], v["n"]) for k, v in doc["totals"]["kpis"].items()}


def path_of(vendor: str, name: str) -> str:
    return str(PRESET_DATA / vendor / name)


# --- ticketing -----------------------------------------------------------------------------


def test_zendesk(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"tickets: {{path: '{path_of('zendesk', 'tickets.csv')}', adapter: zendesk}}",
        *("--kpi", "ticket_volume,first_response_time,resolution_time,resolution_rate"),
        *("--kpi", "reopen_rate,reroute_rate"),
    )
    got = totals(doc)
    assert got["ticket_volume"] == (4, 4)
    # first reply = Created at + "First reply time in minutes": 30, 90, 15 (103 has none)
    assert got["first_response_time"] == (30 * MIN, 3)
    # Solved at − Created at: 4h, 24h, 45m → median 4h; 103 is open
    assert got["resolution_time"] == (4 * HOUR, 3)
    assert got["resolution_rate"] == (0.75, 4)
    assert got["reopen_rate"] == (pytest.approx(1 / 3), 3)  # 102 reopened once
    # reassignments = Group stations − 1: 0, 1, 0, 2 → 2 of 4 tickets
    assert got["reroute_rate"] == (0.5, 4)
    assert doc["data_quality"] == []


def test_zendesk_by_channel_and_priority_codes(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"tickets: {{path: '{path_of('zendesk', 'tickets.csv')}', adapter: zendesk}}",
        *("--kpi", "ticket_volume", "--by", "priority"),
    )
    # vendor codes are trimmed and lower-cased: Normal ×2, High, Urgent
    counts = {r["group"]["priority"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}
    assert counts == {"normal": 2, "high": 1, "urgent": 1}


def test_freshdesk(tmp_path: Path) -> None:
    got = totals(
        run(
            tmp_path,
            f"tickets: {{path: '{path_of('freshdesk', 'tickets.csv')}', adapter: freshdesk}}",
        )
    )
    assert got["ticket_volume"] == (3, 3)
    # Initial response time − Created time: 20m, 60m → median 40m
    assert got["first_response_time"] == (40 * MIN, 2)
    # Resolved time − Created time: 2h, 24h → median 13h
    assert got["resolution_time"] == (13 * HOUR, 2)
    assert got["resolution_rate"] == (pytest.approx(2 / 3), 3)


def test_intercom_reads_stamps_in_the_zone_its_headers_name(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"tickets: {{path: '{path_of('intercom', 'conversations.csv')}', adapter: intercom}}",
        *("--kpi", "ticket_volume,first_response_time,resolution_time", "--grain", "day"),
    )
    got = totals(doc)
    # first replied − started: 5m, 60m, 1m → median 5m
    assert got["first_response_time"] == (5 * MIN, 3)
    # last closed − started: 2h, 31m (215002 is open) → median (7200 + 1860) / 2
    assert got["resolution_time"] == ((7200 + 1860) / 2, 2)
    # "(Europe/Berlin)": 215002 started 2026-03-03 00:30 in Berlin = 2026-03-02 23:30 UTC,
    # so in a UTC report two conversations fall on 2 March (read as UTC, only one would)
    by_day = {r["group"]["period"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}
    assert by_day == {"2026-03-02": 2, "2026-03-03": 1}


def test_a_source_timezone_overrides_the_header_zone(tmp_path: Path) -> None:
    source = path_of("intercom", "conversations.csv")
    doc = run(
        tmp_path,
        f"tickets: {{path: '{source}', adapter: intercom, timezone: UTC}}",
        *("--kpi", "ticket_volume", "--grain", "day"),
    )
    by_day = {r["group"]["period"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}
    assert by_day == {"2026-03-02": 1, "2026-03-03": 2}


def test_servicenow(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"tickets: {{path: '{path_of('servicenow', 'incident.csv')}', adapter: servicenow}}",
        *("--kpi", "ticket_volume,resolution_time,resolution_rate,reopen_rate,reroute_rate"),
        *("--by", "priority"),
    )
    got = totals(doc)
    assert got["ticket_volume"] == (3, 3)
    # resolved_at − opened_at: 8h, 48h → median 28h
    assert got["resolution_time"] == (28 * HOUR, 2)
    assert got["reopen_rate"] == (0.5, 2)  # reopen_count 1 on INC0010002
    assert got["reroute_rate"] == (pytest.approx(1 / 3), 3)  # reassignment_count 2
    priorities = {r["group"]["priority"] for r in doc["rows"]}
    assert priorities == {"1 - critical", "3 - moderate", "4 - low"}


def test_servicenow_exported_with_labels(tmp_path: Path, write: Any) -> None:
    # a list exported with display labels instead of field names maps the same way
    write(
        "incidents.csv",
        """
        Number,Opened,Resolved,State,Channel,Assignment group,Assigned to,Priority
        INC1,2026-03-02 09:00:00,2026-03-02 10:30:00,Resolved,Phone,Service Desk,Fred,2 - High
        """,
    )
    got = totals(
        run(
            tmp_path,
            "tickets: {path: incidents.csv, adapter: servicenow}",
            *("--kpi", "resolution_time"),
        )
    )
    assert got["resolution_time"] == (1.5 * HOUR, 1)


# --- calls ---------------------------------------------------------------------------------


def test_amazon_connect(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"calls: {{path: '{path_of('amazon_connect', 'contact_records.csv')}', "
        "adapter: amazon_connect}",
    )
    got = totals(doc)
    # three INBOUND contacts with a queue timestamp: 0001 answered after 15 s (handle
    # 300 + 20 + 40 = 360), 0002 abandoned after 100 s, 0003 answered after 30 s (230)
    assert got["call_volume"] == (3, 3)
    assert got["abandonment_rate"] == (pytest.approx(1 / 3), 3)
    assert got["average_speed_of_answer"] == (22.5, 2)
    assert got["average_handle_time"] == (295.0, 2)
    assert got["service_level"] == (pytest.approx(1 / 3), 3)  # only 0001 within 20 s
    # the OUTBOUND contact has no Queue.EnqueueTimestamp: excluded, and said so
    issues = {q["issue"]: q["rows"] for q in doc["data_quality"]}
    assert issues == {"Queue.EnqueueTimestamp: missing value (required)": 1}


def test_genesys_cloud(tmp_path: Path) -> None:
    got = totals(
        run(
            tmp_path,
            f"calls: {{path: '{path_of('genesys_cloud', 'interactions.csv')}', "
            "adapter: genesys_cloud}",
            *("--kpi", "call_volume,abandonment_rate,average_speed_of_answer"),
            *("--kpi", "average_handle_time,service_level,call_reroute_rate"),
        )
    )
    # inbound: 0001 answered after 12 000 ms, 0002 abandoned, 0003 answered after 30 000 ms
    assert got["call_volume"] == (3, 3)
    assert got["abandonment_rate"] == (pytest.approx(1 / 3), 3)
    assert got["average_speed_of_answer"] == (21.0, 2)
    # Total Talk + Hold + ACW in ms: (240 + 30 + 15) s and (120 + 0 + 15) s → mean 210 s
    assert got["average_handle_time"] == (210.0, 2)
    assert got["service_level"] == (pytest.approx(1 / 3), 3)
    assert got["call_reroute_rate"] == (0.5, 2)  # 0003 was transferred


# --- surveys -------------------------------------------------------------------------------


def test_qualtrics_nps_question_and_header_rows(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"surveys: {{path: '{path_of('qualtrics', 'responses.csv')}', adapter: qualtrics, "
        "timezone: America/Denver}",
    )
    # Q1 (it has Q1_NPS_GROUP): 10, 9, 9, 7, 3 → 3 promoters, 1 detractor of 5 = +40; the
    # question-text and ImportId rows under the header are not responses
    assert totals(doc)["nps"] == (40.0, 5)
    assert doc["data_quality"] == []
    # RecordedDate in America/Denver (UTC−7): 2026-03-02 08:01:11 → 15:01:11 UTC
    assert doc["period"]["from"] == "2026-03-02"


def test_qualtrics_without_an_nps_question_asks_for_the_score_column(tmp_path: Path) -> None:
    source = tmp_path / "responses.csv"
    text = (PRESET_DATA / "qualtrics" / "responses.csv").read_text(encoding="utf-8")
    source.write_text(text.replace("Q1_NPS_GROUP", "Q1_GROUP"), encoding="utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(
        f"sources:\n  surveys: {{path: '{source}', adapter: qualtrics}}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["report", "-c", str(config)])
    assert result.exit_code == 2
    assert "required columns missing: score, survey_type" in result.stderr
    assert 'map the rating question with `columns: {score: "Q1"}`' in result.stderr
    fixed = config.read_text().replace(
        "adapter: qualtrics", "adapter: qualtrics, columns: {score: Q1}, survey_type: nps"
    )
    config.write_text(fixed, encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["kpis"]["nps"] == {"value": 40.0, "n": 5}


def test_delighted_epoch_stamps(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        f"surveys: {{path: '{path_of('delighted', 'responses.csv')}', adapter: delighted}}",
        *("--grain", "day"),
    )
    # 10, 8, 4, 9: 2 promoters, 1 detractor of 4 → +25
    assert totals(doc)["nps"] == (25.0, 4)
    # created_at is seconds since 1970 (UTC): 1772442000 = 2026-03-02 09:00 UTC
    days = {r["group"]["period"]: r["kpis"]["nps"]["n"] for r in doc["rows"]}
    assert days == {"2026-03-02": 2, "2026-03-03": 1, "2026-03-04": 1}


def test_delighted_without_a_survey_type_column_is_nps(tmp_path: Path, write: Any) -> None:
    write("r.csv", "id,person,score,comment,created_at\n1,p,10,,1772442000\n2,q,6,,1772442060\n")
    got = totals(run(tmp_path, "surveys: {path: r.csv, adapter: delighted}"))
    assert got["nps"] == (0.0, 2)


# --- presets in general --------------------------------------------------------------------


def test_columns_given_in_the_config_win_over_the_preset(tmp_path: Path) -> None:
    # map resolved_at to "Updated at" instead of "Solved at": 103 (open) now counts too
    got = totals(
        run(
            tmp_path,
            f"""
            tickets:
              path: '{path_of("zendesk", "tickets.csv")}'
              adapter: zendesk
              columns: {{resolved_at: Updated at}}
            """,
            *("--kpi", "resolution_rate"),
        )
    )
    assert got["resolution_rate"] == (1.0, 4)


def test_preset_names_match_case_spacing_and_zone_suffix() -> None:
    zendesk = ADAPTERS["zendesk"]
    header = ["ID", "created  AT", "Solved at (Europe/Paris)", "VIA"]
    assert zendesk.resolve("tickets", header) == {
        "ticket_id": "ID",
        "created_at": "created  AT",
        "resolved_at": "Solved at (Europe/Paris)",
        "channel": "VIA",
    }
    assert normalize("\ufeffConversation started at (America/New_York)") == (
        "conversation started at"
    )
    assert header_zone("Conversation started at (America/New_York)") == "America/New_York"
    assert header_zone("First response time (in hrs)") is None
    assert header_zone("Created (Mars/Olympus)") is None


def test_a_preset_map_names_canonical_columns_only() -> None:
    from cscli.schema import TABLES

    for adapter in PRESETS:
        for table, columns in adapter.column_map.items():
            assert set(columns) <= set(TABLES[table].names), adapter.name
        for table, offsets in adapter.offsets.items():
            for canonical, offset in offsets.items():
                assert TABLES[table].column(canonical).type == "datetime"
                assert TABLES[table].column(offset.base).type == "datetime"
        assert adapter.source, f"{adapter.name}: say where the column names come from"


def test_docs_describe_every_preset() -> None:
    text = (ROOT / "docs" / "presets.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## `(\w+)`", text, flags=re.M)
    assert sections == [a.name for a in PRESETS]
    for adapter in PRESETS:
        body = text.split(f"## `{adapter.name}`", 1)[1].split("\n## ", 1)[0]
        for columns in adapter.column_map.values():
            for canonical in columns:
                assert f"`{canonical}`" in body, (adapter.name, canonical)
        for offsets in adapter.offsets.values():
            for canonical in offsets:
                assert f"`{canonical}`" in body, (adapter.name, canonical)


# --- derived columns -----------------------------------------------------------------------


def load(tmp_path: Path, name: str = "tickets", **cfg: Any) -> pl.DataFrame:
    source = load_source(
        name, SourceConfig.model_validate(cfg), tmp_path, ADAPTERS["generic"], "cscli.yaml"
    )
    return source.frame.collect()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_derived_columns_are_sql_over_export_columns(tmp_path: Path, write: Any) -> None:
    write(
        "calls.tsv",
        "line\tid\tday\tq_start\tq_exit\toutcome\tsecs\n"
        "AA01\t7\t990201\t9:00:00\t9:00:30\tAGENT\t120\n"
        "AA02\t7\t990201\t0:00:00\t0:00:00\tAGENT\t60\n"
        "AA01\t8\t990201\t9:10:00\t9:11:00\tHANG\t0\n",
    )
    frame = load(
        tmp_path,
        "calls",
        path="calls.tsv",
        timestamp_format="%Y%m%d %H:%M:%S",
        columns={
            "call_id": "line || '-' || id",  # ids repeat across lines
            "queued_at": "'19' || day || ' ' || CASE WHEN q_start <> '0:00:00' "
            "THEN q_start ELSE '8:00:00' END",
            "answered_at": "CASE WHEN outcome = 'AGENT' AND q_start <> '0:00:00' "
            "THEN '19' || day || ' ' || q_exit END",
            "talk_seconds": "secs",
            "hold_seconds": "0",  # a constant: the export has no hold time
        },
    )
    assert frame["call_id"].to_list() == ["AA01-7", "AA02-7", "AA01-8"]
    assert frame["queued_at"].to_list() == [
        utc(1999, 2, 1, 9),
        utc(1999, 2, 1, 8),
        utc(1999, 2, 1, 9, 10),
    ]
    assert frame["answer_seconds"].to_list() == [30.0, None, None]
    assert frame["hold_seconds"].to_list() == [0.0, 0.0, 0.0]


def test_derived_column_naming_an_unknown_column(tmp_path: Path, write: Any) -> None:
    write("t.csv", "id,day,time\n1,2026-03-02,09:00\n")
    with pytest.raises(InputError) as e:
        load(
            tmp_path,
            path="t.csv",
            columns={"ticket_id": "id", "created_at": "dat || ' ' || time"},
        )
    assert "uses 'dat', which is not a column of the file (nearest: 'day')" in str(e.value)
    assert "(nearest: 'day')" in str(e.value)


# --- event logs ----------------------------------------------------------------------------


LOG = """
case,at,activity,group
A,2026-03-02 09:00,open,L1
A,2026-03-02 09:30,reply,L1
A,2026-03-02 10:00,solved,L1
A,2026-03-02 11:00,open,L2
A,2026-03-02 12:00,solved,L2
A,2026-03-02 12:00,closed,L2
B,2026-03-02 09:00,open,L1
B,2026-03-02 09:10,assign,L2
C,2026-03-02 08:00,open,L1
C,2026-03-02 08:00,solved,L1
"""


def test_event_log_reduces_to_one_record_per_case(tmp_path: Path, write: Any) -> None:
    write("log.csv", LOG)
    frame = load(
        tmp_path,
        path="log.csv",
        columns={"team": "group"},
        event_log={
            "case": "case",
            "timestamp": "at",
            "activity": "activity",
            "first_response": ["reply"],
            "resolved": ["solved", "closed"],
            "reassigned": ["assign"],
        },
    ).sort("ticket_id")
    assert frame["ticket_id"].to_list() == ["A", "B", "C"]
    assert frame["created_at"].to_list() == [
        utc(2026, 3, 2, 9),
        utc(2026, 3, 2, 9),
        utc(2026, 3, 2, 8),
    ]
    assert frame["first_response_at"].to_list() == [utc(2026, 3, 2, 9, 30), None, None]
    # A: solved at 10:00, reopened at 11:00, its final run of solved/closed starts at 12:00;
    # B never resolved; C: opened and solved in the same minute, in that order in the file
    assert frame["resolved_at"].to_list() == [utc(2026, 3, 2, 12), None, utc(2026, 3, 2, 8)]
    assert frame["reopens"].to_list() == [1, 0, 0]
    assert frame["reassignments"].to_list() == [0, 1, 0]
    assert frame["team"].to_list() == ["L2", "L2", "L1"]  # the value at the last event


def test_event_log_ties_follow_the_file_order(tmp_path: Path, write: Any) -> None:
    # solved and reopened in the same minute: the file order says it ended open
    write(
        "log.csv",
        "case,at,activity\nA,2026-03-02 09:00,open\nA,2026-03-02 10:00,solved\n"
        "A,2026-03-02 10:00,open\n",
    )
    frame = load(
        tmp_path,
        path="log.csv",
        event_log={
            "case": "case",
            "timestamp": "at",
            "activity": "activity",
            "resolved": ["solved"],
        },
    )
    assert frame["resolved_at"].to_list() == [None]
    assert frame["reopens"].to_list() == [1]


def test_event_log_with_day_first_stamps_asks_for_the_format(tmp_path: Path, write: Any) -> None:
    write("log.csv", "case,at,activity\nA,29/2/2016 01:16,New\nA,1/3/2016 09:00,Closed\n")
    with pytest.raises(InputError) as e:
        load(
            tmp_path,
            path="log.csv",
            event_log={"case": "case", "timestamp": "at", "activity": "activity"},
        )
    assert "the dates are day-first ('29/2/2016 01:16')" in e.value.message
    assert (
        e.value.hint == "confirm it with sources.tickets.event_log.timestamp_format: "
        '"%d/%m/%Y %H:%M"'
    )


def test_intercom_ratings_as_a_survey_source(tmp_path: Path) -> None:
    # the recipe in docs/presets.md: the same export read again as surveys
    source = path_of("intercom", "conversations.csv")
    doc = run(
        tmp_path,
        f"""
        tickets: {{path: '{source}', adapter: intercom}}
        surveys:
          path: '{source}'
          survey_type: csat
          filter: "score IS NOT NULL"
          columns:
            response_id: Conversation ID
            ticket_id: Conversation ID
            responded_at: Conversation first closed at
            score: Last teammate rating
        """,
        *("--kpi", "csat", "--by", "agent"),
    )
    # ratings 5 (215001, Alice) and 4 (215003, Alice): both satisfied; 215002 has none
    assert totals(doc)["csat"] == (1.0, 2)
    by_agent = {r["group"]["agent"]: r["kpis"]["csat"]["n"] for r in doc["rows"]}
    assert by_agent["Alice"] == 2


def test_genesys_other_media_filtered_out(tmp_path: Path, write: Any) -> None:
    text = (PRESET_DATA / "genesys_cloud" / "interactions.csv").read_text(encoding="utf-8")
    write(
        "i.csv",
        text + "a1b2c3d4-0005,2026-03-02 09:30:00,Inbound,message,Support,,YES,5000,,,,,,0\n",
    )
    doc = run(
        tmp_path,
        """
        calls:
          path: i.csv
          adapter: genesys_cloud
          extra_columns: [Media Type]
          filter: "\\"Media Type\\" = 'voice'"
        """,
        *("--kpi", "call_volume,abandonment_rate"),
    )
    assert totals(doc)["call_volume"] == (3, 3)
    assert totals(doc)["abandonment_rate"] == (pytest.approx(1 / 3), 3)


def test_amazon_connect_outbound_filtered_out(tmp_path: Path) -> None:
    # the recipe in docs/presets.md: a filter drops contacts that never queue, without a finding
    doc = run(
        tmp_path,
        f"calls: {{path: '{path_of('amazon_connect', 'contact_records.csv')}', "
        "adapter: amazon_connect, filter: \"direction = 'inbound'\"}",
        *("--kpi", "call_volume"),
    )
    assert totals(doc)["call_volume"] == (3, 3)
    assert doc["data_quality"] == []


# --- agent states --------------------------------------------------------------------------


def test_twilio_taskrouter_worker_activity_events(tmp_path: Path) -> None:
    path = path_of("twilio_taskrouter", "worker_activity_events.csv")
    doc = run(
        tmp_path,
        f"agent_states: {{path: '{path}', adapter: twilio_taskrouter, states: "
        "{Busy: on_contact, Wrap Up: after_contact_work}}",
        "--kpi",
        "occupancy,agents_staffed",
    )
    got = totals(doc)
    # one event per change, each state lasting to the worker's next event. ann: Available
    # 08:00–08:20 (1200), Busy 08:20–08:50 (1800), Wrap Up 08:50–09:00 (600), Available
    # 09:00–10:00 (3600), Offline from 10:00 (the export time: 0 s); bob: Available
    # 08:00–09:00 (3600), Break 09:00–10:00. occupancy = (1800 + 600) / (2400 + 4800 + 3600)
    assert got["occupancy"][0] == pytest.approx(2400 / 10800)
    # staffed seconds 7200 (ann) + 3600 (bob) over 08:00–10:00 = 7200 s; n = the 6 rows with
    # time (the two Offline rows at 10:00 last 0 s)
    assert got["agents_staffed"] == (pytest.approx(1.5), 6)
    assert doc["data_quality"] == []


#: Fivetran's Zendesk ticket_comment joined with user (role, name), as docs/presets.md asks; kept
#: here, not in tests/data/presets/zendesk (one sample export per preset, which `init` reads)
ZENDESK_COMMENTS = """\
id,ticket_id,created,public,user_id,user_role,user_name,body
9001,101,2026-03-02T09:00:00Z,true,501,end-user,Ann,hello
9002,101,2026-03-02T09:20:00Z,true,601,agent,Amy,hi there
9003,101,2026-03-02T09:40:00Z,true,501,end-user,Ann,still broken
9004,101,2026-03-02T09:45:00Z,false,602,admin,Max,internal note
9005,101,2026-03-02T10:40:00Z,true,602,admin,Max,fixed
9006,102,2026-03-02T11:00:00Z,true,502,not set,Bo,question
9007,102,2026-03-02T11:30:00Z,true,601,agent,Amy,answer
9008,102,2026-03-02T12:00:00Z,true,502,Not set,Bo,thanks but
9009,102,2026-03-02T12:30:00Z,true,700,light-agent,Lee,hm
"""


def test_zendesk_ticket_comments_with_their_users_role(tmp_path: Path) -> None:
    (tmp_path / "ticket_comments.csv").write_text(ZENDESK_COMMENTS, encoding="utf-8")
    doc = run(
        tmp_path,
        f"ticket_comments: {{path: '{tmp_path / 'ticket_comments.csv'}', adapter: zendesk}}",
        *("--kpi", "next_reply_time"),
    )
    # 101: Ann 09:40 after Amy's 09:20 reply waits to Max (admin = agent) at 10:40: 3600 s
    # (Max's 09:45 note is private); 102: Bo ('Not set' = the customer) at 12:00 after Amy's
    # 11:30 reply is still waiting → median 3600 over n 1. 9009's role light-agent is unknown.
    assert totals(doc)["next_reply_time"] == (3600.0, 1)
    issues = {(q["source"], q["issue"]): q["rows"] for q in doc["data_quality"]}
    assert issues == {("ticket_comments", "author_role: unknown role (not end_user or agent)"): 1}
