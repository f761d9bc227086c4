"""Read a database table or query as a source: the same raw frame a CSV gives.

A source with `database:` (or `database_env:`) and `table:` or `query:` is read through the
database's own Python driver (the standard library's `sqlite3`; `duckdb`), every column cast to
text in SQL, so that the adapters' mapping, parsing, timestamp sniffing and quality findings
apply exactly as to a CSV export. A `query:` is the user's own SQL and is wrapped as a
subquery; a table name is quoted as an identifier, never pasted into SQL.

The URI may hold `${VAR}` references (expanded from the environment); whatever it holds, a
password is masked (`user:***@host`) in every message this module writes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl
from polars.io.plugins import register_io_source

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.errors import InputError

if TYPE_CHECKING:
    from cscli.config import SourceConfig

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")
_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "duckdb": "duckdb",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}


def mask(text: str) -> str:
    """`text` with the password of any URI in it replaced by `***`."""
    return _PASSWORD.sub(r"\1***@", text)


@dataclass(frozen=True, slots=True)
class Database:
    """Where a database source reads: its driver, file, and what messages call it."""

    kind: str
    file: Path | None  # a SQLite or DuckDB file; None for a server
    what: str  # `table ticket` or `query`
    label: str  # the masked URI and what: `sqlite:///x.db table ticket`
    #: the expanded URI, credentials and all: handed to the driver, never shown
    uri: str = field(default="", repr=False)

    def scrub(self, text: str) -> str:
        """A driver's message with the URI's password (if any) masked."""
        secret = _password(self.uri)
        text = mask(text)
        return text.replace(secret, "***") if secret else text


def resolve(name: str, cfg: SourceConfig, base_dir: Path) -> Database:
    """The database of a source, its URI expanded and checked (its password never shown)."""
    key = f"sources.{name}"
    if cfg.database_env is not None:
        uri = os.environ.get(cfg.database_env)
        if not uri:
            raise InputError(
                f"the environment variable {cfg.database_env} is not set ({key}.database_env)",
                hint=f"export {cfg.database_env}=<database URI> before running cscli",
            )
    else:
        uri = cfg.database or ""
        unset = [v for v in _VAR.findall(uri) if v not in os.environ]
        if unset:
            raise InputError(
                f"the environment variable {unset[0]} in {key}.database is not set",
                hint=f"export {unset[0]}=… before running cscli (credentials stay out of "
                "the config file)",
            )
        uri = _VAR.sub(lambda m: os.environ[m.group(1)], uri)
    what = f"table {cfg.table}" if cfg.table is not None else "query"
    scheme, sep, rest = uri.partition("://")
    kind = _SCHEMES.get(scheme.lower())
    if not sep or kind is None:
        raise InputError(
            f"cannot read the database {mask(uri)!r} ({key}): cscli reads postgresql:// "
            "servers and sqlite:/// or duckdb:/// database files",
            hint="write the URI as postgresql://user:${PASSWORD}@host:5432/db, "
            "sqlite:///path/to/file.db or duckdb:///path/to/file.duckdb (a relative path is "
            "relative to the config file)",
        )
    label = f"{mask(uri)} {what}"
    if kind == "postgresql":
        return Database(kind, None, what, label, uri)
    raw = rest[1:] if rest.startswith("/") else rest
    file = Path(raw) if Path(raw).is_absolute() else base_dir / raw
    if rest.startswith("//"):  # sqlite:////abs/path
        file = Path(rest[1:])
    if not file.is_file():
        raise InputError(
            f"database file not found: {file} ({key}: {label})",
            hint="check the path in the URI; a relative path is relative to the config file",
        )
    return Database(kind, file, what, label, uri)


def _password(uri: str) -> str:
    found = re.search(r"://[^/@:]*:([^/@]*)@", uri)
    return found.group(1) if found and found.group(1) else ""


def quote_ident(name: str) -> str:
    """A table name (`schema.table` allowed) quoted as SQL identifiers."""
    return ".".join(quote_column(part) for part in name.split("."))


def quote_column(name: str) -> str:
    """A column name quoted as one SQL identifier: `Queue.Name` (a flattened CTR field) stays
    one name, not a table and a column."""
    return '"' + name.replace('"', '""') + '"'


def since_day(since: str, zone: str, today: date | None = None) -> str:
    """The first day `since:` reads: the day itself, or `Nd` days before today in `zone`."""
    if not since.endswith("d"):
        return since
    today = today or datetime.now(ZoneInfo(zone)).date()
    return (today - timedelta(days=int(since[:-1]))).isoformat()


def read_database(
    name: str, cfg: SourceConfig, base_dir: Path, anchors: Sequence[str] = ()
) -> tuple[Database, pl.LazyFrame, _Reader]:
    """The table or query of a source as a LazyFrame of text columns with `_file`/`_row`.

    With `since:`, only rows whose anchor column (the first of `anchors` the table has) is on
    or after the day are read: `WHERE anchor >= 'YYYY-MM-DD'` runs in the database."""
    db = resolve(name, cfg, base_dir)
    inner = quote_ident(cfg.table) if cfg.table is not None else f"({cfg.query})"
    con = _connect(db, name)
    try:
        columns = _columns(con.cursor(), inner, db, name, cfg)
    finally:
        con.close()
    where = ""
    if cfg.since is not None:
        anchor = next((a for a in anchors if a in columns), None)
        if anchor is None:
            raise InputError(
                f"since: needs the anchor column {anchors[0] if anchors else '?'!r}, which "
                f"the {db.what} lacks ({name}: {db.label})",
                hint=f"map the anchor with sources.{name}.columns, or remove since:",
            )
        day = since_day(cfg.since, cfg.timezone)
        where = f" WHERE {quote_column(anchor)} >= '{day}'"  # day: validated YYYY-MM-DD
        db = replace(db, what=f"{db.what} since {day}", label=f"{db.label} since {day}")
    reader = _Reader(db, name, cfg, f"FROM {inner} AS cscli_source{where}", columns)
    scan = register_io_source(
        reader,
        schema=dict.fromkeys(columns, pl.String),
        is_pure=True,
        explain_name="database",
        explain_detail=db.label,
    )
    lf = scan.with_row_index(ROW_COL, offset=1).with_columns(pl.lit(db.label).alias(FILE_COL))
    return db, lf, reader


class _Reader:
    """The scan of a database source: polars hands it the columns the whole query reads
    (projection pushdown), so the SELECT names only those, cast to text.

    One report runs several queries over a source (its KPIs' windows, its quality counts);
    the rows read are kept, and a query whose columns were all read already is answered from
    them, so that a report asks the database once or twice, not once per query."""

    def __init__(
        self, db: Database, name: str, cfg: SourceConfig, source: str, columns: list[str]
    ) -> None:
        self.db, self.name, self.cfg, self.source, self.columns = db, name, cfg, source, columns
        self.read: pl.DataFrame | None = None
        self.lock = threading.Lock()
        #: every SELECT sent, in order (what a test inspects)
        self.sent: list[str] = []

    def rows(self, wanted: set[str], limit: int | None = None) -> pl.DataFrame:
        """The rows of the `wanted` columns (at most `limit`), in the table's column order."""
        with self.lock:
            held = self.read
            if held is not None and wanted <= set(held.columns):
                frame = held.select([c for c in self.columns if c in wanted])
                return frame if limit is None else frame.head(limit)
            union = wanted | (set(held.columns) if held is not None and limit is None else set())
            # no column asked for (a row count): the first column still gives the rows
            chosen = [c for c in self.columns if c in union] or self.columns[:1]
            frame = self._fetch(chosen, limit)
            if limit is None:
                self.read = frame
            return frame.select([c for c in chosen if c in wanted])

    def _fetch(self, chosen: list[str], limit: int | None) -> pl.DataFrame:
        text = "TEXT" if self.db.kind == "sqlite" else "VARCHAR"
        select = ", ".join(
            f"CAST({quote_column(c)} AS {text}) AS {quote_column(c)}" for c in chosen
        )
        query = f"SELECT {select} {self.source}" + ("" if limit is None else f" LIMIT {limit}")
        self.sent.append(query)
        con = _connect(self.db, self.name)
        try:
            cur = con.cursor()
            try:
                cur.execute(query)
                rows = cur.fetchall()
            except Exception as e:
                raise _failed(e, self.db, self.name, self.cfg) from None
        finally:
            con.close()
        return pl.DataFrame(rows, schema=dict.fromkeys(chosen, pl.String), orient="row")

    def __call__(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        frame = self.rows(set(self.columns if with_columns is None else with_columns), n_rows)
        yield frame if predicate is None else frame.filter(predicate)


def list_tables(uri: str, base_dir: Path) -> tuple[Database, dict[str, list[str]]]:
    """The tables of a database and their columns (for `cscli init --database`)."""
    from cscli.config import SourceConfig

    cfg = SourceConfig(database=uri, query="SELECT 1")
    db = resolve("init", cfg, base_dir)
    con = _connect(db, "init")
    try:
        cur = con.cursor()
        if db.kind == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY 1")
        elif db.kind == "duckdb":
            cur.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY 1"
            )
        else:
            cur.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY 1"
            )
        names = [r[0] for r in cur.fetchall()]
        tables = {}
        for t in names:
            cur.execute(f"SELECT * FROM {quote_ident(t)} LIMIT 0")
            tables[t] = [d[0] for d in cur.description or ()]
    finally:
        con.close()
    return db, tables


