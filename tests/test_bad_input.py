"""The bad-input corpus (tests/data/bad/): every file through the CLI, with its message and exit.

Two kinds of bad input (DESIGN §7):
- fatal: the numbers cannot be computed. `cscli validate` and `cscli report` both exit 2 with
  one `error:` line naming the file (and the line or column) and a `hint:` with the fix;
- counted: the file is readable and some records are not. Both exit 0; `validate` lists the
  finding with its count and first rows, `report` notes it on stderr (and `--strict` would
  exit 2). These are never a crash.

Each case below is one row of the table: the config's `sources:` (with `{bad}` for the corpus
folder), the exit code of `validate`, the fragments its output must contain, and the exit
code of `report` when it differs.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli.cli import app

BAD = Path(__file__).resolve().parent / "data" / "bad"


@dataclass(frozen=True)
class Case:
    id: str
    sources: str
    code: int
    expect: tuple[str, ...]
    #: exit code of `cscli report` when it is not `code`
    report: int | None = None


FATAL = [
    Case(
        "missing_file",
        "tickets: {path: '{bad}/no_such_export.csv'}",
        2,
        ("error: file not found: ", "no_such_export.csv (sources.tickets.path)", "hint: paths"),
    ),
    Case(
        "empty_file",
        "tickets: {path: '{bad}/empty.csv'}",
        2,
        ("empty.csv: the file is empty", "hint: export it again: cscli needs a header row"),
    ),
    Case(
        "blank_lines",
        "tickets: {path: '{bad}/blank_lines.csv'}",
        2,
        ("blank_lines.csv: the file is empty",),
    ),
    Case(
        "header_only",
        "tickets: {path: '{bad}/header_only.csv'}",
        2,
        (
            "header_only.csv: no data rows: header_only.csv has a header but no records "
            "(sources.tickets)",
            "hint: export data for the period, or remove sources.tickets from the config",
        ),
        report=0,  # a report over a quiet day has n = 0; validate says there is nothing
    ),
    Case(
        "semicolon_delimiter",
        "tickets: {path: '{bad}/semicolon.csv'}",
        2,
        (
            "semicolon.csv: the header is one column, 'ticket_id;created_at;channel': the file "
            "is semicolon-separated, not comma-separated",
            'hint: set delimiter: ";" on sources.tickets',
        ),
    ),
    Case(
        "tab_in_a_csv",
        "tickets: {path: '{bad}/tab_separated.csv'}",
        2,
        ("the file is tab-separated, not comma-separated", 'hint: set delimiter: "\\t" on'),
    ),
    Case(
        "comma_in_a_tsv",
        "tickets: {path: '{bad}/comma_separated.tsv'}",
        2,
        ("the file is comma-separated, not tab-separated", 'hint: set delimiter: "," on'),
    ),
    Case(
        "pipe_delimiter",
        "tickets: {path: '{bad}/pipe.csv'}",
        2,
        ("pipe-separated, not comma-separated", 'hint: set delimiter: "|" on sources.tickets'),
    ),
    Case(
        "unterminated_quote",
        "tickets: {path: '{bad}/unterminated_quote.csv'}",
        2,
        (
            "unterminated_quote.csv: line 3: a quoted field starts here and is never closed",
            'hint: close the quote; a quote inside a quoted field is written twice ("")',
        ),
    ),
    Case(
        "ragged_row",
        "tickets: {path: '{bad}/ragged_row.csv'}",
        2,
        (
            "ragged_row.csv: line 3: 4 fields, but the header has 3",
            "hint: a value containing a comma must be quoted",
        ),
    ),
    Case(
        "missing_required_column",
        "tickets: {path: '{bad}/missing_column.csv'}",
        2,
        (
            "missing_column.csv: required column missing: created_at (nearest: 'created')",
            "hint: columns present: ticket_id, created, channel. Map an export column onto a "
            'canonical name with `columns: {created_at: "Export name"}` in sources.tickets',
        ),
    ),
    Case(
        "misspelt_mapping",
        "tickets: {path: '{bad}/misspelt_mapping.csv', columns: {ticket_id: Id, "
        "created_at: Created}}",
        2,
        (
            "misspelt_mapping.csv: column 'Created' (mapped to created_at) is not in the file "
            "(nearest: 'Created at')",
            "hint: columns present: Id, Created at, Channel",
        ),
    ),
    Case(
        "ambiguous_day_month",
        "tickets: {path: '{bad}/ambiguous_dates.csv'}",
        2,
        (
            "ambiguous_dates.csv, column \"created_at\": cannot read '03/04/2026 09:15' as a "
            "date-time: it may be day-first or month-first (no number above 12 in either "
            "place in the first 3 values)",
            'hint: set sources.tickets.timestamp_format: "%d/%m/%Y %H:%M" (day first) or '
            '"%m/%d/%Y %H:%M" (month first)',
        ),
    ),
    Case(
        "day_first",
        "tickets: {path: '{bad}/day_first_dates.csv'}",
        2,
        (
            "the dates are day-first ('13/04/2026 10:00'), and cscli does not guess the order "
            "of day and month",
            'hint: confirm it with sources.tickets.timestamp_format: "%d/%m/%Y %H:%M"',
        ),
    ),
    Case(
        "month_first_with_am_pm",
        "tickets: {path: '{bad}/month_first_dates.csv'}",
        2,
        (
            "the dates are month-first ('4/13/2026 10:00 AM')",
            'hint: confirm it with sources.tickets.timestamp_format: "%m/%d/%Y %I:%M %p"',
        ),
    ),
    Case(
        "not_timestamps",
        "tickets: {path: '{bad}/not_dates.csv'}",
        2,
        (
            "not_dates.csv, column \"created_at\": cannot read 'last tuesday' as a date-time",
            "hint: set sources.tickets.timestamp_format (strftime",
        ),
    ),
    Case(
        "excel_workbook",
        "tickets: {path: '{bad}/workbook.xlsx'}",
        2,
        (
            "workbook.xlsx: spreadsheet workbooks are not read",
            "hint: save the sheet as CSV (in Excel: File → Save As → CSV UTF-8)",
        ),
    ),
    Case(
        "truncated_json",
        "tickets: {path: '{bad}/broken.json'}",
        2,
        ("broken.json: cannot read the JSON:", "hint: a .json export must be one array"),
    ),
    Case(
        "csv_named_parquet",
        "tickets: {path: '{bad}/csv_named.parquet'}",
        2,
        ("csv_named.parquet: cannot read the file: parquet:", "hint: is it really a Parquet"),
    ),
    Case(
        "unknown_extension",
        "tickets: {path: '{bad}/tickets.dat'}",
        2,
        ("cannot tell the format of tickets.dat from its extension", "hint: set `format:`"),
    ),
    Case(
        "derived_column_strict_cast",
        "tickets: {path: '{bad}/derived_cast.csv', timestamp_format: '%Y%m%d %H:%M', "
        "columns: {ticket_id: id, created_at: \"date || ' ' || time\", "
        'first_response_at: "CAST(minutes AS INTEGER)"}}',
        2,
        (
            "sources.tickets.columns.first_response_at: 'CAST(minutes AS INTEGER)' fails on "
            "the first rows",
            "hint: use TRY_CAST(x AS DOUBLE) instead of CAST",
        ),
    ),
    Case(
        "survey_without_type",
        "surveys: {path: '{bad}/surveys_without_type.csv'}",
        2,
        (
            "surveys_without_type.csv: required column missing: survey_type",
            "Set sources.surveys.survey_type: csat (or nps, ces, asat, or a column)",
        ),
    ),
    Case(
        "event_log_case_column",
        "tickets: {path: '{bad}/event_log_case.csv', event_log: {case: CaseId, "
        "timestamp: CompleteTimestamp, activity: ActivityID, resolved: ['6']}}",
        2,
        (
            "event_log.case: column 'CaseId' is not in the file (nearest: 'CaseID')",
            "hint: columns present: CaseID, ActivityID, CompleteTimestamp",
        ),
    ),
    Case(
        "utf16_without_bom",
        "tickets: {path: '{bad}/utf16_no_bom.csv'}",
        2,
        (
            "utf16_no_bom.csv: the file looks like UTF-16-LE text without a byte-order mark "
            "(NUL bytes between the characters), not UTF-8",
            "hint: set encoding: utf-16-le on sources.tickets, or save the file as UTF-8",
        ),
    ),
    Case(
        "workbook_named_csv",
        "tickets: {path: '{bad}/workbook_renamed.csv'}",
        2,
        (
            "workbook_renamed.csv: the file is an Excel workbook (.xlsx, a zip archive), not a "
            "CSV file",
            "hint: save the sheet as CSV (in Excel: File → Save As → CSV UTF-8)",
        ),
    ),
    Case(
        "bzip2_named_csv",
        "tickets: {path: '{bad}/bzip2.csv'}",
        2,
        (
            "bzip2.csv: the file is bzip2-compressed, not a CSV file",
            "hint: decompress it (bunzip2), or compress it with gzip instead",
        ),
    ),
    Case(
        "truncated_gzip",
        "tickets: {path: '{bad}/truncated.csv.gz'}",
        2,
        (
            "truncated.csv.gz: the gzip file is truncated: it ends before its end marker",
            "hint: copy or export the file again (`gzip -t FILE` tests a gzip file)",
        ),
    ),
    Case(
        "corrupt_gzip",
        "tickets: {path: '{bad}/corrupt.csv.gz'}",
        2,
        (
            "corrupt.csv.gz: the gzip file is corrupt: Error -3 while decompressing data",
            "hint: copy or export the file again",
        ),
    ),
]

COUNTED = [
    Case(
        "bom_and_crlf",
        "tickets: {path: '{bad}/bom_crlf.csv'}",
        0,
        ("mapped: ticket_id, created_at, resolved_at, channel", "✓ no data-quality findings"),
    ),
    Case(
        "latin1_bytes",
        "tickets: {path: '{bad}/latin1.csv'}",
        0,
        (
            # é is 0xE9 and no byte is in 0x80–0x9F, where cp1252 and latin-1 differ
            "! 1 row(s) agent: not UTF-8 text (latin-1?): bytes replaced by '\ufffd' "
            "(latin1.csv:2): read with the replacement character; set encoding: latin-1 on "
            "sources.tickets, or save the file as UTF-8",
        ),
    ),
    Case(
        "latin1_declared",
        "tickets: {path: '{bad}/latin1.csv', encoding: latin-1}",
        0,
        ("✓ no data-quality findings",),
    ),
    Case(
        "cp1252_bytes",
        "tickets: {path: '{bad}/cp1252.csv', delimiter: ';'}",
        0,
        (
            # „ (0x84), “ (0x93) and € (0x80) exist in cp1252 only: latin-1 has controls there
            "! 1 row(s) agent: not UTF-8 text (cp1252?): bytes replaced by '\ufffd' "
            "(cp1252.csv:2): read with the replacement character; set encoding: cp1252 on "
            "sources.tickets",
        ),
    ),
    Case(
        "cp1252_declared",
        "tickets: {path: '{bad}/cp1252.csv', delimiter: ';', encoding: cp1252}",
        0,
        ("✓ no data-quality findings",),
    ),
    Case(
        "utf16_le_bom",
        "tickets: {path: '{bad}/utf16_bom.csv'}",
        0,
        ("mapped: ticket_id, created_at, agent", "✓ no data-quality findings"),
    ),
    Case(
        "utf16_be_bom",
        "tickets: {path: '{bad}/utf16be_bom.csv'}",
        0,
        ("mapped: ticket_id, created_at, agent", "✓ no data-quality findings"),
    ),
    Case(
        "utf32_bom",
        "tickets: {path: '{bad}/utf32_bom.csv'}",
        0,
        ("mapped: ticket_id, created_at, agent", "✓ no data-quality findings"),
    ),
    Case(
        "cr_only_line_ends",
        "tickets: {path: '{bad}/cr_only.csv'}",
        0,
        ("mapped: ticket_id, created_at, agent", "✓ no data-quality findings"),
    ),
    Case(
        "gzip",
        "tickets: {path: '{bad}/tickets.csv.gz'}",
        0,
        ("mapped: ticket_id, created_at, agent", "✓ no data-quality findings"),
    ),
    Case(
        "brackets_in_the_file_name",
        "tickets: {path: '{bad}/tickets [march].csv'}",
        0,
        ("mapped: ticket_id, created_at", "✓ no data-quality findings"),
    ),
    Case(
        "quote_swallows_records",
        "tickets: {path: '{bad}/swallowed.csv'}",
        0,
        (
            # the quote opened on line 3 closes on line 7: lines 4–7 (records 3–6) are text
            # in record 2's channel; lines 9–10 are one legitimate two-line field
            "! 1 row(s) a quoted field spans lines 3–7, swallowing 4 line(s) that look like "
            "records (swallowed.csv:3): those lines are read as text inside one field, not as "
            "records: check the quote that opens on line 3",
        ),
    ),
    Case(
        "out_of_range_years",
        "tickets: {path: '{bad}/year_zero.csv'}",
        0,
        (
            "! 1 row(s) created_at: cannot read as a date-time (year_zero.csv:3): records",
            "! 1 row(s) resolved_at: cannot read as a date-time (year_zero.csv:2): read as",
        ),
    ),
    Case(
        "decimal_comma",
        "calls: {path: '{bad}/decimal_comma.csv', delimiter: ';', decimal_comma: true}",
        0,
        (
            # 90,5 and 60 read; 1.234,5 has a thousands separator, which is not guessed
            "! 1 row(s) talk_seconds: cannot read as a number (decimal_comma.csv:3): read as "
            "missing",
        ),
    ),
    Case(
        "question_mark_as_null",
        "tickets: {path: '{bad}/question_marks.csv'}",
        0,
        (
            "! 2 row(s) resolved_at: cannot read as a date-time (question_marks.csv:3, "
            "question_marks.csv:4): read as missing; '?' stands for no value: add "
            'null_values: ["?"]',
        ),
    ),
    Case(
        "question_mark_declared",
        "tickets: {path: '{bad}/question_marks.csv', null_values: ['?']}",
        0,
        ("✓ no data-quality findings",),
    ),
    Case(
        "n_a_as_null",
        "tickets: {path: '{bad}/na_values.csv'}",
        0,
        (
            "! 1 row(s) agent: 'N/A' used for a missing value (na_values.csv:3): kept as text; "
            'add null_values: ["N/A"] to read them as missing',
            "! 1 row(s) agent_replies: cannot read as a whole number (na_values.csv:3): read "
            "as missing; 'N/A' stands for no value",
        ),
    ),
    Case(
        "excel_mangled_ids",
        "tickets: {path: '{bad}/excel_ids.csv'}",
        0,
        (
            "! 2 row(s) ticket_id: ids in scientific notation (e.g. 5.70306E+17) have lost "
            "digits (excel_ids.csv:2, excel_ids.csv:3): kept as they are; export the column "
            "as text",
            # two different tickets collapsed into one id: the damage Excel did
            "! 1 row(s) ticket_id: duplicate id",
        ),
    ),
    Case(
        "duplicate_ids",
        "tickets: {path: '{bad}/duplicate_ids.csv'}",
        0,
        (
            "! 2 row(s) ticket_id: duplicate id (the same ticket_id as an earlier row) "
            "(duplicate_ids.csv:4, duplicate_ids.csv:6): counted as separate records",
        ),
    ),
    Case(
        "resolved_before_created",
        "tickets: {path: '{bad}/resolved_before_created.csv'}",
        0,
        (
            "! 1 row(s) resolved_at before created_at (resolved_before_created.csv:2): "
            "excluded from KPIs that use resolution_seconds",
        ),
    ),
    Case(
        "answered_before_queued",
        "calls: {path: '{bad}/answered_before_queued.csv'}",
        0,
        (
            "! 1 row(s) answered_at before queued_at (answered_before_queued.csv:2): excluded "
            "from KPIs that use answer_seconds",
        ),
    ),
    Case(
        "ended_before_answered",
        "calls: {path: '{bad}/ended_before_answered.csv'}",
        0,
        ("! 1 row(s) ended_at before answered_at (ended_before_answered.csv:2): counted only",),
    ),
    Case(
        "unreadable_numbers",
        "calls: {path: '{bad}/unparseable_numbers.csv'}",
        0,
        (
            "! 2 row(s) talk_seconds: cannot read as a number (unparseable_numbers.csv:2, "
            "unparseable_numbers.csv:3): read as missing",
        ),
    ),
    Case(
        "negative_durations",
        "calls: {path: '{bad}/negative_durations.csv'}",
        0,
        ("! 1 row(s) negative talk, hold or wrap seconds (negative_durations.csv:2)",),
    ),
    Case(
        "csat_outside_scale",
        "surveys: {path: '{bad}/csat_out_of_scale.csv'}",
        0,
        (
            "! 2 row(s) csat score outside 1–5 (csat_out_of_scale.csv:2, "
            "csat_out_of_scale.csv:3): excluded from csat",
        ),
    ),
    Case(
        "nps_outside_scale",
        "surveys: {path: '{bad}/nps_out_of_scale.csv'}",
        0,
        ("! 2 row(s) nps score outside 0–10 (nps_out_of_scale.csv:2, nps_out_of_scale.csv:4)",),
    ),
    Case(
        "unknown_survey_type",
        "surveys: {path: '{bad}/unknown_survey_type.csv'}",
        0,
        (
            "! 1 row(s) survey_type: survey type not one of csat, nps, ces, asat "
            "(unknown_survey_type.csv:4): excluded from every survey KPI",
        ),
    ),
    Case(
        "survey_of_unknown_ticket",
        "tickets: {path: '{bad}/orphan_tickets.csv'}\nsurveys: {path: '{bad}/orphan_surveys.csv'}",
        0,
        (
            "! 2 row(s) reference an unknown ticket (ticket_id not in tickets) "
            "(orphan_surveys.csv:4, orphan_surveys.csv:6): kept; they cannot be cut by the "
            "ticket's agent, team or channel",
        ),
    ),
    Case(
        "missing_required_value",
        "tickets: {path: '{bad}/missing_required_values.csv'}",
        0,
        (
            "! 1 row(s) created_at: missing value (required) (missing_required_values.csv:3): "
            "records excluded",
        ),
    ),
    Case(
        "stamp_in_a_dst_gap",
        "tickets: {path: '{bad}/dst_gap.csv', timezone: Europe/Berlin}",
        0,
        ("! 1 row(s) created_at: cannot read as a date-time (dst_gap.csv:3): records excluded",),
    ),
]


def _config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "cscli.yaml"
    body = textwrap.indent(sources.replace("{bad}", str(BAD)), "  ")
    path.write_text(f"version: 1\ntimezone: UTC\nsources:\n{body}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", FATAL + COUNTED, ids=lambda c: c.id)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    config = _config(tmp_path, case.sources)
    runner = CliRunner()
    result = runner.invoke(app, ["validate", "-c", str(config), "--width", "400"])
    output = result.stdout + result.stderr
    assert result.exit_code == case.code, output
    for fragment in case.expect:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    if case.code:
        assert result.stderr.startswith("error: "), output
        assert "\nhint: " in result.stderr, output
    assert "Traceback" not in output and "internal error" not in output

    report = runner.invoke(app, ["report", "-c", str(config), "-f", "json"])
    assert report.exit_code == (case.code if case.report is None else case.report), report.output
    assert "Traceback" not in report.stderr and "internal error" not in report.stderr
    # the report notes a finding as well (references across sources are validate's alone)
    noted = case.code == 0 and "✓" not in "".join(case.expect)
    if noted and case.id != "survey_of_unknown_ticket":
        assert "data: " in report.stderr, report.stderr


#: corpus files with tests of their own, below the table
OWN_TESTS = {"late_ragged_row.csv"}


def test_corpus_has_a_test_per_file() -> None:
    named = {part for c in FATAL + COUNTED for part in c.sources.split("'") if "{bad}/" in part}
    files = {p.name for p in BAD.iterdir()}
    assert len(files) >= 30
    assert {n.removeprefix("{bad}/") for n in named} | OWN_TESTS >= files


def test_strict_turns_a_counted_finding_into_exit_2(tmp_path: Path) -> None:
    config = _config(tmp_path, "tickets: {path: '{bad}/duplicate_ids.csv'}")
    result = CliRunner().invoke(app, ["validate", "-c", str(config), "--strict"])
    assert result.exit_code == 2
    assert "error: --strict: 1 data-quality finding(s)" in result.stderr


def test_a_malformed_line_past_the_first_rows_is_found_by_validate(tmp_path: Path) -> None:
    # the loader reads the first 1,000 rows up front; line 1,502 fails only when the whole
    # file is read, and validate then looks for the line
    config = _config(tmp_path, "tickets: {path: '{bad}/late_ragged_row.csv'}")
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "late_ragged_row.csv: line 1502: 4 fields, but the header has 3" in result.stderr


def test_a_malformed_line_past_the_first_rows_is_found_by_report(tmp_path: Path) -> None:
    config = _config(tmp_path, "tickets: {path: '{bad}/late_ragged_row.csv'}")
    result = CliRunner().invoke(app, ["report", "-c", str(config)])
    assert result.exit_code == 2
    assert "late_ragged_row.csv: line 1502: 4 fields, but the header has 3" in result.stderr


def test_duplicates_are_counted_and_kept(tmp_path: Path) -> None:
    # 5 rows, ids 1, 2, 1, 3, 2: the KPIs count all 5 (which copy is right is the user's
    # call), and the finding says which rows repeat an id
    config = _config(tmp_path, "tickets: {path: '{bad}/duplicate_ids.csv'}")
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 5, "n": 5}
    dup = next(q for q in doc["data_quality"] if "duplicate" in q["issue"])
    assert dup["rows"] == 2
    assert dup["examples"] == [
        {"file": "duplicate_ids.csv", "row": 4},
        {"file": "duplicate_ids.csv", "row": 6},
    ]


def test_the_empty_file_of_a_glob_is_named(tmp_path: Path) -> None:
    (tmp_path / "t-01.csv").write_text("ticket_id,created_at\n1,2026-03-02 09:00\n")
    shutil.copy(BAD / "empty.csv", tmp_path / "t-02.csv")
    config = tmp_path / "cscli.yaml"
    config.write_text("sources:\n  tickets: {path: 't-*.csv'}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "-c", str(config)])
    assert result.exit_code == 2
    assert f"error: {tmp_path / 't-02.csv'}: the file is empty" in result.stderr
