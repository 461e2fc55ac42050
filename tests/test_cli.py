"""The `slang` command line: outputs, streams and exit codes, as a user or a CI job sees them.

Estates are written to a temporary directory (with a `slang.toml`, so it is its own policy root)
and the tests run from inside it, so diagnostics name files by short relative paths.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import slang
from slang.cli import main, parse_timestamp

SOURCES = """\
catalogue "Acme Digital" {
  service checkout { title "Checkout API"  owner "payments-team"  tier gold }
}

events requests from "requests" {
  time  ts
  key   service
  units { latency_ms: ms }
}
"""

AGREEMENTS = """\
import "std/calendars" as cal

agreement checkout_retail {
  service   checkout
  customer  "Retail BU"
  provider  "Platform Operations"
  status    agreed
  effective 2026-01-01 .. 2026-12-31
  timezone  "Europe/London"
  period    monthly
  fee       12000.00 GBP
  review    every 3 months
  reviewed  2026-01-01
  notify    "ops@example.com" on breach

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
  objective latency {
    indicator p95(requests.latency_ms where method == "GET")
    target    <= 300ms
    hours     cal.uk_business
  }

  credit availability {
    below 99.9% => 10%
    below 99.0% => 25%
  }
  credit latency {
    above 300ms => 5%
  }
}
"""

# Line 3, column 13 is the `}` where a service name must be.
BROKEN = """\
agreement broken {
  customer "Retail BU"
  service   }
"""

UNFORMATTED = """\
calendar   office{timezone "UTC"
      hours mon-fri 09:00-17:00 }
