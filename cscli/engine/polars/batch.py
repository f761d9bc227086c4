"""The queries of a report, collected together: one `pl.collect_all` per step.

Most queries are collected in the first step, where polars shares each source's scan between
them. A query that needs another's result first (the second pass of an exact quantile, which
reads only the rows its first pass located) is a `Then`: its `first` part is collected with
the others, and the query built from that result in the next step, with the other second
parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Then:
    """A query in two steps: `first`, then the query `then` builds from its (small) result."""

    first: pl.LazyFrame
    then: Callable[[pl.DataFrame], pl.LazyFrame | Then]


class Batch:
    """Queries to collect together; `add` returns the index of the result."""

    def __init__(self) -> None:
        self.queries: list[pl.LazyFrame | Then] = []
        self.steps: list[int] = []
        self.results: list[pl.DataFrame] = []

    def add(self, query: pl.LazyFrame | Then, *, step: int = 0) -> int:
        """`step`: collect the query after that many steps of the others (0: the first)."""
        self.queries.append(query)
        self.steps.append(step)
        return len(self.queries) - 1

    def collect(self) -> None:
        pending = dict(enumerate(self.queries))
        results: dict[int, pl.DataFrame] = {}
        n = 0
        while pending:
            now = {i: q for i, q in pending.items() if self.steps[i] <= n}
            idx = list(now)
            frames = [q.first if isinstance(q, Then) else q for q in now.values()]
            done = dict(zip(idx, pl.collect_all(frames), strict=True)) if frames else {}
            later = {i: q.then(done[i]) for i, q in now.items() if isinstance(q, Then)}
            results |= {i: df for i, df in done.items() if i not in later}
            pending = {i: q for i, q in pending.items() if i not in now} | later
            n += 1
        self.results = [results[i] for i in range(len(self.queries))]

    def __getitem__(self, i: int) -> pl.DataFrame:
        return self.results[i]
