"""Delimited text (CSV, TSV, semicolon, whitespace) into named columns of cell strings.

This layer knows nothing about loggers; it only makes messy tables regular:

* line endings ``\\n``, ``\\r\\n``, ``\\r`` and Windows-pandas ``\\r\\r\\n`` all work;
* the delimiter is sniffed from the header line (comma, tab, semicolon, pipe, else whitespace);
* names and values are stripped of padding (old Ultralytics pads to 23 characters);
* a header repeated mid-file (fastai ``append=True``) is skipped and noted, and where it stood is
  kept (``header_breaks``) so that the runs it separates can be told apart;
* a row with *fewer* fields than the header is padded with blanks (noted); a row with *more*
  fields is an error naming the line, unless the extra fields are all empty (a trailing comma).

Rows are split with ``str.split`` when the file has no quotes (fast), else with :mod:`csv`.
Every data row remembers its line number so later errors can name it.

A big, regular block of numbers and blanks (the common million-row log, sparse validation
columns included) is parsed a few megabytes at a time straight into a float matrix
(:attr:`Table.numeric`) and a blank-cell mask (:attr:`Table.missing`), so the strings of one
chunk at most are alive at once; its values are the correctly rounded doubles ``float()``
gives. Anything else (text in a cell, a ragged row) goes the string route, which can name the
offending line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import AnyStr, overload

import numpy as np
import numpy.typing as npt

from curvedoc.errors import InputError
from curvedoc.model import FloatArray
from curvedoc.readers import roles
from curvedoc.readers._assemble import Series
from curvedoc.readers._decimal_bytes import (
    cell_bounds,
    float_cells,
    parse_cells,
    trim_carriage_returns,
)
from curvedoc.readers._numeric import BoolArray, NumericColumn, parse_strings

_DELIMITERS = (",", "\t", ";", "|")
_LEADING_SPACE = re.compile(r"\s*")
_NUMERIC_BLOCK_MIN = 64 * 1024  # below this, the string route is as fast
#: Every column becomes a curve, summarised and judged: beyond this a table is not a training
#: log (a W&B export of a 1,000-run sweep has a few thousand) and reading it would take minutes.
MAX_COLUMNS = 100_000
_CHUNK_CHARS = 1 << 20  # cells of this much text at a time (bounds the strings alive at once)
_UTF8_BOM = b"\xef\xbb\xbf"


class NumericCells(Sequence[str]):
    """A column of a numeric block seen as cell strings, made only when asked for (rarely):
    a blank cell reads ``""``, a number its ``repr``."""

    def __init__(self, values: FloatArray, missing: BoolArray | None = None) -> None:
        self.values = values
        self.missing = missing

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._cell(k) for k in range(len(self))[i]]
        return self._cell(range(len(self))[i])

    def _cell(self, k: int) -> str:
        if self.missing is not None and self.missing[k]:
            return ""
        return repr(float(self.values[k]))

    def __contains__(self, item: object) -> bool:
        if item == "":
            return self.missing is not None and bool(self.missing.any())
        return any(cell == item for cell in self)

    def __iter__(self) -> Iterator[str]:
        return (self._cell(k) for k in range(len(self)))


@dataclass
class Table:
    """Columns of raw cell strings; ``lines[i]`` is the file line of data row ``i``."""

    names: list[str]
    columns: list[Sequence[str]]
    lines: Sequence[int]
    notes: list[str] = field(default_factory=list)
    #: data-row indices where a repeated header line stood (fastai ``append=True``: a new fit)
    header_breaks: list[int] = field(default_factory=list)
    #: parsed columns by index (the x column is read by several steps; parse it once)
    parsed: dict[int, NumericColumn] = field(default_factory=dict, repr=False)
    #: ``rows x columns`` floats when the whole body was one clean numeric block
    numeric: FloatArray | None = field(default=None, repr=False)
    #: with :attr:`numeric`: where the cell was blank (or ``NA`` and the like)
    missing: BoolArray | None = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        return len(self.lines)

    def index(self, name: str) -> int | None:
        try:
            return self.names.index(name)
        except ValueError:
            return None

    def find(self, *candidates: str) -> str | None:
        """The first column whose name matches a candidate, case-insensitively."""
        lowered = {n.lower(): n for n in reversed(self.names)}
        for cand in candidates:
            if cand in lowered:
                return lowered[cand]
        return None

    def has_blank_cells(self) -> bool:
        """Any empty cell (Lightning leaves them empty, unpadded; a C-level list search)."""
        if self.numeric is not None:
            return self.missing is not None and bool(self.missing.any())
        return any("" in col for col in self.columns)


def _normalise_newlines(text: str) -> str:
    if "\r" not in text:
        return text
    return text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")


def _title_above_header(text: str, first: str, first_end: int) -> int | None:
    """Where the real header line ends when ``first`` is a title above it, else None.

    Some loggers write a name before the table (``model_history_log`` above
    ``epoch;accuracy;loss;...``): a first line without any delimiter, then a line that has one
    and is not all numbers (a single-column table's second line is a number).
    """
    if not first.strip() or any(d in first for d in _DELIMITERS) or len(first.split()) > 1:
        return None
    end = text.find("\n", first_end + 1)
    end = len(text) if end < 0 else end
    second = text[first_end + 1 : end]
    delimiter = next((d for d in _DELIMITERS if d in second), None)
    if delimiter is None:
        return None
    fields = [f.strip().strip('"') for f in second.split(delimiter)]
    if len(fields) < 2 or not parse_strings(fields).text_rows:
        return None  # numbers (or blanks): a one-column table's data
    return end


def sniff_delimiter(header: str) -> str | None:
    """The delimiter used in the header line; None means runs of whitespace."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:
        return best
    return None if len(header.split()) > 1 else ","


def _splitter(delimiter: str | None, quoted: bool) -> object:
    if delimiter is None:
        return str.split
    if not quoted:
        return lambda line: line.split(delimiter)
    return lambda line: next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))


