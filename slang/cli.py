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
from slang.semantics.loader import discover, display_path, read_policy_text
from slang.syntax.formatter import format_text
from slang.syntax.span import COMMAND_LINE_SPAN, Span
from slang.timestamps import AS_OF_EXAMPLE, parse_timestamp

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNABLE = 2

# Code for a command-line value slang cannot use (a malformed `--as-of`, an unwritable
# `--output`). The SLG00xx group is "files, paths, command-line input".
INVALID_INPUT = "SLG0004"

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# Options several commands share, spelled once.
_DATA_OPTION = click.option(
    "--data", "data", multiple=True, metavar="NAME=PATH",
    help="Bind a source's table to a file, directory or glob (as in audit).")
_BIND_OPTION = click.option(
    "--bind", "bind", type=click.Path(dir_okay=False, path_type=str), metavar="FILE",
    help="A bindings YAML file: {version: 1, tables: {NAME: PATH}}.")
_REPORT_OUTPUT_OPTION = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="Write the report to FILE instead of stdout.")
_TEXT_JSON_MARKDOWN_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
    show_default=True, help="Output format.")
_LEDGER_AGREEMENT_OPTION = click.option(
    "--agreement", "agreements", multiple=True, metavar="NAME",
    help="Only this agreement (repeatable).")
_LEDGER_FROM_OPTION = click.option(
    "--from", "date_from", metavar="DATE",
    help="Only periods starting on or after DATE (in the agreement's time zone).")
_LEDGER_TO_OPTION = click.option(
    "--to", "date_to", metavar="DATE",
    help="Only periods starting on or before DATE (in the agreement's time zone).")


# ---------------------------------------------------------------------------- rendering glue


def _input_span() -> Span:
    return COMMAND_LINE_SPAN


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

