"""Binding logical tables to data: `--data NAME=PATH` and `--bind bindings.yaml`."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from slang.diagnostics import Diagnostic, SlangError
from slang.engine.bindings import (
    Binding,
    bindings_from_options,
    bindings_schema,
    load_bindings_file,
    merge_bindings,
    parse_data_options,
)


def option_errors(values: list[str]) -> list[Diagnostic]:
    with pytest.raises(SlangError) as info:
        parse_data_options(values)
    return info.value.diagnostics


def file_errors(path: Path) -> list[Diagnostic]:
    with pytest.raises(SlangError) as info:
        load_bindings_file(path)
    return info.value.diagnostics


# ----------------------------------------------------------------------------- --data


def test_data_options() -> None:
    got = parse_data_options([
        "edge_requests=data/edge/",
        " incidents = data/incidents.csv ",
        "odd=dir/a=b/*.parquet",  # only the first `=` separates
        "edge_requests=data/edge/",  # the same binding twice is harmless
    ])
    assert got == {"edge_requests": "data/edge/", "incidents": "data/incidents.csv",
                   "odd": "dir/a=b/*.parquet"}


def test_slg0601_malformed_options_all_reported() -> None:
    diags = option_errors(["edge_requests", "=x.parquet", "incidents=", "a=1.csv", "a=2.csv"])
    assert [d.code for d in diags] == ["SLG0601"] * 4
    assert [d.message for d in diags] == [
        "--data `edge_requests` is not NAME=PATH",
        "--data `=x.parquet` has no table name before `=`",
        "--data `incidents=` has no path after `=`",
        "table `a` is bound twice: `1.csv` and `2.csv`",
    ]
    assert diags[0].hint == ("name the logical table the source reads (`from \"...\"`) and its "
                             "data, e.g. `--data edge_requests=data/edge/`")
    assert diags[2].hint == ("give a file, a directory or a glob, e.g. "
                             "`--data incidents=data/incidents.parquet`")
    assert all(d.span.file == "<command line>" for d in diags)


# ----------------------------------------------------------------------------- --bind


def test_bindings_file_paths_are_relative_to_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "bindings.yaml").write_text(
        "version: 1\n"
        "tables:\n"
        "  edge_requests: ../data/edge/\n"
        "  incidents: {path: incidents.export, format: csv}\n"
        "  tickets: /srv/tickets/*.jsonl\n"
    )
    got = load_bindings_file("conf/bindings.yaml")
    assert got == {"edge_requests": "data/edge", "incidents": "conf/incidents.export",
                   "tickets": "/srv/tickets/*.jsonl"}
    assert isinstance(got["incidents"], Binding)
    assert got["incidents"].format == "csv"
    assert got["edge_requests"].format is None  # type: ignore[attr-defined]


def test_command_line_overrides_the_bindings_file() -> None:
    merged = merge_bindings({"a": "x.parquet", "b": "y.csv"}, {"b": "fixture.csv"})
    assert merged == {"a": "x.parquet", "b": "fixture.csv"}


def test_bindings_from_options_reads_the_file_then_data_wins(tmp_path: Path) -> None:
    """What every data-reading command does with `--bind FILE --data NAME=PATH`."""
    bind = tmp_path / "b.yaml"
    bind.write_text("version: 1\ntables:\n  a: x.parquet\n  b: y.csv\n")
    tables = bindings_from_options(str(bind), ["b=/data/fixture.csv"])
    assert tables == {"a": (tmp_path / "x.parquet").as_posix(), "b": "/data/fixture.csv"}
    assert bindings_from_options(None, []) == {}
    with pytest.raises(SlangError):
        bindings_from_options(None, ["no-equals-sign"])


def test_a_data_name_no_source_reads_is_slg0601(tmp_path: Path) -> None:
    """A misspelt `--data` next to `--bind` is refused with the closest table, not passed over;
    the bindings file itself may bind tables that no source reads."""
    bind = tmp_path / "b.yaml"
    bind.write_text("version: 1\ntables:\n  edge_requests: x.parquet\n  other: y.csv\n")
    read = {"edge_requests", "incidents"}
    with pytest.raises(SlangError) as info:
        bindings_from_options(str(bind), ["edge_request=fixed.parquet", "zzz=z.csv"], read)
    assert [(d.code, d.span.file, d.message, d.hint) for d in info.value.diagnostics] == [
        ("SLG0601", "<command line>", "--data `edge_request=...`: no source reads table "
         "`edge_request`", "did you mean `edge_requests`? the sources read: edge_requests, "
         "incidents"),
        ("SLG0601", "<command line>", "--data `zzz=...`: no source reads table `zzz`",
         "the sources read: edge_requests, incidents"),
    ]
    tables = bindings_from_options(str(bind), ["incidents=i.csv"], read)
    assert set(tables) == {"edge_requests", "other", "incidents"}


def test_slg0602_each_field_named_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    p.write_text(
        "version: 2\n"
        "tables:\n"
        "  edge_requests: {path: data/edge, format: xlsx}\n"
        "  incidents: 42\n"
        "  tickets: {path: t.csv, fmt: csv}\n"
        "extra: true\n"
    )
    diags = file_errors(p)
    assert all(d.code == "SLG0602" for d in diags)
    shown = p.as_posix()
    by_message = {d.message.removeprefix(f"bindings file {shown}: "): d for d in diags}
    assert set(by_message) == {
        "unknown field `extra`",
        "`tables.edge_requests.format` is 'xlsx', not a known format",
        "`tables.incidents` must be a path or a mapping with `path` (and `format`), "
        "not the number 42",
        "unknown field `tables.tickets.fmt`",
        "`version` must be 1, not 2",
    }
    lines = {m.split("`")[1]: d.span.line for m, d in by_message.items()}
    assert lines == {"extra": 6, "tables.edge_requests.format": 3,
                     "tables.incidents": 4, "tables.tickets.fmt": 5, "version": 1}
    assert by_message["unknown field `tables.tickets.fmt`"].hint == (
        "allowed here: `path`, `format`")
    assert by_message["`tables.edge_requests.format` is 'xlsx', not a known format"].hint == (
        "formats: parquet, ipc, csv, jsonl")


def test_slg0602_missing_fields_and_empty_tables(tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    p.write_text("tables: {}\n")
    messages = sorted(d.message.split(": ", 1)[1] for d in file_errors(p))
    assert messages == ["`tables` binds no table", "`version` is required"]
    p.write_text("")
    [d] = file_errors(p)
    assert d.message.endswith("`(top level)` must be a mapping, not empty")


def test_slg0602_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    p.write_text("version: 1\ntables:\n  a: [unclosed\n")
    [d] = file_errors(p)
    assert d.code == "SLG0602" and "is not valid YAML" in d.message
    assert d.span.file == p.as_posix() and d.span.line == 4
    [d] = file_errors(tmp_path / "missing.yaml")
    assert d.code == "SLG0602"
    assert d.message == f"cannot read bindings file {(tmp_path / 'missing.yaml').as_posix()}: " \
        "No such file or directory"


def test_safe_load_refuses_python_objects(tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    p.write_text("version: !!python/object/apply:os.system ['true']\ntables: {a: x}\n")
    [d] = file_errors(p)
    assert d.code == "SLG0602" and "not valid YAML" in d.message


def test_published_schema_is_a_valid_schema() -> None:
    schema = bindings_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"version": 1, "tables": {"a": "x", "b": {"path": "y", "format": "ipc"}}},
                        schema)
