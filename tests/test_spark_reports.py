"""Fixture reports on Spark local mode against polars (the reference engine): every value, n,
open share, previous value and data-quality finding of the report's JSON document equal —
exactly, except float means (within 1e-12 relative: the summation order differs).

Marked `spark` (`pytest -m spark`, `.ci/spark`): one Spark session for the whole pytest session
(`spark_runner`, shared with tests/test_spark.py); skipped, with the reason, without pyspark or
Java. About 1–2 minutes on 2 cores after the session start."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cscli import api
from cscli.config.load import load_config
from cscli.period import Grain
from cscli.render.jsondoc import report_document
from tests.test_engine_parity import _aged_tickets

from .conftest import ROOT

pytestmark = pytest.mark.spark

SAMPLE = ROOT / "sample_data"

#: KPIs whose value is a float mean (summed in another order by Spark: ≤ 1e-12 relative)
MEANS = {"average_handle_time", "average_speed_of_answer", "ces", "frt_mean", "frt_business",
         "replies_per_ticket", "res_business_mean"}  # fmt: skip

CONFIG = f"""
timezone: Europe/Berlin
calendars:
  office:
    timezone: Europe/Berlin
    hours: {{mon-fri: ["09:00-12:30", "13:30-17:00"], sat: "10:00-14:00"}}
calendar: office
sources:
  tickets:
    path: {SAMPLE / "tickets.csv"}
    columns: {{agent: assignee}}
  calls: {{path: {SAMPLE / "calls.parquet"}}}
  surveys: {{path: {SAMPLE / "surveys.csv"}, timezone: Europe/Berlin}}
  customers: {{path: {SAMPLE / "customers.csv"}}}
kpis:
  - ticket_volume
  - first_response_time
  - {{id: frt_mean, kpi: first_response_time, stat: mean}}
  - {{id: frt_business, kpi: first_response_time, stat: mean, hours: business}}
  - {{id: res_business_p90, kpi: resolution_time, stat: p90, hours: business}}
  - {{id: sla_business, kpi: sla_attainment, hours: business,
      params: {{targets: {{urgent: 1h, high: 4h, normal: 8h, low: 24h}}}}}}
  - backlog
  - {{id: replies_per_ticket, source: tickets, sql: "avg(agent_replies)", unit: count}}
  - {{id: long_share, source: tickets, type: ratio,
      numerator: "resolution_seconds > 86400.0", denominator: "resolved_at IS NOT NULL"}}
  - {{id: chat_median_frt, source: tickets,
      sql: "quantile_cont(CASE WHEN channel = 'chat' THEN first_response_seconds END, 0.5)"}}
  - channel_switch_rate
  - average_handle_time
  - service_level
  - csat
  - nps
"""


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark-reports") / "cscli.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def on_spark(spark_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--engine spark` reports run on the session's one SparkSession (not a new one each)."""
    from cscli.engine.sql import spark

    class Shared(spark.SparkRunner):
        def __init__(self, settings: object | None = None) -> None:
            super().__init__(settings, session=spark_runner.session)

    monkeypatch.setattr(spark, "SparkRunner", Shared)


def compare(polars: Any, other: Any, path: str = "", kpi: str | None = None) -> list[str]:
    """Where two JSON documents differ (floats of MEANS: relative 1e-12, the rest exact)."""
    out: list[str] = []
    if isinstance(polars, dict):
        if set(polars) - {"engine", "generated_at"} != set(other) - {"engine", "generated_at"}:
            return [f"{path}: keys {sorted(polars)} != {sorted(other)}"]
        for key, value in polars.items():
            if key in ("engine", "generated_at"):
                continue
            inner = key if isinstance(value, dict) and path.endswith("kpis") else kpi
            out += compare(value, other[key], f"{path}/{key}", inner)
    elif isinstance(polars, list):
        if len(polars) != len(other):
            return [f"{path}: {len(polars)} items != {len(other)}"]
        for i, (a, b) in enumerate(zip(polars, other, strict=True)):
            out += compare(a, b, f"{path}[{i}]", kpi)
    elif isinstance(polars, float) and isinstance(other, float) and kpi in MEANS:
        if not math.isclose(polars, other, rel_tol=1e-12, abs_tol=0.0):
            out.append(f"{path}: {polars!r} != {other!r} (beyond 1e-12)")
    elif polars != other or type(polars) is not type(other):
        out.append(f"{path}: {polars!r} != {other!r}")
    return out


Run = Callable[..., dict[str, Any]]