def _regular_columns(body: str, delimiter: str, ncols: int) -> list[list[str]] | None:
    """Columns of ``body`` when every line has exactly ``ncols`` fields, else None.

    The common case (a big clean log) is handled here without a Python loop over lines: the
    fields per line are counted with numpy on the bytes, and the cells come from one ``split``.
    Anything irregular (blank lines, ragged rows, quotes, repeated headers) is left to the slow
    path, which can say exactly which line is wrong.
    """
    if not body or body.startswith("\n") or "\n\n" in body:
        return None
    if len(delimiter) != 1 or not _line_fields_regular(body, delimiter, ncols):
        return None
    flat = body.replace("\n", delimiter).split(delimiter)
    return [flat[j::ncols] for j in range(ncols)]


def _line_fields_regular(chunk: str, delimiter: str, ncols: int) -> bool:
    """Every line of ``chunk`` has exactly ``ncols`` fields (counted with numpy on the bytes;
    the delimiter and newline are ASCII, so they never occur inside a multi-byte character)."""
    raw = np.frombuffer(chunk.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    return _rows_of(raw, cell_bounds(raw, ord(delimiter))[1], ncols) is not None


def _rows_of(raw: npt.NDArray[np.uint8], ends: npt.NDArray[np.intp], ncols: int) -> int | None:
    """The number of lines when every line of ``raw`` has ``ncols`` cells (``ends`` from
    :func:`cell_bounds`), else None."""
    cells = int(ends.shape[0])
    if cells % ncols:
        return None
    rows = cells // ncols
    line_ends = raw[ends[:-1]] == 10
    if int(line_ends.sum()) != rows - 1 or not line_ends[ncols - 1 :: ncols].all():
        return None
    return rows


def _chunk_rows(
    chunk: str | bytes, delimiter: str, ncols: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]] | None:
    """One chunk of whole lines as a ``rows x columns`` matrix and blank mask, or None when a
    line has another number of fields or a cell is text.

    Plain decimals are parsed from the bytes by :mod:`._decimal_bytes` (no string per cell);
    the other numbers (17 significant digits, ``nan``, tiny exponents) by ``float`` over bytes
    in C; only a chunk with text-like cells (``NA``, Unicode digits) goes through
    :func:`parse_strings`, which gives them exactly the meaning they have on the string route.
    """
    data = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8", "surrogatepass")
    raw = np.frombuffer(data, dtype=np.uint8)
    starts, ends = cell_bounds(raw, ord(delimiter))
    rows = _rows_of(raw, ends, ncols)
    if rows is None:
        return None
    cells = rows * ncols
    if isinstance(chunk, bytes) and b"\r" in chunk:  # \r\n line ends, read from bytes
        ends = trim_carriage_returns(raw, starts, ends)
    values, decided = parse_cells(raw, starts, ends)
    blank = np.zeros(cells, dtype=np.bool_)
    rest = np.flatnonzero(~decided)
    if rest.size:
        empty = starts[rest] == ends[rest]
        blank[rest[empty]] = True
        other = rest[~empty]
        fast = float_cells(raw, starts[other], ends[other]) if other.size else None
        if fast is not None:
            values[other] = fast
        elif other.size:
            try:
                texts = [
                    data[i:j].decode("utf-8", "surrogatepass")
                    for i, j in zip(starts[other].tolist(), ends[other].tolist(), strict=True)
                ]
            except UnicodeDecodeError:  # raw bytes that are not UTF-8: the text route says where
                return None
            col = parse_strings(texts)
            if col.text_rows:
                return None
            values[other] = col.values
            blank[other] = col.missing
    return values.reshape(rows, ncols), blank.reshape(rows, ncols)


