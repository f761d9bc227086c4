"""`cscli check` thresholds are exact (issue #11, "Honest numbers", item 7).

A threshold is read as the decimal that is written (`99.9%` is 999/1000, `4.1h` is 14760 s)
and rounded once to the nearest double. Binary arithmetic on the written number is off by an
ulp: `float("99.9") / 100` is 0.9990000000000001 and `4.1 * 3600` is 14759.999999999998, so a
value exactly at such a threshold fell on the wrong side of it. Every fixture below puts KPI
values just below, exactly at and just above a threshold; the expected statuses follow from
docs/ci.md ("a value exactly at the threshold breaks `>=`/`<=` and `between`, and passes
`>`/`<`").
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli import api
from cscli.checks import CheckResult
from cscli.cli import app
from cscli.conditions import parse_condition, parse_quantity
from cscli.units import parse_duration

Write = Callable[[str, str], Path]

# --- the parsed thresholds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "exact", "value"),
    [
        ("99.9%", Decimal("0.999"), 999 / 1000),
        ("0.1%", Decimal("0.001"), 1 / 1000),
        ("85%", Decimal("0.85"), 17 / 20),
        ("4.1h", Decimal("14760"), 14760.0),  # 4.1 × 3600, not 14759.999999999998
        ("1h 30m", Decimal("5400"), 5400.0),
        ("4h 06m", Decimal("14760"), 14760.0),
        ("0.1s", Decimal("0.1"), 0.1),
        ("1.5d", Decimal("129600"), 129600.0),
        ("0.999", Decimal("0.999"), 999 / 1000),
        ("3", Decimal("3"), 3.0),
    ],
)
def test_thresholds_are_the_decimals_written(text: str, exact: Decimal, value: float) -> None:
    q = parse_quantity(text)
    assert q.exact == exact
    assert q.value == value  # the correctly rounded double, equal to the KPI's own arithmetic


def test_binary_arithmetic_would_be_off_by_an_ulp() -> None:
    # why the decimals: these are the values the thresholds had before
    assert float("99.9") / 100 != 999 / 1000
    assert float("4.1") * 3600 != 14760
    assert parse_duration("4.1h") == 14760.0


def test_condition_bounds_at_the_threshold() -> None:
    assert not parse_condition("< 99.9%").holds(999 / 1000)
    assert parse_condition(">= 99.9%").holds(999 / 1000)
    assert not parse_condition("> 4.1h").holds(14760)
    assert parse_condition("between 3h and 4.1h").holds(14760)
    assert parse_condition("between 4.1h and 5h").holds(14760)
    assert parse_condition("between 1h 30m and 4h 06m").holds(14760)
    assert not parse_condition("not between 99.9% and 100%").holds(999 / 1000)
    # exact decimals for changes
    assert parse_condition(">= 10%").holds_exact(Decimal("0.3") - Decimal("0.2"))
    assert not parse_condition("> 10%").holds_exact(Decimal("0.3") - Decimal("0.2"))


def test_compound_between_bounds_parse() -> None:
    cond = parse_condition("not between 1h 30m and 2h 15m")
    assert (cond.op, cond.low.exact, cond.high and cond.high.exact) == (
        "not between",
        Decimal("5400"),
        Decimal("8100"),
    )
    with pytest.raises(ValueError, match="lower bound 2h 15m is above the upper bound 1h 30m"):
        parse_condition("between 2h 15m and 1h 30m")


# --- a KPI value at, just below and just above each threshold ---------------------------

# Three channels of 1000 tickets each, created 2026-01-05 08:00Z, every ticket in a channel
# answered after the same time, and all but a few without reopens:
#   below: FRT 14759 s for every ticket → median 14759; ok_share = 998/1000 = 0.998
#   at:    FRT 14760 s (= 4.1h = 4h 06m) → median 14760; ok_share = 999/1000 = 0.999 (99.9%)
#   above: FRT 14761 s                   → median 14761; ok_share = 1000/1000 = 1.0
GROUPS = {"below": (14759, 2), "at": (14760, 1), "above": (14761, 0)}  # (FRT s, reopened)


def _tickets(path: Path) -> None:
    created = datetime(2026, 1, 5, 8, 0, 0)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["ticket_id", "created_at", "first_response_at", "channel", "reopens"])
        for channel, (frt, reopened) in GROUPS.items():
            answered = created + timedelta(seconds=frt)
            for i in range(1000):
                out.writerow(
                    [
                        f"{channel}-{i}",
                        created.isoformat() + "Z",
                        answered.isoformat() + "Z",
                        channel,
                        1 if i < reopened else 0,
                    ]
                )


# (KPI, condition, statuses of a by-channel `fail:` rule for below / at / above)
EXACT = [
    ("first_response_time", "> 4.1h", ("pass", "pass", "fail")),
    ("first_response_time", ">= 4.1h", ("pass", "fail", "fail")),
    ("first_response_time", "< 4.1h", ("fail", "pass", "pass")),
    ("first_response_time", "<= 4.1h", ("fail", "fail", "pass")),
    ("first_response_time", "> 4h 06m", ("pass", "pass", "fail")),  # compound, = 14760 s
    ("first_response_time", "<= 4h 6m", ("fail", "fail", "pass")),
    ("first_response_time", "> 14760", ("pass", "pass", "fail")),  # a plain number of seconds
    ("first_response_time", "<= 14760", ("fail", "fail", "pass")),
    ("first_response_time", "between 3h and 4.1h", ("fail", "fail", "pass")),  # upper bound
    ("first_response_time", "between 4.1h and 5h", ("pass", "fail", "fail")),  # lower bound
    ("first_response_time", "between 1h 30m and 4h 06m", ("fail", "fail", "pass")),
    ("first_response_time", "not between 4.1h and 5h", ("fail", "pass", "pass")),
    ("first_response_time", "not between 3h and 4.1h", ("pass", "pass", "fail")),
    ("ok_share", "< 99.9%", ("fail", "pass", "pass")),
    ("ok_share", "<= 99.9%", ("fail", "fail", "pass")),
    ("ok_share", "> 99.9%", ("pass", "pass", "fail")),
    ("ok_share", ">= 99.9%", ("pass", "fail", "fail")),
    ("ok_share", "< 0.999", ("fail", "pass", "pass")),  # a plain number on a ratio
    ("ok_share", ">= 0.999", ("pass", "fail", "fail")),
    ("ok_share", "between 99.9% and 100%", ("pass", "fail", "fail")),  # lower bound
    ("ok_share", "between 90% and 99.9%", ("fail", "fail", "pass")),  # upper bound
    ("ok_share", "not between 99.9% and 100%", ("fail", "pass", "pass")),
    ("ok_share", "not between 90% and 99.9%", ("pass", "pass", "fail")),
]


@pytest.fixture(scope="module")
def exact_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exact")
    _tickets(folder / "tickets.csv")
    rules = "".join(
        f'  - {{name: r{i}, kpi: {kpi}, by: [channel], fail: "{cond}"}}\n'
        for i, (kpi, cond, _) in enumerate(EXACT)
    )
    path = folder / "cscli.yaml"
    path.write_text(
        "timezone: UTC\n"
        "sources:\n"
        "  tickets: {path: tickets.csv}\n"
        "kpis:\n"
        "  - first_response_time\n"
        '  - {id: ok_share, source: tickets, type: ratio, numerator: "reopens = 0"}\n'
        "checks:\n" + rules,
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def exact_result(exact_config: Path) -> CheckResult:
    return api.check(exact_config)


def test_the_fixture_values_are_the_hand_computed_ones(exact_result: CheckResult) -> None:
    values = {
        (o.kpi.id if o.kpi else "", o.group_label): (o.value, o.n) for o in exact_result.outcomes
    }
    assert values[("first_response_time", "channel=below")] == (14759.0, 1000)
    assert values[("first_response_time", "channel=at")] == (14760.0, 1000)
    assert values[("first_response_time", "channel=above")] == (14761.0, 1000)
    assert values[("ok_share", "channel=below")] == (998 / 1000, 1000)
    assert values[("ok_share", "channel=at")] == (999 / 1000, 1000)
    assert values[("ok_share", "channel=above")] == (1.0, 1000)


@pytest.mark.parametrize(
    ("i", "kpi", "condition", "expected"),
    [(i, *case) for i, case in enumerate(EXACT)],
    ids=[f"{kpi} {cond}" for kpi, cond, _ in EXACT],
)
def test_values_at_and_around_the_threshold(
    exact_result: CheckResult, i: int, kpi: str, condition: str, expected: tuple[str, ...]
) -> None:
    found = {o.group_label: o.status for o in exact_result.outcomes if o.check.name == f"r{i}"}
    assert found == {
        "channel=below": expected[0],
        "channel=at": expected[1],
        "channel=above": expected[2],
    }


def test_breached_records_use_the_same_exact_threshold(exact_config: Path, tmp_path: Path) -> None:
    # `> 4.1h` fails channel=above only; its records are the 1000 tickets answered after
    # 14761 s, and none of the 14760 s ones (which a 14759.999… threshold would also list)
    target = tmp_path / "breaches.csv"
    result = CliRunner().invoke(
        app, ["check", "-c", str(exact_config), "--rule", "r0", "--breaches", str(target)]
    )
    assert result.exit_code == 1, result.stderr
    with target.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1000
    assert {r["group"] for r in rows} == {"channel=above"}
    assert {float(r["value"]) for r in rows} == {14761.0}


# --- changes are exact too --------------------------------------------------------------

CHANGE_TICKETS = """
    ticket_id,created_at,first_response_at,reopens
    p1,2026-01-02T09:00:00Z,2026-01-02T09:30:00Z,1
    p2,2026-01-02T10:00:00Z,2026-01-02T10:30:00Z,0
    p3,2026-01-03T09:00:00Z,2026-01-03T09:30:00Z,0
    p4,2026-01-03T10:00:00Z,2026-01-03T10:30:00Z,0
    p5,2026-01-04T09:00:00Z,2026-01-04T09:30:00Z,0
    c1,2026-01-09T09:00:00Z,2026-01-09T09:30:00Z,1
    c2,2026-01-09T10:00:00Z,2026-01-09T10:30:00Z,1
    c3,2026-01-09T11:00:00Z,2026-01-09T11:30:00Z,1
    c4,2026-01-10T09:00:00Z,2026-01-10T09:30:00Z,0
    c5,2026-01-10T10:00:00Z,2026-01-10T10:30:00Z,0
    c6,2026-01-10T11:00:00Z,2026-01-10T11:30:00Z,0
    c7,2026-01-11T09:00:00Z,2026-01-11T09:30:00Z,0
    c8,2026-01-11T10:00:00Z,2026-01-11T10:30:00Z,0
    c9,2026-01-11T11:00:00Z,2026-01-11T11:30:00Z,0
    c10,2026-01-12T09:00:00Z,2026-01-12T09:30:00Z,0
