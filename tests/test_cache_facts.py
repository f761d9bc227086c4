"""The Parquet facts kept between runs (`cscli.cache_facts`, docs/cache.md).

Before its queries the loader reads a Parquet source's code columns' distinct values and its
timestamp columns' bounds (`loader.known`); with the cache on they are kept, keyed by the
files and what is read of them. A hit, a miss and `--no-cache` give the same report; a file
that changes is a miss (the new values are cleaned, not the old ones trusted); a damaged
file is read again; `cscli cache` shows and clears them.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from cscli import cache, cache_facts
from cscli.cli import app
from tests.test_cache import _report


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache on, in a folder of this test's own; returns the facts folder."""
    monkeypatch.delenv("CSCLI_NO_CACHE", raising=False)
    monkeypatch.setenv("CSCLI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / cache.FACTS


def _tickets(path: Path, statuses: list[str]) -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    n = len(statuses)
    pl.DataFrame(
        {
            "ticket_id": [str(i) for i in range(n)],
            "created_at": [at] * n,
            "resolved_at": [None] * n,
            "status": statuses,
            "channel": ["email"] * n,
        },
        schema_overrides={
            "created_at": pl.Datetime("us", "UTC"),
            "resolved_at": pl.Datetime("us", "UTC"),
        },
    ).write_parquet(path)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    # none resolved; two closed (ended without a resolution), one open: open share 1/3
    _tickets(tmp_path / "tickets.parquet", ["closed", "closed", "open"])
    path = tmp_path / "cscli.yaml"
    path.write_text(
        "sources:\n  tickets: {path: tickets.parquet}\n"
        "kpis: [ticket_volume, resolution_rate, resolution_time]\n",
        encoding="utf-8",
    )
    return path


def _writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each facts file written (a hit writes none)."""
    keys: list[str] = []
    real = cache_facts.write_facts

    def spy(key: str, text: str) -> None:
        keys.append(key)
        real(key, text)

    monkeypatch.setattr(cache_facts, "write_facts", spy)
    return keys


def _open_share(doc: dict[str, Any]) -> float:
    share: float = doc["totals"]["kpis"]["resolution_rate"]["open_share"]
    return share


def test_a_hit_a_miss_and_no_cache_give_the_same_report(
    config: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _writes(monkeypatch)
    cold = _report(config)
    assert len(writes) == 1 and len(list(cached.glob("*.json"))) == 1
    warm = _report(config)
    assert len(writes) == 1  # read back, not read again
    assert warm == cold == _report(config, "--no-cache")
    assert _open_share(cold) == pytest.approx(1 / 3)


def test_a_changed_file_is_a_miss_and_its_new_codes_are_cleaned(
    config: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(config)
    # the codes were clean (read as they are); now two need trimming and lower-casing: a
    # stale fact would leave " Closed " and "CLOSED" open (open share 2/3, not 0)
    _tickets(config.parent / "tickets.parquet", [" Closed ", "CLOSED", "closed"])
    writes = _writes(monkeypatch)
    changed = _report(config)
    assert len(writes) == 1
    assert _open_share(changed) == 0.0
    assert changed == _report(config, "--no-cache")


def test_a_changed_source_setting_is_a_miss(
    config: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(config)
    writes = _writes(monkeypatch)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "{path: tickets.parquet}", "{path: tickets.parquet, null_values: [n/a]}"
        ),
        encoding="utf-8",
    )
    _report(config)
    assert len(writes) == 1 and len(list(cached.glob("*.json"))) == 2


def test_a_damaged_facts_file_is_read_again(config: Path, cached: Path) -> None:
    expected = _report(config)
    (kept,) = cached.glob("*.json")
    kept.write_text('["not a frame"]', encoding="utf-8")
    assert _report(config) == expected
    assert json.loads(kept.read_text(encoding="utf-8")) != ["not a frame"]  # replaced


def test_facts_of_other_columns_are_read_again(config: Path, cached: Path) -> None:
    expected = _report(config)
    (kept,) = cached.glob("*.json")
    other = pl.DataFrame({"elsewhere": [1]}).serialize(format="json")
    kept.write_text(json.dumps([other, other]), encoding="utf-8")  # valid frames, wrong ones
    assert _report(config) == expected
    assert "elsewhere" not in kept.read_text(encoding="utf-8")  # replaced


def test_no_cache_and_the_environment_keep_no_facts(
    config: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(config, "--no-cache")
    monkeypatch.setenv("CSCLI_NO_CACHE", "1")
    _report(config)
    assert not cached.exists()


def test_cache_info_and_clear_cover_the_facts(config: Path, cached: Path) -> None:
    _report(config)
    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["cache", "info", "--format", "json"]).stdout)
    (kept,) = (Path(p) for p in doc["facts_files"])
    assert kept.parent == cached and doc["bytes"] == kept.stat().st_size
    assert "parquet facts: 1 file(s)" in runner.invoke(app, ["cache", "info"]).stdout
    out = runner.invoke(app, ["cache", "clear"]).stdout
    assert out.startswith("removed 1 cached item(s)") and not kept.exists()


def test_facts_too_large_are_not_kept_and_old_ones_are_removed(cached: Path) -> None:
    cache_facts.write_facts("big", "x" * (cache_facts.FACTS_MAX_BYTES + 1))
    assert cache_facts.read_facts("big") is None
    cache_facts.write_facts("old", "[]")
    old = cached / "old.json"
    month_ago = old.stat().st_mtime - cache_facts.FACTS_MAX_AGE_SECONDS - 60
    os.utime(old, (month_ago, month_ago))
    cache_facts.write_facts("new", "[]")
    assert not old.exists() and cache_facts.read_facts("new") == "[]"


def test_a_parquet_file_is_identified_by_its_edges_whatever_its_size(
    config: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing a 50 MB file whole would cost more than the reads the facts save; its first
    and last 64 KiB hold the footer (offsets, statistics), which a rewrite changes."""
    limits: list[int | None] = []
    real = cache.file_identity

    def spy(path: Path, whole_limit: int | None = None) -> dict[str, Any]:
        limits.append(whole_limit)
        return real(path, whole_limit)

    monkeypatch.setattr(cache, "file_identity", spy)
    _report(config)
    assert limits == [0]
    small = config.parent / "tickets.parquet"
    assert real(small, 0)["hash"] == real(small)["hash"]  # under 128 KiB: hashed whole anyway
