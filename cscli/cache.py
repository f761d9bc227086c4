"""The source cache: exports kept in their canonical form, so that a re-run reads Parquet.

A CSV (TSV, JSON, JSONL) export is parsed, its timestamps sniffed and its data-quality checks
counted on every run; a nightly report over the same exports did all of that again. The
first run now writes what it read in `cscli ingest`'s format (canonical Parquet with `_file`,
`_row`, `_usable`, and a manifest with the source's findings and export time:
`cscli.engine.canonical`), one entry per source, and later runs read that entry as long as
the exports and the source's settings are unchanged. docs/cache.md describes it.

This module is the engine-neutral half (no polars): where the cache lives, whether it is on,
the key of a source, and the entries on disk (looked up, committed atomically, evicted,
listed, cleared). The polars loader writes and reads the entries
(`cscli.engine.polars.cached`).

The key of a source is a hash of: the cache format and cscli's version, the polars version,
the source's name and its settings (the resolved `SourceConfig` with the fields it sets),
and, for every file in order, its path, size, mtime_ns, ctime_ns, inode and a BLAKE2b hash of
its content (the whole file up to `WHOLE_FILE_LIMIT`, its first and last `EDGE` bytes
beyond). Anything changes, the key changes: a miss, and the entry is built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cscli import __version__

#: the version of an entry's layout and of what its key covers; a change makes every old
#: entry a miss (they are then evicted like any stale entry)
CACHE_VERSION = 1
#: the folder of source entries inside the cache folder, and an entry's own description
SOURCES = "sources"
ENTRY_FILE = "cscli-cache.json"
ENTRY_FORMAT = "cscli-cache"
#: files up to this size are hashed whole; larger ones by their first and last EDGE bytes
WHOLE_FILE_LIMIT = 64 * 2**20
EDGE = 64 * 2**10
#: entries kept per (config file, source): the newest, and the one before it (a run that
#: overlaps the next may still be reading it)
KEEP_PER_SLOT = 2
#: an entry used this recently is never evicted (another run may be reading it)
GRACE_SECONDS = 3600.0
#: the size the entries may take together (`$CSCLI_CACHE_MAX_MB` overrides), least recently
#: used evicted first
DEFAULT_MAX_BYTES = 10 * 2**30
#: leftovers of a run that died while writing an entry, removed when older than this
STALE_TMP_SECONDS = 24 * 3600.0
_TMP = ".tmp-"
_TRASH = ".trash-"
#: the folder of the facts a run reads from Parquet sources before its queries
#: (`cscli.cache_facts`), one small file per key
FACTS = "facts"


# --- where, and whether ---------------------------------------------------------------------


def cache_dir() -> Path:
    """`$CSCLI_CACHE_DIR`, else `$XDG_CACHE_HOME/cscli`, else the platform's cache folder:
    `~/.cache/cscli` (Linux and other Unixes), `~/Library/Caches/cscli` (macOS),
    `%LOCALAPPDATA%\\cscli\\Cache` (Windows)."""
    if explicit := os.environ.get("CSCLI_CACHE_DIR"):
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    # the XDG spec says a relative value is invalid and must be ignored
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "cscli"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cscli"
    if sys.platform == "win32" and (local := os.environ.get("LOCALAPPDATA")):
        return Path(local) / "cscli" / "Cache"
    return Path.home() / ".cache" / "cscli"


_override: list[bool] = []


def enabled() -> bool:
    """Whether the source cache is used: off with `--no-cache` (`switched(False)`) or with
    `$CSCLI_NO_CACHE` set to anything but empty or 0."""
    if _override:
        return _override[-1]
    return os.environ.get("CSCLI_NO_CACHE", "").strip() in ("", "0")


@contextmanager
def switched(on: bool) -> Iterator[None]:
    """The cache on or off within the block (what `--no-cache` does for one command)."""
    _override.append(on)
    try:
        yield
    finally:
        _override.pop()


def max_bytes() -> int:
    """The size cap of the entries: `$CSCLI_CACHE_MAX_MB` (MiB), else `DEFAULT_MAX_BYTES`."""
    raw = os.environ.get("CSCLI_CACHE_MAX_MB", "").strip()
    try:
        return max(0, int(float(raw) * 2**20)) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        return DEFAULT_MAX_BYTES


# --- the key ----------------------------------------------------------------------------------


def content_hash(path: Path, size: int, whole_limit: int | None = None) -> str:
    """BLAKE2b of the file: whole up to `whole_limit` bytes (`WHOLE_FILE_LIMIT`), else its
    first and last `EDGE` bytes (an edit in the middle of a large file that keeps its size,
    mtime and ctime is then not seen: docs/cache.md)."""
    limit = WHOLE_FILE_LIMIT if whole_limit is None else whole_limit
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        if size <= max(limit, 2 * EDGE):
            while chunk := f.read(2**20):
                digest.update(chunk)
        else:
            digest.update(f.read(EDGE))
            f.seek(size - EDGE)
            digest.update(f.read(EDGE))
    return digest.hexdigest()


def file_identity(path: Path, whole_limit: int | None = None) -> dict[str, Any]:
    """What identifies one export: path, size, times, inode and a content hash (of the
    whole file up to `whole_limit` bytes, `WHOLE_FILE_LIMIT` by default, else of its
    edges)."""
    st = path.stat()
    return {
        "path": os.path.abspath(path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
        "hash": content_hash(path, st.st_size, whole_limit),
    }


def source_key(
    name: str, settings: Mapping[str, Any], files: Sequence[Mapping[str, Any]], engine: str
) -> str:
    """The key of a source's entry: its settings, its files' identities (`file_identity`),
    the engine version that reads them (`engine`), cscli's version and the cache version."""
    described = {
        "cache_version": CACHE_VERSION,
        "cscli": __version__,
        "engine": engine,
        "source": name,
        "settings": settings,
        "files": list(files),
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def facts_files() -> tuple[Path, ...]:
    """The files of `cscli.cache_facts`."""
    folder = cache_dir() / FACTS
    return tuple(sorted(folder.glob("*.json"))) if folder.is_dir() else ()


def slot_of(config_file: str, name: str) -> str:
    """Which entries are versions of one another (one source of one config file)."""
    text = f"{os.path.abspath(config_file)}\n{name}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


# --- entries on disk ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached source: its folder (an ingest output holding one source), what it is."""

    key: str
    folder: Path
    source: str
    slot: str
    config_file: str
    files: tuple[str, ...]
    rows: int
    size: int
    created_at: datetime
    #: when a run last used it (the description file's mtime)
    used_at: datetime


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _read_entry(folder: Path) -> Entry | None:
    """The entry in `folder`, None when it is incomplete or damaged (a miss, never an
    error): its description unreadable, or one of its Parquet files missing or of another
    size than written."""
    path = folder / ENTRY_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != ENTRY_FORMAT or raw.get("version") != CACHE_VERSION:
            return None
        parts = {str(k): int(v) for k, v in raw["parts"].items()}
        for part, size in parts.items():
            if (folder / part).stat().st_size != size:
                return None
        if not (folder / str(raw["manifest"])).is_file():
            return None
        return Entry(
            key=folder.name,
            folder=folder,
            source=str(raw["source"]),
            slot=str(raw["slot"]),
            config_file=str(raw.get("config_file", "")),
            files=tuple(str(f) for f in raw.get("files", ())),
            rows=int(raw.get("rows", 0)),
            size=sum(parts.values()),
            created_at=datetime.fromisoformat(str(raw["created_at"]).replace("Z", "+00:00")),
            used_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


class Store:
    """The source entries under `root` (`<cache dir>/sources`), one folder per key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls) -> Store:
        return cls(cache_dir() / SOURCES)

    def lookup(self, key: str) -> Entry | None:
        """The complete entry of `key` (marked as used now), or None: a miss. A damaged
        entry is removed, so that the run that misses it writes it again."""
        folder = self.root / key
        if not folder.is_dir():
            return None
        entry = _read_entry(folder)
        if entry is None:
            self.discard(key)
            return None
        with suppress(OSError):  # a read-only cache still serves; the LRU order ages
            os.utime(folder / ENTRY_FILE)
        return entry

    @contextmanager
    def building(self) -> Iterator[Path]:
        """A temporary folder beside the entries (same file system: `commit` renames it);
        removed when the block ends unless it was committed."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_TMP, dir=self.root))
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def commit(
        self,
        tmp: Path,
        key: str,
        *,
        source: str,
        slot: str,
        config_file: str,
        files: Sequence[str],
        rows: int,
        manifest: str,
    ) -> Entry | None:
        """Describe the entry built in `tmp` and rename it to its key: atomic, a reader sees
        all of it or nothing. When another run committed the same key first, its entry is
        used. Then the old entries are evicted (`evict`). None if neither can be read."""
        parts = {
            str(p.relative_to(tmp)).replace(os.sep, "/"): p.stat().st_size
            for p in sorted(tmp.rglob("*.parquet"))
        }
        now = datetime.now(UTC)
        description = {
            "format": ENTRY_FORMAT,
            "version": CACHE_VERSION,
            "cscli_version": __version__,
            "source": source,
            "slot": slot,
            "config_file": config_file,
            "files": list(files),
            "rows": rows,
            "manifest": manifest,
            "parts": parts,
            "created_at": _stamp(now),
        }
        (tmp / ENTRY_FILE).write_text(json.dumps(description, indent=1) + "\n", encoding="utf-8")
        target = self.root / key
        try:
            os.rename(tmp, target)
        except OSError:  # another run was first (or a damaged folder is in the way)
            found = _read_entry(target)
            if found is not None:
                return found
            self.discard(key)
            try:
                os.rename(tmp, target)
            except OSError:
                return None
        self.evict(keep=key)
        return _read_entry(target)

    def discard(self, key: str) -> None:
        """Remove an entry: renamed aside first (no reader sees half of it), then deleted."""
        self._remove(self.root / key)

    def _remove(self, folder: Path) -> None:
        trash = self.root / f"{_TRASH}{folder.name}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(folder, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def entries(self) -> list[Entry]:
        """Every complete entry, the most recently used first."""
        if not self.root.is_dir():
            return []
        found = [
            e
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".")
            if (e := _read_entry(p)) is not None
        ]
        return sorted(found, key=lambda e: e.used_at, reverse=True)

    def evict(self, keep: str | None = None, now: float | None = None) -> list[str]:
        """Bound the cache; returns the keys removed. Per (config file, source) the
        `KEEP_PER_SLOT` newest entries stay; then, while the entries take more than
        `max_bytes()`, the least recently used go. An entry used within `GRACE_SECONDS` (or
        `keep`) is never removed, nor is anything while it is being written; leftovers of
        runs that died while writing are."""
        now = time.time() if now is None else now
        self._sweep(now)
        entries = self.entries()
        recent = {
            e.key for e in entries if e.key == keep or now - e.used_at.timestamp() < GRACE_SECONDS
        }
        removed: list[str] = []
        seen: dict[str, int] = {}
        for e in sorted(entries, key=lambda e: e.created_at, reverse=True):
            seen[e.slot] = seen.get(e.slot, 0) + 1
            if seen[e.slot] > KEEP_PER_SLOT and e.key not in recent:
                removed.append(e.key)
        left = [e for e in entries if e.key not in removed]
        total, cap = sum(e.size for e in left), max_bytes()
        for e in reversed(left):  # least recently used first
            if total <= cap:
                break
            if e.key not in recent:
                removed.append(e.key)
                total -= e.size
        for key in removed:
            self.discard(key)
        return removed

    def _sweep(self, now: float) -> None:
        """Remove what runs that died left: damaged entries, old temporary folders."""
        if not self.root.is_dir():
            return
        for p in self.root.iterdir():
            try:
                age = now - p.stat().st_mtime
            except OSError:
                continue
            if p.name.startswith(_TRASH) or (p.name.startswith(_TMP) and age > STALE_TMP_SECONDS):
                shutil.rmtree(p, ignore_errors=True)
            elif (
                p.is_dir()
                and not p.name.startswith(".")
                and age > GRACE_SECONDS
                and _read_entry(p) is None
            ):
                self._remove(p)

    def clear(self) -> tuple[int, int]:
        """Remove every entry; returns (entries, bytes) removed. Only the cache's own
        folders are touched (never anything else in the cache folder)."""
        entries = self.entries()
        for e in entries:
            self.discard(e.key)
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.is_dir() and (p.name.startswith(_TRASH) or not p.name.startswith(".")):
                    self._remove(p)
        return len(entries), sum(e.size for e in entries)


# --- what `cscli cache` shows and clears ---------------------------------------------------


#: the sentiment scores' cache files (`cscli.sentiment`), in the same folder
SENTIMENT_GLOB = "sentiment-*.parquet"


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """The cache folder, whether the cache is on, its source entries and score files."""

    folder: Path
    enabled: bool
    entries: tuple[Entry, ...]
    sentiment_files: tuple[Path, ...]
    max_bytes: int
    #: the facts read from Parquet sources before their queries (`read_facts`)
    facts_files: tuple[Path, ...] = ()

    @property
    def size(self) -> int:
        files = (*self.sentiment_files, *self.facts_files)
        return sum(e.size for e in self.entries) + sum(_size(p) for p in files)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def info() -> CacheInfo:
    folder = cache_dir()
    scores = tuple(sorted(folder.glob(SENTIMENT_GLOB))) if folder.is_dir() else ()
    entries = tuple(Store(folder / SOURCES).entries())
    return CacheInfo(folder, enabled(), entries, scores, max_bytes(), facts_files())


def clear(*, sentiment: bool = True) -> tuple[int, int]:
    """Remove every source entry and the Parquet sources' facts, and the sentiment scores
    unless `sentiment` is False; returns (items, bytes) removed."""
    folder = cache_dir()
    n, size = Store(folder / SOURCES).clear()
    scores = folder.glob(SENTIMENT_GLOB) if sentiment and folder.is_dir() else iter(())
    for p in (*facts_files(), *scores):
        bytes_ = _size(p)
        with suppress(OSError):
            p.unlink()
            n, size = n + 1, size + bytes_
    return n, size
