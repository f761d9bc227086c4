"""Read a database table or query as a source: the same raw frame a CSV gives.

A source with `database:` (or `database_env:`) and `table:` or `query:` is read through the
database's own Python driver (`cscli.engine.polars.loader.drivers`), every column cast to
text in SQL, so that the adapters' mapping, parsing, timestamp sniffing and quality findings
apply exactly as to a CSV export. A `query:` is the user's own SQL and is wrapped as a
subquery; a table name is quoted as an identifier, never pasted into SQL.

The URI may hold `${VAR}` references (expanded from the environment); whatever it holds, a
password is masked (`user:***@host`) in every message this module writes.
"""

from __future__ import annotations

import os
import re
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
from cscli.engine.polars.loader.drivers import (
    SCHEMES,
    SERVERS,
    column_kinds,
    connect,
    first,
    placeholder,
    quote_column,
    quote_ident,
    tables_sql,
    text_type,
)
from cscli.engine.polars.loader.pushdown import Pushed, push
from cscli.engine.reads import Reads
from cscli.errors import InputError

if TYPE_CHECKING:
    from cscli.config import SourceConfig

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


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
    kind = SCHEMES.get(scheme.lower())
    if not sep or kind is None:
        raise InputError(
            f"cannot read the database {mask(uri)!r} ({key}): cscli reads postgresql:// and "
            "mysql:// servers and sqlite:/// or duckdb:/// database files",
            hint="write the URI as postgresql://user:${PASSWORD}@host:5432/db, "
            "mysql://user:${PASSWORD}@host:3306/db, sqlite:///path/to/file.db or "
            "duckdb:///path/to/file.duckdb (a relative path is relative to the config file)",
        )
    label = f"{mask(uri)} {what}"
    if kind in SERVERS:
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


def since_day(since: str, zone: str, today: date | None = None) -> str:
    """The first day `since:` reads: the day itself, or `Nd` days before today in `zone`."""
    if not since.endswith("d"):
        return since
    today = today or datetime.now(ZoneInfo(zone)).date()
    return (today - timedelta(days=int(since[:-1]))).isoformat()


def read_database(
    name: str, cfg: SourceConfig, base_dir: Path, anchors: Sequence[str] = ()
) -> tuple[Database, pl.LazyFrame, Reader]:
    """The table or query of a source as a LazyFrame of text columns with `_file`/`_row`.

    With `since:`, only rows whose anchor column (the first of `anchors` the table has) is on
    or after the day are read: `WHERE anchor >= 'YYYY-MM-DD'` runs in the database. A run may
    narrow the rows read further (`Reader.restrict`) once it knows its windows."""
    db = resolve(name, cfg, base_dir)
    inner = quote_ident(db.kind, cfg.table) if cfg.table is not None else f"({cfg.query})"
    con = connect(db, name)
    try:
        columns, stored = _columns(con.cursor(), inner, db, name, cfg)
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
        # day: a validated YYYY-MM-DD
        where = f"{quote_column(db.kind, anchor)} >= '{day}'"
        db = replace(db, what=f"{db.what} since {day}", label=f"{db.label} since {day}")
    reader = Reader(db, name, cfg, f"FROM {inner} AS cscli_source", columns, where)
    reader.stored = dict(zip(columns, stored, strict=True))
    scan = register_io_source(
        reader,
        schema=dict.fromkeys(columns, pl.String),
        is_pure=True,
        explain_name="database",
        explain_detail=db.label,
    )
    lf = scan.with_row_index(ROW_COL, offset=1).with_columns(pl.lit(db.label).alias(FILE_COL))
    return db, lf, reader


