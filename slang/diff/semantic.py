"""Semantic diff: what two versions of an estate mean differently, agreement by agreement.

Both sides are resolved models (`slang.semantics.load`, or `slang.diff.load_side` for a git
revision), so the comparison never sees text: layout, comments, the order of attributes,
objectives, exclusions or tiers, import aliases, the name a source or calendar is declared under,
and how a literal is spelled (`300ms` or `0.3s`, `99.90%` or `99.9%`) cannot make a change. What
is compared is what evaluation reads: targets in the indicator's own units, credit tiers as the
credit they pay at each measured value, the time calendars and exclusions cover, conditions in a
canonical form (columns without their source prefix, `and`/`or` operands, the two sides of a
comparison and `in [...]` lists in a fixed order), sources by the table and columns they read.

Every `Change` names its agreement and, for objective-level changes, its objective, so that a
later impact analysis can group evaluations by the same keys. Each change is classified:

* `tightened`: more risk for the provider, more protection for the customer;
* `loosened`: less protection for the customer;
* `neutral`: neither can be said (a status transition, a new fee, another indicator).

The rules, and why, are in `docs/diff.md`. Both models should be free of errors: an agreement
that did not resolve is missing from its model and would show as removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from functools import reduce
from itertools import pairwise
from typing import Literal

from slang.semantics import model as m
from slang.semantics.burn_rates import burn_rate_text
from slang.semantics.values import CURRENCY_MINOR_UNITS
from slang.syntax import ast
from slang.syntax.formatter import format_expr, format_ident, format_string
from slang.syntax.span import Span

Classification = Literal["tightened", "loosened", "neutral"]
TIGHTENED: Classification = "tightened"
LOOSENED: Classification = "loosened"
NEUTRAL: Classification = "neutral"
CLASSIFICATIONS: tuple[Classification, ...] = (TIGHTENED, LOOSENED, NEUTRAL)

# Every kind of change, in the order changes of one agreement are listed (objective-level kinds
# follow the agreement-level ones, objective by objective).
AGREEMENT_KINDS = (
    "agreement_added", "agreement_removed", "status", "service", "customer", "provider",
    "effective", "timezone", "period", "hours", "fee", "credit_cap", "review", "notify",
    "burn_rate", "exclusion_changed", "exclusion_removed", "exclusion_added",
)
OBJECTIVE_KINDS = (
    "objective_added", "objective_removed", "indicator", "target", "hours", "credit_tiers",
)
KINDS = tuple(dict.fromkeys((*AGREEMENT_KINDS, *OBJECTIVE_KINDS)))


@dataclass(frozen=True)
class Location:
    """Where a change is written: a file as the loader shows it, a 1-based line, and the git
    revision for a side loaded as `REV:PATH` (None for the working tree)."""

    file: str
    line: int
    revision: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.revision}:{where}" if self.revision else where

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "revision": self.revision}


@dataclass(frozen=True)
class Change:
    """One change in meaning. `old` and `new` are display strings (None where the thing did
    not exist or the attribute was not given); `detail` is one readable sentence fragment
    (`target 99.9% -> 99.95% (+0.05 points)`); `location` is on the new side when the new side
    has the thing, else on the old side."""

    agreement: str
    objective: str | None
    kind: str
    old: str | None
    new: str | None
    classification: Classification
    detail: str
    location: Location | None = None

    @property
    def subject(self) -> tuple[str, str | None]:
        """What an impact analysis groups by: the agreement and the objective (or None)."""
        return (self.agreement, self.objective)

    def to_dict(self) -> dict[str, object]:
        return {
            "agreement": self.agreement,
            "objective": self.objective,
            "kind": self.kind,
            "classification": self.classification,
            "old": self.old,
            "new": self.new,
            "detail": self.detail,
            "location": None if self.location is None else self.location.to_dict(),
        }


def diff(old: m.Model, new: m.Model) -> list[Change]:
    """The changes in meaning from `old` to `new`, agreements in name order; within one
    agreement, agreement-level changes first (in `AGREEMENT_KINDS` order), then each objective
    in the new side's order (removed objectives last, in the old side's order)."""
    before, after = _Side(old), _Side(new)
    out: list[Change] = []
    for name in sorted(old.agreements.keys() | new.agreements.keys()):
        a, b = old.agreements.get(name), new.agreements.get(name)
        if a is None:
            assert b is not None
            out.append(_whole_agreement(b, after, added=True))
        elif b is None:
            out.append(_whole_agreement(a, before, added=False))
        else:
            out.extend(_Agreements(a, b, before, after).changes())
    return out


def counts(changes: Iterable[Change]) -> dict[Classification, int]:
    """How many changes of each classification, every classification present."""
    found: dict[Classification, int] = dict.fromkeys(CLASSIFICATIONS, 0)
    for c in changes:
        found[c.classification] += 1
    return found


# ------------------------------------------------------------------------------------ sides


class _Side:
    """A model with what locations need: its revision and its agreements' syntax trees."""

    def __init__(self, model: m.Model):
        self.model = model
        revision = getattr(model, "revision", None)
        self.revision = revision if isinstance(revision, str) else None
        self._nodes: dict[Span, ast.Agreement] | None = None

    def loc(self, span: Span | None) -> Location | None:
        if span is None or span.line <= 0:
            return None
        return Location(span.file, span.line, self.revision)

    def attr_span(self, agreement: m.Agreement, key: str) -> Span | None:
        """The span of an agreement's attribute (`status agreed`), None when not written."""
        node = self._node(agreement)
        if node is None:
            return None
        for item in node.items:
            if isinstance(item, ast.Attribute) and item.key == key:
                return item.span
        return None

    def block_span(self, agreement: m.Agreement, kind: type[ast.Node]) -> Span | None:
        """The span of an agreement's first item of a kind (`burn_rate { ... }`), if any."""
        node = self._node(agreement)
        found = None if node is None else next(
            (i for i in node.items if isinstance(i, kind)), None)
        return None if found is None else found.span

    def _node(self, agreement: m.Agreement) -> ast.Agreement | None:
        if self._nodes is None:
            self._nodes = {
                decl.span: decl
                for f in self.model.files
                for decl in f.module.decls
                if isinstance(decl, ast.Agreement)
            }
        return self._nodes.get(agreement.span)


