"""The impact of a change: what two versions of an estate would have decided over the same data.

    from slang.diff.impact import impact, whatif, render_impact

    edited = whatif(model, ["checkout_retail.availability=99.5%"])
    result = impact(model, edited, {"edge_requests": "data/requests/"},
                    choice=PeriodChoice("2026-10"), as_of=as_of)
    print(render_impact(result, "text"))

`impact` audits both models (drafts and proposals included, so a proposed amendment counts)
over the same tables, periods and clock, matches the results by agreement, objective and period
label, and keeps the periods whose status or credit changed. Money is `Decimal` throughout;
totals per currency are the credits owed after each agreement's credit cap. `slang diff
--impact` and `slang whatif` both call `impact` and `render_impact`: `whatif` only builds the
new model in memory first. See docs/diff.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from slang.diagnostics import Diagnostic, SlangError, error
from slang.engine.audit import PeriodChoice, audit
from slang.report.audit_report import AuditReport, rfc3339
from slang.semantics import model as m
from slang.semantics.indicators import threshold_value
from slang.semantics.values import did_you_mean
from slang.syntax import ast
from slang.syntax.span import Span

BAD_EDIT = "SLG0013"
UNKNOWN_TARGET = "SLG0014"
CAP = "credit cap"  # the objective column of a row for an agreement's credit-cap cut
NO_IMPACT = "no periods change status or credit"


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class PeriodImpact:
    """One period whose outcome differs. `objective` is None for the agreement's credit-cap cut
    (amounts are then the negative adjustments). A side without the result has status None."""

    agreement: str
    objective: str | None
    period: str
    period_start_us: int
    old_status: str | None
    new_status: str | None
    old_credit_percent: Decimal | None
    new_credit_percent: Decimal | None
    old_credit: Decimal | None  # money; None when the side has no result or no fee
    new_credit: Decimal | None
    old_currency: str | None
    new_currency: str | None

    @property
    def currency(self) -> str | None:
        return self.new_currency or self.old_currency

    @property
    def difference(self) -> Decimal | None:
        """new - old in one currency; None when the currencies differ or neither has money."""
        if self.old_credit is None and self.new_credit is None:
            return None
        if self.old_credit is not None and self.new_credit is not None \
                and self.old_currency != self.new_currency:
            return None
        old = Decimal(0) if self.old_credit is None else self.old_credit
        new = Decimal(0) if self.new_credit is None else self.new_credit
        return new - old

    def to_dict(self) -> dict[str, Any]:
        return {
            "agreement": self.agreement,
            "objective": self.objective,
            "period": self.period,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "old_credit_percent": _percent(self.old_credit_percent),
            "new_credit_percent": _percent(self.new_credit_percent),
            "old_credit": _text(self.old_credit),
            "new_credit": _text(self.new_credit),
            "difference": _text(self.difference),
            "currency": self.currency,
        }


@dataclass(frozen=True)
class CurrencyTotal:
    """Credits owed in one currency over every audited period, after the caps."""

    currency: str
    old: Decimal
    new: Decimal

    @property
    def difference(self) -> Decimal:
        return self.new - self.old

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "old": str(self.old), "new": str(self.new),
                "difference": str(self.difference)}


@dataclass(frozen=True)
class Impact:
    as_of: dt.datetime
    periods: tuple[PeriodImpact, ...]
    totals: tuple[CurrencyTotal, ...]  # by currency code
    only_old: tuple[str, ...]  # `agreement` or `agreement.objective`, audited on one side only
    only_new: tuple[str, ...]
    evaluated: int  # results compared (both sides together, matched pairs counted once)

    @property
    def changed(self) -> bool:
        return bool(self.periods or self.only_old or self.only_new)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": rfc3339(self.as_of),
            "periods": [p.to_dict() for p in self.periods],
            "totals": [t.to_dict() for t in self.totals],
            "only_old": list(self.only_old),
            "only_new": list(self.only_new),
            "evaluated": self.evaluated,
        }


def _text(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _percent(v: Decimal | None) -> str | None:
    """`15.00` and `15.0` are both `15`: the percentage without trailing zeros."""
    return None if v is None else format(v.normalize(), "f")


# ------------------------------------------------------------------------------------- impact


def impact(
    old: m.Model,
    new: m.Model,
    data: Mapping[str, str | os.PathLike[str]],
    *,
    choice: PeriodChoice | None = None,
    as_of: dt.datetime | None = None,
) -> Impact:
    """Audit `old` and `new` over the same data, periods and clock and compare the outcomes.
    Raises SlangError (from `audit`) for invalid policies or data."""
    as_of = as_of or dt.datetime.now(dt.UTC)
    choice = choice or PeriodChoice()
    before = audit(old, data, choice=choice, as_of=as_of, include_drafts=True)
    after = audit(new, data, choice=choice, as_of=as_of, include_drafts=True)
    return compare(before, after)


Key = tuple[str, str | None, str]


def compare(before: AuditReport, after: AuditReport) -> Impact:
    """The comparison behind `impact`, for two reports already computed over the same data."""
    rows: dict[Key, list[Any]] = {}
    starts: dict[Key, int] = {}
    for side, report in enumerate((before, after)):
        for r in report.results:
            key = (r.agreement.name, r.objective.name, r.period.label)
            rows.setdefault(key, [None, None])[side] = (
                r.status, r.credit_percent, r.credit_amount, r.currency)
            starts.setdefault(key, r.period.start_us)
        for adj in report.adjustments:
            key = (adj.agreement, None, adj.period)
            rows.setdefault(key, [None, None])[side] = (None, None, adj.amount, adj.currency)
            starts.setdefault(key, adj.period_start_us)
    periods: list[PeriodImpact] = []
    for key, (a, b) in rows.items():
        if a == b:
            continue
        a = a or (None, None, None, None)
        b = b or (None, None, None, None)
        same_currency = a[3] is None or b[3] is None or a[3] == b[3]
        if key[1] is None and (a[2] or 0) == (b[2] or 0) and same_currency:
            continue  # cap cuts: a missing cut is a cut of zero
        periods.append(PeriodImpact(key[0], key[1], key[2], starts[key], a[0], b[0], a[1], b[1],
                                    a[2], b[2], a[3], b[3]))
    periods.sort(key=lambda p: (p.agreement, p.objective is None, p.objective or "",
                                p.period_start_us, p.period))
    only_old, only_new = _one_sided(before, after)
    return Impact(
        as_of=after.as_of,
        periods=tuple(periods),
        totals=_totals(before, after),
        only_old=only_old,
        only_new=only_new,
        evaluated=sum(1 for k in rows if k[1] is not None),
    )


def _owed(report: AuditReport) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for r in report.results:
        if r.credit_amount is not None and r.currency is not None:
            out[r.currency] = out.get(r.currency, Decimal(0)) + r.credit_amount
    for adj in report.adjustments:
        out[adj.currency] = out.get(adj.currency, Decimal(0)) + adj.amount
    return out


def _totals(before: AuditReport, after: AuditReport) -> tuple[CurrencyTotal, ...]:
    a, b = _owed(before), _owed(after)
    zero = Decimal(0)
    return tuple(CurrencyTotal(c, a.get(c, zero), b.get(c, zero)) for c in sorted(a.keys() | b))


def _names(report: AuditReport) -> tuple[set[str], set[str]]:
    agreements: set[str] = set()
    objectives: set[str] = set()
    for ev in report.plan.evaluations:
        agreements.add(ev.agreement.name)
        objectives.add(f"{ev.agreement.name}.{ev.objective.name}")
    return agreements, objectives


def _one_sided(before: AuditReport, after: AuditReport) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Agreements, and objectives of agreements on both sides, audited on one side only."""
    (ag_a, ob_a), (ag_b, ob_b) = _names(before), _names(after)

    def only(ags: set[str], obs: set[str], other_ags: set[str], other_obs: set[str]
             ) -> tuple[str, ...]:
        out = set(ags - other_ags)
        out |= {o for o in obs - other_obs if o.split(".", 1)[0] in other_ags}
        return tuple(sorted(out))

    return only(ag_a, ob_a, ag_b, ob_b), only(ag_b, ob_b, ag_a, ob_a)


