"""The `slang` command line: a thin Click shell over the library.

Each command reads its options, calls one library function (`slang.load`,
`slang.syntax.formatter.format_text`) and renders what comes back. Nothing here decides what a
policy means, so a library user can do everything a command does. What lives here is what only a
process has: exit codes, standard streams, and the files named on the command line.

Exit codes are the same for every command (see docs/cli.md):

    0  success: nothing at or above the `--fail-on` level
    1  findings at or above `--fail-on` (policy errors for `check`, files to reformat for
       `fmt --check`)
    2  the command could not do its job: bad usage, a path that does not exist, an unreadable
       file (the `SLG00xx` codes), a policy that does not parse for `fmt`

Diagnostics are what `check` is for, so they go to stdout. Errors that stop a command go to stderr,
as coded diagnostics (JSON with `--format json`). A traceback is a bug.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any, NoReturn

import click

import slang
from slang.diagnostics import (
    Diagnostic,
    Severity,
    SlangError,
    SourceCache,
    error,
    render_json,
    render_text_all,
)
from slang.resources import stdlib_dir
from slang.semantics.loader import discover, display_path
from slang.syntax.formatter import format_text
from slang.syntax.span import Span

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNABLE = 2

# Diagnostics about the command line itself have no source file; this name stands in for one.
COMMAND_LINE = "<command line>"
# Code for a command-line value slang cannot use (a malformed `--as-of`, an unwritable
# `--output`). The SLG00xx group is "files, paths, command-line input".
INVALID_INPUT = "SLG0004"

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

PLANNED = (
    "plan",
    "audit",
    "test",
    "diff",
    "whatif",
    "report",
    "catalogue",
    "status",
    "diagnose",
    "verify",
    "ledger",
    "import",
    "export",
)


# ---------------------------------------------------------------------------- rendering glue


def _input_span() -> Span:
    return Span(COMMAND_LINE, 0, 0, 0, 0)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _stop(diags: Sequence[Diagnostic], fmt: str = "text", sources: SourceCache | None = None
          ) -> NoReturn:
    """Report errors that keep the command from doing its job on stderr, then exit 2.

    With `--format json` they are JSON too, in the same shape as `check`'s diagnostics, so a
    program reading slang's output never has to parse prose.
    """
    if fmt == "json":
        click.echo(render_json(diags), err=True)
    else:
        click.echo(render_text_all(diags, sources), err=True)
    raise click.exceptions.Exit(EXIT_UNABLE)


def _is_input_error(d: Diagnostic) -> bool:
    """SLG00xx errors are about files and the command line, not about what policies mean."""
    return d.severity is Severity.ERROR and d.code.startswith("SLG00")


def _emit(text: str, output: Path | None, fmt: str) -> None:
    """Write a command's report to stdout, or to `--output FILE` (written whole, UTF-8)."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _stop([error(INVALID_INPUT, f"cannot write --output `{output}`: {exc.strerror}",
                     _input_span())], fmt)


# ---------------------------------------------------------------------------- --as-of

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})?"
)
_AS_OF_EXAMPLE = "such as 2026-03-31T00:00:00Z or 2026-03-31T01:00:00+01:00, or `now`"


