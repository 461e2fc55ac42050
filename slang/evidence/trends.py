"""Trends from the audit ledger: `slang ledger trend` (issue 5, item 7).

Per agreement x objective, the latest audit of each complete period (entries a re-audit
superseded do not count: the re-audit replaced them), in period order, with the measured value,
the target, the margin and the trend by the same rule as `slang report`
(`slang.report.trend`): an objective whose margin shrank three periods in a row is worsening
and is listed first.

The ledger stores measured values as the nearest double. The margin is computed from exact
values: the measured value is recovered as good/total when both are integers and that fraction
rounds to the stored double (ratios, and uptime in whole seconds), otherwise it is the decimal
the double prints as (`0.9975`), like the target, which a policy writes in decimal. Either way
two periods compare in the same order as their stored doubles.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from slang.evidence.ledger import LedgerCheck
from slang.report.quantities import number_text, percent_text, target_text, value_text
from slang.report.trend import Trend, TrendPoint, trend

FRACTION_INDICATORS = ("ratio", "uptime", "timeslices", "slice_mean")


@dataclass(frozen=True)
class PeriodPoint:
    """One complete period of one objective, from its current ledger entry."""

    seq: int
    period: str
    period_start: str
    status: str
    measured: Fraction | None
    op: str
    target: Fraction


@dataclass(frozen=True)
class ObjectiveTrend:
    agreement: str
    customer: str | None
    service: str | None
    objective: str
    indicator: str
    points: tuple[PeriodPoint, ...]
    trend: Trend

    @property
    def fraction(self) -> bool:
        return self.indicator in FRACTION_INDICATORS


def exact_number(value: int | float | None) -> Fraction | None:
    """A number the ledger stored as JSON, as the decimal it prints as."""
    if value is None:
        return None
    return Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))


def exact_measured(e: Mapping[str, Any]) -> Fraction | None:
    """The measured value of a result entry, exact where good/total recover it."""
    measured = e.get("measured")
    if measured is None:
        return None
    good, total = e.get("good"), e.get("total")
    if type(good) is int and type(total) is int and total > 0:
        ratio = Fraction(good, total)
        if float(ratio) == float(measured):
            return ratio
    return exact_number(measured)


def _start(e: Mapping[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(e["period_start"]).replace("Z", "+00:00"))


def objective_trends(chosen: Sequence[Mapping[str, Any]]) -> list[ObjectiveTrend]:
    """The trends of every objective among `chosen` (current entries, already filtered): the
    worsening ones first, then by agreement and objective."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for e in chosen:
        if e.get("kind") == "result" and e.get("complete"):
            groups.setdefault((str(e["agreement"]), str(e["objective"])), []).append(e)
    out = []
    for (agreement, objective), rows in groups.items():
        rows.sort(key=_start)
        points = tuple(PeriodPoint(
            seq=int(e["seq"]), period=str(e["period"]), period_start=str(e["period_start"]),
            status=str(e.get("status")), measured=exact_measured(e), op=str(e["op"]),
            target=exact_number(e["target"]) or Fraction(0),
        ) for e in rows)
        last = rows[-1]
        out.append(ObjectiveTrend(
            agreement=agreement, customer=last.get("customer"), service=last.get("service"),
            objective=objective, indicator=str(last.get("indicator")), points=points,
            trend=trend([TrendPoint(p.measured, p.op, p.target) for p in points]),
        ))
    out.sort(key=lambda t: (not t.trend.worsening, t.agreement, t.objective))
    return out


# ------------------------------------------------------------------------------ rendering


def _measured_text(t: ObjectiveTrend, p: PeriodPoint) -> str:
    if p.measured is None:
        return "no data"
    if t.fraction:
        return percent_text(p.measured, p.target)
    return value_text(p.measured, None, p.target)


def _margin_text(t: ObjectiveTrend, m: Fraction | None) -> str:
    if m is None:
        return "-"
    sign = "+" if m > 0 else "-" if m < 0 else ""
    if t.fraction:
        return f"{sign}{number_text(abs(m) * 100, 3)} pp"
    return f"{sign}{number_text(abs(m), 3)}"


def _rows(t: ObjectiveTrend) -> list[list[str]]:
    return [[p.period, _measured_text(t, p), target_text(p.op, p.target, t.fraction, None),
             _margin_text(t, m), c or "-", p.status, str(p.seq)]
            for p, m, c in zip(t.points, t.trend.margins, t.trend.changes, strict=True)]


COLUMNS = ("period", "measured", "target", "margin", "change", "status", "seq")


def _fraction_text(v: Fraction | None) -> str | None:
    return None if v is None else f"{v.numerator}/{v.denominator}"


def _to_dict(t: ObjectiveTrend) -> dict[str, Any]:
    return {
        "agreement": t.agreement, "customer": t.customer, "service": t.service,
        "objective": t.objective, "indicator": t.indicator, "worsening": t.trend.worsening,
        "shrinking": t.trend.shrinking, "trend": t.trend.text,
        "periods": [{
            "period": p.period, "period_start": p.period_start, "seq": p.seq,
            "status": p.status, "op": p.op, "target": _fraction_text(p.target),
            "measured": _fraction_text(p.measured), "margin": _fraction_text(m), "change": c,
        } for p, m, c in zip(t.points, t.trend.margins, t.trend.changes, strict=True)],
    }


def _summary(trends: Sequence[ObjectiveTrend]) -> str:
    n = sum(t.trend.worsening for t in trends)
    return (f"{n} of {len(trends)} {'objective' if len(trends) == 1 else 'objectives'} "
            "worsening (margin shrank 3 periods in a row)")


def render_trends(check: LedgerCheck, trends: Sequence[ObjectiveTrend], fmt: str) -> str:
    if fmt == "json":
        doc = {"ledger": check.path, "head": check.head, "entries_total": len(check.entries),
               "worsening": sum(t.trend.worsening for t in trends),
               "objectives": [_to_dict(t) for t in trends]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        out = [f"# Trends from the audit ledger `{check.path}`", "",
               f"{len(check.entries)} entries, head `{check.head}`; the latest audit of each "
               f"complete period. {_summary(trends)}.", ""]
        for t in trends:
            flag = " (worsening)" if t.trend.worsening else ""
            out += [f"## {t.agreement} / {t.objective}{flag}", "", f"Trend: {t.trend.text}.", ""]
            header = [c.capitalize() for c in COLUMNS]
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join("---" for _ in header) + "|")
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
                    for r in _rows(t)]
            out.append("")
        return "\n".join(out).rstrip("\n") + "\n"
    out = [f"ledger {check.path}: {len(check.entries)} entries, head {check.head}",
           "trends over the latest audit of each complete period", ""]
    for t in trends:
        flag = "WORSENING " if t.trend.worsening else ""
        out.append(f"{flag}{t.agreement} / {t.objective}: {t.trend.text}")
        out += ["  " + line for line in _table([c.upper() for c in COLUMNS], _rows(t))]
        out.append("")
    out.append(_summary(trends))
    return "\n".join(out) + "\n"


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out
