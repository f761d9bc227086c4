"""The DuckDB engine against the polars engine (the reference): the same report, cell by cell.

Every config under `configs/` whose data is here runs on both engines by several cuts and
grains, with a window and `--compare`; the `ReportResult`s must be equal: values, n, previous
values and open shares (counts, ratios, NPS and medians exact; DuckDB's `quantile_cont` may
round the last bit: 1e-15 relative; float means 1e-12 relative, the summation order), the same
unavailable KPIs apart from the documented engine-only refusals ("unavailable on the duckdb
engine: …"), the same data-quality findings. A second opinion in a few tests: DuckDB SQL
written by hand over the sample CSV.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from cscli import api
from cscli.availability import Capability, engine_unavailable, kpi_status
from cscli.cli import app
from cscli.engine.polars.sources import load_sources
from cscli.engine.sql.engine import SUPPORTED_KINDS as SQL_KINDS
from cscli.errors import ConfigError, UsageError
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import SqlAggregate, Stat, expand, instantiate
from cscli.results import ReportResult

BANDS = ("backlog_age_lt_1d", "backlog_age_1d_3d", "backlog_age_3d_7d", "backlog_age_ge_7d")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "configs" / "sample.yaml"
EXAMPLES = ROOT / "configs" / "examples"
REFUSED = "unavailable on the duckdb engine: "


def _tolerance(result: ReportResult, column: str) -> float:
    """The relative difference allowed in a column: 0 for counts, ratios, NPS and n; 1e-15
    for a DuckDB quantile; 1e-12 for a mean of floats (the summation order)."""
    for status in result.kpis:
        k = status.kpi
        if column != k.id and not column.startswith(k.id + "__"):
            continue
        if column.endswith(("__n", "__open")):
            return 0.0
        if isinstance(k.kind, Stat):
            return 1e-12 if k.kind.stat == "mean" else 1e-15
        if isinstance(k.kind, SqlAggregate):
            return 1e-12
        return 0.0
    return 0.0


def _same(x: Any, y: Any, tol: float) -> bool:
    if x == y:
        return True
    if isinstance(x, float) and isinstance(y, float):
        if math.isnan(x) and math.isnan(y):
            return True
        return abs(x - y) <= tol * max(abs(x), abs(y))
    return False


def _refused(polars: ReportResult, duck: ReportResult) -> set[str]:
    """The KPIs only the polars engine computed (the documented refusals)."""
    theirs = {s.kpi.id: s.reason for s in duck.kpis}
    out = set()
    for s in polars.kpis:
        why = theirs[s.kpi.id]
        if s.available and why is not None:
            assert why.startswith(REFUSED), (s.kpi.id, why)
            out.add(s.kpi.id)
        else:
            assert s.reason == why, (s.kpi.id, s.reason, why)
    return out


def _without(frame: pl.DataFrame, ids: set[str]) -> pl.DataFrame:
    return frame.select(
        c for c in frame.columns if not any(c == i or c.startswith(i + "__") for i in ids)
    )


def assert_equal_reports(polars: ReportResult, duck: ReportResult) -> None:
    """The two results are equal cell by cell (see the module's tolerances)."""
    refused = _refused(polars, duck)
    assert duck.engine.startswith("duckdb ")
    assert polars.engine == ""
    for name in ("table", "totals"):
        x = _without(getattr(polars, name), refused)
        y = _without(getattr(duck, name), refused)
        assert x.schema == y.schema, name
        keys = [c for c in (*polars.by, "period") if c in x.columns]
        if refused and keys and x.height != y.height:
            # groups that only the refused KPIs had: nothing else counted in them
            extra = x.join(y.select(keys), on=keys, how="anti", nulls_equal=True)
            ns = [c for c in extra.columns if c.endswith("__n")]
            assert all(v in (0, None) for c in ns for v in extra[c].to_list()), extra
            x = x.join(extra.select(keys), on=keys, how="anti", nulls_equal=True)
        assert x.shape == y.shape, name
        for c in x.columns:
            tol = _tolerance(polars, c)
            for i, (u, v) in enumerate(zip(x[c].to_list(), y[c].to_list(), strict=True)):
                assert _same(u, v, tol), (name, c, i, u, v)
    if polars.trend is not None or duck.trend is not None:
        assert polars.trend is not None and duck.trend is not None
        assert _without(polars.trend, refused).equals(_without(duck.trend, refused))

    def mentions(effect: str) -> bool:
        return effect.startswith("excluded from") and any(i in effect for i in refused)

    assert [q for q in polars.data_quality if not mentions(q.effect)] == [
        q for q in duck.data_quality if not mentions(q.effect)
    ]
    assert polars.sources == duck.sources
    assert polars.data_end == duck.data_end


def both(config: Path, **kw: Any) -> tuple[ReportResult, ReportResult]:
    return api.report(config, **kw), api.report(config, engine="duckdb", **kw)


CUTS: list[dict[str, Any]] = [
    {},
    {"by": ["channel"]},
    {"by": ["agent"], "grain": "day"},
    {"by": ["team"], "grain": "week", "date_from": "2026-02-01", "date_to": "2026-03-31"},
    {"grain": "month", "trend": True, "by": ["channel"]},
    {"grain": "15m", "by": ["queue"], "date_from": "2026-03-02", "date_to": "2026-03-02"},
    {"by": ["channel"], "grain": "hour", "date_from": "2026-03-28", "date_to": "2026-03-30"},
    {"by": ["channel"], "compare": True, "date_from": "2026-03-01", "date_to": "2026-03-31"},
    {
        "by": ["team"],
        "grain": "week",
        "compare": True,
        "date_from": "2026-03-02",
        "date_to": "2026-03-29",
    },
    {"by": ["hour_of_day"], "date_from": "2026-03-01", "date_to": "2026-03-31"},
    {
        "by": ["weekday", "channel"],
        "compare": "yoy",
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
    },
]


@pytest.mark.parametrize(
    "cut", CUTS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "none"
)
def test_sample_config_equal_on_duckdb(cut: dict[str, Any]) -> None:
    assert_equal_reports(*both(SAMPLE, **cut))


def test_every_catalogue_kpi_of_the_sample_equal_on_duckdb() -> None:
    # every built-in KPI the sample's sources can compute (stocks, contacts, distinct ratios…)
    ids = [
        k
        for k, d in CATALOG.items()
        if d.source in {"tickets", "calls", "surveys", "customers", "contacts"}
    ]
    for cut in (
        {"grain": "week"},
        {"by": ["channel"], "date_from": "2026-03-01", "date_to": "2026-03-31", "compare": True},
    ):
        assert_equal_reports(*both(SAMPLE, kpis=ids, **cut))


@pytest.mark.parametrize(
    "name", ["anonymous_bank.yaml", "helpdesk_eventlog.yaml", "twitter_support.yaml"]
)
def test_example_configs_equal_on_duckdb(name: str) -> None:
    config = EXAMPLES / name
    if not (ROOT / ".." / "shared" / "data").is_dir():
        pytest.skip("the real datasets (../shared/data) are not here")
    assert_equal_reports(*both(config))
    assert_equal_reports(*both(config, grain="week"))


# --- a second opinion: DuckDB SQL written by hand over the sample CSV -------------------------


def test_hand_written_sql_agrees_on_ticket_volume_and_median_first_response() -> None:
    lo, hi = datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC)
    result = api.report(SAMPLE, engine="duckdb", date_from="2026-03-01", date_to="2026-03-31")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    tickets = str(ROOT / "sample_data" / "tickets.csv")
    # March in Berlin: [Feb 28 23:00 UTC, Mar 31 22:00 UTC) (summer time from Mar 29)
    volume, median = con.execute(
        f"""
        WITH t AS (
            SELECT TRY_CAST(created_at AS TIMESTAMPTZ) AS c,
                   TRY_CAST(first_response_at AS TIMESTAMPTZ) AS f
            FROM read_csv('{tickets}', all_varchar = true)
        )
        SELECT count(*),
               quantile_cont(CASE WHEN f >= c THEN (epoch_us(f) - epoch_us(c)) * 1e-6 END, 0.5)
        FROM t WHERE c >= ? AND c < ?
        """,
        [lo, hi],
    ).fetchone()
    total = result.total.values
    assert total["ticket_volume"].value == volume
    assert total["first_response_time"].value == pytest.approx(median, rel=1e-15)


