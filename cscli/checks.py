"""SLA checks: thresholds on KPIs → pass / warn / fail / skipped per rule and group.

A rule (`checks:` in the config) names a KPI, `fail:`/`warn:` conditions, optional change rules
against the previous window, `by:` dimensions (every group must pass), a `where:` filter on the
groups and a `min_count:` below which a group is `skipped` instead of judged. All KPI rules
are computed in one pass: one report per distinct `by`, collected together. A `freshness:`
rule judges the age of a source's newest record instead of a KPI, in one small query per
source.

Nothing unjudged passes: a change rule without a previous value (null, or 0 for a relative
change), a `by:` rule that finds no group and a KPI without a value are `skipped`, and a run
in which every result is skipped says so (`status` "skipped").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from cscli.conditions import Condition
from cscli.config import CheckConfig, Config, Freshness
from cscli.engine.base import Breach
from cscli.errors import ExitCode, UnknownDimension, UsageError, worst
from cscli.kpis.spec import Kpi
from cscli.period import Period
from cscli.pipeline import QualityIssue, ReportRequest, run_reports
from cscli.results import ReportResult, Row
from cscli.units import Unit, change, format_change, format_duration, format_value

if TYPE_CHECKING:
    import polars as pl

    from cscli.engine.polars.freshness import Newest

Status = Literal["pass", "warn", "fail", "skipped"]
#: "skipped" when every result is skipped: nothing was checked (exit 0 all the same)
Verdict = Literal["pass", "warn", "fail", "skipped"]


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One rule evaluated on one group (or on the totals when the rule has no `by`)."""

    check: CheckConfig
    #: None for a freshness rule
    kpi: Kpi | None
    group: dict[str, Any]
    value: float | None
    n: int
    previous: float | None
    status: Status
    #: the condition that decided a fail or warn, as written (e.g. "fail: > 1h")
    rule: str
    #: one sentence a person can act on
    message: str
    #: the `fail:` or `warn:` condition the value breaks (None for a change rule, a freshness
    #: rule, a pass or a skip): what the records behind the breach are listed by
    condition: Condition | None = None

    @property
    def group_label(self) -> str:
        if not self.group:
            return "(no groups)" if self.check.by else "all"
        return ", ".join(f"{k}={'(none)' if v is None else v}" for k, v in self.group.items())

    @property
    def unit(self) -> Unit:
        """The unit of `value`: the KPI's, or seconds (an age) for a freshness rule."""
        return self.kpi.unit if self.kpi is not None else "seconds"

    @property
    def subject(self) -> str:
        """What is judged: the KPI id, or `tickets.created_at` for a freshness rule."""
        if self.kpi is not None:
            return self.kpi.id
        assert self.check.freshness is not None
        return f"{self.check.freshness.source}.{self.check.freshness.anchor}"

    @property
    def source(self) -> str:
        if self.kpi is not None:
            return self.kpi.source
        assert self.check.freshness is not None
        return self.check.freshness.source


@dataclass(frozen=True)
class CheckResult:
    outcomes: tuple[CheckOutcome, ...]
    period: Period
    effective_period: tuple[date | None, date | None]
    compare: Period | None
    data_quality: tuple[QualityIssue, ...]
    config_path: str
    reports: tuple[ReportResult, ...] = ()

    @property
    def status(self) -> Verdict:
        statuses = {o.status for o in self.outcomes}
        if "fail" in statuses:
            return "fail"
        if "warn" in statuses:
            return "warn"
        return "skipped" if statuses == {"skipped"} else "pass"

    @property
    def all_skipped(self) -> bool:
        return self.status == "skipped"

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def exit_code(self, *, strict: bool = False) -> ExitCode:
        return check_exit_code(self.status, strict=strict)


def check_exit_code(status: Verdict, *, strict: bool = False) -> ExitCode:
    """0 when every rule passes (warnings allowed, or nothing could be judged), 1 on a fail,
    or on a warn with --strict.

    Config and data errors never reach here: they raise and exit 2, which outranks both
    (`cscli.errors.worst`)."""
    codes = [ExitCode.OK]
    if status == "fail" or (status == "warn" and strict):
        codes.append(ExitCode.CHECK_FAILED)
    return worst(codes)


