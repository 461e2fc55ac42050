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

__all__ = ["Diagnostic", "Model", "Severity", "SlangError", "__version__", "load", "parse"]
