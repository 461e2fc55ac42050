"""A test's data as files the engine reads: inline tables become Arrow tables, written as Arrow
IPC files into a scratch directory, and fixtures are bound where they are.

Going through files on purpose: the engine's reader is where data is validated (column types,
naive timestamps, skipped rows), so an inline table meets exactly the checks real data meets.
Column types come from the checker (`TestData.column_kinds`), which read them off the literals.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from slang.semantics import model as m
from slang.syntax import ast

ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "null": pa.null(),
}


def cell_value(cell: ast.Node) -> object:
    """The Python value of one literal cell (the checker has ruled out the others)."""
    match cell:
        case ast.NumberLit(text=text):
            return float(text) if "." in text else int(text)
        case ast.Neg(operand=ast.NumberLit(text=text)):
            return -float(text) if "." in text else -int(text)
        case ast.StringLit(value=value):
            return value
        case ast.TimestampLit():
            value = cell.value
            assert value is not None
            return value.astimezone(dt.UTC)
        case ast.DateLit():
            return cell.value
        case ast.BoolLit(value=value):
            return value
        case ast.NullLit():
            return None
    raise TypeError(f"not a cell: {type(cell).__name__}")  # pragma: no cover


def inline_table(data: m.TestData, reads: frozenset[str] = frozenset()) -> pa.Table:
    """The Arrow table of an inline `data` item. `{}` (no header) is an empty table with the
    columns the source declares (time or start and end, key, the columns with a unit) and,
    typed null, the other columns `reads` names: those the evaluation reads."""
    table = data.table
    assert table is not None
    if not table.columns:
        return empty_declared_table(data.source, reads)
    columns = {}
    for i, (name, kind) in enumerate(zip(table.columns, data.column_kinds, strict=True)):
        values = [cell_value(row.cells[i]) for row in table.rows]
        columns[name.name] = pa.array(values, type=ARROW_TYPES[kind])
    return pa.table(columns)


def empty_declared_table(source: m.Source, reads: frozenset[str] = frozenset()) -> pa.Table:
    epoch = source.time_form in ("epoch_ms", "epoch_s")
    time_type = pa.int64() if epoch else ARROW_TYPES["timestamp"]
    fields: list[tuple[str, pa.DataType]] = []
    if source.kind == "events":
        fields.append((source.time_column, time_type))
    else:
        fields += [(source.start_column, ARROW_TYPES["timestamp"]),
                   (source.end_column, ARROW_TYPES["timestamp"])]
    if source.key_column is not None:
        fields.append((source.key_column, pa.string()))
    fields += [(column, pa.float64()) for column in sorted(source.units)]
    known = {name for name, _ in fields}
    fields += [(column, pa.null()) for column in sorted(reads - known)]
    schema = pa.schema(list(dict(fields).items()))
    return schema.empty_table()


def bind(data: tuple[m.TestData, ...], scratch: Path,
         reads: dict[str, frozenset[str]] | None = None) -> dict[str, str]:
    """`{table: path}` for the engine: fixtures as they are, inline tables written as
    `scratch/TABLE.arrow`. `reads` gives, per table, the columns the evaluation reads."""
    out: dict[str, str] = {}
    for d in data:
        if d.path is not None:
            out[d.source.table] = d.path
            continue
        path = scratch / f"{d.source.table}.arrow"
        table = inline_table(d, (reads or {}).get(d.source.table, frozenset()))
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        out[d.source.table] = str(path)
    return out
