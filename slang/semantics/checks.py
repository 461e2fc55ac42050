"""Checks that look across declarations: unit typos, dependency cycles, calendars, credit tiers,
and the lifecycle warnings that need a clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

from slang.diagnostics import Diagnostic, error, warning
from slang.semantics import model as m
from slang.syntax import ast
from slang.syntax.span import Span


def walk(node: object) -> Iterator[ast.Node]:
    """Every AST node below `node`, in source order."""
    if isinstance(node, ast.Node):
        yield node
        for f in dataclasses.fields(node):
            if f.name != "span":
                yield from walk(getattr(node, f.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from walk(item)


def dependency_cycles(services: dict[str, m.Service], diags: list[Diagnostic]) -> None:
    """Report each `depends_on` cycle once, at the first service of the cycle in name order."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    reported: set[frozenset[str]] = set()

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        stack.append(name)
        for dep in services[name].depends_on:
            if dep not in services:
                continue
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = min(cycle)
                    i = cycle.index(first)
                    ordered = [*cycle[i:], *cycle[:i], first]
                    diags.append(error(
                        "SLG0401", "services depend on each other in a cycle: "
                        + " -> ".join(ordered), _head(services[first]),
                        "a service cannot (indirectly) depend on itself; remove one `depends_on`",
                    ))
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[name] = 2

    for name in sorted(services):
        if name not in state:
            visit(name, [])


def _head(svc: m.Service) -> Span:
    """`service NAME`: the first line of the block, not the whole block."""
    s = svc.span
    return Span(s.file, s.line, s.col, s.line, s.col + len("service ") + len(svc.name))


def overlapping_hours(
    new: m.WeeklyWindow, existing: list[m.WeeklyWindow], attr: ast.Attribute,
    diags: list[Diagnostic],
) -> None:
    for w in existing:
        days = new.days & w.days
        if days and new.start_minute < w.end_minute and w.start_minute < new.end_minute:
            names = ",".join(m.WEEKDAYS[d] for d in sorted(days))
            diags.append(error(
                "SLG0404", f"these hours overlap hours given before on {names}", attr.span,
                "each instant may be listed once; merge the windows",
            ))
            return


def unreachable_tiers(
    tiers: list[m.CreditTier], target: m.Target, credit: ast.Credit, diags: list[Diagnostic]
) -> None:
    """A tier that can never decide the credit is a mistake in a contract: either it cannot
    match while the objective is breached, or a larger credit always matches with it."""
    for t in tiers:
        if _never_matches_when_breached(t, target):
            word = "below" if t.direction == "below" else "above"
            diags.append(error(
                "SLG0406", f"this tier can never apply: a value {word} the threshold meets the "
                "target, and credits are only owed on a breach", t.span,
                "for a `>=` target use `below` tiers at or under the target; for `<=` use `above`",
            ))
            continue
        for other in tiers:
            if other is t or other.direction != t.direction:
                continue
            wider = (other.threshold >= t.threshold if t.direction == "below"
                     else other.threshold <= t.threshold)
            strictly_better = other.threshold != t.threshold or other.percent > t.percent
            if wider and other.percent >= t.percent and (
                strictly_better or tiers.index(other) < tiers.index(t)
            ):
                diags.append(error(
                    "SLG0406", f"this tier can never apply: whenever it matches, the tier "
                    f"on line {other.span.line} (`{other.direction} ... => "
                    f"{_pct(other.percent)}%`) matches too and gives as much",
                    t.span, "tiers further from the target should give larger credits",
                ))
                break


def _pct(d: object) -> str:
    """`25.00` -> `25`, `12.50` -> `12.5` (Decimal.normalize alone would give `1E+1`)."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _never_matches_when_breached(t: m.CreditTier, target: m.Target) -> bool:
    # Breached: `>= x` fails when v < x; `> x` when v <= x; `<= x` when v > x; `< x` when v >= x.
    if target.op in (">=", ">"):
        return t.direction == "above" and t.threshold >= target.value
    if target.op in ("<=", "<"):
        return t.direction == "below" and t.threshold <= target.value
    return False


def lifecycle(
    agreements: Iterable[m.Agreement], as_of: dt.datetime | None, diags: list[Diagnostic]
) -> None:
    """Warnings that need a clock run only when `--as-of` is given, so `check` stays
    reproducible by default."""
    if as_of is None:
        return
    today = as_of.date()
    for a in agreements:
        if a.review is None or a.status in ("draft", "retired"):
            continue
        if a.review.last is None:
            diags.append(warning(
                "SLG0502", f"agreement `{a.name}` has a review cycle but no `reviewed` date",
                a.review.span, "record the last review, e.g. `reviewed 2026-10-01`",
            ))
            continue
        due = add_interval(a.review.last, a.review.every, a.review.unit)
        if due < today:
            diags.append(warning(
                "SLG0502", f"review of `{a.name}` is overdue: last reviewed {a.review.last}, "
                f"due {due}", a.review.span, "review the agreement and update `reviewed`",
            ))


def add_interval(day: dt.date, count: int, unit: str) -> dt.date:
    """Calendar arithmetic for review cycles; the 31st plus one month is the month's last day."""
    if unit == "days":
        return day + dt.timedelta(days=count)
    if unit == "weeks":
        return day + dt.timedelta(weeks=count)
    months = count * (12 if unit == "years" else 1)
    y, mo = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, mo + 1
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))
