"""Polars micro-experiments behind the suggestions in docs/performance.md.

Each experiment has variants that compute the same result in different ways, over the bench's
Parquet files; `bench/run.py` runs every variant as its own process (for its wall time and peak
RSS) and checks that the variants agree (the printed `digest`). They are self-contained polars
code reproducing a *pattern*, not calls into cscli's internals, so they stay valid while the
pipeline changes; `bench/run.py` separately looks for each pattern in cscli's query plan.

    python bench/experiments.py --data DIR --list
    python bench/experiments.py --data DIR --run survey_lookup --variant semi_join_first
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

Variant = Callable[[Path], pl.LazyFrame]


def _tickets_files(data: Path) -> Path:
    """tickets.parquet, or the monthly files of the 100M set (`tickets/*.parquet`)."""
    single = data / "tickets.parquet"
    return single if single.exists() else data / "tickets" / "*.parquet"


def _usable_tickets(data: Path) -> pl.LazyFrame:
    lf = pl.scan_parquet(_tickets_files(data))
    return lf.filter(pl.col("ticket_id").is_not_null(), pl.col("created_at").is_not_null())


def _usable_calls(data: Path) -> pl.LazyFrame:
    lf = pl.scan_parquet(data / "calls.parquet")
    return lf.filter(pl.col("call_id").is_not_null(), pl.col("queued_at").is_not_null())


def _surveys(data: Path) -> pl.LazyFrame:
    lf = pl.scan_parquet(data / "surveys.parquet")
    return lf.filter(pl.col("responded_at").is_not_null(), pl.col("score").is_not_null())


WEEK = pl.col("responded_at").dt.truncate("1w").dt.date().alias("period")


# --- survey_lookup: a survey takes the channel of the ticket or call it rates --------------


def _survey_kpis(frame: pl.LazyFrame) -> pl.LazyFrame:
    channel = pl.coalesce("_t_channel", "_c_channel").alias("channel")
    return (
        frame.with_columns(channel, WEEK)
        .group_by("channel", "period")
        .agg(pl.len().alias("n"), pl.col("score").cast(pl.Float64).mean().alias("mean_score"))
    )


def lookup_all_ids(data: Path) -> pl.LazyFrame:
    """One row per contact id over *every* usable ticket and call, then join."""
    tickets = _usable_tickets(data).group_by("ticket_id").agg(pl.col("channel").first())
    calls = _usable_calls(data).group_by("call_id").agg(pl.lit("phone").first())
    frame = (
        _surveys(data)
        .join(tickets.rename({"channel": "_t_channel"}), on="ticket_id", how="left")
        .join(calls.rename({"literal": "_c_channel"}), on="call_id", how="left")
    )
    return _survey_kpis(frame)


def lookup_semi_join_first(data: Path) -> pl.LazyFrame:
    """The same, but first keep only the tickets and calls some survey refers to (semi join)."""
    surveys = _surveys(data)
    t_ids = surveys.select("ticket_id").drop_nulls()
    c_ids = surveys.select("call_id").drop_nulls()
    tickets = (
        _usable_tickets(data)
        .select("ticket_id", "channel")
        .join(t_ids, on="ticket_id", how="semi")
        .group_by("ticket_id")
        .agg(pl.col("channel").first().alias("_t_channel"))
    )
    calls = (
        _usable_calls(data)
        .select("call_id")
        .join(c_ids, on="call_id", how="semi")
        .group_by("call_id")
        .agg(pl.lit("phone").first().alias("_c_channel"))
    )
    frame = surveys.join(tickets, on="ticket_id", how="left").join(calls, on="call_id", how="left")
    return _survey_kpis(frame)


# --- median: a quantile in a streaming group_by ----------------------------------------------


def _ticket_frame(data: Path) -> pl.LazyFrame:
    seconds = (pl.col("first_response_at") - pl.col("created_at")).dt.total_microseconds() / 1e6
    return _usable_tickets(data).select(
        "channel",
        pl.col("created_at").dt.truncate("1w").dt.date().alias("period"),
        pl.when(seconds >= 0).then(seconds).alias("frs"),
        pl.col("resolved_at").is_not_null().cast(pl.Int64).alias("resolved"),
    )


def median_in_group_by(data: Path) -> pl.LazyFrame:
    """Counts, a ratio and a median of first-response seconds in one group_by."""
    return (
        _ticket_frame(data)
        .group_by("channel", "period")
        .agg(pl.len().alias("n"), pl.col("resolved").sum(), pl.col("frs").median())
    )


def mean_in_group_by(data: Path) -> pl.LazyFrame:
    """The same group_by with a mean instead of the median: not the same result, it shows
    what the median alone costs (digest differs on purpose)."""
    return (
        _ticket_frame(data)
        .group_by("channel", "period")
        .agg(pl.len().alias("n"), pl.col("resolved").sum(), pl.col("frs").mean())
    )


def median_split_narrow(data: Path) -> pl.LazyFrame:
    """Streamable aggregations in one group_by; the median in a second, narrow one (keys and
    the non-null values only), joined on the keys."""
    frame = _ticket_frame(data)
    flows = frame.group_by("channel", "period").agg(pl.len().alias("n"), pl.col("resolved").sum())
    med = (
        frame.select("channel", "period", "frs")
        .drop_nulls("frs")
        .with_columns(pl.col("channel").cast(pl.Categorical))
        .group_by("channel", "period")
        .agg(pl.col("frs").median())
        .with_columns(pl.col("channel").cast(pl.String))
    )
    return flows.join(med, on=["channel", "period"], how="left", nulls_equal=True)


def quantiles_by_counts(
    frame: pl.LazyFrame, keys: list[str], value: str, quantiles: dict[str, float]
) -> pl.LazyFrame:
    """Exact linear-interpolated quantiles per group from the counts of each distinct (keys,
    value): a streaming group_by whose size is the number of distinct values, not rows.

    With the n values of a group sorted, quantile q is at index h = (n − 1)·q: the value of
    rank ⌊h⌋ plus (h − ⌊h⌋)·(value of rank ⌈h⌉ − value of rank ⌊h⌋); rank r holds the
    smallest value whose cumulative count exceeds r."""
    counts = frame.filter(pl.col(value).is_not_null()).group_by(*keys, value).agg(_c=pl.len())
    ranked = counts.sort(*keys, value).with_columns(
        _cum=pl.col("_c").cum_sum().over(keys), _n=pl.col("_c").sum().over(keys)
    )
    aggs = []
    for name, q in quantiles.items():
        h = (pl.col("_n") - 1).cast(pl.Float64) * q
        lo = pl.col(value).filter(pl.col("_cum") > h.floor()).min()
        hi = pl.col(value).filter(pl.col("_cum") > h.ceil()).min()
        frac = (h - h.floor()).first()
        aggs.append(pl.when(lo == hi).then(lo).otherwise(frac * (hi - lo) + lo).alias(name))
    return ranked.group_by(keys).agg(aggs)


def median_by_counts(data: Path) -> pl.LazyFrame:
    """Streamable aggregations in one group_by; the median exactly from the counts of each
    distinct (keys, value) (a second streaming group_by), joined on the keys."""
    frame = _ticket_frame(data)
    flows = frame.group_by("channel", "period").agg(pl.len().alias("n"), pl.col("resolved").sum())
    med = quantiles_by_counts(frame, ["channel", "period"], "frs", {"frs": 0.5})
    return flows.join(med, on=["channel", "period"], how="left", nulls_equal=True)


# --- quality: counting flagged records, with the first example rows -------------------------


def _quality_frame(data: Path) -> tuple[pl.LazyFrame, list[pl.Expr]]:
    lf = pl.scan_parquet(data / "tickets.parquet", row_index_name="_row", row_index_offset=1)
    lf = lf.with_columns(pl.lit("tickets.parquet").alias("_file"))
    seconds = (pl.col("resolved_at") - pl.col("created_at")).dt.total_microseconds()
    flags = [
        pl.col("ticket_id").is_null(),
        pl.col("created_at").is_null(),
        (pl.col("first_response_at") < pl.col("created_at")).fill_null(False),
        (seconds < 0).fill_null(False),
        (pl.col("agent_replies").cast(pl.Float64) < 0).fill_null(False),
        (pl.col("reopens").cast(pl.Float64) < 0).fill_null(False),
    ]
    return lf, flags


def quality_counts_and_examples(data: Path) -> pl.LazyFrame:
    """Per check: its count and `struct(_file, _row).filter(flag).head(5).implode()`."""
    lf, flags = _quality_frame(data)
    exprs: list[pl.Expr] = [pl.len().alias("_rows")]
    for i, flag in enumerate(flags):
        exprs.append(flag.cast(pl.Int64).sum().alias(f"_n{i}"))
        exprs.append(pl.struct("_file", "_row").filter(flag).head(5).implode().alias(f"_x{i}"))
    return lf.select(exprs)


def quality_counts_then_examples(data: Path) -> pl.LazyFrame:
    """Counts only in the pass over all rows; then, for the checks that found something, the
    first rows from a second, filtered query (collected here, as a pipeline would)."""
    lf, flags = _quality_frame(data)
    counts = lf.select(
        pl.len().alias("_rows"),
        *(f.cast(pl.Int64).sum().alias(f"_n{i}") for i, f in enumerate(flags)),
    ).collect()
    found = [i for i in range(len(flags)) if counts[f"_n{i}"][0]]
    examples: dict[str, pl.Series] = {}
    if found:
        first = (
            lf.select("_file", "_row", *(flags[i].alias(f"_f{i}") for i in found))
            .filter(pl.any_horizontal(f"_f{i}" for i in found))
            .head(5 * len(found))
            .collect()
        )
        for i in found:
            rows = first.filter(pl.col(f"_f{i}")).select(pl.struct("_file", "_row")).head(5)
            examples[f"_x{i}"] = rows.to_series().implode()
    out = []
    for i in range(len(flags)):
        empty = pl.Series(
            f"_x{i}", [[]], dtype=pl.List(pl.Struct({"_file": pl.String, "_row": pl.UInt32}))
        )
        out += [counts[f"_n{i}"], examples.get(f"_x{i}", empty).alias(f"_x{i}")]
    return pl.DataFrame([counts["_rows"], *out]).lazy()


# --- local_week: ISO week buckets in a non-UTC zone -----------------------------------------


def _berlin(data: Path) -> pl.Expr:
    return pl.col("created_at").dt.convert_time_zone("Europe/Berlin")


def week_truncate_zoned(data: Path) -> pl.LazyFrame:
    """`convert_time_zone(tz).dt.truncate("1w").dt.date()`: truncates zone-aware datetimes."""
    period = _berlin(data).dt.truncate("1w").dt.date().alias("period")
    return _usable_tickets(data).group_by(period).agg(pl.len())


def week_date_then_truncate(data: Path) -> pl.LazyFrame:
    """`convert_time_zone(tz).dt.date().dt.truncate("1w")`: the local date first, then weeks."""
    period = _berlin(data).dt.date().dt.truncate("1w").alias("period")
    return _usable_tickets(data).group_by(period).agg(pl.len())


# --- duplicate_ids: counting records whose id repeats an earlier one ------------------------


def _ids(data: Path) -> pl.Expr:
    return pl.col("ticket_id")


def duplicates_first_distinct(data: Path) -> pl.LazyFrame:
    """Per record `id.is_not_null() & ~id.hash().is_first_distinct()`, summed: a flag per row
    (what a quality check with example rows needs)."""
    k = _ids(data)
    flag = k.is_not_null() & ~k.hash().is_first_distinct()
    return pl.scan_parquet(_tickets_files(data)).select(flag.cast(pl.Int64).sum())


def duplicates_sorted_runs(data: Path) -> pl.LazyFrame:
    """When the ids arrive in ascending order (`ids >= ids.cum_max()` everywhere), the repeats
    are the ids minus the runs of equal ids (`rle_id`): no hash set (-1 when not sorted)."""
    ids = _ids(data).drop_nulls()
    runs = ids.rle_id().max().cast(pl.Int64).fill_null(-1) + 1
    count = pl.when((ids >= ids.cum_max()).all()).then(ids.len().cast(pl.Int64) - runs)
    return pl.scan_parquet(_tickets_files(data)).select(count.otherwise(-1).alias("ticket_id"))


def duplicates_n_unique(data: Path) -> pl.LazyFrame:
    """`count(id) − n_unique(hash(id))`: the same number without a per-row flag (rows only
    needed when it is not 0)."""
    k = _ids(data).drop_nulls()
    return pl.scan_parquet(_tickets_files(data)).select(
        (k.len() - k.hash().n_unique()).cast(pl.Int64)
    )


EXPERIMENTS: dict[str, tuple[str, dict[str, Variant]]] = {
    "survey_lookup": (
        "a survey's channel from the ticket/call it rates",
        {"all_ids": lookup_all_ids, "semi_join_first": lookup_semi_join_first},
    ),
    "median": (
        "a median in a streaming group_by (tickets by channel × week)",
        {
            "mean_instead": mean_in_group_by,
            "median_in_group_by": median_in_group_by,
            "median_split_narrow": median_split_narrow,
            "median_by_counts": median_by_counts,
        },
    ),
    "quality": (
        "quality checks on tickets: counts with example rows",
        {
            "counts_and_examples": quality_counts_and_examples,
            "counts_then_examples": quality_counts_then_examples,
        },
    ),
    "duplicate_ids": (
        "duplicate ticket ids",
        {
            "first_distinct": duplicates_first_distinct,
            "n_unique": duplicates_n_unique,
            "sorted_runs": duplicates_sorted_runs,
        },
    ),
    "local_week": (
        "ISO week buckets in Europe/Berlin",
        {"truncate_zoned": week_truncate_zoned, "date_then_truncate": week_date_then_truncate},
    ),
}


def digest(df: pl.DataFrame) -> str:
    """A short hash of a result, independent of row order (floats rounded to 9 digits)."""
    df = df.with_columns(pl.selectors.float().round(9))
    df = df.sort(df.columns, nulls_last=True)
    return hashlib.sha1(df.write_json().encode()).hexdigest()[:12]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--list", action="store_true", help="print the experiments as JSON")
    p.add_argument("--run")
    p.add_argument("--variant")
    p.add_argument("--engine", default="streaming", choices=["streaming", "in-memory"])
    a = p.parse_args()
    if a.list:
        spec = {
            name: {
                "title": title,
                "variants": {v: (f.__doc__ or "").strip() for v, f in vs.items()},
            }
            for name, (title, vs) in EXPERIMENTS.items()
        }
        print(json.dumps(spec))
        return 0
    build = EXPERIMENTS[a.run][1][a.variant]
    start = time.perf_counter()
    df = build(a.data).collect(engine=a.engine)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rows": df.height, "digest": digest(df)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
