"""`test` blocks -> `TestCase`s: what a test gives and expects, checked against the estate.

Everything that can be known without running a test is checked here, so that `slang check`
reports a broken test where it is written (codes SLG0801-SLG0813): a test outside a test file,
a missing `as_of`, an expectation naming an unknown agreement or objective or a period label of
the wrong kind, an inline table whose rows do not fit its header or whose cells disagree on a
type, columns that do not fit the source's declaration, fixtures that do not exist, and tables
that the expected agreements read but the test does not give. Running the test
(`slang.testing`) then only meets problems of the data itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from slang.diagnostics import Diagnostic, error
from slang.semantics import model as m
from slang.semantics.indicators import threshold_value
from slang.semantics.loader import LoadedFile, display_path
from slang.semantics.scope import FileScope
from slang.semantics.values import did_you_mean
from slang.syntax import ast
from slang.syntax.span import Span

STATUS_WORDS = ("met", "breached", "at_risk", "no_data")
FIXTURE_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".parquet", ".pq", ".arrow", ".feather",
                      ".ipc")
NUMERIC = ("int", "float")
KIND_WORDS = {"int": "integers", "float": "numbers", "string": "strings",
              "timestamp": "timestamps", "date": "dates", "bool": "booleans"}
LABEL_EXAMPLES = {
    "yearly": "2026", "quarterly": "2026-Q4", "monthly": "2026-10", "weekly": "2026-W41",
    "daily": "2026-10-05", "hourly": "2026-10-05T14+01:00",
}

Pending = tuple[ast.Test, FileScope, LoadedFile]


class Resolver(Protocol):
    """What the estate's resolver lends to the test checker."""

    diags: list[Diagnostic]

    def attrs(self, items: Iterable[object], block: str) -> dict[str, ast.Attribute]: ...

    def lookup_source(self, scope: FileScope, ref: ast.Name) -> m.Source | None: ...


def resolve_tests(
    resolver: Resolver, pending: list[Pending], agreements: dict[str, m.Agreement],
    declared: set[str] | None = None,
) -> list[m.TestCase]:
    """The tests of every test file, in file and line order; a test with an error in it is
    reported and left out (it cannot run). `declared` names the estate's agreements, including
    those too broken to resolve: an expectation of one of those is not an unknown name (the
    agreement's own errors say what is wrong), and its test is left out."""
    out: list[m.TestCase] = []
    seen: dict[tuple[str, str], ast.Test] = {}
    for node, scope, f in pending:
        key = (f.display, node.name.name)
        first = seen.setdefault(key, node)
        if first is not node:
            resolver.diags.append(error(
                "SLG0810", f"test `{node.name.name}` is declared twice in this file",
                node.name.span, f"first declared at line {first.span.line}; give each test "
                "its own name, since `--run` and reports name tests by file and name",
            ))
            continue
        before = len(resolver.diags)
        checker = _TestChecker(resolver, scope, f, agreements, declared or set(agreements))
        case = checker.test(node)
        failed = checker.broken or any(d.severity.value == "error"
                                       for d in resolver.diags[before:])
        if case is not None and not failed:
            out.append(case)
    return out


