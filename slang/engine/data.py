"""Reading and validating measurement data: one bound path -> one canonical Arrow table.

An SLA audit is only as good as the rows it counts, so this is where data is refused rather than
guessed at. Every source is read through `read_source`, which

1. resolves the bound path to files: one file, or a dataset (a directory: every data file under
   it; or a glob), one format per dataset (SLG0603);
2. reads only the columns the plan needs (the time or start/end columns, the key, and the
   columns its conditions and indicators name), pushing a time range into Parquet scans so that
   row groups outside the audited periods are never read, after checking that the columns fit
   in memory (SLG0608);
3. validates them: files that cannot be read (SLG0604), missing columns (SLG0605), wrong types
   or unparseable timestamps (SLG0606), naive timestamps that the source did not declare UTC
   (SLG0607). All problems of a source are reported together, each naming the source, the
   column, the file and what was found;
4. normalises them into the engine's canonical form: int64 microseconds since the epoch (UTC)
   in `__t` (events) or `__start`/`__end` (intervals; a null end is an ongoing interval and
   stays null), the key as a dictionary-encoded string column `__key`, every other requested
   column under its own name. A requested time column also passes through under its own name,
   as `timestamp[us, tz=UTC]`, so that expressions such as `resolved_at - opened_at` see one
   type whatever the file held;
5. drops the rows that cannot be used, counting them per reason (`rows_skipped`), and records
   the evidence an auditor needs to re-run the audit: path, SHA-256 (of the bytes, or of the
   sorted `relpath\\tsha256\\n` listing of a dataset's files), rows, coverage and gaps.

Everything per row is a vectorised Arrow (or NumPy) kernel; Python loops run over files, row
groups and columns only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import glob as globlib
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.json as pajson

from slang.diagnostics import Diagnostic, SlangError, error
from slang.engine.bindings import Binding
from slang.semantics import model as m

# ------------------------------------------------------------------------------ formats

EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
FORMAT_NAMES = {
    "parquet": "parquet", "pq": "parquet",
    "ipc": "ipc", "arrow": "ipc", "feather": "ipc",
    "csv": "csv",
    "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl",
}
KEY_TYPE = pa.dictionary(pa.int32(), pa.string())
UTC_US = pa.timestamp("us", tz="UTC")
# CSV has no null literal; these are the spellings exports use. "NaN" is deliberately absent:
# a NaN measurement is a value the engine counts per indicator, not a missing one.
CSV_NULLS = ["", "null", "NULL"]
MEMORY_FRACTION = 0.6
_HASH_CHUNK = 1 << 20
# Instants an RFC 3339 timestamp can write: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z.
MIN_US = -62_135_596_800 * 1_000_000
MAX_US = 253_402_300_800 * 1_000_000 - 1

# ISO 8601 / RFC 3339 instants, the forms Arrow's parser accepts: date, `T` or space, hours,
# optional minutes, seconds and fraction, then `Z` or an offset (`+01`, `+0100`, `+01:00`).
_ISO_BODY = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
ISO_AWARE = _ISO_BODY + r"(Z|[+-]\d{2}(:?\d{2})?)$"
ISO_NAIVE = _ISO_BODY + r"$"
ZONE_SUFFIX = r"(Z|[+-]\d{2}(:?\d{2})?)$"


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Coverage:
    """When the data starts and ends, and its largest hole: an auditor's first questions.

    `first`/`last` are RFC 3339 UTC instants; `largest_gap_s` is in seconds (an int when whole).
    All three are None when no usable row was read.
    """

    first: str | None
    last: str | None
    largest_gap_s: int | float | None


@dataclass(frozen=True)
class DataEvidence:
    """One `evidence.data` entry of the audit report (see audit-report.md).

    `name` is the logical table bound (`--data NAME=...`), `source` the source that read it.
    `rows` are the rows read (within the time range, when one was pushed down) before skipping;
    `rows_skipped` counts every reason that applies to the source, zeros included, each row
    under its first reason only (so their sum is the number of rows dropped). `files` lists
    (path relative to the dataset root, sha256) for datasets and is None for a single file.
    """

    name: str
    source: str
    path: str
    sha256: str
    rows: int
    rows_skipped: dict[str, int]
    coverage: Coverage
    files: list[tuple[str, str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["files"] = None if self.files is None else [list(f) for f in self.files]
        return out


@dataclass(frozen=True)
class ScanStats:
    """What reading cost, so that pruning and projection can be checked rather than trusted.

    `rows_scanned` are the rows of the row groups actually decoded (Parquet) or of the files
    read (other formats), before any row-level filter; `bytes_estimated` is the memory estimate
    the guard compared with its budget.
    """

    files: int
    row_groups_total: int
    row_groups_read: int
    rows_scanned: int
    bytes_estimated: int


@dataclass
class SourceData:
    source: m.Source
    table: pa.Table
    evidence: DataEvidence
    scan: ScanStats | None = None


# ------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class DataFile:
    path: Path  # absolute, to open
    rel: str  # relative to the dataset root (evidence), or the shown path of a single file
    shown: str  # relative to the current directory when possible (messages)
    fmt: str


@dataclass(frozen=True)
class DataPath:
    shown: str
    files: tuple[DataFile, ...]
    is_dataset: bool


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as a person should see it: relative to the current directory when it lies below
    it (evidence must not depend on where a checkout lives), else as given."""
    text = os.fspath(path)
    p = Path(text)
    if p.is_absolute():
        try:
            return p.relative_to(Path.cwd()).as_posix() or "."
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def format_of(name: str) -> str | None:
    lower = name.lower()
    for ext, fmt in EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    return None


def _hidden(rel_parts: Iterable[str]) -> bool:
    """Files and directories whose names start with `.` or `_` are bookkeeping (`_SUCCESS`,
    `.part-0.crc`, `_delta_log`), as pyarrow.dataset and Spark treat them."""
    return any(part.startswith((".", "_")) for part in rel_parts)


