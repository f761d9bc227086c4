"""Issue #12 "Hostile input", the output side: data, headers, paths and library messages that
look like rich markup, emoji codes, terminal escapes, spreadsheet formulas, HTML or Markdown
links are shown literally in every format; write failures are `cannot write PATH: reason`
(exit 2) for every format; several outputs are all-or-nothing; a killed run leaves no
temporary file behind for long.

The expected texts are written out by hand below each fixture: a control character shows as
its escape (`\\x1b`), a CSV text cell that begins with = + - @ gets a `'`, and nothing else
changes.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import resource
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
import xmlschema
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from cscli import api
from cscli.cli import _emit, app
from cscli.errors import Interrupted
from cscli.output import remove_stale_temporaries, write_atomic
from cscli.render import safe
from cscli.render.terminal import render_report

Write = Callable[[str, str], Path]
ROOT = Path(__file__).resolve().parent.parent
JUNIT_XSD = ROOT / "tests" / "data" / "junit.xsd"

#: agent and channel names; ticket H<i> has a first response of 10 + i minutes
HOSTILE = [
    "[/]",
    "[link=https://x]a[/link]",
    ":smile:",
    "\x1b[31mred",
    '=HYPERLINK("http://e","x")',
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "C\rR",
    "bell\x07",
    "csi\x9b31m",
    "rtl\u202eevil",
    "-0.5",
    "-1+2",
    "@SUM(A1)",
]
#: how a terminal shows each (controls as escapes, everything else literally)
ON_TERMINAL = {
    "[/]": "[/]",
    "[link=https://x]a[/link]": "[link=https://x]a[/link]",
    ":smile:": ":smile:",
    "\x1b[31mred": "\\x1b[31mred",
    '=HYPERLINK("http://e","x")': '=HYPERLINK("http://e","x")',
    "<img src=x onerror=alert(1)>": "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))": "[x](javascript:alert(1))",
    "C\rR": "C\\x0dR",
    "bell\x07": "bell\\x07",
    "csi\x9b31m": "csi\\x9b31m",
    "rtl\u202eevil": "rtl\\u202eevil",
    "-0.5": "-0.5",
    "-1+2": "-1+2",
    "@SUM(A1)": "@SUM(A1)",
}
#: the text a Markdown reader sees: the same, but CR removed
IN_MARKDOWN = {**ON_TERMINAL, "C\rR": "CR"}
#: a CSV cell: exact, with a `'` before = + - @ (a plain number such as -0.5 stays as it is)
IN_CSV = {
    **{v: v for v in HOSTILE},
    '=HYPERLINK("http://e","x")': '\'=HYPERLINK("http://e","x")',
    "-1+2": "'-1+2",
    "@SUM(A1)": "'@SUM(A1)",
}
#: raw bytes no output may send to a terminal: ESC, BEL, CR, CSI (C1), the RTL override
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """tickets.csv with one ticket per hostile name (as agent and channel); a rule per agent
    that every agent fails (FRT 10…23 minutes > 1 minute)."""
    lines = ["ticket_id,created_at,first_response_at,resolved_at,channel,agent"]
    for i, value in enumerate(HOSTILE):
        lines.append(
            f"H{i},2026-01-05T09:00:00Z,2026-01-05T09:{10 + i}:00Z,,{quoted(value)},{quoted(value)}"
        )
    (tmp_path / "tickets.csv").write_bytes(("\n".join(lines) + "\n").encode())
    config = tmp_path / "cscli.yaml"
    config.write_text(
        "timezone: UTC\n"
        "sources:\n  tickets: {path: tickets.csv}\n"
        "kpis: [ticket_volume, first_response_time]\n"
        "checks:\n"
        '  - {name: frt, kpi: first_response_time, by: [agent], fail: "> 1m"}\n',
        encoding="utf-8",
    )
    return config


def assert_no_raw_controls(text: str) -> None:
    for char in RAW_CONTROLS:
        assert char not in text, (char, text)


class Cells(HTMLParser):
    """The text of every table cell, and every tag, of rendered Markdown."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def rendered_markdown(text: str) -> Cells:
    """CommonMark with GFM tables (markdown-it-py, an independent parser), then its HTML."""
    page = MarkdownIt("commonmark").enable("table").render(text)
    parsed = Cells()
    parsed.feed(page)
    return parsed