def run_checks(
    config: Config,
    period: Period,
    *,
    only: Sequence[str] = (),
    now: datetime | None = None,
) -> CheckResult:
    """Evaluate the config's checks (or those whose name or KPI is in `only`).

    `now` (default: the current time) is the instant freshness rules measure ages at when the
    period does not end before it."""
    checks = [c for c in config.checks if not only or c.name in only or c.kpi in only]
    if not checks and only:
        raise UsageError(
            f"no check matches {', '.join(only)}",
            hint="--rule takes a rule's name or KPI id: "
            + ", ".join(dict.fromkeys(c.name for c in config.checks)),
        )
    if not checks:
        raise UsageError(
            "no checks to run",
            hint="add rules under `checks:` in the config, e.g. "
            "{kpi: first_response_time, fail: '> 1h'}",
        )
    compare = any(c.change or c.change_abs for c in checks)
    if compare and (period.start is None or period.end is None):
        raise UsageError(
            "change rules (change:, change_abs:) compare with the previous window, which needs "
            "a bounded period",
            hint="give --last 7d, or --from and --to",
        )
    kpi_checks = [c for c in checks if c.kpi is not None]
    groupings = sorted({c.by for c in kpi_checks})
    requests = [
        ReportRequest(
            kpi_ids=tuple(dict.fromkeys(c.kpi for c in kpi_checks if c.by == by and c.kpi)),
            by=by,
            compare=compare,
        )
        for by in groupings
    ]
    try:
        reports = run_reports(config, requests, period) if requests else []
    except UnknownDimension as e:
        bad = next(c for c in kpi_checks if e.dimension in c.by)
        where = f"{config.path}:{bad.line}: " if bad.line else ""
        raise UsageError(f"{where}check {bad.name!r}: by: {e.problem}", hint=e.hint) from e
    by_grouping = dict(zip(groupings, reports, strict=True))
    covered = {s.name for r in reports[:1] for s in r.sources}
    fresh, fresh_quality = _freshness(config, checks, period, now, covered)
    outcomes: list[CheckOutcome] = []
    for check in checks:
        if check.freshness is not None:
            outcomes.append(fresh[check.name])
        else:
            outcomes.extend(_evaluate(check, by_grouping[check.by]))
    first = reports[0] if reports else None
    starts = [r.effective_period[0] for r in reports if r.effective_period[0]]
    ends = [r.effective_period[1] for r in reports if r.effective_period[1]]
    return CheckResult(
        outcomes=tuple(outcomes),
        period=period,
        effective_period=(
            min(starts, default=period.start),
            max(ends, default=period.end),
        ),
        compare=first.compare if first else None,
        data_quality=(first.data_quality if first else ()) + tuple(fresh_quality),
        config_path=str(config.path),
        reports=tuple(reports),
    )


def _evaluate(check: CheckConfig, report: ReportResult) -> list[CheckOutcome]:
    status = next(s for s in report.kpis if s.kpi.id == check.kpi)
    kpi = status.kpi
    if not status.available:
        reason = f"{kpi.id} unavailable: {status.reason}"
        return [CheckOutcome(check, kpi, {}, None, 0, None, "skipped", "", reason)]
    if not check.by:
        return [_judge(check, kpi, {}, report.total)]
    rows = report.rows
    if check.where:
        from cscli.engine.polars.groups import GroupFilterError, matching_groups

        try:
            rows = tuple(rows[i] for i in matching_groups(report.table, check.where))
        except GroupFilterError as e:
            raise UsageError(
                f"check {check.name!r}: cannot apply where: {check.where!r}: {e}",
                hint=f"where: sees the group columns {', '.join(check.by)}",
            ) from e
    out = []
    for row in rows:
        if not row.kpi(kpi.id).n:
            continue  # a group with no records of this KPI's source
        group = {d: row.group[d] for d in check.by}
        out.append(_judge(check, kpi, group, row))
    if not out:
        rule = f"{kpi.id} by {', '.join(check.by)}"
        why = (
            f"{rule}: no group with records matches where: {check.where}"
            if check.where
            else f"{rule}: no group has records in the period"
        )
        out.append(CheckOutcome(check, kpi, {}, None, 0, None, "skipped", "", why))
    return out


