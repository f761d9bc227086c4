"""A threshold condition (`> 1h`, `between 1h and 4h`) as a polars predicate over a value."""

from __future__ import annotations

import polars as pl

from cscli.conditions import Condition


def meets(value: pl.Expr, cond: Condition) -> pl.Expr:
    """The records whose own value meets a threshold condition (`> 1h`, `between …`)."""
    low = cond.low.value
    if cond.op == "<":
        return value < low
    if cond.op == "<=":
        return value <= low
    if cond.op == ">":
        return value > low
    if cond.op == ">=":
        return value >= low
    assert cond.high is not None
    inside = value.is_between(low, cond.high.value)
    return inside if cond.op == "between" else ~inside
