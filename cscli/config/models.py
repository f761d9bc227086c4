"""The shapes of a config: pydantic models for its structure, typed entries for its lists.

- `RawConfig` and the models below it (sources, report, calendar assignments) are pydantic:
  types, defaults and unknown keys are checked by `model_validate`, and each validator's
  message (a time zone, an encoding, an adapter) is reported at its value;
- `kpis:` entries are a union, `KpiEntry`: a built-in by id (`KpiRef`), a built-in with its own
  id and parameters (`BuiltinKpiEntry`), or a KPI defined in the config (`CustomKpiEntry`);
  `checks:` entries are a `CheckEntry` or a `FreshnessEntry`. Their fields are the keys they
  accept, holding the values as written (`ABSENT` when not given): what a value means is
  checked where it gets its meaning (`cscli.config.resolve_kpis`, `resolve_checks`), so that
  every problem of an entry is reported in one run;
- `Config`, `CheckConfig` and `Freshness` are the typed result of loading.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cscli.adapters import ADAPTERS
from cscli.business_hours.model import Calendar
from cscli.conditions import Condition, Quantity
from cscli.config.engines import EngineConfig, check_since
from cscli.config.event_log import EventLogConfig, check_mapping
from cscli.config.marks import Path_
from cscli.config.problems import Problems
from cscli.config.sla import SlaPolicy
from cscli.kpis.spec import Kpi
from cscli.period import Grain as Grain  # re-exported: the one grain type
from cscli.results import MIN_N
from cscli.schema import AGENT_STATE_NAMES
from cscli.suggest import did_you_mean

Format = Literal["csv", "tsv", "parquet", "json", "jsonl", "canonical"]

# --- structure: pydantic ------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as UTC or Europe/Berlin)"
        ) from None
    if not _polars_zone(value):
        # the system's zone database has it (posixrules, localtime, Factory), polars' has not
        raise ValueError(
            f"time zone {value!r} is not one cscli can compute with "
            "(use an IANA name such as UTC or Europe/Berlin)"
        )
    return value


@functools.cache
def _polars_zone(value: str) -> bool:
    """Whether polars converts to zone `value` (a one-value conversion)."""
    import polars as pl

    try:
        pl.select(
            pl.lit(datetime(2000, 1, 1)).dt.replace_time_zone("UTC").dt.convert_time_zone(value)
        ).item()
    except Exception:  # polars raises ComputeError or InvalidOperationError by version
        return False
    return True


#: the longest path Linux and macOS accept (PATH_MAX)
MAX_PATH = 4096


def _check_encoding(value: str | None) -> str | None:
    """A source's `encoding:` must be a text codec Python knows (`cp1252`, `latin-1`, …)."""
    if value is None:
        return None
    try:
        info = codecs.lookup(value)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise ValueError(
            f"unknown encoding {value!r} (use a codec name such as utf-8, cp1252, latin-1 or "
            "utf-16)"
        )
    return value


def _check_adapter(value: str) -> str:
    """`adapter:` names one of `cscli.adapters.ADAPTERS`."""
    if value not in ADAPTERS:
        raise ValueError(
            f"unknown adapter {value!r}{did_you_mean(value, ADAPTERS)}; adapters are "
            + ", ".join(ADAPTERS)
        )
    return value


