"""The service catalogue as one self-contained HTML page: the dependency graph as inline SVG,
the services table, the services without agreements, and one section per service with the
agreements that cover it and their targets. Same frame as the review report (`html_page`):
no script, nothing fetched, every policy string escaped."""

from __future__ import annotations

from slang.report.catalogue import CatalogueView, ServiceEntry
from slang.report.html_page import page, table
from slang.report.svg import Node, dependency_graph, esc


def render_catalogue_html(view: CatalogueView) -> str:
    nodes = [Node(s.name, s.label, s.owner or s.name, s.layer, s.internal, bool(s.agreements))
             for s in view.services]
    graph = dependency_graph(f"{view.title}: dependencies", nodes, view.edges)
    parts = [f"<header><h1>{esc(view.title)}</h1>",
             f'<p class="lead">{len(view.services)} services, '
             f"{len(view.without_agreements)} without an agreement of their own.</p></header>",
             '<section class="graph"><h2>Dependencies</h2>',
             f'<figure class="dependencies">{graph}<figcaption>An arrow points from a service '
             "to one it depends on. Blue outline: the service has an agreement; dashed: it has "
             "none. Grey boxes are internal services.</figcaption></figure></section>",
             _services_table(view), _without(view)]
    parts += [_service(s) for s in view.services]
    return page(view.title, "\n".join(parts))


def _code_list(names: tuple[str, ...], empty: str) -> str:
    return ", ".join(f'<a href="#service-{esc(x)}"><code>{esc(x)}</code></a>'
                     for x in names) or esc(empty)


def _services_table(view: CatalogueView) -> str:
    rows = [[f'<a href="#service-{esc(s.name)}"><code>{esc(s.name)}</code></a>'
             + (" (internal)" if s.internal else ""),
             esc(s.label), esc(s.owner or "-"), esc(s.tier or "-"),
             _code_list(s.depends_on, "-"),
             ", ".join(f"<code>{esc(a.name)}</code>" for a in s.agreements) or "none"]
            for s in view.services]
    return ("<section><h2>Services</h2>"
            + table(["Service", "Title", "Owner", "Tier", "Depends on", "Agreements"], rows)
            + "</section>")


def _without(view: CatalogueView) -> str:
    out = ["<section><h2>Services without agreements</h2>"]
    if not view.without_agreements:
        out.append("<p>Every service has an agreement.</p>")
    items = []
    for s in view.without_agreements:
        why = "internal" if s.internal else "<b>offered to customers without an agreement</b>"
        under = f"; underpins {_code_list(s.underpins, '')}" if s.underpins else ""
        items.append(f'<li><a href="#service-{esc(s.name)}"><code>{esc(s.name)}</code></a> '
                     f"({esc(s.label)}): {why}{under}</li>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    out.append("</section>")
    return "".join(out)


def _service(s: ServiceEntry) -> str:
    out = [f'<section class="service" id="service-{esc(s.name)}">',
           f"<h2>{esc(s.label)} <code>{esc(s.name)}</code></h2>"]
    if s.description:
        out.append(f"<p>{esc(s.description)}</p>")
    facts = [["Owner", esc(s.owner or "-")], ["Tier", esc(s.tier or "-")],
             ["Key", f"<code>{esc(s.key)}</code>"],
             ["Internal", "yes" if s.internal else "no"],
             ["Depends on", _code_list(s.depends_on, "nothing")],
             ["Used by", _code_list(s.dependents, "nothing")]]
    if s.underpins:
        facts.append(["Underpins", ", ".join(f"<code>{esc(a)}</code>" for a in s.underpins)])
    out.append(table(None, facts, css_class="facts"))
    if not s.agreements:
        out.append("<p>No agreement of its own.</p>")
    for a in s.agreements:
        who = f" for {esc(a.customer)}" if a.customer else ""
        dates = f"{a.effective_start or 'always'} to {a.effective_end or 'open-ended'}"
        line = (f"Status <b>{esc(a.status)}</b>, {esc(a.period)}, effective {esc(dates)}"
                + (f", fee {esc(a.fee)}" if a.fee else "")
                + (f", provided by {esc(a.provider)}" if a.provider else "") + ".")
        out.append(f"<h3><code>{esc(a.name)}</code>{who}</h3><p>{line}</p>")
        out.append(table(["Objective", "Indicator", "Target"], [
            [esc(o.name), f"<code>{esc(o.indicator)}</code>", esc(o.target_text)]
            for o in a.objectives]))
    out.append("</section>")
    return "\n".join(out)