def resolve_data_path(
    source: m.Source, path: str | os.PathLike[str], fmt: str | None = None
) -> DataPath:
    """The files behind a bound path, sorted, each with its format.

    A directory is every non-hidden file under it (recursively), a glob every file it matches
    (recursive `**` allowed); both are one dataset of one format. A file whose extension does
    not say its format needs `fmt`, rather than being skipped in silence: a data file left out
    of an audit would change its results without anyone noticing.
    """
    text = os.fspath(path)
    shown = shown_path(text)
    forced = _format_name(source, fmt) if fmt is not None else None
    p = Path(text).expanduser()
    ctx = _Ctx(source, shown)
    if p.is_file():
        detected = forced or format_of(p.name)
        if detected is None:
            raise SlangError([ctx.diag(
                "SLG0603", f"cannot tell the format of {shown} from its extension",
                "name the file .parquet, .arrow/.feather, .csv or .jsonl, or give the format in "
                "a bindings file (`path: ..., format: csv`)",
            )])
        return DataPath(shown, (DataFile(p.absolute(), shown, shown, detected),), False)
    if p.is_dir():
        root = p.absolute()
        found = [f for f in root.rglob("*") if f.is_file()]
        found = [f for f in found if not _hidden(f.relative_to(root).parts)]
        what = f"directory {shown}"
    elif globlib.has_magic(text):
        root = Path(_glob_root(text)).expanduser().absolute()
        found = []
        for hit in sorted(globlib.glob(os.path.expanduser(text), recursive=True)):
            h = Path(hit).absolute()
            if h.is_dir():
                found += [f for f in h.rglob("*") if f.is_file()
                          and not _hidden(f.relative_to(h).parts)]
            elif h.is_file() and not _hidden([h.name]):
                found.append(h)
        found = list(dict.fromkeys(found))
        what = f"glob {shown}"
    else:
        raise SlangError([ctx.diag(
            "SLG0604", f"data path {shown} does not exist",
            f"bind the table to a file, a directory or a glob: `--data {source.table}=PATH` "
            f"(relative paths are relative to {Path.cwd().as_posix()})",
        )])
    if not found:
        raise SlangError([ctx.diag(
            "SLG0604", f"{what} holds no data files",
            "a dataset is every file under a directory (names starting with `.` or `_` are "
            "ignored) or every file a glob matches",
        )])
    files: list[DataFile] = []
    unknown: list[str] = []
    for f in found:
        rel = _rel(f, root)
        detected = format_of(f.name)
        if forced is not None and (detected is None or detected == forced):
            detected = forced
        if detected is None:
            unknown.append(rel)
            continue
        files.append(DataFile(f, rel, shown_path(f), detected))
    files.sort(key=lambda f: f.rel)
    formats = sorted({f.fmt for f in files})
    diags: list[Diagnostic] = []
    if unknown:
        diags.append(ctx.diag(
            "SLG0603", f"{what} holds files of unknown format: {_listing(unknown)}",
            "remove them, bind a glob that selects the data files (e.g. `dir/*.parquet`), or "
            "give the format in a bindings file",
        ))
    if len(formats) > 1:
        examples = ", ".join(
            f"{fmt} ({next(f.rel for f in files if f.fmt == fmt)})" for fmt in formats)
        diags.append(ctx.diag(
            "SLG0603", f"{what} mixes formats: {examples}",
            "a dataset is one format; bind a glob such as "
            f"`{shown.rstrip('/')}/*.{_ext(formats[0])}` or split the directory",
        ))
    if diags:
        raise SlangError(diags)
    return DataPath(shown, tuple(files), True)


def _rel(f: Path, root: Path) -> str:
    try:
        return f.relative_to(root).as_posix()
    except ValueError:
        return shown_path(f)