class Reader:
    """The scan of a database source: polars hands it the columns the whole query reads
    (projection pushdown), so the SELECT names only those, cast to text.

    One report runs several queries over a source (its KPIs' windows, its quality counts);
    the rows read are kept, and a query whose columns were all read already is answered from
    them, so that a report asks the database once or twice, not once per query."""

    def __init__(
        self,
        db: Database,
        name: str,
        cfg: SourceConfig,
        source: str,
        columns: list[str],
        since: str = "",
    ) -> None:
        self.db, self.name, self.cfg, self.source, self.columns = db, name, cfg, source, columns
        self.since = since
        self.read: pl.DataFrame | None = None
        self.lock = threading.Lock()
        #: every SELECT sent, in order, and its parameters (what a test inspects)
        self.sent: list[str] = []
        self.params: list[tuple[Any, ...]] = []
        #: table column → how it is stored (`drivers.column_kinds`)
        self.stored: dict[str, str] = {}
        #: canonical timestamp column → the table column it is read from as is (the loader)
        self.anchors: dict[str, str] = {}
        #: the first rows read (sniffing), all columns
        self.first = pl.DataFrame()
        self.pushed: Pushed | None = None
        #: the earliest instant the bound reads from (None: no bound)
        self.start: datetime | None = None
        #: which rows were read, in words (the source summary)
        self.note = ""

    def restrict(self, reads: Reads, timezone: str) -> None:
        """Read only the rows a run needs (`cscli.engine.reads`), when every term can be
        pushed into the SQL; else read every row, and say why (`note`). `timezone`: the
        report's, in which the note names the first day read."""
        kind, zone = self.db.kind, self.cfg.timezone  # the zone the table's times are in
        pushed = push(reads, kind, self.anchors, self.stored, self.first, zone)
        with self.lock:
            self.start = reads.start
            if isinstance(pushed, str):
                self.pushed = None
                self.note = f"rows read: all ({pushed})"
            else:
                start = reads.start
                day = start.astimezone(ZoneInfo(timezone)).date() if start else None
                self.pushed = pushed
                self.note = (
                    f"rows read: since {day} ({pushed.shown}; the report's earliest window): "
                    "data-quality findings and the export time count only these rows"
                )
            self.read = None

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
        kind = self.db.kind
        text = text_type(kind)
        select = ", ".join(
            f"CAST({quote_column(kind, c)} AS {text}) AS {quote_column(kind, c)}" for c in chosen
        )
        params = self.pushed.params if self.pushed else ()
        where = f" WHERE {self.since}" if self.since else ""
        if self.pushed:  # since: and the run's own bound: a row must pass both
            where += (" AND " if where else " WHERE ") + f"({self.pushed.sql})"
        query = f"SELECT {select} {self.source}"
        if params and placeholder(kind) == "%s":  # a literal % is %% beside a placeholder
            query = query.replace("%", "%%")
        query += where + ("" if limit is None else f" LIMIT {limit}")
        self.sent.append(query)
        self.params.append(params)
        con = connect(self.db, self.name)
        try:
            cur = con.cursor()
            try:
                cur.execute(query, params) if params else cur.execute(query)
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


#: the name the tests patch
_Reader = Reader


def list_tables(uri: str, base_dir: Path) -> tuple[Database, dict[str, list[str]]]:
    """The tables of a database and their columns (for `cscli init --database`)."""
    from cscli.config import SourceConfig

    cfg = SourceConfig(database=uri, query="SELECT 1")
    db = resolve("init", cfg, base_dir)
    con = connect(db, "init")
    try:
        cur = con.cursor()
        cur.execute(tables_sql(db.kind))
        names = [r[0] for r in cur.fetchall()]
        tables = {}
        for t in names:
            cur.execute(f"SELECT * FROM {quote_ident(db.kind, t)} LIMIT 0")
            tables[t] = [d[0] for d in cur.description or ()]
    finally:
        con.close()
    return db, tables


def _columns(
    cur: Any, inner: str, db: Database, name: str, cfg: SourceConfig
) -> tuple[list[str], list[str]]:
    """The columns of the table or query, and how each is stored."""
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
    return columns, column_kinds(db.kind, cur.description)


def _failed(e: BaseException, db: Database, name: str, cfg: SourceConfig) -> InputError:
    text = db.scrub(first(e))
    missing_table = re.search(r"no such table|does not exist|doesn't exist|not found", text, re.I)
    if cfg.table is not None and missing_table:
        hint = "check the table name (`cscli init --database URI` lists the tables)"
    elif cfg.query is not None:
        hint = f"check the SQL of sources.{name}.query: it runs as a subquery"
    else:
        hint = "check the table and the database"
    return InputError(f"cannot read the {db.what} ({name}: {db.label}): {text}", hint=hint)
