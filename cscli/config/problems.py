"""`Problems`: every problem of one config, collected with its position, then raised at once.

Each check of the config adds what it finds at the path of the value at fault
(`problems.add(("sources", "tickets", "adapter"), "…")`); the collector turns the path into
`file:line:column` through the YAML marks. `raise_if_any()` raises one `ConfigError` with
every problem, in the order of the file.

Without a file (a calendar spec given to `cscli.business_hours.parse` as plain data) the
problems keep only their path, which is then where they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cscli.config.marks import NO_MARKS, Marks, Path_
from cscli.errors import ConfigError, ConfigProblem, dotted


@dataclass(frozen=True, slots=True)
class Problems:
    """A collector of `ConfigProblem`s; `within(...)` is a view that adds below a path.

    file    the config file's name ("" for plain data: the path is then the position)
    text    its text, to point inside a string (`add(..., sql=...)`)
    marks   the positions of its keys and values
    """

    file: str = ""
    text: str = ""
    marks: Marks = NO_MARKS
    #: the path every `add` of this view is relative to
    prefix: Path_ = ()
    found: list[ConfigProblem] = dataclasses.field(default_factory=list)
    #: the fixes some problems suggest (shown once, as the error's `hint:`)
    hints: list[str] = dataclasses.field(default_factory=list)

    def add(
        self,
        path: Sequence[str | int],
        message: str,
        *,
        key: bool = False,
        sql: tuple[str, int] | None = None,
        labelled: bool = False,
        hint: str | None = None,
    ) -> None:
        """Report `message` at `path`: its value's position, or its key's when `key`.

        `sql=(text, offset)`: at that character of the SQL string at `path`.
        `labelled`: the message needs its path to be read (`missing: give …`); in a file the
        dotted path comes after the position (`f:3:7: calendars.office.timezone: missing: …`).
        `hint`: the fix to show under the error (`hint:`), once however many problems give it.
        """
        full = (*self.prefix, *path)
        if sql is not None:
            line, column = self.marks.inside(self.text, full, *sql) or (None, None)
        else:
            line, column = self.marks.at(full, key=key) or (None, None)
        if labelled and self.file and full:
            message = f"{dotted(full)}: {message}"
        self.found.append(ConfigProblem(self.file, line, column, message, full))
        if hint is not None and hint not in self.hints:
            self.hints.append(hint)

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of the value at `path` (where a check is written, for its report)."""
        return (self.marks.at((*self.prefix, *path)) or (None, None))[0]

    def extend(self, problems: Iterable[ConfigProblem]) -> None:
        """Problems found with their positions already (the YAML loader's)."""
        self.found.extend(problems)

    def within(self, *prefix: str | int) -> Problems:
        """A view of this collector whose paths are relative to `prefix`."""
        return dataclasses.replace(self, prefix=(*self.prefix, *prefix))

    def __len__(self) -> int:
        """How many problems were found (by every view of this collector)."""
        return len(self.found)

    def raise_if_any(self) -> None:
        """Raise one `ConfigError` with every problem, in the order of the file."""
        if self.found:
            raise ConfigError(sorted(self.found, key=_order), hint="; ".join(self.hints) or None)


def _order(p: ConfigProblem) -> tuple[int, int]:
    return (p.line or 0, p.column or 0)
