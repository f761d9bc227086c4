"""The YAML config (DESIGN §3) → typed, frozen objects, with `file:line:column` on every error.

Loading runs in two passes and reports every problem of both in one `ConfigError`:
1. structure and types (pydantic models, unknown keys rejected with a "did you mean");
2. meaning: KPI ids and parameters against the registry, threshold conditions, time zones.
YAML is read with the safe loader only; positions come from the composed node tree.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cscli.calendar import Calendar
from cscli.conditions import Condition, Quantity, check_units, parse_condition, parse_quantity
from cscli.errors import ConfigError, ConfigProblem
from cscli.kpis.catalog import CATALOG, DEFAULT_KPIS
from cscli.kpis.spec import (
    Built,
    Kpi,
    KpiDef,
    ParamError,
    Ratio,
    SqlAggregate,
    instantiate,
)
from cscli.period import Grain as Grain  # re-exported: the one grain type
from cscli.schema import TABLES
from cscli.units import UNITS

ENV_VAR = "CSCLI_CONFIG"
DEFAULT_NAME = "cscli.yaml"
FORMATS = ("csv", "tsv", "parquet", "json", "jsonl")

#: the timestamp that places a custom KPI's records in a period, per source
DEFAULT_ANCHOR = {
    "tickets": "created_at",
    "calls": "queued_at",
    "surveys": "responded_at",
    "customers": "started_at",
    "messages": "created_at",
}

Path_ = tuple[str | int, ...]


# --- YAML with positions ------------------------------------------------------------------


#: limits on the config itself: its size, and what its YAML may expand to
MAX_CONFIG_BYTES = 1_000_000
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 20_000
MAX_YAML_DEPTH = 50

# C0 controls other than tab and line breaks, DEL, lone surrogates, non-characters
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Marks:
    """1-based (line, column) of every value and every mapping key, by path."""

    values: Mapping[Path_, tuple[int, int]]
    keys: Mapping[Path_, tuple[int, int]]
    #: [start, end) character offsets of every scalar's source text, by path
    scalars: Mapping[Path_, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def at(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int] | None:
        p = tuple(path)
        while True:
            found = (self.keys.get(p) if key else None) or self.values.get(p)
            if found or not p:
                return found
            p = p[:-1]

    def inside(
        self, text: str, path: Sequence[str | int], value: str, offset: int
    ) -> tuple[int, int] | None:
        """Position of character `offset` of the string at `path`, when its source text is the
        string itself (plain or quoted without escapes); else the string's own position."""
        span = self.scalars.get(tuple(path))
        if span is not None:
            raw = text[span[0] : span[1]]
            start = span[0]
            if raw[:1] in ("'", '"') and raw[-1:] == raw[:1]:
                raw, start = raw[1:-1], start + 1
            if raw == value and 0 <= offset <= len(value):
                return _position(text, start + offset)
        return self.at(path)


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character `index` of `text`."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader with a bound on aliases and nesting (the composer recurses per level)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases (*name)", mark
                )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str) -> yaml.Node | None:
    loader = _BoundedLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def _load_yaml(text: str, file: str) -> tuple[Any, Marks, list[ConfigProblem]]:
    bad = _CONTROL.search(text)
    if bad is not None:
        at = _position(text, bad.start())
        char = (
            "a NUL character"
            if bad.group() == "\0"
            else f"control character U+{ord(bad.group()):04X}"
        )
        return (
            None,
            Marks({}, {}),
            [ConfigProblem(file, *at, f"invalid YAML: {char}; a config is plain text")],
        )
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, Marks({}, {}), [ConfigProblem(file, line, col, f"invalid YAML: {e.problem}")]
    except yaml.YAMLError as e:  # a reader error: a character YAML does not allow
        where = getattr(e, "position", None)
        spot: tuple[int | None, int | None] = (None, None)
        if isinstance(where, int):
            spot = _position(text, where)
        return None, Marks({}, {}), [ConfigProblem(file, spot[0], spot[1], f"invalid YAML: {e}")]
    if node is None:
        return None, Marks({}, {}), []
    values: dict[Path_, tuple[int, int]] = {}
    keys: dict[Path_, tuple[int, int]] = {}
    scalars: dict[Path_, tuple[int, int]] = {}
    problems: list[ConfigProblem] = []
    loader = yaml.SafeLoader("")
    # aliases make the node tree a graph: count every node reached, so that nine aliases of
    # nine aliases (an "alias bomb") stop at MAX_YAML_NODES instead of filling the memory
    walked = 0
    open_nodes: set[int] = set()

    standard: dict[type[yaml.Node], str] = {
        yaml.MappingNode: "tag:yaml.org,2002:map",
        yaml.SequenceNode: "tag:yaml.org,2002:seq",
    }

    def walk(n: yaml.Node, path: Path_) -> Any:
        nonlocal walked
        walked += 1
        if walked > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"the config expands to more than {MAX_YAML_NODES:,} values "
                "(aliases repeat what they name)",
                n.start_mark,
            )
        if id(n) in open_nodes:
            raise yaml.composer.ComposerError(
                None, None, "an alias refers to a value that contains it", n.start_mark
            )
        values[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if type(n) in standard and n.tag != standard[type(n)]:
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported YAML tag {n.tag!r}", n.start_mark
            )
        if isinstance(n, yaml.MappingNode):
            open_nodes.add(id(n))
            out: dict[Any, Any] = {}
            for k, v in n.value:
                key = (
                    loader.construct_object(k, deep=True)
                    if isinstance(k, yaml.ScalarNode)
                    else None
                )
                if not isinstance(key, str | int | float | bool):
                    problems.append(
                        ConfigProblem(
                            file,
                            k.start_mark.line + 1,
                            k.start_mark.column + 1,
                            "mapping keys must be plain words",
                        )
                    )
                    continue
                key = str(key)
                if key in out:
                    problems.append(
                        ConfigProblem(
                            file,
                            k.start_mark.line + 1,
                            k.start_mark.column + 1,
                            f"duplicate key {key!r}",
                        )
                    )
                keys[(*path, key)] = (k.start_mark.line + 1, k.start_mark.column + 1)
                out[key] = walk(v, (*path, key))
            open_nodes.discard(id(n))
            return out
        if isinstance(n, yaml.SequenceNode):
            open_nodes.add(id(n))
            items = [walk(v, (*path, i)) for i, v in enumerate(n.value)]
            open_nodes.discard(id(n))
            return items
        scalars[path] = (n.start_mark.index, n.end_mark.index)
        return loader.construct_object(n, deep=True)

    try:
        data = walk(node, ())
    except yaml.YAMLError as e:  # e.g. an unknown !tag: the safe loader refuses it
        mark = getattr(e, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = getattr(e, "problem", None) if isinstance(e, yaml.composer.ComposerError) else e
        return None, Marks({}, {}), [ConfigProblem(file, line, col, f"invalid YAML: {message}")]
    return data, Marks(values, keys, scalars), problems


# --- structure ----------------------------------------------------------------------------


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


class EventLogConfig(_Model):
    """A log with one row per event (status change, update) reduced to one row per case.

    created_at = the case's first event; first_response_at = its first event whose activity is
    in `first_response`; resolved_at = when it entered its final run of `resolved` activities
    (null when its last event is not one); reopens = events in `reopened`, or, without that
    list, moves from a resolved activity back to another; reassignments = events in
    `reassigned`. Every other column takes its value at the case's last event. A `columns:`
    mapping of the source wins over these derived values.
    """

    case: str
    timestamp: str
    activity: str | None = None
    first_response: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    #: activities that end a case without a resolution (cancelled, rejected): closed_at is
    #: when the case entered its final run of them; backlog drains it then
    closed: tuple[str, ...] = ()
    reopened: tuple[str, ...] = ()
    reassigned: tuple[str, ...] = ()
    timestamp_format: str | None = None


class SourceConfig(_Model):
    """One input: which files, which adapter, how to read them."""

    path: str | tuple[str, ...]
    adapter: str = "generic"
    format: Literal["csv", "tsv", "parquet", "json", "jsonl"] | None = None
    timezone: str = "UTC"
    timestamp_format: str | dict[str, str] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    extra_columns: tuple[str, ...] = ()
    filter: str | None = None
    survey_type: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    null_values: tuple[str, ...] = ()
    event_log: EventLogConfig | None = None
    #: business calendar for durations with `hours: business`: a name, or per team/queue…
    calendar: str | CalendarAssignment | None = None
    #: text encoding of a CSV/TSV export (a codec name: cp1252, latin-1, utf-16…); UTF-8 if unset
    encoding: str | None = None
    #: numbers written with a decimal comma (`1,5` for 1.5), as a German or French Excel writes
    decimal_comma: bool = False

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))
    _encoding = field_validator("encoding")(classmethod(lambda cls, v: _check_encoding(v)))
    _paths = field_validator("path")(classmethod(lambda cls, v: _check_paths(v)))

    @property
    def paths(self) -> tuple[str, ...]:
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

    @field_validator("by", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [p.strip() for p in v.split(",") if p.strip()] if isinstance(v, str) else v


class CalendarAssignment(_Model):
    """Which calendar applies to a record: by the value of one of its columns, else `default`."""

    by: str
    map: dict[str, str]
    default: str | None = None


class _RawConfig(_Model):
    version: Literal[1] = 1
    timezone: str = "UTC"
    calendars: dict[str, Any] = Field(default_factory=dict)
    calendar: str | None = None
    sources: dict[str, SourceConfig]
    kpis: list[str | dict[str, Any]] | None = None
    report: ReportConfig = ReportConfig()
    checks: list[dict[str, Any]] = Field(default_factory=list)

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))


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

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def kpi(self, kpi_id: str) -> Kpi:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(kpi_id)


