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


def erlang_value(kind: Erlang, offered: int, aht: float | None, seconds: float) -> float | None:
    """The kind's number for one interval of `seconds` with `offered` calls and mean `aht`."""
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
    assert kind.agents is not None
    return erlang.service_level(int(kind.agents), traffic, aht, kind.threshold)


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
            values = [
                erlang_value(k.kind, int(o), a, seconds) for o, a in zip(offered, ahts, strict=True)
            ]
        fixes.append(pl.Series(k.id, values, dtype=pl.Float64))
    return frame.with_columns(fixes) if fixes else frame
