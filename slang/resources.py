"""Where the grammar and the standard library live, in a wheel and in a checkout.

A wheel carries them inside the package (`slang/_data/`, see `pyproject.toml`); a checkout or an
editable install finds them at the repository root. Both are looked up here and nowhere else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"slang installation is incomplete: {name}/ not found near {_PACKAGE}")


@cache
def grammar_path() -> Path:
    return _find("grammar") / "slang.lark"


@cache
def stdlib_dir() -> Path:
    return _find("stdlib")
