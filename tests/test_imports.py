"""Files and imports: which files make up an estate, what each import reaches, and what it may
not reach.

Policies arrive in pull requests, so the policy root is a security boundary: no import may read
a file outside it, whether by `..`, an absolute path or a symbolic link. The other half is
sharing: a module imported by many files is one set of objects, so a calendar or a source used
by fifty agreements is resolved (and reported on) once.

Every estate here is written to a temporary directory holding a `slang.toml` and loaded from
inside it, so paths in diagnostics are short and relative.
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from pathlib import Path

import pytest

from slang.semantics import load
from slang.semantics.model import Model, WeeklyWindow

REPO = Path(__file__).resolve().parent.parent

SOURCES = 'events requests from "requests" { key service }\n'

AGREEMENT = """\
catalogue "Acme" {{ service checkout {{ }} }}

agreement {name} {{
  service checkout
  status  agreed
  period  monthly
  objective availability {{
    indicator ratio({source} where status < 500)
    target    >= 99.9%
    {extra}
  }}
}}
"""


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


def estate(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str | bytes],
    paths: list[str],
    tests: bool = True,
) -> Model:
    """Write `files` under a fresh policy root (`slang.toml`) and load `paths` from it."""
    write(tmp_path, {"slang.toml": "", **files})
    monkeypatch.chdir(tmp_path)
    return load(paths, tests=tests)


def origins(model: Model) -> list[tuple[str, str]]:
    return [(f.path, f.origin) for f in model.files]


def codes(model: Model) -> list[str]:
    return [d.code for d in model.diagnostics]


# --------------------------------------------------------------------- the standard library


def test_std_calendar_in_objective_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'import "std/calendars" as cal\n' + AGREEMENT.format(
        name="a", source="requests", extra="hours cal.uk_business")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    assert model.diagnostics == []
    hours = model.agreements["a"].objectives[0].hours
    assert hours is model.calendars["std/calendars.uk_business"]
    assert (hours.id, hours.name, hours.timezone) == (
        "std/calendars.uk_business", "uk_business", "Europe/London")
    assert hours.hours == (WeeklyWindow(frozenset({0, 1, 2, 3, 4}), 540, 1050),)
    assert dt.date(2026, 12, 25) in hours.holidays
    assert origins(model) == [("a.sla", "estate"), ("std/calendars.sla", "import"),
                              ("s.sla", "estate")]


def test_std_calendar_in_agreement_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'import "std/calendars" as cal\n' + AGREEMENT.format(
        name="a", source="requests", extra="").replace(
        "period  monthly", "period  monthly\n  hours   cal.uk_business")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    assert model.diagnostics == []
    a = model.agreements["a"]
    assert a.hours is model.calendars["std/calendars.uk_business"]
    assert a.objectives[0].hours is a.hours


def test_std_calendar_in_business_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'import "std/calendars" as cal\n' + AGREEMENT.format(
        name="a", source="requests", extra="").replace(
        "ratio(requests where status < 500)",
        "ratio(requests where business_duration(opened_at, closed_at, cal.uk_business) < 4h)")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    assert model.diagnostics == []


def test_unknown_name_in_a_std_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'import "std/calendars" as cal\n' + AGREEMENT.format(
        name="a", source="requests", extra="hours cal.uk_busines")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0202", "unknown calendar `cal.uk_busines`")
    assert d.hint == "did you mean `cal.uk_business`?"


def test_unqualified_name_suggests_the_imported_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'import "std/calendars" as cal\n' + AGREEMENT.format(
        name="a", source="requests", extra="hours uk_business")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0202", "unknown calendar `uk_business`")
    assert d.hint == "did you mean `cal.uk_business`?"


def test_unknown_module_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'import "std/calendars" as cal\n' + AGREEMENT.format(
        name="a", source="requests", extra="hours cla.uk_business")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0202", "unknown module alias `cla`")
    assert d.hint == "did you mean `cal`?"


def test_std_credit_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'import "std/credits" as cr\n' + AGREEMENT.format(
        name="a", source="requests", extra="").replace(
        "period  monthly", "period  monthly\n  fee     100.00 GBP").replace(
        "}\n}\n", "}\n  credit availability cr.standard_999\n}\n")
    model = estate(tmp_path, monkeypatch, {"a.sla": text, "s.sla": SOURCES}, ["."])
    assert model.diagnostics == []
    tiers = [(t.direction, t.threshold, t.percent)
             for t in model.agreements["a"].objectives[0].credit]
    # The schedule's first tier equals the 99.9 % target it is named for.
    assert tiers[0][:2] == ("below", model.agreements["a"].objectives[0].target.value)
    assert "std/credits.standard_999" in model.schedules


def test_unknown_std_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"a.sla": 'import "std/nope" as n\n'}, ["."])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0207", "no standard library module `std/nope`")
    assert d.hint is not None and d.hint.startswith("available: ")
    available = d.hint.removeprefix("available: ").split(", ")
    assert {"std/calendars", "std/credits", "std/sources"} <= set(available)
    assert available == sorted(available)
    assert (d.span.file, d.span.line) == ("a.sla", 1)


def test_std_module_cannot_escape_the_stdlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"secret.sla": SOURCES})
    model = estate(tmp_path, monkeypatch,
                   {"a.sla": 'import "std/../../secret" as n\n'}, ["a.sla"])
    assert codes(model) == ["SLG0207"]
    assert origins(model) == [("a.sla", "estate")]


# ------------------------------------------------------------------------ relative imports


def test_relative_imports_inside_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = estate(tmp_path, monkeypatch, {
        "policies/main.sla": """\
            import "./shared/x.sla" as x
            import "../common/y.sla" as y
            catalogue "Acme" { service checkout { } }
            agreement a {
              service checkout
              status agreed
              period monthly
              objective ok { indicator ratio(x.requests where status < 500) target >= 99% }
              objective up { indicator uptime(y.incidents) target >= 99% }
            }
            """,
        "policies/shared/x.sla": SOURCES,
        "common/y.sla": 'intervals incidents from "incidents" { key service }\n',
    }, ["policies/main.sla"])
    assert model.diagnostics == []
    assert origins(model) == [("policies/main.sla", "estate"),
                              ("policies/shared/x.sla", "import"), ("common/y.sla", "import")]
    # Imported-only modules keep their own namespace, prefixed by their path.
    ok, up = model.agreements["a"].objectives
    assert ok.indicator.total.source is model.sources["policies/shared/x.requests"]  # type: ignore[union-attr]
    assert up.indicator.selection.source is model.sources["common/y.incidents"]  # type: ignore[union-attr]


def test_module_imported_by_two_files_is_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = estate(tmp_path, monkeypatch, {
        "a.sla": 'import "./lib/s.sla" as s\n'
                 + AGREEMENT.format(name="a", source="s.requests", extra=""),
        "b.sla": 'import "./lib/s.sla" as t\n'
                 'agreement b {\n  service checkout\n  status agreed\n  period monthly\n'
                 '  objective o { indicator ratio(t.requests where status < 500) '
                 'target >= 99% }\n}\n',
        "lib/s.sla": SOURCES,
    }, ["a.sla", "b.sla"])
    assert model.diagnostics == []
    assert origins(model) == [("a.sla", "estate"), ("lib/s.sla", "import"), ("b.sla", "estate")]
    assert list(model.sources) == ["lib/s.requests"]
    sa = model.agreements["a"].objectives[0].indicator.total.source  # type: ignore[union-attr]
    sb = model.agreements["b"].objectives[0].indicator.total.source  # type: ignore[union-attr]
    assert sa is sb is model.sources["lib/s.requests"]


def test_imported_module_contributes_no_agreements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the estate is audited: an agreement in a module that is only imported is not."""
    model = estate(tmp_path, monkeypatch, {
        "main.sla": 'import "./lib/other.sla" as o\n',
        "lib/other.sla": SOURCES + AGREEMENT.format(name="theirs", source="requests", extra=""),
    }, ["main.sla"])
    assert model.diagnostics == []
    assert model.agreements == {}


