"""`slang status` as a library call: every agreement's running period, forecast and alerts.

For each audited agreement in force at `as_of`, each objective of its running period gets the
engine's status and measured value, the forecast (`slang.engine.forecast`) and the checks of the
agreement's burn-rate alerts (`slang.engine.burn`). Rows are sorted by urgency: breached, then
at risk by the soonest exhaustion of the budget, then a firing alert (page before ticket), then
no data, then met; ties by agreement and objective name, so the output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

from slang.diagnostics import SlangError
from slang.engine.arrow import Executor
from slang.engine.audit import audited_agreements, read_scans
from slang.engine.burn import BurnCheck, burn_checks, window_start
from slang.engine.calendar_time import to_us
from slang.engine.forecast import Forecast, forecast, running_period
from slang.engine.periods import PeriodInstance
from slang.engine.results import NOTIFY_STATUS, ObjectiveResult, evaluate_result
from slang.plan.plan import Plan, build_plan
from slang.semantics import model as m

# Exit 1 when a row reaches the level (docs/cli.md, slang status).
FAIL_LEVELS = ("breach", "at_risk", "page", "ticket", "never")
DEFAULT_FAIL_LEVEL = "page"


@dataclass(frozen=True)
class ObjectiveStatus:
    """One objective of one agreement's running period."""

    result: ObjectiveResult
    forecast: Forecast
    alerts: tuple[BurnCheck, ...]

    @property
    def firing(self) -> tuple[BurnCheck, ...]:
        return tuple(c for c in self.alerts if c.firing)

    @property
    def notify(self) -> tuple[str, ...]:
        """The agreement's recipients when the status concerns them (its `notify ... on`);
        a firing alert is an early warning of `at_risk`, so it reaches those who asked for
        `at_risk`."""
        a = self.result.agreement
        wanted = {NOTIFY_STATUS[e] for e in a.notify_on}
        if self.result.status in wanted or (self.firing and "at_risk" in wanted):
            return a.notify
        return ()

    def urgency(self) -> tuple[object, ...]:
        status = self.result.status
        if status == "breached":
            rank: tuple[int, int] = (0, 0)
        elif status == "at_risk":
            ex = self.forecast.exhaustion_us
            rank = (1, ex if ex is not None else 2**63)
        elif self.firing:
            rank = (2, 0 if any(c.alert.severity == "page" for c in self.firing) else 1)
        elif status == "no_data":
            rank = (3, 0)
        else:
            rank = (4, 0)
        return (*rank, self.result.agreement.name, self.result.objective.name)

    def fails_at(self, level: str) -> bool:
        """Whether this row makes `slang status --fail-on LEVEL` exit 1."""
        status = self.result.status
        severities = {c.alert.severity for c in self.firing}
        order = FAIL_LEVELS.index(level)
        return (
            (order <= 3 and status == "breached")
            or (1 <= order <= 3 and status == "at_risk")
            or (2 <= order <= 3 and "page" in severities)
            or (order == 3 and "ticket" in severities)
        )


@dataclass
class StatusReport:
    as_of: dt.datetime
    rows: list[ObjectiveStatus]
    not_running: list[str]  # audited agreements not in force at as_of

    def failing(self, level: str) -> bool:
        return any(r.fails_at(level) for r in self.rows)


def status(model: m.Model, data: Mapping[str, str | os.PathLike[str]], *,
           as_of: dt.datetime | None = None, include_drafts: bool = False) -> StatusReport:
    """Evaluate the running period of every audited agreement at `as_of` (default now)."""
    if model.errors:
        raise SlangError(model.errors)
    as_of = as_of or dt.datetime.now(dt.UTC)
    as_of_us = to_us(as_of)
    running: dict[str, PeriodInstance] = {}
    idle: list[str] = []
    for a in audited_agreements(model, include_drafts):
        p = running_period(a, as_of)
        if p is None:
            idle.append(a.name)
        else:
            running[a.name] = p
    agreements = [model.agreements[n] for n in sorted(running)]
    plan = build_plan(model, agreements, as_of=as_of)
    spans = {a.name: [running[a.name], *_window_spans(a, running[a.name], as_of_us, plan)]
             for a in agreements}
    scans, _ = read_scans(plan, data, spans, as_of_us)
    executor = Executor(scans, as_of_us)
    rows = []
    for ev in plan.evaluations:
        p = running[ev.agreement.name]
        result = evaluate_result(ev.agreement, ev.objective, p, executor.measure(ev, p))
        full = executor.counted(ev, p, p.end_us).counted
        rows.append(ObjectiveStatus(result, forecast(result, full),
                                    burn_checks(executor, ev, p)))
    rows.sort(key=ObjectiveStatus.urgency)
    return StatusReport(as_of, rows, sorted(idle))


def _window_spans(a: m.Agreement, p: PeriodInstance, as_of_us: int, plan: Plan
                  ) -> list[PeriodInstance]:
    """The time the longest alert window reaches back, so the data read covers it."""
    if not a.burn_rates:
        return []
    longest = max(w.long_window for w in a.burn_rates) // dt.timedelta(microseconds=1)
    evs = [e for e in plan.evaluations if e.agreement.name == a.name]
    start = min((window_start(e, p, as_of_us - longest) for e in evs), default=as_of_us)
    return [PeriodInstance("window", start, as_of_us, start, as_of_us, complete=True)]
