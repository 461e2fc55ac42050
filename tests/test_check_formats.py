"""`slang check --format junit|sarif|github`: what CI systems read, as they read it.

Three estates (clean, one error, only a warning) run through every format and every
`--fail-on`, so the exit codes are pinned for each; then each format is read the way its
consumer reads it: SARIF validated against the official 2.1.0 schema, JUnit parsed as XML and
counted, GitHub workflow commands compared line for line, escaping included.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
from click.testing import CliRunner, Result

import slang
from slang.cli import main
from slang.codes import CODE_TITLES, DOCS_URL_VARIABLE, anchor, help_uri
from slang.diagnostics import Diagnostic, Severity, SourceCache, error, warning
from slang.report.check_formats import (
    CheckRun,
    escape_github_data,
    escape_github_property,
    render_github,
    render_junit,
    render_sarif,
    repository_root,
)
from slang.syntax.span import Span

HOME_URL = "https://docs.slang.test/tree"
ERRORS_DOC_URL = HOME_URL + "/docs/errors.md"
REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(
    (REPO / "tests" / "fixtures" / "sarif" / "sarif-2.1.0.schema.json").read_text("utf-8"))
FORMATS = ["text", "json", "junit", "sarif", "github"]

SOURCES = """\
catalogue "Acme Digital" {
  service checkout { title "Checkout API"  owner "payments-team"  tier gold }
}

events requests from "requests" {
  time  ts
  key   service
}
"""

AGREEMENT = """\
agreement checkout_retail {
  service   checkout
  customer  "Retail BU"
  provider  "Platform Operations"
  status    agreed
  period    monthly
  fee       12000.00 GBP
  review    every 3 months
  reviewed  2026-10-01
  notify    "ops@example.com" on breach

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
  credit availability {
    below 99.9% => 10%
  }
}
"""

# Credits without a fee: SLG0503, a warning, at line 1 column 11 (the agreement's name).
NO_FEE = AGREEMENT.replace("  fee       12000.00 GBP\n", "")

# Line 3, column 13 is the `}` where a service name must be: SLG0101, an error.
BROKEN = """\
agreement broken {
  customer "Retail BU"
  service   }
