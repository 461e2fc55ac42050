"""The slang that importers write: a small plan of declarations, rendered and then formatted.

OpenSLO and Sloth importers fill the same plan (services, sources, agreements), so both write
slang of one shape, which `slang export openslo` reads back. Text is produced with the
formatter's quoting helpers and passed through `format_text`, so the output is canonical slang.

The shape, documented in docs/interop.md: every imported SLI is an `events` source whose rows
are events with a boolean `good` column (or a numeric `value` column for threshold metrics),
with a `prometheus` block when its queries are PromQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slang.syntax.formatter import format_ident, format_string, format_text


def slang_name(name: str) -> str:
    """An OpenSLO/Sloth name as a slang name: `-` and other separators become `_`."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not out or out[0].isdigit():
        out = "_" + out
    return out


def openslo_name(name: str) -> str:
    """The reverse of `slang_name` for the names slang writes."""
    return name.replace("_", "-").strip("-") or "x"


class Names:
    """Unique slang names per namespace (services; everything else shares one namespace)."""

    def __init__(self) -> None:
        self.used: dict[str, set[str]] = {"service": set(), "decl": set()}

    def take(self, space: str, wanted: str) -> str:
        used = self.used[space]
        name = wanted
        n = 2
        while name in used:
            name = f"{wanted}_{n}"
            n += 1
        used.add(name)
        return name


@dataclass
class PromBlock:
    total: str
    numerator_role: str  # good | bad
    numerator: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class ServiceDecl:
    name: str
    title: str | None = None
    description: str | None = None


@dataclass
class SourceDecl:
    name: str
    table: str
    description: str | None = None
    prometheus: PromBlock | None = None


@dataclass
class ObjectiveDecl:
    name: str
    indicator: str  # slang text
    target: str  # slang text, e.g. `>= 99.9%`
    description: str | None = None


@dataclass
class BurnLine:
    severity: str
    percent: str  # digits, without `%`
    long: str  # slang duration
    short: str


@dataclass
class AgreementDecl:
    name: str
    service: str
    period: str  # slang text: `monthly`, `rolling 28d`
    status: str = "agreed"
    comment: str | None = None
    description: str | None = None
    timezone: str | None = None
    effective_start: str | None = None
    objectives: list[ObjectiveDecl] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)
    notify_on: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)  # slang text after `exclude`
    burn_rates: list[BurnLine] | None = None  # None: the defaults; []: no alerts


@dataclass
class FilePlan:
    """The declarations imported from one input file."""

    services: list[ServiceDecl] = field(default_factory=list)
    sources: list[SourceDecl] = field(default_factory=list)
    agreements: list[AgreementDecl] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.services or self.sources or self.agreements)


def render(plan: FilePlan, header: str) -> str:
    """Formatted slang for one file's declarations."""
    out: list[str] = [f"# {line}".rstrip() for line in header.splitlines()]
    out.append("")
    if plan.services:
        out.append("catalogue {")
        for s in plan.services:
            out.append(f"  service {format_ident(s.name)} {{")
            if s.title is not None:
                out.append(f"    title {format_string(s.title)}")
            if s.description is not None:
                out.append(f"    description {format_string(s.description)}")
            out.append("  }")
        out.append("}")
        out.append("")
    for src in plan.sources:
        out.append(f"events {format_ident(src.name)} from {format_string(src.table)} {{")
        if src.description is not None:
            out.append(f"  description {format_string(src.description)}")
        if src.prometheus is not None:
            p = src.prometheus
            out.append("  prometheus {")
            out.append(f"    total {format_string(p.total)}")
            out.append(f"    {p.numerator_role} {format_string(p.numerator)}")
            if p.labels:
                entries = ", ".join(f"{format_ident(k)}: {format_string(v)}"
                                    for k, v in p.labels.items())
                out.append(f"    labels {{ {entries} }}")
            out.append("  }")
        out.append("}")
        out.append("")
    for a in plan.agreements:
        if a.comment:
            out.extend(f"# {line}".rstrip() for line in a.comment.splitlines())
        out.append(f"agreement {format_ident(a.name)} {{")
        out.append(f"  service {format_ident(a.service)}")
        out.append(f"  status {a.status}")
        if a.description is not None:
            out.append(f"  description {format_string(a.description)}")
        if a.effective_start is not None:
            out.append(f"  effective {a.effective_start} ..")
        if a.timezone is not None:
            out.append(f"  timezone {format_string(a.timezone)}")
        out.append(f"  period {a.period}")
        if a.exclusions:
            out.append("")
            out.extend(f"  exclude {text}" for text in a.exclusions)
        if a.notify:
            if a.exclusions:
                out.append("")
            line = "  notify " + ", ".join(format_string(r) for r in a.notify)
            if a.notify_on:
                line += " on " + ", ".join(a.notify_on)
            out.append(line)
        if a.burn_rates is not None:
            out.append("")
            out.append("  burn_rate {")
            for b in a.burn_rates:
                out.append(f"    {b.severity} {b.percent}% in {b.long} / {b.short}")
            out.append("  }")
        for o in a.objectives:
            out.append("")
            out.append(f"  objective {format_ident(o.name)} {{")
            if o.description is not None:
                out.append(f"    description {format_string(o.description)}")
            out.append(f"    indicator {o.indicator}")
            out.append(f"    target {o.target}")
            out.append("  }")
        out.append("}")
        out.append("")
    return format_text("\n".join(out))
