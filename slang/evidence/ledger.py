"""The audit ledger: an append-only, hash-chained record of delivered against agreed service.

`slang audit ... --ledger PATH` appends one entry per result (agreement x objective x period)
and one per agreement and period with its credit total, to a JSON Lines file. Each line is one
entry in canonical JSON (see `canonical`) and carries

    seq         its position, 1 for the first line
    prev        the `hash` of the entry before it (64 zeros for the first)
    hash        SHA-256 of the entry's canonical JSON without `hash` itself
    key         what it is a result for: `result/AGREEMENT/OBJECTIVE/PERIOD` or
                `credits/AGREEMENT/PERIOD`
    supersedes  the `hash` of the latest earlier entry with the same key, or null

so that changing, removing, inserting or reordering any entry breaks the chain at a line
`verify_ledger` names, and re-auditing a period appends a new entry that says which one it
replaces: nothing is ever rewritten. Deleting entries from the *end*, or rewriting the whole
file with fresh hashes, leaves a valid chain: the head hash (printed by every append) kept
elsewhere catches those (`--expect-head`).

Appends hold an exclusive `flock` on the ledger file for the whole read-verify-append, readers a
shared one, so two audits appending at once serialise instead of interleaving lines. An append
refuses to extend a ledger that does not verify (SLG0921); a ledger that cannot be opened is
SLG0920.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slang.diagnostics import SlangError, error
from slang.syntax.span import Span

LEDGER_VERSION = 1
GENESIS = "0" * 64
UNREADABLE = "SLG0920"
BROKEN = "SLG0921"
CHAIN_FIELDS = ("seq", "prev", "hash")


def canonical(entry: Mapping[str, Any]) -> str:
    """The one serialisation of an entry: keys sorted, no whitespace, UTF-8 without escapes,
    numbers as Python writes them (shortest round-trip form for floats), no NaN."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def _fail(code: str, message: str, path: str, hint: str | None = None) -> SlangError:
    return SlangError([error(code, message, Span(path, 0, 0, 0, 0), hint)])


# ------------------------------------------------------------------------------ entries


def report_entries(report: Any, evidence: str | None = None) -> list[dict[str, Any]]:
    """The ledger bodies of an audit report (chain fields are added on append): its results in
    report order, then per agreement and period the credits owed, after caps."""
    from slang.report.audit_report import result_dict

    doc = report.to_dict()
    audit = {
        "as_of": doc["as_of"],
        "slang_version": doc["slang_version"],
        "plan_sha256": doc["evidence"]["plan_sha256"],
        "policies_sha256": _listing([(p["path"], p["sha256"])
                                     for p in doc["evidence"]["policies"]]),
        "data": [{"name": n, "sha256": s} for n, s in
                 sorted({(d["name"], d["sha256"]) for d in doc["evidence"]["data"]})],
        "evidence": evidence,
    }
    out: list[dict[str, Any]] = []
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for r in report.results:
        row = result_dict(r)
        out.append({
            "kind": "result",
            "key": f"result/{row['agreement']}/{row['objective']}/{row['period']}",
            "agreement": row["agreement"], "customer": row["customer"],
            "service": row["service"], "objective": row["objective"],
            "period": row["period"], "period_start": row["period_start"],
            "period_end": row["period_end"], "complete": row["complete"],
            "timezone": r.agreement.timezone, "indicator": row["indicator"],
            "measured": row["measured"], "op": row["op"], "target": row["target"],
            "status": row["status"], "good": row["good"], "total": row["total"],
            "credit_percent": row["credit_percent"], "credit_amount": row["credit_amount"],
            "currency": row["currency"], "audit": audit,
        })
        if r.currency is not None and r.credit_amount is not None:
            total = totals.setdefault((row["agreement"], row["period"]), {
                "kind": "credits",
                "key": f"credits/{row['agreement']}/{row['period']}",
                "agreement": row["agreement"], "customer": row["customer"],
                "service": row["service"], "objective": None,
                "period": row["period"], "period_start": row["period_start"],
                "period_end": row["period_end"], "complete": row["complete"],
                "timezone": r.agreement.timezone, "currency": r.currency,
                "_sum": Decimal(0), "_adjustment": Decimal(0), "audit": audit,
            })
            total["_sum"] += r.credit_amount
            total["complete"] = total["complete"] and row["complete"]
    for a in report.adjustments:
        total = totals.get((a.agreement, a.period))
        if total is not None:
            total["_adjustment"] += a.amount
    for key in sorted(totals, key=lambda k: (k[0], totals[k]["period_start"])):
        total = totals[key]
        before, adjustment = total.pop("_sum"), total.pop("_adjustment")
        total["credits_before_cap"] = str(before)
        total["cap_adjustment"] = str(adjustment)
        total["credit_amount"] = str(before + adjustment)
        out.append(total)
    return out