def _as_of_or_stop(value: str | None, fmt: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        _stop([error(INVALID_INPUT, f"invalid --as-of: {exc}", _input_span(),
                     f"give an RFC 3339 timestamp {AS_OF_EXAMPLE}")], fmt)


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


class _Slang(click.Group):
    """The group, keeping the command line as typed (in `ctx.meta`) for evidence manifests:
    `sys.argv` is not what was run when slang is called as a library or from tests."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        typed = ["slang", *args]
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[ARGV_KEY] = typed
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        """Usage errors (an unknown option, a `--fail-on` value not in the list) are JSON when
        the command line asks for `--format json`, as every other error then is: a pipeline
        reading stderr as JSON never meets Click's prose."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if not _asks_for_json(ctx.meta.get(ARGV_KEY, [])):
                raise
            _stop([error(INVALID_INPUT, f"usage: {exc.format_message()}", _input_span(),
                         f"see `{exc.ctx.command_path if exc.ctx else 'slang'} --help`")],
                  "json")


def _asks_for_json(argv: Sequence[str]) -> bool:
    """Whether the command line as typed has `--format json` (or `--format=json`)."""
    pairs = zip(argv, [*argv[1:], ""], strict=True)
    return "--format=json" in argv or any(a == "--format" and b == "json" for a, b in pairs)


ARGV_KEY = "slang.argv"


def _argv() -> list[str]:
    ctx = click.get_current_context(silent=True)
    return list(ctx.meta.get(ARGV_KEY, ["slang"])) if ctx is not None else ["slang"]


@click.group(
    name="slang",
    cls=_Slang,
    context_settings=_CONTEXT,
    epilog="\b\nExamples:\n  slang check policies/\n  slang fmt --check policies/\n"
    "  slang audit policies/ --bind bindings.yaml --period 2026-10\n"
    "  slang diff main:policies policies\n"
    "  slang verify evidence/2026-10\n\n"
    "Exit codes: 0 ok, 1 findings, 2 the command could not do its job. See docs/cli.md.",
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the versions of slang and what it runs on.")
def main() -> None:
    """slang: service level agreements as code.

    Check, format, audit and diff policies written in the slang language.
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
    "  slang check policies/ --format sarif --output slang.sarif\n"
    "  slang check policies/ --fail-on warning --as-of 2026-10-01T00:00:00Z",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt",
              type=click.Choice(["text", "json", "junit", "sarif", "github"]), default="text",
              show_default=True,
              help="How to print the diagnostics: text for people; json; junit (test reports), "
              "sarif (code scanning) and github (workflow annotations) for CI.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="The clock for time-based lint (review overdue): RFC 3339 with Z or an "
              "offset, or `now`. Without it those checks do not run.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error",
              show_default=True, help="Exit 1 when a diagnostic at or above this level is found.")
@click.option("--no-fail", is_flag=True, help="Same as --fail-on never.")
@_REPORT_OUTPUT_OPTION
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
    from slang.lint import check_model

    try:
        # the checker's findings plus the lint rules, suppressions and [tool.slang.lint] applied
        diags = check_model(model, as_of=when, start=Path(paths[0]))
    except SlangError as exc:
        _stop(exc.diagnostics, fmt, model.texts)
    level = "never" if no_fail else fail_on
    if fmt == "json":
        report = _check_json(diags, files)
    elif fmt == "text":
        report = _check_text(diags, model.texts, files)
    else:
        from slang.report.check_formats import CHECK_RENDERERS, CheckRun

        report = CHECK_RENDERERS[fmt](CheckRun.from_model(model, level))
    _emit(report, output, fmt)
    raise click.exceptions.Exit(EXIT_FINDINGS if _failing(diags, level) else EXIT_OK)


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
        read = read_policy_text(path, shown)
        if read.problem is not None:
            if read.text:
                sources.add(shown, read.text)
            failures.append(read.problem)
            continue
        text = read.text
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


# ---------------------------------------------------------------------------- test


@main.command(
    name="test",
    epilog="\b\nExamples:\n"
    "  slang test policies/\n"
    "  slang test policies/ --run checkout --format junit --output slang-tests.xml\n"
    "  slang test policies/ --require-tests",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--run", "pattern", metavar="REGEX",
              help="Run only the tests whose name (or FILE::NAME) this regular expression "
              "matches (Python `re.search`).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True, help="text for people; json; junit for CI test reports.")
@click.option("--require-tests", is_flag=True,
              help="Exit 1 when no test is found (or none matches --run).")
@_REPORT_OUTPUT_OPTION
def test_command(paths: tuple[str, ...], pattern: str | None, fmt: str, require_tests: bool,
                 output: Path | None) -> None:
    """Run the policy tests in the *_test.sla files under PATHS (default: policies/).

    Each `test` block gives data and a clock and expects results of the estate's agreements
    (see docs/language.md, section 4.7); the estate is every other .sla file under PATHS.
    Exit 0 when every test passes, 1 when one fails (or, with --require-tests, when there is
    none), 2 when the policies, the tests or their data are invalid.
    """
    import re

    from slang.testing import run_tests
    from slang.testing.render import RENDERERS, render_text

    stop_fmt = "json" if fmt == "json" else "text"
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            _stop([error(INVALID_INPUT, f"invalid --run: {exc}", _input_span(),
                         "give a Python regular expression, e.g. `--run 'checkout|payments'`")],
                  stop_fmt)
    try:
        model = slang.load(paths or ("policies/",))
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt)
    if model.errors:
        _stop(model.errors, stop_fmt, model.texts)
    run = run_tests(model, pattern)
    report = render_text(run, pattern) if fmt == "text" else RENDERERS[fmt](run)
    _emit(report, output, stop_fmt)
    if run.count("error"):
        raise click.exceptions.Exit(EXIT_UNABLE)
    if run.count("failed") or (require_tests and not run.results):
        raise click.exceptions.Exit(EXIT_FINDINGS)
    raise click.exceptions.Exit(EXIT_OK)


# ---------------------------------------------------------------------------- audit and plan

FAIL_LEVELS = {
    "breach": ("breached",),
    "at_risk": ("breached", "at_risk"),
    "no_data": ("breached", "at_risk", "no_data"),
    "never": (),
}


def _load_valid(paths: Sequence[str], fmt: str) -> slang.Model:
    """An estate that commands other than `check` can use: any error stops them (exit 2).
    Test files are not part of it (`slang test` reads them)."""
    try:
        model = slang.load(paths, tests=False)
    except SlangError as exc:
        _stop(exc.diagnostics, fmt)
    if model.errors:
        _stop(model.errors, fmt, model.texts)
    return model


def _load_audited(paths: Sequence[str], fmt: str) -> tuple[slang.Model, Any]:
    """The estate `audit` evaluates (paths, or one REV:PATH) and where it came from."""
    from slang.evidence.provenance import load_audited

    try:
        model, provenance = load_audited(paths)
    except SlangError as exc:
        _stop(exc.diagnostics, fmt)
    if model.errors:
        _stop(model.errors, fmt, model.texts)
    return model, provenance


def _date_or_stop(value: str | None, option: str, fmt: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _stop([error(INVALID_INPUT, f"invalid {option}: `{value}` is not a date",
                     _input_span(), "write dates as YYYY-MM-DD, e.g. 2026-10-01")], fmt)


class _Progress:
    """A progress bar on stderr for long audits, only when a person is watching a terminal."""

    def __init__(self, enabled: bool):
        self.bar: Any = None
        self.task: Any = None
        if enabled:
            from rich.progress import Progress

            self.bar = Progress(transient=True, console=_stderr_console())
            self.bar.start()
            self.task = self.bar.add_task("evaluating", total=None)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@main.command(
    epilog="\b\nExamples:\n"
    "  slang demo out/demo && slang audit policies/ --bind out/demo/bindings.yaml \\\n"
    "      --period 2026-10 --as-of 2026-11-15T00:00:00Z\n"
    "  slang audit policies/ --data edge_requests=data/requests/ --data incidents=inc.csv \\\n"
    "      --from 2026-07-01 --to 2026-09-30 --format json --output q3.json\n"
    "  slang audit policies/ --bind bindings.yaml --format junit --fail-on at_risk",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--data", "data", multiple=True, metavar="NAME=PATH",
              help="Bind a source's table (`from \"NAME\"`) to a file, directory or glob. "
              "Repeatable; overrides --bind.")
@_BIND_OPTION
@click.option("--period", metavar="LABEL",
              help="Audit the periods that start within a label: 2026, 2026-Q4, 2026-10, "
              "2026-W41 or 2026-10-05 (read in each agreement's time zone).")
@click.option("--from", "date_from", metavar="DATE", help="First day of the range (with --to).")
@click.option("--to", "date_to", metavar="DATE", help="Last day of the range, included.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="The evaluation clock (default now): rows at or after it do not count; "
              "periods not yet over are running. Give it for reproducible reports.")
@click.option("--include-drafts", is_flag=True,
              help="Also evaluate draft and proposed agreements.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "junit"]),
              default="text", show_default=True, help="Report format.")
@_REPORT_OUTPUT_OPTION
@click.option("--fail-on", type=click.Choice(list(FAIL_LEVELS)), default="breach",
              show_default=True,
              help="Exit 1 when a result is breached (breach), also at risk (at_risk), also "
              "without data (no_data).")
@click.option("--no-fail", is_flag=True, help="Same as --fail-on never.")
@click.option("--engine", type=click.Choice(["arrow", "duckdb", "spark"]), default="arrow",
              show_default=True,
              help="arrow: in memory, or streamed by key through spill files beyond "
              "--memory-limit; duckdb: SQL, streaming Parquet from disk with bounded "
              "memory (pip install 'slang[duckdb]'); spark: SQL on a Spark session "
              "(pip install 'slang[spark]'). The results are the same.")
@click.option("--memory-limit", metavar="SIZE",
              help="arrow: the memory budget (default a quarter of RAM or of the container's "
              "limit): data estimated larger is streamed, partitioned by key, through files "
              "under TMPDIR; "
              "duckdb: the memory DuckDB may use before spilling to disk. E.g. 2GB, 512MB.")
@click.option("--threads", type=click.IntRange(min=1), metavar="N",
              help="duckdb: worker threads (default: DuckDB's, one per core).")
@click.option("--spark-master", default="local[2]", show_default=True, metavar="URL",
              help="spark: the master of the session (local[N], spark://host:port, yarn).")
@click.option("--evidence", "evidence", type=click.Path(path_type=Path), metavar="DIR",
              help="Also write an evidence bundle to DIR (new or empty): report, plan, policies "
              "and a manifest of hashes and versions, for `slang verify`.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="PATH", help="Also append every result and credit total to this "
              "hash-chained ledger (JSON Lines, created if missing); prints the new head hash.")
def audit(paths: tuple[str, ...], data: tuple[str, ...], bind: str | None, period: str | None,
          date_from: str | None, date_to: str | None, as_of: str | None, include_drafts: bool,
          fmt: str, output: Path | None, fail_on: str, no_fail: bool, engine: str,
          memory_limit: str | None, threads: int | None, spark_master: str,
          evidence: Path | None, ledger_path: Path | None) -> None:
    """Evaluate the agreements under PATHS over measurement data.

    Prints what was promised, what was delivered and what is owed, per agreement, objective
    and period, with the evidence (hashes of every policy and data file). The same policies,
    data and --as-of always give the same report, byte for byte. PATHS may instead be one
    REV:PATH of the enclosing git repository: the policies as they stood at that revision.
    """
    from slang.engine.audit import PeriodChoice
    from slang.engine.bindings import bindings_from_options, tables_read
    from slang.engine.options import EngineOptions
    from slang.evidence.bundle import Selection, check_target, write_bundle
    from slang.report.render import RENDERERS

    stop_fmt = "json" if fmt == "json" else "text"
    when = _as_of_or_stop(as_of, stop_fmt) or dt.datetime.now(dt.UTC)
    try:  # before the work, so a wrong DIR or a broken ledger costs nothing
        if evidence is not None:
            check_target(evidence)
        if ledger_path is not None:
            from slang.evidence.ledger import precheck  # fcntl: imported only when used

            precheck(ledger_path)
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt)
    model, provenance = _load_audited(paths, stop_fmt)
    choice = PeriodChoice(period, _date_or_stop(date_from, "--from", stop_fmt),
                          _date_or_stop(date_to, "--to", stop_fmt))
    progress = _Progress(enabled=_stderr_is_terminal())
    try:
        tables = bindings_from_options(bind, data, tables_read(model))
        report = slang.audit(model, tables, choice=choice, as_of=when,
                             include_drafts=include_drafts, progress=progress, engine=engine,
                             engine_options=EngineOptions(memory_limit, threads, spark_master))
    except SlangError as exc:
        progress.close()
        _stop(exc.diagnostics, stop_fmt, model.texts)
    progress.close()
    _emit(RENDERERS[fmt](report), output, stop_fmt)
    digest = None
    try:
        if evidence is not None:
            selection = Selection(period, date_from, date_to, include_drafts)
            digest = write_bundle(evidence, report, tables, selection=selection,
                                  command=_argv(), provenance=provenance)
            click.echo(f"evidence bundle written to {evidence.as_posix()} "
                       f"(manifest sha256 {digest})", err=True)
        if ledger_path is not None:
            from slang.evidence.ledger import append_entries, report_entries

            added = append_entries(ledger_path, report_entries(report, digest))
            click.echo(f"ledger {ledger_path.as_posix()}: appended entries {added.first}-"
                       f"{added.last} ({added.superseded} superseding earlier ones), head "
                       f"{added.head}", err=True)
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt)
    failing = FAIL_LEVELS["never" if no_fail else fail_on]
    raise click.exceptions.Exit(
        EXIT_FINDINGS if any(r.status in failing for r in report.results) else EXIT_OK
    )


@main.command(
    epilog="\b\nExamples:\n"
    "  slang audit policies/ --bind bindings.yaml --period 2026-10 \\\n"
    "      --as-of 2026-11-01T00:00:00Z --evidence evidence/2026-10\n"
    "  slang verify evidence/2026-10\n"
    "  slang verify evidence/2026-10 --data edge_requests=archive/edge/ --format json",
)
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--data", "data", multiple=True, metavar="NAME=PATH",
              help="Read a table from this path instead of the one the manifest records.")
@click.option("--bind", "bind", type=click.Path(dir_okay=False, path_type=str), metavar="FILE",
              help="A bindings YAML file overriding the manifest's data paths.")
@click.option("--expect-manifest", metavar="HASH",
              help="The manifest sha256 the audit printed, kept elsewhere: the bundle's "
              "manifest must still have it (catches a bundle rewritten consistently).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the result to FILE instead of stdout.")
def verify(bundle: Path, data: tuple[str, ...], bind: str | None, expect_manifest: str | None,
           fmt: str, output: Path | None) -> None:
    """Re-run an evidence bundle and confirm it gives byte-identical results.

    The policies come from the bundle, the data from the paths its manifest records (relative
    to the directory the audit ran in) or from --data/--bind, and the clock and periods from
    the manifest. Exit 0 when the report, its text and the plan are byte-identical; exit 1
    with the list of what differs (bundle files, policies, engine version, data hashes,
    result values); exit 2 when the bundle cannot be read.
    """
    from slang.engine.bindings import bindings_from_options
    from slang.evidence.verify import render_json, render_text, verify_bundle

    _sha256_or_stop(expect_manifest, "--expect-manifest", fmt)
    try:
        overrides = bindings_from_options(bind, data)
        result = verify_bundle(bundle, overrides, expect_manifest)
    except SlangError as exc:
        _stop(exc.diagnostics, fmt)
    if result.problems and not any(f.failing for f in result.findings):
        _stop(result.problems, fmt)  # nothing to compare: the re-run itself failed
    _emit(render_json(result) if fmt == "json" else render_text(result), output, fmt)
    raise click.exceptions.Exit(EXIT_OK if result.identical else EXIT_FINDINGS)


@main.group(
    epilog="\b\nExamples:\n"
    "  slang audit policies/ --bind bindings.yaml --period 2026-10 \\\n"
    "      --as-of 2026-11-01T00:00:00Z --ledger audit-ledger.jsonl\n"
    "  slang ledger verify audit-ledger.jsonl --expect-head 3f1c...\n"
    "  slang ledger show audit-ledger.jsonl --agreement checkout_retail --format markdown\n"
    "  slang ledger trend audit-ledger.jsonl",
)
def ledger() -> None:
    """Check, print or show trends from the hash-chained audit ledger (`slang audit --ledger`)."""


@ledger.command(
    name="verify",
    epilog="\b\nExamples:\n"
    "  slang ledger verify audit-ledger.jsonl\n"
    "  slang ledger verify audit-ledger.jsonl --expect-head \"$(cat ledger-head.txt)\"",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expect-head", metavar="HASH",
              help="The head hash printed by an earlier append, kept elsewhere: it must be the "
              "head or an entry of the ledger (catches a ledger rewritten from start to end, or "
              "cut at its end).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def ledger_verify(path: Path, expect_head: str | None, fmt: str) -> None:
    """Check every entry's hash and the chain; name the first bad line.

    Exit 0 when the chain is intact (and --expect-head is in it), 1 when an entry was edited,
    removed, inserted or reordered (or the expected head is missing), 2 when the ledger cannot
    be read.
    """
    from slang.evidence.ledger import render_verify, verify_ledger

    _sha256_or_stop(expect_head, "--expect-head", fmt)
    try:
        check = verify_ledger(path, expect_head)
    except SlangError as exc:
        _stop(exc.diagnostics, fmt)
    click.echo(render_verify(check, fmt), nl=False)
    raise click.exceptions.Exit(EXIT_OK if check.ok else EXIT_FINDINGS)


@ledger.command(
    name="show",
    epilog="\b\nExamples:\n"
    "  slang ledger show audit-ledger.jsonl\n"
    "  slang ledger show audit-ledger.jsonl --agreement checkout_retail \\\n"
    "      --from 2026-01-01 --to 2026-12-31 --all --format json",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_LEDGER_AGREEMENT_OPTION
@_LEDGER_FROM_OPTION
@_LEDGER_TO_OPTION
@click.option("--all", "everything", is_flag=True,
              help="Every entry, superseded ones too (default: the latest entry per result).")
@_TEXT_JSON_MARKDOWN_FORMAT
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write to FILE instead of stdout.")
def ledger_show(path: Path, agreements: tuple[str, ...], date_from: str | None,
                date_to: str | None, everything: bool, fmt: str, output: Path | None) -> None:
    """Print the history of delivered against agreed service from a ledger.

    By default the latest entry of every result and credit total (re-audits supersede earlier
    entries); --all prints every entry with what superseded it. A ledger that does not verify
    is not shown (exit 2).
    """
    from slang.evidence.ledger import read_verified, render_show, select

    stop_fmt = "json" if fmt == "json" else "text"
    lo = _date_or_stop(date_from, "--from", stop_fmt)
    hi = _date_or_stop(date_to, "--to", stop_fmt)
    try:
        check = read_verified(path)
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt)
    chosen = select(check.entries, agreements=agreements, date_from=lo, date_to=hi,
                    everything=everything)
    _emit(render_show(check, chosen, fmt, everything), output, stop_fmt)


@ledger.command(
    name="trend",
    epilog="\b\nExamples:\n"
    "  slang ledger trend audit-ledger.jsonl\n"
    "  slang ledger trend audit-ledger.jsonl --agreement checkout_retail \\\n"
    "      --from 2026-01-01 --to 2026-12-31 --format markdown",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_LEDGER_AGREEMENT_OPTION
@_LEDGER_FROM_OPTION
@_LEDGER_TO_OPTION
@_TEXT_JSON_MARKDOWN_FORMAT
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write to FILE instead of stdout.")
def ledger_trend(path: Path, agreements: tuple[str, ...], date_from: str | None,
                 date_to: str | None, fmt: str, output: Path | None) -> None:
    """Show each objective's margin over its periods and flag the worsening ones.

    Per agreement and objective, the latest audit of each complete period in order, with the
    measured value, the target, the margin and the trend; objectives whose margin shrank three
    periods in a row are worsening and come first. Exit 0 (a trend is not a breach), 2 when the
    ledger cannot be read or does not verify.
    """
    from slang.evidence.ledger import read_verified, select
    from slang.evidence.trends import objective_trends, render_trends

    stop_fmt = "json" if fmt == "json" else "text"
    lo = _date_or_stop(date_from, "--from", stop_fmt)
    hi = _date_or_stop(date_to, "--to", stop_fmt)
    try:
        check = read_verified(path)
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt)
    chosen = select(check.entries, agreements=agreements, date_from=lo, date_to=hi)
    _emit(render_trends(check, objective_trends(chosen), fmt), output, stop_fmt)


def _sha256_or_stop(value: str | None, option: str, fmt: str) -> None:
    import re

    if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
        _stop([error(INVALID_INPUT, f"{option} `{value}` is not a SHA-256 hash", _input_span(),
                     "give the 64 lowercase hex digits slang printed")], fmt)


@main.command(
    epilog="\b\nExamples:\n"
    "  slang report policies/ --bind out/demo/bindings.yaml --period 2026-10 \\\n"
    "      --as-of 2026-11-15T00:00:00Z --format html --output review.html\n"
    "  slang report policies/ --bind bindings.yaml --from 2026-07-01 --to 2026-09-30 \\\n"
    "      --customer \"Retail BU\" > retail-q3.md",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@_DATA_OPTION
@click.option("--bind", "bind", type=click.Path(dir_okay=False, path_type=str), metavar="FILE",
              help="A bindings YAML file (as in audit).")
@click.option("--period", metavar="LABEL",
              help="Report the periods that start within a label (as in audit).")
@click.option("--from", "date_from", metavar="DATE", help="First day of the range (with --to).")
@click.option("--to", "date_to", metavar="DATE", help="Last day of the range, included.")
@click.option("--customer", metavar="NAME",
              help="Only the agreements whose `customer` is NAME (exactly as written).")
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="The evaluation clock (default now). Give it for reproducible reports.")
@click.option("--include-drafts", is_flag=True,
              help="Also report draft and proposed agreements.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown",
              show_default=True,
              help="markdown, or html: one self-contained file with inline SVG charts.")
@_REPORT_OUTPUT_OPTION
@click.option("--fail-on", type=click.Choice(list(FAIL_LEVELS)), default="never",
              show_default=True,
              help="Exit 1 when a result is breached (breach), also at risk (at_risk), also "
              "without data (no_data). The report is written either way.")
@click.option("--no-fail", is_flag=True, help="Same as --fail-on never.")
def report(paths: tuple[str, ...], data: tuple[str, ...], bind: str | None,
           period: str | None, date_from: str | None, date_to: str | None,
           customer: str | None, as_of: str | None, include_drafts: bool, fmt: str,
           output: Path | None, fail_on: str, no_fail: bool) -> None:
    """Write a service review report for the agreements under PATHS.

    Per agreement: what was promised (objectives, targets, hours, credit tiers, exclusions
    and their reasons), what was delivered in each period, breaches, credits owed, error
    budget used, the trend over the periods and the time each exclusion removed. The HTML
    form is one file with inline charts (measured against target, the latest period's
    error-budget burn-down, credits per customer), no scripts and nothing to download.
    """
    from slang.engine.audit import PeriodChoice
    from slang.engine.bindings import bindings_from_options, tables_read
    from slang.report.review import review
    from slang.report.review_html import render_review_html
    from slang.report.review_markdown import render_review_markdown

    when = _as_of_or_stop(as_of, "text") or dt.datetime.now(dt.UTC)
    model = _load_valid(paths, "text")
    choice = PeriodChoice(period, _date_or_stop(date_from, "--from", "text"),
                          _date_or_stop(date_to, "--to", "text"))
    try:
        tables = bindings_from_options(bind, data, tables_read(model))
        pack = review(model, tables, choice=choice, as_of=when, customer=customer,
                      include_drafts=include_drafts)
    except SlangError as exc:
        _stop(exc.diagnostics, "text", model.texts)
    render = render_review_html if fmt == "html" else render_review_markdown
    _emit(render(pack), output, "text")
    failing = FAIL_LEVELS["never" if no_fail else fail_on]
    statuses = {row.status for a in pack.agreements for o in a.objectives for row in o.rows}
    raise click.exceptions.Exit(EXIT_FINDINGS if statuses & set(failing) else EXIT_OK)


@main.command(
    epilog="\b\nExamples:\n"
    "  slang catalogue policies/                       # Markdown, with a Mermaid graph\n"
    "  slang catalogue policies/ --format html --output catalogue.html\n"
    "  slang catalogue policies/ --format json | jq '.without_agreements'",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]),
              default="markdown", show_default=True,
              help="markdown (Mermaid graph), html (one file, inline SVG graph) or json "
              "(slang/schemas/catalogue.schema.json).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the catalogue to FILE instead of stdout.")
def catalogue(paths: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Print the service catalogue of the policies under PATHS.

    Every service with its title, owner, tier and dependencies (as a graph), the agreements
    written for it with their objectives and targets, the agreements it underpins through
    the services that depend on it, and the services without an agreement of their own.
    Reads no data: the same policies always give the same output.
    """
    from slang.report.catalogue import (
        build_catalogue,
        render_catalogue_json,
        render_catalogue_markdown,
    )
    from slang.report.catalogue_html import render_catalogue_html

    stop_fmt = "json" if fmt == "json" else "text"
    view = build_catalogue(_load_valid(paths, stop_fmt))
    render = {"json": render_catalogue_json, "html": render_catalogue_html,
              "markdown": render_catalogue_markdown}[fmt]
    _emit(render(view), output, stop_fmt)


def _stderr_is_terminal() -> bool:
    import sys

    return sys.stderr.isatty()


@main.command(
    epilog="\b\nExamples:\n"
    "  slang plan policies/\n"
    "  slang plan policies/ --format json --output plan.json",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="text for people; json follows slang/schemas/plan.schema.json.")
@click.option("--include-drafts", is_flag=True, help="Plan draft and proposed agreements too.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the plan to FILE instead of stdout.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="Where open-ended agreements end when choosing the years of holiday "
              "region dates (`holidays \"GB-ENG\"`); default now.")
@click.option("--sql", "sql_dialect", metavar="DIALECT",
              help="Print the SQL the engine runs instead: duckdb or spark (tested); trino, "
              "bigquery, snowflake (untested transpilations, labelled as such).")
def plan(paths: tuple[str, ...], fmt: str, include_drafts: bool, output: Path | None,
         as_of: str | None, sql_dialect: str | None) -> None:
    """Show how the agreements under PATHS will be evaluated.

    One scan per source (objectives that read the same table share it), then per objective
    the pipeline of operators: read, key, where, time, bucket, aggregate, compare, credit.
    """
    from slang.engine.audit import audited_agreements
    from slang.plan.plan import build_plan, explain

    when = _as_of_or_stop(as_of, fmt)
    model = _load_valid(paths, fmt)
    the_plan = build_plan(model, audited_agreements(model, include_drafts), as_of=when)
    if sql_dialect is not None:
        from slang.engine.sql.explain import dialect_named, explain_sql

        try:
            text = explain_sql(the_plan, dialect_named(sql_dialect, _input_span()))
        except SlangError as exc:
            _stop(exc.diagnostics, fmt, model.texts)
        _emit(text, output, "text")
        return
    _emit(the_plan.to_json() if fmt == "json" else explain(the_plan), output, fmt)


@main.command(
    epilog="\b\nExample:\n"
    "  slang demo out/demo\n"
    "  slang audit policies/ --bind out/demo/bindings.yaml --period 2026-10 \\\n"
    "      --as-of 2026-11-15T00:00:00Z",
)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
def demo(out_dir: Path, seed: int) -> None:
    """Write deterministic example data for the policies/ estate, and a bindings file.

    August to mid-November 2026 of requests, probes, incidents, changes, tickets, pipeline
    runs and capacity samples: checkout breaches in October, the partner API is at risk in
    November.
    """
    from slang.demo import write_demo

    bindings = write_demo(out_dir, seed=seed)
    click.echo(f"wrote {bindings}")
    click.echo(f"next: slang audit policies/ --bind {bindings} --period 2026-10 "
               "--as-of 2026-11-15T00:00:00Z")


# ---------------------------------------------------------------------------- status


def _tables_or_stop(data: tuple[str, ...], bind: str | None, fmt: str, model: slang.Model
                    ) -> dict[str, str]:
    """`--bind FILE` then `--data NAME=PATH` (which wins), as `audit` reads them."""
    from slang.engine.bindings import bindings_from_options, tables_read

    try:
        return bindings_from_options(bind, data, tables_read(model))
    except SlangError as exc:
        _stop(exc.diagnostics, fmt)


@main.command(
    epilog="\b\nExamples:\n"
    "  slang demo out/demo\n"
    "  slang status policies/ --bind out/demo/bindings.yaml --as-of 2026-11-15T00:00:00Z\n"
    "  slang status policies/ --bind bindings.yaml --format json --fail-on ticket",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@_DATA_OPTION
@_BIND_OPTION
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="The clock (default now): the running periods and the alert windows end "
              "here. Give it for reproducible output.")
@click.option("--include-drafts", is_flag=True,
              help="Also show draft and proposed agreements.")
@_TEXT_JSON_MARKDOWN_FORMAT
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the status to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(["breach", "at_risk", "page", "ticket", "never"]),
              default="page", show_default=True,
              help="Exit 1 when an objective is breached (breach), also at risk (at_risk), also "
              "when a page alert fires (page), also a ticket alert (ticket).")
@click.option("--no-fail", is_flag=True, help="Same as --fail-on never.")
def status(paths: tuple[str, ...], data: tuple[str, ...], bind: str | None, as_of: str | None,
           include_drafts: bool, fmt: str, output: Path | None, fail_on: str,
           no_fail: bool) -> None:
    """Show the running period of every agreement under PATHS, most urgent first.

    Per objective: status, measured and projected value, the error budget left and when it runs
    out at the current burn rate, the burn-rate alerts firing (both windows above the factor),
    and who to notify. Breached first, then at risk by the soonest exhaustion, then fast burns.
    """
    from slang.status import RENDERERS
    from slang.status import status as build_status

    stop_fmt = "json" if fmt == "json" else "text"
    when = _as_of_or_stop(as_of, stop_fmt) or dt.datetime.now(dt.UTC)
    model = _load_valid(paths, stop_fmt)
    tables = _tables_or_stop(data, bind, stop_fmt, model)
    try:
        report = build_status(model, tables, as_of=when, include_drafts=include_drafts)
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt, model.texts)
    _emit(RENDERERS[fmt](report), output, stop_fmt)
    failing = report.failing("never" if no_fail else fail_on)
    raise click.exceptions.Exit(EXIT_FINDINGS if failing else EXIT_OK)


