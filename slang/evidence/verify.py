"""`slang verify DIR`: re-run an evidence bundle and confirm it, or say exactly what differs.

The bundle's own policies are loaded (from `DIR/policies/`, so they are named as in the original
report), the data is read from the paths the manifest records (relative to the directory the
audit ran in) or from `--data`/`--bind` bindings given now, and the audit is run again with the
manifest's `--as-of`, period selection and drafts setting. The regenerated `report.json`,
`report.txt` and `plan.json` must be byte-identical to the bundle's.

When they are not, the differences are listed by what caused them, most basic first: a bundle
file that no longer matches the manifest's hash, a policy that changed, a different engine
version, a data file whose hash changed (old and new hash, old and new row count), a different
plan, and then every result whose values differ (field by field), results that appeared or
disappeared, adjustments and totals. Differences in Python, pyarrow, the tz database or holiday
data are *notes*: they explain a difference in results but are not one.

A bundle that cannot be read is not a finding but an error (exit 2): no directory or manifest
(SLG0910), a manifest that is not valid JSON or not a manifest (SLG0911), a file the manifest
lists that is missing (SLG0912).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files as package_files
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema

from slang.diagnostics import Diagnostic, SlangError, error
from slang.evidence.bundle import (
    MANIFEST,
    MANIFEST_VERSION,
    PLAN,
    POLICIES,
    REPORT_JSON,
    REPORT_TEXT,
    shown_path,
)
from slang.evidence.environment import holiday_data, tz_database, versions
from slang.syntax.span import Span

NOT_A_BUNDLE = "SLG0910"
DAMAGED_MANIFEST = "SLG0911"
MISSING_FILE = "SLG0912"
REGENERATED = (REPORT_JSON, REPORT_TEXT, PLAN)


@dataclass(frozen=True)
class Finding:
    """One difference between the bundle and the re-run. `failing` findings make `verify`
    exit 1; the others are notes that may explain them."""

    kind: str
    subject: str
    message: str
    old: Any = None
    new: Any = None
    failing: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message,
                "old": self.old, "new": self.new, "failing": self.failing}


@dataclass
class Verification:
    """What `verify` found. `problems` are diagnostics of a re-run that could not happen
    (policies that no longer load, data that cannot be read)."""

    bundle: str
    manifest: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    results: int = 0

    @property
    def identical(self) -> bool:
        return not self.problems and not any(f.failing for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "identical": self.identical,
            "as_of": self.manifest.get("as_of"),
            "results": self.results,
            "findings": [f.to_dict() for f in self.findings],
            "problems": [d.to_dict() for d in self.problems],
        }


# ------------------------------------------------------------------------------ reading


def _span(path: str) -> Span:
    return Span(path, 0, 0, 0, 0)


@cache
def manifest_schema() -> dict[str, Any]:
    text = package_files("slang").joinpath("schemas", "evidence-manifest.schema.json")
    return json.loads(text.read_text("utf-8"))  # type: ignore[no-any-return]


def read_manifest(bundle: Path) -> dict[str, Any]:
    """The bundle's manifest, checked against its schema; SlangError when it is not usable."""
    shown = bundle.as_posix()
    if not bundle.is_dir():
        what = "is a file" if bundle.exists() else "does not exist"
        raise SlangError([error(NOT_A_BUNDLE, f"`{shown}` {what}: an evidence bundle is a "
                                "directory", _span(shown),
                                "give the directory written by `slang audit ... --evidence DIR`")])
    path = bundle / MANIFEST
    where = path.as_posix()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SlangError([error(NOT_A_BUNDLE, f"`{shown}` is not an evidence bundle: cannot "
                                f"read {MANIFEST}: {exc.strerror or exc}", _span(shown),
                                "give the directory written by `slang audit ... --evidence DIR`")
                          ]) from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line, col = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (0, 0)
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise SlangError([error(DAMAGED_MANIFEST, f"{MANIFEST} is not valid JSON: {reason}",
                                Span(where, line, col, line, col + 1) if line else _span(where),
                                "the bundle is damaged; use an intact copy of it")]) from None
    if isinstance(doc, dict) and doc.get("manifest_version") not in (None, MANIFEST_VERSION):
        raise SlangError([error(DAMAGED_MANIFEST, f"{MANIFEST} has manifest_version "
                                f"{doc.get('manifest_version')!r}; this slang reads version "
                                f"{MANIFEST_VERSION}", _span(where),
                                "verify the bundle with the slang version that wrote it")])
    validator = jsonschema.Draft202012Validator(manifest_schema())
    problems = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.path])
    if problems:
        raise SlangError([
            error(DAMAGED_MANIFEST, f"{MANIFEST} is not an evidence manifest: "
                  f"{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}",
                  _span(where), "the bundle is damaged; use an intact copy of it")
            for e in problems[:5]
        ])
    return doc  # type: ignore[no-any-return]


