"""`slang check` outputs that CI systems read: JUnit XML, SARIF 2.1.0 and GitHub annotations.

People read `check`'s text; machines read these. Each renderer takes the same `CheckRun` (the
diagnostics, the files checked and the `--fail-on` level) so every format states the same
findings, and none of them re-runs or re-judges anything: they differ only in shape.

Locations in SARIF and GitHub annotations are relative to the *repository root* (the nearest
ancestor of the current directory holding `.git`, else the current directory), because that is
what code scanning and pull-request annotations resolve paths against, wherever in the checkout
`slang check` was run. JUnit keeps the paths of the text output: it is read by people in a test
report, not mapped onto files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import slang
from slang.codes import anchor, help_uri, home_url, title
from slang.diagnostics import Diagnostic, Severity, SourceCache, render_text
from slang.resources import stdlib_dir

if TYPE_CHECKING:
    from slang.semantics import Model

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}

# The name of the JUnit test case that stands for a file checked without findings.
CLEAN_CASE = "check"


@dataclass(frozen=True)
class CheckRun:
    """What one `slang check` found, and what it needs to say where.

    `files` are the user's policy files checked (display path as in text output, absolute
    path), standard library excluded as in the summary line; `paths` maps every loaded file's
    display path to its absolute path, so a diagnostic's file can be placed in the repository.
    """

    diagnostics: Sequence[Diagnostic]
    files: Sequence[tuple[str, str]]
    fail_on: str = "error"
    sources: SourceCache = field(default_factory=SourceCache)
    paths: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: Model, fail_on: str = "error") -> CheckRun:
        std = stdlib_dir().resolve()
        files = [(f.path, f.abspath) for f in model.files
                 if not Path(f.abspath).is_relative_to(std)]
        return cls(list(model.diagnostics), files, fail_on, model.texts,
                   {f.path: f.abspath for f in model.files})

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)

    def summary(self) -> str:
        """The text format's last line, so every format ends on the same count."""
        return (f"checked {_plural(len(self.files), 'file')}: {_plural(self.errors, 'error')}, "
                f"{_plural(self.warnings, 'warning')}")

    def abspath(self, file: str) -> Path | None:
        """Where a diagnostic's file is on disk; None for `<command line>` and the like."""
        if file in self.paths:
            return Path(self.paths[file])
        if not file or file.startswith("<"):
            return None
        return Path(file).resolve()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _with_hint(d: Diagnostic) -> str:
    return d.message if not d.hint else f"{d.message}\nhint: {d.hint}"


def repository_root(start: Path | None = None) -> Path:
    """The nearest ancestor holding `.git` (a directory, or a file in a worktree), else `start`.

    Code scanning and annotations resolve paths against the checkout's root, so a check run
    from a subdirectory must still name files from the top.
    """
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return here


def _relative(path: Path | None, root: Path) -> str | None:
    """`path` below `root` in forward slashes, or None when it lies elsewhere."""
    if path is None:
        return None
    path = path.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else None


# ---------------------------------------------------------------------------- JUnit XML

# XML 1.0 cannot carry these characters even as references; a policy can contain them (a stray
# control character is what SLG0104 reports), so they are spelled out instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _attr(text: str) -> str:
    return quoteattr(_xml_safe(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _text(text: str) -> str:
    return escape(_xml_safe(text))


def render_junit(run: CheckRun) -> str:
    """One test case per diagnostic, plus a passing case per file without any.

    A CI test report then shows how many files were checked, not only what failed. Errors are
    failures. Warnings are failures (type `warning`) only under `--fail-on warning`, matching
    the exit code; otherwise, like notes, they go to the case's system-out, visible but green.
    """
    warnings_fail = run.fail_on == "warning"
    by_file: dict[str, list[Diagnostic]] = {}
    for d in run.diagnostics:
        by_file.setdefault(d.span.file, []).append(d)
    for display, _ in run.files:
        by_file.setdefault(display, [])
    cases: list[str] = []
    failures = 0
    for file in sorted(by_file):
        classname = _attr(file)
        if not by_file[file]:
            cases.append(f"    <testcase classname={classname} name={_attr(CLEAN_CASE)}/>")
            continue
        for d in by_file[file]:
            name = _attr(f"{d.code} {d.span.line}:{d.span.col}")
            detail = _text(render_text(d, run.sources))
            fails = d.severity is Severity.ERROR or (
                warnings_fail and d.severity is Severity.WARNING)
            if fails:
                failures += 1
                body = (f"<failure message={_attr(d.message)} "
                        f"type={_attr(d.severity.value)}>{detail}</failure>")
            else:
                body = f"<system-out>{detail}</system-out>"
            cases.append(f"    <testcase classname={classname} name={name}>{body}</testcase>")
    counts = f'tests="{len(cases)}" failures="{failures}" errors="0" skipped="0"'
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="slang check" {counts}>',
        f'  <testsuite name="slang check" {counts}>',
        *cases,
        "  </testsuite>",
        "</testsuites>",
    ]) + "\n"


