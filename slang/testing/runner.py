"""Running policy tests: each test's data through the audit engine, results against expectations.

A test evaluates exactly the agreements its expectations name (whatever their status), at its
`as_of`, over the periods it names, by calling `slang.engine.audit.audit` on the estate
restricted to them: the numbers a test pins are the numbers `slang audit` reports. Values are
compared exactly (fractions and decimals, never floats), except where an expectation gives a
tolerance with `within`.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from slang.diagnostics import Diagnostic, SlangError, SourceCache
from slang.engine.audit import PeriodChoice, audit
from slang.engine.results import ObjectiveResult
from slang.plan.plan import build_plan
from slang.report.audit_report import AuditReport, rfc3339
from slang.semantics import model as m
from slang.syntax.span import Span
from slang.testing.tables import bind


@dataclass(frozen=True)
class Failure:
    """One expectation that did not hold: what was written and what the engine measured."""

    expectation: m.Expectation
    what: str  # status | measured | credit | result
    expected: str
    actual: str
    span: Span

    @property
    def message(self) -> str:
        e = self.expectation
        head = f"{e.subject} {e.period}"
        if self.what == "result":
            return f"{head}: {self.actual}"
        return f"{head}: {self.what} expected {self.expected}, actual {self.actual}"


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest class

    case: m.TestCase
    failures: tuple[Failure, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # why the test could not run

    @property
    def status(self) -> str:
        if self.diagnostics:
            return "error"
        return "failed" if self.failures else "passed"


@dataclass
class TestRun:
    __test__ = False  # not a pytest class

    results: list[TestResult]
    found: int  # tests in the files, before --run
    texts: SourceCache

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


def run_tests(
    model: m.Model,
    pattern: str | None = None,
    progress: Callable[[TestResult], None] | None = None,
) -> TestRun:
    """Run the model's tests whose name (or `file::name`) matches the regular expression
    `pattern` (`re.search`), in file and line order. `model` must be free of errors."""
    if model.errors:
        raise SlangError(model.errors)
    regex = re.compile(pattern) if pattern is not None else None
    chosen = [t for t in model.tests
              if regex is None or regex.search(t.name) or regex.search(t.id)]
    results: list[TestResult] = []
    for case in chosen:
        result = run_test(model, case)
        results.append(result)
        if progress is not None:
            progress(result)
    return TestRun(results, len(model.tests), model.texts)


def run_test(model: m.Model, case: m.TestCase) -> TestResult:
    """One test: bind its data, evaluate each period it names, compare."""
    with tempfile.TemporaryDirectory(prefix="slang-test-") as scratch:
        data = bind(case.data, Path(scratch), columns_read(model, case))
        reports: dict[str | None, AuditReport] = {}
        try:
            for label, names in _groups(case).items():
                restricted = dataclasses.replace(
                    model, agreements={n: model.agreements[n] for n in sorted(names)})
                choice = PeriodChoice(period=label)
                reports[label] = audit(restricted, data, choice=choice, as_of=case.as_of,
                                       include_drafts=True)
        except SlangError as exc:
            return TestResult(case, diagnostics=tuple(_locate(d, case, scratch)
                                                      for d in exc.diagnostics))
    failures: list[Failure] = []
    for e in case.expectations:
        report = reports[_key(e)]
        failures.extend(_compare(e, report, case))
    return TestResult(case, tuple(failures))


def columns_read(model: m.Model, case: m.TestCase) -> dict[str, frozenset[str]]:
    """Per table, the columns evaluating the test's agreements reads (for empty tables)."""
    names = sorted({e.agreement.name for e in case.expectations})
    plan = build_plan(model, [model.agreements[n] for n in names])
    out: dict[str, set[str]] = {}
    for scan in plan.scans:
        out.setdefault(scan.source.table, set()).update(scan.columns)
    return {table: frozenset(columns) for table, columns in out.items()}


def _key(e: m.Expectation) -> str | None:
    """The `--period` choice that gives the expectation's period; a rolling window is one
    result at `as_of`, whatever is chosen."""
    return None if e.agreement.period.kind == "rolling" else e.period


def _groups(case: m.TestCase) -> dict[str | None, set[str]]:
    out: dict[str | None, set[str]] = {}
    for e in case.expectations:
        out.setdefault(_key(e), set()).add(e.agreement.name)
    return out


