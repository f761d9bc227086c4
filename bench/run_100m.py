"""The 100M-ticket variant of `bench/run.py` (`python bench/run.py --size 100m`).

100M tickets in 10 monthly Parquet files (`python -m cscli.sampledata --months 10`, generated
month by month: never the whole set in memory), and 7 ticket KPIs with a median and a p90 by
channel × month:

* (a) `cscli report -c bench100.yaml --by channel --grain month --format json`, the config's
  tickets source being the glob `tickets/*.parquet`;
* (b) the same KPIs in DuckDB SQL (`bench/duckdb_100m.py`), compared value by value;
* (c) the floor: polars (and DuckDB) scan the columns the KPIs need and sum them.

`--months N` takes N months of 10M (`--per-month`) tickets instead: a 20M or 30M subset of the
same generator to iterate on. Each variant runs as its own process under `run.py`'s wrapper
(wall time, CPU seconds, peak RSS). The results go to `bench/results/<N>m-tickets-monthly/`;
the 100M run's results are rendered as the last section of `docs/performance.md`.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
PY = sys.executable
#: the KPIs of the 100M bench, in the config's order (all checked against DuckDB)
KPIS = (
    "ticket_volume",
    "first_response_time",
    "frt_p90",
    "resolution_time",
    "resolution_rate",
    "backlog",
    "reopen_rate",
)
HEADING = "## 100M tickets in monthly files"
GENERATE = "python -m cscli.sampledata --months 10 --tickets 100000000"
#: the issue's targets at 100M
BAR_RSS_MIB = 6 * 1024
BAR_RATIO = 1.5
CONFIG = """# written by bench/run.py --size 100m: 7 ticket KPIs over the monthly files
version: 1
timezone: UTC
sources:
  tickets:
    path: tickets/*.parquet
kpis:
  - ticket_volume
  - first_response_time
  - {id: frt_p90, kpi: first_response_time, stat: p90}
  - resolution_time
  - resolution_rate
  - backlog
  - reopen_rate
"""


def size_label(months: int, per_month: int, human: Any) -> str:
    return f"{human(months * per_month)}-tickets-monthly"


def ensure_data(base: ModuleType, data: Path, months: int, per_month: int) -> dict[str, Any]:
    """Generate the monthly files unless they are there; the generation's measurement (wall,
    CPU, peak RSS) is kept in `generation.json` beside them, so a later run reports it."""
    record = data / "generation.json"
    files = sorted((data / "tickets").glob("*.parquet"))
    if len(files) == months and record.exists():
        return dict(json.loads(record.read_text()))
    base.log(f"generating {data.name}: {months} months × {per_month:,} tickets ...")
    data.mkdir(parents=True, exist_ok=True)
    for f in files:
        f.unlink()
    cmd = [PY, "-m", "cscli.sampledata", "--out", str(data), "--months", str(months)]
    cmd += ["--tickets", str(months * per_month)]
    run = base._measure_once(cmd, data / "generate.log")  # not repeated: minutes, same RSS
    if run["rc"] != 0:
        raise SystemExit(f"data generation failed:\n{run.get('stderr')}")
    shown = [str(data.relative_to(BENCH.parent)) if c == str(data) else c for c in cmd[3:]]
    run["command"] = "python -m cscli.sampledata " + " ".join(shown)
    record.write_text(json.dumps(run, indent=1) + "\n")
    return run


def data_facts(data: Path) -> dict[str, Any]:
    import polars as pl

    files = sorted((data / "tickets").glob("*.parquet"))
    lf = pl.scan_parquet(files)
    return {
        "files": len(files),
        "first": files[0].name,
        "last": files[-1].name,
        "rows": lf.select(pl.len()).collect().item(),
        "columns": len(lf.collect_schema()),
        "bytes": sum(f.stat().st_size for f in files),
    }


def variants(base: ModuleType, cfg: Path, data: Path, out: Path) -> dict[str, Any]:
    report = [*base.cscli_exe(), "report", "-c", str(cfg), "--by", "channel"]
    report += ["--grain", "month", "--format", "json"]
    floor = [PY, str(BENCH / "floor.py"), "--data", str(data), "--monthly", "--engine"]
    duck = [PY, str(BENCH / "duckdb_100m.py"), "--data", str(data)]
    return {
        "cscli": (report, out / "cscli.json"),
        "duckdb": ([*duck, "--out", str(out / "duckdb.json")], out / "duckdb.stdout"),
        "floor_polars": ([*floor, "polars"], out / "floor_polars.json"),
        "floor_duckdb": ([*floor, "duckdb"], out / "floor_duckdb.json"),
    }


def run(a: Any, base: ModuleType) -> int:
    """`bench/run.py --size 100m [--months N]`: measure, compare, profile, save, render."""
    months, per_month = a.months, a.per_month
    size = size_label(months, per_month, base.human)
    data, out = BENCH / "data" / size, BENCH / "results" / size
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    if a.docs_only:
        write_docs(base, json.loads(results_file.read_text()))
        return 0
    started = time.perf_counter()
    generation = ensure_data(base, data, months, per_month)
    cfg = data / "bench100.yaml"
    cfg.write_text(CONFIG)
    res: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "size": size,
        "months": months,
        "per_month": per_month,
        "repeat": a.repeat,
        "machine": base.machine(),
        "versions": base.versions(),
        "data": data_facts(data),
        "generation": generation,
    }
    todo = variants(base, cfg, data, out)
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in todo}
    base.log("warm-up (page cache): floor_polars")
    base.measure(todo["floor_polars"][0], out / "warmup.json")
    for r in range(a.repeat):
        for name, (cmd, stdout) in todo.items():
            base.log(f"run {r + 1}/{a.repeat}: {name}")
            # the floor gets cscli's allocator setting, so it stays the best polars can do
            env = {"_RJEM_MALLOC_CONF": base.JEMALLOC} if name == "floor_polars" else None
            if name == "cscli":  # a first run: no Parquet facts kept from an earlier one
                env = {"CSCLI_NO_CACHE": "1"}
            result = base.measure(cmd, stdout, env)
            runs[name].append(result)
            base.log(
                f"   wall {result['wall_s'] or 0:.2f} s, CPU {result['cpu_s'] or 0:.1f} s, "
                f"peak RSS {result['peak_rss_mib'] or 0:.0f} MiB, rc {result['rc']}, "
                f"other processes {result.get('others_cores') or 0:.2f} cores"
            )
    res["timed"] = {k: base.summary(v) for k, v in runs.items()}
    if res["timed"]["cscli"]["ok"] and res["timed"]["duckdb"]["ok"]:
        cs = json.loads((out / "cscli.json").read_text())
        dk = json.loads((out / "duckdb.json").read_text())
        res["compare"] = base.compare(cs, dk, KPIS)
        res["duckdb_timings"] = dk.get("timings")
        base.log(
            f"compare cscli vs duckdb: {res['compare']['compared']} values, "
            f"{res['compare']['mismatch_count']} mismatches"
        )
    if not a.no_profile:
        res["profile"] = base.profile(cfg, data, out, skip_queries=a.no_per_query, grain="month")
        res["experiments"] = experiments(base, data, out)
        joint = out / "plans" / "explain_all.txt"
        if joint.exists():
            text = joint.read_text()
            res["profile"]["scans"] = {"tickets/*.parquet": len(re.findall(r"SCAN \[", text))}
    res["run_seconds"] = time.perf_counter() - started
    results_file.write_text(json.dumps(res, indent=1, default=str) + "\n")
    base.log(f"wrote {results_file}")
    if a.write_docs:
        write_docs(base, res)
    _print_summary(res)
    return 0


#: the experiments run at the set's size (`bench/experiments.py`): the duplicate-id check
EXPERIMENTS = {
    "duplicate_ids": ("first_distinct", "n_unique", "sorted_runs"),
    "median": ("median_in_group_by", "median_two_pass"),
}


def experiments(base: ModuleType, data: Path, out: Path) -> dict[str, Any]:
    exp = [PY, str(BENCH / "experiments.py"), "--data", str(data)]
    spec = json.loads(base.subprocess.run([*exp, "--list"], capture_output=True, text=True).stdout)
    res: dict[str, Any] = {}
    for name, variants in EXPERIMENTS.items():
        rows = []
        for variant in variants:
            base.log(f"experiment {name}: {variant}")
            path = out / f"exp_{name}_{variant}.json"
            run = base.measure(
                [*exp, "--run", name, "--variant", variant], path, {"POLARS_VERBOSE": "1"}
            )
            keys = ("rc", "wall_s", "peak_rss_mib", "cpu_s", "others_cores", "streaming_nodes")
            row = {"variant": variant, "doc": spec[name]["variants"][variant]}
            row |= {k: run.get(k) for k in keys}
            if run["rc"] == 0:
                row |= json.loads(path.read_text())
            rows.append(row)
        res[name] = {"title": spec[name]["title"], "variants": rows}
    return res


def _print_summary(res: dict[str, Any]) -> None:
    print(f"size {res['size']}  ({res['run_seconds']:.0f} s)")
    for name, s in res["timed"].items():
        if s["ok"]:
            print(
                f"  {name:14s} wall {s['wall_s']:7.2f} s  CPU {s['cpu_s']:7.1f} s  "
                f"peak RSS {s['peak_rss_mib']:7.0f} MiB"
            )
        else:
            print(f"  {name:14s} FAILED: {s['error'][-300:]}")
    if "compare" in res:
        c = res["compare"]
        print(f"  cscli vs duckdb: {c['compared']} values, {c['mismatch_count']} mismatches")


# --- docs/performance.md ------------------------------------------------------------------


def saved(size: str = "100m-tickets-monthly") -> dict[str, Any] | None:
    f = BENCH / "results" / size / "results.json"
    return dict(json.loads(f.read_text())) if f.exists() else None


def with_section(page: str, res: dict[str, Any] | None, old: str = "") -> str:
    """`page` (docs/performance.md) with its 100M section replaced by the one of `res`; with
    no 100M results (a fresh checkout: they are not committed), the section of `old` (the
    page as it was) is kept."""
    head = page.partition("\n" + HEADING)[0].rstrip()
    if res is not None:
        return head + "\n\n" + render_section(res)
    _, found, section = old.partition("\n" + HEADING)
    return head + "\n\n" + HEADING + section if found else page


def write_docs(base: ModuleType, res: dict[str, Any]) -> None:
    """Replace the 100M section of docs/performance.md (only a 100M run goes there: a subset's
    results stay in its results.json)."""
    if not res["size"].startswith("100m"):
        base.log(f"not writing docs: {res['size']} is a subset, not the 100M set")
        return
    docs: Path = base.DOCS
    docs.write_text(with_section(docs.read_text() if docs.exists() else "", res))
    base.log(f"wrote {docs}")


def render_section(res: dict[str, Any]) -> str:
    lines: list[str] = []
    w = lines.append
    row, f = _row, _f
    t, d, g = res["timed"], res["data"], res.get("generation") or {}
    w(HEADING)
    w("")
    w(
        f"Generated by `python bench/run.py --size 100m --write-docs` ({res['generated_at']}, "
        f"{res['run_seconds'] / 60:.1f} min, cscli at commit `{res['versions']['commit']}`); "
        f"raw results: `bench/results/{res['size']}/results.json`."
    )
    w("")
    w(
        f"* Data: {d['rows']:,} tickets in {d['files']} monthly Parquet files "
        f"(`{d['first']}` … `{d['last']}`, {d['columns']} columns, "
        f"{d['bytes'] / 2**20:,.0f} MiB), written by `{g.get('command', GENERATE)}`"
        " one month at a time (`cscli/sampledata_months.py`)"
        + (
            f": {g['wall_s']:.0f} s, {g['cpu_s']:.0f} CPU s, peak RSS {g['peak_rss_mib']:,.0f} MiB."
            if g.get("wall_s")
            else "."
        )
    )
    w(
        "* Report: `cscli report -c bench/data/100m-tickets-monthly/bench100.yaml --by channel "
        "--grain month --format json`; the config's tickets source is the glob "
        "`tickets/*.parquet` and its 7 KPIs are " + ", ".join(f"`{k}`" for k in KPIS) + " "
        "(`frt_p90`: first_response_time with `stat: p90`; two medians, one p90, a stock)."
    )
    w(
        f"* Method as above (one process per variant, the median of {res['repeat']} run(s)); "
        "wall time is noisy on the shared machine, CPU seconds and peak RSS are not."
    )
    w("")
    duck = t.get("duckdb", {})
    labels = {
        "cscli": "(a) cscli report, 7 ticket KPIs (a first run: `CSCLI_NO_CACHE=1`)",
        "duckdb": "(b) the same 7 KPIs in DuckDB SQL (`bench/duckdb_100m.py`)",
        "floor_polars": "(c) floor: polars scans the needed columns and sums them",
        "floor_duckdb": "(c′) floor: the same in DuckDB",
    }
    w(row("variant", "wall s", "peak RSS MiB", "CPU s", "others' CPU", "wall ÷ DuckDB"))
    w(row("---", "---:", "---:", "---:", "---:", "---:"))
    for key, label in labels.items():
        s = t.get(key)
        if not s:
            continue
        if not s["ok"]:
            w(row(label, "failed", "", "", "", ""))
            continue
        ratio = s["wall_s"] / duck["wall_s"] if duck.get("ok") else None
        w(
            row(
                label,
                f"{f(s['wall_s'])} ({f(s['wall_min'])}–{f(s['wall_max'])})",
                f(s["peak_rss_mib"], 0),
                f(s["cpu_s"], 1),
                f(s.get("others_cores"), 2),
                f"{ratio:.2f}×" if ratio else "–",
            )
        )
    w("")
    cmp_ = res.get("compare")
    if cmp_:
        w(
            f"Correctness: {cmp_['compared']:,} values compared ({cmp_['groups']} groups incl. "
            f"the totals row × {len(cmp_['kpis'])} KPIs; value within 1e-09 relative, n equal): "
            f"**{cmp_['mismatch_count']} mismatches**."
        )
        for mm in cmp_["mismatches"][:10]:
            w(f"* {mm['group']} {mm['kpi']}: cscli {mm['cscli']}, DuckDB {mm['other']}")
        w("")
    a = t.get("cscli", {})
    if a.get("ok") and duck.get("ok"):
        ratio = a["wall_s"] / duck["wall_s"]
        rss = a["peak_rss_mib"]
        w(
            "The targets (issue #14): ≤ 6 GB peak RSS and ≤ 1.5× DuckDB's time. Peak RSS "
            f"{rss:,.0f} MiB against {BAR_RSS_MIB:,} MiB: "
            f"**{'met' if rss <= BAR_RSS_MIB else 'NOT met'}**; "
            f"time {a['wall_s']:.1f} s against DuckDB's {duck['wall_s']:.1f} s = **{ratio:.2f}×**: "
            f"**{'met' if ratio <= BAR_RATIO else 'NOT met'}** (CPU: {a['cpu_s']:.1f} s against "
            f"{duck['cpu_s']:.1f} s = {a['cpu_s'] / duck['cpu_s']:.2f}×)."
        )
        w("")
    dt = res.get("duckdb_timings")
    if dt:
        w("DuckDB's queries: " + "; ".join(f"{q['query']} {q['seconds']:.1f} s" for q in dt) + ".")
        w("")
    prof, at = res.get("profile", {}), d["rows"]
    if not prof.get("per_query"):  # per-query runs at 100M take long: a subset's, if saved
        sub = next(
            (r for r in map(saved, SUBSETS) if r and r.get("profile", {}).get("per_query")), None
        )
        if sub:
            prof, at = sub["profile"], sub["data"]["rows"]
    pq = prof.get("per_query")
    if pq:
        w(
            f"cscli's {len(pq)} queries at {at / 1e6:g}M tickets, each run alone (streaming, its "
            "own process, `bench/profile_cscli.py --only I`; *in-memory fallback*: "
            "`POLARS_VERBOSE=1` shows the streaming engine handing an operation, with all its "
            "input, to the in-memory engine):"
        )
        w("")
        w(row("#", "query (output columns)", "s", "peak RSS MiB", "CPU s", "in-memory fallback"))
        w(row("---:", "---", "---:", "---:", "---:", "---"))
        for q in sorted(pq, key=lambda q: -(q.get("peak_rss_mib") or 0)):
            nodes = q.get("streaming_nodes")
            w(
                row(
                    q["i"],
                    q["label"][:70].replace("|", "/"),
                    f(q.get("query_s")),
                    f(q.get("peak_rss_mib"), 0),
                    f(q.get("cpu_s"), 1),
                    "–" if nodes is None else ("yes" if "in-memory-map" in nodes else "no"),
                )
            )
        w("")
    for e in res.get("experiments", {}).values():
        w(
            f"{e['title'].capitalize()} at {d['rows'] / 1e6:g}M tickets (`bench/experiments.py`, "
            "one process per variant; equal digests mean equal results):"
        )
        w("")
        w(row("variant", "wall s", "peak RSS MiB", "CPU s", "digest"))
        w(row("---", "---:", "---:", "---:", "---"))
        for x in e["variants"]:
            w(
                row(
                    f"`{x['variant']}`",
                    f(x.get("wall_s")),
                    f(x.get("peak_rss_mib"), 0),
                    f(x.get("cpu_s"), 1),
                    x.get("digest", "failed"),
                )
            )
        w("")
        for x in e["variants"]:
            w(f"* `{x['variant']}`: {' '.join(x['doc'].split())}")
        w("")
    _memory_notes(res, w)
    return "\n".join(lines).rstrip() + "\n"


#: the subsets whose per-query profile stands in for the 100M one (`--months 2`, `--months 3`)
SUBSETS = ("20m-tickets-monthly", "30m-tickets-monthly")


def _memory_notes(res: dict[str, Any], w: Any) -> None:
    t, g = res["timed"], res.get("generation") or {}
    fl = t.get("floor_polars", {})
    w("### Where cscli's memory goes at 100M")
    w("")
    w(
        "* Not into reading: the floor (c) decodes the same columns of the "
        f"{res['data']['files']} files"
        + (f" in {fl['peak_rss_mib']:,.0f} MiB" if fl.get("ok") else "")
        + ". The loader passes typed Parquet columns through as they are (a µs UTC timestamp's "
        "zone conversion and unit cast are no-ops) and keeps no raw copy of a column that "
        "cannot fail to read (a zone-aware timestamp within the readable years, an integer "
        "type that fits in Int64: its unreadable-cell check could only count 0), trims and "
        "lower-cases codes per morsel, and widens nothing before the KPIs' own expressions; "
        "`_row` and `_file` are not read by the KPI queries."
    )
    w(
        "* Shared scans: every query reads the tickets through one cached node, and polars' "
        "streaming engine runs one memory-intensive node (a group_by, a join) at a time, so "
        "the cache keeps every morsel for the group_bys still waiting — about 55 bytes a row "
        "each (20M tickets: 2.17 GB in one `collect_all`, 1.08 GB in rounds; at 100M 9.5 GB "
        "against 1.9 GB). Above 25M rows (`ONE_HEAVY_ROWS` in "
        "`cscli/engine/polars/engine.py`, from Parquet's metadata) the batch "
        "(`cscli/engine/polars/batch.py`) collects its light queries with the first group_by, "
        "then each other group_by alone: one more read of its columns each, and a peak that "
        "no longer grows with the rows."
    )
    w(
        "* Quantiles (the two medians and the p90): polars' streaming `group_by` has no "
        "quantile (a grouped query asking for one falls back to the in-memory engine with "
        "every input column: 10 GB for one median at 100M), so cscli computes them in two "
        "streaming passes (`cscli/engine/polars/quantiles.py`): the counts of each group's "
        "values per bucket of a monotone bucketing of the floats (64 per power of two) locate "
        "the buckets of ranks ⌊h⌋ and ⌈h⌉, h = (n − 1)·q; the second pass reads only those "
        "buckets' rows. polars' own linear quantile bit for bit; the totals and the trend "
        "roll up from the groups' counts."
    )
    w(
        "* Duplicate ids: `ticket_id.hash().is_first_distinct()` in the quality query keeps a "
        "hash set of every id (`first_distinct` above; `n_unique` costs as much or more). The "
        "loader gives the check a constant-memory count "
        "(`cscli/engine/polars/loader/findings.py`, `sorted_repeats`): when the ids arrive in "
        "ascending order (an export sorted by id, as these files are), `is_sorted` proves it "
        "(neighbours compared) and `rle_id` counts the runs, so the repeats are the ids minus "
        "the runs, exactly and without a hash; for an unsorted export the hash pass runs as "
        "before, but in a second query after the batch (`quality.py`), so it does not add to "
        "the batch's peak. The rows of a finding are fetched only when there is one."
    )
    w(
        "* The allocator: polars allocates through jemalloc and asks it to return freed pages "
        "to the kernel within half a second, so the next morsel faults them in again; cscli "
        "turns that decay off (`cscli/__init__.py`, unless the caller set "
        "`_RJEM_MALLOC_CONF`), and the floor (c) runs with the same setting. Turning "
        "jemalloc's background threads off as well cut the context switches tenfold but "
        "raised this run's peak RSS from 1.6 to 3.0 GB: they stay on."
    )
    if g.get("peak_rss_mib"):
        w(
            f"* Generating the set (`cscli/sampledata_months.py`) holds one month at a time: "
            f"peak RSS {g['peak_rss_mib']:,.0f} MiB for all {res['data']['rows']:,} tickets "
            f"({g['cpu_s']:.0f} CPU s); a month is reproducible on its own (seed·1000 + k + 1)."
        )
    w("")


def _f(x: float | None, nd: int = 2) -> str:
    return "–" if x is None else f"{x:,.{nd}f}"


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
