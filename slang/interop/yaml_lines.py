"""YAML -> plain data that remembers where each key and item was written.

A warning about an OpenSLO or Sloth document must point at the field it is about (`file:line:col`
with the line shown), so the loader keeps positions. It is PyYAML's `SafeLoader` (no arbitrary
objects are ever constructed) with two changes: mappings and sequences are built as `LineDict` /
`LineList`, plain `dict` / `list` subclasses that carry the positions, and plain scalars that look
like timestamps stay strings (`startTime: 2022-01-01 12:00:00` is text in OpenSLO, and the schema
says so).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from slang.diagnostics import Diagnostic, error
from slang.syntax.span import Span

Pos = tuple[int, int]  # 1-based line and column


class LineDict(dict[Any, Any]):
    """A mapping with the position of the mapping itself and of each key."""

    pos: Pos = (0, 0)

    def __init__(self) -> None:
        super().__init__()
        self.key_pos: dict[Any, Pos] = {}


class LineList(list[Any]):
    """A sequence with the position of the sequence and of each item."""

    pos: Pos = (0, 0)

    def __init__(self) -> None:
        super().__init__()
        self.item_pos: list[Pos] = []


class _Loader(yaml.SafeLoader):
    pass


# No implicit timestamps: copy the resolvers without the timestamp one.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mark(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.pos = _mark(node)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_pos[key] = _mark(key_node)


def _seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.pos = _mark(node)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_pos.append(_mark(item))


_Loader.add_constructor("tag:yaml.org,2002:map", _map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _seq)


@dataclass(frozen=True)
class Document:
    """One YAML document of a file; `index` counts from 0 within the file."""

    file: str
    index: int
    data: Any


def load_documents(text: str, file: str, code: str) -> tuple[list[Document], list[Diagnostic]]:
    """Every document of a (multi-document) YAML text; a syntax error becomes diagnostic `code`
    at the place PyYAML reports, and nothing of that file is returned."""
    try:
        docs = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [error(code, f"not valid YAML: {problem}", Span(file, line, col, line, col + 1),
                          "fix the YAML syntax; `yamllint` points at the same place")]
    return [Document(file, i, d) for i, d in enumerate(docs)], []


def position(data: Any, path: tuple[Any, ...]) -> Pos:
    """Where the value at `path` (keys and indices) was written, or its nearest ancestor."""
    pos = getattr(data, "pos", (0, 0))
    node = data
    for step in path:
        if isinstance(node, LineDict) and step in node:
            pos = node.key_pos.get(step, pos)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            pos = node.item_pos[step]
            node = node[step]
        else:
            break
    return pos


def span_at(file: str, data: Any, path: tuple[Any, ...]) -> Span:
    line, col = position(data, path)
    width = len(str(path[-1])) if path and isinstance(path[-1], str) else 1
    return Span(file, line, col, line, col + width)


def field_name(path: tuple[Any, ...]) -> str:
    """`spec.objectives[0].target`: how a field is named in messages."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(document)"
