"""The dependency rules of docs/architecture.md, checked on the source (an AST walk).

An import counts when it runs at import time or inside a function; imports under
`if TYPE_CHECKING:` are annotations only and do not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "cscli"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> Iterator[tuple[str, bool]]:
    """(imported module, at module level) for every import outside TYPE_CHECKING blocks."""

    def walk(node: ast.AST, top: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                yield from (x for n in child.orelse for x in walk(n, top))
                continue
            if isinstance(child, ast.Import):
                yield from ((a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                yield base, top
                yield from ((f"{base}.{a.name}", top) for a in child.names)
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner)

    yield from walk(tree, True)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports_of(name: str, *, top_only: bool = False) -> set[str]:
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = _imports(ast.parse(path.read_text(encoding="utf-8")), package)
    return {m for m, top in found if top or not top_only}


def uses(name: str, target: str, *, top_only: bool = False) -> bool:
    return any(
        m == target or m.startswith(target + ".") for m in imports_of(name, top_only=top_only)
    )


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def matching(*packages: str) -> list[str]:
    return [m for m in MODULES if any(in_package(m, p) for p in packages)]


#: the engine-neutral layers: what a result, a KPI, a derivation or an adapter *is*, and how a
#: result is shown; they never load polars, so another engine can stand in for it
NEUTRAL = (
    "cscli.results",
    "cscli.render",
    "cscli.checks",
    "cscli.kpis",
    "cscli.derived",
    "cscli.availability",
    "cscli.engine.base",
    "cscli.engine.canonical",
    "cscli.adapters",
    "cscli.business_hours",
    "cscli.quality",
    "cscli.suggest",
    "cscli.errors",
    "cscli.units",
    "cscli.period",
    "cscli.conditions",
    "cscli.schema",
    "cscli.cli",
    "cscli.erlang",
)
#: the flat frame edge: CSV and Parquet are written from the result's polars tables
FLAT_EDGE = ("cscli.render.tabular", "cscli.render.safe")
#: modules that decide which engine computes; only these may name the polars engine, and
#: `checks` only inside the functions that fetch records or newest times
ENGINE_CHOOSERS = ("cscli.pipeline", "cscli.api", "cscli.validate", "cscli.scaffold")


def test_nothing_imports_the_cli() -> None:
    importers = [m for m in MODULES if m not in ("cscli.cli", "cscli.__main__")]
    assert [m for m in importers if uses(m, "cscli.cli")] == []


def test_neutral_layers_import_no_polars() -> None:
    offenders = [
        m
        for m in matching(*NEUTRAL)
        if m not in FLAT_EDGE and (uses(m, "polars") or uses(m, "pyarrow"))
    ]
    assert offenders == []
    # the flat edge loads polars only when a file is written
    assert [
        m for m in FLAT_EDGE if m != "cscli.render.tabular" and uses(m, "polars", top_only=True)
    ] == []


#: the SQL engines' tree builders (#15): sqlglot trees only; the polars frames of results are
#: built by the SQL engine and its runners
SQL_TREES = (
    "cscli.engine.sql.dialect",
    "cscli.engine.sql.text",
    "cscli.engine.sql.compile",
    "cscli.engine.sql.kinds",
    # the derivation builders (the sentiment lookup's frame is the one polars among them)
    "cscli.engine.sql.derive",
    "cscli.engine.sql.derive.common",
    "cscli.engine.sql.derive.contacts",
    "cscli.engine.sql.derive.lifecycle",
    "cscli.engine.sql.derive.surveys",
    "cscli.engine.sql.derive.threads",
)


def test_the_sql_tree_builders_import_no_polars() -> None:
    assert [m for m in SQL_TREES if m not in MODULES] == []
    banned = ("polars", "pyarrow", "cscli.engine.polars")
    assert [m for m in SQL_TREES if any(uses(m, b) for b in banned)] == []


def test_only_the_engine_choosers_name_the_polars_engine() -> None:
    outside = [m for m in MODULES if not in_package(m, "cscli.engine.polars")]
    at_import = [m for m in outside if uses(m, "cscli.engine.polars", top_only=True)]
    assert sorted(at_import) == sorted(c for c in ENGINE_CHOOSERS if c in at_import)
    neutral = [m for m in matching(*NEUTRAL) if m != "cscli.checks"]
    assert [m for m in neutral if uses(m, "cscli.engine.polars")] == []


def test_the_engine_does_not_reach_up() -> None:
    """The engine computes; it does not plan, decide availability, render or choose outputs."""
    upward = (
        "cscli.pipeline",
        "cscli.availability",
        "cscli.api",
        "cscli.render",
        "cscli.checks",
        "cscli.results",
    )
    offenders = {
        m: sorted(u for u in upward if uses(m, u))
        for m in matching("cscli.engine")
        if any(uses(m, u) for u in upward)
    }
    assert offenders == {}


def test_rich_stays_in_the_cli_and_the_renderers() -> None:
    users = [m for m in MODULES if uses(m, "rich")]
    assert [m for m in users if not (m == "cscli.cli" or in_package(m, "cscli.render"))] == []


def test_no_import_cycles() -> None:
    graph = {
        m: {x for x in imports_of(m, top_only=True) if x in MODULES and x != m} for m in MODULES
    }
    # a module that imports a package's submodule also runs the package's __init__
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        if m in path:
            cycle = (*path[path.index(m) :], m)
            raise AssertionError(" → ".join(cycle))
        if m in done:
            return
        for x in sorted(graph[m]):
            visit(x, (*path, m))
        done.add(m)

    for m in sorted(MODULES):
        visit(m, ())


def test_modules_stay_small() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > 500} == {}
