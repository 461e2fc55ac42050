"""Source positions shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file: 1-based lines and columns, end exclusive.

    Every AST node carries one so that any later layer (checker, planner, engine) can point a
    diagnostic back at the text a person wrote.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, file: str, line: int, col: int) -> Span:
        return cls(file, line, col, line, col + 1)

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.file, self.line, self.col, other.end_line, other.end_col)


NO_SPAN = Span("<unknown>", 0, 0, 0, 0)
# Diagnostics about the command line itself (`--period`, `--data`, `--as-of`) have no source
# file; this name stands in for one, so every command reports them alike.
COMMAND_LINE_SPAN = Span("<command line>", 0, 0, 0, 0)