def test_hand_written_sql_agrees_on_average_handle_time() -> None:
    result = api.report(SAMPLE, engine="duckdb", by=["channel"])
    calls = str(ROOT / "sample_data" / "calls.parquet")
    rows = (
        duckdb.connect()
        .execute(
            f"""
        SELECT avg(talk_seconds + coalesce(hold_seconds, 0) + coalesce(wrap_seconds, 0))
        FROM read_parquet('{calls}')
        WHERE answered_at IS NOT NULL AND queued_at IS NOT NULL
          AND NOT coalesce(talk_seconds < 0 OR hold_seconds < 0 OR wrap_seconds < 0, false)
        """
        )
        .fetchone()
    )
    assert rows is not None
    assert result.total.values["average_handle_time"].value == pytest.approx(rows[0], rel=1e-12)


# --- choosing the engine ----------------------------------------------------------------------


def test_cli_report_on_duckdb_records_the_engine_and_equals_polars() -> None:
    runner = CliRunner()
    duck = runner.invoke(app, ["report", "--demo", "--engine", "duckdb", "-f", "json"])
    ref = runner.invoke(app, ["report", "--demo", "-f", "json"])
    assert duck.exit_code == 0, duck.output
    doc, ref_doc = json.loads(duck.stdout), json.loads(ref.stdout)
    assert doc["engine"] == f"duckdb {duckdb.__version__}"
    assert "engine" not in ref_doc
    assert doc["totals"]["kpis"]["ticket_volume"] == ref_doc["totals"]["kpis"]["ticket_volume"]


