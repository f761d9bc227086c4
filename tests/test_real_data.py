"""cscli on real public datasets, each read through its own config in configs/examples/.

Every figure cscli reports is recomputed here independently, in DuckDB SQL written from the
dataset's documentation (its SOURCE.md), not from cscli's code: a different engine, a
different reading of the rules (window functions instead of polars group-bys). Where a number
has been published for the dataset (case and event counts), it is asserted too.

The datasets live outside the repository (`../shared/data`, each with a SOURCE.md); without
them these tests skip.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cscli.cli import app

duckdb = pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = ROOT / "configs" / "examples"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not available")

DAY = 86_400.0


def report(config: Path, *args: str) -> dict[str, Any]:
    """`cscli report -c config --format json …` → the JSON document (totals by KPI id)."""
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def totals(doc: dict[str, Any]) -> dict[str, tuple[float | None, int]]:
    return {k: (v["value"], v["n"]) for k, v in doc["totals"]["kpis"].items()}


def one(sql: str) -> dict[str, Any]:
    """The single row of a DuckDB query, by column name."""
    con = duckdb.connect()
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


# --- Anonymous Bank call centre ------------------------------------------------------------

BANK = DATA / "anonymous_bank_callcenter" / "anonymous_bank_february_1999.txt"


def test_anonymous_bank_call_log() -> None:
    doc = report(EXAMPLES / "anonymous_bank.yaml")
    got = totals(doc)
    # Offered: not PHANTOM, and either queued or passed by the VRU straight to an agent.
    # Wait: q_exit − q_start for a queued answered call, 0 for one that never queued; a wait
    # that comes out negative (a queue crossing midnight on one date) is left out, as cscli
    # documents for answered_at < queued_at.
    want = one(
        f"""
        WITH c AS (
          SELECT *,
            strptime('19' || date || ' ' || q_start, '%Y%m%d %H:%M:%S') AS qs,
            strptime('19' || date || ' ' || q_exit, '%Y%m%d %H:%M:%S') AS qe
          FROM read_csv('{BANK}', delim = '\t', header = true, all_varchar = true)
          WHERE outcome <> 'PHANTOM' AND (q_start <> '0:00:00' OR outcome = 'AGENT')
        ), w AS (
          SELECT *, CASE WHEN outcome <> 'AGENT' THEN NULL
                         WHEN q_start = '0:00:00' THEN 0
                         ELSE epoch(qe) - epoch(qs) END AS wait
          FROM c
        )
        SELECT count(*) AS offered,
               count(*) FILTER (WHERE outcome = 'HANG') AS abandoned,
               avg(wait) FILTER (WHERE wait >= 0) AS asa,
               count(*) FILTER (WHERE wait >= 0) AS answered,
               quantile_cont(wait, 0.9) FILTER (WHERE wait >= 0) AS asa_p90,
               count(*) FILTER (WHERE wait BETWEEN 0 AND 20) AS within_20,
               count(*) FILTER (WHERE wait BETWEEN 0 AND 60) AS within_60,
               count(*) FILTER (WHERE wait < 0) AS negative,
               avg(ser_time::DOUBLE) FILTER (WHERE outcome = 'AGENT') AS service_time,
               count(*) FILTER (
                 WHERE regexp_matches(customer_id, '^[0-9](\\.[0-9]+)?[eE]\\+[0-9]+$')
               ) AS excel_ids
        FROM w
        """
    )
    assert want["offered"] == 31_125
    assert got["call_volume"] == (want["offered"], want["offered"])
    assert got["abandonment_rate"] == (
        pytest.approx(want["abandoned"] / want["offered"]),
        want["offered"],
    )
    assert got["average_speed_of_answer"] == (pytest.approx(want["asa"]), want["answered"])
    assert got["asa_p90"] == (pytest.approx(want["asa_p90"]), want["answered"])
    # service level: answered within the threshold / offered, abandons count as misses; an
    # answered call with an unusable (negative) wait leaves the population
    population = want["offered"] - want["negative"]
    assert got["service_level"] == (pytest.approx(want["within_20"] / population), population)
    assert got["sl_60s"][0] == pytest.approx(want["within_60"] / population)
    assert got["average_service_time"][0] == pytest.approx(want["service_time"])
    # the export has caller ids Excel turned into numbers (6.02701E+11): cscli says so
    excel = [q for q in doc["data_quality"] if "scientific notation" in q["issue"]]
    assert excel and excel[0]["rows"] == want["excel_ids"] > 0


# --- ServiceNow incident event log ---------------------------------------------------------

SERVICENOW = DATA / "servicenow_incident_log" / "incident_event_log.csv.gz"


def test_servicenow_incident_event_log() -> None:
    got = totals(report(EXAMPLES / "servicenow_incidents.yaml"))
    # One incident per number. Events in time order, ties in file order; resolved_at = the
    # first event after the incident's last event that is not Resolved/Closed. Other fields
    # are their value at the last event.
    want = one(
        f"""
        WITH e AS (
          SELECT *, row_number() OVER () AS rn,
                 strptime(sys_updated_at, '%d/%m/%Y %H:%M') AS t
          FROM read_csv('{SERVICENOW}', header = true, all_varchar = true)
        ), o AS (
          SELECT *, row_number() OVER (PARTITION BY number ORDER BY t, rn) AS k,
                 incident_state IN ('Resolved', 'Closed') AS done
          FROM e
        ), c AS (
          SELECT number,
                 max(k) FILTER (WHERE NOT done) AS last_open,
                 arg_max(opened_at, k) AS opened_at,
                 arg_max(reopen_count, k)::INT AS reopens,
                 arg_max(reassignment_count, k)::INT AS reassignments,
                 arg_max(made_sla, k) AS made_sla
          FROM o GROUP BY number
        ), r AS (
          SELECT c.*, (SELECT min(o.t) FROM o WHERE o.number = c.number AND o.done
                       AND (c.last_open IS NULL OR o.k > c.last_open)) AS resolved_at
          FROM c
        ), d AS (
          SELECT *, epoch(resolved_at) - epoch(strptime(opened_at, '%d/%m/%Y %H:%M')) AS secs
          FROM r
        )
        SELECT (SELECT count(*) FROM e) AS events,
               count(*) AS incidents,
               count(resolved_at) AS resolved,
               median(secs) FILTER (WHERE secs >= 0) AS median_secs,
               avg(secs) FILTER (WHERE secs >= 0) AS mean_secs,
               quantile_cont(secs, 0.9) FILTER (WHERE secs >= 0) AS p90_secs,
               count(secs) FILTER (WHERE secs >= 0) AS timed,
               count(*) FILTER (WHERE resolved_at IS NOT NULL AND reopens > 0) AS reopened,
               count(*) FILTER (WHERE reassignments > 0) AS rerouted,
               count(*) FILTER (WHERE made_sla = 'true') AS made_sla
        FROM d
        """
    )
    # the UCI data card: "141,712 events (24,918 incidents)"
    assert (want["events"], want["incidents"]) == (141_712, 24_918)
    assert got["ticket_volume"] == (24_918, 24_918)
    assert got["resolution_rate"] == (pytest.approx(want["resolved"] / 24_918), 24_918)
    assert got["resolution_time"] == (pytest.approx(want["median_secs"]), want["timed"])
    assert got["rt_mean"][0] == pytest.approx(want["mean_secs"])
    assert got["rt_p90"][0] == pytest.approx(want["p90_secs"])
    assert got["reopen_rate"] == (
        pytest.approx(want["reopened"] / want["resolved"]),
        want["resolved"],
    )
    assert got["reroute_rate"][0] == pytest.approx(want["rerouted"] / 24_918)
    assert got["made_sla_rate"][0] == pytest.approx(want["made_sla"] / 24_918)


# --- process-mining logs: help desk (Italy) and BPI 2013 (Volvo IT) ------------------------

HELPDESK = DATA / "helpdesk_eventlog" / "helpdesk.csv"
VINST = DATA / "bpi2013_incidents" / "VINST-new.csv.gz"


def _event_log_truth(source: str, case: str, at: str, activity: str, done: str) -> dict[str, Any]:
    """Per case: created = first event, resolved = first event of the final run of `done`
    activities (by time, ties in file order), reopens = moves from `done` to another."""
    return one(
        f"""
        WITH e AS (
          SELECT {case} AS case_id, {at} AS t, {activity} IN ({done}) AS done,
                 row_number() OVER () AS rn
          FROM {source}
        ), o AS (
          SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY t, rn) AS k,
                 lag(done) OVER (PARTITION BY case_id ORDER BY t, rn) AS was_done
          FROM e
        ), c AS (
          SELECT case_id, min(t) AS created, max(t) AS last_event,
                 max(k) FILTER (WHERE NOT done) AS last_open,
                 count(*) FILTER (WHERE was_done AND NOT done) AS reopens
          FROM o GROUP BY case_id
        ), r AS (
          SELECT c.*, (SELECT min(o.t) FROM o WHERE o.case_id = c.case_id AND o.done
                       AND (c.last_open IS NULL OR o.k > c.last_open)) AS resolved
          FROM c
        ), d AS (
          SELECT *, epoch(resolved) - epoch(created) AS secs,
                 epoch(last_event) - epoch(created) AS throughput
          FROM r
        )
        SELECT (SELECT count(*) FROM e) AS events, count(*) AS cases,
               count(resolved) AS resolved,
               median(secs) AS median_secs, avg(secs) AS mean_secs,
               quantile_cont(secs, 0.9) AS p90_secs,
               count(*) FILTER (WHERE resolved IS NOT NULL AND reopens > 0) AS reopened,
               avg(throughput) AS mean_throughput
        FROM d
        """
    )


def test_helpdesk_event_log() -> None:
    got = totals(report(EXAMPLES / "helpdesk_eventlog.yaml"))
    want = _event_log_truth(
        f"read_csv('{HELPDESK}', header = true, all_varchar = true)",
        "CaseID",
        "strptime(CompleteTimestamp, '%Y-%m-%d %H:%M:%S')",
        "ActivityID",
        "'6'",
    )
    # Tax et al. (2017): 3,804 cases, 13,710 events; every case ends with activity 6
    assert (want["events"], want["cases"], want["resolved"]) == (13_710, 3_804, 3_804)
    assert got["ticket_volume"] == (3_804, 3_804)
    assert got["resolution_rate"] == (1.0, 3_804)
    assert got["resolution_time"] == (pytest.approx(want["median_secs"]), 3_804)
    assert got["rt_mean"][0] == pytest.approx(want["mean_secs"])
    assert got["rt_p90"][0] == pytest.approx(want["p90_secs"])
    assert got["reopen_rate"] == (pytest.approx(want["reopened"] / 3_804), 3_804)


def test_bpi2013_incident_log(tmp_path: Path) -> None:
    got = totals(report(EXAMPLES / "bpi2013_vinst.yaml"))
    want = _event_log_truth(
        f"read_csv('{VINST}', header = true, all_varchar = true)",
        '"SR Number"',
        '"Change Date+Time"::TIMESTAMPTZ',
        "Status",
        "'Completed'",
    )
    # the BPI Challenge 2013 record: 7,554 cases, 65,533 events
    assert (want["events"], want["cases"]) == (65_533, 7_554)
    assert got["ticket_volume"] == (7_554, 7_554)
    resolved = want["resolved"]
    assert got["resolution_rate"] == (pytest.approx(resolved / 7_554), 7_554)
    assert got["resolution_time"] == (pytest.approx(want["median_secs"]), resolved)
    assert got["rt_mean"][0] == pytest.approx(want["mean_secs"])
    assert got["rt_p90"][0] == pytest.approx(want["p90_secs"])
    assert got["reopen_rate"] == (pytest.approx(want["reopened"] / resolved), resolved)

    # Published figure: a mean throughput (first to last event) of 12.1 days (SOURCE.md:
    # 12.079). Mapping resolved_at to the last change reproduces it with cscli.
    config = (EXAMPLES / "bpi2013_vinst.yaml").read_text(encoding="utf-8")
    config = config.replace(
        "      status: Sub Status\n",
        '      status: Sub Status\n      resolved_at: "Change Date+Time"\n',
    ).replace("../../../shared", str(DATA.parent))
    variant = tmp_path / "bpi_throughput.yaml"
    variant.write_text(config, encoding="utf-8")
    throughput = totals(report(variant))["rt_mean"][0]
    assert throughput == pytest.approx(want["mean_throughput"])
    assert throughput is not None and round(throughput / DAY, 3) == 12.079


CONFIGS = ("anonymous_bank", "servicenow_incidents", "helpdesk_eventlog", "bpi2013_vinst")


def test_configs_resolve_the_shared_folder() -> None:
    # the example configs name the data relative to themselves: configs/examples/ → ../../../
    for config in (EXAMPLES / f"{name}.yaml" for name in CONFIGS):
        text = config.read_text(encoding="utf-8")
        path = next(line.split(":", 1)[1].strip() for line in text.splitlines() if "path:" in line)
        assert (config.parent / path).is_file(), (config.name, path)


def _documented() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ (.+?)\n(.*?)```", text, flags=re.S)
    return [(command, output.rstrip()) for command, output in blocks]


@pytest.mark.parametrize(("command", "output"), _documented(), ids=lambda v: v[:60])
def test_examples_page_shows_real_output(
    command: str, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the page's commands run from the repository's root
    argv = shlex.split(command)
    assert argv[0] == "cscli"
    result = CliRunner().invoke(app, argv[1:])
    assert result.exit_code == 0, result.output
    shown = "\n".join(line.rstrip() for line in result.stdout.splitlines()).rstrip()
    assert shown == output, "docs/examples.md is out of date: re-run the command and paste"
