"""Which data each logical table is read from: `--data NAME=PATH` and `--bind bindings.yaml`.

Policies never name files: a source says `from "edge_requests"` and the command line binds that
logical table to a path at run time, so the same policies audit production, a test fixture or a
replayed incident. This module only turns what a person typed into `{table: path}`; whether the
path exists and holds usable data is `slang.engine.data`'s job (SLG0603-SLG0608), because that
is where the file is opened anyway and where the source that needs it is known.

A path is a file, a directory (every data file under it, as one dataset) or a glob
(`data/requests/*.parquet`). A bindings file may also force a format for files whose extension
does not tell; the path then comes back as a `Binding`, a `str` that carries `.format`, so that
callers which only want paths need not know about formats at all.

Codes: SLG0601 a malformed `--data` option, SLG0602 an invalid bindings file.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Collection, Iterable
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml

from slang.diagnostics import Diagnostic, SlangError, error
from slang.syntax.span import COMMAND_LINE_SPAN, Span

if TYPE_CHECKING:
    from slang.semantics.model import Model

FORMATS = ("parquet", "ipc", "csv", "jsonl")
DATA_EXAMPLE = "--data edge_requests=data/edge/"


class Binding(str):
    """A bound path that also says which reader to use (`format`, None: by extension).

    A `str` subclass so that `{table: Binding}` is still the `{table: path}` every caller
    expects; `read_source` honours `.format` when it is given one of these.
    """

    format: str | None

    def __new__(cls, path: str, format: str | None = None) -> Binding:
        obj = super().__new__(cls, path)
        obj.format = format
        return obj

    def __repr__(self) -> str:
        return f"Binding({str(self)!r}, format={self.format!r})"


def _cli_span() -> Span:
    return COMMAND_LINE_SPAN


def parse_data_options(values: Iterable[str]) -> dict[str, str]:
    """`--data NAME=PATH`, repeatable, into `{NAME: PATH}`.

    NAME is a logical table name (what a source writes after `from`), PATH is kept exactly as
    typed (relative to the current directory) so that evidence shows what the person gave.
    Every malformed option is reported at once (SLG0601), not just the first.
    """
    out: dict[str, str] = {}
    diags: list[Diagnostic] = []
    for raw in values:
        name, sep, path = raw.partition("=")
        name, path = name.strip(), path.strip()
        if not sep:
            diags.append(error(
                "SLG0601", f"--data `{raw}` is not NAME=PATH", _cli_span(),
                "name the logical table the source reads (`from \"...\"`) and its data, e.g. "
                f"`{DATA_EXAMPLE}`",
            ))
        elif not name:
            diags.append(error(
                "SLG0601", f"--data `{raw}` has no table name before `=`", _cli_span(),
                f"write the table name a source reads from, e.g. `{DATA_EXAMPLE}`",
            ))
        elif not path:
            diags.append(error(
                "SLG0601", f"--data `{raw}` has no path after `=`", _cli_span(),
                "give a file, a directory or a glob, e.g. "
                f"`--data {name}=data/{name}.parquet`",
            ))
        elif name in out and out[name] != path:
            diags.append(error(
                "SLG0601", f"table `{name}` is bound twice: `{out[name]}` and `{path}`",
                _cli_span(),
                "bind each table once; for several files use a directory or a glob, e.g. "
                f"`--data {name}='data/{name}/*.parquet'`",
            ))
        else:
            out[name] = path
    if diags:
        raise SlangError(diags)
    return out


@cache
def bindings_schema() -> dict[str, Any]:
    """The published JSON Schema of bindings files (shipped in the package)."""
    text = files("slang").joinpath("schemas", "bindings.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def load_bindings_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a bindings YAML file into `{table: path}` (values are `Binding`s).

    `yaml.safe_load` only: a bindings file is data and must not be able to build objects.
    Relative paths are relative to the YAML file, so a repository can keep its bindings next to
    its data and be audited from any directory; the result stays relative to the current
    directory when the YAML path was, which keeps evidence paths short and portable.
    Problems are SLG0602, each naming the field (`tables.edge_requests.format`) and pointing at
    its line.
    """
    shown = Path(path).as_posix()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SlangError([error(
            "SLG0602", f"cannot read bindings file {shown}: {reason}", Span(shown, 0, 0, 0, 0),
            "pass --bind with a YAML file such as `version: 1` and `tables: {edge_requests: "
            "data/edge/}`",
        )]) from None
    try:
        doc = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SlangError([error(
            "SLG0602", f"bindings file {shown} is not valid YAML: {problem}",
            Span(shown, line, col, line, col + 1) if line else Span(shown, 0, 0, 0, 0),
        )]) from None

    validator = jsonschema.Draft202012Validator(bindings_schema())
    problems = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if problems:
        raise SlangError([_schema_diagnostic(e, shown, root) for e in problems])

    base = os.path.dirname(os.fspath(path))
    out: dict[str, str] = {}
    for name, value in doc["tables"].items():
        raw, fmt = (value, None) if isinstance(value, str) else (value["path"], value.get("format"))
        raw = os.path.expanduser(raw)
        resolved = raw if os.path.isabs(raw) else os.path.normpath(os.path.join(base, raw))
        out[str(name)] = Binding(Path(resolved).as_posix(), fmt)
    return out


