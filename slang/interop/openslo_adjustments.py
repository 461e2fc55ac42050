"""OpenSLO v2alpha `BudgetAdjustment` -> slang `exclude T1 .. T2 "description"`.

A budget adjustment names a service, an SLI (`indicatorRef`) and a window (`startTime` with
`endTime` or `duration`) of accepted unreliability. slang's nearest construct is a timestamp
exclusion of every agreement imported from an SLO of that service that measures that SLI: the
window's events then count neither as good nor as bad (language.md 7.3). Where that is not
exactly what the adjustment says, a coded warning says so; an adjustment that matches no
imported SLO is reported (SLG1008), never dropped silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slang.interop.common import SHORTHAND, SHORTHAND_SECONDS, Issues
from slang.interop.slang_writer import AgreementDecl
from slang.interop.yaml_lines import Document
from slang.syntax.formatter import format_string


@dataclass
class Measured:
    """An imported SLO: its agreement, its OpenSLO service and the SLI each objective
    measures (None where the objective names none)."""

    agreement: AgreementDecl
    slo: str
    service: str
    slis: list[str | None]


def import_adjustment(doc: Document, path: tuple[Any, ...], data: Any,
                      measured: list[Measured], issues: Issues) -> None:
    """Add the adjustment's window as an exclusion to the agreements it applies to."""
    spec = data["spec"]
    name = data["metadata"]["name"]
    service, sli = spec["service"], spec["indicatorRef"]
    matches = [m for m in measured if m.service == service and sli in m.slis]
    if not matches:
        issues.warn("SLG1008", doc, (*path, "metadata", "name"),
                    f"BudgetAdjustment `{name}`: no imported SLO of service `{service}` "
                    f"measures SLI `{sli}`; nothing to attach it to",
                    "import the SLO documents together with the adjustment")
        return
    window = _window(doc, path, spec, issues)
    if window is None:
        return
    text = f"{window[0]} .. {window[1]} {format_string(spec['description'])}"
    for m in matches:
        m.agreement.exclusions.append(text)
        others = [s for s in m.slis if s != sli]
        if others:
            issues.warn("SLG1005", doc, (*path, "spec", "indicatorRef"),
                        f"SLO `{m.slo}` also has objectives measuring other SLIs "
                        f"({', '.join(sorted({str(s) for s in others}))}); slang's exclusion "
                        "removes the window from every objective of the agreement")
    issues.warn("SLG1005", doc, (*path, "spec"),
                f"imported as `exclude {window[0]} .. {window[1]}`: the window's events count "
                "neither as good nor as bad",
                "add `as available` to the exclusion to count them as good instead")


def _window(doc: Document, path: tuple[Any, ...], spec: Any, issues: Issues
            ) -> tuple[str, str] | None:
    """(start, end) as slang timestamps, or None (with a warning) when they make no window."""
    start_text = spec["startTime"]
    try:
        start = dt.datetime.fromisoformat(start_text)
        end_text = spec.get("endTime")
        if end_text is not None:
            end = dt.datetime.fromisoformat(end_text)
            where = "endTime"
        else:
            m = SHORTHAND.match(spec["duration"])
            assert m is not None and m.group(2) in SHORTHAND_SECONDS  # the schema checked it
            end = start + dt.timedelta(seconds=int(m.group(1)) * SHORTHAND_SECONDS[m.group(2)])
            end_text = _timestamp(end)
            where = "duration"
    except ValueError as exc:
        issues.warn("SLG1004", doc, (*path, "spec", "startTime"),
                    f"not a date and time ({exc}); the adjustment is dropped")
        return None
    if end <= start:
        issues.warn("SLG1004", doc, (*path, "spec", where),
                    f"the adjustment ends ({end_text}) before it starts ({start_text}); dropped")
        return None
    return start_text, end_text


def _timestamp(when: dt.datetime) -> str:
    """RFC 3339 in slang's form, with the offset the start was written in (`Z` for UTC)."""
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}".rstrip("0")
    offset = when.utcoffset() or dt.timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"