def _check_paths(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """`path:` names at least one file; no entry is empty or longer than the OS allows."""
    paths = (value,) if isinstance(value, str) else value
    if not paths:
        raise ValueError("path is an empty list: name at least one file or glob pattern")
    for p in paths:
        if not p.strip():
            raise ValueError("path is empty: name a file or a glob pattern")
        if len(p) > MAX_PATH:
            raise ValueError(
                f"path is {len(p):,} characters long ({p[:40]!r}…); the system accepts at most "
                f"{MAX_PATH:,}"
            )
        if "\x00" in p:
            raise ValueError(f"path {p[:80]!r} contains a NUL character")
    return value


class CalendarAssignment(_Model):
    """Which calendar applies to a record: by the value of one of its columns, else `default`."""

    by: str
    map: dict[str, str]
    default: str | None = None


class SourceConfig(_Model):
    """One input: files, a database table or query, or a Spark catalog table; how to read."""

    path: str | tuple[str, ...] | None = None
    #: a database URI (sqlite:///file.db, duckdb:///file.duckdb); `${VAR}` is expanded
    database: str | None = None
    #: the name of an environment variable holding the database URI (credentials stay out)
    database_env: str | None = None
    #: the table (`schema.table`) a database source reads (alone: a Spark catalog table) …
    table: str | None = None
    query: str | None = None  #: … or the user's own SELECT, read as a subquery
    since: str | None = None  #: a database source reads records anchored from this day on
    adapter: str = "generic"
    format: Format | None = None
    timezone: str = "UTC"
    timestamp_format: str | dict[str, str] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    extra_columns: tuple[str, ...] = ()
    filter: str | None = None
    survey_type: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    list_separator: str | None = Field(default=None, min_length=1)  #: of tags as text; else `,`
    null_values: tuple[str, ...] = ()
    event_log: EventLogConfig | None = None
    #: business calendar for durations with `hours: business`: a name, or per team/queue…
    calendar: str | CalendarAssignment | None = None
    #: text encoding of a CSV/TSV export (a codec name: cp1252, latin-1, utf-16…); UTF-8 if unset
    encoding: str | None = None
    #: numbers written with a decimal comma (`1,5` for 1.5), as a German or French Excel writes
    decimal_comma: bool = False
    #: agent_states: the export's state names → available, on_contact, after_contact_work,
    #: break, offline (case-insensitive); canonical names need no entry
    states: dict[str, str] = Field(default_factory=dict)

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))
    _encoding = field_validator("encoding")(classmethod(lambda cls, v: _check_encoding(v)))
    _paths = field_validator("path")(
        classmethod(lambda cls, v: v if v is None else _check_paths(v))
    )
    _adapter = field_validator("adapter")(classmethod(lambda cls, v: _check_adapter(v)))
    _states = field_validator("states")(
        classmethod(
            lambda cls, v: check_mapping(v, AGENT_STATE_NAMES, "agent states", label="state ")
        )
    )
    _since = field_validator("since", mode="before")(classmethod(lambda cls, v: check_since(v)))

    @model_validator(mode="after")
    def _one_origin(self) -> SourceConfig:
        db = self.database is not None or self.database_env is not None
        if self.database is not None and self.database_env is not None:
            raise ValueError("set database or database_env, not both")
        if self.is_catalog and self.query is None and not self.since:
            return self  # a catalog table (engine: spark): `table: db.name` alone
        if db == (self.path is not None):
            raise ValueError(
                "a source reads files (path:) or a database (database: or database_env:), "
                "exactly one of them"
            )
        if db and (self.table is None) == (self.query is None):
            raise ValueError("a database source names a table: or a query:, exactly one")
        if not db and (self.table is not None or self.query is not None or self.since):
            raise ValueError("table:, query: and since: belong to a database source (database:)")
        return self

    @property
    def is_database(self) -> bool:
        return self.database is not None or self.database_env is not None

    @property
    def is_catalog(self) -> bool:
        return self.table is not None and self.path is None and not self.is_database

    @property
    def paths(self) -> tuple[str, ...]:
        if self.path is None:
            return ()
        return (self.path,) if isinstance(self.path, str) else self.path

    def format_for(self, column: str) -> str | None:
        if isinstance(self.timestamp_format, dict):
            return self.timestamp_format.get(column)
        return self.timestamp_format


