"""Coded diagnostics: the one error type of slang and its renderers.

Every problem a user can cause is a `Diagnostic` with a stable `SLG` code. Codes are grouped by
layer so that a code tells where to look:

    SLG00xx  files, paths, command-line input
    SLG01xx  syntax (lexer and parser)
    SLG02xx  modules and names (imports, duplicates, unknown references)
    SLG03xx  types, units and literal values
    SLG04xx  meaning of agreements, calendars and catalogues
    SLG05xx  warnings about lifecycle and hygiene
    SLG06xx  data binding and validation (engine)
    SLG07xx  evaluation
    SLG08xx  policy tests (`test` blocks in `*_test.sla` files)
    SLG09xx  evidence bundles, verification and the ledger
    SLG10xx  import and export (OpenSLO, Sloth, Prometheus rules)

`docs/errors.md` documents every code; a test keeps the two in step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from slang.syntax.span import NO_SPAN, Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span = NO_SPAN
    severity: Severity = Severity.ERROR
    hint: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "col": self.span.col,
            "end_line": self.span.end_line,
            "end_col": self.span.end_col,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.file, self.span.line, self.span.col, self.code, self.message)


def error(code: str, message: str, span: Span = NO_SPAN, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.ERROR, hint)


def warning(code: str, message: str, span: Span = NO_SPAN, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.WARNING, hint)


class SlangError(Exception):
    """Raised when a layer cannot go on; carries every diagnostic collected so far."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.code}: {first.message}" if first else "slang error")


class SourceCache:
    """Source texts by file name, so renderers can show the offending line."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str]] = {}

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text.splitlines()

    def line(self, file: str, line: int) -> str | None:
        lines = self._texts.get(file)
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]


def render_text(d: Diagnostic, sources: SourceCache | None = None) -> str:
    """`path:line:col: severity[CODE]: message`, the source line with a caret, then the hint."""
    s = d.span
    where = f"{s.file}:{s.line}:{s.col}" if s.line else s.file
    out = [f"{where}: {d.severity.value}[{d.code}]: {d.message}"]
    src = sources.line(s.file, s.line) if sources and s.line else None
    if src is not None:
        gutter = f"{s.line:>4} | "
        out.append(gutter + src.rstrip("\n"))
        end = s.end_col if s.end_line == s.line and s.end_col > s.col else len(src) + 1
        width = max(1, min(end, len(src) + 1) - s.col)
        out.append(" " * (len(gutter) - 2) + "| " + " " * (s.col - 1) + "^" * width)
    if d.hint:
        out.append(f"  = hint: {d.hint}")
    return "\n".join(out)


def render_text_all(diags: Iterable[Diagnostic], sources: SourceCache | None = None) -> str:
    return "\n\n".join(render_text(d, sources) for d in diags)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps({"diagnostics": [d.to_dict() for d in diags]}, indent=2)


def sorted_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Deterministic order, duplicates removed (two passes may find the same fault)."""
    return sorted(set(diags), key=Diagnostic.sort_key)
