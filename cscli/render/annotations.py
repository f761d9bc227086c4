"""GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.

Under GitHub Actions (`GITHUB_ACTIONS=true`) cscli marks config and data errors, failed rules
and data-quality findings as annotations on the files they are about. Paths are relative to
`$GITHUB_WORKSPACE` when inside it (GitHub links an annotation only to a path in the
repository), else to the working directory when inside it, else as given.

Where they are written: GitHub documents workflow commands on stdout, and its runner reads
stderr the same way (each stream has its own command processor). So they go on stdout when
stdout is the annotations' own channel (`check --format github`), and on stderr whenever stdout
may be the command's data (a CSV, JSON or JUnit on stdout, or a report redirected to a file):
the error boundary always writes them on stderr, after the `error:`/`hint:` lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from cscli.render import safe

if TYPE_CHECKING:
    from cscli.quality import QualityIssue

Level = Literal["error", "warning", "notice"]


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """Workflow-command message escaping (`%`, CR, LF); any other control character is shown
    as an escape (`\\x1b`), so data cannot colour or rewrite the Actions log."""
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return safe.terminal(escaped)


def escape_property(text: str) -> str:
    """Workflow-command property escaping: data escaping plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_relative(path: str) -> str:
    """`path` relative to `$GITHUB_WORKSPACE` when inside it, else to the working directory
    when inside that, else unchanged."""
    bases = [os.environ.get("GITHUB_WORKSPACE") or "", os.getcwd()]
    for base in bases:
        if not base:
            continue
        try:
            rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
        except ValueError:  # another drive (Windows)
            continue
        if rel != ".." and not rel.startswith(".." + os.sep):
            return rel.replace(os.sep, "/")
    return path


def annotation(
    level: Level,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> str:
    """One workflow command line (no newline)."""
    props = []
    if file:
        props.append(f"file={escape_property(workspace_relative(file))}")
        if line is not None:
            props.append(f"line={line}")
            if col is not None:
                props.append(f"col={col}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{escape_data(message)}"


def finding_text(q: QualityIssue) -> str:
    """A data-quality finding in one sentence: `tickets: 2 rows … (t.csv:3, t.csv:5): effect`."""
    where = ", ".join(f"{f}:{r}" for f, r in q.examples)
    more = ", …" if q.rows > len(q.examples) else ""
    rows = f"{q.rows:,} row{'s' if q.rows != 1 else ''}"
    text = f"{q.source}: {rows} {q.issue}"
    if where:
        text += f" ({where}{more})"
    return text + (f": {q.effect}" if q.effect else "")


def finding_annotations(
    findings: Sequence[QualityIssue], paths: Mapping[str, str] | None = None
) -> list[str]:
    """One `::warning` per data-quality finding, at its first example row (a CSV's row as a
    spreadsheet shows it, the header being row 1, is the file's line). `paths` maps the file
    names the findings give to their paths."""
    out = []
    for q in findings:
        file, line = q.examples[0] if q.examples else (None, None)
        if file is not None and paths:
            file = paths.get(file, file)
        title = f"data quality: {q.source}"
        out.append(annotation("warning", finding_text(q), file=file, line=line, title=title))
    return out
