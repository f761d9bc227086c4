"""Fuzz: random and hostile config files never crash cscli (issue #12).

Whatever the YAML, `cscli validate` ends with exit code 0, 1 or 2 and no traceback; loading
raises nothing but ConfigError. Bounded, and derandomised under CI (see conftest's profile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli.cli import app
from cscli.config import parse_config
from cscli.errors import ConfigError

KEYS = [
    "version", "timezone", "sources", "tickets", "calls", "surveys", "path", "filter", "columns",
    "kpis", "id", "kpi", "source", "sql", "type", "numerator", "where", "checks", "fail", "by",
    "report", "grain", "calendars", "extra_columns", "agent", "params", "stat",
]  # fmt: skip
HOSTILE = [
    "agent IN (SELECT x FROM read_csv('/etc/passwd'))",
    " + ".join(["x"] * 3000),
    "read_parquet('x')",
    "(" * 60 + "x" + ")" * 60,
    "posixrules",
    "Factory",
    "period",
    "x__n",
    "9999-12-31",
    "\u202e\u200b",
    "ratio",
    "> 1h",
    "tickets",
    "t.csv",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.sampled_from(KEYS + HOSTILE),
    st.text(max_size=20),
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=25,
)


def _text(tree: Any, noise: str, cut: int) -> str:
    text = yaml.safe_dump(tree, allow_unicode=True)
    if noise:  # splice raw characters (YAML syntax, control characters) into the document
        at = cut % (len(text) + 1)
        text = text[:at] + noise + text[at:]
    return text


documents = st.builds(
    _text,
    st.one_of(trees, st.fixed_dictionaries({"sources": trees}), st.fixed_dictionaries(
        {"sources": st.fixed_dictionaries({"tickets": st.fixed_dictionaries(
            {"path": st.just("t.csv")}, optional={"filter": scalars, "columns": trees})}),
         "kpis": trees, "checks": trees, "timezone": scalars}
    )),
    st.lists(st.sampled_from([*"&*[]{}:-!|>'\"#\n\t \0\x07@%`", "*a", "&a "]), max_size=6).map(
        "".join
    ),
    st.integers(0, 10_000),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(documents)
def test_loading_raises_only_config_errors(text: str) -> None:
    problems: list[str] = []
    try:
        parse_config(text, Path("fuzz.yaml"))
    except ConfigError as e:
        problems = [p.message for p in e.problems] or [""]
    assert all(problems)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(documents)
def test_validate_exits_0_1_or_2_without_a_traceback(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cscli.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    (tmp_path / "t.csv").write_text("ticket_id,created_at\n1,2024-01-01T00:00:00\n")
    result = CliRunner().invoke(app, ["validate", "-c", str(path)])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output, result.output
