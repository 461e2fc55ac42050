"""Program -> Model: declare every name, then resolve each declaration once.

Declarations are resolved lazily and cached by id, so an imported calendar used by fifty
agreements is one `Calendar` object and its errors are reported once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from slang.diagnostics import Diagnostic, error, warning
from slang.semantics import checks
from slang.semantics import model as m
from slang.semantics.burn_rates import burn_rates
from slang.semantics.indicators import IndicatorResolver, threshold_value
from slang.semantics.loader import LoadedFile, Program
from slang.semantics.prometheus import resolve_prometheus
from slang.semantics.scope import Entry, FileScope, Namespace
from slang.semantics.testcases import Pending, resolve_tests
from slang.semantics.values import (
    CURRENCY_MINOR_UNITS,
    DURATION_UNITS,
    did_you_mean,
    is_time_zone,
    time_zone_hint,
)
from slang.syntax import ast

STATUSES = ("draft", "proposed", "agreed", "retired")
PERIODS = ("hourly", "daily", "weekly", "monthly", "quarterly", "yearly")
NOTIFY_EVENTS = ("breach", "at_risk", "no_data", "met")
REVIEW_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
TIME_FORMS = ("utc", "epoch_ms", "epoch_s")
REPEATABLE = {"hours", "holidays"}
DAY_INDEX = {d: i for i, d in enumerate(m.WEEKDAYS)}

Decl = ast.Calendar | ast.Source | ast.CreditSchedule | ast.Agreement


def build_model(program: Program, *, as_of: dt.datetime | None = None) -> m.Model:
    return _Resolver(program, as_of).run()


class _Resolver:
    def __init__(self, program: Program, as_of: dt.datetime | None):
        self.program = program
        self.as_of = as_of
        self.diags: list[Diagnostic] = []
        self.estate = Namespace("")
        self.scopes: dict[str, FileScope] = {}
        self.calendars: dict[str, m.Calendar | None] = {}
        self.sources: dict[str, m.Source | None] = {}
        self.schedules: dict[str, m.CreditSchedule | None] = {}
        self.services: dict[str, m.Service | None] = {}

    # ---------------------------------------------------------------------------- phases

    def run(self) -> m.Model:
        self._declare()
        agreements: dict[str, m.Agreement] = {}
        pending_tests: list[Pending] = []
        for f in self.program.files:
            scope = self.scopes[f.display]
            for decl in f.module.decls:
                if isinstance(decl, ast.Test):
                    pending_tests.append((decl, scope, f))
                else:
                    self._resolve_decl(decl, scope, f, agreements)
        # Tests expect results of agreements in any file, so they are checked once all are known.
        declared = {name for name, e in self.estate.decls.items()
                    if isinstance(e.node, ast.Agreement)}
        tests = resolve_tests(self, pending_tests, agreements, declared)
        services = {k: v for k, v in self.services.items() if v is not None}
        checks.dependency_cycles(services, self.diags)
        checks.lifecycle(agreements.values(), self.as_of, self.diags)
        files = [
            m.PolicyFile(f.display, str(f.abspath), f.sha256, f.origin, f.module)
            for f in self.program.files
        ]
        return m.Model(
            files=files,
            services=dict(sorted(services.items())),
            calendars={k: v for k, v in sorted(self.calendars.items()) if v is not None},
            sources={k: v for k, v in sorted(self.sources.items()) if v is not None},
            schedules={k: v for k, v in sorted(self.schedules.items()) if v is not None},
            agreements=dict(sorted(agreements.items())),
            diagnostics=self.diags,
            tests=tests,
            texts=self.program.texts,
        )

    def _declare(self) -> None:
        """Give every file a scope; report names declared twice in one namespace."""
        spaces: dict[str, Namespace] = {}
        for f in self.program.files:
            if f.origin == "import":
                spaces[f.display] = Namespace(f.display.removesuffix(".sla"))
            elif f.origin == "test":
                # Test files see the estate; their own declarations stay their own.
                spaces[f.display] = Namespace(f.display.removesuffix(".sla"))
            else:
                spaces[f.display] = self.estate
        for f in self.program.files:
            space = spaces[f.display]
            for decl in f.module.decls:
                if isinstance(decl, ast.Catalogue):
                    for svc in decl.services:
                        self._add(space.services, Entry(svc, space, f.display))
                elif not isinstance(decl, ast.Import | ast.Test):
                    self._add(space.decls, Entry(decl, space, f.display))
        for f in self.program.files:
            imports = {
                alias: (spaces[target.display] if target is not None else None)
                for alias, target in f.imports.items()
            }
            self.scopes[f.display] = FileScope(spaces[f.display], imports, f.display)
        for f in self.program.files:
            if f.origin == "test":
                own = spaces[f.display]
                for name, entry in self.estate.decls.items():
                    own.decls.setdefault(name, entry)
                for name, entry in self.estate.services.items():
                    own.services.setdefault(name, entry)

    def _add(self, table: dict[str, Entry], entry: Entry) -> None:
        first = table.get(entry.name)
        if first is None:
            table[entry.name] = entry
            return
        s = first.node.span
        self.diags.append(error(
            "SLG0201", f"`{entry.name}` is declared twice", entry.node.name.span,
            f"first declared at {s.file}:{s.line}:{s.col}; names are shared by every file of "
            "the estate",
        ))

    def _resolve_decl(
        self, decl: ast.Decl, scope: FileScope, f: LoadedFile, agreements: dict[str, m.Agreement]
    ) -> None:
        if isinstance(decl, ast.Catalogue):
            for svc in decl.services:
                self.service(Entry(svc, scope.namespace, f.display), scope)
        elif isinstance(decl, ast.Calendar | ast.Source | ast.CreditSchedule):
            entry = scope.namespace.decls.get(decl.name.name)
            if entry is not None and entry.node is decl:
                {ast.Calendar: self.calendar, ast.Source: self.source,
                 ast.CreditSchedule: self.schedule}[type(decl)](entry)
        elif isinstance(decl, ast.Agreement):
            agreement = self.agreement(decl, scope)
            entry = scope.namespace.decls.get(decl.name.name)
            if agreement is not None and f.origin == "estate" and entry and entry.node is decl:
                agreements[agreement.name] = agreement

    # -------------------------------------------------------------------------- helpers

    def attrs(self, items: Iterable[object], block: str) -> dict[str, ast.Attribute]:
        """Single-valued attributes by key; a repeated one is reported, the first kept."""
        seen: dict[str, ast.Attribute] = {}
        repeatable = REPEATABLE if block == "calendar" else frozenset()
        for a in items:
            if not isinstance(a, ast.Attribute) or a.key in repeatable:
                continue
            if a.key in seen:
                s = seen[a.key].span
                self.diags.append(error(
                    "SLG0410", f"`{a.key}` is given twice in this {block}", a.span,
                    f"first given at line {s.line}; remove one",
                ))
                continue
            seen[a.key] = a
        return seen

    def lookup_calendar(self, scope: FileScope, ref: ast.Expr) -> m.Calendar | None:
        if not isinstance(ref, ast.Name):
            self.diags.append(error("SLG0310", "expected a calendar name", ref.span))
            return None
        entry = scope.lookup(ref, ast.Calendar, self.diags)
        return None if entry is None else self.calendar(entry)

    def lookup_source(self, scope: FileScope, ref: ast.Name) -> m.Source | None:
        entry = scope.lookup(ref, ast.Source, self.diags)
        return None if entry is None else self.source(entry)

    def time_zone(self, attr: ast.Attribute | None) -> str:
        if attr is None:
            return "UTC"
        assert isinstance(attr.value, ast.StringLit)
        name = attr.value.value
        if not is_time_zone(name):
            self.diags.append(error("SLG0403", f"unknown time zone `{name}`", attr.value.span,
                                    time_zone_hint(name)))
            return "UTC"
        return name

    def days(self, spans: tuple[ast.DaySpan, ...]) -> frozenset[int]:
        out: set[int] = set()
        for span in spans:
            first = DAY_INDEX[span.first]
            last = DAY_INDEX[span.last] if span.last else first
            if last < first:
                self.diags.append(error(
                    "SLG0405", f"weekday range `{span.first}-{span.last}` runs backwards",
                    span.span, "weeks run mon..sun: list the days, e.g. `fri,sat,sun,mon`",
                ))
                continue
            out.update(range(first, last + 1))
        return frozenset(out)

    def window(self, days: tuple[ast.DaySpan, ...], start: ast.TimeOfDay, end: ast.TimeOfDay,
               node: ast.Node) -> m.WeeklyWindow | None:
        if start.minutes >= end.minutes:
            self.diags.append(error(
                "SLG0405", f"the window {start.text}-{end.text} is empty or runs backwards",
                node.span, "a window needs start < end; split an overnight window in two, "
                "e.g. `22:00-24:00` and `00:00-06:00` on the next day",
            ))
            return None
        return m.WeeklyWindow(self.days(days), start.minutes, end.minutes)

    # -------------------------------------------------------------------- declarations

    def calendar(self, entry: Entry) -> m.Calendar | None:
        if entry.id in self.calendars:
            return self.calendars[entry.id]
        node = entry.node
        assert isinstance(node, ast.Calendar)
        attrs = self.attrs(node.attrs, "calendar")
        windows: list[m.WeeklyWindow] = []
        holidays: list[dt.date] = []
        regions: list[str] = []
        for a in node.attrs:
            if a.key == "hours" and isinstance(a.value, ast.HoursRule):
                w = self.window(a.value.days, a.value.start, a.value.end, a.value)
                if w is not None:
                    checks.overlapping_hours(w, windows, a, self.diags)
                    windows.append(w)
            elif a.key == "holidays" and isinstance(a.value, ast.DateList):
                for item in a.value.items:
                    if isinstance(item, ast.StringLit):
                        regions.extend(self.holiday_region(item))
                    elif item.value is not None:
                        holidays.append(item.value)
        cal = m.Calendar(
            id=entry.id, name=entry.name, timezone=self.time_zone(attrs.get("timezone")),
            hours=tuple(windows), holidays=tuple(sorted(set(holidays))), span=node.span,
            regions=tuple(sorted(set(regions))),
        )
        self.calendars[entry.id] = cal
        return cal

    def holiday_region(self, code: ast.StringLit) -> list[str]:
        """`holidays "GB-ENG"`: the code, if the `holidays` package knows it."""
        from slang.semantics.holiday_regions import (
            HolidaysUnavailable,
            UnknownRegion,
            parse_region,
        )

        try:
            parse_region(code.value)
        except UnknownRegion as exc:
            self.diags.append(error("SLG0450", exc.message, code.span, exc.hint))
            return []
        except HolidaysUnavailable:
            self.diags.append(error(
                "SLG0451", f"`holidays \"{code.value}\"` needs the Python package `holidays`, "
                "which cannot be imported", code.span,
                "reinstall slang (`pip install slang` installs `holidays`), or write the dates "
                "out: `holidays 2026-01-01, ...`",
            ))
            return []
        return [code.value]

    def source(self, entry: Entry) -> m.Source | None:
        if entry.id in self.sources:
            return self.sources[entry.id]
        node = entry.node
        assert isinstance(node, ast.Source)
        attrs = self.attrs(node.attrs, "source")
        not_here = ("start", "end") if node.kind == "events" else ("time", "prometheus")
        for key in not_here:
            if key in attrs:
                other = "intervals" if node.kind == "events" else "events"
                self.diags.append(error(
                    "SLG0420", f"`{key}` belongs to {other} sources, not {node.kind}",
                    attrs[key].span,
                    "`prometheus` maps the events of ratio indicators to metrics"
                    if key == "prometheus"
                    else "events have one `time` column; intervals have `start` and `end`",
                ))
        time_form: m.TimeForm = "aware"
        time_column = "ts"
        if "time" in attrs and isinstance(attrs["time"].value, ast.TimeColumn):
            tc = attrs["time"].value
            time_column = tc.column.name
            if tc.form is not None:
                if tc.form.name in TIME_FORMS:
                    time_form = tc.form.name  # type: ignore[assignment]
                else:
                    self.diags.append(error(
                        "SLG0419", f"unknown timestamp form `{tc.form.name}`", tc.form.span,
                        did_you_mean(tc.form.name, TIME_FORMS)
                        or "write `utc` (naive timestamps in UTC), `epoch_ms` or `epoch_s`",
                    ))
        units: dict[str, str] = {}
        if "units" in attrs and isinstance(attrs["units"].value, ast.UnitMap):
            for e in attrs["units"].value.entries:
                if e.unit.name not in DURATION_UNITS:
                    self.diags.append(error(
                        "SLG0305", f"unknown unit `{e.unit.name}` for column `{e.column.name}`",
                        e.unit.span, "units are ms, s, m, h, d and w",
                    ))
                    continue
                units[e.column.name] = e.unit.name

        def col(key: str, default: str) -> str:
            a = attrs.get(key)
            return a.value.name if a is not None and isinstance(a.value, ast.Ident) else default

        prometheus = None
        prom = attrs.get("prometheus")
        if node.kind == "events" and prom is not None:
            assert isinstance(prom.value, ast.PrometheusMap)
            prometheus = resolve_prometheus(prom.value, "key" in attrs, self.diags)

        src = m.Source(
            id=entry.id, name=entry.name, kind=node.kind,  # type: ignore[arg-type]
            table=node.table.value, time_column=time_column, time_form=time_form,
            start_column=col("start", "start"), end_column=col("end", "end"),
            key_column=col("key", "") or None, units=units, span=node.span,
            prometheus=prometheus, description=self._text(attrs.get("description")),
        )
        self.sources[entry.id] = src
        return src

    def schedule(self, entry: Entry) -> m.CreditSchedule | None:
        if entry.id in self.schedules:
            return self.schedules[entry.id]
        node = entry.node
        assert isinstance(node, ast.CreditSchedule)
        sched = m.CreditSchedule(entry.id, entry.name, node.tiers, node.span)
        self.schedules[entry.id] = sched
        return sched

    def service(self, entry: Entry, scope: FileScope) -> m.Service | None:
        if entry.id in self.services:
            return self.services[entry.id]
        node = entry.node
        assert isinstance(node, ast.Service)
        attrs = self.attrs(node.attrs, "service")
        deps: list[str] = []
        if "depends_on" in attrs and isinstance(attrs["depends_on"].value, ast.IdentList):
            for ident in attrs["depends_on"].value.items:
                dep = scope.lookup(ident, ast.Service, self.diags)
                if dep is not None:
                    deps.append(dep.id)

        def text(key: str) -> str | None:
            a = attrs.get(key)
            return a.value.value if a is not None and isinstance(a.value, ast.StringLit) else None

        tier = attrs.get("tier")
        svc = m.Service(
            id=entry.id, name=entry.name, title=text("title"), owner=text("owner"),
            tier=tier.value.name if tier and isinstance(tier.value, ast.Ident) else None,
            depends_on=tuple(deps), key=text("key") or entry.name,
            description=text("description"), internal="internal" in attrs, span=node.span,
        )
        self.services[entry.id] = svc
        return svc

    # ---------------------------------------------------------------------- agreements

    def agreement(self, node: ast.Agreement, scope: FileScope) -> m.Agreement | None:
        attrs = self.attrs(node.items, "agreement")
        ok = True
        for required in ("service", "status", "period"):
            if required not in attrs:
                self.diags.append(error(
                    "SLG0408", f"agreement `{node.name.name}` has no `{required}`", node.name.span,
                    {"service": "name the catalogue service it covers, e.g. `service checkout`",
                     "status": "one of: draft, proposed, agreed, retired",
                     "period": "e.g. `period monthly`"}[required],
                ))
                ok = False
        service = None
        if "service" in attrs:
            ref = attrs["service"].value
            assert isinstance(ref, ast.Ident)
            entry = scope.lookup(ref, ast.Service, self.diags)
            service = None if entry is None else self.service(entry, self.scopes[entry.file])
        status = self._word(attrs.get("status"), STATUSES, "SLG0411", "status")
        period = self._period(attrs.get("period"))
        timezone = self.time_zone(attrs.get("timezone"))
        start, end = self._effective(attrs.get("effective"))
        fee = self._fee(attrs.get("fee"))
        cap = self._percent_fraction(attrs.get("credit_cap"), "credit_cap", allow_zero=False)
        review = self._review(attrs.get("review"), attrs.get("reviewed"))
        if review is not None:
            where = attrs.get("reviewed") or attrs["review"]
            review = m.Review(review.every, review.unit, review.last, where.span)
        notify, notify_on = self._notify(attrs.get("notify"))
        hours = self.lookup_calendar(scope, attrs["hours"].value) if "hours" in attrs else None
        exclusions = tuple(
            x for x in (self._exclusion(i, scope, timezone) for i in node.items
                        if isinstance(i, ast.Exclusion)) if x is not None
        )
        objectives = self._objectives(node, scope, hours, period)
        alerts = burn_rates(node.items, period, self.diags)
        if not any(isinstance(i, ast.Objective) for i in node.items):
            self.diags.append(error(
                "SLG0407", f"agreement `{node.name.name}` has no objectives", node.name.span,
                "add an `objective NAME { indicator ... target ... }` block",
            ))
        if "fee" not in attrs and any(o.credit for o in objectives):
            self.diags.append(warning(
                "SLG0503", f"agreement `{node.name.name}` has credits but no `fee`", node.name.span,
                "credits are percentages of the fee; add e.g. `fee 12000.00 GBP`",
            ))
        if status == "draft" and notify:
            self.diags.append(warning(
                "SLG0501", f"draft agreement `{node.name.name}` has `notify` recipients",
                attrs["notify"].span, "drafts are not audited, so nobody will be notified; "
                "remove `notify` or change the status",
            ))
        if not ok or service is None or status is None or period is None:
            return None
        return m.Agreement(
            name=node.name.name, file=node.span.file, service=service,
            customer=self._text(attrs.get("customer")), provider=self._text(attrs.get("provider")),
            status=status,  # type: ignore[arg-type]
            effective_start=start, effective_end=end, timezone=timezone, period=period,
            fee=fee, credit_cap=cap, review=review, notify=notify, notify_on=notify_on,
            hours=hours, exclusions=exclusions, objectives=objectives,
            description=self._text(attrs.get("description")), span=node.span,
            burn_rates=alerts,
        )

    @staticmethod
    def _text(a: ast.Attribute | None) -> str | None:
        return a.value.value if a is not None and isinstance(a.value, ast.StringLit) else None

    def _word(self, a: ast.Attribute | None, allowed: tuple[str, ...], code: str,
              what: str) -> str | None:
        if a is None:
            return None
        assert isinstance(a.value, ast.Ident)
        word = a.value.name
        if word not in allowed:
            self.diags.append(error(
                code, f"unknown {what} `{word}`", a.value.span,
                did_you_mean(word, allowed) or "one of: " + ", ".join(allowed),
            ))
            return None
        return word

    def _period(self, a: ast.Attribute | None) -> m.Period | None:
        if a is None:
            return None
        if isinstance(a.value, ast.RollingPeriod):
            if isinstance(a.value.length, ast.BadDurationLit):
                return None  # reported by the parser (SLG0303)
            seconds = a.value.length.seconds
            if seconds <= 0 or seconds != seconds.to_integral_value() or seconds % 3600:
                self.diags.append(error(
                    "SLG0412", "a rolling window is a whole number of hours", a.value.span,
                    "e.g. `rolling 28d` or `rolling 72h`",
                ))
                return None
            return m.Period("rolling", int(seconds))
        word = self._word(a, PERIODS, "SLG0412", "period")
        if word is None:
            return None
        return m.Period(word)  # type: ignore[arg-type]

    def _effective(self, a: ast.Attribute | None) -> tuple[dt.date | None, dt.date | None]:
        if a is None:
            return None, None
        rng = a.value
        assert isinstance(rng, ast.DateRange)
        start = rng.start.value
        end = rng.end.value if rng.end is not None else None
        if start is not None and end is not None and end < start:
            self.diags.append(error(
                "SLG0402", f"`effective` ends ({end}) before it starts ({start})", rng.span,
                "write the first day, then the last day: both are included",
            ))
        return start, end

    def _fee(self, a: ast.Attribute | None) -> m.Money | None:
        if a is None:
            return None
        money = a.value
        assert isinstance(money, ast.MoneyLit)
        if money.currency not in CURRENCY_MINOR_UNITS:
            self.diags.append(error(
                "SLG0304", f"`{money.currency}` is not an ISO 4217 currency code", money.span,
                did_you_mean(money.currency, CURRENCY_MINOR_UNITS) or "e.g. GBP, EUR, USD",
            ))
            return None
        digits = -money.value.as_tuple().exponent  # type: ignore[operator]
        if digits > CURRENCY_MINOR_UNITS[money.currency]:
            self.diags.append(error(
                "SLG0304", f"{money.currency} has {CURRENCY_MINOR_UNITS[money.currency]} decimal "
                f"places, but the fee has {digits}", money.span,
            ))
        return m.Money(money.value, money.currency)

    def _percent_fraction(self, a: ast.Attribute | None, what: str,
                          allow_zero: bool) -> Decimal | None:
        if a is None:
            return None
        pct = a.value
        assert isinstance(pct, ast.PercentLit)
        value = pct.value
        if value > 1 or value < 0 or (value == 0 and not allow_zero):
            self.diags.append(error(
                "SLG0302", f"`{what}` {pct.text}% is out of range", pct.span,
                "a percentage here is above 0% and at most 100%",
            ))
            return None
        return value

    def _review(self, a: ast.Attribute | None, last: ast.Attribute | None) -> m.Review | None:
        last_date = (last.value.value
                     if last is not None and isinstance(last.value, ast.DateLit) else None)
        if a is None:
            return None
        every = a.value
        assert isinstance(every, ast.ReviewEvery)
        unit = REVIEW_UNITS.get(every.unit.name.removesuffix("s"))
        count = every.count.value
        if unit is None:
            self.diags.append(error(
                "SLG0418", f"unknown review interval unit `{every.unit.name}`", every.unit.span,
                "write e.g. `review every 3 months` (days, weeks, months or years)",
            ))
            return None
        if count <= 0 or count != count.to_integral_value():
            self.diags.append(error("SLG0418", "the review interval is a whole number above 0",
                                    every.count.span))
            return None
        return m.Review(int(count), unit, last_date)  # type: ignore[arg-type]

    def _notify(self, a: ast.Attribute | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if a is None:
            return (), ()
        n = a.value
        assert isinstance(n, ast.Notify)
        on: list[str] = []
        for ident in n.on:
            if ident.name not in NOTIFY_EVENTS:
                self.diags.append(error(
                    "SLG0417", f"unknown notification event `{ident.name}`", ident.span,
                    did_you_mean(ident.name, NOTIFY_EVENTS)
                    or "one of: " + ", ".join(NOTIFY_EVENTS),
                ))
            else:
                on.append(ident.name)
        return tuple(s.value for s in n.recipients), tuple(on) or ("breach", "at_risk")

    def _exclusion(self, x: ast.Exclusion, scope: FileScope, tz: str) -> m.Exclusion | None:
        reason = x.reason.value if x.reason else None
        as_available = False
        if x.mode is not None:
            if x.mode.name == "available":
                as_available = True
            else:
                self.diags.append(error("SLG0423", f"unknown exclusion mode `{x.mode.name}`",
                                        x.mode.span, "the only mode is `as available`"))
        w = x.window
        common = {"reason": reason, "as_available": as_available, "span": x.span}
        if isinstance(w, ast.TimestampWindow):
            start, end = w.start.value, w.end.value
            if start is None or end is None or start.tzinfo is None or end.tzinfo is None:
                return None  # reported by the parser
            if end <= start:
                self.diags.append(error("SLG0402", "the exclusion window ends before it starts",
                                        w.span, "write `START .. END` with START < END"))
                return None
            return m.Exclusion("window", start=_utc(start), end=_utc(end), **common)
        if isinstance(w, ast.DateWindow):
            first, last = w.start.value, w.end.value
            if first is None or last is None:
                return None
            if last < first:
                self.diags.append(error("SLG0402", "the exclusion's last day is before its first",
                                        w.span, "both days are included: write `FIRST .. LAST`"))
                return None
            zone = ZoneInfo(tz)
            start = dt.datetime.combine(first, dt.time(), zone)
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
            return m.Exclusion("window", start=_utc(start), end=_utc(end), **common)
        if isinstance(w, ast.WeeklyWindow):
            win = self.window(w.days, w.start, w.end, w)
            return None if win is None else m.Exclusion("weekly", weekly=win, **common)
        assert isinstance(w, ast.SourceWindow)
        resolver = self._indicators(scope)
        expr: ast.Expr = w.source if w.condition is None else ast.Where(
            w.source, w.condition, span=w.span)
        sel = resolver.selection(expr, "intervals", column=False)
        return None if sel is None else m.Exclusion("source", selection=sel[0], **common)

    def _indicators(self, scope: FileScope) -> IndicatorResolver:
        return IndicatorResolver(
            lambda ref: self.lookup_source(scope, ref),
            lambda ref: self.lookup_calendar(scope, ref),
            {k for k in scope.imports},
            self.diags,
        )

    def _objectives(self, node: ast.Agreement, scope: FileScope, hours: m.Calendar | None,
                    period: m.Period | None) -> tuple[m.Objective, ...]:
        resolver = self._indicators(scope)
        credits = self._credits_by_objective(node)
        out: list[m.Objective] = []
        seen: dict[str, ast.Objective] = {}
        for o in (i for i in node.items if isinstance(i, ast.Objective)):
            if o.name.name in seen:
                self.diags.append(error(
                    "SLG0201", f"objective `{o.name.name}` is declared twice in "
                    f"`{node.name.name}`", o.name.span,
                    f"first at line {seen[o.name.name].span.line}",
                ))
                continue
            seen[o.name.name] = o
            attrs = self.attrs(o.attrs, "objective")
            missing = [k for k in ("indicator", "target") if k not in attrs]
            for k in missing:
                self.diags.append(error(
                    "SLG0409", f"objective `{o.name.name}` has no `{k}`", o.name.span,
                    "e.g. `indicator ratio(requests where status < 500)`" if k == "indicator"
                    else "e.g. `target >= 99.9%`",
                ))
            indicator = resolver.resolve(attrs["indicator"].value) if "indicator" in attrs else None
            own_hours = (self.lookup_calendar(scope, attrs["hours"].value)
                         if "hours" in attrs else None)
            target = None
            if indicator is not None and "target" in attrs:
                t = attrs["target"].value
                assert isinstance(t, ast.Target)
                value = threshold_value(t.value, indicator, self.diags, "target")
                target = None if value is None else m.Target(t.op, value, t.span)
            tiers: tuple[m.CreditTier, ...] = ()
            credit = credits.get(o.name.name)
            if credit is not None and indicator is not None and target is not None:
                if period is not None and period.kind == "rolling":
                    self.diags.append(error(
                        "SLG0416", "credits are not allowed on a rolling period", credit.span,
                        "rolling windows overlap, so a breach would be paid many times; use a "
                        "calendar period such as `monthly`",
                    ))
                tiers = self._tiers(credit, scope, indicator, target)
            if indicator is None or target is None:
                continue
            out.append(m.Objective(
                name=o.name.name, indicator=indicator, target=target,
                hours=own_hours or hours, credit=tiers,
                description=self._text(attrs.get("description")), span=o.span,
            ))
        known = set(seen)
        for name, credit in credits.items():
            if name not in known:
                self.diags.append(error(
                    "SLG0202", f"credit for unknown objective `{name}`", credit.objective.span,
                    did_you_mean(name, known) or (
                        "objectives here: " + ", ".join(sorted(known)) if known else None),
                ))
        return tuple(out)

    def _credits_by_objective(self, node: ast.Agreement) -> dict[str, ast.Credit]:
        out: dict[str, ast.Credit] = {}
        for c in (i for i in node.items if isinstance(i, ast.Credit)):
            if c.objective.name in out:
                self.diags.append(error(
                    "SLG0201", f"two credit blocks for objective `{c.objective.name}`",
                    c.objective.span, "merge the tiers into one block",
                ))
                continue
            out[c.objective.name] = c
        return out

    def _tiers(self, credit: ast.Credit, scope: FileScope, indicator: m.Indicator,
               target: m.Target) -> tuple[m.CreditTier, ...]:
        raw: tuple[ast.Tier, ...]
        if credit.schedule is not None:
            entry = scope.lookup(credit.schedule, ast.CreditSchedule, self.diags)
            sched = None if entry is None else self.schedule(entry)
            if sched is None:
                return ()
            raw = sched.tiers
        else:
            raw = credit.tiers or ()
        tiers: list[m.CreditTier] = []
        for t in raw:
            threshold = threshold_value(t.threshold, indicator, self.diags, "credit threshold")
            pct = t.credit.value * 100
            if pct <= 0 or pct > 100:
                self.diags.append(error("SLG0302", f"a credit of {t.credit.text}% is out of range",
                                        t.credit.span, "credits are above 0% and at most 100%"))
                continue
            if threshold is not None:
                tiers.append(m.CreditTier(t.direction, threshold, pct, t.span))  # type: ignore[arg-type]
        checks.unreachable_tiers(tiers, target, credit, self.diags)
        return tuple(tiers)


def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC)


