"""Parsing many files fast: a content-addressed cache of parse results, and parallel parsing.

lark's LALR parser runs at a few hundred kB/s in pure Python, so a 2,000-agreement estate takes
seconds to parse. Policies change a few files at a time, so results are cached by what
determines them: the text, the path shown in spans, and the parser's own code (grammar, AST,
builder). A cold run of a large estate parses on every core.

The cache lives in `$SLANG_CACHE_DIR` (default `~/.cache/slang`); `SLANG_CACHE_DIR=off`
disables it. A damaged or unreadable cache entry is ignored, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

from slang.resources import grammar_path
from slang.syntax.parser import ParseResult, lark_parser, parse

PARALLEL_MIN_BYTES = 256 * 1024
PARALLEL_MIN_FILES = 8


@cache
def _parser_fingerprint() -> str:
    """Everything that shapes a parse result besides its input."""
    from slang import __version__

    here = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for p in (grammar_path(), here / "parser.py", here / "ast.py", here / "syntax_errors.py",
              here / "span.py", here.parent / "diagnostics.py"):
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_dir() -> Path | None:
    configured = os.environ.get("SLANG_CACHE_DIR")
    if configured == "off":
        return None
    base = Path(configured) if configured else Path.home() / ".cache" / "slang"
    return base / "parse"


def _key(text: str, path: str) -> str:
    h = hashlib.sha256(_parser_fingerprint().encode())
    h.update(b"\0" + path.encode() + b"\0" + text.encode())
    return h.hexdigest()


def _load(directory: Path, key: str) -> ParseResult | None:
    try:
        # loads() on the bytes: pickle.load() on a file object reads in tiny pieces
        result = pickle.loads((directory / key[:2] / key).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, TypeError, ValueError):
        return None
    return result if isinstance(result, ParseResult) else None


def _store(directory: Path, key: str, result: ParseResult) -> None:
    target = directory / key[:2]
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target / key)
    except OSError:
        pass  # a read-only or full disk only costs speed


def _parse_pair(item: tuple[str, str]) -> ParseResult:
    return parse(*item)


def _worker_init() -> None:
    """Workers only build long-lived trees: the cyclic collector would just slow them down."""
    import gc

    gc.disable()


def parse_many(items: Sequence[tuple[str, str]]) -> list[ParseResult]:
    """Parse `(text, path)` pairs, in order, from the cache where possible."""
    directory = cache_dir()
    keys = [_key(text, path) for text, path in items] if directory else [""] * len(items)
    results: list[ParseResult | None] = [
        _load(directory, k) if directory else None for k in keys
    ]
    todo = [i for i, r in enumerate(results) if r is None]
    size = sum(len(items[i][0]) for i in todo)
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and len(todo) >= PARALLEL_MIN_FILES and size >= PARALLEL_MIN_BYTES:
        lark_parser()  # built once here; forked workers inherit it
        method = "fork" if "fork" in get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(workers, mp_context=get_context(method),
                                 initializer=_worker_init) as pool:
            chunk = max(1, len(todo) // (workers * 4))
            fresh = list(pool.map(_parse_pair, [items[i] for i in todo], chunksize=chunk))
    else:
        fresh = [parse(*items[i]) for i in todo]
    for i, result in zip(todo, fresh, strict=True):
        results[i] = result
        if directory:
            _store(directory, keys[i], result)
    return [r for r in results if r is not None]


def parse_cached(text: str, path: str) -> ParseResult:
    return parse_many([(text, path)])[0]
