"""Readers: every supported training log (a file, a run folder, or a Python object) -> History.

``read_path`` detects the format by *content*, never by file name:

1. a directory -> a run folder (:mod:`.directories`: MLflow run, TensorBoard CSV exports,
   HF output/checkpoint, Lightning/Ultralytics run, TensorBoard event files), or else the runs
   found beneath it (:mod:`curvedoc.discover`: an MLflow experiment or ``mlruns/`` root...);
2. gzip data (by its magic bytes) is decompressed first, whatever it holds;
3. a TFRecord header (a length and its masked CRC-32C) -> TensorBoard event file
   (:mod:`.tensorboard`); the SQLite magic -> an MLflow store (:mod:`.mlflow`);
4. other binary data -> a clear error naming what it is (W&B run, archive, pickle...);
5. text starting with ``{`` or ``[`` -> JSON by its shape (:mod:`.json_formats`);
6. lines of ``<timestamp> <value> <step>`` -> a single MLflow metric file;
7. anything else -> delimited text, the flavour told by its header (:mod:`.csv_formats`:
   Keras, Lightning, Ultralytics, fastai, TensorBoard and W&B exports, generic CSV/TSV); when
   that fails, a console log that one of the shipped patterns reads (:mod:`.text_log`).

Big files take shortcuts that give the same History (or leave the file to the steps above):
a ``trainer_state.json`` or JSON Lines log of 4 MB or more is streamed a piece at a time
(:mod:`.hf_stream`, :mod:`.jsonl_stream`), and
a plain numeric table of 8 MB or more is parsed from its bytes (``_table.parse_numeric_bytes``).

With ``pattern=`` (a name from :data:`PATTERNS` or a regex with named groups) the input is read
as a console log with that pattern, without sniffing.

One input may hold several runs (:mod:`.multi`): ``read_runs`` returns all of them (sources
``file.csv#run2``, ``export.csv#<W&B run>``, ``mlflow.db#<run id>``, or the run folders
beneath a folder); ``read_path`` returns one -- the last of runs appended to one log across
restarts, and an error listing them for runs side by side. ``PATH#RUN`` selects one run.
``-`` and :func:`read_stream` read standard input (or any binary stream).

Every reader hands its raw columns to one assembler (:mod:`._assemble`), so cleaning, role
classification (:mod:`.roles`), user overrides and the notes are the same for all formats. Bad
input of any kind is an :class:`~curvedoc.errors.InputError` naming the file and, where it
applies, the line and field. Inputs are only ever opened for reading.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from curvedoc.errors import CurvedocError, InputError
from curvedoc.model import History
from curvedoc.readers._assemble import clean_error, with_notes
from curvedoc.readers._text import (
    GZIP_MAGIC,
    SQLITE_MAGIC,
    binary_kind,
    decode,
    gunzip,
    read_bytes,
)
from curvedoc.readers._text import read_stream as read_stream_bytes
from curvedoc.readers.multi import one_run, select_run, split_selector
from curvedoc.readers.tfrecord import looks_like_tfrecord

if TYPE_CHECKING:
    from curvedoc.readers import text_log
    from curvedoc.readers._table import Table

# The readers of rarer inputs (TensorBoard events, MLflow stores and folders, console logs, run
# folders, Python objects) are imported when an input needs them: a 20-epoch JSON history
# should not pay for SQLite and the event-file decoder at start-up.


def __getattr__(name: str) -> Any:
    """``FORMATS`` and ``PATTERNS``, built on first use (they import every reader)."""
    if name == "FORMATS":
        return _formats()
    if name == "PATTERNS":
        from curvedoc.readers.text_log import PATTERNS

        return PATTERNS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _formats() -> tuple[tuple[str, str], ...]:
    """(format id, one-line description) of every reader, for the docs and ``--help``."""
    from curvedoc.readers import (
        boosting,
        csv_formats,
        hf,
        json_formats,
        keras_history,
        mlflow,
        objects,
        tensorboard,
        wandb_csv,
    )

    return (
        *keras_history.FORMATS,
        *csv_formats.FORMATS,
        *hf.FORMATS,
        *json_formats.FORMATS,
        *boosting.FORMATS,
        *mlflow.FORMATS,
        *tensorboard.FORMATS,
        ("text-log", "a console log read with a pattern (--pattern; shipped: nanogpt, keras, ...)"),
        *wandb_csv.FORMATS,
        *objects.FORMATS,
    )


def from_object(
    obj: object,
    *,
    source: str = "<object>",
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """A History from a Python object (a Keras ``History``, a dict of lists, a DataFrame...);
    see :func:`curvedoc.readers.objects.from_object`."""
    from curvedoc.readers.objects import from_object as read_object

    return read_object(obj, source=source, columns=columns, directions=directions)


_FIRST_CHAR = re.compile(r"\s*[\[{]")
_FIRST_BYTE = re.compile(rb"\s*[\[{]")

# Exceptions that mean "this input is malformed" when they escape a parser; they become
# InputError so that bad input never surfaces as a traceback.
_BAD_INPUT_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    UnicodeError,
    csv.Error,
    OSError,
)


def read_text_runs(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> list[History]:
    """Every run in a log already decoded to text (see the module docstring)."""
    kw: dict[str, Any] = {"source": source, "columns": columns, "directions": directions}
    if pattern is not None:
        from curvedoc.readers import text_log

        return text_log.read_with_pattern(text, pattern, **kw)
    try:
        return _sniffed_text_runs(text, **kw)
    except InputError:
        from curvedoc.readers import text_log

        # not a structured log: maybe a console log that a shipped pattern reads
        shipped = text_log.sniff_pattern(text)
        if shipped is None:
            raise
        return text_log.read_with_pattern(text, shipped, **kw)


def _sniffed_text_runs(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> list[History]:
    kw: dict[str, Any] = {"source": source, "columns": columns, "directions": directions}
    from curvedoc.readers import json_formats  # each family of readers loads when it is needed

    if _FIRST_CHAR.match(text) is not None:
        return [json_formats.read_json_text(text, **kw)]
    if len(text) < 4096 and "\n" not in text.strip() and json_formats.is_json_scalar(text):
        raise InputError(
            f"unknown JSON layout: a lone JSON value ({text.strip()[:40]})", path=source
        )
    from curvedoc.readers import csv_formats, mlflow

    if mlflow.looks_like_metric_file(text):
        return [mlflow.read_metric_text(text, **kw)]
    return csv_formats.read_csv_runs(text, **kw)


def read_text_log(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> History:
    """Read a log already decoded to text; ``source`` names it in notes and errors."""
    runs = read_text_runs(
        text, source=source, columns=columns, directions=directions, pattern=pattern
    )
    return one_run(runs, source)


def read_bytes_runs(
    data: bytes,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
    file: Path | None = None,
) -> list[History]:
    """Every run in a log's bytes (a file's, or standard input's); ``file`` is where they came
    from, if anywhere (an SQLite store is then opened in place)."""
    return _runs_of_bytes(
        [data], source=source, columns=columns, directions=directions, pattern=pattern, file=file
    )


def _runs_of_bytes(
    holder: list[bytes],
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
    pattern: str | text_log.Pattern | None,
    file: Path | None,
) -> list[History]:
    """:func:`read_bytes_runs`, taking the bytes out of ``holder`` so that, once decoded to
    text, nothing keeps them alive (a big log is not held twice while it is parsed)."""
    data = holder.pop()
    kw: dict[str, Any] = {"source": source, "columns": columns, "directions": directions}
    notes: list[str] = []
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, source)
        notes.append("gzip-compressed input, decompressed")
        file = None
    if pattern is None and looks_like_tfrecord(data[:12]):
        from curvedoc.readers import tensorboard

        runs = [tensorboard.read_event_data(data, **kw)]
    elif pattern is None and data.startswith(SQLITE_MAGIC):
        from curvedoc.readers import mlflow

        runs = mlflow.read_sqlite_runs(file if file is not None else data, **kw)
    else:
        table = _big_numeric_table(data, source) if pattern is None else None
        if table is not None:
            # The bytes go before the curves are assembled. (No console-log fallback after
            # this: a table of numbers under a delimited header is no console log.)
            del data
            from curvedoc.readers import csv_formats

            runs = csv_formats.read_table_runs(table, **kw)
        else:
            text = decode(data, source)
            del data
            runs = read_text_runs(text, pattern=pattern, **kw)
    return [with_notes(h, notes, first=True) for h in runs] if notes else runs


#: From this size on, a plain numeric log is read from its bytes (see ``parse_numeric_bytes``).
_BYTES_ROUTE_MIN = 8 * 1024 * 1024


def _big_numeric_table(data: bytes, source: str) -> Table | None:
    """A big delimited log of numbers, parsed from its bytes without decoding it to text."""
    if len(data) < _BYTES_ROUTE_MIN or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if _FIRST_BYTE.match(data) is not None or binary_kind(data, os.path.basename(source)):
        return None  # JSON, or something decode() refuses with its own message
    from curvedoc.readers import mlflow

    head = data[:4096].decode("utf-8", "replace")
    if mlflow.looks_like_metric_file(head):
        return None
    from curvedoc.readers._table import parse_numeric_bytes

    return parse_numeric_bytes(data, source)


#: From this size on, a ``trainer_state.json`` or JSON Lines log is streamed (see
#: :mod:`.hf_stream` and :mod:`.jsonl_stream`).
_STREAM_MIN = 4 * 1024 * 1024


def _starts_like_json(path: Path) -> bool:
    """Whether the file's first non-blank byte is ``{`` (what the streamed readers read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4096).lstrip().startswith(b"{")
    except OSError:
        return False


