"""Threshold conditions of `checks:` — `> 1h`, `< 85%`, `between 0.8 and 0.9` — as data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from cscli.units import Unit, parse_duration

Op = Literal["<", "<=", ">", ">=", "between", "not between"]

_COMPARE = re.compile(r"^\s*(?P<op><=|>=|<|>)\s*(?P<value>\S.*?)\s*$")
_BETWEEN = re.compile(
    r"^\s*(?P<not>not\s+)?between\s+(?P<low>\S+)\s+and\s+(?P<high>\S+)\s*$", re.IGNORECASE
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A threshold value as written: a number, a percentage or a duration, in machine units."""

    value: float
    kind: Literal["number", "percent", "duration"]
    text: str


def parse_quantity(text: str) -> Quantity:
    s = text.strip()
    if s.endswith("%") and _NUMBER.match(s[:-1].strip()):
        return Quantity(float(s[:-1]) / 100, "percent", s)
    if _NUMBER.match(s):
        return Quantity(float(s), "number", s)
    try:
        return Quantity(parse_duration(s), "duration", s)
    except ValueError:
        raise ValueError(
            f"cannot read {text!r} as a number, a percentage (85%) or a duration (45m)"
        ) from None


@dataclass(frozen=True, slots=True)
class Condition:
    """`value <op> threshold` (or between two bounds, inclusive)."""

    op: Op
    low: Quantity
    high: Quantity | None = None
    text: str = ""

    def holds(self, value: float) -> bool:
        if self.op == "<":
            return value < self.low.value
        if self.op == "<=":
            return value <= self.low.value
        if self.op == ">":
            return value > self.low.value
        if self.op == ">=":
            return value >= self.low.value
        assert self.high is not None
        inside = self.low.value <= value <= self.high.value
        return inside if self.op == "between" else not inside

    def quantities(self) -> tuple[Quantity, ...]:
        return (self.low,) if self.high is None else (self.low, self.high)


def parse_condition(text: str | int | float) -> Condition:
    """Parse `> 1h`, `<= 85%`, `between 0.8 and 0.95`, `not between -5% and 5%`."""
    raw = str(text)
    m = _BETWEEN.match(raw)
    if m:
        low, high = parse_quantity(m["low"]), parse_quantity(m["high"])
        if low.value > high.value:
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
