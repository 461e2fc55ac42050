"""The shipped standard library and the example estate: they parse cleanly, they are coherent,
and the facts they state (2026 holiday dates, credit tiers) are right.

These tests read the files with the parser only, so they hold whatever state the checker is in;
`slang check policies/` is the end-to-end counterpart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from slang.syntax import ast
from slang.syntax.parser import parse

REPO = Path(__file__).resolve().parent.parent
STDLIB = REPO / "stdlib"
POLICIES = REPO / "policies"

ALL_FILES = sorted([*STDLIB.rglob("*.sla"), *POLICIES.rglob("*.sla")])
ESTATE_FILES = sorted(p for p in POLICIES.rglob("*.sla") if not p.name.endswith("_test.sla"))

NORMATIVE_INDICATORS = {
    "ratio", "percentile", "p50", "p90", "p95", "p99",
    "mean", "max", "min", "sum", "count",
    "uptime", "timeslices", "slice_mean",
}  # fmt: skip


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@cache
def _module(path: Path) -> ast.Module:
    result = parse(path.read_text(encoding="utf-8"), _rel(path))
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    return result.module


def _decls(paths: list[Path], kind: type) -> list:
    return [d for p in paths for d in _module(p).decls if isinstance(d, kind)]


def _walk(node: object) -> Iterator[object]:
    """Every AST node below `node` (included), in source order."""
    yield node
    if isinstance(node, tuple):
        for item in node:
            yield from _walk(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "span":
                yield from _walk(getattr(node, f.name))


def _attrs(items: tuple) -> dict[str, ast.AttrValue]:
    return {a.key: a.value for a in items if isinstance(a, ast.Attribute)}


def _agreements() -> list[ast.Agreement]:
    return _decls(ESTATE_FILES, ast.Agreement)


def _services() -> dict[str, ast.Service]:
    return {s.name.name: s for c in _decls(ESTATE_FILES, ast.Catalogue) for s in c.services}


def _std_calendars() -> dict[str, ast.Calendar]:
    return {c.name.name: c for c in _decls([STDLIB / "calendars.sla"], ast.Calendar)}


# ------------------------------------------------------------------------------- parsing


def test_files_exist():
    assert {p.name for p in STDLIB.glob("*.sla")} >= {"calendars.sla", "credits.sla", "sources.sla"}
    assert (POLICIES / "catalogue.sla").is_file()
    assert len(list((POLICIES / "agreements").glob("*.sla"))) >= 3


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_parses_without_diagnostics(path: Path):
    result = parse(path.read_text(encoding="utf-8"), _rel(path))
    assert result.diagnostics == (), "\n".join(
        f"{d.span.file}:{d.span.line}:{d.span.col}: {d.code} {d.message}"
        for d in result.diagnostics
    )


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_canonical_layout(path: Path):
    """2-space indent, no tabs or trailing blanks, one blank line between declarations, and
    attribute values aligned one column after the longest key of their block."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert text.endswith("\n") and not text.endswith("\n\n")
    problems: list[str] = []
    for n, line in enumerate(lines, 1):
        if "\t" in line or line != line.rstrip():
            problems.append(f"{n}: tab or trailing blank")
        indent = len(line) - len(line.lstrip(" "))
        if line.strip() and indent % 2:
            problems.append(f"{n}: odd indentation")

    def block(items: tuple) -> None:
        attrs = [
            a for a in items if isinstance(a, ast.Attribute) and not isinstance(a.value, ast.Flag)
        ]
        if not attrs:
            return
        width = max(len(a.key) for a in attrs) + 1
        for a in attrs:
            line = lines[a.span.line - 1]
            rest = line[a.span.col - 1 + len(a.key) :]
            gap = len(rest) - len(rest.lstrip(" "))
            if len(a.key) + gap != width:
                problems.append(f"{a.span.line}: `{a.key}` value not in column {width}")

    module = _module(path)
    for decl in module.decls:
        if isinstance(decl, ast.Catalogue):
            for service in decl.services:
                block(service.attrs)
        elif isinstance(decl, ast.Calendar | ast.Source):
            block(decl.attrs)
        elif isinstance(decl, ast.Agreement):
            block(decl.items)
            for item in decl.items:
                if isinstance(item, ast.Objective):
                    block(item.attrs)
    for before, after in zip(module.decls, module.decls[1:], strict=False):
        if isinstance(before, ast.Import) and isinstance(after, ast.Import):
            continue
        gap = lines[before.span.end_line : after.span.line - 1]
        blank = [g for g in gap if not g.strip()]
        if len(blank) != 1 or (gap and gap[0].strip()):
            problems.append(f"{after.span.line}: want one blank line before the declaration")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------- stdlib

