"""The `agent_states` source: its `states:` mapping onto the canonical state names, and the
findings on its rows (unknown states, rows ending before they start, unordered rows,
overlapping rows of one agent)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from cscli.engine.polars.loader.source import QualityCheck
from cscli.schema import AGENT_STATE_NAMES


def map_states(frame: pl.LazyFrame, states: Mapping[str, str]) -> pl.LazyFrame:
    """`state` (already trimmed and lower-cased) onto the canonical names; an unknown name
    is kept as written (a finding; the KPIs leave it out)."""
    mapping = {str(k).strip().lower(): str(v).strip().lower() for k, v in states.items()}
    for name in AGENT_STATE_NAMES:
        mapping.setdefault(name, name)
    raw = pl.col("state")
    mapped = raw.replace_strict(
        list(mapping), list(mapping.values()), default=raw, return_dtype=pl.String
    )
    return frame.with_columns(mapped.alias("state"))


def state_checks(columns: frozenset[str] | set[str]) -> list[QualityCheck]:
    """Findings on agent state rows; every one is counted, none is a crash."""
    checks = [
        QualityCheck(
            issue="state: not one of available, on_contact, after_contact_work, break, "
            "offline (add it to the source's `states:` mapping)",
            predicate=pl.col("state").is_not_null() & ~pl.col("state").is_in(AGENT_STATE_NAMES),
            column="state",
            drops_record=True,
            effect="left out of occupancy and agents_staffed",
        )
    ]
    if "ended_at" in columns:
        start, end = pl.col("started_at"), pl.col("ended_at")
        checks.append(
            QualityCheck(
                issue="ended_at before started_at",
                predicate=end.is_not_null() & start.is_not_null() & (end < start),
                column="ended_at",
                drops_record=True,
                effect="left out: a state row takes no negative time",
            )
        )
        # overlapping rows of one agent: a row that starts before the latest end of the
        # agent's earlier rows (in start order). Both rows count their time (double counted).
        prev_end = end.fill_null(start).sort_by(start).cum_max().shift(1).over("agent")
        sorted_start = start.sort_by(start).over("agent")
        checks.append(
            QualityCheck(
                issue="agent state overlaps an earlier state of the same agent",
                predicate=(prev_end > sorted_start).fill_null(False),
                column="started_at",
                effect="both rows count their time (the overlap is counted twice)",
            )
        )
    checks.append(
        QualityCheck(
            issue="agent state rows not in start order (a row starts before the agent's "
            "previous row)",
            predicate=(
                pl.col("started_at") < pl.col("started_at").shift(1).over("agent")
            ).fill_null(False),
            column="started_at",
            effect="read as given: the order of rows does not matter to the KPIs",
        )
    )
    return checks
