"""Rich terminal tables with human units. Only this package and the CLI import rich."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cscli.kpis.compile import N_SUFFIX
from cscli.kpis.spec import Kpi, KpiDef
from cscli.pipeline import PERIOD_COL, ReportResult
from cscli.units import format_value

SOURCE_TITLES = {
    "tickets": "Tickets",
    "calls": "Calls",
    "surveys": "Surveys",
    "customers": "Customers",
    "messages": "Messages",
}


def _period_text(result: ReportResult) -> str:
    start, end = result.effective_period
    if start is None and end is None:
        return "no records"
    span = f"{start or '…'} → {end or '…'}"
    scope = "" if result.period.start or result.period.end else " (all data)"
    return f"{span}{scope}, {result.timezone}"


def _group_label(value: Any, column: str, grain: str | None) -> str:
    if value is None:
        return "(none)"
    if column == PERIOD_COL and isinstance(value, date) and grain == "week":
        iso = value.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if column == PERIOD_COL and isinstance(value, date) and grain == "month":
        return value.strftime("%Y-%m")
    if column == PERIOD_COL and isinstance(value, date) and grain == "quarter":
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    return str(value)


def _cell(row: dict[str, Any], kpi: Kpi, show_n: bool) -> Text:
    value = row.get(kpi.id)
    text = Text(format_value(value, kpi.unit), style="" if value is not None else "dim")
    if show_n:
        text.append(f"\nn={row.get(kpi.id + N_SUFFIX) or 0:,}", style="dim")
    return text


def render_report(
    result: ReportResult, console: Console, *, limit: int = 200, show_n: bool = False
) -> None:
    """The report as tables: a summary when ungrouped, else one table per source."""
    header = Text()
    header.append("cscli report", style="bold")
    header.append(f"  {_period_text(result)}")
    if result.by:
        header.append(f"  by {', '.join(result.by)}")
    if result.grain:
        header.append(f"  per {result.grain}")
    console.print(header)
    kpis = result.available
    if not kpis:
        console.print("No KPI could be computed (see the notes on stderr).")
        return
    totals = result.totals.row(0, named=True) if result.totals.height else {}
    if not result.group_columns:
        _summary_table(kpis, totals, console)
        return
    rows = list(result.table.iter_rows(named=True))
    for source in SOURCE_TITLES:
        group = [k for k in kpis if k.source == source]
        if group:
            _grouped_table(result, source, group, rows, totals, console, limit, show_n)


def _summary_table(kpis: Sequence[Kpi], totals: dict[str, Any], console: Console) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("KPI")
    table.add_column("Value", justify="right")
    table.add_column("n", justify="right", style="dim")
    table.add_column("Source", style="dim")
    for k in kpis:
        table.add_row(
            k.title,
            _cell(totals, k, False),
            f"{totals.get(k.id + N_SUFFIX) or 0:,}",
            k.source,
        )
    console.print(table)


def _grouped_table(
    result: ReportResult,
    source: str,
    kpis: Sequence[Kpi],
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    console: Console,
    limit: int,
    show_n: bool,
) -> None:
    keys = result.group_columns
    # a group with no record of this source adds nothing to its table
    mine = [r for r in rows if any(r.get(k.id + N_SUFFIX) for k in kpis)]
    table = Table(
        title=SOURCE_TITLES[source],
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_footer=False,
    )
    for key in keys:
        table.add_column(key, style="cyan", no_wrap=True)
    for k in kpis:
        table.add_column(k.base.short if k.id == k.base.id else k.id, justify="right")
    shown = mine if limit <= 0 else mine[:limit]
    for i, row in enumerate(shown):
        table.add_row(
            *(_group_label(row[key], key, result.grain) for key in keys),
            *(_cell(row, k, show_n) for k in kpis),
            end_section=i == len(shown) - 1,
        )
    table.add_row(
        Text("Total", style="bold"),
        *([""] * (len(keys) - 1)),
        *(_cell(totals, k, show_n) for k in kpis),
    )
    console.print(table)
    if len(mine) > len(shown):
        console.print(
            Text(
                f"… {len(mine) - len(shown)} more rows (--limit 0 shows all; "
                "--format json has every row)",
                style="dim",
            )
        )


def render_notes(result: ReportResult, console: Console) -> None:
    """Unavailable KPIs and data-quality findings, for stderr."""
    for status in result.kpis:
        if not status.available:
            console.print(
                f"[yellow]note:[/] {status.kpi.id} unavailable: {status.reason}", soft_wrap=True
            )
    for q in result.data_quality:
        where = ", ".join(f"{f}:{r}" for f, r in q.examples)
        more = ", …" if q.rows > len(q.examples) else ""
        console.print(
            f"[yellow]data:[/] {q.source}: {q.rows:,} row{'s' if q.rows != 1 else ''} "
            f"{q.issue} ({where}{more}): {q.effect}",
            soft_wrap=True,
        )


def render_catalog(defs: Sequence[KpiDef], console: Console) -> None:
    from cscli.kpis.spec import instantiate

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("unit")
    table.add_column("better")
    table.add_column("anchor")
    table.add_column("parameters")
    table.add_column("definition", ratio=1)
    for d in defs:
        k = instantiate(d)
        better = {True: "higher", False: "lower", None: "–"}[k.higher_is_better]
        params = "\n".join(f"{p.name}={p.describe(p.default)}" for p in d.params) or "–"
        table.add_row(d.id, k.unit, better, f"{d.source}.{d.anchor}", params, k.definition)
    console.print(table)
