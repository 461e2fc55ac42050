"""Audit report renderers for people and CI: text, markdown and JUnit XML.

Each reads the report's JSON form (`AuditReport.to_dict()`), so every format states the same
numbers as the normative JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from slang.report.audit_report import AuditReport

COLUMNS = ("agreement", "objective", "period", "measured", "target", "status", "credit")


def fmt_value(v: float | None, indicator: str, unit: str = "") -> str:
    """Fractions as percentages with enough digits to see a breach; values as numbers."""
    if v is None:
        return "-"
    if indicator in ("ratio", "uptime", "timeslices", "slice_mean"):
        text = f"{v * 100:.4f}".rstrip("0").rstrip(".")
        return text + "%"
    if float(v).is_integer():
        return f"{int(v)}{unit}"
    return f"{v:.6g}{unit}"


def _rows(doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in doc["results"]:
        credit = "-"
        if r["credit_percent"]:
            credit = f"{r['credit_percent']}%"
            if r["credit_amount"] is not None:
                credit += f" = {r['credit_amount']} {r['currency']}"
        period = r["period"] + ("" if r["complete"] else " (running)")
        rows.append([
            r["agreement"], r["objective"], period,
            fmt_value(r["measured"], r["indicator"]),
            f"{r['op']} {fmt_value(r['target'], r['indicator'])}",
            r["status"], credit,
        ])
    return rows


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def _summary_line(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    credits = ", ".join(f"{c['amount']} {c['currency']}" for c in s["credits"]) or "none"
    return (f"{s['results']} results for {s['agreements']} agreements: {s['met']} met, "
            f"{s['breached']} breached, {s['at_risk']} at risk, {s['no_data']} no data; "
            f"credits owed: {credits}")


def render_text(report: AuditReport) -> str:
    doc = report.to_dict()
    out = [f"slang audit as of {doc['as_of']}", ""]
    out += _table([c.upper() for c in COLUMNS], _rows(doc))
    if doc["adjustments"]:
        out.append("")
        for a in doc["adjustments"]:
            out.append(f"{a['agreement']} {a['period']}: credits capped, adjustment "
                       f"{a['amount']} {a['currency']}")
    skipped = [(d["name"], d["rows_skipped"]) for d in doc["evidence"]["data"]
               if any(d["rows_skipped"].values())]
    if skipped:
        out.append("")
        for name, reasons in skipped:
            parts = ", ".join(f"{n} {k}" for k, n in reasons.items() if n)
            out.append(f"{name}: rows skipped: {parts}")
    out += ["", _summary_line(doc)]
    return "\n".join(out) + "\n"


def render_markdown(report: AuditReport) -> str:
    doc = report.to_dict()
    out = [f"# Service level audit as of {doc['as_of']}", "", _summary_line(doc) + ".", ""]
    header = ["Agreement", "Objective", "Period", "Measured", "Target", "Status", "Credit"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" for _ in header) + "|")
    for row in _rows(doc):
        cells = [c.replace("|", "\\|") for c in row]
        cells[5] = f"**{cells[5]}**" if cells[5] in ("breached", "at_risk") else cells[5]
        out.append("| " + " | ".join(cells) + " |")
    if doc["adjustments"]:
        out += ["", "## Adjustments", ""]
        for a in doc["adjustments"]:
            out.append(f"- {a['agreement']} {a['period']}: credit cap, {a['amount']} "
                       f"{a['currency']}")
    out += ["", "## Evidence", "", "| Data | Path | SHA-256 | Rows | Skipped |",
            "|---|---|---|---|---|"]
    for d in doc["evidence"]["data"]:
        skipped = sum(d["rows_skipped"].values())
        out.append(f"| {d['name']} | `{d['path']}` | `{d['sha256'][:12]}…` | {d['rows']} | "
                   f"{skipped} |")
    out += ["", f"Plan SHA-256: `{doc['evidence']['plan_sha256']}`", ""]
    return "\n".join(out)


def render_junit(report: AuditReport) -> str:
    """One test case per agreement × objective × period; breaches are failures, `at_risk` and
    `no_data` are reported in the case's system-out so CI shows them without failing."""
    doc = report.to_dict()
    cases = []
    failures = 0
    for r in doc["results"]:
        name = f"{r['objective']} {r['period']}"
        body = ""
        measured = fmt_value(r["measured"], r["indicator"])
        target = f"{r['op']} {fmt_value(r['target'], r['indicator'])}"
        if r["status"] == "breached":
            failures += 1
            msg = f"breached: measured {measured}, target {target}"
            if r["credit_percent"]:
                msg += f", credit {r['credit_percent']}%"
            body = f"<failure message={quoteattr(msg)} type=\"breached\"/>"
        else:
            body = f"<system-out>{_esc(r['status'])}: measured {_esc(measured)}, target " \
                   f"{_esc(target)}</system-out>"
        cases.append(f'    <testcase classname={quoteattr(r["agreement"])} '
                     f'name={quoteattr(name)}>{body}</testcase>')
    head = (f'<testsuites name="slang audit" tests="{len(cases)}" failures="{failures}">\n'
            f'  <testsuite name="slang audit as of {doc["as_of"]}" tests="{len(cases)}" '
            f'failures="{failures}" errors="0" skipped="0">')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + head + "\n" + "\n".join(cases)
            + "\n  </testsuite>\n</testsuites>\n")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


RENDERERS = {
    "json": lambda r: r.to_json(),
    "text": render_text,
    "markdown": render_markdown,
    "junit": render_junit,
}
