"""Exports as they come (issue #18): clock-written durations, `cscli init` sniffing the
delimiter and encoding, and the user install (the wheel bundles the demo)."""

from __future__ import annotations

import datetime as dt
import gzip
import posixpath
import tomllib
from pathlib import Path, PurePosixPath
from textwrap import dedent

import polars as pl
import pytest
import yaml

from cscli import api
from cscli.pipeline import ReportResult
from tests.helpers import totals, vn


def _report(tmp_path: Path, calls: str, kpis: list[object]) -> ReportResult:
    (tmp_path / "calls.csv").write_text(dedent(calls).strip() + "\n", encoding="utf-8")
    config = {"timezone": "UTC", "sources": {"calls": {"path": "calls.csv"}}, "kpis": kpis}
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return api.report(path)


# --- durations written as a clock --------------------------------------------------------


CLOCK_CALLS = """
    call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
    c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,1:02:03,00:30,0:00:07
    c2,2026-01-05T11:00:00Z,2026-01-05T11:00:05Z,02:03,,12.5
    c3,2026-01-05T12:00:00Z,2026-01-05T12:00:05Z,300,0:01:00.5,75:00
    c4,2026-01-05T13:00:00Z,2026-01-05T13:00:05Z,1:75:00,0,0
"""


def test_clock_durations_are_read_as_seconds(tmp_path: Path) -> None:
    kpis = ["average_handle_time", "average_hold_time"]
    result = _report(tmp_path, CLOCK_CALLS, kpis)
    t = totals(result)
    # c1: talk 1:02:03 = 3600 + 2·60 + 3 = 3723, hold 00:30 = 30, wrap 0:00:07 = 7 → 3760
    # c2: talk 02:03 = 2·60 + 3 = 123, hold empty = 0, wrap 12.5 → 135.5
    # c3: talk 300, hold 0:01:00.5 = 60.5, wrap 75:00 (MM:SS, minutes may pass 59) = 4500
    #     → 4860.5
    # c4: talk 1:75:00 has 75 minutes after an hour: unreadable → read as missing, and an
    #     answered call with no talk value is excluded from the handle time
    # AHT = (3760 + 135.5 + 4860.5) / 3 = 8756 / 3
    assert vn(t, "average_handle_time") == (pytest.approx(8756 / 3), 3)
    issues = {(q.source, q.issue): q for q in result.data_quality}
    unreadable = issues[("calls", "talk_seconds: cannot read as a number")]
    assert unreadable.rows == 1
    assert unreadable.examples == (("calls.csv", 5),)  # c4: the header is line 1


def test_average_hold_time_reads_clock_text(tmp_path: Path) -> None:
    calls = """
        call_id,queued_at,answered_at,talk_seconds,hold_seconds,wrap_seconds
        c1,2026-01-05T10:00:00Z,2026-01-05T10:00:10Z,60,1:00:00,0
        c2,2026-01-05T11:00:00Z,2026-01-05T11:00:05Z,60,00:00:30.250,0
        c3,2026-01-05T12:00:00Z,2026-01-05T12:00:05Z,60,0:59,0
    """
    result = _report(tmp_path, calls, ["average_hold_time"])
    # the mean over the answered calls that were put on hold (hold > 0): 1:00:00 = 3600,
    # 00:00:30.250 = 30.25, 0:59 = 59 → (3600 + 30.25 + 59) / 3 = 3689.25 / 3
    value, n = vn(totals(result), "average_hold_time")
    assert (value, n) == (pytest.approx(3689.25 / 3), 3)
    assert not result.data_quality


# --- cscli init sniffs the delimiter and the encoding ------------------------------------


def test_init_writes_the_sniffed_delimiter_and_encoding(tmp_path: Path) -> None:
    # a German export as Excel saves it: semicolons, cp1252 (ö = 0xF6, ü = 0xFC, and the
    # bytes only cp1252 prints: – = 0x96, € = 0x80), CRLF
    export = (
        "Ticket ID;Created;Gelöst am;Betreff\r\n"
        "T1;2026-01-05 10:00;2026-01-05 12:00;Anfrage – Rückruf\r\n"
        "T2;2026-01-06 09:00;;Preis 5 €\r\n"
    ).encode("cp1252")
    (tmp_path / "export.csv").write_bytes(export)
    target, text = api.init(tmp_path)
    assert target.is_file()
    source = yaml.safe_load(text)["sources"]["tickets"]
    assert source["delimiter"] == ";"
    assert source["encoding"] == "cp1252"
    assert 'delimiter: ";"   # sniffed: the header is split by semicolons' in text
    assert "encoding: cp1252   # sniffed: not UTF-8" in text
    # the header is read in its encoding: `Gelöst am`, not `Gel\ufffdst am`
    assert "# not used: Gelöst am, Betreff" in text
    # and the written config runs: both rows are tickets
    assert vn(totals(api.report(target, kpis=["ticket_volume"])), "ticket_volume") == (2, 2)


def test_init_tells_latin1_from_cp1252(tmp_path: Path) -> None:
    # only ö (0xF6): latin-1 and cp1252 read it alike, and no byte 0x80–0x9F says cp1252
    export = "ticket_id|created_at|Lösung\n1|2026-01-05 10:00|ja\n".encode("latin-1")
    (tmp_path / "tickets.csv").write_bytes(export)
    _, text = api.init(tmp_path)
    source = yaml.safe_load(text)["sources"]["tickets"]
    assert (source["delimiter"], source["encoding"]) == ("|", "latin-1")


