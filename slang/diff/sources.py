"""One side of a diff: a path in the working tree, or `REV:PATH` from the enclosing git repository.

`REV:PATH` reads PATH as it is in revision REV, without touching the working tree: the policy
files of the revision are copied with `git archive` into a temporary directory that keeps the
repository's layout, with an empty `.git` directory at its top as the policy-root marker, so
imports resolve and the policy root is found exactly as in a checkout. The model is loaded from
inside the copy, from the directory that corresponds to the current one, so its files are named
as they would be in the working tree (`policies/checkout.sla`); the copy is deleted afterwards.

As in git, PATH is relative to the top of the repository, or to the current directory when it
starts with `./` or `../`; an empty PATH (`main:`) is the whole repository.

Only what loading can read is copied: every `.sla` file of the revision (imports may name any
file under the policy root), the `slang.toml` and `pyproject.toml` files (settings, root
markers), and PATH itself when it names a single file. Symbolic links are copied only when they
point inside the copy.

git runs as a subprocess with an argument list, never through a shell. A revision that git does
not know, or `REV:PATH` outside a git repository, is SLG0011; a PATH that the revision does not
hold is SLG0012. Both raise `SlangError`: there is no model to return.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath

from slang.diagnostics import Diagnostic, SlangError, error
from slang.semantics import load
from slang.semantics.model import Model
from slang.syntax.span import Span

UNKNOWN_REVISION = "SLG0011"
UNKNOWN_PATH = "SLG0012"
COPIED_NAMES = ("slang.toml", "pyproject.toml")
ARCHIVE_BATCH_CHARS = 64 * 1024  # command-line length per `git archive` call


@dataclass
class Side(Model):
    """A model loaded for a diff, with where it came from: `spec` as given, and for `REV:PATH`
    the revision as written, the commit it names and PATH relative to the repository's top.
    Files of a revision are named as in the working tree; their `abspath` no longer exists, so
    their bytes are kept in `blobs` (by path as shown), for evidence bundles."""

    spec: str = ""
    revision: str | None = None
    commit: str | None = None
    path: str | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)


def load_side(spec: str, *, as_of: dt.datetime | None = None) -> Side:
    """Load one side of a diff. A spec that exists on disk, or holds no `:`, is a path (loaded
    like `slang.load`, problems as diagnostics of the model); otherwise it is `REV:PATH`."""
    if ":" not in spec or Path(spec).exists():
        return _side(load([spec], as_of=as_of, tests=False), spec)
    revision, _, path = spec.partition(":")
    return _load_revision(spec, revision, path, as_of)


def parse_spec(spec: str) -> tuple[str | None, str]:
    """`(revision, path)` as `load_side` reads the spec; the revision is None for a path."""
    if ":" not in spec or Path(spec).exists():
        return None, spec
    revision, _, path = spec.partition(":")
    return revision, path


def _side(model: Model, spec: str, revision: str | None = None, commit: str | None = None,
          path: str | None = None, blobs: dict[str, bytes] | None = None) -> Side:
    values = {f.name: getattr(model, f.name) for f in fields(Model)}
    return Side(**values, spec=spec, revision=revision, commit=commit, path=path,
                blobs=blobs or {})


def _fail(code: str, message: str, spec: str, hint: str | None = None) -> SlangError:
    return SlangError([_diagnostic(code, message, spec, hint)])


def _diagnostic(code: str, message: str, spec: str, hint: str | None) -> Diagnostic:
    return error(code, message, Span(spec, 0, 0, 0, 0), hint)


# ------------------------------------------------------------------------------------- git


def _git(args: Sequence[str], cwd: Path, spec: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
    except OSError as exc:
        raise _fail(UNKNOWN_REVISION, f"`{spec}` names a git revision, but git cannot be run: "
                    f"{exc.strerror or exc}", spec,
                    "install git, or compare two paths of the working tree") from exc


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _load_revision(spec: str, revision: str, path: str, as_of: dt.datetime | None) -> Side:
    cwd = Path.cwd()
    top_run = _git(["rev-parse", "--show-toplevel"], cwd, spec)
    if top_run.returncode != 0:
        said = _last_line(top_run.stderr)
        raise _fail(UNKNOWN_REVISION, f"`{spec}` names a git revision, but the current "
                    "directory is not inside a git repository", spec,
                    "run slang inside the repository, or give a path"
                    + (f" (git says: {said})" if said else ""))
    top = Path(os.fsdecode(top_run.stdout.rstrip(b"\n")))
    prefix = os.fsdecode(_git(["rev-parse", "--show-prefix"], cwd, spec).stdout.strip())
    commit = _commit(spec, revision, top)
    inside = _repository_path(spec, revision, path, prefix)
    entries = _tree(spec, commit, top)
    is_file = inside in entries
    is_dir = inside == "" or any(p.startswith(inside + "/") for p in entries)
    if not (is_file or is_dir):
        raise _fail(UNKNOWN_PATH, f"`{path or '.'}` does not exist in revision `{revision}`",
                    spec, "in REV:PATH, PATH is relative to the top of the repository (or to "
                    "the current directory when it starts with ./); list what the revision "
                    f"holds with `git ls-tree -r --name-only {revision}`")
    wanted = sorted(
        p for p in entries
        if p.endswith(".sla") or posixpath.basename(p) in COPIED_NAMES or (is_file and p == inside)
    )
    with tempfile.TemporaryDirectory(prefix="slang-diff-") as tmp:
        root = Path(tmp).resolve() / "repo"
        root.mkdir()
        (root / ".git").mkdir()  # the policy-root marker a checkout has
        _extract(spec, commit, top, wanted, root)
        here = root.joinpath(*PurePosixPath(prefix).parts)
        here.mkdir(parents=True, exist_ok=True)
        target = root.joinpath(*PurePosixPath(inside).parts) if inside else root
        with _working_directory(here):
            model = load([os.path.relpath(target, here)], as_of=as_of, tests=False)
        blobs = {f.path: Path(f.abspath).read_bytes() for f in model.files
                 if Path(f.abspath).is_relative_to(root)}
    return _side(model, spec, revision, commit, inside or ".", blobs)


def _commit(spec: str, revision: str, top: Path) -> str:
    """The commit a revision names; SLG0011 if git does not know it."""
    hint = ("check the name with `git rev-parse --verify REV`; a branch of a remote needs "
            "fetching first (`git fetch origin main`), and is then named `origin/main`")
    if not revision or revision.startswith("-"):
        raise _fail(UNKNOWN_REVISION, f"`{revision}` is not a revision of this git repository",
                    spec, hint)
    run = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], top, spec)
    if run.returncode != 0:
        raise _fail(UNKNOWN_REVISION, f"`{revision}` is not a revision of this git repository",
                    spec, hint)
    return run.stdout.decode("ascii").strip()


def _repository_path(spec: str, revision: str, path: str, prefix: str) -> str:
    """PATH relative to the top of the repository ('' for the top itself)."""
    relative_to_here = path in (".", "..") or path.startswith(("./", "../"))
    joined = posixpath.join(prefix, path) if relative_to_here else path
    normal = posixpath.normpath(joined) if joined else "."
    if normal == ".":
        return ""
    if normal.startswith("/") or normal == ".." or normal.startswith("../"):
        raise _fail(UNKNOWN_PATH, f"`{path}` is outside the git repository", spec,
                    "in REV:PATH, PATH names a file or directory inside the repository")
    return normal


def _tree(spec: str, commit: str, top: Path) -> set[str]:
    """Every file of the commit (blobs and symbolic links; not submodules), by path."""
    run = _git(["ls-tree", "-r", "-z", "--full-tree", commit], top, spec)
    if run.returncode != 0:  # pragma: no cover - the commit was just verified
        raise _fail(UNKNOWN_REVISION, f"cannot list revision `{commit}`: "
                    f"{_last_line(run.stderr)}", spec)
    files: set[str] = set()
    for entry in run.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        if meta.split(b" ")[1] == b"blob":
            files.add(os.fsdecode(name))
    return files


def _batches(paths: Sequence[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for p in paths:
        if batch and size + len(p) > ARCHIVE_BATCH_CHARS:
            yield batch
            batch, size = [], 0
        batch.append(p)
        size += len(p) + 1
    if batch:
        yield batch


def _extract(spec: str, commit: str, top: Path, paths: Sequence[str], root: Path) -> None:
    for batch in _batches(paths):
        run = _git(["--literal-pathspecs", "archive", "--format=tar", commit, "--", *batch],
                   top, spec)
        if run.returncode != 0:  # pragma: no cover - the paths were just listed
            raise _fail(UNKNOWN_PATH, f"cannot read files of revision `{commit}`: "
                        f"{_last_line(run.stderr)}", spec)
        with tarfile.open(fileobj=io.BytesIO(run.stdout), mode="r:") as tar:
            for member in tar:
                _write_member(tar, member, root)


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path) -> None:
    """Regular files and directories as they are; a symbolic link only when it stays inside
    the copy (an absolute link, or one climbing out, is left out: the loader then reports the
    file as missing rather than reading something outside the repository)."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        return
    dest = root.joinpath(*name.parts)
    if member.isdir():
        dest.mkdir(parents=True, exist_ok=True)
    elif member.isfile():
        data = tar.extractfile(member)
        if data is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data.read())
    elif member.issym():
        link = member.linkname
        landing = posixpath.normpath(posixpath.join(str(name.parent), link))
        if posixpath.isabs(link) or landing == ".." or landing.startswith("../"):
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            dest.symlink_to(link)
        except OSError:  # pragma: no cover - a file system without symbolic links
            return


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Load from inside the copy so files are named as in the working tree. The process's
    current directory is shared: this is for the command line, not for threads."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


__all__ = ["UNKNOWN_PATH", "UNKNOWN_REVISION", "Side", "load_side", "parse_spec"]
