"""The config's YAML read with the safe loader, keeping the position of every key and value.

`load_yaml` composes the node tree (bounded: aliases, nesting depth, nodes reached) and
builds plain data from it, recording for every path the 1-based (line, column) of its value
and of its mapping key, and the source span of every scalar, so that a problem found later in
the data can name `file:line:column`. Objects are never constructed from tags: an unknown
`!tag` is invalid YAML, as with `yaml.safe_load`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from cscli.errors import ConfigProblem

#: a path in the config's data: ("sources", "tickets", "columns", "agent"), ("checks", 0)
Path_ = tuple[str | int, ...]

#: limits on what a config's YAML may expand to
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 20_000
MAX_YAML_DEPTH = 50

# C0 controls other than tab and line breaks, DEL, lone surrogates, non-characters
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Marks:
    """1-based (line, column) of every value and every mapping key, by path."""

    values: Mapping[Path_, tuple[int, int]]
    keys: Mapping[Path_, tuple[int, int]]
    #: [start, end) character offsets of every scalar's source text, by path
    scalars: Mapping[Path_, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def at(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int] | None:
        """The position of `path` (of its key when `key`), else of its nearest ancestor."""
        p = tuple(path)
        while True:
            found = (self.keys.get(p) if key else None) or self.values.get(p)
            if found or not p:
                return found
            p = p[:-1]

    def inside(
        self, text: str, path: Sequence[str | int], value: str, offset: int
    ) -> tuple[int, int] | None:
        """Position of character `offset` of the string at `path`, when its source text is the
        string itself (plain or quoted without escapes); else the string's own position."""
        span = self.scalars.get(tuple(path))
        if span is not None:
            raw = text[span[0] : span[1]]
            start = span[0]
            if raw[:1] in ("'", '"') and raw[-1:] == raw[:1]:
                raw, start = raw[1:-1], start + 1
            if raw == value and 0 <= offset <= len(value):
                return position(text, start + offset)
        return self.at(path)


NO_MARKS = Marks({}, {})


def position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character `index` of `text`."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def load_yaml(text: str, file: str) -> tuple[Any, Marks, list[ConfigProblem]]:
    """The data of `text`, its marks, and the problems found in it (data None: unreadable)."""
    bad = _CONTROL.search(text)
    if bad is not None:
        at = position(text, bad.start())
        char = (
            "a NUL character"
            if bad.group() == "\0"
            else f"control character U+{ord(bad.group()):04X}"
        )
        return (
            None,
            NO_MARKS,
            [ConfigProblem(file, *at, f"invalid YAML: {char}; a config is plain text")],
        )
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, NO_MARKS, [ConfigProblem(file, line, col, f"invalid YAML: {e.problem}")]
    except yaml.YAMLError as e:  # a reader error: a character YAML does not allow
        where = getattr(e, "position", None)
        spot: tuple[int | None, int | None] = (None, None)
        if isinstance(where, int):
            spot = position(text, where)
        return None, NO_MARKS, [ConfigProblem(file, spot[0], spot[1], f"invalid YAML: {e}")]
    if node is None:
        return None, NO_MARKS, []
    walk = _Walk(file)
    try:
        data = walk.node(node, ())
    except yaml.YAMLError as e:  # e.g. an unknown !tag: the safe loader refuses it
        mark = getattr(e, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = getattr(e, "problem", None) if isinstance(e, yaml.composer.ComposerError) else e
        return None, NO_MARKS, [ConfigProblem(file, line, col, f"invalid YAML: {message}")]
    return data, Marks(walk.values, walk.keys, walk.scalars), walk.problems


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader with a bound on aliases and nesting (the composer recurses per level)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases (*name)", mark
                )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str) -> yaml.Node | None:
    loader = _BoundedLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


_STANDARD_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}


class _Walk:
    """Node tree → plain data, recording positions by path.

    Aliases make the node tree a graph: every node reached is counted, so that nine aliases of
    nine aliases (an "alias bomb") stop at MAX_YAML_NODES instead of filling the memory.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}
        self.scalars: dict[Path_, tuple[int, int]] = {}
        self.problems: list[ConfigProblem] = []
        self._loader = yaml.SafeLoader("")
        self._walked = 0
        self._open: set[int] = set()

    def node(self, n: yaml.Node, path: Path_) -> Any:
        self._walked += 1
        if self._walked > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"the config expands to more than {MAX_YAML_NODES:,} values "
                "(aliases repeat what they name)",
                n.start_mark,
            )
        if id(n) in self._open:
            raise yaml.composer.ComposerError(
                None, None, "an alias refers to a value that contains it", n.start_mark
            )
        self.values[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if type(n) in _STANDARD_TAGS and n.tag != _STANDARD_TAGS[type(n)]:
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported YAML tag {n.tag!r}", n.start_mark
            )
        if isinstance(n, yaml.MappingNode):
            self._open.add(id(n))
            out = self._mapping(n, path)
            self._open.discard(id(n))
            return out
        if isinstance(n, yaml.SequenceNode):
            self._open.add(id(n))
            items = [self.node(v, (*path, i)) for i, v in enumerate(n.value)]
            self._open.discard(id(n))
            return items
        self.scalars[path] = (n.start_mark.index, n.end_mark.index)
        return self._loader.construct_object(n, deep=True)

    def _mapping(self, n: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in n.value:
            key = (
                self._loader.construct_object(k, deep=True)
                if isinstance(k, yaml.ScalarNode)
                else None
            )
            at = (k.start_mark.line + 1, k.start_mark.column + 1)
            if not isinstance(key, str | int | float | bool):
                self.problems.append(
                    ConfigProblem(self.file, *at, "mapping keys must be plain words")
                )
                continue
            key = str(key)
            if key in out:
                self.problems.append(ConfigProblem(self.file, *at, f"duplicate key {key!r}"))
            self.keys[(*path, key)] = at
            out[key] = self.node(v, (*path, key))
        return out
