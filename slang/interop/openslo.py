"""OpenSLO v1 / v1alpha / v2alpha documents -> slang (`slang import openslo`).

Every document is validated against the schema of its apiVersion first (slang/schemas/
openslo.schema.json, openslo-v2alpha.schema.json, written from the OpenSLO specification); a
document that fails is reported (SLG1002) and skipped. The versions share one importer: v2alpha
renamed fields (`sli`, `sliRef`, `serviceRef`, `dataSourceRef`), which a `Dialect` names, and
the importer reads every version through it. What a valid document says that slang cannot carry
is a warning naming the file, the line and the field (SLG1004 no equivalent, SLG1005
approximated, SLG1006 unknown reference, SLG1008 unused object), never a silent drop. The
mapping is documented in docs/interop.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from slang.interop.common import (
    SHORTHAND,
    SHORTHAND_SECONDS,
    ImportResult,
    Issues,
    decimal_of,
    finish,
    percent_text,
    read_inputs,
    schema_errors,
    slang_duration,
)
from slang.interop.openslo_adjustments import Measured, import_adjustment
from slang.interop.openslo_schema import describe
from slang.interop.slang_writer import (
    AgreementDecl,
    BurnLine,
    FilePlan,
    Names,
    ObjectiveDecl,
    PromBlock,
    ServiceDecl,
    SourceDecl,
    slang_name,
)
from slang.interop.yaml_lines import Document, field_name
from slang.semantics.prometheus import PLACEHOLDER, is_selector, unbalanced
from slang.semantics.values import is_time_zone
from slang.syntax import ast
from slang.syntax.parser import parse

V1, V1ALPHA, V2ALPHA = "openslo/v1", "openslo/v1alpha", "openslo.com/v2alpha"
V1_KINDS = ("Service", "SLO", "SLI", "DataSource", "AlertPolicy", "AlertCondition",
            "AlertNotificationTarget")
KINDS = {V1: V1_KINDS, V1ALPHA: ("Service", "SLO"), V2ALPHA: (*V1_KINDS, "BudgetAdjustment")}
OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
CALENDAR_PERIODS = {"1h": "hourly", "1d": "daily", "1w": "weekly", "1M": "monthly",
                    "1Q": "quarterly", "1Y": "yearly"}
NOMINAL_HOURS = {"hourly": 1, "daily": 24, "weekly": 168, "monthly": 720, "quarterly": 2160,
                 "yearly": 8760}
V1ALPHA_UNITS = {"Minute": "m", "Hour": "h", "Day": "d", "Week": "w", "Month": "M",
                 "Quarter": "Q", "Year": "Y"}
SEVERITIES = ("page", "ticket")
DEFAULT_PERIOD = "rolling 28d"


@dataclass(frozen=True)
class Dialect:
    """Where an apiVersion keeps what the importer reads. v2alpha renamed an SLO's `indicator`
    and `indicatorRef` to `sli` and `sliRef`, names its service by `serviceRef` (go-sdk; the
    specification text still says `service`), gives a metric its data source directly
    (`dataSourceRef` or an inline `dataSourceSpec`, beside the query's `spec`) instead of under
    `metricSource`, and has no months, quarters or years in its durations."""

    indicator: str
    indicator_ref: str
    services: tuple[str, ...]
    nested_metric_source: bool
    months: bool


V1_DIALECT = Dialect("indicator", "indicatorRef", ("service",), True, True)
DIALECTS = {V1: V1_DIALECT, V1ALPHA: V1_DIALECT,
            V2ALPHA: Dialect("sli", "sliRef", ("serviceRef", "service"), False, False)}


@dataclass(frozen=True)
class MetricSource:
    """A metric's data source and query, wherever its version keeps them: v1's
    `metricSource: {metricSourceRef | type, spec}`, v2alpha's `dataSourceRef | dataSourceSpec`
    beside `spec`. Paths are of the fields, for the warnings."""

    path: tuple[Any, ...]
    type: str | None
    ref: str | None
    ref_path: tuple[Any, ...]
    spec: Any
    spec_path: tuple[Any, ...]
    inline_details: tuple[Any, ...] | None  # v2alpha dataSourceSpec.connectionDetails


def metric_source(dialect: Dialect, path: tuple[Any, ...], metric: Any) -> MetricSource:
    if dialect.nested_metric_source:
        ms = metric.get("metricSource") or {}
        mpath = (*path, "metricSource")
        return MetricSource(mpath, ms.get("type"), ms.get("metricSourceRef"),
                            (*mpath, "metricSourceRef"), ms.get("spec"), (*mpath, "spec"), None)
    inline = metric.get("dataSourceSpec")
    details = ((*path, "dataSourceSpec", "connectionDetails")
               if isinstance(inline, dict) and inline.get("connectionDetails") else None)
    return MetricSource(path, (inline or {}).get("type"), metric.get("dataSourceRef"),
                        (*path, "dataSourceRef"), metric.get("spec"), (*path, "spec"), details)


@dataclass
class Obj:
    """One OpenSLO object: its document, the path of the object inside it, and the object."""

    doc: Document
    path: tuple[Any, ...]
    data: Any

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def name(self) -> str:
        return str(self.data["metadata"]["name"])

    @property
    def spec(self) -> Any:
        return self.data.get("spec") or {}

    @property
    def dialect(self) -> Dialect:
        """Inline alert objects carry no apiVersion; their fields are the same in every
        version."""
        return DIALECTS.get(str(self.data.get("apiVersion")), V1_DIALECT)

    def at(self, *rest: Any) -> tuple[Any, ...]:
        return (*self.path, *rest)


def import_openslo(paths: list[str]) -> ImportResult:
    issues = Issues()
    docs = read_inputs(paths, issues, "SLG1001")
    objects = _objects(docs, issues)
    return _Importer(objects, issues, paths).run()


def _objects(docs: list[Document], issues: Issues) -> list[Obj]:
    """Valid OpenSLO objects; a YAML document may hold one object or a list of them."""
    out: list[Obj] = []
    for doc in docs:
        items = (list(enumerate(doc.data)) if isinstance(doc.data, list)
                 else [(None, doc.data)])
        for index, data in items:
            path: tuple[Any, ...] = () if index is None else (index,)
            if not isinstance(data, dict):
                issues.warn("SLG1003", doc, path, "is not an OpenSLO object (a mapping with "
                            "`apiVersion` and `kind`); skipped")
                continue
            api, kind = data.get("apiVersion"), data.get("kind")
            if kind not in KINDS.get(str(api), ()):
                what = (f"apiVersion `{api}` kind `{kind}`" if api or kind
                        else "no `apiVersion` or `kind`")
                issues.warn(
                    "SLG1003", doc, (*path, "apiVersion") if api else path,
                    f"{what} is not an OpenSLO object slang imports; skipped",
                    "slang imports openslo/v1 and openslo.com/v2alpha (Service, SLO, SLI, "
                    "DataSource, AlertPolicy, AlertCondition, AlertNotificationTarget; v2alpha "
                    "also BudgetAdjustment) and openslo/v1alpha (Service, SLO)",
                )
                continue
            errors = schema_errors(data)
            if errors:
                for e in errors[:3]:
                    where, message = describe(e, str(api))
                    issues.fail("SLG1002", doc, (*path, *where),
                                f"{message} (OpenSLO {api} {kind}); document skipped",
                                "see the OpenSLO specification for this field")
                continue
            out.append(Obj(doc, path, data))
    return out


class _Importer:
    def __init__(self, objects: list[Obj], issues: Issues, paths: list[str]):
        self.objects = objects
        self.issues = issues
        self.names = Names()
        self.plans: dict[str, FilePlan] = {p: FilePlan() for p in paths}
        self.by_kind: dict[str, dict[str, Obj]] = {}
        for o in objects:
            self.by_kind.setdefault(o.kind, {}).setdefault(o.name, o)
        self.used: set[tuple[str, str]] = set()
        self.services: dict[str, str] = {}  # OpenSLO service name -> slang name
        self.sources: dict[tuple[str, str], str] = {}  # (SLI name, spec repr) -> slang name
        self.conditions: dict[str, str] = {}  # source -> condition of a `slang` metric source
        self.measured: list[Measured] = []  # imported SLOs, for budget adjustments

    def run(self) -> ImportResult:
        for o in self.objects:
            if o.kind == "Service":
                self.service(o)
        for o in self.objects:
            if o.kind == "SLO":
                self.slo(o)
        for o in self.objects:
            if o.kind == "BudgetAdjustment":
                self._metadata_extras(o)
                import_adjustment(o.doc, o.path, o.data, self.measured, self.issues)
        for o in self.objects:
            if o.kind in ("SLI", "DataSource", "AlertPolicy", "AlertCondition",
                          "AlertNotificationTarget") and (o.kind, o.name) not in self.used:
                self.issues.warn("SLG1008", o.doc, o.at("metadata", "name"),
                                 f"{o.kind} `{o.name}` is not used by any imported SLO; "
                                 "nothing to attach it to")
        return finish(self.plans, self.issues, "openslo")

    # ------------------------------------------------------------------------ common

    def _metadata_extras(self, o: Obj) -> None:
        meta = o.data["metadata"]
        for key in ("labels", "annotations"):
            if meta.get(key):
                self.issues.warn("SLG1004", o.doc, o.at("metadata", key),
                                 f"{o.kind} {key} have no slang equivalent; dropped: "
                                 + ", ".join(sorted(map(str, meta[key]))))

    def _plan(self, o: Obj) -> FilePlan:
        return self.plans[o.doc.file]

    def _rename_note(self, o: Obj, path: tuple[Any, ...], original: str, name: str) -> None:
        if name.replace("_", "-") != original and name != original:
            self.issues.warn("SLG1007", o.doc, path,
                             f"`{original}` is imported as `{name}`",
                             "slang names are letters, digits and `_`; another object took the "
                             "plain name, or the name has other characters")

    # ---------------------------------------------------------------------- services

    def service(self, o: Obj) -> str:
        if o.name in self.services:
            return self.services[o.name]
        name = self.names.take("service", slang_name(o.name))
        self._rename_note(o, o.at("metadata", "name"), o.name, name)
        self.services[o.name] = name
        self._metadata_extras(o)
        self._plan(o).services.append(ServiceDecl(
            name, title=o.data["metadata"].get("displayName"),
            description=o.spec.get("description"),
        ))
        return name

    def service_ref(self, o: Obj, key: str, ref: str) -> str:
        if ref in self.services:
            return self.services[ref]
        name = self.names.take("service", slang_name(ref))
        self._rename_note(o, o.at("spec", key), ref, name)
        self.services[ref] = name
        self._plan(o).services.append(ServiceDecl(name))
        return name

    # --------------------------------------------------------------------------- SLOs

    def slo(self, o: Obj) -> None:
        spec = o.spec
        v1alpha = o.data["apiVersion"] == "openslo/v1alpha"
        self._metadata_extras(o)
        name = self.names.take("decl", slang_name(o.name))
        self._rename_note(o, o.at("metadata", "name"), o.name, name)
        key = next(k for k in o.dialect.services if k in spec)  # the schema requires one
        service = self.service_ref(o, key, spec[key])
        period, timezone, start = self.window(o, v1alpha)
        agreement = AgreementDecl(
            name=name, service=service, period=period, timezone=timezone,
            effective_start=start, description=spec.get("description"),
            comment=o.data["metadata"].get("displayName"),
        )
        method = spec.get("budgetingMethod", "Occurrences")
        if "budgetingMethod" not in spec:
            self.issues.warn("SLG1005", o.doc, o.at("spec"),
                             "no `budgetingMethod`; imported as Occurrences")
        shared = self.shared_indicator(o, v1alpha)
        taken: set[str] = set()
        for i, objective in enumerate(spec["objectives"]):
            decl = self.objective(o, i, objective, method, shared, v1alpha, taken)
            if decl is not None:
                agreement.objectives.append(decl)
        if not agreement.objectives:
            self.issues.warn("SLG1004", o.doc, o.at("spec", "objectives"),
                             f"SLO `{o.name}` has no objective slang can measure; not imported")
            return
        self.alert_policies(o, agreement, period)
        self._plan(o).agreements.append(agreement)
        if not v1alpha:
            shared = _sli_name(spec, o.dialect)
            self.measured.append(Measured(
                agreement, o.name, spec[key],
                [_sli_name(obj, o.dialect) or shared for obj in spec["objectives"]]))

    def window(self, o: Obj, v1alpha: bool) -> tuple[str, str | None, str | None]:
        """(period, time zone, effective start) from `timeWindow` (v1) / `timeWindows`."""
        key = "timeWindows" if v1alpha else "timeWindow"
        windows = o.spec.get(key)
        if not windows:
            self.issues.warn("SLG1005", o.doc, o.at("spec"),
                             f"no `{key}`; imported as `period {DEFAULT_PERIOD}`",
                             "OpenSLO leaves the window to the implementation; state it")
            return DEFAULT_PERIOD, None, None
        w = windows[0]
        path = o.at("spec", key, 0)
        if v1alpha:
            unit = V1ALPHA_UNITS.get(w["unit"])
            if unit is None:  # Second
                self.issues.warn("SLG1005", o.doc, (*path, "unit"),
                                 f"a window in {w['unit']}s is shorter than slang's periods; "
                                 "imported as `hourly`")
                return "hourly", None, None
            duration = f"{w['count']}{unit}"
        else:
            duration = w["duration"]
        calendar = w.get("calendar")
        rolling = w.get("isRolling", calendar is None)
        timezone = start = None
        if calendar is not None:
            timezone = self.zone(o, (*path, "calendar", "timeZone"), calendar.get("timeZone"))
            start = self.start(o, (*path, "calendar", "startTime"), calendar.get("startTime"))
        if rolling:
            if calendar is not None:
                self.issues.warn("SLG1004", o.doc, (*path, "calendar"),
                                 "a rolling window does not use `calendar`; its start time "
                                 "and time zone only set `effective` and `timezone`")
            return self.rolling(o, (*path, "duration"), duration), timezone, start
        period = CALENDAR_PERIODS.get(duration)
        if period is None:
            period = self.nearest_period(o, (*path, "duration"), duration)
        if start is not None:
            self.check_alignment(o, (*path, "calendar", "startTime"), period, start)
        return period, timezone, start

    def zone(self, o: Obj, path: tuple[Any, ...], name: str | None) -> str | None:
        if name is None or is_time_zone(name):
            return name
        self.issues.warn("SLG1005", o.doc, path,
                         f"`{name}` is not a time zone of the IANA database; imported as UTC",
                         "write a name such as `Europe/London` or `America/New_York`")
        return None

    def rolling(self, o: Obj, path: tuple[Any, ...], duration: str) -> str:
        m = SHORTHAND.match(duration)
        assert m is not None  # the schema checked the shorthand
        count, unit = int(m.group(1)), m.group(2)
        if unit in SHORTHAND_SECONDS:
            seconds = count * SHORTHAND_SECONDS[unit]
            if seconds % 3600 == 0:
                return f"rolling {slang_duration(seconds)}"
            hours = max(1, round(seconds / 3600))
            self.issues.warn("SLG1005", o.doc, path,
                             f"a rolling window of {duration} is not a whole number of hours; "
                             f"imported as `rolling {hours}h`")
            return f"rolling {slang_duration(hours * 3600)}"
        days = {"M": 30, "Q": 90, "Y": 365}[unit] * count
        self.issues.warn("SLG1005", o.doc, path,
                         f"a rolling {duration} has no fixed length; imported as "
                         f"`rolling {days}d`",
                         "slang's rolling windows are fixed durations (a month is 30 days, as "
                         "in burn-rate factors); write the days you mean")
        return f"rolling {slang_duration(days * 86400)}"

    def nearest_period(self, o: Obj, path: tuple[Any, ...], duration: str) -> str:
        m = SHORTHAND.match(duration)
        assert m is not None
        count, unit = int(m.group(1)), m.group(2)
        hours = count * {"m": Fraction(1, 60), "h": 1, "d": 24, "w": 168, "M": 720, "Q": 2160,
                         "Y": 8760}[unit]
        period = min(NOMINAL_HOURS, key=lambda p: (abs(NOMINAL_HOURS[p] - hours),
                                                   NOMINAL_HOURS[p]))
        if unit == "m" and o.dialect.months:
            hint = ("`m` is minutes and `M` months in OpenSLO durations; did you mean "
                    f"`{count}M`?")
        elif not o.dialect.months:
            hint = ("OpenSLO v2alpha durations have no months (`m` is minutes); a calendar "
                    "month, quarter or year window needs openslo/v1 (`1M`, `1Q`, `1Y`)")
        else:
            hint = ("slang's calendar periods are hourly, daily, weekly, monthly, quarterly and "
                    "yearly")
        self.issues.warn("SLG1005", o.doc, path,
                         f"a calendar window of {duration} has no slang period; imported as "
                         f"`{period}`", hint)
        return period

    def start(self, o: Obj, path: tuple[Any, ...], text: str | None) -> str | None:
        if text is None:
            return None
        try:
            when = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            self.issues.warn("SLG1004", o.doc, path,
                             f"start time `{text}` is not `YYYY-MM-DD HH:MM:SS`; dropped")
            return None
        if when.time() != dt.time():
            self.issues.warn("SLG1005", o.doc, path,
                             f"the window starts at {when.time()} but slang's periods start "
                             f"at local midnight; imported as `effective {when.date()} ..`")
        return when.date().isoformat()

    def check_alignment(self, o: Obj, path: tuple[Any, ...], period: str, start: str) -> None:
        day = dt.date.fromisoformat(start)
        misaligned = (
            (period == "weekly" and day.weekday() != 0)
            or (period == "monthly" and day.day != 1)
            or (period == "quarterly" and (day.day != 1 or day.month % 3 != 1))
            or (period == "yearly" and (day.day, day.month) != (1, 1))
        )
        if misaligned:
            self.issues.warn("SLG1005", o.doc, path,
                             f"{period} periods in slang start on the calendar boundary "
                             f"(weeks on Monday, months on the 1st), not on {start}")

    # ---------------------------------------------------------------------- indicators

    def shared_indicator(self, o: Obj, v1alpha: bool) -> tuple[str, str] | None:
        """(source name, kind) of the SLO's own indicator, if it has one."""
        spec = o.spec
        if v1alpha:
            ind = spec.get("indicator")
            if ind and ind.get("thresholdMetric"):
                metric = ind["thresholdMetric"]
                return self.v1alpha_source(o, o.at("spec", "indicator", "thresholdMetric"),
                                           f"{o.name}-sli", None, metric), "threshold"
            return None
        ind, ref = o.dialect.indicator, o.dialect.indicator_ref
        if ind in spec:
            return self.sli(o, o.at("spec", ind), spec[ind])
        if ref in spec:
            return self.sli_ref(o, o.at("spec", ref), spec[ref])
        return None

    def sli_ref(self, o: Obj, path: tuple[Any, ...], ref: str) -> tuple[str, str]:
        target = self.by_kind.get("SLI", {}).get(ref)
        if target is not None:
            self.used.add(("SLI", ref))
            return self.sli(target, target.path, target.data)
        self.issues.warn("SLG1006", o.doc, path,
                         f"SLI `{ref}` is not among the imported documents; the source "
                         f"`{slang_name(ref)}` is declared without a metric mapping",
                         "import the file that defines it together with this one")
        key = (ref, "unresolved")
        if key not in self.sources:
            name = self.names.take("decl", slang_name(ref))
            self.sources[key] = name
            self._plan(o).sources.append(SourceDecl(name, ref))
        return self.sources[key], "ratio"

    def sli(self, o: Obj, path: tuple[Any, ...], sli: Any) -> tuple[str, str]:
        """The source for an SLI (inline or a document), shared by identical SLIs."""
        meta = sli["metadata"]
        spec = sli["spec"]
        key = (meta["name"], repr(spec))
        kind = "threshold" if "thresholdMetric" in spec else "ratio"
        if key in self.sources:
            return self.sources[key], kind
        name = self.names.take("decl", slang_name(meta["name"]))
        self._rename_note(o, (*path, "metadata", "name"), meta["name"], name)
        self.sources[key] = name
        for extra in ("labels", "annotations"):
            if meta.get(extra):
                self.issues.warn("SLG1004", o.doc, (*path, "metadata", extra),
                                 f"SLI {extra} have no slang equivalent; dropped")
        description = spec.get("description") or meta.get("displayName")
        if spec.get("description") and meta.get("displayName"):
            self.issues.warn("SLG1004", o.doc, (*path, "metadata", "displayName"),
                             "the SLI's display name has no slang equivalent next to its "
                             "description; dropped")
        source = SourceDecl(name, meta["name"], description)
        if self.slang_metric(o, (*path, "spec"), spec, source):
            self._plan(o).sources.append(source)
            return name, kind
        if kind == "threshold":
            self.threshold_metric(o, (*path, "spec", "thresholdMetric"),
                                  spec["thresholdMetric"])
        else:
            self.ratio_metric(o, (*path, "spec", "ratioMetric"), spec["ratioMetric"], source)
        self._plan(o).sources.append(source)
        return name, kind

    def slang_metric(self, o: Obj, path: tuple[Any, ...], spec: Any, source: SourceDecl
                     ) -> bool:
        """A metric source of type `slang` (as `slang export openslo` writes for a source
        without a `prometheus` block): its table, and the condition of the good rows."""
        metric = spec.get("thresholdMetric") or (spec.get("ratioMetric") or {}).get("good")
        ms = metric_source(o.dialect, path, metric or {})
        ds = self.data_source(ms)
        kind = ms.type or (ds.spec.get("type") if ds is not None else None)
        if kind != "slang" or not isinstance(ms.spec, dict):
            return False
        table = ms.spec.get("table")
        if isinstance(table, str) and table:
            source.table = table
        where = ms.spec.get("where")
        if "ratioMetric" in spec and isinstance(where, str) and where.strip():
            if _is_condition(where):
                self.conditions[source.name] = where.strip()
            else:
                self.issues.warn("SLG1004", o.doc, (*path, "ratioMetric", "good"),
                                 f"`where: {where}` is not a slang condition; imported as "
                                 "`good == true`")
        return True

    def ratio_metric(self, o: Obj, path: tuple[Any, ...], ratio: Any, source: SourceDecl
                     ) -> None:
        if "raw" in ratio:
            self.issues.warn("SLG1004", o.doc, (*path, "raw"),
                             "a precomputed (`raw`) ratio has no slang equivalent: slang counts "
                             "events; the source has no metric mapping")
            return
        role = "good" if "good" in ratio else "bad"
        queries = {}
        for side in (role, "total"):
            q = self.query(o, (*path, side), ratio[side])
            if q is None:
                return
            queries[side] = q
        if ratio.get("counter") is False and any(is_selector(q) for q in queries.values()):
            self.issues.warn("SLG1005", o.doc, (*path, "counter"),
                             "`counter: false`, but slang exports a bare selector as a rate of "
                             "a counter; write the whole query with `{{window}}`")
        source.prometheus = PromBlock(queries["total"], role, queries[role])

    def threshold_metric(self, o: Obj, path: tuple[Any, ...], metric: Any) -> None:
        """A threshold metric: one query of values; slang compares each row's `value`, and
        its query has no place (reported)."""
        self.query(o, path, metric, threshold=True)

    def data_source(self, ms: MetricSource) -> Obj | None:
        """The DataSource document a metric refers to, or None. The first use marks it used
        and reports its connection details, which slang has no place for."""
        ds = self.by_kind.get("DataSource", {}).get(ms.ref) if ms.ref is not None else None
        if ds is not None and ("DataSource", ds.name) not in self.used:
            self.used.add(("DataSource", ds.name))
            if ds.spec.get("connectionDetails"):
                self.issues.warn("SLG1004", ds.doc, ds.at("spec", "connectionDetails"),
                                 "connection details have no slang equivalent (data is bound "
                                 "at audit time); dropped")
        return ds

    def query(self, o: Obj, path: tuple[Any, ...], metric: Any, threshold: bool = False
              ) -> str | None:
        """The PromQL of a metric, ready for a prometheus block; None (with a warning)
        when it is not PromQL or cannot be exported as burn-rate rules."""
        ms = metric_source(o.dialect, path, metric)
        kind, ref, path = ms.type, ms.ref, ms.path
        if ms.inline_details is not None:
            self.issues.warn("SLG1004", o.doc, ms.inline_details,
                             "connection details have no slang equivalent (data is bound at "
                             "audit time); dropped")
        ds = self.data_source(ms)
        if ref is not None and ds is None:
            if kind is None:
                self.issues.warn("SLG1006", o.doc, ms.ref_path,
                                 f"DataSource `{ref}` is not among the imported documents, so "
                                 "the kind of its queries is unknown; the source has no metric "
                                 "mapping", "import the file that defines it together with "
                                 "this one")
                return None
            self.issues.warn("SLG1006", o.doc, ms.ref_path,
                             f"DataSource `{ref}` is not among the imported documents")
        kind = kind or (ds.spec.get("type") if ds is not None else None)
        spec = ms.spec or {}
        text = spec.get("query") if isinstance(spec, dict) else None
        if str(kind).lower() != "prometheus" or not isinstance(text, str):
            self.issues.warn("SLG1004", o.doc, path,
                             f"a {kind or 'untyped'} metric source has no slang equivalent; "
                             "the source has no metric mapping",
                             "slang maps Prometheus queries (`prometheus` block); audit data "
                             "is bound to the source at audit time")
            return None
        if threshold:
            self.issues.warn("SLG1004", o.doc, path,
                             "a threshold metric's query has no slang equivalent (a "
                             "`prometheus` block maps good/total counts); dropped: " + text)
            return None
        return self.promql(o, (*ms.spec_path, "query"), text)

    def promql(self, o: Obj, path: tuple[Any, ...], text: str) -> str | None:
        text = text.strip()
        converted = PLACEHOLDER.sub(
            lambda m: "{{window}}" if m.group(1).lstrip(".") == "window" else m.group(0), text)
        unknown = [p for p in PLACEHOLDER.findall(converted) if p not in ("window", "service")]
        if unknown or unbalanced(converted) is not None or not (
                is_selector(converted) or "{{window}}" in converted):
            self.issues.warn("SLG1009", o.doc, path,
                             "this query has a fixed range or no series selector, so it cannot "
                             "be exported as burn-rate rules; the source has no metric "
                             "mapping: " + text,
                             "write the range as `{{.window}}` (as Sloth does) or give a bare "
                             "selector")
            return None
        return converted

    def v1alpha_source(self, o: Obj, path: tuple[Any, ...], sli_name: str,
                       ratio: Any | None, threshold: Any | None) -> str:
        key = (sli_name, repr(ratio if ratio is not None else threshold))
        if key in self.sources:
            return self.sources[key]
        name = self.names.take("decl", slang_name(sli_name))
        self.sources[key] = name
        source = SourceDecl(name, sli_name)
        if ratio is not None:
            queries = {}
            for side in ("good", "total"):
                q = ratio[side]
                qpath = (*path, side)
                if str(q.get("source")).lower() != "prometheus":
                    self.issues.warn("SLG1004", o.doc, (*qpath, "source"),
                                     f"a {q.get('source')} query has no slang equivalent; "
                                     "the source has no metric mapping")
                    break
                converted = self.promql(o, (*qpath, "query"), q["query"])
                if converted is None:
                    break
                queries[side] = converted
            else:
                source.prometheus = PromBlock(queries["total"], "good", queries["good"])
            if "incremental" in ratio:
                self.issues.warn("SLG1004", o.doc, (*path, "incremental"),
                                 "`incremental` has no slang equivalent; dropped")
        elif threshold is not None:
            self.issues.warn("SLG1004", o.doc, path,
                             "a threshold metric's query has no slang equivalent; dropped: "
                             + str(threshold.get("query")))
        self._plan(o).sources.append(source)
        return name

    # ---------------------------------------------------------------------- objectives

    def objective(self, o: Obj, i: int, obj: Any, method: str,
                  shared: tuple[str, str] | None, v1alpha: bool, taken: set[str]
                  ) -> ObjectiveDecl | None:
        path = o.at("spec", "objectives", i)
        display = obj.get("displayName")
        base = slang_name(display.lower()) if display else f"objective_{i + 1}"
        base = "_".join(p for p in base.split("_") if p) or f"objective_{i + 1}"
        name = base
        n = 2
        while name in taken:
            name = f"{base}_{n}"
            n += 1
        taken.add(name)
        if "compositeWeight" in obj:
            self.issues.warn("SLG1004", o.doc, (*path, "compositeWeight"),
                             "composite SLO weights have no slang equivalent: each objective "
                             "is met or not on its own; dropped")
        source = shared
        if v1alpha and "ratioMetrics" in obj:
            sli_name = f"{o.name}-{name.replace('_', '-')}"
            source = (self.v1alpha_source(o, (*path, "ratioMetrics"), sli_name,
                                          obj["ratioMetrics"], None), "ratio")
        elif o.dialect.indicator in obj:
            source = self.sli(o, (*path, o.dialect.indicator), obj[o.dialect.indicator])
        elif o.dialect.indicator_ref in obj:
            source = self.sli_ref(o, (*path, o.dialect.indicator_ref),
                                  obj[o.dialect.indicator_ref])
        if obj.get("labels"):
            self.issues.warn("SLG1004", o.doc, (*path, "labels"),
                             "objective labels have no slang equivalent; dropped: "
                             + ", ".join(sorted(map(str, obj["labels"]))))
        if source is None:
            self.issues.warn("SLG1004", o.doc, path,
                             f"the objective has no indicator (`{o.dialect.indicator}`, "
                             f"`{o.dialect.indicator_ref}`); not imported")
            return None
        src, kind = source
        target = decimal_of(obj["target"]) if "target" in obj else (
            decimal_of(obj["targetPercent"]) / 100)
        if kind == "threshold":
            if "op" not in obj or "value" not in obj:
                self.issues.warn("SLG1004", o.doc, path,
                                 "a threshold objective needs `op` and `value`; not imported")
                return None
            good = f"value {OPS[obj['op']]} {_number(decimal_of(obj['value']))}"
        else:
            good = self.conditions.get(src, "good == true")
            if "value" in obj:
                self.issues.warn("SLG1004", o.doc, (*path, "value"),
                                 "`value` applies to threshold metrics; ignored for a ratio")
        inner = f"ratio({src} where {good})"
        if method == "Occurrences":
            for extra in ("timeSliceTarget", "timeSliceWindow"):
                if extra in obj:
                    self.issues.warn("SLG1004", o.doc, (*path, extra),
                                     f"`{extra}` applies to time slices; ignored for "
                                     "Occurrences")
            indicator = inner
        else:
            window = self.slice_window(o, (*path, "timeSliceWindow"), obj.get("timeSliceWindow"))
            if method == "Timeslices":
                slice_target = decimal_of(obj.get("timeSliceTarget", 1))
                if "timeSliceTarget" not in obj:
                    self.issues.warn("SLG1005", o.doc, path,
                                     "no `timeSliceTarget`; a slice is good only at 100%")
                op = OPS.get(obj.get("op", "gte"), ">=")
                if op in ("<", "<=") and kind == "ratio":
                    self.issues.warn("SLG1005", o.doc, (*path, "op"),
                                     f"`op: {obj['op']}` on a ratio time slice reads as "
                                     "`>=`: a slice is good when enough events are good")
                    op = ">="
                if kind == "threshold":
                    op = ">="
                indicator = (f"timeslices({window}, {inner} {op} "
                             f"{percent_text(slice_target)}%)")
            else:
                indicator = f"slice_mean({window}, {inner})"
        description = display if display is not None and display != name else None
        return ObjectiveDecl(name, indicator, f">= {percent_text(target)}%", description)

    def slice_window(self, o: Obj, path: tuple[Any, ...], value: Any) -> str:
        if value is None:
            self.issues.warn("SLG1005", o.doc, path[:-1],
                             "no `timeSliceWindow`; imported as 1m (OpenSLO's unit)")
            return "1m"
        if isinstance(value, int | float) and not isinstance(value, bool):
            minutes = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            if minutes != minutes.to_integral_value():
                self.issues.warn("SLG1005", o.doc, path,
                                 f"{value} minutes is not whole; imported as "
                                 f"{int(minutes) or 1}m")
            return f"{int(minutes) or 1}m"
        m = SHORTHAND.match(str(value))
        if m is None or m.group(2) not in SHORTHAND_SECONDS:
            self.issues.warn("SLG1005", o.doc, path,
                             f"a time slice of `{value}` has no fixed length; imported as 1d")
            return "1d"
        return slang_duration(int(m.group(1)) * SHORTHAND_SECONDS[m.group(2)])

    # ------------------------------------------------------------------------ alerting

    def alert_policies(self, o: Obj, agreement: AgreementDecl, period: str) -> None:
        policies = o.spec.get("alertPolicies") or []
        lines: list[BurnLine] = []
        for i, entry in enumerate(policies):
            path = o.at("spec", "alertPolicies", i)
            policy = self.resolve(o, path, entry, "AlertPolicy", "alertPolicyRef")
            if policy is None:
                continue
            pdoc, ppath, pdata = policy
            self.policy(o, agreement, period, pdoc, ppath, pdata, lines)
        if lines:
            agreement.burn_rates = lines

    def resolve(self, o: Obj, path: tuple[Any, ...], entry: Any, kind: str, ref_key: str
                ) -> tuple[Document, tuple[Any, ...], Any] | None:
        """An inline object or a reference (`name` or `{ref_key: name}`) to a document."""
        if isinstance(entry, dict) and "kind" in entry:
            return o.doc, path, entry
        ref = entry.get(ref_key) if isinstance(entry, dict) else entry
        target = self.by_kind.get(kind, {}).get(str(ref))
        if target is None:
            self.issues.warn("SLG1006", o.doc, path,
                             f"{kind} `{ref}` is not among the imported documents; dropped",
                             "import the file that defines it together with this one")
            return None
        self.used.add((kind, str(ref)))
        return target.doc, target.path, target.data

    def policy(self, o: Obj, agreement: AgreementDecl, period: str, doc: Document,
               path: tuple[Any, ...], data: Any, lines: list[BurnLine]) -> None:
        spec = data["spec"]
        holder = Obj(doc, path, data)
        if spec.get("description"):
            self.issues.warn("SLG1004", doc, (*path, "spec", "description"),
                             "an alert policy's description has no slang equivalent; dropped")
        events = []
        if spec.get("alertWhenBreaching", True):
            events.append("at_risk")
        if spec.get("alertWhenNoData"):
            events.append("no_data")
        if spec.get("alertWhenResolved"):
            events.append("met")
        for i, entry in enumerate(spec.get("notificationTargets") or []):
            target = self.resolve(holder, (*path, "spec", "notificationTargets", i), entry,
                                  "AlertNotificationTarget", "targetRef")
            if target is None:
                continue
            tdoc, tpath, tdata = target
            recipient = tdata["metadata"]["name"]
            if recipient not in agreement.notify:
                agreement.notify.append(recipient)
            self.issues.warn("SLG1004", tdoc, (*tpath, "spec", "target"),
                             f"the notification channel `{tdata['spec']['target']}` has no "
                             f"slang equivalent; `{recipient}` is a `notify` recipient")
        order = ("at_risk", "no_data", "met")
        agreement.notify_on[:] = sorted(set(agreement.notify_on) | set(events), key=order.index)
        for i, entry in enumerate(spec.get("conditions") or []):
            cond = self.resolve(holder, (*path, "spec", "conditions", i), entry,
                                "AlertCondition", "conditionRef")
            if cond is not None:
                line = self.condition(period, *cond)
                if line is not None:
                    lines.append(line)

    def condition(self, period: str, doc: Document, path: tuple[Any, ...], data: Any
                  ) -> BurnLine | None:
        from slang.interop.burn_rates import budget_percent

        spec = data["spec"]
        cond = spec["condition"]
        cpath = (*path, "spec", "condition")
        severity = spec["severity"]
        if severity not in SEVERITIES:
            mapped = "page" if str(severity).lower() in ("critical", "high", "sev1", "p1") \
                else "ticket"
            self.issues.warn("SLG1005", doc, (*path, "spec", "severity"),
                             f"severity `{severity}` is imported as `{mapped}`",
                             "slang's burn-rate alerts are `page` or `ticket`")
            severity = mapped
        if cond.get("op", "gte") not in ("gt", "gte"):
            self.issues.warn("SLG1004", doc, (*cpath, "op"),
                             f"`op: {cond['op']}` alerts when the burn rate is low; slang "
                             "alerts on fast burn only; condition dropped")
            return None
        long_s = _seconds(cond["lookbackWindow"])
        if long_s is None:
            self.issues.warn("SLG1004", doc, (*cpath, "lookbackWindow"),
                             "a lookback window in months, quarters or years has no fixed "
                             "length; condition dropped")
            return None
        short_s = _seconds(cond["alertAfter"])
        if not short_s or short_s >= long_s:
            short_s = max(60, long_s // 12)
            self.issues.warn("SLG1005", doc, (*cpath, "alertAfter"),
                             f"`alertAfter: {cond['alertAfter']}` cannot be the short window; "
                             f"imported as {slang_duration(short_s)} (a twelfth of the long "
                             "window)")
        else:
            self.issues.warn("SLG1005", doc, (*cpath, "alertAfter"),
                             "`alertAfter` (how long the condition must hold) is imported as "
                             "the short window (the burn rate over it must also exceed the "
                             "factor): close, not the same")
        if spec.get("description"):
            self.issues.warn("SLG1004", doc, (*path, "spec", "description"),
                             "an alert condition's description has no slang equivalent")
        percent, exact = budget_percent(Fraction(str(cond["threshold"])), period, long_s)
        if not exact:
            self.issues.warn("SLG1005", doc, (*cpath, "threshold"),
                             f"burn rate {cond['threshold']} over {cond['lookbackWindow']} is "
                             f"{percent}% of the budget after rounding")
        return BurnLine(severity, percent, slang_duration(long_s), slang_duration(short_s))


def _sli_name(holder: Any, dialect: Dialect) -> str | None:
    """The name of the SLI an SLO or objective names (inline or by reference)."""
    if dialect.indicator in holder:
        return str(holder[dialect.indicator]["metadata"]["name"])
    if dialect.indicator_ref in holder:
        return str(holder[dialect.indicator_ref])
    return None


def _is_condition(text: str) -> bool:
    """Whether `text` is exactly one slang condition (it is pasted into a `ratio(...)`)."""
    probe = f"agreement a {{ objective o {{ indicator ratio(x where {text}) }} }}"
    result = parse(probe)
    if result.diagnostics or len(result.module.decls) != 1:
        return False
    decl = result.module.decls[0]
    items = getattr(decl, "items", ())
    if len(items) != 1 or len(getattr(items[0], "attrs", ())) != 1:
        return False
    call = items[0].attrs[0].value
    return (isinstance(call, ast.Call) and len(call.args) == 1
            and isinstance(call.args[0], ast.Where))


def _seconds(text: str) -> int | None:
    m = SHORTHAND.match(str(text))
    if m is None or m.group(2) not in SHORTHAND_SECONDS:
        return None
    return int(m.group(1)) * SHORTHAND_SECONDS[m.group(2)]


def _number(d: Decimal) -> str:
    return format(d.normalize(), "f")


__all__ = ["field_name", "import_openslo"]