def _glob_root(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: file paths in the evidence are
    relative to it, like a directory dataset's are to the directory."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts:
        if globlib.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _ext(fmt: str) -> str:
    return {"parquet": "parquet", "ipc": "arrow", "csv": "csv", "jsonl": "jsonl"}[fmt]


def _listing(items: Sequence[str], limit: int = 5) -> str:
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _format_name(source: m.Source, fmt: str) -> str:
    name = FORMAT_NAMES.get(fmt.lower().lstrip("."))
    if name is None:
        raise SlangError([error(
            "SLG0603", f"source `{source.name}`: unknown data format `{fmt}`", source.span,
            "formats: parquet, ipc (Arrow IPC/Feather), csv, jsonl",
        )])
    return name


# ------------------------------------------------------------------------------ hashing


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in chunks (data files can be many GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        buf = bytearray(_HASH_CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def listing_sha256(files: Iterable[tuple[str, str]]) -> str:
    """A dataset's hash: SHA-256 of the sorted `relpath\\tsha256\\n` lines of its files, so it
    changes when any file is added, removed, renamed or edited, and not when the directory
    moves."""
    text = "".join(f"{rel}\t{sha}\n" for rel, sha in sorted(files))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------ diagnostics


# Stands for "the file or files" in a problem's message until the files are known; a control
# character, so that no column name or value quoted from the data can look like it.
WHERE = "\x00where\x00"


@dataclass
class _Ctx:
    """Who is reading what, so every diagnostic names the source and the bound path."""

    source: m.Source
    shown: str
    problems: dict[tuple[str, str, str | None], list[str]] = field(default_factory=dict)
    count: int = 0

    def diag(self, code: str, message: str, hint: str | None = None) -> Diagnostic:
        return error(code, f"source `{self.source.name}` (table `{self.source.table}`): "
                     f"{message}", self.source.span, hint)

    def add(self, code: str, template: str, file: DataFile, hint: str | None = None) -> None:
        """A problem `template` (WHERE standing for the file) found in `file`; the same
        problem in several files of a dataset becomes one diagnostic naming them."""
        self.problems.setdefault((code, template, hint), []).append(file.shown)
        self.count += 1

    def diagnostics(self, total_files: int) -> list[Diagnostic]:
        """The problems collected so far, as diagnostics; the collector is emptied."""
        out = []
        for (code, template, hint), where in self.problems.items():
            if len(where) == 1:
                place = where[0]
            else:
                of = "all" if len(where) == total_files else f"{len(where)} of {total_files}"
                place = f"{of} files of {self.shown} ({_listing(where, 3)})"
            # only the first: values quoted from the data come after it (never str.format)
            out.append(self.diag(code, template.replace(WHERE, place, 1), hint))
        self.problems = {}
        return out


def _tname(t: pa.DataType) -> str:
    return str(t)


def _is_string(t: pa.DataType) -> bool:
    return (pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_string_view(t))


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _value_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _roles(source: m.Source) -> list[tuple[str, str]]:
    """(column, role) of the columns that carry time, in canonical order."""
    if source.kind == "events":
        return [(source.time_column, "time")]
    return [(source.start_column, "start"), (source.end_column, "end")]


def _time_type_problem(
    t: pa.DataType, form: str, col: str, role: str
) -> tuple[str, str, str | None] | None:
    """(code, message template, hint) when a time column's Arrow type cannot hold instants in
    the declared form; strings are checked value by value later."""
    t = _value_type(t)
    what = f"{role} column `{col}` in {WHERE}"
    if pa.types.is_null(t):
        return None
    if form in ("epoch_ms", "epoch_s"):
        if pa.types.is_integer(t):
            return None
        return ("SLG0606", f"{what} is {_tname(t)}, but `{form}` needs integers",
                f"declare `time {col}` (with `utc` for naive timestamps) if the column holds "
                "timestamps, or write the epoch values as integers")
    if pa.types.is_timestamp(t):
        if t.tz is None and form == "aware":
            return ("SLG0607", f"{what} holds naive timestamps ({_tname(t)}, no time zone)",
                    _naive_hint(col, role))
        return None
    if _is_string(t):
        return None
    if pa.types.is_integer(t):
        return ("SLG0606", f"{what} is {_tname(t)}, not a timestamp",
                f"if these are Unix epoch milliseconds (or seconds), declare "
                f"`time {col} epoch_ms` (or `epoch_s`)")
    return ("SLG0606", f"{what} is {_tname(t)}, not a timestamp",
            "write timestamps with a time zone or an offset (ISO 8601, e.g. "
            "2026-10-01T00:00:00Z), or integers with `epoch_ms`/`epoch_s`")


def _naive_hint(col: str, role: str) -> str:
    if role == "time":
        return (f"declare `time {col} utc` in the source if they are UTC, or write them with "
                "an offset")
    if role in ("start", "end"):
        return ("write them with an offset or `Z` (e.g. 2026-10-01T00:00:00Z): an intervals "
                "source reads time-zone aware timestamps")
    return ("write them with an offset, or declare the source's time `utc` if all its naive "
            "timestamps are UTC")


def _check_schema(
    schema: pa.Schema, source: m.Source, needed: Sequence[str], file: DataFile, ctx: _Ctx
) -> list[str]:
    """Presence and types of the needed columns in one file's schema; returns the columns
    present (reading asks only for those)."""
    names = schema.names
    present = [c for c in needed if c in names]
    for c in needed:
        if c in names:
            continue
        close = difflib.get_close_matches(c, names, n=1, cutoff=0.6)
        hint = (f"did you mean `{close[0]}`? " if close else "") + \
            f"columns there: {_listing(names, 20)}"
        ctx.add("SLG0605", f"column `{c}` not found in {WHERE}", file, hint)
    for col, role in _roles(source):
        if col in names:
            prob = _time_type_problem(schema.field(col).type, source.time_form, col, role)
            if prob is not None:
                ctx.add(prob[0], prob[1], file, prob[2])
    key = source.key_column
    if key is not None and key in names:
        t = _value_type(schema.field(key).type)
        if not (_is_string(t) or pa.types.is_null(t)):
            ctx.add("SLG0606", f"key column `{key}` in {WHERE} is {_tname(t)}, not a string",
                    file, "write the key as text (the values the catalogue's services match, "
                    "e.g. \"checkout\")")
    for col in needed:
        if col in source.units and col in names:
            t = _value_type(schema.field(col).type)
            if not (_is_numeric(t) or pa.types.is_null(t)):
                ctx.add("SLG0606", f"column `{col}` in {WHERE} is {_tname(t)}, but the "
                        f"source declares it in `{source.units[col]}`, so it must be numeric",
                        file, "write the column as numbers, or remove it from `units`")
    checked = {c for c, _ in _roles(source)} | {key} | set(source.units)
    for col in needed:
        if col in checked or col not in names:
            continue
        t = _value_type(schema.field(col).type)
        if pa.types.is_timestamp(t) and t.tz is None and source.time_form != "utc":
            ctx.add("SLG0607", f"column `{col}` in {WHERE} holds naive timestamps "
                    f"({_tname(t)}, no time zone)", file, _naive_hint(col, "column"))
    return present


# ------------------------------------------------------------------------------ readers


class _Reader:
    """One format: open a file (schema, cheaply), estimate memory, read needed columns."""

    fmt = ""
    types_known_early = True  # the schema's types, not only its names, before reading

    def __init__(self, source: m.Source, time_range_us: tuple[int, int] | None):
        self.source = source
        self.time_range_us = time_range_us

    def schema(self, f: DataFile) -> pa.Schema | None:
        """The file's schema when known before reading it whole (None: known after)."""
        raise NotImplementedError

    def estimate(self, f: DataFile, columns: Sequence[str]) -> int:
        return f.path.stat().st_size

    def read(self, f: DataFile, columns: Sequence[str]) -> tuple[pa.Table, int, int, int]:
        """(table, row groups total, row groups read, rows scanned)."""
        raise NotImplementedError

    def by_row_group(self, f: DataFile) -> bool:
        """Whether `pieces` can read the file row group by row group (else `read` reads it
        whole)."""
        return False

    def pieces(self, f: DataFile, columns: Sequence[str]) -> Iterator[pa.Table]:
        raise NotImplementedError

    def counts(self, f: DataFile) -> tuple[int, int, int]:
        raise NotImplementedError


class _ParquetReader(_Reader):
    """Parquet through pyarrow.dataset fragments: footers give the schema and per-column sizes
    without reading data, and row-group statistics let a time range skip whole row groups.

    Each file is scanned with its own physical schema, so a dataset whose files disagree is
    reported rather than silently cast or null-filled to the first file's schema."""

    fmt = "parquet"

    def __init__(self, source: m.Source, time_range_us: tuple[int, int] | None):
        super().__init__(source, time_range_us)
        key = [source.key_column] if source.key_column else []
        self.format = ds.ParquetFileFormat(
            read_options=ds.ParquetReadOptions(dictionary_columns=key))
        self.fs = pafs.LocalFileSystem()
        self.frags: dict[Path, Any] = {}
        self.kept: dict[Path, list[int]] = {}

    def fragment(self, f: DataFile) -> Any:
        if f.path not in self.frags:
            frag = self.format.make_fragment(str(f.path), filesystem=self.fs)
            frag.ensure_complete_metadata()
            self.frags[f.path] = frag
        return self.frags[f.path]

    def schema(self, f: DataFile) -> pa.Schema:
        return self.fragment(f).physical_schema  # type: ignore[no-any-return]

    def pushdown(self, f: DataFile) -> ds.Expression | None:
        if self.time_range_us is None:
            return None
        return pushdown_filter(self.source, self.schema(f), self.time_range_us)

    def row_groups(self, f: DataFile) -> list[int]:
        """The row groups whose statistics may hold rows in the time range."""
        if f.path not in self.kept:
            frag = self.fragment(f)
            filt = self.pushdown(f)
            if filt is None:
                ids = [rg.id for rg in frag.row_groups]
            else:
                ids = [rg.id for sub in frag.split_by_row_group(filt) for rg in sub.row_groups]
            self.kept[f.path] = ids
        return self.kept[f.path]

    def estimate(self, f: DataFile, columns: Sequence[str]) -> int:
        meta = self.fragment(f).metadata
        wanted = set(columns)
        leaves = [i for i in range(meta.num_columns)
                  if meta.schema.column(i).path.split(".")[0] in wanted]
        return sum(meta.row_group(rg).column(i).total_uncompressed_size
                   for rg in self.row_groups(f) for i in leaves)

    def read(self, f: DataFile, columns: Sequence[str]) -> tuple[pa.Table, int, int, int]:
        frag = self.fragment(f)
        ids = self.row_groups(f)
        meta = frag.metadata
        scanned = sum(meta.row_group(i).num_rows for i in ids)
        schema = frag.physical_schema
        part = frag if len(ids) == meta.num_row_groups else frag.subset(row_group_ids=ids)
        table = part.to_table(schema=schema, columns=list(columns), filter=self.pushdown(f))
        return table, meta.num_row_groups, len(ids), scanned

    def by_row_group(self, f: DataFile) -> bool:
        """Whether the file can be read row group by row group: its time columns are
        timestamps or integers. String times are parsed with messages that count and locate
        bad values over the whole file, so those files are read whole."""
        schema = self.schema(f)
        return all(not _is_string(_value_type(schema.field(col).type))
                   for col, _ in _roles(self.source) if col in schema.names)

    def pieces(self, f: DataFile, columns: Sequence[str]) -> Iterator[pa.Table]:
        """The kept row groups one at a time (one chunk each), without the scan filter: the
        exact range filter runs on each piece, and decoding one row group at a time keeps
        the decoder's transient memory to one row group rather than the whole file."""
        frag = self.fragment(f)
        ids = self.row_groups(f)
        meta = frag.metadata
        schema = frag.physical_schema
        for i in ids or [None]:
            part = frag.subset(row_group_ids=[] if i is None else [i])
            rows = 1 if i is None else max(1, meta.row_group(i).num_rows)
            yield part.to_table(schema=schema, columns=list(columns), batch_size=rows)

    def counts(self, f: DataFile) -> tuple[int, int, int]:
        """(row groups total, row groups read, rows scanned) of a file read in pieces."""
        meta = self.fragment(f).metadata
        ids = self.row_groups(f)
        return meta.num_row_groups, len(ids), sum(meta.row_group(i).num_rows for i in ids)


class _IpcReader(_Reader):
    """Arrow IPC files (Feather v2) through pyarrow.dataset, which memory-maps and reads only
    the requested columns; IPC streams (also written as `.arrow`) are read whole."""

    fmt = "ipc"

    def __init__(self, source: m.Source, time_range_us: tuple[int, int] | None):
        super().__init__(source, time_range_us)
        self.fs = pafs.LocalFileSystem()
        self.frags: dict[Path, Any] = {}
        self.streams: dict[Path, pa.Schema] = {}

    def schema(self, f: DataFile) -> pa.Schema:
        try:
            frag = ds.IpcFileFormat().make_fragment(str(f.path), filesystem=self.fs)
            schema = frag.physical_schema
            self.frags[f.path] = frag
            return schema  # type: ignore[no-any-return]
        except pa.ArrowInvalid:
            with pa.OSFile(str(f.path)) as fh:
                schema = pa.ipc.open_stream(fh).schema
            self.streams[f.path] = schema
            return schema

    def read(self, f: DataFile, columns: Sequence[str]) -> tuple[pa.Table, int, int, int]:
        if f.path in self.frags:
            table = self.frags[f.path].to_table(columns=list(columns))
        else:
            with pa.OSFile(str(f.path)) as fh:
                table = pa.ipc.open_stream(fh).read_all().select(list(columns))
        return table, 0, 0, table.num_rows


class _CsvReader(_Reader):
    """CSV with pyarrow's reader, which infers each column's type over the whole file (the
    dataset scanner infers from the first block only and then fails on a later value).

    Timestamps with `Z` or an offset come back tz-aware, without one naive, and a column that
    mixes them as strings: the normaliser handles all three. The key column is read as text,
    since CSV has no types and `service` ids may look like numbers."""

    fmt = "csv"
    types_known_early = False

    def schema(self, f: DataFile) -> pa.Schema:
        # The header only: the first block's inferred types are not trusted (see above).
        reader = pacsv.open_csv(str(f.path), read_options=pacsv.ReadOptions(block_size=1 << 16))
        return pa.schema([pa.field(n, pa.null()) for n in reader.schema.names])

    def read(self, f: DataFile, columns: Sequence[str]) -> tuple[pa.Table, int, int, int]:
        key = self.source.key_column
        convert = pacsv.ConvertOptions(
            include_columns=list(columns),
            column_types={key: pa.string()} if key in columns else None,
            strings_can_be_null=True,
            null_values=CSV_NULLS,
        )
        table = pacsv.read_csv(str(f.path), convert_options=convert)
        return table, 0, 0, table.num_rows


class _JsonlReader(_Reader):
    """JSON Lines with pyarrow's reader.

    Its type inference turns ISO strings into *naive* timestamps, converting any offset to UTC
    and dropping it, so `2026-10-01T00:00:00+01:00` and a naive local `2026-09-30T23:00:00`
    become indistinguishable. Time columns are therefore read as strings and parsed here, and
    any other needed column that inference made a timestamp is re-read the same way."""

    fmt = "jsonl"
    types_known_early = False

    def __init__(self, source: m.Source, time_range_us: tuple[int, int] | None):
        super().__init__(source, time_range_us)
        self.retimed: dict[Path, set[str]] = {}  # other columns re-read as strings to parse

    def schema(self, f: DataFile) -> None:
        return None

    def read(self, f: DataFile, columns: Sequence[str]) -> tuple[pa.Table, int, int, int]:
        times = {c for c, _ in _roles(self.source)} if self.source.time_form in (
            "aware", "utc") else set()
        table, forced = self._read_forcing(f, times)
        inferred = {c for c in columns if c in table.column_names
                    and pa.types.is_timestamp(table.schema.field(c).type)} - forced
        if inferred:
            table, forced = self._read_forcing(f, forced | inferred)
            self.retimed[f.path] = inferred & forced
        # A forced column that is absent from the file comes back all null: tell the two apart,
        # so that a misspelt time column is reported missing rather than every row skipped.
        empty = {c for c in forced if table.num_rows and
                 table.column(c).null_count == table.num_rows}
        if empty:
            probe, _ = self._read_forcing(f, forced - empty)
            table = table.select([c for c in table.column_names
                                  if c not in empty or c in probe.column_names])
        # every column, so that a missing one's hint can list what the file does have
        return table, 0, 0, table.num_rows

    def _read_forcing(self, f: DataFile, forced: set[str]) -> tuple[pa.Table, set[str]]:
        """Read with `forced` columns as strings, giving up forcing a column whose values are
        not strings (its inferred type is then reported by the type checks)."""
        forced = set(forced)
        while True:
            parse = pajson.ParseOptions(
                explicit_schema=pa.schema([(c, pa.string()) for c in sorted(forced)]),
                unexpected_field_behavior="infer",
            )
            try:
                return pajson.read_json(str(f.path), parse_options=parse), forced
            except pa.ArrowInvalid as exc:
                hit = re.search(r"Column\(/([^)]*)\) changed from string", str(exc))
                if not (hit and hit.group(1) in forced):
                    raise
                forced.discard(hit.group(1))


READERS: dict[str, type[_Reader]] = {
    "parquet": _ParquetReader,
    "ipc": _IpcReader,
    "csv": _CsvReader,
    "jsonl": _JsonlReader,
}


# ------------------------------------------------------------------------------ pushdown


def pushdown_filter(
    source: m.Source, schema: pa.Schema, time_range_us: tuple[int, int]
) -> ds.Expression | None:
    """A dataset filter that keeps at least every row the exact range filter keeps (rows whose
    time lies in `[lo, hi)`, for intervals rows that overlap it, and rows whose time is null so
    that they are counted as skipped), written in the column's own type so that Parquet
    row-group statistics can prune: timestamps in their unit (naive ones only when the source
    says `utc`), integers in the epoch unit. Bounds round outward; the exact filter on the
    normalised microseconds runs after reading. None when nothing can be pushed (strings)."""
    lo, hi = time_range_us
    if source.kind == "events":
        col = source.time_column
        lo_v = _in_column_units(lo, schema, col, source.time_form, up=False)
        hi_v = _in_column_units(hi, schema, col, source.time_form, up=True)
        if lo_v is None or hi_v is None:
            return None
        f = ds.field(col)
        return ((f >= lo_v) & (f < hi_v)) | f.is_null()
    start, end = source.start_column, source.end_column
    hi_v = _in_column_units(hi, schema, start, source.time_form, up=True)
    lo_v = _in_column_units(lo, schema, end, source.time_form, up=False)
    if hi_v is None:
        return None
    s = ds.field(start)
    overlap = s < hi_v
    if lo_v is not None:
        e = ds.field(end)
        overlap = overlap & (e.is_null() | (e >= lo_v))
    return s.is_null() | overlap


_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _in_column_units(us: int, schema: pa.Schema, col: str, form: str, up: bool) -> Any:
    if col not in schema.names:
        return None
    t = schema.field(col).type
    if pa.types.is_timestamp(t):
        if t.tz is None and form != "utc":
            return None
        if t.unit == "ns":
            value = us * 1000
        else:
            size = _UNIT_US[t.unit]
            value = -(-us // size) if up else us // size
        return pa.scalar(value, type=t)
    if pa.types.is_integer(t) and form in ("epoch_ms", "epoch_s"):
        size = 1000 if form == "epoch_ms" else 1_000_000
        value = -(-us // size) if up else us // size
        info = np.iinfo(t.to_pandas_dtype())
        if not info.min <= value <= info.max:
            return None
        return pa.scalar(value, type=t)
    return None


# ------------------------------------------------------------------------------ normalising


def _to_us(
    col: pa.ChunkedArray, form: str, name: str, role: str, file: DataFile, ctx: _Ctx
) -> pa.ChunkedArray | None:
    """Instants of a time column as int64 microseconds since the epoch, UTC.

    Types were checked on the schema; here the values: ISO strings must carry `Z` or an offset
    (naive ones only under `utc`), epoch integers must fit. Problems go to `ctx`; None then."""
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = t.value_type
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(col), pa.int64())])
    if pa.types.is_string_view(t):
        col = col.cast(pa.string())
        t = pa.string()
    what = f"{role} column `{name}` in {WHERE}"
    out_of_range = (f"{what} ({_tname(t)}) holds instants out of range (years 0001-9999)",
                    "check the unit: `epoch_ms` for milliseconds, `epoch_s` for seconds")
    try:
        if pa.types.is_timestamp(t):
            ints = col.cast(pa.int64())
            if t.unit == "ns":
                us = _floor_div(ints, 1000)
            else:
                us = ints if t.unit == "us" else pc.multiply_checked(ints, _UNIT_US[t.unit])
        elif pa.types.is_integer(t):
            size = 1000 if form == "epoch_ms" else 1_000_000
            us = pc.multiply_checked(col.cast(pa.int64()), size)
        else:
            us = _parse_iso(col, form, name, role, t, file, ctx)
    except pa.ArrowInvalid:
        us = None
        ctx.add("SLG0606", out_of_range[0], file, out_of_range[1])
    if us is None:
        return None
    bounds = pc.min_max(us)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if lo is not None and (lo < MIN_US or hi > MAX_US):
        ctx.add("SLG0606", out_of_range[0], file, out_of_range[1])
        return None
    return us


def _floor_div(ints: pa.ChunkedArray, by: int) -> pa.ChunkedArray:
    """Integer division rounding down (Arrow's rounds toward zero), so an instant before 1970
    with a sub-microsecond part still lands in the microsecond that contains it."""
    q = pc.divide(ints, by)
    low = pc.and_(pc.less(ints, 0), pc.not_equal(pc.multiply(q, by), ints))
    return pc.if_else(low, pc.subtract(q, 1), q)


def _parse_iso(
    col: pa.ChunkedArray, form: str, name: str, role: str, t: pa.DataType, file: DataFile,
    ctx: _Ctx,
) -> pa.ChunkedArray | None:
    """ISO 8601 strings to microseconds.

    The common case costs one cast by Arrow's parser, which refuses a missing offset when the
    target has a time zone. Under `utc`, strings without a zone get a `Z` first (found by a
    suffix match, cheaper than validating every string). Only when conversion fails are the
    values classified, to say what is wrong, how often, and where."""
    what = f"{role} column `{name}` in {WHERE}"
    try:
        return _iso_to_us(col, form)
    except pa.ArrowInvalid:
        pass
    s = pc.if_else(pc.equal(col, ""), pa.scalar(None, t), col)  # empty text: no time
    aware = pc.fill_null(pc.match_substring_regex(s, ISO_AWARE), False)
    naive = pc.fill_null(pc.match_substring_regex(s, ISO_NAIVE), False)
    bad = pc.and_(pc.is_valid(s), pc.invert(pc.or_(aware, naive)))
    problems = False
    n_bad = _count(bad)
    if n_bad:
        row, example = _first(s, bad)
        ctx.add("SLG0606", f"{what} ({_tname(t)}) has {n_bad} value{'s' * (n_bad > 1)} that "
                f"{'are' if n_bad > 1 else 'is'} not an ISO 8601 timestamp, e.g. "
                f"`{example}` (row {row})", file,
                "write instants as ISO 8601 with `Z` or an offset, e.g. 2026-10-01T00:00:00Z")
        problems = True
    n_naive = _count(naive)
    if n_naive and form != "utc":
        row, example = _first(s, naive)
        hint = _naive_hint(name, role)
        ctx.add("SLG0607", f"{what} ({_tname(t)}) has {n_naive} naive timestamp"
                f"{'s' * (n_naive > 1)} without an offset, e.g. `{example}` (row {row})", file,
                hint)
        problems = True
    if problems:
        return None
    try:
        return _iso_to_us(s, form)
    except pa.ArrowInvalid as exc:
        hit = re.search(r"Failed to parse string: '([^']*)'", str(exc))
        example = hit.group(1) if hit else "?"
        ctx.add("SLG0606", f"{what} ({_tname(t)}) has an invalid timestamp `{example}`", file,
                "write real calendar instants as ISO 8601 with `Z` or an offset")
        return None


def _iso_to_us(s: pa.ChunkedArray, form: str) -> pa.ChunkedArray:
    """Arrow's ISO 8601 parser, microseconds first, nanoseconds (floored) when some value has
    more than six decimals; raises ArrowInvalid on any value it cannot read."""
    if form == "utc":
        try:
            return s.cast(pa.timestamp("us")).cast(pa.int64())  # all naive
        except pa.ArrowInvalid:
            zoned = pc.fill_null(pc.match_substring_regex(s, ZONE_SUFFIX), True)
            s = pc.if_else(zoned, s, pc.binary_join_element_wise(s, "Z", ""))
    try:
        return s.cast(UTC_US).cast(pa.int64())
    except pa.ArrowInvalid:
        return _floor_div(s.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()), 1000)


def _count(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _first(values: pa.ChunkedArray, mask: pa.ChunkedArray) -> tuple[int, str]:
    """1-based row number and value of the first row where mask holds (for messages)."""
    index = int(pc.index(mask, True).as_py())
    return index + 1, str(values[index].as_py())


def _key(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """The key as dictionary<int32, string>: services are few, rows many, and the engine groups
    by dictionary code."""
    t = col.type
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(col), KEY_TYPE)])
    if t == KEY_TYPE:
        return col
    if pa.types.is_dictionary(t) or not pa.types.is_string(t):
        col = col.cast(pa.string())
    return pc.dictionary_encode(col)


