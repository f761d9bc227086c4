"""What differs between the databases a source reads: how to connect (each through its own
Python driver), how an identifier is quoted, the text type a column is cast to, the parameter
placeholder, how a column's stored type is told, and where the tables are listed.

- SQLite: the standard library's `sqlite3`, the file opened read-only;
- DuckDB: `duckdb`, opened `read_only=True`;
- PostgreSQL: psycopg 3;
- MySQL and MariaDB: PyMySQL (pure Python).
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from cscli.errors import InputError

if TYPE_CHECKING:
    from cscli.engine.polars.loader.database import Database

#: the URI schemes read, and the kind of database each names
SCHEMES = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "duckdb": "duckdb",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}
SERVERS = ("postgresql", "mysql")

#: how a column's values are stored, as far as a pushed-down comparison cares
#: (`tz`: an instant; `naive`: a local date-time; `date`; `text`; else the type's name)
TZ, NAIVE, DATE, TEXT = "tz", "naive", "date", "text"

_PG_TYPES = {1184: TZ, 1114: NAIVE, 1082: DATE, 25: TEXT, 1043: TEXT, 1042: TEXT, 19: TEXT}
_PG_NAMES = {16: "boolean", 20: "bigint", 21: "smallint", 23: "integer", 700: "real"}
_MYSQL_TYPES = {12: NAIVE, 7: NAIVE, 10: DATE, 15: TEXT, 253: TEXT, 254: TEXT, 252: TEXT}


def quote_column(kind: str, name: str) -> str:
    """A column name quoted as one SQL identifier: `Queue.Name` (a flattened CTR field) stays
    one name, not a table and a column. MySQL quotes with backticks."""
    if kind == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def quote_ident(kind: str, name: str) -> str:
    """A table name (`schema.table` allowed) quoted as SQL identifiers."""
    return ".".join(quote_column(kind, part) for part in name.split("."))


def text_type(kind: str) -> str:
    """The type every column read is cast to."""
    return {"sqlite": "TEXT", "mysql": "CHAR"}.get(kind, "VARCHAR")


def placeholder(kind: str) -> str:
    """The driver's parameter placeholder (psycopg and PyMySQL: `%s`, so a `%` in the SQL
    around it is written `%%`)."""
    return "%s" if kind in SERVERS else "?"


def column_kinds(kind: str, description: Any) -> list[str]:
    """How each column of a `SELECT … LIMIT 0` is stored, from the cursor's description."""
    out = []
    for d in description or ():
        code = d[1]
        if kind == "sqlite":  # typed per value, not per column: compared as text
            out.append(TEXT)
        elif kind == "duckdb":
            name = str(code).upper()
            if name.startswith("TIMESTAMP WITH TIME ZONE") or name == "TIMESTAMPTZ":
                out.append(TZ)
            elif name.startswith("TIMESTAMP"):
                out.append(NAIVE)
            else:
                out.append({"DATE": DATE, "VARCHAR": TEXT}.get(name, name.lower()))
        elif kind == "postgresql":
            out.append(_PG_TYPES.get(code) or _PG_NAMES.get(code, f"type {code}"))
        else:
            out.append(
                _MYSQL_TYPES.get(
                    code, "a number" if code in (1, 2, 3, 4, 5, 8, 9) else f"type {code}"
                )
            )
    return out


def tables_sql(kind: str) -> str:
    """The tables and views of the database (its default schema), one name a row."""
    if kind == "sqlite":
        return "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY 1"
    schema = {
        "duckdb": "'main'",
        "postgresql": "current_schema()",
        "mysql": "DATABASE()",
    }[kind]
    return (
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = {schema} ORDER BY 1"
    )


def connect(db: Database, name: str) -> Any:
    """A connection to the source's database (closed by the caller)."""
    if db.kind in SERVERS:
        return _connect_server(db, name)
    try:
        if db.kind == "sqlite":
            # polars may pull the batches of a scan from another thread: one reader at a time
            return sqlite3.connect(f"file:{db.file}?mode=ro", uri=True, check_same_thread=False)
        import duckdb

        return duckdb.connect(str(db.file), read_only=True)
    except Exception as e:
        raise InputError(
            f"cannot open the database ({name}: {db.label}): {db.scrub(first(e))}",
            hint="check that the file is a database of the URI's kind (sqlite or duckdb)",
        ) from None


def _connect_server(db: Database, name: str) -> Any:
    module, extra = ("psycopg", "psycopg") if db.kind == "postgresql" else ("pymysql", "PyMySQL")
    what = "PostgreSQL" if db.kind == "postgresql" else "MySQL or MariaDB"
    try:
        driver = __import__(module)
    except ImportError:
        raise InputError(
            f"reading {what} needs the {extra} driver ({name}: {db.label})",
            hint="install cscli's database extra: pip install 'cscli[db]'",
        ) from None
    try:
        if db.kind == "postgresql":
            return driver.connect(db.uri, connect_timeout=10)
        parts = urlsplit(db.uri)
        return driver.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
            charset="utf8mb4",
            connect_timeout=10,
        )
    except Exception as e:
        text = db.scrub(" ".join(str(e).split()))
        if re.search(r"password|authentication|access denied|role .* does not exist", text, re.I):
            hint = "check the user and password (set them in an environment variable)"
        elif re.search(r"database .* does not exist|unknown database", text, re.I):
            hint = "check the database name at the end of the URI"
        else:
            hint = "is the server running, and reachable at the URI's host and port?"
        raise InputError(
            f"cannot connect to the database ({name}: {db.label}): {text[:300]}", hint=hint
        ) from None


def first(e: BaseException) -> str:
    """An exception's first line (its type when it says nothing)."""
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
