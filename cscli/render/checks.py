"""`cscli check` output: terminal table, JSON, JUnit XML, GitHub annotations, Markdown."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cscli import __version__
from cscli.checks import CheckOutcome, CheckResult, rule_text
from cscli.output import append_text
from cscli.render import safe
from cscli.render.annotations import (
    Level,
    annotation,
    finding_annotations,
    finding_text,
)
from cscli.render.annotations import (
    escape_data as escape_data,
)
from cscli.render.annotations import (
    escape_property as escape_property,
)
from cscli.units import format_value

STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skipped": "dim"}
ICON = {"pass": "✓", "warn": "!", "fail": "✗", "skipped": "–"}


def _period(result: CheckResult) -> str:
    start, end = result.effective_period
    return f"{start or '…'} → {end or '…'}"


def verdict_line(result: CheckResult) -> str:
    counts = ", ".join(
        f"{result.count(s)} {s}" for s in ("fail", "warn", "pass", "skipped") if result.count(s)
    )
    line = f"{result.status.upper()}: {counts} ({len(result.outcomes)} rule × group results)"
    if result.all_skipped:
        line += "; nothing was checked: every result is skipped"
    return line


def render_table(result: CheckResult, console: Console) -> None:
    header = Text()
    header.append("cscli check", style="bold")
    header.append(f"  {_period(result)}")
    console.print(header)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("status")
    table.add_column("rule")
    table.add_column("group", style="cyan")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right", style="dim")
    table.add_column("condition")
    skipped: dict[tuple[str, str], list[CheckOutcome]] = {}
    for o in result.outcomes:
        if o.status == "skipped" and o.group:
            # many small groups below min_count would drown the table: one line per rule below
            skipped.setdefault((o.check.name, _skip_reason(o)), []).append(o)
            continue
        table.add_row(
            Text(f"{ICON[o.status]} {o.status}", style=STYLE[o.status]),
            safe.text(o.check.name),
            safe.text(o.group_label),
            format_value(o.value, o.unit),
            f"{o.n:,}",
            safe.text(o.rule or rule_text(o.check)),
        )
    console.print(table)
    for (name, why), outs in skipped.items():
        console.print(
            safe.text(
                f"– {name}: {len(outs)} group(s) skipped ({why}): "
                + ", ".join(o.group_label for o in outs[:5])
                + (", …" if len(outs) > 5 else ""),
                style="dim",
            )
        )
    for o in result.outcomes:
        if o.status == "skipped" and not o.group:
            console.print(safe.text(f"{ICON[o.status]} {o.message}", style=STYLE[o.status]))
    for o in result.outcomes:
        if o.status in ("fail", "warn"):
            console.print(safe.text(f"{ICON[o.status]} {o.message}", style=STYLE[o.status]))
    console.print(Text(verdict_line(result), style=STYLE[result.status]))


def _skip_reason(o: CheckOutcome) -> str:
    if o.n < o.check.min_count:
        return f"fewer than min_count {o.check.min_count} records"
    if o.value is None:
        return "no value"
    return "change not judged: no previous value"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _group(o: CheckOutcome) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in o.group.items()}


def check_document(result: CheckResult) -> dict[str, Any]:
    start, end = result.effective_period
    return {
        "tool": "cscli",
        "version": __version__,
        "status": result.status,
        "period": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        "checks": [
            {
                "name": o.check.name,
                "kpi": o.kpi.id if o.kpi is not None else None,
                "source": o.source,
                "group": _group(o),
                "value": _clean(o.value),
                "n": o.n,
                "previous": _clean(o.previous),
                "rule": rule_text(o.check),
                "breached": o.rule or None,
                "status": o.status,
                "message": o.message,
                "line": o.check.line,
            }
            for o in result.outcomes
        ],
        "data_quality": [
            {"source": q.source, "issue": q.issue, "rows": q.rows} for q in result.data_quality
        ],
    }


def render_json(result: CheckResult) -> str:
    return safe.json_text(check_document(result), indent=2, allow_nan=False) + "\n"


# --- JUnit --------------------------------------------------------------------------------


def render_junit(result: CheckResult, *, strict: bool = False) -> str:
    """One testcase per rule × group; `classname` is the rule. The explanation is in the
    failure body as well as its message attribute, because GitLab shows only the body. A warn
    passes (its message in system-out) unless `strict`."""
    failures = sum(
        1 for o in result.outcomes if o.status == "fail" or (strict and o.status == "warn")
    )
    skipped = result.count("skipped")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "")
    suites = ET.Element(
        "testsuites",
        name="cscli check",
        tests=str(len(result.outcomes)),
        failures=str(failures),
        errors="0",
        time="0",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"cscli check {Path(result.config_path).name}",
        tests=str(len(result.outcomes)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time="0",
        timestamp=stamp,
    )
    props = ET.SubElement(suite, "properties")
    start, end = result.effective_period
    for name, value in (
        ("config", result.config_path),
        ("from", start.isoformat() if start else ""),
        ("to", end.isoformat() if end else ""),
        ("cscli", __version__),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for o in result.outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=o.check.name,
            name=f"{o.subject} [{o.group_label}]",
            time="0",
        )
        if o.status == "fail" or (strict and o.status == "warn"):
            failure = ET.SubElement(case, "failure", message=o.message, type=o.status)
            failure.text = _junit_body(o)
        elif o.status == "skipped":
            ET.SubElement(case, "skipped", message=o.message)
        elif o.status == "warn":
            out = ET.SubElement(case, "system-out")
            out.text = f"WARN: {_junit_body(o)}"
    for element in suites.iter():  # any control character in names or data: still well-formed
        for key, value in element.attrib.items():
            element.set(key, safe.xml(value))
        if element.text:
            element.text = safe.xml(element.text)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _junit_body(o: CheckOutcome) -> str:
    if o.kpi is None:
        return "\n".join(
            [
                o.message,
                f"rule: {o.check.name} ({rule_text(o.check)})",
                f"freshness: the age of the newest {o.subject}",
                f"value: {format_value(o.value, o.unit)} (n={o.n:,})",
                "definition: the time from the newest record's anchor to the end of --to "
                "(or now); records after that instant are not counted",
            ]
        )
    lines = [
        o.message,
        f"rule: {o.check.name} ({rule_text(o.check)})",
        f"kpi: {o.kpi.id} — {o.kpi.title}",
        f"group: {o.group_label}",
        f"value: {format_value(o.value, o.unit)} (n={o.n:,})",
    ]
    if o.previous is not None:
        lines.append(f"previous: {format_value(o.previous, o.unit)}")
    lines.append(f"definition: {o.kpi.definition}")
    return "\n".join(lines)


# --- GitHub Actions -----------------------------------------------------------------------


def render_github(result: CheckResult, *, strict: bool = False) -> str:
    """`::error`/`::warning` annotations pointing at each rule's line in the config, and one
    `::warning` per data-quality finding at its first row."""
    lines = []
    for o in result.outcomes:
        if o.status == "fail" or (o.status == "warn" and strict):
            level: Level = "error"
        elif o.status == "warn":
            level = "warning"
        else:
            continue
        title = f"SLA {o.status}: {o.check.name}"
        lines.append(
            annotation(level, o.message, file=result.config_path, line=o.check.line, title=title)
        )
    lines += finding_annotations(result.data_quality, source_paths(result))
    lines.append(verdict_line(result))
    return "\n".join(lines) + "\n"


def source_paths(result: CheckResult) -> dict[str, str]:
    """The data files' names (as findings name them) → their paths."""
    return {
        path.name: str(path)
        for report in result.reports
        for summary in report.sources
        for path in summary.files
    }