UK_2026 = [
    dt.date(2026, 1, 1),  # New Year's Day
    dt.date(2026, 4, 3),  # Good Friday
    dt.date(2026, 4, 6),  # Easter Monday
    dt.date(2026, 5, 4),  # Early May bank holiday
    dt.date(2026, 5, 25),  # Spring bank holiday
    dt.date(2026, 8, 31),  # Summer bank holiday
    dt.date(2026, 12, 25),  # Christmas Day
    dt.date(2026, 12, 28),  # Boxing Day, substitute for Saturday 26 December
]

US_2026 = [
    dt.date(2026, 1, 1),  # New Year's Day
    dt.date(2026, 1, 19),  # Martin Luther King, Jr. Day
    dt.date(2026, 2, 16),  # Washington's Birthday
    dt.date(2026, 5, 25),  # Memorial Day
    dt.date(2026, 6, 19),  # Juneteenth
    dt.date(2026, 7, 3),  # Independence Day, observed (4 July is a Saturday)
    dt.date(2026, 9, 7),  # Labor Day
    dt.date(2026, 10, 12),  # Columbus Day
    dt.date(2026, 11, 11),  # Veterans Day
    dt.date(2026, 11, 26),  # Thanksgiving Day
    dt.date(2026, 12, 25),  # Christmas Day
]


def _holidays(calendar: ast.Calendar) -> list[dt.date]:
    """Every date of every `holidays` line (the attribute may be repeated)."""
    lists = [a.value for a in calendar.attrs if a.key == "holidays"]
    assert all(isinstance(v, ast.DateList) for v in lists)
    return [d.value for v in lists for d in v.items]


def _hours(calendar: ast.Calendar) -> list[str]:
    rules = [a.value for a in calendar.attrs if a.key == "hours"]
    out = []
    for r in rules:
        days = ",".join(d.first + (f"-{d.last}" if d.last else "") for d in r.days)
        out.append(f"{days} {r.start.text}-{r.end.text}")
    return out


@pytest.mark.parametrize(
    ("name", "timezone", "hours", "holidays"),
    [
        ("always", "UTC", ["mon-sun 00:00-24:00"], None),
        ("uk_business", "Europe/London", ["mon-fri 09:00-17:30"], UK_2026),
        ("uk_extended", "Europe/London", ["mon-fri 08:00-20:00", "sat 09:00-13:00"], UK_2026),
        ("us_business", "America/New_York", ["mon-fri 09:00-17:00"], US_2026),
        ("us_business_pacific", "America/Los_Angeles", ["mon-fri 09:00-17:00"], US_2026),
    ],
)
def test_std_calendar(name, timezone, hours, holidays):
    calendar = _std_calendars()[name]
    attrs = _attrs(calendar.attrs)
    assert attrs["timezone"].value == timezone
    assert _hours(calendar) == hours
    if holidays is None:
        assert "holidays" not in attrs
    else:
        assert _holidays(calendar) == holidays


def test_holidays_are_2026_weekdays_in_order():
    for name, calendar in _std_calendars().items():
        if "holidays" not in _attrs(calendar.attrs):
            continue
        dates = _holidays(calendar)
        assert dates == sorted(set(dates)), name
        for d in dates:
            assert d.year == 2026, (name, d)
            assert d.weekday() < 5, f"{name}: {d} is a {d:%A}; write the substitute day"


def _easter(year: int) -> dt.date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    j = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * j) // 451
    month, day = divmod(h + j - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_monday(year: int, month: int, n: int) -> dt.date:
    return _nth_weekday(year, month, 0, n)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_monday(year: int, month: int) -> dt.date:
    last = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=last.weekday())


def _observed_us(d: dt.date) -> dt.date:
    """A federal holiday on a Saturday is observed on the Friday before, on a Sunday on the
    Monday after."""
    shift = {5: -1, 6: 1}.get(d.weekday(), 0)
    return d + dt.timedelta(days=shift)


def _substitute_uk(dates: list[dt.date]) -> list[dt.date]:
    """A bank holiday on a weekend moves to the next weekday that is not already a holiday."""
    out: list[dt.date] = []
    for d in dates:
        while d.weekday() >= 5 or d in out:
            d += dt.timedelta(days=1)
        out.append(d)
    return sorted(out)


