"""Model -> evaluation plan: a few relational operators per objective, scans shared by source.

The plan is what the engine executes and what `slang plan` shows. Each evaluation is a pipeline
`scan -> key -> where -> time -> aggregate -> compare -> credit`; every objective that reads the
same source refers to one `Scan`, so an estate of 200 agreements over one request table reads the
table once. The plan depends only on the policies (periods are chosen at run time from
`--as-of`/`--period`), so its hash identifies the policies' meaning in the evidence. One
exception: the dates of holiday region codes (`holidays "GB-ENG"`) are resolved into the plan,
with the `holidays` package version, for the years the agreements' effective ranges touch; an
open-ended range runs to the `--as-of` date (see `holiday_years`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slang.semantics import model as m
from slang.syntax import ast
from slang.syntax.formatter import format_expr

PLAN_VERSION = 1


@dataclass(frozen=True)
class Scan:
    id: str
    source: m.Source = field(repr=False)
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        s = self.source
        d: dict[str, Any] = {
            "op": "scan", "id": self.id, "source": s.id, "table": s.table, "kind": s.kind,
            "columns": list(self.columns),
        }
        if s.kind == "events":
            d["time"] = {"column": s.time_column, "form": s.time_form}
        else:
            d["start"] = s.start_column
            d["end"] = s.end_column
        d["key"] = s.key_column
        return d


@dataclass(frozen=True)
class Evaluation:
    """One objective of one agreement: the steps the engine runs for each period."""

    agreement: m.Agreement = field(repr=False)
    objective: m.Objective = field(repr=False)
    scans: tuple[str, ...]  # the indicator's scan first, then exclusion scans

    @property
    def id(self) -> str:
        return f"{self.agreement.name}.{self.objective.name}"

    def to_dict(self) -> dict[str, Any]:
        a, o = self.agreement, self.objective
        steps: list[dict[str, Any]] = []
        selection = selection_of(o.indicator)
        steps.append({"op": "read", "scan": self.scans[0]})
        if selection.source.key_column:
            steps.append({"op": "key", "column": selection.source.key_column,
                          "equals": a.service.key})
        if selection.condition is not None:
            steps.append({"op": "where", "condition": _cond(selection.condition)})
        steps.append({"op": "time", **time_step(a, o)})
        steps.append({"op": "bucket", **bucket_step(a, o.indicator)})
        steps.append({"op": "aggregate", **aggregate_step(o.indicator)})
        steps.append({"op": "compare", "cmp": o.target.op, "target": _num(o.target.value)})
        if o.credit:
            steps.append({
                "op": "credit",
                "tiers": [{"when": t.direction, "threshold": _num(t.threshold),
                           "percent": _num(t.percent)} for t in o.credit],
                "fee": None if a.fee is None else {"amount": str(a.fee.amount),
                                                   "currency": a.fee.currency},
                "cap": None if a.credit_cap is None else _num(a.credit_cap),
            })
        return {"id": self.id, "agreement": a.name, "objective": o.name,
                "service": a.service.id, "status": a.status, "steps": steps}


@dataclass(frozen=True)
class Plan:
    scans: tuple[Scan, ...]
    evaluations: tuple[Evaluation, ...]
    # calendar id -> (its region codes, the years whose dates the plan holds)
    holidays: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = ()

    def scan(self, scan_id: str) -> Scan:
        return next(s for s in self.scans if s.id == scan_id)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "plan_version": PLAN_VERSION,
            "scans": [s.to_dict() for s in self.scans],
            "evaluations": [e.to_dict() for e in self.evaluations],
        }
        if self.holidays:  # absent when no calendar names a region: older plans keep their hash
            d["holiday_data"] = self.holiday_data()
        return d

    def holiday_data(self) -> dict[str, Any] | None:
        """The package dates the plan holds, with the package version (None: no regions)."""
        if not self.holidays:
            return None
        from slang.semantics.holiday_regions import holiday_data

        return holiday_data({cid: (regions, years) for cid, regions, years in self.holidays})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def selection_of(indicator: m.Indicator) -> m.Selection:
    match indicator:
        case m.RatioIndicator(total=sel) | m.ValueIndicator(selection=sel) | m.UptimeIndicator(
            selection=sel
        ):
            return sel
        case m.TimeslicesIndicator(inner=inner) | m.SliceMeanIndicator(inner=inner):
            return selection_of(inner)
    raise TypeError(indicator)  # pragma: no cover


def conditions_of(indicator: m.Indicator) -> list[Any]:
    match indicator:
        case m.RatioIndicator(total=sel, good=good):
            return [sel.condition, good]
        case m.ValueIndicator(selection=sel) | m.UptimeIndicator(selection=sel):
            return [sel.condition]
        case m.TimeslicesIndicator(inner=inner) | m.SliceMeanIndicator(inner=inner):
            return conditions_of(inner)
    raise TypeError(indicator)  # pragma: no cover


def columns_of(indicator: m.Indicator) -> set[str]:
    """The source columns an indicator reads (besides time and key)."""
    cols: set[str] = set()
    for cond in conditions_of(indicator):
        if cond is not None:
            cols |= referenced_columns(cond)
    inner = indicator
    if isinstance(inner, m.TimeslicesIndicator | m.SliceMeanIndicator):
        inner = inner.inner
    if isinstance(inner, m.ValueIndicator) and inner.column:
        cols.add(inner.column)
    return cols


def referenced_columns(expr: ast.Expr) -> set[str]:
    """Column names a condition reads (the last part of `requests.status`); a call's name and
    the calendar argument of `business_duration` are not columns."""
    cols: set[str] = set()
    _visit_tree(expr, cols)
    return cols


def _visit_tree(node: ast.Node, cols: set[str]) -> None:
    if isinstance(node, ast.Name):
        cols.add(node.parts[-1])
        return
    if isinstance(node, ast.Call):
        args = node.args[:2] if node.func.dotted == "business_duration" else node.args
        for a in args:
            _visit_tree(a.value if isinstance(a, ast.NamedArg) else a, cols)
        return
    for f in fields(node):
        if f.name == "span":
            continue
        child = getattr(node, f.name)
        for c in child if isinstance(child, tuple) else (child,):
            if isinstance(c, ast.Node):
                _visit_tree(c, cols)


def time_step(a: m.Agreement, o: m.Objective) -> dict[str, Any]:
    excl = []
    for x in a.exclusions:
        d: dict[str, Any] = {"kind": x.kind, "reason": x.reason, "as_available": x.as_available}
        if x.kind == "window":
            d["start"] = _ts(x.start)
            d["end"] = _ts(x.end)
        elif x.kind == "weekly" and x.weekly is not None:
            d["days"] = sorted(x.weekly.days)
            d["start_minute"] = x.weekly.start_minute
            d["end_minute"] = x.weekly.end_minute
            d["timezone"] = a.timezone
        elif x.selection is not None:
            d["source"] = x.selection.source.id
            d["where"] = None if x.selection.condition is None else format_expr(
                x.selection.condition)
        excl.append(d)
    return {
        "effective": [None if a.effective_start is None else a.effective_start.isoformat(),
                      None if a.effective_end is None else a.effective_end.isoformat()],
        "hours": None if o.hours is None else o.hours.id,
        "exclusions": excl,
    }


def bucket_step(a: m.Agreement, ind: m.Indicator) -> dict[str, Any]:
    """Rows and time are bucketed by period; slice indicators also by fixed slices within it."""
    d: dict[str, Any] = {"period": a.period.label, "timezone": a.timezone}
    if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator):
        d["slice_s"] = ind.slice_seconds
    return d


def aggregate_step(ind: m.Indicator) -> dict[str, Any]:
    match ind:
        case m.RatioIndicator(good=good):
            return {"fn": "ratio", "good": _cond(good)}
        case m.ValueIndicator():
            d: dict[str, Any] = {"fn": ind.function}
            if ind.column:
                d["column"] = ind.column
                d["unit"] = ind.unit
            if ind.function == "percentile":
                d["q"] = _num(ind.q)
                d["method"] = ind.method
            return d
        case m.UptimeIndicator():
            return {"fn": "uptime", "granularity_s": ind.granularity_seconds}
        case m.TimeslicesIndicator():
            return {"fn": "timeslices", "empty": ind.empty, "cmp": ind.op,
                    "threshold": _num(ind.threshold), "per_slice": aggregate_step(ind.inner)}
        case m.SliceMeanIndicator():
            return {"fn": "slice_mean", "empty": ind.empty,
                    "per_slice": aggregate_step(ind.inner)}
    raise TypeError(ind)  # pragma: no cover


def _cond(e: Any) -> str | None:
    return None if e is None else format_expr(e)


def _num(v: Decimal | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if v == v.to_integral_value() else float(v)


def _ts(t: Any) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%S.%f").removesuffix(".000000") + "Z"


def calendars_of(a: m.Agreement) -> list[m.Calendar]:
    """Every calendar an agreement evaluates: its hours, its objectives' hours and the
    calendars named in conditions (`business_duration(a, b, cal.uk_business)`)."""
    found: list[m.Calendar] = [] if a.hours is None else [a.hours]
    selections = [x.selection for x in a.exclusions if x.selection is not None]
    for o in a.objectives:
        if o.hours is not None:
            found.append(o.hours)
        selections.append(selection_of(o.indicator))
    found.extend(c for s in selections for _, c in s.calendars)
    return found


def holiday_years(a: m.Agreement, cal: m.Calendar, as_of: dt.date) -> range:
    """The years whose holidays an agreement's evaluation in `cal` can meet: the local years,
    in the calendar's time zone, of the instants its effective range covers (the range is read
    in the agreement's zone, so 1 January 00:00 in London is still 31 December in New York). An
    open end runs to `as_of`; an agreement without a start begins at `as_of`. An audit that
    reaches other years resolves them as it goes, and its evidence records them."""
    start = a.effective_start or as_of
    end = a.effective_end or max(start, as_of)
    here, there = ZoneInfo(a.timezone), ZoneInfo(cal.timezone)
    first = dt.datetime.combine(start, dt.time(), here).astimezone(there)
    last = (dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), here)
            - dt.timedelta(microseconds=1)).astimezone(there)
    return range(first.year, last.year + 1)


def _holiday_plan(agreements: list[m.Agreement], as_of: dt.date
                  ) -> tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...]:
    years: dict[str, set[int]] = {}
    regions: dict[str, tuple[str, ...]] = {}
    for a in agreements:
        for cal in calendars_of(a):
            if cal.regions:
                regions[cal.id] = cal.regions
                years.setdefault(cal.id, set()).update(holiday_years(a, cal, as_of))
    return tuple((cid, regions[cid], tuple(sorted(years[cid]))) for cid in sorted(years))


def build_plan(model: m.Model, agreements: list[m.Agreement] | None = None, *,
               as_of: dt.datetime | None = None) -> Plan:
    """One scan per source that any evaluated objective or exclusion reads. `as_of` (default
    now) closes open effective ranges when choosing the years of holiday region dates."""
    chosen = list(model.agreements.values()) if agreements is None else agreements
    columns: dict[str, set[str]] = {}
    sources: dict[str, m.Source] = {}
    evaluations: list[Evaluation] = []
    for a in chosen:
        excl_scans = []
        for x in a.exclusions:
            if x.selection is not None:
                src = x.selection.source
                sources[src.id] = src
                cols = columns.setdefault(src.id, set())
                if x.selection.condition is not None:
                    cols |= referenced_columns(x.selection.condition)
                excl_scans.append(src.id)
        for o in a.objectives:
            src = selection_of(o.indicator).source
            sources[src.id] = src
            columns.setdefault(src.id, set()).update(columns_of(o.indicator))
            evaluations.append(Evaluation(a, o, (src.id, *sorted(set(excl_scans)))))
    scans = tuple(
        Scan(sid, sources[sid], tuple(sorted(columns[sid]))) for sid in sorted(sources)
    )
    today = (as_of or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date()
    return Plan(scans, tuple(evaluations), _holiday_plan(chosen, today))


def explain(plan: Plan) -> str:
    """The plan as indented text for people."""
    lines = [f"scans ({len(plan.scans)}):"]
    for s in plan.scans:
        d = s.to_dict()
        cols = ", ".join(d["columns"]) or "-"
        lines.append(
            f"  {s.id}: {d['kind']} table \"{d['table']}\" key={d['key']} columns=[{cols}]"
        )
    lines.append(f"evaluations ({len(plan.evaluations)}):")
    for e in plan.evaluations:
        lines.append(f"  {e.id}  [{e.agreement.status}]")
        for step in e.to_dict()["steps"]:
            op = step["op"]
            rest = ", ".join(f"{k}={_short(v)}" for k, v in step.items() if k != "op")
            lines.append(f"    {op:<9} {rest}")
    data = plan.holiday_data()
    if data is not None:
        lines.append(f"holidays (package {data['package']} {data['version']}):")
        for cid, cal in data["calendars"].items():
            years = ", ".join(str(y) for y in cal["years"])
            lines.append(f"  {cid}: {', '.join(cal['regions'])}, years {years}")
            lines.extend(f"    {day}  {name}" for day, name in cal["dates"].items())
    return "\n".join(lines) + "\n"


def _short(v: Any) -> str:
    if isinstance(v, dict | list):
        return json.dumps(v, separators=(",", ":"))
    return str(v)