def _whole_agreement(a: m.Agreement, side: _Side, added: bool) -> Change:
    """An agreement that exists on one side only. Whether that adds or removes protection
    depends on whether it binds: only `agreed` agreements do."""
    text = _agreement_text(a)
    binding = a.status == "agreed"
    if added:
        return Change(a.name, None, "agreement_added", None, text,
                      TIGHTENED if binding else NEUTRAL, f"agreement added: {text}",
                      side.loc(a.span))
    return Change(a.name, None, "agreement_removed", text, None,
                  LOOSENED if binding else NEUTRAL, f"agreement removed: {text}",
                  side.loc(a.span))


def _agreement_text(a: m.Agreement) -> str:
    n = len(a.objectives)
    names = ", ".join(o.name for o in a.objectives)
    return (f"service {a.service.name}, status {a.status}, {n} objective{'s' if n != 1 else ''}"
            + (f" ({names})" if names else ""))


# ------------------------------------------------------------------------------- agreements


class _Agreements:
    """The changes between two versions of one agreement."""

    def __init__(self, a: m.Agreement, b: m.Agreement, before: _Side, after: _Side):
        self.a, self.b = a, b
        self.before, self.after = before, after
        self.out: list[Change] = []

    def add(self, kind: str, old: str | None, new: str | None, cls: Classification,
            detail: str, new_span: Span | None, old_span: Span | None,
            objective: str | None = None) -> None:
        where = self.after.loc(new_span) or self.before.loc(old_span)
        self.out.append(Change(self.a.name, objective, kind, old, new, cls, detail, where))

    def attr(self, kind: str, old: str | None, new: str | None, cls: Classification,
             detail: str, key: str | None = None) -> None:
        """An agreement-level change located at its attribute (else at the agreement)."""
        key = key or kind
        self.add(kind, old, new, cls, detail,
                 self.after.attr_span(self.b, key) or self.b.span,
                 self.before.attr_span(self.a, key) or self.a.span)

    def changes(self) -> list[Change]:
        a, b = self.a, self.b
        if a.status != b.status:
            self.attr("status", a.status, b.status, NEUTRAL, f"status {a.status} -> {b.status}")
        self._service()
        for kind in ("customer", "provider"):
            va, vb = getattr(a, kind), getattr(b, kind)
            if va != vb:
                ta, tb = _quoted(va), _quoted(vb)
                self.attr(kind, ta, tb, NEUTRAL, f"{kind} {_s(ta)} -> {_s(tb)}")
        self._effective()
        if a.timezone != b.timezone:
            self.attr("timezone", a.timezone, b.timezone, NEUTRAL,
                      f"timezone {a.timezone} -> {b.timezone}")
        self._period()
        self._agreement_hours()
        self._fee()
        self._credit_cap()
        self._review()
        self._notify()
        self._burn_rate()
        self._exclusions()
        self._objectives()
        return self.out

    def _service(self) -> None:
        sa, sb = self.a.service, self.b.service
        if (sa.id, sa.key) == (sb.id, sb.key):
            return
        ta, tb = _service_text(sa), _service_text(sb)
        if sa.id == sb.id:
            detail = f"service {sb.name}: data key `{sa.key}` -> `{sb.key}`"
        else:
            detail = f"service {ta} -> {tb}"
        self.attr("service", ta, tb, NEUTRAL, detail)

    def _effective(self) -> None:
        a, b = self.a, self.b
        if (a.effective_start, a.effective_end) == (b.effective_start, b.effective_end):
            return
        ta = _effective_text(a.effective_start, a.effective_end)
        tb = _effective_text(b.effective_start, b.effective_end)
        sa, ea = a.effective_start or dt.date.min, a.effective_end or dt.date.max
        sb, eb = b.effective_start or dt.date.min, b.effective_end or dt.date.max
        extended = sb < sa or eb > ea
        shortened = sb > sa or eb < ea
        cls = (TIGHTENED if extended and not shortened
               else LOOSENED if shortened and not extended else NEUTRAL)
        notes = [n for n in (_moved("starts", sa, sb), _moved("ends", ea, eb)) if n]
        self.attr("effective", ta, tb, cls,
                  f"effective {_s(ta)} -> {_s(tb)} ({', '.join(notes)})")

    def _period(self) -> None:
        pa, pb = self.a.period, self.b.period
        if pa == pb:
            return
        la, lb = _nominal_seconds(pa), _nominal_seconds(pb)
        cls = TIGHTENED if lb < la else LOOSENED if lb > la else NEUTRAL
        note = {TIGHTENED: " (shorter periods)", LOOSENED: " (longer periods)", NEUTRAL: ""}[cls]
        self.attr("period", pa.label, pb.label, cls, f"period {pa.label} -> {pb.label}{note}")

    def _agreement_hours(self) -> None:
        ha, hb = self.a.hours, self.b.hours
        cls = _hours_change(ha, hb)
        if cls is None:
            return
        ta, tb = _calendar_text(ha), _calendar_text(hb)
        self.attr("hours", ta, tb, cls, f"hours {ta} -> {tb}{_coverage_note(cls)}")

    def _fee(self) -> None:
        fa, fb = self.a.fee, self.b.fee
        if fa == fb:
            return
        ta, tb = _money_text(fa), _money_text(fb)
        note = ""
        if fa is not None and fb is not None and fa.currency == fb.currency:
            delta = fb.amount - fa.amount
            note = f" ({_signed_money(delta, fb.currency)}"
            if fa.amount:
                pct = (delta / fa.amount * 100).quantize(Decimal("0.01"))
                note += f", {_sign(pct)}{_num(pct)}%"
            note += ")"
        self.attr("fee", ta, tb, NEUTRAL, f"fee {_s(ta)} -> {_s(tb)}{note}")

    def _credit_cap(self) -> None:
        ca, cb = self.a.credit_cap, self.b.credit_cap
        if ca == cb:
            return
        inf = Decimal("Infinity")
        va, vb = (inf if ca is None else ca), (inf if cb is None else cb)
        cls = TIGHTENED if vb > va else LOOSENED
        ta, tb = _percent_or_none(ca), _percent_or_none(cb)
        note = f" ({_points(cb - ca)})" if ca is not None and cb is not None else (
            " (no cap)" if cb is None else " (credits now capped)")
        self.attr("credit_cap", ta, tb, cls, f"credit_cap {_s(ta)} -> {_s(tb)}{note}")

    def _review(self) -> None:
        ra, rb = self.a.review, self.b.review
        if ra == rb:
            return
        ta, tb = _review_text(ra), _review_text(rb)
        self.add("review", ta, tb, NEUTRAL, f"review {_s(ta)} -> {_s(tb)}",
                 rb.span if rb is not None else self.b.span,
                 ra.span if ra is not None else self.a.span)

    def _notify(self) -> None:
        a, b = self.a, self.b
        if (sorted(a.notify), sorted(a.notify_on)) == (sorted(b.notify), sorted(b.notify_on)):
            return
        ta, tb = _notify_text(a), _notify_text(b)
        self.attr("notify", ta, tb, NEUTRAL, f"notify {_s(ta)} -> {_s(tb)}")

    def _burn_rate(self) -> None:
        """The alerts in force, defaults included: writing the defaults out is no change.
        Alerts say when people hear of a fast burn, not what is promised: neutral."""
        ra, rb = self.a.burn_rates, self.b.burn_rates
        if ra == rb:
            return
        ta, tb = _burn_rates_text(ra), _burn_rates_text(rb)
        self.add("burn_rate", ta, tb, NEUTRAL, f"burn_rate {_s(ta)} -> {_s(tb)}",
                 self.after.block_span(self.b, ast.BurnRate) or self.b.span,
                 self.before.block_span(self.a, ast.BurnRate) or self.a.span)

    # ---------------------------------------------------------------------------- exclusions

    def _exclusions(self) -> None:
        old = _unique_exclusions(self.a.exclusions)
        new = _unique_exclusions(self.b.exclusions)
        removed = [k for k in old if k not in new]
        added = [k for k in new if k not in old]
        pairs: list[tuple[_Excl, _Excl]] = []
        for r in list(removed):
            match = next((n for n in added if _same_slot(old[r], new[n])), None)
            if match is not None:
                pairs.append((old[r], new[match]))
                removed.remove(r)
                added.remove(match)
        for xa, xb in sorted(pairs, key=lambda p: p[1].text):
            cls = _combine(_coverage_change(xa, xb), _available_change(xa.x, xb.x))
            note = {TIGHTENED: " (less time excluded)", LOOSENED: " (more time excluded)",
                    NEUTRAL: ""}[cls]
            self.add("exclusion_changed", xa.text, xb.text, cls,
                     f"exclusion {xa.text} -> {xb.text}{note}", xb.x.span, xa.x.span)
        for x in sorted((old[k] for k in removed), key=lambda e: e.text):
            self.add("exclusion_removed", x.text, None, TIGHTENED,
                     f"exclusion removed: {x.text}", None, x.x.span)
        for x in sorted((new[k] for k in added), key=lambda e: e.text):
            self.add("exclusion_added", None, x.text, LOOSENED,
                     f"exclusion added: {x.text}", x.x.span, None)

    # ---------------------------------------------------------------------------- objectives

    def _objectives(self) -> None:
        old = {o.name: o for o in self.a.objectives}
        new = {o.name: o for o in self.b.objectives}
        names = [*new, *(n for n in old if n not in new)]
        for name in names:
            oa, ob = old.get(name), new.get(name)
            if oa is None:
                assert ob is not None
                text = _objective_text(ob)
                self.add("objective_added", None, text, TIGHTENED,
                         f"objective added: {text}", ob.span, None, name)
            elif ob is None:
                text = _objective_text(oa)
                self.add("objective_removed", text, None, LOOSENED,
                         f"objective removed: {text}", None, oa.span, name)
            else:
                self._objective(oa, ob)

    def _objective(self, oa: m.Objective, ob: m.Objective) -> None:
        name = ob.name
        ka, kb = _KEY.indicator(oa.indicator), _KEY.indicator(ob.indicator)
        if ka != kb:
            ta, tb = _SHOW.indicator(oa.indicator), _SHOW.indicator(ob.indicator)
            detail = f"indicator {ta} -> {tb}"
            if ta == tb:  # the same text: the source declaration or a calendar changed
                detail = f"indicator {tb}: {_source_change(oa.indicator, ob.indicator)}"
                ta, tb = _with_source(oa.indicator), _with_source(ob.indicator)
            cls = _indicator_change(oa, ob)
            self.add("indicator", ta, tb, cls, detail, ob.span, oa.span, name)
        self._target(oa, ob)
        inherited = (_calendar_key(oa.hours) == _calendar_key(self.a.hours)
                     and _calendar_key(ob.hours) == _calendar_key(self.b.hours))
        hours = None if inherited else _hours_change(oa.hours, ob.hours)
        if hours is not None:
            ta, tb = _calendar_text(oa.hours), _calendar_text(ob.hours)
            self.add("hours", ta, tb, hours, f"hours {ta} -> {tb}{_coverage_note(hours)}",
                     ob.span, oa.span, name)
        self._credits(oa, ob)

    def _target(self, oa: m.Objective, ob: m.Objective) -> None:
        ua, ub = _unit_of(oa.indicator), _unit_of(ob.indicator)
        ta, tb = oa.target, ob.target
        va, vb = _normalized(ta.value, ua), _normalized(tb.value, ub)
        if (ta.op, va) == (tb.op, vb) and ua[0] == ub[0]:
            return
        sa, sb = f"{ta.op} {_amount(ta.value, ua)}", f"{tb.op} {_amount(tb.value, ub)}"
        cls = _target_change(ta.op, va, tb.op, vb) if ua[0] == ub[0] else NEUTRAL
        delta = f" ({_delta(vb - va, ub)})" if ua[0] == ub[0] and va != vb else ""
        if ta.op == tb.op:
            detail = f"target {_amount(ta.value, ua)} -> {_amount(tb.value, ub)}{delta}"
        else:
            detail = f"target {sa} -> {sb}{delta}"
        self.add("target", sa, sb, cls, detail, tb.span, ta.span, ob.name)

    def _credits(self, oa: m.Objective, ob: m.Objective) -> None:
        ua, ub = _unit_of(oa.indicator), _unit_of(ob.indicator)
        ka, kb = _tier_key(oa.credit, ua), _tier_key(ob.credit, ub)
        if ka == kb:
            return
        cls = _credit_change(ka, kb, fraction=ua[0] == ub[0] == "fraction")
        if cls is None:
            return  # other tiers, same credit at every measured value
        ta, tb = _tiers_text(oa.credit, ua), _tiers_text(ob.credit, ub)
        note = {TIGHTENED: "more credit", LOOSENED: "less credit",
                NEUTRAL: "more credit at some values, less at others"}[cls]
        self.add("credit_tiers", ta, tb, cls, f"credit tiers {_s(ta)} -> {_s(tb)} ({note})",
                 ob.credit[0].span if ob.credit else ob.span,
                 oa.credit[0].span if oa.credit else oa.span, ob.name)