@pytest.mark.parametrize("order", [["a.sla", "s.sla"], ["s.sla", "a.sla"], ["."]])
def test_file_in_the_estate_and_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: list[str]
) -> None:
    """Whether it is met first as an import or as an entry, a file given on the command line
    stays part of the estate, and `s.requests` and `requests` are the same object."""
    model = estate(tmp_path, monkeypatch, {
        "a.sla": 'import "./s.sla" as s\n'
                 + AGREEMENT.format(name="a", source="s.requests", extra=""),
        "s.sla": SOURCES + 'agreement b {\n  service checkout\n  status agreed\n'
                 '  period monthly\n  objective o { indicator ratio(requests where ok == true) '
                 'target >= 99% }\n}\n',
    }, order)
    assert model.diagnostics == []
    assert sorted(origins(model)) == [("a.sla", "estate"), ("s.sla", "estate")]
    assert list(model.sources) == ["requests"]
    requests = model.sources["requests"]
    assert requests.id == "requests"
    assert model.agreements["a"].objectives[0].indicator.total.source is requests  # type: ignore[union-attr]
    assert model.agreements["b"].objectives[0].indicator.total.source is requests  # type: ignore[union-attr]


@pytest.mark.parametrize("paths", [["a.sla"], ["."]], ids=["entry", "directory"])
def test_import_cycle_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: list[str]
) -> None:
    model = estate(tmp_path, monkeypatch, {
        "a.sla": 'import "./b.sla" as b\n',
        "b.sla": '# b imports a back\nimport "./a.sla" as a\n',
    }, paths)
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0205", "import cycle: a.sla -> b.sla -> a.sla")
    assert (d.span.file, d.span.line) == ("b.sla", 2)


