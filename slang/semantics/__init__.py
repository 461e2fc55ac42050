"""AST -> resolved model: imports, name resolution, units and semantic checks."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from slang.diagnostics import sorted_diagnostics
from slang.semantics.loader import load_program
from slang.semantics.model import Model
from slang.semantics.resolve import build_model


def load(
    paths: Iterable[str | os.PathLike[str]],
    *,
    as_of: dt.datetime | None = None,
    tests: bool = True,
) -> Model:
    """Load an estate: read, parse, resolve and check every policy file under `paths`.

    Never raises for bad policies: every problem is a diagnostic in `Model.diagnostics`. `as_of`
    is the clock for time-based warnings (review overdue), which only run when it is given.
    `tests=False` leaves out the `*_test.sla` files, as every command that evaluates the estate
    does.
    """
    with _no_cyclic_gc():
        program = load_program(paths, tests=tests)
        model = build_model(program, as_of=as_of)
    model.diagnostics = sorted_diagnostics([*program.diagnostics, *model.diagnostics])
    return model


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing and resolving allocate millions of small objects that all stay alive; the
    cyclic collector would rescan them again and again (2-3x the run time of a large estate)
    while finding nothing to free. Reference counting still frees what dies."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["Model", "load"]
