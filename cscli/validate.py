"""`cscli validate`: load every source and say what cscli can and cannot use.

Per source: files, rows read, the columns mapped onto canonical names, the export columns left
unused and the canonical columns the export lacks; per finding: how many rows, the first row
numbers, and what cscli does with them; per KPI of the catalogue: available or not (and why),
and how many records it rests on over all the data.

The findings of each source are the ones `report` and `check` count too (one `collect_all`).
On top of those, validate checks what only makes sense across sources, in a second small
query: surveys and calls that reference a ticket or call the export does not contain, and a
messages export whose in_response_to matches no message_id at all. And it
is strict where a report is lenient: a source with a header but no records is an error here
(a report over it simply has n = 0), and every CSV/TSV file is read once more, whole, for
malformed lines (a report parses only the columns its KPIs need, and only its first rows up
front).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.config import Config
from cscli.engine.polars.facts import thread_key
from cscli.engine.polars.lifecycle import early_record_issues
from cscli.engine.polars.loader import (
    LoadedSource,
    explain_read_error,
    no_records_error,
    structure_error,
)
from cscli.engine.polars.sources import load_sources
from cscli.kpis.catalog import CATALOG
from cscli.period import Period
from cscli.pipeline import KpiStatus, QualityIssue, ReportRequest, SourceSummary, run_report
from cscli.quality import EXAMPLES

#: (source that refers, its column, source referred to): references checked across sources
REFERENCES = (
    ("surveys", "ticket_id", "tickets"),
    ("surveys", "call_id", "calls"),
    ("calls", "ticket_id", "tickets"),
)


@dataclass(frozen=True)
class ValidationResult:
    config_path: str
    sources: tuple[SourceSummary, ...]
    issues: tuple[QualityIssue, ...]
    kpis: tuple[tuple[KpiStatus, int], ...]
    #: per source, the canonical columns its export does not provide
    absent: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: per source read back from `cscli ingest`: where from, and how it was recognised
    ingested: Mapping[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.issues


def validate(config: Config) -> ValidationResult:
    configured = {k.id for k in config.kpis}
    wanted = [k.id for k in config.kpis] + [
        kpi_id
        for kpi_id, d in CATALOG.items()
        if kpi_id not in configured
        and (
            d.source in config.sources
            or d.source == "contacts"
            or (d.source == "sla_targets" and config.sla_policies)
        )
    ]
    malformed = structure_error(config.sources, config.base_dir)
    if malformed is not None:
        raise malformed
    try:
        result = run_report(
            config, ReportRequest(kpi_ids=tuple(wanted)), Period(None, None, config.timezone)
        )
    except pl.exceptions.PolarsError as e:
        # a malformed line past the first rows: name the file and line
        raise explain_read_error(config.sources, config.base_dir, e) from e
    for summary in result.sources:
        if summary.rows == 0:
            raise no_records_error(summary.name, summary.files)
    sources = load_sources(config, set(config.sources))
    kpis = tuple((s, result.total.kpi(s.kpi.id).n) for s in result.kpis)
    absent = {
        name: tuple(c for c in src.table.names if c not in src.columns)
        for name, src in sources.items()
    }
    issues = (
        *result.data_quality,
        *reference_issues(sources),
        *thread_issues(sources),
        *early_record_issues(sources),
    )
    ingested = {
        name: f"{src.canonical_dir} ("
        + (
            "format: canonical"
            if config.sources[name].format == "canonical"
            else "detected: a folder beside cscli-ingest.json"
        )
        + "; its findings were counted by cscli ingest)"
        for name, src in sources.items()
        if src.canonical_dir is not None
    }
    return ValidationResult(str(config.path), result.sources, issues, kpis, absent, ingested)


def reference_issues(sources: Mapping[str, LoadedSource]) -> list[QualityIssue]:
    """Records that refer to a ticket or call missing from its source (`REFERENCES`).

    Such a survey still counts for CSAT/NPS/CES; it just cannot be cut by the contact's
    agent, team or channel, so the finding says so rather than excluding it.
    """
    checks: list[tuple[str, str, str]] = []
    queries: list[pl.LazyFrame] = []
    for child, key, parent in REFERENCES:
        if child not in sources or parent not in sources:
            continue
        if key not in sources[child].columns or key not in sources[parent].columns:
            continue
        known = sources[parent].frame.select(pl.col(key).alias("_known")).unique()
        orphans = (
            sources[child]
            .frame.filter(pl.col(key).is_not_null())
            .join(known, left_on=key, right_on="_known", how="anti")
        )
        checks.append((child, key, parent))
        queries.append(
            orphans.select(
                pl.len().alias("n"),
                pl.struct(FILE_COL, ROW_COL).head(EXAMPLES).implode().alias("examples"),
            )
        )
    issues = []
    for (child, key, parent), frame in zip(checks, pl.collect_all(queries), strict=True):
        n = int(frame["n"][0])
        if not n:
            continue
        examples = tuple((x[FILE_COL], int(x[ROW_COL])) for x in frame["examples"][0])
        singular = parent.removesuffix("s")
        issues.append(
            QualityIssue(
                source=child,
                issue=f"reference an unknown {singular} ({key} not in {parent})",
                rows=n,
                column=key,
                examples=examples,
                effect=f"kept; they cannot be cut by the {singular}'s agent, team or channel",
            )
        )
    return issues


def thread_issues(sources: Mapping[str, LoadedSource]) -> list[QualityIssue]:
    """Messages whose `in_response_to` matches no `message_id` at all: the threading column
    holds something else (a conversation id, ids of another export), and every conversation
    would count as unanswered. Ids compare as replies are matched (`thread_key`: 3.0 is 3).
    Some unmatched replies are normal (a reply to a message before the export began)."""
    messages = sources.get("messages")
    if messages is None or not {"message_id", "in_response_to"} <= messages.columns:
        return []
    frame = messages.frame
    known = frame.select(
        thread_key(pl.col("message_id")).alias("_thread"), pl.lit(True).alias("_known")
    ).unique("_thread")
    counts = (
        frame.filter(pl.col("in_response_to").is_not_null())
        .with_columns(thread_key(pl.col("in_response_to")).alias("_thread"))
        .join(known, on="_thread", how="left", maintain_order="left")
        .select(
            pl.len().alias("n"),
            pl.col("_known").fill_null(False).sum().cast(pl.Int64).alias("matched"),
            pl.struct(FILE_COL, ROW_COL).head(EXAMPLES).implode().alias("examples"),
        )
        .collect()
    )
    n, matched = int(counts["n"][0]), int(counts["matched"][0])
    if not n or matched:
        return []
    return [
        QualityIssue(
            source="messages",
            issue="no reply matches any message (no in_response_to equals a message_id)",
            rows=n,
            column="in_response_to",
            examples=tuple((x[FILE_COL], int(x[ROW_COL])) for x in counts["examples"][0]),
            effect="no message has a reply: message_response_rate is 0 and "
            "message_first_response_time has no values; map in_response_to to the column "
            "holding the id of the message replied to",
        )
    ]
