"""`--strict` on `report` and `validate`: data-quality findings fail the command, exit 2.

Without it, the records with findings are left out of the KPIs and listed in the notes. With
it, the command still prints its output, then fails: for a pipeline that must not publish
numbers computed from a broken export. (`check --strict` is another thing: warnings fail.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cscli.errors import DataQualityError

if TYPE_CHECKING:
    from cscli.results import ReportResult
    from cscli.validate import ValidationResult


def require_clean_report(result: ReportResult) -> None:
    """Raise when the report's data had any quality finding."""
    findings = result.data_quality
    if findings:
        total = sum(q.rows for q in findings)
        raise DataQualityError(
            f"--strict: {len(findings)} data-quality finding(s) on {total:,} rows",
            hint="fix the export, or drop --strict to report with those rows excluded",
        )


def require_clean_validation(result: ValidationResult) -> None:
    """Raise when `validate` found any data-quality issue."""
    if not result.clean:
        raise DataQualityError(
            f"--strict: {len(result.issues)} data-quality finding(s)",
            hint="fix the export, or drop --strict",
        )