# ---------------------------------------------------------------------- classification rules


def _combine(*found: Classification | None) -> Classification:
    """Several aspects of one change: agreeing directions keep theirs, else neutral."""
    seen = {c for c in found if c is not None}
    return seen.pop() if len(seen) == 1 else NEUTRAL


def _target_change(op_a: str, va: Decimal, op_b: str, vb: Decimal) -> Classification:
    """For `>=`/`>` a higher bar is tighter, for `<=`/`<` a lower one; at the same value the
    strict operator is the tighter. Across directions (or `==`) nothing can be said."""
    up, down = {">=", ">"}, {"<=", "<"}
    if op_a in up and op_b in up:
        bar_a, bar_b = (va, op_a == ">"), (vb, op_b == ">")
    elif op_a in down and op_b in down:
        bar_a, bar_b = (-va, op_a == "<"), (-vb, op_b == "<")
    else:
        return NEUTRAL
    return TIGHTENED if bar_b > bar_a else LOOSENED if bar_b < bar_a else NEUTRAL


def _indicator_change(oa: m.Objective, ob: m.Objective) -> Classification:
    """Two indicator edits have a direction: the percentile of a `<=` target (p95 -> p99 is
    tighter) and the granularity of an uptime (coarser floors away more downtime: looser).
    Anything else measures something else: neutral."""
    ia, ib = oa.indicator, ob.indicator
    if isinstance(ia, m.ValueIndicator) and isinstance(ib, m.ValueIndicator) \
            and ia.function == ib.function == "percentile" and ia.q != ib.q \
            and _KEY.indicator(replace(ia, q=ib.q)) == _KEY.indicator(ib):
        assert ia.q is not None and ib.q is not None
        higher = ib.q > ia.q
        if {oa.target.op, ob.target.op} <= {"<=", "<"}:
            return TIGHTENED if higher else LOOSENED
        if {oa.target.op, ob.target.op} <= {">=", ">"}:
            return LOOSENED if higher else TIGHTENED
        return NEUTRAL
    if isinstance(ia, m.UptimeIndicator) and isinstance(ib, m.UptimeIndicator) \
            and _KEY.selection(ia.selection) == _KEY.selection(ib.selection):
        ga, gb = ia.granularity_seconds or 0, ib.granularity_seconds or 0
        return LOOSENED if gb > ga else TIGHTENED if gb < ga else NEUTRAL
    return NEUTRAL