"""
# --from 2026-01-08 --to 2026-01-14; previous window 2026-01-01 … 2026-01-07
#   reopen_share previous 1/5 = 0.2, current 3/10 = 0.3
#   absolute change 0.3 − 0.2 = 0.1 exactly (in doubles 0.09999999999999998)
#   relative change 0.1 / 0.2 = 50% exactly (in doubles 0.4999999999999999)


def test_change_rules_compare_exact_differences(write: Write) -> None:
    write("tickets.csv", CHANGE_TICKETS)
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets: {path: tickets.csv}
        kpis:
          - {id: reopen_share, source: tickets, type: ratio, numerator: "reopens > 0"}
        checks:
          - {name: abs_ge, kpi: reopen_share, change_abs: ">= 10%"}
          - {name: abs_gt, kpi: reopen_share, change_abs: "> 10%"}
          - {name: abs_num, kpi: reopen_share, change_abs: ">= 0.1"}
          - {name: rel_ge, kpi: reopen_share, change: ">= 50%"}
          - {name: rel_gt, kpi: reopen_share, change: "> 50%"}
          - {name: rel_between, kpi: reopen_share, change: "between 10% and 50%"}
        """,
    )
    result = api.check(path, date_from="2026-01-08", date_to="2026-01-14")
    found = {o.check.name: o.status for o in result.outcomes}
    assert found == {
        "abs_ge": "fail",
        "abs_gt": "pass",
        "abs_num": "fail",
        "rel_ge": "fail",
        "rel_gt": "pass",
        "rel_between": "fail",
    }
    abs_ge = next(o for o in result.outcomes if o.check.name == "abs_ge")
    assert (abs_ge.value, abs_ge.previous) == (3 / 10, 1 / 5)
