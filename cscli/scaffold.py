"""`cscli init DIR`: look at the exports in a folder and write a starter `cscli.yaml` that runs.

For every data file the header is read (nothing else), then matched against each adapter's
preset column map and against the canonical names with common synonyms. A file becomes the
source of the table whose required columns it covers best; files with the same header for the
same table become one glob. The config is validated before it is written: what is written runs.

Scoring: each canonical column found counts 1; each preset column whose name differs from the
canonical one (Zendesk's "Solved at" for resolved_at) counts 2 more, so that a vendor's export
goes to its preset while a file with canonical names stays generic (a preset naming a column
`score` says nothing about the file). Ties go to the adapter listed first (generic).
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cscli.adapters import ADAPTERS
from cscli.adapters.base import Adapter, header_zone, normalize
from cscli.adapters.sniff import SNIFF_BYTES, bom_codec, guess_encoding
from cscli.engine.polars.compile import sql
from cscli.engine.polars.loader.diagnose import DELIMITER_WORDS, yaml_delimiter
from cscli.errors import UsageError
from cscli.schema import SURVEY_SOURCES, SURVEY_TYPES, TABLES, Table

DATA_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".parquet",
    ".pq",
    ".json",
    ".jsonl",
    ".ndjson",
    ".csv.gz",
    ".tsv.gz",
)

#: the delimiters `cscli init` tries: the one that splits the header into most columns wins
DELIMITERS = tuple(DELIMITER_WORDS)

#: export headers that commonly mean a canonical column (compared after normalising)
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "tickets": {
        "ticket_id": ("id", "ticket", "ticketid", "ticketnumber", "number", "caseid", "case"),
        "created_at": (
            "created",
            "createdat",
            "creationdate",
            "opened",
            "openedat",
            "submitted",
            "datecreated",
            "createddate",
        ),
        "first_response_at": (
            "firstreplyat",
            "firstresponse",
            "firstrespondedat",
            "firstresponsetime",
            "firstreplied",
        ),
        "resolved_at": ("solvedat", "resolved", "resolveddate", "resolutiondate", "solved"),
        "status": ("state", "ticketstatus"),
        "channel": ("via", "source", "contacttype"),
        "agent": ("assignee", "assignedto", "owner", "agentname"),
        "team": ("group", "assignmentgroup", "groupname"),
        "priority": ("urgency",),
        "customer_id": ("requester", "requesterid", "customer", "contactid", "callerid"),
        "reopens": ("reopencount", "reopened"),
        "reassignments": ("reassignmentcount", "groupstations"),
        "agent_replies": ("replies", "agentreplies", "publiccomments"),
    },
    "calls": {
        "call_id": ("contactid", "callsid", "id", "callid"),
        "queued_at": ("enqueuetimestamp", "queuestart", "queued", "queuedat", "starttime"),
        "answered_at": ("connectedtoagenttimestamp", "answered", "answertime", "answeredat"),
        "ended_at": ("disconnecttimestamp", "endtime", "ended"),
        "talk_seconds": ("talktime", "agentinteractionduration", "talkduration"),
        "hold_seconds": ("holdtime", "customerholdduration", "holdduration"),
        "wrap_seconds": ("acw", "aftercontactworkduration", "wrapup", "wraptime"),
        "queue": ("queuename",),
        "agent": ("agentusername", "agentname", "server"),
    },
    "surveys": {
        "responded_at": ("submittedat", "responsedate", "date", "createdat", "respondedat"),
        "score": ("rating", "scorevalue", "satisfactionrating"),
        "survey_type": ("type", "survey", "surveytype"),
        "comment": ("comments", "feedback", "text", "reason"),
        "response_id": ("id", "responseid"),
    },
    "customers": {
        "customer_id": ("id", "customer", "accountid"),
        "started_at": ("signupdate", "createdat", "startdate", "since", "signedup"),
        "churned_at": ("canceledat", "cancelledat", "churndate", "enddate"),
    },
    "agent_states": {
        "agent": ("agentname", "agentusername", "user", "username", "worker", "workername"),
        "state": ("status", "agentstate", "agentstatus", "activity", "activityname"),
        "started_at": ("start", "starttime", "statestart", "from", "begin", "timestamp"),
        "ended_at": ("end", "endtime", "stateend", "to", "until"),
    },
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class Match:
    table: Table
    adapter: str
    files: list[Path]
    header: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)
    score: float = 0.0
    delimiter: str | None = None
    #: the text encoding when the export is not UTF-8 (cp1252, latin-1)
    encoding: str | None = None
    #: a survey type the preset infers from the header (Qualtrics NPS questions)
    survey_type: str | None = None


def _header(path: Path) -> tuple[tuple[str, ...], str | None, str | None]:
    """The column names of a data file, the delimiter when it is not the default, and the
    encoding when the text is not UTF-8 (sniffed as the loader does: a byte-order mark is
    read without one, cp1252/latin-1 is told from the bytes)."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return tuple(pl.scan_parquet(path).collect_schema().names()), None, None
    if name.endswith((".jsonl", ".ndjson")):
        return tuple(pl.scan_ndjson(path).collect_schema().names()), None, None
    if name.endswith(".json"):
        return tuple(pl.read_json(path).columns), None, None
    text, encoding = _head_text(path)
    default = "\t" if ".tsv" in name else ","
    best: tuple[tuple[str, ...], str | None] = ((), None)
    for sep in (default, *DELIMITERS):
        try:
            cols = pl.read_csv(
                io.BytesIO(text.encode("utf-8")), separator=sep, infer_schema=False, n_rows=1
            )
        except pl.exceptions.PolarsError:
            continue
        if len(cols.columns) > len(best[0]):
            best = (tuple(cols.columns), None if sep == default else sep)
    return best[0], best[1], encoding