def _listing(pairs: Iterable[tuple[str, str]]) -> str:
    text = "".join(f"{p}\t{s}\n" for p, s in sorted(pairs))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Problem:
    """The first entry that breaks the ledger: its line (1-based) and what is wrong."""

    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass
class LedgerCheck:
    path: str
    entries: list[dict[str, Any]] = field(default_factory=list)  # the valid prefix
    problem: Problem | None = None
    expected_head: str | None = None
    expected_at: int | None = None  # the line whose hash is the expected head

    @property
    def head(self) -> str:
        return self.entries[-1]["hash"] if self.entries else GENESIS

    @property
    def ok(self) -> bool:
        if self.problem is not None:
            return False
        return self.expected_head is None or self.expected_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ledger": self.path, "ok": self.ok, "entries": len(self.entries),
            "head": self.head, "problem": None if self.problem is None else
            self.problem.to_dict(), "expected_head": self.expected_head,
            "expected_head_line": self.expected_at,
        }


def check_chain(data: bytes, path: str) -> LedgerCheck:
    """Verify every line of a ledger's bytes; stop at the first bad one (after it nothing can
    be trusted)."""
    out = LedgerCheck(path)
    if not data:
        return out
    lines = data.split(b"\n")
    complete, last = lines[:-1], lines[-1]
    prev, seen = GENESIS, {}
    for number, raw in enumerate(complete, start=1):
        problem = _check_line(raw, number, prev, seen)
        if problem is not None:
            out.problem = problem
            return out
        entry = json.loads(raw)
        out.entries.append(entry)
        seen[entry["hash"]] = entry
        prev = entry["hash"]
    if last:
        out.problem = Problem(len(complete) + 1, "the last line is incomplete (no newline at "
                              "the end): a write was interrupted or the file was cut")
    return out


def _check_line(raw: bytes, number: int, prev: str,
                seen: Mapping[str, Mapping[str, Any]]) -> Problem | None:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Problem(number, "not a JSON entry (edited, or not a slang ledger)")
    if not isinstance(entry, dict) or any(k not in entry for k in (*CHAIN_FIELDS, "key")):
        return Problem(number, "not a ledger entry (seq, prev, hash and key are required)")
    try:
        text = canonical(entry)
    except (TypeError, ValueError):
        return Problem(number, "not a ledger entry (a value JSON cannot hold exactly)")
    if entry_hash(entry) != entry["hash"]:
        return Problem(number, "its content does not match its hash: the entry was edited")
    if text.encode("utf-8") != raw:
        return Problem(number, "not in canonical form: the line was edited (whitespace, key "
                       "order or number format)")
    seq = entry["seq"]
    if type(seq) is not int or seq != number:
        what = ("an entry before it was removed" if isinstance(seq, int) and seq > number
                else "it was inserted, or entries were reordered")
        return Problem(number, f"it says seq {seq} at line {number}: {what}")
    if entry["prev"] != prev:
        return Problem(number, f"its prev does not match the hash of line {number - 1}: the "
                       f"entry before it was changed, or entries were inserted, removed or "
                       "reordered")
    sup = entry.get("supersedes")
    if sup is not None and (sup not in seen or seen[sup].get("key") != entry["key"]):
        return Problem(number, "it supersedes an entry that is not an earlier entry for the "
                       "same key")
    return None


@contextmanager
def _locked(path: Path, mode: int, create: bool) -> Iterator[int]:
    """An open file descriptor of the ledger holding a `flock` of `mode`."""
    flags = os.O_RDWR | os.O_CREAT if create else os.O_RDONLY
    shown = path.as_posix()
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        hint = ("give the ledger file that `slang audit --ledger` writes" if not create else
                "check the directory exists and is writable")
        raise _fail(UNREADABLE, f"cannot open ledger `{shown}`: {exc.strerror or exc}", shown,
                    hint) from None
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _read_all(fd: int, shown: str) -> bytes:
    chunks = []
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError as exc:
        raise _fail(UNREADABLE, f"cannot read ledger `{shown}`: {exc.strerror or exc}",
                    shown) from None
    return b"".join(chunks)


def verify_ledger(path: str | os.PathLike[str], expect_head: str | None = None) -> LedgerCheck:
    """Check the whole chain (and, given `expect_head`, that the head kept elsewhere is the
    head or an entry of this ledger: a later append only extends it)."""
    p = Path(path)
    with _locked(p, fcntl.LOCK_SH, create=False) as fd:
        data = _read_all(fd, p.as_posix())
    out = check_chain(data, p.as_posix())
    if expect_head is not None:
        out.expected_head = expect_head
        if out.problem is None:
            at = [i for i, e in enumerate(out.entries, start=1) if e["hash"] == expect_head]
            out.expected_at = at[0] if at else (0 if expect_head == GENESIS else None)
    return out


