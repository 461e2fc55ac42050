"""What the importers and exporters share: reading input files, coded warnings at YAML fields,
durations, percentages and the result type."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from slang.diagnostics import Diagnostic, SourceCache, error, warning
from slang.interop.slang_writer import FilePlan, Names, render
from slang.interop.yaml_lines import Document, field_name, load_documents, span_at
from slang.syntax.span import COMMAND_LINE_SPAN, Span

# OpenSLO duration shorthand units -> seconds (months, quarters and years have no fixed length).
SHORTHAND_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
SHORTHAND = re.compile(r"^([0-9]+)([mhdwMQY])$")


@dataclass
class Issues:
    """Diagnostics of one run, with the texts of the files they point into."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: SourceCache = field(default_factory=SourceCache)

    def warn(self, code: str, doc: Document, path: tuple[Any, ...], message: str,
             hint: str | None = None) -> None:
        span = span_at(doc.file, doc.data, path)
        text = f"`{field_name(path)}`: {message}" if path else message
        self.diagnostics.append(warning(code, text, span, hint))

    def fail(self, code: str, doc: Document, path: tuple[Any, ...], message: str,
             hint: str | None = None) -> None:
        span = span_at(doc.file, doc.data, path)
        self.diagnostics.append(error(code, f"`{field_name(path)}`: {message}", span, hint))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity.value == "error"]


@dataclass
class ImportResult:
    """Formatted slang per input file (files that gave nothing are left out) and diagnostics."""

    files: list[tuple[str, str]]
    diagnostics: list[Diagnostic]
    texts: SourceCache

    def combined(self) -> str:
        """All files as one module (their names are unique across the run)."""
        return "\n".join(text for _, text in self.files)


def read_inputs(paths: list[str], issues: Issues, yaml_code: str) -> list[Document]:
    docs: list[Document] = []
    for p in paths:
        try:
            text = Path(p).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            issues.diagnostics.append(error("SLG0002" if isinstance(exc, FileNotFoundError)
                                            else "SLG0001", f"cannot read `{p}`: {reason}",
                                            Span(p, 0, 0, 0, 0)))
            continue
        issues.texts.add(p, text)
        found, diags = load_documents(text, p, yaml_code)
        issues.diagnostics.extend(diags)
        docs.extend(found)
    return docs


def finish(plans: dict[str, FilePlan], issues: Issues, tool: str) -> ImportResult:
    out = []
    for path, plan in plans.items():
        if plan.empty():
            continue
        header = (f"Imported by `slang import {tool}` from {Path(path).name}.\n"
                  "Rows of each source are events with a boolean `good` column (or a numeric "
                  "`value`);\nsee docs/interop.md.")
        out.append((path, render(plan, header)))
    if not out and not issues.errors:
        issues.diagnostics.append(nothing_imported(list(plans), tool))
    diags = sorted(set(issues.diagnostics), key=Diagnostic.sort_key)
    return ImportResult(out, diags, issues.texts)


def nothing_imported(paths: list[str], tool: str) -> Diagnostic:
    """An import that produced no slang at all is an error, not a quiet success: a pipeline
    that imports on every commit must notice when its inputs stopped being what it reads."""
    what = "OpenSLO documents" if tool == "openslo" else "Sloth specs"
    if not paths:
        return error("SLG1010", "nothing to import: no .yaml or .yml files among the inputs",
                     COMMAND_LINE_SPAN, f"give the files (or a directory of .yaml/.yml files) "
                     f"that hold the {what}")
    files = "the input file" if len(paths) == 1 else f"any of the {len(paths)} input files"
    return error("SLG1010", f"nothing to import: slang found no {what} it imports in {files}",
                 COMMAND_LINE_SPAN,
                 "the SLG1003 warnings with it say why each document was skipped")


def new_names() -> Names:
    return Names()


# The schema of each OpenSLO apiVersion: v1 and v1alpha share one file, v2alpha (a different
# document shape: Kubernetes metadata, `sli`, `dataSourceRef`) has its own.
SCHEMA_FILES = {"openslo.com/v2alpha": "openslo-v2alpha.schema.json"}


@cache
def openslo_schema(api_version: str = "openslo/v1") -> dict[str, Any]:
    name = SCHEMA_FILES.get(api_version, "openslo.schema.json")
    text = files("slang").joinpath("schemas", name).read_text("utf-8")
    return json.loads(text)


def schema_errors(data: Any) -> list[jsonschema.ValidationError]:
    """Where `data` departs from the schema of its own apiVersion, shallowest first."""
    api = data.get("apiVersion") if isinstance(data, dict) else None
    validator = jsonschema.Draft202012Validator(openslo_schema(str(api)))
    return sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path),
                                                              list(map(str, e.absolute_path))))


def percent_text(fraction: Decimal) -> str:
    """0.995 -> `99.5`: a fraction as the digits of a slang percentage."""
    return _plain(fraction * 100)


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def decimal_of(value: Any) -> Decimal:
    """A YAML number as the decimal its author wrote (`0.999`, not the nearest double)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def slang_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
