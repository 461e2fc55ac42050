"""SIGTERM and Ctrl-C as an ordinary exit while an audit holds temporary files.

A cancelled CI job or a `kill` sends SIGTERM, whose default action ends the process on the
spot: `finally` blocks do not run, and spill directories (the Arrow engine's bucket files,
DuckDB's database and sort spill) would stay behind, gigabytes at scale. Within
`sigterm_exits` the process exits with status 128 + the signal (143 for SIGTERM, 130 for
SIGINT, as a shell reports them) after its cleanup has run, never with a traceback or with
status 1, which means findings."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_received: list[int] = []  # signals received within the current guard
_deferring = [0]  # depth of `uninterrupted` blocks running now


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise SystemExit(128 + signal) where the program
    is, so that `finally` blocks remove what they made; the previous handlers are back
    afterwards.

    Two ways the exit could be lost are closed: a library that checks for signals during a
    long call may turn the SystemExit into its own error (DuckDB raises `RuntimeError: Query
    interrupted`), which is exited on as the SystemExit it replaced, not reported as a
    failure; and a SIGTERM arriving during cleanup (`uninterrupted`) is acted on once the
    cleanup is done. Signal handlers run only in the main thread, so elsewhere (a library
    caller's worker thread) this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _terminated) for s in _SIGNALS}
    _received.clear()
    try:
        yield
    except Exception:
        if _received:
            raise SystemExit(128 + _received[0]) from None
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if _received:
        raise SystemExit(128 + _received[0])


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Cleanup that must run to its end (removing a spill directory): a SIGTERM or SIGINT
    arriving meanwhile ends the process when the enclosing `sigterm_exits` block is left."""
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1


def _terminated(signum: int, frame: object) -> None:
    _received.append(signum)
    if not _deferring[0]:
        raise SystemExit(128 + signum)
