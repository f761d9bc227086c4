"""The source cache (docs/cache.md): CSV exports kept as canonical Parquet between runs.

A hit, a miss and `--no-cache` give the same report (values, findings with their first rows,
export time, rows read); anything that changes the exports or the source's settings is a miss;
a damaged entry is a miss, never an error; the cache stays bounded; `cscli cache` shows and
clears it. The tests turn the cache on (conftest turns it off for every other test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cscli import api, cache
from cscli.cli import app
from cscli.config import load_config
from cscli.engine.polars import cached as cached_module
from cscli.engine.polars.ingest import materialise
from cscli.engine.polars.sources import load_sources
from tests.conftest import ROOT

Write = Callable[[str, str], Path]
HEADER = "ticket_id,created_at,first_response_at,resolved_at,channel,agent_replies\n"
KPIS = "[ticket_volume, first_response_time, resolution_time, resolution_rate, backlog, csat]"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> cache.Store:
    """The cache on, in a folder of this test's own."""
    monkeypatch.delenv("CSCLI_NO_CACHE", raising=False)
    monkeypatch.setenv("CSCLI_CACHE_DIR", str(tmp_path / "cache"))
    return cache.Store.default()


@pytest.fixture
def exports(write: Write) -> Path:
    """Two ticket files (with findings) and surveys, as in tests/test_ingest.py."""
    write(
        "tickets_a.csv",
        HEADER
        + "1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email,2\n"
        + "2,2026-02-03T09:00:00Z,2026-02-03T09:30:00Z,,chat,1\n"
        + "3,2026-01-13T09:00:00Z,,2026-01-13T08:00:00Z,email,x\n"
        + "4,not a date,,,email,0\n",
    )
    write(
        "tickets_b.csv",
        HEADER
        + "5,2026-02-10T10:00:00Z,2026-02-10T11:00:00Z,2026-02-11T10:00:00Z,chat,3\n"
        + "6,2026-01-20T10:00:00Z,2026-01-20T10:05:00Z,2026-01-20T10:35:00Z,chat,1\n"
        + "7,2026-03-01T00:30:00+01:00,2026-03-01T01:00:00+01:00,,email,1\n",
    )
    write(
        "surveys.csv",
        """
        response_id,responded_at,score,ticket_id
        s1,2026-01-06T10:00:00Z,5,1
        s2,2026-02-04T10:00:00Z,9,2
        s3,2026-01-21T10:00:00Z,4,6
        """,
    )
    return write(
        "cscli.yaml",
        f"""
        timezone: Europe/Berlin
        sources:
          tickets: {{path: "tickets_*.csv"}}
          surveys: {{path: surveys.csv, survey_type: csat}}
        kpis: {KPIS}
        """,
    )


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _report(config: Path, *args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        _run("report", "-c", str(config), "--format", "json", *args).stdout
    )
    doc.pop("generated_at")
    return doc


def _keys(store: cache.Store) -> set[str]:
    return {e.key for e in store.entries()}