"""

JSON_FIELDS = {"code", "severity", "message", "file", "line", "col", "end_line", "end_col", "hint"}


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small clean estate in its own policy root; the working directory is that root."""
    (tmp_path / "slang.toml").write_text("")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "sources.sla").write_text(SOURCES)
    (policies / "agreements.sla").write_text(AGREEMENTS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def broken(estate: Path) -> Path:
    (estate / "bad.sla").write_text(BROKEN)
    return estate


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ---------------------------------------------------------------------------- check


def test_check_clean_estate_exits_0_with_summary(estate: Path) -> None:
    result = run("check", "policies")
    assert result.exit_code == 0, result.output
    # Two files of the user's; std/calendars is imported but is slang's own and not counted.
    assert result.stdout == "checked 2 files: 0 errors, 0 warnings\n"
    assert result.stderr == ""


def test_check_syntax_error_renders_caret_and_exits_1(broken: Path) -> None:
    result = run("check", "policies", "bad.sla")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    first = lines.index("bad.sla:3:13: error[SLG0101]: unexpected `}`; expected a name")
    assert lines[first + 1] == "   3 |   service   }"
    assert lines[first + 2] == "     |             ^"
    assert lines[-1] == "checked 3 files: 1 error, 0 warnings"


def test_check_json_has_every_field(broken: Path) -> None:
    result = run("check", "bad.sla", "policies", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"diagnostics", "summary"}
    errors = doc["diagnostics"]
    assert len(errors) == 1
    assert set(errors[0]) == JSON_FIELDS
    assert errors[0] == {
        "code": "SLG0101",
        "severity": "error",
        "message": "unexpected `}`; expected a name",
        "file": "bad.sla",
        "line": 3,
        "col": 13,
        "end_line": 3,
        "end_col": 14,
        "hint": None,
    }
    assert doc["summary"] == {"files": 3, "errors": 1, "warnings": 0}


def test_check_json_clean(estate: Path) -> None:
    result = run("check", "policies", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "diagnostics": [],
        "summary": {"files": 2, "errors": 0, "warnings": 0},
    }


@pytest.mark.parametrize("flags", [["--fail-on", "never"], ["--no-fail"]])
def test_check_fail_on_never(broken: Path, flags: list[str]) -> None:
    result = run("check", "bad.sla", *flags)
    assert result.exit_code == 0
    assert "bad.sla:3:13: error[SLG0101]" in result.stdout
    assert result.stdout.splitlines()[-1] == "checked 1 file: 1 error, 0 warnings"


def test_check_fail_on_warning(estate: Path) -> None:
    """With `--as-of` the review clock runs: reviewed 2026-01-01 every 3 months is overdue in
    October. Warnings fail the command only with `--fail-on warning`."""
    late = ["check", "policies", "--as-of", "2026-10-01T00:00:00+01:00"]
    default = run(*late)
    assert default.exit_code == 0
    lines = default.stdout.splitlines()
    (first,) = [i for i, line in enumerate(lines) if "warning[SLG0502]" in line]
    assert re.fullmatch(
        r"policies/agreements\.sla:\d+:\d+: warning\[SLG0502\]: review of `checkout_retail` is "
        r"overdue: last reviewed 2026-01-01, due 2026-04-01",
        lines[first],
    )
    assert re.fullmatch(r" +\d+ \| .+", lines[first + 1])  # the source line
    assert re.fullmatch(r" +\| +\^+", lines[first + 2])  # its caret
    assert lines[first + 3] == "  = hint: review the agreement and update `reviewed`"
    assert lines[-1] == "checked 2 files: 0 errors, 1 warning"
    assert run(*late, "--fail-on", "warning").exit_code == 1
    assert run(*late, "--fail-on", "error").exit_code == 0
    # Before the review is due there is nothing to say.
    early = run("check", "policies", "--as-of", "2026-02-01T00:00:00Z", "--fail-on", "warning")
    assert early.exit_code == 0
    assert early.stdout == "checked 2 files: 0 errors, 0 warnings\n"


def test_check_missing_path_exits_2_on_stderr(estate: Path) -> None:
    result = run("check", "policies", "nope.sla")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "nope.sla: error[SLG0002]: no such file or directory: `nope.sla`\n"


def test_check_missing_path_json_on_stderr(estate: Path) -> None:
    result = run("check", "nope", "--format", "json")
    assert result.exit_code == 2
    doc = json.loads(result.stderr)
    assert [d["code"] for d in doc["diagnostics"]] == ["SLG0002"]
    assert doc["diagnostics"][0]["file"] == "nope"


def test_check_empty_directory_exits_2(estate: Path) -> None:
    (estate / "empty").mkdir()
    result = run("check", "empty")
    assert result.exit_code == 2
    assert "error[SLG0003]: no .sla files under `empty`" in result.stderr


LATIN1 = b'catalogue "caf\xe9" {}\n'


def test_check_unreadable_file_exits_2(estate: Path) -> None:
    (estate / "latin1.sla").write_bytes(LATIN1)
    result = run("check", "latin1.sla")
    assert result.exit_code == 2
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("latin1.sla:")
    assert "error[SLG0001]: `latin1.sla` is not UTF-8 text" in first


def test_check_output_file(broken: Path) -> None:
    result = run("check", "bad.sla", "--format", "json", "--output", "report.json")
    assert result.exit_code == 1
    assert result.stdout == ""
    doc = json.loads((broken / "report.json").read_text())
    assert doc["summary"] == {"files": 1, "errors": 1, "warnings": 0}


def test_check_output_unwritable_exits_2(estate: Path) -> None:
    result = run("check", "policies", "--output", "no/such/dir/report.txt")
    assert result.exit_code == 2
    assert "<command line>: error[SLG0004]: cannot write --output" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "is not an RFC 3339 timestamp"),
        ("2026-01-01T00:00:00", "has no time zone"),
        ("2026-01-01", "is a date, not a timestamp"),
        ("2026-02-30T00:00:00Z", "is not a valid timestamp"),
    ],
)
def test_check_bad_as_of_exits_2(estate: Path, value: str, message: str) -> None:
    result = run("check", "policies", "--as-of", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "<command line>: error[SLG0004]: invalid --as-of: " in result.stderr
    assert message in result.stderr


def test_check_bad_as_of_json(estate: Path) -> None:
    result = run("check", "policies", "--as-of", "soon", "--format", "json")
    assert result.exit_code == 2
    (diag,) = json.loads(result.stderr)["diagnostics"]
    assert diag["code"] == "SLG0004"
    assert diag["file"] == "<command line>"
    assert "`soon` is not an RFC 3339 timestamp" in diag["message"]


def test_check_usage_errors_exit_2(estate: Path) -> None:
    assert run("check").exit_code == 2  # missing PATHS
    assert run("check", "policies", "--frobnicate").exit_code == 2
    assert run("check", "policies", "--format", "xml").exit_code == 2
    assert run("check", "policies", "--fail-on", "info").exit_code == 2
    assert run("nosuchcommand").exit_code == 2


@pytest.mark.parametrize("args", [
    ["check", "policies", "--format", "json", "--fail-on", "info"],
    ["check", "--format=json", "policies", "--frobnicate"],
    ["ledger", "show", "--format", "json"],
])
def test_usage_errors_are_json_when_json_is_asked_for(estate: Path, args: list[str]) -> None:
    """A pipeline that reads stderr as JSON gets a coded diagnostic, not Click's usage text."""
    result = run(*args)
    assert result.exit_code == 2
    [diag] = json.loads(result.stderr)["diagnostics"]
    assert (diag["code"], diag["file"]) == ("SLG0004", "<command line>")
    assert diag["message"].startswith("usage: ")
    assert diag["hint"] == f"see `slang {' '.join(args[:2 if args[0] == 'ledger' else 1])} --help`"


# ---------------------------------------------------------------------------- --as-of parsing


def test_parse_timestamp_forms() -> None:
    assert parse_timestamp("2026-03-31T00:00:00Z") == dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    assert parse_timestamp("2026-03-31t00:00:00z") == dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    minus = parse_timestamp("2026-03-31T01:02:03.5-05:30")
    assert minus == dt.datetime(2026, 3, 31, 1, 2, 3, 500000,
                                tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30)))
    assert parse_timestamp("2026-03-31 00:00:00.1234567Z").microsecond == 123456
    before = dt.datetime.now(dt.UTC)
    now = parse_timestamp("now")
    assert now.tzinfo is not None
    assert before <= now <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    "value",
    ["2026-03-31T00:00Z", "2026-03-31T00:00:00", "2026-03-31T00:00:00+25:00",
     "2026-13-01T00:00:00Z", "2026-03-31T24:00:00Z", "", "now-ish"],
)
def test_parse_timestamp_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


