"""Golden diagnostics: one small policy per error code, and the exact text slang prints for it.

`tests/diagnostics/SLGxxxx.sla` is a policy that makes slang report SLGxxxx; next to it,
`SLGxxxx.expected` is what `render_text` prints for every diagnostic of loading it, joined by
blank lines, as seen from the repository root. A change to a message, a position, a caret or a
hint shows up here as a diff a reviewer can read.

Directives, in the comment lines at the top of a case:

    # as-of: 2026-11-01T00:00:00Z   the clock passed to `slang.load` (lifecycle warnings)
    # paths: a b                    load these paths (relative to tests/diagnostics/) instead of
                                    the case itself (missing files, empty directories)
    # cli: check --as-of X {file}   run the command line instead and compare what it prints on
                                    stderr ({file} is the case's path); for codes only the
                                    command line can give
    # side: REV:{file}              load this side of `slang diff` (`slang.diff.load_side`)
                                    and compare what it reports: for the REV:PATH codes
    # lint: on                      also lint the loaded model, as `slang check` does
                                    (`slang.lint.check_model`: rules, suppressions, config)
    # lint: support/x/slang.toml    the same, with the lint configuration of that file
                                    (relative to tests/diagnostics/)
    # without: holidays             load with this Python module unimportable, as on a broken
                                    install (for the codes of a missing dependency)

Helper modules that cases import live in `tests/diagnostics/support/` (they are not cases).

After a deliberate change, regenerate with `SLANG_REGEN=1 pytest tests/test_diagnostics.py`
and read the diff of every `.expected` file before committing it.

The same tests keep `docs/errors.md` in step with the code: every code slang can emit has a
section there and a golden case, and every documented code still exists.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import slang
from slang.cli import main as cli_main
from slang.diagnostics import Diagnostic, SlangError, render_text_all
from slang.diff import load_side
from slang.lint import check_model

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "diagnostics"
ERRORS_DOC = REPO / "docs" / "errors.md"
CASES = sorted(GOLDEN.glob("SLG*.sla"))
REGEN = os.environ.get("SLANG_REGEN") == "1"

CODE_IN_SOURCE = re.compile(r"""["'](SLG\d{4})["']""")
DOC_HEADING = re.compile(r"^### (SLG\d{4}): \S", re.MULTILINE)
DIRECTIVE = re.compile(r"#\s*(as-of|paths|cli|lint|without):\s*(.*?)\s*$")

# Codes raised only by these packages come from evaluating agreements against data, which loading
# a policy (or `slang check`) cannot reach: they need a section in docs/errors.md, but a golden
# case only once there is a way to run an evaluation from here.
EVALUATION_PACKAGES = ("engine", "plan", "report", "status", "diagnose")

# The layers of slang/diagnostics.py's docstring: the `## ` heading of docs/errors.md that holds
# each group of codes.
GROUPS = {
    "SLG00": "## SLG00xx: files, paths, command-line input",
    "SLG01": "## SLG01xx: syntax",
    "SLG02": "## SLG02xx: modules and names",
    "SLG03": "## SLG03xx: types, units and literal values",
    "SLG04": "## SLG04xx: meaning of agreements, calendars and catalogues",
    "SLG05": "## SLG05xx: warnings about lifecycle and hygiene",
    "SLG06": "## SLG06xx: data binding and validation",
    "SLG07": "## SLG07xx: evaluation",
    "SLG08": "## SLG08xx: policy tests",
    "SLG09": "## SLG09xx: evidence, verification and ledger",
    "SLG10": "## SLG10xx: import and export",
    "SLG11": "## SLG11xx: SQL engines",
}


# ---------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    path: Path
    as_of: dt.datetime | None
    paths: tuple[str, ...] | None
    cli: tuple[str, ...] | None
    lint: str | None = None  # `on`, or a configuration file relative to GOLDEN
    without: str | None = None  # a module made unimportable while the case loads

    @property
    def code(self) -> str:
        return self.path.stem

    @property
    def shown(self) -> str:
        return self.path.relative_to(REPO).as_posix()

    @property
    def expected(self) -> Path:
        return self.path.with_suffix(".expected")


def read_case(path: Path) -> Case:
    """Directives are read as Latin-1 so that a case holding bytes that are not UTF-8 (SLG0001)
    can still be read; they are ASCII anyway."""
    found: dict[str, str] = {}
    for line in path.read_bytes().decode("latin-1").splitlines():
        if not line.startswith("#"):
            break
        m = DIRECTIVE.fullmatch(line)
        if m:
            found[m[1]] = m[2]
    shown = path.relative_to(REPO).as_posix()
    as_of = paths = cli = None
    if "as-of" in found:
        as_of = dt.datetime.fromisoformat(found["as-of"])
    if "paths" in found:
        paths = tuple((GOLDEN / p).relative_to(REPO).as_posix() for p in found["paths"].split())
    if "cli" in found:
        cli = tuple(a.replace("{file}", shown) for a in shlex.split(found["cli"]))
    return Case(path, as_of, paths, cli, found.get("lint"), found.get("without"))


@dataclass(frozen=True)
class Run:
    text: str  # what a person sees
    diagnostics: tuple[dict, ...]  # the JSON form: code, severity, message, file, line, ...
    exit_code: int | None  # for command-line cases


@cache
def run(path: Path) -> Run:
    case = read_case(path)
    cwd = Path.cwd()
    os.chdir(REPO)  # paths print relative to the directory slang runs in
    try:
        side = read_side(path)
        if side is not None:
            return _run_side(side)
        if case.cli is not None:
            return _run_cli(case.cli)
        with _unimportable(case.without):
            model = slang.load(case.paths or [case.shown], as_of=case.as_of)
        diagnostics = _lint(model, case) if case.lint is not None else model.diagnostics
        return Run(
            render_text_all(diagnostics, model.texts),
            tuple(d.to_dict() for d in diagnostics),
            None,
        )
    finally:
        os.chdir(cwd)


@contextmanager
def _unimportable(module: str | None) -> Iterator[None]:
    """`import module` fails inside the block (a None entry in sys.modules does that)."""
    if module is None:
        yield
        return
    saved = {k: v for k, v in sys.modules.items() if k == module or k.startswith(module + ".")}
    for k in saved:
        del sys.modules[k]
    sys.modules[module] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules[module]
        sys.modules.update(saved)


def _lint(model: slang.Model, case: Case) -> list[Diagnostic]:
    """What `slang check` shows once lint runs: a bad configuration stops it (SLG0020)."""
    start = None if case.lint == "on" else GOLDEN / (case.lint or "")
    try:
        return check_model(model, as_of=case.as_of, start=start)
    except SlangError as exc:
        return exc.diagnostics


SIDE_DIRECTIVE = re.compile(r"#\s*side:\s*(.*?)\s*$")


def read_side(path: Path) -> str | None:
    """The spec of a `# side:` directive, `{file}` replaced by the case's path."""
    for line in path.read_bytes().decode("latin-1").splitlines():
        if not line.startswith("#"):
            break
        m = SIDE_DIRECTIVE.fullmatch(line)
        if m:
            return m[1].replace("{file}", path.relative_to(REPO).as_posix())
    return None


def _run_side(spec: str) -> Run:
    """A diff side that cannot be read raises: its diagnostics are the output."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("REV:PATH cases need git and the repository's history")
    try:
        model = load_side(spec)
    except SlangError as exc:
        return Run(render_text_all(exc.diagnostics), tuple(d.to_dict() for d in exc.diagnostics),
                   None)
    return Run(render_text_all(model.diagnostics, model.texts),
               tuple(d.to_dict() for d in model.diagnostics), None)


def _offers_json(command: list[str]) -> bool:
    """Whether a command has `--format json`: `slang report` writes Markdown or HTML only."""
    found: click.Command = cli_main
    for name in command:
        found = found.commands[name]  # type: ignore[attr-defined]
    formats = next((p for p in found.params if p.name == "fmt"), None)
    return formats is not None and "json" in getattr(formats.type, "choices", ())


def _run_cli(args: tuple[str, ...]) -> Run:
    runner = CliRunner()
    text = runner.invoke(cli_main, list(args))
    # `--format json` goes right after the command: after the subcommand for a group
    # (`ledger show`).
    depth = 2 if isinstance(cli_main.commands.get(args[0]), click.Group) else 1
    command, rest = list(args[:depth]), list(args[depth:])
    if not _offers_json(command):
        return Run(text.stderr.rstrip("\n"), _parse_text_diagnostics(text.stderr),
                   text.exit_code)
    as_json = runner.invoke(cli_main, [*command, "--format", "json", *rest])
    assert text.exit_code == as_json.exit_code, (text.output, as_json.output)
    doc = json.loads(as_json.stderr)
    return Run(text.stderr.rstrip("\n"), tuple(doc["diagnostics"]), text.exit_code)


HEADER_LINE = re.compile(
    r"^(?P<file>.+?)(?::(?P<line>\d+):(?P<col>\d+))?: (?P<severity>error|warning)"
    r"\[(?P<code>SLG\d{4})\]: (?P<message>.*)$")


def _parse_text_diagnostics(stderr: str) -> tuple[dict, ...]:
    """The diagnostics of a command without `--format json`, read back from their header and
    hint lines (the fields the checks below compare)."""
    found: list[dict] = []
    for line in stderr.splitlines():
        m = HEADER_LINE.match(line)
        if m:
            found.append({"file": m["file"], "line": int(m["line"] or 0),
                          "col": int(m["col"] or 0), "severity": m["severity"],
                          "code": m["code"], "message": m["message"], "hint": None})
        elif found and line.startswith("  = hint: "):
            found[-1]["hint"] = line.removeprefix("  = hint: ")
    return tuple(found)


def case_id(path: Path) -> str:
    return path.stem


# ---------------------------------------------------------------------------- golden output


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_golden_output(path: Path) -> None:
    case = read_case(path)
    result = run(path)
    if REGEN:
        case.expected.write_text(result.text + "\n", encoding="utf-8")
    assert case.expected.exists(), f"no {case.expected.name}: run with SLANG_REGEN=1"
    assert result.text + "\n" == case.expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_case_reports_its_own_code(path: Path) -> None:
    case = read_case(path)
    codes = [d["code"] for d in run(path).diagnostics]
    assert case.code in codes


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_every_diagnostic_is_an_error_or_warning_with_a_message(path: Path) -> None:
    diags = run(path).diagnostics
    assert diags
    for d in diags:
        assert d["severity"] in ("error", "warning"), d
        assert isinstance(d["message"], str) and d["message"].strip(), d
        assert re.fullmatch(r"SLG\d{4}", d["code"]), d
        assert d["hint"] is None or d["hint"].strip(), d


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_text_and_json_agree(path: Path) -> None:
    """Each diagnostic's header line in the text is built from its JSON fields."""
    result = run(path)
    for d in result.diagnostics:
        where = f"{d['file']}:{d['line']}:{d['col']}" if d["line"] else d["file"]
        header = f"{where}: {d['severity']}[{d['code']}]: {d['message']}"
        assert header in result.text.splitlines(), header


def test_command_line_cases_stop_with_exit_code_2() -> None:
    """An error stops the command (2); warnings alone (`slang import` telling what it could not
    carry) leave it successful."""
    cli_cases = [p for p in CASES if read_case(p).cli is not None]
    assert cli_cases
    for path in cli_cases:
        result = run(path)
        errors = any(d["severity"] == "error" for d in result.diagnostics)
        assert result.exit_code == (2 if errors else 0), path.name


def test_a_file_that_is_not_utf8_is_reported_without_reading_it_as_policy() -> None:
    result = run(GOLDEN / "SLG0001.sla")
    assert [d["code"] for d in result.diagnostics] == ["SLG0001"]
    (d,) = result.diagnostics
    assert d["file"] == "tests/diagnostics/SLG0001.sla"
    # The bad byte is the first \xe9 in the file, byte 50 (the first comment line is ASCII):
    # line 1, column 51.
    assert (GOLDEN / "SLG0001.sla").read_bytes().index(b"\xe9") == 50
    assert (d["line"], d["col"]) == (1, 51)
    assert "byte 50 cannot be decoded" in d["message"]


# ---------------------------------------------------------------------------- imports and root


def _policy(body: str) -> str:
    return (
        'catalogue "Kestrel Retail" {\n'
        '  service checkout { title "Checkout API" owner "payments-team" }\n'
        "}\n" + body
    )


def test_symlink_out_of_the_policy_root_is_refused(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "repo"
    (root / "shared").mkdir(parents=True)
    (root / "slang.toml").write_text("", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "secret.sla"
    secret.write_text('events leaked from "leaked" { key service }\n', encoding="utf-8")
    link = root / "shared" / "sources.sla"
    try:
        link.symlink_to(secret)
    except OSError:  # pragma: no cover - a file system without symbolic links
        pytest.skip("symbolic links are not available here")
    policy = root / "policy.sla"
    policy.write_text('import "./shared/sources.sla" as src\n' + _policy(""), encoding="utf-8")
    monkeypatch.chdir(root)

    model = slang.load(["policy.sla"])

    assert [(d.code, d.span.line, d.span.col) for d in model.diagnostics] == [("SLG0206", 1, 8)]
    (d,) = model.diagnostics
    assert d.span.file == "policy.sla"
    assert d.message == "import `./shared/sources.sla` leaves the policy root `.`"
    assert "symbolic links are followed" in (d.hint or "")
    # The target was never read: it is neither a file of the model nor a source text.
    assert [f.path for f in model.files] == ["policy.sla"]
    assert model.texts.line(secret.as_posix(), 1) is None
    assert "leaked" not in model.sources


def test_symlinked_directory_out_of_the_root_is_refused(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "slang.toml").write_text("", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "sources.sla").write_text('events leaked from "leaked"\n', encoding="utf-8")
    try:
        (root / "shared").symlink_to(outside, target_is_directory=True)
    except OSError:  # pragma: no cover
        pytest.skip("symbolic links are not available here")
    (root / "policy.sla").write_text(
        'import "./shared/sources.sla" as src\n' + _policy(""), encoding="utf-8"
    )
    monkeypatch.chdir(root)

    model = slang.load(["policy.sla"])

    assert [d.code for d in model.diagnostics] == ["SLG0206"]
    assert [f.path for f in model.files] == ["policy.sla"]


def test_symlink_inside_the_root_is_followed(tmp_path: Path, monkeypatch) -> None:
    """The root check is about where a link points, not about links as such."""
    root = tmp_path / "repo"
    (root / "shared").mkdir(parents=True)
    (root / "slang.toml").write_text("", encoding="utf-8")
    real = root / "shared" / "sources_v2.sla"
    real.write_text('events requests from "requests" { key service }\n', encoding="utf-8")
    try:
        (root / "shared" / "sources.sla").symlink_to(real)
    except OSError:  # pragma: no cover
        pytest.skip("symbolic links are not available here")
    (root / "policy.sla").write_text(
        'import "./shared/sources.sla" as src\n' + _policy(""), encoding="utf-8"
    )
    monkeypatch.chdir(root)

    model = slang.load(["policy.sla"])

    assert model.diagnostics == []
    assert "shared/sources_v2.sla" in [f.path for f in model.files]


# ---------------------------------------------------------------------------- docs in step


# slang/codes.py lists every code with its title (for SARIF); it raises none of them.
REGISTRY = REPO / "slang" / "codes.py"


@cache
def _codes_by_file() -> dict[Path, set[str]]:
    return {
        path: set(CODE_IN_SOURCE.findall(path.read_text(encoding="utf-8")))
        for path in (REPO / "slang").rglob("*.py")
        if path != REGISTRY
    }


def codes_in_source() -> set[str]:
    """Every code written as a string literal anywhere in the package."""
    return set().union(*_codes_by_file().values())


def codes_check_can_emit() -> set[str]:
    """Codes raised outside the evaluation packages: loading, checking, the command line."""
    found: set[str] = set()
    for path, codes in _codes_by_file().items():
        if path.relative_to(REPO / "slang").parts[0] not in EVALUATION_PACKAGES:
            found |= codes
    return found


def documented_codes() -> list[str]:
    return DOC_HEADING.findall(ERRORS_DOC.read_text(encoding="utf-8"))


def doc_sections() -> dict[str, str]:
    """The text of each `### SLGxxxx` section, up to the next heading of level 2 or 3."""
    text = ERRORS_DOC.read_text(encoding="utf-8")
    parts = re.split(r"^(?=#{2,3} )", text, flags=re.MULTILINE)
    out: dict[str, str] = {}
    for part in parts:
        m = DOC_HEADING.match(part)
        if m:
            out[m[1]] = part
    return out


def test_the_code_base_emits_a_plausible_number_of_codes() -> None:
    # Guards the regular expression below: if it stopped matching, every other check would pass.
    assert len(codes_in_source()) >= 50
    assert {"SLG0001", "SLG0101", "SLG0201", "SLG0301", "SLG0401", "SLG0501"} <= codes_in_source()


def test_every_code_in_the_code_base_is_documented() -> None:
    missing = sorted(codes_in_source() - set(documented_codes()))
    assert not missing, f"add a `### CODE: title` section to docs/errors.md for {missing}"


def test_every_code_in_the_code_base_has_a_golden_case() -> None:
    missing = sorted(codes_check_can_emit() - {p.stem for p in CASES})
    assert not missing, f"add tests/diagnostics/CODE.sla (and .expected) for {missing}"


def test_every_documented_code_exists_in_the_code_base() -> None:
    stale = sorted(set(documented_codes()) - codes_in_source())
    assert not stale, f"docs/errors.md documents codes slang no longer emits: {stale}"


def test_every_golden_case_is_for_a_code_that_exists() -> None:
    stale = sorted({p.stem for p in CASES} - codes_in_source())
    assert not stale, f"golden cases for codes slang no longer emits: {stale}"


def test_each_code_is_documented_once_in_order_under_its_group() -> None:
    codes = documented_codes()
    assert len(codes) == len(set(codes)), "a code is documented twice"
    assert codes == sorted(codes)
    text = ERRORS_DOC.read_text(encoding="utf-8")
    group_at = {heading: text.find("\n" + heading + "\n") for heading in GROUPS.values()}
    for code in codes:
        heading = GROUPS[code[:5]]
        assert group_at[heading] >= 0, f"docs/errors.md has no `{heading}` heading"
        at = text.find(f"\n### {code}: ")
        later = [p for h, p in group_at.items() if h != heading and p > group_at[heading]]
        assert group_at[heading] < at < min(later, default=len(text)), (
            f"{code} is not under `{heading}`"
        )


@pytest.mark.parametrize("code", sorted(codes_in_source()))
def test_documented_example_is_the_real_output(code: str) -> None:
    """Each section shows a policy and the diagnostic slang prints for it. Both come from the
    golden case (the policy may be an excerpt), so the page cannot drift from the code."""
    section = doc_sections().get(code)
    assert section is not None, f"docs/errors.md has no `### {code}: ...` section"
    for heading in ("When it fires", "Example", "How to fix it"):
        assert f"**{heading}**" in section, f"{code}: no **{heading}** part"
    shown = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)
    if code not in codes_check_can_emit() and not (GOLDEN / f"{code}.sla").exists():
        return  # an evaluation code without a golden run yet: the example is in words
    assert shown, f"{code}: no rendered diagnostic in a ```text block"
    expected = (GOLDEN / f"{code}.expected").read_text(encoding="utf-8")
    for block in shown:
        assert block in expected + "\n" or block.rstrip("\n") in expected, (
            f"{code}: the example in docs/errors.md is not slang's output; copy it from "
            f"tests/diagnostics/{code}.expected"
        )
        assert f"[{code}]" in block
    # The policy shown is an excerpt of the case or of a helper module it imports.
    policies = [(GOLDEN / f"{code}.sla"), *sorted((GOLDEN / "support").glob("*.sla"))]
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in policies]
    for block in re.findall(r"```sla\n(.*?)```", section, flags=re.DOTALL):
        assert any(block in t for t in texts), (
            f"{code}: the policy in docs/errors.md is not an excerpt of tests/diagnostics/"
            f"{code}.sla (or of a module in tests/diagnostics/support/)"
        )