def test_engine_from_config_env_and_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SAMPLE.read_text().replace("../sample_data/", f"{ROOT}/sample_data/")
    cfg = tmp_path / "cscli.yaml"
    cfg.write_text(text + "\nengine: duckdb\n")
    assert api.open_config(cfg).engine.name == "duckdb"
    assert api.open_config(cfg, engine="polars").engine.name == "polars"
    cfg.write_text(
        text
        + "\nengine: {name: spark, master: 'local[2]', conf: {spark.sql.shuffle.partitions: 4}}\n"
    )
    spark = api.open_config(cfg).engine
    assert (spark.name, spark.master, spark.conf) == (
        "spark",
        "local[2]",
        {"spark.sql.shuffle.partitions": 4},
    )
    monkeypatch.setenv("CSCLI_ENGINE", "duckdb")
    assert api.open_config(cfg).engine.name == "duckdb"
    monkeypatch.setenv("CSCLI_ENGINE", "oracle")
    with pytest.raises(UsageError, match="unknown engine 'oracle'"):
        api.open_config(cfg)


def test_unknown_engine_option_is_a_usage_error() -> None:
    out = CliRunner().invoke(app, ["report", "--demo", "--engine", "oracle"])
    assert out.exit_code == 2
    assert "unknown engine 'oracle'" in out.output
    assert "Traceback" not in out.output