TierKey = frozenset[tuple[str, Decimal, Decimal]]


def _tier_key(tiers: tuple[m.CreditTier, ...], unit: _Unit) -> TierKey:
    return frozenset(
        (t.direction, _normalized(t.threshold, unit).normalize(), t.percent.normalize())
        for t in tiers
    )


def _credit_at(tiers: TierKey, v: Decimal) -> Decimal:
    """The credit a measured value earns: the largest of the matching tiers (strict bounds)."""
    return max(
        (pct for d, t, pct in tiers if (v < t if d == "below" else v > t)), default=Decimal(0)
    )


def _credit_change(a: TierKey, b: TierKey, fraction: bool) -> Classification | None:
    """Compare the credit paid at every measured value. Both schedules are step functions of
    the value that only change at a threshold, so every threshold, a point between each two
    neighbouring ones and a point beyond each end decide it. None: the same credit everywhere."""
    points = sorted({t for _, t, _ in a | b})
    if not points:
        return None
    samples = set(points)
    samples.update((x + y) / 2 for x, y in pairwise(points))
    samples.update((points[0] - 1, points[-1] + 1))
    if fraction:
        samples = {s for s in samples | {Decimal(0), Decimal(1)} if 0 <= s <= 1}
    more = less = False
    for v in sorted(samples):
        ca, cb = _credit_at(a, v), _credit_at(b, v)
        more |= cb > ca
        less |= cb < ca
    if not (more or less):
        return None
    return NEUTRAL if more and less else TIGHTENED if more else LOOSENED