class _TestChecker:
    def __init__(self, resolver: Resolver, scope: FileScope, f: LoadedFile,
                 agreements: dict[str, m.Agreement], declared: set[str]):
        self.r = resolver
        self.diags = resolver.diags
        self.scope = scope
        self.file = f
        self.agreements = agreements
        self.given: set[str] = set()  # tables a `data` item names, valid or not
        self.declared = declared
        self.broken = False  # expects results of an agreement that has errors of its own

    # ------------------------------------------------------------------------------- test

    def test(self, node: ast.Test) -> m.TestCase | None:
        if self.file.origin != "test":
            stem = Path(self.file.display).stem
            self.diags.append(error(
                "SLG0801", f"test `{node.name.name}` is in `{self.file.display}`, which is "
                "not a test file", node.span.to(node.name.span),
                f"move it to a file whose name ends in `_test.sla`, e.g. `{stem}_test.sla`: "
                "tests are not part of the estate that audits evaluate",
            ))
            return None
        attrs = self.r.attrs([i for i in node.items if isinstance(i, ast.Attribute)], "test")
        as_of = self._as_of(node, attrs.get("as_of"))
        data = self._data([i for i in node.items if isinstance(i, ast.TestData)])
        expectations = [e for e in (self._expectation(x) for x in node.items
                                    if isinstance(x, ast.Expectation)) if e is not None]
        self._needed_tables(node, data, expectations)
        if as_of is None:
            return None
        return m.TestCase(node.name.name, self.file.display, as_of, tuple(data),
                          tuple(expectations), span=node.name.span)

    def _as_of(self, node: ast.Test, attr: ast.Attribute | None) -> dt.datetime | None:
        if attr is None:
            self.diags.append(error(
                "SLG0802", f"test `{node.name.name}` has no `as_of`", node.name.span,
                "add the clock the test evaluates at, e.g. `as_of 2026-11-01T00:00:00Z`: "
                "without it the results would depend on when the test runs",
            ))
            return None
        assert isinstance(attr.value, ast.TimestampLit)
        value = attr.value.value
        return None if value is None or value.tzinfo is None else value  # reported by the parser

    # ------------------------------------------------------------------------------- data

    def _data(self, items: list[ast.TestData]) -> list[m.TestData]:
        out: list[m.TestData] = []
        tables: dict[str, ast.TestData] = {}
        for item in items:
            source = self.r.lookup_source(self.scope, item.source)
            if source is None:
                continue
            self.given.add(source.table)
            first = tables.setdefault(source.table, item)
            if first is not item:
                self.diags.append(error(
                    "SLG0809", f"table `{source.table}` is given twice in this test",
                    item.span.to(item.source.span),
                    f"first given at line {first.span.line} (sources reading one table share "
                    "its data); put all its rows in one `data` item",
                ))
                continue
            data = self._fixture(item, source) if item.path is not None \
                else self._inline(item, source)
            if data is not None:
                out.append(data)
        return out

    def _fixture(self, item: ast.TestData, source: m.Source) -> m.TestData | None:
        assert item.path is not None
        raw = item.path.value
        span = item.path.span
        if Path(raw).is_absolute() or raw.startswith("\\") or (len(raw) > 1 and raw[1] == ":"):
            self.diags.append(error(
                "SLG0808", f"fixture `{raw}` is an absolute path", span,
                "name fixtures relative to the test file, e.g. `fixtures/requests.csv`, so the "
                "tests run in any checkout",
            ))
            return None
        path = (self.file.abspath.parent / raw).resolve()
        root = self.file.root.resolve()
        if not path.is_relative_to(root):
            self.diags.append(error(
                "SLG0808", f"fixture `{raw}` leaves the policy root `{display_path(root)}`",
                span, "keep fixtures under the directory holding slang.toml or .git; symbolic "
                "links are followed before this check",
            ))
            return None
        if not path.is_file():
            self.diags.append(error(
                "SLG0808", f"fixture `{raw}` does not exist", span,
                f"looked for `{display_path(path)}` (fixture paths are relative to the test "
                "file)",
            ))
            return None
        if not path.name.lower().endswith(FIXTURE_EXTENSIONS):
            self.diags.append(error(
                "SLG0808", f"cannot tell the format of fixture `{raw}` from its extension", span,
                "name it .csv, .jsonl, .parquet or .arrow/.feather",
            ))
            return None
        return m.TestData(source, None, (), str(path), raw, span=item.span)

    def _inline(self, item: ast.TestData, source: m.Source) -> m.TestData | None:
        table = item.table
        assert table is not None
        ok = self._table_shape(table)
        kinds = self._column_kinds(table, source) if ok else None
        if kinds is None:
            return None
        if table.columns and not self._fits_source(item, table, kinds, source):
            return None
        return m.TestData(source, table, kinds, None, "inline table", span=item.span)

    def _table_shape(self, table: ast.InlineTable) -> bool:
        ok = True
        if not table.columns and table.rows:
            self.diags.append(error(
                "SLG0805", "rows without a `columns` header", table.rows[0].span,
                "name the columns first, e.g. `columns ts, service, status`",
            ))
            return False
        names: dict[str, ast.Ident] = {}
        for c in table.columns:
            if names.setdefault(c.name, c) is not c:
                self.diags.append(error("SLG0805", f"column `{c.name}` is named twice", c.span,
                                        "each column appears once in the header"))
                ok = False
        width = len(table.columns)
        for row in table.rows:
            if len(row.cells) != width:
                self.diags.append(error(
                    "SLG0805", f"this row has {len(row.cells)} "
                    f"{'value' if len(row.cells) == 1 else 'values'}, the header names {width} "
                    f"{'column' if width == 1 else 'columns'}", row.span,
                    "give one value per column, in header order (`null` for a missing one)",
                ))
                ok = False
        return ok

    def _column_kinds(self, table: ast.InlineTable, source: m.Source) -> tuple[str, ...] | None:
        kinds: list[str] = []
        ok = True
        for i, column in enumerate(table.columns):
            kind: str | None = None
            where: ast.Node | None = None
            for row in table.rows:
                cell = row.cells[i]
                k = self._cell_kind(cell, column.name, source)
                if k is None:
                    ok = False
                    continue
                if k == "null":
                    continue
                if kind is None or (kind in NUMERIC and k in NUMERIC):
                    if kind != "float":
                        kind, where = k, cell
                    continue
                if k != kind:
                    assert where is not None
                    self.diags.append(error(
                        "SLG0806", f"column `{column.name}` holds {KIND_WORDS[kind]} (line "
                        f"{where.span.line}) and {KIND_WORDS[k]}", cell.span,
                        "every value of a column has one type; write `null` for a missing "
                        "value, and strings in double quotes",
                    ))
                    ok = False
                    break
            kinds.append(kind or _declared_kind(source, column.name))
        return tuple(kinds) if ok else None

    def _cell_kind(self, cell: ast.Node, column: str, source: m.Source) -> str | None:
        match cell:
            case ast.NumberLit(text=text) | ast.Neg(operand=ast.NumberLit(text=text)):
                return "float" if "." in text else "int"
            case ast.StringLit():
                return "string"
            case ast.TimestampLit():
                return "timestamp"
            case ast.DateLit():
                return "date"
            case ast.BoolLit():
                return "bool"
            case ast.NullLit():
                return "null"
            case ast.BadDurationLit():
                return None  # reported by the parser (SLG0303)
        unit = source.units.get(column)
        hint = (f"the source measures `{column}` in {unit}: write the number in {unit}"
                if unit else "write the plain number the data would hold")
        what = "a percentage" if isinstance(cell, ast.PercentLit) else "a duration"
        self.diags.append(error(
            "SLG0806", f"a value in column `{column}` is {what}, which data never holds",
            cell.span, hint,
        ))
        return None

    def _fits_source(self, item: ast.TestData, table: ast.InlineTable, kinds: tuple[str, ...],
                     source: m.Source) -> bool:
        """The columns the source declares must be there, with types it can read."""
        of = dict(zip((c.name for c in table.columns), kinds, strict=True))
        spans = {c.name: c.span for c in table.columns}
        header = table.columns[0].span.to(table.columns[-1].span)
        ok = True
        epoch = source.time_form in ("epoch_ms", "epoch_s")
        for column, role in _roles(source):
            kind = of.get(column)
            wanted = ("int",) if epoch and role == "time" else ("timestamp",)
            if kind is None:
                self.diags.append(error(
                    "SLG0807", f"the table for `{source.name}` has no column `{column}`, the "
                    f"source's {role} column", header,
                    f"add `{column}` to `columns` (source `{source.name}` is declared at "
                    f"{_where(source.span)})",
                ))
                ok = False
            elif kind not in (*wanted, "null"):
                shown = "integers (epoch)" if wanted == ("int",) else "timestamps"
                self.diags.append(error(
                    "SLG0807", f"`{column}` is the {role} column of `{source.name}`, so it "
                    f"holds {shown}, not {KIND_WORDS[kind]}", spans[column],
                    "write instants such as 2026-10-01T10:00:00Z" if shown == "timestamps"
                    else f"write Unix epoch integers, as the source declares `{source.time_form}`",
                ))
                ok = False
        key = source.key_column
        if key is not None:
            kind = of.get(key)
            if kind is None:
                self.diags.append(error(
                    "SLG0807", f"the table for `{source.name}` has no column `{key}`, the "
                    "source's key column", header,
                    f"add `{key}` with the service's key (such as \"checkout\") to each row",
                ))
                ok = False
            elif kind not in ("string", "null"):
                self.diags.append(error(
                    "SLG0807", f"`{key}` is the key column of `{source.name}`, so it holds "
                    f"strings, not {KIND_WORDS[kind]}", spans[key],
                    "write the service key in double quotes, e.g. \"checkout\"",
                ))
                ok = False
        for column, unit in source.units.items():
            kind = of.get(column)
            if kind is not None and kind not in (*NUMERIC, "null"):
                self.diags.append(error(
                    "SLG0807", f"`{source.name}` measures `{column}` in {unit}, so it holds "
                    f"numbers, not {KIND_WORDS[kind]}", spans[column],
                    f"write the values as plain numbers in {unit}",
                ))
                ok = False
        return ok

    # ------------------------------------------------------------------------ expectations

    def _expectation(self, node: ast.Expectation) -> m.Expectation | None:
        parts = node.target.parts
        span = node.target.span
        known = sorted(self.agreements)
        if len(parts) > 2:
            self.diags.append(error(
                "SLG0803", f"`{node.target.dotted}` is not an agreement or "
                "`agreement.objective`", span, "expect `checkout_retail` or "
                "`checkout_retail.availability`",
            ))
            return None
        agreement = self.agreements.get(parts[0])
        if agreement is None and parts[0] in self.declared:
            self.broken = True  # the agreement's own diagnostics say what is wrong
            return None
        if agreement is None:
            self.diags.append(error(
                "SLG0803", f"unknown agreement `{parts[0]}`", span,
                did_you_mean(parts[0], known) or (
                    "tests expect results of the estate's agreements (the non-test files "
                    "given to the command)"),
            ))
            return None
        objective = None
        if len(parts) == 2:
            names = [o.name for o in agreement.objectives]
            objective = next((o for o in agreement.objectives if o.name == parts[1]), None)
            if objective is None:
                self.diags.append(error(
                    "SLG0803", f"agreement `{agreement.name}` has no objective `{parts[1]}`",
                    span, did_you_mean(parts[1], names) or
                    ("its objectives: " + ", ".join(names) if names else None),
                ))
                return None
        period_ok = self._period(node.period, agreement)
        checks = self._checks(node, agreement, objective)
        if not period_ok or checks is None:
            return None
        return m.Expectation(agreement, objective, node.period.text, checks, span=node.span)

    def _period(self, label: ast.PeriodLabel, agreement: m.Agreement) -> bool:
        kind, problem = label_kind(label.text)
        period = agreement.period
        if problem is not None:
            self.diags.append(error("SLG0804", f"`{label.text}` is not a period: {problem}",
                                    label.span, _label_hint(period)))
            return False
        if period.kind == "rolling":
            wanted = "rolling-" + period.label.removeprefix("rolling ")
            if label.text != wanted:
                self.diags.append(error(
                    "SLG0804", f"`{agreement.name}` is measured over a rolling window, "
                    f"labelled `{wanted}`, not `{label.text}`", label.span, _label_hint(period),
                ))
                return False
            return True
        if kind != period.kind:
            self.diags.append(error(
                "SLG0804", f"`{label.text}` is a {_KIND_NOUN[kind]}, but `{agreement.name}` "
                f"is measured {period.kind}", label.span, _label_hint(period),
            ))
            return False
        return True

    def _checks(self, node: ast.Expectation, agreement: m.Agreement,
                objective: m.Objective | None) -> tuple[m.Expected, ...] | None:
        attrs = self.r.attrs(node.attrs, "expectation")
        before = len(self.diags)
        checks: list[m.Expected] = []
        for key, a in attrs.items():
            if objective is None and not (key == "credit" and isinstance(a.value, ast.MoneyLit)):
                what = "a credit percentage" if key == "credit" else f"`{key}`"
                self.diags.append(error(
                    "SLG0812", f"{what} belongs to an objective, not to agreement "
                    f"`{agreement.name}`", a.span,
                    f"write `expect {agreement.name}.OBJECTIVE {node.period.text} {{ ... }}`; "
                    "an agreement-level expectation holds only `credit AMOUNT`, the period's "
                    "total credit",
                ))
                continue
            check = self._check(key, a, agreement, objective)
            if check is not None:
                checks.append(check)
        if len(self.diags) > before:
            return None
        if not checks:
            self.diags.append(error(
                "SLG0812", f"this expectation of `{node.target.dotted}` expects nothing",
                node.span.to(node.period.span),
                "add `status`, `measured` or `credit`, e.g. `{ status met }`",
            ))
            return None
        return tuple(checks)

    def _check(self, key: str, a: ast.Attribute, agreement: m.Agreement,
               objective: m.Objective | None) -> m.Expected | None:
        value = a.value
        if key == "status":
            assert isinstance(value, ast.Ident)
            if value.name not in STATUS_WORDS:
                self.diags.append(error(
                    "SLG0811", f"`{value.name}` is not a status", value.span,
                    did_you_mean(value.name, STATUS_WORDS) or
                    "statuses: " + ", ".join(STATUS_WORDS),
                ))
                return None
            return m.Expected("status", value.name, value.name, span=a.span)
        if key == "measured":
            assert isinstance(value, ast.Measured) and objective is not None
            ind = objective.indicator
            exact = threshold_value(value.value, ind, self.diags, "expected value")
            tolerance = None
            if value.tolerance is not None:
                tol = threshold_value(value.tolerance, ind, self.diags, "tolerance")
                if tol is None:
                    return None
                tolerance = Fraction(tol)
            if exact is None:
                return None
            from slang.syntax.formatter import format_literal

            text = format_literal(value.value)
            if value.tolerance is not None:
                text += f" within {format_literal(value.tolerance)}"
            return m.Expected("measured", Fraction(exact), text, tolerance, span=a.span)
        assert key == "credit"
        if isinstance(value, ast.PercentLit):
            pct = Decimal(value.text)
            if not Decimal(0) <= pct <= Decimal(100):
                self.diags.append(error("SLG0302", f"a credit of {value.text}% is out of range",
                                        value.span, "credits are between 0% and 100%"))
                return None
            return m.Expected("credit_percent", pct, f"{value.text}%", span=a.span)
        assert isinstance(value, ast.MoneyLit)
        fee = agreement.fee
        shown = f"{value.amount} {value.currency}"
        if fee is None:
            self.diags.append(error(
                "SLG0812", f"`{agreement.name}` has no `fee`, so its credits have no amount",
                value.span, "expect the credit as a percentage of an objective, e.g. "
                "`credit 10%`",
            ))
            return None
        if value.currency != fee.currency:
            self.diags.append(error(
                "SLG0812", f"`{agreement.name}` pays credits in {fee.currency}, not "
                f"{value.currency}", value.span, f"write the amount in {fee.currency}",
            ))
            return None
        return m.Expected("credit_amount", value.value, shown, span=a.span)

    # --------------------------------------------------------------------- needed tables

    def _needed_tables(self, node: ast.Test, data: list[m.TestData],
                       expectations: list[m.Expectation]) -> None:
        given = self.given | {d.source.table for d in data}
        reported: set[str] = set()
        agreements = {e.agreement.name: e.agreement for e in expectations}
        for agreement in agreements.values():
            for source in sources_read(agreement):
                if source.table in given or source.table in reported:
                    continue
                reported.add(source.table)
                self.diags.append(error(
                    "SLG0813", f"test `{node.name.name}` gives no data for table "
                    f"`{source.table}`, which `{agreement.name}` reads (source "
                    f"`{source.name}`)", node.name.span,
                    f"add `data {source.name} {{ columns ... }}`, or `data {source.name} {{}}` "
                    "for a table without rows",
                ))


