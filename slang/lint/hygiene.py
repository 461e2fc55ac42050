"""Hygiene: credits that can cost more than the fee, credit tiers written out of order,
objectives left without a credit, exclusions that overlap.

These read the text of a contract, so they run for drafts, proposals and agreed agreements, and
not for retired ones: a retired agreement is a record, not something to tidy.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise

from slang.diagnostics import Diagnostic, warning
from slang.lint.rules import Context, number
from slang.semantics import model as m
from slang.syntax import ast

_LIVE = ("draft", "proposed", "agreed")


def uncapped_credits(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0540: without `credit_cap`, the largest tiers of all objectives add up to more than
    100 % of the fee."""
    for a in ctx.agreements(*_LIVE):
        if a.credit_cap is not None or a.fee is None:
            continue
        parts = [(o.name, max(t.percent for t in o.credit)) for o in a.objectives if o.credit]
        total = sum((p for _, p in parts), Decimal(0))
        if total <= 100:
            continue
        terms = " + ".join(f"{name} {number(p)}%" for name, p in parts)
        yield warning(
            "SLG0540", f"the credits of `{a.name}` can add up to {number(total)}% of the fee "
            f"({terms}) and there is no `credit_cap`", ctx.name_span(a),
            "add `credit_cap 100%` (or less), so that one bad period never costs more than "
            "its fee",
        )


def tiers_out_of_order(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0541: tiers further from the target written before tiers closer to it. For a `>=`
    target the `below` thresholds should go down, for a `<=` target the `above` ones up. Tiers
    in the other direction can never apply (SLG0406) and are left out here."""
    for a in ctx.agreements(*_LIVE):
        for o in a.objectives:
            if o.target.op in (">=", ">"):
                direction = "below"
            elif o.target.op in ("<=", "<"):
                direction = "above"
            else:
                continue
            tiers = [t for t in o.credit if t.direction == direction]
            for before, after in pairwise(tiers):
                closer = (after.threshold > before.threshold if direction == "below"
                          else after.threshold < before.threshold)
                if not closer:
                    continue
                now = ctx.text(after.span) or f"{direction} {number(after.threshold)}"
                then = ctx.text(before.span) or f"{direction} {number(before.threshold)}"
                yield warning(
                    "SLG0541", f"credit tier `{now}` comes after `{then}`, but is closer to "
                    "the target", after.span,
                    "write the tiers from the target outwards: `below` tiers from the highest "
                    "threshold down, `above` tiers from the lowest up",
                )
                break


def objectives_without_credit(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0542: an agreement with a fee and credits on some objectives, but not on this one."""
    for a in ctx.agreements(*_LIVE):
        if a.fee is None:
            continue
        credited = ctx.credit_blocks(a)
        if not credited:
            continue
        for o in a.objectives:
            if o.name in credited:
                continue
            node = ctx.objective_node(a, o.name)
            yield warning(
                "SLG0542", f"objective `{o.name}` has no credit, but `{a.name}` has a fee and "
                f"credits on {_names(sorted(credited))}",
                node.name.span if node is not None else o.span,
                f"add `credit {o.name} {{ ... }}`, or, if a breach of it is deliberately not "
                "compensated, suppress this warning with that reason",
            )


def _names(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def overlapping_exclusions(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0543: two dated windows (timestamps or days) that share an instant, or two weekly
    windows that share a minute on a common weekday. Reported at the later exclusion, once."""
    for a in ctx.agreements(*_LIVE):
        earlier: list[m.Exclusion] = []
        for x in a.exclusions:
            other = next((e for e in earlier if _overlap(e, x)), None)
            earlier.append(x)
            if other is None:
                continue
            shown = _window_text(ctx, a, other)
            what = f"`{shown}`" if shown else "an earlier exclusion"
            yield warning(
                "SLG0543", f"this exclusion overlaps {what} on line {other.span.line}",
                x.span, "time is excluded once however often it is listed: merge the two, or "
                "correct the one that is wrong",
            )


def _window_text(ctx: Context, a: m.Agreement, x: m.Exclusion) -> str | None:
    """The window as written (`2026-06-13 .. 2026-06-14`, `weekly sun 02:00-04:00`)."""
    node = ctx.node(a)
    items = node.items if node is not None else ()
    written = next((i for i in items if isinstance(i, ast.Exclusion) and i.span == x.span), None)
    return None if written is None else ctx.text(written.window.span)


def _overlap(a: m.Exclusion, b: m.Exclusion) -> bool:
    if a.kind == b.kind == "window":
        assert a.start and a.end and b.start and b.end
        return a.start < b.end and b.start < a.end
    if a.kind == b.kind == "weekly":
        assert a.weekly and b.weekly
        return bool(a.weekly.days & b.weekly.days) and (
            a.weekly.start_minute < b.weekly.end_minute
            and b.weekly.start_minute < a.weekly.end_minute
        )
    return False
