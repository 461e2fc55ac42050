"""Semantic diff of two versions of an estate: what changed in meaning, agreement by agreement.

    from slang.diff import load_side, diff, render

    old = load_side("main:policies")   # a git revision of the enclosing repository
    new = load_side("policies")        # the working tree
    if not (old.errors or new.errors):
        print(render(diff(old, new), "markdown"))

`load_side` raises `SlangError` (SLG0011, SLG0012) when a `REV:PATH` cannot be read; problems in
the policies themselves are diagnostics of the returned model, as with `slang.load`. See
`docs/diff.md` for what is compared and how changes are classified.
"""

from slang.diff.render import (
    FORMATS,
    render,
    render_json,
    render_markdown,
    render_text,
    summary_line,
)
from slang.diff.semantic import (
    CLASSIFICATIONS,
    KINDS,
    LOOSENED,
    NEUTRAL,
    TIGHTENED,
    Change,
    Classification,
    Location,
    counts,
    diff,
)
from slang.diff.sources import UNKNOWN_PATH, UNKNOWN_REVISION, Side, load_side, parse_spec

__all__ = [
    "CLASSIFICATIONS",
    "FORMATS",
    "KINDS",
    "LOOSENED",
    "NEUTRAL",
    "TIGHTENED",
    "UNKNOWN_PATH",
    "UNKNOWN_REVISION",
    "Change",
    "Classification",
    "Location",
    "Side",
    "counts",
    "diff",
    "load_side",
    "parse_spec",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "summary_line",
]
