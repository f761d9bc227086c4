"""`cscli init` recognises vendor exports by their headers; `cscli validate` reports on them.

init runs on copies of tests/data/presets/<vendor>/ (one export each, and all of them in one
folder); the config it writes must run as written. validate is checked for what it promises:
rows read, columns mapped and unused, canonical columns absent, findings with rows, references
across sources, and KPI availability, in the terminal and as JSON.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cscli.adapters.presets import PRESETS
from cscli.cli import app

ROOT = Path(__file__).resolve().parents[1]
PRESET_DATA = ROOT / "tests" / "data" / "presets"

Write = Callable[[str, str], Path]

#: vendor folder → the table its export is
TABLE_OF = {
    "zendesk": "tickets",
    "freshdesk": "tickets",
    "intercom": "tickets",
    "servicenow": "tickets",
    "amazon_connect": "calls",
    "genesys_cloud": "calls",
    "qualtrics": "surveys",
    "delighted": "surveys",
    "twilio_taskrouter": "agent_states",
    "fivetran_zendesk": "tickets",
}


def init(folder: Path) -> dict[str, dict[str, object]]:
    """Run `cscli init folder`, check the config runs, return its sources."""
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    config = folder / "cscli.yaml"
    assert f"wrote {config}" in result.stderr
    report = runner.invoke(app, ["report", "-c", str(config), "-f", "json"])
    assert report.exit_code == 0, report.output
    sources: dict[str, dict[str, object]] = yaml.safe_load(config.read_text())["sources"]
    return sources


def test_every_preset_has_a_sample_export() -> None:
    assert sorted(TABLE_OF) == sorted(a.name for a in PRESETS)
    for vendor in TABLE_OF:
        assert len(list((PRESET_DATA / vendor).iterdir())) == 1, vendor


@pytest.mark.parametrize("vendor", sorted(TABLE_OF))
def test_init_recognises_the_preset(vendor: str, tmp_path: Path) -> None:
    folder = tmp_path / vendor
    shutil.copytree(PRESET_DATA / vendor, folder)
    sources = init(folder)
    assert list(sources) == [TABLE_OF[vendor]]
    source = sources[TABLE_OF[vendor]]
    assert source["adapter"] == vendor
    # the preset maps everything it knows: nothing left for `columns:` but what it lacks
    assert "ticket_id" not in str(source.get("columns", {}))


def test_init_on_a_folder_of_vendor_exports(tmp_path: Path) -> None:
    for vendor, name in (
        ("zendesk", "tickets.csv"),
        ("amazon_connect", "contact_records.csv"),
        ("qualtrics", "responses.csv"),
    ):
        shutil.copy(PRESET_DATA / vendor / name, tmp_path / name)
    sources = init(tmp_path)
    assert {t: s["adapter"] for t, s in sources.items()} == {
        "tickets": "zendesk",
        "calls": "amazon_connect",
        "surveys": "qualtrics",
    }
    # Qualtrics' NPS question makes the survey type; nothing is guessed from the file name
    assert sources["surveys"]["survey_type"] == "nps"
    text = (tmp_path / "cscli.yaml").read_text()
    assert "survey_type: nps   # from the qualtrics preset" in text
    assert "# not used: Summation column, Requester," in text


def test_init_takes_the_zone_from_intercom_headers(tmp_path: Path) -> None:
    shutil.copytree(PRESET_DATA / "intercom", tmp_path / "x")
    sources = init(tmp_path / "x")
    assert sources["tickets"]["timezone"] == "Europe/Berlin"


def test_init_keeps_canonical_files_generic(tmp_path: Path, write: Write) -> None:
    # a preset that happens to name a column `score` or `comment` says nothing about a file
    write("surveys_csat.csv", "responded_at,score,comment\n2026-03-02 09:00,5,great\n")
    write("tickets.csv", "ticket_id,created_at,status\n1,2026-03-02 09:00,open\n")
    sources = init(tmp_path)
    assert "adapter" not in sources["surveys"] and "adapter" not in sources["tickets"]
    assert sources["surveys"]["survey_type"] == "csat"


# --- validate ------------------------------------------------------------------------------


@pytest.fixture
def zendesk_with_surveys(tmp_path: Path, write: Write) -> Path:
    shutil.copy(PRESET_DATA / "zendesk" / "tickets.csv", tmp_path / "tickets.csv")
    write(
        "surveys.csv",
        """
        response_id,responded_at,score,ticket_id
        s1,2026-03-02 14:00,5,101
        s2,2026-03-03 11:00,2,102
        s3,2026-03-03 13:00,4,999
        s4,2026-03-04 09:00,7,104
        """,
    )
    return write(
        "cscli.yaml",
        """
        version: 1
        sources:
          tickets: {path: tickets.csv, adapter: zendesk}
          surveys: {path: surveys.csv, survey_type: csat}
        """,
    )


def test_validate_terminal_report(zendesk_with_surveys: Path) -> None:
    result = CliRunner().invoke(
        app, ["validate", "-c", str(zendesk_with_surveys), "--width", "300"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "tickets: 4 rows read from tickets.csv" in out
    assert (
        "mapped: ticket_id ← Id, created_at ← Created at, resolved_at ← Solved at, status ← "
        "Status, channel ← Via, agent ← Assignee, team ← Group, priority ← Priority, "
        "customer_id ← Requester id, agent_replies ← Replies, reopens ← Reopens, reassignments "
        "← CASE WHEN" in out
    )
    assert "first_response_at ← Created at + First reply time in minutes (minutes)" in out
    assert "not used: Summation column, Requester, Ticket type, Updated at" in out
    assert "tags ← Tags" in out  # read since issue 17 (`--by tag`)
    assert "not in the export: closed_at, first_contact_resolved, kb_used, description" in out
    # surveys: one score outside 1–5, one survey of a ticket the export does not have
    assert "! 1 row(s) csat score outside 1–5 (surveys.csv:5): excluded from csat" in out
    assert (
        "! 1 row(s) reference an unknown ticket (ticket_id not in tickets) (surveys.csv:4): "
        "kept; they cannot be cut by the ticket's agent, team or channel" in out
    )
    assert "✓ no data-quality findings" in out  # tickets
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "available" in lines["first_response_time"]
    # FCR falls back to one-touch (Replies ≤ 1, no reopen); KB usage has no column to use
    assert "available" in lines["first_contact_resolution"]
    assert "tickets has no kb_used column" in lines["kb_usage_rate"]
    assert "2 finding(s)" in out


def test_validate_json_document(zendesk_with_surveys: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "-c", str(zendesk_with_surveys), "-f", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    sources = {s["name"]: s for s in doc["sources"]}
    assert sources["tickets"]["rows"] == 4
    assert sources["tickets"]["mapping"]["resolved_at"] == "Solved at"
    assert "description" in sources["tickets"]["absent"]
    assert sources["surveys"]["absent"] == [
        "comment", "call_id", "customer_id", "agent", "team", "channel",
    ]  # fmt: skip
    reference = next(q for q in doc["data_quality"] if q["issue"].startswith("reference"))
    assert reference == {
        "source": "surveys",
        "issue": "reference an unknown ticket (ticket_id not in tickets)",
        "rows": 1,
        "column": "ticket_id",
        "effect": "kept; they cannot be cut by the ticket's agent, team or channel",
        "examples": [{"file": "surveys.csv", "row": 4}],
    }
    csat = next(k for k in doc["kpis"] if k["id"] == "csat")
    # 4 responses, one outside the scale: 3 usable (5, 2, 4 → 2 satisfied)
    assert csat == {"id": "csat", "available": True, "reason": None, "records": 3}


def test_validate_calls_referencing_unknown_tickets(tmp_path: Path, write: Write) -> None:
    write("tickets.csv", "ticket_id,created_at\nT1,2026-03-02 09:00\n")
    write(
        "calls.csv",
        "call_id,queued_at,answered_at,ticket_id\n"
        "c1,2026-03-02 09:00:00,2026-03-02 09:00:10,T1\n"
        "c2,2026-03-02 09:05:00,2026-03-02 09:05:10,T7\n",
    )
    config = write(
        "cscli.yaml",
        "sources:\n  tickets: {path: tickets.csv}\n  calls: {path: calls.csv}\n",
    )
    result = CliRunner().invoke(app, ["validate", "-c", str(config), "--width", "300"])
    assert result.exit_code == 0
    assert (
        "! 1 row(s) reference an unknown ticket (ticket_id not in tickets) (calls.csv:3)"
        in result.stdout
    )


def test_validate_strict_counts_references(zendesk_with_surveys: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "-c", str(zendesk_with_surveys), "--strict"])
    assert result.exit_code == 2
    assert "error: --strict: 2 data-quality finding(s)" in result.stderr
