"""`slang test` outputs: text for people, JSON for programs, JUnit XML for CI test reports.

Every output reads the same `TestRun`, so they cannot disagree. A failed expectation is shown
with the location of what was written (`file:line:col`, the line and a caret under the item),
what it expected and what the engine measured; the text ends with `N passed, M failed`.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from slang.diagnostics import SourceCache, render_text_all
from slang.syntax.span import Span
from slang.testing.runner import Failure, TestResult, TestRun

NO_TESTS = ("no tests found: tests are `test` blocks in files whose names end in `_test.sla` "
            "(see docs/language.md, section 4.7)")


def snippet(span: Span, sources: SourceCache) -> list[str]:
    """The source line of `span` with a caret under it, as diagnostics show it."""
    src = sources.line(span.file, span.line) if span.line else None
    if src is None:
        return []
    gutter = f"{span.line:>4} | "
    end = span.end_col if span.end_line == span.line and span.end_col > span.col \
        else len(src) + 1
    width = max(1, min(end, len(src) + 1) - span.col)
    return [gutter + src.rstrip("\n"), " " * (len(gutter) - 2) + "| " + " " * (span.col - 1)
            + "^" * width]


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.col}"


def failure_text(f: Failure, sources: SourceCache) -> str:
    return "\n".join([f"{_where(f.span)}: {f.message}", *snippet(f.span, sources)])


def summary(run: TestRun) -> str:
    text = f"{run.count('passed')} passed, {run.count('failed')} failed"
    errors = run.count("error")
    return text + (f", {errors} could not run" if errors else "")


def render_text(run: TestRun, pattern: str | None = None) -> str:
    if not run.results:
        if run.found and pattern is not None:
            return f"no test matches --run {pattern!r} ({run.found} found)\n"
        return NO_TESTS + "\n"
    blocks: list[str] = []
    for r in run.results:
        word = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}[r.status]
        lines = [f"{word} {r.case.id}"]
        if r.failures:
            lines += [failure_text(f, run.texts) for f in r.failures]
        if r.diagnostics:
            lines.append(render_text_all(r.diagnostics, run.texts))
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\n\n" + summary(run) + "\n"


# ------------------------------------------------------------------------------------- JSON


def _failure_dict(f: Failure) -> dict[str, Any]:
    e = f.expectation
    return {
        "agreement": e.agreement.name,
        "objective": e.objective.name if e.objective is not None else None,
        "period": e.period,
        "what": f.what,
        "expected": f.expected or None,
        "actual": f.actual,
        "message": f.message,
        "file": f.span.file,
        "line": f.span.line,
        "col": f.span.col,
    }


def _result_dict(r: TestResult) -> dict[str, Any]:
    return {
        "name": r.case.name,
        "file": r.case.file,
        "line": r.case.span.line,
        "status": r.status,
        "failures": [_failure_dict(f) for f in r.failures],
        "diagnostics": [d.to_dict() for d in r.diagnostics],
    }


def render_json(run: TestRun) -> str:
    doc = {
        "tests": [_result_dict(r) for r in run.results],
        "summary": {"tests": len(run.results), "passed": run.count("passed"),
                    "failed": run.count("failed"), "errors": run.count("error"),
                    "found": run.found},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------ JUnit


def render_junit(run: TestRun) -> str:
    """One test case per test, named by its file (classname) and name; a failed test carries
    one `<failure>` with every failed expectation, a test that could not run an `<error>`."""
    cases: list[str] = []
    for r in run.results:
        head = f"    <testcase classname={quoteattr(r.case.file)} name={quoteattr(r.case.name)}"
        if r.status == "passed":
            cases.append(head + "/>")
            continue
        if r.status == "failed":
            first = r.failures[0].message
            more = len(r.failures) - 1
            message = first + (f" (and {more} more)" if more else "")
            detail = "\n\n".join(failure_text(f, run.texts) for f in r.failures)
            body = f"<failure message={quoteattr(message)} type=\"failure\">" \
                f"{escape(detail)}</failure>"
        else:
            first_d = r.diagnostics[0]
            detail = render_text_all(r.diagnostics, run.texts)
            body = f"<error message={quoteattr(first_d.message)} " \
                f"type={quoteattr(first_d.code)}>{escape(detail)}</error>"
        cases.append(f"{head}>{body}</testcase>")
    counts = (f'tests="{len(run.results)}" failures="{run.count("failed")}" '
              f'errors="{run.count("error")}" skipped="0"')
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="slang test" {counts}>',
        f'  <testsuite name="slang test" {counts}>',
        *cases,
        "  </testsuite>",
        "</testsuites>",
    ]) + "\n"


RENDERERS = {"json": render_json, "junit": render_junit}