# ---------------------------------------------------------------------------- diagnose


def _columns_option(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (value or "").split(",") if c.strip())


@main.command(
    epilog="\b\nExamples:\n"
    "  slang diagnose policies/ --bind bindings.yaml --agreement partner_api_us \\\n"
    "      --as-of 2026-11-15T00:00:00Z --by route\n"
    "  slang diagnose policies/ --bind bindings.yaml --agreement checkout_retail \\\n"
    "      --objective availability --period 2026-10 --by route,method --top 10",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@_DATA_OPTION
@_BIND_OPTION
@click.option("--agreement", "agreement", required=True, metavar="NAME",
              help="The agreement to diagnose.")
@click.option("--objective", "objective", metavar="NAME",
              help="One objective, whatever its status (default: every breached or at-risk one).")
@click.option("--period", metavar="LABEL",
              help="One period, e.g. 2026-10 (default: the running period at --as-of, else the "
              "latest complete one).")
@click.option("--by", "by", metavar="COL[,COL]",
              help="Also break the bad events (or downtime) down by these columns.")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many hours, days and groups to show.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
              help="The clock (default now): rows at or after it do not count.")
@_TEXT_JSON_MARKDOWN_FORMAT
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the diagnosis to FILE instead of stdout.")
def diagnose(paths: tuple[str, ...], data: tuple[str, ...], bind: str | None, agreement: str,
             objective: str | None, period: str | None, by: str | None, top: int,
             as_of: str | None, fmt: str, output: Path | None) -> None:
    """Show where an objective's bad events or downtime came from.

    For the breached or at-risk objectives of one agreement in one period: the worst local
    hours and days (the agreement's time zone), and with --by the column values that
    contributed most, each with its share of the bad events and of the error budget. Exit 0
    when the diagnosis is shown (it is an investigation, not a gate).
    """
    from slang.diagnose import diagnose as build_diagnosis
    from slang.diagnose.render import RENDERERS

    stop_fmt = "json" if fmt == "json" else "text"
    when = _as_of_or_stop(as_of, stop_fmt) or dt.datetime.now(dt.UTC)
    model = _load_valid(paths, stop_fmt)
    tables = _tables_or_stop(data, bind, stop_fmt, model)
    try:
        found = build_diagnosis(model, tables, agreement=agreement, objective=objective,
                                period=period, by=_columns_option(by), top=top, as_of=when)
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt, model.texts)
    _emit(RENDERERS[fmt](found), output, stop_fmt)