def test_user_sql_the_engine_cannot_run_exactly_is_refused_at_load(tmp_path: Path) -> None:
    text = SAMPLE.read_text().replace("../sample_data/", f"{ROOT}/sample_data/")
    text = text.replace(
        "  - ces\n",
        "  - ces\n  - {id: p50_approx, source: tickets,"
        " sql: 'approx_quantile(resolution_seconds, 0.5)'}\n",
    )
    cfg = tmp_path / "cscli.yaml"
    cfg.write_text(text)
    api.open_config(cfg)  # polars runs it
    with pytest.raises(ConfigError, match="p50_approx"):
        api.open_config(cfg, engine="duckdb")
    cfg.write_text(text + "\nengine: duckdb\n")
    out = CliRunner().invoke(app, ["validate", "-c", str(cfg)])
    assert out.exit_code == 2
    assert "p50_approx" in out.output and "duckdb" in out.output


def test_capability_refuses_what_the_engine_lacks() -> None:
    config = api.open_config(SAMPLE)
    sources = load_sources(config, {"tickets", "calls", "surveys"})
    csat = config.kpi("csat")
    none = Capability("duckdb", frozenset(), frozenset({"Ratio", "Stat", "NetScore", "Count"}))
    assert kpi_status(csat, sources, ["agent"], capability=none).reason == (
        "unavailable on the duckdb engine: rated_contact is computed by the polars engine only"
    )
    assert kpi_status(csat, sources, [], capability=none).available
    backlog = config.kpi("backlog")
    assert kpi_status(backlog, sources, [], capability=none).reason == (
        "unavailable on the duckdb engine: the Stock kind is computed by the polars engine only"
    )
    assert kpi_status(backlog, sources, []).available
    band = expand(instantiate(CATALOG["backlog_age"]))[-1]  # backlog_age_ge_7d
    stocks = Capability("duckdb", None, frozenset({"Stock"}))
    assert engine_unavailable(band, [], stocks) == (
        "unavailable on the duckdb engine: a level by age band (age_from/age_below) is computed "
        "by the polars engine only"
    )
    assert engine_unavailable(band, [], Capability("duckdb", None, frozenset(SQL_KINDS))) is None


def test_erlang_service_level_without_agents_is_refused_on_sql_engines() -> None:
    # the agents staffed of an agent_states source are a StateTime KPI: polars only
    kpi = instantiate(CATALOG["erlang_c_service_level"])
    sql = Capability("duckdb", None, frozenset({"Erlang", "Count"}))
    assert engine_unavailable(kpi, [], sql) == (
        "unavailable on the duckdb engine: the agents staffed come from agent_states time "
        "(StateTime), which the polars engine only computes; set agents: in its kpis: entry"
    )
    assert engine_unavailable(kpi, [], None) is None
    occupancy = instantiate(CATALOG["occupancy"])
    assert engine_unavailable(occupancy, [], sql) == (
        "unavailable on the duckdb engine: the StateTime kind is computed by the polars engine only"
    )


def test_duckdb_on_ingested_canonical_parquet_equals_polars_on_the_exports(tmp_path: Path) -> None:
    from cscli.engine.polars.ingest import ingest

    config = api.open_config(SAMPLE)
    ingest(config, [], tmp_path / "lake")
    lines = ["version: 1", "timezone: Europe/Berlin", "sources:"]
    for name in config.sources:
        lines.append(f"  {name}: {{path: {tmp_path / 'lake' / name}, format: canonical}}")
    body = SAMPLE.read_text().split("kpis:", 1)[1]
    lake = tmp_path / "lake.yaml"
    lake.write_text("\n".join(lines) + "\nkpis:" + body)
    cut = {"by": ["channel"], "grain": "week", "date_from": "2026-02-01", "date_to": "2026-03-31"}
    polars = api.report(SAMPLE, **cut)
    duck = api.report(lake, engine="duckdb", **cut)
    duck = dataclasses.replace(duck, sources=polars.sources)  # file lists differ: CSV vs Parquet
    assert_equal_reports(polars, duck)