def _refuse(check: LedgerCheck) -> SlangError:
    assert check.problem is not None
    return _fail(BROKEN, f"ledger `{check.path}` does not verify: line {check.problem.line}: "
                 f"{check.problem.message}", check.path,
                 f"run `slang ledger verify {check.path}` and restore the ledger from a copy "
                 "whose head hash you kept; nothing is appended to, or shown from, a broken "
                 "ledger")


def read_verified(path: str | os.PathLike[str]) -> LedgerCheck:
    """The entries of a ledger that verifies; SLG0921 if it does not."""
    check = verify_ledger(path)
    if check.problem is not None:
        raise _refuse(check)
    return check


def precheck(path: str | os.PathLike[str]) -> None:
    """Before an audit: a ledger that exists must verify, so the audit's work is not wasted."""
    p = Path(path)
    if p.exists():
        read_verified(p)
    elif not p.absolute().parent.is_dir():
        shown = p.as_posix()
        raise _fail(UNREADABLE, f"cannot create ledger `{shown}`: its directory does not exist",
                    shown, "create the directory first, or give another --ledger path")


# ------------------------------------------------------------------------------ appending


@dataclass(frozen=True)
class Appended:
    first: int
    last: int
    head: str
    superseded: int


def append_entries(path: str | os.PathLike[str], bodies: Sequence[Mapping[str, Any]]
                   ) -> Appended:
    """Append entries (without chain fields) under an exclusive lock; return the new head."""
    p = Path(path)
    shown = p.as_posix()
    with _locked(p, fcntl.LOCK_EX, create=True) as fd:
        check = check_chain(_read_all(fd, shown), shown)
        if check.problem is not None:
            raise _refuse(check)
        latest = {e["key"]: e["hash"] for e in check.entries}
        prev, seq = check.head, len(check.entries)
        lines, superseded = [], 0
        for body in bodies:
            seq += 1
            entry = {k: v for k, v in body.items() if k not in (*CHAIN_FIELDS, "supersedes")}
            entry.update({"ledger_version": LEDGER_VERSION, "seq": seq, "prev": prev,
                          "supersedes": latest.get(body["key"])})
            superseded += entry["supersedes"] is not None
            entry["hash"] = entry_hash(entry)
            latest[body["key"]] = prev = entry["hash"]
            lines.append(canonical(entry) + "\n")
        try:
            os.lseek(fd, 0, os.SEEK_END)
            payload = "".join(lines).encode("utf-8")
            while payload:
                written = os.write(fd, payload)
                payload = payload[written:]
            os.fsync(fd)
        except OSError as exc:
            raise _fail(UNREADABLE, f"cannot append to ledger `{shown}`: "
                        f"{exc.strerror or exc}", shown) from None
    return Appended(len(check.entries) + 1, seq, prev, superseded)


# ------------------------------------------------------------------------------ showing