# ---------------------------------------------------------------------------- diff


def _impact_options(f: Any) -> Any:
    """The options `diff --impact` and `whatif` share: what data, which periods, which clock."""
    for option in reversed([
        click.option("--data", "data", multiple=True, metavar="NAME=PATH",
                     help="Bind a source's table to a file, directory or glob (as in audit)."),
        click.option("--bind", "bind", type=click.Path(dir_okay=False, path_type=str),
                     metavar="FILE", help="A bindings YAML file (as in audit)."),
        click.option("--period", metavar="LABEL",
                     help="Compare the periods that start within a label (as in audit)."),
        click.option("--from", "date_from", metavar="DATE",
                     help="First day of the range (with --to)."),
        click.option("--to", "date_to", metavar="DATE", help="Last day of the range, included."),
        click.option("--as-of", "as_of", metavar="TIMESTAMP|now",
                     help="The evaluation clock for both versions (default now)."),
    ]):
        f = option(f)
    return f


def _impact_or_stop(old: slang.Model, new: slang.Model, data: tuple[str, ...], bind: str | None,
                    period: str | None, date_from: str | None, date_to: str | None,
                    as_of: str | None, fmt: str) -> Any:
    """Audit both versions over the same data (drafts and proposals included); exit 2 on
    invalid data or options."""
    from slang.diff.impact import impact
    from slang.engine.audit import PeriodChoice
    from slang.engine.bindings import bindings_from_options, tables_read

    when = _as_of_or_stop(as_of, fmt) or dt.datetime.now(dt.UTC)
    choice = PeriodChoice(period, _date_or_stop(date_from, "--from", fmt),
                          _date_or_stop(date_to, "--to", fmt))
    try:
        tables = bindings_from_options(bind, data, tables_read(old, new))
        return impact(old, new, tables, choice=choice, as_of=when)
    except SlangError as exc:
        _stop(exc.diagnostics, fmt, new.texts)


