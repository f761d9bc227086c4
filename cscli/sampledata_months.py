"""A large ticket set in monthly chunks: one Parquet file per month, never the whole set in
memory.

``python -m cscli.sampledata --out DIR --tickets 100000000 --months 10`` writes
``DIR/tickets/tickets-2026-01.parquet`` … ``tickets-2026-10.parquet`` (10M tickets each) with
the model of :mod:`cscli.sampledata`, one month at a time: only that month's tickets are held
(about 2 GB at 10M), then written and dropped. Each month is reproducible on its own: month k
(0-based) draws its random streams with the seed ``seed·1000 + k + 1``; the customers and the
agents' skills come from ``seed`` and are shared by every month, so an agent stays as fast and
a customer as old from one month to the next. Tickets arrive only in their month but are
answered and resolved up to the export time (the end of the last month), so a month's late
tickets resolve in the next one, as in a real export.

The months split ``tickets`` evenly (the first ``tickets % months`` get one more); ticket ids
count on over the months (``T-000000001`` …), as wide as the whole set needs. The deliberate
defects of :mod:`cscli.sampledata` (resolved before created, a null created_at, a null
agent_replies) sit at the same fractions of each month's rows. Tickets only: the 100M bench
needs no calls or surveys.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from cscli.sampledata import TZ, _Ctx, _customers, _ticket_table, _tickets, _ts


def month_starts(start: date, months: int) -> list[date]:
    """The first days of ``months`` months from ``start`` (a first of a month), and of the
    month after them."""
    return [date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)
            for k in range(months + 1)]  # fmt: skip


def generate_months(
    out_dir: Path, *, tickets: int, months: int, customers: int = 2_000_000, seed: int = 7,
    start: date = date(2026, 1, 1),
) -> list[Path]:  # fmt: skip
    """Write ``tickets`` tickets as ``months`` monthly Parquet files under ``out_dir/tickets``;
    return the files, oldest first."""
    if seed < 0 or months < 1 or tickets < 100 * months or customers < 1 or start.day != 1:
        raise ValueError(
            "need seed >= 0, >= 1 month, >= 100 tickets a month, >= 1 customer, and a start on "
            "the first of a month"
        )
    tz = ZoneInfo(TZ)
    firsts = month_starts(start, months)
    bounds = [int(datetime.combine(d, time(), tz).timestamp()) for d in firsts]
    export = bounds[-1] - 1
    started = _customers(customers, bounds[0], export, seed)["started"]
    folder = out_dir / "tickets"
    folder.mkdir(parents=True, exist_ok=True)
    base, extra = divmod(tickets, months)
    written, offset = [], 0
    for k in range(months):
        n = base + (k < extra)
        ctx = _Ctx(seed * 1000 + k + 1, bounds[k], export, started, bounds[k + 1] - 1, seed)
        frame = _ticket_table(
            _tickets(ctx, n), n, customers, False, _stamp, ids=tickets, offset=offset
        )
        path = folder / f"tickets-{firsts[k]:%Y-%m}.parquet"
        frame.sink_parquet(path)
        written.append(path)
        offset += n
    return written


def _stamp(col: str, table: str) -> pl.Expr:
    """Parquet keeps timestamps typed (UTC)."""
    return _ts(col)
