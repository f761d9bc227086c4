"""The result of a report: typed rows for the renderers, flat frames for the export edge.

The engine hands back small frames whose column names carry the structure: per KPI `<id>`
(the value), `<id>__n` (the records it rests on), `<id>__prev` (the previous window's value,
with --compare) and `<id>__open` (the share of a maturing cohort still open), beside the group
columns and, with a grain, `period`. `from_frames` reads them once into `Row`s of `KpiValue`s,
and every renderer and check reads those. The frames stay on the result unchanged, as the
documented flat form that CSV, Parquet and the library API (`result.totals["csat"][0]`) use;
`column` names their columns. Outside the engine's compiler and assembly, this module alone
knows the suffixes.

No polars at runtime: the frames are only read through their own methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from cscli.derived import MULTI_VALUED
from cscli.engine.base import PERIOD_COL as PERIOD_COL
from cscli.kpis.columns import N_SUFFIX as N_SUFFIX
from cscli.kpis.columns import OPEN_SUFFIX as OPEN_SUFFIX

if TYPE_CHECKING:
    import polars as pl

    from cscli.availability import KpiStatus
    from cscli.kpis.spec import Kpi
    from cscli.period import Grain, Period
    from cscli.quality import QualityIssue, SourceSummary

#: the flat columns: `<id>__n` and `<id>__open` are written by the engines (kpis.columns),
#: `<id>__prev` by the comparison, `period` (a bucket's first day) by the grouping
PREV_SUFFIX = "__prev"
#: a maturing KPI is provisional while more than this share of its cohort is still open
PROVISIONAL_SHARE = 0.05
#: a value resting on fewer records than this is shown faded, its change not judged
#: (`report.min_n`)
MIN_N = 30

Part = Literal["value", "n", "previous", "open_share"]
_SUFFIXES: dict[Part, str] = {
    "value": "",
    "n": N_SUFFIX,
    "previous": PREV_SUFFIX,
    "open_share": OPEN_SUFFIX,
}


def column(kpi_id: str, part: Part = "value") -> str:
    """The flat frames' column of one part of a KPI: `csat`, `csat__n`, `csat__prev`,
    `csat__open`."""
    return kpi_id + _SUFFIXES[part]


@dataclass(frozen=True, slots=True)
class KpiValue:
    """One KPI in one row: its value (None when it cannot be computed), the records it rests
    on, the previous window's value (with compare) and, for a maturing KPI (`matures`), the
    share of its cohort still open at the export time (None when the cohort is empty)."""

    value: float | int | None
    n: int
    previous: float | int | None = None
    open_share: float | None = None
    matures: bool = False

    @property
    def provisional(self) -> bool:
        """More than PROVISIONAL_SHARE of the value's cohort is still open: it will move."""
        return self.open_share is not None and self.open_share > PROVISIONAL_SHARE


#: a KPI a row has no column for: no value, no records
NO_VALUE = KpiValue(None, 0)


@dataclass(frozen=True, slots=True)
class Row:
    """One group (the `by` dimensions and, with a grain, `period`: a date), or the totals
    (no group), with the value of every KPI computed for it."""

    group: Mapping[str, object]
    values: Mapping[str, KpiValue]

    def kpi(self, kpi_id: str) -> KpiValue:
        """The KPI's value in this row; NO_VALUE for a KPI the row does not carry."""
        return self.values.get(kpi_id, NO_VALUE)

    def has(self, kpi_id: str) -> bool:
        return kpi_id in self.values


