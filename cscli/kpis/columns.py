"""The columns of a KPI: those its kind reads, and those its aggregation writes.

Engine-neutral facts about a kind, read from its SQL text by `cscli.sqlcheck`'s scanner (no
parser, no engine): availability asks which columns a KPI needs before any engine runs, and
every engine names its results the same way, so the renderers and checks read any of them:

    <id>        the value
    <id>__n     the records it rests on
    <id>__open  for a maturing KPI (`matures`): the share of its cohort whose outcome is not
                known yet (the value is provisional while that share is large)
"""

from __future__ import annotations

from cscli.kpis.spec import (
    Count,
    DistinctRatio,
    Erlang,
    Kind,
    NetScore,
    Ratio,
    Stat,
    StateTime,
    Stock,
)
from cscli.sqlcheck import column_names

N_SUFFIX = "__n"
#: the share of a maturing KPI's cohort whose outcome is not known yet (`provisional`)
OPEN_SUFFIX = "__open"


def kind_sql(kind: Kind) -> list[str]:
    """The SQL texts of a kind that its value reads, in the order they are written (without
    the optional `pending`: see `pending_columns`)."""
    texts: list[str | None]
    if isinstance(kind, Count):
        texts = [kind.where]
    elif isinstance(kind, Ratio):
        texts = [kind.numerator, kind.denominator, kind.where, kind.judged]
    elif isinstance(kind, Stat | NetScore):
        texts = [kind.value, kind.where]
    elif isinstance(kind, DistinctRatio):
        texts = [kind.key, kind.numerator, kind.where, kind.judged]
    elif isinstance(kind, Stock):
        texts = [kind.opened, kind.closed, kind.where]
    elif isinstance(kind, Erlang):
        texts = [kind.offered, kind.handle, kind.answered]
    elif isinstance(kind, StateTime):
        texts = ["started_at", "state"]
    else:
        texts = [kind.expr]
    return [t for t in texts if t]


def columns_used(kind: Kind) -> set[str]:
    """Every column (canonical or measure) the kind's SQL refers to."""
    names: set[str] = set()
    for text in kind_sql(kind):
        names |= column_names(text)
    return names


def pending_columns(kind: Kind) -> set[str]:
    """The columns of a kind's optional `pending` predicate (dropped when the source lacks
    them: the value is still exact, only its maturity cannot be told)."""
    pending = getattr(kind, "pending", None)
    return column_names(pending) if pending else set()


def matures(kind: Kind) -> bool:
    """Whether the kind reports an open share (`<id>__open`): a ratio with `judged` or
    `pending`, a statistic with `pending`, a distinct ratio with `judged`."""
    if isinstance(kind, Ratio):
        return bool(kind.judged or kind.pending)
    if isinstance(kind, Stat):
        return bool(kind.pending)
    if isinstance(kind, DistinctRatio):
        return bool(kind.judged)
    return False