def _numeric_rows(
    text: AnyStr, start: int, stop: int, delimiter: str, ncols: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]] | None:
    """The body ``text[start:stop]`` (text, or the bytes of a UTF-8 file) as a ``rows x
    columns`` float matrix and its blank-cell mask, when every line has ``ncols`` fields and
    every cell is a number or blank (``NA`` and the like); else None.

    Parsed a megabyte at a time (:func:`_chunk_rows`), so a million-row log never holds a
    Python string per cell (nor a copy of the body). Anything else (text in a cell, a ragged
    row) returns None for the string route, which names the offending line.
    """
    nl: AnyStr = "\n" if isinstance(text, str) else b"\n"
    if stop - start < _NUMERIC_BLOCK_MIN or text.startswith(nl, start):
        return None
    if len(delimiter) != 1:
        return None
    # Blank lines would shift the line numbers: the slow path handles them. With two columns
    # or more a blank line is a row of the wrong length, which every chunk checks anyway; the
    # scan of the whole text (~30 ms per 30 MB) is needed for a single column only.
    if ncols == 1 and (
        text.find(nl + nl, start, stop) >= 0
        or (isinstance(text, bytes) and text.find(b"\n\r\n", start, stop) >= 0)
    ):
        return None
    nrows = text.count(nl, start, stop) + 1
    values = np.empty((nrows, ncols), dtype=np.float64, order="F")
    missing = np.zeros((nrows, ncols), dtype=np.bool_, order="F")
    pos, row = start, 0
    while pos < stop:
        end = text.find(nl, min(pos + _CHUNK_CHARS, stop), stop)
        end = stop if end < 0 else end
        parsed = _chunk_rows(text[pos:end], delimiter, ncols)
        pos = end + 1
        if parsed is None:
            return None
        k = parsed[0].shape[0]
        values[row : row + k] = parsed[0]
        missing[row : row + k] = parsed[1]
        row += k
    if row != nrows:
        return None
    return values, missing


def parse_numeric_bytes(data: bytes, source: str) -> Table | None:
    """A big plain numeric log read straight from its bytes, or None for the text route.

    Decoding a 700 MB log to text holds it twice (bytes and text), and the text stays alive
    while the float matrix is built; read from the bytes, only the file's bytes and the matrix
    are alive at once, and the caller drops the bytes before the curves are assembled. Only the
    common case is taken: UTF-8 with ``\n`` or ``\r\n`` line ends and without quotes, blank
    lines or a repeated header, a comma/tab/semicolon/pipe delimiter, every cell a number or
    blank. Any other file (and any problem) goes the text route, which reads it the same way
    or names what is wrong.
    """
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]  # (a copy; BOM-marked giants are rare)
    hend = data.find(b"\n")
    if hend <= 0 or data[:1].isspace() or b'"' in data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone \r (old Mac line ends): the text route normalises them
    try:
        header_line = data[:hend].decode("utf-8").removesuffix("\r")
    except UnicodeDecodeError:
        return None
    delimiter = sniff_delimiter(header_line)
    if delimiter is None:
        return None
    names = [n.strip().strip('"').strip() for n in header_line.split(delimiter)]
    if len(names) > MAX_COLUMNS:
        return None
    body_start, body_stop = hend + 1, len(data)
    while body_stop > body_start and data[body_stop - 1] in (10, 13):
        body_stop -= 1
    if data.find(header_line.strip().encode("utf-8"), body_start, body_stop) >= 0:
        return None  # appended runs: the text route splits them
    parsed = _numeric_rows(data, body_start, body_stop, delimiter, len(names))
    if parsed is None:
        return None
    return numeric_table(names, parsed[0], parsed[1], 2)


