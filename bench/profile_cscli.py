"""Profile cscli's report pipeline without touching `cscli/`.

`cscli.pipeline.run_report` builds every query and hands them to one `pl.collect_all`. This
script wraps `pl.collect_all` to capture that list, then can

* `--stages`: time the stages of one report in-process (imports, config, source scan setup,
  query build + collect_all, JSON rendering) and print the query list;
* `--only I`: run just query I (0-based) of that list, e.g. under `bench/run.py`'s wrapper to
  get its own wall time and peak RSS;
* `--explain DIR`: write each query's optimized plan and the joint `explain_all` plan of the
  whole batch (shows whether a source's scan is shared across queries).

    python bench/profile_cscli.py -c CONFIG --stages
    python bench/profile_cscli.py -c CONFIG --only 3 [--engine in-memory|streaming]
    python bench/profile_cscli.py -c CONFIG --batch [--late 1,3 [--one-by-one]]

* `--batch`: collect the whole batch in one `pl.collect_all`, as cscli does; with `--late`, the
  listed queries are collected afterwards, in a second `collect_all` (or `--one-by-one`), to
  measure what a memory-aware schedule would save (the queries' peaks no longer add up).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
import polars as pl  # noqa: E402

T_POLARS = time.perf_counter()
from cscli import api  # noqa: E402
from cscli.engine.polars.batch import Batch, Then  # noqa: E402
from cscli.render.jsondoc import render_json  # noqa: E402

T_CSCLI = time.perf_counter()

_captured: list[pl.LazyFrame] = []
_real_collect_all = pl.collect_all


class _Skip(Exception):
    """Raised from the wrapped `Batch.collect` to stop run_report once the queries are built."""


def _capture_only(batch: Batch) -> None:
    """Every query of the batch (a `Then`: its first part), whichever collect would run it
    (above `ONE_HEAVY_ROWS` the heavy ones run in collects of their own, some a step later)."""
    _captured.extend(q.first if isinstance(q, Then) else q for q in batch.queries)
    raise _Skip


def build_queries(config: Path, by: list[str], grain: str) -> list[pl.LazyFrame]:
    """The queries `cscli report -c CONFIG --by ... --grain ...` collects, without running
    them (a two-step query: its first step)."""
    _captured.clear()
    real = Batch.collect
    Batch.collect = _capture_only  # type: ignore[method-assign]
    try:
        api.report(config, by=by, grain=grain)  # type: ignore[arg-type]
    except _Skip:
        pass
    finally:
        Batch.collect = real  # type: ignore[method-assign]
    return list(_captured)


def describe(lf: pl.LazyFrame) -> str:
    """A one-line label for a query: its output columns."""
    names = lf.collect_schema().names()
    return ", ".join(n for n in names if not n.endswith("__n"))[:90]


def stages(config: Path, by: list[str], grain: str, engine: str) -> dict[str, Any]:
    timings: dict[str, float] = {
        "import polars": T_POLARS - T0,
        "import cscli (pipeline, render)": T_CSCLI - T_POLARS,
    }
    t = time.perf_counter()
    cfg = api.open_config(config)
    timings["load config"] = time.perf_counter() - t

    # time collect_all separately from everything else run_report does
    spent: dict[str, float] = {}

    def timed_collect_all(frames: Any, **kwargs: Any) -> Any:
        frames = list(frames)
        _captured.extend(frames)
        t1 = time.perf_counter()
        if engine != "auto":
            kwargs["engine"] = engine
        out = _real_collect_all(frames, **kwargs)
        spent["collect_all"] = spent.get("collect_all", 0.0) + time.perf_counter() - t1
        spent["calls"] = spent.get("calls", 0) + 1
        return out

    pl.collect_all = timed_collect_all  # type: ignore[assignment]
    t = time.perf_counter()
    try:
        result = api.report(cfg, by=by, grain=grain)  # type: ignore[arg-type]
    finally:
        pl.collect_all = _real_collect_all
    total = time.perf_counter() - t
    timings["run_report: scan setup, schema, query build, merge"] = total - spent["collect_all"]
    timings["run_report: pl.collect_all (all queries)"] = spent["collect_all"]
    t = time.perf_counter()
    text = render_json(result)
    timings["render JSON"] = time.perf_counter() - t
    return {
        "timings": timings,
        "collect_all_calls": spent.get("calls", 0),
        "queries": [describe(q) for q in _captured],
        "rows": result.table.height,
        "json_bytes": len(text),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-c", "--config", type=Path, required=True)
    p.add_argument("--by", default="channel")
    p.add_argument("--grain", default="week")
    p.add_argument("--engine", default="auto", choices=["auto", "streaming", "in-memory"])
    p.add_argument("--stages", action="store_true", help="time the stages; print JSON")
    p.add_argument("--only", type=int, help="run only query I of the batch; print JSON")
    p.add_argument("--explain", type=Path, help="write the plans into this folder")
    p.add_argument("--batch", action="store_true", help="collect the whole batch; print JSON")
    p.add_argument("--late", default="", help="with --batch: these queries (0-based) after")
    p.add_argument("--one-by-one", action="store_true", help="with --late: each on its own")
    a = p.parse_args()
    by = [b for b in a.by.split(",") if b]
    if a.stages:
        print(json.dumps(stages(a.config, by, a.grain, a.engine)))
        return 0
    queries = build_queries(a.config, by, a.grain)
    if a.explain:
        a.explain.mkdir(parents=True, exist_ok=True)
        for i, q in enumerate(queries):
            (a.explain / f"query{i:02d}.txt").write_text(
                f"# {describe(q)}\n\n{q.explain(engine=a.engine)}\n"  # type: ignore[arg-type]
            )
        (a.explain / "explain_all.txt").write_text(pl.explain_all(queries) + "\n")
        print(json.dumps({"queries": [describe(q) for q in queries]}))
    if a.batch:
        late = [int(i) for i in a.late.split(",") if i]
        first = [q for i, q in enumerate(queries) if i not in late]
        t = time.perf_counter()
        pl.collect_all(first, engine=a.engine)  # type: ignore[arg-type]
        steps = [time.perf_counter() - t]
        groups = [[queries[i]] for i in late] if a.one_by_one else [[queries[i] for i in late]]
        for group in groups if late else []:
            t = time.perf_counter()
            pl.collect_all(group, engine=a.engine)  # type: ignore[arg-type]
            steps.append(time.perf_counter() - t)
        print(json.dumps({"late": late, "one_by_one": a.one_by_one, "seconds": steps}))
    if a.only is not None:
        q = queries[a.only]
        t = time.perf_counter()
        df = q.collect(engine=a.engine)  # type: ignore[arg-type]
        print(
            json.dumps(
                {"query": a.only, "label": describe(q), "seconds": time.perf_counter() - t}
                | {"rows": df.height}
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
