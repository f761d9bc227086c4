"""Business seconds on the SQL engines (`cscli.engine.sql.business_time`): the polars engine's
lookup grid shipped as a table and joined in DuckDB gives, on every record, exactly the float
polars gives (`cscli.engine.polars.business_time`, `enrich.business_expr`).

Random stamps cover DST days, holidays, overnight shifts, stamps outside the covered years,
NULLs and ends before starts, on random and fixture calendars; three values are worked out by
hand. Local times are in the calendar's zone (Europe/Berlin unless said); 2026 dates: Fri
01-09, Mon 01-12, Thu 04-30, Fri 05-01 (Labour Day), Mon 05-04; Berlin moves its clocks forward
on Sun 03-29 (02:00 → 03:00) and back on Sun 10-25 (03:00 → 02:00).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from cscli.business_hours.assignment import BusinessHours
from cscli.business_hours.model import Calendar
from cscli.business_hours.parse import parse_calendar
from cscli.config import CalendarAssignment
from cscli.derived import DERIVATIONS
from cscli.engine.polars import enrich
from cscli.engine.polars.business_time import Grid, business_seconds, lookup_grid
from cscli.engine.polars.measures import seconds
from cscli.engine.sql.business_time import (
    BUSINESS_BUILDERS,
    Strategy,
    lookup_table,
    with_business_seconds,
)
from cscli.engine.sql.dialect import DUCKDB
from cscli.engine.sql.relations import Relation, SqlContext, col
from tests.test_calendar import calendars as random_calendars
from tests.test_calendar import instants as instants_2026

ROOT = Path(__file__).resolve().parent.parent
UTC_US = pl.Datetime("us", "UTC")
BERLIN = "Europe/Berlin"
YEARS = range(2026, 2027)


def local(text: str, zone: str = BERLIN) -> datetime:
    """'2026-01-09 17:30' in `zone` → the UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def calendar(name: str, hours: Any, **spec: Any) -> Calendar:
    return parse_calendar(name, {"timezone": BERLIN, "hours": hours, **spec})


OFFICE = calendar("office", {"mon-fri": ["09:00-12:30", "13:30-17:00"]})
LATE = calendar("late", {"mon-fri": "09:00-18:00"})
NINE_TO_FIVE_DE = calendar("de", {"mon-fri": "09:00-17:00"}, holidays="DE")
NIGHTS = calendar("nights", {"daily": "22:00-06:00"})
#: openings on quarter hours with a 15-minute break: a 15-minute grid, B = min(t + off, hi)
QUARTERS = calendar("quarters", {"mon-fri": ["08:15-12:00", "12:15-17:45"]})
#: openings on quarter hours but long gaps: an hourly grid, B = min(max(t + off, lo), hi)
HOURLY_LO = calendar("hourly-lo", {"mon-sat": "08:15-19:45"})
ALWAYS_NY = parse_calendar("always", {"timezone": "America/New_York", "hours": "24/7"})
FIXTURES = [OFFICE, LATE, NINE_TO_FIVE_DE, NIGHTS, QUARTERS, HOURLY_LO, ALWAYS_NY]


def frame_of(
    rows: Sequence[tuple[datetime | None, datetime | None]], **extra: list[Any]
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": list(range(len(rows))),
            "start": [r[0] for r in rows],
            "end": [r[1] for r in rows],
            **extra,
        },
        schema_overrides={"id": pl.Int64, "start": UTC_US, "end": UTC_US},
    )


#: one connection for the module: a lookup table is registered once, as a runner does per run
_CON: duckdb.DuckDBPyConnection | None = None
_REGISTERED: set[str] = set()


def connection() -> duckdb.DuckDBPyConnection:
    global _CON
    if _CON is None:
        _CON = duckdb.connect()
        _CON.execute("SET TimeZone='UTC'")
    return _CON


def run_duckdb(
    frame: pl.DataFrame,
    build: Callable[[Relation, SqlContext], Relation],
    hours: BusinessHours,
    name: str = "tickets",
) -> pl.DataFrame:
    """`build` applied to `frame` as a DuckDB table, the lookups registered as the runner
    does, rows back in id order."""
    con = connection()
    con.register("src", frame.to_arrow())
    ctx = SqlContext(name, {}, frozenset(frame.columns), (), DUCKDB, hours)
    rel = build(Relation.table("src", frame.columns), ctx)
    for lookup in ctx.lookups:
        if lookup.name not in _REGISTERED:
            con.register(lookup.name, lookup.frame.to_arrow())
            _REGISTERED.add(lookup.name)
    sql = f'SELECT * FROM ({rel.sql(DUCKDB)}) AS _q ORDER BY "id"'
    out = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


