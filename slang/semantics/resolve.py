"""Placeholder replaced in the next commit."""

from __future__ import annotations

import datetime as dt

from slang.semantics.loader import Program
from slang.semantics.model import Model


def build_model(program: Program, *, as_of: dt.datetime | None = None) -> Model:
    from slang.semantics.model import PolicyFile

    files = [
        PolicyFile(f.display, str(f.abspath), f.sha256, f.origin, f.module) for f in program.files
    ]
    return Model(files, {}, {}, {}, {}, {}, [], program.texts)