@main.command(
    epilog="\b\nExamples:\n"
    "  slang diff main:policies policies          # what a branch changes, in meaning\n"
    "  slang diff v1.2:policies policies --format markdown > comment.md\n"
    "  slang diff old/ new/ --format json --fail-on change\n"
    "  slang diff main:policies policies --impact --bind bindings.yaml \\\n"
    "      --from 2025-11-01 --to 2026-10-31 --as-of 2026-11-15T00:00:00Z",
)
@click.argument("old")
@click.argument("new")
@click.option("--impact", "with_impact", is_flag=True,
              help="Also evaluate both versions over the same data and show the periods whose "
              "status or credit would change, and the difference in money.")
@_impact_options
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True, help="Report format.")
@_REPORT_OUTPUT_OPTION
@click.option("--fail-on", type=click.Choice(["change", "never"]), default="never",
              show_default=True,
              help="Exit 1 when anything changed in meaning (or, with --impact, in outcome).")
def diff(old: str, new: str, with_impact: bool, data: tuple[str, ...], bind: str | None,
         period: str | None, date_from: str | None, date_to: str | None, as_of: str | None,
         fmt: str, output: Path | None, fail_on: str) -> None:
    """Show what changed in meaning between two versions of the policies.

    OLD and NEW are each a path, or REV:PATH of the enclosing git repository. Per agreement:
    targets tightened or loosened and by how much, objectives added or removed, periods,
    hours, exclusions, effective ranges, fees, credit tiers, status transitions. Formatting,
    comments and order change nothing. With --impact, both versions are evaluated over the
    same data, drafts and proposals included, and the periods whose status or credit changes
    are listed with the difference in money.
    """
    from slang.diff import diff as semantic_diff
    from slang.diff import load_side, render

    stop_fmt = "json" if fmt == "json" else "text"
    if not with_impact and (data or bind or period or date_from or date_to or as_of):
        _stop([error(INVALID_INPUT, "--data, --bind, --period, --from, --to and --as-of are "
                     "options of --impact", _input_span(),
                     "add --impact to evaluate both versions over the data")], stop_fmt)
    sides = []
    for spec in (old, new):
        try:
            side = load_side(spec)
        except SlangError as exc:
            _stop(exc.diagnostics, stop_fmt)
        if side.errors:
            # A side that does not check would look as if its agreements were removed.
            _stop(side.errors, stop_fmt, side.texts)
        sides.append(side)
    changes = semantic_diff(sides[0], sides[1])
    if not with_impact:
        _emit(render(changes, fmt), output, stop_fmt)
        raise click.exceptions.Exit(
            EXIT_FINDINGS if changes and fail_on == "change" else EXIT_OK)
    from slang.diff.impact import render_with_impact

    result = _impact_or_stop(sides[0], sides[1], data, bind, period, date_from, date_to, as_of,
                             stop_fmt)
    _emit(render_with_impact(changes, result, fmt), output, stop_fmt)
    changed = bool(changes) or result.changed
    raise click.exceptions.Exit(EXIT_FINDINGS if changed and fail_on == "change" else EXIT_OK)