def numeric_table(
    names: list[str],
    values: FloatArray,
    missing: BoolArray | None,
    first_line: int | Sequence[int],
    notes: list[str] | None = None,
) -> Table:
    """A table over a float matrix; ``first_line`` numbers the rows from there, or lists them."""
    n = values.shape[0]
    lines = range(first_line, first_line + n) if isinstance(first_line, int) else first_line
    cols: list[Sequence[str]] = [
        NumericCells(values[:, j], None if missing is None else missing[:, j])
        for j in range(values.shape[1])
    ]
    return Table(names, cols, lines, notes or [], numeric=values, missing=missing)


def parse_delimited(text: str, source: str) -> Table:
    """Split ``text`` into a header and columns (see the module docstring)."""
    norm = _normalise_newlines(text)
    lead = _LEADING_SPACE.match(norm).end()  # type: ignore[union-attr]
    header_at = norm.count("\n", 0, lead) if lead < len(norm) else None
    if header_at is None:
        raise InputError("empty file", path=source)
    # the header starts after the leading blank lines
    hstart = norm.rfind("\n", 0, lead) + 1
    hend = norm.find("\n", hstart)
    hend = len(norm) if hend < 0 else hend
    header_line = norm[hstart:hend]
    title = _title_above_header(norm, header_line, hend)
    title_notes: list[str] = []
    if title is not None:
        title_notes.append(
            f"line {header_at + 1} ({header_line.strip()!r}) is a title above the header: skipped"
        )
        header_at += 1
        hstart, hend = hend + 1, title
        header_line = norm[hstart:hend]
    delimiter = sniff_delimiter(header_line)
    quoted = '"' in norm
    split = _splitter(delimiter, quoted)
    try:
        names = [n.strip().strip('"').strip() for n in split(header_line)]  # type: ignore[operator]
    except csv.Error as exc:
        raise InputError(f"malformed CSV header: {exc}", path=source, line=header_at + 1) from None
    ncols = len(names)
    if ncols > MAX_COLUMNS:
        raise InputError(
            f"{ncols:,} columns: more than the {MAX_COLUMNS:,} curvedoc reads in one table "
            "(every column becomes a curve); split the file or keep the columns you need",
            path=source,
            line=header_at + 1,
        )
    header_key = header_line.strip()
    first_data_line = header_at + 2
    body_start, body_stop = min(hend + 1, len(norm)), len(norm)
    while body_stop > body_start and norm[body_stop - 1] == "\n":
        body_stop -= 1
    plain = delimiter is not None and not quoted
    if plain and norm.find(header_key, body_start, body_stop) < 0:
        assert delimiter is not None
        parsed = _numeric_rows(norm, body_start, body_stop, delimiter, ncols)
        if parsed is not None:
            return numeric_table(names, parsed[0], parsed[1], first_data_line, title_notes)
    body = norm[body_start:body_stop]
    if plain and header_key not in body:
        assert delimiter is not None
        regular = _regular_columns(body, delimiter, ncols)
        if regular is not None:
            nrows = len(regular[0]) if body else 0
            lines = range(first_data_line, first_data_line + nrows)
            return Table(names, list(regular), lines, list(title_notes))

    rows: list[list[str]] = []
    row_lines: list[int] = []
    repeated: list[int] = []
    breaks: list[int] = []
    short = 0
    for i, line in enumerate(body.split("\n"), start=first_data_line):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == header_key:
            repeated.append(i)
            if rows and (not breaks or breaks[-1] != len(rows)):
                breaks.append(len(rows))
            continue
        try:
            row: list[str] = split(line)  # type: ignore[operator]
        except csv.Error as exc:
            raise InputError(f"malformed CSV row: {exc}", path=source, line=i) from None
        if len(row) != ncols:
            if len(row) > ncols:
                if any(cell.strip() for cell in row[ncols:]):
                    raise InputError(
                        f"row has {len(row)} fields but the header has {ncols}",
                        path=source,
                        line=i,
                    )
                del row[ncols:]
            else:
                row.extend([""] * (ncols - len(row)))
                short += 1
        rows.append(row)
        row_lines.append(i)

    notes: list[str] = list(title_notes)
    if repeated:
        where = ", ".join(str(n) for n in repeated[:5]) + (", ..." if len(repeated) > 5 else "")
        notes.append(
            f"header repeated mid-file {len(repeated)} time(s) (line {where}; appended runs?): "
            "skipped"
        )
    if short:
        notes.append(f"{short} row(s) had fewer fields than the header; missing cells left blank")
    columns: list[Sequence[str]] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    )
    return Table(names, columns, row_lines, notes, breaks)