@pytest.mark.parametrize(("sep", "name"), [(",", "tickets.csv"), ("\t", "tickets.csv")])
def test_init_utf8_needs_no_encoding(tmp_path: Path, sep: str, name: str) -> None:
    header = sep.join(["ticket_id", "created_at", "Gelöst am"])
    row = sep.join(["1", "2026-01-05 10:00", "2026-01-05 11:00"])
    (tmp_path / name).write_text(f"{header}\n{row}\n", encoding="utf-8")
    _, text = api.init(tmp_path)
    source = yaml.safe_load(text)["sources"]["tickets"]
    assert "encoding" not in source
    # the default (a comma for .csv) is not written; a tab is, as YAML's "\t"
    assert source.get("delimiter") == (None if sep == "," else "\t")
    assert "Gelöst am" in text


# --- the user install and the example configs -------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_bundles_what_the_demo_config_reads() -> None:
    # pyproject's force-include puts configs/sample.yaml and sample_data/ under
    # cscli/_bundled/ (api.demo_config_path looks there first); every path the sample config
    # names, resolved from cscli/_bundled/configs/, must land inside something bundled
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    bundled = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert bundled["configs/sample.yaml"] == "cscli/_bundled/configs/sample.yaml"
    for source in bundled:
        assert (ROOT / source).exists(), source
    sample = yaml.safe_load((ROOT / "configs" / "sample.yaml").read_text(encoding="utf-8"))
    base = PurePosixPath("cscli/_bundled/configs")
    for name, src in sample["sources"].items():
        inside = posixpath.normpath(str(base / src["path"]))
        assert any(inside == d or inside.startswith(d + "/") for d in bundled.values()), name
        # and in the checkout the same relative path is a file (configs/ → sample_data/)
        assert (ROOT / "configs" / src["path"]).resolve().is_file(), name


def test_the_readme_lists_every_example_config_and_its_data() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Example configs on public data", 1)[1].split("\n#", 1)[0]
    for config in sorted((ROOT / "configs" / "examples").glob("*.yaml")):
        rows = [line for line in section.splitlines() if line.startswith(f"| `{config.name}`")]
        assert len(rows) == 1, f"{config.name} is not in the README's table"
        for src in yaml.safe_load(config.read_text(encoding="utf-8"))["sources"].values():
            # configs/examples/ → ../../../shared/data/X: the README names X
            data = src["path"].split("shared/data/", 1)[1]
            assert f"`{data}`" in rows[0], (config.name, data)


def test_the_readme_user_install_is_its_own_section() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Install (for users)", 1)[1].split("\n## ", 1)[0]
    assert "pipx install" in section and "cscli report --demo" in section
    assert ".[dev]" not in section  # the user install pulls no dev toolchain
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip wheel" in ci and "-m venv" in ci and "report --demo" in ci


def test_parquet_duration_columns_are_seconds(tmp_path: Path) -> None:
    calls = pl.DataFrame(
        {
            "call_id": ["c1", "c2"],
            "queued_at": ["2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"],
            "answered_at": ["2026-01-05T10:00:10Z", "2026-01-05T11:00:05Z"],
            "talk_seconds": [dt.timedelta(minutes=2, seconds=3), dt.timedelta(hours=1)],
            "hold_seconds": [dt.timedelta(milliseconds=500), None],
            "wrap_seconds": [dt.timedelta(seconds=7), dt.timedelta(0)],
        }
    )
    calls.write_parquet(tmp_path / "calls.parquet")
    config = {"sources": {"calls": {"path": "calls.parquet"}}, "kpis": ["average_handle_time"]}
    path = tmp_path / "cscli.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = api.report(path)
    # c1: 123 + 0.5 + 7 = 130.5; c2: 3600 + 0 (empty hold) + 0 = 3600 → 3730.5 / 2
    assert vn(totals(result), "average_handle_time") == (pytest.approx(3730.5 / 2), 2)
    assert not result.data_quality


def test_init_reads_a_gzipped_cp1252_export_and_a_utf16_one_with_its_mark(
    tmp_path: Path,
) -> None:
    tickets = "ticket_id;created_at;Gelöst am\n1;2026-01-05 10:00;–\n".encode("cp1252")
    (tmp_path / "tickets.csv.gz").write_bytes(gzip.compress(tickets))
    calls = "call_id\tqueued_at\tWartezeit ö\nc1\t2026-01-05 10:00\t0:20\n"
    (tmp_path / "calls.csv").write_bytes(calls.encode("utf-16"))  # with its byte-order mark
    _, text = api.init(tmp_path)
    sources = yaml.safe_load(text)["sources"]
    # gzip is looked through: semicolons, cp1252 (– = 0x96)
    assert (sources["tickets"]["delimiter"], sources["tickets"]["encoding"]) == (";", "cp1252")
    # a byte-order mark says the encoding: the loader reads it, no `encoding:` is written
    assert sources["calls"]["delimiter"] == "\t"
    assert "encoding" not in sources["calls"]
    assert "Gelöst am" in text and "Wartezeit ö" in text
