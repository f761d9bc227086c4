"""A `--grain 30m` report with the Erlang C KPIs, the values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from cscli import api
from cscli.config import Grain
from tests.helpers import totals, vn

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(tmp_path: Path, kpis: list[object], states: bool = True) -> Path:
    lines = ["call_id,queued_at,answered_at,ended_at,talk_seconds,hold_seconds,wrap_seconds"]
    # 10:00–10:30: 100 calls, one every 18 s, answered after 5 s, handle 150 + 0 + 30 = 180 s
    for i in range(100):
        q = T0 + timedelta(seconds=18 * i)
        a = q + timedelta(seconds=5)
        lines.append(f"a{i},{_iso(q)},{_iso(a)},{_iso(a + timedelta(seconds=150))},150,0,30")
    # 10:30–11:00: 10 calls, one a minute, handle 300 + 0 + 60 = 360 s
    for i in range(10):
        q = T0 + timedelta(minutes=30 + i)
        a = q + timedelta(seconds=5)
        lines.append(f"b{i},{_iso(q)},{_iso(a)},{_iso(a + timedelta(seconds=300))},300,0,60")
    (tmp_path / "calls.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sources: dict[str, object] = {"calls": {"path": "calls.csv"}}
    if states:
        rows = ["agent,state,started_at,ended_at"]
        # 14 agents available 10:00–10:30, then 3 of them until 11:00
        for n in range(14):
            end = T0 + timedelta(minutes=60 if n < 3 else 30)
            rows.append(f"g{n},available,{_iso(T0)},{_iso(end)}")
        (tmp_path / "states.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        sources["agent_states"] = {"path": "states.csv"}
    path = tmp_path / "cscli.yaml"
    config = {"timezone": "UTC", "sources": sources, "kpis": kpis}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _by_bucket(result: api.ReportResult, kpi: str) -> dict[str, object]:
    out = {}
    for row in result.table.iter_rows(named=True):
        start = row["period"]
        assert isinstance(start, datetime)
        out[start.strftime("%H:%M")] = row[kpi]
    return out


def test_half_hour_report(tmp_path: Path) -> None:
    kpis = ["traffic_intensity", "required_agents", "erlang_c_service_level"]
    result = api.report(
        _write(tmp_path, kpis), grain=Grain.m30, date_from="2026-01-05", date_to="2026-01-05"
    )
    assert all(s.available for s in result.kpis), [s.reason for s in result.kpis]
    # 10:00: A = 100 × 180 / 1800 = 10 Erlangs → 14 agents (SL 0.7956 at 13, 0.8884 at 14)
    # 10:30: A = 10 × 360 / 1800 = 2 Erlangs → by the direct sum C(3, 2) = 4/9, SL(3) =
    #        1 − 4/9 · e^(−20/360) = 0.5796 < 0.8; C(4, 2) = (4/3)/(23/3) = 4/23, SL(4) =
    #        1 − 4/23 · e^(−40/360) = 0.8444 → 4 agents
    traffic = _by_bucket(result, "traffic_intensity")
    assert traffic["10:00"] == pytest.approx(10.0)
    assert traffic["10:30"] == pytest.approx(2.0)
    assert traffic["09:30"] == 0.0  # a quiet half hour: no traffic
    required = _by_bucket(result, "required_agents")
    assert (required["10:00"], required["10:30"], required["11:00"]) == (14.0, 4.0, 0.0)
    # agents_staffed joined per bucket: 14 agents at 10:00, 3 at 10:30
    predicted = _by_bucket(result, "erlang_c_service_level")
    assert predicted["10:00"] == pytest.approx(0.8884, abs=1e-4)
    assert predicted["10:30"] == pytest.approx(0.5796, abs=1e-4)
    # the totals row is null: never an average of intervals; n = the 110 offered calls
    assert vn(totals(result), "required_agents") == (None, 110)
    assert vn(totals(result), "erlang_c_service_level") == (None, 110)
    assert "_agents_staffed" not in result.table.columns


def test_configured_agents_and_no_source(tmp_path: Path) -> None:
    kpis = [{"id": "erlang_c_service_level", "agents": 14}, "erlang_c_service_level"]
    path = _write(tmp_path, kpis[:1], states=False)
    result = api.report(path, grain=Grain.m30, date_from="2026-01-05", date_to="2026-01-05")
    predicted = _by_bucket(result, "erlang_c_service_level")
    # 14 agents: 0.8884 at 10 Erlangs; at 2 Erlangs, AHT 360: far above target
    assert predicted["10:00"] == pytest.approx(0.8884, abs=1e-4)
    assert predicted["10:30"] == pytest.approx(1.0, abs=1e-6)
    path = _write(tmp_path, kpis[1:], states=False)
    result = api.report(path, grain=Grain.m30, date_from="2026-01-05", date_to="2026-01-05")
    (status,) = result.kpis
    assert status.reason == (
        "needs agents: (the number of agents staffed) in its kpis: entry, or an agent_states source"
    )