def _connect(db: Database, name: str) -> Any:
    if db.kind == "postgresql":
        return _connect_server(db, name)
    try:
        if db.kind == "sqlite":
            # polars may pull the batches of a scan from another thread: one reader at a time
            return sqlite3.connect(f"file:{db.file}?mode=ro", uri=True, check_same_thread=False)
        import duckdb

        return duckdb.connect(str(db.file), read_only=True)
    except Exception as e:
        raise InputError(
            f"cannot open the database ({name}: {db.label}): {db.scrub(_first(e))}",
            hint="check that the file is a database of the URI's kind (sqlite or duckdb)",
        ) from None


def _connect_server(db: Database, name: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise InputError(
            f"reading PostgreSQL needs the psycopg driver ({name}: {db.label})",
            hint="install cscli's database extra: pip install 'cscli[db]'",
        ) from None
    try:
        return psycopg.connect(db.uri, connect_timeout=10)
    except Exception as e:
        text = db.scrub(" ".join(str(e).split()))
        if re.search(r"password|authentication|role .* does not exist", text, re.I):
            hint = "check the user and password (set them in an environment variable)"
        elif re.search(r"database .* does not exist", text, re.I):
            hint = "check the database name at the end of the URI"
        else:
            hint = "is the server running, and reachable at the URI's host and port?"
        raise InputError(
            f"cannot connect to the database ({name}: {db.label}): {text[:300]}", hint=hint
        ) from None


def _columns(cur: Any, inner: str, db: Database, name: str, cfg: SourceConfig) -> list[str]:
    try:
        cur.execute(f"SELECT * FROM {inner} AS cscli_source LIMIT 0")
    except Exception as e:
        raise _failed(e, db, name, cfg) from None
    columns = [d[0] for d in cur.description or ()]
    seen = {c for c in columns if columns.count(c) > 1}
    if seen:
        raise InputError(
            f"the {db.what} gives the column {sorted(seen)[0]!r} twice ({name}: {db.label})",
            hint="name every column of the query once (SELECT a.id AS ticket_id, …)",
        )
    return columns


def _failed(e: BaseException, db: Database, name: str, cfg: SourceConfig) -> InputError:
    text = db.scrub(_first(e))
    missing_table = re.search(r"no such table|does not exist|not found", text, re.I)
    if cfg.table is not None and missing_table:
        hint = "check the table name (`cscli init --database URI` lists the tables)"
    elif cfg.query is not None:
        hint = f"check the SQL of sources.{name}.query: it runs as a subquery"
    else:
        hint = "check the table and the database"
    return InputError(f"cannot read the {db.what} ({name}: {db.label}): {text}", hint=hint)


def _first(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