@dataclass(frozen=True)
class ReportResult:
    """Everything a renderer needs.

    Renderers read the typed rows: `rows` (one per group, ordered as the groups), `total`
    (over all groups) and `trend_rows` (with a grain, a `by` and a trend: one per bucket over
    all groups). The flat frames are the export edge, for CSV, Parquet and library users:
    `table` has one row per group, the group columns then `<id>` and `<id>__n` per available
    KPI (`<id>__prev` with compare, `<id>__open` for a maturing KPI); `totals` has one row with
    the KPI columns; `trend` one row per bucket. Both forms come from `from_frames`.
    """

    config_path: Path
    timezone: str
    period: Period
    #: first and last local day with records, among the anchors of the KPIs computed
    data_span: tuple[date | None, date | None]
    by: tuple[str, ...]
    grain: Grain | None
    kpis: tuple[KpiStatus, ...]
    table: pl.DataFrame
    totals: pl.DataFrame
    rows: tuple[Row, ...]
    total: Row
    trend_rows: tuple[Row, ...] | None
    data_quality: tuple[QualityIssue, ...]
    sources: tuple[SourceSummary, ...] = field(default=())
    compare: Period | None = None
    trend: pl.DataFrame | None = None
    #: with a grain and compare: `previous` (each bucket vs the bucket before) or `yoy`
    compare_to: str = "previous"
    #: per source, the export time: the newest timestamp of its records (UTC)
    data_end: Mapping[str, datetime] = field(default_factory=dict)
    #: below this n a value is faded and its change is grey in the HTML report
    min_n: int = MIN_N

    @property
    def group_columns(self) -> tuple[str, ...]:
        return (*self.by, PERIOD_COL) if self.grain else self.by

    @property
    def available(self) -> tuple[Kpi, ...]:
        return tuple(s.kpi for s in self.kpis if s.available)

    @property
    def overlapping(self) -> tuple[str, ...]:
        """The multi-valued dimensions the report is cut by (a ticket's tags): a record is in
        the group of each of its values, so the groups overlap and do not sum to the totals,
        which count each record once."""
        return tuple(d for d in self.by if d in MULTI_VALUED)

    def overlap_note(self) -> str | None:
        """Why the groups do not sum to the total, in words; None when they partition."""
        dims = self.overlapping
        if not dims:
            return None
        return (
            f"groups overlap: by {', '.join(dims)}, a record is in the group of each of its "
            "values (a ticket tagged billing and refund is in both; one without tags in "
            "(none)), so the groups do not sum to the total, which counts each record once"
        )

    def provisional(self) -> tuple[Kpi, ...]:
        """The KPIs with a provisional value in the totals or any row."""
        rows = (self.total, *self.rows)
        return tuple(k for k in self.available if any(r.kpi(k.id).provisional for r in rows))

    def data_ends(self) -> dict[str, date]:
        """Per source of the available KPIs (contacts: tickets and calls), the local day of
        its export time, for the sources whose export time falls before the period's end:
        the period runs past the data, and its last days are not quiet but unknown."""
        end = self.period.end
        if end is None:
            return {}
        used = {k.source for k in self.available}
        if "contacts" in used:
            used |= {"tickets", "calls"}
        zone = ZoneInfo(self.timezone)
        out = {}
        for name in sorted(used & self.data_end.keys()):
            day = self.data_end[name].astimezone(zone).date()
            if day < end:
                out[name] = day
        return out

    @property
    def effective_period(self) -> tuple[date | None, date | None]:
        """The period asked for, with open ends closed by the data's span."""
        return (self.period.start or self.data_span[0], self.period.end or self.data_span[1])


def from_frames(
    table: pl.DataFrame,
    totals: pl.DataFrame,
    trend: pl.DataFrame | None,
    *,
    keys: Sequence[str],
    kpis: Sequence[Kpi],
) -> tuple[tuple[Row, ...], Row, tuple[Row, ...] | None]:
    """The typed rows of the assembled frames: (rows, total, trend rows). `keys` are the
    table's group columns; without any, the table has no rows."""
    rows = tuple(_row(r, keys, kpis) for r in table.iter_rows(named=True)) if keys else ()
    total = _row(totals.row(0, named=True), (), kpis) if totals.height else Row({}, {})
    trend_rows = None
    if trend is not None:
        trend_rows = tuple(_row(r, (PERIOD_COL,), kpis) for r in trend.iter_rows(named=True))
    return rows, total, trend_rows


def _row(record: Mapping[str, object], keys: Sequence[str], kpis: Sequence[Kpi]) -> Row:
    values = {k.id: _value(record, k.id) for k in kpis if k.id in record}
    return Row({key: record[key] for key in keys}, values)


def _value(record: Mapping[str, object], kpi_id: str) -> KpiValue:
    value = record.get(kpi_id)
    n = record.get(kpi_id + N_SUFFIX)
    previous = record.get(kpi_id + PREV_SUFFIX)
    share = record.get(kpi_id + OPEN_SUFFIX)
    return KpiValue(
        value=value if isinstance(value, int | float) else None,
        n=int(n) if isinstance(n, int | float) and n else 0,
        previous=previous if isinstance(previous, int | float) else None,
        open_share=float(share) if isinstance(share, int | float) and share == share else None,
        matures=kpi_id + OPEN_SUFFIX in record,
    )
