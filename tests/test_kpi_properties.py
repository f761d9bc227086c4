"""Property tests: random small ticket/call/survey tables, invariants every report must keep.

Each example writes CSVs into a fresh temporary directory (hypothesis and function-scoped
fixtures do not mix) and runs `cscli.api.report` as the CLI does. Besides the invariants
(ranges, group sums, quantile order, n bounds, service-level monotonicity), the totals are
compared with a plain-Python reference implementation of the definitions in DESIGN §5.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscli import api
from cscli.pipeline import ReportResult

BASE = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SPAN = 20 * 86400  # records spread over ~3 weeks
CHANNELS = ["email", "chat", "web"]

KPIS: list[Any] = [
    "ticket_volume",
    "first_response_time",
    {"id": "frt_p90", "kpi": "first_response_time", "stat": "p90"},
    {"id": "frt_min", "kpi": "first_response_time", "stat": "min"},
    {"id": "frt_max", "kpi": "first_response_time", "stat": "max"},
    "resolution_time",
    "resolution_rate",
    "call_volume",
    "average_handle_time",
    "average_speed_of_answer",
    "abandonment_rate",
    {"id": "aband_short", "kpi": "abandonment_rate", "short_abandon": "5s"},
    "service_level",
    {"id": "sl_met", "kpi": "service_level", "abandons": "met"},
    {"id": "sl_excluded", "kpi": "service_level", "abandons": "excluded"},
    {"id": "sl_short", "kpi": "service_level", "short_abandon": "5s"},
    "csat",
    {"id": "csat_mean", "kpi": "csat", "stat": "mean"},
    "nps",
    "ces",
    {"id": "reopen_share", "source": "tickets", "type": "ratio", "numerator": "reopens > 0"},
]
RATIO_KPIS = [
    "resolution_rate",
    "abandonment_rate",
    "aband_short",
    "service_level",
    "sl_met",
    "sl_excluded",
    "sl_short",
    "csat",
    "reopen_share",
]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- data ---------------------------------------------------------------------------------


@dataclass
class Ticket:
    created: int  # seconds after BASE
    first_response: int | None  # seconds after created (may be negative)
    resolved: int | None
    channel: str | None
    reopens: int | None


@dataclass
class Call:
    queued: int
    answer_wait: int | None  # None = abandoned
    end_wait: int | None  # abandoned calls: seconds in queue before hanging up
    inbound: bool
    talk: int | None
    hold: int | None
    wrap: int | None


@dataclass
class Survey:
    responded: int
    score: int
    survey_type: str
    ticket: int | None  # index into the tickets


@dataclass
class Data:
    tickets: list[Ticket]
    calls: list[Call]
    surveys: list[Survey] = field(default_factory=list)


offsets = st.integers(0, SPAN)
tickets_st = st.builds(
    Ticket,
    created=offsets,
    first_response=st.one_of(st.none(), st.sampled_from([-600, 0, 20]), st.integers(0, 7200)),
    resolved=st.one_of(st.none(), st.just(-60), st.integers(0, 10 * 86400)),
    channel=st.sampled_from([*CHANNELS, None]),
    reopens=st.one_of(st.none(), st.integers(0, 2)),
)
calls_st = st.builds(
    Call,
    queued=offsets,
    answer_wait=st.one_of(st.none(), st.sampled_from([0, 19, 20, 21]), st.integers(0, 90)),
    end_wait=st.one_of(st.none(), st.sampled_from([4, 5, 20]), st.integers(0, 90)),
    inbound=st.booleans(),
    talk=st.one_of(st.none(), st.integers(0, 900)),
    hold=st.one_of(st.none(), st.integers(0, 120)),
    wrap=st.one_of(st.none(), st.integers(0, 120)),
)


@st.composite
def data_st(draw: st.DrawFn) -> Data:
    tickets = draw(st.lists(tickets_st, max_size=10))
    calls = draw(st.lists(calls_st, max_size=10))
    surveys = draw(
        st.lists(
            st.builds(
                Survey,
                responded=offsets,
                score=st.integers(-1, 11),
                survey_type=st.sampled_from(["csat", "nps", "ces"]),
                ticket=st.none() | (st.integers(0, len(tickets) - 1) if tickets else st.none()),
            ),
            max_size=10,
        )
    )
    return Data(tickets, calls, surveys)


def _ts(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def write(directory: Path, data: Data) -> Path:
    lines = ["ticket_id,created_at,first_response_at,resolved_at,channel,reopens"]
    for i, t in enumerate(data.tickets):
        fr = None if t.first_response is None else t.created + t.first_response
        res = None if t.resolved is None else t.created + t.resolved
        lines.append(
            f"t{i},{_ts(t.created)},{_ts(fr)},{_ts(res)},{t.channel or ''},{_num(t.reopens)}"
        )
    (directory / "tickets.csv").write_text("\n".join(lines) + "\n")
    lines = [
        "call_id,queued_at,answered_at,ended_at,direction,talk_seconds,hold_seconds,wrap_seconds"
    ]
    for i, c in enumerate(data.calls):
        answered: int | None = None
        ended: int | None = None
        if c.answer_wait is not None:
            answered = c.queued + c.answer_wait
            ended = answered + (c.talk or 0)
        elif c.end_wait is not None:
            ended = c.queued + c.end_wait
        direction = "inbound" if c.inbound else "outbound"
        lines.append(
            f"c{i},{_ts(c.queued)},{_ts(answered)},{_ts(ended)},{direction},"
            f"{_num(c.talk)},{_num(c.hold)},{_num(c.wrap)}"
        )
    (directory / "calls.csv").write_text("\n".join(lines) + "\n")
    lines = ["responded_at,score,survey_type,ticket_id"]
    for s in data.surveys:
        ticket = "" if s.ticket is None else f"t{s.ticket}"
        lines.append(f"{_ts(s.responded)},{s.score},{s.survey_type},{ticket}")
    (directory / "surveys.csv").write_text("\n".join(lines) + "\n")
    config = {
        "timezone": "Europe/Berlin",
        "sources": {
            "tickets": {"path": "tickets.csv"},
            "calls": {"path": "calls.csv"},
            "surveys": {"path": "surveys.csv"},
        },
        "kpis": KPIS,
    }
    path = directory / "cscli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextmanager
def report(data: Data, **kwargs: Any) -> Iterator[ReportResult]:
    with tempfile.TemporaryDirectory() as tmp:
        yield api.report(write(Path(tmp), data), **kwargs)


def values(frame: pl.DataFrame, kpi: str) -> list[Any]:
    return frame[kpi].to_list() if kpi in frame.columns else []


# --- properties ---------------------------------------------------------------------------


def check_ranges(result: ReportResult) -> None:
    """Ratios in [0, 1], NPS in [−100, 100], or null; never NaN or infinity."""
    for frame in (result.table, result.totals):
        for kpi in RATIO_KPIS:
            for v in values(frame, kpi):
                assert v is None or 0.0 <= v <= 1.0, (kpi, v)
        for v in values(frame, "nps"):
            assert v is None or -100.0 <= v <= 100.0, v
        for column in frame.columns:
            for v in frame[column].to_list():
                if isinstance(v, float):
                    assert math.isfinite(v), (column, v)


def check_group_sums(result: ReportResult, data: Data) -> None:
    """Counts (and every n) summed over the groups equal the ungrouped totals."""
    totals = result.totals.row(0, named=True)
    for kpi in ("ticket_volume", "call_volume"):
        assert sum(values(result.table, kpi)) == totals[kpi], kpi
    # every record falls in exactly one (channel, week) group, so every n adds up too
    for s in result.kpis:
        n = s.kpi.id + "__n"
        assert sum(values(result.table, n)) == totals[n], s.kpi.id
    assert totals["ticket_volume"] == len(data.tickets)
    assert totals["call_volume"] == sum(c.inbound for c in data.calls)


def check_quantile_order(result: ReportResult) -> None:
    """FRT min ≤ p50 ≤ p90 ≤ max, in every group and in the totals."""
    for frame in (result.table, result.totals):
        for lo, med, p90, hi in frame.select(
            "frt_min", "first_response_time", "frt_p90", "frt_max"
        ).iter_rows():
            if med is None:
                assert lo is None and p90 is None and hi is None
                continue
            assert lo <= med <= p90 <= hi


def check_n_bounds(result: ReportResult, data: Data) -> None:
    """The n of a KPI never exceeds the records it could rest on."""
    t = result.totals.row(0, named=True)
    records = {"tickets": len(data.tickets), "calls": len(data.calls),
               "surveys": len(data.surveys)}  # fmt: skip
    for s in result.kpis:
        assert 0 <= t[s.kpi.id + "__n"] <= records[s.kpi.source], s.kpi.id
    # per group: a call rate never rests on more calls than were offered there
    for r in result.table.iter_rows(named=True):
        for kpi in ("abandonment_rate", "aband_short", "service_level", "sl_short", "sl_met"):
            assert r[kpi + "__n"] <= r["call_volume"], (kpi, r)
        assert r["sl_excluded__n"] <= r["call_volume"]
        assert r["average_speed_of_answer__n"] <= r["call_volume"]
        assert r["resolution_rate__n"] == r["ticket_volume"]
        assert r["first_response_time__n"] <= r["ticket_volume"]


@SETTINGS
@given(data_st())
def test_report_invariants(data: Data) -> None:
    # one report per example, several invariants: keeps the file fast
    with report(data, by=["channel"], grain="week") as result:
        assert all(s.available for s in result.kpis), [s.reason for s in result.kpis]
        check_ranges(result)
        check_group_sums(result, data)
        check_quantile_order(result)
        check_n_bounds(result, data)


@SETTINGS
@given(data_st(), offsets, st.integers(0, 20))
def test_a_call_answered_within_threshold_never_lowers_service_level(
    data: Data, queued: int, wait: int
) -> None:
    extra = Call(queued, wait, None, True, 60, None, None)
    with report(data) as before:
        b = before.totals.row(0, named=True)
    with report(Data(data.tickets, [*data.calls, extra], data.surveys)) as after:
        a = after.totals.row(0, named=True)
    for kpi in ("service_level", "sl_met", "sl_excluded", "sl_short"):
        assert a[kpi] is not None
        assert a[kpi + "__n"] == b[kpi + "__n"] + 1
        if b[kpi] is not None:
            assert a[kpi] >= b[kpi] - 1e-12, kpi


# --- a reference implementation of the definitions ----------------------------------------


def _quantile(values_: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, PERCENTILE.INC)."""
    if not values_:
        return None
    xs = sorted(values_)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def reference(data: Data) -> dict[str, tuple[Any, int]]:
    tk, calls, sv = data.tickets, data.calls, data.surveys
    frt = [t.first_response for t in tk if t.first_response is not None and t.first_response >= 0]
    res = [t.resolved for t in tk if t.resolved is not None and t.resolved >= 0]
    inbound = [c for c in calls if c.inbound]
    answered = [c for c in inbound if c.answer_wait is not None]
    abandoned = [c for c in inbound if c.answer_wait is None]
    short = [c for c in abandoned if c.end_wait is not None and c.end_wait < 5]
    met = [c for c in answered if c.answer_wait <= 20]  # type: ignore[operator]
    abandoned_met = [c for c in abandoned if c.end_wait is not None and c.end_wait <= 20]
    # handle time counts inbound calls by default, like ASA and service level (issue #11)
    handle = [
        c.talk + (c.hold or 0) + (c.wrap or 0)
        for c in inbound
        if c.answer_wait is not None and c.talk is not None
    ]
    csat = [s.score for s in sv if s.survey_type == "csat" and 1 <= s.score <= 5]
    nps = [s.score for s in sv if s.survey_type == "nps" and 0 <= s.score <= 10]
    ces = [s.score for s in sv if s.survey_type == "ces" and 1 <= s.score <= 7]
    promoters = sum(s >= 9 for s in nps)
    detractors = sum(s <= 6 for s in nps)
    return {
        "ticket_volume": (len(tk), len(tk)),
        "first_response_time": (_quantile(frt, 0.5), len(frt)),
        "frt_p90": (_quantile(frt, 0.9), len(frt)),
        "frt_min": (min(frt, default=None), len(frt)),
        "frt_max": (max(frt, default=None), len(frt)),
        "resolution_time": (_quantile(res, 0.5), len(res)),
        "resolution_rate": (_ratio(sum(t.resolved is not None for t in tk), len(tk)), len(tk)),
        "call_volume": (len(inbound), len(inbound)),
        "average_handle_time": (_mean(handle), len(handle)),
        "average_speed_of_answer": (
            _mean([c.answer_wait for c in answered]),  # type: ignore[misc]
            len(answered),
        ),
        "abandonment_rate": (_ratio(len(abandoned), len(inbound)), len(inbound)),
        "aband_short": (
            _ratio(len(abandoned) - len(short), len(inbound) - len(short)),
            len(inbound) - len(short),
        ),
        "service_level": (_ratio(len(met), len(inbound)), len(inbound)),
        "sl_met": (_ratio(len(met) + len(abandoned_met), len(inbound)), len(inbound)),
        "sl_excluded": (_ratio(len(met), len(answered)), len(answered)),
        "sl_short": (
            _ratio(len(met), len(inbound) - len(short)),
            len(inbound) - len(short),
        ),
        "csat": (_ratio(sum(s >= 4 for s in csat), len(csat)), len(csat)),
        "csat_mean": (_mean(csat), len(csat)),
        "nps": (
            None if not nps else 100 * (promoters - detractors) / len(nps),
            len(nps),
        ),
        "ces": (_mean(ces), len(ces)),
        "reopen_share": (_ratio(sum((t.reopens or 0) > 0 for t in tk), len(tk)), len(tk)),
    }


