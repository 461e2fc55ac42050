"""End-to-end helpers for the engine's semantic tests: a tiny estate and tiny tables in
`tmp_path`, one `audit`, and the JSON results by (agreement, objective, period).

Every report produced here is validated against the published JSON Schema
(`slang/schemas/audit-report.schema.json`, Draft 2020-12), so each semantic test also checks
the report's shape.

A test writes only its agreement (and any calendar it needs); the catalogue and the sources are
shared (`HEADER`):

- service `svc` (the one under test) and service `other` (whose rows must never count);
- `requests`: events, columns `ts`, `service`, and whatever the test passes (`status`, `method`,
  `latency_ms` in milliseconds, `approved`, ...);
- `incidents`: intervals `started_at` .. `resolved_at` (null: ongoing), `service`, `severity`;
- `maintenance`: intervals `start` .. `end`, `service`, `approved`;
- `tickets`: events at `opened_at`, `service`, `resolved_at` (null: open), ...;
- `beats`: events at `ts` without a key: every row counts for every agreement (the
  `service` column added to every table is not read).

Service `keyed` is `keyed-v2` in the data.

Columns are given as Python lists; instants as RFC 3339 strings (`"2026-10-05T10:00:00Z"`),
written as `timestamp[us, tz=UTC]`. A table without a `service` column gets `"svc"` on every
row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import slang
from slang.engine.audit import PeriodChoice, audit
from slang.report.audit_report import AuditReport

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "slang" / "schemas" / "audit-report.schema.json"
UTC_US = pa.timestamp("us", tz="UTC")
TIME_COLUMNS = {"ts", "started_at", "resolved_at", "start", "end", "opened_at"}

HEADER = """\
catalogue "Rules" {
  service svc   { title "Service under test" owner "team" }
  service other { title "Another service"    owner "team" }
  service keyed { title "Keyed in the data"  owner "team"  key "keyed-v2" }
}

events requests from "requests" {
  time  ts
  key   service
  units { latency_ms: ms }
}

intervals incidents from "incidents" {
  start started_at
  end   resolved_at
  key   service
}

intervals maintenance from "maintenance" {
  key service
}

events tickets from "tickets" {
  time opened_at
  key  service
}

events beats from "beats" {
  time ts
}
"""


def ts(text: str) -> dt.datetime:
    """An RFC 3339 instant as an aware datetime."""
    return dt.datetime.fromisoformat(text)


def agreement(body: str, *, name: str = "a", period: str = "monthly",
              timezone: str = "UTC", service: str = "svc", extra: str = "") -> str:
    """An agreed agreement on `service` with the given objectives/credits/exclusions `body`."""
    return (
        f"agreement {name} {{\n"
        f"  service  {service}\n"
        f"  status   agreed\n"
        f'  timezone "{timezone}"\n'
        f"  period   {period}\n"
        f"{extra}\n{body}\n}}\n"
    )


def _column(name: str, values: Any) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    if name in TIME_COLUMNS:
        if isinstance(values, np.ndarray):
            return pa.array(values.astype("datetime64[us]"), pa.timestamp("us")).cast(UTC_US)
        return pa.array([None if v is None else ts(v) if isinstance(v, str) else v
                         for v in values], UTC_US)
    return pa.array(values)


def table(columns: Mapping[str, Any]) -> pa.Table:
    cols = {k: _column(k, v) for k, v in columns.items()}
    n = len(next(iter(cols.values())))
    if "service" not in cols:
        cols["service"] = pa.array(["svc"] * n)
    return pa.table(cols)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@dataclass
class Audit:
    report: AuditReport
    doc: dict[str, Any]
    text: str

    @property
    def results(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(r["agreement"], r["objective"], r["period"]): r for r in self.doc["results"]}

    def periods(self, objective: str, agreement: str = "a") -> list[str]:
        return [r["period"] for r in self.doc["results"]
                if (r["agreement"], r["objective"]) == (agreement, objective)]

    def r(self, objective: str, period: str | None = None, agreement: str = "a"
          ) -> dict[str, Any]:
        """The result of one objective (in one period, or the only period)."""
        found = [r for r in self.doc["results"]
                 if (r["agreement"], r["objective"]) == (agreement, objective)
                 and (period is None or r["period"] == period)]
        assert len(found) == 1, f"{agreement}.{objective} {period}: {len(found)} results"
        return found[0]


@dataclass
class Estate:
    """Write policies and tables under one directory and audit them."""

    root: Path

    def run(
        self,
        policy: str,
        tables: Mapping[str, Mapping[str, Any] | pa.Table],
        *,
        as_of: str,
        period: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        extra_files: Sequence[tuple[str, str]] = (),
        include_drafts: bool = False,
    ) -> Audit:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "estate.sla"
        path.write_text(HEADER + "\n" + policy)
        for name, text in extra_files:
            (self.root / name).write_text(text)
        model = slang.load([path])
        assert not model.errors, "\n".join(str(d) for d in model.errors)
        data = {}
        for name, cols in tables.items():
            out = self.root / f"{name}.parquet"
            pq.write_table(cols if isinstance(cols, pa.Table) else table(cols), out)
            data[name] = str(out)
        choice = PeriodChoice(
            period=period,
            date_from=None if date_from is None else dt.date.fromisoformat(date_from),
            date_to=None if date_to is None else dt.date.fromisoformat(date_to),
        )
        report = audit(model, data, choice=choice, as_of=ts(as_of),
                       include_drafts=include_drafts)
        doc = report.to_dict()
        _validator().validate(doc)
        return Audit(report, doc, report.to_json())


@pytest.fixture
def estate(tmp_path: Path) -> Estate:
    return Estate(tmp_path / "estate")
