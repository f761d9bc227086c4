"""The generic adapter: formats, mapping, time zones, coercion with counted failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from cscli.adapters import GENERIC
from cscli.config import SourceConfig
from cscli.engine.polars.loader import load_source
from cscli.engine.polars.quality import find_issues
from cscli.errors import ConfigError, InputError

Write = Callable[[str, str], Path]


def load(tmp_path: Path, name: str = "tickets", **cfg: object) -> tuple[pl.DataFrame, dict]:
    source = load_source(name, SourceConfig.model_validate(cfg), tmp_path, GENERIC, "cscli.yaml")
    frame = source.frame.collect()
    issues = {q.issue: (q.rows, list(q.examples)) for q in find_issues(source)}
    return frame, issues


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_offsets_and_naive_stamps_become_utc(tmp_path: Path, write: Write) -> None:
    write(
        "t.csv",
        """
        ticket_id,created_at
        1,2026-01-05T09:00:00Z
        2,2026-01-05T09:00:00+01:00
        3,2026-07-05T09:00:00.250+02:00
        """,
    )
    frame, issues = load(tmp_path, path="t.csv")
    assert frame["created_at"].to_list() == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 8),
        utc(2026, 7, 5, 7, 0, 0, 250000),
    ]
    assert frame.schema["created_at"] == pl.Datetime("us", "UTC")
    assert issues == {}


def test_naive_stamps_use_the_source_timezone(tmp_path: Path, write: Write) -> None:
    write(
        "t.csv",
        """
        ticket_id,created_at
        1,2026-01-05 09:00:00
        2,2026-07-05 09:00
        3,2026-03-29 02:30:00
        """,
    )
    frame, issues = load(tmp_path, path="t.csv", timezone="Europe/Berlin")
    # winter: UTC+1, summer: UTC+2; 02:30 on 2026-03-29 does not exist in Berlin (DST gap)
    assert frame["created_at"].to_list() == [utc(2026, 1, 5, 8), utc(2026, 7, 5, 7), None]
    assert issues["created_at: cannot read as a date-time"] == (1, [("t.csv", 4)])


def test_explicit_timestamp_format(tmp_path: Path, write: Write) -> None:
    write("t.csv", "ticket_id,created_at\n1,05/01/2026 09:15\n2,31/01/2026 18:00\n")
    frame, _ = load(tmp_path, path="t.csv", timestamp_format="%d/%m/%Y %H:%M")
    assert frame["created_at"].to_list() == [utc(2026, 1, 5, 9, 15), utc(2026, 1, 31, 18)]


def test_unreadable_timestamps_ask_for_a_format(tmp_path: Path, write: Write) -> None:
    write("t.csv", "ticket_id,created_at\n1,05/01/2026 09:15\n")
    with pytest.raises(InputError, match="cannot read '05/01/2026 09:15' as a date-time") as e:
        load(tmp_path, path="t.csv")
    assert e.value.hint is not None and "timestamp_format" in e.value.hint
    assert 'column "created_at"' in e.value.message


def test_unparseable_cells_are_counted_not_dropped(tmp_path: Path, write: Write) -> None:
    write(
        "t.csv",
        """
        ticket_id,created_at,agent_replies,kb_used,reopens
        1,2026-01-05T09:00:00Z,2,yes,0
        2,2026-01-05T10:00:00Z,n/a,maybe,1.5
        3,yesterday,3,FALSE,
        """,
    )
    frame, issues = load(tmp_path, path="t.csv")
    assert frame["agent_replies"].to_list() == [2, None, 3]
    assert frame["kb_used"].to_list() == [True, None, False]
    assert frame["reopens"].to_list() == [0, None, None]
    assert issues == {
        "agent_replies: cannot read as a whole number": (1, [("t.csv", 3)]),
        "kb_used: cannot read as true/false": (1, [("t.csv", 3)]),
        "reopens: cannot read as a whole number": (1, [("t.csv", 3)]),
        "created_at: cannot read as a date-time": (1, [("t.csv", 4)]),
    }


def test_parquet_typed_columns(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "call_id": ["a", "b"],
            "queued_at": [datetime(2026, 1, 5, 9), datetime(2026, 7, 5, 9)],  # naive
            "answered_at": pl.Series(
                [datetime(2026, 1, 5, 8, 0, 20), None], dtype=pl.Datetime("ms", "UTC")
            ),
            "talk_seconds": [120, None],
        }
    ).write_parquet(tmp_path / "calls.parquet")
    frame, issues = load(tmp_path, "calls", path="calls.parquet", timezone="Europe/Berlin")
    assert frame["queued_at"].to_list() == [utc(2026, 1, 5, 8), utc(2026, 7, 5, 7)]
    assert frame["answered_at"].to_list() == [utc(2026, 1, 5, 8, 0, 20), None]
    assert frame["answer_seconds"].to_list() == [20.0, None]
    assert frame["talk_seconds"].dtype == pl.Float64
    # calls without channel or direction columns are phone calls, inbound
    assert frame["channel"].to_list() == ["phone", "phone"]
    assert frame["direction"].to_list() == ["inbound", "inbound"]
    assert frame["_row"].to_list() == [1, 2]
    assert issues == {}


def test_parquet_code_columns_cleaned_from_their_distinct_values(tmp_path: Path) -> None:
    """Codes are trimmed and lower-cased (`status`, `priority`), as from a CSV: for Parquet
    from the column's distinct values (a mapping when some need it, none when all are
    clean); a dimension such as `channel` keeps its text."""
    created = [datetime(2026, 1, 5, 9)] * 5
    columns = {
        "ticket_id": ["1", "2", "3", "4", "5"],
        "channel": [" Email", "CHAT", "email", "web", "chat "],
        "status": [" Open", "SOLVED", "open", None, "closed "],
        "priority": ["low", "high", "low", "urgent", None],  # clean already
    }
    pl.DataFrame({**columns, "created_at": created}).write_parquet(tmp_path / "t.parquet")
    pl.DataFrame({**columns, "created_at": [c.isoformat() for c in created]}).write_csv(
        tmp_path / "t.csv"
    )
    parquet, _ = load(tmp_path, path="t.parquet")
    csv, _ = load(tmp_path, path="t.csv")
    assert parquet["status"].to_list() == ["open", "solved", "open", None, "closed"]
    assert parquet["priority"].to_list() == ["low", "high", "low", "urgent", None]
    assert parquet["channel"].to_list() == columns["channel"]
    for column in ("status", "priority", "channel"):
        assert parquet[column].to_list() == csv[column].to_list(), column


def test_parquet_timestamps_bounded_only_where_needed(tmp_path: Path) -> None:
    """A typed timestamp column within [1900, 2200) is read as it is; one with a stamp
    outside still reads that stamp as null and counts it unreadable (zone-aware and naive)."""
    pl.DataFrame(
        {
            "ticket_id": ["1", "2"],
            "created_at": pl.Series(
                [datetime(1850, 1, 1), datetime(2026, 1, 5, 9)], dtype=pl.Datetime("us", "UTC")
            ),
            "first_response_at": [datetime(2026, 1, 5, 10), datetime(2026, 1, 5, 11)],  # naive
            "resolved_at": [datetime(2026, 1, 6), datetime(2250, 1, 1)],  # naive, one past 2200
        }
    ).write_parquet(tmp_path / "t.parquet")
    frame, issues = load(tmp_path, path="t.parquet")
    assert frame["created_at"].to_list() == [None, utc(2026, 1, 5, 9)]
    assert frame["first_response_at"].to_list() == [utc(2026, 1, 5, 10), utc(2026, 1, 5, 11)]
    assert frame["resolved_at"].to_list() == [utc(2026, 1, 6), None]
    assert issues["created_at: cannot read as a date-time"] == (1, [("t.parquet", 1)])
    assert issues["resolved_at: cannot read as a date-time"] == (1, [("t.parquet", 2)])
    assert "first_response_at: cannot read as a date-time" not in issues


def test_jsonl_and_json(tmp_path: Path, write: Write) -> None:
    write(
        "t.jsonl",
        '{"ticket_id": "1", "created_at": "2026-01-05T09:00:00Z"}\n'
        '{"ticket_id": "2", "created_at": "2026-01-06T09:00:00Z"}\n',
    )
    write("t.json", '[{"ticket_id": "1", "created_at": "2026-01-05T09:00:00Z"}]')
    frame, _ = load(tmp_path, path="t.jsonl")
    assert frame["created_at"].to_list() == [utc(2026, 1, 5, 9), utc(2026, 1, 6, 9)]
    frame, _ = load(tmp_path, path="t.json")
    assert frame["ticket_id"].to_list() == ["1"]


def test_glob_relative_to_config_with_rows_per_file(tmp_path: Path, write: Write) -> None:
    write("exports/t-01.csv", "ticket_id,created_at\n1,2026-01-05T09:00:00Z\n")
    write("exports/t-02.csv", "ticket_id,created_at\n2,2026-02-05T09:00:00Z\n3,bad\n")
    frame, issues = load(tmp_path, path="exports/t-*.csv")
    assert frame["ticket_id"].to_list() == ["1", "2", "3"]
    assert issues["created_at: cannot read as a date-time"] == (1, [("t-02.csv", 3)])


def test_tsv_and_mapping_and_extra_columns(tmp_path: Path, write: Write) -> None:
    write("t.tsv", "Id\tCreated\tBrand\n1\t2026-01-05 09:00:00\tAcme\n")
    frame, _ = load(
        tmp_path,
        path="t.tsv",
        columns={"ticket_id": "Id", "created_at": "Created"},
        extra_columns=["Brand"],
    )
    assert frame.select("ticket_id", "Brand").rows() == [("1", "Acme")]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load(tmp_path, path="nope.csv")
    with pytest.raises(InputError, match=r"no file matches 'exports/\*.csv'"):
        load(tmp_path, path="exports/*.csv")


def test_empty_file(tmp_path: Path, write: Write) -> None:
    write("t.csv", "")
    with pytest.raises(InputError, match=r"t\.csv: the file is empty"):
        load(tmp_path, path="t.csv")


def test_missing_required_column_names_the_nearest(tmp_path: Path, write: Write) -> None:
    write("t.csv", "ticket_id,created\n1,2026-01-05\n")
    with pytest.raises(InputError) as e:
        load(tmp_path, path="t.csv")
    assert "required column missing: created_at (nearest: 'created')" in e.value.message
    assert e.value.hint is not None and "columns present: ticket_id, created" in e.value.hint


def test_mapped_column_absent(tmp_path: Path, write: Write) -> None:
    write("t.csv", "ticket_id,created_at,Assignee\n1,2026-01-05,x\n")
    with pytest.raises(
        InputError,
        match="column 'Asignee' \\(mapped to agent\\) is not in the file \\(nearest: 'Assignee'\\)",
    ):
        load(tmp_path, path="t.csv", columns={"agent": "Asignee"})


def test_source_filter(tmp_path: Path, write: Write) -> None:
    write(
        "t.csv",
        "ticket_id,created_at,channel\n1,2026-01-05,email\n2,2026-01-05,internal\n3,2026-01-05,\n",
    )
    frame, _ = load(tmp_path, path="t.csv", filter="channel != 'internal'")
    assert frame["ticket_id"].to_list() == ["1"]  # SQL: a null channel does not pass either
    with pytest.raises(ConfigError, match="unknown column 'chanel' \\(nearest: 'channel'\\)"):
        load(tmp_path, path="t.csv", filter="chanel = 'x'")


def test_survey_type_constant_or_column(tmp_path: Path, write: Write) -> None:
    write("s.csv", "responded_at,score,kind\n2026-01-05,5,CSAT\n")
    frame, _ = load(tmp_path, "surveys", path="s.csv", survey_type="nps")
    assert frame["survey_type"].to_list() == ["nps"]
    frame, _ = load(tmp_path, "surveys", path="s.csv", survey_type="kind")
    assert frame["survey_type"].to_list() == ["csat"]
