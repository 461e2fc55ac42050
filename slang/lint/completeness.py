"""Completeness: every service someone relies on has an agreement, and every agreed agreement
says who it binds, who hears about breaches and when it is looked at again.

Credits without a fee are SLG0503, which `slang.load` reports already; it is not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterator

from slang.diagnostics import Diagnostic, warning
from slang.lint.rules import Context, service_head


def services_without_agreement(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0510: a catalogue service that no `agreed` agreement covers, unless it is `internal`."""
    statuses: dict[str, set[str]] = {}
    for a in ctx.agreements():
        statuses.setdefault(a.service.id, set()).add(a.status)
    tests = {f.path for f in ctx.model.files if f.origin == "test"}
    for svc in sorted(ctx.model.services.values(), key=lambda s: (s.span.file, s.span.line)):
        others = sorted(statuses.get(svc.id, ()))
        if svc.internal or "agreed" in others or svc.span.file in tests:
            continue
        known = f" (its agreements are {', '.join(others)})" if others else ""
        yield warning(
            "SLG0510", f"service `{svc.name}` has no agreed agreement{known}", service_head(svc),
            "agree an agreement for it, or mark the service `internal` if it is not offered "
            "to anyone",
        )


_MISSING = {
    "customer": ("SLG0511", "who receives the service, e.g. `customer \"Retail BU\"`"),
    "provider": ("SLG0512", "who answers for it, e.g. `provider \"Platform Operations\"`"),
    "notify": ("SLG0513", "who hears about breaches, e.g. "
               "`notify \"ops@example.com\" on breach, at_risk`"),
    "review": ("SLG0514", "how often it is looked at again, e.g. `review every 6 months` with "
               "`reviewed DATE`"),
}


def agreed_without_parties(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0511-SLG0514: an agreed agreement without customer, provider, notify or review."""
    for a in ctx.agreements("agreed"):
        present = {
            "customer": a.customer is not None,
            "provider": a.provider is not None,
            "notify": bool(a.notify),
            # A review cycle with an error is reported where it is written (SLG0418).
            "review": a.review is not None or ctx.attr(a, "review") is not None,
        }
        for key, ok in present.items():
            if ok:
                continue
            code, example = _MISSING[key]
            yield warning(
                code, f"agreed agreement `{a.name}` has no `{key}`", ctx.name_span(a),
                f"add {example}",
            )