def test_import_cycle_met_from_two_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = estate(tmp_path, monkeypatch, {
        "x.sla": 'import "./lib/a.sla" as a\n',
        "y.sla": 'import "./lib/b.sla" as b\n',
        "lib/a.sla": 'import "./b.sla" as b\n',
        "lib/b.sla": 'import "./a.sla" as a\n',
    }, ["x.sla", "y.sla"])
    assert codes(model) == ["SLG0205"]


def test_self_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"a.sla": 'import "./a.sla" as me\n'}, ["a.sla"])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0205", "import cycle: a.sla -> a.sla")


def test_missing_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"p/a.sla": 'import "./nope.sla" as n\n'}, ["."])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0204", "imported file `./nope.sla` does not exist")
    assert d.hint == "looked for `p/nope.sla`"
    assert (d.span.file, d.span.line) == ("p/a.sla", 1)


def test_names_through_a_failed_import_are_not_reported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'import "./nope.sla" as n\n' + AGREEMENT.format(name="a", source="n.requests",
                                                         extra="")
    model = estate(tmp_path, monkeypatch, {"a.sla": text}, ["a.sla"])
    assert codes(model) == ["SLG0204"]


# ----------------------------------------------------------------- the policy root boundary


def test_parent_directories_out_of_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    write(tmp_path, {"outside.sla": SOURCES})
    model = estate(root, monkeypatch,
                   {"p/a.sla": 'import "../../../outside.sla" as n\n'}, ["p/a.sla"])
    (d,) = model.diagnostics
    assert d.code == "SLG0206"
    assert d.message == "import `../../../outside.sla` leaves the policy root `.`"
    assert origins(model) == [("p/a.sla", "estate")]


def test_parent_of_the_root_even_when_the_file_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    write(tmp_path, {"outside.sla": SOURCES})
    model = estate(root, monkeypatch, {"a.sla": 'import "../outside.sla" as n\n'}, ["a.sla"])
    assert codes(model) == ["SLG0206"]
    assert model.sources == {}


