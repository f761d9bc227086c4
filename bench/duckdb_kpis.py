"""The default cscli KPI set by channel and ISO week, written directly in DuckDB SQL.

An independent re-implementation of `cscli report --by channel --grain week --format json` over
the bench's Parquet files (timezone UTC), used by `bench/run.py` as the speed reference and as
a value-by-value correctness check. It follows the definitions in `cscli/kpis/builtin/` and
DESIGN §5 and the loader's record semantics (`cscli/engine/polars/loader/`):

* a record is usable when its required columns are not null (tickets: ticket_id, created_at;
  calls: call_id, queued_at; surveys: responded_at, score, survey_type) — Parquet has typed
  columns, so nothing else can be unreadable;
* durations are microsecond-exact seconds; a negative duration (or a negative talk, hold or
  wrap part of the handle time) makes the measure null, so statistics skip it and service
  level leaves such an answered call out of its population;
* codes (call direction, survey type) are compared trimmed and lower-cased;
* a KPI is placed by its own anchor (resolution_time by resolved_at, the rest of tickets by
  created_at, calls by queued_at, surveys by responded_at), in UTC ISO weeks (Monday);
* calls have no channel column: every call is channel 'phone'; a survey takes the channel of
  the usable ticket (ticket_id) or usable call (call_id) it rates, coalesced in that order;
* medians interpolate linearly (`quantile_cont`); a zero denominator gives null.

Writes `{"rows": [{"group": {"channel", "period"}, "kpis": {id: {"value", "n"}}}],
"totals": {"kpis": {...}}}`, the same shape as cscli's JSON report.

    python bench/duckdb_kpis.py --data bench/data/full --out result.json [--threads N]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

# Each query groups one (source, anchor) by GROUPING SETS ((channel, period), ()): the second
# set is the totals row, told apart by GROUPING(channel, period) = 3.

TICKETS = """
WITH t AS (
    SELECT channel,
           created_at,
           resolved_at,
           (epoch_us(first_response_at) - epoch_us(created_at)) / 1e6 AS frs
    FROM read_parquet($tickets)
    WHERE ticket_id IS NOT NULL AND created_at IS NOT NULL
)
SELECT GROUPING(channel, period) AS g, channel, period,
       count(*) AS ticket_volume,
       count(*) AS ticket_volume__n,
       quantile_cont(frs, 0.5) FILTER (WHERE frs >= 0) AS first_response_time,
       count(frs) FILTER (WHERE frs >= 0) AS first_response_time__n,
       count(*) FILTER (WHERE resolved_at IS NOT NULL) / count(*) AS resolution_rate,
       count(*) AS resolution_rate__n
FROM (SELECT *, date_trunc('week', timezone('UTC', created_at))::DATE AS period FROM t)
GROUP BY GROUPING SETS ((channel, period), ())
"""

RESOLVED = """
WITH t AS (
    SELECT channel,
           resolved_at,
           (epoch_us(resolved_at) - epoch_us(created_at)) / 1e6 AS rs,
           agent_replies,
           reopens
    FROM read_parquet($tickets)
    WHERE ticket_id IS NOT NULL AND created_at IS NOT NULL AND resolved_at IS NOT NULL
)
SELECT GROUPING(channel, period) AS g, channel, period,
       quantile_cont(rs, 0.5) FILTER (WHERE rs >= 0) AS resolution_time,
       count(rs) FILTER (WHERE rs >= 0) AS resolution_time__n,
       -- one_touch (no first_contact_resolved column): one agent reply, never reopened, over
       -- the resolved tickets with a known reply count
       count(*) FILTER (WHERE agent_replies = 1 AND coalesce(reopens = 0, true))
           / nullif(count(agent_replies), 0) AS first_contact_resolution,
       count(agent_replies) AS first_contact_resolution__n,
       -- no status history: the export's reopens count, over the tickets that have one
       count(*) FILTER (WHERE reopens > 0) / nullif(count(reopens), 0) AS reopen_rate,
       count(reopens) AS reopen_rate__n
