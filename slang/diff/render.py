"""Semantic diff output: text for a terminal, markdown for a pull-request comment, JSON for tools.

All three keep the order `diff` gives (agreements by name; in each, agreement-level changes,
then objectives), so the same two versions always print the same bytes. An empty diff is
`no changes in meaning` in text and markdown, `{"changes": []}` in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from slang.diff.semantic import Change, counts

FORMATS = ("text", "markdown", "json")
NO_CHANGES = "no changes in meaning"
LEGEND = (
    "_tightened_: more risk for the provider, more protection for the customer; "
    "_loosened_: less protection for the customer; _neutral_: neither (reported for review)."
)


def summary_line(changes: Sequence[Change]) -> str:
    """`3 changes: 1 tightened, 1 loosened, 1 neutral` (every classification, even at 0)."""
    if not changes:
        return NO_CHANGES
    n = len(changes)
    found = counts(changes)
    parts = ", ".join(f"{count} {cls}" for cls, count in found.items())
    return f"{n} change{'s' if n != 1 else ''}: {parts}"


def by_agreement(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """Changes grouped by agreement, in the order the agreements first appear."""
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(c.agreement, []).append(c)
    return groups


def render(changes: Sequence[Change], fmt: str = "text") -> str:
    if fmt == "text":
        return render_text(changes)
    if fmt == "markdown":
        return render_markdown(changes)
    if fmt == "json":
        return render_json(changes)
    raise ValueError(f"unknown diff format {fmt!r}; one of {', '.join(FORMATS)}")


# -------------------------------------------------------------------------------------- text


def render_text(changes: Sequence[Change]) -> str:
    """One line per change under a line naming its agreement, then the summary:

        checkout_retail
          tightened  availability: target 99.9% -> 99.95% (+0.05 points)  [policies/a.sla:28]
    """
    if not changes:
        return NO_CHANGES + "\n"
    lines: list[str] = []
    for agreement, group in by_agreement(changes).items():
        lines.append(agreement)
        for c in group:
            subject = f"{c.objective}: " if c.objective else ""
            where = f"  [{c.location}]" if c.location else ""
            lines.append(f"  {c.classification:<9}  {subject}{c.detail}{where}")
        lines.append("")
    lines.append(summary_line(changes))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- markdown


def render_markdown(changes: Sequence[Change], title: str = "slang diff") -> str:
    """A pull-request comment: a bold summary line, a table per agreement, a legend."""
    out = [f"**{_escape(title)}**: {summary_line(changes)}", ""]
    if not changes:
        return "\n".join(out)
    for agreement, group in by_agreement(changes).items():
        out.append(f"#### {_code(agreement)}")
        out.append("")
        out.append("| | objective | change | where |")
        out.append("|---|---|---|---|")
        for c in group:
            objective = _code(c.objective) if c.objective else ""
            where = _code(str(c.location)) if c.location else ""
            out.append(f"| {c.classification} | {objective} | {_escape(c.detail)} | {where} |")
        out.append("")
    out.append(LEGEND)
    out.append("")
    return "\n".join(out)


_MARKDOWN_SPECIAL = "\\`*[]<|"


def _escape(text: str) -> str:
    """Plain text in a table cell: no emphasis, links, tags or column breaks by accident. An
    underscore inside a word (`lag_s`) cannot start emphasis and stays as it is."""
    out = []
    for i, ch in enumerate(text):
        inside_word = (ch == "_" and 0 < i < len(text) - 1
                       and text[i - 1].isalnum() and text[i + 1].isalnum())
        if ch in _MARKDOWN_SPECIAL or (ch == "_" and not inside_word):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _code(text: str) -> str:
    """A code span that survives backticks in the text and `|` in a table."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


# -------------------------------------------------------------------------------------- json


def render_json(changes: Sequence[Change]) -> str:
    """`{"changes": [...]}`, each change as `Change.to_dict`."""
    return json.dumps({"changes": [c.to_dict() for c in changes]}, indent=2) + "\n"


__all__ = [
    "FORMATS",
    "NO_CHANGES",
    "by_agreement",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "summary_line",
]
