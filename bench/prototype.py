"""Run `cscli` with candidate pipeline changes patched in, to measure them before they land.

Nothing in `cscli/` is edited: the patches replace functions at import time, in this process
only. Each one must give the same report (bench/run.py compares the JSON with the unpatched
run). Patches:

* `semi_join`: the survey → ticket/call lookup keeps only the ids some survey refers to
  (semi join) before taking one row per id, instead of grouping every ticket and call by id;
* `quality`: the quality query counts flagged records in the pass over all rows and fetches
  example rows only for checks that found something (a second, filtered scan), instead of a
  `struct(_file, _row).filter(flag).head(5).implode()` per check over every row.

    python bench/prototype.py --patch semi_join --patch quality -- report -c CFG --by channel ...
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl


def patch_semi_join() -> None:
    from cscli.engine.polars import enrich

    def _surveys(frame: pl.LazyFrame, sources: Mapping[str, Any], by: Sequence[str]) -> Any:
        survey = sources["surveys"]
        wanted = [d for d in by if d in enrich.SURVEY_CONTACT_DIMENSIONS]
        for contact, key in enrich.SURVEY_LINKS:
            if contact not in sources or key not in survey.columns:
                continue
            dims = [d for d in wanted if d in sources[contact].columns]
            if not dims:
                continue
            ids = frame.select(key).drop_nulls()
            lookup = (
                sources[contact]
                .usable.select(key, *dims)
                .join(ids, on=key, how="semi")
                .group_by(key)
                .agg(pl.col(d).first().alias(f"_{contact}_{d}") for d in dims)
            )
            frame = frame.join(lookup, on=key, how="left")
        for d in wanted:
            parts = [d] if d in survey.columns else []
            parts += [
                f"_{c}_{d}"
                for c, k in enrich.SURVEY_LINKS
                if c in sources and k in survey.columns and d in sources[c].columns
            ]
            if parts:
                frame = frame.with_columns(pl.coalesce(parts).alias(d))
        return frame

    enrich._surveys = _surveys  # type: ignore[assignment]


def patch_quality() -> None:
    from collections import defaultdict

    from cscli import quality as findings
    from cscli.adapters.base import FILE_COL, ROW_COL
    from cscli.engine.polars import engine, quality
    from cscli.engine.polars.compile import sql

    def quality_query(source: Any, kpis: Any) -> pl.LazyFrame:
        # the same checks, labels and effects as cscli.engine.polars.quality.quality_query
        checks = [(c.issue, c.predicate, c.column, c.effect) for c in source.checks]
        by_issue: dict[str, list[str]] = defaultdict(list)
        rules = {}
        for k in kpis:
            for rule in k.built.quality:
                if set(sql(rule.predicate).meta.root_names()) <= source.columns:
                    by_issue[rule.issue].append(k.id)
                    rules[rule.issue] = rule
        for issue, rule in rules.items():
            effect = f"excluded from {', '.join(by_issue[issue])}"
            checks.append((issue, sql(rule.predicate), rule.column, effect))
        flags = [predicate.fill_null(False) for _, predicate, _, _ in checks]
        # pass 1: counts only, one streaming pass
        sums = [f.cast(pl.Int64).sum().alias(f"_n{i}") for i, f in enumerate(flags)]
        counts = source.frame.select(pl.len().alias("_rows"), *sums).collect()
        # pass 2: the first rows of each check that found something (stops early)
        found = [i for i in range(len(flags)) if counts[f"_n{i}"][0]]
        firsts = pl.collect_all(
            source.frame.filter(flags[i]).select(FILE_COL, ROW_COL).head(findings.EXAMPLES)
            for i in found
        )
        example = {
            i: df.select(pl.struct(FILE_COL, ROW_COL)).to_series()
            for i, df in zip(found, firsts, strict=True)
        }
        row_type = pl.Struct({FILE_COL: pl.String, ROW_COL: pl.UInt32})
        cols: list[pl.Series] = [counts["_rows"]]
        for i in range(len(flags)):
            xs = example.get(i, pl.Series([], dtype=row_type))
            cols += [counts[f"_n{i}"], pl.Series(f"_x{i}", [xs], dtype=pl.List(row_type))]
        out = pl.DataFrame(cols).lazy()
        return out.with_columns(
            pl.lit([c[0] for c in checks] or [""], dtype=pl.List(pl.String)).alias("_issues"),
            pl.lit([c[2] or "" for c in checks] or [""], dtype=pl.List(pl.String)).alias("_cols"),
            pl.lit([c[3] for c in checks] or [""], dtype=pl.List(pl.String)).alias("_effects"),
        )

    quality.quality_query = quality_query  # type: ignore[assignment]
    engine.quality_query = quality_query  # type: ignore[assignment]


PATCHES = {"semi_join": patch_semi_join, "quality": patch_quality}


def main() -> int:
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--patch", action="append", choices=sorted(PATCHES), default=[])
    a = p.parse_args(argv[:split])
    for name in a.patch:
        PATCHES[name]()
    from cscli.cli import main as cli_main

    sys.argv = ["cscli", *argv[split + 1 :]]
    return int(cli_main() or 0)


if __name__ == "__main__":
    raise SystemExit(main())
