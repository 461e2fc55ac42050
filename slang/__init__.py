"""slang: service level agreements as code.

The layers are usable on their own: `slang.syntax` (text -> AST, formatter), `slang.semantics`
(AST -> resolved model with diagnostics), and later `slang.plan`, `slang.engine`, `slang.report`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("slang")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+checkout"

from slang.diagnostics import Diagnostic, Severity, SlangError
from slang.semantics import Model, load
from slang.syntax.parser import parse

__all__ = [
    "AuditReport",
    "Diagnostic",
    "Model",
    "PeriodChoice",
    "Severity",
    "SlangError",
    "__version__",
    "audit",
    "load",
    "parse",
]


def __getattr__(name: str) -> object:
    """The engine (pyarrow, numpy) loads on first use, so `slang check` starts fast."""
    if name in ("audit", "PeriodChoice"):
        from slang.engine import audit as _audit

        return getattr(_audit, name)
    if name == "AuditReport":
        from slang.report.audit_report import AuditReport

        return AuditReport
    raise AttributeError(f"module 'slang' has no attribute {name!r}")
