"""Duplicate ids: counted without a hash set when the ids arrive in ascending order (an export
sorted by id), by the hash of each id otherwise; the same count and rows either way."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.cli import app
from cscli.engine.polars.loader.findings import sorted_repeats


def _repeats(ids: list[str | None]) -> int:
    """Values that repeat an earlier one, counted with a Counter: values − distinct values."""
    present = [i for i in ids if i is not None]
    return len(present) - len(Counter(present))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d10", "d9"])), max_size=30))
def test_sorted_repeats_is_exact_on_ascending_ids_and_unknown_otherwise(
    ids: list[str | None],
) -> None:
    frame = pl.DataFrame({"id": ids}, schema={"id": pl.String})
    got = frame.select(sorted_repeats(pl.col("id"))).item()
    present = [i for i in ids if i is not None]
    ascending = all(a <= b for a, b in pairwise(present))
    assert got == (_repeats(ids) if ascending else -1)
    # the same lists, sorted (nulls anywhere): always known
    ordered = sorted(present)
    frame = pl.DataFrame({"id": [None, *ordered, None]}, schema={"id": pl.String})
    assert frame.select(sorted_repeats(pl.col("id"))).item() == _repeats(ordered)


def test_sorted_repeats_of_no_ids_is_zero() -> None:
    frame = pl.DataFrame({"id": [None, None]}, schema={"id": pl.String})
    assert frame.select(sorted_repeats(pl.col("id"))).item() == 0
    empty = pl.DataFrame({"id": []}, schema={"id": pl.String})
    assert empty.select(sorted_repeats(pl.col("id"))).item() == 0


def test_sorted_repeats_streams_across_row_groups(tmp_path: Path) -> None:
    """Over a Parquet file of many row groups, on the streaming engine (the batch's): ids out
    of order where one row group ends and the next begins are seen, and the repeats of sorted
    ids are counted across the groups' edges."""
    n, group = 200_000, 16_384
    ids = [f"id{i // 2 if i < 10 else i:07d}" for i in range(n)]  # 5 repeats among the first 10
    path = tmp_path / "ids.parquet"
    for swap, want in ((None, 5), (group - 1, -1), (3 * group, -1), (n - 2, -1)):
        values = list(ids)
        if swap is not None:
            values[swap], values[swap + 1] = values[swap + 1], values[swap]
        pl.DataFrame({"id": values}).write_parquet(path, row_group_size=group)
        query = pl.scan_parquet(path).select(sorted_repeats(pl.col("id")))
        assert query.collect(engine="streaming").item() == want, swap
    # a repeat that straddles two row groups: the last id of one is the first of the next
    values = [f"id{i:07d}" for i in range(n)]
    values[group] = values[group - 1]
    pl.DataFrame({"id": values}).write_parquet(path, row_group_size=group)
    query = pl.scan_parquet(path).select(sorted_repeats(pl.col("id")))
    assert query.collect(engine="streaming").item() == 1


def _report(tmp_path: Path, rows: list[str]) -> dict[str, object]:
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,created_at,channel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "cscli.yaml"
    config.write_text(
        "version: 1\ntimezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    return dict(json.loads(result.stdout))


def _duplicates(doc: dict[str, object]) -> list[dict[str, object]]:
    quality = doc["data_quality"]
    assert isinstance(quality, list)
    return [q for q in quality if "duplicate id" in q["issue"]]


def test_sorted_export_with_repeats(tmp_path: Path) -> None:
    # ids A, A, B, C, C, C (file rows 2-7, ascending): A once and C twice repeat → 3 rows,
    # the later copies (rows 3, 6, 7)
    ids = ["A", "A", "B", "C", "C", "C"]
    doc = _report(tmp_path, [f"{i},2026-03-02 09:00,email" for i in ids])
    (dup,) = _duplicates(doc)
    assert dup["rows"] == 3
    assert dup["examples"] == [
        {"file": "tickets.csv", "row": 3},
        {"file": "tickets.csv", "row": 6},
        {"file": "tickets.csv", "row": 7},
    ]


def test_unsorted_export_with_repeats(tmp_path: Path) -> None:
    # ids C, A, C, B, A: not ascending, so the hash pass counts: C and A repeat once → 2 rows
    # (rows 4 and 6)
    ids = ["C", "A", "C", "B", "A"]
    doc = _report(tmp_path, [f"{i},2026-03-02 09:00,email" for i in ids])
    (dup,) = _duplicates(doc)
    assert dup["rows"] == 2
    assert dup["examples"] == [
        {"file": "tickets.csv", "row": 4},
        {"file": "tickets.csv", "row": 6},
    ]


def test_sorted_export_without_repeats_has_no_finding(tmp_path: Path) -> None:
    doc = _report(tmp_path, [f"T-{i:03d},2026-03-02 09:00,email" for i in range(1, 40)])
    assert _duplicates(doc) == []
