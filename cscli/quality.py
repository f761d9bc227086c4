"""Data-quality findings, as every engine reports them: records a source or a KPI cannot
use, counted with their first rows, and a summary of each source read.

Plain results: the engine that counts them (`cscli.engine.polars.quality`) fills them in, and
the renderers and `validate` read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: the first rows (file, line) a finding lists
EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class QualityIssue:
    source: str
    issue: str
    rows: int
    column: str | None = None
    examples: tuple[tuple[str, int], ...] = ()
    effect: str = ""


@dataclass(frozen=True, slots=True)
class SourceSummary:
    name: str
    files: tuple[Path, ...]
    rows: int
    mapping: Mapping[str, str]
    unmapped: tuple[str, ...]
    #: a database source: which rows were read (all, or since a day), and why, in words
    read: str = ""
