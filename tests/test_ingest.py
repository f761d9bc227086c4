"""`cscli ingest`: canonical Parquet by month plus its manifest, read back by the polars engine.

The report on ingested data must equal the report on the exports (values and findings); the
partition layout is counted independently with DuckDB; a failing ingest leaves the old output.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli import api
from cscli.cli import app
from cscli.config import load_config
from cscli.engine import canonical
from cscli.engine.canonical import MANIFEST, read_manifest
from cscli.engine.polars import ingest as ingest_module
from cscli.engine.polars.ingest import ingest, materialise
from cscli.engine.polars.sources import load_sources
from cscli.errors import InputError, OutputError
from tests.conftest import ROOT

Write = Callable[[str, str], Path]
HEADER = "ticket_id,created_at,first_response_at,resolved_at,channel,agent_replies\n"


@pytest.fixture
def exports(write: Write) -> Path:
    """Two ticket files across months (with findings) and surveys; returns the config."""
    write(
        "tickets_a.csv",
        HEADER
        + "1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email,2\n"
        + "2,2026-02-03T09:00:00Z,2026-02-03T09:30:00Z,,chat,1\n"
        + "3,2026-01-13T09:00:00Z,,2026-01-13T08:00:00Z,email,x\n"
        + "4,not a date,,,email,0\n",
    )
    write(
        "tickets_b.csv",
        HEADER
        + "5,2026-02-10T10:00:00Z,2026-02-10T11:00:00Z,2026-02-11T10:00:00Z,chat,3\n"
        + "6,2026-01-20T10:00:00Z,2026-01-20T10:05:00Z,2026-01-20T10:35:00Z,chat,1\n"
        + "7,2026-03-01T00:30:00+01:00,2026-03-01T01:00:00+01:00,,email,1\n",
    )
    write(
        "surveys.csv",
        """
        response_id,responded_at,score,ticket_id
        s1,2026-01-06T10:00:00Z,5,1
        s2,2026-02-04T10:00:00Z,9,2
        s3,2026-01-21T10:00:00Z,4,6
        """,
    )
    return write(
        "cscli.yaml",
        """
        timezone: Europe/Berlin
        sources:
          tickets: {path: "tickets_*.csv"}
          surveys: {path: surveys.csv, survey_type: csat}
        kpis: [ticket_volume, first_response_time, resolution_time, resolution_rate, backlog, csat]
        """,
    )


def _canonical_config(folder: Path, out: Path, kpis: str | None = None) -> Path:
    """A config reading the ingested data: tickets by `format: canonical`, surveys detected."""
    text = (
        "timezone: Europe/Berlin\nsources:\n"
        f"  tickets: {{path: {out / 'tickets'}, format: canonical}}\n"
        f"  surveys: {{path: {out / 'surveys'}, survey_type: csat}}\n"
    )
    if kpis:
        text += f"kpis: {kpis}\n"
    path = folder / "canonical.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _report_json(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["report", "-c", str(config), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    doc.pop("generated_at")
    doc.pop("config", None)
    return doc


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- round trip ---------------------------------------------------------------------------


def test_report_on_ingested_fixture_equals_report_on_exports(exports: Path, tmp_path: Path) -> None:
    inputs = _digest(tmp_path)
    out = tmp_path / "lake"
    ingest(load_config(exports), [], out)
    assert {k: v for k, v in _digest(tmp_path).items() if not k.startswith("lake")} == inputs
    again = _canonical_config(tmp_path, out)
    again.write_text(
        again.read_text()
        + "kpis: [ticket_volume, first_response_time, resolution_time, resolution_rate, "
        "backlog, csat]\n"
    )
    for args in ([], ["--by", "channel", "--grain", "month"], ["--from", "2026-02-01"]):
        before, after = _report_json(exports, *args), _report_json(again, *args)
        assert after == before
    totals = _report_json(again)["totals"]["kpis"]
    # 7 tickets read, ticket 4 unusable: 6; CSAT: s1 (5) and s3 (4) are satisfied (≥ 4), s2's
    # 9 is outside 1–5 and excluded: 2 of 2 = 1.0
    assert totals["ticket_volume"]["value"] == 6
    assert (totals["csat"]["value"], totals["csat"]["n"]) == (1.0, 2)
    findings = [
        (q["source"], q["issue"], q["rows"], [(e["file"], e["row"]) for e in q["examples"]])
        for q in before["data_quality"]
    ]
    # the loader's own findings (from the manifest: ticket 4's date, ticket 3's "x" and its
    # resolution an hour before creation) and the KPI rule (s2's score 9 on a 1–5 scale,
    # counted at report time over the canonical data)
    assert findings == [
        ("surveys", "csat score outside 1–5", 1, [("surveys.csv", 3)]),
        ("tickets", "created_at: cannot read as a date-time", 1, [("tickets_a.csv", 5)]),
        ("tickets", "agent_replies: cannot read as a whole number", 1, [("tickets_a.csv", 4)]),
        ("tickets", "resolved_at before created_at", 1, [("tickets_a.csv", 4)]),
    ]


def test_report_on_ingested_sample_equals_report_on_exports(tmp_path: Path) -> None:
    sample = api.demo_config_path()
    out = tmp_path / "lake"
    api.ingest(sample, out=out)
    text = sample.read_text(encoding="utf-8")
    kpis = text[text.index("\nkpis:") :]
    config = tmp_path / "c.yaml"
    config.write_text(
        "timezone: Europe/Berlin\nsources:\n"
        + "".join(f"  {n}: {{path: {out / n}, format: canonical}}\n" for n in ("tickets", "calls"))
        + "".join(f"  {n}: {{path: {out / n}}}\n" for n in ("surveys", "customers"))
        + kpis,
        encoding="utf-8",
    )
    for args in ([], ["--by", "channel", "--grain", "week"]):
        before, after = _report_json(sample, *args), _report_json(config, *args)
        assert after == before
        assert before["data_quality"]  # the sample has findings: they come through


def test_canonical_records_come_back_in_the_order_they_were_read(
    exports: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), ["tickets"], out)
    original = load_sources(load_config(exports), ["tickets"])["tickets"]
    again = load_sources(load_config(_canonical_config(tmp_path, out)), ["tickets"])["tickets"]
    order = ["_file", "_row"]
    assert (
        again.frame.select(order).collect().rows() == original.frame.select(order).collect().rows()
    )
    # file a rows 2–5, then file b rows 2–4, though they were written in three partitions
    assert again.frame.select(order).collect().rows() == [
        ("tickets_a.csv", 2),
        ("tickets_a.csv", 3),
        ("tickets_a.csv", 4),
        ("tickets_a.csv", 5),
        ("tickets_b.csv", 2),
        ("tickets_b.csv", 3),
        ("tickets_b.csv", 4),
    ]
    assert again.columns == original.columns
    assert again.dimensions == original.dimensions
    read = dict(original.frame.collect_schema())
    expected = {c: t for c, t in read.items() if not c.startswith("__raw__")}
    # `_row` is stored as Int64 (the loader's row index is UInt32); `_usable` is added
    expected |= {"_row": pl.Int64(), "_usable": pl.Boolean()}
    assert dict(again.frame.collect_schema()) == expected


# --- layout and manifest ------------------------------------------------------------------


def test_partitions_by_utc_month_counted_by_duckdb(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    manifest = ingest(load_config(exports), [], out)
    files = sorted(p.relative_to(out / "tickets").as_posix() for p in (out / "tickets").rglob("*"))
    assert files == [
        "month=2026-01",
        "month=2026-01/part-0.parquet",
        "month=2026-02",
        "month=2026-02/part-0.parquet",
        "month=none",
        "month=none/part-0.parquet",
    ]
    by_duckdb = dict(
        duckdb.sql(
            f"SELECT month, count(*) FROM read_parquet('{out}/tickets/*/*.parquet', "
            "hive_partitioning = true) GROUP BY month"
        ).fetchall()
    )
    source = load_sources(load_config(exports), ["tickets"])["tickets"]
    by_polars = dict(
        source.frame.group_by(
            pl.col("created_at").dt.strftime("%Y-%m").fill_null("none").alias("m")
        )
        .len()
        .collect()
        .rows()
    )
    # tickets 1, 3, 6 in January; 2, 5 and 7 (00:30 Berlin on 1 March = 23:30 UTC on 28
    # February: the UTC month) in February; ticket 4 has no created_at
    assert by_duckdb == by_polars == {"2026-01": 3, "2026-02": 3, "none": 1}
    assert manifest.sources["tickets"].partitions == {"2026-01": 3, "2026-02": 3, "none": 1}
    # the month is the folder, not a column; timestamps are UTC microseconds
    schema = pl.read_parquet_schema(out / "tickets" / "month=2026-01" / "part-0.parquet")
    assert "month" not in schema
    assert schema["created_at"] == pl.Datetime("us", "UTC")
    assert schema["_row"] == pl.Int64 and schema["_usable"] == pl.Boolean
    assert "resolution_seconds" not in schema  # measures are recomputed, not stored
    # min/max statistics kept where no float is NaN (row-group pruning on the anchor)
    assert _min_max(out / "tickets" / "month=2026-01" / "part-0.parquet", "created_at")
    assert _min_max(out / "surveys" / "month=2026-01" / "part-0.parquet", "score")


def _min_max(path: Path, column: str) -> bool:
    meta = pq.ParquetFile(path).metadata
    stats = meta.row_group(0).column(meta.schema.names.index(column)).statistics
    return bool(stats.has_min_max)


def test_nan_never_reaches_canonical_floats_so_min_max_are_safe(
    write: Write, tmp_path: Path
) -> None:
    """polars leaves NaN out of min/max ([5, NaN, 4] would say max = 5, and DuckDB trusting
    that folds `score <= 5` to true for the NaN row). The loader reads NaN as missing, with a
    finding, so canonical floats hold none and their min/max are true bounds."""
    pl.DataFrame(
        {
            "response_id": ["s1", "s2", "s3"],
            "responded_at": [
                "2026-01-06T10:00:00Z",
                "2026-01-07T10:00:00Z",
                "2026-01-08T10:00:00Z",
            ],
            "score": [5.0, float("nan"), 4.0],
        }
    ).write_parquet(tmp_path / "surveys.parquet")
    config = write(
        "cscli.yaml", "sources:\n  surveys: {path: surveys.parquet, survey_type: csat}\n"
    )
    out = tmp_path / "lake"
    entry = ingest(load_config(config), [], out).sources["surveys"]
    part = out / "surveys" / "month=2026-01" / "part-0.parquet"
    assert pl.read_parquet(part)["score"].to_list() == [5.0, None, 4.0]
    assert [(q.rows, q.examples) for q in entry.findings] == [(1, (("surveys.parquet", 2),))]
    meta = pq.ParquetFile(part).metadata
    stats = meta.row_group(0).column(meta.schema.names.index("score")).statistics
    assert (stats.min, stats.max, stats.null_count) == (4.0, 5.0, 1)


def test_null_anchor_rows_are_kept_and_marked_unusable(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    manifest = ingest(load_config(exports), ["tickets"], out)
    rows = duckdb.sql(
        f"SELECT ticket_id, created_at, _file, _row, _usable FROM "
        f"read_parquet('{out}/tickets/month=none/*.parquet')"
    ).fetchall()
    assert rows == [("4", None, "tickets_a.csv", 5, False)]
    entry = manifest.sources["tickets"]
    # 7 records read; ticket 4 lacks the required created_at: 6 usable
    assert (entry.rows, entry.usable_rows) == (7, 6)
    usable = duckdb.sql(
        f"SELECT count(*) FILTER (WHERE _usable) FROM read_parquet('{out}/tickets/*/*.parquet')"
    ).fetchall()
    assert usable == [(6,)]


def test_manifest_holds_findings_export_time_and_origin(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), [], out)
    doc = json.loads((out / MANIFEST).read_text())
    assert doc["format"] == "cscli-ingest" and doc["version"] == canonical.FORMAT_VERSION
    tickets = doc["sources"]["tickets"]
    assert [Path(f).name for f in tickets["files"]] == ["tickets_a.csv", "tickets_b.csv"]
    assert tickets["anchor"] == "created_at"
    # the newest timestamp: ticket 5 resolved 2026-02-11T10:00Z (ticket 7's stamps are
    # 2026-02-28T23:30Z and 2026-03-01T00:00Z UTC: the newest is 00:00 on 1 March)
    assert tickets["data_end"] == "2026-03-01T00:00:00Z"
    examples = {f["issue"]: f["examples"] for f in tickets["findings"]}
    assert examples["resolved_at before created_at"] == [["tickets_a.csv", 4]]
    assert tickets["columns"]["created_at"] == "datetime"
    assert tickets["columns"]["agent_replies"] == "int"
    assert tickets["columns"]["_usable"] == "bool"
    # the survey score rule belongs to a KPI: counted by each report, not at ingest
    assert doc["sources"]["surveys"]["findings"] == []


def test_a_newer_manifest_version_is_refused(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), [], out)
    doc = json.loads((out / MANIFEST).read_text())
    doc["version"] = canonical.FORMAT_VERSION + 1
    (out / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"format version 2 .* reads versions up to 1"):
        read_manifest(out / MANIFEST)
    result = CliRunner().invoke(app, ["report", "-c", str(_canonical_config(tmp_path, out))])
    assert result.exit_code == 2
    assert "error: " in result.output
    assert "the data was ingested in format version 2 by cscli" in result.output
    assert "hint: upgrade cscli" in result.output
    assert "Traceback" not in result.output
    # nor is it overwritten: its other sources' entries would be lost
    rerun = CliRunner().invoke(app, ["ingest", "-c", str(exports), "-o", str(out)])
    assert rerun.exit_code == 2
    assert "holds an ingest manifest this cscli cannot update: the data was ingested" in (
        rerun.output
    )
    assert "hint: ingest into another folder with -o" in rerun.output
    assert json.loads((out / MANIFEST).read_text()) == doc


def test_not_a_manifest_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    path.write_text('{"version": 1}')
    with pytest.raises(InputError, match="not a cscli ingest manifest"):
        read_manifest(path)


# --- atomicity and re-runs ----------------------------------------------------------------


def test_a_failing_ingest_leaves_the_old_output(
    exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "lake"
    config = load_config(exports)
    ingest(config, [], out)
    before = _digest(out)
    real = ingest_module._write_source

    def failing(src: Any, folder: Path) -> Any:
        if src.name == "tickets":  # surveys is written first: its folder is then half-built
            raise OSError("disk full")
        return real(src, folder)

    monkeypatch.setattr(ingest_module, "_write_source", failing)
    with pytest.raises(OutputError, match=r"cannot write .*: disk full"):
        ingest(config, [], out)
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".lake")) == []


def test_rerunning_one_source_keeps_the_others(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    config = load_config(exports)
    ingest(config, [], out)
    surveys = _digest(out / "surveys")
    manifest = ingest(config, ["tickets"], out)
    assert sorted(manifest.sources) == ["surveys", "tickets"]
    assert _digest(out / "surveys") == surveys
    assert sorted(read_manifest(out / MANIFEST).sources) == ["surveys", "tickets"]


def test_materialise_keeps_canonical_sources_and_ingests_the_others(
    exports: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), ["tickets"], out)
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(
        "sources:\n"
        f"  tickets: {{path: {out / 'tickets'}, format: canonical}}\n"
        f"  surveys: {{path: {tmp_path / 'surveys.csv'}, survey_type: csat}}\n"
    )
    work = tmp_path / "work"
    found = materialise(load_config(mixed), ["tickets", "surveys"], work)
    assert all(Path(p).is_relative_to(out / "tickets") for p in found["tickets"].paths)
    assert all(Path(p).is_relative_to(work / "surveys") for p in found["surveys"].paths)
    assert found["tickets"].summary.rows == 7 and found["surveys"].summary.rows == 3
    assert [q.issue for q in found["tickets"].findings] == [
        q.issue for q in read_manifest(out / MANIFEST).sources["tickets"].findings
    ]
    assert found["tickets"].usable_col == "_usable"
    assert found["tickets"].data_end is not None


# --- the CLI ------------------------------------------------------------------------------


def test_cli_ingest_prints_each_source(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    result = CliRunner().invoke(app, ["ingest", "-c", str(exports), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"tickets: 7 rows, 6 usable, from 2 files, 3 findings, 2 months → {out / 'tickets'}" in (
        result.stdout
    )
    assert f"surveys: 3 rows, 3 usable, from 1 file, 0 findings, 2 months → {out / 'surveys'}" in (
        result.stdout
    )
    assert f"manifest: {out / MANIFEST}" in result.stdout
    only = CliRunner().invoke(app, ["ingest", "-c", str(exports), "-o", str(out), "-s", "surveys"])
    assert only.exit_code == 0 and "tickets" not in only.stdout


def test_cli_ingest_errors(exports: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(
        app, ["ingest", "-c", str(exports), "-o", str(tmp_path / "x"), "-s", "nope"]
    )
    assert unknown.exit_code == 2
    assert "error: no source named 'nope'" in unknown.output
    assert "hint: sources of this config: surveys, tickets" in unknown.output
    missing = runner.invoke(app, ["ingest", "-c", str(exports)])
    assert missing.exit_code == 2 and "--out" in missing.output
    helped = runner.invoke(app, ["ingest", "--help"])
    assert helped.exit_code == 0
    assert "month=YYYY-MM/part-0.parquet" in helped.output and "--source" in helped.output


def test_validate_says_a_source_is_ingested_data(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), [], out)
    result = CliRunner().invoke(app, ["validate", "-c", str(_canonical_config(tmp_path, out))])
    assert result.exit_code == 0, result.output
    assert "ingested data:" in result.output
    assert "format: canonical" in result.output
    assert "detected: a folder beside cscli-ingest.json" in result.output


def test_docs_describe_the_format() -> None:
    text = (ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    for word in ("cscli-ingest.json", "month=none", "_usable", "format: canonical", "version"):
        assert word in text


def test_a_malformed_line_far_down_fails_the_ingest_with_its_line(
    write: Write, tmp_path: Path
) -> None:
    rows = "".join(f"{i},2026-01-05T09:00:00Z,,,email,1\n" for i in range(1, 1501))
    write("tickets.csv", HEADER + rows)
    config = write("cscli.yaml", "sources:\n  tickets: {path: tickets.csv}\n")
    out = tmp_path / "lake"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "-c", str(config), "-o", str(out)]).exit_code == 0
    before = _digest(out)
    # row 1,502 (after the 1,000 rows read up front) gets two extra fields
    write("tickets.csv", HEADER + rows + "1501,2026-01-05T09:00:00Z,,,email,1,x,y\n")
    result = runner.invoke(app, ["ingest", "-c", str(config), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert "1502" in result.output or "1,502" in result.output
    assert _digest(out) == before


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stamps=st.lists(
        st.one_of(
            st.none(),
            st.datetimes(min_value=datetime(2025, 11, 1), max_value=datetime(2026, 3, 31)),
        ),
        min_size=0,
        max_size=12,
    ),
    split=st.integers(min_value=0, max_value=12),
)
def test_partitions_hold_every_record_once(
    tmp_path_factory: pytest.TempPathFactory, stamps: list[datetime | None], split: int
) -> None:
    """Whatever the stamps (none, across months, in two files): the partitions hold each
    record once, by its UTC month, and read back in the order they were read."""
    folder = tmp_path_factory.mktemp("prop")
    lines = [
        f"{i},{'' if s is None else s.strftime('%Y-%m-%dT%H:%M:%SZ')},,,email,1\n"
        for i, s in enumerate(stamps)
    ]
    (folder / "t_a.csv").write_text(HEADER + "".join(lines[:split]))
    (folder / "t_b.csv").write_text(HEADER + "".join(lines[split:]))
    config = folder / "cscli.yaml"
    config.write_text('sources:\n  tickets: {path: "t_*.csv"}\n')
    out = folder / "lake"
    entry = ingest(load_config(config), [], out).sources["tickets"]
    expected: dict[str, int] = {}
    for s in stamps:
        key = "none" if s is None else s.strftime("%Y-%m")
        expected[key] = expected.get(key, 0) + 1
    if not stamps:  # no records: one empty file, so the folder still has the columns
        expected = {}
    assert entry.partitions == expected
    assert entry.rows == len(stamps) and entry.usable_rows == sum(s is not None for s in stamps)
    files = f"{out}/tickets/*/*.parquet"
    counted = dict(
        duckdb.sql(
            f"SELECT month, count(*) FROM read_parquet('{files}', hive_partitioning = true) "
            "GROUP BY month"
        ).fetchall()
    )
    assert counted == expected
    back = load_sources(load_config(_canonical_config(folder, out)), ["tickets"])["tickets"]
    rows = back.frame.select("_file", "_row").collect().rows()
    assert rows == [("t_a.csv", i + 2) for i in range(min(split, len(stamps)))] + [
        ("t_b.csv", i + 2) for i in range(len(stamps) - min(split, len(stamps)))
    ]


def test_extra_columns_are_kept_as_dimensions(write: Write, tmp_path: Path) -> None:
    write(
        "tickets.csv",
        """
        ticket_id,created_at,first_response_at,resolved_at,channel,brand
        1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email,acme
        2,2026-02-03T09:00:00Z,2026-02-03T09:30:00Z,,chat,globex
        3,2026-02-13T09:00:00Z,2026-02-13T09:40:00Z,2026-02-13T10:00:00Z,email,acme
        """,
    )
    config = write(
        "cscli.yaml",
        "sources:\n  tickets: {path: tickets.csv, extra_columns: [brand]}\n"
        "kpis: [ticket_volume, first_response_time]\n",
    )
    out = tmp_path / "lake"
    entry = ingest(load_config(config), [], out).sources["tickets"]
    assert entry.columns["brand"] == "string" and "brand" in entry.dimensions
    again = write(
        "again.yaml",
        f"sources:\n  tickets: {{path: {out / 'tickets'}}}\n"
        "kpis: [ticket_volume, first_response_time]\n",
    )
    before = _report_json(config, "--by", "brand")
    assert _report_json(again, "--by", "brand") == before
    # acme: tickets 1 and 3, first responses after 10 and 40 minutes: median 25 min = 1500 s
    acme = next(r for r in before["rows"] if r["group"]["brand"] == "acme")
    assert acme["kpis"]["ticket_volume"]["value"] == 2
    assert acme["kpis"]["first_response_time"]["value"] == 1500


def test_check_and_its_breach_records_equal_on_ingested_data(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), [], out)
    rule = 'checks:\n  - {name: frt, kpi: first_response_time, by: [channel], fail: "> 4m"}\n'
    exports.write_text(exports.read_text() + rule)
    again = _canonical_config(tmp_path, out)
    again.write_text(again.read_text() + rule)
    runner = CliRunner()
    records = {}
    for name, config in (("exports", exports), ("ingested", again)):
        target = tmp_path / f"{name}.csv"
        result = runner.invoke(
            app, ["check", "-c", str(config), "-f", "json", "--breaches", str(target)]
        )
        assert result.exit_code == 1, result.output
        records[name] = target.read_text(encoding="utf-8")
    assert records["ingested"] == records["exports"]
    rows = [line.split(",") for line in records["exports"].splitlines()[1:]]
    # FRT by channel: chat 30m (t2), 60m (t5), 5m (t6) → median 30m > 4m; email 10m (t1),
    # 30m (t7) → median 20m > 4m. Every answered ticket is above 4m: the records in the order
    # read (file a, then b) — not by partition (t6 is January's, t2 and t5 February's)
    assert [(r[5], r[-2], r[-1]) for r in rows] == [
        ("2", "tickets_a.csv", "3"),
        ("5", "tickets_b.csv", "2"),
        ("6", "tickets_b.csv", "3"),
        ("1", "tickets_a.csv", "2"),
        ("7", "tickets_b.csv", "4"),
    ]


def test_an_output_that_is_a_file_is_an_error(exports: Path, tmp_path: Path) -> None:
    target = tmp_path / "lake"
    target.write_text("not a folder")
    result = CliRunner().invoke(app, ["ingest", "-c", str(exports), "-o", str(target)])
    assert result.exit_code == 2
    assert "error: Invalid value for '--out' / '-o'" in result.output and "is a file" in (
        result.output
    )
    with pytest.raises(InputError, match="cannot create the output folder") as caught:
        api.ingest(exports, out=target)
    assert caught.value.hint == "choose a folder you can write to with -o"
    assert target.read_text() == "not a folder"


def test_a_failed_move_puts_the_old_folders_back(
    exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "lake"
    config = load_config(exports)
    ingest(config, [], out)
    before = _digest(out)
    real = os.replace

    def failing(src: Any, dst: Any) -> None:
        if Path(dst) == out / "tickets" and ".old-" not in str(src):  # the new folder moving in
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(ingest_module.os, "replace", failing)
    result = CliRunner().invoke(app, ["ingest", "-c", str(exports), "-o", str(out)])
    assert result.exit_code == 2
    assert f"error: cannot write {out}: No space left on device" in result.output
    assert "the data ingested before is unchanged" in result.output
    # surveys had moved in before tickets failed: undone, the output is the old one
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".lake")) == []


def test_a_folder_without_its_manifest_is_still_read(exports: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    ingest(load_config(exports), [], out)
    (out / MANIFEST).unlink()
    config = _canonical_config(tmp_path, out, "[ticket_volume]")
    found = materialise(load_config(config), ["tickets"], tmp_path / "work")["tickets"]
    # 7 records in the files; `_usable` still marks the usable ones; no findings known
    assert (found.summary.rows, found.findings, found.usable_col) == (7, (), "_usable")
    assert found.columns["created_at"] == "datetime"
    doc = _report_json(config)
    assert doc["totals"]["kpis"]["ticket_volume"]["value"] == 6  # ticket 4 is not usable
    assert doc["data_quality"] == []
    back = load_sources(load_config(config), ["tickets"])["tickets"]
    rows = back.frame.select("_file", "_row").collect().rows()
    assert rows == sorted(rows)  # without the manifest's file order: by file name, then row
