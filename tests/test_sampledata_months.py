"""The monthly ticket generator (`python -m cscli.sampledata --months N`): one Parquet file per
month, ids counting on over the months, each month's arrivals inside it, reproducible."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from cscli import sampledata
from cscli.sampledata_months import generate_months, month_starts

# 1,000 tickets over 3 months: 1000 // 3 = 333, and the first 1000 % 3 = 1 month gets one more
SIZES = [334, 333, 333]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("months")
    return generate_months(out, tickets=1_000, months=3, customers=300, start=date(2026, 11, 1))


def test_one_file_per_month_with_its_share(files: list[Path]) -> None:
    assert [f.name for f in files] == [
        "tickets-2026-11.parquet",
        "tickets-2026-12.parquet",
        "tickets-2027-01.parquet",  # the year rolls over
    ]
    assert [pl.read_parquet(f).height for f in files] == SIZES
    assert all(f.parent.name == "tickets" for f in files)


def test_ids_count_on_over_the_months(files: list[Path]) -> None:
    ids = pl.concat([pl.read_parquet(f) for f in files])["ticket_id"].to_list()
    # width: max(6, len("1000")) = 6 digits
    assert ids == [f"T-{i:06d}" for i in range(1, 1_001)]


def test_arrivals_stay_in_their_month_and_answers_before_the_export(files: list[Path]) -> None:
    # month edges at midnight Berlin: CET (UTC+1) in Nov–Jan, so 23:00 UTC the day before
    edges = [datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC)]
    edges += [datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2027, 1, 31, 23, tzinfo=UTC)]
    frames = [pl.read_parquet(f) for f in files]
    for k, t in enumerate(frames):
        created = t["created_at"].drop_nulls()
        assert created.min() >= edges[k] and created.max() < edges[k + 1], k
        # export time = the end of the last month; nothing is answered or resolved later
        for col in ("first_response_at", "resolved_at"):
            assert t[col].drop_nulls().max() < edges[3], (k, col)
    # a month's late tickets resolve in the next month (as in one real export)
    first = frames[0].filter(pl.col("resolved_at") >= edges[1])
    assert first.height > 0


def test_the_planted_defects_are_in_every_month(files: list[Path]) -> None:
    for size, f in zip(SIZES, files, strict=True):
        t = pl.read_parquet(f).with_row_index("i")
        # BAD_CREATED = (0.29, 0.66) of the month's rows: null created_at
        bad_created = [int(size * x) for x in sampledata.BAD_CREATED]
        assert t.filter(pl.col("created_at").is_null())["i"].to_list() == bad_created
        assert t["agent_replies"].null_count() == 1  # row int(size * 0.58)
        backwards = t.filter(pl.col("resolved_at") < pl.col("created_at"))["i"].to_list()
        assert backwards == [int(size * x) for x in sampledata.BAD_RESOLVED]


def test_same_seed_same_data_other_seed_other_data(files: list[Path], tmp_path: Path) -> None:
    again = generate_months(
        tmp_path / "a", tickets=1_000, months=3, customers=300, start=date(2026, 11, 1)
    )
    for a, b in zip(files, again, strict=True):
        assert pl.read_parquet(a).equals(pl.read_parquet(b))
    other = generate_months(
        tmp_path / "b", tickets=1_000, months=3, customers=300, start=date(2026, 11, 1), seed=8
    )
    assert not pl.read_parquet(files[1]).equals(pl.read_parquet(other[1]))


def test_month_starts() -> None:
    assert month_starts(date(2026, 11, 1), 3) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tickets": 1_000, "months": 3, "start": date(2026, 1, 2)},  # not a first of a month
        {"tickets": 299, "months": 3},  # fewer than 100 a month
        {"tickets": 1_000, "months": 0},
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="first of a month"):
        generate_months(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "tickets").exists()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path), "--tickets", "400", "--months", "2", "--start", "2026-03-01"]
    assert sampledata.main(argv) == 0
    printed = capsys.readouterr().out
    assert "tickets-2026-03.parquet" in printed and "tickets-2026-04.parquet" in printed
    assert [p.name for p in sorted((tmp_path / "tickets").iterdir())] == [
        "tickets-2026-03.parquet",
        "tickets-2026-04.parquet",
    ]
    assert not (tmp_path / "calls.parquet").exists()  # tickets only
