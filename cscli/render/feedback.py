"""`cscli feedback` output: label counts, the extremes (masked), distinguishing terms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cscli import __version__
from cscli.render import safe

if TYPE_CHECKING:
    from cscli.api import FeedbackReport

LABEL_STYLE = {"negative": "red", "neutral": "dim", "positive": "green"}


def render_feedback(report: FeedbackReport, console: Console) -> None:
    s = report.summary
    start, end = report.period
    head = Text("cscli feedback", style="bold")
    head.append(
        safe.terminal(f"  {report.source}.{report.text_column}  {start or '…'} → {end or '…'}")
    )
    if report.by:
        head.append(safe.terminal(f"  by {', '.join(report.by)}"))
    console.print(head)
    console.print(
        Text(
            f"{s.n_scored:,} of {s.n_texts:,} texts have words to score "
            f"(neutral band ±{report.neutral:g})",
            style="dim",
        )
    )
    counts = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title="Labels",
        title_justify="left",
        title_style="bold",
    )
    for col in (*report.by, "label", "n", "share"):
        counts.add_column(safe.text(col), justify="right" if col in ("n", "share") else "left")
    for row in s.counts.iter_rows(named=True):
        share = row["share"]
        counts.add_row(
            *(safe.text(row[b]) if row[b] is not None else "(none)" for b in report.by),
            safe.text(row["label"], style=LABEL_STYLE.get(str(row["label"]), "")),
            f"{row['n']:,}",
            "–" if share is None else f"{share * 100:.1f}%",
        )
    console.print(counts)
    for side in ("negative", "positive"):
        rows = s.examples.filter(s.examples["side"] == side)
        if rows.is_empty():
            continue
        console.print(Text(f"Most {side}", style=f"bold {LABEL_STYLE[side]}"))
        for row in rows.iter_rows(named=True):
            console.print(
                Text(f"  {row['sentiment']:+.2f}  ", style=LABEL_STYLE[side])
                + safe.text(row[report.text_column])
            )
    if s.n_mixed and s.mixed is not None:
        console.print(
            Text(
                f"Mixed: {s.n_mixed:,} positive by their words, with a negated complaint",
                style="bold yellow",
            )
        )
        for row in s.mixed.iter_rows(named=True):
            console.print(
                Text(f"  {row['sentiment']:+.2f}  ", style="yellow")
                + safe.text(row[report.text_column])
            )
    title = (
        "Terms that set detractors apart from promoters, by survey score"
        if s.contrast == "score"
        else "Terms that set negative texts apart (and positive ones)"
    )
    terms = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
        title_style="bold",
        title=title,
    )
    terms.add_column("side")
    terms.add_column("term")
    terms.add_column("z", justify="right")
    low, high = ("low scores", "high scores") if s.contrast == "score" else ("negative", "positive")
    terms.add_column(f"in {low}", justify="right", style="dim")
    terms.add_column(f"in {high}", justify="right", style="dim")
    for row in s.terms.iter_rows(named=True):
        terms.add_row(
            safe.text(row["side"], style=LABEL_STYLE.get(str(row["side"]), "")),
            safe.text(row["term"]),
            f"{row['z']:+.1f}",
            f"{row['n_negative']:,}",
            f"{row['n_positive']:,}",
        )
    if s.terms.height:
        console.print(terms)
    else:
        console.print(Text("No term reaches |z| ≥ 1.96 in enough texts.", style="dim"))


def _rows(frame: Any) -> list[dict[str, Any]]:
    out = []
    for row in frame.iter_rows(named=True):
        out.append(
            {k: (str(v) if k.endswith("label") and v is not None else v) for k, v in row.items()}
        )
    return out


def feedback_json(report: FeedbackReport) -> str:
    s = report.summary
    start, end = report.period
    doc = {
        "tool": "cscli",
        "version": __version__,
        "source": report.source,
        "text_column": report.text_column,
        "period": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        "by": list(report.by),
        "where": report.where,
        "neutral": report.neutral,
        "texts": s.n_texts,
        "scored": s.n_scored,
        "labels": _rows(s.counts),
        "examples": [
            {
                "side": r["side"],
                "text": r[report.text_column],
                "sentiment": r["sentiment"],
                **{b: r.get(b) for b in report.by},
            }
            for r in s.examples.iter_rows(named=True)
        ],
        "contrast": s.contrast,
        "terms": _rows(s.terms),
        "mixed": {
            "n": s.n_mixed,
            "examples": [
                {
                    "text": r[report.text_column],
                    "sentiment": r["sentiment"],
                    **{b: r.get(b) for b in report.by},
                }
                for r in (s.mixed.iter_rows(named=True) if s.mixed is not None else ())
            ],
        },
    }
    return safe.json_text(doc, indent=2, default=str) + "\n"