def _normalise(
    table: pa.Table, source: m.Source, columns: Sequence[str], file: DataFile, ctx: _Ctx,
    retimed: Iterable[str] = (),
) -> pa.Table | None:
    """One file's columns in canonical form (see the module docstring); `columns` are those
    the plan asked for, passed through under their names; `retimed` are columns read as
    strings because the reader's inference would have dropped their offsets."""
    out: dict[str, pa.ChunkedArray] = {}
    canon = {"time": "__t", "start": "__start", "end": "__end"}
    times: dict[str, pa.ChunkedArray] = {}
    failed = False
    for col, role in _roles(source):
        us = _to_us(table.column(col), source.time_form, col, role, file, ctx)
        if us is None:
            failed = True
            continue
        out[canon[role]] = us
        times[col] = us
    if source.key_column is not None:
        out["__key"] = _key(table.column(source.key_column))
    for c in columns:
        if c in out:
            continue
        if c in times:
            out[c] = times[c].cast(UTC_US)
        elif c in retimed:
            form = source.time_form if source.time_form == "utc" else "aware"
            us = _to_us(table.column(c), form, c, "column", file, ctx)
            if us is None:
                failed = True
                continue
            out[c] = us.cast(UTC_US)
        elif c in table.column_names:
            out[c] = table.column(c)
    if failed:
        return None
    return pa.table(out)


