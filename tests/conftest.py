"""Shared test helpers: tiny exports and configs written into a temporary directory."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples on every run (a failure there is reproducible, not a dice roll);
# locally hypothesis explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("tickets.csv", text) → the path; the text is dedented."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No user config, cache or terminal settings leak into (or out of) a test."""
    monkeypatch.delenv("CSCLI_CONFIG", raising=False)
    monkeypatch.setenv("CSCLI_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    # the source cache is off unless a test turns it on (tests/test_cache.py); with
    # CSCLI_TEST_CACHE=1 every test runs with it on (in the session's cache folder)
    if os.environ.get("CSCLI_TEST_CACHE") != "1":
        monkeypatch.setenv("CSCLI_NO_CACHE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture(scope="session")
def spark_runner() -> object:
    """One local Spark session for the whole pytest session (tests marked `spark`): local[2],
    UI off, session time zone UTC; skipped, saying why, without pyspark or Java."""
    from cscli.engine.sql import spark

    why = spark.missing()
    if why is not None:
        pytest.skip(f"Spark tests skipped: {why}")
    runner = spark.SparkRunner(spark.SparkSettings(master="local[2]"))
    yield runner
    runner.close()
