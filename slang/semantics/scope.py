"""Namespaces: what a name in a given file refers to.

All estate files share one namespace of top-level names (calendars, sources, credit schedules,
agreements) and one of services (catalogue members). An import brings another module's
namespace under its alias, for the importing file only. A module that is only imported has a
namespace of its own; a module that is both in the estate and imported is the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slang.diagnostics import Diagnostic, error
from slang.semantics.values import did_you_mean
from slang.syntax import ast
from slang.syntax.span import Span

KIND_WORDS = {
    ast.Calendar: "calendar",
    ast.Source: "source",
    ast.CreditSchedule: "credit schedule",
    ast.Agreement: "agreement",
    ast.Service: "service",
}


@dataclass(frozen=True)
class Entry:
    """A declaration and the namespace it lives in (for its canonical id)."""

    node: ast.Calendar | ast.Source | ast.CreditSchedule | ast.Agreement | ast.Service
    namespace: Namespace
    file: str

    @property
    def name(self) -> str:
        return self.node.name.name

    @property
    def id(self) -> str:
        return self.namespace.qualify(self.name)


@dataclass(eq=False)
class Namespace:
    """`prefix` is empty for the estate and the module's path for imported-only modules, so that
    two modules' `requests` sources get different ids."""

    prefix: str
    decls: dict[str, Entry] = field(default_factory=dict)
    services: dict[str, Entry] = field(default_factory=dict)

    def qualify(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name


@dataclass(eq=False)
class FileScope:
    """What one file sees: its namespace plus its import aliases."""

    namespace: Namespace
    imports: dict[str, Namespace | None]  # None: the import failed (already reported)
    file: str

    def lookup(
        self, name: ast.Name | ast.Ident, kind: type, diags: list[Diagnostic]
    ) -> Entry | None:
        """Resolve a reference to a declaration of `kind`, reporting unknown or wrong names."""
        parts = (name.name,) if isinstance(name, ast.Ident) else name.parts
        word = KIND_WORDS[kind]
        table = "services" if kind is ast.Service else "decls"
        span = name.span
        if len(parts) == 1:
            space: Namespace | None = self.namespace
            local = parts[0]
        elif len(parts) == 2 and parts[0] in self.imports:
            space = self.imports[parts[0]]
            local = parts[1]
            if space is None:
                return None  # the failed import was reported where it was written
        else:
            if len(parts) == 2:
                hint = did_you_mean(parts[0], self.imports) or (
                    f"import the module first, e.g. `import \"std/...\" as {parts[0]}`"
                )
                diags.append(error("SLG0202", f"unknown module alias `{parts[0]}`", span, hint))
            else:
                diags.append(error("SLG0202", f"`{'.'.join(parts)}` is not a {word} name", span))
            return None
        entries: dict[str, Entry] = getattr(space, table)
        entry = entries.get(local)
        if entry is None:
            prefix = f"{parts[0]}." if len(parts) == 2 else ""
            candidates = [prefix + k for k, e in entries.items() if isinstance(e.node, kind)]
            if len(parts) == 1:
                candidates += [
                    f"{alias}.{k}"
                    for alias, ns in self.imports.items()
                    if ns is not None
                    for k, e in getattr(ns, table).items()
                    if isinstance(e.node, kind)
                ]
            code = "SLG0203" if kind is ast.Service else "SLG0202"
            where = " in the catalogue" if kind is ast.Service else ""
            diags.append(
                error(code, f"unknown {word} `{'.'.join(parts)}`{where}", span,
                      did_you_mean(".".join(parts), candidates))
            )
            return None
        if not isinstance(entry.node, kind):
            actual = KIND_WORDS[type(entry.node)]
            diags.append(
                error("SLG0208", f"`{'.'.join(parts)}` is a {actual}, not a {word}", span,
                      f"declared at {_where(entry.node.span)}")
            )
            return None
        return entry


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.col}"