"""


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two clean files in their own repository (a `.git` directory); the working directory is
    its root."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "slang.toml").write_text("")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "sources.sla").write_text(SOURCES)
    (policies / "agreements.sla").write_text(AGREEMENT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def with_error(clean: Path) -> Path:
    (clean / "policies" / "bad.sla").write_text(BROKEN)
    return clean


@pytest.fixture
def with_warning(clean: Path) -> Path:
    (clean / "policies" / "agreements.sla").write_text(NO_FEE)
    return clean


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check(fmt: str, *extra: str) -> Result:
    return run("check", "policies", "--format", fmt, *extra)


# ---------------------------------------------------------------------------- exit codes

# (estate, --fail-on) -> exit code: the same for every format.
EXITS = {
    ("clean", "error"): 0, ("clean", "warning"): 0, ("clean", "never"): 0,
    ("with_error", "error"): 1, ("with_error", "warning"): 1, ("with_error", "never"): 0,
    ("with_warning", "error"): 0, ("with_warning", "warning"): 1, ("with_warning", "never"): 0,
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("estate", "fail_on"), list(EXITS))
def test_exit_codes_are_the_same_in_every_format(
    request: pytest.FixtureRequest, fmt: str, estate: str, fail_on: str
) -> None:
    request.getfixturevalue(estate)
    result = check(fmt, "--fail-on", fail_on)
    assert result.exit_code == EXITS[estate, fail_on], result.output
    assert result.stderr == ""
    assert result.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_fail_wins_in_every_format(with_error: Path, fmt: str) -> None:
    assert check(fmt, "--fail-on", "warning", "--no-fail").exit_code == 0


@pytest.mark.parametrize("fmt", ["junit", "sarif", "github"])
def test_input_errors_stay_text_on_stderr(clean: Path, fmt: str) -> None:
    """A path that does not exist is not a finding about policies: exit 2, the text
    diagnostic on stderr, nothing on stdout for a CI tool to mistake for a report."""
    result = run("check", "policies", "nope.sla", "--format", fmt)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "nope.sla: error[SLG0002]: no such file or directory: `nope.sla`\n"
    bad_clock = run("check", "policies", "--format", fmt, "--as-of", "soon")
    assert bad_clock.exit_code == 2
    assert bad_clock.stderr.startswith("<command line>: error[SLG0004]: invalid --as-of: ")


@pytest.mark.parametrize("fmt", ["junit", "sarif", "github"])
def test_output_file(with_error: Path, fmt: str) -> None:
    result = check(fmt, "--output", "report.out")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (with_error / "report.out").read_text("utf-8") == check(fmt).stdout


# ---------------------------------------------------------------------------- SARIF


def sarif_of(result: Result) -> dict:
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    return log


def test_sarif_schema_is_the_official_one() -> None:
    assert SCHEMA["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
        "sarif-schema-2.1.0.json")
    assert len(SCHEMA["definitions"]) == 52
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_sarif_clean(clean: Path) -> None:
    log = sarif_of(check("sarif"))
    assert log["version"] == "2.1.0"
    (the_run,) = log["runs"]
    assert the_run["tool"]["driver"] == {
        "name": "slang",
        "version": slang.__version__,
        "informationUri": HOME_URL,
        "rules": [],
    }
    assert the_run["results"] == []
    assert the_run["columnKind"] == "unicodeCodePoints"


def test_sarif_error(with_error: Path) -> None:
    log = sarif_of(check("sarif"))
    (the_run,) = log["runs"]
    assert the_run["tool"]["driver"]["rules"] == [{
        "id": "SLG0101",
        "shortDescription": {"text": "Syntax error", "markdown": "Syntax error"},
        "helpUri": f"{ERRORS_DOC_URL}#slg0101-syntax-error",
        "help": {
            "text": f"SLG0101: Syntax error. When it fires and how to fix it: "
                    f"{ERRORS_DOC_URL}#slg0101-syntax-error",
            "markdown": f"**SLG0101: Syntax error**. [When it fires and how to fix it]"
                        f"({ERRORS_DOC_URL}#slg0101-syntax-error).",
        },
    }]
    assert the_run["results"] == [{
        "ruleId": "SLG0101",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "unexpected `}`; expected a name"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "policies/bad.sla", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 3, "startColumn": 13, "endLine": 3, "endColumn": 14},
        }}],
    }]


def test_sarif_warning(with_warning: Path) -> None:
    log = sarif_of(check("sarif", "--fail-on", "warning"))
    (the_run,) = log["runs"]
    assert [r["id"] for r in the_run["tool"]["driver"]["rules"]] == ["SLG0503"]
    assert the_run["tool"]["driver"]["rules"][0]["shortDescription"]["text"] == (
        "Credits without a fee")
    (result,) = the_run["results"]
    assert result["level"] == "warning"
    assert result["message"]["text"] == (
        "agreement `checkout_retail` has credits but no `fee`\n"
        "hint: credits are percentages of the fee; add e.g. `fee 12000.00 GBP`")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "policies/agreements.sla", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 11, "endLine": 1, "endColumn": 26},
    }


def test_sarif_uris_are_relative_to_the_repository_root(
    with_error: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a subdirectory, text output names `bad.sla`, but code scanning needs the path
    from the top of the checkout."""
    monkeypatch.chdir(with_error / "policies")
    result = run("check", "bad.sla", "--format", "sarif")
    assert result.exit_code == 1
    (result_0,) = sarif_of(result)["runs"][0]["results"]
    artifact = result_0["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "policies/bad.sla", "uriBaseId": "%SRCROOT%"}


def _run_of(diags: list[Diagnostic], files: list[tuple[str, str]],
            paths: dict[str, str] | None = None) -> CheckRun:
    return CheckRun(diags, files, paths=paths or {})


def test_sarif_regions_whole_files_escaped_uris_and_files_outside(tmp_path: Path) -> None:
    """Line 0 means the whole file: no region. A multi-line span keeps its end. A path with a
    space is a percent-encoded URI. A file outside the repository gets an absolute URI."""
    root = tmp_path / "repo"
    (root / "my policies").mkdir(parents=True)
    spaced = root / "my policies" / "a b.sla"
    outside = tmp_path / "elsewhere.sla"
    diags = [
        error("SLG0001", "not UTF-8", Span("whole.sla", 0, 0, 0, 0)),
        Diagnostic("SLG0407", "no objectives", Span("a b.sla", 2, 5, 4, 2), Severity.INFO),
        warning("SLG0502", "overdue", Span("elsewhere.sla", 1, 1, 1, 4)),
    ]
    paths = {"whole.sla": str(root / "whole.sla"), "a b.sla": str(spaced),
             "elsewhere.sla": str(outside)}
    log = json.loads(render_sarif(_run_of(diags, [], paths=paths), root))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    the_run = log["runs"][0]
    assert [r["id"] for r in the_run["tool"]["driver"]["rules"]] == [
        "SLG0001", "SLG0407", "SLG0502"]
    locations = [r["locations"][0]["physicalLocation"] for r in the_run["results"]]
    assert locations == [
        {"artifactLocation": {"uri": "whole.sla", "uriBaseId": "%SRCROOT%"}},
        {"artifactLocation": {"uri": "my%20policies/a%20b.sla", "uriBaseId": "%SRCROOT%"},
         "region": {"startLine": 2, "startColumn": 5, "endLine": 4, "endColumn": 2}},
        {"artifactLocation": {"uri": outside.resolve().as_uri()},
         "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 4}},
    ]
    assert [r["level"] for r in the_run["results"]] == ["error", "note", "warning"]


def test_sarif_uris_are_absolute_where_sarif_requires(with_error: Path) -> None:
    """The schema's `format: uri` is not checked without an optional package, so check that
    `informationUri` and `helpUri` are absolute URLs here."""
    driver = sarif_of(check("sarif"))["runs"][0]["tool"]["driver"]
    for uri in [driver["informationUri"], *(r["helpUri"] for r in driver["rules"])]:
        parsed = urlparse(uri)
        assert parsed.scheme == "https" and parsed.netloc, uri


# ---------------------------------------------------------------------------- JUnit


def junit_of(result: Result) -> ET.Element:
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(len(failures))
    assert suite.get("errors") == "0"
    return suite


def cases_of(suite: ET.Element) -> list[tuple[str | None, str | None]]:
    return [(c.get("classname"), c.get("name")) for c in suite.findall("testcase")]


def test_junit_clean_has_a_passing_case_per_file(clean: Path) -> None:
    suite = junit_of(check("junit"))
    assert cases_of(suite) == [("policies/agreements.sla", "check"),
                               ("policies/sources.sla", "check")]
    assert suite.get("failures") == "0"
    assert all(len(c) == 0 for c in suite.findall("testcase"))


def test_junit_error_is_a_failure(with_error: Path) -> None:
    suite = junit_of(check("junit"))
    assert cases_of(suite) == [
        ("policies/agreements.sla", "check"),
        ("policies/bad.sla", "SLG0101 3:13"),
        ("policies/sources.sla", "check"),
    ]
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "1"
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert failure.get("message") == "unexpected `}`; expected a name"
    assert failure.text == (
        "policies/bad.sla:3:13: error[SLG0101]: unexpected `}`; expected a name\n"
        "   3 |   service   }\n"
        "     |             ^")


@pytest.mark.parametrize(("fail_on", "failures"), [("error", 0), ("never", 0), ("warning", 1)])
def test_junit_warning_fails_only_with_fail_on_warning(
    with_warning: Path, fail_on: str, failures: int
) -> None:
    suite = junit_of(check("junit", "--fail-on", fail_on))
    assert cases_of(suite) == [("policies/agreements.sla", "SLG0503 1:11"),
                               ("policies/sources.sla", "check")]
    assert suite.get("failures") == str(failures)
    case = suite.findall("testcase")[0]
    expected = (
        "policies/agreements.sla:1:11: warning[SLG0503]: agreement `checkout_retail` has "
        "credits but no `fee`\n"
        "   1 | agreement checkout_retail {\n"
        "     |           ^^^^^^^^^^^^^^^\n"
        "  = hint: credits are percentages of the fee; add e.g. `fee 12000.00 GBP`")
    if failures:
        failure = case.find("failure")
        assert failure is not None and failure.get("type") == "warning"
        assert failure.text == expected
        assert case.find("system-out") is None
    else:
        assert case.find("failure") is None
        out = case.find("system-out")
        assert out is not None and out.text == expected


def test_junit_escapes_everything() -> None:
    """Markup, quotes, newlines and characters XML 1.0 cannot carry at all all survive."""
    nasty = 'a <b> & "c" \'d\' ]]> \x07 end'
    diags = [error("SLG0104", nasty, Span('odd "dir"/<x>.sla', 1, 2, 1, 3), "line\nbreak")]
    text = render_junit(_run_of(diags, [('odd "dir"/<x>.sla', "/x")]))
    suite = ET.fromstring(text.encode("utf-8"))[0]
    (case,) = suite
    assert case.get("classname") == 'odd "dir"/<x>.sla'
    assert case.get("name") == "SLG0104 1:2"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == nasty.replace("\x07", "\\u0007")
    assert failure.text == (
        'odd "dir"/<x>.sla:1:2: error[SLG0104]: ' + nasty.replace("\x07", "\\u0007")
        + "\n  = hint: line\nbreak")


# ---------------------------------------------------------------------------- GitHub


def test_github_clean(clean: Path) -> None:
    assert check("github").stdout == "checked 2 files: 0 errors, 0 warnings\n"


def test_github_error_lines_exact(with_error: Path) -> None:
    result = check("github")
    assert result.stdout == (
        "::error file=policies/bad.sla,line=3,col=13,endLine=3,endColumn=14,title=SLG0101::"
        "unexpected `}`; expected a name\n"
        "checked 3 files: 1 error, 0 warnings\n"
    )


def test_github_warning_lines_exact(with_warning: Path) -> None:
    assert check("github").stdout == (
        "::warning file=policies/agreements.sla,line=1,col=11,endLine=1,endColumn=26,"
        "title=SLG0503::agreement `checkout_retail` has credits but no `fee`%0A"
        "hint: credits are percentages of the fee; add e.g. `fee 12000.00 GBP`\n"
        "checked 2 files: 0 errors, 1 warning\n"
    )


def test_github_paths_from_the_repository_root(
    with_error: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(with_error / "policies")
    lines = run("check", "bad.sla", "--format", "github").stdout.splitlines()
    assert lines[0].startswith("::error file=policies/bad.sla,line=3,col=13,")


def test_github_escaping(tmp_path: Path) -> None:
    """`%`, CR and LF are escaped in the message; properties also escape `:` and `,`."""
    diag = warning("SLG0502", "review 100% overdue: due 2026-04-01, last 2026-01-01",
                   Span("a,b:c.sla", 7, 3, 7, 9), "update `reviewed`,\nthen: re-run\r")
    the_run = _run_of([diag], [("a,b:c.sla", str(tmp_path / "a,b:c.sla"))],
                      paths={"a,b:c.sla": str(tmp_path / "a,b:c.sla")})
    assert render_github(the_run, tmp_path).splitlines() == [
        "::warning file=a%2Cb%3Ac.sla,line=7,col=3,endLine=7,endColumn=9,title=SLG0502::"
        "review 100%25 overdue: due 2026-04-01, last 2026-01-01%0A"
        "hint: update `reviewed`,%0Athen: re-run%0D",
        "checked 1 file: 0 errors, 1 warning",
    ]
    assert escape_github_data("50%,\r\n:") == "50%25,%0D%0A:"
    assert escape_github_property("50%,\r\n:") == "50%25%2C%0D%0A%3A"


def test_github_whole_file_and_multi_line_spans(tmp_path: Path) -> None:
    """No line for a whole file; GitHub takes a column range only on one line."""
    diags = [
        error("SLG0001", "not UTF-8", Span("x.sla", 0, 0, 0, 0)),
        Diagnostic("SLG0407", "no objectives", Span("x.sla", 2, 5, 4, 2), Severity.INFO),
    ]
    the_run = _run_of(diags, [("x.sla", str(tmp_path / "x.sla"))],
                      paths={"x.sla": str(tmp_path / "x.sla")})
    assert render_github(the_run, tmp_path).splitlines()[:2] == [
        "::error file=x.sla,title=SLG0001::not UTF-8",
        "::notice file=x.sla,line=2,col=5,endLine=4,title=SLG0407::no objectives",
    ]


# ---------------------------------------------------------------------------- repository root


def test_repository_root(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    # Without `.git` anywhere above (a temporary directory), the start is the root.
    outside = tmp_path.resolve()
    assert not any((p / ".git").exists() for p in (outside, *outside.parents))
    assert repository_root(deep) == deep.resolve()
    (tmp_path / "a" / ".git").write_text("gitdir: elsewhere\n")  # a worktree's `.git` file
    assert repository_root(deep) == (tmp_path / "a").resolve()


# ---------------------------------------------------------------------------- codes


def test_code_titles_are_the_headings_of_errors_md() -> None:
    """Every `### SLGxxxx: title` of docs/errors.md is in slang/codes.py, word for word, and
    nothing else is: the SARIF rule descriptions cannot drift from the docs."""
    text = (REPO / "docs" / "errors.md").read_text("utf-8")
    headings = dict(re.findall(r"^### (SLG\d{4}): (.+?)\s*$", text, re.MULTILINE))
    missing = sorted(headings.keys() - CODE_TITLES.keys())
    assert not missing, f"add these titles to CODE_TITLES in slang/codes.py: {missing}"
    stale = sorted(CODE_TITLES.keys() - headings.keys())
    assert not stale, f"slang/codes.py has titles for codes docs/errors.md lacks: {stale}"
    assert headings == CODE_TITLES


def test_anchors_follow_githubs_heading_slugs() -> None:
    assert anchor("SLG0203") == "slg0203-unknown-service"
    assert anchor("SLG0307") == "slg0307-where-inside-a-condition"
    assert anchor("SLG0601") == "slg0601-malformed---data-option"
    assert anchor("SLG0604") == "slg0604-data-path-missing-empty-or-unreadable"
    assert help_uri("SLG0203") == f"{ERRORS_DOC_URL}#slg0203-unknown-service"


def test_every_title_is_a_short_phrase() -> None:
    for code, title in CODE_TITLES.items():
        assert re.fullmatch(r"SLG\d{4}", code)
        assert title and len(title) <= 60 and "\n" not in title, code


def test_check_run_from_a_model_counts_user_files_only(clean: Path) -> None:
    (clean / "policies" / "cal.sla").write_text('import "std/calendars" as cal\n')
    model = slang.load(["policies"])
    the_run = CheckRun.from_model(model, "warning")
    assert [f for f, _ in the_run.files] == [
        "policies/agreements.sla", "policies/cal.sla", "policies/sources.sla"]
    assert any(f.startswith("std/") for f in the_run.paths)
    assert the_run.fail_on == "warning"
    assert isinstance(the_run.sources, SourceCache)


@pytest.fixture(autouse=True)
def _docs_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links are only emitted where the docs have a public address; give them one here."""
    monkeypatch.setenv(DOCS_URL_VARIABLE, HOME_URL)


def test_sarif_without_a_docs_address_has_no_links(
    with_error: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No address is invented: without SLANG_DOCS_URL the log names the docs section in
    words, and is still valid SARIF."""
    monkeypatch.delenv(DOCS_URL_VARIABLE)
    log = sarif_of(check("sarif"))
    driver = log["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver
    (rule,) = driver["rules"]
    assert "helpUri" not in rule
    assert rule["help"]["text"].endswith("docs/errors.md#slg0101-syntax-error in the slang "
                                         "repository")
    jsonschema.validate(log, SCHEMA)