# ------------------------------------------------------------------------------ helpers


def sources_read(agreement: m.Agreement) -> list[m.Source]:
    """Every source an agreement's evaluation reads, in a stable order: its indicators' and
    its `exclude SOURCE` exclusions'."""
    found: dict[str, m.Source] = {}

    def selections(ind: m.Indicator) -> list[m.Selection]:
        if isinstance(ind, m.RatioIndicator):
            return [ind.total]
        if isinstance(ind, m.ValueIndicator | m.UptimeIndicator):
            return [ind.selection]
        return selections(ind.inner)

    for o in agreement.objectives:
        for sel in selections(o.indicator):
            found.setdefault(sel.source.id, sel.source)
    for x in agreement.exclusions:
        if x.selection is not None:
            found.setdefault(x.selection.source.id, x.selection.source)
    return list(found.values())


def _roles(source: m.Source) -> list[tuple[str, str]]:
    if source.kind == "events":
        return [(source.time_column, "time")]
    return [(source.start_column, "start"), (source.end_column, "end")]


def _declared_kind(source: m.Source, column: str) -> str:
    """The type of a column without a value: what the source says it holds, else null."""
    if any(column == c for c, _ in _roles(source)):
        return "int" if source.time_form in ("epoch_ms", "epoch_s") else "timestamp"
    if column == source.key_column:
        return "string"
    if column in source.units:
        return "float"
    return "null"


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.col}"