def _head_text(path: Path) -> tuple[str, str | None]:
    """The first complete lines of a text export (its first 64 KiB, gzip-aware) as text, and
    the `encoding:` it needs: None for UTF-8 or a byte-order mark, else the loader's guess
    (cp1252 when it uses the bytes only cp1252 prints, else latin-1)."""
    try:
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            more = bool(f.read(1))
        if head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as gz:
                head = gz.read(SNIFF_BYTES)
                more = bool(gz.read(1))
    except (OSError, EOFError, zlib.error):
        return "", None  # unreadable here: the loader's own error names it, later
    bom = bom_codec(head)
    encoding = None if bom else guess_encoding(head, cut_end=more)
    text = head.decode(bom or encoding or "utf-8", errors="replace").removeprefix("\ufeff")
    if more and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # a line cut by the sample's end is dropped
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _preset_columns(adapter: Adapter, table: Table, header: Sequence[str]) -> set[str]:
    """Canonical columns a preset computes here (SQL over, or offsets from, file columns)."""
    present = set(header)
    norms = {normalize(h) for h in header}
    computed = {
        c
        for c, e in adapter.sql_columns(table.name).items()
        if set(sql(e).meta.root_names()) <= present
    }
    computed |= {
        c
        for c, o in adapter.offsets.get(table.name, {}).items()
        if all(normalize(d) in norms for d in o.columns)
    }
    return computed


def _computed_from(adapter: Adapter, table: Table, header: Sequence[str]) -> set[str]:
    """The file columns a preset's SQL columns and offsets read."""
    present = set(header)
    names: set[str] = set()
    for e in adapter.sql_columns(table.name).values():
        roots = set(sql(e).meta.root_names())
        if roots <= present:
            names |= roots
    by_norm = {normalize(h): h for h in header}
    for o in adapter.offsets.get(table.name, {}).values():
        names |= {by_norm[normalize(d)] for d in o.columns if normalize(d) in by_norm}
        if o.when and set(sql(o.when).meta.root_names()) <= present:
            names |= set(sql(o.when).meta.root_names())
    return names


def _match(table: Table, header: Sequence[str]) -> tuple[str, dict[str, str], float, str | None]:
    """The best adapter for a header: its name, column map (canonical → export), score and
    the survey type it infers, if any."""
    present = set(header)
    by_norm = {_norm(h): h for h in header}
    best: tuple[str, dict[str, str], float, str | None] = ("generic", {}, -1.0, None)
    for adapter in ADAPTERS.values():
        preset = adapter.resolve(table.name, header)
        inferred = preset.get("survey_type")
        constant = inferred if inferred in SURVEY_TYPES and inferred not in present else None
        if constant:
            del preset["survey_type"]
        columns: dict[str, str] = dict(preset)
        computed = _preset_columns(adapter, table, header)
        for col in table.columns:
            if col.name in columns or col.name in present or col.name in computed:
                continue
            for candidate in (col.name, *SYNONYMS.get(table.name, {}).get(col.name, ())):
                export = by_norm.get(_norm(candidate))
                if export and export not in columns.values():
                    columns[col.name] = export
                    break
        found = {
            c.name
            for c in table.columns
            if c.name in columns or c.name in present or c.name in computed
        }
        required = set(table.required) - {"survey_type"}
        if not required <= found:
            continue
        distinctive = sum(1 for c, e in preset.items() if normalize(e) != c) + len(computed)
        score = len(found) + 2 * distinctive
        if score > best[2]:
            best = (adapter.name, columns, score, constant or adapter.survey_type)
    return best


def scan_folder(folder: Path) -> list[Match]:
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.lower().endswith(DATA_SUFFIXES) and not p.name.startswith(".")
    )
    if not files:
        raise UsageError(
            f"no data files in {folder}",
            hint="cscli reads .csv, .tsv, .parquet, .json and .jsonl exports",
        )
    headers = []
    for path in files:
        header, delimiter, encoding = _header(path)
        if header:
            headers.append((path, header, delimiter, encoding))
    return match_headers(headers)