# ---------------------------------------------------------------------------- fmt


def _formatted(text: str) -> str:
    from slang.syntax.formatter import format_text

    return format_text(text, "office.sla")


@pytest.fixture
def messy(estate: Path) -> Path:
    path = estate / "office.sla"
    path.write_text(UNFORMATTED)
    return path


def test_fmt_check_then_fmt_then_clean(messy: Path) -> None:
    expected = _formatted(UNFORMATTED)
    assert expected != UNFORMATTED

    check = run("fmt", "--check", "office.sla")
    assert check.exit_code == 1
    assert check.stdout == "office.sla\n"
    assert check.stderr == "1 file would be reformatted, 0 already formatted\n"
    assert messy.read_text() == UNFORMATTED  # --check writes nothing

    fmt = run("fmt", "office.sla", "policies")
    assert fmt.exit_code == 0
    assert "office.sla" in fmt.stdout.splitlines()
    assert messy.read_text() == expected

    again = run("fmt", "--check", "office.sla")
    assert again.exit_code == 0
    assert again.stdout == ""
    assert again.stderr == "0 files would be reformatted, 1 already formatted\n"


def test_fmt_leaves_formatted_files_untouched(estate: Path) -> None:
    path = estate / "office.sla"
    path.write_text(_formatted(UNFORMATTED))
    before = path.stat().st_mtime_ns
    result = run("fmt", "office.sla")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert path.stat().st_mtime_ns == before


def test_fmt_keeps_mode_and_symbolic_links(estate: Path) -> None:
    target = estate / "real.sla"
    target.write_text(UNFORMATTED)
    target.chmod(0o640)
    link = estate / "linked"
    link.mkdir()
    (link / "office.sla").symlink_to(target)
    result = run("fmt", "linked")
    assert result.exit_code == 0
    assert (link / "office.sla").is_symlink()
    assert target.read_text() == _formatted(UNFORMATTED)
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in estate.iterdir() if p.name.endswith(".tmp")] == []


def test_fmt_diff_shows_changes_and_writes_nothing(messy: Path) -> None:
    result = run("fmt", "--diff", "office.sla")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "--- office.sla"
    assert lines[1] == "+++ office.sla"
    assert lines[2].startswith("@@ ")
    assert '-calendar   office{timezone "UTC"' in lines
    assert any(line.startswith("+calendar office") for line in lines)
    assert messy.read_text() == UNFORMATTED

    both = run("fmt", "--diff", "--check", "office.sla")
    assert both.exit_code == 1
    assert both.stdout == result.stdout
    assert messy.read_text() == UNFORMATTED


def test_fmt_syntax_error_exits_2_and_keeps_the_file(messy: Path) -> None:
    bad = messy.parent / "bad.sla"
    bad.write_text(BROKEN)
    result = run("fmt", "bad.sla", "office.sla")
    assert result.exit_code == 2
    assert "bad.sla:3:13: error[SLG0101]: unexpected `}`; expected a name" in result.stderr
    assert "   3 |   service   }" in result.stderr
    assert bad.read_text() == BROKEN
    # The file that does parse is still formatted.
    assert messy.read_text() == _formatted(UNFORMATTED)


def test_fmt_reports_unreadable_files_as_check_does(estate: Path) -> None:
    (estate / "latin1.sla").write_bytes(LATIN1)
    checked = run("check", "latin1.sla")
    formatted = run("fmt", "latin1.sla")
    assert formatted.exit_code == 2
    assert (estate / "latin1.sla").read_bytes() == LATIN1
    assert formatted.stderr == "0 files reformatted, 0 unchanged\n" + checked.stderr


def test_fmt_missing_path_exits_2(estate: Path) -> None:
    result = run("fmt", "nope.sla")
    assert result.exit_code == 2
    assert "nope.sla: error[SLG0002]: no such file or directory" in result.stderr


# ---------------------------------------------------------------------------- version and help


def test_version_command_and_flag() -> None:
    result = run("version")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"slang {slang.__version__}",
        f"python {sys.version.split()[0]}",
        f"lark {dist_version('lark')}",
        f"pyarrow {dist_version('pyarrow')}",
    ]
    flag = run("--version")
    assert flag.exit_code == 0
    assert flag.stdout == result.stdout


@pytest.mark.parametrize(
    ("args", "example"),
    [
        ([], "slang check policies/"),
        (["check"], "slang check policies/ --format json --output check.json"),
        (["fmt"], "slang fmt --check policies/"),
        (["version"], "slang version"),
    ],
)
def test_help_shows_an_example(args: list[str], example: str) -> None:
    for flag in ("--help", "-h"):
        result = run(*args, flag)
        assert result.exit_code == 0
        assert "Example" in result.stdout
        assert example in result.stdout


def test_python_dash_m_slang() -> None:
    result = subprocess.run([sys.executable, "-m", "slang", "version"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"slang {slang.__version__}"
