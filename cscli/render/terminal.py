"""Rich terminal tables with human units. Only this package and the CLI import rich.

Every text from the data or the config goes through `safe` (shown literally, controls
escaped); a plain string never reaches rich where it could be read as markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from cscli.kpis.spec import Kpi, KpiDef
from cscli.render import safe
from cscli.render.heatmap import has_gap, staffing_gap
from cscli.render.labels import (
    by_period,
    by_source,
    change_tone,
    group_labels,
    marked,
    with_records,
)
from cscli.render.labels import period_label as period_label  # where tests find it
from cscli.render.terminal_heatmap import render_heatmaps
from cscli.results import PERIOD_COL, KpiValue, ReportResult, Row
from cscli.units import change, format_change, format_value, sparkline


def _period_text(result: ReportResult) -> str:
    start, end = result.effective_period
    if start is None and end is None:
        return "no records"
    span = f"{start or '…'} → {end or '…'}"
    scope = "" if result.period.start or result.period.end else " (all data)"
    return f"{span}{scope}, {safe.terminal(result.timezone)}"


def _change_text(v: KpiValue, kpi: Kpi) -> Text:
    """`▲ +2.1pp` green when the move is good for this KPI, red when bad."""
    delta = change(v.value, v.previous, kpi.unit)
    if delta is None:
        return Text("–", style="dim")
    shown = format_change(delta, kpi.unit)
    if delta == 0 or not any(c in "123456789" for c in shown):
        # no change, or one that rounds to zero at the precision shown: neither good nor bad
        return Text(f"= {shown.lstrip('+-')}", style="dim")
    arrow = "▲" if delta > 0 else "▼"
    style = {"good": "green", "bad": "red"}.get(change_tone(delta, kpi), "dim")
    return Text(f"{arrow} {format_change(delta, kpi.unit)}", style=style)


#: follows a provisional value (more than 5% of its cohort still open); explained on stderr
PROVISIONAL_MARK = "*"


def _cell(row: Row, kpi: Kpi, show_n: bool, compare: bool = False) -> Text:
    v = row.kpi(kpi.id)
    text = Text(format_value(v.value, kpi.unit), style="" if v.value is not None else "dim")
    if marked(v):
        text.append(PROVISIONAL_MARK, style="yellow")
    if compare:
        text.append(" ")
        text.append_text(_change_text(v, kpi))
    if show_n:
        text.append(f"\nn={v.n:,}", style="dim")
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
    compare = result.compare is not None
    if not result.group_columns:
        _summary_table(kpis, result.total, console, compare)
        return
    sections: list[tuple[str | None, list[Kpi]]] = [(None, list(kpis))]
    if not combined:
        sections = [(title, mine) for title, mine in by_source(kpis)]
    for title_text, group in sections:
        _grouped_table(result, title_text, group, console, limit, show_n, compare, n_columns)
    render_heatmaps(result, console)
    if result.grain:
        _trend_table(result, kpis, console)


def _summary_table(kpis: Sequence[Kpi], totals: Row, console: Console, compare: bool) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    # the numbers never wrap or shrink (`19,9…`); the KPI's title wraps instead
    table.add_column("KPI", overflow="fold")
    table.add_column("Value", justify="right", no_wrap=True)
    if compare:
        table.add_column("Previous", justify="right", style="dim", no_wrap=True)
        table.add_column("Change", justify="right", no_wrap=True)
    table.add_column("n", justify="right", style="dim", no_wrap=True)
    table.add_column("Source", style="dim")
    for k in kpis:
        v = totals.kpi(k.id)
        cells: list[Any] = [safe.text(k.title), _cell(totals, k, False)]
        if compare:
            cells += [format_value(v.previous, k.unit), _change_text(v, k)]
        cells += [f"{v.n:,}", safe.text(k.source)]
        table.add_row(*cells)
    console.print(table)


def kpi_header(k: Kpi) -> str:
    """A KPI's column header: its short label, never its id. A variant (`frt_business`) keeps
    the short label with what sets it apart (`FRT (hours=business)`), or its own title; a
    custom KPI without a short label shows its title."""
    if k.id == k.base.id:
        return k.title if k.base.short == k.id else k.base.short
    if k.title.startswith(k.base.title):
        return k.base.short + k.title[len(k.base.title) :]
    return k.title


def _width(text: Text | str) -> int:
    """The widest line of a cell, in terminal cells."""
    plain = text.plain if isinstance(text, Text) else text
    return max((cell_len(line) for line in plain.split("\n")), default=0)


#: a SIMPLE_HEAD table without edge padding: 2 for its edges, 3 between two columns
def _table_width(widths: Sequence[int]) -> int:
    return sum(widths) + 3 * max(len(widths) - 1, 0) + 2


def _fit(keys: int, widths: Sequence[int], space: int) -> list[range]:
    """The value columns (after `keys` label columns) split into runs that each fit in
    `space` cells beside the labels: a wide table becomes several, a number is never cut."""
    runs: list[range] = []
    start = keys
    for i in range(keys, len(widths)):
        if i > start and _table_width([*widths[:keys], *widths[start : i + 1]]) > space:
            runs.append(range(start, i))
            start = i
    if start < len(widths):
        runs.append(range(start, len(widths)))
    return runs


def _grouped_table(
    result: ReportResult,
    title: str | None,
    kpis: Sequence[Kpi],
    console: Console,
    limit: int,
    show_n: bool,
    compare: bool,
    n_columns: Sequence[str],
) -> None:
    keys = result.group_columns
    mine = with_records(result.rows, kpis)
    shown = mine if limit <= 0 else mine[:limit]
    headers = [safe.text(key) for key in keys]
    for k in kpis:
        headers.append(safe.text(kpi_header(k)))
        if k.id in n_columns:
            headers.append(safe.text(f"{kpi_header(k)} n"))
    gap = has_gap(kpis)
    if gap:
        headers.append(Text("Staffing gap"))

    def cells(row: Row) -> list[Text]:
        out = []
        for k in kpis:
            out.append(_cell(row, k, show_n, compare))
            if k.id in n_columns:
                out.append(Text(f"{row.kpi(k.id).n:,}"))
        if gap:
            g = staffing_gap(row)
            out.append(Text("–" if g is None else f"{g:+.1f}", style="red" if g and g < 0 else ""))
        return out

    body: list[list[Text]] = [
        [*(safe.text(label) for label in group_labels(row, result.grain)), *cells(row)]
        for row in shown
    ]
    total = [Text("Total", style="bold"), *(Text("") for _ in keys[1:]), *cells(result.total)]
    widths = [
        max(_width(h), *(_width(line[i]) for line in [*body, total])) for i, h in enumerate(headers)
    ]
    runs = _fit(len(keys), widths, console.width)
    for part, run in enumerate(runs):
        columns = [*range(len(keys)), *run]
        heading = safe.text(title) if title else None
        if heading is not None and part:
            heading = Text.assemble(heading, Text(f" (continued, {part + 1}/{len(runs)})"))
        table = Table(
            title=heading,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for i in columns:
            if i < len(keys):
                table.add_column(headers[i], style="cyan", no_wrap=True)
            else:
                dim = "dim" if headers[i].plain.endswith(" n") else ""
                table.add_column(headers[i], justify="right", no_wrap=True, style=dim)
        for j, line in enumerate(body):
            table.add_row(*(line[i] for i in columns), end_section=j == len(body) - 1)
        table.add_row(*(total[i] for i in columns))
        console.print(table)
    if len(mine) > len(shown):
        console.print(
            Text(
                f"… {len(mine) - len(shown)} more rows (--limit 0 shows all; "
                "--format json has every row)",
                style="dim",
            )
        )


#: below this width the trend's rows are labelled with the short header (`FRT`), not the title
NARROW = 100


def _row_label(k: Kpi, console: Console) -> str:
    return kpi_header(k) if console.width < NARROW else k.title


def _trend_table(result: ReportResult, kpis: Sequence[Kpi], console: Console) -> None:
    """One line per KPI: a sparkline over the buckets (all groups together), first → last."""
    rows = by_period(result.trend_rows if result.by else result.rows)
    if not rows:
        return
    periods = [r.group[PERIOD_COL] for r in rows]
    table = Table(
        title=f"Trend ({period_label(periods[0], result.grain)} → "
        f"{period_label(periods[-1], result.grain)})",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("KPI", overflow="fold")
    table.add_column("trend", no_wrap=True)
    table.add_column("first", justify="right", style="dim", no_wrap=True)
    table.add_column("last", justify="right", no_wrap=True)
    table.add_column("min", justify="right", style="dim", no_wrap=True)
    table.add_column("max", justify="right", style="dim", no_wrap=True)
    for k in kpis:
        if not rows[0].has(k.id):
            continue
        values = [None if v is None else float(v) for v in (r.kpi(k.id).value for r in rows)]
        known = [v for v in values if v is not None]
        if not known:
            continue
        table.add_row(
            safe.text(_row_label(k, console)),
            Text(sparkline(values), style="cyan"),
            format_value(next(v for v in values if v is not None), k.unit),
            format_value(next(v for v in reversed(values) if v is not None), k.unit),
            format_value(min(known), k.unit),
            format_value(max(known), k.unit),
        )
    console.print(table)


def render_notes(result: ReportResult, console: Console, *, reads: bool = False) -> None:
    """Unavailable KPIs, provisional values, the end of the data, the rows a database source
    read (since a day; with `reads` (--debug) also why a source read every row) and
    data-quality findings, for stderr."""
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
    overlap = result.overlap_note()
    if overlap:
        console.print(safe.labelled("note:", "yellow", overlap), soft_wrap=True)
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
    for s in result.sources:
        if s.read and (reads or not s.read.startswith("rows read: all")):
            console.print(safe.labelled("note:", "yellow", f"{s.name}: {s.read}"), soft_wrap=True)
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
    """The catalogue as a table, or under NARROW columns as a list (one block per KPI), where
    a six-column table would squeeze the definitions into a word per line."""
    if console.width < NARROW:
        _catalog_list(defs, console)
    else:
        _catalog_table(defs, console)


def _catalog_list(defs: Sequence[KpiDef], console: Console) -> None:
    from cscli.kpis.spec import instantiate

    for i, d in enumerate(defs):
        k = instantiate(d)
        better = {True: "higher is better", False: "lower is better", None: "no direction"}[
            k.higher_is_better
        ]
        if i:
            console.print()
        head = Text.assemble(safe.text(d.id, style="bold cyan"), "  ", safe.text(d.title))
        console.print(head)
        facts = Text.assemble(
            "  ",
            safe.text(k.unit),
            f" · {better} · anchor ",
            safe.text(f"{d.source}.{d.anchor}"),
            style="dim",
        )
        console.print(facts)
        if d.params:
            params = ", ".join(f"{p.name}={p.describe(p.default)}" for p in d.params)
            console.print(Padding(safe.message(f"parameters: {params}"), (0, 0, 0, 2)))
        console.print(Padding(safe.message(k.definition), (0, 0, 0, 2)))


def _catalog_table(defs: Sequence[KpiDef], console: Console) -> None:
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
