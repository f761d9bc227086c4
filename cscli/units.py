"""Parsing the human quantities of the config (`45m`, `85%`) and formatting machine units back.

Machine units (DESIGN §5): durations in seconds, ratios 0–1, NPS −100…100, scores on their scale.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Literal

Unit = Literal["seconds", "ratio", "count", "score", "nps"]
UNITS: tuple[Unit, ...] = ("seconds", "ratio", "count", "score", "nps")

_DURATION = re.compile(
    r"^\s*(?P<num>[+-]?\d+(?:\.\d+)?)\s*(?P<unit>ms|s|sec|secs|m|min|mins|h|hr|hrs|d|w)?\s*$"
)
_COMPOUND = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)(?![a-z])")
_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "d": 86400,
    "w": 604800,
}


def parse_duration(text: str | int | float) -> float:
    """`90s`, `45m`, `4h`, `2d`, `1.5h` → seconds. A bare number is seconds."""
    if isinstance(text, bool):
        raise ValueError(f"expected a duration such as 45m, got {text!r}")
    if isinstance(text, int | float):
        return float(text)
    return float(parse_duration_exact(text))


def parse_duration_exact(text: str) -> Decimal:
    """`parse_duration` in decimal arithmetic: `4.1h` is exactly 14760 s (in binary floating
    point 4.1 × 3600 is 14759.999999999998). `float()` of the result is correctly rounded."""
    m = _DURATION.match(text)
    if m:
        return Decimal(m["num"]) * Decimal(str(_SECONDS[m["unit"] or "s"]))
    # compound forms as cscli prints them: "1h 30m", "2h05m", "3d 04h"
    parts = _COMPOUND.findall(text)
    if parts and _COMPOUND.sub("", text).strip() == "":
        return sum((Decimal(num) * Decimal(str(_SECONDS[unit])) for num, unit in parts), Decimal(0))
    raise ValueError(f"expected a duration such as 90s, 45m, 4h, 1h 30m or 2d, got {text!r}")


def parse_ratio(text: str | int | float) -> float:
    """`85%` or `0.85` → 0.85."""
    if isinstance(text, bool):
        raise ValueError(f"expected a ratio such as 0.85 or 85%, got {text!r}")
    if isinstance(text, int | float):
        return float(text)
    s = text.strip()
    try:
        if s.endswith("%"):
            return float(s[:-1]) / 100
        return float(s)
    except ValueError:
        raise ValueError(f"expected a ratio such as 0.85 or 85%, got {text!r}") from None


def format_duration(seconds: float) -> str:
    """Compact human duration: `42s`, `7m 05s`, `2h 05m`, `3d 04h`."""
    if not math.isfinite(seconds):
        return "–"
    s = abs(seconds)
    tenths = round(s, 1)
    # the sign of what is shown: -0.01 s prints `0s`, never `-0s`
    sign = "-" if seconds < 0 and tenths > 0 else ""
    if tenths < 10 and tenths != int(tenths):
        return f"{sign}{tenths:.1f}s"  # 4.5s; 9.96 rounds to 10.0, shown as `10s` below
    total = round(s)
    if total < 60:
        return f"{sign}{total}s"  # whole seconds: `10s`, never `10.0s`; 59.6 → `1m 00s`
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def format_value(value: float | int | None, unit: Unit) -> str:
    """A KPI value in human units; None (not computable) is an en dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "seconds":
        return format_duration(float(value))
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "nps":
        return f"{value:+.1f}"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{value:.2f}"


def describe_duration(seconds: float) -> str:
    """Duration in words for definitions: 20 → `20s`, 3600 → `1h`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def change(value: float | None, previous: float | None, unit: Unit) -> float | None:
    """The change shown next to a value: points for ratios (as a ratio), NPS and scores,
    relative change for durations and counts. None when either side is missing, or when a
    relative change starts from 0."""
    if value is None or previous is None:
        return None
    if unit in ("ratio", "nps", "score"):
        return value - previous
    if previous == 0:
        return None
    return (value - previous) / abs(previous)


def format_change(delta: float | None, unit: Unit) -> str:
    """`+2.1pp` for ratios, `+3.0` for NPS, `+0.12` for scores, `+12%` otherwise."""
    if delta is None or not math.isfinite(delta):
        return "–"
    if unit == "ratio":
        return f"{delta * 100:+.1f}pp"
    if unit == "nps":
        return f"{delta:+.1f}"
    if unit == "score":
        return f"{delta:+.2f}"
    return f"{delta * 100:+.0f}%"


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """A compact trend: one block per value scaled between min and max; a gap for null."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return " " * len(values)
    lo, hi = min(known), max(known)
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(" ")
        elif hi == lo:
            out.append(SPARKS[3])
        else:
            out.append(SPARKS[round((v - lo) / (hi - lo) * (len(SPARKS) - 1))])
    return "".join(out)
