"""The sample-data generator: deterministic, the specified layout, exactly the planted defects."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cscli import sampledata

ROOT = Path(__file__).resolve().parent.parent
N = {"tickets": 2_000, "calls": 2_000, "surveys": 800, "customers": 600}
CSV_FILES = ("tickets.csv", "surveys.csv", "customers.csv")
ISO_OFFSET = "%Y-%m-%dT%H:%M:%S%:z"
HEADERS = {
    "tickets": "ticket_id,created_at,first_response_at,resolved_at,status,channel,assignee,team,"
    "priority,customer_id,agent_replies,reopens,reassignments,kb_used,subject",
    "calls": "call_id,queued_at,answered_at,ended_at,talk_seconds,hold_seconds,wrap_seconds,"
    "direction,queue,agent,team,customer_id,ticket_id,transfers,resolved",
    "surveys": "response_id,responded_at,survey_type,score,comment,ticket_id,call_id,customer_id",
    "customers": "customer_id,started_at,churned_at,segment",
}


def _generate(path: Path, seed: int = 7, fmt: sampledata.Format = "mixed") -> dict[str, Path]:
    return sampledata.generate(
        path, tickets=2_000, calls=2_000, surveys=800, customers=600, seed=seed, fmt=fmt
    )


def _ids(fractions: list[float] | tuple[float, ...]) -> list[str]:
    return [f"T-{int(N['tickets'] * f) + 1:06d}" for f in fractions]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample")
    written = _generate(path)
    assert {t: p.name for t, p in written.items()} == {
        "tickets": "tickets.csv",
        "calls": "calls.parquet",
        "surveys": "surveys.csv",
        "customers": "customers.csv",
    }
    return path


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_same_seed_gives_identical_bytes(out: Path, tmp_path: Path) -> None:
    _generate(tmp_path)
    for name in CSV_FILES:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert pl.read_parquet(out / "calls.parquet").equals(
        pl.read_parquet(tmp_path / "calls.parquet")
    )


def test_other_seed_gives_other_data(out: Path, tmp_path: Path) -> None:
    _generate(tmp_path, seed=8)
    assert (out / "tickets.csv").read_bytes() != (tmp_path / "tickets.csv").read_bytes()


def test_row_counts_and_headers(out: Path) -> None:
    for table, n in N.items():
        path = out / (f"{table}.parquet" if table == "calls" else f"{table}.csv")
        df = pl.read_parquet(path) if table == "calls" else _csv(path)
        assert df.height == n, table
        assert ",".join(df.columns) == HEADERS[table], table
    for name in CSV_FILES:
        header = (out / name).read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == HEADERS[name.removesuffix(".csv")]


def test_ticket_defects_exactly(out: Path) -> None:
    t = _csv(out / "tickets.csv")
    assert t.filter(pl.col("created_at") == "not a date")["ticket_id"].to_list() == _ids(
        sampledata.BAD_CREATED
    )
    assert t.filter(pl.col("agent_replies") == "n/a")["ticket_id"].to_list() == _ids(
        [sampledata.BAD_REPLIES]
    )
    parsed = t.with_columns(
        pl.col("created_at", "first_response_at", "resolved_at").str.to_datetime(
            ISO_OFFSET, strict=False
        )
    )
    backwards = parsed.filter(pl.col("resolved_at") < pl.col("created_at"))
    assert backwards["ticket_id"].to_list() == _ids(sampledata.BAD_RESOLVED)
    # apart from the planted text, every value parses and every other ticket is consistent
    for col in ("created_at", "first_response_at", "resolved_at"):
        assert (parsed[col].is_null() == (t[col].is_null() | (t[col] == "not a date"))).all()
    assert parsed.filter(pl.col("first_response_at") < pl.col("created_at")).height == 0
    assert t.filter(pl.col("agent_replies") != "n/a")["agent_replies"].cast(pl.Int64).min() == 0


def test_ticket_status_matches_resolution(out: Path) -> None:
    t = _csv(out / "tickets.csv")
    open_ = t.filter(pl.col("resolved_at").is_null())
    assert set(open_["status"]) <= {"open", "pending"}
    assert set(t.filter(pl.col("resolved_at").is_not_null())["status"]) <= {"solved", "closed"}
    assert 0.04 <= open_.height / t.height <= 0.14
    assert set(t["channel"]) == {"email", "chat", "web", "social", "phone"}
    assert set(t["kb_used"]) == {"true", "false"}
    assert t["subject"].str.contains(",").any()  # CSV quoting is exercised


def test_ticket_offsets_follow_berlin_dst(out: Path) -> None:
    stamps = _csv(out / "tickets.csv").filter(pl.col("created_at") != "not a date")["created_at"]
    offsets = stamps.str.slice(19)
    assert set(offsets) == {"+01:00", "+02:00"}
    day = stamps.str.slice(0, 10)
    assert (offsets.filter(day < "2026-03-29") == "+01:00").all()
    assert (offsets.filter(day > "2026-03-29") == "+02:00").all()


def test_calls(out: Path) -> None:
    c = pl.read_parquet(out / "calls.parquet")
    assert c.schema["queued_at"] == pl.Datetime("us", "UTC")
    assert c.schema["transfers"] == pl.Int64 and c.schema["resolved"] == pl.Boolean
    abandoned = c.filter(pl.col("answered_at").is_null())
    assert 0.03 <= abandoned.height / c.height <= 0.15
    nulls = abandoned.select(pl.col("talk_seconds", "agent", "team", "resolved").null_count())
    assert nulls.row(0) == (abandoned.height,) * 4
    patience = (pl.col("ended_at") - pl.col("queued_at")).dt.total_seconds()
    assert abandoned.select((patience < 5).sum()).item() > 0  # some very short abandons
    talk_hold = pl.duration(seconds=pl.col("talk_seconds") + pl.col("hold_seconds"))
    ends_ok = (pl.col("ended_at") == pl.col("answered_at") + talk_hold).all()
    assert c.filter(pl.col("answered_at").is_not_null()).select(ends_ok).item()
    assert set(c["direction"]) == {"inbound"}
    tickets = set(_csv(out / "tickets.csv")["ticket_id"])
    assert set(c["ticket_id"].drop_nulls()) <= tickets


def test_surveys(out: Path) -> None:
    s = _csv(out / "surveys.csv").with_columns(pl.col("score").cast(pl.Int64))
    csat = s.filter(pl.col("survey_type") == "csat")
    outside = csat.filter(~pl.col("score").is_between(1, 5))
    assert outside["score"].to_list() == [6]
    assert s.filter(pl.col("survey_type") == "nps")["score"].is_between(0, 10).all()
    assert s.filter(pl.col("survey_type") == "ces")["score"].is_between(1, 7).all()
    # every CSAT rates exactly one contact; naive local timestamps
    assert (csat["ticket_id"].is_null() ^ csat["call_id"].is_null()).all()
    assert s["responded_at"].str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$").all()
    assert 0.3 <= s.select(pl.col("comment").is_not_null().mean()).item() <= 0.5


def test_parquet_format_has_typed_timestamps(tmp_path: Path) -> None:
    written = _generate(tmp_path, fmt="parquet")
    assert all(p.suffix == ".parquet" for p in written.values())
    t = pl.read_parquet(written["tickets"])
    assert t.schema["created_at"] == pl.Datetime("us", "UTC")
    assert t["created_at"].null_count() == 2 and t["agent_replies"].null_count() == 1


def test_cli(tmp_path: Path) -> None:
    argv = ["--out", str(tmp_path), "--tickets", "500", "--calls", "300", "--surveys", "100"]
    assert sampledata.main([*argv, "--format", "csv"]) == 0
    assert _csv(tmp_path / "customers.csv").height == 150  # tickets * 0.3
    assert _csv(tmp_path / "calls.csv")["queued_at"].str.ends_with("+00:00").all()


def test_committed_sample_exists() -> None:
    sample = ROOT / "sample_data"
    for name in ("tickets.csv", "calls.parquet", "surveys.csv", "customers.csv"):
        assert (sample / name).is_file(), name
    assert _csv(sample / "tickets.csv").height == 20_000
    assert pl.read_parquet(sample / "calls.parquet").height == 30_000