def render_findings(result: CheckResult, console: Console) -> None:
    """The data-quality findings as `data:` notes (stderr), as `report` prints them."""
    for q in result.data_quality:
        console.print(safe.labelled("data:", "yellow", finding_text(q)), soft_wrap=True)


# --- Markdown -----------------------------------------------------------------------------


def render_markdown(result: CheckResult) -> str:
    """A table for a PR comment, a chat message or `$GITHUB_STEP_SUMMARY`."""
    emoji = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skipped": "⏭️"}
    lines = [
        f"### cscli check: {emoji[result.status]} {result.status.upper()}",
        "",
        f"Period {_period(result)} · {verdict_line(result).split(': ', 1)[1]}",
        "",
        "| status | rule | group | value | n | condition |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for o in result.outcomes:
        lines.append(
            f"| {emoji[o.status]} {o.status} | {safe.markdown(o.check.name)} | "
            f"{safe.markdown(o.group_label)} | {format_value(o.value, o.unit)} | {o.n:,} | "
            f"{safe.markdown(o.rule or rule_text(o.check))} |"
        )
    failing = [o for o in result.outcomes if o.status in ("fail", "warn")]
    if failing:
        lines += ["", *(f"- {emoji[o.status]} {safe.markdown(o.message)}" for o in failing)]
    return "\n".join(lines) + "\n"


def append_step_summary(result: CheckResult) -> None:
    """Under GitHub Actions, append the Markdown table to `$GITHUB_STEP_SUMMARY` (the job's
    summary page, which other steps write too: appended, not replaced); elsewhere nothing."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        append_text(Path(summary), render_markdown(result), name="$GITHUB_STEP_SUMMARY")