# --- report -------------------------------------------------------------------------------


def test_report_table_shows_names_literally(runner: CliRunner, hostile: Path) -> None:
    result = runner.invoke(app, ["report", "-c", str(hostile), "--by", "agent"])
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stdout)
    for shown in ON_TERMINAL.values():
        assert shown in result.stdout, shown
    assert "😄" not in result.stdout  # :smile: is not an emoji code here


def test_report_table_on_a_colour_terminal_has_no_link_or_data_escape(hostile: Path) -> None:
    """On a real terminal rich writes its own colour codes; none comes from the data, and
    `[link=…]` is no OSC 8 hyperlink."""
    out = io.StringIO()
    console = safe.safe_console(file=out, force_terminal=True, color_system="truecolor", width=160)
    render_report(api.report(hostile, by=["agent"]), console)
    text = out.getvalue()
    assert "\x1b]8;" not in text  # OSC 8: a hyperlink
    assert "\x1b[31mred" not in text  # the data's own escape sequence
    assert "\\x1b[31mred" in text and "[link=https://x]a[/link]" in text
    assert "\x07" not in text and "\x9b" not in text and "\u202e" not in text


def test_report_markdown_has_no_html_link_or_image(runner: CliRunner, hostile: Path) -> None:
    result = runner.invoke(app, ["report", "-c", str(hostile), "--by", "agent", "-f", "md"])
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stdout)
    parsed = rendered_markdown(result.stdout)
    assert parsed.tags <= {"h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "ul"} | {
        "li",
        "strong",
        "code",
    }, parsed.tags
    for shown in IN_MARKDOWN.values():
        assert shown in parsed.cells, shown