FROM (SELECT *, date_trunc('week', timezone('UTC', resolved_at))::DATE AS period FROM t)
GROUP BY GROUPING SETS ((channel, period), ())
"""

CALLS = """
WITH raw AS (
    SELECT coalesce(lower(trim(direction)) = 'inbound', false) AS inbound,
           answered_at IS NOT NULL AS answered,
           (epoch_us(answered_at) - epoch_us(queued_at)) / 1e6 AS answer_raw,
           talk_seconds, hold_seconds, wrap_seconds,
           date_trunc('week', timezone('UTC', queued_at))::DATE AS period
    FROM read_parquet($calls)
    WHERE call_id IS NOT NULL AND queued_at IS NOT NULL
), c AS (
    SELECT 'phone' AS channel, inbound, answered, period,
           -- a negative duration or component makes the measure unusable (null)
           CASE WHEN answer_raw >= 0 THEN answer_raw END AS answer_s,
           CASE WHEN NOT coalesce(talk_seconds < 0 OR hold_seconds < 0 OR wrap_seconds < 0, false)
                THEN talk_seconds + coalesce(hold_seconds, 0) + coalesce(wrap_seconds, 0)
           END AS handle_s
    FROM raw
)
SELECT GROUPING(channel, period) AS g, channel, period,
       count(*) FILTER (WHERE inbound) AS call_volume,
       count(*) FILTER (WHERE inbound) AS call_volume__n,
       avg(handle_s) FILTER (WHERE answered) AS average_handle_time,
       count(handle_s) FILTER (WHERE answered) AS average_handle_time__n,
       avg(answer_s) FILTER (WHERE inbound) AS average_speed_of_answer,
       count(answer_s) FILTER (WHERE inbound) AS average_speed_of_answer__n,
       count(*) FILTER (WHERE inbound AND NOT answered)
           / nullif(count(*) FILTER (WHERE inbound), 0) AS abandonment_rate,
       count(*) FILTER (WHERE inbound) AS abandonment_rate__n,
       -- service level leaves out answered calls whose answer time is unusable
       count(*) FILTER (WHERE inbound AND answer_s <= 20)
           / nullif(count(*) FILTER (WHERE inbound AND NOT (answered AND answer_s IS NULL)), 0)
           AS service_level,
       count(*) FILTER (WHERE inbound AND NOT (answered AND answer_s IS NULL))
           AS service_level__n
FROM c
GROUP BY GROUPING SETS ((channel, period), ())
"""

SURVEYS = """
WITH tk AS (
    -- one row per ticket id (a duplicated id cannot multiply responses), and only for the
    -- ids some survey refers to: grouping all 10M ids instead takes 2.5x as long
    SELECT ticket_id, any_value(channel) AS t_channel
    FROM read_parquet($tickets)
    WHERE ticket_id IS NOT NULL AND created_at IS NOT NULL
      AND ticket_id IN (SELECT ticket_id FROM read_parquet($surveys))
    GROUP BY ticket_id
), cl AS (
    SELECT DISTINCT call_id, 'phone' AS c_channel
    FROM read_parquet($calls)
    WHERE call_id IS NOT NULL AND queued_at IS NOT NULL
      AND call_id IN (SELECT call_id FROM read_parquet($surveys))
), s AS (
    SELECT coalesce(tk.t_channel, cl.c_channel) AS channel,
           lower(trim(s.survey_type)) AS kind,
           s.score::DOUBLE AS score,
           date_trunc('week', timezone('UTC', s.responded_at))::DATE AS period
    FROM read_parquet($surveys) s
    LEFT JOIN tk ON s.ticket_id = tk.ticket_id
    LEFT JOIN cl ON s.call_id = cl.call_id
    WHERE s.responded_at IS NOT NULL AND s.score IS NOT NULL AND s.survey_type IS NOT NULL
), k AS (
    SELECT channel, period, score,
           kind = 'csat' AND score BETWEEN 1 AND 5 AS is_csat,
           kind = 'nps' AND score BETWEEN 0 AND 10 AS is_nps,
           kind = 'ces' AND score BETWEEN 1 AND 7 AS is_ces
    FROM s
)
SELECT GROUPING(channel, period) AS g, channel, period,
       count(*) FILTER (WHERE is_csat AND score >= 4)
           / nullif(count(*) FILTER (WHERE is_csat), 0) AS csat,
       count(*) FILTER (WHERE is_csat) AS csat__n,
       100::DOUBLE * (count(*) FILTER (WHERE is_nps AND score >= 9)
                - count(*) FILTER (WHERE is_nps AND score <= 6))
           / nullif(count(*) FILTER (WHERE is_nps), 0) AS nps,
       count(*) FILTER (WHERE is_nps) AS nps__n,
       avg(score) FILTER (WHERE is_ces AND score >= 0) AS ces,
       count(score) FILTER (WHERE is_ces AND score >= 0) AS ces__n
