"""The floor: read only the columns the default KPI set needs from the three Parquet files and
sum them (timestamps as integers, text by its byte length), with nothing else to do.

Any KPI report over these files has to pay at least this much decode work; the gap between a
report and its engine's floor is what the report's own logic costs.

    python bench/floor.py --data bench/data/10m-10m-2m-parquet [--engine polars|duckdb]
    python bench/floor.py --data bench/data/100m-tickets-monthly --monthly   # tickets/*.parquet
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

#: the columns `cscli report` reads for the default KPI set, by file (export names)
COLUMNS = {
    "tickets": ("ticket_id", "created_at", "first_response_at", "resolved_at", "channel"),
    "calls": (
        "call_id",
        "queued_at",
        "answered_at",
        "talk_seconds",
        "hold_seconds",
        "wrap_seconds",
        "direction",
    ),
    "surveys": ("responded_at", "survey_type", "score", "ticket_id", "call_id"),
}
#: the same for the 100M bench's 7 ticket KPIs over the monthly files (`--monthly`)
MONTHLY = {
    "tickets": (
        "ticket_id",
        "created_at",
        "first_response_at",
        "resolved_at",
        "channel",
        "status",
        "reopens",
    )
}
TEXT = {"ticket_id", "status", "channel", "call_id", "direction", "survey_type"}
TIMES = {"created_at", "first_response_at", "resolved_at", "queued_at", "answered_at"}
TIMES |= {"responded_at"}


def _files(data: Path, table: str, monthly: bool) -> str:
    return str(data / table / "*.parquet") if monthly else str(data / f"{table}.parquet")


def polars_floor(data: Path, monthly: bool = False) -> dict[str, float]:
    import polars as pl

    def term(c: str) -> pl.Expr:
        if c in TEXT:
            return pl.col(c).str.len_bytes().sum()
        if c in TIMES:
            return pl.col(c).dt.epoch("s").sum()
        return pl.col(c).cast(pl.Float64).sum()

    queries = [
        pl.scan_parquet(_files(data, t, monthly)).select(term(c) for c in cols)
        for t, cols in (MONTHLY if monthly else COLUMNS).items()
    ]
    frames = pl.collect_all(queries)
    return {
        f"{t}.{c}": float(f[c][0])
        for t, f in zip(MONTHLY if monthly else COLUMNS, frames, strict=True)
        for c in f.columns
    }


def duckdb_floor(data: Path, monthly: bool = False) -> dict[str, float]:
    import duckdb

    con = duckdb.connect()
    out: dict[str, float] = {}
    for t, cols in (MONTHLY if monthly else COLUMNS).items():
        terms = [
            f"sum(strlen({c}))"
            if c in TEXT
            else f"sum(epoch({c})::BIGINT)"
            if c in TIMES
            else f"sum({c}::DOUBLE)"
            for c in cols
        ]
        row = con.execute(
            f"SELECT {', '.join(terms)} FROM read_parquet($p)", {"p": _files(data, t, monthly)}
        ).fetchone()
        assert row is not None
        out.update({f"{t}.{c}": float(v or 0) for c, v in zip(cols, row, strict=True)})
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--engine", choices=["polars", "duckdb"], default="polars")
    p.add_argument("--monthly", action="store_true", help="the 100M set: tickets/*.parquet")
    a = p.parse_args()
    start = time.perf_counter()
    floor = polars_floor if a.engine == "polars" else duckdb_floor
    sums = floor(a.data, a.monthly)
    print(json.dumps({"engine": a.engine, "seconds": time.perf_counter() - start, "sums": sums}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
