"""Typed Parquet columns that cannot fail to read carry no check and no raw copy
(`cscli.engine.polars.loader.parse.coerce`): a zone-aware timestamp, or a naive one read in
UTC, whose minimum and maximum lie in the readable years; an integer column of a type whose
every value is an Int64's. Where a read can fail, the check stays and counts: a naive stamp in
a spring-forward gap of its zone, a stamp out of the years, a UInt64 or Int128 beyond Int64."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from cscli.adapters import GENERIC
from cscli.adapters.base import RAW_PREFIX
from cscli.config import SourceConfig
from cscli.engine.polars.loader import load_source
from cscli.engine.polars.quality import find_issues

BIG = 2**53 + 1  # not a float's: read through a Float64 it became 2**53


@dataclass(frozen=True)
class Loaded:
    frame: pl.DataFrame
    found: dict[str, int]  # finding → rows
    checked: set[str]  # columns with a "cannot read" check
    raw: set[str]  # raw copies the source's frame carries


def _load(tmp_path: Path, frame: pl.DataFrame, **cfg: str) -> Loaded:
    frame.write_parquet(tmp_path / "t.parquet")
    source = load_source(
        "tickets", SourceConfig(path="t.parquet", **cfg), tmp_path, GENERIC, "cscli.yaml"
    )
    return Loaded(
        source.frame.collect(),
        {i.issue: i.rows for i in find_issues(source)},
        {str(c.column) for c in source.checks if "cannot read" in c.issue},
        {c for c in source.frame.collect_schema().names() if c.startswith(RAW_PREFIX)},
    )


def test_typed_columns_that_always_read_carry_no_check(tmp_path: Path) -> None:
    nine = datetime(2026, 3, 2, 9, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "ticket_id": ["1", "2", "3"],
            "created_at": [nine, nine, None],
            "resolved_at": [datetime(2026, 3, 2, 10), None, datetime(2026, 3, 3, 9)],
            "reopens": pl.Series([BIG, 0, None], dtype=pl.Int64),
            "agent_replies": pl.Series([3, 1, 2], dtype=pl.Int32),
        },
        schema_overrides={"resolved_at": pl.Datetime("ms")},  # naive, read in UTC
    )
    loaded = _load(tmp_path, frame)
    got = loaded.frame
    assert got["reopens"].to_list() == [BIG, 0, None]  # exact, not through a float
    assert got["agent_replies"].dtype == pl.Int64
    assert got["resolved_at"].to_list() == [
        datetime(2026, 3, 2, 10, tzinfo=UTC),
        None,
        datetime(2026, 3, 3, 9, tzinfo=UTC),
    ]
    assert loaded.checked == set()
    # only the text column keeps its raw copy (its own checks read the text)
    assert loaded.raw == {f"{RAW_PREFIX}ticket_id"}
    # a missing required value is still counted (on the column itself)
    assert loaded.found == {"created_at: missing value (required)": 1}


def test_typed_columns_that_can_fail_keep_their_check(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "ticket_id": ["1", "2", "3"],
            # 02:30 on 2026-03-29 does not exist in Berlin (clocks go from 02:00 to 03:00)
            "created_at": [datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 1), None],
            "resolved_at": [datetime(1850, 1, 1, tzinfo=UTC), None, None],
            "reopens": pl.Series([2**63, 1, None], dtype=pl.UInt64),
            "agent_replies": pl.Series([2**70, None, 4], dtype=pl.Int128),
        }
    )
    loaded = _load(tmp_path, frame, timezone="Europe/Berlin")
    got, found = loaded.frame, loaded.found
    assert loaded.checked == {"created_at", "resolved_at", "reopens", "agent_replies"}
    assert got["created_at"].to_list() == [None, datetime(2026, 3, 29, 0, tzinfo=UTC), None]
    assert got["resolved_at"].to_list() == [None, None, None]
    assert got["reopens"].to_list() == [None, 1, None]
    assert found["created_at: cannot read as a date-time"] == 1
    assert found["resolved_at: cannot read as a date-time"] == 1
    assert found["reopens: cannot read as a whole number"] == 1
    assert got["agent_replies"].to_list() == [None, None, 4]
    assert found["agent_replies: cannot read as a whole number"] == 1
    # the record whose created_at is null in the file: missing, not unreadable
    assert found["created_at: missing value (required)"] == 1