def test_hand_written_dates_follow_the_rules():
    """The expected lists above, derived again from the rules that define them."""
    easter = _easter(2026)
    assert easter == dt.date(2026, 4, 5) and easter.weekday() == 6
    uk = _substitute_uk(
        [
            dt.date(2026, 1, 1),
            easter - dt.timedelta(days=2),
            easter + dt.timedelta(days=1),
            _nth_monday(2026, 5, 1),
            _last_monday(2026, 5),
            _last_monday(2026, 8),
            dt.date(2026, 12, 25),
            dt.date(2026, 12, 26),
        ]
    )
    assert uk == UK_2026
    us = sorted(
        [
            _observed_us(dt.date(2026, 1, 1)),
            _nth_monday(2026, 1, 3),
            _nth_monday(2026, 2, 3),
            _last_monday(2026, 5),
            _observed_us(dt.date(2026, 6, 19)),
            _observed_us(dt.date(2026, 7, 4)),
            _nth_monday(2026, 9, 1),
            _nth_monday(2026, 10, 2),
            _observed_us(dt.date(2026, 11, 11)),
            _nth_weekday(2026, 11, 3, 4),  # fourth Thursday
            _observed_us(dt.date(2026, 12, 25)),
        ]
    )
    assert us == US_2026


def test_std_calendars_cite_source_and_year():
    text = (STDLIB / "calendars.sla").read_text(encoding="utf-8")
    for calendar in _std_calendars().values():
        if "holidays" not in _attrs(calendar.attrs):
            continue
        header = _comment_above(text, calendar.span.line)
        assert "Source:" in header and "2026" in header, calendar.name.name


def _comment_above(text: str, line: int) -> str:
    lines = text.splitlines()[: line - 1]
    out: list[str] = []
    for raw in reversed(lines):
        if not raw.startswith("#"):
            break
        out.append(raw)
    return "\n".join(reversed(out))


def test_std_credit_schedules():
    schedules = {s.name.name: s for s in _decls([STDLIB / "credits.sla"], ast.CreditSchedule)}
    text = (STDLIB / "credits.sla").read_text(encoding="utf-8")

    def tiers(name: str) -> list[tuple[str, Decimal, Decimal]]:
        return [(t.direction, t.threshold.value, t.credit.value) for t in schedules[name].tiers]

    pct = Decimal("0.01")
    assert tiers("standard_999") == [
        ("below", Decimal("99.9") * pct, Decimal(10) * pct),
        ("below", Decimal("99.0") * pct, Decimal(25) * pct),
        ("below", Decimal("95.0") * pct, Decimal(100) * pct),
    ]
    assert tiers("tiered_10_30_100") == [
        ("below", Decimal("99.9") * pct, Decimal(10) * pct),
        ("below", Decimal("99.0") * pct, Decimal(30) * pct),
        ("below", Decimal("95.0") * pct, Decimal(100) * pct),
    ]
    first = {
        "standard_9999": "99.99", "standard_9995": "99.95", "standard_999": "99.9",
        "standard_995": "99.5", "standard_990": "99.0",
    }  # fmt: skip
    for name, target in first.items():
        assert tiers(name)[0][1] == Decimal(target) * pct, name
    for name, schedule in schedules.items():
        assert _comment_above(text, schedule.span.line), f"{name} has no comment"
        rows = tiers(name)
        # Stricter thresholds earn more: thresholds fall while credits rise.
        assert all(r[0] == "below" for r in rows)
        assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True), name
        assert [r[2] for r in rows] == sorted(r[2] for r in rows), name
        assert rows[-1][2] <= 1


def test_std_sources():
    sources = {s.name.name: s for s in _decls([STDLIB / "sources.sla"], ast.Source)}
    assert {n: s.kind for n, s in sources.items()} == {
        "requests": "events",
        "probes": "events",
        "incidents": "intervals",
        "maintenance": "intervals",
        "tickets": "events",
    }
    for source in sources.values():
        attrs = _attrs(source.attrs)
        assert attrs["key"].name == "service"
        assert source.table.value == source.name.name
    assert _attrs(sources["requests"].attrs)["time"].column.name == "ts"
    assert _attrs(sources["tickets"].attrs)["time"].column.name == "opened_at"
    assert _attrs(sources["incidents"].attrs)["start"].name == "started_at"
    assert _attrs(sources["incidents"].attrs)["end"].name == "resolved_at"
    units = {e.column.name: e.unit.name for e in _attrs(sources["requests"].attrs)["units"].entries}
    assert units == {"latency_ms": "ms"}


