"""Shared setup for the review report's tests: the demo data once per session, reviews of the
example estate at the README's `--as-of`, and a tiny estate whose strings are hostile."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import slang
from slang.engine.audit import PeriodChoice
from slang.engine.bindings import load_bindings_file, merge_bindings
from slang.report.review import ReviewReport, review

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-15T00:00:00Z"
AS_OF_DT = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
GOLDEN = REPO / "tests" / "golden"


@cache
def estate() -> slang.Model:
    return slang.load([str(REPO / "policies")])


def demo_review(bindings: Path, *, period: str | None = None,
                date_from: str | None = None, date_to: str | None = None,
                customer: str | None = None) -> ReviewReport:
    choice = PeriodChoice(period, dt.date.fromisoformat(date_from) if date_from else None,
                          dt.date.fromisoformat(date_to) if date_to else None)
    tables = merge_bindings(load_bindings_file(str(bindings)))
    return review(estate(), tables, choice=choice, as_of=AS_OF_DT, customer=customer)


HOSTILE_TITLE = '<script>alert("title")</script>'
HOSTILE_CUSTOMER = 'R&D "Labs" <b>bold</b>'
HOSTILE_REASON = "<img src=x onerror=alert(1)> & *not emphasis* | pipe"
HOSTILE_DESCRIPTION = "# not a heading </svg></table> `tick`"


def _quoted(text: str) -> str:
    return text.replace('"', '\\"')


_TITLE = _quoted(HOSTILE_TITLE)
_CUSTOMER = _quoted(HOSTILE_CUSTOMER)

HOSTILE_POLICY = f'''\
catalogue "Hostile" {{
  service svc {{
    title      "{_TITLE}"
    owner      "team <x>"
    tier       gold
  }}
}}

events requests from "requests" {{
  time ts
  key  service
}}

agreement hostile {{
  service     svc
  customer    "{_CUSTOMER}"
  provider    "Ops"
  description "{HOSTILE_DESCRIPTION}"
  status      agreed
  effective   2026-01-01 .. 2026-12-31
  timezone    "UTC"
  period      monthly
  fee         1000.00 GBP

  exclude 2026-10-03T00:00:00Z .. 2026-10-03T01:00:00Z "{HOSTILE_REASON}"

  objective availability {{
    description "</title><script>x()</script>"
    indicator   ratio(requests where status < 500)
    target      >= 99%
  }}

  credit availability {{
    below 99% => 10%
  }}
}}
'''


def write_hostile(tmp: Path) -> tuple[Path, Path]:
    """The hostile estate and a CSV of October 2026 requests: 200 requests, 4 server errors,
    so availability is 98 % (breached: 10 % of 1000.00 GBP = 100.00 GBP)."""
    policy = tmp / "hostile.sla"
    policy.write_text(HOSTILE_POLICY, encoding="utf-8")
    rows = ["ts,service,status"]
    for i in range(200):
        ts = dt.datetime(2026, 10, 5, tzinfo=dt.UTC) + dt.timedelta(minutes=7 * i)
        rows.append(f"{ts.strftime('%Y-%m-%dT%H:%M:%SZ')},svc,{503 if i % 50 == 0 else 200}")
    data = tmp / "requests.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return policy, data