def test_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "s.sla"
    model = estate(tmp_path, monkeypatch,
                   {"s.sla": SOURCES, "a.sla": f'import "{inside.as_posix()}" as n\n'},
                   ["a.sla"])
    (d,) = model.diagnostics
    assert d.code == "SLG0206"
    assert d.message == f"import `{inside.as_posix()}` is an absolute path"


def test_symlink_pointing_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    write(tmp_path, {"outside/x.sla": SOURCES})
    root.mkdir()
    os.symlink(tmp_path / "outside" / "x.sla", root / "link.sla")
    os.symlink(tmp_path / "outside", root / "shared")
    model = estate(root, monkeypatch, {
        "a.sla": 'import "./link.sla" as l\n',
        "b.sla": 'import "./shared/x.sla" as s\n',
    }, ["a.sla", "b.sla"])
    assert codes(model) == ["SLG0206", "SLG0206"]
    assert [d.span.file for d in model.diagnostics] == ["a.sla", "b.sla"]
    assert model.sources == {}


def test_symlink_inside_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"real/x.sla": SOURCES})
    os.symlink(tmp_path / "real" / "x.sla", tmp_path / "link.sla")
    model = estate(tmp_path, monkeypatch, {"a.sla": 'import "./link.sla" as l\n'}, ["a.sla"])
    assert model.diagnostics == []
    # Symbolic links are followed: the module is named by where it really is.
    assert origins(model) == [("a.sla", "estate"), ("real/x.sla", "import")]


def test_git_directory_marks_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without slang.toml, the nearest `.git` is the root; above it nothing is reachable."""
    write(tmp_path, {"shared.sla": SOURCES, "repo/.git/HEAD": "ref: refs/heads/main\n",
                     "repo/lib/s.sla": SOURCES,
                     "repo/p/a.sla": 'import "../lib/s.sla" as ok\nimport "../../shared.sla" '
                                     'as no\n'})
    monkeypatch.chdir(tmp_path / "repo")
    model = load(["p/a.sla"])
    assert codes(model) == ["SLG0206"]
    assert "../../shared.sla" in model.diagnostics[0].message
    assert origins(model) == [("p/a.sla", "estate"), ("lib/s.sla", "import")]


# ------------------------------------------------------------------- files and directories


def test_directory_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {
        "policies/sources.sla": SOURCES,
        "policies/agreements/a.sla": AGREEMENT.format(name="a", source="requests", extra=""),
        "policies/.drafts/broken.sla": "this is not a policy {",
        "policies/agreements/.hidden/x.sla": "nor is this",
        "policies/notes.txt": "not a policy file",
        "policies/a_test.sla": 'catalogue "T" { service fake { } }\n'
                               + AGREEMENT.format(name="in_test", source="requests", extra="")
                               .replace('catalogue "Acme" { service checkout { } }\n', "")
                               .replace("service checkout", "service fake"),
    }, ["policies"])
    assert model.diagnostics == []
    assert origins(model) == [
        ("policies/a_test.sla", "test"),
        ("policies/agreements/a.sla", "estate"),
        ("policies/sources.sla", "estate"),
    ]
    # The test file sees the estate's names, but its agreements are not part of the estate.
    assert list(model.agreements) == ["a"]


def test_commands_that_evaluate_leave_test_files_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`audit`, `plan`, `whatif` and `diff` load with `tests=False`: a broken test file cannot
    stop an audit, and its hash is not part of the audit's evidence."""
    files = {"s.sla": SOURCES, "s_test.sla": "test t { this is broken"}
    model = estate(tmp_path, monkeypatch, files, ["."], tests=False)
    assert model.diagnostics == []
    assert origins(model) == [("s.sla", "estate")]
    named = estate(tmp_path, monkeypatch, files, ["s.sla", "s_test.sla"], tests=False)
    assert origins(named) == [("s.sla", "estate")]
    checked = estate(tmp_path, monkeypatch, files, ["."])
    assert [d.code for d in checked.diagnostics] == ["SLG0101"]


