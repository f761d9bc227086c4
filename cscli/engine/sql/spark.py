"""The Spark runner: one SparkSession, the sources as temporary views, queries from a small
thread pool, results as polars frames.

The SQL engine (`engine.SqlEngine`) renders every query with the `SPARK` dialect and hands the
texts to `SparkRunner.run`; what comes back is small (one row per group and bucket), so it
crosses to the driver through Arrow (`toArrow()`) and becomes a polars DataFrame.

Where the session comes from (`engine: {name: spark, …}` in the config, `SparkSettings`):

- `master`: `local[2]` (the default), `spark://host:7077`, `yarn`, `k8s://https://…` — a
  classic Spark application whose driver is this process (needs Java);
- `remote`: `sc://host:15002` — Spark Connect, where the client allows it (pyspark's
  `connect` extra: grpcio, pandas); without it the error says so and how to install it;
- `conf`: any Spark settings, passed as they are. Two are fixed whatever `conf` says: the
  session time zone is UTC (every instant is UTC and local dates are computed explicitly)
  and ANSI mode stays as Spark has it. For a local master, shuffle partitions default to 4,
  the driver memory to 2g and the web UI is off.

Sources: canonical Parquet (`spark.read.parquet(paths)` as a temporary view) or a catalog
table (`{table: db.name}`: the table itself, read through the session's catalog). Lookups (the
small tables some derivations join: business-hours grids, sentiment scores) are created from
their polars frames through Arrow; `broadcast` lookups carry Spark's BROADCAST hint, so a
grid above the 10 MB auto-broadcast threshold is still joined without a shuffle.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from cscli.engine.sql.dialect import SPARK, Dialect
from cscli.errors import CscliError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: the Spark settings a local session gets unless `conf` sets them
LOCAL_DEFAULTS: Mapping[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}

#: the settings every session gets, whatever `conf` says (the results depend on them)
FIXED: Mapping[str, str] = {"spark.sql.session.timeZone": "UTC"}

#: queries run at the same time (Spark schedules their jobs side by side)
THREADS = 4

#: lines of a Spark error message shown (the rest is Spark's plan dump)
_MESSAGE_LINES = 6

_INSTALL = 'pip install "cscli[spark]"'


class SparkError(CscliError):
    """Spark could not start or could not run a query (exit 2)."""


class _Source(Protocol):
    """What registering a source reads of a `CanonicalSource`."""

    @property
    def paths(self) -> tuple[str, ...]: ...
    @property
    def columns(self) -> Mapping[str, str]: ...


class _Lookup(Protocol):
    """What registering a lookup reads of a `relations.Lookup`."""

    @property
    def name(self) -> str: ...
    @property
    def frame(self) -> pl.DataFrame: ...
    @property
    def broadcast(self) -> bool: ...


@dataclass(frozen=True)
class SparkSettings:
    """Where the session comes from: `master` (default `local[2]`) or `remote` (`sc://…`),
    and extra Spark `conf`."""

    master: str | None = None
    remote: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: object | None) -> SparkSettings:
        """The settings of an `engine:` config object (any object with `master`, `remote`,
        `conf` attributes; missing ones take their defaults)."""
        if config is None:
            return cls()
        conf = getattr(config, "conf", None) or {}
        return cls(
            master=getattr(config, "master", None),
            remote=getattr(config, "remote", None),
            conf={str(k): _conf_value(v) for k, v in dict(conf).items()},
        )

    @property
    def local(self) -> bool:
        """A local-mode session (its driver and executors are this process's JVM)."""
        return self.remote is None and (self.master or "local[2]").startswith("local")

    def session_conf(self) -> dict[str, str]:
        """Every setting the session is built with: local defaults, then `conf`, then the
        fixed settings."""
        conf: dict[str, str] = dict(LOCAL_DEFAULTS) if self.local else {}
        conf.update(self.conf)
        conf.update(FIXED)
        return conf


def _conf_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def spark_version() -> str | None:
    """The installed pyspark's version, or None without pyspark."""
    try:
        import pyspark
    except ImportError:
        return None
    return str(pyspark.__version__)


def missing() -> str | None:
    """Why a local Spark session cannot start here (no pyspark, no Java), or None."""
    if spark_version() is None:
        return f"pyspark is not installed ({_INSTALL})"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        return "no Java runtime (java on PATH or JAVA_HOME); Spark 4 needs Java 17 or 21"
    return None


# Root at FATAL until the session is up (then ERROR, `setLogLevel`): a root at ERROR with one
# console appender is what Spark takes for log4j's unconfigured default, which it replaces
_LOG4J2 = """\
rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n%ex{3}
# the shell's level: when it equals the root's, Spark prints no "Setting default log level"
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = fatal
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = fatal
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = fatal
# a failed query is reported by cscli (one screen); Spark's own log of it is noise
logger.sql.name = org.apache.spark.sql.execution
logger.sql.level = off
"""


def _quiet_logging() -> str:
    """A log4j2 configuration that keeps Spark's JVM at ERROR from the first line (the
    start-up WARNs come before `setLogLevel` could run); returns its path."""
    path = Path(tempfile.gettempdir()) / f"cscli-spark-log4j2-{os.getuid()}.properties"
    if not path.exists() or path.read_text(encoding="utf-8") != _LOG4J2:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".properties")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(_LOG4J2)
        os.replace(tmp, path)
    return str(path)


