"""Lint configuration: which warnings to report and how severe they are.

Read from `[tool.slang.lint]` in a `pyproject.toml` or `[lint]` in a `slang.toml`:

    [tool.slang.lint]
    enable   = ["SLG0510", "SLG0520"]    # when given: report only these codes
    disable  = ["SLG0542"]               # never report these
    severity = { SLG0510 = "error" }     # error | warning | info

Every code named must be a lint code or a warning of `slang.load` (SLG05xx); anything else is
error SLG0020, naming the file, the line and the code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from slang.diagnostics import (
    Diagnostic,
    Severity,
    SlangError,
    SourceCache,
    error,
    sorted_diagnostics,
)
from slang.lint.rules import CONFIGURABLE
from slang.semantics.loader import display_path
from slang.syntax.span import Span

KEYS = ("enable", "disable", "severity")
SEVERITIES = tuple(s.value for s in Severity)


@dataclass(frozen=True)
class LintConfig:
    """`enable`: None reports every code, else only these; `disable` wins over `enable`;
    `severity` overrides the default severity of a code. `path` is where it was read from."""

    enable: frozenset[str] | None = None
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))
    path: str | None = None

    def __post_init__(self) -> None:
        named = set(self.enable or ()) | set(self.disable) | set(self.severity)
        unknown = sorted(named - CONFIGURABLE)
        if unknown:
            raise ValueError(f"not lint codes: {', '.join(unknown)}")
        object.__setattr__(self, "severity", MappingProxyType(
            {code: Severity(s) for code, s in self.severity.items()}))

    def reports(self, code: str) -> bool:
        """Whether a diagnostic with this code is kept. Codes outside SLG05xx (errors of the
        language) are not configurable and always kept."""
        if code not in CONFIGURABLE:
            return True
        if code in self.disable:
            return False
        return self.enable is None or code in self.enable

    def apply(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """Drop what is not reported and set the configured severities."""
        out = []
        for d in diagnostics:
            if not self.reports(d.code):
                continue
            wanted = self.severity.get(d.code)
            out.append(d if wanted is None or wanted is d.severity else replace(d, severity=wanted))
        return out


def find_config(start: Path) -> Path | None:
    """The file that configures lint for `start` (a file or a directory): walking up from it,
    the first `slang.toml`, or `pyproject.toml` with a `[tool.slang]` table; in one directory
    `slang.toml` comes first. The walk stops at the repository's top (a directory holding
    `.git`)."""
    here = start.resolve()
    if here.is_file():
        if here.name in ("slang.toml", "pyproject.toml"):
            return here
        here = here.parent
    for d in (here, *here.parents):
        if (d / "slang.toml").is_file():
            return d / "slang.toml"
        pyproject = d / "pyproject.toml"
        if pyproject.is_file() and "slang" in _read(pyproject)[1].get("tool", {}):
            return pyproject
        if (d / ".git").exists():
            return None
    return None


def load_config(start: Path, *, texts: SourceCache | None = None) -> LintConfig:
    """The lint configuration for `start`, or the defaults when there is none. A bad file raises
    `SlangError` with SLG0020 (`texts`, if given, receives the file's text so the error can show
    the line)."""
    path = find_config(Path(start))
    if path is None:
        return LintConfig()
    shown = display_path(path)
    text, doc = _read(path)
    if texts is not None:
        texts.add(shown, text)
    if path.name == "pyproject.toml":
        section, table = "[tool.slang.lint]", doc.get("tool", {}).get("slang", {}).get("lint", {})
    else:
        section, table = "[lint]", doc.get("lint", {})
    return _parse(table, section, shown, text)


def _read(path: Path) -> tuple[str, dict]:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SlangError([error("SLG0020", f"cannot read the lint configuration: {exc}",
                                Span(shown, 0, 0, 0, 0))]) from exc
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        lines = text.splitlines()
        if where:
            line, col = int(where[1]), int(where[2])
        elif "(at end of document)" in str(exc) and lines:
            line, col = len(lines), len(lines[-1]) + 1
        else:
            line = col = 0
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise SlangError([error(
            "SLG0020", f"{path.name} is not valid TOML: {message}",
            Span(shown, line, col, line, col + 1 if line else 0),
        )]) from exc


def _parse(table: object, section: str, shown: str, text: str) -> LintConfig:
    problems: list[Diagnostic] = []

    def bad(message: str, needle: str | None, hint: str | None = None) -> None:
        problems.append(error("SLG0020", message, _locate(text, shown, section, needle), hint))

    if not isinstance(table, dict):
        bad(f"`{section.strip('[]')}` must be a table", None)
        raise SlangError(problems)
    for key in table:
        if key not in KEYS:
            bad(f"unknown setting `{key}` in {section}", key, "the settings are: "
                + ", ".join(KEYS))

    def codes(key: str) -> frozenset[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            bad(f"`{key}` in {section} must be a list of codes, e.g. [\"SLG0542\"]", key)
            return frozenset()
        for c in value:
            _check_code(c, key, bad)
        return frozenset(c for c in value if c in CONFIGURABLE)

    enable = codes("enable")
    disable = codes("disable") or frozenset()
    severity: dict[str, Severity] = {}
    raw = table.get("severity", {})
    if not isinstance(raw, dict):
        bad(f"`severity` in {section} must be a table, e.g. {{ SLG0510 = \"error\" }}",
            "severity")
        raw = {}
    for code, level in raw.items():
        if not _check_code(code, "severity", bad):
            continue
        if not isinstance(level, str) or level.lower() not in SEVERITIES:
            bad(f"severity of {code} must be one of: {', '.join(SEVERITIES)}", code)
            continue
        severity[code] = Severity(level.lower())
    if problems:
        raise SlangError(sorted_diagnostics(problems))
    return LintConfig(enable, disable, severity, shown)


def _check_code(code: str, key: str, bad) -> bool:
    if code in CONFIGURABLE:
        return True
    if re.fullmatch(r"SLG\d{4}", code):
        bad(f"{code} in `{key}` is not a lint code", code,
            "only the SLG05xx warnings can be configured; errors of the language cannot be "
            "turned off" if not code.startswith("SLG05") else "see docs/lint.md for the codes")
    else:
        bad(f"`{code}` in `{key}` is not a code: codes are written like SLG0510", code)
    return False


def _locate(text: str, shown: str, section: str, needle: str | None) -> Span:
    """Where `needle` is first written inside `section` or its sub-tables (else anywhere, else
    the section's header, else the whole file): TOML parsers give values, not positions."""
    lines = text.splitlines()
    name = section.strip("[]")
    current = ""
    inside: list[int] = []
    header: int | None = None
    for n, line in enumerate(lines):
        table = re.fullmatch(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?", line)
        if table:
            current = re.sub(r"\s*\.\s*", ".", table[1])
            if current == name and header is None:
                header = n
            continue
        if current == name or current.startswith(name + "."):
            inside.append(n)
    if needle is not None:
        pattern = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(needle) + r"(?![A-Za-z0-9_])")
        for n in [*inside, *range(len(lines))]:
            found = pattern.search(lines[n].split("#", 1)[0])
            if found:
                return Span(shown, n + 1, found.start() + 1, n + 1, found.end() + 1)
    if header is not None:
        return Span(shown, header + 1, 1, header + 1, len(lines[header]) + 1)
    return Span(shown, 0, 0, 0, 0)
