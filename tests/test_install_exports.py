"""Exports as they come (issue #18): clock-written durations, `cscli init` sniffing the
delimiter and encoding, and the user install (the wheel bundles the demo)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from cscli import api
from cscli.pipeline import ReportResult
from tests.helpers import totals, vn


def _report(tmp_path: Path, calls: str, kpis: list[object]) -> ReportResult:
    (tmp_path / "calls.csv").write_text(dedent(calls).strip() + "\n", encoding="utf-8")
    config = {"timezone": "UTC", "sources": {"calls": {"path": "calls.csv"}}, "kpis": kpis}
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return api.report(path)


# --- durations written as a clock --------------------------------------------------------


CLOCK_CALLS = """
    call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
    c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,1:02:03,00:30,0:00:07
    c2,2026-01-05T11:00:00Z,2026-01-05T11:00:05Z,02:03,,12.5
    c3,2026-01-05T12:00:00Z,2026-01-05T12:00:05Z,300,0:01:00.5,75:00
    c4,2026-01-05T13:00:00Z,2026-01-05T13:00:05Z,1:75:00,0,0
"""


def test_clock_durations_are_read_as_seconds(tmp_path: Path) -> None:
    kpis = ["average_handle_time", "average_hold_time"]
    result = _report(tmp_path, CLOCK_CALLS, kpis)
    t = totals(result)
    # c1: talk 1:02:03 = 3600 + 2·60 + 3 = 3723, hold 00:30 = 30, wrap 0:00:07 = 7 → 3760
    # c2: talk 02:03 = 2·60 + 3 = 123, hold empty = 0, wrap 12.5 → 135.5
    # c3: talk 300, hold 0:01:00.5 = 60.5, wrap 75:00 (MM:SS, minutes may pass 59) = 4500
    #     → 4860.5
    # c4: talk 1:75:00 has 75 minutes after an hour: unreadable → read as missing, and an
    #     answered call with no talk value is excluded from the handle time
    # AHT = (3760 + 135.5 + 4860.5) / 3 = 8756 / 3
    assert vn(t, "average_handle_time") == (pytest.approx(8756 / 3), 3)
    issues = {(q.source, q.issue): q for q in result.data_quality}
    unreadable = issues[("calls", "talk_seconds: cannot read as a number")]
    assert unreadable.rows == 1
    assert unreadable.examples == (("calls.csv", 5),)  # c4: the header is line 1


def test_average_hold_time_reads_clock_text(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,60,1:00:00,0
        c2,2026-01-05T11:00:00Z,2026-01-05T11:00:05Z,60,00:00:30.250,0
        c3,2026-01-05T12:00:00Z,2026-01-05T12:00:05Z,60,0:59,0
    """
    result = _report(tmp_path, calls, ["average_hold_time"])
    # the mean over the answered calls that were put on hold (hold > 0): 1:00:00 = 3600,
    # 00:00:30.250 = 30.25, 0:59 = 59 → (3600 + 30.25 + 59) / 3 = 3689.25 / 3
    value, n = vn(totals(result), "average_hold_time")
    assert (value, n) == (pytest.approx(3689.25 / 3), 3)
    assert not result.data_quality
