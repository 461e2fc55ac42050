"""`slang status` output: JSON (the one document every other format reads), text, markdown.

Numbers in the JSON are the nearest doubles of the exact values; instants are RFC 3339 UTC.
Nothing here reads a clock, so the same policies, data and `--as-of` give the same bytes.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from slang.engine.burn import BurnCheck, WindowRate
from slang.engine.calendar_time import US, to_us
from slang.engine.outcome import to_float, to_number
from slang.report.audit_report import rfc3339
from slang.report.plain import instant_text, table
from slang.report.render import fmt_value
from slang.semantics.burn_rates import duration_text, percent_text
from slang.status.build import ObjectiveStatus, StatusReport

SCHEMA_VERSION = 1


def to_dict(report: StatusReport) -> dict[str, Any]:
    now = to_us(report.as_of)
    rows = [_row(r, now) for r in report.rows]
    counts = {s: sum(1 for r in report.rows if r.result.status == s)
              for s in ("breached", "at_risk", "no_data", "met")}
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": rfc3339(report.as_of),
        "objectives": rows,
        "not_running": report.not_running,
        "summary": {
            "agreements": len({r.result.agreement.name for r in report.rows}),
            "objectives": len(rows),
            **counts,
            "firing_page": sum(1 for r in report.rows
                               if any(c.alert.severity == "page" for c in r.firing)),
            "firing_ticket": sum(1 for r in report.rows
                                 if any(c.alert.severity == "ticket" for c in r.firing)),
        },
    }


def _row(s: ObjectiveStatus, now: int) -> dict[str, Any]:
    r, f = s.result, s.forecast
    return {
        "agreement": r.agreement.name,
        "service": r.agreement.service.name,
        "customer": r.agreement.customer,
        "objective": r.objective.name,
        "period": r.period.label,
        "period_start": instant_text(r.period.start_us),
        "period_end": instant_text(r.period.end_us),
        "indicator": r.indicator,
        "status": r.status,
        "measured": to_float(r.measure.measured) if r.status != "no_data" else None,
        "op": r.objective.target.op,
        "target": float(r.objective.target.value),
        "projected": to_float(f.projected),
        "burn_rate": to_float(f.burn_rate),
        "budget_remaining": to_float(f.budget_remaining),
        "exhaustion": None if f.exhaustion_us is None else instant_text(f.exhaustion_us),
        "time_to_exhaustion_s": None if f.exhaustion_us is None
        else to_number(Fraction(f.exhaustion_us - now, US)),
        "alerts": [_alert(c) for c in s.alerts],
        "firing": [_alert_text(c) for c in s.firing],
        "notify": list(s.notify),
    }


def _alert(c: BurnCheck) -> dict[str, Any]:
    return {
        "severity": c.alert.severity,
        "budget": to_float(c.alert.budget_fraction),
        "long_window": duration_text(c.alert.long_window),
        "short_window": duration_text(c.alert.short_window),
        "factor": to_float(c.factor),
        "long_rate": to_float(c.long.rate),
        "short_rate": to_float(c.short.rate),
        "firing": c.firing,
    }


def render_json(report: StatusReport) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------ text

HEADER = ("AGREEMENT", "OBJECTIVE", "PERIOD", "STATUS", "MEASURED", "PROJECTED", "TARGET",
          "BUDGET LEFT", "EXHAUSTED BY", "ALERTS", "NOTIFY")


def _rate(w: WindowRate) -> str:
    return "-" if w.rate is None else f"{float(w.rate):.4g}"


def _alert_text(c: BurnCheck) -> str:
    """`page 2% in 1h / 5m: 20.16 (1h) and 32 (5m) > 14.4`."""
    a = c.alert
    head = (f"{a.severity} {percent_text(a.budget_fraction)} in {duration_text(a.long_window)} / "
            f"{duration_text(a.short_window)}")
    return (f"{head}: {_rate(c.long)} ({duration_text(a.long_window)}) and {_rate(c.short)} "
            f"({duration_text(a.short_window)}) > {float(c.factor):.4g}")


def _cells(row: dict[str, Any]) -> list[str]:
    ind = row["indicator"]
    left = row["budget_remaining"]
    alerts = ", ".join(sorted({a["severity"] for a in row["alerts"] if a["firing"]})) or "-"
    return [
        row["agreement"], row["objective"], row["period"], row["status"],
        fmt_value(row["measured"], ind), fmt_value(row["projected"], ind),
        f"{row['op']} {fmt_value(row['target'], ind)}",
        "-" if left is None else f"{left * 100:.1f}%",
        _exhaustion_text(row), alerts, ", ".join(row["notify"]) or "-",
    ]


def _exhaustion_text(row: dict[str, Any]) -> str:
    """`2026-11-19T04:39:18Z (in 4d 4h)`, or `(spent)` when the instant has passed."""
    if row["exhaustion"] is None:
        return "-"
    left = row["time_to_exhaustion_s"]
    if left <= 0:
        return f"{row['exhaustion']} (spent)"
    days, rest = divmod(int(left), 86400)
    hours, rest = divmod(rest, 3600)
    span = f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m" if hours else \
        f"{max(rest // 60, 1)}m"
    return f"{row['exhaustion']} (in {span})"


def _summary(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    return (f"{s['objectives']} objectives of {s['agreements']} agreements: {s['breached']} "
            f"breached, {s['at_risk']} at risk, {s['no_data']} no data, {s['met']} met; "
            f"alerts firing: {s['firing_page']} page, {s['firing_ticket']} ticket")


def render_text(report: StatusReport) -> str:
    doc = to_dict(report)
    out = [f"slang status as of {doc['as_of']}", ""]
    out += table(list(HEADER), [_cells(r) for r in doc["objectives"]])
    firing = [(r, f) for r in doc["objectives"] for f in r["firing"]]
    if firing:
        out += ["", "Burn-rate alerts firing:"]
        out += [f"  {r['agreement']}.{r['objective']}: {f}" for r, f in firing]
    if doc["not_running"]:
        out += ["", "Not in force at as-of: " + ", ".join(doc["not_running"])]
    out += ["", _summary(doc)]
    return "\n".join(out) + "\n"


def render_markdown(report: StatusReport) -> str:
    doc = to_dict(report)
    out = [f"# Service level status as of {doc['as_of']}", "", _summary(doc) + ".", ""]
    header = ["Agreement", "Objective", "Period", "Status", "Measured", "Projected", "Target",
              "Budget left", "Exhausted by", "Alerts", "Notify"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" for _ in header) + "|")
    for row in doc["objectives"]:
        cells = [c.replace("|", "\\|") for c in _cells(row)]
        if cells[3] in ("breached", "at_risk"):
            cells[3] = f"**{cells[3]}**"
        out.append("| " + " | ".join(cells) + " |")
    firing = [(r, f) for r in doc["objectives"] for f in r["firing"]]
    if firing:
        out += ["", "## Burn-rate alerts firing", ""]
        out += [f"- {r['agreement']}.{r['objective']}: {f}" for r, f in firing]
    if doc["not_running"]:
        out += ["", "Not in force at as-of: " + ", ".join(doc["not_running"]) + "."]
    return "\n".join(out) + "\n"


RENDERERS = {"json": render_json, "text": render_text, "markdown": render_markdown}