# ---------------------------------------------------------------------------- whatif


@main.command(
    epilog="\b\nExamples:\n"
    "  slang whatif policies/ --set checkout_retail.availability=99.5% \\\n"
    "      --bind out/demo/bindings.yaml --period 2026-10 --as-of 2026-11-15T00:00:00Z\n"
    "  slang whatif policies/ --set partner_api_us.availability='>=99.95%' \\\n"
    "      --set checkout_retail.latency=250ms --bind bindings.yaml \\\n"
    "      --from 2025-11-01 --to 2026-10-31 --format markdown",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--set", "edits", multiple=True, required=True, metavar="AGREEMENT.OBJECTIVE=TARGET",
              help="Change an objective's target in memory, e.g. "
              "checkout_retail.availability=99.5% or checkout_retail.latency=250ms; the "
              "operator stays as written unless the value starts with one (>=99.5%). "
              "Repeatable.")
@_impact_options
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True, help="Report format.")
@_REPORT_OUTPUT_OPTION
@click.option("--fail-on", type=click.Choice(["change", "never"]), default="never",
              show_default=True,
              help="Exit 1 when a period's status or credit would change.")
def whatif(paths: tuple[str, ...], edits: tuple[str, ...], data: tuple[str, ...],
           bind: str | None, period: str | None, date_from: str | None, date_to: str | None,
           as_of: str | None, fmt: str, output: Path | None, fail_on: str) -> None:
    """Show what editing objective targets would change, over the same data.

    The policies under PATHS are loaded, each --set edit is applied to a copy in memory (no
    file is written), and both versions are compared exactly as `slang diff --impact` does:
    the changes in meaning, then the periods whose status or credit would change and the
    difference in money.
    """
    from slang.diff import diff as semantic_diff
    from slang.diff.impact import apply_edits, parse_edit, render_with_impact

    stop_fmt = "json" if fmt == "json" else "text"
    model = _load_valid(paths, stop_fmt)
    try:
        parsed = [parse_edit(model, e) for e in edits]
    except SlangError as exc:
        _stop(exc.diagnostics, stop_fmt)
    edited = apply_edits(model, parsed)
    changes = semantic_diff(model, edited)
    result = _impact_or_stop(model, edited, data, bind, period, date_from, date_to, as_of,
                             stop_fmt)
    _emit(render_with_impact(changes, result, fmt, parsed), output, stop_fmt)
    raise click.exceptions.Exit(
        EXIT_FINDINGS if result.changed and fail_on == "change" else EXIT_OK)


