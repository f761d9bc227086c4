"""What an adapter is: an export family described as data, engine-neutral (no polars).

An `Adapter` maps a vendor's column names onto the canonical tables (DESIGN §4). It is pure
data plus, at most, one small function (`infer`), so that adding a vendor is one entry in
`cscli/adapters/presets.py`; the loading itself is shared, and belongs to the engine
(`cscli.engine.polars.loader`, which also defines what a loaded source is).

Column names are matched the way people retype them: case-insensitively, ignoring repeated
spaces, and ignoring a trailing time-zone suffix such as `Created at (America/New_York)`
(Intercom writes the workspace zone into its report headers; the loader then reads those
stamps in that zone unless the source sets `timezone:` itself).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: internal columns every source carries: the file a record came from and its row there
FILE_COL = "_file"
ROW_COL = "_row"
RAW_PREFIX = "__raw__"


@dataclass(frozen=True, slots=True)
class ColumnSource:
    """Where a canonical column's values come from: a file column (or a derived column's
    alias), the label findings use, whether the preset chose it (its `scale` then applies),
    and what `validate` shows as its source (the SQL of a derived column)."""

    name: str
    label: str
    from_preset: bool = False
    shown: str | None = None


@dataclass(frozen=True, slots=True)
class Sql:
    """A preset column computed by a SQL expression over export columns (polars SQL).

    Used only when every column it names is in the file (preset columns are optional).
    """

    expr: str


@dataclass(frozen=True, slots=True)
class Offset:
    """A timestamp an export gives as a duration after another timestamp.

    value = `base` (a canonical timestamp, already parsed) + the sum of `columns` × `unit`
    seconds, where `when` (SQL over export columns) holds; null otherwise. Zendesk exports the
    first reply as "First reply time in minutes" after "Created at"; Genesys Cloud exports the
    queue wait as "Total Queue" milliseconds. A duration cell that is not a number is counted
    as unreadable, like any other cell.
    """

    base: str
    columns: tuple[str, ...]
    unit: float
    when: str | None = None


#: a preset's export column: one name, alternatives (the first present wins), or SQL
Export = str | tuple[str, ...] | Sql


@dataclass(frozen=True, slots=True)
class Adapter:
    """An export family: how its column names map onto the canonical tables.

    The generic adapter maps nothing (canonical names are expected, or given by `columns:`);
    a vendor preset is one more entry. A source's own `columns:` always win over the preset;
    preset columns the file lacks are simply not mapped (only required ones are errors).

    - `column_map`: per table, canonical name → export column(s) or `Sql`.
    - `offsets`: per table, canonical timestamp → `Offset` (used when not mapped directly).
    - `scale`: per table, canonical number → factor (Genesys durations are milliseconds).
    - `timestamp_format`: tried first when sniffing the timestamp columns.
    - `null_values`: cells read as missing, in addition to the source's own `null_values`.
    - `survey_type`: the survey type when the source gives none.
    - `metadata_rows`: SQL over export columns marking rows that are not records (Qualtrics
      writes question texts and import ids as two rows under the header); they are removed.
    - `infer`: a small function (table, header) → further canonical → export mappings, for
      names that depend on the survey (Qualtrics: the NPS question `Q7` has `Q7_NPS_GROUP`).
    - `hints`: per canonical column, the fix to suggest when a required column is missing.
    - `source`: where the column names come from (shown in docs/presets.md).
    - `list_separator`: per table, the separator of a list column written as text (tags).
    """

    name: str
    description: str
    column_map: dict[str, dict[str, Export]] = field(default_factory=dict)
    timestamp_format: str | None = None
    source: str = ""
    offsets: dict[str, dict[str, Offset]] = field(default_factory=dict)
    scale: dict[str, dict[str, float]] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()
    survey_type: str | None = None
    metadata_rows: dict[str, str] = field(default_factory=dict)
    infer: Callable[[str, Sequence[str]], dict[str, str]] | None = None
    hints: dict[str, str] = field(default_factory=dict)
    #: per table, what separates the values of a list column written as text (`,` unless
    #: given here or by the source's `list_separator:`)
    list_separator: dict[str, str] = field(default_factory=dict)

    def resolve(self, table: str, header: Sequence[str]) -> dict[str, str]:
        """canonical → the file's own spelling of each preset column it has (names only).

        Alternatives are tried in order; names compare as `normalize` says. Columns given by
        `infer` come last and never replace a named one.
        """
        by_norm: dict[str, str] = {}
        for h in header:
            by_norm.setdefault(normalize(h), h)
        found: dict[str, str] = {}
        for canonical, export in self.column_map.get(table, {}).items():
            if isinstance(export, Sql):
                continue
            for candidate in (export,) if isinstance(export, str) else export:
                actual = by_norm.get(normalize(candidate))
                if actual is not None:
                    found[canonical] = actual
                    break
        if self.infer is not None:
            for canonical, export in self.infer(table, header).items():
                found.setdefault(canonical, export)
        return found

    def sql_columns(self, table: str) -> dict[str, str]:
        """canonical → SQL expression, for the preset's computed columns."""
        return {c: e.expr for c, e in self.column_map.get(table, {}).items() if isinstance(e, Sql)}


_ZONE_SUFFIX = re.compile(r"\s*\(([A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)*)\)\s*$")


def header_zone(name: str) -> str | None:
    """The IANA zone a header names in a trailing suffix, e.g. `Created (Europe/Paris)`."""
    m = _ZONE_SUFFIX.search(name)
    if not m or ("/" not in m.group(1) and m.group(1) != "UTC"):
        return None
    try:
        ZoneInfo(m.group(1))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return m.group(1)


def normalize(name: str) -> str:
    """A header as compared with preset names: trimmed, lower-case, single spaces, without a
    byte-order mark or a trailing time-zone suffix."""
    text = name.replace("\ufeff", "").strip()
    if header_zone(text):
        text = _ZONE_SUFFIX.sub("", text)
    return " ".join(text.lower().split())