def _nominal_seconds(p: m.Period) -> int:
    if p.kind == "rolling":
        return p.rolling_seconds or 0
    day = 86400
    return {"hourly": 3600, "daily": day, "weekly": 7 * day, "monthly": 30 * day,
            "quarterly": 90 * day, "yearly": 365 * day}[p.kind]


def _moved(what: str, a: dt.date, b: dt.date) -> str | None:
    if a == b:
        return None
    unbounded = (dt.date.min, dt.date.max)
    if b in unbounded:
        return "now open-ended" if what == "ends" else "now without a start"
    if a in unbounded:
        return f"now {what} on {b.isoformat()}"
    days = abs((b - a).days)
    later = "later" if b > a else "earlier"
    return f"{what} {days} day{'s' if days != 1 else ''} {later}"


# ------------------------------------------------------------------------- calendars (hours)

DAY_MINUTES = 1440
ALL_WEEK = (1 << (7 * DAY_MINUTES)) - 1
ALWAYS = ("always",)


def _window_mask(w: m.WeeklyWindow) -> int:
    one_day = (1 << w.end_minute) - (1 << w.start_minute)
    return sum(one_day << (day * DAY_MINUTES) for day in w.days)


def _hours_mask(cal: m.Calendar) -> int:
    if not cal.hours:
        return ALL_WEEK
    mask = 0
    for w in cal.hours:
        mask |= _window_mask(w)
    return mask


def _calendar_key(cal: m.Calendar | None) -> tuple[object, ...]:
    """What a calendar means: its time zone, the minutes of the week it covers, its holidays.
    A calendar covering every minute with no holidays means the same as no hours at all."""
    if cal is None:
        return ALWAYS
    mask = _hours_mask(cal)
    if mask == ALL_WEEK and not cal.holidays and not cal.regions:
        return ALWAYS
    return (cal.timezone, mask, tuple(sorted(set(cal.holidays))), cal.regions)


def _hours_change(a: m.Calendar | None, b: m.Calendar | None) -> Classification | None:
    """More counted time is tighter (the customer is covered for longer); None: no change."""
    ka, kb = _calendar_key(a), _calendar_key(b)
    if ka == kb:
        return None
    if ka == ALWAYS:
        return LOOSENED
    if kb == ALWAYS:
        return TIGHTENED
    assert a is not None and b is not None
    if a.timezone != b.timezone:
        return NEUTRAL
    ma, mb = _hours_mask(a), _hours_mask(b)
    b_covers_a = (not (ma & ~mb) and set(b.holidays) <= set(a.holidays)
                  and set(b.regions) <= set(a.regions))
    a_covers_b = (not (mb & ~ma) and set(a.holidays) <= set(b.holidays)
                  and set(a.regions) <= set(b.regions))
    if b_covers_a and not a_covers_b:
        return TIGHTENED
    if a_covers_b and not b_covers_a:
        return LOOSENED
    return NEUTRAL


def _coverage_note(cls: Classification) -> str:
    return {TIGHTENED: " (more hours count)", LOOSENED: " (fewer hours count)", NEUTRAL: ""}[cls]


# ------------------------------------------------------------------------------- exclusions


@dataclass(frozen=True)
class _Excl:
    x: m.Exclusion
    key: tuple[object, ...]
    text: str


def _unique_exclusions(xs: Iterable[m.Exclusion]) -> dict[tuple[object, ...], _Excl]:
    """Exclusions by meaning (excluded time is a union: a repeated one adds nothing; the reason
    is a description)."""
    out: dict[tuple[object, ...], _Excl] = {}
    for x in xs:
        key = (x.kind, x.start, x.end, _weekly_key(x.weekly),
               None if x.selection is None else _KEY.selection(x.selection), x.as_available)
        out.setdefault(key, _Excl(x, key, _exclusion_text(x)))
    return out


def _weekly_key(w: m.WeeklyWindow | None) -> int | None:
    return None if w is None else _window_mask(w)


def _same_slot(a: _Excl, b: _Excl) -> bool:
    """Whether an added exclusion is an edit of a removed one: the same kind, and the same
    time (overlapping windows) or the same source."""
    xa, xb = a.x, b.x
    if xa.kind != xb.kind:
        return False
    if xa.kind == "window":
        assert xa.start and xa.end and xb.start and xb.end
        return xa.start < xb.end and xb.start < xa.end
    if xa.kind == "weekly":
        assert xa.weekly and xb.weekly
        return bool(_window_mask(xa.weekly) & _window_mask(xb.weekly))
    assert xa.selection and xb.selection
    return _KEY.source(xa.selection.source, set()) == _KEY.source(xb.selection.source, set())


def _coverage_change(a: _Excl, b: _Excl) -> Classification | None:
    """More excluded time is looser; None: the same time."""
    xa, xb = a.x, b.x
    if xa.kind == "window":
        assert xa.start and xa.end and xb.start and xb.end
        if (xa.start, xa.end) == (xb.start, xb.end):
            return None
        wider = xb.start <= xa.start and xb.end >= xa.end
        narrower = xb.start >= xa.start and xb.end <= xa.end
        return LOOSENED if wider else TIGHTENED if narrower else NEUTRAL
    if xa.kind == "weekly":
        assert xa.weekly and xb.weekly
        ma, mb = _window_mask(xa.weekly), _window_mask(xb.weekly)
        if ma == mb:
            return None
        return LOOSENED if not ma & ~mb else TIGHTENED if not mb & ~ma else NEUTRAL
    assert xa.selection and xb.selection
    return None if _KEY.selection(xa.selection) == _KEY.selection(xb.selection) else NEUTRAL