def _loads_exports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each source the loader reads from its exports (a hit reads none)."""
    read: list[str] = []
    real = cached_module.load_source

    def spy(name: str, *args: Any) -> Any:
        read.append(name)
        return real(name, *args)

    monkeypatch.setattr(cached_module, "load_source", spy)
    return read


# --- the same report ----------------------------------------------------------------------


def test_hit_miss_and_no_cache_give_the_same_report(
    exports: Path, store: cache.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = _loads_exports(monkeypatch)
    docs = {}
    for args in ([], ["--by", "channel", "--grain", "month"], ["--from", "2026-02-01"]):
        _run("cache", "clear")
        uncached = _report(exports, "--no-cache", *args)
        assert store.entries() == [] and read == []
        miss = _report(exports, *args)
        assert sorted(e.source for e in store.entries()) == ["surveys", "tickets"]
        assert read == ["surveys", "tickets"]
        hit = _report(exports, *args)
        assert read == ["surveys", "tickets"]  # nothing read from the exports again
        assert hit == miss == uncached
        docs[" ".join(args)] = hit
        read.clear()
    totals = docs[""]["totals"]["kpis"]
    # 7 tickets read, ticket 4's created_at unreadable: 6 usable; CSAT: s1 (5) and s3 (4)
    # satisfied, s2's 9 outside 1–5 excluded: 2 of 2
    assert totals["ticket_volume"]["value"] == 6
    assert (totals["csat"]["value"], totals["csat"]["n"]) == (1.0, 2)
    # from February: tickets 2, 5 and 7 (created 2026-03-01 00:30 Berlin)
    assert docs["--from 2026-02-01"]["totals"]["kpis"]["ticket_volume"]["value"] == 3
    findings = [
        (q["source"], q["issue"], q["rows"], [(e["file"], e["row"]) for e in q["examples"]])
        for q in docs[""]["data_quality"]
    ]
    assert findings == [
        ("surveys", "csat score outside 1–5", 1, [("surveys.csv", 3)]),
        ("tickets", "created_at: cannot read as a date-time", 1, [("tickets_a.csv", 5)]),
        ("tickets", "agent_replies: cannot read as a whole number", 1, [("tickets_a.csv", 4)]),
        ("tickets", "resolved_at before created_at", 1, [("tickets_a.csv", 4)]),
    ]


def test_export_time_and_rows_read_are_the_same_from_the_cache(
    exports: Path, store: cache.Store
) -> None:
    def run() -> Any:
        return api.report(exports, by=["channel"], grain="week", trend=True)

    with cache.switched(False):
        uncached = run()
    miss, hit = run(), run()
    assert len(store.entries()) == 2
    for result in (miss, hit):
        assert result.data_end == uncached.data_end
        assert result.sources == uncached.sources
        assert result.data_quality == uncached.data_quality
        for frame in ("table", "totals", "trend"):
            assert getattr(result, frame).equals(getattr(uncached, frame)), frame
    # the newest stamp: ticket 7's first response, 2026-03-01T01:00+01:00 = 00:00 UTC;
    # surveys: s2's response, 2026-02-04T10:00Z (its score is a KPI's exclusion, not the
    # source's)
    assert {n: t.isoformat() for n, t in hit.data_end.items()} == {
        "surveys": "2026-02-04T10:00:00+00:00",
        "tickets": "2026-03-01T00:00:00+00:00",
    }
    assert {s.name: (s.rows, [p.name for p in s.files]) for s in hit.sources} == {
        "surveys": (3, ["surveys.csv"]),
        "tickets": (7, ["tickets_a.csv", "tickets_b.csv"]),
    }


def test_the_sample_gives_the_same_report_from_the_cache(store: cache.Store) -> None:
    sample = api.demo_config_path()
    args = ["--by", "channel", "--grain", "week"]
    uncached = _report(sample, "--no-cache", *args)
    miss = _report(sample, *args)
    hit = _report(sample, *args)
    assert hit == miss == uncached
    assert hit["data_quality"]  # the sample has findings: they come through
    # tickets.csv and surveys.csv are cached; calls.parquet is read as it is
    assert {e.source for e in store.entries()} == {"tickets", "surveys"}


def test_validate_and_check_are_the_same_from_the_cache(
    exports: Path, store: cache.Store, write: Write
) -> None:
    uncached = _run("validate", "-c", str(exports), "--format", "json", "--no-cache").stdout
    miss = _run("validate", "-c", str(exports), "--format", "json").stdout
    hit = _run("validate", "-c", str(exports), "--format", "json").stdout
    assert hit == miss == uncached
    assert "ingested data" not in hit  # the user did not point the source at ingested data
    rules = write(
        "rules.yaml",
        exports.read_text() + 'checks:\n  - {kpi: first_response_time, fail: "> 20m"}\n',
    )
    runs = []
    for i, extra in enumerate((["--no-cache"], [], [])):
        breaches = rules.parent / f"breaches{i}.csv"
        args = ["check", "-c", str(rules), "--format", "json", "--breaches", str(breaches)]
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 1, result.output  # the rule fails
        doc = json.loads(result.stdout)
        doc.pop("generated_at", None)
        runs.append((doc, breaches.read_text(encoding="utf-8")))
    assert runs[0] == runs[1] == runs[2]
    # first responses: 1 10m, 2 30m, 5 60m, 6 5m, 7 30m (3 has none, 4 is unusable): the
    # median 30m > 20m fails; behind it the tickets over 20m, 2, 5 and 7, with file and line
    rows = [line.split(",") for line in runs[0][1].splitlines()[1:]]
    assert sorted((r[5], r[-2], r[-1]) for r in rows) == [
        ("2", "tickets_a.csv", "3"),
        ("5", "tickets_b.csv", "2"),
        ("7", "tickets_b.csv", "4"),
    ]


def test_a_source_filter_is_applied_once(store: cache.Store, write: Write) -> None:
    write(
        "tickets.csv",
        HEADER
        + "1,2026-01-05T09:00:00Z,,,email,1\n"
        + "2,2026-01-06T09:00:00Z,,,chat,1\n"
        + "3,2026-01-07T09:00:00Z,,,email,1\n",
    )
    config = write(
        "f.yaml",
        """
        sources:
          tickets: {path: tickets.csv, filter: "channel = 'email'"}
        kpis: [ticket_volume]
        """,
    )
    values = [
        _report(config, *a)["totals"]["kpis"]["ticket_volume"]["value"]
        for a in (["--no-cache"], [], [])
    ]
    assert values == [2, 2, 2]  # tickets 1 and 3


def test_the_duckdb_engine_reads_the_entries(
    exports: Path, store: cache.Store, tmp_path: Path
) -> None:
    pytest.importorskip("duckdb")
    uncached = _report(exports, "--engine", "duckdb", "--no-cache")
    cached = _report(exports, "--engine", "duckdb")
    assert cached == uncached
    found = materialise(load_config(exports), ["tickets", "surveys"], tmp_path / "work")
    for name in ("tickets", "surveys"):
        assert all(Path(p).is_relative_to(store.root) for p in found[name].paths)
    assert not (tmp_path / "work").exists()  # nothing ingested: the entries are read


# --- invalidation -------------------------------------------------------------------------


def _volume(config: Path) -> Any:
    return _report(config)["totals"]["kpis"]["ticket_volume"]["value"]


def _channels(config: Path) -> dict[str, Any]:
    rows = _report(config, "--by", "channel", "--kpi", "ticket_volume")["rows"]
    return {r["group"]["channel"]: r["kpis"]["ticket_volume"]["value"] for r in rows}


def test_touching_a_file_is_a_miss(exports: Path, store: cache.Store) -> None:
    _volume(exports)
    before = _keys(store)
    path = exports.parent / "tickets_b.csv"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert _volume(exports) == 6
    assert len(_keys(store) - before) == 1  # a new tickets entry; surveys was a hit


def test_appending_a_row_is_a_miss(exports: Path, store: cache.Store) -> None:
    assert _volume(exports) == 6
    path = exports.parent / "tickets_b.csv"
    with path.open("a", encoding="utf-8") as f:
        f.write("8,2026-02-20T10:00:00Z,,,chat,0\n")
    assert _volume(exports) == 7  # 6 + ticket 8


def test_a_changed_byte_with_size_and_mtime_restored_is_a_miss(
    exports: Path, store: cache.Store
) -> None:
    assert _channels(exports) == {"chat": 3, "email": 3}
    path = exports.parent / "tickets_b.csv"
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    # ticket 6: chat → mail (same length: same size)
    changed = text.replace("10:35:00Z,chat,1", "10:35:00Z,mail,1")
    assert changed != text and len(changed) == len(text)
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    # chat: tickets 2, 5 (6 is mail now); email: 1, 3, 7 (4 unusable); mail: 6
    assert _channels(exports) == {"chat": 2, "email": 3, "mail": 1}


def test_what_a_large_file_edit_can_hide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # beyond WHOLE_FILE_LIMIT only the head and tail are hashed: a same-size edit in the
    # middle keeps that hash, and only the file's ctime (which no tool restores) tells
    monkeypatch.setattr(cache, "WHOLE_FILE_LIMIT", 100)
    monkeypatch.setattr(cache, "EDGE", 10)
    path = tmp_path / "big.csv"
    path.write_bytes(b"a" * 50 + b"b" * 100 + b"c" * 50)
    before = cache.file_identity(path)
    st = path.stat()
    path.write_bytes(b"a" * 50 + b"b" * 49 + b"X" + b"b" * 50 + b"c" * 50)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = cache.file_identity(path)
    assert after["hash"] == before["hash"]
    assert (after["size"], after["mtime_ns"]) == (before["size"], before["mtime_ns"])
    assert after["ctime_ns"] >= before["ctime_ns"]
    # small files are hashed whole: the same edit changes the hash
    monkeypatch.setattr(cache, "WHOLE_FILE_LIMIT", 1000)
    assert cache.file_identity(path)["hash"] != before["hash"]


def test_a_changed_mapping_or_timezone_is_a_miss(
    exports: Path, store: cache.Store, write: Write
) -> None:
    write(
        "zoned.csv",
        "ticket_id,opened,channel\n1,2026-01-31 23:30:00,email\n2,2026-02-01 00:30:00,chat\n",
    )

    def config(extra: str, columns: str = "created_at: opened") -> Path:
        return write(
            "z.yaml",
            f"""
            timezone: UTC
            sources:
              tickets: {{path: zoned.csv, columns: {{{columns}}}{extra}}}
            kpis: [ticket_volume]
            """,
        )

    def months(path: Path) -> dict[str, Any]:
        doc = _report(path, "--grain", "month", "--from", "2026-01-01", "--to", "2026-02-28")
        return {r["group"]["period"]: r["kpis"]["ticket_volume"]["value"] for r in doc["rows"]}

    assert months(config("")) == {"2026-01-01": 1, "2026-02-01": 1}  # naive stamps read as UTC
    # read in Tokyo (UTC+9): 2026-01-31 14:30 and 15:30 UTC, both in January
    assert months(config(", timezone: Asia/Tokyo")) == {"2026-01-01": 2, "2026-02-01": 0}
    assert len(store.entries()) == 2
    # another mapping: channel read from another column gives another entry too
    write("zoned.csv", "ticket_id,opened,channel,queue\n1,2026-01-31 23:30:00,email,a\n")
    assert _channels(config("")) == {"email": 1}
    assert _channels(config("", "created_at: opened, channel: queue")) == {"a": 1}


def test_settings_cover_every_field_the_source_sets(exports: Path) -> None:
    cfg = load_config(exports).sources["surveys"]
    shown = cached_module.settings(cfg)
    assert shown["config"]["survey_type"] == "csat" and "survey_type" in shown["set"]
    # `timezone: UTC` set explicitly differs from the default UTC (it overrides a header zone)
    explicit = cfg.model_copy(update={"timezone": "UTC"})
    explicit.model_fields_set.add("timezone")
    assert cached_module.settings(explicit) != shown


# --- damaged entries, concurrency, bounds ---------------------------------------------------


def test_a_damaged_entry_is_a_miss_and_is_replaced(exports: Path, store: cache.Store) -> None:
    good = _report(exports)
    for damage in ("truncate", "manifest", "description"):
        [entry] = [e for e in store.entries() if e.source == "tickets"]
        part = next(entry.folder.rglob("*.parquet"))
        if damage == "truncate":
            part.write_bytes(part.read_bytes()[:100])
        elif damage == "manifest":
            (entry.folder / "cscli-ingest.json").unlink()
        else:
            (entry.folder / cache.ENTRY_FILE).write_text("{not json")
        assert _report(exports) == good
        assert [e.source for e in store.entries()].count("tickets") == 1


def test_a_manifest_damaged_after_the_check_is_read_from_the_exports(
    exports: Path, store: cache.Store
) -> None:
    good = _report(exports)
    [entry] = [e for e in store.entries() if e.source == "tickets"]
    (entry.folder / "cscli-ingest.json").write_text('{"format": "cscli-ingest", "version": 1}')
    assert _report(exports) == good  # read back fails: the exports are read, the entry goes


def test_an_unwritable_cache_folder_still_reports(
    exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSCLI_NO_CACHE", raising=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CSCLI_CACHE_DIR", str(blocker))
    assert _volume(exports) == 6


def test_an_entry_that_cannot_be_written_is_skipped(
    exports: Path, store: cache.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polars as pl

    good = _report(exports, "--no-cache")

    def too_large(*_: Any) -> Any:
        raise pl.exceptions.ComputeError("parquet: underlying IO error: File too large")

    monkeypatch.setattr(cached_module, "write_source_entry", too_large)
    assert _report(exports) == good
    assert store.entries() == [] and list(store.root.iterdir()) == []  # nothing half-written


def test_a_malformed_line_is_the_same_error_with_the_cache(
    store: cache.Store, tmp_path: Path
) -> None:
    bad = ROOT / "tests" / "data" / "bad" / "late_ragged_row.csv"
    config = tmp_path / "bad.yaml"
    config.write_text(f"sources:\n  tickets: {{path: '{bad}'}}\n", encoding="utf-8")
    errors = []
    for extra in (["--no-cache"], [], []):
        result = CliRunner().invoke(app, ["report", "-c", str(config), *extra])
        assert result.exit_code == 2
        errors.append(result.stderr)
    assert errors[0] == errors[1] == errors[2]
    # the loader reads 1,000 rows up front; line 1,502 fails when the whole file is read
    assert "late_ragged_row.csv: line 1502: 4 fields, but the header has 3" in errors[0]
    assert store.entries() == []


def test_two_commits_of_one_key_keep_one_entry(store: cache.Store) -> None:
    made = []
    for text in ("first", "second"):
        with store.building() as tmp:
            (tmp / "t" / "month=none").mkdir(parents=True)
            (tmp / "t" / "month=none" / "part-0.parquet").write_text(text)
            (tmp / "cscli-ingest.json").write_text("{}")
            made.append(
                store.commit(
                    tmp,
                    "k",
                    source="tickets",
                    slot="s",
                    config_file="c.yaml",
                    files=["t.csv"],
                    rows=1,
                    manifest="cscli-ingest.json",
                )
            )
    assert made[0] is not None and made[1] is not None
    assert made[1].folder == made[0].folder
    assert (made[0].folder / "t" / "month=none" / "part-0.parquet").read_text() == "first"
    assert sorted(p.name for p in store.root.iterdir()) == ["k"]  # no temporary folder left


def test_concurrent_cold_runs_agree(exports: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CSCLI_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("CSCLI_NO_CACHE", None)
    cmd = [sys.executable, "-m", "cscli", "report", "-c", str(exports), "--format", "json"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    docs = [json.loads(out) for out, _ in outs]
    for doc in docs:
        doc.pop("generated_at")
    assert docs[0] == docs[1]
    entries = cache.Store(tmp_path / "cache" / cache.SOURCES).entries()
    assert sorted(e.source for e in entries) == ["surveys", "tickets"]


def _age(store: cache.Store, seconds: float) -> None:
    """Every entry as if last used and created `seconds` ago."""
    for e in store.entries():
        path = e.folder / cache.ENTRY_FILE
        st = path.stat()
        os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


def test_old_versions_of_a_source_are_evicted(
    exports: Path, store: cache.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = exports.parent / "tickets_b.csv"
    for i in range(3):
        _age(store, 2 * cache.GRACE_SECONDS)  # the earlier runs are over
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{10 + i},2026-02-2{i}T10:00:00Z,,,chat,0\n")
        assert _volume(exports) == 7 + i
    tickets = [e for e in store.entries() if e.source == "tickets"]
    # three versions written, the newest two kept (KEEP_PER_SLOT)
    assert len(tickets) == cache.KEEP_PER_SLOT == 2
    assert sorted(e.rows for e in tickets) == [9, 10]


def test_recently_used_entries_are_not_evicted(exports: Path, store: cache.Store) -> None:
    path = exports.parent / "tickets_b.csv"
    for i in range(3):
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{10 + i},2026-02-2{i}T10:00:00Z,,,chat,0\n")
        _volume(exports)
    # every version was used within the grace period: another run may still read it
    assert len([e for e in store.entries() if e.source == "tickets"]) == 3


def test_the_size_cap_evicts_the_least_recently_used(
    exports: Path, store: cache.Store, monkeypatch: pytest.MonkeyPatch, write: Write
) -> None:
    _volume(exports)
    _age(store, 2 * cache.GRACE_SECONDS)
    other = write("other.yaml", exports.read_text().replace("tickets_*.csv", "tickets_a.csv"))
    monkeypatch.setenv("CSCLI_CACHE_MAX_MB", "0")
    _volume(other)
    # over a cap of 0: the old tickets entry goes; the one just written stays, and so does
    # surveys' (a hit of this run: in use)
    assert sorted((e.source, e.rows) for e in store.entries()) == [("surveys", 3), ("tickets", 4)]


# --- switching it off, and `cscli cache` ------------------------------------------------------


def test_no_cache_and_the_environment_turn_it_off(
    exports: Path, store: cache.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(exports, "--no-cache")
    assert store.entries() == []
    assert cache.enabled()  # --no-cache lasts as long as its command
    monkeypatch.setenv("CSCLI_NO_CACHE", "1")
    _report(exports)
    assert store.entries() == []
    monkeypatch.setenv("CSCLI_NO_CACHE", "0")
    _report(exports)
    assert len(store.entries()) == 2


def test_ingest_reads_the_exports(exports: Path, store: cache.Store, tmp_path: Path) -> None:
    _run("ingest", "-c", str(exports), "-o", str(tmp_path / "lake"))
    assert store.entries() == []


def test_cache_commands(exports: Path, store: cache.Store, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    assert _run("cache", "path").stdout == f"{folder}\n"
    _report(exports)
    doc = json.loads(_run("cache", "info", "--format", "json").stdout)
    assert doc["folder"] == str(folder) and doc["enabled"] is True
    assert {s["source"]: s["rows"] for s in doc["sources"]} == {"tickets": 7, "surveys": 3}
    tickets = next(s for s in doc["sources"] if s["source"] == "tickets")
    assert [Path(f).name for f in tickets["files"]] == ["tickets_a.csv", "tickets_b.csv"]
    assert doc["bytes"] == sum(s["bytes"] for s in doc["sources"]) > 0
    text = _run("cache", "info").stdout
    assert "source cache: on; 2 entries" in text and "tickets: 7 rows" in text
    mine = folder / "notes.txt"
    mine.write_text("not the cache's")
    scores = folder / "sentiment-vader-3.3.2.parquet"
    scores.write_bytes(b"x" * 10)
    assert _run("cache", "clear", "--keep-scores").stdout.startswith("removed 2 cached item(s)")
    assert store.entries() == [] and scores.exists()
    assert _run("cache", "clear").stdout.startswith("removed 1 cached item(s)")
    assert not scores.exists() and mine.read_text() == "not the cache's"
    assert "0 entries" in _run("cache", "info").stdout


def test_cache_dir_follows_the_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CSCLI_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert cache.cache_dir() == tmp_path / ".cache" / "cscli"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache.cache_dir() == tmp_path / "Library" / "Caches" / "cscli"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert cache.cache_dir() == tmp_path / "Local" / "cscli" / "Cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "cscli"
    monkeypatch.setenv("CSCLI_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"


def test_loaded_sources_from_the_cache_match_the_exports(exports: Path, store: cache.Store) -> None:
    config = load_config(exports)
    with cache.switched(False):
        original = load_sources(config, ["tickets"])["tickets"]
    load_sources(config, ["tickets"])  # the miss writes the entry
    again = load_sources(config, ["tickets"])["tickets"]
    order = ["_file", "_row", "ticket_id", "created_at", "channel"]
    assert (
        again.frame.select(order).collect().rows() == original.frame.select(order).collect().rows()
    )
    assert (again.columns, again.dimensions, again.files) == (
        original.columns,
        original.dimensions,
        original.files,
    )
    assert (again.mapping, again.unmapped) == (original.mapping, original.unmapped)
    assert again.canonical_dir is None and again.checks == ()


# --- start-up ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["kpis"],
        ["kpis", "--format", "json"],
        ["kpis", "--format", "md"],
        ["cache", "info"],
        ["cache", "path"],
        ["cache", "--help"],
        ["--help"],
    ],
)
def test_commands_that_compute_nothing_import_no_polars(args: list[str], tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cscli.cli import app\n"
        f"result = CliRunner().invoke(app, {args!r})\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('polars', 'pyarrow', 'duckdb') if m in sys.modules))"
    )
    env = {**os.environ, "CSCLI_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"