def _bundle_bytes(bundle: Path, manifest: Mapping[str, Any]) -> dict[str, bytes]:
    """Every file the manifest lists, read; SLG0912 for those missing."""
    out: dict[str, bytes] = {}
    diags = []
    for entry in manifest["files"]:
        rel = entry["path"]
        try:
            out[rel] = bundle.joinpath(*PurePosixPath(rel).parts).read_bytes()
        except OSError as exc:
            diags.append(error(MISSING_FILE, f"`{rel}` of the bundle cannot be read: "
                               f"{exc.strerror or exc}", _span(bundle.as_posix()),
                               "the bundle is incomplete; use an intact copy of it"))
    listed = {e["path"] for e in manifest["files"]}
    for p in manifest["policies"]:
        if p["bundled"] not in listed:
            diags.append(error(MISSING_FILE, f"{MANIFEST} names policy `{p['path']}` at "
                               f"`{p['bundled']}` but does not list that file",
                               _span(bundle.as_posix()), "the bundle is damaged"))
    for name in REGENERATED:
        if name not in listed:
            diags.append(error(MISSING_FILE, f"{MANIFEST} does not list `{name}`",
                               _span(bundle.as_posix()), "the bundle is damaged"))
    if diags:
        raise SlangError(diags)
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------ verify


def verify_bundle(bundle: str | os.PathLike[str],
                  overrides: Mapping[str, str] | None = None,
                  expect_manifest: str | None = None) -> Verification:
    """Re-run the bundle at `bundle` and compare (see the module docstring). `overrides` binds
    tables to other paths than the manifest's (`{table: path}`), e.g. after data moved.
    `expect_manifest` is the manifest hash the audit printed, kept elsewhere: a manifest
    rewritten to match edited files no longer has it. Raises SlangError (SLG0910-SLG0912) for
    a bundle that cannot be read."""
    root = Path(bundle)
    manifest = read_manifest(root)
    contents = _bundle_bytes(root, manifest)
    out = Verification(root.as_posix(), manifest)
    if expect_manifest is not None:
        actual = _sha((root / MANIFEST).read_bytes())
        if actual != expect_manifest:
            out.findings.append(Finding(
                "manifest_changed", MANIFEST, f"{MANIFEST} is not the one the audit wrote: its "
                f"sha256 is {_short(actual)}, not the expected {_short(expect_manifest)}",
                expect_manifest, actual))
    out.findings += _file_findings(manifest, contents)
    out.findings += _policy_findings(manifest, contents)
    out.findings += _environment_findings(manifest)
    report = _rerun(root, manifest, dict(overrides or {}), out)
    if report is None:
        return out
    doc = report.to_dict()
    _keep_recorded_paths(doc, manifest, overrides or {})
    out.results = len(doc["results"])
    old_doc = _json_or_none(contents[REPORT_JSON])
    out.findings += _report_findings(old_doc, doc)
    out.findings += _holiday_findings(manifest, report.plan.to_dict())
    out.findings += _regenerated_findings(contents, doc, report, out.findings)
    return out


def _file_findings(manifest: Mapping[str, Any], contents: Mapping[str, bytes]) -> list[Finding]:
    """Bundle files (other than policies, which get their own findings) whose bytes no longer
    match the manifest."""
    policies = {p["bundled"] for p in manifest["policies"]}
    out = []
    for entry in manifest["files"]:
        rel = entry["path"]
        if rel in policies:
            continue
        actual = _sha(contents[rel])
        if actual != entry["sha256"]:
            out.append(Finding("bundle_file_changed", rel,
                               f"{rel} was changed after the bundle was written",
                               entry["sha256"], actual))
    return out


