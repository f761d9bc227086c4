"""docs/ci.md stays true: every `cscli check` command on the page runs, with the exit code the
page gives it, and every output block shown after "`COMMAND` prints:" is what COMMAND prints.

The commands run in-process (typer's CliRunner) in a scratch folder laid out as the page
assumes: `configs/` and `sample_data/` of this checkout, the workflow's `cscli.yaml` (the
page's block that starts `# cscli.yaml`) and `exports/` holding the sample files, which is
what the page's export step and its "copy the sample files" step leave. Only the dates that
truly vary are normalised: `$TO` and `$(date … yesterday …)` become 2026-06-30, the sample's
last day. Every YAML block under `checks:` must also load as a config.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cscli.cli import app
from cscli.config import parse_config
from tests.conftest import ROOT

DOC = ROOT / "docs" / "ci.md"
SAMPLE_DAY = "2026-06-30"

pytestmark = pytest.mark.skipif(
    not (ROOT / "sample_data" / "tickets.csv").exists(), reason="sample data not generated"
)


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    #: the paragraph line just before the block
    before: str


def blocks(text: str) -> list[Block]:
    out = []
    for m in re.finditer(r"^( *)```(\w*)\n(.*?)^\1```", text, re.S | re.M):
        indent = len(m.group(1))
        body = "\n".join(line[indent:] for line in m.group(3).splitlines())
        lines = [line for line in text[: m.start()].splitlines() if line.strip()]
        out.append(Block(m.group(2), body, lines[-1] if lines else ""))
    return out


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    env: dict[str, str]
    codes: frozenset[int]
    #: what follows the command on its line: a pipe into json.tool, a `&& cat`
    rest: str
    line: str


_DATES = re.compile(r'"?\$\(date [^)]*yesterday[^)]*\)"?|"?\$TO\b"?')
_COMMAND = re.compile(
    r"(?:(?P<env>[A-Z_]+=\S+)\s+)?(?:[\w./-]*/)?cscli check\b(?P<args>[^|;&)#\n]*)"
)


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def commands(text: str) -> list[Command]:
    """Every `cscli check …` of the page: shell lines, and the `run:`/`script:` strings of
    its CI YAML."""
    found = []
    for block in blocks(text):
        if not block.lang or "cscli check" not in block.body:
            continue  # an unlabelled block is output
        if block.lang == "yaml":
            lines = _strings(yaml.safe_load(block.body))
        else:
            lines = block.body.splitlines()
        for line in lines:
            found += parse_line(line)
    return found


def parse_line(line: str) -> list[Command]:
    line = _DATES.sub(SAMPLE_DAY, " ".join(line.split())).replace(" 2>&1", "")
    found = []
    for m in _COMMAND.finditer(line):
        comment = line.split("#", 1)[1] if "#" in line[m.end() :] else ""
        # "# exit 1: …" is this command's code; "exit 0 pass/warn, 1 fail, 2 error" a legend
        # of several, of which only 0 and 1 are not errors
        said = re.findall(r"\b[012]\b", comment.split("exit", 1)[1]) if "exit" in comment else []
        env = dict([m["env"].split("=", 1)]) if m["env"] else {}
        codes = frozenset({int(said[0])} if len(said) == 1 else {0, 1})
        found.append(Command(tuple(shlex.split(m["args"])), env, codes, line[m.end() :], line))
    return found


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("configs", "sample_data"):
        (tmp_path / name).symlink_to(ROOT / name)
    exports = tmp_path / "exports"
    exports.mkdir()
    for f in (ROOT / "sample_data").iterdir():
        (exports / f.name).symlink_to(f)
    (tmp_path / "cscli.yaml").write_text(workflow_config(DOC.read_text("utf-8")), "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def workflow_config(text: str) -> str:
    (config,) = [b.body for b in blocks(text) if b.body.startswith("# cscli.yaml")]
    return config + "\n"


def run(command: Command) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *command.argv], env=command.env)
    return result.exit_code, result.stdout, result.stderr


def test_the_page_has_the_commands_it_promises() -> None:
    text = DOC.read_text("utf-8")
    found = commands(text)
    assert len(found) >= 15
    # the workflow checks freshness, from the config it shows
    assert "{freshness: tickets, max_age: 1d}" in workflow_config(text)
    workflow = [c for c in found if "--format github" in " ".join(c.argv)]
    assert any(c.argv[:2] == ("-c", "cscli.yaml") for c in workflow)


def test_every_command_runs_with_the_exit_code_the_page_says(scratch: Path) -> None:
    for command in commands(DOC.read_text("utf-8")):
        code, out, err = run(command)
        assert code in command.codes, f"{command.line}\n→ exit {code}\n{err}"
        assert "Traceback" not in err, command.line
        if "json.tool" in command.rest:
            json.loads(out)
        args = list(command.argv)
        for option in ("-o", "--breaches"):
            if option in args:
                assert (scratch / args[args.index(option) + 1]).stat().st_size > 0, command.line
        for name, value in command.env.items():
            if name == "GITHUB_STEP_SUMMARY":
                assert (scratch / value).read_text("utf-8").startswith("### cscli check: ")


def test_every_output_block_is_what_its_command_prints(scratch: Path) -> None:
    shown = [b for b in blocks(DOC.read_text("utf-8")) if b.before.endswith("prints:")]
    assert len(shown) >= 3
    for block in shown:
        m = re.fullmatch(r".*`(cscli check [^`]+)` prints:", block.before)
        assert m, block.before
        (command,) = parse_line(m[1])
        code, out, err = run(command)
        assert code in (0, 1), err
        printed = "\n".join(line.rstrip() for line in out.rstrip("\n").splitlines())
        assert printed == block.body.rstrip("\n"), f"docs/ci.md drifted for `{m[1]}`"


def test_every_rules_block_loads(tmp_path: Path) -> None:
    sources = (ROOT / "configs" / "sample.yaml").read_text("utf-8").split("\nkpis:", 1)[0]
    checked = 0
    for block in blocks(DOC.read_text("utf-8")):
        if block.lang != "yaml" or not re.search(r"^checks:", block.body, re.M):
            continue
        text = block.body if "sources:" in block.body else sources + "\n" + block.body
        config = parse_config(text, ROOT / "configs" / "doc.yaml")
        assert config.checks
        checked += 1
    assert checked == 2  # the rules and the workflow's cscli.yaml
