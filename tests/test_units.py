import math

import pytest

from cscli.conditions import check_units, parse_condition
from cscli.errors import ExitCode, worst
from cscli.units import format_duration, format_value, parse_duration, parse_ratio


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("45m", 2700),
        ("4h", 14400),
        ("2d", 172800),
        ("1.5h", 5400),
        (30, 30),
        ("500ms", 0.5),
        ("1w", 604800),
    ],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["fast", "4 hours", "", "h4", True])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)  # type: ignore[arg-type]


def test_parse_ratio() -> None:
    assert parse_ratio("85%") == pytest.approx(0.85)
    assert parse_ratio(0.85) == 0.85
    assert parse_ratio("0.9") == 0.9
    with pytest.raises(ValueError, match="ratio"):
        parse_ratio("most")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (42, "42s"),
        (4.5, "4.5s"),
        (65, "1m 05s"),
        (7500, "2h 05m"),
        (3 * 86400 + 4 * 3600, "3d 04h"),
        (-90, "-1m 30s"),
        (3599.6, "1h 00m"),
        # no trailing `.0`: 9.96 rounds to 10.0 at one decimal, so whole seconds, `10s`
        (9.96, "10s"),
        (10.0, "10s"),
        (9.04, "9s"),  # 9.04 → 9.0 at one decimal → `9s`, not `9.0s`
        (59.6, "1m 00s"),  # rounds to 60 s: a minute, not `60s`
        (-0.01, "0s"),  # rounds to zero: no sign
        (-4.5, "-4.5s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_value_units() -> None:
    assert format_value(0.8734, "ratio") == "87.3%"
    assert format_value(42.0, "nps") == "+42.0"
    assert format_value(-7.5, "nps") == "-7.5"
    assert format_value(1234, "count") == "1,234"
    assert format_value(4.256, "score") == "4.26"
    assert format_value(None, "ratio") == "–"
    assert format_value(math.nan, "seconds") == "–"


def test_conditions_at_their_boundary() -> None:
    # a value exactly at the threshold: strict operators do not hold, inclusive ones do
    assert not parse_condition("> 1h").holds(3600)
    assert parse_condition(">= 1h").holds(3600)
    assert not parse_condition("< 85%").holds(0.85)
    assert parse_condition("<= 85%").holds(0.85)
    between = parse_condition("between 0.8 and 0.9")
    assert between.holds(0.8) and between.holds(0.9) and not between.holds(0.91)
    assert parse_condition("not between -5% and 5%").holds(0.06)


def test_condition_units() -> None:
    assert check_units(parse_condition("> 45m"), "ratio") is not None
    assert check_units(parse_condition("< 85%"), "seconds") is not None
    assert check_units(parse_condition("> 45m"), "seconds") is None
    with pytest.raises(ValueError, match="condition"):
        parse_condition("about 3")


def test_exit_code_precedence() -> None:
    # An error hides a breach (a breach computed from bad input is not a finding),
    # and a breach outranks success.
    assert worst([]) is ExitCode.OK
    assert worst([ExitCode.OK, ExitCode.CHECK_FAILED]) is ExitCode.CHECK_FAILED
    assert worst([ExitCode.CHECK_FAILED, ExitCode.ERROR, ExitCode.OK]) is ExitCode.ERROR
    assert [int(c) for c in ExitCode] == [0, 1, 2]