def _available_change(a: m.Exclusion, b: m.Exclusion) -> Classification | None:
    """`as available` counts the excluded time as good time, which measures higher: looser."""
    if a.as_available == b.as_available:
        return None
    return LOOSENED if b.as_available else TIGHTENED


# ------------------------------------------------------------------------ printing the model


class _Printer:
    """Indicators, selections and conditions as text. With `key=True` the text is a canonical
    form for comparison only: sources and calendars by what they mean rather than their names,
    literals by value, commutative operands in a fixed order. Otherwise it is for people."""

    def __init__(self, key: bool):
        self.key = key

    def indicator(self, ind: m.Indicator) -> str:
        used = _indicator_columns(ind)
        return self._indicator(ind, used)

    def selection(self, sel: m.Selection) -> str:
        return self._selection(sel, None, _columns(sel.condition))

    def source(self, source: m.Source, used: set[str]) -> str:
        if not self.key:
            return format_ident(source.name)
        units = tuple(sorted((c, u) for c, u in source.units.items() if c in used))
        meaning = (source.kind, source.table, source.time_column, source.time_form,
                   source.start_column, source.end_column, source.key_column, units)
        return "source_" + _digest(meaning)

    def _indicator(self, ind: m.Indicator, used: set[str]) -> str:
        match ind:
            case m.RatioIndicator(total=total, good=good):
                src = self.source(total.source, used)
                if total.condition is None:
                    return f"ratio({src} where {self._cond(good, total)})"
                if not self.key and isinstance(good, ast.BinOp) and good.op == "and" \
                        and good.right == total.condition:
                    good = good.left
                return (f"ratio({src} where {self._cond(good, total)}, "
                        f"{src} where {self._cond(total.condition, total)})")
            case m.ValueIndicator(function=function, selection=sel, column=column, q=q):
                arg = self._selection(sel, column, used)
                if function != "percentile":
                    return f"{function}({arg})"
                assert q is not None
                method = ", method: linear" if ind.method == "linear" else ""
                short = next((k for k, v in _SHORTHANDS.items() if v == q), None)
                if short is not None and not self.key:
                    return f"{short}({arg}{method})"
                return f"percentile({arg}, {_num(q)}{method})"
            case m.UptimeIndicator(selection=sel, granularity_seconds=g):
                gran = f", granularity: {_duration(Decimal(g))}" if g else ""
                return f"uptime({self._selection(sel, None, used)}{gran})"
            case m.TimeslicesIndicator(slice_seconds=size, inner=inner, op=op,
                                       threshold=threshold, empty=empty):
                unit = _unit_of(inner)
                value = (_num(_normalized(threshold, unit)) if self.key
                         else _amount(threshold, unit))
                tail = f", empty: {empty}" if empty != "good" else ""
                return (f"timeslices({_duration(Decimal(size))}, "
                        f"{self._indicator(inner, used)} {op} {value}{tail})")
            case m.SliceMeanIndicator(slice_seconds=size, inner=inner, empty=empty):
                default = "good" if isinstance(inner, m.RatioIndicator) else "skip"
                tail = f", empty: {empty}" if empty != default else ""
                inner_text = self._indicator(inner, used)
                return f"slice_mean({_duration(Decimal(size))}, {inner_text}{tail})"
        raise TypeError(f"not an indicator: {type(ind).__name__}")  # pragma: no cover

    def _selection(self, sel: m.Selection, column: str | None, used: set[str]) -> str:
        text = self.source(sel.source, used)
        if column is not None:
            text += "." + format_ident(column)
        if sel.condition is not None:
            text += " where " + self._cond(sel.condition, sel)
        return text

    def _cond(self, e: ast.Expr, sel: m.Selection) -> str:
        return format_expr(self._rewrite(e, sel))

    def _rewrite(self, e: ast.Expr, sel: m.Selection) -> ast.Expr:
        match e:
            case ast.Name(parts=parts):
                return ast.Name((parts[-1],))  # a column, without the source it was written on
            case ast.Call(func=func, args=args):
                if func.dotted == "business_duration" and len(args) == 3:
                    first, second, cal = args
                    return ast.Call(func, (self._rewrite(first, sel),  # type: ignore[arg-type]
                                           self._rewrite(second, sel),  # type: ignore[arg-type]
                                           self._calendar_ref(cal, sel)))
                return ast.Call(func, tuple(
                    a if isinstance(a, ast.NamedArg) else self._rewrite(a, sel) for a in args))
            case ast.BinOp(op=("and" | "or") as op) if self.key:
                items = sorted((self._rewrite(x, sel) for x in _flatten(e, op)), key=format_expr)
                unique = list(dict.fromkeys(items))
                return reduce(lambda left, right: ast.BinOp(op, left, right), unique)
            case ast.BinOp(op=op, left=left, right=right):
                left, right = self._rewrite(left, sel), self._rewrite(right, sel)
                if self.key and op in _MIRRORED and format_expr(left) > format_expr(right):
                    return ast.BinOp(_MIRRORED[op], right, left)  # `500 > status`: `status < 500`
                return ast.BinOp(op, left, right)
            case ast.Not(operand=x) | ast.Neg(operand=x) | ast.IsNull(operand=x):
                return replace(e, operand=self._rewrite(x, sel))
            case ast.InList(operand=x, items=items):
                new_items = [self._rewrite(i, sel) for i in items]
                if self.key:
                    new_items = sorted(dict.fromkeys(new_items), key=format_expr)
                return replace(e, operand=self._rewrite(x, sel), items=tuple(new_items))
            case ast.InRange(operand=x, low=low, high=high):
                return replace(e, operand=self._rewrite(x, sel),
                               low=self._literal(low), high=self._literal(high))
        return self._literal(e)

    def _literal(self, e: ast.Expr) -> ast.Expr:
        if not self.key:
            return e
        match e:
            case ast.NumberLit(value=v):
                return ast.NumberLit(_num(v))
            case ast.PercentLit(value=v):
                return ast.PercentLit(_num(v * 100))
            case ast.DurationLit(seconds=s):
                return ast.DurationLit(_num(s), "s")
            case ast.TimestampLit(value=v) if v is not None and v.tzinfo is not None:
                return ast.TimestampLit(v.astimezone(dt.UTC).isoformat())
        return e

    def _calendar_ref(self, ref: ast.Expr, sel: m.Selection) -> ast.Expr:
        cal = sel.calendar(ref.dotted) if isinstance(ref, ast.Name) else None
        if cal is None:
            return ref
        if self.key:
            return ast.Name(("calendar_" + _digest(_calendar_key(cal)),))
        return ast.Name((cal.name,))