def _exact(x: float) -> Decimal:
    """A KPI value as the shortest decimal that reads back as the same double (0.3, not
    0.299999999999999988897769753748…): what it stands for, for exact change arithmetic."""
    return Decimal(repr(float(x)))


def _judge(check: CheckConfig, kpi: Kpi, group: dict[str, Any], row: Row) -> CheckOutcome:
    value, n, previous = row.kpi(kpi.id).value, row.kpi(kpi.id).n, row.kpi(kpi.id).previous
    shown = format_value(value, kpi.unit)
    where = f" for {', '.join(f'{k}={v}' for k, v in group.items())}" if group else ""

    def outcome(
        status: Status, rule: str, message: str, condition: Condition | None = None
    ) -> CheckOutcome:
        return CheckOutcome(check, kpi, group, value, n, previous, status, rule, message, condition)

    def level(status: Status, cond: Condition) -> CheckOutcome:
        threshold = _threshold_text(cond, kpi)
        return outcome(
            status,
            f"{status}: {cond.text}",
            f"{kpi.id}{where} is {shown}, {_breach_words(cond)} {threshold} ({status}, n={n:,})",
            cond,
        )

    if n < check.min_count:
        return outcome(
            "skipped",
            "",
            f"{kpi.id}{where} rests on {n} record(s), fewer than min_count {check.min_count}",
        )
    if value is None:
        return outcome("skipped", "", f"{kpi.id}{where} has no value in the period (n={n})")
    if check.fail is not None and check.fail.holds(float(value)):
        return level("fail", check.fail)
    # a change rule that holds is a fail: it outranks warn:
    unjudged: list[str] = []
    for key, cond in (("change", check.change), ("change_abs", check.change_abs)):
        if cond is None:
            continue
        if previous is None:
            unjudged.append(f"{key} {cond.text} not judged: the previous window has no value")
            continue
        if key == "change" and previous == 0:
            unjudged.append(
                f"change {cond.text} not judged: the previous value is 0, and a relative "
                "change from 0 is undefined"
            )
            continue
        delta = _exact(value) - _exact(previous)
        if key == "change":
            delta = delta / abs(_exact(previous))
        if not cond.holds_exact(delta):
            continue
        if key == "change_abs" and kpi.unit in ("seconds", "count"):
            sign = "+" if value >= previous else "-"
            moved = sign + format_value(abs(value - previous), kpi.unit)
        else:
            moved = format_change(change(value, previous, kpi.unit), kpi.unit)
        return outcome(
            "fail",
            f"{key}: {cond.text}",
            f"{kpi.id}{where} moved {moved} to {shown} from "
            f"{format_value(previous, kpi.unit)} ({key} {cond.text}, n={n:,})",
        )
    if check.warn is not None and check.warn.holds(float(value)):
        return level("warn", check.warn)
    if unjudged:
        return outcome(
            "skipped", "", f"{kpi.id}{where} is {shown} (n={n:,}); " + "; ".join(unjudged)
        )
    return outcome("pass", "", f"{kpi.id}{where} is {shown} (n={n:,})")


# --- freshness ----------------------------------------------------------------------------


def _freshness(
    config: Config,
    checks: Sequence[CheckConfig],
    period: Period,
    now: datetime | None,
    covered: set[str],
) -> tuple[dict[str, CheckOutcome], list[QualityIssue]]:
    """Judge the freshness rules at the reference instant: the end of the period, or now when
    the period has not ended; data-quality counts come along for the sources no KPI rule has
    loaded."""
    rules = [c for c in checks if c.freshness is not None]
    if not rules:
        return {}, []
    from cscli.engine.polars.freshness import newest_records

    current = (now or datetime.now(UTC)).astimezone(UTC)
    _, end = period.bounds_utc()
    zone = ZoneInfo(config.timezone)
    if end is not None and end <= current:
        # the end of --to's day; a record stamped at that instant belongs to the next day
        reference, inclusive = end, False
        at = f"the end of {period.end}"
    else:
        reference, inclusive = current, True
        at = f"now ({_local(current, zone)})"
    anchors = {c.freshness.source: c.freshness.anchor for c in rules if c.freshness}
    newest, issues = newest_records(
        config, anchors, reference, inclusive=inclusive, quality_for=set(anchors) - covered
    )
    out = {}
    for check in rules:
        assert check.freshness is not None
        found = newest[check.freshness.source]
        out[check.name] = _judge_freshness(check, check.freshness, found, reference, at, zone)
    return out, issues


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat(sep=" ", timespec="minutes")