def sql_seconds(
    cal: Calendar,
    rows: Sequence[tuple[datetime | None, datetime | None]],
    years: range | None = None,
    strategy: Strategy = "auto",
) -> list[float | None]:
    hours = BusinessHours({cal.name: cal}, {"tickets": cal.name})
    out = run_duckdb(
        frame_of(rows),
        lambda rel, ctx: with_business_seconds(
            rel, "start", "end", "bs", cal.name, ctx, years=years, strategy=strategy
        ),
        hours,
    )
    assert out.schema["bs"] == pl.Float64
    return out["bs"].to_list()


def polars_seconds(
    cal: Calendar,
    rows: Sequence[tuple[datetime | None, datetime | None]],
    years: range | None = None,
    strategy: Strategy = "auto",
) -> list[float | None]:
    expr = business_seconds(pl.col("start"), pl.col("end"), cal, years=years, strategy=strategy)
    return frame_of(rows).lazy().select(expr).collect().to_series().to_list()


# --- three values worked out by hand ------------------------------------------------------


def test_hand_worked_values() -> None:
    # Fri 17:30 → Mon 09:30 on Mon–Fri 09:00–17:00 (+ DE holidays): Friday after closing 0 +
    # weekend 0 + Monday 09:00–09:30 = 30 min = 1,800 s; reversed, B(start) − B(end) = −1,800 s
    fri, mon = local("2026-01-09 17:30"), local("2026-01-12 09:30")
    # Thu 04-30 16:00 → Mon 05-04 10:00: Thu 16–17 = 1 h + Fri Labour Day 0 + weekend 0 + Mon
    # 09–10 = 1 h → 7,200 s
    thu, mon2 = local("2026-04-30 16:00"), local("2026-05-04 10:00")
    assert sql_seconds(NINE_TO_FIVE_DE, [(fri, mon), (mon, fri), (thu, mon2)]) == [
        1800.0,
        -1800.0,
        7200.0,
    ]
    # Nights 22:00–06:00 daily, Sat 03-28 21:00 → Sun 03-29 07:00: the shift runs 22:00 CET
    # (21:00Z) → 06:00 CEST (04:00Z) = 7 h, the clocks skip 02:00–03:00 → 25,200 s; on the
    # fall-back night Sat 10-24 21:00 → Sun 10-25 07:00: 22:00 CEST (20:00Z) → 06:00 CET
    # (05:00Z) = 9 h = 32,400 s
    spring = (local("2026-03-28 21:00"), local("2026-03-29 07:00"))
    autumn = (local("2026-10-24 21:00"), local("2026-10-25 07:00"))
    assert sql_seconds(NIGHTS, [spring, autumn]) == [25200.0, 32400.0]
    # 08:15–19:45 Mon–Sat (an hourly grid whose 08:00 bucket opens at 08:15, so B is clamped
    # up to the bucket's start value there): Mon 08:05 → 08:30 = 08:15–08:30 = 900 s
    early = (local("2026-01-12 08:05"), local("2026-01-12 08:30"))
    assert sql_seconds(HOURLY_LO, [early]) == [900.0]
    # a NULL stamp, and a stamp outside the covered years (2000–2050), give NULL
    far = datetime(1999, 6, 1, tzinfo=UTC)
    assert sql_seconds(NINE_TO_FIVE_DE, [(None, mon), (fri, None), (far, mon)]) == [None] * 3


# --- equal to polars on random stamps -------------------------------------------------------

