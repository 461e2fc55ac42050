"""What an audit ran on, for the evidence manifest: versions, the time-zone database, holiday
data, and the git state of the policy repository.

Everything here describes the machine and the checkout, never the moment: no clock is read, so
two runs on the same machine and commit record the same values and the bundle stays
byte-identical. `slang verify` compares these values with its own to say *why* results differ
(a newer engine, another tz database) rather than only *that* they do.
"""

from __future__ import annotations

import os
import platform
import subprocess
import zoneinfo
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any


def package_version(name: str) -> str | None:
    try:
        return dist_version(name)
    except PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """slang (the engine), Python and pyarrow, which decide how a report's numbers are computed,
    then the parser (lark) and numpy, which they rely on."""
    from slang import __version__

    return {
        "slang": __version__,
        "python": platform.python_version(),
        "pyarrow": package_version("pyarrow"),
        "lark": package_version("lark"),
        "numpy": package_version("numpy"),
    }


# ------------------------------------------------------------------------------ time zones


def _tzpath_directory() -> str | None:
    """The first TZPATH directory that holds zone files: where `zoneinfo` reads zones from
    before falling back to the `tzdata` package."""
    for directory in zoneinfo.TZPATH:
        if os.path.isfile(os.path.join(directory, "UTC")):
            return directory
    return None


def _tzdata_release(directory: str) -> str | None:
    """The IANA release (`2025b`) of a system zoneinfo directory, from `tzdata.zi`'s first line
    (`# version 2025b`); None when the distribution does not ship that file."""
    try:
        with open(os.path.join(directory, "tzdata.zi"), encoding="utf-8") as handle:
            first = handle.readline().strip()
    except OSError:
        return None
    prefix = "# version "
    if not first.startswith(prefix):
        return None
    return first[len(prefix):].strip() or None


def tz_database() -> dict[str, str | None]:
    """Which tz database the audit's time zones came from.

    `source` is `system` (a TZPATH directory, `path`, release `version` when known) or
    `tzdata` (the Python package, whose version is then the one that matters); the installed
    `tzdata` package version is recorded either way, as the fallback.
    """
    package = package_version("tzdata")
    directory = _tzpath_directory()
    if directory is not None:
        return {"source": "system", "path": directory, "version": _tzdata_release(directory),
                "tzdata_package": package}
    return {"source": "tzdata", "path": None, "version": package, "tzdata_package": package}


# ------------------------------------------------------------------------------ holidays


def holiday_data(plan_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Versions of the holiday data an audit used: the hook for `holidays "GB-ENG"` calendars.

    Calendars built from a holiday package record what they used in the plan: the plan's
    `holiday_data` (`{"package": "holidays", "version": ..., "calendars": {ID: {"regions",
    "years", "dates"}}}`, slang/plan/plan.py), or a key named `holidays` (a mapping or a list
    of mappings, e.g. `{"package": "holidays", "version": "0.60", "regions": ["GB-ENG"]}`),
    anywhere in the plan document. Every such
    record is collected here, deduplicated and sorted, so the manifest says which holiday data
    decided the business hours. A plan that uses none gives `[]`.
    """
    found: dict[str, dict[str, Any]] = {}
    for record in _holiday_records(plan_doc):
        found.setdefault(repr(sorted(record.items())), record)
    return [found[k] for k in sorted(found)]


def _holiday_records(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("holidays", "holiday_data"):
                items = value if isinstance(value, list) else [value]
                yield from (dict(v) for v in items if isinstance(v, dict))
            else:
                yield from _holiday_records(value)
    elif isinstance(node, list):
        for item in node:
            yield from _holiday_records(item)


# ------------------------------------------------------------------------------ git


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        run = subprocess.run(["git", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                             capture_output=True, check=False)
    except OSError:
        return None
    return os.fsdecode(run.stdout).strip() if run.returncode == 0 else None


def repository_state(policy_files: Sequence[str]) -> dict[str, Any] | None:
    """The git commit of the repository holding the policies, and whether any of the audited
    policy files differ from it (modified, staged or untracked): `dirty`.

    Dirty is about the policy files only, not the whole working tree: writing the bundle itself
    (often inside the repository) must not change what the next run records. None when the
    policies are not in a git repository (or git is not installed).
    """
    paths = [Path(p) for p in policy_files]
    if not paths:
        return None
    top_text = _git(["rev-parse", "--show-toplevel"], paths[0].parent)
    if top_text is None:
        return None
    top = Path(top_text).resolve()
    inside = [p.resolve() for p in paths if p.resolve().is_relative_to(top)]
    commit = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top)
    status = _git(["status", "--porcelain", "--untracked-files=all", "--",
                   *(p.relative_to(top).as_posix() for p in inside)], top)
    dirty = commit is None or status is None or status != ""
    return {"commit": commit, "dirty": dirty, "revision": None}