def _judge_freshness(
    check: CheckConfig,
    rule: Freshness,
    found: Newest,
    reference: datetime,
    at: str,
    zone: ZoneInfo,
) -> CheckOutcome:
    n, later, newest = found.n, found.later, found.newest

    def outcome(status: Status, key: str, age: float | None, message: str) -> CheckOutcome:
        return CheckOutcome(check, None, {}, age, n, None, status, key, message)

    if newest is None:
        if later:
            return outcome(
                "fail",
                "",
                None,
                f"{rule.source} has no record before {at}: its {later:,} record(s) are all "
                f"later (by {rule.anchor})",
            )
        return outcome(
            "fail",
            "",
            None,
            f"{rule.source} has no records with a {rule.anchor}: the source is empty or every "
            "row is unusable (see data_quality)",
        )
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    age = reference - newest
    # exact: whole microseconds against the limit as written (1d is 86400 s, not about it)
    exact = Decimal(age // timedelta(microseconds=1)).scaleb(-6)
    seconds = age / timedelta(seconds=1)
    said = (
        f"{rule.source}: the newest {rule.anchor} ({_local(newest, zone)}) is "
        f"{format_duration(seconds)} old at {at}"
    )
    limits: tuple[tuple[Status, str, Any], ...] = (
        ("fail", "max_age", rule.max_age),
        ("warn", "warn_age", rule.warn_age),
    )
    for status, key, limit in limits:
        if limit is not None and exact > limit.exact:
            return outcome(
                status,
                f"{key}: {limit.text}",
                seconds,
                f"{said}, older than {key} {limit.text} ({status}, n={n:,})",
            )
    return outcome("pass", "", seconds, f"{said} (n={n:,})")


def _breach_words(cond: Condition) -> str:
    return {
        "<": "below",
        "<=": "at or below",
        ">": "above",
        ">=": "at or above",
        "between": "within",
        "not between": "outside",
    }[cond.op]


def _threshold_text(cond: Condition, kpi: Kpi) -> str:
    def one(v: float) -> str:
        return format_value(v, kpi.unit)

    if cond.high is not None:
        return f"{one(cond.low.value)} and {one(cond.high.value)}"
    return one(cond.low.value)


def rule_text(check: CheckConfig) -> str:
    """All conditions of a rule as written: `fail > 1h; warn > 45m`, `max_age 1d`."""
    if check.freshness is not None:
        ages = (("max_age", check.freshness.max_age), ("warn_age", check.freshness.warn_age))
        return "; ".join(f"{key} {q.text}" for key, q in ages if q is not None)
    parts = [
        f"{key} {cond.text}"
        for key, cond in (
            ("fail", check.fail),
            ("warn", check.warn),
            ("change", check.change),
            ("change_abs", check.change_abs),
        )
        if cond is not None
    ]
    return "; ".join(parts)


# --- the records behind a failure ---------------------------------------------------------


def breach_records(
    config: Config, result: CheckResult, *, strict: bool = False, limit: int = 10_000
) -> pl.DataFrame:
    """One row per record behind each failed rule × group (warned ones too with `strict`,
    which fails them), at most `limit` per outcome, with the record's dimensions. A stale
    source (a freshness rule) has no records behind it: its newest record is in the message."""
    from cscli.engine import engine_for

    statuses = ("fail", "warn") if strict else ("fail",)
    breaches = [
        Breach(o.kpi, o.check.by, o.group, o.condition, o.check.name, o.group_label, o.status)
        for o in result.outcomes
        if o.status in statuses and o.kpi is not None
    ]
    engine = engine_for(config)
    try:
        return engine.records(breaches, result.period, limit)
    finally:
        engine.close()