class ReportConfig(_Model):
    by: tuple[str, ...] = ()
    grain: Grain | None = None
    #: true (= previous) or previous | yoy
    compare: bool | Literal["previous", "yoy"] = False
    kpis: tuple[str, ...] = ()
    #: the HTML report fades a value on fewer records, and does not colour its change
    min_n: int = Field(default=MIN_N, ge=1)

    @field_validator("by", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [p.strip() for p in v.split(",") if p.strip()] if isinstance(v, str) else v


class RawConfig(_Model):
    """The whole file's structure. `kpis:` and `checks:` are read entry by entry (`KpiEntry`,
    `CheckEntry`) and `calendars:` by `cscli.business_hours.parse`, each with its own messages,
    also when another part of the file is wrong."""

    version: Literal[1] = 1
    timezone: str = "UTC"
    calendars: dict[str, Any] = Field(default_factory=dict)
    calendar: str | None = None
    sources: dict[str, SourceConfig]
    kpis: list[str | dict[str, Any]] | None = None
    report: ReportConfig = ReportConfig()
    checks: list[dict[str, Any]] = Field(default_factory=list)
    engine: EngineConfig = EngineConfig()
    sla_policies: Any = None  #: read (and checked) by `cscli.config.sla`

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))


# --- the entries of `kpis:` and `checks:` -------------------------------------------------


class Absent(Enum):
    """A key that is not given (a given `null` is None)."""

    ABSENT = "absent"


ABSENT = Absent.ABSENT


@dataclass(frozen=True, slots=True)
class KpiRef:
    """`- csat`: a built-in KPI by its id, with its default parameters."""

    path: Path_
    kpi: str


@dataclass(frozen=True, slots=True)
class BuiltinKpiEntry:
    """`{id: frt_p90, kpi: first_response_time, stat: p90}`: the built-in KPI named by `kpi:`
    (else by `id:`) under the id `id`, with parameters given flat or under `params:`."""

    path: Path_
    id: str
    #: the built-in's id as written, and where it is written (`kpi:`, else `id:`)
    kpi: object
    kpi_path: Path_
    title: str | None
    #: the value of `params:`, a mapping of parameter names to values when well written
    params: object
    #: every other key, in order: a parameter, or `source:` for a KPI that reads one of several
    others: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class CustomKpiEntry:
    """`{id: replies, source: tickets, sql: "avg(agent_replies)"}`, or `type: ratio` with
    `numerator:` (and `denominator:`, `where:`) SQL predicates: a KPI defined in the config.
    `kpi:` and `params:` are accepted and unused."""

    path: Path_
    id: str
    source: object = ABSENT
    type: object = "sql"
    sql: object = None
    numerator: object = None
    denominator: object = None
    where: object = None
    unit: object = ABSENT
    higher_is_better: object = None
    anchor: object = ABSENT
    definition: object = ABSENT
    short: object = ABSENT
    title: object = ABSENT
    kpi: object = None
    params: object = None
    #: keys that are none of the above, in the order written
    unknown: tuple[str, ...] = ()


KpiEntry = KpiRef | BuiltinKpiEntry | CustomKpiEntry


