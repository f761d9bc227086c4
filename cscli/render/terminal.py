"""Rich terminal tables with human units. Only this package and the CLI import rich.

Every text from the data or the config goes through `safe` (shown literally, controls
escaped); a plain string never reaches rich where it could be read as markup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cscli.kpis.columns import N_SUFFIX
from cscli.kpis.spec import Kpi, KpiDef
from cscli.pipeline import PERIOD_COL, PREV_SUFFIX, ReportResult, is_provisional
from cscli.render import safe
from cscli.units import change, format_change, format_value, sparkline

SOURCE_TITLES = {
    "tickets": "Tickets",
    "calls": "Calls",
    "surveys": "Surveys",
    "contacts": "Contacts",
    "customers": "Customers",
    "messages": "Messages",
}


def _period_text(result: ReportResult) -> str:
    start, end = result.effective_period
    if start is None and end is None:
        return "no records"
    span = f"{start or '…'} → {end or '…'}"
    scope = "" if result.period.start or result.period.end else " (all data)"
    return f"{span}{scope}, {safe.terminal(result.timezone)}"


def period_label(value: Any, grain: str | None) -> str:
    """2026-W03, 2026-03, 2026-Q1, or the day."""
    if not isinstance(value, date):
        return str(value)
    if grain == "week":
        iso = value.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return value.strftime("%Y-%m")
    if grain == "quarter":
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    return value.isoformat()


def _group_label(value: Any, column: str, grain: str | None) -> str:
    if value is None:
        return "(none)"
    if column == PERIOD_COL:
        return period_label(value, grain)
    return str(value)


def _change_text(row: dict[str, Any], kpi: Kpi) -> Text:
    """`▲ +2.1pp` green when the move is good for this KPI, red when bad."""
    delta = change(row.get(kpi.id), row.get(kpi.id + PREV_SUFFIX), kpi.unit)
    if delta is None:
        return Text("–", style="dim")
    shown = format_change(delta, kpi.unit)
    if delta == 0 or not any(c in "123456789" for c in shown):
        # no change, or one that rounds to zero at the precision shown: neither good nor bad
        return Text(f"= {shown.lstrip('+-')}", style="dim")
    arrow = "▲" if delta > 0 else "▼"
    if kpi.higher_is_better is None:
        style = "dim"
    else:
        style = "green" if (delta > 0) == kpi.higher_is_better else "red"
    return Text(f"{arrow} {format_change(delta, kpi.unit)}", style=style)


#: follows a provisional value (more than 5% of its cohort still open); explained on stderr
PROVISIONAL_MARK = "*"


def _cell(row: dict[str, Any], kpi: Kpi, show_n: bool, compare: bool = False) -> Text:
    value = row.get(kpi.id)
    text = Text(format_value(value, kpi.unit), style="" if value is not None else "dim")
    if value is not None and is_provisional(row, kpi):
        text.append(PROVISIONAL_MARK, style="yellow")
    if compare:
        text.append(" ")
        text.append_text(_change_text(row, kpi))
    if show_n:
        text.append(f"\nn={row.get(kpi.id + N_SUFFIX) or 0:,}", style="dim")
    return text


def render_report(
    result: ReportResult,
    console: Console,
    *,
    limit: int = 200,
    show_n: bool = False,
    combined: bool = False,
    n_columns: Sequence[str] = (),
    title: str | None = None,
) -> None:
    """The report as tables: a summary when ungrouped, else one table per source (or one
    table for all KPIs when `combined`, as the agent scorecard), then the trend."""
    header = Text()
    header.append(safe.terminal(title or "cscli report"), style="bold")
    header.append(f"  {_period_text(result)}")
    if result.by:
        header.append(safe.terminal(f"  by {', '.join(result.by)}"))
    if result.grain:
        header.append(f"  per {result.grain}")
    if result.compare:
        header.append(f"  vs {result.compare.start} → {result.compare.end}", style="dim")
    console.print(header)
    kpis = result.available
    if not kpis:
        console.print("No KPI could be computed (see the notes on stderr).")
        return
    totals = result.totals.row(0, named=True) if result.totals.height else {}
    compare = result.compare is not None
    if not result.group_columns:
        _summary_table(kpis, totals, console, compare)
        return
    rows = list(result.table.iter_rows(named=True))
    groups = (
        [list(kpis)]
        if combined
        else [[k for k in kpis if k.source == source] for source in SOURCE_TITLES]
    )
    for group in groups:
        if group:
            title_text = None if combined else SOURCE_TITLES[group[0].source]
            _grouped_table(
                result,
                title_text,
                group,
                rows,
                totals,
                console,
                limit,
                show_n,
                compare,
                n_columns,
            )
    if result.grain:
        _trend_table(result, kpis, console)


def _summary_table(
    kpis: Sequence[Kpi], totals: dict[str, Any], console: Console, compare: bool
) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("KPI")
    table.add_column("Value", justify="right")
    if compare:
        table.add_column("Previous", justify="right", style="dim")
        table.add_column("Change", justify="right")
    table.add_column("n", justify="right", style="dim")
    table.add_column("Source", style="dim")
    for k in kpis:
        cells: list[Any] = [safe.text(k.title), _cell(totals, k, False)]
        if compare:
            cells += [
                format_value(totals.get(k.id + PREV_SUFFIX), k.unit),
                _change_text(totals, k),
            ]
        cells += [f"{totals.get(k.id + N_SUFFIX) or 0:,}", safe.text(k.source)]
        table.add_row(*cells)
    console.print(table)


def _grouped_table(
    result: ReportResult,
    title: str | None,
    kpis: Sequence[Kpi],
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    console: Console,
    limit: int,
    show_n: bool,
    compare: bool,
    n_columns: Sequence[str],
) -> None:
    keys = result.group_columns
    # a group with no record of these KPIs adds nothing to the table
    mine = [r for r in rows if any(r.get(k.id + N_SUFFIX) for k in kpis)]
    table = Table(
        title=safe.text(title) if title else None,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for key in keys:
        table.add_column(safe.text(key), style="cyan", no_wrap=True)
    for k in kpis:
        table.add_column(safe.text(k.base.short if k.id == k.base.id else k.id), justify="right")
        if k.id in n_columns:
            table.add_column(safe.text(f"{k.base.short} n"), justify="right", style="dim")
    shown = mine if limit <= 0 else mine[:limit]

    def cells(row: dict[str, Any]) -> list[Text]:
        out = []
        for k in kpis:
            out.append(_cell(row, k, show_n, compare))
            if k.id in n_columns:
                out.append(Text(f"{row.get(k.id + N_SUFFIX) or 0:,}"))
        return out

    for i, row in enumerate(shown):
        table.add_row(
            *(safe.text(_group_label(row[key], key, result.grain)) for key in keys),
            *cells(row),
            end_section=i == len(shown) - 1,
        )
    table.add_row(Text("Total", style="bold"), *([""] * (len(keys) - 1)), *cells(totals))
    console.print(table)
    if len(mine) > len(shown):
        console.print(
            Text(
                f"… {len(mine) - len(shown)} more rows (--limit 0 shows all; "
                "--format json has every row)",
                style="dim",
            )
        )


def _trend_table(result: ReportResult, kpis: Sequence[Kpi], console: Console) -> None:
    """One line per KPI: a sparkline over the buckets (all groups together), first → last."""
    frame = result.trend if result.by else result.table
    if frame is None or frame.is_empty() or PERIOD_COL not in frame.columns:
        return
    frame = frame.sort(PERIOD_COL)
    periods = frame[PERIOD_COL].to_list()
    table = Table(
        title=f"Trend ({period_label(periods[0], result.grain)} → "
        f"{period_label(periods[-1], result.grain)})",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("KPI")
    table.add_column("trend", no_wrap=True)
    table.add_column("first", justify="right", style="dim")
    table.add_column("last", justify="right")
    table.add_column("min", justify="right", style="dim")
    table.add_column("max", justify="right", style="dim")
    for k in kpis:
        if k.id not in frame.columns:
            continue
        values = [None if v is None else float(v) for v in frame[k.id].to_list()]
        known = [v for v in values if v is not None]
        if not known:
            continue
        table.add_row(
            safe.text(k.title),
            Text(sparkline(values), style="cyan"),
            format_value(next(v for v in values if v is not None), k.unit),
            format_value(next(v for v in reversed(values) if v is not None), k.unit),
            format_value(min(known), k.unit),
            format_value(max(known), k.unit),
        )
    console.print(table)


def render_notes(result: ReportResult, console: Console) -> None:
    """Unavailable KPIs, provisional values, the end of the data and data-quality findings,
    for stderr."""
    maturing = result.provisional()
    if maturing:
        console.print(
            safe.labelled(
                "note:",
                "yellow",
                f"{PROVISIONAL_MARK} provisional ({', '.join(k.id for k in maturing)}): more "
                "than 5% of the cohort is still open at the export time, so the value will "
                "still move (JSON: open_share)",
            ),
            soft_wrap=True,
        )
    for name, day in result.data_ends().items():
        console.print(
            safe.labelled(
                "note:",
                "yellow",
                f"{name}: data ends {day} (its newest record), before the period's end "
                f"{result.period.end}: the days after are unknown, not quiet",
            ),
            soft_wrap=True,
        )
    for status in result.kpis:
        if not status.available:
            console.print(
                safe.labelled("note:", "yellow", f"{status.kpi.id} unavailable: {status.reason}"),
                soft_wrap=True,
            )
    for q in result.data_quality:
        where = ", ".join(f"{f}:{r}" for f, r in q.examples)
        more = ", …" if q.rows > len(q.examples) else ""
        console.print(
            safe.labelled(
                "data:",
                "yellow",
                f"{q.source}: {q.rows:,} row{'s' if q.rows != 1 else ''} "
                f"{q.issue} ({where}{more}): {q.effect}",
            ),
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
        table.add_row(
            safe.text(d.id),
            k.unit,
            better,
            safe.text(f"{d.source}.{d.anchor}"),
            safe.message(params),
            safe.message(k.definition),
        )
    console.print(table)
