"""The trend rule: how an objective's margin moved over its complete periods (issue 5, item 7).

One rule for both places that show trends: `slang report` (from a fresh audit, `review.py`) and
`slang ledger trend` (from the ledger's current entries, `slang.evidence.trends`), so the same
periods are flagged worsening by both. The margin is the distance from the target, positive on
the good side, computed exactly (Fractions): for `>=`/`>` it is measured - target, for `<=`/`<`
target - measured, for `==` minus the distance. A period without a measured value (`no_data`)
has no margin and is skipped: the periods either side of it are compared with each other.

An objective is *worsening* when its margin shrank `SHRINKING_RUN` (3) times in a row up to the
latest complete period, i.e. over the last four periods with a margin: three periods that each
ended worse than the one before. A margin that stayed the same, or grew, ends the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

# Margins that shrank this many periods in a row flag an objective as worsening (issue 5,
# item 7: "flag objectives whose margin shrank for three periods in a row").
SHRINKING_RUN = 3


@dataclass(frozen=True)
class TrendPoint:
    """One complete period of one objective: what was measured and what was agreed."""

    measured: Fraction | None  # None: no data in the period
    op: str
    target: Fraction


@dataclass(frozen=True)
class Trend:
    margins: tuple[Fraction | None, ...]  # per point
    changes: tuple[str, ...]  # per point against the previous margin: better/worse/same or ""
    shrinking: int  # how many times in a row the margin shrank, ending at the latest margin
    worsening: bool  # shrinking >= SHRINKING_RUN
    text: str  # the trend in words, as the reports print it


def margin(op: str, measured: Fraction, target: Fraction) -> Fraction:
    """Distance from the target, positive on the good side."""
    if op in (">=", ">"):
        return measured - target
    if op in ("<=", "<"):
        return target - measured
    return -abs(measured - target)


def change(previous: Fraction | None, current: Fraction | None) -> str:
    """`better`, `worse` or `same` against the previous margin; "" when either is unknown."""
    if previous is None or current is None:
        return ""
    return "better" if current > previous else "worse" if current < previous else "same"


def trend(points: Sequence[TrendPoint]) -> Trend:
    """The margins, the direction of each step and the worsening flag of one objective's
    complete periods, given in period order."""
    margins = tuple(None if p.measured is None else margin(p.op, p.measured, p.target)
                    for p in points)
    changes: list[str] = []
    previous: Fraction | None = None
    run = 0
    for m in margins:
        changes.append(change(previous, m))
        if m is not None:
            if previous is not None:
                run = run + 1 if m < previous else 0
            previous = m
    known = [m for m in margins if m is not None]
    worsening = run >= SHRINKING_RUN
    return Trend(margins, tuple(changes), run, worsening, _text(known, run, worsening))


def _text(known: list[Fraction], run: int, worsening: bool) -> str:
    if len(known) < 2:
        return "too few complete periods for a trend"
    if worsening:
        return f"worsening: the margin shrank {run} periods in a row"
    last, previous = known[-1], known[-2]
    if last < previous:
        return "worse than the period before"
    if last > previous:
        return "better than the period before"
    return "unchanged from the period before"
