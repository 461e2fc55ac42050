"""Feasibility: an availability target that the service's dependencies cannot support.

A service that needs every one of its dependencies to answer is at best as available as the
product of their availabilities. The rule multiplies, for each transitive dependency counted
once, the strictest availability target of its `agreed` agreements, and warns when the product
is below the target. Redundancy (replicas, fallbacks, retries, caches) is not modelled: a
dependency behind a fallback does not multiply in, so the warning then deserves a suppression
with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from slang.diagnostics import Diagnostic, warning
from slang.lint.rules import Context, decimals, is_availability, percent
from slang.semantics import model as m


def dependencies(services: dict[str, m.Service], root: m.Service) -> list[m.Service]:
    """Transitive `depends_on` of `root`, each once, without `root` itself (even in a cycle,
    which is SLG0401), in breadth-first order with each level's names in the written order."""
    seen = {root.id}
    order: list[m.Service] = []
    queue = list(root.depends_on)
    while queue:
        name = queue.pop(0)
        if name in seen or name not in services:
            continue
        seen.add(name)
        svc = services[name]
        order.append(svc)
        queue.extend(svc.depends_on)
    return order


def promised_availability(ctx: Context) -> dict[str, tuple[Decimal, m.Agreement, str]]:
    """For each service, the strictest (highest) availability target of its agreed agreements,
    with where it is promised."""
    best: dict[str, tuple[Decimal, m.Agreement, str]] = {}
    for a in ctx.agreements("agreed"):
        for o in a.objectives:
            if not is_availability(o):
                continue
            current = best.get(a.service.id)
            if current is None or o.target.value > current[0]:
                best[a.service.id] = (o.target.value, a, o.name)
    return best


def infeasible_targets(ctx: Context) -> Iterator[Diagnostic]:
    """SLG0520, for draft, proposed and agreed agreements (a proposal is the time to notice)."""
    promised = promised_availability(ctx)
    for a in ctx.agreements("draft", "proposed", "agreed"):
        factors = [
            (svc, promised[svc.id][0])
            for svc in dependencies(ctx.model.services, a.service)
            if svc.id in promised
        ]
        if not factors:
            continue
        product = Decimal(1)
        for _, value in factors:
            product *= value
        for o in a.objectives:
            if not is_availability(o):
                continue
            goal = o.target.value
            if product > goal or (product == goal and o.target.op == ">="):
                continue
            places = max(2, decimals(goal * 100))
            shown = percent(product, places)
            exact = shown == percent(product)
            terms = " × ".join(f"{svc.name} {percent(v)}" for svc, v in factors)
            relation = "<" if product < goal else "="
            yield warning(
                "SLG0520",
                f"`{a.service.name}` cannot reach {o.target.op} {percent(goal)} if it needs all "
                f"its dependencies: {terms} {'=' if exact else '≈'} {shown} {relation} "
                f"{percent(goal)}",
                o.target.span,
                "lower this target or agree higher ones for the dependencies; redundancy "
                "(replicas, fallbacks, retries) is not modelled, so if a dependency is "
                "redundant, suppress this warning with that reason",
            )