def assert_matches(row: dict[str, Any], expected: dict[str, tuple[Any, int]], where: str) -> None:
    for kpi, (value, n) in expected.items():
        assert row[kpi + "__n"] == n, (where, kpi)
        if value is None:
            assert row[kpi] is None, (where, kpi)
        else:
            assert row[kpi] == pytest.approx(value, rel=1e-9, abs=1e-9), (where, kpi)


def channel_subset(data: Data, channel: str | None) -> Data:
    """The records a `by=[channel]` group holds: tickets of that channel, the surveys of
    those tickets (surveys without a ticket have no channel), calls under 'phone'."""
    if channel == "phone":
        return Data([], data.calls, [])
    tickets = [t for t in data.tickets if t.channel == channel]
    surveys = [
        s
        for s in data.surveys
        if (data.tickets[s.ticket].channel if s.ticket is not None else None) == channel
    ]
    return Data(tickets, [], surveys)


@SETTINGS
@given(data_st())
def test_totals_and_groups_match_a_reference_implementation(data: Data) -> None:
    with report(data, by=["channel"]) as result:
        assert_matches(result.totals.row(0, named=True), reference(data), "totals")
        groups = {r["channel"]: r for r in result.table.iter_rows(named=True)}
    for channel in [*CHANNELS, None, "phone"]:
        expected = reference(channel_subset(data, channel))
        if channel not in groups:
            # a channel with no record of any source has no row; its counts would all be 0
            assert all(n == 0 for _, n in expected.values()), channel
            continue
        assert_matches(groups[channel], expected, f"channel={channel}")
    assert set(groups) <= {*CHANNELS, None, "phone"}
