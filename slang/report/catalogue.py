"""The service catalogue as a document: every service, what it depends on, and the agreements
that cover it.

`slang catalogue` reads only policies (no data, no clock), so the same estate always gives the
same bytes. One view model (`build_catalogue`) feeds the three formats: JSON (schema in
`slang/schemas/catalogue.schema.json`), Markdown (with a Mermaid dependency graph) and HTML
(`catalogue_html`, with an inline SVG graph laid out deterministically).

For each service: title, owner, tier, key, description, whether it is internal, its direct
dependencies and dependents, the agreements written for it (customer, provider, status,
effective dates, period, fee, objectives with their targets), and the agreements it underpins
through the services that depend on it. Services without an agreement of their own are listed
apart: for an internal service that is expected, for a customer-facing one it is a gap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slang.diff.semantic import indicator_text
from slang.engine.outcome import exact, to_number
from slang.report.quantities import money_text, target_text
from slang.semantics import model as m
from slang.syntax import ast

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ObjectiveEntry:
    name: str
    indicator: str
    op: str
    target: int | float  # a fraction for percentages, else the column's unit
    unit: str | None  # "%" for fractions, the column's unit, or None
    target_text: str


@dataclass(frozen=True)
class AgreementEntry:
    name: str
    customer: str | None
    provider: str | None
    status: str
    effective_start: str | None
    effective_end: str | None
    period: str
    fee: str | None
    objectives: tuple[ObjectiveEntry, ...]


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    title: str | None
    owner: str | None
    tier: str | None
    key: str
    description: str | None
    internal: bool
    depends_on: tuple[str, ...]
    dependents: tuple[str, ...]
    agreements: tuple[AgreementEntry, ...]
    underpins: tuple[str, ...]  # agreements of services that depend on this one, transitively
    layer: int  # 0 for services nothing depends on; a dependency sits below its dependents

    @property
    def label(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class CatalogueView:
    titles: tuple[str, ...]  # the `catalogue "..."` titles of the estate's files
    services: tuple[ServiceEntry, ...]  # by name

    @property
    def title(self) -> str:
        return "Service catalogue" + (f": {', '.join(self.titles)}" if self.titles else "")

    @property
    def without_agreements(self) -> tuple[ServiceEntry, ...]:
        return tuple(s for s in self.services if not s.agreements)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """(dependent, dependency), sorted."""
        return tuple(sorted((s.name, d) for s in self.services for d in s.depends_on))


# ------------------------------------------------------------------------------ building


def build_catalogue(model: m.Model) -> CatalogueView:
    services = dict(sorted(model.services.items()))
    dependents: dict[str, list[str]] = {name: [] for name in services}
    for s in services.values():
        for d in s.depends_on:
            if d in dependents:
                dependents[d].append(s.name)
    by_service: dict[str, list[m.Agreement]] = {}
    for a in sorted(model.agreements.values(), key=lambda a: a.name):
        by_service.setdefault(a.service.name, []).append(a)
    layers = dependency_layers(services)
    entries = tuple(
        ServiceEntry(
            name=s.name, title=s.title, owner=s.owner, tier=s.tier, key=s.key,
            description=s.description, internal=s.internal,
            depends_on=tuple(sorted(s.depends_on)),
            dependents=tuple(sorted(dependents[s.name])),
            agreements=tuple(_agreement(a) for a in by_service.get(s.name, [])),
            underpins=_underpins(s.name, dependents, by_service),
            layer=layers[s.name],
        )
        for s in services.values()
    )
    return CatalogueView(_titles(model), entries)


def _titles(model: m.Model) -> tuple[str, ...]:
    found: list[str] = []
    for f in sorted(model.files, key=lambda f: f.path):
        if f.origin != "estate":
            continue
        for decl in f.module.decls:
            if isinstance(decl, ast.Catalogue) and decl.title is not None \
                    and decl.title.value not in found:
                found.append(decl.title.value)
    return tuple(found)


def dependency_layers(services: dict[str, m.Service]) -> dict[str, int]:
    """Layer 0 for services nothing depends on; every other service one below its lowest
    dependent, so that every edge points down. Cycles (an error `slang check` reports) are
    cut where they close, so this always ends."""
    dependents: dict[str, list[str]] = {name: [] for name in services}
    for s in services.values():
        for d in s.depends_on:
            if d in dependents:
                dependents[d].append(s.name)
    layer: dict[str, int] = {}

    def depth(name: str, path: frozenset[str]) -> int:
        if name in layer:
            return layer[name]
        above = [depth(p, path | {name}) + 1 for p in dependents[name] if p not in path]
        layer[name] = max(above, default=0)
        return layer[name]

    for name in sorted(services):
        depth(name, frozenset())
    return layer


def _underpins(name: str, dependents: dict[str, list[str]],
               by_service: dict[str, list[m.Agreement]]) -> tuple[str, ...]:
    seen: set[str] = set()
    todo = list(dependents[name])
    while todo:
        s = todo.pop()
        if s in seen or s == name:
            continue
        seen.add(s)
        todo.extend(dependents.get(s, []))
    return tuple(sorted(a.name for s in seen for a in by_service.get(s, [])))


def _unit(ind: m.Indicator) -> str | None:
    if m.is_fraction(ind):
        return "%"
    if isinstance(ind, m.SliceMeanIndicator | m.TimeslicesIndicator):
        return _unit(ind.inner)
    return ind.unit if isinstance(ind, m.ValueIndicator) else None


def _agreement(a: m.Agreement) -> AgreementEntry:
    objectives = []
    for o in a.objectives:
        unit = _unit(o.indicator)
        value = exact(o.target.value)
        objectives.append(ObjectiveEntry(
            o.name, indicator_text(o.indicator), o.target.op, to_number(value), unit,
            target_text(o.target.op, value, unit == "%", None if unit == "%" else unit)))
    return AgreementEntry(
        name=a.name, customer=a.customer, provider=a.provider, status=a.status,
        effective_start=a.effective_start.isoformat() if a.effective_start else None,
        effective_end=a.effective_end.isoformat() if a.effective_end else None,
        period=a.period.label,
        fee=None if a.fee is None else money_text(a.fee.amount, a.fee.currency),
        objectives=tuple(objectives),
    )


# ------------------------------------------------------------------------------ JSON


def catalogue_dict(view: CatalogueView) -> dict[str, Any]:
    from slang import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "slang_version": __version__,
        "titles": list(view.titles),
        "services": [_service_dict(s) for s in view.services],
        "edges": [{"from": a, "to": b} for a, b in view.edges],
        "without_agreements": [s.name for s in view.without_agreements],
    }


def _service_dict(s: ServiceEntry) -> dict[str, Any]:
    return {
        "name": s.name, "title": s.title, "owner": s.owner, "tier": s.tier, "key": s.key,
        "description": s.description, "internal": s.internal,
        "depends_on": list(s.depends_on), "dependents": list(s.dependents),
        "layer": s.layer,
        "agreements": [{
            "name": a.name, "customer": a.customer, "provider": a.provider, "status": a.status,
            "effective": {"start": a.effective_start, "end": a.effective_end},
            "period": a.period, "fee": a.fee,
            "objectives": [{"name": o.name, "indicator": o.indicator, "op": o.op,
                            "target": o.target, "unit": o.unit, "target_text": o.target_text}
                           for o in a.objectives],
        } for a in s.agreements],
        "underpins": list(s.underpins),
    }


def render_catalogue_json(view: CatalogueView) -> str:
    return json.dumps(catalogue_dict(view), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------ Markdown


def mermaid_label(text: str) -> str:
    """Text inside a Mermaid `["..."]` label: quotes and markup as Mermaid entity codes."""
    for raw, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, code)
    return " ".join(text.split())


def render_catalogue_markdown(view: CatalogueView) -> str:
    from slang.report.review_markdown import code, md, md_paragraph

    out = [f"# {md(view.title)}", "",
           f"{len(view.services)} services, {len(view.without_agreements)} without an agreement "
           "of their own.", "", "## Dependencies", "", "```mermaid", "graph TD"]
    for s in view.services:
        shape = f'("{mermaid_label(s.label)}")' if s.internal else f'["{mermaid_label(s.label)}"]'
        out.append(f"  s_{s.name}{shape}")  # prefixed: a service named `end` is no keyword
    out += [f"  s_{a} --> s_{b}" for a, b in view.edges]
    out += ["```", "", "Rounded nodes are internal services; an arrow points from a service to "
            "one it depends on.", "", "## Services", ""]
    out.append("| Service | Title | Owner | Tier | Depends on | Agreements |")
    out.append("|---|---|---|---|---|---|")
    for s in view.services:
        deps = ", ".join(code(d) for d in s.depends_on) or "-"
        ags = ", ".join(code(a.name) for a in s.agreements) or "none"
        out.append(f"| {code(s.name)}{' (internal)' if s.internal else ''} | {md(s.label)} | "
                   f"{md(s.owner or '-')} | {md(s.tier or '-')} | {deps} | {ags} |")
    out += ["", "## Services without agreements", ""]
    if not view.without_agreements:
        out += ["Every service has an agreement.", ""]
    for s in view.without_agreements:
        why = "internal" if s.internal else "**offered to customers without an agreement**"
        under = (f"; underpins {', '.join(code(a) for a in s.underpins)}" if s.underpins
                 else "")
        out.append(f"- {code(s.name)} ({md(s.label)}): {why}{under}")
    out.append("")
    for s in view.services:
        out += [f"## {md(s.label)} ({md(s.name)})", ""]
        if s.description:
            out += [md_paragraph(s.description), ""]
        facts = [f"owner {md(s.owner or '-')}", f"tier {md(s.tier or '-')}",
                 f"key {code(s.key)}"]
        if s.internal:
            facts.append("internal")
        out += ["- " + ", ".join(facts)]
        out.append("- depends on: " + (", ".join(code(d) for d in s.depends_on) or "nothing"))
        out.append("- used by: " + (", ".join(code(d) for d in s.dependents) or "nothing"))
        if s.underpins:
            out.append("- underpins: " + ", ".join(code(a) for a in s.underpins))
        out.append("")
        for a in s.agreements:
            who = f" for {md(a.customer)}" if a.customer else ""
            dates = f"{a.effective_start or 'always'} to {a.effective_end or 'open-ended'}"
            out.append(f"### {md(a.name)}{who}")
            out.append("")
            out.append(f"Status {md(a.status)}, {md(a.period)}, effective {md(dates)}"
                       + (f", fee {md(a.fee)}" if a.fee else "")
                       + (f", provided by {md(a.provider)}" if a.provider else "") + ".")
            out.append("")
            out.append("| Objective | Indicator | Target |")
            out.append("|---|---|---|")
            out += [f"| {md(o.name)} | {code(o.indicator)} | {md(o.target_text)} |"
                    for o in a.objectives]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
