"""Files and imports: which `.sla` files make up an estate and what each one imports.

Security matters here: policies come from pull requests, and an import must not read files
outside the policy root (`../../etc/passwd`, absolute paths, symlinks pointing out). The root is
the nearest ancestor directory holding `slang.toml` or `.git`, else the current directory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slang.diagnostics import Diagnostic, SourceCache, error
from slang.resources import stdlib_dir
from slang.syntax import ast
from slang.syntax.parse_cache import parse_cached, parse_many
from slang.syntax.parser import ParseResult
from slang.syntax.span import NO_SPAN, Span

ROOT_MARKERS = ("slang.toml", ".git")
STD_PREFIX = "std/"


@dataclass
class LoadedFile:
    abspath: Path  # resolved (symlinks followed)
    display: str  # as shown in diagnostics and reports
    text: str
    sha256: str
    module: ast.Module
    origin: str  # estate | test | import
    root: Path
    imports: dict[str, LoadedFile | None] = field(default_factory=dict)  # alias -> module


@dataclass
class Program:
    files: list[LoadedFile]
    diagnostics: list[Diagnostic]
    texts: SourceCache


def policy_root(start: Path) -> Path:
    """The nearest ancestor of `start` (a file or directory) holding a root marker."""
    here = start if start.is_dir() else start.parent
    for d in (here, *here.parents):
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return Path.cwd().resolve()


def display_path(path: Path) -> str:
    """Relative to the current directory when below it; stdlib files as `std/NAME.sla`."""
    std = stdlib_dir().resolve()
    if path.is_relative_to(std):
        return STD_PREFIX + path.relative_to(std).as_posix()
    cwd = Path.cwd().resolve()
    if path.is_relative_to(cwd):
        return path.relative_to(cwd).as_posix()
    return path.as_posix()


def _file_span(path: str) -> Span:
    """A diagnostic about a whole file (line 0: no source line to show)."""
    return Span(path, 0, 0, 0, 0)


@dataclass(frozen=True)
class PolicyText:
    """A policy file's bytes and text, or the reason it cannot be used (with `text` then the
    best-effort decoding, so the error can still show the line)."""

    data: bytes
    text: str
    problem: Diagnostic | None = None


def read_policy_text(path: Path, display: str, at: Span = NO_SPAN) -> PolicyText:
    """Read a `.sla` file as UTF-8. `at` is where to report a failure (an import statement);
    by default the file itself, at the offending byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        where = at if at is not NO_SPAN else _file_span(display)
        return PolicyText(b"", "", error("SLG0001", f"cannot read `{display}`: {exc.strerror}",
                                         where))
    try:
        return PolicyText(data, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        where = at if at is not NO_SPAN else Span(display, line, col, line, col + 1)
        return PolicyText(data, data.decode("utf-8", errors="replace"), error(
            "SLG0001", f"`{display}` is not UTF-8 text (byte {exc.start} cannot be decoded)",
            where, "save the file as UTF-8",
        ))


def is_test_file(path: Path) -> bool:
    return path.name.endswith("_test.sla")


def discover(
    paths: Sequence[str | os.PathLike[str]], *, tests: bool = True
) -> tuple[list[Path], list[Diagnostic]]:
    """Expand the command line: a directory means every `.sla` file under it (hidden
    directories skipped), sorted so that every run sees the same order. With `tests=False`
    the `*_test.sla` files are left out, even when named: they are not part of the estate that
    audits evaluate, so they must not be able to stop one."""
    found: list[Path] = []
    diags: list[Diagnostic] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files = sorted(
                f
                for f in p.rglob("*.sla")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not files:
                diags.append(error("SLG0003", f"no .sla files under `{raw}`", _file_span(str(raw))))
            found.extend(f for f in files if tests or not is_test_file(f))
        elif p.is_file():
            if tests or not is_test_file(p):
                found.append(p)
        else:
            diags.append(
                error("SLG0002", f"no such file or directory: `{raw}`", _file_span(str(raw)))
            )
    unique: dict[Path, Path] = {}
    for f in found:
        unique.setdefault(f.resolve(), f)
    return list(unique.values()), diags


class _Loader:
    def __init__(self) -> None:
        self.by_path: dict[Path, LoadedFile] = {}
        self.diagnostics: list[Diagnostic] = []
        self.texts = SourceCache()
        self.order: list[LoadedFile] = []
        self.parsed: dict[Path, tuple[bytes, ParseResult]] = {}

    def prefetch(self, paths: Sequence[Path]) -> None:
        """Read and parse the entry files up front, all at once: from the parse cache, and on
        every core when there are many (imports found later are parsed one by one)."""
        batch: list[tuple[Path, bytes, str]] = []
        for p in paths:
            resolved = p.resolve()
            try:
                data = resolved.read_bytes()
                batch.append((resolved, data, data.decode("utf-8")))
            except (OSError, UnicodeDecodeError):
                continue  # reported with its position when the file is loaded
        results = parse_many([(text, display_path(p)) for p, _, text in batch])
        for (p, data, _), result in zip(batch, results, strict=True):
            self.parsed[p] = (data, result)

    def load_entry(self, path: Path) -> None:
        resolved = path.resolve()
        origin = "test" if is_test_file(resolved) else "estate"
        existing = self.by_path.get(resolved)
        if existing is not None:
            if existing.origin == "import":
                existing.origin = origin
            return
        root = policy_root(resolved)
        loaded = self._read(resolved, origin, root, NO_SPAN)
        if loaded is not None:
            self._follow_imports(loaded, stack=[resolved])

    def _read(self, path: Path, origin: str, root: Path, at: Span) -> LoadedFile | None:
        display = display_path(path)
        data, result = self.parsed.pop(path, (b"", None))
        if result is None:
            read = read_policy_text(path, display, at)
            if read.problem is not None:
                if read.text:
                    self.texts.add(display, read.text)
                self.diagnostics.append(read.problem)
                return None
            data = read.data
        text = data.decode("utf-8")
        self.texts.add(display, text)
        if result is None:
            result = parse_cached(text, display)
        self.diagnostics.extend(result.diagnostics)
        loaded = LoadedFile(
            abspath=path,
            display=display,
            text=text,
            sha256=hashlib.sha256(data).hexdigest(),
            module=result.module,
            origin=origin,
            root=root,
        )
        self.by_path[path] = loaded
        self.order.append(loaded)
        return loaded

    def _follow_imports(self, loaded: LoadedFile, stack: list[Path]) -> None:
        for decl in loaded.module.decls:
            if not isinstance(decl, ast.Import):
                continue
            alias = decl.alias.name
            target = self._resolve_import(loaded, decl)
            if target is None:
                loaded.imports[alias] = None
                continue
            if target in stack:
                chain = " -> ".join(display_path(p) for p in [*stack[stack.index(target):], target])
                self.diagnostics.append(
                    error("SLG0205", f"import cycle: {chain}", decl.path.span,
                          "move the shared declarations into a module both files import")
                )
                loaded.imports[alias] = None
                continue
            module = self.by_path.get(target)
            if module is None:
                module = self._read(target, "import", loaded.root, decl.path.span)
                if module is None:
                    loaded.imports[alias] = None
                    continue
                self._follow_imports(module, [*stack, target])
            else:
                # Already loaded (as an entry or an import): still look for cycles through it.
                self._check_cycles(module, [*stack, target], decl)
            loaded.imports[alias] = module

    def _check_cycles(self, module: LoadedFile, stack: list[Path], decl: ast.Import) -> None:
        for child in module.imports.values():
            if child is None:
                continue
            if child.abspath in stack:
                chain = " -> ".join(
                    display_path(p) for p in [*stack[stack.index(child.abspath):], child.abspath]
                )
                self.diagnostics.append(
                    error("SLG0205", f"import cycle: {chain}", decl.path.span,
                          "move the shared declarations into a module both files import")
                )
                return
            self._check_cycles(child, [*stack, child.abspath], decl)

    def _resolve_import(self, loaded: LoadedFile, decl: ast.Import) -> Path | None:
        raw = decl.path.value
        span = decl.path.span
        if raw.startswith(STD_PREFIX):
            base = stdlib_dir().resolve()
            name = raw[len(STD_PREFIX):]
            candidate = (base / (name if name.endswith(".sla") else name + ".sla")).resolve()
            if not candidate.is_relative_to(base) or not candidate.is_file():
                known = sorted(p.stem for p in base.glob("*.sla"))
                self.diagnostics.append(
                    error("SLG0207", f"no standard library module `{raw}`", span,
                          "available: " + ", ".join(f"std/{k}" for k in known))
                )
                return None
            return candidate
        if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or raw.startswith("\\"):
            self.diagnostics.append(
                error("SLG0206", f"import `{raw}` is an absolute path", span,
                      "import policy files by a path relative to the importing file, "
                      "such as `./shared/sources.sla`")
            )
            return None
        root = loaded.root.resolve()
        candidate = (loaded.abspath.parent / raw).resolve()
        if not candidate.is_relative_to(root):
            self.diagnostics.append(
                error("SLG0206", f"import `{raw}` leaves the policy root `{display_path(root)}`",
                      span, "imports may only name files under the directory holding "
                      "slang.toml or .git; symbolic links are followed before this check")
            )
            return None
        if not candidate.is_file():
            self.diagnostics.append(
                error("SLG0204", f"imported file `{raw}` does not exist", span,
                      f"looked for `{display_path(candidate)}`")
            )
            return None
        return candidate


def load_program(paths: Iterable[str | os.PathLike[str]], *, tests: bool = True) -> Program:
    """Read and parse the estate and everything it imports, collecting every diagnostic;
    `tests=False` leaves the `*_test.sla` files out."""
    entries, diags = discover(list(paths), tests=tests)
    loader = _Loader()
    loader.diagnostics.extend(diags)
    loader.prefetch(entries)
    for entry in entries:
        loader.load_entry(entry)
    return Program(loader.order, loader.diagnostics, loader.texts)
