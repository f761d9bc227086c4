"""Erlang C numbers from a report's aggregated table, on the driver.

An `Erlang` kind's columns arrive as `<id>` = the bucket's mean handle time and `<id>__n` = its
offered calls (additive parts the engine aggregated). Here each row of the small aggregated
table (one per group and interval) gets its Erlang number from `cscli.erlang`; a loop over
those few rows, never over records. A totals row (every interval together) is null.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cscli import erlang
from cscli.kpis.columns import N_SUFFIX
from cscli.kpis.spec import Erlang, Kpi

#: the id of the helper KPI (agents_staffed of agent_states) an Erlang C service level without
#: `agents:` reads per bucket; its columns leave the table once used
STAFFED = "_agents_staffed"


def needs_staffed(kpis: Sequence[Kpi]) -> bool:
    """Whether an Erlang C service level among `kpis` takes its agents from agent_states."""
    return any(
        isinstance(k.kind, Erlang) and k.kind.measure == "service_level" and k.kind.agents is None
        for k in kpis
    )


def erlang_value(
    kind: Erlang,
    offered: int,
    aht: float | None,
    seconds: float,
    staffed: float | None = None,
) -> float | None:
    """The kind's number for one interval of `seconds` with `offered` calls and mean `aht`;
    `staffed` is the mean agents staffed when the kind has no `agents`."""
    if offered == 0:
        if kind.measure == "service_level":
            return 1.0
        return 0.0
    if aht is None:
        return None
    traffic = erlang.traffic_intensity(offered, aht, seconds)
    if traffic is None:
        return None
    if kind.measure == "traffic":
        return traffic
    if kind.measure == "required":
        return float(
            erlang.required_agents(
                traffic,
                aht,
                target=kind.target,
                threshold_seconds=kind.threshold,
                max_occupancy=kind.max_occupancy,
                shrinkage=kind.shrinkage,
            )
        )
    agents = kind.agents if kind.agents is not None else staffed
    if agents is None:
        return None
    # a mean of 13.6 agents: linear between the levels of 13 and 14 whole agents
    low = int(agents)
    sl_low = erlang.service_level(low, traffic, aht, kind.threshold)
    frac = agents - low
    if frac <= 0:
        return sl_low
    sl_high = erlang.service_level(low + 1, traffic, aht, kind.threshold)
    return sl_low + frac * (sl_high - sl_low)


def erlang_columns(frame: pl.DataFrame, kpis: Sequence[Kpi], seconds: int | None) -> pl.DataFrame:
    """Replace each Erlang KPI's mean handle time by its number, per row; with `seconds`
    None (a totals row over every interval) the number is null."""
    fixes = []
    for k in kpis:
        if not isinstance(k.kind, Erlang) or k.id not in frame.columns:
            continue
        if seconds is None:
            values: list[float | None] = [None] * frame.height
        else:
            offered = frame[k.id + N_SUFFIX].fill_null(0).to_list()
            ahts = frame[k.id].to_list()
            staffed = (
                frame[STAFFED].to_list() if STAFFED in frame.columns else [None] * frame.height
            )
            values = [
                erlang_value(k.kind, int(o), a, seconds, s)
                for o, a, s in zip(offered, ahts, staffed, strict=True)
            ]
        fixes.append(pl.Series(k.id, values, dtype=pl.Float64))
    out = frame.with_columns(fixes) if fixes else frame
    return out.drop([c for c in out.columns if c.startswith(STAFFED)])
