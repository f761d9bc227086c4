"""Hostile input to the loader (issue #12): encodings, line ends, compression, magic numbers,
swallowed records, out-of-range stamps, odd paths, and a fuzz of random CSV bytes.

Values read through a transcoded copy are compared with the same text read as UTF-8 (an
independent path: polars' own reader, in place); messages through the CLI, for `report` and
`validate`, with exit 2 and no traceback.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.adapters import GENERIC
from cscli.adapters.sniff import guess_encoding, size_words, uncompressed_limit
from cscli.cli import app
from cscli.config import SourceConfig
from cscli.engine.polars.loader import load_source
from cscli.engine.polars.quality import find_issues

BAD = Path(__file__).resolve().parent / "data" / "bad"
TEXT = (
    "ticket_id,created_at,agent,subject\n"
    "1,2026-03-02 09:00,Ann,Refund\n"
    "2,2026-03-02 10:00,José,Réclamation\n"
    "3,2026-03-03 11:00,Jörg,Gelöst\n"
)


def load(base: Path, name: str = "tickets", **cfg: object) -> tuple[pl.DataFrame, dict]:
    source = load_source(name, SourceConfig.model_validate(cfg), base, GENERIC, "cscli.yaml")
    frame = source.frame.collect()
    issues = {q.issue: (q.rows, list(q.examples)) for q in find_issues(source)}
    return frame, issues


def run(tmp_path: Path, sources: str, *args: str) -> dict[str, tuple[int, str]]:
    """`validate` and `report` on a config with these `sources:` → {command: (exit, stderr)}."""
    config = tmp_path / "cscli.yaml"
    body = textwrap.indent(sources, "  ")
    config.write_text(f"version: 1\nsources:\n{body}\n", encoding="utf-8")
    out = {}
    for command in ("validate", "report"):
        result = CliRunner().invoke(app, [command, "-c", str(config), *args])
        assert "Traceback" not in result.output, result.output
        assert "internal error" not in result.output, result.output
        out[command] = (result.exit_code, result.stderr)
    return out


def assert_error(found: dict[str, tuple[int, str]], *fragments: str) -> None:
    for command, (code, stderr) in found.items():
        assert code == 2, (command, stderr)
        assert stderr.startswith("error: "), stderr
        assert "\nhint: " in stderr, stderr
        for fragment in fragments:
            assert fragment in stderr, (command, fragment, stderr)


# --- encodings and line ends ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf16le.csv", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")),
        ("utf16be.csv", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be")),
        ("utf32le.csv", codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le")),
        ("utf32be.csv", codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be")),
        ("mac.csv", TEXT.replace("\n", "\r").encode()),
        ("plain.csv.gz", gzip.compress(TEXT.encode())),
        ("named-plain.csv", gzip.compress(TEXT.encode())),  # gzip whatever the name says
        ("utf16.csv.gz", gzip.compress(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"))),
        ("latin1.csv", TEXT.encode("latin-1")),
    ],
)
def test_transcoded_files_read_like_their_utf8_text(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "utf8.csv").write_text(TEXT, encoding="utf-8")
    encoding = "latin-1" if name == "latin1.csv" else None
    frame, issues = load(tmp_path, path=name, encoding=encoding)
    expected, _ = load(tmp_path, path="utf8.csv")
    columns = ["_row", "ticket_id", "created_at", "agent", "subject"]
    assert frame.select(columns).equals(expected.select(columns))
    assert frame["agent"].to_list() == ["Ann", "José", "Jörg"]
    assert set(frame["_file"]) == {name}  # findings name the export, never the copy
    assert issues == {}


def test_the_export_is_never_modified(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + TEXT.replace("\n", "\r").encode("utf-16-le")
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    frame, _ = load(tmp_path, path="t.csv")
    assert frame.height == 3
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_cp1252_export_with_encoding(tmp_path: Path) -> None:
    # a German Excel export: semicolons, cp1252 („“ € ö ü), a `Gelöst am` header
    text = "Ticket;Gelöst am;Agent\n1;2026-03-02 09:00;„Jörg“ 20 €\n"
    (tmp_path / "de.csv").write_bytes(text.encode("cp1252"))
    frame, issues = load(
        tmp_path,
        path="de.csv",
        delimiter=";",
        encoding="cp1252",
        columns={"ticket_id": "Ticket", "created_at": "Gelöst am", "agent": "Agent"},
    )
    assert frame["agent"].to_list() == ["„Jörg“ 20 €"]
    assert frame["created_at"].to_list() == [datetime(2026, 3, 2, 9, tzinfo=UTC)]
    assert issues == {}


def test_bytes_the_declared_encoding_cannot_decode_are_counted(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252: decoded as U+FFFD and counted, the row kept
    (tmp_path / "t.csv").write_bytes(b"ticket_id,created_at,agent\n1,2026-03-02 09:00,A\x81n\n")
    frame, issues = load(tmp_path, path="t.csv", encoding="cp1252")
    assert frame["agent"].to_list() == ["A\ufffdn"]
    assert issues == {
        "agent: not cp1252 text: bytes replaced by '\ufffd'": (1, [("t.csv", 2)]),
    }


def test_guess_encoding() -> None:
    assert guess_encoding("José".encode()) is None
    assert guess_encoding("José".encode("latin-1")) == "latin-1"
    assert guess_encoding("20 € – „gut“".encode("cp1252")) == "cp1252"
    # a UTF-8 character cut at the end of the sniffed bytes is still UTF-8
    assert guess_encoding("Jé".encode()[:-1], cut_end=True) is None
    assert guess_encoding("éJ".encode()[1:], cut_start=True) is None
    assert guess_encoding("Jé".encode()[:-1]) == "latin-1"


def test_utf32_without_bom_is_named(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(TEXT.encode("utf-32-le"))
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv'}'}}")
    assert_error(
        found,
        "t.csv: the file looks like UTF-32-LE text without a byte-order mark",
        "hint: set encoding: utf-32-le on sources.tickets",
    )


def test_declared_utf16_reads_a_file_without_bom(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(TEXT.encode("utf-16-be"))
    frame, issues = load(tmp_path, path="t.csv", encoding="utf-16-be")
    assert frame["agent"].to_list() == ["Ann", "José", "Jörg"]
    assert issues == {}


def test_utf16_declared_without_byte_order(tmp_path: Path) -> None:
    # Python's "utf-16" needs a byte-order mark; without one the byte order must be named
    (tmp_path / "t.csv").write_bytes(TEXT.encode("utf-16-le"))
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv'}', encoding: utf-16}}")
    assert_error(
        found,
        "t.csv: cannot decode the file as utf-16: UTF-16 stream does not start with BOM",
        "hint: check encoding: on sources.tickets (a file without a byte-order mark needs the "
        "byte order: utf-16-le or utf-16-be)",
    )


# --- compression and magic numbers ------------------------------------------------------------


def test_gzip_bomb_stops_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 40,000 rows of 29 bytes = 1,160,000 bytes, over a 1 MiB (1,048,576) limit; gzip
    # squeezes the repeated row to a few kilobytes
    row = "1,2026-03-02 09:00,Ann,Refund\n"
    (tmp_path / "bomb.csv.gz").write_bytes(gzip.compress((TEXT + row * 40_000).encode()))
    assert (tmp_path / "bomb.csv.gz").stat().st_size < 20_000
    monkeypatch.setenv("CSCLI_MAX_UNCOMPRESSED", "1M")
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 'bomb.csv.gz'}'}}")
    assert_error(
        found,
        "bomb.csv.gz: the gzip file decompresses to more than 1 MiB: stopped there",
        "hint: if the export really is that large, raise the limit with CSCLI_MAX_UNCOMPRESSED=",
    )


def test_gzip_inside_gzip_is_named(tmp_path: Path) -> None:
    # found by the fuzz: decompressed once the file is gzip again, and polars, which
    # decompresses by the magic bytes, failed on it as an internal error
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(gzip.compress(TEXT.encode())))
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv.gz'}'}}")
    assert_error(
        found,
        "t.csv.gz: the file is gzip-compressed twice: decompressed, it is gzip again",
        "hint: decompress it once (gunzip), and point the source at the result",
    )


def test_uncompressed_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSCLI_MAX_UNCOMPRESSED", raising=False)
    assert uncompressed_limit() == 8 * 1024**3
    for text, expected in (("20G", 20 * 1024**3), ("512m", 512 * 1024**2), ("1000", 1000)):
        monkeypatch.setenv("CSCLI_MAX_UNCOMPRESSED", text)
        assert uncompressed_limit() == expected
    assert size_words(8 * 1024**3) == "8 GiB"
    assert size_words(1536) == "1.5 KiB"


def test_a_bad_limit_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(TEXT.encode()))
    monkeypatch.setenv("CSCLI_MAX_UNCOMPRESSED", "lots")
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv.gz'}'}}")
    assert_error(found, "$CSCLI_MAX_UNCOMPRESSED is 'lots': not a size", "hint: give a number")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00", "a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an Excel 97-2003 workbook (.xls)"),
        (b"\xfd7zXZ\x00\x00\x04", "xz-compressed"),
        (b"\x28\xb5\x2f\xfd\x04\x00", "zstd-compressed"),
        (b"%PDF-1.7\n", "a PDF document"),
    ],
)
def test_files_that_are_not_text_are_named(tmp_path: Path, data: bytes, what: str) -> None:
    (tmp_path / "t.csv").write_bytes(data + b"\x00" * 64)
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv'}'}}")
    assert_error(found, f"t.csv: the file is {what}, not a CSV file")


def test_parquet_named_csv(tmp_path: Path) -> None:
    pl.DataFrame({"ticket_id": ["1"], "created_at": ["2026-03-02 09:00"]}).write_parquet(
        tmp_path / "t.csv"
    )
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv'}'}}")
    assert_error(
        found,
        "t.csv: the file is a Parquet file, not a CSV file",
        "hint: set format: parquet on sources.tickets",
    )


def test_truncated_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame({"ticket_id": [str(i) for i in range(1000)]}).with_columns(
        created_at=pl.lit(datetime(2026, 3, 2, 9))
    )
    frame.write_parquet(tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.parquet'}'}}")
    assert_error(
        found,
        "t.parquet: the Parquet file is truncated: it does not end with the Parquet footer",
        "hint: copy or export the file again",
    )


def test_gzip_jsonl_is_decompressed_and_a_truncated_one_named(tmp_path: Path) -> None:
    data = gzip.compress(b'{"ticket_id": "1", "created_at": "2026-03-02 09:00"}\n' * 3)
    (tmp_path / "t.jsonl.gz").write_bytes(data)
    frame, _ = load(tmp_path, path="t.jsonl.gz")
    assert frame["ticket_id"].to_list() == ["1", "1", "1"]
    (tmp_path / "cut.jsonl.gz").write_bytes(data[:-12])
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 'cut.jsonl.gz'}'}}")
    assert_error(found, "cut.jsonl.gz: the gzip file is truncated")


def test_a_finding_in_a_gzip_file_names_the_export(tmp_path: Path) -> None:
    text = "ticket_id,created_at\n1,2026-03-02 09:00\n1,2026-03-02 10:00\n"
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(text.encode()))
    _, issues = load(tmp_path, path="t.csv.gz")
    assert issues["ticket_id: duplicate id (the same ticket_id as an earlier row)"] == (
        1,
        [("t.csv.gz", 3)],
    )


# --- swallowed records ------------------------------------------------------------------------


def test_swallowed_records_are_counted_in_the_report(tmp_path: Path) -> None:
    # swallowed.csv: 11 lines = header + 10 lines of records 1–9 (record 8's channel spans
    # lines 9–10 legitimately); the quote opened on line 3 closes on line 7, so records 3–6
    # are text in record 2: 5 records read (1, 2, 7, 8, 9)
    config = tmp_path / "cscli.yaml"
    config.write_text(f"sources:\n  tickets: {{path: '{BAD / 'swallowed.csv'}'}}\n")
    result = CliRunner().invoke(app, ["report", "-c", str(config), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["totals"]["kpis"]["ticket_volume"] == {"value": 5, "n": 5}
    [found] = [q for q in doc["data_quality"] if "swallowing" in q["issue"]]
    assert found["rows"] == 1
    assert found["examples"] == [{"file": "swallowed.csv", "row": 3}]
    assert "lines 3–7, swallowing 4 line(s)" in found["issue"]
    strict = CliRunner().invoke(app, ["validate", "-c", str(config), "--strict"])
    assert strict.exit_code == 2


def test_several_swallowing_fields(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "ticket_id,created_at,channel\n"  # line 1
        "1,2026-03-02 09:00,email\n"
        "2,2026-03-02 09:00,email\n"
        '3,2026-03-02 09:00,"email\n'  # line 4 opens a quote (row 4) …
        '4,2026-03-02 09:00,email"\n'  # … line 5 closes it
        '5,2026-03-02 09:00,"email\n'  # lines 6–7: row 5
        '6,2026-03-02 09:00,email"\n'
        '7,2026-03-02 09:00,"email\n'  # lines 8–9: row 6
        '8,2026-03-02 09:00,email"\n'
        "9,2026-03-02 09:00,email\n"  # row 7
    )
    frame, issues = load(tmp_path, path="t.csv")
    assert frame["ticket_id"].to_list() == ["1", "2", "3", "5", "7", "9"]
    [(issue, (rows, examples))] = [(k, v) for k, v in issues.items() if "swallowing" in k]
    assert issue == (
        "quoted fields span lines 4–5, 6–7, 8–9, swallowing 3 line(s) that look like records"
    )
    assert rows == 3
    assert examples == [("t.csv", 4), ("t.csv", 5), ("t.csv", 6)]


def test_text_over_several_lines_is_not_a_finding(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        'ticket_id,created_at,subject\n1,2026-03-02 09:00,"Hello,\nit broke\nthanks"\n'
        "2,2026-03-02 10:00,ok\n"
    )
    frame, issues = load(tmp_path, path="t.csv")
    assert frame["subject"].to_list() == ["Hello,\nit broke\nthanks", "ok"]
    assert issues == {}


# --- timestamps ---------------------------------------------------------------------------


def test_out_of_range_stamps_are_unreadable_cells(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "ticket_id,created_at,resolved_at\n"
        "1,2026-03-02 09:00,0000-01-01 00:00\n"
        "2,2026-03-02 09:00,99999-01-01 00:00\n"
        "3,2026-03-02 09:00,2026-03-02 10:00\n"
        "4,1899-12-31 23:59,2026-03-02 10:00\n"
    )
    frame, issues = load(tmp_path, path="t.csv")
    ten = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert frame["resolved_at"].to_list() == [None, None, ten, ten]
    assert frame["created_at"].to_list()[3] is None
    assert issues["resolved_at: cannot read as a date-time"] == (2, [("t.csv", 2), ("t.csv", 3)])
    assert issues["created_at: cannot read as a date-time"] == (1, [("t.csv", 5)])


def test_epoch_milliseconds_read_as_seconds(tmp_path: Path) -> None:
    # 1772442000 s = 2026-03-02 09:00 UTC; the same instant in milliseconds read as seconds
    # falls in the year 58,000-odd: unreadable, not an internal error
    (tmp_path / "t.csv").write_text("ticket_id,created_at\n1,1772442000\n2,1772442000000\n")
    frame, issues = load(tmp_path, path="t.csv", timestamp_format="%s")
    assert frame["created_at"].to_list() == [datetime(2026, 3, 2, 9, tzinfo=UTC), None]
    assert issues["created_at: cannot read as a date-time"] == (1, [("t.csv", 3)])
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.csv'}', timestamp_format: '%s'}}")
    assert found["validate"][0] == 0 and found["report"][0] == 0


def test_out_of_range_parquet_datetimes(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "ticket_id": ["1", "2"],
            "created_at": [datetime(2026, 3, 2, 9), datetime(1, 1, 1)],
        }
    ).write_parquet(tmp_path / "t.parquet")
    frame, issues = load(tmp_path, path="t.parquet")
    assert frame["created_at"].to_list() == [datetime(2026, 3, 2, 9, tzinfo=UTC), None]
    assert issues["created_at: cannot read as a date-time"][0] == 1
    found = run(tmp_path, f"tickets: {{path: '{tmp_path / 't.parquet'}'}}")
    assert found["validate"][0] == 0 and found["report"][0] == 0


# --- decimal comma ----------------------------------------------------------------------------


def test_decimal_comma(tmp_path: Path) -> None:
    frame, issues = load(BAD, "calls", path="decimal_comma.csv", delimiter=";", decimal_comma=True)
    # "90,5" → 90.5; "1.234,5" has a thousands separator: not guessed, counted; "60" → 60
    assert frame["talk_seconds"].to_list() == [90.5, None, 60.0]
    assert issues["talk_seconds: cannot read as a number"] == (1, [("decimal_comma.csv", 3)])


# --- paths ------------------------------------------------------------------------------------


def test_config_path_errors_are_positioned(tmp_path: Path) -> None:
    long = "a" * 5000
    cases = {
        "tickets: {path: []}": "cscli.yaml:3:19: sources.tickets.path: path is an empty list",
        "tickets: {path: ''}": "cscli.yaml:3:19: sources.tickets.path: path is empty",
        f"tickets: {{path: {long}}}": "cscli.yaml:3:19: sources.tickets.path: path is 5,000 "
        "characters long",
        "tickets: {path: t.csv, encoding: klingon}": "cscli.yaml:3:36: "
        "sources.tickets.encoding: unknown encoding 'klingon'",
        "tickets: {path: t.csv, encoding: rot13}": "unknown encoding 'rot13'",
    }
    for sources, expected in cases.items():
        found = run(tmp_path, sources)
        for command, (code, stderr) in found.items():
            assert code == 2, (command, stderr)
            assert expected in stderr, (command, stderr)
            assert len(stderr) < 400, stderr  # one screen, not the 5,000 characters


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/proc/self/status", "/proc/self/status: the file says it is empty (size 0) but has"),
        ("/dev/null", "/dev/null is not a regular file (sources.tickets.path)"),
        ("{tmp}", "is a folder, not a file (sources.tickets.path)"),
        ("{tmp}/" + "b" * 300 + ".csv", "(sources.tickets.path): File name too long"),
        ("{tmp}/" + "a/" * 1000 + "x.csv", "file not found: "),
    ],
)
def test_path_errors(tmp_path: Path, path: str, expected: str) -> None:
    if not Path("/proc/self/status").exists() and path.startswith("/proc"):
        pytest.skip("no /proc here")
    found = run(tmp_path, f"tickets: {{path: '{path.format(tmp=tmp_path)}', format: csv}}")
    assert_error(found, expected)
    for _, stderr in found.values():
        assert len(stderr) < 600, stderr


def test_brackets_are_read_literally_but_globs_still_work(tmp_path: Path) -> None:
    (tmp_path / "t [1].csv").write_text("ticket_id,created_at\n1,2026-03-02 09:00\n")
    (tmp_path / "t1.csv").write_text("ticket_id,created_at\n2,2026-03-02 09:00\n")
    frame, _ = load(tmp_path, path="t [1].csv")
    assert frame["ticket_id"].to_list() == ["1"]
    # no file is named `t[1].csv`: a pattern, matching t1.csv
    frame, _ = load(tmp_path, path="t[1].csv")
    assert frame["ticket_id"].to_list() == ["2"]
    (tmp_path / "j [1].jsonl").write_text('{"ticket_id": "3", "created_at": "2026-03-02"}\n')
    frame, _ = load(tmp_path, path="j [1].jsonl")
    assert frame["ticket_id"].to_list() == ["3"]


# --- fuzz ---------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        b"ticket_id",
        b"created_at",
        b"resolved_at",
        b"channel",
        b",",
        b";",
        b"\t",
        b'"',
        b'""',
        b"\n",
        b"\r\n",
        b"\r",
        b"1",
        b"42",
        b"-7",
        b"1e309",
        b"2026-03-02 09:00",
        b"0000-01-01 00:00",
        b"99999-12-31",
        b"03/04/2026",
        b"1772442000000",
        b"N/A",
        b"?",
        b"\xe9",
        b"\x80",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"\x00",
        b"\x1f",
        b"\x1f\x8b",
        b"PK\x03\x04",
        b"PAR1",
        "é".encode(),
    ]
)
HEADER = st.sampled_from(
    [
        b"ticket_id,created_at\n",
        b"ticket_id,created_at,resolved_at,channel\n",
        b"ticket_id;created_at\n",
        b"",
    ]
)
CSV_BYTES = st.one_of(
    st.binary(max_size=200),
    st.tuples(HEADER, st.lists(PIECES, max_size=40)).map(lambda t: t[0] + b"".join(t[1])),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=CSV_BYTES, gz=st.booleans())
def test_fuzz_the_loader(tmp_path: Path, data: bytes, gz: bool) -> None:
    name = "t.csv.gz" if gz else "t.csv"
    (tmp_path / name).write_bytes(gzip.compress(data) if gz else data)
    config = tmp_path / "cscli.yaml"
    config.write_text(f"sources:\n  tickets: {{path: '{tmp_path / name}'}}\n")
    for command in ("validate", "report"):
        result = CliRunner().invoke(app, [command, "-c", str(config)])
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output, result.output
        assert "internal error" not in result.output, (data, result.output)
        if result.exit_code == 2:
            assert result.stderr.startswith("error: "), result.output