_MIRRORED = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_KEY = _Printer(key=True)
_SHOW = _Printer(key=False)
_SHORTHANDS = {"p50": Decimal(50), "p75": Decimal(75), "p90": Decimal(90), "p95": Decimal(95),
               "p99": Decimal(99), "p999": Decimal("99.9")}


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def _flatten(e: ast.Expr, op: str) -> Iterator[ast.Expr]:
    if isinstance(e, ast.BinOp) and e.op == op:
        yield from _flatten(e.left, op)
        yield from _flatten(e.right, op)
    else:
        yield e


def _columns(e: ast.Node | None) -> set[str]:
    """The columns a condition reads (the calendar of `business_duration` is not a column)."""
    found: set[str] = set()

    def walk(n: object) -> None:
        if isinstance(n, ast.Name):
            found.add(n.parts[-1])
        elif isinstance(n, ast.Call):
            args = n.args[:2] if n.func.dotted == "business_duration" else n.args
            for a in args:
                walk(a.value if isinstance(a, ast.NamedArg) else a)
        elif isinstance(n, ast.Node):
            for f in fields(n):
                walk(getattr(n, f.name))
        elif isinstance(n, tuple):
            for item in n:
                walk(item)

    walk(e)
    return found


def _indicator_columns(ind: m.Indicator) -> set[str]:
    match ind:
        case m.RatioIndicator(total=total, good=good):
            return _columns(good) | _columns(total.condition)
        case m.ValueIndicator(selection=sel, column=column):
            return _columns(sel.condition) | ({column} if column else set())
        case m.UptimeIndicator(selection=sel):
            return _columns(sel.condition)
        case m.TimeslicesIndicator(inner=inner) | m.SliceMeanIndicator(inner=inner):
            return _indicator_columns(inner)
    return set()  # pragma: no cover


def _indicator_sources(ind: m.Indicator) -> m.Source:
    match ind:
        case m.RatioIndicator(total=sel) | m.ValueIndicator(selection=sel) \
                | m.UptimeIndicator(selection=sel):
            return sel.source
        case m.TimeslicesIndicator(inner=inner) | m.SliceMeanIndicator(inner=inner):
            return _indicator_sources(inner)
    raise TypeError(type(ind).__name__)  # pragma: no cover


def _source_parts(ind: m.Indicator) -> dict[str, str]:
    """What an indicator reads from its source's declaration, part by part."""
    s = _indicator_sources(ind)
    used = _indicator_columns(ind)
    parts = {"table": f"from {format_string(s.table)}"}
    if s.kind == "events":
        form = "" if s.time_form == "aware" else f" {s.time_form}"
        parts["time"] = f"time {s.time_column}{form}"
    else:
        parts["interval"] = f"start {s.start_column}, end {s.end_column}"
    parts["key"] = f"key {s.key_column}" if s.key_column else "no key"
    for c, u in sorted(s.units.items()):
        if c in used:
            parts[f"unit {c}"] = f"units {c}: {u}"
    return parts


def _with_source(ind: m.Indicator) -> str:
    """An indicator with its source's declaration, for when only the declaration changed."""
    s = _indicator_sources(ind)
    return f"{_SHOW.indicator(ind)} [{s.kind} {s.name} {'; '.join(_source_parts(ind).values())}]"


def _source_change(a: m.Indicator, b: m.Indicator) -> str:
    pa, pb = _source_parts(a), _source_parts(b)
    moved = [
        f"{pa.get(k, 'none')} -> {pb.get(k, 'none')}"
        for k in dict.fromkeys([*pa, *pb]) if pa.get(k) != pb.get(k)
    ]
    if not moved:
        return "a calendar it names changed its hours"
    return f"source {_indicator_sources(b).name}: " + ", ".join(moved)


def _objective_text(o: m.Objective) -> str:
    unit = _unit_of(o.indicator)
    text = f"{_SHOW.indicator(o.indicator)} {o.target.op} {_amount(o.target.value, unit)}"
    if o.hours is not None:
        text += f", hours {_calendar_text(o.hours)}"
    if o.credit:
        text += f", credit {_tiers_text(o.credit, unit)}"
    return text


def _exclusion_text(x: m.Exclusion) -> str:
    text = exclusion_scope_text(x)
    if x.reason:
        text += " " + format_string(x.reason)
    if x.as_available:
        text += " as available"
    return text


def _timestamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _days_text(days: frozenset[int]) -> str:
    ordered = sorted(days)
    runs: list[list[int]] = []
    for d in ordered:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{m.WEEKDAYS[run[0]]}-{m.WEEKDAYS[run[-1]]}")
        else:
            parts.extend(m.WEEKDAYS[d] for d in run)
    return ",".join(parts)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window_text(w: m.WeeklyWindow) -> str:
    return f"{_days_text(w.days)} {_clock(w.start_minute)}-{_clock(w.end_minute)}"


