"""Threshold conditions of `checks:` — `> 1h`, `< 85%`, `between 0.8 and 0.9` — as data.

Thresholds are exact. The number as written is read as a decimal and converted to machine
units in decimal arithmetic (`99.9%` is 0.999, `4.1h` is 14760 s), then rounded once to the
nearest double. A KPI value that is the correctly rounded result of its arithmetic (999/1000,
14760 s) is therefore equal to a threshold it equals on paper, so `<`, `<=`, `between` and
the rest behave at the threshold as docs/ci.md says. Binary arithmetic on the written number
(`float("99.9") / 100` is 0.9990000000000001) would not. Changes against the previous window
are compared in decimal arithmetic (`Condition.holds_exact`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from cscli.units import Unit, parse_duration_exact

Op = Literal["<", "<=", ">", ">=", "between", "not between"]

_COMPARE = re.compile(r"^\s*(?P<op><=|>=|<|>)\s*(?P<value>\S.*?)\s*$")
_BETWEEN = re.compile(
    r"^\s*(?P<not>not\s+)?between\s+(?P<low>\S.*?)\s+and\s+(?P<high>\S.*?)\s*$", re.IGNORECASE
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A threshold value as written: a number, a percentage or a duration, in machine units.

    `exact` is the decimal value (0.999 for `99.9%`); `value` is that rounded once to the
    nearest double, for comparing with KPI values."""

    value: float
    kind: Literal["number", "percent", "duration"]
    text: str
    exact: Decimal


def _quantity(
    exact: Decimal, kind: Literal["number", "percent", "duration"], text: str
) -> Quantity:
    return Quantity(float(exact), kind, text, exact)


def parse_quantity(text: str) -> Quantity:
    s = text.strip()
    try:
        if s.endswith("%") and _NUMBER.match(s[:-1].strip()):
            return _quantity(Decimal(s[:-1].strip()).scaleb(-2), "percent", s)
        if _NUMBER.match(s):
            return _quantity(Decimal(s), "number", s)
        return _quantity(parse_duration_exact(s), "duration", s)
    except (ValueError, InvalidOperation):
        raise ValueError(
            f"cannot read {text!r} as a number, a percentage (85%) or a duration (45m, 1h 30m)"
        ) from None


def _test(op: Op, value: Any, low: Any, high: Any) -> bool:
    if op == "<":
        return bool(value < low)
    if op == "<=":
        return bool(value <= low)
    if op == ">":
        return bool(value > low)
    if op == ">=":
        return bool(value >= low)
    inside = bool(low <= value <= high)
    return inside if op == "between" else not inside


@dataclass(frozen=True, slots=True)
class Condition:
    """`value <op> threshold` (or between two bounds, inclusive)."""

    op: Op
    low: Quantity
    high: Quantity | None = None
    text: str = ""

    def holds(self, value: float) -> bool:
        """For a KPI value: compared with the thresholds rounded to doubles."""
        high = self.high.value if self.high is not None else None
        return _test(self.op, float(value), self.low.value, high)

    def holds_exact(self, value: Decimal) -> bool:
        """For a decimal value (a change): compared with the thresholds as written."""
        high = self.high.exact if self.high is not None else None
        return _test(self.op, value, self.low.exact, high)

    def quantities(self) -> tuple[Quantity, ...]:
        return (self.low,) if self.high is None else (self.low, self.high)


def parse_condition(text: str | int | float) -> Condition:
    """Parse `> 1h`, `<= 85%`, `between 0.8 and 0.95`, `not between -5% and 5%`."""
    raw = str(text)
    m = _BETWEEN.match(raw)
    if m:
        low, high = parse_quantity(m["low"]), parse_quantity(m["high"])
        if low.exact > high.exact:
            raise ValueError(f"the lower bound {low.text} is above the upper bound {high.text}")
        return Condition("not between" if m["not"] else "between", low, high, raw.strip())
    m = _COMPARE.match(raw)
    if not m:
        raise ValueError(
            f"cannot read condition {raw!r}: expected e.g. '> 1h', '< 85%' or 'between 0.8 and 0.9'"
        )
    ops: dict[str, Op] = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
    return Condition(ops[m["op"]], parse_quantity(m["value"]), None, raw.strip())


def check_units(condition: Condition, unit: Unit) -> str | None:
    """Why `condition` cannot apply to a KPI in `unit`, or None when it can."""
    for q in condition.quantities():
        if q.kind == "duration" and unit != "seconds":
            return f"{q.text} is a duration but the KPI is measured in {unit}"
        if q.kind == "percent" and unit not in ("ratio",):
            return f"{q.text} is a percentage but the KPI is measured in {unit}"
    return None