def _locate(d: Diagnostic, case: m.TestCase, scratch: str) -> Diagnostic:
    """A data problem points at the test's `data` item that gave the data, and names an
    inline table as such rather than by the scratch file it was written to."""
    for item in case.data:
        if item.path is None:
            marker = str(Path(scratch) / f"{item.source.table}.arrow")
            if marker in d.message:
                shown = f"the inline table for `{item.source.name}`"
                return dataclasses.replace(d, message=d.message.replace(marker, shown),
                                           span=item.span)
        elif Path(item.path).name in d.message:
            return dataclasses.replace(d, span=item.span)
    return d


# ----------------------------------------------------------------------------- comparing


def _compare(e: m.Expectation, report: AuditReport, case: m.TestCase) -> list[Failure]:
    if e.objective is None:
        return _compare_total(e, report, case)
    found = [r for r in report.results if r.agreement.name == e.agreement.name
             and r.objective.name == e.objective.name and r.period.label == e.period]
    if not found:
        return [_no_result(e, case)]
    r = found[0]
    out: list[Failure] = []
    for check in e.checks:
        failure = _check(e, check, r)
        if failure is not None:
            out.append(failure)
    return out


def _check(e: m.Expectation, check: m.Expected, r: ObjectiveResult) -> Failure | None:
    if check.what == "status":
        if r.status != check.value:
            return Failure(e, "status", check.text, r.status, check.span)
        return None
    if check.what == "measured":
        actual = r.measure.measured if r.status != "no_data" else None
        assert isinstance(check.value, Fraction)
        if actual is None:
            return Failure(e, "measured", check.text, "no value (no data)", check.span)
        tolerance = check.tolerance if isinstance(check.tolerance, Fraction) else Fraction(0)
        if abs(actual - check.value) > tolerance:
            assert e.objective is not None
            return Failure(e, "measured", check.text, describe_measured(actual, e.objective),
                           check.span)
        return None
    if check.what == "credit_percent":
        if r.credit_percent != check.value:
            return Failure(e, "credit", check.text, f"{_plain(r.credit_percent)}%", check.span)
        return None
    assert check.what == "credit_amount" and isinstance(check.value, Decimal)
    amount = r.credit_amount if r.credit_amount is not None else Decimal(0)
    if amount != check.value:
        return Failure(e, "credit", check.text, f"{amount} {r.currency}", check.span)
    return None


def _compare_total(e: m.Expectation, report: AuditReport, case: m.TestCase) -> list[Failure]:
    results = [r for r in report.results
               if r.agreement.name == e.agreement.name and r.period.label == e.period]
    if not results:
        return [_no_result(e, case)]
    total = sum((r.credit_amount or Decimal(0) for r in results), Decimal(0))
    total += sum((a.amount for a in report.adjustments
                  if a.agreement == e.agreement.name and a.period == e.period), Decimal(0))
    out = []
    fee = e.agreement.fee
    assert fee is not None
    for check in e.checks:
        if check.value != total:
            out.append(Failure(e, "credit", check.text, f"{total} {fee.currency}", check.span))
    return out


def _no_result(e: m.Expectation, case: m.TestCase) -> Failure:
    return Failure(
        e, "result", "", f"no result for this period at as_of {rfc3339(case.as_of)} (it starts "
        "at or after as_of, or lies outside the agreement's `effective` range)", e.span,
    )


# ----------------------------------------------------------------------------- describing


def describe_measured(value: Fraction, objective: m.Objective) -> str:
    """A measured value as a person writes it: a percentage for fractions, the column's unit
    for value indicators; exact when a decimal can be, else rounded with the exact fraction."""
    ind = objective.indicator
    if m.is_fraction(ind):
        shown, exact = _decimal(value * 100), _is_decimal(value)
        text = f"{shown}%"
    else:
        unit = getattr(ind, "unit", None)
        if isinstance(ind, m.SliceMeanIndicator):
            unit = getattr(ind.inner, "unit", None)
        shown, exact = _decimal(value), _is_decimal(value)
        text = f"{shown}{unit or ''}"
    if exact:
        return text
    return f"{text} (exactly {value.numerator}/{value.denominator})"


def _is_decimal(value: Fraction) -> bool:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal(value: Fraction) -> str:
    """Exact when the fraction is a short decimal, else 10 significant digits and `…`."""
    if _is_decimal(value):
        digits = 0
        while (value * 10**digits).denominator != 1:
            digits += 1
        if digits <= 12:
            return _plain(Decimal(value.numerator) / Decimal(value.denominator))
    return f"{float(value):.10g}…"


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text
