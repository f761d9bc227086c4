"""Making any text safe for where it is shown: the terminal, Markdown, CSV, XML, JSON.

Data values, column names, file paths, config texts and library error messages reach every
output. Each target has one function here, and every renderer and every error message goes
through it, so no value can run in the place it is shown:

- terminal: control characters (C0, DEL, C1 and the bidirectional overrides) are shown as
  visible escapes such as `\\x1b`; text becomes a rich `Text`, which never interprets markup
  (`[link=…]`, `[/]`) or emoji codes (`:smile:`), and `safe_console` turns both off for every
  plain string as well.
- Markdown: a `<` or `&` that would start a tag or an entity becomes an HTML entity; `\\`,
  `[`, `]`, `|` are backslash-escaped (no link, image or extra table cell can come from the
  data); `://`, `www.` and `@` are escaped so GitHub does not auto-link a bare address or an
  e-mail address; CR is removed, other line breaks become a space, controls are shown as
  escapes.
- CSV/XLSX: formula injection, see `neutralise_frame`.
- XML: characters XML 1.0 forbids become visible escapes, so JUnit stays well-formed.
- JSON: `json.dumps` escapes C0 controls; `json_text` escapes DEL and C1 as well.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # polars loads only when a CSV is written, rich when something is printed:
    # `cscli --help` (plain click help) stays fast
    import polars as pl
    from rich.console import Console, JustifyMethod, OverflowMethod
    from rich.style import Style
    from rich.text import Text

#: C0 and C1 control characters, DEL, and the bidirectional marks and overrides that can make
#: a line read differently from what it contains ("Trojan source")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: the same, but keeping newline and tab (for messages of several lines)
CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: characters XML 1.0 does not allow at all (tab, LF and CR it allows)
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: a cell a spreadsheet would evaluate: it begins with = + - @, a tab or a carriage return
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = r"^[=+\-@\t\r]"
#: a plain decimal number such as -0.5, +3 or -1.5e-3: a spreadsheet reads it as that number
#: (nothing to run), so it is written as it is rather than turned into text by a quote
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_PATTERN)
_C1_OR_DEL = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(char: str) -> str:
    """`\\x1b` for ESC, `\\u202e` for a right-to-left override."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible_match(match: re.Match[str]) -> str:
    return visible(match.group(0))


# --- terminal -----------------------------------------------------------------------------


def terminal(value: Any, *, lines: bool = False) -> str:
    """`str(value)` with every control character shown as an escape; with `lines`, newlines
    and tabs are kept (a message of several lines), else they are escaped too (one cell)."""
    return (CONTROL_IN_LINES if lines else CONTROL).sub(_visible_match, str(value))


def text(value: Any, style: str | Style = "") -> Text:
    """A data value as a rich `Text`: shown literally, one line, controls escaped."""
    from rich.text import Text

    return Text(terminal(value), style=style)


def message(value: Any, style: str | Style = "") -> Text:
    """A message (which may quote paths, data or library errors) as a literal `Text`."""
    from rich.text import Text

    return Text(terminal(value, lines=True), style=style)


def labelled(label: str, style: str, body: Any) -> Text:
    """`error: …`, `hint: …`, `note: …`: a styled label, then the literal message."""
    from rich.text import Text

    out = Text(label, style=style)
    out.append(" ")
    out.append_text(message(body))
    return out


@functools.cache
def _safe_console_class() -> type[Console]:
    """The console class, built on first use: rich loads when something is printed."""
    from rich.console import Console

    class _SafeConsole(Console):
        """A console on which no plain string is read as markup or emoji, and controls show
        as escapes: a renderer that forgets `text()` still prints the data literally."""

        def render_str(
            self,
            text: str,
            *,
            style: str | Style = "",
            justify: JustifyMethod | None = None,
            overflow: OverflowMethod | None = None,
            emoji: bool | None = None,
            markup: bool | None = None,
            highlight: bool | None = None,
            highlighter: Any = None,
        ) -> Text:
            return super().render_str(
                terminal(text, lines=True),
                style=style,
                justify=justify,
                overflow=overflow,
                emoji=False,
                markup=False,
                highlight=highlight,
                highlighter=highlighter,
            )

    return _SafeConsole


def safe_console(**options: Any) -> Console:
    """A rich Console for cscli's own output: no markup, no emoji, no highlighting."""
    return _safe_console_class()(markup=False, emoji=False, highlight=False, **options)


# --- Markdown -----------------------------------------------------------------------------

_MD_REPLACE = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]", "|": "\\|"})
#: what would start an HTML tag, comment or autolink (`<a`, `</`, `<!`, `<?`) or an entity
#: (`&lt;`, `&#60;`); a `<` or `&` before anything else (`fail < 80%`) is shown as it is
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_MD_ENTITY = re.compile(r"&(?=[A-Za-z#])")


def markdown(value: Any) -> str:
    """A text from the data or the config inside a Markdown line or table cell."""
    out = str(value).replace("\r", "").replace("\n", " ").replace("\t", " ")
    out = _MD_TAG.sub("&lt;", _MD_ENTITY.sub("&amp;", out.translate(_MD_REPLACE)))
    out = CONTROL.sub(_visible_match, out)
    return out.replace("://", "\\://").replace("www.", "www\\.").replace("@", "\\@")


# --- CSV ----------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """A text cell a spreadsheet will not evaluate as a formula: a `'` before `=`, `+`, `-`,
    `@`, a tab or a CR at the start; plain numbers such as `-0.5` are left as they are."""
    if value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pl.DataFrame | pl.LazyFrame) -> Any:
    """`neutralise` on every text cell of every String column, and on the column names;
    numeric columns are untouched (a real -0.5 stays a number)."""
    import polars as pl

    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    text_columns = [c for c, t in schema.items() if t == pl.String]
    out = frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_PATTERN) & ~pl.col(c).str.contains(NUMBER_PATTERN))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text_columns
    )
    renamed = {c: neutralise(c) for c in schema if neutralise(c) != c}
    return out.rename(renamed) if renamed else out


# --- XML and JSON -------------------------------------------------------------------------


def xml(value: Any) -> str:
    """A text XML 1.0 can carry: forbidden characters become visible escapes (ElementTree
    escapes `&`, `<`, `>` and quotes itself)."""
    return XML_FORBIDDEN.sub(_visible_match, str(value))


def json_text(document: Any, **options: Any) -> str:
    """`json.dumps` (which escapes C0 controls) with DEL, C1 and bidirectional controls
    escaped as well, so the JSON is safe to print on a terminal and parses to the same data."""
    import json  # here: `cscli --help` starts without it

    text = json.dumps(document, ensure_ascii=False, **options)
    return _C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