OUTSIDE = st.sampled_from(
    [
        datetime(2025, 12, 31, 22, 59, tzinfo=UTC),  # just before local 2026 in Berlin
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC),  # just after
        datetime(1990, 5, 1, tzinfo=UTC),
        datetime(2071, 5, 1, tzinfo=UTC),
    ]
)
stamps = st.one_of(instants_2026, instants_2026, instants_2026, OUTSIDE, st.none())
pairs = st.lists(st.tuples(stamps, stamps), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(random_calendars(), pairs)
def test_random_calendars_equal_polars(
    cal: Calendar, rows: list[tuple[datetime | None, datetime | None]]
) -> None:
    # one covered year keeps each random calendar's grid small; instants outside it are NULL
    assert sql_seconds(cal, rows, YEARS) == polars_seconds(cal, rows, YEARS)


@settings(max_examples=40, deadline=None)
@given(random_calendars(), pairs)
def test_random_calendars_searched_equal_polars(
    cal: Calendar, rows: list[tuple[datetime | None, datetime | None]]
) -> None:
    # the sorted-search arrays (what polars falls back to for a grid over 64 MiB), joined by
    # day with a range condition
    searched = polars_seconds(cal, rows, YEARS, "search")
    assert sql_seconds(cal, rows, YEARS, "search") == searched == polars_seconds(cal, rows, YEARS)


# stamps over the default years: anywhere from 1998 to 2052, dense around clock changes, and
# in the local hours that the calendars open or close in (where a bucket is partly open)
def near_edges(cals: Sequence[Calendar]) -> st.SearchStrategy[datetime]:
    hours = sorted({t.hour for c in cals for day in c.hours for iv in day for t in iv})
    return st.builds(
        lambda day, hour, second: (
            datetime.combine(date(2026, 1, 1) + timedelta(days=day), time(hour))
            .replace(tzinfo=ZoneInfo(BERLIN))
            .astimezone(UTC)
            + timedelta(seconds=second)
        ),
        st.integers(0, 364),
        st.sampled_from(hours),
        st.integers(0, 3599),
    )


def wide(cals: Sequence[Calendar]) -> st.SearchStrategy[datetime | None]:
    edges = near_edges(cals)
    anywhere = st.integers(0, 54 * 365 * 86400).map(
        lambda s: datetime(1998, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
    )
    return st.one_of(anywhere, instants_2026, edges, edges, edges, st.none())


@pytest.mark.parametrize("cal", FIXTURES, ids=[c.name for c in FIXTURES])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_fixture_calendars_equal_polars_over_the_default_years(
    cal: Calendar, data: st.DataObject
) -> None:
    stamp = wide([cal])
    rows = data.draw(st.lists(st.tuples(stamp, stamp), min_size=5, max_size=40))
    assert sql_seconds(cal, rows) == polars_seconds(cal, rows)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            wide([OFFICE, LATE, NIGHTS]),
            wide([OFFICE, LATE, NIGHTS]),
            st.sampled_from(["A", "B", "C", None]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_calendar_by_column_equals_polars(
    rows: list[tuple[datetime | None, datetime | None, str | None]], with_default: bool
) -> None:
    # team B on `late`, C on `nights`, others on the default (or NULL without one), as the
    # polars engine's when/then chain
    assigned = CalendarAssignment(
        by="team", map={"B": "late", "C": "nights"}, default="office" if with_default else None
    )
    hours = BusinessHours({"office": OFFICE, "late": LATE, "nights": NIGHTS}, {"tickets": assigned})
    frame = frame_of([(a, b) for a, b, _ in rows], team=[t for _, _, t in rows])
    out = run_duckdb(
        frame,
        lambda rel, ctx: with_business_seconds(rel, "start", "end", "bs", assigned, ctx),
        hours,
    )
    expected = frame.select(enrich.business_expr(pl.col("start"), pl.col("end"), hours, "tickets"))
    assert out["bs"].to_list() == expected.to_series().to_list()
    assert out.columns == [*frame.columns, "bs"]  # the helper columns are dropped


# --- the derivation builders ----------------------------------------------------------------

TWIN = next(d for d in DERIVATIONS if d.name == "business_first_response_seconds")
AGE = next(d for d in DERIVATIONS if d.name == "business_age_seconds")


def tickets(rows: Sequence[tuple[datetime | None, datetime | None]]) -> pl.DataFrame:
    frame = frame_of(rows).rename({"start": "created_at", "end": "first_response_at"})
    # the load-stage measure: NULL where negative (a reply before its ticket), as polars
    measure = seconds(pl.col("first_response_at") - pl.col("created_at"))
    return frame.with_columns(first_response_seconds=pl.when(measure >= 0).then(measure))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(wide([OFFICE]), wide([OFFICE])), min_size=1, max_size=30))
def test_builders_equal_polars(rows: list[tuple[datetime | None, datetime | None]]) -> None:
    hours = BusinessHours({"office": OFFICE}, {"tickets": "office"})
    frame = tickets(rows)
    ctx = enrich.Context("tickets", {}, frozenset(frame.columns), hours=hours)
    for dv in (TWIN, AGE):
        out = run_duckdb(
            frame, lambda rel, sctx, dv=dv: BUSINESS_BUILDERS[dv.name](rel, dv, sctx), hours
        )
        expected = enrich.BUILDERS[dv.name](frame.lazy(), dv, ctx).collect()
        assert out[dv.name].to_list() == expected[dv.name].to_list(), dv.name


def test_twin_is_null_where_the_measure_is() -> None:
    # Mon 09:30 → Fri 17:30 the week before: a reply before its ticket, the measure is NULL
    # (negative), so the twin is NULL too (not −1,800 s, which with_business_seconds alone gives)
    hours = BusinessHours({"office": OFFICE}, {"tickets": "office"})
    frame = tickets([(local("2026-01-12 09:30"), local("2026-01-09 17:30"))])
    out = run_duckdb(frame, lambda rel, ctx: BUSINESS_BUILDERS[TWIN.name](rel, TWIN, ctx), hours)
    assert out[TWIN.name].to_list() == [None]


def test_no_calendar_leaves_the_relation_unchanged() -> None:
    hours = BusinessHours({"office": OFFICE}, {"tickets": None})
    rel = Relation.table("src", ["id", "start", "end"])
    ctx = SqlContext("tickets", {}, frozenset(rel.columns), (), DUCKDB, hours)
    assert with_business_seconds(rel, "start", "end", "bs", None, ctx) is rel
    assert ctx.lookups == []


def test_an_expression_as_the_end() -> None:
    # COALESCE(end, start + 1 h) on 09:00–12:30 + 13:30–17:00: row 0 Tue 10:00 → 12:00 = 2 h
    # = 7,200 s; row 1 has no end → Tue 10:00 → 11:00 = 3,600 s
    tue = local("2026-01-13 10:00")
    frame = frame_of([(tue, tue + timedelta(hours=2)), (tue, None)])
    hours = BusinessHours({"office": OFFICE}, {"tickets": "office"})
    hour = exp.Interval(this=exp.Literal.string("1"), unit=exp.var("HOUR"))
    end = exp.func("COALESCE", col("end"), exp.Add(this=col("start"), expression=hour))
    out = run_duckdb(
        frame,
        lambda rel, ctx: with_business_seconds(rel, "start", end, "bs", "office", ctx),
        hours,
    )
    assert out["bs"].to_list() == [7200.0, 3600.0]


# --- the lookup table, its size, and the refusal ---------------------------------------------


def test_lookup_table_is_polars_grid_without_sentinels() -> None:
    grid, lookup = lookup_table(QUARTERS)
    assert lookup.broadcast
    assert lookup.frame.columns == ["__bh_row", "__bh_off", "__bh_hi"]
    assert lookup.frame.null_count().sum_horizontal().item() == 0
    assert grid.width == 900 * 10**6  # openings at :15 and :45 → a 15-minute grid
    # 2000-01-01 00:00 CET = 1999-12-31 23:00Z to 2051-01-01 00:00 CET = 2050-12-31 23:00Z:
    # 51 years of 365 days + 13 leap days (2000, 2004, …, 2048) = 18,628 days × 96 quarters
    # = 1,788,288 rows; 3 BIGINT columns = 24 B a row → 42,918,912 bytes (41 MiB), above
    # Spark's 10 MB broadcast threshold (hence the BROADCAST hint)
    assert lookup.frame.height == 1_788_288
    assert lookup.frame.estimated_size() == 42_918_912
    # one year of it (2026, a local year of 365 × 24 UTC hours): 35,040 rows, 840,960 bytes
    one = lookup_table(QUARTERS, YEARS)[1].frame
    assert (one.height, one.estimated_size()) == (35_040, 840_960)
    # openings on whole hours (09:00–18:00): an hourly grid, 18,628 × 24 = 447,072 rows,
    # 10,729,728 bytes; one on half hours (13:30 in `office`): 894,144 rows
    assert lookup_table(LATE)[1].frame.estimated_size() == 447_072 * 24
    assert lookup_table(OFFICE)[1].frame.height == 894_144
    # openings at :15 with long gaps: an hourly grid with `lo` (4 columns, 32 B a row)
    grid, lookup = lookup_table(HOURLY_LO)
    assert (grid.width, grid.needs_lo) == (3600 * 10**6, True)
    assert lookup.frame.columns == ["__bh_row", "__bh_off", "__bh_lo", "__bh_hi"]
    assert lookup.frame.estimated_size() == 447_072 * 32


def test_a_calendar_polars_searches_is_joined_by_range() -> None:
    # openings at 09:01 and 12:01 with a one-minute gap need a 1-minute grid: 51 years ×
    # ~525,960 minutes × 16 B ≈ 429 MB > 64 MiB, so polars searches the sorted stretches
    fine = calendar("fine", {"mon-fri": ["09:01-12:00", "12:01-17:00"]})
    assert lookup_grid(fine) is None
    table, lookup = lookup_table(fine)
    assert not isinstance(table, Grid)
    assert lookup.frame.columns == [
        "__bh_bucket",
        "__bh_start",
        "__bh_until",
        "__bh_off",
        "__bh_hi",
    ]
    # a row per day a search row [start, next start) meets: 18,628 days, plus one for each
    # of the ~2 × 261 × 51 ≈ 26,600 stretch starts that split a day: ~45k rows, under 2 MB
    assert lookup.frame.height < 50_000 and lookup.frame.estimated_size() < 2_000_000
    # Tue 11:59:30 → 12:01:30 = 11:59:30–12:00 30 s + 12:01–12:01:30 30 s = 60 s; Fri 16:59
    # → Mon 09:02 = 60 s + 60 s = 120 s; a NULL, and 1999 (outside), give NULL
    rows = [
        (local("2026-01-13 11:59:30"), local("2026-01-13 12:01:30")),
        (local("2026-01-16 16:59"), local("2026-01-19 09:02")),
        (None, local("2026-01-19 09:02")),
        (datetime(1999, 1, 1, tzinfo=UTC), local("2026-01-19 09:02")),
    ]
    assert sql_seconds(fine, rows) == [60.0, 120.0, None, None] == polars_seconds(fine, rows)


def test_lookup_names_differ_by_definition() -> None:
    other = calendar("office", {"mon-fri": "08:00-16:00"})  # same name, other hours
    assert lookup_table(OFFICE)[1].name != lookup_table(other)[1].name
    assert lookup_table(OFFICE)[1].name == lookup_table(OFFICE)[1].name
    assert lookup_table(OFFICE, YEARS)[1].name != lookup_table(OFFICE)[1].name


def test_the_dates_of_the_docstring() -> None:
    assert date(2026, 1, 9).weekday() == 4 and date(2026, 5, 1).weekday() == 4  # Fridays


# --- end to end: a report in business hours on DuckDB equals the polars report ----------------

BUSINESS_CONFIG = """
version: 1
timezone: Europe/Berlin
calendars:
  office:
    timezone: Europe/Berlin
    hours: {{mon-fri: ["09:00-12:30", "13:30-17:00"]}}
    holidays: DE-BE
  late: {{timezone: Europe/Berlin, hours: {{mon-fri: "08:15-19:45", sat: "10:00-14:00"}}}}
  fine: {{timezone: Europe/Berlin, hours: {{mon-fri: ["09:01-12:00", "12:01-17:00"]}}}}
  nights: {{timezone: Europe/Berlin, hours: {{daily: "22:00-06:00"}}}}
calendar: office
sources:
  tickets:
    path: {data}/tickets.csv
    columns: {{agent: assignee}}
    calendar:
      by: team
      map: {{Billing: late, Onboarding: fine, "Tech L2": nights}}
      default: office
  calls:
    path: {data}/calls.parquet
    calendar: late
kpis:
  - {{id: frt_b, kpi: first_response_time, hours: business}}
  - {{id: frt_b_mean, kpi: first_response_time, stat: mean, hours: business}}
  - {{id: frt_b_p90, kpi: first_response_time, stat: p90, hours: business}}
  - {{id: res_b, kpi: resolution_time, hours: business}}
  - {{id: sla_b, kpi: sla_attainment, hours: business}}
  - {{id: asa_b, kpi: average_speed_of_answer, hours: business}}
"""


@pytest.mark.parametrize(
    "cut",
    [{}, {"by": ["team"], "grain": "week", "date_from": "2026-03-02", "date_to": "2026-04-12"}],
    ids=["totals", "team-week"],
)
def test_business_hours_report_on_duckdb_equals_polars(tmp_path: Path, cut: dict[str, Any]) -> None:
    # four calendars by team (a grid with and without `lo`, the searched one, overnight
    # shifts) and one for the calls, over the DST change of 2026-03-29
    from cscli import api
    from tests.test_engine_parity import assert_equal_reports

    config = tmp_path / "cscli.yaml"
    config.write_text(BUSINESS_CONFIG.format(data=ROOT / "sample_data"), encoding="utf-8")
    polars_result = api.report(config, **cut)
    duck_result = api.report(config, engine="duckdb", **cut)
    assert all(s.available for s in duck_result.kpis), [s.reason for s in duck_result.kpis]
    assert_equal_reports(polars_result, duck_result)
