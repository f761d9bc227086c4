"""`cscli ingest` output: per source ingested, its rows, usable rows, files and findings, and
where it was written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from cscli.engine.canonical import MANIFEST, Manifest
from cscli.render import safe


def render_ingest(manifest: Manifest, names: Sequence[str], out: Path, console: Console) -> None:
    """One line per source of `names` (as the manifest holds it), then the manifest's path."""
    t = safe.terminal
    for name in names:
        e = manifest.sources[name]
        files = len(e.files)
        findings = len(e.findings)
        months = sum(1 for m in e.partitions if m != "none")
        console.print(
            Text(
                f"{t(name)}: {e.rows:,} rows, {e.usable_rows:,} usable, from {files} "
                f"file{'s' if files != 1 else ''}, {findings} finding"
                f"{'s' if findings != 1 else ''}, {months} month{'s' if months != 1 else ''}"
                f" → {t(str(out / name))}",
                style="yellow" if findings else "",
            ),
            soft_wrap=True,
        )
        for q in e.findings:
            console.print(
                safe.text(f"  ! {q.rows:,} row(s) {q.issue}: {q.effect}", style="dim"),
                soft_wrap=True,
            )
    console.print(Text(f"manifest: {t(str(out / MANIFEST))}", style="dim"), soft_wrap=True)