# ---------------------------------------------------------------------------- import / export


def _expand_inputs(paths: Sequence[str]) -> list[str]:
    """Files as given; a directory stands for its `*.yaml` and `*.yml` files, sorted."""
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(str(f) for f in sorted(path.iterdir())
                       if f.suffix in (".yaml", ".yml") and f.is_file())
        else:
            out.append(p)
    return out


def _report_import(result: Any, fmt: str, output_dir: Path | None) -> None:
    """Write the imported slang (stdout, or one `.sla` per input file in DIR), then the
    diagnostics on stderr; exit 2 if an input could not be read or was invalid."""
    if output_dir is not None:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            for source, text in result.files:
                (output_dir / (Path(source).stem + ".sla")).write_text(text, encoding="utf-8")
        except OSError as exc:
            _stop([error(INVALID_INPUT, f"cannot write to `{output_dir}`: {exc.strerror}",
                         _input_span())], fmt)
    elif result.files:
        click.echo(result.combined(), nl=False)
    if fmt == "json":
        click.echo(render_json(result.diagnostics), err=True)
    elif result.diagnostics:
        click.echo(render_text_all(result.diagnostics, result.texts), err=True)
    if any(d.severity is Severity.ERROR for d in result.diagnostics):
        raise click.exceptions.Exit(EXIT_UNABLE)


_FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="How diagnostics are written on stderr.")


_IMPORT_OUTPUT_OPTION = click.option(
    "--output", "-o", "output_dir", type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR", help="Write one .sla file per input file here (else stdout).")


@main.group(name="import", context_settings=_CONTEXT)
def import_group() -> None:
    """Turn OpenSLO or Sloth documents into slang policies.

    What a document says that slang cannot carry is a coded warning naming the file, the line
    and the field (SLG10xx). See docs/interop.md.
    """


@import_group.command(
    name="openslo",
    epilog="\b\nExamples:\n  slang import openslo slos/ -o policies/imported\n"
    "  slang import openslo service.yaml slo.yaml > imported.sla",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@_IMPORT_OUTPUT_OPTION
@_FORMAT_OPTION
def import_openslo_command(files: tuple[str, ...], output_dir: Path | None, fmt: str) -> None:
    """OpenSLO v1, v1alpha and v2alpha documents (Service, SLO, SLI, DataSource, AlertPolicy,
    AlertCondition, AlertNotificationTarget, BudgetAdjustment) as formatted slang."""
    from slang.interop.openslo import import_openslo

    _report_import(import_openslo(_expand_inputs(files)), fmt, output_dir)


@import_group.command(
    name="sloth",
    epilog="\b\nExamples:\n  slang import sloth slos/ -o policies/imported\n"
    "  slang import sloth getting-started.yml",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@_IMPORT_OUTPUT_OPTION
@_FORMAT_OPTION
def import_sloth_command(files: tuple[str, ...], output_dir: Path | None, fmt: str) -> None:
    """Sloth `prometheus/v1` specs (and the Kubernetes PrometheusServiceLevel form) as
    formatted slang."""
    from slang.interop.sloth import import_sloth

    _report_import(import_sloth(_expand_inputs(files)), fmt, output_dir)


@main.group(name="export", context_settings=_CONTEXT)
def export_group() -> None:
    """Write agreements in other tools' formats: OpenSLO documents, Prometheus rules.

    What slang says that the target cannot carry is a coded warning (SLG10xx) on stderr. See
    docs/interop.md.
    """


def _report_export(text: str, diags: Sequence[Diagnostic], sources: SourceCache, fmt: str,
                   output: Path | None) -> None:
    _emit(text, output, fmt)
    if fmt == "json":
        click.echo(render_json(diags), err=True)
    elif diags:
        click.echo(render_text_all(diags, sources), err=True)


@export_group.command(
    name="prometheus",
    epilog="\b\nExamples:\n  slang export prometheus policies/ -o rules/slang.rules.yaml\n"
    "  promtool check rules rules/slang.rules.yaml",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rule file here instead of stdout.")
@_FORMAT_OPTION
def export_prometheus_command(paths: tuple[str, ...], output: Path | None, fmt: str) -> None:
    """Recording rules and multi-window multi-burn-rate alerts (Prometheus rule-file YAML) for
    the ratio objectives of agreed agreements whose sources have a `prometheus` block."""
    from slang.interop.prometheus import export_prometheus

    model = _load_valid(paths, fmt)
    result = export_prometheus(model)
    _report_export(result.text, result.diagnostics, model.texts, fmt, output)


@export_group.command(
    name="openslo",
    epilog="\b\nExamples:\n  slang export openslo policies/ -o openslo.yaml\n"
    "  slang export openslo policies/agreements/checkout.sla",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the documents here instead of stdout.")
@_FORMAT_OPTION
def export_openslo_command(paths: tuple[str, ...], output: Path | None, fmt: str) -> None:
    """OpenSLO v1 documents (Service, SLO with inline SLIs and alert policies) for what
    OpenSLO can express of the agreements; the rest is a warning on stderr."""
    from slang.interop.openslo_export import export_openslo

    model = _load_valid(paths, fmt)
    result = export_openslo(model)
    _report_export(result.text, result.diagnostics, model.texts, fmt, output)
    if any(d.severity is Severity.ERROR for d in result.diagnostics):
        raise click.exceptions.Exit(EXIT_UNABLE)
