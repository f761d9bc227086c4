"""The queries of a report, collected together: `pl.collect_all` per step.

Most queries are collected in the first step, where polars shares each source's scan between
them. A query that needs another's result first (the second pass of an exact quantile, which
reads only the rows its first pass located) is a `Then`: its `first` part is collected with
the others, and the query built from that result in the next step, with the other second
parts.

A `heavy` query is one whose plan holds a memory-intensive node (a `group_by`, a join). The
streaming engine runs one such node at a time, so a scan shared by several of them keeps
every morsel it reads for the ones still waiting: about 55 bytes a row each at 20M tickets,
7 GB at 100M. On large sources (`one_heavy`) a step is therefore collected in rounds: the
light queries with the first heavy one, then each further heavy query alone — one more read
of its source's columns each, and memory that no longer grows with the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Then:
    """A query in two steps: `first`, then the query `then` builds from its (small) result;
    with `keep`, that result is kept as well (`Batch.first`: it holds more than `then` reads)."""

    first: pl.LazyFrame
    then: Callable[[pl.DataFrame], pl.LazyFrame | Then]
    keep: bool = False


class Batch:
    """Queries to collect together; `add` returns the index of the result."""

    def __init__(self, *, one_heavy: bool = False) -> None:
        self.one_heavy = one_heavy
        self.queries: list[pl.LazyFrame | Then] = []
        self.steps: list[int] = []
        self.heavy: set[int] = set()
        self.results: list[pl.DataFrame] = []
        self.firsts: dict[int, pl.DataFrame] = {}

    @property
    def later(self) -> int:
        """The step for a query that may wait for the others (a quantile's first pass): with
        them on small sources, where holding their input costs less than reading it again;
        after them with `one_heavy`."""
        return 1 if self.one_heavy else 0

    def add(self, query: pl.LazyFrame | Then, *, step: int = 0, heavy: bool = False) -> int:
        """`step`: collect the query after that many steps of the others (0: the first);
        `heavy`: its plan holds a group_by or a join (a `Then`: each of its parts)."""
        self.queries.append(query)
        self.steps.append(step)
        if heavy:
            self.heavy.add(len(self.queries) - 1)
        return len(self.queries) - 1

    def collect(self) -> None:
        pending = dict(enumerate(self.queries))
        results: dict[int, pl.DataFrame] = {}
        n = 0
        while pending:
            now = {i: q for i, q in pending.items() if self.steps[i] <= n}
            frames = {i: q.first if isinstance(q, Then) else q for i, q in now.items()}
            done: dict[int, pl.DataFrame] = {}
            for batch in self._rounds(list(frames)):
                got = pl.collect_all([frames[i] for i in batch])
                done |= zip(batch, got, strict=True)
            later = {i: q.then(done[i]) for i, q in now.items() if isinstance(q, Then)}
            self.firsts |= {i: done[i] for i, q in now.items() if isinstance(q, Then) and q.keep}
            results |= {i: df for i, df in done.items() if i not in later}
            pending = {i: q for i, q in pending.items() if i not in now} | later
            n += 1
        self.results = [results[i] for i in range(len(self.queries))]

    def _rounds(self, idx: list[int]) -> list[list[int]]:
        """The queries of a step in the collects that run them: one, or with `one_heavy` the
        light ones and the first heavy one, then each other heavy one alone."""
        heavy = [i for i in idx if i in self.heavy]
        if not self.one_heavy or len(heavy) < 2:
            return [idx] if idx else []
        alone = set(heavy[1:])
        return [[i for i in idx if i not in alone], *([i] for i in heavy[1:])]

    def __getitem__(self, i: int) -> pl.DataFrame:
        return self.results[i]

    def first(self, i: int) -> pl.DataFrame:
        """The first step's result of query `i`, a `Then` that keeps it."""
        return self.firsts[i]