def _size(path: Path) -> int:
    """The file's size, or -1 when it cannot be told (the usual read then says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _read_file_runs(
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> list[History]:
    source = str(path)
    if pattern is None and _size(path) >= _STREAM_MIN and _starts_like_json(path):
        from curvedoc.readers import hf_stream, jsonl_stream

        # a big trainer_state.json or JSON Lines log is streamed (None: read the usual way)
        kw: dict[str, Any] = {"source": source, "columns": columns, "directions": directions}
        streamed = hf_stream.read_trainer_state_file(path, **kw) or jsonl_stream.read_jsonl_file(
            path, **kw
        )
        if streamed is not None:
            return [streamed]
    return _runs_of_bytes(
        [read_bytes(path, source)],
        source=source,
        columns=columns,
        directions=directions,
        pattern=pattern,
        file=path,
    )


@contextmanager
def _input_errors(source: str) -> Iterator[None]:
    """Turn any exception that means "malformed input" into a one-line InputError."""
    try:
        yield
    except CurvedocError as err:
        raise clean_error(err) from None
    except RecursionError:
        raise InputError("nested too deeply to be a training log", path=source) from None
    except MemoryError:
        raise InputError("too large to read into memory", path=source) from None
    except _BAD_INPUT_ERRORS as exc:
        raise InputError(f"cannot read ({type(exc).__name__}: {exc})", path=source) from None


def read_runs(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> list[History]:
    """Every run in a log file, a run folder or a folder of runs, in order.

    Most files hold one run. A log appended to across restarts gives ``file#run1``,
    ``file#run2``...; a W&B export of several runs ``file#<run>``; an MLflow SQLite store
    ``mlflow.db#<run id>``; a folder that is not itself a run gives every run beneath it. ``-``
    reads standard input. ``PATH#RUN`` returns just that run. Raises
    :class:`~curvedoc.errors.InputError` for unreadable input (the first failure, for a folder).
    """
    source = os.fspath(path)
    if source == "-":
        return read_stream_runs(
            sys.stdin.buffer, columns=columns, directions=directions, pattern=pattern
        )
    base, selector = split_selector(source)
    p = Path(base)
    kw: dict[str, Any] = {"columns": columns, "directions": directions}
    with _input_errors(source):
        if p.is_dir():
            from curvedoc.readers.directories import read_directory_runs

            runs = read_directory_runs(
                p,
                source=base,
                read_file_runs=functools.partial(_read_file_runs, pattern=pattern),
                **kw,
            )
        else:
            runs = _read_file_runs(p, pattern=pattern, **kw)
        if selector is not None:
            return [select_run(runs, base, selector)]
        return runs


def read_path(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> History:
    """Read a training log file or run folder into a :class:`~curvedoc.model.History`.

    ``columns`` maps a column name to a role (``train_loss``, ``val_loss``, ``train_metric``,
    ``val_metric``, ``lr``, ``grad_norm``, ``other``) or to ``ignore``; ``directions`` maps a column
    name to ``min``/``max``; ``pattern`` reads a console log (a name from :data:`PATTERNS` or a
    regex with named groups). An input holding several runs gives the last of runs appended
    across restarts and an error for runs side by side (see :func:`read_runs`, :mod:`.multi`).
    Raises :class:`~curvedoc.errors.InputError` for unreadable input.
    """
    source = os.fspath(path)
    if source == "-":
        return read_stream(
            sys.stdin.buffer, columns=columns, directions=directions, pattern=pattern
        )
    base, selector = split_selector(source)
    p = Path(base)
    with _input_errors(source):
        if selector is None and p.is_dir():
            from curvedoc.readers.directories import read_directory

            return read_directory(
                p,
                source=source,
                read_file_runs=functools.partial(_read_file_runs, pattern=pattern),
                columns=columns,
                directions=directions,
            )
        runs = read_runs(source, columns=columns, directions=directions, pattern=pattern)
        return one_run(runs, source)


def read_stream_runs(
    stream: BinaryIO,
    *,
    source: str = "<stdin>",
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> list[History]:
    """Every run in a binary stream (``sys.stdin.buffer``): any format a file may hold."""
    with _input_errors(source):
        return read_bytes_runs(
            read_stream_bytes(stream, source),
            source=source,
            columns=columns,
            directions=directions,
            pattern=pattern,
        )


def read_stream(
    stream: BinaryIO,
    *,
    source: str = "<stdin>",
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | text_log.Pattern | None = None,
) -> History:
    """One run from a binary stream (see :func:`read_path` for several runs)."""
    runs = read_stream_runs(
        stream, source=source, columns=columns, directions=directions, pattern=pattern
    )
    with _input_errors(source):
        return one_run(runs, source)


__all__ = [
    "FORMATS",
    "PATTERNS",
    "from_object",
    "read_bytes_runs",
    "read_path",
    "read_runs",
    "read_stream",
    "read_stream_runs",
    "read_text_log",
    "read_text_runs",
]