def test_report_csv_neutralises_formulas_and_keeps_the_rest(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    stdout = runner.invoke(app, ["report", "-c", str(hostile), "--by", "agent", "-f", "csv"])
    assert stdout.exit_code == 0, stdout.output
    out = tmp_path / "r.csv"
    written = runner.invoke(app, ["report", "-c", str(hostile), "--by", "agent", "-o", str(out)])
    assert written.exit_code == 0, written.output
    for text in (stdout.stdout, out.read_bytes().decode()):  # bytes: the CR stays a CR
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        agents = sorted(r["agent"] for r in rows if r["scope"] == "group")
        assert agents == sorted(IN_CSV.values())
        # FRT of H11 ("-0.5") is 10 + 11 = 21 minutes = 1260 seconds: a number, as it was
        assert next(r for r in rows if r["agent"] == "-0.5")["first_response_time"] == "1260.0"
    meta = json.loads((tmp_path / "r.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["by"] == ["agent"]


def test_csv_neutralises_text_cells_and_headers_not_numbers() -> None:
    frame = pl.DataFrame(
        {"=cmd": ["a"], "change": [-0.5], "label": ["-0.5"], "note": ["-2+3"], "at": ["@x"]}
    )
    out = safe.neutralise_frame(frame)
    assert out.columns == ["'=cmd", "change", "label", "note", "at"]
    assert out.schema["change"] == pl.Float64 and out["change"].to_list() == [-0.5]
    assert out.row(0) == ("a", -0.5, "-0.5", "'-2+3", "'@x")
    assert safe.neutralise("+1e-3") == "+1e-3" and safe.neutralise("+1e-3x") == "'+1e-3x"
    assert safe.neutralise("\tx") == "'\tx" and safe.neutralise("\rx") == "'\rx"


def test_report_json_keeps_every_value_exactly(runner: CliRunner, hostile: Path) -> None:
    result = runner.invoke(app, ["report", "-c", str(hostile), "--by", "agent", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stdout)  # C0 by json, DEL/C1/bidi by safe.json_text
    doc = json.loads(result.stdout)
    assert sorted(r["group"]["agent"] for r in doc["rows"]) == sorted(HOSTILE)


def test_report_html_and_xlsx_show_names_as_text(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    args = ["report", "-c", str(hostile), "--by", "agent", "-o", str(html), "-o", str(xlsx)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    wb = openpyxl.load_workbook(xlsx)
    cells = [c for c in wb["Tickets"]["A"][1:] if c.value != "Total"]
    assert all(c.data_type == "s" for c in cells)
    # OOXML stores control characters as _xHHHH_
    decoded = [
        str(c.value).replace("_x001B_", "\x1b").replace("_x000D_", "\r").replace("_x0007_", "\x07")
        for c in cells
    ]
    assert sorted(decoded) == sorted(HOSTILE)  # exactly as written: no `'` in XLSX (#18)
    with zipfile.ZipFile(xlsx) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if "worksheets/" in n)


def test_wrote_lines_print_paths_literally(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    target = tmp_path / "[bold]x[/]" / "[link=https://x]r[/link].json"
    result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.stderr
    assert target.is_file()


def test_machine_output_on_a_terminal_shows_controls_as_escapes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _emit("scope,agent\ngroup,\x1b[2Jx\tC\rR\n")
    assert capsys.readouterr().out == "scope,agent\ngroup,\\x1b[2Jx\tC\\x0dR\n"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    _emit("group,\x1b[2Jx\n")  # a pipe or a file gets the data exactly
    assert capsys.readouterr().out == "group,\x1b[2Jx\n"


# --- check --------------------------------------------------------------------------------


def check(runner: CliRunner, config: Path, *args: str) -> Any:
    return runner.invoke(app, ["check", "-c", str(config), *args])


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def test_check_table_shows_names_literally(runner: CliRunner, hostile: Path) -> None:
    result = check(runner, hostile)
    assert result.exit_code == 1, result.output  # every agent fails: exit 1, nothing else
    assert_no_raw_controls(result.stdout)
    for shown in ON_TERMINAL.values():
        assert f"agent={shown}" in result.stdout, shown


def test_check_markdown_has_no_html_link_or_image(runner: CliRunner, hostile: Path) -> None:
    result = check(runner, hostile, "-f", "md")
    assert result.exit_code == 1, result.output
    assert_no_raw_controls(result.stdout)
    parsed = rendered_markdown(result.stdout)
    assert not parsed.tags & {"a", "img", "script"}, parsed.tags
    for shown in IN_MARKDOWN.values():
        assert f"agent={shown}" in parsed.cells, shown


def test_check_junit_is_well_formed_and_valid(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    target = tmp_path / "junit.xml"
    result = check(runner, hostile, "-f", "junit", "-o", str(target))
    assert result.exit_code == 1, result.output
    root = ET.parse(target).getroot()  # well-formed, or this raises
    assert xmlschema.XMLSchema(JUNIT_XSD).is_valid(str(target))
    names = {case.get("name") for case in root.iter("testcase")}
    # ESC is not allowed in XML 1.0: its escape; CR is allowed (written as &#13;)
    assert "first_response_time [agent=\\x1b[31mred]" in names
    assert "first_response_time [agent=C\rR]" in names
    assert "first_response_time [agent=<img src=x onerror=alert(1)>]" in names


def test_check_github_annotations_one_line_each_no_raw_controls(
    runner: CliRunner, hostile: Path
) -> None:
    result = check(runner, hostile, "-f", "github")
    assert result.exit_code == 1, result.output
    assert_no_raw_controls(result.stdout)
    lines = result.stdout.splitlines()
    assert len(lines) == len(HOSTILE) + 1  # one annotation per agent, then the verdict
    assert all(line.startswith("::error ") for line in lines[:-1])
    assert any("agent=\\x1b[31mred is 13m 00s" in line for line in lines)  # H3: 10 + 3
    assert any("agent=C%0DR is 17m 00s" in line for line in lines)  # H7: 10 + 7


def test_github_step_summary_escapes_and_a_directory_is_an_error(
    runner: CliRunner, hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert check(runner, hostile, "-f", "github").exit_code == 1
    parsed = rendered_markdown(summary.read_text(encoding="utf-8"))
    assert not parsed.tags & {"a", "img", "script"}
    assert "\r" not in summary.read_text(encoding="utf-8")
    folder = tmp_path / "a folder"
    folder.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(folder))
    result = check(runner, hostile, "-f", "github")
    assert result.exit_code == 2  # not 1: the run did not work
    assert f"error: $GITHUB_STEP_SUMMARY ({folder}): Is a directory" in result.stderr
    assert "hint: $GITHUB_STEP_SUMMARY must name a file" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_breaches_csv_is_neutralised(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    target = tmp_path / "breaches.csv"
    result = check(runner, hostile, "--breaches", str(target))
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert sorted(r["agent"] for r in rows) == sorted(IN_CSV.values())
    assert sorted(r["channel"] for r in rows) == sorted(IN_CSV.values())
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(safe.FORMULA_START) or cell == "-0.5", cell


# --- validate -----------------------------------------------------------------------------


def test_validate_shows_paths_and_column_names_literally(runner: CliRunner, tmp_path: Path) -> None:
    # (a folder with `[` in its name is a glob problem of the adapters, not tested here)
    folder = tmp_path / "exports"
    folder.mkdir()
    header = "ticket_id,created_at,[link=https://x]c[/link],\x1b[2Jwipe,=cmd"
    (folder / "tickets.csv").write_bytes(f"{header}\nT1,2026-01-05T09:00:00Z,a,b,c\n".encode())
    config = folder / "cscli [bold]x[link=mailto:x].yaml"
    config.write_text("sources:\n  tickets: {path: tickets.csv}\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stdout)
    assert f"cscli validate  {config}" in result.stdout
    assert "not used: [link=https://x]c[/link], \\x1b[2Jwipe, =cmd" in result.stdout
    as_json = runner.invoke(app, ["validate", "-c", str(config), "-f", "json"])
    doc = json.loads(as_json.stdout)
    assert doc["sources"][0]["unmapped"] == ["[link=https://x]c[/link]", "\x1b[2Jwipe", "=cmd"]


def test_feedback_shows_comments_literally(runner: CliRunner, tmp_path: Path) -> None:
    comments = [
        "[/] terrible awful",
        "[link=https://x]bad[/link] awful slow",
        "\x1b[31m awful horrible",
        ":smile: great wonderful",
        "C\rR great love",
        "bell\x07 great",
    ]
    lines = ["response_id,responded_at,survey_type,score,comment"]
    for i, comment in enumerate(comments):
        lines.append(f"S{i},2026-01-05T12:00:00Z,csat,{1 + i},{quoted(comment)}")
    (tmp_path / "surveys.csv").write_bytes(("\n".join(lines) + "\n").encode())
    config = tmp_path / "cscli.yaml"
    config.write_text("sources:\n  surveys: {path: surveys.csv}\n", encoding="utf-8")
    result = runner.invoke(app, ["feedback", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stdout)
    for shown in ("[/] terrible awful", "[link=https://x]bad[/link] awful slow"):
        assert shown in result.stdout
    assert "\\x1b[31m awful horrible" in result.stdout
    assert ":smile: great wonderful" in result.stdout and "C\\x0dR great love" in result.stdout


# --- the error boundary -------------------------------------------------------------------


def test_error_with_brackets_in_the_path_is_printed_literally(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "[bold]x[/]"
    folder.mkdir(parents=True)
    config = folder / "cscli.yaml"
    config.write_text(
        "sources:\n  tickets: {path: missing.csv}\n"
        'checks:\n  - {kpi: ticket_volume, fail: "> 1"}\n',
        encoding="utf-8",
    )
    for command in ("report", "check", "validate"):
        result = runner.invoke(app, [command, "-c", str(config)])
        assert result.exit_code == 2, (command, result.output)
        assert f"relative to {folder})" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("bad [/] at /tmp/[x]/f.csv \x1b[31m"),
        pl.exceptions.ComputeError("cannot read /data/[2026]/tickets.csv: [link=x]y[/link]"),
    ],
    ids=["bug", "polars"],
)
@pytest.mark.parametrize("command", ["report", "check"])
def test_unexpected_error_with_markup_is_exit_2_literally(
    runner: CliRunner,
    hostile: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    command: str,
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(api, command, boom)
    result = runner.invoke(app, [command, "-c", str(hostile)])
    assert result.exit_code == 2  # never 1, which `check` users read as an SLA breach
    message = safe.terminal(str(error))
    assert f"error: internal error ({type(error).__name__}: {message})" in result.stderr
    assert_no_raw_controls(result.stderr)


def test_a_failure_while_printing_the_error_is_still_exit_2(
    runner: CliRunner, hostile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cscli.console as cli

    class Broken:
        is_terminal = False

        def print(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the console is gone")

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("[/] first")

    monkeypatch.setattr(api, "check", fail)
    monkeypatch.setattr(cli, "_stderr", lambda: Broken())
    result = runner.invoke(app, ["check", "-c", str(hostile)])
    assert result.exit_code == 2
    assert "error: internal error (RuntimeError: [/] first)" in result.stderr
    assert "(and printing that failed: RuntimeError)" in result.stderr


def test_an_interrupt_is_exit_2_not_1(
    runner: CliRunner, hostile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "check", interrupted)
    result = runner.invoke(app, ["check", "-c", str(hostile)])
    assert result.exit_code == 2
    assert "error: interrupted" in result.stderr


@pytest.mark.parametrize(
    "error", [RuntimeError("while parsing [/]"), Interrupted("SIGINT")], ids=["bug", "signal"]
)
def test_an_error_outside_the_boundary_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: BaseException
) -> None:
    """While the command line is parsed (before a command's boundary), too: click would turn
    a KeyboardInterrupt there into "Aborted!" and exit 1, so the handlers raise Interrupted."""
    import cscli.cli as cli

    def broken() -> None:
        raise error

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.setattr(signal, "signal", lambda *a: None)  # leave pytest's handlers alone
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")


# --- write failures -----------------------------------------------------------------------

FORMATS = ["csv", "parquet", "json", "md", "html", "xlsx"]


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """RLIMIT_FSIZE: a write past `limit` bytes fails with EFBIG (Python ignores SIGXFSZ)."""
    if signal.getsignal(signal.SIGXFSZ) != signal.SIG_IGN:
        pytest.skip("SIGXFSZ is not ignored: the process would be killed")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_size_limit_is_cannot_write_for_every_format(
    runner: CliRunner, hostile: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / f"r.{fmt}"
    target.write_bytes(b"yesterday")
    args = ["report", "-c", str(hostile), "--by", "agent", "-o", str(target)]
    with file_size_limit(100):  # every report is larger than 100 bytes
        result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"error: cannot write {target}: File too large" in result.stderr
    assert "hint: the file exceeds a size limit" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert listing(out) == [target.name]  # no temporary file, no sidecar
    assert target.read_bytes() == b"yesterday"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_full_disk_is_cannot_write_for_every_format(
    runner: CliRunner, hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """Each temporary file is a link to /dev/full, where every write fails with ENOSPC: the
    real error, raised inside polars, xlsxwriter or Python's own file writes."""
    import tempfile

    real_mkstemp = tempfile.mkstemp

    def full(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)
        os.close(fd)
        os.unlink(name)
        os.symlink("/dev/full", name)
        return os.open("/dev/full", os.O_WRONLY), name

    monkeypatch.setattr("cscli.output.tempfile.mkstemp", full)
    monkeypatch.setattr("cscli.output.os.chmod", lambda *a: None)  # never reached; never /dev/full
    target = tmp_path / "out" / f"r.{fmt}"
    result = runner.invoke(app, ["report", "-c", str(hostile), "--by", "agent", "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert f"error: cannot write {target}: No space left on device" in result.stderr
    assert "hint: free some disk space" in result.stderr
    assert listing(target.parent) == []  # the links are gone too


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_read_only_file_system_is_cannot_write(
    runner: CliRunner, hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("cscli.output.tempfile.mkstemp", read_only)
    target = tmp_path / f"r.{fmt}"
    result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(target)])
    assert result.exit_code == 2
    assert f"error: cannot write {target}: Read-only file system" in result.stderr
    assert "hint: the file system is read-only" in result.stderr
    assert not target.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_read_only_folder_is_cannot_write(
    runner: CliRunner, hostile: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    target = out / f"r.{fmt}"
    try:
        result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(target)])
    finally:
        out.chmod(0o755)
    assert result.exit_code == 2
    assert f"error: cannot write {target}: Permission denied" in result.stderr
    assert listing(out) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_folder_is_created_and_a_file_in_the_way_is_an_error(
    runner: CliRunner, hostile: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / "new" / "deeper" / f"r.{fmt}"
    result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.stat().st_size > 0
    blocked = tmp_path / "tickets.csv" / f"r.{fmt}"  # tickets.csv is a file
    result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(blocked)])
    assert result.exit_code == 2
    assert (
        f"error: cannot write {blocked}: {tmp_path / 'tickets.csv'} is a file, not a folder"
        in result.stderr
    )
    folder = tmp_path / f"dir.{fmt}"
    folder.mkdir()
    result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(folder)])
    assert result.exit_code == 2
    assert f"error: cannot write {folder}: it is a folder" in result.stderr


def test_check_outputs_missing_folders_and_failures(
    runner: CliRunner, hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    junit, breaches = tmp_path / "a" / "junit.xml", tmp_path / "b" / "breaches.csv"
    result = check(runner, hostile, "-f", "junit", "-o", str(junit), "--breaches", str(breaches))
    assert result.exit_code == 1, result.output
    assert junit.is_file() and breaches.is_file()
    # --breaches cannot be written: the JUnit file is not replaced either, and exit is 2
    junit.write_text("yesterday", encoding="utf-8")
    blocked = tmp_path / "tickets.csv" / "breaches.csv"
    result = check(runner, hostile, "-f", "junit", "-o", str(junit), "--breaches", str(blocked))
    assert result.exit_code == 2
    assert f"error: cannot write {blocked}" in result.stderr
    assert junit.read_text(encoding="utf-8") == "yesterday"
    assert listing(junit.parent) == ["junit.xml"]


# --- all or nothing -----------------------------------------------------------------------


def test_several_outputs_are_all_or_nothing(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.json").write_text("yesterday", encoding="utf-8")
    (out / "r.xlsx").mkdir()  # the last output cannot be written
    names = ["r.json", "r.csv", "r.parquet", "r.md", "r.html", "r.xlsx"]
    result = runner.invoke(
        app, ["report", "-c", str(hostile), *(a for n in names for a in ("-o", str(out / n)))]
    )
    assert result.exit_code == 2
    assert f"error: cannot write {out / 'r.xlsx'}: it is a folder" in result.stderr
    assert "wrote" not in result.stderr
    assert listing(out) == ["r.json", "r.xlsx"]  # nothing new, no temporary file
    assert (out / "r.json").read_text(encoding="utf-8") == "yesterday"


def test_the_same_output_twice_is_written_once(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    target = tmp_path / "r.json"
    result = runner.invoke(
        app, ["report", "-c", str(hostile), "-o", str(target), "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert listing(tmp_path) == ["cscli.yaml", "r.json", "tickets.csv"]
    assert json.loads(target.read_text(encoding="utf-8"))["tool"] == "cscli"


def test_a_csv_and_its_metadata_are_all_or_nothing(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text("yesterday", encoding="utf-8")
    (tmp_path / "r.csv.meta.json").mkdir()  # the sidecar cannot be written
    result = runner.invoke(app, ["report", "-c", str(hostile), "-o", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "r.csv.meta.json: it is a folder" in result.stderr
    assert (tmp_path / "r.csv").read_text(encoding="utf-8") == "yesterday"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- temporary files of killed runs -------------------------------------------------------

DEAD_PID = 2**22 + 1  # above Linux's largest PID (pid_max ≤ 2^22): no process has it


def test_stale_temporaries_of_dead_runs_are_removed_and_only_those(tmp_path: Path) -> None:
    stale = tmp_path / f".r.json.{DEAD_PID}.abcd_123.tmp"
    running = tmp_path / f".r.json.{os.getppid()}.abcd_123.tmp"  # pytest's parent runs
    other_output = tmp_path / f".s.json.{DEAD_PID}.abcd_123.tmp"
    not_ours = [tmp_path / ".r.json.tmp", tmp_path / ".r.json.x.abcd_123.tmp"]
    for path in [stale, running, other_output, *not_ours]:
        path.write_text("half", encoding="utf-8")
    write_atomic(tmp_path / "r.json", "{}\n")
    assert not stale.exists()
    assert running.exists() and other_output.exists() and all(p.exists() for p in not_ours)
    assert remove_stale_temporaries(tmp_path / "s.json") == [other_output]


KILLER = """
import os, signal, sys
import cscli.render.xlsx as xlsx
SIGNAL = getattr(signal, sys.argv[1])
real = xlsx.build_workbook
def build(result, tmp, *, now=None):
    real(result, tmp, now=now)
    os.kill(os.getpid(), SIGNAL)  # killed once the workbook is written, before the renames
xlsx.build_workbook = build
sys.argv = ["cscli", *sys.argv[2:]]
from cscli.cli import main
main()
"""


def run_killed(signame: str, config: Path, outputs: list[Path]) -> subprocess.CompletedProcess[str]:
    args = ["report", "-c", str(config), *(a for o in outputs for a in ("-o", str(o)))]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", KILLER, signame, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_sigterm_removes_the_temporary_files_and_exits_2(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.xlsx").write_text("yesterday", encoding="utf-8")
    done = run_killed("SIGTERM", hostile, [out / "r.json", out / "r.xlsx"])
    assert done.returncode == 2, done.stderr
    assert "error: interrupted" in done.stderr
    assert listing(out) == ["r.xlsx"]
    assert (out / "r.xlsx").read_text(encoding="utf-8") == "yesterday"


def test_the_next_run_removes_what_a_sigkill_left(
    runner: CliRunner, hostile: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outputs = [out / "r.json", out / "r.xlsx"]
    done = run_killed("SIGKILL", hostile, outputs)
    assert done.returncode == -signal.SIGKILL
    left = [n for n in listing(out) if n.endswith(".tmp")]
    assert len(left) == 2 and all(n.startswith((".r.json.", ".r.xlsx.")) for n in left)
    pid = int(left[0].split(".")[3])
    try:
        os.kill(pid, 0)
        pytest.skip("the killed run's PID was reused at once")
    except ProcessLookupError:
        pass
    args = ["report", "-c", str(hostile), "-o", str(outputs[0]), "-o", str(outputs[1])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert listing(out) == ["r.json", "r.xlsx"]