def _policy_findings(manifest: Mapping[str, Any], contents: Mapping[str, bytes]) -> list[Finding]:
    """Bundled policies whose bytes differ from the manifest's hash; standard-library modules
    that differ in the installed slang (verify imports those, it does not read the bundle's)."""
    from slang.resources import stdlib_dir

    out = []
    for p in manifest["policies"]:
        if p["bundled"].startswith(f"{POLICIES}/"):
            actual = _sha(contents[p["bundled"]])
            where = "in the bundle"
        else:
            std = stdlib_dir() / p["path"].removeprefix("std/")
            try:
                actual = _sha(std.read_bytes())
            except OSError:
                actual = None
            where = "in the installed standard library"
        if actual != p["sha256"]:
            out.append(Finding("policy_changed", p["path"],
                               f"policy {p['path']} differs {where}", p["sha256"], actual))
    return out


def _environment_findings(manifest: Mapping[str, Any]) -> list[Finding]:
    """A different slang is a difference (it may compute differently, and the report names its
    version); Python, pyarrow and the tz database are notes."""
    out = []
    now = versions()
    for name, old in manifest["versions"].items():
        new = now.get(name)
        if new != old:
            engine = name == "slang"
            out.append(Finding("version_changed" if engine else "environment_changed", name,
                               f"{name} {old} -> {new}", old, new, failing=engine))
    old_tz, new_tz = manifest["tz_database"], tz_database()
    if (old_tz["source"], old_tz["version"]) != (new_tz["source"], new_tz["version"]):
        out.append(Finding("environment_changed", "tz_database",
                           f"tz database {old_tz['source']} {old_tz['version']} -> "
                           f"{new_tz['source']} {new_tz['version']}", old_tz, new_tz,
                           failing=False))
    return out


def _holiday_findings(manifest: Mapping[str, Any], plan_doc: dict[str, Any]) -> list[Finding]:
    old, new = manifest["holiday_data"], holiday_data(plan_doc)
    if old == new:
        return []
    return [Finding("environment_changed", "holiday_data", "holiday data differs", old, new,
                    failing=False)]


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _rerun(root: Path, manifest: Mapping[str, Any], overrides: dict[str, str],
           out: Verification) -> Any:
    """The audit again, from the bundle's policies; None (with `out.problems`) if it fails."""
    from slang.engine.audit import PeriodChoice, audit
    from slang.engine.bindings import Binding
    from slang.semantics import load

    entries = [p["bundled"].removeprefix(f"{POLICIES}/") for p in manifest["policies"]
               if p["origin"] != "import" and p["bundled"].startswith(f"{POLICIES}/")]
    if not entries or not (root / POLICIES).is_dir():
        raise SlangError([error(MISSING_FILE, f"the bundle holds no policy files to re-run "
                                f"(no `{POLICIES}/` entries in {MANIFEST}, or no `{POLICIES}/` "
                                "directory)", _span(root.as_posix()),
                                "the bundle is damaged; use an intact copy of it")])
    with _working_directory(root / POLICIES):
        model = load(entries, tests=False)
    model.files = [replace(f, path=shown_path(f.path)) for f in model.files]
    out.findings += _loaded_set_findings(manifest, [f.path for f in model.files])
    if model.errors:
        out.problems = model.errors
        return None
    tables: dict[str, str] = {}
    for d in manifest["data"]:
        if d["binding"] is not None:
            tables[d["name"]] = Binding(d["binding"], d["format"])
    tables.update(overrides)
    sel = manifest["selection"]
    choice = PeriodChoice(sel["period"],
                          None if sel["from"] is None else dt.date.fromisoformat(sel["from"]),
                          None if sel["to"] is None else dt.date.fromisoformat(sel["to"]))
    as_of = dt.datetime.fromisoformat(manifest["as_of"].replace("Z", "+00:00"))
    try:
        return audit(model, tables, choice=choice, as_of=as_of,
                     include_drafts=sel["include_drafts"])
    except SlangError as exc:
        out.problems = exc.diagnostics
        return None