def test_checks_and_breach_records_equal_on_duckdb() -> None:
    out = []
    for engine in ("polars", "duckdb"):
        cfg = api.open_config(SAMPLE, engine=engine)
        result = api.check(cfg, date_from="2026-03-01", date_to="2026-03-31")
        statuses = [(o.check.name, o.group_label, o.status, o.value) for o in result.outcomes]
        out.append((statuses, api.breaches(cfg, result, strict=True)))
    (ref_status, ref), (duck_status, duck) = out
    assert ref_status == duck_status
    assert ref.height > 0  # warned SLA attainment records in March
    assert ref.schema == duck.schema
    assert ref.drop("value").equals(duck.drop("value"))
    for u, v in zip(ref["value"].to_list(), duck["value"].to_list(), strict=True):
        assert _same(u, v, 0.0), (u, v)


def test_cli_check_on_duckdb() -> None:
    runner = CliRunner()
    duck = runner.invoke(app, ["check", "--demo", "--engine", "duckdb", "-f", "json"])
    ref = runner.invoke(app, ["check", "--demo", "-f", "json"])
    assert duck.exit_code == ref.exit_code
    doc, ref_doc = json.loads(duck.stdout), json.loads(ref.stdout)
    assert doc["status"] == ref_doc["status"]
    assert doc["checks"] == ref_doc["checks"]


TAGGED = """\
ticket_id,created_at,resolved_at,status,channel,tags
t1,2026-03-02 09:00:00,2026-03-02 12:00:00,solved,email,"Billing, refund"
t2,2026-03-03 09:00:00,,open,email,billing
t3,2026-03-04 09:00:00,2026-03-05 09:00:00,solved,chat,
t4,2026-03-10 09:00:00,,open,chat,"vip,VIP , vip"
"""


def test_tags_are_refused_on_duckdb_and_the_rest_equal(tmp_path: Path) -> None:
    # by hand (tests/test_tags.py): 4 tickets in March, 2 resolved (3h, 24h: median 13.5h),
    # backlog at the end 2 (t2, t4); at the end (04-01 00:00) t2 is aged 28d 15h and t4
    # 21d 15h: both ≥ 7d, no other band has any
    (tmp_path / "tickets.csv").write_text(TAGGED, encoding="utf-8")
    cfg = tmp_path / "cscli.yaml"
    cfg.write_text("version: 1\ntimezone: UTC\nsources:\n  tickets: {path: tickets.csv}\n")
    window = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    kpis = ["ticket_volume", "backlog", "resolution_time", "backlog_age"]
    polars, duck = both(cfg, kpis=kpis, **window)
    assert_equal_reports(polars, duck)
    assert duck.total.values["ticket_volume"].value == 4
    assert duck.total.values["backlog"].value == 2
    assert duck.total.values["resolution_time"].value == 13.5 * 3600
    assert [duck.total.values[b].value for b in BANDS] == [0, 0, 0, 2]
    polars, duck = both(cfg, kpis=["ticket_volume"], by=["tag"], **window)
    assert polars.kpis[0].available
    assert duck.kpis[0].reason == (
        REFUSED + "--by tag (a record in the group of each of its values) is computed by the "
        "polars engine only"
    )


