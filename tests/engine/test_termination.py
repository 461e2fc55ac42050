"""SIGTERM within an audit: cleanup runs, and the process exits 143 however the signal
arrives (slang/engine/termination.py)."""

from __future__ import annotations

import os
import signal

import pytest

from slang.engine.termination import sigterm_exits, uninterrupted


def _sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_exits_143_and_runs_finally_blocks() -> None:
    cleaned = []
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exc, sigterm_exits():
        try:
            _sigterm()
            raise AssertionError("SIGTERM did not stop the block")
        finally:
            cleaned.append(True)
    assert exc.value.code == 143
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_library_error_replacing_the_exit_still_exits_143() -> None:
    """DuckDB checks for signals during a query, and reports the SystemExit our handler
    raised as `RuntimeError: Query interrupted`: that is the termination, not a failure to
    report with a traceback and exit status 1."""

    def query() -> None:
        try:
            _sigterm()
        except SystemExit:
            raise RuntimeError("Query interrupted") from None

    with pytest.raises(SystemExit) as exc, sigterm_exits():
        query()
    assert exc.value.code == 143


def test_sigterm_during_cleanup_waits_for_the_cleanup() -> None:
    steps = []
    with pytest.raises(SystemExit) as exc, sigterm_exits():
        with uninterrupted():
            _sigterm()
            steps.append("removed")
        steps.append("after")
    assert exc.value.code == 143
    assert steps == ["removed", "after"]


def test_ctrl_c_exits_130_after_cleanup_not_1() -> None:
    """Status 1 means findings; a Ctrl-C'd audit has none to report."""
    cleaned = []
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as exc, sigterm_exits():
        try:
            os.kill(os.getpid(), signal.SIGINT)
        finally:
            cleaned.append(True)
    assert exc.value.code == 130
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGINT) is before


def test_errors_without_a_sigterm_are_left_alone() -> None:
    with pytest.raises(ValueError), sigterm_exits():
        raise ValueError("a real failure")
    with sigterm_exits():  # and a later guard starts afresh
        pass