def _loaded_set_findings(manifest: Mapping[str, Any], loaded: list[str]) -> list[Finding]:
    """Files the re-run loaded that the audit did not (an import added) and the reverse."""
    recorded = {p["path"] for p in manifest["policies"]}
    now = set(loaded)
    out = [Finding("policy_added", p, f"policy {p} is loaded now but was not in the audit",
                   None, p) for p in sorted(now - recorded)]
    out += [Finding("policy_removed", p, f"policy {p} was in the audit but is not loaded now",
                    p, None) for p in sorted(recorded - now)]
    return out


def _keep_recorded_paths(doc: dict[str, Any], manifest: Mapping[str, Any],
                         overrides: Mapping[str, str]) -> None:
    """Data read from an overriding binding is named by the path the audit recorded: moving the
    data is not a difference, changing it is (its hash says so)."""
    recorded = {d["name"]: d["path"] for d in manifest["data"]}
    for entry in doc["evidence"]["data"]:
        if entry["name"] in overrides:
            entry["path"] = recorded.get(entry["name"], entry["path"])


def _json_or_none(data: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


# ------------------------------------------------------------------------------ comparing


def _report_findings(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Finding]:
    if old is None:
        return [Finding("report_changed", REPORT_JSON, f"{REPORT_JSON} is not a JSON report")]
    out: list[Finding] = []
    old_ev, new_ev = old.get("evidence", {}), new["evidence"]
    out += _data_findings(old_ev.get("data", []), new_ev["data"])
    if old_ev.get("plan_sha256") != new_ev["plan_sha256"]:
        out.append(Finding("plan_changed", "plan", "the compiled plan differs (the policies "
                           "mean something else)", old_ev.get("plan_sha256"),
                           new_ev["plan_sha256"]))
    out += _result_findings(old.get("results", []), new["results"])
    if old.get("adjustments") != new["adjustments"]:
        out.append(Finding("adjustments_changed", "adjustments", "credit cap adjustments differ",
                           old.get("adjustments"), new["adjustments"]))
    old_sum = old.get("summary", {})
    for key, value in new["summary"].items():
        if old_sum.get(key) != value:
            out.append(Finding("summary_changed", f"summary.{key}",
                               f"summary {key}: {_show(old_sum.get(key))} -> {_show(value)}",
                               old_sum.get(key), value))
    return out


def _data_findings(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Finding]:
    # Two sources may share a name (one per module) and read the same table: entries are
    # matched in order within each (table, source) pair.
    before: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for d in old:
        before.setdefault((d.get("name"), d.get("source")), []).append(d)
    out = []
    for d in new:
        key = (d["name"], d["source"])
        was = before[key].pop(0) if before.get(key) else None
        if was is None:
            out.append(Finding("data_added", d["name"], f"table {d['name']} is read now but "
                               "was not in the audit", None, d["sha256"]))
            continue
        if was.get("sha256") != d["sha256"] or was.get("rows") != d["rows"]:
            out.append(Finding(
                "data_changed", d["name"],
                f"data {d['name']} ({d['path']}) changed: sha256 {_short(was.get('sha256'))} -> "
                f"{_short(d['sha256'])}, rows {was.get('rows')} -> {d['rows']}"
                + _dataset_changes(was.get("files"), d.get("files")),
                {"sha256": was.get("sha256"), "rows": was.get("rows"),
                 "files": was.get("files")},
                {"sha256": d["sha256"], "rows": d["rows"], "files": d.get("files")}))
        elif was != d:
            out.append(Finding("data_changed", d["name"], f"data {d['name']}: evidence differs "
                               "(path, coverage or skipped rows)", was, d))
    for (name, _), left in before.items():
        out += [Finding("data_removed", str(name), f"table {name} was in the audit but is not "
                        "read now", was.get("sha256"), None) for was in left]
    # A table read by two sources changed once: say so once.
    unique: dict[str, Finding] = {}
    for f in out:
        unique.setdefault(f.message, f)
    return list(unique.values())


def _dataset_changes(old: list[list[str]] | None, new: list[list[str]] | None) -> str:
    """Which files of a dataset (a directory or glob) changed, appeared or disappeared."""
    if not old or not new:
        return ""
    before, after = dict(map(tuple, old)), dict(map(tuple, new))
    parts = []
    changed = sorted(f for f in before.keys() & after.keys() if before[f] != after[f])
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    for label, names in (("changed", changed), ("added", added), ("removed", removed)):
        if names:
            parts.append(f"files {label}: {', '.join(names)}")
    return "; " + "; ".join(parts) if parts else ""


def _result_key(r: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(r.get("agreement")), str(r.get("objective")), str(r.get("period")))


def _result_findings(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Finding]:
    before = {_result_key(r): r for r in old}
    out = []
    for r in new:
        key = _result_key(r)
        subject = f"{key[0]}.{key[1]} {key[2]}"
        was = before.pop(key, None)
        if was is None:
            out.append(Finding("result_added", subject, f"{subject}: a result the audit did "
                               "not have", None, r))
            continue
        changed = {k: (was.get(k), v) for k, v in r.items() if was.get(k) != v}
        changed.update({k: (v, None) for k, v in was.items() if k not in r})
        if changed:
            text = ", ".join(f"{k} {_show(a)} -> {_show(b)}" for k, (a, b) in changed.items())
            out.append(Finding("result_changed", subject, f"{subject}: {text}",
                               {k: a for k, (a, _) in changed.items()},
                               {k: b for k, (_, b) in changed.items()}))
    for key, was in before.items():
        subject = f"{key[0]}.{key[1]} {key[2]}"
        out.append(Finding("result_removed", subject, f"{subject}: in the audit, not in the "
                           "re-run", was, None))
    return out


def _regenerated_findings(contents: Mapping[str, bytes], doc: dict[str, Any], report: Any,
                          found: list[Finding]) -> list[Finding]:
    """The regenerated files must equal the bundle's byte for byte. A difference that nothing
    above explains (an edited number in report.txt, reformatted JSON) is reported here."""
    from slang.report.render import RENDERERS

    view = _DocView(doc)
    regenerated = {
        REPORT_JSON: (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        REPORT_TEXT: RENDERERS["text"](view).encode("utf-8"),
        PLAN: report.plan.to_json().encode("utf-8"),
    }
    explained = any(f.failing for f in found)
    out = []
    for name, data in regenerated.items():
        if contents[name] != data and not explained:
            at = _first_difference(contents[name], data)
            out.append(Finding("report_changed", name, f"{name} differs from the re-run "
                               f"(first difference at byte {at})", _sha(contents[name]),
                               _sha(data)))
    return out


class _DocView:
    """A report dict that renderers can read as they read an `AuditReport`."""

    def __init__(self, doc: dict[str, Any]):
        self._doc = doc

    def to_dict(self) -> dict[str, Any]:
        return self._doc


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _short(sha: Any) -> str:
    return str(sha)[:12] if sha else "-"


def _show(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v


# ------------------------------------------------------------------------------ rendering


def render_text(v: Verification) -> str:
    failing = [f for f in v.findings if f.failing]
    notes = [f for f in v.findings if not f.failing]
    lines = []
    if v.identical:
        lines.append(f"verified {v.bundle}: identical ({v.results} results as of "
                     f"{v.manifest['as_of']}, report, text and plan byte-identical)")
    else:
        count = len(failing) + len(v.problems)
        lines.append(f"NOT verified {v.bundle}: {count} "
                     f"{'difference' if count == 1 else 'differences'}")
    width = max((len(f.kind) for f in v.findings), default=0)
    for f in failing:
        lines.append(f"  {f.kind.ljust(width)}  {f.message}")
    for f in notes:
        lines.append(f"  note: {f.message}")
    if v.problems:
        lines.append("  the audit could not be re-run:")
        lines += [f"    {d.span.file}: error[{d.code}]: {d.message}" for d in v.problems]
    return "\n".join(lines) + "\n"


def render_json(v: Verification) -> str:
    return json.dumps(v.to_dict(), indent=2, ensure_ascii=False) + "\n"
