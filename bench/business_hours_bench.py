"""Business-hours durations against calendar-hours durations at 10M rows (docs/business-hours.md).

Data: `--rows` (start, end) pairs of `Datetime("us", "UTC")`, starts uniform over 2026, each
duration exponential with a mean of 8 h, generated with polars expressions (hashes, no Python
per row) and written once to Parquet in `--data`.

Calendar: Europe/Berlin, Mon–Fri 09:00–12:30 + 13:30–17:00 and Sat 10:00–14:00, with the public
holidays of Berlin (DE-BE), over the default years (2000–2050), as the pipeline would call it.

Times: the lazy queries below, collected `--repeat` times in one process with calendar and
business runs interleaved (so a busy machine slows both alike); the median and the ratio
business ÷ calendar. Peak RSS and the cold build of the calendar's lookup table (first call,
importing `holidays` included) come from a fresh process per variant that runs it once.

  expr       in-memory LazyFrame → one duration column (the expression cost alone)
  kpi        scan the Parquet → duration → n, mean, median, p90 per ISO week and in total
             (the shape of a duration KPI in `cscli report`)
  kpi-mean   the same with n and mean only (no sorting, so the duration's own cost shows)

    python bench/business_hours_bench.py [--rows 10000000] [--repeat 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from cscli.business_hours.model import Calendar
from cscli.business_hours.parse import parse_calendar
from cscli.engine.polars.business_time import business_seconds

SPEC: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"], "sat": "10:00-14:00"},
    "holidays": {"country": "DE", "subdivision": "BE"},
}
YEAR_US = 365 * 86_400 * 1_000_000
START_2026_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
MEAN_DURATION_US = 8 * 3_600 * 1_000_000
SHAPES = ("expr", "kpi", "kpi-mean")
HOURS = ("calendar", "business")


def calendar() -> Calendar:
    return parse_calendar("support", SPEC)


def generate(rows: int, path: Path) -> None:
    """Uniform starts over 2026, exponential durations; pseudo-random from polars hashes."""
    n = pl.int_range(0, rows, dtype=pl.Int64)
    uniform = (n.hash(seed=1) % (1 << 53)).cast(pl.Float64) / (1 << 53)
    other = (n.hash(seed=2) % (1 << 53) + 1).cast(pl.Float64) / ((1 << 53) + 1)
    start = pl.lit(START_2026_US) + (uniform * YEAR_US).cast(pl.Int64)
    end = start + (-other.log() * MEAN_DURATION_US).cast(pl.Int64)
    frame = pl.select(
        start=start.cast(pl.Datetime("us", "UTC")), end=end.cast(pl.Datetime("us", "UTC"))
    )
    frame.write_parquet(path)


def duration(hours: str) -> pl.Expr:
    if hours == "calendar":
        return (pl.col("end") - pl.col("start")).dt.total_microseconds() / 1_000_000
    return business_seconds(pl.col("start"), pl.col("end"), calendar())


def query(shape: str, hours: str, path: Path, memory: pl.DataFrame | None) -> pl.LazyFrame:
    seconds = duration(hours).alias("seconds")
    if shape == "expr":
        assert memory is not None
        return memory.lazy().select(seconds)
    stats = [pl.col("seconds").count().alias("n"), pl.col("seconds").mean().alias("mean")]
    if shape == "kpi":
        stats += [
            pl.col("seconds").median().alias("p50"),
            pl.col("seconds").quantile(0.9, "linear").alias("p90"),
        ]
    lf = pl.scan_parquet(path).with_columns(seconds)
    weekly = lf.group_by(pl.col("start").dt.truncate("1w").alias("week")).agg(stats)
    total = lf.select(stats)
    return pl.concat([weekly.drop("week"), total], how="vertical")


def peak_rss(shape: str, hours: str, path: Path) -> dict[str, Any]:
    """Run one variant once in this (child) process; its peak RSS and table build time."""
    memory = pl.read_parquet(path) if shape == "expr" else None
    build = time.perf_counter()
    if hours == "business":
        business_seconds(pl.col("start"), pl.col("end"), calendar())  # builds the cached table
    build = time.perf_counter() - build
    query(shape, hours, path, memory).collect()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"build": build, "peak_mib": peak_kib / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, help="directory for the generated Parquet")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # shape:hours, run in a child
    args = parser.parse_args()

    if args.variant:
        shape, hours = args.variant.split(":")
        print(json.dumps(peak_rss(shape, hours, args.data / "durations.parquet")))
        return

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        path = data / "durations.parquet"
        rows_on_disk = (
            pl.scan_parquet(path).select(pl.len()).collect().item() if path.exists() else None
        )
        if rows_on_disk != args.rows:
            t = time.perf_counter()
            generate(args.rows, path)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s")

        # Peak RSS and the cold table build, each variant in a fresh process.
        children: dict[tuple[str, str], dict[str, Any]] = {}
        for shape in SHAPES:
            for hours in HOURS:
                argv = [sys.executable, __file__, "--data", str(data)]
                argv += ["--variant", f"{shape}:{hours}"]
                child = subprocess.run(argv, capture_output=True, text=True, check=True)
                children[shape, hours] = json.loads(child.stdout)

        # Times in this process, calendar and business runs interleaved so that a noisy
        # machine slows both alike.
        memory = pl.read_parquet(path)
        business_seconds(pl.col("start"), pl.col("end"), calendar())  # build the table once
        times: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat):
            for shape in SHAPES:
                for hours in HOURS:
                    q = query(shape, hours, path, memory)
                    t, c = time.perf_counter(), time.process_time()
                    q.collect()
                    times.setdefault((shape, hours), []).append(time.perf_counter() - t)
                    cpu.setdefault((shape, hours), []).append(time.process_time() - c)

        totals = (
            memory.lazy()
            .select(calendar=duration("calendar").sum(), business=duration("business").sum())
            .collect()
            .row(0, named=True)
        )
        print(
            f"polars {pl.__version__}, {args.rows:,} rows, median of {args.repeat}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; sums: "
            f"calendar {totals['calendar']:,.0f} s, business {totals['business']:,.0f} s"
        )
        print(
            "| query | hours | wall s (median) | runs s | ratio | CPU s (median) | CPU ratio "
            "| peak RSS MiB | table build s |"
        )
        print("|---|---|---:|---|---:|---:|---:|---:|---:|")
        for shape in SHAPES:
            base = statistics.median(times[shape, "calendar"])
            base_cpu = statistics.median(cpu[shape, "calendar"])
            for hours in HOURS:
                median = statistics.median(times[shape, hours])
                median_cpu = statistics.median(cpu[shape, hours])
                runs = ", ".join(f"{t:.3f}" for t in times[shape, hours])
                rss = children[shape, hours]
                build = f"{rss['build']:.3f}" if hours == "business" else "–"
                print(
                    f"| {shape} | {hours} | {median:.3f} | {runs} | {median / base:.2f}× | "
                    f"{median_cpu:.2f} | {median_cpu / base_cpu:.2f}× | "
                    f"{rss['peak_mib']:,.0f} | {build} |"
                )


if __name__ == "__main__":
    main()
