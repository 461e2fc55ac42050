"""Inline suppressions: `# slang: ignore[SLG0542] reason` in a policy.

A suppression silences the named warnings whose span starts on the comment's own line (a
trailing comment) or on the line below it (a comment on the line above). Several codes may be
listed, separated by commas. Only the SLG05xx warnings can be suppressed: an error means the
policy is wrong, and no comment makes it right.

A suppression is itself reported (SLG0550) when it gives no reason (it still silences what it
names), or when it names something that does not fire there: a code that is not a lint code, or
one for which nothing was reported on those lines.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from slang.diagnostics import Diagnostic, sorted_diagnostics, warning
from slang.lint.rules import CLOCK_CODES, CONFIGURABLE
from slang.semantics.model import Model
from slang.syntax.span import Span

SUPPRESSION = re.compile(r"#\s*slang\s*:\s*ignore\b(?P<rest>.*)$", re.IGNORECASE)
CODES = re.compile(r"\s*\[(?P<codes>[^\]]*)\](?P<reason>.*)$")
CODE = re.compile(r"SLG\d{4}")
UNSUPPRESSIBLE = "SLG0550"  # a suppression cannot silence the report about suppressions


@dataclass(frozen=True)
class Suppression:
    span: Span  # the comment
    codes: tuple[str, ...]
    reason: str | None
    malformed: bool = False

    def covers(self, d: Diagnostic) -> bool:
        return d.span.file == self.span.file and d.span.line in (
            self.span.line, self.span.line + 1)


def suppressions(model: Model) -> Iterator[Suppression]:
    """Every `# slang: ignore` comment of the model's files, in file and line order."""
    for f in model.files:
        for c in f.module.comments:
            found = SUPPRESSION.search(c.text)
            if found is None:
                continue
            parts = CODES.match(found["rest"])
            if parts is None:
                yield Suppression(c.span, (), None, malformed=True)
                continue
            codes = tuple(x for x in re.split(r"[,\s]+", parts["codes"].strip()) if x)
            reason = parts["reason"].strip().lstrip(":-–—").strip() or None
            yield Suppression(c.span, codes, reason, malformed=not codes)


def default_checked() -> frozenset[str]:
    """The codes a suppression is held to when the caller does not say what ran: every
    configurable code except those that need a clock."""
    return CONFIGURABLE - CLOCK_CODES


def apply_suppressions(
    model: Model, diagnostics: Iterable[Diagnostic], *, checked: Collection[str] | None = None
) -> list[Diagnostic]:
    """`diagnostics` without the suppressed ones, plus SLG0550 for each suppression that gives
    no reason or names a code that does not fire where it stands.

    `checked` are the codes that were looked for: a suppression of one of them that silences
    nothing is unused. A suppression of a code that was not looked for (a clock-dependent
    warning in a run without `as_of`, a lint rule on a model with errors) is left alone. The
    default is every configurable code except the clock-dependent ones. Call this once, on
    everything that will be shown: a second pass would find the suppressions unused.
    """
    looked_for = default_checked() if checked is None else frozenset(checked)
    kept = list(diagnostics)
    silenced: set[int] = set()
    found: list[Diagnostic] = []
    for s in suppressions(model):
        if s.malformed:
            found.append(warning(
                "SLG0550", "this suppression names no code", s.span,
                "write `# slang: ignore[SLG0542] the reason`, on the line of the warning or the "
                "line above it",
            ))
            continue
        if s.reason is None:
            found.append(warning(
                "SLG0550", f"suppression of {', '.join(s.codes)} gives no reason", s.span,
                "say why after the brackets, e.g. `# slang: ignore[" + ",".join(s.codes)
                + "] reported monthly, never credited`",
            ))
        for code in s.codes:
            problem = _unusable(code)
            if problem is not None:
                found.append(warning("SLG0550", problem[0], s.span, problem[1]))
                continue
            hits = [i for i, d in enumerate(kept)
                    if d.code == code and code != UNSUPPRESSIBLE and s.covers(d)]
            silenced.update(hits)
            if not hits and code in looked_for:
                found.append(warning(
                    "SLG0550", f"suppression of {code} is unused: nothing reports {code} here",
                    s.span, "remove it, or move it to the line of the warning or the line above",
                ))
    return sorted_diagnostics(
        [d for i, d in enumerate(kept) if i not in silenced] + found)


def _unusable(code: str) -> tuple[str, str] | None:
    if not CODE.fullmatch(code):
        return (f"`{code}` in this suppression is not a code",
                "codes are written like SLG0542; separate several with commas")
    if code == UNSUPPRESSIBLE:
        return (f"{code} cannot be suppressed", "give the suppression a reason, or remove it")
    if code in CONFIGURABLE:
        return None
    if code.startswith("SLG05"):
        return (f"{code} is not a slang code", "see docs/lint.md for the lint codes")
    return (f"{code} cannot be suppressed: only the SLG05xx warnings can",
            "an error means the policy is wrong: fix it instead")