# ---------------------------------------------------------------------------- SARIF 2.1.0


def _driver(codes: list[str]) -> dict[str, Any]:
    driver: dict[str, Any] = {"name": "slang", "version": slang.__version__}
    home = home_url()
    if home:
        driver["informationUri"] = home
    driver["rules"] = [_sarif_rule(code) for code in codes]
    return driver


def _sarif_rule(code: str) -> dict[str, Any]:
    short = title(code)
    uri = help_uri(code)
    where = uri or f"docs/errors.md#{anchor(code)} in the slang repository"
    rule: dict[str, Any] = {
        "id": code,
        "shortDescription": {"text": short.replace("`", ""), "markdown": short},
        "help": {
            "text": f"{code}: {short.replace('`', '')}. When it fires and how to fix it: {where}",
            "markdown": (f"**{code}: {short}**. [When it fires and how to fix it]({uri})."
                         if uri else f"**{code}: {short}**. When it fires and how to fix it: "
                         f"`{where}`."),
        },
    }
    if uri:
        rule["helpUri"] = uri
    return rule


def _sarif_region(d: Diagnostic) -> dict[str, int] | None:
    """The span in SARIF terms (1-based, end column exclusive, as slang's own); None for a
    diagnostic about a whole file (line 0), which SARIF expresses by leaving the region out."""
    s = d.span
    if s.line < 1:
        return None
    region = {"startLine": s.line}
    if s.col >= 1:
        region["startColumn"] = s.col
    if s.end_line >= s.line:
        region["endLine"] = s.end_line
        if s.end_col >= 1 and (s.end_line > s.line or s.end_col >= s.col):
            region["endColumn"] = s.end_col
    return region


def _sarif_location(d: Diagnostic, run: CheckRun, root: Path) -> dict[str, Any] | None:
    path = run.abspath(d.span.file)
    if path is None:
        return None
    relative = _relative(path, root)
    if relative is not None:
        artifact = {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}
    else:  # outside the repository (the installed standard library): an absolute file URI
        artifact = {"uri": path.resolve().as_uri()}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    region = _sarif_region(d)
    if region is not None:
        physical["region"] = region
    return {"physicalLocation": physical}


def render_sarif(run: CheckRun, root: Path | None = None) -> str:
    """A SARIF 2.1.0 log with one run: the rules are the codes used, the results the findings.

    Columns count characters (`columnKind` unicodeCodePoints), as slang's do; SARIF's default
    would be UTF-16 units, which differ on any line with an emoji or a rare script. The root's
    location on this machine (`originalUriBaseIds`) is left out so the log is the same bytes on
    every checkout; code scanning resolves `%SRCROOT%` to the repository it was uploaded for.
    """
    root = repository_root() if root is None else root.resolve()
    codes = sorted({d.code for d in run.diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in run.diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": SARIF_LEVELS[d.severity],
            "message": {"text": _with_hint(d)},
        }
        location = _sarif_location(d, run, root)
        if location is not None:
            result["locations"] = [location]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": _driver(codes)},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- GitHub Actions


def escape_github_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF would end or garble the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    """A workflow command's property value: also `:` (ends the properties) and `,` (separates
    them)."""
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_line(d: Diagnostic, run: CheckRun, root: Path) -> str:
    s = d.span
    props: list[tuple[str, str]] = []
    path = run.abspath(s.file)
    if path is not None:
        props.append(("file", _relative(path, root) or path.resolve().as_posix()))
        if s.line >= 1:
            props.append(("line", str(s.line)))
            if s.col >= 1:
                props.append(("col", str(s.col)))
            if s.end_line >= s.line:
                props.append(("endLine", str(s.end_line)))
            # GitHub takes a column range on one line only.
            if s.end_line == s.line and s.end_col >= s.col >= 1:
                props.append(("endColumn", str(s.end_col)))
    props.append(("title", d.code))
    rendered = ",".join(f"{k}={escape_github_property(v)}" for k, v in props)
    return f"::{GITHUB_COMMANDS[d.severity]} {rendered}::{escape_github_data(_with_hint(d))}"


def render_github(run: CheckRun, root: Path | None = None) -> str:
    """GitHub Actions workflow commands, one per diagnostic, then the summary as plain text.

    Printed in a workflow step, each line becomes an annotation on the file and line in the
    pull request; the summary line stays in the log for whoever opens it.
    """
    root = repository_root() if root is None else root.resolve()
    lines = [_github_line(d, run, root) for d in run.diagnostics]
    return "\n".join([*lines, run.summary()]) + "\n"


CHECK_RENDERERS: dict[str, Callable[[CheckRun], str]] = {
    "junit": render_junit,
    "sarif": render_sarif,
    "github": render_github,
}