def test_test_file_names_do_not_clash_with_the_estate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Test files keep their own declarations: a fixture source in a test file may reuse a
    name of the estate without a duplicate-name error."""
    model = estate(tmp_path, monkeypatch, {
        "s.sla": SOURCES,
        "s_test.sla": 'events requests from "fixture_requests" { }\n',
    }, ["."])
    assert model.diagnostics == []
    assert model.sources["requests"].table == "requests"


def test_same_file_given_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"s.sla": SOURCES}, ["s.sla", ".", "./s.sla"])
    assert model.diagnostics == []
    assert origins(model) == [("s.sla", "estate")]


def test_path_that_does_not_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"s.sla": SOURCES}, ["s.sla", "nope.sla"])
    (d,) = model.diagnostics
    assert (d.code, d.message) == ("SLG0002", "no such file or directory: `nope.sla`")
    assert origins(model) == [("s.sla", "estate")]


def test_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    model = estate(tmp_path, monkeypatch, {}, ["empty"])
    assert codes(model) == ["SLG0003"]


def test_file_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "café" in Latin-1: byte 0xE9 at offset 5 of the file
    model = estate(tmp_path, monkeypatch, {"a.sla": b"# caf\xe9\n"}, ["a.sla"])
    (d,) = model.diagnostics
    assert (d.code, d.message) == (
        "SLG0001", "`a.sla` is not UTF-8 text (byte 5 cannot be decoded)"
    )
    assert (d.span.line, d.span.col) == (1, 6)
    assert model.files == []


def test_imported_file_that_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = estate(tmp_path, monkeypatch, {
        "a.sla": '# a\nimport "./b.sla" as b\n',
        "b.sla": b"events \xff\n",
    }, ["a.sla"])
    (d,) = model.diagnostics
    assert (d.code, d.message) == (
        "SLG0001", "`b.sla` is not UTF-8 text (byte 7 cannot be decoded)"
    )
    # Reported where the import is written.
    assert (d.span.file, d.span.line) == ("a.sla", 2)


def test_file_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded hash is of the bytes read, so reports can prove which text was audited."""
    import hashlib

    model = estate(tmp_path, monkeypatch, {"s.sla": SOURCES}, ["s.sla"])
    (f,) = model.files
    assert f.sha256 == hashlib.sha256(SOURCES.encode()).hexdigest()
    assert Path(f.abspath) == (tmp_path / "s.sla").resolve()


# ------------------------------------------------------------------ the repository's own files


@pytest.mark.parametrize("directory", ["policies", "stdlib"])
def test_repository_policies_load_cleanly(
    monkeypatch: pytest.MonkeyPatch, directory: str
) -> None:
    monkeypatch.chdir(REPO)
    model = load([directory])
    assert [(d.code, d.message, d.span.file, d.span.line) for d in model.diagnostics] == []
    assert all(f.origin in ("estate", "import", "test") for f in model.files)
    # the example estate's policy tests, and nothing else, are test files
    assert [f.path for f in model.files if f.origin == "test"] == (
        ["policies/agreements/checkout_test.sla", "policies/agreements/support_test.sla"]
        if directory == "policies" else [])


def test_repository_stdlib_is_its_own_estate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    model = load(["stdlib"])
    assert {f.path for f in model.files} == {
        f"std/{p.name}" for p in (REPO / "stdlib").glob("*.sla")
    }
    assert all(f.origin == "estate" for f in model.files)
    # As an estate, the stdlib's names carry no module prefix.
    assert "uk_business" in model.calendars
    assert model.agreements == {}


def test_repository_estate_uses_stdlib_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example estate's checkout latency is measured in UK office hours from the stdlib."""
    monkeypatch.chdir(REPO)
    model = load(["policies"])
    latency = next(o for o in model.agreements["checkout_retail"].objectives
                   if o.name == "latency")
    assert latency.hours is model.calendars["std/calendars.uk_business"]
    assert ("std/calendars.sla", "import") in origins(model)