def read_kpi_entry(raw: object, path: Path_, problems: Problems) -> KpiEntry | None:
    """Which kind of KPI entry `raw` is; None (reported) when it is none."""
    if isinstance(raw, str):
        return KpiRef(path, raw)
    if not isinstance(raw, dict):
        problems.add(path, "a KPI entry is a KPI id or a mapping with `id:`")
        return None
    kpi_id = raw.get("id")
    if not isinstance(kpi_id, str) or not kpi_id.isidentifier():
        problems.add(path, "every KPI entry needs an `id:` made of letters, digits and underscores")
        return None
    if "sql" in raw or "type" in raw:
        return _shape(CustomKpiEntry, raw, path)
    title = raw.get("title")
    return BuiltinKpiEntry(
        path,
        kpi_id,
        kpi=raw.get("kpi", kpi_id),
        kpi_path=(*path, "kpi") if "kpi" in raw else (*path, "id"),
        title=title if isinstance(title, str) else None,
        params=raw.get("params", {}),
        others={k: v for k, v in raw.items() if k not in ("id", "kpi", "params", "title")},
    )


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """`{kpi: csat, fail: "< 85%", warn: ..., by: [channel], min_count: 30}`: a rule on a KPI."""

    path: Path_
    kpi: object = ABSENT
    fail: object = ABSENT
    warn: object = ABSENT
    change: object = ABSENT
    change_abs: object = ABSENT
    by: object = ()
    where: object = None
    min_count: object = 0
    name: object = None
    unknown: tuple[str, ...] = ()

    @property
    def conditions(self) -> dict[str, object]:
        """The conditions given, by key: fail, warn, change, change_abs."""
        given = {k: getattr(self, k) for k in ("fail", "warn", "change", "change_abs")}
        return {k: v for k, v in given.items() if v is not ABSENT}


@dataclass(frozen=True, slots=True)
class FreshnessEntry:
    """`{freshness: tickets, max_age: 1d, warn_age: 12h}`: a rule on a source's newest record."""

    path: Path_
    freshness: object
    max_age: object = ABSENT
    warn_age: object = ABSENT
    name: object = None
    unknown: tuple[str, ...] = ()


def read_check_entry(
    raw: object, path: Path_, problems: Problems
) -> CheckEntry | FreshnessEntry | None:
    """Which kind of check `raw` is; None (reported) when it is not a mapping."""
    if not isinstance(raw, dict):
        problems.add(path, "a check is a mapping such as {kpi: csat, fail: '< 85%'}")
        return None
    if "freshness" in raw:
        return _shape(FreshnessEntry, raw, path)
    return _shape(CheckEntry, raw, path)


Entry = TypeVar("Entry", CustomKpiEntry, CheckEntry, FreshnessEntry)


def keys_of(entry: type[CustomKpiEntry | CheckEntry | FreshnessEntry]) -> tuple[str, ...]:
    """The keys an entry accepts, in the order of its fields."""
    return tuple(f.name for f in dataclasses.fields(entry) if f.name not in ("path", "unknown"))


def _shape(entry: type[Entry], raw: Mapping[str, Any], path: Path_) -> Entry:
    keys = keys_of(entry)
    given = {k: v for k, v in raw.items() if k in keys}
    return entry(path=path, unknown=tuple(k for k in raw if k not in keys), **given)


# --- the typed result ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Freshness:
    """`{freshness: tickets, max_age: 1d, warn_age: 12h}`: the newest record's anchor (its
    canonical time column) must be at most that old at the end of `--to`, or now."""

    source: str
    anchor: str
    #: older than this fails; older than `warn_age` warns
    max_age: Quantity | None
    warn_age: Quantity | None


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """One SLA rule; evaluated by `cscli check`. A freshness rule has `kpi=None` and
    `freshness` set, and no conditions."""

    kpi: str | None
    fail: Condition | None
    warn: Condition | None
    change: Condition | None
    change_abs: Condition | None
    by: tuple[str, ...]
    where: str | None
    min_count: int
    name: str
    line: int | None
    freshness: Freshness | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    timezone: str
    sources: Mapping[str, SourceConfig]
    kpis: tuple[Kpi, ...]
    #: True when `kpis:` was given; otherwise `kpis` holds every built-in KPI
    kpis_explicit: bool
    report: ReportConfig
    checks: tuple[CheckConfig, ...]
    calendars: Mapping[str, Calendar] = dataclasses.field(default_factory=dict)
    #: the calendar of sources that name none
    default_calendar: str | None = None
    engine: EngineConfig = dataclasses.field(default_factory=EngineConfig)
    sla_policies: tuple[SlaPolicy, ...] = ()  #: `sla_policies:`, first match wins

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def kpi(self, kpi_id: str) -> Kpi:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(kpi_id)