def row_slice(table: Table, start: int, stop: int) -> Table:
    """The rows ``start:stop`` of ``table`` as a table of their own (one run of several)."""
    if table.numeric is not None:
        return numeric_table(
            list(table.names),
            table.numeric[start:stop],
            None if table.missing is None else table.missing[start:stop],
            list(table.lines[start:stop]),
        )
    return Table(
        list(table.names),
        [list(c[start:stop]) for c in table.columns],
        list(table.lines[start:stop]),
        [],
        [],
    )


def parse_column(table: Table, j: int, source: str) -> NumericColumn | None:
    """Parse column ``j``; None when it is clearly text (dropped with a note by the caller).

    A mostly numeric column with a stray word is an error that names the line and column, since
    silently dropping a value would change the curve.
    """
    col = table.parsed.get(j)
    if col is None and table.numeric is not None:
        n = table.numeric.shape[0]
        blank = np.zeros(n, dtype=np.bool_) if table.missing is None else table.missing[:, j]
        values = np.ascontiguousarray(table.numeric[:, j])
        col = table.parsed[j] = NumericColumn(values, np.ascontiguousarray(blank), (), None)
    if col is None:
        col = table.parsed[j] = parse_strings(table.columns[j])
    if not col.text_rows:
        return col
    if col.mostly_text:
        return None
    row = col.text_rows[0]
    raise InputError(
        f"not a number: {col.first_text!r}",
        path=source,
        line=table.lines[row],
        field=table.names[j] or f"column {j + 1}",
    )


def table_series(
    table: Table,
    source: str,
    *,
    x: FloatArray,
    skip: Sequence[int] = (),
    keep_names: Sequence[str] = (),
) -> tuple[list[Series], list[str]]:
    """One :class:`Series` per column (except ``skip``), all against ``x``.

    Bookkeeping columns are passed on unparsed (the assembler drops and notes them) unless named
    in ``keep_names`` (a user override). Unnamed, all-blank columns (a trailing delimiter) vanish.
    """
    out: list[Series] = []
    notes: list[str] = []
    text_columns: list[str] = []
    empty = np.empty(0, dtype=np.float64)
    for j, name in enumerate(table.names):
        if j in skip:
            continue
        if not name:
            if _all_blank(table, j):
                continue
            name = f"column {j + 1}"
        if roles.is_bookkeeping(name) and name not in keep_names:
            out.append(Series(name, empty, empty))
            continue
        col = parse_column(table, j, source)
        if col is None:
            text_columns.append(name)
            continue
        out.append(Series(name, x, col.values, col.missing))
    if text_columns:
        notes.append(f"not numeric, dropped: {', '.join(text_columns)}")
    return out, notes


def _all_blank(table: Table, j: int) -> bool:
    if table.numeric is not None:
        return table.missing is not None and bool(table.missing[:, j].all())
    return all(not c.strip() for c in table.columns[j])


def x_from_column(table: Table, name: str, source: str) -> FloatArray:
    """The x values of column ``name``; text there is an error (a missing x drops the row)."""
    j = table.names.index(name)
    col = parse_column(table, j, source)
    if col is None:
        raise InputError("the x column holds text, not numbers", path=source, field=name)
    return col.values