def parse_timestamp(value: str) -> dt.datetime:
    """An RFC 3339 timestamp with `Z` or an offset, or `now`, as an aware datetime.

    A naive timestamp is refused rather than guessed: the same policy checked on machines in
    two time zones must give the same answer. Raises `ValueError` with a message for people.
    """
    text = value.strip()
    if text.lower() == "now":
        return dt.datetime.now(dt.UTC)
    m = _RFC3339.fullmatch(text)
    if m is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(
                f"`{value}` is a date, not a timestamp: write {text}T00:00:00Z (midnight UTC) "
                "or give an offset"
            )
        raise ValueError(f"`{value}` is not an RFC 3339 timestamp: expected one {_AS_OF_EXAMPLE}")
    if m["tz"] is None:
        raise ValueError(
            f"`{value}` has no time zone: add `Z` for UTC or an offset such as `+01:00`"
        )
    if m["tz"] in ("Z", "z"):
        tz = dt.UTC
    else:
        sign = -1 if m["tz"][0] == "-" else 1
        hours, minutes = int(m["tz"][1:3]), int(m["tz"][4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"`{value}` has an invalid offset `{m['tz']}`")
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    micro = int((m["frac"] or "0")[:6].ljust(6, "0"))
    try:
        day = dt.date.fromisoformat(m["date"])
        return dt.datetime(day.year, day.month, day.day, int(m["h"]), int(m["m"]), int(m["s"]),
                           micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"`{value}` is not a valid timestamp: {exc}") from None


def _as_of_or_stop(value: str | None, fmt: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        _stop([error(INVALID_INPUT, f"invalid --as-of: {exc}", _input_span(),
                     f"give an RFC 3339 timestamp {_AS_OF_EXAMPLE}")], fmt)


# ---------------------------------------------------------------------------- the group


def _dist(name: str) -> str:
    try:
        return dist_version(name)
    except PackageNotFoundError:
        return "not installed"


def version_text() -> str:
    """What `slang version` prints: slang first (scripts can read line 1), then what it runs on."""
    return "\n".join([
        f"slang {slang.__version__}",
        f"python {platform.python_version()}",
        f"lark {_dist('lark')}",
        f"pyarrow {_dist('pyarrow')}",
    ])


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(EXIT_OK)


@click.group(
    name="slang",
    context_settings=_CONTEXT,
    epilog="\b\nExamples:\n  slang check policies/\n  slang fmt --check policies/\n\n"
    "Planned, not yet available: " + ", ".join(PLANNED) + ".\n\n"
    "Exit codes: 0 ok, 1 findings, 2 the command could not do its job. See docs/cli.md.",
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the versions of slang and what it runs on.")
def main() -> None:
    """slang: service level agreements as code.

    Check, format and (soon) evaluate policies written in the slang language.
    """


@main.command(
    epilog="\b\nExample:\n  $ slang version\n  slang 0.1.0\n  python 3.11.7\n  lark 1.3.1\n"
    "  pyarrow 26.0.1",
)
def version() -> None:
    """Show the versions of slang, Python, lark and pyarrow."""
    click.echo(version_text())


# ---------------------------------------------------------------------------- check


def counted_files(model: slang.Model) -> int:
    """Files a check covered, imports included; the standard library is slang's, not the user's."""
    std = stdlib_dir().resolve()
    return sum(1 for f in model.files if not Path(f.abspath).is_relative_to(std))


def _check_text(diags: list[Diagnostic], sources: SourceCache, files: int) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diags)
    warnings = sum(d.severity is Severity.WARNING for d in diags)
    summary = (f"checked {_plural(files, 'file')}: {_plural(errors, 'error')}, "
               f"{_plural(warnings, 'warning')}\n")
    if not diags:
        return summary
    return render_text_all(diags, sources) + "\n\n" + summary


def _check_json(diags: list[Diagnostic], files: int) -> str:
    doc: dict[str, Any] = {
        "diagnostics": [d.to_dict() for d in diags],
        "summary": {
            "files": files,
            "errors": sum(d.severity is Severity.ERROR for d in diags),
            "warnings": sum(d.severity is Severity.WARNING for d in diags),
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def _failing(diags: Iterable[Diagnostic], fail_on: str) -> bool:
    if fail_on == "never":
        return False
    floor = Severity(fail_on).rank
    return any(d.severity.rank >= floor for d in diags)


@main.command(
    epilog="\b\nExamples:\n"
    "  slang check policies/\n"
    "  slang check policies/ --format json --output check.json\n"
    "  slang check policies/ --fail-on warning --as-of 2026-10-01T00:00:00Z",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the diagnostics.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="The clock for time-based lint (review overdue): RFC 3339 with Z or an "
              "offset, or `now`. Without it those checks do not run.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error",
              show_default=True, help="Exit 1 when a diagnostic at or above this level is found.")
@click.option("--no-fail", is_flag=True, help="Same as --fail-on never.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the report to FILE instead of stdout.")
def check(paths: tuple[str, ...], fmt: str, as_of: str | None, fail_on: str, no_fail: bool,
          output: Path | None) -> None:
    """Parse, resolve, type-check and lint the policies under PATHS.

    A directory means every .sla file under it. Diagnostics are printed with the offending
    source line, then a summary. Files that do not exist or cannot be read stop the command
    (exit 2); policy errors are findings (exit 1).
    """
    when = _as_of_or_stop(as_of, fmt)
    try:
        model = slang.load(paths, as_of=when)
    except SlangError as exc:
        _stop(exc.diagnostics, fmt)
    stopping = [d for d in model.diagnostics if _is_input_error(d)]
    if stopping:
        _stop(stopping, fmt, model.texts)
    files = counted_files(model)
    diags = list(model.diagnostics)
    report = _check_json(diags, files) if fmt == "json" else _check_text(diags, model.texts, files)
    _emit(report, output, fmt)
    raise click.exceptions.Exit(
        EXIT_FINDINGS if _failing(diags, "never" if no_fail else fail_on) else EXIT_OK
    )


# ---------------------------------------------------------------------------- fmt


def _unified_diff(path: str, old: str, new: str) -> str:
    """`--- path` / `+++ path`, so `patch -p0` applies it from the directory slang ran in."""

    def lines(text: str) -> list[str]:
        out = text.splitlines(keepends=True)
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n\\ No newline at end of file\n"
        return out

    return "".join(difflib.unified_diff(lines(old), lines(new), fromfile=path, tofile=path))


def _write_atomically(path: Path, text: str) -> None:
    """Replace a file in one step, keeping its mode: an interrupted fmt never leaves half a
    policy behind. A symbolic link stays a link: its target is what gets replaced."""
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_policy(path: Path, shown: str, sources: SourceCache,
                 failures: list[Diagnostic]) -> str | None:
    """A policy file's text, or None with an SLG0001 diagnostic, worded as `check` words it.

    Mirrors the loader's private reader; it belongs in the library next to it.
    """
    try:
        data = path.read_bytes()
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        sources.add(shown, data.decode("utf-8", errors="replace"))
        failures.append(error(
            "SLG0001", f"`{shown}` is not UTF-8 text (byte {exc.start} cannot be decoded)",
            Span(shown, line, col, line, col + 1), "save the file as UTF-8",
        ))
    except OSError as exc:
        failures.append(error("SLG0001", f"cannot read `{shown}`: {exc.strerror}",
                              Span(shown, 0, 0, 0, 0)))
    return None


@main.command(
    epilog="\b\nExamples:\n"
    "  slang fmt policies/            # rewrite files in place\n"
    "  slang fmt --check policies/    # list files that need formatting; exit 1 if any\n"
    "  slang fmt --diff policies/     # show the changes, write nothing",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Write nothing; print a unified diff of the changes.")
def fmt(paths: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Format the .sla files under PATHS in the canonical style.

    Files are rewritten in place, and only when their formatting changes. Stdout lists the
    files rewritten (or, with --check, those that would be); with --diff it is the diff. A
    file that does not parse is reported and left alone (exit 2).
    """
    files, problems = discover(paths)
    if problems:
        _stop(problems)
    write = not (check_only or show_diff)
    sources = SourceCache()
    failures: list[Diagnostic] = []
    changed = unchanged = 0
    for path in files:
        shown = display_path(path.resolve())
        text = _read_policy(path, shown, sources, failures)
        if text is None:
            continue
        try:
            formatted = format_text(text, shown)
        except SlangError as exc:
            sources.add(shown, text)
            failures.extend(exc.diagnostics)
            continue
        if formatted == text:
            unchanged += 1
            continue
        changed += 1
        if show_diff:
            click.echo(_unified_diff(shown, text, formatted), nl=False)
        else:
            click.echo(shown)
        if write:
            try:
                _write_atomically(path, formatted)
            except OSError as exc:
                failures.append(error("SLG0001", f"cannot write `{shown}`: {exc.strerror}",
                                      Span(shown, 0, 0, 0, 0)))
    verb = "reformatted" if write else "would be reformatted"
    same = "unchanged" if write else "already formatted"
    click.echo(f"{_plural(changed, 'file')} {verb}, {unchanged} {same}", err=True)
    if failures:
        _stop(failures, "text", sources)
    if check_only and changed:
        raise click.exceptions.Exit(EXIT_FINDINGS)
