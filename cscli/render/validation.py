"""`cscli validate` output: a terminal report or JSON."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cscli.kpis.spec import Stock
from cscli.render import safe
from cscli.validate import ValidationResult


def render_validation(result: ValidationResult, console: Console) -> None:
    # file names, column names and messages come from the exports: each goes through `safe`
    t = safe.terminal
    console.print(Text(f"cscli validate  {t(result.config_path)}", style="bold"))
    for src in result.sources:
        files = ", ".join(t(f.name) for f in src.files)
        console.print(Text(f"\n{t(src.name)}: {src.rows:,} rows read from {files}", style="bold"))
        if src.read:
            console.print(Text(f"  {t(src.read)}", style="dim"))
        mapped = ", ".join(t(c) if e == c else f"{t(c)} ← {t(e)}" for c, e in src.mapping.items())
        console.print(Text(f"  mapped: {mapped}"))
        if src.unmapped:
            console.print(Text(f"  not used: {', '.join(map(t, src.unmapped))}", style="dim"))
        if result.absent.get(src.name):
            missing = ", ".join(map(t, result.absent[src.name]))
            console.print(Text(f"  not in the export: {missing}", style="dim"))
        issues = [q for q in result.issues if q.source == src.name]
        for q in issues:
            rows = ", ".join(f"{f}:{r}" for f, r in q.examples)
            console.print(
                safe.text(
                    f"  ! {q.rows:,} row(s) {q.issue} ({rows}{', …' if q.rows > 5 else ''}): "
                    f"{q.effect}",
                    style="yellow",
                )
            )
        if not issues:
            console.print(Text("  ✓ no data-quality findings", style="green"))
    table = Table(
        title="KPIs", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("KPI", style="cyan")
    table.add_column("records", justify="right")
    table.add_column("status")
    for status, n in result.kpis:
        if status.available and n:
            table.add_row(safe.text(status.kpi.id), f"{n:,}", Text("available", style="green"))
        elif status.available:
            why = "no records over all the data"
            if isinstance(status.kpi.kind, Stock) and status.kpi.unit == "ratio":
                why = "needs a period start (--from or --last)"
            table.add_row(safe.text(status.kpi.id), "0", Text(why, style="dim"))
        else:
            table.add_row(
                safe.text(status.kpi.id), "–", safe.text(status.reason or "", style="yellow")
            )
    console.print(table)
    verdict = "clean" if result.clean else f"{len(result.issues)} finding(s)"
    console.print(
        Text(
            f"{len(result.sources)} source(s) loaded, {verdict}",
            style="green" if result.clean else "yellow",
        )
    )


def validation_document(result: ValidationResult) -> dict[str, Any]:
    return {
        "config": result.config_path,
        "sources": [
            {
                "name": s.name,
                "files": [str(f) for f in s.files],
                "rows": s.rows,
                "mapping": dict(s.mapping),
                "unmapped": list(s.unmapped),
                "absent": list(result.absent.get(s.name, ())),
                **({"read": s.read} if s.read else {}),
            }
            for s in result.sources
        ],
        "data_quality": [
            {
                "source": q.source,
                "issue": q.issue,
                "rows": q.rows,
                "column": q.column,
                "effect": q.effect,
                "examples": [{"file": f, "row": r} for f, r in q.examples],
            }
            for q in result.issues
        ],
        "kpis": [
            {"id": s.kpi.id, "available": s.available, "reason": s.reason, "records": n}
            for s, n in result.kpis
        ],
    }


def validation_json(result: ValidationResult) -> str:
    return safe.json_text(validation_document(result), indent=2) + "\n"
