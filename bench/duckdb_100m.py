"""The 100M bench's 7 ticket KPIs by channel and month, written directly in DuckDB SQL.

An independent re-implementation of `cscli report -c bench100.yaml --by channel --grain month
--format json` (the config `bench/run.py --size 100m` writes: tickets only, timezone UTC) over
the monthly Parquet files of `python -m cscli.sampledata --months N`. It follows the KPI
definitions in `cscli/kpis/builtin/tickets.py` and the loader's record semantics:

* a ticket is usable when ticket_id and created_at are not null;
* ticket_volume, first_response_time (median), frt_p90 (first_response_time, p90) and
  resolution_rate are placed by created_at; resolution_time (median) and reopen_rate by
  resolved_at; months are UTC calendar months;
* durations are microsecond-exact seconds, a negative one is left out; quantiles interpolate
  linearly (`quantile_cont`); a zero denominator gives null;
* reopen_rate = resolved tickets with reopens > 0 / resolved tickets with a reopens count;
* backlog is a stock: per (channel, month), tickets created before the month's end minus
  those ended by then (ended = resolved_at; a ticket resolved before it was created ends in
  its creation month), over every month from the first to the last one with an event, and
  the total is the level at the end of the last month. A ticket with an end status (closed,
  cancelled, …) but no resolved_at has no known end and is left out.

Writes `{"rows": [{"group": {"channel", "period"}, "kpis": {id: {"value", "n"}}}],
"totals": {"kpis": {...}}}`, the shape of cscli's JSON report.

    python bench/duckdb_100m.py --data bench/data/100m-tickets-monthly --out result.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duckdb_kpis import cli, connect, run_queries  # the sibling script: same assembly

#: the usable tickets, with the month of each anchor (GROUPING(channel, period) = 3: totals)
BASE = """
CREATE OR REPLACE TEMP VIEW t AS
SELECT channel, created_at, resolved_at, reopens, status,
       (epoch_us(first_response_at) - epoch_us(created_at)) / 1e6 AS frs,
       (epoch_us(resolved_at) - epoch_us(created_at)) / 1e6 AS rs,
       date_trunc('month', timezone('UTC', created_at))::DATE AS created_m,
       date_trunc('month', timezone('UTC', resolved_at))::DATE AS resolved_m
FROM read_parquet({tickets})
WHERE ticket_id IS NOT NULL AND created_at IS NOT NULL
"""

CREATED = """
SELECT GROUPING(channel, created_m) AS g, channel, created_m AS period,
       count(*) AS ticket_volume,
       count(*) AS ticket_volume__n,
       quantile_cont(frs, 0.5) FILTER (WHERE frs >= 0) AS first_response_time,
       count(frs) FILTER (WHERE frs >= 0) AS first_response_time__n,
       quantile_cont(frs, 0.9) FILTER (WHERE frs >= 0) AS frt_p90,
       count(frs) FILTER (WHERE frs >= 0) AS frt_p90__n,
       count(*) FILTER (WHERE resolved_at IS NOT NULL) / count(*) AS resolution_rate,
       count(*) AS resolution_rate__n
FROM t
GROUP BY GROUPING SETS ((channel, created_m), ())
"""

RESOLVED = """
SELECT GROUPING(channel, resolved_m) AS g, channel, resolved_m AS period,
       quantile_cont(rs, 0.5) FILTER (WHERE rs >= 0) AS resolution_time,
       count(rs) FILTER (WHERE rs >= 0) AS resolution_time__n,
       count(*) FILTER (WHERE reopens > 0) / nullif(count(reopens), 0) AS reopen_rate,
       count(reopens) AS reopen_rate__n
FROM t
WHERE resolved_at IS NOT NULL
GROUP BY GROUPING SETS ((channel, resolved_m), ())
"""

BACKLOG = """
WITH known AS (
    SELECT channel, created_m,
           CASE WHEN resolved_at IS NOT NULL THEN greatest(created_m, resolved_m) END AS ended_m
    FROM t
    WHERE NOT (resolved_at IS NULL
               AND lower(trim(status)) IN ('closed', 'cancelled', 'canceled', 'rejected',
                                           'abandoned'))
), events AS (
    SELECT channel, created_m AS m, count(*) AS opened, 0 AS ended FROM known GROUP BY ALL
    UNION ALL
    SELECT channel, ended_m AS m, 0, count(*) FROM known WHERE ended_m IS NOT NULL GROUP BY ALL
), months AS (
    SELECT unnest(generate_series(min(m), max(m), INTERVAL 1 MONTH))::DATE AS m FROM events
), grid AS (
    SELECT c.channel, months.m FROM (SELECT DISTINCT channel FROM events) c CROSS JOIN months
), per AS (
    SELECT grid.channel, grid.m,
           coalesce(sum(events.opened), 0) - coalesce(sum(events.ended), 0) AS delta
    FROM grid LEFT JOIN events USING (channel, m)
    GROUP BY ALL
)
SELECT 0 AS g, channel, m AS period,
       sum(delta) OVER (PARTITION BY channel ORDER BY m) AS backlog,
       sum(delta) OVER (PARTITION BY channel ORDER BY m) AS backlog__n
FROM per
UNION ALL
SELECT 3, NULL, NULL, sum(delta), sum(delta) FROM per
"""

QUERIES = (
    ("tickets by created_at", CREATED),
    ("tickets by resolved_at", RESOLVED),
    ("backlog at each month's end", BACKLOG),
)


def compute(data: Path, threads: int | None = None) -> dict[str, Any]:
    con = connect(threads)
    files = str(data / "tickets" / "*.parquet").replace("'", "''")
    con.execute(BASE.format(tickets=f"'{files}'"))  # a view cannot take parameters
    return run_queries(con, QUERIES)


def main() -> int:
    return cli(compute, "folder with tickets/*.parquet", __doc__ or "")


if __name__ == "__main__":
    raise SystemExit(main())