# --- loading ------------------------------------------------------------------------------


def find_config(explicit: Path | None) -> Path:
    """`-c`, else `$CSCLI_CONFIG`, else `./cscli.yaml`."""
    if explicit is not None:
        candidate, origin = explicit, "--config"
    elif os.environ.get(ENV_VAR):
        candidate, origin = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        candidate, origin = Path(DEFAULT_NAME), "the current directory"
        if not candidate.exists():
            raise ConfigError(
                [ConfigProblem(DEFAULT_NAME, None, None, "no config file found")],
                hint=(
                    "pass one with -c PATH, set $CSCLI_CONFIG, or try the bundled sample "
                    "with --demo"
                ),
            )
    if not candidate.is_file():
        raise ConfigError(
            [ConfigProblem(str(candidate), None, None, f"config file not found (from {origin})")],
            hint="check the path, or try the bundled sample with --demo",
        )
    return candidate


def load_config(path: Path) -> Config:
    """Read and validate a config file; raises ConfigError listing every problem."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                [
                    ConfigProblem(
                        file,
                        None,
                        None,
                        f"the config is {size:,} bytes; the limit is {MAX_CONFIG_BYTES:,}",
                    )
                ],
                hint="a config names files and rules; keep data in the sources",
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([ConfigProblem(file, None, None, f"cannot read the file: {e}")]) from e
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    file = str(path)
    data, marks, problems = _load_yaml(text, file)
    if problems and data is None:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem(file, 1, 1, "the config must be a mapping with at least `sources:`")]
        )

    def problem(
        path: Sequence[str | int],
        message: str,
        *,
        key: bool = False,
        sql: tuple[str, int] | None = None,
    ) -> None:
        """`sql=(text, offset)`: point at that character of the SQL string at `path`."""
        if sql is not None:
            line, column = marks.inside(text, path, *sql) or (None, None)
        else:
            line, column = marks.at(path, key=key) or (None, None)
        problems.append(ConfigProblem(file, line, column, message))

    raw: _RawConfig | None = None
    try:
        raw = _RawConfig.model_validate(data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = _clean_loc(err["loc"])
            if err["type"] in ("extra_forbidden", "missing"):
                # the last element is the key at fault, a user's own for extra_forbidden
                loc = (*_clean_loc(err["loc"][:-1]), *err["loc"][-1:])
            if err["type"] == "extra_forbidden":
                problem(loc, _unknown_key(loc, data), key=True)
            elif err["type"] == "missing":
                problem(loc[:-1], f"missing required key {loc[-1]!r}")
            else:
                problem(loc, f"{_dotted(loc)}: {_pydantic_message(err)}")

    # The meaning pass runs even when the structure pass failed, so that one run reports all.
    sources = data.get("sources")
    for name in sources if isinstance(sources, dict) else ():
        if name not in TABLES:
            problem(
                ("sources", name),
                f"unknown source {name!r}{_did_you_mean(name, TABLES)}; sources are "
                + ", ".join(TABLES),
                key=True,
            )
    kpi_entries = data.get("kpis")
    kpis = _resolve_kpis(kpi_entries if isinstance(kpi_entries, list) else None, problem, data)
    _check_source_sql(data, problem)
    ids = {k.id: k for k in kpis}
    # checks and report.kpis may name any built-in KPI, configured or not
    known = {**{d.id: instantiate(d) for d in CATALOG.values()}, **ids}
    check_entries = data.get("checks")
    checks = _resolve_checks(
        check_entries if isinstance(check_entries, list) else [],
        known,
        problem,
        marks,
        tuple(sources) if isinstance(sources, dict) else (),
    )
    report = data.get("report")
    report_kpis = report.get("kpis") if isinstance(report, dict) else None
    for i, kpi_id in enumerate(report_kpis if isinstance(report_kpis, list) else []):
        if kpi_id not in known:
            problem(("report", "kpis", i), f"unknown KPI {kpi_id!r}{_did_you_mean(kpi_id, known)}")
    calendars = _resolve_calendars(data, raw, problem)
    if problems or raw is None:
        raise ConfigError(sorted(problems, key=_order))
    return Config(
        path=path,
        timezone=raw.timezone,
        sources=raw.sources,
        kpis=tuple(kpis),
        kpis_explicit=raw.kpis is not None,
        report=raw.report,
        checks=tuple(checks),
        calendars=calendars,
        default_calendar=raw.calendar,
    )


def _resolve_calendars(
    data: dict[str, Any], raw: _RawConfig | None, problem: Any
) -> dict[str, Calendar]:
    """Parse `calendars:` (cscli.calendar) and check every reference to a calendar."""
    specs = data.get("calendars")
    if not isinstance(specs, dict) or not specs:
        calendars: dict[str, Calendar] = {}
    else:
        from cscli.calendar import CalendarError, parse_calendars

        try:
            calendars = parse_calendars(specs, default_timezone=data.get("timezone", "UTC"))
        except CalendarError as e:
            for p in e.problems:
                problem(("calendars", *p.path), f"calendars.{_dotted(p.path)}: {p.message}")
            calendars = {}
        except ConfigError as e:  # the holidays package is missing
            problem(("calendars",), e.message + (f" ({e.hint})" if e.hint else ""))
            calendars = {}
    if raw is None:
        return calendars
    names = set(specs) if isinstance(specs, dict) else set()

    def known(name: str | None, path: tuple[str | int, ...]) -> None:
        if name is not None and name not in names:
            problem(
                path,
                f"unknown calendar {name!r}{_did_you_mean(name, names)}; define it "
                "under calendars:",
            )

    known(raw.calendar, ("calendar",))
    for source_name, src in raw.sources.items():
        cal = src.calendar
        if isinstance(cal, str):
            known(cal, ("sources", source_name, "calendar"))
        elif cal is not None:
            for value, name in cal.map.items():
                known(name, ("sources", source_name, "calendar", "map", value))
            known(cal.default, ("sources", source_name, "calendar", "default"))
    return calendars


def _order(p: ConfigProblem) -> tuple[int, int]:
    return (p.line or 0, p.column or 0)


def _clean_loc(loc: Sequence[Any]) -> tuple[str | int, ...]:
    # pydantic adds union-member tags such as 'str' or 'function-after[...]' to the path
    tags = ("str", "int", "float", "bool", "dict[str,any]", "list[str]", "tuple[str, ...]")
    return tuple(p for p in loc if not (isinstance(p, str) and (p in tags or _TAG.match(p))))


_TAG = re.compile(r"^[\w-]+\[.*\]$")


def _dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def _pydantic_message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    for pydantic_word, ours in (
        ("a valid tuple", "a list"),
        ("a valid list", "a list"),
        ("a valid dictionary", "a mapping"),
    ):
        msg = msg.replace(pydantic_word, ours)
    return msg


def _model_for(loc: Sequence[str | int]) -> type[BaseModel] | None:
    if len(loc) == 1:
        return _RawConfig
    if loc[0] == "sources" and len(loc) == 3:
        return SourceConfig
    if loc[0] == "sources" and len(loc) == 4 and loc[2] == "event_log":
        return EventLogConfig
    if loc[0] == "sources" and len(loc) == 4 and loc[2] == "calendar":
        return CalendarAssignment
    if loc[0] == "report" and len(loc) == 2:
        return ReportConfig
    return None


def _unknown_key(loc: Sequence[str | int], data: Any) -> str:
    key = str(loc[-1])
    model = _model_for(loc)
    known = list(model.model_fields) if model else []
    where = f" in {_dotted(loc[:-1])}" if len(loc) > 1 else ""
    return f"unknown key {key!r}{where}{_did_you_mean(key, known)}"


def _did_you_mean(word: str, options: Any) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


# --- meaning: KPIs ------------------------------------------------------------------------

_ENTRY_KEYS = {"id", "kpi", "params", "title"}
_CUSTOM_KEYS = {
    "source", "type", "sql", "numerator", "denominator", "where", "unit",
    "higher_is_better", "anchor", "definition", "short",
}  # fmt: skip


def _resolve_kpis(
    entries: list[Any] | None, problem: Any, data: Mapping[str, Any] | None = None
) -> list[Kpi]:
    if entries is None:
        return [instantiate(CATALOG[k]) for k in DEFAULT_KPIS]
    kpis: list[Kpi] = []
    seen: set[str] = set()
    taken = _taken_names(data or {})
    for i, entry in enumerate(entries):
        path: tuple[str | int, ...] = ("kpis", i)
        if not isinstance(entry, str | dict):
            problem(path, "a KPI entry is a KPI id or a mapping with `id:`")
            continue
        kpi = _resolve_kpi(entry, path, problem, data or {})
        if kpi is None:
            continue
        if kpi.id in seen:
            problem(path, f"KPI id {kpi.id!r} is defined twice")
            continue
        why = _reserved(kpi.id, taken)
        if why:
            problem((*path, "id") if isinstance(entry, dict) else path, why)
            continue
        seen.add(kpi.id)
        kpis.append(kpi)
    for i, kpi in enumerate(kpis):
        # flat outputs (CSV, Parquet, XLSX) add <id>_n and <id>_previous columns
        for other in kpis:
            if kpi.id in (other.id + "_n", other.id + "_previous"):
                problem(
                    ("kpis", i),
                    f"KPI id {kpi.id!r} is the name of {other.id!r}'s "
                    f"{kpi.id.removeprefix(other.id)} column in CSV, Parquet and XLSX output; "
                    "choose another id",
                )
    return kpis


#: output columns of a report besides the KPIs: its period, its scope (group/total) in flat
#: files, and `<id>__n` / `<id>__prev` beside every KPI
_INTERNAL_NAMES = frozenset({"period", "scope", "group", "kpi", "kpis", "totals", "rows"})
_INTERNAL_SUFFIXES = ("__n", "__prev")


def _taken_names(data: Mapping[str, Any]) -> frozenset[str]:
    """Names a KPI id may not take: report columns and every dimension a report can group by."""
    from cscli.schema import DERIVED_TABLES, is_dimension

    names = set(_INTERNAL_NAMES) | {"responder"}
    for table in (*TABLES.values(), *DERIVED_TABLES.values()):
        names |= {c for c in table.names if is_dimension(table, c)}
    sources = data.get("sources")
    for src in sources.values() if isinstance(sources, dict) else ():
        extra = src.get("extra_columns") if isinstance(src, dict) else None
        if isinstance(extra, list):
            names |= {e for e in extra if isinstance(e, str)}
    return frozenset(names)


def _reserved(kpi_id: str, taken: frozenset[str]) -> str | None:
    if kpi_id.endswith(_INTERNAL_SUFFIXES):
        return (
            f"KPI id {kpi_id!r} ends in {kpi_id[-3:] if kpi_id.endswith('__n') else '__prev'}, "
            "which cscli uses for the columns beside each KPI; choose another id"
        )
    if kpi_id in taken:
        return f"KPI id {kpi_id!r} is the name of a report column or dimension; choose another id"
    return None


def _source_columns(source: str, data: Mapping[str, Any], *, enriched: bool) -> frozenset[str]:
    """The columns SQL over `source` may name: canonical columns, measures, `extra_columns`
    and, for KPIs (`enriched`), what the pipeline adds (repeat contacts, sentiment, business
    hours, the rated contact's dimensions for surveys)."""
    from cscli.derived import (
        CONTACT_MEASURES,
        MESSAGE_MEASURES,
        SENTIMENT_MEASURES,
        WINDOW_MEASURES,
    )
    from cscli.kpis.measures import BUSINESS_MEASURES, MEASURES
    from cscli.schema import SURVEY_CONTACT_DIMENSIONS

    names = set(TABLES[source].names) | {m.name for m in MEASURES if m.table == source}
    sources = data.get("sources")
    src = sources.get(source) if isinstance(sources, dict) else None
    extra = src.get("extra_columns") if isinstance(src, dict) else None
    if isinstance(extra, list):
        names |= {e for e in extra if isinstance(e, str)}
    if enriched:
        names |= CONTACT_MEASURES | WINDOW_MEASURES | MESSAGE_MEASURES | SENTIMENT_MEASURES
        names |= set(BUSINESS_MEASURES.values())
        if source == "surveys":
            names |= set(SURVEY_CONTACT_DIMENSIONS)
    return frozenset(names)


def _check_one_sql(
    text: str,
    path: tuple[str | int, ...],
    label: str,
    columns: Any,
    problem: Any,
    what: str,
    *,
    unparsable: bool = True,
) -> bool:
    """Report `text`'s first problem at its position; True when it is fine. `columns`: the
    names it may use, or None to check only that it is safe to parse. `unparsable=False`
    leaves SQL that polars cannot parse to the caller's own message."""
    from cscli.sqlcheck import check_columns, check_sql

    found = check_sql(text) if columns is None else check_columns(text, columns, what=what)
    if found is None or (found.unparsable and not unparsable):
        return True
    problem(path, f"{label}: {found.message}", sql=(text, found.offset))
    return False


def _check_source_sql(data: Mapping[str, Any], problem: Any) -> None:
    """`filter:` against the source's columns; `columns:` values for subqueries (a value may be
    an export column's name, which only the file knows: it is checked in full when read)."""
    from cscli.sqlcheck import reads_data

    sources = data.get("sources")
    for name, src in sources.items() if isinstance(sources, dict) else ():
        if name not in TABLES or not isinstance(src, dict):
            continue
        flt = src.get("filter")
        if isinstance(flt, str) and flt.strip():
            columns = _source_columns(name, data, enriched=False)
            path: tuple[str | int, ...] = ("sources", name, "filter")
            _check_one_sql(flt, path, f"sources.{name}.filter", columns, problem, name)
        mapping = src.get("columns")
        for canonical, value in mapping.items() if isinstance(mapping, dict) else ():
            if not isinstance(value, str):
                continue
            found = reads_data(value)
            if found is not None:
                problem(
                    ("sources", name, "columns", canonical),
                    f"sources.{name}.columns.{canonical}: {found.message}",
                    sql=(value, found.offset),
                )


def _resolve_kpi(
    entry: str | dict[str, Any],
    path: tuple[str | int, ...],
    problem: Any,
    data: Mapping[str, Any] | None = None,
) -> Kpi | None:
    if isinstance(entry, str):
        base = CATALOG.get(entry)
        if base is None:
            problem(path, f"unknown KPI {entry!r}{_did_you_mean(entry, CATALOG)}")
            return None
        return instantiate(base)
    kpi_id = entry.get("id")
    if not isinstance(kpi_id, str) or not kpi_id.isidentifier():
        problem(path, "every KPI entry needs an `id:` made of letters, digits and underscores")
        return None
    if "sql" in entry or "type" in entry:
        return _custom_kpi(entry, kpi_id, path, problem, data or {})
    base_id = entry.get("kpi", kpi_id)
    base = CATALOG.get(str(base_id))
    if base is None:
        where = (*path, "kpi") if "kpi" in entry else (*path, "id")
        problem(
            where,
            f"unknown KPI {base_id!r}{_did_you_mean(str(base_id), CATALOG)}; a custom KPI "
            "needs `sql:` or `type: ratio`",
        )
        return None
    if "source" in entry and base.alt_sources:
        alternatives = dict(base.alt_sources)
        if entry["source"] not in alternatives:
            problem(
                (*path, "source"),
                f"{base.id} reads one of {', '.join(alternatives)}, not {entry['source']!r}",
            )
            return None
        base = dataclasses.replace(
            base, source=entry["source"], anchor=alternatives[entry["source"]]
        )
    params: dict[str, Any] = {}
    given: dict[str, tuple[Any, tuple[str | int, ...]]] = {}
    nested = entry.get("params", {})
    if not isinstance(nested, dict):
        problem((*path, "params"), "`params:` must be a mapping of parameter names to values")
        nested = {}
    for k, v in nested.items():
        given[k] = (v, (*path, "params", k))
    for k, v in entry.items():
        if k in _ENTRY_KEYS or (k == "source" and base.alt_sources):
            continue
        if k in _CUSTOM_KEYS and k not in base.param_names:
            problem(
                (*path, k), f"`{k}:` is only for custom KPIs (with `sql:` or `type:`)", key=True
            )
            continue
        given[k] = (v, (*path, k))
    for name, (value, where) in given.items():
        if name not in base.param_names:
            known = ", ".join(base.param_names) or "none"
            problem(
                where,
                f"unknown parameter {name!r} for {base.id}"
                f"{_did_you_mean(name, base.param_names)}; its parameters: {known}",
                key=True,
            )
            continue
        try:
            params[name] = base.param(name).parse(value)
        except ValueError as e:
            problem(where, f"{kpi_id}.{name}: {e}")
    title = entry.get("title")
    try:
        return instantiate(base, params, id=kpi_id, title=title if isinstance(title, str) else None)
    except ParamError as e:  # parameters that contradict each other (satisfied_min > scale)
        if params.keys() >= given.keys() & set(base.param_names):  # not after a parse error
            problem(given[e.param][1] if e.param in given else path, f"{kpi_id}.{e.param}: {e}")
        return None


def _custom_kpi(
    entry: dict[str, Any],
    kpi_id: str,
    path: tuple[str | int, ...],
    problem: Any,
    data: Mapping[str, Any] | None = None,
) -> Kpi | None:
    ok = True
    for k in entry:
        if k not in _ENTRY_KEYS | _CUSTOM_KEYS:
            problem(
                (*path, k),
                f"unknown key {k!r} in a custom KPI{_did_you_mean(k, _ENTRY_KEYS | _CUSTOM_KEYS)}",
                key=True,
            )
            ok = False
    source = entry.get("source")
    if source not in TABLES:
        problem(
            (*path, "source") if "source" in entry else path,
            f"custom KPI {kpi_id!r} needs `source:` one of {', '.join(TABLES)}",
        )
        return None
    kind_name = entry.get("type", "sql")
    unit = entry.get("unit", "ratio" if kind_name == "ratio" else "count")
    if unit not in UNITS:
        problem((*path, "unit"), f"unknown unit {unit!r}; units are {', '.join(UNITS)}")
        ok = False
    anchor = entry.get("anchor", DEFAULT_ANCHOR[source])
    table = TABLES[source]
    if not table.has(anchor) or table.column(anchor).type != "datetime":
        problem((*path, "anchor"), f"anchor {anchor!r} is not a timestamp column of {source}")
        ok = False
    hib = entry.get("higher_is_better")
    if hib is not None and not isinstance(hib, bool):
        problem((*path, "higher_is_better"), "higher_is_better must be true, false or absent")
        ok = False
    built: Built
    if kind_name == "sql":
        expr = entry.get("sql")
        if not isinstance(expr, str) or not expr.strip():
            problem(path, f"custom KPI {kpi_id!r} needs `sql:` with an aggregate expression")
            return None
        built = Built(SqlAggregate(expr))
        default_def = f"Custom: {expr} over {source} in the period."
    elif kind_name == "ratio":
        num = entry.get("numerator")
        if not isinstance(num, str):
            problem(path, f"ratio KPI {kpi_id!r} needs `numerator:` (a SQL predicate)")
            return None
        den = entry.get("denominator")
        where = entry.get("where")
        built = Built(
            Ratio(
                num,
                den if isinstance(den, str) else None,
                where if isinstance(where, str) else None,
            )
        )
        default_def = (
            f"Custom ratio: {source} matching ({num}) / {source} matching ({den or 'all'})"
            + (f", among {source} matching ({where})" if where else "")
            + " in the period."
        )
    else:
        problem((*path, "type"), f"unknown KPI type {kind_name!r}; use ratio or sql")
        return None
    columns = _source_columns(source, data or {}, enriched=True)
    for field in ("sql", "numerator", "denominator", "where"):
        value = entry.get(field)
        if isinstance(value, str) and value.strip():
            label = f"KPI {kpi_id!r} {field}"
            ok = (
                _check_one_sql(
                    value, (*path, field), label, columns, problem, source, unparsable=False
                )
                and ok
            )
    if not ok:
        return None
    kdef = KpiDef(
        id=kpi_id,
        title=str(entry.get("title", kpi_id.replace("_", " ").capitalize())),
        short=str(entry.get("short", entry.get("title", kpi_id))),
        source=source,
        unit=unit,
        higher_is_better=hib,
        anchor=anchor,
        definition=str(entry.get("definition", default_def)).replace("{", "{{").replace("}", "}}"),
        build=lambda _p, b=built: b,  # type: ignore[misc]
    )
    _check_sql(kdef, path, problem)
    return instantiate(kdef)


def _check_sql(kdef: KpiDef, path: tuple[str | int, ...], problem: Any) -> None:
    """Parse the custom KPI's SQL now, so a typo is a config error with a position."""
    from cscli.engine.polars.compile import parse_kind

    try:
        parse_kind(kdef.build({}).kind)
    except Exception as e:  # polars raises several types for SQL it cannot parse
        problem(path, f"KPI {kdef.id!r}: cannot parse its SQL: {e}")


# --- meaning: checks ----------------------------------------------------------------------

_CHECK_KEYS = ("kpi", "fail", "warn", "change", "change_abs", "by", "where", "min_count", "name")
_FRESHNESS_KEYS = ("freshness", "max_age", "warn_age", "name")


def _resolve_checks(
    entries: list[Any],
    ids: Mapping[str, Kpi],
    problem: Any,
    marks: Marks,
    sources: Sequence[str] = (),
) -> list[CheckConfig]:
    checks: list[CheckConfig] = []
    for i, entry in enumerate(entries):
        path: tuple[str | int, ...] = ("checks", i)
        if not isinstance(entry, dict):
            problem(path, "a check is a mapping such as {kpi: csat, fail: '< 85%'}")
            continue
        if "freshness" in entry:
            fresh = _resolve_freshness(entry, path, sources, problem)
            if fresh is not None:
                checks.append(
                    CheckConfig(
                        kpi=None,
                        fail=None,
                        warn=None,
                        change=None,
                        change_abs=None,
                        by=(),
                        where=None,
                        min_count=0,
                        name=_unique_name(
                            str(entry["name"])
                            if entry.get("name") is not None
                            else f"{fresh.source} freshness",
                            checks,
                        ),
                        line=(marks.at(path) or (None, None))[0],
                        freshness=fresh,
                    )
                )
            continue
        bad = [k for k in entry if k not in _CHECK_KEYS]
        for k in bad:
            problem(
                (*path, k),
                f"unknown key {k!r} in a check"
                + (
                    f" ({k}: belongs to a freshness: rule)"
                    if k in _FRESHNESS_KEYS
                    else _did_you_mean(k, (*_CHECK_KEYS, "freshness"))
                ),
                key=True,
            )
        kpi_id = entry.get("kpi")
        kpi = ids.get(str(kpi_id)) if kpi_id is not None else None
        if kpi is None:
            problem(
                (*path, "kpi") if "kpi" in entry else path,
                "check needs `kpi:` naming a KPI of the report"
                + (
                    f"; {kpi_id!r} is not one{_did_you_mean(str(kpi_id), ids)}"
                    if kpi_id is not None
                    else " (or `freshness:` naming a source)"
                ),
            )
        conds: dict[str, Condition | None] = {}
        for key in ("fail", "warn", "change", "change_abs"):
            conds[key] = None
            if key not in entry:
                continue
            try:
                cond = parse_condition(entry[key])
            except ValueError as e:
                problem((*path, key), f"{key}: {e}")
                continue
            if kpi is not None and key in ("fail", "warn"):
                why = check_units(cond, kpi.unit)
                if why:
                    problem((*path, key), f"{key}: {why}")
            if kpi is not None and key == "change_abs":
                why = check_units(cond, kpi.unit)
                if why:
                    problem((*path, key), f"{key}: {why}")
            if key == "change" and any(q.kind == "duration" for q in cond.quantities()):
                problem(
                    (*path, key),
                    "change: is a relative change (e.g. '> 10%'); for an absolute one such as "
                    "'> 10m' use change_abs:",
                )
            conds[key] = cond
        if not any(k in entry for k in ("fail", "warn", "change", "change_abs")):
            problem(path, "a check needs at least one of fail:, warn:, change:, change_abs:")
        by = entry.get("by", ())
        if isinstance(by, str):
            by = [p.strip() for p in by.split(",") if p.strip()]
        if not isinstance(by, list | tuple) or not all(isinstance(b, str) for b in by):
            problem((*path, "by"), "by: must be a list of dimension names")
            by = ()
        min_count = entry.get("min_count", 0)
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 0:
            problem((*path, "min_count"), "min_count: must be a whole number ≥ 0")
            min_count = 0
        where = entry.get("where")
        if where is not None and not isinstance(where, str):
            problem((*path, "where"), "where: must be a SQL predicate on the group's dimensions")
            where = None
        if where and not _check_one_sql(
            where, (*path, "where"), "where", list(by) if by else None, problem, "the groups"
        ):
            where = None
        if where and not by:
            # `where` picks groups: without `by`, its columns are the groups
            from cscli.sqlcheck import SqlError, parse

            try:
                by = sorted(set(parse(where).meta.root_names()))
            except SqlError as e:
                problem((*path, "where"), f"where: cannot parse {where!r}: {e}")
                where = None
        name = entry.get("name")
        if kpi is None:
            continue
        default_name = kpi.id + (f" by {', '.join(by)}" if by else "")
        final_name = _unique_name(str(name) if name is not None else default_name.strip(), checks)
        checks.append(
            CheckConfig(
                kpi=kpi.id,
                fail=conds["fail"],
                warn=conds["warn"],
                change=conds["change"],
                change_abs=conds["change_abs"],
                by=tuple(by),
                where=where,
                min_count=min_count,
                name=final_name,
                line=(marks.at(path) or (None, None))[0],
            )
        )
    return checks


def _unique_name(name: str, checks: Sequence[CheckConfig]) -> str:
    taken = {c.name for c in checks}
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def _resolve_freshness(
    entry: dict[str, Any], path: Path_, sources: Sequence[str], problem: Any
) -> Freshness | None:
    """`{freshness: SOURCE, max_age: 1d, warn_age: 12h, name: ...}`."""
    ok = True
    for k in entry:
        if k not in _FRESHNESS_KEYS:
            hint = _did_you_mean(str(k), _FRESHNESS_KEYS)
            problem(
                (*path, k),
                f"unknown key {k!r} in a freshness check{hint}; a freshness check takes "
                + ", ".join(f"{key}:" for key in _FRESHNESS_KEYS),
                key=True,
            )
            ok = False
    source = entry["freshness"]
    if not isinstance(source, str) or source not in sources:
        listed = ", ".join(sources) or "none"
        if not isinstance(source, str):
            why = "freshness: names a source, e.g. {freshness: tickets, max_age: 1d}"
        elif source in DEFAULT_ANCHOR:
            why = f"freshness: {source!r} is not a source of this config (sources: {listed})"
        else:
            why = (
                f"freshness: unknown source {source!r}{_did_you_mean(source, sources)}; "
                f"sources of this config: {listed}"
            )
        problem((*path, "freshness"), why)
        ok = False
    ages: dict[str, Quantity | None] = {"max_age": None, "warn_age": None}
    for key in ages:
        if key not in entry:
            continue
        raw = entry[key]
        try:
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                raise ValueError
            q = parse_quantity(str(raw))
            if q.kind == "percent" or q.exact <= 0:
                raise ValueError
        except ValueError:
            problem(
                (*path, key), f"{key}: expected a duration such as 1d, 12h or 1h 30m, got {raw!r}"
            )
            ok = False
            continue
        ages[key] = q
    if "max_age" not in entry and "warn_age" not in entry:
        problem(path, "a freshness check needs max_age: (fail when older), warn_age:, or both")
        ok = False
    max_age, warn_age = ages["max_age"], ages["warn_age"]
    if max_age is not None and warn_age is not None and warn_age.exact >= max_age.exact:
        problem(
            (*path, "warn_age"),
            f"warn_age: {warn_age.text} must be shorter than max_age: {max_age.text}",
        )
        ok = False
    if not ok or not isinstance(source, str) or source not in DEFAULT_ANCHOR:
        return None  # an unknown source under `sources:` is reported on its own
    return Freshness(source, DEFAULT_ANCHOR[source], max_age, warn_age)