_KIND_NOUN = {"yearly": "year", "quarterly": "quarter", "monthly": "month", "weekly": "week",
              "daily": "day", "hourly": "hour", "rolling": "rolling window"}
_LABEL = re.compile(
    r"(?P<y>\d{4})(?:-Q(?P<q>\d)|-W(?P<w>\d{2})|-(?P<m>\d{2})"
    r"(?:-(?P<d>\d{2})(?:T(?P<h>\d{2})(?P<off>Z|[+-]\d{2}:\d{2}))?)?)?"
)


def label_kind(text: str) -> tuple[str, str | None]:
    """The period kind a label names, or why it names none (`2026-13`, `2026-W54`)."""
    if text.startswith("rolling-"):
        return "rolling", None
    match = _LABEL.fullmatch(text)
    if match is None:  # pragma: no cover - the lexer only gives labels of these forms
        return "", "unrecognised form"
    year = int(match["y"])
    try:
        if match["q"] is not None:
            if not 1 <= int(match["q"]) <= 4:
                return "quarterly", f"quarter {match['q']} is not 1-4"
            return "quarterly", None
        if match["w"] is not None:
            dt.date.fromisocalendar(year, int(match["w"]), 1)
            return "weekly", None
        if match["m"] is None:
            return "yearly", None
        if match["d"] is None:
            if not 1 <= int(match["m"]) <= 12:
                return "monthly", f"month {match['m']} is not 01-12"
            return "monthly", None
        dt.date(year, int(match["m"]), int(match["d"]))
        if match["h"] is None:
            return "daily", None
        if int(match["h"]) > 23:
            return "hourly", f"hour {match['h']} is not 00-23"
        if match["off"] != "Z":
            dt.datetime.strptime(match["off"], "%z")
        return "hourly", None
    except ValueError as exc:
        reason = str(exc)
        return "", reason[:1].lower() + reason[1:]


def _label_hint(period: m.Period) -> str:
    if period.kind == "rolling":
        return ("a rolling window has one result, labelled "
                f"`rolling-{period.label.removeprefix('rolling ')}`")
    return (f"a {period.kind} agreement's periods are labelled like "
            f"`{LABEL_EXAMPLES[period.kind]}`, as its reports show them")
