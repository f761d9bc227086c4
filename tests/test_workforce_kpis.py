"""The Erlang C KPIs (traffic_intensity, required_agents, erlang_c_service_level): their
availability by grain and the per-interval driver step, with hand-computed values."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from cscli import api
from cscli.availability import erlang_unavailable
from cscli.cli import app
from cscli.config import Grain
from cscli.engine.polars.staffing import erlang_columns, erlang_value
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import Erlang, ParamError, instantiate

ERLANG_IDS = ("traffic_intensity", "required_agents", "erlang_c_service_level")

CALLS = """
    call_id,queued_at,answered_at,ended_at,talk_seconds,hold_seconds,wrap_seconds
    c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,2026-01-05T10:05:40Z,300,0,30
    c2,2026-01-05T10:10:00Z,2026-01-05T10:10:20Z,2026-01-05T10:14:40Z,200,60,
    c3,2026-01-05T10:40:00Z,,2026-01-05T10:40:03Z,,,
"""


def _config(tmp_path: Path) -> Path:
    (tmp_path / "calls.csv").write_text(dedent(CALLS).strip() + "\n", encoding="utf-8")
    config = {
        "timezone": "UTC",
        "sources": {"calls": {"path": "calls.csv"}},
        "kpis": [
            "call_volume",
            "traffic_intensity",
            "required_agents",
            {"id": "erlang_c_service_level", "agents": 2},
        ],
    }
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("grain", [None, Grain.day, Grain.week, Grain.month])
def test_unavailable_without_an_interval_grain(tmp_path: Path, grain: Grain | None) -> None:
    result = api.report(_config(tmp_path), grain=grain)
    reasons = {s.kpi.id: s.reason for s in result.kpis if not s.available}
    assert reasons == dict.fromkeys(ERLANG_IDS, "needs --grain 15m, 30m or hour")
    # call_volume is unaffected: 3 calls queued
    assert result.total is not None


def test_cli_says_why(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["report", "-c", str(_config(tmp_path)), "--grain", "day"])
    assert out.exit_code == 0, out.output
    assert "required_agents unavailable: needs --grain 15m, 30m or hour" in out.output


def test_predicted_service_level_needs_agents() -> None:
    without = instantiate(CATALOG["erlang_c_service_level"])
    assert erlang_unavailable(without, "30m") == (
        "needs agents: (the number of agents staffed) in its kpis: entry, or an agent_states source"
    )
    assert (
        erlang_unavailable(instantiate(CATALOG["erlang_c_service_level"], {"agents": 14}), "30m")
        is None
    )
    assert erlang_unavailable(instantiate(CATALOG["required_agents"]), "hour") is None
    assert erlang_unavailable(instantiate(CATALOG["call_volume"]), None) is None


def test_parameters_are_checked_together() -> None:
    with pytest.raises(ParamError, match="shrinkage"):
        instantiate(CATALOG["required_agents"], {"shrinkage": 1.0})
    with pytest.raises(ParamError, match="target"):
        instantiate(CATALOG["required_agents"], {"target": 1.5})
    with pytest.raises(ParamError, match="max_occupancy"):
        instantiate(CATALOG["required_agents"], {"max_occupancy": 0.0})


def test_driver_step_per_interval() -> None:
    kpis = [
        instantiate(CATALOG["traffic_intensity"]),
        instantiate(CATALOG["required_agents"]),
        instantiate(CATALOG["required_agents"], {"shrinkage": 0.3}, id="rostered"),
        instantiate(CATALOG["erlang_c_service_level"], {"agents": 14}),
    ]
    # the engine's parts per 30-min bucket: <id> = mean handle time, <id>__n = offered calls
    # row 1: 100 calls, AHT 180 s → A = 100 × 180 / 1800 = 10 Erlangs → 14 agents for 80/20
    #        (SL 0.7956 at 13, 0.8884 at 14); 14 / (1 − 0.3) = 20 rostered
    # row 2: no call offered → 0 Erlangs, 0 agents, predicted SL 1 (nobody waits)
    # row 3: 5 calls, none answered → AHT unknown → null
    # row 4: 50 calls, AHT 360 s → A = 50 × 360 / 1800 = 10 Erlangs as well
    aht = [180.0, None, None, 360.0]
    offered = [100, 0, 5, 50]
    frame = pl.DataFrame(
        {
            **{k.id: pl.Series(aht, dtype=pl.Float64) for k in kpis},
            **{k.id + "__n": pl.Series(offered, dtype=pl.Int64) for k in kpis},
        }
    )
    out = erlang_columns(frame, kpis, Grain.m30.seconds)
    assert out["traffic_intensity"].to_list() == pytest.approx([10.0, 0.0, None, 10.0])
    assert out["required_agents"].to_list() == [14.0, 0.0, None, 14.0]
    assert out["rostered"].to_list() == [20.0, 0.0, None, 20.0]
    sl = out["erlang_c_service_level"].to_list()
    assert sl[0] == pytest.approx(0.8884, abs=1e-4)
    assert sl[1] == 1.0 and sl[2] is None
    # AHT 360 s: SL = 1 − C·exp(−4 × 20 / 360) = 1 − 0.17413 × 0.80074 = 0.8606
    assert sl[3] == pytest.approx(1 - 0.17413193 * 0.80073740, abs=1e-6)
    # n is untouched (the offered calls); a totals row is null, never an average
    assert out["required_agents__n"].to_list() == offered
    totals = erlang_columns(frame.head(1), kpis, None)
    assert totals["required_agents"].to_list() == [None]
    assert totals["required_agents"].dtype == pl.Float64


def test_fractional_agents_staffed_interpolates() -> None:
    kind = instantiate(CATALOG["erlang_c_service_level"]).kind
    assert isinstance(kind, Erlang)
    # 100 calls, AHT 180 s, 30 min → 10 Erlangs; 13.5 agents: halfway between SL(13) = 0.79559
    # and SL(14) = 0.88835 → 0.84197; no agents_staffed for the bucket → null
    half = erlang_value(kind, 100, 180.0, 1800, 13.5)
    assert half == pytest.approx((0.7955948 + 0.8883500) / 2, abs=1e-6)
    assert erlang_value(kind, 100, 180.0, 1800, 14.0) == pytest.approx(0.8883500, abs=1e-6)
    assert erlang_value(kind, 100, 180.0, 1800, None) is None