def match_headers(
    headers: Sequence[tuple[Path, tuple[str, ...], str | None, str | None]],
    merge: bool = True,
) -> list[Match]:
    """The sources for a set of headers (a file's, or a database table's): each (file,
    header, delimiter, encoding) goes to the table it matches best; files of one header are
    one glob when `merge` (database tables never are)."""
    best: dict[str, Match] = {}
    for path, header, delimiter, encoding in headers:
        for table in TABLES.values():
            adapter, columns, score, survey_type = _match(table, header)
            if score < 0:
                continue
            current = best.get(table.name)
            if merge and current and current.header == header and current.adapter == adapter:
                current.files.append(path)
            elif current is None or score > current.score:
                best[table.name] = Match(
                    table,
                    adapter,
                    [path],
                    header,
                    columns,
                    score,
                    delimiter,
                    encoding,
                    survey_type,
                )
    # one file serves one table: the table it matches best
    owner: dict[Path, str] = {}
    for name, m in sorted(best.items(), key=lambda kv: -kv[1].score):
        if any(f in owner for f in m.files):
            continue
        for f in m.files:
            owner[f] = name
    return [m for name, m in best.items() if all(owner.get(f) == name for f in m.files)]


def _glob(files: list[Path], folder: Path) -> str:
    if len(files) == 1:
        return files[0].relative_to(folder).as_posix()
    names = [f.name for f in files]
    prefix = names[0]
    for n in names[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    suffix = "".join(files[0].suffixes)
    return f"{prefix}*{suffix}"


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(
    matches: Sequence[Match], folder: Path, timezone: str, database: str | None = None
) -> str:
    """The config for the matches: files of `folder`, or tables of the `database` URI (as it
    is to be written: a password replaced by a `${VAR}`)."""
    origin = "the tables of a database" if database else "the files in this folder"
    lines = [
        f"# cscli config written by `cscli init` from {origin}.",
        "# Check the column mappings below, then: cscli validate && cscli report",
        "# Reference: cscli kpis (the catalogue), docs/kpis.md; every key is explained in README.",
        "version: 1",
        f"timezone: {timezone}           # days, weeks and months are cut in this zone",
        "",
        "sources:",
    ]
    for m in sorted(matches, key=lambda m: list(TABLES).index(m.table.name)):
        preset = ADAPTERS[m.adapter]
        given = preset.resolve(m.table.name, m.header)
        lines.append(f"  {m.table.name}:")
        if database:
            lines.append(f"    database: {_yaml_str(database)}")
            lines.append(f"    table: {_yaml_str(m.files[0].name)}")
        else:
            lines.append(
                f"    path: {_yaml_str(_glob(m.files, folder))}"
                f"   # {len(m.files)} file(s), header of {m.files[0].name}"
            )
        if m.adapter != "generic":
            lines.append(f"    adapter: {m.adapter}   # {preset.description}")
        if m.delimiter:
            word = DELIMITER_WORDS.get(m.delimiter, repr(m.delimiter))
            lines.append(
                f"    delimiter: {yaml_delimiter(m.delimiter)}   # sniffed: the header is "
                f"split by {word}s"
            )
        if m.encoding:
            lines.append(
                f"    encoding: {m.encoding}   # sniffed: not UTF-8 (ö, é, € … read as "
                f"{m.encoding})"
            )
        zone = next((z for h in m.header if (z := header_zone(h))), None)
        if zone:
            lines.append(f"    timezone: {zone}   # named in the export's column headers")
        else:
            lines.append("    timezone: UTC   # zone of timestamps written without an offset")
        if (
            m.table.name in SURVEY_SOURCES
            and "survey_type" not in m.columns
            and ("survey_type" not in m.header)
        ):
            if m.survey_type:
                lines.append(f"    survey_type: {m.survey_type}   # from the {m.adapter} preset")
            else:
                guess = next((t for t in SURVEY_TYPES if t in m.files[0].name.lower()), "csat")
                record = "response" if m.table.name == "surveys" else "invitation"
                lines.append(f"    survey_type: {guess}   # every {record} is of this type")
        if m.table.name == "agent_states":
            lines.append(
                "    states: {}   # export state names → available, on_contact, "
                "after_contact_work, break, offline"
            )
        extra = {c: e for c, e in m.columns.items() if given.get(c) != e}
        if extra:
            lines.append("    columns:   # canonical name: export column")
            for c, e in extra.items():
                lines.append(f"      {c}: {_yaml_str(e)}")
        used = set(m.columns.values()) | {c for c in m.header if m.table.has(c)}
        used |= set(given.values()) | _computed_from(preset, m.table, m.header)
        unused = [h for h in m.header if h not in used]
        if unused:
            shown = ", ".join(unused[:12]) + (", …" if len(unused) > 12 else "")
            lines.append(f"    # not used: {shown}")
            lines.append('    # (add any as a dimension with extra_columns: ["Name"])')
    missing = [
        t for t in ("tickets", "calls", "surveys") if t not in {m.table.name for m in matches}
    ]
    if missing:
        lines += [
            "",
            f"# No {'table' if database else 'file'} looked like {', '.join(missing)}: add "
            "them under sources: "
            "when you have them.",
        ]
    lines += [
        "",
        "# kpis: omitted, so every default KPI of the sources above is reported.",
        "# checks: SLA rules for `cscli check`, e.g.",
        "# checks:",
        '#   - {kpi: first_response_time, fail: "> 4h", warn: "> 2h"}',
        '#   - {kpi: csat, fail: "< 80%"}',
    ]
    return "\n".join(lines) + "\n"
