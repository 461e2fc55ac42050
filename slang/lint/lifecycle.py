"""Lifecycle: agreements about to end, agreements that contradict each other in time, retired
agreements that are still in force.

SLG0530 and SLG0532 read the clock and run only with `as_of`, so that a lint without one gives
the same answer tomorrow. SLG0531 compares agreements with each other and needs no clock: it
always runs. (Review overdue is SLG0502, reported by `slang.load`.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import combinations

from slang.diagnostics import Diagnostic, warning
from slang.lint.rules import EXPIRY_DAYS, Context
from slang.semantics import model as m

_DAY = dt.timedelta(days=1)


def _covers(a: m.Agreement, day: dt.date) -> bool:
    """Whether `day` lies in the agreement's `effective` range (no range: always)."""
    return (a.effective_start is None or a.effective_start <= day) and (
        a.effective_end is None or day <= a.effective_end
    )


def expiring(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0530: an agreed agreement that stops being in force (at the end of its last effective
    day, in its time zone) within 30 days (of 24 hours) after `as_of`, with no agreed or
    proposed agreement for the same service and customer taking over the next day."""
    if ctx.as_of is None:
        return
    now = ctx.as_of if ctx.as_of.tzinfo is not None else ctx.as_of.replace(tzinfo=dt.UTC)
    for a in ctx.agreements("agreed"):
        if a.effective_end is None:
            continue
        after = a.effective_end + _DAY
        ends = dt.datetime.combine(after, dt.time(), ctx.zone(a))
        if not now < ends <= now + dt.timedelta(days=EXPIRY_DAYS):
            continue
        party = ctx.by_party("agreed", "proposed").get((a.service.id, a.customer), [])
        if any(b is not a and _covers(b, after) for b in party):
            continue
        days = (ends - now).days
        when = ("in less than a day" if days == 0 else "in 1 day" if days == 1
                else f"in {days} days")
        yield warning(
            "SLG0530", f"agreement `{a.name}` ends {when} (its last day is {a.effective_end}), "
            f"and no agreement for `{a.service.name}` and the same customer takes over on {after}",
            ctx.attr_span(a, "effective"),
            f"renew it (an agreed or proposed agreement effective from {after}), or let it end "
            "and suppress this warning with the reason",
        )


def overlapping_agreements(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0531: two agreed agreements for the same service and customer in force on a common
    day. Reported once per pair, at the later one in file order."""
    pairs = (pair for group in ctx.by_party("agreed").values()
             for pair in combinations(group, 2))
    for first, second in sorted(pairs, key=lambda p: (ctx.order(p[1]), ctx.order(p[0]))):
        starts = [d for d in (first.effective_start, second.effective_start) if d is not None]
        ends = [d for d in (first.effective_end, second.effective_end) if d is not None]
        start, end = max(starts, default=None), min(ends, default=None)
        if start is not None and end is not None and end < start:
            continue
        if start is None and end is None:
            common = "at all times"
        elif end is None:
            common = f"from {start} on"
        elif start is None:
            common = f"until {end}"
        else:
            common = f"from {start} to {end}" if start != end else f"on {start}"
        yield warning(
            "SLG0531", f"agreed agreements `{first.name}` and `{second.name}` both cover "
            f"`{second.service.name}` for \"{second.customer}\" {common}",
            ctx.attr_span(second, "effective"),
            f"end `{first.name}` the day before `{second.name}` starts (and retire it when it "
            "is over), or correct one of the `effective` ranges",
        )


def retired_in_force(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0532: a `retired` agreement whose `effective` range includes `as_of`.

    The language has no references between agreements, so "a retired agreement still
    referenced" is read as "still in force": `slang audit` evaluates a retired agreement for
    the periods inside its range, so a retirement that does not end the range is half done."""
    if ctx.as_of is None:
        return
    for a in ctx.agreements("retired"):
        today = ctx.today(a)
        if not _covers(a, today):
            continue
        until = (f"its `effective` range runs to {a.effective_end}" if a.effective_end
                 else "its `effective` range is open-ended" if a.effective_start
                 else "it has no `effective` range, so it is in force at all times")
        yield warning(
            "SLG0532", f"retired agreement `{a.name}` is still in force on {today}: {until}",
            ctx.attr_span(a, "effective" if ctx.attr(a, "effective") else "status"),
            "end `effective` on the last day the agreement applied, or keep it `agreed` until "
            "then; audits still evaluate a retired agreement inside its range",
        )