# ------------------------------------------------------------------------------------- whatif


EDIT = re.compile(r"\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=\s*(.*?)\s*")
VALUE = re.compile(r"(>=|<=|==|>|<)?\s*(\d+(?:\.\d+)?)\s*(%|[A-Za-z]+)?")
EDIT_EXAMPLE = ("write AGREEMENT.OBJECTIVE=TARGET, e.g. `api_enterprise.availability=99.95%`, "
                "`checkout_retail.latency=250ms` or `checkout_retail.availability=>=99.5%`")


@dataclass(frozen=True)
class Edit:
    """One `--set`: the objective's target before and after."""

    text: str
    agreement: str
    objective: str
    old: m.Target
    new: m.Target

    def to_dict(self) -> dict[str, Any]:
        return {"set": self.text, "agreement": self.agreement, "objective": self.objective,
                "old": {"op": self.old.op, "value": str(self.old.value)},
                "new": {"op": self.new.op, "value": str(self.new.value)}}


def _span() -> Span:
    return Span("<command line>", 0, 0, 0, 0)


def parse_edit(model: m.Model, text: str) -> Edit:
    """Read `AGREEMENT.OBJECTIVE=TARGET` against `model`: the value is converted to the
    objective's units exactly as the checker converts a written target. Raises SlangError with
    SLG0013 (malformed or ill-typed) or SLG0014 (unknown agreement or objective)."""
    found = EDIT.fullmatch(text)
    if found is None:
        raise SlangError([error(BAD_EDIT, f"`--set {text}` is not AGREEMENT.OBJECTIVE=TARGET",
                                _span(), EDIT_EXAMPLE)])
    name, objective_name, value = found.groups()
    agreement = model.agreements.get(name)
    if agreement is None:
        raise SlangError([error(
            UNKNOWN_TARGET, f"`--set {text}`: no agreement `{name}`", _span(),
            did_you_mean(name, model.agreements)
            or f"the agreements are: {', '.join(sorted(model.agreements)) or 'none'}",
        )])
    objectives = {o.name: o for o in agreement.objectives}
    objective = objectives.get(objective_name)
    if objective is None:
        raise SlangError([error(
            UNKNOWN_TARGET, f"`--set {text}`: agreement `{name}` has no objective "
            f"`{objective_name}`", _span(),
            did_you_mean(objective_name, objectives)
            or f"its objectives are: {', '.join(sorted(objectives))}",
        )])
    target = _target(text, value, objective)
    return Edit(text, name, objective_name, objective.target, target)


