"""Policy tests: `test` blocks in `*_test.sla` files, run through the audit engine.

`run_tests(model)` runs the tests of a loaded estate (`slang.load(paths)`, test files included)
and returns a `TestRun`; `slang.testing.render` prints it as text, JSON or JUnit XML. The
language side (syntax, checks) is in `slang.syntax` and `slang.semantics.testcases`.
"""

from __future__ import annotations

from slang.testing.runner import Failure, TestResult, TestRun, run_test, run_tests

__all__ = ["Failure", "TestResult", "TestRun", "run_test", "run_tests"]