def _calendar_text(cal: m.Calendar | None) -> str:
    if cal is None:
        return "all hours"
    hours = "; ".join(_window_text(w) for w in cal.hours) or "every hour"
    holidays = len(set(cal.holidays))
    extra = f", {holidays} holiday{'s' if holidays != 1 else ''}" if holidays else ""
    if cal.regions:
        extra += f", holidays of {', '.join(cal.regions)}"
    return f"{cal.name} ({cal.timezone} {hours}{extra})"


def _service_text(s: m.Service) -> str:
    return s.name if s.key == s.name else f"{s.name} (key `{s.key}`)"


def _effective_text(start: dt.date | None, end: dt.date | None) -> str | None:
    if start is None and end is None:
        return None
    first = start.isoformat() if start else ""
    return f"{first} .." + (f" {end.isoformat()}" if end else "")


def _review_text(r: m.Review | None) -> str | None:
    if r is None:
        return None
    text = f"every {r.every} {r.unit}"
    return text + (f", reviewed {r.last.isoformat()}" if r.last else "")


def _notify_text(a: m.Agreement) -> str | None:
    if not a.notify:
        return None
    return ", ".join(format_string(r) for r in a.notify) + " on " + ", ".join(a.notify_on)


def _burn_rates_text(windows: tuple[m.BurnRateWindow, ...]) -> str:
    """`page 2% in 1h / 5m; ticket 10% in 3d / 6h`, or `none`."""
    if not windows:
        return "none"
    return "; ".join(burn_rate_text(w) for w in windows)


def _tiers_text(tiers: tuple[m.CreditTier, ...], unit: _Unit) -> str | None:
    if not tiers:
        return None
    return ", ".join(
        f"{t.direction} {_amount(t.threshold, unit)} => {_num(t.percent)}%" for t in tiers
    )


def _quoted(text: str | None) -> str | None:
    return None if text is None else format_string(text)


def _s(text: str | None) -> str:
    return "none" if text is None else text


# ---------------------------------------------------------------------------------- values

_Unit = tuple[Literal["fraction", "duration", "number"], str | None]


def _unit_of(ind: m.Indicator) -> _Unit:
    """How the indicator's values (and so its target and tiers) are written."""
    if m.is_fraction(ind):
        return ("fraction", None)
    if isinstance(ind, m.SliceMeanIndicator):
        return _unit_of(ind.inner)
    if isinstance(ind, m.ValueIndicator) and ind.unit is not None:
        return ("duration", ind.unit)
    return ("number", None)


def _normalized(value: Decimal, unit: _Unit) -> Decimal:
    """A value comparable across unit declarations: durations in seconds."""
    if unit[0] == "duration" and unit[1] is not None:
        return value * ast.DURATION_SECONDS[unit[1]]
    return value


def _amount(value: Decimal, unit: _Unit) -> str:
    if unit[0] == "fraction":
        return f"{_num(value * 100)}%"
    if unit[0] == "duration":
        return _duration(_normalized(value, unit))
    return _num(value)


def _delta(diff: Decimal, unit: _Unit) -> str:
    """A difference of normalized values (seconds for durations)."""
    if unit[0] == "fraction":
        return _points(diff)
    if unit[0] == "duration":
        return _sign(diff) + _duration(diff)
    return _sign(diff) + _num(diff)


def _points(diff: Decimal) -> str:
    points = diff * 100
    word = "point" if abs(points) == 1 else "points"
    return f"{_sign(points)}{_num(points)} {word}"


def _duration(seconds: Decimal) -> str:
    """The largest unit that writes the duration as a whole number (`1500ms`, `5m`, `2d`)."""
    if seconds == 0:
        return "0s"
    for unit in ("w", "d", "h", "m", "s", "ms"):
        amount = seconds / ast.DURATION_SECONDS[unit]
        if amount == amount.to_integral_value():
            return f"{_num(amount)}{unit}"
    return f"{_num(seconds * 1000)}ms"


def _num(d: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 99.90 -> 99.9, 1E+2 -> 100."""
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _sign(d: Decimal) -> str:
    return "+" if d > 0 else ""


def _percent_or_none(fraction: Decimal | None) -> str | None:
    return None if fraction is None else f"{_num(fraction * 100)}%"


def _money_text(money: m.Money | None) -> str | None:
    if money is None:
        return None
    return f"{_money_amount(money.amount, money.currency)} {money.currency}"


def _money_amount(amount: Decimal, currency: str) -> str:
    digits = CURRENCY_MINOR_UNITS.get(currency)
    if digits is None:
        return _num(amount)
    return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"


def _signed_money(delta: Decimal, currency: str) -> str:
    return f"{_sign(delta)}{_money_amount(delta, currency)} {currency}"


__all__ = [
    "AGREEMENT_KINDS",
    "CLASSIFICATIONS",
    "KINDS",
    "LOOSENED",
    "NEUTRAL",
    "OBJECTIVE_KINDS",
    "TIGHTENED",
    "Change",
    "Classification",
    "Location",
    "counts",
    "diff",
]


# --------------------------------------------------------------- public text for other reports


def indicator_text(ind: m.Indicator) -> str:
    """An indicator as a person would write it (`ratio(requests where status < 500)`), for the
    review report and the catalogue: one printer, so every output says it the same way."""
    return _SHOW.indicator(ind)


def exclusion_scope_text(x: m.Exclusion) -> str:
    """What an exclusion removes, without its reason: a UTC window, a weekly window (read in
    the agreement's time zone) or the intervals of a source."""
    if x.kind == "window":
        assert x.start and x.end
        return f"{_timestamp(x.start)} .. {_timestamp(x.end)}"
    if x.kind == "weekly":
        assert x.weekly
        return f"weekly {_window_text(x.weekly)}"
    assert x.selection
    return _SHOW.selection(x.selection)


def calendar_text(cal: m.Calendar | None) -> str:
    """A calendar's name, zone, hours and holiday count; `all hours` for none."""
    return _calendar_text(cal)

