"""The audit report: the normative JSON document (docs: audit-report spec) and its Arrow form.

The JSON is built in one place, with fixed key order and no clock other than `as_of`, so the
same policies, data and `--as-of` give byte-identical output. Other renderers (text, markdown,
junit) read `to_dict()`, never the engine's objects, so they cannot disagree with the JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from slang.engine.outcome import to_float, to_number
from slang.engine.results import Adjustment, ObjectiveResult
from slang.plan.plan import Plan
from slang.semantics import model as m

SCHEMA_VERSION = 1
STATUSES = ("met", "breached", "at_risk", "no_data")


def rfc3339(t: dt.datetime) -> str:
    t = t.astimezone(dt.UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"


def _us_to_text(us: int) -> str:
    return rfc3339(dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us))


def _num(v: Decimal | Fraction | None) -> int | float | None:
    if v is None:
        return None
    return to_number(Fraction(v))


@dataclass
class AuditReport:
    as_of: dt.datetime
    model: m.Model
    plan: Plan
    results: list[ObjectiveResult]
    adjustments: list[Adjustment]
    data: list[Any]
    # the `holidays` package dates the evaluation used (None: no calendar names a region)
    holiday_data: dict[str, Any] | None = None

    # ------------------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        from slang import __version__

        evidence: dict[str, Any] = {
            "policies": [{"path": f.path, "sha256": f.sha256}
                         for f in sorted(self.model.files, key=lambda f: f.path)],
            "data": [_data_entry(d) for d in self.data],
            "plan_sha256": self.plan.sha256,
        }
        if self.holiday_data is not None:
            evidence["holiday_data"] = self.holiday_data
        return {
            "schema_version": SCHEMA_VERSION,
            "slang_version": __version__,
            "as_of": rfc3339(self.as_of),
            "evidence": evidence,
            "results": [result_dict(r) for r in self.results],
            "adjustments": [
                {"agreement": a.agreement, "period": a.period, "kind": a.kind,
                 "amount": str(a.amount), "currency": a.currency}
                for a in self.adjustments
            ],
            "summary": self.summary(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def summary(self) -> dict[str, Any]:
        counts = {s: 0 for s in STATUSES}
        for r in self.results:
            counts[r.status] += 1
        money: dict[str, Decimal] = {}
        for r in self.results:
            if r.currency is not None and r.credit_amount is not None:
                money[r.currency] = money.get(r.currency, Decimal(0)) + r.credit_amount
        for a in self.adjustments:
            money[a.currency] = money.get(a.currency, Decimal(0)) + a.amount
        return {
            "agreements": len({r.agreement.name for r in self.results}),
            "results": len(self.results),
            **counts,
            "credits": [{"currency": c, "amount": str(v)} for c, v in sorted(money.items())],
        }

    # ----------------------------------------------------------------------------- Arrow

    def to_arrow(self) -> pa.Table:
        """The results as an Arrow table, for notebooks and further analysis."""
        rows = [result_dict(r) for r in self.results]
        flat = [{**{k: v for k, v in row.items() if k not in ("budget", "notify")},
                 "budget_allowed": (row["budget"] or {}).get("allowed"),
                 "budget_consumed": (row["budget"] or {}).get("consumed"),
                 "budget_remaining": (row["budget"] or {}).get("remaining"),
                 "burn_rate": (row["budget"] or {}).get("burn_rate"),
                 "notify": ", ".join(row["notify"])} for row in rows]
        schema = pa.schema([
            ("agreement", pa.string()), ("service", pa.string()), ("customer", pa.string()),
            ("objective", pa.string()), ("period", pa.string()),
            ("period_start", pa.string()), ("period_end", pa.string()),
            ("complete", pa.bool_()), ("indicator", pa.string()), ("measured", pa.float64()),
            ("op", pa.string()), ("target", pa.float64()), ("status", pa.string()),
            ("good", pa.float64()), ("total", pa.float64()),
            ("credit_percent", pa.float64()), ("credit_amount", pa.string()),
            ("currency", pa.string()), ("projected", pa.float64()),
            ("values_skipped", pa.int64()),
            ("budget_allowed", pa.float64()), ("budget_consumed", pa.float64()),
            ("budget_remaining", pa.float64()), ("burn_rate", pa.float64()),
            ("notify", pa.string()),
        ])
        cols = {name: [row.get(name) for row in flat] for name in schema.names}
        return pa.table(cols, schema=schema)


def result_dict(r: ObjectiveResult) -> dict[str, Any]:
    meas = r.measure
    budget = None
    if r.budget is not None:
        budget = {
            "allowed": to_float(r.budget.allowed),
            "consumed": to_number(r.budget.consumed),
            "remaining": to_float(r.budget.remaining),
            "burn_rate": to_float(r.budget.burn_rate),
        }
    return {
        "agreement": r.agreement.name,
        "service": r.agreement.service.name,
        "customer": r.agreement.customer,
        "objective": r.objective.name,
        "period": r.period.label,
        "period_start": _us_to_text(r.period.start_us),
        "period_end": _us_to_text(r.period.end_us),
        "complete": r.period.complete,
        "indicator": r.indicator,
        "measured": to_float(meas.measured) if r.status != "no_data" else None,
        "op": r.objective.target.op,
        "target": _num(r.objective.target.value),
        "status": r.status,
        "good": None if meas.good is None else to_number(meas.good),
        "total": None if meas.total is None else to_number(meas.total),
        "budget": budget,
        "credit_percent": _num(r.credit_percent),
        "credit_amount": None if r.credit_amount is None else str(r.credit_amount),
        "currency": r.currency,
        "notify": list(r.notify),
        "projected": None if r.projected is None else to_float(r.projected),
        "values_skipped": meas.values_skipped,
    }


def _data_entry(d: Any) -> dict[str, Any]:
    raw = dataclasses.asdict(d) if dataclasses.is_dataclass(d) else dict(d)
    order = ["name", "source", "path", "sha256", "rows", "rows_skipped", "coverage", "files"]
    out = {k: raw[k] for k in order if k in raw}
    out.update({k: v for k, v in raw.items() if k not in out})
    if "files" in out and out["files"] is not None:
        out["files"] = [list(f) if isinstance(f, tuple) else f for f in out["files"]]
    return out