FROM k
GROUP BY GROUPING SETS ((channel, period), ())
"""

# The backlog: tickets open at the end of each week (no period bounds: the report has none),
# per channel, for every week from the first to the last bucket of an event; a ticket ends at
# resolved_at (the bench's tickets have no closed_at), one that ends before it opens ends at
# once, and one with a status that ends it (closed, cancelled, …) but no resolved_at has no
# end instant: it is left out (cscli/kpis/builtin/tickets.py BACKLOG, schema.GAVE_UP_STATUSES).
# The totals row: the tickets still open after the last record.
BACKLOG = """
WITH t AS (
    SELECT channel,
           date_trunc('week', timezone('UTC', created_at))::DATE AS ob,
           -- DuckDB's greatest() skips nulls: an open ticket has no end bucket
           CASE WHEN resolved_at IS NOT NULL
                THEN greatest(date_trunc('week', timezone('UTC', created_at)),
                              date_trunc('week', timezone('UTC', resolved_at)))::DATE
           END AS cb
    FROM read_parquet($tickets)
    WHERE ticket_id IS NOT NULL AND created_at IS NOT NULL
      AND NOT (resolved_at IS NULL AND coalesce(lower(trim(status)) IN
               ('closed', 'cancelled', 'canceled', 'rejected', 'abandoned'), false))
), events AS (
    SELECT channel, b, sum(d) AS d
    FROM (SELECT channel, ob AS b, 1 AS d FROM t
          UNION ALL SELECT channel, cb AS b, -1 AS d FROM t WHERE cb IS NOT NULL)
    GROUP BY channel, b
), weeks AS (
    SELECT unnest(generate_series((SELECT min(b) FROM events), (SELECT max(b) FROM events),
                                  INTERVAL 7 DAY))::DATE AS period
), grid AS (
    SELECT c.channel, w.period FROM (SELECT DISTINCT channel FROM t) c CROSS JOIN weeks w
), levels AS (
    SELECT grid.channel, grid.period,
           sum(coalesce(events.d, 0)) OVER (PARTITION BY grid.channel ORDER BY grid.period)
               AS backlog
    FROM grid LEFT JOIN events
      ON events.channel IS NOT DISTINCT FROM grid.channel AND events.b = grid.period
)
SELECT 0 AS g, channel, period, backlog, backlog AS backlog__n FROM levels
UNION ALL
SELECT 3, NULL, NULL, count(*), count(*) FROM t WHERE cb IS NULL
"""

QUERIES = (
    ("tickets by created_at", TICKETS),
    ("tickets by resolved_at", RESOLVED),
    ("tickets open at each week's end (backlog)", BACKLOG),
    ("calls by queued_at", CALLS),
    ("surveys by responded_at (+ channel lookup)", SURVEYS),
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC, on `threads` threads (default: all cores)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def run_queries(
    con: duckdb.DuckDBPyConnection,
    queries: Sequence[tuple[str, str]],
    params: Mapping[str, str] | None = None,
    absent: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the labelled queries (each gives `g` = 3 for the totals row, `channel`, `period`,
    and `<kpi>`, `<kpi>__n` columns) and assemble cscli's JSON report shape; `params`: the
    `$name` parameters a query may use; `absent`: the value of a KPI a group has no row for."""
    params = params or {}
    rows: dict[tuple[Any, Any], dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    timings = []
    for label, query in queries:
        names = [p for p in params if f"${p}" in query]
        start = time.perf_counter()
        cur = con.execute(query, {p: params[p] for p in names}) if names else con.execute(query)
        columns = [d[0] for d in cur.description]
        kpis = [c for c in columns if c not in ("g", "channel", "period") and "__" not in c]
        for record in cur.fetchall():
            r = dict(zip(columns, record, strict=True))
            values = {k: {"value": _clean(r[k]), "n": int(r[k + "__n"])} for k in kpis}
            if r["g"] == 3:
                totals.update(values)
            else:
                key = (r["channel"], _clean(r["period"]))
                rows.setdefault(key, {}).update(values)
        timings.append({"query": label, "kpis": kpis, "seconds": time.perf_counter() - start})
    for values in rows.values():
        for kpi, value in (absent or {}).items():
            values.setdefault(kpi, dict(value))
    out_rows = [
        {"group": {"channel": ch, "period": period}, "kpis": values}
        for (ch, period), values in sorted(
            rows.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or "", kv[0][1])
        )
    ]
    return {
        "engine": f"duckdb {duckdb.__version__}",
        "timings": timings,
        "rows": out_rows,
        "totals": {"kpis": totals},
    }


def compute(data: Path, threads: int | None = None) -> dict[str, Any]:
    params = {t: str(data / f"{t}.parquet") for t in ("tickets", "calls", "surveys")}
    # a group without tickets has no backlog level (null, n 0)
    return run_queries(connect(threads), QUERIES, params, {"backlog": {"value": None, "n": 0}})


def cli(compute: Callable[[Path, int | None], dict[str, Any]], data_help: str, doc: str) -> int:
    """The command line of a DuckDB twin: `--data`, `--out`, `--threads`."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help=data_help)
    p.add_argument("--out", type=Path, required=True, help="JSON result file")
    p.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    a = p.parse_args()
    doc_ = compute(a.data, a.threads)
    a.out.write_text(json.dumps(doc_, indent=1, allow_nan=False) + "\n")
    return 0


def main() -> int:
    return cli(compute, "folder with the three .parquet files", __doc__ or "")


if __name__ == "__main__":
    raise SystemExit(main())