def _target(text: str, value: str, objective: m.Objective) -> m.Target:
    found = VALUE.fullmatch(value)
    if found is None:
        raise SlangError([error(
            BAD_EDIT, f"`--set {text}`: `{value}` is not a target value", _span(),
            "give a percentage (`99.95%`), a duration (`250ms`, `2h`) or a number, optionally "
            "after an operator (`>=99.5%`)",
        )])
    op, digits, unit = found.groups()
    lit: ast.Expr
    if unit == "%":
        lit = ast.PercentLit(digits)
    elif unit is None:
        lit = ast.NumberLit(digits)
    elif unit in ast.DURATION_SECONDS:
        lit = ast.DurationLit(digits, unit)
    else:
        raise SlangError([error(
            BAD_EDIT, f"`--set {text}`: `{unit}` is not a duration unit", _span(),
            f"use one of {', '.join(ast.DURATION_SECONDS)}",
        )])
    diags: list[Diagnostic] = []
    converted = threshold_value(lit, objective.indicator, diags, "target")
    if converted is None:
        first = diags[0] if diags else None
        message = first.message if first else f"`{value}` cannot be this objective's target"
        hint = (first.hint if first else None) or (
            "write the value in the kind the objective measures: a percentage for ratios and "
            "uptime, a duration for a column with a unit, else a plain number")
        raise SlangError([error(BAD_EDIT, f"`--set {text}`: {message}", _span(), hint)])
    return dataclasses.replace(objective.target, op=op or objective.target.op, value=converted)


def whatif(model: m.Model, edits: Sequence[str]) -> m.Model:
    """A copy of `model` with each `--set` edit applied in order (a later edit of the same
    objective wins). The model itself is not changed."""
    return apply_edits(model, [parse_edit(model, e) for e in edits])


def apply_edits(model: m.Model, edits: Sequence[Edit]) -> m.Model:
    agreements = dict(model.agreements)
    for e in edits:
        a = agreements[e.agreement]
        objectives = tuple(
            dataclasses.replace(o, target=e.new) if o.name == e.objective else o
            for o in a.objectives
        )
        agreements[e.agreement] = dataclasses.replace(a, objectives=objectives)
    return dataclasses.replace(model, agreements=agreements)


# ------------------------------------------------------------------------------------ render