# ------------------------------------------------------------------------------- the estate


def test_catalogue():
    services = _services()
    assert len(services) >= 8
    attrs = {name: _attrs(s.attrs) for name, s in services.items()}
    assert any("key" in a and a["key"].value != name for name, a in attrs.items())
    assert any(isinstance(a.get("internal"), ast.Flag) for a in attrs.values())
    for name, a in attrs.items():
        assert {"title", "owner", "tier"} <= a.keys(), name
    graph = {
        name: [i.name for i in a["depends_on"].items] if "depends_on" in a else []
        for name, a in attrs.items()
    }
    for name, deps in graph.items():
        assert set(deps) <= graph.keys(), f"{name} depends on an unknown service"
    assert set(graph["checkout"]) >= {"payments", "inventory", "identity"}
    # No cycles: a depth-first search never meets a node on its own path.
    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert state.get(node) != "open", "dependency cycle: " + " -> ".join((*path, node))
        if state.get(node) == "done":
            return
        state[node] = "open"
        for dep in graph[node]:
            visit(dep, (*path, node))
        state[node] = "done"

    for node in graph:
        visit(node, ())


def test_agreements_are_coherent():
    agreements = _agreements()
    assert len(agreements) >= 6
    names = [a.name.name for a in agreements]
    assert len(names) == len(set(names))
    services = _services()
    schedules = {s.name.name for s in _decls(ESTATE_FILES, ast.CreditSchedule)}
    std_schedules = {s.name.name for s in _decls([STDLIB / "credits.sla"], ast.CreditSchedule)}
    for agreement in agreements:
        attrs = _attrs(agreement.items)
        where = agreement.name.name
        assert attrs["service"].name in services, where
        objectives = {o.name.name: o for o in agreement.items if isinstance(o, ast.Objective)}
        assert objectives, where
        for objective in objectives.values():
            assert {"indicator", "target"} <= _attrs(objective.attrs).keys()
        credits = [c for c in agreement.items if isinstance(c, ast.Credit)]
        for credit in credits:
            assert credit.objective.name in objectives, f"{where}: credit for unknown objective"
            target = _attrs(objectives[credit.objective.name].attrs)["target"]
            if credit.schedule is not None:
                parts = credit.schedule.parts
                if len(parts) == 1:
                    assert parts[0] in schedules, (where, parts)
                else:
                    assert parts[1] in std_schedules, (where, parts)
            tiers = credit.tiers or _schedule_tiers(credit.schedule)
            _assert_tiers_meaningful(where, credit.objective.name, target, tiers)
        if isinstance(attrs["period"], ast.RollingPeriod):
            assert not credits and "fee" not in attrs, f"{where}: credits on a rolling period"
        if credits:
            assert "fee" in attrs, f"{where}: credits without a fee"


def _schedule_tiers(name: ast.Name) -> tuple[ast.Tier, ...]:
    files = ESTATE_FILES if len(name.parts) == 1 else [STDLIB / "credits.sla"]
    for schedule in _decls(files, ast.CreditSchedule):
        if schedule.name.name == name.parts[-1]:
            return schedule.tiers
    raise AssertionError(f"no credit schedule {name.dotted}")


def _value(lit: ast.Literal) -> Decimal:
    if isinstance(lit, ast.DurationLit):
        return lit.seconds
    return lit.value


def _assert_tiers_meaningful(where, objective, target: ast.Target, tiers) -> None:
    """`below` tiers under a `>=` target, `above` tiers over a `<=` target, in the target's
    kind of value, so that a met objective never earns a credit and every tier can match."""
    goal = _value(target.value)
    assert tiers, (where, objective)
    for tier in tiers:
        assert type(tier.threshold) is type(target.value), (where, objective)
        if target.op in (">=", ">"):
            assert tier.direction == "below" and _value(tier.threshold) <= goal, (where, objective)
        else:
            assert tier.direction == "above" and _value(tier.threshold) >= goal, (where, objective)
        assert 0 < tier.credit.value <= 1


def _calls(node: object) -> set[str]:
    return {n.func.dotted for n in _walk(node) if isinstance(n, ast.Call)}


def test_every_normative_indicator_is_used():
    used: set[str] = set()
    for agreement in _agreements():
        for item in agreement.items:
            if isinstance(item, ast.Objective):
                used |= _calls(_attrs(item.attrs)["indicator"])
    missing = NORMATIVE_INDICATORS - used
    assert not missing, f"no example agreement uses {sorted(missing)}"
    assert "business_duration" in used


