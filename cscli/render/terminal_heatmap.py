"""The intraday heatmaps on the terminal: a rich table per KPI, weekdays × hours.

Each cell prints its number; the background shade only repeats it, so a NO_COLOR terminal (rich
drops the colours) or a printout loses nothing."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cscli.render import safe
from cscli.render.heatmap import SHADES, Heatmap, heatmaps
from cscli.results import ReportResult

#: background per shade, light to dark (256-colour greys then blues), and a readable text colour
BACKGROUNDS = ("grey93", "light_steel_blue1", "sky_blue2", "steel_blue", "dodger_blue3")
FOREGROUNDS = ("black", "black", "black", "white", "white")
assert len(BACKGROUNDS) == SHADES


def render_heatmaps(result: ReportResult, console: Console) -> None:
    """Every heatmap of an intraday report (nothing for any other report)."""
    for heat in heatmaps(result):
        console.print(Text(safe.terminal(f"{heat.title} by weekday × hour"), style="bold"))
        console.print(_table(heat))


def _table(heat: Heatmap) -> Table:
    table = Table(
        box=box.SIMPLE,
        padding=(0, 0),
        pad_edge=False,
    )
    table.add_column("", justify="left", no_wrap=True)
    for hour in heat.hours:
        table.add_column(f"{hour:02d}", justify="right", no_wrap=True)
    for label, cells in heat.rows:
        row = [Text(label)]
        for cell in cells:
            text = f" {cell.text}" if cell.text else " ·"
            if cell.shade is None:
                row.append(Text(text, style="dim"))
            else:
                style = f"{FOREGROUNDS[cell.shade]} on {BACKGROUNDS[cell.shade]}"
                row.append(Text(text, style=style))
        table.add_row(*row)
    return table
