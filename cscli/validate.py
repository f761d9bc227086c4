"""`cscli validate`: load every source and say what cscli can and cannot use.

Per source: files, rows read, the columns mapped onto canonical names and the export columns
left unused; per finding: how many rows, the first row numbers, and what cscli does with them;
per KPI of the catalogue: available or not (and why), and how many records it rests on over
all the data. Everything in one pass (one `collect_all`), as a report would.
"""

from __future__ import annotations

from dataclasses import dataclass

from cscli.config import Config
from cscli.kpis.catalog import CATALOG
from cscli.period import Period
from cscli.pipeline import KpiStatus, QualityIssue, ReportRequest, SourceSummary, run_report


@dataclass(frozen=True)
class ValidationResult:
    config_path: str
    sources: tuple[SourceSummary, ...]
    issues: tuple[QualityIssue, ...]
    kpis: tuple[tuple[KpiStatus, int], ...]

    @property
    def clean(self) -> bool:
        return not self.issues


def validate(config: Config) -> ValidationResult:
    configured = {k.id for k in config.kpis}
    wanted = [k.id for k in config.kpis] + [
        kpi_id
        for kpi_id, d in CATALOG.items()
        if kpi_id not in configured and (d.source in config.sources or d.source == "contacts")
    ]
    result = run_report(
        config, ReportRequest(kpi_ids=tuple(wanted)), Period(None, None, config.timezone)
    )
    totals = result.totals.row(0, named=True) if result.totals.height else {}
    kpis = tuple((s, int(totals.get(s.kpi.id + "__n") or 0)) for s in result.kpis)
    return ValidationResult(str(config.path), result.sources, result.data_quality, kpis)