def test_ticket_resolution_indicators():
    conditions: list[ast.Expr] = []
    for agreement in _agreements():
        for item in agreement.items:
            if isinstance(item, ast.Objective):
                conditions += [
                    n.condition
                    for n in _walk(_attrs(item.attrs)["indicator"])
                    if isinstance(n, ast.Where)
                ]
    # `resolved_at - opened_at <= 4h`
    assert any(
        isinstance(c, ast.BinOp)
        and c.op == "<="
        and isinstance(c.left, ast.BinOp)
        and c.left.op == "-"
        and isinstance(c.right, ast.DurationLit)
        for c in conditions
    )
    # `business_duration(opened_at, resolved_at, cal.uk_business)`
    assert any(
        isinstance(n, ast.Call)
        and n.func.dotted == "business_duration"
        and isinstance(n.args[2], ast.Name)
        and n.args[2].dotted == "cal.uk_business"
        for c in conditions
        for n in _walk(c)
    )


def test_estate_covers_the_language():
    agreements = _agreements()
    attrs = [_attrs(a.items) for a in agreements]
    statuses = {a["status"].name for a in attrs}
    assert statuses == {"draft", "proposed", "agreed", "retired"}
    periods = {
        "rolling" if isinstance(a["period"], ast.RollingPeriod) else a["period"].name for a in attrs
    }
    assert periods >= {"monthly", "quarterly", "weekly", "rolling"}
    assert {a["fee"].currency for a in attrs if "fee" in a} >= {"GBP", "USD", "EUR"}
    assert {a["timezone"].value for a in attrs} >= {"Europe/London", "America/New_York", "UTC"}
    assert any("credit_cap" in a for a in attrs)
    assert any("review" in a and "reviewed" in a for a in attrs)
    assert any(
        "notify" in a and {i.name for i in a["notify"].on} == {"breach", "at_risk"} for a in attrs
    )
    for a in attrs:
        if a["status"].name == "draft":
            assert "notify" not in a
        if a["status"].name == "retired":
            assert a["effective"].end is not None
            assert a["effective"].end.value < dt.date(2026, 1, 1)

    exclusions = [e for a in agreements for e in a.items if isinstance(e, ast.Exclusion)]
    windows = {type(e.window) for e in exclusions}
    assert windows == {ast.TimestampWindow, ast.DateWindow, ast.WeeklyWindow, ast.SourceWindow}
    assert any(isinstance(e.window, ast.TimestampWindow) and e.reason for e in exclusions)
    assert any(e.mode is not None and e.mode.name == "available" for e in exclusions)

    credits = [c for a in agreements for c in a.items if isinstance(c, ast.Credit)]
    assert any(c.tiers for c in credits)
    assert any(c.schedule is not None and len(c.schedule.parts) == 1 for c in credits)
    assert any(c.schedule is not None and len(c.schedule.parts) == 2 for c in credits)

    hours = [
        h
        for a in agreements
        for node in _walk(a)
        if isinstance(node, ast.Attribute) and node.key == "hours"
        for h in [node.value]
    ]
    assert any(h.parts[0] == "cal" for h in hours)  # a standard calendar
    assert any(len(h.parts) == 1 for h in hours)  # one of the estate's own


def test_imports_resolve():
    for path in ALL_FILES:
        for decl in _module(path).decls:
            if not isinstance(decl, ast.Import):
                continue
            target = decl.path.value
            if target.startswith("std/"):
                assert (STDLIB / (target[4:] + ".sla")).is_file(), target
            else:
                resolved = (path.parent / target).resolve()
                assert resolved.is_file(), target
                assert resolved.is_relative_to(REPO), target
    styles = {
        d.path.value.split("/")[0]
        for p in ESTATE_FILES
        for d in _module(p).decls
        if isinstance(d, ast.Import)
    }
    assert {"std", ".."} <= styles


# ------------------------------------------------------------------------------ end to end


def test_estate_checks_clean():
    """The checker agrees: no error and no warning, lifecycle lint included."""
    from slang.semantics import load

    as_of = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    model = load([POLICIES], as_of=as_of)
    assert not model.diagnostics, "\n".join(
        f"{d.span.file}:{d.span.line}:{d.span.col}: {d.code} {d.message}" for d in model.diagnostics
    )
    assert set(model.agreements) == {a.name.name for a in _agreements()}
    assert set(model.services) == set(_services())
