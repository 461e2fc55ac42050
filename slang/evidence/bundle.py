"""The evidence bundle: everything an auditor needs to re-run an audit and confirm its numbers.

`slang audit ... --evidence DIR` writes, into a new or empty directory:

    manifest.json        what was run, on what, with which hashes (evidence-manifest.schema.json)
    report.json          the normative audit report
    report.txt           the same report as text, for people
    plan.json            the compiled evaluation plan
    policies/PATH        every policy file the audit loaded, byte for byte, under the path the
                         report names it by (relative to the directory slang ran in)
    stdlib/NAME.sla      the standard-library modules imported, for the record

Nothing in it depends on the clock or on where it is written: the same policies, data, `--as-of`
and environment give byte-identical files. The one field about the run itself is the manifest's
`command` (the command line, which names DIR). The directory is written in a temporary sibling
and renamed into place, so a bundle is either complete or absent.

A policy shown by an absolute path (it lies outside the directory slang ran in) is kept under
`policies/_absolute/...`; `slang verify` maps it back.

Codes: SLG0901 (the bundle cannot be written). Reading a bundle is `slang.evidence.verify`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from slang.diagnostics import SlangError, error
from slang.engine.bindings import Binding
from slang.evidence.environment import (
    holiday_data,
    repository_state,
    tz_database,
    versions,
)
from slang.evidence.provenance import Provenance
from slang.report.audit_report import AuditReport, rfc3339
from slang.resources import stdlib_dir
from slang.semantics import model as m
from slang.syntax.span import Span

MANIFEST_VERSION = 1
MANIFEST = "manifest.json"
REPORT_JSON = "report.json"
REPORT_TEXT = "report.txt"
PLAN = "plan.json"
POLICIES = "policies"
STDLIB = "stdlib"
ABSOLUTE = "_absolute"
STD_PREFIX = "std/"
UNUSABLE = "SLG0901"


@dataclass(frozen=True)
class Selection:
    """Which periods were audited and whether drafts were: what `verify` must ask for again."""

    period: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    include_drafts: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "from": self.date_from, "to": self.date_to,
                "include_drafts": self.include_drafts}


def _fail(message: str, hint: str | None = None) -> SlangError:
    return SlangError([error(UNUSABLE, message, Span("<command line>", 0, 0, 0, 0), hint)])


# ------------------------------------------------------------------------------ layout


def bundled_path(shown: str) -> str:
    """Where a policy file lives inside the bundle, from the path the report names it by."""
    if shown.startswith(STD_PREFIX):
        return f"{STDLIB}/{shown[len(STD_PREFIX):]}"
    posix = PurePosixPath(shown)
    if posix.is_absolute():
        return f"{POLICIES}/{ABSOLUTE}/{'/'.join(posix.parts[1:])}"
    return f"{POLICIES}/{posix.as_posix()}"


def shown_path(bundled: str) -> str:
    """The inverse of `bundled_path` for a file loaded from the bundle's `policies/`: the name
    the original report gave it."""
    prefix = f"{ABSOLUTE}/"
    return "/" + bundled[len(prefix):] if bundled.startswith(prefix) else bundled


def check_target(directory: Path) -> None:
    """DIR must be new or empty: a bundle is never merged with, or written over, other files.
    Checked before the audit runs, so a wrong DIR costs nothing."""
    if directory.is_file():
        raise _fail(f"--evidence `{directory.as_posix()}` is a file, not a directory",
                    "give a new or empty directory for the evidence bundle")
    if directory.is_dir() and any(directory.iterdir()):
        raise _fail(f"--evidence directory `{directory.as_posix()}` is not empty",
                    "give a new or empty directory: a bundle is never written over other "
                    "files (move the old bundle away, or choose e.g. evidence/2026-10)")


# ------------------------------------------------------------------------------ contents


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def policy_bytes(files: Sequence[m.PolicyFile], blobs: Mapping[str, bytes]) -> dict[str, bytes]:
    """The exact bytes of every loaded policy file, checked against the hash the audit used."""
    out: dict[str, bytes] = {}
    for f in files:
        data = blobs.get(f.path)
        if data is None:
            try:
                data = Path(f.abspath).read_bytes()
            except OSError as exc:
                raise _fail(f"cannot read policy `{f.path}` for the evidence bundle: "
                            f"{exc.strerror or exc}") from None
        if sha256_bytes(data) != f.sha256:
            raise _fail(f"policy `{f.path}` changed while the audit ran",
                        "run the audit again once nothing is editing the policies")
        out[f.path] = data
    return out


def manifest(
    report: AuditReport,
    tables: Mapping[str, str],
    selection: Selection,
    command: Sequence[str],
    provenance: Provenance,
    files: Mapping[str, bytes],
) -> dict[str, Any]:
    """The manifest document (evidence-manifest.schema.json), keys in a fixed order."""
    doc = report.to_dict()
    policies = sorted(report.model.files, key=lambda f: f.path)
    if provenance.commit is not None:
        repository: dict[str, Any] | None = {
            "commit": provenance.commit, "dirty": False, "revision": provenance.revision}
    else:
        std = stdlib_dir().resolve()
        repository = repository_state([f.abspath for f in policies
                                       if not Path(f.abspath).is_relative_to(std)])
    data = []
    for entry in doc["evidence"]["data"]:
        binding = tables.get(entry["name"])
        data.append({
            "name": entry["name"],
            "source": entry["source"],
            "path": entry["path"],
            "binding": None if binding is None else str(binding),
            "format": binding.format if isinstance(binding, Binding) else None,
            "sha256": entry["sha256"],
            "rows": entry["rows"],
            "rows_skipped": entry["rows_skipped"],
            "files": entry.get("files"),
        })
    return {
        "manifest_version": MANIFEST_VERSION,
        "command": list(command),
        "as_of": rfc3339(report.as_of),
        "selection": selection.to_dict(),
        "versions": versions(),
        "tz_database": tz_database(),
        "holiday_data": holiday_data(report.plan.to_dict()),
        "policy_repository": repository,
        "policies": [{"path": f.path, "sha256": f.sha256, "origin": f.origin,
                      "bundled": bundled_path(f.path)} for f in policies],
        "data": data,
        "plan_sha256": report.plan.sha256,
        "summary": doc["summary"],
        "files": [{"path": p, "sha256": sha256_bytes(files[p])} for p in sorted(files)],
    }


def bundle_files(report: AuditReport, policies: Mapping[str, bytes]) -> dict[str, bytes]:
    """Every file of the bundle except the manifest, by bundle-relative path."""
    from slang.report.render import RENDERERS

    out = {
        REPORT_JSON: report.to_json().encode("utf-8"),
        REPORT_TEXT: RENDERERS["text"](report).encode("utf-8"),
        PLAN: report.plan.to_json().encode("utf-8"),
    }
    for shown, data in policies.items():
        out[bundled_path(shown)] = data
    return out


def manifest_bytes(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------ writing


def write_bundle(
    directory: str | os.PathLike[str],
    report: AuditReport,
    tables: Mapping[str, str],
    *,
    selection: Selection = Selection(),
    command: Sequence[str] = (),
    provenance: Provenance | None = None,
) -> str:
    """Write the evidence bundle of `report` to `directory` (new or empty) and return the
    SHA-256 of its manifest, which identifies the whole bundle (the manifest holds the hash of
    every other file): keep it elsewhere to detect a bundle rewritten later."""
    target = Path(directory)
    provenance = provenance or Provenance()
    check_target(target)
    files = bundle_files(report, policy_bytes(report.model.files, provenance.blobs))
    doc = manifest(report, tables, selection, command, provenance, files)
    files[MANIFEST] = manifest_bytes(doc)
    try:
        _write_atomically(target, files)
    except OSError as exc:
        raise _fail(f"cannot write the evidence bundle to `{target.as_posix()}`: "
                    f"{exc.strerror or exc}") from None
    return sha256_bytes(files[MANIFEST])


def _write_atomically(target: Path, files: Mapping[str, bytes]) -> None:
    """Write into a temporary sibling, then rename it to `target` in one step."""
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        for rel, data in sorted(files.items()):
            path = tmp.joinpath(*PurePosixPath(rel).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if target.is_dir():
            target.rmdir()  # empty, as check_target made sure
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
