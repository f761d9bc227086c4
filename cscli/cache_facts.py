"""The facts a run reads from a Parquet source before its queries, kept between runs.

Before its queries, the polars loader reads a few columns of a Parquet source whole
(`cscli.engine.polars.loader.known`): each code column's distinct values, each timestamp
column's bounds. At 10M rows that is a tenth of a report's time, and a nightly report over
the same exports read them again every night. They are kept here, a small file per key, as
long as the files and what is read of them are unchanged (the key: `facts_key`); on with the
source cache, off with it (`--no-cache`, `$CSCLI_NO_CACHE`), cleared with it (`cscli cache
clear`). docs/cache.md describes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from cscli import __version__
from cscli.cache import _TMP, CACHE_VERSION, FACTS, cache_dir

#: facts larger than this are not kept (a "code" column with a million distinct values)
FACTS_MAX_BYTES = 2**20
#: a facts file not used for this long is removed when another one is written
FACTS_MAX_AGE_SECONDS = 30 * 24 * 3600.0


def facts_key(queries: Sequence[str], files: Sequence[Mapping[str, Any]], engine: str) -> str:
    """The key of the facts some queries read from some files: the queries' plans as text
    (the columns and what is read of them), the files' identities (`file_identity`), the
    engine's version, cscli's version and the cache version."""
    described = {
        "cache_version": CACHE_VERSION,
        "cscli": __version__,
        "engine": engine,
        "queries": list(queries),
        "files": list(files),
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def _facts_file(key: str) -> Path:
    return cache_dir() / FACTS / f"{key}.json"


def read_facts(key: str) -> str | None:
    """The facts kept under `key` (marked as used), or None."""
    path = _facts_file(key)
    try:
        text = path.read_text(encoding="utf-8")
        os.utime(path)
    except (OSError, UnicodeDecodeError):
        return None
    return text


def write_facts(key: str, text: str) -> None:
    """Keep `text` under `key` (atomically: a reader sees the whole file or none), unless
    it is larger than `FACTS_MAX_BYTES`; remove the facts not used for
    `FACTS_MAX_AGE_SECONDS`. A folder that cannot be written is no error: the facts are
    read again next time."""
    data = text.encode("utf-8")
    if len(data) > FACTS_MAX_BYTES:
        return
    folder = _facts_file(key).parent
    with suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP, dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, _facts_file(key))
        except OSError:
            with suppress(OSError):
                os.unlink(tmp)
            return
        cutoff = time.time() - FACTS_MAX_AGE_SECONDS
        for old in folder.iterdir():
            with suppress(OSError):
                if old.stat().st_mtime < cutoff:
                    old.unlink()
