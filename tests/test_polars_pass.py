"""The polars engine's pass: grouped quantiles computed apart on narrow (keys, value) frames
give polars' own quantiles exactly (null keys, empty groups, ties), and a report's queries read
each source file once."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscli import api
from cscli.engine.polars.compile import aggregations
from cscli.engine.polars.quantiles import joined, narrow_queries, split
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import Kpi, instantiate

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["channel", "period"]


def _kpis() -> list[Kpi]:
    frt = CATALOG["first_response_time"]
    return [
        instantiate(CATALOG["ticket_volume"]),
        instantiate(frt),
        instantiate(frt, {"stat": "p90"}, id="frt_p90"),
        instantiate(frt, {"stat": "mean"}, id="frt_mean"),
    ]


def _frame(channels: list[str | None], seconds: list[float | None]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "channel": channels,
            "period": [1] * len(channels),
            "first_response_seconds": seconds,
            "first_response_at": [None] * len(channels),
            "ticket_open": [False] * len(channels),
        },
        schema_overrides={
            "channel": pl.String,
            "first_response_seconds": pl.Float64,
            "first_response_at": pl.Datetime("us", "UTC"),
        },
    )


def _split_way(lf: pl.LazyFrame, kpis: list[Kpi]) -> pl.DataFrame:
    parts = split(kpis)
    main = lf.group_by(KEYS).agg(parts.streamed).collect()
    narrow = pl.collect_all(narrow_queries(lf, KEYS, parts))
    return joined(main, narrow, KEYS, parts.order)


def _inline_way(lf: pl.LazyFrame, kpis: list[Kpi]) -> pl.DataFrame:
    return lf.group_by(KEYS).agg(e for k in kpis for e in aggregations(k)).collect()


def _by_channel(table: pl.DataFrame) -> dict[Any, dict[str, Any]]:
    return {r["channel"]: r for r in table.iter_rows(named=True)}


def test_split_quantiles_by_hand() -> None:
    kpis = _kpis()
    parts = split(kpis)
    # the median and the p90 read the same value and filter: one narrow query for both
    assert len(parts.narrow) == 1
    assert [a for a, _ in parts.narrow[0].quantiles] == ["first_response_time", "frt_p90"]
    lf = _frame(
        ["a", "a", "a", "a", "a", None, "b", "b"],
        [10.0, 1.0, 3.0, 2.0, None, 5.0, None, None],
    )
    table = _split_way(lf, kpis)
    assert table.columns == [*KEYS, *parts.order]
    rows = _by_channel(table)
    # a: values 1, 2, 3, 10 (the null is not kept). Median at h = (4 − 1)·0.5 = 1.5:
    # 2 + 0.5·(3 − 2) = 2.5; p90 at h = 3·0.9 = 2.7: 3 + 0.7·(10 − 3) = 7.9; mean 16 / 4 = 4
    assert rows["a"]["first_response_time"] == 2.5
    assert rows["a"]["frt_p90"] == pytest.approx(7.9, rel=1e-12)
    assert rows["a"]["frt_mean"] == 4.0
    assert rows["a"]["first_response_time__n"] == 4
    assert rows["a"]["ticket_volume"] == 5
    # the null channel is a group of its own: one value, 5
    assert rows[None]["first_response_time"] == 5.0
    assert rows[None]["frt_p90"] == 5.0
    # b: two tickets, no response time kept: the group stays, its quantiles are null, n 0
    assert rows["b"]["ticket_volume"] == 2
    assert rows["b"]["first_response_time"] is None
    assert rows["b"]["frt_p90"] is None
    assert rows["b"]["first_response_time__n"] == 0
    # and all of it is what polars' own group_by quantile gives
    assert _by_channel(_inline_way(lf, kpis)) == rows


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.one_of(st.none(), st.integers(0, 6).map(float), st.floats(0, 1e6)),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_split_quantiles_equal_polars_inline(
    records: list[tuple[str | None, float | None]],
) -> None:
    lf = _frame([c for c, _ in records], [v for _, v in records])
    kpis = _kpis()
    got, want = _by_channel(_split_way(lf, kpis)), _by_channel(_inline_way(lf, kpis))
    assert got.keys() == want.keys()
    quantiles = {"first_response_time", "frt_p90"}
    for channel, row in want.items():
        for name, value in row.items():
            other = got[channel][name]
            if isinstance(value, float) and math.isnan(value):
                pytest.fail("a quantile is never NaN")
            if name in quantiles or not isinstance(value, float):
                assert other == value, (channel, name)  # bit for bit
            else:
                # the mean now streams where the inline group_by (with a quantile) ran in
                # memory: the same sum in another order, equal to the last bits or so
                assert other == pytest.approx(value, rel=1e-12), (channel, name)


def test_report_reads_each_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The joint plan of the report's batch scans every source file once (the anchors'
    filters, the quality counts and the survey lookups all read one cached node)."""
    plans: list[str] = []
    real = pl.collect_all

    def capture(frames: Any, **kwargs: Any) -> Any:
        frames = list(frames)
        plans.append(pl.explain_all(frames))
        return real(frames, **kwargs)

    monkeypatch.setattr(pl, "collect_all", capture)
    api.report(ROOT / "configs" / "sample.yaml", by=["channel"], grain="week")  # type: ignore[arg-type]
    first = plans[0]
    scans = re.findall(r"(?:Parquet|Csv) SCAN \[([^\]]+)\]", first)
    assert sorted(scans) == sorted(set(scans))
    assert {Path(s).name for s in scans} >= {"tickets.csv", "calls.parquet", "surveys.csv"}