def start_session(settings: SparkSettings) -> SparkSession:
    """A SparkSession for these settings (raises SparkError with a hint when it cannot)."""
    if spark_version() is None:
        raise SparkError("the spark engine needs pyspark", hint=_INSTALL)
    from pyspark.sql import SparkSession

    conf = settings.session_conf()
    if settings.remote is not None:
        return _connect(settings.remote, conf)
    why = missing()
    if why is not None:
        raise SparkError(f"the spark engine cannot start: {why}", hint=_java_hint())
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if settings.local:
        java = conf.get("spark.driver.extraJavaOptions", "")
        conf["spark.driver.extraJavaOptions"] = (
            f"{java} -Dlog4j2.configurationFile=file:{_quiet_logging()}".strip()
        )
    builder: Any = SparkSession.builder.master(settings.master or "local[2]").appName("cscli")
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session: SparkSession = builder.getOrCreate()
    except Exception as e:  # the JVM did not start: Java missing or broken, bad conf
        raise SparkError(
            f"the spark engine could not start a session on {settings.master or 'local[2]'}: "
            f"{_first_lines(str(e))}",
            hint=_java_hint(),
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    _quiet_python_loggers()
    return session


def _quiet_python_loggers() -> None:
    """PySpark logs every failed query as a JSON stack trace on stderr; cscli reports the
    failure itself (one screen), so those loggers are off."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def _connect(remote: str, conf: Mapping[str, str]) -> SparkSession:
    from pyspark.sql import SparkSession

    try:
        builder: Any = SparkSession.builder.remote(remote)
        for key, value in conf.items():
            if not key.startswith(("spark.ui.", "spark.driver.")):
                builder = builder.config(key, value)
        session: SparkSession = builder.getOrCreate()
    except ImportError as e:
        raise SparkError(
            f"Spark Connect ({remote}) needs the Spark Connect client, which is not installed: {e}",
            hint='pip install "pyspark[connect]" (grpcio, pandas), or use master: instead',
        ) from None
    except Exception as e:
        raise SparkError(
            f"could not connect to Spark Connect at {remote}: {_first_lines(str(e))}",
            hint="is the Spark Connect server running (start-connect-server.sh) and the "
            "address sc://host:port right?",
        ) from None
    for key, value in FIXED.items():
        session.conf.set(key, value)
    _quiet_python_loggers()
    return session


def _java_hint() -> str:
    return (
        "install Java 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME; "
        "or run on engine: polars / duckdb"
    )


def _first_lines(text: str, n: int = _MESSAGE_LINES) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    cut = lines[:n]
    if len(lines) > n:
        cut.append("…")
    return "\n".join(cut)


#: Spark SQL type names → the dtype names of `CanonicalSource.columns`
_TYPES = {
    "string": "string",
    "varchar": "string",
    "char": "string",
    "tinyint": "int",
    "smallint": "int",
    "int": "int",
    "bigint": "int",
    "float": "float",
    "double": "float",
    "boolean": "bool",
    "timestamp": "datetime",
    "timestamp_ntz": "datetime",
    "date": "date",
    "array<string>": "list[string]",
}

#: the dtype names → Spark DDL types (an empty source's schema)
_DDL = {
    "string": "STRING",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "list[string]": "ARRAY<STRING>",
}


def dtype_name(spark_type: str) -> str | None:
    """The `CanonicalSource` dtype name of a Spark type (`simpleString()`), None for others
    (decimal → float)."""
    t = spark_type.lower()
    if t.startswith("decimal"):
        return "float"
    return _TYPES.get(re.sub(r"\(.*\)", "", t))


class SparkRunner:
    """Runs rendered Spark SQL on one session: `register` the sources and lookups, `run` the
    queries, `close` at the end (stops a session it started)."""

    dialect: Dialect = SPARK

    name = "spark"

    def __init__(self, settings: object | None = None, session: SparkSession | None = None):
        """`settings`: a `SparkSettings`, or the config's `engine:` (`EngineConfig`: master,
        remote, conf); `session`: an existing session to use (not stopped by `close`)."""
        self.settings = (
            settings if isinstance(settings, SparkSettings) else SparkSettings.of(settings)
        )
        self._owned = session is None
        self.session = session if session is not None else start_session(self.settings)
        self.version: str = str(self.session.version)
        self._views: list[str] = []
        self._cached: list[DataFrame] = []

    # --- tables ---------------------------------------------------------------------------

    def register(self, name: str, source: _Source) -> None:
        """Canonical Parquet as a temporary view `name` (every file of `source.paths`, not the
        folder: the month=… folder names add no column; an empty source as an empty view with
        its columns)."""
        view = _view_name(name)
        wanted = list(source.columns)
        if source.paths:
            try:
                frame = self.session.read.parquet(*source.paths)
            except Exception as e:
                raise SparkError(
                    f"Spark could not read the canonical Parquet of source '{name}': "
                    f"{_first_lines(str(e), 3)}",
                    hint="run `cscli ingest` again; every file of the manifest must be readable "
                    "from the Spark driver and executors",
                ) from None
            # partition folders (month=…) are not canonical columns
            frame = frame.select(*[c for c in frame.columns if c in wanted or not wanted])
        else:
            ddl = ", ".join(f"`{c}` {_DDL.get(t, 'STRING')}" for c, t in source.columns.items())
            frame = self.session.createDataFrame([], ddl or "_empty STRING")
        frame.createOrReplaceTempView(view)
        self._views.append(view)

    def register_table(self, name: str, table: str) -> dict[str, str]:
        """A catalog table (`db.name`, or `catalog.db.name`) as the temporary view `name`;
        returns its columns as `CanonicalSource` dtype names (columns of other types are left
        out)."""
        try:
            frame = self.session.table(table)
        except Exception as e:
            raise SparkError(
                f"Spark has no table {table} (for view {name}): {_first_lines(_message(e), 2)}",
                hint="name a table the session's catalog knows (SHOW TABLES IN <db>), as db.table",
            ) from None
        columns: dict[str, str] = {}
        for f in frame.schema.fields:
            kind = dtype_name(f.dataType.simpleString())
            if kind is not None:
                columns[f.name] = kind
        frame.select(*[f"`{c}`" for c in columns]).createOrReplaceTempView(_view_name(name))
        self._views.append(_view_name(name))
        return columns

    def register_lookup(self, lookup: _Lookup) -> None:
        """A small driver-side table as a temporary view (BROADCAST-hinted when asked)."""
        view = _view_name(lookup.name)
        # cached: the rows cross from Python once, not once per query that joins them (a
        # business-hours grid has millions of rows)
        frame: DataFrame = self._from_polars(lookup.frame).cache()
        self._cached.append(frame)
        if lookup.broadcast:
            frame = frame.hint("broadcast")
        frame.createOrReplaceTempView(view)
        self._views.append(view)

    def _from_polars(self, frame: pl.DataFrame) -> DataFrame:
        # Spark has no unsigned integers (a row index is UInt32): as Int64, the same values
        unsigned = [c for c, t in frame.schema.items() if t.is_unsigned_integer()]
        if unsigned:
            frame = frame.with_columns(pl.col(unsigned).cast(pl.Int64))
        arrow = frame.to_arrow()
        if frame.height == 0:  # Arrow with no rows: give Spark the schema in DDL
            from pyspark.sql.pandas.types import from_arrow_schema

            return self.session.createDataFrame([], from_arrow_schema(arrow.schema))
        return self.session.createDataFrame(arrow)

    # --- queries --------------------------------------------------------------------------

    def run(
        self, queries: Sequence[str], labels: Sequence[str] | None = None
    ) -> list[pl.DataFrame]:
        """Every query's result as a polars frame, in order; queries run side by side from a
        small thread pool. `labels` name each query in an error (e.g. the KPIs it computes)."""
        if not queries:
            return []
        names = list(labels) if labels is not None else [_label(q) for q in queries]
        if len(queries) == 1:
            return [self._one(queries[0], names[0])]
        pool = ThreadPoolExecutor(max_workers=min(THREADS, len(queries)))
        try:
            futures = [pool.submit(self._one, q, n) for q, n in zip(queries, names, strict=True)]
            return [f.result() for f in futures]
        except BaseException:  # a failed query or Ctrl-C: stop the others' Spark jobs too
            pool.shutdown(wait=False, cancel_futures=True)
            self._cancel()
            raise
        finally:
            pool.shutdown(wait=True)

    def _cancel(self) -> None:
        try:
            self.session.sparkContext.cancelAllJobs()
        except Exception:  # Spark Connect has no SparkContext: interrupt its operations
            interrupt = getattr(self.session, "interruptAll", None)
            if callable(interrupt):
                interrupt()

    def _one(self, query: str, label: str) -> pl.DataFrame:
        try:
            table = self.session.sql(query).toArrow()
        except Exception as e:
            raise SparkError(
                f"Spark could not compute {label}: {_first_lines(_message(e))}",
                hint=f"the SQL cscli sent: {_shorten(query)}",
            ) from None
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def close(self) -> None:
        """Drop the views; stop the session when this runner started it."""
        for view in self._views:
            try:
                self.session.catalog.dropTempView(view)
            except Exception:  # a stopped session has no views left to drop
                continue
        self._views.clear()
        for frame in self._cached:
            try:
                frame.unpersist()
            except Exception:  # a stopped session has nothing cached
                continue
        self._cached.clear()
        if self._owned:
            self.session.stop()

    def __enter__(self) -> SparkRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _message(e: BaseException) -> str:
    """A Spark error without the JVM stack trace: its condition and message."""
    get = getattr(e, "getMessage", None)
    text = str(get()) if callable(get) else str(e)
    return text.split("\n\tat ", 1)[0].split("JVM stacktrace:", 1)[0]


def _shorten(sql: str, limit: int = 300) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _view_name(name: str) -> str:
    """The temporary view of a source or lookup: its name (letters, digits, underscores)."""
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise ValueError(f"not a view name: {name!r}")
    return name


def _label(query: str) -> str:
    kpis = _kpis_of(query)
    return f"the KPIs {kpis}" if kpis else "a query"


def _kpis_of(query: str) -> str:
    """The KPIs a query computes (its `<id>__n` columns), for an error message."""
    ids = dict.fromkeys(re.findall(r"[`\"]?(\w+)__n[`\"]?(?:\s|,|$)", query))
    return ", ".join(ids)
