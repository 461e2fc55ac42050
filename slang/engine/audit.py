"""The audit as a library call: model + data -> report. The CLI is a thin shell over `audit`."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from slang.diagnostics import Diagnostic, SlangError, error
from slang.engine.arrow import Executor, PreparedScan, ScanBuilder
from slang.engine.calendar_time import to_us
from slang.engine.options import EngineOptions
from slang.engine.periods import PeriodInstance, select_periods
from slang.engine.results import ObjectiveResult, cap_adjustments, evaluate_result
from slang.plan.plan import Evaluation, Plan, build_plan
from slang.report.audit_report import AuditReport
from slang.semantics import model as m
from slang.semantics.holiday_regions import recording

AUDITED = ("agreed", "retired")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PeriodChoice:
    """What the command line asked for: a label, a date range, or neither (the latest
    complete period)."""

    period: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audited_agreements(model: m.Model, include_drafts: bool) -> list[m.Agreement]:
    return [a for a in model.agreements.values() if include_drafts or a.status in AUDITED]


def audit(
    model: m.Model,
    data: Mapping[str, str | os.PathLike[str]],
    *,
    choice: PeriodChoice = PeriodChoice(),
    as_of: dt.datetime | None = None,
    include_drafts: bool = False,
    progress: Progress | None = None,
    engine: str = "arrow",
    engine_options: EngineOptions | None = None,
) -> AuditReport:
    """Evaluate every audited agreement of `model` over the tables bound in `data`
    ({table name: path}). Raises SlangError with coded diagnostics for invalid policies or
    data; never returns a partial report.

    `engine` is `arrow` (the reference: in memory, or streamed by key through spill files
    when the data exceeds `engine_options.memory_limit`, see slang.engine.streaming), or
    `duckdb`/`spark`, which lower the plan to SQL and read the data where it lies
    (slang.engine.sql); the results are the same."""
    options = engine_options or EngineOptions()
    if engine != "arrow":
        return _audit_sql(model, data, choice=choice, as_of=as_of,
                          include_drafts=include_drafts, progress=progress, engine=engine,
                          options=options)
    return _audit_arrow(model, data, choice=choice, as_of=as_of,
                        include_drafts=include_drafts, progress=progress,
                        memory_limit=options.memory_limit)


def _audit_arrow(model: m.Model, data: Mapping[str, str | os.PathLike[str]], *,
                 choice: PeriodChoice, as_of: dt.datetime | None, include_drafts: bool,
                 progress: Progress | None, memory_limit: str | None) -> AuditReport:
    """The Arrow engine: in memory when the columns the audit reads fit the memory budget
    (`memory_limit`, default a share of physical memory), else streamed through spill files
    partitioned by key (slang.engine.streaming). The report is the same either way."""
    from slang.engine.budget import memory_budget
    from slang.engine.streaming import layout, spill_directory, stream_scans

    budget = memory_budget(memory_limit)
    as_of, plan, periods = _prepare(model, choice, as_of, include_drafts)
    lay = layout(plan, data, periods, budget)
    if lay is None:  # an explicit limit also bounds what cannot be streamed (SLG0608)
        scans, evidence = read_scans(plan, data, periods, to_us(as_of),
                                     memory_budget_bytes=budget if memory_limit else None)
        executor = Executor(scans, to_us(as_of))
        return _report(model, plan, periods, [(executor, plan.evaluations)], evidence, as_of,
                       progress)
    with spill_directory() as directory:
        streamed = stream_scans(plan, data, periods, to_us(as_of), lay, Path(directory))
        return _report(model, plan, periods, streamed.passes, streamed.evidence, as_of,
                       progress)


@dataclass(frozen=True)
class AuditRun:
    """An audit's report with the executor that measured it, kept for callers that measure
    more over the same prepared data (the review report's error-budget burn-down measures
    each period's first days again) without reading the data twice."""

    report: AuditReport
    executor: Executor


def audit_run(
    model: m.Model,
    data: Mapping[str, str | os.PathLike[str]],
    *,
    choice: PeriodChoice = PeriodChoice(),
    as_of: dt.datetime | None = None,
    include_drafts: bool = False,
    progress: Progress | None = None,
) -> AuditRun:
    """`audit`, also returning the executor over the prepared scans."""
    as_of, plan, periods = _prepare(model, choice, as_of, include_drafts)
    scans, evidence = read_scans(plan, data, periods, to_us(as_of))
    executor = Executor(scans, to_us(as_of))
    return AuditRun(_report(model, plan, periods, [(executor, plan.evaluations)], evidence,
                            as_of, progress), executor)


def _prepare(model: m.Model, choice: PeriodChoice, as_of: dt.datetime | None,
             include_drafts: bool
             ) -> tuple[dt.datetime, Plan, dict[str, list[PeriodInstance]]]:
    if model.errors:
        raise SlangError(model.errors)
    as_of = as_of or dt.datetime.now(dt.UTC)
    agreements = audited_agreements(model, include_drafts)
    plan = build_plan(model, agreements, as_of=as_of)
    periods = {
        a.name: select_periods(a, as_of=as_of, period=choice.period,
                               date_from=choice.date_from, date_to=choice.date_to)
        for a in agreements
    }
    return as_of, plan, periods


def _report(model: m.Model, plan: Plan, periods: Mapping[str, list[PeriodInstance]],
            passes: Iterable[tuple[Executor, Sequence[Evaluation]]], evidence: list[object],
            as_of: dt.datetime, progress: Progress | None) -> AuditReport:
    """Measure every evaluation in every period and assemble the report. `passes` gives each
    executor with the evaluations it measures (one pass over every evaluation in memory; one
    per bucket when streamed): the results are sorted, so their order does not matter."""
    results: list[ObjectiveResult] = []
    total = sum(len(periods[e.agreement.name]) for e in plan.evaluations)
    done = 0
    with recording() as holidays_used:
        for executor, evaluations in passes:
            for ev in evaluations:
                for p in periods[ev.agreement.name]:
                    results.append(evaluate_result(ev.agreement, ev.objective, p,
                                                   executor.measure(ev, p)))
                    done += 1
                    if progress is not None:
                        progress(done, total)
            del executor  # a streamed pass's bucket goes before the next one is read
    results.sort(key=lambda r: (r.agreement.name, r.objective.name, r.period.start_us))
    return AuditReport(
        as_of=as_of,
        model=model,
        plan=plan,
        results=results,
        adjustments=cap_adjustments(results),
        data=evidence,
        holiday_data=holidays_used.to_dict(),
    )


def _audit_sql(model: m.Model, data: Mapping[str, str | os.PathLike[str]], *,
               choice: PeriodChoice, as_of: dt.datetime | None, include_drafts: bool,
               progress: Progress | None, engine: str, options: EngineOptions
               ) -> AuditReport:
    """The audit on a SQL engine (slang.engine.sql): the same report; the backend is closed
    when it is done, so no executor outlives it."""
    from slang.engine.sql.run import open_backend, sql_executor
    from slang.engine.termination import sigterm_exits

    as_of, plan, periods = _prepare(model, choice, as_of, include_drafts)
    with sigterm_exits():  # a cancelled audit still closes the backend: its spill goes too
        backend = open_backend(engine, options)
        try:
            executor, evidence = sql_executor(backend, plan, data, periods, to_us(as_of))
            return _report(model, plan, periods,
                           [(executor, plan.evaluations)],  # type: ignore[list-item]
                           evidence, as_of, progress)
        finally:
            backend.close()


def unbound_table(src: m.Source, formats: str) -> Diagnostic:
    """SLG0609: a source the plan reads has no data bound to its table."""
    return error(
        "SLG0609", f"no data bound for table `{src.table}` (source `{src.name}`)", src.span,
        f"pass `--data {src.table}=PATH` ({formats}; a directory or glob for a dataset)")


def scan_time_range(plan: Plan, src: m.Source, periods: Mapping[str, Sequence[PeriodInstance]]
                    ) -> tuple[int, int] | None:
    """The instants an events source must cover: from the earliest start to the latest end of
    the periods of every agreement that reads it (None for intervals, which are not pruned)."""
    users = [e for e in plan.evaluations if src.id in e.scans]
    spans = [p for e in users for p in periods[e.agreement.name]]
    if not spans or src.kind != "events":
        return None
    return min(p.start_us for p in spans), max(p.end_us for p in spans)


def read_scans(
    plan: Plan,
    data: Mapping[str, str | os.PathLike[str]],
    periods: Mapping[str, list[PeriodInstance]],
    as_of_us: int,
    extra_columns: Mapping[str, Iterable[str]] | None = None,
    memory_budget_bytes: int | None = None,
) -> tuple[dict[str, PreparedScan], list[object]]:
    """Read and prepare every scan of `plan`; events only for the time the agreements'
    `periods` span (any list of instances: `slang status` adds its burn-rate windows).
    `extra_columns` ({source id: columns}) reads more than the plan needs (`slang diagnose
    --by`). `memory_budget_bytes` bounds each source's estimate (SLG0608; default 60 % of
    physical memory). Arrow allocates from jemalloc from here on unless
    `ARROW_DEFAULT_MEMORY_POOL` is set (see memory_pool.py: it returns freed decoding buffers
    to the system)."""
    from slang.engine.data import read_source
    from slang.engine.memory_pool import prefer_jemalloc

    prefer_jemalloc()

    diags: list[Diagnostic] = []
    scans: dict[str, PreparedScan] = {}
    evidence: list[object] = []
    for scan in plan.scans:
        src = scan.source
        if src.table not in data:
            diags.append(unbound_table(src, "Parquet, Arrow IPC, CSV or JSON Lines"))
            continue
        time_range = scan_time_range(plan, src, periods)
        # rows are ordered by key as they are read: the table is never held twice
        builder = ScanBuilder(src, keep_key=False)
        try:
            columns = set(scan.columns) | set((extra_columns or {}).get(src.id, ()))
            bound = read_source(src, data[src.table], columns, as_of_us=as_of_us,
                                time_range_us=time_range, sink=builder,
                                memory_budget_bytes=memory_budget_bytes)
        except SlangError as exc:
            diags.extend(exc.diagnostics)
            continue
        assert builder.prepared is not None
        scans[src.id] = builder.prepared
        evidence.append(bound.evidence)
    if diags:
        raise SlangError(diags)
    return scans, evidence