def both(
    config: Path | None, **options: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The report's JSON document on polars and on Spark, and the KPIs Spark refused (id →
    reason) left out of both: a KPI the SQL engines cannot compute exactly is reported
    unavailable with its reason, never approximated (derivations not yet ported to SQL)."""
    kw: dict[str, Any] = {"demo": True} if config is None else {"config": config}
    reference = report_document(api.report(**kw, **options))
    spark = report_document(api.report(**kw, **options, engine="spark"))
    available = {k["id"] for k in reference["kpis"] if "unavailable" not in k}
    refused = {k["id"]: k["unavailable"] for k in spark["kpis"] if "unavailable" in k}
    refused = {k: why for k, why in refused.items() if k in available}
    assert all("spark engine" in why for why in refused.values()), refused
    for doc in (reference, spark):
        doc["kpis"] = [k for k in doc["kpis"] if k["id"] not in refused]
        for part in [doc["totals"], *doc["rows"], *doc.get("trend", [])]:
            for kpi in refused:
                part.get("kpis", {}).pop(kpi, None)
    return reference, spark, refused


def test_demo_totals_equal_polars(on_spark: None) -> None:
    # the 17 KPIs of the demo: counts, ratios, medians, p90, means, the backlog stock,
    # SLA attainment with the open period's age, FCR, calls and surveys
    polars, spark, refused = both(None)
    assert refused == {}
    assert spark["engine"] == "spark 4.3.0"
    assert compare(polars, spark) == []
    assert polars["totals"]["kpis"]["ticket_volume"] == {"value": 19998, "n": 19998}
    assert len(polars["data_quality"]) == len(spark["data_quality"]) > 0


def test_demo_by_channel_and_week_with_trend_equal_polars(on_spark: None) -> None:
    # grouped cells, ISO weeks in Berlin (both DST changes inside), the backlog by bucket
    polars, spark, refused = both(
        None,
        by=["channel"],
        grain=Grain("week"),
        kpis=["ticket_volume", "first_response_time", "frt_p90", "backlog", "csat", "nps"],
        trend=True,
    )
    assert compare(polars, spark) == []
    assert len(polars["rows"]) > 50  # channels × 26 weeks
    assert refused == {}  # csat and nps too: by the ticket's channel (the survey link)


def test_user_sql_and_contacts_equal_polars(on_spark: None, config_path: Path) -> None:
    # 15 March – 14 April: the spring-forward day inside, by channel
    polars, spark, refused = both(
        config_path,
        by=["channel"],
        date_from="2026-03-15",
        date_to="2026-04-14",
        kpis=["replies_per_ticket", "long_share", "chat_median_frt", "channel_switch_rate"],
    )
    assert refused == {}
    assert compare(polars, spark) == []


def test_business_hours_equal_polars(on_spark: None, config_path: Path) -> None:
    # the calendar's lookup grid shipped to Spark and broadcast-joined
    polars, spark, refused = both(
        config_path,
        date_from="2026-03-15",
        date_to="2026-04-14",
        kpis=["frt_business", "sla_business"],
    )
    assert refused == {}
    assert compare(polars, spark) == []
    assert spark["totals"]["kpis"]["frt_business"]["n"] > 0


def test_previous_period_compare_equal_polars(on_spark: None, config_path: Path) -> None:
    polars, spark, refused = both(
        config_path,
        date_from="2026-05-01",
        date_to="2026-05-31",
        compare=True,
        kpis=["ticket_volume", "frt_mean", "replies_per_ticket", "backlog"],
    )
    assert compare(polars, spark) == []
    assert polars["compare"] is not None and refused == {}


def test_spark_engine_is_named_in_the_config(
    spark_runner: Any, on_spark: None, tmp_path: Path
) -> None:
    # `engine: {name: spark, master: local[2], conf: …}` in the file, no --engine
    text = (
        CONFIG
        + "engine: {name: spark, master: 'local[2]', conf: {spark.sql.shuffle.partitions: 2}}\n"
    )
    path = tmp_path / "cscli.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert config.engine.name == "spark" and config.engine.master == "local[2]"
    from cscli.engine.sql.spark import SparkSettings

    settings = SparkSettings.of(config.engine)
    conf = settings.session_conf()
    assert conf["spark.sql.shuffle.partitions"] == "2"  # the config's, over the local default 4
    assert conf["spark.sql.session.timeZone"] == "UTC"
    doc = report_document(api.report(path, kpis=["ticket_volume", "long_share"]))
    assert doc["engine"] == "spark 4.3.0"
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 19998, "n": 19998}


TICKET_KPIS = ["ticket_volume", "first_response_time", "backlog", "resolution_rate"]


def test_catalog_table_source_equals_polars_on_the_usable_rows(
    spark_runner: Any, on_spark: None, tmp_path: Path
) -> None:
    # `sources.tickets: {table: cscli_wh.tickets}`: a warehouse table with the canonical
    # columns (no _usable/_file/_row), made of the usable records of the ingested sample; the
    # polars engine reads the ingested folder (which leaves the unusable records out itself)
    import polars as pl

    from cscli.engine.polars.ingest import ingest

    lake = tmp_path / "lake"
    ingest(load_config(api.demo_config_path()), ["tickets"], lake)
    files = sorted(str(p) for p in (lake / "tickets").glob("month=*/*.parquet"))
    usable = pl.read_parquet(files).filter(pl.col("_usable")).drop("_usable", "_file", "_row")
    table_dir = tmp_path / "warehouse" / "tickets"
    table_dir.mkdir(parents=True)
    usable.write_parquet(table_dir / "part-0.parquet")
    session = spark_runner.session
    session.sql(f"CREATE DATABASE IF NOT EXISTS cscli_wh LOCATION '{tmp_path / 'warehouse'}'")
    session.sql(f"CREATE TABLE cscli_wh.tickets USING parquet LOCATION '{table_dir}'")
    try:
        head = "timezone: Europe/Berlin\nsources:\n"
        kpis = "kpis: [" + ", ".join(TICKET_KPIS) + "]\n"
        on_lake = tmp_path / "lake.yaml"
        on_lake.write_text(
            head + f"  tickets: {{path: {lake / 'tickets'}, format: canonical}}\n" + kpis,
            encoding="utf-8",
        )
        on_table = tmp_path / "table.yaml"
        on_table.write_text(head + "  tickets: {table: cscli_wh.tickets}\n" + kpis, "utf-8")
        # the last: a period past the data's end, which the report then names (data_end)
        late = {"date_from": "2026-01-01", "date_to": "2027-12-31"}
        for options in ({}, {"by": ["channel"], "grain": Grain("week")}, late):
            polars = report_document(api.report(on_lake, **options))
            spark = report_document(api.report(on_table, **options, engine="spark"))
            assert spark["engine"].startswith("spark")
            for part in ("kpis", "totals", "rows", "data_end"):
                assert compare(polars[part], spark[part]) == [], (part, options)
            if options is not late:
                assert polars["totals"]["kpis"]["ticket_volume"]["value"] == usable.height
            # the table's records are all usable: no findings of its own
            assert [f for f in spark["data_quality"] if f["source"] == "tickets"] == []
        assert polars["data_end"] != {}  # the late period: compared, not vacuous
    finally:
        session.sql("DROP TABLE IF EXISTS cscli_wh.tickets")
        session.sql("DROP DATABASE IF EXISTS cscli_wh CASCADE")


def test_catalog_table_records_missing_a_required_value_are_counted(
    spark_runner: Any, on_spark: None, tmp_path: Path
) -> None:
    import polars as pl

    from cscli.errors import InputError

    utc = pl.Datetime("us", "UTC")
    frame = pl.DataFrame(
        {
            "ticket_id": ["a", "b", "c", None],
            "created_at": [
                "2026-03-02T10:00:00",
                None,
                "2026-03-03T09:00:00",
                "2026-03-04T08:00:00",
            ],
            "resolved_at": ["2026-03-02T12:00:00", "2026-03-09T12:00:00", None, None],
        }
    ).with_columns(
        pl.col("created_at", "resolved_at").str.to_datetime().dt.replace_time_zone("UTC")
    )
    assert frame.schema["created_at"] == utc
    table_dir = tmp_path / "wh" / "t"
    table_dir.mkdir(parents=True)
    frame.write_parquet(table_dir / "part-0.parquet")
    session = spark_runner.session
    session.sql(f"CREATE DATABASE IF NOT EXISTS cscli_wh2 LOCATION '{tmp_path / 'wh'}'")
    session.sql(f"CREATE TABLE cscli_wh2.t USING parquet LOCATION '{table_dir}'")
    session.sql("CREATE TABLE cscli_wh2.no_id USING parquet AS SELECT created_at FROM cscli_wh2.t")
    try:
        path = tmp_path / "c.yaml"
        path.write_text(
            "timezone: UTC\nsources:\n  tickets: {table: cscli_wh2.t}\nkpis: [ticket_volume]\n",
            encoding="utf-8",
        )
        march = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
        doc = report_document(api.report(path, engine="spark", **march))
        # usable: a and c (b has no created_at, the fourth no ticket_id) → 2 tickets
        assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 2, "n": 2}
        found = {(f["issue"], f["rows"]) for f in doc["data_quality"]}
        assert found == {("ticket_id: missing", 1), ("created_at: missing", 1)}
        # the export time: the newest stamp of a usable record (c's created_at; b's
        # resolved_at, later, is not usable) → 2026-03-03
        assert doc["data_end"] == {"tickets": "2026-03-03"}
        path.write_text(
            "timezone: UTC\nsources:\n  tickets: {table: cscli_wh2.no_id}\n", encoding="utf-8"
        )
        with pytest.raises(InputError, match="has no column ticket_id"):
            api.report(path, engine="spark")
    finally:
        session.sql("DROP DATABASE IF EXISTS cscli_wh2 CASCADE")


@pytest.mark.parametrize(
    "cut",
    [{}, {"grain": "day", "by": ["channel"], "date_from": "2026-03-05", "date_to": "2026-03-12"}],
    ids=["no-period-end", "day-by-channel"],
)
def test_backlog_by_age_equal_polars(on_spark: None, tmp_path: Path, cut: dict[str, Any]) -> None:
    # the age bands (tests/test_engine_parity.py's fixture: random tickets + band edges):
    # without a period end at the newest stamp, and per day as each record's time in the band
    polars, spark, refused = both(_aged_tickets(tmp_path), kpis=["backlog_age", "backlog"], **cut)
    assert refused == {}
    assert compare(polars, spark) == []
    assert polars["totals"]["kpis"]["backlog_age_ge_7d"]["value"] > 0
