"""What the SQL executor needs from a backend: bind files, define views, fetch results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import sqlglot.expressions as exp

from slang.diagnostics import SlangError, error
from slang.engine.sql.compiler import Dialect
from slang.syntax.span import Span

MISSING = "SLG1101"
FAILED = "SLG1103"
COMMAND_LINE = Span("<command line>", 0, 0, 0, 0)  # the engine was chosen there


class Backend(Protocol):
    dialect: Dialect

    def bind_parquet(self, name: str, files: Sequence[Path]) -> exp.Expression:
        """A relation over the Parquet files (read by the engine itself, streaming)."""

    def bind_arrow(self, name: str, table: pa.Table) -> exp.Expression:
        """A relation over an Arrow table already in memory (a source the Arrow reader read)."""

    def unbind(self, name: str) -> None:
        """Forget a relation `bind_arrow` registered (a batch's counted-time table)."""

    def define(self, name: str, query: exp.Select) -> exp.Expression:
        """A named view of `query`; returns a reference to it."""

    def fetch(self, query: exp.Expression) -> pa.Table:
        """Run a query; the (small) result as an Arrow table."""

    def close(self) -> None: ...


def missing_extra(engine: str, module: str, extra: str) -> SlangError:
    return SlangError([error(
        MISSING, f"--engine {engine} needs the Python package `{module}`, which is not installed",
        COMMAND_LINE, hint=f"pip install 'slang[{extra}]' (or use the default --engine arrow)")])


def engine_failed(engine: str, what: str, hint: str | None = None) -> SlangError:
    return SlangError([error(FAILED, f"the {engine} engine failed: {what}", COMMAND_LINE,
                             hint=hint or (
        "the message above is the engine's own; check memory and temporary disk space, or "
        "re-run with --engine arrow to compare"))])