def render_impact(result: Impact, fmt: str = "text") -> str:
    if fmt == "text":
        return render_text(result)
    if fmt == "markdown":
        return render_markdown(result)
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    raise ValueError(f"unknown impact format {fmt!r}")


def _money(v: Decimal | None, currency: str | None) -> str:
    if v is None:
        return "-"
    return f"{v} {currency}" if currency else str(v)


def _signed(v: Decimal | None, currency: str | None) -> str:
    if v is None:
        return "-"
    sign = "+" if v > 0 else ""
    return f"{sign}{v} {currency}" if currency else f"{sign}{v}"


def _cells(p: PeriodImpact) -> list[str]:
    status = "" if p.objective is None else f"{p.old_status or '-'} -> {p.new_status or '-'}"
    old = _money(p.old_credit, p.old_currency)
    new = _money(p.new_credit, p.new_currency)
    if p.old_credit is None and p.new_credit is None and p.objective is not None:
        old = "-" if p.old_credit_percent is None else f"{_percent(p.old_credit_percent)}%"
        new = "-" if p.new_credit_percent is None else f"{_percent(p.new_credit_percent)}%"
    return [p.agreement, p.objective or CAP, p.period, status, f"{old} -> {new}",
            _signed(p.difference, p.currency)]


HEADERS = ["AGREEMENT", "OBJECTIVE", "PERIOD", "STATUS", "CREDIT", "DIFFERENCE"]


def _summary(result: Impact) -> str:
    n = len(result.periods)
    return f"{n} period{'s' if n != 1 else ''} changed" if n else NO_IMPACT


def _total_lines(result: Impact) -> list[str]:
    return [f"{t.currency} {t.old} -> {t.new} ({_signed(t.difference, None)})"
            for t in result.totals]


def render_text(result: Impact) -> str:
    out = [f"impact as of {rfc3339(result.as_of)}: {_summary(result)}"]
    if result.periods:
        rows = [HEADERS] + [_cells(p) for p in result.periods]
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
        out.append("")
        for i, r in enumerate(rows):
            out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if i == 0:
                out.append("  ".join("-" * w for w in widths))
    if result.totals:
        out.append("")
        out.append("credits owed (after caps): " + ", ".join(_total_lines(result)))
    for label, names in (("only in old", result.only_old), ("only in new", result.only_new)):
        if names:
            out.append(f"{label}: {', '.join(names)}")
    return "\n".join(out) + "\n"


def render_markdown(result: Impact) -> str:
    out = [f"**impact** as of {rfc3339(result.as_of)}: {_summary(result)}", ""]
    if result.periods:
        out.append("| agreement | objective | period | status | credit | difference |")
        out.append("|---|---|---|---|---|---|")
        for p in result.periods:
            c = _cells(p)
            out.append(f"| `{c[0]}` | `{c[1]}` | {c[2]} | {c[3]} | {c[4]} | {c[5]} |")
        out.append("")
    if result.totals:
        out.append("Credits owed (after caps): " + ", ".join(_total_lines(result)))
        out.append("")
    for label, names in (("Only in old", result.only_old), ("Only in new", result.only_new)):
        if names:
            out.append(f"{label}: " + ", ".join(f"`{n}`" for n in names))
            out.append("")
    return "\n".join(out)


def render_with_impact(changes: Sequence[Any], result: Impact, fmt: str = "text",
                       edits: Sequence[Edit] = ()) -> str:
    """What `slang diff --impact` and `slang whatif` print: the semantic changes, then the
    impact. JSON is `{"edits": [...]?, "changes": [...], "impact": {...}}` (edits for whatif)."""
    from slang.diff.render import render

    if fmt == "json":
        doc: dict[str, Any] = {}
        if edits:
            doc["edits"] = [e.to_dict() for e in edits]
        doc["changes"] = [c.to_dict() for c in changes]
        doc["impact"] = result.to_dict()
        return json.dumps(doc, indent=2) + "\n"
    return render(changes, fmt) + "\n" + render_impact(result, fmt)


__all__ = [
    "BAD_EDIT",
    "UNKNOWN_TARGET",
    "CurrencyTotal",
    "Edit",
    "Impact",
    "PeriodImpact",
    "apply_edits",
    "compare",
    "impact",
    "parse_edit",
    "render_impact",
    "render_with_impact",
    "whatif",
]
