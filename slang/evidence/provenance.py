"""Which policies an audit reads: the working tree, or `REV:PATH` as at a git revision.

Agreements are amended over time; auditing last quarter against today's text would judge it by
rules that were not in force. `slang audit main~3:policies ...` (any revision git knows: a tag,
a commit, `HEAD@{2026-10-01}`) loads the policies as they stood there, through the same code as
`slang diff` (`slang.diff.sources.load_side`), and remembers the commit and the files' exact
bytes so that the evidence bundle records and keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slang.diagnostics import SlangError, error
from slang.semantics import load
from slang.semantics.model import Model
from slang.syntax.span import Span

INVALID_INPUT = "SLG0004"


@dataclass(frozen=True)
class Provenance:
    """Where the policies came from: a revision (`REV:PATH`, with its commit) and the exact
    bytes of files that no longer exist on disk (a revision's temporary copy)."""

    revision: str | None = None
    commit: str | None = None
    blobs: Mapping[str, bytes] = field(default_factory=dict)


def load_audited(paths: Sequence[str]) -> tuple[Model, Provenance]:
    """Load the estate an audit evaluates: paths of the working tree, or one `REV:PATH`.

    Raises SlangError for a revision or path git does not know (SLG0011, SLG0012) and for a
    `REV:PATH` mixed with other paths (SLG0004): one estate comes from one place. Test files
    (`*_test.sla`) are left out, as by every command that evaluates the estate."""
    from slang.diff.sources import load_side, parse_spec

    revisions = [p for p in paths if parse_spec(p)[0] is not None]
    if not revisions:
        return load(paths, tests=False), Provenance()
    if len(paths) > 1:
        raise SlangError([error(
            INVALID_INPUT, f"`{revisions[0]}` names a git revision and cannot be combined with "
            "other paths", Span("<command line>", 0, 0, 0, 0),
            "audit one REV:PATH (a directory of the revision holds the whole estate), or only "
            "paths of the working tree")])
    side = load_side(revisions[0])
    return side, Provenance(side.revision, side.commit, dict(side.blobs))