def _concat(tables: list[tuple[DataFile, pa.Table]], ctx: _Ctx) -> pa.Table:
    """One table from the files' canonical tables; passthrough columns whose types differ are
    promoted when Arrow can do so losslessly (int32 and int64, int and float from CSV
    inference), else the dataset is inconsistent (SLG0603)."""
    if len(tables) == 1:
        return tables[0][1]
    try:
        return pa.concat_tables([t for _, t in tables], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    seen: dict[str, dict[str, str]] = {}
    for f, t in tables:
        for fld in t.schema:
            seen.setdefault(fld.name, {}).setdefault(_tname(fld.type), f.shown)
    clashes = [f"`{c}` is " + " but ".join(f"{ty} in {where}" for ty, where in types.items())
               for c, types in seen.items() if len(types) > 1]
    raise SlangError([ctx.diag(
        "SLG0603", f"the files of {ctx.shown} disagree on column types: " + "; ".join(clashes),
        "a dataset's files must share one schema; rewrite the odd files, or bind them as "
        "separate tables",
    )])


# ------------------------------------------------------------------------------ rows and coverage


def _range_mask(table: pa.Table, source: m.Source, time_range_us: tuple[int, int]) -> Any:
    """Rows inside the time range (intervals: overlapping it), plus rows without a time, which
    are kept to be counted as skipped."""
    lo, hi = time_range_us
    if source.kind == "events":
        t = table.column("__t")
        inside = pc.and_(pc.greater_equal(t, lo), pc.less(t, hi))
        return pc.fill_null(pc.or_kleene(pc.is_null(t), inside), False)
    s, e = table.column("__start"), table.column("__end")
    overlap = pc.and_kleene(pc.less(s, hi), pc.or_kleene(pc.is_null(e), pc.greater(e, lo)))
    return pc.fill_null(pc.or_kleene(pc.is_null(s), overlap), False)


def _skip(table: pa.Table, source: m.Source) -> tuple[pa.Table, dict[str, int]]:
    """Drop unusable rows, counting each under its first reason (time, order, key)."""
    counts: dict[str, int] = {}
    if source.kind == "events":
        drop = pc.is_null(table.column("__t"))
        counts["null_time"] = _count(drop)
    else:
        s, e = table.column("__start"), table.column("__end")
        drop = pc.is_null(s)
        counts["null_start"] = _count(drop)
        backwards = pc.and_(pc.invert(drop), pc.fill_null(pc.less(e, s), False))
        counts["end_before_start"] = _count(backwards)
        drop = pc.or_(drop, backwards)
    if source.key_column is not None:
        no_key = pc.and_(pc.invert(drop), pc.is_null(table.column("__key")))
        counts["null_key"] = _count(no_key)
        drop = pc.or_(drop, no_key)
    if sum(counts.values()):
        table = table.filter(pc.invert(drop))
    return table, dict(sorted(counts.items()))


def _np(col: pa.ChunkedArray) -> np.ndarray:
    if col.num_chunks == 1:
        return col.chunk(0).to_numpy(zero_copy_only=False)
    return col.to_numpy()


def rfc3339_us(us: int) -> str:
    """`2026-10-01T00:00:00Z`, with a fraction only when the instant has one."""
    t = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"


def _seconds(us: int) -> int | float:
    return us // 1_000_000 if us % 1_000_000 == 0 else us / 1_000_000


def coverage(table: pa.Table, source: m.Source, as_of_us: int) -> Coverage:
    """First and last instants and the largest gap, over the rows kept.

    Events: the largest difference between consecutive times (after sorting, which is skipped
    when the data is already in time order, the usual case for logs). Intervals: the longest
    stretch between the first start and the last end (or start, for an ongoing interval) that
    no interval covers; ongoing intervals cover up to `as_of`, and empty intervals cover
    nothing."""
    if table.num_rows == 0:
        return Coverage(None, None, None)
    if source.kind == "events":
        t = _np(table.column("__t"))
        first, last = int(t.min()), int(t.max())
        if len(t) < 2:
            return Coverage(rfc3339_us(first), rfc3339_us(last), 0)
        steps = np.diff(t)
        if steps.min() < 0:
            steps = np.diff(np.sort(t))
        return Coverage(rfc3339_us(first), rfc3339_us(last), _seconds(int(steps.max())))
    s = _np(table.column("__start")).astype(np.int64, copy=False)
    e_col = table.column("__end")
    first = int(s.min())
    last = int(_np(pc.fill_null(e_col, table.column("__start"))).max())
    ends = _np(pc.fill_null(e_col, as_of_us)).astype(np.int64, copy=False)
    ends = np.maximum(ends, s)
    solid = ends > s
    if not solid.any():
        gap = last - first
    else:
        order = np.argsort(s[solid], kind="stable")
        ss, ee = s[solid][order], np.maximum.accumulate(ends[solid][order])
        inner = int((ss[1:] - ee[:-1]).max()) if len(ss) > 1 else 0
        gap = max(0, inner, int(ss[0]) - first, last - int(ee[-1]))
    return Coverage(rfc3339_us(first), rfc3339_us(last), _seconds(gap))


# ------------------------------------------------------------------------------ memory


def physical_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_budget() -> int | None:
    """60 % of physical memory: room for the table, one row group's decoding and masks."""
    total = physical_memory_bytes()
    return None if total is None else int(total * MEMORY_FRACTION)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def estimate_source(
    source: m.Source,
    path: str | os.PathLike[str],
    columns: Iterable[str],
    *,
    time_range_us: tuple[int, int] | None = None,
) -> int | None:
    """The bytes the canonical columns of `source` will take in memory, from metadata only:
    for Parquet, the rows of the row groups the time range keeps times each needed column's
    width in memory (8 for instants, which become int64 microseconds; the index width of a
    dictionary; the uncompressed size plus offsets of text); for other formats the files' size.
    None when the path cannot be resolved or a footer read: `read_source` then says why."""
    fmt = path.format if isinstance(path, Binding) else None
    try:
        data_path = resolve_data_path(source, path, fmt)
        wanted = sorted({c for c in columns if c and not c.startswith("__")})
        needed = _needed(source, wanted)
        reader = READERS[data_path.files[0].fmt](source, time_range_us)
        if not isinstance(reader, _ParquetReader):
            return sum(f.path.stat().st_size for f in data_path.files)
        return sum(_parquet_bytes(reader, f, needed) for f in data_path.files)
    except (SlangError, OSError, pa.ArrowException):
        return None


def _parquet_bytes(reader: _ParquetReader, f: DataFile, needed: Sequence[str]) -> int:
    meta = reader.fragment(f).metadata
    schema = reader.schema(f)
    kept = reader.row_groups(f)
    rows = sum(meta.row_group(i).num_rows for i in kept)
    times = {col for col, _ in _roles(reader.source)}
    total = 0
    for col in needed:
        if col not in schema.names:
            continue
        width = _width(schema.field(col).type)
        if col in times:
            width = 8.0
        if width is not None:
            total += int(rows * width)
            continue
        leaves = [i for i in range(meta.num_columns)
                  if meta.schema.column(i).path.split(".")[0] == col]
        total += 4 * rows + sum(meta.row_group(rg).column(i).total_uncompressed_size
                                for rg in kept for i in leaves)
    return total


def _width(t: pa.DataType) -> float | None:
    """Bytes per value in memory of a fixed-width type (None for text and nested types)."""
    if pa.types.is_dictionary(t):
        return t.index_type.bit_width / 8
    try:
        return max(t.bit_width, 1) / 8
    except ValueError:
        return None


# ------------------------------------------------------------------------------ entry point


def read_source(
    source: m.Source,
    path: str | os.PathLike[str],
    columns: Iterable[str],
    *,
    as_of_us: int,
    fmt: str | None = None,
    time_range_us: tuple[int, int] | None = None,
    memory_budget_bytes: int | None = None,
    sink: RowSink | None = None,
) -> SourceData:
    """Read, validate and normalise the data bound to `source` (see the module docstring).

    `columns` are the columns the plan needs besides time and key. `fmt` forces a format
    (default: the extension; a `Binding` carries one). `time_range_us`, `[lo, hi)` in UTC
    microseconds, keeps only events in the range (intervals overlapping it) plus rows without a
    time, pushed into Parquet scans; evidence then describes those rows. `memory_budget_bytes`
    defaults to 60 % of physical memory. `sink` receives the kept rows piece by piece and
    builds the returned table (default: concatenated in reading order, dictionaries unified).
    Raises SlangError with every problem of the source.
    """
    if fmt is None and isinstance(path, Binding):
        fmt = path.format
    data_path = resolve_data_path(source, path, fmt)
    ctx = _Ctx(source, data_path.shown)
    wanted = sorted({c for c in columns if c and not c.startswith("__")})
    needed = _needed(source, wanted)
    files = data_path.files
    # Hashing (I/O and SHA-256, both outside the GIL) overlaps with reading.
    collect = sink if sink is not None else ConcatSink()
    tally = _Tally(source, time_range_us)

    def emit(table: pa.Table) -> None:
        collect.add(tally.keep(table))

    pool = ThreadPoolExecutor(max_workers=min(4, len(files)))
    try:
        hashes = [pool.submit(sha256_file, f.path) for f in files]
        stats = _read_all(source, files, needed, wanted, ctx, time_range_us,
                          memory_budget_bytes, emit)
        digests = [(f.rel, _result(h, f, ctx)) for f, h in zip(files, hashes, strict=True)]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    table = collect.finish()
    if sink is None and source.key_column is not None and table.num_rows:
        table = table.unify_dictionaries()
    evidence = DataEvidence(
        name=source.table,
        source=source.name,
        path=data_path.shown,
        sha256=listing_sha256(digests) if data_path.is_dataset else digests[0][1],
        rows=tally.rows,
        rows_skipped=dict(sorted(tally.skipped.items())),
        coverage=_coverage(tally, collect, table, as_of_us),
        files=digests if data_path.is_dataset else None,
    )
    return SourceData(source, table, evidence, stats)


def _coverage(tally: _Tally, sink: RowSink, table: pa.Table, as_of_us: int) -> Coverage:
    """The coverage of the kept rows; a sink that keeps no rows in memory (the partitioned
    spill of a streamed audit) gives the extent of events that did not arrive in order."""
    extent = getattr(sink, "time_extent", None)
    if tally.events is None or tally.events.in_order or extent is None:
        return tally.coverage(table, as_of_us)
    found = extent()
    if found is None:
        return Coverage(None, None, None)
    first, last, gap = found
    return Coverage(rfc3339_us(first), rfc3339_us(last), _seconds(gap))


class RowSink(Protocol):
    """Where `read_source` puts the canonical rows it keeps, piece by piece (a file, or a
    Parquet row group), in reading order. `finish` returns the source's table. The engine
    passes a sink that orders rows by key while they arrive, so that no second copy of the
    table is ever built."""

    def add(self, table: pa.Table) -> None: ...

    def finish(self) -> pa.Table: ...


class ConcatSink:
    """The pieces as one table, in reading order (the default)."""

    def __init__(self) -> None:
        self.pieces: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        self.pieces.append(table)

    def finish(self) -> pa.Table:
        pieces, self.pieces = self.pieces, []
        if len(pieces) == 1:
            return pieces[0]
        return pa.concat_tables(pieces, promote_options="permissive")


class _Tally:
    """Per piece: the exact time-range filter, the skipped rows per reason and, for events, the
    coverage so far, so that nothing needs the whole table at once."""

    def __init__(self, source: m.Source, time_range_us: tuple[int, int] | None) -> None:
        self.source = source
        self.time_range_us = time_range_us
        self.rows = 0
        self.skipped: dict[str, int] = {}
        self.events = _EventCoverage() if source.kind == "events" else None

    def keep(self, table: pa.Table) -> pa.Table:
        if self.time_range_us is not None:
            keep = _range_mask(table, self.source, self.time_range_us)
            # Pruned row groups already hold only rows in range, as a rule: filtering them
            # would only copy them.
            if not pc.all(keep).as_py():
                table = table.filter(keep)
        self.rows += table.num_rows
        table, skipped = _skip(table, self.source)
        for reason, n in skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
        if self.events is not None:
            self.events.add(table.column("__t"))
        return table

    def coverage(self, table: pa.Table, as_of_us: int) -> Coverage:
        if self.events is not None and self.events.in_order:
            return self.events.result()
        return coverage(table, self.source, as_of_us)


_STEP_BLOCK = 1 << 16


class _EventCoverage:
    """First, last and largest gap of event times seen piece by piece in reading order, while
    they are in time order (the usual case for logs; otherwise `coverage` sorts the whole
    table at the end). Never concatenates: per chunk, one difference array at a time."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.last: int | None = None
        self.gap = 0
        self.in_order = True

    def add(self, col: pa.ChunkedArray) -> None:
        for chunk in col.chunks:
            if not self.in_order or len(chunk) == 0:
                continue
            t = chunk.to_numpy(zero_copy_only=False)
            if self.last is not None and t[0] < self.last:
                self.in_order = False
                return
            for lo in range(0, len(t) - 1, _STEP_BLOCK):  # a small difference array at a time
                steps = np.diff(t[lo:lo + _STEP_BLOCK + 1])
                if steps.min() < 0:
                    self.in_order = False
                    return
                self.gap = max(self.gap, int(steps.max()))
            if self.last is not None:
                self.gap = max(self.gap, int(t[0]) - self.last)
            if self.first is None:
                self.first = int(t[0])
            self.last = int(t[-1])

    def result(self) -> Coverage:
        if self.first is None or self.last is None:
            return Coverage(None, None, None)
        return Coverage(rfc3339_us(self.first), rfc3339_us(self.last), _seconds(self.gap))


def _result(future: Future[str], f: DataFile, ctx: _Ctx) -> str:
    try:
        return future.result()
    except OSError as exc:  # the file changed or vanished between reading and hashing
        raise SlangError([ctx.diag("SLG0604", f"cannot hash {f.shown}: {exc.strerror or exc}",
                                   "the evidence needs every file's SHA-256; check that "
                                   "nothing is rewriting the data during the audit")]) from None


def _needed(source: m.Source, wanted: Sequence[str]) -> list[str]:
    """The columns to read: time (or start, end), key, then the plan's columns."""
    out = [c for c, _ in _roles(source)]
    if source.key_column is not None:
        out.append(source.key_column)
    return list(dict.fromkeys([*out, *wanted]))


def _read_all(
    source: m.Source,
    files: Sequence[DataFile],
    needed: Sequence[str],
    wanted: Sequence[str],
    ctx: _Ctx,
    time_range_us: tuple[int, int] | None,
    memory_budget_bytes: int | None,
    emit: Callable[[pa.Table], None],
) -> ScanStats:
    """Check, read and normalise every file, handing each canonical piece to `emit`; raises
    SlangError with every problem found (pieces emitted before a problem are then moot)."""
    reader = READERS[files[0].fmt](source, time_range_us)
    shown = ctx.shown

    def unreadable(f: DataFile, exc: Exception) -> Diagnostic:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ctx.diag("SLG0604", f"cannot read {f.shown} as {f.fmt}: {reason}",
                        "check that the file is complete and really is "
                        f"{f.fmt}; the format comes from the extension")

    # 1. schemas (cheap for Parquet and IPC), column presence and types
    present: dict[Path, list[str]] = {}
    diags: list[Diagnostic] = []
    for f in files:
        try:
            schema = reader.schema(f)
        except (OSError, pa.ArrowException) as exc:
            diags.append(unreadable(f, exc))
            continue
        if schema is not None:
            present[f.path] = _check_schema(schema, source, needed, f, ctx)
    diags += ctx.diagnostics(len(files))
    if diags:
        raise SlangError(diags)

    # 2. memory, before anything big is read
    cols_of = {f.path: present.get(f.path, list(needed)) for f in files}
    estimate = sum(reader.estimate(f, cols_of[f.path]) for f in files)
    budget = memory_budget_bytes if memory_budget_bytes is not None else \
        default_memory_budget()
    if budget is not None and estimate > budget:
        share = "" if memory_budget_bytes is not None else \
            f" ({MEMORY_FRACTION:.0%} of physical memory)"
        raise SlangError([ctx.diag(
            "SLG0608", f"{shown} will not fit in memory: columns {', '.join(needed)} need "
            f"about {_human(estimate)}, the budget is {_human(budget)}{share}",
            "narrow the periods with --from/--to (Parquet row groups outside them are not "
            "read) or bind fewer files; `slang audit` streams keyed events sources beyond its "
            "--memory-limit, and --engine duckdb streams every Parquet source from disk",
        )])

    # 3. read and normalise each file, whole or row group by row group, passing each
    # canonical piece on as soon as it is ready (nothing holds the pieces but `emit`)
    schemas: list[tuple[DataFile, pa.Table]] = []  # an empty table per file: type checks
    rg_total = rg_read = scanned = 0
    for f in files:
        before = ctx.count
        try:
            if reader.by_row_group(f):
                total, read, rows = reader.counts(f)
                parts: Iterable[pa.Table] = reader.pieces(f, cols_of[f.path])
            else:
                table, total, read, rows = reader.read(f, cols_of[f.path])
                parts = [table]
            for table in parts:
                if not reader.types_known_early:  # CSV and JSON Lines: types known only now
                    _check_schema(table.schema, source, needed, f, ctx)
                if ctx.count != before:
                    break
                retimed = getattr(reader, "retimed", {}).get(f.path, set())
                normal = _normalise(table, source, wanted, f, ctx, retimed)
                del table
                if normal is None:
                    break
                if len(schemas) == 0 or schemas[-1][0] is not f:
                    schemas.append((f, normal.schema.empty_table()))
                if not diags and ctx.count == 0:  # after a problem, only look for others
                    emit(normal)
        except (OSError, pa.ArrowException) as exc:
            diags.append(unreadable(f, exc))
            continue
        rg_total, rg_read, scanned = rg_total + total, rg_read + read, scanned + rows
    diags += ctx.diagnostics(len(files))
    if diags:
        raise SlangError(diags)
    _concat(schemas, ctx)  # the files' column types must agree (or promote losslessly)
    return ScanStats(len(files), rg_total, rg_read, scanned, estimate)
