"""SIGTERM as an ordinary exit while an audit holds temporary files.

A cancelled CI job or a `kill` sends SIGTERM, whose default action ends the process on the
spot: `finally` blocks do not run, and spill directories (the Arrow engine's bucket files,
DuckDB's database and sort spill) would stay behind, gigabytes at scale. Raising SystemExit
instead lets them be removed on the way out."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit(128 + SIGTERM), the shell's exit status for
    it; the previous handler is back afterwards. Signal handlers run only in the main thread,
    so elsewhere (a library caller's worker thread) this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
