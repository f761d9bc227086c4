"""Docs that are generated or promised stay true: the KPI catalogue, the README, --help."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cscli.api import kpi_catalog
from cscli.cli import app
from cscli.render.catalog import catalog_markdown
from tests.conftest import ROOT


def test_kpi_docs_match_the_registry() -> None:
    on_disk = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    assert on_disk == catalog_markdown(kpi_catalog()), (
        "docs/kpis.md drifted from the registry: run `cscli kpis --format md > docs/kpis.md`"
    )


def test_every_kpi_has_a_definition_and_title() -> None:
    for d in kpi_catalog():
        assert d.title and d.short and len(d.definition) > 30, d.id
        for p in d.params:
            assert p.doc, f"{d.id}.{p.name}"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    runner = CliRunner()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    assert commands
    for name in commands:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert f"cscli {name}" in readme, f"`cscli {name}` is not documented in README.md"


def quickstart() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S)
    assert block, "the Quickstart has a code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_has_exactly_two_commands() -> None:
    commands = quickstart()
    assert len(commands) == 2
    assert "pip install" in commands[0] and "cscli report --demo" in commands[0]
    assert commands[1].startswith("pytest") or "pytest" in commands[1]


@pytest.mark.skipif(
    not (ROOT / "sample_data" / "tickets.csv").exists(), reason="sample data not generated"
)
def test_quickstart_runs() -> None:
    # The install step has already run (the suite runs on the installed package); execute the
    # rest of the first command exactly as written, in a real process, outside the checkout.
    first = quickstart()[0]
    steps = [s.strip() for s in first.split("&&") if "pip install" not in s]
    for step in steps:
        argv = shlex.split(step)
        assert argv[0] == "cscli"
        proc = subprocess.run(
            [sys.executable, "-m", "cscli", *argv[1:]],
            capture_output=True,
            text=True,
            cwd="/",
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "First response time" in proc.stdout


def test_help_imports_neither_polars_nor_rich() -> None:
    # `cscli --help` must start fast: polars loads only inside commands, rich (~20 ms) only
    # when something is printed through it (the help is click's plain text)
    code = (
        "import contextlib, io, sys\n"
        "sys.argv = ['cscli', '--help']\n"
        "from cscli.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
        "    main()\n"
        "assert 'Usage: cscli' in out.getvalue(), out.getvalue()\n"
        "print(sorted(m for m in ('polars', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_catalogue_does_not_import_polars() -> None:
    # `cscli kpis` reads only the registry: the engine loads with the first verb that computes
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cscli.cli import app\n"
        "result = CliRunner().invoke(app, ['kpis', '--format', 'md'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print('polars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
