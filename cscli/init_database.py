"""`cscli init --database URI`: list a database's tables and propose a config, as `cscli init`
does for a folder (the same header matching: `cscli.scaffold`).

A password in the URI is never written: the config gets `${CSCLI_DB_PASSWORD}` in its place
(export the variable before running cscli). A SQLite or DuckDB file is named relative to the
folder the config is written to.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cscli.errors import UsageError

#: the variable a proposed config reads the database password from
PASSWORD_VAR = "CSCLI_DB_PASSWORD"
_PASSWORD = re.compile(r"(://[^/@:]*:)([^/@]*)@")


def init_database(uri: str, folder: Path, timezone: str) -> str:
    """The proposed config for the tables of `uri`, validated before it is returned."""
    from cscli.config import parse_config
    from cscli.engine.polars.loader.database import list_tables
    from cscli.scaffold import match_headers, render_config
    from cscli.validate import validate as run_validate

    db, tables = list_tables(uri, Path.cwd())
    headers = [(Path(t), tuple(cols), None, None) for t, cols in tables.items() if cols]
    matches = match_headers(headers, merge=False)
    if not matches:
        listed = ", ".join(tables) or "none"
        raise UsageError(
            f"no table of {db.label.rsplit(' ', 2)[0]} looks like tickets, calls, surveys or "
            f"customers (tables: {listed[:300]})",
            hint="name a table yourself: sources: {tickets: {database: URI, table: NAME, "
            "columns: {…}}}",
        )
    found = _PASSWORD.search(uri)
    written = uri
    if db.file is not None:
        scheme = uri.split("://", 1)[0]
        written = f"{scheme}:///{os.path.relpath(db.file.resolve(), folder.resolve())}"
    elif found and found.group(2) and "${" not in found.group(2):
        written = _PASSWORD.sub(rf"\1${{{PASSWORD_VAR}}}@", uri, count=1)
    text = render_config(matches, folder, timezone, database=written)
    if written != uri and db.file is None:
        text = f"# export {PASSWORD_VAR}=<the password> before running cscli\n{text}"
    before = os.environ.get(PASSWORD_VAR)
    try:
        if found and db.file is None and "${" not in found.group(2):
            os.environ[PASSWORD_VAR] = found.group(2)
        run_validate(parse_config(text, folder / "cscli.yaml"))
    finally:
        if before is None:
            os.environ.pop(PASSWORD_VAR, None)
        else:
            os.environ[PASSWORD_VAR] = before
    return text
