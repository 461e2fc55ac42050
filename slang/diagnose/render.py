"""`slang diagnose` output: JSON (the document the other formats read), text and markdown."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from typing import Any

from slang.diagnose.build import Bucket, Diagnosis, ObjectiveDiagnosis
from slang.engine.outcome import to_float, to_number
from slang.report.audit_report import rfc3339
from slang.report.plain import instant_text, table
from slang.report.render import fmt_value

SCHEMA_VERSION = 1


def to_dict(d: Diagnosis) -> dict[str, Any]:
    p = d.period
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": rfc3339(d.as_of),
        "agreement": d.agreement.name,
        "timezone": d.agreement.timezone,
        "period": p.label,
        "period_start": instant_text(p.start_us),
        "period_end": instant_text(p.end_us),
        "complete": p.complete,
        "objective_asked": d.asked,
        "objectives": [_objective(o) for o in d.objectives],
    }


def _share(part: Fraction, whole: Fraction | None) -> float | None:
    return None if not whole else to_float(part / whole)


def _bucket(b: Bucket, o: ObjectiveDiagnosis, by: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"label": b.label}
    if by:
        out["values"] = {c: _json_value(v) for c, v in zip(by, b.values, strict=True)}
    else:
        out["start"] = None if b.start_us is None else instant_text(b.start_us)
        out["end"] = None if b.end_us is None else instant_text(b.end_us)
    out.update({
        "bad": to_number(b.bad), "total": to_number(b.total),
        "share_of_bad": _share(b.bad, o.bad), "share_of_budget": _share(b.bad, o.allowed),
    })
    return out


def _json_value(v: object) -> object:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dt.datetime):
        return rfc3339(v)
    return str(v)


def _objective(o: ObjectiveDiagnosis) -> dict[str, Any]:
    r = o.result
    return {
        "objective": r.objective.name,
        "indicator": r.indicator,
        "status": r.status,
        "measured": to_float(r.measure.measured) if r.status != "no_data" else None,
        "op": r.objective.target.op,
        "target": float(r.objective.target.value),
        "unit": o.unit,
        "bad": to_number(o.bad),
        "total": to_number(o.total),
        "allowed": to_float(o.allowed),
        "share_of_budget": _share(o.bad, o.allowed),
        "worst_days": [_bucket(b, o) for b in o.worst_days],
        "worst_hours": [_bucket(b, o) for b in o.worst_hours],
        "by": list(o.by),
        "groups": [_bucket(b, o, o.by) for b in o.groups],
    }


def render_json(d: Diagnosis) -> str:
    return json.dumps(to_dict(d), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------ text, markdown


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _amount(v: int | float, unit: str) -> str:
    text = str(v) if isinstance(v, int) else f"{v:.6g}"
    return f"{text}s" if unit == "seconds" else text


def _heading(doc: dict[str, Any]) -> str:
    running = "" if doc["complete"] else " (running)"
    return (f"slang diagnose {doc['agreement']} {doc['period']}{running}, {doc['timezone']}, "
            f"as of {doc['as_of']}")


def _summary(o: dict[str, Any]) -> list[str]:
    what = "downtime" if o["unit"] == "seconds" else "bad events"
    of = "counted" if o["unit"] == "seconds" else "events"
    line = (f"{_amount(o['bad'], o['unit'])} {what} of {_amount(o['total'], o['unit'])} "
            f"{of}")
    if o["allowed"] is not None:
        line += (f"; error budget so far {_amount(o['allowed'], o['unit'])}, "
                 f"{_pct(o['share_of_budget'])} spent")
    ind = o["indicator"]
    status = (f"{o['objective']}: {o['status']}, measured {fmt_value(o['measured'], ind)}, "
              f"target {o['op']} {fmt_value(o['target'], ind)}")
    return [status, line]


def _rows(buckets: list[dict[str, Any]], unit: str) -> list[list[str]]:
    return [[b["label"], _amount(b["bad"], unit), _amount(b["total"], unit),
             _pct(b["share_of_bad"]), _pct(b["share_of_budget"])] for b in buckets]


def _sections(o: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    out = [("worst days", _rows(o["worst_days"], o["unit"])),
           ("worst hours", _rows(o["worst_hours"], o["unit"]))]
    if o["by"]:
        unit = o["unit"]
        groups = [[g["label"], _amount(g["bad"], unit), str(g["total"]),
                   _pct(g["share_of_bad"]), _pct(g["share_of_budget"])] for g in o["groups"]]
        out.append(("by " + ", ".join(o["by"]), groups))
    return out


def _nothing(doc: dict[str, Any]) -> str:
    return (f"nothing is breached or at risk in {doc['agreement']} {doc['period']}; name an "
            "objective with --objective to look at it anyway")


def render_text(d: Diagnosis) -> str:
    doc = to_dict(d)
    out = [_heading(doc)]
    if not doc["objectives"]:
        out += ["", _nothing(doc)]
    for o in doc["objectives"]:
        out += ["", *_summary(o)]
        total_word = "COUNTED" if o["unit"] == "seconds" else "TOTAL"
        for title, rows in _sections(o):
            header = [title.upper(), "BAD", "INTERVALS" if title.startswith("by ")
                      and o["unit"] == "seconds" else total_word, "SHARE OF BAD",
                      "SHARE OF BUDGET"]
            out += [""] + (["  " + line for line in table(header, rows)] if rows
                           else [f"  {title}: none"])
    return "\n".join(out) + "\n"


def render_markdown(d: Diagnosis) -> str:
    doc = to_dict(d)
    out = [f"# {_heading(doc)}", ""]
    if not doc["objectives"]:
        out += [_nothing(doc) + ".", ""]
    for o in doc["objectives"]:
        status, line = _summary(o)
        out += [f"## {status}", "", line + ".", ""]
        total_word = "Counted" if o["unit"] == "seconds" else "Total"
        for title, rows in _sections(o):
            out += [f"### {title[0].upper()}{title[1:]}", ""]
            if not rows:
                out += ["None.", ""]
                continue
            first = {"worst days": "Day", "worst hours": "Hour"}.get(title, title[3:])
            count = "Intervals" if title.startswith("by ") and o["unit"] == "seconds" \
                else total_word
            out += [f"| {first} | Bad | {count} | Share of bad | Share of budget |",
                    "|---|---|---|---|---|"]
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
            out.append("")
    return "\n".join(out)


RENDERERS = {"json": render_json, "text": render_text, "markdown": render_markdown}
