"""`--strict-data` on every command that reads data (`report`, `check`, `validate`): any
data-quality finding fails the command, exit 2.

Without it, the records with findings are left out of the KPIs and listed in the notes. With
it, the command still prints its output, then fails: for a pipeline that must not publish
numbers computed from a broken export. One meaning per flag: `check --strict` is another
thing (warnings fail, exit 1); on `report` and `validate`, `--strict` is the deprecated old
spelling of `--strict-data`, still working, with a note on stderr saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from cscli.errors import DataQualityError

if TYPE_CHECKING:
    from cscli.quality import QualityIssue
    from cscli.results import ReportResult
    from cscli.validate import ValidationResult

STRICT_DATA = "--strict-data"

#: the note `report --strict` and `validate --strict` print on stderr
DEPRECATED_STRICT = (
    "--strict on {command} is deprecated: it is now --strict-data (any data-quality finding "
    "exits 2); --strict means 'warnings fail' and belongs to check"
)


StrictDataOpt = Annotated[
    bool,
    typer.Option(
        "--strict-data", help="Exit 2 when the data has any quality finding (after the output)."
    ),
]
DeprecatedStrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Deprecated: the old spelling of --strict-data.", hidden=True),
]


def data_flag(strict_data: bool, strict: bool) -> str | None:
    """The flag that asked for clean data, as the user spelled it; None when neither did."""
    if strict_data:
        return STRICT_DATA
    return "--strict" if strict else None


def require_clean_findings(findings: Sequence[QualityIssue], flag: str = STRICT_DATA) -> None:
    """Raise when there is any data-quality finding."""
    if findings:
        total = sum(q.rows for q in findings)
        raise DataQualityError(
            f"{flag}: {len(findings)} data-quality finding(s) on {total:,} rows",
            hint=f"fix the export, or drop {flag} to use the data with those rows excluded",
        )


def require_clean_report(result: ReportResult, flag: str = STRICT_DATA) -> None:
    """Raise when the report's data had any quality finding."""
    findings = result.data_quality
    if findings:
        total = sum(q.rows for q in findings)
        raise DataQualityError(
            f"{flag}: {len(findings)} data-quality finding(s) on {total:,} rows",
            hint=f"fix the export, or drop {flag} to report with those rows excluded",
        )


def require_clean_validation(result: ValidationResult, flag: str = STRICT_DATA) -> None:
    """Raise when `validate` found any data-quality issue."""
    if not result.clean:
        raise DataQualityError(
            f"{flag}: {len(result.issues)} data-quality finding(s)",
            hint=f"fix the export, or drop {flag}",
        )