def merge_bindings(*layers: dict[str, str]) -> dict[str, str]:
    """Later layers win: `--data` given on the command line overrides a `--bind` file's entry
    for the same table, which is how a person swaps one table for a fixture."""
    out: dict[str, str] = {}
    for layer in layers:
        out.update(layer)
    return out


def bindings_from_options(bind: str | None, data: Iterable[str],
                          read: Collection[str] | None = None) -> dict[str, str]:
    """The tables of a command line: the `--bind FILE` entries, then `--data NAME=PATH`
    (which wins), as every command that reads data takes them.

    `read` is the tables the estate's sources read: a `--data` NAME outside it is SLG0601, so
    a misspelt override (`--data edge_request=fixed.parquet`) is never silently passed over
    while the bindings file's own entry is audited. A bindings file may bind more tables (one
    file can serve several estates)."""
    options = parse_data_options(data)
    if read is not None:
        unread = [_unread_table(name, read) for name in options if name not in read]
        if unread:
            raise SlangError(unread)
    layers = [load_bindings_file(bind)] if bind else []
    return merge_bindings(*layers, options)


def tables_read(*models: Model) -> set[str]:
    """The tables the sources of these models read (`from \"NAME\"`)."""
    return {source.table for model in models for source in model.sources.values()}


def _unread_table(name: str, read: Collection[str]) -> Diagnostic:
    close = difflib.get_close_matches(name, sorted(read), n=1, cutoff=0.6)
    return error(
        "SLG0601", f"--data `{name}=...`: no source reads table `{name}`", _cli_span(),
        (f"did you mean `{close[0]}`? " if close else "")
        + f"the sources read: {', '.join(sorted(read)) or 'no table'}",
    )


# ------------------------------------------------------------------------------ diagnostics


def _schema_diagnostic(e: jsonschema.ValidationError, shown: str, root: Any) -> Diagnostic:
    """One SLG0602 per schema violation, phrased for a person and pointing at the YAML line."""
    where = list(e.absolute_path)
    field = ".".join(str(p) for p in where) or "(top level)"
    validator = e.validator
    hint = None
    if validator == "required":
        missing = str(e.message).split("'")[1] if "'" in e.message else str(e.message)
        field = ".".join([*(str(p) for p in where), missing]) if where else missing
        message = f"`{field}` is required"
        hint = "a bindings file starts with `version: 1` and a `tables:` mapping"
    elif validator == "additionalProperties" and isinstance(e.instance, dict):
        known = e.schema.get("properties", {}) if isinstance(e.schema, dict) else {}
        extra = [str(k) for k in e.instance if k not in known]
        where = [*where, extra[0]] if extra else where
        field = ".".join(str(p) for p in where)
        message = f"unknown field `{field}`"
        allowed = ", ".join(f"`{k}`" for k in known)
        hint = f"allowed here: {allowed}" if allowed else None
    elif validator == "const" and where == ["version"]:
        message = f"`version` must be 1, not {e.instance!r}"
    elif validator == "oneOf" and len(where) == 2 and where[0] == "tables":
        sub = _deepest(e)
        if sub is not None and isinstance(e.instance, dict):
            return _schema_diagnostic(sub, shown, root)
        message = (f"`{field}` must be a path or a mapping with `path` (and `format`), "
                   f"not {_yaml_kind(e.instance)}")
        hint = f"e.g. `{where[1]}: data/{where[1]}.parquet`"
    elif validator == "enum" and where[-1:] == ["format"]:
        message = f"`{field}` is {e.instance!r}, not a known format"
        hint = "formats: " + ", ".join(FORMATS)
    elif validator == "minProperties" and where == ["tables"]:
        message = "`tables` binds no table"
        hint = "add e.g. `edge_requests: data/edge/`"
    elif validator == "type":
        wanted = {"object": "a mapping", "string": "a string"}.get(
            str(e.validator_value), str(e.validator_value))
        message = f"`{field}` must be {wanted}, not {_yaml_kind(e.instance)}"
    elif validator == "minLength":
        message = f"`{field}` is empty"
    else:
        message = f"`{field}`: {e.message}"
    line, col = _locate(root, where)
    span = Span(shown, line, col, line, col + 1) if line else Span(shown, 0, 0, 0, 0)
    return error("SLG0602", f"bindings file {shown}: {message}", span, hint)


def _deepest(e: jsonschema.ValidationError) -> jsonschema.ValidationError | None:
    """Of a oneOf's failures, the mapping alternative's (a mapping was evidently meant)."""
    inside = [c for c in e.context or () if list(c.relative_schema_path)[:1] == [1]
              and c.validator != "type"]
    return inside[0] if inside else None


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _locate(node: Any, where: list[Any]) -> tuple[int, int]:
    """1-based line and column of the YAML node at `where` (its key for mapping entries), or
    the deepest node found; (0, 0) when the file is empty."""
    if node is None:
        return 0, 0
    best = (node.start_mark.line + 1, node.start_mark.column + 1)
    for step in where:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(step):
                    best = (key.start_mark.line + 1, key.start_mark.column + 1)
                    node = value
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return best
            node = node.value[step]
            best = (node.start_mark.line + 1, node.start_mark.column + 1)
        else:
            return best
    return best