def current(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Entries no later entry supersedes, in ledger order."""
    replaced = {e.get("supersedes") for e in entries}
    return [e for e in entries if e["hash"] not in replaced]


def select(entries: Sequence[Mapping[str, Any]], *, agreements: Sequence[str] = (),
           date_from: dt.date | None = None, date_to: dt.date | None = None,
           everything: bool = False) -> list[Mapping[str, Any]]:
    """The entries `ledger show` prints: current ones (or all), of the given agreements, whose
    period starts within [from, to] in the agreement's time zone."""
    chosen = list(entries) if everything else current(entries)
    if agreements:
        chosen = [e for e in chosen if e.get("agreement") in agreements]
    if date_from is not None or date_to is not None:
        chosen = [e for e in chosen if _starts_within(e, date_from, date_to)]
    return chosen


def _starts_within(e: Mapping[str, Any], lo: dt.date | None, hi: dt.date | None) -> bool:
    start = dt.datetime.fromisoformat(str(e.get("period_start", "")).replace("Z", "+00:00"))
    day = start.astimezone(ZoneInfo(str(e.get("timezone") or "UTC"))).date()
    return (lo is None or day >= lo) and (hi is None or day <= hi)


SHOW_COLUMNS = ("seq", "agreement", "objective", "period", "measured", "target", "status",
                "credit", "as of", "note")


def _row(e: Mapping[str, Any], superseded_by: Mapping[str, int],
         seq_of: Mapping[str, int]) -> list[str]:
    from slang.report.render import fmt_value

    if e.get("kind") == "credits":
        objective, measured, target = "(credits owed)", "", ""
        status = ""
        credit = f"{e.get('credit_amount')} {e.get('currency')}"
    else:
        objective = str(e.get("objective"))
        measured = fmt_value(e.get("measured"), str(e.get("indicator")))
        target = f"{e.get('op')} {fmt_value(e.get('target'), str(e.get('indicator')))}"
        status = str(e.get("status"))
        credit = "-"
        if e.get("credit_percent"):
            credit = f"{e['credit_percent']}%"
            if e.get("credit_amount") is not None:
                credit += f" = {e['credit_amount']} {e.get('currency')}"
    notes = []
    if not e.get("complete", True):
        notes.append("running")
    if e.get("supersedes"):
        notes.append(f"supersedes {seq_of.get(e['supersedes'], '?')}")
    if e["hash"] in superseded_by:
        notes.append(f"superseded by {superseded_by[e['hash']]}")
    return [str(e["seq"]), str(e.get("agreement")), objective, str(e.get("period")), measured,
            target, status, credit, str(e.get("audit", {}).get("as_of", "")), ", ".join(notes)]


def _superseded_by(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {e["supersedes"]: e["seq"] for e in entries if e.get("supersedes")}


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def credit_totals(check: LedgerCheck, shown: Sequence[Mapping[str, Any]]
                  ) -> list[dict[str, Any]]:
    """Credits owed per agreement and currency over the shown periods, from their current
    `credits` entries only (a superseded total was replaced, so it never counts twice)."""
    replaced = set(_superseded_by(check.entries))
    sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for e in shown:
        if e.get("kind") != "credits" or e["hash"] in replaced:
            continue
        key = (str(e.get("agreement")), str(e.get("currency")))
        amount, periods = sums.get(key, (Decimal(0), 0))
        sums[key] = (amount + Decimal(str(e.get("credit_amount"))), periods + 1)
    return [{"agreement": a, "currency": c, "amount": str(v), "periods": n}
            for (a, c), (v, n) in sorted(sums.items())]


def _totals_lines(totals: Sequence[Mapping[str, Any]], bullet: str) -> list[str]:
    if not totals:
        return []
    lines = ["credits owed over the periods shown (latest audits):"]
    lines += [f"{bullet}{t['agreement']}: {t['amount']} {t['currency']} "
              f"({t['periods']} {'period' if t['periods'] == 1 else 'periods'})"
              for t in totals]
    return ["", *lines]


def render_show(check: LedgerCheck, shown: Sequence[Mapping[str, Any]], fmt: str,
                everything: bool) -> str:
    by = _superseded_by(check.entries)
    which = "entries" if everything else "current entries"
    totals = credit_totals(check, shown)
    if fmt == "json":
        doc = {"ledger": check.path, "head": check.head, "entries_total": len(check.entries),
               "all": everything, "entries": list(shown), "credit_totals": totals}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    seq_of = {e["hash"]: e["seq"] for e in check.entries}
    rows = [_row(e, by, seq_of) for e in shown]
    if fmt == "markdown":
        out = [f"# Audit ledger `{check.path}`", "",
               f"{len(check.entries)} entries, head `{check.head}`; {len(shown)} {which} "
               "shown.", ""]
        header = [c.capitalize() for c in SHOW_COLUMNS]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join("---" for _ in header) + "|")
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        out += _totals_lines(totals, "- ")
        return "\n".join(out) + "\n"
    out = [f"ledger {check.path}: {len(check.entries)} entries, head {check.head}", ""]
    out += _table([c.upper() for c in SHOW_COLUMNS], rows)
    out += _totals_lines(totals, "  ")
    out += ["", f"{len(shown)} {which} shown"]
    return "\n".join(out) + "\n"


def render_verify(check: LedgerCheck, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(check.to_dict(), indent=2, ensure_ascii=False) + "\n"
    n = len(check.entries)
    if check.problem is not None:
        return (f"ledger {check.path} does NOT verify: line {check.problem.line}: "
                f"{check.problem.message}\n"
                f"  the {n} entries before it chain correctly (head {check.head})\n")
    lines = [f"ledger {check.path}: {n} entries, chain intact, head {check.head}"]
    if check.expected_head is not None:
        if check.expected_at is None:
            lines = [f"ledger {check.path} does NOT verify: the expected head "
                     f"{check.expected_head} is not in it: the ledger was rewritten, or "
                     f"entries were removed from its end (its head is {check.head})"]
        elif check.expected_at == n:
            lines.append("  the head is the expected one")
        else:
            lines.append(f"  the expected head is line {check.expected_at}; {n - check.expected_at}"
                         " entries were appended after it")
    return "\n".join(lines) + "\n"