def _aged_tickets(tmp_path: Path) -> Path:
    """240 random tickets over Feb–Mar 2026 in two channels (30% never resolved, a few
    resolved before they were created), plus tickets aged exactly on the band edges at the
    ends of the periods below: the backlog by age on both engines."""
    rng = random.Random(23)
    lines = ["ticket_id,created_at,resolved_at,status,channel"]
    start, last = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC)
    for i in range(240):
        created = start + timedelta(seconds=rng.randrange(59 * 86400))
        resolved = created + timedelta(seconds=rng.randrange(-3600, 12 * 86400))
        resolved = min(resolved, last)  # the newest stamp (no period end: the ages' instant)
        end = resolved.strftime("%Y-%m-%d %H:%M:%S") if rng.random() < 0.7 else ""
        channel = rng.choice(["email", "chat"])
        lines.append(f"r{i},{created:%Y-%m-%d %H:%M:%S},{end},open,{channel}")
    # on the band edges: aged 1d, 3d, 7d at 03-09 00:00 and at the newest stamp 03-31 12:00
    edges = ["03-08 00", "03-06 00", "03-02 00", "03-30 12", "03-28 12", "03-24 12", "03-31 00"]
    for i, at in enumerate(edges):
        lines.append(f"e{i},2026-{at}:00:00,,open,email")
    (tmp_path / "tickets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = tmp_path / "cscli.yaml"
    cfg.write_text("version: 1\ntimezone: Europe/Paris\nsources:\n  tickets: {path: tickets.csv}\n")
    return cfg


AGED_CUTS: list[dict[str, Any]] = [
    {},
    {"by": ["channel"]},
    {"grain": "day"},
    {"grain": "day", "by": ["channel"], "trend": True},
    {"grain": "week", "date_from": "2026-03-02", "date_to": "2026-03-22"},
    {"grain": "day", "by": ["channel"], "date_from": "2026-03-05", "date_to": "2026-03-12"},
    {"by": ["channel"], "compare": True, "date_from": "2026-03-01", "date_to": "2026-03-31"},
    {
        "grain": "week",
        "by": ["channel"],
        "compare": True,
        "trend": True,
        "date_from": "2026-03-02",
        "date_to": "2026-03-29",
    },
]


@pytest.mark.parametrize(
    "cut", AGED_CUTS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "none"
)
def test_backlog_by_age_equal_on_duckdb(tmp_path: Path, cut: dict[str, Any]) -> None:
    polars, duck = both(_aged_tickets(tmp_path), kpis=["backlog_age", "backlog"], **cut)
    assert not _refused(polars, duck)
    assert {s.kpi.id for s in duck.kpis if s.available} == {*BANDS, "backlog"}
    assert_equal_reports(polars, duck)
    # the bands partition the backlog: their levels sum to it in every row that has one (without
    # a period end, polars' band events also fill the days after the data, up to 7d later,
    # where the plain backlog has no row; DuckDB does the same, checked above)
    for frame in (duck.table, duck.totals):
        if BANDS[0] in frame.columns:
            levels = frame.filter(pl.col("backlog").is_not_null()).select(
                pl.sum_horizontal(BANDS).alias("bands"), "backlog"
            )
            assert levels.height and (levels["bands"] == levels["backlog"]).all()


def test_backlog_by_age_without_a_period_end_agrees_with_hand_written_sql(tmp_path: Path) -> None:
    # no period end: the ages at the newest stamp (03-31 12:00, the resolved cap); the open
    # tickets (no resolved_at) by age in µs against 1d, 3d, 7d, an edge in the band above it
    cfg = _aged_tickets(tmp_path)
    day = 86_400_000_000
    expected = (
        duckdb.connect()
        .execute(
            f"""
        WITH t AS (SELECT * FROM read_csv('{tmp_path / "tickets.csv"}', all_varchar = true)),
        s AS (SELECT CAST(created_at AS TIMESTAMP) AS c, CAST(resolved_at AS TIMESTAMP) AS r
              FROM t),
        a AS (SELECT epoch_us(GREATEST(MAX(c), MAX(r))) AS at FROM s),
        o AS (SELECT a.at - epoch_us(c) AS age FROM s, a WHERE r IS NULL)
        SELECT COUNT(*) FILTER (WHERE age < {day}),
               COUNT(*) FILTER (WHERE age >= {day} AND age < {3 * day}),
               COUNT(*) FILTER (WHERE age >= {3 * day} AND age < {7 * day}),
               COUNT(*) FILTER (WHERE age >= {7 * day}), COUNT(*)
        FROM o
        """
        )
        .fetchone()
    )
    assert expected is not None
    duck = api.report(cfg, kpis=["backlog_age", "backlog"], engine="duckdb")
    got = [duck.total.values[k].value for k in (*BANDS, "backlog")]
    assert got == list(expected)
    assert got[0] >= 1 and got[1] >= 2 and got[2] >= 2  # e6 (12h), e3 (1d), e4 (3d), e5 (7d)
